//! CSP routing and transactions: every command on a mounted prefix goes to its CSP; Atomic is
//! all or nothing across CSPs and the store; a failing CSP never leaves the tree inconsistent.

mod common;
use common::*;
use omadm_cm::roles;
use omadm_cm::{ExecOutcome, Manager, NewNode, Principal};

fn local() -> Principal {
    Principal::Local {
        roles: roles::MANAGER,
    }
}
fn leaf(s: &str) -> NewNode<'static> {
    NewNode::Leaf(text(s))
}

#[test]
fn commands_under_a_mount_are_routed_to_its_csp() {
    let mut m = manager();
    let csp = TestCsp::new("./Vendor/memory");
    let nodes = csp.nodes.clone();
    m.mount("./Vendor/memory", Box::new(csp), roles::MANAGER)
        .unwrap();
    m.add(&local(), "./Vendor/memory/a", leaf("hello")).unwrap();
    assert_eq!(
        nodes
            .lock()
            .unwrap()
            .get("./Vendor/memory/a")
            .unwrap()
            .as_ref()
            .unwrap()
            .data,
        &b"hello"[..]
    );
    m.replace(&local(), "./Vendor/memory/a", text("world"))
        .unwrap();
    assert_eq!(
        m.get(&local(), "./Vendor/memory/a").unwrap()[0]
            .data
            .as_deref(),
        Some(&b"world"[..])
    );
    assert_eq!(
        m.get(&local(), "./Vendor").unwrap()[0].data.as_deref(),
        Some(&b"memory"[..]),
        "mounts appear as children"
    );
    m.delete(&local(), "./Vendor/memory/a").unwrap();
    assert_eq!(
        m.get(&local(), "./Vendor/memory/a").unwrap_err().status,
        404
    );
}

#[test]
fn implicit_adds_under_a_mount_go_to_the_csp_and_are_undone_on_failure() {
    let mut m = manager();
    let mut csp = TestCsp::new("./V");
    csp.fail_on = Some("./V/a/b/c".into());
    let nodes = csp.nodes.clone();
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    let err = m.add(&local(), "./V/a/b/c", leaf("x")).unwrap_err();
    assert_eq!(err.status, 500);
    assert_eq!(
        nodes.lock().unwrap().len(),
        1,
        "implicit ./V/a and ./V/a/b were removed again"
    );
}

#[test]
fn csp_error_codes_map_to_statuses() {
    let mut m = manager();
    m.mount("./V", Box::new(TestCsp::new("./V")), roles::MANAGER)
        .unwrap();
    m.add(&local(), "./V/a", leaf("x")).unwrap();
    assert_eq!(m.add(&local(), "./V/a", leaf("x")).unwrap_err().status, 418);
    assert_eq!(
        m.replace(&local(), "./V/zz", text("x")).unwrap_err().status,
        404
    );
    assert_eq!(m.get(&local(), "./V/a?prop=Bogus").unwrap_err().status, 406);
}

#[test]
fn unmapped_csp_failure_codes_become_500() {
    use omadm_cm::CspError;
    assert_eq!(
        CspError::Failed {
            code: 200,
            reason: String::new()
        }
        .status(),
        500
    );
    assert_eq!(
        CspError::Failed {
            code: 507,
            reason: String::new()
        }
        .status(),
        500
    );
    assert_eq!(
        CspError::Failed {
            code: 9999,
            reason: String::new()
        }
        .status(),
        500
    );
    assert_eq!(
        CspError::Failed {
            code: 413,
            reason: String::new()
        }
        .status(),
        413
    );
}

#[test]
fn a_panicking_csp_gives_500_and_the_tree_stays_consistent() {
    let mut m = manager();
    let mut csp = TestCsp::new("./V");
    csp.panic_on = Some("./V/boom".into());
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    assert_eq!(
        m.add(&local(), "./V/boom", leaf("x")).unwrap_err().status,
        500
    );
    m.add(&local(), "./V/fine", leaf("x")).unwrap();
    m.check_consistency().unwrap();
}

