//! Media: encrypt and upload (the `mediaConn` flow or the seeds' `encr_upload` flow), send the
//! message; download, verify and decrypt. Everything streams through temporary files with
//! fixed-size buffers, so memory does not depend on the file size.

use std::io::SeekFrom;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::StreamBody;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use waweb_binary::Node;
use waweb_crypto::{DecryptedMedia, EncryptedMedia, MediaKey};
use waweb_proto::MediaKind;
use waweb_proto::proto::{self, WebMessageInfo};
use waweb_session::{Flags, Metric, Reply};

pub use waweb_crypto::MediaType;

use crate::client::{Client, ClientError, SentMessage, expect_ok, wire_jid};
use crate::jid::Jid;
use crate::media_http::{self, Target};

/// The `Origin` the media hosts require.
const ORIGIN: &str = "https://web.whatsapp.com";
/// The `Referer` go-whatsapp sends with the upload.
const REFERER: &str = "https://web.whatsapp.com/";
/// The download host for a message that has only a `directPath`.
const DEFAULT_MEDIA_HOST: &str = "https://mmg.whatsapp.net";
const CHUNK: usize = 64 * 1024;
/// A download that receives nothing for this long fails.
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Which upload flow [`Client::send_media`] uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadFlow {
    /// Since 2020: `["query","mediaConn"]`, then `POST` of the raw `enc ++ mac` to
    /// `https://<host>/mms/<kind>/<token>?auth=<auth>&token=<token>`.
    #[default]
    MediaConn,
    /// The seeds' flow: `["action","encr_upload",kind,fileEncSha256B64]` answers an upload URL;
    /// `POST <url>?f=j` with a multipart form (`hash`, `file` named `blob`).
    EncrUpload,
}

/// Options of a media message.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct MediaOptions {
    /// `mimetype`; a default per type when `None`.
    pub mimetype: Option<String>,
    /// `caption` (image, video); the `title` of a document.
    pub caption: Option<String>,
    /// `fileName` of a document.
    pub file_name: Option<String>,
    /// The upload flow.
    pub flow: UploadFlow,
    /// `seconds` of audio and video.
    pub seconds: Option<u32>,
    /// The message this one replies to (its `contextInfo` quotes it).
    pub quoted: Option<Box<WebMessageInfo>>,
}

impl MediaOptions {
    /// Sets the MIME type.
    #[must_use]
    pub fn mimetype(mut self, m: impl Into<String>) -> Self {
        self.mimetype = Some(m.into());
        self
    }

    /// Sets the caption (or a document's title).
    #[must_use]
    pub fn caption(mut self, c: impl Into<String>) -> Self {
        self.caption = Some(c.into());
        self
    }

    /// Sets a document's file name.
    #[must_use]
    pub fn file_name(mut self, f: impl Into<String>) -> Self {
        self.file_name = Some(f.into());
        self
    }

    /// Replies to `message` (quoting it).
    #[must_use]
    pub fn quoting(mut self, message: WebMessageInfo) -> Self {
        self.quoted = Some(Box::new(message));
        self
    }

    /// Selects the upload flow.
    #[must_use]
    pub fn flow(mut self, flow: UploadFlow) -> Self {
        self.flow = flow;
        self
    }
}

/// An uploaded file: what the message needs.
#[derive(Clone, Debug)]
pub struct UploadedMedia {
    /// The kind of media the key was expanded for.
    pub media_type: MediaType,
    /// The fresh `mediaKey`.
    pub media_key: MediaKey,
    /// Hashes, lengths and the sidecar.
    pub info: EncryptedMedia,
    /// The download URL the media host answered.
    pub url: String,
    /// The `direct_path` the host answered, if any.
    pub direct_path: Option<String>,
}

