//! `waweb send-file` and `waweb download`, with a progress line on standard error.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use waweb_client::{MediaOptions, MediaType, UploadFlow};
use waweb_proto::proto::WebMessageInfo;

use crate::live::{Common, finish, parse_jid, restore};

/// The kind of media to send.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Kind {
    /// `imageMessage`.
    Image,
    /// `videoMessage`.
    Video,
    /// `videoMessage` played as a GIF.
    Gif,
    /// `audioMessage`.
    Audio,
    /// `audioMessage` as a voice note.
    Ptt,
    /// `documentMessage`.
    Document,
    /// `stickerMessage` (WebP).
    Sticker,
}

impl Kind {
    fn media_type(self) -> MediaType {
        match self {
            Kind::Image => MediaType::Image,
            Kind::Video => MediaType::Video,
            Kind::Gif => MediaType::Gif,
            Kind::Audio => MediaType::Audio,
            Kind::Ptt => MediaType::Ptt,
            Kind::Document => MediaType::Document,
            Kind::Sticker => MediaType::Sticker,
        }
    }
}

/// Arguments of `waweb send-file`.
#[derive(Args, Debug)]
pub(crate) struct SendFileArgs {
    #[command(flatten)]
    common: Common,
    /// The chat: `NUMBER`, `NUMBER@c.us`, `NUMBER@s.whatsapp.net` or `ID@g.us`.
    jid: String,
    /// The file to send.
    path: PathBuf,
    /// A caption (images, videos) or title (documents).
    #[arg(long)]
    caption: Option<String>,
    /// The kind of message (default: from the file name's extension; else document).
    #[arg(long = "type", value_enum)]
    kind: Option<Kind>,
    /// The MIME type (default: from the extension).
    #[arg(long)]
    mimetype: Option<String>,
    /// Upload with the older `encr_upload` flow instead of `mediaConn`.
    #[arg(long)]
    legacy_upload: bool,
}

/// Arguments of `waweb download`.
#[derive(Args, Debug)]
pub(crate) struct DownloadArgs {
    #[command(flatten)]
    common: Common,
    /// The chat the message is in (with `--id`).
    #[arg(long, requires = "id", required_unless_present = "message")]
    chat: Option<String>,
    /// The message id (with `--chat`); looked up among the chat's latest 200 messages.
    #[arg(long)]
    id: Option<String>,
    /// A message as JSON (`WebMessageInfo`, e.g. the `info` of a message `waweb listen` printed)
    /// instead of `--chat`/`--id`; `-` reads standard input.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["chat", "id"])]
    message: Option<PathBuf>,
    /// Where to write the decrypted file.
    #[arg(long, short)]
    output: PathBuf,
}

/// Kind and MIME type from a file name's extension.
fn guess(path: &Path) -> (Kind, &'static str) {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => (Kind::Image, "image/jpeg"),
        "png" => (Kind::Image, "image/png"),
        "webp" => (Kind::Sticker, "image/webp"),
        "gif" => (Kind::Gif, "video/mp4"),
        "mp4" => (Kind::Video, "video/mp4"),
        "ogg" | "opus" => (Kind::Audio, "audio/ogg; codecs=opus"),
        "mp3" => (Kind::Audio, "audio/mpeg"),
        "m4a" => (Kind::Audio, "audio/mp4"),
        "pdf" => (Kind::Document, "application/pdf"),
        "txt" => (Kind::Document, "text/plain"),
        _ => (Kind::Document, "application/octet-stream"),
    }
}

