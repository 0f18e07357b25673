//! One test per event kind, from hand-built nodes and JSON pushes, asserting the typed fields.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::json;
use waweb_binary::Node;
use waweb_client::*;
use waweb_proto::prost::Message as _;
use waweb_proto::proto::{self, WebMessageInfo};

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

fn incoming(chat: &str, id: &str, t: u64, text: &str) -> Vec<u8> {
    let mut info = WebMessageInfo::outgoing(chat, id, t, proto::Message::from_text(text));
    info.key.from_me = Some(false);
    info.status = None;
    info.encode_to_vec()
}

fn one(events: Vec<Event>) -> Event {
    assert_eq!(events.len(), 1, "{events:#?}");
    events.into_iter().next().unwrap()
}

fn one_json(v: serde_json::Value) -> Event {
    one(events_from_json(&v))
}

fn action(add: &str, children: Vec<Node>) -> Node {
    Node::new("action").attr("add", add).children(children)
}

#[test]
fn jid_parse_display_and_errors() {
    let j = jid("491701234567@c.us");
    assert_eq!(j.user, "491701234567");
    assert_eq!(j.server, Server::CUs);
    assert_eq!(j.to_string(), "491701234567@c.us");
    assert_eq!(j.normalized(), jid("491701234567@s.whatsapp.net"));
    assert!(jid("4917-1500000000@g.us").is_group());
    assert!(jid("status@broadcast").is_broadcast());
    assert!(matches!(Jid::parse("nobody"), Err(JidError::MissingAt(_))));
    assert!(matches!(
        Jid::parse("a@example.com"),
        Err(JidError::UnknownServer { .. })
    ));
    assert!(matches!(Jid::parse("@c.us"), Err(JidError::BadUser(_))));
}

#[test]
fn contact_list() {
    let node = Node::new("response")
        .attr("checksum", "ABC")
        .attr("type", "contacts")
        .children(vec![
            Node::new("user")
                .attr("jid", "491701234567@c.us")
                .attr("name", "Alice Example")
                .attr("notify", "Ali")
                .attr("short", "Alice")
                .attr("index", "A"),
            Node::new("user")
                .attr("jid", "491709999999@c.us")
                .attr("vname", "Shop")
                .attr("verify", "2")
                .attr("enterprise", "true")
                .attr("extra", "x"),
        ]);
    let Event::Contacts(list) = one(events_from_node(&node)) else {
        panic!()
    };
    assert_eq!(list.checksum.as_deref(), Some("ABC"));
    assert!(!list.duplicate);
    assert_eq!(list.contacts.len(), 2);
    let a = &list.contacts[0];
    assert_eq!(a.jid, Some(jid("491701234567@c.us")));
    assert_eq!(a.name.as_deref(), Some("Alice Example"));
    assert_eq!(a.notify.as_deref(), Some("Ali"));
    assert_eq!(a.short.as_deref(), Some("Alice"));
    assert_eq!(a.index.as_deref(), Some("A"));
    let b = &list.contacts[1];
    assert_eq!(b.vname.as_deref(), Some("Shop"));
    assert_eq!(b.verify, Some(2));
    assert!(b.enterprise);
    assert_eq!(b.other, vec![("extra".to_owned(), "x".to_owned())]);
    assert_eq!(b.display_name(), Some("Shop"));
}

#[test]
fn contact_list_bad_entry_is_invalid_not_dropped() {
    let node = Node::new("response")
        .attr("type", "contacts")
        .children(vec![
            Node::new("user").attr("jid", "491701234567@c.us"),
            Node::new("user").attr("jid", "garbage"),
        ]);
    let events = events_from_node(&node);
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[0], Event::Contacts(l) if l.contacts.len() == 1));
    let Event::Invalid(inv) = &events[1] else {
        panic!()
    };
    assert!(matches!(
        inv.error,
        HandleError::Jid {
            field: "jid",
            source: JidError::MissingAt(_)
        }
    ));
    assert!(matches!(&inv.input, Raw::Node { node, parent: Some(_) } if node.tag == "user"));
}

