//! The HTTP side of the listener: reading the request head, the websocket upgrade (with the
//! `Origin` check) and the plain HTTP endpoints (`/logout`, `/scan`).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The `Origin` the real service requires.
pub(crate) const ORIGIN: &str = "https://web.whatsapp.com";
/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;
/// Time allowed for the request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    /// Header names lower-cased, in order.
    pub(crate) headers: Vec<(String, String)>,
    /// Bytes read after the head (start of the body or of the websocket stream).
    pub(crate) rest: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header contains `token` (case-insensitive).
    pub(crate) fn header_has(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    pub(crate) fn is_websocket(&self) -> bool {
        self.header_has("upgrade", "websocket")
    }

    /// The path without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A query parameter, percent-decoded.
    pub(crate) fn query(&self, key: &str) -> Option<String> {
        let (_, q) = self.target.split_once('?')?;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == key).then(|| percent_decode(v))
        })
    }
}

/// Reads the request head (up to the blank line), keeping any bytes read past it.
pub(crate) async fn read_head(stream: &mut TcpStream) -> Result<Request, String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Err(format!("request head over {MAX_HEAD} bytes"));
        }
        let n = tokio::time::timeout(HEAD_TIMEOUT, stream.read(&mut chunk))
            .await
            .map_err(|_| "timed out reading the request head".to_owned())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the request head ended".into());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let rest = buf.split_off(end + 4);
    let head = String::from_utf8_lossy(&buf);
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    if method.is_empty() || target.is_empty() {
        return Err(format!("bad request line {request_line:?}"));
    }
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Request {
        method,
        target,
        headers,
        rest,
    })
}

/// Reads the body announced by `Content-Length` (bounded).
pub(crate) async fn read_body(
    stream: &mut TcpStream,
    req: &mut Request,
) -> Result<Vec<u8>, String> {
    let len: usize = req
        .header("content-length")
        .map(|v| v.parse().map_err(|_| "bad Content-Length".to_owned()))
        .transpose()?
        .unwrap_or(0);
    if len > MAX_BODY {
        return Err(format!("body of {len} bytes over the limit of {MAX_BODY}"));
    }
    let mut body = std::mem::take(&mut req.rest);
    let mut chunk = [0u8; 2048];
    while body.len() < len {
        let n = tokio::time::timeout(HEAD_TIMEOUT, stream.read(&mut chunk))
            .await
            .map_err(|_| "timed out reading the body".to_owned())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    body.truncate(len);
    Ok(body)
}

/// Checks an upgrade request the way the real service does: `Origin: https://web.whatsapp.com`,
/// a websocket key and version 13. Any path, any extra headers, extensions or subprotocols
/// offered (none is accepted). Returns the `Sec-WebSocket-Accept` value or the refusal.
pub(crate) fn check_upgrade(req: &Request) -> Result<String, (u16, String)> {
    if !req.method.eq_ignore_ascii_case("GET") {
        return Err((405, format!("upgrade with method {}", req.method)));
    }
    let origin = req.header("origin").unwrap_or_default();
    if !origin.trim_end_matches('/').eq_ignore_ascii_case(ORIGIN) {
        return Err((403, format!("Origin {origin:?} is not {ORIGIN}")));
    }
    if req.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err((426, "Sec-WebSocket-Version is not 13".into()));
    }
    let key = req
        .header("sec-websocket-key")
        .ok_or((400, "no Sec-WebSocket-Key".to_owned()))?;
    Ok(tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.trim().as_bytes()))
}

/// The 101 response.
pub(crate) fn switching_protocols(accept: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

/// Writes a complete response with a body and `Connection: close`.
pub(crate) async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    if status == 426 {
        head.push_str("Sec-WebSocket-Version: 13\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await?;
    stream.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        426 => "Upgrade Required",
        _ => "Error",
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `%XX` decoding; `+` is kept as `+` (base64 tokens carry it unescaped in practice).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            target: "/ws".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            rest: Vec::new(),
        }
    }

    #[test]
    fn accept_key_of_rfc6455() {
        let r = req(&[
            ("Origin", "https://web.whatsapp.com"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        assert_eq!(check_upgrade(&r).unwrap(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn origin_is_required() {
        let r = req(&[("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "x")]);
        assert_eq!(check_upgrade(&r).unwrap_err().0, 403);
        let r = req(&[
            ("Origin", "https://evil.example"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "x"),
        ]);
        assert_eq!(check_upgrade(&r).unwrap_err().0, 403);
    }

    #[test]
    fn percent_decoding_and_query() {
        assert_eq!(percent_decode("a%2Bb%3D%3d+"), "a+b==+");
        let mut r = req(&[]);
        r.target = "/logout?t=1%40abc&m=x%2By%3D".into();
        assert_eq!(r.query("t").unwrap(), "1@abc");
        assert_eq!(r.query("m").unwrap(), "x+y=");
        assert_eq!(r.path(), "/logout");
    }
}
