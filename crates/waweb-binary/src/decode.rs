//! The decoder: nom parsers over `&[u8]`, one per wire structure, each bounded by the input it
//! was given. Errors never leave as nom types: they become [`DecodeError`] with a byte offset.

use nom::number::complete::{be_u16, be_u24, be_u32};
use nom::{IResult, Parser};

use crate::dictionary::Dictionary;
use crate::error::{DecodeError, DecodeErrorKind, Part};
use crate::packed::{Packed, PackedKind};
use crate::tag;
use crate::tree::{AttrData, ContentData, NodeData, StrKind, StrRef, Tree, ValueRef};

/// The default limit on node nesting. Real traffic nests four or five levels deep.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// Internal parse error: where (the remaining input) and what. The kind is boxed so that the
/// results threaded through every parser stay small; errors are the cold path.
struct PErr<'a> {
    input: &'a [u8],
    kind: Box<DecodeErrorKind>,
}

impl<'a> nom::error::ParseError<&'a [u8]> for PErr<'a> {
    fn from_error_kind(input: &'a [u8], _kind: nom::error::ErrorKind) -> Self {
        // Every read is preceded by an explicit length check, so nom only fails on exhaustion.
        PErr {
            input,
            kind: Box::new(DecodeErrorKind::Truncated {
                part: Part::NodeHeader,
                needed: 1,
                available: input.len(),
            }),
        }
    }

    fn append(_: &'a [u8], _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a [u8], T, PErr<'a>>;

#[cold]
#[inline(never)]
fn fail<'a, T>(input: &'a [u8], kind: DecodeErrorKind) -> PResult<'a, T> {
    Err(nom::Err::Failure(PErr {
        input,
        kind: Box::new(kind),
    }))
}

#[cold]
#[inline(never)]
fn truncated(i: &[u8], n: usize, part: Part) -> nom::Err<PErr<'_>> {
    nom::Err::Failure(PErr {
        input: i,
        kind: Box::new(DecodeErrorKind::Truncated {
            part,
            needed: n,
            available: i.len(),
        }),
    })
}

/// Checks that `n` bytes are left before reading them.
#[inline]
fn need(i: &[u8], n: usize, part: Part) -> Result<(), nom::Err<PErr<'_>>> {
    if i.len() < n {
        Err(truncated(i, n, part))
    } else {
        Ok(())
    }
}

/// `n` bytes, after the caller checked they are there (nom's `take` without its generic
/// machinery, which showed up in profiles).
#[inline]
fn take_checked(i: &[u8], n: usize, part: Part) -> PResult<'_, &[u8]> {
    match i.split_at_checked(n) {
        Some((head, rest)) => Ok((rest, head)),
        None => Err(truncated(i, n, part)),
    }
}

/// One byte: the tag or length parser everything starts with.
#[inline]
fn byte(i: &[u8], part: Part) -> PResult<'_, u8> {
    match i.split_first() {
        Some((&b, rest)) => Ok((rest, b)),
        None => Err(truncated(i, 1, part)),
    }
}

/// A string read where a string may stand, before it is placed into the tree.
enum Read {
    /// LIST_EMPTY: no string.
    Empty,
    Str(StrRef),
    Jid(StrRef, StrRef),
}

/// Decoding options and the dictionary to decode with.
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    dict: &'static Dictionary,
    max_depth: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with the legacy dictionary and [`DEFAULT_MAX_DEPTH`].
    #[must_use]
    pub fn new() -> Self {
        Decoder {
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

    /// Decodes one root node that must span all of `input`.
    pub fn decode<'a>(&self, input: &'a [u8]) -> Result<Tree<'a>, DecodeError> {
        if u32::try_from(input.len()).is_err() {
            return Err(DecodeError {
                offset: 0,
                kind: DecodeErrorKind::InputTooLarge { len: input.len() },
            });
        }
        let mut ctx = Ctx {
            len: input.len(),
            dict: self.dict,
            max_depth: self.max_depth,
            // A node takes at least three bytes, an attribute at least two: these reservations
            // are bounded by the input and avoid most regrowth on typical traffic.
            nodes: Vec::with_capacity((input.len() / 24).clamp(1, 4096)),
            attrs: Vec::with_capacity((input.len() / 16).min(8192)),
            pending: Vec::new(),
        };
        let result = ctx.node(input, 1).and_then(|(rest, root)| {
            if rest.is_empty() {
                Ok(root)
            } else {
                fail(rest, DecodeErrorKind::TrailingBytes { count: rest.len() }).map(|(_, r)| r)
            }
        });
        match result {
            Ok(root) => Ok(Tree {
                input,
                dict: self.dict,
                nodes: {
                    // The root goes last; its children were appended before it.
                    let mut nodes = ctx.nodes;
                    nodes.push(root);
                    nodes
                },
                attrs: ctx.attrs,
            }),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(DecodeError {
                offset: input.len() - e.input.len(),
                kind: *e.kind,
            }),
            Err(nom::Err::Incomplete(_)) => Err(DecodeError {
                offset: input.len(),
                kind: DecodeErrorKind::Truncated {
                    part: Part::NodeHeader,
                    needed: 1,
                    available: 0,
                },
            }),
        }
    }
}

