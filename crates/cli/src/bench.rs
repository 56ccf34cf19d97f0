//! `omadm bench dpu MESSAGE`: one server message in, one client message out, timed; and
//! `omadm bench session` (see [`crate::bench_session`]).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use omadm_syncml::Encoding;

use crate::{device, respond};

/// What to benchmark.
#[derive(Subcommand)]
pub enum BenchTarget {
    /// The session engine: a fresh device handles MESSAGE (a server message) and builds its
    /// reply, with in-memory CSPs; setup is not timed.
    Dpu(DpuArgs),
    /// Whole sessions on loopback TLS with the reference server in a child process.
    Session(crate::bench_session::SessionArgs),
}

/// Arguments of `bench dpu`.
#[derive(Args)]
pub struct DpuArgs {
    /// The server message (XML or WBXML).
    message: PathBuf,
    /// Iterations to time (after 10% as warm-up).
    #[arg(long, default_value_t = 1000)]
    iterations: u32,
    /// Encoding of the reply.
    #[arg(long, value_enum, default_value = "xml")]
    encoding: respond::Enc,
    /// In-memory CSPs to mount (default: ./Vendor/memory).
    #[arg(long = "memory-csp")]
    memory_csp: Vec<String>,
    /// Executable nodes (default: ./test/execute).
    #[arg(long = "exec-node")]
    exec_node: Vec<String>,
    /// The MaxMsgSize the device announces (default: the session engine's, 64 KiB); a
    /// larger server message is refused unread, as on a device.
    #[arg(long = "max-msg-size")]
    max_msg_size: Option<u64>,
}

/// Runs `bench`.
pub fn run(target: BenchTarget) -> Result<(), String> {
    match target {
        BenchTarget::Dpu(args) => dpu(args),
        BenchTarget::Session(args) => crate::bench_session::run(args),
    }
}

fn dpu(args: DpuArgs) -> Result<(), String> {
    let message =
        std::fs::read(&args.message).map_err(|e| format!("{}: {e}", args.message.display()))?;
    let encoding = match args.encoding {
        respond::Enc::Xml => Encoding::Xml,
        respond::Enc::Wbxml => Encoding::Wbxml,
    };
    let csps = if args.memory_csp.is_empty() {
        vec!["./Vendor/memory".to_owned()]
    } else {
        args.memory_csp
    };
    let execs = if args.exec_node.is_empty() {
        vec!["./test/execute".to_owned()]
    } else {
        args.exec_node
    };
    let warmup = (args.iterations / 10).max(1);
    let mut samples = Vec::with_capacity(args.iterations as usize);
    let mut reply_len = 0;
    for i in 0..warmup + args.iterations.max(1) {
        let mut cm = device::build(&csps, &execs)?;
        let mut session =
            respond::build_session(&message, encoding, None, None, None, args.max_msg_size)?;
        session.start();
        let start = Instant::now();
        let reply = session
            .handle(&mut cm, &message)
            .map_err(|e| e.to_string())?;
        let elapsed = start.elapsed();
        reply_len = reply.map(|r| r.body.len()).unwrap_or(0);
        if i >= warmup {
            samples.push(elapsed);
        }
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    let mean: Duration = samples.iter().sum::<Duration>() / samples.len() as u32;
    outln!(
        "message: {} ({} octets in, {} octets out)",
        args.message.display(),
        message.len(),
        reply_len
    );
    outln!("iterations: {}", samples.len());
    outln!(
        "mean: {:?}  p50: {:?}  p99: {:?}  min: {:?}",
        mean,
        pct(0.5),
        pct(0.99),
        samples[0]
    );
    Ok(())
}
