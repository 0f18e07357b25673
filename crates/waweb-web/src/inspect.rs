//! The inspector's view of a frame: JSON as JSON, binary nodes as trees with their protobuf
//! messages expanded, secrets redacted unless asked for. Usable on its own, e.g. to turn frames
//! recorded with a [`FrameTap`](waweb_transport::FrameTap) into a capture.

use serde_json::{Map, Value, json};
use waweb_binary::{Content, Node};
use waweb_session::{Direction, FrameRecord, RecordBody};

/// What replaces a secret.
pub(crate) const REDACTED: &str = "<redacted>";

/// Object keys whose values are secrets wherever they appear: the login secret and tokens of
/// `Conn`, and the media keys inside messages.
const SECRET_KEYS: [&str; 6] = [
    "secret",
    "clientToken",
    "serverToken",
    "browserToken",
    "mediaKey",
    "encKey",
];

/// One retained frame.
#[derive(Clone, Debug)]
pub(crate) struct FrameEntry {
    /// Position in this server's lifetime, from 1.
    pub(crate) seq: u64,
    /// When it was handled, Unix milliseconds.
    pub(crate) t_ms: u64,
    /// The frame.
    pub(crate) record: FrameRecord,
}

/// The JSON view of a retained frame (see docs/web.md, FrameView).
pub(crate) fn frame_view(entry: &FrameEntry, secrets: bool) -> Value {
    let mut v = record_json(&entry.record, secrets);
    if let Some(o) = v.as_object_mut() {
        o.insert("seq".into(), entry.seq.into());
        o.insert("t_ms".into(), entry.t_ms.into());
    }
    v
}

/// A frame record as the inspector shows it: `dir`, `tag`, `kind`, `size`, `metric`, `flags`,
/// `summary`, and one of `json`, `node` (with `message` protobufs decoded), `text` or `error`.
/// Without `secrets`, login secrets, tokens and media keys are replaced by `"<redacted>"` and
/// `redacted` says whether anything was.
#[must_use]
pub fn record_json(r: &FrameRecord, secrets: bool) -> Value {
    let mut redacted = false;
    let (json, node, text, error, metric, flags) = match &r.body {
        RecordBody::Json(v) => {
            let mut v = v.clone();
            if !secrets {
                redacted = redact_json(&mut v);
            }
            (Some(v), None, None, None, None, None)
        }
        RecordBody::Node {
            node,
            metric,
            flags,
        } => {
            let mut v = node_json(node);
            if !secrets {
                redacted = redact_secret_keys(&mut v);
            }
            (
                None,
                Some(v),
                None,
                None,
                metric.map(|m| m.0),
                flags.map(|f| f.0),
            )
        }
        RecordBody::Text(t) => (None, None, Some(t.clone()), None, None, None),
        RecordBody::Unreadable(e) => (None, None, None, Some(e.clone()), None, None),
        _ => (
            None,
            None,
            None,
            Some("unknown record".to_owned()),
            None,
            None,
        ),
    };
    let summary = summary(&r.body, json.as_ref());
    json!({
        "dir": match r.direction { Direction::In => "in", Direction::Out => "out" },
        "tag": r.tag,
        "kind": r.body.kind(),
        "size": r.size,
        "metric": metric,
        "flags": flags,
        "summary": summary,
        "json": json,
        "node": node,
        "text": text,
        "error": error,
        "redacted": redacted,
    })
}