#[test]
fn chat_list() {
    let node = Node::new("response")
        .attr("status", "99")
        .attr("type", "chat")
        .children(vec![
            Node::new("chat")
                .attr("t", "1600000000")
                .attr("count", "3")
                .attr("spam", "false")
                .attr("jid", "491701234567@c.us")
                .attr("modify_tag", "123")
                .attr("mute", "1700000000")
                .attr("pin", "1600000001")
                .attr("archive", "true")
                .attr("name", "Alice"),
            Node::new("chat")
                .attr("t", "1500000000")
                .attr("count", "-1")
                .attr("jid", "4917-1500000000@g.us")
                .attr("read_only", "true")
                .attr("message", "true")
                .attr("old_jid", "491700000000@c.us"),
        ]);
    let Event::Chats(list) = one(events_from_node(&node)) else {
        panic!()
    };
    assert_eq!(list.status.as_deref(), Some("99"));
    let a = &list.chats[0];
    assert_eq!(a.jid, jid("491701234567@c.us"));
    assert_eq!(a.t, Some(1_600_000_000));
    assert_eq!(a.count, 3);
    assert!(!a.spam);
    assert_eq!(a.mute, Some(1_700_000_000));
    assert_eq!(a.pin, Some(1_600_000_001));
    assert!(a.archive);
    assert_eq!(a.modify_tag.as_deref(), Some("123"));
    assert_eq!(a.name.as_deref(), Some("Alice"));
    let g = &list.chats[1];
    assert_eq!(g.count, -1);
    assert!(g.read_only && g.has_messages);
    assert_eq!(g.old_jid, Some(jid("491700000000@c.us")));
}

#[test]
fn message_batches_for_every_add_kind() {
    for (add, kind) in [
        ("last", AddKind::Last),
        ("before", AddKind::Before),
        ("after", AddKind::After),
        ("relay", AddKind::Relay),
        ("update", AddKind::Update),
        ("unread", AddKind::Unread),
    ] {
        let node = action(
            add,
            vec![
                Node::new("message").bytes(incoming(
                    "491701234567@s.whatsapp.net",
                    "3A01",
                    10,
                    "hi",
                )),
                Node::new("message").bytes(incoming(
                    "491701234567@s.whatsapp.net",
                    "3A02",
                    11,
                    "ho",
                )),
            ],
        );
        let Event::Messages(batch) = one(events_from_node(&node)) else {
            panic!("{add}")
        };
        assert_eq!(batch.add, kind);
        assert!(!batch.last);
        assert_eq!(batch.messages.len(), 2);
        let m = &batch.messages[0];
        assert_eq!(m.chat, jid("491701234567@s.whatsapp.net"));
        assert_eq!(m.id, "3A01");
        assert!(!m.from_me);
        assert_eq!(m.timestamp, 10);
        assert_eq!(m.text(), Some("hi"));
        assert!(m.unknowns.is_empty());
    }
    let last = Node::new("action")
        .attr("last", "true")
        .attr("add", "before")
        .children(vec![Node::new("message").bytes(incoming(
            "4917@s.whatsapp.net",
            "X",
            1,
            "a",
        ))]);
    let Event::Messages(batch) = one(events_from_node(&last)) else {
        panic!()
    };
    assert!(batch.last);
}

#[test]
fn malformed_message_is_an_error_event() {
    let node = action(
        "relay",
        vec![
            Node::new("message").bytes(vec![0xff, 0xff, 0xff]),
            Node::new("message").bytes(incoming("4917@s.whatsapp.net", "OK", 1, "fine")),
            Node::new("message").text("not bytes"),
        ],
    );
    let events = events_from_node(&node);
    assert_eq!(events.len(), 3, "{events:#?}");
    assert!(
        matches!(&events[0], Event::Messages(b) if b.messages.len() == 1 && b.messages[0].id == "OK")
    );
    let Event::BadMessage(bad) = &events[1] else {
        panic!()
    };
    assert_eq!(bad.index, 0);
    assert_eq!(bad.add, AddKind::Relay);
    assert!(matches!(bad.error, HandleError::Proto(_)));
    assert_eq!(bad.node.tag, "message");
    let Event::BadMessage(bad) = &events[2] else {
        panic!()
    };
    assert_eq!(bad.index, 2);
    assert_eq!(bad.error, HandleError::NoBytes);
}

#[test]
fn message_with_bad_remote_jid_is_an_error_event() {
    let bytes = incoming("not-a-jid", "ID", 1, "x");
    let node = action("relay", vec![Node::new("message").bytes(bytes)]);
    let events = events_from_node(&node);
    assert!(
        matches!(&events[1], Event::BadMessage(b) if matches!(b.error, HandleError::Jid { field: "key.remoteJid", .. }))
    );
}

