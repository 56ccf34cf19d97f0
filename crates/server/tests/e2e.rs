//! The reference server and the device stack (DPU, Configuration Manager, transport) in one
//! session over TLS on loopback.

use std::collections::HashMap;

use omadm_cm::{roles, Config, Manager, MemoryStorage, Principal};
use omadm_csp::MemoryCsp;
use omadm_dpu::{Credentials, EndReason, Event, Session, SessionConfig, Trigger};
use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig};
use omadm_syncml::auth::AuthScheme;
use omadm_syncml::Encoding;
use omadm_transport::tls::self_signed;
use omadm_transport::{Client, ClientConfig, Request};

const DEVICE: &str = "IMEI:490154203237518";

fn engine(jobs_text: &str, require_auth: bool) -> Engine {
    let mut devices = HashMap::new();
    devices.insert(
        DEVICE.to_owned(),
        DeviceAccount {
            name: "dev".into(),
            password: "devpw".into(),
            scheme: AuthScheme::Md5,
            jobs: vec![],
        },
    );
    let config = EngineConfig {
        server_id: "refserver".into(),
        server_password: "srvpw".into(),
        server_uri: "https://127.0.0.1/dm".into(),
        devices,
        default_jobs: jobs::parse(jobs_text).unwrap(),
        require_device_auth: require_auth,
        max_msg_size: 64 * 1024,
        accept_v12: true,
        busy_responses: 0,
        ..EngineConfig::default()
    };
    let mut n = 0u8;
    Engine::new(
        config,
        Box::new(move |b: &mut [u8]| {
            for x in b.iter_mut() {
                n = n.wrapping_add(29);
                *x = n;
            }
        }),
    )
}

fn device() -> Manager {
    let config = Config {
        root_acl: "Add=*&Get=*&Replace=refserver&Delete=refserver&Exec=refserver".into(),
        ..Config::default()
    };
    let mut m = Manager::open(Box::new(MemoryStorage::new()), config).unwrap();
    m.mount(
        "./Vendor/memory",
        Box::new(MemoryCsp::new("./Vendor/memory")),
        roles::MANAGER,
    )
    .unwrap();
    m
}

/// Runs one session; returns the device's events.
fn run(
    server_url: &str,
    cert: &[u8],
    m: &mut Manager,
    encoding: Encoding,
    max_msg: Option<u64>,
) -> Vec<Event> {
    let mut sc = SessionConfig::new(DEVICE, server_url, "refserver");
    sc.encoding = encoding;
    sc.dev_info = vec![("./DevInfo/DevId".into(), DEVICE.into())];
    sc.client_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "dev".into(),
        secret: "devpw".into(),
        nonce: vec![],
    });
    sc.server_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "refserver".into(),
        secret: "srvpw".into(),
        nonce: vec![],
    });
    if let Some(size) = max_msg {
        sc.max_msg_size = size;
    }
    let mut s = Session::new(
        sc,
        Trigger::Client { session_id: 7 },
        vec![],
        Box::new(|b: &mut [u8]| b.fill(5)),
    );
    let mut client = Client::new(ClientConfig {
        trust_anchors: vec![cert.to_vec()],
        system_store: false,
        ..ClientConfig::default()
    })
    .unwrap();
    let mut out = s.start();
    let mut events = Vec::new();
    for _ in 0..50 {
        let resp = client
            .post(&Request {
                url: &out.url,
                content_type: out.content_type,
                body: &out.body,
                hmac: out.hmac.as_deref(),
            })
            .unwrap();
        assert_eq!(resp.status, 200);
        let next = s.handle(m, &resp.body).unwrap();
        events.extend(std::iter::from_fn(|| s.poll_event()));
        match next {
            Some(o) => out = o,
            None => return events,
        }
    }
    panic!("the session did not end");
}

