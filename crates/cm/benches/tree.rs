//! Tree benchmarks: Get and Replace of a leaf in a 10,000-node tree (in memory), the cost of
//! the ACL and role checks, and the latency of a durable commit (journal append + fsync).
//! Run: `cargo bench -p omadm-cm --bench tree`.

use std::time::{Duration, Instant};

use criterion::{criterion_main, Criterion};
use omadm_cm::roles::{self, RoleMap};
use omadm_cm::{
    AccessModel, Config, FileStorage, LeafValue, Manager, MemoryStorage, NewNode, Principal,
};

const LOCAL: Principal = Principal::Local {
    roles: roles::MANAGER,
};

/// 100 interior nodes of 99 leaves each under ./Bench (10,000 nodes and the root).
fn tree(config: Config) -> Manager {
    let mut m = Manager::open(Box::new(MemoryStorage::new()), config).unwrap();
    for i in 0..100 {
        for j in 0..99 {
            m.add(
                &LOCAL,
                &format!("./Bench/g{i}/leaf{j}"),
                NewNode::Leaf(LeafValue::text("value")),
            )
            .unwrap();
        }
    }
    m.persist().unwrap();
    m
}

/// Times `iters` Replaces; every 1,024 the changes are persisted (to memory) outside the timed
/// part, so the redo log does not grow without bound during a long measurement.
fn replace_timed(m: &mut Manager, who: &Principal, target: &str, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let batch = (iters - done).min(1024);
        let start = Instant::now();
        for _ in 0..batch {
            m.replace(who, target, LeafValue::text("other")).unwrap();
        }
        total += start.elapsed();
        m.persist().unwrap();
        done += batch;
    }
    total
}

fn bench_tree(c: &mut Criterion) {
    let mut m = tree(Config::default());
    assert!(m.store_len() > 10_000);
    let target = "./Bench/g57/leaf42";
    let mut group = c.benchmark_group("tree-10k");
    group.bench_function("get-leaf/local", |b| {
        b.iter(|| m.get(&LOCAL, target).unwrap())
    });
    group.bench_function("replace-leaf/local", |b| {
        b.iter_custom(|iters| replace_timed(&mut m, &LOCAL, target, iters))
    });
    m.replace(
        &LOCAL,
        "./Bench?prop=ACL",
        LeafValue::text("Get=srv&Replace=srv"),
    )
    .unwrap();
    let server = Principal::server("srv", roles::MANAGER);
    group.bench_function("get-leaf/acl-checked", |b| {
        b.iter(|| m.get(&server, target).unwrap())
    });
    group.bench_function("replace-leaf/acl-checked", |b| {
        b.iter_custom(|iters| replace_timed(&mut m, &server, target, iters))
    });
    let mut map = RoleMap::default();
    map.assign(&["Bench", "*"], roles::MANAGER | roles::OPERATOR);
    let mut r = tree(Config {
        access: AccessModel::Roles(map),
        ..Config::default()
    });
    let operator = Principal::server("op", roles::OPERATOR);
    group.bench_function("get-leaf/role-checked", |b| {
        b.iter(|| r.get(&operator, target).unwrap())
    });
    group.finish();

    let dir = std::env::temp_dir().join(format!("omadm-cm-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut d = Manager::open(
        Box::new(FileStorage::open(&dir).unwrap()),
        Config::default(),
    )
    .unwrap();
    d.add(&LOCAL, "./Durable/x", NewNode::Leaf(LeafValue::text("0")))
        .unwrap();
    d.persist().unwrap();
    let mut n = 0u64;
    let mut group = c.benchmark_group("durable");
    group.sample_size(30);
    group.bench_function("replace+persist (fsync)", |b| {
        b.iter(|| {
            n += 1;
            d.replace(&LOCAL, "./Durable/x", LeafValue::text(n.to_string()))
                .unwrap();
            d.persist().unwrap();
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

// criterion_group! generates an undocumented `pub fn`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench_tree);
}
criterion_main!(group::benches);
