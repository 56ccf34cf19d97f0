//! The reference server driven over HTTPS with raw device messages, in XML and WBXML: shapes
//! our own DPU never sends (a stranger's client, an attacker), one test per rule of the
//! README's "Reference server" section (issue 13).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use omadm_server::http::{Journal, ServeOptions};
use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig, Record, ServerAuth};
use omadm_syncml::auth::{AuthScheme, HmacHeader};
use omadm_syncml::{
    b64, decode, encode, Alert, Chal, Command, Cred, Data, DmVersion, Encoding, Item, ItemCommand,
    Limits, Location, Meta, Results, Status, SyncBody, SyncHdr, SyncMl,
};
use omadm_transport::tls::self_signed;
use omadm_transport::{Client, ClientConfig, Request};

const DEVICE: &str = "IMEI:359881030314356";
const SECRET_JOB: &str = "Replace ./DMAcc/x/AppAuth/CLCRED/AAuthSecret s3cr3t-value";

/// Records and nonces as the journal got them, in order.
#[derive(Default)]
struct MemJournal {
    records: Mutex<Vec<Record>>,
    nonce_writes: Mutex<usize>,
}

impl Journal for MemJournal {
    fn persist(
        &self,
        records: &[Record],
        nonces: Option<&[(String, Vec<u8>)]>,
    ) -> std::io::Result<()> {
        self.records.lock().unwrap().extend_from_slice(records);
        if nonces.is_some() {
            *self.nonce_writes.lock().unwrap() += 1;
        }
        Ok(())
    }
}

struct Srv {
    running: omadm_server::http::RunningServer,
    client: Client,
    url: String,
    journal: Arc<MemJournal>,
    encoding: Encoding,
}

fn srv_with(jobs_text: &str, encoding: Encoding, adjust: impl FnOnce(&mut EngineConfig)) -> Srv {
    let (cert, key) = self_signed(&["127.0.0.1"], 1).unwrap();
    let mut devices = HashMap::new();
    devices.insert(
        DEVICE.to_owned(),
        DeviceAccount {
            name: "dev".into(),
            password: "devpw".into(),
            scheme: AuthScheme::Md5,
            jobs: vec![],
        },
    );
    let mut config = EngineConfig {
        server_id: "ref".into(),
        server_password: "srvpw".into(),
        devices,
        default_jobs: jobs::parse(jobs_text).unwrap(),
        require_device_auth: true,
        ..EngineConfig::default()
    };
    adjust(&mut config);
    let engine = Engine::new(
        config,
        Box::new(|b: &mut [u8]| openssl::rand::rand_bytes(b).unwrap()),
    );
    let journal = Arc::new(MemJournal::default());
    let running = omadm_server::http::start_with(
        "127.0.0.1:0".parse().unwrap(),
        &cert,
        &key,
        engine,
        ServeOptions {
            journal: Some(journal.clone()),
            ..ServeOptions::default()
        },
    )
    .unwrap();
    let url = format!("https://127.0.0.1:{}/dm", running.addr.port());
    let client = Client::new(ClientConfig {
        trust_anchors: vec![cert],
        system_store: false,
        ..ClientConfig::default()
    })
    .unwrap();
    Srv {
        running,
        client,
        url,
        journal,
        encoding,
    }
}

fn srv(jobs_text: &str, encoding: Encoding) -> Srv {
    srv_with(jobs_text, encoding, |_| {})
}

/// A device message.
fn msg<'a>(
    sid: &str,
    msg_id: u32,
    cred: Option<Cred<'a>>,
    commands: Vec<Command<'a>>,
    fin: bool,
) -> SyncMl<'a> {
    let mut header = SyncHdr::new(
        DmVersion::V1_2,
        sid.to_owned(),
        msg_id.to_string(),
        Location::new("https://127.0.0.1/dm"),
        Location::new(DEVICE),
    );
    if cred.is_some() {
        header.source = Location::new(DEVICE).with_name("dev");
    }
    header.cred = cred;
    SyncMl {
        header,
        body: SyncBody {
            commands,
            is_final: fin,
        },
    }
}

fn alert(id: &str, code: u16) -> Command<'_> {
    Command::Alert(Alert::new(id, code))
}

fn devinfo(id: &str) -> Command<'_> {
    Command::Replace(ItemCommand::new(
        id,
        vec![Item::source("./DevInfo/DevId").with_data(DEVICE)],
    ))
}

