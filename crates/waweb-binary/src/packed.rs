//! Packed strings (NIBBLE_8 and HEX_8): two characters per byte, most significant nibble first.
//!
//! The length byte holds the number of packed bytes in its low seven bits; its high bit says the
//! string has an odd number of characters, so the last nibble (written as 0xF) is padding.

use std::fmt;

/// Whether both nibbles of a byte have a NIBBLE_8 character (neither is 12, 13 or 14).
// Built at compile time: an out-of-range index here would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const NIBBLE_BYTE_OK: [bool; 256] = {
    let mut t = [true; 256];
    let mut b = 0;
    while b < 256 {
        let (hi, lo) = (b >> 4, b & 15);
        if (hi >= 12 && hi <= 14) || (lo >= 12 && lo <= 14) {
            t[b] = false;
        }
        b += 1;
    }
    t
};

/// Character classes for [`packable`]: bit 0 = NIBBLE_8 alphabet, bit 1 = HEX_8 alphabet.
#[allow(clippy::indexing_slicing)]
const PACK_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = 3;
        c += 1;
    }
    t[b'-' as usize] = 1;
    t[0] = 1;
    t[b'.' as usize] = 1;
    let mut c = b'A';
    while c <= b'F' {
        t[c as usize] = 2;
        c += 1;
    }
    t
};

/// Table lookups by a byte value: a `u8` always indexes a 256-entry table.
#[inline(always)]
#[allow(clippy::indexing_slicing)]
fn nibble_byte_ok(b: u8) -> bool {
    NIBBLE_BYTE_OK[b as usize]
}

#[inline(always)]
#[allow(clippy::indexing_slicing)]
fn pack_class(c: u8) -> u8 {
    PACK_CLASS[c as usize]
}

/// Which alphabet a packed string uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PackedKind {
    /// NIBBLE_8: `0`-`9`, `-` (10), `.` (11); 15 is the padding value (`\0` in the seed).
    Nibble,
    /// HEX_8: `0`-`9`, `A`-`F` (upper case).
    Hex,
}

impl PackedKind {
    /// The character for nibble value `n`, or `None` if the alphabet has none.
    #[must_use]
    pub const fn char_of(self, n: u8) -> Option<u8> {
        match self {
            PackedKind::Nibble => match n {
                0..=9 => Some(b'0' + n),
                10 => Some(b'-'),
                11 => Some(b'.'),
                15 => Some(0),
                _ => None,
            },
            PackedKind::Hex => match n {
                0..=9 => Some(b'0' + n),
                10..=15 => Some(b'A' + n - 10),
                _ => None,
            },
        }
    }

    /// The nibble value of character `c` in this alphabet, for the writer. `\0` is nibble 15 in
    /// NIBBLE_8, the seed's value, so that every decoded NIBBLE_8 string can be written back.
    #[must_use]
    pub const fn nibble_of(self, c: u8) -> Option<u8> {
        match (self, c) {
            (_, b'0'..=b'9') => Some(c - b'0'),
            (PackedKind::Nibble, b'-') => Some(10),
            (PackedKind::Nibble, b'.') => Some(11),
            (PackedKind::Nibble, 0) => Some(15),
            (PackedKind::Hex, b'A'..=b'F') => Some(c - b'A' + 10),
            _ => None,
        }
    }

    /// The nibble that pads an odd-length string. The real server pads NIBBLE_8 with 0xF and
    /// HEX_8 with 0x0 (every odd-length packed string in the 2020 captures does so); the
    /// decoder accepts any pad.
    #[must_use]
    pub const fn pad(self) -> u8 {
        match self {
            PackedKind::Nibble => 15,
            PackedKind::Hex => 0,
        }
    }

    /// The tag byte of this kind.
    #[must_use]
    pub const fn tag(self) -> u8 {
        match self {
            PackedKind::Nibble => crate::tag::NIBBLE_8,
            PackedKind::Hex => crate::tag::HEX_8,
        }
    }
}

/// A packed string borrowed from the input, validated, unpacked on demand.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Packed<'a> {
    kind: PackedKind,
    bytes: &'a [u8],
    odd: bool,
}

impl<'a> Packed<'a> {
    /// Wraps bytes the decoder has already validated.
    pub(crate) fn new_unchecked(kind: PackedKind, bytes: &'a [u8], odd: bool) -> Self {
        Packed { kind, bytes, odd }
    }

    /// Validates packed bytes: every nibble that is part of the string must have a character.
    /// Returns the first bad nibble value.
    pub(crate) fn validate(kind: PackedKind, bytes: &[u8], odd: bool) -> Result<(), u8> {
        if kind == PackedKind::Hex {
            return Ok(());
        }
        let Some((&last, body)) = bytes.split_last() else {
            return Ok(());
        };
        // With the odd flag the low nibble of the last byte is dropped, whatever it holds.
        let last_ok = if odd {
            !matches!(last >> 4, 12..=14)
        } else {
            nibble_byte_ok(last)
        };
        if last_ok && body.iter().all(|&b| nibble_byte_ok(b)) {
            return Ok(());
        }
        // Cold path: find the first bad nibble to report it.
        let bad = |n: u8| matches!(n, 12..=14);
        for (i, &b) in bytes.iter().enumerate() {
            if bad(b >> 4) {
                return Err(b >> 4);
            }
            if bad(b & 15) && !(i + 1 == bytes.len() && odd) {
                return Err(b & 15);
            }
        }
        Ok(())
    }

