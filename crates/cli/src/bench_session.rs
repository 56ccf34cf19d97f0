//! `omadm bench session`: whole management sessions on loopback TLS, timed.
//!
//! The reference server runs as a child process (`omadm server`, its own state directory);
//! the agent runs in this process with a durable state directory, as on a device. Each
//! session is client-initiated and has two HTTP round trips: package 1 → the standard job
//! (a Replace and a Get) → statuses and results → the server's closing message. Every session
//! opens a new TLS connection with a full handshake (the transport does not resume TLS
//! sessions yet; its OpenSSL context is built once per agent). Reported: sessions/s, p50 and
//! p99 latency, and the peak RSS (`VmHWM`) of this process (the agent and the bench harness,
//! in the `omadm` executable that also holds the server and the CLI) and of the server
//! process, with their anonymous and file-backed parts.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use omadm_agent::{Agent, AgentConfig, AgentEvent};
use omadm_cm::{roles, Config as CmConfig, LeafValue, NewNode, Principal};
use omadm_csp::{AuthCreds, DmAccount, MsExt};
use omadm_dpu::EndReason;
use omadm_push::router::RouterConfig;
use omadm_transport::ClientConfig;

/// The standard job of the session benchmark.
pub const STANDARD_JOB: &str = "Replace ./Vendor/bench/Value 42\nGet ./DevInfo/Man\n";

/// Arguments of `bench session`.
#[derive(Args)]
pub struct SessionArgs {
    /// Sessions to time (after 10% as warm-up).
    #[arg(long, default_value_t = 200)]
    sessions: u32,
    /// Message encoding: xml or wbxml.
    #[arg(long, default_value = "xml")]
    encoding: String,
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process's memory from `/proc/PID/status`: peak resident set (`VmHWM`), and the
/// current anonymous (`RssAnon`: heap, stacks) and file-backed (`RssFile`: the executable and
/// shared libraries such as libcrypto, shared with other processes) parts, in KiB.
fn memory_kib(pid: &str) -> Option<(u64, u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmHWM:")?, field("RssAnon:")?, field("RssFile:")?))
}

fn start_server(dir: &Path, dev_id: &str) -> Result<(Server, String), String> {
    let jobs = dir.join("jobs");
    std::fs::write(&jobs, STANDARD_JOB).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["server", "--listen", "127.0.0.1:0", "--state"])
        .arg(dir)
        .arg("--jobs")
        .arg(&jobs)
        .args(["--server-password", "bench-server-secret", "--device"])
        .arg(format!("{dev_id}=bench:bench-device-secret"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start the server: {e}"))?;
    let stdout = child.stdout.take().ok_or("server stdout")?;
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(l)) => {
                if let Some(u) = l.strip_prefix("listening on ") {
                    break u.to_owned();
                }
            }
            _ => return Err("the server did not start".into()),
        }
    };
    // Keep draining the server's record lines so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Ok((server, url))
}

/// Runs the benchmark.
pub fn run(a: SessionArgs) -> Result<(), String> {
    let content_type = crate::device::dm_content_type(&a.encoding)?;
    let base = std::env::temp_dir().join(format!("omadm-bench-session-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (srv_dir, agent_dir) = (base.join("server"), base.join("agent"));
    std::fs::create_dir_all(&srv_dir).map_err(|e| e.to_string())?;
    let result = bench(&a, content_type, &srv_dir, &agent_dir);
    let _ = std::fs::remove_dir_all(&base);
    result
}

fn bench(
    a: &SessionArgs,
    content_type: &str,
    srv_dir: &Path,
    agent_dir: &Path,
) -> Result<(), String> {
    let mut device = crate::device::device_info();
    device.dev_id = "IMEI:490154203237518".into();
    let (server, url) = start_server(srv_dir, &device.dev_id)?;
    let cert = std::fs::read(srv_dir.join("cert.pem")).map_err(|e| e.to_string())?;
    let mut agent = Agent::open(
        agent_dir,
        AgentConfig {
            device,
            detail: crate::device::device_detail(),
            router: RouterConfig::default(),
            transport: ClientConfig {
                trust_anchors: vec![cert],
                system_store: false,
                ..ClientConfig::default()
            },
            tree: CmConfig::default(),
            max_msg_size: 64 * 1024,
            fallback: omadm_agent::FallbackPolicy::default(),
        },
    )
    .map_err(|e| e.to_string())?;
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    agent
        .tree()
        .add(
            &local,
            "./Vendor/bench/Value",
            NewNode::Leaf(LeafValue::text("0")),
        )
        .map_err(|e| e.to_string())?;
    let creds = |name: &str, secret: &str| {
        Some(AuthCreds {
            auth_type: "DIGEST".into(),
            name: name.into(),
            secret: secret.into(),
            data: vec![],
        })
    };
    agent
        .accounts()
        .create(
            &DmAccount {
                server_id: "omadm-reference".into(),
                name: "bench".into(),
                addr: url.clone(),
                client: creds("bench", "bench-device-secret"),
                server: creds("omadm-reference", "bench-server-secret"),
                ext: MsExt {
                    default_encoding: content_type.into(),
                    ..MsExt::default()
                },
                ..DmAccount::default()
            },
            roles::MANAGER,
        )
        .map_err(|e| e.to_string())?;
    let warmup = (a.sessions / 10).max(1);
    let mut times = Vec::with_capacity(a.sessions as usize);
    let started = Instant::now();
    let mut timed_total = Duration::ZERO;
    for i in 0..warmup + a.sessions {
        let t = Instant::now();
        agent.request_session("omadm-reference");
        let events = agent.run_pending();
        let took = t.elapsed();
        match events.as_slice() {
            [AgentEvent::SessionEnded {
                reason: EndReason::Completed,
                messages: 2,
                ..
            }] => {}
            other => {
                return Err(format!(
                    "session {i} did not complete in two round trips: {other:?}"
                ))
            }
        }
        if i >= warmup {
            times.push(took);
            timed_total += took;
        }
    }
    let wall = started.elapsed();
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    let server_rss = memory_kib(&server.0.id().to_string());
    let agent_rss = memory_kib("self");
    drop(server);
    outln!(
        "sessions: {} timed ({warmup} warm-up), {} over TLS to {url}",
        a.sessions,
        a.encoding
    );
    outln!(
        "throughput: {:.1} sessions/s (timed sessions back to back)",
        a.sessions as f64 / timed_total.as_secs_f64()
    );
    outln!(
        "latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(times[times.len() - 1])
    );
    outln!(
        "peak RSS: agent (this process) {}, server {}",
        kib(agent_rss),
        kib(server_rss)
    );
    outln!("wall time: {:.2} s", wall.as_secs_f64());
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kib(v: Option<(u64, u64, u64)>) -> String {
    let mb = |k: u64| k as f64 / 1024.0;
    match v {
        Some((peak, anon, file)) => format!(
            "{:.1} MB (now {:.1} MB anonymous + {:.1} MB file-backed code)",
            mb(peak),
            mb(anon),
            mb(file)
        ),
        None => "unknown".into(),
    }
}
