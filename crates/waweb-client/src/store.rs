//! An optional in-memory store kept from the events.

use std::collections::{HashMap, VecDeque};

use crate::event::{
    Ack, Battery, Chat, ChatUpdateKind, Contact, Event, GroupChange, Message, Presence,
};
use crate::jid::Jid;
use waweb_proto::proto::protocol_message::Type as ProtocolType;
use waweb_proto::proto::web_message_info::StubType;

/// Messages kept per chat unless [`Store::with_cap`] says otherwise.
pub const DEFAULT_MESSAGES_PER_CHAT: usize = 100;

#[derive(Clone, Debug)]
struct ChatEntry {
    chat: Chat,
    /// Oldest first, ordered by timestamp (ties in arrival order).
    messages: VecDeque<Message>,
}

/// Chats, contacts and the last messages of each chat, kept from [`Event`]s.
///
/// Feed it every event with [`Store::apply`]; ask it with [`Store::unread_chats`],
/// [`Store::last_messages`], [`Store::contact_name`] and friends. JIDs are compared in their
/// [normalized](Jid::normalized) form, so `…@c.us` and `…@s.whatsapp.net` are one chat. Each chat
/// keeps at most `cap` messages (the newest by timestamp).
#[derive(Clone, Debug)]
pub struct Store {
    cap: usize,
    chats: HashMap<Jid, ChatEntry>,
    contacts: HashMap<Jid, Contact>,
    presences: HashMap<Jid, Presence>,
    blocklist: Vec<Jid>,
    battery: Option<Battery>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty store keeping [`DEFAULT_MESSAGES_PER_CHAT`] messages per chat.
    #[must_use]
    pub fn new() -> Self {
        Store::with_cap(DEFAULT_MESSAGES_PER_CHAT)
    }

    /// An empty store keeping at most `cap` messages per chat (at least 1).
    #[must_use]
    pub fn with_cap(cap: usize) -> Self {
        Store {
            cap: cap.max(1),
            chats: HashMap::new(),
            contacts: HashMap::new(),
            presences: HashMap::new(),
            blocklist: Vec::new(),
            battery: None,
        }
    }

    fn entry(&mut self, jid: &Jid) -> &mut ChatEntry {
        let key = jid.normalized();
        self.chats.entry(key).or_insert_with(|| ChatEntry {
            chat: Chat::new(jid.clone()),
            messages: VecDeque::new(),
        })
    }

