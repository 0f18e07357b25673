//! The login `secret` of the `Conn` message: client-side processing and server-side construction.
//!
//! Layout of the 144 decoded bytes (see `docs/crypto.md`):
//!
//! | bytes      | content                                                              |
//! |------------|----------------------------------------------------------------------|
//! | `0..32`    | server's ephemeral Curve25519 public key                             |
//! | `32..64`   | `HMAC-SHA256(expanded[32..64], secret[0..32] ++ secret[64..144])`     |
//! | `64..144`  | `AES-256-CBC(key = expanded[0..32], iv = expanded[64..80], encKey ++ macKey ++ pad16)` |
//!
//! where `expanded = HKDF-SHA256(salt = none, ikm = X25519(ours, theirs), info = "", 80)`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{KEY_LEN, KeyPair, SessionKeys};
use crate::primitives::{
    BLOCK_LEN, CbcDec, CbcEnc, cbc_decrypt_blocks, cbc_encrypt_padded_vec, ct_eq_prefix,
    hkdf_sha256, hmac_sha256_parts, pkcs7_unpadded_len, to_array,
};
use cbc::cipher::KeyIvInit;

/// Length of the decoded login secret.
pub const SECRET_LEN: usize = 144;
/// Length of the HKDF expansion of the shared secret.
pub const EXPANDED_LEN: usize = 80;

/// The decoded 144-byte `secret` field of `Conn`.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginSecret([u8; SECRET_LEN]);

impl LoginSecret {
    /// Decodes the base64 `secret` string of `Conn`.
    ///
    /// # Errors
    /// [`Error::Base64`] if it is not base64, [`Error::Length`] unless it decodes to 144 bytes.
    pub fn from_base64(secret: &str) -> Result<Self> {
        let bytes = B64
            .decode(secret.trim())
            .map_err(|_| Error::Base64 { field: "secret" })?;
        Self::from_bytes(&bytes)
    }

    /// Wraps decoded bytes.
    ///
    /// # Errors
    /// [`Error::Length`] unless `bytes` is 144 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; SECRET_LEN] = bytes.try_into().map_err(|_| Error::Length {
            field: "secret",
            expected: SECRET_LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(arr))
    }

    /// The raw 144 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// Base64 as it goes into `Conn.secret`.
    #[must_use]
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// The server's public key, `secret[0..32]`.
    #[must_use]
    pub fn server_public_key(&self) -> [u8; KEY_LEN] {
        let (pk, _) = self.0.split_at(KEY_LEN);
        to_array(pk)
    }

    fn parts(&self) -> (&[u8], &[u8], &[u8]) {
        let (pk, rest) = self.0.split_at(32);
        let (mac, enc) = rest.split_at(32);
        (pk, mac, enc)
    }

    /// The server side: builds the secret that gives `keys` to the holder of the private key of
    /// `client_public`, using `server` as the ephemeral key pair.
    ///
    /// # Errors
    /// [`Error::NonContributoryKey`] if `client_public` is a low-order point.
    pub fn build(
        server: &KeyPair,
        client_public: &[u8; KEY_LEN],
        keys: &SessionKeys,
    ) -> Result<Self> {
        let expanded = expand(server, client_public)?;
        let (aes_key, mac_key, iv) = split_expanded(&expanded);
        let mut buf = Zeroizing::new(Vec::with_capacity(SECRET_LEN - 64));
        buf.extend_from_slice(keys.enc.as_bytes());
        buf.extend_from_slice(keys.mac.as_bytes());
        cbc_encrypt_padded_vec(&mut CbcEnc::new(aes_key.into(), iv.into()), &mut buf);
        let public = server.public_key();
        let tag = hmac_sha256_parts(mac_key, &[&public, &buf]);
        let mut out = [0u8; SECRET_LEN];
        let (o_pk, rest) = out.split_at_mut(32);
        let (o_mac, o_enc) = rest.split_at_mut(32);
        o_pk.copy_from_slice(&public);
        o_mac.copy_from_slice(&tag);
        // `buf` is 64 bytes of keys plus one block of padding: exactly 80.
        if o_enc.len() != buf.len() {
            return Err(Error::SecretKeysLength { len: buf.len() });
        }
        o_enc.copy_from_slice(&buf);
        Ok(Self(out))
    }
}

impl core::fmt::Debug for LoginSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoginSecret")
            .field("len", &SECRET_LEN)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// The client side: derives `encKey` and `macKey` from the login secret.
    ///
    /// Checks, in order: the server key is not low-order ([`Error::NonContributoryKey`]), the
    /// HMAC at `secret[32..64]` in constant time ([`Error::SecretMac`]), the padding of the
    /// decrypted keys ([`Error::Padding`]) and their length ([`Error::SecretKeysLength`]).
    ///
    /// # Errors
    /// As listed above.
    pub fn session_keys(&self, secret: &LoginSecret) -> Result<SessionKeys> {
        let expanded = expand(self, &secret.server_public_key())?;
        let (aes_key, mac_key, iv) = split_expanded(&expanded);
        let (pk, tag, enc) = secret.parts();
        let expected = hmac_sha256_parts(mac_key, &[pk, enc]);
        if !ct_eq_prefix(&expected, tag) {
            return Err(Error::SecretMac);
        }
        let mut buf = Zeroizing::new(enc.to_vec());
        cbc_decrypt_blocks(&mut CbcDec::new(aes_key.into(), iv.into()), &mut buf);
        let len = pkcs7_unpadded_len(&buf, "login secret")?;
        if len != 2 * KEY_LEN {
            return Err(Error::SecretKeysLength { len });
        }
        let (enc_key, rest) = buf.split_at(KEY_LEN);
        let mac_key = rest.get(..KEY_LEN).ok_or(Error::SecretKeysLength { len })?;
        Ok(SessionKeys::new(to_array(enc_key), to_array(mac_key)))
    }
}

/// `HKDF-SHA256(salt = none, ikm = X25519(ours, theirs), info = "", 80)`.
fn expand(ours: &KeyPair, theirs: &[u8; KEY_LEN]) -> Result<Zeroizing<[u8; EXPANDED_LEN]>> {
    let shared = ours.agree(theirs)?;
    let mut out = Zeroizing::new([0u8; EXPANDED_LEN]);
    hkdf_sha256(&[], shared.as_ref(), &[], out.as_mut())?;
    Ok(out)
}

/// `(expanded[0..32], expanded[32..64], expanded[64..80])`: AES key, HMAC key, IV.
fn split_expanded(e: &[u8; EXPANDED_LEN]) -> (&[u8; 32], &[u8; 32], &[u8; BLOCK_LEN]) {
    let (a, rest) = e.split_first_chunk::<32>().unwrap_or((&[0; 32], &[]));
    let (m, rest) = rest.split_first_chunk::<32>().unwrap_or((&[0; 32], &[]));
    let (iv, _) = rest
        .split_first_chunk::<BLOCK_LEN>()
        .unwrap_or((&[0; BLOCK_LEN], &[]));
    (a, m, iv)
}
