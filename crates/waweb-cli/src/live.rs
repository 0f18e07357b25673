//! The commands that talk to a server: `login`, `listen`, `send`, `chats`, `logout`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use serde_json::json;
use waweb_client::{Client, ClientConfig, ClientEvent, Event, EventStream, Jid, Server};
use waweb_transport::{Backoff, StopReason};

use crate::{qr, session_file};

/// Options every live command takes.
#[derive(Args, Debug, Clone)]
pub(crate) struct Common {
    /// The server's websocket URL, e.g. a simulator's `ws://127.0.0.1:8080/ws` (see `waweb sim`).
    #[arg(long, default_value = waweb_transport::DEFAULT_URL)]
    pub(crate) url: String,
    /// The session file (default: `$XDG_DATA_HOME/waweb/session.json`, else
    /// `~/.local/share/waweb/session.json`).
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
}

/// Arguments of `waweb login`.
#[derive(Args, Debug)]
pub(crate) struct LoginArgs {
    #[command(flatten)]
    common: Common,
    /// Also write each QR code as a PNG image to this file.
    #[arg(long, value_name = "FILE")]
    qr_png: Option<PathBuf>,
}

/// Arguments of `waweb listen`.
#[derive(Args, Debug)]
pub(crate) struct ListenArgs {
    #[command(flatten)]
    common: Common,
    /// Stop after this many protocol events (default: run until interrupted or `--timeout`).
    #[arg(long, value_name = "N")]
    count: Option<usize>,
}

/// Arguments of `waweb send`.
#[derive(Args, Debug)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    common: Common,
    /// The chat: `NUMBER`, `NUMBER@c.us`, `NUMBER@s.whatsapp.net` or `ID@g.us`.
    jid: String,
    /// The text to send.
    text: String,
}

/// Arguments of `waweb chats` and `waweb logout`.
#[derive(Args, Debug)]
pub(crate) struct PlainArgs {
    #[command(flatten)]
    common: Common,
}

/// Reads a JID as a user types it: a bare number means that user.
pub(crate) fn parse_jid(s: &str) -> anyhow::Result<Jid> {
    let s = s.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return Ok(Jid::new(s, Server::CUs));
    }
    s.parse::<Jid>()
        .map_err(|e| anyhow::anyhow!("bad JID: {e}"))
}

/// The logout endpoint for `url` when it is not the real server's (see [`logout_url`]).
pub(crate) fn logout_url_for(url: &str) -> Option<String> {
    url.starts_with("ws://").then(|| logout_url(url))
}

/// The HTTP logout endpoint of a `ws://host/...` URL (the simulator's), else the real one.
fn logout_url(url: &str) -> String {
    url.strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .map_or_else(
            || waweb_session::DEFAULT_LOGOUT_URL.to_owned(),
            |host| format!("http://{host}/logout"),
        )
}

fn config(common: &Common, credentials: Option<waweb_session::Credentials>) -> ClientConfig {
    let mut config = ClientConfig::with_url(common.url.clone()).credentials(credentials);
    config.request_timeout = Duration::from_secs(common.timeout.clamp(1, 30));
    config.transport.backoff =
        Backoff::new(Duration::from_millis(200), Duration::from_secs(2), Some(3));
    config.transport.connect_timeout = Duration::from_secs(10);
    config.transport.logout_url = logout_url(&common.url);
    config
}

fn stop_message(reason: &StopReason, last: Option<&str>, url: &str) -> String {
    match reason {
        StopReason::GaveUp => format!(
            "cannot reach {url}: {}",
            last.unwrap_or("no connection after 3 attempts")
        ),
        StopReason::Session(waweb_session::CloseReason::Login(failure)) => format!(
            "the server refused the stored session ({}): run `waweb login` again",
            match failure {
                waweb_session::LoginFailure::Unpaired => "logged out or unpaired".to_owned(),
                waweb_session::LoginFailure::LoggedInElsewhere => "logged in elsewhere".to_owned(),
                other => format!("{other:?}"),
            }
        ),
        StopReason::Session(waweb_session::CloseReason::QrExpired) => {
            "no phone scanned the QR code in time".to_owned()
        }
        other => format!("the connection stopped: {other:?}"),
    }
}

