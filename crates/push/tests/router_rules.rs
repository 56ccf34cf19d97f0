//! The push router, rule by rule, over all three bearers.

use std::collections::HashMap;

use omadm_push::gsm::{self, Address, SmsDeliver};
use omadm_push::router::{Output, Policies, RegisterError};
use omadm_push::wdp::Bearer;
use omadm_push::{
    cdma, notification_pdus, roles, AccountLookup, AppId, ContentType, Input, Router, RouterConfig,
    ServerCredentials, WspPush,
};
use omadm_syncml::notification::{Notification, UiMode};

struct Accounts(HashMap<String, ServerCredentials>);
impl AccountLookup for Accounts {
    fn server_credentials(&self, server_id: &str) -> Option<ServerCredentials> {
        self.0.get(server_id).cloned()
    }
}

fn accounts(resync: bool) -> Box<Accounts> {
    let mut m = HashMap::new();
    m.insert(
        "srv".to_owned(),
        ServerCredentials {
            name: "srv".into(),
            secret: "pw".into(),
            nonce: b"n1".to_vec(),
            nonce_resync: resync,
        },
    );
    m.insert(
        "com.mgmtsrv.manage".to_owned(),
        ServerCredentials {
            name: "com.mgmtsrv.manage".into(),
            secret: "secret".into(),
            nonce: vec![0, 0, 0, 0],
            nonce_resync: false,
        },
    );
    Box::new(Accounts(m))
}

fn router() -> Router {
    Router::new(RouterConfig::default(), accounts(false))
}

