//! FUMO end to end with the real agent and the reference server on loopback TLS:
//! notification → Exec DownloadAndUpdate → download (cut once, resumed with Range) → install →
//! agent restarted as after the reboot → generic alert 1226 in the next session → recorded
//! once. Variants: corrupt package (402), user declined (401), no space (501), and a package
//! delivered inside the session as a large object (Update/PkgData).

mod common;
use common::*;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use omadm_agent::{Agent, AgentEvent, FumoSettings};
use omadm_cm::{roles, Principal};
use omadm_csp::fumo::{FirmwareUpdater, InstallOutcome, PackageInfo};
use omadm_dpu::ui::{UiRequest, UiResponse, UserInterface};
use omadm_push::wdp::Bearer;
use omadm_push::Input;
use omadm_server::firmware::{sha256_file, Downloads, FirmwareJob};
use omadm_syncml::notification::{Notification, UiMode};
use tempfile::TempDir;

/// What the test platform saw and will answer.
#[derive(Default)]
struct Platform {
    installed: Vec<(PackageInfo, Vec<u8>)>,
    /// install() answers Finished(code) when set, else Pending.
    finish_with: Option<u16>,
    /// install_result() after the "reboot".
    result: Option<u16>,
    space: Option<u64>,
    progress_calls: usize,
}

#[derive(Clone, Default)]
struct TestUpdater(Arc<Mutex<Platform>>);

impl FirmwareUpdater for TestUpdater {
    fn install(&mut self, package: &PackageInfo, image: &Path) -> InstallOutcome {
        let mut p = self.0.lock().unwrap();
        p.installed
            .push((package.clone(), std::fs::read(image).unwrap()));
        match p.finish_with {
            Some(code) => InstallOutcome::Finished(code),
            None => InstallOutcome::Pending,
        }
    }
    fn install_result(&mut self, _package: &PackageInfo) -> Option<u16> {
        self.0.lock().unwrap().result
    }
    fn available_space(&mut self, _dir: &Path) -> Option<u64> {
        self.0.lock().unwrap().space
    }
    fn progress(&mut self, _package: &PackageInfo, _done: u64, _total: Option<u64>) {
        self.0.lock().unwrap().progress_calls += 1;
    }
}

struct Declines;

impl UserInterface for Declines {
    fn ask(&mut self, _request: &UiRequest) -> UiResponse {
        UiResponse::Rejected
    }
}

/// A firmware image in a temporary directory of its own, removed when dropped.
struct Firmware {
    path: PathBuf,
    _dir: TempDir,
}

