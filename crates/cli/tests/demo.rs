//! `omadm demo` and `omadm trace`: the 13-step session end to end, its output checked.

use std::process::{Command, Output};

fn omadm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_omadm"))
        .args(args)
        .output()
        .expect("run omadm")
}

fn check_demo(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every step, first appearances in order 1..13.
    let mut last = 0;
    for n in 1..=13 {
        let at = text
            .find(&format!("step {n:>2}: "))
            .unwrap_or_else(|| panic!("step {n} missing:\n{text}"));
        assert!(at >= last, "step {n} out of order:\n{text}");
        last = at;
    }
    assert!(text.contains("demo complete: all 13 steps held"));
    assert!(
        text.contains("EmailAddress = ann.lee@example.com"),
        "{text}"
    );
    assert!(text.contains("syncs: Email, Contacts, Calendar"), "{text}");
    assert!(
        !text.contains("mail-secret"),
        "a secret was printed:\n{text}"
    );
    assert!(!text.contains("FAILED"), "{text}");
    text
}

#[test]
fn the_demo_runs_all_13_steps_over_xml() {
    let text = check_demo(&omadm(&["demo"]));
    assert!(text.contains("application/vnd.syncml.dm+xml"));
    assert!(text.contains("statuses: 200 ×12"), "{text}");
}

#[test]
fn the_demo_runs_over_wbxml_and_its_trace_prints_as_redacted_xml() {
    let trace = std::env::temp_dir().join(format!("omadm-demo-trace-{}", std::process::id()));
    let text = check_demo(&omadm(&[
        "demo",
        "--encoding",
        "wbxml",
        "--trace",
        trace.to_str().unwrap(),
    ]));
    assert!(text.contains("application/vnd.syncml.dm+wbxml"));
    let out = omadm(&["trace", trace.to_str().unwrap()]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert_eq!(shown.matches("--- message ").count(), 4, "{shown}");
    assert!(shown.contains("--- message 1: device → server"));
    assert!(shown.contains("<SyncML xmlns=\"SYNCML:SYNCML1.2\">"));
    assert!(shown.contains("ann.lee@example.com"));
    assert!(!shown.contains("mail-secret"), "secret in trace output");
    assert!(shown.contains("(redacted)"));
    let _ = std::fs::remove_file(&trace);
}

#[test]
fn a_damaged_trace_is_an_error_with_its_offset() {
    let path = std::env::temp_dir().join(format!("omadm-bad-trace-{}", std::process::id()));
    std::fs::write(&path, b"omadm-trace 1\n> application/x 50\nshort\n").unwrap();
    let out = omadm(&["trace", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at byte"));
    std::fs::write(&path, b"omadm-trace 1\n> application/x 3\nabc\n").unwrap();
    let out = omadm(&["trace", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "undecodable message must fail");
    assert!(String::from_utf8_lossy(&out.stdout).contains("does not decode"));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn bench_session_runs_real_sessions_and_reports_its_figures() {
    let out = omadm(&["bench", "session", "--sessions", "5"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for field in [
        "sessions: 5 timed",
        "sessions/s",
        "p50",
        "p99",
        "peak RSS: agent",
        "server",
    ] {
        assert!(text.contains(field), "{field} missing:\n{text}");
    }
}

#[test]
fn demo_fumo_updates_through_a_reboot_and_the_server_records_200_once() {
    let out = omadm(&["demo", "fumo", "--package-size", "300000"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo fumo failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut last = 0;
    for n in 1..=7 {
        let at = text
            .find(&format!("stage {n}: "))
            .unwrap_or_else(|| panic!("stage {n} missing:\n{text}"));
        assert!(at >= last, "stage {n} out of order:\n{text}");
        last = at;
    }
    assert!(text.contains("1 resumed with Range"), "{text}");
    assert_eq!(
        text.matches("server recorded: Alert 1226").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("result 200 for correlator fw-demo-0001"),
        "{text}"
    );
}

#[test]
fn demo_rejects_an_unknown_scenario() {
    let out = omadm(&["demo", "firmware"]);
    assert_eq!(out.status.code(), Some(2));
}