#[test]
fn binary_received_receipts() {
    for (ty, ack) in [
        (None, Ack::Delivered),
        (Some("message"), Ack::Delivered),
        (Some("read"), Ack::Read),
        (Some("played"), Ack::Played),
        (Some("error"), Ack::Error),
    ] {
        let mut r = Node::new("received")
            .attr("index", "3EB0AA")
            .attr("jid", "491701234567@c.us")
            .attr("participant", "491709999999@c.us")
            .attr("owner", "true")
            .attr("t", "1600000000");
        if let Some(ty) = ty {
            r = r.attr("type", ty);
        }
        let Event::Receipt(rec) = one(events_from_node(&action("relay", vec![r]))) else {
            panic!()
        };
        assert_eq!(rec.ids, vec!["3EB0AA".to_owned()]);
        assert_eq!(rec.ack, ack);
        assert_eq!(rec.to, Some(jid("491701234567@c.us")));
        assert_eq!(rec.participant, Some(jid("491709999999@c.us")));
        assert_eq!(rec.t, Some(1_600_000_000));
        assert_eq!(rec.from_me, Some(true));
        assert_eq!(rec.source, ReceiptSource::Received);
    }
    let odd = Node::new("received")
        .attr("index", "X")
        .attr("type", "weird");
    let Event::Invalid(inv) = one(events_from_node(&action("relay", vec![odd]))) else {
        panic!()
    };
    assert!(matches!(
        inv.error,
        HandleError::Unexpected { field: "type", .. }
    ));
}

#[test]
fn json_acks_delivered_read_played() {
    let Event::Receipt(r) = one_json(json!(["Msg", {"cmd": "ack", "id": "3EB0AA", "ack": 2,
        "from": "491700000000@c.us", "to": "491701234567@c.us", "t": 1600000000}]))
    else {
        panic!()
    };
    assert_eq!(r.ids, vec!["3EB0AA".to_owned()]);
    assert_eq!(r.ack, Ack::Delivered);
    assert_eq!(r.from, Some(jid("491700000000@c.us")));
    assert_eq!(r.to, Some(jid("491701234567@c.us")));
    assert_eq!(r.t, Some(1_600_000_000));
    assert_eq!(r.source, ReceiptSource::MsgAck);

    let Event::Receipt(r) = one_json(json!(["Msg", {"cmd": "acks", "id": ["A", "B"], "ack": 3,
        "from": "491700000000@c.us", "to": "4917-1500000000@g.us",
        "participant": "491709999999@c.us", "t": 1600000001}]))
    else {
        panic!()
    };
    assert_eq!(r.ids, vec!["A".to_owned(), "B".to_owned()]);
    assert_eq!(r.ack, Ack::Read);
    assert_eq!(r.participant, Some(jid("491709999999@c.us")));
    assert_eq!(r.source, ReceiptSource::MsgAcks);

    let Event::Receipt(r) = one_json(json!(["MsgInfo", {"cmd": "ack", "id": "V", "ack": 4,
        "from": "491700000000@c.us", "to": "491701234567@c.us"}]))
    else {
        panic!()
    };
    assert_eq!(r.ack, Ack::Played);
    assert_eq!(r.source, ReceiptSource::MsgInfo);
    assert_eq!(Ack::from_json_ack(1), Some(Ack::Server));
    assert_eq!(Ack::from_json_ack(0), Some(Ack::Pending));
    assert_eq!(Ack::from_json_ack(-1), Some(Ack::Error));
    assert_eq!(Ack::from_json_ack(5), None);
    assert_eq!(Ack::Read.to_status(), 4);

    // An ack out of range is invalid, not dropped.
    assert!(matches!(
        one_json(json!(["Msg", {"cmd": "ack", "id": "X", "ack": 9}])),
        Event::Invalid(_)
    ));
}

#[test]
fn chat_read_and_unread() {
    let read = Node::new("read").attr("jid", "491701234567@c.us");
    let unread = Node::new("read")
        .attr("jid", "491701234567@c.us")
        .attr("type", "false");
    let events = events_from_node(&action("relay", vec![read, unread]));
    assert_eq!(
        events,
        vec![
            Event::ChatRead(ChatRead {
                jid: jid("491701234567@c.us"),
                read: true
            }),
            Event::ChatRead(ChatRead {
                jid: jid("491701234567@c.us"),
                read: false
            }),
        ]
    );
}