/// Restores the stored session and waits until logged in.
pub(crate) async fn restore(common: &Common) -> anyhow::Result<(Client, EventStream, PathBuf)> {
    let path = session_file::path(common.session.as_deref())?;
    let credentials = session_file::load(&path)?;
    let (client, mut events) = Client::connect(config(common, Some(credentials)));
    let mut last = None;
    let wait = async {
        while let Some(ev) = events.recv().await {
            match ev {
                ClientEvent::CredentialsUpdated(c) => session_file::save(&path, &c)?,
                ClientEvent::LoggedIn { .. } => return Ok(()),
                ClientEvent::Disconnected { reason, .. } => last = Some(reason),
                ClientEvent::Stopped(r) => bail!(stop_message(&r, last.as_deref(), &common.url)),
                _ => {}
            }
        }
        bail!("the connection stopped")
    };
    match tokio::time::timeout(Duration::from_secs(common.timeout), wait).await {
        Ok(r) => r?,
        Err(_) => {
            client.shutdown().await;
            bail!("not logged in within {} s", common.timeout)
        }
    }
    Ok((client, events, path))
}

/// Saves the latest credentials and closes the connection.
pub(crate) async fn finish(client: &Client, path: &Path) -> anyhow::Result<()> {
    if let Ok(Some(c)) = client.credentials().await {
        session_file::save(path, &c)?;
    }
    client.shutdown().await;
    Ok(())
}

/// `waweb login`.
pub(crate) async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let path = session_file::path(args.common.session.as_deref())?;
    let (client, mut events) = Client::connect(config(&args.common, None));
    let mut out = std::io::stdout();
    let mut last = None;
    let url = args.common.url.clone();
    let wait = async {
        while let Some(ev) = events.recv().await {
            match ev {
                ClientEvent::Qr { code, ttl, .. } => {
                    writeln!(out, "{}", qr::render_text(&code)?)?;
                    writeln!(
                        out,
                        "Scan this code with WhatsApp on your phone (Settings > Linked devices); it is valid for {} s.",
                        ttl.as_secs()
                    )?;
                    writeln!(out, "QR: {code}")?;
                    if let Some(png) = &args.qr_png {
                        qr::write_png(&code, png)?;
                        writeln!(out, "QR image written to {}", png.display())?;
                    }
                    out.flush()?;
                }
                ClientEvent::CredentialsUpdated(c) => session_file::save(&path, &c)?,
                ClientEvent::LoggedIn { wid, pushname, .. } => {
                    let wid = wid.map(|w| w.to_string()).unwrap_or_default();
                    writeln!(
                        out,
                        "logged in as {wid} ({}); session saved to {}",
                        pushname.unwrap_or_default(),
                        path.display()
                    )?;
                    return Ok(());
                }
                ClientEvent::Disconnected { reason, .. } => last = Some(reason),
                ClientEvent::Stopped(r) => bail!(stop_message(&r, last.as_deref(), &url)),
                _ => {}
            }
        }
        bail!("the connection stopped")
    };
    let result = tokio::time::timeout(Duration::from_secs(args.common.timeout), wait).await;
    match result {
        Ok(Ok(())) => finish(&client, &path).await,
        Ok(Err(e)) => {
            client.shutdown().await;
            Err(e)
        }
        Err(_) => {
            client.shutdown().await;
            bail!("no login within {} s", args.common.timeout)
        }
    }
}

/// A connection event as a JSON line, in the shape of [`Event`]'s (`{event, data}`).
fn connection_json(ev: &ClientEvent) -> Option<serde_json::Value> {
    Some(match ev {
        ClientEvent::Connected { attempt, restoring } => {
            json!({"event": "connected", "data": {"attempt": attempt, "restoring": restoring}})
        }
        ClientEvent::LoggedIn { wid, pushname, how } => json!({"event": "logged_in", "data": {
            "wid": wid.as_ref().map(ToString::to_string), "pushname": pushname, "how": format!("{how:?}").to_lowercase()}}),
        ClientEvent::CredentialsUpdated(_) => json!({"event": "credentials_updated", "data": null}),
        ClientEvent::FrameError(e) => json!({"event": "frame_error", "data": e}),
        ClientEvent::Disconnected { reason, retry_in } => json!({"event": "disconnected", "data": {
            "reason": reason, "retry_in_ms": u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX)}}),
        ClientEvent::Stopped(r) => json!({"event": "stopped", "data": format!("{r:?}")}),
        _ => return None,
    })
}

