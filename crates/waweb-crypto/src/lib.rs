//! Cryptography of the legacy WhatsApp Web protocol.
//!
//! * [`KeyPair`]: Curve25519 key pairs, the QR public key, and [`KeyPair::session_keys`], which
//!   turns the 144-byte login [`LoginSecret`] of `Conn` into [`SessionKeys`]; [`LoginSecret::build`]
//!   is the server's side of the same exchange.
//! * [`SessionKeys`]: binary frame [`open`](SessionKeys::open_frame) /
//!   [`seal`](SessionKeys::seal_frame), the [challenge answer](SessionKeys::challenge_answer) and
//!   the [logout token](SessionKeys::logout_token).
//! * [`MediaKey`] / [`MediaKeys`]: end-to-end media encryption and decryption, streaming through
//!   `std::io` or (feature `tokio`, on by default) tokio, with bounded memory; [`SidecarBuilder`].
//! * [`primitives`]: HMAC-SHA256, HKDF-SHA256, SHA-256, AES-256-CBC as used above.
//!
//! Every key type wipes itself on drop, compares in constant time and prints as `<redacted>`.
//! Every failure is an [`Error`] variant naming the check that failed. The whole key schedule,
//! with byte offsets, is in `docs/crypto.md`.
//!
//! ```
//! use waweb_crypto::{KeyPair, LoginSecret, MediaKey, MediaType, SessionKeys};
//!
//! # fn main() -> Result<(), waweb_crypto::Error> {
//! // Client: a key pair whose public key goes into the QR code.
//! let client = KeyPair::generate()?;
//! let qr = client.qr_string("1@ref", "Y2xpZW50LWlkLTEyMzQ1Ng==");
//! assert_eq!(qr.split(',').count(), 3);
//!
//! // Server (the simulator): picks session keys and builds `Conn.secret`.
//! let chosen = SessionKeys::generate()?;
//! let secret = LoginSecret::build(&KeyPair::generate()?, &client.public_key(), &chosen)?;
//!
//! // Client: decodes the secret and derives the same keys.
//! let keys = client.session_keys(&LoginSecret::from_base64(&secret.to_base64())?)?;
//! assert_eq!(keys, chosen);
//!
//! // Binary frames.
//! let frame = keys.seal_frame(b"node bytes")?;
//! assert_eq!(chosen.open_frame(&frame)?, b"node bytes");
//!
//! // Media.
//! let media_keys = MediaKey::generate()?.expand(MediaType::Image);
//! let (enc, info) = media_keys.encrypt_to_vec(b"jpeg bytes", false);
//! let (plain, got) = media_keys.decrypt_from_slice(&enc)?;
//! assert_eq!(plain, b"jpeg bytes");
//! assert_eq!(got.file_sha256, info.file_sha256);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

mod error;
mod frame;
mod keys;
mod login;
mod media;
mod media_io;
pub mod primitives;

pub use error::{Error, Result};
pub use frame::{FRAME_HEADER_LEN, FRAME_MAC_LEN, FRAME_MIN_LEN};
pub use keys::{KEY_LEN, KeyPair, SessionKeys, SymmetricKey};
pub use login::{EXPANDED_LEN, LoginSecret, SECRET_LEN};
pub use media::{
    DecryptedMedia, EncryptedMedia, MEDIA_EXPANDED_LEN, MEDIA_MAC_LEN, MEDIA_MIN_LEN,
    MediaDecryptor, MediaEncryptor, MediaKey, MediaKeys, MediaType, MediaVerifier, SIDECAR_CHUNK,
    SIDECAR_OVERLAP, SidecarBuilder, VerifiedMedia,
};
pub use media_io::IO_CHUNK;