#[test]
fn secrets_are_write_only() {
    let mut m = manager();
    m.mount("./V", Box::new(TestCsp::new("./V")), roles::MANAGER)
        .unwrap();
    m.add(&local(), "./V/Secret", leaf("pw")).unwrap();
    assert_eq!(m.get(&local(), "./V/Secret").unwrap_err().status, 405);
    let listed = m.get(&local(), "./V?list=StructData").unwrap();
    assert!(listed.iter().all(|i| i.data.as_deref() != Some(&b"pw"[..])));
}

#[test]
fn exec_goes_to_the_csp_with_its_correlator() {
    let mut m = manager();
    m.mount("./V", Box::new(TestCsp::new("./V")), roles::MANAGER)
        .unwrap();
    m.add(&local(), "./V/run", leaf("")).unwrap();
    assert_eq!(
        m.exec(&local(), "./V/run", b"arg", None).unwrap(),
        ExecOutcome::Done
    );
    assert_eq!(
        m.exec(&local(), "./V/run", b"arg", Some("c1")).unwrap(),
        ExecOutcome::Accepted
    );
    assert_eq!(
        m.exec(&local(), "./V/none", b"", None).unwrap_err().status,
        404
    );
}

#[test]
fn atomic_rollback_undoes_store_and_external_csp_changes() {
    let mut m = manager();
    let csp = TestCsp::new("./V");
    let nodes = csp.nodes.clone();
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    m.add(&local(), "./V/keep", leaf("old")).unwrap();
    m.add(&local(), "./S/keep", leaf("old")).unwrap();
    let before = nodes.lock().unwrap().clone();

    m.begin_atomic().unwrap();
    m.add(&local(), "./S/new/deep", leaf("1")).unwrap();
    m.replace(&local(), "./S/keep", text("new")).unwrap();
    m.add(&local(), "./V/new", leaf("1")).unwrap();
    m.replace(&local(), "./V/keep", text("new")).unwrap();
    m.delete(&local(), "./V/keep").unwrap();
    m.rollback_atomic().unwrap();

    assert_eq!(*nodes.lock().unwrap(), before);
    assert!(!m.exists("./S/new"));
    assert_eq!(
        m.get(&local(), "./S/keep").unwrap()[0].data.as_deref(),
        Some(&b"old"[..])
    );
    m.check_consistency().unwrap();
}

#[test]
fn single_step_commands_outside_an_atomic_copy_nothing_for_undo() {
    let mut m = manager();
    let csp = TestCsp::new("./V");
    let (nodes, reads) = (csp.nodes.clone(), csp.reads.clone());
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    m.add(&local(), "./V/a/b", leaf("1")).unwrap();
    m.add(&local(), "./V/a/c", leaf("2")).unwrap();
    reads.lock().unwrap().clear();

    // Outside an Atomic the old value and the subtree are not read: no undo needs them.
    m.replace(&local(), "./V/a/b", text("3")).unwrap();
    m.delete(&local(), "./V/a").unwrap();
    assert_eq!(*reads.lock().unwrap(), Vec::<String>::new());
    assert_eq!(nodes.lock().unwrap().len(), 1, "only the root is left");

    // Inside one they are, and the rollback puts everything back.
    m.add(&local(), "./V/a/b", leaf("1")).unwrap();
    let before = nodes.lock().unwrap().clone();
    m.begin_atomic().unwrap();
    m.replace(&local(), "./V/a/b", text("3")).unwrap();
    m.delete(&local(), "./V/a").unwrap();
    m.rollback_atomic().unwrap();
    assert_eq!(*nodes.lock().unwrap(), before);
    assert!(reads.lock().unwrap().iter().any(|p| p == "./V/a/b"));
}

