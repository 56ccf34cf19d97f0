//! The rules of the README's "Transport and agent" decision, one deterministic test each, on
//! the simulated device–server pair (`sim/mod.rs`): a virtual clock, scripted faults, no
//! sockets and no sleeps.

mod sim;

use std::time::Duration;

use omadm_agent::{DriverEvent, FallbackPolicy, SessionFailure};
use omadm_syncml::DmVersion;
use sim::{Fault, Pair};

const JOBS: &str =
    "AddNode ./Vendor/memory/p\nAdd ./Vendor/memory/p/v hello\nGet ./DevInfo/Man\nExec ./X run\n";

fn retries(run: &sim::Run) -> usize {
    run.events
        .iter()
        .filter(|e| matches!(e, DriverEvent::Retrying { .. }))
        .count()
}

#[test]
fn a_clean_session_configures_the_device_and_runs_each_command_once() {
    let mut p = Pair::new(JOBS);
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert!(p.tree.exists("./Vendor/memory/p/v"));
    assert_eq!(p.execs.lock().unwrap().len(), 1);
    assert_eq!(retries(&run), 0);
}

#[test]
fn http_503_twice_is_sent_again_after_the_initial_backoff_then_double_it() {
    let mut p = Pair::new(JOBS);
    p.script(&[Fault::Status(503), Fault::Status(503)]);
    let start = p.now;
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert_eq!(run.retry_waits(), [16_000, 32_000]);
    assert!(run.ended_at - start >= 48_000);
    p.assert_nothing_ran_twice();
}

#[test]
fn each_retryable_status_is_retried_and_others_are_not() {
    for status in [408, 429, 500, 502, 503, 504] {
        let mut p = Pair::new(JOBS);
        p.script(&[Fault::None, Fault::Status(status)]);
        let run = p.session();
        assert!(run.completed(), "{status}: {:?}", run.last());
        assert_eq!(retries(&run), 1, "{status}");
    }
    for status in [403, 404, 401, 302] {
        let mut p = Pair::new(JOBS);
        p.script(&[Fault::None, Fault::Status(status)]);
        let run = p.session();
        assert_eq!(
            run.last(),
            &DriverEvent::Failed(SessionFailure::HttpStatus(status))
        );
        assert_eq!(retries(&run), 0, "{status}");
    }
}

#[test]
fn retries_stop_after_conn_retry_freq_and_the_backoff_is_capped() {
    let mut p = Pair::new(JOBS);
    p.account.ext.conn_retry_freq = 4;
    p.account.ext.max_backoff_ms = 40_000;
    p.script(&[Fault::Status(503); 5]);
    let run = p.session();
    assert_eq!(run.retry_waits(), [16_000, 32_000, 40_000, 40_000]);
    assert_eq!(
        run.last(),
        &DriverEvent::Failed(SessionFailure::HttpStatus(503))
    );
    assert_eq!(p.server_requests, 0);
}

#[test]
fn connection_failures_and_time_outs_are_retried() {
    let mut p = Pair::new(JOBS);
    p.script(&[Fault::Refused, Fault::None, Fault::Slow]);
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert_eq!(run.retry_waits(), [16_000, 16_000]);
    p.assert_nothing_ran_twice();
}

#[test]
fn a_slow_server_beyond_the_time_out_gets_the_same_message_again_and_answers_it_once() {
    let mut p = Pair::new(JOBS);
    // Message 2 carries the device's results; the server handled it before the time-out.
    p.script(&[Fault::None, Fault::Slow, Fault::Slow]);
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert_eq!(run.retry_waits(), [16_000, 32_000]);
    p.assert_nothing_ran_twice();
    assert_eq!(p.execs.lock().unwrap().len(), 1);
}

#[test]
fn a_dropped_response_is_recovered_by_the_same_bytes_and_nothing_runs_twice() {
    for at in 0..4 {
        let mut p = Pair::new(JOBS);
        let mut script = vec![Fault::None; at];
        script.push(Fault::DropResponse);
        p.script(&script);
        let run = p.session();
        assert!(run.completed(), "drop at {at}: {:?}", run.last());
        p.assert_nothing_ran_twice();
        p.assert_server_recorded_nothing_twice();
        assert_eq!(p.execs.lock().unwrap().len(), 1, "drop at {at}");
    }
}

