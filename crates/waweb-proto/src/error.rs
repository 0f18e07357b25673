//! The error type of this crate.

/// Why bytes could not be read as a protobuf message.
///
/// Unknown fields and unknown enum values are not errors: they are reported as
/// [`Unknown`](crate::Unknown)s next to the decoded message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// The bytes are not valid protobuf wire format (or not valid for a known field's type).
    #[error("malformed protobuf at byte {offset}: {what}")]
    Malformed {
        /// Offset of the problem from the start of the outermost message.
        offset: usize,
        /// What was wrong.
        what: &'static str,
    },
    /// Nesting deeper than [`MAX_DEPTH`](crate::MAX_DEPTH) messages.
    #[error("protobuf nesting deeper than {limit} messages at byte {offset}")]
    TooDeep {
        /// Offset of the message that went too deep.
        offset: usize,
        /// The nesting limit.
        limit: usize,
    },
    /// prost rejected the bytes (for example a `string` field that is not UTF-8).
    #[error("protobuf decode failed: {reason}")]
    Decode {
        /// prost's description of the problem.
        reason: String,
    },
    /// The message name is not part of the schema.
    #[error("no message named {0:?} in the schema")]
    UnknownMessage(&'static str),
}
