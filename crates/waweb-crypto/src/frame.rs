//! Binary frame crypto: `HMAC-SHA256(macKey, iv ++ ct) ++ iv ++ AES-256-CBC(encKey, iv, plain)`.
//!
//! The message tag and comma before the frame, and the two metric/flags bytes that outgoing frames
//! carry between the comma and the MAC, belong to the session layer: these functions see only the
//! bytes from the MAC on.

use cbc::cipher::KeyIvInit;
use ring::hmac;

use crate::error::{Error, Result};
use crate::keys::SessionKeys;
use crate::primitives::{
    BLOCK_LEN, CbcDec, CbcEnc, cbc_decrypt_blocks, cbc_encrypt_blocks, padded_len,
    pkcs7_unpadded_len, random_bytes,
};

/// Length of the frame MAC.
pub const FRAME_MAC_LEN: usize = 32;
/// Offset of the ciphertext (MAC + IV).
pub const FRAME_HEADER_LEN: usize = FRAME_MAC_LEN + BLOCK_LEN;
/// Smallest valid frame: MAC, IV and one block.
pub const FRAME_MIN_LEN: usize = FRAME_HEADER_LEN + BLOCK_LEN;

impl SessionKeys {
    /// Opens an incoming binary frame: checks `frame[0..32] == HMAC-SHA256(macKey, frame[32..])` in
    /// constant time, then decrypts `frame[48..]` with `encKey` and IV `frame[32..48]` and removes
    /// the PKCS#7 padding.
    ///
    /// # Errors
    /// [`Error::FrameTooShort`], [`Error::FrameNotBlockAligned`], [`Error::FrameMac`],
    /// [`Error::Padding`] (context `"frame"`), checked in that order; nothing is decrypted before
    /// the MAC has been verified.
    pub fn open_frame(&self, frame: &[u8]) -> Result<Vec<u8>> {
        self.verify_frame(frame)?;
        let (_, ct) = frame.split_at(FRAME_HEADER_LEN);
        let mut out = ct.to_vec();
        let len = self.decrypt_verified(frame, &mut out)?;
        out.truncate(len);
        Ok(out)
    }

    /// Like [`open_frame`](Self::open_frame) but decrypts inside `frame` and returns the
    /// plaintext as a sub-slice of it, with no allocation.
    ///
    /// # Errors
    /// As [`open_frame`](Self::open_frame). On error `frame` is left unchanged unless the
    /// padding check failed (then it holds the unpadded-check plaintext and must be discarded).
    pub fn open_frame_in_place<'a>(&self, frame: &'a mut [u8]) -> Result<&'a [u8]> {
        self.verify_frame(frame)?;
        let (header, ct) = frame.split_at_mut(FRAME_HEADER_LEN);
        let len = self.decrypt_verified(header, ct)?;
        let (plain, _) = ct.split_at(len);
        Ok(plain)
    }

    /// Seals an outgoing binary frame with a fresh random IV.
    ///
    /// # Errors
    /// [`Error::Rng`] if the random generator fails.
    pub fn seal_frame(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut iv = [0u8; BLOCK_LEN];
        random_bytes(&mut iv)?;
        Ok(self.seal_frame_with_iv(plaintext, &iv))
    }

    /// Seals an outgoing binary frame with the given IV (for tests and reproducible traces; never
    /// reuse an IV in production).
    #[must_use]
    pub fn seal_frame_with_iv(&self, plaintext: &[u8], iv: &[u8; BLOCK_LEN]) -> Vec<u8> {
        let total = FRAME_HEADER_LEN + padded_len(plaintext.len());
        let mut out = Vec::with_capacity(total);
        out.resize(FRAME_MAC_LEN, 0);
        out.extend_from_slice(iv);
        out.extend_from_slice(plaintext);
        crate::primitives::pkcs7_pad(&mut out);
        let (head, body) = out.split_at_mut(FRAME_MAC_LEN);
        {
            let (_, ct) = body.split_at_mut(BLOCK_LEN);
            cbc_encrypt_blocks(&mut CbcEnc::new(self.enc.as_bytes().into(), iv.into()), ct);
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.mac.as_bytes());
        head.copy_from_slice(hmac::sign(&key, body).as_ref());
        out
    }

    /// Length checks and the constant-time MAC check.
    fn verify_frame(&self, frame: &[u8]) -> Result<()> {
        if frame.len() < FRAME_MIN_LEN {
            return Err(Error::FrameTooShort {
                len: frame.len(),
                min: FRAME_MIN_LEN,
            });
        }
        let ct_len = frame.len() - FRAME_HEADER_LEN;
        if !ct_len.is_multiple_of(BLOCK_LEN) {
            return Err(Error::FrameNotBlockAligned { len: ct_len });
        }
        let (tag, body) = frame.split_at(FRAME_MAC_LEN);
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.mac.as_bytes());
        // ring's verify compares in constant time.
        hmac::verify(&key, body, tag).map_err(|_| Error::FrameMac)
    }

    /// Decrypts `ct` in place with the IV at `header[32..48]`; returns the unpadded length.
    fn decrypt_verified(&self, header: &[u8], ct: &mut [u8]) -> Result<usize> {
        let iv = header
            .get(FRAME_MAC_LEN..FRAME_HEADER_LEN)
            .and_then(|s| <&[u8; BLOCK_LEN]>::try_from(s).ok())
            .ok_or(Error::FrameTooShort {
                len: header.len(),
                min: FRAME_MIN_LEN,
            })?;
        cbc_decrypt_blocks(&mut CbcDec::new(self.enc.as_bytes().into(), iv.into()), ct);
        pkcs7_unpadded_len(ct, "frame")
    }
}
