//! End-to-end media crypto: key expansion, encryption to `enc ++ mac`, decryption, sidecar.
//!
//! The streaming cores ([`MediaEncryptor`], [`MediaDecryptor`], [`MediaVerifier`],
//! [`SidecarBuilder`]) own no I/O: they take input slices and append output to a `Vec`, holding at
//! most a few dozen bytes between calls. The `std::io` and tokio adapters in this module's siblings
//! drive them with a fixed 64 KiB buffer, so memory stays bounded whatever the file size.

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE as B64_URL};
use cbc::cipher::KeyIvInit;
use ring::{digest, hmac};

use crate::error::{Error, Result};
use crate::keys::{KEY_LEN, SymmetricKey};
use crate::primitives::{
    BLOCK_LEN, CbcDec, CbcEnc, cbc_decrypt_blocks, cbc_encrypt_blocks, ct_eq_prefix, hkdf_sha256,
    pkcs7_pad, pkcs7_unpadded_len, random_bytes, to_array,
};

/// Length of the truncated media MAC appended to `enc`.
pub const MEDIA_MAC_LEN: usize = 10;
/// Length of the HKDF expansion of a media key.
pub const MEDIA_EXPANDED_LEN: usize = 112;
/// Smallest valid `enc ++ mac`: one block and the MAC.
pub const MEDIA_MIN_LEN: u64 = (BLOCK_LEN + MEDIA_MAC_LEN) as u64;
/// Sidecar chunk stride: one MAC per 64 KiB of `iv ++ enc`.
pub const SIDECAR_CHUNK: u64 = 64 * 1024;
/// How far each sidecar window reaches past its 64 KiB: one AES block.
pub const SIDECAR_OVERLAP: u64 = BLOCK_LEN as u64;

/// The kind of media, which selects the HKDF application info.
///
/// Stickers use the image keys, GIFs (videos played as GIF) the video keys and voice notes (PTT)
/// the audio keys (Baileys 3.x `HKDFInfoKeys` in `src/WAConnection/Constants.ts`; later Baileys
/// `MEDIA_HKDF_KEY_MAPPING` in `src/Defaults/index.ts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaType {
    /// `imageMessage`.
    Image,
    /// `stickerMessage`: image keys, uploaded under `/mms/image`.
    Sticker,
    /// `videoMessage`.
    Video,
    /// `videoMessage` with `gifPlayback`: video keys.
    Gif,
    /// `audioMessage`.
    Audio,
    /// `audioMessage` with `ptt` (voice note): audio keys.
    Ptt,
    /// `documentMessage`.
    Document,
}

impl MediaType {
    /// Every media type.
    pub const ALL: [Self; 7] = [
        Self::Image,
        Self::Sticker,
        Self::Video,
        Self::Gif,
        Self::Audio,
        Self::Ptt,
        Self::Document,
    ];

    /// The HKDF `info` string for this type's media key expansion.
    #[must_use]
    pub const fn hkdf_info(self) -> &'static str {
        match self {
            Self::Image | Self::Sticker => "WhatsApp Image Keys",
            Self::Video | Self::Gif => "WhatsApp Video Keys",
            Self::Audio | Self::Ptt => "WhatsApp Audio Keys",
            Self::Document => "WhatsApp Document Keys",
        }
    }

    /// The `mediaConn` upload path (`/mms/<kind>`); also the `filetype` of the older
    /// `encr_upload` action without the prefix.
    #[must_use]
    pub const fn upload_path(self) -> &'static str {
        match self {
            Self::Image | Self::Sticker => "/mms/image",
            Self::Video | Self::Gif => "/mms/video",
            Self::Audio | Self::Ptt => "/mms/audio",
            Self::Document => "/mms/document",
        }
    }

    /// Whether the official clients attach a sidecar (streamable media: video and audio).
    #[must_use]
    pub const fn is_streamable(self) -> bool {
        matches!(self, Self::Video | Self::Gif | Self::Audio | Self::Ptt)
    }
}

/// The 32-byte `mediaKey` of a media message. Wiped on drop, never printed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MediaKey(SymmetricKey);

impl MediaKey {
    /// A fresh random media key.
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails.
    pub fn generate() -> Result<Self> {
        let mut b = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        random_bytes(b.as_mut())?;
        Ok(Self(SymmetricKey::new(*b)))
    }

