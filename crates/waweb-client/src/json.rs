//! JSON pushes to events.

use serde_json::{Map, Value};

use crate::event::{
    Ack, Command, ConnInfo, Event, GroupChange, GroupNotification, GroupSource, HandleError,
    Invalid, Presence, PresenceKind, ProfilePictureChange, Raw, Receipt, ReceiptSource,
    StatusChange, StreamState,
};
use crate::jid::Jid;

/// Turns one JSON push (`["Msg",{...}]`, `["Presence",{...}]`, ...) into events.
///
/// Every known push gives exactly one event; an unknown one (or a known one of an unknown shape)
/// gives [`Event::Raw`]; one with an unreadable JID or a missing field gives [`Event::Invalid`].
#[must_use]
pub fn events_from_json(value: &Value) -> Vec<Event> {
    let event = match read(value) {
        Ok(Some(event)) => event,
        Ok(None) => Event::Raw(Raw::Json(value.clone())),
        Err(error) => Event::Invalid(Invalid {
            error,
            input: Raw::Json(value.clone()),
        }),
    };
    vec![event]
}

fn read(value: &Value) -> Result<Option<Event>, HandleError> {
    let Some(array) = value.as_array() else {
        return Ok(None);
    };
    let Some(kind) = array.first().and_then(Value::as_str) else {
        return Ok(None);
    };
    let second = array.get(1);
    let object = second.and_then(Value::as_object);
    Ok(Some(match (kind, object) {
        ("Msg" | "MsgInfo", Some(o)) => match receipt(kind, o)? {
            Some(r) => Event::Receipt(r),
            None => return Ok(None),
        },
        ("Presence", Some(o)) => Event::Presence(presence(o)?),
        ("Chat", Some(o)) => match group(o)? {
            Some(g) => Event::Group(g),
            None => return Ok(None),
        },
        ("Cmd", Some(o)) => cmd(o)?,
        ("Props", Some(o)) => Event::Props(o.clone()),
        ("Status", Some(o)) => Event::Status(StatusChange {
            jid: jid_field(o, "id")?,
            status: str_field(o, "status")
                .ok_or(HandleError::Missing("status"))?
                .to_owned(),
        }),
        ("Blocklist", Some(o)) => {
            let list = o
                .get("blocklist")
                .and_then(Value::as_array)
                .ok_or(HandleError::Missing("blocklist"))?;
            Event::Blocklist(jid_list(list, "blocklist")?)
        }
        ("Conn", Some(o)) => Event::Conn(ConnInfo {
            wid: opt_jid_field(o, "wid")?,
            pushname: str_field(o, "pushname").map(str::to_owned),
            platform: str_field(o, "platform").map(str::to_owned),
            battery: o
                .get("battery")
                .and_then(Value::as_u64)
                .and_then(|b| u8::try_from(b).ok()),
            plugged: o.get("plugged").and_then(Value::as_bool),
            phone: o.get("phone").cloned(),
        }),
        ("Stream", _) => Event::Stream(StreamState {
            kind: second
                .and_then(Value::as_str)
                .ok_or(HandleError::Missing("Stream kind"))?
                .to_owned(),
            rest: array.iter().skip(2).cloned().collect(),
        }),
        ("Pong", _) => match second.and_then(Value::as_bool) {
            Some(b) => Event::Pong(b),
            None => return Ok(None),
        },
        _ => return Ok(None),
    }))
}

fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

