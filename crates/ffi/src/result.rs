//! `omadm_result`: the one error convention of the C ABI, and `omadm_result_str`.
//!
//! Values are explicit and never renumbered; they are grouped by family: 0 success, 100s
//! misuse of the API, 200s the environment, 600s how a session ended or why it could not run,
//! and 3000 + status for an OMA DM status a tree command ended with (3404 is "404 Not
//! Found"). The two code spaces never mix: callbacks the host implements answer plain OMA DM
//! statuses (200, 404, ...), calls into omadm answer `omadm_result` values.

use std::ffi::c_char;

use ::omadm_agent::{AgentError, SessionFailure};
use omadm_cm::CmError;
use omadm_dpu::EndReason;

/// The result of a fallible call.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum omadm_result {
    /// Success.
    Ok = 0,
    /// A pointer that must not be NULL was NULL.
    NullParameter = 100,
    /// An argument is out of range, not valid UTF-8 where text is needed, or a struct's
    /// `struct_size` is not one omadm can read.
    InvalidArgument = 101,
    /// The caller's buffer is too small; the length needed was written.
    BufferTooSmall = 102,
    /// Called from a callback on the agent that is running it (see "Re-entrance"), or a call
    /// that would destroy what the callback runs on.
    Reentrant = 103,
    /// omadm panicked (a bug); the handle is now poisoned.
    Panic = 104,
    /// The handle panicked earlier and can only be freed.
    Poisoned = 105,
    /// The agent's input queue is full, or its lock was not free within the lock time-out
    /// (`omadm_agent_set_lock_timeout_ms`); try again later.
    Busy = 106,
    /// No such id (CSP prefix, push handler, UI request, PIN request, account).
    UnknownId = 107,
    /// Something is already registered there (a CSP prefix, a push handler's route, an
    /// account's ServerID).
    AlreadyRegistered = 108,
    /// The process already has a Rust logger that is not omadm's; logs cannot be routed.
    LoggerUnavailable = 109,
    /// A call out of its order (since 1.1): a host-transport session was given a response
    /// or failure with no request outstanding, or asked for its next step while a request
    /// awaits its response.
    OutOfOrder = 110,
    /// A file or directory could not be read or written.
    Io = 200,
    /// The state directory holds something omadm cannot load (corrupt or foreign).
    StateUnreadable = 201,
    /// The TLS configuration was refused (a trust anchor or client certificate that is not
    /// PEM, a key that does not match).
    Tls = 202,
    /// Another agent (in this process or another) holds the state directory.
    StateLocked = 203,
    /// The session ended: the server aborted it (Alert 1223).
    SessionAborted = 600,
    /// The session ended: the server did not authenticate itself (wrong or missing server
    /// credentials); nothing it sent was executed.
    ServerNotAuthenticated = 601,
    /// The session ended: the server refused the device's credentials.
    CredentialsRefused = 602,
    /// The session ended: the server broke the protocol (an answer that is not HTTP or not
    /// SyncML, a message larger than announced, a message of another session).
    ProtocolError = 603,
    /// No session: no DM account has that ServerID.
    NoAccount = 604,
    /// No session: TLS failed (the server's certificate is not trusted, the host name does
    /// not match, the handshake or a client certificate was refused).
    TlsFailed = 605,
    /// No session: the server could not be reached, or stopped answering (after the retries
    /// the account allows).
    Network = 606,
    /// No session: the server answered an HTTP error status (in the event's `http_status`).
    HttpStatus = 607,
    /// No session: the server's URL is not usable, or is plain HTTP and plain HTTP is not
    /// allowed.
    BadUrl = 608,
    /// No session: the client certificate cannot be used (unreadable, or a key others can
    /// read).
    ClientCertificate = 609,
    /// No session: the device could not store what the session needs to keep.
    Storage = 610,
    /// Bad request (400).
    BadRequest = 3400,
    /// Forbidden (403).
    Forbidden = 3403,
    /// Node not found (404).
    NotFound = 3404,
    /// Command not allowed (405), also: a secret was read.
    NotAllowed = 3405,
    /// Optional feature not supported (406).
    NotSupported = 3406,
    /// Unsupported media type or format (415).
    UnsupportedFormat = 3415,
    /// Already exists (418).
    AlreadyExists = 3418,
    /// Device full (420).
    DeviceFull = 3420,
    /// Permission denied (425).
    PermissionDenied = 3425,
    /// Command failed (500), and every other failure status.
    CommandFailed = 3500,
    /// Atomic roll back failed (516).
    AtomicRollbackFailed = 3516,
}

