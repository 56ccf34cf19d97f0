//! Authentication both ways, as the reference server does it: the device's credentials
//! checked against its account, and the server's own credentials built in the scheme the
//! device challenged for (or the configured one).

use omadm_syncml::auth::{AuthScheme, HmacHeader};
use omadm_syncml::{b64, Chal, Cred, Meta, SyncMl};

use super::{DeviceAccount, ServerAuth};

/// The verdict on a device message's credentials: 212 (authenticated by Cred), 200 (an HMAC
/// that verifies, or no account needed), 401 (wrong), 407 (missing).
pub(super) fn device_verdict(
    account: Option<&DeviceAccount>,
    required: bool,
    msg: &SyncMl,
    body: &[u8],
    hmac: Option<&str>,
    nonce: &[u8],
) -> u16 {
    let Some(acc) = account else {
        return if required { 401 } else { 200 };
    };
    if acc.scheme == AuthScheme::Hmac {
        return match hmac.and_then(HmacHeader::parse) {
            None => 407,
            Some(h) if h.username == acc.name && h.verify(&acc.password, nonce, body) => 200,
            Some(_) => 401,
        };
    }
    match &msg.header.cred {
        None => 407,
        Some(cred) => {
            let name = msg.header.source.name().unwrap_or(&acc.name);
            if name == acc.name
                && cred.scheme() == Some(acc.scheme)
                && cred.verify(&acc.name, &acc.password, nonce)
            {
                212
            } else {
                401
            }
        }
    }
}

/// A challenge of `scheme` with `nonce` (none for basic, which uses no nonce).
pub(super) fn challenge(scheme: AuthScheme, nonce: Option<&[u8]>) -> Box<Chal<'static>> {
    let mut meta = Meta::format_type("b64", scheme.meta_type());
    if let Some(nonce) = nonce {
        meta.more_mut().next_nonce = Some(b64::encode(nonce).into());
    }
    Box::new(Chal { meta })
}

/// The scheme the server authenticates itself with at the start of a session.
pub(super) fn initial_server_scheme(
    auth: ServerAuth,
    account: Option<&DeviceAccount>,
) -> Option<AuthScheme> {
    match auth {
        ServerAuth::None => None,
        ServerAuth::Scheme(s) => Some(s),
        ServerAuth::AsAccount => Some(account.map_or(AuthScheme::Md5, |a| a.scheme)),
    }
}

/// The server's Cred in `scheme` (HMAC is carried by the transport: no Cred).
pub(super) fn server_cred(
    scheme: AuthScheme,
    server_id: &str,
    password: &str,
    nonce: &[u8],
) -> Option<Cred<'static>> {
    match scheme {
        AuthScheme::Basic => Some(Cred::basic(server_id, password)),
        AuthScheme::Md5 => Some(Cred::md5(server_id, password, nonce)),
        AuthScheme::Hmac => None,
    }
}
