//! Fuzz `SessionKeys::open_frame` / `open_frame_in_place` with fixed or random keys.
//!
//! Input: one mode byte, then (mode bit 0 set) 64 bytes of keys `encKey ++ macKey`, then the
//! frame. Without bit 0 the fixed keys below are used (the committed seeds are sealed with them).
//! With bit 1 set the harness rewrites the frame MAC to the correct one, so that the fuzzer also
//! reaches decryption and unpadding instead of stopping at the MAC.
//!
//! Properties: never panics; both openers agree; an opened frame re-seals to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waweb_crypto::primitives::hmac_sha256;
use waweb_crypto::SessionKeys;

fn fixed_keys() -> SessionKeys {
    SessionKeys::new(core::array::from_fn(|i| i as u8), core::array::from_fn(|i| 0x80 + i as u8))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (keys, frame) = if mode & 1 == 1 {
        if rest.len() < 64 {
            return;
        }
        let (k, f) = rest.split_at(64);
        (SessionKeys::new(k[..32].try_into().unwrap(), k[32..].try_into().unwrap()), f)
    } else {
        (fixed_keys(), rest)
    };
    let mut frame = frame.to_vec();
    if mode & 2 == 2 && frame.len() >= 32 {
        let tag = hmac_sha256(keys.mac_key().as_bytes(), &frame[32..]);
        frame[..32].copy_from_slice(&tag);
    }

    let owned = keys.open_frame(&frame);
    let mut copy = frame.clone();
    let in_place = keys.open_frame_in_place(&mut copy).map(<[u8]>::to_vec);
    match (&owned, &in_place) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            let iv: [u8; 16] = frame[32..48].try_into().unwrap();
            assert_eq!(keys.seal_frame_with_iv(a, &iv), frame, "re-seal differs");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("open_frame and open_frame_in_place disagree: {owned:?} vs {in_place:?}"),
    }
});