#[test]
fn a_replace_without_format_checks_the_value_against_the_csp_node_format() {
    let mut m = manager();
    let csp = TestCsp::new("./V");
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    let int = omadm_cm::LeafValue {
        data: b"7".to_vec().into(),
        format: "int".into(),
        type_: "text/plain".into(),
    };
    m.add(&local(), "./V/n", NewNode::Leaf(int)).unwrap();
    let untyped = |data: &[u8]| omadm_cm::LeafValue {
        data: data.to_vec().into(),
        format: "".into(),
        type_: "".into(),
    };
    assert_eq!(
        m.replace(&local(), "./V/n", untyped(b"x"))
            .unwrap_err()
            .status,
        415,
        "not an int"
    );
    m.replace(&local(), "./V/n", untyped(b"8")).unwrap();
    assert_eq!(
        m.replace(&local(), "./V", text("x")).unwrap_err().status,
        405
    );
    assert_eq!(
        m.replace(&local(), "./V/missing", text("x"))
            .unwrap_err()
            .status,
        404
    );
}

#[test]
fn atomic_commit_keeps_everything() {
    let mut m = manager();
    m.begin_atomic().unwrap();
    m.add(&local(), "./A", leaf("1")).unwrap();
    m.add(&local(), "./B", leaf("2")).unwrap();
    m.commit_atomic().unwrap();
    assert!(m.exists("./A") && m.exists("./B"));
}

#[test]
fn nested_atomic_is_refused() {
    let mut m = manager();
    m.begin_atomic().unwrap();
    assert_eq!(m.begin_atomic().unwrap_err().status, 500);
    m.rollback_atomic().unwrap();
}

#[test]
fn internal_csp_gets_exactly_one_end_per_begin() {
    let mut m = manager();
    let mut csp = TestCsp::new("./I");
    csp.internal = true;
    let calls = csp.calls.clone();
    m.mount("./I", Box::new(csp), roles::MANAGER).unwrap();

    m.begin_atomic().unwrap();
    m.add(&local(), "./I/a", leaf("1")).unwrap();
    m.add(&local(), "./I/b", leaf("1")).unwrap();
    m.rollback_atomic().unwrap();
    assert_eq!(
        *calls.lock().unwrap(),
        ["begin", "add ./I/a", "add ./I/b", "rollback"]
    );

    calls.lock().unwrap().clear();
    m.begin_atomic().unwrap();
    m.add(&local(), "./I/c", leaf("1")).unwrap();
    m.commit_atomic().unwrap();
    assert_eq!(*calls.lock().unwrap(), ["begin", "add ./I/c", "commit"]);

    // Outside an Atomic, each command is its own transaction.
    calls.lock().unwrap().clear();
    m.replace(&local(), "./I/c", text("2")).unwrap();
    assert_eq!(*calls.lock().unwrap(), ["begin", "replace ./I/c", "commit"]);
}

#[test]
fn failing_command_in_an_internal_csp_ends_with_rollback_outside_atomic() {
    let mut m = manager();
    let mut csp = TestCsp::new("./I");
    csp.internal = true;
    csp.fail_on = Some("./I/bad".into());
    let calls = csp.calls.clone();
    m.mount("./I", Box::new(csp), roles::MANAGER).unwrap();
    assert_eq!(
        m.add(&local(), "./I/bad", leaf("1")).unwrap_err().status,
        500
    );
    assert_eq!(*calls.lock().unwrap(), ["begin", "add ./I/bad", "rollback"]);
}

#[test]
fn deleting_a_store_node_above_a_mount_is_405() {
    let mut m = manager();
    m.mount(
        "./Vendor/x",
        Box::new(TestCsp::new("./Vendor/x")),
        roles::MANAGER,
    )
    .unwrap();
    assert_eq!(m.delete(&local(), "./Vendor").unwrap_err().status, 405);
    assert!(m
        .mount(
            "./Vendor/x",
            Box::new(TestCsp::new("./Vendor/x")),
            roles::MANAGER
        )
        .is_err());
    assert!(m.unmount("./Vendor/x").is_ok());
    assert!(m.unmount("./Vendor/x").is_err());
}