struct Ctx {
    len: usize,
    dict: &'static Dictionary,
    max_depth: usize,
    /// Finished nodes; each node's children form one contiguous run.
    nodes: Vec<NodeData>,
    attrs: Vec<AttrData>,
    /// Children decoded so far of the lists still open, moved into `nodes` as a run when their
    /// list ends. Nothing is reserved ahead of decoding, so nested lists that each claim the
    /// rest of the input cannot multiply the memory spent.
    pending: Vec<NodeData>,
}

impl Ctx {
    /// Offset of the start of `i` in the input; fits in u32 (checked in `decode`).
    fn off(&self, i: &[u8]) -> u32 {
        (self.len - i.len()) as u32
    }

    /// Reads a list size after its tag.
    #[inline]
    fn list_size<'a>(&self, at: &'a [u8], tag: u8, i: &'a [u8], part: Part) -> PResult<'a, usize> {
        match tag {
            tag::LIST_EMPTY => Ok((i, 0)),
            tag::LIST_8 => byte(i, part).map(|(r, n)| (r, usize::from(n))),
            tag::LIST_16 => {
                need(i, 2, part)?;
                be_u16.parse(i).map(|(r, n)| (r, usize::from(n)))
            }
            _ => fail(at, DecodeErrorKind::NotAList { part, tag }),
        }
    }

