//! The messages the server sends, built from the account: `Conn`, `Stream`, `Props`, the init
//! reply, and the binary nodes of the first burst.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use waweb_binary::Node;
use waweb_proto::prost::Message as _;
use waweb_proto::proto::WebMessageInfo;

use crate::account::{Account, to_json_jid, to_wire_jid};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    now_ms() / 1000
}

/// `n` random bytes as standard base64.
pub(crate) fn random_b64(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS generator does not fail in practice; fall back to the clock rather than panic.
    if waweb_crypto::primitives::random_bytes(&mut buf).is_err() {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (now_ms() >> (i % 8)) as u8 ^ (i as u8);
        }
    }
    B64.encode(buf)
}

/// A fresh ref: `1@` followed by random base64 (no commas, so it fits the QR string).
pub(crate) fn new_ref() -> String {
    format!("1@{}", random_b64(48))
}

/// The version triple as `a.b.c`.
pub(crate) fn version_string(v: (u32, u32, u32)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// The init reply: `{"status":200,"ref":...,"ttl":...,"update":false,"curr":...,"time":...}`.
pub(crate) fn init_reply(server_ref: &str, ttl_ms: u64, curr: &str) -> Value {
    json!({
        "status": 200,
        "ref": server_ref,
        "ttl": ttl_ms,
        "update": false,
        "curr": curr,
        "time": now_ms() as f64,
    })
}

/// The tokens one `Conn` carries.
pub(crate) struct Tokens<'a> {
    pub(crate) client: &'a str,
    pub(crate) server: &'a str,
    pub(crate) browser: &'a str,
}

/// `["Conn",{...}]` with every field clients read; `secret` only after a QR scan.
pub(crate) fn conn(account: &Account, tokens: &Tokens<'_>, secret: Option<&str>) -> Value {
    let p = &account.phone;
    let mut info = json!({
        "ref": new_ref(),
        "wid": account.json_wid(),
        "connected": true,
        "isResponse": "false",
        "serverToken": tokens.server,
        "browserToken": tokens.browser,
        "clientToken": tokens.client,
        "lc": account.lc,
        "lg": account.lg,
        "locales": account.locales,
        "is24h": true,
        "protoVersion": [0, 17],
        "binVersion": 10,
        "battery": account.battery,
        "plugged": account.plugged,
        "platform": account.platform,
        "features": { "KEY_PARTICIPANT": true, "FLAGS": "EAEYAigBOAFAAUgBWAFgAWgBeAGYAQGgAQGwAQG4AQHIAQHYAQHoAQL4AQI=" },
        "phone": {
            "wa_version": p.wa_version,
            "mcc": p.mcc,
            "mnc": p.mnc,
            "os_version": p.os_version,
            "device_manufacturer": p.device_manufacturer,
            "device_model": p.device_model,
            "os_build_number": p.os_build_number,
        },
        "pushname": account.pushname,
        "tos": account.tos,
    });
    if let (Some(s), Some(obj)) = (secret, info.as_object_mut()) {
        obj.insert("secret".into(), Value::String(s.to_owned()));
    }
    json!(["Conn", info])
}

/// `["Stream","update",false,"a.b.c"]`.
pub(crate) fn stream(version: &str) -> Value {
    json!(["Stream", "update", false, version])
}

/// `["Props",{...}]`.
pub(crate) fn props() -> Value {
    json!(["Props", {
        "imageMaxKBytes": 1024,
        "maxParticipants": 257,
        "videoMaxEdge": 960,
        "imageMaxEdge": 1600,
        "mediaMaxKBytes": 16384,
        "gifSearch": "tenor",
        "maxSubject": 25,
        "maxFileSize": 100,
        "webPresence": true,
        "webCleanup": 0,
        "stickers": true,
    }])
}

/// `["Cmd",{"type":"challenge","challenge":base64}]`.
pub(crate) fn challenge(challenge_b64: &str) -> Value {
    json!(["Cmd", { "type": "challenge", "challenge": challenge_b64 }])
}

/// `["Cmd",{"type":"update"}]`.
pub(crate) fn cmd_update() -> Value {
    json!(["Cmd", { "type": "update" }])
}

/// `["Cmd",{"type":"disconnect","kind":"replaced"}]`.
pub(crate) fn cmd_replaced() -> Value {
    json!(["Cmd", { "type": "disconnect", "kind": "replaced" }])
}

/// `{"status":N}`.
pub(crate) fn status(code: u16) -> Value {
    json!({ "status": code })
}

