//! Token dictionaries: the data that maps tag bytes to well-known strings.
//!
//! The decoder and the writer never hard-code a token: they consult a [`Dictionary`], so another
//! token set can be supplied without touching the parser. [`Dictionary::legacy`] is the table of
//! the legacy web protocol; see `docs/binary-format.md` for its provenance.

use std::fmt;
use std::sync::OnceLock;

use crate::tag;

/// The single-byte token table of the legacy web protocol, indexed by tag byte.
///
/// Indices 0, 1 and 2 are not tokens (they are `LIST_EMPTY`, reserved and `STREAM_8`). Entries
/// 3..=150 are the 148 tokens in the whatsapp-web-reveng README; 151..=175 are the 25 tokens the
/// table grew by afterwards, as carried by go-whatsapp (`binary/token/token.go`) and Baileys 3.x.
/// whatsappweb-rs (`src/node_wire.rs`) stops at index 161 (`call-id`). The wire value at index 80
/// is `s.whatsapp.net`; the decoder shows it as `c.us` (see [`Dictionary::legacy`]).
pub const LEGACY_SINGLE_BYTE: [&str; 176] = [
    "",
    "",
    "",
    "200",
    "400",
    "404",
    "500",
    "501",
    "502",
    "action",
    "add", //
    "after",
    "archive",
    "author",
    "available",
    "battery",
    "before",
    "body", //
    "broadcast",
    "chat",
    "clear",
    "code",
    "composing",
    "contacts",
    "count", //
    "create",
    "debug",
    "delete",
    "demote",
    "duplicate",
    "encoding",
    "error", //
    "false",
    "filehash",
    "from",
    "g.us",
    "group",
    "groups_v2",
    "height",
    "id", //
    "image",
    "in",
    "index",
    "invis",
    "item",
    "jid",
    "kind",
    "last",
    "leave", //
    "live",
    "log",
    "media",
    "message",
    "mimetype",
    "missing",
    "modify",
    "name", //
    "notification",
    "notify",
    "out",
    "owner",
    "participant",
    "paused", //
    "picture",
    "played",
    "presence",
    "preview",
    "promote",
    "query",
    "raw", //
    "read",
    "receipt",
    "received",
    "recipient",
    "recording",
    "relay", //
    "remove",
    "response",
    "resume",
    "retry",
    "s.whatsapp.net",
    "seconds", //
    "set",
    "size",
    "status",
    "subject",
    "subscribe",
    "t",
    "text",
    "to",
    "true", //
    "type",
    "unarchive",
    "unavailable",
    "url",
    "user",
    "value",
    "web",
    "width", //
    "mute",
    "read_only",
    "admin",
    "creator",
    "short",
    "update",
    "powersave", //
    "checksum",
    "epoch",
    "block",
    "previous",
    "409",
    "replaced",
    "reason", //
    "spam",
    "modify_tag",
    "message_info",
    "delivery",
    "emoji",
    "title", //
    "description",
    "canonical-url",
    "matched-text",
    "star",
    "unstar", //
    "media_key",
    "filename",
    "identity",
    "unread",
    "page",
    "page_count", //
    "search",
    "media_message",
    "security",
    "call_log",
    "profile",
    "ciphertext", //
    "invite",
    "gif",
    "vcard",
    "frequent",
    "privacy",
    "blacklist",
    "whitelist", //
    "verify",
    "location",
    "document",
    "elapsed",
    "revoke_invite",
    "expiration", //
    "unsubscribe",
    "disable", // end of the seed's 151-entry list (index 150)
    "vname",
    "old_jid",
    "new_jid",
    "announcement",
    "locked",
    "prop",
    "label", //
    "color",
    "call",
    "offer",
    "call-id", // whatsappweb-rs ends here (index 161)
    "quick_reply",
    "sticker",
    "pay_t",
    "accept",
    "reject",
    "sticker_pack", //
    "invalid",
    "canceled",
    "missed",
    "connected",
    "result",
    "audio",
    "video",  //
    "recent", // go-whatsapp and Baileys 3.x end here (index 175)
];

/// Index of the legacy token `s.whatsapp.net`, shown as `c.us` after decoding.
pub const LEGACY_USER_SERVER_INDEX: u8 = 80;

/// A token found by [`Dictionary::index_of`]: where a string lives in the dictionary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenIndex {
    /// A single-byte token, written as this tag byte (3..=235).
    Single(u8),
    /// A double-byte token: `DICTIONARY_0 + dict`, then `index`.
    Double {
        /// Which of the four double-byte dictionaries (0..=3).
        dict: u8,
        /// The byte that follows the dictionary tag.
        index: u8,
    },
}

/// An error building a [`Dictionary`] from tables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DictionaryError {
    /// The single-byte table reaches into the structural tags (index 236 and up).
    #[error("single-byte table has {len} entries; at most 236 fit below DICTIONARY_0")]
    SingleTooLong {
        /// Entries given.
        len: usize,
    },
    /// A double-byte table has more than 256 entries.
    #[error("double-byte table {dict} has {len} entries; at most 256 fit")]
    DoubleTooLong {
        /// Which table.
        dict: usize,
        /// Entries given.
        len: usize,
    },
    /// An alias names a wire token that is not in the single-byte table.
    #[error("alias target {wire:?} is not a single-byte token")]
    AliasTargetMissing {
        /// The missing wire token.
        wire: &'static str,
    },
}

