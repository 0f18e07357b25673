//! Decoding `WebMessageInfo` bytes that other software produced: the real service (captures of
//! 2020) and the test suite of another client (adiwajshing/Baileys, `src/Tests/Tests.Binary.ts`).
//! Every field of the chosen messages is checked, and every captured message must decode with
//! no unknown field, no unknown enum value, and re-encode to the very same bytes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use prost::Message as _;
use waweb_proto::proto::{WebMessageInfo, web_message_info::Status, web_message_info::StubType};
use waweb_proto::{MediaKind, MessageKind, decode_web_message_info};

/// The first Baileys vector: an `action` node whose children are four `message` nodes. Framing:
/// `f8 06` LIST_8 of 6 (tag `09`, two attributes `2f 5a`, `0a 10`), then `f8 04` the children
/// list, then each child `f8 02 34` (LIST_8 of 2, token 0x34 "message") and `fc <len>` (BINARY_8)
/// with the protobuf.
const BAILEYS_NODE: &str = "f806092f5a0a10f804f80234fc6c0a350a1b39313735323938373131313740732e77686174736170702e6e657410011a143345423030393637354537454433374141424632122b0a292a7069616e6f20726f6f6d2074696d696e6773206172653a2a0a20363a3030414d2d31323a3030414d18b3faa7f3052003f80234fc4c0a410a1b39313735323938373131313740732e77686174736170702e6e657410001a20304643454335333330463634393239433645394132434646443242433845414418bdfaa7f305c00101f80234fc930a350a1b39313735323938373131313740732e77686174736170702e6e657410011a14334542303033433742353339414644303937353312520a50536f727279206672656e2c204920636f756c646e277420756e6465727374616e6420274c69627261272e2054797065202768656c702720746f206b6e6f77207768617420616c6c20492063616e20646f18c1faa7f3052003f80234fc540a410a1b39313735323938373131313740732e77686174736170702e6e657410001a20413132333042384436423041314437393345433241453245413043313638443812090a076c69627261727918c2faa7f305";

/// The first `message` child of [`BAILEYS_NODE`] cut out by hand, laid out field by field.
const BAILEYS_FIRST: &[&str] = &[
    "0a 35", // 1 key, length 53
    "0a 1b", //   1 remoteJid, 27 bytes
    "39 31 37 35 32 39 38 37 31 31 31 37 40 73 2e 77 68 61 74 73 61 70 70 2e 6e 65 74",
    "10 01", //   2 fromMe: true
    "1a 14", //   3 id, 20 bytes
    "33 45 42 30 30 39 36 37 35 45 37 45 44 33 37 41 41 42 46 32",
    "12 2b", // 2 message, length 43
    "0a 29", //   1 conversation, 41 bytes
    "2a 70 69 61 6e 6f 20 72 6f 6f 6d 20 74 69 6d 69 6e 67 73 20 61 72 65 3a 2a 0a",
    "20 36 3a 30 30 41 4d 2d 31 32 3a 30 30 41 4d",
    "18 b3 fa a7 f3 05", // 3 messageTimestamp, varint
    "20 03",             // 4 status: DELIVERY_ACK
];

fn unhex(parts: &[&str]) -> Vec<u8> {
    let joined: String = parts
        .concat()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    hex::decode(joined).expect("test hex")
}