fn status(msg_ref: &str, cmd_ref: &str, cmd: &str, code: &str) -> Status<'static> {
    let mut s = Status::new(
        "9",
        msg_ref.to_owned(),
        cmd_ref.to_owned(),
        cmd.to_owned(),
        200,
    );
    s.data = code.to_owned().into();
    s
}

impl Srv {
    /// Posts `m` (in this server's test encoding) and decodes the reply.
    fn post(&mut self, m: &SyncMl<'_>) -> (SyncMl<'static>, omadm_transport::Response) {
        self.post_with(m, None)
    }

    fn post_with(
        &mut self,
        m: &SyncMl<'_>,
        hmac: Option<&str>,
    ) -> (SyncMl<'static>, omadm_transport::Response) {
        let body = encode(m, self.encoding);
        let r = self
            .client
            .post(&Request {
                url: &self.url,
                content_type: self.encoding.content_type(),
                body: &body,
                hmac,
            })
            .unwrap();
        assert_eq!(r.status, 200, "HTTP {}", r.status);
        let (reply, _) = decode(&r.body, &Limits::default()).unwrap();
        (reply.into_owned(), r)
    }

    fn records(&self) -> Vec<Record> {
        self.journal.records.lock().unwrap().clone()
    }
}

fn header_status<'r>(reply: &'r SyncMl<'_>) -> &'r Status<'r> {
    reply
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd_ref == "0" => Some(s),
            _ => None,
        })
        .expect("a SyncHdr status")
}

fn nonce_of(s: &Status) -> Vec<u8> {
    b64::decode(s.chal.as_ref().unwrap().meta.next_nonce().unwrap()).unwrap()
}

/// Commands the server sends besides Status and Alert.
fn jobs_in<'r>(reply: &'r SyncMl<'_>) -> Vec<&'r Command<'r>> {
    reply
        .body
        .commands
        .iter()
        .filter(|c| !matches!(c, Command::Status(_) | Command::Alert(_)))
        .collect()
}

