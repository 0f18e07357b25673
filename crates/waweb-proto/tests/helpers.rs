//! The hand-written helpers: building messages to send, reading text and media whatever the kind.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use prost::Message as _;
use waweb_proto::proto::{
    DocumentMessage, FutureProofMessage, ImageMessage, Message, MessageKey, WebMessageInfo,
    web_message_info::Status,
};
use waweb_proto::{MediaKind, MessageKind};

const ME: &str = "491700000001@s.whatsapp.net";
const PEER: &str = "491700000002@s.whatsapp.net";
const GROUP: &str = "491700000001-1509911919@g.us";

#[test]
fn outgoing_text_has_the_relay_shape() {
    let info =
        WebMessageInfo::outgoing(PEER, "3EB0D1CE", 1_600_000_000, Message::from_text("hello"));
    assert_eq!(
        info.key,
        MessageKey {
            remote_jid: Some(PEER.into()),
            from_me: Some(true),
            id: Some("3EB0D1CE".into()),
            participant: None,
        }
    );
    assert_eq!(info.status(), Status::Pending);
    assert_eq!(info.message_timestamp, Some(1_600_000_000));
    assert_eq!(info.kind(), MessageKind::Conversation);
    assert_eq!(info.text(), Some("hello"));
    // Byte layout: key, message{conversation}, timestamp, status.
    let expected = [
        &[0x0a, 0x29, 0x0a, 0x1b][..],
        PEER.as_bytes(),
        &[0x10, 0x01, 0x1a, 0x08],
        b"3EB0D1CE",
        &[0x12, 0x07, 0x0a, 0x05],
        b"hello",
        &[0x18, 0x80, 0xa0, 0xf8, 0xfa, 0x05],
        &[0x20, 0x01],
    ]
    .concat();
    assert_eq!(info.encode_to_vec(), expected);
}

#[test]
fn quoted_reply_in_a_group_names_the_participant() {
    let quoted = WebMessageInfo {
        key: MessageKey {
            remote_jid: Some(GROUP.into()),
            from_me: Some(false),
            id: Some("ABCDEF0123".into()),
            participant: Some(PEER.into()),
        },
        message: Some(Message::from_text("lunch?")),
        ..WebMessageInfo::default()
    };
    let reply = Message::quoted_reply("yes!", &quoted, ME);
    assert_eq!(reply.kind(), MessageKind::ExtendedText);
    assert_eq!(reply.text(), Some("yes!"));
    let context = reply.context_info().unwrap();
    assert_eq!(context.stanza_id.as_deref(), Some("ABCDEF0123"));
    assert_eq!(context.participant.as_deref(), Some(PEER));
    assert_eq!(context.quoted_message.as_deref(), quoted.message.as_ref());
    assert_eq!(
        context.quoted_message.as_deref().and_then(Message::text),
        Some("lunch?")
    );
}

#[test]
fn quoted_reply_authors() {
    let mut quoted = WebMessageInfo {
        key: MessageKey {
            remote_jid: Some(PEER.into()),
            from_me: Some(true),
            id: Some("X".into()),
            participant: None,
        },
        message: Some(Message::from_text("mine")),
        ..WebMessageInfo::default()
    };
    // Our own message: the author is us.
    let reply = Message::quoted_reply("re", &quoted, ME);
    assert_eq!(
        reply.context_info().unwrap().participant.as_deref(),
        Some(ME)
    );
    // A peer's message in a one-to-one chat: the author is the chat.
    quoted.key.from_me = Some(false);
    let reply = Message::quoted_reply("re", &quoted, ME);
    assert_eq!(
        reply.context_info().unwrap().participant.as_deref(),
        Some(PEER)
    );
}

#[test]
fn mentions() {
    let message = Message::text_with_mentions("hi @491700000002", [PEER.to_owned()]);
    assert_eq!(message.text(), Some("hi @491700000002"));
    assert_eq!(
        message.context_info().unwrap().mentioned_jid,
        vec![PEER.to_owned()]
    );
}

#[test]
fn wrappers_are_looked_through() {
    let image = ImageMessage {
        caption: Some("once".into()),
        media_key: Some(vec![7; 32]),
        url: Some("https://mmg.whatsapp.net/d/f/x.enc".into()),
        ..ImageMessage::default()
    };
    let inner = Message {
        image_message: Some(Box::new(image)),
        ..Message::default()
    };
    let view_once = Message {
        view_once_message: Some(Box::new(FutureProofMessage {
            message: Some(Box::new(inner.clone())),
        })),
        ..Message::default()
    };
    assert_eq!(view_once.kind(), MessageKind::ViewOnce);
    assert_eq!(view_once.inner(), Some(&inner));
    assert_eq!(view_once.text(), Some("once"));
    let media = view_once.media().unwrap();
    assert_eq!(media.kind, MediaKind::Image);
    assert_eq!(media.media_key, Some(&[7u8; 32][..]));
    assert_eq!(media.kind.hkdf_info(), "WhatsApp Image Keys");
    assert_eq!(media.kind.upload_path(), "image");
}

#[test]
fn document_text_and_media() {
    let message = Message {
        document_message: Some(Box::new(DocumentMessage {
            file_name: Some("a.pdf".into()),
            mimetype: Some("application/pdf".into()),
            file_length: Some(10),
            ..DocumentMessage::default()
        })),
        ..Message::default()
    };
    assert_eq!(message.text(), Some("a.pdf"));
    let media = message.media().unwrap();
    assert_eq!(
        (media.kind, media.mimetype, media.file_length),
        (MediaKind::Document, Some("application/pdf"), Some(10))
    );
    assert_eq!(MediaKind::Document.hkdf_info(), "WhatsApp Document Keys");
    assert_eq!(MediaKind::Audio.hkdf_info(), "WhatsApp Audio Keys");
    assert_eq!(MediaKind::Video.hkdf_info(), "WhatsApp Video Keys");
}

#[test]
fn empty_and_auxiliary_messages() {
    assert_eq!(Message::default().kind(), MessageKind::Empty);
    assert_eq!(Message::default().text(), None);
    assert_eq!(Message::default().media(), None);
    let only_sender_key = Message {
        sender_key_distribution_message: Some(Default::default()),
        ..Message::default()
    };
    assert_eq!(only_sender_key.kind(), MessageKind::SenderKeyDistribution);
    let with_text = Message {
        conversation: Some("t".into()),
        ..only_sender_key
    };
    assert_eq!(with_text.kind(), MessageKind::Conversation);
}
