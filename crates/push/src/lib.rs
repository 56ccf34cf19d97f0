//! `omadm-push`: the push router of the device. Bytes from the radio layer in (GSM SMS
//! TPDUs, CDMA SMS messages, UDP datagrams), authenticated and routed messages out.
//!
//! It owns the bearers' codecs ([`gsm`], [`cdma`]), WDP reassembly ([`wdp`]), WSP
//! connectionless push ([`wsp`]), the security roles and policies and the routing table
//! ([`router`]), and the DM notification handler ([`notification`]) that turns an
//! authenticated package #0 into "start a session for server X with session id N". Everything
//! is sans-I/O: no sockets, no timers; the caller passes `now`. Every decoder is total and
//! every buffer bounded.
//!
//! Client Provisioning bootstrap ([`cp`]) decodes the provisioning document, verifies its
//! SEC/MAC and maps a `w7` APPLICATION to a DM account.
//!
//! It does not own the sessions (the agent) or the accounts (the DM account store, reached
//! through [`notification::AccountLookup`] and `omadm-csp`).

pub mod cdma;
pub mod cp;
mod error;
pub mod gsm;
pub mod notification;
pub use omadm_cm::roles;
pub mod router;
mod warn_limit;
pub mod wdp;
pub mod wsp;

pub use error::PushError;
pub use notification::{AccountLookup, NotificationUi, ServerCredentials, StartSession};
pub use router::{Input, Output, Router, RouterConfig};
pub use wsp::{AppId, ContentType, WspPush};

use omadm_syncml::notification::Notification;

/// The push PDUs carrying a DM notification: package #0 (digest from `server_password` and
/// `nonce`) in a WSP push (`C4 AF 87`), as GSM SMS TPDUs (concatenated if needed), CDMA SMS
/// messages, or one UDP datagram.
pub fn notification_pdus(
    notification: &Notification,
    server_password: &str,
    nonce: &[u8],
    bearer: wdp::Bearer,
    originator: &str,
    reference: u16,
) -> Vec<Vec<u8>> {
    let pkg0 = notification.encode(server_password, nonce);
    let mut push = WspPush::new(
        ContentType::new("application/vnd.syncml.notification"),
        Some(AppId::Code(7)),
        pkg0,
    );
    push.tid = 1;
    bearer_pdus(&push.encode(), bearer, originator, reference)
}

/// The push PDUs carrying a bootstrap: the WBXML provisioning document `doc` in a WSP push of
/// `application/vnd.wap.connectivity-wbxml`, secured with `SEC=USERPIN` and the HMAC-SHA1
/// `MAC` keyed with `pin` (the user types the PIN on the device), as GSM or CDMA SMS or UDP.
pub fn bootstrap_pdus(
    doc: &[u8],
    pin: &str,
    bearer: wdp::Bearer,
    originator: &str,
    reference: u16,
) -> Vec<Vec<u8>> {
    let mut ct = ContentType::new("application/vnd.wap.connectivity-wbxml");
    ct.sec = Some(1);
    ct.mac = Some(cp::mac(pin.as_bytes(), doc));
    let mut push = WspPush::new(ct, None, doc.to_vec());
    push.tid = 2;
    bearer_pdus(&push.encode(), bearer, originator, reference)
}

fn bearer_pdus(pdu: &[u8], bearer: wdp::Bearer, originator: &str, reference: u16) -> Vec<Vec<u8>> {
    let pdu = pdu.to_vec();
    match bearer {
        wdp::Bearer::Gsm => gsm::encode_wap_push(
            &gsm::Address::international(originator),
            &pdu,
            reference as u8,
        ),
        wdp::Bearer::Cdma => cdma::encode_wap_push(originator, &pdu, reference),
        wdp::Bearer::Udp => vec![pdu],
    }
}

/// Helpers of the unit tests.
#[cfg(test)]
mod test_util {
    /// Octets from hex digits, white space ignored.
    pub fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
