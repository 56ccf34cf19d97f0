//! The Manager's error: an OMA DM status code and a message for the log.

use std::borrow::Cow;
use std::fmt;

/// A command's failure as the session engine reports it: `status` is the OMA DM status code
/// for the command's Status (404, 405, 418, 425, 500, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmError {
    /// OMA DM status code.
    pub status: u16,
    /// What happened (never contains a secret value). Static text where nothing more is to
    /// say: errors that a session answers with a Status cost no formatting.
    pub message: Cow<'static, str>,
}

impl CmError {
    /// An error with `status`.
    pub fn new(status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        CmError {
            status,
            message: message.into(),
        }
    }
    /// 400 Bad request.
    pub fn bad_request(m: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, m)
    }
    /// 404 Not found.
    pub fn not_found(m: impl Into<Cow<'static, str>>) -> Self {
        Self::new(404, m)
    }
    /// 405 Command not allowed.
    pub fn not_allowed(m: impl Into<Cow<'static, str>>) -> Self {
        Self::new(405, m)
    }
    /// 406 Optional feature not supported.
    pub fn not_supported(m: impl Into<Cow<'static, str>>) -> Self {
        Self::new(406, m)
    }
    /// 418 Already exists.
    pub fn already_exists(m: impl Into<Cow<'static, str>>) -> Self {
        Self::new(418, m)
    }
    /// 425 Permission denied.
    pub fn denied(m: impl Into<Cow<'static, str>>) -> Self {
        Self::new(425, m)
    }
    /// 500 Command failed.
    pub fn failed(m: impl Into<Cow<'static, str>>) -> Self {
        Self::new(500, m)
    }
}

impl fmt::Display for CmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for CmError {}

impl From<crate::uri::UriError> for CmError {
    fn from(e: crate::uri::UriError) -> Self {
        match e {
            crate::uri::UriError::TooLong(_) => CmError::new(414, e.to_string()),
            crate::uri::UriError::Malformed(_) => CmError::bad_request(e.to_string()),
        }
    }
}

impl From<crate::csp::CspError> for CmError {
    fn from(e: crate::csp::CspError) -> Self {
        use crate::csp::CspError;
        let message: Cow<'static, str> = match &e {
            CspError::Failed { .. } => e.to_string().into(),
            CspError::NotFound => "CSP error 404".into(),
            CspError::AlreadyExists => "CSP error 418".into(),
            CspError::NotAllowed => "CSP error 405".into(),
            CspError::Forbidden => "CSP error 403".into(),
            CspError::PermissionDenied => "CSP error 425".into(),
            CspError::NotSupported => "CSP error 406".into(),
            CspError::UnsupportedFormat => "CSP error 415".into(),
            CspError::DeviceFull => "CSP error 420".into(),
        };
        CmError::new(e.status(), message)
    }
}
