//! `omadm`: the command-line face of the stack.
//!
//! Subcommands: `demo` (the 13-step session on loopback), `agent` (the device agent),
//! `session` (one client-initiated session now), `account` (DM accounts), `tree` (what a
//! device holds, offline), `server` (the reference DM server), `notify` (a DM notification or
//! bootstrap to an agent's push port), `push build` (push PDUs for a bearer), `trace` (a
//! recorded session as XML), `convert` (XML ⇄ WBXML), `decode` (SyncML, package #0, SMS, WSP,
//! provisioning), `respond` (a device's answers to server messages) and `bench`. Exit status:
//! 0 on success, 1 when the input cannot be read or decoded or the command fails (the
//! reason, escaped, on stderr), 2 on a usage error; `session` and `agent --once` say how the
//! session ended (see `omadm session --help`).

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

/// `println!` for long-running commands (`server`, `agent`): a closed stdout is ignored, the
/// process goes on (what it prints is a courtesy; its records and state are on disk).
macro_rules! sayln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}

mod account_cmd;
mod agent_cmd;
mod agent_setup;
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
mod outcome;
mod push_cmd;
mod respond;
mod server_cmd;
mod session_cmd;
mod trace_cmd;
mod tree_cmd;

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
    /// The device agent: push port, sessions, pending alerts, firmware updates.
    Agent(agent_cmd::AgentArgs),
    /// One client-initiated session (Alert 1201) with a server, now; the exit status says
    /// how it ended.
    Session(session_cmd::SessionArgs),
    /// The device's DM accounts: add, set, list, show, remove.
    #[command(subcommand)]
    Account(account_cmd::AccountCommand),
    /// What a device holds, read offline from its state directory (secrets not shown).
    #[command(subcommand)]
    Tree(tree_cmd::TreeCommand),
    /// The reference DM server over HTTPS.
    Server(server_cmd::ServerArgs),
    /// Sends a DM notification or a bootstrap to an agent's UDP push port.
    Notify(notify_cmd::NotifyArgs),
    /// Builds push PDUs (DM notifications, bootstraps) for a bearer.
    #[command(subcommand)]
    Push(push_cmd::PushCommand),
    /// Pretty-prints a recorded session, message by message, as SyncML XML.
    Trace(trace_cmd::TraceArgs),
    /// Converts a SyncML DM message between XML and WBXML, writing the bytes to stdout.
    Convert(convert::ConvertArgs),
    /// Decodes a SyncML DM message, a package #0, an SMS, a WSP push or a provisioning
    /// document, and prints it.
    Decode(decode::DecodeArgs),
    /// Plays a device against server messages and prints what it answers.
    Respond(respond::RespondArgs),
    /// Measures a part of the stack.
    #[command(subcommand)]
    Bench(bench::BenchTarget),
}

fn main() {
    let cli = Cli::parse();
    let result: Result<(), outcome::Failure> = match cli.command {
        Command::Demo(args) => demo::run(args).map_err(Into::into),
        Command::Agent(args) => agent_cmd::run(args),
        Command::Session(args) => session_cmd::run(args),
        Command::Account(command) => account_cmd::run(command).map_err(Into::into),
        Command::Tree(command) => tree_cmd::run(command).map_err(Into::into),
        Command::Server(args) => server_cmd::run(args).map_err(Into::into),
        Command::Notify(args) => notify_cmd::run(args).map_err(Into::into),
        Command::Convert(args) => convert::run(args).map_err(Into::into),
        Command::Decode(args) => decode::run(args).map_err(Into::into),
        Command::Respond(args) => respond::run(args).map_err(Into::into),
        Command::Trace(args) => trace_cmd::run(args).map_err(Into::into),
        Command::Bench(target) => bench::run(target).map_err(Into::into),
        Command::Push(command) => push_cmd::run(command).map_err(Into::into),
    };
    if let Err(failure) = result {
        // Errors may echo input: one printable line, whatever that input held.
        eprintln!(
            "omadm: {}",
            omadm_syncml::printable(&failure.message)
                .limit(2048)
                .plain_backslashes()
        );
        std::process::exit(failure.code);
    }
}