/// Package 1 without credentials, then MsgID 2 with MD5 over the nonce the 407 gave:
/// an authenticated session `sid`; returns the reply to MsgID 2.
fn authenticated(s: &mut Srv, sid: &str, extra: Vec<Command<'static>>) -> SyncMl<'static> {
    let (r, _) = s.post(&msg(sid, 1, None, vec![alert("1", 1201)], true));
    assert_eq!(header_status(&r).code(), Some(407));
    let nonce = nonce_of(header_status(&r));
    let mut commands = vec![alert("1", 1201), devinfo("2")];
    commands.extend(extra);
    let (r, _) = s.post(&msg(
        sid,
        2,
        Some(Cred::md5("dev", "devpw", &nonce)),
        commands,
        true,
    ));
    assert_eq!(header_status(&r).code(), Some(212), "{r:?}");
    r
}

fn both_encodings(test: impl Fn(Encoding)) {
    test(Encoding::Xml);
    test(Encoding::Wbxml);
}

#[test]
fn a_wrong_password_cannot_take_over_an_abandoned_session() {
    // Fails on the code before issue 13: the new package 1 continued the abandoned session
    // and got 200 and the queued jobs, secret included, without its credentials checked.
    both_encodings(|enc| {
        let mut s = srv(&format!("Get ./DevInfo/Man\n{SECRET_JOB}\n"), enc);
        let r = authenticated(&mut s, "5A", vec![]);
        assert!(!jobs_in(&r).is_empty());
        // The device goes away; an attacker posts a package 1 with the same SessionID and a
        // wrong password.
        let nonce = b"whatever";
        let (r, raw) = s.post(&msg(
            "5A",
            1,
            Some(Cred::md5("dev", "not-the-password", nonce)),
            vec![alert("1", 1201), devinfo("2")],
            true,
        ));
        assert_eq!(header_status(&r).code(), Some(401));
        assert!(jobs_in(&r).is_empty(), "{r:?}");
        assert!(!String::from_utf8_lossy(&raw.body).contains("s3cr3t"));
        // And the next MsgID of the old session is no way in either.
        let (r, _) = s.post(&msg("5A", 3, None, vec![alert("1", 1222)], true));
        assert!(
            matches!(header_status(&r).code(), Some(400 | 401 | 407)),
            "{r:?}"
        );
        assert!(jobs_in(&r).is_empty());
        let records = s.records();
        assert!(records.iter().all(|r| r.session == "5A"), "{records:?}");
        // Only the authenticated message's DevInfo went into the records.
        assert_eq!(records.iter().filter(|r| r.kind == "DevInfo").count(), 1);
        s.running.stop();
    });
}

#[test]
fn a_message_that_continues_no_session_is_refused_unexecuted() {
    both_encodings(|enc| {
        let mut s = srv("Get ./DevInfo/Man\n", enc);
        let (r, _) = s.post(&msg("77", 4, None, vec![alert("1", 1222)], true));
        assert_eq!(header_status(&r).code(), Some(404));
        assert!(r.body.is_final);
        let r = authenticated(&mut s, "78", vec![]);
        assert!(!jobs_in(&r).is_empty());
        // MsgID 7 does not follow 2.
        let (r, _) = s.post(&msg("78", 7, None, vec![], true));
        assert_eq!(header_status(&r).code(), Some(400));
        assert!(s.records().iter().all(|r| r.kind == "DevInfo"));
        s.running.stop();
    });
}

#[test]
fn a_repeated_message_gets_the_same_reply() {
    let mut s = srv("Get ./DevInfo/Man\n", Encoding::Xml);
    let (r, _) = s.post(&msg("31", 1, None, vec![alert("1", 1201)], true));
    let nonce = nonce_of(header_status(&r));
    let second = msg(
        "31",
        2,
        Some(Cred::md5("dev", "devpw", &nonce)),
        vec![alert("1", 1201)],
        true,
    );
    let (a, raw_a) = s.post(&second);
    let (b, raw_b) = s.post(&second);
    assert_eq!(raw_a.body, raw_b.body);
    assert_eq!(a, b);
    s.running.stop();
}

#[test]
fn a_refused_message_gets_a_status_for_every_command_and_the_device_can_go_on() {
    // Fails on the code before issue 13: only the SyncHdr got a Status.
    both_encodings(|enc| {
        let mut s = srv("Get ./DevInfo/Man\n", enc);
        let mut generic = Alert::new("3", 1226);
        generic.items.push(
            Item::source("./FwUpdate/x/DownloadAndUpdate")
                .with_meta(Meta::format_type(
                    "int",
                    "org.openmobilealliance.dm.firmwareupdate.downloadandupdate",
                ))
                .with_data("200"),
        );
        let (r, _) = s.post(&msg(
            "40",
            1,
            Some(Cred::md5("dev", "wrong", b"")),
            vec![alert("1", 1201), devinfo("2"), Command::Alert(generic)],
            true,
        ));
        let hdr = header_status(&r);
        assert_eq!(hdr.code(), Some(401));
        let nonce = nonce_of(hdr);
        for (id, cmd) in [("1", "Alert"), ("2", "Replace"), ("3", "Alert")] {
            let st = r
                .body
                .commands
                .iter()
                .find_map(|c| match c {
                    Command::Status(st) if st.cmd_ref == id => Some(st),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no Status for {id}: {r:?}"));
            assert_eq!((&*st.cmd, st.code()), (cmd, Some(401)));
        }
        assert!(
            s.records().is_empty(),
            "nothing of a refused message is recorded"
        );
        // A client that re-sends only the Alert, with the right credentials, goes on.
        let (r, _) = s.post(&msg(
            "40",
            2,
            Some(Cred::md5("dev", "devpw", &nonce)),
            vec![alert("1", 1201)],
            true,
        ));
        assert_eq!(header_status(&r).code(), Some(212));
        assert_eq!(jobs_in(&r).len(), 1);
        s.running.stop();
    });
}

#[test]
fn three_refusals_end_the_session() {
    let mut s = srv("Get ./DevInfo/Man\n", Encoding::Xml);
    for id in 1..=3 {
        let (r, _) = s.post(&msg(
            "41",
            id,
            Some(Cred::md5("dev", "wrong", b"")),
            vec![alert("1", 1201)],
            true,
        ));
        assert_eq!(header_status(&r).code(), Some(401));
    }
    let (r, _) = s.post(&msg("41", 4, None, vec![alert("1", 1201)], true));
    assert_eq!(header_status(&r).code(), Some(404), "the session is gone");
    s.running.stop();
}

/// The device's verdict on the server's credentials: `code` with a challenge of `type_`.
fn challenge_status(code: u16, type_: &str) -> Command<'_> {
    let mut st = Status::new("9", "1", "0", "SyncHdr", code);
    let mut meta = Meta::format_type("b64", type_);
    meta.more_mut().next_nonce = Some(b64::encode(b"device-nonce").into());
    st.chal = Some(Box::new(Chal { meta }));
    Command::Status(st)
}

#[test]
fn the_server_authenticates_with_the_scheme_it_is_challenged_for() {
    // Fails on the code before issue 13: the server always sent MD5 credentials.
    for (type_, expected) in [
        ("syncml:auth-basic", Some(AuthScheme::Basic)),
        ("syncml:auth-md5", Some(AuthScheme::Md5)),
        ("syncml:auth-MAC", None),
    ] {
        let mut s = srv("Get ./DevInfo/Man\n", Encoding::Xml);
        let (r, _) = s.post(&msg("50", 1, None, vec![alert("1", 1201)], true));
        let nonce = nonce_of(header_status(&r));
        let (r, raw) = s.post(&msg(
            "50",
            2,
            Some(Cred::md5("dev", "devpw", &nonce)),
            vec![challenge_status(401, type_), alert("1", 1201)],
            true,
        ));
        match expected {
            Some(scheme) => {
                let cred = r.header.cred.as_ref().expect("server credentials");
                assert_eq!(cred.scheme(), Some(scheme), "{type_}");
                assert!(cred.verify("ref", "srvpw", b"device-nonce"), "{type_}");
            }
            None => {
                let h = HmacHeader::parse(raw.hmac.as_deref().expect("an HMAC header")).unwrap();
                assert!(h.verify("srvpw", b"device-nonce", &raw.body));
            }
        }
        s.running.stop();
    }
}

#[test]
fn an_unsupported_challenge_or_a_third_refusal_ends_the_session_with_a_record() {
    let mut s = srv("Get ./DevInfo/Man\n", Encoding::Xml);
    let (r, _) = s.post(&msg("51", 1, None, vec![alert("1", 1201)], true));
    let nonce = nonce_of(header_status(&r));
    let (r, _) = s.post(&msg(
        "51",
        2,
        Some(Cred::md5("dev", "devpw", &nonce)),
        vec![challenge_status(401, "syncml:auth-X509"), alert("1", 1201)],
        true,
    ));
    assert!(r.body.is_final && jobs_in(&r).is_empty());
    let failed: Vec<_> = s
        .records()
        .into_iter()
        .filter(|r| r.kind == "Failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]
        .data
        .as_deref()
        .unwrap()
        .contains("syncml:auth-X509"));

    let mut s = srv(
        "Get ./DevInfo/Man\nGet ./DevInfo/Mod\nGet ./DevInfo/Lang\n",
        Encoding::Xml,
    );
    let mut r = authenticated(&mut s, "52", vec![]);
    for id in 3..=5 {
        let refs: Vec<Command> = r
            .body
            .commands
            .iter()
            .filter(|c| !matches!(c, Command::Status(_)))
            .map(|c| {
                Command::Status(status(
                    &r.header.msg_id,
                    c.cmd_id().unwrap(),
                    c.name(),
                    "401",
                ))
            })
            .collect();
        let mut commands = vec![challenge_status(401, "syncml:auth-md5")];
        commands.extend(refs);
        r = s.post(&msg("52", id, None, commands, true)).0;
    }
    assert!(r.body.is_final && jobs_in(&r).is_empty(), "{r:?}");
    assert!(s
        .records()
        .iter()
        .any(|r| r.kind == "Failed" && r.data.as_deref().unwrap().contains("3 times")));
    s.running.stop();
}

#[test]
fn server_auth_none_sends_no_credentials() {
    let mut s = srv_with("Get ./DevInfo/Man\n", Encoding::Xml, |c| {
        c.server_auth = ServerAuth::None
    });
    let r = authenticated(&mut s, "53", vec![]);
    assert!(r.header.cred.is_none());
    s.running.stop();
}

/// The device acknowledges every job of `r` with `code` (Get: 200 and its Results).
fn acknowledge(r: &SyncMl<'_>, code: &str) -> Vec<Command<'static>> {
    r.body
        .commands
        .iter()
        .filter(|c| !matches!(c, Command::Status(_)))
        .map(|c| {
            Command::Status(status(
                &r.header.msg_id,
                c.cmd_id().unwrap(),
                c.name(),
                code,
            ))
        })
        .collect()
}

fn with_max_msg_size(mut m: SyncMl, size: u64, obj: Option<u64>) -> SyncMl {
    let mut meta = Meta::default();
    let more = meta.more_mut();
    more.max_msg_size = Some(size);
    more.max_obj_size = obj;
    m.header.meta = Some(meta);
    m
}

#[test]
fn a_large_object_whose_chunk_is_answered_200_ends_and_is_recorded() {
    // Fails on the code before issue 13: the chunk's message carried Final, and the refused
    // object ended with no record saying why.
    both_encodings(|enc| {
        let value = "v".repeat(6000);
        let mut s = srv(
            &format!("Add ./Vendor/big {value}\nGet ./DevInfo/Man\n"),
            enc,
        );
        let (r, _) = s.post(&with_max_msg_size(
            msg("60", 1, None, vec![alert("1", 1201)], true),
            2048,
            None,
        ));
        let nonce = nonce_of(header_status(&r));
        let (r, raw) = s.post(&with_max_msg_size(
            msg(
                "60",
                2,
                Some(Cred::md5("dev", "devpw", &nonce)),
                vec![alert("1", 1201)],
                true,
            ),
            2048,
            None,
        ));
        assert!(raw.body.len() <= 2048, "{}", raw.body.len());
        let chunk = jobs_in(&r);
        assert_eq!(chunk.len(), 1);
        assert!(matches!(chunk[0], Command::Add(a) if a.items[0].more_data));
        assert!(
            !r.body.is_final,
            "a message with a chunk to continue is not Final"
        );
        let mut answers = acknowledge(&r, "200");
        answers.push(alert("9", 1222));
        let (r, _) = s.post(&with_max_msg_size(
            msg("60", 3, None, answers, true),
            2048,
            None,
        ));
        // No more chunks of that object; the next job comes.
        assert!(
            jobs_in(&r).iter().all(|c| matches!(c, Command::Get(_))),
            "{r:?}"
        );
        let failed: Vec<_> = s
            .records()
            .into_iter()
            .filter(|r| r.kind == "Failed")
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].code, Some(200));
        assert!(failed[0].what.contains("./Vendor/big"));
        s.running.stop();
    });
}

#[test]
fn a_value_over_the_devices_max_obj_size_is_not_sent_and_says_so() {
    let value = "v".repeat(3000);
    let mut s = srv(
        &format!("Add ./Vendor/big {value}\nGet ./DevInfo/Man\n"),
        Encoding::Xml,
    );
    let (r, _) = s.post(&with_max_msg_size(
        msg("61", 1, None, vec![alert("1", 1201)], true),
        8192,
        Some(1000),
    ));
    let nonce = nonce_of(header_status(&r));
    let (r, _) = s.post(&msg(
        "61",
        2,
        Some(Cred::md5("dev", "devpw", &nonce)),
        vec![alert("1", 1201)],
        true,
    ));
    assert!(jobs_in(&r).iter().all(|c| matches!(c, Command::Get(_))));
    let failed: Vec<_> = s
        .records()
        .into_iter()
        .filter(|r| r.kind == "Failed")
        .collect();
    assert!(
        failed[0]
            .data
            .as_deref()
            .unwrap()
            .contains("MaxObjSize 1000"),
        "{failed:?}"
    );
    s.running.stop();
}

#[test]
fn max_msg_size_limits_every_server_message() {
    // Fails on the code before issue 13: --max-msg-size was only announced (a 16384 server
    // sent 65,087-octet messages).
    both_encodings(|enc| {
        let jobs: String = (0..200)
            .map(|i| format!("Add ./Vendor/n{i} value-{i}\n"))
            .collect();
        let mut s = srv_with(&jobs, enc, |c| c.max_msg_size = 4096);
        let mut r = authenticated(&mut s, "62", vec![]);
        let mut id = 3;
        let mut sent = 0;
        loop {
            let n = jobs_in(&r).len();
            sent += n;
            if n == 0 {
                break;
            }
            let (next, raw) = s.post(&msg("62", id, None, acknowledge(&r, "200"), true));
            assert!(raw.body.len() <= 4096, "{} octets", raw.body.len());
            r = next;
            id += 1;
        }
        assert_eq!(sent, 200);
        s.running.stop();
    });
}

#[test]
fn device_data_is_recorded_escaped_and_bad_codes_are_malformed() {
    let mut s = srv("Get ./DevInfo/Man\nGet ./DevInfo/Mod\n", Encoding::Wbxml);
    let r = authenticated(&mut s, "70", vec![]);
    let gets: Vec<&Command> = jobs_in(&r);
    let mut answers = vec![
        Command::Status(status(
            &r.header.msg_id,
            gets[0].cmd_id().unwrap(),
            "Get",
            "200",
        )),
        Command::Status(status(
            &r.header.msg_id,
            gets[1].cmd_id().unwrap(),
            "Get",
            "0",
        )),
    ];
    answers.push(Command::Results(Results {
        cmd_id: "5".into(),
        msg_ref: Some(r.header.msg_id.clone()),
        cmd_ref: gets[0].cmd_id().unwrap().into(),
        meta: None,
        target_ref: None,
        source_ref: None,
        items: vec![Item {
            source: Some(Location::new("./DevInfo/Man")),
            data: Some(Data::Opaque(
                b"a\0b\x1b[31m\nIMEI:2\tforged".to_vec().into(),
            )),
            ..Item::default()
        }],
    }));
    s.post(&msg("70", 3, None, answers, true));
    let records = s.records();
    let result = records.iter().find(|r| r.kind == "Results").unwrap();
    let line = result.tsv_line();
    assert_eq!(line.split('\t').count(), 6, "{line}");
    assert!(
        line.contains("a\\x00b\\x1b[31m\\x0aIMEI:2\\x09forged"),
        "{line}"
    );
    let malformed = records
        .iter()
        .find(|r| r.kind == "Malformed")
        .expect("{records:?}");
    assert_eq!(malformed.data.as_deref(), Some("0"));
    s.running.stop();
}

#[test]
fn a_value_the_device_sends_in_chunks_is_recorded_once() {
    let mut s = srv("Get ./Vendor/big\n", Encoding::Xml);
    let r = authenticated(&mut s, "71", vec![]);
    let get = jobs_in(&r)[0].cmd_id().unwrap().to_owned();
    let chunk = |id: u32, part: &str, more: bool| {
        let mut item = Item::source("./Vendor/big").with_data(part.to_owned());
        item.more_data = more;
        let mut commands = vec![];
        if id == 3 {
            commands.push(Command::Status(status(
                &r.header.msg_id,
                &get,
                "Get",
                "200",
            )));
        }
        commands.push(Command::Results(Results {
            cmd_id: "2".into(),
            msg_ref: Some(r.header.msg_id.clone()),
            cmd_ref: get.clone().into(),
            meta: None,
            target_ref: None,
            source_ref: None,
            items: vec![item],
        }));
        msg("71", id, None, commands, !more)
    };
    let (r1, _) = s.post(&chunk(3, "first-", true));
    assert!(!r1.body.is_final || jobs_in(&r1).is_empty());
    s.post(&chunk(4, "second-", true));
    s.post(&chunk(5, "last", false));
    let results: Vec<_> = s
        .records()
        .into_iter()
        .filter(|r| r.kind == "Results")
        .collect();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0].data.as_deref(), Some("first-second-last"));
    s.running.stop();
}

