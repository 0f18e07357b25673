//! End to end against the simulator (`waweb-sim`) over real loopback sockets: issue 5, points 1–7.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashSet;
use std::time::Duration;

use waweb_binary::{Content, Node};
use waweb_proto::prost::Message as _;
use waweb_proto::proto::{Message as WaMessage, MessageKey, WebMessageInfo};
use waweb_session::{
    CloseReason, Credentials, Event as SEvent, FrameError, LoginFailure, LoginKind,
};
use waweb_sim::{SimConfig, SimEvent, SimHandle};
use waweb_transport::{Backoff, Config, Connection, Event, Events, Handle, StopReason};

const STEP: Duration = Duration::from_secs(10);

async fn sim_with(f: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut cfg = SimConfig::default();
    f(&mut cfg);
    waweb_sim::start(cfg).await.unwrap()
}

fn config(sim: &SimHandle, creds: Option<Credentials>) -> Config {
    let mut c = Config::with_url(sim.ws_url());
    c.logout_url = sim.logout_url();
    c.credentials = creds;
    c.backoff = Backoff::new(
        Duration::from_millis(20),
        Duration::from_millis(200),
        Some(50),
    );
    c.connect_timeout = Duration::from_secs(3);
    c.session.request_timeout = Duration::from_secs(5);
    c
}

