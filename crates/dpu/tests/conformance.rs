//! Conformance cases: server message in → client message out and tree state, one per rule.

use omadm_cm::roles;
use omadm_cm::{
    Config, Csp, CspError, CspNode, ExecOutcome, LeafValue, Manager, MemoryStorage, Principal,
};
use omadm_csp::{DevDetailCsp, DevInfoCsp, DeviceDetail, DeviceInfo, MemoryCsp};
use omadm_dpu::{Credentials, EndReason, Event, GenericAlert, Session, SessionConfig, Trigger};
use omadm_syncml::auth::AuthScheme;
use omadm_syncml::{decode, Command, Cred, DmVersion, Encoding, Limits, Status, SyncMl};

const SERVER: &str = "https://dm.example.com/dm";

/// `./test/execute`: an executable no-op node.
struct ExecNode;
impl Csp for ExecNode {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        match path {
            "./test" => Ok(CspNode::Interior {
                children: ["execute".into()].into(),
                type_: String::new(),
            }),
            "./test/execute" => Ok(CspNode::Leaf(LeafValue::text(""))),
            _ => Err(CspError::NotFound),
        }
    }
    fn exec(
        &mut self,
        _: &str,
        _: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, CspError> {
        Ok(if correlator.is_some() {
            ExecOutcome::Accepted
        } else {
            ExecOutcome::Done
        })
    }
}

fn device() -> Manager {
    let mut m = Manager::open(Box::new(MemoryStorage::new()), Config::default()).unwrap();
    let info = DeviceInfo {
        dev_id: "IMEI:1".into(),
        man: "m".into(),
        model: "mod".into(),
        dm_v: "1".into(),
        lang: "en".into(),
        ext: vec![],
    };
    m.mount(
        "./DevInfo",
        Box::new(DevInfoCsp::new(&info)),
        roles::MANAGER,
    )
    .unwrap();
    let detail = DeviceDetail {
        dev_typ: "phone".into(),
        oem: "o".into(),
        fw_v: "1".into(),
        sw_v: "1".into(),
        hw_v: "1".into(),
    };
    m.mount(
        "./DevDetail",
        Box::new(DevDetailCsp::new(
            &detail,
            &omadm_cm::UriLimits::default(),
            true,
        )),
        roles::MANAGER,
    )
    .unwrap();
    m.mount(
        "./Vendor/memory",
        Box::new(MemoryCsp::new("./Vendor/memory")),
        roles::MANAGER,
    )
    .unwrap();
    m.mount("./test", Box::new(ExecNode), roles::MANAGER)
        .unwrap();
    // The sample's ./DMAcc/secret stands for an account this server may not read.
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    m.add(
        &local,
        "./DMAcc/secret/Name",
        omadm_cm::NewNode::Leaf(LeafValue::text("x")),
    )
    .unwrap();
    m.replace(
        &local,
        "./DMAcc/secret?prop=ACL",
        LeafValue::text("Get=other"),
    )
    .unwrap();
    m.replace(
        &local,
        ".?prop=ACL",
        LeafValue::text("Add=*&Get=*&Replace=*&Delete=*&Exec=*"),
    )
    .unwrap();
    m
}

fn config() -> SessionConfig {
    let mut c = SessionConfig::new("IMEI:1", SERVER, "funambol");
    c.dev_info = vec![
        ("./DevInfo/DevId".into(), "IMEI:1".into()),
        ("./DevInfo/Man".into(), "m".into()),
    ];
    c
}

fn session(config: SessionConfig, session_id: u16) -> Session {
    let mut n = 0u8;
    Session::new(
        config,
        Trigger::Server { session_id },
        Vec::new(),
        Box::new(move |buf: &mut [u8]| {
            for b in buf.iter_mut() {
                n = n.wrapping_add(37);
                *b = n;
            }
        }),
    )
}

/// A fresh device and a server-initiated session (id 1) that has sent package 1.
fn started() -> (Manager, Session) {
    let m = device();
    let mut s = session(config(), 1);
    s.start();
    (m, s)
}

/// The device's reply to one server message (which must get one).
fn reply(s: &mut Session, m: &mut Manager, bytes: &[u8]) -> SyncMl<'static> {
    parse(&s.handle(m, bytes).unwrap().unwrap().body)
}

fn parse(bytes: &[u8]) -> SyncMl<'static> {
    decode(bytes, &Limits::default()).unwrap().0.into_owned()
}

fn statuses<'a>(msg: &'a SyncMl<'_>) -> Vec<&'a Status<'a>> {
    fn walk<'a>(cs: &'a [Command<'a>], out: &mut Vec<&'a Status<'a>>) {
        for c in cs {
            if let Command::Status(s) = c {
                out.push(s);
            }
        }
    }
    let mut out = Vec::new();
    walk(&msg.body.commands, &mut out);
    out
}

/// Checks that the message's CmdIDs are unique and numbered from 1.
fn assert_numbered_from_1(msg: &SyncMl) {
    let ids: Vec<&str> = msg
        .body
        .commands
        .iter()
        .filter_map(|c| c.cmd_id())
        .collect();
    assert_eq!(
        ids,
        (1..=ids.len()).map(|i| i.to_string()).collect::<Vec<_>>()
    );
}

fn code_for(msg: &SyncMl, cmd_ref: &str) -> Vec<u16> {
    statuses(msg)
        .iter()
        .filter(|s| s.cmd_ref == cmd_ref && s.cmd != "SyncHdr")
        .map(|s| s.code().unwrap())
        .collect()
}

fn server_msg(session: &str, msg_id: u32, body: &str, is_final: bool) -> Vec<u8> {
    let fin = if is_final { "<Final/>" } else { "" };
    format!(r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>{session}</SessionID><MsgID>{msg_id}</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>{SERVER}</LocURI></Source></SyncHdr><SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>212</Data></Status>{body}{fin}</SyncBody></SyncML>"#).into_bytes()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../../shared/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn package1_echoes_the_notification_session_id_with_alert_1200_and_devinfo() {
    let mut s = session(config(), 0x00AB);
    let out = s.start();
    let msg = parse(&out.body);
    assert_eq!(msg.header.session_id, "AB");
    assert_eq!(msg.header.msg_id, "1");
    assert_eq!(msg.header.target.loc_uri, SERVER);
    assert_eq!(msg.header.source.loc_uri, "IMEI:1");
    assert!(msg.body.is_final);
    let Command::Alert(a) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code(), Some(1200));
    let Command::Replace(r) = &msg.body.commands[1] else {
        panic!()
    };
    assert_eq!(r.items[0].source_uri(), Some("./DevInfo/DevId"));
    assert_eq!(out.content_type, "application/vnd.syncml.dm+xml");
}

#[test]
fn client_initiated_session_uses_alert_1201() {
    let mut s = Session::new(
        config(),
        Trigger::Client { session_id: 7 },
        vec![],
        Box::new(|_: &mut [u8]| {}),
    );
    let msg = parse(&s.start().body);
    let Command::Alert(a) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code(), Some(1201));
}

