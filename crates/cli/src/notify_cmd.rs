//! `omadm notify`: the server side of a push, sent to an agent's UDP push port.
//!
//! ```text
//! omadm notify --to ADDR --server-id ID --password PW [--session-id N] [--ui-mode M]
//!              [--nonce-hex HEX | --state SERVER_DIR --device DEVID]
//! omadm notify --to ADDR --bootstrap --server-id ID --password PW --url URL --pin PIN
//!              --device-name NAME --device-password PW
//! ```
//! The first form sends a DM notification (package #0, digest from the server id, password
//! and nonce) in a WSP push (application id 0x07). The nonce is the one the device issued
//! for the server's credentials; `omadm server` keeps it in its state directory, so
//! `--state DIR --device DEVID` finds it (without either, the empty nonce of a fresh account). The second sends a `w7` provisioning
//! document that creates the device's DM account for this server (server credentials
//! `--password`, device credentials `--device-name`/`--device-password`, both DIGEST),
//! signed with SEC=USERPIN and `--pin`; the device must know the sender as a PPG and have the
//! user (or `omadm agent --pin`) type the PIN. GSM and CDMA SMS PDUs for a radio are built by
//! `omadm push build`.

use std::net::{SocketAddr, UdpSocket};

use clap::Args;
use omadm_csp::{AuthCreds, DmAccount};
use omadm_push::cp::{self, Characteristic};
use omadm_push::wdp::Bearer;
use omadm_syncml::notification::{Initiator, Notification};

use crate::input::decode_hex;
use crate::push_cmd::{parse_session_id, parse_ui_mode};

/// Arguments of `omadm notify`.
#[derive(Args)]
pub struct NotifyArgs {
    /// The agent's UDP push address.
    #[arg(long)]
    to: SocketAddr,
    /// The server identifier.
    #[arg(long = "server-id")]
    server_id: String,
    /// The server secret.
    #[arg(long)]
    password: String,
    /// The session id (decimal or 0x hex).
    #[arg(long = "session-id", default_value = "1")]
    session_id: String,
    /// The UI mode (0-3 or not-specified|background|informative|user-interaction).
    #[arg(long = "ui-mode", default_value = "background")]
    ui_mode: String,
    /// The server nonce the device holds, as hex.
    #[arg(long = "nonce-hex", conflicts_with = "state")]
    nonce_hex: Option<String>,
    /// The server's state directory: the nonce comes from its `nonces` file (with --device).
    #[arg(long, requires = "device")]
    state: Option<std::path::PathBuf>,
    /// The device (its DevId) whose nonce to use from --state.
    #[arg(long)]
    device: Option<String>,
    /// The bootstrap's arguments.
    #[command(flatten)]
    bootstrap: BootstrapArgs,
}

/// A bootstrap instead of a notification (`notify` and `push build`).
#[derive(Args)]
pub struct BootstrapArgs {
    /// Send a bootstrap (DM account) instead of a notification.
    #[arg(long, requires_all = ["url", "pin", "device_name", "device_password"])]
    pub bootstrap: bool,
    /// Bootstrap: the server's URL.
    #[arg(long)]
    url: Option<String>,
    /// Bootstrap: the PIN the document is signed with.
    #[arg(long)]
    pin: Option<String>,
    /// Bootstrap: the device's user name at the server.
    #[arg(long = "device-name")]
    device_name: Option<String>,
    /// Bootstrap: the device's password at the server.
    #[arg(long = "device-password")]
    device_password: Option<String>,
}

impl BootstrapArgs {
    /// The provisioning document for the server `server_id` with `password`, when a
    /// bootstrap was asked for.
    pub fn document(&self, server_id: &str, password: &str) -> Option<Vec<u8>> {
        self.bootstrap.then(|| {
            bootstrap_document(
                server_id,
                password,
                self.url.as_deref().unwrap_or_default(),
                self.device_name.as_deref().unwrap_or_default(),
                self.device_password.as_deref().unwrap_or_default(),
            )
        })
    }

    /// The PIN the document is signed with.
    pub fn pin(&self) -> &str {
        self.pin.as_deref().unwrap_or_default()
    }
}

/// The provisioning document (WBXML) of a `w7` DM account for the server `server_id` at
/// `url`, with MD5 ("DIGEST") credentials both ways.
fn bootstrap_document(
    server_id: &str,
    server_password: &str,
    url: &str,
    device_name: &str,
    device_password: &str,
) -> Vec<u8> {
    let creds = |name: &str, secret: &str| AuthCreds {
        auth_type: "DIGEST".into(),
        name: name.into(),
        secret: secret.into(),
        data: vec![],
    };
    let account = DmAccount {
        app_id: "w7".into(),
        server_id: server_id.into(),
        name: server_id.into(),
        addr: url.into(),
        addr_type: "URI".into(),
        client: Some(creds(device_name, device_password)),
        server: Some(creds(server_id, server_password)),
        ..DmAccount::default()
    };
    cp::encode(&Characteristic {
        children: vec![cp::w7_application(&account)],
        ..Characteristic::default()
    })
}

/// Sends the push.
pub fn run(a: NotifyArgs) -> Result<(), String> {
    if a.server_id.is_empty() || a.server_id.len() > 255 {
        return Err("--server-id must be 1 to 255 octets".into());
    }
    let datagrams = if let Some(doc) = a.bootstrap.document(&a.server_id, &a.password) {
        omadm_push::bootstrap_pdus(&doc, a.bootstrap.pin(), Bearer::Udp, "", 0)
    } else {
        let mut n = Notification::new(
            a.server_id.clone(),
            parse_session_id(&a.session_id)?,
            parse_ui_mode(&a.ui_mode)?,
        );
        n.initiator = Initiator::Server;
        let nonce = match (&a.nonce_hex, &a.state, &a.device) {
            (Some(h), _, _) => decode_hex(h.as_bytes())?,
            (None, Some(dir), Some(device)) => crate::server_cmd::read_nonces(&dir.join("nonces"))
                .remove(device)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        omadm_push::notification_pdus(&n, &a.password, &nonce, Bearer::Udp, "", 0)
    };
    let bind: SocketAddr = if a.to.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let socket = UdpSocket::bind(bind).map_err(|e| format!("UDP socket: {e}"))?;
    for d in &datagrams {
        socket
            .send_to(d, a.to)
            .map_err(|e| format!("send to {}: {e}", a.to))?;
    }
    outln!(
        "sent {} ({} bytes) to {}",
        if a.bootstrap.bootstrap {
            "bootstrap"
        } else {
            "notification"
        },
        datagrams.iter().map(Vec::len).sum::<usize>(),
        a.to
    );
    Ok(())
}