    /// Wraps raw key bytes.
    #[must_use]
    pub const fn new(bytes: [u8; KEY_LEN]) -> Self {
        Self(SymmetricKey::new(bytes))
    }

    /// Parses raw bytes (as in the protobuf `mediaKey` field).
    ///
    /// # Errors
    /// [`Error::Length`] unless 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        SymmetricKey::from_slice("mediaKey", bytes).map(Self)
    }

    /// Parses standard base64.
    ///
    /// # Errors
    /// [`Error::Base64`] or [`Error::Length`].
    pub fn from_base64(s: &str) -> Result<Self> {
        let b = zeroize::Zeroizing::new(
            B64.decode(s.trim())
                .map_err(|_| Error::Base64 { field: "mediaKey" })?,
        );
        Self::from_slice(&b)
    }

    /// Standard base64.
    #[must_use]
    pub fn to_base64(&self) -> String {
        B64.encode(self.0.as_bytes())
    }

    /// The raw bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        self.0.as_bytes()
    }

    /// Expands the key for `media_type` (see [`MediaKeys`]).
    #[must_use]
    pub fn expand(&self, media_type: MediaType) -> MediaKeys {
        MediaKeys::derive(self, media_type)
    }
}

/// The 112-byte HKDF expansion of a media key, split as
/// `iv = [0..16]`, `cipherKey = [16..48]`, `macKey = [48..80]`, `refKey = [80..112]`.
#[derive(Clone)]
pub struct MediaKeys {
    iv: [u8; BLOCK_LEN],
    cipher_key: SymmetricKey,
    mac_key: SymmetricKey,
    ref_key: SymmetricKey,
}

impl MediaKeys {
    /// `HKDF-SHA256(salt = none, ikm = mediaKey, info = media_type.hkdf_info(), 112)`, split.
    #[must_use]
    pub fn derive(media_key: &MediaKey, media_type: MediaType) -> Self {
        let mut e = zeroize::Zeroizing::new([0u8; MEDIA_EXPANDED_LEN]);
        // 112 bytes is far below HKDF's limit, so this cannot fail.
        let _ = hkdf_sha256(
            &[],
            media_key.as_bytes(),
            media_type.hkdf_info().as_bytes(),
            e.as_mut(),
        );
        let (iv, rest) = e.split_at(BLOCK_LEN);
        let (ck, rest) = rest.split_at(KEY_LEN);
        let (mk, rk) = rest.split_at(KEY_LEN);
        Self {
            iv: to_array(iv),
            cipher_key: SymmetricKey::new(to_array(ck)),
            mac_key: SymmetricKey::new(to_array(mk)),
            ref_key: SymmetricKey::new(to_array(rk)),
        }
    }

    /// `iv`: `expanded[0..16]`.
    #[must_use]
    pub const fn iv(&self) -> &[u8; BLOCK_LEN] {
        &self.iv
    }
    /// `cipherKey`: `expanded[16..48]`.
    #[must_use]
    pub const fn cipher_key(&self) -> &SymmetricKey {
        &self.cipher_key
    }
    /// `macKey`: `expanded[48..80]`.
    #[must_use]
    pub const fn mac_key(&self) -> &SymmetricKey {
        &self.mac_key
    }
    /// `refKey`: `expanded[80..112]` (unused by the protocol).
    #[must_use]
    pub const fn ref_key(&self) -> &SymmetricKey {
        &self.ref_key
    }

    fn hmac_key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, self.mac_key.as_bytes())
    }

    /// Encrypts a whole in-memory file; returns `enc ++ mac` and its metadata.
    #[must_use]
    pub fn encrypt_to_vec(&self, plain: &[u8], with_sidecar: bool) -> (Vec<u8>, EncryptedMedia) {
        let mut enc = MediaEncryptor::new(self, with_sidecar);
        let mut out = Vec::with_capacity(plain.len() + BLOCK_LEN + MEDIA_MAC_LEN);
        enc.update(plain, &mut out);
        let info = enc.finish(&mut out);
        (out, info)
    }

    /// Decrypts a whole in-memory `enc ++ mac`, checking the MAC before decrypting anything.
    ///
    /// # Errors
    /// [`Error::MediaTooShort`], [`Error::MediaNotBlockAligned`], [`Error::MediaMac`],
    /// [`Error::Padding`] (context `"media"`).
    pub fn decrypt_from_slice(&self, data: &[u8]) -> Result<(Vec<u8>, DecryptedMedia)> {
        let mut v = MediaVerifier::new(self);
        v.update(data);
        let verified = v.finish()?;
        let mut d = MediaDecryptor::after_verification(self, &verified);
        let mut out = Vec::with_capacity(data.len());
        d.update(data, &mut out);
        let info = d.finish(&mut out)?;
        Ok((out, info))
    }
}

