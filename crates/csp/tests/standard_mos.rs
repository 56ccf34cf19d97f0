//! The standard MOs mounted in a Manager, as a server sees them.

use omadm_cm::roles;
use omadm_cm::{Config, LeafValue, Manager, MemoryStorage, NewNode, Principal, UriLimits};
use omadm_csp::{
    AccountStore, AuthCreds, DevDetailCsp, DevInfoCsp, DeviceDetail, DeviceInfo, DmAccount,
    MemoryCsp,
};

fn info() -> DeviceInfo {
    DeviceInfo {
        dev_id: "IMEI:493005100592800".into(),
        man: "omadm".into(),
        model: "ref".into(),
        dm_v: "omadm-0.1".into(),
        lang: "en-US".into(),
        ext: vec![],
    }
}

fn detail() -> DeviceDetail {
    DeviceDetail {
        dev_typ: "phone".into(),
        oem: "o".into(),
        fw_v: "1".into(),
        sw_v: "2".into(),
        hw_v: "3".into(),
    }
}

fn account() -> DmAccount {
    DmAccount {
        server_id: "funambol".into(),
        name: "Funambol".into(),
        addr: "https://dm.example.com/dm".into(),
        client: Some(AuthCreds {
            auth_type: "DIGEST".into(),
            name: "dev".into(),
            secret: "clientpw".into(),
            data: vec![1, 2],
        }),
        server: Some(AuthCreds {
            auth_type: "DIGEST".into(),
            name: "funambol".into(),
            secret: "srvpwd".into(),
            data: vec![],
        }),
        ..DmAccount::default()
    }
}

struct Device {
    m: Manager,
    accounts: AccountStore,
    account_storage: MemoryStorage,
}

fn device_with(account_storage: MemoryStorage) -> Device {
    let mut m = Manager::open(Box::new(MemoryStorage::new()), Config::default()).unwrap();
    let accounts = AccountStore::open(Box::new(account_storage.clone())).unwrap();
    m.mount(
        "./DevInfo",
        Box::new(DevInfoCsp::new(&info())),
        roles::MANAGER,
    )
    .unwrap();
    m.mount(
        "./DevDetail",
        Box::new(DevDetailCsp::new(&detail(), &UriLimits::default(), true)),
        roles::MANAGER,
    )
    .unwrap();
    m.mount("./DMAcc", Box::new(accounts.v12_view()), roles::MANAGER)
        .unwrap();
    m.mount(
        "./SyncML/DMAcc",
        Box::new(accounts.v11_view()),
        roles::MANAGER,
    )
    .unwrap();
    m.mount(
        "./Vendor/memory",
        Box::new(MemoryCsp::new("./Vendor/memory")),
        roles::MANAGER,
    )
    .unwrap();
    Device {
        m,
        accounts,
        account_storage,
    }
}

fn device() -> Device {
    device_with(MemoryStorage::new())
}

fn srv(id: &str) -> Principal {
    Principal::server(id, roles::MANAGER)
}

fn get(m: &mut Manager, who: &Principal, uri: &str) -> Result<String, u16> {
    m.get(who, uri)
        .map(|i| String::from_utf8(i[0].data.clone().unwrap_or_default()).unwrap())
        .map_err(|e| e.status)
}

#[test]
fn devinfo_reports_the_device_and_is_read_only() {
    let mut d = device();
    assert_eq!(
        get(&mut d.m, &srv("x"), "./DevInfo/DevId").unwrap(),
        "IMEI:493005100592800"
    );
    assert_eq!(
        get(&mut d.m, &srv("x"), "./DevInfo").unwrap(),
        "DevId/DmV/Lang/Man/Mod"
    );
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    assert_eq!(
        d.m.replace(&local, "./DevInfo/Man", LeafValue::text("x"))
            .unwrap_err()
            .status,
        405
    );
    assert_eq!(d.m.delete(&local, "./DevInfo/Man").unwrap_err().status, 405);
    assert_eq!(
        d.m.add(&local, "./DevInfo/New", NewNode::Leaf(LeafValue::text("x")))
            .unwrap_err()
            .status,
        405
    );
}

