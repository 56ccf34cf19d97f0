//! One server message in → one client message out, with in-memory CSPs: the 1.5 KB mixed
//! package and the 13 KB 80-command package, XML and WBXML. Setup (a fresh device and session
//! per iteration) is not timed. Run: `cargo bench -p omadm-dpu --bench session`.

use criterion::{criterion_main, BatchSize, Criterion};
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

fn setup(encoding: Encoding) -> (Manager, Session) {
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
    let mut s = Session::new(
        sc,
        Trigger::Server { session_id: 1 },
        vec![],
        Box::new(|b: &mut [u8]| b.fill(3)),
    );
    s.start();
    (cm, s)
}

fn bench_session(c: &mut Criterion) {
    let mut group = c.benchmark_group("dpu");
    for (name, file, encoding) in [
        ("mixed-1.5KB/xml", "pkg2_mixed.xml", Encoding::Xml),
        ("mixed-1.5KB/wbxml", "pkg2_mixed.wbxml", Encoding::Wbxml),
        ("80cmds-13KB/xml", "pkg2_80cmds.xml", Encoding::Xml),
        ("80cmds-13KB/wbxml", "pkg2_80cmds.wbxml", Encoding::Wbxml),
    ] {
        let path = format!(
            "{}/../../../shared/samples/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let message = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        group.bench_function(name, |b| {
            b.iter_batched(
                || setup(encoding),
                |(mut cm, mut s)| s.handle(&mut cm, &message).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

// criterion_group! generates an undocumented `pub fn`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench_session);
}
criterion_main!(group::benches);
