//! Events: what the agent tells the host it did, through the event callback.

use std::ffi::c_void;

use ::omadm_agent::AgentEvent;
use omadm_dpu::EndReason;

use crate::strings::{c_string, omadm_str};

/// A notification was authenticated and a session with `server_id` is queued.
pub const OMADM_EVENT_SESSION_QUEUED: u32 = 1;
/// A session ended (`end_reason`, `outcome`, `messages`, `fell_back`).
pub const OMADM_EVENT_SESSION_ENDED: u32 = 2;
/// A session could not be carried out (`outcome`, `http_status`, `reason`): transport failure
/// after the retries, no account for the server, ...
pub const OMADM_EVENT_SESSION_FAILED: u32 = 3;
/// A provisioning document created DM accounts (`reason` lists their node names, `,`-separated).
pub const OMADM_EVENT_BOOTSTRAPPED: u32 = 4;
/// A provisioning document waits for the user's PIN: answer with `omadm_agent_provide_pin`
/// and `pin_request_id`.
pub const OMADM_EVENT_PIN_REQUIRED: u32 = 5;

/// A FUMO package changed state (`package`, `fumo_state`), or its result was queued for
/// the server (`fumo_result` not 0).
pub const OMADM_EVENT_FIRMWARE: u32 = 6;

/// The server closed the session normally.
pub const OMADM_END_COMPLETED: u32 = 0;
/// The server aborted the session (Alert 1223).
pub const OMADM_END_ABORTED_BY_SERVER: u32 = 1;
/// The server did not authenticate itself (wrong or missing server credentials): nothing
/// it sent was executed.
pub const OMADM_END_SERVER_NOT_AUTHENTICATED: u32 = 2;
/// The server broke the protocol (`reason` says how).
pub const OMADM_END_PROTOCOL_ERROR: u32 = 3;
/// The server refused the device's credentials.
pub const OMADM_END_CREDENTIALS_REFUSED: u32 = 4;

/// One event, valid during the callback only. Fields that do not apply to `kind` are zero
/// or empty.
#[repr(C)]
pub struct omadm_event {
    /// omadm's `sizeof` of this struct (fields may be added at the end).
    pub struct_size: usize,
    /// An `OMADM_EVENT_*` value.
    pub kind: u32,
    /// The server concerned.
    pub server_id: omadm_str,
    /// The notification's session id (`OMADM_EVENT_SESSION_QUEUED`).
    pub session_id: u32,
    /// An `OMADM_END_*` value (`OMADM_EVENT_SESSION_ENDED`).
    pub end_reason: u32,
    /// Messages exchanged (`OMADM_EVENT_SESSION_ENDED`).
    pub messages: u32,
    /// Whether the session fell back to DM 1.1.2 (`OMADM_EVENT_SESSION_ENDED`).
    pub fell_back: bool,
    /// Text: why a session failed, the protocol error, or the bootstrapped accounts.
    pub reason: omadm_str,
    /// The PIN request (`OMADM_EVENT_PIN_REQUIRED`).
    pub pin_request_id: u32,
    /// The FUMO package `<x>` (`OMADM_EVENT_FIRMWARE`).
    pub package: omadm_str,
    /// The FUMO State value (`OMADM_EVENT_FIRMWARE`).
    pub fumo_state: u32,
    /// The FUMO result code once reported, else 0 (`OMADM_EVENT_FIRMWARE`).
    pub fumo_result: u32,
    /// How the session went, as the `omadm_result` a host can act on (`OMADM_EVENT_SESSION_ENDED`:
    /// `OMADM_RESULT_OK` when it completed, else `OMADM_RESULT_SESSION_ABORTED`,
    /// `..._SERVER_NOT_AUTHENTICATED`, `..._CREDENTIALS_REFUSED`, `..._PROTOCOL_ERROR`;
    /// `OMADM_EVENT_SESSION_FAILED`: `OMADM_RESULT_NO_ACCOUNT`, `..._TLS_FAILED`,
    /// `..._NETWORK`, `..._HTTP_STATUS`, `..._BAD_URL`, `..._CLIENT_CERTIFICATE`,
    /// `..._STORAGE`, `..._PROTOCOL_ERROR`).
    pub outcome: u32,
    /// The HTTP status that refused the session (`OMADM_RESULT_HTTP_STATUS`), else 0.
    pub http_status: u32,
}

