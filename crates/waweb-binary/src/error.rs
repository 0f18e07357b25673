//! Typed errors of the codec. Every decode error names what was being read and the byte offset
//! (from the start of the decoded buffer) where the problem was found.

use std::fmt;

/// What part of a node was being read when decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The list header that starts a node.
    NodeHeader,
    /// The node's description (its tag name).
    Description,
    /// An attribute key.
    AttributeKey,
    /// An attribute value.
    AttributeValue,
    /// The node's content.
    Content,
    /// The size of a child list.
    ListSize,
    /// The user part of a JID pair.
    JidUser,
    /// The server part of a JID pair.
    JidServer,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::NodeHeader => "node header",
            Part::Description => "description",
            Part::AttributeKey => "attribute key",
            Part::AttributeValue => "attribute value",
            Part::Content => "content",
            Part::ListSize => "list size",
            Part::JidUser => "JID user",
            Part::JidServer => "JID server",
        })
    }
}

/// Why decoding failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the structure being read was complete.
    #[error("input ends inside {part}: {needed} more byte(s) needed, {available} available")]
    Truncated {
        /// What was being read.
        part: Part,
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// Bytes remain after the root node.
    #[error("{count} trailing byte(s) after the root node")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A node header declared a list size of 0 (a node has at least its description).
    #[error("node header has list size 0")]
    EmptyNodeHeader,
    /// A list size was expected but the tag is not a list tag.
    #[error("{part}: tag {tag} ({}) is not a list tag", crate::tag::name(*tag))]
    NotAList {
        /// What was being read.
        part: Part,
        /// The tag found.
        tag: u8,
    },
    /// A tag that can never start a string here (STREAM_8, a list tag, reserved values).
    #[error("{part}: tag {tag} ({}) is not valid here", crate::tag::name(*tag))]
    InvalidTag {
        /// What was being read.
        part: Part,
        /// The tag found.
        tag: u8,
    },
    /// A single- or double-byte token index that the dictionary does not have.
    #[error("{part}: unknown token {index} (tag {tag})")]
    UnknownToken {
        /// What was being read.
        part: Part,
        /// The tag byte (the token index for single-byte tokens, DICTIONARY_n otherwise).
        tag: u8,
        /// The token index: the tag for single-byte tokens, `n * 256 + byte` for double-byte.
        index: u16,
    },
    /// A NIBBLE_8 string holds a nibble that has no character (12, 13 or 14).
    #[error("{part}: nibble value {nibble} has no character")]
    InvalidNibble {
        /// What was being read.
        part: Part,
        /// The nibble value.
        nibble: u8,
    },
    /// A packed string of length 0 has the odd-length flag set.
    #[error("{part}: empty packed string has the odd-length flag")]
    OddEmptyPacked {
        /// What was being read.
        part: Part,
    },
    /// Text that must be UTF-8 is not.
    #[error("{part}: text is not valid UTF-8")]
    InvalidUtf8 {
        /// What was being read.
        part: Part,
    },
    /// `LIST_EMPTY` where a string is required (only a JID user part may be empty).
    #[error("{part}: missing string (LIST_EMPTY)")]
    MissingString {
        /// What was being read.
        part: Part,
    },
    /// A JID pair inside a JID pair, or as a description or attribute key.
    #[error("{part}: a JID pair is not allowed here")]
    JidNotAllowed {
        /// What was being read.
        part: Part,
    },
    /// Nodes are nested deeper than the configured limit.
    #[error("nesting deeper than the limit of {limit}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// A declared count or length cannot fit in what is left of the input.
    #[error("{part}: declared length {declared} exceeds the {available} byte(s) left")]
    LengthExceedsInput {
        /// What was being read.
        part: Part,
        /// The declared count or length (in bytes, or in minimal encoded size for lists).
        declared: u64,
        /// Bytes left.
        available: usize,
    },
    /// The input is larger than 4 GiB, the most the format can address.
    #[error("input of {len} bytes is larger than the format's 4 GiB limit")]
    InputTooLarge {
        /// Input length.
        len: usize,
    },
}

/// A decoding failure: what went wrong and at which byte offset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct DecodeError {
    /// Offset from the start of the buffer given to the decoder.
    pub offset: usize,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

/// An encoding failure: the node cannot be represented in the format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A node has more attributes and content than a LIST_16 header can count.
    #[error("node {tag:?} has {attrs} attributes: the header cannot count them")]
    TooManyAttributes {
        /// The node's description.
        tag: String,
        /// Attribute count.
        attrs: usize,
    },
    /// A node has more than 65535 children.
    #[error("node {tag:?} has {children} children; at most 65535 fit")]
    TooManyChildren {
        /// The node's description.
        tag: String,
        /// Child count.
        children: usize,
    },
    /// A string or byte run longer than 4 GiB.
    #[error("a string or byte run of {len} bytes is longer than the format's 4 GiB limit")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Nodes are nested deeper than the configured limit.
    #[error("nesting deeper than the limit of {limit}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
}