#[test]
fn a_duplicated_message_changes_nothing() {
    for at in 0..4 {
        let mut p = Pair::new(JOBS);
        let mut script = vec![Fault::None; at];
        script.push(Fault::Duplicate);
        p.script(&script);
        let run = p.session();
        assert!(run.completed(), "duplicate at {at}: {:?}", run.last());
        assert_eq!(retries(&run), 0);
        p.assert_nothing_ran_twice();
        p.assert_server_recorded_nothing_twice();
        let statuses = p
            .server
            .records()
            .iter()
            .filter(|r| r.kind == "Status" && r.what.contains("./X"))
            .count();
        assert_eq!(statuses, 1, "duplicate at {at}");
    }
}

#[test]
fn a_response_cut_short_is_retried_when_the_transport_notices() {
    let mut p = Pair::new(JOBS);
    p.script(&[Fault::None, Fault::CutShort]);
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert_eq!(retries(&run), 1);
    p.assert_nothing_ran_twice();
}

#[test]
fn a_truncated_body_handed_over_ends_the_session_and_keeps_the_alerts() {
    let mut p = Pair::new(JOBS);
    p.add_alert("result-1");
    p.script(&[Fault::Truncated]);
    let run = p.session();
    assert!(
        matches!(run.last(), DriverEvent::Failed(SessionFailure::Protocol(_))),
        "{:?}",
        run.last()
    );
    assert_eq!(p.alerts.pending.len(), 1);
    assert!(p.execs.lock().unwrap().is_empty());
    // The next session delivers the alert.
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert!(p.alerts.pending.is_empty());
    // At least once: the first session's package 1 reached the server (recorded there), its
    // acknowledgement never reached the device; it goes again with the next session.
    assert!(p.alerts_received().contains(&"result-1".to_owned()));
    p.assert_server_recorded_nothing_twice();
}

#[test]
fn tls_failures_are_never_retried() {
    let mut p = Pair::new(JOBS);
    p.script(&[Fault::Tls]);
    let run = p.session();
    assert!(matches!(
        run.last(),
        DriverEvent::Failed(SessionFailure::Tls(_))
    ));
    assert_eq!(retries(&run), 0);
}

#[test]
fn once_means_no_retry() {
    let mut p = Pair::new(JOBS);
    p.settings.once = true;
    p.script(&[Fault::Status(503)]);
    let run = p.session();
    assert_eq!(
        run.last(),
        &DriverEvent::Failed(SessionFailure::HttpStatus(503))
    );
    assert_eq!(retries(&run), 0);
}

fn versions(run: &sim::Run) -> Vec<DmVersion> {
    run.events
        .iter()
        .filter_map(|e| match e {
            DriverEvent::AttemptStarted { version, .. } => Some(*version),
            _ => None,
        })
        .collect()
}

#[test]
fn a_first_dm_1_2_message_refused_with_415_starts_the_session_over_as_1_1_2() {
    for status in [400, 415, 501, 505] {
        let mut p = Pair::new(JOBS);
        p.add_alert("result-1");
        p.script(&[Fault::Status(status)]);
        let run = p.session();
        assert!(run.completed(), "{status}: {:?}", run.last());
        assert!(run.events.contains(&DriverEvent::FellBack { status }));
        assert!(matches!(
            run.last(),
            DriverEvent::Ended {
                fell_back: true,
                ..
            }
        ));
        assert_eq!(versions(&run), [DmVersion::V1_2, DmVersion::V1_1]);
        // DM 1.1.2 has no generic alerts: it stays pending for a 1.2 session.
        assert_eq!(p.alerts.pending.len(), 1);
        p.assert_nothing_ran_twice();
    }
}

#[test]
fn a_1_1_2_only_server_gets_the_session_again_as_1_1_2() {
    let mut p = Pair::with(JOBS, |c| c.accept_v12 = false);
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert!(run.events.contains(&DriverEvent::FellBack { status: 400 }));
    assert!(p.tree.exists("./Vendor/memory/p/v"));
}

#[test]
fn a_refusal_later_in_the_session_is_not_a_fallback() {
    let mut p = Pair::new(JOBS);
    p.script(&[Fault::None, Fault::Status(415)]);
    let run = p.session();
    assert_eq!(
        run.last(),
        &DriverEvent::Failed(SessionFailure::HttpStatus(415))
    );
    assert_eq!(versions(&run), [DmVersion::V1_2]);
}

#[test]
fn back_compat_retry_disabled_means_no_fallback() {
    let mut p = Pair::new(JOBS);
    p.account.ext.back_compat_retry_disabled = true;
    p.script(&[Fault::Status(415)]);
    let run = p.session();
    assert_eq!(
        run.last(),
        &DriverEvent::Failed(SessionFailure::HttpStatus(415))
    );
    let mut p = Pair::new(JOBS);
    p.settings.fallback.attempts = 0;
    p.script(&[Fault::Status(415)]);
    assert_eq!(
        p.session().last(),
        &DriverEvent::Failed(SessionFailure::HttpStatus(415))
    );
}

