//! `omadm_agent_config`: what an agent is opened with (state directory, device, limits,
//! trust anchors, push policies, fallback, and the log, event and UI callbacks). Built with
//! setters, then given to `omadm_agent_open`, which copies what it needs.

use std::ffi::c_void;
use std::path::PathBuf;
use std::time::Duration;

use ::omadm_agent::FallbackPolicy;
use omadm_csp::{DeviceDetail, DeviceInfo};
use omadm_push::router::RouterConfig;
use omadm_transport::ClientConfig;

use std::sync::Arc;

use omadm_cm::roles::RoleMap;
use omadm_cm::AccessModel;

use crate::boundary::{guard, not_null};
use crate::event::omadm_event_callback;
use crate::growable::{self, Growable};
use crate::log_sink::{level_filter, omadm_log_callback, LogRegistration, LogSink};
use crate::result::omadm_result;
use crate::strings::{bytes, omadm_str, text, view};
use crate::ui::omadm_ui_callback;
use crate::userdata::{omadm_finalizer, ForeignData};

/// The device's identity and versions (DevInfo and DevDetail). Every field is UTF-8 text;
/// an empty view keeps the default (`dev_id` has none and must be given). Initialise with
/// `OMADM_DEVICE_INFO_INIT` (it sets `struct_size`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct omadm_device_info {
    /// `sizeof(omadm_device_info)` as the host compiled it (see "Structs that grow").
    pub struct_size: usize,
    /// DevId, URN syntax (`IMEI:493005100592800`). Required.
    pub dev_id: omadm_str,
    /// Man: manufacturer.
    pub manufacturer: omadm_str,
    /// Mod: model.
    pub model: omadm_str,
    /// Lang: language tag (default `en-US`).
    pub language: omadm_str,
    /// DevTyp (default `smartphone`).
    pub device_type: omadm_str,
    /// OEM.
    pub oem: omadm_str,
    /// FwV: firmware version.
    pub firmware_version: omadm_str,
    /// SwV: software version.
    pub software_version: omadm_str,
    /// HwV: hardware version.
    pub hardware_version: omadm_str,
}

// SAFETY: repr(C), starts with struct_size, and all-zero views are empty.
unsafe impl Growable for omadm_device_info {
    const MIN_SIZE: usize = std::mem::offset_of!(omadm_device_info, manufacturer);
}

/// The OMA DM ACL model (TND §7.7): each node's ACL property, inherited from its nearest
/// ancestor that has one; the device itself is not restricted. The default.
pub const OMADM_ACCESS_ACL: u32 = 1;
/// The Windows role model: each node's role mask (AccessRole, or a rule set with
/// `omadm_agent_config_add_role_rule`, or the mask a CSP was registered with), checked against
/// the server's roles (its account's Role) and the device's own calls' roles.
pub const OMADM_ACCESS_ROLES: u32 = 2;

/// Agent settings under construction. Create with `omadm_agent_config_new`, free with
/// `omadm_agent_config_free`.
pub struct omadm_agent_config {
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) device: DeviceInfo,
    pub(crate) detail: DeviceDetail,
    pub(crate) router: RouterConfig,
    pub(crate) transport: ClientConfig,
    pub(crate) max_msg_size: u64,
    pub(crate) fallback: FallbackPolicy,
    pub(crate) ui_timeout: Duration,
    pub(crate) log: Option<LogRegistration>,
    pub(crate) events: Option<(crate::event::EventSink, Arc<ForeignData>)>,
    pub(crate) ui: Option<(crate::ui::UiSink, Arc<ForeignData>)>,
    pub(crate) firmware: Option<Arc<crate::firmware::FirmwareHost>>,
    pub(crate) fumo_root: String,
    pub(crate) tree: omadm_cm::Config,
    pub(crate) host_transport: bool,
}

/// Default MaxMsgSize an agent announces.
pub const OMADM_DEFAULT_MAX_MSG_SIZE: u64 = 64 * 1024;
/// Default wait for an answer to a user-interaction alert without MAXDT, in milliseconds.
pub const OMADM_DEFAULT_UI_TIMEOUT_MS: u32 = 300_000;

