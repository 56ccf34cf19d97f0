//! `omadm server`: the reference DM server as a long-running process.
//!
//! ```text
//! omadm server --listen ADDR --state DIR [--jobs FILE] [--server-id ID]
//!              [--server-password PW] [--device DEVID=NAME:PASSWORD[:basic|md5|hmac]]...
//!              [--server-auth account|none|basic|md5|hmac] [--session-timeout SECONDS]
//!              [--encoding xml|wbxml] [--max-msg-size N] [--connections N]
//!              [--cert FILE --key FILE] [--client-ca FILE] [--dm11-only] [--busy N]
//!              [--firmware FILE ...]
//! ```
//! What it keeps in `DIR` (decided here; `omadm server --help` says the same):
//! - `cert.pem`, `key.pem`: its TLS certificate, generated on first start for the listen
//!   address, `localhost` and `127.0.0.1`, with a subject and key identifiers of its own
//!   (devices trust `cert.pem`; two servers' certificates can be trusted side by side);
//!   `--cert`/`--key` bring your own instead.
//! - `server-password`: the server's secret (what devices check notifications and server
//!   credentials with), 32 random hex digits made on first start, mode 0600, unless
//!   `--server-password` is given.
//! - `devices`: one device per line, `DEVID NAME PASSWORD [basic|md5|hmac]` (`#` comments);
//!   `--device` adds more. With no device at all, any device may connect unauthenticated.
//! - `nonces`: per device, the nonce it issued for the server's next credentials, which is
//!   also the one a notification's digest needs: `DEVID HEX` lines, rewritten (temporary
//!   file, fsync, rename) before the reply that depends on a change is sent, and read back at
//!   start (so `omadm notify --state DIR --device DEVID` builds a digest the device accepts).
//! - `records.tsv`: every status, result, alert and DevInfo value authenticated devices
//!   report, appended before the reply to the message that carried it is sent (so a stop
//!   at any moment loses nothing already answered); the columns are those of
//!   [`omadm_server::records`].
//!
//! Jobs (`--jobs`, the format of [`omadm_server::jobs`]) go to every device in every session.
//! It prints `listening on https://ADDR/dm`, then each record as it is written, and runs until
//! stopped (SIGTERM and SIGINT lose nothing: every record is written before its reply).

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig, ServerAuth};
use omadm_syncml::auth::AuthScheme;

/// How the server authenticates itself (`--server-auth`).
#[derive(Clone, Copy, ValueEnum)]
pub enum ServerAuthArg {
    /// With each device account's scheme (basic, md5 or hmac).
    Account,
    /// Never: no server credentials (a lax server).
    None,
    /// HTTP-basic-style Cred.
    Basic,
    /// MD5 digest Cred.
    Md5,
    /// The x-syncml-hmac header.
    Hmac,
}

/// The encoding of the server's messages (`--encoding`).
#[derive(Clone, Copy, ValueEnum)]
pub enum EncodingArg {
    /// XML.
    Xml,
    /// WBXML.
    Wbxml,
}

/// Arguments of `omadm server`.
#[derive(Args)]
#[command(after_help = "Jobs file (--jobs), one command per line ('#' comments):
  Add URI VALUE | AddNode URI | Replace URI VALUE | Get URI | Delete URI | Exec URI [ARG]
  ExecCorrelated URI CORRELATOR [ARG]
  A value runs to the end of the line (\\n is a line break). Or a SyncML body fragment
  (the file starts with '<'): its commands as written, every CmdID renumbered by the server.
