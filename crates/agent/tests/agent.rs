//! The real agent and the real reference server on loopback TLS.

mod common;
use common::*;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use omadm_agent::{Agent, AgentEvent};
use omadm_cm::{roles, LeafValue, NewNode, Principal};
use omadm_csp::DmAccount;
use omadm_dpu::{EndReason, GenericAlert};
use omadm_push::wdp::Bearer;
use omadm_push::Input;
use omadm_server::EngineConfig;
use omadm_syncml::auth::AuthScheme;
use omadm_syncml::notification::{Notification, UiMode};
use omadm_transport::tls::self_signed;

#[test]
fn a_notification_over_sms_starts_a_session_that_configures_the_device() {
    let (srv, cert) = server("AddNode ./Vendor/memory/sync\nAdd ./Vendor/memory/sync/Server mail.example.com\nGet ./DevInfo/Man\n");
    let url = format!("https://127.0.0.1:{}/dm", srv.addr.port());
    let dir = state_dir("notify");
    let mut a = agent(&dir, &cert);
    a.accounts().create(&account(&url), roles::MANAGER).unwrap();
    // The server's notification, as GSM SMS PDUs from the radio layer.
    let n = Notification::new("ref", 0x0042, UiMode::Background);
    for pdu in omadm_push::notification_pdus(&n, "srvpw", b"", Bearer::Gsm, "+15550001", 1) {
        if let Some(e) = a.receive(Input::GsmSms(&pdu), 0) {
            assert_eq!(
                e,
                AgentEvent::SessionQueued {
                    server_id: "ref".into(),
                    session_id: 0x42
                }
            );
        }
    }
    assert_eq!(a.queued(), 1);
    let events = a.run_pending();
    assert!(
        matches!(
            &events[0],
            AgentEvent::SessionEnded {
                reason: EndReason::Completed,
                fell_back: false,
                ..
            }
        ),
        "{events:?}"
    );
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    let v = a.tree().get(&local, "./Vendor/memory/sync/Server").unwrap();
    assert_eq!(v[0].data.as_deref(), Some(&b"mail.example.com"[..]));
    let records = srv.engine.lock().unwrap().records().to_vec();
    assert!(records
        .iter()
        .any(|r| r.kind == "Results" && r.data.as_deref() == Some("omadm")));
    // New nonces were stored for the next session.
    let acc = a.accounts().find_by_server_id("ref").unwrap();
    assert!(
        !acc.server.unwrap().data.is_empty(),
        "the client issued a new nonce to the server"
    );
    drop(a);
    // After a restart the tree and the accounts are still there.
    let mut a = agent(&dir, &cert);
    assert!(a.tree().exists("./Vendor/memory") && a.accounts().find_by_server_id("ref").is_some());
    srv.stop();
}

