//! The HTTP logout request (`POST /logout?t=...&m=...`) through hyper's HTTP/1.1 client, over TLS
//! for `https://` when the `tls` feature is on. One request per connection; only the status of the
//! answer is read.

use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use waweb_session::LogoutRequest;

use crate::error::Error;

/// Where a logout URL points.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `host[:port]` as written, for the `Host` header.
    pub(crate) authority: String,
    /// Path and query, `/` when absent.
    pub(crate) path: String,
}

/// Parses an `http(s)://` URL.
pub(crate) fn parse_url(url: &str) -> Result<Target, Error> {
    let uri: Uri = url.parse().map_err(|_| Error::Url("not a valid URL"))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(Error::Url("expected http:// or https://")),
    };
    let authority = uri.authority().ok_or(Error::Url("no host"))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err(Error::Url("no host"));
    }
    let written = authority.as_str();
    let port = match authority.port_u16() {
        Some(p) => p,
        // No port at all (an IPv6 literal ends with its bracket).
        None if written.ends_with(']') || !written.contains(':') => {
            if tls {
                443
            } else {
                80
            }
        }
        None => return Err(Error::Url("bad port")),
    };
    Ok(Target {
        tls,
        host: host.to_owned(),
        port,
        authority: authority.as_str().to_owned(),
        path: uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
    })
}

/// Sends the logout request; returns the HTTP status.
pub(crate) async fn post_logout(req: &LogoutRequest, timeout: Duration) -> Result<u16, Error> {
    tokio::time::timeout(timeout, post(req))
        .await
        .map_err(|_| Error::Logout("timed out".into()))?
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Logout(e.to_string())
}

async fn post(req: &LogoutRequest) -> Result<u16, Error> {
    let t = parse_url(&req.url)?;
    let request = Request::builder()
        .method(LogoutRequest::METHOD)
        .uri(t.path.as_str())
        .header(
            header::HOST,
            HeaderValue::from_str(&t.authority).map_err(|_| Error::Url("bad host"))?,
        )
        .header(header::ORIGIN, LogoutRequest::ORIGIN)
        .header(header::CONTENT_LENGTH, "0")
        .header(header::CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|_| Error::Url("not a valid request target"))?;
    let tcp = TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(failed)?;
    if t.tls {
        #[cfg(feature = "tls")]
        {
            let stream = crate::tls::connect(&t.host, tcp).await?;
            return exchange(stream, request).await;
        }
        #[cfg(not(feature = "tls"))]
        return Err(Error::Url("https needs the `tls` feature"));
    }
    exchange(tcp, request).await
}

/// Sends `request` on `stream` and waits for the response head.
async fn exchange<S>(stream: S, request: Request<Empty<Bytes>>) -> Result<u16, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .title_case_headers(true)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(failed)?;
    let mut conn = std::pin::pin!(conn);
    let mut send = std::pin::pin!(sender.send_request(request));
    // The connection is driven here, beside the request, and dropped with the answer.
    tokio::select! {
        r = send.as_mut() => return r.map(|resp| resp.status().as_u16()).map_err(failed),
        r = conn.as_mut() => r.map_err(failed)?,
    }
    // The server closed after answering: the answer is already waiting (or never came).
    send.await
        .map(|resp| resp.status().as_u16())
        .map_err(failed)
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
    fn urls_parse() {
        let t = parse_url("https://dyn.web.whatsapp.com/logout?t=a&m=b").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path.as_str()),
            (true, "dyn.web.whatsapp.com", 443, "/logout?t=a&m=b")
        );
        assert_eq!(t.authority, "dyn.web.whatsapp.com");
        let t = parse_url("http://127.0.0.1:8080/logout").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path.as_str()),
            (false, "127.0.0.1", 8080, "/logout")
        );
        assert_eq!(t.authority, "127.0.0.1:8080");
        let t = parse_url("http://[::1]:81").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("::1", 81, "/"));
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("/logout").is_err());
        assert!(parse_url("http://x:port/").is_err());
    }
}
