//! Durable storage: what `persist` returned for survives a restart; damage is detected; a
//! crash at any point leaves the old or the new tree.

mod common;
use common::*;
use omadm_cm::{
    roles, Config, FileStorage, LoadError, Manager, MemoryStorage, NewNode, Principal, ResultItem,
};

fn local() -> Principal {
    Principal::Local {
        roles: roles::MANAGER,
    }
}

fn open_mem(storage: &MemoryStorage, threshold: u64) -> Result<Manager, LoadError> {
    let config = Config {
        snapshot_threshold: threshold,
        ..Config::default()
    };
    Manager::open(Box::new(storage.clone()), config)
}

fn listing(m: &mut Manager) -> Vec<ResultItem<'static>> {
    m.get(&local(), ".?list=StructData").unwrap()
}

#[test]
fn persisted_changes_survive_a_restart_and_unpersisted_ones_do_not() {
    let storage = MemoryStorage::new();
    let mut m = open_mem(&storage, 1 << 20).unwrap();
    m.add(&local(), "./A/B", NewNode::Leaf(text("1"))).unwrap();
    m.replace(&local(), "./A?prop=ACL", text("Get=*&Replace=x"))
        .unwrap();
    m.persist().unwrap();
    m.add(&local(), "./Lost", NewNode::Leaf(text("1"))).unwrap();
    let expected = m.get(&local(), "./A?list=StructData").unwrap();
    drop(m);
    let mut m = open_mem(&storage, 1 << 20).unwrap();
    assert_eq!(m.get(&local(), "./A?list=StructData").unwrap(), expected);
    assert_eq!(
        m.get(&local(), "./A?prop=ACL").unwrap()[0].data.as_deref(),
        Some(&b"Get=*&Replace=x"[..])
    );
    assert!(!m.exists("./Lost"));
}

#[test]
fn snapshots_replace_the_journal_and_reload_the_same_tree() {
    let storage = MemoryStorage::new();
    let mut m = open_mem(&storage, 2000).unwrap();
    for i in 0..200 {
        m.add(
            &local(),
            &format!("./N/{i}"),
            NewNode::Leaf(text(&i.to_string())),
        )
        .unwrap();
        if i % 3 == 0 {
            m.delete(&local(), &format!("./N/{}", i / 2)).ok();
        }
        m.persist().unwrap();
    }
    assert!(
        storage.journal_len() < 4000,
        "the journal was restarted by snapshots"
    );
    let expected = listing(&mut m);
    drop(m);
    let mut m = open_mem(&storage, 2000).unwrap();
    assert_eq!(listing(&mut m), expected);
    m.check_consistency().unwrap();
}

#[test]
fn a_damaged_journal_record_is_reported_not_half_loaded() {
    let storage = MemoryStorage::new();
    let mut m = open_mem(&storage, 1 << 20).unwrap();
    for i in 0..3 {
        m.add(&local(), &format!("./N{i}"), NewNode::Leaf(text("x")))
            .unwrap();
        m.persist().unwrap();
    }
    drop(m);
    storage.corrupt_journal_byte(16 + 40);
    match open_mem(&storage, 1 << 20) {
        Err(LoadError::Corrupt(why)) => assert!(why.contains("damaged"), "{why}"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("corrupt journal loaded"),
    }
}

#[test]
fn a_torn_last_record_is_dropped_and_appending_continues() {
    let scratch = tempdir("torn");
    let dir = scratch.path();
    {
        let mut m =
            Manager::open(Box::new(FileStorage::open(dir).unwrap()), Config::default()).unwrap();
        m.add(&local(), "./A", NewNode::Leaf(text("1"))).unwrap();
        m.persist().unwrap();
        m.add(&local(), "./B", NewNode::Leaf(text("2"))).unwrap();
        m.persist().unwrap();
    }
    let journal = dir.join("tree.journal");
    let len = std::fs::metadata(&journal).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&journal)
        .unwrap();
    f.set_len(len - 3).unwrap();
    drop(f);
    let mut m =
        Manager::open(Box::new(FileStorage::open(dir).unwrap()), Config::default()).unwrap();
    assert!(m.exists("./A") && !m.exists("./B"));
    m.add(&local(), "./C", NewNode::Leaf(text("3"))).unwrap();
    m.persist().unwrap();
    drop(m);
    let mut m =
        Manager::open(Box::new(FileStorage::open(dir).unwrap()), Config::default()).unwrap();
    assert!(m.exists("./A") && !m.exists("./B") && m.exists("./C"));
}

#[test]
fn a_damaged_snapshot_is_reported() {
    let scratch = tempdir("snap");
    let dir = scratch.path();
    {
        let config = Config {
            snapshot_threshold: 1,
            ..Config::default()
        };
        let mut m = Manager::open(Box::new(FileStorage::open(dir).unwrap()), config).unwrap();
        m.add(&local(), "./A", NewNode::Leaf(text("1"))).unwrap();
        m.persist().unwrap();
    }
    let snap = dir.join("tree.snap");
    let mut bytes = std::fs::read(&snap).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&snap, bytes).unwrap();
    assert!(matches!(
        Manager::open(Box::new(FileStorage::open(dir).unwrap()), Config::default()),
        Err(LoadError::Corrupt(_))
    ));
}

#[test]
fn atomic_changes_are_persisted_only_after_commit() {
    let storage = MemoryStorage::new();
    let mut m = open_mem(&storage, 1 << 20).unwrap();
    m.begin_atomic().unwrap();
    m.add(&local(), "./A", NewNode::Leaf(text("1"))).unwrap();
    assert!(m.persist().is_err(), "no persist inside an Atomic");
    m.rollback_atomic().unwrap();
    m.persist().unwrap();
    m.begin_atomic().unwrap();
    m.add(&local(), "./B", NewNode::Leaf(text("1"))).unwrap();
    m.commit_atomic().unwrap();
    m.persist().unwrap();
    drop(m);
    let mut m = open_mem(&storage, 1 << 20).unwrap();
    assert!(!m.exists("./A") && m.exists("./B"));
}

/// A fresh directory, removed with its contents when dropped.
fn tempdir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("omadm-cm-{name}-"))
        .tempdir()
        .unwrap()
}
