//! The session state machine.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use waweb_binary::{Node, Tree};
use waweb_crypto::{KeyPair, LoginSecret, SessionKeys};
use zeroize::Zeroizing;

use crate::config::{Config, Randomness};
use crate::credentials::Credentials;
use crate::error::{Error, FrameError, RequestError};
use crate::event::{CloseReason, ConnInfo, Event, LoginFailure, LoginKind, Reply, StreamInfo};
use crate::frame::{
    Flags, GOODBYE, KEEPALIVE, Metric, TagGenerator, TextFrame, Transmit, binary_frame,
    split_binary, split_text,
};
use crate::record::{Direction, FrameRecord, RecordBody};

/// Where a session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// QR login: `init` sent, waiting for the ref.
    Init,
    /// QR login: a QR code is showing, waiting for the phone.
    Scanning {
        /// Rerefs done so far.
        rerefs: u32,
    },
    /// Restore: `init` and `login` sent, waiting for `Conn` (or a challenge).
    Restoring {
        /// Whether a challenge was answered.
        challenged: bool,
    },
    /// Logged in.
    LoggedIn,
    /// Over.
    Closed(CloseReason),
}

/// What a pending request was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Init,
    Login,
    Challenge,
    Reref,
    User,
}

#[derive(Debug)]
struct Pending {
    purpose: Purpose,
    deadline: Instant,
}

/// The deadlines a session keeps besides its requests.
#[derive(Debug, Default)]
struct Timers {
    /// When to send the next keepalive.
    keepalive: Option<Instant>,
    /// When a keepalive reply is overdue.
    keepalive_reply: Option<Instant>,
    /// When the current QR ref expires.
    ref_expiry: Option<Instant>,
    /// When a restore must have produced `Conn`.
    login: Option<Instant>,
}

/// One connection's session: feed it frames and time, drain frames, events and the next deadline.
///
/// A session lives as long as one websocket connection; to reconnect, start a new one with
/// [`Session::restore`] and the latest [`Credentials`].
pub struct Session {
    config: Config,
    rng: Box<dyn Randomness>,
    state: State,
    tags: TagGenerator,
    epoch: u64,
    client_id: String,
    key_pair: Option<KeyPair>,
    keys: Option<SessionKeys>,
    credentials: Option<Credentials>,
    server_ref: Option<String>,
    pending: HashMap<String, Pending>,
    timers: Timers,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    records: VecDeque<FrameRecord>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("state", &self.state)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A fresh QR login: generates a client id and a key pair from `rng` and queues
    /// `tag,["admin","init",version,[long,short],clientId,true]`.
    ///
    /// `unix_secs` (wall-clock seconds) only forms the request tags.
    ///
    /// # Errors
    /// [`Error::Random`] if `rng` fails.
    pub fn login(
        config: Config,
        now: Instant,
        unix_secs: u64,
        mut rng: Box<dyn Randomness>,
    ) -> Result<Self, Error> {
        let mut id = [0u8; 16];
        rng.fill(&mut id).map_err(|_| Error::Random)?;
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.fill(secret.as_mut()).map_err(|_| Error::Random)?;
        let key_pair = KeyPair::from_secret_bytes(*secret);
        let mut s = Self::new(config, now, unix_secs, rng, B64.encode(id), State::Init);
        s.key_pair = Some(key_pair);
        s.send_init(now);
        Ok(s)
    }

    /// A restore with stored credentials: queues `init` and
    /// `["admin","login",clientToken,serverToken,clientId,"takeover"]` back to back.
    ///
    /// # Errors
    /// None today; the signature leaves room for credential checks.
    pub fn restore(
        config: Config,
        now: Instant,
        unix_secs: u64,
        credentials: Credentials,
        rng: Box<dyn Randomness>,
    ) -> Result<Self, Error> {
        let client_id = credentials.client_id.clone();
        let mut s = Self::new(
            config,
            now,
            unix_secs,
            rng,
            client_id,
            State::Restoring { challenged: false },
        );
        s.keys = Some(credentials.keys());
        let login = json!([
            "admin",
            "login",
            credentials.client_token,
            credentials.server_token,
            credentials.client_id,
            "takeover"
        ]);
        s.credentials = Some(credentials);
        s.send_init(now);
        s.send_json_internal(now, &login, Purpose::Login);
        s.timers.login = Some(now + s.config.request_timeout * 2);
        Ok(s)
    }

