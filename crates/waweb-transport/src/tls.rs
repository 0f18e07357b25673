//! rustls with the ring provider and the web PKI roots (no aws-lc-rs).

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use crate::error::Error;

/// The client configuration, built once.
pub(crate) fn client_config() -> Result<Arc<ClientConfig>, Error> {
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
        .ok_or(Error::Url("TLS configuration failed"))
}

/// A TLS stream for the HTTP logout request.
pub(crate) async fn connect(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Error> {
    let name = ServerName::try_from(host.to_owned()).map_err(|_| Error::Url("bad host name"))?;
    tokio_rustls::TlsConnector::from(client_config()?)
        .connect(name, tcp)
        .await
        .map_err(|e| Error::Logout(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    #[test]
    fn client_config_uses_ring_and_the_web_pki_roots() {
        let cfg = super::client_config().unwrap();
        // Built once and shared.
        assert!(std::sync::Arc::ptr_eq(
            &cfg,
            &super::client_config().unwrap()
        ));
        assert!(cfg.crypto_provider().cipher_suites.len() >= 3);
        assert!(!webpki_roots::TLS_SERVER_ROOTS.is_empty());
    }
}
