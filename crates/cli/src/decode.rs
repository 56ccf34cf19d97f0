//! `omadm decode syncml|pkg0 [--hex] [--json] [--password PW] [--nonce N] [FILE|-]`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use omadm_syncml::notification::Package0;
use omadm_syncml::{decode_lenient, xml, Limits};

use crate::input::{decode_hex, read_input, to_hex};
use crate::json;

/// What the input is.
#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    /// A SyncML DM message, XML or WBXML (detected).
    Syncml,
    /// A package #0 notification (DM Notification 1.2 / 1.1.2).
    Pkg0,
    /// A GSM SMS-DELIVER TPDU (an SMSC address in front is recognised).
    Sms,
    /// A CDMA SMS transport-layer message (IS-637, WAP teleservice).
    CdmaSms,
    /// A WSP connectionless push PDU.
    Wsp,
    /// An OMA Client Provisioning document (WBXML), alone or in its WSP push.
    Cp,
}

/// Arguments of `decode`.
#[derive(Args)]
#[command(after_help = "JSON output (--json), stable field names:
  sms:    smsc (when present), originator, originator_ton, originator_npi, pid, dcs, timestamp,
          udh [{iei, data}], ports {destination, origin}, concat {reference, total, seq},
          user_data_len, user_data (hex), and for an unsegmented push to port 2948: wsp {...}.
  cdma-sms: teleservice, originator, message_id, total_segments, segment, ports {source,
          destination}, payload_len, payload (hex), wsp {...} for a one-segment push.
  wsp:    tid, pdu_type, content_type, sec, mac, params, app_id (URN), app_id_code,
          initiator_uri, content_location, push_flag, body_len, body (hex), and for a DM
          notification: notification {the pkg0 fields}.
  cp:     characteristics [{type, parms [{name, value}] (secrets as value_len),
          characteristics}], w7_accounts [{server_id, name, addr, addr_type, port, client_auth,
          server_auth}], and for a document in its WSP push: sec, mac, and with --pin/--imsi
          mac_valid.
  pkg0:   version (number), ui_mode (0-3), ui_mode_name (not-specified|background|
          informative|user-interaction), initiator (0 user, 1 server), initiator_name,
          session_id (number), session_id_hex (the SessionID it starts, e.g. \"1234\"),
          server_id, vendor_specific (hex), digest (hex); with --password also
          digest_valid (bool) and expected_digest (hex).
  syncml: encoding (xml|wbxml), version (1.1|1.2|null), header {ver_dtd, ver_proto,
          session_id, msg_id, target, source, resp_uri, no_resp, cred, meta}, body {final,
          commands [{cmd, cmd_id, ...}]}; a command that cannot be decoded appears as
          {cmd, cmd_id, error, offset}.
Exit status: 0 whenever the input decodes (also when digest_valid is false) and 1 when it
does not. For syncml, a message whose structure decodes exits 0 even when some commands could
not be decoded: each is shown in place (a comment in the text output, {cmd, cmd_id, error,
offset} in JSON) and their count goes to stderr; `omadm convert` instead exits 1 on such a
message, since the command would be lost in the conversion. Text output escapes what it
echoes (\\x1b, \\x0a, ...).")]
pub struct DecodeArgs {
    /// What to decode.
    #[arg(value_enum)]
    kind: Kind,
    /// The input is hex text (white space and `:` ignored) rather than raw bytes.
    #[arg(long)]
    hex: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// pkg0: verify the digest with this server password (the account's SRVCRED secret).
    #[arg(long)]
    password: Option<String>,
    /// pkg0: the server nonce, as text (its bytes are used); default empty.
    #[arg(long, requires = "password", conflicts_with = "nonce_hex")]
    nonce: Option<String>,
    /// pkg0: the server nonce as hex octets (e.g. 00000000 for the resync nonce).
    #[arg(long, requires = "password")]
    nonce_hex: Option<String>,
    /// cp: the user PIN (for USERPINMAC, the PIN followed by the digits shown) to verify MAC.
    #[arg(long)]
    pin: Option<String>,
    /// cp: the IMSI (the NETWPIN key) to verify MAC.
    #[arg(long)]
    imsi: Option<String>,
    /// Input file; `-` or nothing reads standard input.
    file: Option<PathBuf>,
}

/// Runs `decode`.
pub fn run(args: DecodeArgs) -> Result<(), String> {
    let bytes = read_input(args.file.as_deref(), args.hex)?;
    match args.kind {
        Kind::Pkg0 => decode_pkg0(&bytes, &args),
        Kind::Syncml => decode_syncml(&bytes, args.json),
        Kind::Sms => print_value(crate::push_cmd::sms_json(&bytes)?, args.json),
        Kind::CdmaSms => print_value(crate::push_cmd::cdma_json(&bytes)?, args.json),
        Kind::Wsp => print_value(crate::push_cmd::wsp_decode_json(&bytes)?, args.json),
        Kind::Cp => print_value(
            crate::push_cmd::cp_json(&bytes, args.pin.as_deref(), args.imsi.as_deref())?,
            args.json,
        ),
    }
}

/// Prints a decoded push structure: JSON, or the same fields as indented `name: value` text.
fn print_value(v: serde_json::Value, as_json: bool) -> Result<(), String> {
    if as_json {
        outln!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
    } else {
        print_text(&v, 0);
    }
    Ok(())
}

pub(crate) fn print_text(v: &serde_json::Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map {
                match val {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        outln!("{pad}{k}:");
                        print_text(val, indent + 2);
                    }
                    serde_json::Value::Null => {}
                    serde_json::Value::String(text) => {
                        outln!("{pad}{k}: {}", omadm_syncml::printable(text).limit(4096))
                    }
                    other => outln!("{pad}{k}: {other}"),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                outln!("{pad}-");
                print_text(item, indent + 2);
            }
        }
        serde_json::Value::String(text) => {
            outln!("{pad}{}", omadm_syncml::printable(text).limit(4096))
        }
        other => outln!("{pad}{other}"),
    }
}

