//! `waweb decode`: text in, JSON nodes out.

use base64::Engine as _;
use waweb_binary::{DecodeError, Tree};

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
