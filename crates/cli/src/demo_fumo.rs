//! `omadm demo fumo`: a firmware update end to end on loopback, nothing to set up. The
//! reference server notifies the device, creates a FUMO package and Execs DownloadAndUpdate;
//! the device downloads the package over HTTPS (the server cuts the first transfer half way,
//! the device resumes with Range), checks its SHA-256, hands it to the platform's installer
//! (here: one that checks the image and "reboots"), the agent is restarted as after the
//! reboot, picks up the install result and reports it with a generic alert 1226 in a new
//! session. Exit status 0 only if the server recorded result 200 for the Exec's Correlator,
//! exactly once.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use omadm_agent::{Agent, AgentEvent, FumoSettings, SessionStep};
use omadm_cm::roles;
use omadm_csp::fumo::{FirmwareUpdater, InstallOutcome, PackageInfo};
use omadm_dpu::EndReason;
use omadm_push::wdp::Bearer;
use omadm_push::Input;
use omadm_server::firmware::{sha256_file, Downloads, FirmwareJob};
use omadm_syncml::notification::{Notification, UiMode};

use crate::demo::{
    demo_account, demo_agent_config, demo_engine, SERVER_ID, SERVER_PASSWORD, SMSC_NUMBER,
};

const NODE: &str = "./FwUpdate/ContosoOS";
const VERSION: &str = "2.0";
const CORRELATOR: &str = "fw-demo-0001";

/// The demo platform's installer: checks the image the way a boot loader would (its
/// SHA-256), writes the "new firmware" (a version file in the state directory) and reboots;
/// after the reboot the version file tells the result.
struct DemoInstaller {
    firmware: PathBuf,
    expected_sha256: String,
    reported: Arc<Mutex<u64>>,
}

impl FirmwareUpdater for DemoInstaller {
    fn install(&mut self, package: &PackageInfo, image: &Path) -> InstallOutcome {
        let ok = sha256_file(image).is_ok_and(|d| d == self.expected_sha256);
        let text = if ok {
            format!("installed {}\n", package.version)
        } else {
            "failed\n".to_owned()
        };
        if std::fs::write(&self.firmware, text).is_err() {
            return InstallOutcome::Finished(omadm_csp::fumo::result::UPDATE_FAILED);
        }
        outln!(
            "stage 4: the platform checked the image ({}) and installs {} {}; the device reboots",
            if ok { "SHA-256 good" } else { "SHA-256 BAD" },
            package.name,
            package.version
        );
        InstallOutcome::Pending
    }

    fn install_result(&mut self, package: &PackageInfo) -> Option<u16> {
        let text = std::fs::read_to_string(&self.firmware).ok()?;
        Some(if text.trim() == format!("installed {}", package.version) {
            200
        } else {
            omadm_csp::fumo::result::UPDATE_FAILED
        })
    }

    fn progress(&mut self, package: &PackageInfo, done: u64, total: Option<u64>) {
        let Some(total) = total.filter(|t| *t > 0) else {
            return;
        };
        let tenth = done * 10 / total;
        let mut last = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        if tenth > *last || done == total {
            *last = tenth;
            outln!(
                "stage 3: downloading {}: {done} of {total} bytes ({}%)",
                package.id,
                done * 100 / total
            );
        }
    }
}

/// Writes a package of `size` bytes (deterministic content) in 64 KB pieces.
fn write_package(path: &Path, size: u64) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut block = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    let mut x: u32 = 0x2545_F491;
    while written < size {
        for b in block.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        let n = (size - written).min(block.len() as u64) as usize;
        f.write_all(&block[..n])?;
        written += n as u64;
    }
    f.flush()
}

fn open_agent(state: &Path, cert: &[u8], installer: DemoInstaller) -> Result<Agent, String> {
    let mut agent =
        Agent::open(state, demo_agent_config(cert)).map_err(|e| format!("agent: {e}"))?;
    let mut settings = FumoSettings::default();
    settings.download_retry.initial = Duration::from_millis(200);
    agent
        .enable_fumo(Box::new(installer), settings)
        .map_err(|e| format!("FUMO: {e}"))?;
    Ok(agent)
}

