//! The server's state: the client it drives, what the page is told, the retained frames.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, watch};
use waweb_client::{Client, ClientConfig, ClientEvent, Event, Jid};
use waweb_session::{CloseReason, Credentials, FrameRecord};
use waweb_sim::SimHandle;
use waweb_transport::{FrameTap, StopReason};

use crate::inspect::{FrameEntry, frame_view};
use crate::view;
use crate::{CredentialsSink, WebConfig};

/// Capacity of the broadcast channel to event streams; a stream that falls this far behind gets
/// a fresh snapshot.
const HUB_CAPACITY: usize = 4096;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn now_secs() -> u64 {
    now_ms() / 1000
}

/// The login state as the page sees it (docs/web.md, `auth`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Auth {
    pub(crate) state: &'static str,
    pub(crate) detail: Option<String>,
    pub(crate) qr: Option<Value>,
    pub(crate) me: Option<Value>,
}

impl Auth {
    fn to_json(&self) -> Value {
        json!({"state": self.state, "detail": self.detail, "qr": self.qr, "me": self.me})
    }
}

#[derive(Default)]
struct Inner {
    auth: Auth,
    client: Option<Client>,
    own: Option<Jid>,
    frames: VecDeque<Arc<FrameEntry>>,
}

/// Shared by the routes and the client task.
pub(crate) struct App {
    pub(crate) mode: &'static str,
    pub(crate) url: String,
    logout_url: Option<String>,
    pub(crate) sim: Option<SimHandle>,
    pub(crate) token: Option<String>,
    pub(crate) assets_dir: Option<std::path::PathBuf>,
    /// Serialized messages to every event stream.
    pub(crate) hub: broadcast::Sender<Arc<str>>,
    inner: Mutex<Inner>,
    frame_seq: AtomicU64,
    upload_seq: AtomicU64,
    max_frames: usize,
    max_refs: u32,
    restart: Notify,
    on_credentials: Option<CredentialsSink>,
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("mode", &self.mode)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl App {
    pub(crate) fn new(
        cfg: &WebConfig,
        sim: Option<SimHandle>,
        url: String,
        logout_url: Option<String>,
        token: Option<String>,
        max_refs: u32,
    ) -> Arc<Self> {
        let (hub, _) = broadcast::channel(HUB_CAPACITY);
        Arc::new(App {
            mode: if sim.is_some() { "sim" } else { "remote" },
            url,
            logout_url,
            sim,
            token,
            assets_dir: cfg.assets_dir.clone(),
            hub,
            inner: Mutex::new(Inner {
                auth: Auth {
                    state: "connecting",
                    ..Auth::default()
                },
                ..Inner::default()
            }),
            frame_seq: AtomicU64::new(0),
            upload_seq: AtomicU64::new(0),
            max_frames: cfg.max_frames.max(1),
            max_refs,
            restart: Notify::new(),
            on_credentials: cfg.on_credentials.clone(),
            closing: watch::channel(false).0,
        })
    }

    /// Resolves when the server shuts down.
    pub(crate) fn closing(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut rx = self.closing.subscribe();
        async move {
            let _ = rx.wait_for(|c| *c).await;
        }
    }

    /// Starts the shutdown: event streams end, the HTTP server stops accepting.
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Sends one message to every event stream.
    pub(crate) fn publish(&self, msg: &Value) {
        let _ = self.hub.send(Arc::from(msg.to_string()));
    }

    /// The running client, if any.
    pub(crate) fn client(&self) -> Option<Client> {
        lock(&self.inner).client.clone()
    }

    /// Our own JID, once logged in.
    pub(crate) fn own(&self) -> Option<Jid> {
        lock(&self.inner).own.clone()
    }

    pub(crate) fn next_upload_id(&self) -> u64 {
        self.upload_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Asks the client task for a fresh login (after it stopped).
    pub(crate) fn restart(&self) {
        self.restart.notify_one();
    }

    fn set_auth(&self, f: impl FnOnce(&mut Auth)) {
        let msg = {
            let mut inner = lock(&self.inner);
            f(&mut inner.auth);
            let mut v = inner.auth.to_json();
            if let Some(o) = v.as_object_mut() {
                o.insert("type".into(), "auth".into());
            }
            v
        };
        self.publish(&msg);
    }

    /// The first message of every event stream.
    pub(crate) fn snapshot(&self) -> Value {
        let (auth, client, total) = {
            let inner = lock(&self.inner);
            (
                inner.auth.to_json(),
                inner.client.clone(),
                inner.frames.back().map_or(0, |f| f.seq),
            )
        };
        let now = now_secs();
        let store_part = client
            .as_ref()
            .and_then(|c| {
                c.with_store(|s| {
                    let presence: serde_json::Map<String, Value> = s
                        .chats()
                        .iter()
                        .filter_map(|c| {
                            let p = s.presence(&c.jid)?;
                            Some((
                                view::ui_jid(&c.jid),
                                json!({"presence": view::presence_name(&p.kind), "t": p.last_seen}),
                            ))
                        })
                        .collect();
                    json!({
                        "chats": view::all_chats(s, now),
                        "contacts": view::contacts(s),
                        "presence": presence,
                        "battery": s.battery().map(|b| json!({"value": b.percent, "charging": b.plugged})),
                    })
                })
            })
            .unwrap_or_else(|| json!({"chats": [], "contacts": {}, "presence": {}, "battery": null}));
        json!({
            "type": "snapshot",
            "mode": self.mode,
            "url": self.url,
            "auth": auth,
            "chats": store_part.get("chats"),
            "contacts": store_part.get("contacts"),
            "presence": store_part.get("presence"),
            "battery": store_part.get("battery"),
            "frames_total": total,
        })
    }

    /// The retained frames, oldest first.
    pub(crate) fn frames(&self) -> Vec<Arc<FrameEntry>> {
        lock(&self.inner).frames.iter().cloned().collect()
    }

    /// A frame from the connection: retained, and shown to every inspector.
    fn record_frame(&self, record: FrameRecord) {
        let entry = Arc::new(FrameEntry {
            seq: self.frame_seq.fetch_add(1, Ordering::Relaxed) + 1,
            t_ms: now_ms(),
            record,
        });
        let view = frame_view(&entry, false);
        {
            let mut inner = lock(&self.inner);
            if inner.frames.len() >= self.max_frames {
                inner.frames.pop_front();
            }
            inner.frames.push_back(entry);
        }
        self.publish(&json!({"type": "frame", "frame": view}));
    }

    fn client_config(self: &Arc<Self>, credentials: Option<Credentials>) -> ClientConfig {
        let mut cfg = ClientConfig::with_url(self.url.clone()).credentials(credentials);
        if let Some(l) = &self.logout_url {
            cfg.transport.logout_url = l.clone();
        }
        let me = Arc::downgrade(self);
        cfg.transport.frame_tap = Some(FrameTap::new(move |r| {
            if let Some(app) = me.upgrade() {
                app.record_frame(r);
            }
        }));
        cfg
    }

    /// Runs clients for the server's lifetime: one until it stops, then another after each
    /// `restart`.
    pub(crate) async fn run_clients(self: Arc<Self>, mut credentials: Option<Credentials>) {
        loop {
            let (client, mut events) = Client::connect(self.client_config(credentials.take()));
            lock(&self.inner).client = Some(client);
            self.set_auth(|a| {
                *a = Auth {
                    state: "connecting",
                    ..Auth::default()
                };
            });
            let mut again = false;
            while let Some(ev) = events.recv().await {
                if let ClientEvent::Stopped(reason) = ev {
                    // After a logout the page shows a fresh QR at once, as WhatsApp Web does.
                    again = self.stopped(&reason);
                    break;
                }
                self.on_event(ev);
            }
            lock(&self.inner).client = None;
            if !again {
                self.restart.notified().await;
            }
        }
    }

    /// Tells the page the client stopped; `true` when a new login should start at once.
    fn stopped(&self, reason: &StopReason) -> bool {
        let detail = match reason {
            StopReason::Session(CloseReason::RefDenied | CloseReason::QrExpired) => {
                "ref_limit".to_owned()
            }
            StopReason::LoggedOut | StopReason::Session(CloseReason::LoggedOut) => {
                "logged_out".to_owned()
            }
            StopReason::Shutdown => "shutdown".to_owned(),
            other => format!("{other:?}"),
        };
        if detail == "logged_out"
            && let Some(sink) = &self.on_credentials
        {
            sink.call(None);
        }
        lock(&self.inner).own = None;
        let again = detail == "logged_out";
        self.set_auth(|a| {
            *a = Auth {
                state: "stopped",
                detail: Some(detail),
                ..Auth::default()
            };
        });
        again
    }

    fn on_event(&self, ev: ClientEvent) {
        match ev {
            ClientEvent::Connected { restoring, .. } => self.set_auth(|a| {
                a.state = "connecting";
                a.detail = restoring.then(|| "restoring".to_owned());
                a.qr = None;
            }),
            ClientEvent::Qr { code, ttl, attempt } => {
                let qr = json!({
                    "code": code,
                    "svg": qr_svg(&code),
                    "ttl_ms": u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
                    "attempt": attempt,
                    "max_refs": self.max_refs,
                });
                self.set_auth(|a| {
                    a.state = "qr";
                    a.detail = None;
                    a.qr = Some(qr);
                });
            }
            ClientEvent::LoggedIn { wid, pushname, .. } => {
                lock(&self.inner).own.clone_from(&wid);
                let me = json!({"wid": wid.as_ref().map(view::ui_jid), "pushname": pushname});
                self.set_auth(|a| {
                    a.state = "logged_in";
                    a.detail = None;
                    a.qr = None;
                    a.me = Some(me);
                });
            }
            ClientEvent::CredentialsUpdated(c) => {
                if let Some(sink) = &self.on_credentials {
                    sink.call(Some(&c));
                }
            }
            ClientEvent::Disconnected { reason, retry_in } => self.set_auth(|a| {
                a.state = "disconnected";
                a.detail = Some(format!("{reason}; retrying in {} ms", retry_in.as_millis()));
            }),
            ClientEvent::FrameError(e) => {
                self.publish(&json!({"type": "notice", "level": "error", "text": e}));
            }
            ClientEvent::Event(e) => self.on_protocol_event(&e),
            _ => {}
        }
    }

    /// Tells the page what an event changed, read back from the store.
    fn on_protocol_event(&self, e: &Event) {
        let Some(client) = self.client() else { return };
        let own = self.own();
        let now = now_secs();
        let msgs: Vec<Value> =
            client
                .with_store(|s| {
                    let mut out = Vec::new();
                    let chat_msg = |jid: &Jid| {
                        s.chat(jid)
                            .map(|c| json!({"type": "chat", "chat": view::chat_view(s, c, now)}))
                    };
                    match e {
                        Event::Chats(_) => {
                            out.extend(
                                view::all_chats(s, now)
                                    .into_iter()
                                    .map(|c| json!({"type": "chat", "chat": c})),
                            );
                        }
                        Event::Contacts(_) | Event::ContactUpdate(_) => {
                            out.push(json!({"type": "contacts", "contacts": view::contacts(s)}));
                        }
                        Event::Messages(batch) => {
                            let mut chats: Vec<&Jid> = Vec::new();
                            for m in &batch.messages {
                                if let Some(stored) = s.message(&m.chat, &m.id) {
                                    out.push(json!({"type": "message",
                                    "message": view::message_view(s, own.as_ref(), stored)}));
                                }
                                if !chats.contains(&&m.chat) {
                                    chats.push(&m.chat);
                                }
                            }
                            out.extend(chats.into_iter().filter_map(chat_msg));
                        }
                        Event::Receipt(r) => {
                            let mut chats: Vec<Jid> = Vec::new();
                            for id in &r.ids {
                                let found = [r.to.as_ref(), r.from.as_ref()]
                                    .into_iter()
                                    .flatten()
                                    .find_map(|j| s.message(j, id));
                                if let Some(m) = found {
                                    out.push(json!({"type": "message",
                                    "message": view::message_view(s, own.as_ref(), m)}));
                                    if !chats.contains(&m.chat) {
                                        chats.push(m.chat.clone());
                                    }
                                }
                            }
                            out.extend(chats.iter().filter_map(chat_msg));
                        }
                        Event::ChatRead(r) => out.extend(chat_msg(&r.jid)),
                        Event::ChatUpdate(u) => match s.chat(&u.jid) {
                            Some(c) => out
                                .push(json!({"type": "chat", "chat": view::chat_view(s, c, now)})),
                            None => out
                                .push(json!({"type": "chat_removed", "jid": view::ui_jid(&u.jid)})),
                        },
                        Event::Presence(p) => out.push(json!({
                            "type": "presence",
                            "jid": view::ui_jid(&p.id),
                            "participant": p.participant.as_ref().map(view::ui_jid),
                            "presence": view::presence_name(&p.kind),
                            "t": p.last_seen,
                        })),
                        Event::Battery(b) => out.push(json!({
                            "type": "battery", "value": b.percent, "charging": b.plugged,
                        })),
                        _ => {}
                    }
                    out
                })
                .unwrap_or_default();
        for m in &msgs {
            self.publish(m);
        }
    }

    /// Tells the page the current state of one chat.
    pub(crate) fn publish_chat(&self, jid: &Jid) {
        let now = now_secs();
        let view = self
            .client()
            .and_then(|c| c.with_store(|s| s.chat(jid).map(|c| view::chat_view(s, c, now))))
            .flatten();
        if let Some(chat) = view {
            self.publish(&json!({"type": "chat", "chat": chat}));
        }
    }

    /// The messages of one chat, oldest first.
    pub(crate) fn messages(&self, chat: &Jid) -> Vec<Value> {
        let own = self.own();
        self.client()
            .and_then(|c| {
                c.with_store(|s| {
                    s.last_messages(chat, usize::MAX)
                        .into_iter()
                        .map(|m| view::message_view(s, own.as_ref(), m))
                        .collect()
                })
            })
            .unwrap_or_default()
    }

    /// Publishes upload progress.
    pub(crate) fn upload_progress(
        &self,
        up: &Upload,
        sent: u64,
        done: bool,
        error: Option<String>,
    ) {
        self.publish(&json!({
            "type": "upload", "upload": up.id, "chat": up.chat, "name": up.name,
            "sent": sent, "total": up.total, "done": done, "error": error,
        }));
    }
}

/// One upload in progress, as the page names it.
#[derive(Clone, Debug)]
pub(crate) struct Upload {
    pub(crate) id: u64,
    pub(crate) chat: String,
    pub(crate) name: String,
    pub(crate) total: Option<u64>,
}

/// The QR code as an SVG document.
fn qr_svg(code: &str) -> Option<String> {
    let qr = qrcode::QrCode::new(code.as_bytes()).ok()?;
    Some(
        qr.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(264, 264)
            .quiet_zone(true)
            .build(),
    )
}