impl Drop for MediaKeys {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.iv);
    }
}

impl PartialEq for MediaKeys {
    /// Constant time in every field.
    fn eq(&self, other: &Self) -> bool {
        let iv_eq: bool = subtle::ConstantTimeEq::ct_eq(&self.iv[..], &other.iv[..]).into();
        // `&` rather than `&&`: no early exit.
        iv_eq
            & (self.cipher_key == other.cipher_key)
            & (self.mac_key == other.mac_key)
            & (self.ref_key == other.ref_key)
    }
}
impl Eq for MediaKeys {}

impl core::fmt::Debug for MediaKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MediaKeys { <redacted> }")
    }
}

/// What encryption produced besides the bytes: the fields of the media message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedMedia {
    /// `fileLength`: length of the plaintext.
    pub file_length: u64,
    /// `fileSha256`: SHA-256 of the plaintext.
    pub file_sha256: [u8; 32],
    /// `fileEncSha256`: SHA-256 of `enc ++ mac` (the uploaded bytes).
    pub file_enc_sha256: [u8; 32],
    /// The 10-byte MAC appended to `enc`.
    pub mac: [u8; MEDIA_MAC_LEN],
    /// Length of `enc ++ mac`.
    pub enc_length: u64,
    /// The sidecar (`streamingSidecar`), if it was asked for.
    pub sidecar: Option<Vec<u8>>,
}

impl EncryptedMedia {
    /// `fileEncSha256` in standard base64 (the `hash` of the older `encr_upload` flow).
    #[must_use]
    pub fn file_enc_sha256_b64(&self) -> String {
        B64.encode(self.file_enc_sha256)
    }

    /// The `mediaConn` upload token: URL-safe base64 of `fileEncSha256` (go-whatsapp `media.go`).
    #[must_use]
    pub fn upload_token(&self) -> String {
        B64_URL.encode(self.file_enc_sha256)
    }
}

/// What decryption learned about the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptedMedia {
    /// Length of the plaintext.
    pub file_length: u64,
    /// SHA-256 of the plaintext.
    pub file_sha256: [u8; 32],
    /// SHA-256 of `enc ++ mac`.
    pub file_enc_sha256: [u8; 32],
}

impl DecryptedMedia {
    /// Compares with what the message announced; `None` skips a field.
    ///
    /// # Errors
    /// [`Error::MediaMismatch`] naming the first field that differs.
    pub fn check(
        &self,
        file_enc_sha256: Option<&[u8]>,
        file_sha256: Option<&[u8]>,
        file_length: Option<u64>,
    ) -> Result<()> {
        if let Some(h) = file_enc_sha256
            && (!ct_eq_prefix(&self.file_enc_sha256, h) || h.len() != 32)
        {
            return Err(Error::MediaMismatch {
                field: "fileEncSha256",
            });
        }
        if let Some(h) = file_sha256
            && (!ct_eq_prefix(&self.file_sha256, h) || h.len() != 32)
        {
            return Err(Error::MediaMismatch {
                field: "fileSha256",
            });
        }
        if file_length.is_some_and(|l| l != self.file_length) {
            return Err(Error::MediaMismatch {
                field: "fileLength",
            });
        }
        Ok(())
    }
}

/// Streaming media encryption (sans I/O).
pub struct MediaEncryptor {
    cbc: CbcEnc,
    mac: hmac::Context,
    enc_sha: digest::Context,
    plain_sha: digest::Context,
    pending: Vec<u8>,
    file_length: u64,
    enc_length: u64,
    sidecar: Option<SidecarBuilder>,
}

impl MediaEncryptor {
    /// Starts encrypting with `keys`; `with_sidecar` also computes the sidecar.
    #[must_use]
    pub fn new(keys: &MediaKeys, with_sidecar: bool) -> Self {
        let mut mac = hmac::Context::with_key(&keys.hmac_key());
        mac.update(&keys.iv);
        let sidecar = with_sidecar.then(|| {
            let mut s = SidecarBuilder::new(keys);
            s.update(&keys.iv);
            s
        });
        Self {
            cbc: CbcEnc::new(keys.cipher_key.as_bytes().into(), (&keys.iv).into()),
            mac,
            enc_sha: digest::Context::new(&digest::SHA256),
            plain_sha: digest::Context::new(&digest::SHA256),
            pending: Vec::with_capacity(BLOCK_LEN),
            file_length: 0,
            enc_length: 0,
            sidecar,
        }
    }

