//! The `libomadm` artifact: one static library and one shared library a C program links.
//! Everything is in `omadm-ffi`; this crate exists so that a final link holds exactly one
//! Rust standard library (two Rust static libraries in one binary clash). See
//! `include/omadm.h` for the API.

pub use omadm_ffi::*;
