//! The standard building blocks: HMAC-SHA256, HKDF-SHA256, SHA-256 and AES-256-CBC.
//!
//! HMAC, HKDF, SHA-256 and randomness come from `ring`; AES-CBC (which `ring` does not offer) from
//! RustCrypto's `aes` + `cbc`, which pick AES-NI at run time where the CPU has it. These functions
//! are what the protocol code uses, and what the RFC 5869, RFC 4231 and NIST SP 800-38A vectors are
//! run through.

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InOutBuf, KeyIvInit};
use ring::{digest, hkdf, hmac, rand::SecureRandom};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// AES block length.
pub const BLOCK_LEN: usize = 16;
/// SHA-256 / HMAC-SHA256 output length.
pub const SHA256_LEN: usize = 32;
/// Largest output HKDF-SHA256 can produce (255 × 32).
pub const HKDF_MAX_LEN: usize = 255 * SHA256_LEN;

pub(crate) type CbcEnc = cbc::Encryptor<Aes256>;
pub(crate) type CbcDec = cbc::Decryptor<Aes256>;

/// `HMAC-SHA256(key, data)`.
#[must_use]
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; SHA256_LEN] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    to_array(hmac::sign(&key, data).as_ref())
}

/// `HMAC-SHA256(key, parts[0] ++ parts[1] ++ ...)` without concatenating.
#[must_use]
pub fn hmac_sha256_parts(key: &[u8], parts: &[&[u8]]) -> [u8; SHA256_LEN] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for part in parts {
        ctx.update(part);
    }
    to_array(ctx.sign().as_ref())
}

/// Shortest truncated tag [`hmac_sha256_verify`] accepts (the protocol's media MAC).
pub const MIN_TAG_LEN: usize = 10;

/// Checks `tag == HMAC-SHA256(key, data)[..tag.len()]` in constant time.
///
/// Tags shorter than [`MIN_TAG_LEN`] (10) bytes or longer than 32 never verify, so a caller
/// cannot weaken the check to a guessable prefix by passing a short slice.
#[must_use]
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    if tag.len() < MIN_TAG_LEN {
        return false;
    }
    let full = hmac_sha256(key, data);
    ct_eq_prefix(&full, tag)
}

/// `SHA-256(data)`.
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; SHA256_LEN] {
    to_array(digest::digest(&digest::SHA256, data).as_ref())
}

/// HKDF-Extract with SHA-256 (RFC 5869 §2.2): `PRK = HMAC-SHA256(salt, ikm)`.
///
/// An empty salt is the same as 32 zero bytes: HMAC pads every key shorter than the 64-byte block
/// with zeros, so both give the same PRK (RFC 5869 says "if not provided, it is set to a string of
/// HashLen zeros").
#[must_use]
pub fn hkdf_sha256_extract(salt: &[u8], ikm: &[u8]) -> [u8; SHA256_LEN] {
    hmac_sha256(salt, ikm)
}

/// HKDF-Expand with SHA-256 (RFC 5869 §2.3) from a PRK, filling `out`.
///
/// # Errors
/// [`Error::HkdfLength`] if `out` is longer than 8160 bytes; [`Error::Length`] if `prk` is shorter
/// than 32 bytes.
pub fn hkdf_sha256_expand(prk: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    if prk.len() < SHA256_LEN {
        return Err(Error::Length {
            field: "HKDF PRK",
            expected: SHA256_LEN,
            actual: prk.len(),
        });
    }
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk);
    expand_into(&prk, info, out)
}

/// Full HKDF-SHA256 (extract then expand), filling `out`.
///
/// # Errors
/// [`Error::HkdfLength`] if `out` is longer than 8160 bytes.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    expand_into(&prk, info, out)
}

fn expand_into(prk: &hkdf::Prk, info: &[u8], out: &mut [u8]) -> Result<()> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let requested = out.len();
    let too_long = || Error::HkdfLength {
        requested,
        max: HKDF_MAX_LEN,
    };
    if out.len() > HKDF_MAX_LEN {
        return Err(too_long());
    }
    let parts = [info];
    let okm = prk.expand(&parts, Len(out.len())).map_err(|_| too_long())?;
    okm.fill(out).map_err(|_| too_long())
}

/// AES-256-CBC encryption with PKCS#7 padding; the output is 1 to 16 bytes longer than the input.
#[must_use]
pub fn aes256_cbc_encrypt(key: &[u8; 32], iv: &[u8; BLOCK_LEN], plaintext: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(padded_len(plaintext.len()));
    buf.extend_from_slice(plaintext);
    cbc_encrypt_padded_vec(&mut CbcEnc::new(key.into(), iv.into()), &mut buf);
    buf
}

