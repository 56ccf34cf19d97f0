//! Free space on the file system holding a directory (`statvfs`), for the firmware
//! download's space check. The one place in the agent that calls libc directly.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Bytes available to an unprivileged writer in `dir`'s file system, or `None` when it
/// cannot be asked.
pub(crate) fn available(dir: &Path) -> Option<u64> {
    let path = CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a valid NUL-terminated string and `st` points to writable memory of
    // the right type; statvfs writes it fully when it returns 0.
    let rc = unsafe { libc::statvfs(path.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    // The field types differ between platforms (u32 on some 32-bit libcs).
    #[allow(clippy::unnecessary_cast)]
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_temp_dir_has_some_space_and_a_missing_dir_has_none() {
        assert!(super::available(&std::env::temp_dir()).is_some_and(|n| n > 0));
        assert_eq!(
            super::available(std::path::Path::new("/no/such/dir/omadm")),
            None
        );
    }
}