/// Why a media call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// A request on the connection failed.
    #[error("{0}")]
    Client(#[from] ClientError),
    /// Encryption, the MAC or a hash check failed ([`waweb_crypto::Error::MediaMac`] for a
    /// tampered file: nothing was written to the destination).
    #[error("media crypto: {0}")]
    Crypto(#[from] waweb_crypto::Error),
    /// Reading the source, a temporary file or writing the destination failed.
    #[error("I/O error while {during}: {source}")]
    Io {
        /// What was being done.
        during: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The media host answered this HTTP status.
    #[error("media host answered HTTP {status} for {url}")]
    Http {
        /// The status.
        status: u16,
        /// The URL (without its query).
        url: String,
    },
    /// Connecting to the media host or the HTTP exchange failed.
    #[error("media host: {0}")]
    Connect(String),
    /// A URL is malformed or not allowed (plain `http://` to a non-loopback host).
    #[error("media URL {0}")]
    Url(String),
    /// The message carries no media, or no key or URL for it.
    #[error("the message has no downloadable media ({0})")]
    NoMedia(&'static str),
    /// A reply had an unexpected form.
    #[error("unexpected media reply: {0}")]
    UnexpectedReply(String),
}

fn io(during: &'static str) -> impl FnOnce(std::io::Error) -> MediaError {
    move |source| MediaError::Io { during, source }
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or_default().to_owned()
}

/// The key type of a message's media kind.
fn media_type_of(kind: MediaKind) -> MediaType {
    match kind {
        MediaKind::Image => MediaType::Image,
        MediaKind::Sticker => MediaType::Sticker,
        MediaKind::Video => MediaType::Video,
        MediaKind::Audio => MediaType::Audio,
        _ => MediaType::Document,
    }
}

/// The `filetype` of `encr_upload` and the `/mms/<kind>` segment.
fn kind_segment(t: MediaType) -> &'static str {
    t.upload_path().trim_start_matches("/mms/")
}

fn default_mimetype(t: MediaType) -> &'static str {
    match t {
        MediaType::Image => "image/jpeg",
        MediaType::Sticker => "image/webp",
        MediaType::Video | MediaType::Gif => "video/mp4",
        MediaType::Audio | MediaType::Ptt => "audio/ogg; codecs=opus",
        _ => "application/octet-stream",
    }
}

/// Puts `ctx` on whichever media kind `m` carries.
fn set_context_info(m: &mut proto::Message, ctx: proto::ContextInfo) {
    let slot = if let Some(x) = m.image_message.as_mut() {
        &mut x.context_info
    } else if let Some(x) = m.video_message.as_mut() {
        &mut x.context_info
    } else if let Some(x) = m.audio_message.as_mut() {
        &mut x.context_info
    } else if let Some(x) = m.document_message.as_mut() {
        &mut x.context_info
    } else if let Some(x) = m.sticker_message.as_mut() {
        &mut x.context_info
    } else {
        return;
    };
    *slot = Some(Box::new(ctx));
}

/// The message content for an uploaded file: `imageMessage`, `stickerMessage`, `videoMessage`
/// (`gifPlayback` for [`MediaType::Gif`]), `audioMessage` (`ptt` for [`MediaType::Ptt`]) or
/// `documentMessage`, with `url`, `directPath`, `mediaKey`, `mediaKeyTimestamp`, `fileSha256`,
/// `fileEncSha256`, `fileLength`, `mimetype`, and the sidecar of video and audio.
#[must_use]
pub fn media_message(up: &UploadedMedia, options: &MediaOptions) -> proto::Message {
    let t = up.media_type;
    let mimetype = Some(
        options
            .mimetype
            .clone()
            .unwrap_or_else(|| default_mimetype(t).to_owned()),
    );
    let url = Some(up.url.clone());
    let direct_path = up.direct_path.clone();
    let media_key = Some(up.media_key.as_bytes().to_vec());
    let ts = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
    .ok();
    let sha = Some(up.info.file_sha256.to_vec());
    let enc_sha = Some(up.info.file_enc_sha256.to_vec());
    let len = Some(up.info.file_length);
    let caption = options.caption.clone();
    let mut m = proto::Message::default();
    match t {
        MediaType::Image => {
            m.image_message = Some(Box::new(proto::ImageMessage {
                url,
                mimetype,
                caption,
                file_sha256: sha,
                file_enc_sha256: enc_sha,
                file_length: len,
                media_key,
                direct_path,
                media_key_timestamp: ts,
                ..Default::default()
            }));
        }
        MediaType::Sticker => {
            m.sticker_message = Some(Box::new(proto::StickerMessage {
                url,
                mimetype,
                file_sha256: sha,
                file_enc_sha256: enc_sha,
                file_length: len,
                media_key,
                direct_path,
                media_key_timestamp: ts,
                ..Default::default()
            }));
        }
        MediaType::Video | MediaType::Gif => {
            m.video_message = Some(Box::new(proto::VideoMessage {
                url,
                mimetype,
                caption,
                file_sha256: sha,
                file_enc_sha256: enc_sha,
                file_length: len,
                media_key,
                direct_path,
                media_key_timestamp: ts,
                seconds: options.seconds,
                gif_playback: (t == MediaType::Gif).then_some(true),
                streaming_sidecar: up.info.sidecar.clone(),
                ..Default::default()
            }));
        }
        MediaType::Audio | MediaType::Ptt => {
            m.audio_message = Some(Box::new(proto::AudioMessage {
                url,
                mimetype,
                file_sha256: sha,
                file_enc_sha256: enc_sha,
                file_length: len,
                media_key,
                direct_path,
                media_key_timestamp: ts,
                seconds: options.seconds,
                ptt: (t == MediaType::Ptt).then_some(true),
                streaming_sidecar: up.info.sidecar.clone(),
                ..Default::default()
            }));
        }
        _ => {
            m.document_message = Some(Box::new(proto::DocumentMessage {
                url,
                mimetype,
                title: caption.or_else(|| options.file_name.clone()),
                file_name: options.file_name.clone(),
                file_sha256: sha,
                file_enc_sha256: enc_sha,
                file_length: len,
                media_key,
                direct_path,
                media_key_timestamp: ts,
                ..Default::default()
            }));
        }
    }
    m
}

/// A body that streams `prefix ++ file ++ suffix`, reporting bytes sent on `progress`.
fn file_body(
    file: tokio::fs::File,
    prefix: Bytes,
    suffix: Bytes,
    progress: watch::Sender<u64>,
) -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send> {
    enum Part {
        Prefix,
        File,
        Suffix,
        Done,
    }
    let state = (Part::Prefix, file, prefix, suffix, progress, 0u64);
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        loop {
            let (part, file, prefix, suffix, progress, sent) = &mut st;
            match part {
                Part::Prefix => {
                    *part = Part::File;
                    if !prefix.is_empty() {
                        let b = std::mem::take(prefix);
                        return Some((Ok(Frame::data(b)), st));
                    }
                }
                Part::File => {
                    let mut buf = vec![0u8; CHUNK];
                    match file.read(&mut buf).await {
                        Ok(0) => *part = Part::Suffix,
                        Ok(n) => {
                            buf.truncate(n);
                            *sent += n as u64;
                            let _ = progress.send(*sent);
                            return Some((Ok(Frame::data(Bytes::from(buf))), st));
                        }
                        Err(e) => {
                            *part = Part::Done;
                            return Some((Err(e), st));
                        }
                    }
                }
                Part::Suffix => {
                    *part = Part::Done;
                    if !suffix.is_empty() {
                        let b = std::mem::take(suffix);
                        return Some((Ok(Frame::data(b)), st));
                    }
                }
                Part::Done => return None,
            }
        }
    });
    StreamBody::new(stream)
}

