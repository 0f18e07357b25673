//! The typed events the handler produces.

use serde::{Serialize, Serializer};
use waweb_binary::Node;
use waweb_proto::Unknown;
use waweb_proto::proto::WebMessageInfo;

use crate::jid::{Jid, JidError};

/// One thing the phone or server told us, typed.
///
/// Produced by [`events_from_node`](crate::events_from_node) and
/// [`events_from_json`](crate::events_from_json); nothing they receive is dropped: what they do not
/// understand arrives as [`Event::Raw`], what they understand but cannot read as
/// [`Event::Invalid`] or [`Event::BadMessage`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The contact list: `response type=contacts` with `user` children.
    Contacts(ContactList),
    /// The chat list: `response type=chat` with `chat` children.
    Chats(ChatList),
    /// Messages: the `message` children of one `action` node, decoded as `WebMessageInfo`.
    Messages(MessageBatch),
    /// A `message` child whose bytes are not a readable `WebMessageInfo`.
    BadMessage(BadMessage),
    /// Delivery, read or played receipts (JSON `Msg`/`MsgInfo` acks, binary `received`).
    Receipt(Receipt),
    /// A chat was marked read or unread (binary `read` child of `action`).
    ChatRead(ChatRead),
    /// A contact's or a group member's presence (JSON `Presence`).
    Presence(Presence),
    /// The phone's battery (binary `battery` child of `action`).
    Battery(Battery),
    /// A chat was archived, pinned, muted, starred, cleared, deleted... (binary `chat` child).
    ChatUpdate(ChatUpdate),
    /// A contact was added or changed (binary `user` child of `action`).
    ContactUpdate(Contact),
    /// A group changed (JSON `Chat` with `cmd:"action"`, or a group stub message relayed live).
    Group(GroupNotification),
    /// Someone's profile picture changed (JSON `Cmd` with `type:"picture"`).
    ProfilePicture(ProfilePictureChange),
    /// Someone's status (about text) changed (JSON `Status`).
    Status(StatusChange),
    /// A server command (JSON `Cmd`): challenge, disconnect, update.
    Command(Command),
    /// Server properties (JSON `Props`).
    Props(serde_json::Map<String, serde_json::Value>),
    /// The blocklist, complete (JSON `Blocklist`).
    Blocklist(Vec<Jid>),
    /// Connection info (JSON `Conn`), without its tokens and secret.
    Conn(ConnInfo),
    /// The stream state (JSON `Stream`, e.g. `["Stream","asleep"]`).
    Stream(StreamState),
    /// Whether the phone answered (JSON `["Pong",bool]`, the reply to `["admin","test"]`).
    Pong(bool),
    /// Understood in kind but not readable (a bad JID, a missing attribute); carries the input.
    Invalid(Invalid),
    /// Not understood: the input, owned, as received.
    Raw(Raw),
}

/// Input the handler did not understand, kept whole.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Raw {
    /// A binary node. For a child of `action`, `parent` holds the `action`'s attributes.
    Node {
        /// The node.
        node: Node,
        /// The enclosing `action`'s attributes, when the node was one of its children.
        parent: Option<Vec<(String, String)>>,
    },
    /// A JSON push.
    Json(serde_json::Value),
}

/// Input of a known kind that could not be read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Invalid {
    /// What was wrong.
    pub error: HandleError,
    /// The input: the offending node or JSON.
    pub input: Raw,
}

