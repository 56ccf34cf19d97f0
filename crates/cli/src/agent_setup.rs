//! What `omadm agent` and `omadm session` share: the options that make a device (state
//! directory, trust, client certificate, plain HTTP, MaxMsgSize), the agent configuration file
//! (`--config FILE`, TOML: every command-line option has a key, the command line wins), and
//! opening the agent with them.
//!
//! File keys are the long option names with `_` for `-`: `state`, `push_udp`, `trust` (a
//! list), `no_system_store`, `known_ppg` (a list), `pin`, `trace`, `once`, `alert_to`,
//! `alert_type`, `alert_data`, `alert_source`, `fumo_install`, `client_cert`, `client_key`,
//! `allow_plain_http`, `max_msg_size`. An unknown key is an error. A list given on the
//! command line replaces the file's; a flag set in the file stays set. `examples/agent.toml`
//! is a commented example.

use std::path::{Path, PathBuf};

use clap::Args;
use omadm_agent::{Agent, AgentConfig};
use omadm_cm::Config as CmConfig;
use omadm_push::router::RouterConfig;
use omadm_transport::ClientConfig;
use serde::Deserialize;

/// The device options both `omadm agent` and `omadm session` take.
#[derive(Args, Clone, Default)]
pub struct DeviceOptions {
    /// State directory (tree, accounts, pending alerts, device id); one agent at a time.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Agent configuration file (TOML; the command line wins over it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A PEM certificate to trust for servers (repeatable).
    #[arg(long)]
    pub trust: Vec<PathBuf>,
    /// Do not trust the system's certificate store.
    #[arg(long = "no-system-store")]
    pub no_system_store: bool,
    /// A PEM certificate chain to present to servers that authenticate devices by TLS (an
    /// account's own certificate, `omadm account --client-cert`, takes precedence).
    #[arg(long = "client-cert", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The PEM private key of --client-cert (mode 0600 or stricter).
    #[arg(long = "client-key", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Allow plain http:// server URLs (refused by default; an account may still refuse).
    #[arg(long = "allow-plain-http")]
    pub allow_plain_http: bool,
    /// The MaxMsgSize this device announces (octets).
    #[arg(long = "max-msg-size")]
    pub max_msg_size: Option<u64>,
    /// One attempt per session: no retries with backoff; exit after the first session with
    /// a status that says how it ended.
    #[arg(long)]
    pub once: bool,
}

/// The agent configuration file: every option of `omadm agent` (see the module docs).
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub state: Option<PathBuf>,
    pub push_udp: Option<std::net::SocketAddr>,
    pub trust: Vec<PathBuf>,
    pub no_system_store: bool,
    pub known_ppg: Vec<String>,
    pub pin: Option<String>,
    pub trace: Option<PathBuf>,
    pub once: bool,
    pub alert_to: Option<String>,
    pub alert_type: Option<String>,
    pub alert_data: Option<String>,
    pub alert_source: Option<String>,
    pub fumo_install: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub allow_plain_http: bool,
    pub max_msg_size: Option<u64>,
}

impl FileConfig {
    /// Reads `path` (relative paths in it are taken from the file's directory).
    pub fn read(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut c: FileConfig =
            toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for p in c
            .state
            .iter_mut()
            .chain(c.trace.iter_mut())
            .chain(c.fumo_install.iter_mut())
        {
            fix(p);
        }
        for p in c
            .trust
            .iter_mut()
            .chain(c.client_cert.iter_mut())
            .chain(c.client_key.iter_mut())
        {
            fix(p);
        }
        Ok(c)
    }
}

/// A list from the command line, or else the file's.
pub fn either<T: Clone>(cli: &[T], file: &[T]) -> Vec<T> {
    if cli.is_empty() {
        file.to_vec()
    } else {
        cli.to_vec()
    }
}

