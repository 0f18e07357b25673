//! Media: every type round-trips (in memory, std streams, tokio streams), including empty and
//! non-block-aligned files; a tampered byte anywhere fails the MAC; sidecar layout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::io::Cursor;

use waweb_crypto::primitives::{hkdf_sha256, hmac_sha256, sha256};
use waweb_crypto::{
    Error, MediaDecryptor, MediaEncryptor, MediaKey, MediaKeys, MediaType, SidecarBuilder,
};

const SIZES: [usize; 11] = [0, 1, 15, 16, 17, 31, 32, 1000, 65_535, 65_536, 200_003];

fn data(len: usize) -> Vec<u8> {
    let mut x = 0x1234_5678u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn keys(t: MediaType) -> MediaKeys {
    MediaKey::new(core::array::from_fn(|i| (i * 3) as u8)).expand(t)
}

#[test]
fn hkdf_info_strings_and_upload_paths() {
    use MediaType::*;
    let want = [
        (Image, "WhatsApp Image Keys", "/mms/image"),
        (Sticker, "WhatsApp Image Keys", "/mms/image"),
        (Video, "WhatsApp Video Keys", "/mms/video"),
        (Gif, "WhatsApp Video Keys", "/mms/video"),
        (Audio, "WhatsApp Audio Keys", "/mms/audio"),
        (Ptt, "WhatsApp Audio Keys", "/mms/audio"),
        (Document, "WhatsApp Document Keys", "/mms/document"),
    ];
    for (t, info, path) in want {
        assert_eq!(t.hkdf_info(), info);
        assert_eq!(t.upload_path(), path);
    }
    assert!(Video.is_streamable() && Audio.is_streamable() && !Image.is_streamable());
}

#[test]
fn expansion_split_matches_offsets() {
    let mk = MediaKey::new([7; 32]);
    for t in MediaType::ALL {
        let mut e = [0u8; 112];
        hkdf_sha256(&[], mk.as_bytes(), t.hkdf_info().as_bytes(), &mut e).unwrap();
        let k = mk.expand(t);
        assert_eq!(k.iv()[..], e[..16]);
        assert_eq!(k.cipher_key().as_bytes()[..], e[16..48]);
        assert_eq!(k.mac_key().as_bytes()[..], e[48..80]);
        assert_eq!(k.ref_key().as_bytes()[..], e[80..112]);
    }
    // Different types give different keys from one media key (except the shared ones).
    assert_ne!(mk.expand(MediaType::Image), mk.expand(MediaType::Video));
    assert_eq!(mk.expand(MediaType::Image), mk.expand(MediaType::Sticker));
}

#[test]
fn media_key_base64() {
    let mk = MediaKey::generate().unwrap();
    assert_eq!(MediaKey::from_base64(&mk.to_base64()).unwrap(), mk);
    assert!(matches!(
        MediaKey::from_base64("@@"),
        Err(Error::Base64 { field: "mediaKey" })
    ));
    assert!(matches!(
        MediaKey::from_slice(&[0; 31]),
        Err(Error::Length {
            field: "mediaKey",
            expected: 32,
            actual: 31
        })
    ));
}

/// Layout, by hand from the primitives: `enc = AES-CBC(cipherKey, iv, file)`,
/// `mac = HMAC(macKey, iv ++ enc)[..10]`, `fileEncSha256 = SHA-256(enc ++ mac)`.
#[test]
fn every_type_round_trips_in_memory_with_seed_layout() {
    for t in MediaType::ALL {
        let k = keys(t);
        for len in SIZES {
            let plain = data(len);
            let (out, info) = k.encrypt_to_vec(&plain, t.is_streamable());
            let enc_len = (len / 16 + 1) * 16;
            assert_eq!(out.len(), enc_len + 10, "{t:?} {len}");
            let enc = waweb_crypto::primitives::aes256_cbc_encrypt(
                k.cipher_key().as_bytes(),
                k.iv(),
                &plain,
            );
            assert_eq!(out[..enc_len], enc[..]);
            let mac = hmac_sha256(k.mac_key().as_bytes(), &[&k.iv()[..], &enc].concat());
            assert_eq!(out[enc_len..], mac[..10]);
            assert_eq!(info.mac[..], mac[..10]);
            assert_eq!(info.file_length, len as u64);
            assert_eq!(info.enc_length, out.len() as u64);
            assert_eq!(info.file_sha256, sha256(&plain));
            assert_eq!(info.file_enc_sha256, sha256(&out));
            assert_eq!(info.sidecar.is_some(), t.is_streamable());

            let (back, dinfo) = k.decrypt_from_slice(&out).unwrap();
            assert_eq!(back, plain, "{t:?} {len}");
            assert_eq!(dinfo.file_sha256, info.file_sha256);
            assert_eq!(dinfo.file_enc_sha256, info.file_enc_sha256);
            dinfo
                .check(
                    Some(&info.file_enc_sha256),
                    Some(&info.file_sha256),
                    Some(len as u64),
                )
                .unwrap();
        }
    }
}

#[test]
fn every_type_round_trips_through_std_streams() {
    for t in MediaType::ALL {
        let k = keys(t);
        for len in SIZES {
            let plain = data(len);
            let mut enc = Vec::new();
            let info = k.encrypt_stream(&plain[..], &mut enc, true).unwrap();
            assert_eq!(enc, k.encrypt_to_vec(&plain, false).0);
            let mut back = Vec::new();
            let d = k.decrypt_stream(Cursor::new(&enc), &mut back).unwrap();
            assert_eq!(back, plain);
            assert_eq!(d.file_sha256, info.file_sha256);
            let mut back2 = Vec::new();
            k.decrypt_stream_unverified(&enc[..], &mut back2).unwrap();
            assert_eq!(back2, plain);
            let v = k.verify_stream(&enc[..]).unwrap();
            assert_eq!(v.file_enc_sha256, info.file_enc_sha256);
            assert_eq!(v.enc_length, enc.len() as u64);
        }
    }
}

#[cfg(feature = "tokio")]
#[test]
fn every_type_round_trips_through_tokio_streams() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        for t in MediaType::ALL {
            let k = keys(t);
            for len in SIZES {
                let plain = data(len);
                let mut enc = Vec::new();
                let info = k
                    .encrypt_async(&plain[..], &mut enc, t.is_streamable())
                    .await
                    .unwrap();
                assert_eq!(info.file_enc_sha256, sha256(&enc));
                let mut back = Vec::new();
                let d = k.decrypt_async(Cursor::new(&enc), &mut back).await.unwrap();
                assert_eq!(back, plain);
                assert_eq!(d.file_length, len as u64);
                let mut back2 = Vec::new();
                k.decrypt_async_unverified(&enc[..], &mut back2)
                    .await
                    .unwrap();
                assert_eq!(back2, plain);
                // Tampering is caught before anything reaches the writer.
                let mut bad = enc.clone();
                bad[len / 2] ^= 1;
                let mut sink = Vec::new();
                let err = k
                    .decrypt_async(Cursor::new(&bad), &mut sink)
                    .await
                    .unwrap_err();
                assert!(matches!(err, Error::MediaMac), "{err:?}");
                assert!(sink.is_empty());
            }
        }
    });
}