fn decode_pkg0(bytes: &[u8], args: &DecodeArgs) -> Result<(), String> {
    let pkg = Package0::decode(bytes).map_err(|e| format!("package #0: {e}"))?;
    let nonce = match (&args.nonce, &args.nonce_hex) {
        (_, Some(hex)) => decode_hex(hex.as_bytes())?,
        (Some(text), None) => text.as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    let check = args
        .password
        .as_deref()
        .map(|pw| (pkg.verify(pw, &nonce), pkg.expected_digest(pw, &nonce)));
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json::package0(&pkg, check)).expect("JSON")
        );
        return Ok(());
    }
    let n = &pkg.notification;
    outln!("version:         {}", n.version);
    outln!(
        "ui_mode:         {} ({})",
        n.ui_mode as u8,
        n.ui_mode.name()
    );
    outln!(
        "initiator:       {} ({})",
        n.initiator as u8,
        n.initiator.name()
    );
    outln!(
        "session_id:      {} (SessionID {})",
        n.session_id,
        n.session_id_text()
    );
    outln!("server_id:       {}", omadm_syncml::printable(&n.server_id));
    outln!(
        "vendor_specific: {}",
        if n.vendor_specific.is_empty() {
            "(none)".into()
        } else {
            to_hex(&n.vendor_specific)
        }
    );
    outln!("digest:          {}", to_hex(&pkg.digest));
    if let Some((valid, expected)) = check {
        outln!("digest_valid:    {valid}");
        if !valid {
            outln!("expected_digest: {}", to_hex(&expected));
        }
    }
    Ok(())
}

fn decode_syncml(bytes: &[u8], as_json: bool) -> Result<(), String> {
    let (mut message, encoding) =
        decode_lenient(bytes, &Limits::default()).map_err(|e| e.to_string())?;
    if as_json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json::message(&message, encoding)).expect("JSON")
        );
    } else {
        message.to_xml_safe();
        // Commands that could not be decoded are shown in place, as comments.
        let pretty = xml::encode_pretty(&message);
        outln!(
            "{}",
            omadm_syncml::printable(pretty.trim_end())
                .limit(usize::MAX)
                .keep_line_breaks()
                .plain_backslashes()
        );
        let bad = message
            .body
            .commands
            .iter()
            .filter(|c| c.first_malformed().is_some())
            .count();
        if bad > 0 {
            eprintln!("omadm: {bad} command(s) could not be decoded (shown as comments)");
        }
    }
    Ok(())
}
