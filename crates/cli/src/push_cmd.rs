//! `omadm decode sms|cdma-sms|wsp` renderings and `omadm push build`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use omadm_push::cdma::{CdmaOptions, CdmaWap};
use omadm_push::gsm::SmsDeliver;
use omadm_push::wdp::Bearer;
use omadm_push::WspPush;
use omadm_syncml::notification::{Initiator, Notification, Package0, UiMode};
use serde_json::{json, Value};

use crate::input::{decode_hex, to_hex};

/// JSON of a WSP push, with the notification inside when it carries one.
pub fn wsp_json(push: &WspPush) -> Value {
    let ct = &push.content_type;
    let mut v = json!({
        "tid": push.tid,
        "pdu_type": 6,
        "content_type": ct.media,
        "sec": ct.sec,
        "mac": ct.mac,
        "params": ct.params.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect::<Vec<_>>(),
        "app_id": push.app_id.as_ref().map(|a| a.urn()),
        "app_id_code": push.app_id.as_ref().and_then(|a| match a { omadm_push::AppId::Code(c) => Some(*c), omadm_push::AppId::Uri(u) => omadm_push::wsp::app_id_code(u) }),
        "initiator_uri": push.initiator_uri,
        "content_location": push.content_location,
        "push_flag": push.push_flag,
        "body_len": push.body.len(),
        "body": to_hex(&push.body),
    });
    if ct
        .media
        .eq_ignore_ascii_case("application/vnd.syncml.notification")
    {
        v["notification"] = match Package0::decode(&push.body) {
            Ok(pkg) => crate::json::package0(&pkg, None),
            Err(e) => json!({ "error": e.to_string() }),
        };
    }
    v
}

/// `decode sms`.
pub fn sms_json(bytes: &[u8]) -> Result<Value, String> {
    let (smsc, sms) = match SmsDeliver::decode(bytes) {
        Ok(sms) => (None, sms),
        Err(first) => match SmsDeliver::decode_with_smsc(bytes) {
            Ok((smsc, sms)) => (smsc.map(|a| a.display()).or(Some(String::new())), sms),
            Err(_) => return Err(format!("SMS-DELIVER: {first}")),
        },
    };
    let t = sms.timestamp;
    let mut v = json!({
        "smsc": smsc,
        "originator": sms.originator.display(),
        "originator_ton": sms.originator.ton,
        "originator_npi": sms.originator.npi,
        "pid": sms.pid,
        "dcs": sms.dcs,
        "timestamp": format!("{:02}-{:02}-{:02}T{:02}:{:02}:{:02} {:+}q", t.year, t.month, t.day, t.hour, t.minute, t.second, t.tz_quarters),
        "udh": sms.udh.iter().map(|ie| json!({ "iei": ie.id, "data": to_hex(&ie.data) })).collect::<Vec<_>>(),
        "ports": sms.ports().map(|p| json!({ "destination": p.destination, "origin": p.origin })),
        "concat": sms.concat().map(|c| json!({ "reference": c.reference, "total": c.total, "seq": c.seq })),
        "user_data_len": sms.user_data.len(),
        "user_data": to_hex(&sms.user_data),
    });
    if sms.ports().is_some_and(|p| p.destination == 2948) && sms.concat().is_none() {
        v["wsp"] = match WspPush::decode(&sms.user_data) {
            Ok(push) => wsp_json(&push),
            Err(e) => json!({ "error": e.to_string() }),
        };
    }
    Ok(v)
}

/// `decode cdma-sms`.
pub fn cdma_json(bytes: &[u8]) -> Result<Value, String> {
    let m = CdmaWap::decode(bytes, CdmaOptions::default()).map_err(|e| format!("CDMA SMS: {e}"))?;
    let mut v = json!({
        "teleservice": m.teleservice,
        "originator": m.originator,
        "message_id": m.message_id,
        "total_segments": m.total,
        "segment": m.seq,
        "ports": m.ports.map(|(src, dst)| json!({ "source": src, "destination": dst })),
        "payload_len": m.payload.len(),
        "payload": to_hex(&m.payload),
    });
    if m.total == 1 && m.ports.is_some_and(|(_, dst)| dst == 2948) {
        v["wsp"] = match WspPush::decode(&m.payload) {
            Ok(push) => wsp_json(&push),
            Err(e) => json!({ "error": e.to_string() }),
        };
    }
    Ok(v)
}