/// Receives events on the agent thread.
pub type omadm_event_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, event: *const omadm_event)>;

/// A set event callback.
pub(crate) type EventSink = unsafe extern "C" fn(*mut c_void, *const omadm_event);

/// Calls `sink` with `event` (not for `Routed`, which goes to its push handler).
pub(crate) fn deliver(sink: EventSink, userdata: *mut c_void, event: &AgentEvent) {
    let mut e = omadm_event {
        struct_size: std::mem::size_of::<omadm_event>(),
        kind: 0,
        server_id: omadm_str::EMPTY,
        session_id: 0,
        end_reason: 0,
        messages: 0,
        fell_back: false,
        reason: omadm_str::EMPTY,
        pin_request_id: 0,
        package: omadm_str::EMPTY,
        fumo_state: 0,
        fumo_result: 0,
        outcome: 0,
        http_status: 0,
    };
    let mut package = String::new();
    let (server, reason) = match event {
        AgentEvent::SessionQueued {
            server_id,
            session_id,
        } => {
            e.kind = OMADM_EVENT_SESSION_QUEUED;
            e.session_id = (*session_id).into();
            (server_id.as_str(), String::new())
        }
        AgentEvent::SessionEnded {
            server_id,
            reason,
            messages,
            fell_back,
        } => {
            e.kind = OMADM_EVENT_SESSION_ENDED;
            e.messages = *messages;
            e.fell_back = *fell_back;
            let (code, text) = match reason {
                EndReason::Completed => (OMADM_END_COMPLETED, String::new()),
                EndReason::AbortedByServer => (OMADM_END_ABORTED_BY_SERVER, String::new()),
                EndReason::ServerNotAuthenticated => {
                    (OMADM_END_SERVER_NOT_AUTHENTICATED, String::new())
                }
                EndReason::CredentialsRefused => (OMADM_END_CREDENTIALS_REFUSED, String::new()),
                EndReason::ProtocolError(t) => (OMADM_END_PROTOCOL_ERROR, t.clone()),
            };
            e.end_reason = code;
            e.outcome = crate::result::omadm_result::of_end(reason) as u32;
            (server_id.as_str(), text)
        }
        AgentEvent::SessionFailed { server_id, reason } => {
            e.kind = OMADM_EVENT_SESSION_FAILED;
            let (outcome, http) = crate::result::omadm_result::of_failure(reason);
            e.outcome = outcome as u32;
            e.http_status = http.into();
            (server_id.as_str(), reason.to_string())
        }
        AgentEvent::Bootstrapped(names) => {
            e.kind = OMADM_EVENT_BOOTSTRAPPED;
            ("", names.join(","))
        }
        AgentEvent::PinRequired(id) => {
            e.kind = OMADM_EVENT_PIN_REQUIRED;
            e.pin_request_id = *id;
            ("", String::new())
        }
        AgentEvent::Firmware {
            package: p,
            state,
            result,
        } => {
            e.kind = OMADM_EVENT_FIRMWARE;
            e.fumo_state = (*state).into();
            e.fumo_result = result.map_or(0, u32::from);
            package = p.clone();
            ("", String::new())
        }
        AgentEvent::Routed(_) => return,
    };
    let package = c_string(&package);
    e.package = omadm_str::of(&package);
    let server = c_string(server);
    let reason = c_string(&reason);
    e.server_id = omadm_str::of(&server);
    e.reason = omadm_str::of(&reason);
    // SAFETY: the host registered the callback with this userdata; `e` and the strings it
    // views live for the call.
    unsafe { sink(userdata, &e) };
}
