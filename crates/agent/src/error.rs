//! What can go wrong, typed: [`AgentError`] for the agent's own operations (opening its state,
//! storing an alert, mounting a CSP), [`SessionFailure`] for a session that could not be
//! carried out. Each keeps its cause ([`std::error::Error::source`]) so that a host — the C
//! ABI among them — maps kinds to codes without reading text.

use std::fmt;
use std::path::PathBuf;

use omadm_transport::TransportError;

/// Why the agent could not do something.
#[derive(Debug)]
#[non_exhaustive]
pub enum AgentError {
    /// Another agent (this process or another) holds the state directory.
    StateLocked {
        /// The state directory.
        dir: PathBuf,
        /// The holder's process id, when it wrote one.
        holder: Option<u32>,
    },
    /// A file or directory of the state could not be created, read or written.
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored tree exists but cannot be loaded (damaged, or not omadm's).
    Corrupt {
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        source: omadm_cm::LoadError,
    },
    /// A tree or account command failed (with its OMA DM status).
    Tree(omadm_cm::CmError),
    /// The transport's configuration was refused (a trust anchor that is not PEM, a client
    /// key the agent may not use).
    Transport(TransportError),
    /// The random generator failed.
    Random(String),
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::StateLocked { dir, holder } => {
                write!(f, "the state directory {} is in use", dir.display())?;
                match holder {
                    Some(pid) => write!(f, " by process {pid}"),
                    None => Ok(()),
                }
            }
            AgentError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            AgentError::Corrupt { path, source } => write!(f, "{}: {source}", path.display()),
            AgentError::Tree(e) => write!(f, "{e}"),
            AgentError::Transport(e) => write!(f, "{e}"),
            AgentError::Random(e) => write!(f, "the random generator failed: {e}"),
        }
    }
}

impl std::error::Error for AgentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AgentError::Io { source, .. } => Some(source),
            AgentError::Corrupt { source, .. } => Some(source),
            AgentError::Tree(e) => Some(e),
            AgentError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl From<omadm_cm::CmError> for AgentError {
    fn from(e: omadm_cm::CmError) -> Self {
        AgentError::Tree(e)
    }
}

impl AgentError {
    /// An I/O error at `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> AgentError {
        let path = path.into();
        move |source| AgentError::Io { path, source }
    }

    /// A load error at `path` (I/O, or a damaged store).
    pub(crate) fn load(path: impl Into<PathBuf>) -> impl FnOnce(omadm_cm::LoadError) -> AgentError {
        let path = path.into();
        move |source| match source {
            omadm_cm::LoadError::Io(source) => AgentError::Io { path, source },
            other => AgentError::Corrupt {
                path,
                source: other,
            },
        }
    }
}

/// Why a session could not be carried out (after the retries its kind allows).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionFailure {
    /// No DM account has this ServerID.
    NoAccount,
    /// The account's URL is not a URL this agent can use.
    BadUrl(String),
    /// The URL is `http://` and plain HTTP is not allowed (by the agent, or the account).
    PlainHttpRefused(String),
    /// TLS failed: the server's certificate is not trusted, the host name does not match, the
    /// handshake failed.
    Tls(String),
    /// The client certificate could not be used (unreadable, a key readable by others).
    ClientCertificate(String),
    /// The network: the server could not be reached, or stopped answering (time-out).
    Network(String),
    /// The server answered with an HTTP status other than 200.
    HttpStatus(u16),
    /// The server broke the protocol (an answer that is not HTTP or not SyncML, a message
    /// larger than allowed, a message of another session).
    Protocol(String),
    /// The device could not store what the session needs to keep.
    Storage(String),
}

impl SessionFailure {
    /// Whether trying again cannot help (the configuration or the server must change first):
    /// such a failure is never retried with backoff.
    pub fn is_permanent(&self) -> bool {
        !matches!(
            self,
            SessionFailure::Network(_) | SessionFailure::HttpStatus(408 | 429 | 500..=599)
        )
    }
}

impl From<TransportError> for SessionFailure {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::BadUrl(m) => SessionFailure::BadUrl(m),
            TransportError::PlainHttpRefused(m) => SessionFailure::PlainHttpRefused(m),
            TransportError::Connect(m) | TransportError::Io(m) => SessionFailure::Network(m),
            TransportError::Tls(m) => SessionFailure::Tls(m),
            TransportError::Protocol(m) => SessionFailure::Protocol(m),
        }
    }
}

impl fmt::Display for SessionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionFailure::NoAccount => f.write_str("no DM account has this ServerID"),
            SessionFailure::BadUrl(m) => write!(f, "bad URL: {m}"),
            SessionFailure::PlainHttpRefused(m) => f.write_str(m),
            SessionFailure::Tls(m) => write!(f, "TLS failure: {m}"),
            SessionFailure::ClientCertificate(m) => write!(f, "client certificate: {m}"),
            SessionFailure::Network(m) => write!(f, "network: {m}"),
            SessionFailure::HttpStatus(s) => write!(f, "the server answered HTTP {s}"),
            SessionFailure::Protocol(m) => write!(f, "protocol error: {m}"),
            SessionFailure::Storage(m) => write!(f, "storage: {m}"),
        }
    }
}

impl std::error::Error for SessionFailure {}
