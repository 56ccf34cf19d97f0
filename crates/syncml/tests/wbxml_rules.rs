//! The WBXML codec, one test per encoding rule, with the digest's vectors (§4, §10.6).

use omadm_syncml::{
    wbxml, xml, Command, Data, DmVersion, ErrorKind, Item, ItemCommand, Limits, Location, SyncBody,
    SyncHdr, SyncMl,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Digest §10.6: a DM package 1 as libwbxml `xml2wbxml -n -v 1.2` encodes it (209 bytes).
const PKG1_XML: &str = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1234</SessionID><MsgID>1</MsgID><Target><LocURI>http://dm.example.com/dm</LocURI></Target><Source><LocURI>IMEI:493005100592800</LocURI></Source><Meta><MaxMsgSize xmlns="syncml:metinf">10000</MaxMsgSize></Meta></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1200</Data></Alert><Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Meta><Format xmlns="syncml:metinf">chr</Format><Type xmlns="syncml:metinf">text/plain</Type></Meta><Data>IMEI:493005100592800</Data></Item></Replace><Final/></SyncBody></SyncML>"#;
const PKG1_WBXML: &str = "
02a4016a006d6c7103312e3200017203444d2f312e3200016503313233340001
5b033100016e5703687474703a2f2f646d2e6578616d706c652e636f6d2f646d
000101675703494d45493a3439333030353130303539323830300001015a0001
4c0331303030300001010100006b464b033100014f0331323030000101604b03
320001546757032e2f446576496e666f2f44657649640001015a000147036368
7200015303746578742f706c61696e00010100004fc314494d45493a34393330
3035313030353932383030010101120101";

fn pkg1_from_xml() -> SyncMl<'static> {
    xml::decode(PKG1_XML.as_bytes(), &Limits::default()).unwrap()
}

fn decode(bytes: &[u8]) -> Result<SyncMl<'_>, omadm_syncml::DecodeError> {
    wbxml::decode(bytes, &Limits::default())
}

fn decoded_as_xml(bytes: &[u8]) -> SyncMl<'static> {
    let mut msg = decode(bytes).unwrap().into_owned();
    msg.to_xml_safe();
    msg
}

#[test]
fn libwbxml_vector_decodes_to_the_same_document() {
    assert_eq!(hex(PKG1_WBXML).len(), 209);
    assert_eq!(decoded_as_xml(&hex(PKG1_WBXML)), pkg1_from_xml());
}

#[test]
fn encoder_matches_libwbxml_byte_for_byte_when_data_is_opaque() {
    let mut msg = pkg1_from_xml();
    let Command::Replace(r) = &mut msg.body.commands[1] else {
        panic!()
    };
    r.items[0].data = Some(Data::Opaque(b"IMEI:493005100592800".to_vec().into()));
    assert_eq!(wbxml::encode(&msg), hex(PKG1_WBXML));
}

#[test]
fn header_is_wbxml_1_2_registered_public_id_utf8_and_no_string_table() {
    let out = wbxml::encode(&pkg1_from_xml());
    assert_eq!(&out[..5], [0x02, 0xA4, 0x01, 0x6A, 0x00]);
    let mut msg = pkg1_from_xml();
    msg.header.ver_dtd = "1.1".into();
    msg.header.ver_proto = "DM/1.1".into();
    assert_eq!(&wbxml::encode(&msg)[..5], [0x02, 0x9F, 0x53, 0x6A, 0x00]);
}

#[test]
fn string_table_references_decode() {
    // Source/LocURI as STR_T offset 0 into a table holding the IMEI.
    let original = hex(PKG1_WBXML);
    let imei = b"IMEI:493005100592800";
    let inline = [&[0x03][..], imei, &[0x00]].concat();
    let at = original
        .windows(inline.len())
        .position(|w| w == inline.as_slice())
        .unwrap();
    let mut bytes = vec![0x02, 0xA4, 0x01, 0x6A, 0x15];
    bytes.extend_from_slice(imei);
    bytes.push(0);
    bytes.extend_from_slice(&original[5..at]);
    bytes.extend_from_slice(&[0x83, 0x00]);
    bytes.extend_from_slice(&original[at + inline.len()..]);
    assert_eq!(decoded_as_xml(&bytes), pkg1_from_xml());
}

