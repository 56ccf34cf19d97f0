//! The XML codec, one test per representation rule.

use omadm_syncml::{
    xml, Alert, Command, Data, DmVersion, ErrorKind, Item, ItemCommand, Limits, Location, Meta,
    Status, SyncBody, SyncHdr, SyncMl,
};

fn wrap_body(body: &str) -> String {
    format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>dev</LocURI></Target><Source><LocURI>srv</LocURI></Source></SyncHdr><SyncBody>{body}<Final/></SyncBody></SyncML>"#
    )
}

fn decode(text: &str) -> Result<SyncMl<'static>, omadm_syncml::DecodeError> {
    xml::decode(text.as_bytes(), &Limits::default()).map(SyncMl::into_owned)
}

fn lenient(text: &str) -> SyncMl<'static> {
    xml::decode_lenient(text.as_bytes(), &Limits::default())
        .unwrap()
        .into_owned()
}

fn minimal() -> SyncMl<'static> {
    SyncMl {
        header: SyncHdr::new(
            DmVersion::V1_2,
            "1",
            "1",
            Location::new("dev"),
            Location::new("srv"),
        ),
        body: SyncBody {
            commands: vec![],
            is_final: true,
        },
    }
}

#[test]
fn writer_produces_the_canonical_compact_form() {
    let mut msg = minimal();
    let mut add = ItemCommand::new(
        "2",
        vec![Item::target("./a")
            .with_meta(Meta::format_type("chr", "text/plain"))
            .with_data("x & <y>")],
    );
    add.no_resp = true;
    msg.body.commands.push(Command::Add(add));
    let out = String::from_utf8(xml::encode(&msg)).unwrap();
    assert_eq!(
        out,
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>dev</LocURI></Target><Source><LocURI>srv</LocURI></Source></SyncHdr><SyncBody><Add><CmdID>2</CmdID><NoResp/><Item><Target><LocURI>./a</LocURI></Target><Meta><Format xmlns="syncml:metinf">chr</Format><Type xmlns="syncml:metinf">text/plain</Type></Meta><Data>x &amp; &lt;y&gt;</Data></Item></Add><Final/></SyncBody></SyncML>"#
    );
}

