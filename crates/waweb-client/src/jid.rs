//! Typed JIDs (`user@server`).

use std::fmt;
use std::str::FromStr;

/// The server part of a JID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Server {
    /// `c.us`: a user, in the form the web client's JSON and the contact/chat lists use.
    CUs,
    /// `s.whatsapp.net`: a user, in the form message keys and the binary protocol use.
    SWhatsappNet,
    /// `g.us`: a group (`<creator>-<creation time>@g.us`).
    GUs,
    /// `broadcast`: a broadcast list, or `status@broadcast` for status updates.
    Broadcast,
}

impl Server {
    /// The server as written on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Server::CUs => "c.us",
            Server::SWhatsappNet => "s.whatsapp.net",
            Server::GUs => "g.us",
            Server::Broadcast => "broadcast",
        }
    }
}

/// Why a string is not a JID.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JidError {
    /// The string has no `@`.
    #[error("JID {0:?} has no '@'")]
    MissingAt(String),
    /// The server part is not one of `c.us`, `s.whatsapp.net`, `g.us`, `broadcast`.
    #[error("JID {jid:?} has an unknown server {server:?}")]
    UnknownServer {
        /// The whole input.
        jid: String,
        /// The server part found.
        server: String,
    },
    /// The user part is empty or holds characters no JID user has (whitespace, `@`).
    #[error("JID {0:?} has an empty or invalid user part")]
    BadUser(String),
}

/// A JID: a user (phone number), group id or broadcast id, and its server.
///
/// Equality is exact; [`Jid::normalized`] maps `c.us` to `s.whatsapp.net` so that both spellings of
/// one user compare equal (the [`Store`](crate::Store) keys on it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jid {
    /// The part before `@`: a phone number in international form without `+`, a group id
    /// (`<number>-<seconds>`), or a broadcast id (`status` for status updates).
    pub user: String,
    /// The part after `@`.
    pub server: Server,
}

impl Jid {
    /// A JID from its parts.
    #[must_use]
    pub fn new(user: impl Into<String>, server: Server) -> Self {
        Jid {
            user: user.into(),
            server,
        }
    }

    /// Parses `user@server`.
    ///
    /// # Errors
    /// [`JidError`] when there is no `@`, the user part is empty or has whitespace, or the server
    /// is unknown.
    pub fn parse(s: &str) -> Result<Self, JidError> {
        let (user, server) = s
            .rsplit_once('@')
            .ok_or_else(|| JidError::MissingAt(s.to_owned()))?;
        let server = match server {
            "c.us" => Server::CUs,
            "s.whatsapp.net" => Server::SWhatsappNet,
            "g.us" => Server::GUs,
            "broadcast" => Server::Broadcast,
            other => {
                return Err(JidError::UnknownServer {
                    jid: s.to_owned(),
                    server: other.to_owned(),
                });
            }
        };
        if user.is_empty() || user.contains(|c: char| c.is_whitespace() || c == '@') {
            return Err(JidError::BadUser(s.to_owned()));
        }
        Ok(Jid::new(user, server))
    }

    /// The same JID with `c.us` written as `s.whatsapp.net`.
    #[must_use]
    pub fn normalized(&self) -> Jid {
        match self.server {
            Server::CUs => Jid::new(self.user.clone(), Server::SWhatsappNet),
            _ => self.clone(),
        }
    }

    /// Whether this is a group (`g.us`).
    #[must_use]
    pub fn is_group(&self) -> bool {
        self.server == Server::GUs
    }

    /// Whether this is a single user (`c.us` or `s.whatsapp.net`).
    #[must_use]
    pub fn is_user(&self) -> bool {
        matches!(self.server, Server::CUs | Server::SWhatsappNet)
    }

    /// Whether this is a broadcast list or `status@broadcast`.
    #[must_use]
    pub fn is_broadcast(&self) -> bool {
        self.server == Server::Broadcast
    }
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.user, self.server.as_str())
    }
}

impl serde::Serialize for Jid {
    /// As `user@server`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for Jid {
    type Err = JidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Jid::parse(s)
    }
}
