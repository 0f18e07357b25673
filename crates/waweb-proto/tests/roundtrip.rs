//! Round trips of every message kind through the protobuf wire format and through JSON.
//!
//! `every_kind_round_trips` builds one richly populated `Message` per kind (every field of the
//! schema's `Message` is covered, as the test checks) from JSON written with the schema's names;
//! the proptests then vary the values of the most used kinds at random.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use prost::Message as _;
use serde_json::{Value, json};
use waweb_proto::MessageKind;
use waweb_proto::proto::{
    AudioMessage, ContactMessage, ContactsArrayMessage, ContextInfo, DocumentMessage,
    ExtendedTextMessage, GroupInviteMessage, ImageMessage, LiveLocationMessage, LocationMessage,
    Message, MessageKey, ProtocolMessage, StickerMessage, VideoMessage, WebMessageInfo,
};

/// Asserts that `value` survives protobuf and JSON and returns its encoding.
fn assert_round_trips<T>(value: &T) -> Vec<u8>
where
    T: prost::Message
        + Default
        + PartialEq
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let bytes = value.encode_to_vec();
    let decoded = T::decode(bytes.as_slice()).expect("decodes its own encoding");
    assert_eq!(&decoded, value, "protobuf round trip");
    assert_eq!(decoded.encode_to_vec(), bytes, "encoding is stable");
    let json = serde_json::to_string(value).expect("serializes");
    let back: T = serde_json::from_str(&json).expect("deserializes its own JSON");
    assert_eq!(&back, value, "JSON round trip: {json}");
    bytes
}

const JID: &str = "491701234567@s.whatsapp.net";
const B64_32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn context() -> Value {
    json!({
        "stanzaId": "3EB0AABBCCDD", "participant": JID, "remoteJid": "123-456@g.us",
        "quotedMessage": { "conversation": "the quoted text" },
        "mentionedJid": [JID, "491709999999@s.whatsapp.net"],
        "conversionSource": "src", "conversionData": "AQI=", "conversionDelaySeconds": 3,
        "forwardingScore": 2, "isForwarded": true,
        "quotedAd": { "advertiserName": "ad", "mediaType": 1, "jpegThumbnail": "AQ==", "caption": "c" },
        "placeholderKey": { "remoteJid": JID, "fromMe": false, "id": "ABC" },
        "expiration": 604800, "ephemeralSettingTimestamp": 1600000000, "ephemeralSharedSecret": B64_32,
        "externalAdReply": { "title": "t", "body": "b", "mediaType": 2, "thumbnailUrl": "u",
            "mediaUrl": "m", "thumbnail": "AQ==", "sourceType": "s", "sourceId": "i", "sourceUrl": "r" },
        "entryPointConversionSource": "e", "entryPointConversionApp": "a",
        "entryPointConversionDelaySeconds": 1
    })
}