    /// Feeds plaintext; appends whole encrypted blocks to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) {
        self.plain_sha.update(input);
        self.file_length += input.len() as u64;
        let avail = self.pending.len() + input.len();
        let process = avail / BLOCK_LEN * BLOCK_LEN;
        let start = out.len();
        take_front(&mut self.pending, input, process, out);
        if let Some(ct) = out.get_mut(start..) {
            cbc_encrypt_blocks(&mut self.cbc, ct);
            self.absorb_ct_at(out, start);
        }
    }

    fn absorb_ct_at(&mut self, out: &[u8], start: usize) {
        if let Some(ct) = out.get(start..) {
            self.mac.update(ct);
            self.enc_sha.update(ct);
            if let Some(s) = self.sidecar.as_mut() {
                s.update(ct);
            }
            self.enc_length += ct.len() as u64;
        }
    }

    /// Pads and encrypts the rest, appends it and the 10-byte MAC to `out`.
    #[must_use]
    pub fn finish(mut self, out: &mut Vec<u8>) -> EncryptedMedia {
        let mut tail = core::mem::take(&mut self.pending);
        pkcs7_pad(&mut tail);
        cbc_encrypt_blocks(&mut self.cbc, &mut tail);
        let start = out.len();
        out.extend_from_slice(&tail);
        self.absorb_ct_at(out, start);
        let tag = self.mac.sign();
        let mac: [u8; MEDIA_MAC_LEN] = to_array(tag.as_ref());
        out.extend_from_slice(&mac);
        self.enc_sha.update(&mac);
        EncryptedMedia {
            file_length: self.file_length,
            file_sha256: to_array(self.plain_sha.finish().as_ref()),
            file_enc_sha256: to_array(self.enc_sha.finish().as_ref()),
            mac,
            enc_length: self.enc_length + MEDIA_MAC_LEN as u64,
            sidecar: self.sidecar.map(SidecarBuilder::finish),
        }
    }
}

impl core::fmt::Debug for MediaEncryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MediaEncryptor")
            .field("file_length", &self.file_length)
            .finish_non_exhaustive()
    }
}

/// Bytes held back while decrypting: the 10-byte MAC and the last (padded) block.
const DEC_HOLD: usize = MEDIA_MAC_LEN + BLOCK_LEN;

/// Streaming media decryption (sans I/O).
///
/// **The plaintext that [`update`](Self::update) appends is not authenticated until
/// [`finish`](Self::finish) returns `Ok`**: the MAC is the last 10 bytes of the stream. Callers
/// that must not release unverified plaintext either verify first with a [`MediaVerifier`]
/// (what [`MediaKeys::decrypt_from_slice`], [`MediaKeys::decrypt_stream`] and
/// `MediaKeys::decrypt_async` do) or keep the output private until `finish` succeeds.
pub struct MediaDecryptor {
    cbc: CbcDec,
    /// `None` after a [`MediaVerifier`] pass over the same bytes in memory.
    mac: Option<hmac::Context>,
    enc_sha: Option<digest::Context>,
    verified_enc_sha: [u8; 32],
    plain_sha: digest::Context,
    pending: Vec<u8>,
    consumed: u64,
    file_length: u64,
}

impl MediaDecryptor {
    /// Starts decrypting with `keys`.
    #[must_use]
    pub fn new(keys: &MediaKeys) -> Self {
        let mut mac = hmac::Context::with_key(&keys.hmac_key());
        mac.update(&keys.iv);
        Self {
            cbc: CbcDec::new(keys.cipher_key.as_bytes().into(), (&keys.iv).into()),
            mac: Some(mac),
            enc_sha: Some(digest::Context::new(&digest::SHA256)),
            verified_enc_sha: [0; 32],
            plain_sha: digest::Context::new(&digest::SHA256),
            pending: Vec::with_capacity(DEC_HOLD + BLOCK_LEN),
            consumed: 0,
            file_length: 0,
        }
    }

