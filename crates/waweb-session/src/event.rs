//! What a session reports: events and typed outcomes.

use std::time::Duration;

use serde_json::Value;
use waweb_binary::Node;

use crate::credentials::Credentials;
use crate::error::{FrameError, RequestError};

/// Something that happened; drained with [`Session::poll_event`](crate::Session::poll_event).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A QR string to show: `ref,base64(publicKey),clientId`.
    Qr {
        /// The QR string.
        code: String,
        /// How long this ref is valid.
        ttl: Duration,
        /// 0 for the ref of `init`, then 1.. for each reref.
        attempt: u32,
        /// The server answered a reref with 304: the previous ref stays valid.
        reused: bool,
    },
    /// Logged in: keys available, binary frames flow.
    LoggedIn {
        /// What `Conn` said about the phone and account.
        info: ConnInfo,
        /// How.
        how: LoginKind,
    },
    /// New tokens (every `Conn`): persist these credentials.
    CredentialsUpdated(Credentials),
    /// The server challenged our tokens and the answer was sent.
    ChallengeAnswered,
    /// `["Stream", kind, update, version]`.
    Stream(StreamInfo),
    /// `["Props", {...}]`.
    Props(Value),
    /// A reply to one of our requests.
    Response {
        /// The request's tag.
        tag: String,
        /// The reply or why there is none.
        result: Result<Reply, RequestError>,
    },
    /// An unsolicited JSON message (`Msg`, `Presence`, `Chat`, `Cmd` of other types, ...).
    Json {
        /// Its tag.
        tag: String,
        /// The payload.
        value: Value,
    },
    /// An unsolicited binary frame, opened and decoded.
    Node {
        /// Its tag (e.g. `preempt-...`).
        tag: String,
        /// The decoded node.
        node: Node,
    },
    /// A received frame was dropped; the session carries on.
    FrameError {
        /// Its tag, when it had one.
        tag: Option<String>,
        /// Why.
        error: FrameError,
    },
    /// The keepalive reply `!<unix-ms>`.
    Pong {
        /// The server's clock, Unix milliseconds.
        server_time_ms: u64,
    },
    /// The session is over; the connection should be closed. The last event.
    Closed(CloseReason),
}

/// How a session logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKind {
    /// A phone scanned the QR code.
    Qr,
    /// Restored with stored tokens.
    Restored,
    /// Restored after answering a challenge.
    Challenged,
}

/// A reply to a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// JSON, e.g. `{"status":200}`.
    Json(Value),
    /// A binary node.
    Node(Node),
}

/// The fields of `Conn` other than secrets and tokens.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ConnInfo {
    /// Our JID.
    pub wid: Option<String>,
    /// Our display name.
    pub pushname: Option<String>,
    /// Phone platform, e.g. `android`.
    pub platform: Option<String>,
    /// Battery percentage.
    pub battery: Option<u64>,
    /// Phone charging.
    pub plugged: Option<bool>,
    /// Phone connected.
    pub connected: Option<bool>,
    /// Terms-of-service level.
    pub tos: Option<u64>,
    /// The `phone` object (`wa_version`, `device_model`, ...).
    pub phone: Option<Value>,
}

/// `["Stream", kind, update, version]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    /// E.g. `update`.
    pub kind: String,
    /// The update flag.
    pub update: bool,
    /// The web version, e.g. `0.2.7314`.
    pub version: Option<String>,
}

/// Why a session closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The login (restore) was refused.
    Login(LoginFailure),
    /// A reref was answered 429: no new ref.
    RefDenied,
    /// The last allowed ref expired without a scan.
    QrExpired,
    /// `["Cmd",{"type":"update"}]`: our version is too old.
    UpdateRequired,
    /// `["Cmd",{"type":"disconnect","kind":"replaced"}]`: another client took over.
    Replaced,
    /// `["Cmd",{"type":"disconnect"}]` of another kind: the server ended the session.
    Disconnected,
    /// We logged out.
    LoggedOut,
    /// No keepalive reply in time: the connection is dead.
    KeepaliveTimeout,
    /// A login step got no reply in time.
    Timeout(&'static str),
    /// `init` was answered with a status other than 200.
    InitFailed(u16),
    /// The challenge answer was refused.
    ChallengeFailed(u16),
    /// The connection went away.
    ConnectionLost,
    /// The server said something we cannot go on from.
    Protocol(&'static str),
}

impl CloseReason {
    /// Whether trying again with the same credentials cannot help (stop reconnecting).
    #[must_use]
    pub const fn is_terminal(&self) -> bool {
        match self {
            Self::Login(_)
            | Self::UpdateRequired
            | Self::Replaced
            | Self::Disconnected
            | Self::LoggedOut
            | Self::RefDenied
            | Self::QrExpired
            | Self::ChallengeFailed(_) => true,
            Self::KeepaliveTimeout
            | Self::Timeout(_)
            | Self::InitFailed(_)
            | Self::ConnectionLost
            | Self::Protocol(_) => false,
        }
    }
}

/// Restore statuses other than 200.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginFailure {
    /// 401: unpaired from the phone.
    Unpaired,
    /// 403: access denied; `tos` ≥ 2 means a terms-of-service violation.
    AccessDenied {
        /// The `tos` field of the reply.
        tos: Option<u64>,
    },
    /// 405: already logged in.
    AlreadyLoggedIn,
    /// 409: logged in from another location.
    LoggedInElsewhere,
    /// 419: the session was invalidated (seen after about 30 days).
    Invalidated,
    /// Any other status.
    Other(u16),
}

impl LoginFailure {
    /// The failure for a status (not 200).
    #[must_use]
    pub const fn from_status(status: u16, tos: Option<u64>) -> Self {
        match status {
            401 => Self::Unpaired,
            403 => Self::AccessDenied { tos },
            405 => Self::AlreadyLoggedIn,
            409 => Self::LoggedInElsewhere,
            419 => Self::Invalidated,
            other => Self::Other(other),
        }
    }
}