#[test]
fn presence_every_kind_and_last_seen() {
    for (ty, kind) in [
        ("available", PresenceKind::Available),
        ("unavailable", PresenceKind::Unavailable),
        ("composing", PresenceKind::Composing),
        ("recording", PresenceKind::Recording),
        ("paused", PresenceKind::Paused),
        ("weird", PresenceKind::Other("weird".to_owned())),
    ] {
        let Event::Presence(p) =
            one_json(json!(["Presence", {"id": "491701234567@c.us", "type": ty}]))
        else {
            panic!()
        };
        assert_eq!(p.kind, kind);
        assert_eq!(p.id, jid("491701234567@c.us"));
        assert_eq!(p.last_seen, None);
    }
    let Event::Presence(p) = one_json(json!(["Presence", {"id": "4917-1500000000@g.us",
        "participant": "491709999999@c.us", "type": "unavailable", "t": 1600000000, "deny": true}]))
    else {
        panic!()
    };
    assert_eq!(p.participant, Some(jid("491709999999@c.us")));
    assert_eq!(p.last_seen, Some(1_600_000_000));
    assert!(p.deny);
}

#[test]
fn battery() {
    let node = action(
        "relay",
        vec![
            Node::new("battery")
                .attr("live", "true")
                .attr("value", "42")
                .attr("powersave", "false"),
        ],
    );
    assert_eq!(
        one(events_from_node(&node)),
        Event::Battery(Battery {
            percent: Some(42),
            plugged: true,
            powersave: false
        })
    );
}

#[test]
fn chat_updates() {
    let item = |id: &str, owner: &str| Node::new("item").attr("owner", owner).attr("index", id);
    let cases = vec![
        (
            Node::new("chat").attr("type", "archive"),
            ChatUpdateKind::Archive,
        ),
        (
            Node::new("chat").attr("type", "unarchive"),
            ChatUpdateKind::Unarchive,
        ),
        (
            Node::new("chat")
                .attr("type", "pin")
                .attr("pin", "1600000000"),
            ChatUpdateKind::Pin(Some(1_600_000_000)),
        ),
        (
            Node::new("chat")
                .attr("type", "pin")
                .attr("previous", "1600000000"),
            ChatUpdateKind::Pin(None),
        ),
        (
            Node::new("chat")
                .attr("type", "mute")
                .attr("mute", "1700000000"),
            ChatUpdateKind::Mute(Some(1_700_000_000)),
        ),
        (
            Node::new("chat").attr("type", "mute"),
            ChatUpdateKind::Mute(None),
        ),
        (
            Node::new("chat")
                .attr("type", "star")
                .children(vec![item("M1", "true")]),
            ChatUpdateKind::Star(vec![ItemRef {
                id: "M1".into(),
                from_me: Some(true),
            }]),
        ),
        (
            Node::new("chat")
                .attr("type", "unstar")
                .children(vec![item("M1", "false")]),
            ChatUpdateKind::Unstar(vec![ItemRef {
                id: "M1".into(),
                from_me: Some(false),
            }]),
        ),
        (
            Node::new("chat").attr("type", "clear"),
            ChatUpdateKind::Clear(vec![]),
        ),
        (
            Node::new("chat").attr("type", "delete"),
            ChatUpdateKind::Delete,
        ),
        (Node::new("chat").attr("type", "spam"), ChatUpdateKind::Spam),
        (
            Node::new("chat").attr("type", "label"),
            ChatUpdateKind::Other("label".into()),
        ),
    ];
    for (node, kind) in cases {
        let node = node.attr("jid", "491701234567@c.us");
        let Event::ChatUpdate(u) = one(events_from_node(&action("relay", vec![node.clone()])))
        else {
            panic!()
        };
        assert_eq!(u.jid, jid("491701234567@c.us"));
        assert_eq!(u.kind, kind);
        assert_eq!(u.attrs, node.attrs);
    }
}

#[test]
fn contact_update() {
    let node = action(
        "relay",
        vec![
            Node::new("user")
                .attr("jid", "491701234567@c.us")
                .attr("notify", "New Name"),
        ],
    );
    let Event::ContactUpdate(c) = one(events_from_node(&node)) else {
        panic!()
    };
    assert_eq!(c.jid, Some(jid("491701234567@c.us")));
    assert_eq!(c.notify.as_deref(), Some("New Name"));
}

