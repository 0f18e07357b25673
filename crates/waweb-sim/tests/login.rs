//! Handshake, keepalive, init, refs, QR login and restore against the simulator over loopback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Frame, connect, sim};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use waweb_sim::{Account, SimConfig, SimEvent};

async fn raw_upgrade(sim: &waweb_sim::SimHandle, headers: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .unwrap();
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: web.whatsapp.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{headers}\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn upgrade_requires_the_origin_and_accepts_other_clients_headers() {
    let sim = sim(SimConfig::default()).await;
    let mut events = sim.events();
    assert!(raw_upgrade(&sim, "").await.starts_with("HTTP/1.1 403"));
    assert!(
        raw_upgrade(&sim, "Origin: https://evil.example\r\n")
            .await
            .starts_with("HTTP/1.1 403")
    );
    assert!(matches!(
        events.recv().await.unwrap(),
        SimEvent::Rejected { status: 403, .. }
    ));
    // Browser-like headers with permessage-deflate offered (not accepted), as one client sends.
    let reply = raw_upgrade(
        &sim,
        "Origin: https://web.whatsapp.com\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nAccept-Encoding: gzip, deflate, br\r\nCache-Control: no-cache\r\nPragma: no-cache\r\nUser-Agent: Mozilla/5.0\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 101"), "{reply}");
    // Header names are case-insensitive (hyper writes them in lower case).
    assert!(
        reply.lines().any(|l| l
            .split_once(':')
            .is_some_and(|(k, v)| k.eq_ignore_ascii_case("sec-websocket-accept")
                && v.trim() == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")),
        "{reply}"
    );
    assert!(!reply.to_ascii_lowercase().contains("extensions"));
    // A bare client with a Go user agent and a trailing slash on the origin.
    let reply = raw_upgrade(
        &sim,
        "Origin: https://web.whatsapp.com/\r\nUser-Agent: Go-http-client/1.1\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 101"), "{reply}");
    sim.shutdown().await;
}

#[tokio::test]
async fn keepalive_is_answered_before_init_and_after() {
    let sim = sim(SimConfig::default()).await;
    let mut c = connect(&sim).await;
    let before = waweb_sim_now_ms();
    c.send("?,,").await;
    match c.recv().await {
        Frame::Pong(ms) => assert!(ms >= before - 1000 && ms <= before + 5000, "{ms}"),
        other => panic!("{other:?}"),
    }
    let reply = c.init().await;
    assert_eq!(reply["status"], 200);
    let mut events = sim.events();
    c.send("?,,").await;
    assert!(matches!(c.recv().await, Frame::Pong(_)));
    // Both directions are logged as events.
    let mut seen = (false, false);
    while seen != (true, true) {
        match events.recv().await.unwrap() {
            SimEvent::FrameIn { frame, .. } => {
                seen.0 |= matches!(frame.body, waweb_sim::FrameBody::Keepalive);
            }
            SimEvent::FrameOut { frame, .. } => {
                seen.1 |= matches!(frame.body, waweb_sim::FrameBody::Pong(_));
                assert!(frame.to_string().starts_with('!'));
            }
            _ => {}
        }
    }
    sim.shutdown().await;
}

fn waweb_sim_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn init_reply_carries_ref_ttl_and_version() {
    let sim = sim(SimConfig {
        ref_ttl: Duration::from_millis(1234),
        ..SimConfig::default()
    })
    .await;
    let mut events = sim.events();
    let mut c = connect(&sim).await;
    let reply = c.init().await;
    assert_eq!(reply["status"], 200);
    assert_eq!(reply["ttl"], 1234);
    assert_eq!(reply["update"], false);
    assert_eq!(reply["curr"], "2.2142.12");
    assert!(reply["time"].as_f64().unwrap() > 1.6e12);
    let r = reply["ref"].as_str().unwrap();
    assert!(r.starts_with("1@") && !r.contains(','));
    loop {
        if let SimEvent::QrShown {
            server_ref,
            client_id,
            ..
        } = events.recv().await.unwrap()
        {
            assert_eq!(server_ref, r);
            assert_eq!(client_id, c.client_id);
            break;
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn old_version_gets_cmd_update() {
    let sim = sim(SimConfig::default()).await;
    let mut c = connect(&sim).await;
    let init = json!([
        "admin",
        "init",
        [0, 3, 2390],
        ["Long", "Short"],
        c.client_id,
        true
    ]);
    c.send_json("t1", &init).await;
    assert_eq!(c.recv_tag("t1").await, json!(["Cmd", {"type": "update"}]));
    sim.shutdown().await;
}

#[tokio::test]
async fn reref_reuses_a_live_ref_renews_an_expired_one_and_denies_past_the_limit() {
    let ttl = Duration::from_millis(150);
    let sim = sim(SimConfig {
        ref_ttl: ttl,
        max_refs: 3,
        ..SimConfig::default()
    })
    .await;
    let mut c = connect(&sim).await;
    let first = c.init().await["ref"].as_str().unwrap().to_owned();
    let reref = json!(["admin", "Conn", "reref"]);
    c.send_json("r1", &reref).await;
    let r = c.recv_tag("r1").await;
    assert_eq!(r["status"], 304);
    assert_eq!(r["ref"], first.as_str());
    let mut refs = vec![first];
    for i in 2..=3 {
        tokio::time::sleep(ttl).await;
        c.send_json(&format!("r{i}"), &reref).await;
        let r = c.recv_tag(&format!("r{i}")).await;
        assert_eq!(r["status"], 200, "{r}");
        assert_eq!(r["ttl"], 150);
        let new = r["ref"].as_str().unwrap().to_owned();
        assert!(!refs.contains(&new));
        refs.push(new);
    }
    tokio::time::sleep(ttl).await;
    c.send_json("r4", &reref).await;
    assert_eq!(c.recv_tag("r4").await, json!({"status": 429}));
    // An expired ref cannot be scanned; the current one could have been.
    let err = sim.scan(&c.qr(&refs[2])).await.unwrap_err();
    assert!(matches!(err, waweb_sim::SimError::RefExpired(_)), "{err}");
    let err = sim.scan(&c.qr(&refs[0])).await.unwrap_err();
    assert!(matches!(err, waweb_sim::SimError::UnknownRef(_)), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn scan_sends_conn_with_a_secret_the_client_decrypts_then_stream_props_and_burst() {
    let sim = sim(SimConfig::default()).await;
    let mut events = sim.events();
    let mut c = connect(&sim).await;
    let conn = c.login(&sim).await;
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
        assert!(conn.get(k).is_some(), "Conn lacks {k}");
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
        assert!(conn["phone"].get(k).is_some(), "Conn.phone lacks {k}");
    }
    assert_eq!(conn["wid"], "491234567890@c.us");
    // Keys agree on both sides.
    let info = sim.client(&c.client_id).unwrap();
    assert_eq!(Some(info.keys), c.keys);
    assert_eq!(conn["clientToken"], info.client_token.as_str());
    let stream = c.recv_tag("s2").await;
    assert_eq!(stream, json!(["Stream", "update", false, "2.2142.12"]));
    let props = c.recv_tag("s3").await;
    assert_eq!(props[0], "Props");
    assert_eq!(props[1]["maxParticipants"], 257);
    let (tag, contacts) = c.recv_node().await;
    assert!(tag.starts_with("preempt-"));
    assert_eq!(contacts.tag, "response");
    assert_eq!(contacts.get_attr("type"), Some("contacts"));
    assert_eq!(contacts.child_nodes().len(), 3);
    // On the wire the server part is the token `s.whatsapp.net`, which the decoder shows as `c.us`.
    assert_eq!(
        contacts.child_nodes()[0].get_attr("jid"),
        Some("491701111111@c.us")
    );
    let (_, chats) = c.recv_node().await;
    assert_eq!(chats.get_attr("type"), Some("chat"));
    assert_eq!(chats.child_nodes().len(), 3);
    let (_, last) = c.recv_node().await;
    assert_eq!(last.tag, "action");
    assert_eq!(last.get_attr("add"), Some("last"));
    let texts: Vec<String> = last
        .child_nodes()
        .iter()
        .map(|m| match &m.content {
            Some(waweb_binary::Content::Bytes(b)) => waweb_proto::decode_web_message_info(b)
                .unwrap()
                .info
                .text()
                .unwrap()
                .to_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts[0], "Hi, this is Alice.");
    let mut saw = (false, false);
    while saw != (true, true) {
        match events.recv().await.unwrap() {
            SimEvent::Scanned { client_id, .. } => saw.0 = client_id == c.client_id,
            SimEvent::LoggedIn {
                client_id,
                restored,
                ..
            } => {
                saw.1 = client_id == c.client_id && !restored;
            }
            _ => {}
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn scan_refuses_bad_qr_strings() {
    let sim = sim(SimConfig::default()).await;
    let mut c = connect(&sim).await;
    let r = c.init().await["ref"].as_str().unwrap().to_owned();
    assert!(sim.scan("nonsense").await.is_err());
    assert!(
        sim.scan(&format!("{r},AAAA,{}", c.client_id))
            .await
            .is_err()
    );
    let other = waweb_crypto::KeyPair::generate()
        .unwrap()
        .qr_string(&r, "someone-else");
    assert!(matches!(
        sim.scan(&other).await,
        Err(waweb_sim::SimError::ClientIdMismatch)
    ));
    sim.scan(&c.qr(&r)).await.unwrap();
    assert_eq!(c.recv_tag("s1").await[0], "Conn");
    sim.shutdown().await;
}

#[tokio::test]
async fn restore_with_tokens_rotates_them_and_stale_tokens_get_a_challenge() {
    let sim = sim(SimConfig::default()).await;
    let mut events = sim.events();
    let mut c = connect(&sim).await;
    let conn = c.login(&sim).await;
    let (ct0, st0) = (
        conn["clientToken"].as_str().unwrap().to_owned(),
        conn["serverToken"].as_str().unwrap().to_owned(),
    );
    c.skip_burst().await;
    let mut c = c.reconnect(&sim).await;
    let (t_init, t_login) = c.restore(&ct0, &st0).await;
    assert_eq!(c.recv_tag(&t_init).await["status"], 200);
    // Conn first on s1 (no secret, new tokens), then the login's status.
    let conn = c.recv_tag("s1").await;
    assert_eq!(conn[0], "Conn");
    assert!(conn[1].get("secret").is_none());
    let (ct1, st1) = (
        conn[1]["clientToken"].as_str().unwrap().to_owned(),
        conn[1]["serverToken"].as_str().unwrap().to_owned(),
    );
    assert_ne!(ct1, ct0);
    assert_ne!(st1, st0);
    assert_eq!(c.recv_tag(&t_login).await, json!({"status": 200}));
    assert_eq!(c.recv_tag("s2").await[0], "Stream");
    assert_eq!(c.recv_tag("s3").await[0], "Props");
    c.skip_burst().await;
    // Stale tokens: challenge on s1, answer, Conn on s2, then the login's status.
    let mut c = c.reconnect(&sim).await;
    let (_, t_login) = c.restore(&ct0, &st0).await;
    let ch = c.recv_tag("s1").await;
    assert_eq!(ch[0], "Cmd");
    assert_eq!(ch[1]["type"], "challenge");
    let answer = c
        .keys
        .as_ref()
        .unwrap()
        .challenge_answer(ch[1]["challenge"].as_str().unwrap())
        .unwrap();
    c.send_json(
        "ch1",
        &json!(["admin", "challenge", answer, st0, c.client_id]),
    )
    .await;
    assert_eq!(c.recv_tag("ch1").await, json!({"status": 200}));
    let conn = c.recv_tag("s2").await;
    assert_eq!(conn[0], "Conn");
    assert_eq!(c.recv_tag(&t_login).await, json!({"status": 200}));
    assert_eq!(c.recv_tag("s3").await[0], "Stream");
    let mut restored = 0;
    while restored < 2 {
        if let SimEvent::LoggedIn { restored: true, .. } = events.recv().await.unwrap() {
            restored += 1;
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_challenge_answer_is_refused() {
    let sim = sim(SimConfig::default()).await;
    let mut c = connect(&sim).await;
    let conn = c.login(&sim).await;
    let (ct, st) = (
        conn["clientToken"].as_str().unwrap().to_owned(),
        conn["serverToken"].as_str().unwrap().to_owned(),
    );
    sim.faults().require_challenge();
    let mut c = c.reconnect(&sim).await;
    let (_, t_login) = c.restore(&ct, &st).await;
    let ch = c.recv_tag("s1").await;
    assert_eq!(ch[1]["type"], "challenge");
    // The seed project's wrong answer: the challenge signed with the wrong key.
    let wrong = waweb_crypto::SessionKeys::generate()
        .unwrap()
        .challenge_answer(ch[1]["challenge"].as_str().unwrap())
        .unwrap();
    c.send_json(
        "ch1",
        &json!(["admin", "challenge", wrong, st, c.client_id]),
    )
    .await;
    assert_eq!(c.recv_tag("ch1").await, json!({"status": 401}));
    assert_eq!(c.recv_tag(&t_login).await, json!({"status": 401}));
    sim.shutdown().await;
}

#[tokio::test]
async fn each_login_status_on_demand_and_401_for_unknown_clients() {
    let sim = sim(SimConfig::default()).await;
    let mut c = connect(&sim).await;
    let conn = c.login(&sim).await;
    let (ct, st) = (
        conn["clientToken"].as_str().unwrap().to_owned(),
        conn["serverToken"].as_str().unwrap().to_owned(),
    );
    let mut c = Some(c);
    for status in [401u16, 403, 405, 409, 419] {
        sim.faults().next_login_status(status);
        let mut next = c.take().unwrap().reconnect(&sim).await;
        let (_, t_login) = next.restore(&ct, &st).await;
        let reply = next.recv_tag(&t_login).await;
        assert_eq!(reply["status"], status);
        if status == 403 {
            assert!(reply["tos"].as_u64().unwrap() >= 2);
        }
        c = Some(next);
    }
    // The fault was one-shot: the same tokens still work.
    let mut c = c.take().unwrap().reconnect(&sim).await;
    let (_, t_login) = c.restore(&ct, &st).await;
    assert_eq!(c.recv_tag("s1").await[0], "Conn");
    assert_eq!(c.recv_tag(&t_login).await["status"], 200);
    // An unknown client id.
    let mut stranger = connect(&sim).await;
    let (_, t_login) = stranger.restore("x", "y").await;
    assert_eq!(stranger.recv_tag(&t_login).await, json!({"status": 401}));
    sim.shutdown().await;
}

#[tokio::test]
async fn account_files_parse_and_the_sample_is_complete() {
    let a = Account::sample();
    assert_eq!(a.wid, "491234567890@c.us");
    assert_eq!(a.contacts.len(), 3);
    assert_eq!(a.chats.len(), 3);
    assert_eq!(a.messages.len(), 3);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/accounts/sample.json");
    assert_eq!(Account::load(path).unwrap().pushname, "Sim User");
    assert!(Account::from_json("{}").is_err());
    assert!(Account::from_json(r#"{"wid":"nobody","pushname":"x"}"#).is_err());
    let min = Account::from_json(r#"{"wid":"4915112345678@c.us","pushname":"Min"}"#).unwrap();
    assert!(min.messages.is_empty());
    assert_eq!(min.platform, "android");
    assert!(Account::load("/nonexistent/account.json").is_err());
}

async fn paired(sim: &waweb_sim::SimHandle) -> (common::Client, String, String) {
    let mut c = connect(sim).await;
    let conn = c.login(sim).await;
    c.skip_burst().await;
    let ct = conn["clientToken"].as_str().unwrap().to_owned();
    let st = conn["serverToken"].as_str().unwrap().to_owned();
    (c, ct, st)
}

#[tokio::test]
async fn reconnect_variant_needs_the_users_jid() {
    let sim = sim(SimConfig::default()).await;
    let (c, ct, st) = paired(&sim).await;
    let mut c = c.reconnect(&sim).await;
    let login = json!([
        "admin",
        "login",
        ct,
        st,
        c.client_id,
        "reconnect",
        "491299999999@c.us"
    ]);
    c.send_json("l1", &login).await;
    assert_eq!(c.recv_tag("l1").await, json!({"status": 401}));
    let mut c = c.reconnect(&sim).await;
    let login = json!([
        "admin",
        "login",
        ct,
        st,
        c.client_id,
        "reconnect",
        "491234567890@c.us"
    ]);
    c.send_json("l2", &login).await;
    assert_eq!(c.recv_tag("s1").await[0], "Conn");
    assert_eq!(c.recv_tag("l2").await, json!({"status": 200}));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_client_that_vanishes_without_close_frame_can_restore() {
    let sim = sim(SimConfig::default()).await;
    let mut events = sim.events();
    let (c, ct, st) = paired(&sim).await;
    let (id, keys, kp) = (c.client_id.clone(), c.keys.clone(), c.key_pair);
    // Drop the TCP connection without a websocket close frame, as some clients do.
    drop(c.ws);
    loop {
        if let SimEvent::Disconnected { client_id, .. } = events.recv().await.unwrap() {
            assert_eq!(client_id.as_deref(), Some(id.as_str()));
            break;
        }
    }
    let mut c = connect(&sim).await;
    c.client_id = id;
    c.keys = keys;
    c.key_pair = kp;
    let (_, t_login) = c.restore(&ct, &st).await;
    assert_eq!(c.recv_tag("s1").await[0], "Conn");
    assert_eq!(c.recv_tag(&t_login).await["status"], 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeated_login_is_ignored() {
    let sim = sim(SimConfig::default()).await;
    let (c, ct, st) = paired(&sim).await;
    let mut c = c.reconnect(&sim).await;
    let login = json!(["admin", "login", ct, st, c.client_id, "takeover"]);
    c.send_json("l1", &login).await;
    c.send_json("l1", &login).await;
    c.send("?,,").await;
    let mut conns = 0;
    loop {
        match c.recv().await {
            Frame::Text(_, v) if v[0] == "Conn" => conns += 1,
            Frame::Pong(_) => break,
            Frame::Closed(m) => panic!("{m:?}"),
            _ => {}
        }
    }
    assert_eq!(conns, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_paired_client_gets_a_pushed_message_once() {
    let sim = sim(SimConfig::default()).await;
    let (mut a, _, _) = paired(&sim).await;
    let (mut b, _, _) = paired(&sim).await;
    sim.push_message(common::text_message(
        "491701111111@s.whatsapp.net",
        "3EB0FEED",
        "to both",
    ))
    .await
    .unwrap();
    for c in [&mut a, &mut b] {
        let (_, node) = c.recv_node().await;
        assert_eq!(node.get_attr("add"), Some("relay"));
    }
    a.send("?,,").await;
    assert!(
        matches!(a.recv().await, Frame::Pong(_)),
        "nothing else queued"
    );
    sim.shutdown().await;
}
