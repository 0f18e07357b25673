//! What the page shows, built from the client's store: chats, messages, contacts.

use serde_json::{Map, Value, json};
use waweb_client::{Ack, Chat, Jid, Message, PresenceKind, Store};
use waweb_proto::MessageKind;
use waweb_proto::proto::Message as WaMessage;

/// The form of a JID the page uses: users as `…@c.us`, everything else as is, so that one chat
/// has one key whichever form the wire used.
pub(crate) fn ui_jid(jid: &Jid) -> String {
    if jid.is_user() {
        format!("{}@c.us", jid.user)
    } else {
        jid.to_string()
    }
}

/// The name to show for a JID: contact or chat name, else `+number`.
pub(crate) fn name_of(store: &Store, jid: &Jid) -> String {
    store
        .contact_name(jid)
        .map_or_else(|| format!("+{}", jid.user), str::to_owned)
}

/// A chat (docs/web.md, ChatView).
pub(crate) fn chat_view(store: &Store, chat: &Chat, now: u64) -> Value {
    let last = store.last_messages(&chat.jid, 1).into_iter().next();
    let t = chat
        .t
        .unwrap_or_default()
        .max(last.map_or(0, |m| m.timestamp));
    json!({
        "jid": ui_jid(&chat.jid),
        "name": chat.name.clone().unwrap_or_else(|| name_of(store, &chat.jid)),
        "is_group": chat.jid.is_group(),
        "unread": chat.count,
        "t": t,
        "pinned": chat.pin.is_some_and(|p| p > 0),
        "archived": chat.archive,
        "muted": chat.mute.is_some_and(|m| m > now),
        "last": last.map(|m| json!({
            "text": preview(m),
            "from_me": m.from_me,
            "status": status_name(m),
            "t": m.timestamp,
        })),
    })
}

/// Every chat in the store.
pub(crate) fn all_chats(store: &Store, now: u64) -> Vec<Value> {
    store
        .chats()
        .into_iter()
        .map(|c| chat_view(store, c, now))
        .collect()
}

/// Contact names by page JID.
pub(crate) fn contacts(store: &Store) -> Value {
    let map: Map<String, Value> = store
        .contacts()
        .filter_map(|c| {
            let jid = c.jid.as_ref()?;
            Some((ui_jid(jid), Value::String(c.display_name()?.to_owned())))
        })
        .collect();
    Value::Object(map)
}

/// The URL of this server that serves a message's media.
pub(crate) fn media_url(chat: &Jid, id: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("chat", &ui_jid(chat))
        .append_pair("id", id)
        .finish();
    format!("/api/media?{query}")
}

/// A message (docs/web.md, MsgView).
pub(crate) fn message_view(store: &Store, own: Option<&Jid>, m: &Message) -> Value {
    let outer = m.info.message.as_ref();
    let inner = outer.map(|o| o.inner().unwrap_or(o));
    let kind = inner.map_or(MessageKind::Empty, WaMessage::kind);
    let sender = if m.from_me {
        own.cloned()
    } else {
        Some(m.participant.clone().unwrap_or_else(|| m.chat.clone()))
    };
    let sender_name = if m.from_me {
        "You".to_owned()
    } else {
        sender
            .as_ref()
            .and_then(|s| store.contact_name(s).map(str::to_owned))
            .or_else(|| m.info.push_name.clone())
            .or_else(|| sender.as_ref().map(|s| format!("+{}", s.user)))
            .unwrap_or_default()
    };
    let media = m.info.media().map(|md| {
        let file_name = inner
            .and_then(|i| i.document_message.as_deref())
            .and_then(|d| d.file_name.clone());
        json!({
            "mimetype": md.mimetype,
            "file_name": file_name,
            "size": md.file_length,
            "url": media_url(&m.chat, &m.id),
        })
    });
    let location = inner.and_then(|i| {
        if let Some(l) = i.location_message.as_deref() {
            Some(
                json!({"lat": l.degrees_latitude, "lng": l.degrees_longitude,
                "name": l.name.clone().or_else(|| l.address.clone())}),
            )
        } else {
            i.live_location_message.as_deref().map(|l| {
                json!({"lat": l.degrees_latitude, "lng": l.degrees_longitude,
                    "name": l.caption})
            })
        }
    });
    let contact = inner
        .and_then(|i| i.contact_message.as_deref())
        .map(|c| json!({"display_name": c.display_name, "vcard": c.vcard}));
    let quoted = inner.and_then(WaMessage::context_info).and_then(|ci| {
        let q = ci.quoted_message.as_deref()?;
        let qsender = ci
            .participant
            .as_deref()
            .and_then(|p| p.parse::<Jid>().ok());
        let from_me = qsender
            .as_ref()
            .zip(own)
            .is_some_and(|(a, b)| a.normalized() == b.normalized());
        Some(json!({
            "id": ci.stanza_id,
            "sender_name": if from_me { "You".to_owned() } else {
                qsender.as_ref().map(|s| name_of(store, s)).unwrap_or_default()
            },
            "text": q.text().map(str::to_owned).unwrap_or_else(|| kind_label(q.kind()).to_owned()),
        }))
    });
    json!({
        "id": m.id,
        "chat": ui_jid(&m.chat),
        "from_me": m.from_me,
        "sender": sender.as_ref().map(ui_jid),
        "sender_name": sender_name,
        "t": m.timestamp,
        "status": status_name(m),
        "kind": kind_name(kind),
        "text": m.text(),
        "quoted": quoted,
        "media": media,
        "location": location,
        "contact": contact,
    })
}

fn status_name(m: &Message) -> Option<&'static str> {
    let ack = m.status()?;
    Some(match ack {
        Ack::Error => "error",
        Ack::Pending => "pending",
        Ack::Server => "server",
        Ack::Delivered => "delivered",
        Ack::Read => "read",
        _ => "played",
    })
}

fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Conversation | MessageKind::ExtendedText => "text",
        MessageKind::Image => "image",
        MessageKind::Sticker => "sticker",
        MessageKind::Video => "video",
        MessageKind::Audio => "audio",
        MessageKind::Document => "document",
        MessageKind::Location | MessageKind::LiveLocation => "location",
        MessageKind::Contact | MessageKind::ContactsArray => "contact",
        _ => "other",
    }
}

/// A label for a message without text.
fn kind_label(kind: MessageKind) -> &'static str {
    match kind_name(kind) {
        "image" => "📷 Photo",
        "sticker" => "Sticker",
        "video" => "🎥 Video",
        "audio" => "🎤 Audio",
        "document" => "📄 Document",
        "location" => "📍 Location",
        "contact" => "👤 Contact",
        "text" => "",
        _ => "Message",
    }
}

/// The chat list's one-line preview of a message.
fn preview(m: &Message) -> String {
    let kind = m
        .info
        .message
        .as_ref()
        .map_or(MessageKind::Empty, |o| o.inner().unwrap_or(o).kind());
    let label = kind_label(kind);
    match (m.text(), label.is_empty()) {
        (Some(t), true) => t.to_owned(),
        (Some(t), false) => format!("{label}: {t}"),
        (None, _) => label.to_owned(),
    }
}

/// A presence kind as the page names it.
pub(crate) fn presence_name(kind: &PresenceKind) -> String {
    match kind {
        PresenceKind::Available => "available".into(),
        PresenceKind::Unavailable => "unavailable".into(),
        PresenceKind::Composing => "composing".into(),
        PresenceKind::Recording => "recording".into(),
        PresenceKind::Paused => "paused".into(),
        PresenceKind::Other(s) => s.clone(),
        _ => "other".into(),
    }
}
