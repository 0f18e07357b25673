//! Pushes, acks, queries, logout and every fault, over loopback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{Client, Frame, connect, sim, text_message};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use waweb_binary::{Content, Node};
use waweb_sim::{SimConfig, SimEvent, SimHandle};

/// A logged-in client past the burst, with its tokens.
async fn logged_in(sim: &SimHandle) -> (Client, String, String) {
    let mut c = connect(sim).await;
    let conn = c.login(sim).await;
    c.skip_burst().await;
    let ct = conn["clientToken"].as_str().unwrap().to_owned();
    let st = conn["serverToken"].as_str().unwrap().to_owned();
    (c, ct, st)
}

/// Restores on a new connection; returns the new tokens, past the burst.
async fn restored(c: Client, sim: &SimHandle, ct: &str, st: &str) -> (Client, String, String) {
    let mut c = c.reconnect(sim).await;
    let (_, t_login) = c.restore(ct, st).await;
    let conn = c.recv_tag("s1").await;
    assert_eq!(conn[0], "Conn", "{conn}");
    assert_eq!(c.recv_tag(&t_login).await["status"], 200);
    let ct = conn[1]["clientToken"].as_str().unwrap().to_owned();
    let st = conn[1]["serverToken"].as_str().unwrap().to_owned();
    c.skip_burst().await;
    (c, ct, st)
}

/// Restores on a new connection, following the tokens of every `Conn` seen and answering a
/// challenge; `false` when the connection drops before the burst is over.
async fn robust_restore(
    c: Client,
    sim: &SimHandle,
    ct: &mut String,
    st: &mut String,
) -> (Client, bool) {
    let mut c = c.reconnect(sim).await;
    let (_, t_login) = c.restore(ct, st).await;
    let mut preempt = 0;
    loop {
        match c.recv().await {
            Frame::Text(tag, v) if v[0] == "Conn" && (tag == "s1" || tag == "s2") => {
                *ct = v[1]["clientToken"].as_str().unwrap().to_owned();
                *st = v[1]["serverToken"].as_str().unwrap().to_owned();
            }
            Frame::Text(tag, v) if tag == "s1" && v[1]["type"] == "challenge" => {
                let answer = c
                    .keys
                    .as_ref()
                    .unwrap()
                    .challenge_answer(v[1]["challenge"].as_str().unwrap())
                    .unwrap();
                let cid = c.client_id.clone();
                c.send_json(
                    "ch",
                    &json!(["admin", "challenge", answer, st.as_str(), cid]),
                )
                .await;
            }
            Frame::Text(tag, v) if tag == t_login => assert_eq!(v["status"], 200),
            Frame::Binary(tag, _) if tag.starts_with("preempt-") => {
                preempt += 1;
                if preempt == 3 {
                    return (c, true);
                }
            }
            Frame::Closed(_) => return (c, false),
            _ => {}
        }
    }
}

