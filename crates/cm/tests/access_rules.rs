//! Access control, both models: the OMA ACL (TND §7.7) and the Windows role masks.

mod common;
use common::*;
use omadm_cm::roles::{self, RoleMap};
use omadm_cm::{AccessModel, Config, Manager, MemoryStorage, NewNode, Principal};

fn local() -> Principal {
    Principal::Local {
        roles: roles::MANAGER,
    }
}
fn srv(id: &str) -> Principal {
    Principal::server(id, roles::MANAGER)
}
fn leaf(s: &str) -> NewNode<'static> {
    NewNode::Leaf(text(s))
}

#[test]
fn root_default_acl_lets_any_server_add_and_get_but_not_replace() {
    let mut m = manager();
    m.add(&srv("a"), "./X", leaf("1")).unwrap();
    assert!(m.get(&srv("b"), "./X").is_ok());
    assert_eq!(
        m.replace(&srv("a"), "./X", text("2")).unwrap_err().status,
        425
    );
    assert_eq!(m.delete(&srv("a"), "./X").unwrap_err().status, 425);
}

#[test]
fn acl_is_inherited_from_the_nearest_ancestor_with_one() {
    let mut m = manager();
    m.add(&local(), "./A/B/C", leaf("1")).unwrap();
    m.replace(&local(), "./A?prop=ACL", text("Get=a&Replace=a"))
        .unwrap();
    assert!(m.get(&srv("a"), "./A/B/C").is_ok());
    assert_eq!(m.get(&srv("b"), "./A/B/C").unwrap_err().status, 425);
    m.replace(&srv("a"), "./A/B/C", text("2")).unwrap();
    // A nearer ACL wins whole (no per-command merging).
    m.replace(&local(), "./A/B?prop=ACL", text("Get=b"))
        .unwrap();
    assert_eq!(m.get(&srv("a"), "./A/B/C").unwrap_err().status, 425);
    assert_eq!(
        m.replace(&srv("a"), "./A/B/C", text("3"))
            .unwrap_err()
            .status,
        425
    );
}

#[test]
fn get_of_an_empty_acl_returns_empty_not_the_inherited_value() {
    let mut m = manager();
    m.add(&local(), "./A", leaf("1")).unwrap();
    let items = m.get(&srv("a"), "./A?prop=ACL").unwrap();
    assert_eq!(items[0].data.as_deref(), Some(&b""[..]));
}

#[test]
fn star_and_multiple_servers() {
    let mut m = manager();
    m.add(&local(), "./A", leaf("1")).unwrap();
    m.replace(
        &local(),
        "./?prop=ACL".replace("./?", ".?").as_str(),
        text("Add=*&Get=*&Replace=x+y"),
    )
    .unwrap();
    m.replace(&srv("x"), "./A", text("2")).unwrap();
    m.replace(&srv("y"), "./A", text("3")).unwrap();
    assert_eq!(
        m.replace(&srv("z"), "./A", text("4")).unwrap_err().status,
        425
    );
}