#[test]
fn mixed_sample_gets_a_status_for_every_command_and_results_for_gets() {
    let (mut m, mut s) = started();
    let out = s
        .handle(&mut m, &sample("pkg2_mixed.xml"))
        .unwrap()
        .unwrap();
    let reply = parse(&out.body);
    let st = statuses(&reply);
    assert_eq!(st[0].cmd, "SyncHdr");
    assert_eq!(st[0].cmd_ref, "0");
    assert_eq!(st[0].msg_ref, "1");
    assert_eq!(
        code_for(&reply, "2"),
        [200],
        "Get ./DevInfo/Mod and ./DevDetail"
    );
    assert_eq!(code_for(&reply, "3"), [200], "Add");
    assert_eq!(code_for(&reply, "4"), [200], "Replace");
    assert_eq!(code_for(&reply, "5"), [200], "Get");
    assert_eq!(code_for(&reply, "7"), [200], "Get DevId");
    assert_eq!(code_for(&reply, "8"), [200], "Delete");
    assert_eq!(code_for(&reply, "9"), [200], "Exec");
    assert_eq!(code_for(&reply, "10"), [425], "Get the server may not do");
    // Results come after the Status of their Get, with the values of the time they ran.
    let results: Vec<_> = reply
        .body
        .commands
        .iter()
        .filter_map(|c| {
            if let Command::Results(r) = c {
                Some(r)
            } else {
                None
            }
        })
        .collect();
    let r5 = results.iter().find(|r| r.cmd_ref == "5").unwrap();
    assert_eq!(r5.items[0].data.as_ref().unwrap().as_str(), Some("world"));
    let r2 = results.iter().find(|r| r.cmd_ref == "2").unwrap();
    assert_eq!(r2.items.len(), 2);
    assert_eq!(
        r2.items[1].meta.as_ref().unwrap().format.as_deref(),
        Some("node")
    );
    let pos = |pred: &dyn Fn(&Command) -> bool| reply.body.commands.iter().position(pred).unwrap();
    assert!(
        pos(&|c| matches!(c, Command::Status(s) if s.cmd_ref == "5"))
            < pos(&|c| matches!(c, Command::Results(r) if r.cmd_ref == "5"))
    );
    assert_numbered_from_1(&reply);
    assert!(reply.body.is_final);
    assert!(
        !m.exists("./Vendor/memory/a"),
        "deleted by the last command"
    );
}

#[test]
fn same_session_in_wbxml() {
    let mut m = device();
    let mut c = config();
    c.encoding = Encoding::Wbxml;
    let mut s = session(c, 1);
    s.start();
    let out = s
        .handle(&mut m, &sample("pkg2_mixed.wbxml"))
        .unwrap()
        .unwrap();
    assert_eq!(out.content_type, "application/vnd.syncml.dm+wbxml");
    assert_eq!(out.body[0], 0x02);
    let reply = parse(&out.body);
    assert_eq!(code_for(&reply, "3"), [200]);
    assert_eq!(code_for(&reply, "10"), [425]);
}

#[test]
fn atomic_with_a_failing_child_rolls_everything_back() {
    let (mut m, mut s) = started();
    let body = r#"<Atomic><CmdID>2</CmdID><Add><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/memory/ok</LocURI></Target><Data>1</Data></Item></Add><Add><CmdID>4</CmdID><Item><Target><LocURI>./Vendor/memory/ok</LocURI></Target><Data>2</Data></Item></Add><Add><CmdID>5</CmdID><Item><Target><LocURI>./Vendor/memory/later</LocURI></Target><Data>3</Data></Item></Add></Atomic>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, true));
    assert_eq!(code_for(&reply, "2"), [507]);
    assert_eq!(code_for(&reply, "3"), [216]);
    assert_eq!(code_for(&reply, "4"), [418]);
    assert_eq!(code_for(&reply, "5"), [215]);
    assert!(!m.exists("./Vendor/memory/ok"));
}

#[test]
fn atomic_sample_rolls_back_and_the_rest_of_the_message_runs() {
    let (mut m, mut s) = started();
    let reply = reply(&mut s, &mut m, &sample("pkg2_atomic.xml"));
    let st = statuses(&reply);
    let atomic = st.iter().find(|s| s.cmd == "Atomic").unwrap();
    assert_eq!(atomic.code(), Some(507));
    assert!(st.iter().any(|s| s.code() == Some(216)));
    assert!(st.len() > 4);
}

#[test]
fn nested_atomic_and_get_inside_atomic_are_500() {
    let (mut m, mut s) = started();
    let body = r#"<Atomic><CmdID>2</CmdID><Get><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get></Atomic><Atomic><CmdID>4</CmdID><Atomic><CmdID>5</CmdID></Atomic></Atomic>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, true));
    assert_eq!(code_for(&reply, "2"), [507]);
    assert_eq!(code_for(&reply, "3"), [500]);
    assert_eq!(code_for(&reply, "4"), [507]);
    assert_eq!(code_for(&reply, "5"), [500]);
}

#[test]
fn sequence_stops_at_a_failing_command_and_the_rest_is_215() {
    let (mut m, mut s) = started();
    let body = r#"<Sequence><CmdID>2</CmdID><Add><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/memory/s</LocURI></Target><Data>1</Data></Item></Add><Replace><CmdID>4</CmdID><Item><Target><LocURI>./Vendor/memory/missing</LocURI></Target><Data>1</Data></Item></Replace><Add><CmdID>5</CmdID><Item><Target><LocURI>./Vendor/memory/t</LocURI></Target><Data>1</Data></Item></Add></Sequence>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, true));
    assert_eq!(code_for(&reply, "2"), [200]);
    assert_eq!(code_for(&reply, "3"), [200]);
    assert_eq!(code_for(&reply, "4"), [404]);
    assert_eq!(code_for(&reply, "5"), [215]);
    assert!(m.exists("./Vendor/memory/s") && !m.exists("./Vendor/memory/t"));
}

#[test]
fn copy_of_a_subtree() {
    let (mut m, mut s) = started();
    let body = r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/src/a</LocURI></Target><Data>1</Data></Item></Add><Copy><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/memory/dst</LocURI></Target><Source><LocURI>./Vendor/memory/src</LocURI></Source></Item></Copy>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, true));
    assert_eq!(code_for(&reply, "3"), [200]);
    assert!(m.exists("./Vendor/memory/dst/a"));
}

/// A Results item as the tests read it: Source URI, Format, value.
type Found = (String, Option<String>, Option<String>);

/// Each Results of the reply, by CmdRef: its items' Source URIs, Formats and values.
fn results_by_ref(msg: &SyncMl) -> Vec<(String, Vec<Found>)> {
    msg.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Results(r) => Some((
                r.cmd_ref.to_string(),
                r.items
                    .iter()
                    .map(|i| {
                        (
                            i.source_uri().unwrap_or("").to_owned(),
                            i.meta
                                .as_ref()
                                .and_then(|m| m.format.as_deref().map(str::to_owned)),
                            i.data.as_ref().and_then(|d| d.as_str().map(str::to_owned)),
                        )
                    })
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn results_of_gets_hold_every_node_found_in_order() {
    let (mut m, mut s) = started();
    let item = |uri: &str| format!("<Item><Target><LocURI>{uri}</LocURI></Target></Item>");
    let body = [
        r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/x/a</LocURI></Target><Data>1</Data></Item></Add>"#.to_owned(),
        r#"<Add><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/memory/x/b</LocURI></Target><Meta><Format xmlns="syncml:metinf">int</Format></Meta><Data>7</Data></Item></Add>"#.to_owned(),
        format!(
            "<Get><CmdID>4</CmdID>{}{}{}{}</Get>",
            item("./Vendor/memory/x/b"),
            item("./Vendor/memory/x"),
            item("./Vendor/memory/missing"),
            item("./Vendor/memory/x/a")
        ),
        format!("<Get><CmdID>5</CmdID>{}</Get>", item("./Vendor/memory/x?list=Struct")),
        format!("<Get><CmdID>6</CmdID>{}</Get>", item("./Vendor/memory/x/b")),
        format!("<Get><CmdID>7</CmdID>{}</Get>", item("./Vendor/memory/nothing")),
    ]
    .concat();
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, &body, true));
    assert_eq!(code_for(&reply, "4"), [200, 200, 404, 200]);
    assert_eq!(code_for(&reply, "7"), [404]);
    let node = |uri: &str, format: Option<&str>, data: Option<&str>| {
        (
            uri.to_owned(),
            format.map(str::to_owned),
            data.map(str::to_owned),
        )
    };
    assert_eq!(
        results_by_ref(&reply),
        [
            (
                "4".to_owned(),
                vec![
                    node("./Vendor/memory/x/b", Some("int"), Some("7")),
                    node("./Vendor/memory/x", Some("node"), Some("a/b")),
                    node("./Vendor/memory/x/a", None, Some("1")),
                ]
            ),
            (
                "5".to_owned(),
                vec![
                    node("./Vendor/memory/x", Some("node"), None),
                    node("./Vendor/memory/x/a", None, None),
                    node("./Vendor/memory/x/b", Some("int"), None),
                ]
            ),
            (
                "6".to_owned(),
                vec![node("./Vendor/memory/x/b", Some("int"), Some("7"))]
            ),
        ]
    );
    assert_numbered_from_1(&reply);
}

#[test]
fn a_final_message_with_only_statuses_ends_the_session_without_reply() {
    let (mut m, mut s) = started();
    assert!(s
        .handle(&mut m, &server_msg("1", 2, "", true))
        .unwrap()
        .is_none());
    assert_eq!(s.poll_event(), Some(Event::Ended(EndReason::Completed)));
    assert!(s.is_ended());
}

#[test]
fn a_non_final_server_message_is_answered_with_alert_1222_and_no_final() {
    let (mut m, mut s) = started();
    let body = r#"<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, false));
    assert!(!reply.body.is_final);
    assert!(reply
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code() == Some(1222))));
}