#[test]
fn nested_commands_get_cmd_ids_of_their_own_and_their_statuses_are_attributed() {
    let fragment = "<Atomic><CmdID>1</CmdID><Add><CmdID>1</CmdID><Item><Target><LocURI>./Vendor/a</LocURI></Target><Data>1</Data></Item></Add><Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/b</LocURI></Target><Data>2</Data></Item></Add></Atomic>";
    let mut s = srv(fragment, Encoding::Xml);
    let r = authenticated(&mut s, "72", vec![]);
    let mut ids = Vec::new();
    for c in &r.body.commands {
        ids.push(c.cmd_id().unwrap().to_owned());
        if let Command::Atomic(a) = c {
            ids.extend(a.commands.iter().map(|c| c.cmd_id().unwrap().to_owned()));
        }
    }
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "CmdIDs repeat: {ids:?}");
    let Some(Command::Atomic(atomic)) = jobs_in(&r).first().copied().cloned() else {
        panic!()
    };
    let answers = vec![
        Command::Status(status(&r.header.msg_id, &atomic.cmd_id, "Atomic", "200")),
        Command::Status(status(
            &r.header.msg_id,
            atomic.commands[0].cmd_id().unwrap(),
            "Add",
            "200",
        )),
        Command::Status(status(
            &r.header.msg_id,
            atomic.commands[1].cmd_id().unwrap(),
            "Add",
            "418",
        )),
    ];
    s.post(&msg("72", 3, None, answers, true));
    let statuses: Vec<(String, Option<u16>)> = s
        .records()
        .into_iter()
        .filter(|r| r.kind == "Status")
        .map(|r| (r.what, r.code))
        .collect();
    assert_eq!(
        statuses,
        [
            ("Atomic".to_owned(), Some(200)),
            ("Atomic/Add ./Vendor/a".to_owned(), Some(200)),
            ("Atomic/Add ./Vendor/b".to_owned(), Some(418)),
        ]
    );
    s.running.stop();
}