#[test]
fn the_fallback_waits_its_interval_and_a_failed_1_1_2_attempt_counts_as_one() {
    let mut p = Pair::new(JOBS);
    p.settings.fallback = FallbackPolicy {
        attempts: 2,
        interval: Duration::from_secs(5),
    };
    p.account.ext.conn_retry_freq = 0;
    // 1.2 refused; the first 1.1.2 attempt cannot connect; the second goes through.
    p.script(&[Fault::Status(415), Fault::Refused]);
    let start = p.now;
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert_eq!(
        versions(&run),
        [DmVersion::V1_2, DmVersion::V1_1, DmVersion::V1_1]
    );
    assert!(run.ended_at - start >= 10_000);
    // With the attempts used up, the session fails.
    let mut p = Pair::new(JOBS);
    p.settings.fallback.attempts = 1;
    p.account.ext.conn_retry_freq = 0;
    p.script(&[Fault::Status(415), Fault::Refused]);
    assert!(matches!(
        p.session().last(),
        DriverEvent::Failed(SessionFailure::Network(_))
    ));
}

#[test]
fn an_account_on_dm_1_1_starts_there_and_carries_no_alerts() {
    let mut p = Pair::new(JOBS);
    p.account.ext.proto_ver = "1.1".into();
    p.add_alert("result-1");
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert_eq!(versions(&run), [DmVersion::V1_1]);
    assert_eq!(p.alerts.pending.len(), 1);
}

#[test]
fn alerts_are_dropped_only_once_the_server_acknowledged_them() {
    let mut p = Pair::new(JOBS);
    let added = ["result-1".to_owned(), "result-2".to_owned()];
    for a in &added {
        p.add_alert(a);
    }
    p.account.ext.conn_retry_freq = 1;
    p.script(&[Fault::Refused, Fault::Refused]);
    let run = p.session();
    assert!(matches!(
        run.last(),
        DriverEvent::Failed(SessionFailure::Network(_))
    ));
    assert_eq!(p.alerts.pending.len(), 2);
    // The message with the alerts reaches the server, its reply is lost: the alerts stay
    // pending until the repeat's reply acknowledges them, and are recorded once.
    p.script(&[Fault::DropResponse]);
    let run = p.session();
    assert!(run.completed(), "{:?}", run.last());
    assert!(p.alerts.pending.is_empty());
    let mut received = p.alerts_received();
    received.sort();
    assert_eq!(received, added);
    p.assert_server_recorded_nothing_twice();
    let acknowledged = run
        .events
        .iter()
        .filter(|e| matches!(e, DriverEvent::AlertAcknowledged { .. }))
        .count();
    assert_eq!(acknowledged, 2);
}

#[test]
fn alerts_refused_before_either_side_was_believed_go_again_in_the_same_session() {
    // Found by the pair's property test: both stored nonces stale, so the server's first
    // reply (401 to everything) is not believed; after the challenges the server says its
    // 401s again, and the device must send the refused alerts again rather than keep them
    // for another session.
    for max_msg_size in [1024, 16 * 1024] {
        let mut p = Pair::new(JOBS);
        p.settings.max_msg_size = max_msg_size;
        assert!(p.session().completed());
        p.account.client.as_mut().unwrap().data = b"stale-client".to_vec();
        p.account.server.as_mut().unwrap().data = b"stale-server".to_vec();
        p.add_alert("result-1");
        let run = p.session();
        assert!(run.completed(), "{:?}", run.last());
        assert!(
            p.alerts.pending.is_empty(),
            "MaxMsgSize {max_msg_size}: {:?}",
            run.events
        );
        assert_eq!(p.alerts_received(), ["result-1"]);
    }
}

#[test]
fn nonces_are_stored_as_the_server_answers_and_the_next_session_needs_no_extra_round_trip() {
    let mut p = Pair::new(JOBS);
    let first = p.session();
    assert!(first.completed());
    let stored = p.account.server.as_ref().unwrap().data.clone();
    assert_eq!(Some(stored.as_slice()), p.server.server_nonce(sim::DEVICE));
    assert!(!p.account.client.as_ref().unwrap().data.is_empty());
    let second = p.session();
    assert!(second.completed());
    let messages = |r: &sim::Run| match r.last() {
        DriverEvent::Ended { messages, .. } => *messages,
        e => panic!("{e:?}"),
    };
    assert!(messages(&second) <= messages(&first));
}

