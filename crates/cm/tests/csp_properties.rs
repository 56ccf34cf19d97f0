//! A CSP that keeps no run-time properties ([`omadm_cm::Csp::keeps_properties`] false) is
//! never asked for one, and every command is answered as when it is asked and says so.

mod common;
use common::*;
use omadm_cm::roles::{self, RoleMap};
use omadm_cm::{AccessModel, Config, Manager, MemoryStorage, NewNode, Principal};

fn leaf(s: &str) -> NewNode<'static> {
    NewNode::Leaf(text(s))
}

fn interior() -> NewNode<'static> {
    NewNode::Interior {
        type_: String::new(),
    }
}

/// How the device is set up around the test CSP at `./M/V`.
#[derive(Debug, Clone, Copy)]
enum Setup {
    /// OMA ACLs: the store's `./M` has its own ACL, the mount point none.
    StoreAcl,
    /// OMA ACLs: the device set the mount point's ACL.
    MountAcl,
    /// OMA ACLs: no ACL anywhere but the root's default.
    RootDefault,
    /// Windows role masks.
    Roles,
}

/// What each command of a fixed run answered (its results, or its status and message), and
/// every property the CSP was asked for.
fn answers(setup: Setup, keeps_no_properties: bool) -> (Vec<String>, Vec<String>) {
    let access = match setup {
        Setup::Roles => AccessModel::Roles(RoleMap::default()),
        _ => AccessModel::OmaAcl,
    };
    let config = Config {
        access,
        root_role: roles::MANAGER,
        ..Config::default()
    };
    let mut m = Manager::open(Box::new(MemoryStorage::new()), config).unwrap();
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    m.add(&local, "./M", interior()).unwrap();
    let mut csp = TestCsp::new("./M/V");
    csp.keeps_no_properties = keeps_no_properties;
    let asked = csp.properties.clone();
    m.mount("./M/V", Box::new(csp), roles::MANAGER | roles::OPERATOR)
        .unwrap();
    m.add(&local, "./M/V/leaf", leaf("1")).unwrap();
    m.add(&local, "./M/V/dir/x", leaf("2")).unwrap();
    match setup {
        Setup::StoreAcl => m
            .replace(
                &local,
                "./M?prop=ACL",
                text("Get=a+b&Replace=a&Add=b&Delete=b"),
            )
            .unwrap(),
        Setup::MountAcl => m
            .set_mount_acl("./M/V", "Get=a&Replace=a+b&Add=a&Delete=a")
            .unwrap(),
        Setup::RootDefault | Setup::Roles => {}
    }
    let mut out = Vec::new();
    for who in [
        Principal::server("a", roles::OPERATOR),
        Principal::server("b", roles::MANAGER),
        Principal::server("c", roles::USER_AUTH),
        local.clone(),
    ] {
        let mut record = |what: &str, result: Result<String, omadm_cm::CmError>| {
            out.push(match result {
                Ok(ok) => format!("{who:?} {what}: {ok}"),
                Err(e) => format!("{who:?} {what}: {} {}", e.status, e.message),
            })
        };
        for target in [
            "./M/V",
            "./M/V/leaf",
            "./M/V/dir/x",
            "./M/V?prop=ACL",
            "./M/V/leaf?prop=ACL",
            "./M/V/leaf?prop=Title",
            "./M/V/leaf?prop=Format",
            "./M/V/dir?prop=Name",
            "./M/V/leaf?prop=msft:AccessRole",
        ] {
            let got = m.get(&who, target).map(|items| format!("{items:?}"));
            record(&format!("Get {target}"), got);
        }
        let replaced = m.replace(&who, "./M/V/leaf", text("9"));
        record("Replace ./M/V/leaf", replaced.map(|()| String::new()));
        let added = m.add(&who, "./M/V/new", leaf("n"));
        record("Add ./M/V/new", added.map(|()| String::new()));
        let deleted = m.delete(&who, "./M/V/new");
        record("Delete ./M/V/new", deleted.map(|()| String::new()));
    }
    let asked = asked.lock().unwrap().clone();
    (out, asked)
}

#[test]
fn a_csp_keeping_no_properties_is_never_asked_and_answers_stay_the_same() {
    for setup in [
        Setup::StoreAcl,
        Setup::MountAcl,
        Setup::RootDefault,
        Setup::Roles,
    ] {
        let (asking, asked) = answers(setup, false);
        let (promised, asked_with_promise) = answers(setup, true);
        for (a, p) in asking.iter().zip(&promised) {
            assert_eq!(a, p, "{setup:?}");
        }
        assert_eq!(asking.len(), promised.len());
        assert_eq!(asked_with_promise, Vec::<String>::new(), "{setup:?}");
        // Without the promise the CSP is asked, for the access checks and the Gets of
        // properties alike.
        assert!(
            asked.iter().any(|p| p.ends_with("?prop=Title")),
            "{setup:?}"
        );
        let checks = match setup {
            Setup::Roles => "?prop=msft:AccessRole",
            _ => "?prop=ACL",
        };
        assert!(asked.iter().any(|p| p == &format!("./M/V/dir/x{checks}")));
        // The run is not trivial: both answers and refusals.
        assert!(asking.iter().any(|a| a.contains(" 425 ")), "{setup:?}");
        assert!(asking.iter().any(|a| a.ends_with(": ")), "{setup:?}");
    }
}

#[test]
fn what_a_mount_point_inherits_is_read_again_once_the_store_or_the_server_changes() {
    // Two CSPs keeping no properties, mounted side by side below the store's `./M`, whose
    // ACL each inherits: what one of them was granted must not outlive a change of the ACL
    // made, or of the server asking, while the other was being asked.
    let mut m = manager();
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    m.add(&local, "./M", interior()).unwrap();
    for prefix in ["./M/V", "./M/W"] {
        let mut csp = TestCsp::new(prefix);
        csp.keeps_no_properties = true;
        m.mount(prefix, Box::new(csp), roles::MANAGER).unwrap();
        m.add(&local, &format!("{prefix}/leaf"), leaf("1")).unwrap();
    }
    let set_acl = |m: &mut Manager, acl: &str| {
        m.replace(&local, "./M?prop=ACL", text(acl)).unwrap();
    };
    let (a, b) = (
        Principal::server("a", roles::MANAGER),
        Principal::server("b", roles::MANAGER),
    );
    let gets = |m: &mut Manager, who: &Principal, prefix: &str| {
        m.get(who, &format!("{prefix}/leaf")).is_ok()
    };
    set_acl(&mut m, "Get=a&Replace=b");
    assert!(gets(&mut m, &a, "./M/V"));
    // The ACL changes; the other mount is asked first, by the same server.
    set_acl(&mut m, "Get=b&Replace=a");
    assert!(!gets(&mut m, &a, "./M/W"));
    assert!(!gets(&mut m, &a, "./M/V"));
    assert!(m.replace(&a, "./M/V/leaf", text("2")).is_ok());
    // Another server, then the first again: each is granted what the ACL grants it.
    assert!(gets(&mut m, &b, "./M/W"));
    assert!(gets(&mut m, &b, "./M/V"));
    assert!(m.replace(&b, "./M/V/leaf", text("3")).is_err());
    assert!(!gets(&mut m, &a, "./M/W"));
    assert!(!gets(&mut m, &a, "./M/V"));
    // And back to the first ACL, asked in the other order.
    set_acl(&mut m, "Get=a+b");
    assert!(gets(&mut m, &a, "./M/V"));
    assert!(gets(&mut m, &a, "./M/W"));
    assert!(m.replace(&a, "./M/W/leaf", text("4")).is_err());
}
