//! DM accounts from C: the opaque `omadm_account` builder (one setter per field, so that
//! fields can be added without changing any struct layout) and the agent calls that add,
//! change and remove accounts with it, through the same account store a bootstrap writes.

use std::ffi::c_char;
use std::path::Path;

use omadm_csp::{check_roles, AccountChange, AuthScheme, Encoding, ProtocolVersion};

use crate::agent::omadm_agent;
use crate::boundary::{guard, not_null, with_agent};
use crate::result::omadm_result;
use crate::strings::text;

/// Credentials scheme: none (only for the server's credentials: the server need not
/// authenticate, and its notifications cannot be verified).
pub const OMADM_AUTH_NONE: u32 = 0;
/// Credentials scheme `BASIC`.
pub const OMADM_AUTH_BASIC: u32 = 1;
/// Credentials scheme `DIGEST` (MD5).
pub const OMADM_AUTH_DIGEST: u32 = 2;
/// Credentials scheme `HMAC` (the x-syncml-hmac header).
pub const OMADM_AUTH_HMAC: u32 = 3;

/// Encoding of the device's first package: XML.
pub const OMADM_ENCODING_XML: u32 = 1;
/// Encoding of the device's first package: WBXML.
pub const OMADM_ENCODING_WBXML: u32 = 2;

/// Protocol of the first package: DM 1.2.
pub const OMADM_PROTOCOL_1_2: u32 = 1;
/// Protocol of the first package: DM 1.1.2.
pub const OMADM_PROTOCOL_1_1_2: u32 = 2;

/// Plain `http://` for this server as the agent allows (`omadm_agent_config_set_allow_plain_http`).
pub const OMADM_PLAIN_HTTP_AGENT: u32 = 1;
/// Plain `http://` never for this server, even when the agent allows it.
pub const OMADM_PLAIN_HTTP_REFUSE: u32 = 2;

/// A DM account's fields, set one by one: for a new account
/// (`omadm_agent_add_account`: ServerID and URL required) or as changes to an existing one
/// (`omadm_agent_update_account`: only the fields set change). Create with
/// `omadm_account_new`, free with `omadm_account_free`; not shared between threads while it
/// is being set. Secrets set here are kept only until it is freed, and never logged.
pub struct omadm_account {
    change: AccountChange,
}

/// Runs `f` on the builder behind `account`.
///
/// # Safety
/// A non-NULL `account` must come from `omadm_account_new`, not freed, not used by another
/// thread during the call.
unsafe fn with_account(
    account: *mut omadm_account,
    f: impl FnOnce(&mut AccountChange) -> Result<(), omadm_result>,
) -> omadm_result {
    guard(|| {
        not_null(account)?;
        // SAFETY: non-NULL, live and not shared, by the caller's contract.
        f(unsafe { &mut (*account).change })
    })
}

/// Text that must not be empty.
///
/// # Safety
/// As [`text`].
unsafe fn required<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, omadm_result> {
    // SAFETY: contract passed on.
    let t = unsafe { text(ptr, len) }?;
    if t.trim().is_empty() {
        return Err(omadm_result::InvalidArgument);
    }
    Ok(t)
}

/// A new, empty account builder (no field set). NULL only when out of memory.
#[no_mangle]
pub extern "C" fn omadm_account_new() -> *mut omadm_account {
    std::panic::catch_unwind(|| {
        Box::into_raw(Box::new(omadm_account {
            change: AccountChange::default(),
        }))
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Frees an account builder (NULL is allowed), wiping the secrets it holds.
///
/// # Safety
/// `account` NULL or from `omadm_account_new`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_free(account: *mut omadm_account) {
    if account.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: from Box::into_raw in omadm_account_new, freed once.
        let mut account = unsafe { Box::from_raw(account) };
        for secret in [
            account.change.client.secret.take(),
            account.change.server.secret.take(),
        ]
        .into_iter()
        .flatten()
        {
            let mut bytes = secret.into_bytes();
            bytes.iter_mut().for_each(|b| *b = 0);
            std::hint::black_box(&bytes);
        }
    }));
}

