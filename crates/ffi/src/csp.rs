//! Native CSPs: a C component owning part of the management tree through a struct of
//! callbacks. The adapter here implements [`omadm_cm::Csp`] on top of them, checks every
//! answer (a callback returning an unknown code or a malformed value fails that command with
//! 500 and leaves the tree as it was), and calls the finalizer exactly once, after the last
//! callback.

use std::borrow::Cow;
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use omadm_cm::{Caller, Csp, CspError, CspNode, ExecOutcome, LeafValue, TxMode};

use crate::boundary::{not_null, with_agent};
use crate::growable::{self, Growable};
use crate::result::omadm_result;
use crate::strings::{bytes, omadm_bytes, omadm_str, text};
pub use crate::userdata::omadm_finalizer;
use crate::userdata::ForeignData;

/// Largest value a CSP callback may hand back (bytes).
pub const OMADM_CSP_MAX_VALUE: usize = 16 * 1024 * 1024;
/// Most child names a CSP callback may hand back for one node.
pub const OMADM_CSP_MAX_CHILDREN: usize = 65_536;

/// What a CSP callback is asked about; valid during the callback only. Fields that do not
/// apply to the callback are empty. Views are NUL-terminated.
///
/// Data conventions: an empty value is `(NULL, 0)` data (a leaf may hold an empty value; it
/// is not a missing one). An Add without Meta arrives with `format` `chr` and `type_`
/// `text/plain`; a Replace without Meta arrives with both empty (keep the node's own).
/// Values have been checked against their format before the callback (415 otherwise).
#[repr(C)]
pub struct omadm_csp_params {
    /// omadm's `sizeof` of this struct (fields may be added at the end).
    pub struct_size: usize,
    /// The node's canonical URI (`./Vendor/MSFT/ActiveSync/Accounts/x`).
    pub path: omadm_str,
    /// The server the command comes from; empty for the device itself.
    pub server_id: omadm_str,
    /// The caller's role mask.
    pub roles: u32,
    /// add (leaf), replace, exec: the data.
    pub data: omadm_bytes,
    /// add (leaf), replace: Meta Format (`chr`, `int`, `bool`, `b64`, `bin`, ...).
    pub format: omadm_str,
    /// add (leaf), replace: Meta Type (MIME type).
    pub type_: omadm_str,
    /// add: true for an interior node (no data).
    pub interior: bool,
    /// exec: the Correlator, empty when none.
    pub correlator: omadm_str,
    /// copy: the target URI (`path` is the source).
    pub target: omadm_str,
    /// get_property, set_property: the property name (`ACL`, `Title`, ...).
    pub property: omadm_str,
    /// set_property: the value.
    pub property_value: omadm_str,
}

/// Where a CSP callback writes what it answers (`get`, `child_names`, `get_property`), with
/// the `omadm_csp_out_*` functions, during the callback only.
pub struct omadm_csp_out {
    /// Only what the node is (leaf or interior, and whether secret) is asked: a value
    /// answered is checked as always but not copied.
    shape_only: bool,
    leaf: Option<LeafValue<'static>>,
    interior: Option<String>,
    children: Vec<String>,
    text: Option<String>,
    secret: bool,
    malformed: Option<&'static str>,
}

impl omadm_csp_out {
    fn new() -> omadm_csp_out {
        omadm_csp_out {
            shape_only: false,
            leaf: None,
            interior: None,
            children: Vec::new(),
            text: None,
            secret: false,
            malformed: None,
        }
    }
}

/// A CSP callback. Returns an OMA DM status (not an `omadm_result`): 200 (202 from exec:
/// accepted, the result comes later by generic alert), or 400, 403, 404, 405, 406, 415, 418,
/// 420, 425, 500..506. An `omadm_result` returned by mistake is taken as the status it stands
/// for (`OMADM_RESULT_OK` as 200, `3000 + s` as `s`) and logged as a warning; any other value
/// fails the command with 500. `out` is NULL except for get, child_names and get_property.
/// A callback must not unwind (no C++ exception or `longjmp` may leave it).
pub type omadm_csp_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        params: *const omadm_csp_params,
        out: *mut omadm_csp_out,
    ) -> u32,
>;

/// The callbacks of a native CSP. `get` is required; a NULL optional callback answers 405
/// (add, replace, delete_node, exec) or lets omadm do the work (copy: node by node;
/// properties: omadm's defaults). With `begin`, `commit` and `rollback` all set, the CSP
/// keeps its own transactions (each begin is followed by exactly one commit or rollback);
/// otherwise omadm undoes its changes inside an Atomic with the opposite commands. Initialise
/// with `OMADM_CSP_CALLBACKS_INIT` (it sets `struct_size`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct omadm_csp_callbacks {
    /// `sizeof(omadm_csp_callbacks)` as the host compiled it (see "Structs that grow").
    pub struct_size: usize,
    /// The node at `path`: `omadm_csp_out_set_value` for a leaf, `omadm_csp_out_set_interior`
    /// for an interior node; 404 when absent.
    pub get: omadm_csp_callback,
    /// The child names of the interior node at `path`, with `omadm_csp_out_add_child`.
    pub child_names: omadm_csp_callback,
    /// Creates the node `path` (its parent exists): a leaf with `data`, `format`, `type_`,
    /// or an interior node when `interior`.
    pub add: omadm_csp_callback,
    /// Replaces the value of the leaf `path`.
    pub replace: omadm_csp_callback,
    /// Deletes the node `path` and its subtree.
    pub delete_node: omadm_csp_callback,
    /// Copies `path` (and its subtree) to `target`, both in this CSP; 406 to let omadm copy
    /// node by node.
    pub copy: omadm_csp_callback,
    /// Executes `path` with `data` and `correlator`.
    pub exec: omadm_csp_callback,
    /// Reads the property `property` of `path` with `omadm_csp_out_set_text`; 406 for
    /// omadm's default.
    pub get_property: omadm_csp_callback,
    /// Sets the property `property` of `path` to `property_value`; 406 when not kept.
    pub set_property: omadm_csp_callback,
    /// Starts a transaction (before the first change in an Atomic or command).
    pub begin: omadm_csp_callback,
    /// Makes the transaction's changes permanent.
    pub commit: omadm_csp_callback,
    /// Undoes the transaction's changes.
    pub rollback: omadm_csp_callback,
}