/// `decode wsp`.
pub fn wsp_decode_json(bytes: &[u8]) -> Result<Value, String> {
    Ok(wsp_json(
        &WspPush::decode(bytes).map_err(|e| format!("WSP push: {e}"))?,
    ))
}

/// What `push` does.
#[derive(Subcommand)]
pub enum PushCommand {
    /// Build the PDUs of a DM notification (package #0 in a WSP push) for a bearer and write
    /// them as DIR/1.bin, DIR/2.bin, ...
    Build(BuildArgs),
}

/// A bearer.
#[derive(Clone, Copy, ValueEnum)]
pub enum BearerArg {
    /// GSM SMS-DELIVER TPDUs (no SMSC address), concatenated when needed.
    Gsm,
    /// CDMA SMS transport-layer messages (WAP teleservice 4100).
    Cdma,
    /// One UDP datagram for port 2948 (the WSP PDU itself).
    Udp,
}

/// Arguments of `push build`.
#[derive(Args)]
#[command(
    after_help = "--session-id is decimal, or hexadecimal with a 0x prefix (the SessionID the \
session will carry is its upper-case hex: 4660 or 0x1234 gives 1234). --ui-mode is 0-3 or \
not-specified|background|informative|user-interaction. The notification is version 11, initiator \
server, with the digest made from --server-id, --password and --nonce (text; --nonce-hex for octets). \
With --bootstrap the PDUs carry a provisioning document instead: a w7 DM account for --server-id at \
--url with the device credentials --device-name/--device-password, signed with USERPIN --pin."
)]
pub struct BuildArgs {
    /// The bearer.
    #[arg(long, value_enum)]
    bearer: BearerArg,
    /// The server identifier (must match the device's DMAcc ServerID).
    #[arg(long = "server-id")]
    server_id: String,
    /// The server password (the account's SRVCRED secret).
    #[arg(long)]
    password: String,
    /// The server nonce, as text.
    #[arg(long, conflicts_with = "nonce_hex")]
    nonce: Option<String>,
    /// The server nonce, as hex octets.
    #[arg(long = "nonce-hex")]
    nonce_hex: Option<String>,
    /// The session id (required for a notification).
    #[arg(long = "session-id", required_unless_present = "bootstrap")]
    session_id: Option<String>,
    /// A bootstrap (DM account) instead of a notification.
    #[command(flatten)]
    bootstrap: crate::notify_cmd::BootstrapArgs,
    /// The UI mode.
    #[arg(long = "ui-mode", default_value = "background")]
    ui_mode: String,
    /// The originating address (the PPG's number).
    #[arg(long, default_value = "+10000000000")]
    originator: String,
    /// Concatenation reference (GSM) or message identifier (CDMA).
    #[arg(long, default_value_t = 1)]
    reference: u16,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn parse_session_id(s: &str) -> Result<u16, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("--session-id {s:?} is not a 16-bit number"))
}

pub(crate) fn parse_ui_mode(s: &str) -> Result<UiMode, String> {
    Ok(match s {
        "0" | "not-specified" => UiMode::NotSpecified,
        "1" | "background" => UiMode::Background,
        "2" | "informative" => UiMode::Informative,
        "3" | "user-interaction" => UiMode::UserInteraction,
        other => return Err(format!("--ui-mode {other:?}: use 0-3 or a name")),
    })
}