    /// A decryptor for bytes that a [`MediaVerifier`] has just accepted *and that cannot have
    /// changed since* (the same slice in memory): skips the second MAC and hash pass.
    fn after_verification(keys: &MediaKeys, verified: &VerifiedMedia) -> Self {
        let mut d = Self::new(keys);
        d.mac = None;
        d.enc_sha = None;
        d.verified_enc_sha = verified.file_enc_sha256;
        d
    }

    /// Feeds bytes of `enc ++ mac`; appends decrypted (not yet authenticated) plaintext to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let avail = self.pending.len() + input.len();
        let process = avail.saturating_sub(DEC_HOLD) / BLOCK_LEN * BLOCK_LEN;
        let start = out.len();
        take_front(&mut self.pending, input, process, out);
        if let Some(ct) = out.get_mut(start..) {
            if let Some(m) = self.mac.as_mut() {
                m.update(ct);
            }
            if let Some(h) = self.enc_sha.as_mut() {
                h.update(ct);
            }
            self.consumed += ct.len() as u64;
            cbc_decrypt_blocks(&mut self.cbc, ct);
            self.plain_sha.update(ct);
            self.file_length += ct.len() as u64;
        }
    }

    /// Checks lengths, the MAC (constant time) and the padding; appends the last plaintext.
    ///
    /// # Errors
    /// [`Error::MediaTooShort`], [`Error::MediaNotBlockAligned`], [`Error::MediaMac`],
    /// [`Error::Padding`], in that order.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<DecryptedMedia> {
        let total = self.consumed + self.pending.len() as u64;
        check_media_len(total)?;
        let ct_len = self
            .pending
            .len()
            .checked_sub(MEDIA_MAC_LEN)
            .ok_or(Error::MediaTooShort {
                len: total,
                min: MEDIA_MIN_LEN,
            })?;
        let (ct, tag) = self.pending.split_at_mut(ct_len);
        let file_enc_sha256 = match self.enc_sha {
            Some(mut h) => {
                h.update(ct);
                h.update(tag);
                to_array(h.finish().as_ref())
            }
            None => self.verified_enc_sha,
        };
        if let Some(mut m) = self.mac {
            m.update(ct);
            if !ct_eq_prefix(m.sign().as_ref(), tag) {
                return Err(Error::MediaMac);
            }
        }
        cbc_decrypt_blocks(&mut self.cbc, ct);
        let len = pkcs7_unpadded_len(ct, "media")?;
        let (plain, _) = ct.split_at(len);
        self.plain_sha.update(plain);
        out.extend_from_slice(plain);
        Ok(DecryptedMedia {
            file_length: self.file_length + len as u64,
            file_sha256: to_array(self.plain_sha.finish().as_ref()),
            file_enc_sha256,
        })
    }
}

impl core::fmt::Debug for MediaDecryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MediaDecryptor")
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

/// Checks the MAC of `enc ++ mac` without decrypting (the first pass of a verified decryption).
pub struct MediaVerifier {
    mac: hmac::Context,
    enc_sha: digest::Context,
    pending: Vec<u8>,
    consumed: u64,
}

/// The result of [`MediaVerifier::finish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedMedia {
    /// Length of `enc ++ mac`.
    pub enc_length: u64,
    /// SHA-256 of `enc ++ mac`.
    pub file_enc_sha256: [u8; 32],
}

impl MediaVerifier {
    /// Starts verifying with `keys`.
    #[must_use]
    pub fn new(keys: &MediaKeys) -> Self {
        let mut mac = hmac::Context::with_key(&keys.hmac_key());
        mac.update(&keys.iv);
        Self {
            mac,
            enc_sha: digest::Context::new(&digest::SHA256),
            pending: Vec::with_capacity(2 * MEDIA_MAC_LEN),
            consumed: 0,
        }
    }

    /// Feeds bytes of `enc ++ mac`.
    pub fn update(&mut self, input: &[u8]) {
        let avail = self.pending.len() + input.len();
        let process = avail.saturating_sub(MEDIA_MAC_LEN);
        let from_pending = process.min(self.pending.len());
        let (p_used, _) = self.pending.split_at(from_pending);
        self.mac.update(p_used);
        self.enc_sha.update(p_used);
        self.pending.drain(..from_pending);
        let (i_used, i_rest) = input.split_at(process - from_pending);
        self.mac.update(i_used);
        self.enc_sha.update(i_used);
        self.pending.extend_from_slice(i_rest);
        self.consumed += process as u64;
    }