#[test]
fn literal_public_id_without_terminating_nul_decodes() {
    let fpi = b"-//SYNCML//DTD SyncML 1.2//EN";
    let mut bytes = vec![0x02, 0x00, 0x00, 0x6A, fpi.len() as u8];
    bytes.extend_from_slice(fpi);
    bytes.extend_from_slice(&hex(PKG1_WBXML)[5..]);
    assert_eq!(decoded_as_xml(&bytes), pkg1_from_xml());
}

#[test]
fn wbxml_1_3_and_1_1_version_bytes_decode() {
    for version in [0x01, 0x03] {
        let mut bytes = hex(PKG1_WBXML);
        bytes[0] = version;
        assert_eq!(decoded_as_xml(&bytes), pkg1_from_xml());
    }
    let mut bytes = hex(PKG1_WBXML);
    bytes[0] = 0x04;
    assert_eq!(
        decode(&bytes).unwrap_err().kind,
        ErrorKind::UnsupportedWbxmlVersion(4)
    );
}

#[test]
fn syncml_1_1_public_id_on_a_1_2_message_is_accepted() {
    let mut bytes = hex(PKG1_WBXML);
    bytes[1] = 0x9F;
    bytes[2] = 0x53;
    let msg = decoded_as_xml(&bytes);
    assert_eq!(msg.version(), Some(DmVersion::V1_2));
    assert_eq!(msg, pkg1_from_xml());
}

#[test]
fn non_syncml_public_ids_are_refused() {
    let mut bytes = hex(PKG1_WBXML);
    bytes[2] = 0x03; // 0x1203 = DevInf 1.2
    assert!(matches!(
        decode(&bytes).unwrap_err().kind,
        ErrorKind::UnsupportedPublicId(_)
    ));
    let fpi = b"-//WAPFORUM//DTD PROV 1.0//EN\0";
    let mut bytes = vec![0x02, 0x00, 0x00, 0x6A, fpi.len() as u8];
    bytes.extend_from_slice(fpi);
    bytes.extend_from_slice(&hex(PKG1_WBXML)[5..]);
    assert!(matches!(
        decode(&bytes).unwrap_err().kind,
        ErrorKind::UnsupportedPublicId(_)
    ));
}

#[test]
fn charsets_other_than_utf8_ascii_latin1_are_refused() {
    let mut bytes = hex(PKG1_WBXML);
    bytes[3] = 0x11; // Shift_JIS
    assert_eq!(
        decode(&bytes).unwrap_err().kind,
        ErrorKind::UnsupportedCharset(17)
    );
}

#[test]
fn latin1_strings_are_transcoded() {
    let mut msg = pkg1_from_xml();
    msg.header.source.loc_uri = "caf\u{e9}".into();
    let utf8 = wbxml::encode(&msg);
    let mut latin1 = vec![0x02, 0xA4, 0x01, 0x04, 0x00];
    // Re-encode the body with é as one octet.
    let body = &utf8[5..];
    let i = body.windows(2).position(|w| w == [0xC3, 0xA9]).unwrap();
    latin1.extend_from_slice(&body[..i]);
    latin1.push(0xE9);
    latin1.extend_from_slice(&body[i + 2..]);
    assert_eq!(decode(&latin1).unwrap(), msg);
}

#[test]
fn opaque_data_under_format_xml_is_markup() {
    let mut msg = pkg1_from_xml();
    let Command::Replace(r) = &mut msg.body.commands[1] else {
        panic!()
    };
    r.items[0].meta.as_mut().unwrap().format = Some("xml".into());
    r.items[0].data = Some(Data::Xml("<a>b</a>".into()));
    assert_eq!(decode(&wbxml::encode(&msg)).unwrap(), msg);
}

#[test]
fn binary_opaque_data_survives() {
    let mut msg = pkg1_from_xml();
    let Command::Replace(r) = &mut msg.body.commands[1] else {
        panic!()
    };
    r.items[0].meta.as_mut().unwrap().format = Some("bin".into());
    r.items[0].data = Some(Data::Opaque((0..=255).collect()));
    assert_eq!(decode(&wbxml::encode(&msg)).unwrap(), msg);
}

