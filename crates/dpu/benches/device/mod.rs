//! The device both benches use: an in-memory tree open to the server (every command
//! allowed), an in-memory CSP at `./Vendor/memory`, an executable node at `./test/execute`,
//! and a server-initiated session past package 1.

use omadm_cm::{
    roles, Config, Csp, CspError, CspNode, ExecOutcome, LeafValue, Manager, MemoryStorage,
};
use omadm_csp::MemoryCsp;
use omadm_dpu::{Session, SessionConfig, Trigger};
use omadm_syncml::Encoding;

struct Exec;

impl Csp for Exec {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        if path == "./test/execute" {
            Ok(CspNode::Leaf(LeafValue::text("")))
        } else {
            Err(CspError::NotFound)
        }
    }
    fn exec(&mut self, _: &str, _: &[u8], _: Option<&str>) -> Result<ExecOutcome, CspError> {
        Ok(ExecOutcome::Done)
    }
}

/// A fresh device whose session answers in `encoding` and announces `max_msg_size`.
pub fn device(encoding: Encoding, max_msg_size: u64) -> (Manager, Session) {
    let config = Config {
        root_acl: "Add=*&Get=*&Replace=*&Delete=*&Exec=*".into(),
        ..Config::default()
    };
    let mut cm = Manager::open(Box::new(MemoryStorage::new()), config).unwrap();
    cm.mount(
        "./Vendor/memory",
        Box::new(MemoryCsp::new("./Vendor/memory")),
        roles::MANAGER,
    )
    .unwrap();
    cm.mount("./test/execute", Box::new(Exec), roles::MANAGER)
        .unwrap();
    let mut sc = SessionConfig::new("IMEI:1", "http://127.0.0.1:8080/funambol/dm", "funambol");
    sc.encoding = encoding;
    sc.max_msg_size = max_msg_size;
    let mut s = Session::new(
        sc,
        Trigger::Server { session_id: 1 },
        vec![],
        Box::new(|b: &mut [u8]| b.fill(3)),
    );
    s.start();
    (cm, s)
}

/// A sample message from the shared samples (`../shared/samples/`).
pub fn sample(file: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/samples/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
