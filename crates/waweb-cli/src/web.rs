//! `waweb web`: the browser client and protocol inspector (the `waweb-web` crate).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use waweb_web::{CredentialsSink, Target, WebConfig};

use crate::session_file;

/// Arguments of `waweb web`.
#[derive(Args, Debug)]
pub(crate) struct WebArgs {
    /// Connect to this server (`ws://…` or `wss://…`) instead of the embedded simulator.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Restore the session in this file when it exists, and keep it up to date (written
    /// atomically, mode 0600; deleted on logout).
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// Where the page is served.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Allow a non-loopback --listen address; every request then needs the start token printed
    /// at start (it is part of the printed URL).
    #[arg(long)]
    allow_remote: bool,
    /// Serve the page's files from this directory instead of the embedded ones (development).
    #[arg(long, value_name = "DIR", env = "WAWEB_WEB_ASSETS", hide = true)]
    assets: Option<PathBuf>,
}

/// Runs the server until Ctrl-C.
pub(crate) async fn run(args: WebArgs) -> anyhow::Result<()> {
    let mut cfg = WebConfig::default();
    cfg.listen = args.listen;
    cfg.allow_remote = args.allow_remote;
    cfg.assets_dir = args.assets;
    if let Some(url) = &args.url {
        cfg.target = Target::Server {
            url: url.clone(),
            logout_url: crate::live::logout_url_for(url),
        };
    }
    if let Some(path) = &args.session {
        if path.exists() {
            cfg.credentials = Some(session_file::load(path)?);
        }
        let path = path.clone();
        cfg.on_credentials = Some(CredentialsSink::new(move |c| {
            let result = match c {
                Some(c) => session_file::save(&path, c),
                None => std::fs::remove_file(&path)
                    .or_else(|e| {
                        if e.kind() == std::io::ErrorKind::NotFound {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    })
                    .map_err(Into::into),
            };
            if let Err(e) = result {
                eprintln!("waweb web: session file {}: {e:#}", path.display());
            }
        }));
    }
    let server = waweb_web::serve(cfg).await.context("waweb web")?;
    // Standard output may be closed by whoever started us; that is no reason to stop serving.
    let mut out = std::io::stdout();
    let mut banner = format!(
        "waweb web: open {}\n  client connects to {}\n",
        server.url(),
        server.server_url()
    );
    if let Some(t) = server.token() {
        banner.push_str(&format!(
            "  start token: {t} (required by every request; it is in the URL above)\n"
        ));
    }
    banner.push_str("  Ctrl-C stops.\n");
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    server.shutdown().await;
    Ok(())
}