impl Deref for Firmware {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Firmware {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

fn firmware_file(name: &str, len: usize) -> Firmware {
    let dir = state_dir(&format!("fw-{name}"));
    let path = dir.path().join("image.bin");
    let data: Vec<u8> = (0..len as u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&path, data).unwrap();
    Firmware { path, _dir: dir }
}

struct Setup {
    srv: omadm_server::http::RunningServer,
    cert: Vec<u8>,
    downloads: Arc<Downloads>,
    dir: TempDir,
    image: Firmware,
    platform: TestUpdater,
}

/// A server with a firmware job for `image` (digest: the file's, or `digest`), cut after
/// `cut` bytes once if given; an agent state directory with the account.
fn setup(name: &str, image: Firmware, digest: Option<String>, cut: Option<u64>) -> Setup {
    let mut downloads = Downloads::new();
    downloads.add("/fw/image.bin", &image);
    if let Some(c) = cut {
        downloads.cut_first_transfer_after(c);
    }
    let downloads = Arc::new(downloads);
    let (srv, cert) = server_with_downloads("", |_| {}, downloads.clone());
    let job = FirmwareJob {
        node: "./FwUpdate/pkg1".into(),
        url: format!("https://127.0.0.1:{}/fw/image.bin", srv.addr.port()),
        name: "Contoso OS".into(),
        version: "2.0".into(),
        sha256: Some(digest.unwrap_or_else(|| sha256_file(&image).unwrap())),
        correlator: "corr-77".into(),
    };
    srv.engine.lock().unwrap().add_once_jobs(job.jobs());
    let dir = state_dir(name);
    add_account(&agent(&dir, &cert), &srv);
    Setup {
        srv,
        cert,
        downloads,
        dir,
        image,
        platform: TestUpdater::default(),
    }
}

/// A device with an account for `srv` and FUMO whose platform installs at once with 200.
fn installing_device(
    name: &str,
    srv: &omadm_server::http::RunningServer,
    cert: &[u8],
) -> (AgentInDir, TestUpdater) {
    let platform = TestUpdater::default();
    platform.0.lock().unwrap().finish_with = Some(200);
    let mut a = fresh_agent(name, cert);
    add_account(&a, srv);
    a.enable_fumo(Box::new(platform.clone()), FumoSettings::default())
        .unwrap();
    (a, platform)
}

fn fumo_agent(s: &Setup) -> Agent {
    let mut a = agent(&s.dir, &s.cert);
    a.set_sleeper(Box::new(|_| {}));
    a.enable_fumo(Box::new(s.platform.clone()), FumoSettings::default())
        .unwrap();
    a
}

fn notify(a: &mut Agent, session_id: u16) {
    let n = Notification::new("ref", session_id, UiMode::Background);
    for pdu in omadm_push::notification_pdus(&n, "srvpw", b"", Bearer::Gsm, "+15550001", 1) {
        a.receive(Input::GsmSms(&pdu), 0);
    }
}

/// The 1226 alerts the server recorded: (what, data).
fn alerts(s: &Setup) -> Vec<(String, String)> {
    alerts_of(&s.srv)
}

fn state(a: &mut Agent) -> String {
    let v = a
        .tree()
        .get(
            &Principal::Local {
                roles: roles::MANAGER,
            },
            "./FwUpdate/pkg1/State",
        )
        .unwrap();
    String::from_utf8(v[0].data.clone().unwrap()).unwrap()
}

#[test]
fn a_firmware_update_survives_the_reboot_and_its_result_reaches_the_server_once() {
    let image = firmware_file("main", 300_000);
    let s = setup("fumo-main", image, None, Some(100_000));
    {
        let mut a = fumo_agent(&s);
        notify(&mut a, 0x51);
        let events = a.run_pending();
        // The session accepted the Exec; the download was cut once and resumed; the platform
        // was asked to install and reboots.
        let states: Vec<u16> = events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::Firmware {
                    state,
                    result: None,
                    ..
                } => Some(*state),
                _ => None,
            })
            .collect();
        assert_eq!(states, [40, 50, 60], "{events:?}");
        assert_eq!(state(&mut a), "60");
        assert_eq!(s.downloads.range_requests(), 1, "resumed once with Range");
        assert_eq!(s.downloads.requests(), 2);
        let p = s.platform.0.lock().unwrap();
        assert_eq!(p.installed.len(), 1);
        assert_eq!(
            p.installed[0].1,
            std::fs::read(&s.image).unwrap(),
            "the whole package"
        );
        assert_eq!(p.installed[0].0.name, "Contoso OS");
        assert_eq!(p.installed[0].0.version, "2.0");
        assert!(p.progress_calls > 0);
        assert!(
            alerts(&s).is_empty(),
            "no result before the install is done"
        );
    }
    // The device reboots into the new image; the platform now knows the result.
    s.platform.0.lock().unwrap().result = Some(200);
    let mut a = fumo_agent(&s);
    let events = a.run_pending();
    assert!(
        events.iter().any(|e| matches!(
            e,
            AgentEvent::Firmware {
                result: Some(200),
                ..
            }
        )),
        "{events:?}"
    );
    assert_eq!(
        alerts(&s),
        [(
            "org.openmobilealliance.dm.firmwareupdate.downloadandupdate correlator=corr-77 source=./FwUpdate/pkg1/DownloadAndUpdate".to_owned(),
            "200".to_owned()
        )]
    );
    assert_eq!(state(&mut a), "100");
    assert!(
        a.alerts().for_server("ref").is_empty(),
        "acknowledged, so dropped"
    );
    assert_eq!(
        s.platform.0.lock().unwrap().installed.len(),
        1,
        "installed once"
    );
    // Later sessions and restarts never send it again.
    a.request_session("ref");
    a.run_pending();
    drop(a);
    let mut a = fumo_agent(&s);
    a.request_session("ref");
    a.run_pending();
    assert_eq!(alerts(&s).len(), 1);
    s.srv.stop();
}

#[test]
fn a_corrupt_package_is_reported_as_402_and_never_installed() {
    let image = firmware_file("corrupt", 50_000);
    let s = setup("fumo-corrupt", image, Some("00".repeat(32)), None);
    let mut a = fumo_agent(&s);
    notify(&mut a, 0x52);
    a.run_pending();
    let got = alerts(&s);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1, "402");
    assert!(s.platform.0.lock().unwrap().installed.is_empty());
    assert_eq!(state(&mut a), "20", "download failed");
    s.srv.stop();
}

#[test]
fn a_user_who_declines_gets_401_and_nothing_is_downloaded() {
    let image = firmware_file("declined", 50_000);
    let s = setup("fumo-declined", image, None, None);
    let mut a = fumo_agent(&s);
    a.set_ui(Box::new(Declines));
    notify(&mut a, 0x53);
    a.run_pending();
    assert_eq!(alerts(&s)[0].1, "401");
    assert_eq!(s.downloads.requests(), 0);
    s.srv.stop();
}

#[test]
fn no_space_for_the_package_is_501() {
    let image = firmware_file("nospace", 50_000);
    let s = setup("fumo-nospace", image, None, None);
    s.platform.0.lock().unwrap().space = Some(1000);
    let mut a = fumo_agent(&s);
    notify(&mut a, 0x54);
    a.run_pending();
    assert_eq!(alerts(&s)[0].1, "501");
    assert!(s.platform.0.lock().unwrap().installed.is_empty());
    s.srv.stop();
}

