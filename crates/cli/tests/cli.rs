//! The `omadm convert` and `omadm decode` commands as a user runs them.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// A fresh directory for a test's files, removed with them when dropped.
fn scratch(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir().unwrap()
}

fn omadm(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_omadm"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn sample(name: &str) -> String {
    format!(
        "{}/../../../shared/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Fails with the command's stderr unless it succeeded.
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json(out: &Output) -> serde_json::Value {
    succeeded(out);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn decode_pkg0_json_has_the_documented_fields_and_verifies_the_digest() {
    let v = json(&omadm(
        &[
            "decode",
            "pkg0",
            "--json",
            "--password",
            "srvpwd",
            &sample("pkg0_v12.bin"),
        ],
        None,
    ));
    assert_eq!(v["version"], 12);
    assert_eq!(v["ui_mode"], 1);
    assert_eq!(v["initiator"], 1);
    assert_eq!(v["session_id"], 0x1234);
    assert_eq!(v["session_id_hex"], "1234");
    assert_eq!(v["server_id"], "funambol");
    assert_eq!(v["digest"], "96e1bf8e36768b84086f1187bd2a9240");
    assert_eq!(v["digest_valid"], true);
}

#[test]
fn decode_pkg0_reports_a_bad_digest() {
    let v = json(&omadm(
        &[
            "decode",
            "pkg0",
            "--json",
            "--password",
            "srvpwd",
            &sample("pkg0_v11_baddigest.bin"),
        ],
        None,
    ));
    assert_eq!(v["version"], 11);
    assert_eq!(v["digest_valid"], false);
    let v = json(&omadm(
        &[
            "decode",
            "pkg0",
            "--json",
            "--password",
            "srvpwd",
            &sample("pkg0_v11.bin"),
        ],
        None,
    ));
    assert_eq!(v["digest_valid"], true);
}

#[test]
fn decode_pkg0_without_password_has_no_verdict() {
    let v = json(&omadm(
        &["decode", "pkg0", "--json", &sample("pkg0_v11.bin")],
        None,
    ));
    assert!(v.get("digest_valid").is_none());
}

#[test]
fn decode_pkg0_reads_hex_from_stdin_with_a_nonce() {
    let hex =
        b"4e94c58c36a8c50aabcdbe0c296b2ba7 02d0000000123412 636f6d2e6d676d747372762e6d616e616765\n";
    let v = json(&omadm(
        &[
            "decode",
            "pkg0",
            "--hex",
            "--json",
            "--password",
            "secret",
            "--nonce-hex",
            "00000000",
            "-",
        ],
        Some(hex),
    ));
    assert_eq!(v["server_id"], "com.mgmtsrv.manage");
    assert_eq!(v["initiator"], 0);
    assert_eq!(v["digest_valid"], true);
    let v = json(&omadm(
        &[
            "decode",
            "pkg0",
            "--hex",
            "--json",
            "--password",
            "secret",
            "--nonce",
            "nonce123",
        ],
        Some(hex),
    ));
    assert_eq!(v["digest_valid"], false);
}

#[test]
fn decode_pkg0_of_garbage_fails_with_a_clear_message() {
    let out = omadm(&["decode", "pkg0", "-"], Some(b"short"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated"));
}

#[test]
fn convert_xml_to_wbxml_and_back_keeps_the_message() {
    let wbxml = omadm(
        &["convert", "--to", "wbxml", &sample("pkg2_mixed.xml")],
        None,
    );
    assert!(wbxml.status.success());
    assert_eq!(&wbxml.stdout[..3], [0x02, 0xA4, 0x01]);
    let xml = omadm(&["convert", "--to", "xml", "-"], Some(&wbxml.stdout));
    assert!(xml.status.success());
    let original = std::fs::read(sample("pkg2_mixed.xml")).unwrap();
    assert_eq!(
        String::from_utf8(xml.stdout).unwrap(),
        String::from_utf8(original).unwrap().trim_end()
    );
}

#[test]
fn convert_reports_the_offset_of_a_bad_element() {
    let out = omadm(
        &["convert", "--to", "wbxml", "-"],
        Some(b"<SyncML xmlns=\"SYNCML:SYNCML1.2\"><Nope/></SyncML>"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("<Nope>") && err.contains("at byte 33"),
        "{err}"
    );
}

#[test]
fn decode_syncml_json_names_commands() {
    let v = json(&omadm(
        &["decode", "syncml", "--json", &sample("pkg2_mixed.wbxml")],
        None,
    ));
    assert_eq!(v["encoding"], "wbxml");
    assert_eq!(v["header"]["session_id"], "1");
    let cmds: Vec<&str> = v["body"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cmd"].as_str().unwrap())
        .collect();
    assert_eq!(
        cmds,
        ["Status", "Get", "Add", "Replace", "Get", "Get", "Delete", "Exec", "Get"]
    );
}

#[test]
fn decode_syncml_prints_indented_xml() {
    let out = omadm(&["decode", "syncml", &sample("pkg2_mixed.wbxml")], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\n    <VerDTD>1.2</VerDTD>"), "{text}");
    assert!(text.contains("<Data>hello</Data>"));
}

#[test]
fn decode_syncml_hex_input() {
    let bytes = std::fs::read(sample("pkg2_mixed.wbxml")).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02X} ")).collect();
    let v = json(&omadm(
        &["decode", "syncml", "--hex", "--json"],
        Some(hex.as_bytes()),
    ));
    assert_eq!(v["encoding"], "wbxml");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(omadm(&["convert"], None).status.code(), Some(2));
    assert_eq!(omadm(&["decode", "bogus"], None).status.code(), Some(2));
}

#[test]
fn respond_answers_each_server_message_with_statuses() {
    let out = omadm(
        &[
            "respond",
            "--memory-csp",
            "./Vendor/memory",
            "--exec-node",
            "./test/execute",
            &sample("pkg2_mixed.xml"),
        ],
        None,
    );
    succeeded(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    let v = json(&omadm(
        &["decode", "syncml", "--json", "-"],
        Some(text.as_bytes()),
    ));
    let codes: Vec<(String, String)> = v["body"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cmd"] == "Status")
        .map(|c| {
            (
                c["cmd_ref"].as_str().unwrap().to_owned(),
                c["data"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let code = |r: &str| codes.iter().find(|(c, _)| c == r).map(|(_, d)| d.as_str());
    assert_eq!(code("3"), Some("200"), "Add into the memory CSP");
    assert_eq!(code("9"), Some("200"), "Exec of the no-op node");
    assert_eq!(code("10"), Some("404"), "no such account on this device");
}

#[test]
fn respond_in_wbxml_and_with_package1_to_a_directory() {
    let scratch = scratch("omadm-respond-");
    let dir = scratch.path().join("replies");
    let out = omadm(
        &[
            "respond",
            "--encoding",
            "wbxml",
            "--with-package1",
            "--memory-csp",
            "./Vendor/memory",
            "--out",
            dir.to_str().unwrap(),
            &sample("pkg2_80cmds.wbxml"),
        ],
        None,
    );
    succeeded(&out);
    let pkg1 = std::fs::read(dir.join("1.wbxml")).unwrap();
    let reply = std::fs::read(dir.join("2.wbxml")).unwrap();
    assert_eq!(&pkg1[..3], [0x02, 0xA4, 0x01]);
    let v = json(&omadm(&["decode", "syncml", "--json", "-"], Some(&reply)));
    let statuses = v["body"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cmd"] == "Status")
        .count();
    assert_eq!(statuses, 81, "the header and 80 commands");
}

#[test]
fn respond_requires_server_credentials_when_asked() {
    let out = omadm(
        &[
            "respond",
            "--server-password",
            "srvpwd",
            "--memory-csp",
            "./Vendor/memory",
            &sample("pkg2_mixed.xml"),
        ],
        None,
    );
    assert!(out.status.success());
    let v = json(&omadm(
        &["decode", "syncml", "--json", "-"],
        Some(&out.stdout),
    ));
    let first = &v["body"]["commands"][0];
    assert_eq!(first["data"], "407");
    assert!(first["chal"].is_object());
}

#[test]
fn bench_dpu_reports_latencies() {
    let out = omadm(
        &[
            "bench",
            "dpu",
            "--iterations",
            "20",
            &sample("pkg2_mixed.xml"),
        ],
        None,
    );
    succeeded(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("p50:") && text.contains("p99:"), "{text}");
}

#[test]
fn push_build_then_decode_sms_wsp_and_cdma() {
    let scratch = scratch("omadm-push-build-");
    for (bearer, kind) in [("gsm", "sms"), ("cdma", "cdma-sms"), ("udp", "wsp")] {
        let out_dir = scratch.path().join(bearer);
        let out = omadm(
            &[
                "push",
                "build",
                "--bearer",
                bearer,
                "--server-id",
                "srv",
                "--password",
                "pw",
                "--nonce",
                "n",
                "--session-id",
                "0x1234",
                "--ui-mode",
                "informative",
                "--out",
                out_dir.to_str().unwrap(),
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let first = out_dir.join("1.bin");
        let v = json(&omadm(
            &["decode", kind, "--json", first.to_str().unwrap()],
            None,
        ));
        let wsp = if kind == "wsp" { &v } else { &v["wsp"] };
        assert_eq!(
            wsp["content_type"], "application/vnd.syncml.notification",
            "{bearer}"
        );
        assert_eq!(wsp["app_id"], "x-wap-application:syncml.dm");
        let n = &wsp["notification"];
        assert_eq!(
            (
                n["server_id"].as_str(),
                n["session_id"].as_u64(),
                n["ui_mode"].as_u64()
            ),
            (Some("srv"), Some(0x1234), Some(2))
        );
        let body = wsp["body"].as_str().unwrap();
        let pkg0 = omadm(
            &[
                "decode",
                "pkg0",
                "--hex",
                "--json",
                "--password",
                "pw",
                "--nonce",
                "n",
            ],
            Some(body.as_bytes()),
        );
        assert_eq!(json(&pkg0)["digest_valid"], true, "{bearer}");
    }
}

#[test]
fn push_build_bootstrap_gives_a_w7_account_signed_with_the_pin() {
    let scratch = scratch("omadm-push-bootstrap-");
    let dir = scratch.path().join("out");
    let out = omadm(
        &[
            "push",
            "build",
            "--bearer",
            "udp",
            "--bootstrap",
            "--server-id",
            "srv",
            "--password",
            "pw",
            "--url",
            "https://dm.example/",
            "--pin",
            "2468",
            "--device-name",
            "dev",
            "--device-password",
            "dev-pw",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    succeeded(&out);
    let first = dir.join("1.bin");
    let v = json(&omadm(
        &[
            "decode",
            "cp",
            "--json",
            "--pin",
            "2468",
            first.to_str().unwrap(),
        ],
        None,
    ));
    assert_eq!(v["mac_valid"], true);
    let a = &v["w7_accounts"][0];
    assert_eq!(
        (a["server_id"].as_str(), a["addr"].as_str()),
        (Some("srv"), Some("https://dm.example/"))
    );
    assert_eq!(a["client_auth"]["name"], "dev");
    let wrong = json(&omadm(
        &[
            "decode",
            "cp",
            "--json",
            "--pin",
            "1111",
            first.to_str().unwrap(),
        ],
        None,
    ));
    assert_eq!(wrong["mac_valid"], false);
    let missing = omadm(
        &[
            "push",
            "build",
            "--bearer",
            "gsm",
            "--bootstrap",
            "--server-id",
            "srv",
            "--password",
            "pw",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        missing.status.code(),
        Some(2),
        "--bootstrap needs --url, --pin and the device credentials"
    );
}

#[test]
fn decode_sms_of_the_spec_vector_with_its_smsc() {
    let hex = "0791447758100650440B912143658709F100F542105101030000370605040B8423F0010603C4AF874E94C58C36A8C50AABCDBE0C296B2BA702D0000000123412636F6D2E6D676D747372762E6D616E616765";
    let v = json(&omadm(
        &["decode", "sms", "--hex", "--json"],
        Some(hex.as_bytes()),
    ));
    assert_eq!(v["smsc"], "+447785016005");
    assert_eq!(v["originator"], "+12345678901");
    assert_eq!(v["ports"]["destination"], 2948);
    assert_eq!(v["wsp"]["notification"]["server_id"], "com.mgmtsrv.manage");
}

#[test]
fn push_build_splits_long_notifications_and_refuses_bad_arguments() {
    let scratch = scratch("omadm-push-bad-");
    let dir = scratch.path().join("out");
    let bad = omadm(
        &[
            "push",
            "build",
            "--bearer",
            "gsm",
            "--server-id",
            "s",
            "--password",
            "p",
            "--session-id",
            "70000",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("session-id"));
    let long_id = "x".repeat(200);
    let ok = omadm(
        &[
            "push",
            "build",
            "--bearer",
            "gsm",
            "--server-id",
            &long_id,
            "--password",
            "p",
            "--session-id",
            "1",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok.status.success());
    assert!(
        dir.join("2.bin").exists(),
        "a 200-octet server id needs two segments"
    );
}

#[test]
fn decode_cp_verifies_the_mac_and_lists_w7_accounts_without_secrets() {
    let doc: String = "030b6a00c54601c600015501873600000603773700018700013800000603646d736572766572000187070603444d205365727665720001c60001560187340000060368747470733a2f2f646d2e6578616d706c652e636f6d2f646d0001c653018723060334343300010101c600015701873000000600018d01873300000600019301873100000603636c69656e746e616d6500018700013200000603636c69656e747077000101c600015701873000000603434c49454e5400018700013300000600019301873100000603646d7365727665720001870001320000060373657276657270770001010101".into();
    let mac_hex: String = b"3C5077C457BBD9FF86C33237B876419A981627B4"
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let push = format!("01062F1F2DB6918192{mac_hex}00{doc}");
    let v = json(&omadm(
        &["decode", "cp", "--hex", "--json", "--pin", "1234"],
        Some(push.as_bytes()),
    ));
    assert_eq!(v["sec"], 1);
    assert_eq!(v["mac_valid"], true);
    assert_eq!(v["w7_accounts"][0]["server_id"], "dmserver");
    let text = serde_json::to_string(&v).unwrap();
    assert!(
        !text.contains("clientpw") && !text.contains("serverpw"),
        "secrets are not printed"
    );
    let v = json(&omadm(
        &["decode", "cp", "--hex", "--json", "--pin", "9999"],
        Some(push.as_bytes()),
    ));
    assert_eq!(v["mac_valid"], false);
    let v = json(&omadm(
        &["decode", "cp", "--hex", "--json"],
        Some(doc.as_bytes()),
    ));
    assert_eq!(v["w7_accounts"][0]["port"], 443);
}

// ---- Issue 12.7 and 12.9: printable, bounded, unforgeable output -------------------------

const HDR: &str = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>d</LocURI></Target><Source><LocURI>s</LocURI></Source></SyncHdr><SyncBody>"#;

fn message(body: &[u8]) -> Vec<u8> {
    let mut m = HDR.as_bytes().to_vec();
    m.extend_from_slice(body);
    m.extend_from_slice(b"</SyncBody></SyncML>");
    m
}

/// Nothing in `bytes` a terminal would act on: no control character but the line feeds
/// ending lines, valid UTF-8.
fn printable_output(bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).expect("UTF-8 output");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "control characters in {text:?}"
    );
}

#[test]
fn errors_escape_control_characters_and_cut_long_input() {
    // Fails on the code before issue 12: the escape sequence reached the terminal, and a
    // 10 MB element name made a 10 MB error line.
    let out = omadm(
        &["decode", "syncml", "-"],
        Some(&message(b"<Al\x1b[31mert/>")),
    );
    printable_output(&out.stderr);
    printable_output(&out.stdout);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Al\\x1b[31mert"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = omadm(
        &["convert", "--to", "wbxml", "-"],
        Some(&message(b"<Al\x1b[31mert/>")),
    );
    assert_eq!(out.status.code(), Some(1));
    printable_output(&out.stderr);
    let long = format!("<{}/>", "x".repeat(10 * 1024 * 1024));
    let out = omadm(
        &["convert", "--to", "wbxml", "-"],
        Some(&message(long.as_bytes())),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.len() < 1000, "{} octets", out.stderr.len());
    printable_output(&out.stderr);
}

#[test]
fn an_unescaped_ampersand_and_a_nul_are_named_where_they_are() {
    let input = message(b"<Alert><CmdID>1</CmdID><Data>a & b</Data></Alert>");
    let at = input.iter().position(|&b| b == b'&').unwrap();
    let out = omadm(&["decode", "syncml", "-"], Some(&input));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("unescaped '&' in <Data> at byte {at}")),
        "{err}"
    );
    let input = message(b"<Alert><CmdID>1</CmdID><Data>a\0b</Data></Alert>");
    let at = input.iter().position(|&b| b == 0).unwrap();
    let out = omadm(&["decode", "syncml", "-"], Some(&input));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("at byte {at}")), "{err}");
}

#[test]
fn a_package0_server_id_cannot_forge_a_line() {
    // Fails on the code before issue 12: the server id's line break printed a second,
    // forged "digest_valid: true" line.
    let n = omadm_syncml::notification::Notification {
        version: 12,
        ui_mode: omadm_syncml::notification::UiMode::Background,
        initiator: omadm_syncml::notification::Initiator::Server,
        session_id: 1,
        server_id: "evil\ndigest_valid:    true".into(),
        vendor_specific: vec![],
    };
    let pkg0 = n.encode("pw", b"");
    let out = omadm(&["decode", "pkg0", "--password", "other", "-"], Some(&pkg0));
    succeeded(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("digest_valid"))
            .collect::<Vec<_>>(),
        ["digest_valid:    false"],
        "{text}"
    );
    printable_output(&out.stdout);
}

#[test]
fn decode_syncml_text_shows_commands_it_could_not_decode() {
    // Fails on the code before issue 12: the text output left the command out.
    let out = omadm(
        &["decode", "syncml", "-"],
        Some(&message(
            b"<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Get><CmdID>2</CmdID></Get><Final/>",
        )),
    );
    succeeded(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("<Alert>"), "{text}");
    assert!(
        text.contains("not decoded: <Get> (CmdID 2)"),
        "the malformed Get is shown in place: {text}"
    );
    printable_output(&out.stdout);
}
