//! The FUMO management object as a server drives it (FUMO 1.0 and the WM 6.5 FwUpdate CSP):
//! structure, Exec with and without what it needs, the state machine, the package delivered in
//! the session, the digest extension, and durability across a restart.

use omadm_cm::roles;
use omadm_cm::{Config, LeafValue, Manager, MemoryStorage, NewNode, Principal};
use omadm_csp::fumo::{FumoState, FumoStore, Operation, DEFAULT_FUMO_ROOT, FUMO_MO};

const PKG: &str = "./FwUpdate/pkg1";

fn srv() -> Principal {
    Principal::server("srv", roles::MANAGER)
}

fn device(storage: MemoryStorage) -> (Manager, FumoStore) {
    let mut m = Manager::open(
        Box::new(MemoryStorage::new()),
        Config {
            root_acl: "Add=*&Get=*&Replace=*&Delete=*&Exec=*".into(),
            ..Config::default()
        },
    )
    .unwrap();
    let store = FumoStore::open(Box::new(storage)).unwrap();
    m.mount(
        DEFAULT_FUMO_ROOT,
        Box::new(store.csp(DEFAULT_FUMO_ROOT)),
        roles::MANAGER | roles::OPERATOR_TPS,
    )
    .unwrap();
    (m, store)
}

fn get(m: &mut Manager, uri: &str) -> Result<String, u16> {
    m.get(&srv(), uri)
        .map(|items| String::from_utf8(items[0].data.clone().unwrap_or_default()).unwrap())
        .map_err(|e| e.status)
}

fn add(m: &mut Manager, uri: &str, v: &str) -> Result<(), u16> {
    m.add(&srv(), uri, NewNode::Leaf(LeafValue::text(v)))
        .map_err(|e| e.status)
}

fn exec(m: &mut Manager, uri: &str, correlator: Option<&str>) -> Result<u16, u16> {
    m.exec(&srv(), uri, b"", correlator)
        .map(|o| match o {
            omadm_cm::ExecOutcome::Done => 200,
            omadm_cm::ExecOutcome::Accepted => 202,
        })
        .map_err(|e| e.status)
}

#[test]
fn adding_pkg_url_creates_the_package_with_the_mo_structure() {
    let (mut m, _) = device(MemoryStorage::new());
    add(
        &mut m,
        &format!("{PKG}/DownloadAndUpdate/PkgURL"),
        "https://fw/x.bin",
    )
    .unwrap();
    add(&mut m, &format!("{PKG}/PkgName"), "Contoso OS").unwrap();
    let children = get(&mut m, PKG).unwrap();
    for name in [
        "PkgName",
        "Download",
        "Update",
        "DownloadAndUpdate",
        "State",
        "Ext",
    ] {
        assert!(
            children.split('/').any(|c| c == name),
            "{name} in {children}"
        );
    }
    assert_eq!(get(&mut m, &format!("{PKG}?prop=Type")).unwrap(), FUMO_MO);
    assert_eq!(get(&mut m, &format!("{PKG}/State")).unwrap(), "10");
    assert_eq!(add(&mut m, &format!("{PKG}/PkgName"), "again"), Err(418));
    assert_eq!(add(&mut m, &format!("{PKG}/State"), "50"), Err(418));
    assert_eq!(
        m.replace(&srv(), &format!("{PKG}/State"), LeafValue::text("50"))
            .unwrap_err()
            .status,
        405,
        "State is read-only"
    );
}

#[test]
fn exec_download_and_update_is_accepted_and_records_the_job() {
    let (mut m, store) = device(MemoryStorage::new());
    add(
        &mut m,
        &format!("{PKG}/DownloadAndUpdate/PkgURL"),
        "https://fw/x.bin",
    )
    .unwrap();
    let target = format!("{PKG}/DownloadAndUpdate");
    assert_eq!(exec(&mut m, &target, Some("corr-9")), Ok(202));
    assert_eq!(get(&mut m, &format!("{PKG}/State")).unwrap(), "30");
    let job = store.package("pkg1").unwrap().job.unwrap();
    assert_eq!(job.operation, Operation::DownloadAndUpdate);
    assert_eq!(job.correlator.as_deref(), Some("corr-9"));
    assert_eq!(job.server_id, "srv");
    assert_eq!(job.source, target);
    assert_eq!(exec(&mut m, &target, Some("corr-10")), Err(405), "busy");
    assert_eq!(m.delete(&srv(), PKG).unwrap_err().status, 405, "busy");
}