    /// Checks lengths and the MAC.
    ///
    /// # Errors
    /// [`Error::MediaTooShort`], [`Error::MediaNotBlockAligned`], [`Error::MediaMac`].
    pub fn finish(mut self) -> Result<VerifiedMedia> {
        let total = self.consumed + self.pending.len() as u64;
        check_media_len(total)?;
        self.enc_sha.update(&self.pending);
        if !ct_eq_prefix(self.mac.sign().as_ref(), &self.pending) {
            return Err(Error::MediaMac);
        }
        Ok(VerifiedMedia {
            enc_length: total,
            file_enc_sha256: to_array(self.enc_sha.finish().as_ref()),
        })
    }
}

impl core::fmt::Debug for MediaVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MediaVerifier")
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

fn check_media_len(total: u64) -> Result<()> {
    if total < MEDIA_MIN_LEN {
        return Err(Error::MediaTooShort {
            len: total,
            min: MEDIA_MIN_LEN,
        });
    }
    let enc_len = total - MEDIA_MAC_LEN as u64;
    if !enc_len.is_multiple_of(BLOCK_LEN as u64) {
        return Err(Error::MediaNotBlockAligned { len: enc_len });
    }
    Ok(())
}

/// Moves the first `n` bytes of `pending ++ input` to the end of `out`, and keeps the rest in
/// `pending`.
fn take_front(pending: &mut Vec<u8>, input: &[u8], n: usize, out: &mut Vec<u8>) {
    let from_pending = n.min(pending.len());
    out.extend(pending.drain(..from_pending));
    let (used, rest) = input.split_at((n - from_pending).min(input.len()));
    out.extend_from_slice(used);
    pending.extend_from_slice(rest);
}

/// Computes the sidecar of streamable media from the stream `iv ++ enc` (the same bytes the media
/// MAC covers, without the MAC itself).
///
/// Window `n` covers bytes `[n·64 KiB, (n+1)·64 KiB + 16)` of that stream, cut at its end; a
/// window exists for every `n` with `n·64 KiB < len`. Its entry is
/// `HMAC-SHA256(macKey, window)[0..10]`; the sidecar is the entries in order. Each window thus
/// starts with the 16 bytes a CBC decryptor needs as IV for the 64 KiB after it (the media `iv`
/// for the first, the previous ciphertext block for the others) — which is what makes a byte
/// range independently checkable and decryptable. See `docs/crypto.md` for sources.
pub struct SidecarBuilder {
    key: hmac::Key,
    pos: u64,
    windows: VecDeque<(u64, hmac::Context)>,
    out: Vec<u8>,
}

impl SidecarBuilder {
    /// Starts a sidecar for media encrypted with `keys`. Feed it `iv ++ enc`.
    #[must_use]
    pub fn new(keys: &MediaKeys) -> Self {
        Self {
            key: keys.hmac_key(),
            pos: 0,
            windows: VecDeque::with_capacity(2),
            out: Vec::new(),
        }
    }

    /// Feeds the next bytes of `iv ++ enc`.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.pos.is_multiple_of(SIDECAR_CHUNK) {
                let end = self.pos + SIDECAR_CHUNK + SIDECAR_OVERLAP;
                self.windows
                    .push_back((end, hmac::Context::with_key(&self.key)));
            }
            let next_start = (self.pos / SIDECAR_CHUNK + 1) * SIDECAR_CHUNK;
            let boundary = self
                .windows
                .front()
                .map_or(next_start, |(end, _)| (*end).min(next_start));
            let step = usize::try_from(boundary - self.pos)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let (now, later) = data.split_at(step);
            for (_, ctx) in &mut self.windows {
                ctx.update(now);
            }
            self.pos += step as u64;
            data = later;
            while self
                .windows
                .front()
                .is_some_and(|(end, _)| *end == self.pos)
            {
                if let Some((_, ctx)) = self.windows.pop_front() {
                    self.emit(ctx);
                }
            }
        }
    }

    fn emit(&mut self, ctx: hmac::Context) {
        let tag = ctx.sign();
        if let Some(t) = tag.as_ref().get(..MEDIA_MAC_LEN) {
            self.out.extend_from_slice(t);
        }
    }

    /// Closes the open windows and returns the sidecar.
    #[must_use]
    pub fn finish(mut self) -> Vec<u8> {
        while let Some((_, ctx)) = self.windows.pop_front() {
            self.emit(ctx);
        }
        self.out
    }
}

impl core::fmt::Debug for SidecarBuilder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SidecarBuilder")
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}