impl DeviceOptions {
    /// These options over the file's (`--config`): the command line wins.
    pub fn merged(&self, file: &FileConfig) -> DeviceOptions {
        DeviceOptions {
            state: self.state.clone().or_else(|| file.state.clone()),
            config: self.config.clone(),
            trust: either(&self.trust, &file.trust),
            no_system_store: self.no_system_store || file.no_system_store,
            client_cert: self
                .client_cert
                .clone()
                .or_else(|| file.client_cert.clone()),
            client_key: self.client_key.clone().or_else(|| file.client_key.clone()),
            allow_plain_http: self.allow_plain_http || file.allow_plain_http,
            max_msg_size: self.max_msg_size.or(file.max_msg_size),
            once: self.once || file.once,
        }
    }

    /// The state directory (required).
    pub fn state_dir(&self) -> Result<PathBuf, String> {
        self.state
            .clone()
            .ok_or_else(|| "--state DIR is needed (or `state` in the --config file)".into())
    }
}

/// The configuration file named by `--config`, if any.
pub fn file_config(options: &DeviceOptions) -> Result<FileConfig, String> {
    match &options.config {
        Some(path) => FileConfig::read(path),
        None => Ok(FileConfig::default()),
    }
}

/// The device id of `state`: made once, `omadm:` and 32 random hex digits, kept in
/// `DIR/dev-id` (an application-specific globally unique id, as Windows devices use).
pub fn dev_id(state: &Path) -> Result<String, String> {
    let path = state.join("dev-id");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim();
        if !s.is_empty() {
            return Ok(s.to_owned());
        }
    }
    std::fs::create_dir_all(state).map_err(|e| format!("{}: {e}", state.display()))?;
    let mut b = [0u8; 16];
    openssl::rand::rand_bytes(&mut b).map_err(|e| e.to_string())?;
    let id = format!(
        "omadm:{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    );
    std::fs::write(&path, format!("{id}\n")).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(id)
}

/// Opens the agent of `options` (its state directory locked for its life), with `known_ppgs`
/// for the push router.
pub fn open_agent(options: &DeviceOptions, known_ppgs: Vec<String>) -> Result<Agent, String> {
    let state = options.state_dir()?;
    let mut device = crate::device::device_info();
    device.dev_id = dev_id(&state)?;
    let mut anchors = Vec::new();
    for p in &options.trust {
        anchors.push(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?);
    }
    let client_cert = match (&options.client_cert, &options.client_key) {
        (Some(c), Some(k)) => {
            Some(omadm_agent::read_client_certificate(c, k).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    let mut agent = Agent::open(
        &state,
        AgentConfig {
            device,
            detail: crate::device::device_detail(),
            router: RouterConfig {
                known_ppgs,
                ..RouterConfig::default()
            },
            transport: ClientConfig {
                trust_anchors: anchors,
                system_store: !options.no_system_store,
                client_cert,
                allow_plain_http: options.allow_plain_http,
                ..ClientConfig::default()
            },
            tree: CmConfig::default(),
            max_msg_size: options.max_msg_size.unwrap_or(64 * 1024),
            fallback: omadm_agent::FallbackPolicy::default(),
        },
    )
    .map_err(|e| format!("agent: {e}"))?;
    agent.set_once(options.once);
    Ok(agent)
}

/// Records every session's messages to `path` (a trace file, `omadm trace` prints it).
pub fn set_trace(agent: &mut Agent, path: &Path) -> Result<(), String> {
    use omadm_agent::{Direction, SessionStep, TraceWriter};
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = TraceWriter::new(file).map_err(|e| format!("{}: {e}", path.display()))?;
    agent.set_observer(Box::new(move |step| {
        let r = match *step {
            SessionStep::Sending {
                content_type, body, ..
            } => w.write(Direction::ToServer, content_type, body),
            SessionStep::Received {
                content_type, body, ..
            } => w.write(Direction::ToDevice, content_type, body),
            SessionStep::Processed { .. } => Ok(()),
        };
        if let Err(e) = r {
            log::warn!("trace: {e}");
        }
    }));
    Ok(())
}