#[test]
fn devdetail_reports_the_uri_limits_the_tree_enforces_and_large_object_support() {
    let mut d = device();
    let limits = UriLimits::default();
    assert_eq!(
        get(&mut d.m, &srv("x"), "./DevDetail/URI/MaxDepth").unwrap(),
        limits.max_depth.to_string()
    );
    assert_eq!(
        get(&mut d.m, &srv("x"), "./DevDetail/URI/MaxSegLen").unwrap(),
        limits.max_seg_len.to_string()
    );
    assert_eq!(
        get(&mut d.m, &srv("x"), "./DevDetail/LrgObj").unwrap(),
        "true"
    );
    assert_eq!(
        d.m.get(&srv("x"), "./DevDetail/LrgObj?prop=Format")
            .unwrap()[0]
            .data
            .as_deref(),
        Some(&b"bool"[..])
    );
    let too_deep = format!(
        "./{}",
        vec!["a"; usize::from(limits.max_depth) + 1].join("/")
    );
    assert_eq!(d.m.get(&srv("x"), &too_deep).unwrap_err().status, 414);
}

#[test]
fn bootstrapped_account_is_visible_in_both_forms_with_secrets_write_only() {
    let mut d = device();
    let x = d.accounts.create(&account(), roles::MANAGER).unwrap();
    let s = srv("funambol");
    assert_eq!(
        get(&mut d.m, &s, &format!("./DMAcc/{x}/ServerID")).unwrap(),
        "funambol"
    );
    assert_eq!(
        get(&mut d.m, &s, &format!("./DMAcc/{x}/AppID")).unwrap(),
        "w7"
    );
    assert_eq!(
        get(&mut d.m, &s, &format!("./SyncML/DMAcc/{x}/ServerId")).unwrap(),
        "funambol"
    );
    assert_eq!(
        get(&mut d.m, &s, &format!("./SyncML/DMAcc/{x}/Addr")).unwrap(),
        "https://dm.example.com/dm"
    );
    assert_eq!(
        get(&mut d.m, &s, &format!("./SyncML/DMAcc/{x}/UserName")).unwrap(),
        "dev"
    );
    for secret in [
        format!("./DMAcc/{x}/AppAuth/CLCRED/AAuthSecret"),
        format!("./DMAcc/{x}/AppAuth/SRVCRED/AAuthData"),
        format!("./SyncML/DMAcc/{x}/ServerPW"),
        format!("./SyncML/DMAcc/{x}/ClientPW"),
        format!("./SyncML/DMAcc/{x}/ClientNonce"),
    ] {
        assert_eq!(get(&mut d.m, &s, &secret).unwrap_err(), 405, "{secret}");
    }
    let target = format!("./DMAcc/{x}?list=StructData");
    let listed = d.m.get(&s, &target).unwrap();
    assert!(listed
        .iter()
        .all(|i| i.data.as_deref() != Some(&b"clientpw"[..])
            && i.data.as_deref() != Some(&b"srvpwd"[..])));
    assert!(
        !format!("{:?}", d.accounts.accounts()).contains("clientpw"),
        "Debug never prints secrets"
    );
}

#[test]
fn the_account_acl_gives_its_server_get_replace_delete_and_nobody_else() {
    let mut d = device();
    let x = d.accounts.create(&account(), roles::MANAGER).unwrap();
    assert_eq!(
        get(&mut d.m, &srv("other"), &format!("./DMAcc/{x}/Name")).unwrap_err(),
        425
    );
    assert_eq!(
        get(&mut d.m, &srv("other"), &format!("./SyncML/DMAcc/{x}/Name")).unwrap_err(),
        425,
        "the 1.1.2 view shares the ACL"
    );
    d.m.replace(
        &srv("funambol"),
        &format!("./DMAcc/{x}/Name"),
        LeafValue::text("renamed"),
    )
    .unwrap();
    assert_eq!(
        get(
            &mut d.m,
            &srv("funambol"),
            &format!("./SyncML/DMAcc/{x}/Name")
        )
        .unwrap(),
        "renamed"
    );
}

