//! One websocket connection: reads the client's frames, answers them, and delivers pushes.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use waweb_binary::{Content, Node};
use waweb_crypto::{FRAME_HEADER_LEN, FRAME_MIN_LEN, SessionKeys};
use waweb_proto::proto::WebMessageInfo;

use crate::account::{is_user_jid, to_json_jid, to_wire_jid};
use crate::events::{ConnId, FrameBody, FrameLog, SimEvent};
use crate::lock;
use crate::server::{Cmd, Refs, Shared};
use crate::wire;

/// How long a closing connection keeps reading (so that the client sees our FIN, not a reset).
const LINGER: Duration = Duration::from_millis(500);
/// Message ids remembered per client to report each relayed message once.
const RECEIVED_IDS_CAP: usize = 100_000;
/// The same when the whole simulator shuts down.
const SHUTDOWN_LINGER: Duration = Duration::from_millis(100);

/// The byte stream under a websocket: the TCP connection hyper handed over after the upgrade.
pub(crate) type Socket = TokioIo<Upgraded>;

/// Why a connection ends.
enum End {
    /// The client closed or went away.
    Client(String),
    /// We close with a close frame.
    Close(&'static str),
    /// We drop it abruptly (fault).
    Drop,
    /// The simulator shuts down.
    Shutdown,
}

/// A restore waiting for the challenge answer.
struct Challenge {
    bytes: Vec<u8>,
    login_tag: String,
}

pub(crate) struct Conn {
    id: ConnId,
    shared: Arc<Shared>,
    ws: WebSocketStream<Socket>,
    client_id: Option<String>,
    keys: Option<SessionKeys>,
    logged_in: bool,
    s_counter: u32,
    push_counter: u64,
    challenge: Option<Challenge>,
    outbox: VecDeque<WebMessageInfo>,
    drop_now: bool,
}

type Step = Result<(), End>;

impl Conn {
    pub(crate) fn new(id: ConnId, shared: Arc<Shared>, ws: WebSocketStream<Socket>) -> Self {
        Conn {
            id,
            shared,
            ws,
            client_id: None,
            keys: None,
            logged_in: false,
            s_counter: 0,
            push_counter: 0,
            challenge: None,
            outbox: VecDeque::new(),
            drop_now: false,
        }
    }

    pub(crate) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Cmd>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut drop_w = self.shared.faults.drop_watch();
        let mut kick_w = self.shared.faults.kick_watch();
        drop_w.borrow_and_update();
        kick_w.borrow_and_update();
        let end = loop {
            let step = tokio::select! {
                biased;
                _ = drop_w.changed() => Err(End::Drop),
                _ = shutdown.changed() => Err(End::Shutdown),
                r = kick_w.changed() => match r {
                    Ok(()) if self.logged_in => self.kick().await,
                    Ok(()) => Ok(()),
                    Err(_) => Err(End::Shutdown),
                },
                m = self.ws.next() => match m {
                    Some(Ok(msg)) => self.on_ws(msg).await,
                    Some(Err(e)) => Err(End::Client(e.to_string())),
                    None => Err(End::Client("connection closed".into())),
                },
                c = rx.recv() => match c {
                    Some(cmd) => self.on_cmd(cmd).await,
                    None => Err(End::Shutdown),
                },
            };
            match step {
                Ok(()) if self.drop_now => break End::Drop,
                Ok(()) => {}
                Err(e) => break e,
            }
        };
        let reason = match end {
            End::Client(r) => r,
            End::Close(r) => {
                self.close(r, LINGER).await;
                format!("closed by the simulator: {r}")
            }
            End::Shutdown => {
                self.close("shutdown", SHUTDOWN_LINGER).await;
                "simulator shutdown".into()
            }
            End::Drop => {
                self.abort().await;
                "dropped (fault)".into()
            }
        };
        self.cleanup(rx, reason);
    }

    /// Close frame, then read until the client closes (bounded).
    async fn close(&mut self, reason: &'static str, linger: Duration) {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: reason.into(),
        };
        let _ = self.ws.close(Some(frame)).await;
        let _ = tokio::time::timeout(linger, async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }

    /// No close frame: shut the TCP stream down and drain what the client still sends.
    async fn abort(&mut self) {
        let tcp = self.ws.get_mut();
        let _ = tcp.shutdown().await;
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(LINGER, async {
            while let Ok(n) = tcp.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }

    fn cleanup(&mut self, mut rx: mpsc::Receiver<Cmd>, reason: String) {
        rx.close();
        let mut leftovers = std::mem::take(&mut self.outbox);
        while let Ok(cmd) = rx.try_recv() {
            if let Cmd::Message(m) = cmd {
                leftovers.push_back(*m);
            }
        }
        let mut flush = None;
        {
            let mut st = lock(&self.shared.state);
            st.conns.remove(&self.id);
            if let Some(cid) = &self.client_id {
                let live_other = st
                    .clients
                    .get(cid)
                    .and_then(|r| r.live)
                    .filter(|c| *c != self.id);
                if let Some(rec) = st.clients.get_mut(cid) {
                    if rec.live == Some(self.id) {
                        rec.live = None;
                    }
                    if !rec.logged_out {
                        for m in leftovers.into_iter().rev() {
                            rec.pending.push_front(m);
                        }
                    }
                }
                flush = live_other
                    .and_then(|c| st.conns.get(&c))
                    .map(|e| e.tx.clone());
            }
        }
        if let Some(tx) = flush {
            let _ = tx.try_send(Cmd::FlushPending);
        }
        tracing::info!(conn = self.id, "disconnected: {reason}");
        self.shared.emit(SimEvent::Disconnected {
            conn: self.id,
            client_id: self.client_id.clone().filter(|_| self.logged_in),
            reason,
        });
    }

    // ---------------------------------------------------------------- sending

    async fn send_ws(&mut self, msg: Message, log: FrameLog, counts: bool) -> Step {
        if self.drop_now {
            return Err(End::Drop);
        }
        let delay = self.shared.faults.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.ws
            .send(msg)
            .await
            .map_err(|e| End::Client(format!("write failed: {e}")))?;
        tracing::debug!(conn = self.id, "out {log}");
        self.shared.emit(SimEvent::FrameOut {
            conn: self.id,
            frame: log,
        });
        if counts && self.shared.faults.count_frame() {
            self.drop_now = true;
        }
        Ok(())
    }

    async fn send_json(&mut self, tag: &str, v: &Value) -> Step {
        let text = v.to_string();
        let log = FrameLog {
            tag: tag.to_owned(),
            body: FrameBody::Text(text.clone()),
        };
        self.send_ws(Message::text(format!("{tag},{text}")), log, true)
            .await
    }

    /// A JSON message on the next `s<n>` tag.
    async fn send_unsolicited(&mut self, v: &Value) -> Step {
        let tag = self.next_s();
        self.send_json(&tag, v).await
    }

    fn next_s(&mut self) -> String {
        self.s_counter += 1;
        format!("s{}", self.s_counter)
    }

    fn next_push_tag(&mut self, preempt: bool) -> String {
        self.push_counter += 1;
        if preempt {
            format!("preempt-{}-{}", wire::now_secs(), self.push_counter)
        } else {
            format!("{}-{}", wire::now_secs(), self.push_counter)
        }
    }

    /// Seals `plain` and sends `tag,` + MAC + IV + ciphertext.
    async fn send_sealed(
        &mut self,
        tag: &str,
        plain: &[u8],
        node: Option<Node>,
        note: Option<&str>,
    ) -> Step {
        let Some(keys) = &self.keys else {
            tracing::warn!(conn = self.id, "binary frame without session keys; skipped");
            return Ok(());
        };
        let mut frame = keys
            .seal_frame(plain)
            .map_err(|e| End::Client(format!("seal failed: {e}")))?;
        let mut error = note.map(str::to_owned);
        if self.shared.faults.take_corrupt_mac() {
            if let Some(b) = frame.first_mut() {
                *b ^= 0xff;
            }
            error = Some("MAC corrupted (fault)".into());
        }
        let mut bytes = Vec::with_capacity(tag.len() + 1 + frame.len());
        bytes.extend_from_slice(tag.as_bytes());
        bytes.push(b',');
        bytes.extend_from_slice(&frame);
        let log = FrameLog {
            tag: tag.to_owned(),
            body: FrameBody::Binary {
                len: frame.len(),
                node,
                error,
            },
        };
        self.send_ws(Message::binary(bytes), log, true).await
    }

    async fn send_node(&mut self, tag: &str, node: Node) -> Step {
        match waweb_binary::encode(&node) {
            Ok(plain) => self.send_sealed(tag, &plain, Some(node), None).await,
            Err(e) => {
                tracing::warn!(conn = self.id, "cannot encode node: {e}");
                Ok(())
            }
        }
    }

    async fn send_pong(&mut self) -> Step {
        let ms = wire::now_ms();
        let log = FrameLog {
            tag: String::new(),
            body: FrameBody::Pong(ms),
        };
        self.send_ws(Message::text(format!("!{ms}")), log, false)
            .await
    }

    async fn flush_outbox(&mut self) -> Step {
        while let Some(msg) = self.outbox.front() {
            let node = wire::action_messages("relay", std::iter::once(msg));
            let tag = self.next_push_tag(false);
            self.send_node(&tag, node).await?;
            self.outbox.pop_front();
        }
        Ok(())
    }

    // ---------------------------------------------------------------- commands

    async fn on_cmd(&mut self, cmd: Cmd) -> Step {
        match cmd {
            Cmd::Scanned { secret } => self.after_scan(&secret).await,
            Cmd::Message(m) => {
                self.outbox.push_back(*m);
                self.flush_outbox().await
            }
            Cmd::FlushPending => {
                self.take_pending();
                self.flush_outbox().await
            }
            Cmd::Node(n) => {
                let tag = self.next_push_tag(false);
                self.send_node(&tag, n).await
            }
            Cmd::Json(v) => self.send_unsolicited(&v).await,
            Cmd::Malformed => {
                let tag = self.next_push_tag(false);
                self.send_sealed(
                    &tag,
                    wire::MALFORMED_NODE,
                    None,
                    Some("malformed node (fault)"),
                )
                .await
            }
            Cmd::Replaced => self.kick().await,
            Cmd::Close => Err(End::Close("logged out")),
        }
    }

    async fn kick(&mut self) -> Step {
        self.send_unsolicited(&wire::cmd_replaced()).await?;
        Err(End::Close("replaced"))
    }

    fn take_pending(&mut self) {
        if let Some(cid) = &self.client_id {
            let mut st = lock(&self.shared.state);
            if let Some(rec) = st.clients.get_mut(cid) {
                self.outbox.extend(rec.pending.drain(..));
            }
        }
    }

    /// Marks this connection as the client's live one; takes its keys and pending messages.
    /// Returns the sender of a connection it replaces.
    fn go_live(&mut self) -> Option<mpsc::Sender<Cmd>> {
        let cid = self.client_id.clone()?;
        let mut st = lock(&self.shared.state);
        let rec = st.clients.get_mut(&cid)?;
        let previous = rec.live.replace(self.id).filter(|c| *c != self.id);
        self.keys = Some(rec.keys.clone());
        self.outbox.extend(rec.pending.drain(..));
        if let Some(e) = st.conns.get_mut(&self.id) {
            e.logged_in = true;
            e.refs = None;
            e.client_id = Some(cid);
        }
        self.logged_in = true;
        previous
            .and_then(|c| st.conns.get(&c))
            .map(|e| e.tx.clone())
    }

    async fn after_scan(&mut self, secret: &str) -> Step {
        let conn = {
            let Some(cid) = self.client_id.clone() else {
                return Ok(());
            };
            let st = lock(&self.shared.state);
            let Some(rec) = st.clients.get(&cid) else {
                return Ok(());
            };
            wire::conn(
                &self.shared.cfg.account,
                &wire::Tokens {
                    client: &rec.client_token,
                    server: &rec.server_token,
                    browser: &rec.browser_token,
                },
                Some(secret),
            )
        };
        if let Some(old) = self.go_live() {
            let _ = old.try_send(Cmd::Replaced);
        }
        // The phone's answer always comes on `s1`.
        self.s_counter = 0;
        self.send_unsolicited(&conn).await?;
        self.logged_in_event(false);
        self.shared.emit(SimEvent::Scanned {
            conn: self.id,
            client_id: self.client_id.clone().unwrap_or_default(),
        });
        self.after_login().await
    }

    fn logged_in_event(&self, restored: bool) {
        let client_id = self.client_id.clone().unwrap_or_default();
        tracing::info!(conn = self.id, client_id, restored, "logged in");
        self.shared.emit(SimEvent::LoggedIn {
            conn: self.id,
            client_id,
            restored,
        });
    }

    /// `Stream`, `Props`, the `preempt-` burst, then pending messages.
    async fn after_login(&mut self) -> Step {
        let version = wire::version_string(self.shared.cfg.min_version);
        self.send_unsolicited(&wire::stream(&version)).await?;
        self.send_unsolicited(&wire::props()).await?;
        let account = &self.shared.cfg.account;
        let contacts = wire::contacts_node(account);
        let chats = wire::chats_node(account);
        let last = (!account.messages.is_empty())
            .then(|| wire::action_messages("last", &account.messages));
        let tag = self.next_push_tag(true);
        self.send_node(&tag, contacts).await?;
        let tag = self.next_push_tag(true);
        self.send_node(&tag, chats).await?;
        if let Some(last) = last {
            let tag = self.next_push_tag(true);
            self.send_node(&tag, last).await?;
        }
        self.flush_outbox().await
    }

    // ---------------------------------------------------------------- incoming

    async fn on_ws(&mut self, msg: Message) -> Step {
        match msg {
            Message::Text(t) => self.on_text(t.as_str()).await,
            Message::Binary(b) => self.on_binary(&b).await,
            Message::Close(_) => Err(End::Client("close frame".into())),
            // tungstenite answers pings itself.
            _ => Ok(()),
        }
    }

    async fn on_text(&mut self, text: &str) -> Step {
        let (tag, rest) = text.split_once(',').unwrap_or((text, ""));
        let payload = rest.strip_prefix(',').unwrap_or(rest);
        if tag == "?" && payload.trim().is_empty() {
            self.log_in(tag, FrameBody::Keepalive);
            return self.send_pong().await;
        }
        self.log_in(tag, FrameBody::Text(payload.to_owned()));
        if payload.trim().is_empty() {
            return Ok(());
        }
        let v: Value = match serde_json::from_str(payload) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(conn = self.id, "text frame is not JSON: {e}");
                return Ok(());
            }
        };
        let tag = tag.to_owned();
        let empty = Vec::new();
        let arr = v.as_array().unwrap_or(&empty);
        let s = |i: usize| arr.get(i).and_then(Value::as_str).unwrap_or_default();
        match (s(0), s(1)) {
            ("admin", "init") => self.on_init(&tag, arr).await,
            ("admin", "login") => self.on_login(&tag, arr).await,
            ("admin", "challenge") => self.on_challenge(&tag, arr).await,
            ("admin", "Conn") if s(2) == "reref" => self.on_reref(&tag).await,
            ("admin", "Conn") if s(2) == "disconnect" => self.on_logout(),
            ("admin", "test") => self.send_json(&tag, &json!(["Pong", true])).await,
            ("query", q) => {
                let q = q.to_owned();
                let arg = s(2).to_owned();
                self.on_query(&tag, &q, &arg).await
            }
            ("action", a) => {
                let a = a.to_owned();
                let arg = s(2).to_owned();
                let arg2 = s(3).to_owned();
                self.on_action_json(&tag, &a, &arg, &arg2).await
            }
            _ => {
                tracing::warn!(conn = self.id, "unknown request {payload}");
                self.send_json(&tag, &wire::status(400)).await
            }
        }
    }