/// Why an input of a known kind could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// An attribute or field that must be a JID is not one.
    #[error("{field}: {source}")]
    Jid {
        /// The attribute or JSON field.
        field: &'static str,
        /// The parse error.
        source: JidError,
    },
    /// A required attribute or field is missing or has the wrong type.
    #[error("missing or mistyped {0}")]
    Missing(&'static str),
    /// The bytes of a `message` node are not a `WebMessageInfo`.
    #[error("message does not decode: {0}")]
    Proto(#[from] waweb_proto::ProtoError),
    /// A `message` node has no byte content.
    #[error("message node without bytes")]
    NoBytes,
    /// An attribute or field has a value this crate does not know.
    #[error("unexpected {field} {value:?}")]
    Unexpected {
        /// The attribute or field.
        field: &'static str,
        /// Its value.
        value: String,
    },
}

/// A contact as the contact list and `user` nodes describe it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The contact's JID (as sent, usually `c.us`).
    pub jid: Option<Jid>,
    /// The name in the phone's address book (`name`).
    pub name: Option<String>,
    /// The name the contact chose (`notify`, the push name).
    pub notify: Option<String>,
    /// A short form of the address-book name (`short`).
    pub short: Option<String>,
    /// The verified business name (`vname`).
    pub vname: Option<String>,
    /// The business verification level (`verify`: `0`, `1`, `2`).
    pub verify: Option<u8>,
    /// The address-book index letter (`index`).
    pub index: Option<String>,
    /// A WhatsApp Business enterprise account (`enterprise="true"`).
    pub enterprise: bool,
    /// The status (about) text: not in `user` nodes, set by the [`Store`](crate::Store) from
    /// [`Event::Status`].
    pub status: Option<String>,
    /// Attributes not listed above, in wire order.
    pub other: Vec<(String, String)>,
}

impl Contact {
    /// The best name to show: address-book name, then push name, then verified name, then short.
    #[must_use]
    pub fn display_name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.notify.as_deref())
            .or(self.vname.as_deref())
            .or(self.short.as_deref())
    }
}

/// The contact list (`response type=contacts`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContactList {
    /// The list's `checksum` attribute.
    pub checksum: Option<String>,
    /// `duplicate="true"`: the server says the client already has this list (peers ignore it).
    pub duplicate: bool,
    /// The contacts, in wire order. Entries with a bad JID arrive as [`Event::Invalid`] instead.
    pub contacts: Vec<Contact>,
}

/// A chat as the chat list describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Chat {
    /// The chat's JID.
    pub jid: Jid,
    /// Time of the last activity, seconds since the epoch (`t`).
    pub t: Option<u64>,
    /// Unread messages (`count`); `-1` means "marked unread" by the user.
    pub count: i64,
    /// `spam="true"`.
    pub spam: bool,
    /// Muted until this time, seconds since the epoch (`mute`).
    pub mute: Option<u64>,
    /// Pinned at this time, seconds since the epoch (`pin`).
    pub pin: Option<u64>,
    /// `archive="true"`.
    pub archive: bool,
    /// `read_only="true"` (e.g. a group one has left).
    pub read_only: bool,
    /// The server's change tag (`modify_tag`).
    pub modify_tag: Option<String>,
    /// The chat's name (`name`: address-book name or group subject).
    pub name: Option<String>,
    /// `message="true"`: the chat has messages to fetch.
    pub has_messages: bool,
    /// The number this chat moved from or to (`old_jid`, `new_jid`).
    pub old_jid: Option<Jid>,
    /// See `old_jid`.
    pub new_jid: Option<Jid>,
    /// Attributes not listed above, in wire order.
    pub other: Vec<(String, String)>,
}

impl Chat {
    /// An empty chat for `jid` (what the store creates on a first message).
    #[must_use]
    pub fn new(jid: Jid) -> Self {
        Chat {
            jid,
            t: None,
            count: 0,
            spam: false,
            mute: None,
            pin: None,
            archive: false,
            read_only: false,
            modify_tag: None,
            name: None,
            has_messages: false,
            old_jid: None,
            new_jid: None,
            other: Vec::new(),
        }
    }
}

/// The chat list (`response type=chat`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChatList {
    /// The response's `status` attribute.
    pub status: Option<String>,
    /// `duplicate="true"`: the client already has this list.
    pub duplicate: bool,
    /// The chats, in wire order. Entries with a bad JID arrive as [`Event::Invalid`] instead.
    pub chats: Vec<Chat>,
}