#[test]
fn abort_1223_ends_the_session_without_reply() {
    let (mut m, mut s) = started();
    let body = r#"<Alert><CmdID>2</CmdID><Data>1223</Data></Alert>"#;
    assert!(s
        .handle(&mut m, &server_msg("1", 2, body, true))
        .unwrap()
        .is_none());
    assert_eq!(
        s.poll_event(),
        Some(Event::Ended(EndReason::AbortedByServer))
    );
}

#[test]
fn a_server_without_the_required_credentials_gets_407_and_nothing_runs() {
    let mut m = device();
    let mut c = config();
    c.server_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "funambol".into(),
        secret: "srvpwd".into(),
        nonce: b"n".to_vec(),
    });
    let mut s = session(c, 1);
    s.start();
    let body = r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/x</LocURI></Target><Data>1</Data></Item></Add>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, true));
    let hdr = statuses(&reply)[0];
    assert_eq!(hdr.code(), Some(407));
    let chal = hdr.chal.as_ref().expect("a challenge");
    assert_eq!(chal.meta.type_.as_deref(), Some("syncml:auth-md5"));
    assert!(chal.meta.next_nonce().is_some());
    assert_eq!(code_for(&reply, "2"), [407]);
    assert!(!m.exists("./Vendor/memory/x"));
    assert!(matches!(s.poll_event(), Some(Event::ServerNonce { .. })));
}

#[test]
fn a_server_that_never_authenticates_ends_the_session() {
    let mut m = device();
    let mut c = config();
    c.server_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "funambol".into(),
        secret: "srvpwd".into(),
        nonce: vec![],
    });
    let mut s = session(c, 1);
    s.start();
    let mut ended = false;
    for i in 0..5 {
        match s.handle(&mut m, &server_msg("1", 2 + i, "", true)) {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                ended = true;
                break;
            }
        }
    }
    assert!(ended);
    assert!(std::iter::from_fn(|| s.poll_event())
        .any(|e| e == Event::Ended(EndReason::ServerNotAuthenticated)));
}

#[test]
fn a_server_with_good_md5_credentials_gets_212_and_its_commands_run() {
    let mut m = device();
    let mut c = config();
    c.server_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "funambol".into(),
        secret: "srvpwd".into(),
        nonce: b"srv-nonce".to_vec(),
    });
    let mut s = session(c, 1);
    s.start();
    let cred = Cred::md5("funambol", "srvpwd", b"srv-nonce");
    let text = String::from_utf8(server_msg("1", 2, r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/x</LocURI></Target><Data>1</Data></Item></Add>"#, true)).unwrap();
    let cred_xml = format!(
        r#"<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type></Meta><Data>{}</Data></Cred></SyncHdr>"#,
        cred.data
    );
    let text = text.replacen("</SyncHdr>", &cred_xml, 1);
    let reply = parse(&s.handle(&mut m, text.as_bytes()).unwrap().unwrap().body);
    assert_eq!(statuses(&reply)[0].code(), Some(212));
    assert_eq!(code_for(&reply, "2"), [200]);
    assert!(m.exists("./Vendor/memory/x"));
}

#[test]
fn a_challenge_makes_the_client_resend_package1_with_md5_and_the_new_nonce() {
    let mut m = device();
    let mut c = config();
    c.client_credentials = Some(Credentials {
        scheme: AuthScheme::Basic,
        name: "dev".into(),
        secret: "pw".into(),
        nonce: vec![],
    });
    let mut s = session(c, 1);
    let first = parse(&s.start().body);
    assert_eq!(
        first.header.cred.as_ref().unwrap().scheme(),
        Some(AuthScheme::Basic)
    );
    let chal = r#"<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Chal><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><Format xmlns="syncml:metinf">b64</Format><NextNonce xmlns="syncml:metinf">Tm9uY2U=</NextNonce></Meta></Chal><Data>401</Data></Status>"#;
    let msg = format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>{SERVER}</LocURI></Source></SyncHdr><SyncBody>{chal}<Final/></SyncBody></SyncML>"#
    );
    let again = parse(&s.handle(&mut m, msg.as_bytes()).unwrap().unwrap().body);
    assert_eq!(again.header.msg_id, "2");
    let cred = again.header.cred.as_ref().unwrap();
    assert_eq!(cred.scheme(), Some(AuthScheme::Md5));
    assert!(cred.verify("dev", "pw", b"Nonce"));
    assert!(again
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code() == Some(1200))));
    assert!(matches!(
        s.poll_event(),
        Some(Event::ClientNonce { trusted: false, .. })
    ));
}

/// Both sides refuse each other at once (found from outside: after a session in which the
/// server refused the device's password, the device had rotated the server's nonce and the
/// server had not heard it; the next session deadlocked, each side ignoring the challenge of
/// a peer that had not authenticated). A server that fails authentication is still heard on
/// one thing: the nonce its challenge asks the device's next credentials to use. It is used
/// for this session only (never stored: the server is not trusted), and nothing else of its
/// message is believed.
#[test]
fn a_servers_challenge_is_heard_even_when_the_server_failed_authentication() {
    let mut m = device();
    let mut c = config();
    c.client_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "dev".into(),
        secret: "pw".into(),
        nonce: b"stale".to_vec(),
    });
    c.server_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "funambol".into(),
        secret: "srvpwd".into(),
        nonce: b"the-device-issued-this".to_vec(),
    });
    let mut s = session(c, 1);
    s.start();
    // The server's Cred is computed with a nonce the device no longer expects, and it
    // challenges the device's credentials with a fresh nonce.
    let bad_cred = format!(
        r#"<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>{}</Data></Cred>"#,
        omadm_syncml::auth::md5_value("funambol", "srvpwd", b"an-old-nonce")
    );
    let chal = r#"<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Chal><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><Format xmlns="syncml:metinf">b64</Format><NextNonce xmlns="syncml:metinf">RnJlc2g=</NextNonce></Meta></Chal><Data>401</Data></Status>"#;
    let msg = format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>{SERVER}</LocURI></Source>{}</SyncHdr><SyncBody>{chal}<Replace><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/x</LocURI></Target><Data>1</Data></Item></Replace><Final/></SyncBody></SyncML>"#,
        bad_cred
    );
    let reply = parse(&s.handle(&mut m, msg.as_bytes()).unwrap().unwrap().body);
    // The server is challenged, its command refused...
    let hdr = statuses(&reply)
        .into_iter()
        .find(|s| s.cmd == "SyncHdr")
        .unwrap();
    assert_eq!(hdr.code(), Some(401));
    assert_eq!(code_for(&reply, "2"), [401]);
    assert!(!m.exists("./Vendor/memory/x"));
    // ...and the device's credentials answer the server's challenge.
    let cred = reply
        .header
        .cred
        .as_ref()
        .expect("the device's credentials");
    assert!(cred.verify("dev", "pw", b"Fresh"));
    // The nonce came from a server that did not authenticate: not to be stored.
    assert!(!std::iter::from_fn(|| s.poll_event())
        .any(|e| matches!(e, Event::ClientNonce { trusted: true, .. })));
}