// SAFETY: repr(C), starts with struct_size, and all-zero means NULL callbacks.
unsafe impl Growable for omadm_csp_callbacks {
    const MIN_SIZE: usize = std::mem::offset_of!(omadm_csp_callbacks, child_names);
}

/// Checks `out` and runs `f` on it.
///
/// # Safety
/// `out` must be the pointer a callback was given, used during that callback.
unsafe fn with_out(
    out: *mut omadm_csp_out,
    f: impl FnOnce(&mut omadm_csp_out) -> Result<(), omadm_result>,
) -> omadm_result {
    crate::boundary::guard(|| {
        not_null(out)?;
        // SAFETY: non-NULL, and by the caller's contract the live out of this callback.
        let out = unsafe { &mut *out };
        let r = f(out);
        if r.is_err() && out.malformed.is_none() {
            out.malformed = Some("a callback gave a malformed answer");
        }
        r
    })
}

/// Answers `get` for a leaf: its value, Format (`chr` when empty) and Type (`text/plain`
/// when empty). At most `OMADM_CSP_MAX_VALUE` bytes.
///
/// # Safety
/// `out` as given to the callback, during it; the views readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_csp_out_set_value(
    out: *mut omadm_csp_out,
    data: *const u8,
    data_len: usize,
    format: omadm_str,
    type_: omadm_str,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_out(out, |o| {
            let d = bytes(data, data_len)?;
            if d.len() > OMADM_CSP_MAX_VALUE {
                return Err(omadm_result::InvalidArgument);
            }
            let f = text(format.data, format.len)?;
            let t = text(type_.data, type_.len)?;
            if o.shape_only {
                o.leaf = Some(LeafValue {
                    data: Cow::Borrowed(&[]),
                    format: Cow::Borrowed(""),
                    type_: Cow::Borrowed(""),
                });
                return Ok(());
            }
            o.leaf = Some(LeafValue {
                data: d.to_vec().into(),
                format: omadm_cm::common_text(if f.is_empty() { "chr" } else { f }),
                type_: omadm_cm::common_text(if t.is_empty() { "text/plain" } else { t }),
            });
            Ok(())
        })
    }
}

/// Answers `get` for an interior node, with its Type (MO identifier, may be empty).
///
/// # Safety
/// `out` as given to the callback, during it; the view readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_csp_out_set_interior(
    out: *mut omadm_csp_out,
    type_: omadm_str,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_out(out, |o| {
            let t = text(type_.data, type_.len)?;
            o.interior = Some(if o.shape_only {
                String::new()
            } else {
                t.to_owned()
            });
            Ok(())
        })
    }
}

/// Marks the leaf being answered as write-only: a server's or local Get answers 405.
///
/// # Safety
/// `out` as given to the callback, during it.
#[no_mangle]
pub unsafe extern "C" fn omadm_csp_out_set_secret(out: *mut omadm_csp_out) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_out(out, |o| {
            o.secret = true;
            Ok(())
        })
    }
}

/// Adds one child name in `child_names`: not empty, no `/`, UTF-8, at most
/// `OMADM_CSP_MAX_CHILDREN` per node.
///
/// # Safety
/// `out` as given to the callback, during it; `(name, name_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_csp_out_add_child(
    out: *mut omadm_csp_out,
    name: *const std::ffi::c_char,
    name_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_out(out, |o| {
            let n = text(name, name_len)?;
            if n.is_empty() || n.contains('/') || n.contains('\0') {
                return Err(omadm_result::InvalidArgument);
            }
            if o.children.len() >= OMADM_CSP_MAX_CHILDREN {
                return Err(omadm_result::InvalidArgument);
            }
            o.children.push(n.to_owned());
            Ok(())
        })
    }
}

/// Answers `get_property` with the property's text.
///
/// # Safety
/// `out` as given to the callback, during it; `(value, value_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_csp_out_set_text(
    out: *mut omadm_csp_out,
    value: *const std::ffi::c_char,
    value_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_out(out, |o| {
            let t = text(value, value_len)?;
            if t.len() > OMADM_CSP_MAX_VALUE {
                return Err(omadm_result::InvalidArgument);
            }
            o.text = Some(t.to_owned());
            Ok(())
        })
    }
}

