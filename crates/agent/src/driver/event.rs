//! What a [`Driver`](super::Driver) tells its host, polled with
//! [`Driver::poll_event`](super::Driver::poll_event) after each call.

use std::time::Duration;

use omadm_dpu::EndReason;

use crate::SessionFailure;

/// One thing that happened in a session the driver runs. The host acts on the first two
/// (they are how the session's credentials stay in step with the server's) and reports the
/// rest as it likes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverEvent {
    /// Store this nonce as the account's client nonce (CLCRED AAuthData): the server, having
    /// authenticated itself, gave it for the device's next credentials.
    StoreClientNonce(Vec<u8>),
    /// Store this nonce as the account's server nonce (SRVCRED AAuthData): the device issued
    /// it, and the server's HTTP 200 shows that the server received it.
    StoreServerNonce(Vec<u8>),
    /// The server acknowledged a pending generic alert; the alert store dropped it already.
    AlertAcknowledged {
        /// The alert's id.
        id: u64,
        /// The server's status (200 or 202).
        status: u16,
    },
    /// A message could not be delivered; it goes again after `wait`.
    Retrying {
        /// The message's number in the attempt.
        number: u32,
        /// Which retry comes next (from 1).
        retry: u32,
        /// How long before it.
        wait: Duration,
        /// What failed (an HTTP status or the transport's failure kind).
        cause: String,
    },
    /// The server refused the first DM 1.2 message with `status`: the session starts over as
    /// DM 1.1.2 (after the fallback interval).
    FellBack {
        /// The refusing HTTP status.
        status: u16,
    },
    /// An attempt of the session starts (the first, or a new one after the fallback):
    /// nothing of an earlier attempt carries over.
    AttemptStarted {
        /// Which attempt (from 1).
        attempt: u32,
        /// Its DM version.
        version: omadm_syncml::DmVersion,
    },
    /// A server message was executed (its effects persisted); `more` when a reply follows.
    MessageProcessed {
        /// Whether the session goes on.
        more: bool,
    },
    /// The session is over: the package exchange ended (completed or not, `reason` says).
    /// The last event of a driver, with [`DriverEvent::Failed`].
    Ended {
        /// How.
        reason: EndReason,
        /// Messages the device sent in the last attempt.
        messages: u32,
        /// Whether the session fell back to DM 1.1.2.
        fell_back: bool,
    },
    /// The session could not be carried out (after the retries its kind allows).
    Failed(SessionFailure),
}

impl DriverEvent {
    /// Whether this is the driver's last event.
    pub fn is_final(&self) -> bool {
        matches!(self, DriverEvent::Ended { .. } | DriverEvent::Failed(_))
    }
}