/// The device's replies to `body` sent under a MaxMsgSize of `max`, the server asking for
/// the rest with Alert 1222 until a reply is final; each reply checked to be within `max`.
fn replies_within(
    s: &mut Session,
    m: &mut Manager,
    body: &str,
    max: usize,
) -> Vec<SyncMl<'static>> {
    let text = String::from_utf8(server_msg("1", 2, body, true))
        .unwrap()
        .replacen(
            "</Source></SyncHdr>",
            &format!(r#"</Source><Meta><MaxMsgSize xmlns="syncml:metinf">{max}</MaxMsgSize></Meta></SyncHdr>"#),
            1,
        );
    let mut replies = Vec::new();
    let mut msg_id = 2;
    let mut out = s.handle(m, text.as_bytes()).unwrap().unwrap();
    loop {
        assert!(
            out.body.len() <= max,
            "message of {} octets",
            out.body.len()
        );
        let reply = parse(&out.body);
        let is_final = reply.body.is_final;
        replies.push(reply);
        if is_final {
            return replies;
        }
        msg_id += 1;
        let next = r#"<Alert><CmdID>2</CmdID><Data>1222</Data></Alert>"#;
        out = s
            .handle(m, &server_msg("1", msg_id, next, true))
            .unwrap()
            .unwrap();
    }
}

