//! The connection task: connect, drive one session per websocket, reconnect with backoff.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use waweb_session::{
    Credentials, Event as SessionEvent, OsRandom, Randomness as _, Reply, Session, Transmit,
};

use crate::error::Error;
use crate::{Command, Config, Disconnect, Event, StopReason};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How one websocket connection ended.
enum Outcome {
    Stop(StopReason),
    Retry(Disconnect),
}

struct Driver {
    config: Config,
    creds: Option<Credentials>,
    events: mpsc::Sender<Event>,
    attempt: u32,
    stop: watch::Receiver<bool>,
}

pub(crate) async fn run(
    config: Config,
    mut cmds: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    stop: watch::Receiver<bool>,
    done: watch::Sender<bool>,
) {
    let mut d = Driver {
        creds: config.credentials.clone(),
        config,
        events,
        attempt: 0,
        stop,
    };
    let reason = d.main(&mut cmds).await;
    tracing::debug!(?reason, "connection task stops");
    if *d.stop.borrow() {
        // Shutdown was asked for: do not wait for a consumer that may not read any more.
        let _ = d.events.try_send(Event::Stopped(reason));
    } else {
        let _ = d.events.send(Event::Stopped(reason)).await;
    }
    done.send_replace(true);
}

impl Driver {
    /// Sends an event, waiting while the channel is full (back-pressure); fails when the consumer
    /// is gone or shutdown is asked for.
    async fn emit(&self, ev: Event) -> Result<(), ()> {
        tokio::select! {
            r = self.events.send(ev) => r.map_err(|_| ()),
            _ = stop_requested(self.stop.clone()) => Err(()),
        }
    }