fn media(extra: Value) -> Value {
    let mut base = json!({
        "url": "https://mmg.whatsapp.net/d/f/abc.enc", "mimetype": "image/jpeg",
        "fileSha256": B64_32, "fileLength": 12345, "mediaKey": B64_32, "fileEncSha256": B64_32,
        "directPath": "/v/t62/abc.enc", "mediaKeyTimestamp": 1600000000, "contextInfo": context()
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    base
}

fn key() -> Value {
    json!({ "remoteJid": JID, "fromMe": true, "id": "3EB0C0FFEE", "participant": JID })
}

fn hsm() -> Value {
    json!({ "namespace": "ns", "elementName": "el", "params": ["a", "b"], "fallbackLg": "en",
        "fallbackLc": "US", "deterministicLg": "en", "deterministicLc": "GB",
        "localizableParams": [
            { "default": "1 EUR", "paramOneof": { "currency": { "currencyCode": "EUR", "amount1000": 1000 } } },
            { "default": "today", "paramOneof": { "dateTime": { "datetimeOneof": { "component": {
                "dayOfWeek": 1, "year": 2020, "month": 3, "dayOfMonth": 12, "hour": 10, "minute": 5,
                "calendar": 1 } } } } },
            { "paramOneof": { "dateTime": { "datetimeOneof": { "unixEpoch": { "timestamp": 1584004403 } } } } }
        ] })
}

/// One richly populated message per kind, keyed by the schema's field name of `Message`.
fn every_kind() -> Vec<(&'static str, MessageKind, Value)> {
    use MessageKind as K;
    vec![
        ("conversation", K::Conversation, json!("hello")),
        (
            "senderKeyDistributionMessage",
            K::SenderKeyDistribution,
            json!({ "groupId": "123-456@g.us", "axolotlSenderKeyDistributionMessage": B64_32 }),
        ),
        (
            "imageMessage",
            K::Image,
            media(json!({ "caption": "a photo", "height": 480, "width": 640,
            "interactiveAnnotations": [{ "polygonVertices": [{ "x": 0.5, "y": 0.25, "xDeprecated": 1, "yDeprecated": 2 }],
                "action": { "location": { "degreesLatitude": 52.5, "degreesLongitude": 13.4, "name": "Berlin" } } }],
            "jpegThumbnail": "AQID", "firstScanSidecar": "AQ==", "firstScanLength": 7, "experimentGroupId": 1,
            "scansSidecar": "AQ==", "scanLengths": [1, 2, 3], "midQualityFileSha256": B64_32,
            "midQualityFileEncSha256": B64_32, "viewOnce": false, "thumbnailDirectPath": "/t",
            "thumbnailSha256": B64_32, "thumbnailEncSha256": B64_32 })),
        ),
        (
            "contactMessage",
            K::Contact,
            json!({ "displayName": "Alice",
            "vcard": "BEGIN:VCARD\nVERSION:3.0\nFN:Alice\nEND:VCARD", "contextInfo": context() }),
        ),
        (
            "locationMessage",
            K::Location,
            json!({ "degreesLatitude": -33.8688, "degreesLongitude": 151.2093,
            "name": "Sydney", "address": "NSW", "url": "https://example.org", "isLive": false,
            "accuracyInMeters": 10, "speedInMps": 1.5, "degreesClockwiseFromMagneticNorth": 90,
            "comment": "here", "jpegThumbnail": "AQ==", "contextInfo": context() }),
        ),
        (
            "extendedTextMessage",
            K::ExtendedText,
            json!({ "text": "see https://example.org",
            "matchedText": "https://example.org", "canonicalUrl": "https://example.org/",
            "description": "d", "title": "t", "textArgb": 4294967295u32, "backgroundArgb": 4278190080u32,
            "font": 3, "previewType": 1, "jpegThumbnail": "AQ==", "contextInfo": context(),
            "doNotPlayInline": true, "thumbnailDirectPath": "/t", "thumbnailSha256": B64_32,
            "thumbnailEncSha256": B64_32, "mediaKey": B64_32, "mediaKeyTimestamp": 1,
            "thumbnailHeight": 100, "thumbnailWidth": 200 }),
        ),
        (
            "documentMessage",
            K::Document,
            media(json!({ "mimetype": "application/pdf", "title": "Report",
            "pageCount": 3, "fileName": "report.pdf", "contactVcard": false, "thumbnailDirectPath": "/t",
            "thumbnailSha256": B64_32, "thumbnailEncSha256": B64_32, "jpegThumbnail": "AQ==",
            "thumbnailHeight": 10, "thumbnailWidth": 20 })),
        ),
        (
            "audioMessage",
            K::Audio,
            media(json!({ "mimetype": "audio/ogg; codecs=opus", "seconds": 12,
            "ptt": true, "streamingSidecar": "AQID" })),
        ),
        (
            "videoMessage",
            K::Video,
            media(
                json!({ "mimetype": "video/mp4", "seconds": 30, "caption": "clip",
            "gifPlayback": true, "height": 720, "width": 1280, "interactiveAnnotations": [],
            "jpegThumbnail": "AQ==", "streamingSidecar": "AQ==", "gifAttribution": 2, "viewOnce": true,
            "thumbnailDirectPath": "/t", "thumbnailSha256": B64_32, "thumbnailEncSha256": B64_32 }),
            ),
        ),
        (
            "call",
            K::Call,
            json!({ "callKey": B64_32, "conversionSource": "s", "conversionData": "AQ==",
            "conversionDelaySeconds": 4 }),
        ),
        (
            "chat",
            K::Chat,
            json!({ "displayName": "Group", "id": "123-456@g.us" }),
        ),
        (
            "protocolMessage",
            K::Protocol,
            json!({ "key": key(), "type": 0, "ephemeralExpiration": 604800,
            "ephemeralSettingTimestamp": 1600000000,
            "historySyncNotification": { "fileSha256": B64_32, "fileLength": 10, "mediaKey": B64_32,
                "fileEncSha256": B64_32, "directPath": "/h", "syncType": 2, "chunkOrder": 1,
                "originalMessageId": "X" },
            "appStateSyncKeyShare": { "keys": [{ "keyId": { "keyId": "AQ==" }, "keyData": { "keyData": B64_32,
                "fingerprint": { "rawId": 1, "currentIndex": 2, "deviceIndexes": [0, 1] }, "timestamp": 5 } }] },
            "appStateSyncKeyRequest": { "keyIds": [{ "keyId": "AQ==" }] },
            "initialSecurityNotificationSettingSync": { "securityNotificationEnabled": true },
            "appStateFatalExceptionNotification": { "collectionNames": ["regular"], "timestamp": 9 } }),
        ),
        (
            "contactsArrayMessage",
            K::ContactsArray,
            json!({ "displayName": "2 contacts",
            "contacts": [{ "displayName": "A", "vcard": "BEGIN:VCARD\nEND:VCARD" }, { "displayName": "B" }],
            "contextInfo": context() }),
        ),
        ("highlyStructuredMessage", K::HighlyStructured, {
            let mut value = hsm();
            value["hydratedHsm"] =
                json!({ "hydratedTemplate": { "hydratedContentText": "hi {{1}}" } });
            value
        }),
        (
            "fastRatchetKeySenderKeyDistributionMessage",
            K::SenderKeyDistribution,
            json!({ "groupId": "g", "axolotlSenderKeyDistributionMessage": "AQ==" }),
        ),
        (
            "sendPaymentMessage",
            K::SendPayment,
            json!({ "noteMessage": { "conversation": "for pizza" },
            "requestMessageKey": key(), "background": { "id": "bg", "fileLength": "10", "width": 1,
                "height": 2, "mimetype": "image/png", "placeholderArgb": 1, "textArgb": 2, "subtextArgb": 3 } }),
        ),
        (
            "liveLocationMessage",
            K::LiveLocation,
            json!({ "degreesLatitude": 48.85, "degreesLongitude": 2.35,
            "accuracyInMeters": 5, "speedInMps": 0.5, "degreesClockwiseFromMagneticNorth": 180,
            "caption": "on my way", "sequenceNumber": 42, "timeOffset": 60, "jpegThumbnail": "AQ==",
            "contextInfo": context() }),
        ),
        (
            "requestPaymentMessage",
            K::RequestPayment,
            json!({ "currencyCodeIso4217": "INR",
            "amount1000": 100000, "requestFrom": JID, "noteMessage": { "conversation": "rent" },
            "expiryTimestamp": 1600000000, "amount": { "value": 100, "offset": 1000, "currencyCode": "INR" },
            "background": { "id": "bg2", "width": 3, "mimetype": "image/png" } }),
        ),
        (
            "declinePaymentRequestMessage",
            K::DeclinePaymentRequest,
            json!({ "key": key() }),
        ),
        (
            "cancelPaymentRequestMessage",
            K::CancelPaymentRequest,
            json!({ "key": key() }),
        ),
        (
            "templateMessage",
            K::Template,
            json!({ "contextInfo": context(),
            "hydratedTemplate": { "hydratedContentText": "content", "hydratedFooterText": "footer",
                "templateId": "tpl", "title": { "hydratedTitleText": "title" },
                "hydratedButtons": [
                    { "index": 0, "hydratedButton": { "quickReplyButton": { "displayText": "Yes", "id": "yes" } } },
                    { "index": 1, "hydratedButton": { "urlButton": { "displayText": "Web", "url": "https://example.org" } } },
                    { "index": 2, "hydratedButton": { "callButton": { "displayText": "Call", "phoneNumber": "+49170" } } } ] },
            "format": { "fourRowTemplate": { "content": hsm(), "footer": hsm(),
                "title": { "imageMessage": media(json!({})) },
                "buttons": [
                    { "index": 0, "button": { "quickReplyButton": { "displayText": hsm(), "id": "q" } } },
                    { "index": 1, "button": { "urlButton": { "displayText": hsm(), "url": hsm() } } },
                    { "index": 2, "button": { "callButton": { "displayText": hsm(), "phoneNumber": hsm() } } } ] } } }),
        ),
        (
            "stickerMessage",
            K::Sticker,
            json!({ "url": "https://mmg.whatsapp.net/d/f/s.enc",
            "fileSha256": B64_32, "fileEncSha256": B64_32, "mediaKey": B64_32, "mimetype": "image/webp",
            "height": 512, "width": 512, "directPath": "/s", "fileLength": 2048, "mediaKeyTimestamp": 1,
            "firstFrameLength": 100, "firstFrameSidecar": "AQ==", "isAnimated": true, "pngThumbnail": "AQ==",
            "contextInfo": context() }),
        ),
        (
            "groupInviteMessage",
            K::GroupInvite,
            json!({ "groupJid": "123-456@g.us", "inviteCode": "AbCdEf",
            "inviteExpiration": 1600000000, "groupName": "Friends", "jpegThumbnail": "AQ==",
            "caption": "join us", "contextInfo": context() }),
        ),
        (
            "templateButtonReplyMessage",
            K::TemplateButtonReply,
            json!({ "selectedId": "yes",
            "selectedDisplayText": "Yes", "contextInfo": context(), "selectedIndex": 0 }),
        ),
        (
            "productMessage",
            K::Product,
            json!({ "businessOwnerJid": JID, "contextInfo": context(),
            "product": { "productImage": media(json!({})), "productId": "p1", "title": "Shoe",
                "description": "red", "currencyCode": "EUR", "priceAmount1000": 59990, "retailerId": "r",
                "url": "https://example.org/p1", "productImageCount": 2, "firstImageId": "i",
                "salePriceAmount1000": 49990 },
            "catalog": { "catalogImage": media(json!({})), "title": "Catalog", "description": "all" } }),
        ),
        (
            "deviceSentMessage",
            K::DeviceSent,
            json!({ "destinationJid": JID,
            "message": { "conversation": "sent from my phone" }, "phash": "2:abc" }),
        ),
        (
            "messageContextInfo",
            K::Empty,
            json!({ "deviceListMetadataVersion": 2,
            "deviceListMetadata": { "senderKeyHash": "AQ==", "senderTimestamp": 1, "senderKeyIndexes": [1, 2],
                "recipientKeyHash": "Ag==", "recipientTimestamp": 2, "recipientKeyIndexes": [3] } }),
        ),
        (
            "listMessage",
            K::List,
            json!({ "title": "Menu", "description": "pick one", "buttonText": "Open",
            "listType": 1, "footerText": "f", "contextInfo": context(),
            "sections": [{ "title": "S", "rows": [{ "title": "R", "description": "d", "rowId": "r1" }] }],
            "productListInfo": { "businessOwnerJid": JID,
                "productSections": [{ "title": "PS", "products": [{ "productId": "p1" }] }],
                "headerImage": { "productId": "p1", "jpegThumbnail": "AQ==" } } }),
        ),
        (
            "viewOnceMessage",
            K::ViewOnce,
            json!({ "message": { "imageMessage": media(json!({ "viewOnce": true })) } }),
        ),
        (
            "orderMessage",
            K::Order,
            json!({ "orderId": "o1", "thumbnail": "AQ==", "itemCount": 2, "status": 1,
            "surface": 1, "message": "my order", "orderTitle": "Order", "sellerJid": JID, "token": "tok",
            "totalAmount1000": 1000, "totalCurrencyCode": "EUR", "contextInfo": context() }),
        ),
        (
            "listResponseMessage",
            K::ListResponse,
            json!({ "title": "R", "listType": 1,
            "singleSelectReply": { "selectedRowId": "r1" }, "contextInfo": context(), "description": "d" }),
        ),
        (
            "ephemeralMessage",
            K::Ephemeral,
            json!({ "message": { "extendedTextMessage": { "text": "gone soon",
            "contextInfo": { "expiration": 604800 } } } }),
        ),
        (
            "invoiceMessage",
            K::Invoice,
            json!({ "note": "n", "token": "t", "attachmentType": 1,
            "attachmentMimetype": "application/pdf", "attachmentMediaKey": B64_32,
            "attachmentMediaKeyTimestamp": 1, "attachmentFileSha256": B64_32,
            "attachmentFileEncSha256": B64_32, "attachmentDirectPath": "/i", "attachmentJpegThumbnail": "AQ==" }),
        ),
        (
            "buttonsMessage",
            K::Buttons,
            json!({ "contentText": "choose", "footerText": "f",
            "contextInfo": context(), "headerType": 2, "header": { "text": "header" },
            "buttons": [{ "buttonId": "b1", "buttonText": { "displayText": "One" }, "type": 1,
                "nativeFlowInfo": { "name": "n", "paramsJson": "{}" } }] }),
        ),
        (
            "buttonsResponseMessage",
            K::ButtonsResponse,
            json!({ "selectedButtonId": "b1",
            "contextInfo": context(), "type": 1, "response": { "selectedDisplayText": "One" } }),
        ),
        (
            "paymentInviteMessage",
            K::PaymentInvite,
            json!({ "serviceType": 3, "expiryTimestamp": 1 }),
        ),
    ]
}

/// The number of fields of `Message` in `proto/def.proto`.
const MESSAGE_FIELDS: usize = 36;

#[test]
fn every_kind_round_trips() {
    let kinds = every_kind();
    assert_eq!(kinds.len(), MESSAGE_FIELDS, "one case per field of Message");
    // The cases name every field of the generated `Message`, each once.
    let all_fields = serde_json::to_value(Message::default()).unwrap();
    let all_fields = all_fields.as_object().unwrap();
    assert_eq!(all_fields.len(), MESSAGE_FIELDS);
    let named: std::collections::BTreeSet<_> = kinds.iter().map(|(field, _, _)| *field).collect();
    assert_eq!(named.len(), MESSAGE_FIELDS, "a field named twice");
    assert!(named.iter().all(|field| all_fields.contains_key(*field)));
    // The shared context (quotes, mentions, ...) sets every ContextInfo field.
    let context: ContextInfo = serde_json::from_value(context()).unwrap();
    let context = serde_json::to_value(&context).unwrap();
    let unset: Vec<_> = context
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.is_null())
        .collect();
    assert!(unset.is_empty(), "contextInfo: not exercised: {unset:?}");
    for (field, kind, value) in kinds {
        let message: Message = serde_json::from_value(json!({ field: value.clone() }))
            .unwrap_or_else(|e| panic!("{field}: {e}"));
        // Every key given in the JSON made it into the message (no key silently ignored).
        let back = serde_json::to_value(&message).unwrap();
        assert_json_contains(&back[field], &value, field);
        // ... and every field of the kind's own message is set (richly populated cases).
        if let Value::Object(fields) = &back[field] {
            let unset: Vec<_> = fields
                .iter()
                .filter(|(_, v)| v.is_null())
                .map(|(k, _)| k)
                .collect();
            assert!(unset.is_empty(), "{field}: not exercised: {unset:?}");
        }
        assert_eq!(message.kind(), kind, "{field}");
        let bytes = assert_round_trips(&message);
        assert!(!bytes.is_empty());

        // Inside the envelope too, and through the unknown-field walker with nothing to report.
        let info = WebMessageInfo::outgoing(JID, "3EB0C0FFEE", 1_600_000_000, message);
        let bytes = assert_round_trips(&info);
        let decoded = waweb_proto::decode_web_message_info(&bytes).unwrap();
        assert!(
            decoded.unknowns.is_empty(),
            "{field}: {:?}",
            decoded.unknowns
        );
        assert_eq!(decoded.info, info);
    }
}

/// Every key of `expected` is present in `actual` with the same value (recursively).
fn assert_json_contains(actual: &Value, expected: &Value, at: &str) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            for (key, value) in expected {
                let found = actual
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}.{key} missing"));
                assert_json_contains(found, value, &format!("{at}.{key}"));
            }
        }
        (Value::Array(actual), Value::Array(expected)) => {
            assert_eq!(actual.len(), expected.len(), "{at}");
            for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
                assert_json_contains(a, e, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(a), Value::Number(e)) => {
            assert_eq!(a.as_f64(), e.as_f64(), "{at}");
        }
        _ => assert_eq!(actual, expected, "{at}"),
    }
}

