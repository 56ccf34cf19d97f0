//! Firmware updates (FUMO) from C: the platform's installer as callbacks. omadm downloads,
//! checks and keeps the package; the callbacks install it and tell the result, also after the
//! reboot that installs it (the agent is opened again on the same state directory).

use std::ffi::c_void;
use std::path::Path;

use omadm_csp::fumo::{FirmwareUpdater, InstallOutcome, PackageInfo};

use crate::growable::Growable;
use crate::strings::{c_string, omadm_str};
use crate::userdata::ForeignData;

/// What `install` and `install_result` return while the result is not known yet (installing,
/// or the device reboots to install).
pub const OMADM_FIRMWARE_PENDING: u32 = 0;

/// The package concerned; valid during the callback only.
#[repr(C)]
pub struct omadm_firmware_package {
    /// omadm's `sizeof` of this struct (fields may be added at the end).
    pub struct_size: usize,
    /// `<x>`, the FUMO package node's name.
    pub id: omadm_str,
    /// PkgName.
    pub name: omadm_str,
    /// PkgVersion.
    pub version: omadm_str,
    /// Where it was downloaded from (empty for a package delivered in the session).
    pub url: omadm_str,
}

/// The platform's installer. `install` is required; the others may be NULL. Initialise with
/// `OMADM_FIRMWARE_CALLBACKS_INIT` (it sets `struct_size`). The callbacks must not unwind
/// (no C++ exception or `longjmp` may leave them).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct omadm_firmware_callbacks {
    /// `sizeof(omadm_firmware_callbacks)` as the host compiled it.
    pub struct_size: usize,
    /// Installs the image at `image_path` (a file omadm keeps until the result is known).
    /// Returns a FUMO result code (200 success, 250–299 vendor success, 400–599 failure; see
    /// the FUMO result codes), or `OMADM_FIRMWARE_PENDING` when the result comes later (the
    /// device reboots): omadm then asks `install_result` after every restart. Any other value
    /// is reported as 410 (update failed).
    pub install: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            package: *const omadm_firmware_package,
            image_path: omadm_str,
        ) -> u32,
    >,
    /// The result of a pending install: a FUMO result code, or `OMADM_FIRMWARE_PENDING`
    /// while still unknown. NULL: the install is reported as failed (410) after a restart.
    pub install_result: Option<
        unsafe extern "C" fn(userdata: *mut c_void, package: *const omadm_firmware_package) -> u32,
    >,
    /// Bytes free for the package in `dir`; returns false to let omadm ask the file system.
    pub available_space: Option<
        unsafe extern "C" fn(userdata: *mut c_void, dir: omadm_str, out_bytes: *mut u64) -> bool,
    >,
    /// Download progress: `done` bytes of `total` (0 when unknown).
    pub progress: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            package: *const omadm_firmware_package,
            done: u64,
            total: u64,
        ),
    >,
}

// SAFETY: repr(C), starts with struct_size, and all-zero means NULL callbacks.
unsafe impl Growable for omadm_firmware_callbacks {
    const MIN_SIZE: usize = std::mem::offset_of!(omadm_firmware_callbacks, install_result);
}

/// The host's callbacks and userdata, shared by the configuration and the agents opened with
/// it; the finalizer runs when the last of them is freed.
pub(crate) struct FirmwareHost {
    pub(crate) callbacks: omadm_firmware_callbacks,
    pub(crate) owner: ForeignData,
}

// SAFETY: the header states the firmware callbacks are used from the agent thread; they are
// only called through an agent, which the host drives from one thread at a time. The callback
// pointers are never mutated after creation.
unsafe impl Send for FirmwareHost {}
// SAFETY: as above.
unsafe impl Sync for FirmwareHost {}

impl FirmwareHost {
    fn userdata(&self) -> *mut c_void {
        self.owner.data
    }
}

/// The callbacks as a [`FirmwareUpdater`].
pub(crate) struct NativeFirmware(pub(crate) std::sync::Arc<FirmwareHost>);

/// Calls `f` with a C view of `p`.
fn with_package<T>(p: &PackageInfo, f: impl FnOnce(&omadm_firmware_package) -> T) -> T {
    let (id, name, version) = (c_string(&p.id), c_string(&p.name), c_string(&p.version));
    let url = c_string(p.url.as_deref().unwrap_or(""));
    let view = omadm_firmware_package {
        struct_size: std::mem::size_of::<omadm_firmware_package>(),
        id: omadm_str::of(&id),
        name: omadm_str::of(&name),
        version: omadm_str::of(&version),
        url: omadm_str::of(&url),
    };
    f(&view)
}

fn checked(code: u32, what: &str) -> u16 {
    match u16::try_from(code) {
        Ok(c @ 200..=599) => c,
        _ => {
            log::warn!("firmware {what} returned {code}, not a FUMO result code: reported as 410");
            omadm_csp::fumo::result::UPDATE_FAILED
        }
    }
}

impl FirmwareUpdater for NativeFirmware {
    fn install(&mut self, package: &PackageInfo, image: &Path) -> InstallOutcome {
        let host = &self.0;
        let Some(install) = host.callbacks.install else {
            return InstallOutcome::Finished(omadm_csp::fumo::result::UPDATE_FAILED);
        };
        let path = c_string(&image.to_string_lossy());
        let code = with_package(package, |p| {
            // SAFETY: the host's callback and userdata; `p` and `path` live for the call.
            unsafe { install(host.userdata(), p, omadm_str::of(&path)) }
        });
        if code == OMADM_FIRMWARE_PENDING {
            InstallOutcome::Pending
        } else {
            InstallOutcome::Finished(checked(code, "install"))
        }
    }

    fn install_result(&mut self, package: &PackageInfo) -> Option<u16> {
        let host = &self.0;
        let Some(result) = host.callbacks.install_result else {
            return Some(omadm_csp::fumo::result::UPDATE_FAILED);
        };
        // SAFETY: the host's callback and userdata; `p` lives for the call.
        let code = with_package(package, |p| unsafe { result(host.userdata(), p) });
        (code != OMADM_FIRMWARE_PENDING).then(|| checked(code, "install_result"))
    }

    fn available_space(&mut self, dir: &Path) -> Option<u64> {
        let host = &self.0;
        let f = host.callbacks.available_space?;
        let d = c_string(&dir.to_string_lossy());
        let mut bytes = 0u64;
        // SAFETY: the host's callback and userdata; `d` and `bytes` live for the call.
        unsafe { f(host.userdata(), omadm_str::of(&d), &mut bytes) }.then_some(bytes)
    }

    fn progress(&mut self, package: &PackageInfo, done: u64, total: Option<u64>) {
        let host = &self.0;
        if let Some(f) = host.callbacks.progress {
            // SAFETY: the host's callback and userdata; `p` lives for the call.
            with_package(package, |p| unsafe {
                f(host.userdata(), p, done, total.unwrap_or(0))
            });
        }
    }
}