#[test]
fn exec_without_what_it_needs_is_not_allowed() {
    let (mut m, _) = device(MemoryStorage::new());
    m.add(
        &srv(),
        PKG,
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    assert_eq!(
        exec(&mut m, &format!("{PKG}/Download"), Some("c")),
        Err(405),
        "no PkgURL"
    );
    assert_eq!(
        exec(&mut m, &format!("{PKG}/Update"), Some("c")),
        Err(405),
        "no package"
    );
    assert_eq!(exec(&mut m, &format!("{PKG}/State"), Some("c")), Err(405));
    assert_eq!(exec(&mut m, "./FwUpdate/nope/Download", None), Err(404));
}

#[test]
fn a_package_delivered_as_pkg_data_is_ready_to_update_and_never_read_back() {
    let (mut m, store) = device(MemoryStorage::new());
    m.add(
        &srv(),
        PKG,
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    let data = LeafValue {
        data: vec![0xAB; 3000].into(),
        format: "bin".into(),
        type_: "application/octet-stream".into(),
    };
    m.replace(&srv(), &format!("{PKG}/Update/PkgData"), data)
        .unwrap();
    assert_eq!(get(&mut m, &format!("{PKG}/State")).unwrap(), "50");
    assert_eq!(get(&mut m, &format!("{PKG}/Update/PkgData")), Err(405));
    assert_eq!(store.package_data("pkg1").unwrap().len(), 3000);
    assert_eq!(exec(&mut m, &format!("{PKG}/Update"), None), Ok(202));
    assert_eq!(get(&mut m, &format!("{PKG}/State")).unwrap(), "60");
    assert_eq!(store.package("pkg1").unwrap().job.unwrap().correlator, None);
}

#[test]
fn the_digest_extension_takes_only_sha256() {
    let (mut m, store) = device(MemoryStorage::new());
    m.add(
        &srv(),
        PKG,
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    assert_eq!(
        add(&mut m, &format!("{PKG}/Ext/PkgDigest"), "md5:abc"),
        Err(400)
    );
    let hex = "AB".repeat(32);
    add(
        &mut m,
        &format!("{PKG}/Ext/PkgDigest"),
        &format!("sha256:{hex}"),
    )
    .unwrap();
    assert_eq!(store.package("pkg1").unwrap().digest, Some("ab".repeat(32)));
}

#[test]
fn an_atomic_rollback_removes_what_it_added() {
    let (mut m, store) = device(MemoryStorage::new());
    m.begin_atomic().unwrap();
    add(
        &mut m,
        &format!("{PKG}/Download/PkgURL"),
        "https://fw/x.bin",
    )
    .unwrap();
    m.rollback_atomic().unwrap();
    assert!(store.packages().is_empty());
}

#[test]
fn the_job_and_state_survive_a_restart() {
    let storage = MemoryStorage::new();
    {
        let (mut m, _) = device(storage.clone());
        add(
            &mut m,
            &format!("{PKG}/DownloadAndUpdate/PkgURL"),
            "https://fw/x.bin",
        )
        .unwrap();
        exec(&mut m, &format!("{PKG}/DownloadAndUpdate"), Some("c1")).unwrap();
    }
    let (mut m, store) = device(storage);
    assert_eq!(get(&mut m, &format!("{PKG}/State")).unwrap(), "30");
    let p = store.package("pkg1").unwrap();
    assert_eq!(p.state, FumoState::DownloadProgressing);
    assert_eq!(p.job.unwrap().correlator.as_deref(), Some("c1"));
}