#[test]
fn tampered_byte_anywhere_fails_the_mac() {
    let k = keys(MediaType::Document);
    for len in [0usize, 5, 16, 100] {
        let (enc, _) = k.encrypt_to_vec(&data(len), false);
        for i in 0..enc.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = enc.clone();
                bad[i] ^= bit;
                let err = k.decrypt_from_slice(&bad).unwrap_err();
                assert!(
                    matches!(err, Error::MediaMac),
                    "len {len} offset {i}: {err:?}"
                );
                let mut sink = Vec::new();
                let err = k.decrypt_stream(Cursor::new(&bad), &mut sink).unwrap_err();
                assert!(matches!(err, Error::MediaMac));
                assert!(
                    sink.is_empty(),
                    "nothing is written before the MAC is checked"
                );
            }
        }
    }
    // A large file: sampled offsets, including both ends and chunk edges.
    let (enc, _) = k.encrypt_to_vec(&data(300_000), false);
    for i in [
        0,
        1,
        65_535,
        65_536,
        131_072,
        150_000,
        enc.len() - 11,
        enc.len() - 10,
        enc.len() - 1,
    ] {
        let mut bad = enc.clone();
        bad[i] ^= 0x20;
        assert!(
            matches!(k.decrypt_from_slice(&bad), Err(Error::MediaMac)),
            "offset {i}"
        );
        assert!(matches!(
            k.decrypt_stream_unverified(&bad[..], std::io::sink()),
            Err(Error::MediaMac)
        ));
    }
    // The wrong media type's keys fail the MAC too.
    assert!(matches!(
        keys(MediaType::Image).decrypt_from_slice(&enc),
        Err(Error::MediaMac)
    ));
}