/// A registered native CSP (what the Manager holds).
pub(crate) struct NativeCsp {
    prefix: String,
    callbacks: omadm_csp_callbacks,
    /// The host's userdata; its finalizer runs when the CSP is dropped, if it was mounted (a
    /// registration that failed leaves the userdata with the host).
    owner: Option<ForeignData>,
    /// Set once mounted.
    pub(crate) armed: Arc<AtomicBool>,
    /// Set by an unregister from inside a callback: every later call answers 404.
    pub(crate) retired: Arc<AtomicBool>,
    /// The caller's ServerID up to its first NUL (as C reads it), empty for the device:
    /// rewritten only when the caller changes.
    server_id: String,
    roles: u32,
    /// The texts a call lends the callback, each followed by a NUL, one after the other:
    /// one buffer kept from call to call, so that a round trip allocates nothing. Taken
    /// for the call (a callback re-entering the adapter finds it empty and uses its own).
    views: Cell<Vec<u8>>,
    /// The node `node` read last and whether the host marked it write-only, for the
    /// `readable` of that same node that follows (the Manager reads a node, checks its ACL,
    /// then asks whether its value may be returned): the flag that came with the value,
    /// without a second `get`. Valid while `read_valid`, which any other callback but
    /// `get_property` and any change of caller clear.
    read_path: String,
    read_secret: bool,
    read_valid: Cell<bool>,
}

/// `s` up to its first NUL: what C reads of it.
fn until_nul(s: &str) -> &str {
    s.split('\0').next().unwrap_or("")
}

// SAFETY: the header states a CSP's callbacks and userdata are used from the agent thread
// (whichever thread runs the agent); the host gives them under that contract.
unsafe impl Send for NativeCsp {}

impl Drop for NativeCsp {
    fn drop(&mut self) {
        if !self.armed.load(Ordering::SeqCst) {
            if let Some(o) = self.owner.take() {
                o.forget();
            }
        }
    }
}

#[derive(Default)]
struct Args<'a> {
    data: &'a [u8],
    format: &'a str,
    type_: &'a str,
    interior: bool,
    correlator: &'a str,
    target: &'a str,
    property: &'a str,
    property_value: &'a str,
}

impl NativeCsp {
    pub(crate) fn new(
        prefix: &str,
        callbacks: omadm_csp_callbacks,
        owner: ForeignData,
    ) -> NativeCsp {
        NativeCsp {
            prefix: prefix.to_owned(),
            callbacks,
            owner: Some(owner),
            armed: Arc::new(AtomicBool::new(false)),
            retired: Arc::new(AtomicBool::new(false)),
            server_id: String::new(),
            roles: 0,
            views: Cell::new(Vec::new()),
            read_path: String::new(),
            read_secret: false,
            read_valid: Cell::new(false),
        }
    }

    fn userdata(&self) -> *mut c_void {
        self.owner.as_ref().map_or(std::ptr::null_mut(), |o| o.data)
    }

    /// Calls `cb` (None: the callback is not set) and maps its status.
    fn call(
        &self,
        name: &'static str,
        cb: omadm_csp_callback,
        path: &str,
        args: Args<'_>,
        out: Option<&mut omadm_csp_out>,
    ) -> Option<Result<u32, CspError>> {
        let cb = cb?;
        if name != "get_property" {
            self.read_valid.set(false);
        }
        if self.retired.load(Ordering::SeqCst) {
            return Some(Err(CspError::NotFound));
        }
        let texts = [
            path,
            &self.server_id,
            args.format,
            args.type_,
            args.correlator,
            args.target,
            args.property,
            args.property_value,
        ];
        let mut buffer = self.views.take();
        buffer.clear();
        let mut spans = [(0, 0); 8];
        for (span, text) in spans.iter_mut().zip(texts) {
            let text = until_nul(text);
            *span = (buffer.len(), text.len());
            buffer.extend_from_slice(text.as_bytes());
            buffer.push(0);
        }
        let view = |(at, len): (usize, usize)| omadm_str::lent(&buffer[at..=at + len]);
        let params = omadm_csp_params {
            struct_size: std::mem::size_of::<omadm_csp_params>(),
            path: view(spans[0]),
            server_id: view(spans[1]),
            roles: self.roles,
            data: omadm_bytes::of(args.data),
            format: view(spans[2]),
            type_: view(spans[3]),
            interior: args.interior,
            correlator: view(spans[4]),
            target: view(spans[5]),
            property: view(spans[6]),
            property_value: view(spans[7]),
        };
        let out_ptr = out.map_or(std::ptr::null_mut(), |o| o as *mut omadm_csp_out);
        // SAFETY: the host's callback with its userdata; params and the buffer it views live
        // for the call; out_ptr is NULL or a live exclusive out.
        let code = unsafe { cb(self.userdata(), &params, out_ptr) };
        self.views.set(buffer);
        Some(self.status(name, code))
    }

    fn status(&self, name: &str, code: u32) -> Result<u32, CspError> {
        // An omadm_result returned by mistake: the status it stands for, loudly.
        let code = match code {
            0 => {
                log::warn!(
                    "CSP at {}: {name} returned OMADM_RESULT_OK (0), an API result, not an OMA DM \
                     status; taken as 200",
                    self.prefix
                );
                200
            }
            3100..=3599 => {
                log::warn!(
                    "CSP at {}: {name} returned the API result {code}, not an OMA DM status; \
                     taken as {}",
                    self.prefix,
                    code - 3000
                );
                code - 3000
            }
            other => other,
        };
        match code {
            200 | 202 => Ok(code),
            404 => Err(CspError::NotFound),
            418 => Err(CspError::AlreadyExists),
            405 => Err(CspError::NotAllowed),
            403 => Err(CspError::Forbidden),
            425 => Err(CspError::PermissionDenied),
            406 => Err(CspError::NotSupported),
            415 => Err(CspError::UnsupportedFormat),
            420 => Err(CspError::DeviceFull),
            400 | 401 | 402 | 407..=417 | 424 | 500..=506 | 510 => Err(CspError::Failed {
                code: code as u16,
                reason: format!("{name} answered {code}"),
            }),
            other => {
                log::warn!(
                    "CSP at {}: {name} returned {other}, not an OMA DM status; the command fails",
                    self.prefix
                );
                Err(CspError::failed(format!("{name} returned {other}")))
            }
        }
    }

