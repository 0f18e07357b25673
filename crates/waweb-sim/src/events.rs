//! What the simulator reports while it runs.

use std::net::SocketAddr;
use std::time::Duration;

use waweb_binary::Node;
use waweb_proto::proto::WebMessageInfo;

/// Identifies one websocket connection for the simulator's lifetime.
pub type ConnId = u64;

/// An event of the simulator, from [`SimHandle::events`](crate::SimHandle::events).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SimEvent {
    /// A websocket connection was accepted.
    Connected {
        /// The connection.
        conn: ConnId,
        /// The client's address.
        peer: SocketAddr,
    },
    /// An upgrade request was refused (bad `Origin`, not a websocket request, ...).
    Rejected {
        /// The client's address.
        peer: SocketAddr,
        /// The HTTP status sent.
        status: u16,
        /// Why.
        reason: String,
    },
    /// A ref was issued (`init` or `reref` reply): the client can now show a QR code.
    QrShown {
        /// The connection.
        conn: ConnId,
        /// The client id the ref belongs to.
        client_id: String,
        /// The ref.
        server_ref: String,
        /// Its lifetime.
        ttl: Duration,
    },
    /// The phone scanned a QR code and `Conn` with the login secret was sent.
    Scanned {
        /// The connection.
        conn: ConnId,
        /// The client id.
        client_id: String,
    },
    /// A client is logged in on a connection (after a scan, a restore or a challenge).
    LoggedIn {
        /// The connection.
        conn: ConnId,
        /// The client id.
        client_id: String,
        /// `true` for a restore with tokens, `false` for a QR login.
        restored: bool,
    },
    /// A restore was answered with a challenge.
    ChallengeSent {
        /// The connection.
        conn: ConnId,
        /// The client id.
        client_id: String,
    },
    /// A login or challenge was refused with this status.
    LoginRefused {
        /// The connection.
        conn: ConnId,
        /// The client id named in the request.
        client_id: String,
        /// 401, 403, 405, 409 or 419.
        status: u16,
    },
    /// A frame arrived.
    FrameIn {
        /// The connection.
        conn: ConnId,
        /// The frame.
        frame: FrameLog,
    },
    /// A frame was sent.
    FrameOut {
        /// The connection.
        conn: ConnId,
        /// The frame.
        frame: FrameLog,
    },
    /// The client sent a message (`action type=relay`); reported once per message id and client.
    MessageReceived {
        /// The connection.
        conn: ConnId,
        /// The client id.
        client_id: String,
        /// The message.
        message: Box<WebMessageInfo>,
    },
    /// A connection ended.
    Disconnected {
        /// The connection.
        conn: ConnId,
        /// The client logged in on it, if any.
        client_id: Option<String>,
        /// How it ended.
        reason: String,
    },
    /// A client logged out; its tokens are now invalid.
    LoggedOut {
        /// The client id.
        client_id: String,
        /// `"connection"` for `["admin","Conn","disconnect"]`, `"http"` for the logout endpoint.
        via: &'static str,
    },
}

/// One frame as logged.
#[derive(Clone, Debug)]
pub struct FrameLog {
    /// The message tag (`?` for a keepalive, empty for `!<ms>`).
    pub tag: String,
    /// The content.
    pub body: FrameBody,
}

/// The content of a logged frame.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum FrameBody {
    /// The keepalive `?,,`.
    Keepalive,
    /// The keepalive reply `!<unix-ms>`.
    Pong(u64),
    /// A text frame's payload after `tag,`.
    Text(String),
    /// A binary frame.
    Binary {
        /// Bytes after `tag,`.
        len: usize,
        /// The node, when the frame opened and decoded.
        node: Option<Node>,
        /// Why it did not (MAC, decoder, no keys, injected fault).
        error: Option<String>,
    },
}

impl std::fmt::Display for FrameLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.body {
            FrameBody::Keepalive => write!(f, "?,,"),
            FrameBody::Pong(ms) => write!(f, "!{ms}"),
            FrameBody::Text(t) => write!(f, "{},{t}", self.tag),
            FrameBody::Binary { len, node, error } => {
                write!(f, "{},<binary {len} bytes>", self.tag)?;
                if let Some(n) = node {
                    match serde_json::to_string(n) {
                        Ok(j) => write!(f, " {j}")?,
                        Err(_) => write!(f, " {n:?}")?,
                    }
                }
                if let Some(e) = error {
                    write!(f, " ({e})")?;
                }
                Ok(())
            }
        }
    }
}
