//! `omadm server`: the reference DM server as a long-running process.
//!
//! ```text
//! omadm server --listen ADDR --state DIR [--jobs FILE] [--server-id ID]
//!              [--server-password PW] [--device DEVID=NAME:PASSWORD[:basic|md5|hmac]]...
//!              [--max-msg-size N] [--dm11-only] [--busy N]
//! ```
//! What it keeps in `DIR` (decided here):
//! - `cert.pem`, `key.pem`: its TLS certificate, generated on first start for the listen
//!   address, `localhost` and `127.0.0.1` (devices trust `cert.pem`).
//! - `server-password`: the server's secret (what devices check notifications and server
//!   credentials with), 32 random hex digits made on first start, mode 0600, unless
//!   `--server-password` is given.
//! - `devices`: one device per line, `DEVID NAME PASSWORD [basic|md5|hmac]` (`#` comments);
//!   `--device` adds more. With no device at all, any device may connect unauthenticated.
//! - `nonces`: per device, the nonce it issued for the server's next credentials, which is
//!   also the one a notification's digest needs: `DEVID HEX` lines, rewritten when one changes
//!   and read back at start (so `omadm notify --state DIR --device DEVID` can build a digest the
//!   device accepts, session after session, and a restarted server still authenticates).
//! - `records.tsv`: every status, result, alert and DevInfo value devices report, appended
//!   as they arrive: device, session, kind, what, code, data, tab-separated.
//!
//! Jobs (`--jobs`, the format of [`omadm_server::jobs`]) go to every device in every session.
//! It prints `listening on https://ADDR/dm` and runs until killed.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig};
use omadm_syncml::auth::AuthScheme;

/// Arguments of `omadm server`.
#[derive(Args)]
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
    /// Largest message the server sends.
    #[arg(long = "max-msg-size", default_value_t = 64 * 1024)]
    max_msg_size: u64,
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

/// Loads or makes the certificate and key in `dir`.
fn certificate(dir: &Path, listen: &SocketAddr) -> Result<(Vec<u8>, Vec<u8>), String> {
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

fn write_nonces(
    path: &Path,
    nonces: &std::collections::BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    let text: String = nonces
        .iter()
        .map(|(d, n)| format!("{d} {}\n", crate::input::to_hex(n)))
        .collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
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
    let (cert, key) = certificate(&a.state, &a.listen)?;
    let nonces_path = a.state.join("nonces");
    let saved_nonces = read_nonces(&nonces_path);
    let require_device_auth = !devices.is_empty();
    let engine = Engine::new(
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
        },
        omadm_server::system_entropy(),
    );
    let mut engine = engine;
    for (device, nonce) in &saved_nonces {
        engine.set_server_nonce(device, nonce.clone());
    }
    let mut downloads = omadm_server::firmware::Downloads::new();
    let firmware = match &a.firmware {
        Some(file) => Some(firmware_job(&a, file, &mut downloads)?),
        None => None,
    };
    let server = omadm_server::http::start_with_downloads(
        a.listen,
        &cert,
        &key,
        engine,
        std::sync::Arc::new(downloads),
    )
    .map_err(|e| format!("listen on {}: {e}", a.listen))?;
    if let Some(mut job) = firmware {
        job.url = format!("https://{}{}", server.addr, job.url);
        outln!("firmware {} at {}", job.node, job.url);
        server
            .engine
            .lock()
            .map_err(|_| "the server engine failed".to_owned())?
            .add_once_jobs(job.jobs());
    }
    outln!("listening on https://{}/dm", server.addr);
    outln!("certificate {}", a.state.join("cert.pem").display());
    let records_path = a.state.join("records.tsv");
    let mut records = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&records_path)
        .map_err(|e| format!("{}: {e}", records_path.display()))?;
    let mut written = 0;
    let mut nonces = saved_nonces;
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let (new, now): (Vec<_>, Vec<_>) = match server.engine.lock() {
            Ok(e) => (
                e.records()[written..].to_vec(),
                e.server_nonces()
                    .map(|(d, n)| (d.to_owned(), n.to_vec()))
                    .collect(),
            ),
            Err(_) => return Err("the server engine failed".into()),
        };
        let now: std::collections::BTreeMap<_, _> = now.into_iter().collect();
        if now != nonces {
            write_nonces(&nonces_path, &now)?;
            nonces = now;
        }
        for r in &new {
            let line = format!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                clean(&r.device),
                clean(&r.session),
                r.kind,
                clean(&r.what),
                r.code.map(|c| c.to_string()).unwrap_or_default(),
                r.data.as_deref().map(clean).unwrap_or_default()
            );
            writeln!(records, "{line}").map_err(|e| format!("{}: {e}", records_path.display()))?;
            outln!("{line}");
        }
        written += new.len();
    }
}