/// The contents of every `message` child in a node's bytes (`f8 02 34` then BINARY_8/BINARY_20).
fn message_payloads(node: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 < node.len() {
        if node[i..i + 3] == [0xf8, 0x02, 0x34] {
            let (len, start) = match node[i + 3] {
                0xfc => (usize::from(node[i + 4]), i + 5),
                0xfd => {
                    let len = (usize::from(node[i + 4] & 0x0f) << 16)
                        | (usize::from(node[i + 5]) << 8)
                        | usize::from(node[i + 6]);
                    (len, i + 7)
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            out.push(&node[start..start + len]);
            i = start + len;
        } else {
            i += 1;
        }
    }
    out
}

/// Decodes, insists nothing was unknown, and re-encodes to the same bytes.
fn decode_exact(bytes: &[u8]) -> WebMessageInfo {
    let decoded = decode_web_message_info(bytes).expect("decodes");
    assert!(
        decoded.unknowns.is_empty(),
        "unknowns: {:?}",
        decoded.unknowns
    );
    assert_eq!(
        decoded.info.encode_to_vec(),
        bytes,
        "re-encoding changes the bytes"
    );
    decoded.info
}

#[test]
fn baileys_text_message_every_field() {
    let node = hex::decode(BAILEYS_NODE).unwrap();
    let payloads = message_payloads(&node);
    assert_eq!(payloads.len(), 4);
    let first = unhex(BAILEYS_FIRST);
    assert_eq!(first.len(), 0x6c);
    assert_eq!(
        payloads[0],
        first.as_slice(),
        "hand cut differs from the framing walk"
    );

    let info = decode_exact(&first);
    // Expected value of every field, read off the layout above.
    let key = &info.key;
    assert_eq!(
        key.remote_jid.as_deref(),
        Some("917529871117@s.whatsapp.net")
    );
    assert_eq!(key.from_me, Some(true));
    assert_eq!(key.id.as_deref(), Some("3EB009675E7ED37AABF2"));
    assert_eq!(key.participant, None);
    let message = info.message.as_ref().unwrap();
    assert_eq!(
        message.conversation.as_deref(),
        Some("*piano room timings are:*\n 6:00AM-12:00AM")
    );
    assert_eq!(message.kind(), MessageKind::Conversation);
    // 0xb3 0xfa 0xa7 0xf3 0x05: 0x33 | 0x7a << 7 | 0x27 << 14 | 0x73 << 21 | 0x05 << 28.
    let timestamp = 0x33 | (0x7a << 7) | (0x27 << 14) | (0x73 << 21) | (0x05 << 28);
    assert_eq!(info.message_timestamp, Some(timestamp));
    assert_eq!(info.message_timestamp, Some(1_584_004_403));
    assert_eq!(info.status, Some(Status::DeliveryAck as i32));
    assert_eq!(info.status(), Status::DeliveryAck);
    // Everything else is unset.
    let expected = WebMessageInfo {
        key: key.clone(),
        message: Some(message.clone()),
        message_timestamp: Some(timestamp),
        status: Some(3),
        ..WebMessageInfo::default()
    };
    assert_eq!(info, expected);
    assert_eq!(
        info.text(),
        Some("*piano room timings are:*\n 6:00AM-12:00AM")
    );
}

#[test]
fn baileys_revoke_stub_and_replies_every_field() {
    let node = hex::decode(BAILEYS_NODE).unwrap();
    let payloads = message_payloads(&node);

    // Second child: a stub. `c0 01` is the key of field 24 with wire type 0 (24 << 3 = 0xc0).
    let stub = decode_exact(payloads[1]);
    assert_eq!(
        stub,
        WebMessageInfo {
            key: waweb_proto::proto::MessageKey {
                remote_jid: Some("917529871117@s.whatsapp.net".into()),
                from_me: Some(false),
                id: Some("0FCEC5330F64929C6E9A2CFFD2BC8EAD".into()),
                participant: None,
            },
            message_timestamp: Some(1_584_004_413),
            message_stub_type: Some(StubType::Revoke as i32),
            ..WebMessageInfo::default()
        }
    );
    assert_eq!(stub.kind(), MessageKind::Empty);
    assert_eq!(stub.text(), None);

    let reply = decode_exact(payloads[2]);
    assert_eq!(
        reply.key.remote_jid.as_deref(),
        Some("917529871117@s.whatsapp.net")
    );
    assert_eq!(reply.key.from_me, Some(true));
    assert_eq!(reply.key.id.as_deref(), Some("3EB003C7B539AFD09753"));
    assert_eq!(reply.key.participant, None);
    assert_eq!(
        reply.text(),
        Some("Sorry fren, I couldn't understand 'Libra'. Type 'help' to know what all I can do")
    );
    assert_eq!(reply.message_timestamp, Some(1_584_004_417));
    assert_eq!(reply.status(), Status::DeliveryAck);

    let incoming = decode_exact(payloads[3]);
    assert_eq!(incoming.key.from_me, Some(false));
    assert_eq!(
        incoming.key.id.as_deref(),
        Some("A1230B8D6B0A1D793EC2AE2EA0C168D8")
    );
    assert_eq!(incoming.text(), Some("library"));
    assert_eq!(incoming.message_timestamp, Some(1_584_004_418));
    assert_eq!(incoming.status, None);
    assert_eq!(
        incoming.status(),
        Status::Error,
        "proto2 default is the first value"
    );
}

fn captured() -> Vec<Vec<u8>> {
    include_str!("data/captured-2020-messages.hex")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| hex::decode(line).expect("hex line"))
        .collect()
}

#[test]
fn captured_quoted_reply_every_field() {
    let bytes = &captured()[12];
    let info = decode_exact(bytes);
    assert_eq!(
        info.key.remote_jid.as_deref(),
        Some("6287882299700@s.whatsapp.net")
    );
    assert_eq!(info.key.from_me, Some(true));
    assert_eq!(info.key.id.as_deref(), Some("3A32194826E50BCBC986"));
    assert_eq!(info.message_timestamp, Some(1_532_443_702));
    assert_eq!(info.status(), Status::Read);

    let message = info.message.as_ref().unwrap();
    assert_eq!(message.kind(), MessageKind::ExtendedText);
    let extended = message.extended_text_message.as_deref().unwrap();
    assert_eq!(extended.text.as_deref(), Some("🤗🤗❤️"));
    let context = extended.context_info.as_deref().unwrap();
    assert_eq!(
        context.stanza_id.as_deref(),
        Some("AC02F2C053C8996E97748E2BC7340C25")
    );
    assert_eq!(
        context.participant.as_deref(),
        Some("6287882299700@s.whatsapp.net")
    );
    let quoted = context.quoted_message.as_deref().unwrap();
    assert_eq!(
        quoted.conversation.as_deref(),
        Some("Lg chat karo ko lg kangen🤪")
    );
    assert_eq!(message.context_info(), Some(context));
    // Nothing else is set anywhere.
    let mut bare_context = context.clone();
    bare_context.stanza_id = None;
    bare_context.participant = None;
    bare_context.quoted_message = None;
    assert_eq!(bare_context, Default::default());
    assert_eq!(info.message.as_ref().map(|m| m.encoded_len()), Some(118));
}

#[test]
fn captured_sticker_every_field() {
    let bytes = &captured()[218];
    let info = decode_exact(bytes);
    assert_eq!(
        info.key.remote_jid.as_deref(),
        Some("6289649724514@s.whatsapp.net")
    );
    assert_eq!(info.key.from_me, Some(false));
    assert_eq!(
        info.key.id.as_deref(),
        Some("249FAA8BBB21A5479C6CDE7649349DA2")
    );
    assert_eq!(info.message_timestamp, Some(1_584_875_421));
    assert_eq!(info.status, None);

    let message = info.message.as_ref().unwrap();
    assert_eq!(message.kind(), MessageKind::Sticker);
    let sticker = message.sticker_message.as_deref().unwrap();
    assert_eq!(
        sticker.url.as_deref(),
        Some("https://mmg-fna.whatsapp.net/d/f/Aj0UmydpC7qxObl8S2ZznMHZceWTA0kTkc6Zd98sMr2f.enc")
    );
    let sha =
        hex::decode("c6e6e15e920357f41daa700ab002f5fd1958ee02076653972cfcb23f72cb2b4d").unwrap();
    let enc_sha =
        hex::decode("239d09cf1b28d46970f98d803e0be9d7d1a233e6864948661d6568c8aa126f12").unwrap();
    let key =
        hex::decode("fa5ba5a9077e91d19ae0c0a2016375bfdada5b0802559e346e1def9469b0c171").unwrap();
    assert_eq!(sticker.file_sha256.as_deref(), Some(sha.as_slice()));
    assert_eq!(sticker.file_enc_sha256.as_deref(), Some(enc_sha.as_slice()));
    assert_eq!(sticker.media_key.as_deref(), Some(key.as_slice()));
    assert_eq!(sticker.mimetype.as_deref(), Some("image/webp"));
    assert_eq!(
        sticker.direct_path.as_deref(),
        Some(
            "/v/t62.15575-24/30566078_651710062067598_5291281211933348527_n.enc?oh=bff450efc704ddbfc4dfdc7658c1e886&oe=CF887619"
        )
    );
    assert_eq!(sticker.file_length, Some(23_838));
    assert_eq!(sticker.media_key_timestamp, Some(1_584_791_840));
    assert_eq!(sticker.is_animated, Some(false));
    for unset in [&sticker.height, &sticker.width, &sticker.first_frame_length] {
        assert_eq!(*unset, None);
    }
    assert_eq!(sticker.first_frame_sidecar, None);
    assert_eq!(sticker.png_thumbnail, None);
    assert_eq!(sticker.context_info, None);

    let media = info.media().unwrap();
    assert_eq!(media.kind, MediaKind::Sticker);
    assert_eq!(media.kind.hkdf_info(), "WhatsApp Image Keys");
    assert_eq!(media.media_key, Some(key.as_slice()));
    assert_eq!(media.file_length, Some(23_838));
}

#[test]
fn every_captured_message_decodes_exactly() {
    let all = captured();
    assert_eq!(all.len(), 410);
    let mut kinds = std::collections::BTreeMap::new();
    for (index, bytes) in all.iter().enumerate() {
        let decoded = decode_web_message_info(bytes).unwrap_or_else(|e| panic!("#{index}: {e}"));
        assert!(
            decoded.unknowns.is_empty(),
            "#{index}: {:?}",
            decoded.unknowns
        );
        assert_eq!(
            decoded.info.encode_to_vec(),
            *bytes,
            "#{index} re-encodes differently"
        );
        *kinds
            .entry(format!("{:?}", decoded.info.kind()))
            .or_insert(0) += 1;
    }
    // The capture holds text, quotes, images, stickers, documents, contacts and stubs.
    for kind in [
        "Conversation",
        "ExtendedText",
        "Image",
        "Sticker",
        "Document",
        "Contact",
        "Empty",
    ] {
        assert!(kinds.contains_key(kind), "no {kind} in {kinds:?}");
    }
}