#[test]
fn a_whole_session_with_authentication_both_ways_configures_the_device() {
    let (cert, key) = self_signed(&["127.0.0.1"], 1).unwrap();
    let jobs = "AddNode ./Vendor/memory/acct\nAdd ./Vendor/memory/acct/server mail.example.com\nReplace ./Vendor/memory/acct/server imap.example.com\nGet ./Vendor/memory/acct/server\nGet ./Vendor/memory/none\n";
    let server = omadm_server::http::start(
        "127.0.0.1:0".parse().unwrap(),
        &cert,
        &key,
        engine(jobs, true),
    )
    .unwrap();
    let url = format!("https://127.0.0.1:{}/dm", server.addr.port());
    for encoding in [Encoding::Xml, Encoding::Wbxml] {
        let mut m = device();
        let events = run(&url, &cert, &mut m, encoding, None);
        assert!(
            events.contains(&Event::Ended(EndReason::Completed)),
            "{events:?}"
        );
        let local = Principal::Local {
            roles: roles::MANAGER,
        };
        let v = m.get(&local, "./Vendor/memory/acct/server").unwrap();
        assert_eq!(
            v[0].data.as_deref(),
            Some(&b"imap.example.com"[..]),
            "{encoding:?}"
        );
    }
    let engine = server.engine.lock().unwrap();
    let records = engine.records();
    let status = |what: &str| {
        records
            .iter()
            .filter(|r| r.kind == "Status" && r.what == what)
            .map(|r| r.code)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        status("Add ./Vendor/memory/acct/server"),
        [Some(200), Some(200)]
    );
    assert_eq!(status("Get ./Vendor/memory/none"), [Some(404), Some(404)]);
    assert!(records
        .iter()
        .any(|r| r.kind == "Results" && r.data.as_deref() == Some("imap.example.com")));
    assert!(records.iter().any(|r| r.kind == "DevInfo"
        && r.what == "./DevInfo/DevId"
        && r.data.as_deref() == Some(DEVICE)));
    drop(engine);
    server.stop();
}

#[test]
fn many_jobs_go_out_within_the_device_max_msg_size() {
    let (cert, key) = self_signed(&["127.0.0.1"], 1).unwrap();
    let jobs: String = (0..60)
        .map(|i| format!("Add ./Vendor/memory/n{i} value-{i}-{}\n", "x".repeat(40)))
        .collect();
    let server = omadm_server::http::start(
        "127.0.0.1:0".parse().unwrap(),
        &cert,
        &key,
        engine(&jobs, true),
    )
    .unwrap();
    let url = format!("https://127.0.0.1:{}/dm", server.addr.port());
    let mut m = device();
    let events = run(&url, &cert, &mut m, Encoding::Xml, Some(4000));
    assert!(events.contains(&Event::Ended(EndReason::Completed)));
    assert!(m.exists("./Vendor/memory/n59"));
    let engine = server.engine.lock().unwrap();
    assert_eq!(
        engine
            .records()
            .iter()
            .filter(|r| r.kind == "Status" && r.code == Some(200))
            .count(),
        60
    );
    drop(engine);
    server.stop();
}

#[test]
fn a_device_with_wrong_credentials_gets_nothing() {
    let (cert, key) = self_signed(&["127.0.0.1"], 1).unwrap();
    let server = omadm_server::http::start(
        "127.0.0.1:0".parse().unwrap(),
        &cert,
        &key,
        engine("Add ./Vendor/memory/x 1\n", true),
    )
    .unwrap();
    let url = format!("https://127.0.0.1:{}/dm", server.addr.port());
    let mut m = device();
    let mut sc = SessionConfig::new(DEVICE, &url, "refserver");
    sc.client_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "dev".into(),
        secret: "wrong".into(),
        nonce: vec![],
    });
    let mut s = Session::new(
        sc,
        Trigger::Client { session_id: 9 },
        vec![],
        Box::new(|b: &mut [u8]| b.fill(1)),
    );
    let mut client = Client::new(ClientConfig {
        trust_anchors: vec![cert.clone()],
        system_store: false,
        ..ClientConfig::default()
    })
    .unwrap();
    let mut out = s.start();
    while let Ok(resp) = client.post(&Request {
        url: &out.url,
        content_type: out.content_type,
        body: &out.body,
        hmac: None,
    }) {
        match s.handle(&mut m, &resp.body) {
            Ok(Some(o)) => out = o,
            _ => break,
        }
    }
    assert!(std::iter::from_fn(|| s.poll_event())
        .any(|e| e == Event::Ended(EndReason::CredentialsRefused)));
    assert!(!m.exists("./Vendor/memory/x"));
    server.stop();
}
