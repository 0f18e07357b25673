//! `Credentials`: everything needed to restore a session without a QR code.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use waweb_crypto::{KEY_LEN, SessionKeys};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::Error;

/// The format version written into serialized [`Credentials`].
pub const CREDENTIALS_VERSION: u32 = 1;

/// The default endpoint of the HTTP logout request.
pub const DEFAULT_LOGOUT_URL: &str = "https://dyn.web.whatsapp.com/logout";

/// Everything needed to restore a session: client id, tokens, session keys, and who we are.
///
/// Tokens rotate on every `Conn`; a session emits
/// [`Event::CredentialsUpdated`](crate::Event::CredentialsUpdated) each time, and that value is the
/// one to persist. Serialized as JSON-friendly fields with a `version`; every field is wiped on
/// drop and `Debug` shows no secret.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Credentials {
    /// Format version, [`CREDENTIALS_VERSION`]; other versions are refused when deserializing.
    #[serde(deserialize_with = "de_version")]
    pub version: u32,
    /// The client id: base64 of 16 random bytes, sent in `init`, `login` and `challenge`.
    pub client_id: String,
    /// `clientToken` of the last `Conn`.
    pub client_token: String,
    /// `serverToken` of the last `Conn`.
    pub server_token: String,
    /// `browserToken` of the last `Conn`, for the HTTP logout.
    #[serde(default)]
    pub browser_token: Option<String>,
    /// `encKey`, base64.
    #[serde(serialize_with = "ser_key", deserialize_with = "de_key")]
    enc_key: [u8; KEY_LEN],
    /// `macKey`, base64.
    #[serde(serialize_with = "ser_key", deserialize_with = "de_key")]
    mac_key: [u8; KEY_LEN],
    /// Our own JID (`wid` of `Conn`), e.g. `491234567890@c.us`.
    #[serde(default)]
    pub wid: Option<String>,
    /// Our display name (`pushname` of `Conn`).
    #[serde(default)]
    pub pushname: Option<String>,
}

impl Credentials {
    /// Credentials from their parts.
    #[must_use]
    pub fn new(
        client_id: String,
        client_token: String,
        server_token: String,
        keys: &SessionKeys,
    ) -> Self {
        Self {
            version: CREDENTIALS_VERSION,
            client_id,
            client_token,
            server_token,
            browser_token: None,
            enc_key: *keys.enc_key().as_bytes(),
            mac_key: *keys.mac_key().as_bytes(),
            wid: None,
            pushname: None,
        }
    }

    /// The session keys.
    #[must_use]
    pub fn keys(&self) -> SessionKeys {
        SessionKeys::new(self.enc_key, self.mac_key)
    }

    /// Serializes to JSON.
    ///
    /// # Errors
    /// [`Error::Credentials`] if serialization fails (it does not for these fields).
    pub fn to_json(&self) -> Result<Zeroizing<String>, Error> {
        serde_json::to_string(self)
            .map(Zeroizing::new)
            .map_err(|_| Error::Credentials("cannot serialize"))
    }

    /// Parses JSON written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    /// [`Error::Credentials`] on malformed JSON, a missing field, a bad key or another version.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|_| Error::Credentials("malformed or unsupported"))
    }

    /// The HTTP logout request for when there is no live connection:
    /// `POST <base>?t=<browserToken>&m=<logout token>` with `Origin: https://web.whatsapp.com`,
    /// where the logout token is `base64(HMAC-SHA256(macKey, encKey))`. The transport sends it.
    ///
    /// # Errors
    /// [`Error::Credentials`] if there is no `browserToken`.
    pub fn logout_request(&self, base: &str) -> Result<LogoutRequest, Error> {
        let browser = self
            .browser_token
            .as_deref()
            .ok_or(Error::Credentials("no browserToken for the logout request"))?;
        let token = self.keys().logout_token();
        Ok(LogoutRequest {
            url: format!(
                "{base}?t={}&m={}",
                percent_encode(browser),
                percent_encode(&token)
            ),
        })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("version", &self.version)
            .field("client_id", &self.client_id)
            .field("client_token", &"<redacted>")
            .field("server_token", &"<redacted>")
            .field(
                "browser_token",
                &self.browser_token.as_ref().map(|_| "<redacted>"),
            )
            .field("keys", &"<redacted>")
            .field("wid", &self.wid)
            .field("pushname", &self.pushname)
            .finish()
    }
}

/// The HTTP logout request built from [`Credentials::logout_request`]: method `POST`, header
/// `Origin: https://web.whatsapp.com`, empty body.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct LogoutRequest {
    /// The full URL, tokens included.
    pub url: String,
}

impl LogoutRequest {
    /// The HTTP method.
    pub const METHOD: &'static str = "POST";
    /// The `Origin` header value.
    pub const ORIGIN: &'static str = "https://web.whatsapp.com";
}

impl fmt::Debug for LogoutRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self
            .url
            .split_once('?')
            .map_or(self.url.as_str(), |(b, _)| b);
        write!(f, "LogoutRequest(POST {base}?<redacted>)")
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn de_version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v == CREDENTIALS_VERSION {
        Ok(v)
    } else {
        Err(serde::de::Error::custom("unsupported credentials version"))
    }
}

fn ser_key<S: Serializer>(key: &[u8; KEY_LEN], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&Zeroizing::new(B64.encode(key)))
}

fn de_key<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; KEY_LEN], D::Error> {
    let s = Zeroizing::new(String::deserialize(d)?);
    let bytes = Zeroizing::new(
        B64.decode(s.as_bytes())
            .map_err(|_| serde::de::Error::custom("key is not base64"))?,
    );
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| serde::de::Error::custom("key is not 32 bytes"))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;

    fn sample() -> Credentials {
        let mut c = Credentials::new(
            "Y2xpZW50LWlkLTEyMzQ1Ng==".into(),
            "ctoken".into(),
            "stoken".into(),
            &SessionKeys::new([1; 32], [2; 32]),
        );
        c.browser_token = Some("b+t/=".into());
        c.wid = Some("491234@c.us".into());
        c
    }

    #[test]
    fn json_round_trip_with_version() {
        let c = sample();
        let json = c.to_json().unwrap();
        assert!(json.contains("\"version\":1"));
        let back = Credentials::from_json(&json).unwrap();
        assert_eq!(back.keys(), c.keys());
        assert_eq!(back.client_token, "ctoken");
        assert_eq!(back.wid.as_deref(), Some("491234@c.us"));
        let v2 = json.replace("\"version\":1", "\"version\":2");
        assert!(Credentials::from_json(&v2).is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = format!("{:?}", sample());
        assert!(!s.contains("ctoken") && !s.contains("stoken") && !s.contains("b+t"));
        assert!(s.contains("<redacted>"));
    }

    #[test]
    fn logout_request_is_built_from_browser_token_and_logout_token() {
        let c = sample();
        let req = c.logout_request(DEFAULT_LOGOUT_URL).unwrap();
        let token = c.keys().logout_token();
        let want = format!(
            "{DEFAULT_LOGOUT_URL}?t=b%2Bt%2F%3D&m={}",
            percent_encode(&token)
        );
        assert_eq!(req.url, want);
        assert!(!format!("{req:?}").contains("b%2B"));
        let mut none = sample();
        none.browser_token = None;
        assert!(none.logout_request(DEFAULT_LOGOUT_URL).is_err());
    }
}