#[test]
fn a_1_1_2_write_changes_the_one_store() {
    let mut d = device();
    let x = d.accounts.create(&account(), roles::MANAGER).unwrap();
    let s = srv("funambol");
    d.m.replace(
        &s,
        &format!("./SyncML/DMAcc/{x}/ClientPW"),
        LeafValue::text("newpw"),
    )
    .unwrap();
    d.m.replace(
        &s,
        &format!("./SyncML/DMAcc/{x}/Addr"),
        LeafValue::text("https://new/dm"),
    )
    .unwrap();
    let a = d.accounts.find_by_server_id("funambol").unwrap();
    assert_eq!(a.client.unwrap().secret, "newpw");
    assert_eq!(a.addr, "https://new/dm");
}

#[test]
fn roles_never_grow_beyond_the_bootstrap() {
    let mut d = device();
    let x = d
        .accounts
        .create(&account(), roles::MANAGER | roles::OPERATOR)
        .unwrap();
    let strong = Principal::server("funambol", 0xFFFF);
    let role = format!("./DMAcc/{x}/Ext/Microsoft/Role");
    d.m.replace(&strong, &role, LeafValue::text("8")).unwrap();
    assert_eq!(
        d.accounts.find_by_server_id("funambol").unwrap().roles(),
        roles::MANAGER
    );
    assert_eq!(
        d.m.replace(&strong, &role, LeafValue::text("136"))
            .unwrap_err()
            .status,
        425,
        "OPERATOR_TPS is beyond the bootstrap"
    );
    assert_eq!(
        d.m.replace(
            &strong,
            &format!("./SyncML/DMAcc/{x}/Role"),
            LeafValue::text("136")
        )
        .unwrap_err()
        .status,
        425
    );
    let weak = Principal::server("funambol", roles::OPERATOR);
    assert_eq!(
        d.m.replace(&weak, &role, LeafValue::text("12"))
            .unwrap_err()
            .status,
        425,
        "a server cannot set a role it does not hold"
    );
    let bad = DmAccount {
        server_id: "b".into(),
        ext: omadm_csp::MsExt {
            role: Some(roles::MANAGER),
            ..Default::default()
        },
        ..account()
    };
    assert_eq!(
        d.accounts.create(&bad, roles::OPERATOR).unwrap_err().status,
        425
    );
}