/// Runs `push`.
pub fn run(command: PushCommand) -> Result<(), String> {
    let PushCommand::Build(a) = command;
    if a.server_id.is_empty() || a.server_id.len() > 255 {
        return Err("--server-id must be 1 to 255 octets".into());
    }
    let bearer = match a.bearer {
        BearerArg::Gsm => Bearer::Gsm,
        BearerArg::Cdma => Bearer::Cdma,
        BearerArg::Udp => Bearer::Udp,
    };
    let pdus = if let Some(doc) = a.bootstrap.document(&a.server_id, &a.password) {
        omadm_push::bootstrap_pdus(&doc, a.bootstrap.pin(), bearer, &a.originator, a.reference)
    } else {
        let mut n = Notification::new(
            a.server_id.clone(),
            parse_session_id(a.session_id.as_deref().unwrap_or_default())?,
            parse_ui_mode(&a.ui_mode)?,
        );
        n.initiator = Initiator::Server;
        let nonce = match (&a.nonce, &a.nonce_hex) {
            (_, Some(h)) => decode_hex(h.as_bytes())?,
            (Some(t), None) => t.as_bytes().to_vec(),
            (None, None) => Vec::new(),
        };
        omadm_push::notification_pdus(&n, &a.password, &nonce, bearer, &a.originator, a.reference)
    };
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    for (i, pdu) in pdus.iter().enumerate() {
        let path = a.out.join(format!("{}.bin", i + 1));
        std::fs::write(&path, pdu).map_err(|e| format!("{}: {e}", path.display()))?;
        outln!("{}", path.display());
    }
    Ok(())
}

fn characteristic_json(c: &omadm_push::cp::Characteristic) -> Value {
    // Secrets of the provisioning document are not printed, only their length.
    let parms: Vec<Value> = c
        .parms
        .iter()
        .map(|(n, v)| {
            if n.ends_with("SECRET") || n.ends_with("PW") {
                json!({ "name": n, "value_len": v.len() })
            } else {
                json!({ "name": n, "value": v })
            }
        })
        .collect();
    json!({ "type": c.type_, "parms": parms, "characteristics": c.children.iter().map(characteristic_json).collect::<Vec<_>>() })
}

/// `decode cp`: a provisioning document, alone or inside a WSP push (whose SEC/MAC is then
/// verified when `pin` / `imsi` allow).
pub fn cp_json(bytes: &[u8], pin: Option<&str>, imsi: Option<&str>) -> Result<Value, String> {
    let push = (bytes.get(1) == Some(&0x06))
        .then(|| WspPush::decode(bytes).ok())
        .flatten()
        .filter(|p| {
            p.content_type
                .media
                .eq_ignore_ascii_case("application/vnd.wap.connectivity-wbxml")
        });
    let doc = push.as_ref().map(|p| p.body.as_slice()).unwrap_or(bytes);
    let root = omadm_push::cp::decode(doc).map_err(|e| format!("provisioning document: {e}"))?;
    let mut v = json!({
        "characteristics": root.children.iter().map(characteristic_json).collect::<Vec<_>>(),
        "w7_accounts": root.children.iter().filter_map(omadm_push::cp::w7_account).map(|a| json!({
            "server_id": a.server_id,
            "name": a.name,
            "addr": a.addr,
            "addr_type": a.addr_type,
            "port": a.port,
            "client_auth": a.client.as_ref().map(|c| json!({ "type": c.auth_type, "name": c.name })),
            "server_auth": a.server.as_ref().map(|c| json!({ "type": c.auth_type, "name": c.name })),
        })).collect::<Vec<_>>(),
    });
    if let Some(p) = &push {
        v["sec"] = json!(p.content_type.sec);
        v["mac"] = json!(p.content_type.mac);
        if let Some(sec) = p.content_type.sec.and_then(omadm_push::cp::Sec::from_code) {
            if pin.is_some() || imsi.is_some() {
                v["mac_valid"] = json!(omadm_push::cp::verify(
                    sec,
                    p.content_type.mac.as_deref().unwrap_or(""),
                    doc,
                    imsi,
                    pin
                ));
            }
        }
    }
    Ok(v)
}