impl Default for omadm_agent_config {
    fn default() -> Self {
        omadm_agent_config {
            state_dir: None,
            device: DeviceInfo {
                dev_id: String::new(),
                man: String::new(),
                model: String::new(),
                dm_v: concat!("omadm ", env!("CARGO_PKG_VERSION")).into(),
                lang: "en-US".into(),
                ext: vec![],
            },
            detail: DeviceDetail {
                dev_typ: "smartphone".into(),
                oem: String::new(),
                fw_v: String::new(),
                sw_v: String::new(),
                hw_v: String::new(),
            },
            router: RouterConfig::default(),
            transport: ClientConfig::default(),
            max_msg_size: OMADM_DEFAULT_MAX_MSG_SIZE,
            fallback: FallbackPolicy::default(),
            ui_timeout: Duration::from_millis(OMADM_DEFAULT_UI_TIMEOUT_MS.into()),
            log: None,
            events: None,
            ui: None,
            firmware: None,
            fumo_root: omadm_csp::fumo::DEFAULT_FUMO_ROOT.to_owned(),
            tree: omadm_cm::Config::default(),
            host_transport: false,
        }
    }
}

/// Runs `f` on the config behind `config`.
///
/// # Safety
/// A non-NULL `config` must come from `omadm_agent_config_new` and not be freed or used by
/// another thread during the call.
unsafe fn with_config(
    config: *mut omadm_agent_config,
    f: impl FnOnce(&mut omadm_agent_config) -> Result<(), omadm_result>,
) -> omadm_result {
    guard(|| {
        not_null(config)?;
        // SAFETY: non-NULL, live and not shared, by the caller's contract.
        f(unsafe { &mut *config })
    })
}

/// A new configuration with the defaults: no state directory (required), the system trust
/// store on, MaxMsgSize `OMADM_DEFAULT_MAX_MSG_SIZE`, one DM 1.1.2 fallback attempt, no
/// callbacks. Free with `omadm_agent_config_free`. NULL only when out of memory.
#[no_mangle]
pub extern "C" fn omadm_agent_config_new() -> *mut omadm_agent_config {
    std::panic::catch_unwind(|| Box::into_raw(Box::default())).unwrap_or(std::ptr::null_mut())
}

/// Frees a configuration; NULL is allowed. Agents opened with it are not affected; the
/// finalizers of callbacks it holds run now unless an agent still uses them.
///
/// # Safety
/// `config` is NULL or from `omadm_agent_config_new`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_free(config: *mut omadm_agent_config) {
    if config.is_null() {
        return;
    }
    // A panic (in a finalizer's bookkeeping, say) never crosses into C.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: from Box::into_raw in omadm_agent_config_new, freed once.
        drop(unsafe { Box::from_raw(config) });
    }));
}

/// Sets the directory the agent keeps its durable state in (tree, DM accounts, pending
/// generic alerts; created when missing). Required. UTF-8 path bytes.
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `(path, path_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_state_dir(
    config: *mut omadm_agent_config,
    path: *const std::ffi::c_char,
    path_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let p = text(path, path_len)?;
            if p.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            c.state_dir = Some(PathBuf::from(p));
            Ok(())
        })
    }
}

/// Sets the device's identity; `dev_id` must not be empty.
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `info` (its first `struct_size` bytes) and every
/// view in it readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_device(
    config: *mut omadm_agent_config,
    info: *const omadm_device_info,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let i = &growable::read(info)?;
            let dev_id = view(i.dev_id)?;
            if dev_id.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            let set = |field: &mut String, v: omadm_str| -> Result<(), omadm_result> {
                let s = view(v)?;
                if !s.is_empty() {
                    *field = s.to_owned();
                }
                Ok(())
            };
            let mut d = c.device.clone();
            let mut t = c.detail.clone();
            d.dev_id = dev_id.to_owned();
            set(&mut d.man, i.manufacturer)?;
            set(&mut d.model, i.model)?;
            set(&mut d.lang, i.language)?;
            set(&mut t.dev_typ, i.device_type)?;
            set(&mut t.oem, i.oem)?;
            set(&mut t.fw_v, i.firmware_version)?;
            set(&mut t.sw_v, i.software_version)?;
            set(&mut t.hw_v, i.hardware_version)?;
            c.device = d;
            c.detail = t;
            Ok(())
        })
    }
}

/// Makes the host run every queued session over its own transport (since 1.1): sessions a
/// notification starts, or `omadm_agent_request_session` and `omadm_agent_add_generic_alert`
/// queue, stay queued (`OMADM_EVENT_SESSION_QUEUED` tells of a notification's) until the host
/// takes them with `omadm_session_open_queued`; `omadm_agent_process` and `omadm_agent_run`
/// then only handle input and FUMO work. Firmware downloads and `omadm_agent_run_session`
/// still use omadm's HTTPS client. Default: off (omadm runs queued sessions itself).
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_host_transport(
    config: *mut omadm_agent_config,
    on: bool,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            c.host_transport = on;
            Ok(())
        })
    }
}

/// Sets the MaxMsgSize the agent announces (at least 1024 bytes).
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_max_msg_size(
    config: *mut omadm_agent_config,
    bytes: u64,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            if bytes < 1024 {
                return Err(omadm_result::InvalidArgument);
            }
            c.max_msg_size = bytes;
            Ok(())
        })
    }
}

/// Adds a trusted CA or server certificate (PEM, one or more certificates).
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `(pem, pem_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_add_trust_anchor_pem(
    config: *mut omadm_agent_config,
    pem: *const u8,
    pem_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let pem = bytes(pem, pem_len)?;
            if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                return Err(omadm_result::Tls);
            }
            c.transport.trust_anchors.push(pem.to_vec());
            Ok(())
        })
    }
}

