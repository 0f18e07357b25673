//! The tokio websocket transport of the waweb client: it drives a sans-IO
//! [`waweb_session::Session`] over tokio-tungstenite.
//!
//! * `Origin: https://web.whatsapp.com` on the upgrade; `wss://` through rustls (ring provider, web
//!   PKI roots; cargo feature `tls`, on by default), plain `ws://` for loopback; the URL is
//!   configurable and defaults to [`DEFAULT_URL`].
//! * Reconnects on its own with exponential backoff and jitter, restoring with the latest
//!   credentials (tokens rotate on every `Conn`); stops on terminal outcomes (401, 403, 405, 409,
//!   419, replaced, logged out, update required, QR refs exhausted).
//! * Bounded channels both ways: a slow consumer of [`Events`] stops the reading of the socket
//!   (back-pressure), nothing queues without limit. No busy loops: the task sleeps until a frame,
//!   a command or the session's next deadline.
//!
//! ```no_run
//! # async fn demo() -> Result<(), waweb_transport::Error> {
//! use waweb_transport::{Config, Connection, Event};
//! use waweb_session::Event as SessionEvent;
//!
//! let (handle, mut events) = Connection::connect(Config::default());
//! while let Some(event) = events.recv().await {
//!     match event {
//!         Event::Session(SessionEvent::Qr { code, .. }) => println!("scan {code}"),
//!         Event::Session(SessionEvent::CredentialsUpdated(c)) => { /* persist c */ }
//!         Event::Session(SessionEvent::LoggedIn { .. }) => break,
//!         Event::Stopped(reason) => return Ok(println!("stopped: {reason:?}")),
//!         _ => {}
//!     }
//! }
//! handle.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod driver;
mod error;
mod http;
#[cfg(feature = "tls")]
mod tls;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::Value;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use waweb_binary::Node;
use waweb_session::{CloseReason, Credentials, Flags, Metric, Reply};

pub use error::Error;

/// The real endpoint.
pub const DEFAULT_URL: &str = "wss://web.whatsapp.com/ws";
/// The `Origin` header the service requires.
pub const ORIGIN: &str = "https://web.whatsapp.com";

/// Reconnect policy: exponential backoff with jitter.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The largest delay.
    pub max: Duration,
    /// Give up after this many failed attempts in a row (`None`: never).
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// A policy.
    #[must_use]
    pub const fn new(initial: Duration, max: Duration, max_attempts: Option<u32>) -> Self {
        Self {
            initial,
            max,
            max_attempts,
        }
    }

    /// The delay before attempt `n` (0-based) given a random `u32`: half of
    /// `min(max, initial·2ⁿ)` plus a random part of the other half ("equal jitter").
    #[must_use]
    pub fn delay(&self, attempt: u32, random: u32) -> Duration {
        let base = self
            .initial
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .min(self.max);
        let half = base / 2;
        let jitter = half.mul_f64(f64::from(random) / f64::from(u32::MAX));
        half + jitter
    }
}

/// Transport settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The websocket URL.
    pub url: String,
    /// The `Origin` header.
    pub origin: String,
    /// Session settings (version, timeouts, keepalive).
    pub session: waweb_session::Config,
    /// Stored credentials: restore instead of a QR login.
    pub credentials: Option<Credentials>,
    /// Reconnect policy.
    pub backoff: Backoff,
    /// Time allowed for TCP, TLS and the websocket upgrade.
    pub connect_timeout: Duration,
    /// Capacity of the event channel.
    pub event_capacity: usize,
    /// Capacity of the command channel.
    pub command_capacity: usize,
    /// The HTTP logout endpoint.
    pub logout_url: String,
    /// When set, every frame in and out is recorded (opened and decoded) and handed to it: an
    /// inspector's or a capture tool's view of the connection.
    pub frame_tap: Option<FrameTap>,
}

/// Receives a [`FrameRecord`](waweb_session::FrameRecord) of every frame in and out.
///
/// Called on the connection task, in order; it should return quickly (push into a channel or a
/// ring buffer). Records carry secrets (see [`waweb_session::FrameRecord`]).
#[derive(Clone)]
pub struct FrameTap(Arc<dyn Fn(waweb_session::FrameRecord) + Send + Sync>);

impl FrameTap {
    /// A tap calling `f` with each record.
    pub fn new(f: impl Fn(waweb_session::FrameRecord) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub(crate) fn call(&self, record: waweb_session::FrameRecord) {
        (self.0)(record);
    }
}

impl core::fmt::Debug for FrameTap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FrameTap(..)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            url: DEFAULT_URL.into(),
            origin: ORIGIN.into(),
            session: waweb_session::Config::default(),
            credentials: None,
            backoff: Backoff::default(),
            connect_timeout: Duration::from_secs(20),
            event_capacity: 256,
            command_capacity: 64,
            logout_url: waweb_session::DEFAULT_LOGOUT_URL.into(),
            frame_tap: None,
        }
    }
}

impl Config {
    /// Defaults with another URL (e.g. a simulator's `ws://127.0.0.1:PORT/ws`).
    #[must_use]
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }
}

/// What the transport reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The websocket is up (a session starts: QR login or restore).
    Connected {
        /// Reconnect attempts before this one since the last login.
        attempt: u32,
        /// Whether this connection restores stored credentials.
        restoring: bool,
    },
    /// A session event (QR, login, credentials, nodes, JSON, frame errors, ...). Replies to
    /// requests made through a [`Handle`] go to the caller, not here.
    Session(waweb_session::Event),
    /// The connection went away; another attempt follows after `retry_in`.
    Disconnected {
        /// Why.
        reason: Disconnect,
        /// The backoff delay.
        retry_in: Duration,
    },
    /// The task has stopped for good; the last event.
    Stopped(StopReason),
}

