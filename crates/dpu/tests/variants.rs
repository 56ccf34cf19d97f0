//! The same conformance cases in the four dialect × encoding variants: DM 1.2 and 1.1.2, XML
//! and WBXML. Each case is a list of server messages and the status codes expected per CmdRef.

use omadm_cm::roles;
use omadm_cm::{Config, Manager, MemoryStorage};
use omadm_csp::MemoryCsp;
use omadm_dpu::{Credentials, Session, SessionConfig, Trigger};
use omadm_syncml::auth::AuthScheme;
use omadm_syncml::{decode, encode, Command, DmVersion, Encoding, Limits, SyncMl};

const SERVER: &str = "https://dm.example.com/dm";

struct Case {
    name: &'static str,
    messages: Vec<String>,
    server_auth: bool,
    /// (CmdRef, expected code) in the reply to the last message.
    expect: Vec<(&'static str, u16)>,
    /// Nodes that must exist afterwards, and nodes that must not.
    exists: Vec<&'static str>,
    absent: Vec<&'static str>,
}

fn msg(msg_id: u32, body: &str, is_final: bool) -> String {
    let fin = if is_final { "<Final/>" } else { "" };
    format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>{msg_id}</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>{SERVER}</LocURI></Source></SyncHdr><SyncBody>{body}{fin}</SyncBody></SyncML>"#
    )
}

fn add(id: u32, node: &str, data: &str) -> String {
    format!(
        r#"<Add><CmdID>{id}</CmdID><Item><Target><LocURI>./M/{node}</LocURI></Target><Data>{data}</Data></Item></Add>"#
    )
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "add, replace, get, delete",
            messages: vec![msg(1, &format!("{}{}<Replace><CmdID>4</CmdID><Item><Target><LocURI>./M/a</LocURI></Target><Data>2</Data></Item></Replace><Get><CmdID>5</CmdID><Item><Target><LocURI>./M/a</LocURI></Target></Item></Get><Delete><CmdID>6</CmdID><Item><Target><LocURI>./M/b</LocURI></Target></Item></Delete><Get><CmdID>7</CmdID><Item><Target><LocURI>./M/none</LocURI></Target></Item></Get>", add(2, "a", "1"), add(3, "b", "1")), true)],
            server_auth: false,
            expect: vec![("2", 200), ("3", 200), ("4", 200), ("5", 200), ("6", 200), ("7", 404)],
            exists: vec!["./M/a"],
            absent: vec!["./M/b"],
        },
        Case {
            name: "atomic with a failing child",
            messages: vec![msg(1, &format!("<Atomic><CmdID>2</CmdID>{}{}</Atomic>", add(3, "x", "1"), add(4, "x", "2")), true)],
            server_auth: false,
            expect: vec![("2", 507), ("3", 216), ("4", 418)],
            exists: vec![],
            absent: vec!["./M/x"],
        },
        Case {
            name: "sequence with a failing command",
            messages: vec![msg(1, &format!("<Sequence><CmdID>2</CmdID>{}<Delete><CmdID>4</CmdID><Item><Target><LocURI>./M/none</LocURI></Target></Item></Delete>{}</Sequence>", add(3, "s", "1"), add(5, "t", "1")), true)],
            server_auth: false,
            expect: vec![("2", 200), ("3", 200), ("4", 404), ("5", 215)],
            exists: vec!["./M/s"],
            absent: vec!["./M/t"],
        },
        Case {
            name: "copy of a subtree",
            messages: vec![msg(1, &format!("{}<Copy><CmdID>3</CmdID><Item><Target><LocURI>./M/dst</LocURI></Target><Source><LocURI>./M/src</LocURI></Source></Item></Copy>", add(2, "src/leaf", "v")), true)],
            server_auth: false,
            expect: vec![("2", 200), ("3", 200)],
            exists: vec!["./M/dst/leaf", "./M/src/leaf"],
            absent: vec![],
        },
        Case {
            name: "large object in 5 chunks with a size mismatch",
            messages: (0..5)
                .map(|i| {
                    let meta = if i == 0 { r#"<Meta><Size xmlns="syncml:metinf">99</Size></Meta>"# } else { "" };
                    let more = if i < 4 { "<MoreData/>" } else { "" };
                    msg(i + 1, &format!(r#"<Replace><CmdID>2</CmdID><Item><Target><LocURI>./M/lo</LocURI></Target>{meta}<Data>abcde</Data>{more}</Item></Replace>"#), i == 4)
                })
                .collect(),
            server_auth: false,
            expect: vec![("2", 424)],
            exists: vec![],
            absent: vec![],
        },
        Case {
            name: "server without required credentials",
            messages: vec![msg(1, &add(2, "y", "1"), true)],
            server_auth: true,
            expect: vec![("0", 407), ("2", 407)],
            exists: vec![],
            absent: vec!["./M/y"],
        },
    ]
}

fn variant(xml: &str, version: DmVersion, encoding: Encoding) -> Vec<u8> {
    let mut m: SyncMl = decode(xml.as_bytes(), &Limits::default()).unwrap().0;
    m.header.ver_dtd = version.ver_dtd().into();
    m.header.ver_proto = version.ver_proto().into();
    encode(&m, encoding)
}

#[test]
fn every_case_in_every_dialect_and_encoding() {
    for version in [DmVersion::V1_2, DmVersion::V1_1] {
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            for case in cases() {
                let label = format!("{} ({version:?}, {encoding:?})", case.name);
                let mut cm = Manager::open(
                    Box::new(MemoryStorage::new()),
                    Config {
                        root_acl: "Add=*&Get=*&Replace=*&Delete=*&Exec=*".into(),
                        ..Config::default()
                    },
                )
                .unwrap();
                cm.mount("./M", Box::new(MemoryCsp::new("./M")), roles::MANAGER)
                    .unwrap();
                let mut config = SessionConfig::new("IMEI:1", SERVER, "srv");
                config.version = version;
                config.encoding = encoding;
                if case.server_auth {
                    config.server_credentials = Some(Credentials {
                        scheme: AuthScheme::Md5,
                        name: "srv".into(),
                        secret: "pw".into(),
                        nonce: vec![],
                    });
                }
                let mut s = Session::new(
                    config,
                    Trigger::Server { session_id: 1 },
                    vec![],
                    Box::new(|b: &mut [u8]| b.fill(7)),
                );
                let pkg1 = s.start();
                assert_eq!(pkg1.body[0] == 0x02, encoding == Encoding::Wbxml, "{label}");
                let mut last = None;
                for m in &case.messages {
                    last = s.handle(&mut cm, &variant(m, version, encoding)).unwrap();
                }
                let last = last.expect("a reply");
                let reply = decode(&last.body, &Limits::default()).unwrap().0;
                assert_eq!(reply.version(), Some(version), "{label}");
                for (cmd_ref, code) in &case.expect {
                    let found: Vec<u16> = reply
                        .body
                        .commands
                        .iter()
                        .filter_map(|c| {
                            if let Command::Status(st) = c {
                                Some(st)
                            } else {
                                None
                            }
                        })
                        .filter(|st| st.cmd_ref == *cmd_ref)
                        .map(|st| st.code().unwrap())
                        .collect();
                    assert_eq!(found, [*code], "{label}: CmdRef {cmd_ref}");
                }
                for node in &case.exists {
                    assert!(cm.exists(node), "{label}: {node} should exist");
                }
                for node in &case.absent {
                    assert!(!cm.exists(node), "{label}: {node} should not exist");
                }
            }
        }
    }
}
