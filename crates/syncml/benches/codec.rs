//! Decode and encode, XML and WBXML, for the 1.5 KB mixed package, the 13 KB 80-command
//! package and a 1 MB message (the 80-command body repeated), so that cost per byte can be
//! compared across sizes. Run: `cargo bench -p omadm-syncml --bench codec`.

use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use omadm_syncml::{wbxml, xml, Command, Limits, SyncMl};

fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The 80-command message grown to about `bytes` of XML by repeating its commands with
/// fresh CmdIDs.
pub fn grown<'a>(base: &SyncMl<'a>, bytes: usize) -> SyncMl<'a> {
    let mut msg = base.clone();
    let per_copy = xml::encode(base).len();
    let copies = bytes.div_ceil(per_copy);
    let mut id = 0u64;
    msg.body.commands = (0..copies)
        .flat_map(|_| base.body.commands.iter().cloned())
        .map(|mut c| {
            id += 1;
            if let Command::Add(x) | Command::Replace(x) | Command::Get(x) | Command::Delete(x) =
                &mut c
            {
                x.cmd_id = id.to_string().into();
            }
            c
        })
        .collect();
    msg
}

fn bench_codec(c: &mut Criterion) {
    let limits = Limits::default();
    let (mixed, cmds80) = (sample("pkg2_mixed.xml"), sample("pkg2_80cmds.xml"));
    let mixed = xml::decode(&mixed, &limits).unwrap();
    let cmds80 = xml::decode(&cmds80, &limits).unwrap();
    let big = grown(&cmds80, 1 << 20);
    let cases = [
        ("mixed-1.5KB", mixed),
        ("80cmds-13KB", cmds80),
        ("1MB", big),
    ];

    for (name, msg) in &cases {
        let x = xml::encode(msg);
        let w = wbxml::encode(msg);
        let mut group = c.benchmark_group(format!("codec/{name}"));
        if *name == "1MB" {
            group.sample_size(20);
        }
        group.throughput(Throughput::Bytes(x.len() as u64));
        group.bench_function(BenchmarkId::new("xml", "decode"), |b| {
            b.iter(|| xml::decode(&x, &limits).unwrap())
        });
        group.bench_function(BenchmarkId::new("xml", "encode"), |b| {
            b.iter(|| xml::encode(msg))
        });
        group.bench_function(BenchmarkId::new("xml", "decode+encode"), |b| {
            b.iter(|| xml::encode(&xml::decode(&x, &limits).unwrap()))
        });
        group.throughput(Throughput::Bytes(w.len() as u64));
        group.bench_function(BenchmarkId::new("wbxml", "decode"), |b| {
            b.iter(|| wbxml::decode(&w, &limits).unwrap())
        });
        group.bench_function(BenchmarkId::new("wbxml", "encode"), |b| {
            b.iter(|| wbxml::encode(msg))
        });
        group.bench_function(BenchmarkId::new("wbxml", "decode+encode"), |b| {
            b.iter(|| wbxml::encode(&wbxml::decode(&w, &limits).unwrap()))
        });
        group.finish();
    }
}

// criterion_group! generates an undocumented `pub fn`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench_codec);
}
criterion_main!(group::benches);