#[test]
fn a_reply_larger_than_the_server_max_msg_size_is_split_with_1222() {
    let (mut m, mut s) = started();
    let gets: String = (0..40).map(|i| format!(r#"<Get><CmdID>{}</CmdID><Item><Target><LocURI>./DevDetail/URI/MaxDepth</LocURI></Target></Item></Get>"#, i + 2)).collect();
    let replies = replies_within(&mut s, &mut m, &gets, 3000);
    let received = replies
        .iter()
        .flat_map(|r| &r.body.commands)
        .filter(|c| matches!(c, Command::Results(_)))
        .count();
    assert_eq!(received, 40);
    assert!(replies.len() > 2, "the reply took several messages");
}

#[test]
fn statuses_that_do_not_fit_follow_in_later_messages_each_once_in_order_with_its_refs() {
    let (mut m, mut s) = started();
    // Sixty Deletes of nodes that are not there (404), one of them with two items: only
    // Statuses to send, far more than 1,500 octets of them.
    let mut deletes: String = (0..60)
        .map(|i| format!(r#"<Delete><CmdID>{}</CmdID><Item><Target><LocURI>./Vendor/memory/n{i}</LocURI></Target></Item></Delete>"#, i + 2))
        .collect();
    deletes.push_str(r#"<Delete><CmdID>62</CmdID><Item><Target><LocURI>./Vendor/memory/x</LocURI></Target></Item><Item><Target><LocURI>./Vendor/memory/y</LocURI></Target></Item></Delete>"#);
    let replies = replies_within(&mut s, &mut m, &deletes, 1500);
    let mut seen: Vec<(String, Vec<String>, u16)> = Vec::new();
    for reply in &replies {
        assert_numbered_from_1(reply);
        for st in statuses(reply) {
            if st.cmd == "Delete" {
                seen.push((
                    st.cmd_ref.to_string(),
                    st.target_refs.iter().map(|t| t.to_string()).collect(),
                    st.code().unwrap(),
                ));
            }
        }
    }
    let mut expected: Vec<(String, Vec<String>, u16)> = (0..60)
        .map(|i| {
            (
                (i + 2).to_string(),
                vec![format!("./Vendor/memory/n{i}")],
                404,
            )
        })
        .collect();
    expected.push((
        "62".into(),
        vec!["./Vendor/memory/x".into(), "./Vendor/memory/y".into()],
        404,
    ));
    assert_eq!(seen, expected);
    assert!(
        replies.len() >= 4,
        "the statuses took {} messages",
        replies.len()
    );
}

#[test]
fn a_large_object_in_5_chunks_with_a_size_mismatch_is_424_and_a_right_one_is_stored() {
    let (mut m, mut s) = started();
    let send = |s: &mut Session, m: &mut Manager, id: u32, body: String, more: bool| {
        parse(
            &s.handle(m, &server_msg("1", id, &body, !more))
                .unwrap()
                .unwrap()
                .body,
        )
    };
    for (size, target, expected) in [
        (26, "./Vendor/memory/bad", 424),
        (25, "./Vendor/memory/good", 200),
    ] {
        for chunk in 0..5 {
            let last = chunk == 4;
            let meta = if chunk == 0 {
                format!(r#"<Meta><Size xmlns="syncml:metinf">{size}</Size></Meta>"#)
            } else {
                String::new()
            };
            let more = if last { "" } else { "<MoreData/>" };
            let body = format!(
                r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>{target}</LocURI></Target>{meta}<Data>abcde</Data>{more}</Item></Add>"#
            );
            let reply = send(&mut s, &mut m, 2 + chunk, body, !last);
            let codes = code_for(&reply, "2");
            assert_eq!(
                codes,
                [if last { expected } else { 213 }],
                "chunk {chunk} of {target}"
            );
        }
    }
    assert!(!m.exists("./Vendor/memory/bad"));
    let v = m
        .get(
            &Principal::Local {
                roles: roles::MANAGER,
            },
            "./Vendor/memory/good",
        )
        .unwrap();
    assert_eq!(v[0].data.as_deref(), Some("abcde".repeat(5).as_bytes()));
}

#[test]
fn an_object_over_max_obj_size_is_413() {
    let mut m = device();
    let mut c = config();
    c.max_obj_size = 10;
    let mut s = session(c, 1);
    s.start();
    let body = r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/big</LocURI></Target><Meta><Size xmlns="syncml:metinf">100</Size></Meta><Data>abc</Data><MoreData/></Item></Add>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, false));
    assert_eq!(code_for(&reply, "2"), [413]);
}

#[test]
fn generic_alerts_go_in_package1_and_are_acknowledged_by_status() {
    let mut m = device();
    let alert = GenericAlert {
        id: 42,
        correlator: Some("corr".into()),
        source: Some("./FwUpdate/x/DownloadAndUpdate".into()),
        target: None,
        type_: "org.openmobilealliance.dm.firmwareupdate.downloadandupdate".into(),
        format: "int".into(),
        mark: Some("critical".into()),
        data: "200".into(),
    };
    let mut s = Session::new(
        config(),
        Trigger::Client { session_id: 3 },
        vec![alert],
        Box::new(|_: &mut [u8]| {}),
    );
    let pkg1 = parse(&s.start().body);
    let Command::Alert(a) = &pkg1.body.commands[2] else {
        panic!()
    };
    assert_eq!(a.code(), Some(1226));
    assert_eq!(a.correlator.as_deref(), Some("corr"));
    let ack = format!(
        r#"<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>{}</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>"#,
        a.cmd_id
    );
    assert!(s
        .handle(&mut m, &server_msg("3", 2, &ack, true))
        .unwrap()
        .is_none());
    assert_eq!(
        s.poll_event(),
        Some(Event::GenericAlertAcknowledged {
            id: 42,
            status: 200
        })
    );
}

#[test]
fn a_malformed_command_gets_400_and_the_rest_still_runs() {
    let (mut m, mut s) = started();
    let body = r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/a</LocURI></Target><Bogus/></Item></Add><Add><Item><Target><LocURI>./Vendor/memory/b</LocURI></Target></Item></Add><Add><CmdID>4</CmdID><Item><Target><LocURI>./Vendor/memory/c</LocURI></Target><Data>1</Data></Item></Add><Get><CmdID>5</CmdID><Item><Target><LocURI>/bad</LocURI></Target></Item></Get>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, true));
    assert_eq!(code_for(&reply, "2"), [400]);
    assert_eq!(code_for(&reply, ""), [400], "no CmdID");
    assert_eq!(code_for(&reply, "4"), [200]);
    assert_eq!(code_for(&reply, "5"), [400], "bad URI");
    assert!(m.exists("./Vendor/memory/c") && !m.exists("./Vendor/memory/a"));
}

#[test]
fn the_dm_1_1_2_dialect_works_end_to_end() {
    let mut m = device();
    let mut c = config();
    c.version = DmVersion::V1_1;
    let mut s = session(c, 1);
    let pkg1 = parse(&s.start().body);
    assert_eq!(pkg1.header.ver_proto, "DM/1.1");
    let body = r#"<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>"#;
    let msg = String::from_utf8(server_msg("1", 2, body, true))
        .unwrap()
        .replace("SYNCML1.2", "SYNCML1.1")
        .replace("<VerDTD>1.2", "<VerDTD>1.1")
        .replace("DM/1.2", "DM/1.1");
    let out = s.handle(&mut m, msg.as_bytes()).unwrap().unwrap();
    assert!(String::from_utf8(out.body.clone())
        .unwrap()
        .starts_with(r#"<SyncML xmlns="SYNCML:SYNCML1.1">"#));
    assert_eq!(code_for(&parse(&out.body), "2"), [200]);
}

#[test]
fn a_message_of_another_session_ends_this_one() {
    let (mut m, mut s) = started();
    assert!(s.handle(&mut m, &server_msg("99", 2, "", true)).is_err());
    assert!(s.is_ended());
}

#[test]
fn a_one_megabyte_server_message_is_processed() {
    // A device that announces a 2 MiB MaxMsgSize.
    let mut m = device();
    let mut c = config();
    c.max_msg_size = 2 * 1024 * 1024;
    let mut s = session(c, 1);
    s.start();
    let value = "x".repeat(1000);
    let adds: String = (0..1000).map(|i| format!(r#"<Add><CmdID>{}</CmdID><Item><Target><LocURI>./Vendor/memory/n{i}</LocURI></Target><Data>{value}</Data></Item></Add>"#, i + 2)).collect();
    let msg = server_msg("1", 2, &adds, true);
    assert!(msg.len() > 1_000_000);
    let reply = parse(&s.handle(&mut m, &msg).unwrap().unwrap().body);
    assert_eq!(statuses(&reply).len(), 1001);
    assert!(m.exists("./Vendor/memory/n999"));
}

struct ScriptedUi(
    Vec<omadm_dpu::ui::UiResponse>,
    std::sync::Arc<std::sync::Mutex<Vec<omadm_dpu::ui::UiRequest>>>,
);
impl omadm_dpu::ui::UserInterface for ScriptedUi {
    fn ask(&mut self, request: &omadm_dpu::ui::UiRequest) -> omadm_dpu::ui::UiResponse {
        self.1.lock().unwrap().push(request.clone());
        self.0.remove(0)
    }
}

fn ui_alert(cmd_id: u32, code: u16, options: &str, text: &str, choices: &[&str]) -> String {
    let options = options.replace('&', "&amp;");
    let mut items = format!("<Item><Data>{options}</Data></Item><Item><Data>{text}</Data></Item>");
    for c in choices {
        items.push_str(&format!("<Item><Data>{c}</Data></Item>"));
    }
    format!("<Alert><CmdID>{cmd_id}</CmdID><Data>{code}</Data>{items}</Alert>")
}

#[test]
fn user_interaction_alerts_without_a_ui_are_406() {
    let (mut m, mut s) = started();
    let body = ui_alert(2, 1101, "MAXDT=30", "Update now?", &[]);
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, &body, true));
    assert_eq!(code_for(&reply, "2"), [406]);
}

#[test]
fn user_interaction_alerts_map_answers_to_statuses_and_items() {
    use omadm_dpu::ui::{UiKind, UiResponse};
    let mut m = device();
    let mut s = session(config(), 1);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    s.set_ui(Box::new(ScriptedUi(
        vec![
            UiResponse::Accepted,
            UiResponse::Rejected,
            UiResponse::Text("hello".into()),
            UiResponse::Selected(vec![2]),
            UiResponse::Selected(vec![1, 3]),
            UiResponse::TimedOut,
        ],
        seen.clone(),
    )));
    s.start();
    let body = [
        ui_alert(2, 1100, "MINDT=5", "Hi", &[]),
        ui_alert(3, 1101, "DR=1", "Sure?", &[]),
        ui_alert(4, 1102, "MAXLEN=10&IT=A&ET=T", "Name?", &[]),
        ui_alert(5, 1103, "", "Pick", &["a", "b", "c"]),
        ui_alert(6, 1104, "DR=1-3", "Pick any", &["a", "b", "c"]),
        ui_alert(7, 1101, "MAXDT=1", "Quick?", &[]),
        "<Alert><CmdID>8</CmdID><Data>1102</Data></Alert>".to_owned(),
    ]
    .concat();
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, &body, true));
    assert_eq!(code_for(&reply, "2"), [200]);
    assert_eq!(code_for(&reply, "3"), [304]);
    assert_eq!(code_for(&reply, "4"), [200]);
    assert_eq!(code_for(&reply, "5"), [200]);
    assert_eq!(code_for(&reply, "6"), [200]);
    assert_eq!(code_for(&reply, "7"), [408]);
    assert_eq!(code_for(&reply, "8"), [412], "no options and text items");
    let item_text = |cmd_ref: &str| -> Vec<String> {
        statuses(&reply)
            .iter()
            .find(|s| s.cmd_ref == cmd_ref)
            .unwrap()
            .items
            .iter()
            .map(|i| i.data.as_ref().unwrap().as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(item_text("4"), ["hello"]);
    assert_eq!(item_text("5"), ["2"]);
    assert_eq!(item_text("6"), ["1", "3"]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[2].kind, UiKind::TextInput);
    assert_eq!(seen[2].options.max_len, Some(10));
    assert_eq!(seen[4].choices, ["a", "b", "c"]);
    assert_eq!(seen[0].server, "funambol");
}

#[test]
fn a_cancelled_alert_is_214_and_the_rest_of_the_message_215() {
    use omadm_dpu::ui::UiResponse;
    let mut m = device();
    let mut s = session(config(), 1);
    s.set_ui(Box::new(ScriptedUi(
        vec![UiResponse::Cancelled],
        Default::default(),
    )));
    s.start();
    let body = format!(
        "{}<Add><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/memory/after</LocURI></Target><Data>1</Data></Item></Add>",
        ui_alert(2, 1101, "", "Go?", &[])
    );
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, &body, true));
    assert_eq!(code_for(&reply, "2"), [214]);
    assert_eq!(code_for(&reply, "3"), [215]);
    assert!(!m.exists("./Vendor/memory/after"));
}

#[test]
fn no_resp_suppresses_the_status_but_not_the_results() {
    let (mut m, mut s) = started();
    let body = r#"<Add><CmdID>2</CmdID><NoResp/><Item><Target><LocURI>./Vendor/memory/q</LocURI></Target><Data>1</Data></Item></Add><Get><CmdID>3</CmdID><NoResp/><Item><Target><LocURI>./Vendor/memory/q</LocURI></Target></Item></Get>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, true));
    assert!(code_for(&reply, "2").is_empty());
    assert!(code_for(&reply, "3").is_empty());
    assert!(reply
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Results(r) if r.cmd_ref == "3")));
    assert!(m.exists("./Vendor/memory/q"));
}

