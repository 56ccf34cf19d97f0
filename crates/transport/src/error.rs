//! Transport failures, split by what the agent does about them.

use std::fmt;

/// Why a request failed.
#[derive(Debug)]
pub enum TransportError {
    /// The URL is not `http(s)://host[:port][/path]`.
    BadUrl(String),
    /// The URL is `http://` and plain HTTP is not allowed (the message says how to allow it).
    PlainHttpRefused(String),
    /// Connecting failed (DNS, refused, unreachable, connect time-out): retryable.
    Connect(String),
    /// TLS failed: handshake, certificate not trusted, host name mismatch. Not retried.
    Tls(String),
    /// Reading or writing failed or timed out after connecting: retryable.
    Io(String),
    /// The server's response is not valid HTTP/1.1 or is larger than allowed.
    Protocol(String),
}

impl TransportError {
    /// Whether a retry may succeed (network trouble, not a configuration or security error).
    pub fn is_retryable(&self) -> bool {
        matches!(self, TransportError::Connect(_) | TransportError::Io(_))
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::BadUrl(m) => write!(f, "bad URL: {m}"),
            TransportError::PlainHttpRefused(m) => f.write_str(m),
            TransportError::Connect(m) => write!(f, "cannot connect: {m}"),
            TransportError::Tls(m) => write!(f, "TLS failure: {m}"),
            TransportError::Io(m) => write!(f, "I/O failure: {m}"),
            TransportError::Protocol(m) => write!(f, "bad HTTP response: {m}"),
        }
    }
}

impl std::error::Error for TransportError {}
