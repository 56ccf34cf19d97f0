//! The project's sample server packages decode, in both encodings, to what they say.

use omadm_syncml::{decode, encode, xml, Command, Data, Encoding, Limits};
use std::path::PathBuf;

/// A sample's bytes, kept for the rest of the test run (decoded messages borrow from them).
fn sample(name: &str) -> &'static [u8] {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/samples")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Box::leak(bytes.into_boxed_slice())
}

#[test]
fn mixed_package_decodes_with_every_command() {
    let (msg, enc) = decode(sample("pkg2_mixed.xml"), &Limits::default()).unwrap();
    assert_eq!(enc, Encoding::Xml);
    let names: Vec<&str> = msg.body.commands.iter().map(Command::name).collect();
    assert_eq!(
        names,
        ["Status", "Get", "Add", "Replace", "Get", "Get", "Delete", "Exec", "Get"]
    );
    assert!(msg.body.is_final);
    assert_eq!(msg.header.session_id, "1");
    assert_eq!(
        msg.header.source.loc_uri,
        "http://127.0.0.1:8080/funambol/dm"
    );
    let Command::Add(add) = &msg.body.commands[2] else {
        panic!()
    };
    assert_eq!(add.items[0].target_uri(), Some("./Vendor/memory/a"));
    assert_eq!(add.items[0].data, Some(Data::Text("hello".into())));
    assert_eq!(
        add.items[0].meta.as_ref().unwrap().format.as_deref(),
        Some("chr")
    );
}

#[test]
fn libwbxml_twin_of_the_mixed_package_means_the_same() {
    let (from_xml, _) = decode(sample("pkg2_mixed.xml"), &Limits::default()).unwrap();
    let (mut from_wbxml, enc) = decode(sample("pkg2_mixed.wbxml"), &Limits::default()).unwrap();
    assert_eq!(enc, Encoding::Wbxml);
    // libwbxml writes Data as OPAQUE; as XML it is the same text.
    from_wbxml.to_xml_safe();
    assert_eq!(from_wbxml, from_xml);
}

#[test]
fn eighty_command_package_in_both_encodings_means_the_same() {
    let (from_xml, _) = decode(sample("pkg2_80cmds.xml"), &Limits::default()).unwrap();
    let (mut from_wbxml, _) = decode(sample("pkg2_80cmds.wbxml"), &Limits::default()).unwrap();
    from_wbxml.to_xml_safe();
    assert_eq!(from_xml.body.commands.len(), 81);
    assert_eq!(from_wbxml, from_xml);
}

#[test]
fn every_xml_sample_survives_both_round_trips() {
    for name in [
        "pkg2_mixed.xml",
        "pkg2_80cmds.xml",
        "pkg2_atomic.xml",
        "pkg2_with_sequence.xml",
        "windows_pkg1.xml",
    ] {
        let (msg, _) =
            decode(sample(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let as_xml = encode(&msg, Encoding::Xml);
        let again = xml::decode(&as_xml, &Limits::default()).unwrap();
        assert_eq!(again, msg, "{name} via XML");
        let as_wbxml = encode(&msg, Encoding::Wbxml);
        let again = omadm_syncml::wbxml::decode(&as_wbxml, &Limits::default()).unwrap();
        assert_eq!(again, msg, "{name} via WBXML");
    }
}

#[test]
fn windows_package_1_reads_md5_cred_and_client_event_alert() {
    let (msg, _) = decode(sample("windows_pkg1.xml"), &Limits::default()).unwrap();
    let cred = msg.header.cred.as_ref().unwrap();
    assert_eq!(
        cred.meta.as_ref().unwrap().type_.as_deref(),
        Some("syncml:auth-md5")
    );
    assert_eq!(msg.header.source.name(), Some("dummy"));
    let Command::Alert(alert) = &msg.body.commands[2] else {
        panic!()
    };
    assert_eq!(alert.code(), Some(1224));
    let Command::Replace(replace) = &msg.body.commands[3] else {
        panic!()
    };
    assert_eq!(replace.items.len(), 6);
    assert_eq!(
        replace.items[1].data.as_ref().unwrap().as_str(),
        Some("Dell Inc.")
    );
}

#[test]
fn atomic_and_sequence_samples_nest_their_commands() {
    let (msg, _) = decode(sample("pkg2_atomic.xml"), &Limits::default()).unwrap();
    assert!(msg
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Atomic(a) if a.commands.len() >= 2)));
    let (msg, _) = decode(sample("pkg2_with_sequence.xml"), &Limits::default()).unwrap();
    assert!(msg
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Sequence(s) if !s.commands.is_empty())));
}