State directory (--state): cert.pem and key.pem (made on first start unless --cert/--key),
  server-password (0600), devices (DEVID NAME PASSWORD [basic|md5|hmac] lines), nonces
  (DEVID HEX, the nonce each device issued for the server's next credentials), records.tsv.
records.tsv columns (tab-separated, fields escaped: \\x09 tab, \\x0a line feed, \\\\ backslash):
  device  session  kind  what  code  data
  kind: Status (a job's status), Results (a value, chunks reassembled), Alert (1226/1224:
  what = type [correlator= source=]), DevInfo, Malformed (a status that is no DM code),
  ClientCert (the subject of a device's TLS client certificate, with --client-ca),
  Failed (a job not sent, a large object ended by the device, a session ended by auth).
Records and nonces are written before the reply that depends on them is sent.")]
pub struct ServerArgs {
    /// Address to listen on (e.g. 127.0.0.1:8443; port 0 picks one).
    #[arg(long)]
    listen: SocketAddr,
    /// State directory (certificate, secret, devices, records).
    #[arg(long)]
    state: PathBuf,
    /// Jobs file: the commands to send each device.
    #[arg(long)]
    jobs: Option<PathBuf>,
    /// The server identifier devices know it by.
    #[arg(long = "server-id", default_value = "omadm-reference")]
    server_id: String,
    /// The server secret (default: DIR/server-password, made on first start).
    #[arg(long = "server-password")]
    server_password: Option<String>,
    /// A device: DEVID=NAME:PASSWORD[:basic|md5|hmac] (MD5 by default).
    #[arg(long)]
    device: Vec<String>,
    /// Play a DM 1.1.2-only server: DM 1.2 packages get HTTP 400 (tests devices' fallback).
    #[arg(long = "dm11-only")]
    dm11_only: bool,
    /// Answer the first N requests with HTTP 503 (tests devices' retries).
    #[arg(long, default_value_t = 0)]
    busy: u32,
    /// Largest message the server sends (also limited by each device's own MaxMsgSize).
    #[arg(long = "max-msg-size", default_value_t = 64 * 1024)]
    max_msg_size: u64,
    /// How the server authenticates itself to devices.
    #[arg(long = "server-auth", value_enum, default_value = "account")]
    server_auth: ServerAuthArg,
    /// Seconds a session may stay idle before it expires.
    #[arg(long = "session-timeout", default_value_t = 300)]
    session_timeout: u64,
    /// The encoding of the server's messages (default: each device's own).
    #[arg(long, value_enum)]
    encoding: Option<EncodingArg>,
    /// The most connections served at once.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// A PEM certificate (chain) to serve instead of DIR/cert.pem.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// The PEM private key of --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Require a TLS client certificate chaining to these CA certificates (PEM) from every
    /// device, and record its subject (kind ClientCert).
    #[arg(long = "client-ca")]
    client_ca: Option<PathBuf>,
    /// A firmware update package: served at https://ADDR/fw/NAME (GET with Range), and a
    /// firmware job (FUMO DownloadAndUpdate with a Correlator) sent once to every device.
    #[arg(long)]
    firmware: Option<PathBuf>,
    /// The FUMO package node of the firmware job (default ./FwUpdate/<file stem>).
    #[arg(long = "firmware-node", requires = "firmware")]
    firmware_node: Option<String>,
    /// PkgVersion of the firmware job.
    #[arg(
        long = "firmware-version",
        default_value = "1.0",
        requires = "firmware"
    )]
    firmware_version: String,
    /// The digest sent as Ext/PkgDigest (default: the file's SHA-256; "none" sends none;
    /// another value plays a server whose package is corrupt).
    #[arg(long = "firmware-digest", requires = "firmware")]
    firmware_digest: Option<String>,
    /// Cut the first download after this many bytes (tests devices' resumption).
    #[arg(long = "firmware-cut-after", requires = "firmware")]
    firmware_cut_after: Option<u64>,
}

fn scheme(s: &str) -> Result<AuthScheme, String> {
    match s.to_ascii_lowercase().as_str() {
        "basic" => Ok(AuthScheme::Basic),
        "md5" | "digest" => Ok(AuthScheme::Md5),
        "hmac" => Ok(AuthScheme::Hmac),
        other => Err(format!(
            "authentication scheme {other:?}: use basic, md5 or hmac"
        )),
    }
}

fn device_line(line: &str) -> Result<(String, DeviceAccount), String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    match f.as_slice() {
        [id, name, password] | [id, name, password, _] => Ok((
            (*id).to_owned(),
            DeviceAccount {
                name: (*name).to_owned(),
                password: (*password).to_owned(),
                scheme: scheme(f.get(3).copied().unwrap_or("md5"))?,
                jobs: vec![],
            },
        )),
        _ => Err("expected DEVID NAME PASSWORD [basic|md5|hmac]".into()),
    }
}

fn secret_file(path: &Path) -> Result<String, String> {
    if let Ok(s) = std::fs::read_to_string(path) {
        return Ok(s.trim().to_owned());
    }
    let mut b = [0u8; 16];
    openssl::rand::rand_bytes(&mut b).map_err(|e| e.to_string())?;
    let secret: String = b.iter().map(|x| format!("{x:02x}")).collect();
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(f, "{secret}").map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(secret)
}

