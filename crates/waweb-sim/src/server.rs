//! The listener, the state shared by all connections, and [`SimHandle`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use waweb_binary::Node;
use waweb_crypto::{KeyPair, LoginSecret, SessionKeys};
use waweb_proto::proto::WebMessageInfo;

use crate::config::SimConfig;
use crate::conn::Conn;
use crate::error::SimError;
use crate::events::{ConnId, SimEvent};
use crate::faults::Faults;
use crate::http;
use crate::lock;
use crate::wire;

/// Capacity of each connection's command queue (pushes wait when it is full).
pub(crate) const CONN_QUEUE: usize = 256;
/// Capacity of the events channel (slow receivers miss the oldest events).
const EVENTS_CAPACITY: usize = 8192;
/// Messages kept for history queries.
const LOG_CAP: usize = 10_000;
/// Messages kept for a client that is not connected.
const PENDING_CAP: usize = 100_000;
/// Previous token pairs remembered per client (a login with one of them is challenged).
const OLD_TOKENS: usize = 8;
/// Largest websocket message accepted from a client.
const MAX_MESSAGE: usize = 16 << 20;

/// What a connection task is told to do.
pub(crate) enum Cmd {
    /// The phone scanned this connection's QR: send `Conn` with this secret, then the burst.
    Scanned { secret: String },
    /// Deliver a message (`action add=relay`).
    Message(Box<WebMessageInfo>),
    /// Take the client's pending messages and deliver them.
    FlushPending,
    /// Send a raw node (encrypted).
    Node(Node),
    /// Send a JSON message on a fresh `s<n>` tag.
    Json(Value),
    /// Send a frame whose plaintext is not a node.
    Malformed,
    /// Another connection took over this client: `Cmd` `replaced`, then close.
    Replaced,
    /// Close the connection (logged out elsewhere).
    Close,
}

/// An open connection as the shared state sees it.
pub(crate) struct ConnEntry {
    pub(crate) tx: mpsc::Sender<Cmd>,
    pub(crate) client_id: Option<String>,
    pub(crate) logged_in: bool,
    pub(crate) refs: Option<Refs>,
}

/// The refs issued to one connection.
pub(crate) struct Refs {
    pub(crate) current: String,
    pub(crate) issued_at: Instant,
    pub(crate) count: u32,
}

/// A paired client (by client id): its keys and tokens survive reconnects.
pub(crate) struct ClientRecord {
    pub(crate) keys: SessionKeys,
    pub(crate) client_token: String,
    pub(crate) server_token: String,
    pub(crate) browser_token: String,
    pub(crate) old_tokens: VecDeque<(String, String)>,
    pub(crate) logged_out: bool,
    pub(crate) live: Option<ConnId>,
    pub(crate) pending: VecDeque<WebMessageInfo>,
    pub(crate) received_ids: HashSet<String>,
}

impl ClientRecord {
    fn new(keys: SessionKeys) -> Self {
        ClientRecord {
            keys,
            client_token: wire::random_b64(32),
            server_token: format!("1@{}", wire::random_b64(60)),
            browser_token: format!("1@{}", wire::random_b64(60)),
            old_tokens: VecDeque::new(),
            logged_out: false,
            live: None,
            pending: VecDeque::new(),
            received_ids: HashSet::new(),
        }
    }

    /// New client and server tokens; the old pair is remembered (and challenged if used).
    pub(crate) fn rotate(&mut self) {
        let old = (
            std::mem::replace(&mut self.client_token, wire::random_b64(32)),
            std::mem::replace(
                &mut self.server_token,
                format!("1@{}", wire::random_b64(60)),
            ),
        );
        self.old_tokens.push_back(old);
        while self.old_tokens.len() > OLD_TOKENS {
            self.old_tokens.pop_front();
        }
    }

    pub(crate) fn queue(&mut self, msg: WebMessageInfo) {
        if self.pending.len() >= PENDING_CAP {
            tracing::warn!("pending queue full, dropping the oldest message");
            self.pending.pop_front();
        }
        self.pending.push_back(msg);
    }
}