#[test]
fn a_pending_generic_alert_survives_a_restart_and_is_dropped_once_acknowledged() {
    let (srv, cert) = server("");
    let port = srv.addr.port();
    let dir = state_dir("alert");
    let dead_url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("https://127.0.0.1:{}/dm", l.local_addr().unwrap().port())
    };
    let waits = Arc::new(Mutex::new(Vec::new()));
    {
        let mut a = agent(&dir, &cert);
        let w = waits.clone();
        a.set_sleeper(Box::new(move |d| w.lock().unwrap().push(d)));
        a.set_alert_retry(omadm_transport::retry::RetryPolicy {
            retries: 1,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(1),
        });
        a.accounts()
            .create(&account(&dead_url), roles::MANAGER)
            .unwrap();
        let alert = GenericAlert {
            id: 0,
            correlator: Some("corr-1".into()),
            source: Some("./FwUpdate/x/DownloadAndUpdate".into()),
            target: None,
            type_: "org.openmobilealliance.dm.firmwareupdate.downloadandupdate".into(),
            format: "int".into(),
            mark: Some("critical".into()),
            data: "200".into(),
        };
        a.add_generic_alert("ref", alert).unwrap();
        let events = a.run_pending();
        assert!(
            events
                .iter()
                .all(|e| matches!(e, AgentEvent::SessionFailed { .. }))
                && events.len() == 2,
            "one session and one retry of it: {events:?}"
        );
        assert_eq!(a.alerts().for_server("ref").len(), 1, "still pending");
    }
    // Each session's messages backed off exponentially within the cap (10, 20, 40 ms), and
    // the session carrying the alert was tried once more after the alert retry's 1 s.
    let ms = Duration::from_millis;
    assert_eq!(
        *waits.lock().unwrap(),
        [ms(10), ms(20), ms(40), ms(1000), ms(10), ms(20), ms(40)]
    );
    // "Reboot": a new agent process on the same state, the server now reachable.
    let mut a = agent(&dir, &cert);
    a.tree()
        .add(
            &Principal::Local {
                roles: roles::MANAGER,
            },
            "./Vendor/memory/x",
            NewNode::Leaf(LeafValue::text("1")),
        )
        .unwrap();
    let acc = a.accounts().find_by_server_id("ref").unwrap();
    let x = acc.node_name.clone();
    let url = format!("https://127.0.0.1:{port}/dm");
    a.tree()
        .replace(
            &Principal::Local {
                roles: roles::MANAGER,
            },
            &format!("./DMAcc/{x}/AppAddr/1/Addr"),
            LeafValue::text(&url),
        )
        .unwrap();
    a.resume_pending_alerts();
    let events = a.run_pending();
    assert!(
        matches!(
            &events[0],
            AgentEvent::SessionEnded {
                reason: EndReason::Completed,
                ..
            }
        ),
        "{events:?}"
    );
    assert!(
        a.alerts().for_server("ref").is_empty(),
        "acknowledged, so dropped"
    );
    let records = srv.engine.lock().unwrap().records().to_vec();
    let alerts: Vec<_> = records
        .iter()
        .filter(|r| r.kind == "Alert" && r.code == Some(1226))
        .collect();
    assert_eq!(alerts.len(), 1, "{records:?}");
    assert_eq!(alerts[0].data.as_deref(), Some("200"));
    assert!(alerts[0].what.contains("correlator=corr-1"));
    drop(a);
    let a = agent(&dir, &cert);
    assert!(
        a.alerts().for_server("ref").is_empty(),
        "and it stays dropped after a restart"
    );
    srv.stop();
}

const JOBS: &str =
    "AddNode ./Vendor/memory/sync\nAdd ./Vendor/memory/sync/Server mail.example.com\n";

fn configured(a: &mut Agent) -> bool {
    a.tree().exists("./Vendor/memory/sync/Server")
}

fn job_statuses(srv: &omadm_server::http::RunningServer) -> Vec<Option<u16>> {
    srv.engine
        .lock()
        .unwrap()
        .records()
        .iter()
        .filter(|r| r.kind == "Status" && r.what.contains("./Vendor/memory/sync"))
        .map(|r| r.code)
        .collect()
}

/// A reference server with `jobs` (adjusted by `server`) and an agent in a fresh state
/// directory with an account for it (adjusted by `acc`).
fn setup(
    name: &str,
    jobs: &str,
    server: impl FnOnce(&mut EngineConfig),
    acc: impl FnOnce(&mut DmAccount),
) -> (omadm_server::http::RunningServer, AgentInDir) {
    let (srv, cert) = server_with(jobs, server);
    let mut account = account(&format!("https://127.0.0.1:{}/dm", srv.addr.port()));
    acc(&mut account);
    let a = fresh_agent(name, &cert);
    a.accounts().create(&account, roles::MANAGER).unwrap();
    (srv, a)
}