/// The certificate and key: `--cert`/`--key`, or those in `dir` (made on first start).
fn certificate(a: &ServerArgs) -> Result<(Vec<u8>, Vec<u8>), String> {
    if let (Some(c), Some(k)) = (&a.cert, &a.key) {
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        return Ok((read(c)?, read(k)?));
    }
    state_certificate(&a.state, &a.listen)
}

/// Loads or makes the certificate and key in `dir`.
fn state_certificate(dir: &Path, listen: &SocketAddr) -> Result<(Vec<u8>, Vec<u8>), String> {
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    if let (Ok(cert), Ok(key)) = (std::fs::read(&c), std::fs::read(&k)) {
        return Ok((cert, key));
    }
    let ip = listen.ip().to_string();
    let (cert, key) = omadm_transport::tls::self_signed(&[&ip, "localhost", "127.0.0.1"], 365)
        .map_err(|e| format!("certificate: {e}"))?;
    std::fs::write(&c, &cert).map_err(|e| format!("{}: {e}", c.display()))?;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&k)
        .and_then(|mut f| f.write_all(&key))
        .map_err(|e| format!("{}: {e}", k.display()))?;
    Ok((cert, key))
}

/// Reads `DIR/nonces` (`DEVID HEX` lines); a missing or damaged file gives what could be read.
pub fn read_nonces(path: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (d, h) = l.trim().rsplit_once(' ')?;
            Some((d.to_owned(), crate::input::decode_hex(h.as_bytes()).ok()?))
        })
        .collect()
}

/// Rewrites `path` with `nonces` durably: a temporary file, fsync, rename, fsync of the
/// directory.
fn write_nonces(path: &Path, nonces: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    let mut sorted: Vec<_> = nonces.iter().collect();
    sorted.sort();
    let text: String = sorted
        .iter()
        .map(|(d, n)| format!("{d} {}\n", crate::input::to_hex(n)))
        .collect();
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The server's journal: records appended to `records.tsv` (and printed), nonces rewritten
/// in `nonces`, both before the reply that depends on them.
struct FileJournal {
    records: std::sync::Mutex<std::fs::File>,
    nonces: PathBuf,
}

impl omadm_server::http::Journal for FileJournal {
    fn persist(
        &self,
        records: &[omadm_server::Record],
        nonces: Option<&[(String, Vec<u8>)]>,
    ) -> std::io::Result<()> {
        if !records.is_empty() {
            let mut lines = String::new();
            for r in records {
                lines.push_str(&r.tsv_line());
                lines.push('\n');
            }
            let mut file = self.records.lock().unwrap_or_else(|p| p.into_inner());
            file.write_all(lines.as_bytes())?;
            file.sync_data()?;
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(lines.as_bytes());
            let _ = out.flush();
        }
        if let Some(nonces) = nonces {
            write_nonces(&self.nonces, nonces)?;
        }
        Ok(())
    }
}

/// The firmware job for `--firmware FILE` (its `url` is the path until the address is known),
/// and the file added to the downloads.
fn firmware_job(
    a: &ServerArgs,
    file: &Path,
    downloads: &mut omadm_server::firmware::Downloads,
) -> Result<omadm_server::firmware::FirmwareJob, String> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("--firmware {}: not a file name", file.display()))?;
    let stem: String = file
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or("package")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let sha256 = match a.firmware_digest.as_deref() {
        Some("none") => None,
        Some(d) => Some(d.to_owned()),
        None => Some(
            omadm_server::firmware::sha256_file(file)
                .map_err(|e| format!("--firmware {}: {e}", file.display()))?,
        ),
    };
    let path: String = format!(
        "/fw/{}",
        name.replace(|c: char| c.is_whitespace() || c == '?' || c == '#', "_")
    );
    downloads.add(&path, file);
    if let Some(n) = a.firmware_cut_after {
        downloads.cut_first_transfer_after(n);
    }
    let mut corr = [0u8; 4];
    openssl::rand::rand_bytes(&mut corr).map_err(|e| e.to_string())?;
    Ok(omadm_server::firmware::FirmwareJob {
        node: a
            .firmware_node
            .clone()
            .unwrap_or_else(|| format!("./FwUpdate/{stem}")),
        url: path,
        name: name.to_owned(),
        version: a.firmware_version.clone(),
        sha256,
        correlator: format!(
            "fw-{}",
            corr.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    })
}

