//! What a session reports to its driver besides the bytes to send.

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The server closed the package exchange normally.
    Completed,
    /// The server sent Alert 1223.
    AbortedByServer,
    /// The server did not authenticate itself (wrong or missing credentials, as many times as
    /// allowed): nothing it sent was executed.
    ServerNotAuthenticated,
    /// The server refused the device's credentials as many times as allowed (or asked for
    /// credentials the account does not have).
    CredentialsRefused,
    /// The server broke the protocol; the text says how.
    ProtocolError(String),
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::Completed => f.write_str("completed"),
            EndReason::AbortedByServer => f.write_str("aborted by the server (Alert 1223)"),
            EndReason::ServerNotAuthenticated => {
                f.write_str("the server did not authenticate itself")
            }
            EndReason::CredentialsRefused => f.write_str("the server refused our credentials"),
            EndReason::ProtocolError(why) => write!(f, "protocol error: {why}"),
        }
    }
}

/// An event for the driver (the agent), polled after each call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server gave a nonce for the client's next credentials (CLCRED AAuthData).
    /// `trusted` is false while the server is not authenticated: the driver must not persist
    /// such a nonce (DM Security 1.2, nonce poisoning).
    ClientNonce {
        /// Raw octets.
        nonce: Vec<u8>,
        /// Whether the server had authenticated itself.
        trusted: bool,
    },
    /// The client challenged the server with a new nonce (SRVCRED AAuthData): persist it.
    ServerNonce {
        /// Raw octets.
        nonce: Vec<u8>,
    },
    /// The server acknowledged a generic alert; it must not be sent again.
    GenericAlertAcknowledged {
        /// The driver's id of the alert.
        id: u64,
        /// The server's status code (200 or 202).
        status: u16,
    },
    /// The session is over.
    Ended(EndReason),
}