/// A token set: the single-byte table, four double-byte tables, and display aliases.
///
/// Tokens are `&'static str` so that decoded trees can hand them out without copying. Build a
/// custom set with [`Dictionary::new`] (leak it or keep it in a `static` to get `'static`).
pub struct Dictionary {
    single: &'static [&'static str],
    double: [&'static [&'static str]; 4],
    /// What each single-byte index is shown as (aliases applied).
    shown: Vec<&'static str>,
    /// Open-addressing hash table from string to token, for the writer.
    slots: Vec<Option<(&'static str, TokenIndex)>>,
    mask: usize,
    /// The longest token, to reject longer strings without hashing them.
    max_len: usize,
    /// Whether each tag byte is a single-byte token, for the decoder's hot path.
    is_single: [bool; 256],
}

impl fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dictionary")
            .field("single", &self.single.len())
            .field("double", &self.double.map(<[&str]>::len))
            .finish_non_exhaustive()
    }
}

/// FNV-1a, enough to spread a few hundred short tokens over a small table.
fn hash(s: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Truncation is intended: only the low bits index the table.
    h as usize
}

impl Dictionary {
    /// Builds a dictionary.
    ///
    /// `single[i]` is the token for tag byte `i`; empty strings mark indices that are not tokens
    /// (0..=2 always are not). `double[d][b]` is the token for `DICTIONARY_d, b`. `aliases` are
    /// `(shown, wire)` pairs: the wire token `wire` is shown as `shown` after decoding, and the
    /// writer encodes both strings as that token.
    pub fn new(
        single: &'static [&'static str],
        double: [&'static [&'static str]; 4],
        aliases: &[(&'static str, &'static str)],
    ) -> Result<Self, DictionaryError> {
        if single.len() > usize::from(tag::DICTIONARY_0) {
            return Err(DictionaryError::SingleTooLong { len: single.len() });
        }
        for (dict, table) in double.iter().enumerate() {
            if table.len() > 256 {
                return Err(DictionaryError::DoubleTooLong {
                    dict,
                    len: table.len(),
                });
            }
        }
        let mut shown: Vec<&'static str> = single.to_vec();
        let total = single.len() + double.iter().map(|t| t.len()).sum::<usize>() + aliases.len();
        let cap = (total * 2).next_power_of_two().max(16);
        let max_len = single
            .iter()
            .chain(double.iter().flat_map(|t| t.iter()))
            .chain(aliases.iter().map(|(a, _)| a))
            .map(|t| t.len())
            .max()
            .unwrap_or(0);
        let mut dict = Dictionary {
            single,
            double,
            shown: Vec::new(),
            slots: vec![None; cap],
            mask: cap - 1,
            max_len,
            is_single: [false; 256],
        };
        for (flag, (i, tok)) in dict.is_single.iter_mut().zip(single.iter().enumerate()) {
            *flag = i >= 3 && !tok.is_empty();
        }
        for (i, tok) in single.iter().enumerate() {
            if i >= 3 && !tok.is_empty() {
                // i < 236 was checked above.
                dict.insert(tok, TokenIndex::Single(i as u8));
            }
        }
        for (d, table) in double.iter().enumerate() {
            for (b, tok) in table.iter().enumerate() {
                if !tok.is_empty() {
                    dict.insert(
                        tok,
                        TokenIndex::Double {
                            dict: d as u8,
                            index: b as u8,
                        },
                    );
                }
            }
        }
        for &(alias, wire) in aliases {
            let Some(pos) = single.iter().position(|t| *t == wire).filter(|&p| p >= 3) else {
                return Err(DictionaryError::AliasTargetMissing { wire });
            };
            if let Some(slot) = shown.get_mut(pos) {
                *slot = alias;
            }
            dict.insert(alias, TokenIndex::Single(pos as u8));
        }
        dict.shown = shown;
        Ok(dict)
    }

    fn insert(&mut self, tok: &'static str, idx: TokenIndex) {
        let mut i = hash(tok) & self.mask;
        loop {
            match self.slots.get_mut(i) {
                Some(slot @ None) => {
                    *slot = Some((tok, idx));
                    return;
                }
                // The first occurrence of a duplicated token wins, as a linear search would.
                Some(Some((t, _))) if *t == tok => return,
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    /// The dictionary of the legacy web protocol: [`LEGACY_SINGLE_BYTE`], empty double-byte
    /// tables (every peer ships them empty), and `s.whatsapp.net` shown as `c.us`.
    pub fn legacy() -> &'static Dictionary {
        static LEGACY: OnceLock<Dictionary> = OnceLock::new();
        LEGACY.get_or_init(|| {
            match Dictionary::new(
                &LEGACY_SINGLE_BYTE,
                [&[], &[], &[], &[]],
                &[("c.us", "s.whatsapp.net")],
            ) {
                Ok(d) => d,
                // The legacy tables are fixed data checked by the unit tests below.
                Err(_) => unreachable_dictionary(),
            }
        })
    }

    /// The token shown for single-byte tag `tag`, if it is one.
    #[must_use]
    pub fn single(&self, tag: u8) -> Option<&'static str> {
        if tag < 3 {
            return None;
        }
        self.shown
            .get(usize::from(tag))
            .copied()
            .filter(|t| !t.is_empty())
    }

    /// Whether tag byte `tag` is a single-byte token of this dictionary.
    #[inline]
    #[must_use]
    pub fn is_single(&self, tag: u8) -> bool {
        // A u8 always indexes the 256-entry table.
        self.is_single
            .get(usize::from(tag))
            .copied()
            .unwrap_or(false)
    }

    /// The token for `DICTIONARY_dict`, `index`, if it is one.
    #[must_use]
    pub fn double(&self, dict: u8, index: u8) -> Option<&'static str> {
        self.double
            .get(usize::from(dict))
            .and_then(|t| t.get(usize::from(index)))
            .copied()
            .filter(|t| !t.is_empty())
    }

    /// The number of entries in the single-byte table (including the non-token indices 0..=2).
    #[must_use]
    pub fn single_len(&self) -> usize {
        self.single.len()
    }

    /// Where `s` lives in this dictionary, if it is a token (or an alias of one).
    #[must_use]
    pub fn index_of(&self, s: &str) -> Option<TokenIndex> {
        if s.len() > self.max_len || s.is_empty() {
            return None;
        }
        let mut i = hash(s) & self.mask;
        loop {
            match self.slots.get(i)? {
                None => return None,
                Some((t, idx)) if *t == s => return Some(*idx),
                Some(_) => i = (i + 1) & self.mask,
            }
        }
    }
}