/// Runs one client-initiated session and returns its event and the content types sent.
fn one_session(a: &mut Agent) -> (AgentEvent, Vec<String>) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let s = sent.clone();
    a.set_observer(Box::new(move |step| {
        if let omadm_agent::SessionStep::Sending { content_type, .. } = step {
            s.lock().unwrap().push(content_type.to_string());
        }
    }));
    a.request_session("ref");
    let mut events = a.run_pending();
    assert_eq!(events.len(), 1);
    let types = sent.lock().unwrap().clone();
    (events.remove(0), types)
}

/// The session completed, in `messages` round trips if given.
fn completed(e: &AgentEvent, messages: Option<u32>) -> bool {
    matches!(e, AgentEvent::SessionEnded { reason: EndReason::Completed, messages: m, .. }
        if messages.is_none_or(|n| n == *m))
}

fn set_schemes(
    auth_type: &'static str,
    server_auth_type: &'static str,
) -> impl FnOnce(&mut DmAccount) {
    move |a| {
        a.client.as_mut().unwrap().auth_type = auth_type.into();
        a.server.as_mut().unwrap().auth_type = server_auth_type.into();
    }
}

fn device_scheme(scheme: AuthScheme) -> impl FnOnce(&mut EngineConfig) {
    move |c| c.devices.get_mut(DEVICE).unwrap().scheme = scheme
}

#[test]
fn an_account_asking_for_wbxml_runs_its_session_in_wbxml() {
    let (srv, mut a) = setup(
        "wbxml",
        JOBS,
        |_| {},
        |acc| acc.ext.default_encoding = "application/vnd.syncml.dm+wbxml".into(),
    );
    let (event, types) = one_session(&mut a);
    assert!(completed(&event, None), "{event:?}");
    assert!(
        !types.is_empty() && types.iter().all(|t| t == "application/vnd.syncml.dm+wbxml"),
        "{types:?}"
    );
    assert!(configured(&mut a));
    assert_eq!(job_statuses(&srv), [Some(200), Some(200)]);
    srv.stop();
}

#[test]
fn a_1_1_2_only_server_gets_the_session_again_as_dm_1_1_2() {
    let (srv, mut a) = setup("fallback", JOBS, |c| c.accept_v12 = false, |_| {});
    let (event, _) = one_session(&mut a);
    assert!(
        matches!(
            event,
            AgentEvent::SessionEnded {
                reason: EndReason::Completed,
                fell_back: true,
                ..
            }
        ),
        "{event:?}"
    );
    assert!(configured(&mut a));
    assert_eq!(job_statuses(&srv), [Some(200), Some(200)]);
    srv.stop();
}

#[test]
fn back_compat_retry_disabled_means_no_fallback() {
    let (srv, mut a) = setup(
        "nofallback",
        JOBS,
        |c| c.accept_v12 = false,
        |acc| acc.ext.back_compat_retry_disabled = true,
    );
    let (event, _) = one_session(&mut a);
    assert!(
        matches!(event, AgentEvent::SessionFailed { .. }),
        "{event:?}"
    );
    assert!(!configured(&mut a));
    srv.stop();
}

#[test]
fn a_server_answering_503_twice_is_retried_with_backoff_then_works() {
    let (srv, mut a) = setup("busy", JOBS, |c| c.busy_responses = 2, |_| {});
    let waits = Arc::new(Mutex::new(Vec::new()));
    let w = waits.clone();
    a.set_sleeper(Box::new(move |d| w.lock().unwrap().push(d)));
    let (event, _) = one_session(&mut a);
    assert!(completed(&event, None), "{event:?}");
    assert_eq!(*waits.lock().unwrap(), [10, 20].map(Duration::from_millis));
    assert!(configured(&mut a));
    srv.stop();
}