fn u64_field(o: &Map<String, Value>, key: &str) -> Option<u64> {
    match o.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn parse(s: &str, field: &'static str) -> Result<Jid, HandleError> {
    Jid::parse(s).map_err(|source| HandleError::Jid { field, source })
}

fn jid_field(o: &Map<String, Value>, key: &'static str) -> Result<Jid, HandleError> {
    parse(str_field(o, key).ok_or(HandleError::Missing(key))?, key)
}

fn opt_jid_field(o: &Map<String, Value>, key: &'static str) -> Result<Option<Jid>, HandleError> {
    match str_field(o, key) {
        None | Some("") => Ok(None),
        Some(s) => parse(s, key).map(Some),
    }
}

fn jid_list(list: &[Value], field: &'static str) -> Result<Vec<Jid>, HandleError> {
    list.iter()
        .map(|v| parse(v.as_str().ok_or(HandleError::Missing(field))?, field))
        .collect()
}

fn receipt(kind: &str, o: &Map<String, Value>) -> Result<Option<Receipt>, HandleError> {
    let (ids, source) = match str_field(o, "cmd") {
        Some("ack") => (
            vec![
                str_field(o, "id")
                    .ok_or(HandleError::Missing("id"))?
                    .to_owned(),
            ],
            ReceiptSource::MsgAck,
        ),
        Some("acks") => {
            let ids = o
                .get("id")
                .or_else(|| o.get("ids"))
                .and_then(Value::as_array)
                .ok_or(HandleError::Missing("id"))?;
            let ids = ids
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or(HandleError::Missing("id"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            (ids, ReceiptSource::MsgAcks)
        }
        _ => return Ok(None),
    };
    let ack = o
        .get("ack")
        .and_then(Value::as_i64)
        .and_then(Ack::from_json_ack)
        .ok_or(HandleError::Missing("ack"))?;
    Ok(Some(Receipt {
        ids,
        ack,
        from: opt_jid_field(o, "from")?,
        to: opt_jid_field(o, "to")?,
        participant: opt_jid_field(o, "participant")?,
        t: u64_field(o, "t"),
        from_me: None,
        source: if kind == "MsgInfo" {
            ReceiptSource::MsgInfo
        } else {
            source
        },
    }))
}

fn presence(o: &Map<String, Value>) -> Result<Presence, HandleError> {
    let kind = match str_field(o, "type").ok_or(HandleError::Missing("type"))? {
        "available" => PresenceKind::Available,
        "unavailable" => PresenceKind::Unavailable,
        "composing" => PresenceKind::Composing,
        "recording" => PresenceKind::Recording,
        "paused" => PresenceKind::Paused,
        other => PresenceKind::Other(other.to_owned()),
    };
    Ok(Presence {
        id: jid_field(o, "id")?,
        participant: opt_jid_field(o, "participant")?,
        kind,
        last_seen: u64_field(o, "t"),
        deny: o.get("deny").and_then(Value::as_bool).unwrap_or(false),
    })
}

fn group(o: &Map<String, Value>) -> Result<Option<GroupNotification>, HandleError> {
    if str_field(o, "cmd") != Some("action") {
        return Ok(None);
    }
    let Some(data) = o.get("data").and_then(Value::as_array) else {
        return Ok(None);
    };
    let Some(action) = data.first().and_then(Value::as_str) else {
        return Ok(None);
    };
    let group = jid_field(o, "id")?;
    let actor = match data.get(1).and_then(Value::as_str) {
        None | Some("") => None,
        Some(a) => Some(parse(a, "data[1]")?),
    };
    let empty = Map::new();
    let detail = data.get(2).and_then(Value::as_object).unwrap_or(&empty);
    let list = |field: &'static str| -> Result<Vec<Jid>, HandleError> {
        match detail.get(field).and_then(Value::as_array) {
            Some(list) => jid_list(list, field),
            None => Ok(Vec::new()),
        }
    };
    let participants = || list("participants");
    let change = match action {
        "create" | "introduce" => GroupChange::Create {
            subject: str_field(detail, "subject").map(str::to_owned),
            creation: u64_field(detail, "creation"),
            admins: list("admins")?,
            participants: {
                let mut p = list("regulars")?;
                p.extend(participants()?);
                p
            },
            introduced: action == "introduce",
        },
        "subject" => GroupChange::Subject(
            str_field(detail, "subject")
                .ok_or(HandleError::Missing("subject"))?
                .to_owned(),
        ),
        "desc_add" => GroupChange::Description(str_field(detail, "desc").map(str::to_owned)),
        "desc_remove" => GroupChange::Description(None),
        "add" | "invite" => GroupChange::Add(participants()?),
        "remove" => GroupChange::Remove(participants()?),
        "promote" => GroupChange::Promote(participants()?),
        "demote" => GroupChange::Demote(participants()?),
        "leave" => GroupChange::Leave(participants()?),
        "announce" | "announcement" => {
            GroupChange::Announce(flag(detail, "announce") || flag(detail, "value"))
        }
        "restrict" | "locked" => {
            GroupChange::Restrict(flag(detail, "restrict") || flag(detail, "value"))
        }
        other => GroupChange::Other {
            action: other.to_owned(),
            data: Value::from(data.iter().skip(1).cloned().collect::<Vec<_>>()),
        },
    };
    Ok(Some(GroupNotification {
        group,
        actor,
        change,
        t: u64_field(detail, "s_t").or_else(|| u64_field(o, "t")),
        source: GroupSource::Json,
    }))
}

/// A flag that peers send as `true`, `"true"` or `"on"`.
fn flag(o: &Map<String, Value>, key: &str) -> bool {
    match o.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "on",
        _ => false,
    }
}

fn cmd(o: &Map<String, Value>) -> Result<Event, HandleError> {
    Ok(match str_field(o, "type") {
        Some("picture") => Event::ProfilePicture(ProfilePictureChange {
            jid: jid_field(o, "jid")?,
            tag: match o.get("tag") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            },
            removed: str_field(o, "tag") == Some("removed"),
        }),
        Some("challenge") => Event::Command(Command::Challenge(
            str_field(o, "challenge")
                .ok_or(HandleError::Missing("challenge"))?
                .to_owned(),
        )),
        Some("disconnect") => Event::Command(Command::Disconnect {
            kind: str_field(o, "kind").map(str::to_owned),
        }),
        Some("update") => Event::Command(Command::Update),
        _ => Event::Command(Command::Other(o.clone())),
    })
}