/// Sets the ServerID: the new account's, or for `omadm_agent_update_account` a new one. It
/// must not be empty, and is unique on the device (checked when the account is written).
///
/// # Safety
/// `account` from `omadm_account_new`; `(server_id, len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_server_id(
    account: *mut omadm_account,
    server_id: *const c_char,
    server_id_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_account(account, |c| {
            c.server_id = Some(required(server_id, server_id_len)?.to_owned());
            Ok(())
        })
    }
}

/// Sets the account's display Name (default: its ServerID).
///
/// # Safety
/// `account` from `omadm_account_new`; `(name, len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_name(
    account: *mut omadm_account,
    name: *const c_char,
    name_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_account(account, |c| {
            c.name = Some(text(name, name_len)?.to_owned());
            Ok(())
        })
    }
}

/// Sets the server's URL (AppAddr): `https://host[:port]/path`, or `http://` when plain
/// HTTP is allowed. `OMADM_RESULT_BAD_URL` when it cannot be parsed.
///
/// # Safety
/// `account` from `omadm_account_new`; `(url, len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_url(
    account: *mut omadm_account,
    url: *const c_char,
    url_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_account(account, |c| {
            let u = text(url, url_len)?;
            omadm_transport::Url::parse(u).map_err(|_| omadm_result::BadUrl)?;
            c.url = Some(u.to_owned());
            Ok(())
        })
    }
}

/// Sets the server's port (PortNbr; 1 to 65535).
///
/// # Safety
/// `account` from `omadm_account_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_port(
    account: *mut omadm_account,
    port: u16,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_account(account, |c| {
            if port == 0 {
                return Err(omadm_result::InvalidArgument);
            }
            c.port = Some(port);
            Ok(())
        })
    }
}

fn scheme(value: u32) -> Result<Option<AuthScheme>, omadm_result> {
    match value {
        OMADM_AUTH_NONE => Ok(None),
        OMADM_AUTH_BASIC => Ok(Some(AuthScheme::Basic)),
        OMADM_AUTH_DIGEST => Ok(Some(AuthScheme::Digest)),
        OMADM_AUTH_HMAC => Ok(Some(AuthScheme::Hmac)),
        _ => Err(omadm_result::InvalidArgument),
    }
}

/// Sets how the device authenticates to the server (CLCRED): `scheme` one of
/// `OMADM_AUTH_BASIC`, `_DIGEST`, `_HMAC`, with the device's name and secret.
///
/// # Safety
/// `account` from `omadm_account_new`; the views readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_client_credentials(
    account: *mut omadm_account,
    scheme_value: u32,
    name: *const c_char,
    name_len: usize,
    secret: *const c_char,
    secret_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_account(account, |c| {
            let s = scheme(scheme_value)?.ok_or(omadm_result::InvalidArgument)?;
            c.client.scheme = Some(s);
            c.client.name = Some(text(name, name_len)?.to_owned());
            c.client.secret = Some(text(secret, secret_len)?.to_owned());
            Ok(())
        })
    }
}

/// Sets how the server authenticates to the device (SRVCRED): `scheme` one of
/// `OMADM_AUTH_BASIC`, `_DIGEST`, `_HMAC` with the server's name (empty: its ServerID) and
/// secret; or `OMADM_AUTH_NONE` (name and secret ignored): the server need not authenticate,
/// and its notifications cannot be verified.
///
/// # Safety
/// `account` from `omadm_account_new`; the views readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_server_credentials(
    account: *mut omadm_account,
    scheme_value: u32,
    name: *const c_char,
    name_len: usize,
    secret: *const c_char,
    secret_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_account(account, |c| match scheme(scheme_value)? {
            None => {
                c.remove_server_creds = true;
                c.server = Default::default();
                Ok(())
            }
            Some(s) => {
                let name = text(name, name_len)?;
                c.remove_server_creds = false;
                c.server.scheme = Some(s);
                c.server.name = (!name.is_empty()).then(|| name.to_owned());
                c.server.secret = Some(text(secret, secret_len)?.to_owned());
                Ok(())
            }
        })
    }
}

