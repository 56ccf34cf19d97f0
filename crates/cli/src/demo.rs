//! `omadm demo`: the reference scenario of the Windows Mobile design, end to end on loopback,
//! with an embedded configuration and nothing to set up.
//!
//! The reference server (HTTPS, a certificate generated for 127.0.0.1) bootstraps the device's
//! DM account with a `w7` provisioning document pushed over GSM SMS and signed with USERPIN
//! (the "user" types the PIN), then sends a DM notification as a WAP push over SMS PDUs. The
//! real agent's push router authenticates it, the agent opens HTTPS, the server configures an
//! e-mail/contacts/calendar account through the sync-account CSP, the device answers with
//! statuses and the server closes the session. Each of the 13 steps of
//! `shared/design/ARCHITECTURE.md` is printed when it happens, from what the components
//! report (the session observer, a CSP wrapper that sees the Configuration Manager's calls,
//! the messages on the wire); the final account is read back from the device. Exit 0 only if
//! every step held, the session completed, every configuration command got 200 and the
//! account on the device is the one the server sent.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use omadm_agent::{Agent, AgentConfig, AgentEvent, Direction, SessionStep, TraceWriter};
use omadm_cm::{
    roles, Caller, Config as CmConfig, Csp, CspError, CspNode, ExecOutcome, LeafValue, TxMode,
};
use omadm_csp::{AuthCreds, DmAccount, MsExt, SyncAccountCsp};
use omadm_dpu::EndReason;
use omadm_push::cp::{self, Characteristic};
use omadm_push::router::RouterConfig;
use omadm_push::wdp::Bearer;
use omadm_push::Input;
use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig};
use omadm_syncml::auth::AuthScheme;
use omadm_syncml::notification::{Notification, UiMode};
use omadm_syncml::{Command, Limits};
use omadm_transport::ClientConfig;

pub(crate) const SERVER_ID: &str = "omadm-reference";
pub(crate) const SERVER_PASSWORD: &str = "demo-server-secret";
pub(crate) const DEVICE_NAME: &str = "demo-device";
pub(crate) const DEVICE_PASSWORD: &str = "demo-device-secret";
const PIN: &str = "1234";
pub(crate) const SMSC_NUMBER: &str = "+15550100";
const SYNC_ROOT: &str = "./Vendor/MSFT/ActiveSync";
const ACCOUNT: &str = "{6A8B2D4C-1F3E-4A5B-9C7D-0E1F2A3B4C5D}";

/// What the server configures: the operator's sync account (embedded default job).
fn demo_jobs() -> String {
    let a = format!("{SYNC_ROOT}/Accounts/{ACCOUNT}");
    format!(
        "AddNode {a}\n\
         Add {a}/EmailAddress ann.lee@example.com\n\
         Add {a}/UserName ann.lee\n\
         Add {a}/Password mail-secret-7\n\
         Add {a}/Domain EXAMPLE\n\
         Add {a}/AccountName Work mail\n\
         Add {a}/ServerName mail.example.com\n\
         Add {a}/Options/UseSSL 1\n\
         Add {a}/Options/Schedule 15\n\
         Add {a}/Options/ContentTypes/Email/Enabled 1\n\
         Add {a}/Options/ContentTypes/Contacts/Enabled 1\n\
         Add {a}/Options/ContentTypes/Calendar/Enabled 1\n"
    )
}

/// Arguments of `omadm demo`.
#[derive(Args)]
#[command(
    after_help = "Without a scenario: the 13-step configuration session. `omadm demo fumo`: \
the firmware update scenario (notification, Exec DownloadAndUpdate, download cut once and resumed, \
install, agent restart as after the reboot, final generic alert 1226, server records the result)."
)]
pub struct DemoArgs {
    /// The scenario: omitted for the configuration session, `fumo` for a firmware update.
    scenario: Option<Scenario>,
    /// fumo: the package's size in bytes.
    #[arg(long = "package-size", default_value_t = 1024 * 1024)]
    package_size: u64,
    /// Message encoding the device account asks for: xml or wbxml.
    #[arg(long, default_value = "xml")]
    encoding: String,
    /// Also write the session's messages to this trace file (read it with `omadm trace`).
    #[arg(long)]
    trace: Option<PathBuf>,
}

