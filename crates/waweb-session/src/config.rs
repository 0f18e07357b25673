//! Session configuration and injected randomness.

use std::time::Duration;

/// The version triple sent in `init`; `[2,2142,12]` was current near the protocol's end.
pub const DEFAULT_VERSION: [u32; 3] = [2, 2142, 12];

/// Settings of a session.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The version sent in `init`. A server that finds it too old answers `Cmd update`.
    pub version: [u32; 3],
    /// The long browser description (shown on the phone).
    pub browser_long: String,
    /// The short browser description.
    pub browser_short: String,
    /// How long a request waits for its reply.
    pub request_timeout: Duration,
    /// Time between keepalives (`?,,`).
    pub keepalive_interval: Duration,
    /// How long to wait for the keepalive reply (`!<ms>`) before the connection counts as dead.
    pub keepalive_timeout: Duration,
    /// How many times a QR ref is renewed with `reref` (the seed: up to 5).
    pub max_rerefs: u32,
    /// The ref ttl used when a reply carries none.
    pub default_ref_ttl: Duration,
    /// Keep a [`FrameRecord`](crate::FrameRecord) of every frame in and out, for
    /// [`Session::poll_record`](crate::Session::poll_record) (an inspector's view). Off by default.
    pub record_frames: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            version: DEFAULT_VERSION,
            browser_long: "waweb".into(),
            browser_short: "waweb".into(),
            request_timeout: Duration::from_secs(20),
            keepalive_interval: Duration::from_secs(20),
            keepalive_timeout: Duration::from_secs(10),
            max_rerefs: 5,
            default_ref_ttl: Duration::from_secs(20),
            record_frames: false,
        }
    }
}

impl Config {
    /// The default configuration.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

/// The randomness a session needs (client id, key pair, IVs), injected so the session has none of
/// its own and tests are reproducible.
pub trait Randomness: Send {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// When the generator fails.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// The generator failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomError;

/// The operating system's generator (through `waweb-crypto`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl Randomness for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), RandomError> {
        waweb_crypto::primitives::random_bytes(buf).map_err(|_| RandomError)
    }
}
