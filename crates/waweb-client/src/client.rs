//! The async client: a [`Client`] on `waweb-transport` and its [`EventStream`].

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use waweb_binary::Node;
use waweb_proto::prost::Message as _;
use waweb_proto::proto::{self, WebMessageInfo};
use waweb_session::{Credentials, Flags, LoginKind, Metric, Reply};
use waweb_transport::{Connection, Handle, StopReason};

use crate::event::{AddKind, Event, Message, MessageBatch};
use crate::jid::{Jid, Server};
use crate::store::Store;
use crate::{events_from_json, events_from_node};

/// How long a request waits for the server's reply by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Client settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The websocket URL (`wss://web.whatsapp.com/ws`, or a simulator's `ws://127.0.0.1:PORT/ws`).
    pub url: String,
    /// Stored credentials: restore them instead of a QR login.
    pub credentials: Option<Credentials>,
    /// How long each request waits for its reply.
    pub request_timeout: Duration,
    /// Keep an in-memory [`Store`] from the events (see [`Client::with_store`]).
    pub keep_store: bool,
    /// Capacity of the event stream.
    pub event_capacity: usize,
    /// The transport settings; `url` and `credentials` above override theirs.
    pub transport: waweb_transport::Config,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            url: waweb_transport::DEFAULT_URL.into(),
            credentials: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            keep_store: true,
            event_capacity: 1024,
            transport: waweb_transport::Config::default(),
        }
    }
}

impl ClientConfig {
    /// Defaults with another URL.
    #[must_use]
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Restore these credentials instead of a QR login.
    #[must_use]
    pub fn credentials(mut self, credentials: Option<Credentials>) -> Self {
        self.credentials = credentials;
        self
    }
}

/// What the [`EventStream`] yields: connection events and the typed protocol [`Event`]s.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The websocket is up; a QR login or a restore starts.
    Connected {
        /// Reconnect attempts before this one.
        attempt: u32,
        /// Whether stored credentials are being restored.
        restoring: bool,
    },
    /// Show this QR code to the phone (`ref,publicKey,clientId`).
    Qr {
        /// The string to encode in the QR code.
        code: String,
        /// How long it is valid.
        ttl: Duration,
        /// 0 for the first ref, then 1.. for each new one.
        attempt: u32,
    },
    /// Logged in.
    LoggedIn {
        /// Our own JID.
        wid: Option<Jid>,
        /// Our display name.
        pushname: Option<String>,
        /// By QR, restore or challenge.
        how: LoginKind,
    },
    /// New tokens: persist these credentials (they rotate on every login).
    CredentialsUpdated(Credentials),
    /// A typed protocol event (chats, contacts, messages, receipts, presence, ...). A message this
    /// client sent appears as [`Event::Messages`] with `add` = relay and its status after the ack.
    Event(Event),
    /// A received frame could not be read; the connection carries on.
    FrameError(String),
    /// The connection went away; another attempt follows after `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// The backoff delay.
        retry_in: Duration,
    },
    /// The client has stopped for good; the last event.
    Stopped(StopReason),
}

/// The stream of [`ClientEvent`]s. When it is dropped the client keeps running (events are
/// discarded).
#[derive(Debug)]
pub struct EventStream {
    rx: mpsc::Receiver<ClientEvent>,
}

impl EventStream {
    /// The next event; `None` after [`ClientEvent::Stopped`].
    pub async fn recv(&mut self) -> Option<ClientEvent> {
        self.rx.recv().await
    }
}

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The transport refused or lost the request (not connected, stopped, no reply).
    #[error("{0}")]
    Transport(#[from] waweb_transport::Error),
    /// No reply within the request timeout.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The server answered with this status.
    #[error("the server answered status {0}")]
    Status(u16),
    /// The reply has an unexpected form.
    #[error("unexpected reply: {0}")]
    UnexpectedReply(String),
    /// The call needs a logged-in session (our own JID).
    #[error("not logged in")]
    NotLoggedIn,
    /// No random bytes for a message id.
    #[error("no randomness for a message id")]
    Random,
}

