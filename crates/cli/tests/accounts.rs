//! Issue 14 as a user meets it: `omadm account`, `omadm session`, `omadm tree`, `omadm agent
//! --config`, the state-directory lock, `--once`, TLS client certificates and plain HTTP,
//! against the reference server playing a lax peer (no server credentials, WBXML).

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn omadm(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("OMADM_LOG", "warn")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn state(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

/// `omadm account add` of a lax server's account: MD5 device credentials, no server ones.
fn add_lax(dir: &Path, url: &str, encoding: &str) {
    ok(omadm(&[
        "account",
        "add",
        "--state",
        state(dir),
        "--server-id",
        "lax",
        "--url",
        url,
        "--client-auth",
        "md5",
        "--client-name",
        "dev",
        "--client-secret",
        "dev-secret",
        "--server-auth",
        "none",
        "--encoding",
        encoding,
    ]));
}

#[test]
fn accounts_are_added_listed_shown_changed_and_removed() {
    let d = dir("acc-crud");
    ok(omadm(&[
        "account",
        "add",
        "--state",
        state(&d),
        "--server-id",
        "corp",
        "--name",
        "Corp MDM",
        "--url",
        "https://mdm.example.com/dm",
        "--port",
        "443",
        "--client-auth",
        "hmac",
        "--client-name",
        "dev-7",
        "--client-secret",
        "c-secret",
        "--server-auth",
        "md5",
        "--server-name",
        "corp",
        "--server-secret",
        "s-secret",
        "--encoding",
        "wbxml",
        "--protocol",
        "1.1.2",
        "--conn-retry-freq",
        "5",
        "--initial-backoff",
        "1000",
        "--max-backoff",
        "60000",
        "--back-compat-retry-disabled",
        "true",
        "--roles",
        "enterprise,manager",
    ]));
    let list: serde_json::Value = serde_json::from_str(&ok(omadm(&[
        "account",
        "list",
        "--state",
        state(&d),
        "--json",
    ])))
    .unwrap();
    let a = &list[0];
    assert_eq!(a["server_id"], "corp");
    assert_eq!(a["name"], "Corp MDM");
    assert_eq!(a["url"], "https://mdm.example.com/dm");
    assert_eq!(a["port"], 443);
    assert_eq!(a["client_credentials"]["auth_type"], "HMAC");
    assert_eq!(a["client_credentials"]["secret"], "(set)");
    assert_eq!(a["server_credentials"]["auth_type"], "DIGEST");
    assert_eq!(a["encoding"], "wbxml");
    assert_eq!(a["protocol"], "1.1.2");
    assert_eq!(a["conn_retry_freq"], 5);
    assert_eq!(a["initial_backoff_ms"], 1000);
    assert_eq!(a["max_backoff_ms"], 60000);
    assert_eq!(a["back_compat_retry_disabled"], true);
    assert!(a["roles"].as_str().unwrap().contains("enterprise"));
    let shown = ok(omadm(&[
        "account",
        "show",
        "--state",
        state(&d),
        "--server-id",
        "corp",
    ]));
    assert!(shown.contains("(set)"), "{shown}");
    assert!(
        !shown.contains("c-secret") && !shown.contains("s-secret"),
        "{shown}"
    );
    ok(omadm(&[
        "account",
        "set",
        "--state",
        state(&d),
        "--server-id",
        "corp",
        "--url",
        "https://mdm2.example.com/dm",
        "--encoding",
        "xml",
        "--server-auth",
        "none",
    ]));
    let a: serde_json::Value = serde_json::from_str(&ok(omadm(&[
        "account",
        "show",
        "--state",
        state(&d),
        "--server-id",
        "corp",
        "--json",
    ])))
    .unwrap();
    assert_eq!(a["url"], "https://mdm2.example.com/dm");
    assert_eq!(a["encoding"], "xml");
    assert!(a["server_credentials"].is_null());
    assert_eq!(a["client_credentials"]["secret"], "(set)", "kept");
    ok(omadm(&[
        "account",
        "remove",
        "--state",
        state(&d),
        "--server-id",
        "corp",
    ]));
    assert_eq!(ok(omadm(&["account", "list", "--state", state(&d)])), "");
}

#[test]
fn bad_account_input_is_refused_clearly_and_changes_nothing() {
    let d = dir("acc-bad");
    add_lax(&d, "https://127.0.0.1:1/dm", "xml");
    let before = ok(omadm(&["account", "list", "--state", state(&d), "--json"]));
    // (command, its arguments after --state DIR, exit status, what the message names)
    let refusals: [(&str, &[&str], i32, &str); 5] = [
        ("add", &["--server-id", "x", "--colour", "red"], 2, ""),
        (
            "add",
            &["--server-id", "x", "--url", "ftp://x/dm"],
            1,
            "bad URL",
        ),
        (
            "add",
            &["--server-id", "lax", "--url", "https://other/dm"],
            1,
            "exists already",
        ),
        (
            "set",
            &["--server-id", "lax", "--roles", "wizard"],
            1,
            "wizard",
        ),
        (
            "set",
            &["--server-id", "nobody", "--name", "x"],
            1,
            "no account",
        ),
    ];
    for (command, rest, status, names) in refusals {
        let mut args = vec!["account", command, "--state", state(&d)];
        args.extend_from_slice(rest);
        let out = omadm(&args);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(names), "{args:?}: {}", text(&out));
    }
    assert_eq!(
        ok(omadm(&["account", "list", "--state", state(&d), "--json"])),
        before
    );
}

/// The account `omadm account add` writes and the one a w7 bootstrap writes are the same
/// bytes in the store: one code path.
#[test]
fn an_account_added_by_the_cli_is_the_bytes_a_bootstrap_writes() {
    let (cli, boot) = (dir("acc-same-cli"), dir("acc-same-boot"));
    ok(omadm(&[
        "account",
        "add",
        "--state",
        state(&cli),
        "--server-id",
        "dm.example.com",
        "--name",
        "Example DM",
        "--url",
        "https://dm.example.com/dm",
        "--client-auth",
        "md5",
        "--client-name",
        "dev",
        "--client-secret",
        "dev-pw",
        "--server-auth",
        "md5",
        "--server-name",
        "dm.example.com",
        "--server-secret",
        "srv-pw",
        "--roles",
        "user-auth",
    ]));
    // The same account as a w7 document, applied as the agent applies a bootstrap.
    let account = omadm_csp::DmAccount {
        app_id: "w7".into(),
        server_id: "dm.example.com".into(),
        name: "Example DM".into(),
        addr: "https://dm.example.com/dm".into(),
        addr_type: "URI".into(),
        client: Some(omadm_csp::AuthCreds {
            auth_type: "DIGEST".into(),
            name: "dev".into(),
            secret: "dev-pw".into(),
            data: vec![],
        }),
        server: Some(omadm_csp::AuthCreds {
            auth_type: "DIGEST".into(),
            name: "dm.example.com".into(),
            secret: "srv-pw".into(),
            data: vec![],
        }),
        ..omadm_csp::DmAccount::default()
    };
    let app = omadm_push::cp::w7_application(&account);
    let doc = omadm_push::cp::encode(&omadm_push::cp::Characteristic {
        type_: "wap-provisioningdoc".into(),
        parms: vec![],
        children: vec![app],
    });
    let decoded = omadm_push::cp::decode(&doc).unwrap();
    let accounts: Vec<_> = decoded
        .children
        .iter()
        .filter_map(omadm_push::cp::w7_account)
        .collect();
    let store = omadm_csp::AccountStore::open(Box::new(
        omadm_cm::FileStorage::open(boot.join("accounts")).unwrap(),
    ))
    .unwrap();
    store
        .create_all(&accounts, omadm_cm::roles::USER_AUTH)
        .unwrap();
    drop(store);
    let read = |d: &Path| std::fs::read(d.join("accounts/tree.journal")).unwrap();
    assert_eq!(read(&cli), read(&boot));
}

#[test]
fn a_second_agent_on_a_state_directory_is_refused_with_the_holders_pid() {
    let d = dir("acc-lock");
    let (first, mut out) = spawn_agent(&d, &["--push-udp", "127.0.0.1:0"]);
    line_after(&mut out, "push port udp ");
    let pid = first.0.id().to_string();
    for args in [
        vec!["agent", "--state", state(&d)],
        vec!["account", "list", "--state", state(&d)],
        vec!["session", "--state", state(&d), "--server-id", "x"],
    ] {
        let second = omadm(&args);
        assert_eq!(second.status.code(), Some(1), "{args:?}: {}", text(&second));
        let t = text(&second);
        assert!(t.contains("in use") && t.contains(&pid), "{args:?}: {t}");
    }
    // The tree can be read meanwhile (no lock).
    ok(omadm(&["tree", "list", "--state", state(&d), "./DevInfo"]));
    // A lock left by a crash (SIGKILL) does not block.
    drop(first);
    ok(omadm(&["account", "list", "--state", state(&d)]));
}

#[test]
fn once_exits_at_once_on_a_refused_url_with_a_one_line_reason() {
    let d = dir("acc-once");
    add_lax(&d, "http://127.0.0.1:9/dm", "xml");
    let started = Instant::now();
    let out = omadm(&[
        "session",
        "--state",
        state(&d),
        "--server-id",
        "lax",
        "--once",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(11), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-plain-http"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("omadm:")).count(),
        1,
        "{err}"
    );
    // A server that is not there: a network failure, not retried with --once.
    ok(omadm(&[
        "account",
        "set",
        "--state",
        state(&d),
        "--server-id",
        "lax",
        "--url",
        "https://127.0.0.1:9/dm",
    ]));
    let started = Instant::now();
    let out = omadm(&[
        "session",
        "--state",
        state(&d),
        "--server-id",
        "lax",
        "--once",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    // The agent too, with an alert to send.
    let started = Instant::now();
    let out = omadm(&[
        "agent",
        "--state",
        state(&d),
        "--once",
        "--alert-to",
        "lax",
        "--alert-type",
        "t",
        "--alert-data",
        "1",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    // No account: 7.
    let out = omadm(&[
        "session",
        "--state",
        state(&d),
        "--server-id",
        "nobody",
        "--once",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
}

/// A lax reference server (no server credentials) on `port`, speaking `encoding`; its stdout
/// is kept open with it (it exits when its stdout closes).
fn lax_server(
    srv: &Path,
    dev_id: &str,
    encoding: &str,
    extra: &[&str],
) -> (
    (Killed, std::io::BufReader<std::process::ChildStdout>),
    String,
) {
    let jobs = srv.join("jobs");
    std::fs::write(&jobs, "Add ./Vendor/lax/setting on\nGet ./DevInfo/Man\n").unwrap();
    let mut args = vec![
        "--server-id",
        "lax",
        "--server-auth",
        "none",
        "--encoding",
        encoding,
        "--jobs",
        jobs.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (server, mut sout) = start_server("127.0.0.1:0", srv, dev_id, &args);
    let url = line_after(&mut sout, "listening on ");
    ((server, sout), url)
}

#[test]
fn a_session_with_a_lax_server_completes_in_xml_and_wbxml() {
    for encoding in ["xml", "wbxml"] {
        let (d, srv) = (
            dir(&format!("acc-lax-{encoding}")),
            dir(&format!("acc-laxsrv-{encoding}")),
        );
        let dev_id = device_id(&d);
        let (server, url) = lax_server(&srv, &dev_id, encoding, &[]);
        add_lax(&d, &url, encoding);
        let cert = srv.join("cert.pem");
        let trace = d.join("trace");
        let out = omadm(&[
            "session",
            "--state",
            state(&d),
            "--server-id",
            "lax",
            "--once",
            "--no-system-store",
            "--trust",
            cert.to_str().unwrap(),
            "--trace",
            trace.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{encoding}: {}", text(&out));
        assert!(text(&out).contains("ended: Completed"), "{}", text(&out));
        let records = std::fs::read_to_string(srv.join("records.tsv")).unwrap();
        assert!(
            records.contains("Add ./Vendor/lax/setting\t200"),
            "{records}"
        );
        // The trace shows the exchange; tree shows what the device now holds.
        let shown = ok(omadm(&["trace", trace.to_str().unwrap()]));
        assert!(shown.contains("./Vendor/lax/setting"), "{shown}");
        let value = ok(omadm(&[
            "tree",
            "get",
            "--state",
            state(&d),
            "./Vendor/lax/setting",
        ]));
        assert_eq!(value.trim(), "on");
        let listed = ok(omadm(&["tree", "list", "--state", state(&d), "./DMAcc"]));
        assert!(listed.contains("/ServerID = lax"), "{listed}");
        assert!(
            listed.contains("AAuthSecret = (secret, not shown)"),
            "{listed}"
        );
        assert!(!listed.contains("dev-secret"), "{listed}");
        drop(server);
    }
}

#[test]
fn the_configuration_file_has_a_key_for_every_option_and_the_command_line_wins() {
    let (d, srv) = (dir("acc-config"), dir("acc-configsrv"));
    let dev_id = device_id(&d);
    let (server, url) = lax_server(&srv, &dev_id, "xml", &[]);
    add_lax(&d, &url, "xml");
    let config = d.join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "state = {:?}\ntrust = [{:?}]\nno_system_store = true\nmax_msg_size = 16384\nonce = true\n",
            d.display().to_string(),
            srv.join("cert.pem").display().to_string()
        ),
    )
    .unwrap();
    ok(omadm(&[
        "session",
        "--config",
        config.to_str().unwrap(),
        "--server-id",
        "lax",
    ]));
    // The command line wins: a --state that has no such account.
    let other = dir("acc-config-other");
    let out = omadm(&[
        "session",
        "--config",
        config.to_str().unwrap(),
        "--state",
        state(&other),
        "--server-id",
        "lax",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    // Unknown keys are errors.
    std::fs::write(&config, "state = \"x\"\ncolour = \"red\"\n").unwrap();
    let out = omadm(&["agent", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("colour"), "{}", text(&out));
    // The repository's commented example parses, every key in it.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/agent.toml");
    let text_of_example = std::fs::read_to_string(example).unwrap();
    let uncommented: String = text_of_example
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .filter(|r| r.contains(" = "))
                .unwrap_or(l)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let full = d.join("example.toml");
    std::fs::write(&full, uncommented.replace("/var/lib/omadm", state(&other))).unwrap();
    let out = omadm(&["agent", "--config", full.to_str().unwrap(), "--help"]);
    assert!(out.status.success());
    let out = omadm(&[
        "session",
        "--config",
        full.to_str().unwrap(),
        "--server-id",
        "nobody",
    ]);
    // Every key was accepted: it got as far as looking for the account.
    assert!(matches!(out.status.code(), Some(1 | 7)), "{}", text(&out));
    drop(server);
}

/// A CA, and a client certificate and key it signed (PEM), written to `dir`.
fn client_pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::{X509NameBuilder, X509};
    let key = || {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    };
    let name = |cn: &str| {
        let mut n = X509NameBuilder::new().unwrap();
        n.append_entry_by_text("CN", cn).unwrap();
        n.build()
    };
    let (ca_key, dev_key) = (key(), key());
    let build =
        |subject: &str, issuer: &str, pubkey: &PKey<openssl::pkey::Private>, serial: u32| {
            let mut b = X509::builder().unwrap();
            b.set_version(2).unwrap();
            b.set_serial_number(
                &openssl::bn::BigNum::from_u32(serial)
                    .unwrap()
                    .to_asn1_integer()
                    .unwrap(),
            )
            .unwrap();
            b.set_subject_name(&name(subject)).unwrap();
            b.set_issuer_name(&name(issuer)).unwrap();
            b.set_pubkey(pubkey).unwrap();
            b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
                .unwrap();
            b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
                .unwrap();
            if serial == 1 {
                b.append_extension(
                    openssl::x509::extension::BasicConstraints::new()
                        .critical()
                        .ca()
                        .build()
                        .unwrap(),
                )
                .unwrap();
            }
            b.sign(&ca_key, MessageDigest::sha256()).unwrap();
            b.build()
        };
    let ca = build("omadm test device CA", "omadm test device CA", &ca_key, 1);
    let dev = build("device-42.example", "omadm test device CA", &dev_key, 2);
    let (ca_path, cert_path, key_path) =
        (dir.join("ca.pem"), dir.join("dev.pem"), dir.join("dev.key"));
    std::fs::write(&ca_path, ca.to_pem().unwrap()).unwrap();
    std::fs::write(&cert_path, dev.to_pem().unwrap()).unwrap();
    std::fs::write(&key_path, dev_key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (ca_path, cert_path, key_path)
}

#[test]
fn a_server_requiring_client_certificates_gets_one_and_records_its_subject() {
    let (d, srv, pki) = (dir("acc-cc"), dir("acc-ccsrv"), dir("acc-ccpki"));
    let (ca, cert, key) = client_pki(&pki);
    let dev_id = device_id(&d);
    let (server, url) = lax_server(&srv, &dev_id, "xml", &["--client-ca", ca.to_str().unwrap()]);
    add_lax(&d, &url, "xml");
    let trust = srv.join("cert.pem");
    let session = |extra: &[&str]| {
        let mut args = vec![
            "session",
            "--state",
            state(&d),
            "--server-id",
            "lax",
            "--once",
            "--no-system-store",
            "--trust",
            trust.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        omadm(&args)
    };
    // Without a certificate: the TLS handshake fails.
    let out = session(&[]);
    assert_eq!(out.status.code(), Some(8), "{}", text(&out));
    // With one (the agent's).
    ok(session(&[
        "--client-cert",
        cert.to_str().unwrap(),
        "--client-key",
        key.to_str().unwrap(),
    ]));
    let records = std::fs::read_to_string(srv.join("records.tsv")).unwrap();
    assert!(
        records.contains("\tClientCert\tsubject\t\tCN=device-42.example"),
        "{records}"
    );
    // With one set on the account instead.
    ok(omadm(&[
        "account",
        "set",
        "--state",
        state(&d),
        "--server-id",
        "lax",
        "--client-cert",
        cert.to_str().unwrap(),
        "--client-key",
        key.to_str().unwrap(),
    ]));
    ok(session(&[]));
    // A key others can read is refused.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = session(&[]);
    assert_eq!(out.status.code(), Some(12), "{}", text(&out));
    assert!(text(&out).contains("chmod 600"), "{}", text(&out));
    drop(server);
}

#[test]
fn plain_http_goes_out_only_when_the_agent_allows_it_and_the_account_does_not_refuse() {
    let d = dir("acc-plain");
    add_lax(&d, "http://127.0.0.1:9/dm", "xml");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "session",
            "--state",
            state(&d),
            "--server-id",
            "lax",
            "--once",
        ];
        args.extend_from_slice(extra);
        omadm(&args).status.code()
    };
    assert_eq!(run(&[]), Some(11), "refused by default");
    assert_eq!(
        run(&["--allow-plain-http"]),
        Some(9),
        "allowed: it tries (nobody listens)"
    );
    ok(omadm(&[
        "account",
        "set",
        "--state",
        state(&d),
        "--server-id",
        "lax",
        "--plain-http",
        "refuse",
    ]));
    assert_eq!(
        run(&["--allow-plain-http"]),
        Some(11),
        "the account refuses"
    );
}