#[test]
fn group_notifications_from_json() {
    let g = "4917-1500000000@g.us";
    let actor = "491700000000@c.us";
    let p = ["491701111111@c.us", "491702222222@c.us"];
    let ps = || vec![jid(p[0]), jid(p[1])];
    let cases = vec![
        (
            json!(["create", actor, {"subject": "Team", "creation": 1600000000, "s_o": actor,
                "s_t": 1600000000, "admins": [actor], "regulars": p}]),
            GroupChange::Create {
                subject: Some("Team".into()),
                creation: Some(1_600_000_000),
                admins: vec![jid(actor)],
                participants: ps(),
                introduced: false,
            },
        ),
        (
            json!(["introduce", actor, {"subject": "Old", "creation": 1500000000,
                "admins": [actor], "regulars": [p[0]]}]),
            GroupChange::Create {
                subject: Some("Old".into()),
                creation: Some(1_500_000_000),
                admins: vec![jid(actor)],
                participants: vec![jid(p[0])],
                introduced: true,
            },
        ),
        (
            json!(["subject", actor, {"subject": "New", "s_t": 1600000000}]),
            GroupChange::Subject("New".into()),
        ),
        (
            json!(["add", actor, {"participants": p}]),
            GroupChange::Add(ps()),
        ),
        (
            json!(["remove", actor, {"participants": p}]),
            GroupChange::Remove(ps()),
        ),
        (
            json!(["promote", actor, {"participants": p}]),
            GroupChange::Promote(ps()),
        ),
        (
            json!(["demote", actor, {"participants": p}]),
            GroupChange::Demote(ps()),
        ),
        (
            json!(["leave", actor, {"participants": p}]),
            GroupChange::Leave(ps()),
        ),
        (
            json!(["announce", actor, {"announce": true}]),
            GroupChange::Announce(true),
        ),
        (
            json!(["announcement", actor, {"value": "true"}]),
            GroupChange::Announce(true),
        ),
        (
            json!(["locked", actor, {"value": "on"}]),
            GroupChange::Restrict(true),
        ),
        (
            json!(["restrict", actor, {"restrict": "false"}]),
            GroupChange::Restrict(false),
        ),
        (
            json!(["desc_add", actor, {"desc": "About us"}]),
            GroupChange::Description(Some("About us".into())),
        ),
        (
            json!(["ephemeral", actor, {"ephemeral": 604800}]),
            GroupChange::Other {
                action: "ephemeral".into(),
                data: json!([actor, {"ephemeral": 604800}]),
            },
        ),
    ];
    for (data, change) in cases {
        let Event::Group(n) = one_json(json!(["Chat", {"id": g, "cmd": "action", "data": data}]))
        else {
            panic!("{data}")
        };
        assert_eq!(n.group, jid(g));
        assert_eq!(n.actor, Some(jid(actor)));
        assert_eq!(n.change, change);
        assert_eq!(n.source, GroupSource::Json);
    }
}