#[test]
fn a_server_nonce_whose_message_never_got_a_200_is_not_stored() {
    let mut p = Pair::new(JOBS);
    assert!(p.session().completed());
    let before = p.account.server.as_ref().unwrap().data.clone();
    // Every message of the next session is answered by a proxy's 403: nothing the device
    // issued reached the server, so nothing may be stored.
    p.script(&[Fault::Status(403)]);
    let run = p.session();
    assert!(matches!(run.last(), DriverEvent::Failed(_)));
    assert!(!run
        .events
        .iter()
        .any(|e| matches!(e, DriverEvent::StoreServerNonce(_))));
    assert_eq!(p.account.server.as_ref().unwrap().data, before);
    assert!(p.session().completed());
}

#[test]
fn a_value_larger_than_max_msg_size_arrives_as_a_large_object_from_1_kb_to_64_kb() {
    let value: String = (0..20_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let jobs = format!("AddNode ./Vendor/memory/big\nAdd ./Vendor/memory/big/v {value}\n");
    let mut size = 1024u64;
    while size <= 64 * 1024 {
        let mut p = Pair::new(&jobs);
        p.settings.max_msg_size = size;
        let run = p.session();
        assert!(run.completed(), "MaxMsgSize {size}: {:?}", run.last());
        let got = p.tree.inspect("./Vendor/memory/big/v").unwrap();
        match got {
            omadm_cm::CspNode::Leaf(v) => assert_eq!(v.data, value.as_bytes(), "{size}"),
            other => panic!("{other:?}"),
        }
        for s in &p.server_message_sizes {
            assert!(
                *s as u64 <= size,
                "MaxMsgSize {size}: a {s}-octet server message"
            );
        }
        size *= 2;
    }
}

#[test]
fn misuse_is_refused_without_changing_anything() {
    let mut p = Pair::new(JOBS);
    let mut d = omadm_agent::Driver::new(
        p.account.clone(),
        omadm_dpu::Trigger::Client { session_id: 9 },
        false,
        p.settings.clone(),
        vec![],
        Box::new(|b: &mut [u8]| b.fill(1)),
    );
    // No request handed out yet.
    assert!(d
        .handle_failure(p.now, omadm_agent::FailureKind::Io, "x")
        .is_err());
    let run = p.drive(&mut d);
    assert!(run.completed());
    assert!(d.poll_request().is_none());
    assert!(d
        .handle_failure(p.now, omadm_agent::FailureKind::Io, "x")
        .is_err());
}

fn any_fault() -> impl proptest::strategy::Strategy<Value = Fault> {
    use proptest::prelude::*;
    prop_oneof![
        3 => Just(Fault::None),
        1 => proptest::sample::select(vec![400u16, 403, 408, 415, 429, 500, 501, 503, 505])
            .prop_map(Fault::Status),
        1 => Just(Fault::Refused),
        1 => Just(Fault::DropResponse),
        1 => Just(Fault::Duplicate),
        1 => Just(Fault::CutShort),
        1 => Just(Fault::Truncated),
        1 => Just(Fault::Slow),
        1 => Just(Fault::Tls),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Whatever the transport does: every session ends, nothing runs twice in an attempt,
    /// no alert is lost, and once the faults stop a session delivers the alerts.
    #[test]
    fn random_fault_scripts_keep_the_invariants(
        scripts in proptest::collection::vec(proptest::collection::vec(any_fault(), 0..12), 1..4),
        max_msg_size in proptest::sample::select(vec![1024u64, 2048, 8192, 65536]),
        wbxml: bool,
    ) {
        let mut p = Pair::new(JOBS);
        p.settings.max_msg_size = max_msg_size;
        p.account.ext.conn_retry_freq = 2;
        if wbxml {
            p.account.ext.default_encoding = "application/vnd.syncml.dm+wbxml".into();
        }
        let added = ["result-1".to_owned(), "result-2".to_owned()];
        for a in &added {
            p.add_alert(a);
        }
        for script in scripts {
            p.script(&script);
            let run = p.session();
            proptest::prop_assert!(run.last().is_final());
            p.assert_nothing_ran_twice();
            p.assert_no_alert_lost(&added);
        }
        p.script(&[]);
        let run = p.session();
        proptest::prop_assert!(run.completed(), "{:?}", run.last());
        proptest::prop_assert!(p.alerts.pending.is_empty());
    }
}
