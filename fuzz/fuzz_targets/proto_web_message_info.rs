//! Arbitrary bytes as the content of a `message` node: decoding a `WebMessageInfo` (with the
//! unknown-field report) must never panic, and whatever decodes must re-encode to something that
//! decodes to the same value. The helpers and JSON serialization must not panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waweb_proto::prost::Message as _;
use waweb_proto::proto::WebMessageInfo;

fuzz_target!(|data: &[u8]| {
    let _ = waweb_proto::unknowns("proto.WebMessageInfo", data);
    let Ok(decoded) = waweb_proto::decode_web_message_info(data) else {
        return;
    };
    let info = decoded.info;
    let bytes = info.encode_to_vec();
    let again = WebMessageInfo::decode(bytes.as_slice()).expect("re-encoded message decodes");
    // NaN != NaN: compare the encodings instead of the values.
    assert_eq!(again.encode_to_vec(), bytes, "encoding is not stable");
    let _ = info.text();
    let _ = info.kind();
    let _ = info.media();
    let _ = info.message.as_ref().and_then(|m| m.context_info());
    let _ = serde_json::to_string(&info);
});
