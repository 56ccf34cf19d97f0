//! What the agent's integration tests share: the reference server on loopback TLS, an agent
//! in a fresh state directory, the DM account between them.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use omadm_agent::{Agent, AgentConfig};
use omadm_cm::{roles, Config as CmConfig};
use omadm_csp::{AuthCreds, DevDetailCsp, DeviceDetail, DeviceInfo, DmAccount, MemoryCsp, MsExt};
use omadm_push::router::RouterConfig;
use omadm_server::firmware::Downloads;
use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig};
use omadm_syncml::auth::AuthScheme;
use omadm_transport::tls::self_signed;
use omadm_transport::ClientConfig;
use tempfile::TempDir;

pub const DEVICE: &str = "IMEI:356938035643809";

/// A fresh, empty state directory, removed (with what the test left in it) when dropped.
pub fn state_dir(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("omadm-agent-{name}-"))
        .tempdir()
        .unwrap()
}

pub fn server(jobs_text: &str) -> (omadm_server::http::RunningServer, Vec<u8>) {
    server_with(jobs_text, |_| {})
}

pub fn server_with(
    jobs_text: &str,
    adjust: impl FnOnce(&mut EngineConfig),
) -> (omadm_server::http::RunningServer, Vec<u8>) {
    server_with_downloads(jobs_text, adjust, Arc::new(Downloads::new()))
}

/// A reference server that also serves `downloads`.
pub fn server_with_downloads(
    jobs_text: &str,
    adjust: impl FnOnce(&mut EngineConfig),
    downloads: Arc<Downloads>,
) -> (omadm_server::http::RunningServer, Vec<u8>) {
    let (cert, key) = self_signed(&["127.0.0.1"], 1).unwrap();
    let mut devices = HashMap::new();
    devices.insert(
        DEVICE.to_owned(),
        DeviceAccount {
            name: "device".into(),
            password: "devpw".into(),
            scheme: AuthScheme::Md5,
            jobs: vec![],
        },
    );
    let mut config = EngineConfig {
        server_id: "ref".into(),
        server_password: "srvpw".into(),
        server_uri: "https://127.0.0.1/dm".into(),
        devices,
        default_jobs: jobs::parse(jobs_text).unwrap(),
        require_device_auth: true,
        max_msg_size: 64 * 1024,
        accept_v12: true,
        busy_responses: 0,
        ..EngineConfig::default()
    };
    adjust(&mut config);
    let engine = Engine::new(
        config,
        Box::new(|b: &mut [u8]| openssl::rand::rand_bytes(b).unwrap()),
    );
    (
        omadm_server::http::start_with_downloads(
            "127.0.0.1:0".parse().unwrap(),
            &cert,
            &key,
            engine,
            downloads,
        )
        .unwrap(),
        cert,
    )
}

pub fn agent(dir: impl AsRef<Path>, cert: &[u8]) -> Agent {
    agent_with(dir, cert, |_| {})
}

/// An agent and the fresh state directory it lives in, which is removed after the agent.
pub struct AgentInDir {
    agent: Agent,
    _dir: TempDir,
}

impl Deref for AgentInDir {
    type Target = Agent;
    fn deref(&self) -> &Agent {
        &self.agent
    }
}

impl DerefMut for AgentInDir {
    fn deref_mut(&mut self) -> &mut Agent {
        &mut self.agent
    }
}

/// [`agent_with`] in a fresh state directory named after `name`.
pub fn fresh_agent_with(
    name: &str,
    cert: &[u8],
    adjust: impl FnOnce(&mut AgentConfig),
) -> AgentInDir {
    let dir = state_dir(name);
    AgentInDir {
        agent: agent_with(&dir, cert, adjust),
        _dir: dir,
    }
}

/// [`agent`] in a fresh state directory named after `name`.
pub fn fresh_agent(name: &str, cert: &[u8]) -> AgentInDir {
    fresh_agent_with(name, cert, |_| {})
}

pub fn agent_with(
    dir: impl AsRef<Path>,
    cert: &[u8],
    adjust: impl FnOnce(&mut AgentConfig),
) -> Agent {
    let dir = dir.as_ref();
    let mut config = AgentConfig {
        device: DeviceInfo {
            dev_id: DEVICE.into(),
            man: "omadm".into(),
            model: "test".into(),
            dm_v: "1".into(),
            lang: "en".into(),
            ext: vec![],
        },
        detail: DeviceDetail {
            dev_typ: "phone".into(),
            oem: "o".into(),
            fw_v: "1".into(),
            sw_v: "1".into(),
            hw_v: "1".into(),
        },
        router: RouterConfig::default(),
        transport: ClientConfig {
            trust_anchors: vec![cert.to_vec()],
            system_store: false,
            connect_timeout: Duration::from_secs(2),
            io_timeout: Duration::from_secs(5),
            ..ClientConfig::default()
        },
        tree: CmConfig::default(),
        max_msg_size: 16 * 1024,
        fallback: omadm_agent::FallbackPolicy::default(),
    };
    adjust(&mut config);
    let mut a = Agent::open(dir, config).unwrap();
    a.mount(
        "./Vendor/memory",
        Box::new(MemoryCsp::new("./Vendor/memory")),
        roles::MANAGER,
    )
    .unwrap();
    let _ = DevDetailCsp::new;
    a
}

pub fn account(url: &str) -> DmAccount {
    DmAccount {
        server_id: "ref".into(),
        name: "Reference server".into(),
        addr: url.into(),
        client: Some(AuthCreds {
            auth_type: "DIGEST".into(),
            name: "device".into(),
            secret: "devpw".into(),
            data: vec![],
        }),
        server: Some(AuthCreds {
            auth_type: "DIGEST".into(),
            name: "ref".into(),
            secret: "srvpw".into(),
            data: vec![],
        }),
        ext: MsExt {
            initial_backoff_ms: 10,
            max_backoff_ms: 40,
            ..MsExt::default()
        },
        ..DmAccount::default()
    }
}

pub fn records(srv: &omadm_server::http::RunningServer) -> Vec<omadm_server::Record> {
    srv.engine.lock().unwrap().records().to_vec()
}

/// Gives the agent a DM account for `srv` (MD5 both ways, the `ref` server).
pub fn add_account(a: &Agent, srv: &omadm_server::http::RunningServer) {
    a.accounts()
        .create(
            &account(&format!("https://127.0.0.1:{}/dm", srv.addr.port())),
            roles::MANAGER,
        )
        .unwrap();
}

/// A TLS server on loopback that answers every request with HTTP 200 and `body` (a hostile
/// or broken DM server), until the test ends. Returns its URL and certificate.
pub fn canned_server(body: Vec<u8>, content_type: &'static str) -> (String, Vec<u8>) {
    use openssl::pkey::PKey;
    use openssl::ssl::{SslAcceptor, SslMethod};
    use openssl::x509::X509;
    use std::io::{Read, Write};
    let (cert, key) = self_signed(&["127.0.0.1"], 1).unwrap();
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    acceptor
        .set_certificate(&X509::from_pem(&cert).unwrap())
        .unwrap();
    acceptor
        .set_private_key(&PKey::private_key_from_pem(&key).unwrap())
        .unwrap();
    let acceptor = acceptor.build();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/dm", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let Ok(mut tls) = acceptor.accept(stream) else {
                continue;
            };
            let mut buf = vec![0u8; 64 * 1024];
            let _ = tls.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = tls.write_all(head.as_bytes());
            let _ = tls.write_all(&body);
        }
    });
    (url, cert)
}
