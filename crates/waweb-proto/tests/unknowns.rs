//! Unknown enum values survive decode and encode; unknown fields are surfaced (prost drops them
//! from the decoded value); neither makes decoding fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use prost::Message as _;
use waweb_proto::proto::{
    Message, MessageKey, ProtocolMessage, WebMessageInfo, web_message_info::Status,
};
use waweb_proto::{ProtoError, Unknown, UnknownKind, decode_web_message_info, unknowns};

fn text_info() -> WebMessageInfo {
    WebMessageInfo::outgoing(
        "491701234567@s.whatsapp.net",
        "3EB0AA",
        1_600_000_000,
        Message::from_text("hi"),
    )
}

/// Appends field `number` with wire type 0 and `value` to `out`.
fn push_varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
    prost::encoding::encode_key(number, prost::encoding::WireType::Varint, out);
    prost::encoding::encode_varint(value, out);
}

#[test]
fn unknown_enum_value_survives_decode_and_encode() {
    let mut info = text_info();
    info.status = Some(42); // Status has values 0..=5
    info.message_stub_type = Some(-7);
    let bytes = info.encode_to_vec();

    let decoded = decode_web_message_info(&bytes).unwrap();
    assert_eq!(decoded.info.status, Some(42), "raw value kept");
    assert_eq!(decoded.info.message_stub_type, Some(-7));
    assert_eq!(
        decoded.info.status(),
        Status::Error,
        "the typed getter falls back to the default"
    );
    assert_eq!(decoded.info.encode_to_vec(), bytes, "re-encoded unchanged");
    assert_eq!(
        decoded.unknowns,
        vec![
            Unknown {
                path: String::new(),
                field: 4,
                kind: UnknownKind::EnumValue {
                    enum_name: "proto.WebMessageInfo.Status",
                    value: 42
                },
            },
            Unknown {
                path: String::new(),
                field: 24,
                kind: UnknownKind::EnumValue {
                    enum_name: "proto.WebMessageInfo.StubType",
                    value: -7
                },
            },
        ]
    );
}

#[test]
fn unknown_enum_value_in_a_nested_message() {
    let message = Message {
        protocol_message: Some(ProtocolMessage {
            key: Some(MessageKey {
                id: Some("X".into()),
                ..Default::default()
            }),
            r#type: Some(99),
            ..Default::default()
        }),
        ..Message::default()
    };
    let info = WebMessageInfo {
        message: Some(message),
        ..text_info()
    };
    let decoded = decode_web_message_info(&info.encode_to_vec()).unwrap();
    assert_eq!(decoded.info, info);
    assert_eq!(decoded.unknowns.len(), 1);
    assert_eq!(decoded.unknowns[0].path, "message.protocolMessage");
    assert_eq!(
        decoded.unknowns[0].to_string(),
        "message.protocolMessage: field 2 has value 99 unknown to proto.ProtocolMessage.Type"
    );
}

#[test]
fn unknown_fields_are_surfaced_not_fatal() {
    let mut bytes = text_info().encode_to_vec();
    // A field from a newer schema at top level (varint), and a length-delimited one.
    push_varint_field(&mut bytes, 100, 1);
    prost::encoding::bytes::encode(101, &vec![1u8, 2, 3], &mut bytes);
    // And one inside `key` (field 1): rebuild the key with an extra field 9.
    let mut key = MessageKey {
        id: Some("K".into()),
        ..Default::default()
    }
    .encode_to_vec();
    push_varint_field(&mut key, 9, 5);
    prost::encoding::bytes::encode(1, &key, &mut bytes); // last `key` wins when merged

    let decoded = decode_web_message_info(&bytes).unwrap();
    assert_eq!(
        decoded.info.message.as_ref().and_then(Message::text),
        Some("hi")
    );
    assert_eq!(
        decoded.unknowns,
        vec![
            Unknown {
                path: String::new(),
                field: 100,
                kind: UnknownKind::Field { wire_type: 0 }
            },
            Unknown {
                path: String::new(),
                field: 101,
                kind: UnknownKind::Field { wire_type: 2 }
            },
            Unknown {
                path: "key".into(),
                field: 9,
                kind: UnknownKind::Field { wire_type: 0 }
            },
        ]
    );
    // prost drops them: re-encoding loses exactly those bytes. This is why they are reported.
    assert!(decoded.info.encode_to_vec().len() < bytes.len());
    assert_eq!(
        decoded.unknowns[2].to_string(),
        "key: unknown field 9 (wire type 0)"
    );
}

#[test]
fn groups_and_fixed_width_unknowns_are_skipped() {
    let mut bytes = text_info().encode_to_vec();
    // Field 200 as a group holding a varint field, then fixed32 and fixed64 unknowns.
    prost::encoding::encode_key(200, prost::encoding::WireType::StartGroup, &mut bytes);
    push_varint_field(&mut bytes, 1, 7);
    prost::encoding::encode_key(200, prost::encoding::WireType::EndGroup, &mut bytes);
    prost::encoding::fixed32::encode(201, &7, &mut bytes);
    prost::encoding::fixed64::encode(202, &7, &mut bytes);
    let decoded = decode_web_message_info(&bytes).unwrap();
    let fields: Vec<_> = decoded.unknowns.iter().map(|u| (u.field, u.kind)).collect();
    assert_eq!(
        fields,
        vec![
            (200, UnknownKind::Field { wire_type: 3 }),
            (201, UnknownKind::Field { wire_type: 5 }),
            (202, UnknownKind::Field { wire_type: 1 }),
        ]
    );
}

#[test]
fn malformed_bytes_are_errors_not_panics() {
    let bytes = text_info().encode_to_vec();
    // Truncated at every length: never a panic; an error or a shorter message.
    for end in 0..bytes.len() {
        let _ = decode_web_message_info(&bytes[..end]);
    }
    assert!(matches!(
        decode_web_message_info(&[0x0a, 0x05, 0x01]),
        Err(ProtoError::Malformed { .. })
    ));
    assert!(matches!(
        decode_web_message_info(&[0x07]),
        Err(ProtoError::Malformed { .. })
    ));
    assert!(matches!(
        unknowns("proto.NoSuchMessage", &[]),
        Err(ProtoError::UnknownMessage(_))
    ));
    // A missing `required key` is not an error either: prost does not enforce proto2 `required`.
    let empty = decode_web_message_info(&[]).unwrap();
    assert_eq!(empty.info, WebMessageInfo::default());
    assert!(empty.unknowns.is_empty());
    // Invalid UTF-8 in a string field passes the walker but prost refuses it.
    assert!(matches!(
        decode_web_message_info(&[0x2a, 0x01, 0xff]),
        Err(ProtoError::Decode { .. })
    ));
}

#[test]
fn deep_nesting_is_bounded() {
    // message.extendedTextMessage.contextInfo.quotedMessage... nested far past any real message.
    let mut message = Message::from_text("bottom");
    for _ in 0..40 {
        message = Message::quoted_reply(
            "up",
            &WebMessageInfo {
                message: Some(message),
                ..text_info()
            },
            "me",
        );
    }
    let info = WebMessageInfo {
        message: Some(message),
        ..text_info()
    };
    let bytes = info.encode_to_vec();
    // 40 quotes are 120 nested messages: deeper than prost's recursion limit (100) and ours.
    assert!(decode_web_message_info(&bytes).is_err());
    assert!(matches!(
        unknowns("proto.WebMessageInfo", &bytes),
        Err(ProtoError::TooDeep { .. })
    ));
}
