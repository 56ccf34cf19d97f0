//! Caller-set limits give typed errors in both codecs, before memory grows.

use omadm_syncml::{decode, encode, Encoding, ErrorKind, Limits};

fn nested_atomics(depth: usize) -> Vec<u8> {
    let mut body = String::new();
    for i in 0..depth {
        body.push_str(&format!("<Atomic><CmdID>{i}</CmdID>"));
    }
    for _ in 0..depth {
        body.push_str("</Atomic>");
    }
    format!(r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>d</LocURI></Target><Source><LocURI>s</LocURI></Source></SyncHdr><SyncBody>{body}</SyncBody></SyncML>"#).into_bytes()
}

#[test]
fn depth_beyond_the_limit_is_too_deep_in_both_encodings() {
    let limits = Limits {
        max_depth: 16,
        ..Limits::default()
    };
    let xml = nested_atomics(20);
    let err = decode(&xml, &limits).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooDeep { limit: 16 });
    let (msg, _) = decode(&xml, &Limits::default()).unwrap();
    let wbxml = encode(&msg, Encoding::Wbxml);
    assert_eq!(
        decode(&wbxml, &limits).unwrap_err().kind,
        ErrorKind::TooDeep { limit: 16 }
    );
}

#[test]
fn default_depth_limit_stops_hostile_nesting() {
    let err = decode(&nested_atomics(10_000), &Limits::default()).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::TooDeep {
            limit: Limits::DEFAULT.max_depth
        }
    );
}

#[test]
fn element_count_beyond_the_limit_is_too_many_elements() {
    let limits = Limits {
        max_elements: 15,
        ..Limits::default()
    };
    let xml = nested_atomics(3);
    assert_eq!(
        decode(&xml, &limits).unwrap_err().kind,
        ErrorKind::TooManyElements { limit: 15 }
    );
    let (msg, _) = decode(&xml, &Limits::default()).unwrap();
    let wbxml = encode(&msg, Encoding::Wbxml);
    assert_eq!(
        decode(&wbxml, &limits).unwrap_err().kind,
        ErrorKind::TooManyElements { limit: 15 }
    );
}

#[test]
fn input_beyond_the_size_limit_is_refused_before_parsing() {
    let limits = Limits {
        max_input_bytes: 100,
        ..Limits::default()
    };
    let xml = nested_atomics(1);
    let err = decode(&xml, &limits).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::InputTooLarge {
            len: xml.len(),
            limit: 100
        }
    );
    assert_eq!(err.offset, 0);
    let (msg, _) = decode(&xml, &Limits::default()).unwrap();
    let wbxml = encode(&msg, Encoding::Wbxml);
    let limits = Limits {
        max_input_bytes: wbxml.len() - 1,
        ..Limits::default()
    };
    assert!(matches!(
        decode(&wbxml, &limits).unwrap_err().kind,
        ErrorKind::InputTooLarge { .. }
    ));
}

/// WBXML with `n` Gets of one short URI each (`uri_stem` and a digit: about 32 octets a Get
/// for `./DevInfo/x`, 20 to 25 for `./x`), the densest message a server legitimately sends.
fn many_gets(n: usize, uri_stem: &str) -> Vec<u8> {
    use omadm_syncml::{
        Command, DmVersion, Item, ItemCommand, Location, SyncBody, SyncHdr, SyncMl,
    };
    let header = SyncHdr::new(
        DmVersion::V1_2,
        "1",
        "2",
        Location::new("IMEI:1"),
        Location::new("https://dm"),
    );
    let commands = (0..n)
        .map(|i| {
            Command::Get(ItemCommand::new(
                (i + 2).to_string(),
                vec![Item::target(format!("{uri_stem}{}", i % 10))],
            ))
        })
        .collect();
    let msg = SyncMl {
        header,
        body: SyncBody {
            commands,
            is_final: true,
        },
    };
    omadm_syncml::encode(&msg, omadm_syncml::Encoding::Wbxml)
}

#[test]
fn the_default_budget_takes_a_legitimate_message_of_small_gets_whatever_their_count() {
    // Counts just past each growth of the command list are the dearest.
    for (uri_stem, most_octets) in [("./DevInfo/x", 34), ("./x", 25)] {
        for n in [1, 5, 7, 10, 14, 300, 1_000, 65_537, 100_000] {
            let input = many_gets(n, uri_stem);
            assert!(
                input.len() <= most_octets * n + 128,
                "{} octets for {n} Gets",
                input.len()
            );
            let (msg, _) = omadm_syncml::decode(&input, &Limits::default())
                .unwrap_or_else(|e| panic!("{n} Gets ({} octets): {e}", input.len()));
            assert_eq!(msg.body.commands.len(), n);
        }
    }
}
