//! Fuzz media decryption with fixed or random keys, one-shot and streamed in odd chunk sizes.
//!
//! Input: a mode byte (bits 0-2: media type, bit 3: random key follows, bit 4: fix up the MAC so
//! that decryption and unpadding are reached), a chunk-size byte, optionally 32 key bytes, then
//! `enc ++ mac`. Without bit 3 the key is `[0x11; 32]` (the committed seeds use it).
//!
//! Properties: never panics; verified one-shot decryption, the streaming core and the verifier
//! agree; a successful decryption re-encrypts to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waweb_crypto::primitives::hmac_sha256;
use waweb_crypto::{MediaDecryptor, MediaKey, MediaType, MediaVerifier};

fuzz_target!(|data: &[u8]| {
    let [mode, chunk, rest @ ..] = data else { return };
    let media_type = MediaType::ALL[usize::from(mode & 7) % MediaType::ALL.len()];
    let (key, body) = if mode & 8 == 8 {
        if rest.len() < 32 {
            return;
        }
        let (k, b) = rest.split_at(32);
        (MediaKey::new(k.try_into().unwrap()), b)
    } else {
        (MediaKey::new([0x11; 32]), rest)
    };
    let keys = key.expand(media_type);
    let mut body = body.to_vec();
    if mode & 16 == 16 && body.len() >= 10 {
        let n = body.len() - 10;
        let mac = hmac_sha256(keys.mac_key().as_bytes(), &[&keys.iv()[..], &body[..n]].concat());
        body[n..].copy_from_slice(&mac[..10]);
    }

    let one_shot = keys.decrypt_from_slice(&body);

    let mut dec = MediaDecryptor::new(&keys);
    let mut ver = MediaVerifier::new(&keys);
    let mut out = Vec::new();
    for piece in body.chunks(usize::from(*chunk).max(1)) {
        dec.update(piece, &mut out);
        ver.update(piece);
    }
    let streamed = dec.finish(&mut out);
    let verified = ver.finish();

    match (&one_shot, &streamed) {
        (Ok((plain, info)), Ok(sinfo)) => {
            assert_eq!(plain, &out);
            assert_eq!(info, sinfo);
            let v = verified.expect("verifier must accept what decrypts");
            assert_eq!(v.file_enc_sha256, info.file_enc_sha256);
            let (again, _) = keys.encrypt_to_vec(plain, false);
            assert_eq!(again, body, "re-encryption differs");
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            // The verifier fails exactly when the failure is not about padding.
            if !matches!(a, waweb_crypto::Error::Padding { .. }) {
                assert!(verified.is_err());
            }
        }
        _ => panic!("one-shot and streamed decryption disagree: {one_shot:?} vs {streamed:?}"),
    }
});
