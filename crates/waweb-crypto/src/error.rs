//! The crate's one error type.

/// Every way an operation of this crate can fail.
///
/// Each variant names the check that failed and, where it helps, the length or offset involved. None
/// carries secret material, and none exposes a dependency's error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A base64 field did not decode.
    #[error("{field} is not valid base64")]
    Base64 {
        /// Which field (e.g. `"secret"`, `"challenge"`, `"mediaKey"`).
        field: &'static str,
    },
    /// A key or field had the wrong length.
    #[error("{field} must be {expected} bytes, got {actual}")]
    Length {
        /// Which field.
        field: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// HKDF was asked for more output than HKDF-SHA256 can give (255 × 32 bytes).
    #[error("HKDF-SHA256 output of {requested} bytes exceeds the maximum of {max}")]
    HkdfLength {
        /// The requested output length.
        requested: usize,
        /// The maximum, 8160.
        max: usize,
    },
    /// Raw AES-CBC input was not a whole number of 16-byte blocks.
    #[error("AES-CBC input of {len} bytes is not a multiple of 16")]
    NotBlockAligned {
        /// The input length.
        len: usize,
    },
    /// PKCS#7 padding was malformed after an AES-CBC decryption.
    #[error("bad PKCS#7 padding in {context}: last byte {pad_byte:#04x}")]
    Padding {
        /// Where: `"login secret"`, `"frame"`, `"media"` or `"aes-cbc"`.
        context: &'static str,
        /// The last plaintext byte, which names the padding length.
        pad_byte: u8,
    },

    /// The server's public key (`secret[0..32]`) is a low-order point: the shared secret would be
    /// all zeros and known to anyone.
    #[error("login secret: server public key secret[0..32] is a low-order point")]
    NonContributoryKey,
    /// `secret[32..64]` is not `HMAC-SHA256(expanded[32..64], secret[0..32] ++ secret[64..144])`.
    #[error(
        "login secret: HMAC over secret[0..32] ++ secret[64..144] does not match secret[32..64]"
    )]
    SecretMac,
    /// The decrypted keys of the login secret were not 64 bytes.
    #[error("login secret: decrypted keys are {len} bytes, expected 64")]
    SecretKeysLength {
        /// Decrypted length after unpadding.
        len: usize,
    },

    /// A binary frame is shorter than MAC (32) + IV (16) + one block (16).
    #[error("frame of {len} bytes is shorter than the minimum of {min}")]
    FrameTooShort {
        /// The frame length.
        len: usize,
        /// 64.
        min: usize,
    },
    /// The ciphertext of a frame (`frame[48..]`) is not a whole number of blocks.
    #[error("frame ciphertext at offset 48 is {len} bytes, not a multiple of 16")]
    FrameNotBlockAligned {
        /// Length of `frame[48..]`.
        len: usize,
    },
    /// `frame[0..32]` is not `HMAC-SHA256(macKey, frame[32..])`.
    #[error("frame MAC frame[0..32] does not match HMAC-SHA256(macKey, frame[32..])")]
    FrameMac,

    /// Encrypted media (`enc ++ mac`) is shorter than one block plus the 10-byte MAC.
    #[error("encrypted media of {len} bytes is shorter than the minimum of {min}")]
    MediaTooShort {
        /// The length of `enc ++ mac`.
        len: u64,
        /// 26.
        min: u64,
    },
    /// The `enc` part of encrypted media is not a whole number of blocks.
    #[error("encrypted media body of {len} bytes (before the 10-byte MAC) is not a multiple of 16")]
    MediaNotBlockAligned {
        /// Length of `enc`.
        len: u64,
    },
    /// The last 10 bytes are not `HMAC-SHA256(macKey, iv ++ enc)[0..10]`.
    #[error("media MAC (last 10 bytes) does not match HMAC-SHA256(macKey, iv ++ enc)[0..10]")]
    MediaMac,
    /// A hash or length announced in the message does not match the media.
    #[error("media {field} does not match the value announced in the message")]
    MediaMismatch {
        /// `"fileSha256"`, `"fileEncSha256"` or `"fileLength"`.
        field: &'static str,
    },
    /// Reading or writing a media stream failed.
    #[error("I/O error while {during} media")]
    Io {
        /// `"reading"`, `"writing"` or `"seeking"`.
        during: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;
