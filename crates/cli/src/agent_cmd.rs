//! `omadm agent`: the device agent as a long-running process.
//!
//! ```text
//! omadm agent --state DIR [--config FILE] [--push-udp ADDR] [--trust CERT.pem]...
//!             [--no-system-store] [--client-cert FILE --client-key FILE]
//!             [--allow-plain-http] [--max-msg-size N] [--known-ppg ADDR]... [--pin PIN]
//!             [--trace FILE] [--once]
//!             [--alert-to ID --alert-type TYPE --alert-data DATA [--alert-source URI]]
//!             [--fumo-install PROGRAM]
//! ```
//! Decisions:
//! - `--config FILE` (TOML) holds any of these options (see [`crate::agent_setup`]); the
//!   command line wins.
//! - The device id is made once, `omadm:` and 32 random hex digits, and kept in `DIR/dev-id`
//!   (an application-specific globally unique id, as Windows devices use, not a hardware id).
//! - One agent per state directory (an OS lock on `DIR/lock`): a second one is refused at
//!   once with the holder's pid.
//! - Push input comes as UDP datagrams carrying a WSP push (`--push-udp`); the sender's IP
//!   address is its PPG address for the OTA policies (`--known-ppg` names trusted senders;
//!   provisioning from others is refused).
//! - `--pin` answers every PIN request (a headless stand-in for the user typing it).
//! - On start it re-sends pending generic alerts; `--alert-to ID --alert-type T --alert-data D`
//!   raises a new one (stored before any attempt to send it). It prints one line per event.
//!   With `--once` each session is tried once (no retries with backoff) and the agent exits
//!   after the first with the status of [`crate::outcome`] and a one-line reason. Without a
//!   push port it exits when nothing is queued.
//! - Log lines (`log` crate) go to stderr, level from `OMADM_LOG` (error|warn|info|debug,
//!   default info).
//! - `--fumo-install PROGRAM` enables FUMO at `./FwUpdate` with PROGRAM as the platform's
//!   installer: it runs as `PROGRAM IMAGE` to install, and as `PROGRAM --result` after a
//!   restart, with `OMADM_FUMO_PACKAGE`, `OMADM_FUMO_NAME`, `OMADM_FUMO_VERSION` and
//!   `OMADM_FUMO_URL` in its environment. The last line it prints decides: a result code
//!   (200–599), or `pending` (the device reboots to install; ask again after the restart);
//!   otherwise its exit status (0: 200, else 410).

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use omadm_agent::AgentEvent;
use omadm_csp::fumo::{FirmwareUpdater, InstallOutcome, PackageInfo};
use omadm_push::Input;

use crate::agent_setup::{either, file_config, open_agent, DeviceOptions};
use crate::outcome::Failure;

/// Arguments of `omadm agent`.
#[derive(Args)]
pub struct AgentArgs {
    #[command(flatten)]
    device: DeviceOptions,
    /// UDP address to receive WAP push datagrams on.
    #[arg(long = "push-udp")]
    push_udp: Option<std::net::SocketAddr>,
    /// A push sender (PPG) address to know (repeatable).
    #[arg(long = "known-ppg")]
    known_ppg: Vec<String>,
    /// Answer PIN requests of provisioning documents with this PIN.
    #[arg(long)]
    pin: Option<String>,
    /// Record every session's messages to this trace file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Raise a generic alert (1226) for this server: kept on disk until the server
    /// acknowledges it, across restarts.
    #[arg(long = "alert-to", requires_all = ["alert_type", "alert_data"])]
    alert_to: Option<String>,
    /// The generic alert's Meta Type (e.g. org.openmobilealliance.dm.firmwareupdate.downloadandupdate).
    #[arg(long = "alert-type")]
    alert_type: Option<String>,
    /// The generic alert's data (e.g. a FUMO result code).
    #[arg(long = "alert-data")]
    alert_data: Option<String>,
    /// The generic alert's source node.
    #[arg(long = "alert-source")]
    alert_source: Option<String>,
    /// Enable firmware updates (FUMO) with this program as the installer (see the module
    /// documentation for how it is run and answers).
    #[arg(long = "fumo-install")]
    fumo_install: Option<PathBuf>,
}

/// The platform's installer as an external program.
struct ProgramInstaller(PathBuf);

impl ProgramInstaller {
    fn run(&self, package: &PackageInfo, arg: &std::ffi::OsStr) -> Option<InstallOutcome> {
        let out = std::process::Command::new(&self.0)
            .arg(arg)
            .env("OMADM_FUMO_PACKAGE", &package.id)
            .env("OMADM_FUMO_NAME", &package.name)
            .env("OMADM_FUMO_VERSION", &package.version)
            .env("OMADM_FUMO_URL", package.url.as_deref().unwrap_or(""))
            .stderr(std::process::Stdio::inherit())
            .output();
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                log::error!("firmware installer {}: {e}", self.0.display());
                return Some(InstallOutcome::Finished(
                    omadm_csp::fumo::result::UPDATE_FAILED,
                ));
            }
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        if last.eq_ignore_ascii_case("pending") {
            return None;
        }
        Some(InstallOutcome::Finished(match last.parse::<u16>() {
            Ok(code @ 200..=599) => code,
            _ if out.status.success() => 200,
            _ => omadm_csp::fumo::result::UPDATE_FAILED,
        }))
    }
}

impl FirmwareUpdater for ProgramInstaller {
    fn install(&mut self, package: &PackageInfo, image: &std::path::Path) -> InstallOutcome {
        self.run(package, image.as_os_str())
            .unwrap_or(InstallOutcome::Pending)
    }

    fn install_result(&mut self, package: &PackageInfo) -> Option<u16> {
        match self.run(package, std::ffi::OsStr::new("--result")) {
            Some(InstallOutcome::Finished(code)) => Some(code),
            _ => None,
        }
    }

