//! The simulator's error type.

/// Everything that can go wrong when driving the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The account file is not valid JSON of the documented form.
    #[error("account: {0}")]
    Account(String),
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        reason: String,
    },
    /// The QR string is not `ref,base64(publicKey),clientId`.
    #[error("QR string is not `ref,base64(publicKey),clientId`: {0}")]
    BadQr(&'static str),
    /// No open connection currently shows this ref.
    #[error("no open connection shows ref {0}")]
    UnknownRef(String),
    /// The ref was shown, but its ttl has run out.
    #[error("ref {0} has expired")]
    RefExpired(String),
    /// The QR names another client id than the connection that asked for the ref.
    #[error("the QR's client id does not match the connection that asked for its ref")]
    ClientIdMismatch,
    /// A key or secret could not be built (random generator failure or a low-order public key).
    #[error("crypto: {0}")]
    Crypto(String),
    /// A node could not be encoded.
    #[error("cannot encode node: {0}")]
    Encode(String),
    /// The simulator has shut down.
    #[error("the simulator has shut down")]
    Shutdown,
}

impl From<waweb_crypto::Error> for SimError {
    fn from(e: waweb_crypto::Error) -> Self {
        SimError::Crypto(e.to_string())
    }
}