/// Sets the encoding of the device's first package: `OMADM_ENCODING_XML` (the default) or
/// `OMADM_ENCODING_WBXML`.
///
/// # Safety
/// `account` from `omadm_account_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_encoding(
    account: *mut omadm_account,
    encoding: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_account(account, |c| {
            c.encoding = Some(match encoding {
                OMADM_ENCODING_XML => Encoding::Xml,
                OMADM_ENCODING_WBXML => Encoding::Wbxml,
                _ => return Err(omadm_result::InvalidArgument),
            });
            Ok(())
        })
    }
}

/// Sets the protocol of the first package: `OMADM_PROTOCOL_1_2` (the default) or
/// `OMADM_PROTOCOL_1_1_2` (a server known to speak only DM 1.1.2).
///
/// # Safety
/// `account` from `omadm_account_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_protocol(
    account: *mut omadm_account,
    protocol: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_account(account, |c| {
            c.protocol = Some(match protocol {
                OMADM_PROTOCOL_1_2 => ProtocolVersion::V12,
                OMADM_PROTOCOL_1_1_2 => ProtocolVersion::V112,
                _ => return Err(omadm_result::InvalidArgument),
            });
            Ok(())
        })
    }
}

/// Sets the retries after a network failure (the Windows `Ext/Microsoft` settings):
/// `conn_retry_freq` retries, the first after `initial_backoff_ms`, doubling up to
/// `max_backoff_ms` (which must not be below `initial_backoff_ms`); and whether the fallback
/// to DM 1.1.2 is disabled for this server.
///
/// # Safety
/// `account` from `omadm_account_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_retry(
    account: *mut omadm_account,
    conn_retry_freq: u32,
    initial_backoff_ms: u64,
    max_backoff_ms: u64,
    back_compat_retry_disabled: bool,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_account(account, |c| {
            if max_backoff_ms < initial_backoff_ms {
                return Err(omadm_result::InvalidArgument);
            }
            c.conn_retry_freq = Some(conn_retry_freq);
            c.initial_backoff_ms = Some(initial_backoff_ms);
            c.max_backoff_ms = Some(max_backoff_ms);
            c.back_compat_retry_disabled = Some(back_compat_retry_disabled);
            Ok(())
        })
    }
}

/// Sets the account's roles (`OMADM_ROLE_*` of a server: manager, operator, operator TPS,
/// enterprise, OEM, user authenticated/unauthenticated). A new account gets them as its
/// role ceiling too (default `OMADM_ROLE_MANAGER`); an existing account's roles cannot go
/// beyond its ceiling (`OMADM_RESULT_PERMISSION_DENIED`).
///
/// # Safety
/// `account` from `omadm_account_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_roles(
    account: *mut omadm_account,
    roles: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_account(account, |c| {
            c.roles = Some(check_roles(roles).map_err(|_| omadm_result::InvalidArgument)?);
            Ok(())
        })
    }
}

/// Sets a TLS client certificate for this server: a PEM certificate chain file and its PEM
/// private key file, which must not be readable by group or others. Both are read and
/// checked now (`OMADM_RESULT_CLIENT_CERTIFICATE` when they cannot be used) and again at each
/// session, so that the host can renew them in place. It takes precedence over the agent's
/// certificate (`omadm_agent_config_set_client_certificate`).
///
/// # Safety
/// `account` from `omadm_account_new`; the views readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_client_certificate_files(
    account: *mut omadm_account,
    cert_path: *const c_char,
    cert_path_len: usize,
    key_path: *const c_char,
    key_path_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_account(account, |c| {
            let cert = required(cert_path, cert_path_len)?;
            let key = required(key_path, key_path_len)?;
            ::omadm_agent::read_client_certificate(Path::new(cert), Path::new(key)).map_err(
                |e| {
                    log::warn!("client certificate refused: {e}");
                    omadm_result::ClientCertificate
                },
            )?;
            let absolute = |p: &str| {
                std::fs::canonicalize(p)
                    .map(|a| a.display().to_string())
                    .unwrap_or_else(|_| p.to_owned())
            };
            c.client_certificate = Some((absolute(cert), absolute(key)));
            Ok(())
        })
    }
}