/// A message this client sent, after the server's ack.
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    /// The message id (`3EB0` + upper-case hex).
    pub id: String,
    /// The chat.
    pub chat: Jid,
    /// The server's time of the ack (`t`), seconds since the epoch.
    pub server_time: Option<u64>,
    /// The message as sent, with status `SERVER_ACK`.
    pub info: WebMessageInfo,
}

/// Options of a text message.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TextOptions {
    /// Reply to this message (quoting it).
    pub quoted: Option<WebMessageInfo>,
    /// Mention these users (the text should carry `@<number>` for each).
    pub mentions: Vec<Jid>,
}

impl TextOptions {
    /// Quote `message`.
    #[must_use]
    pub fn quoting(mut self, message: WebMessageInfo) -> Self {
        self.quoted = Some(message);
        self
    }

    /// Mention `jids`.
    #[must_use]
    pub fn mentioning(mut self, jids: impl IntoIterator<Item = Jid>) -> Self {
        self.mentions.extend(jids);
        self
    }
}

/// Our own presence, as sent with [`Client::send_presence`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetPresence {
    /// Online (flags `0xA0`).
    Available,
    /// Offline (flags `0x10`).
    Unavailable,
    /// Typing in a chat (flags `0x04`).
    Composing,
    /// Recording a voice message in a chat (flags `0x04`).
    Recording,
    /// Stopped typing (flags `0x04`).
    Paused,
}

impl SetPresence {
    /// The `type` attribute.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Unavailable => "unavailable",
            Self::Composing => "composing",
            Self::Recording => "recording",
            Self::Paused => "paused",
        }
    }

    const fn flags(self) -> Flags {
        match self {
            Self::Available => Flags(Flags::IGNORE.0 | Flags::AVAILABLE.0),
            Self::Unavailable => Flags::NOT_AVAILABLE,
            Self::Composing | Self::Recording | Self::Paused => Flags::SKIP_OFFLINE,
        }
    }
}

/// A group's metadata (`["query","GroupMetadata",jid]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMetadata {
    /// The group.
    pub id: Jid,
    /// Its creator.
    pub owner: Option<Jid>,
    /// Its subject.
    pub subject: String,
    /// Creation time, seconds since the epoch.
    pub creation: Option<u64>,
    /// The members.
    pub participants: Vec<GroupParticipant>,
    /// When the subject was set.
    pub subject_time: Option<u64>,
    /// Who set it.
    pub subject_owner: Option<Jid>,
}

/// A member of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupParticipant {
    /// The member.
    pub jid: Jid,
    /// An admin.
    pub is_admin: bool,
    /// The creator (super admin).
    pub is_super_admin: bool,
}

/// A change to a group, sent as `action type=set` with a `group` child (metric group, flags ignore).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupAction {
    /// `create`.
    Create,
    /// `add`.
    Add,
    /// `remove`.
    Remove,
    /// `promote`.
    Promote,
    /// `demote`.
    Demote,
    /// `subject`.
    Subject,
    /// `leave`.
    Leave,
}

impl GroupAction {
    /// The `type` attribute.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Promote => "promote",
            Self::Demote => "demote",
            Self::Subject => "subject",
            Self::Leave => "leave",
        }
    }
}

/// State shared by the client handles and the event task.
#[derive(Debug, Default)]
struct Shared {
    wid: Option<Jid>,
    store: Option<Store>,
    group_tag: u64,
}

