//! The crate's error type and the errors carried by events.

/// A command the session cannot carry out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The command needs a logged-in session (keys) and there is none yet.
    #[error("not logged in")]
    NotLoggedIn,
    /// The session has closed.
    #[error("session closed")]
    Closed,
    /// The injected randomness failed.
    #[error("random generator failed")]
    Random,
    /// A node could not be written in the binary format.
    #[error("cannot encode node: {0}")]
    Encode(#[from] waweb_binary::EncodeError),
    /// A JSON value could not be written.
    #[error("cannot serialize JSON")]
    Json,
    /// A message tag contains a comma or is empty.
    #[error("invalid message tag")]
    Tag,
    /// Credentials could not be used, read or written.
    #[error("credentials: {0}")]
    Credentials(&'static str),
}

/// Why a received frame was dropped (reported as [`Event::FrameError`](crate::Event::FrameError);
/// the session carries on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The frame has no `tag,` prefix or is otherwise unusable.
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
    /// The payload of a text frame is not JSON.
    #[error("text frame payload is not JSON")]
    Json,
    /// A binary frame arrived before the session had keys.
    #[error("binary frame before login")]
    NoKeys,
    /// The binary frame failed its MAC or could not be decrypted.
    #[error("cannot open binary frame: {0}")]
    Open(#[from] waweb_crypto::Error),
    /// The decrypted node did not decode.
    #[error("cannot decode node: {0}")]
    Decode(#[from] waweb_binary::DecodeError),
}

/// Why a request of ours got no usable reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No reply within the request timeout.
    #[error("request timed out")]
    Timeout,
    /// The session closed before the reply.
    #[error("session closed")]
    Closed,
}