/// A node in the codec's JSON form, with the bytes of each `message` child replaced by the
/// decoded `WebMessageInfo` (`{"WebMessageInfo": {...}}`), or by `{"hex", "protobuf_error"}` when
/// they do not decode.
#[must_use]
pub fn node_json(node: &Node) -> Value {
    let attrs: Map<String, Value> = node
        .attrs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let content = match &node.content {
        None => Value::Null,
        Some(Content::Text(t)) => Value::String(t.clone()),
        Some(Content::List(children)) => Value::Array(children.iter().map(node_json).collect()),
        Some(Content::Bytes(b)) if node.tag == "message" => {
            match waweb_proto::decode_web_message_info(b) {
                Ok(d) => match serde_json::to_value(&d.info) {
                    Ok(mut v) => {
                        prune(&mut v);
                        json!({ "WebMessageInfo": v })
                    }
                    Err(e) => json!({ "hex": hex::encode(b), "protobuf_error": e.to_string() }),
                },
                Err(e) => json!({ "hex": hex::encode(b), "protobuf_error": e.to_string() }),
            }
        }
        Some(Content::Bytes(b)) => json!({ "hex": hex::encode(b) }),
    };
    json!([node.tag, attrs, content])
}

/// Drops the fields a protobuf message does not set (`null`, `[]`) so that only what was on the
/// wire is shown.
fn prune(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, f| !(f.is_null() || f.as_array().is_some_and(Vec::is_empty)));
            map.values_mut().for_each(prune);
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

/// Redacts the secrets of a JSON frame; `true` when something was replaced.
///
/// Positional secrets: `["admin","login",clientToken,serverToken,clientId,"takeover"]` and
/// `["admin","challenge",answer,serverToken,clientId]`. Keyed secrets anywhere: see
/// [`SECRET_KEYS`].
pub(crate) fn redact_json(v: &mut Value) -> bool {
    let mut changed = false;
    if let Some(arr) = v.as_array_mut() {
        let admin = arr.first().and_then(Value::as_str) == Some("admin");
        let kind = arr.get(1).and_then(Value::as_str).unwrap_or_default();
        if admin && (kind == "login" || kind == "challenge") {
            for i in [2, 3] {
                if let Some(slot) = arr.get_mut(i)
                    && slot.is_string()
                {
                    *slot = Value::String(REDACTED.into());
                    changed = true;
                }
            }
        }
    }
    redact_secret_keys(v) || changed
}

/// Replaces the values of [`SECRET_KEYS`] at any depth; `true` when something was replaced.
pub(crate) fn redact_secret_keys(v: &mut Value) -> bool {
    match v {
        Value::Object(map) => {
            let mut changed = false;
            for (k, val) in map.iter_mut() {
                if SECRET_KEYS.contains(&k.as_str()) && !val.is_null() {
                    *val = Value::String(REDACTED.into());
                    changed = true;
                } else {
                    changed |= redact_secret_keys(val);
                }
            }
            changed
        }
        Value::Array(items) => {
            let mut changed = false;
            for i in items {
                changed |= redact_secret_keys(i);
            }
            changed
        }
        _ => false,
    }
}

/// A one-line description for the frame list.
fn summary(body: &RecordBody, redacted_json: Option<&Value>) -> String {
    let s = match body {
        RecordBody::Json(_) => redacted_json.map(Value::to_string).unwrap_or_default(),
        RecordBody::Node { node, .. } => node_summary(node),
        RecordBody::Text(t) => t.clone(),
        RecordBody::Unreadable(e) => e.clone(),
        _ => String::new(),
    };
    truncate(s, 160)
}

fn node_summary(node: &Node) -> String {
    let mut s = format!("<{}", node.tag);
    for (k, v) in &node.attrs {
        s.push_str(&format!(" {k}={v}"));
    }
    s.push('>');
    if let Some(Content::List(children)) = &node.content {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for c in children {
            match counts.iter_mut().find(|(t, _)| *t == c.tag) {
                Some((_, n)) => *n += 1,
                None => counts.push((&c.tag, 1)),
            }
        }
        for (tag, n) in counts {
            s.push_str(&format!(" {tag}×{n}"));
        }
    }
    s
}