/// A connected client: cheap to clone; every method awaits the server's reply with the
/// configured timeout.
#[derive(Clone, Debug)]
pub struct Client {
    handle: Handle,
    shared: Arc<Mutex<Shared>>,
    /// Weak, so that the stream ends when the event task does.
    events: mpsc::WeakSender<ClientEvent>,
    timeout: Duration,
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fresh message id as web clients form them: `3EB0` + 16 upper-case hex digits.
///
/// # Errors
/// [`ClientError::Random`] when the system has no randomness.
pub fn new_message_id() -> Result<String, ClientError> {
    let mut bytes = [0u8; 8];
    waweb_crypto::primitives::random_bytes(&mut bytes).map_err(|_| ClientError::Random)?;
    Ok(format!("3EB0{}", hex_upper(&bytes)))
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

/// The JID as the binary protocol carries it (`s.whatsapp.net` for users).
pub(crate) fn wire_jid(jid: &Jid) -> String {
    jid.normalized().to_string()
}

/// The JID as JSON requests carry it (`c.us` for users).
pub(crate) fn json_jid(jid: &Jid) -> String {
    match jid.server {
        Server::SWhatsappNet => Jid::new(jid.user.clone(), Server::CUs).to_string(),
        _ => jid.to_string(),
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn status_of(v: &Value) -> Option<u16> {
    v.get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
}

/// A JSON reply with `status` 200 (or no status at all); other statuses are errors.
pub(crate) fn expect_ok(reply: Reply) -> Result<Value, ClientError> {
    match reply {
        Reply::Json(v) => match status_of(&v) {
            None | Some(200) => Ok(v),
            Some(s) => Err(ClientError::Status(s)),
        },
        Reply::Node(n) => Err(ClientError::UnexpectedReply(format!(
            "binary {} node",
            n.tag
        ))),
    }
}

impl Client {
    /// Starts the connection (on the current tokio runtime) and returns the client and its
    /// events. Logging in happens in the background: watch for [`ClientEvent::Qr`] and
    /// [`ClientEvent::LoggedIn`].
    #[must_use]
    pub fn connect(config: ClientConfig) -> (Client, EventStream) {
        let mut transport = config.transport;
        transport.url = config.url;
        transport.credentials = config.credentials;
        let (handle, transport_events) = Connection::connect(transport);
        let (tx, rx) = mpsc::channel(config.event_capacity.max(1));
        let shared = Arc::new(Mutex::new(Shared {
            store: config.keep_store.then(Store::new),
            ..Shared::default()
        }));
        let events = tx.downgrade();
        tokio::spawn(pump(transport_events, tx, Arc::clone(&shared)));
        let client = Client {
            handle,
            shared,
            events,
            timeout: config.request_timeout,
        };
        (client, EventStream { rx })
    }

    /// Our own JID, once logged in.
    #[must_use]
    pub fn own_jid(&self) -> Option<Jid> {
        lock(&self.shared).wid.clone()
    }

    /// Reads the in-memory store (`None` when [`ClientConfig::keep_store`] is off).
    pub fn with_store<R>(&self, f: impl FnOnce(&Store) -> R) -> Option<R> {
        lock(&self.shared).store.as_ref().map(f)
    }

    /// The latest credentials (to persist; they also arrive as [`ClientEvent::CredentialsUpdated`]).
    ///
    /// # Errors
    /// [`ClientError::Transport`] when the client has stopped.
    pub async fn credentials(&self) -> Result<Option<Credentials>, ClientError> {
        Ok(self.handle.credentials().await?)
    }

    async fn timed<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, waweb_transport::Error>>,
    ) -> Result<T, ClientError> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))?
            .map_err(ClientError::from)
    }

    pub(crate) async fn json(&self, request: Value) -> Result<Reply, ClientError> {
        self.timed(self.handle.request_json(request)).await
    }

    pub(crate) async fn node(
        &self,
        node: Node,
        metric: Metric,
        flags: Flags,
    ) -> Result<Reply, ClientError> {
        self.timed(self.handle.send_node(node, metric, flags)).await
    }

