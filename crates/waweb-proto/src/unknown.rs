//! Surfacing what the schema does not know.
//!
//! prost keeps an unknown enum value as the raw `i32` in the field (it survives decode and
//! encode), but it skips unknown fields silently. Peers added fields over the protocol's life, so
//! a received message may carry fields newer than `proto/def.proto`; [`unknowns`] walks the wire
//! format next to the generated schema table and reports each unknown field and each unknown enum
//! value with its path, so callers can log them. Neither makes decoding fail.

use std::fmt;

use prost::Message as _;

use crate::ProtoError;
use crate::proto::WebMessageInfo;

/// Deepest message nesting [`unknowns`] follows (prost's own decoder stops at 100).
pub const MAX_DEPTH: usize = 64;

/// How a field is laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// Wire type 0 (integers, bools).
    Varint,
    /// Wire type 1 (`double`, `fixed64`, `sfixed64`).
    Fixed64,
    /// Wire type 5 (`float`, `fixed32`, `sfixed32`).
    Fixed32,
    /// Wire type 2 (`string`, `bytes`).
    LengthDelimited,
    /// Wire type 2, a nested message: index into [`MESSAGES`].
    Message(usize),
    /// Wire type 0, an enum: index into [`ENUMS`].
    Enum(usize),
}

/// One field of a message in the schema table.
#[derive(Debug)]
pub(crate) struct FieldSchema {
    pub(crate) number: u32,
    pub(crate) name: &'static str,
    pub(crate) kind: FieldKind,
    pub(crate) repeated: bool,
}

/// One message of the schema table; fields sorted by number.
#[derive(Debug)]
pub(crate) struct MessageSchema {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [FieldSchema],
}

/// One enum of the schema table; values sorted ascending.
#[derive(Debug)]
pub(crate) struct EnumSchema {
    pub(crate) name: &'static str,
    pub(crate) values: &'static [i32],
}

mod table {
    use super::{EnumSchema, FieldKind, FieldSchema, MessageSchema};
    include!("generated/schema.rs");
}
pub(crate) use table::{ENUMS, MESSAGES};

/// Something in received bytes that the schema does not describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Dotted path of the message holding it, from the outermost message, in schema field names
    /// (e.g. `message.extendedTextMessage.contextInfo`); empty for the outermost message.
    pub path: String,
    /// Field number.
    pub field: u32,
    /// What is unknown about it.
    pub kind: UnknownKind,
}

/// What [`Unknown`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnknownKind {
    /// A field number the message does not define (prost skips it when decoding).
    Field {
        /// Wire type on the wire (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32, 3/4 group).
        wire_type: u8,
    },
    /// A known enum field with a value the enum does not define (prost keeps the raw value).
    EnumValue {
        /// Full name of the enum (e.g. `proto.WebMessageInfo.Status`).
        enum_name: &'static str,
        /// The raw value.
        value: i32,
    },
    /// A known field sent with another wire type than the schema's (prost rejects most of these;
    /// reported so that the cause of such a decode error is visible).
    WireType {
        /// Wire type on the wire.
        wire_type: u8,
    },
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "<root>"
        } else {
            self.path.as_str()
        };
        match self.kind {
            UnknownKind::Field { wire_type } => {
                write!(
                    f,
                    "{at}: unknown field {} (wire type {wire_type})",
                    self.field
                )
            }
            UnknownKind::EnumValue { enum_name, value } => {
                write!(
                    f,
                    "{at}: field {} has value {value} unknown to {enum_name}",
                    self.field
                )
            }
            UnknownKind::WireType { wire_type } => {
                write!(
                    f,
                    "{at}: field {} sent with wire type {wire_type}",
                    self.field
                )
            }
        }
    }
}

/// A decoded [`WebMessageInfo`] and what the schema did not know in its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The message (unknown fields dropped, unknown enum values kept as raw numbers).
    pub info: WebMessageInfo,
    /// Everything in the bytes the schema does not describe, in wire order.
    pub unknowns: Vec<Unknown>,
}

