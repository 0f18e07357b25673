//! Protocol round trips and the typed error of every failure: login secret, frames, challenge,
//! logout token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use waweb_crypto::primitives::{
    aes256_cbc_decrypt, aes256_cbc_encrypt, hkdf_sha256, hmac_sha256, hmac_sha256_parts,
};
use waweb_crypto::{Error, KeyPair, LoginSecret, SECRET_LEN, SessionKeys};

fn fixed_pair(seed: u8) -> KeyPair {
    KeyPair::from_secret_bytes(core::array::from_fn(|i| seed.wrapping_add(i as u8)))
}

fn fixed_keys() -> SessionKeys {
    SessionKeys::new(
        core::array::from_fn(|i| i as u8),
        core::array::from_fn(|i| 0x80 + i as u8),
    )
}

#[test]
fn qr_public_key_is_base64_of_public_key() {
    let kp = fixed_pair(1);
    let qr = kp.qr_public_key();
    assert_eq!(qr.len(), 44);
    assert_eq!(B64.decode(&qr).unwrap(), kp.public_key());
    assert_eq!(kp.qr_string("ref", "cid"), format!("ref,{qr},cid"));
    // Persisting and reloading the private key gives the same public key.
    assert_eq!(
        KeyPair::from_secret_bytes(*kp.secret_bytes()).public_key(),
        kp.public_key()
    );
}

#[test]
fn server_built_secret_gives_same_keys_to_client() {
    let client = fixed_pair(1);
    let server = fixed_pair(77);
    let chosen = fixed_keys();
    let secret = LoginSecret::build(&server, &client.public_key(), &chosen).unwrap();
    assert_eq!(secret.as_bytes().len(), SECRET_LEN);
    assert_eq!(secret.server_public_key(), server.public_key());
    let b64 = secret.to_base64();
    let got = client
        .session_keys(&LoginSecret::from_base64(&b64).unwrap())
        .unwrap();
    assert_eq!(got, chosen);
    assert_eq!(got.enc_key().as_bytes(), chosen.enc_key().as_bytes());
    assert_eq!(got.mac_key().as_bytes(), chosen.mac_key().as_bytes());
}

/// The client side, recomputed by hand from the primitives with the offsets of the seeds: this
/// checks the crate against the written description rather than against itself.
#[test]
fn client_side_matches_seed_description_step_by_step() {
    let client = fixed_pair(3);
    let server = fixed_pair(9);
    let chosen = fixed_keys();
    let secret = *LoginSecret::build(&server, &client.public_key(), &chosen)
        .unwrap()
        .as_bytes();

    let shared = x25519(&client, &secret[..32]);
    let mut expanded = [0u8; 80];
    hkdf_sha256(&[], &shared, &[], &mut expanded).unwrap();
    let want_mac = hmac_sha256_parts(&expanded[32..64], &[&secret[..32], &secret[64..]]);
    assert_eq!(want_mac[..], secret[32..64]);
    let keys_encrypted = [&expanded[64..80], &secret[64..]].concat();
    let aes_key: [u8; 32] = expanded[..32].try_into().unwrap();
    let iv: [u8; 16] = keys_encrypted[..16].try_into().unwrap();
    let keys_decrypted = aes256_cbc_decrypt(&aes_key, &iv, &keys_encrypted[16..]).unwrap();
    assert_eq!(keys_decrypted.len(), 64);
    assert_eq!(&keys_decrypted[..32], chosen.enc_key().as_bytes());
    assert_eq!(&keys_decrypted[32..], chosen.mac_key().as_bytes());
}

fn x25519(ours: &KeyPair, theirs: &[u8]) -> [u8; 32] {
    // Independently of the crate: x25519-dalek directly.
    let s = x25519_dalek::StaticSecret::from(*ours.secret_bytes());
    let p = x25519_dalek::PublicKey::from(<[u8; 32]>::try_from(theirs).unwrap());
    s.diffie_hellman(&p).to_bytes()
}

#[test]
fn every_single_byte_flip_of_the_secret_fails_the_hmac_check() {
    let client = fixed_pair(1);
    let secret = LoginSecret::build(&fixed_pair(50), &client.public_key(), &fixed_keys()).unwrap();
    for i in 0..SECRET_LEN {
        for bit in [0x01u8, 0x80] {
            let mut b = *secret.as_bytes();
            b[i] ^= bit;
            let err = client
                .session_keys(&LoginSecret::from_bytes(&b).unwrap())
                .unwrap_err();
            assert!(
                matches!(err, Error::SecretMac),
                "byte {i} bit {bit:#x}: {err:?}"
            );
        }
    }
}

