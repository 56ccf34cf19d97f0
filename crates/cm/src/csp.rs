//! Configuration service providers: the trait a CSP implements to own a part of the tree.
//!
//! A CSP is mounted at a URI prefix; every command on that prefix or below is routed to it
//! after the Manager's access check. Paths are passed as canonical URI text (`./Vendor/x/y`),
//! values as octets with their Format and Type, so that C callbacks can implement the trait
//! one to one. A CSP either does its own transactions ([`TxMode::Internal`]: `begin`,
//! `commit`, `rollback`, each begin answered by exactly one end) or lets the Manager undo its
//! changes with the opposite operations ([`TxMode::External`]). A method that fails must leave
//! the CSP's nodes as they were.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// What a CSP reports about one of its nodes (owned: the Manager keeps it while it asks
/// the CSP more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CspNode {
    /// An interior node with these child names (not URI-encoded).
    Interior {
        /// Child names. Shared: a CSP whose lists are fixed (DevInfo, DevDetail) lends its
        /// own without copying them; any other makes one from a `Vec` (`names.into()`).
        children: Arc<[String]>,
        /// Type (MO identifier) or empty.
        type_: String,
    },
    /// A leaf.
    Leaf(LeafValue<'static>),
}

/// A leaf value with its Format and Type.
///
/// The value a command brings is lent (borrowed from the server's message: no copy is made
/// to hand it to a CSP); a CSP that keeps it makes it its own with
/// [`LeafValue::to_static`]. Values a CSP reports are `LeafValue<'static>`, whose common
/// Format and Type texts are static (see [`common_text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafValue<'a> {
    /// The value's octets.
    pub data: Cow<'a, [u8]>,
    /// Format (`chr`, `int`, `bool`, `b64`, `bin`, ...).
    pub format: Cow<'a, str>,
    /// Type (MIME type).
    pub type_: Cow<'a, str>,
}

impl LeafValue<'static> {
    /// A `chr`, `text/plain` value.
    pub fn text(s: impl Into<String>) -> LeafValue<'static> {
        LeafValue {
            data: Cow::Owned(s.into().into_bytes()),
            format: Cow::Borrowed("chr"),
            type_: Cow::Borrowed("text/plain"),
        }
    }
}

impl LeafValue<'_> {
    /// A copy that owns its value; the common Format and Type texts are static rather
    /// than copied.
    pub fn to_static(&self) -> LeafValue<'static> {
        LeafValue {
            data: Cow::Owned(self.data.to_vec()),
            format: common_text(&self.format),
            type_: common_text(&self.type_),
        }
    }

    /// This value, made to own what it borrows (nothing is copied when it owns it all).
    pub fn into_static(self) -> LeafValue<'static> {
        LeafValue {
            data: Cow::Owned(self.data.into_owned()),
            format: match self.format {
                Cow::Owned(text) => Cow::Owned(text),
                Cow::Borrowed(text) => common_text(text),
            },
            type_: match self.type_ {
                Cow::Owned(text) => Cow::Owned(text),
                Cow::Borrowed(text) => common_text(text),
            },
        }
    }

    /// This value lent again (no copy), for a call that takes a `&LeafValue`.
    pub fn lend(&self) -> LeafValue<'_> {
        LeafValue {
            data: Cow::Borrowed(&self.data),
            format: Cow::Borrowed(&self.format),
            type_: Cow::Borrowed(&self.type_),
        }
    }
}

/// `text` as static text when it is a Format or Type most nodes have (`chr`, `int`,
/// `node`, `text/plain`, ...), so that keeping or reporting it copies nothing; else a copy.
pub fn common_text(text: &str) -> Cow<'static, str> {
    const COMMON: [&str; 13] = [
        "chr",
        "int",
        "bool",
        "bin",
        "b64",
        "node",
        "null",
        "xml",
        "float",
        "date",
        "time",
        "text/plain",
        "",
    ];
    match COMMON.iter().find(|c| **c == text) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(text.to_owned()),
    }
}