/// Decodes the content of a `message` node and reports unknown fields and enum values.
///
/// # Errors
/// [`ProtoError`] when the bytes are not protobuf wire format, nest deeper than [`MAX_DEPTH`], or
/// carry a field prost cannot read as its schema type. Unknown fields and values are not errors.
pub fn decode_web_message_info(bytes: &[u8]) -> Result<Decoded, ProtoError> {
    let unknowns = unknowns("proto.WebMessageInfo", bytes)?;
    let info = WebMessageInfo::decode(bytes).map_err(|error| ProtoError::Decode {
        reason: error.to_string(),
    })?;
    Ok(Decoded { info, unknowns })
}

/// Walks `bytes` as the message named `message` (full name, e.g. `proto.WebMessageInfo`) and
/// lists every field and enum value the schema does not know.
///
/// # Errors
/// [`ProtoError::UnknownMessage`] for a name not in the schema, [`ProtoError::Malformed`] for
/// bytes that are not protobuf wire format, [`ProtoError::TooDeep`] past [`MAX_DEPTH`].
pub fn unknowns(message: &'static str, bytes: &[u8]) -> Result<Vec<Unknown>, ProtoError> {
    let index = MESSAGES
        .binary_search_by(|m| m.name.cmp(message))
        .map_err(|_| ProtoError::UnknownMessage(message))?;
    let mut walker = Walker {
        found: Vec::new(),
        path: Vec::new(),
    };
    walker.message(index, bytes, 0, 0)?;
    Ok(walker.found)
}

/// Reads one varint at `*pos`, advancing it.
fn read_varint(bytes: &[u8], pos: &mut usize, base: usize) -> Result<u64, ProtoError> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let Some(&byte) = bytes.get(*pos) else {
            return Err(ProtoError::Malformed {
                offset: base + *pos,
                what: "truncated varint",
            });
        };
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtoError::Malformed {
        offset: base + *pos,
        what: "varint longer than 10 bytes",
    })
}

/// Advances `*pos` by `len` bytes, checking bounds; returns the skipped slice.
fn take<'a>(
    bytes: &'a [u8],
    pos: &mut usize,
    len: u64,
    base: usize,
) -> Result<&'a [u8], ProtoError> {
    let end = usize::try_from(len)
        .ok()
        .and_then(|len| pos.checked_add(len))
        .filter(|&end| end <= bytes.len())
        .ok_or(ProtoError::Malformed {
            offset: base + *pos,
            what: "length past the end",
        })?;
    let slice = bytes.get(*pos..end).unwrap_or_default();
    *pos = end;
    Ok(slice)
}

struct Walker {
    found: Vec<Unknown>,
    path: Vec<&'static str>,
}

impl Walker {
    fn report(&mut self, field: u32, kind: UnknownKind) {
        self.found.push(Unknown {
            path: self.path.join("."),
            field,
            kind,
        });
    }