/// Awaits `fut` while forwarding the counter on `rx` to `progress`.
/// Drives an upload request while reporting progress. Fails with [`MediaError::Connect`] when
/// for `idle` neither a byte of the body was taken nor the reply came: a stalled upload, or a
/// host that took everything and never answers.
async fn with_progress<T>(
    fut: impl std::future::Future<Output = T>,
    mut rx: watch::Receiver<u64>,
    total: Option<u64>,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
    idle: std::time::Duration,
) -> Result<T, MediaError> {
    tokio::pin!(fut);
    let mut open = true;
    loop {
        tokio::select! {
            out = &mut fut => {
                let last = *rx.borrow_and_update();
                progress(last, total);
                return Ok(out);
            }
            changed = rx.changed(), if open => match changed {
                Ok(()) => {
                    let n = *rx.borrow_and_update();
                    progress(n, total);
                }
                Err(_) => open = false,
            },
            () = tokio::time::sleep(idle) => {
                let sent = *rx.borrow();
                return Err(MediaError::Connect(format!(
                    "the media host took no data and gave no reply for {} s ({sent} bytes sent)",
                    idle.as_secs_f32()
                )));
            }
        }
    }
}

fn no_progress(_: u64, _: Option<u64>) {}

impl Client {
    /// Encrypts `source` (streaming, to a temporary file), uploads it with `options.flow` and
    /// sends the media message (see [`media_message`]); waits for the server's ack.
    ///
    /// # Errors
    /// [`MediaError::Io`] reading the source, [`MediaError::Client`] for the queries and the
    /// send, [`MediaError::Http`] / [`MediaError::Connect`] from the media host.
    pub async fn send_media<R: AsyncRead + Unpin>(
        &self,
        chat: &Jid,
        media_type: MediaType,
        source: R,
        options: MediaOptions,
    ) -> Result<SentMessage, MediaError> {
        self.send_media_with_progress(chat, media_type, source, options, &mut no_progress)
            .await
    }

