//! Golden vectors built by hand from the format description (docs/binary-format.md): one per
//! tag and edge. Each canonical vector must decode to the expected node and re-encode to the same
//! bytes; non-canonical ones (accepted, but not what the writer produces) decode to the expected
//! node and re-encode to the canonical form given.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use waweb_binary::{
    Content, DecodeErrorKind, Decoder, Dictionary, Encoder, Node, Part, Tree, decode_owned, encode,
};

/// Token bytes used below (indices in the legacy table).
const ACTION: u8 = 0x09;
const MESSAGE: u8 = 0x34;
const TYPE: u8 = 0x5b;
const RELAY: u8 = 0x4b;
const JID: u8 = 0x2d;
const ID: u8 = 0x27;
const USER_SERVER: u8 = 0x50; // s.whatsapp.net, shown as c.us
const G_US: u8 = 0x23;

fn n(tag: &str) -> Node {
    Node::new(tag)
}

#[track_caller]
fn canonical(bytes: &[u8], expected: &Node) {
    let decoded = decode_owned(bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&decoded, expected);
    let tree = Tree::decode(bytes).unwrap();
    assert!(tree.root() == *expected, "borrowed form disagrees");
    assert_eq!(encode(expected).unwrap(), bytes, "re-encoding differs");
}

#[track_caller]
fn non_canonical(bytes: &[u8], expected: &Node, canonical_bytes: &[u8]) {
    assert_eq!(&decode_owned(bytes).unwrap(), expected);
    assert_eq!(encode(expected).unwrap(), canonical_bytes);
    assert_eq!(&decode_owned(canonical_bytes).unwrap(), expected);
}

#[track_caller]
fn error(bytes: &[u8], offset: usize, kind: DecodeErrorKind) {
    let e = Tree::decode(bytes).unwrap_err();
    assert_eq!((e.offset, e.kind), (offset, kind));
}

#[test]
fn single_byte_token_description() {
    // LIST_8 size 1: description only.
    canonical(&[0xf8, 0x01, ACTION], &n("action"));
}

#[test]
fn token_attribute() {
    // LIST_8 size 3: description, one key/value pair, no content.
    canonical(
        &[0xf8, 0x03, ACTION, TYPE, RELAY],
        &n("action").attr("type", "relay"),
    );
}

#[test]
fn list_empty_content() {
    canonical(&[0xf8, 0x02, ACTION, 0x00], &n("action").children(vec![]));
}

#[test]
fn list_8_children() {
    canonical(
        &[
            0xf8, 0x02, ACTION, 0xf8, 0x02, 0xf8, 0x01, MESSAGE, 0xf8, 0x01, MESSAGE,
        ],
        &n("action").children(vec![n("message"), n("message")]),
    );
}

#[test]
fn list_16_children() {
    // 256 children do not fit a LIST_8 count: LIST_16 with a big-endian count.
    let mut bytes = vec![0xf8, 0x02, ACTION, 0xf9, 0x01, 0x00];
    for _ in 0..256 {
        bytes.extend_from_slice(&[0xf8, 0x01, MESSAGE]);
    }
    canonical(&bytes, &n("action").children(vec![n("message"); 256]));
}

#[test]
fn list_16_header_is_accepted_but_not_canonical() {
    non_canonical(
        &[0xf9, 0x00, 0x01, ACTION],
        &n("action"),
        &[0xf8, 0x01, ACTION],
    );
}

#[test]
fn binary_8_content() {
    canonical(
        &[0xf8, 0x02, MESSAGE, 0xfc, 0x03, 1, 2, 3],
        &n("message").bytes(vec![1, 2, 3]),
    );
    canonical(
        &[0xf8, 0x02, MESSAGE, 0xfc, 0x00],
        &n("message").bytes(vec![]),
    );
}

#[test]
fn binary_20_content() {
    let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let mut bytes = vec![0xf8, 0x02, MESSAGE, 0xfd, 0x00, 0x01, 0x2c];
    bytes.extend_from_slice(&payload);
    canonical(&bytes, &n("message").bytes(payload.clone()));
    // Int20 ignores the top nibble of its first byte.
    let mut dirty = vec![0xf8, 0x02, MESSAGE, 0xfd, 0xf0, 0x01, 0x2c];
    dirty.extend_from_slice(&payload);
    non_canonical(&dirty, &n("message").bytes(payload), &bytes);
}

