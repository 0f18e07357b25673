//! `waweb sim`: the simulator as a command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;

use crate::account::Account;
use crate::config::SimConfig;
use crate::error::SimError;
use crate::events::{FrameBody, SimEvent};

/// Arguments of `waweb sim`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Scan every QR string shown to the phone (a line on standard input or `POST /scan`) after
    /// this many seconds; without it, such a QR is scanned at once.
    #[arg(long, value_name = "SECS")]
    pub auto_scan: Option<f64>,
    /// The account to serve (JSON, see docs/simulator.md); the built-in sample when absent.
    #[arg(long, value_name = "FILE")]
    pub account: Option<PathBuf>,
    /// Lifetime of a ref in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub ref_ttl: f64,
    /// Refs per connection (initial + rerefs) before 429.
    #[arg(long, default_value_t = 6)]
    pub max_refs: u32,
    /// Oldest client version accepted, `a.b.c`.
    #[arg(long, value_name = "VERSION", default_value = "2.2142.12")]
    pub min_version: String,
    /// The recipients of sent messages deliver them after this many seconds and read them after
    /// twice as long (`Msg` acks 2 and 3); without it, only the server's ack.
    #[arg(long, value_name = "SECS")]
    pub receipts: Option<f64>,
    /// Print only connection events, not every frame.
    #[arg(long, short)]
    pub quiet: bool,
}

fn secs(field: &'static str, v: f64) -> Result<Duration, SimError> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| SimError::Account(format!("--{field} {v} is not a duration")))
}

fn parse_version(s: &str) -> Result<(u32, u32, u32), SimError> {
    let parts: Vec<u32> = s
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| SimError::Account(format!("--min-version {s:?} is not a.b.c")))?;
    match parts.as_slice() {
        [a, b, c] => Ok((*a, *b, *c)),
        _ => Err(SimError::Account(format!(
            "--min-version {s:?} is not a.b.c"
        ))),
    }
}

impl SimArgs {
    /// The configuration these arguments describe.
    ///
    /// # Errors
    /// When the account file cannot be loaded or a value is out of range.
    pub fn config(&self) -> Result<SimConfig, SimError> {
        Ok(SimConfig {
            listen: self.listen,
            auto_scan: self.auto_scan.map(|s| secs("auto-scan", s)).transpose()?,
            ref_ttl: secs("ref-ttl", self.ref_ttl)?,
            max_refs: self.max_refs,
            account: match &self.account {
                Some(p) => Account::load(p)?,
                None => Account::sample(),
            },
            min_version: parse_version(&self.min_version)?,
            receipts: self.receipts.map(|s| secs("receipts", s)).transpose()?,
        })
    }
}

/// Runs the simulator until Ctrl-C, printing every event (every frame unless `--quiet`) to
/// standard output, and scanning QR strings read from standard input.
///
/// # Errors
/// When the configuration is invalid or the address cannot be bound.
pub async fn run_cli(args: SimArgs) -> Result<(), SimError> {
    let cfg = args.config()?;
    let sim = crate::start(cfg).await.map_err(|e| SimError::Io {
        path: args.listen.to_string(),
        reason: e.to_string(),
    })?;
    println!("waweb-sim listening");
    println!("  websocket: {}  (Origin: {})", sim.ws_url(), crate::ORIGIN);
    println!(
        "  logout:    POST {}?t=<browserToken>&m=<logoutToken>",
        sim.logout_url()
    );
    println!(
        "  scan:      paste a QR string `ref,publicKey,clientId` here, or POST it to http://{}/scan",
        sim.local_addr()
    );
    let mut events = sim.events();
    let quiet = args.quiet;
    let printer = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(ev) => print_event(&ev, quiet),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    println!("({n} events not shown)");
                }
                Err(_) => break,
            }
        }
    });
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let mut lines = stdin.lines();
    let mut stdin_open = true;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(l)) if !l.trim().is_empty() => {
                    if let Err(e) = sim.show_qr(l.trim()).await {
                        println!("scan failed: {e}");
                    }
                }
                Ok(Some(_)) => {}
                _ => stdin_open = false,
            },
        }
    }
    println!("shutting down");
    sim.shutdown().await;
    printer.abort();
    Ok(())
}

/// [`run_cli`] on a fresh tokio runtime, for a synchronous `main`.
///
/// # Errors
/// As [`run_cli`], or when the runtime cannot be built.
pub fn run_cli_blocking(args: SimArgs) -> Result<(), SimError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| SimError::Io {
            path: "tokio runtime".into(),
            reason: e.to_string(),
        })?;
    rt.block_on(run_cli(args))
}

fn print_event(ev: &SimEvent, quiet: bool) {
    match ev {
        SimEvent::FrameIn { conn, frame } if !quiet => match frame.body {
            FrameBody::Keepalive => println!("[{conn}] <- ?,,"),
            _ => println!("[{conn}] <- {frame}"),
        },
        SimEvent::FrameOut { conn, frame } if !quiet => println!("[{conn}] -> {frame}"),
        SimEvent::FrameIn { .. } | SimEvent::FrameOut { .. } => {}
        SimEvent::QrShown {
            conn,
            client_id,
            server_ref,
            ttl,
        } => println!(
            "[{conn}] ref issued for client {client_id} (ttl {} ms): {server_ref}",
            ttl.as_millis()
        ),
        other => println!("{other:?}"),
    }
}