    fn simple(
        &self,
        name: &'static str,
        cb: omadm_csp_callback,
        path: &str,
        args: Args<'_>,
        missing: CspError,
    ) -> Result<(), CspError> {
        match self.call(name, cb, path, args, None) {
            None => Err(missing),
            Some(Ok(200)) => Ok(()),
            Some(Ok(_)) => Err(CspError::failed(format!("{name} answered 202"))),
            Some(Err(e)) => Err(e),
        }
    }

    /// Notes that the host answered `get` for `path` with the write-only flag `secret` (see
    /// `read_path`).
    fn remember_read(&mut self, path: &str, secret: bool) {
        self.read_path.clear();
        self.read_path.push_str(path);
        self.read_secret = secret;
        self.read_valid.set(true);
    }

    /// The node at `path` as the host answers `get`; with `shape_only`, only what it is
    /// (its value checked, not copied).
    fn get(&self, path: &str, shape_only: bool) -> Result<omadm_csp_out, CspError> {
        let mut out = omadm_csp_out::new();
        out.shape_only = shape_only;
        match self.call(
            "get",
            self.callbacks.get,
            path,
            Args::default(),
            Some(&mut out),
        ) {
            None => Err(CspError::NotFound),
            Some(Ok(200)) => {
                if let Some(m) = out.malformed {
                    return Err(CspError::failed(m));
                }
                match (&out.leaf, &out.interior) {
                    (Some(_), None) | (None, Some(_)) => Ok(out),
                    _ => Err(CspError::failed(
                        "get must answer exactly one of a value or an interior node",
                    )),
                }
            }
            Some(Ok(_)) => Err(CspError::failed("get answered 202")),
            Some(Err(e)) => Err(e),
        }
    }
}

impl Csp for NativeCsp {
    fn set_caller(&mut self, caller: &Caller<'_>) {
        let id = until_nul(caller.server_id.unwrap_or(""));
        if self.server_id != id || self.roles != caller.roles {
            // The host may answer another caller otherwise.
            self.read_valid.set(false);
        }
        if self.server_id != id {
            self.server_id.clear();
            self.server_id.push_str(id);
        }
        self.roles = caller.roles;
    }

    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        let out = self.get(path, false)?;
        if let Some(v) = out.leaf {
            self.remember_read(path, out.secret);
            return Ok(CspNode::Leaf(v));
        }
        let type_ = out.interior.unwrap_or_default();
        let mut list = omadm_csp_out::new();
        let children = match self.call(
            "child_names",
            self.callbacks.child_names,
            path,
            Args::default(),
            Some(&mut list),
        ) {
            None => Vec::new(),
            Some(Ok(200)) if list.malformed.is_none() => list.children,
            Some(Ok(_)) => return Err(CspError::failed("child_names gave a malformed answer")),
            Some(Err(e)) => return Err(e),
        };
        self.remember_read(path, out.secret);
        Ok(CspNode::Interior {
            children: children.into(),
            type_,
        })
    }

    fn is_interior(&mut self, path: &str) -> Result<bool, CspError> {
        Ok(self.get(path, true)?.interior.is_some())
    }

    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        let args = match value {
            Some(v) => Args {
                data: &v.data,
                format: &v.format,
                type_: &v.type_,
                ..Args::default()
            },
            None => Args {
                interior: true,
                format: "node",
                ..Args::default()
            },
        };
        self.simple("add", self.callbacks.add, path, args, CspError::NotAllowed)
    }

    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        let args = Args {
            data: &value.data,
            format: &value.format,
            type_: &value.type_,
            ..Args::default()
        };
        self.simple(
            "replace",
            self.callbacks.replace,
            path,
            args,
            CspError::NotAllowed,
        )
    }

    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        self.simple(
            "delete_node",
            self.callbacks.delete_node,
            path,
            Args::default(),
            CspError::NotAllowed,
        )
    }

    fn copy(&mut self, source: &str, target: &str) -> Result<(), CspError> {
        let args = Args {
            target,
            ..Args::default()
        };
        self.simple(
            "copy",
            self.callbacks.copy,
            source,
            args,
            CspError::NotSupported,
        )
    }

    fn exec(
        &mut self,
        path: &str,
        data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, CspError> {
        let args = Args {
            data,
            correlator: correlator.unwrap_or(""),
            ..Args::default()
        };
        match self.call("exec", self.callbacks.exec, path, args, None) {
            None => Err(CspError::NotAllowed),
            Some(Ok(202)) => Ok(ExecOutcome::Accepted),
            Some(Ok(_)) => Ok(ExecOutcome::Done),
            Some(Err(e)) => Err(e),
        }
    }

    fn get_property(&mut self, path: &str, name: &str) -> Result<String, CspError> {
        let mut out = omadm_csp_out::new();
        let args = Args {
            property: name,
            ..Args::default()
        };
        match self.call(
            "get_property",
            self.callbacks.get_property,
            path,
            args,
            Some(&mut out),
        ) {
            None => Err(CspError::NotSupported),
            Some(Ok(200)) => match (out.malformed, out.text) {
                (None, Some(t)) => Ok(t),
                _ => Err(CspError::failed("get_property gave no text")),
            },
            Some(Ok(_)) => Err(CspError::failed("get_property answered 202")),
            Some(Err(e)) => Err(e),
        }
    }

    /// Without a `get_property` callback every property read answers `NotSupported` (the
    /// header's "properties: omadm's defaults"): the Manager need not ask.
    fn keeps_properties(&self) -> bool {
        self.callbacks.get_property.is_some()
    }

    fn set_property(&mut self, path: &str, name: &str, value: &str) -> Result<(), CspError> {
        let args = Args {
            property: name,
            property_value: value,
            ..Args::default()
        };
        self.simple(
            "set_property",
            self.callbacks.set_property,
            path,
            args,
            CspError::NotSupported,
        )
    }

    fn readable(&mut self, path: &str) -> bool {
        if self.read_valid.replace(false)
            && self.read_path == path
            && !self.retired.load(Ordering::SeqCst)
        {
            return !self.read_secret;
        }
        self.get(path, true).is_ok_and(|o| !o.secret)
    }

    fn tx_mode(&self) -> TxMode {
        let c = &self.callbacks;
        if c.begin.is_some() && c.commit.is_some() && c.rollback.is_some() {
            TxMode::Internal
        } else {
            TxMode::External
        }
    }

    fn begin(&mut self) -> Result<(), CspError> {
        self.simple(
            "begin",
            self.callbacks.begin,
            &self.prefix,
            Args::default(),
            CspError::NotSupported,
        )
    }

    fn commit(&mut self) -> Result<(), CspError> {
        self.simple(
            "commit",
            self.callbacks.commit,
            &self.prefix,
            Args::default(),
            CspError::NotSupported,
        )
    }

    fn rollback(&mut self) -> Result<(), CspError> {
        let r = self.simple(
            "rollback",
            self.callbacks.rollback,
            &self.prefix,
            Args::default(),
            CspError::NotSupported,
        );
        // A retired CSP has nothing left to roll back.
        if self.retired.load(Ordering::SeqCst) {
            return Ok(());
        }
        r
    }
}

