//! Binary nodes to events.

use waweb_binary::{Content, Node, NodeRef};
use waweb_proto::proto::web_message_info::StubType;

use crate::event::{
    Ack, AddKind, BadMessage, Battery, Chat, ChatList, ChatRead, ChatUpdate, ChatUpdateKind,
    Contact, ContactList, Event, GroupChange, GroupNotification, GroupSource, HandleError, Invalid,
    ItemRef, Message, MessageBatch, Raw, Receipt, ReceiptSource,
};
use crate::jid::Jid;

/// Turns one decoded binary node into events.
///
/// `response type=contacts|chat` give one list event; an `action` gives one
/// [`Event::Messages`] for its `message` children (if any) followed by one event per other child,
/// in order; a relayed group stub message also gives an [`Event::Group`]. Anything else is
/// [`Event::Raw`].
#[must_use]
pub fn events_from_node(node: &Node) -> Vec<Event> {
    let mut out = Vec::new();
    match node.tag.as_str() {
        "response" => match node.get_attr("type") {
            Some("contacts") => contacts(node, &mut out),
            Some("chat") => chats(node, &mut out),
            Some("message") => action(node, AddKind::Response, &mut out),
            _ => out.push(raw(node.clone(), None)),
        },
        "action" => action(node, AddKind::from_attr(node.get_attr("add")), &mut out),
        _ => out.push(raw(node.clone(), None)),
    }
    out
}

/// [`events_from_node`] for a borrowed node (converted to owned once).
#[must_use]
pub fn events_from_node_ref(node: NodeRef<'_, '_>) -> Vec<Event> {
    events_from_node(&Node::from(node))
}

fn raw(node: Node, parent: Option<&Node>) -> Event {
    Event::Raw(Raw::Node {
        node,
        parent: parent.map(|p| p.attrs.clone()),
    })
}

fn invalid(error: HandleError, node: &Node, parent: Option<&Node>) -> Event {
    Event::Invalid(Invalid {
        error,
        input: Raw::Node {
            node: node.clone(),
            parent: parent.map(|p| p.attrs.clone()),
        },
    })
}

fn flag(node: &Node, key: &str) -> bool {
    node.get_attr(key) == Some("true")
}

fn num<T: std::str::FromStr>(node: &Node, key: &str) -> Option<T> {
    node.get_attr(key).and_then(|v| v.parse().ok())
}

fn jid_attr(node: &Node, key: &'static str) -> Result<Jid, HandleError> {
    let value = node.get_attr(key).ok_or(HandleError::Missing(key))?;
    Jid::parse(value).map_err(|source| HandleError::Jid { field: key, source })
}

fn opt_jid_attr(node: &Node, key: &'static str) -> Result<Option<Jid>, HandleError> {
    match node.get_attr(key) {
        None | Some("") => Ok(None),
        Some(_) => jid_attr(node, key).map(Some),
    }
}