#[test]
fn the_encoding_option_sets_what_the_server_sends() {
    let mut s = srv_with("Get ./DevInfo/Man\n", Encoding::Xml, |c| {
        c.encoding = Some(Encoding::Wbxml)
    });
    let (_, raw) = s.post(&msg("80", 1, None, vec![alert("1", 1201)], true));
    assert_eq!(Encoding::detect(&raw.body), Encoding::Wbxml);
    s.running.stop();
}

#[test]
fn the_connection_cap_holds_further_connections_until_one_closes() {
    use std::io::Read;
    let s = srv_with("", Encoding::Xml, |_| {});
    drop(s.client);
    let (cert, key) = self_signed(&["127.0.0.1"], 1).unwrap();
    let engine = Engine::new(EngineConfig::default(), Box::new(|b: &mut [u8]| b.fill(1)));
    let capped = omadm_server::http::start_with(
        "127.0.0.1:0".parse().unwrap(),
        &cert,
        &key,
        engine,
        ServeOptions {
            max_connections: 1,
            ..ServeOptions::default()
        },
    )
    .unwrap();
    let connector = {
        let mut b = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls()).unwrap();
        b.set_verify(openssl::ssl::SslVerifyMode::NONE);
        b.build()
    };
    let connect = |wait_ms: u64| {
        let tcp = std::net::TcpStream::connect(capped.addr).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_millis(wait_ms)))
            .unwrap();
        connector
            .configure()
            .unwrap()
            .verify_hostname(false)
            .connect("127.0.0.1", tcp)
    };
    let first = connect(2000).expect("the first connection is served");
    let second = connect(400);
    assert!(second.is_err(), "the second waits while the first is open");
    drop(second);
    drop(first);
    let mut third = connect(5000).expect("served once the first closed");
    let mut buf = [0u8; 1];
    let _ = third.read(&mut buf);
    capped.stop();
    s.running.stop();
}