/// The `add` attribute of an `action` node: why these messages are sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AddKind {
    /// `last`: the last messages of every chat, after login.
    Last,
    /// `before`: earlier messages (history, answering a `query type=message kind=before`).
    Before,
    /// `after`: later messages.
    After,
    /// `relay`: a new message, live.
    Relay,
    /// `update`: a changed message (media URL arrived, live location moved).
    Update,
    /// `unread`: unread messages.
    Unread,
    /// Not an `action` but `response type=message`: the answer to a history query
    /// (`query type=message kind=before|after`), with the same `message` children.
    Response,
    /// No `add` attribute.
    None,
    /// Another value.
    Other(String),
}

impl AddKind {
    /// Reads the attribute value.
    #[must_use]
    pub fn from_attr(value: Option<&str>) -> Self {
        match value {
            Some("last") => AddKind::Last,
            Some("before") => AddKind::Before,
            Some("after") => AddKind::After,
            Some("relay") => AddKind::Relay,
            Some("update") => AddKind::Update,
            Some("unread") => AddKind::Unread,
            None => AddKind::None,
            Some(other) => AddKind::Other(other.to_owned()),
        }
    }
}

/// A decoded message with its key read into typed fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    /// The chat (`key.remoteJid`).
    pub chat: Jid,
    /// The message id (`key.id`).
    pub id: String,
    /// Sent by this account (`key.fromMe`).
    pub from_me: bool,
    /// The sender in a group (`participant`, else `key.participant`).
    pub participant: Option<Jid>,
    /// Seconds since the epoch (`messageTimestamp`, 0 when absent).
    pub timestamp: u64,
    /// The whole message.
    pub info: WebMessageInfo,
    /// Fields and enum values the schema does not know (decoding did not fail on them).
    #[serde(serialize_with = "display_all")]
    pub unknowns: Vec<Unknown>,
}

impl Message {
    /// The text of the message, whatever its kind (conversation, extended text, caption).
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        self.info.text()
    }

    /// The delivery status (`status`).
    #[must_use]
    pub fn status(&self) -> Option<Ack> {
        self.info.status.map(Ack::from_status)
    }
}

/// The messages of one `action` node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageBatch {
    /// Why they were sent.
    pub add: AddKind,
    /// `last="true"`: the final batch of the initial history.
    pub last: bool,
    /// The messages that decoded, in wire order.
    pub messages: Vec<Message>,
}

/// A `message` child that could not be read: the error and the node itself.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BadMessage {
    /// The enclosing `action`'s `add`.
    pub add: AddKind,
    /// Position among the `action`'s children.
    pub index: usize,
    /// What went wrong.
    pub error: HandleError,
    /// The `message` node, owned.
    pub node: Node,
}

/// A message status, as acks and `WebMessageInfo.status` carry it.
///
/// JSON acks carry `ack` = status − 1 (`-1` error … `4` played); `WebMessageInfo.status` carries the
/// status itself (0 error … 5 played).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ack {
    /// Failed (`ack -1`, status 0).
    Error,
    /// Not yet at the server (`ack 0`, status 1).
    Pending,
    /// At the server (`ack 1`, status 2).
    Server,
    /// Delivered to the phone (`ack 2`, status 3).
    Delivered,
    /// Read (`ack 3`, status 4).
    Read,
    /// Played, for voice messages (`ack 4`, status 5).
    Played,
}

impl Ack {
    /// From a JSON `ack` value; `None` outside `-1..=4`.
    #[must_use]
    pub fn from_json_ack(ack: i64) -> Option<Self> {
        Some(match ack {
            -1 => Ack::Error,
            0 => Ack::Pending,
            1 => Ack::Server,
            2 => Ack::Delivered,
            3 => Ack::Read,
            4 => Ack::Played,
            _ => return None,
        })
    }

    /// From `WebMessageInfo.status` (0 error … 5 played); values below 0 read as
    /// [`Ack::Error`], values above 5 as [`Ack::Played`].
    #[must_use]
    pub fn from_status(status: i32) -> Self {
        match status {
            i32::MIN..=0 => Ack::Error,
            1 => Ack::Pending,
            2 => Ack::Server,
            3 => Ack::Delivered,
            4 => Ack::Read,
            _ => Ack::Played,
        }
    }