fn relayed_ids(node: &Node) -> Vec<String> {
    assert_eq!(node.tag, "action");
    node.child_nodes()
        .iter()
        .map(|m| match &m.content {
            Some(Content::Bytes(b)) => waweb_proto::decode_web_message_info(b)
                .unwrap()
                .info
                .key
                .id
                .unwrap(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn pushed_message_arrives_as_an_encrypted_relay_action() {
    let sim = sim(SimConfig::default()).await;
    let (mut c, _, _) = logged_in(&sim).await;
    sim.push_message(text_message(
        "491701111111@s.whatsapp.net",
        "3EB0000000000001",
        "hello",
    ))
    .await
    .unwrap();
    let (_, node) = c.recv_node().await;
    assert_eq!(node.get_attr("add"), Some("relay"));
    let Some(Content::Bytes(b)) = &node.child_nodes()[0].content else {
        panic!("{node:?}")
    };
    let msg = waweb_proto::decode_web_message_info(b).unwrap().info;
    assert_eq!(msg.text(), Some("hello"));
    sim.shutdown().await;
}

#[tokio::test]
async fn relayed_message_is_acked_on_its_tag_then_by_msg_ack_and_reported_once() {
    let sim = sim(SimConfig::default()).await;
    let mut events = sim.events();
    let (mut c, _, _) = logged_in(&sim).await;
    let msg = text_message(
        "491701111111@s.whatsapp.net",
        "3EB0ABCDEF012345",
        "hi Alice",
    );
    let node = Node::new("action")
        .attr("type", "relay")
        .attr("epoch", "1")
        .children(vec![
            Node::new("message").bytes(waweb_proto::prost::Message::encode_to_vec(&msg)),
        ]);
    for _ in 0..2 {
        c.send_node("3EB0ABCDEF012345", &node, 16, 0x80).await;
        let reply = c.recv_tag("3EB0ABCDEF012345").await;
        assert_eq!(reply["status"], 200);
        assert!(reply["t"].as_u64().unwrap() > 1_600_000_000);
        loop {
            if let Frame::Text(_, v) = c.recv().await
                && v[0] == "Msg"
            {
                assert_eq!(v[1]["cmd"], "ack");
                assert_eq!(v[1]["id"], "3EB0ABCDEF012345");
                assert_eq!(v[1]["ack"], 1);
                assert_eq!(v[1]["to"], "491701111111@c.us");
                assert_eq!(v[1]["from"], "491234567890@c.us");
                break;
            }
        }
    }
    let mut received = 0;
    let deadline = Instant::now() + Duration::from_millis(300);
    while let Ok(Ok(ev)) = tokio::time::timeout_at(deadline.into(), events.recv()).await {
        if let SimEvent::MessageReceived { message, .. } = ev {
            assert_eq!(message.text(), Some("hi Alice"));
            received += 1;
        }
    }
    assert_eq!(received, 1, "a resent message is reported once");
    // Other actions get a plain 200.
    let read = Node::new("action")
        .attr("type", "set")
        .attr("epoch", "2")
        .children(vec![
            Node::new("read")
                .attr("jid", "491701111111@s.whatsapp.net")
                .attr("index", "3EB0A1B2C3D4E5F6A7B8")
                .attr("owner", "false")
                .attr("count", "1"),
        ]);
    c.send_node("1637000000.--9", &read, 11, 0x80).await;
    assert_eq!(c.recv_tag("1637000000.--9").await, json!({"status": 200}));
    sim.shutdown().await;
}

#[tokio::test]
async fn binary_queries_are_answered_on_their_tag() {
    let sim = sim(SimConfig::default()).await;
    let (mut c, _, _) = logged_in(&sim).await;
    c.send_node(
        "q1",
        &Node::new("query").attr("type", "chat").attr("epoch", "1"),
        5,
        0x80,
    )
    .await;
    let (tag, node) = c.recv_node().await;
    assert_eq!(tag, "q1");
    assert_eq!(node.get_attr("type"), Some("chat"));
    let history = Node::new("query")
        .attr("type", "message")
        .attr("jid", "491701111111@s.whatsapp.net")
        .attr("kind", "before")
        .attr("count", "10")
        .attr("epoch", "2");
    c.send_node("q2", &history, 7, 0x80).await;
    let (tag, node) = c.recv_node().await;
    assert_eq!(tag, "q2");
    assert_eq!(node.get_attr("add"), Some("before"));
    assert_eq!(relayed_ids(&node), vec!["3EB0A1B2C3D4E5F6A7B8".to_owned()]);
    sim.shutdown().await;
}

#[tokio::test]
async fn json_queries_get_plausible_replies() {
    let sim = sim(SimConfig::default()).await;
    let mut anon = connect(&sim).await;
    anon.send_json("a1", &json!(["query", "exist", "491701111111@c.us"]))
        .await;
    assert_eq!(anon.recv_tag("a1").await, json!({"status": 401}));
    let (mut c, _, _) = logged_in(&sim).await;
    c.send_json("q1", &json!(["query", "exist", "491709999999@c.us"]))
        .await;
    assert_eq!(
        c.recv_tag("q1").await,
        json!({"status": 200, "jid": "491709999999@c.us"})
    );
    c.send_json("q2", &json!(["query", "exist", "not-a-number@c.us"]))
        .await;
    assert_eq!(c.recv_tag("q2").await["status"], 404);
    c.send_json("q3", &json!(["query", "Status", "491701111111@c.us"]))
        .await;
    assert_eq!(
        c.recv_tag("q3").await["status"],
        "Hey there! I am using WhatsApp."
    );
    c.send_json(
        "q4",
        &json!(["query", "ProfilePicThumb", "491701111111@c.us"]),
    )
    .await;
    assert!(
        c.recv_tag("q4").await["eurl"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    c.send_json(
        "q5",
        &json!(["query", "ProfilePicThumb", "491702222222@c.us"]),
    )
    .await;
    assert_eq!(c.recv_tag("q5").await["status"], 404);
    c.send_json(
        "q6",
        &json!(["query", "GroupMetadata", "491701111111-1600000000@g.us"]),
    )
    .await;
    let g = c.recv_tag("q6").await;
    assert_eq!(g["subject"], "Sim Group");
    assert_eq!(g["participants"].as_array().unwrap().len(), 3);
    c.send_json("q7", &json!(["admin", "test"])).await;
    assert_eq!(c.recv_tag("q7").await, json!(["Pong", true]));
    c.send_json("q8", &json!(["query", "mediaConn"])).await;
    assert!(c.recv_tag("q8").await["media_conn"]["hosts"][0]["hostname"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn corrupted_mac_and_malformed_node_then_the_next_frame_decodes() {
    let sim = sim(SimConfig::default()).await;
    let (mut c, _, _) = logged_in(&sim).await;
    let keys = c.keys.clone().unwrap();
    sim.faults().corrupt_next_mac();
    sim.push_message(text_message(
        "491701111111@s.whatsapp.net",
        "3EB0000000000001",
        "one",
    ))
    .await
    .unwrap();
    sim.push_message(text_message(
        "491701111111@s.whatsapp.net",
        "3EB0000000000002",
        "two",
    ))
    .await
    .unwrap();
    let (_, bad) = c.recv_binary().await;
    assert!(matches!(
        keys.open_frame(&bad),
        Err(waweb_crypto::Error::FrameMac)
    ));
    let (_, node) = c.recv_node().await;
    assert_eq!(relayed_ids(&node), vec!["3EB0000000000002".to_owned()]);
    sim.faults().send_malformed_node();
    sim.push_message(text_message(
        "491701111111@s.whatsapp.net",
        "3EB0000000000003",
        "three",
    ))
    .await
    .unwrap();
    let (_, data) = c.recv_binary().await;
    let plain = keys.open_frame(&data).unwrap();
    assert!(waweb_binary::decode_owned(&plain).is_err());
    let (_, node) = c.recv_node().await;
    assert_eq!(relayed_ids(&node), vec!["3EB0000000000003".to_owned()]);
    sim.shutdown().await;
}

#[tokio::test]
async fn kick_replaced_sends_the_cmd_then_closes() {
    let sim = sim(SimConfig::default()).await;
    let (mut c, _, _) = logged_in(&sim).await;
    sim.faults().kick_replaced();
    let v = c.recv_tag("s4").await;
    assert_eq!(
        v,
        json!(["Cmd", {"type": "disconnect", "kind": "replaced"}])
    );
    assert!(matches!(c.recv().await, Frame::Closed(Some(_))));
    sim.shutdown().await;
}

#[tokio::test]
async fn takeover_from_a_second_connection_replaces_the_first() {
    let sim = sim(SimConfig::default()).await;
    let (first, ct, st) = logged_in(&sim).await;
    let keys = first.keys.clone();
    let mut second = connect(&sim).await;
    second.client_id = first.client_id.clone();
    second.keys = keys;
    let mut first = first;
    let (_, t_login) = second.restore(&ct, &st).await;
    assert_eq!(second.recv_tag("s1").await[0], "Conn");
    assert_eq!(second.recv_tag(&t_login).await["status"], 200);
    let v = first.recv_tag("s4").await;
    assert_eq!(v[1]["kind"], "replaced");
    sim.shutdown().await;
}

#[tokio::test]
async fn drop_connection_closes_without_a_close_frame_and_keeps_messages_for_the_restore() {
    let sim = sim(SimConfig::default()).await;
    let (mut c, ct, st) = logged_in(&sim).await;
    sim.faults().drop_connection();
    assert!(matches!(c.recv().await, Frame::Closed(None)));
    // Wait until the simulator has noticed.
    while sim.client(&c.client_id).unwrap().connected {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for i in 0..3 {
        let id = format!("3EB000000000000{i}");
        sim.push_message(text_message("491701111111@s.whatsapp.net", &id, "offline"))
            .await
            .unwrap();
    }
    assert_eq!(sim.client(&c.client_id).unwrap().pending, 3);
    let (mut c, _, _) = restored(c, &sim, &ct, &st).await;
    let mut ids = Vec::new();
    while ids.len() < 3 {
        let (_, node) = c.recv_node().await;
        ids.extend(relayed_ids(&node));
    }
    assert_eq!(
        ids,
        ["3EB0000000000000", "3EB0000000000001", "3EB0000000000002"]
    );
    assert_eq!(sim.client(&c.client_id).unwrap().pending, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn drops_during_a_stream_of_messages_lose_none_and_repeat_none() {
    let sim = sim(SimConfig::default()).await;
    let (c, mut ct, mut st) = logged_in(&sim).await;
    let total = 200;
    let pusher = {
        let msgs: Vec<_> = (0..total)
            .map(|i| text_message("491701111111@s.whatsapp.net", &format!("3EB0{i:016X}"), "m"))
            .collect();
        let faults = sim.faults();
        let sim_ref = &sim;
        let mut events = sim.events();
        async move {
            for (i, m) in msgs.into_iter().enumerate() {
                if i % 50 == 25 {
                    if i > 25 {
                        // One drop at a time: wait for the previous one.
                        while !matches!(events.recv().await, Ok(SimEvent::Disconnected { .. })) {}
                    }
                    faults.drop_after_frames(3);
                }
                sim_ref.push_message(m).await.unwrap();
            }
        }
    };
    let reader = async {
        let mut c = c;
        let mut seen = Vec::new();
        let mut drops = 0;
        while seen.len() < total {
            match c.recv().await {
                Frame::Binary(_, data) => {
                    let plain = c.keys.as_ref().unwrap().open_frame(&data).unwrap();
                    let node = waweb_binary::decode_owned(&plain).unwrap();
                    if node.get_attr("add") == Some("relay") {
                        seen.extend(relayed_ids(&node));
                    }
                }
                Frame::Closed(_) => loop {
                    drops += 1;
                    let (next, ok) = robust_restore(c, &sim, &mut ct, &mut st).await;
                    c = next;
                    if ok {
                        break;
                    }
                },
                _ => {}
            }
        }
        (seen, drops)
    };
    let ((), (seen, drops)) = tokio::join!(pusher, reader);
    assert!(drops >= 4, "{drops} drops");
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), total);
    assert_eq!(unique.len(), total, "no message twice");
    sim.shutdown().await;
}

#[tokio::test]
async fn delay_replies_holds_back_the_keepalive_reply() {
    let sim = sim(SimConfig::default()).await;
    let mut c = connect(&sim).await;
    sim.faults().delay_replies(Duration::from_millis(200));
    let t0 = Instant::now();
    c.send("?,,").await;
    assert!(matches!(c.recv().await, Frame::Pong(_)));
    assert!(t0.elapsed() >= Duration::from_millis(200));
    sim.faults().delay_replies(Duration::ZERO);
    let t0 = Instant::now();
    c.send("?,,").await;
    assert!(matches!(c.recv().await, Frame::Pong(_)));
    assert!(t0.elapsed() < Duration::from_millis(200));
    sim.shutdown().await;
}

#[tokio::test]
async fn logout_over_the_connection_invalidates_the_tokens() {
    let sim = sim(SimConfig::default()).await;
    let mut events = sim.events();
    let (mut c, ct, st) = logged_in(&sim).await;
    c.send(r#"goodbye,,["admin","Conn","disconnect"]"#).await;
    assert!(matches!(c.recv().await, Frame::Closed(_)));
    loop {
        if let SimEvent::LoggedOut { client_id, via } = events.recv().await.unwrap() {
            assert_eq!(client_id, c.client_id);
            assert_eq!(via, "connection");
            break;
        }
    }
    let mut c = c.reconnect(&sim).await;
    let (_, t_login) = c.restore(&ct, &st).await;
    assert_eq!(c.recv_tag(&t_login).await, json!({"status": 401}));
    sim.shutdown().await;
}

fn pct(s: &str) -> String {
    s.replace('%', "%25")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
        .replace('@', "%40")
}

async fn http_post(sim: &SimHandle, target: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .unwrap();
    let req = format!(
        "POST {target} HTTP/1.1\r\nHost: dyn.web.whatsapp.com\r\nContent-Length: 0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn logout_endpoint_checks_the_logout_token_and_invalidates_the_tokens() {
    let sim = sim(SimConfig::default()).await;
    let (mut c, ct, st) = logged_in(&sim).await;
    let browser = sim.client(&c.client_id).unwrap().browser_token;
    let keys = c.keys.clone().unwrap();
    let path = sim
        .logout_url()
        .split_once("//")
        .unwrap()
        .1
        .split_once('/')
        .unwrap()
        .1
        .to_owned();
    let wrong = waweb_crypto::SessionKeys::generate()
        .unwrap()
        .logout_token();
    let reply = http_post(
        &sim,
        &format!("/{path}?t={}&m={}", pct(&browser), pct(&wrong)),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    let reply = http_post(
        &sim,
        &format!(
            "/{path}?t={}&m={}",
            pct(&browser),
            pct(&keys.logout_token())
        ),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with(r#"{"status":200}"#));
    // The open connection is closed, the tokens are dead.
    assert!(matches!(c.recv().await, Frame::Closed(_)));
    assert!(sim.client(&c.client_id).unwrap().logged_out);
    let mut c = c.reconnect(&sim).await;
    let (_, t_login) = c.restore(&ct, &st).await;
    assert_eq!(c.recv_tag(&t_login).await, json!({"status": 401}));
    sim.shutdown().await;
}

#[tokio::test]
async fn scan_endpoint_and_auto_scan_pair_after_the_delay() {
    let sim = sim(SimConfig {
        auto_scan: Some(Duration::from_millis(100)),
        ..SimConfig::default()
    })
    .await;
    let mut c = connect(&sim).await;
    let r = c.init().await["ref"].as_str().unwrap().to_owned();
    let qr = c.qr(&r);
    let t0 = Instant::now();
    let mut s = tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .unwrap();
    let req = format!(
        "POST /scan HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{qr}",
        qr.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert_eq!(c.recv_tag("s1").await[0], "Conn");
    assert!(t0.elapsed() >= Duration::from_millis(100));
    sim.shutdown().await;
}

#[tokio::test]
async fn push_node_and_push_json_reach_the_client() {
    let sim = sim(SimConfig::default()).await;
    let (mut c, _, _) = logged_in(&sim).await;
    sim.push_node(Node::new("action").attr("add", "relay").children(vec![
            Node::new("battery")
                .attr("value", "42")
                .attr("live", "false"),
        ]))
    .await
    .unwrap();
    let (_, node) = c.recv_node().await;
    assert_eq!(node.child_nodes()[0].tag, "battery");
    sim.push_json(json!(["Presence", {"id": "491701111111@c.us", "type": "available"}]))
        .await
        .unwrap();
    let v = c.recv_tag("s4").await;
    assert_eq!(v[0], "Presence");
    sim.shutdown().await;
}

/// Sends raw bytes on a fresh connection and reads until the simulator closes it.
async fn raw_exchange(sim: &SimHandle, bytes: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn plain_endpoints_bound_bodies_and_close_after_one_answer() {
    let sim = sim(SimConfig::default()).await;
    // Over 64 KiB announced: refused before reading it.
    let big = raw_exchange(
        &sim,
        b"POST /scan HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n",
    )
    .await;
    assert!(big.starts_with("HTTP/1.1 413"), "{big}");
    // A chunked body over the limit is cut off as well.
    let mut chunked =
        b"POST /scan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5 {
        chunked.extend_from_slice(b"4000\r\n");
        chunked.extend_from_slice(&[b'a'; 0x4000]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let cut = raw_exchange(&sim, &chunked).await;
    assert!(cut.starts_with("HTTP/1.1 413"), "{cut}");
    // A plain GET of the websocket path is not an upgrade: 404, and the connection closes.
    let plain = raw_exchange(&sim, b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 404"), "{plain}");
    assert!(plain.to_ascii_lowercase().contains("connection: close"));
    // A second request on the same connection gets no answer.
    let two = raw_exchange(
        &sim,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(two.matches("HTTP/1.1 200").count(), 1, "{two}");
    // An upgrade with the wrong version: 426 naming the version wanted.
    let old = raw_exchange(
        &sim,
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nOrigin: https://web.whatsapp.com\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    assert!(old.starts_with("HTTP/1.1 426"), "{old}");
    assert!(
        old.to_ascii_lowercase()
            .contains("sec-websocket-version: 13")
    );
    // A head that never ends is not answered forever: over 16 KiB is refused.
    let mut long = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    long.extend_from_slice(format!("X-Pad: {}\r\n\r\n", "p".repeat(20_000)).as_bytes());
    let long = raw_exchange(&sim, &long).await;
    assert!(long.starts_with("HTTP/1.1 431"), "{long}");
    sim.shutdown().await;
}