/// Registers a native CSP at `prefix` (a canonical URI such as `./Vendor/MSFT/ActiveSync`):
/// every command on that node and below goes to `callbacks` (initialised with
/// `OMADM_CSP_CALLBACKS_INIT`). On success omadm owns `userdata` and calls `finalizer` (may be
/// NULL) once, after the last callback, when the CSP is unregistered or the agent freed; on
/// failure nothing is kept and the finalizer is not called. `OMADM_RESULT_ALREADY_REGISTERED`
/// when something is mounted there.
///
/// What a server may do in the CSP's subtree:
/// - Under the OMA ACL model (the default), what the ACL in force allows: the CSP's own ACL
///   property (its `get_property` answers `ACL`), else the one set for the mount point with
///   `omadm_agent_tree_set_acl` (held in memory: set it after each registration), else the
///   nearest ancestor's, up to the root's (`Add=*&Get=*` unless
///   `omadm_agent_config_set_root_acl` says otherwise). So by default a server may Get and
///   Add, and its Replace, Delete and Exec are refused with 425 until the host grants them,
///   e.g. `omadm_agent_tree_set_acl(agent, "./Vendor/acme", "Get=*&Replace=dm1&Exec=dm1")`.
/// - Under the role model, what `default_role` (the mask of the mount point), a role rule
///   (`omadm_agent_config_add_role_rule`) or the CSP's `msft:AccessRole` property allows,
///   checked against the server account's roles.
///
/// The device's own calls (`omadm_agent_tree_*`) are not restricted by ACLs.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(prefix, prefix_len)` and `callbacks` (its first
/// `struct_size` bytes) readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_register_csp(
    agent: *const crate::agent::omadm_agent,
    prefix: *const std::ffi::c_char,
    prefix_len: usize,
    default_role: u32,
    callbacks: *const omadm_csp_callbacks,
    userdata: *mut c_void,
    finalizer: omadm_finalizer,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let callbacks = growable::read(callbacks)?;
            if callbacks.get.is_none() {
                return Err(omadm_result::NullParameter);
            }
            let prefix = text(prefix, prefix_len)?.trim_end_matches('/');
            let csp = NativeCsp::new(prefix, callbacks, ForeignData::new(userdata, finalizer));
            let (armed, retired) = (csp.armed.clone(), csp.retired.clone());
            a.with_core(|core| {
                // A refused CSP is dropped unarmed: the host keeps its userdata.
                core.agent
                    .tree()
                    .mount(prefix, Box::new(csp), default_role)
                    .map_err(|e| match e.status {
                        418 => omadm_result::AlreadyRegistered,
                        _ => e.into(),
                    })?;
                armed.store(true, Ordering::SeqCst);
                a.csp_registered(prefix, retired);
                Ok(())
            })
        })
    }
}

/// Unregisters the native CSP at `prefix`. Outside a callback it waits for a running session
/// and unmounts at once (the finalizer runs before this returns). From inside a callback of
/// the same agent (any CSP's) the CSP is retired at once (every later call answers 404 Not
/// Found, rollbacks are skipped) and unmounted when the running operation ends; the
/// finalizer runs then. `OMADM_RESULT_UNKNOWN_ID` when no native CSP is there.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(prefix, prefix_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_unregister_csp(
    agent: *const crate::agent::omadm_agent,
    prefix: *const std::ffi::c_char,
    prefix_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let prefix = text(prefix, prefix_len)?.trim_end_matches('/');
            a.unregister_csp(prefix)
        })
    }
}

#[cfg(test)]
mod tests {
    //! The adapter driven as a host drives it: callbacks written here as a C host writes
    //! them, over a tree of the test's own, under a Manager running a server's commands.

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::collections::BTreeMap;

