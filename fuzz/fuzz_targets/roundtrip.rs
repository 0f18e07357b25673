//! Whatever decodes must convert to the owned form, re-encode, and decode to the same tree (up
//! to the one documented normalisation: text spelled `s.whatsapp.net` is written as the token
//! that reads back as `c.us`); and the writer's output must be a fixed point
//! (encode(decode(b)) == b for canonical b).
#![no_main]

use libfuzzer_sys::fuzz_target;
use waweb_binary::{Content, Dictionary, Node, Tree, decode_owned, encode};

fn shown(s: &str) -> String {
    if s == "s.whatsapp.net" { "c.us".to_owned() } else { s.to_owned() }
}

fn shown_value(s: &str, content: bool) -> String {
    if s == "s.whatsapp.net" {
        return "c.us".to_owned();
    }
    match s.split_once('@') {
        Some((user, server)) if content || Dictionary::legacy().index_of(server).is_some() => {
            format!("{}@{}", shown(user), shown(server))
        }
        _ => s.to_owned(),
    }
}

fn normalize(n: &Node) -> Node {
    Node {
        tag: shown(&n.tag),
        attrs: n.attrs.iter().map(|(k, v)| (shown(k), shown_value(v, false))).collect(),
        content: n.content.as_ref().map(|c| match c {
            Content::List(l) => Content::List(l.iter().map(normalize).collect()),
            Content::Bytes(b) => Content::Bytes(b.clone()),
            Content::Text(t) => Content::Text(shown_value(t, true)),
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(tree) = Tree::decode(data) else { return };
    let owned = tree.root().to_owned();
    assert!(tree.root() == owned, "borrowed and owned forms disagree");
    let bytes = encode(&owned).expect("a decoded tree is always encodable");
    let again = decode_owned(&bytes).expect("the writer's output decodes");
    assert_eq!(again, normalize(&owned));
    assert_eq!(encode(&again).expect("encodable"), bytes, "canonical bytes are a fixed point");
});