    /// Walks one message; `base` is its offset in the outermost bytes.
    fn message(
        &mut self,
        index: usize,
        bytes: &[u8],
        base: usize,
        depth: usize,
    ) -> Result<(), ProtoError> {
        if depth > MAX_DEPTH {
            return Err(ProtoError::TooDeep {
                offset: base,
                limit: MAX_DEPTH,
            });
        }
        let schema = MESSAGES
            .get(index)
            .ok_or(ProtoError::UnknownMessage("<index>"))?;
        let mut pos = 0;
        while pos < bytes.len() {
            let key_at = pos;
            let key = read_varint(bytes, &mut pos, base)?;
            let wire_type = (key & 7) as u8;
            let number = u32::try_from(key >> 3)
                .ok()
                .filter(|&n| (1..=0x1fff_ffff).contains(&n))
                .ok_or(ProtoError::Malformed {
                    offset: base + key_at,
                    what: "invalid field number",
                })?;
            let value_at = pos;
            let field = schema
                .fields
                .binary_search_by_key(&number, |f| f.number)
                .ok()
                .and_then(|i| schema.fields.get(i));
            let value = self.skip(bytes, &mut pos, wire_type, number, base, depth)?;
            let Some(field) = field else {
                self.report(number, UnknownKind::Field { wire_type });
                continue;
            };
            match (field.kind, wire_type, value) {
                (FieldKind::Message(inner), 2, Value::Bytes(inner_bytes)) => {
                    self.path.push(field.name);
                    let inner_at = base + pos - inner_bytes.len();
                    let result = self.message(inner, inner_bytes, inner_at, depth + 1);
                    self.path.pop();
                    result?;
                }
                (FieldKind::Enum(e), 0, Value::Varint(raw)) => self.enum_value(e, number, raw),
                // Packed repeated enums.
                (FieldKind::Enum(e), 2, Value::Bytes(packed)) if field.repeated => {
                    let mut p = 0;
                    while p < packed.len() {
                        let raw = read_varint(packed, &mut p, base + value_at)?;
                        self.enum_value(e, number, raw);
                    }
                }
                (FieldKind::Varint, 0, _)
                | (FieldKind::Fixed64, 1, _)
                | (FieldKind::Fixed32, 5, _)
                | (FieldKind::LengthDelimited, 2, _) => {}
                // Packed repeated scalars.
                (FieldKind::Varint | FieldKind::Fixed64 | FieldKind::Fixed32, 2, _)
                    if field.repeated => {}
                _ => self.report(number, UnknownKind::WireType { wire_type }),
            }
        }
        Ok(())
    }

    fn enum_value(&mut self, index: usize, number: u32, raw: u64) {
        // Enums are int32 on the wire; negative values are sign-extended to 64 bits.
        let value = raw as i64 as i32;
        let Some(schema) = ENUMS.get(index) else {
            return;
        };
        if schema.values.binary_search(&value).is_err() {
            self.report(
                number,
                UnknownKind::EnumValue {
                    enum_name: schema.name,
                    value,
                },
            );
        }
    }

    /// Skips one value of `wire_type`, returning what it was.
    fn skip<'a>(
        &mut self,
        bytes: &'a [u8],
        pos: &mut usize,
        wire_type: u8,
        number: u32,
        base: usize,
        depth: usize,
    ) -> Result<Value<'a>, ProtoError> {
        match wire_type {
            0 => read_varint(bytes, pos, base).map(Value::Varint),
            1 => take(bytes, pos, 8, base).map(|_| Value::Fixed),
            5 => take(bytes, pos, 4, base).map(|_| Value::Fixed),
            2 => {
                let len = read_varint(bytes, pos, base)?;
                take(bytes, pos, len, base).map(Value::Bytes)
            }
            3 => {
                // A group: skip fields until the matching end-group key.
                if depth >= MAX_DEPTH {
                    return Err(ProtoError::TooDeep {
                        offset: base + *pos,
                        limit: MAX_DEPTH,
                    });
                }
                loop {
                    let key_at = *pos;
                    let key = read_varint(bytes, pos, base)?;
                    let inner_type = (key & 7) as u8;
                    if inner_type == 4 {
                        if key >> 3 == u64::from(number) {
                            return Ok(Value::Fixed);
                        }
                        return Err(ProtoError::Malformed {
                            offset: base + key_at,
                            what: "mismatched end group",
                        });
                    }
                    self.skip(bytes, pos, inner_type, (key >> 3) as u32, base, depth + 1)?;
                }
            }
            _ => Err(ProtoError::Malformed {
                offset: base + *pos,
                what: "invalid wire type",
            }),
        }
    }
}

/// A skipped value, as much as the walker needs of it.
enum Value<'a> {
    Varint(u64),
    Fixed,
    Bytes(&'a [u8]),
}