    /// Updates the store with one event. Events it keeps nothing of are ignored.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Contacts(list) => {
                for c in &list.contacts {
                    self.put_contact(c);
                }
            }
            Event::ContactUpdate(c) => self.put_contact(c),
            Event::Chats(list) => {
                for c in &list.chats {
                    let entry = self.entry(&c.jid);
                    entry.chat = c.clone();
                }
            }
            Event::Messages(batch) => {
                let live = matches!(batch.add, crate::AddKind::Relay);
                for m in &batch.messages {
                    self.put_message(m, live);
                }
            }
            Event::Receipt(r) => {
                for id in &r.ids {
                    self.set_status(r.to.as_ref(), r.from.as_ref(), id, r.ack);
                }
            }
            Event::ChatRead(read) => {
                self.entry(&read.jid).chat.count = if read.read { 0 } else { -1 };
            }
            Event::ChatUpdate(u) => {
                if matches!(u.kind, ChatUpdateKind::Delete) {
                    self.chats.remove(&u.jid.normalized());
                    return;
                }
                let entry = self.entry(&u.jid);
                match &u.kind {
                    ChatUpdateKind::Archive => entry.chat.archive = true,
                    ChatUpdateKind::Unarchive => entry.chat.archive = false,
                    ChatUpdateKind::Pin(at) => entry.chat.pin = *at,
                    ChatUpdateKind::Mute(until) => entry.chat.mute = *until,
                    // The chat now exists; the flag only when the node says so.
                    ChatUpdateKind::Spam
                        if u.attrs.iter().any(|(k, v)| k == "spam" && v == "true") =>
                    {
                        entry.chat.spam = true;
                    }
                    ChatUpdateKind::Clear(items) if items.is_empty() => entry.messages.clear(),
                    ChatUpdateKind::Clear(items) => entry
                        .messages
                        .retain(|m| !items.iter().any(|i| i.id == m.id)),
                    ChatUpdateKind::Star(items) | ChatUpdateKind::Unstar(items) => {
                        let star = matches!(u.kind, ChatUpdateKind::Star(_));
                        for m in entry.messages.iter_mut() {
                            if items.iter().any(|i| i.id == m.id) {
                                m.info.starred = Some(star);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Group(g) => match &g.change {
                GroupChange::Subject(s)
                | GroupChange::Create {
                    subject: Some(s), ..
                } => self.entry(&g.group).chat.name = Some(s.clone()),
                _ => {}
            },
            Event::Presence(p) => {
                let who = p.participant.as_ref().unwrap_or(&p.id).normalized();
                self.presences.insert(who, p.clone());
            }
            Event::Status(s) => {
                let c = self.contacts.entry(s.jid.normalized()).or_default();
                c.jid.get_or_insert_with(|| s.jid.clone());
                c.status = Some(s.status.clone());
            }
            Event::Blocklist(list) => self.blocklist = list.clone(),
            Event::Battery(b) => self.battery = Some(*b),
            _ => {}
        }
    }

    fn put_contact(&mut self, c: &Contact) {
        if let Some(jid) = &c.jid {
            let status = self
                .contacts
                .get(&jid.normalized())
                .and_then(|old| old.status.clone());
            let mut c = c.clone();
            c.status = c.status.or(status);
            self.contacts.insert(jid.normalized(), c.clone());
            if let Some(entry) = self.chats.get_mut(&jid.normalized())
                && entry.chat.name.is_none()
            {
                entry.chat.name = c.display_name().map(str::to_owned);
            }
        }
    }

    fn put_message(&mut self, m: &Message, live: bool) {
        let cap = self.cap;
        let entry = self.entry(&m.chat);
        if let Some(target) = revoked_id(m) {
            // "Delete for everyone": the target keeps its place but loses its content and becomes
            // a REVOKE stub, as on the phone; the protocol message itself is not kept.
            if let Some(old) = entry.messages.iter_mut().find(|o| o.id == target) {
                old.info.message = None;
                old.info.message_stub_type = Some(StubType::Revoke as i32);
            }
            return;
        }
        if let Some(old) = entry.messages.iter_mut().find(|o| o.id == m.id) {
            *old = m.clone();
            return;
        }
        let at = entry
            .messages
            .partition_point(|o| o.timestamp <= m.timestamp);
        entry.messages.insert(at, m.clone());
        while entry.messages.len() > cap {
            entry.messages.pop_front();
        }
        if live {
            if entry.chat.t.is_none_or(|t| t < m.timestamp) {
                entry.chat.t = Some(m.timestamp);
            }
            if !m.from_me && m.info.message.is_some() {
                entry.chat.count = entry.chat.count.max(0) + 1;
                // A new message unarchives the chat, as on the phone.
                entry.chat.archive = false;
            }
        }
    }

    fn set_status(&mut self, to: Option<&Jid>, from: Option<&Jid>, id: &str, ack: Ack) {
        for jid in [to, from].into_iter().flatten() {
            if let Some(entry) = self.chats.get_mut(&jid.normalized())
                && let Some(m) = entry.messages.iter_mut().find(|m| m.id == id)
            {
                if m.status().is_none_or(|s| s < ack) {
                    m.info.status = Some(ack.to_status());
                }
                return;
            }
        }
    }

    /// The chat with this JID.
    #[must_use]
    pub fn chat(&self, jid: &Jid) -> Option<&Chat> {
        self.chats.get(&jid.normalized()).map(|e| &e.chat)
    }

    /// All chats, newest activity first.
    #[must_use]
    pub fn chats(&self) -> Vec<&Chat> {
        let mut all: Vec<&Chat> = self.chats.values().map(|e| &e.chat).collect();
        all.sort_by(|a, b| b.t.cmp(&a.t).then_with(|| a.jid.cmp(&b.jid)));
        all
    }

    /// Chats with unread messages or marked unread (`count != 0`), newest activity first.
    #[must_use]
    pub fn unread_chats(&self) -> Vec<&Chat> {
        self.chats().into_iter().filter(|c| c.count != 0).collect()
    }

    /// The last `n` messages of a chat, oldest first.
    #[must_use]
    pub fn last_messages(&self, jid: &Jid, n: usize) -> Vec<&Message> {
        self.chats
            .get(&jid.normalized())
            .map(|e| {
                e.messages
                    .iter()
                    .skip(e.messages.len().saturating_sub(n))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A message by chat and id.
    #[must_use]
    pub fn message(&self, jid: &Jid, id: &str) -> Option<&Message> {
        self.chats
            .get(&jid.normalized())?
            .messages
            .iter()
            .find(|m| m.id == id)
    }

    /// The contact with this JID.
    #[must_use]
    pub fn contact(&self, jid: &Jid) -> Option<&Contact> {
        self.contacts.get(&jid.normalized())
    }

    /// The name to show for a JID: the contact's [display name](Contact::display_name), else the
    /// chat's name (a group's subject).
    #[must_use]
    pub fn contact_name(&self, jid: &Jid) -> Option<&str> {
        self.contact(jid)
            .and_then(Contact::display_name)
            .or_else(|| self.chat(jid).and_then(|c| c.name.as_deref()))
    }

    /// All contacts, in no particular order.
    pub fn contacts(&self) -> impl Iterator<Item = &Contact> {
        self.contacts.values()
    }

    /// Number of contacts.
    #[must_use]
    pub fn contact_count(&self) -> usize {
        self.contacts.len()
    }

    /// The last presence seen for a user.
    #[must_use]
    pub fn presence(&self, jid: &Jid) -> Option<&Presence> {
        self.presences.get(&jid.normalized())
    }

    /// The blocklist, as last pushed.
    #[must_use]
    pub fn blocklist(&self) -> &[Jid] {
        &self.blocklist
    }

    /// The phone's battery, as last pushed.
    #[must_use]
    pub fn battery(&self) -> Option<Battery> {
        self.battery
    }
}

/// The id of the message `m` revokes, when `m` is a REVOKE protocol message (also inside a
/// wrapper such as an ephemeral message).
fn revoked_id(m: &Message) -> Option<&str> {
    let msg = m.info.message.as_ref()?;
    let protocol = msg
        .protocol_message
        .as_ref()
        .or_else(|| msg.inner()?.protocol_message.as_ref())?;
    if protocol.r#type? != ProtocolType::Revoke as i32 {
        return None;
    }
    protocol.key.as_ref()?.id.as_deref()
}