#[test]
fn a_package_delivered_in_the_session_as_a_large_object_is_installed_by_exec_update() {
    let package = "F".repeat(40_000);
    let jobs = format!(
        "AddNode ./FwUpdate/p2\nReplace ./FwUpdate/p2/Update/PkgData {package}\nExecCorrelated ./FwUpdate/p2/Update corr-2\n"
    );
    let (srv, cert) = server("");
    // Once, as a real server starts an update once (default jobs go to every session).
    srv.engine
        .lock()
        .unwrap()
        .add_once_jobs(omadm_server::jobs::parse(&jobs).unwrap());
    let (mut a, platform) = installing_device("fumo-pkgdata", &srv, &cert);
    a.request_session("ref");
    a.run_pending();
    let p = platform.0.lock().unwrap();
    assert_eq!(p.installed.len(), 1);
    assert_eq!(
        p.installed[0].1,
        package.as_bytes(),
        "the whole large object"
    );
    let got: Vec<_> = records(&srv)
        .into_iter()
        .filter(|r| r.kind == "Alert")
        .map(|r| (r.what, r.data))
        .collect();
    assert!(
        got.iter().any(|(w, d)| w
            .starts_with("org.openmobilealliance.dm.firmwareupdate.update correlator=corr-2")
            && d.as_deref() == Some("200")),
        "{got:?}"
    );
    srv.stop();
}

#[test]
fn a_server_polls_the_state_while_a_download_is_paused_for_its_notification() {
    let image = firmware_file("poll", 3 * 1024 * 1024);
    let mut downloads = Downloads::new();
    downloads.add("/fw/image.bin", &image);
    let downloads = Arc::new(downloads);
    // Every session reads the State; the firmware job comes once.
    let (srv, cert) = server_with_downloads("Get ./FwUpdate/pkg1/State\n", |_| {}, downloads);
    let job = FirmwareJob {
        node: "./FwUpdate/pkg1".into(),
        url: format!("https://127.0.0.1:{}/fw/image.bin", srv.addr.port()),
        name: "Contoso OS".into(),
        version: "2.0".into(),
        sha256: Some(sha256_file(&image).unwrap()),
        correlator: "corr-poll".into(),
    };
    srv.engine.lock().unwrap().add_once_jobs(job.jobs());
    let (mut a, platform) = installing_device("fumo-poll", &srv, &cert);
    // The host has input waiting once the first MiB is in.
    let checks = Arc::new(Mutex::new(0u32));
    let c = checks.clone();
    a.set_yield_check(Box::new(move || {
        let mut n = c.lock().unwrap();
        *n += 1;
        *n == 1
    }));
    notify(&mut a, 0x61);
    a.run_pending();
    assert!(a.paused(), "the download paused for the waiting input");
    assert_eq!(state(&mut a), "30", "download progressing");
    assert!(platform.0.lock().unwrap().installed.is_empty());
    // The waiting work (here a client-initiated session): its session polls the State,
    // then the download resumes.
    a.request_session("ref");
    a.run_pending();
    assert!(!a.paused());
    let states: Vec<String> = records(&srv)
        .into_iter()
        .filter(|r| r.kind == "Results" && r.what == "./FwUpdate/pkg1/State")
        .filter_map(|r| r.data)
        .collect();
    assert_eq!(states.first().map(String::as_str), Some("30"), "{states:?}");
    assert_eq!(
        platform.0.lock().unwrap().installed[0].1.len(),
        3 * 1024 * 1024
    );
    assert!(alerts_of(&srv)
        .iter()
        .any(|(w, d)| w.contains("corr-poll") && d == "200"));
    srv.stop();
}

fn alerts_of(srv: &omadm_server::http::RunningServer) -> Vec<(String, String)> {
    records(srv)
        .into_iter()
        .filter(|r| r.kind == "Alert" && r.code == Some(1226))
        .map(|r| (r.what, r.data.unwrap_or_default()))
        .collect()
}

#[test]
fn a_download_stopped_by_a_restart_resumes_with_range_from_what_is_on_disk() {
    let image = firmware_file("restart", 3 * 1024 * 1024);
    let s = setup("fumo-restart", image, None, None);
    s.platform.0.lock().unwrap().finish_with = Some(200);
    {
        let mut a = fumo_agent(&s);
        // The process stops after the first MiB (paused here, then the agent is dropped as a
        // power cut would).
        a.set_yield_check(Box::new(|| true));
        notify(&mut a, 0x71);
        a.run_pending();
        assert!(a.paused());
        assert_eq!(state(&mut a), "30");
    }
    assert_eq!(s.downloads.range_requests(), 0);
    let mut a = fumo_agent(&s);
    a.run_pending();
    assert_eq!(s.downloads.range_requests(), 1, "resumed, not started over");
    let p = s.platform.0.lock().unwrap();
    assert_eq!(p.installed[0].1, std::fs::read(&s.image).unwrap());
    drop(p);
    assert_eq!(alerts(&s).len(), 1);
    assert_eq!(alerts(&s)[0].1, "200");
    s.srv.stop();
}