#[test]
fn a_server_whose_certificate_is_not_trusted_is_refused() {
    let (srv, _cert) = server(JOBS);
    let (other_cert, _) = self_signed(&["127.0.0.1"], 1).unwrap();
    let url = format!("https://127.0.0.1:{}/dm", srv.addr.port());
    let mut a = fresh_agent("badcert", &other_cert);
    a.set_sleeper(Box::new(|_| {}));
    a.accounts().create(&account(&url), roles::MANAGER).unwrap();
    let (event, _) = one_session(&mut a);
    match &event {
        AgentEvent::SessionFailed { reason, .. } => {
            let r = reason.to_string().to_lowercase();
            assert!(r.contains("certificate") || r.contains("tls"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(records(&srv).is_empty(), "nothing reached the server");
    assert!(!configured(&mut a));
    srv.stop();
}

#[test]
fn bad_server_credentials_end_the_session_and_nothing_is_executed() {
    let (srv, mut a) = setup(
        "badsrvcred",
        JOBS,
        |_| {},
        |acc| acc.server.as_mut().unwrap().secret = "not-the-server-secret".into(),
    );
    let (event, _) = one_session(&mut a);
    assert!(
        matches!(
            event,
            AgentEvent::SessionEnded {
                reason: EndReason::ServerNotAuthenticated,
                ..
            }
        ),
        "{event:?}"
    );
    assert!(
        !configured(&mut a),
        "no command of an unauthenticated server ran"
    );
    let statuses = job_statuses(&srv);
    assert!(statuses.iter().all(|c| *c != Some(200)), "{statuses:?}");
    srv.stop();
}

#[test]
fn consecutive_sessions_reuse_the_nonces_and_need_no_extra_round_trip() {
    // Each session's MD5 credentials use the nonce the server issued in the one before.
    let (srv, mut a) = setup("consecutive", "Get ./DevInfo/Man\n", |_| {}, |_| {});
    for _ in 0..3 {
        let (event, _) = one_session(&mut a);
        assert!(completed(&event, Some(2)), "{event:?}");
    }
    srv.stop();
}

#[test]
fn hmac_authenticates_every_message_both_ways_across_sessions() {
    let (srv, mut a) = setup(
        "hmac",
        JOBS,
        device_scheme(AuthScheme::Hmac),
        set_schemes("HMAC", "HMAC"),
    );
    for _ in 0..2 {
        let (event, _) = one_session(&mut a);
        assert!(completed(&event, Some(2)), "{event:?}");
    }
    assert!(configured(&mut a));
    let r = records(&srv);
    assert!(!r.iter().any(|r| r.kind == "Auth"), "{r:?}");
    srv.stop();
}

#[test]
fn a_wrong_hmac_password_is_refused_by_the_server() {
    let set = set_schemes("HMAC", "HMAC");
    let (srv, mut a) = setup("hmac-wrong", JOBS, device_scheme(AuthScheme::Hmac), |acc| {
        set(acc);
        acc.client.as_mut().unwrap().secret = "wrong".into();
    });
    let (event, _) = one_session(&mut a);
    assert!(!completed(&event, None), "{event:?}");
    assert!(!configured(&mut a));
    // Nothing a device that did not authenticate sends is recorded (issue 13.1).
    let r = records(&srv);
    assert!(r.is_empty(), "{r:?}");
    srv.stop();
}

#[test]
fn basic_device_credentials_work() {
    // Server credentials stay DIGEST: Windows requires it of servers.
    let (srv, mut a) = setup(
        "basic",
        JOBS,
        device_scheme(AuthScheme::Basic),
        set_schemes("BASIC", "DIGEST"),
    );
    let (event, _) = one_session(&mut a);
    assert!(completed(&event, None), "{event:?}");
    assert!(configured(&mut a));
    srv.stop();
}

#[test]
fn a_value_larger_than_the_devices_max_msg_size_arrives_as_a_large_object() {
    let value: String = (0..40_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let jobs = format!(
        "AddNode ./Vendor/memory/big\nAdd ./Vendor/memory/big/Blob {value}\nGet ./DevInfo/Man\n"
    );
    let (srv, mut a) = setup("large", &jobs, |_| {}, |_| {}); // device MaxMsgSize 16 KiB
    let (event, _) = one_session(&mut a);
    match event {
        AgentEvent::SessionEnded {
            reason: EndReason::Completed,
            messages,
            ..
        } => {
            assert!(
                messages >= 4,
                "{messages} messages: the value cannot have come in one"
            )
        }
        other => panic!("{other:?}"),
    }
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    let got = a.tree().get(&local, "./Vendor/memory/big/Blob").unwrap();
    assert_eq!(got[0].data.as_deref(), Some(value.as_bytes()));
    let statuses: Vec<_> = records(&srv)
        .into_iter()
        .filter(|r| r.kind == "Status")
        .map(|r| (r.what, r.code))
        .collect();
    assert_eq!(
        statuses,
        [
            ("AddNode ./Vendor/memory/big".to_owned(), Some(200)),
            ("Add ./Vendor/memory/big/Blob".to_owned(), Some(200)),
            ("Get ./DevInfo/Man".to_owned(), Some(200)),
        ]
    );
    srv.stop();
}

/// Answers confirmations with `answer` and counts what it was asked.
struct Confirm {
    answer: omadm_dpu::ui::UiResponse,
    asked: Arc<Mutex<Vec<String>>>,
}

impl omadm_dpu::ui::UserInterface for Confirm {
    fn ask(&mut self, r: &omadm_dpu::ui::UiRequest) -> omadm_dpu::ui::UiResponse {
        self.asked.lock().unwrap().push(r.text.clone());
        self.answer.clone()
    }
}

#[test]
fn the_agents_user_interface_answers_server_confirmations() {
    let jobs = "<Alert><CmdID>1</CmdID><Data>1101</Data><Item><Data>MINDT=10</Data></Item><Item><Data>Set up work mail?</Data></Item></Alert>";
    for (answer, code) in [
        (omadm_dpu::ui::UiResponse::Accepted, 200),
        (omadm_dpu::ui::UiResponse::Rejected, 304),
    ] {
        let (srv, mut a) = setup(&format!("ui-{code}"), jobs, |_| {}, |_| {});
        let asked = Arc::new(Mutex::new(Vec::new()));
        a.set_ui(Box::new(Confirm {
            answer,
            asked: asked.clone(),
        }));
        let (event, _) = one_session(&mut a);
        assert!(completed(&event, None), "{event:?}");
        assert_eq!(*asked.lock().unwrap(), ["Set up work mail?"]);
        let alert_status: Vec<_> = records(&srv)
            .into_iter()
            .filter(|r| r.kind == "Status" && r.what.starts_with("Alert"))
            .map(|r| r.code)
            .collect();
        assert_eq!(alert_status, [Some(code)]);
        srv.stop();
    }
}

#[test]
fn the_fallback_waits_its_interval_and_can_be_turned_off() {
    let (srv, cert) = server_with(JOBS, |c| c.accept_v12 = false);
    let url = format!("https://127.0.0.1:{}/dm", srv.addr.port());
    for (attempts, expect_fallback) in [(1, true), (0, false)] {
        let mut a = fresh_agent_with(&format!("fb-{attempts}"), &cert, |c| {
            c.fallback = omadm_agent::FallbackPolicy {
                attempts,
                interval: Duration::from_millis(30),
            }
        });
        let waits = Arc::new(Mutex::new(Vec::new()));
        let w = waits.clone();
        a.set_sleeper(Box::new(move |d| w.lock().unwrap().push(d)));
        a.accounts().create(&account(&url), roles::MANAGER).unwrap();
        let (event, _) = one_session(&mut a);
        if expect_fallback {
            assert!(
                matches!(
                    event,
                    AgentEvent::SessionEnded {
                        fell_back: true,
                        ..
                    }
                ),
                "{event:?}"
            );
            assert_eq!(*waits.lock().unwrap(), [Duration::from_millis(30)]);
        } else {
            assert!(
                matches!(event, AgentEvent::SessionFailed { .. }),
                "{event:?}"
            );
            assert!(waits.lock().unwrap().is_empty());
        }
    }
    srv.stop();
}

#[test]
fn the_server_serves_many_devices_at_once() {
    const N: usize = 8;
    let ids: Vec<String> = (0..N).map(|i| format!("IMEI:35693803564380{i}")).collect();
    let ids2 = ids.clone();
    let (srv, cert) = server_with(JOBS, move |c| {
        let template = c.devices[DEVICE].clone();
        for id in ids2 {
            c.devices.insert(id, template.clone());
        }
    });
    let url = format!("https://127.0.0.1:{}/dm", srv.addr.port());
    let threads: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (id, cert, url) = (id.clone(), cert.clone(), url.clone());
            std::thread::spawn(move || {
                let mut a = fresh_agent_with(&format!("many-{i}"), &cert, |c| c.device.dev_id = id);
                a.accounts().create(&account(&url), roles::MANAGER).unwrap();
                let mut results = Vec::new();
                for _ in 0..3 {
                    let (event, _) = one_session(&mut a);
                    results.push(completed(&event, Some(2)));
                }
                (results, configured(&mut a))
            })
        })
        .collect();
    for t in threads {
        let (results, configured) = t.join().unwrap();
        assert_eq!(results, [true, true, true]);
        assert!(configured);
    }
    let r = records(&srv);
    for id in &ids {
        let ok = r
            .iter()
            .filter(|x| &x.device == id && x.kind == "Status" && x.code == Some(200))
            .count();
        assert_eq!(ok, 2, "{id}: the first session's two jobs");
    }
    srv.stop();
}

/// Issue 12.2 and 12.3 through the real agent and server: a server that fails
/// authentication (wrong server password) acknowledges the pending alert, which stays
/// pending; the nonce the device keeps is the last one that server received; the right
/// server then gets the alert exactly once. Fails on the code before issue 12: the refused
/// server's acknowledgement dropped the alert, and a nonce never sent was stored.
#[test]
fn an_acknowledgement_from_a_refused_server_drops_nothing_and_no_unsent_nonce_is_kept() {
    let (bad, cert) = server_with("Get ./DevInfo/Man\n", |c| {
        c.server_password = "not-the-password".into()
    });
    let (good, good_cert) = server("Get ./DevInfo/Man\n");
    let dir = state_dir("refused-ack");
    let mut a = agent_with(&dir, &cert, |c| {
        c.transport.trust_anchors.push(good_cert.clone());
    });
    let x = a
        .accounts()
        .create(
            &account(&format!("https://127.0.0.1:{}/dm", bad.addr.port())),
            roles::MANAGER,
        )
        .unwrap();
    let alert = GenericAlert {
        id: 0,
        correlator: Some("corr-9".into()),
        source: Some("./FwUpdate/x/DownloadAndUpdate".into()),
        target: None,
        type_: "org.openmobilealliance.dm.firmwareupdate.downloadandupdate".into(),
        format: "int".into(),
        mark: None,
        data: "200".into(),
    };
    a.set_alert_retry(omadm_transport::retry::RetryPolicy {
        retries: 0,
        initial: Duration::ZERO,
        max: Duration::ZERO,
    });
    a.add_generic_alert("ref", alert).unwrap();
    let events = a.run_pending();
    assert!(
        matches!(
            &events[..],
            [AgentEvent::SessionEnded {
                reason: EndReason::ServerNotAuthenticated,
                ..
            }]
        ),
        "{events:?}"
    );
    assert_eq!(
        a.alerts().for_server("ref").len(),
        1,
        "the refused server's 200 dropped nothing"
    );
    let kept = a
        .accounts()
        .find_by_server_id("ref")
        .unwrap()
        .server
        .unwrap()
        .data;
    let received = bad
        .engine
        .lock()
        .unwrap()
        .server_nonce(DEVICE)
        .unwrap()
        .to_vec();
    assert_eq!(kept, received, "the device keeps the nonce the server has");

    // The right server, which knows the last nonce it was given.
    good.engine
        .lock()
        .unwrap()
        .set_server_nonce(DEVICE, received);
    a.tree()
        .replace(
            &Principal::Local {
                roles: roles::MANAGER,
            },
            &format!("./DMAcc/{x}/AppAddr/1/Addr"),
            LeafValue::text(format!("https://127.0.0.1:{}/dm", good.addr.port())),
        )
        .unwrap();
    a.resume_pending_alerts();
    let events = a.run_pending();
    assert!(completed(&events[0], None), "{events:?}");
    assert!(a.alerts().for_server("ref").is_empty());
    let delivered = records(&good)
        .iter()
        .filter(|r| r.kind == "Alert" && r.what.contains("correlator=corr-9"))
        .count();
    assert_eq!(delivered, 1);
    bad.stop();
    good.stop();
}

/// Issue 12.5: a hostile server's reply of 990 KB of one-octet WBXML elements, to a device
/// that announced 16 KB, is refused while it is read (before it is decoded): the session
/// fails with a reason that says so.
#[test]
fn a_reply_larger_than_the_announced_max_msg_size_is_refused_unread() {
    let mut body = vec![0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D];
    body.resize(990 * 1024, 0x14);
    let (url, cert) = canned_server(body, "application/vnd.syncml.dm+wbxml");
    let dir = state_dir("hostile-size");
    let mut a = agent(&dir, &cert);
    a.accounts().create(&account(&url), roles::MANAGER).unwrap();
    let (event, _) = one_session(&mut a);
    let AgentEvent::SessionFailed { reason, .. } = &event else {
        panic!("{event:?}")
    };
    assert!(
        matches!(reason, omadm_agent::SessionFailure::Protocol(m) if m.contains("over")),
        "{reason}"
    );
}

#[test]
fn with_the_hosts_transport_queued_sessions_wait_to_be_taken_and_run_over_it() {
    let (srv, cert) = server_with(JOBS, |_| {});
    let mut a = fresh_agent("host-transport", &cert);
    a.accounts()
        .create(
            &account(&format!("https://127.0.0.1:{}/dm", srv.addr.port())),
            roles::MANAGER,
        )
        .unwrap();
    a.set_host_transport(true);
    a.request_session("ref");
    a.request_session("nobody");
    // Processing leaves both queued.
    assert!(a.run_pending().is_empty());
    assert_eq!(a.queued(), 2);
    let mut driver = match a.take_queued_driver() {
        Some(Ok(d)) => d,
        other => panic!("{:?}", other.map(|r| r.err())),
    };
    assert_eq!(driver.server_id(), "ref");
    assert!(matches!(
        a.take_queued_driver(),
        Some(Err(AgentEvent::SessionFailed { .. }))
    ));
    assert!(a.take_queued_driver().is_none());
    // The host's transport: here the agent's own HTTPS client, driven by hand.
    let mut client = omadm_transport::Client::new(omadm_transport::ClientConfig {
        trust_anchors: vec![cert.clone()],
        system_store: false,
        ..omadm_transport::ClientConfig::default()
    })
    .unwrap();
    let mut report = None;
    for _ in 0..20 {
        while let Some((_, r)) = a.take_driver_event(&mut driver) {
            report = r.or(report);
        }
        if report.is_some() {
            break;
        }
        let request = driver.poll_request().expect("a request");
        let r = client
            .post(&omadm_transport::Request {
                url: request.url,
                content_type: request.content_type,
                body: request.body,
                hmac: request.hmac,
            })
            .unwrap();
        a.feed_response(
            &mut driver,
            0,
            omadm_agent::HttpResponse {
                status: r.status,
                content_type: r.content_type.as_deref(),
                hmac: r.hmac.as_deref(),
                body: &r.body,
            },
        )
        .unwrap();
    }
    a.driver_finished(&driver);
    assert!(completed(&report.expect("the session ended"), None));
    assert!(configured(&mut a));
}
