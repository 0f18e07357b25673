//! The media host on the simulator's own port (plain HTTP, loopback).
//!
//! * `POST /mms/<image|video|audio|document>/<token>?auth=AUTH&token=TOKEN`: the `mediaConn`
//!   upload of the raw `enc ++ mac` (`Origin: https://web.whatsapp.com`, an `auth` the
//!   `["query","mediaConn"]` reply handed out, `token` = URL-safe base64 of SHA-256 of the body).
//! * `POST /upload/<type>/<id>?f=j`: the seeds' `encr_upload` flow, a `multipart/form-data` body
//!   with a `hash` field (standard base64 of SHA-256 of the file) and a `file` part.
//! * Both answer `{"url":"http://127.0.0.1:PORT/d/f/<id>.enc","direct_path":"/d/f/<id>.enc"}`.
//! * `GET /d/f/<id>.enc` serves the stored blob.
//!
//! Bodies stream to files in a temporary directory: memory does not depend on their size.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE as B64_URL};
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::Bytes;
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response};
use ring::digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::http;
use crate::lock;
use crate::server::Shared;

/// Largest upload accepted.
pub(crate) const MAX_UPLOAD: u64 = 512 * 1024 * 1024;
/// Bytes held back at the end of a multipart body to find the closing boundary.
const MULTIPART_HOLD: usize = 4096;
/// Largest multipart preamble (the parts before the file's bytes).
const MULTIPART_HEAD: usize = 16 * 1024;
const CHUNK: usize = 64 * 1024;
/// Time allowed for each piece of an upload body.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Stored blobs and the upload state.
pub(crate) struct MediaHost {
    dir: tempfile::TempDir,
    state: Mutex<MediaState>,
}

#[derive(Default)]
struct MediaState {
    /// URL id → blob file.
    blobs: HashMap<String, Arc<Blob>>,
    /// `auth` values handed out by `mediaConn`.
    auths: HashSet<String>,
    /// `encr_upload` ids → the announced hash (standard base64).
    pending: HashMap<String, String>,
    /// URL ids that answer 404.
    expired: HashSet<String>,
}

struct Blob {
    path: PathBuf,
}