#[test]
fn nul_in_text_travels_as_entity_zero() {
    let mut msg = pkg1_from_xml();
    msg.header.session_id = "a\0b\0".into();
    let bytes = wbxml::encode(&msg);
    assert!(bytes.windows(2).any(|w| w == [0x02, 0x00]));
    assert_eq!(decode(&bytes).unwrap(), msg);
}

#[test]
fn switch_page_is_emitted_lazily_around_meta() {
    let bytes = hex(PKG1_WBXML);
    // `5A 00 01 4C`: Meta, switch to page 1, MaxMsgSize; the switch back comes before SyncBody.
    assert!(bytes.windows(4).any(|w| w == [0x5A, 0x00, 0x01, 0x4C]));
    assert_eq!(
        wbxml::encode(&pkg1_from_xml())
            .windows(4)
            .filter(|w| *w == [0x5A, 0x00, 0x01, 0x4C])
            .count(),
        1
    );
}

#[test]
fn page_switches_read_the_same_however_many_and_wherever() {
    let original = hex(PKG1_WBXML);
    let expected = decode(&original).unwrap();
    let meta = original
        .windows(4)
        .position(|w| w == [0x5A, 0x00, 0x01, 0x4C])
        .unwrap();
    // Redundant switches: to page 0 before Meta (a page-0 tag), to page 1 twice before
    // MaxMsgSize, and to page 0 then 1 (twice) before it.
    for (at, switches) in [
        (meta, &[0x00, 0x00][..]),
        (meta + 1, &[0x00, 0x01][..]),
        (meta + 1, &[0x00, 0x00, 0x00, 0x01][..]),
    ] {
        let mut bytes = original.clone();
        bytes.splice(at..at, switches.iter().copied());
        assert_eq!(decode(&bytes).unwrap(), expected, "{switches:02X?} at {at}");
    }
    // A switch to a page that does not exist is refused where it is; one cut short, at the
    // end of the input.
    let mut bad = original.clone();
    bad[meta + 2] = 0x02;
    let err = decode(&bad).unwrap_err();
    assert_eq!(
        (err.kind, err.offset),
        (ErrorKind::UnknownCodePage(2), meta + 1)
    );
    let err = decode(&original[..meta + 2]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnexpectedEof);
}

#[test]
fn attributes_literals_and_extensions_are_unsupported_tokens() {
    for token in [0x04, 0x40, 0x43, 0x80, 0xC0, 0xED] {
        let mut bytes = hex(PKG1_WBXML);
        let i = bytes.len() - 3; // before Final
        bytes.insert(i, token);
        assert!(
            matches!(decode(&bytes).unwrap_err().kind, ErrorKind::UnsupportedToken(t) if t == token),
            "token {token:#x}"
        );
    }
}

#[test]
fn code_pages_other_than_0_and_1_are_refused() {
    let mut bytes = hex(PKG1_WBXML);
    let i = bytes.len() - 3;
    bytes.splice(i..i, [0x00, 0x02]);
    assert_eq!(
        decode(&bytes).unwrap_err().kind,
        ErrorKind::UnknownCodePage(2)
    );
}

#[test]
fn unknown_tokens_name_page_and_token() {
    let mut bytes = hex(PKG1_WBXML);
    let i = bytes.len() - 3;
    bytes.insert(i, 0x30); // reserved on page 0, no content
    let err = decode(&bytes).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::UnknownElement("token 0x30 on code page 0".into())
    );
    assert_eq!(err.offset, i);
}

#[test]
fn trailing_bytes_after_the_root_are_refused() {
    let mut bytes = hex(PKG1_WBXML);
    bytes.push(0x12);
    assert_eq!(decode(&bytes).unwrap_err().kind, ErrorKind::TrailingData);
    let mut bytes = hex(PKG1_WBXML);
    bytes.push(0x01);
    assert_eq!(decode(&bytes).unwrap_err().kind, ErrorKind::TrailingData);
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let bytes = hex(PKG1_WBXML);
    for len in 0..bytes.len() {
        assert!(decode(&bytes[..len]).is_err(), "prefix of {len} bytes");
    }
}

