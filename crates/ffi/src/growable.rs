//! Structs that grow: every struct the host fills in and omadm reads starts with
//! `size_t struct_size`, the host's `sizeof` of it (the `OMADM_*_INIT` macros set it). omadm
//! reads only the first `struct_size` bytes and takes every field past them as zero (NULL
//! callbacks, empty views): a binary built against an older, shorter layout keeps working
//! with a newer library, and fields are only ever added at the end. A `struct_size` below the
//! struct's first published layout (its required fields), or above 64 KiB, is refused with
//! `OMADM_RESULT_INVALID_ARGUMENT`; a larger one than this library knows (a newer header) is
//! accepted and the unknown tail ignored.
//!
//! Structs omadm fills in and hands to callbacks start with `struct_size` too (omadm's
//! `sizeof`), so that a host can tell whether a field added later is there.

use crate::result::omadm_result;

/// Largest `struct_size` accepted.
const MAX_STRUCT_SIZE: usize = 64 * 1024;

/// A `#[repr(C)]` struct that starts with `struct_size: usize` and for which all-zero bytes
/// are a valid value (NULL pointers, `None` callbacks, `false`, 0).
///
/// # Safety
/// Implementors must be `#[repr(C)]`, begin with a `usize` field, and accept all-zero bytes.
pub(crate) unsafe trait Growable: Copy {
    /// The size of the first published layout (through its last required field).
    const MIN_SIZE: usize;
}

/// Reads `*ptr` as the host laid it out (see the module documentation).
///
/// # Safety
/// A non-NULL `ptr` must point to at least `struct_size` readable bytes starting with the
/// `struct_size` field.
pub(crate) unsafe fn read<T: Growable>(ptr: *const T) -> Result<T, omadm_result> {
    if ptr.is_null() {
        return Err(omadm_result::NullParameter);
    }
    // SAFETY: non-NULL; by the contract the first field (a usize) is readable. Unaligned
    // reads are tolerated in case the host packed its copy.
    let size = unsafe { ptr.cast::<usize>().read_unaligned() };
    if !(T::MIN_SIZE..=MAX_STRUCT_SIZE).contains(&size) {
        return Err(omadm_result::InvalidArgument);
    }
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    let n = size.min(std::mem::size_of::<T>());
    // SAFETY: the host's `size` bytes are readable (contract); we copy at most our own size
    // into a zeroed T, and zero is valid for every field of T (Growable's contract).
    unsafe {
        std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), value.as_mut_ptr().cast::<u8>(), n);
        Ok(value.assume_init())
    }
}

/// Writes `value` into the host's `*ptr`, whose `struct_size` says how much of it the host
/// has (checked as [`read`] does): at most that many bytes are written, and `struct_size`
/// becomes the number written.
///
/// # Safety
/// A non-NULL `ptr` must point to at least `struct_size` writable bytes starting with the
/// `struct_size` field.
pub(crate) unsafe fn write<T: Growable>(ptr: *mut T, value: T) -> Result<(), omadm_result> {
    if ptr.is_null() {
        return Err(omadm_result::NullParameter);
    }
    // SAFETY: non-NULL; by the contract the first field (a usize) is readable.
    let size = unsafe { ptr.cast::<usize>().read_unaligned() };
    if !(T::MIN_SIZE..=MAX_STRUCT_SIZE).contains(&size) {
        return Err(omadm_result::InvalidArgument);
    }
    let n = size.min(std::mem::size_of::<T>());
    // SAFETY: the host's `size` bytes are writable (contract) and we write at most `n` of
    // them from a value of our own size; `n` fits the usize written last.
    unsafe {
        std::ptr::copy_nonoverlapping((&value as *const T).cast::<u8>(), ptr.cast::<u8>(), n);
        ptr.cast::<usize>().write_unaligned(n);
    }
    Ok(())
}
