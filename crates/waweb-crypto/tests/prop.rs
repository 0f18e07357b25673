//! Property tests for the round trips: login secret, frames, media (with arbitrary chunking),
//! and that arbitrary bytes never panic the openers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use proptest::prelude::*;
use waweb_crypto::{
    Error, KeyPair, LoginSecret, MediaDecryptor, MediaEncryptor, MediaKey, MediaType, SessionKeys,
};

fn media_type() -> impl Strategy<Value = MediaType> {
    prop::sample::select(MediaType::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn login_round_trip(client in any::<[u8; 32]>(), server in any::<[u8; 32]>(),
                        enc in any::<[u8; 32]>(), mac in any::<[u8; 32]>()) {
        let client = KeyPair::from_secret_bytes(client);
        let chosen = SessionKeys::new(enc, mac);
        let secret = LoginSecret::build(&KeyPair::from_secret_bytes(server), &client.public_key(), &chosen)
            .unwrap();
        let got = client.session_keys(&LoginSecret::from_base64(&secret.to_base64()).unwrap()).unwrap();
        prop_assert_eq!(got, chosen);
    }

    #[test]
    fn login_secret_flip_is_rejected(client in any::<[u8; 32]>(), pos in 0usize..144, bit in 0u8..8) {
        let client = KeyPair::from_secret_bytes(client);
        let secret = LoginSecret::build(&KeyPair::from_secret_bytes([9; 32]), &client.public_key(),
            &SessionKeys::new([1; 32], [2; 32])).unwrap();
        let mut b = *secret.as_bytes();
        b[pos] ^= 1 << bit;
        let r = client.session_keys(&LoginSecret::from_bytes(&b).unwrap());
        prop_assert!(matches!(r, Err(Error::SecretMac | Error::NonContributoryKey)));
    }

    #[test]
    fn frame_round_trip(enc in any::<[u8; 32]>(), mac in any::<[u8; 32]>(),
                        iv in any::<[u8; 16]>(), plain in prop::collection::vec(any::<u8>(), 0..2048)) {
        let keys = SessionKeys::new(enc, mac);
        let frame = keys.seal_frame_with_iv(&plain, &iv);
        prop_assert_eq!(keys.open_frame(&frame).unwrap(), plain.clone());
        let mut f = frame.clone();
        prop_assert_eq!(keys.open_frame_in_place(&mut f).unwrap(), &plain[..]);
    }

    #[test]
    fn frame_tamper_is_rejected(plain in prop::collection::vec(any::<u8>(), 0..512),
                                pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let keys = SessionKeys::new([3; 32], [4; 32]);
        let mut frame = keys.seal_frame_with_iv(&plain, &[5; 16]);
        let i = pos.index(frame.len());
        frame[i] ^= 1 << bit;
        prop_assert!(matches!(keys.open_frame(&frame), Err(Error::FrameMac)));
    }

    #[test]
    fn open_never_panics(keys in any::<([u8; 32], [u8; 32])>(), frame in prop::collection::vec(any::<u8>(), 0..300)) {
        let keys = SessionKeys::new(keys.0, keys.1);
        let _ = keys.open_frame(&frame);
        let mk = MediaKey::new(keys.enc_key().as_bytes().to_owned()).expand(MediaType::Image);
        let _ = mk.decrypt_from_slice(&frame);
    }

    #[test]
    fn media_round_trip_any_chunking(key in any::<[u8; 32]>(), t in media_type(),
                                     plain in prop::collection::vec(any::<u8>(), 0..5000),
                                     pieces in prop::collection::vec(1usize..700, 1..8)) {
        let keys = MediaKey::new(key).expand(t);
        let (whole, info) = keys.encrypt_to_vec(&plain, t.is_streamable());
        // Encrypt in the given piece sizes (cycled).
        let mut e = MediaEncryptor::new(&keys, t.is_streamable());
        let mut out = Vec::new();
        let (mut at, mut k) = (0, 0);
        while at < plain.len() {
            let n = pieces[k % pieces.len()].min(plain.len() - at);
            e.update(&plain[at..at + n], &mut out);
            at += n;
            k += 1;
        }
        let info2 = e.finish(&mut out);
        prop_assert_eq!(&out, &whole);
        prop_assert_eq!(&info2, &info);
        // Decrypt in the same pieces.
        let mut d = MediaDecryptor::new(&keys);
        let mut back = Vec::new();
        let (mut at, mut k) = (0, 0);
        while at < whole.len() {
            let n = pieces[k % pieces.len()].min(whole.len() - at);
            d.update(&whole[at..at + n], &mut back);
            at += n;
            k += 1;
        }
        let dinfo = d.finish(&mut back).unwrap();
        prop_assert_eq!(&back, &plain);
        prop_assert_eq!(dinfo.file_sha256, info.file_sha256);
        prop_assert_eq!(keys.decrypt_from_slice(&whole).unwrap().0, plain);
    }

    #[test]
    fn media_tamper_is_rejected(plain in prop::collection::vec(any::<u8>(), 0..1000),
                                pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let keys = MediaKey::new([6; 32]).expand(MediaType::Video);
        let (mut enc, _) = keys.encrypt_to_vec(&plain, false);
        let i = pos.index(enc.len());
        enc[i] ^= 1 << bit;
        prop_assert!(matches!(keys.decrypt_from_slice(&enc), Err(Error::MediaMac)));
    }
}