    use omadm_cm::{roles, Config, Manager, MemoryStorage, NewNode, Principal};

    use super::*;

    /// Counts this thread's allocations (tests run on threads of their own).
    struct Counting;

    thread_local! {
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    fn count() {
        // No count while the thread's locals are torn down.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }

    // SAFETY: forwards to the system allocator unchanged; only counts.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count();
            // SAFETY: same contract as ours.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as ours.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count();
            // SAFETY: same contract as ours.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    fn allocations_in(f: impl FnOnce()) -> usize {
        let before = ALLOCATIONS.with(Cell::get);
        f();
        ALLOCATIONS.with(Cell::get) - before
    }

    /// The host's tree: path → `Some(value)` for a leaf, `None` for an interior node; and
    /// whether every view it was lent so far ended with a NUL.
    struct Host {
        nodes: BTreeMap<String, Option<Vec<u8>>>,
        views_terminated: bool,
        server_ids: Vec<String>,
    }

    thread_local! {
        /// `get` callbacks answered on this thread (each test runs on its own).
        static GETS: Cell<usize> = const { Cell::new(0) };
    }

    fn gets() -> usize {
        GETS.with(Cell::get)
    }

    thread_local! {
        /// `get_property` callbacks answered on this thread.
        static PROPERTY_READS: Cell<usize> = const { Cell::new(0) };
    }

    /// A host that keeps no property of its own but has the callback: 406 to everything.
    unsafe extern "C" fn no_property(
        userdata: *mut c_void,
        params: *const omadm_csp_params,
        _: *mut omadm_csp_out,
    ) -> u32 {
        // SAFETY: called as a callback.
        unsafe { open(userdata, params) };
        PROPERTY_READS.with(|n| n.set(n.get() + 1));
        406
    }

    /// Reads a view as the host does, checking the NUL after it (without allocating: the
    /// test counts the adapter's allocations).
    ///
    /// # Safety
    /// `view` as lent to a callback, during it.
    unsafe fn view<'v>(host: &mut Host, view: omadm_str) -> &'v str {
        if view.data.is_null() {
            return "";
        }
        // SAFETY: the adapter lends `len` bytes and the NUL after them.
        let with_nul = unsafe { std::slice::from_raw_parts(view.data.cast::<u8>(), view.len + 1) };
        host.views_terminated &= with_nul[view.len] == 0;
        std::str::from_utf8(&with_nul[..view.len]).unwrap()
    }

    /// The host and the path of a callback.
    ///
    /// # Safety
    /// As a callback is called.
    unsafe fn open<'h>(
        userdata: *mut c_void,
        params: *const omadm_csp_params,
    ) -> (&'h mut Host, &'h omadm_csp_params, &'h str) {
        // SAFETY: the test's Host outlives the CSP; params live for the call.
        let (host, params) = unsafe { (&mut *userdata.cast::<Host>(), &*params) };
        // SAFETY: views lent for the call.
        let path = unsafe {
            for v in [
                params.server_id,
                params.format,
                params.type_,
                params.correlator,
                params.target,
                params.property,
                params.property_value,
            ] {
                view(host, v);
            }
            let server = view(host, params.server_id);
            if host.server_ids.last().map(String::as_str) != Some(server) {
                host.server_ids.push(server.to_owned());
            }
            view(host, params.path)
        };
        (host, params, path)
    }

    unsafe extern "C" fn get(
        userdata: *mut c_void,
        params: *const omadm_csp_params,
        out: *mut omadm_csp_out,
    ) -> u32 {
        // SAFETY: called as a callback.
        let (host, _, path) = unsafe { open(userdata, params) };
        GETS.with(|n| n.set(n.get() + 1));
        // SAFETY: out as lent.
        unsafe {
            match host.nodes.get(path) {
                None => 404,
                Some(None) => {
                    omadm_csp_out_set_interior(out, omadm_str::EMPTY);
                    200
                }
                Some(Some(v)) => {
                    // `bad`: a Format that is not UTF-8; `secret`: a write-only leaf.
                    let format = match path.rsplit('/').next() {
                        Some("bad") => omadm_str {
                            data: c"\xff".as_ptr(),
                            len: 1,
                        },
                        _ => omadm_str::EMPTY,
                    };
                    omadm_csp_out_set_value(out, v.as_ptr(), v.len(), format, omadm_str::EMPTY);
                    if path.ends_with("/secret") {
                        omadm_csp_out_set_secret(out);
                    }
                    200
                }
            }
        }
    }

    unsafe extern "C" fn add(
        userdata: *mut c_void,
        params: *const omadm_csp_params,
        _: *mut omadm_csp_out,
    ) -> u32 {
        // SAFETY: called as a callback.
        let (host, params, path) = unsafe { open(userdata, params) };
        let value = (!params.interior).then(|| {
            // SAFETY: data lent for the call.
            unsafe { bytes(params.data.data, params.data.len) }
                .unwrap()
                .to_vec()
        });
        host.nodes.insert(path.to_owned(), value);
        200
    }

    unsafe extern "C" fn replace(
        userdata: *mut c_void,
        params: *const omadm_csp_params,
        _: *mut omadm_csp_out,
    ) -> u32 {
        // SAFETY: called as a callback.
        let (host, params, path) = unsafe { open(userdata, params) };
        // SAFETY: data lent for the call.
        let data = unsafe { bytes(params.data.data, params.data.len) }.unwrap();
        match host.nodes.get_mut(path) {
            Some(Some(v)) => {
                v.clear();
                v.extend_from_slice(data);
                200
            }
            _ => 405,
        }
    }

