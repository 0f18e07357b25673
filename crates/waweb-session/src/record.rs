//! Frame records: every frame in and out as an inspector sees it, opened and decoded.
//!
//! Off by default; turn on with [`Config::record_frames`](crate::Config::record_frames) and drain
//! with [`Session::poll_record`](crate::Session::poll_record). Records carry what the frames carry,
//! secrets included (the login `secret`, tokens, the challenge answer, media keys); their `Debug`
//! shows only the direction, tag, size and kind.

use core::fmt;

use serde_json::Value;
use waweb_binary::Node;

use crate::frame::{Flags, Metric};

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the server.
    In,
    /// Sent to the server.
    Out,
}

/// One frame, as sent or as received.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct FrameRecord {
    /// In or out.
    pub direction: Direction,
    /// The message tag, when the frame had one.
    pub tag: Option<String>,
    /// The size of the websocket message, bytes.
    pub size: usize,
    /// What it held.
    pub body: RecordBody,
}

/// What a recorded frame held.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum RecordBody {
    /// A tagged JSON payload (in a text frame, or in a binary frame as some servers send).
    Json(Value),
    /// Text that is not tagged JSON: the keepalive `?,,`, its reply `!<ms>`, an empty payload.
    Text(String),
    /// A binary node, opened and decoded. Outgoing frames carry their two header bytes.
    Node {
        /// The node.
        node: Node,
        /// The metric byte (outgoing frames only).
        metric: Option<Metric>,
        /// The flags byte (outgoing frames only).
        flags: Option<Flags>,
    },
    /// A received frame that could not be read; why, as reported in
    /// [`Event::FrameError`](crate::Event::FrameError).
    Unreadable(String),
}

impl FrameRecord {
    /// A record (for tools that build or replay records themselves).
    #[must_use]
    pub fn new(direction: Direction, tag: Option<String>, size: usize, body: RecordBody) -> Self {
        Self {
            direction,
            tag,
            size,
            body,
        }
    }
}

impl RecordBody {
    /// A short name of the kind: `json`, `text`, `node` or `error`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Json(_) => "json",
            Self::Text(_) => "text",
            Self::Node { .. } => "node",
            Self::Unreadable(_) => "error",
        }
    }
}

impl fmt::Debug for FrameRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameRecord")
            .field("direction", &self.direction)
            .field("tag", &self.tag)
            .field("size", &self.size)
            .field("kind", &self.body.kind())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RecordBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordBody::{}(..)", self.kind())
    }
}
