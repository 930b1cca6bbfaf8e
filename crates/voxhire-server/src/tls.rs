//! HTTPS for the API: rustls (with the `ring` provider reqwest already
//! uses), a PEM certificate chain and private key, HSTS on every answer.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use axum::http::{header, HeaderValue};
use axum::response::Response;

/// `--tls-cert` and `--tls-key`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Browsers that saw the API over HTTPS keep to HTTPS for a year.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The rustls server configuration, with the files' faults named.
pub fn server_config(files: &TlsFiles) -> Result<axum_server::tls_rustls::RustlsConfig> {
    let mut config = voxhire_engine::sip_stream::tls_server_config(
        &files.cert,
        &files.key,
        ["--tls-cert", "--tls-key"],
    )?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}

/// Adds `Strict-Transport-Security` (served over HTTPS only).
pub async fn hsts(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    response
}