/// Whether the system's certificate store is trusted too (default true).
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_system_trust_store(
    config: *mut omadm_agent_config,
    enabled: bool,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            c.transport.system_store = enabled;
            Ok(())
        })
    }
}

/// Adds the address of a known push proxy gateway: an SMS originator number or the IP
/// address UDP push comes from. `trusted` also makes it a trusted PPG (more roles).
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `(address, address_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_add_ppg(
    config: *mut omadm_agent_config,
    address: *const std::ffi::c_char,
    address_len: usize,
    trusted: bool,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let a = text(address, address_len)?;
            if a.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            c.router.known_ppgs.push(a.to_owned());
            if trusted {
                c.router.trusted_ppgs.push(a.to_owned());
            }
            Ok(())
        })
    }
}

/// Sets one of the Windows Mobile security policies the push router applies, by its
/// policy number: 4113 (WSP push on/off: 0 or 1), 4111 (roles accepted for OTA
/// provisioning), 4104 (TPS role allowed: 0 or 1), 4141, 4142, 4143 (roles for NETWPIN,
/// USERPIN and USERNETWPIN signed provisioning). Other numbers: `OMADM_RESULT_UNKNOWN_ID`.
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_policy(
    config: *mut omadm_agent_config,
    policy: u32,
    value: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            let p = &mut c.router.policies;
            let flag = || match value {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(omadm_result::InvalidArgument),
            };
            match policy {
                4113 => p.wsp_push = flag()?,
                4111 => p.ota_provisioning = value,
                4104 => p.tps = flag()?,
                4141 => p.cp_netwpin = value,
                4142 => p.cp_userpin = value,
                4143 => p.cp_usernetwpin = value,
                _ => return Err(omadm_result::UnknownId),
            }
            Ok(())
        })
    }
}

/// Sets the SIM's IMSI (the NETWPIN key of Client Provisioning).
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `(imsi, imsi_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_imsi(
    config: *mut omadm_agent_config,
    imsi: *const std::ffi::c_char,
    imsi_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let s = text(imsi, imsi_len)?;
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(omadm_result::InvalidArgument);
            }
            c.router.imsi = Some(s.to_owned());
            Ok(())
        })
    }
}

/// Sets the DM 1.1.2 fallback: attempts after a server refused DM 1.2 (0 turns it off), and
/// the wait before each in milliseconds.
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_fallback(
    config: *mut omadm_agent_config,
    attempts: u32,
    interval_ms: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            c.fallback = FallbackPolicy {
                attempts,
                interval: Duration::from_millis(interval_ms.into()),
            };
            Ok(())
        })
    }
}

/// Sets how long a session waits for the answer to a user-interaction alert that has no
/// MAXDT (default `OMADM_DEFAULT_UI_TIMEOUT_MS`); then it reports a time-out (408).
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_ui_timeout_ms(
    config: *mut omadm_agent_config,
    timeout_ms: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            c.ui_timeout = Duration::from_millis(timeout_ms.into());
            Ok(())
        })
    }
}