#[test]
fn opaque_and_string_table_lengths_beyond_the_input_are_errors() {
    let mut bytes = vec![0x02, 0xA4, 0x01, 0x6A, 0x8F, 0xFF, 0xFF, 0x7F];
    assert_eq!(decode(&bytes).unwrap_err().kind, ErrorKind::UnexpectedEof);
    bytes = hex(PKG1_WBXML);
    let at = bytes.windows(2).position(|w| w == [0xC3, 0x14]).unwrap() + 1;
    bytes.splice(at..at + 1, [0x8F, 0xFF, 0xFF, 0x7F]);
    assert_eq!(decode(&bytes).unwrap_err().kind, ErrorKind::UnexpectedEof);
}

#[test]
fn bad_command_is_malformed_when_lenient_and_the_rest_still_decodes() {
    let msg = SyncMl {
        header: SyncHdr::new(
            DmVersion::V1_2,
            "1",
            "1",
            Location::new("d"),
            Location::new("s"),
        ),
        body: SyncBody {
            commands: vec![
                Command::Get(ItemCommand::new("2", vec![Item::target("./a")])),
                Command::Get(ItemCommand::new("3", vec![Item::target("./b")])),
            ],
            is_final: true,
        },
    };
    let mut bytes = wbxml::encode(&msg);
    // Insert an unknown empty tag right after the first Get's CmdID ("2").
    let at = bytes
        .windows(4)
        .position(|w| w == [0x4B, 0x03, b'2', 0x00])
        .unwrap()
        + 5;
    bytes.insert(at, 0x30);
    assert!(decode(&bytes).is_err());
    let lenient = wbxml::decode_lenient(&bytes, &Limits::default()).unwrap();
    let Command::Malformed(m) = &lenient.body.commands[0] else {
        panic!()
    };
    assert_eq!(m.cmd_id.as_deref(), Some("2"));
    assert_eq!(lenient.body.commands[1], msg.body.commands[1]);
    assert!(lenient.body.is_final);
}

#[test]
fn text_that_is_not_utf8_is_refused_at_its_string_whether_whole_or_in_pieces() {
    let good = hex(PKG1_WBXML);
    // SessionID `65 03 "1234" 00 01`: the STR_I token's offset.
    let at = good
        .windows(8)
        .position(|w| w == hex("65 03 31323334 00 01"))
        .unwrap()
        + 1;
    // In one string (`STR_I .. 00 END`).
    let mut whole = good.clone();
    whole[at + 2] = 0xFF;
    let err = decode(&whole).unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::InvalidUtf8, at));
    // In two strings, the second one bad: refused at the second.
    let mut pieces = good[..at].to_vec();
    pieces.extend(hex("03 31 00 03 FF 33 34 00"));
    pieces.extend(&good[at + 6..]);
    let err = decode(&pieces).unwrap_err();
    assert_eq!((err.kind, err.offset), (ErrorKind::InvalidUtf8, at + 3));
    // And good text in two strings is joined.
    let mut joined = good[..at].to_vec();
    joined.extend(hex("03 3132 00 03 3334 00"));
    joined.extend(&good[at + 6..]);
    assert_eq!(decode(&joined).unwrap().header.session_id, "1234");
    // An empty element, `SessionID` with no content (0x25): empty text.
    let mut empty = good[..at - 1].to_vec();
    empty.push(0x25);
    empty.extend(&good[at + 7..]);
    assert_eq!(decode(&empty).unwrap().header.session_id, "");
}