#[test]
fn truncated_media_gives_length_errors() {
    let k = keys(MediaType::Audio);
    let (enc, _) = k.encrypt_to_vec(&data(40), false);
    assert_eq!(enc.len(), 58);
    for cut in 0..enc.len() {
        let err = k.decrypt_from_slice(&enc[..cut]).unwrap_err();
        match cut {
            0..26 => assert!(
                matches!(err, Error::MediaTooShort { len, min: 26 } if len == cut as u64),
                "{cut}: {err:?}"
            ),
            _ if (cut - 10) % 16 != 0 => assert!(
                matches!(err, Error::MediaNotBlockAligned { len } if len == cut as u64 - 10),
                "{cut}: {err:?}"
            ),
            _ => assert!(matches!(err, Error::MediaMac), "{cut}: {err:?}"),
        }
    }
}

#[test]
fn mismatched_announced_fields() {
    let k = keys(MediaType::Image);
    let (enc, info) = k.encrypt_to_vec(b"abc", false);
    let (_, d) = k.decrypt_from_slice(&enc).unwrap();
    let e = |r: Result<(), Error>| match r {
        Err(Error::MediaMismatch { field }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(e(d.check(Some(&[0; 32]), None, None)), "fileEncSha256");
    assert_eq!(
        e(d.check(None, Some(&info.file_enc_sha256), None)),
        "fileSha256"
    );
    assert_eq!(
        e(d.check(None, Some(&info.file_sha256[..31]), None)),
        "fileSha256"
    );
    assert_eq!(e(d.check(None, None, Some(4))), "fileLength");
    assert_eq!(info.upload_token().len(), 44);
    assert!(!info.upload_token().contains(['+', '/']));
}

/// Feeding the streaming cores in arbitrary pieces gives the same bytes as one call.
#[test]
fn chunking_does_not_change_output() {
    let k = keys(MediaType::Video);
    let plain = data(150_001);
    let (whole, info) = k.encrypt_to_vec(&plain, true);
    for piece in [1usize, 7, 16, 4095, 65_536, 70_000] {
        let mut e = MediaEncryptor::new(&k, true);
        let mut out = Vec::new();
        for c in plain.chunks(piece) {
            e.update(c, &mut out);
        }
        let i2 = e.finish(&mut out);
        assert_eq!(out, whole, "piece {piece}");
        assert_eq!(i2, info);
        let mut d = MediaDecryptor::new(&k);
        let mut back = Vec::new();
        for c in whole.chunks(piece) {
            d.update(c, &mut back);
        }
        d.finish(&mut back).unwrap();
        assert_eq!(back, plain, "piece {piece}");
    }
}

/// The sidecar recomputed from its definition: windows `[n·64K, (n+1)·64K + 16)` of `iv ++ enc`.
#[test]
fn sidecar_windows() {
    let k = keys(MediaType::Video);
    for len in [
        0usize, 100, 65_519, 65_520, 65_521, 131_040, 131_056, 200_000, 300_000,
    ] {
        let (enc_mac, info) = k.encrypt_to_vec(&data(len), true);
        let stream = [&k.iv()[..], &enc_mac[..enc_mac.len() - 10]].concat();
        let mut want = Vec::new();
        let mut start = 0;
        while start < stream.len() {
            let end = (start + 65_536 + 16).min(stream.len());
            want.extend_from_slice(&hmac_sha256(k.mac_key().as_bytes(), &stream[start..end])[..10]);
            start += 65_536;
        }
        let got = info.sidecar.unwrap();
        assert_eq!(got.len(), stream.len().div_ceil(65_536) * 10, "len {len}");
        assert_eq!(got, want, "len {len}");
        // The standalone builder over the same stream, in odd pieces, agrees.
        let mut b = SidecarBuilder::new(&k);
        for c in stream.chunks(12_345) {
            b.update(c);
        }
        assert_eq!(b.finish(), want);
    }
}
