//! The HTTP side of the listener, served by hyper: the connection settings, the websocket upgrade
//! check (with the `Origin` rule), small response helpers and bounded body reading for the plain
//! endpoints (`/logout`, `/scan`).

use std::time::Duration;

use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioTimer;

/// The `Origin` the real service requires.
pub(crate) const ORIGIN: &str = "https://web.whatsapp.com";
/// Largest request head accepted (hyper answers 431 beyond it).
const MAX_HEAD: usize = 16 * 1024;
/// Largest read buffer: body chunks arrive at most this large.
const MAX_BUF: usize = 64 * 1024;
/// Largest request body accepted by the plain endpoints.
const MAX_BODY: usize = 64 * 1024;
/// Time allowed for the request head, and for a plain endpoint's body.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Body of every response: a whole buffer, or a file streamed in chunks.
pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;
/// A response as the handlers build it.
pub(crate) type Reply = Response<Body>;

/// The per-connection HTTP/1.1 settings: a bounded head read within [`HEAD_TIMEOUT`].
/// Keep-alive stays on so that a 101 goes out without `close`; every other answer carries
/// `Connection: close` (see [`closing`]), so a connection serves one request.
pub(crate) fn builder() -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_header_size(MAX_HEAD)
        .max_buf_size(MAX_BUF);
    b
}

/// Marks an answer as the connection's last, unless it switches protocols.
pub(crate) fn closing(mut reply: Reply) -> Reply {
    if reply.status() != StatusCode::SWITCHING_PROTOCOLS {
        reply
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    reply
}

/// The first value of a header, if it is visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether a comma-separated header contains `token` (case-insensitive), over all its lines.
fn header_has(headers: &HeaderMap, name: &str, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Whether the request asks for a websocket.
pub(crate) fn is_websocket(headers: &HeaderMap) -> bool {
    header_has(headers, "upgrade", "websocket")
}

/// A query parameter, percent-decoded. A literal `+` stays a `+`: base64 values often travel
/// unescaped, so it is not read as a space.
pub(crate) fn query(uri: &Uri, key: &str) -> Option<String> {
    let q = uri.query()?.replace('+', "%2B");
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Checks an upgrade request the way the real service does: `Origin: https://web.whatsapp.com`,
/// a websocket key and version 13. Any path, any extra headers, extensions or subprotocols
/// offered (none is accepted). Returns the `Sec-WebSocket-Accept` value or the refusal.
pub(crate) fn check_upgrade<B>(req: &Request<B>) -> Result<String, (u16, String)> {
    if req.method() != Method::GET {
        return Err((405, format!("upgrade with method {}", req.method())));
    }
    let headers = req.headers();
    let origin = header(headers, "origin").unwrap_or_default();
    if !origin.trim_end_matches('/').eq_ignore_ascii_case(ORIGIN) {
        return Err((403, format!("Origin {origin:?} is not {ORIGIN}")));
    }
    if header(headers, "sec-websocket-version").map(str::trim) != Some("13") {
        return Err((426, "Sec-WebSocket-Version is not 13".into()));
    }
    let key =
        header(headers, "sec-websocket-key").ok_or((400, "no Sec-WebSocket-Key".to_owned()))?;
    Ok(tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.trim().as_bytes()))
}

/// The 101 answer to an accepted upgrade.
pub(crate) fn switching_protocols(accept: &str) -> Reply {
    let mut r = Response::new(empty());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    r
}

fn empty() -> Body {
    Full::new(Bytes::new())
        .map_err(|e| match e {})
        .boxed_unsync()
}

/// A complete response with a body (426 also names the version wanted).
pub(crate) fn respond(status: u16, content_type: &'static str, body: String) -> Reply {
    let mut r = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|e| match e {})
            .boxed_unsync(),
    );
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == 426 {
        h.insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
    }
    r
}

/// Reads a plain endpoint's body: at most [`MAX_BODY`] bytes, within [`HEAD_TIMEOUT`].
pub(crate) async fn read_body(headers: &HeaderMap, body: Incoming) -> Result<Bytes, String> {
    let announced = header(headers, "content-length")
        .map(|v| v.trim().parse::<u64>().map_err(|_| "bad Content-Length"))
        .transpose()?
        .unwrap_or(0);
    if announced > MAX_BODY as u64 {
        return Err(format!(
            "body of {announced} bytes over the limit of {MAX_BODY}"
        ));
    }
    tokio::time::timeout(HEAD_TIMEOUT, Limited::new(body, MAX_BODY).collect())
        .await
        .map_err(|_| "timed out reading the body".to_owned())?
        .map(http_body_util::Collected::to_bytes)
        .map_err(|e| format!("reading the body: {e}"))
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

    fn req(headers: &[(&str, &str)]) -> Request<()> {
        let mut b = Request::builder().method("GET").uri("/ws");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
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
    fn websocket_detection_reads_every_upgrade_token() {
        let r = req(&[("Upgrade", "h2c, WebSocket")]);
        assert!(is_websocket(r.headers()));
        assert!(!is_websocket(req(&[]).headers()));
    }

    #[test]
    fn query_values_are_decoded_and_plus_is_kept() {
        let uri: Uri = "/logout?t=1%40abc&m=x%2By%3D&p=a+b%3d".parse().unwrap();
        assert_eq!(query(&uri, "t").unwrap(), "1@abc");
        assert_eq!(query(&uri, "m").unwrap(), "x+y=");
        assert_eq!(query(&uri, "p").unwrap(), "a+b=");
        assert_eq!(query(&uri, "q"), None);
        assert_eq!(uri.path(), "/logout");
    }
}