/// `["Msg",{"cmd":"ack","id":...,"ack":1,"from":own,"to":chat,"t":...}]` for a relayed message.
pub(crate) fn msg_ack(account: &Account, msg: &WebMessageInfo, ack: u8) -> Value {
    let mut body = json!({
        "cmd": "ack",
        "id": msg.key.id.clone().unwrap_or_default(),
        "ack": ack,
        "from": account.json_wid(),
        "to": to_json_jid(msg.key.remote_jid.as_deref().unwrap_or_default()),
        "t": now_secs(),
    });
    if let (Some(p), Some(obj)) = (&msg.key.participant, body.as_object_mut()) {
        obj.insert("participant".into(), Value::String(to_json_jid(p)));
    }
    json!(["Msg", body])
}

/// `response type=contacts` with one `user` child per contact.
pub(crate) fn contacts_node(account: &Account) -> Node {
    let users = account
        .contacts
        .iter()
        .map(|c| {
            let mut n = Node::new("user").attr("jid", to_wire_jid(&c.jid));
            if let Some(v) = &c.name {
                n = n.attr("name", v.clone());
            }
            if let Some(v) = &c.notify {
                n = n.attr("notify", v.clone());
            }
            if let Some(v) = &c.short {
                n = n.attr("short", v.clone());
            }
            n
        })
        .collect();
    Node::new("response")
        .attr("type", "contacts")
        .attr("checksum", "sim")
        .children(users)
}

/// `response type=chat` with one `chat` child per chat.
pub(crate) fn chats_node(account: &Account) -> Node {
    let chats = account
        .chats
        .iter()
        .map(|c| {
            let mut n = Node::new("chat")
                .attr("jid", to_wire_jid(&c.jid))
                .attr("t", c.t.to_string())
                .attr("count", c.count.to_string())
                .attr("spam", c.spam.to_string())
                .attr("mute", c.mute.to_string())
                .attr("read_only", c.read_only.to_string())
                .attr("modify_tag", "0");
            if let Some(v) = &c.name {
                n = n.attr("name", v.clone());
            }
            if c.archive {
                n = n.attr("archive", "true");
            }
            if let Some(p) = c.pin {
                n = n.attr("pin", p.to_string());
            }
            n
        })
        .collect();
    Node::new("response")
        .attr("type", "chat")
        .attr("duplicate", "false")
        .children(chats)
}

/// An empty `response type=...` (status, quick_reply, label, emoji).
pub(crate) fn empty_response(kind: &str) -> Node {
    Node::new("response")
        .attr("type", kind)
        .children(Vec::new())
}

/// A `message` node carrying the protobuf bytes.
pub(crate) fn message_node(msg: &WebMessageInfo) -> Node {
    Node::new("message").bytes(msg.encode_to_vec())
}

/// `action add=<add>` with one `message` child per message.
pub(crate) fn action_messages<'a>(
    add: &str,
    msgs: impl IntoIterator<Item = &'a WebMessageInfo>,
) -> Node {
    Node::new("action")
        .attr("add", add)
        .children(msgs.into_iter().map(message_node).collect())
}

/// A plaintext that is not a valid node (a list of size 0).
pub(crate) const MALFORMED_NODE: &[u8] = &[0x00, 0xde, 0xad, 0xbe, 0xef];

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
    fn malformed_node_does_not_decode() {
        assert!(waweb_binary::decode_owned(MALFORMED_NODE).is_err());
    }

    #[test]
    fn conn_has_every_field_clients_read() {
        let a = Account::sample();
        let t = Tokens {
            client: "c",
            server: "s",
            browser: "b",
        };
        let v = conn(&a, &t, Some("secret"));
        let o = v[1].as_object().unwrap();
        for k in [
            "battery",
            "browserToken",
            "clientToken",
            "serverToken",
            "connected",
            "lc",
            "lg",
            "locales",
            "platform",
            "plugged",
            "pushname",
            "secret",
            "tos",
            "wid",
        ] {
            assert!(o.contains_key(k), "{k}");
        }
        for k in [
            "wa_version",
            "mcc",
            "mnc",
            "os_version",
            "device_manufacturer",
            "device_model",
            "os_build_number",
        ] {
            assert!(o["phone"].get(k).is_some(), "{k}");
        }
        assert!(conn(&a, &t, None)[1].get("secret").is_none());
    }

    #[test]
    fn nodes_encode() {
        let a = Account::sample();
        for n in [
            contacts_node(&a),
            chats_node(&a),
            action_messages("last", &a.messages),
        ] {
            let bytes = waweb_binary::encode(&n).unwrap();
            assert_eq!(waweb_binary::decode_owned(&bytes).unwrap().tag, n.tag);
        }
    }
}