    fn new(
        config: Config,
        now: Instant,
        unix_secs: u64,
        rng: Box<dyn Randomness>,
        client_id: String,
        state: State,
    ) -> Self {
        let timers = Timers {
            keepalive: Some(now + config.keepalive_interval),
            ..Timers::default()
        };
        Self {
            config,
            rng,
            state,
            tags: TagGenerator::new(unix_secs),
            epoch: 0,
            client_id,
            key_pair: None,
            keys: None,
            credentials: None,
            server_ref: None,
            pending: HashMap::new(),
            timers,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            records: VecDeque::new(),
        }
    }

    // ----- outputs -----

    /// The next frame to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next frame record, when [`Config::record_frames`] is on: every frame in and out, in
    /// the order the session handled them.
    pub fn poll_record(&mut self) -> Option<FrameRecord> {
        self.records.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        let t = &self.timers;
        [t.keepalive, t.keepalive_reply, t.ref_expiry, t.login]
            .into_iter()
            .flatten()
            .chain(self.pending.values().map(|p| p.deadline))
            .min()
    }

    /// The current state.
    #[must_use]
    pub const fn state(&self) -> &State {
        &self.state
    }

    /// Whether the session has keys and is logged in.
    #[must_use]
    pub const fn is_logged_in(&self) -> bool {
        matches!(self.state, State::LoggedIn)
    }

    /// Whether the session is over.
    #[must_use]
    pub const fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    /// The latest credentials (after the first `Conn`, or those given to restore).
    #[must_use]
    pub const fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    // ----- inputs -----