impl omadm_result {
    /// The result for an OMA DM failure status.
    pub(crate) fn from_status(status: u16) -> omadm_result {
        match status {
            400 => omadm_result::BadRequest,
            403 => omadm_result::Forbidden,
            404 => omadm_result::NotFound,
            405 => omadm_result::NotAllowed,
            406 => omadm_result::NotSupported,
            415 => omadm_result::UnsupportedFormat,
            418 => omadm_result::AlreadyExists,
            420 => omadm_result::DeviceFull,
            425 => omadm_result::PermissionDenied,
            516 => omadm_result::AtomicRollbackFailed,
            _ => omadm_result::CommandFailed,
        }
    }

    /// How a session ended (`Ok` when it completed).
    pub(crate) fn of_end(reason: &EndReason) -> omadm_result {
        match reason {
            EndReason::Completed => omadm_result::Ok,
            EndReason::AbortedByServer => omadm_result::SessionAborted,
            EndReason::ServerNotAuthenticated => omadm_result::ServerNotAuthenticated,
            EndReason::CredentialsRefused => omadm_result::CredentialsRefused,
            EndReason::ProtocolError(_) => omadm_result::ProtocolError,
        }
    }

    /// Why a session could not run, and the HTTP status when that is the reason.
    pub(crate) fn of_failure(f: &SessionFailure) -> (omadm_result, u16) {
        let code = match f {
            SessionFailure::NoAccount => omadm_result::NoAccount,
            SessionFailure::Tls(_) => omadm_result::TlsFailed,
            SessionFailure::Network(_) => omadm_result::Network,
            SessionFailure::HttpStatus(s) => return (omadm_result::HttpStatus, *s),
            SessionFailure::BadUrl(_) | SessionFailure::PlainHttpRefused(_) => omadm_result::BadUrl,
            SessionFailure::ClientCertificate(_) => omadm_result::ClientCertificate,
            SessionFailure::Storage(_) => omadm_result::Storage,
            SessionFailure::Protocol(_) => omadm_result::ProtocolError,
            _ => omadm_result::ProtocolError,
        };
        (code, 0)
    }

    fn text(self) -> &'static str {
        match self {
            omadm_result::Ok => "success\0",
            omadm_result::NullParameter => "a required pointer was NULL\0",
            omadm_result::InvalidArgument => {
                "an argument is out of range, not valid UTF-8, or a struct_size omadm cannot read\0"
            }
            omadm_result::BufferTooSmall => "the buffer is too small\0",
            omadm_result::Reentrant => {
                "called from a callback of the same agent (not allowed there)\0"
            }
            omadm_result::Panic => "internal error (panic); the handle is poisoned\0",
            omadm_result::Poisoned => "the handle is poisoned by an earlier panic\0",
            omadm_result::Busy => {
                "the agent is busy (input queue full, or its lock not free in time)\0"
            }
            omadm_result::UnknownId => "no such id\0",
            omadm_result::AlreadyRegistered => "already registered\0",
            omadm_result::LoggerUnavailable => "another Rust logger owns this process\0",
            omadm_result::OutOfOrder => {
                "a call out of its order (no request outstanding, or one awaiting its response)\0"
            }
            omadm_result::Io => "I/O error\0",
            omadm_result::StateUnreadable => "the state directory cannot be loaded\0",
            omadm_result::Tls => "TLS configuration refused\0",
            omadm_result::StateLocked => "another agent holds the state directory\0",
            omadm_result::SessionAborted => "the server aborted the session\0",
            omadm_result::ServerNotAuthenticated => "the server did not authenticate itself\0",
            omadm_result::CredentialsRefused => "the server refused the device's credentials\0",
            omadm_result::ProtocolError => "the server broke the protocol\0",
            omadm_result::NoAccount => "no DM account has this ServerID\0",
            omadm_result::TlsFailed => {
                "TLS failed (certificate not trusted, host name, handshake)\0"
            }
            omadm_result::Network => "the server could not be reached or stopped answering\0",
            omadm_result::HttpStatus => "the server answered an HTTP error status\0",
            omadm_result::BadUrl => "the server URL is not usable (or plain HTTP is not allowed)\0",
            omadm_result::ClientCertificate => "the client certificate cannot be used\0",
            omadm_result::Storage => "the device could not store the session's changes\0",
            omadm_result::BadRequest => "400 bad request\0",
            omadm_result::Forbidden => "403 forbidden\0",
            omadm_result::NotFound => "404 node not found\0",
            omadm_result::NotAllowed => "405 command not allowed\0",
            omadm_result::NotSupported => "406 optional feature not supported\0",
            omadm_result::UnsupportedFormat => "415 unsupported format or type\0",
            omadm_result::AlreadyExists => "418 already exists\0",
            omadm_result::DeviceFull => "420 device full\0",
            omadm_result::PermissionDenied => "425 permission denied\0",
            omadm_result::CommandFailed => "500 command failed\0",
            omadm_result::AtomicRollbackFailed => "516 atomic roll back failed\0",
        }
    }
}

