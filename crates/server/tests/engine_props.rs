//! Sequences of device messages into the engine (sans-I/O, a virtual clock): whatever the
//! sequence — SessionIDs interleaved, MsgIDs repeated or skipped, right, wrong and missing
//! credentials, package 1 in the middle, idle gaps — the server's invariants hold:
//! - no job reaches a session in which no message carried valid credentials since its last
//!   package 1;
//! - nothing crosses SessionIDs: a reply carries the SessionID it answers, its MsgIDs start
//!   again at 1 with every package 1, and a message's records name its session.
//!
//! Also: a session that expires leaves its once-jobs owed for the next session.

use std::collections::HashMap;

use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig};
use omadm_syncml::auth::AuthScheme;
use omadm_syncml::{
    b64, decode, encode, Alert, Command, Cred, DmVersion, Encoding, Item, ItemCommand, Limits,
    Location, Status, SyncBody, SyncHdr, SyncMl,
};
use proptest::prelude::*;

const DEVICE: &str = "IMEI:1";

fn engine(timeout_ms: u64) -> Engine {
    let mut devices = HashMap::new();
    devices.insert(
        DEVICE.to_owned(),
        DeviceAccount {
            name: "dev".into(),
            password: "pw".into(),
            scheme: AuthScheme::Md5,
            jobs: vec![],
        },
    );
    let mut n = 0u8;
    Engine::new(
        EngineConfig {
            server_password: "spw".into(),
            devices,
            default_jobs: jobs::parse("Get ./DevInfo/Man\nAdd ./Vendor/x 1\nExec ./Vendor/run\n")
                .unwrap(),
            require_device_auth: true,
            session_timeout_ms: timeout_ms,
            ..EngineConfig::default()
        },
        Box::new(move |b: &mut [u8]| {
            for x in b {
                n = n.wrapping_add(13);
                *x = n;
            }
        }),
    )
}

#[derive(Debug, Clone)]
enum Creds {
    None,
    Right,
    Wrong,
}

#[derive(Debug, Clone)]
struct Step {
    session: u8,
    msg_id: u32,
    package1: bool,
    creds: Creds,
    /// Statuses answering CmdIDs 1..=n of our previous message.
    statuses: u8,
    is_final: bool,
    asks_more: bool,
    wbxml: bool,
    gap_ms: u64,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0u8..3,
        1u32..6,
        any::<bool>(),
        prop_oneof![Just(Creds::None), Just(Creds::Right), Just(Creds::Wrong)],
        0u8..5,
        prop::bool::weighted(0.8),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0u64), Just(10), Just(70_000)],
    )
        .prop_map(
            |(session, msg_id, package1, creds, statuses, is_final, asks_more, wbxml, gap_ms)| {
                Step {
                    session,
                    msg_id: if package1 { 1 } else { msg_id },
                    package1,
                    creds,
                    statuses,
                    is_final,
                    asks_more,
                    wbxml,
                    gap_ms,
                }
            },
        )
}

