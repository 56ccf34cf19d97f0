//! Byte and text views across the boundary: `omadm_str` and `omadm_bytes` (pointer and
//! length, `(NULL, 0)` empty), and the checks that turn them into Rust slices.

use std::ffi::{c_char, CString};

use crate::result::omadm_result;

/// A text view: UTF-8, not necessarily NUL-terminated when the caller gives it. Views the
/// library gives out are NUL-terminated (`data[len] == 0`) and live as long as the call or
/// callback they are passed to. `(NULL, 0)` is the empty string.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct omadm_str {
    /// The first byte, or NULL when `len` is 0.
    pub data: *const c_char,
    /// Length in bytes, without a terminating NUL.
    pub len: usize,
}

/// A byte view. `(NULL, 0)` is the empty slice.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct omadm_bytes {
    /// The first byte, or NULL when `len` is 0.
    pub data: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl omadm_str {
    /// The empty view.
    pub(crate) const EMPTY: omadm_str = omadm_str {
        data: std::ptr::null(),
        len: 0,
    };

    /// A view of `text_and_nul` without its last byte, a NUL (the text must outlive the
    /// use of the view).
    pub(crate) fn lent(text_and_nul: &[u8]) -> omadm_str {
        debug_assert_eq!(text_and_nul.last(), Some(&0));
        omadm_str {
            data: text_and_nul.as_ptr().cast(),
            len: text_and_nul.len().saturating_sub(1),
        }
    }

    /// A view of `s` (which must outlive the use of the view).
    pub(crate) fn of(s: &CString) -> omadm_str {
        omadm_str {
            data: s.as_ptr(),
            len: s.as_bytes().len(),
        }
    }
}

impl omadm_bytes {
    /// A view of `b` (which must outlive the use of the view).
    pub(crate) fn of(b: &[u8]) -> omadm_bytes {
        omadm_bytes {
            data: if b.is_empty() {
                std::ptr::null()
            } else {
                b.as_ptr()
            },
            len: b.len(),
        }
    }
}

/// The slice `(ptr, len)`: empty for `(NULL, 0)`, an error for `(NULL, n > 0)` or a length
/// no object can have.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable bytes that stay valid and unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], omadm_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(omadm_result::NullParameter);
    }
    if len > isize::MAX as usize {
        return Err(omadm_result::InvalidArgument);
    }
    // SAFETY: non-NULL, length checked against isize::MAX, readability is the caller's
    // contract (documented on every function taking bytes).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The UTF-8 text `(ptr, len)`.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, omadm_result> {
    // SAFETY: same contract as ours.
    let b = unsafe { bytes(ptr.cast(), len) }?;
    std::str::from_utf8(b).map_err(|_| omadm_result::InvalidArgument)
}

/// The UTF-8 text of a view.
///
/// # Safety
/// As [`bytes`], for `s.data` and `s.len`.
pub(crate) unsafe fn view<'a>(s: omadm_str) -> Result<&'a str, omadm_result> {
    // SAFETY: same contract as ours.
    unsafe { text(s.data, s.len) }
}

/// A NUL-terminated copy of `s` for handing out; text with an inner NUL is cut there (paths
/// and names the tree accepts never hold one).
pub(crate) fn c_string(s: &str) -> CString {
    let end = s.find('\0').unwrap_or(s.len());
    CString::new(&s[..end]).expect("no NUL before end")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_zero_is_empty_and_null_with_a_length_is_refused() {
        // SAFETY: (NULL, 0) and (NULL, 3) are both checked before any read.
        unsafe {
            assert_eq!(bytes(std::ptr::null(), 0).unwrap(), b"");
            assert_eq!(bytes(std::ptr::null(), 3), Err(omadm_result::NullParameter));
        }
    }

    #[test]
    fn text_must_be_utf8() {
        let bad = [0xffu8, 0xfe];
        // SAFETY: bad is two readable bytes.
        let r = unsafe { text(bad.as_ptr().cast(), 2) };
        assert_eq!(r, Err(omadm_result::InvalidArgument));
    }
}
