//! The account the simulated phone belongs to: profile, contacts, chats and stored messages.
//!
//! The JSON form is documented in `docs/simulator.md`; `accounts/sample.json` is the sample.

use std::path::Path;

use serde::{Deserialize, Serialize};
use waweb_proto::proto::WebMessageInfo;

use crate::error::SimError;

/// The sample account, also what [`Account::sample`] returns.
pub const SAMPLE_JSON: &str = include_str!("../accounts/sample.json");

/// The user's account as the phone knows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    /// The user's JID in JSON form, e.g. `491234567890@c.us`.
    pub wid: String,
    /// The user's display name.
    pub pushname: String,
    /// The phone's platform (`Conn.platform`).
    #[serde(default = "default_platform")]
    pub platform: String,
    /// Battery percentage (`Conn.battery`).
    #[serde(default = "default_battery")]
    pub battery: u8,
    /// Whether the phone is charging (`Conn.plugged`).
    #[serde(default)]
    pub plugged: bool,
    /// Country (`Conn.lc`).
    #[serde(default = "default_lc")]
    pub lc: String,
    /// Language (`Conn.lg`).
    #[serde(default = "default_lg")]
    pub lg: String,
    /// Locales (`Conn.locales`).
    #[serde(default = "default_locales")]
    pub locales: String,
    /// Terms-of-service level (`Conn.tos`, and the `tos` of a forced 403).
    #[serde(default)]
    pub tos: u8,
    /// The phone (`Conn.phone`).
    #[serde(default)]
    pub phone: PhoneInfo,
    /// The contact list (`response type=contacts`).
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// The chat list (`response type=chat`).
    #[serde(default)]
    pub chats: Vec<Chat>,
    /// Stored messages, in the schema's JSON form (camelCase names, bytes as base64, enums as
    /// numbers): sent after every login as `action add=last`, and served to history queries.
    #[serde(default)]
    pub messages: Vec<WebMessageInfo>,
}

/// `Conn.phone`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhoneInfo {
    /// WhatsApp version on the phone.
    pub wa_version: String,
    /// Mobile country code.
    pub mcc: String,
    /// Mobile network code.
    pub mnc: String,
    /// OS version.
    pub os_version: String,
    /// Manufacturer.
    pub device_manufacturer: String,
    /// Model.
    pub device_model: String,
    /// OS build.
    pub os_build_number: String,
}

impl Default for PhoneInfo {
    fn default() -> Self {
        PhoneInfo {
            wa_version: "2.21.23.23".into(),
            mcc: "262".into(),
            mnc: "001".into(),
            os_version: "11".into(),
            device_manufacturer: "Google".into(),
            device_model: "Pixel 4a".into(),
            os_build_number: "RQ3A.211001.001".into(),
        }
    }
}

/// One contact.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Contact {
    /// JID, `@c.us` or `@s.whatsapp.net` (sent as `@s.whatsapp.net`).
    pub jid: String,
    /// Name in the address book.
    #[serde(default)]
    pub name: Option<String>,
    /// The contact's own push name.
    #[serde(default)]
    pub notify: Option<String>,
    /// Short name.
    #[serde(default)]
    pub short: Option<String>,
    /// About text (`["query","Status",jid]`).
    #[serde(default)]
    pub status: Option<String>,
    /// Profile picture URL (`["query","ProfilePicThumb",jid]`).
    #[serde(default)]
    pub picture: Option<String>,
}

/// One chat.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Chat {
    /// JID (`@c.us`/`@s.whatsapp.net` user, `@g.us` group).
    pub jid: String,
    /// Display name (group subject).
    #[serde(default)]
    pub name: Option<String>,
    /// Last activity, seconds since the Unix epoch.
    #[serde(default)]
    pub t: u64,
    /// Unread count.
    #[serde(default)]
    pub count: u32,
    /// Muted until (seconds), 0 for not muted.
    #[serde(default)]
    pub mute: u64,
    /// Marked as spam.
    #[serde(default)]
    pub spam: bool,
    /// Archived.
    #[serde(default)]
    pub archive: bool,
    /// Pinned at (seconds).
    #[serde(default)]
    pub pin: Option<u64>,
    /// Read-only (e.g. left group).
    #[serde(default)]
    pub read_only: bool,
    /// Group metadata (`["query","GroupMetadata",jid]`), for `@g.us` chats.
    #[serde(default)]
    pub group: Option<Group>,
}