#[test]
fn an_account_added_by_a_server_is_capped_at_that_server_roles() {
    let mut d = device();
    let op = Principal::server("op", roles::OPERATOR);
    d.m.add(
        &op,
        "./DMAcc/new",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    d.m.add(
        &op,
        "./DMAcc/new/ServerID",
        NewNode::Leaf(LeafValue::text("new")),
    )
    .unwrap();
    let a = d.accounts.find_by_server_id("new").unwrap();
    assert_eq!(a.ceiling, roles::OPERATOR);
    let manager = Principal::server("m", roles::MANAGER | roles::OPERATOR);
    assert_eq!(
        d.m.add(
            &manager,
            "./DMAcc/new/Ext/Microsoft/Role",
            NewNode::Leaf(LeafValue::text("8"))
        )
        .unwrap_err()
        .status,
        425
    );
}

#[test]
fn accounts_are_durable_and_atomic_rollback_covers_them() {
    let storage = MemoryStorage::new();
    let mut d = device_with(storage.clone());
    let x = d.accounts.create(&account(), roles::MANAGER).unwrap();
    let s = srv("funambol");
    d.m.begin_atomic().unwrap();
    d.m.replace(
        &s,
        &format!("./DMAcc/{x}/Name"),
        LeafValue::text("in atomic"),
    )
    .unwrap();
    d.m.replace(
        &s,
        &format!("./SyncML/DMAcc/{x}/Addr"),
        LeafValue::text("https://atomic"),
    )
    .unwrap();
    d.m.rollback_atomic().unwrap();
    assert_eq!(
        get(&mut d.m, &s, &format!("./DMAcc/{x}/Name")).unwrap(),
        "Funambol"
    );
    d.m.replace(&s, &format!("./DMAcc/{x}/Name"), LeafValue::text("kept"))
        .unwrap();
    d.accounts
        .set_nonce("funambol", "SRVCRED", b"\x00\x01nonce")
        .unwrap();
    drop(d);
    let mut d = device_with(storage);
    assert_eq!(
        get(&mut d.m, &s, &format!("./DMAcc/{x}/Name")).unwrap(),
        "kept"
    );
    let a = d.accounts.find_by_server_id("funambol").unwrap();
    assert_eq!(a.server.unwrap().data, b"\x00\x01nonce");
    assert_eq!(a.ext.conn_retry_freq, 3);
    let _ = &d.account_storage;
}

#[test]
fn deleting_an_account_through_either_view_removes_it() {
    let mut d = device();
    let x = d.accounts.create(&account(), roles::MANAGER).unwrap();
    d.m.delete(&srv("funambol"), &format!("./SyncML/DMAcc/{x}"))
        .unwrap();
    assert!(d.accounts.find_by_server_id("funambol").is_none());
    assert_eq!(
        get(&mut d.m, &srv("funambol"), &format!("./DMAcc/{x}")).unwrap_err(),
        404
    );
}

#[test]
fn memory_csp_supports_every_command() {
    let mut d = device();
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    d.m.add(
        &local,
        "./Vendor/memory/a/b",
        NewNode::Leaf(LeafValue::text("1")),
    )
    .unwrap();
    d.m.replace(&local, "./Vendor/memory/a/b", LeafValue::text("2"))
        .unwrap();
    d.m.copy(&local, "./Vendor/memory/a", "./Vendor/memory/c")
        .unwrap();
    assert_eq!(get(&mut d.m, &local, "./Vendor/memory/c/b").unwrap(), "2");
    d.m.delete(&local, "./Vendor/memory/a").unwrap();
    assert_eq!(get(&mut d.m, &local, "./Vendor/memory").unwrap(), "c");
}

// ---- Issue 12.1: one server can never take over another's account ----------------------
// ServerID is unique across accounts: a duplicate is refused with 418 (Already exists) by
// every path that writes a ServerID, and nothing changes.

fn attacker_account(d: &mut Device) -> String {
    let mut a = account();
    a.server_id = "attacker".into();
    a.addr = "https://evil.example.com/dm".into();
    d.accounts.create(&a, roles::MANAGER).unwrap()
}

fn only_one_account_claims(d: &Device, server_id: &str) {
    let n = d
        .accounts
        .accounts()
        .iter()
        .filter(|a| a.server_id == server_id)
        .count();
    assert_eq!(n, 1, "accounts claiming {server_id}");
    assert_eq!(
        d.accounts.find_by_server_id(server_id).unwrap().addr,
        "https://dm.example.com/dm",
        "the victim's account is the one found"
    );
}

#[test]
fn a_server_cannot_add_an_account_with_another_servers_id() {
    let mut d = device();
    d.accounts.create(&account(), roles::MANAGER).unwrap();
    attacker_account(&mut d);
    let evil = srv("attacker");
    d.m.add(
        &evil,
        "./DMAcc/evil",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    let refused =
        d.m.add(
            &evil,
            "./DMAcc/evil/ServerID",
            NewNode::Leaf(LeafValue::text("funambol")),
        )
        .unwrap_err();
    assert_eq!(refused.status, 418, "{refused}");
    only_one_account_claims(&d, "funambol");
}

#[test]
fn a_server_cannot_rename_its_account_to_another_servers_id() {
    let mut d = device();
    d.accounts.create(&account(), roles::MANAGER).unwrap();
    let x = attacker_account(&mut d);
    let evil = srv("attacker");
    for path in [
        format!("./DMAcc/{x}/ServerID"),
        format!("./SyncML/DMAcc/{x}/ServerId"),
    ] {
        let refused =
            d.m.replace(&evil, &path, LeafValue::text("funambol"))
                .unwrap_err();
        assert_eq!(refused.status, 418, "{path}: {refused}");
    }
    assert_eq!(
        get(&mut d.m, &evil, &format!("./DMAcc/{x}/ServerID")).unwrap(),
        "attacker"
    );
    only_one_account_claims(&d, "funambol");
    // Its own id again, or a new unique one, is fine.
    d.m.replace(
        &evil,
        &format!("./DMAcc/{x}/ServerID"),
        LeafValue::text("attacker"),
    )
    .unwrap();
}

#[test]
fn the_1_1_2_view_refuses_a_duplicate_server_id_too() {
    let mut d = device();
    d.accounts.create(&account(), roles::MANAGER).unwrap();
    let evil = srv("attacker");
    d.m.add(
        &evil,
        "./SyncML/DMAcc/evil",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    let refused =
        d.m.add(
            &evil,
            "./SyncML/DMAcc/evil/ServerId",
            NewNode::Leaf(LeafValue::text("funambol")),
        )
        .unwrap_err();
    assert_eq!(refused.status, 418, "{refused}");
    only_one_account_claims(&d, "funambol");
}

#[test]
fn copying_another_accounts_server_id_is_refused() {
    let mut d = device();
    let victim = d.accounts.create(&account(), roles::MANAGER).unwrap();
    // A server that may read the victim's account (here: the victim itself, copying into an
    // account it created) still cannot make a second account with its id.
    let s = srv("funambol");
    d.m.add(
        &s,
        "./DMAcc/copy",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    let refused =
        d.m.copy(
            &s,
            &format!("./DMAcc/{victim}/ServerID"),
            "./DMAcc/copy/ServerID",
        )
        .unwrap_err();
    assert_eq!(refused.status, 418, "{refused}");
    only_one_account_claims(&d, "funambol");
}

#[test]
fn a_bootstrap_with_an_existing_server_id_is_refused_and_changes_nothing() {
    let d = device();
    d.accounts.create(&account(), roles::MANAGER).unwrap();
    let mut again = account();
    again.addr = "https://evil.example.com/dm".into();
    let refused = d.accounts.create(&again, roles::MANAGER).unwrap_err();
    assert_eq!(refused.status, 418, "{refused}");
    assert_eq!(d.accounts.accounts().len(), 1);
    only_one_account_claims(&d, "funambol");
}

#[test]
fn an_atomic_cannot_slip_a_duplicate_in() {
    let mut d = device();
    d.accounts.create(&account(), roles::MANAGER).unwrap();
    let evil = srv("attacker");
    d.m.begin_atomic().unwrap();
    d.m.add(
        &evil,
        "./DMAcc/evil",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    let refused =
        d.m.add(
            &evil,
            "./DMAcc/evil/ServerID",
            NewNode::Leaf(LeafValue::text("funambol")),
        )
        .unwrap_err();
    assert_eq!(refused.status, 418);
    d.m.rollback_atomic().unwrap();
    only_one_account_claims(&d, "funambol");
}

#[test]
fn csps_promising_no_properties_answer_none() {
    use omadm_cm::{Csp, CspError};
    use omadm_csp::SyncAccountCsp;
    let mut memory = MemoryCsp::new("./Vendor/memory");
    memory
        .add("./Vendor/memory/a", Some(&LeafValue::text("1")))
        .unwrap();
    let csps: Vec<(Box<dyn Csp>, &[&str])> = vec![
        (
            Box::new(DevInfoCsp::new(&info())),
            &["./DevInfo", "./DevInfo/DevId", "./DevInfo/Ext"],
        ),
        (
            Box::new(DevDetailCsp::new(&detail(), &UriLimits::default(), true)),
            &["./DevDetail", "./DevDetail/FwV"],
        ),
        (
            Box::new(SyncAccountCsp::new("./Vendor/MSFT/ActiveSync")),
            &[
                "./Vendor/MSFT/ActiveSync",
                "./Vendor/MSFT/ActiveSync/Accounts",
            ],
        ),
        (Box::new(memory), &["./Vendor/memory", "./Vendor/memory/a"]),
    ];
    for (mut csp, paths) in csps {
        // The promise the Manager relies on to skip asking: whatever node and name,
        // `NotSupported` (the Manager's defaults then answer).
        assert!(!csp.keeps_properties(), "{paths:?}");
        for path in paths {
            assert!(csp.node(path).is_ok(), "{path}");
            for name in [
                "ACL",
                "msft:AccessRole",
                "Title",
                "Format",
                "Type",
                "Name",
                "Size",
            ] {
                assert_eq!(
                    csp.get_property(path, name),
                    Err(CspError::NotSupported),
                    "{path}?prop={name}"
                );
            }
        }
    }
}
