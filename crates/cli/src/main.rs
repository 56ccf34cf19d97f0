//! `omadm`: the command-line face of the stack.
//!
//! Subcommands: `demo` (the 13-step session on loopback), `agent`, `server`, `notify`, `trace` (a recorded session as
//! XML), `convert` (XML ⇄ WBXML), `decode` (SyncML messages and package #0
//! notifications, as text or JSON), `respond` (a device's answers to server messages) and
//! `bench dpu`. Exit status: 0 on success, 1 when the input cannot be
//! read or decoded (the error, with its byte offset, goes to stderr), 2 on a usage error.

/// `println!` that ends the process quietly when stdout is a closed pipe (`omadm ... | head`)
/// instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("omadm: stdout: {e}");
            std::process::exit(1);
        }
    }};
}

mod agent_cmd;
mod bench;
mod bench_session;
mod convert;
mod decode;
mod demo;
mod demo_fumo;
mod device;
mod input;
mod json;
mod logger;
mod notify_cmd;
mod push_cmd;
mod respond;
mod server_cmd;
mod trace_cmd;

use clap::{Parser, Subcommand};

/// OMA DM 1.2 device stack tools.
#[derive(Parser)]
#[command(name = "omadm", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The 13-step reference session end to end on loopback (embedded configuration).
    Demo(demo::DemoArgs),
    /// Convert a SyncML DM message between XML and WBXML, writing the bytes to stdout.
    Convert(convert::ConvertArgs),
    /// Decode a SyncML DM message or a package #0 notification and print it.
    Decode(decode::DecodeArgs),
    /// Play a device against server messages and print what it answers.
    Respond(respond::RespondArgs),
    /// Build push PDUs (DM notifications) for a bearer.
    /// The device agent: push port, sessions, pending alerts.
    Agent(agent_cmd::AgentArgs),
    /// The reference DM server over HTTPS.
    Server(server_cmd::ServerArgs),
    /// Sends a DM notification or a bootstrap to an agent's UDP push port.
    Notify(notify_cmd::NotifyArgs),
    /// Pretty-prints a recorded session, message by message, as SyncML XML.
    Trace(trace_cmd::TraceArgs),
    #[command(subcommand)]
    Push(push_cmd::PushCommand),
    /// Measure a part of the stack.
    #[command(subcommand)]
    Bench(bench::BenchTarget),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Agent(args) => agent_cmd::run(args),
        Command::Server(args) => server_cmd::run(args),
        Command::Notify(args) => notify_cmd::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Respond(args) => respond::run(args),
        Command::Trace(args) => trace_cmd::run(args),
        Command::Bench(target) => bench::run(target),
        Command::Push(command) => push_cmd::run(command),
    };
    if let Err(message) = result {
        // Errors may echo input: one printable line, whatever that input held.
        eprintln!(
            "omadm: {}",
            omadm_syncml::printable(&message)
                .limit(2048)
                .plain_backslashes()
        );
        std::process::exit(1);
    }
}
