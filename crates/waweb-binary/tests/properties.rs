//! Property tests: for arbitrary valid nodes, `decode(encode(n))` is `n` (up to the two
//! documented normalisations), canonical bytes re-encode to themselves, and the borrowed and
//! owned forms agree.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use waweb_binary::dictionary::LEGACY_SINGLE_BYTE;
use waweb_binary::{
    Content, Dictionary, Node, TokenIndex, Tree, decode_owned, encode, packed::packable,
};

/// Strings of every shape the writer distinguishes.
fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        // tokens, including the aliased s.whatsapp.net
        (3usize..176).prop_map(|i| LEGACY_SINGLE_BYTE[i].to_owned()),
        Just("c.us".to_owned()),
        // nibble-packable, odd and even, up to the 254-character limit and beyond it
        "[0-9.-]{1,12}",
        "[0-9\\x00]{1,6}",
        "[0-9]{250,256}",
        // hex-packable
        "[0-9A-F]{1,40}",
        // JIDs with token servers, and an empty user
        (
            "[0-9]{5,15}",
            prop::sample::select(vec!["c.us", "s.whatsapp.net", "g.us", "broadcast"])
        )
            .prop_map(|(u, s)| format!("{u}@{s}")),
        prop::sample::select(vec!["c.us", "g.us"]).prop_map(|s| format!("@{s}")),
        // free text, with and without `@`, empty, multi-byte
        ".{0,20}",
        "[a-z]{1,8}@[a-z]{1,8}\\.com",
        Just(String::new()),
        // long text for BINARY_20
        "[a-z]{256,400}",
    ]
}

fn leaf() -> impl Strategy<Value = Node> {
    (
        any_string(),
        prop::collection::vec((any_string(), any_string()), 0..4),
        prop_oneof![
            Just(None),
            any_string().prop_map(|s| Some(Content::Text(s))),
            prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| Some(Content::Bytes(b))),
        ],
    )
        .prop_map(|(tag, attrs, content)| Node {
            tag,
            attrs,
            content,
        })
}

fn any_node() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        (
            any_string(),
            prop::collection::vec((any_string(), any_string()), 0..4),
            prop::collection::vec(inner, 0..8),
        )
            .prop_map(|(tag, attrs, children)| Node {
                tag,
                attrs,
                content: Some(Content::List(children)),
            })
    })
}

/// What a string looks like after decoding: tokens show their alias (`s.whatsapp.net` is shown
/// as `c.us`).
fn shown(s: &str) -> String {
    let d = Dictionary::legacy();
    match d.index_of(s) {
        Some(TokenIndex::Single(i)) => d.single(i).unwrap_or(s).to_owned(),
        _ => s.to_owned(),
    }
}

fn shown_value(s: &str, content: bool) -> String {
    let d = Dictionary::legacy();
    if d.index_of(s).is_some() {
        return shown(s);
    }
    match s.split_once('@') {
        Some((u, srv)) if content || d.index_of(srv).is_some() => {
            let user = if u.is_empty() {
                String::new()
            } else {
                shown(u)
            };
            format!("{user}@{}", shown(srv))
        }
        _ => s.to_owned(),
    }
}

/// Whether text content is written as a byte run (and so decodes as bytes): only text that
/// is no token, has no `@` and cannot be packed.
fn written_raw(s: &str) -> bool {
    let d = Dictionary::legacy();
    d.index_of(s).is_none() && !s.contains('@') && !s.is_empty() && packable(s).is_none()
}

/// The node the decoder returns for the bytes the writer makes of `n`.
fn normalize(n: &Node) -> Node {
    Node {
        tag: shown(&n.tag),
        attrs: n
            .attrs
            .iter()
            .map(|(k, v)| (shown(k), shown_value(v, false)))
            .collect(),
        content: n.content.as_ref().map(|c| match c {
            Content::List(l) => Content::List(l.iter().map(normalize).collect()),
            Content::Bytes(b) => Content::Bytes(b.clone()),
            Content::Text(t) if written_raw(t) => Content::Bytes(t.as_bytes().to_vec()),
            Content::Text(t) => Content::Text(shown_value(t, true)),
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decode_inverts_encode(n in any_node()) {
        let bytes = encode(&n).unwrap();
        prop_assert_eq!(decode_owned(&bytes).unwrap(), normalize(&n));
    }

    #[test]
    fn canonical_bytes_re_encode_to_themselves(n in any_node()) {
        let bytes = encode(&n).unwrap();
        let again = encode(&decode_owned(&bytes).unwrap()).unwrap();
        prop_assert_eq!(again, bytes);
    }

    #[test]
    fn borrowed_and_owned_forms_agree(n in any_node()) {
        let bytes = encode(&n).unwrap();
        let tree = Tree::decode(&bytes).unwrap();
        let owned = decode_owned(&bytes).unwrap();
        prop_assert!(tree.root() == owned);
        prop_assert_eq!(serde_json::to_string(&tree.root()).unwrap(), serde_json::to_string(&owned).unwrap());
        let from_json: Node = serde_json::from_str(&serde_json::to_string(&owned).unwrap()).unwrap();
        prop_assert_eq!(from_json, owned);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(tree) = Tree::decode(&bytes) {
            // Whatever decodes must convert and re-encode to something that decodes the same.
            let owned = tree.root().to_owned();
            let again = encode(&owned).unwrap();
            prop_assert_eq!(decode_owned(&again).unwrap(), owned);
        }
    }

    #[test]
    fn truncation_is_always_an_error(n in any_node(), cut in any::<prop::sample::Index>()) {
        let bytes = encode(&n).unwrap();
        let at = cut.index(bytes.len());
        prop_assert!(Tree::decode(&bytes[..at]).is_err());
    }
}