/// Everything the tasks share.
pub(crate) struct Shared {
    pub(crate) cfg: SimConfig,
    pub(crate) state: Mutex<State>,
    pub(crate) events: broadcast::Sender<SimEvent>,
    pub(crate) faults: Faults,
    pub(crate) next_conn: AtomicU64,
    pub(crate) local_addr: SocketAddr,
    pub(crate) media: crate::media::MediaHost,
}

/// The mutable part.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) conns: HashMap<ConnId, ConnEntry>,
    pub(crate) clients: HashMap<String, ClientRecord>,
    pub(crate) log: VecDeque<WebMessageInfo>,
}

impl State {
    pub(crate) fn remember(&mut self, msg: WebMessageInfo) {
        if self.log.len() >= LOG_CAP {
            self.log.pop_front();
        }
        self.log.push_back(msg);
    }
}

impl Shared {
    pub(crate) fn emit(&self, ev: SimEvent) {
        // No receiver is fine.
        let _ = self.events.send(ev);
    }

    /// Whether a ref issued at `issued_at` has expired (5 % early, for timer skew).
    pub(crate) fn ref_expired(&self, issued_at: Instant) -> bool {
        issued_at.elapsed() >= self.cfg.ref_ttl.mul_f64(0.95)
    }

    /// The phone scans `qr` now.
    pub(crate) async fn scan(&self, qr: &str) -> Result<(), SimError> {
        let mut parts = qr.trim().split(',');
        let (Some(server_ref), Some(pk), Some(client_id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SimError::BadQr("expected three comma-separated parts"));
        };
        let pk = B64
            .decode(pk.trim())
            .map_err(|_| SimError::BadQr("public key is not base64"))?;
        let pk: [u8; 32] = pk
            .try_into()
            .map_err(|_| SimError::BadQr("public key is not 32 bytes"))?;
        let (tx, secret) = {
            let mut st = lock(&self.state);
            let (conn_id, entry) = st
                .conns
                .iter_mut()
                .find(|(_, e)| e.refs.as_ref().is_some_and(|r| r.current == server_ref))
                .ok_or_else(|| SimError::UnknownRef(server_ref.to_owned()))?;
            let conn_id = *conn_id;
            let issued_at = entry
                .refs
                .as_ref()
                .map_or_else(Instant::now, |r| r.issued_at);
            if issued_at.elapsed() >= self.cfg.ref_ttl {
                return Err(SimError::RefExpired(server_ref.to_owned()));
            }
            if entry.client_id.as_deref() != Some(client_id) {
                return Err(SimError::ClientIdMismatch);
            }
            entry.refs = None;
            let tx = entry.tx.clone();
            let keys = SessionKeys::generate()?;
            let secret = LoginSecret::build(&KeyPair::generate()?, &pk, &keys)?.to_base64();
            let mut record = ClientRecord::new(keys);
            // Messages queued for an earlier pairing of the same client id are not for this one.
            if let Some(old) = st.clients.remove(client_id) {
                record.received_ids = old.received_ids;
            }
            st.clients.insert(client_id.to_owned(), record);
            tracing::info!(conn = conn_id, client_id, "phone scanned the QR code");
            (tx, secret)
        };
        tx.send(Cmd::Scanned { secret })
            .await
            .map_err(|_| SimError::UnknownRef(server_ref.to_owned()))
    }

    /// Logs a client out (tokens invalid), closing its connection.
    pub(crate) fn logout(&self, client_id: &str, via: &'static str, except: Option<ConnId>) {
        let tx = {
            let mut st = lock(&self.state);
            let Some(rec) = st.clients.get_mut(client_id) else {
                return;
            };
            rec.logged_out = true;
            rec.pending.clear();
            let live = rec.live.take();
            live.filter(|c| Some(*c) != except)
                .and_then(|c| st.conns.get(&c).map(|e| e.tx.clone()))
        };
        if let Some(tx) = tx {
            let _ = tx.try_send(Cmd::Close);
        }
        tracing::info!(client_id, via, "logged out");
        self.emit(SimEvent::LoggedOut {
            client_id: client_id.to_owned(),
            via,
        });
    }