    async fn main(&mut self, cmds: &mut mpsc::Receiver<Command>) -> StopReason {
        loop {
            let restoring = self.creds.is_some();
            let connected = tokio::select! {
                r = self.connect() => r,
                _ = stop_requested(self.stop.clone()) => return StopReason::Shutdown,
            };
            let why = match connected {
                Err(e) => Disconnect::Connect(e),
                Ok(ws) => {
                    let attempt = self.attempt;
                    if self
                        .emit(Event::Connected { attempt, restoring })
                        .await
                        .is_err()
                    {
                        return StopReason::Shutdown;
                    }
                    match self.drive(ws, cmds).await {
                        Outcome::Stop(r) => return r,
                        Outcome::Retry(d) => d,
                    }
                }
            };
            self.attempt = self.attempt.saturating_add(1);
            if self
                .config
                .backoff
                .max_attempts
                .is_some_and(|max| self.attempt > max)
            {
                return StopReason::GaveUp;
            }
            let mut r = [0u8; 4];
            let _ = OsRandom.fill(&mut r);
            let retry_in = self
                .config
                .backoff
                .delay(self.attempt - 1, u32::from_le_bytes(r));
            tracing::debug!(?why, ?retry_in, "disconnected");
            let ev = Event::Disconnected {
                reason: why,
                retry_in,
            };
            if self.emit(ev).await.is_err() {
                return StopReason::Shutdown;
            }
            let sleep = tokio::time::sleep(retry_in);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    _ = stop_requested(self.stop.clone()) => return StopReason::Shutdown,
                    cmd = cmds.recv() => match cmd {
                        None => return StopReason::Shutdown,
                        Some(Command::Logout(r)) => {
                            let res = self.http_logout().await;
                            let ok = res.is_ok();
                            let _ = r.send(res);
                            if ok {
                                return StopReason::LoggedOut;
                            }
                        }
                        Some(Command::Credentials(r)) => {
                            let _ = r.send(self.creds.clone());
                        }
                        Some(Command::Json(_, r) | Command::Node { reply: r, .. }) => {
                            let _ = r.send(Err(Error::NotConnected));
                        }
                    },
                }
            }
        }
    }

    async fn connect(&self) -> Result<Ws, String> {
        let mut req = self
            .config
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| e.to_string())?;
        let origin = HeaderValue::from_str(&self.config.origin).map_err(|e| e.to_string())?;
        req.headers_mut().insert("Origin", origin);
        #[cfg(feature = "tls")]
        let fut = {
            let connector = if self.config.url.starts_with("wss://") {
                Some(tokio_tungstenite::Connector::Rustls(
                    crate::tls::client_config().map_err(|e| e.to_string())?,
                ))
            } else {
                None
            };
            tokio_tungstenite::connect_async_tls_with_config(req, None, true, connector)
        };
        #[cfg(not(feature = "tls"))]
        let fut = tokio_tungstenite::connect_async_with_config(req, None, true);
        match tokio::time::timeout(self.config.connect_timeout, fut).await {
            Err(_) => Err("connect timed out".into()),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok((ws, _))) => Ok(ws),
        }
    }

    async fn http_logout(&mut self) -> Result<(), Error> {
        let creds = self
            .creds
            .as_ref()
            .ok_or(Error::Session(waweb_session::Error::NotLoggedIn))?;
        let req = creds.logout_request(&self.config.logout_url)?;
        let status = crate::http::post_logout(&req, self.config.connect_timeout).await?;
        if status == 200 {
            self.creds = None;
            Ok(())
        } else {
            Err(Error::Logout(format!("HTTP status {status}")))
        }
    }

    /// Drives one session over one websocket.
    /// Hands the session's frame records to the tap, if there is one.
    fn tap(&self, session: &mut Session) {
        if let Some(tap) = &self.config.frame_tap {
            while let Some(r) = session.poll_record() {
                tap.call(r);
            }
        }
    }

    async fn drive(&mut self, ws: Ws, cmds: &mut mpsc::Receiver<Command>) -> Outcome {
        let now = Instant::now();
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut cfg = self.config.session.clone();
        cfg.record_frames |= self.config.frame_tap.is_some();
        let session = match self.creds.clone() {
            Some(c) => Session::restore(cfg, now, unix, c, Box::new(OsRandom)),
            None => Session::login(cfg, now, unix, Box::new(OsRandom)),
        };
        let mut session = match session {
            Ok(s) => s,
            Err(e) => return Outcome::Retry(Disconnect::Socket(e.to_string())),
        };
        let (mut sink, mut stream) = ws.split();
        let mut waiters: HashMap<String, oneshot::Sender<Result<Reply, Error>>> = HashMap::new();
        let mut logout_ack: Option<oneshot::Sender<Result<(), Error>>> = None;
        let mut socket_error: Option<String> = None;
        loop {
            self.tap(&mut session);
            while let Some(t) = session.poll_transmit() {
                let msg = match t {
                    Transmit::Text(s) => Message::text(s),
                    Transmit::Binary(b) => Message::binary(b),
                };
                if let Err(e) = sink.send(msg).await {
                    socket_error = Some(e.to_string());
                    session.handle_connection_lost();
                    break;
                }
            }
            self.tap(&mut session);
            let mut closed = None;
            while let Some(ev) = session.poll_event() {
                let forward = match ev {
                    SessionEvent::Response { tag, result } => match waiters.remove(&tag) {
                        Some(w) => {
                            let _ = w.send(result.map_err(Error::from));
                            None
                        }
                        None => Some(SessionEvent::Response { tag, result }),
                    },
                    SessionEvent::CredentialsUpdated(c) => {
                        self.creds = Some(c.clone());
                        Some(SessionEvent::CredentialsUpdated(c))
                    }
                    SessionEvent::LoggedIn { info, how } => {
                        self.attempt = 0;
                        Some(SessionEvent::LoggedIn { info, how })
                    }
                    SessionEvent::Closed(reason) => {
                        closed = Some(reason);
                        None
                    }
                    other => Some(other),
                };
                if let Some(ev) = forward
                    && self.emit(Event::Session(ev)).await.is_err()
                {
                    close_socket(&mut sink).await;
                    return Outcome::Stop(StopReason::Shutdown);
                }
            }
            if let Some(reason) = closed {
                if reason == waweb_session::CloseReason::LoggedOut && socket_error.is_none() {
                    // The goodbye frame is on its way. Read until the server closes (briefly):
                    // closing with its frames still unread would make our close a TCP reset,
                    // and a server still writing to us could then lose the goodbye unread.
                    drain_until_closed(&mut stream).await;
                }
                close_socket(&mut sink).await;
                if reason == waweb_session::CloseReason::LoggedOut {
                    self.creds = None;
                    if let Some(ack) = logout_ack.take() {
                        let _ = ack.send(Ok(()));
                    }
                    return Outcome::Stop(StopReason::LoggedOut);
                }
                if reason.is_terminal() {
                    return Outcome::Stop(StopReason::Session(reason));
                }
                return Outcome::Retry(match socket_error {
                    Some(e) => Disconnect::Socket(e),
                    None => Disconnect::Session(reason),
                });
            }
            let deadline = session.poll_timeout();
            let timer = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = stop_requested(self.stop.clone()) => {
                    close_socket(&mut sink).await;
                    return Outcome::Stop(StopReason::Shutdown);
                }
                msg = stream.next() => match msg {
                    Some(Ok(Message::Text(t))) => session.handle_text(Instant::now(), t.as_str()),
                    Some(Ok(Message::Binary(b))) => session.handle_binary(Instant::now(), &b),
                    Some(Ok(Message::Close(_))) | None => session.handle_connection_lost(),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        socket_error = Some(e.to_string());
                        session.handle_connection_lost();
                    }
                },
                cmd = cmds.recv() => {
                    let now = Instant::now();
                    match cmd {
                        None => {
                            close_socket(&mut sink).await;
                            return Outcome::Stop(StopReason::Shutdown);
                        }
                        Some(Command::Json(v, r)) => match session.send_json(now, &v) {
                            Ok(tag) => {
                                waiters.insert(tag, r);
                            }
                            Err(e) => {
                                let _ = r.send(Err(e.into()));
                            }
                        },
                        Some(Command::Node { tag, node, metric, flags, reply }) => {
                            let sent = match tag {
                                Some(t) => session
                                    .send_node_tagged(now, &t, node, metric, flags)
                                    .map(|()| t),
                                None => session.send_node(now, node, metric, flags),
                            };
                            match sent {
                                Ok(tag) => {
                                    waiters.insert(tag, reply);
                                }
                                Err(e) => {
                                    let _ = reply.send(Err(e.into()));
                                }
                            }
                        }
                        Some(Command::Credentials(r)) => {
                            let _ = r.send(self.creds.clone());
                        }
                        Some(Command::Logout(r)) => {
                            if session.is_logged_in() {
                                // Queues the goodbye frame and closes the session: sent above.
                                let res = session.logout();
                                match res {
                                    Ok(()) => logout_ack = Some(r),
                                    Err(e) => {
                                        let _ = r.send(Err(e.into()));
                                    }
                                }
                            } else {
                                let res = self.http_logout().await;
                                let ok = res.is_ok();
                                let _ = r.send(res);
                                if ok {
                                    close_socket(&mut sink).await;
                                    return Outcome::Stop(StopReason::LoggedOut);
                                }
                            }
                        }
                    }
                }
                () = timer => session.handle_timeout(Instant::now()),
            }
        }
    }
}

/// How long a logout waits for the server to close after the goodbye frame.
const GOODBYE_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Reads and discards frames until the server closes the connection or [`GOODBYE_LINGER`]
/// passes.
async fn drain_until_closed(stream: &mut futures_util::stream::SplitStream<Ws>) {
    let _ = tokio::time::timeout(GOODBYE_LINGER, async {
        while let Some(Ok(m)) = stream.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Sends a close frame and closes the sink, bounded in time.
async fn close_socket(sink: &mut futures_util::stream::SplitSink<Ws, Message>) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let _ = sink.send(Message::Close(None)).await;
        let _ = sink.close().await;
    })
    .await;
}

/// Resolves once shutdown is asked for (never, if every handle is gone: then the command channel
/// closes instead).
async fn stop_requested(mut rx: watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