    /// The alphabet.
    #[must_use]
    pub fn kind(&self) -> PackedKind {
        self.kind
    }

    /// The packed bytes as they were on the wire.
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether the odd-length flag was set.
    #[must_use]
    pub fn is_odd(&self) -> bool {
        self.odd
    }

    /// Number of characters.
    #[must_use]
    pub fn len(&self) -> usize {
        (self.bytes.len() * 2).saturating_sub(usize::from(self.odd))
    }

    /// Whether the string is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The characters, as ASCII bytes.
    pub fn chars(&self) -> impl Iterator<Item = u8> + 'a {
        let kind = self.kind;
        let len = self.len();
        self.bytes
            .iter()
            .flat_map(|&b| [b >> 4, b & 15])
            .take(len)
            .map(move |n| kind.char_of(n).unwrap_or(b'?'))
    }

    /// Compares with `s` without allocating.
    #[must_use]
    pub fn eq_str(&self, s: &str) -> bool {
        s.len() == self.len() && self.chars().eq(s.bytes())
    }
}

impl fmt::Display for Packed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 254];
        let mut n = 0;
        for (slot, c) in buf.iter_mut().zip(self.chars()) {
            *slot = c;
            n += 1;
        }
        // Every character of both alphabets is ASCII.
        f.write_str(std::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or(""))
    }
}

impl fmt::Debug for Packed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}({:?})", self.kind, self.to_string())
    }
}

/// The alphabet a string can be packed with, preferring NIBBLE_8, if it fits in one packed run.
#[must_use]
pub fn packable(s: &str) -> Option<PackedKind> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > crate::tag::PACKED_MAX_BYTES * 2 {
        return None;
    }
    let class = b.iter().fold(3u8, |acc, &c| acc & pack_class(c));
    if class & 1 != 0 {
        Some(PackedKind::Nibble)
    } else if class & 2 != 0 {
        Some(PackedKind::Hex)
    } else {
        None
    }
}

/// Writes the length byte and packed bytes of `s` (which [`packable`] accepted) into `out`.
pub(crate) fn write_packed(kind: PackedKind, s: &str, out: &mut impl bytes::BufMut) {
    let b = s.as_bytes();
    let odd = b.len() % 2 == 1;
    let n = b.len().div_ceil(2);
    // n <= 127 because packable() bounded the length.
    out.put_u8((n as u8) | if odd { 0x80 } else { 0 });
    for pair in b.chunks(2) {
        let hi = pair.first().and_then(|&c| kind.nibble_of(c)).unwrap_or(0);
        let lo = pair
            .get(1)
            .and_then(|&c| kind.nibble_of(c))
            .unwrap_or(kind.pad());
        out.put_u8(hi << 4 | lo);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibble_alphabet() {
        for (n, c) in b"0123456789-.".iter().enumerate() {
            assert_eq!(PackedKind::Nibble.char_of(n as u8), Some(*c));
            assert_eq!(PackedKind::Nibble.nibble_of(*c), Some(n as u8));
        }
        assert_eq!(PackedKind::Nibble.char_of(15), Some(0));
        for n in 12..15 {
            assert_eq!(PackedKind::Nibble.char_of(n), None);
        }
    }

    #[test]
    fn hex_is_upper_case() {
        assert_eq!(PackedKind::Hex.char_of(10), Some(b'A'));
        assert_eq!(PackedKind::Hex.nibble_of(b'a'), None);
        assert_eq!(packable("3EB0"), Some(PackedKind::Hex));
        assert_eq!(packable("3eb0"), None);
        assert_eq!(packable("123-4.5"), Some(PackedKind::Nibble));
        assert_eq!(packable(""), None);
        assert_eq!(packable(&"1".repeat(254)), Some(PackedKind::Nibble));
        assert_eq!(packable(&"1".repeat(255)), None);
    }

    #[test]
    fn odd_write_pads_as_the_server_does() {
        let mut hex = Vec::new();
        write_packed(PackedKind::Hex, "D", &mut hex);
        assert_eq!(hex, [0x81, 0xd0]);
        let mut out = Vec::new();
        write_packed(PackedKind::Nibble, "123", &mut out);
        assert_eq!(out, [0x82, 0x12, 0x3f]);
        let p = Packed::new_unchecked(PackedKind::Nibble, &out[1..], true);
        assert_eq!(p.to_string(), "123");
        assert!(p.eq_str("123"));
    }
}
