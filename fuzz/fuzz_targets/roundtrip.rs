//! Whatever decodes must convert to the owned form, re-encode, and decode to the same tree; and
//! the writer's output must be a fixed point (encode(decode(b)) == b for canonical b).
#![no_main]

use libfuzzer_sys::fuzz_target;
use waweb_binary::{Tree, decode_owned, encode};

fuzz_target!(|data: &[u8]| {
    let Ok(tree) = Tree::decode(data) else { return };
    let owned = tree.root().to_owned();
    assert!(tree.root() == owned, "borrowed and owned forms disagree");
    let bytes = encode(&owned).expect("a decoded tree is always encodable");
    let again = decode_owned(&bytes).expect("the writer's output decodes");
    assert_eq!(again, owned);
    assert_eq!(encode(&again).expect("encodable"), bytes, "canonical bytes are a fixed point");
});