#[test]
fn binary_20_largest_length() {
    let payload = vec![7u8; (1 << 20) - 1];
    let mut bytes = vec![0xf8, 0x02, MESSAGE, 0xfd, 0x0f, 0xff, 0xff];
    bytes.extend_from_slice(&payload);
    canonical(&bytes, &n("message").bytes(payload));
}

#[test]
fn binary_32_content() {
    let payload = vec![0x5au8; 1 << 20];
    let mut bytes = vec![0xf8, 0x02, MESSAGE, 0xfe, 0x00, 0x10, 0x00, 0x00];
    bytes.extend_from_slice(&payload);
    canonical(&bytes, &n("message").bytes(payload));
    non_canonical(
        &[0xf8, 0x02, MESSAGE, 0xfe, 0, 0, 0, 2, 9, 9],
        &n("message").bytes(vec![9, 9]),
        &[0xf8, 0x02, MESSAGE, 0xfc, 2, 9, 9],
    );
}

#[test]
fn binary_text_attribute() {
    canonical(
        &[
            0xf8, 0x03, MESSAGE, ID, 0xfc, 0x05, b'h', b'e', b'l', b'l', b'o',
        ],
        &n("message").attr("id", "hello"),
    );
    canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xfc, 0x00],
        &n("message").attr("id", ""),
    );
}

#[test]
fn nibble_8_even_and_odd() {
    canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xff, 0x01, 0x12],
        &n("message").attr("id", "12"),
    );
    // Odd length: high bit of the length byte set, last nibble 0xF padding.
    canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xff, 0x82, 0x12, 0x3f],
        &n("message").attr("id", "123"),
    );
    // `-` is nibble 10, `.` is nibble 11.
    canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xff, 0x83, 0x1a, 0x2b, 0x3f],
        &n("message").attr("id", "1-2.3"),
    );
    // Any pad nibble is accepted under the odd flag.
    non_canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xff, 0x81, 0x70],
        &n("message").attr("id", "7"),
        &[0xf8, 0x03, MESSAGE, ID, 0xff, 0x81, 0x7f],
    );
}

#[test]
fn nibble_15_inside_a_string_is_nul() {
    // The seed maps nibble 15 to `\0`; inside a string (not under the odd flag) it is kept, and
    // the writer packs `\0` back as nibble 15.
    canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xff, 0x01, 0x1f],
        &n("message").attr("id", "1\0"),
    );
}

/// Regression (found by the `roundtrip` fuzz target): text content must come back as text, so
/// every form the decoder accepts in content position has to be writable as such.
#[test]
fn decoded_text_content_re_encodes_as_text() {
    // NIBBLE_8 "3\05": nibble 15 in the middle of text content.
    canonical(
        &[0xf8, 0x02, MESSAGE, 0xff, 0x82, 0x3f, 0x5f],
        &n("message").text("3\u{0}5"),
    );
    // A JID pair whose server is not a token (here a byte run "x").
    canonical(
        &[
            0xf8, 0x02, MESSAGE, 0xfa, 0xff, 0x01, 0x12, 0xfc, 0x01, b'x',
        ],
        &n("message").text("12@x"),
    );
    // The empty packed string.
    canonical(&[0xf8, 0x02, MESSAGE, 0xff, 0x00], &n("message").text(""));
    // A JID whose user part (a byte run) holds an `@`: borrowed and owned forms must agree.
    let bytes = [
        0xf8, 0x03, MESSAGE, ID, 0xfa, 0xfc, 0x03, b'a', b'@', b'b', 0x61,
    ];
    let tree = Tree::decode(&bytes).unwrap();
    assert_eq!(tree.root().attr("id").unwrap().to_string(), "a@b@web");
    assert!(tree.root() == n("message").attr("id", "a@b@web"));
    non_canonical(
        &bytes,
        &n("message").attr("id", "a@b@web"),
        &[
            0xf8, 0x03, MESSAGE, ID, 0xfc, 0x07, b'a', b'@', b'b', b'@', b'w', b'e', b'b',
        ],
    );
    // The same strings as attribute values stay plain text, as the server writes them.
    canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xfc, 0x04, b'1', b'2', b'@', b'x'],
        &n("message").attr("id", "12@x"),
    );
}

