//! The writer: the exact inverse of the decoder, choosing the most compact encoding.
//!
//! For every string, in order: a dictionary token; for attribute values, a JID pair when the
//! part after the first `@` is a token (for text content, whenever there is an `@`); a NIBBLE_8
//! packed string (digits, `-`, `.`, and `\0` as nibble 15); a HEX_8 packed string
//! (upper-case hex); otherwise a BINARY_8/20/32 run by length. Lists use LIST_EMPTY, LIST_8 or
//! LIST_16 by count.

use bytes::BufMut;

use crate::decode::DEFAULT_MAX_DEPTH;
use crate::dictionary::{Dictionary, TokenIndex};
use crate::error::EncodeError;
use crate::node::{Content, Node};
use crate::packed::{packable, write_packed};
use crate::tag;

/// Writes nodes with a dictionary.
#[derive(Clone, Copy, Debug)]
pub struct Encoder {
    dict: &'static Dictionary,
    max_depth: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// An encoder with the legacy dictionary and the decoder's default depth limit.
    #[must_use]
    pub fn new() -> Self {
        Encoder {
            dict: Dictionary::legacy(),
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// Uses another token dictionary.
    #[must_use]
    pub fn with_dictionary(mut self, dict: &'static Dictionary) -> Self {
        self.dict = dict;
        self
    }

    /// Sets the nesting limit (the root is depth 1).
    #[must_use]
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Appends the encoding of `node` to `out` (a `Vec<u8>`, a `BytesMut`, ...). On error,
    /// `out` may hold a partial encoding; truncate it to its former length to discard it.
    pub fn encode(&self, node: &Node, out: &mut impl BufMut) -> Result<(), EncodeError> {
        self.node(node, out, 1)
    }

    /// Encodes `node` into a new vector.
    pub fn to_vec(&self, node: &Node) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(256);
        self.encode(node, &mut out)?;
        Ok(out)
    }

    fn node(&self, n: &Node, out: &mut impl BufMut, depth: usize) -> Result<(), EncodeError> {
        if depth > self.max_depth {
            return Err(EncodeError::TooDeep {
                limit: self.max_depth,
            });
        }
        let size = 1 + n.attrs.len().saturating_mul(2) + usize::from(n.content.is_some());
        if size > usize::from(u16::MAX) {
            return Err(EncodeError::TooManyAttributes {
                tag: n.tag.clone(),
                attrs: n.attrs.len(),
            });
        }
        write_list_size(size, out);
        self.plain(&n.tag, out)?;
        for (k, v) in &n.attrs {
            self.plain(k, out)?;
            self.value(v, out, false)?;
        }
        match &n.content {
            None => {}
            Some(Content::List(children)) => {
                if children.len() > usize::from(u16::MAX) {
                    return Err(EncodeError::TooManyChildren {
                        tag: n.tag.clone(),
                        children: children.len(),
                    });
                }
                write_list_size(children.len(), out);
                for c in children {
                    self.node(c, out, depth + 1)?;
                }
            }
            Some(Content::Bytes(b)) => write_binary(b, out)?,
            Some(Content::Text(s)) => self.value(s, out, true)?,
        }
        Ok(())
    }

    fn token(&self, s: &str, out: &mut impl BufMut) -> bool {
        match self.dict.index_of(s) {
            Some(TokenIndex::Single(t)) => out.put_u8(t),
            Some(TokenIndex::Double { dict, index }) => {
                out.put_u8(tag::DICTIONARY_0 + dict);
                out.put_u8(index);
            }
            None => return false,
        }
        true
    }

    /// A string that is never a JID pair (descriptions, keys, JID parts).
    fn plain(&self, s: &str, out: &mut impl BufMut) -> Result<(), EncodeError> {
        if self.token(s, out) {
            return Ok(());
        }
        if let Some(kind) = packable(s) {
            out.put_u8(kind.tag());
            write_packed(kind, s, out);
            return Ok(());
        }
        write_binary(s.as_bytes(), out)
    }

    /// An attribute value (`content` false) or text content (`content` true).
    fn value(&self, s: &str, out: &mut impl BufMut, content: bool) -> Result<(), EncodeError> {
        if self.token(s, out) {
            return Ok(());
        }
        // In attribute values only real JIDs become pairs: the server part must be a token
        // (`c.us`, `g.us`, `broadcast`, ...). Free text with an `@` in it, such as a push name
        // holding an e-mail address, stays text, as the real server writes it. In content
        // position text can only be a token, a JID or a packed string (a byte run there is
        // bytes), so any `@` makes a pair: that is how such content decoded in the first place.
        if let Some((user, server)) = s.split_once('@')
            && (content || self.dict.index_of(server).is_some())
        {
            out.put_u8(tag::JID_PAIR);
            if user.is_empty() {
                out.put_u8(tag::LIST_EMPTY);
            } else {
                self.plain(user, out)?;
            }
            return self.plain(server, out);
        }
        if content && s.is_empty() {
            // The empty packed string: the only way to write empty *text* content.
            out.put_u8(tag::NIBBLE_8);
            out.put_u8(0);
            return Ok(());
        }
        self.plain(s, out)
    }
}

fn write_list_size(n: usize, out: &mut impl BufMut) {
    if n == 0 {
        out.put_u8(tag::LIST_EMPTY);
    } else if n < 256 {
        out.put_u8(tag::LIST_8);
        out.put_u8(n as u8);
    } else {
        out.put_u8(tag::LIST_16);
        out.put_u16(n as u16);
    }
}

fn write_binary(b: &[u8], out: &mut impl BufMut) -> Result<(), EncodeError> {
    let n = b.len();
    if n < 256 {
        out.put_u8(tag::BINARY_8);
        out.put_u8(n as u8);
    } else if n <= tag::INT20_MAX {
        out.put_u8(tag::BINARY_20);
        out.put_u8((n >> 16) as u8);
        out.put_u16(n as u16);
    } else if let Ok(n32) = u32::try_from(n) {
        out.put_u8(tag::BINARY_32);
        out.put_u32(n32);
    } else {
        return Err(EncodeError::TooLong { len: n });
    }
    out.put_slice(b);
    Ok(())
}

/// Encodes `node` with the legacy dictionary into a new vector.
pub fn encode(node: &Node) -> Result<Vec<u8>, EncodeError> {
    Encoder::new().to_vec(node)
}