    /// Sends a text message and waits for the server's ack.
    ///
    /// # Errors
    /// [`ClientError::Timeout`], [`ClientError::Status`], [`ClientError::Transport`].
    pub async fn send_text(
        &self,
        chat: &Jid,
        text: impl Into<String>,
    ) -> Result<SentMessage, ClientError> {
        self.send_text_with(chat, text, TextOptions::default())
            .await
    }

    /// Sends a text message with a quoted message and/or mentions.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text); [`ClientError::NotLoggedIn`] for a quote before login.
    pub async fn send_text_with(
        &self,
        chat: &Jid,
        text: impl Into<String>,
        options: TextOptions,
    ) -> Result<SentMessage, ClientError> {
        let text = text.into();
        let mentions: Vec<String> = options.mentions.iter().map(wire_jid).collect();
        let message = match &options.quoted {
            Some(quoted) => {
                let own = self.own_jid().ok_or(ClientError::NotLoggedIn)?;
                let mut m = proto::Message::quoted_reply(text, quoted, &wire_jid(&own));
                if let Some(ctx) = m
                    .extended_text_message
                    .as_mut()
                    .and_then(|e| e.context_info.as_mut())
                {
                    ctx.mentioned_jid = mentions;
                }
                m
            }
            None if mentions.is_empty() => proto::Message::from_text(text),
            None => proto::Message::text_with_mentions(text, mentions),
        };
        self.send_message(chat, message).await
    }