#[test]
fn hex_8_even_and_odd() {
    canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xfb, 0x02, 0x3e, 0xb0],
        &n("message").attr("id", "3EB0"),
    );
    // Odd HEX_8 is padded with 0, as the real server does.
    canonical(
        &[0xf8, 0x03, MESSAGE, ID, 0xfb, 0x82, 0xab, 0xc0],
        &n("message").attr("id", "ABC"),
    );
}

#[test]
fn jid_pair() {
    canonical(
        &[
            0xf8,
            0x03,
            MESSAGE,
            JID,
            0xfa,
            0xff,
            0x82,
            0x12,
            0x3f,
            USER_SERVER,
        ],
        &n("message").attr("jid", "123@c.us"),
    );
    // A group JID: creator-timestamp packed, server g.us.
    canonical(
        &[0xf8, 0x03, MESSAGE, JID, 0xfa, 0xff, 0x02, 0x12, 0xa3, G_US],
        &n("message").attr("jid", "12-3@g.us"),
    );
}

#[test]
fn jid_pair_with_empty_user() {
    canonical(
        &[0xf8, 0x03, MESSAGE, JID, 0xfa, 0x00, USER_SERVER],
        &n("message").attr("jid", "@c.us"),
    );
}

#[test]
fn text_content_forms() {
    canonical(&[0xf8, 0x02, MESSAGE, RELAY], &n("message").text("relay"));
    canonical(
        &[0xf8, 0x02, MESSAGE, 0xff, 0x01, 0x42],
        &n("message").text("42"),
    );
    canonical(
        &[0xf8, 0x02, MESSAGE, 0xfa, 0xff, 0x01, 0x12, USER_SERVER],
        &n("message").text("12@c.us"),
    );
}

#[test]
fn seed_user_server_token_is_shown_as_c_us() {
    let node = decode_owned(&[0xf8, 0x03, MESSAGE, ID, USER_SERVER]).unwrap();
    assert_eq!(node.get_attr("id"), Some("c.us"));
    // Both spellings encode to the one token.
    assert_eq!(
        encode(&n("message").attr("id", "s.whatsapp.net")).unwrap(),
        [0xf8, 0x03, MESSAGE, ID, USER_SERVER]
    );
}

#[test]
fn double_byte_tokens_from_a_pluggable_dictionary() {
    static DOUBLE_0: [&str; 2] = ["alpha", "beta"];
    static DOUBLE_3: [&str; 1] = ["omega"];
    let dict: &'static Dictionary = Box::leak(Box::new(
        Dictionary::new(
            &waweb_binary::dictionary::LEGACY_SINGLE_BYTE,
            [&DOUBLE_0, &[], &[], &DOUBLE_3],
            &[],
        )
        .unwrap(),
    ));
    let bytes = [0xf8, 0x03, 0xec, 0x01, 0xef, 0x00, 0xec, 0x00];
    let tree = Decoder::new().with_dictionary(dict).decode(&bytes).unwrap();
    let node = tree.root().to_owned();
    assert_eq!(node, n("beta").attr("omega", "alpha"));
    assert_eq!(
        Encoder::new().with_dictionary(dict).to_vec(&node).unwrap(),
        bytes
    );
    // The legacy dictionary has no double-byte tokens: a typed error, not a panic.
    error(
        &bytes,
        2,
        DecodeErrorKind::UnknownToken {
            part: Part::Description,
            tag: 0xec,
            index: 1,
        },
    );
}