/// `waweb listen`.
pub(crate) async fn listen(args: ListenArgs) -> anyhow::Result<()> {
    let path = session_file::path(args.common.session.as_deref())?;
    let credentials = session_file::load(&path)?;
    let (client, mut events) = Client::connect(config(&args.common, Some(credentials)));
    let mut out = std::io::stdout().lock();
    let mut seen = 0usize;
    let mut last = None;
    let url = args.common.url.clone();
    let run = async {
        while let Some(ev) = events.recv().await {
            let line = match &ev {
                ClientEvent::Event(e) => {
                    seen += 1;
                    serde_json::to_string(e)?
                }
                other => match connection_json(other) {
                    Some(v) => v.to_string(),
                    None => continue,
                },
            };
            writeln!(out, "{line}")?;
            out.flush()?;
            match ev {
                ClientEvent::CredentialsUpdated(c) => session_file::save(&path, &c)?,
                ClientEvent::Disconnected { reason, .. } => last = Some(reason),
                ClientEvent::Stopped(StopReason::Shutdown) => return Ok(()),
                ClientEvent::Stopped(r) => bail!(stop_message(&r, last.as_deref(), &url)),
                _ => {}
            }
            if args.count.is_some_and(|n| seen >= n) {
                return Ok(());
            }
        }
        Ok(())
    };
    match tokio::time::timeout(Duration::from_secs(args.common.timeout), run).await {
        Ok(r) => r?,
        // Listening for the whole time is success.
        Err(_) if args.count.is_none() => {}
        Err(_) => {
            client.shutdown().await;
            bail!(
                "fewer than {} events within {} s",
                args.count.unwrap_or_default(),
                args.common.timeout
            )
        }
    }
    finish(&client, &path).await
}

/// `waweb send`.
pub(crate) async fn send(args: SendArgs) -> anyhow::Result<()> {
    let jid = parse_jid(&args.jid)?;
    let (client, _events, path) = restore(&args.common).await?;
    let result = client.send_text(&jid, args.text).await;
    finish(&client, &path).await?;
    let sent = result.context("sending failed")?;
    println!(
        "sent {} to {}: acknowledged by the server{}",
        sent.id,
        jid,
        sent.server_time
            .map(|t| format!(" at {t}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// `waweb chats`.
pub(crate) async fn chats(args: PlainArgs) -> anyhow::Result<()> {
    let (client, mut events, path) = restore(&args.common).await?;
    let wait = async {
        while let Some(ev) = events.recv().await {
            if let ClientEvent::Event(Event::Chats(list)) = ev {
                return Some(list);
            }
        }
        None
    };
    let list = tokio::time::timeout(Duration::from_secs(args.common.timeout), wait).await;
    finish(&client, &path).await?;
    let Ok(Some(list)) = list else {
        bail!("no chat list within {} s", args.common.timeout)
    };
    print!("{}", format_chats(&list.chats));
    Ok(())
}

/// One line per chat: JID, unread count, name, flags.
pub(crate) fn format_chats(chats: &[waweb_client::Chat]) -> String {
    let mut s = String::new();
    for c in chats {
        let mut flags = Vec::new();
        if c.pin.is_some() {
            flags.push("pinned");
        }
        if c.archive {
            flags.push("archived");
        }
        if c.mute.is_some_and(|m| m > 0) {
            flags.push("muted");
        }
        s.push_str(&format!(
            "{:<36} {:>3} unread  {}{}\n",
            c.jid.to_string(),
            c.count.max(0),
            c.name.as_deref().unwrap_or("-"),
            if flags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", flags.join(", "))
            }
        ));
    }
    s
}

/// `waweb logout`.
pub(crate) async fn logout(args: PlainArgs) -> anyhow::Result<()> {
    let path = session_file::path(args.common.session.as_deref())?;
    let (client, _events, path2) = restore(&args.common).await?;
    debug_assert_eq!(path, path2);
    let result = client.logout().await;
    client.shutdown().await;
    result.context("logout failed")?;
    std::fs::remove_file(&path)
        .with_context(|| format!("logged out, but cannot remove {}", path.display()))?;
    println!("logged out; removed {}", path.display());
    Ok(())
}