#[test]
fn json_uses_schema_names_and_base64() {
    let info = WebMessageInfo {
        key: MessageKey {
            remote_jid: Some(JID.into()),
            from_me: Some(false),
            id: Some("X".into()),
            participant: None,
        },
        message_c2s_timestamp: Some(7),
        media_ciphertext_sha256: Some(vec![0, 1, 2, 255]),
        status: Some(99),
        ..WebMessageInfo::default()
    };
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["key"]["remoteJid"], JID);
    assert_eq!(json["messageC2STimestamp"], 7);
    assert_eq!(json["mediaCiphertextSha256"], "AAEC/w==");
    assert_eq!(
        json["status"], 99,
        "enums are numbers, unknown ones included"
    );
    assert_eq!(json["message"], Value::Null);
    // Missing keys read as unset.
    let sparse: WebMessageInfo = serde_json::from_value(json!({ "key": { "id": "X" } })).unwrap();
    assert_eq!(sparse.key.id.as_deref(), Some("X"));
    assert_eq!(sparse.message, None);
    assert!(
        serde_json::from_value::<WebMessageInfo>(json!({ "mediaCiphertextSha256": "not base64!" }))
            .is_err()
    );
}

// ---- proptest: the most used kinds with arbitrary values ----

fn text() -> impl Strategy<Value = String> {
    any::<String>()
}
fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<String>())
}
fn opt_bytes() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..48))
}
/// Finite doubles only: JSON cannot carry NaN or infinities (the wire can, see `non_finite`).
fn coordinate() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(-180.0f64..180.0)
}