fn notification(session: u16) -> Notification {
    Notification::new("srv", session, UiMode::Informative)
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// What the router makes of `datagram` from UDP sender `h` at `now` ms.
fn udp(r: &mut Router, datagram: &[u8], now: u64) -> Output {
    r.receive(
        Input::Udp {
            sender: "h",
            datagram,
        },
        now,
    )
}

#[test]
fn a_valid_notification_over_gsm_starts_a_session() {
    let mut r = router();
    let pdus = notification_pdus(&notification(0x1234), "pw", b"n1", Bearer::Gsm, "+4477", 1);
    assert_eq!(pdus.len(), 1);
    match r.receive(Input::GsmSms(&pdus[0]), 0) {
        Output::StartSession(s) => {
            assert_eq!(
                (
                    s.server_id.as_str(),
                    s.session_id,
                    s.ui_mode,
                    s.nonce_resync
                ),
                ("srv", 0x1234, UiMode::Informative, false)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_spec_sms_vector_is_authenticated_with_its_account() {
    let mut r = router();
    let pdu = hex("440B912143658709F100F542105101030000370605040B8423F0010603C4AF87 4E94C58C36A8C50AABCDBE0C296B2BA702D0000000123412636F6D2E6D676D747372762E6D616E616765");
    assert!(
        matches!(r.receive(Input::GsmSms(&pdu), 0), Output::StartSession(s) if s.session_id == 0x1234 && s.server_id == "com.mgmtsrv.manage")
    );
}

#[test]
fn a_bad_digest_is_dropped_and_counted() {
    let mut r = router();
    let pdus = notification_pdus(&notification(1), "wrong", b"n1", Bearer::Gsm, "+4477", 1);
    assert_eq!(r.receive(Input::GsmSms(&pdus[0]), 0), Output::None);
    assert_eq!(r.notifications().stats().bad_digest, 1);
}

#[test]
fn an_unknown_server_is_dropped() {
    let mut r = router();
    let n = Notification::new("stranger", 1, UiMode::Background);
    let pdus = notification_pdus(&n, "pw", b"", Bearer::Udp, "", 0);
    assert_eq!(
        r.receive(
            Input::Udp {
                sender: "10.0.0.1",
                datagram: &pdus[0]
            },
            0
        ),
        Output::None
    );
    assert_eq!(r.notifications().stats().unknown_server, 1);
}

#[test]
fn a_repeated_notification_for_a_pending_session_starts_nothing() {
    let mut r = router();
    let pdus = notification_pdus(&notification(9), "pw", b"n1", Bearer::Udp, "", 0);
    assert!(matches!(udp(&mut r, &pdus[0], 0), Output::StartSession(_)));
    assert_eq!(udp(&mut r, &pdus[0], 1), Output::None);
    assert_eq!(r.notifications().stats().duplicate, 1);
    r.notifications().session_finished("srv", 9);
    assert!(matches!(udp(&mut r, &pdus[0], 2), Output::StartSession(_)));
}

#[test]
fn nonce_resync_is_off_by_default_and_uses_the_zero_nonce_when_on() {
    let pdus = notification_pdus(&notification(2), "pw", &[0, 0, 0, 0], Bearer::Udp, "", 0);
    let mut off = router();
    assert_eq!(udp(&mut off, &pdus[0], 0), Output::None);
    let mut on = Router::new(RouterConfig::default(), accounts(true));
    assert!(
        matches!(on.receive(Input::Udp { sender: "h", datagram: &pdus[0] }, 0), Output::StartSession(s) if s.nonce_resync)
    );
}

#[test]
fn a_three_segment_gsm_push_is_reassembled_in_any_order() {
    let mut r = router();
    let mut n = notification(3);
    n.vendor_specific = vec![0x55; 300];
    let pdus = notification_pdus(&n, "pw", b"n1", Bearer::Gsm, "+4477", 42);
    assert_eq!(pdus.len(), 3);
    assert_eq!(r.receive(Input::GsmSms(&pdus[2]), 0), Output::None);
    assert_eq!(r.receive(Input::GsmSms(&pdus[0]), 1), Output::None);
    assert_eq!(
        r.receive(Input::GsmSms(&pdus[0]), 1),
        Output::None,
        "duplicate"
    );
    match r.receive(Input::GsmSms(&pdus[1]), 2) {
        Output::StartSession(s) => assert_eq!(s.vendor_specific, vec![0x55; 300]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cdma_notification_in_two_segments_starts_a_session() {
    let mut r = router();
    let mut n = notification(4);
    n.vendor_specific = vec![1; 250];
    let msgs = notification_pdus(&n, "pw", b"n1", Bearer::Cdma, "5551234", 7);
    assert_eq!(msgs.len(), 2);
    assert_eq!(r.receive(Input::CdmaSms(&msgs[1]), 0), Output::None);
    assert!(
        matches!(r.receive(Input::CdmaSms(&msgs[0]), 1), Output::StartSession(s) if s.session_id == 4)
    );
}

#[test]
fn routing_prefers_both_then_app_id_then_content_type_and_one_handler_per_key() {
    let mut r = router();
    let ct = "application/vnd.wap.sic";
    let by_ct = r.register(Some(ct), None).unwrap();
    let by_app = r.register(None, Some(AppId::Code(1))).unwrap();
    let both = r
        .register(
            Some(ct),
            Some(AppId::Uri("x-wap-application:push.sia".into())),
        )
        .unwrap();
    assert_eq!(
        r.register(Some(ct), None),
        Err(RegisterError::AlreadyRegistered)
    );
    assert_eq!(r.register(None, None), Err(RegisterError::Empty));
    let push = |app: Option<AppId>, ct: &str| WspPush::new(ContentType::new(ct), app, vec![]);
    assert_eq!(r.find_handler(&push(Some(AppId::Code(1)), ct)), Some(both));
    assert_eq!(
        r.find_handler(&push(Some(AppId::Code(1)), "text/plain")),
        Some(by_app)
    );
    assert_eq!(r.find_handler(&push(None, ct)), Some(by_ct));
    assert_eq!(
        r.find_handler(&push(Some(AppId::Code(4)), "text/plain")),
        None
    );
    assert!(r.unregister(both));
    assert_eq!(
        r.find_handler(&push(Some(AppId::Code(1)), ct)),
        Some(by_app)
    );
}

#[test]
fn unrouted_messages_are_dropped_and_counted() {
    let mut r = router();
    let pdu = WspPush::new(
        ContentType::new("text/plain"),
        Some(AppId::Code(4)),
        b"hi".to_vec(),
    )
    .encode();
    assert_eq!(udp(&mut r, &pdu, 0), Output::None);
    assert_eq!(r.stats().unrouted, 1);
}

#[test]
fn roles_come_from_the_ppg_and_the_push_flag() {
    let config = RouterConfig {
        known_ppgs: vec!["+111".into()],
        trusted_ppgs: vec!["+222".into()],
        tps_uri: Some("https://tps.example".into()),
        ..RouterConfig::default()
    };
    let r = Router::new(config, accounts(false));
    let mut push = WspPush::new(ContentType::new("text/plain"), None, vec![]);
    assert_eq!(r.roles_for("+999", &push), roles::ANY_PUSH_SOURCE);
    assert_eq!(
        r.roles_for("+111", &push),
        roles::ANY_PUSH_SOURCE | roles::KNOWN_PPG
    );
    push.push_flag = Some(0x03);
    assert_eq!(
        r.roles_for("+111", &push),
        roles::ANY_PUSH_SOURCE | roles::KNOWN_PPG,
        "only a trusted PPG's Push-Flag counts"
    );
    push.initiator_uri = Some("https://tps.example".into());
    assert_eq!(
        r.roles_for("+222", &push),
        roles::ANY_PUSH_SOURCE
            | roles::KNOWN_PPG
            | roles::TRUSTED_PPG
            | roles::PPG_AUTH
            | roles::PPG_TRUSTED
            | roles::OPERATOR_TPS
    );
}

#[test]
fn policies_refuse_push_or_provisioning() {
    let mut off = Router::new(
        RouterConfig {
            policies: Policies {
                wsp_push: false,
                ..Policies::default()
            },
            ..RouterConfig::default()
        },
        accounts(false),
    );
    let pdus = notification_pdus(&notification(5), "pw", b"n1", Bearer::Udp, "", 0);
    assert_eq!(udp(&mut off, &pdus[0], 0), Output::None);
    assert_eq!(off.stats().refused_by_policy, 1);
    let mut r = router();
    let handler = r
        .register(Some("application/vnd.wap.connectivity-wbxml"), None)
        .unwrap();
    let cp = WspPush::new(
        ContentType::new("application/vnd.wap.connectivity-wbxml"),
        None,
        vec![0x03],
    )
    .encode();
    assert_eq!(
        r.receive(
            Input::Udp {
                sender: "stranger",
                datagram: &cp
            },
            0
        ),
        Output::None,
        "unknown PPG: not OTA provisioning"
    );
    let mut known = Router::new(
        RouterConfig {
            known_ppgs: vec!["ppg".into()],
            ..RouterConfig::default()
        },
        accounts(false),
    );
    let h = known
        .register(Some("application/vnd.wap.connectivity-wbxml"), None)
        .unwrap();
    assert!(
        matches!(known.receive(Input::Udp { sender: "ppg", datagram: &cp }, 0), Output::Routed(x) if x.handler == h && x.roles & roles::KNOWN_PPG != 0)
    );
    let _ = handler;
}

#[test]
fn segments_to_other_ports_are_not_pushes() {
    let mut r = router();
    let mut sms = SmsDeliver::wap_push(Address::international("+1"), &[1, 2, 3]);
    sms.udh[0].data = vec![0x0B, 0x85, 0x23, 0xF0]; // port 2949
    assert_eq!(r.receive(Input::GsmSms(&sms.encode()), 0), Output::None);
    assert_eq!(r.stats().other_port, 1);
}

#[test]
fn garbage_on_every_bearer_is_counted_never_a_panic() {
    let mut r = router();
    for len in 0..64usize {
        let junk: Vec<u8> = (0..len).map(|i| (i * 73 + 5) as u8).collect();
        r.receive(Input::GsmSms(&junk), 0);
        r.receive(Input::CdmaSms(&junk), 0);
        r.receive(
            Input::Udp {
                sender: "x",
                datagram: &junk,
            },
            0,
        );
    }
    assert!(r.stats().malformed > 0);
    let _ = (gsm::is_8bit(4), cdma::TELESERVICE_WAP);
}

struct Ui(bool, std::sync::Arc<std::sync::Mutex<Vec<String>>>);
impl omadm_push::NotificationUi for Ui {
    fn inform(&mut self, server: &str) {
        self.1.lock().unwrap().push(format!("inform {server}"));
    }
    fn ask(&mut self, server: &str) -> bool {
        self.1.lock().unwrap().push(format!("ask {server}"));
        self.0
    }
}

#[test]
fn ui_mode_is_honoured_through_the_ui() {
    for (mode, answer, starts, seen) in [
        (UiMode::Background, false, true, vec![]),
        (UiMode::Informative, false, true, vec!["inform srv"]),
        (UiMode::UserInteraction, true, true, vec!["ask srv"]),
        (UiMode::UserInteraction, false, false, vec!["ask srv"]),
    ] {
        let mut r = router();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        r.notifications().set_ui(Box::new(Ui(answer, log.clone())));
        let n = Notification::new("srv", 1, mode);
        let pdus = notification_pdus(&n, "pw", b"n1", Bearer::Udp, "", 0);
        let out = udp(&mut r, &pdus[0], 0);
        assert_eq!(matches!(out, Output::StartSession(_)), starts, "{mode:?}");
        assert_eq!(*log.lock().unwrap(), seen, "{mode:?}");
        assert_eq!(r.notifications().stats().declined, u64::from(!starts));
    }
}
