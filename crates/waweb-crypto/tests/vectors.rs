//! Standard test vectors through the crate's own API: RFC 5869 (HKDF-SHA256), RFC 4231
//! (HMAC-SHA256) and NIST SP 800-38A F.2.5/F.2.6 (AES-256-CBC).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use waweb_crypto::Error;
use waweb_crypto::primitives::{
    aes256_cbc_decrypt, aes256_cbc_decrypt_blocks, aes256_cbc_encrypt, aes256_cbc_encrypt_blocks,
    hkdf_sha256, hkdf_sha256_expand, hkdf_sha256_extract, hmac_sha256, hmac_sha256_verify,
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

struct Hkdf {
    ikm: &'static str,
    salt: &'static str,
    info: &'static str,
    prk: &'static str,
    okm: &'static str,
}

// RFC 5869 Appendix A, test cases 1-3 (the SHA-256 ones).
const RFC5869: [Hkdf; 3] = [
    Hkdf {
        ikm: "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        salt: "000102030405060708090a0b0c",
        info: "f0f1f2f3f4f5f6f7f8f9",
        prk: "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    },
    Hkdf {
        ikm: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
              202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\
              404142434445464748494a4b4c4d4e4f",
        salt: "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\
               808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\
               a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
        info: "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf\
               d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef\
               f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
        prk: "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        okm: "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c\
              59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71\
              cc30c58179ec3e87c14c01d5c1f3434f1d87",
    },
    Hkdf {
        ikm: "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        salt: "",
        info: "",
        prk: "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    },
];

#[test]
fn rfc5869_hkdf_sha256() {
    for (i, tc) in RFC5869.iter().enumerate() {
        let (ikm, salt, info) = (h(tc.ikm), h(tc.salt), h(tc.info));
        let okm = h(tc.okm);
        let prk = hkdf_sha256_extract(&salt, &ikm);
        assert_eq!(prk.to_vec(), h(tc.prk), "case {}: PRK", i + 1);
        let mut out = vec![0; okm.len()];
        hkdf_sha256(&salt, &ikm, &info, &mut out).unwrap();
        assert_eq!(out, okm, "case {}: extract+expand", i + 1);
        let mut out2 = vec![0; okm.len()];
        hkdf_sha256_expand(&prk, &info, &mut out2).unwrap();
        assert_eq!(out2, okm, "case {}: expand from PRK", i + 1);
    }
}

#[test]
fn hkdf_rejects_too_long_output() {
    let mut out = vec![0; 255 * 32 + 1];
    let err = hkdf_sha256(&[], b"ikm", &[], &mut out).unwrap_err();
    assert!(
        matches!(
            err,
            Error::HkdfLength {
                requested: 8161,
                max: 8160
            }
        ),
        "{err:?}"
    );
}

/// The seeds describe the login expansion two ways: "HKDF(sharedSecret, 80)" (000/002/004) and
/// "HKDF(HmacSha256(32 zero bytes, sharedSecret), 80)" (001), where the second "HKDF" is the
/// expand step. They agree: an absent salt, an empty salt and a 32-zero-byte salt give the same
/// PRK, and full HKDF is expand(PRK).
#[test]
fn seed_revisions_hkdf_descriptions_agree() {
    for ikm in [[0u8; 32], [0x42; 32], core::array::from_fn(|i| i as u8)] {
        let mut full = [0u8; 80];
        hkdf_sha256(&[], &ikm, &[], &mut full).unwrap();
        let prk = hmac_sha256(&[0u8; 32], &ikm);
        let mut rev001 = [0u8; 80];
        hkdf_sha256_expand(&prk, &[], &mut rev001).unwrap();
        assert_eq!(full, rev001);
        let mut zero_salt = [0u8; 80];
        hkdf_sha256(&[0u8; 32], &ikm, &[], &mut zero_salt).unwrap();
        assert_eq!(full, zero_salt);
    }
}

// RFC 4231 section 4, test cases 1-7, HMAC-SHA-256 column.
#[test]
fn rfc4231_hmac_sha256() {
    let long_key = vec![0xaa; 131];
    let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
        (
            vec![0x0b; 20],
            b"Hi There".to_vec(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            vec![0xaa; 20],
            vec![0xdd; 50],
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        ),
        (
            h("0102030405060708090a0b0c0d0e0f10111213141516171819"),
            vec![0xcd; 50],
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        ),
        (vec![0x0c; 20], b"Test With Truncation".to_vec(), "a3b6167473100ee06e0c796c2955552b"),
        (
            long_key.clone(),
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            long_key,
            b"This is a test using a larger than block-size key and a larger than block-size data. \
The key needs to be hashed before being used by the HMAC algorithm."
                .to_vec(),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (i, (key, data, want)) in cases.iter().enumerate() {
        let want = h(want);
        let got = hmac_sha256(key, data);
        assert_eq!(&got[..want.len()], &want[..], "case {}", i + 1);
        assert!(
            hmac_sha256_verify(key, data, &want),
            "case {} verify",
            i + 1
        );
        let mut bad = want.clone();
        bad[0] ^= 1;
        assert!(
            !hmac_sha256_verify(key, data, &bad),
            "case {} verify bad",
            i + 1
        );
    }
    assert!(
        !hmac_sha256_verify(b"k", b"d", &[]),
        "empty tag must not verify"
    );
    let full = hmac_sha256(b"k", b"d");
    assert!(
        !hmac_sha256_verify(b"k", b"d", &full[..9]),
        "9-byte prefix must not verify"
    );
    assert!(hmac_sha256_verify(b"k", b"d", &full[..10]));
    assert!(
        !hmac_sha256_verify(b"k", b"d", &[&full[..], &[0]].concat()),
        "33 bytes"
    );
}

// NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt) and F.2.6 (CBC-AES256.Decrypt).
const NIST_KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const NIST_IV: &str = "000102030405060708090a0b0c0d0e0f";
const NIST_PT: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                       30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const NIST_CT: &str = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d\
                       39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b";

fn nist_key_iv() -> ([u8; 32], [u8; 16]) {
    (
        h(NIST_KEY).try_into().unwrap(),
        h(NIST_IV).try_into().unwrap(),
    )
}

#[test]
fn nist_sp800_38a_cbc_aes256_encrypt() {
    let (key, iv) = nist_key_iv();
    let mut buf = h(NIST_PT);
    aes256_cbc_encrypt_blocks(&key, &iv, &mut buf).unwrap();
    assert_eq!(buf, h(NIST_CT));
}

#[test]
fn nist_sp800_38a_cbc_aes256_decrypt() {
    let (key, iv) = nist_key_iv();
    let mut buf = h(NIST_CT);
    aes256_cbc_decrypt_blocks(&key, &iv, &mut buf).unwrap();
    assert_eq!(buf, h(NIST_PT));
}

/// The padded API agrees with the raw one: its first four blocks are the NIST ciphertext and it
/// adds one full block of padding (0x10 × 16) for block-aligned input.
#[test]
fn nist_vectors_through_padded_api() {
    let (key, iv) = nist_key_iv();
    let ct = aes256_cbc_encrypt(&key, &iv, &h(NIST_PT));
    assert_eq!(ct.len(), 80);
    assert_eq!(ct[..64], h(NIST_CT)[..]);
    assert_eq!(aes256_cbc_decrypt(&key, &iv, &ct).unwrap(), h(NIST_PT));
    // Raw decryption exposes the padding block.
    let mut raw = ct.clone();
    aes256_cbc_decrypt_blocks(&key, &iv, &mut raw).unwrap();
    assert_eq!(raw[64..], [0x10; 16]);
}

#[test]
fn aes_cbc_typed_errors() {
    let (key, iv) = nist_key_iv();
    assert!(matches!(
        aes256_cbc_decrypt(&key, &iv, &[]),
        Err(Error::NotBlockAligned { len: 0 })
    ));
    assert!(matches!(
        aes256_cbc_decrypt(&key, &iv, &[0; 17]),
        Err(Error::NotBlockAligned { len: 17 })
    ));
    assert!(matches!(
        aes256_cbc_encrypt_blocks(&key, &iv, &mut [0; 15]),
        Err(Error::NotBlockAligned { len: 15 })
    ));
    // The first NIST block alone decrypts to a plaintext ending in 0x2a: not valid PKCS#7.
    let mut ct = h(NIST_CT);
    ct.truncate(16);
    let err = aes256_cbc_decrypt(&key, &iv, &ct).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Padding {
                context: "aes-cbc",
                pad_byte: 0x2a
            }
        ),
        "{err:?}"
    );
}
