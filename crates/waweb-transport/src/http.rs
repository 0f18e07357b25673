//! The HTTP logout request (`POST /logout?t=...&m=...`): a minimal HTTP/1.1 client over tokio,
//! with TLS for `https://` when the `tls` feature is on.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use waweb_session::LogoutRequest;

use crate::error::Error;

/// `scheme, host, port, path-and-query` of an `http(s)://` URL.
pub(crate) fn split_url(url: &str) -> Result<(bool, String, u16, String), Error> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(Error::Url("expected http:// or https://"));
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| Error::Url("bad port"))?),
        None => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(Error::Url("no host"));
    }
    Ok((tls, host.to_owned(), port, path.to_owned()))
}

/// Sends the logout request; returns the HTTP status.
pub(crate) async fn post_logout(req: &LogoutRequest, timeout: Duration) -> Result<u16, Error> {
    tokio::time::timeout(timeout, post(req))
        .await
        .map_err(|_| Error::Logout("timed out".into()))?
}

async fn post(req: &LogoutRequest) -> Result<u16, Error> {
    let (tls, host, port, path) = split_url(&req.url)?;
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| Error::Logout(e.to_string()))?;
    let head = format!(
        "{} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        LogoutRequest::METHOD,
        LogoutRequest::ORIGIN
    );
    if tls {
        #[cfg(feature = "tls")]
        {
            let stream = crate::tls::connect(&host, tcp).await?;
            return exchange(stream, head.as_bytes()).await;
        }
        #[cfg(not(feature = "tls"))]
        return Err(Error::Url("https needs the `tls` feature"));
    }
    exchange(tcp, head.as_bytes()).await
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, head: &[u8]) -> Result<u16, Error> {
    s.write_all(head)
        .await
        .map_err(|e| Error::Logout(e.to_string()))?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    // Only the status line is needed.
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < 4096 {
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| Error::Logout(e.to_string()))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    let line = String::from_utf8_lossy(&buf);
    line.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Logout("no HTTP status line".into()))
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
    fn urls_split() {
        assert_eq!(
            split_url("https://dyn.web.whatsapp.com/logout?t=a&m=b").unwrap(),
            (
                true,
                "dyn.web.whatsapp.com".into(),
                443,
                "/logout?t=a&m=b".into()
            )
        );
        assert_eq!(
            split_url("http://127.0.0.1:8080/logout").unwrap(),
            (false, "127.0.0.1".into(), 8080, "/logout".into())
        );
        assert!(split_url("ftp://x").is_err());
    }
}