/// Sets whether this server may be reached over plain `http://`: `OMADM_PLAIN_HTTP_AGENT`
/// (as the agent allows, the default) or `OMADM_PLAIN_HTTP_REFUSE` (never).
///
/// # Safety
/// `account` from `omadm_account_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_account_set_plain_http(
    account: *mut omadm_account,
    policy: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_account(account, |c| {
            c.plain_http = Some(match policy {
                OMADM_PLAIN_HTTP_AGENT => None,
                OMADM_PLAIN_HTTP_REFUSE => Some(false),
                _ => return Err(omadm_result::InvalidArgument),
            });
            Ok(())
        })
    }
}

/// The result for a refusal of the account store.
fn store_refusal(e: omadm_cm::CmError) -> omadm_result {
    match e.status {
        418 => omadm_result::AlreadyRegistered,
        404 => omadm_result::UnknownId,
        _ => omadm_result::from_status(e.status),
    }
}

/// Adds a DM account, durably, as a bootstrap would: `account` must have a ServerID and a
/// URL. `OMADM_RESULT_ALREADY_REGISTERED` when another account has its ServerID (nothing is
/// written). The builder is not changed and can be freed afterwards.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `account` from `omadm_account_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_add_account(
    agent: *const omadm_agent,
    account: *const omadm_account,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            not_null(account)?;
            // SAFETY: non-NULL and live by the caller's contract; only read.
            let change = &(*account).change;
            let server_id = change
                .server_id
                .as_deref()
                .ok_or(omadm_result::InvalidArgument)?;
            if change.url.is_none() {
                return Err(omadm_result::InvalidArgument);
            }
            let (new, ceiling) = change.new_account(server_id);
            a.with_core(|core| {
                let node = core
                    .agent
                    .accounts()
                    .create(&new, ceiling)
                    .map_err(store_refusal)?;
                log::info!(
                    "account {} added as ./DMAcc/{}",
                    omadm_syncml::printable(server_id),
                    omadm_syncml::printable(&node)
                );
                Ok(())
            })
        })
    }
}

/// Changes the account whose ServerID is `server_id`: the fields set on `account` replace
/// its own (a ServerID set there renames it), durably and all or nothing.
/// `OMADM_RESULT_UNKNOWN_ID` when no account has that ServerID,
/// `OMADM_RESULT_ALREADY_REGISTERED` when the new ServerID is another account's,
/// `OMADM_RESULT_PERMISSION_DENIED` for roles beyond the account's ceiling.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(server_id, len)` readable; `account` from
/// `omadm_account_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_update_account(
    agent: *const omadm_agent,
    server_id: *const c_char,
    server_id_len: usize,
    account: *const omadm_account,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            not_null(account)?;
            let server_id = required(server_id, server_id_len)?;
            // SAFETY: non-NULL and live by the caller's contract; only read.
            let change = &(*account).change;
            a.with_core(|core| {
                core.agent
                    .accounts()
                    .update(server_id, |acc| change.apply(acc))
                    .map_err(store_refusal)?;
                Ok(())
            })
        })
    }
}

/// Removes the account whose ServerID is `server_id`, durably (`OMADM_RESULT_UNKNOWN_ID`
/// when there is none). Generic alerts still pending for it stay stored, and are delivered
/// if an account with that ServerID is added again.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(server_id, len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_remove_account(
    agent: *const omadm_agent,
    server_id: *const c_char,
    server_id_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let server_id = required(server_id, server_id_len)?;
            a.with_core(|core| {
                let store = core.agent.accounts();
                let account = store
                    .find_by_server_id(server_id)
                    .ok_or(omadm_result::UnknownId)?;
                store.delete(&account.node_name).map_err(store_refusal)
            })
        })
    }
}