    fn progress(&mut self, package: &PackageInfo, done: u64, total: Option<u64>) {
        let total = total.map_or("?".to_owned(), |t| t.to_string());
        log::info!("firmware {}: {done} of {total} bytes", package.id);
    }
}

pub(crate) fn describe(e: &AgentEvent) -> String {
    match e {
        AgentEvent::SessionQueued {
            server_id,
            session_id,
        } => format!("notification from {server_id}: session 0x{session_id:04X} queued"),
        AgentEvent::Bootstrapped(names) => {
            format!("bootstrapped DM account(s) {}", names.join(", "))
        }
        AgentEvent::PinRequired(id) => format!("provisioning document {id} waits for the PIN"),
        AgentEvent::Firmware {
            package,
            state,
            result: Some(r),
        } => format!("firmware {package}: result {r} queued for the server (state {state})"),
        AgentEvent::Firmware { package, state, .. } => {
            format!("firmware {package}: state {state}")
        }
        AgentEvent::Routed(r) => format!("push routed to handler {}", r.handler),
        AgentEvent::SessionEnded {
            server_id,
            reason,
            messages,
            fell_back,
        } => format!(
            "session with {server_id} ended: {} after {messages} message(s){}",
            end_reason_word(reason),
            if *fell_back {
                " (DM 1.1.2 fallback)"
            } else {
                ""
            }
        ),
        AgentEvent::SessionFailed { server_id, reason } => {
            format!("session with {server_id} failed: {reason}")
        }
    }
}

/// The end reason as one word (`Completed`, `ServerNotAuthenticated`, ...), then its detail.
fn end_reason_word(reason: &omadm_dpu::EndReason) -> String {
    use omadm_dpu::EndReason as R;
    match reason {
        R::Completed => "Completed".into(),
        R::AbortedByServer => "AbortedByServer".into(),
        R::ServerNotAuthenticated => "ServerNotAuthenticated".into(),
        R::CredentialsRefused => "CredentialsRefused".into(),
        R::ProtocolError(why) => format!("ProtocolError ({why})"),
    }
}

/// Runs the agent.
pub fn run(a: AgentArgs) -> Result<(), Failure> {
    crate::logger::init();
    let file = file_config(&a.device)?;
    let device = a.device.merged(&file);
    let push_udp = a.push_udp.or(file.push_udp);
    let known_ppg = either(&a.known_ppg, &file.known_ppg);
    let pin = a.pin.clone().or_else(|| file.pin.clone());
    let trace = a.trace.clone().or_else(|| file.trace.clone());
    let alert_to = a.alert_to.clone().or_else(|| file.alert_to.clone());
    let alert_type = a.alert_type.clone().or_else(|| file.alert_type.clone());
    let alert_data = a.alert_data.clone().or_else(|| file.alert_data.clone());
    let alert_source = a.alert_source.clone().or_else(|| file.alert_source.clone());
    let fumo_install = a.fumo_install.clone().or_else(|| file.fumo_install.clone());
    let state = device.state_dir()?;
    let mut agent = open_agent(&device, known_ppg)?;
    if let Some(path) = &trace {
        crate::agent_setup::set_trace(&mut agent, path)?;
    }
    sayln!(
        "device {} (state {})",
        crate::agent_setup::dev_id(&state)?,
        state.display()
    );
    let socket = match push_udp {
        Some(addr) => {
            let s = UdpSocket::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .map_err(|e| e.to_string())?;
            sayln!(
                "push port udp {}",
                s.local_addr().map_err(|e| e.to_string())?
            );
            Some(s)
        }
        None => None,
    };
    if let Some(program) = &fumo_install {
        agent
            .enable_fumo(
                Box::new(ProgramInstaller(program.clone())),
                omadm_agent::FumoSettings::default(),
            )
            .map_err(|e| format!("FUMO: {e}"))?;
        // Operations from before a restart (a result after the reboot) continue now.
        for e in agent.run_pending() {
            sayln!("{}", describe(&e));
        }
    }
    agent.resume_pending_alerts();
    if let (Some(server), Some(type_), Some(data)) = (&alert_to, &alert_type, &alert_data) {
        let alert = omadm_dpu::GenericAlert {
            id: 0,
            correlator: None,
            source: alert_source.clone(),
            target: None,
            type_: type_.clone(),
            format: "chr".into(),
            mark: None,
            data: data.clone(),
        };
        let id = agent
            .add_generic_alert(server, alert)
            .map_err(|e| format!("generic alert: {e}"))?;
        sayln!("generic alert {id} for {server} stored");
    }
    let started = Instant::now();
    let mut buf = vec![0u8; 65536];
    loop {
        if agent.queued() > 0 {
            for e in agent.run_pending() {
                sayln!("{}", describe(&e));
                if device.once
                    && matches!(
                        e,
                        AgentEvent::SessionEnded { .. } | AgentEvent::SessionFailed { .. }
                    )
                {
                    return crate::outcome::of_session(&e);
                }
            }
        }
        let Some(socket) = &socket else {
            return Ok(());
        };
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => return Err(format!("push port: {e}").into()),
        };
        let sender = from.ip().to_string();
        let now = started.elapsed().as_millis() as u64;
        let event = agent.receive(
            Input::Udp {
                sender: &sender,
                datagram: &buf[..n],
            },
            now,
        );
        if let Some(e) = event {
            sayln!("{}", describe(&e));
            if let (AgentEvent::PinRequired(id), Some(pin)) = (&e, &pin) {
                match agent.provide_pin(*id, pin) {
                    Some(e) => sayln!("{}", describe(&e)),
                    None => sayln!("provisioning document {id}: the PIN did not verify; dropped"),
                }
            }
        }
    }
}