    /// `POST /logout?t=browserToken&m=logoutToken`.
    fn http_logout(&self, t: Option<String>, m: Option<String>) -> (u16, Value) {
        let (Some(t), Some(m)) = (t, m) else {
            return (400, wire::status(400));
        };
        let client_id = {
            let st = lock(&self.state);
            st.clients
                .iter()
                .find(|(_, r)| !r.logged_out && r.browser_token == t)
                .filter(|(_, r)| {
                    B64.decode(m.trim()).ok() == B64.decode(r.keys.logout_token()).ok()
                })
                .map(|(id, _)| id.clone())
        };
        match client_id {
            Some(id) => {
                self.logout(&id, "http", None);
                (200, wire::status(200))
            }
            None => (401, wire::status(401)),
        }
    }

    /// Delivers `msg` to every paired client: now if connected, after its next login otherwise.
    pub(crate) async fn push_message(&self, msg: WebMessageInfo) -> Result<(), SimError> {
        let malformed = self.faults.take_malformed();
        let targets: Vec<String> = {
            let mut st = lock(&self.state);
            st.remember(msg.clone());
            st.clients
                .iter()
                .filter(|(_, r)| !r.logged_out)
                .map(|(id, _)| id.clone())
                .collect()
        };
        for client_id in targets {
            let mut cmd = Cmd::Message(Box::new(msg.clone()));
            let mut first = true;
            loop {
                let tx = {
                    let mut st = lock(&self.state);
                    let live = st.clients.get(&client_id).and_then(|r| r.live);
                    let tx = live.and_then(|c| st.conns.get(&c)).map(|e| e.tx.clone());
                    if tx.is_none() {
                        if let (Some(rec), Cmd::Message(m)) = (st.clients.get_mut(&client_id), cmd)
                        {
                            rec.queue(*m);
                        }
                        break;
                    }
                    tx
                };
                let Some(tx) = tx else { break };
                if malformed && first {
                    let _ = tx.send(Cmd::Malformed).await;
                }
                first = false;
                match tx.send(cmd).await {
                    Ok(()) => break,
                    // The connection ended meanwhile: decide again.
                    Err(mpsc::error::SendError(c)) => cmd = c,
                }
            }
        }
        Ok(())
    }

    /// Senders of every connection (logged-in ones only if `logged_in`).
    /// The recipients of `msgs` get them, then read them: acks 2 and 3, `delay` apart, in the
    /// background.
    pub(crate) fn recipients_receive(self: &Arc<Self>, msgs: &[WebMessageInfo], delay: Duration) {
        let acks: Vec<(Value, Value)> = msgs
            .iter()
            .map(|m| {
                (
                    wire::msg_ack(&self.cfg.account, m, 2),
                    wire::msg_ack(&self.cfg.account, m, 3),
                )
            })
            .collect();
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            for stage in [0, 1] {
                tokio::time::sleep(delay).await;
                for tx in shared.senders(true) {
                    for (delivered, read) in &acks {
                        let ack = if stage == 0 { delivered } else { read };
                        let _ = tx.send(Cmd::Json(ack.clone())).await;
                    }
                }
            }
        });
    }

    fn senders(&self, logged_in: bool) -> Vec<mpsc::Sender<Cmd>> {
        lock(&self.state)
            .conns
            .values()
            .filter(|e| !logged_in || e.logged_in)
            .map(|e| e.tx.clone())
            .collect()
    }
}

/// A running simulator.
pub struct SimHandle {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("local_addr", &self.shared.local_addr)
            .finish_non_exhaustive()
    }
}

/// A paired client as the simulator knows it.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    /// The session keys the phone chose for it.
    pub keys: SessionKeys,
    /// Current `clientToken`.
    pub client_token: String,
    /// Current `serverToken`.
    pub server_token: String,
    /// `browserToken` (for the logout endpoint).
    pub browser_token: String,
    /// Logged out: its tokens no longer work.
    pub logged_out: bool,
    /// Logged in on an open connection right now.
    pub connected: bool,
    /// Messages waiting for its next login.
    pub pending: usize,
}