#[test]
fn statuses_the_device_did_not_believe_are_said_again_with_the_new_credentials() {
    let mut s = srv("Get ./DevInfo/Man\n", Encoding::Xml);
    let (r, _) = s.post(&msg("90", 1, None, vec![alert("1", 1201)], true));
    let nonce = nonce_of(header_status(&r));
    let mut generic = Alert::new("3", 1226);
    generic
        .items
        .push(Item::source("./FwUpdate/x").with_data("200"));
    let (r, _) = s.post(&msg(
        "90",
        2,
        Some(Cred::md5("dev", "devpw", &nonce)),
        vec![alert("1", 1201), Command::Alert(generic)],
        true,
    ));
    let acked = |r: &SyncMl| {
        r.body.commands.iter().any(|c| {
            matches!(c, Command::Status(st) if st.msg_ref == "2" && st.cmd_ref == "3" && st.code() == Some(200))
        })
    };
    assert!(acked(&r));
    // The device did not believe that message (wrong server credentials for it).
    let mut answers = vec![challenge_status(401, "syncml:auth-md5")];
    answers.extend(acknowledge(&r, "401"));
    let (r, _) = s.post(&msg("90", 3, None, answers, true));
    assert!(r.header.cred.is_some());
    assert!(acked(&r), "the alert's status again: {r:?}");
    s.running.stop();
}