    /// Sends a location (`locationMessage` with latitude, longitude and an optional name).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_location(
        &self,
        chat: &Jid,
        latitude: f64,
        longitude: f64,
        name: Option<&str>,
    ) -> Result<SentMessage, ClientError> {
        let location = proto::LocationMessage {
            degrees_latitude: Some(latitude),
            degrees_longitude: Some(longitude),
            name: name.map(str::to_owned),
            ..proto::LocationMessage::default()
        };
        let message = proto::Message {
            location_message: Some(Box::new(location)),
            ..proto::Message::default()
        };
        self.send_message(chat, message).await
    }

    /// Sends a contact card (`contactMessage` with a display name and a vCard).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_contact(
        &self,
        chat: &Jid,
        display_name: &str,
        vcard: &str,
    ) -> Result<SentMessage, ClientError> {
        let contact = proto::ContactMessage {
            display_name: Some(display_name.to_owned()),
            vcard: Some(vcard.to_owned()),
            ..proto::ContactMessage::default()
        };
        let message = proto::Message {
            contact_message: Some(Box::new(contact)),
            ..proto::Message::default()
        };
        self.send_message(chat, message).await
    }

    /// Sends any message content (`action type=relay` with one `message`, metric 16, flags
    /// `0x80`, on the message id's tag) and waits for the server's `{"status":200}`. The sent
    /// message then appears on the event stream with status `SERVER_ACK`.
    ///
    /// # Errors
    /// [`ClientError::Timeout`], [`ClientError::Status`], [`ClientError::Transport`].
    pub async fn send_message(
        &self,
        chat: &Jid,
        message: proto::Message,
    ) -> Result<SentMessage, ClientError> {
        let id = new_message_id()?;
        let mut info = WebMessageInfo::outgoing(wire_jid(chat), id.clone(), unix_now(), message);
        let bytes = info.encode_to_vec();
        let node = Node::new("action")
            .attr("type", "relay")
            .children(vec![Node::new("message").bytes(bytes)]);
        let reply = self
            .timed(
                self.handle
                    .send_node_tagged(id.clone(), node, Metric::MESSAGE, Flags::IGNORE),
            )
            .await?;
        let v = expect_ok(reply)?;
        info.status = Some(proto::web_message_info::Status::ServerAck as i32);
        let sent = SentMessage {
            id,
            chat: chat.normalized(),
            server_time: v.get("t").and_then(Value::as_u64),
            info,
        };
        let event = Event::Messages(MessageBatch {
            add: AddKind::Relay,
            last: false,
            messages: vec![Message {
                chat: sent.chat.clone(),
                id: sent.id.clone(),
                from_me: true,
                participant: None,
                timestamp: sent.info.message_timestamp.unwrap_or_default(),
                info: sent.info.clone(),
                unknowns: Vec::new(),
            }],
        });
        if let Some(store) = lock(&self.shared).store.as_mut() {
            store.apply(&event);
        }
        // A full or closed stream must not hold the caller up.
        if let Some(tx) = self.events.upgrade() {
            let _ = tx.try_send(ClientEvent::Event(event));
        }
        Ok(sent)
    }

    /// Marks a chat read up to message `last_id` (`action type=set` with
    /// `read{jid,index,owner,count}`, metric read, flags ignore); the store's unread count of
    /// the chat becomes 0.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn mark_read(
        &self,
        chat: &Jid,
        last_id: &str,
        from_me: bool,
        count: u32,
    ) -> Result<(), ClientError> {
        let read = Node::new("read")
            .attr("jid", wire_jid(chat))
            .attr("index", last_id)
            .attr("owner", if from_me { "true" } else { "false" })
            .attr("count", count.to_string());
        let node = Node::new("action").attr("type", "set").children(vec![read]);
        expect_ok(self.node(node, Metric::READ, Flags::IGNORE).await?)?;
        // The server does not echo our own read mark: keep the store in step.
        if let Some(store) = lock(&self.shared).store.as_mut() {
            store.apply(&Event::ChatRead(crate::event::ChatRead {
                jid: chat.clone(),
                read: true,
            }));
        }
        Ok(())
    }

    /// Sends our presence (`action type=set` with `presence{type,to}`, metric presence); `to`
    /// names the chat for composing, recording and paused.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_presence(
        &self,
        presence: SetPresence,
        to: Option<&Jid>,
    ) -> Result<(), ClientError> {
        let mut p = Node::new("presence").attr("type", presence.as_str());
        if let Some(to) = to {
            p = p.attr("to", wire_jid(to));
        }
        let node = Node::new("action").attr("type", "set").children(vec![p]);
        expect_ok(self.node(node, Metric::PRESENCE, presence.flags()).await?).map(drop)
    }

    /// Subscribes to a contact's presence (`["action","presence","subscribe",jid]`); updates then
    /// arrive as [`Event::Presence`].
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn subscribe_presence(&self, jid: &Jid) -> Result<(), ClientError> {
        let r = self
            .json(json!(["action", "presence", "subscribe", json_jid(jid)]))
            .await?;
        expect_ok(r).map(drop)
    }

    /// Whether a number is on WhatsApp (`["query","exist",jid]`: 200 yes, 404 no).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn exists(&self, jid: &Jid) -> Result<bool, ClientError> {
        match expect_ok(self.json(json!(["query", "exist", json_jid(jid)])).await?) {
            Ok(_) => Ok(true),
            Err(ClientError::Status(404)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The URL of a contact's or group's profile picture (`["query","ProfilePicThumb",jid]`);
    /// `None` when there is none (404).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn profile_picture_url(&self, jid: &Jid) -> Result<Option<String>, ClientError> {
        let r = self
            .json(json!(["query", "ProfilePicThumb", json_jid(jid)]))
            .await?;
        match expect_ok(r) {
            Ok(v) => Ok(v.get("eurl").and_then(Value::as_str).map(str::to_owned)),
            Err(ClientError::Status(404 | 401)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A contact's status (about) text (`["query","Status",jid]`); `None` when hidden (404).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn status(&self, jid: &Jid) -> Result<Option<String>, ClientError> {
        match self.json(json!(["query", "Status", json_jid(jid)])).await? {
            // The reply's `status` is the text, not a number.
            Reply::Json(v) => match v.get("status") {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) if n.as_u64() == Some(404) => Ok(None),
                Some(Value::Number(n)) => Err(ClientError::Status(
                    n.as_u64()
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or_default(),
                )),
                _ => Ok(None),
            },
            Reply::Node(n) => Err(ClientError::UnexpectedReply(format!(
                "binary {} node",
                n.tag
            ))),
        }
    }

    /// A group's metadata (`["query","GroupMetadata",jid]`).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text); [`ClientError::UnexpectedReply`] without an `id`.
    pub async fn group_metadata(&self, group: &Jid) -> Result<GroupMetadata, ClientError> {
        let v = expect_ok(
            self.json(json!(["query", "GroupMetadata", json_jid(group)]))
                .await?,
        )?;
        parse_group_metadata(&v)
    }

    /// A group's invite code (`["query","inviteCode",jid]`).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn group_invite_code(&self, group: &Jid) -> Result<String, ClientError> {
        let v = expect_ok(
            self.json(json!(["query", "inviteCode", json_jid(group)]))
                .await?,
        )?;
        v.get("code")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ClientError::UnexpectedReply(v.to_string()))
    }

    /// Joins a group by invite code (`["action","invite",code]`); returns the group.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn group_join(&self, code: &str) -> Result<Jid, ClientError> {
        let v = expect_ok(self.json(json!(["action", "invite", code])).await?)?;
        v.get("gid")
            .and_then(Value::as_str)
            .and_then(|g| Jid::parse(g).ok())
            .ok_or_else(|| ClientError::UnexpectedReply(v.to_string()))
    }

    /// The messages of a chat before message `before` (`(id, from_me)`; `None`: the newest),
    /// at most `count` (`query type=message kind=before`, metric queryMessages).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn load_earlier_messages(
        &self,
        chat: &Jid,
        count: u32,
        before: Option<(&str, bool)>,
    ) -> Result<Vec<Message>, ClientError> {
        let mut q = Node::new("query")
            .attr("type", "message")
            .attr("jid", wire_jid(chat))
            .attr("kind", "before")
            .attr("count", count.to_string());
        if let Some((id, from_me)) = before {
            q = q
                .attr("index", id)
                .attr("owner", if from_me { "true" } else { "false" });
        }
        match self.node(q, Metric::QUERY_MESSAGES, Flags::IGNORE).await? {
            Reply::Node(n) => Ok(events_from_node(&n)
                .into_iter()
                .flat_map(|e| match e {
                    Event::Messages(b) => b.messages,
                    _ => Vec::new(),
                })
                .collect()),
            Reply::Json(v) => match status_of(&v) {
                Some(404) => Ok(Vec::new()),
                Some(s) if s != 200 => Err(ClientError::Status(s)),
                _ => Err(ClientError::UnexpectedReply(v.to_string())),
            },
        }
    }

    /// Sends a group change: `action type=set` with `group{type,author,id,jid?,subject?}` and
    /// `participant{jid}` children (metric group, flags ignore). Returns the JSON reply.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text); [`ClientError::NotLoggedIn`] before login.
    pub async fn group_action(
        &self,
        action: GroupAction,
        group: Option<&Jid>,
        subject: Option<&str>,
        participants: &[Jid],
    ) -> Result<Value, ClientError> {
        let own = self.own_jid().ok_or(ClientError::NotLoggedIn)?;
        let id = {
            let mut s = lock(&self.shared);
            s.group_tag += 1;
            format!("{}.--g{}", unix_now(), s.group_tag)
        };
        let mut g = Node::new("group")
            .attr("author", wire_jid(&own))
            .attr("id", id)
            .attr("type", action.as_str());
        if let Some(group) = group {
            g = g.attr("jid", group.to_string());
        }
        if let Some(subject) = subject {
            g = g.attr("subject", subject);
        }
        if !participants.is_empty() {
            g = g.children(
                participants
                    .iter()
                    .map(|p| Node::new("participant").attr("jid", wire_jid(p)))
                    .collect(),
            );
        }
        let node = Node::new("action").attr("type", "set").children(vec![g]);
        expect_ok(self.node(node, Metric::GROUP, Flags::IGNORE).await?)
    }

    /// Creates a group; returns its JID when the reply names it (`gid`).
    ///
    /// # Errors
    /// As [`group_action`](Self::group_action).
    pub async fn group_create(
        &self,
        subject: &str,
        participants: &[Jid],
    ) -> Result<Option<Jid>, ClientError> {
        let v = self
            .group_action(GroupAction::Create, None, Some(subject), participants)
            .await?;
        Ok(v.get("gid")
            .and_then(Value::as_str)
            .and_then(|g| Jid::parse(g).ok()))
    }

    /// Adds members.
    ///
    /// # Errors
    /// As [`group_action`](Self::group_action).
    pub async fn group_add(&self, group: &Jid, members: &[Jid]) -> Result<(), ClientError> {
        self.group_action(GroupAction::Add, Some(group), None, members)
            .await
            .map(drop)
    }

    /// Removes members.
    ///
    /// # Errors
    /// As [`group_action`](Self::group_action).
    pub async fn group_remove(&self, group: &Jid, members: &[Jid]) -> Result<(), ClientError> {
        self.group_action(GroupAction::Remove, Some(group), None, members)
            .await
            .map(drop)
    }

    /// Makes members admins.
    ///
    /// # Errors
    /// As [`group_action`](Self::group_action).
    pub async fn group_promote(&self, group: &Jid, members: &[Jid]) -> Result<(), ClientError> {
        self.group_action(GroupAction::Promote, Some(group), None, members)
            .await
            .map(drop)
    }

    /// Takes admin rights away.
    ///
    /// # Errors
    /// As [`group_action`](Self::group_action).
    pub async fn group_demote(&self, group: &Jid, members: &[Jid]) -> Result<(), ClientError> {
        self.group_action(GroupAction::Demote, Some(group), None, members)
            .await
            .map(drop)
    }

    /// Sets the subject.
    ///
    /// # Errors
    /// As [`group_action`](Self::group_action).
    pub async fn group_set_subject(&self, group: &Jid, subject: &str) -> Result<(), ClientError> {
        self.group_action(GroupAction::Subject, Some(group), Some(subject), &[])
            .await
            .map(drop)
    }

    /// Leaves the group.
    ///
    /// # Errors
    /// As [`group_action`](Self::group_action).
    pub async fn group_leave(&self, group: &Jid) -> Result<(), ClientError> {
        self.group_action(GroupAction::Leave, Some(group), None, &[])
            .await
            .map(drop)
    }

    /// Asks whether the phone is reachable (`["admin","test"]` → `["Pong",bool]`).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn phone_test(&self) -> Result<bool, ClientError> {
        match self.json(json!(["admin", "test"])).await? {
            Reply::Json(Value::Array(a)) if a.first() == Some(&json!("Pong")) => {
                Ok(a.get(1).and_then(Value::as_bool).unwrap_or(false))
            }
            other => Err(ClientError::UnexpectedReply(format!("{other:?}"))),
        }
    }

    /// Logs out (the phone forgets this client) and stops.
    ///
    /// # Errors
    /// [`ClientError::Transport`] when the logout fails.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.timed(self.handle.logout()).await?;
        self.handle.shutdown().await;
        Ok(())
    }

    /// Closes the connection and stops, keeping the credentials valid.
    pub async fn shutdown(&self) {
        self.handle.shutdown().await;
    }
}