#[test]
fn a_results_item_larger_than_one_message_goes_as_a_large_object() {
    let mut m = device();
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    let big = "0123456789".repeat(1000);
    m.add(
        &local,
        "./Vendor/memory/big",
        omadm_cm::NewNode::Leaf(LeafValue::text(&big)),
    )
    .unwrap();
    let mut s = session(config(), 1);
    s.start();
    let get = r#"<Get><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/big</LocURI></Target></Item></Get>"#;
    let text = String::from_utf8(server_msg("1", 2, get, true)).unwrap().replacen(
        "</Source></SyncHdr>",
        r#"</Source><Meta><MaxMsgSize xmlns="syncml:metinf">2000</MaxMsgSize></Meta></SyncHdr>"#,
        1,
    );
    let mut out = s.handle(&mut m, text.as_bytes()).unwrap().unwrap();
    let mut assembled = String::new();
    let mut declared = None;
    let mut chunks = 0;
    let mut msg_id = 2;
    loop {
        assert!(
            out.body.len() <= 2000,
            "message of {} octets",
            out.body.len()
        );
        let reply = parse(&out.body);
        for c in &reply.body.commands {
            if let Command::Results(r) = c {
                let item = &r.items[0];
                if declared.is_none() {
                    declared = item.meta.as_ref().and_then(|m| m.size());
                }
                assembled.push_str(item.data.as_ref().unwrap().as_str().unwrap());
                chunks += 1;
                assert_eq!(item.more_data, assembled.len() < big.len());
            }
        }
        if reply.body.is_final {
            break;
        }
        msg_id += 1;
        let next = r#"<Status><CmdID>2</CmdID><MsgRef>2</MsgRef><CmdRef>2</CmdRef><Cmd>Results</Cmd><Data>213</Data></Status><Alert><CmdID>3</CmdID><Data>1222</Data></Alert>"#;
        out = s
            .handle(&mut m, &server_msg("1", msg_id, next, true))
            .unwrap()
            .unwrap();
    }
    assert_eq!(assembled, big);
    assert_eq!(declared, Some(big.len() as u64));
    assert!(chunks >= 5);
}

#[test]
fn hmac_authenticates_both_ways() {
    use omadm_syncml::auth::HmacHeader;
    let mut m = device();
    let mut c = config();
    c.client_credentials = Some(Credentials {
        scheme: AuthScheme::Hmac,
        name: "dev".into(),
        secret: "cpw".into(),
        nonce: b"cn".to_vec(),
    });
    c.server_credentials = Some(Credentials {
        scheme: AuthScheme::Hmac,
        name: "funambol".into(),
        secret: "spw".into(),
        nonce: b"sn".to_vec(),
    });
    let mut s = session(c, 1);
    let pkg1 = s.start();
    let header = HmacHeader::parse(pkg1.hmac.as_deref().unwrap()).unwrap();
    assert!(header.verify("cpw", b"cn", &pkg1.body));
    assert!(
        parse(&pkg1.body).header.cred.is_none(),
        "HMAC travels in the transport header"
    );
    let body = server_msg(
        "1",
        2,
        r#"<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>"#,
        true,
    );
    // A wrong MAC: 401, with a fresh nonce, nothing executed.
    let bad = HmacHeader::compute("funambol", "wrong", b"sn", &body).to_header_value();
    let reply = parse(
        &s.handle_with_hmac(&mut m, &body, Some(&bad))
            .unwrap()
            .unwrap()
            .body,
    );
    assert_eq!(statuses(&reply)[0].code(), Some(401));
    let nonce = omadm_syncml::b64::decode(
        statuses(&reply)[0]
            .chal
            .as_ref()
            .unwrap()
            .meta
            .next_nonce()
            .unwrap(),
    )
    .unwrap();
    // The right MAC with the new nonce: 200 (not 212) and another new nonce.
    let body = server_msg(
        "1",
        3,
        r#"<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>"#,
        true,
    );
    let good = HmacHeader::compute("funambol", "spw", &nonce, &body).to_header_value();
    let reply = parse(
        &s.handle_with_hmac(&mut m, &body, Some(&good))
            .unwrap()
            .unwrap()
            .body,
    );
    assert_eq!(statuses(&reply)[0].code(), Some(200));
    assert!(statuses(&reply)[0].chal.is_some());
    assert_eq!(code_for(&reply, "2"), [200]);
}

#[test]
fn client_events_go_in_package1_as_alert_1224_and_1_1_2_leaves_generic_alerts_pending() {
    let alert = GenericAlert {
        id: 1,
        correlator: None,
        source: None,
        target: None,
        type_: "t".into(),
        format: "chr".into(),
        mark: None,
        data: "d".into(),
    };
    let mut c = config();
    c.version = DmVersion::V1_1;
    let mut s = Session::new(
        c,
        Trigger::Client { session_id: 3 },
        vec![alert],
        Box::new(|_: &mut [u8]| {}),
    );
    s.add_client_event("com.example/Event", "chr", "hello");
    let pkg1 = parse(&s.start().body);
    let codes: Vec<u16> = pkg1
        .body
        .commands
        .iter()
        .filter_map(|c| {
            if let Command::Alert(a) = c {
                a.code()
            } else {
                None
            }
        })
        .collect();
    assert_eq!(codes, [1201, 1224]);
}

#[test]
fn a_first_chunk_without_size_is_411() {
    let (mut m, mut s) = started();
    let body = r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/big</LocURI></Target><Data>abc</Data><MoreData/></Item></Add>"#;
    let reply = reply(&mut s, &mut m, &server_msg("1", 2, body, false));
    assert_eq!(code_for(&reply, "2"), [411]);
}

#[test]
fn every_server_sample_is_answered_command_by_command() {
    for name in [
        "pkg2_mixed.xml",
        "pkg2_mixed.wbxml",
        "pkg2_80cmds.xml",
        "pkg2_80cmds.wbxml",
        "pkg2_atomic.xml",
        "pkg2_with_sequence.xml",
    ] {
        let mut m = device();
        m.mount(
            "./Memory",
            Box::new(MemoryCsp::new("./Memory")),
            roles::MANAGER,
        )
        .unwrap();
        let mut s = session(config(), 1);
        s.start();
        let input = sample(name);
        let input = decode(&input, &Limits::default()).unwrap().0;
        let reply = parse(&s.handle(&mut m, &sample(name)).unwrap().unwrap().body);
        // Every command of the server's message has exactly one Status (none has NoResp).
        fn ids(cs: &[Command], out: &mut Vec<String>) {
            for c in cs {
                match c {
                    Command::Status(_) | Command::Results(_) => {}
                    Command::Atomic(x) | Command::Sequence(x) => {
                        out.push(x.cmd_id.to_string());
                        ids(&x.commands, out);
                    }
                    other => out.push(other.cmd_id().unwrap().to_owned()),
                }
            }
        }
        let mut expected = Vec::new();
        ids(&input.body.commands, &mut expected);
        let mut answered: Vec<String> = statuses(&reply)
            .iter()
            .filter(|s| s.cmd != "SyncHdr")
            .map(|s| s.cmd_ref.to_string())
            .collect();
        expected.sort();
        answered.sort();
        assert_eq!(answered, expected, "{name}");
        assert!(
            statuses(&reply)
                .iter()
                .all(|s| s.msg_ref == input.header.msg_id),
            "{name}"
        );
    }
}