    unsafe extern "C" fn delete_node(
        userdata: *mut c_void,
        params: *const omadm_csp_params,
        _: *mut omadm_csp_out,
    ) -> u32 {
        // SAFETY: called as a callback.
        let (host, _, path) = unsafe { open(userdata, params) };
        match host.nodes.remove(path) {
            Some(_) => 200,
            None => 404,
        }
    }

    /// A native CSP at `./Vendor/host` over `host`.
    fn native(host: &mut Host) -> NativeCsp {
        host.nodes.insert("./Vendor/host".into(), None);
        let callbacks = omadm_csp_callbacks {
            struct_size: std::mem::size_of::<omadm_csp_callbacks>(),
            get: Some(get),
            child_names: None,
            add: Some(add),
            replace: Some(replace),
            delete_node: Some(delete_node),
            copy: None,
            exec: None,
            get_property: None,
            set_property: None,
            begin: None,
            commit: None,
            rollback: None,
        };
        NativeCsp::new(
            "./Vendor/host",
            callbacks,
            ForeignData::new(std::ptr::from_mut(host).cast(), None),
        )
    }

    /// A Manager with [`native`] mounted, whose mount point lets any server do anything.
    fn manager(host: &mut Host) -> Manager {
        let csp = native(host);
        let mut m = Manager::open(Box::new(MemoryStorage::new()), Config::default()).unwrap();
        m.mount("./Vendor/host", Box::new(csp), roles::MANAGER)
            .unwrap();
        m.set_mount_acl("./Vendor/host", "Add=*&Get=*&Replace=*&Delete=*")
            .unwrap();
        m
    }

    fn new_host() -> Host {
        Host {
            nodes: BTreeMap::new(),
            views_terminated: true,
            server_ids: Vec::new(),
        }
    }

