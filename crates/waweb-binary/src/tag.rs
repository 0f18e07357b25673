//! The tag bytes of the binary node format.
//!
//! Every string, list and byte run on the wire starts with one tag byte. Values `3..=235` are
//! single-byte dictionary tokens; the named values below are the structural tags. The numbers
//! are the ones listed in the whatsapp-web-reveng README ("Binary message format") and used
//! unchanged by every peer (go-whatsapp `binary/token`, whatsappweb-rs `node_wire.rs`).

/// An empty list; as a string it stands for "no string" (an empty JID user part).
pub const LIST_EMPTY: u8 = 0;
/// End of stream marker; never valid inside a node (the seed calls description tag 2 invalid).
pub const STREAM_8: u8 = 2;
/// First of the four double-byte dictionary tags: token index `(tag - 236) * 256 + next byte`.
pub const DICTIONARY_0: u8 = 236;
/// Second double-byte dictionary tag.
pub const DICTIONARY_1: u8 = 237;
/// Third double-byte dictionary tag.
pub const DICTIONARY_2: u8 = 238;
/// Fourth double-byte dictionary tag.
pub const DICTIONARY_3: u8 = 239;
/// A list whose size follows in one byte.
pub const LIST_8: u8 = 248;
/// A list whose size follows as a big-endian 16-bit integer.
pub const LIST_16: u8 = 249;
/// A JID: two strings (user, server) joined with `@`.
pub const JID_PAIR: u8 = 250;
/// A packed string of upper-case hexadecimal digits, two per byte.
pub const HEX_8: u8 = 251;
/// A byte run whose length follows in one byte.
pub const BINARY_8: u8 = 252;
/// A byte run whose length follows in 20 bits (three bytes, top nibble unused).
pub const BINARY_20: u8 = 253;
/// A byte run whose length follows as a big-endian 32-bit integer.
pub const BINARY_32: u8 = 254;
/// A packed string of digits, `-` and `.`, two per byte.
pub const NIBBLE_8: u8 = 255;

/// The largest value a BINARY_20 length can carry.
pub const INT20_MAX: usize = (1 << 20) - 1;
/// The most bytes a packed (NIBBLE_8 / HEX_8) string may occupy: the length byte keeps its high
/// bit for the odd-length flag.
pub const PACKED_MAX_BYTES: usize = 127;

/// Whether `tag` starts a list (`LIST_EMPTY`, `LIST_8` or `LIST_16`).
#[must_use]
pub const fn is_list(tag: u8) -> bool {
    matches!(tag, LIST_EMPTY | LIST_8 | LIST_16)
}

/// A human-readable name for a structural tag, for error messages and docs.
#[must_use]
pub const fn name(tag: u8) -> &'static str {
    match tag {
        LIST_EMPTY => "LIST_EMPTY",
        STREAM_8 => "STREAM_8",
        DICTIONARY_0 => "DICTIONARY_0",
        DICTIONARY_1 => "DICTIONARY_1",
        DICTIONARY_2 => "DICTIONARY_2",
        DICTIONARY_3 => "DICTIONARY_3",
        LIST_8 => "LIST_8",
        LIST_16 => "LIST_16",
        JID_PAIR => "JID_PAIR",
        HEX_8 => "HEX_8",
        BINARY_8 => "BINARY_8",
        BINARY_20 => "BINARY_20",
        BINARY_32 => "BINARY_32",
        NIBBLE_8 => "NIBBLE_8",
        240..=247 => "reserved",
        1 => "reserved",
        _ => "token",
    }
}