fn truncate(mut s: String, max: usize) -> String {
    if s.chars().count() > max {
        s = s.chars().take(max).collect();
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use waweb_proto::prost::Message as _;
    use waweb_proto::proto::{Message as WaMessage, WebMessageInfo};

    fn entry(direction: Direction, body: RecordBody) -> FrameEntry {
        FrameEntry {
            seq: 7,
            t_ms: 1_700_000_000_000,
            record: record(direction, body),
        }
    }

    fn record(direction: Direction, body: RecordBody) -> FrameRecord {
        FrameRecord::new(direction, Some("s1".into()), 99, body)
    }

    #[test]
    fn conn_secrets_are_redacted_unless_asked_for() {
        let conn = json!(["Conn", {"ref": "r", "secret": "S3CR3T", "clientToken": "CT",
            "serverToken": "ST", "browserToken": "BT", "wid": "1@c.us"}]);
        let e = entry(Direction::In, RecordBody::Json(conn));
        let v = frame_view(&e, false);
        let text = v.to_string();
        for s in ["S3CR3T", "\"CT\"", "\"ST\"", "\"BT\""] {
            assert!(!text.contains(s), "{s} leaked: {text}");
        }
        assert_eq!(v["redacted"], true);
        assert_eq!(v["json"][1]["wid"], "1@c.us");
        assert_eq!(v["kind"], "json");
        assert_eq!(v["dir"], "in");
        let with = frame_view(&e, true);
        assert_eq!(with["json"][1]["secret"], "S3CR3T");
        assert_eq!(with["redacted"], false);
    }

    #[test]
    fn login_and_challenge_tokens_are_redacted_by_position() {
        for kind in ["login", "challenge"] {
            let mut v = json!(["admin", kind, "A", "B", "client-id", "takeover"]);
            assert!(redact_json(&mut v));
            assert_eq!(
                v,
                json!(["admin", kind, REDACTED, REDACTED, "client-id", "takeover"])
            );
        }
        let mut init = json!(["admin", "init", [2, 2142, 12], ["a", "b"], "id", true]);
        assert!(!redact_json(&mut init));
    }

    #[test]
    fn message_children_expand_to_web_message_info_and_media_keys_are_redacted() {
        let mut info = WebMessageInfo::default();
        info.key.id = Some("3EB0AA".into());
        info.key.remote_jid = Some("1@s.whatsapp.net".into());
        let mut msg = WaMessage::from_text("hello inspector");
        msg.image_message = Some(Box::default());
        if let Some(img) = msg.image_message.as_mut() {
            img.media_key = Some(vec![1; 32]);
        }
        info.message = Some(msg);
        let node = Node::new("action")
            .attr("add", "relay")
            .children(vec![Node::new("message").bytes(info.encode_to_vec())]);
        let e = entry(
            Direction::In,
            RecordBody::Node {
                node,
                metric: None,
                flags: None,
            },
        );
        let v = frame_view(&e, false);
        let wmi = &v["node"][2][0][2]["WebMessageInfo"];
        assert_eq!(wmi["key"]["id"], "3EB0AA");
        assert_eq!(wmi["message"]["conversation"], "hello inspector");
        assert_eq!(wmi["message"]["imageMessage"]["mediaKey"], REDACTED);
        // Only what is set is shown.
        assert!(wmi.get("status").is_none() && wmi.get("labels").is_none());
        assert!(wmi["message"].get("audioMessage").is_none());
        assert_eq!(v["summary"], "<action add=relay> message×1");
        assert_eq!(v["redacted"], true);
    }

    #[test]
    fn undecodable_message_bytes_stay_hex_with_the_error() {
        let node = Node::new("message").bytes(vec![0xff, 0xff, 0xff]);
        let v = node_json(&node);
        assert_eq!(v[2]["hex"], "ffffff");
        assert!(v[2]["protobuf_error"].is_string());
    }

    #[test]
    fn long_summaries_are_cut() {
        let e = entry(Direction::Out, RecordBody::Text("x".repeat(500)));
        let v = frame_view(&e, false);
        assert_eq!(v["summary"].as_str().unwrap().chars().count(), 161);
        assert_eq!(v["text"].as_str().unwrap().len(), 500);
    }
}