/// Starts the simulator: binds `cfg.listen` and serves until [`SimHandle::shutdown`].
///
/// # Errors
/// When the address cannot be bound.
pub async fn start(cfg: SimConfig) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind(cfg.listen).await?;
    let local_addr = listener.local_addr()?;
    let (events, _) = broadcast::channel(EVENTS_CAPACITY);
    let shared = Arc::new(Shared {
        cfg,
        state: Mutex::new(State::default()),
        events,
        faults: Faults::new(),
        next_conn: AtomicU64::new(1),
        local_addr,
        media: crate::media::MediaHost::new()?,
    });
    let (shutdown, shutdown_rx) = watch::channel(false);
    tracing::info!(%local_addr, "simulator listening");
    let task = tokio::spawn(accept_loop(listener, shared.clone(), shutdown_rx));
    Ok(SimHandle {
        shared,
        shutdown,
        task,
    })
}

impl SimHandle {
    /// The address the simulator listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// The websocket URL, `ws://127.0.0.1:PORT/ws` (any path is accepted).
    #[must_use]
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.shared.local_addr)
    }

    /// The logout endpoint, `http://127.0.0.1:PORT/logout` (`?t=browserToken&m=logoutToken`).
    #[must_use]
    pub fn logout_url(&self) -> String {
        format!("http://{}/logout", self.shared.local_addr)
    }

    /// The phone scans a QR string `ref,base64(publicKey),clientId` now: the connection that
    /// shows the ref gets `s1,["Conn",{...,"secret":...}]`, `Stream`, `Props` and the burst.
    ///
    /// # Errors
    /// [`SimError::BadQr`], [`SimError::UnknownRef`], [`SimError::RefExpired`],
    /// [`SimError::ClientIdMismatch`], [`SimError::Crypto`].
    pub async fn scan(&self, qr: &str) -> Result<(), SimError> {
        self.shared.scan(qr).await
    }

    /// Shows a QR string to the phone: with `auto_scan` set it is scanned after that delay (in
    /// the background; failures are logged), otherwise at once.
    ///
    /// # Errors
    /// As [`scan`](Self::scan) when scanned at once.
    pub async fn show_qr(&self, qr: &str) -> Result<(), SimError> {
        show_qr(&self.shared, qr).await
    }

    /// Delivers a message to every paired client as `action add=relay`: at once to the logged-in
    /// ones, after the next login to the others (each client gets it exactly once).
    ///
    /// # Errors
    /// None at present; the `Result` leaves room.
    pub async fn push_message(&self, msg: WebMessageInfo) -> Result<(), SimError> {
        self.shared.push_message(msg).await
    }

    /// Stores an encrypted blob (`enc ++ mac`) on the media host; returns its download URL
    /// `http://127.0.0.1:PORT/d/f/<id>.enc`.
    ///
    /// # Errors
    /// When the blob cannot be written to the temporary directory.
    pub fn store_media(&self, enc: &[u8]) -> std::io::Result<String> {
        let path = self.shared.media.store(enc)?;
        Ok(format!("http://{}{path}", self.shared.local_addr))
    }

    /// The phone receives a picture: encrypts `jpeg` with a fresh media key, stores it on the
    /// media host and pushes an `imageMessage` (all fields set) from `chat` to every client, as
    /// [`push_message`](Self::push_message). Returns the pushed message.
    ///
    /// # Errors
    /// [`SimError::Crypto`] without randomness, [`SimError::Io`] when the blob cannot be stored.
    pub async fn push_image(
        &self,
        chat: &str,
        jpeg: &[u8],
        caption: &str,
    ) -> Result<WebMessageInfo, SimError> {
        self.push_image_as(chat, jpeg, "image/jpeg", caption).await
    }

    /// As [`push_image`](Self::push_image), for a picture of another type (`image/png`, ...).
    ///
    /// # Errors
    /// As [`push_image`](Self::push_image).
    pub async fn push_image_as(
        &self,
        chat: &str,
        jpeg: &[u8],
        mimetype: &str,
        caption: &str,
    ) -> Result<WebMessageInfo, SimError> {
        use waweb_crypto::{MediaKey, MediaType};
        use waweb_proto::proto::{ImageMessage, Message};
        let key = MediaKey::generate()?;
        let (enc, info) = key.expand(MediaType::Image).encrypt_to_vec(jpeg, false);
        let direct = self.shared.media.store(&enc).map_err(|e| SimError::Io {
            path: "media blob".into(),
            reason: e.to_string(),
        })?;
        let url = format!("http://{}{direct}", self.shared.local_addr);
        let image = ImageMessage {
            url: Some(url),
            direct_path: Some(direct),
            mimetype: Some(mimetype.into()),
            caption: (!caption.is_empty()).then(|| caption.to_owned()),
            file_sha256: Some(info.file_sha256.to_vec()),
            file_enc_sha256: Some(info.file_enc_sha256.to_vec()),
            file_length: Some(info.file_length),
            media_key: Some(key.as_bytes().to_vec()),
            media_key_timestamp: i64::try_from(wire::now_secs()).ok(),
            ..ImageMessage::default()
        };
        let message = Message {
            image_message: Some(Box::new(image)),
            ..Message::default()
        };
        let id = format!(
            "3EB0{}",
            crate::media::random_id()
                .get(..16)
                .unwrap_or_default()
                .to_uppercase()
        );
        let mut msg = WebMessageInfo::outgoing(
            crate::account::to_wire_jid(chat),
            id,
            wire::now_secs(),
            message,
        );
        msg.key.from_me = Some(false);
        msg.status = None;
        self.shared.push_message(msg.clone()).await?;
        Ok(msg)
    }

    /// Sends a raw node, encrypted, to every logged-in connection.
    ///
    /// # Errors
    /// [`SimError::Encode`] if the node cannot be encoded.
    pub async fn push_node(&self, node: Node) -> Result<(), SimError> {
        waweb_binary::encode(&node).map_err(|e| SimError::Encode(e.to_string()))?;
        let malformed = self.shared.faults.take_malformed();
        for tx in self.shared.senders(true) {
            if malformed {
                let _ = tx.send(Cmd::Malformed).await;
            }
            let _ = tx.send(Cmd::Node(node.clone())).await;
        }
        Ok(())
    }

    /// Sends a JSON message on a fresh `s<n>` tag to every open connection.
    ///
    /// # Errors
    /// None at present.
    pub async fn push_json(&self, json: Value) -> Result<(), SimError> {
        for tx in self.shared.senders(false) {
            let _ = tx.send(Cmd::Json(json.clone())).await;
        }
        Ok(())
    }

    /// The fault injection handle.
    #[must_use]
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }

    /// A new receiver of the simulator's events (from now on).
    #[must_use]
    pub fn events(&self) -> broadcast::Receiver<SimEvent> {
        self.shared.events.subscribe()
    }

    /// What the simulator knows about a paired client.
    #[must_use]
    pub fn client(&self, client_id: &str) -> Option<ClientInfo> {
        let st = lock(&self.shared.state);
        st.clients.get(client_id).map(|r| ClientInfo {
            keys: r.keys.clone(),
            client_token: r.client_token.clone(),
            server_token: r.server_token.clone(),
            browser_token: r.browser_token.clone(),
            logged_out: r.logged_out,
            connected: r.live.is_some(),
            pending: r.pending.len(),
        })
    }

    /// Messages the clients sent, and the ones pushed, newest last (at most 10,000).
    #[must_use]
    pub fn message_log(&self) -> Vec<WebMessageInfo> {
        lock(&self.shared.state).log.iter().cloned().collect()
    }

    /// Stops listening, closes every connection with a close frame and waits (up to two seconds)
    /// for the connection tasks.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