#[test]
fn group_notifications_from_relayed_stub_messages() {
    use proto::web_message_info::StubType;
    let stub = |ty: StubType, params: &[&str]| {
        let info = WebMessageInfo {
            key: proto::MessageKey {
                remote_jid: Some("4917-1500000000@g.us".into()),
                from_me: Some(false),
                id: Some("STUB1".into()),
                participant: None,
            },
            message_timestamp: Some(1_600_000_000),
            participant: Some("491700000000@s.whatsapp.net".into()),
            message_stub_type: Some(ty as i32),
            message_stub_parameters: params.iter().map(|s| (*s).to_owned()).collect(),
            ..WebMessageInfo::default()
        };
        Node::new("message").bytes(info.encode_to_vec())
    };
    let who = "491701111111@s.whatsapp.net";
    for (node, change) in [
        (
            stub(StubType::GroupCreate, &["Team"]),
            GroupChange::Create {
                subject: Some("Team".into()),
                creation: Some(1_600_000_000),
                admins: vec![],
                participants: vec![],
                introduced: false,
            },
        ),
        (
            stub(StubType::GroupChangeSubject, &["New"]),
            GroupChange::Subject("New".into()),
        ),
        (
            stub(StubType::GroupParticipantAdd, &[who]),
            GroupChange::Add(vec![jid(who)]),
        ),
        (
            stub(StubType::GroupParticipantRemove, &[who]),
            GroupChange::Remove(vec![jid(who)]),
        ),
        (
            stub(StubType::GroupParticipantPromote, &[who]),
            GroupChange::Promote(vec![jid(who)]),
        ),
        (
            stub(StubType::GroupParticipantDemote, &[who]),
            GroupChange::Demote(vec![jid(who)]),
        ),
        (
            stub(StubType::GroupParticipantLeave, &[who]),
            GroupChange::Leave(vec![jid(who)]),
        ),
        (
            stub(StubType::GroupChangeAnnounce, &["on"]),
            GroupChange::Announce(true),
        ),
        (
            stub(StubType::GroupChangeRestrict, &["off"]),
            GroupChange::Restrict(false),
        ),
    ] {
        let events = events_from_node(&action("relay", vec![node.clone()]));
        assert_eq!(events.len(), 2, "{events:#?}");
        assert!(matches!(&events[0], Event::Messages(b) if b.messages.len() == 1));
        let Event::Group(n) = &events[1] else {
            panic!()
        };
        assert_eq!(n.group, jid("4917-1500000000@g.us"));
        assert_eq!(n.actor, Some(jid("491700000000@s.whatsapp.net")));
        assert_eq!(n.change, change);
        assert_eq!(n.t, Some(1_600_000_000));
        assert_eq!(n.source, GroupSource::Stub("STUB1".into()));
        // History (add=before) keeps the stub as a message only.
        let events = events_from_node(&action("before", vec![node]));
        assert_eq!(events.len(), 1);
    }
}

#[test]
fn profile_picture_change() {
    let Event::ProfilePicture(p) = one_json(json!(["Cmd", {"type": "picture",
        "jid": "491701234567@c.us", "tag": "1600000000"}]))
    else {
        panic!()
    };
    assert_eq!(p.jid, jid("491701234567@c.us"));
    assert_eq!(p.tag.as_deref(), Some("1600000000"));
    assert!(!p.removed);
    let Event::ProfilePicture(p) = one_json(json!(["Cmd", {"type": "picture",
        "jid": "4917-1500000000@g.us", "tag": "removed"}]))
    else {
        panic!()
    };
    assert!(p.removed);
}

#[test]
fn status_change() {
    assert_eq!(
        one_json(json!(["Status", {"id": "491701234567@c.us", "status": "Busy"}])),
        Event::Status(StatusChange {
            jid: jid("491701234567@c.us"),
            status: "Busy".into()
        })
    );
}

#[test]
fn commands() {
    assert_eq!(
        one_json(json!(["Cmd", {"type": "challenge", "challenge": "AAAA"}])),
        Event::Command(Command::Challenge("AAAA".into()))
    );
    assert_eq!(
        one_json(json!(["Cmd", {"type": "disconnect", "kind": "replaced"}])),
        Event::Command(Command::Disconnect {
            kind: Some("replaced".into())
        })
    );
    assert_eq!(
        one_json(json!(["Cmd", {"type": "update"}])),
        Event::Command(Command::Update)
    );
    assert!(matches!(
        one_json(json!(["Cmd", {"type": "new"}])),
        Event::Command(Command::Other(o)) if o["type"] == "new"
    ));
}

#[test]
fn props() {
    let Event::Props(p) =
        one_json(json!(["Props", {"imageMaxKBytes": 1024, "maxParticipants": 257}]))
    else {
        panic!()
    };
    assert_eq!(p["maxParticipants"], 257);
}

#[test]
fn blocklist() {
    assert_eq!(
        one_json(json!(["Blocklist", {"id": 1, "blocklist": ["491701234567@c.us"]}])),
        Event::Blocklist(vec![jid("491701234567@c.us")])
    );
}

#[test]
fn conn_without_secrets() {
    let Event::Conn(c) = one_json(json!(["Conn", {"ref": "r", "wid": "491700000000@c.us",
        "pushname": "Me", "platform": "android", "battery": 77, "plugged": false,
        "serverToken": "S", "clientToken": "C", "secret": "X", "phone": {"wa_version": "2.20"}}]))
    else {
        panic!()
    };
    assert_eq!(c.wid, Some(jid("491700000000@c.us")));
    assert_eq!(c.pushname.as_deref(), Some("Me"));
    assert_eq!(c.platform.as_deref(), Some("android"));
    assert_eq!(c.battery, Some(77));
    assert_eq!(c.plugged, Some(false));
    assert_eq!(c.phone, Some(json!({"wa_version": "2.20"})));
    assert!(!format!("{c:?}").contains("serverToken"));
}

