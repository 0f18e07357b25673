//! The crate's error type.

/// Why a command through a [`Handle`](crate::Handle) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not connected right now (reconnecting); try again after [`Event::Connected`](crate::Event).
    #[error("not connected")]
    NotConnected,
    /// The connection task has stopped.
    #[error("connection stopped")]
    Stopped,
    /// The session refused the command.
    #[error("session: {0}")]
    Session(#[from] waweb_session::Error),
    /// The request got no reply.
    #[error("request: {0}")]
    Request(#[from] waweb_session::RequestError),
    /// The HTTP logout request failed.
    #[error("logout request failed: {0}")]
    Logout(String),
    /// The URL is not usable.
    #[error("bad URL: {0}")]
    Url(&'static str),
}
