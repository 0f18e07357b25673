//! One HTTP/1.1 request per connection with hyper: `https://` through rustls (ring provider,
//! web PKI roots), plain `http://` only to loopback hosts (the simulator).

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::{Body, Incoming};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::media::MediaError;

/// Time allowed to connect and to receive the response head.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest JSON reply read from an upload.
const MAX_REPLY: usize = 64 * 1024;

/// A parsed `http(s)://host[:port]/path?query`.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `host[:port]` for the `Host` header.
    pub(crate) authority: String,
    pub(crate) path_and_query: String,
}

/// Whether `host` (no port, IPv6 without brackets) is a loopback address or `localhost`.
pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Target {
    /// Parses a URL. `http://` is accepted for loopback hosts only.
    pub(crate) fn parse(url: &str) -> Result<Target, MediaError> {
        let bad = |why: &str| MediaError::Url(format!("{url}: {why}"));
        let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad("not http(s)"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let path_and_query = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && p.chars().all(|c| c.is_ascii_digit()) => (
                h.trim_matches(['[', ']']),
                p.parse().map_err(|_| bad("bad port"))?,
            ),
            _ => (
                authority.trim_matches(['[', ']']),
                if https { 443 } else { 80 },
            ),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if !https && !is_loopback(host) {
            return Err(bad("plain http:// is only allowed to loopback hosts"));
        }
        Ok(Target {
            https,
            host: host.to_owned(),
            port,
            authority: authority.to_owned(),
            path_and_query,
        })
    }
}

fn tls_config() -> Result<Arc<ClientConfig>, MediaError> {
    static CONFIG: OnceLock<Option<Arc<ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots =
                rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
        })
        .clone()
        .ok_or_else(|| MediaError::Connect("TLS configuration failed".into()))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn connect(t: &Target) -> Result<Box<dyn Io>, MediaError> {
    let err = |e: String| MediaError::Connect(format!("{}:{}: {e}", t.host, t.port));
    let tcp = tokio::time::timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((t.host.as_str(), t.port)),
    )
    .await
    .map_err(|_| err("connect timed out".into()))?
    .map_err(|e| err(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    if !t.https {
        return Ok(Box::new(tcp));
    }
    let name = ServerName::try_from(t.host.clone()).map_err(|_| err("bad host name".into()))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config()?)
        .connect(name, tcp)
        .await
        .map_err(|e| err(e.to_string()))?;
    Ok(Box::new(tls))
}

/// Sends `req` (origin-form URI, `Host` set here) on a fresh connection.
pub(crate) async fn send<B>(
    t: &Target,
    mut req: http::Request<B>,
) -> Result<http::Response<Incoming>, MediaError>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let io = connect(t).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| MediaError::Connect(e.to_string()))?;
    // The connection ends with the response body (or with an error the request reports).
    tokio::spawn(async move {
        let _ = conn.await;
    });
    *req.uri_mut() = t
        .path_and_query
        .parse()
        .map_err(|_| MediaError::Url(format!("bad path {}", t.path_and_query)))?;
    let host = http::HeaderValue::from_str(&t.authority)
        .map_err(|_| MediaError::Url(format!("bad host {}", t.authority)))?;
    req.headers_mut().insert(http::header::HOST, host);
    sender
        .send_request(req)
        .await
        .map_err(|e| MediaError::Connect(e.to_string()))
}

/// Reads a small JSON reply body.
pub(crate) async fn json_body(
    resp: http::Response<Incoming>,
) -> Result<serde_json::Value, MediaError> {
    let body = http_body_util::Limited::new(resp.into_body(), MAX_REPLY)
        .collect()
        .await
        .map_err(|e| MediaError::Connect(e.to_string()))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|_| {
        MediaError::UnexpectedReply(String::from_utf8_lossy(&body).chars().take(200).collect())
    })
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
    fn urls() {
        let t = Target::parse("https://mmg.whatsapp.net/d/f/abc.enc?x=1").unwrap();
        assert!(t.https);
        assert_eq!((t.host.as_str(), t.port), ("mmg.whatsapp.net", 443));
        assert_eq!(t.path_and_query, "/d/f/abc.enc?x=1");
        let t = Target::parse("http://127.0.0.1:8080/mms/image/tok?auth=a").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 8080));
        assert_eq!(t.authority, "127.0.0.1:8080");
        let t = Target::parse("http://[::1]:81").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path_and_query.as_str()),
            ("::1", 81, "/")
        );
        assert!(Target::parse("http://mmg.whatsapp.net/d/f/x").is_err());
        assert!(Target::parse("ftp://x/").is_err());
    }
}