#[test]
fn stream_and_pong() {
    assert_eq!(
        one_json(json!(["Stream", "update", true, "2.2142.12"])),
        Event::Stream(StreamState {
            kind: "update".into(),
            rest: vec![json!(true), json!("2.2142.12")]
        })
    );
    assert_eq!(one_json(json!(["Pong", true])), Event::Pong(true));
}

#[test]
fn unknown_node_and_json_are_raw() {
    let node = Node::new("notification").attr("type", "new");
    assert_eq!(
        one(events_from_node(&node)),
        Event::Raw(Raw::Node {
            node: node.clone(),
            parent: None
        })
    );
    let resp = Node::new("response").attr("type", "emoji");
    assert!(matches!(one(events_from_node(&resp)), Event::Raw(_)));
    // An unknown child of an action keeps the action's attributes.
    let act = action("relay", vec![Node::new("presence").attr("type", "x")]);
    assert_eq!(
        one(events_from_node(&act)),
        Event::Raw(Raw::Node {
            node: Node::new("presence").attr("type", "x"),
            parent: Some(vec![("add".into(), "relay".into())])
        })
    );
    for v in [
        json!(["Frobnicate", {}]),
        json!({"status": 200}),
        json!([1, 2]),
        json!(["Chat", {"id": "4917-1@g.us", "cmd": "other"}]),
    ] {
        assert_eq!(one_json(v.clone()), Event::Raw(Raw::Json(v)));
    }
}

#[test]
fn borrowed_nodes_work_too() {
    let node = action("relay", vec![Node::new("battery").attr("value", "5")]);
    let bytes = waweb_binary::encode(&node).unwrap();
    let tree = waweb_binary::Tree::decode(&bytes).unwrap();
    assert!(matches!(
        one(events_from_node_ref(tree.root())),
        Event::Battery(Battery {
            percent: Some(5),
            ..
        })
    ));
}

#[test]
fn history_query_response_is_a_message_batch() {
    let node = Node::new("response").attr("type", "message").children(vec![
        Node::new("message").bytes(incoming("491701234567@s.whatsapp.net", "H1", 5, "old")),
    ]);
    let Event::Messages(batch) = one(events_from_node(&node)) else {
        panic!()
    };
    assert_eq!(batch.add, AddKind::Response);
    assert_eq!(batch.messages[0].text(), Some("old"));
}

#[test]
fn events_serialize_as_json_lines() {
    let r = one_json(json!(["Msg", {"cmd": "ack", "id": "3EB0AA", "ack": 3,
        "from": "491700000000@c.us", "to": "491701234567@c.us", "t": 5}]));
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"event": "receipt", "data": {"ids": ["3EB0AA"], "ack": "read",
            "from": "491700000000@c.us", "to": "491701234567@c.us", "participant": null,
            "t": 5, "from_me": null, "source": "msg_ack"}})
    );
    let node = action(
        "relay",
        vec![Node::new("message").bytes(incoming("4917@s.whatsapp.net", "M", 7, "hey"))],
    );
    let v = serde_json::to_value(one(events_from_node(&node))).unwrap();
    assert_eq!(v["event"], "messages");
    assert_eq!(v["data"]["add"], "relay");
    assert_eq!(v["data"]["messages"][0]["chat"], "4917@s.whatsapp.net");
    assert_eq!(
        v["data"]["messages"][0]["info"]["message"]["conversation"],
        "hey"
    );
    let bad = action("relay", vec![Node::new("message").bytes(vec![0xff])]);
    // The (empty) batch still comes first: it carries `add` and `last`.
    let events = events_from_node(&bad);
    assert!(matches!(&events[0], Event::Messages(b) if b.messages.is_empty()));
    let v = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(v["event"], "bad_message");
    assert!(
        v["data"]["error"]
            .as_str()
            .unwrap()
            .starts_with("message does not decode")
    );
    let raw = serde_json::to_value(one(events_from_node(&Node::new("x")))).unwrap();
    assert_eq!(
        raw,
        json!({"event": "raw", "data": {"node": {"node": ["x", {}, null], "parent": null}}})
    );
}
