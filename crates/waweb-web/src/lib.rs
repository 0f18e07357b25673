//! The browser client and protocol inspector of waweb.
//!
//! [`serve`] starts an HTTP server (axum) that serves a single-page application, embedded in
//! the binary, and drives a [`waweb_client::Client`] for it: the page shows the QR login, the
//! chat list, conversations, a composer and a protocol inspector (every frame in and out,
//! decoded). By default the client talks to an embedded simulator ([`Target::Simulator`]), so
//! the page works on a machine with no account and no network.
//!
//! The page talks to the server over one server-sent-event stream and plain HTTP requests; the
//! API is described in `docs/web.md`. The server listens on loopback unless told otherwise;
//! beyond loopback ([`WebConfig::allow_remote`]) every API request needs a random start token.
//!
//! ```no_run
//! # async fn run() -> Result<(), waweb_web::WebError> {
//! let server = waweb_web::serve(waweb_web::WebConfig::default()).await?;
//! println!("open {}", server.url());
//! server.wait().await;
//! # Ok(()) }
//! ```

mod assets;
pub mod inspect;
mod routes;
mod state;
mod view;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use waweb_session::Credentials;
use waweb_sim::SimConfig;

use crate::state::App;

/// Where the client connects.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Target {
    /// An embedded simulator, started with this configuration; the page can also play its
    /// phone (scan the QR, send messages and pictures as a contact).
    Simulator(Box<SimConfig>),
    /// A server at this websocket URL.
    Server {
        /// `ws://` or `wss://` URL.
        url: String,
        /// The HTTP logout endpoint, when not the default one.
        logout_url: Option<String>,
    },
}

impl Target {
    /// The embedded simulator as `waweb web` runs it: recipients deliver and read messages
    /// after a second, so that ticks move.
    #[must_use]
    pub fn simulator() -> Self {
        let mut account = waweb_sim::Account::sample();
        // An archived chat, so that the page's archive view has something to show.
        account.chats.push(waweb_sim::Chat {
            jid: "491703333333@c.us".into(),
            name: Some("Carol".into()),
            t: 1_636_800_000,
            archive: true,
            ..waweb_sim::Chat::default()
        });
        Target::Simulator(Box::new(SimConfig {
            receipts: Some(Duration::from_millis(800)),
            account,
            ..SimConfig::default()
        }))
    }
}

/// Called with new credentials after every login, and with `None` after a logout (to store or
/// delete a session file).
#[derive(Clone)]
pub struct CredentialsSink(Arc<CredentialsFn>);

type CredentialsFn = dyn Fn(Option<&Credentials>) + Send + Sync;

impl CredentialsSink {
    /// A sink calling `f`.
    pub fn new(f: impl Fn(Option<&Credentials>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub(crate) fn call(&self, c: Option<&Credentials>) {
        (self.0)(c);
    }
}

impl std::fmt::Debug for CredentialsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialsSink(..)")
    }
}

/// Server settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WebConfig {
    /// Where to listen; default `127.0.0.1:8090`. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Required to listen on an address other than loopback; a random start token then guards
    /// every API request.
    pub allow_remote: bool,
    /// Use this start token instead of a random one (also on loopback, where there is none by
    /// default).
    pub token: Option<String>,
    /// Where the client connects.
    pub target: Target,
    /// Restore these credentials instead of a QR login.
    pub credentials: Option<Credentials>,
    /// Told about new credentials and logouts.
    pub on_credentials: Option<CredentialsSink>,
    /// Serve the page's files from this directory instead of the embedded copies (development).
    pub assets_dir: Option<PathBuf>,
    /// How many frames the inspector keeps (the newest).
    pub max_frames: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8090)),
            allow_remote: false,
            token: None,
            target: Target::simulator(),
            credentials: None,
            on_credentials: None,
            assets_dir: None,
            max_frames: 5000,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// Listening beyond loopback needs [`WebConfig::allow_remote`].
    #[error(
        "{0} is not a loopback address: pass --allow-remote to serve beyond this machine (a start token will then be required)"
    )]
    RemoteNotAllowed(SocketAddr),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The embedded simulator did not start.
    #[error("cannot start the embedded simulator: {0}")]
    Simulator(std::io::Error),
    /// No randomness for the start token.
    #[error("cannot generate the start token")]
    Random,
}

/// A running server.
#[derive(Debug)]
pub struct WebServer {
    addr: SocketAddr,
    token: Option<String>,
    app: Arc<App>,
    task: tokio::task::JoinHandle<()>,
    clients: tokio::task::JoinHandle<()>,
}

impl WebServer {
    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The start token, when there is one.
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The page's address (with the start token, when there is one).
    #[must_use]
    pub fn url(&self) -> String {
        let host = if self.addr.ip().is_unspecified() {
            SocketAddr::from((Ipv4Addr::LOCALHOST, self.addr.port()))
        } else {
            self.addr
        };
        match &self.token {
            Some(t) => format!("http://{host}/?token={t}"),
            None => format!("http://{host}/"),
        }
    }

    /// The websocket URL the client connects to.
    #[must_use]
    pub fn server_url(&self) -> &str {
        &self.app.url
    }

    /// Runs until the task ends (it does not end by itself).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// Stops the server, the client and the simulator.
    pub async fn shutdown(self) {
        self.app.close();
        let _ = self.task.await;
        if let Some(c) = self.app.client() {
            c.shutdown().await;
        }
        self.clients.abort();
        let _ = self.clients.await;
        if let Ok(app) = Arc::try_unwrap(self.app)
            && let Some(sim) = app.sim
        {
            sim.shutdown().await;
        }
    }
}

/// Starts the server (and the simulator or client connection) on the current tokio runtime.
///
/// # Errors
/// See [`WebError`].
pub async fn serve(cfg: WebConfig) -> Result<WebServer, WebError> {
    let loopback = cfg.listen.ip().is_loopback();
    if !loopback && !cfg.allow_remote {
        return Err(WebError::RemoteNotAllowed(cfg.listen));
    }
    let token = match (&cfg.token, loopback) {
        (Some(t), _) => Some(t.clone()),
        (None, true) => None,
        (None, false) => {
            let mut b = [0u8; 16];
            waweb_crypto::primitives::random_bytes(&mut b).map_err(|_| WebError::Random)?;
            Some(hex::encode(b))
        }
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| WebError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| WebError::Bind {
        addr: cfg.listen,
        source,
    })?;
    let (sim, url, logout_url) = match &cfg.target {
        Target::Simulator(sc) => {
            let sim = waweb_sim::start((**sc).clone())
                .await
                .map_err(WebError::Simulator)?;
            let (u, l) = (sim.ws_url(), sim.logout_url());
            (Some(sim), u, Some(l))
        }
        Target::Server { url, logout_url } => (None, url.clone(), logout_url.clone()),
    };
    // The refs a login gets: the client's own limit, and the simulator's when it is lower.
    let client_refs = waweb_session::Config::default().max_rerefs + 1;
    let max_refs = match &cfg.target {
        Target::Simulator(sc) => sc.max_refs.min(client_refs),
        Target::Server { .. } => client_refs,
    };
    let app = App::new(&cfg, sim, url, logout_url, token.clone(), max_refs);
    let clients = tokio::spawn(Arc::clone(&app).run_clients(cfg.credentials.clone()));
    let router = routes::router(Arc::clone(&app), addr, token.is_some());
    let stop = app.closing();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!("web server: {e}");
        }
    });
    Ok(WebServer {
        addr,
        token,
        app,
        task,
        clients,
    })
}