fn parse_group_metadata(v: &Value) -> Result<GroupMetadata, ClientError> {
    let jid = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .and_then(|s| Jid::parse(s).ok())
    };
    let id = jid("id").ok_or_else(|| ClientError::UnexpectedReply(v.to_string()))?;
    let participants = v
        .get("participants")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let j = Jid::parse(p.get("id")?.as_str()?).ok()?;
                    let flag = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
                    Some(GroupParticipant {
                        jid: j,
                        is_admin: flag("isAdmin"),
                        is_super_admin: flag("isSuperAdmin"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(GroupMetadata {
        id,
        owner: jid("owner"),
        subject: v
            .get("subject")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        creation: v.get("creation").and_then(Value::as_u64),
        participants,
        subject_time: v.get("subjectTime").and_then(Value::as_u64),
        subject_owner: jid("subjectOwner"),
    })
}

/// Turns transport events into client events, keeping the store and our JID.
async fn pump(
    mut events: waweb_transport::Events,
    tx: mpsc::Sender<ClientEvent>,
    shared: Arc<Mutex<Shared>>,
) {
    use waweb_session::Event as S;
    use waweb_transport::Event as T;
    let mut open = true;
    while let Some(event) = events.recv().await {
        let out: Vec<ClientEvent> = match event {
            T::Connected { attempt, restoring } => {
                vec![ClientEvent::Connected { attempt, restoring }]
            }
            T::Disconnected { reason, retry_in } => vec![ClientEvent::Disconnected {
                reason: format!("{reason:?}"),
                retry_in,
            }],
            T::Stopped(reason) => vec![ClientEvent::Stopped(reason)],
            T::Session(s) => match s {
                S::Qr {
                    code, ttl, attempt, ..
                } => vec![ClientEvent::Qr { code, ttl, attempt }],
                S::LoggedIn { info, how } => {
                    let wid = info.wid.as_deref().and_then(|w| Jid::parse(w).ok());
                    lock(&shared).wid.clone_from(&wid);
                    vec![ClientEvent::LoggedIn {
                        wid,
                        pushname: info.pushname,
                        how,
                    }]
                }
                S::CredentialsUpdated(c) => vec![ClientEvent::CredentialsUpdated(c)],
                S::Stream(info) => typed(events_from_json(&json!([
                    "Stream",
                    info.kind,
                    info.update,
                    info.version
                ]))),
                S::Props(v) => typed(events_from_json(&json!(["Props", v]))),
                S::Json { value, .. } => typed(events_from_json(&value)),
                S::Node { node, .. } => typed(events_from_node(&node)),
                S::FrameError { tag, error } => vec![ClientEvent::FrameError(format!(
                    "{}: {error}",
                    tag.unwrap_or_default()
                ))],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        for ev in out {
            if let ClientEvent::Event(e) = &ev
                && let Some(store) = lock(&shared).store.as_mut()
            {
                store.apply(e);
            }
            if open && tx.send(ev).await.is_err() {
                open = false;
            }
        }
    }
}

fn typed(events: Vec<Event>) -> Vec<ClientEvent> {
    events.into_iter().map(ClientEvent::Event).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn message_ids_look_like_web_ids() {
        let id = new_message_id().unwrap();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("3EB0"));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
        );
        assert_ne!(id, new_message_id().unwrap());
    }

    #[test]
    fn jid_forms() {
        let j: Jid = "491701234567@c.us".parse().unwrap();
        assert_eq!(wire_jid(&j), "491701234567@s.whatsapp.net");
        assert_eq!(json_jid(&j.normalized()), "491701234567@c.us");
        let g: Jid = "4917-16@g.us".parse().unwrap();
        assert_eq!(wire_jid(&g), "4917-16@g.us");
    }

    #[test]
    fn group_metadata_parses() {
        let v = json!({"id":"1-2@g.us","owner":"1@c.us","subject":"S","creation":5,
            "participants":[{"id":"1@c.us","isAdmin":true,"isSuperAdmin":true},{"id":"2@c.us"}],
            "subjectTime":6,"subjectOwner":"1@c.us"});
        let m = parse_group_metadata(&v).unwrap();
        assert_eq!(m.subject, "S");
        assert_eq!(m.participants.len(), 2);
        assert!(m.participants[0].is_super_admin);
        assert!(!m.participants[1].is_admin);
        assert_eq!(m.creation, Some(5));
    }
}