#[test]
fn dm_1_1_2_messages_use_the_syncml_1_1_namespace() {
    let mut msg = minimal();
    msg.header = SyncHdr::new(
        DmVersion::V1_1,
        "1",
        "1",
        Location::new("d"),
        Location::new("s"),
    );
    let out = String::from_utf8(xml::encode(&msg)).unwrap();
    assert!(out.starts_with(r#"<SyncML xmlns="SYNCML:SYNCML1.1"><SyncHdr><VerDTD>1.1</VerDTD><VerProto>DM/1.1</VerProto>"#));
    assert_eq!(decode(&out).unwrap().version(), Some(DmVersion::V1_1));
}

#[test]
fn metinf_children_may_use_a_prefix_default_namespace_or_none() {
    let body = r#"<Get><CmdID>2</CmdID><Meta><m:Format xmlns:m="syncml:metinf">chr</m:Format><Type xmlns="syncml:metinf">text/plain</Type><Size>5</Size></Meta><Item><Target><LocURI>./a</LocURI></Target></Item></Get>"#;
    let msg = decode(&wrap_body(body)).unwrap();
    let Command::Get(get) = &msg.body.commands[0] else {
        panic!()
    };
    let meta = get.meta.as_ref().unwrap();
    assert_eq!(meta.format.as_deref(), Some("chr"));
    assert_eq!(meta.type_.as_deref(), Some("text/plain"));
    assert_eq!(meta.size(), Some(5));
}

#[test]
fn prefixed_syncml_namespace_and_namespace_case_are_accepted() {
    let text = r#"<s:SyncML xmlns:s="syncml:syncml1.2"><s:SyncHdr><s:VerDTD>1.2</s:VerDTD><s:VerProto>DM/1.2</s:VerProto><s:SessionID>1</s:SessionID><s:MsgID>1</s:MsgID><s:Target><s:LocURI>d</s:LocURI></s:Target><s:Source><s:LocURI>s</s:LocURI></s:Source></s:SyncHdr><s:SyncBody/></s:SyncML>"#;
    let msg = decode(text).unwrap();
    assert_eq!(msg.header.target.loc_uri, "d");
    assert!(!msg.body.is_final);
}

#[test]
fn default_namespaces_are_known_in_any_case_and_near_misses_are_not() {
    // On the short path (`<Name xmlns="uri">`) as on the general one (another attribute).
    for (uri, known) in [
        ("syncml:metinf", true),
        ("SYNCML:METINF", true),
        ("SyncML:MetInf", true),
        ("SYNCML:SYNCML1.2", true),
        ("syncml:syncml1.1", true),
        ("syncml:metinfo", false),
        ("syncml:metin", false),
        ("syncml:metinG", false),
        ("SYNCML:SYNCML1.", false),
        ("SYNCML:SYNCML2.0", false),
    ] {
        for extra in ["", " a='b'"] {
            let body = format!(
                r#"<Get><CmdID>2</CmdID><Meta><Format xmlns="{uri}"{extra}>chr</Format></Meta><Item><Target><LocURI>./a</LocURI></Target></Item></Get>"#
            );
            match decode(&wrap_body(&body)) {
                Ok(msg) => {
                    assert!(known, "{uri}{extra}");
                    let Command::Get(get) = &msg.body.commands[0] else {
                        panic!()
                    };
                    assert_eq!(get.meta.as_ref().unwrap().format.as_deref(), Some("chr"));
                }
                Err(err) => assert!(
                    !known
                        && matches!(err.kind, ErrorKind::UnknownNamespace { ref namespace, .. } if namespace == uri),
                    "{uri}{extra}: {err:?}"
                ),
            }
        }
    }
}

#[test]
fn cdata_and_entities_in_data_are_unescaped() {
    let body = r#"<Replace><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target><Data><![CDATA[<raw & text>]]> &amp; &lt;&#x41;&#66;&quot;&apos;</Data></Item></Replace>"#;
    let msg = decode(&wrap_body(body)).unwrap();
    let Command::Replace(r) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(
        r.items[0].data,
        Some(Data::Text("<raw & text> & <AB\"'".into()))
    );
}

#[test]
fn data_with_child_elements_is_kept_intact_as_markup() {
    let tree = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>a</NodeName><Value>x &amp; y</Value></Node></MgmtTree>"#;
    let body = format!(
        r#"<Add><CmdID>2</CmdID><Meta><Format xmlns="syncml:metinf">xml</Format><Type xmlns="syncml:metinf">application/vnd.syncml.dmtnds+xml</Type></Meta><Item><Target><LocURI>./a</LocURI></Target><Data>{tree}</Data></Item></Add>"#
    );
    let msg = decode(&wrap_body(&body)).unwrap();
    let Command::Add(add) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(add.items[0].data, Some(Data::Xml(tree.into())));
    let out = String::from_utf8(xml::encode(&msg)).unwrap();
    assert!(out.contains(&format!("<Data>{tree}</Data>")));
}

#[test]
fn b64_data_is_decoded_by_value_bytes_with_the_effective_format() {
    let body = r#"<Replace><CmdID>2</CmdID><Meta><Format xmlns="syncml:metinf">b64</Format></Meta><Item><Target><LocURI>./a</LocURI></Target><Data>AAEC/w==</Data></Item><Item><Target><LocURI>./b</LocURI></Target><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>AAEC/w==</Data></Item></Replace>"#;
    let msg = decode(&wrap_body(body)).unwrap();
    let Command::Replace(r) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(
        r.items[0].value_bytes(r.meta.as_deref()),
        Some(Ok(vec![0, 1, 2, 255].into()))
    );
    assert_eq!(
        r.items[1].value_bytes(r.meta.as_deref()),
        Some(Ok(b"AAEC/w==".to_vec().into()))
    );
}

#[test]
fn opaque_binary_is_written_as_base64_in_xml() {
    let mut msg = minimal();
    let item = Item::target("./bin").with_data(Data::Opaque(vec![0, 159, 146, 150].into()));
    msg.body
        .commands
        .push(Command::Replace(ItemCommand::new("2", vec![item])));
    msg.to_xml_safe();
    let Command::Replace(r) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(r.items[0].data, Some(Data::Text("AJ+Slg==".into())));
    assert_eq!(
        r.items[0].meta.as_ref().unwrap().format.as_deref(),
        Some("b64")
    );
}

#[test]
fn cmdid_and_refs_are_strings_so_uuids_survive() {
    let body = r#"<Status><CmdID>6f9619ff-8b86-d011-b42d-00c04fc964ff</CmdID><MsgRef>1</MsgRef><CmdRef>a1b2</CmdRef><Cmd>Add</Cmd><TargetRef>./x</TargetRef><TargetRef>./y</TargetRef><Data>200</Data></Status>"#;
    let msg = decode(&wrap_body(body)).unwrap();
    let Command::Status(s) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(s.cmd_id, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
    assert_eq!(s.cmd_ref, "a1b2");
    assert_eq!(*s.target_refs, ["./x", "./y"]);
    assert_eq!(s.code(), Some(200));
}

#[test]
fn status_children_are_accepted_in_any_order() {
    let body = r#"<Status><Data>212</Data><Cmd>SyncHdr</Cmd><CmdRef>0</CmdRef><MsgRef>1</MsgRef><CmdID>1</CmdID><Chal><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><Format xmlns="syncml:metinf">b64</Format><NextNonce xmlns="syncml:metinf">ZG9iZWhhdmUNCg==</NextNonce></Meta></Chal></Status>"#;
    let msg = decode(&wrap_body(body)).unwrap();
    let Command::Status(s) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(s.code(), Some(212));
    assert_eq!(
        s.chal.as_ref().unwrap().meta.next_nonce(),
        Some("ZG9iZWhhdmUNCg==")
    );
}

#[test]
fn generic_alert_with_correlator_mark_and_several_items() {
    let body = r#"<Alert><CmdID>3</CmdID><Data>1226</Data><Correlator>abc</Correlator><Item><Source><LocURI>./FwUpdate/x</LocURI></Source><Meta><Type xmlns="syncml:metinf">org.openmobilealliance.dm.firmwareupdate.download</Type><Format xmlns="syncml:metinf">int</Format><Mark xmlns="syncml:metinf">critical</Mark></Meta><Data>200</Data></Item><Item><Meta><Type xmlns="syncml:metinf">x</Type><Format xmlns="syncml:metinf">chr</Format></Meta><Data>y</Data></Item></Alert>"#;
    let msg = decode(&wrap_body(body)).unwrap();
    let Command::Alert(a) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code(), Some(1226));
    assert_eq!(a.correlator.as_deref(), Some("abc"));
    assert_eq!(a.items.len(), 2);
    assert_eq!(a.items[0].meta.as_ref().unwrap().mark(), Some("critical"));
    let again = decode(std::str::from_utf8(&xml::encode(&msg)).unwrap()).unwrap();
    assert_eq!(again, msg);
}

#[test]
fn header_meta_carries_max_msg_size_max_obj_size_and_emi() {
    let text = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>d</LocURI></Target><Source><LocURI>s</LocURI><LocName>me</LocName></Source><RespURI>https://x/y?s=1</RespURI><NoResp/><Meta><MaxMsgSize xmlns="syncml:metinf"> 10000 </MaxMsgSize><MaxObjSize xmlns="syncml:metinf">65536</MaxObjSize><EMI xmlns="syncml:metinf">a</EMI><EMI xmlns="syncml:metinf">b</EMI></Meta></SyncHdr><SyncBody></SyncBody></SyncML>"#;
    let msg = decode(text).unwrap();
    let meta = msg.header.meta.as_ref().unwrap();
    assert_eq!(
        (meta.max_msg_size(), meta.max_obj_size()),
        (Some(10000), Some(65536))
    );
    assert_eq!(meta.emi(), ["a", "b"]);
    assert_eq!(msg.header.resp_uri.as_deref(), Some("https://x/y?s=1"));
    assert!(msg.header.no_resp);
    assert_eq!(msg.header.source.name(), Some("me"));
}

#[test]
fn metinf_wrapper_is_flattened() {
    let body = r#"<Get><CmdID>2</CmdID><Meta><MetInf xmlns="syncml:metinf"><Format>chr</Format></MetInf></Meta><Item><Target><LocURI>./a</LocURI></Target></Item></Get>"#;
    let msg = decode(&wrap_body(body)).unwrap();
    let Command::Get(g) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(g.meta.as_ref().unwrap().format.as_deref(), Some("chr"));
}

#[test]
fn white_space_and_comments_between_elements_are_ignored() {
    let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n <SyncHdr>\n  <VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>\n  <Target><LocURI>d</LocURI></Target><Source><LocURI>s</LocURI></Source>\n </SyncHdr>\n <SyncBody>\n  <!-- none -->\n  <Final/>\n </SyncBody>\n</SyncML>\n";
    assert!(decode(text).unwrap().body.is_final);
    // And with no white space around them: right after a start tag, before an end tag.
    let tight = text
        .replace('\n', "")
        .replace(" ", "")
        .replace("<SyncHdr>", "<SyncHdr><!--c--><?pix?>")
        .replace("</Target>", "<!--c--></Target>")
        .replace("<SyncMLxmlns=", "<SyncML xmlns=")
        .replace("<?xmlversion=\"1.0\"encoding=\"UTF-8\"?>", "");
    assert!(decode(&tight).unwrap().body.is_final, "{tight}");
}

#[test]
fn unknown_element_in_the_header_is_an_error_naming_it_and_its_offset() {
    let text = wrap_body("").replace("<MsgID>1</MsgID>", "<MsgID>1</MsgID><Bogus/>");
    let err = decode(&text).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownElement("Bogus".into()));
    assert_eq!(err.offset, text.find("<Bogus/>").unwrap());
    assert!(err.to_string().contains("<Bogus>"));
}

#[test]
fn misplaced_element_names_element_and_parent() {
    let text = wrap_body("").replace("<MsgID>1</MsgID>", "<MsgID>1</MsgID><Final/>");
    let err = decode(&text).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::MisplacedElement {
            element: "Final".into(),
            parent: "SyncHdr".into()
        }
    );
    assert_eq!(err.offset, text.find("<Final/>").unwrap());
}