    /// Time has passed: fires due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.timers.keepalive_reply.is_some_and(|t| t <= now) {
            self.close(CloseReason::KeepaliveTimeout);
            return;
        }
        if self.timers.login.is_some_and(|t| t <= now) {
            self.close(CloseReason::Timeout("Conn"));
            return;
        }
        if self.timers.keepalive.is_some_and(|t| t <= now) {
            self.transmits
                .push_back(Transmit::Text(KEEPALIVE.to_owned()));
            self.record(Direction::Out, None, KEEPALIVE.len(), || {
                RecordBody::Text(KEEPALIVE.to_owned())
            });
            self.timers.keepalive = Some(now + self.config.keepalive_interval);
            if self.timers.keepalive_reply.is_none() {
                self.timers.keepalive_reply = Some(now + self.config.keepalive_timeout);
            }
        }
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(t, _)| t.clone())
            .collect();
        for tag in due {
            let Some(p) = self.pending.remove(&tag) else {
                continue;
            };
            match p.purpose {
                Purpose::User => self.events.push_back(Event::Response {
                    tag,
                    result: Err(RequestError::Timeout),
                }),
                Purpose::Init => return self.close(CloseReason::Timeout("init")),
                Purpose::Login => return self.close(CloseReason::Timeout("login")),
                Purpose::Challenge => return self.close(CloseReason::Timeout("challenge")),
                Purpose::Reref => return self.close(CloseReason::Timeout("reref")),
            }
        }
        if self.timers.ref_expiry.is_some_and(|t| t <= now) {
            self.timers.ref_expiry = None;
            self.ref_expired(now);
        }
    }

    /// The connection went away.
    pub fn handle_connection_lost(&mut self) {
        self.close(CloseReason::ConnectionLost);
    }

    /// A text frame arrived.
    pub fn handle_text(&mut self, now: Instant, frame: &str) {
        if self.is_closed() {
            return;
        }
        self.record_text(Direction::In, frame);
        match split_text(frame) {
            None => self.frame_error(None, FrameError::Malformed("text frame without a tag")),
            Some(TextFrame::Pong(ms)) => match ms.trim().parse::<u64>() {
                Ok(server_time_ms) => {
                    self.timers.keepalive_reply = None;
                    self.events.push_back(Event::Pong { server_time_ms });
                }
                Err(_) => self.frame_error(None, FrameError::Malformed("keepalive reply")),
            },
            Some(TextFrame::Tagged { tag, payload }) => {
                if payload.trim().is_empty() {
                    return;
                }
                match serde_json::from_str::<Value>(payload) {
                    Ok(value) => self.handle_json(now, tag, value),
                    Err(_) => self.frame_error(Some(tag), FrameError::Json),
                }
            }
        }
    }

    /// A binary frame arrived: opened with the session keys and decoded; failures are reported and
    /// the frame dropped.
    pub fn handle_binary(&mut self, now: Instant, frame: &[u8]) {
        if self.is_closed() {
            return;
        }
        let Some((tag, sealed)) = split_binary(frame) else {
            return self.frame_error(None, FrameError::Malformed("binary frame without a tag"));
        };
        let tag = tag.to_owned();
        // Some servers send JSON in binary websocket messages.
        if sealed.first().is_some_and(|b| matches!(b, b'[' | b'{'))
            && let Ok(value) = serde_json::from_slice::<Value>(sealed)
        {
            self.record(Direction::In, Some(&tag), frame.len(), || {
                RecordBody::Json(value.clone())
            });
            return self.handle_json(now, &tag, value);
        }
        let Some(keys) = &self.keys else {
            return self.binary_error(&tag, frame.len(), FrameError::NoKeys);
        };
        let plain = match keys.open_frame(sealed) {
            Ok(p) => Zeroizing::new(p),
            Err(e) => return self.binary_error(&tag, frame.len(), FrameError::Open(e)),
        };
        let node = match Tree::decode(&plain) {
            Ok(tree) => tree.root().to_owned(),
            Err(e) => return self.binary_error(&tag, frame.len(), FrameError::Decode(e)),
        };
        self.record(Direction::In, Some(&tag), frame.len(), || {
            RecordBody::Node {
                node: node.clone(),
                metric: None,
                flags: None,
            }
        });
        if self
            .pending
            .get(&tag)
            .is_some_and(|p| p.purpose == Purpose::User)
        {
            self.pending.remove(&tag);
            self.events.push_back(Event::Response {
                tag,
                result: Ok(Reply::Node(node)),
            });
        } else {
            self.events.push_back(Event::Node { tag, node });
        }
    }

    // ----- commands -----

    /// Sends a JSON request with a fresh tag; the reply comes as [`Event::Response`] with that tag,
    /// or a timeout after [`Config::request_timeout`].
    ///
    /// # Errors
    /// [`Error::Closed`] once the session is over.
    pub fn send_json(&mut self, now: Instant, value: &Value) -> Result<String, Error> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        Ok(self.send_json_internal(now, value, Purpose::User))
    }

    /// Sends a node as an encrypted binary frame with a fresh tag. `action` and `query` nodes
    /// without an `epoch` attribute get the next epoch.
    ///
    /// # Errors
    /// [`Error::NotLoggedIn`], [`Error::Closed`], [`Error::Encode`], [`Error::Random`].
    pub fn send_node(
        &mut self,
        now: Instant,
        node: Node,
        metric: Metric,
        flags: Flags,
    ) -> Result<String, Error> {
        let tag = self.tags.next_tag();
        self.send_node_tagged(now, &tag, node, metric, flags)?;
        Ok(tag)
    }

    /// Like [`send_node`](Self::send_node) with a given tag (a relayed message uses its message
    /// id as the tag; its `{"status":200}` comes back on it).
    ///
    /// # Errors
    /// As [`send_node`](Self::send_node), and [`Error::Tag`] for an empty tag or one with a comma.
    pub fn send_node_tagged(
        &mut self,
        now: Instant,
        tag: &str,
        mut node: Node,
        metric: Metric,
        flags: Flags,
    ) -> Result<(), Error> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        if tag.is_empty() || tag.contains(',') {
            return Err(Error::Tag);
        }
        let Some(keys) = self.keys.as_ref().filter(|_| self.is_logged_in()) else {
            return Err(Error::NotLoggedIn);
        };
        if (node.tag == "action" || node.tag == "query") && node.get_attr("epoch").is_none() {
            self.epoch += 1;
            node.attrs.push(("epoch".into(), self.epoch.to_string()));
        }
        let plain = Zeroizing::new(waweb_binary::encode(&node)?);
        let mut iv = [0u8; 16];
        self.rng.fill(&mut iv).map_err(|_| Error::Random)?;
        let sealed = keys.seal_frame_with_iv(&plain, &iv);
        let frame = binary_frame(tag, metric, flags, &sealed);
        let size = frame.len();
        self.transmits.push_back(Transmit::Binary(frame));
        self.record(Direction::Out, Some(tag), size, || RecordBody::Node {
            node,
            metric: Some(metric),
            flags: Some(flags),
        });
        self.pending.insert(
            tag.to_owned(),
            Pending {
                purpose: Purpose::User,
                deadline: now + self.config.request_timeout,
            },
        );
        Ok(())
    }

    /// The next `epoch` value, for nodes built by hand.
    pub fn next_epoch(&mut self) -> u64 {
        self.epoch += 1;
        self.epoch
    }

    /// Logs out over this connection: queues `goodbye,,["admin","Conn","disconnect"]` and closes
    /// with [`CloseReason::LoggedOut`]. Send the frame, then close the socket.
    ///
    /// # Errors
    /// [`Error::NotLoggedIn`] before login (use [`Credentials::logout_request`] without a
    /// connection).
    pub fn logout(&mut self) -> Result<(), Error> {
        if !self.is_logged_in() {
            return Err(Error::NotLoggedIn);
        }
        self.transmits.push_back(Transmit::Text(GOODBYE.to_owned()));
        self.record_text(Direction::Out, GOODBYE);
        self.close(CloseReason::LoggedOut);
        Ok(())
    }

    // ----- internals -----

    fn send_init(&mut self, now: Instant) {
        let init = json!([
            "admin",
            "init",
            self.config.version,
            [self.config.browser_long, self.config.browser_short],
            self.client_id,
            true
        ]);
        self.send_json_internal(now, &init, Purpose::Init);
    }

    fn send_json_internal(&mut self, now: Instant, value: &Value, purpose: Purpose) -> String {
        let tag = self.tags.next_tag();
        let text = format!("{tag},{value}");
        let size = text.len();
        self.transmits.push_back(Transmit::Text(text));
        self.record(Direction::Out, Some(&tag), size, || {
            RecordBody::Json(value.clone())
        });
        self.pending.insert(
            tag.clone(),
            Pending {
                purpose,
                deadline: now + self.config.request_timeout,
            },
        );
        tag
    }

    /// Keeps a record when recording is on; `body` is built only then.
    fn record(
        &mut self,
        direction: Direction,
        tag: Option<&str>,
        size: usize,
        body: impl FnOnce() -> RecordBody,
    ) {
        if self.config.record_frames {
            self.records.push_back(FrameRecord {
                direction,
                tag: tag.map(str::to_owned),
                size,
                body: body(),
            });
        }
    }

    /// Records a text frame: tagged JSON as JSON, anything else as text.
    fn record_text(&mut self, direction: Direction, frame: &str) {
        if !self.config.record_frames {
            return;
        }
        let (tag, body) = match split_text(frame) {
            Some(TextFrame::Tagged { tag, payload }) => match serde_json::from_str(payload) {
                Ok(value) => (Some(tag), RecordBody::Json(value)),
                Err(_) => (Some(tag), RecordBody::Text(frame.to_owned())),
            },
            _ => (None, RecordBody::Text(frame.to_owned())),
        };
        self.record(direction, tag, frame.len(), || body);
    }

    /// A binary frame that could not be read: recorded, then reported.
    fn binary_error(&mut self, tag: &str, size: usize, error: FrameError) {
        self.record(Direction::In, Some(tag), size, || {
            RecordBody::Unreadable(error.to_string())
        });
        self.frame_error(Some(tag), error);
    }

    fn frame_error(&mut self, tag: Option<&str>, error: FrameError) {
        self.events.push_back(Event::FrameError {
            tag: tag.map(str::to_owned),
            error,
        });
    }

    fn close(&mut self, reason: CloseReason) {
        if self.is_closed() {
            return;
        }
        for (tag, p) in self.pending.drain() {
            if p.purpose == Purpose::User {
                self.events.push_back(Event::Response {
                    tag,
                    result: Err(RequestError::Closed),
                });
            }
        }
        self.timers = Timers::default();
        self.state = State::Closed(reason.clone());
        self.events.push_back(Event::Closed(reason));
    }

    fn handle_json(&mut self, now: Instant, tag: &str, value: Value) {
        let kind = value
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .unwrap_or("");
        // A command can come on a request's tag: `init` with an old version is answered
        // `<tag>,["Cmd",{"type":"update"}]`.
        if kind == "Cmd"
            && self
                .pending
                .get(tag)
                .is_some_and(|p| p.purpose != Purpose::User)
        {
            self.pending.remove(tag);
            return self.handle_cmd(now, tag, value);
        }
        if let Some(p) = self.pending.remove(tag) {
            return self.handle_reply(now, tag, p.purpose, value);
        }
        match kind {
            "Conn" => self.handle_conn(&value),
            "Cmd" => self.handle_cmd(now, tag, value),
            "Stream" => {
                let a = value.as_array().map_or(&[][..], Vec::as_slice);
                let info = StreamInfo {
                    kind: a.get(1).and_then(Value::as_str).unwrap_or("").to_owned(),
                    update: a.get(2).and_then(Value::as_bool).unwrap_or(false),
                    version: a.get(3).and_then(Value::as_str).map(str::to_owned),
                };
                self.events.push_back(Event::Stream(info));
            }
            "Props" => {
                let props = value.get(1).cloned().unwrap_or(Value::Null);
                self.events.push_back(Event::Props(props));
            }
            _ => self.events.push_back(Event::Json {
                tag: tag.to_owned(),
                value,
            }),
        }
    }

    fn handle_reply(&mut self, now: Instant, tag: &str, purpose: Purpose, value: Value) {
        let status = status_of(&value);
        match purpose {
            Purpose::User => self.events.push_back(Event::Response {
                tag: tag.to_owned(),
                result: Ok(Reply::Json(value)),
            }),
            Purpose::Init => {
                if status != Some(200) {
                    return self.close(CloseReason::InitFailed(status.unwrap_or(0)));
                }
                if self.state == State::Init {
                    let Some(server_ref) = value.get("ref").and_then(Value::as_str) else {
                        return self.close(CloseReason::Protocol("init reply without ref"));
                    };
                    self.server_ref = Some(server_ref.to_owned());
                    self.state = State::Scanning { rerefs: 0 };
                    self.show_qr(now, &value, 0, false);
                }
            }
            Purpose::Login => {
                if status != Some(200) {
                    let tos = value.get("tos").and_then(Value::as_u64);
                    let failure = LoginFailure::from_status(status.unwrap_or(0), tos);
                    self.close(CloseReason::Login(failure));
                }
            }
            Purpose::Challenge => {
                if status != Some(200) {
                    self.close(CloseReason::ChallengeFailed(status.unwrap_or(0)));
                }
            }
            Purpose::Reref => {
                let State::Scanning { rerefs } = self.state else {
                    return;
                };
                match status {
                    Some(200) => {
                        let Some(r) = value.get("ref").and_then(Value::as_str) else {
                            return self.close(CloseReason::Protocol("reref reply without ref"));
                        };
                        self.server_ref = Some(r.to_owned());
                        self.show_qr(now, &value, rerefs, false);
                    }
                    Some(304) => self.show_qr(now, &value, rerefs, true),
                    Some(429) => self.close(CloseReason::RefDenied),
                    _ => self.close(CloseReason::Protocol("reref reply status")),
                }
            }
        }
    }

    fn show_qr(&mut self, now: Instant, reply: &Value, attempt: u32, reused: bool) {
        let ttl = reply
            .get("ttl")
            .and_then(Value::as_u64)
            .map_or(self.config.default_ref_ttl, Duration::from_millis);
        let (Some(server_ref), Some(kp)) = (&self.server_ref, &self.key_pair) else {
            return self.close(CloseReason::Protocol("no ref"));
        };
        let code = kp.qr_string(server_ref, &self.client_id);
        self.timers.ref_expiry = Some(now + ttl);
        self.events.push_back(Event::Qr {
            code,
            ttl,
            attempt,
            reused,
        });
    }

    fn ref_expired(&mut self, now: Instant) {
        let State::Scanning { rerefs } = self.state else {
            return;
        };
        if rerefs >= self.config.max_rerefs {
            return self.close(CloseReason::QrExpired);
        }
        self.state = State::Scanning { rerefs: rerefs + 1 };
        self.send_json_internal(now, &json!(["admin", "Conn", "reref"]), Purpose::Reref);
    }

    fn handle_cmd(&mut self, now: Instant, tag: &str, value: Value) {
        let body = value.get(1).cloned().unwrap_or(Value::Null);
        match body.get("type").and_then(Value::as_str) {
            Some("update") => self.close(CloseReason::UpdateRequired),
            Some("disconnect") => {
                if body.get("kind").and_then(Value::as_str) == Some("replaced") {
                    self.close(CloseReason::Replaced);
                } else {
                    self.close(CloseReason::Disconnected);
                }
            }
            Some("challenge") if matches!(self.state, State::Restoring { .. }) => {
                self.answer_challenge(now, &body);
            }
            _ => self.events.push_back(Event::Json {
                tag: tag.to_owned(),
                value,
            }),
        }
    }

    fn answer_challenge(&mut self, now: Instant, body: &Value) {
        let (Some(keys), Some(creds)) = (&self.keys, &self.credentials) else {
            return self.close(CloseReason::Protocol("challenge without keys"));
        };
        let Some(challenge) = body.get("challenge").and_then(Value::as_str) else {
            return self.close(CloseReason::Protocol("challenge without a challenge"));
        };
        let Ok(answer) = keys.challenge_answer(challenge) else {
            return self.close(CloseReason::Protocol("challenge is not base64"));
        };
        let msg = json!([
            "admin",
            "challenge",
            answer,
            creds.server_token,
            self.client_id
        ]);
        self.send_json_internal(now, &msg, Purpose::Challenge);
        self.state = State::Restoring { challenged: true };
        self.timers.login = Some(now + self.config.request_timeout * 2);
        self.events.push_back(Event::ChallengeAnswered);
    }

    fn handle_conn(&mut self, value: &Value) {
        let Some(conn) = value.get(1).filter(|c| c.is_object()) else {
            return self.frame_error(None, FrameError::Malformed("Conn without an object"));
        };
        let s = |k: &str| conn.get(k).and_then(Value::as_str).map(str::to_owned);
        let info = ConnInfo {
            wid: s("wid"),
            pushname: s("pushname"),
            platform: s("platform"),
            battery: conn.get("battery").and_then(Value::as_u64),
            plugged: conn.get("plugged").and_then(Value::as_bool),
            connected: conn.get("connected").and_then(Value::as_bool),
            tos: conn.get("tos").and_then(Value::as_u64),
            phone: conn.get("phone").cloned(),
        };
        let (Some(client_token), Some(server_token)) = (
            s("clientToken").map(Zeroizing::new),
            s("serverToken").map(Zeroizing::new),
        ) else {
            return self.close(CloseReason::Protocol("Conn without tokens"));
        };
        let how = match self.state {
            State::Scanning { .. } | State::Init => {
                let Some(secret) = conn.get("secret").and_then(Value::as_str) else {
                    return self.close(CloseReason::Protocol("Conn without secret"));
                };
                let Some(kp) = &self.key_pair else {
                    return self.close(CloseReason::Protocol("no key pair"));
                };
                let keys = match LoginSecret::from_base64(secret).and_then(|s| kp.session_keys(&s))
                {
                    Ok(k) => k,
                    Err(_) => return self.close(CloseReason::Protocol("login secret rejected")),
                };
                self.credentials = Some(Credentials::new(
                    self.client_id.clone(),
                    String::new(),
                    String::new(),
                    &keys,
                ));
                self.keys = Some(keys);
                self.key_pair = None;
                self.timers.ref_expiry = None;
                // A pending reref is moot now.
                self.pending.retain(|_, p| p.purpose != Purpose::Reref);
                Some(LoginKind::Qr)
            }
            State::Restoring { challenged } => Some(if challenged {
                LoginKind::Challenged
            } else {
                LoginKind::Restored
            }),
            State::LoggedIn | State::Closed(_) => None,
        };
        let Some(creds) = self.credentials.as_mut() else {
            return self.close(CloseReason::Protocol("Conn before login"));
        };
        creds.client_token.clone_from(&client_token);
        creds.server_token.clone_from(&server_token);
        if let Some(b) = s("browserToken") {
            creds.browser_token = Some(b);
        }
        if info.wid.is_some() {
            creds.wid.clone_from(&info.wid);
        }
        if info.pushname.is_some() {
            creds.pushname.clone_from(&info.pushname);
        }
        let creds = creds.clone();
        if let Some(how) = how {
            self.state = State::LoggedIn;
            self.timers.login = None;
            self.events.push_back(Event::LoggedIn { info, how });
        }
        self.events.push_back(Event::CredentialsUpdated(creds));
    }
}

/// The `status` of a JSON reply, if it has one.
fn status_of(v: &Value) -> Option<u16> {
    v.get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
}