/// Runs the server until killed.
pub fn run(a: ServerArgs) -> Result<(), String> {
    std::fs::create_dir_all(&a.state).map_err(|e| format!("{}: {e}", a.state.display()))?;
    let job_list = match &a.jobs {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            jobs::parse(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => vec![],
    };
    let mut devices = HashMap::new();
    let devices_file = a.state.join("devices");
    if let Ok(text) = std::fs::read_to_string(&devices_file) {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, d) = device_line(line)
                .map_err(|e| format!("{}:{}: {e}", devices_file.display(), n + 1))?;
            devices.insert(id, d);
        }
    }
    for d in &a.device {
        let (id, rest) = d
            .split_once('=')
            .ok_or_else(|| format!("--device {d:?}: expected DEVID=NAME:PASSWORD[:scheme]"))?;
        let fields: Vec<&str> = rest.splitn(3, ':').collect();
        let line = format!("{id} {}", fields.join(" "));
        let (id, dev) = device_line(&line).map_err(|e| format!("--device: {e}"))?;
        devices.insert(id, dev);
    }
    for d in devices.values_mut() {
        d.jobs = job_list.clone();
    }
    let server_password = match &a.server_password {
        Some(p) => p.clone(),
        None => secret_file(&a.state.join("server-password"))?,
    };
    let (cert, key) = certificate(&a)?;
    let nonces_path = a.state.join("nonces");
    let saved_nonces = read_nonces(&nonces_path);
    let require_device_auth = !devices.is_empty();
    let mut engine = Engine::new(
        EngineConfig {
            server_id: a.server_id.clone(),
            server_password,
            server_uri: format!("https://{}/dm", a.listen),
            devices,
            default_jobs: job_list,
            require_device_auth,
            max_msg_size: a.max_msg_size,
            accept_v12: !a.dm11_only,
            busy_responses: a.busy,
            server_auth: match a.server_auth {
                ServerAuthArg::Account => ServerAuth::AsAccount,
                ServerAuthArg::None => ServerAuth::None,
                ServerAuthArg::Basic => ServerAuth::Scheme(AuthScheme::Basic),
                ServerAuthArg::Md5 => ServerAuth::Scheme(AuthScheme::Md5),
                ServerAuthArg::Hmac => ServerAuth::Scheme(AuthScheme::Hmac),
            },
            session_timeout_ms: a.session_timeout.saturating_mul(1000),
            encoding: a.encoding.map(|e| match e {
                EncodingArg::Xml => omadm_syncml::Encoding::Xml,
                EncodingArg::Wbxml => omadm_syncml::Encoding::Wbxml,
            }),
            ..EngineConfig::default()
        },
        omadm_server::system_entropy(),
    );
    for (device, nonce) in &saved_nonces {
        engine.set_server_nonce(device, nonce.clone());
    }
    let mut downloads = omadm_server::firmware::Downloads::new();
    let firmware = match &a.firmware {
        Some(file) => Some(firmware_job(&a, file, &mut downloads)?),
        None => None,
    };
    let records_path = a.state.join("records.tsv");
    let records = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&records_path)
        .map_err(|e| format!("{}: {e}", records_path.display()))?;
    let journal = FileJournal {
        records: std::sync::Mutex::new(records),
        nonces: nonces_path,
    };
    let server = omadm_server::http::start_with(
        a.listen,
        &cert,
        &key,
        engine,
        omadm_server::http::ServeOptions {
            downloads: std::sync::Arc::new(downloads),
            journal: Some(std::sync::Arc::new(journal)),
            max_connections: a.connections,
            client_ca: match &a.client_ca {
                Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
                None => None,
            },
        },
    )
    .map_err(|e| format!("listen on {}: {e}", a.listen))?;
    if let Some(mut job) = firmware {
        job.url = format!("https://{}{}", server.addr, job.url);
        sayln!("firmware {} at {}", job.node, job.url);
        server
            .engine
            .lock()
            .map_err(|_| "the server engine failed".to_owned())?
            .add_once_jobs(job.jobs());
    }
    sayln!("listening on https://{}/dm", server.addr);
    match (&a.cert, &a.key) {
        (Some(c), _) => sayln!("certificate {}", c.display()),
        _ => sayln!("certificate {}", a.state.join("cert.pem").display()),
    }
    // Everything is written before it is answered: nothing to do but serve until stopped.
    loop {
        std::thread::park();
    }
}