#[test]
fn element_in_a_foreign_namespace_is_unknown() {
    let body = r#"<Get><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target><x:Extra xmlns:x="urn:other"/></Item></Get>"#;
    let err = decode(&wrap_body(body)).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::UnknownNamespace { ref element, .. } if element == "Extra")
    );
}

#[test]
fn bad_command_fails_strict_decoding_but_only_itself_when_lenient() {
    let body = r#"<Get><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target><Bogus><Deep/></Bogus></Item></Get><Replace><Item><Target><LocURI>./b</LocURI></Target><Data>x</Data></Item></Replace><Sync><CmdID>4</CmdID></Sync><Exec><CmdID>5</CmdID><Item><Target><LocURI>./c</LocURI></Target></Item></Exec>"#;
    let text = wrap_body(body);
    let err = decode(&text).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownElement("Bogus".into()));
    let msg = lenient(&text);
    assert!(msg.body.is_final, "decoding resumed after the bad commands");
    let cmds = &msg.body.commands;
    assert_eq!(cmds.len(), 4);
    let Command::Malformed(m) = &cmds[0] else {
        panic!("{:?}", cmds[0])
    };
    assert_eq!(
        (m.element.as_str(), m.cmd_id.as_deref()),
        ("Get", Some("2"))
    );
    let Command::Malformed(m) = &cmds[1] else {
        panic!()
    };
    assert_eq!(m.element, "Replace");
    assert_eq!(m.cmd_id, None);
    assert_eq!(
        m.error.kind,
        ErrorKind::MissingElement {
            element: "CmdID",
            parent: "Replace"
        }
    );
    let Command::Malformed(m) = &cmds[2] else {
        panic!()
    };
    assert_eq!(m.element, "Sync");
    assert!(matches!(cmds[3], Command::Exec(_)));
}

