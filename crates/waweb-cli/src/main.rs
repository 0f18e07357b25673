//! `waweb`: the command line of the waweb project.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod decode;
mod demo;
mod live;
mod media;
mod qr;
mod session_file;
mod web;

/// A client, simulator and protocol toolkit for the legacy WhatsApp Web protocol.
#[derive(Parser, Debug)]
#[command(name = "waweb", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the whole flow against the embedded simulator, explaining each step (ends by itself).
    Demo(demo::DemoArgs),
    /// Log in by QR code and save the session (credentials) for the other commands.
    Login(live::LoginArgs),
    /// Print every event (messages, receipts, presence, ...) as one JSON line each.
    Listen(live::ListenArgs),
    /// Send a text message and wait for the server's ack.
    Send(live::SendArgs),
    /// Send a file (image, video, audio, document, sticker) and wait for the server's ack.
    SendFile(media::SendFileArgs),
    /// Download and decrypt the media of a message to a file.
    Download(media::DownloadArgs),
    /// Print the chat list.
    Chats(live::PlainArgs),
    /// Log out (the phone unlinks this session) and delete the session file.
    Logout(live::PlainArgs),
    /// Decode binary nodes (hex or base64) and print them as JSON `[description, attrs, content]`.
    Decode(DecodeArgs),
    /// Serve the browser client and protocol inspector (against the embedded simulator unless
    /// --url is given).
    Web(web::WebArgs),
    /// Run the loopback simulator of the server and the phone (see docs/simulator.md).
    Sim(waweb_sim::SimArgs),
}

/// Arguments of `waweb decode`.
#[derive(Args, Debug)]
pub(crate) struct DecodeArgs {
    /// The node as hex or base64. Reads standard input when absent or `-`.
    input: Option<String>,
    /// Read from a file instead: one node per line; blank lines and `#` comments are skipped.
    #[arg(long, short, conflicts_with = "input")]
    file: Option<PathBuf>,
    /// Treat the input as hex (the default is to detect hex, then base64).
    #[arg(long, conflicts_with = "base64")]
    hex: bool,
    /// Treat the input as base64 (standard alphabet, padding optional).
    #[arg(long)]
    base64: bool,
    /// Pretty-print the JSON.
    #[arg(long, short)]
    pretty: bool,
    /// Session keys, `encKey` then `macKey` (64 bytes, hex or base64). The input is then a
    /// captured binary frame, with or without its `tag,` prefix and the metric and flags bytes
    /// of outgoing frames: its MAC is checked, it is decrypted, and the node inside is shown.
    #[arg(long, value_name = "KEYS")]
    keys: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => run_decode(&args),
        Command::Demo(args) => run_async(demo::run(args)),
        Command::Login(args) => run_async(live::login(args)),
        Command::Listen(args) => run_async(live::listen(args)),
        Command::Send(args) => run_async(live::send(args)),
        Command::SendFile(args) => run_async(media::send_file(args)),
        Command::Download(args) => run_async(media::download(args)),
        Command::Chats(args) => run_async(live::chats(args)),
        Command::Logout(args) => run_async(live::logout(args)),
        Command::Web(args) => run_async(web::run(args)),
        Command::Sim(args) => waweb_sim::run_cli_blocking(args)
            .map(|()| ExitCode::SUCCESS)
            .map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("waweb: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command on a tokio runtime.
fn run_async(
    fut: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(fut)?;
    Ok(ExitCode::SUCCESS)
}

fn run_decode(args: &DecodeArgs) -> anyhow::Result<ExitCode> {
    let text = match (&args.file, args.input.as_deref()) {
        (Some(path), _) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        (None, Some(s)) if s != "-" => s.to_owned(),
        _ => {
            let mut s = String::new();
            io::stdin().read_to_string(&mut s)?;
            s
        }
    };
    let format = decode::Format::from_flags(args.hex, args.base64);
    let keys = match args.keys.as_deref().map(decode::parse_keys).transpose() {
        Ok(k) => k,
        Err(e) => anyhow::bail!("--keys: {e}"),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut failed = false;
    for (line_no, line) in decode::lines(&text) {
        let result = match &keys {
            Some(k) => decode::decode_frame_line(line, format, args.pretty, k),
            None => decode::decode_line(line, format, args.pretty),
        };
        match result {
            Ok(json) => writeln!(out, "{json}")?,
            Err(e) => {
                failed = true;
                eprintln!("waweb: line {line_no}: {e}");
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
