//! The `libomadm` artifact: the static library a C program links (CMake links the shared
//! library from it, see `CMakeLists.txt`).
//! Everything is in `omadm-ffi`; this crate exists so that a final link holds exactly one
//! Rust standard library (two Rust static libraries in one binary clash). See
//! `include/omadm.h` for the API.

pub use omadm_ffi::*;
