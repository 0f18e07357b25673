//! Serde helpers for protobuf `bytes` fields: JSON shows them as standard base64 strings
//! (with padding), the way protobuf's canonical JSON mapping and other WhatsApp clients print them.
//!
//! `cargo xtask protos` attaches these to every `bytes` field of the generated types.

use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serializer};

/// `optional bytes` (`Option<Vec<u8>>`): `null` or a base64 string.
pub mod optional {
    use super::{Deserialize, Deserializer, STANDARD, Serializer};
    use base64::Engine as _;

    /// Serializes `Some(bytes)` as base64 and `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_some(&STANDARD.encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes `null` or a base64 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|text| STANDARD.decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// `repeated bytes` (`Vec<Vec<u8>>`): an array of base64 strings.
pub mod repeated {
    use super::{Deserialize, Deserializer, STANDARD, Serializer};
    use base64::Engine as _;
    use serde::ser::SerializeSeq as _;

    /// Serializes every element as a base64 string.
    pub fn serialize<S: Serializer>(value: &[Vec<u8>], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(value.len()))?;
        for bytes in value {
            seq.serialize_element(&STANDARD.encode(bytes))?;
        }
        seq.end()
    }

    /// Deserializes an array of base64 strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        let texts: Vec<String> = Vec::deserialize(deserializer)?;
        texts
            .into_iter()
            .map(|text| STANDARD.decode(text).map_err(serde::de::Error::custom))
            .collect()
    }
}