    /// The `WebMessageInfo.status` value.
    #[must_use]
    pub fn to_status(self) -> i32 {
        match self {
            Ack::Error => 0,
            Ack::Pending => 1,
            Ack::Server => 2,
            Ack::Delivered => 3,
            Ack::Read => 4,
            Ack::Played => 5,
        }
    }
}

/// Where a receipt came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReceiptSource {
    /// JSON `["Msg",{cmd:"ack"...}]` (one id).
    MsgAck,
    /// JSON `["Msg",{cmd:"acks"...}]` (several ids).
    MsgAcks,
    /// JSON `["MsgInfo",{cmd:"ack"|"acks"...}]` (acks of messages sent from the phone).
    MsgInfo,
    /// Binary `received` child of `action`.
    Received,
}

/// A receipt: these message ids reached this status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The message ids.
    pub ids: Vec<String>,
    /// The status they reached.
    pub ack: Ack,
    /// `from` (JSON): who sent the messages.
    pub from: Option<Jid>,
    /// `to` (JSON) or `jid` (binary): the chat.
    pub to: Option<Jid>,
    /// `participant`: in a group, the member who received or read.
    pub participant: Option<Jid>,
    /// `t`: seconds since the epoch.
    pub t: Option<u64>,
    /// `owner` (binary): `true` when the messages are our own.
    pub from_me: Option<bool>,
    /// Where it came from.
    pub source: ReceiptSource,
}

/// A chat marked read or unread (binary `read{jid, type}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatRead {
    /// The chat.
    pub jid: Jid,
    /// `false` when `type="false"` (marked unread), `true` otherwise (read).
    pub read: bool,
}

/// A presence kind (`type` of a `Presence` push).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PresenceKind {
    /// `available`: online.
    Available,
    /// `unavailable`: offline (with `t`, the last-seen time).
    Unavailable,
    /// `composing`: typing.
    Composing,
    /// `recording`: recording a voice message.
    Recording,
    /// `paused`: stopped typing.
    Paused,
    /// Another value.
    Other(String),
}

/// A presence push: `["Presence",{id, participant?, type, t?, deny?}]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Presence {
    /// `id`: the contact, or the group the presence is shown in.
    pub id: Jid,
    /// `participant`: in a group, the member.
    pub participant: Option<Jid>,
    /// `type`.
    pub kind: PresenceKind,
    /// `t`: last seen, seconds since the epoch.
    pub last_seen: Option<u64>,
    /// `deny: true`: the contact hides their last seen.
    pub deny: bool,
}

/// The phone's battery: `battery{value, live, powersave}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Battery {
    /// Percent (`value`).
    pub percent: Option<u8>,
    /// Charging (`live="true"`).
    pub plugged: bool,
    /// Power-save mode (`powersave="true"`).
    pub powersave: bool,
}

/// What happened to a chat (`type` of a `chat` child of `action`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChatUpdateKind {
    /// `archive`.
    Archive,
    /// `unarchive`.
    Unarchive,
    /// `pin`: `Some(time)` pinned, `None` (no `pin` attribute) unpinned.
    Pin(Option<u64>),
    /// `mute`: `Some(until)` muted, `None` (no `mute` attribute) unmuted.
    Mute(Option<u64>),
    /// `star`: these messages (`item{index, owner}` children) were starred.
    Star(Vec<ItemRef>),
    /// `unstar`: these messages were unstarred.
    Unstar(Vec<ItemRef>),
    /// `clear`: these messages were cleared; empty means all.
    Clear(Vec<ItemRef>),
    /// `delete`: the chat was deleted.
    Delete,
    /// `spam`: a chat from a number not in the address book appeared (whatsappweb-rs reads it as
    /// "chat added"; the web client shows its report-spam bar for it).
    Spam,
    /// Another `type`.
    Other(String),
}

/// A message named by an `item` child: `index` is its id, `owner` whether it is our own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemRef {
    /// The message id (`index`).
    pub id: String,
    /// `owner="true"`: sent by this account.
    pub from_me: Option<bool>,
}