    #[test]
    fn what_a_node_is_is_checked_as_its_value_is_without_copying_it() {
        let mut host = new_host();
        for (name, value) in [("leaf", Some(b"v".to_vec())), ("dir", None)] {
            host.nodes.insert(format!("./Vendor/host/{name}"), value);
        }
        for name in ["bad", "secret"] {
            host.nodes
                .insert(format!("./Vendor/host/{name}"), Some(b"v".to_vec()));
        }
        let mut csp = native(&mut host);
        assert_eq!(csp.is_interior("./Vendor/host/leaf"), Ok(false));
        assert_eq!(csp.is_interior("./Vendor/host/dir"), Ok(true));
        assert_eq!(
            csp.is_interior("./Vendor/host/none"),
            Err(CspError::NotFound)
        );
        // A malformed answer fails whatever was asked.
        assert_eq!(
            csp.is_interior("./Vendor/host/bad").unwrap_err().status(),
            500
        );
        assert_eq!(csp.node("./Vendor/host/bad").unwrap_err().status(), 500);
        assert!(!csp.readable("./Vendor/host/bad"));
        assert!(csp.readable("./Vendor/host/leaf"));
        assert!(!csp.readable("./Vendor/host/secret"));
        assert_eq!(csp.is_interior("./Vendor/host/secret"), Ok(false));
        // The value itself when asked for.
        match csp.node("./Vendor/host/leaf") {
            Ok(CspNode::Leaf(v)) => assert_eq!(&*v.data, b"v"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_get_asks_the_host_once_and_returns_a_value_by_the_flag_that_came_with_it() {
        let mut host = new_host();
        host.nodes
            .insert("./Vendor/host/a".into(), Some(b"v".to_vec()));
        host.nodes
            .insert("./Vendor/host/secret".into(), Some(b"pin".to_vec()));
        let mut m = manager(&mut host);
        let dm = Principal::server("dm1", roles::MANAGER);
        let before = gets();
        let mut values = Vec::new();
        m.get_each(&dm, "./Vendor/host/a", |r| values.push(r.data))
            .unwrap();
        assert_eq!(values, [Some(b"v".to_vec())]);
        assert_eq!(gets() - before, 1, "one get for the node and its flag");
        let before = gets();
        let refused = m.get_each(&dm, "./Vendor/host/secret", |_| {}).unwrap_err();
        assert_eq!(refused.status, 405);
        assert_eq!(gets() - before, 1);
    }

    #[test]
    fn the_flag_read_with_a_node_serves_only_the_next_readable_of_that_node() {
        let mut host = new_host();
        for name in ["a", "b"] {
            host.nodes
                .insert(format!("./Vendor/host/{name}"), Some(b"v".to_vec()));
        }
        host.nodes
            .insert("./Vendor/host/secret".into(), Some(b"v".to_vec()));
        let mut csp = native(&mut host);
        let dm = Caller {
            server_id: Some("dm1"),
            roles: 1,
        };
        let asks = |csp: &mut NativeCsp, before: &mut dyn FnMut(&mut NativeCsp), path: &str| {
            csp.node("./Vendor/host/a").unwrap();
            before(csp);
            let n = gets();
            let readable = csp.readable(path);
            (readable, gets() - n)
        };
        csp.set_caller(&dm);
        // Right after the node: no second get.
        assert_eq!(asks(&mut csp, &mut |_| {}, "./Vendor/host/a"), (true, 0));
        // Another node, or the same one after a change, a second readable, another caller:
        // the host is asked.
        assert_eq!(asks(&mut csp, &mut |_| {}, "./Vendor/host/b"), (true, 1));
        let replace =
            &mut |c: &mut NativeCsp| c.replace("./Vendor/host/a", &LeafValue::text("w")).unwrap();
        assert_eq!(asks(&mut csp, replace, "./Vendor/host/a"), (true, 1));
        let read_again = &mut |c: &mut NativeCsp| assert!(c.readable("./Vendor/host/a"));
        assert_eq!(asks(&mut csp, read_again, "./Vendor/host/a"), (true, 1));
        let other = &mut |c: &mut NativeCsp| {
            c.set_caller(&Caller {
                server_id: Some("dm2"),
                roles: 1,
            })
        };
        assert_eq!(asks(&mut csp, other, "./Vendor/host/a"), (true, 1));
        // A property read in between (the ACL check) keeps the flag.
        let property = &mut |c: &mut NativeCsp| {
            let _ = c.get_property("./Vendor/host/a", "ACL");
        };
        assert_eq!(asks(&mut csp, property, "./Vendor/host/a"), (true, 0));
        // A write-only node's flag, from the node read.
        csp.node("./Vendor/host/secret").unwrap();
        let n = gets();
        assert!(!csp.readable("./Vendor/host/secret"));
        assert_eq!(gets(), n);
    }

    #[test]
    fn every_view_lent_ends_with_a_nul_and_names_the_caller() {
        let mut host = new_host();
        let mut m = manager(&mut host);
        let (a, b) = (Principal::server("dm1", 1), Principal::server("dm\0x2", 1));
        let leaf = |s: &'static str| NewNode::Leaf(LeafValue::text(s));
        m.add(&a, "./Vendor/host/x", leaf("1")).unwrap();
        m.add(&b, "./Vendor/host/y", leaf("2")).unwrap();
        m.replace(&a, "./Vendor/host/x", LeafValue::text("3"))
            .unwrap();
        m.delete(&b, "./Vendor/host/y").unwrap();
        drop(m);
        assert!(host.views_terminated);
        // A ServerID holding a NUL is lent up to it, as C reads it.
        assert_eq!(host.server_ids, ["dm1", "dm", "dm1", "dm"]);
        assert_eq!(
            host.nodes.get("./Vendor/host/x"),
            Some(&Some(b"3".to_vec()))
        );
        assert!(!host.nodes.contains_key("./Vendor/host/y"));
    }

    #[test]
    fn a_native_csp_without_a_property_callback_is_not_asked_for_properties() {
        // Server `a` may read the CSP's nodes (the mount point's ACL), `b` may not.
        let answers = |csp: NativeCsp| {
            let mut m = Manager::open(Box::new(MemoryStorage::new()), Config::default()).unwrap();
            m.mount("./Vendor/host", Box::new(csp), roles::MANAGER)
                .unwrap();
            m.set_mount_acl("./Vendor/host", "Get=a").unwrap();
            let before = PROPERTY_READS.with(Cell::get);
            let statuses: Vec<Option<u16>> = ["a", "b"]
                .into_iter()
                .flat_map(|server| {
                    let who = Principal::server(server, roles::MANAGER);
                    ["./Vendor/host/dir/leaf", "./Vendor/host/dir?prop=Title"]
                        .map(|target| m.get(&who, target).err().map(|e| e.status))
                })
                .collect();
            (statuses, PROPERTY_READS.with(Cell::get) - before)
        };
        // A host each (a CSP holds its host as the userdata pointer).
        let [mut host, mut other] = [new_host(), new_host()].map(|mut host| {
            host.nodes.insert("./Vendor/host/dir".into(), None);
            host.nodes
                .insert("./Vendor/host/dir/leaf".into(), Some(b"v".to_vec()));
            host
        });
        let without = native(&mut host);
        assert!(!without.keeps_properties());
        let mut with = native(&mut other);
        with.callbacks.get_property = Some(no_property);
        assert!(with.keeps_properties());
        let (asked, reads) = answers(with);
        let (not_asked, no_reads) = answers(without);
        assert_eq!(asked, not_asked);
        assert_eq!(asked, [None, None, Some(425), Some(425)]);
        // With the callback the host is asked at each level of every check, and for the
        // Title; without it never.
        assert!(reads >= 6, "{reads}");
        assert_eq!(no_reads, 0);
    }

    #[test]
    fn a_server_command_on_a_native_csp_allocates_little() {
        let mut host = new_host();
        let mut m = manager(&mut host);
        let dm = Principal::server("dm1", roles::MANAGER);
        let leaf = NewNode::Leaf(LeafValue::text("1"));
        // The first commands set up what the adapter and the Manager keep.
        m.add(&dm, "./Vendor/host/warm", leaf.clone()).unwrap();
        m.get_each(&dm, "./Vendor/host/warm", |_| {}).unwrap();
        let add = allocations_in(|| m.add(&dm, "./Vendor/host/a", leaf.clone()).unwrap());
        let replace = allocations_in(|| {
            m.replace(&dm, "./Vendor/host/a", LeafValue::text("2"))
                .unwrap()
        });
        let get = allocations_in(|| {
            m.get_each(&dm, "./Vendor/host/a", |_| {}).unwrap();
        });
        let delete = allocations_in(|| m.delete(&dm, "./Vendor/host/a").unwrap());
        drop(m);
        eprintln!("allocations: add {add}, replace {replace}, get {get}, delete {delete}");
        // The round trips to the host (four or five a command: what is there, the ACL, the
        // change) allocate nothing. What is counted: the value the test makes (Add, Replace),
        // the path and value the host keeps (Add), the value a Get copies out. Before the
        // adapter kept its views, a command took 23 to 34.
        assert!(add <= 1 + 2, "add {add}");
        assert!(replace <= 1, "replace {replace}");
        assert!(get <= 1, "get {get}");
        assert_eq!(delete, 0);
    }
}