#[test]
fn bad_command_inside_atomic_is_malformed_inside_it() {
    let body = r#"<Atomic><CmdID>2</CmdID><Add><CmdID>3</CmdID><Item><Target><LocURI>./a</LocURI></Target></Item></Add><Get><CmdID>4</CmdID><Item><Meta><Size>big</Size></Meta></Item></Get></Atomic>"#;
    let msg = lenient(&wrap_body(body));
    let Command::Atomic(a) = &msg.body.commands[0] else {
        panic!()
    };
    assert!(matches!(a.commands[0], Command::Add(_)));
    let Command::Malformed(m) = &a.commands[1] else {
        panic!()
    };
    assert_eq!(m.cmd_id.as_deref(), Some("4"));
    assert!(matches!(
        m.error.kind,
        ErrorKind::InvalidValue {
            element: "Size",
            ..
        }
    ));
}

#[test]
fn duplicate_singletons_and_missing_required_elements_are_errors() {
    let dup = wrap_body("").replace("<MsgID>1</MsgID>", "<MsgID>1</MsgID><MsgID>2</MsgID>");
    assert_eq!(
        decode(&dup).unwrap_err().kind,
        ErrorKind::DuplicateElement("MsgID")
    );
    let missing = wrap_body("").replace("<MsgID>1</MsgID>", "");
    assert_eq!(
        decode(&missing).unwrap_err().kind,
        ErrorKind::MissingElement {
            element: "MsgID",
            parent: "SyncHdr"
        }
    );
    let no_items = wrap_body("<Add><CmdID>1</CmdID></Add>");
    assert_eq!(
        decode(&no_items).unwrap_err().kind,
        ErrorKind::MissingElement {
            element: "Item",
            parent: "Add"
        }
    );
}