/// Routes the agent's log records at `max_level` (an `OMADM_LOG_*` value) and above to
/// `callback`; NULL removes the callback (no logs). The first callback in a process installs
/// omadm's logger for the Rust `log` crate; if the process already has another one,
/// `OMADM_RESULT_LOGGER_UNAVAILABLE`. The callback runs on whichever thread called the agent;
/// `finalizer` (may be NULL) frees `userdata` once the configuration and every agent opened
/// with it have dropped the callback. `omadm_agent_set_log_callback` changes it on an open
/// agent.
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_log_callback(
    config: *mut omadm_agent_config,
    callback: omadm_log_callback,
    userdata: *mut c_void,
    finalizer: omadm_finalizer,
    max_level: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            c.log = log_registration(callback, userdata, finalizer, max_level)?;
            Ok(())
        })
    }
}

/// A log registration for `callback` (None for NULL); on an error the host keeps `userdata`.
pub(crate) fn log_registration(
    callback: omadm_log_callback,
    userdata: *mut c_void,
    finalizer: omadm_finalizer,
    max_level: u32,
) -> Result<Option<LogRegistration>, omadm_result> {
    let owner = ForeignData::new(userdata, finalizer);
    let Some(callback) = callback else {
        // Removing: the host keeps no callback, so omadm keeps no userdata either.
        drop(owner);
        return Ok(None);
    };
    let Some(max) = level_filter(max_level) else {
        owner.forget();
        return Err(omadm_result::InvalidArgument);
    };
    if !crate::log_sink::install() {
        owner.forget();
        return Err(omadm_result::LoggerUnavailable);
    }
    Ok(Some(LogRegistration {
        sink: LogSink {
            callback,
            userdata,
            max,
        },
        owner: Arc::new(owner),
    }))
}

/// Sets the callback told what the agent did (sessions queued, started and ended, accounts
/// bootstrapped, PINs needed); NULL removes it. It runs on the agent thread; `finalizer` (may
/// be NULL) frees `userdata` once the configuration and every agent opened with it are freed.
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_event_callback(
    config: *mut omadm_agent_config,
    callback: omadm_event_callback,
    userdata: *mut c_void,
    finalizer: omadm_finalizer,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            let owner = Arc::new(ForeignData::new(userdata, finalizer));
            c.events = callback.map(|cb| (cb, owner));
            Ok(())
        })
    }
}

/// Sets the callback that shows the servers' user-interaction alerts (display, confirm,
/// text input, single and multiple choice). It runs on the agent thread; it answers with
/// `omadm_agent_ui_answer`, before returning or later from any thread, while the session
/// waits (up to MAXDT, else the UI time-out). Without it such alerts are answered as by a
/// device that cannot show them (406). NULL removes it; `finalizer` (may be NULL) frees
/// `userdata` once the configuration and every agent opened with it are freed.
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_ui_callback(
    config: *mut omadm_agent_config,
    callback: omadm_ui_callback,
    userdata: *mut c_void,
    finalizer: omadm_finalizer,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            let owner = Arc::new(ForeignData::new(userdata, finalizer));
            c.ui = callback.map(|cb| (cb, owner));
            Ok(())
        })
    }
}

/// Enables firmware updates (FUMO, mounted at `./FwUpdate` unless
/// `omadm_agent_config_set_fumo_root` says otherwise) with the platform's installer
/// (initialise `callbacks` with `OMADM_FIRMWARE_CALLBACKS_INIT`). The configuration and every
/// agent opened with it share `userdata`; `finalizer` (may be NULL) runs once, when the last
/// of them is freed (on an error it does not run: the host keeps `userdata`). Setting it again
/// replaces the callbacks for agents opened afterwards.
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `callbacks` (its first `struct_size` bytes)
/// readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_firmware(
    config: *mut omadm_agent_config,
    callbacks: *const crate::firmware::omadm_firmware_callbacks,
    userdata: *mut c_void,
    finalizer: omadm_finalizer,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let cb = growable::read(callbacks)?;
            if cb.install.is_none() {
                return Err(omadm_result::NullParameter);
            }
            c.firmware = Some(Arc::new(crate::firmware::FirmwareHost {
                callbacks: cb,
                owner: ForeignData::new(userdata, finalizer),
            }));
            Ok(())
        })
    }
}

