//! Crash test: a child process makes committed changes and is killed with SIGKILL at random
//! points, 200 times; after each kill the tree is reopened and must hold every change the child
//! reported as committed, be consistent, and equal the state after a whole number of steps
//! (the old or the new tree, never a mix). Small snapshot thresholds make snapshots and
//! journal restarts happen during the run too.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use omadm_cm::{roles, Config, FileStorage, LeafValue, Manager, MemoryStorage, NewNode, Principal};

const CHILD_ENV: &str = "OMADM_CM_CRASH_CHILD_DIR";
const KILLS: usize = 200;

fn local() -> Principal {
    Principal::Local {
        roles: roles::MANAGER,
    }
}

fn config() -> Config {
    Config {
        snapshot_threshold: 8 * 1024,
        ..Config::default()
    }
}

fn set(m: &mut Manager, path: &str, value: &str) {
    if m.exists(path) {
        m.replace(&local(), path, LeafValue::text(value)).unwrap();
    } else {
        m.add(&local(), path, NewNode::Leaf(LeafValue::text(value)))
            .unwrap();
    }
}

fn next_step(m: &mut Manager) -> u64 {
    match m.get(&local(), "./meta/next") {
        Ok(items) => String::from_utf8(items[0].data.clone().unwrap())
            .unwrap()
            .parse()
            .unwrap(),
        Err(_) => 0,
    }
}

/// One deterministic step of the workload; its changes become durable together.
fn step(m: &mut Manager, i: u64) {
    let path = format!("./W/n{}", i % 50);
    if m.exists(&path) && i.is_multiple_of(3) {
        m.delete(&local(), &path).unwrap();
    } else {
        set(m, &path, &format!("v{i}"));
    }
    if i.is_multiple_of(5) {
        m.begin_atomic().unwrap();
        let a = format!("./X/a{}", i % 20);
        if m.exists(&a) {
            m.delete(&local(), &a).unwrap();
        } else {
            m.add(&local(), &a, NewNode::Leaf(LeafValue::text("atomic")))
                .unwrap();
        }
        set(m, "./meta/atomic", &i.to_string());
        m.commit_atomic().unwrap();
    }
    set(m, "./meta/next", &(i + 1).to_string());
    m.persist().unwrap();
}

/// The child: continue the workload from where the stored tree is, forever, reporting each
/// committed step on stdout.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut m = Manager::open(Box::new(FileStorage::open(&dir).unwrap()), config()).unwrap();
    let mut i = next_step(&mut m);
    loop {
        step(&mut m, i);
        println!("committed {i}");
        i += 1;
    }
}

#[test]
fn killed_at_random_points_the_tree_is_old_or_new_never_a_mix() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("omadm-cm-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut model = Manager::open(Box::new(MemoryStorage::new()), config()).unwrap();
    let mut model_steps = 0;
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut last_reported = None;
    for kill in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        std::thread::sleep(Duration::from_micros(2_000 + (rng >> 33) % 20_000));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            if let Some(n) = line.unwrap().strip_prefix("committed ") {
                last_reported = Some(n.parse::<u64>().unwrap());
            }
        }

        let mut m = Manager::open(Box::new(FileStorage::open(&dir).unwrap()), config())
            .unwrap_or_else(|e| panic!("kill {kill}: reopening failed: {e}"));
        m.check_consistency()
            .unwrap_or_else(|e| panic!("kill {kill}: {e}"));
        let steps = next_step(&mut m);
        if let Some(reported) = last_reported {
            assert!(
                steps > reported,
                "kill {kill}: step {reported} was reported committed but the tree is at {steps}"
            );
        }
        assert!(
            steps >= model_steps,
            "kill {kill}: the tree went back from {model_steps} to {steps}"
        );
        while model_steps < steps {
            step(&mut model, model_steps);
            model_steps += 1;
        }
        let expected = model.get(&local(), ".?list=StructData").unwrap();
        let actual = m.get(&local(), ".?list=StructData").unwrap();
        assert_eq!(
            actual, expected,
            "kill {kill}: the tree is not the state after {steps} steps"
        );
    }
    eprintln!("{KILLS} kills, {model_steps} steps committed in all");
    assert!(model_steps > 0, "the child never committed anything");
    let _ = std::fs::remove_dir_all(&dir);
}