/// AES-256-CBC decryption followed by PKCS#7 unpadding.
///
/// # Errors
/// [`Error::NotBlockAligned`] if the ciphertext is empty or not whole blocks, [`Error::Padding`]
/// if the padding is malformed.
pub fn aes256_cbc_decrypt(
    key: &[u8; 32],
    iv: &[u8; BLOCK_LEN],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
        return Err(Error::NotBlockAligned {
            len: ciphertext.len(),
        });
    }
    let mut buf = ciphertext.to_vec();
    cbc_decrypt_blocks(&mut CbcDec::new(key.into(), iv.into()), &mut buf);
    let len = pkcs7_unpadded_len(&buf, "aes-cbc")?;
    buf.truncate(len);
    Ok(buf)
}

/// Raw AES-256-CBC encryption in place, without padding (as in NIST SP 800-38A).
///
/// # Errors
/// [`Error::NotBlockAligned`] if `buf` is not a whole number of blocks.
pub fn aes256_cbc_encrypt_blocks(
    key: &[u8; 32],
    iv: &[u8; BLOCK_LEN],
    buf: &mut [u8],
) -> Result<()> {
    if !buf.len().is_multiple_of(BLOCK_LEN) {
        return Err(Error::NotBlockAligned { len: buf.len() });
    }
    cbc_encrypt_blocks(&mut CbcEnc::new(key.into(), iv.into()), buf);
    Ok(())
}

/// Raw AES-256-CBC decryption in place, without padding (as in NIST SP 800-38A).
///
/// # Errors
/// [`Error::NotBlockAligned`] if `buf` is not a whole number of blocks.
pub fn aes256_cbc_decrypt_blocks(
    key: &[u8; 32],
    iv: &[u8; BLOCK_LEN],
    buf: &mut [u8],
) -> Result<()> {
    if !buf.len().is_multiple_of(BLOCK_LEN) {
        return Err(Error::NotBlockAligned { len: buf.len() });
    }
    cbc_decrypt_blocks(&mut CbcDec::new(key.into(), iv.into()), buf);
    Ok(())
}

/// Fills `buf` from the operating system's generator.
///
/// # Errors
/// [`Error::Rng`] if the generator fails.
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    ring::rand::SystemRandom::new()
        .fill(buf)
        .map_err(|_| Error::Rng)
}

// ---- crate-internal helpers -------------------------------------------------------------------

/// Length of `len` bytes after PKCS#7 padding.
pub(crate) const fn padded_len(len: usize) -> usize {
    (len / BLOCK_LEN + 1) * BLOCK_LEN
}

/// Encrypts whole blocks in place; any trailing partial block is left untouched (callers pass
/// whole blocks only).
pub(crate) fn cbc_encrypt_blocks(enc: &mut CbcEnc, buf: &mut [u8]) {
    let (blocks, _tail) = InOutBuf::from(buf).into_chunks();
    enc.encrypt_blocks_inout(blocks);
}

/// Decrypts whole blocks in place; any trailing partial block is left untouched.
pub(crate) fn cbc_decrypt_blocks(dec: &mut CbcDec, buf: &mut [u8]) {
    let (blocks, _tail) = InOutBuf::from(buf).into_chunks();
    dec.decrypt_blocks_inout(blocks);
}

/// Pads `buf` with PKCS#7 and encrypts it in place.
pub(crate) fn cbc_encrypt_padded_vec(enc: &mut CbcEnc, buf: &mut Vec<u8>) {
    pkcs7_pad(buf);
    cbc_encrypt_blocks(enc, buf);
}

/// Appends PKCS#7 padding (1..=16 bytes) to `buf`.
pub(crate) fn pkcs7_pad(buf: &mut Vec<u8>) {
    let pad = BLOCK_LEN - buf.len() % BLOCK_LEN;
    // `pad` is 1..=16, so the cast is lossless.
    #[allow(clippy::cast_possible_truncation)]
    buf.resize(buf.len() + pad, pad as u8);
}

/// Checks PKCS#7 padding of `plain` (already decrypted, whole blocks) and returns the length
/// without it. The check runs over the last block without early exit.
pub(crate) fn pkcs7_unpadded_len(plain: &[u8], context: &'static str) -> Result<usize> {
    let Some((&pad_byte, _)) = plain.split_last() else {
        return Err(Error::Padding {
            context,
            pad_byte: 0,
        });
    };
    let pad = usize::from(pad_byte);
    let bad = || Error::Padding { context, pad_byte };
    if pad == 0 || pad > BLOCK_LEN || pad > plain.len() {
        return Err(bad());
    }
    let start = plain.len() - pad;
    let tail = plain.get(start..).ok_or_else(bad)?;
    let mut diff = 0u8;
    for b in tail {
        diff |= b ^ pad_byte;
    }
    if diff != 0 {
        return Err(bad());
    }
    Ok(start)
}

/// Constant-time comparison of `tag` with the first `tag.len()` bytes of `full`.
pub(crate) fn ct_eq_prefix(full: &[u8], tag: &[u8]) -> bool {
    match full.get(..tag.len()) {
        Some(prefix) if !tag.is_empty() => bool::from(prefix.ct_eq(tag)),
        _ => false,
    }
}

pub(crate) fn to_array<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = s.len().min(N);
    if let (Some(dst), Some(src)) = (out.get_mut(..n), s.get(..n)) {
        dst.copy_from_slice(src);
    }
    out
}
