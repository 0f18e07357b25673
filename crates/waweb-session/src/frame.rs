//! Websocket frames: `tag,JSON` text frames, `tag,binary` frames, the keepalive pair, message tags,
//! and the two header bytes (metric and flags) of outgoing binary frames.

use core::fmt;
use core::ops::BitOr;

/// The keepalive frame the client sends: `?,,`.
pub const KEEPALIVE: &str = "?,,";

/// The logout frame sent over a live connection.
pub const GOODBYE: &str = r#"goodbye,,["admin","Conn","disconnect"]"#;

/// One websocket message to send.
#[derive(Clone, PartialEq, Eq)]
pub enum Transmit {
    /// A text message (`tag,JSON`, `?,,`, `goodbye,,...`).
    Text(String),
    /// A binary message (`tag,` metric flags MAC IV ciphertext).
    Binary(Vec<u8>),
}

impl Transmit {
    /// The bytes of the message.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(s) => s.as_bytes(),
            Self::Binary(b) => b,
        }
    }
}

impl fmt::Debug for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Text frames can hold tokens (login, challenge); show only their tag.
            Self::Text(s) => {
                let tag = s.split_once(',').map_or(s.as_str(), |(t, _)| t);
                write!(f, "Text({tag},.. {} bytes)", s.len())
            }
            Self::Binary(b) => write!(f, "Binary({} bytes)", b.len()),
        }
    }
}

/// The metric byte of an outgoing binary frame: which kind of request it is, for the server's
/// bookkeeping. Values as go-whatsapp's `metric` enumeration (`conn.go`, starting at 1) and
/// Baileys 3.x `WAMetric`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Metric(pub u8);

#[allow(missing_docs)]
impl Metric {
    pub const DEBUG_LOG: Self = Self(1);
    pub const QUERY_RESUME: Self = Self(2);
    pub const QUERY_RECEIPT: Self = Self(3);
    pub const QUERY_MEDIA: Self = Self(4);
    pub const QUERY_CHAT: Self = Self(5);
    pub const QUERY_CONTACTS: Self = Self(6);
    pub const QUERY_MESSAGES: Self = Self(7);
    pub const PRESENCE: Self = Self(8);
    pub const PRESENCE_SUBSCRIBE: Self = Self(9);
    pub const GROUP: Self = Self(10);
    pub const READ: Self = Self(11);
    pub const CHAT: Self = Self(12);
    pub const RECEIVED: Self = Self(13);
    pub const PIC: Self = Self(14);
    pub const STATUS: Self = Self(15);
    pub const MESSAGE: Self = Self(16);
    pub const QUERY_ACTIONS: Self = Self(17);
    pub const BLOCK: Self = Self(18);
    pub const QUERY_GROUP: Self = Self(19);
    pub const QUERY_PREVIEW: Self = Self(20);
    pub const QUERY_EMOJI: Self = Self(21);
    pub const QUERY_MESSAGE_INFO: Self = Self(22);
    pub const SPAM: Self = Self(23);
    pub const QUERY_SEARCH: Self = Self(24);
    pub const QUERY_IDENTITY: Self = Self(25);
    pub const QUERY_URL: Self = Self(26);
    pub const PROFILE: Self = Self(27);
    pub const CONTACT: Self = Self(28);
    pub const QUERY_VCARD: Self = Self(29);
    pub const QUERY_STATUS: Self = Self(30);
    pub const QUERY_STATUS_UPDATE: Self = Self(31);
    pub const PRIVACY_STATUS: Self = Self(32);
    pub const QUERY_LIVE_LOCATIONS: Self = Self(33);
    pub const LIVE_LOCATION: Self = Self(34);
    pub const QUERY_VNAME: Self = Self(35);
    pub const QUERY_LABELS: Self = Self(36);
    pub const CALL: Self = Self(37);
    pub const QUERY_CALL: Self = Self(38);
    pub const QUERY_QUICK_REPLIES: Self = Self(39);
}

/// The flags byte of an outgoing binary frame (bits from the top: go-whatsapp's `flag`
/// enumeration, Baileys 3.x `WAFlag`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    /// No flag.
    pub const NONE: Self = Self(0);
    /// `ignore` (0x80): used for relayed messages.
    pub const IGNORE: Self = Self(0x80);
    /// `ackRequest` (0x40).
    pub const ACK_REQUEST: Self = Self(0x40);
    /// `available` (0x20): presence available (sent as 0xA0 with `IGNORE`).
    pub const AVAILABLE: Self = Self(0x20);
    /// `notAvailable` (0x10).
    pub const NOT_AVAILABLE: Self = Self(0x10);
    /// `expires` (0x08).
    pub const EXPIRES: Self = Self(0x08);
    /// `skipOffline` (0x04): also used for "composing".
    pub const SKIP_OFFLINE: Self = Self(0x04);
}