/// Sets where FUMO is mounted (default `./FwUpdate`).
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `(root, root_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_fumo_root(
    config: *mut omadm_agent_config,
    root: *const std::ffi::c_char,
    root_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let r = text(root, root_len)?.trim_end_matches('/');
            if !r.starts_with("./") || r.len() < 3 {
                return Err(omadm_result::InvalidArgument);
            }
            c.fumo_root = r.to_owned();
            Ok(())
        })
    }
}

/// Sets a TLS client certificate (a PEM certificate chain, and its PEM private key) the agent
/// presents to servers that authenticate devices that way. An account's own certificate
/// (`omadm_account_set_client_certificate_files`) takes precedence for its server.
/// `OMADM_RESULT_TLS` when either is not PEM or they do not match.
///
/// # Safety
/// `config` from `omadm_agent_config_new`; the views readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_client_certificate(
    config: *mut omadm_agent_config,
    cert_pem: *const u8,
    cert_pem_len: usize,
    key_pem: *const u8,
    key_pem_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let cert = bytes(cert_pem, cert_pem_len)?;
            let key = bytes(key_pem, key_pem_len)?;
            omadm_transport::tls::check_client_certificate(cert, key).map_err(|e| {
                log::warn!("client certificate refused: {e}");
                omadm_result::Tls
            })?;
            c.transport.client_cert = Some((cert.to_vec(), key.to_vec()));
            Ok(())
        })
    }
}

/// Allows plain `http://` server URLs (default: refused, and sessions to them fail with
/// `OMADM_RESULT_BAD_URL`). An account may still refuse plain HTTP for its server.
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_allow_plain_http(
    config: *mut omadm_agent_config,
    allowed: bool,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            c.transport.allow_plain_http = allowed;
            Ok(())
        })
    }
}

/// Chooses the access model: `OMADM_ACCESS_ACL` (default) or `OMADM_ACCESS_ROLES`.
///
/// # Safety
/// `config` from `omadm_agent_config_new`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_access_model(
    config: *mut omadm_agent_config,
    model: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_config(config, |c| {
            c.tree.access = match (model, &c.tree.access) {
                (OMADM_ACCESS_ACL, _) => AccessModel::OmaAcl,
                (OMADM_ACCESS_ROLES, AccessModel::Roles(map)) => AccessModel::Roles(map.clone()),
                (OMADM_ACCESS_ROLES, _) => AccessModel::Roles(RoleMap::default()),
                _ => return Err(omadm_result::InvalidArgument),
            };
            Ok(())
        })
    }
}

/// Sets the root's ACL for a new tree (default `Add=*&Get=*`: any server may read and add,
/// nothing more, unless a node's own ACL says so). A tree already in the state directory keeps
/// its root ACL (change it with `omadm_agent_tree_set_acl`). `OMADM_RESULT_INVALID_ARGUMENT`
/// for text that is not an ACL.
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `(acl, acl_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_set_root_acl(
    config: *mut omadm_agent_config,
    acl: *const std::ffi::c_char,
    acl_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let a = text(acl, acl_len)?;
            omadm_cm::Acl::parse(a).map_err(|_| omadm_result::InvalidArgument)?;
            if a.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            c.tree.root_acl = a.to_owned();
            Ok(())
        })
    }
}

/// Under the role model, assigns the role mask `roles` to every node matching `pattern` (a
/// URI below the root in which a segment that is a lone asterisk matches any one name), also
/// before such a node exists (an Add is checked at the new node). Selects the role model.
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `(pattern, pattern_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_config_add_role_rule(
    config: *mut omadm_agent_config,
    pattern: *const std::ffi::c_char,
    pattern_len: usize,
    roles: u32,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_config(config, |c| {
            let p = text(pattern, pattern_len)?;
            let rest = p.strip_prefix("./").unwrap_or(p);
            let segments: Vec<&str> = rest.split('/').collect();
            if rest.is_empty() || segments.iter().any(|s| s.is_empty()) {
                return Err(omadm_result::InvalidArgument);
            }
            let mut map = match &c.tree.access {
                AccessModel::Roles(m) => m.clone(),
                AccessModel::OmaAcl => RoleMap::default(),
            };
            map.assign(&segments, roles);
            c.tree.access = AccessModel::Roles(map);
            Ok(())
        })
    }
}