/// The steps seen so far, and printing them.
#[derive(Default)]
struct Progress {
    seen: [bool; 14],
    failures: Vec<String>,
}

impl Progress {
    fn step(&mut self, n: usize, text: &str) {
        self.seen[n] = true;
        outln!("step {n:>2}: {text}");
    }

    fn fail(&mut self, text: String) {
        outln!("  FAILED: {text}");
        self.failures.push(text);
    }
}

type Shared = Arc<Mutex<Progress>>;

fn lock(p: &Shared) -> std::sync::MutexGuard<'_, Progress> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wraps the sync-account CSP to show steps 8 and 9 as the Configuration Manager calls it.
struct Watched {
    inner: SyncAccountCsp,
    progress: Shared,
    caller: String,
}

impl Watched {
    fn routed(&mut self, verb: &str, path: &str, result: &Result<(), CspError>) {
        let mut p = lock(&self.progress);
        p.step(
            8,
            &format!(
                "Configuration Manager: {} may {verb} {path}; owner is the sync-account CSP",
                self.caller
            ),
        );
        match result {
            Ok(()) => p.step(9, &format!("sync-account CSP: {verb} {path}: done")),
            Err(e) => p.step(9, &format!("sync-account CSP: {verb} {path}: {e}")),
        }
    }
}

impl Csp for Watched {
    fn set_caller(&mut self, caller: &Caller<'_>) {
        self.caller = format!(
            "server {} (roles 0x{:X})",
            caller.server_id.unwrap_or("?"),
            caller.roles
        );
        self.inner.set_caller(caller);
    }
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        self.inner.node(path)
    }
    fn is_interior(&mut self, path: &str) -> Result<bool, CspError> {
        self.inner.is_interior(path)
    }
    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        let r = self.inner.add(path, value);
        self.routed("Add", path, &r);
        r
    }
    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        let r = self.inner.replace(path, value);
        self.routed("Replace", path, &r);
        r
    }
    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        let r = self.inner.delete(path);
        self.routed("Delete", path, &r);
        r
    }
    fn exec(&mut self, path: &str, data: &[u8], c: Option<&str>) -> Result<ExecOutcome, CspError> {
        self.inner.exec(path, data, c)
    }
    fn readable(&mut self, path: &str) -> bool {
        self.inner.readable(path)
    }
    fn tx_mode(&self) -> TxMode {
        self.inner.tx_mode()
    }
}

fn summary(body: &[u8]) -> (Vec<String>, BTreeMap<String, usize>, bool) {
    let mut commands = Vec::new();
    let mut statuses = BTreeMap::new();
    let mut is_final = false;
    if let Ok((msg, _)) = omadm_syncml::decode(body, &Limits::default()) {
        is_final = msg.body.is_final;
        for c in &msg.body.commands {
            match c {
                Command::Status(s) => *statuses.entry(s.data.to_string()).or_insert(0) += 1,
                other => commands.push(other.name().to_owned()),
            }
        }
    }
    (commands, statuses, is_final)
}