#[test]
fn text_where_elements_belong_is_an_error() {
    let text = wrap_body("stray");
    assert!(matches!(
        decode(&text).unwrap_err().kind,
        ErrorKind::UnexpectedText(_)
    ));
}

#[test]
fn element_inside_a_leaf_is_misplaced() {
    let text = wrap_body("").replace("<MsgID>1</MsgID>", "<MsgID>1<LocURI>x</LocURI></MsgID>");
    assert!(matches!(
        decode(&text).unwrap_err().kind,
        ErrorKind::MisplacedElement { .. }
    ));
}

#[test]
fn root_must_be_syncml_and_alone() {
    assert!(matches!(
        decode("<SyncBody/>").unwrap_err().kind,
        ErrorKind::MisplacedElement { .. }
    ));
    let twice = format!("{}{}", wrap_body(""), wrap_body(""));
    assert!(decode(&twice).is_err());
    assert_eq!(decode("").unwrap_err().kind, ErrorKind::UnexpectedEof);
}

#[test]
fn every_truncation_of_a_message_is_an_error_not_a_panic() {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples/pkg2_mixed.xml"
    ))
    .unwrap();
    let end = text.iter().rposition(|&b| b == b'>').unwrap();
    for len in 0..end {
        assert!(
            xml::decode(&text[..len], &Limits::default()).is_err(),
            "prefix of {len} bytes"
        );
    }
}

#[test]
fn unknown_entities_are_refused_so_nothing_expands() {
    let text = wrap_body("").replace("<SessionID>1</SessionID>", "<SessionID>&lol;</SessionID>");
    assert!(matches!(decode(&text).unwrap_err().kind, ErrorKind::Xml(_)));
}

#[test]
fn status_alert_and_final_round_trip() {
    let mut msg = minimal();
    let mut status = Status::new("1", "1", "0", "SyncHdr", 212);
    status.target_refs.push("dev".into());
    status.source_refs.push("srv".into());
    msg.body.commands.push(Command::Status(status));
    msg.body
        .commands
        .push(Command::Alert(Alert::new("2", 1201)));
    let again = decode(std::str::from_utf8(&xml::encode(&msg)).unwrap()).unwrap();
    assert_eq!(again, msg);
}

#[test]
fn namespace_declarations_are_scoped_to_their_element() {
    // A default namespace declared on one element ends with it: its sibling is SyncML again.
    let body = r#"<Get><CmdID>2</CmdID><Meta><Format xmlns="syncml:metinf">chr</Format><Type>text/plain</Type></Meta><Item><Target><LocURI>./a</LocURI></Target></Item></Get>"#;
    assert!(decode(&wrap_body(body)).is_ok());
    // A foreign default namespace makes its element and its descendants unknown...
    let body = r#"<Get><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target><Data xmlns="urn:other">x</Data></Item></Get>"#;
    let err = decode(&wrap_body(body)).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::UnknownNamespace { ref element, ref namespace } if element == "Data" && namespace == "urn:other"),
        "{err:?}"
    );
    // ...and `xmlns=""` puts an element in no namespace, identified by its name.
    let body = r#"<Get><CmdID>2</CmdID><Item xmlns="urn:other"><Target xmlns=""><LocURI>./a</LocURI></Target></Item></Get>"#;
    let err = decode(&wrap_body(body)).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::UnknownNamespace { ref element, .. } if element == "Item")
    );
    // A prefix bound on an element is unbound after it.
    let body = r#"<Get><CmdID>2</CmdID><Meta><m:Format xmlns:m="syncml:metinf">chr</m:Format><m:Type>text/plain</m:Type></Meta><Item><Target><LocURI>./a</LocURI></Target></Item></Get>"#;
    let err = decode(&wrap_body(body)).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::UnknownNamespace { ref element, ref namespace } if element == "Type" && namespace.contains("undeclared")),
        "{err:?}"
    );
}

#[test]
fn text_is_escaped_where_it_must_be_and_only_there() {
    let mut m = minimal();
    m.body.commands.push(Command::Replace(ItemCommand::new(
        "2",
        vec![Item::target("./a").with_data("plain\ta\r\u{1}b<&>\nc é")],
    )));
    let out = String::from_utf8(xml::encode(&m)).unwrap();
    assert!(
        out.contains("<Data>plain\ta&#13;&#1;b&lt;&amp;&gt;\nc é</Data>"),
        "{out}"
    );
    assert_eq!(decode(&out).unwrap(), m);
}