#[test]
fn a_csp_refusing_its_undo_makes_the_rollback_516() {
    let mut m = manager();
    let csp = TestCsp::new("./V");
    let nodes = csp.nodes.clone();
    nodes
        .lock()
        .unwrap()
        .insert("./V/a".into(), Some(text("x")));
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    m.begin_atomic().unwrap();
    m.delete(&local(), "./V/a").unwrap();
    // Make the undo (re-adding ./V/a) fail by refusing that path from now on.
    nodes
        .lock()
        .unwrap()
        .insert("./V/a".into(), Some(text("squatter")));
    let err = m.rollback_atomic().unwrap_err();
    assert_eq!(err.status, 516);
    assert!(!m.in_atomic());
}

#[test]
fn copy_inside_one_csp_uses_its_native_copy_and_is_undone_in_an_atomic() {
    let mut m = manager();
    let mut csp = TestCsp::new("./V");
    csp.native_copy = true;
    let (nodes, calls) = (csp.nodes.clone(), csp.calls.clone());
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    m.add(
        &local(),
        "./V/a",
        NewNode::Interior {
            type_: String::new(),
        },
    )
    .unwrap();
    m.add(&local(), "./V/a/x", leaf("1")).unwrap();
    m.copy(&local(), "./V/a", "./V/b").unwrap();
    assert!(calls
        .lock()
        .unwrap()
        .contains(&"copy ./V/a ./V/b".to_owned()));
    assert_eq!(
        m.get(&local(), "./V/b/x").unwrap()[0].data.as_deref(),
        Some(&b"1"[..])
    );
    m.begin_atomic().unwrap();
    m.copy(&local(), "./V/a", "./V/c").unwrap();
    m.rollback_atomic().unwrap();
    assert!(
        !nodes.lock().unwrap().contains_key("./V/c"),
        "undone by a delete"
    );
}

#[test]
fn copy_falls_back_to_node_by_node_when_the_csp_has_no_native_copy() {
    let mut m = manager();
    let csp = TestCsp::new("./V");
    let calls = csp.calls.clone();
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    m.add(&local(), "./V/a", leaf("1")).unwrap();
    m.copy(&local(), "./V/a", "./V/b").unwrap();
    assert!(calls.lock().unwrap().contains(&"add ./V/b".to_owned()));
    assert_eq!(
        m.get(&local(), "./V/b").unwrap()[0].data.as_deref(),
        Some(&b"1"[..])
    );
}

#[test]
fn native_copy_of_a_secret_is_refused() {
    let mut m = manager();
    let mut csp = TestCsp::new("./V");
    csp.native_copy = true;
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    m.add(&local(), "./V/Secret", leaf("pw")).unwrap();
    assert_eq!(
        m.copy(&local(), "./V/Secret", "./V/open")
            .unwrap_err()
            .status,
        403
    );
}

#[test]
fn an_implicit_add_skips_ancestors_the_csp_created_with_their_parent() {
    let mut m = manager();
    let mut csp = TestCsp::new("./V");
    csp.fixed_child = Some("Fixed".into());
    let calls = csp.calls.clone();
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    m.add(&local(), "./V/pkg/Fixed/Leaf", leaf("1")).unwrap();
    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec!["add ./V/pkg", "add ./V/pkg/Fixed/Leaf"],
        "Fixed came with pkg"
    );
}

/// A CSP of one leaf, `PREFIX/x`, that logs the caller it was last told at every call.
struct CallerLog {
    prefix: String,
    told: String,
    log: Calls,
}

impl CallerLog {
    fn record(&self, call: &str) {
        let entry = format!("{call} by {}", self.told);
        self.log.lock().unwrap().push(entry);
    }
}

impl omadm_cm::Csp for CallerLog {
    fn set_caller(&mut self, caller: &omadm_cm::Caller<'_>) {
        self.told = format!("{:?}/{}", caller.server_id, caller.roles);
        self.log.lock().unwrap().push("told".into());
    }