#[test]
fn a_server_that_only_keeps_asking_for_more_is_cut_off() {
    let (mut m, mut s) = started();
    let more = r#"<Alert><CmdID>2</CmdID><Data>1222</Data></Alert>"#;
    assert_cut_off_after_idle_exchanges(&mut s, &mut m, 2, more, false);
}

/// Sends the server message holding `body` (with Final when `is_final`) again and again,
/// from MsgID `from` on, and asserts that the device answers it `MAX_IDLE_EXCHANGES` times
/// and then ends the session with a protocol error.
fn assert_cut_off_after_idle_exchanges(
    s: &mut Session,
    m: &mut Manager,
    from: u32,
    body: &str,
    is_final: bool,
) {
    let mut replies = 0;
    for msg_id in from..from + 40 {
        match s
            .handle(m, &server_msg("1", msg_id, body, is_final))
            .unwrap()
        {
            Some(_) => replies += 1,
            None => break,
        }
    }
    assert_eq!(replies, omadm_dpu::MAX_IDLE_EXCHANGES);
    let mut ended = None;
    while let Some(e) = s.poll_event() {
        if let omadm_dpu::Event::Ended(r) = e {
            ended = Some(r);
        }
    }
    assert!(
        matches!(ended, Some(omadm_dpu::EndReason::ProtocolError(_))),
        "{ended:?}"
    );
}

#[test]
fn a_server_that_drops_a_large_object_and_ends_its_messages_is_cut_off() {
    // Found by the session_pair fuzz target: the reference server forgot the session (its
    // header Status 404) after the first chunk of a large object, and answered every Alert
    // 1222 with a Final message holding only that Status; the device asked for the next
    // chunk forever.
    let (mut m, mut s) = started();
    let chunk = r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/big</LocURI></Target><Meta><Size xmlns="syncml:metinf">100</Size></Meta><Data>abc</Data><MoreData/></Item></Add>"#;
    let first = reply(&mut s, &mut m, &server_msg("1", 2, chunk, false));
    assert_eq!(code_for(&first, "2"), [213]);
    assert_cut_off_after_idle_exchanges(&mut s, &mut m, 3, "", true);
    // Nothing of the unfinished object was added.
    assert!(m.inspect("./Vendor/memory/big").is_err());
}

// ---- Issue 12: nothing from an unauthenticated server is believed ------------------------

fn md5_server_config(nonce: &[u8]) -> SessionConfig {
    let mut c = config();
    c.server_credentials = Some(Credentials {
        scheme: AuthScheme::Md5,
        name: "funambol".into(),
        secret: "srvpwd".into(),
        nonce: nonce.to_vec(),
    });
    c
}

fn pending_alert(id: u64) -> GenericAlert {
    GenericAlert {
        id,
        correlator: Some("corr".into()),
        source: Some("./FwUpdate/x/DownloadAndUpdate".into()),
        target: None,
        type_: "org.openmobilealliance.dm.firmwareupdate.downloadandupdate".into(),
        format: "int".into(),
        mark: None,
        data: "200".into(),
    }
}

/// A server message (MsgID `msg_id`) with `cred` (None: no Cred) in its header, a RespURI and
/// a MaxMsgSize, acknowledging the 1226 of package 1 (`alert_cmd`) and challenging the
/// device's credentials, plus `body`.
fn server_msg_with(msg_id: u32, cred: Option<&Cred>, alert_cmd: &str, body: &str) -> Vec<u8> {
    let cred = cred
        .map(|c| {
            format!(
                r#"<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type></Meta><Data>{}</Data></Cred>"#,
                c.data
            )
        })
        .unwrap_or_default();
    format!(r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>3</SessionID><MsgID>{msg_id}</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>{SERVER}</LocURI></Source><RespURI>https://attacker.example/dm</RespURI>{cred}<Meta><MaxMsgSize xmlns="syncml:metinf">300</MaxMsgSize></Meta></SyncHdr><SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Chal><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><Format xmlns="syncml:metinf">b64</Format><NextNonce xmlns="syncml:metinf">UG9pc29u</NextNonce></Meta></Chal><Data>212</Data></Status><Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>{alert_cmd}</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>{body}<Final/></SyncBody></SyncML>"#).into_bytes()
}

fn alert_session(nonce: &[u8]) -> (Session, String) {
    let mut s = Session::new(
        md5_server_config(nonce),
        Trigger::Client { session_id: 3 },
        vec![pending_alert(42)],
        Box::new(|b: &mut [u8]| b.fill(7)),
    );
    let pkg1 = parse(&s.start().body);
    let cmd = pkg1
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Alert(a) if a.code() == Some(1226) => Some(a.cmd_id.to_string()),
            _ => None,
        })
        .unwrap();
    (s, cmd)
}

#[test]
fn statuses_from_a_server_that_failed_authentication_change_nothing() {
    // Fails on the code before issue 12: the acknowledgement was applied before the header
    // was judged, so the pending alert was dropped by a server that was then refused.
    let mut m = device();
    let (mut s, alert_cmd) = alert_session(b"srv-nonce");
    let wrong = Cred::md5("funambol", "not-the-password", b"srv-nonce");
    let out = s
        .handle(&mut m, &server_msg_with(1, Some(&wrong), &alert_cmd, ""))
        .unwrap()
        .unwrap();
    let refused = parse(&out.body);
    assert_eq!(statuses(&refused)[0].code(), Some(401));
    let events: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::GenericAlertAcknowledged { .. })),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ClientNonce { .. })),
        "a nonce from an unauthenticated server is not even reported: {events:?}"
    );
    assert_eq!(out.url, SERVER, "its RespURI is not followed");
    assert!(
        out.body.len() > 300,
        "its MaxMsgSize is not applied (the reply would have been cut)"
    );
    assert!(
        !refused
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code() == Some(1201))),
        "its challenge of the device's credentials was not taken (no package 1 again)"
    );
    // The right server's acknowledgement (over the nonce the 401 carried) drops it.
    let right = Cred::md5("funambol", "srvpwd", &[7u8; 16]);
    s.handle(&mut m, &server_msg_with(2, Some(&right), &alert_cmd, ""))
        .unwrap();
    let events: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        events.contains(&Event::GenericAlertAcknowledged {
            id: 42,
            status: 200
        }),
        "{events:?}"
    );
}

#[test]
fn no_server_nonce_that_was_never_sent_is_reported() {
    // Fails on the code before issue 12: the third failure ended the session and reported a
    // new nonce that no message ever carried.
    let mut m = device();
    let mut s = session(md5_server_config(b"old"), 1);
    s.start();
    let mut sent = vec![b"old".to_vec()];
    let mut reported = Vec::new();
    for i in 0..5 {
        let out = s.handle(&mut m, &server_msg("1", 2 + i, "", false));
        for e in std::iter::from_fn(|| s.poll_event()) {
            if let Event::ServerNonce { nonce } = e {
                reported.push(nonce);
            }
        }
        match out {
            Ok(Some(o)) => {
                let reply = parse(&o.body);
                let chal = statuses(&reply)[0].chal.as_ref().unwrap();
                let n = omadm_syncml::b64::decode(chal.meta.next_nonce().unwrap()).unwrap();
                sent.push(n);
            }
            _ => break,
        }
    }
    assert!(s.is_ended());
    assert!(!reported.is_empty());
    for n in &reported {
        assert!(sent.contains(n), "reported a nonce never sent: {n:?}");
    }
    assert_eq!(
        reported.last(),
        sent.last(),
        "the last one sent is the one to keep"
    );
}

