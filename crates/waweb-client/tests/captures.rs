//! The real captures of 2020 (`crates/waweb-binary/tests/vectors/captured-2020.hex`: decrypted
//! binary nodes published with ndunks/WaJs) run through the handler and the store: the contact
//! list, the chat list and the message batches must come out typed, with nothing raw or invalid.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use waweb_client::{AddKind, Event, Jid, Store, events_from_node};

fn captured() -> Vec<Vec<Event>> {
    include_str!("../../waweb-binary/tests/vectors/captured-2020.hex")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| events_from_node(&waweb_binary::decode_owned(&hex::decode(l).unwrap()).unwrap()))
        .collect()
}

#[test]
fn captures_come_out_typed() {
    let all = captured();
    assert_eq!(all.len(), 10);
    // Every node gives exactly one event: no raw, invalid or bad-message events.
    for (i, events) in all.iter().enumerate() {
        assert_eq!(events.len(), 1, "line {i}: {:?}", events.first());
    }
    let events: Vec<&Event> = all.iter().flatten().collect();

    // Lines 1-8: message batches.
    let batches: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Messages(b) => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(batches.len(), 8);
    assert_eq!(batches[0].add, AddKind::Last);
    assert_eq!(batches[0].messages.len(), 292);
    for b in &batches[1..7] {
        assert_eq!(b.add, AddKind::Before);
        assert!(!b.last);
        assert_eq!(b.messages.len(), 19);
    }
    assert_eq!(batches[7].add, AddKind::Before);
    assert!(batches[7].last);
    assert_eq!(batches[7].messages.len(), 4);
    let messages: Vec<_> = batches.iter().flat_map(|b| &b.messages).collect();
    assert_eq!(messages.len(), 410);
    assert!(
        messages
            .iter()
            .all(|m| !m.id.is_empty() && m.timestamp > 1_500_000_000)
    );
    assert_eq!(messages.iter().filter(|m| m.from_me).count(), 157);
    assert_eq!(
        messages.iter().filter(|m| m.chat.is_group()).count(),
        GROUP_MESSAGES
    );
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.info.message_stub_type.is_some())
            .count(),
        46
    );
    assert_eq!(batches[1].messages[0].id, "3A23CDC46DCED784F571");

    // Line 9: the contact list.
    let Event::Contacts(contacts) = events[8] else {
        panic!("{:?}", events[8])
    };
    assert_eq!(
        contacts.checksum.as_deref(),
        Some("1BE33034-E32C-40EA-BB66-554B81AF0AE7")
    );
    assert_eq!(contacts.contacts.len(), 901);
    assert_eq!(
        contacts
            .contacts
            .iter()
            .filter(|c| c.name.is_some())
            .count(),
        170
    );
    assert_eq!(
        contacts
            .contacts
            .iter()
            .filter(|c| c.notify.is_some())
            .count(),
        858
    );
    assert_eq!(
        contacts
            .contacts
            .iter()
            .filter(|c| c.vname.is_some())
            .count(),
        50
    );
    assert_eq!(contacts.contacts.iter().filter(|c| c.enterprise).count(), 4);
    assert_eq!(contacts.contacts[0].notify.as_deref(), Some("Andri Thomas"));

    // Line 10: the chat list.
    let Event::Chats(chats) = events[9] else {
        panic!("{:?}", events[9])
    };
    assert_eq!(chats.status.as_deref(), Some("992971"));
    assert_eq!(chats.chats.len(), 292);
    assert_eq!(chats.chats.iter().filter(|c| c.mute.is_some()).count(), 3);
    assert_eq!(chats.chats.iter().filter(|c| c.read_only).count(), 4);
    assert_eq!(chats.chats.iter().filter(|c| c.has_messages).count(), 16);
    assert_eq!(
        chats.chats.iter().filter(|c| c.jid.is_group()).count(),
        GROUP_CHATS
    );
    assert_eq!(chats.chats[0].name.as_deref(), Some("pak Denny"));
    assert_eq!(chats.chats[0].t, Some(1_588_913_596));
}

const GROUP_MESSAGES: usize = 68;
const GROUP_CHATS: usize = 26;

#[test]
fn captures_fill_the_store() {
    let mut store = Store::with_cap(50);
    for events in captured() {
        for e in &events {
            store.apply(e);
        }
    }
    assert_eq!(store.contact_count(), 901);
    assert_eq!(store.chats().len(), 292);
    assert!(
        store.unread_chats().is_empty(),
        "every captured chat has count 0"
    );
    let denny: Jid = "6281908224488@s.whatsapp.net".parse().unwrap();
    assert_eq!(
        store.chat(&denny).unwrap().name.as_deref(),
        Some("pak Denny")
    );
    let andri: Jid = "6287848212221@c.us".parse().unwrap();
    assert_eq!(store.contact_name(&andri), Some("Andri Thomas"));
    // Every stored message sits in a chat of the list, oldest first, within the cap.
    let stored: usize = store
        .chats()
        .iter()
        .map(|c| store.last_messages(&c.jid, usize::MAX).len())
        .sum();
    assert!(stored > 292 && stored <= 410, "{stored}");
    for chat in store.chats() {
        let msgs = store.last_messages(&chat.jid, usize::MAX);
        assert!(msgs.len() <= 50);
        assert!(msgs.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    }
}