    fn node(&mut self, path: &str) -> Result<omadm_cm::CspNode, omadm_cm::CspError> {
        self.record("node");
        if path == self.prefix {
            Ok(omadm_cm::CspNode::Interior {
                children: vec!["x".to_owned()].into(),
                type_: String::new(),
            })
        } else {
            Ok(omadm_cm::CspNode::Leaf(text("v")))
        }
    }

    fn replace(&mut self, _: &str, _: &omadm_cm::LeafValue<'_>) -> Result<(), omadm_cm::CspError> {
        self.record("replace");
        Ok(())
    }
}

#[test]
fn a_csp_knows_each_commands_caller_and_is_told_only_when_it_changes() {
    let config = omadm_cm::Config {
        root_acl: "Get=*&Replace=*".into(),
        ..omadm_cm::Config::default()
    };
    let mut m = omadm_cm::Manager::open(Box::new(omadm_cm::MemoryStorage::new()), config).unwrap();
    let logs: Vec<_> = ["./A", "./B"]
        .into_iter()
        .map(|prefix| {
            let log = std::sync::Arc::default();
            let csp = CallerLog {
                prefix: prefix.into(),
                told: "nobody".into(),
                log: std::sync::Arc::clone(&log),
            };
            m.mount(prefix, Box::new(csp), roles::MANAGER).unwrap();
            log
        })
        .collect();
    let server = |id: &str| Principal::server(id, roles::MANAGER);
    let steps = [
        (server("s1"), "./A/x"),
        (server("s1"), "./A/x"),
        (server("s1"), "./B/x"),
        (server("s2"), "./A/x"),
        (local(), "./A/x"),
        (server("s1"), "./B/x"),
        (server("s1"), "./A/x"),
    ];
    let mut told = [0, 0];
    for (who, target) in &steps {
        m.get(who, target).unwrap();
        m.replace(who, target, text("w")).unwrap();
        // Every call saw the caller of its own command.
        let by = match who {
            Principal::Server { server_id, roles } => {
                format!("{:?}/{roles}", Some(server_id.as_str()))
            }
            Principal::Local { roles } => format!("None/{roles}"),
        };
        for (log, told) in logs.iter().zip(&mut told) {
            let calls = std::mem::take(&mut *log.lock().unwrap());
            *told += calls.iter().filter(|c| *c == "told").count();
            for call in calls.iter().filter(|c| *c != "told") {
                assert!(
                    call.ends_with(&format!(" by {by}")),
                    "{call} in {who:?} {target}"
                );
            }
        }
    }
    // Told once per change of caller that reached it: A saw s1, s2, local, s1; B s1 twice
    // (s2 and the local caller came between).
    assert_eq!(told, [4, 2]);
}

/// Each command's status and message (or success), then the CSP's nodes as `path=value`.
type Answers = (Vec<Result<(), (u16, String)>>, Vec<String>);

/// What each command of a fixed run answered (its status and message), and the CSP's nodes
/// after the run, for a CSP at `./V` that checks its targets itself or not.
/// A manager with a test CSP at `./V` that checks its targets or not, and what `watch` took
/// from the CSP before it was mounted.
fn mounted_at_v<T>(checks_targets: bool, watch: impl FnOnce(&TestCsp) -> T) -> (Manager, T) {
    let mut m = manager();
    let mut csp = TestCsp::new("./V");
    csp.checks_targets = checks_targets;
    let watched = watch(&csp);
    m.mount("./V", Box::new(csp), roles::MANAGER).unwrap();
    (m, watched)
}

