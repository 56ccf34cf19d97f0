//! The host's `userdata` with its finalizer, in one type (as wasmtime's `ForeignData`): every
//! callback registration (CSPs, push handlers, firmware, event, UI and log callbacks,
//! transports) keeps one, shared by whoever calls back with it, and the finalizer runs
//! exactly once, when the last holder is dropped.

use std::ffi::c_void;

/// Frees a registration's `userdata`; called exactly once, after its last callback.
pub type omadm_finalizer = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// A host pointer and its finalizer.
#[derive(Debug)]
pub(crate) struct ForeignData {
    pub(crate) data: *mut c_void,
    finalizer: omadm_finalizer,
}

// SAFETY: the header states on which threads each callback and its userdata are used; omadm
// only hands the pointer back to the host's own callbacks, under that contract.
unsafe impl Send for ForeignData {}
// SAFETY: as above; the pointer itself is never written after creation.
unsafe impl Sync for ForeignData {}

impl ForeignData {
    pub(crate) fn new(data: *mut c_void, finalizer: omadm_finalizer) -> ForeignData {
        ForeignData { data, finalizer }
    }

    /// Drops the pointer without running the finalizer (a registration that failed: the
    /// host keeps ownership).
    pub(crate) fn forget(mut self) {
        self.finalizer = None;
    }
}

impl Drop for ForeignData {
    fn drop(&mut self) {
        if let Some(f) = self.finalizer.take() {
            // SAFETY: the host's finalizer for its own userdata, called once (this drop).
            unsafe { f(self.data) };
        }
    }
}