/// Runs the firmware scenario with a package of `size` bytes.
pub fn run(size: u64, content_type: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("omadm-demo-fumo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = run_in(&dir, size, content_type);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, size: u64, content_type: &str) -> Result<(), String> {
    let device = crate::device::device_info();
    let package = dir.join(format!("contoso-os-{VERSION}.bin"));
    write_package(&package, size).map_err(|e| format!("{}: {e}", package.display()))?;
    let sha256 = sha256_file(&package).map_err(|e| e.to_string())?;

    // The reference server, serving the package with Range, cutting the first transfer.
    let (cert, key) = omadm_transport::tls::self_signed(&["127.0.0.1", "localhost"], 1)
        .map_err(|e| format!("certificate: {e}"))?;
    let engine = demo_engine(&device.dev_id, vec![]);
    let mut downloads = Downloads::new();
    downloads.add("/fw/contoso-os.bin", &package);
    downloads.cut_first_transfer_after(size / 2);
    let downloads = Arc::new(downloads);
    let server = omadm_server::http::start_with_downloads(
        "127.0.0.1:0".parse().expect("literal"),
        &cert,
        &key,
        engine,
        downloads.clone(),
    )
    .map_err(|e| format!("server: {e}"))?;
    let port = server.addr.port();
    let job = FirmwareJob {
        node: NODE.into(),
        url: format!("https://127.0.0.1:{port}/fw/contoso-os.bin"),
        name: "Contoso OS".into(),
        version: VERSION.into(),
        sha256: Some(sha256.clone()),
        correlator: CORRELATOR.into(),
    };
    server
        .engine
        .lock()
        .map_err(|_| "server engine failed")?
        .add_once_jobs(job.jobs());
    outln!(
        "reference server {SERVER_ID} on https://127.0.0.1:{port}/dm, serving {} ({size} bytes, SHA-256 {}…)",
        job.url,
        &sha256[..16]
    );

    let state = dir.join("agent");
    let firmware = dir.join("installed-firmware");
    let installer = || DemoInstaller {
        firmware: firmware.clone(),
        expected_sha256: sha256.clone(),
        reported: Arc::new(Mutex::new(0)),
    };
    let mut agent = open_agent(&state, &cert, installer())?;
    agent
        .accounts()
        .create(
            &demo_account(&format!("https://127.0.0.1:{port}/dm"), content_type),
            roles::MANAGER,
        )
        .map_err(|e| format!("account: {e}"))?;
    outln!("device {} started with FUMO at ./FwUpdate", device.dev_id);

    // Stage 1: the notification.
    let n = Notification::new(SERVER_ID, 0x0F00, UiMode::Background);
    let pdus = omadm_push::notification_pdus(&n, SERVER_PASSWORD, &[], Bearer::Gsm, SMSC_NUMBER, 3);
    let mut queued = false;
    for pdu in &pdus {
        if let Some(AgentEvent::SessionQueued { .. }) = agent.receive(Input::GsmSms(pdu), 0) {
            queued = true;
        }
    }
    if !queued {
        return Err("the notification did not start a session".into());
    }
    outln!(
        "stage 1: server notification (package #0 in {} SMS PDUs) authenticated; session queued",
        pdus.len()
    );

    // Stages 2-4: the session, the download, the install (printed as they happen).
    let round_trips = Arc::new(Mutex::new(0u32));
    let r = round_trips.clone();
    agent.set_observer(Box::new(move |step| {
        if let SessionStep::Processed { more, .. } = step {
            let mut n = r.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            if !more {
                outln!(
                    "stage 2: session completed in {} round trips: the server created {NODE}, set PkgURL and Ext/PkgDigest, and Exec'd DownloadAndUpdate with Correlator {CORRELATOR} (202 Accepted)",
                    *n
                );
            }
        }
    }));
    let events = agent.run_pending();
    for e in &events {
        match e {
            AgentEvent::SessionEnded {
                reason: EndReason::Completed,
                ..
            }
            | AgentEvent::Firmware { .. } => {}
            other => outln!("        {other:?}"),
        }
    }
    let states: Vec<u16> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Firmware { state, .. } => Some(*state),
            _ => None,
        })
        .collect();
    outln!(
        "        FUMO State went {} (download complete, ready to update, update progressing); {} GET requests, the first cut by the server, {} resumed with Range",
        states.iter().map(u16::to_string).collect::<Vec<_>>().join(" → "),
        downloads.requests(),
        downloads.range_requests()
    );
    if states.last() != Some(&60) {
        return Err(format!(
            "the update did not reach the install (states {states:?})"
        ));
    }
    if downloads.range_requests() == 0 {
        return Err("the cut download was not resumed with Range".into());
    }
    drop(agent);
    outln!("stage 5: the agent process ends (reboot) and starts again on the same state directory");

    // Stages 5-7: after the reboot.
    let mut agent = open_agent(&state, &cert, installer())?;
    agent.resume_pending_alerts();
    let events = agent.run_pending();
    for e in &events {
        match e {
            AgentEvent::Firmware { result: Some(code), .. } => outln!(
                "stage 6: install result {code}; generic alert 1226 stored until the server acknowledges it"
            ),
            AgentEvent::SessionEnded { reason: EndReason::Completed, .. } => outln!(
                "stage 7: client-initiated session delivered the alert; the server acknowledged it"
            ),
            AgentEvent::Firmware { state, .. } => outln!("        FUMO State {state}"),
            other => outln!("        {other:?}"),
        }
    }
    let pending = agent.alerts().for_server(SERVER_ID).len();
    drop(agent);
    let records = server
        .engine
        .lock()
        .map_err(|_| "server engine failed")?
        .records()
        .to_vec();
    server.stop();
    let alerts: Vec<_> = records
        .iter()
        .filter(|r| r.kind == "Alert" && r.code == Some(1226))
        .collect();
    for a in &alerts {
        outln!(
            "server recorded: Alert 1226 {} data {}",
            a.what,
            a.data.as_deref().unwrap_or("")
        );
    }
    let expected_what = format!(
        "org.openmobilealliance.dm.firmwareupdate.downloadandupdate correlator={CORRELATOR} source={NODE}/DownloadAndUpdate"
    );
    match alerts.as_slice() {
        [a] if a.what == expected_what && a.data.as_deref() == Some("200") && pending == 0 => {
            outln!("firmware update reported: result 200 for correlator {CORRELATOR}");
            Ok(())
        }
        _ => Err(format!(
            "the server did not record exactly one result 200 for {CORRELATOR} ({} alerts, {pending} still pending)",
            alerts.len()
        )),
    }
}
