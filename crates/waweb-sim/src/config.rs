//! Simulator configuration.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::account::Account;

/// How the simulator listens and behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port (see [`SimHandle::local_addr`](crate::SimHandle::local_addr)).
    pub listen: SocketAddr,
    /// When set, the phone scans every QR string shown to it ([`SimHandle::show_qr`](crate::SimHandle::show_qr),
    /// `POST /scan`, the CLI's standard input) after this delay.
    pub auto_scan: Option<Duration>,
    /// Lifetime of a ref (`ttl` of the `init` and `reref` replies).
    pub ref_ttl: Duration,
    /// How many refs one connection may get: the initial one plus `max_refs - 1` rerefs, then 429.
    pub max_refs: u32,
    /// The account the simulated phone belongs to.
    pub account: Account,
    /// An `init` with an older version is answered `["Cmd",{"type":"update"}]`; also the `curr` of the
    /// `init` reply and the version in `Stream`.
    pub min_version: (u32, u32, u32),
    /// When set, the recipients of the messages clients send receive them and read them: `Msg`
    /// acks 2 (delivered) after this delay and 3 (read) after twice it, to every logged-in
    /// connection. Off by default (the server's ack 1 only).
    pub receipts: Option<Duration>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            auto_scan: None,
            ref_ttl: Duration::from_secs(20),
            max_refs: 6,
            account: Account::sample(),
            min_version: (2, 2142, 12),
            receipts: None,
        }
    }
}
