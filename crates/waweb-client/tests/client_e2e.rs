//! The client against the simulator over real sockets: login, every send kind seen by the
//! simulator field by field with the client seeing the ack, typed events, many pushed messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use serde_json::json;
use tokio::sync::broadcast;
use tokio::time::timeout;
use waweb_binary::Node;
use waweb_client::{
    Ack, AddKind, Client, ClientConfig, ClientEvent, Event, EventStream, GroupAction, Jid,
    PresenceKind, SetPresence, TextOptions,
};
use waweb_proto::proto::{Message as ProtoMessage, MessageKey, WebMessageInfo};
use waweb_sim::{FrameBody, SimConfig, SimEvent, SimHandle};

const T: Duration = Duration::from_secs(10);
const ALICE: &str = "491701111111@c.us";
const GROUP: &str = "491701111111-1600000000@g.us";

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

/// Starts a simulator and a client, scans the QR and waits until the login burst arrived.
async fn logged_in() -> (SimHandle, Client, EventStream) {
    let sim = waweb_sim::start(SimConfig::default()).await.unwrap();
    let (client, mut events) = Client::connect(ClientConfig::with_url(sim.ws_url()));
    let mut chats = false;
    let mut logged = false;
    timeout(T, async {
        while let Some(ev) = events.recv().await {
            match ev {
                ClientEvent::Qr { code, .. } => sim.scan(&code).await.unwrap(),
                ClientEvent::LoggedIn { wid, .. } => {
                    assert_eq!(wid, Some(jid("491234567890@c.us")));
                    logged = true;
                }
                ClientEvent::Event(Event::Chats(_)) => chats = true,
                ClientEvent::Event(Event::Messages(b)) if b.add == AddKind::Last => {}
                _ => {}
            }
            if logged && chats {
                break;
            }
        }
    })
    .await
    .expect("login in time");
    (sim, client, events)
}

/// Scans each QR the client shows until the chat list has arrived.
async fn scan_until_chats(sim: &SimHandle, events: &mut EventStream) {
    timeout(T, async {
        loop {
            match events.recv().await.unwrap() {
                ClientEvent::Qr { code, .. } => sim.scan(&code).await.unwrap(),
                ClientEvent::Event(Event::Chats(_)) => break,
                _ => {}
            }
        }
    })
    .await
    .unwrap();
}

/// The next binary frame the simulator received whose node satisfies `pred`.
async fn frame_in(rx: &mut broadcast::Receiver<SimEvent>, pred: impl Fn(&Node) -> bool) -> Node {
    timeout(T, async {
        loop {
            if let SimEvent::FrameIn { frame, .. } = rx.recv().await.unwrap()
                && let FrameBody::Binary {
                    node: Some(node), ..
                } = frame.body
                && pred(&node)
            {
                return node;
            }
        }
    })
    .await
    .expect("frame in time")
}

/// The next text frame the simulator received containing `needle`.
async fn text_in(rx: &mut broadcast::Receiver<SimEvent>, needle: &str) -> String {
    timeout(T, async {
        loop {
            if let SimEvent::FrameIn { frame, .. } = rx.recv().await.unwrap()
                && let FrameBody::Text(t) = frame.body
                && t.contains(needle)
            {
                return t;
            }
        }
    })
    .await
    .expect("text frame in time")
}

fn first_child(node: &Node) -> &Node {
    node.child_nodes().first().expect("a child")
}

