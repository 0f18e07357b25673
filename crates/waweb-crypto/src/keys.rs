//! Curve25519 key pairs and the session keys (`encKey`, `macKey`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::primitives::{hmac_sha256, random_bytes};

/// Length of a Curve25519 public or private key.
pub const KEY_LEN: usize = 32;

/// A Curve25519 key pair: the client's (whose public key goes into the QR code) or, in the
/// simulator, the server's ephemeral one (whose public key is `secret[0..32]`).
///
/// The private half is wiped on drop and never printed.
pub struct KeyPair {
    secret: StaticSecret,
    public: PublicKey,
}

impl KeyPair {
    /// A fresh key pair from the operating system's random generator.
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        random_bytes(bytes.as_mut())?;
        Ok(Self::from_secret_bytes(*bytes))
    }

    /// The key pair of a stored private key (clamped by X25519 as usual).
    #[must_use]
    pub fn from_secret_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let secret = StaticSecret::from(bytes);
        let public = PublicKey::from(&secret);
        Self { secret, public }
    }

    /// The private key's bytes, for persisting the key pair.
    #[must_use]
    pub fn secret_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> [u8; KEY_LEN] {
        self.public.to_bytes()
    }

    /// The public key as it goes into the QR string: standard base64 with padding (44 characters).
    #[must_use]
    pub fn qr_public_key(&self) -> String {
        B64.encode(self.public.as_bytes())
    }

    /// The whole QR string `ref,base64(publicKey),clientId`.
    #[must_use]
    pub fn qr_string(&self, server_ref: &str, client_id: &str) -> String {
        format!("{server_ref},{},{client_id}", self.qr_public_key())
    }

    /// X25519 with a peer's public key. Fails on a low-order peer key, whose result is all zeros.
    pub(crate) fn agree(&self, peer_public: &[u8; KEY_LEN]) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        let shared = self.secret.diffie_hellman(&PublicKey::from(*peer_public));
        if !shared.was_contributory() {
            return Err(Error::NonContributoryKey);
        }
        Ok(Zeroizing::new(shared.to_bytes()))
    }
}

impl core::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.qr_public_key())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A 32-byte symmetric key, wiped on drop, compared in constant time, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SymmetricKey([u8; KEY_LEN]);

impl SymmetricKey {
    /// Wraps raw key bytes.
    #[must_use]
    pub const fn new(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw key bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Parses a key from a slice.
    ///
    /// # Errors
    /// [`Error::Length`] unless the slice is 32 bytes.
    pub fn from_slice(field: &'static str, bytes: &[u8]) -> Result<Self> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| Error::Length {
            field,
            expected: KEY_LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(arr))
    }
}

impl PartialEq for SymmetricKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for SymmetricKey {}

impl core::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

/// The two session keys that come out of the login secret: `encKey` (AES-256-CBC for binary
/// frames) and `macKey` (HMAC-SHA256 for binary frames, the challenge answer and the logout token).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    pub(crate) enc: SymmetricKey,
    pub(crate) mac: SymmetricKey,
}

impl SessionKeys {
    /// Session keys from stored bytes (e.g. when restoring a session).
    #[must_use]
    pub const fn new(enc_key: [u8; KEY_LEN], mac_key: [u8; KEY_LEN]) -> Self {
        Self {
            enc: SymmetricKey::new(enc_key),
            mac: SymmetricKey::new(mac_key),
        }
    }

    /// Fresh random session keys (what the server side chooses).
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails.
    pub fn generate() -> Result<Self> {
        let mut enc = [0u8; KEY_LEN];
        let mut mac = [0u8; KEY_LEN];
        random_bytes(&mut enc)?;
        random_bytes(&mut mac)?;
        let keys = Self::new(enc, mac);
        enc.zeroize();
        mac.zeroize();
        Ok(keys)
    }

    /// `encKey`.
    #[must_use]
    pub const fn enc_key(&self) -> &SymmetricKey {
        &self.enc
    }

    /// `macKey`.
    #[must_use]
    pub const fn mac_key(&self) -> &SymmetricKey {
        &self.mac
    }

    /// The challenge answer: `base64(HMAC-SHA256(macKey, base64decode(challenge)))`, the string
    /// sent in `["admin","challenge",answer,serverToken,clientId]`.
    ///
    /// # Errors
    /// [`Error::Base64`] if `challenge_b64` is not base64.
    pub fn challenge_answer(&self, challenge_b64: &str) -> Result<String> {
        let challenge = B64
            .decode(challenge_b64.trim())
            .map_err(|_| Error::Base64 { field: "challenge" })?;
        Ok(B64.encode(self.challenge_answer_raw(&challenge)))
    }

    /// `HMAC-SHA256(macKey, challenge)` on raw bytes.
    #[must_use]
    pub fn challenge_answer_raw(&self, challenge: &[u8]) -> [u8; 32] {
        hmac_sha256(self.mac.as_bytes(), challenge)
    }

    /// The logout token for `https://dyn.web.whatsapp.com/logout?t=browserToken&m=TOKEN`:
    /// `base64(HMAC-SHA256(macKey, encKey))`.
    #[must_use]
    pub fn logout_token(&self) -> String {
        B64.encode(hmac_sha256(self.mac.as_bytes(), self.enc.as_bytes()))
    }
}

impl core::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SessionKeys { enc: <redacted>, mac: <redacted> }")
    }
}