#[test]
fn secret_decoding_errors() {
    assert!(matches!(
        LoginSecret::from_base64("not base64!"),
        Err(Error::Base64 { field: "secret" })
    ));
    let short = B64.encode([0u8; 143]);
    assert!(matches!(
        LoginSecret::from_base64(&short),
        Err(Error::Length {
            field: "secret",
            expected: 144,
            actual: 143
        })
    ));
    assert!(matches!(
        LoginSecret::from_bytes(&[0u8; 145]),
        Err(Error::Length {
            expected: 144,
            actual: 145,
            ..
        })
    ));
}

#[test]
fn low_order_server_key_is_rejected() {
    // The all-zero point has order 1 (and 4): X25519 with it is all zeros.
    let mut b = [0u8; SECRET_LEN];
    b[64] = 1;
    let err = fixed_pair(1)
        .session_keys(&LoginSecret::from_bytes(&b).unwrap())
        .unwrap_err();
    assert!(matches!(err, Error::NonContributoryKey), "{err:?}");
    let err = LoginSecret::build(&fixed_pair(2), &[0u8; 32], &fixed_keys()).unwrap_err();
    assert!(matches!(err, Error::NonContributoryKey), "{err:?}");
}

/// A secret whose HMAC is right but whose encrypted keys have bad padding (a server bug, not an
/// attack: the HMAC already vouches for the bytes) gives `Padding`, and one that carries 48
/// instead of 64 bytes of keys gives `SecretKeysLength`.
#[test]
fn secret_padding_and_key_length_errors() {
    let client = fixed_pair(4);
    let server = fixed_pair(5);
    let shared = x25519(&server, &client.public_key());
    let mut expanded = [0u8; 80];
    hkdf_sha256(&[], &shared, &[], &mut expanded).unwrap();
    let aes_key: [u8; 32] = expanded[..32].try_into().unwrap();
    let iv: [u8; 16] = expanded[64..80].try_into().unwrap();
    let forge = |ct: &[u8]| {
        let mut b = [0u8; SECRET_LEN];
        b[..32].copy_from_slice(&server.public_key());
        b[64..].copy_from_slice(ct);
        let mac = hmac_sha256_parts(&expanded[32..64], &[&b[..32], &b[64..]]);
        b[32..64].copy_from_slice(&mac);
        LoginSecret::from_bytes(&b).unwrap()
    };
    // 80 bytes of keys, no valid padding: encrypt raw 80 bytes ending in 0x00.
    let mut raw = [7u8; 80];
    raw[79] = 0;
    waweb_crypto::primitives::aes256_cbc_encrypt_blocks(&aes_key, &iv, &mut raw).unwrap();
    let err = client.session_keys(&forge(&raw)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Padding {
                context: "login secret",
                pad_byte: 0
            }
        ),
        "{err:?}"
    );
    // Valid padding but 72 bytes of content (padded by 8) instead of 64.
    let ct = aes256_cbc_encrypt(&aes_key, &iv, &[9u8; 72]);
    assert_eq!(ct.len(), 80);
    let err = client.session_keys(&forge(&ct)).unwrap_err();
    assert!(
        matches!(err, Error::SecretKeysLength { len: 72 }),
        "{err:?}"
    );
}

#[test]
fn frame_round_trip_and_layout() {
    let keys = fixed_keys();
    for len in [0usize, 1, 15, 16, 17, 1000, 4096] {
        let plain: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let iv = [0x5a; 16];
        let frame = keys.seal_frame_with_iv(&plain, &iv);
        assert_eq!(frame.len(), 48 + (len / 16 + 1) * 16);
        assert_eq!(&frame[32..48], &iv);
        assert_eq!(
            frame[..32],
            hmac_sha256(keys.mac_key().as_bytes(), &frame[32..])
        );
        assert_eq!(keys.open_frame(&frame).unwrap(), plain);
        let mut copy = frame.clone();
        assert_eq!(keys.open_frame_in_place(&mut copy).unwrap(), &plain[..]);
        let random = keys.seal_frame(&plain).unwrap();
        assert_ne!(random[32..48], frame[32..48]);
        assert_eq!(keys.open_frame(&random).unwrap(), plain);
    }
}

