//! `omadm-transport`: the OMA DM HTTP binding (OMA-TS-SyncML_HTTPBinding-V1_2) as the device's
//! client uses it: one POST per SyncML message over HTTP/1.1 and TLS 1.2+ (the system
//! OpenSSL), with certificate and host-name verification against configured trust anchors
//! (and the system store unless disabled), an optional client certificate, keep-alive,
//! connect/read/write timeouts, Content-Length and chunked bodies, and
//! the `x-syncml-hmac` header both ways. Plain `http://` is refused unless the SSL policy is
//! off. [`retry`] holds the backoff rules the agent applies. [`Client::download`] streams a
//! large file by GET with `Range` resumption (the FUMO alternative download).
//!
//! This is the one crate below the agent that does I/O; the agent owns when it runs.

mod client;
mod download;
mod error;
mod http;
pub mod retry;
pub mod tls;
mod url;

pub use client::{Client, ClientConfig, Request, Response};
pub use download::{sha256_file, Body, Download};
pub use error::TransportError;
pub use url::Url;