#[tokio::test]
async fn send_text_reaches_the_simulator_and_is_acked() {
    let (sim, client, mut events) = logged_in().await;
    let mut sim_events = sim.events();

    let sent = client
        .send_text(&jid(ALICE), "hello from the test")
        .await
        .unwrap();
    assert!(sent.id.starts_with("3EB0") && sent.id.len() == 20);
    assert!(sent.server_time.is_some());

    // The simulator decrypted and decoded it.
    let msg = timeout(T, async {
        loop {
            if let SimEvent::MessageReceived { message, .. } = sim_events.recv().await.unwrap() {
                return message;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(msg.key.id.as_deref(), Some(sent.id.as_str()));
    assert_eq!(
        msg.key.remote_jid.as_deref(),
        Some("491701111111@s.whatsapp.net")
    );
    assert_eq!(msg.key.from_me, Some(true));
    assert_eq!(msg.text(), Some("hello from the test"));
    assert_eq!(msg.status, Some(1), "sent as PENDING");
    assert!(msg.message_timestamp.unwrap() > 1_600_000_000);

    // The sent message appears as an event with status SERVER_ACK, then the server's receipt.
    let mut seen_sent = false;
    let mut seen_receipt = false;
    timeout(T, async {
        while !(seen_sent && seen_receipt) {
            match events.recv().await.unwrap() {
                ClientEvent::Event(Event::Messages(b))
                    if b.add == AddKind::Relay && b.messages[0].id == sent.id =>
                {
                    assert!(b.messages[0].from_me);
                    assert_eq!(b.messages[0].status(), Some(Ack::Server));
                    seen_sent = true;
                }
                ClientEvent::Event(Event::Receipt(r)) if r.ids.contains(&sent.id) => {
                    assert_eq!(r.ack, Ack::Server);
                    seen_receipt = true;
                }
                _ => {}
            }
        }
    })
    .await
    .unwrap();
    // The store has it.
    let stored = client
        .with_store(|s| s.message(&jid(ALICE).normalized(), &sent.id).is_some())
        .unwrap();
    assert!(stored);
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn quoted_reply_and_mentions_carry_their_context() {
    let (sim, client, _events) = logged_in().await;
    let mut sim_events = sim.events();
    let quoted = WebMessageInfo {
        key: MessageKey {
            remote_jid: Some("491701111111-1600000000@g.us".into()),
            from_me: Some(false),
            id: Some("3EB0BEEF000000000001".into()),
            participant: Some("491702222222@s.whatsapp.net".into()),
        },
        message: Some(ProtoMessage::from_text("Welcome to the group!")),
        ..WebMessageInfo::default()
    };
    let options = TextOptions::default()
        .quoting(quoted)
        .mentioning([jid("491702222222@c.us")]);
    let sent = client
        .send_text_with(&jid(GROUP), "thanks @491702222222", options)
        .await
        .unwrap();
    let msg = timeout(T, async {
        loop {
            if let SimEvent::MessageReceived { message, .. } = sim_events.recv().await.unwrap() {
                return message;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(msg.key.id.as_deref(), Some(sent.id.as_str()));
    assert_eq!(msg.key.remote_jid.as_deref(), Some(GROUP));
    let ext = msg
        .message
        .as_ref()
        .unwrap()
        .extended_text_message
        .as_ref()
        .unwrap();
    assert_eq!(ext.text.as_deref(), Some("thanks @491702222222"));
    let ctx = ext.context_info.as_ref().unwrap();
    assert_eq!(ctx.stanza_id.as_deref(), Some("3EB0BEEF000000000001"));
    assert_eq!(
        ctx.participant.as_deref(),
        Some("491702222222@s.whatsapp.net")
    );
    assert_eq!(ctx.mentioned_jid, vec!["491702222222@s.whatsapp.net"]);
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn actions_and_queries_reach_the_simulator() {
    let (sim, client, mut events) = logged_in().await;
    let mut rx = sim.events();
    let alice = jid(ALICE);
    let group = jid(GROUP);

    // Binary nodes carry the `s.whatsapp.net` token, which the decoder shows as `c.us`.
    // mark read
    client
        .mark_read(&alice, "3EB0A1B2C3D4E5F6A7B8", false, 1)
        .await
        .unwrap();
    let n = frame_in(&mut rx, |n| {
        n.child_nodes().first().is_some_and(|c| c.tag == "read")
    })
    .await;
    assert_eq!(n.tag, "action");
    assert_eq!(n.get_attr("type"), Some("set"));
    assert!(n.get_attr("epoch").is_some());
    let read = first_child(&n);
    assert_eq!(read.get_attr("jid"), Some("491701111111@c.us"));
    assert_eq!(read.get_attr("index"), Some("3EB0A1B2C3D4E5F6A7B8"));
    assert_eq!(read.get_attr("owner"), Some("false"));
    assert_eq!(read.get_attr("count"), Some("1"));

    // presence
    client
        .send_presence(SetPresence::Composing, Some(&alice))
        .await
        .unwrap();
    let n = frame_in(&mut rx, |n| {
        n.child_nodes().first().is_some_and(|c| c.tag == "presence")
    })
    .await;
    let p = first_child(&n);
    assert_eq!(p.get_attr("type"), Some("composing"));
    assert_eq!(p.get_attr("to"), Some("491701111111@c.us"));
    client
        .send_presence(SetPresence::Available, None)
        .await
        .unwrap();

    // subscribe: the ack, then a typed Presence push
    client.subscribe_presence(&alice).await.unwrap();
    let t = text_in(&mut rx, "subscribe").await;
    assert_eq!(
        t,
        r#"["action","presence","subscribe","491701111111@c.us"]"#
    );
    timeout(T, async {
        loop {
            if let ClientEvent::Event(Event::Presence(p)) = events.recv().await.unwrap() {
                assert_eq!(p.id.user, "491701111111");
                assert_eq!(p.kind, PresenceKind::Unavailable);
                break;
            }
        }
    })
    .await
    .unwrap();

    // JSON queries
    assert!(client.exists(&alice).await.unwrap());
    assert!(!client.exists(&group).await.unwrap());
    assert_eq!(
        client.profile_picture_url(&alice).await.unwrap().as_deref(),
        Some("https://pps.whatsapp.net/v/t61/alice.jpg")
    );
    assert_eq!(
        client
            .profile_picture_url(&jid("491702222222@c.us"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        client.status(&alice).await.unwrap().as_deref(),
        Some("Hey there! I am using WhatsApp.")
    );
    let meta = client.group_metadata(&group).await.unwrap();
    assert_eq!(meta.id, group);
    assert_eq!(meta.subject, "Sim Group");
    assert_eq!(meta.owner, Some(alice.clone()));
    assert_eq!(meta.participants.len(), 3);
    assert!(meta.participants[0].is_admin && meta.participants[0].is_super_admin);
    assert_eq!(
        client.group_invite_code(&group).await.unwrap(),
        "SimInviteCode0123456"
    );
    assert_eq!(
        client.group_join("SimInviteCode0123456").await.unwrap(),
        group
    );
    assert!(client.phone_test().await.unwrap());

    // history
    let older = client
        .load_earlier_messages(&alice, 10, None)
        .await
        .unwrap();
    let q = frame_in(&mut rx, |n| n.tag == "query").await;
    assert_eq!(q.get_attr("type"), Some("message"));
    assert_eq!(q.get_attr("kind"), Some("before"));
    assert_eq!(q.get_attr("jid"), Some("491701111111@c.us"));
    assert_eq!(q.get_attr("count"), Some("10"));
    assert!(older.iter().any(|m| m.id == "3EB0A1B2C3D4E5F6A7B8"));

    // groups
    let bob = jid("491702222222@c.us");
    let carol = jid("491703333333@c.us");
    let kinds = [
        GroupAction::Create,
        GroupAction::Add,
        GroupAction::Remove,
        GroupAction::Promote,
        GroupAction::Demote,
        GroupAction::Subject,
        GroupAction::Leave,
    ];
    client
        .group_create("New group", std::slice::from_ref(&bob))
        .await
        .unwrap();
    client
        .group_add(&group, std::slice::from_ref(&carol))
        .await
        .unwrap();
    client
        .group_remove(&group, std::slice::from_ref(&carol))
        .await
        .unwrap();
    client
        .group_promote(&group, std::slice::from_ref(&bob))
        .await
        .unwrap();
    client
        .group_demote(&group, std::slice::from_ref(&bob))
        .await
        .unwrap();
    client.group_set_subject(&group, "Renamed").await.unwrap();
    client.group_leave(&group).await.unwrap();
    for kind in kinds {
        let n = frame_in(&mut rx, |n| {
            n.child_nodes().first().is_some_and(|c| c.tag == "group")
        })
        .await;
        assert_eq!(n.get_attr("type"), Some("set"));
        let g = first_child(&n);
        assert_eq!(g.get_attr("type"), Some(kind.as_str()));
        assert_eq!(g.get_attr("author"), Some("491234567890@c.us"));
        assert!(g.get_attr("id").is_some());
        let members: Vec<_> = g
            .child_nodes()
            .iter()
            .map(|p| {
                assert_eq!(p.tag, "participant");
                p.get_attr("jid").unwrap().to_owned()
            })
            .collect();
        match kind {
            GroupAction::Create => {
                assert_eq!(g.get_attr("subject"), Some("New group"));
                assert_eq!(g.get_attr("jid"), None);
                assert_eq!(members, vec!["491702222222@c.us"]);
            }
            GroupAction::Add | GroupAction::Remove => {
                assert_eq!(g.get_attr("jid"), Some(GROUP));
                assert_eq!(members, vec!["491703333333@c.us"]);
            }
            GroupAction::Promote | GroupAction::Demote => {
                assert_eq!(members, vec!["491702222222@c.us"]);
            }
            GroupAction::Subject => {
                assert_eq!(g.get_attr("subject"), Some("Renamed"));
                assert!(members.is_empty());
            }
            GroupAction::Leave => {
                assert_eq!(g.get_attr("jid"), Some(GROUP));
                assert!(members.is_empty());
            }
        }
    }
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn pushed_events_arrive_typed() {
    let (sim, client, mut events) = logged_in().await;
    sim.push_json(json!(["Presence", {"id": ALICE, "type": "composing"}]))
        .await
        .unwrap();
    sim.push_json(json!(["Msg", {"cmd": "ack", "id": "3EB0AA", "ack": 3, "from": "491234567890@c.us", "to": ALICE, "t": 1}]))
        .await
        .unwrap();
    sim.push_json(json!(["Status", {"id": ALICE, "status": "busy"}]))
        .await
        .unwrap();
    sim.push_node(Node::new("action").attr("add", "relay").children(vec![
            Node::new("battery")
                .attr("value", "42")
                .attr("live", "false"),
        ]))
    .await
    .unwrap();
    sim.push_node(Node::new("mystery").attr("x", "1"))
        .await
        .unwrap();
    let got = timeout(T, async {
        let mut got = Vec::new();
        while got.len() < 5 {
            match events.recv().await.unwrap() {
                ClientEvent::Event(Event::Presence(p)) if p.kind == PresenceKind::Composing => {
                    got.push("presence");
                }
                ClientEvent::Event(Event::Receipt(r)) if r.ack == Ack::Read => {
                    assert_eq!(r.ids, vec!["3EB0AA"]);
                    got.push("receipt");
                }
                ClientEvent::Event(Event::Status(s)) => {
                    assert_eq!(s.status, "busy");
                    got.push("status");
                }
                ClientEvent::Event(Event::Battery(b)) => {
                    assert_eq!(b.percent, Some(42));
                    got.push("battery");
                }
                ClientEvent::Event(Event::Raw(_)) => got.push("raw"),
                _ => {}
            }
        }
        got
    })
    .await
    .unwrap();
    assert_eq!(got, ["presence", "receipt", "status", "battery", "raw"]);
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn many_pushed_messages_arrive_in_order() {
    const N: usize = 10_000;
    let (sim, client, mut events) = logged_in().await;
    let pusher = {
        let sim_msgs: Vec<WebMessageInfo> = (0..N)
            .map(|i| {
                let mut m = WebMessageInfo {
                    key: MessageKey {
                        remote_jid: Some("491701111111@s.whatsapp.net".into()),
                        from_me: Some(false),
                        id: Some(format!("3EB0{i:016X}")),
                        participant: None,
                    },
                    message: Some(ProtoMessage::from_text(format!("message {i}"))),
                    ..WebMessageInfo::default()
                };
                m.message_timestamp = Some(1_700_000_000);
                m
            })
            .collect();
        async move {
            for m in sim_msgs {
                sim.push_message(m).await.unwrap();
            }
            sim
        }
    };
    let receiver = async {
        let mut next = 0usize;
        while next < N {
            if let ClientEvent::Event(Event::Messages(b)) = events.recv().await.unwrap() {
                if b.add != AddKind::Relay {
                    continue;
                }
                for m in b.messages {
                    assert_eq!(m.id, format!("3EB0{next:016X}"), "in order, none lost");
                    next += 1;
                }
            }
        }
        next
    };
    let (sim, got) = timeout(Duration::from_secs(120), async {
        tokio::join!(pusher, receiver)
    })
    .await
    .expect("10,000 messages in time");
    assert_eq!(got, N);
    // Bounded memory: the store keeps at most its per-chat cap, however many messages arrive.
    let chat = Jid::parse("491701111111@c.us").unwrap();
    let kept = client
        .with_store(|s| s.last_messages(&chat, usize::MAX).len())
        .unwrap();
    assert_eq!(
        kept,
        waweb_client::DEFAULT_MESSAGES_PER_CHAT,
        "the store keeps exactly its cap"
    );
    client.shutdown().await;
    sim.shutdown().await;
}

/// The next message the simulator received from a client.
async fn received(rx: &mut broadcast::Receiver<SimEvent>) -> Box<WebMessageInfo> {
    timeout(T, async {
        loop {
            if let SimEvent::MessageReceived { message, .. } = rx.recv().await.unwrap() {
                return message;
            }
        }
    })
    .await
    .expect("message in time")
}

#[tokio::test]
async fn location_and_contact_card_reach_the_simulator() {
    let (sim, client, _events) = logged_in().await;
    let mut rx = sim.events();
    let alice = jid(ALICE);

    let sent = client
        .send_location(&alice, 52.52, 13.405, Some("Berlin"))
        .await
        .unwrap();
    let msg = received(&mut rx).await;
    assert_eq!(msg.key.id.as_deref(), Some(sent.id.as_str()));
    let loc = msg
        .message
        .as_ref()
        .unwrap()
        .location_message
        .as_ref()
        .unwrap();
    assert_eq!(loc.degrees_latitude, Some(52.52));
    assert_eq!(loc.degrees_longitude, Some(13.405));
    assert_eq!(loc.name.as_deref(), Some("Berlin"));

    let vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Bob Example\nTEL;type=CELL;waid=491702222222:+49 170 2222222\nEND:VCARD";
    let sent = client
        .send_contact(&alice, "Bob Example", vcard)
        .await
        .unwrap();
    let msg = received(&mut rx).await;
    assert_eq!(msg.key.id.as_deref(), Some(sent.id.as_str()));
    let card = msg
        .message
        .as_ref()
        .unwrap()
        .contact_message
        .as_ref()
        .unwrap();
    assert_eq!(card.display_name.as_deref(), Some("Bob Example"));
    assert_eq!(card.vcard.as_deref(), Some(vcard));
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dropped_connection_reconnects_restores_and_sends_again() {
    let (sim, client, mut events) = logged_in().await;
    sim.faults().drop_connection();
    let mut disconnected = false;
    timeout(T, async {
        loop {
            match events.recv().await.unwrap() {
                ClientEvent::Disconnected { .. } => disconnected = true,
                ClientEvent::LoggedIn { how, .. } => {
                    assert_eq!(how, waweb_session::LoginKind::Restored);
                    break;
                }
                ClientEvent::Stopped(r) => panic!("stopped: {r:?}"),
                _ => {}
            }
        }
    })
    .await
    .expect("restored in time");
    assert!(disconnected, "the drop is reported before the restore");
    let mut rx = sim.events();
    let sent = client
        .send_text(&jid(ALICE), "after the drop")
        .await
        .unwrap();
    let msg = received(&mut rx).await;
    assert_eq!(msg.key.id.as_deref(), Some(sent.id.as_str()));
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_late_ack_is_a_timeout_and_logout_stops_the_client() {
    let sim = waweb_sim::start(SimConfig::default()).await.unwrap();
    let mut config = ClientConfig::with_url(sim.ws_url());
    config.request_timeout = Duration::from_millis(300);
    config.transport.logout_url = sim.logout_url();
    let (client, mut events) = Client::connect(config);
    scan_until_chats(&sim, &mut events).await;
    sim.faults().delay_replies(Duration::from_secs(1));
    let err = client.send_text(&jid(ALICE), "slow").await.unwrap_err();
    assert!(
        matches!(err, waweb_client::ClientError::Timeout(_)),
        "{err:?}"
    );
    sim.faults().clear();
    // The message still arrives: the late ack is followed by the server's receipt. (Logging
    // out before it would close the socket under the simulator's delayed write.)
    timeout(T, async {
        loop {
            if let ClientEvent::Event(Event::Receipt(r)) = events.recv().await.unwrap() {
                assert_eq!(r.ack, Ack::Server);
                break;
            }
        }
    })
    .await
    .unwrap();

    let mut rx = sim.events();
    client.logout().await.unwrap();
    let via = timeout(T, async {
        loop {
            if let SimEvent::LoggedOut { via, .. } = rx.recv().await.unwrap() {
                return via;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(via, "connection");
    let last = timeout(T, async {
        let mut last = None;
        while let Some(ev) = events.recv().await {
            last = Some(ev);
        }
        last
    })
    .await
    .unwrap();
    assert!(
        matches!(
            last,
            Some(ClientEvent::Stopped(waweb_transport::StopReason::LoggedOut))
        ),
        "{last:?}"
    );
    sim.shutdown().await;
}

/// With the simulator's recipient receipts on, a sent message goes server → delivered → read,
/// and the store's copy follows.
#[tokio::test]
async fn recipient_receipts_take_a_message_to_read() {
    let sim = waweb_sim::start(SimConfig {
        receipts: Some(Duration::from_millis(100)),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (client, mut events) = Client::connect(ClientConfig::with_url(sim.ws_url()));
    scan_until_chats(&sim, &mut events).await;
    let sent = client.send_text(&jid(ALICE), "read me").await.unwrap();
    let mut acks = Vec::new();
    timeout(T, async {
        while acks.last() != Some(&Ack::Read) {
            if let ClientEvent::Event(Event::Receipt(r)) = events.recv().await.unwrap()
                && r.ids.contains(&sent.id)
            {
                acks.push(r.ack);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(acks, [Ack::Server, Ack::Delivered, Ack::Read]);
    let status = client
        .with_store(|s| {
            s.message(&jid(ALICE).normalized(), &sent.id)
                .and_then(|m| m.status())
        })
        .flatten();
    assert_eq!(status, Some(Ack::Read));
    client.shutdown().await;
    sim.shutdown().await;
}
