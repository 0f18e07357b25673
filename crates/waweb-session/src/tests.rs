//! State-machine tests: no sockets, a virtual clock, and a tiny fake server built on
//! `waweb-crypto`'s server side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use waweb_binary::{Node, Tree};
use waweb_crypto::{KeyPair, LoginSecret, SessionKeys};

use crate::*;

/// Deterministic bytes: a counter.
struct TestRng(u8);
impl Randomness for TestRng {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), RandomError> {
        for b in buf {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}

struct FailingRng;
impl Randomness for FailingRng {
    fn fill(&mut self, _: &mut [u8]) -> Result<(), RandomError> {
        Err(RandomError)
    }
}

const T0: u64 = 1_600_000_000;

fn cfg() -> Config {
    Config::default()
}

fn drain(s: &mut Session) -> (Vec<Transmit>, Vec<Event>) {
    let mut t = Vec::new();
    while let Some(x) = s.poll_transmit() {
        t.push(x);
    }
    let mut e = Vec::new();
    while let Some(x) = s.poll_event() {
        e.push(x);
    }
    (t, e)
}

fn text(t: &Transmit) -> &str {
    match t {
        Transmit::Text(s) => s,
        Transmit::Binary(_) => panic!("expected text, got {t:?}"),
    }
}

/// `(tag, json)` of a text frame.
fn parse(t: &Transmit) -> (String, Value) {
    let (tag, payload) = text(t).split_once(',').unwrap();
    (tag.to_owned(), serde_json::from_str(payload).unwrap())
}

/// The fake server: session keys it chose, and how to talk.
struct FakeServer {
    keys: SessionKeys,
}

impl FakeServer {
    fn new() -> Self {
        Self {
            keys: SessionKeys::new([0x11; 32], [0x22; 32]),
        }
    }

    /// The phone scanned `qr`: the `Conn` the server sends on `s1`.
    fn conn_for_qr(&self, qr: &str, tokens: (&str, &str)) -> String {
        let parts: Vec<&str> = qr.split(',').collect();
        assert_eq!(parts.len(), 3);
        let client_pub: [u8; 32] = B64.decode(parts[1]).unwrap().try_into().unwrap();
        let eph = KeyPair::from_secret_bytes([0x33; 32]);
        let secret = LoginSecret::build(&eph, &client_pub, &self.keys).unwrap();
        self.conn(Some(&secret.to_base64()), tokens)
    }

    fn conn(&self, secret: Option<&str>, (client, server): (&str, &str)) -> String {
        let mut c = json!({
            "battery": 80, "browserToken": "browser+tok/=", "clientToken": client,
            "serverToken": server, "connected": true, "lc": "DE", "lg": "de",
            "locales": "de-DE", "platform": "android", "plugged": false,
            "pushname": "Alice", "tos": 0, "wid": "491234567890@c.us",
            "phone": {"wa_version": "2.21.1", "device_model": "Pixel"}
        });
        if let Some(s) = secret {
            c["secret"] = json!(s);
        }
        format!("s1,{}", json!(["Conn", c]))
    }

    fn binary(&self, tag: &str, node: &Node) -> Vec<u8> {
        let plain = waweb_binary::encode(node).unwrap();
        let mut f = format!("{tag},").into_bytes();
        f.extend_from_slice(&self.keys.seal_frame_with_iv(&plain, &[9; 16]));
        f
    }