#[test]
fn a_final_message_that_authenticates_the_server_reports_no_new_nonce() {
    let mut m = device();
    let (mut s, alert_cmd) = alert_session(b"srv-nonce");
    let right = Cred::md5("funambol", "srvpwd", b"srv-nonce");
    // Final, nothing to execute: the session ends with no reply, so the nonce the 212 would
    // carry never reaches the server.
    assert!(s
        .handle(&mut m, &server_msg_with(1, Some(&right), &alert_cmd, ""))
        .unwrap()
        .is_none());
    let events: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ServerNonce { .. })),
        "{events:?}"
    );
    assert!(events.contains(&Event::GenericAlertAcknowledged {
        id: 42,
        status: 200
    }));
}

/// Storage that logs when the tree is persisted, beside an alert store logging
/// acknowledgements: issue 12.6 wants the acknowledgement durable no later than the effects
/// of the message that carried it.
#[derive(Clone, Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl omadm_cm::Storage for Log {
    fn load(&mut self) -> std::io::Result<omadm_cm::persist::Stored> {
        Ok(Default::default())
    }
    fn append(&mut self, _: &[u8], _: Option<u64>) -> std::io::Result<()> {
        self.0.lock().unwrap().push("tree".into());
        Ok(())
    }
    fn replace_snapshot(&mut self, _: &[u8], _: &[u8]) -> std::io::Result<()> {
        self.0.lock().unwrap().push("tree".into());
        Ok(())
    }
}

impl omadm_dpu::AlertStore for Log {
    fn acknowledge(&mut self, id: u64) -> Result<(), String> {
        self.0.lock().unwrap().push(format!("ack {id}"));
        Ok(())
    }
}

#[test]
fn an_acknowledgement_is_durable_before_the_message_effects() {
    let log = Log::default();
    let mut m = Manager::open(Box::new(log.clone()), Config::default()).unwrap();
    m.mount(
        "./Vendor/memory",
        Box::new(MemoryCsp::new("./Vendor/memory")),
        roles::MANAGER,
    )
    .unwrap();
    m.replace(
        &Principal::Local {
            roles: roles::MANAGER,
        },
        ".?prop=ACL",
        LeafValue::text("Add=*&Get=*&Replace=*"),
    )
    .unwrap();
    m.persist().unwrap();
    log.0.lock().unwrap().clear();
    let (mut s, alert_cmd) = alert_session(b"srv-nonce");
    let right = Cred::md5("funambol", "srvpwd", b"srv-nonce");
    let add = r#"<Add><CmdID>3</CmdID><Item><Target><LocURI>./x</LocURI></Target><Data>1</Data></Item></Add>"#;
    let mut store = log.clone();
    s.handle_with_alerts(
        &mut m,
        &mut store,
        &server_msg_with(1, Some(&right), &alert_cmd, add),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(*log.0.lock().unwrap(), ["ack 42", "tree"]);
}

#[test]
fn statuses_inside_atomic_and_sequence_carry_their_refs() {
    // Fails on the code before issue 12: 215, 216 and 500 had no TargetRef.
    let (mut m, mut s) = started();
    let body = r#"<Atomic><CmdID>2</CmdID><Add><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/memory/a</LocURI></Target><Data>1</Data></Item></Add><Get><CmdID>4</CmdID><Item><Target><LocURI>./Vendor/memory/a</LocURI></Target></Item></Get><Add><CmdID>5</CmdID><Item><Target><LocURI>./Vendor/memory/b</LocURI></Target><Data>1</Data></Item></Add></Atomic><Sequence><CmdID>6</CmdID><Delete><CmdID>7</CmdID><Item><Target><LocURI>./Vendor/memory/none</LocURI></Target></Item></Delete><Copy><CmdID>8</CmdID><Item><Target><LocURI>./Vendor/memory/c</LocURI></Target><Source><LocURI>./Vendor/memory/d</LocURI></Source></Item></Copy></Sequence>"#;
    let r = reply(&mut s, &mut m, &server_msg("1", 2, body, true));
    let by_ref = |id: &str| {
        statuses(&r)
            .into_iter()
            .find(|s| s.cmd_ref == id)
            .unwrap()
            .clone()
    };
    for (id, code, target) in [
        ("3", 216, "./Vendor/memory/a"),
        ("4", 500, "./Vendor/memory/a"),
        ("5", 215, "./Vendor/memory/b"),
        ("7", 404, "./Vendor/memory/none"),
        ("8", 215, "./Vendor/memory/c"),
    ] {
        let st = by_ref(id);
        assert_eq!(st.code(), Some(code), "{id}");
        assert_eq!(st.target_refs, [target], "{id}");
    }
    assert_eq!(by_ref("8").source_refs, ["./Vendor/memory/d"]);
}

#[test]
fn values_that_are_not_of_their_format_are_refused_and_nothing_is_stored() {
    // Fails on the code before issue 12: every one of these got 200.
    let (mut m, mut s) = started();
    let cases = [
        ("float", "123.45+", 415),
        ("date", "2005-10-32", 415),
        ("time", "24:03", 415),
        ("int", "abc", 415),
        ("bool", "maybe", 415),
        ("b64", "@@not base64@@", 415),
        ("whatever", "x", 415),
        ("node", "data", 400),
        ("int", "42", 200),
    ];
    let mut body = String::new();
    for (i, (format, value, _)) in cases.iter().enumerate() {
        body.push_str(&format!(
            r#"<Add><CmdID>{}</CmdID><Item><Target><LocURI>./v{i}</LocURI></Target><Meta><Format xmlns="syncml:metinf">{format}</Format></Meta><Data>{value}</Data></Item></Add>"#,
            i + 2
        ));
    }
    let r = reply(&mut s, &mut m, &server_msg("1", 2, &body, true));
    for (i, (format, value, code)) in cases.iter().enumerate() {
        assert_eq!(
            code_for(&r, &(i + 2).to_string()),
            [*code],
            "{format} {value}"
        );
        assert_eq!(m.exists(&format!("./v{i}")), *code == 200, "{format}");
    }
    // A Replace without Meta is checked against the node's own format.
    let body = r#"<Replace><CmdID>20</CmdID><Item><Target><LocURI>./v8</LocURI></Target><Data>forty-two</Data></Item></Replace>"#;
    let r = reply(&mut s, &mut m, &server_msg("1", 3, body, true));
    assert_eq!(code_for(&r, "20"), [415]);
}

#[test]
fn a_server_message_larger_than_the_announced_max_msg_size_is_refused_before_decoding() {
    // Fails on the code before issue 12: the message was decoded and executed.
    let mut c = config();
    c.max_msg_size = 2048;
    let mut m = device();
    let mut s = session(c.clone(), 1);
    s.start();
    // Within the slack (2048 + 1024): processed.
    let filler = "x".repeat(2200);
    let body = format!(
        r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/a</LocURI></Target><Data>{filler}</Data></Item></Add>"#
    );
    let msg = server_msg("1", 2, &body, true);
    assert!(msg.len() > 2048 && msg.len() as u64 <= omadm_dpu::accepted_size(2048));
    assert!(s.handle(&mut m, &msg).is_ok());
    assert!(m.exists("./Vendor/memory/a"));
    // Beyond it: refused whole, nothing executed, even when the bytes would decode.
    let mut s = session(c, 1);
    s.start();
    let filler = "x".repeat(4000);
    let body = format!(
        r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/memory/b</LocURI></Target><Data>{filler}</Data></Item></Add>"#
    );
    let err = s
        .handle(&mut m, &server_msg("1", 2, &body, true))
        .unwrap_err();
    assert!(
        matches!(
            err,
            omadm_dpu::SessionError::TooLarge {
                max_msg_size: 2048,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("MaxMsgSize 2048"), "{err}");
    assert!(!m.exists("./Vendor/memory/b"));
    assert!(s.is_ended());
}
