//! One server message in → one client message out, with in-memory CSPs: the 1.5 KB mixed
//! package and the 13 KB 80-command package, XML and WBXML. Setup (a fresh device and session
//! per iteration) is not timed. Run: `cargo bench -p omadm-dpu --bench session`.

mod device;

use criterion::{criterion_main, BatchSize, Criterion};
use omadm_dpu::SessionConfig;
use omadm_syncml::Encoding;

fn setup(encoding: Encoding) -> (omadm_cm::Manager, omadm_dpu::Session) {
    let defaults = SessionConfig::new("", "", "");
    device::device(encoding, defaults.max_msg_size)
}

fn bench_session(c: &mut Criterion) {
    let mut group = c.benchmark_group("dpu");
    for (name, file, encoding) in [
        ("mixed-1.5KB/xml", "pkg2_mixed.xml", Encoding::Xml),
        ("mixed-1.5KB/wbxml", "pkg2_mixed.wbxml", Encoding::Wbxml),
        ("80cmds-13KB/xml", "pkg2_80cmds.xml", Encoding::Xml),
        ("80cmds-13KB/wbxml", "pkg2_80cmds.wbxml", Encoding::Wbxml),
    ] {
        let message = device::sample(file);
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
