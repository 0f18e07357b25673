//! Arbitrary bytes through the inspector (`waweb_web::inspect`), as a received frame would reach
//! it: as a binary node (with `message` children decoded as protobufs) and as a JSON payload.
//! Nothing may panic, and without `secrets` the view must never show a secret it was given.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waweb_binary::{Node, Tree};
use waweb_session::{Direction, FrameRecord, RecordBody};
use waweb_web::inspect::record_json;

const SECRET: &str = "fuzz-secret-value";

fuzz_target!(|data: &[u8]| {
    // The bytes as a decoded node, and as the content of a `message` child.
    let mut nodes = vec![Node::new("action").children(vec![Node::new("message").bytes(data)])];
    if let Ok(tree) = Tree::decode(data) {
        nodes.push(tree.root().to_owned());
    }
    for node in nodes {
        let r = FrameRecord::new(
            Direction::In,
            Some("t".into()),
            data.len(),
            RecordBody::Node {
                node,
                metric: None,
                flags: None,
            },
        );
        let _ = record_json(&r, false).to_string();
        let _ = record_json(&r, true);
    }
    // The bytes as JSON, with a secret planted where `Conn` carries one.
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(obj) = value.as_object_mut() {
            obj.insert("secret".into(), SECRET.into());
        }
        let r = FrameRecord::new(Direction::In, None, data.len(), RecordBody::Json(value));
        let shown = record_json(&r, false).to_string();
        assert!(!shown.contains(SECRET), "a secret survived redaction");
    }
});