impl BitOr for Flags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// Generates request tags as peers form them: `<seconds>.--<counter>`, the seconds taken once when
/// the session starts and the counter increased per request.
#[derive(Clone, Debug)]
pub struct TagGenerator {
    prefix: u64,
    counter: u64,
}

impl TagGenerator {
    /// A generator for a session started at `unix_secs`.
    #[must_use]
    pub const fn new(unix_secs: u64) -> Self {
        Self {
            prefix: unix_secs,
            counter: 0,
        }
    }

    /// The next tag.
    pub fn next_tag(&mut self) -> String {
        let tag = format!("{}.--{}", self.prefix, self.counter);
        self.counter += 1;
        tag
    }
}

/// A received text frame, split.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TextFrame<'a> {
    /// `!<unix-ms>`: the keepalive reply.
    Pong(&'a str),
    /// `tag,payload`.
    Tagged { tag: &'a str, payload: &'a str },
}

/// Splits a text frame.
pub(crate) fn split_text(frame: &str) -> Option<TextFrame<'_>> {
    if let Some(rest) = frame.strip_prefix('!') {
        // The reply carries no tag and no comma; tolerate a trailing one.
        return Some(TextFrame::Pong(rest.split(',').next().unwrap_or("")));
    }
    let (tag, payload) = frame.split_once(',')?;
    Some(TextFrame::Tagged { tag, payload })
}

/// Splits a received binary frame into its tag and the sealed frame (MAC onward).
///
/// Some servers write `tag,,` before the MAC. A sealed frame is 32 + 16 + 16·n bytes, so its length
/// is a multiple of 16; an extra leading comma is dropped only when it makes the length right,
/// which never misreads a MAC that happens to start with `,`.
pub(crate) fn split_binary(frame: &[u8]) -> Option<(&str, &[u8])> {
    let comma = frame.iter().position(|&b| b == b',')?;
    let (tag, rest) = frame.split_at(comma);
    let tag = core::str::from_utf8(tag).ok()?;
    let mut body = rest.get(1..)?;
    if body.len() % 16 == 1 && body.first() == Some(&b',') {
        body = body.get(1..)?;
    }
    Some((tag, body))
}

/// Builds an outgoing binary frame: `tag,` metric flags sealed-frame.
pub(crate) fn binary_frame(tag: &str, metric: Metric, flags: Flags, sealed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tag.len() + 3 + sealed.len());
    out.extend_from_slice(tag.as_bytes());
    out.push(b',');
    out.push(metric.0);
    out.push(flags.0);
    out.extend_from_slice(sealed);
    out
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;

    #[test]
    fn tags_count_up() {
        let mut t = TagGenerator::new(1_600_000_000);
        assert_eq!(t.next_tag(), "1600000000.--0");
        assert_eq!(t.next_tag(), "1600000000.--1");
    }

    #[test]
    fn text_frames_split() {
        assert_eq!(
            split_text("!1600000000123"),
            Some(TextFrame::Pong("1600000000123"))
        );
        assert_eq!(
            split_text(r#"s1,["Conn",{}]"#),
            Some(TextFrame::Tagged {
                tag: "s1",
                payload: r#"["Conn",{}]"#
            })
        );
        assert_eq!(split_text("nocomma"), None);
    }

    #[test]
    fn binary_frames_split_and_tolerate_double_comma() {
        let sealed = [7u8; 64];
        let mut f = b"abc,".to_vec();
        f.extend_from_slice(&sealed);
        assert_eq!(split_binary(&f), Some(("abc", &sealed[..])));
        let mut g = b"abc,,".to_vec();
        g.extend_from_slice(&sealed);
        assert_eq!(split_binary(&g), Some(("abc", &sealed[..])));
        // A MAC that starts with ',' is kept whole.
        let mut mac_comma = [7u8; 64];
        mac_comma[0] = b',';
        let mut h = b"abc,".to_vec();
        h.extend_from_slice(&mac_comma);
        assert_eq!(split_binary(&h), Some(("abc", &mac_comma[..])));
    }

    #[test]
    fn outgoing_binary_header_layout() {
        let f = binary_frame("1.--2", Metric::MESSAGE, Flags::IGNORE, &[0xAA, 0xBB]);
        assert_eq!(
            f,
            [b'1', b'.', b'-', b'-', b'2', b',', 16, 0x80, 0xAA, 0xBB]
        );
        assert_eq!((Flags::IGNORE | Flags::AVAILABLE).0, 0xA0);
    }
}