/// Why a connection ended (before a reconnect).
#[derive(Debug)]
#[non_exhaustive]
pub enum Disconnect {
    /// The session closed for a reason that another attempt may cure.
    Session(CloseReason),
    /// Connecting failed (TCP, TLS, upgrade, timeout).
    Connect(String),
    /// The websocket failed.
    Socket(String),
}

/// Why the task stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// [`Handle::shutdown`].
    Shutdown,
    /// [`Handle::logout`] (over the connection or by HTTP).
    LoggedOut,
    /// A terminal session outcome (e.g. 409 logged in elsewhere, replaced, 401 unpaired).
    Session(CloseReason),
    /// [`Backoff::max_attempts`] failed attempts in a row.
    GaveUp,
}

pub(crate) enum Command {
    Json(Value, oneshot::Sender<Result<Reply, Error>>),
    Node {
        tag: Option<String>,
        node: Node,
        metric: Metric,
        flags: Flags,
        reply: oneshot::Sender<Result<Reply, Error>>,
    },
    Credentials(oneshot::Sender<Option<Credentials>>),
    Logout(oneshot::Sender<Result<(), Error>>),
}

/// Entry point.
#[derive(Debug)]
pub struct Connection;

impl Connection {
    /// Starts the connection task (on the current tokio runtime) and returns its handle and
    /// event stream. Connecting, logging in and reconnecting happen in the task; watch the events.
    #[must_use]
    pub fn connect(config: Config) -> (Handle, Events) {
        let (cmd_tx, cmd_rx) = mpsc::channel(config.command_capacity.max(1));
        let (ev_tx, ev_rx) = mpsc::channel(config.event_capacity.max(1));
        let (stop_tx, stop_rx) = watch::channel(false);
        let (done_tx, done_rx) = watch::channel(false);
        tokio::spawn(driver::run(config, cmd_rx, ev_tx, stop_rx, done_tx));
        let handle = Handle {
            tx: cmd_tx,
            stop: Arc::new(stop_tx),
            done: done_rx,
        };
        (handle, Events { rx: ev_rx })
    }
}

/// Sends commands to the connection task. Cheap to clone; when every handle is dropped the task
/// shuts down.
#[derive(Clone, Debug)]
pub struct Handle {
    tx: mpsc::Sender<Command>,
    /// Shutdown request: works even while the task waits for a full event channel.
    stop: Arc<watch::Sender<bool>>,
    /// Set when the task has stopped.
    done: watch::Receiver<bool>,
}

impl Handle {
    async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Sends `tag,JSON` with a fresh tag and waits for the reply.
    ///
    /// # Errors
    /// [`Error::NotConnected`] while reconnecting, [`Error::Request`] on timeout or loss of the
    /// connection, [`Error::Stopped`].
    pub async fn request_json(&self, value: Value) -> Result<Reply, Error> {
        self.call(|r| Command::Json(value, r)).await?
    }

    /// Sends a node as an encrypted binary frame with a fresh tag and waits for the reply.
    ///
    /// # Errors
    /// As [`request_json`](Self::request_json), and [`Error::Session`] before login.
    pub async fn send_node(
        &self,
        node: Node,
        metric: Metric,
        flags: Flags,
    ) -> Result<Reply, Error> {
        self.call(|reply| Command::Node {
            tag: None,
            node,
            metric,
            flags,
            reply,
        })
        .await?
    }

    /// Like [`send_node`](Self::send_node) with a given tag (a message id).
    ///
    /// # Errors
    /// As [`send_node`](Self::send_node).
    pub async fn send_node_tagged(
        &self,
        tag: impl Into<String>,
        node: Node,
        metric: Metric,
        flags: Flags,
    ) -> Result<Reply, Error> {
        let tag = Some(tag.into());
        self.call(|reply| Command::Node {
            tag,
            node,
            metric,
            flags,
            reply,
        })
        .await?
    }

    /// The latest credentials.
    ///
    /// # Errors
    /// [`Error::Stopped`].
    pub async fn credentials(&self) -> Result<Option<Credentials>, Error> {
        self.call(Command::Credentials).await
    }

    /// Logs out: `goodbye,,["admin","Conn","disconnect"]` over a logged-in connection, otherwise
    /// the HTTP logout request from the stored credentials. The task then stops.
    ///
    /// # Errors
    /// [`Error::Logout`] if the HTTP request fails, [`Error::Session`] without credentials,
    /// [`Error::Stopped`].
    pub async fn logout(&self) -> Result<(), Error> {
        self.call(Command::Logout).await?
    }

    /// Closes the connection cleanly (websocket close frame) and stops the task; returns when it
    /// has stopped. Works even when nobody reads the events.
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let mut done = self.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }
}

/// The event stream (bounded).
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<Event>,
}

impl Events {
    /// The next event; `None` after [`Event::Stopped`].
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

impl futures_util::Stream for Events {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), None);
        assert_eq!(b.delay(0, 0), Duration::from_millis(50));
        assert_eq!(b.delay(0, u32::MAX), Duration::from_millis(100));
        assert_eq!(b.delay(2, 0), Duration::from_millis(200));
        assert_eq!(b.delay(10, u32::MAX), Duration::from_secs(1));
        assert_eq!(b.delay(100, 0), Duration::from_millis(500));
    }
}