    fn log_in(&self, tag: &str, body: FrameBody) {
        let frame = FrameLog {
            tag: tag.to_owned(),
            body,
        };
        tracing::debug!(conn = self.id, "in  {frame}");
        self.shared.emit(SimEvent::FrameIn {
            conn: self.id,
            frame,
        });
    }

    async fn on_init(&mut self, tag: &str, arr: &[Value]) -> Step {
        let version: Vec<u32> = arr
            .get(2)
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_u64)
                    .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
                    .collect()
            })
            .unwrap_or_default();
        let Some(client_id) = arr.get(4).and_then(Value::as_str).map(str::to_owned) else {
            return self.send_json(tag, &wire::status(400)).await;
        };
        if self.client_id.is_none() || !self.logged_in {
            self.client_id = Some(client_id.clone());
        }
        let v = |i: usize| version.get(i).copied().unwrap_or(0);
        if (v(0), v(1), v(2)) < self.shared.cfg.min_version {
            tracing::info!(conn = self.id, ?version, "client version too old");
            return self.send_json(tag, &wire::cmd_update()).await;
        }
        let server_ref = wire::new_ref();
        {
            let mut st = lock(&self.shared.state);
            if let Some(e) = st.conns.get_mut(&self.id) {
                e.client_id = Some(client_id.clone());
                if !self.logged_in {
                    e.refs = Some(Refs {
                        current: server_ref.clone(),
                        issued_at: Instant::now(),
                        count: 1,
                    });
                }
            }
        }
        let ttl = self.shared.cfg.ref_ttl;
        let curr = wire::version_string(self.shared.cfg.min_version);
        let reply = wire::init_reply(&server_ref, ttl_ms(ttl), &curr);
        self.send_json(tag, &reply).await?;
        self.shared.emit(SimEvent::QrShown {
            conn: self.id,
            client_id,
            server_ref,
            ttl,
        });
        Ok(())
    }

    async fn on_reref(&mut self, tag: &str) -> Step {
        enum Outcome {
            Bad,
            Reuse(String, u64),
            Denied,
            New(String),
        }
        let ttl = self.shared.cfg.ref_ttl;
        let outcome = {
            let mut st = lock(&self.shared.state);
            match st.conns.get_mut(&self.id).and_then(|e| e.refs.as_mut()) {
                None => Outcome::Bad,
                Some(r) if !self.shared.ref_expired(r.issued_at) => {
                    let left = ttl.saturating_sub(r.issued_at.elapsed());
                    Outcome::Reuse(r.current.clone(), ttl_ms(left))
                }
                Some(r) if r.count >= self.shared.cfg.max_refs => Outcome::Denied,
                Some(r) => {
                    r.count += 1;
                    r.current = wire::new_ref();
                    r.issued_at = Instant::now();
                    Outcome::New(r.current.clone())
                }
            }
        };
        match outcome {
            Outcome::Bad => self.send_json(tag, &wire::status(400)).await,
            Outcome::Reuse(r, left) => {
                self.send_json(tag, &json!({"status": 304, "ref": r, "ttl": left}))
                    .await
            }
            Outcome::Denied => self.send_json(tag, &wire::status(429)).await,
            Outcome::New(r) => {
                self.send_json(tag, &json!({"status": 200, "ref": r, "ttl": ttl_ms(ttl)}))
                    .await?;
                self.shared.emit(SimEvent::QrShown {
                    conn: self.id,
                    client_id: self.client_id.clone().unwrap_or_default(),
                    server_ref: r,
                    ttl,
                });
                Ok(())
            }
        }
    }

    async fn refuse(&mut self, tag: &str, client_id: &str, status: u16) -> Step {
        tracing::info!(conn = self.id, client_id, status, "login refused");
        let mut body = wire::status(status);
        if let (403, Some(o)) = (status, body.as_object_mut()) {
            o.insert("tos".into(), json!(self.shared.cfg.account.tos.max(2)));
        }
        self.send_json(tag, &body).await?;
        self.shared.emit(SimEvent::LoginRefused {
            conn: self.id,
            client_id: client_id.to_owned(),
            status,
        });
        Ok(())
    }

    async fn on_login(&mut self, tag: &str, arr: &[Value]) -> Step {
        let s = |i: usize| {
            arr.get(i)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (client_token, server_token, client_id, mode, jid) = (s(2), s(3), s(4), s(5), s(6));
        if self.logged_in || self.challenge.is_some() {
            // Some clients repeat the login every few seconds until they are in.
            tracing::debug!(conn = self.id, "repeated login ignored");
            return Ok(());
        }
        self.client_id = Some(client_id.clone());
        if let Some(status) = self.shared.faults.take_login_status() {
            return self.refuse(tag, &client_id, status).await;
        }
        enum Verdict {
            Refuse(u16),
            Challenge,
            Ok,
        }
        let wid = self.shared.cfg.account.json_wid();
        let verdict = {
            let st = lock(&self.shared.state);
            match st.clients.get(&client_id) {
                None => Verdict::Refuse(401),
                Some(r) if r.logged_out => Verdict::Refuse(401),
                Some(_) if mode == "reconnect" && to_json_jid(&jid) != wid => Verdict::Refuse(401),
                Some(r) if r.client_token == client_token && r.server_token == server_token => {
                    Verdict::Ok
                }
                Some(_) => Verdict::Challenge,
            }
        };
        let verdict = match verdict {
            Verdict::Ok if self.shared.faults.take_challenge() => Verdict::Challenge,
            v => v,
        };
        if let Some(e) = lock(&self.shared.state).conns.get_mut(&self.id) {
            e.client_id = Some(client_id.clone());
        }
        match verdict {
            Verdict::Refuse(status) => self.refuse(tag, &client_id, status).await,
            Verdict::Challenge => {
                let mut bytes = vec![0u8; 32];
                waweb_crypto::primitives::random_bytes(&mut bytes)
                    .map_err(|e| End::Client(format!("random: {e}")))?;
                let b64 = B64.encode(&bytes);
                self.challenge = Some(Challenge {
                    bytes,
                    login_tag: tag.to_owned(),
                });
                self.s_counter = 0;
                self.send_unsolicited(&wire::challenge(&b64)).await?;
                self.shared.emit(SimEvent::ChallengeSent {
                    conn: self.id,
                    client_id,
                });
                Ok(())
            }
            Verdict::Ok => {
                self.s_counter = 0;
                self.complete_restore(tag).await
            }
        }
    }

    /// Rotates the tokens, sends `Conn` (next `s<n>`), the login's `{"status":200}`, then the rest.
    async fn complete_restore(&mut self, login_tag: &str) -> Step {
        let Some(cid) = self.client_id.clone() else {
            return Ok(());
        };
        let conn = {
            let mut st = lock(&self.shared.state);
            let Some(rec) = st.clients.get_mut(&cid) else {
                return Ok(());
            };
            rec.rotate();
            wire::conn(
                &self.shared.cfg.account,
                &wire::Tokens {
                    client: &rec.client_token,
                    server: &rec.server_token,
                    browser: &rec.browser_token,
                },
                None,
            )
        };
        if let Some(old) = self.go_live() {
            let _ = old.try_send(Cmd::Replaced);
        }
        self.send_unsolicited(&conn).await?;
        self.send_json(login_tag, &wire::status(200)).await?;
        self.logged_in_event(true);
        self.after_login().await
    }

    async fn on_challenge(&mut self, tag: &str, arr: &[Value]) -> Step {
        let s = |i: usize| {
            arr.get(i)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (answer, client_id) = (s(2), s(4));
        let Some(ch) = self.challenge.take() else {
            return self.send_json(tag, &wire::status(400)).await;
        };
        let expected = {
            let st = lock(&self.shared.state);
            st.clients
                .get(&client_id)
                .filter(|r| !r.logged_out)
                .map(|r| r.keys.challenge_answer_raw(&ch.bytes))
        };
        let ok = Some(client_id.as_str()) == self.client_id.as_deref()
            && expected.is_some_and(|e| B64.decode(answer.trim()).ok().as_deref() == Some(&e[..]));
        if !ok {
            self.send_json(tag, &wire::status(401)).await?;
            return self.refuse(&ch.login_tag, &client_id, 401).await;
        }
        self.send_json(tag, &wire::status(200)).await?;
        self.complete_restore(&ch.login_tag).await
    }

    fn on_logout(&mut self) -> Step {
        if let (true, Some(cid)) = (self.logged_in, self.client_id.clone()) {
            self.shared.logout(&cid, "connection", Some(self.id));
            self.logged_in = false;
        }
        Err(End::Close("goodbye"))
    }

    async fn on_query(&mut self, tag: &str, q: &str, arg: &str) -> Step {
        if !self.logged_in {
            return self.send_json(tag, &wire::status(401)).await;
        }
        let account = &self.shared.cfg.account;
        let contact = account
            .contacts
            .iter()
            .find(|c| to_json_jid(&c.jid) == to_json_jid(arg));
        let chat = account
            .chats
            .iter()
            .find(|c| to_json_jid(&c.jid) == to_json_jid(arg));
        let reply = match q {
            "exist" if is_user_jid(arg) => json!({"status": 200, "jid": to_json_jid(arg)}),
            "exist" => wire::status(404),
            "ProfilePicThumb" => match contact.and_then(|c| c.picture.clone()) {
                Some(url) => json!({"eurl": url, "tag": "1"}),
                None => wire::status(404),
            },
            "Status" if is_user_jid(arg) => json!({
                "status": contact
                    .and_then(|c| c.status.clone())
                    .unwrap_or_else(|| "Hey there! I am using WhatsApp.".into())
            }),
            "GroupMetadata" | "inviteCode" => {
                match chat.and_then(|c| c.group.as_ref().map(|g| (c, g))) {
                    Some((c, g)) if q == "GroupMetadata" => json!({
                        "id": to_json_jid(&c.jid),
                        "owner": to_json_jid(&g.owner),
                        "subject": c.name.clone().unwrap_or_default(),
                        "creation": g.creation,
                        "participants": g.participants.iter().map(|p| json!({
                            "id": to_json_jid(&p.id),
                            "isAdmin": p.is_admin,
                            "isSuperAdmin": to_json_jid(&p.id) == to_json_jid(&g.owner),
                        })).collect::<Vec<_>>(),
                        "subjectTime": c.t,
                        "subjectOwner": to_json_jid(&g.owner),
                    }),
                    Some(_) => json!({"status": 200, "code": "SimInviteCode0123456"}),
                    None => wire::status(404),
                }
            }
            // The host is the simulator itself; clients use plain http:// for loopback hosts.
            "mediaConn" => json!({"status": 200, "media_conn": {
                "auth": self.shared.media.new_auth(),
                "ttl": 300,
                "hosts": [{"hostname": self.shared.local_addr.to_string()}],
            }}),
            _ => wire::status(404),
        };
        self.send_json(tag, &reply).await
    }

    async fn on_action_json(&mut self, tag: &str, a: &str, arg: &str, arg2: &str) -> Step {
        if !self.logged_in {
            return self.send_json(tag, &wire::status(401)).await;
        }
        match (a, arg) {
            ("presence", "subscribe") => {
                self.send_json(tag, &wire::status(200)).await?;
                let p = json!(["Presence", {"id": to_json_jid(arg2), "type": "unavailable", "t": wire::now_secs()}]);
                self.send_unsolicited(&p).await
            }
            ("invite", _) => {
                let gid = self
                    .shared
                    .cfg
                    .account
                    .chats
                    .iter()
                    .find(|c| c.group.is_some())
                    .map(|c| to_json_jid(&c.jid));
                let reply = match gid {
                    Some(g) => json!({"status": 200, "gid": g}),
                    None => wire::status(404),
                };
                self.send_json(tag, &reply).await
            }
            ("encr_upload", _) => {
                let base = format!("http://{}", self.shared.local_addr);
                let url = self.shared.media.new_seed_upload(&base, arg, arg2);
                self.send_json(tag, &json!({"status": 200, "url": url}))
                    .await
            }
            _ => self.send_json(tag, &wire::status(200)).await,
        }
    }

    async fn on_binary(&mut self, bytes: &[u8]) -> Step {
        let Some(comma) = bytes.iter().position(|b| *b == b',') else {
            tracing::warn!(conn = self.id, "binary frame without a tag");
            return Ok(());
        };
        let (tag_bytes, rest) = bytes.split_at(comma);
        let tag = String::from_utf8_lossy(tag_bytes).into_owned();
        let data = rest.get(1..).unwrap_or_default();
        let fail = |this: &Self, error: String| {
            tracing::warn!(conn = this.id, tag, "binary frame dropped: {error}");
            this.log_in(
                &tag,
                FrameBody::Binary {
                    len: data.len(),
                    node: None,
                    error: Some(error),
                },
            );
        };
        let Some(keys) = self.keys.clone() else {
            fail(self, "no session keys on this connection".into());
            return Ok(());
        };
        // Clients put a metric and a flags byte before the MAC; accept frames without them too.
        let aligned = |n: usize| n >= FRAME_MIN_LEN && (n - FRAME_HEADER_LEN).is_multiple_of(16);
        let (header, frame) = if data.len() >= 2 && aligned(data.len() - 2) {
            let (h, f) = data.split_at(2);
            (
                Some((
                    h.first().copied().unwrap_or(0),
                    h.get(1).copied().unwrap_or(0),
                )),
                f,
            )
        } else {
            (None, data)
        };
        let plain = match keys.open_frame(frame) {
            Ok(p) => p,
            Err(e) => {
                fail(self, e.to_string());
                return Ok(());
            }
        };
        let node = match waweb_binary::decode_owned(&plain) {
            Ok(n) => n,
            Err(e) => {
                fail(self, e.to_string());
                return Ok(());
            }
        };
        if let Some((metric, flags)) = header {
            tracing::trace!(conn = self.id, metric, flags, "binary header");
        }
        self.log_in(
            &tag,
            FrameBody::Binary {
                len: data.len(),
                node: Some(node.clone()),
                error: None,
            },
        );
        self.on_node(&tag, &node).await
    }

    async fn on_node(&mut self, tag: &str, node: &Node) -> Step {
        match (node.tag.as_str(), node.get_attr("type")) {
            ("action", Some("relay")) => self.on_relay(tag, node).await,
            ("action", _) => self.send_json(tag, &wire::status(200)).await,
            ("query", Some(kind)) => {
                let account = &self.shared.cfg.account;
                let reply = match kind {
                    "contacts" => wire::contacts_node(account),
                    "chat" => wire::chats_node(account),
                    "message" => self.history(node),
                    "media" => self.media_refresh(node),
                    other => wire::empty_response(other),
                };
                self.send_node(tag, reply).await
            }
            _ => self.send_json(tag, &wire::status(200)).await,
        }
    }

    /// `query type=media index=ID owner=... jid=...`: a fresh URL for the media of a stored
    /// message, as `media{code=200, url, directPath}` (peers merge these attributes into the media
    /// message: Baileys 3.x `updateMediaMessage`); `media{code=404}` when unknown.
    fn media_refresh(&self, node: &Node) -> Node {
        let id = node.get_attr("index").unwrap_or_default();
        let url = {
            let st = lock(&self.shared.state);
            self.shared
                .cfg
                .account
                .messages
                .iter()
                .chain(st.log.iter())
                .rev()
                .find(|m| m.key.id.as_deref() == Some(id))
                .and_then(WebMessageInfo::media)
                .and_then(|m| m.url.map(str::to_owned))
        };
        match url.and_then(|u| self.shared.media.refresh(&u)) {
            Some(path) => Node::new("media")
                .attr("code", "200")
                .attr("url", format!("http://{}{path}", self.shared.local_addr))
                .attr("directPath", path),
            None => Node::new("media").attr("code", "404"),
        }
    }

    /// `query type=message jid=... count=...`: the chat's stored messages, newest last.
    fn history(&self, node: &Node) -> Node {
        let jid = to_wire_jid(node.get_attr("jid").unwrap_or_default());
        let count: usize = node
            .get_attr("count")
            .and_then(|c| c.parse().ok())
            .unwrap_or(20);
        let st = lock(&self.shared.state);
        let all: Vec<&WebMessageInfo> = self
            .shared
            .cfg
            .account
            .messages
            .iter()
            .chain(st.log.iter())
            .filter(|m| {
                m.key.remote_jid.as_deref().map(to_wire_jid).as_deref() == Some(jid.as_str())
            })
            .collect();
        let skip = all.len().saturating_sub(count);
        let node = wire::action_messages("before", all.into_iter().skip(skip));
        node.attr("last", "true")
    }

    async fn on_relay(&mut self, tag: &str, node: &Node) -> Step {
        let mut msgs = Vec::new();
        for child in node.child_nodes().iter().filter(|c| c.tag == "message") {
            if let Some(Content::Bytes(b)) = &child.content {
                match waweb_proto::decode_web_message_info(b) {
                    Ok(d) => msgs.push(d.info),
                    Err(e) => {
                        tracing::warn!(conn = self.id, "relayed message does not decode: {e}")
                    }
                }
            }
        }
        let cid = self.client_id.clone().unwrap_or_default();
        let mut fresh = Vec::new();
        {
            let mut st = lock(&self.shared.state);
            for m in &msgs {
                let id = m.key.id.clone().unwrap_or_default();
                let new = st.clients.get_mut(&cid).is_some_and(|r| {
                    if r.received_ids.len() >= RECEIVED_IDS_CAP {
                        r.received_ids.clear();
                    }
                    r.received_ids.insert(id)
                });
                if new {
                    st.remember(m.clone());
                    fresh.push(m.clone());
                }
            }
        }
        for m in fresh {
            tracing::info!(
                conn = self.id,
                id = m.key.id.as_deref().unwrap_or_default(),
                "message received"
            );
            self.shared.emit(SimEvent::MessageReceived {
                conn: self.id,
                client_id: cid.clone(),
                message: Box::new(m),
            });
        }
        self.send_json(tag, &json!({"status": 200, "t": wire::now_secs()}))
            .await?;
        for m in &msgs {
            let ack = wire::msg_ack(&self.shared.cfg.account, m, 1);
            self.send_unsolicited(&ack).await?;
        }
        if let Some(delay) = self.shared.cfg.receipts {
            self.shared.recipients_receive(&msgs, delay);
        }
        Ok(())
    }
}

fn ttl_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