/// The next event for which `f` gives `Some`, within [`STEP`]; other events are skipped.
async fn until<T>(events: &mut Events, mut f: impl FnMut(Event) -> Option<T>) -> T {
    tokio::time::timeout(STEP, async {
        loop {
            let ev = events.recv().await.expect("event stream ended");
            if let Some(t) = f(ev) {
                return t;
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}

/// The Stop reason, skipping everything else.
async fn stopped(events: &mut Events) -> StopReason {
    until(events, |e| match e {
        Event::Stopped(r) => Some(r),
        _ => None,
    })
    .await
}

/// A fresh QR login through the simulator's phone; returns the handle, events and credentials.
async fn qr_login(sim: &SimHandle) -> (Handle, Events, Credentials) {
    let (handle, mut events) = Connection::connect(config(sim, None));
    let code = until(&mut events, |e| match e {
        Event::Session(SEvent::Qr { code, .. }) => Some(code),
        _ => None,
    })
    .await;
    sim.scan(&code).await.unwrap();
    let creds = until(&mut events, |e| match e {
        Event::Session(SEvent::CredentialsUpdated(c)) => Some(c),
        _ => None,
    })
    .await;
    (handle, events, creds)
}

/// Waits until no event has come for `quiet`.
async fn settle(events: &mut Events, quiet: Duration) {
    while let Ok(Some(_)) = tokio::time::timeout(quiet, events.recv()).await {}
}

fn message(i: usize) -> WebMessageInfo {
    WebMessageInfo {
        key: MessageKey {
            remote_jid: Some("491701234567@s.whatsapp.net".into()),
            from_me: Some(false),
            id: Some(format!("3EB0{i:08X}")),
            participant: None,
        },
        message: Some(WaMessage {
            conversation: Some(format!("message {i}")),
            ..Default::default()
        }),
        message_timestamp: Some(1_600_000_000 + i as u64),
        ..Default::default()
    }
}

/// Message ids in a node (`action` with `message` children).
fn message_ids(node: &Node) -> Vec<String> {
    node.child_nodes()
        .iter()
        .filter(|c| c.tag == "message")
        .filter_map(|c| match &c.content {
            Some(Content::Bytes(b)) => WebMessageInfo::decode(b.as_slice()).ok(),
            _ => None,
        })
        .filter_map(|m| m.key.id)
        .collect()
}

/// Point 1: QR shown, phone scans, keys agree, Stream/Props arrive, first binary frame decoded.
#[tokio::test]
async fn fresh_login_by_qr() {
    let sim = sim_with(|_| {}).await;
    let (handle, mut events) = Connection::connect(config(&sim, None));
    assert!(matches!(
        events.recv().await,
        Some(Event::Connected {
            attempt: 0,
            restoring: false
        })
    ));
    let code = until(&mut events, |e| match e {
        Event::Session(SEvent::Qr {
            code, attempt: 0, ..
        }) => Some(code),
        _ => None,
    })
    .await;
    assert_eq!(code.split(',').count(), 3);
    sim.scan(&code).await.unwrap();
    let (mut logged_in, mut creds, mut stream, mut props, mut node) =
        (false, None, false, false, None);
    tokio::time::timeout(STEP, async {
        while !(logged_in && creds.is_some() && stream && props && node.is_some()) {
            match events.recv().await.unwrap() {
                Event::Session(SEvent::LoggedIn {
                    how: LoginKind::Qr,
                    info,
                }) => {
                    assert!(info.wid.is_some());
                    logged_in = true;
                }
                Event::Session(SEvent::CredentialsUpdated(c)) => creds = Some(c),
                Event::Session(SEvent::Stream(_)) => stream = true,
                Event::Session(SEvent::Props(_)) => props = true,
                Event::Session(SEvent::Node { node: n, .. }) if node.is_none() => node = Some(n),
                Event::Session(SEvent::FrameError { error, .. }) => panic!("frame error {error}"),
                _ => {}
            }
        }
    })
    .await
    .expect("login events");
    let creds = creds.unwrap();
    let server_side = sim
        .client(&creds.client_id)
        .expect("paired on the simulator");
    assert_eq!(
        server_side.keys,
        creds.keys(),
        "keys derived on both sides agree"
    );
    assert_eq!(server_side.client_token, creds.client_token);
    assert!(!node.unwrap().tag.is_empty());
    handle.shutdown().await;
    sim.shutdown().await;
}

/// Point 2: restore from saved credentials without a QR; stale tokens → challenge → restored.
#[tokio::test]
async fn restore_and_challenge() {
    let sim = sim_with(|_| {}).await;
    let (handle, _events, first) = qr_login(&sim).await;
    handle.shutdown().await;

    // Restore with the saved credentials: no QR, tokens rotate.
    let (handle, mut events) = Connection::connect(config(&sim, Some(first.clone())));
    let mut rotated = None;
    until(&mut events, |e| match e {
        Event::Connected { restoring, .. } => {
            assert!(restoring);
            None
        }
        Event::Session(SEvent::Qr { .. }) => panic!("QR on restore"),
        Event::Session(SEvent::CredentialsUpdated(c)) => {
            rotated = Some(c);
            rotated.as_ref().map(|_| ())
        }
        Event::Session(SEvent::LoggedIn { how, .. }) => {
            assert_eq!(how, LoginKind::Restored);
            None
        }
        _ => None,
    })
    .await;
    let rotated = rotated.unwrap();
    assert_ne!(
        rotated.client_token, first.client_token,
        "tokens rotate on every Conn"
    );
    handle.shutdown().await;

    // The first, now stale, tokens: challenged, answered, restored.
    let (handle, mut events) = Connection::connect(config(&sim, Some(first)));
    let mut challenged = false;
    let how = until(&mut events, |e| match e {
        Event::Session(SEvent::ChallengeAnswered) => {
            challenged = true;
            None
        }
        Event::Session(SEvent::LoggedIn { how, .. }) => Some(how),
        Event::Stopped(r) => panic!("stopped: {r:?}"),
        _ => None,
    })
    .await;
    assert!(challenged);
    assert_eq!(how, LoginKind::Challenged);
    let creds = handle.credentials().await.unwrap().unwrap();
    assert_eq!(
        sim.client(&creds.client_id).unwrap().server_token,
        creds.server_token
    );
    handle.shutdown().await;
    sim.shutdown().await;
}

/// Point 3: refs expire, rerefs up to the simulator's limit, then the typed "denied" outcome.
#[tokio::test]
async fn ref_expiry_reref_then_denied() {
    let sim = sim_with(|c| {
        c.ref_ttl = Duration::from_millis(200);
        c.max_refs = 3;
    })
    .await;
    let (_handle, mut events) = Connection::connect(config(&sim, None));
    let mut attempts = Vec::new();
    let stop = until(&mut events, |e| match e {
        Event::Session(SEvent::Qr {
            attempt,
            reused,
            ttl,
            ..
        }) => {
            assert!(!reused);
            assert_eq!(ttl, Duration::from_millis(200));
            attempts.push(attempt);
            None
        }
        Event::Stopped(r) => Some(r),
        _ => None,
    })
    .await;
    assert_eq!(attempts, [0, 1, 2]);
    assert_eq!(stop, StopReason::Session(CloseReason::RefDenied));
    sim.shutdown().await;
}

/// Point 4: 401/403/405/409 each surface as their typed outcome; none reconnects (409 included).
#[tokio::test]
async fn login_statuses_are_typed_and_stop_reconnecting() {
    let sim = sim_with(|_| {}).await;
    let (handle, _events, creds) = qr_login(&sim).await;
    handle.shutdown().await;
    let cases = [
        (401, LoginFailure::Unpaired),
        (405, LoginFailure::AlreadyLoggedIn),
        (409, LoginFailure::LoggedInElsewhere),
    ];
    let mut sim_events = sim.events();
    for (status, want) in cases {
        sim.faults().next_login_status(status);
        let (_h, mut events) = Connection::connect(config(&sim, Some(creds.clone())));
        let stop = stopped(&mut events).await;
        assert_eq!(
            stop,
            StopReason::Session(CloseReason::Login(want)),
            "status {status}"
        );
        assert!(events.recv().await.is_none(), "nothing after Stopped");
    }
    sim.faults().next_login_status(403);
    let (_h, mut events) = Connection::connect(config(&sim, Some(creds.clone())));
    let stop = stopped(&mut events).await;
    assert!(
        matches!(
            stop,
            StopReason::Session(CloseReason::Login(LoginFailure::AccessDenied { .. }))
        ),
        "{stop:?}"
    );
    // No connection attempt follows a terminal outcome.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut connects = 0;
    while let Ok(ev) = sim_events.try_recv() {
        if matches!(ev, SimEvent::Connected { .. }) {
            connects += 1;
        }
    }
    assert_eq!(connects, 4, "one connection per case, no reconnects");
    sim.shutdown().await;
}

/// Point 5: a corrupted frame and a malformed node are reported and skipped; the next decodes.
#[tokio::test]
async fn corrupted_and_malformed_frames_are_skipped() {
    let sim = sim_with(|_| {}).await;
    let (handle, mut events, _) = qr_login(&sim).await;
    settle(&mut events, Duration::from_millis(300)).await;
    let marked = |n: &str| Node::new("test").attr("seq", n);

    sim.faults().corrupt_next_mac();
    sim.push_node(marked("1")).await.unwrap();
    sim.push_node(marked("2")).await.unwrap();
    sim.faults().send_malformed_node();
    sim.push_node(marked("3")).await.unwrap();
    let mut seen = Vec::new();
    let mut errors = Vec::new();
    until(&mut events, |e| match e {
        Event::Session(SEvent::Node { node, .. }) if node.tag == "test" => {
            seen.push(node.get_attr("seq").unwrap().to_owned());
            (seen.len() == 2).then_some(())
        }
        Event::Session(SEvent::FrameError { error, .. }) => {
            errors.push(error);
            None
        }
        Event::Stopped(r) => panic!("stopped: {r:?}"),
        _ => None,
    })
    .await;
    assert_eq!(seen, ["2", "3"], "the corrupted frame was node 1");
    assert!(matches!(errors[0], FrameError::Open(_)), "{errors:?}");
    assert!(matches!(errors[1], FrameError::Decode(_)), "{errors:?}");
    assert_eq!(errors.len(), 2);
    assert!(
        handle.credentials().await.unwrap().is_some(),
        "still running"
    );
    handle.shutdown().await;
    sim.shutdown().await;
}

/// Point 6: five drops during a stream of 1,000 messages: reconnect, restore, every message once.
#[tokio::test]
async fn thousand_messages_through_five_drops() {
    let sim = std::sync::Arc::new(sim_with(|_| {}).await);
    let (handle, mut events, _) = qr_login(&sim).await;
    settle(&mut events, Duration::from_millis(200)).await;
    // A paced stream (about 1 ms a message) so that the drops fall in the middle of it.
    let pusher = {
        let sim = sim.clone();
        tokio::spawn(async move {
            for i in 0..1000 {
                sim.push_message(message(i)).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let mut ids = HashSet::new();
    let mut duplicates = Vec::new();
    let (mut restores, mut drops, mut live) = (0, 0, true);
    tokio::time::timeout(Duration::from_secs(60), async {
        while ids.len() < 1000 {
            match events.recv().await.expect("events") {
                Event::Session(SEvent::Node { node, .. }) => {
                    // Only the pushed messages: the account's history comes again on every login.
                    for id in message_ids(&node).into_iter().filter(|id| id.len() == 12) {
                        if !ids.insert(id.clone()) {
                            duplicates.push(id);
                        }
                    }
                    if live && drops < 5 && ids.len() >= 100 * (drops + 1) {
                        sim.faults().drop_connection();
                        drops += 1;
                        live = false;
                    }
                }
                Event::Session(SEvent::LoggedIn { how, .. }) => {
                    assert_ne!(how, LoginKind::Qr);
                    restores += 1;
                    live = true;
                }
                Event::Stopped(r) => panic!("stopped: {r:?}"),
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} messages after {restores} restores", ids.len()));
    pusher.await.unwrap();
    assert!(duplicates.is_empty(), "duplicates: {duplicates:?}");
    assert_eq!((drops, restores), (5, 5), "five drops, five restores");
    for i in 0..1000 {
        assert!(ids.contains(&format!("3EB0{i:08X}")));
    }
    // Nothing more arrives: exactly once.
    handle.shutdown().await;
    while let Some(ev) = events.recv().await {
        if let Event::Session(SEvent::Node { node, .. }) = ev {
            assert!(
                message_ids(&node).iter().all(|id| id.len() != 12),
                "late duplicate"
            );
        }
    }
}

/// Point 7: logout over the connection and by HTTP; the credentials are unusable afterwards.
#[tokio::test]
async fn logout_both_ways() {
    let sim = sim_with(|_| {}).await;
    let mut sim_events = sim.events();

    // Over the connection.
    let (handle, mut events, creds) = qr_login(&sim).await;
    settle(&mut events, Duration::from_millis(200)).await;
    handle.logout().await.unwrap();
    assert_eq!(stopped(&mut events).await, StopReason::LoggedOut);
    let via = tokio::time::timeout(STEP, async {
        loop {
            if let Ok(SimEvent::LoggedOut { via, .. }) = sim_events.recv().await {
                return via;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(via, "connection");
    assert!(sim.client(&creds.client_id).unwrap().logged_out);
    let (_h, mut events) = Connection::connect(config(&sim, Some(creds)));
    assert!(matches!(
        stopped(&mut events).await,
        StopReason::Session(CloseReason::Login(_))
    ));

    // Without a connection: the HTTP request built from browserToken and the logout token.
    let (handle, _events, creds) = qr_login(&sim).await;
    handle.shutdown().await;
    let mut offline = config(&sim, Some(creds.clone()));
    offline.url = "ws://127.0.0.1:9/ws".into(); // nothing listens: stays in backoff
    offline.backoff = Backoff::new(Duration::from_secs(5), Duration::from_secs(5), None);
    let (handle, mut events) = Connection::connect(offline);
    until(&mut events, |e| {
        matches!(e, Event::Disconnected { .. }).then_some(())
    })
    .await;
    handle.logout().await.unwrap();
    assert_eq!(stopped(&mut events).await, StopReason::LoggedOut);
    assert!(sim.client(&creds.client_id).unwrap().logged_out);
    let (_h, mut events) = Connection::connect(config(&sim, Some(creds)));
    assert!(matches!(
        stopped(&mut events).await,
        StopReason::Session(CloseReason::Login(_))
    ));
    sim.shutdown().await;
}

/// Keepalive over real sockets: `?,,` answered `!<ms>`; a reply held back past the deadline means a
/// dead connection, and the transport restores on a new one.
#[tokio::test]
async fn keepalive_and_dead_connection() {
    let sim = sim_with(|_| {}).await;
    let (handle, _events, creds) = qr_login(&sim).await;
    handle.shutdown().await;
    let mut cfg = config(&sim, Some(creds));
    cfg.session.keepalive_interval = Duration::from_millis(100);
    cfg.session.keepalive_timeout = Duration::from_millis(300);
    let (handle, mut events) = Connection::connect(cfg);
    let ms = until(&mut events, |e| match e {
        Event::Session(SEvent::Pong { server_time_ms }) => Some(server_time_ms),
        _ => None,
    })
    .await;
    assert!(ms > 1_500_000_000_000);
    sim.faults().delay_replies(Duration::from_secs(2));
    let reason = until(&mut events, |e| match e {
        Event::Disconnected { reason, .. } => Some(reason),
        _ => None,
    })
    .await;
    assert!(
        matches!(
            reason,
            waweb_transport::Disconnect::Session(CloseReason::KeepaliveTimeout)
        ),
        "{reason:?}"
    );
    sim.faults().delay_replies(Duration::ZERO);
    let how = until(&mut events, |e| match e {
        Event::Session(SEvent::LoggedIn { how, .. }) => Some(how),
        _ => None,
    })
    .await;
    assert_ne!(how, LoginKind::Qr);
    handle.shutdown().await;
    sim.shutdown().await;
}

/// A version the server finds too old: `["Cmd",{"type":"update"}]` is a typed, terminal outcome.
#[tokio::test]
async fn old_version_is_told_to_update() {
    let sim = sim_with(|c| c.min_version = (2, 2200, 0)).await;
    let (_h, mut events) = Connection::connect(config(&sim, None));
    assert_eq!(
        stopped(&mut events).await,
        StopReason::Session(CloseReason::UpdateRequired)
    );
    sim.shutdown().await;
}

/// Back-pressure: with an event channel of one, a consumer that stops reading loses nothing; the
/// task just stops reading the socket until the consumer catches up.
#[tokio::test]
async fn slow_consumer_gets_back_pressure_not_loss() {
    let sim = sim_with(|_| {}).await;
    let (handle, _events, creds) = qr_login(&sim).await;
    handle.shutdown().await;
    let mut cfg = config(&sim, Some(creds));
    cfg.event_capacity = 1;
    let (handle, mut events) = Connection::connect(cfg);
    until(&mut events, |e| {
        matches!(e, Event::Session(SEvent::LoggedIn { .. })).then_some(())
    })
    .await;
    for i in 0..300 {
        sim.push_message(message(i)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ids = HashSet::new();
    tokio::time::timeout(STEP, async {
        while ids.len() < 300 {
            if let Some(Event::Session(SEvent::Node { node, .. })) = events.recv().await {
                ids.extend(message_ids(&node).into_iter().filter(|id| id.len() == 12));
            }
        }
    })
    .await
    .expect("all messages after the pause");
    handle.shutdown().await;
    sim.shutdown().await;
}

/// A clean shutdown needs no reader: it completes while the event channel is full.
#[tokio::test]
async fn shutdown_with_a_full_event_channel() {
    let sim = sim_with(|_| {}).await;
    let (handle, _events, creds) = qr_login(&sim).await;
    handle.shutdown().await;
    let mut cfg = config(&sim, Some(creds.clone()));
    cfg.event_capacity = 1;
    let (handle, mut events) = Connection::connect(cfg);
    until(&mut events, |e| {
        matches!(e, Event::Session(SEvent::LoggedIn { .. })).then_some(())
    })
    .await;
    for i in 0..50 {
        sim.push_message(message(i)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(STEP, handle.shutdown())
        .await
        .expect("shutdown returns without a reader");
    assert!(handle.credentials().await.is_err(), "the task has stopped");
    // The simulator saw the client go.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!sim.client(&creds.client_id).unwrap().connected);
    sim.shutdown().await;
}

/// The frame tap sees every frame in and out, opened and decoded, in order: `init` out, its
/// reply and `Conn` in, the login burst as nodes, and a node we send with its header bytes.
#[tokio::test]
async fn frame_tap_records_every_frame_both_ways() {
    use std::sync::{Arc, Mutex};
    use waweb_session::{Direction, FrameRecord, Metric, RecordBody};
    let sim = sim_with(|_| {}).await;
    let records: Arc<Mutex<Vec<FrameRecord>>> = Arc::default();
    let mut cfg = config(&sim, None);
    let sink = Arc::clone(&records);
    cfg.frame_tap = Some(waweb_transport::FrameTap::new(move |r| {
        sink.lock().unwrap().push(r);
    }));
    let (handle, mut events) = Connection::connect(cfg);
    let code = until(&mut events, |e| match e {
        Event::Session(SEvent::Qr { code, .. }) => Some(code),
        _ => None,
    })
    .await;
    sim.scan(&code).await.unwrap();
    until(&mut events, |e| match e {
        Event::Session(SEvent::Node { .. }) => Some(()),
        _ => None,
    })
    .await;
    let query = Node::new("query").attr("type", "chat");
    // Recorded when queued; whether the simulator answers this query does not matter here.
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        handle.send_node(query, Metric::QUERY_CHAT, waweb_session::Flags::IGNORE),
    )
    .await;
    handle.shutdown().await;
    sim.shutdown().await;

    let records = records.lock().unwrap();
    let first = &records[0];
    assert_eq!(first.direction, Direction::Out);
    match &first.body {
        RecordBody::Json(v) => assert_eq!(v[1], "init", "the first frame is init: {v}"),
        other => panic!("first record {other:?}"),
    }
    assert!(first.size > 20);
    let conn = records
        .iter()
        .find(|r| {
            r.direction == Direction::In && matches!(&r.body, RecordBody::Json(v) if v[0] == "Conn")
        })
        .expect("Conn recorded");
    assert_eq!(conn.tag.as_deref(), Some("s1"));
    assert!(
        records
            .iter()
            .any(|r| r.direction == Direction::In && matches!(r.body, RecordBody::Node { .. })),
        "the login burst is recorded as decoded nodes"
    );
    let sent = records
        .iter()
        .find_map(|r| match &r.body {
            RecordBody::Node {
                node,
                metric,
                flags,
            } if r.direction == Direction::Out => Some((node, *metric, *flags)),
            _ => None,
        })
        .expect("our query recorded");
    assert_eq!(sent.0.tag, "query");
    assert!(
        sent.0.get_attr("epoch").is_some(),
        "recorded as sent, epoch included"
    );
    assert_eq!(sent.1, Some(Metric::QUERY_CHAT));
    assert_eq!(sent.2, Some(waweb_session::Flags::IGNORE));
    // Debug never shows the contents (Conn carries the login secret).
    assert!(!format!("{conn:?}").contains("secret"));
}