#[test]
fn tampered_frame_fails_mac_at_every_offset() {
    let keys = fixed_keys();
    let frame = keys.seal_frame_with_iv(b"some node bytes of a binary frame", &[1; 16]);
    for i in 0..frame.len() {
        let mut f = frame.clone();
        f[i] ^= 0x04;
        assert!(
            matches!(keys.open_frame(&f), Err(Error::FrameMac)),
            "offset {i}"
        );
    }
    // The wrong macKey also fails the MAC.
    let other = SessionKeys::new([0; 32], [1; 32]);
    assert!(matches!(other.open_frame(&frame), Err(Error::FrameMac)));
}

#[test]
fn truncated_frames_give_length_errors() {
    let keys = fixed_keys();
    let frame = keys.seal_frame_with_iv(&[0xab; 40], &[2; 16]);
    assert_eq!(frame.len(), 96);
    for cut in 0..frame.len() {
        let err = keys.open_frame(&frame[..cut]).unwrap_err();
        match cut {
            0..64 => assert!(
                matches!(err, Error::FrameTooShort { len, min: 64 } if len == cut),
                "cut {cut}: {err:?}"
            ),
            _ if (cut - 48) % 16 != 0 => assert!(
                matches!(err, Error::FrameNotBlockAligned { len } if len == cut - 48),
                "cut {cut}: {err:?}"
            ),
            // Block-aligned truncation: the MAC no longer matches.
            _ => assert!(matches!(err, Error::FrameMac), "cut {cut}: {err:?}"),
        }
    }
}

/// A frame with a valid MAC whose plaintext has bad padding: what a buggy peer would send.
#[test]
fn bad_padding_frame_gives_padding_error() {
    let keys = fixed_keys();
    let iv = [3u8; 16];
    for last in [0u8, 17, 0xff] {
        let mut ct = [0x11u8; 32];
        ct[31] = last;
        waweb_crypto::primitives::aes256_cbc_encrypt_blocks(
            keys.enc_key().as_bytes(),
            &iv,
            &mut ct,
        )
        .unwrap();
        let body = [&iv[..], &ct[..]].concat();
        let frame = [
            &hmac_sha256(keys.mac_key().as_bytes(), &body)[..],
            &body[..],
        ]
        .concat();
        let err = keys.open_frame(&frame).unwrap_err();
        assert!(matches!(err, Error::Padding { context: "frame", pad_byte } if pad_byte == last));
    }
    // Inconsistent padding bytes: last byte says 4, the one before is not 4.
    let mut ct = [0x11u8; 16];
    ct[15] = 4;
    waweb_crypto::primitives::aes256_cbc_encrypt_blocks(keys.enc_key().as_bytes(), &iv, &mut ct)
        .unwrap();
    let body = [&iv[..], &ct[..]].concat();
    let frame = [
        &hmac_sha256(keys.mac_key().as_bytes(), &body)[..],
        &body[..],
    ]
    .concat();
    assert!(matches!(
        keys.open_frame(&frame),
        Err(Error::Padding { pad_byte: 4, .. })
    ));
}

#[test]
fn challenge_answer_and_logout_token() {
    let keys = fixed_keys();
    let challenge = b"a challenge from the server, any length";
    let answer = keys.challenge_answer(&B64.encode(challenge)).unwrap();
    assert_eq!(
        B64.decode(&answer).unwrap(),
        hmac_sha256(keys.mac_key().as_bytes(), challenge)
    );
    assert_eq!(answer.len(), 44);
    assert!(matches!(
        keys.challenge_answer("%%%"),
        Err(Error::Base64 { field: "challenge" })
    ));
    let token = keys.logout_token();
    assert_eq!(
        B64.decode(&token).unwrap(),
        hmac_sha256(keys.mac_key().as_bytes(), keys.enc_key().as_bytes())
    );
}

#[test]
fn debug_output_is_redacted() {
    let keys = fixed_keys();
    let s = format!("{keys:?} {:?} {:?}", keys.enc_key(), fixed_pair(1));
    assert!(s.contains("redacted"));
    assert!(!s.contains("0, 1, 2"), "{s}");
    assert!(!s.contains("[0"), "{s}");
}
