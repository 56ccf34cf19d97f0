//! What the driver asks the host's transport to do, and what the transport reports back: one
//! HTTP POST per request, its response, or the kind of failure that prevented one.

use omadm_transport::TransportError;

/// The next HTTP request to make: POST `body` to `url` with these headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpRequest<'a> {
    /// Where to post: the server's RespURI once it gave one, else the account's address.
    pub url: &'a str,
    /// The `Content-Type` header (`application/vnd.syncml.dm+xml` or `+wbxml`).
    pub content_type: &'static str,
    /// The message.
    pub body: &'a [u8],
    /// The `x-syncml-hmac` header value, when the device authenticates with HMAC.
    pub hmac: Option<&'a str>,
    /// The message's number in this session attempt (from 1).
    pub number: u32,
    /// 0 for the first try of this message, then 1, 2, ... for its retries.
    pub retry: u32,
    /// What the connection must be; see [`ConnectionRules`].
    pub rules: &'a ConnectionRules,
}

/// The connection properties that matter to the protocol: the host's transport must keep to
/// them, or report [`FailureKind::PlainHttpRefused`] / [`FailureKind::Tls`] instead of
/// sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRules {
    /// TLS is required (an `http://` URL must not be used) unless this is true: the agent
    /// allows plain HTTP and the account does not refuse it.
    pub plain_http_allowed: bool,
    /// The largest response body the session accepts (the MaxMsgSize the device announces,
    /// plus slack): a longer one should be refused while it is read
    /// ([`FailureKind::Protocol`]); one handed over anyway ends the session.
    pub max_response_bytes: usize,
    /// The account's client certificate and key (PEM file paths), to present in the TLS
    /// handshake, when it has one.
    pub client_certificate: Option<(String, String)>,
}

/// A response the transport received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpResponse<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The `x-syncml-hmac` header, if any.
    pub hmac: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// Why the transport has no response for a request. The kind decides what the driver does:
/// [`FailureKind::Connect`], [`FailureKind::Timeout`] and [`FailureKind::Io`] are retried
/// with backoff; the others end the attempt at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server could not be reached (DNS, refused, unreachable, connect time-out).
    Connect,
    /// No complete response within the transport's time-out.
    Timeout,
    /// The connection broke while sending or reading (a response cut short).
    Io,
    /// TLS failed: handshake, untrusted certificate, host name mismatch.
    Tls,
    /// The URL cannot be used by this transport.
    BadUrl,
    /// The URL is `http://` and [`ConnectionRules::plain_http_allowed`] is false.
    PlainHttpRefused,
    /// The response is not HTTP, or is larger than [`ConnectionRules::max_response_bytes`].
    Protocol,
}

impl FailureKind {
    /// Whether a retry may succeed (network trouble, not configuration or security).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            FailureKind::Connect | FailureKind::Timeout | FailureKind::Io
        )
    }
}

impl FailureKind {
    /// How a session that ends on this failure reports it, with the transport's words.
    pub fn failure(self, detail: String) -> crate::SessionFailure {
        use crate::SessionFailure;
        match self {
            FailureKind::Connect | FailureKind::Timeout | FailureKind::Io => {
                SessionFailure::Network(detail)
            }
            FailureKind::Tls => SessionFailure::Tls(detail),
            FailureKind::BadUrl => SessionFailure::BadUrl(detail),
            FailureKind::PlainHttpRefused => SessionFailure::PlainHttpRefused(detail),
            FailureKind::Protocol => SessionFailure::Protocol(detail),
        }
    }
}

impl From<&TransportError> for FailureKind {
    fn from(e: &TransportError) -> Self {
        match e {
            TransportError::BadUrl(_) => FailureKind::BadUrl,
            TransportError::PlainHttpRefused(_) => FailureKind::PlainHttpRefused,
            TransportError::Connect(_) => FailureKind::Connect,
            TransportError::Tls(_) => FailureKind::Tls,
            TransportError::Io(_) => FailureKind::Io,
            TransportError::Protocol(_) => FailureKind::Protocol,
        }
    }
}
