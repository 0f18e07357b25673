//! `waweb decode`: text in, JSON nodes out.

use base64::Engine as _;
use waweb_binary::{DecodeError, Tree};
use waweb_crypto::SessionKeys;

/// How the input text encodes bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Hex if the text is valid hex, otherwise base64.
    Detect,
    Hex,
    Base64,
}

impl Format {
    pub(crate) fn from_flags(hex: bool, base64: bool) -> Self {
        match (hex, base64) {
            (true, _) => Format::Hex,
            (_, true) => Format::Base64,
            _ => Format::Detect,
        }
    }
}

/// Why one input line could not be shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LineError {
    #[error("input is neither hex nor base64")]
    NotHexOrBase64,
    #[error("invalid hex: {0}")]
    Hex(#[from] hex::FromHexError),
    #[error("invalid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("invalid node: {0}")]
    Node(#[from] DecodeError),
    #[error("cannot render JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("keys must be 64 bytes (encKey then macKey), got {0}")]
    KeyLength(usize),
    #[error(
        "no reading of the frame (with or without tag, metric and flags) passes the MAC check with these keys"
    )]
    FrameMac,
}

/// The non-empty, non-comment lines of `text`, numbered from 1.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn bytes_of(line: &str, format: Format) -> Result<Vec<u8>, LineError> {
    let compact: String = line.split_whitespace().collect();
    let b64 = || {
        let trimmed = compact.trim_end_matches('=');
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed)
    };
    match format {
        Format::Hex => Ok(hex::decode(&compact)?),
        Format::Base64 => Ok(b64()?),
        Format::Detect => {
            hex::decode(&compact).or_else(|_| b64().map_err(|_| LineError::NotHexOrBase64))
        }
    }
}

/// Decodes one line of hex or base64 into its JSON form.
pub(crate) fn decode_line(line: &str, format: Format, pretty: bool) -> Result<String, LineError> {
    let bytes = bytes_of(line, format)?;
    let tree = Tree::decode(&bytes)?;
    Ok(if pretty {
        serde_json::to_string_pretty(&tree.root())?
    } else {
        serde_json::to_string(&tree.root())?
    })
}

/// Session keys from 64 bytes of hex or base64: `encKey` then `macKey`.
pub(crate) fn parse_keys(text: &str) -> Result<SessionKeys, LineError> {
    let bytes = bytes_of(text, Format::Detect)?;
    let (Some(enc), Some(mac)) = (bytes.get(..32), bytes.get(32..)) else {
        return Err(LineError::KeyLength(bytes.len()));
    };
    match (<[u8; 32]>::try_from(enc), <[u8; 32]>::try_from(mac)) {
        (Ok(enc), Ok(mac)) => Ok(SessionKeys::new(enc, mac)),
        _ => Err(LineError::KeyLength(bytes.len())),
    }
}

/// The ways a captured frame may be laid out: bare, after a `tag,` (or `tag,,`) prefix, and
/// each with or without the two metric and flags bytes of outgoing frames.
fn frame_readings(b: &[u8]) -> Vec<&[u8]> {
    let mut bodies = vec![b];
    if let Some(pos) = b.iter().take(64).position(|&c| c == b',')
        && pos > 0
        && b.get(..pos)
            .is_some_and(|t| t.iter().all(u8::is_ascii_graphic))
        && let Some(rest) = b.get(pos + 1..)
    {
        bodies.push(rest);
        if let Some(after) = rest.strip_prefix(b",") {
            bodies.push(after);
        }
    }
    let mut out = Vec::new();
    for body in bodies {
        out.push(body);
        if let Some(skipped) = body.get(2..) {
            out.push(skipped);
        }
    }
    out
}

/// Opens a captured binary frame with `keys` and shows the node inside. The MAC decides which
/// reading of the frame's layout is the right one.
pub(crate) fn decode_frame_line(
    line: &str,
    format: Format,
    pretty: bool,
    keys: &SessionKeys,
) -> Result<String, LineError> {
    let bytes = bytes_of(line, format)?;
    let plain = frame_readings(&bytes)
        .into_iter()
        .find_map(|body| keys.open_frame(body).ok())
        .ok_or(LineError::FrameMac)?;
    let tree = Tree::decode(&plain)?;
    Ok(if pretty {
        serde_json::to_string_pretty(&tree.root())?
    } else {
        serde_json::to_string(&tree.root())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_agree() {
        let hex = decode_line("f8 03 09 5b 4b", Format::Detect, false).unwrap();
        assert_eq!(hex, r#"["action",{"type":"relay"},null]"#);
        let b64 = decode_line("+AMJW0s=", Format::Detect, false).unwrap();
        assert_eq!(b64, hex);
        assert_eq!(decode_line("+AMJW0s", Format::Base64, false).unwrap(), hex);
    }

    #[test]
    fn frames_open_in_every_layout() {
        let keys = SessionKeys::new([7; 32], [9; 32]);
        let node =
            waweb_binary::encode(&waweb_binary::Node::new("action").attr("type", "relay")).unwrap();
        let frame = keys.seal_frame(&node).unwrap();
        let key_hex = format!("{}{}", hex::encode([7u8; 32]), hex::encode([9u8; 32]));
        let parsed = parse_keys(&key_hex).unwrap();
        let expected = r#"["action",{"type":"relay"},null]"#;
        let mut outgoing = b"1600000000.--5,".to_vec();
        outgoing.extend_from_slice(&[16, 0x80]);
        outgoing.extend_from_slice(&frame);
        let mut incoming = b"preempt-1,,".to_vec();
        incoming.extend_from_slice(&frame);
        for layout in [frame.clone(), outgoing, incoming] {
            assert_eq!(
                decode_frame_line(&hex::encode(&layout), Format::Hex, false, &parsed).unwrap(),
                expected
            );
        }
        let wrong = SessionKeys::new([7; 32], [8; 32]);
        assert!(matches!(
            decode_frame_line(&hex::encode(&frame), Format::Hex, false, &wrong),
            Err(LineError::FrameMac)
        ));
        assert!(matches!(parse_keys("00ff"), Err(LineError::KeyLength(2))));
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        assert!(matches!(
            decode_line("f80309", Format::Hex, false),
            Err(LineError::Node(_))
        ));
        assert!(matches!(
            decode_line("zz!", Format::Detect, false),
            Err(LineError::NotHexOrBase64)
        ));
        assert!(matches!(
            decode_line("zz", Format::Hex, false),
            Err(LineError::Hex(_))
        ));
        let e = decode_line("f8 01 b0", Format::Hex, false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid node: description: unknown token 176 (tag 176) (at byte 2)"
        );
    }
}
