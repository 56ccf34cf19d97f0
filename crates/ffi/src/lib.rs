//! `omadm-ffi`: the C ABI of omadm. Every `extern "C"` function of `libomadm` is here, with
//! its argument checks and the panic boundary; the protocol lives in the other crates, this
//! crate only moves bytes and handles between C and them. `include/omadm.h` is generated from
//! this crate by cbindgen (see `tests/header.rs`), and `crates/capi` builds the library.
//!
//! Rules every function follows (and the header repeats):
//! - functions are `omadm_<object>_<verb>`, types `omadm_<object>`, constants `OMADM_*`;
//! - fallible functions return [`omadm_result`]; outputs are written only on success (the one
//!   exception, a buffer too small, is documented where it happens);
//! - bytes come in as `(pointer, length)`, and `(NULL, 0)` is an empty slice; every pointer is
//!   checked, a NULL where one is needed gives `OMADM_RESULT_NULL_PARAMETER`;
//! - a panic never crosses the boundary: it becomes `OMADM_RESULT_PANIC` and the handle is
//!   poisoned (every later call on it answers `OMADM_RESULT_POISONED`);
//! - callbacks take `userdata` first and a parameters struct that can grow; they run on the
//!   thread that called `omadm_agent_process` or `omadm_agent_run` (the "agent thread").
//!
//! # Threads and re-entrance
//! An `omadm_agent` may be used from several threads. Functions that change the agent's state
//! (`process`, `run`, tree access, CSP and push-handler registration, generic alerts) take
//! the agent's lock; while a session runs they wait for it to end. The radio-facing
//! functions (`omadm_agent_push_*`, `omadm_agent_provide_pin`, `omadm_agent_request_session`),
//! `omadm_agent_ui_answer` and `omadm_agent_stop` never wait for a session: they queue their
//! input and return. Callbacks run with the lock held by the agent thread, so from a callback
//! only these queueing functions, `omadm_agent_unregister_csp`, `omadm_version` and
//! `omadm_result_str` may be called; any other function on the same agent returns
//! `OMADM_RESULT_REENTRANT` instead of deadlocking.

#![allow(non_camel_case_types)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod account;
mod agent;
mod boundary;
mod config;
mod csp;
mod event;
mod firmware;
mod growable;
mod inbox;
mod log_sink;
mod push;
mod result;
mod roles;
mod session;
mod strings;
mod tree;
mod ui;
mod userdata;

pub use account::*;
pub use agent::*;
pub use config::*;
pub use csp::*;
pub use event::*;
pub use firmware::*;
pub use log_sink::*;
pub use push::*;
pub use result::*;
pub use roles::*;
pub use session::*;
pub use strings::*;
pub use tree::*;
pub use ui::*;
pub use userdata::omadm_finalizer;

use std::ffi::c_char;

/// Major version of the library this header belongs to (also in `Cargo.toml` and
/// `omadm_version()`; a test keeps the three equal).
pub const OMADM_VERSION_MAJOR: u32 = 1;
/// Minor version.
pub const OMADM_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const OMADM_VERSION_PATCH: u32 = 0;

/// The version as one number, `MAJOR << 16 | MINOR << 8 | PATCH`: what
/// `omadm_version_number()` returns, for comparing the header a program was built with to the
/// library it runs with.
pub const OMADM_VERSION_NUMBER: u32 =
    (OMADM_VERSION_MAJOR << 16) | (OMADM_VERSION_MINOR << 8) | OMADM_VERSION_PATCH;

/// The library's version, `"MAJOR.MINOR.PATCH"`: a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn omadm_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The library's version as `MAJOR << 16 | MINOR << 8 | PATCH` (see "Versions and
/// compatibility"): a program built with header version H runs with this library when the
/// majors are equal and this number is at least `OMADM_VERSION_NUMBER` of H.
#[no_mangle]
pub extern "C" fn omadm_version_number() -> u32 {
    OMADM_VERSION_NUMBER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_cargo_toml() {
        let v = format!("{OMADM_VERSION_MAJOR}.{OMADM_VERSION_MINOR}.{OMADM_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        // SAFETY: omadm_version returns a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(omadm_version()) };
        assert_eq!(s.to_str().unwrap(), v);
    }
}