#[test]
fn attributes_keep_wire_order() {
    let node = n("chat")
        .attr("type", "x")
        .attr("jid", "1@c.us")
        .attr("count", "3")
        .attr("t", "9");
    let bytes = encode(&node).unwrap();
    let tree = Tree::decode(&bytes).unwrap();
    let keys: Vec<String> = tree.root().attrs().map(|(k, _)| k.to_string()).collect();
    assert_eq!(keys, ["type", "jid", "count", "t"]);
    assert_eq!(tree.root().attr("count").unwrap().to_string(), "3");
}

#[test]
fn json_form_matches_the_seed_arrays() {
    let bytes = [
        0xf8, 0x02, ACTION, 0xf8, 0x01, 0xf8, 0x04, MESSAGE, ID, 0xfb, 0x02, 0x3e, 0xb0, 0xfc,
        0x02, 0x0a, 0x00,
    ];
    let tree = Tree::decode(&bytes).unwrap();
    let json = serde_json::to_string(&tree.root()).unwrap();
    assert_eq!(
        json,
        r#"["action",{},[["message",{"id":"3EB0"},{"hex":"0a00"}]]]"#
    );
    let owned: Node = serde_json::from_str(&json).unwrap();
    assert_eq!(owned, tree.root().to_owned());
    assert_eq!(serde_json::to_string(&owned).unwrap(), json);
    let text: Node = serde_json::from_str(r#"["message",null,"relay"]"#).unwrap();
    assert_eq!(text.content, Some(Content::Text("relay".into())));
    assert!(serde_json::from_str::<Node>(r#"["m",{},{"hex":"zz"}]"#).is_err());
}

#[test]
fn errors_name_what_and_where() {
    use DecodeErrorKind as K;
    error(
        &[],
        0,
        K::Truncated {
            part: Part::NodeHeader,
            needed: 1,
            available: 0,
        },
    );
    // One attribute needs at least two bytes (key and value tags): checked before reading it.
    error(
        &[0xf8, 0x03, ACTION, TYPE],
        3,
        K::LengthExceedsInput {
            part: Part::AttributeKey,
            declared: 2,
            available: 1,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, TYPE, 0xfc],
        5,
        K::Truncated {
            part: Part::AttributeValue,
            needed: 1,
            available: 0,
        },
    );
    error(
        &[0xf8, 0x01, ACTION, 0x00],
        3,
        K::TrailingBytes { count: 1 },
    );
    error(&[0xf8, 0x00], 0, K::EmptyNodeHeader);
    error(&[0x00], 0, K::EmptyNodeHeader);
    error(
        &[ACTION],
        0,
        K::NotAList {
            part: Part::NodeHeader,
            tag: ACTION,
        },
    );
    error(
        &[0xf8, 0x01, 0x02],
        2,
        K::InvalidTag {
            part: Part::Description,
            tag: 2,
        },
    );
    error(
        &[0xf8, 0x01, 0x01],
        2,
        K::InvalidTag {
            part: Part::Description,
            tag: 1,
        },
    );
    error(
        &[0xf8, 0x01, 0xf0],
        2,
        K::InvalidTag {
            part: Part::Description,
            tag: 0xf0,
        },
    );
    error(
        &[0xf8, 0x01, 176],
        2,
        K::UnknownToken {
            part: Part::Description,
            tag: 176,
            index: 176,
        },
    );
    error(
        &[0xf8, 0x01, 0x00],
        2,
        K::MissingString {
            part: Part::Description,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, TYPE, 0x00],
        4,
        K::MissingString {
            part: Part::AttributeValue,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, TYPE, 0xff, 0x01, 0xc1],
        4,
        K::InvalidNibble {
            part: Part::AttributeValue,
            nibble: 12,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, TYPE, 0xff, 0x01, 0x1e],
        4,
        K::InvalidNibble {
            part: Part::AttributeValue,
            nibble: 14,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, TYPE, 0xff, 0x80],
        4,
        K::OddEmptyPacked {
            part: Part::AttributeValue,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, TYPE, 0xfc, 0x01, 0xff],
        4,
        K::InvalidUtf8 {
            part: Part::AttributeValue,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, 0xfc, 0x01, 0xc3, TYPE],
        3,
        K::InvalidUtf8 {
            part: Part::AttributeKey,
        },
    );
    error(
        &[0xf8, 0x01, 0xfa, 0x00, USER_SERVER],
        2,
        K::JidNotAllowed {
            part: Part::Description,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, TYPE, 0xfa, 0xfa],
        5,
        K::JidNotAllowed {
            part: Part::JidUser,
        },
    );
    error(
        &[0xf8, 0x03, ACTION, TYPE, 0xfa, 0x00, 0x00],
        6,
        K::MissingString {
            part: Part::JidServer,
        },
    );
    // A length prefix claiming 4 GiB: rejected before anything is allocated.
    error(
        &[0xf8, 0x02, MESSAGE, 0xfe, 0xff, 0xff, 0xff, 0xff],
        8,
        K::LengthExceedsInput {
            part: Part::Content,
            declared: 0xffff_ffff,
            available: 0,
        },
    );
    error(
        &[0xf8, 0x02, MESSAGE, 0xfd, 0x0f, 0xff, 0xff, 1, 2],
        7,
        K::LengthExceedsInput {
            part: Part::Content,
            declared: 0xf_ffff,
            available: 2,
        },
    );
    // A LIST_16 claiming 65535 children in six bytes.
    error(
        &[0xf8, 0x02, ACTION, 0xf9, 0xff, 0xff],
        3,
        K::LengthExceedsInput {
            part: Part::ListSize,
            declared: 65535 * 3,
            available: 0,
        },
    );
    error(
        &[0xf8, 0x02, ACTION, 0xf9, 0xff],
        4,
        K::Truncated {
            part: Part::ListSize,
            needed: 2,
            available: 1,
        },
    );
    error(
        &[0xf8, 0x02, MESSAGE, 0xfd, 0x00],
        4,
        K::Truncated {
            part: Part::Content,
            needed: 3,
            available: 1,
        },
    );
    error(
        &[0xf8, 0x03, MESSAGE, ID, 0xff, 0x03, 0x12],
        6,
        K::Truncated {
            part: Part::AttributeValue,
            needed: 3,
            available: 1,
        },
    );
}

#[test]
fn nesting_depth_is_bounded_and_configurable() {
    // depth levels of action > action > ... each with one child.
    fn nested(depth: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for _ in 0..depth - 1 {
            bytes.extend_from_slice(&[0xf8, 0x02, ACTION, 0xf8, 0x01]);
        }
        bytes.extend_from_slice(&[0xf8, 0x01, ACTION]);
        bytes
    }
    assert!(Tree::decode(&nested(64)).is_ok());
    let e = Tree::decode(&nested(65)).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::TooDeep { limit: 64 });
    assert!(Decoder::new().with_max_depth(8).decode(&nested(8)).is_ok());
    assert!(Decoder::new().with_max_depth(8).decode(&nested(9)).is_err());
    // A hostile 100 000-level input fails fast instead of overflowing the stack.
    assert!(matches!(
        Tree::decode(&nested(100_000)).unwrap_err().kind,
        DecodeErrorKind::TooDeep { .. }
    ));
}

#[test]
fn writer_limits_are_typed_errors() {
    let wide = Node {
        tag: "a".into(),
        attrs: vec![("k".into(), "v".into()); 40_000],
        content: None,
    };
    assert!(matches!(
        encode(&wide),
        Err(waweb_binary::EncodeError::TooManyAttributes { .. })
    ));
    let many = n("a").children(vec![n("b"); 70_000]);
    assert!(matches!(
        encode(&many),
        Err(waweb_binary::EncodeError::TooManyChildren { .. })
    ));
    let mut deep = n("leaf");
    for _ in 0..70 {
        deep = n("a").children(vec![deep]);
    }
    assert!(matches!(
        encode(&deep),
        Err(waweb_binary::EncodeError::TooDeep { limit: 64 })
    ));
}

#[test]
fn writes_into_bytes_mut() {
    let node = n("action").attr("type", "relay");
    let mut buf = bytes::BytesMut::new();
    Encoder::new().encode(&node, &mut buf).unwrap();
    assert_eq!(&buf[..], &[0xf8, 0x03, ACTION, TYPE, RELAY]);
}