/// A chat update (binary `chat{type, jid, ...}` child of `action`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatUpdate {
    /// The chat.
    pub jid: Jid,
    /// What happened.
    pub kind: ChatUpdateKind,
    /// All attributes, in wire order.
    pub attrs: Vec<(String, String)>,
}

/// Where a group notification came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroupSource {
    /// JSON `["Chat",{id, cmd:"action", data:[...]}]`.
    Json,
    /// A stub message (`messageStubType`) relayed live; the message's id.
    Stub(String),
}

/// What changed in a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroupChange {
    /// Created (`create`), or this account was added to it (`introduce`).
    Create {
        /// The subject.
        subject: Option<String>,
        /// Creation time, seconds since the epoch (`creation`).
        creation: Option<u64>,
        /// Admins (`admins`).
        admins: Vec<Jid>,
        /// Other members (`regulars`, or `participants`).
        participants: Vec<Jid>,
        /// `introduce` rather than `create`: the group existed, we were added.
        introduced: bool,
    },
    /// New subject.
    Subject(String),
    /// New description (`None`: removed).
    Description(Option<String>),
    /// New icon.
    Icon,
    /// Members added (or joined by invite).
    Add(Vec<Jid>),
    /// Members removed.
    Remove(Vec<Jid>),
    /// Members made admins.
    Promote(Vec<Jid>),
    /// Admins made members.
    Demote(Vec<Jid>),
    /// Members left.
    Leave(Vec<Jid>),
    /// Only admins may send (`true`) or everyone may (`false`).
    Announce(bool),
    /// Only admins may edit the group info (`true`) or everyone may (`false`).
    Restrict(bool),
    /// Another action: its name and data (JSON) or stub parameters (as JSON strings).
    Other {
        /// The action name (JSON) or stub type name.
        action: String,
        /// The rest.
        data: serde_json::Value,
    },
}

/// A group notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupNotification {
    /// The group.
    pub group: Jid,
    /// Who did it (`data[1]`, or the stub message's participant).
    pub actor: Option<Jid>,
    /// What changed.
    pub change: GroupChange,
    /// Seconds since the epoch, when known.
    pub t: Option<u64>,
    /// Where it came from.
    pub source: GroupSource,
}

/// `["Cmd",{type:"picture", jid, tag?}]`: a profile picture changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfilePictureChange {
    /// Whose picture (a user or group).
    pub jid: Jid,
    /// The picture's `tag`, when sent.
    pub tag: Option<String>,
    /// `tag:"removed"`: the picture was removed.
    pub removed: bool,
}

/// `["Status",{id, status}]`: a status (about) text changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// Whose status.
    pub jid: Jid,
    /// The new text.
    pub status: String,
}

/// A server command (`["Cmd",{type, ...}]`, other than `picture`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// `type:"challenge"`: sign `challenge` (base64) with the MAC key and answer.
    Challenge(String),
    /// `type:"disconnect"`: the server closes; `kind` is `replaced` when another client took over.
    Disconnect {
        /// `kind`, e.g. `replaced`.
        kind: Option<String>,
    },
    /// `type:"update"`: the client version is too old.
    Update,
    /// Another `type`: the whole object.
    Other(serde_json::Map<String, serde_json::Value>),
}

/// The readable part of `["Conn",{...}]`. The tokens and `secret` are left to the session layer
/// and not copied here.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConnInfo {
    /// Our own JID (`wid`).
    pub wid: Option<Jid>,
    /// Our push name (`pushname`).
    pub pushname: Option<String>,
    /// The phone's platform (`platform`).
    pub platform: Option<String>,
    /// Battery percent (`battery`).
    pub battery: Option<u8>,
    /// Charging (`plugged`).
    pub plugged: Option<bool>,
    /// The phone description (`phone`: `wa_version`, `device_manufacturer`, ...).
    pub phone: Option<serde_json::Value>,
}

/// `["Stream", kind, ...]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamState {
    /// `update`, `asleep`, ...
    pub kind: String,
    /// The remaining elements.
    pub rest: Vec<serde_json::Value>,
}

impl Serialize for HandleError {
    /// As its message.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn display_all<S: Serializer>(items: &[Unknown], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(ToString::to_string))
}