/// The result of an Exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    /// Done (status 200).
    Done,
    /// Accepted; the result will come later by generic alert (status 202).
    Accepted,
}

/// A CSP's failure, mapped by the Manager to an OMA DM status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CspError {
    /// No such node (404).
    NotFound,
    /// The node exists (418).
    AlreadyExists,
    /// The command is not allowed on this node (405).
    NotAllowed,
    /// Refused for a reason other than access rights (403).
    Forbidden,
    /// The CSP's own security refused it (425).
    PermissionDenied,
    /// An optional feature (property, list form) the CSP does not support (406).
    NotSupported,
    /// Format or Type the node does not accept (415).
    UnsupportedFormat,
    /// The device is full (420).
    DeviceFull,
    /// Any other failure; `code` is an OMA DM status to report when it is one, else 500.
    Failed {
        /// The OMA DM status the CSP asks for (400–599), or 0 for "unspecified" (500).
        code: u16,
        /// What happened, for the log (never a secret).
        reason: String,
    },
}

impl CspError {
    /// A generic failure (500).
    pub fn failed(reason: impl Into<String>) -> CspError {
        CspError::Failed {
            code: 500,
            reason: reason.into(),
        }
    }

    /// The OMA DM status code for this error. Codes a CSP may not produce (success codes,
    /// unknown values, codes reserved for the protocol such as 212 or 507) become 500.
    pub fn status(&self) -> u16 {
        match self {
            CspError::NotFound => 404,
            CspError::AlreadyExists => 418,
            CspError::NotAllowed => 405,
            CspError::Forbidden => 403,
            CspError::PermissionDenied => 425,
            CspError::NotSupported => 406,
            CspError::UnsupportedFormat => 415,
            CspError::DeviceFull => 420,
            CspError::Failed { code, .. } => match code {
                400..=418 | 420 | 424 | 425 | 500..=506 | 510 => *code,
                _ => 500,
            },
        }
    }
}

impl fmt::Display for CspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CspError::Failed { reason, .. } => {
                write!(f, "CSP failure ({}): {reason}", self.status())
            }
            other => write!(f, "CSP error {}", other.status()),
        }
    }
}

impl std::error::Error for CspError {}

/// Who the command a CSP is asked to carry out comes from (set before every call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    /// The server's ServerID, or `None` for the device itself.
    pub server_id: Option<&'a str>,
    /// The principal's role mask.
    pub roles: u32,
}

/// How a CSP's changes are undone inside an Atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// The Manager records the opposite of each operation and applies it on rollback.
    External,
    /// The CSP keeps its own rollback state: `begin` before its first change in a
    /// transaction, then exactly one of `commit` or `rollback`.
    Internal,
}

/// A configuration service provider.
///
/// Every method takes the canonical path of the node concerned. Defaults answer "not
/// allowed" (405) or "not supported" (406) so that a read-only CSP implements `node` only.
pub trait Csp: Send {
    /// Told who the command comes from, before the first call after the caller changed
    /// (the caller told holds until the next time this is called, so it is not repeated
    /// before every call); CSPs that keep their own rules (the DM account store's role
    /// ceiling) use it. The default ignores it.
    fn set_caller(&mut self, caller: &Caller<'_>) {
        let _ = caller;
    }

    /// The node at `path`: its children or its value. `CspError::NotFound` when absent.
    fn node(&mut self, path: &str) -> Result<CspNode, CspError>;

    /// Whether the node at `path` is interior (`Ok(true)`), a leaf (`Ok(false)`), or absent
    /// (`CspError::NotFound`). The default asks [`Csp::node`]; a CSP whose child lists are
    /// costly should answer directly (the Manager asks this for every ancestor of an Add).
    fn is_interior(&mut self, path: &str) -> Result<bool, CspError> {
        self.node(path)
            .map(|n| matches!(n, CspNode::Interior { .. }))
    }

    /// Creates a leaf (`value` is `Some`) or an interior node (`None`) at `path`, whose
    /// parent exists.
    fn add(&mut self, path: &str, value: Option<&LeafValue<'_>>) -> Result<(), CspError> {
        let _ = (path, value);
        Err(CspError::NotAllowed)
    }