#[test]
fn namespace_declarations_in_scope_are_bounded() {
    // Thousands of prefixes declared on the root would make every name lookup scan them all.
    let mut decls = String::new();
    for i in 0..5000 {
        decls.push_str(&format!(" xmlns:p{i}=\"urn:x:{i}\""));
    }
    let text = wrap_body("").replacen(
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"",
        &format!("<SyncML xmlns=\"SYNCML:SYNCML1.2\"{decls}"),
        1,
    );
    let err = decode(&text).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Xml(ref m) if m.contains("namespace declarations")),
        "{err:?}"
    );
    // Default namespaces declared alone on nested elements count the same.
    let nested = "<MetInf xmlns=\"syncml:metinf\">".repeat(40) + &"</MetInf>".repeat(40);
    let text = wrap_body(&format!(
        "<Get><CmdID>1</CmdID><Item><Meta>{nested}</Meta><Target><LocURI>./a</LocURI></Target></Item></Get>"
    ));
    let deep = Limits {
        max_depth: 100,
        ..Limits::default()
    };
    let err = xml::decode(text.as_bytes(), &deep).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Xml(ref m) if m.contains("namespace declarations")),
        "{err:?}"
    );
    // A handful, as real documents have, is fine.
    let few = wrap_body("").replacen(
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"",
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\" xmlns:m=\"syncml:metinf\" xmlns:x=\"urn:x\"",
        1,
    );
    assert!(decode(&few).is_ok());
}

#[test]
fn errors_in_text_name_the_element_holding_it_on_either_path() {
    let header = |leaf: &str| wrap_body("").replace("<SessionID>1</SessionID>", leaf);
    let element = |doc: &str| match decode(doc).unwrap_err().kind {
        ErrorKind::UnescapedAmpersand { element } => element,
        ErrorKind::Xml(message) => message,
        other => panic!("{other:?}"),
    };
    // One piece of text (read with its end tag in one step), or several (token by token).
    assert_eq!(
        element(&header("<SessionID>a & b</SessionID>")),
        "<SessionID>"
    );
    assert_eq!(
        element(&header("<SessionID>a<!-- c --> & b</SessionID>")),
        "<SessionID>"
    );
    assert_eq!(
        element(&header("<SessionID>a\0b</SessionID>")),
        "NUL character in <SessionID>"
    );
    assert_eq!(
        element(&header("<SessionID>a<![CDATA[x]]>&bogus;</SessionID>")),
        "unknown entity &bogus; in <SessionID>"
    );
    // Data's own text, after the command's other leaves were read.
    let doc = wrap_body(
        "<Replace><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target>\
         <Data>x & y</Data></Item></Replace>",
    );
    assert_eq!(element(&doc), "<Data>");
}

#[test]
fn leaf_text_reads_the_same_in_one_piece_or_in_several() {
    let session = |text: &str| {
        let doc = wrap_body("").replace("<SessionID>1</SessionID>", text);
        decode(&doc).map(|m| m.header.session_id.into_owned())
    };
    for (leaf, want) in [
        ("<SessionID>42</SessionID>", "42"),
        ("<SessionID>42</SessionID \n>", "42"),
        ("<SessionID></SessionID>", ""),
        ("<SessionID/>", ""),
        ("<SessionID>4<!-- c -->2</SessionID>", "42"),
        ("<SessionID>4<![CDATA[<2>]]></SessionID>", "4<2>"),
        ("<SessionID>a&amp;b</SessionID>", "a&b"),
        ("<SessionID>a\r\nb</SessionID>", "a\nb"),
    ] {
        assert_eq!(session(leaf).unwrap(), want, "{leaf}");
    }
    // Errors name the same place either way: the `&` of the text.
    let doc = wrap_body("").replace("<SessionID>1</SessionID>", "<SessionID>a & b</SessionID>");
    let err = decode(&doc).unwrap_err();
    let amp = doc.find(" & ").unwrap() + 1;
    assert!(
        matches!(err.kind, ErrorKind::UnescapedAmpersand { .. }),
        "{err}"
    );
    assert_eq!(err.offset, amp);
    for leaf in [
        "<SessionID>1</Session>",
        "<SessionID>1</SessionIDs>",
        "<SessionID>1<MsgID/></SessionID>",
    ] {
        assert!(session(leaf).is_err(), "{leaf}");
    }
}
