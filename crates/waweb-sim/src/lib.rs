//! A loopback simulator of the legacy WhatsApp Web server and of the user's phone.
//!
//! It speaks the server side of the protocol over real websockets: `init` and refs with their ttl
//! and reref limits, a phone that scans QR strings and answers with `Conn` and a login secret
//! built by `waweb-crypto`, restore with tokens (and challenges), keepalive replies, encrypted
//! binary pushes of contacts, chats and messages, acks for what the client sends, logout over
//! the connection and over HTTP, a media host on the same port (uploads through `mediaConn` and
//! `encr_upload`, downloads, URL refresh; streamed to temporary files), and fault injection. It
//! shares no code with the client crates. The message forms are listed in `docs/simulator.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use waweb_sim::{SimConfig, SimEvent};
//!
//! let sim = waweb_sim::start(SimConfig::default()).await?;
//! let mut events = sim.events();
//! println!("point the client at {} with Origin: https://web.whatsapp.com", sim.ws_url());
//! // The client sends init and shows `ref,publicKey,clientId`; the phone scans it:
//! # let qr = String::new();
//! sim.scan(&qr).await?;
//! while let Ok(ev) = events.recv().await {
//!     if let SimEvent::LoggedIn { client_id, .. } = ev {
//!         println!("{client_id} is in");
//!         break;
//!     }
//! }
//! sim.faults().drop_connection();
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod account;
mod cli;
mod config;
mod conn;
mod error;
mod events;
mod faults;
mod http;
mod media;
mod server;
mod wire;

pub use account::{
    Account, Chat, Contact, Group, Participant, PhoneInfo, SAMPLE_JSON, is_user_jid, to_json_jid,
    to_wire_jid,
};
pub use cli::{SimArgs, run_cli, run_cli_blocking};
pub use config::SimConfig;
pub use error::SimError;
pub use events::{ConnId, FrameBody, FrameLog, SimEvent};
pub use faults::Faults;
pub use server::{ClientInfo, SimHandle, start};

/// The `Origin` header the simulator requires, as the real service does.
pub const ORIGIN: &str = http::ORIGIN;

/// Locks a mutex, ignoring poisoning (no invariant spans a panic here).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
