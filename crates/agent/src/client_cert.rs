//! TLS client certificates from files: a PEM certificate chain and its PEM private key, the
//! key refused when its file can be read by anyone but its owner (as ssh refuses a key).

use std::path::Path;

/// Why a client certificate cannot be used.
#[derive(Debug)]
pub struct ClientCertError(String);

impl std::fmt::Display for ClientCertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientCertError {}

/// Reads a client certificate chain and its key (PEM). The key file must not be readable or
/// writable by group or others (mode 0600 or stricter), and both must be PEM.
pub fn read_client_certificate(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<u8>, Vec<u8>), ClientCertError> {
    let fail =
        |p: &Path, e: &dyn std::fmt::Display| ClientCertError(format!("{}: {e}", p.display()));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(key)
        .map_err(|e| fail(key, &e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ClientCertError(format!(
            "{}: the private key can be read by others (mode {:o}); chmod 600 it",
            key.display(),
            mode & 0o777
        )));
    }
    let cert_pem = std::fs::read(cert).map_err(|e| fail(cert, &e))?;
    let key_pem = std::fs::read(key).map_err(|e| fail(key, &e))?;
    omadm_transport::tls::check_client_certificate(&cert_pem, &key_pem)
        .map_err(|e| fail(cert, &e))?;
    Ok((cert_pem, key_pem))
}