    /// Reads a length-prefixed byte run after a BINARY_8/20/32 tag; returns (offset, length).
    #[inline]
    fn binary<'a>(&self, tag: u8, i: &'a [u8], part: Part) -> PResult<'a, (u32, &'a [u8])> {
        let (i, len) = match tag {
            tag::BINARY_8 => byte(i, part).map(|(r, n)| (r, u64::from(n)))?,
            tag::BINARY_20 => {
                need(i, 3, part)?;
                // Int20: the low nibble of the first byte and the two bytes after it.
                be_u24
                    .parse(i)
                    .map(|(r, n)| (r, u64::from(n & 0x000f_ffff)))?
            }
            _ => {
                need(i, 4, part)?;
                be_u32.parse(i).map(|(r, n)| (r, u64::from(n)))?
            }
        };
        if len > i.len() as u64 {
            return fail(
                i,
                DecodeErrorKind::LengthExceedsInput {
                    part,
                    declared: len,
                    available: i.len(),
                },
            );
        }
        let off = self.off(i);
        let (rest, bytes) = take_checked(i, len as usize, part)?;
        Ok((rest, (off, bytes)))
    }

    /// Reads a string (or JID pair, where `jid_ok`) starting at its tag byte.
    #[inline]
    fn string<'a>(&self, at: &'a [u8], part: Part, jid_ok: bool) -> PResult<'a, Read> {
        let (i, t) = byte(at, part)?;
        match t {
            tag::LIST_EMPTY => Ok((i, Read::Empty)),
            3..tag::DICTIONARY_0 => match self.dict.single(t) {
                Some(_) => Ok((
                    i,
                    Read::Str(StrRef {
                        off: u32::from(t),
                        len: 0,
                        kind: StrKind::Single,
                    }),
                )),
                None => fail(
                    at,
                    DecodeErrorKind::UnknownToken {
                        part,
                        tag: t,
                        index: u16::from(t),
                    },
                ),
            },
            tag::DICTIONARY_0..=tag::DICTIONARY_3 => {
                let (i, b) = byte(i, part)?;
                let d = t - tag::DICTIONARY_0;
                match self.dict.double(d, b) {
                    Some(_) => {
                        let off = u32::from(d) << 8 | u32::from(b);
                        Ok((
                            i,
                            Read::Str(StrRef {
                                off,
                                len: 0,
                                kind: StrKind::Double,
                            }),
                        ))
                    }
                    None => fail(
                        at,
                        DecodeErrorKind::UnknownToken {
                            part,
                            tag: t,
                            index: u16::from(d) << 8 | u16::from(b),
                        },
                    ),
                }
            }
            tag::BINARY_8 | tag::BINARY_20 | tag::BINARY_32 => {
                let (rest, (off, bytes)) = self.binary(t, i, part)?;
                if std::str::from_utf8(bytes).is_err() {
                    return fail(at, DecodeErrorKind::InvalidUtf8 { part });
                }
                Ok((
                    rest,
                    Read::Str(StrRef {
                        off,
                        len: bytes.len() as u32,
                        kind: StrKind::Text,
                    }),
                ))
            }
            tag::NIBBLE_8 | tag::HEX_8 => {
                let kind = if t == tag::NIBBLE_8 {
                    PackedKind::Nibble
                } else {
                    PackedKind::Hex
                };
                let (i, n) = byte(i, part)?;
                let odd = n & 0x80 != 0;
                let len = usize::from(n & 0x7f);
                if odd && len == 0 {
                    return fail(at, DecodeErrorKind::OddEmptyPacked { part });
                }
                need(i, len, part)?;
                let off = self.off(i);
                let (rest, bytes) = take_checked(i, len, part)?;
                if let Err(nibble) = Packed::validate(kind, bytes, odd) {
                    return fail(at, DecodeErrorKind::InvalidNibble { part, nibble });
                }
                Ok((
                    rest,
                    Read::Str(StrRef {
                        off,
                        len: len as u32,
                        kind: StrKind::Packed { kind, odd },
                    }),
                ))
            }
            tag::JID_PAIR if jid_ok => {
                let (i, user) = match self.string(i, Part::JidUser, false)? {
                    (i, Read::Empty) => (
                        i,
                        StrRef {
                            off: 0,
                            len: 0,
                            kind: StrKind::Text,
                        },
                    ),
                    (i, Read::Str(s)) => (i, s),
                    // string() with jid_ok = false never returns a pair.
                    (i, Read::Jid(..)) => {
                        return fail(
                            i,
                            DecodeErrorKind::JidNotAllowed {
                                part: Part::JidUser,
                            },
                        );
                    }
                };
                let server_at = i;
                match self.string(i, Part::JidServer, false)? {
                    (i, Read::Str(s)) => Ok((i, Read::Jid(user, s))),
                    (_, Read::Empty) => fail(
                        server_at,
                        DecodeErrorKind::MissingString {
                            part: Part::JidServer,
                        },
                    ),
                    (i, Read::Jid(..)) => fail(
                        i,
                        DecodeErrorKind::JidNotAllowed {
                            part: Part::JidServer,
                        },
                    ),
                }
            }
            tag::JID_PAIR => fail(at, DecodeErrorKind::JidNotAllowed { part }),
            _ => fail(at, DecodeErrorKind::InvalidTag { part, tag: t }),
        }
    }

    /// The common cases, inlined: a known single-byte token or a valid packed string. Anything
    /// else (including every error) returns `None` and goes through [`Ctx::string`], which
    /// reports it.
    #[inline(always)]
    fn fast_str<'a>(&self, at: &'a [u8]) -> Option<(&'a [u8], StrRef)> {
        let (&t, rest) = at.split_first()?;
        if self.dict.is_single(t) {
            return Some((
                rest,
                StrRef {
                    off: u32::from(t),
                    len: 0,
                    kind: StrKind::Single,
                },
            ));
        }
        let kind = match t {
            tag::NIBBLE_8 => PackedKind::Nibble,
            tag::HEX_8 => PackedKind::Hex,
            _ => return None,
        };
        let (&n, rest) = rest.split_first()?;
        let odd = n & 0x80 != 0;
        let len = usize::from(n & 0x7f);
        let (bytes, rest2) = rest.split_at_checked(len)?;
        if (odd && len == 0) || Packed::validate(kind, bytes, odd).is_err() {
            return None;
        }
        let off = self.off(rest);
        Some((
            rest2,
            StrRef {
                off,
                len: len as u32,
                kind: StrKind::Packed { kind, odd },
            },
        ))
    }

    /// The common values, inlined: a fast string, or a JID pair of fast strings.
    #[inline(always)]
    fn fast_value<'a>(&self, at: &'a [u8]) -> Option<(&'a [u8], ValueRef)> {
        if at.first() != Some(&tag::JID_PAIR) {
            return self.fast_str(at).map(|(r, s)| (r, ValueRef::Str(s)));
        }
        let after = at.get(1..)?;
        let (r, user) = if after.first() == Some(&tag::LIST_EMPTY) {
            (
                after.get(1..)?,
                StrRef {
                    off: 0,
                    len: 0,
                    kind: StrKind::Text,
                },
            )
        } else {
            self.fast_str(after)?
        };
        let (r, server) = self.fast_str(r)?;
        Some((r, ValueRef::Jid(user, server)))
    }

    /// A string that must be present and cannot be a JID (descriptions, attribute keys).
    #[inline]
    fn plain_string<'a>(&self, at: &'a [u8], part: Part) -> PResult<'a, StrRef> {
        if let Some(found) = self.fast_str(at) {
            return Ok(found);
        }
        match self.string(at, part, false)? {
            (i, Read::Str(s)) => Ok((i, s)),
            (_, Read::Empty) => fail(at, DecodeErrorKind::MissingString { part }),
            (_, Read::Jid(..)) => fail(at, DecodeErrorKind::JidNotAllowed { part }),
        }
    }

    /// A value: a string or a JID pair, which must be present.
    #[inline]
    fn value<'a>(&self, at: &'a [u8], part: Part) -> PResult<'a, ValueRef> {
        if let Some(found) = self.fast_value(at) {
            return Ok(found);
        }
        match self.string(at, part, true)? {
            (i, Read::Str(s)) => Ok((i, ValueRef::Str(s))),
            (i, Read::Jid(u, s)) => Ok((i, ValueRef::Jid(u, s))),
            (_, Read::Empty) => fail(at, DecodeErrorKind::MissingString { part }),
        }
    }

    /// Reads one node.
    fn node<'a>(&mut self, at: &'a [u8], depth: usize) -> PResult<'a, NodeData> {
        if depth > self.max_depth {
            return fail(
                at,
                DecodeErrorKind::TooDeep {
                    limit: self.max_depth,
                },
            );
        }
        let (i, t) = byte(at, Part::NodeHeader)?;
        let (i, size) = self.list_size(at, t, i, Part::NodeHeader)?;
        if size == 0 {
            return fail(at, DecodeErrorKind::EmptyNodeHeader);
        }
        let desc_at = i;
        let (i, desc) = match byte(i, Part::Description)? {
            (_, tag::STREAM_8) => {
                return fail(
                    desc_at,
                    DecodeErrorKind::InvalidTag {
                        part: Part::Description,
                        tag: tag::STREAM_8,
                    },
                );
            }
            _ => self.plain_string(i, Part::Description)?,
        };
        let attr_count = (size - 1) / 2;
        if attr_count * 2 > i.len() {
            return fail(
                i,
                DecodeErrorKind::LengthExceedsInput {
                    part: Part::AttributeKey,
                    declared: attr_count as u64 * 2,
                    available: i.len(),
                },
            );
        }
        let attr_start = self.attrs.len() as u32;
        let mut i = i;
        for _ in 0..attr_count {
            let (r, key) = self.plain_string(i, Part::AttributeKey)?;
            let (r, value) = self.value(r, Part::AttributeValue)?;
            self.attrs.push(AttrData { key, value });
            i = r;
        }
        let (i, content) = if size % 2 == 1 {
            (i, ContentData::None)
        } else {
            self.content(i, depth)?
        };
        Ok((
            i,
            NodeData {
                tag: desc,
                attr_start,
                attr_len: attr_count as u32,
                content,
            },
        ))
    }

    fn content<'a>(&mut self, at: &'a [u8], depth: usize) -> PResult<'a, ContentData> {
        let (i, t) = byte(at, Part::Content)?;
        match t {
            tag::LIST_EMPTY | tag::LIST_8 | tag::LIST_16 => {
                let (i, n) = self.list_size(at, t, i, Part::ListSize)?;
                if n == 0 {
                    return Ok((i, ContentData::List { start: 0, len: 0 }));
                }
                // Each child needs at least three bytes: reject impossible counts at once.
                if n * 3 > i.len() {
                    return fail(
                        at,
                        DecodeErrorKind::LengthExceedsInput {
                            part: Part::ListSize,
                            declared: n as u64 * 3,
                            available: i.len(),
                        },
                    );
                }
                if depth + 1 > self.max_depth {
                    return fail(
                        i,
                        DecodeErrorKind::TooDeep {
                            limit: self.max_depth,
                        },
                    );
                }
                let base = self.pending.len();
                let mut i = i;
                for _ in 0..n {
                    let (r, child) = self.node(i, depth + 1)?;
                    self.pending.push(child);
                    i = r;
                }
                let start = self.nodes.len();
                self.nodes.extend(self.pending.drain(base..));
                Ok((
                    i,
                    ContentData::List {
                        start: start as u32,
                        len: n as u32,
                    },
                ))
            }
            tag::BINARY_8 | tag::BINARY_20 | tag::BINARY_32 => {
                let (i, (off, bytes)) = self.binary(t, i, Part::Content)?;
                Ok((
                    i,
                    ContentData::Bytes {
                        off,
                        len: bytes.len() as u32,
                    },
                ))
            }
            _ => {
                let (i, v) = self.value(at, Part::Content)?;
                Ok((i, ContentData::Text(v)))
            }
        }
    }
}