prop_compose! {
    fn message_key()(remote_jid in opt_text(), from_me in any::<Option<bool>>(), id in opt_text(),
                     participant in opt_text()) -> MessageKey {
        MessageKey { remote_jid, from_me, id, participant }
    }
}

prop_compose! {
    fn context_info()(stanza_id in opt_text(), participant in opt_text(), quoted in opt_text(),
                      mentioned_jid in proptest::collection::vec(text(), 0..4),
                      is_forwarded in any::<Option<bool>>(), forwarding_score in any::<Option<u32>>(),
                      expiration in any::<Option<u32>>()) -> ContextInfo {
        ContextInfo {
            stanza_id, participant, mentioned_jid, is_forwarded, forwarding_score, expiration,
            quoted_message: quoted.map(|text| Box::new(Message::from_text(text))),
            ..ContextInfo::default()
        }
    }
}

prop_compose! {
    fn image()(url in opt_text(), mimetype in opt_text(), caption in opt_text(), sha in opt_bytes(),
               len in any::<Option<u64>>(), height in any::<Option<u32>>(), width in any::<Option<u32>>(),
               key in opt_bytes(), enc in opt_bytes(), path in opt_text(), ts in any::<Option<i64>>(),
               thumb in opt_bytes()) -> ImageMessage {
        ImageMessage { url, mimetype, caption, file_sha256: sha, file_length: len, height, width,
            media_key: key, file_enc_sha256: enc, direct_path: path, media_key_timestamp: ts,
            jpeg_thumbnail: thumb, ..ImageMessage::default() }
    }
}