#[test]
fn opaque_data_reads_the_same_alone_or_beside_strings_and_truncated_is_refused() {
    let good = hex(PKG1_WBXML);
    // The Replace's Data: `4F C3 14 <20 octets> 01`.
    let at = good
        .windows(3)
        .position(|w| w == [0x4F, 0xC3, 0x14])
        .unwrap()
        + 1;
    let data = |bytes: &[u8]| -> Option<Data<'static>> {
        let msg = decode(bytes).ok()?.into_owned();
        let Command::Replace(r) = &msg.body.commands[1] else {
            panic!()
        };
        r.items[0].data.clone()
    };
    assert_eq!(
        data(&good),
        Some(Data::Opaque(b"IMEI:493005100592800".to_vec().into()))
    );
    // The same octets in two OPAQUEs, and after a string: joined.
    let mut split = good[..at].to_vec();
    split.extend(hex("C3 04"));
    split.extend(b"IMEI");
    split.extend(hex("C3 10"));
    split.extend(&good[at + 6..]);
    assert_eq!(data(&split), data(&good));
    let mut after_string = good[..at].to_vec();
    after_string.extend(hex("03 494D4549 00 C3 10"));
    after_string.extend(&good[at + 6..]);
    assert_eq!(data(&after_string), data(&good));
    // A length past the end of the input, or a multi-byte length that never ends.
    for cut in [at + 2, at + 10, at + 21] {
        assert!(decode(&good[..cut]).is_err(), "{cut}");
    }
    let mut endless = good[..at + 1].to_vec();
    endless.extend([0xFF; 6]);
    assert!(decode(&endless).is_err());
}

#[test]
fn text_bodies_read_the_same_whether_checked_whole_or_string_by_string() {
    // A body of tags and strings only (valid UTF-8 as a whole), multi-byte text in it; then
    // the same message with one OPAQUE (the body is no longer UTF-8 as a whole).
    let mut msg = pkg1_from_xml();
    msg.header.session_id = "s\u{e9}ssion-\u{4e2d}".into();
    let text_only = wbxml::encode(&msg);
    assert!(std::str::from_utf8(&text_only[4..]).is_ok());
    assert_eq!(decode(&text_only).unwrap(), msg);
    let Command::Replace(r) = &mut msg.body.commands[1] else {
        panic!()
    };
    r.items[0].data = Some(Data::Opaque(vec![0xC3, 0x28, 0xFF].into()));
    let with_opaque = wbxml::encode(&msg);
    assert!(std::str::from_utf8(&with_opaque[4..]).is_err());
    assert_eq!(decode(&with_opaque).unwrap(), msg);
}

#[test]
fn text_is_checked_at_character_boundaries_across_opaque_and_string_table_references() {
    // The header's SessionID and the Source LocURI as STR_T references into a table that
    // holds `s\u{e9}` and `\u{4e2d}x` (`73 C3A9 00 E4B8AD 78 00`).
    let original = hex(PKG1_WBXML);
    let session = hex("65 03 31323334 00 01");
    let imei = [&[0x03][..], b"IMEI:493005100592800", &[0x00]].concat();
    let with_refs = |session_ref: u8, source_ref: u8| {
        let s = original
            .windows(session.len())
            .position(|w| w == session)
            .unwrap();
        let i = original
            .windows(imei.len())
            .position(|w| w == imei)
            .unwrap();
        let mut bytes = vec![0x02, 0xA4, 0x01, 0x6A, 0x09];
        bytes.extend(hex("73 C3A9 00 E4B8AD 78 00"));
        bytes.extend_from_slice(&original[5..s + 1]);
        bytes.extend([0x83, session_ref, 0x01]);
        bytes.extend_from_slice(&original[s + session.len()..i]);
        bytes.extend([0x83, source_ref]);
        bytes.extend_from_slice(&original[i + imei.len()..]);
        bytes
    };
    for (session_ref, source_ref, session_id, source) in [
        (0, 4, "s\u{e9}", "\u{4e2d}x"),
        (4, 0, "\u{4e2d}x", "s\u{e9}"),
    ] {
        let bytes = with_refs(session_ref, source_ref);
        let read = decode(&bytes).unwrap();
        assert_eq!(read.header.session_id, session_id);
        assert_eq!(read.header.source.loc_uri, source);
    }
    // A reference into the middle of a character is refused, whichever string checks the
    // table first; so is one starting on a continuation octet after a good one.
    for (session_ref, source_ref) in [(2, 4), (0, 5), (0, 6), (4, 2)] {
        let err = decode(&with_refs(session_ref, source_ref)).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::InvalidUtf8,
            "{session_ref} {source_ref}"
        );
    }
}