#[test]
fn add_needs_add_on_the_nearest_existing_ancestor() {
    let mut m = manager();
    m.add(
        &local(),
        "./A",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    m.replace(&local(), "./A?prop=ACL", text("Add=a&Get=*"))
        .unwrap();
    m.add(&srv("a"), "./A/new/deep", leaf("1")).unwrap();
    assert_eq!(
        m.add(&srv("b"), "./A/other", leaf("1")).unwrap_err().status,
        425
    );
    assert!(!m.exists("./A/other"));
}

#[test]
fn leaf_acl_changes_need_replace_on_the_parent() {
    let mut m = manager();
    m.add(&local(), "./P/L", leaf("1")).unwrap();
    m.replace(&local(), "./P/L?prop=ACL", text("Replace=a&Get=*"))
        .unwrap();
    // Replace on the leaf itself covers its value but not its ACL.
    m.replace(&srv("a"), "./P/L", text("2")).unwrap();
    assert_eq!(
        m.replace(&srv("a"), "./P/L?prop=ACL", text("Get=a"))
            .unwrap_err()
            .status,
        425
    );
    m.replace(&local(), "./P?prop=ACL", text("Replace=a&Get=*"))
        .unwrap();
    m.replace(&srv("a"), "./P/L?prop=ACL", text("Get=a&Replace=a"))
        .unwrap();
}

#[test]
fn interior_acl_changes_need_replace_on_the_node_or_its_parent() {
    let mut m = manager();
    m.add(&local(), "./P/I/x", leaf("1")).unwrap();
    m.replace(&local(), "./P/I?prop=ACL", text("Replace=a&Get=*"))
        .unwrap();
    m.replace(&srv("a"), "./P/I?prop=ACL", text("Replace=a+b&Get=*"))
        .unwrap();
    assert_eq!(
        m.replace(&srv("c"), "./P/I?prop=ACL", text("Get=c"))
            .unwrap_err()
            .status,
        425
    );
}

#[test]
fn invalid_acl_values_are_refused() {
    let mut m = manager();
    m.add(&local(), "./A/B", leaf("1")).unwrap();
    assert_eq!(
        m.replace(&local(), "./A/B?prop=ACL", text("Get="))
            .unwrap_err()
            .status,
        400
    );
    assert_eq!(
        m.replace(&local(), "./A/B?prop=ACL", text("Fetch=*"))
            .unwrap_err()
            .status,
        400
    );
}

#[test]
fn server_adding_interior_without_replace_on_parent_gets_add_delete_replace() {
    let mut m = manager();
    m.add(
        &srv("a"),
        "./Mine",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    let acl = m.get(&local(), "./Mine?prop=ACL").unwrap();
    assert_eq!(
        acl[0].data.as_deref(),
        Some(&b"Add=a&Delete=a&Replace=a"[..])
    );
    m.add(&srv("a"), "./Mine/x", leaf("1")).unwrap();
    m.delete(&srv("a"), "./Mine").unwrap();
}

#[test]
fn list_struct_leaves_out_nodes_the_server_may_not_get() {
    let mut m = manager();
    m.add(&local(), "./A/open", leaf("1")).unwrap();
    m.add(&local(), "./A/closed/x", leaf("2")).unwrap();
    m.replace(&local(), "./A/closed?prop=ACL", text("Get=other"))
        .unwrap();
    let items = m.get(&srv("a"), "./A?list=Struct").unwrap();
    let uris: Vec<&str> = items.iter().map(|i| &*i.uri).collect();
    assert_eq!(uris, ["./A", "./A/open"]);
}

#[test]
fn copy_needs_get_on_the_source() {
    let mut m = manager();
    m.add(&local(), "./S", leaf("1")).unwrap();
    m.replace(&local(), "./S?prop=ACL", text("Get=x")).unwrap();
    assert_eq!(m.copy(&srv("a"), "./S", "./T").unwrap_err().status, 425);
    m.copy(&srv("x"), "./S", "./T").unwrap();
}

fn role_manager(map: RoleMap) -> Manager {
    let config = Config {
        access: AccessModel::Roles(map),
        root_role: roles::MANAGER,
        ..Config::default()
    };
    Manager::open(Box::new(MemoryStorage::new()), config).unwrap()
}

#[test]
fn role_model_denies_servers_without_a_shared_bit() {
    let mut m = role_manager(RoleMap::default());
    let operator = Principal::server("op", roles::OPERATOR);
    let manager_srv = Principal::server("mgr", roles::MANAGER | roles::USER_AUTH);
    m.add(&manager_srv, "./A", leaf("1")).unwrap();
    assert_eq!(m.get(&operator, "./A").unwrap_err().status, 425);
    assert_eq!(m.add(&operator, "./B", leaf("1")).unwrap_err().status, 425);
}

#[test]
fn role_model_checks_add_at_the_target_child_assigned_in_advance() {
    let mut map = RoleMap::default();
    map.assign(&["Op", "*"], roles::OPERATOR);
    let mut m = role_manager(map);
    let operator = Principal::server("op", roles::OPERATOR);
    m.add(
        &Principal::Local {
            roles: roles::MANAGER,
        },
        "./Op",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    // The parent ./Op is MANAGER-only, but the child pattern grants OPERATOR: allowed.
    m.add(&operator, "./Op/acct", leaf("1")).unwrap();
    assert_eq!(m.get(&operator, "./Op").unwrap_err().status, 425);
    assert!(m.get(&operator, "./Op/acct").is_ok());
}

#[test]
fn access_role_property_is_read_and_set_but_cannot_grant_unheld_roles() {
    let mut m = role_manager(RoleMap::default());
    let mgr = Principal::server("mgr", roles::MANAGER);
    m.add(&mgr, "./A", leaf("1")).unwrap();
    let items = m.get(&mgr, "./A?prop=msft%3AAccessRole").unwrap();
    assert_eq!(items[0].data.as_deref(), Some(&b"8"[..]));
    assert_eq!(
        m.replace(&mgr, "./A?prop=msft%3AAccessRole", text("136"))
            .unwrap_err()
            .status,
        425
    );
    m.replace(
        &Principal::server("both", roles::MANAGER | roles::OPERATOR_TPS),
        "./A?prop=msft%3AAccessRole",
        text("136"),
    )
    .unwrap();
    assert!(m
        .get(&Principal::server("tps", roles::OPERATOR_TPS), "./A")
        .is_ok());
}

#[test]
fn local_callers_are_checked_by_role_but_not_by_acl() {
    let mut m = role_manager(RoleMap::default());
    assert_eq!(
        m.add(
            &Principal::Local {
                roles: roles::USER_UNAUTH
            },
            "./A",
            leaf("1")
        )
        .unwrap_err()
        .status,
        425
    );
    let mut m = manager();
    m.add(&local(), "./A", leaf("1")).unwrap();
    m.replace(&local(), "./A?prop=ACL", text("Get=nobody"))
        .unwrap();
    assert!(m.get(&Principal::Local { roles: 0 }, "./A").is_ok());
}

#[test]
fn deleting_a_server_removes_it_from_every_acl() {
    let mut m = manager();
    m.add(&local(), "./A/B", leaf("1")).unwrap();
    m.replace(&local(), "./A?prop=ACL", text("Get=gone+kept&Replace=gone"))
        .unwrap();
    m.replace(&local(), ".?prop=ACL", text("Add=gone&Get=*"))
        .unwrap();
    m.remove_server_from_acls("gone");
    assert_eq!(
        m.get(&local(), "./A?prop=ACL").unwrap()[0].data.as_deref(),
        Some(&b"Get=kept"[..])
    );
    assert_eq!(
        m.get(&local(), ".?prop=ACL").unwrap()[0].data.as_deref(),
        Some(&b"Get=*"[..])
    );
}

#[test]
fn an_acl_change_is_in_force_for_the_next_command_however_it_was_made() {
    let mut m = manager();
    m.add(&local(), "./A/B/C", leaf("1")).unwrap();
    m.add(&local(), "./A/B/D", leaf("1")).unwrap();
    // The same parent twice: the second check may reuse what the first looked up.
    assert!(m.get(&srv("a"), "./A/B/C").is_ok());
    assert!(m.get(&srv("a"), "./A/B/D").is_ok());

    // A changed ACL on an ancestor.
    m.replace(&local(), "./A?prop=ACL", text("Get=b")).unwrap();
    assert_eq!(m.get(&srv("a"), "./A/B/C").unwrap_err().status, 425);
    assert!(m.get(&srv("b"), "./A/B/C").is_ok());

    // A nearer one, then that node deleted and re-created without it.
    m.replace(&local(), "./A/B?prop=ACL", text("Get=a"))
        .unwrap();
    assert!(m.get(&srv("a"), "./A/B/C").is_ok());
    m.delete(&local(), "./A/B").unwrap();
    m.add(&local(), "./A/B/C", leaf("1")).unwrap();
    assert_eq!(m.get(&srv("a"), "./A/B/C").unwrap_err().status, 425);

    // An Atomic that grants, rolled back.
    m.begin_atomic().unwrap();
    m.replace(&local(), "./A?prop=ACL", text("Get=a")).unwrap();
    assert!(m.get(&srv("a"), "./A/B/C").is_ok());
    m.rollback_atomic().unwrap();
    assert_eq!(m.get(&srv("a"), "./A/B/C").unwrap_err().status, 425);
}

#[test]
fn verdicts_at_one_node_differ_by_command_and_server() {
    let mut m = manager();
    m.add(&local(), "./A/B/C", leaf("1")).unwrap();
    m.add(&local(), "./A/B/D", leaf("1")).unwrap();
    m.replace(&local(), "./A?prop=ACL", text("Get=a+b&Replace=b&Delete=a"))
        .unwrap();
    for _ in 0..2 {
        assert!(m.get(&srv("a"), "./A/B/C").is_ok());
        assert_eq!(
            m.replace(&srv("a"), "./A/B/C", text("2"))
                .unwrap_err()
                .status,
            425
        );
        assert!(m.replace(&srv("b"), "./A/B/C", text("2")).is_ok());
        assert!(m.get(&srv("b"), "./A/B/C").is_ok());
        assert_eq!(m.get(&srv("c"), "./A/B/C").unwrap_err().status, 425);
        assert_eq!(m.delete(&srv("b"), "./A/B/D").unwrap_err().status, 425);
    }
    m.delete(&srv("a"), "./A/B/D").unwrap();
}

#[test]
fn verdicts_stay_right_across_many_places_servers_and_acl_changes() {
    // Five places under their own ACLs (more than the Manager remembers at once), asked in
    // turn by two servers; every answer is checked against the ACLs as they are then.
    let mut m = manager();
    let places = ["./P0", "./P1", "./P2", "./P3", "./P4"];
    let mut acls: Vec<String> = Vec::new();
    for (i, place) in places.iter().enumerate() {
        m.add(&local(), &format!("{place}/n"), leaf("1")).unwrap();
        let acl = if i % 2 == 0 { "Get=a" } else { "Get=b" };
        m.replace(&local(), &format!("{place}?prop=ACL"), text(acl))
            .unwrap();
        acls.push(acl.to_owned());
    }
    let allowed = |acls: &[String], i: usize, who: &str| acls[i] == format!("Get={who}");
    let mut step = 0;
    for round in 0..6 {
        for (i, place) in places.iter().enumerate().rev() {
            for who in ["a", "b"] {
                let got = m.get(&srv(who), &format!("{place}/n")).is_ok();
                assert_eq!(got, allowed(&acls, i, who), "round {round}, {place}, {who}");
                step += 1;
                if step % 7 == 0 {
                    // The ACL changes between two Gets of the same place.
                    let flipped = if acls[i] == "Get=a" { "Get=b" } else { "Get=a" };
                    m.replace(&local(), &format!("{place}?prop=ACL"), text(flipped))
                        .unwrap();
                    acls[i] = flipped.to_owned();
                }
            }
        }
    }
}

#[test]
fn a_mount_points_acl_rules_the_csps_nodes_and_nothing_beside_them() {
    let mut m = manager();
    // Store nodes whose names start like the mount's, above and beside it.
    m.add(&local(), "./V/xy", leaf("store")).unwrap();
    m.add(&local(), "./Vx", leaf("store")).unwrap();
    m.replace(&local(), "./V?prop=ACL", text("Get=*&Replace=s2"))
        .unwrap();
    m.mount("./V/x", Box::new(TestCsp::new("./V/x")), roles::MANAGER)
        .unwrap();
    m.add(&local(), "./V/x/a", leaf("1")).unwrap();
    m.add(&local(), "./V/x/a/b", leaf("1")).unwrap_err();
    m.add(
        &local(),
        "./V/x/c",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    m.add(&local(), "./V/x/c/d", leaf("1")).unwrap();
    // Without a mount ACL the CSP's nodes inherit the store's, above the mount point.
    for target in ["./V/x", "./V/x/a", "./V/x/c/d"] {
        assert!(m.get(&srv("s1"), target).is_ok(), "{target}");
    }
    assert_eq!(
        m.replace(&srv("s1"), "./V/x/a", text("2"))
            .unwrap_err()
            .status,
        425
    );
    m.replace(&srv("s2"), "./V/x/c/d", text("2")).unwrap();
    // The mount point's ACL rules at it and at every depth below it.
    m.set_mount_acl("./V/x", "Get=s1&Replace=s1").unwrap();
    for target in ["./V/x", "./V/x/a", "./V/x/c", "./V/x/c/d"] {
        assert!(m.get(&srv("s1"), target).is_ok(), "{target}");
        assert_eq!(
            m.get(&srv("s2"), target).unwrap_err().status,
            425,
            "{target}"
        );
    }
    m.replace(&srv("s1"), "./V/x/a", text("3")).unwrap();
    m.replace(&srv("s1"), "./V/x/c/d", text("3")).unwrap();
    assert_eq!(
        m.replace(&srv("s2"), "./V/x/c/d", text("4"))
            .unwrap_err()
            .status,
        425
    );
    // Above and beside the mount, the store's ACLs still rule.
    assert!(m.get(&srv("s2"), "./V/xy").is_ok());
    assert!(m.get(&srv("s2"), "./Vx").is_ok());
    m.replace(&srv("s2"), "./V/xy", text("5")).unwrap();
    assert_eq!(
        m.replace(&srv("s1"), "./V/xy", text("5"))
            .unwrap_err()
            .status,
        425
    );
}

#[test]
fn places_inheriting_different_acls_keep_their_own_verdicts_in_any_order() {
    // ./A and ./B hold ACLs of their own; ./AB (a name that starts as ./A does) and the rest
    // inherit the root's: its own, or with none (a device configured so) the TND's default,
    // which lets any server read. The servers each target lets read, for both roots.
    let own_root = [
        ("./A/x", "t"),
        ("./AB/y", "s"),
        ("./B/z", "u"),
        ("./A/C/w", "t"),
        ("./A", "t"),
        ("./AB", "s"),
        ("./B", "u"),
        (".", "s"),
    ];
    let default_root = own_root.map(|(target, ids)| (target, if ids == "s" { "stu" } else { ids }));
    for (root_acl, expected) in [("Add=*&Get=s", own_root), ("", default_root)] {
        let config = Config {
            root_acl: root_acl.into(),
            ..Config::default()
        };
        let mut m = Manager::open(Box::new(MemoryStorage::new()), config).unwrap();
        for target in ["./A/x", "./AB/y", "./B/z", "./A/C/w"] {
            m.add(&local(), target, leaf("1")).unwrap();
        }
        m.replace(&local(), "./A?prop=ACL", text("Get=t")).unwrap();
        m.replace(&local(), "./B?prop=ACL", text("Get=u")).unwrap();
        // By one server at a time (the store's ACL lookups are remembered per server): more
        // places than are remembered, asked in turn, forwards and backwards, twice.
        for id in ["s", "t", "u", "s"] {
            for _ in 0..2 {
                for (target, ids) in expected.iter().chain(expected.iter().rev()) {
                    let allowed = ids.contains(id);
                    assert_eq!(
                        m.get(&srv(id), target).is_ok(),
                        allowed,
                        "{root_acl:?}: {id} {target}"
                    );
                }
            }
        }
    }
}