prop_compose! {
    fn video()(url in opt_text(), caption in opt_text(), seconds in any::<Option<u32>>(),
               gif in any::<Option<bool>>(), attribution in any::<Option<i32>>(), key in opt_bytes(),
               len in any::<Option<u64>>()) -> VideoMessage {
        VideoMessage { url, caption, seconds, gif_playback: gif, gif_attribution: attribution,
            media_key: key, file_length: len, ..VideoMessage::default() }
    }
}

prop_compose! {
    fn audio()(url in opt_text(), seconds in any::<Option<u32>>(), ptt in any::<Option<bool>>(),
               key in opt_bytes(), sidecar in opt_bytes()) -> AudioMessage {
        AudioMessage { url, seconds, ptt, media_key: key, streaming_sidecar: sidecar, ..AudioMessage::default() }
    }
}

prop_compose! {
    fn document()(url in opt_text(), title in opt_text(), file_name in opt_text(),
                  pages in any::<Option<u32>>(), key in opt_bytes()) -> DocumentMessage {
        DocumentMessage { url, title, file_name, page_count: pages, media_key: key, ..DocumentMessage::default() }
    }
}

prop_compose! {
    fn sticker()(url in opt_text(), key in opt_bytes(), animated in any::<Option<bool>>(),
                 thumb in opt_bytes()) -> StickerMessage {
        StickerMessage { url, media_key: key, is_animated: animated, png_thumbnail: thumb, ..StickerMessage::default() }
    }
}