impl From<CmError> for omadm_result {
    fn from(e: CmError) -> Self {
        omadm_result::from_status(e.status)
    }
}

impl From<&AgentError> for omadm_result {
    fn from(e: &AgentError) -> Self {
        match e {
            AgentError::StateLocked { .. } => omadm_result::StateLocked,
            AgentError::Io { .. } | AgentError::Random(_) => omadm_result::Io,
            AgentError::Corrupt { .. } => omadm_result::StateUnreadable,
            AgentError::Tree(c) => omadm_result::from_status(c.status),
            AgentError::Transport(_) => omadm_result::Tls,
            _ => omadm_result::Io,
        }
    }
}

/// Describes `result`: a static NUL-terminated English string (never NULL; unknown values
/// get "unknown result").
#[no_mangle]
pub extern "C" fn omadm_result_str(result: u32) -> *const c_char {
    let text = ALL
        .iter()
        .find(|r| **r as u32 == result)
        .map(|r| r.text())
        .unwrap_or("unknown result\0");
    text.as_ptr().cast()
}

const ALL: [omadm_result; 38] = [
    omadm_result::Ok,
    omadm_result::NullParameter,
    omadm_result::InvalidArgument,
    omadm_result::BufferTooSmall,
    omadm_result::Reentrant,
    omadm_result::Panic,
    omadm_result::Poisoned,
    omadm_result::Busy,
    omadm_result::UnknownId,
    omadm_result::AlreadyRegistered,
    omadm_result::LoggerUnavailable,
    omadm_result::OutOfOrder,
    omadm_result::Io,
    omadm_result::StateUnreadable,
    omadm_result::Tls,
    omadm_result::StateLocked,
    omadm_result::SessionAborted,
    omadm_result::ServerNotAuthenticated,
    omadm_result::CredentialsRefused,
    omadm_result::ProtocolError,
    omadm_result::NoAccount,
    omadm_result::TlsFailed,
    omadm_result::Network,
    omadm_result::HttpStatus,
    omadm_result::BadUrl,
    omadm_result::ClientCertificate,
    omadm_result::Storage,
    omadm_result::BadRequest,
    omadm_result::Forbidden,
    omadm_result::NotFound,
    omadm_result::NotAllowed,
    omadm_result::NotSupported,
    omadm_result::UnsupportedFormat,
    omadm_result::AlreadyExists,
    omadm_result::DeviceFull,
    omadm_result::PermissionDenied,
    omadm_result::CommandFailed,
    omadm_result::AtomicRollbackFailed,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn text(code: u32) -> String {
        // SAFETY: omadm_result_str always returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(omadm_result_str(code)) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn every_result_has_its_own_text_and_unknown_codes_are_named() {
        let mut seen = std::collections::HashSet::new();
        for r in ALL {
            assert!(seen.insert(text(r as u32)), "{r:?}");
        }
        assert_eq!(text(77), "unknown result");
    }

    #[test]
    fn dm_statuses_map_to_their_family() {
        assert_eq!(omadm_result::from_status(404) as u32, 3404);
        assert_eq!(omadm_result::from_status(516) as u32, 3516);
        assert_eq!(omadm_result::from_status(503), omadm_result::CommandFailed);
    }

    /// The values are the ABI: they never change.
    #[test]
    fn values_are_never_renumbered() {
        let pinned = [
            (omadm_result::OutOfOrder, 110),
            (omadm_result::StateLocked, 203),
            (omadm_result::SessionAborted, 600),
            (omadm_result::ServerNotAuthenticated, 601),
            (omadm_result::CredentialsRefused, 602),
            (omadm_result::ProtocolError, 603),
            (omadm_result::NoAccount, 604),
            (omadm_result::TlsFailed, 605),
            (omadm_result::Network, 606),
            (omadm_result::HttpStatus, 607),
            (omadm_result::BadUrl, 608),
            (omadm_result::ClientCertificate, 609),
            (omadm_result::Storage, 610),
        ];
        for (r, v) in pinned {
            assert_eq!(r as u32, v, "{r:?}");
        }
    }
}
