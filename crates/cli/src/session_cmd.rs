//! `omadm session`: one client-initiated session (Alert 1201) with a server, now.
//!
//! ```text
//! omadm session --state DIR --server-id ID [--once] [--config FILE] [--trust CERT.pem]...
//!               [--no-system-store] [--client-cert FILE --client-key FILE]
//!               [--allow-plain-http] [--max-msg-size N] [--trace FILE]
//! ```
//! It carries the alerts pending for that server, prints one line for the session, and exits
//! with the status of [`crate::outcome`] (0 when it completed) and, when it did not, a
//! one-line reason on stderr. With `--once` nothing is retried; without, network failures
//! are retried as the account's ConnRetryFreq and backoff say.

use std::path::PathBuf;

use clap::Args;

use crate::agent_setup::{file_config, open_agent, DeviceOptions};
use crate::outcome::Failure;

/// Arguments of `omadm session`.
#[derive(Args)]
#[command(
    after_help = "Exit status: 0 completed, 1 error before the session (state \\
directory locked or unreadable, bad value), 2 usage, 3 aborted by the server, 4 the server \\
did not authenticate itself, 5 the server refused the device's credentials, 6 protocol \\
error, 7 no account for this ServerID, 8 TLS failure, 9 network failure, 10 HTTP error \\
status, 11 bad URL or plain HTTP refused, 12 client certificate unusable, 13 storage \\
failure."
)]
pub struct SessionArgs {
    #[command(flatten)]
    device: DeviceOptions,
    /// The server (the account's ServerID).
    #[arg(long = "server-id")]
    server_id: String,
    /// Record the session's messages to this trace file.
    #[arg(long)]
    trace: Option<PathBuf>,
}

/// Runs one session.
pub fn run(a: SessionArgs) -> Result<(), Failure> {
    crate::logger::init();
    let file = file_config(&a.device)?;
    let device = a.device.merged(&file);
    let mut agent = open_agent(&device, file.known_ppg.clone())?;
    if let Some(path) = a.trace.clone().or_else(|| file.trace.clone()) {
        crate::agent_setup::set_trace(&mut agent, &path)?;
    }
    let event = agent.start_session(&a.server_id);
    outln!("{}", crate::agent_cmd::describe(&event));
    crate::outcome::of_session(&event)
}