prop_compose! {
    fn location()(lat in coordinate(), lng in coordinate(), name in opt_text(), address in opt_text(),
                  live in any::<Option<bool>>(), speed in proptest::option::of(0.0f32..100.0)) -> LocationMessage {
        LocationMessage { degrees_latitude: lat, degrees_longitude: lng, name, address, is_live: live,
            speed_in_mps: speed, ..LocationMessage::default() }
    }
}

prop_compose! {
    fn live_location()(lat in coordinate(), lng in coordinate(), caption in opt_text(),
                       seq in any::<Option<i64>>(), offset in any::<Option<u32>>()) -> LiveLocationMessage {
        LiveLocationMessage { degrees_latitude: lat, degrees_longitude: lng, caption, sequence_number: seq,
            time_offset: offset, ..LiveLocationMessage::default() }
    }
}

prop_compose! {
    fn contact()(name in opt_text(), vcard in opt_text()) -> ContactMessage {
        ContactMessage { display_name: name, vcard, context_info: None }
    }
}

prop_compose! {
    fn protocol()(key in proptest::option::of(message_key()), kind in any::<Option<i32>>(),
                  expiration in any::<Option<u32>>(), ts in any::<Option<i64>>()) -> ProtocolMessage {
        ProtocolMessage { key, r#type: kind, ephemeral_expiration: expiration,
            ephemeral_setting_timestamp: ts, ..ProtocolMessage::default() }
    }
}

