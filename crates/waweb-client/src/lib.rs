//! The client of the legacy WhatsApp Web protocol: typed events from decoded binary nodes and
//! JSON pushes, an optional in-memory [`Store`] kept from them, and the async [`Client`].
//!
//! The node handling is the sans-IO core: no sockets, no async. Feed it what the session layer
//! hands up (a decoded [`waweb_binary::Node`] or a JSON [`serde_json::Value`]) and get
//! [`Event`]s back. Nothing is dropped: unknown input comes back as [`Event::Raw`], input of a
//! known kind that cannot be read as [`Event::Invalid`] or [`Event::BadMessage`].
//!
//! ```
//! use waweb_binary::Node;
//! use waweb_client::{Event, Jid, Store, events_from_json, events_from_node};
//!
//! let mut store = Store::new();
//! let chats = Node::new("response").attr("type", "chat").children(vec![
//!     Node::new("chat").attr("jid", "491701234567@c.us").attr("t", "1600000000")
//!         .attr("count", "2").attr("name", "Alice"),
//! ]);
//! for event in events_from_node(&chats) {
//!     store.apply(&event);
//! }
//! let alice: Jid = "491701234567@s.whatsapp.net".parse()?;
//! assert_eq!(store.unread_chats().len(), 1);
//! assert_eq!(store.contact_name(&alice), Some("Alice"));
//!
//! let push = serde_json::json!(["Presence", {"id": "491701234567@c.us", "type": "composing"}]);
//! assert!(matches!(events_from_json(&push).as_slice(), [Event::Presence(_)]));
//! # Ok::<(), waweb_client::JidError>(())
//! ```
//!
//! The mapping, node by node and push by push, is in `docs/node-handling.md` of the repository.
//!
//! [`Client`] runs it on `waweb-transport`: it logs in (QR or stored credentials), yields
//! [`ClientEvent`]s, and sends messages, receipts, presence, queries and group changes, each call
//! awaiting the server's reply with a timeout.
//!
//! ```no_run
//! # async fn demo() -> Result<(), waweb_client::ClientError> {
//! use waweb_client::{Client, ClientConfig, ClientEvent, Event};
//!
//! let (client, mut events) = Client::connect(ClientConfig::with_url("ws://127.0.0.1:8080/ws"));
//! while let Some(event) = events.recv().await {
//!     match event {
//!         ClientEvent::Qr { code, .. } => println!("scan: {code}"),
//!         ClientEvent::CredentialsUpdated(_credentials) => { /* persist them */ }
//!         ClientEvent::Event(Event::Chats(list)) => {
//!             println!("{} chats", list.chats.len());
//!             break;
//!         }
//!         ClientEvent::Stopped(reason) => return Ok(println!("stopped: {reason:?}")),
//!         _ => {}
//!     }
//! }
//! let alice = "491701111111@c.us".parse().map_err(|_| waweb_client::ClientError::NotLoggedIn)?;
//! let sent = client.send_text(&alice, "Hello").await?;
//! println!("{} acknowledged at {:?}", sent.id, sent.server_time);
//! client.logout().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Media streams through temporary files with fixed buffers (memory does not grow with the file):
//!
//! ```no_run
//! # async fn media(client: waweb_client::Client, chat: waweb_client::Jid)
//! # -> Result<(), waweb_client::MediaError> {
//! use waweb_client::{MediaOptions, MediaType, UploadFlow};
//!
//! let file = tokio::fs::File::open("photo.jpg").await.map_err(|source| {
//!     waweb_client::MediaError::Io { during: "opening", source }
//! })?;
//! let options = MediaOptions::default().caption("Sunset").flow(UploadFlow::MediaConn);
//! let sent = client.send_media(&chat, MediaType::Image, file, options).await?;
//! // Later, or for a received message: MAC and hashes are checked before anything is written.
//! let mut out = Vec::new();
//! client.download_media(&sent.info, &mut out, &mut |got, total| {
//!     eprintln!("{got} of {total:?} bytes");
//! }).await?;
//! # Ok(())
//! # }
//! ```

mod client;
mod event;
mod jid;
mod json;
mod media;
mod media_http;
mod node;
mod store;

pub use client::{
    Client, ClientConfig, ClientError, ClientEvent, DEFAULT_REQUEST_TIMEOUT, EventStream,
    GroupAction, GroupMetadata, GroupParticipant, SentMessage, SetPresence, TextOptions,
    new_message_id,
};
pub use event::{
    Ack, AddKind, BadMessage, Battery, Chat, ChatList, ChatRead, ChatUpdate, ChatUpdateKind,
    Command, ConnInfo, Contact, ContactList, Event, GroupChange, GroupNotification, GroupSource,
    HandleError, Invalid, ItemRef, Message, MessageBatch, Presence, PresenceKind,
    ProfilePictureChange, Raw, Receipt, ReceiptSource, StatusChange, StreamState,
};
pub use jid::{Jid, JidError, Server};
pub use json::events_from_json;
pub use media::{MediaError, MediaOptions, MediaType, UploadFlow, UploadedMedia, media_message};
pub use node::{events_from_node, events_from_node_ref};
pub use store::{DEFAULT_MESSAGES_PER_CHAT, Store};

/// The examples of the repository's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
