//! Fault injection, scriptable from tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::lock;

/// A cheap clonable handle that injects faults into the running simulator.
///
/// One-shot faults (`corrupt_next_mac`, `send_malformed_node`, `next_login_status`,
/// `require_challenge`, `drop_after_frames`, `expire_next_download`) are consumed by the first
/// frame or request they apply to; `delay_replies` stays until changed; `drop_connection` and
/// `kick_replaced` act at once on the connections open at that moment.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

struct Inner {
    drop_gen: watch::Sender<u64>,
    kick_gen: watch::Sender<u64>,
    delay: Mutex<Duration>,
    corrupt_mac: AtomicBool,
    malformed: AtomicBool,
    login_status: Mutex<Option<u16>>,
    challenge: AtomicBool,
    drop_after: Mutex<Option<usize>>,
    expire_download: AtomicBool,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("delay", &*lock(&self.inner.delay))
            .field(
                "corrupt_mac",
                &self.inner.corrupt_mac.load(Ordering::Relaxed),
            )
            .field("malformed", &self.inner.malformed.load(Ordering::Relaxed))
            .field("login_status", &*lock(&self.inner.login_status))
            .field("challenge", &self.inner.challenge.load(Ordering::Relaxed))
            .field("drop_after", &*lock(&self.inner.drop_after))
            .finish()
    }
}

impl Faults {
    /// The next download of a stored media blob answers 404, and that URL stays expired: the
    /// client must refresh it with the `media` query (one-shot).
    pub fn expire_next_download(&self) {
        self.inner.expire_download.store(true, Ordering::SeqCst);
    }

    pub(crate) fn take_expire_download(&self) -> bool {
        self.inner.expire_download.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn new() -> Self {
        Faults {
            inner: Arc::new(Inner {
                drop_gen: watch::Sender::new(0),
                kick_gen: watch::Sender::new(0),
                delay: Mutex::new(Duration::ZERO),
                corrupt_mac: AtomicBool::new(false),
                malformed: AtomicBool::new(false),
                login_status: Mutex::new(None),
                challenge: AtomicBool::new(false),
                drop_after: Mutex::new(None),
                expire_download: AtomicBool::new(false),
            }),
        }
    }

    /// Closes every open connection abruptly now: no websocket close frame, the TCP connection is
    /// shut down. Frames queued but not yet written are kept for the client's next login.
    pub fn drop_connection(&self) {
        self.inner.drop_gen.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// Delays every frame the simulator sends by `d` (including keepalive replies) until set back
    /// to zero.
    pub fn delay_replies(&self, d: Duration) {
        *lock(&self.inner.delay) = d;
    }

    /// The next binary frame sent (on any connection) carries a wrong HMAC.
    pub fn corrupt_next_mac(&self) {
        self.inner.corrupt_mac.store(true, Ordering::SeqCst);
    }

    /// The next push (`push_message`, `push_node`) is preceded by a correctly encrypted frame whose
    /// plaintext is not a valid node.
    pub fn send_malformed_node(&self) {
        self.inner.malformed.store(true, Ordering::SeqCst);
    }

    /// Sends `["Cmd",{"type":"disconnect","kind":"replaced"}]` to every logged-in connection and
    /// closes it, as when the session is taken over elsewhere.
    pub fn kick_replaced(&self) {
        self.inner.kick_gen.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// The next `["admin","login",...]` is answered with this status (401, 403 with `tos`, 405,
    /// 409, 419, ...) whatever its tokens.
    pub fn next_login_status(&self, status: u16) {
        *lock(&self.inner.login_status) = Some(status);
    }

    /// The next restore with valid tokens gets the `Cmd` challenge before `Conn`.
    pub fn require_challenge(&self) {
        self.inner.challenge.store(true, Ordering::SeqCst);
    }

    /// Drops the connection (as [`drop_connection`](Self::drop_connection)) right after `n` more
    /// frames have been sent (keepalive replies do not count).
    /// `n = 0` drops at once.
    pub fn drop_after_frames(&self, n: usize) {
        if n == 0 {
            self.drop_connection();
        } else {
            *lock(&self.inner.drop_after) = Some(n);
        }
    }

    /// Clears every pending one-shot fault and the delay.
    pub fn clear(&self) {
        self.delay_replies(Duration::ZERO);
        self.inner.corrupt_mac.store(false, Ordering::SeqCst);
        self.inner.malformed.store(false, Ordering::SeqCst);
        *lock(&self.inner.login_status) = None;
        self.inner.challenge.store(false, Ordering::SeqCst);
        *lock(&self.inner.drop_after) = None;
        self.inner.expire_download.store(false, Ordering::SeqCst);
    }

    pub(crate) fn drop_watch(&self) -> watch::Receiver<u64> {
        self.inner.drop_gen.subscribe()
    }

    pub(crate) fn kick_watch(&self) -> watch::Receiver<u64> {
        self.inner.kick_gen.subscribe()
    }

    pub(crate) fn delay(&self) -> Duration {
        *lock(&self.inner.delay)
    }

    pub(crate) fn take_corrupt_mac(&self) -> bool {
        self.inner.corrupt_mac.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn take_malformed(&self) -> bool {
        self.inner.malformed.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn take_login_status(&self) -> Option<u16> {
        lock(&self.inner.login_status).take()
    }

    pub(crate) fn take_challenge(&self) -> bool {
        self.inner.challenge.swap(false, Ordering::SeqCst)
    }

    /// Counts one sent frame; `true` when the connection must now be dropped.
    pub(crate) fn count_frame(&self) -> bool {
        let mut g = lock(&self.inner.drop_after);
        match *g {
            Some(0 | 1) => {
                *g = None;
                true
            }
            Some(n) => {
                *g = Some(n - 1);
                false
            }
            None => false,
        }
    }
}
