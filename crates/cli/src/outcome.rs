//! How a command ends: an exit status and a one-line reason. For `omadm session` and
//! `omadm agent --once`, the status says how the session ended:
//!
//! | status | meaning |
//! |---|---|
//! | 0 | the session completed |
//! | 1 | an error before any session (a bad value, the state directory locked or unreadable) |
//! | 2 | a usage error |
//! | 3 | the server aborted the session (Alert 1223) |
//! | 4 | the server did not authenticate itself |
//! | 5 | the server refused the device's credentials |
//! | 6 | the server broke the protocol |
//! | 7 | no DM account has this ServerID |
//! | 8 | TLS failed (certificate not trusted, host name, handshake) |
//! | 9 | the network failed (unreachable, time-out), after the retries allowed |
//! | 10 | the server answered an HTTP error status |
//! | 11 | a bad URL, or plain HTTP refused |
//! | 12 | the client certificate cannot be used |
//! | 13 | the device could not store what the session needs |

use omadm_agent::{AgentEvent, SessionFailure};
use omadm_dpu::EndReason;

/// A command that did not succeed: its exit status and its one-line reason.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub code: i32,
    /// Why (printed on stderr, escaped).
    pub message: String,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure { code: 1, message }
    }
}

/// The exit status of a session's event (`Ok` when it completed).
pub fn of_session(event: &AgentEvent) -> Result<(), Failure> {
    let (code, message) = match event {
        AgentEvent::SessionEnded {
            reason: EndReason::Completed,
            ..
        } => return Ok(()),
        AgentEvent::SessionEnded {
            server_id, reason, ..
        } => (
            match reason {
                EndReason::Completed => 0,
                EndReason::AbortedByServer => 3,
                EndReason::ServerNotAuthenticated => 4,
                EndReason::CredentialsRefused => 5,
                EndReason::ProtocolError(_) => 6,
            },
            format!("the session with {server_id} ended: {reason}"),
        ),
        AgentEvent::SessionFailed { server_id, reason } => (
            match reason {
                SessionFailure::NoAccount => 7,
                SessionFailure::Tls(_) => 8,
                SessionFailure::Network(_) => 9,
                SessionFailure::HttpStatus(_) => 10,
                SessionFailure::BadUrl(_) | SessionFailure::PlainHttpRefused(_) => 11,
                SessionFailure::ClientCertificate(_) => 12,
                SessionFailure::Storage(_) => 13,
                SessionFailure::Protocol(_) => 6,
                _ => 6,
            },
            format!("the session with {server_id} failed: {reason}"),
        ),
        _ => (1, "no session ran".to_owned()),
    };
    Err(Failure { code, message })
}