prop_compose! {
    fn group_invite()(jid in opt_text(), code in opt_text(), expiration in any::<Option<i64>>(),
                      name in opt_text(), caption in opt_text()) -> GroupInviteMessage {
        GroupInviteMessage { group_jid: jid, invite_code: code, invite_expiration: expiration,
            group_name: name, caption, ..GroupInviteMessage::default() }
    }
}

/// One message of a random kind, with an optional context (quote, mentions) where it has one.
fn message() -> impl Strategy<Value = Message> {
    let ctx = || proptest::option::of(context_info().prop_map(Box::new));
    prop_oneof![
        text().prop_map(Message::from_text),
        (text(), ctx()).prop_map(|(text, context_info)| Message {
            extended_text_message: Some(Box::new(ExtendedTextMessage {
                text: Some(text),
                context_info,
                ..ExtendedTextMessage::default()
            })),
            ..Message::default()
        }),
        (image(), ctx()).prop_map(|(m, c)| Message {
            image_message: Some(Box::new(ImageMessage {
                context_info: c,
                ..m
            })),
            ..Message::default()
        }),
        (video(), ctx()).prop_map(|(m, c)| Message {
            video_message: Some(Box::new(VideoMessage {
                context_info: c,
                ..m
            })),
            ..Message::default()
        }),
        audio().prop_map(|m| Message {
            audio_message: Some(Box::new(m)),
            ..Message::default()
        }),
        document().prop_map(|m| Message {
            document_message: Some(Box::new(m)),
            ..Message::default()
        }),
        sticker().prop_map(|m| Message {
            sticker_message: Some(Box::new(m)),
            ..Message::default()
        }),
        location().prop_map(|m| Message {
            location_message: Some(Box::new(m)),
            ..Message::default()
        }),
        live_location().prop_map(|m| Message {
            live_location_message: Some(Box::new(m)),
            ..Message::default()
        }),
        contact().prop_map(|m| Message {
            contact_message: Some(Box::new(m)),
            ..Message::default()
        }),
        (opt_text(), proptest::collection::vec(contact(), 0..3)).prop_map(|(name, contacts)| {
            Message {
                contacts_array_message: Some(Box::new(ContactsArrayMessage {
                    display_name: name,
                    contacts,
                    context_info: None,
                })),
                ..Message::default()
            }
        }),
        protocol().prop_map(|m| Message {
            protocol_message: Some(m),
            ..Message::default()
        }),
        opt_bytes().prop_map(|key| Message {
            call: Some(waweb_proto::proto::Call {
                call_key: key,
                ..Default::default()
            }),
            ..Message::default()
        }),
        group_invite().prop_map(|m| Message {
            group_invite_message: Some(Box::new(m)),
            ..Message::default()
        }),
    ]
}