pub(crate) async fn show_qr(shared: &Arc<Shared>, qr: &str) -> Result<(), SimError> {
    match shared.cfg.auto_scan {
        None => shared.scan(qr).await,
        Some(d) => {
            let shared = shared.clone();
            let qr = qr.to_owned();
            tokio::spawn(async move {
                tokio::time::sleep(d).await;
                if let Err(e) = shared.scan(&qr).await {
                    tracing::warn!("auto-scan failed: {e}");
                }
            });
            Ok(())
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tasks.spawn(handle_socket(shared.clone(), stream, peer, shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(2), drain)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    tracing::info!("simulator stopped");
}

/// An accepted websocket upgrade, waiting for hyper to hand over the connection.
struct PendingUpgrade {
    on: hyper::upgrade::OnUpgrade,
    path: String,
}

/// One TCP connection: hyper serves its request; an accepted upgrade then runs as a [`Conn`] in
/// this same task, so that shutdown waits for it.
async fn handle_socket(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) {
    let slot: Arc<Mutex<Option<PendingUpgrade>>> = Arc::default();
    let service = {
        let shared = shared.clone();
        let slot = slot.clone();
        service_fn(move |req| {
            let shared = shared.clone();
            let slot = slot.clone();
            async move { Ok::<_, Infallible>(http::closing(route(&shared, req, peer, &slot).await)) }
        })
    };
    let conn = http::builder()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    let served = tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = served {
        tracing::debug!(%peer, "HTTP connection ended with an error: {e}");
        return;
    }
    let Some(pending) = lock(&slot).take() else {
        return;
    };
    let io = match pending.on.await {
        Ok(upgraded) => TokioIo::new(upgraded),
        Err(e) => {
            tracing::debug!(%peer, "upgrade failed: {e}");
            return;
        }
    };
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_MESSAGE);
    config.max_frame_size = Some(MAX_MESSAGE);
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    if *shutdown.borrow() {
        // Upgraded while the simulator was stopping: say so and go.
        let frame = CloseFrame {
            code: CloseCode::Away,
            reason: "shutdown".into(),
        };
        let _ = ws.close(Some(frame)).await;
        return;
    }
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel(CONN_QUEUE);
    lock(&shared.state).conns.insert(
        id,
        ConnEntry {
            tx,
            client_id: None,
            logged_in: false,
            refs: None,
        },
    );
    tracing::info!(conn = id, %peer, path = pending.path, "websocket connected");
    shared.emit(SimEvent::Connected { conn: id, peer });
    Conn::new(id, shared, ws).run(rx, shutdown).await;
}

/// Answers one request: media, plain endpoints, or the websocket upgrade (accepted ones leave
/// their upgrade in `slot`).
async fn route(
    shared: &Arc<Shared>,
    mut req: Request<Incoming>,
    peer: SocketAddr,
    slot: &Mutex<Option<PendingUpgrade>>,
) -> http::Reply {
    if !http::is_websocket(req.headers()) {
        if crate::media::handles(req.uri().path()) {
            tracing::info!(%peer, method = %req.method(), target = %req.uri(), "media request");
            return crate::media::serve(shared, req).await;
        }
        return handle_http(shared, req, peer).await;
    }
    match http::check_upgrade(&req) {
        Ok(accept) => {
            *lock(slot) = Some(PendingUpgrade {
                on: hyper::upgrade::on(&mut req),
                path: req.uri().path().to_owned(),
            });
            http::switching_protocols(&accept)
        }
        Err((status, reason)) => {
            tracing::warn!(%peer, status, "upgrade refused: {reason}");
            let reply = http::respond(status, "text/plain", format!("{reason}\n"));
            shared.emit(SimEvent::Rejected {
                peer,
                status,
                reason,
            });
            reply
        }
    }
}

async fn handle_http(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> http::Reply {
    let (parts, body) = req.into_parts();
    let body = match http::read_body(&parts.headers, body).await {
        Ok(b) => b,
        Err(e) => return http::respond(413, "text/plain", format!("{e}\n")),
    };
    tracing::info!(%peer, method = %parts.method, target = %parts.uri, "HTTP request");
    let (status, json) = match parts.uri.path() {
        "/logout" => shared.http_logout(http::query(&parts.uri, "t"), http::query(&parts.uri, "m")),
        "/scan" if parts.method == Method::POST => {
            match show_qr(shared, String::from_utf8_lossy(&body).trim()).await {
                Ok(()) => (200, wire::status(200)),
                Err(e) => (
                    400,
                    serde_json::json!({ "status": 400, "error": e.to_string() }),
                ),
            }
        }
        "/" => {
            let text = format!(
                "waweb-sim: websocket at ws://{}/ws (Origin: {}), POST /scan with a QR string, POST /logout?t=&m=, media: POST /mms/<kind>/<token>, POST /upload/<kind>/<id>, GET /d/f/<id>.enc\n",
                shared.local_addr,
                http::ORIGIN
            );
            return http::respond(200, "text/plain", text);
        }
        _ => (404, wire::status(404)),
    };
    http::respond(status, "application/json", json.to_string())
}