fn rest(node: &Node, known: &[&str]) -> Vec<(String, String)> {
    node.attrs
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// Reads a `user` node (contact list entry or `action` child).
pub(crate) fn contact(node: &Node) -> Result<Contact, HandleError> {
    const KNOWN: &[&str] = &[
        "jid",
        "name",
        "notify",
        "short",
        "vname",
        "verify",
        "index",
        "enterprise",
    ];
    let s = |k: &str| node.get_attr(k).map(str::to_owned);
    Ok(Contact {
        jid: Some(jid_attr(node, "jid")?),
        name: s("name"),
        notify: s("notify"),
        short: s("short"),
        vname: s("vname"),
        verify: num(node, "verify"),
        index: s("index"),
        enterprise: flag(node, "enterprise"),
        status: None,
        other: rest(node, KNOWN),
    })
}

fn contacts(node: &Node, out: &mut Vec<Event>) {
    let mut list = ContactList {
        checksum: node.get_attr("checksum").map(str::to_owned),
        duplicate: flag(node, "duplicate"),
        contacts: Vec::new(),
    };
    let mut rest = Vec::new();
    for child in node.child_nodes() {
        if child.tag != "user" {
            rest.push(raw(child.clone(), Some(node)));
            continue;
        }
        match contact(child) {
            Ok(c) => list.contacts.push(c),
            Err(e) => rest.push(invalid(e, child, Some(node))),
        }
    }
    out.push(Event::Contacts(list));
    out.extend(rest);
}

fn chat(node: &Node) -> Result<Chat, HandleError> {
    const KNOWN: &[&str] = &[
        "jid",
        "t",
        "count",
        "spam",
        "mute",
        "pin",
        "archive",
        "read_only",
        "modify_tag",
        "name",
        "message",
        "old_jid",
        "new_jid",
    ];
    Ok(Chat {
        jid: jid_attr(node, "jid")?,
        t: num(node, "t"),
        count: num(node, "count").unwrap_or(0),
        spam: flag(node, "spam"),
        mute: num(node, "mute"),
        pin: num(node, "pin"),
        archive: flag(node, "archive"),
        read_only: flag(node, "read_only"),
        modify_tag: node.get_attr("modify_tag").map(str::to_owned),
        name: node.get_attr("name").map(str::to_owned),
        has_messages: flag(node, "message"),
        old_jid: opt_jid_attr(node, "old_jid")?,
        new_jid: opt_jid_attr(node, "new_jid")?,
        other: rest(node, KNOWN),
    })
}

fn chats(node: &Node, out: &mut Vec<Event>) {
    let mut list = ChatList {
        status: node.get_attr("status").map(str::to_owned),
        duplicate: flag(node, "duplicate"),
        chats: Vec::new(),
    };
    let mut rest = Vec::new();
    for child in node.child_nodes() {
        if child.tag != "chat" {
            rest.push(raw(child.clone(), Some(node)));
            continue;
        }
        match chat(child) {
            Ok(c) => list.chats.push(c),
            Err(e) => rest.push(invalid(e, child, Some(node))),
        }
    }
    out.push(Event::Chats(list));
    out.extend(rest);
}

fn action(node: &Node, add: AddKind, out: &mut Vec<Event>) {
    let children = node.child_nodes();
    if children.is_empty() {
        out.push(raw(node.clone(), None));
        return;
    }
    let mut batch = MessageBatch {
        add: add.clone(),
        last: flag(node, "last"),
        messages: Vec::new(),
    };
    let mut has_messages = false;
    let mut rest = Vec::new();
    for (index, child) in children.iter().enumerate() {
        let event = match child.tag.as_str() {
            "message" => {
                has_messages = true;
                match message(child) {
                    Ok(m) => {
                        if add == AddKind::Relay
                            && let Some(g) = stub_group_event(&m)
                        {
                            rest.push(Event::Group(g));
                        }
                        batch.messages.push(m);
                    }
                    Err(error) => rest.push(Event::BadMessage(BadMessage {
                        add: add.clone(),
                        index,
                        error,
                        node: child.clone(),
                    })),
                }
                continue;
            }
            "received" => received(child).map(Event::Receipt),
            "read" => jid_attr(child, "jid").map(|jid| {
                Event::ChatRead(ChatRead {
                    jid,
                    read: child.get_attr("type") != Some("false"),
                })
            }),
            "battery" => Ok(Event::Battery(Battery {
                percent: num(child, "value"),
                plugged: flag(child, "live"),
                powersave: flag(child, "powersave"),
            })),
            "user" => contact(child).map(Event::ContactUpdate),
            "chat" => chat_update(child).map(Event::ChatUpdate),
            _ => {
                rest.push(raw(child.clone(), Some(node)));
                continue;
            }
        };
        rest.push(event.unwrap_or_else(|e| invalid(e, child, Some(node))));
    }
    if has_messages {
        out.push(Event::Messages(batch));
    }
    out.extend(rest);
}

fn message(node: &Node) -> Result<Message, HandleError> {
    let Some(Content::Bytes(bytes)) = &node.content else {
        return Err(HandleError::NoBytes);
    };
    let decoded = waweb_proto::decode_web_message_info(bytes)?;
    let info = decoded.info;
    let key = &info.key;
    let chat_str = key
        .remote_jid
        .as_deref()
        .ok_or(HandleError::Missing("key.remoteJid"))?;
    let chat = Jid::parse(chat_str).map_err(|source| HandleError::Jid {
        field: "key.remoteJid",
        source,
    })?;
    let participant = match info.participant.as_deref().or(key.participant.as_deref()) {
        None | Some("") => None,
        Some(p) => Some(Jid::parse(p).map_err(|source| HandleError::Jid {
            field: "participant",
            source,
        })?),
    };
    Ok(Message {
        chat,
        id: key.id.clone().ok_or(HandleError::Missing("key.id"))?,
        from_me: key.from_me.unwrap_or(false),
        participant,
        timestamp: info.message_timestamp.unwrap_or(0),
        unknowns: decoded.unknowns,
        info,
    })
}

fn received(node: &Node) -> Result<Receipt, HandleError> {
    let ack = match node.get_attr("type") {
        None | Some("message") => Ack::Delivered,
        Some("error") => Ack::Error,
        Some("read") => Ack::Read,
        Some("played") => Ack::Played,
        Some(other) => {
            return Err(HandleError::Unexpected {
                field: "type",
                value: other.to_owned(),
            });
        }
    };
    let id = node
        .get_attr("index")
        .ok_or(HandleError::Missing("index"))?;
    Ok(Receipt {
        ids: vec![id.to_owned()],
        ack,
        from: None,
        to: opt_jid_attr(node, "jid")?,
        participant: opt_jid_attr(node, "participant")?,
        t: num(node, "t"),
        from_me: node.get_attr("owner").map(|o| o == "true"),
        source: ReceiptSource::Received,
    })
}

fn items(node: &Node) -> Vec<ItemRef> {
    node.child_nodes()
        .iter()
        .filter(|c| c.tag == "item")
        .filter_map(|c| {
            Some(ItemRef {
                id: c.get_attr("index")?.to_owned(),
                from_me: c.get_attr("owner").map(|o| o == "true"),
            })
        })
        .collect()
}

fn chat_update(node: &Node) -> Result<ChatUpdate, HandleError> {
    let jid = jid_attr(node, "jid")?;
    let kind = match node.get_attr("type").ok_or(HandleError::Missing("type"))? {
        "archive" => ChatUpdateKind::Archive,
        "unarchive" => ChatUpdateKind::Unarchive,
        "pin" => ChatUpdateKind::Pin(num(node, "pin")),
        "mute" => ChatUpdateKind::Mute(num(node, "mute")),
        "star" => ChatUpdateKind::Star(items(node)),
        "unstar" => ChatUpdateKind::Unstar(items(node)),
        "clear" => ChatUpdateKind::Clear(items(node)),
        "delete" => ChatUpdateKind::Delete,
        "spam" => ChatUpdateKind::Spam,
        other => ChatUpdateKind::Other(other.to_owned()),
    };
    Ok(ChatUpdate {
        jid,
        kind,
        attrs: node.attrs.clone(),
    })
}

/// The group notification a stub message stands for, if it is a group stub.
pub(crate) fn stub_group_event(m: &Message) -> Option<GroupNotification> {
    let stub = StubType::try_from(m.info.message_stub_type?).ok()?;
    if !m.chat.is_group() {
        return None;
    }
    let params = &m.info.message_stub_parameters;
    let jids = || {
        params
            .iter()
            .filter_map(|p| Jid::parse(p).ok())
            .collect::<Vec<_>>()
    };
    let first = params.first().cloned();
    let on = first.as_deref() == Some("on");
    let change = match stub {
        StubType::GroupCreate => GroupChange::Create {
            subject: first,
            creation: Some(m.timestamp),
            admins: Vec::new(),
            participants: Vec::new(),
            introduced: false,
        },
        StubType::GroupChangeSubject => GroupChange::Subject(first.unwrap_or_default()),
        StubType::GroupChangeDescription => GroupChange::Description(first),
        StubType::GroupChangeIcon => GroupChange::Icon,
        StubType::GroupChangeAnnounce => GroupChange::Announce(on),
        StubType::GroupChangeRestrict => GroupChange::Restrict(on),
        StubType::GroupParticipantAdd
        | StubType::GroupParticipantInvite
        | StubType::GroupParticipantAddRequestJoin => GroupChange::Add(jids()),
        StubType::GroupParticipantRemove => GroupChange::Remove(jids()),
        StubType::GroupParticipantPromote => GroupChange::Promote(jids()),
        StubType::GroupParticipantDemote => GroupChange::Demote(jids()),
        StubType::GroupParticipantLeave => GroupChange::Leave(jids()),
        StubType::GroupParticipantChangeNumber
        | StubType::GroupChangeInviteLink
        | StubType::GroupDelete => GroupChange::Other {
            action: stub.as_str_name().to_owned(),
            data: serde_json::Value::from(params.clone()),
        },
        _ => return None,
    };
    Some(GroupNotification {
        group: m.chat.clone(),
        actor: m.participant.clone(),
        change,
        t: Some(m.timestamp),
        source: GroupSource::Stub(m.id.clone()),
    })
}