fn answers(checks_targets: bool, who: &Principal, atomic: bool) -> Answers {
    let (mut m, nodes) = mounted_at_v(checks_targets, |csp| csp.nodes.clone());
    // Server a may do everything, b may only add and read.
    m.set_mount_acl("./V", "Add=a+b&Get=*&Replace=a&Delete=a")
        .unwrap();
    m.add(&local(), "./V/leaf", leaf("1")).unwrap();
    m.add(&local(), "./V/dir/x", leaf("2")).unwrap();
    let int = |s: &str| omadm_cm::LeafValue {
        data: s.as_bytes().to_vec().into(),
        format: "int".into(),
        type_: "".into(),
    };
    if atomic {
        m.begin_atomic().unwrap();
    }
    let interior = || NewNode::Interior {
        type_: String::new(),
    };
    let results = vec![
        m.add(who, "./V/new", leaf("n")),
        m.add(who, "./V/leaf", leaf("x")),
        m.add(who, "./V/leaf/below", leaf("x")),
        m.add(who, "./V/p/q/r", leaf("x")),
        m.add(who, "./V/dir", leaf("x")),
        m.add(who, "./V/dir2", interior()),
        m.add(who, "./V/bad", NewNode::Leaf(int("abc"))),
        m.add(who, "./V/leaf", NewNode::Leaf(int("abc"))),
        m.add(who, "./V/none/bad", NewNode::Leaf(int("abc"))),
        m.add(who, "./V", leaf("x")),
        m.replace(who, "./V/leaf", text("y")),
        m.replace(who, "./V/missing", text("y")),
        m.replace(who, "./V/dir", text("y")),
        m.replace(who, "./V/leaf", int("abc")),
        m.replace(who, "./V/missing", int("abc")),
        m.replace(who, "./V/dir", int("abc")),
        m.replace(who, "./V", text("y")),
        m.delete(who, "./V/missing"),
        m.delete(who, "./V/leaf"),
        m.delete(who, "./V/leaf"),
        m.delete(who, "./V/dir"),
        m.delete(who, "./V"),
    ];
    if atomic {
        m.commit_atomic().unwrap();
    }
    let results = results
        .into_iter()
        .map(|r| r.map_err(|e| (e.status, e.message.to_string())))
        .collect();
    let left = nodes
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={:?}", v.as_ref().map(|v| &v.data)))
        .collect();
    (results, left)
}

#[test]
fn a_csp_checking_its_targets_gets_every_command_answered_as_before() {
    for who in [
        local(),
        Principal::server("a", roles::MANAGER),
        Principal::server("b", roles::MANAGER),
    ] {
        for atomic in [false, true] {
            let (asked, asked_left) = answers(false, &who, atomic);
            let (trusted, trusted_left) = answers(true, &who, atomic);
            for (i, (a, t)) in asked.iter().zip(&trusted).enumerate() {
                assert_eq!(a, t, "command {i} by {who:?}, atomic {atomic}");
            }
            assert_eq!(asked_left, trusted_left, "{who:?}, atomic {atomic}");
            // The run is not trivial: both answers and refusals of every kind.
            let codes: Vec<u16> = asked
                .iter()
                .filter_map(|r| r.as_ref().err())
                .map(|e| e.0)
                .collect();
            assert!(asked.iter().any(Result::is_ok), "{who:?}");
            assert!(
                codes.contains(&404) || codes.contains(&425),
                "{who:?}: {codes:?}"
            );
        }
    }
}

#[test]
fn a_csp_checking_its_targets_is_not_asked_what_they_are_first() {
    let (mut m, kinds) = mounted_at_v(true, |csp| csp.kinds.clone());
    m.add(&local(), "./V/a", leaf("1")).unwrap();
    m.replace(&local(), "./V/a", text("2")).unwrap();
    m.delete(&local(), "./V/a").unwrap();
    assert_eq!(*kinds.lock().unwrap(), Vec::<String>::new());
    // A refusal is looked into: the node is absent.
    assert_eq!(
        m.replace(&local(), "./V/a", text("3")).unwrap_err().status,
        404
    );
    // Without the promise the Manager asks before each change.
    let (mut m, kinds) = mounted_at_v(false, |csp| csp.kinds.clone());
    m.add(&local(), "./V/a", leaf("1")).unwrap();
    m.replace(&local(), "./V/a", text("2")).unwrap();
    m.delete(&local(), "./V/a").unwrap();
    assert_eq!(kinds.lock().unwrap().len(), 4);
}