/// A progress line on standard error: a bar redrawn in place on a terminal, a plain line every
/// 10 % otherwise.
fn progress(verb: &'static str) -> impl FnMut(u64, Option<u64>) + Send {
    let tty = std::io::stderr().is_terminal();
    let mut last_step = None;
    move |n, total| {
        let pct = total.filter(|t| *t > 0).map(|t| n.saturating_mul(100) / t);
        let step = pct.map(|p| p / 10);
        if !tty && step == last_step {
            return;
        }
        last_step = step;
        let line = progress_line(verb, n, total, if tty { 24 } else { 0 });
        let mut err = std::io::stderr();
        let _ = if tty {
            write!(err, "\r{line}\x1b[K")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
}

/// `verb [bar] p% n / t MiB`; no bar when `bar_width` is 0 or the total is unknown.
fn progress_line(verb: &str, n: u64, total: Option<u64>, bar_width: usize) -> String {
    let mib = |b: u64| b as f64 / 1_048_576.0;
    match total.filter(|t| *t > 0) {
        Some(t) => {
            let done = n.min(t);
            let pct = done.saturating_mul(100) / t;
            let bar = if bar_width == 0 {
                String::new()
            } else {
                let filled = usize::try_from(done.saturating_mul(bar_width as u64) / t)
                    .unwrap_or(bar_width)
                    .min(bar_width);
                format!(
                    "[{}{}] ",
                    "#".repeat(filled),
                    "-".repeat(bar_width - filled)
                )
            };
            format!("{verb} {bar}{pct}% {:.1} / {:.1} MiB", mib(n), mib(t))
        }
        None => format!("{verb} {:.1} MiB", mib(n)),
    }
}

fn end_progress_line() {
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}

/// `waweb send-file`.
pub(crate) async fn send_file(args: SendFileArgs) -> anyhow::Result<()> {
    let jid = parse_jid(&args.jid)?;
    let file = tokio::fs::File::open(&args.path)
        .await
        .with_context(|| format!("cannot open {}", args.path.display()))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or_default();
    let (kind, mime) = guess(&args.path);
    let kind = args.kind.unwrap_or(kind);
    let mut options =
        MediaOptions::default().mimetype(args.mimetype.unwrap_or_else(|| mime.to_owned()));
    if let Some(c) = args.caption {
        options = options.caption(c);
    }
    if let Some(name) = args.path.file_name().and_then(|n| n.to_str()) {
        options = options.file_name(name);
    }
    if args.legacy_upload {
        options = options.flow(UploadFlow::EncrUpload);
    }
    let (client, _events, session) = restore(&args.common).await?;
    let result = client
        .send_media_with_progress(
            &jid,
            kind.media_type(),
            tokio::io::BufReader::new(file),
            options,
            &mut progress("uploading"),
        )
        .await;
    end_progress_line();
    finish(&client, &session).await?;
    let sent = result.context("sending the file failed")?;
    println!(
        "sent {} to {}: {} ({len} bytes, {:?}) acknowledged by the server{}",
        sent.id,
        jid,
        args.path.display(),
        kind,
        sent.server_time
            .map(|t| format!(" at {t}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// `waweb download`.
pub(crate) async fn download(args: DownloadArgs) -> anyhow::Result<()> {
    let from_json = match &args.message {
        Some(p) => {
            let text = if p.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?
            };
            let v: serde_json::Value = serde_json::from_str(&text).context("bad message JSON")?;
            // Accept the message itself or an object with `info` (a listen line's message).
            let v = v.get("info").cloned().unwrap_or(v);
            Some(serde_json::from_value::<WebMessageInfo>(v).context("not a WebMessageInfo")?)
        }
        None => None,
    };
    let chat = args.chat.as_deref().map(parse_jid).transpose()?;
    let (client, _events, session) = restore(&args.common).await?;
    let result = async {
        let msg = match (from_json, chat, args.id.as_deref()) {
            (Some(m), _, _) => m,
            (None, Some(chat), Some(id)) => client
                .load_earlier_messages(&chat, 200, None)
                .await
                .context("loading the chat's messages failed")?
                .into_iter()
                .find(|m| m.id == id)
                .map(|m| m.info)
                .with_context(|| format!("no message {id} among the latest 200 of {chat}"))?,
            _ => bail!("give --chat and --id, or --message"),
        };
        // Decrypt into a temporary file next to the output; rename only when everything checked.
        let dir = args
            .output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        let mut out = tokio::fs::File::from_std(tmp.reopen()?);
        let got = client
            .download_media(&msg, &mut out, &mut progress("downloading"))
            .await;
        end_progress_line();
        let got = got.context("downloading failed")?;
        drop(out);
        tmp.persist(&args.output)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
        Ok(got.file_length)
    }
    .await;
    finish(&client, &session).await?;
    let len = result?;
    println!(
        "downloaded {len} bytes to {} (MAC and hashes checked)",
        args.output.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::progress_line;

    #[test]
    fn progress_lines() {
        let m = 1_048_576;
        assert_eq!(
            progress_line("uploading", m, Some(4 * m), 8),
            "uploading [##------] 25% 1.0 / 4.0 MiB"
        );
        assert_eq!(
            progress_line("uploading", 4 * m, Some(4 * m), 8),
            "uploading [########] 100% 4.0 / 4.0 MiB"
        );
        assert_eq!(
            progress_line("downloading", m / 2, Some(m), 0),
            "downloading 50% 0.5 / 1.0 MiB"
        );
        assert_eq!(
            progress_line("downloading", m, None, 8),
            "downloading 1.0 MiB"
        );
        assert_eq!(progress_line("x", 5, Some(0), 8), "x 0.0 MiB");
    }
}