    /// [`send_media`](Self::send_media) reporting `(bytes uploaded, total)` as it goes.
    ///
    /// # Errors
    /// As [`send_media`](Self::send_media).
    pub async fn send_media_with_progress<R: AsyncRead + Unpin>(
        &self,
        chat: &Jid,
        media_type: MediaType,
        source: R,
        options: MediaOptions,
        progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
    ) -> Result<SentMessage, MediaError> {
        let up = self
            .upload_media(media_type, source, options.flow, progress)
            .await?;
        let mut message = media_message(&up, &options);
        if let Some(quoted) = &options.quoted {
            let own = self.own_jid().ok_or(ClientError::NotLoggedIn)?;
            let ctx = proto::ContextInfo::quoting(quoted, &wire_jid(&own));
            set_context_info(&mut message, ctx);
        }
        Ok(self.send_message(chat, message).await?)
    }

    /// Encrypts `source` with a fresh media key and uploads it; does not send a message.
    ///
    /// # Errors
    /// As [`send_media`](Self::send_media).
    pub async fn upload_media<R: AsyncRead + Unpin>(
        &self,
        media_type: MediaType,
        source: R,
        flow: UploadFlow,
        progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
    ) -> Result<UploadedMedia, MediaError> {
        let media_key = MediaKey::generate()?;
        let keys = media_key.expand(media_type);
        let tmp = tempfile::tempfile().map_err(io("creating a temporary file"))?;
        let mut file = tokio::fs::File::from_std(tmp);
        let info = keys
            .encrypt_async(source, &mut file, media_type.is_streamable())
            .await?;
        file.seek(SeekFrom::Start(0))
            .await
            .map_err(io("rewinding the temporary file"))?;
        let kind = kind_segment(media_type);
        let (tx, rx) = watch::channel(0u64);
        let total = Some(info.enc_length);
        let (url, target, req) = match flow {
            UploadFlow::MediaConn => {
                let conn = expect_ok(self.json(json!(["query", "mediaConn"])).await?)?;
                let mc = conn.get("media_conn").unwrap_or(&conn);
                let auth = mc
                    .get("auth")
                    .and_then(Value::as_str)
                    .ok_or_else(|| MediaError::UnexpectedReply(conn.to_string()))?;
                let host = mc
                    .get("hosts")
                    .and_then(Value::as_array)
                    .and_then(|h| h.first())
                    .and_then(|h| h.get("hostname"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| MediaError::UnexpectedReply(conn.to_string()))?;
                let token = info.upload_token();
                let base = host_base(host);
                let url = format!(
                    "{base}/mms/{kind}/{token}?auth={}&token={token}",
                    percent_encode(auth)
                );
                let target = Target::parse(&url)?;
                let req = http::Request::post("/")
                    .header(http::header::ORIGIN, ORIGIN)
                    .header(http::header::REFERER, REFERER)
                    .header(http::header::CONTENT_TYPE, "application/octet-stream")
                    .header(http::header::CONTENT_LENGTH, info.enc_length)
                    .body(file_body(file, Bytes::new(), Bytes::new(), tx))
                    .map_err(|e| MediaError::Url(e.to_string()))?;
                (url, target, req)
            }
            UploadFlow::EncrUpload => {
                let hash = info.file_enc_sha256_b64();
                let v = expect_ok(
                    self.json(json!(["action", "encr_upload", kind, hash]))
                        .await?,
                )?;
                let upload = v
                    .get("url")
                    .and_then(Value::as_str)
                    .ok_or_else(|| MediaError::UnexpectedReply(v.to_string()))?;
                let url = if upload.contains('?') {
                    format!("{upload}&f=j")
                } else {
                    format!("{upload}?f=j")
                };
                let target = Target::parse(&url)?;
                let mut rnd = [0u8; 12];
                waweb_crypto::primitives::random_bytes(&mut rnd)
                    .map_err(|_| ClientError::Random)?;
                let boundary = format!(
                    "----WawebFormBoundary{}",
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rnd)
                );
                let prefix = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"hash\"\r\n\r\n{hash}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                );
                let suffix = format!("\r\n--{boundary}--\r\n");
                let len = prefix.len() as u64 + info.enc_length + suffix.len() as u64;
                let req = http::Request::post("/")
                    .header(http::header::ORIGIN, ORIGIN)
                    .header(
                        http::header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .header(http::header::CONTENT_LENGTH, len)
                    .body(file_body(file, prefix.into(), suffix.into(), tx))
                    .map_err(|e| MediaError::Url(e.to_string()))?;
                (url, target, req)
            }
        };
        let reply = with_progress(
            media_http::send(&target, req),
            rx,
            total,
            progress,
            IDLE_TIMEOUT,
        )
        .await??;
        if !reply.status().is_success() {
            return Err(MediaError::Http {
                status: reply.status().as_u16(),
                url: strip_query(&url),
            });
        }
        let v = tokio::time::timeout(IDLE_TIMEOUT, media_http::json_body(reply))
            .await
            .map_err(|_| {
                MediaError::Connect(format!(
                    "the upload reply's body did not arrive within {} s",
                    IDLE_TIMEOUT.as_secs()
                ))
            })??;
        let url = v
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| MediaError::UnexpectedReply(v.to_string()))?
            .to_owned();
        let direct_path = v
            .get("direct_path")
            .or_else(|| v.get("directPath"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(UploadedMedia {
            media_type,
            media_key,
            info,
            url,
            direct_path,
        })
    }

    /// Downloads the media of `message`, checks its MAC and `fileEncSha256` and only then
    /// decrypts it into `dest`, reporting `(bytes downloaded, total)` to `progress`. The
    /// encrypted file goes to a temporary file first (streaming); an expired URL (HTTP 404 or
    /// 410) is refreshed once with [`refresh_media_url`](Self::refresh_media_url).
    ///
    /// # Errors
    /// [`MediaError::NoMedia`], [`MediaError::Http`], [`MediaError::Connect`],
    /// [`MediaError::Crypto`] (`MediaMac` for a tampered file, `MediaMismatch` when a hash or
    /// the length differs from the message; nothing reaches `dest` unless the MAC and
    /// `fileEncSha256` are right), [`MediaError::Io`].
    pub async fn download_media<W: AsyncWrite + Unpin>(
        &self,
        message: &WebMessageInfo,
        dest: W,
        progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
    ) -> Result<DecryptedMedia, MediaError> {
        let media = message
            .media()
            .ok_or(MediaError::NoMedia("no media content"))?;
        let key = MediaKey::from_slice(media.media_key.ok_or(MediaError::NoMedia("no mediaKey"))?)?;
        let keys = key.expand(media_type_of(media.kind));
        let url = match (media.url, media.direct_path) {
            (Some(u), _) => u.to_owned(),
            (None, Some(p)) => format!("{DEFAULT_MEDIA_HOST}{p}"),
            (None, None) => return Err(MediaError::NoMedia("no url")),
        };
        let tmp = tempfile::tempfile().map_err(io("creating a temporary file"))?;
        let mut file = tokio::fs::File::from_std(tmp);
        match fetch(&url, &mut file, progress).await {
            Err(MediaError::Http {
                status: 404 | 410, ..
            }) => {
                let fresh = self.refresh_media_url(message).await?;
                file.set_len(0).await.map_err(io("truncating"))?;
                file.seek(SeekFrom::Start(0))
                    .await
                    .map_err(io("rewinding"))?;
                fetch(&fresh, &mut file, progress).await?;
            }
            other => {
                other?;
            }
        }
        file.seek(SeekFrom::Start(0))
            .await
            .map_err(io("rewinding the temporary file"))?;
        let verified = keys.verify_async(&mut file).await?;
        if let Some(h) = media.file_enc_sha256
            && h != verified.file_enc_sha256.as_slice()
        {
            return Err(waweb_crypto::Error::MediaMismatch {
                field: "fileEncSha256",
            }
            .into());
        }
        file.seek(SeekFrom::Start(0))
            .await
            .map_err(io("rewinding the temporary file"))?;
        let got = keys.decrypt_async_unverified(&mut file, dest).await?;
        got.check(None, media.file_sha256, media.file_length)?;
        Ok(got)
    }

    /// A fresh download URL for the media of `message`, asked of the phone with the binary
    /// query `query{type=media, index=<id>, owner=<true|false>, jid=<chat>}` (metric
    /// queryMedia); the reply is `media{code, url, ...}`.
    ///
    /// # Errors
    /// [`MediaError::Client`]; [`MediaError::Http`] with the reply's `code` when it is not 200.
    pub async fn refresh_media_url(&self, message: &WebMessageInfo) -> Result<String, MediaError> {
        let id = message
            .key
            .id
            .as_deref()
            .ok_or(MediaError::NoMedia("no message id"))?;
        let chat = message
            .key
            .remote_jid
            .as_deref()
            .and_then(|j| Jid::parse(j).ok())
            .ok_or(MediaError::NoMedia("no chat"))?;
        let owner = if message.key.from_me.unwrap_or(false) {
            "true"
        } else {
            "false"
        };
        let q = Node::new("query")
            .attr("type", "media")
            .attr("index", id)
            .attr("owner", owner)
            .attr("jid", wire_jid(&chat));
        match self.node(q, Metric::QUERY_MEDIA, Flags::IGNORE).await? {
            Reply::Node(n) => {
                let code = n.get_attr("code").unwrap_or("200");
                match (code, n.get_attr("url")) {
                    ("200", Some(url)) => Ok(url.to_owned()),
                    (c, _) => Err(MediaError::Http {
                        status: c.parse().unwrap_or(0),
                        url: "media query".into(),
                    }),
                }
            }
            Reply::Json(v) => Err(MediaError::UnexpectedReply(v.to_string())),
        }
    }
}

/// `https://host` for a `mediaConn` hostname; `http://` for a loopback host (the simulator);
/// a hostname that already carries a scheme is used as it is.
fn host_base(host: &str) -> String {
    if host.contains("://") {
        return host.trim_end_matches('/').to_owned();
    }
    let name = match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    if media_http::is_loopback(name.trim_matches(['[', ']'])) {
        format!("http://{host}")
    } else {
        format!("https://{host}")
    }
}

/// Percent-encodes everything but unreserved characters.
fn percent_encode(s: &str) -> String {
    use std::fmt::Write as _;
    s.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

/// GETs `url` into `file`, streaming.
async fn fetch(
    url: &str,
    file: &mut tokio::fs::File,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<u64, MediaError> {
    let target = Target::parse(url)?;
    let req = http::Request::get("/")
        .header(http::header::ORIGIN, ORIGIN)
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(|e| MediaError::Url(e.to_string()))?;
    let resp = media_http::send(&target, req).await?;
    if !resp.status().is_success() {
        return Err(MediaError::Http {
            status: resp.status().as_u16(),
            url: strip_query(url),
        });
    }
    let total = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut body = resp.into_body();
    let mut got = 0u64;
    progress(0, total);
    loop {
        let next = tokio::time::timeout(IDLE_TIMEOUT, body.frame())
            .await
            .map_err(|_| {
                MediaError::Connect(format!("no data for {} s", IDLE_TIMEOUT.as_secs()))
            })?;
        let Some(frame) = next else { break };
        let frame = frame.map_err(|e| MediaError::Connect(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            file.write_all(&data)
                .await
                .map_err(io("writing the download"))?;
            got += data.len() as u64;
            progress(got, total);
        }
    }
    file.flush().await.map_err(io("writing the download"))?;
    if total.is_some_and(|t| t != got) {
        return Err(MediaError::Connect(format!(
            "download ended after {got} of {} bytes",
            total.unwrap_or_default()
        )));
    }
    Ok(got)
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

    #[test]
    fn host_bases() {
        assert_eq!(host_base("mmg.whatsapp.net"), "https://mmg.whatsapp.net");
        assert_eq!(host_base("127.0.0.1:4242"), "http://127.0.0.1:4242");
        assert_eq!(host_base("localhost"), "http://localhost");
        assert_eq!(host_base("http://x.example/"), "http://x.example");
        assert_eq!(percent_encode("a+b/c="), "a%2Bb%2Fc%3D");
    }

    /// A reply that never comes after the body was sent ends in a typed error, not a hang.
    #[tokio::test]
    async fn an_upload_without_a_reply_times_out() {
        let (tx, rx) = watch::channel(0u64);
        tx.send_replace(1000);
        drop(tx); // the body is finished
        let mut seen = Vec::new();
        let never = std::future::pending::<()>();
        let r = with_progress(
            never,
            rx,
            Some(1000),
            &mut |n, _| seen.push(n),
            std::time::Duration::from_millis(50),
        )
        .await;
        let err = r.unwrap_err().to_string();
        assert!(
            err.contains("no reply") && err.contains("1000 bytes sent"),
            "{err}"
        );
    }

    /// Progress keeps a slow upload alive; the reply ends it.
    #[tokio::test]
    async fn progress_resets_the_idle_limit() {
        let (tx, rx) = watch::channel(0u64);
        let feeder = async move {
            for n in 1..=5u64 {
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                tx.send_replace(n * 10);
            }
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            "reply"
        };
        let mut seen = Vec::new();
        let r = with_progress(
            feeder,
            rx,
            Some(50),
            &mut |n, _| seen.push(n),
            std::time::Duration::from_millis(80),
        )
        .await;
        assert_eq!(r.unwrap(), "reply");
        assert_eq!(seen.last(), Some(&50));
    }
}
