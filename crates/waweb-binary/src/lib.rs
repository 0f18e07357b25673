//! The binary node format of the legacy WhatsApp Web protocol: a zero-copy decoder written with
//! nom, an owned node form for building messages, and a writer that picks the most compact
//! encoding for every string, list and byte run.
//!
//! ```
//! use waweb_binary::{Node, Tree, encode};
//!
//! // Build an outgoing node, encode it, and read it back without copying.
//! let node = Node::new("action")
//!     .attr("type", "relay")
//!     .attr("epoch", "5")
//!     .children(vec![Node::new("message").bytes(vec![0x0a, 0x00])]);
//! let bytes = encode(&node)?;
//! let tree = Tree::decode(&bytes)?;
//! let root = tree.root();
//! assert!(root.tag().eq_str("action"));
//! assert_eq!(root.attr("epoch").map(|v| v.to_string()).as_deref(), Some("5"));
//! assert_eq!(root.to_owned(), node);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The format is described byte by byte in `docs/binary-format.md` of the repository.

pub mod decode;
pub mod dictionary;
pub mod encode;
pub mod error;
mod json;
pub mod node;
pub mod packed;
pub mod tag;
pub mod tree;

pub use decode::{DEFAULT_MAX_DEPTH, Decoder};
pub use dictionary::{Dictionary, TokenIndex};
pub use encode::{Encoder, encode};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, Part};
pub use node::{Content, Node};
pub use packed::{Packed, PackedKind};
pub use tree::{Children, ContentRef, NodeRef, Str, Tree, Value};

/// Decodes `input` with the legacy dictionary into an owned [`Node`].
pub fn decode_owned(input: &[u8]) -> Result<Node, DecodeError> {
    Tree::decode(input).map(|t| t.root().to_owned())
}
