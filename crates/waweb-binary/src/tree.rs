//! The borrowed, zero-copy form of a decoded node tree.
//!
//! [`Tree::decode`] validates the whole buffer once and records every node, attribute and string
//! as offsets into it, in three flat vectors (nodes, attributes) — no allocation per node, string
//! or attribute. [`NodeRef`] then hands out `&'a str`, `&'a [u8]` and `&'static str` views.

use std::borrow::Cow;
use std::fmt;

use crate::dictionary::Dictionary;
use crate::error::DecodeError;
use crate::packed::{Packed, PackedKind};

/// Where a string lives: an offset/length into the input, or a token index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StrRef {
    pub(crate) off: u32,
    pub(crate) len: u32,
    pub(crate) kind: StrKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StrKind {
    /// `off` is the tag byte; `len` unused.
    Single,
    /// `off` is `dict * 256 + index`.
    Double,
    /// UTF-8 text at `off..off+len`.
    Text,
    /// Packed bytes at `off..off+len`.
    Packed { kind: PackedKind, odd: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueRef {
    Str(StrRef),
    Jid(StrRef, StrRef),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentData {
    None,
    List { start: u32, len: u32 },
    Bytes { off: u32, len: u32 },
    Text(ValueRef),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeData {
    pub(crate) tag: StrRef,
    pub(crate) attr_start: u32,
    pub(crate) attr_len: u32,
    pub(crate) content: ContentData,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AttrData {
    pub(crate) key: StrRef,
    pub(crate) value: ValueRef,
}

/// A string as it appeared on the wire, borrowed from the input or the dictionary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Str<'a> {
    /// A dictionary token (single- or double-byte).
    Token(&'static str),
    /// Text from a BINARY_8/20/32 run (or the empty user part of a JID).
    Text(&'a str),
    /// A NIBBLE_8 or HEX_8 packed string, unpacked on demand.
    Packed(Packed<'a>),
}

impl<'a> Str<'a> {
    /// The string, borrowed when it is stored as text or a token.
    #[must_use]
    pub fn to_cow(&self) -> Cow<'a, str> {
        match *self {
            Str::Token(t) => Cow::Borrowed(t),
            Str::Text(t) => Cow::Borrowed(t),
            Str::Packed(p) => Cow::Owned(p.to_string()),
        }
    }

    /// Compares with `s` without allocating.
    #[must_use]
    pub fn eq_str(&self, s: &str) -> bool {
        match self {
            Str::Token(t) => *t == s,
            Str::Text(t) => *t == s,
            Str::Packed(p) => p.eq_str(s),
        }
    }

    /// Length of the string in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Str::Token(t) => t.len(),
            Str::Text(t) => t.len(),
            Str::Packed(p) => p.len(),
        }
    }

    /// Whether the string is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Str::Token(t) => f.write_str(t),
            Str::Text(t) => f.write_str(t),
            Str::Packed(p) => fmt::Display::fmt(p, f),
        }
    }
}

/// An attribute value or text content: a string, or a JID pair shown as `user@server`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A plain string.
    Str(Str<'a>),
    /// A JID pair; `user` is empty when the wire carried LIST_EMPTY for it.
    Jid {
        /// The part before `@`.
        user: Str<'a>,
        /// The part after `@` (`c.us`, `g.us`, `broadcast`, ...).
        server: Str<'a>,
    },
}

impl<'a> Value<'a> {
    /// The value as a string, borrowed where possible.
    #[must_use]
    pub fn to_cow(&self) -> Cow<'a, str> {
        match self {
            Value::Str(s) => s.to_cow(),
            Value::Jid { .. } => Cow::Owned(self.to_string()),
        }
    }

    /// Compares with `s` without allocating.
    #[must_use]
    pub fn eq_str(&self, s: &str) -> bool {
        match self {
            Value::Str(v) => v.eq_str(s),
            // Split by the user's length, not at the first `@`: a user part read from a byte
            // run may itself contain `@` (found by the `roundtrip` fuzz target).
            Value::Jid { user, server } => {
                let ul = user.len();
                s.len() == ul + 1 + server.len()
                    && s.as_bytes().get(ul) == Some(&b'@')
                    && s.get(..ul).is_some_and(|u| user.eq_str(u))
                    && s.get(ul + 1..).is_some_and(|sv| server.eq_str(sv))
            }
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => fmt::Display::fmt(s, f),
            Value::Jid { user, server } => write!(f, "{user}@{server}"),
        }
    }
}

/// The content of a borrowed node.
#[derive(Clone, Copy, Debug)]
pub enum ContentRef<'t, 'a> {
    /// No content (the header's list size was odd).
    None,
    /// Child nodes (possibly none: LIST_EMPTY).
    List(Children<'t, 'a>),
    /// A BINARY_8/20/32 byte run (protobuf messages travel here).
    Bytes(&'a [u8]),
    /// A token, packed string or JID in content position.
    Text(Value<'a>),
}

/// A decoded tree borrowing from its input buffer.
pub struct Tree<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) dict: &'static Dictionary,
    pub(crate) nodes: Vec<NodeData>,
    pub(crate) attrs: Vec<AttrData>,
}

impl fmt::Debug for Tree<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.root(), f)
    }
}

