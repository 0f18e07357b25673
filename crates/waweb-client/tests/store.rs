//! The store's queries: unread chats, last N messages with the per-chat cap, contact names,
//! receipts updating message status, chat updates.
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

const ALICE: &str = "491701234567@s.whatsapp.net";
const BOB: &str = "491709999999@s.whatsapp.net";

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

fn msg(chat: &str, id: &str, t: u64, from_me: bool) -> Node {
    let mut info = WebMessageInfo::outgoing(chat, id, t, proto::Message::from_text(id));
    info.key.from_me = Some(from_me);
    info.status = from_me.then_some(2);
    Node::new("message").bytes(info.encode_to_vec())
}

fn feed(store: &mut Store, node: &Node) {
    for e in events_from_node(node) {
        store.apply(&e);
    }
}

fn feed_json(store: &mut Store, v: serde_json::Value) {
    for e in events_from_json(&v) {
        store.apply(&e);
    }
}

fn setup() -> Store {
    let mut store = Store::with_cap(5);
    feed(
        &mut store,
        &Node::new("response")
            .attr("type", "contacts")
            .children(vec![
                Node::new("user")
                    .attr("jid", "491701234567@c.us")
                    .attr("name", "Alice A.")
                    .attr("notify", "ali"),
                Node::new("user")
                    .attr("jid", "491709999999@c.us")
                    .attr("notify", "bobby"),
            ]),
    );
    feed(
        &mut store,
        &Node::new("response").attr("type", "chat").children(vec![
            Node::new("chat")
                .attr("jid", "491701234567@c.us")
                .attr("t", "100")
                .attr("count", "0"),
            Node::new("chat")
                .attr("jid", "491709999999@c.us")
                .attr("t", "200")
                .attr("count", "2"),
        ]),
    );
    store
}

#[test]
fn unread_chats_and_names() {
    let mut store = setup();
    let unread = store.unread_chats();
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0].jid.normalized(), jid(BOB));
    assert_eq!(store.contact_name(&jid(ALICE)), Some("Alice A."));
    assert_eq!(store.contact_name(&jid("491709999999@c.us")), Some("bobby"));
    assert_eq!(store.contact_name(&jid("490000000000@c.us")), None);

    // A live message from Alice makes her chat unread; one from us does not.
    feed(
        &mut store,
        &Node::new("action")
            .attr("add", "relay")
            .children(vec![msg(ALICE, "M1", 300, false)]),
    );
    feed(
        &mut store,
        &Node::new("action")
            .attr("add", "relay")
            .children(vec![msg(ALICE, "M2", 301, true)]),
    );
    assert_eq!(store.chat(&jid(ALICE)).unwrap().count, 1);
    assert_eq!(store.chat(&jid(ALICE)).unwrap().t, Some(301));
    assert_eq!(store.unread_chats().len(), 2);
    // Newest activity first.
    assert_eq!(store.unread_chats()[0].jid.normalized(), jid(ALICE));

    // Reading the chat on the phone clears it; marking it unread sets -1.
    feed(
        &mut store,
        &Node::new("action").children(vec![Node::new("read").attr("jid", "491701234567@c.us")]),
    );
    assert_eq!(store.chat(&jid(ALICE)).unwrap().count, 0);
    feed(
        &mut store,
        &Node::new("action").children(vec![
            Node::new("read")
                .attr("jid", "491701234567@c.us")
                .attr("type", "false"),
        ]),
    );
    assert_eq!(store.chat(&jid(ALICE)).unwrap().count, -1);
    // History does not count as unread.
    feed(
        &mut store,
        &Node::new("action")
            .attr("add", "before")
            .children(vec![msg(BOB, "H1", 1, false)]),
    );
    assert_eq!(store.chat(&jid(BOB)).unwrap().count, 2);
}

#[test]
fn last_messages_in_order_with_cap_and_history_prepended() {
    let mut store = setup();
    let relay: Vec<Node> = (10..17)
        .map(|t| msg(ALICE, &format!("R{t}"), t, false))
        .collect();
    for m in relay {
        feed(
            &mut store,
            &Node::new("action").attr("add", "relay").children(vec![m]),
        );
    }
    let ids = |store: &Store, n| {
        store
            .last_messages(&jid("491701234567@c.us"), n)
            .iter()
            .map(|m| m.id.clone())
            .collect::<Vec<_>>()
    };
    // Cap 5: the two oldest are gone.
    assert_eq!(ids(&store, 10), ["R12", "R13", "R14", "R15", "R16"]);
    assert_eq!(ids(&store, 2), ["R15", "R16"]);
    // Older history falls off at once; a duplicate replaces rather than adds.
    feed(
        &mut store,
        &Node::new("action")
            .attr("add", "before")
            .children(vec![msg(ALICE, "OLD", 1, false)]),
    );
    feed(
        &mut store,
        &Node::new("action")
            .attr("add", "update")
            .children(vec![msg(ALICE, "R16", 16, false)]),
    );
    assert_eq!(ids(&store, 10), ["R12", "R13", "R14", "R15", "R16"]);
    assert_eq!(
        store.message(&jid(ALICE), "R14").unwrap().text(),
        Some("R14")
    );
    assert!(store.last_messages(&jid("490000000000@c.us"), 3).is_empty());
}