    fn credentials(&self) -> Credentials {
        let mut c = Credentials::new(
            "Y2xpZW50LWlkLTEyMzQ1Ng==".into(),
            "ctok-1".into(),
            "stok-1".into(),
            &self.keys,
        );
        c.browser_token = Some("btok".into());
        c
    }
}

/// A logged-in QR session and the instant it logged in.
fn qr_logged_in(server: &FakeServer) -> (Session, Instant) {
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    let (t, _) = drain(&mut s);
    let (tag, _) = parse(&t[0]);
    s.handle_text(
        now,
        &format!(r#"{tag},{{"status":200,"ref":"1@ref","ttl":20000}}"#),
    );
    let (_, e) = drain(&mut s);
    let Event::Qr { code, .. } = &e[0] else {
        panic!("{e:?}")
    };
    s.handle_text(now, &server.conn_for_qr(code, ("ctok-1", "stok-1")));
    drain(&mut s);
    assert!(s.is_logged_in());
    (s, now)
}

#[test]
fn qr_login_init_form_qr_conn_keys_stream_props_and_first_binary_frame() {
    let server = FakeServer::new();
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    assert_eq!(s.state(), &State::Init);
    let (t, e) = drain(&mut s);
    assert!(e.is_empty());
    assert_eq!(t.len(), 1);
    let client_id = B64.encode((1u8..=16).collect::<Vec<_>>());
    assert_eq!(
        text(&t[0]),
        format!(r#"{T0}.--0,["admin","init",[2,2142,12],["waweb","waweb"],"{client_id}",true]"#)
    );
    assert_eq!(s.client_id(), client_id);

    s.handle_text(now, &format!(r#"{T0}.--0,{{"status":200,"ref":"1@ref","ttl":20000,"update":false,"curr":"2.2142.12","time":1600000000000.0}}"#));
    assert_eq!(s.state(), &State::Scanning { rerefs: 0 });
    let (t, e) = drain(&mut s);
    assert!(t.is_empty());
    let Event::Qr {
        code,
        ttl,
        attempt: 0,
        reused: false,
    } = &e[0]
    else {
        panic!("{e:?}")
    };
    assert_eq!(*ttl, Duration::from_secs(20));
    let kp = KeyPair::from_secret_bytes(core::array::from_fn(|i| 17 + i as u8));
    assert_eq!(code, &format!("1@ref,{},{client_id}", kp.qr_public_key()));
    assert_eq!(s.poll_timeout(), Some(now + Duration::from_secs(20)));

    s.handle_text(now, &server.conn_for_qr(code, ("ctok-1", "stok-1")));
    let (_, e) = drain(&mut s);
    let Event::LoggedIn {
        info,
        how: LoginKind::Qr,
    } = &e[0]
    else {
        panic!("{e:?}")
    };
    assert_eq!(info.wid.as_deref(), Some("491234567890@c.us"));
    assert_eq!(info.battery, Some(80));
    let Event::CredentialsUpdated(c) = &e[1] else {
        panic!("{e:?}")
    };
    assert_eq!(c.keys(), server.keys, "keys derived on both sides agree");
    assert_eq!(
        (c.client_token.as_str(), c.server_token.as_str()),
        ("ctok-1", "stok-1")
    );
    assert_eq!(c.browser_token.as_deref(), Some("browser+tok/="));
    assert_eq!(c.pushname.as_deref(), Some("Alice"));
    assert_eq!(c.client_id, client_id);
    assert!(s.is_logged_in());
    // No ref timer any more: the next deadline is the keepalive.
    assert_eq!(s.poll_timeout(), Some(now + Duration::from_secs(20)));

    s.handle_text(now, r#"s2,["Stream","update",false,"0.2.7314"]"#);
    s.handle_text(
        now,
        r#"s3,["Props",{"imageMaxKBytes":1024,"maxParticipants":257}]"#,
    );
    let node = Node::new("response")
        .attr("type", "chat")
        .children(vec![Node::new("chat").attr("jid", "1@c.us")]);
    s.handle_binary(now, &server.binary("preempt-1", &node));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(&e[0], Event::Stream(StreamInfo { kind, update: false, version: Some(v) }) if kind == "update" && v == "0.2.7314")
    );
    assert!(matches!(&e[1], Event::Props(p) if p["maxParticipants"] == 257));
    assert!(matches!(&e[2], Event::Node { tag, node: n } if tag == "preempt-1" && *n == node));
}

#[test]
fn reref_until_the_limit_then_qr_expired() {
    let now = Instant::now();
    let mut c = cfg();
    c.max_rerefs = 2;
    let mut s = Session::login(c, now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(
        now,
        &format!(r#"{T0}.--0,{{"status":200,"ref":"r0","ttl":1000}}"#),
    );
    drain(&mut s);
    let mut t_now = now;
    for i in 1..=2u32 {
        t_now += Duration::from_millis(1000);
        assert_eq!(s.poll_timeout(), Some(t_now));
        s.handle_timeout(t_now);
        let (t, _) = drain(&mut s);
        let (tag, v) = parse(&t[0]);
        assert_eq!(v, json!(["admin", "Conn", "reref"]));
        assert_eq!(tag, format!("{T0}.--{i}"));
        s.handle_text(
            t_now,
            &format!(r#"{tag},{{"status":200,"ref":"r{i}","ttl":1000}}"#),
        );
        let (_, e) = drain(&mut s);
        let Event::Qr {
            code,
            attempt,
            reused: false,
            ..
        } = &e[0]
        else {
            panic!("{e:?}")
        };
        assert_eq!(*attempt, i);
        assert!(code.starts_with(&format!("r{i},")));
    }
    t_now += Duration::from_millis(1000);
    s.handle_timeout(t_now);
    let (t, e) = drain(&mut s);
    assert!(t.is_empty());
    assert!(matches!(&e[..], [Event::Closed(CloseReason::QrExpired)]));
    assert!(CloseReason::QrExpired.is_terminal());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn reref_304_reuses_and_429_is_denied() {
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(
        now,
        &format!(r#"{T0}.--0,{{"status":200,"ref":"r0","ttl":1000}}"#),
    );
    drain(&mut s);
    let t1 = now + Duration::from_secs(1);
    s.handle_timeout(t1);
    let (t, _) = drain(&mut s);
    let (tag, _) = parse(&t[0]);
    s.handle_text(t1, &format!(r#"{tag},{{"status":304}}"#));
    let (_, e) = drain(&mut s);
    let Event::Qr {
        code,
        reused: true,
        attempt: 1,
        ttl,
    } = &e[0]
    else {
        panic!("{e:?}")
    };
    assert!(code.starts_with("r0,"));
    assert_eq!(
        *ttl,
        Duration::from_secs(20),
        "default ttl when the reply has none"
    );
    let t2 = t1 + Duration::from_secs(20);
    s.handle_timeout(t2);
    let (t, _) = drain(&mut s);
    // The keepalive fell due too.
    assert_eq!(text(&t[0]), "?,,");
    let (tag, _) = parse(&t[1]);
    s.handle_text(t2, &format!(r#"{tag},{{"status":429}}"#));
    let (_, e) = drain(&mut s);
    assert!(matches!(&e[..], [Event::Closed(CloseReason::RefDenied)]));
}

#[test]
fn restore_sends_init_and_login_back_to_back_then_conn_rotates_tokens() {
    let server = FakeServer::new();
    let now = Instant::now();
    let creds = server.credentials();
    let mut s = Session::restore(cfg(), now, T0, creds.clone(), Box::new(TestRng(0))).unwrap();
    let (t, e) = drain(&mut s);
    assert!(e.is_empty());
    assert_eq!(t.len(), 2);
    assert_eq!(
        text(&t[0]),
        format!(
            r#"{T0}.--0,["admin","init",[2,2142,12],["waweb","waweb"],"{}",true]"#,
            creds.client_id
        )
    );
    assert_eq!(
        text(&t[1]),
        format!(
            r#"{T0}.--1,["admin","login","ctok-1","stok-1","{}","takeover"]"#,
            creds.client_id
        )
    );
    s.handle_text(
        now,
        &format!(r#"{T0}.--0,{{"status":200,"ref":"x","ttl":20000}}"#),
    );
    s.handle_text(now, &server.conn(None, ("ctok-2", "stok-2")));
    s.handle_text(now, &format!(r#"{T0}.--1,{{"status":200}}"#));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(
            &e[0],
            Event::LoggedIn {
                how: LoginKind::Restored,
                ..
            }
        ),
        "{e:?}"
    );
    let Event::CredentialsUpdated(c) = &e[1] else {
        panic!("{e:?}")
    };
    assert_eq!(
        (c.client_token.as_str(), c.server_token.as_str()),
        ("ctok-2", "stok-2")
    );
    assert_eq!(c.keys(), server.keys);
    assert_eq!(e.len(), 2, "no Qr on restore: {e:?}");

    // A later Conn rotates the tokens again: persist, no second LoggedIn.
    s.handle_text(now, &server.conn(None, ("ctok-3", "stok-3")));
    let (_, e) = drain(&mut s);
    assert!(matches!(&e[..], [Event::CredentialsUpdated(c)] if c.server_token == "stok-3"));
    assert_eq!(s.credentials().unwrap().client_token, "ctok-3");
}

#[test]
fn restore_statuses_are_typed_outcomes() {
    let server = FakeServer::new();
    let cases = [
        (r#"{"status":401}"#, LoginFailure::Unpaired),
        (
            r#"{"status":403,"tos":2}"#,
            LoginFailure::AccessDenied { tos: Some(2) },
        ),
        (r#"{"status":405}"#, LoginFailure::AlreadyLoggedIn),
        (r#"{"status":409}"#, LoginFailure::LoggedInElsewhere),
        (r#"{"status":419}"#, LoginFailure::Invalidated),
        (r#"{"status":500}"#, LoginFailure::Other(500)),
    ];
    for (reply, want) in cases {
        let now = Instant::now();
        let mut s =
            Session::restore(cfg(), now, T0, server.credentials(), Box::new(TestRng(0))).unwrap();
        drain(&mut s);
        s.handle_text(now, &format!("{T0}.--1,{reply}"));
        let (_, e) = drain(&mut s);
        let reason = CloseReason::Login(want);
        assert!(reason.is_terminal());
        assert!(
            matches!(&e[..], [Event::Closed(r)] if *r == reason),
            "{e:?}"
        );
        assert_eq!(s.state(), &State::Closed(reason));
    }
}

#[test]
fn challenge_is_answered_with_hmac_of_mac_key_then_conn_on_s2() {
    let server = FakeServer::new();
    let now = Instant::now();
    let creds = server.credentials();
    let mut s = Session::restore(cfg(), now, T0, creds.clone(), Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    let challenge = B64.encode(b"prove you hold the keys");
    s.handle_text(
        now,
        &format!(r#"s1,["Cmd",{{"type":"challenge","challenge":"{challenge}"}}]"#),
    );
    let (t, e) = drain(&mut s);
    assert!(matches!(&e[..], [Event::ChallengeAnswered]));
    let (tag, v) = parse(&t[0]);
    assert_eq!(tag, format!("{T0}.--2"));
    let answer = B64.encode(server.keys.challenge_answer_raw(b"prove you hold the keys"));
    assert_eq!(
        v,
        json!(["admin", "challenge", answer, "stok-1", creds.client_id])
    );
    assert_eq!(s.state(), &State::Restoring { challenged: true });
    s.handle_text(now, &format!(r#"{tag},{{"status":200}}"#));
    s.handle_text(
        now,
        &server
            .conn(None, ("ctok-9", "stok-9"))
            .replacen("s1,", "s2,", 1),
    );
    let (_, e) = drain(&mut s);
    assert!(
        matches!(
            &e[0],
            Event::LoggedIn {
                how: LoginKind::Challenged,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(&e[1], Event::CredentialsUpdated(c) if c.client_token == "ctok-9"));
}

#[test]
fn challenge_refused_and_conn_timeout() {
    let server = FakeServer::new();
    let now = Instant::now();
    let mut s =
        Session::restore(cfg(), now, T0, server.credentials(), Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(now, r#"s1,["Cmd",{"type":"challenge","challenge":"AAAA"}]"#);
    let (t, _) = drain(&mut s);
    let (tag, _) = parse(&t[0]);
    s.handle_text(now, &format!(r#"{tag},{{"status":401}}"#));
    let (_, e) = drain(&mut s);
    assert!(matches!(
        &e[..],
        [Event::Closed(CloseReason::ChallengeFailed(401))]
    ));

    // Login answered 200 but no Conn ever comes.
    let mut s =
        Session::restore(cfg(), now, T0, server.credentials(), Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(now, &format!(r#"{T0}.--0,{{"status":200}}"#));
    s.handle_text(now, &format!(r#"{T0}.--1,{{"status":200}}"#));
    let deadline = s.poll_timeout().unwrap();
    assert_eq!(deadline, now + Duration::from_secs(20), "keepalive first");
    s.handle_timeout(now + Duration::from_secs(40));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(e.last(), Some(Event::Closed(CloseReason::Timeout("Conn")))),
        "{e:?}"
    );
    assert!(!CloseReason::Timeout("Conn").is_terminal());
}

#[test]
fn init_timeout_and_init_failure() {
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_timeout(now + Duration::from_secs(20));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(e.last(), Some(Event::Closed(CloseReason::Timeout("init")))),
        "{e:?}"
    );

    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(now, &format!(r#"{T0}.--0,{{"status":400}}"#));
    let (_, e) = drain(&mut s);
    assert!(matches!(
        &e[..],
        [Event::Closed(CloseReason::InitFailed(400))]
    ));
    assert!(Session::login(cfg(), now, T0, Box::new(FailingRng)).is_err());
}

#[test]
fn keepalive_every_interval_pong_and_missed_reply_means_dead() {
    let server = FakeServer::new();
    let (mut s, now) = qr_logged_in(&server);
    let t1 = now + Duration::from_secs(20);
    assert_eq!(s.poll_timeout(), Some(t1));
    s.handle_timeout(t1);
    let (t, _) = drain(&mut s);
    assert_eq!(t, vec![Transmit::Text("?,,".into())]);
    assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(10)));
    s.handle_text(t1, "!1600000020123");
    let (_, e) = drain(&mut s);
    assert!(matches!(
        &e[..],
        [Event::Pong {
            server_time_ms: 1_600_000_020_123
        }]
    ));
    assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(20)));

    let t2 = t1 + Duration::from_secs(20);
    s.handle_timeout(t2);
    let (t, _) = drain(&mut s);
    assert_eq!(t.len(), 1);
    s.handle_timeout(t2 + Duration::from_secs(9));
    assert!(!s.is_closed());
    s.handle_timeout(t2 + Duration::from_secs(10));
    let (_, e) = drain(&mut s);
    assert!(matches!(
        &e[..],
        [Event::Closed(CloseReason::KeepaliveTimeout)]
    ));
    assert!(!CloseReason::KeepaliveTimeout.is_terminal());
}

#[test]
fn cmd_update_and_replaced_are_typed() {
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(now, r#"s0,["Cmd",{"type":"update"}]"#);
    let (_, e) = drain(&mut s);
    assert!(matches!(
        &e[..],
        [Event::Closed(CloseReason::UpdateRequired)]
    ));
    // The same on the init request's own tag.
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(now, &format!(r#"{T0}.--0,["Cmd",{{"type":"update"}}]"#));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(&e[..], [Event::Closed(CloseReason::UpdateRequired)]),
        "{e:?}"
    );

    let server = FakeServer::new();
    let (mut s, now) = qr_logged_in(&server);
    s.handle_text(now, r#"x,["Cmd",{"type":"disconnect","kind":"replaced"}]"#);
    let (_, e) = drain(&mut s);
    assert!(matches!(&e[..], [Event::Closed(CloseReason::Replaced)]));
    // Nothing more after close.
    s.handle_text(now, r#"x,["Props",{}]"#);
    assert!(drain(&mut s).1.is_empty());
}

#[test]
fn bad_frames_are_reported_and_skipped() {
    let server = FakeServer::new();
    // Binary before login.
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_binary(now, &server.binary("t", &Node::new("x")));
    let (_, e) = drain(&mut s);
    assert!(matches!(
        &e[..],
        [Event::FrameError {
            error: FrameError::NoKeys,
            ..
        }]
    ));

    let (mut s, now) = qr_logged_in(&server);
    let good = Node::new("action").attr("add", "last");
    let mut corrupt = server.binary("c1", &good);
    *corrupt.last_mut().unwrap() ^= 1;
    s.handle_binary(now, &corrupt);
    // A node that is not valid binary format (LIST_8 of size 0 is invalid), correctly sealed.
    let mut malformed = b"c2,".to_vec();
    malformed.extend_from_slice(&server.keys.seal_frame_with_iv(&[248, 0], &[1; 16]));
    s.handle_binary(now, &malformed);
    s.handle_text(now, "t3,{not json");
    s.handle_text(now, "no-comma");
    s.handle_binary(now, b"no comma at all");
    // `tag,,` form.
    let mut double = b"c4,,".to_vec();
    double.extend_from_slice(&server.binary("", &good)[1..]);
    s.handle_binary(now, &double);
    let (_, e) = drain(&mut s);
    assert!(
        matches!(&e[0], Event::FrameError { tag: Some(t), error: FrameError::Open(_) } if t == "c1"),
        "{e:?}"
    );
    assert!(
        matches!(&e[1], Event::FrameError { tag: Some(t), error: FrameError::Decode(_) } if t == "c2"),
        "{e:?}"
    );
    assert!(matches!(
        &e[2],
        Event::FrameError {
            error: FrameError::Json,
            ..
        }
    ));
    assert!(matches!(
        &e[3],
        Event::FrameError {
            error: FrameError::Malformed(_),
            ..
        }
    ));
    assert!(matches!(
        &e[4],
        Event::FrameError {
            error: FrameError::Malformed(_),
            ..
        }
    ));
    assert!(
        matches!(&e[5], Event::Node { tag, node } if tag == "c4" && *node == good),
        "{e:?}"
    );
    assert!(s.is_logged_in());
}

#[test]
fn outgoing_binary_frames_carry_metric_flags_epoch_and_get_replies() {
    let server = FakeServer::new();
    let (mut s, now) = qr_logged_in(&server);
    let node = Node::new("action")
        .attr("type", "relay")
        .children(vec![Node::new("message").bytes(vec![1, 2, 3])]);
    let tag = s
        .send_node(now, node.clone(), Metric::MESSAGE, Flags::IGNORE)
        .unwrap();
    let (t, _) = drain(&mut s);
    let Transmit::Binary(f) = &t[0] else { panic!() };
    let prefix = format!("{tag},");
    assert!(f.starts_with(prefix.as_bytes()));
    assert_eq!(f[prefix.len()], 16);
    assert_eq!(f[prefix.len() + 1], 0x80);
    let plain = server.keys.open_frame(&f[prefix.len() + 2..]).unwrap();
    let got = Tree::decode(&plain).unwrap().root().to_owned();
    assert_eq!(got.get_attr("epoch"), Some("1"));
    assert_eq!(got.get_attr("type"), Some("relay"));
    s.handle_text(now, &format!(r#"{tag},{{"status":200}}"#));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(&e[..], [Event::Response { tag: t, result: Ok(Reply::Json(v)) }] if *t == tag && v["status"] == 200)
    );

    // Message id as the tag, binary reply, and a timeout.
    s.send_node_tagged(
        now,
        "3EB0ABCDEF",
        Node::new("query").attr("type", "chat"),
        Metric::QUERY_CHAT,
        Flags::IGNORE,
    )
    .unwrap();
    let reply = Node::new("response").attr("type", "chat");
    s.handle_binary(now, &server.binary("3EB0ABCDEF", &reply));
    let tag2 = s
        .send_node(now, Node::new("query"), Metric::QUERY_CONTACTS, Flags::NONE)
        .unwrap();
    s.handle_timeout(now + Duration::from_secs(20));
    let (t, e) = drain(&mut s);
    let Transmit::Binary(f) = &t[0] else { panic!() };
    let plain = server
        .keys
        .open_frame(&f[b"3EB0ABCDEF,".len() + 2..])
        .unwrap();
    assert_eq!(
        Tree::decode(&plain)
            .unwrap()
            .root()
            .to_owned()
            .get_attr("epoch"),
        Some("2")
    );
    assert!(
        matches!(&e[0], Event::Response { tag, result: Ok(Reply::Node(n)) } if tag == "3EB0ABCDEF" && *n == reply),
        "{e:?}"
    );
    assert!(
        matches!(&e[1], Event::Response { tag, result: Err(RequestError::Timeout) } if *tag == tag2),
        "{e:?}"
    );
    assert!(matches!(
        s.send_node_tagged(now, "a,b", Node::new("x"), Metric::MESSAGE, Flags::NONE),
        Err(Error::Tag)
    ));
}

#[test]
fn json_requests_unsolicited_messages_and_connection_loss() {
    let server = FakeServer::new();
    let (mut s, now) = qr_logged_in(&server);
    let tag = s
        .send_json(now, &json!(["query", "exist", "1@c.us"]))
        .unwrap();
    let (t, _) = drain(&mut s);
    assert_eq!(text(&t[0]), format!(r#"{tag},["query","exist","1@c.us"]"#));
    s.handle_text(now, &format!(r#"{tag},{{"status":200,"jid":"1@c.us"}}"#));
    s.handle_text(
        now,
        r#"1234.--5,["Presence",{"id":"1@c.us","type":"available"}]"#,
    );
    s.handle_text(now, r#"x,["Cmd",{"type":"picture","jid":"1@c.us"}]"#);
    let pending = s.send_json(now, &json!(["admin", "test"])).unwrap();
    s.handle_connection_lost();
    let (_, e) = drain(&mut s);
    assert!(
        matches!(&e[0], Event::Response { result: Ok(Reply::Json(v)), .. } if v["jid"] == "1@c.us")
    );
    assert!(matches!(&e[1], Event::Json { value, .. } if value[0] == "Presence"));
    assert!(matches!(&e[2], Event::Json { value, .. } if value[1]["type"] == "picture"));
    assert!(
        matches!(&e[3], Event::Response { tag, result: Err(RequestError::Closed) } if *tag == pending)
    );
    assert!(matches!(&e[4], Event::Closed(CloseReason::ConnectionLost)));
    assert!(matches!(s.send_json(now, &json!([])), Err(Error::Closed)));
}

#[test]
fn logout_with_a_connection_and_without() {
    let server = FakeServer::new();
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    assert!(matches!(s.logout(), Err(Error::NotLoggedIn)));
    assert!(matches!(
        s.send_node(now, Node::new("x"), Metric::MESSAGE, Flags::NONE),
        Err(Error::NotLoggedIn)
    ));

    let (mut s, _) = qr_logged_in(&server);
    s.logout().unwrap();
    let (t, e) = drain(&mut s);
    assert_eq!(
        t,
        vec![Transmit::Text(
            r#"goodbye,,["admin","Conn","disconnect"]"#.into()
        )]
    );
    assert!(matches!(&e[..], [Event::Closed(CloseReason::LoggedOut)]));

    let creds = s.credentials().unwrap();
    let req = creds.logout_request(DEFAULT_LOGOUT_URL).unwrap();
    assert!(
        req.url
            .starts_with("https://dyn.web.whatsapp.com/logout?t=browser%2Btok%2F%3D&m=")
    );
    assert!(
        req.url.ends_with(
            &server
                .keys
                .logout_token()
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        )
    );
}

#[test]
fn conn_with_a_forged_secret_is_refused() {
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(
        now,
        &format!(r#"{T0}.--0,{{"status":200,"ref":"r","ttl":20000}}"#),
    );
    drain(&mut s);
    let server = FakeServer::new();
    // Built for another client's key.
    let other = KeyPair::from_secret_bytes([5; 32]);
    let qr = other.qr_string("r", "id");
    s.handle_text(now, &server.conn_for_qr(&qr, ("a", "b")));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(&e[..], [Event::Closed(CloseReason::Protocol(_))]),
        "{e:?}"
    );
}

#[test]
fn server_disconnect_and_login_step_timeouts() {
    let server = FakeServer::new();
    let (mut s, now) = qr_logged_in(&server);
    s.handle_text(now, r#"x,["Cmd",{"type":"disconnect"}]"#);
    let (_, e) = drain(&mut s);
    assert!(matches!(&e[..], [Event::Closed(CloseReason::Disconnected)]));
    assert!(CloseReason::Disconnected.is_terminal());

    // A reref that gets no reply.
    let now = Instant::now();
    let mut s = Session::login(cfg(), now, T0, Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(
        now,
        &format!(r#"{T0}.--0,{{"status":200,"ref":"r","ttl":1000}}"#),
    );
    drain(&mut s);
    let t1 = now + Duration::from_secs(1);
    s.handle_timeout(t1);
    drain(&mut s);
    s.handle_timeout(t1 + Duration::from_secs(20));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(e.last(), Some(Event::Closed(CloseReason::Timeout("reref")))),
        "{e:?}"
    );

    // A login that gets no reply (and no Conn): the request deadline comes first.
    let mut s =
        Session::restore(cfg(), now, T0, server.credentials(), Box::new(TestRng(0))).unwrap();
    drain(&mut s);
    s.handle_text(now, &format!(r#"{T0}.--0,{{"status":200}}"#));
    s.handle_timeout(now + Duration::from_secs(20));
    let (_, e) = drain(&mut s);
    assert!(
        matches!(e.last(), Some(Event::Closed(CloseReason::Timeout("login")))),
        "{e:?}"
    );
    assert_eq!(s.poll_timeout(), None);
}
