//! `omadm-dpu`: the SyncML DM session engine (the DPU of the Windows Mobile design).
//!
//! Sans-I/O: a [`Session`] is given the server's message bytes and hands back the client's
//! next message and [`Event`]s; it executes commands through the Configuration Manager
//! (`omadm-cm`) and reads no clock, socket or randomness of its own (nonces come from the
//! [`Entropy`] the driver passes in).
//!
//! What it does: package 1 (Alert 1200/1201, DevInfo, pending generic alerts), MsgID and CmdID
//! numbering, Status for the SyncHdr and every command, Results for Get, client credentials
//! (basic or MD5, re-sent as challenged, a bounded number of times), verification of the
//! server's credentials (212 with a new nonce, or 401/407 with a challenge and nothing
//! executed), replies that respect the server's MaxMsgSize (written as the commands run, each
//! response measured as written; the rest follows after its Alert 1222), continuation with Alert 1222 when the server's package spans messages, abort on
//! 1223, large objects received in chunks, and detection of the session's end.
//!
//! The choices the specifications leave open are listed in `exec.rs` (Atomic, Sequence,
//! alerts, malformed commands) and `large_object.rs`.

mod config;
mod event;
mod exec;
mod large_object;
mod reply;
mod response;
mod session;
pub mod ui;

pub use config::{Credentials, SessionConfig};
pub use event::{EndReason, Event};
pub use session::{
    accepted_size, Entropy, Outgoing, Session, SessionError, Trigger, MAX_IDLE_EXCHANGES,
};

/// Where the driver keeps its pending generic alerts. Given to
/// [`Session::handle_with_alerts`], it is told of each acknowledgement (a 200 or 202 Status
/// from an authenticated server) before the session persists the effects of the message that
/// carried it, so that once that message is committed the alert is never sent again, even
/// after a crash. An error stops the session before anything of the message is executed.
pub trait AlertStore {
    /// Drops the alert `id` (the [`GenericAlert::id`]), durably, before returning.
    fn acknowledge(&mut self, id: u64) -> Result<(), String>;
}

/// A generic alert (Alert 1226, DM Protocol §2.3.7) waiting to reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericAlert {
    /// The driver's id, reported back in [`Event::GenericAlertAcknowledged`].
    pub id: u64,
    /// The Correlator of the Exec it answers, if any.
    pub correlator: Option<String>,
    /// Item Source: the node concerned.
    pub source: Option<String>,
    /// Item Target, if any.
    pub target: Option<String>,
    /// Meta Type (e.g. `org.openmobilealliance.dm.firmwareupdate.download`).
    pub type_: String,
    /// Meta Format (e.g. `int`).
    pub format: String,
    /// Meta Mark (importance), if any.
    pub mark: Option<String>,
    /// Data (e.g. the FUMO result code).
    pub data: String,
}