#[cold]
fn unreachable_dictionary() -> Dictionary {
    // Only reachable if LEGACY_SINGLE_BYTE were edited into an invalid table; the tests catch it.
    Dictionary {
        single: &[],
        double: [&[], &[], &[], &[]],
        shown: Vec::new(),
        slots: vec![None; 16],
        mask: 15,
        max_len: 0,
        is_single: [false; 256],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_table_shape() {
        let d = Dictionary::legacy();
        assert_eq!(d.single_len(), 176);
        assert_eq!(d.single(3), Some("200"));
        assert_eq!(d.single(9), Some("action"));
        assert_eq!(d.single(52), Some("message"));
        assert_eq!(d.single(80), Some("c.us"));
        assert_eq!(d.single(150), Some("disable"));
        assert_eq!(d.single(161), Some("call-id"));
        assert_eq!(d.single(175), Some("recent"));
        assert_eq!(d.single(176), None);
        assert!(d.is_single(3) && d.is_single(175));
        assert!(!d.is_single(0) && !d.is_single(2) && !d.is_single(176) && !d.is_single(255));
        assert_eq!(d.single(2), None);
        assert_eq!(d.double(0, 0), None);
    }

    #[test]
    fn lookup_is_inverse_of_table() {
        let d = Dictionary::legacy();
        for i in 3..176u8 {
            let shown = d.single(i).unwrap();
            assert_eq!(d.index_of(shown), Some(TokenIndex::Single(i)), "{shown}");
        }
        assert_eq!(d.index_of("s.whatsapp.net"), Some(TokenIndex::Single(80)));
        assert_eq!(d.index_of("c.us"), Some(TokenIndex::Single(80)));
        assert_eq!(d.index_of("nope"), None);
        assert_eq!(d.index_of(""), None);
    }

    #[test]
    fn tokens_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for t in &LEGACY_SINGLE_BYTE[3..] {
            assert!(seen.insert(*t), "duplicate token {t}");
        }
    }

    #[test]
    fn custom_double_byte_tables_are_pluggable() {
        static DOUBLE: [&str; 2] = ["alpha", "beta"];
        let d = Dictionary::new(&LEGACY_SINGLE_BYTE, [&[], &DOUBLE, &[], &[]], &[]).unwrap();
        assert_eq!(d.double(1, 1), Some("beta"));
        assert_eq!(
            d.index_of("beta"),
            Some(TokenIndex::Double { dict: 1, index: 1 })
        );
        assert_eq!(d.single(80), Some("s.whatsapp.net"));
    }

    #[test]
    fn rejects_oversized_tables() {
        static BIG: [&str; 237] = [""; 237];
        assert_eq!(
            Dictionary::new(&BIG, [&[], &[], &[], &[]], &[]).unwrap_err(),
            DictionaryError::SingleTooLong { len: 237 }
        );
        assert!(matches!(
            Dictionary::new(
                &LEGACY_SINGLE_BYTE,
                [&[], &[], &[], &[]],
                &[("x", "no-such-token")]
            ),
            Err(DictionaryError::AliasTargetMissing { .. })
        ));
    }
}