#[test]
fn receipts_update_status_upwards_only() {
    let mut store = setup();
    feed(
        &mut store,
        &Node::new("action").attr("add", "relay").children(vec![
            msg(ALICE, "3EB0A", 50, true),
            msg(ALICE, "3EB0B", 51, true),
        ]),
    );
    let status = |s: &Store, id| s.message(&jid(ALICE), id).unwrap().status();
    assert_eq!(status(&store, "3EB0A"), Some(Ack::Server));
    feed_json(
        &mut store,
        json!(["Msg", {"cmd": "ack", "id": "3EB0A", "ack": 2,
        "from": "491700000000@c.us", "to": "491701234567@c.us", "t": 60}]),
    );
    assert_eq!(status(&store, "3EB0A"), Some(Ack::Delivered));
    feed_json(
        &mut store,
        json!(["Msg", {"cmd": "acks", "id": ["3EB0A", "3EB0B"], "ack": 3,
        "from": "491700000000@c.us", "to": "491701234567@c.us", "t": 61}]),
    );
    assert_eq!(status(&store, "3EB0A"), Some(Ack::Read));
    assert_eq!(status(&store, "3EB0B"), Some(Ack::Read));
    // A late delivery ack does not move a read message back.
    feed_json(
        &mut store,
        json!(["Msg", {"cmd": "ack", "id": "3EB0B", "ack": 2,
        "from": "491700000000@c.us", "to": "491701234567@c.us"}]),
    );
    assert_eq!(status(&store, "3EB0B"), Some(Ack::Read));
    // Binary played receipt.
    feed(
        &mut store,
        &Node::new("action").attr("add", "relay").children(vec![
            Node::new("received")
                .attr("index", "3EB0B")
                .attr("jid", "491701234567@c.us")
                .attr("type", "played"),
        ]),
    );
    assert_eq!(status(&store, "3EB0B"), Some(Ack::Played));
}

#[test]
fn chat_updates_change_the_chat() {
    let mut store = setup();
    let update = |ty: &str| {
        Node::new("action").children(vec![
            Node::new("chat")
                .attr("type", ty)
                .attr("jid", "491701234567@c.us"),
        ])
    };
    feed(&mut store, &update("archive"));
    assert!(store.chat(&jid(ALICE)).unwrap().archive);
    feed(&mut store, &update("unarchive"));
    assert!(!store.chat(&jid(ALICE)).unwrap().archive);
    feed(
        &mut store,
        &Node::new("action").children(vec![
            Node::new("chat")
                .attr("type", "pin")
                .attr("jid", "491701234567@c.us")
                .attr("pin", "77"),
        ]),
    );
    assert_eq!(store.chat(&jid(ALICE)).unwrap().pin, Some(77));
    feed(
        &mut store,
        &Node::new("action")
            .attr("add", "relay")
            .children(vec![msg(ALICE, "S1", 5, false)]),
    );
    feed(
        &mut store,
        &Node::new("action").children(vec![
            Node::new("chat")
                .attr("type", "star")
                .attr("jid", "491701234567@c.us")
                .children(vec![
                    Node::new("item").attr("index", "S1").attr("owner", "false"),
                ]),
        ]),
    );
    assert_eq!(
        store.message(&jid(ALICE), "S1").unwrap().info.starred,
        Some(true)
    );
    feed(&mut store, &update("clear"));
    assert!(store.last_messages(&jid(ALICE), 10).is_empty());
    feed(&mut store, &update("delete"));
    assert!(store.chat(&jid(ALICE)).is_none());
}

#[test]
fn presence_group_subject_blocklist_battery_status() {
    let mut store = setup();
    feed_json(
        &mut store,
        json!(["Presence", {"id": "491701234567@c.us", "type": "unavailable", "t": 99}]),
    );
    assert_eq!(store.presence(&jid(ALICE)).unwrap().last_seen, Some(99));
    feed_json(
        &mut store,
        json!(["Chat", {"id": "4917-1@g.us", "cmd": "action",
        "data": ["subject", "491701234567@c.us", {"subject": "Club"}]}]),
    );
    assert_eq!(store.contact_name(&jid("4917-1@g.us")), Some("Club"));
    feed_json(
        &mut store,
        json!(["Blocklist", {"blocklist": ["491709999999@c.us"]}]),
    );
    assert_eq!(store.blocklist(), [jid("491709999999@c.us")]);
    feed(
        &mut store,
        &Node::new("action").children(vec![Node::new("battery").attr("value", "12")]),
    );
    assert_eq!(store.battery().unwrap().percent, Some(12));
    feed_json(
        &mut store,
        json!(["Status", {"id": "491701234567@c.us", "status": "Away"}]),
    );
    let alice = store.contact(&jid(ALICE)).unwrap();
    assert_eq!(alice.status.as_deref(), Some("Away"));
}

#[test]
fn revoke_turns_the_target_into_a_stub() {
    let mut store = setup();
    feed(
        &mut store,
        &Node::new("action")
            .attr("add", "relay")
            .children(vec![msg(ALICE, "GONE", 40, false)]),
    );
    let revoke = WebMessageInfo {
        key: proto::MessageKey {
            remote_jid: Some(ALICE.into()),
            from_me: Some(false),
            id: Some("REVOKER".into()),
            participant: None,
        },
        message_timestamp: Some(41),
        message: Some(proto::Message {
            protocol_message: Some(proto::ProtocolMessage {
                key: Some(proto::MessageKey {
                    remote_jid: Some(ALICE.into()),
                    from_me: Some(false),
                    id: Some("GONE".into()),
                    participant: None,
                }),
                r#type: Some(proto::protocol_message::Type::Revoke as i32),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..WebMessageInfo::default()
    };
    feed(
        &mut store,
        &Node::new("action")
            .attr("add", "relay")
            .children(vec![Node::new("message").bytes(revoke.encode_to_vec())]),
    );
    let gone = store.message(&jid(ALICE), "GONE").unwrap();
    assert!(gone.info.message.is_none());
    assert_eq!(gone.info.message_stub_type, Some(1));
    assert!(store.message(&jid(ALICE), "REVOKER").is_none());
    assert_eq!(store.last_messages(&jid(ALICE), 10).len(), 1);
}
