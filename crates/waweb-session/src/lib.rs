//! The session layer of the legacy WhatsApp Web protocol, sans-IO.
//!
//! A [`Session`] owns no socket, no clock and no randomness: it takes received frames
//! ([`Session::handle_text`], [`Session::handle_binary`]), the time ([`Session::handle_timeout`])
//! and commands, and gives back frames to send ([`Session::poll_transmit`]), [`Event`]s
//! ([`Session::poll_event`]) and its next deadline ([`Session::poll_timeout`]). Randomness (client
//! id, key pair, IVs) comes in through [`Randomness`]. The flows and every message's exact form are
//! in `docs/session.md`.
//!
//! ```
//! use std::time::Instant;
//! use waweb_session::{Config, Event, OsRandom, Session, Transmit};
//!
//! let now = Instant::now();
//! let mut session = Session::login(Config::default(), now, 1_600_000_000, Box::new(OsRandom))?;
//! // The first frame is `init`.
//! let Some(Transmit::Text(init)) = session.poll_transmit() else { unreachable!() };
//! assert!(init.starts_with("1600000000.--0,[\"admin\",\"init\",[2,2142,12]"));
//! // The server's reply carries the ref; the session turns it into a QR string.
//! session.handle_text(now, r#"1600000000.--0,{"status":200,"ref":"1@abc","ttl":20000}"#);
//! assert!(matches!(session.poll_event(), Some(Event::Qr { attempt: 0, .. })));
//! # Ok::<(), waweb_session::Error>(())
//! ```

mod config;
mod credentials;
mod error;
mod event;
mod frame;
mod record;
mod session;
#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_VERSION, OsRandom, RandomError, Randomness};
pub use credentials::{CREDENTIALS_VERSION, Credentials, DEFAULT_LOGOUT_URL, LogoutRequest};
pub use error::{Error, FrameError, RequestError};
pub use event::{CloseReason, ConnInfo, Event, LoginFailure, LoginKind, Reply, StreamInfo};
pub use frame::{Flags, GOODBYE, KEEPALIVE, Metric, TagGenerator, Transmit};
pub use record::{Direction, FrameRecord, RecordBody};
pub use session::{Session, State};
pub use waweb_binary::Node;