impl Drop for Blob {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A random id of URL-safe characters.
pub(crate) fn random_id() -> String {
    let mut b = [0u8; 16];
    if waweb_crypto::primitives::random_bytes(&mut b).is_err() {
        // The OS generator does not fail in practice; fall back to the clock rather than panic.
        for (i, x) in b.iter_mut().enumerate() {
            *x = (crate::wire::now_ms() >> (i % 8)) as u8 ^ (i as u8);
        }
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl MediaHost {
    pub(crate) fn new() -> std::io::Result<Self> {
        Ok(MediaHost {
            dir: tempfile::Builder::new()
                .prefix("waweb-sim-media")
                .tempdir()?,
            state: Mutex::new(MediaState::default()),
        })
    }

    /// A fresh `mediaConn` auth.
    pub(crate) fn new_auth(&self) -> String {
        let a = crate::wire::random_b64(24);
        lock(&self.state).auths.insert(a.clone());
        a
    }

    /// The upload URL of the `encr_upload` action for a file whose SHA-256 is `hash_b64`.
    pub(crate) fn new_seed_upload(&self, base: &str, kind: &str, hash_b64: &str) -> String {
        let id = random_id();
        lock(&self.state)
            .pending
            .insert(id.clone(), hash_b64.to_owned());
        format!("{base}/upload/{kind}/{id}")
    }

    fn insert(&self, path: PathBuf) -> String {
        let id = random_id();
        lock(&self.state)
            .blobs
            .insert(id.clone(), Arc::new(Blob { path }));
        id
    }

    fn new_path(&self) -> PathBuf {
        self.dir.path().join(random_id())
    }

    /// Stores `bytes` (already `enc ++ mac`); returns the direct path `/d/f/<id>.enc`.
    pub(crate) fn store(&self, bytes: &[u8]) -> std::io::Result<String> {
        let path = self.new_path();
        std::fs::write(&path, bytes)?;
        Ok(format!("/d/f/{}.enc", self.insert(path)))
    }

    /// A new URL path for the blob behind `url` (any URL ending in `/d/f/<id>.enc`), the answer
    /// of the `media` refresh query.
    pub(crate) fn refresh(&self, url: &str) -> Option<String> {
        let id = id_of(url)?;
        let mut st = lock(&self.state);
        let blob = st.blobs.get(id)?.clone();
        let fresh = random_id();
        st.blobs.insert(fresh.clone(), blob);
        Some(format!("/d/f/{fresh}.enc"))
    }

    /// Makes a download URL answer 404 from now on.
    pub(crate) fn expire(&self, url: &str) {
        if let Some(id) = id_of(url) {
            lock(&self.state).expired.insert(id.to_owned());
        }
    }
}

fn id_of(url: &str) -> Option<&str> {
    let path = url.split('?').next()?;
    let (_, rest) = path.split_once("/d/f/")?;
    rest.strip_suffix(".enc")
}

/// Whether a request for `path` is for the media host.
pub(crate) fn handles(path: &str) -> bool {
    path.starts_with("/mms/") || path.starts_with("/upload/") || path.starts_with("/d/f/")
}

/// Serves one media request (the connection closes after it).
pub(crate) async fn serve(shared: &Arc<Shared>, req: Request<Incoming>) -> http::Reply {
    let (parts, mut body) = req.into_parts();
    let path = parts.uri.path();
    let result = if parts.method == Method::GET && path.starts_with("/d/f/") {
        download(shared, path).await
    } else if parts.method != Method::POST {
        Err((405, format!("{} on a media path", parts.method)))
    } else if path.starts_with("/mms/") {
        upload_media_conn(shared, &parts, &mut body)
            .await
            .map(json_reply)
    } else {
        upload_seed(shared, &parts, &mut body).await.map(json_reply)
    };
    result.unwrap_or_else(|(status, reason)| {
        tracing::warn!(target = %parts.uri, status, "media request refused: {reason}");
        let body = serde_json::json!({"status": status, "error": reason}).to_string();
        http::respond(status, "application/json", body)
    })
}

fn json_reply(v: serde_json::Value) -> http::Reply {
    http::respond(200, "application/json", v.to_string())
}

type Refusal = (u16, String);

fn content_length(parts: &Parts) -> Result<u64, Refusal> {
    let len: u64 = http::header(&parts.headers, "content-length")
        .ok_or((411, "Content-Length required".to_owned()))?
        .trim()
        .parse()
        .map_err(|_| (400, "bad Content-Length".to_owned()))?;
    if len > MAX_UPLOAD {
        return Err((413, format!("body of {len} bytes over {MAX_UPLOAD}")));
    }
    Ok(len)
}

/// The next piece of the body (`None` at its end), within [`BODY_TIMEOUT`]. Pieces are at most
/// hyper's read buffer large.
async fn next_chunk(body: &mut Incoming) -> Result<Option<Bytes>, Refusal> {
    loop {
        let frame = tokio::time::timeout(BODY_TIMEOUT, body.frame())
            .await
            .map_err(|_| (408, "timed out reading the body".to_owned()))?;
        match frame {
            None => return Ok(None),
            Some(Err(e)) => return Err((400, format!("reading the body: {e}"))),
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Streams the body into a file, hashing what is written, holding back the last `hold` bytes
/// (returned, neither written nor hashed). `first` holds body bytes already read; `remaining`
/// counts them.
async fn stream_body(
    body: &mut Incoming,
    first: Vec<u8>,
    mut remaining: u64,
    hold: usize,
    path: &std::path::Path,
) -> Result<(digest::Digest, u64, Vec<u8>), Refusal> {
    let io = |e: std::io::Error| (500, format!("storing the upload: {e}"));
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut hasher = digest::Context::new(&digest::SHA256);
    let mut written = 0u64;
    let mut held: Vec<u8> = Vec::with_capacity(hold + CHUNK);
    let mut pending = Some(Bytes::from(first));
    loop {
        let chunk = match pending.take() {
            Some(p) => p,
            None if remaining == 0 => break,
            None => next_chunk(body)
                .await?
                .ok_or_else(|| (400, format!("body ended {remaining} bytes early")))?,
        };
        let take = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        held.extend_from_slice(chunk.get(..take).unwrap_or_default());
        remaining -= take as u64;
        if held.len() > hold {
            let out = held.len() - hold;
            let part = held.get(..out).unwrap_or_default();
            hasher.update(part);
            file.write_all(part).await.map_err(io)?;
            written += out as u64;
            held.drain(..out);
        }
    }
    file.flush().await.map_err(io)?;
    Ok((hasher.finish(), written, held))
}

async fn upload_media_conn(
    shared: &Arc<Shared>,
    parts: &Parts,
    body: &mut Incoming,
) -> Result<serde_json::Value, Refusal> {
    let origin = http::header(&parts.headers, "origin").unwrap_or_default();
    if !origin
        .trim_end_matches('/')
        .eq_ignore_ascii_case(http::ORIGIN)
    {
        return Err((403, format!("Origin {origin:?} is not {}", http::ORIGIN)));
    }
    let auth = http::query(&parts.uri, "auth").unwrap_or_default();
    if !lock(&shared.media.state).auths.contains(&auth) {
        return Err((401, "unknown auth".into()));
    }
    let mut segs = parts.uri.path().trim_start_matches("/mms/").split('/');
    let kind = segs.next().unwrap_or_default().to_owned();
    if !matches!(kind.as_str(), "image" | "video" | "audio" | "document") {
        return Err((404, format!("no media kind {kind:?}")));
    }
    let path_token = segs.next().unwrap_or_default().to_owned();
    let token = http::query(&parts.uri, "token").unwrap_or_default();
    if token != path_token {
        return Err((400, "token in the path and the query differ".into()));
    }
    let len = content_length(parts)?;
    let path = shared.media.new_path();
    let (hash, written, _) = stream_body(body, Vec::new(), len, 0, &path).await?;
    if B64_URL.encode(hash.as_ref()).trim_end_matches('=') != token.trim_end_matches('=') {
        let _ = std::fs::remove_file(&path);
        return Err((400, "token is not the SHA-256 of the body".into()));
    }
    Ok(stored(shared, path, &kind, written))
}

fn stored(shared: &Arc<Shared>, path: PathBuf, kind: &str, len: u64) -> serde_json::Value {
    let id = shared.media.insert(path);
    let direct = format!("/d/f/{id}.enc");
    tracing::info!(kind, len, direct, "media stored");
    serde_json::json!({
        "url": format!("http://{}{direct}", shared.local_addr),
        "direct_path": direct,
    })
}

async fn upload_seed(
    shared: &Arc<Shared>,
    parts: &Parts,
    body: &mut Incoming,
) -> Result<serde_json::Value, Refusal> {
    let mut segs = parts.uri.path().trim_start_matches("/upload/").split('/');
    let kind = segs.next().unwrap_or_default().to_owned();
    let id = segs.next().unwrap_or_default().to_owned();
    let Some(expected) = lock(&shared.media.state).pending.remove(&id) else {
        return Err((404, "unknown upload URL".into()));
    };
    let ctype = http::header(&parts.headers, "content-type").unwrap_or_default();
    let boundary = ctype
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_owned())
        .ok_or((400, "not multipart/form-data with a boundary".to_owned()))?;
    let mut remaining = content_length(parts)?;
    // The parts before the file's bytes: read until the file part's headers end.
    let mut head = Vec::new();
    let file_start = loop {
        if let Some(p) = file_part_start(&head) {
            break p;
        }
        if head.len() > MULTIPART_HEAD {
            return Err((400, "no file part in the first 16 KiB".into()));
        }
        let chunk = next_chunk(body)
            .await?
            .ok_or((400, "body ended before the file part".to_owned()))?;
        head.extend_from_slice(&chunk);
    };
    let head_len = head.len() as u64;
    let hash_field = field_value(head.get(..file_start).unwrap_or_default(), "hash");
    let rest = head.split_off(file_start);
    remaining = remaining
        .checked_sub(head_len - rest.len() as u64)
        .ok_or((400, "Content-Length shorter than the parts".to_owned()))?;
    let path = shared.media.new_path();
    let (_, written, tail) = stream_body(body, rest, remaining, MULTIPART_HOLD, &path).await?;
    let delim = format!("\r\n--{boundary}");
    let Some(end) = find(&tail, delim.as_bytes()) else {
        let _ = std::fs::remove_file(&path);
        return Err((400, "no closing boundary after the file".into()));
    };
    // Append the held-back file bytes, then hash the whole file.
    let last = tail.get(..end).unwrap_or_default();
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .await
        .map_err(|e| (500, e.to_string()))?;
    file.write_all(last)
        .await
        .map_err(|e| (500, e.to_string()))?;
    file.flush().await.map_err(|e| (500, e.to_string()))?;
    drop(file);
    let total = written + last.len() as u64;
    let actual = B64.encode(sha256_file(&path).await.map_err(|e| (500, e.to_string()))?);
    if hash_field.as_deref().is_some_and(|h| h != actual) || expected != actual {
        let _ = std::fs::remove_file(&path);
        return Err((400, "hash is not the SHA-256 of the file".into()));
    }
    Ok(stored(shared, path, &kind, total))
}

async fn sha256_file(path: &std::path::Path) -> std::io::Result<[u8; 32]> {
    let mut f = tokio::fs::File::open(path).await?;
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        ctx.update(buf.get(..n).unwrap_or_default());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(out)
}

/// Offset of the first byte of the `file` part's content, once its headers are complete.
fn file_part_start(head: &[u8]) -> Option<usize> {
    let at = find(head, b"name=\"file\"")?;
    let after = head.get(at..)?;
    Some(at + find(after, b"\r\n\r\n")? + 4)
}

/// The value of a simple form field in the preamble.
fn field_value(pre: &[u8], name: &str) -> Option<String> {
    let at = find(pre, format!("name=\"{name}\"").as_bytes())?;
    let after = pre.get(at..)?;
    let start = find(after, b"\r\n\r\n")? + 4;
    let value = after.get(start..)?;
    let end = find(value, b"\r\n")?;
    Some(String::from_utf8_lossy(value.get(..end)?).trim().to_owned())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn download(shared: &Arc<Shared>, target: &str) -> Result<http::Reply, Refusal> {
    let id = id_of(target).ok_or((404, "not a blob path".to_owned()))?;
    if shared.faults.take_expire_download() {
        shared.media.expire(target);
    }
    let blob = {
        let st = lock(&shared.media.state);
        if st.expired.contains(id) {
            return Err((404, "expired".into()));
        }
        st.blobs.get(id).cloned()
    }
    .ok_or((404, "no such blob".to_owned()))?;
    let file = tokio::fs::File::open(&blob.path)
        .await
        .map_err(|e| (404, e.to_string()))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| (500, e.to_string()))?
        .len();
    // The file is read a chunk at a time as hyper writes the response.
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Frame::data(Bytes::from(buf))), Some(file)))
            }
            Err(e) => {
                tracing::debug!("media download cut short: {e}");
                Some((Err(e), None))
            }
        }
    });
    let mut reply = Response::new(StreamBody::new(chunks).boxed_unsync());
    let h = reply.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Ok(reply)
}