/// Group metadata.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Group {
    /// Creator's JID.
    pub owner: String,
    /// Creation time, seconds.
    #[serde(default)]
    pub creation: u64,
    /// Members.
    #[serde(default)]
    pub participants: Vec<Participant>,
}

/// A group member.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Participant {
    /// JID.
    pub id: String,
    /// Admin flag.
    #[serde(default, rename = "isAdmin")]
    pub is_admin: bool,
}

fn default_platform() -> String {
    "android".into()
}
fn default_battery() -> u8 {
    86
}
fn default_lc() -> String {
    "DE".into()
}
fn default_lg() -> String {
    "de".into()
}
fn default_locales() -> String {
    "de-DE,en-GB".into()
}

impl Account {
    /// The sample account (`accounts/sample.json`).
    #[must_use]
    pub fn sample() -> Account {
        Account::from_json(SAMPLE_JSON).unwrap_or_else(|_| Account::minimal())
    }

    /// An account with a profile and nothing else.
    #[must_use]
    pub fn minimal() -> Account {
        Account {
            wid: "491234567890@c.us".into(),
            pushname: "Sim User".into(),
            platform: default_platform(),
            battery: default_battery(),
            plugged: false,
            lc: default_lc(),
            lg: default_lg(),
            locales: default_locales(),
            tos: 0,
            phone: PhoneInfo::default(),
            contacts: Vec::new(),
            chats: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// Parses the JSON form.
    ///
    /// # Errors
    /// [`SimError::Account`] if it is not valid JSON of that form or `wid` is not a user JID.
    pub fn from_json(json: &str) -> Result<Account, SimError> {
        let account: Account =
            serde_json::from_str(json).map_err(|e| SimError::Account(e.to_string()))?;
        if !is_user_jid(&account.wid) {
            return Err(SimError::Account(format!(
                "wid {:?} is not a user JID like 491234567890@c.us",
                account.wid
            )));
        }
        Ok(account)
    }

    /// Reads and parses an account file.
    ///
    /// # Errors
    /// [`SimError::Io`] if it cannot be read, otherwise as [`from_json`](Self::from_json).
    pub fn load(path: impl AsRef<Path>) -> Result<Account, SimError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Account::from_json(&text)
    }

    /// The user's JID as it appears in binary nodes (`@s.whatsapp.net`).
    #[must_use]
    pub fn wire_wid(&self) -> String {
        to_wire_jid(&self.wid)
    }

    /// The user's JID in JSON form (`@c.us`).
    #[must_use]
    pub fn json_wid(&self) -> String {
        to_json_jid(&self.wid)
    }
}

/// `user@c.us` → `user@s.whatsapp.net` (binary nodes and protobuf keys).
#[must_use]
pub fn to_wire_jid(jid: &str) -> String {
    match jid.strip_suffix("@c.us") {
        Some(user) => format!("{user}@s.whatsapp.net"),
        None => jid.to_owned(),
    }
}

/// `user@s.whatsapp.net` → `user@c.us` (JSON messages).
#[must_use]
pub fn to_json_jid(jid: &str) -> String {
    match jid.strip_suffix("@s.whatsapp.net") {
        Some(user) => format!("{user}@c.us"),
        None => jid.to_owned(),
    }
}

/// A user JID: digits, then `@c.us` or `@s.whatsapp.net`.
#[must_use]
pub fn is_user_jid(jid: &str) -> bool {
    let user = jid
        .strip_suffix("@c.us")
        .or_else(|| jid.strip_suffix("@s.whatsapp.net"));
    matches!(user, Some(u) if !u.is_empty() && u.bytes().all(|b| b.is_ascii_digit()))
}