prop_compose! {
    fn web_message_info()(key in message_key(), message in proptest::option::of(message()),
                          ts in any::<Option<u64>>(), status in any::<Option<i32>>(),
                          participant in opt_text(), push_name in opt_text(),
                          stub in any::<Option<i32>>(),
                          stub_params in proptest::collection::vec(text(), 0..3),
                          starred in any::<Option<bool>>()) -> WebMessageInfo {
        WebMessageInfo { key, message, message_timestamp: ts, status, participant, push_name,
            message_stub_type: stub, message_stub_parameters: stub_params, starred,
            ..WebMessageInfo::default() }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn web_message_info_round_trips(info in web_message_info()) {
        assert_round_trips(&info);
    }

    #[test]
    fn helpers_agree_with_fields(message in message()) {
        // `text` reads the field of the message's kind.
        let expected = match message.kind() {
            MessageKind::Conversation => message.conversation.as_deref(),
            MessageKind::ExtendedText => message.extended_text_message.as_ref().and_then(|m| m.text.as_deref()),
            MessageKind::Image => message.image_message.as_ref().and_then(|m| m.caption.as_deref()),
            MessageKind::Video => message.video_message.as_ref().and_then(|m| m.caption.as_deref()),
            MessageKind::Contact => message.contact_message.as_ref().and_then(|m| m.display_name.as_deref()),
            MessageKind::LiveLocation => message.live_location_message.as_ref().and_then(|m| m.caption.as_deref()),
            MessageKind::GroupInvite => message.group_invite_message.as_ref().and_then(|m| m.caption.as_deref()),
            _ => message.text(),
        };
        prop_assert_eq!(message.text(), expected);
        let is_media = matches!(message.kind(),
            MessageKind::Image | MessageKind::Video | MessageKind::Audio | MessageKind::Document | MessageKind::Sticker);
        prop_assert_eq!(message.media().is_some(), is_media);
    }

    /// prost's own property: whatever decodes re-encodes to something that decodes to the same.
    #[test]
    fn arbitrary_bytes_decode_stably(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(info) = WebMessageInfo::decode(bytes.as_slice()) {
            let again = WebMessageInfo::decode(info.encode_to_vec().as_slice()).unwrap();
            prop_assert_eq!(again, info);
        }
    }
}

#[test]
fn non_finite_coordinates_survive_the_wire() {
    let message = Message {
        location_message: Some(Box::new(LocationMessage {
            degrees_latitude: Some(f64::INFINITY),
            degrees_longitude: Some(f64::NEG_INFINITY),
            speed_in_mps: Some(f32::MAX),
            ..LocationMessage::default()
        })),
        ..Message::default()
    };
    let back = Message::decode(message.encode_to_vec().as_slice()).unwrap();
    assert_eq!(back, message);
}