impl<'a> Tree<'a> {
    /// Decodes `input` with the legacy dictionary and default limits.
    pub fn decode(input: &'a [u8]) -> Result<Tree<'a>, DecodeError> {
        crate::decode::Decoder::new().decode(input)
    }

    /// The root node.
    #[must_use]
    pub fn root(&self) -> NodeRef<'_, 'a> {
        // The decoder appends the root last.
        NodeRef {
            tree: self,
            idx: self.nodes.len().saturating_sub(1) as u32,
        }
    }

    /// Number of nodes in the tree.
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn str_at(&self, r: StrRef) -> Str<'a> {
        match r.kind {
            StrKind::Single => Str::Token(
                u8::try_from(r.off)
                    .ok()
                    .and_then(|t| self.dict.single(t))
                    .unwrap_or(""),
            ),
            StrKind::Double => Str::Token(
                self.dict
                    .double((r.off >> 8) as u8, (r.off & 0xff) as u8)
                    .unwrap_or(""),
            ),
            StrKind::Text => Str::Text(
                // The decoder validated this range as UTF-8; the fallback never triggers.
                std::str::from_utf8(self.bytes_at(r.off, r.len)).unwrap_or(""),
            ),
            StrKind::Packed { kind, odd } => Str::Packed(Packed::new_unchecked(
                kind,
                self.bytes_at(r.off, r.len),
                odd,
            )),
        }
    }

    fn value_at(&self, v: ValueRef) -> Value<'a> {
        match v {
            ValueRef::Str(s) => Value::Str(self.str_at(s)),
            ValueRef::Jid(u, s) => Value::Jid {
                user: self.str_at(u),
                server: self.str_at(s),
            },
        }
    }

    fn bytes_at(&self, off: u32, len: u32) -> &'a [u8] {
        let start = off as usize;
        self.input.get(start..start + len as usize).unwrap_or(&[])
    }
}

/// A node of a [`Tree`]: cheap to copy, borrows the tree (`'t`) and the input (`'a`).
#[derive(Clone, Copy)]
pub struct NodeRef<'t, 'a> {
    tree: &'t Tree<'a>,
    idx: u32,
}

impl<'t, 'a> NodeRef<'t, 'a> {
    fn data(&self) -> NodeData {
        match self.tree.nodes.get(self.idx as usize) {
            Some(d) => *d,
            // Indices come only from the decoder, which filled every slot it handed out.
            None => NodeData {
                tag: StrRef {
                    off: 0,
                    len: 0,
                    kind: StrKind::Text,
                },
                attr_start: 0,
                attr_len: 0,
                content: ContentData::None,
            },
        }
    }

    /// The node's description (its tag name, e.g. `action`, `message`).
    #[must_use]
    pub fn tag(&self) -> Str<'a> {
        self.tree.str_at(self.data().tag)
    }

    /// The attributes, in wire order.
    pub fn attrs(&self) -> impl ExactSizeIterator<Item = (Str<'a>, Value<'a>)> + 't {
        let d = self.data();
        let tree = self.tree;
        let start = d.attr_start as usize;
        let slice = tree
            .attrs
            .get(start..start + d.attr_len as usize)
            .unwrap_or(&[]);
        slice
            .iter()
            .map(move |a| (tree.str_at(a.key), tree.value_at(a.value)))
    }

    /// The number of attributes.
    #[must_use]
    pub fn attr_count(&self) -> usize {
        self.data().attr_len as usize
    }

    /// The value of the first attribute named `key`.
    #[must_use]
    pub fn attr(&self, key: &str) -> Option<Value<'a>> {
        self.attrs().find(|(k, _)| k.eq_str(key)).map(|(_, v)| v)
    }

    /// The content.
    #[must_use]
    pub fn content(&self) -> ContentRef<'t, 'a> {
        match self.data().content {
            ContentData::None => ContentRef::None,
            ContentData::List { start, len } => ContentRef::List(Children {
                tree: self.tree,
                next: start,
                end: start + len,
            }),
            ContentData::Bytes { off, len } => ContentRef::Bytes(self.tree.bytes_at(off, len)),
            ContentData::Text(v) => ContentRef::Text(self.tree.value_at(v)),
        }
    }

    /// The child nodes (empty when the content is not a list).
    #[must_use]
    pub fn children(&self) -> Children<'t, 'a> {
        match self.content() {
            ContentRef::List(c) => c,
            _ => Children {
                tree: self.tree,
                next: 0,
                end: 0,
            },
        }
    }

    /// Converts to an owned [`crate::Node`].
    #[must_use]
    pub fn to_owned(&self) -> crate::Node {
        crate::Node::from(*self)
    }
}

impl fmt::Debug for NodeRef<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("NodeRef");
        s.field("tag", &self.tag().to_cow());
        s.field(
            "attrs",
            &self
                .attrs()
                .map(|(k, v)| (k.to_cow(), v.to_cow()))
                .collect::<Vec<_>>(),
        );
        match self.content() {
            ContentRef::None => s.field("content", &Option::<()>::None),
            ContentRef::List(c) => s.field("children", &c.collect::<Vec<_>>()),
            ContentRef::Bytes(b) => s.field("bytes", &hex::encode(b)),
            ContentRef::Text(v) => s.field("text", &v.to_cow()),
        };
        s.finish()
    }
}

/// Iterator over the children of a node.
#[derive(Clone, Copy, Debug)]
pub struct Children<'t, 'a> {
    tree: &'t Tree<'a>,
    next: u32,
    end: u32,
}

impl<'t, 'a> Iterator for Children<'t, 'a> {
    type Item = NodeRef<'t, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        (self.next < self.end).then(|| {
            let n = NodeRef {
                tree: self.tree,
                idx: self.next,
            };
            self.next += 1;
            n
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.next) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Children<'_, '_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index sizes the decoder's allocation bound (docs/binary-format.md) is derived from.
    #[test]
    fn index_entry_sizes() {
        assert_eq!(std::mem::size_of::<StrRef>(), 12);
        assert_eq!(std::mem::size_of::<AttrData>(), 36);
        assert_eq!(std::mem::size_of::<NodeData>(), 44);
    }
}