    /// Replaces the value of the leaf at `path`.
    fn replace(&mut self, path: &str, value: &LeafValue<'_>) -> Result<(), CspError> {
        let _ = (path, value);
        Err(CspError::NotAllowed)
    }

    /// Deletes the node at `path` and its subtree.
    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        let _ = path;
        Err(CspError::NotAllowed)
    }

    /// Whether [`Csp::add`], [`Csp::replace`] and [`Csp::delete`] check their target
    /// themselves, whatever it is: `add` answers `AlreadyExists` for a node that exists,
    /// `NotFound` when the parent is absent and `NotAllowed` below a leaf; `replace` answers
    /// `NotFound` for an absent node and `NotAllowed` for an interior one; `delete` answers
    /// `NotFound` for an absent node. Each does nothing when it refuses.
    ///
    /// Such a CSP is then called without being asked first ([`Csp::is_interior`]) whether
    /// the target exists and what it is: one call a command rather than two or three. The
    /// Manager asks only when a call or a check fails, so that every command is answered as
    /// before (the same status, in the same order of checks). A CSP with internal
    /// transactions may see a transaction begun and ended with nothing changed.
    ///
    /// The default, `false`, keeps the promises above: `add` is only called for an absent
    /// node below an existing interior one, `replace` for an existing leaf, `delete` for an
    /// existing node.
    fn checks_targets(&self) -> bool {
        false
    }

    /// Copies the node at `source` (with its subtree) to `target`, both inside this CSP, for
    /// a CSP that can do it better than node by node (a native copy of an account). The
    /// target does not exist and its parent does. The default, `NotSupported`, lets the
    /// Manager copy node by node through [`Csp::node`] and [`Csp::add`].
    fn copy(&mut self, source: &str, target: &str) -> Result<(), CspError> {
        let _ = (source, target);
        Err(CspError::NotSupported)
    }

    /// Runs the executable node at `path` with the Exec's data and correlator.
    fn exec(
        &mut self,
        path: &str,
        data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, CspError> {
        let _ = (path, data, correlator);
        Err(CspError::NotAllowed)
    }

    /// Reads a run-time property (`ACL`, `Title`, `msft:AccessRole`, ...). `NotSupported`
    /// lets the Manager answer from its defaults (inherited ACL and role, Format and Type
    /// from [`Csp::node`], Name, Size).
    fn get_property(&mut self, path: &str, name: &str) -> Result<String, CspError> {
        let _ = (path, name);
        Err(CspError::NotSupported)
    }

    /// Whether this CSP keeps run-time properties of its own. `false` promises that
    /// [`Csp::get_property`] answers `NotSupported` for every node and name, as the default
    /// method does: the Manager then answers from its defaults without calling it (the ACL of
    /// a node is the mount point's as the device set it, else the store's above the mount),
    /// so that a command's access check costs no call per level of its target.
    ///
    /// The default, `true`, asks.
    fn keeps_properties(&self) -> bool {
        true
    }

    /// Sets a run-time property.
    fn set_property(&mut self, path: &str, name: &str, value: &str) -> Result<(), CspError> {
        let _ = (path, name, value);
        Err(CspError::NotSupported)
    }

    /// Whether Get may return the value at `path` (false for secrets: status 405).
    fn readable(&mut self, path: &str) -> bool {
        let _ = path;
        true
    }

    /// How this CSP's changes are undone.
    fn tx_mode(&self) -> TxMode {
        TxMode::External
    }

    /// Internal transactions: a transaction starts.
    fn begin(&mut self) -> Result<(), CspError> {
        Ok(())
    }

    /// Internal transactions: make the transaction's changes permanent.
    fn commit(&mut self) -> Result<(), CspError> {
        Ok(())
    }

    /// Internal transactions: undo the transaction's changes.
    fn rollback(&mut self) -> Result<(), CspError> {
        Ok(())
    }
}