fn message<'a>(step: &Step, nonce: &[u8], last_reply_msg: &'a str) -> SyncMl<'a> {
    let sid = format!("S{}", step.session);
    let mut header = SyncHdr::new(
        DmVersion::V1_2,
        sid,
        step.msg_id.to_string(),
        Location::new("https://127.0.0.1/dm"),
        Location::new(DEVICE),
    );
    header.cred = match step.creds {
        Creds::None => None,
        Creds::Right => Some(Cred::md5("dev", "pw", nonce)),
        Creds::Wrong => Some(Cred::md5("dev", "nope", nonce)),
    };
    let mut commands = Vec::new();
    if step.package1 {
        commands.push(Command::Alert(Alert::new("1", 1201)));
        commands.push(Command::Replace(ItemCommand::new(
            "2",
            vec![Item::source("./DevInfo/DevId").with_data(DEVICE)],
        )));
    }
    for i in 1..=step.statuses {
        commands.push(Command::Status(Status::new(
            "9",
            last_reply_msg,
            i.to_string(),
            "Get",
            200,
        )));
    }
    if step.asks_more {
        commands.push(Command::Alert(Alert::new("3", 1222)));
    }
    SyncMl {
        header,
        body: SyncBody {
            commands,
            is_final: step.is_final,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_job_reaches_an_unauthenticated_session_and_nothing_crosses_session_ids(
        steps in proptest::collection::vec(step(), 1..30)
    ) {
        let mut engine = engine(60_000);
        let mut now = 0u64;
        // What the harness knows: the nonce the server issued last, each session's last
        // reply MsgID, and whether a message with valid credentials was sent in it since
        // its last package 1.
        let mut nonce: Vec<u8> = Vec::new();
        let mut last_msg: HashMap<String, String> = HashMap::new();
        let mut valid_since_package1: HashMap<String, bool> = HashMap::new();
        for step in &steps {
            now += step.gap_ms;
            let sid = format!("S{}", step.session);
            let m = message(step, &nonce, last_msg.get(&sid).map_or("1", String::as_str));
            if step.package1 {
                valid_since_package1.insert(sid.clone(), false);
            }
            if matches!(step.creds, Creds::Right) {
                // Valid only if the session exists for the server: package 1 now, or one
                // before it that started the session (else the server refuses it unexecuted).
                valid_since_package1.entry(sid.clone()).and_modify(|v| *v = true);
            }
            let encoding = if step.wbxml { Encoding::Wbxml } else { Encoding::Xml };
            let reply = engine.handle(now, &encode(&m, encoding), None);
            prop_assert!(matches!(reply.status, 200 | 400 | 503));
            for r in &reply.records {
                prop_assert_eq!(&r.session, &sid);
            }
            if reply.status != 200 {
                continue;
            }
            let (out, _) = decode(&reply.body, &Limits::default()).expect("the server's reply decodes");
            prop_assert_eq!(&out.header.session_id, &sid);
            if step.package1 {
                prop_assert_eq!(&*out.header.msg_id, "1", "MsgIDs start again with package 1");
            }
            for c in &out.body.commands {
                if let Command::Status(s) = c {
                    if let Some(n) = s.chal.as_ref().and_then(|c| c.meta.next_nonce()) {
                        nonce = b64::decode(n).unwrap();
                    }
                }
            }
            let has_jobs = out
                .body
                .commands
                .iter()
                .any(|c| !matches!(c, Command::Status(_) | Command::Alert(_)));
            if has_jobs {
                prop_assert!(
                    valid_since_package1.get(&sid).copied().unwrap_or(false),
                    "jobs sent to {} which never authenticated: {:?}",
                    sid,
                    out
                );
            }
            last_msg.insert(sid.clone(), out.header.msg_id.to_string());
        }
    }
}

/// A device message of session `sid`: package 1 (MsgID 1, Alert 1201) or MsgID `id` with
/// MD5 credentials over `nonce` and statuses `ok` for `cmd_ids` of message `msg_ref`.
fn device(sid: &str, id: u32, nonce: Option<&[u8]>, acks: &[(String, String)]) -> Vec<u8> {
    let mut header = SyncHdr::new(
        DmVersion::V1_2,
        sid,
        id.to_string(),
        Location::new("https://127.0.0.1/dm"),
        Location::new(DEVICE),
    );
    header.cred = nonce.map(|n| Cred::md5("dev", "pw", n));
    let mut commands = vec![Command::Alert(Alert::new("1", 1201))];
    for (msg_ref, cmd) in acks {
        commands.push(Command::Status(Status::new("2", msg_ref, cmd, "Exec", 200)));
    }
    encode(
        &SyncMl {
            header,
            body: SyncBody {
                commands,
                is_final: true,
            },
        },
        Encoding::Xml,
    )
}

fn decoded(bytes: &[u8]) -> SyncMl<'static> {
    decode(bytes, &Limits::default()).unwrap().0.into_owned()
}

fn server_nonce(m: &SyncMl) -> Vec<u8> {
    m.body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) => s.chal.as_ref()?.meta.next_nonce(),
            _ => None,
        })
        .map(|n| b64::decode(n).unwrap())
        .unwrap()
}

#[test]
fn an_expired_session_leaves_its_once_jobs_owed_and_its_state_behind() {
    let mut e = engine(1000);
    e.add_once_jobs(jobs::parse("Exec ./FwUpdate/x/DownloadAndUpdate\n").unwrap());
    // Session A authenticates and is sent its jobs, the once-job among them, then goes silent.
    let r = decoded(&e.handle(0, &device("A", 1, None, &[]), None).body);
    let r = decoded(
        &e.handle(10, &device("A", 2, Some(&server_nonce(&r)), &[]), None)
            .body,
    );
    assert!(r
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Exec(_))));
    let nonce = server_nonce(&r);
    // Time passes beyond the time-out: A expires.
    let r2 = decoded(&e.handle(5000, &device("A", 3, None, &[]), None).body);
    let hdr = r2
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) => Some(s),
            _ => None,
        })
        .unwrap();
    assert_eq!(hdr.code(), Some(404), "an expired session is gone");
    assert!(!e.has_session(DEVICE));
    // Session B, authenticated: the once-job is owed again (A never answered it).
    let r = decoded(&e.handle(5010, &device("B", 1, None, &[]), None).body);
    let _ = nonce;
    let r = decoded(
        &e.handle(5020, &device("B", 2, Some(&server_nonce(&r)), &[]), None)
            .body,
    );
    assert_eq!(r.header.msg_id, "2");
    let exec = r
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Exec(x)
                if x.items[0].target_uri() == Some("./FwUpdate/x/DownloadAndUpdate") =>
            {
                Some(x.cmd_id.to_string())
            }
            _ => None,
        })
        .expect("the once-job again");
    // Answered now: delivered, so session C does not get it.
    let acks = vec![(r.header.msg_id.to_string(), exec)];
    e.handle(5030, &device("B", 3, None, &acks), None);
    let r = decoded(&e.handle(5040, &device("C", 1, None, &[]), None).body);
    let r = decoded(
        &e.handle(5050, &device("C", 2, Some(&server_nonce(&r)), &[]), None)
            .body,
    );
    assert!(!r
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Exec(x) if x.items[0].target_uri() == Some("./FwUpdate/x/DownloadAndUpdate"))));
}