fn counted(names: &[String]) -> String {
    let mut m: BTreeMap<&str, usize> = BTreeMap::new();
    for n in names {
        *m.entry(n).or_insert(0) += 1;
    }
    m.iter()
        .map(|(k, v)| format!("{k} ×{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The demo's scenarios.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Scenario {
    /// A firmware update (FUMO) through a reboot.
    Fumo,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<(), String> {
    let content_type = crate::device::dm_content_type(&args.encoding)?;
    if let Some(Scenario::Fumo) = args.scenario {
        return crate::demo_fumo::run(args.package_size, content_type);
    }
    let state = std::env::temp_dir().join(format!("omadm-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let result = run_in(&state, content_type, args.trace);
    let _ = std::fs::remove_dir_all(&state);
    result
}

/// The demos' reference server engine: one device account (`DEVICE_NAME`, MD5) for
/// `dev_id` with `jobs`.
pub(crate) fn demo_engine(dev_id: &str, jobs: Vec<omadm_server::Job>) -> Engine {
    let mut devices = HashMap::new();
    devices.insert(
        dev_id.to_owned(),
        DeviceAccount {
            name: DEVICE_NAME.into(),
            password: DEVICE_PASSWORD.into(),
            scheme: AuthScheme::Md5,
            jobs,
        },
    );
    Engine::new(
        EngineConfig {
            server_id: SERVER_ID.into(),
            server_password: SERVER_PASSWORD.into(),
            server_uri: "https://127.0.0.1/dm".into(),
            devices,
            default_jobs: vec![],
            require_device_auth: true,
            max_msg_size: 64 * 1024,
            accept_v12: true,
            busy_responses: 0,
            ..EngineConfig::default()
        },
        omadm_server::system_entropy(),
    )
}

/// The demos' device: the default identity, SMS push from `SMSC_NUMBER`, trusting only the
/// loopback server's certificate `cert`, a 16 KB MaxMsgSize (large objects show).
pub(crate) fn demo_agent_config(cert: &[u8]) -> AgentConfig {
    AgentConfig {
        device: crate::device::device_info(),
        detail: crate::device::device_detail(),
        router: RouterConfig {
            known_ppgs: vec![SMSC_NUMBER.into()],
            ..RouterConfig::default()
        },
        transport: ClientConfig {
            trust_anchors: vec![cert.to_vec()],
            system_store: false,
            connect_timeout: Duration::from_secs(5),
            io_timeout: Duration::from_secs(30),
            ..ClientConfig::default()
        },
        tree: CmConfig::default(),
        max_msg_size: 16 * 1024,
        fallback: omadm_agent::FallbackPolicy::default(),
    }
}

/// The demos' DM account for the reference server at `url` (MD5 both ways, `w7`).
pub(crate) fn demo_account(url: &str, content_type: &str) -> DmAccount {
    DmAccount {
        app_id: "w7".into(),
        server_id: SERVER_ID.into(),
        name: "omadm reference server".into(),
        addr: url.into(),
        addr_type: "URI".into(),
        client: Some(AuthCreds {
            auth_type: "DIGEST".into(),
            name: DEVICE_NAME.into(),
            secret: DEVICE_PASSWORD.into(),
            data: vec![],
        }),
        server: Some(AuthCreds {
            auth_type: "DIGEST".into(),
            name: SERVER_ID.into(),
            secret: SERVER_PASSWORD.into(),
            data: vec![],
        }),
        ext: MsExt {
            default_encoding: content_type.into(),
            initial_backoff_ms: 200,
            max_backoff_ms: 2000,
            ..MsExt::default()
        },
        ..DmAccount::default()
    }
}

fn run_in(
    state: &std::path::Path,
    content_type: &str,
    trace: Option<PathBuf>,
) -> Result<(), String> {
    let progress: Shared = Arc::default();
    let device = crate::device::device_info();

    // The reference server, on loopback with a fresh certificate.
    let (cert, key) = omadm_transport::tls::self_signed(&["127.0.0.1", "localhost"], 1)
        .map_err(|e| format!("certificate: {e}"))?;
    let engine = demo_engine(
        &device.dev_id,
        jobs::parse(&demo_jobs()).map_err(|e| e.to_string())?,
    );
    let server =
        omadm_server::http::start("127.0.0.1:0".parse().expect("literal"), &cert, &key, engine)
            .map_err(|e| format!("server: {e}"))?;
    let url = format!("https://127.0.0.1:{}/dm", server.addr.port());
    outln!("reference server {SERVER_ID} listening on {url}");

    // The device.
    let mut agent =
        Agent::open(state, demo_agent_config(&cert)).map_err(|e| format!("agent: {e}"))?;
    let sync = SyncAccountCsp::new(SYNC_ROOT);
    let sync_accounts = sync.accounts();
    agent
        .mount(
            SYNC_ROOT,
            Box::new(Watched {
                inner: sync,
                progress: progress.clone(),
                caller: String::new(),
            }),
            roles::MANAGER | roles::OPERATOR | roles::USER_AUTH,
        )
        .map_err(|e| format!("mount: {e}"))?;
    outln!(
        "device {} started (state in {})",
        device.dev_id,
        state.display()
    );

    // Bootstrap: the server provisions the device's DM account over SMS, signed with USERPIN.
    let account = demo_account(&url, content_type);
    let doc = cp::encode(&Characteristic {
        children: vec![cp::w7_application(&account)],
        ..Characteristic::default()
    });
    let pdus = omadm_push::bootstrap_pdus(&doc, PIN, Bearer::Gsm, SMSC_NUMBER, 1);
    outln!(
        "bootstrap: server pushes a w7 provisioning document ({} bytes, SEC=USERPIN) in {} SMS PDUs",
        doc.len(),
        pdus.len()
    );
    let mut pin_id = None;
    for pdu in &pdus {
        if let Some(AgentEvent::PinRequired(id)) = agent.receive(Input::GsmSms(pdu), 0) {
            pin_id = Some(id);
        }
    }
    let pin_id = pin_id.ok_or("bootstrap: the device did not ask for the PIN")?;
    match agent.provide_pin(pin_id, PIN) {
        Some(AgentEvent::Bootstrapped(names)) => outln!(
            "bootstrap: the user typed the PIN; the MAC verified; DM account {} created for {SERVER_ID}",
            names.join(", ")
        ),
        other => return Err(format!("bootstrap: the PIN was not accepted ({other:?})")),
    }

    // Steps 1-3: the notification.
    let session_id: u16 = 0x0DE0;
    let notification = Notification::new(SERVER_ID, session_id, UiMode::Background);
    let pdus = omadm_push::notification_pdus(
        &notification,
        SERVER_PASSWORD,
        &[],
        Bearer::Gsm,
        SMSC_NUMBER,
        2,
    );
    lock(&progress).step(
        1,
        &format!(
            "server {SERVER_ID} sends a DM notification (package #0, session 0x{session_id:04X}) as a WAP push in {} GSM SMS PDU(s)",
            pdus.len()
        ),
    );
    let mut queued = false;
    for (i, pdu) in pdus.iter().enumerate() {
        lock(&progress).step(
            2,
            &format!(
                "device receives SMS PDU {} of {} ({} bytes); it reaches the push router",
                i + 1,
                pdus.len(),
                pdu.len()
            ),
        );
        if let Some(AgentEvent::SessionQueued {
            server_id,
            session_id,
        }) = agent.receive(Input::GsmSms(pdu), 1_000)
        {
            lock(&progress).step(
                3,
                &format!("push router: WSP app id 0x07 (syncml.dm), package #0 digest verified for {server_id}; session 0x{session_id:04X} handed to the transport client"),
            );
            queued = true;
        }
    }
    if !queued {
        lock(&progress).fail("the push router did not start a session".into());
    }

    // Steps 4-13: the session, reported as it happens.
    let mut writer = match &trace {
        Some(path) => Some(
            TraceWriter::new(
                std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
            )
            .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let p = progress.clone();
    let mut server_messages = 0u32;
    agent.set_observer(Box::new(move |step| {
        let mut p = lock(&p);
        match *step {
            SessionStep::Sending { url, content_type, body, number, .. } => {
                if let Some(w) = writer.as_mut() {
                    let _ = w.write(Direction::ToServer, content_type, body);
                }
                let (commands, statuses, _) = summary(body);
                if number == 1 {
                    p.step(4, &format!("transport client opens HTTPS (TLS, server certificate verified) to {url} and sends package 1 ({} bytes, {content_type}: {})", body.len(), counted(&commands)));
                } else {
                    let codes = statuses.iter().map(|(c, n)| format!("{c} ×{n}")).collect::<Vec<_>>().join(", ");
                    p.step(10, &format!("Configuration Manager results returned to the DPU, turned into statuses: {codes}"));
                    p.step(11, &format!("DPU hands the response SyncBody ({} commands) to the transport client", statuses.values().sum::<usize>() + commands.len()));
                    p.step(12, &format!("transport client sends message {number} ({} bytes) to the server", body.len()));
                }
            }
            SessionStep::Received { status, content_type, body, .. } => {
                if let Some(w) = writer.as_mut() {
                    let _ = w.write(Direction::ToDevice, content_type, body);
                }
                server_messages += 1;
                let (commands, _, is_final) = summary(body);
                let is_last = is_final && commands.is_empty();
                if server_messages == 1 {
                    p.step(5, &format!("server parsed package 1, identified and authenticated the device, and sent its configuration (HTTP {status}, {} bytes: {})", body.len(), counted(&commands)));
                } else if is_last {
                    p.step(13, &format!("server parsed the statuses; everything is configured; its last message (HTTP {status}, {} bytes, Final, no commands) closes the session", body.len()));
                    return;
                }
                p.step(6, "DM client received the message and handled the SyncHdr (server credentials checked)");
                if !commands.is_empty() {
                    p.step(7, &format!("DPU parses the SyncBody and sends each request to the Configuration Manager: {}", counted(&commands)));
                }
            }
            SessionStep::Processed { .. } => {}
        }
    }));
    let events = agent.run_pending();
    let ended = events.iter().any(|e| {
        matches!(
            e,
            AgentEvent::SessionEnded {
                reason: EndReason::Completed,
                ..
            }
        )
    });
    if !ended {
        lock(&progress).fail(format!("the session did not complete: {events:?}"));
    }

    // Check what the server recorded and what the device holds.
    let records = server
        .engine
        .lock()
        .map(|e| e.records().to_vec())
        .unwrap_or_default();
    server.stop();
    let config_statuses: Vec<_> = records
        .iter()
        .filter(|r| r.kind == "Status" && r.what.contains(SYNC_ROOT))
        .collect();
    let expected = jobs::parse(&demo_jobs()).map_err(|e| e.to_string())?.len();
    let all_ok =
        config_statuses.len() == expected && config_statuses.iter().all(|r| r.code == Some(200));
    if !all_ok {
        lock(&progress).fail(format!(
            "the server recorded {} of {expected} configuration statuses, not all 200: {:?}",
            config_statuses.len(),
            config_statuses
                .iter()
                .map(|r| (&r.what, r.code))
                .collect::<Vec<_>>()
        ));
    }
    let list = sync_accounts.list();
    outln!("account on the device ({SYNC_ROOT}/Accounts):");
    for a in &list {
        outln!("  {}", a.id);
        for (k, v) in &a.values {
            let v = if k == "Password" {
                "(set, write-only)"
            } else {
                v.as_str()
            };
            outln!("    {k} = {v}");
        }
        outln!("    syncs: {}", a.enabled_content().join(", "));
    }
    let right = list.len() == 1
        && list[0].id == ACCOUNT
        && list[0].get("EmailAddress") == Some("ann.lee@example.com")
        && list[0].get("ServerName") == Some("mail.example.com")
        && list[0].get("Password") == Some("mail-secret-7")
        && list[0].enabled_content() == ["Email", "Contacts", "Calendar"];
    if !right {
        lock(&progress).fail("the account on the device is not the one the server sent".into());
    }
    let p = lock(&progress);
    let missing: Vec<_> = (1..=13).filter(|n| !p.seen[*n]).collect();
    if !missing.is_empty() {
        return Err(format!("demo failed: steps never reached: {missing:?}"));
    }
    if !p.failures.is_empty() {
        return Err(format!("demo failed: {}", p.failures.join("; ")));
    }
    outln!("demo complete: all 13 steps held");
    Ok(())
}
