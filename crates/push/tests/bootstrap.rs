//! Client Provisioning bootstrap through the router: SEC/MAC, the PIN queue, policies, and the
//! w7 account created in the account store with the roles the message earned.

use omadm_cm::{roles, MemoryStorage};
use omadm_csp::AccountStore;
use omadm_push::cp::Sec;
use omadm_push::router::{Output, Policies};
use omadm_push::{
    AccountLookup, ContentType, Input, Router, RouterConfig, ServerCredentials, WspPush,
};

struct NoAccounts;
impl AccountLookup for NoAccounts {
    fn server_credentials(&self, _: &str) -> Option<ServerCredentials> {
        None
    }
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Digest §10.8.
fn doc() -> Vec<u8> {
    hex(
        "030b6a00c54601c600015501873600000603773700018700013800000603646d
         736572766572000187070603444d205365727665720001c60001560187340000
         060368747470733a2f2f646d2e6578616d706c652e636f6d2f646d0001c65301
         8723060334343300010101c600015701873000000600018d0187330000060001
         9301873100000603636c69656e746e616d6500018700013200000603636c6965
         6e747077000101c600015701873000000603434c49454e540001870001330000
         0600019301873100000603646d73657276657200018700013200000603736572
         76657270770001010101",
    )
}

fn cp_push(sec: u8, mac: &str) -> Vec<u8> {
    let mut ct = ContentType::new("application/vnd.wap.connectivity-wbxml");
    ct.sec = Some(sec);
    ct.mac = Some(mac.to_owned());
    let mut p = WspPush::new(ct, None, doc());
    p.tid = 1;
    p.encode()
}

/// What the router makes of `pdu` sent over UDP by the known PPG `ppg`, at time 0.
fn from_ppg(r: &mut Router, pdu: &[u8]) -> Output {
    r.receive(
        Input::Udp {
            sender: "ppg",
            datagram: pdu,
        },
        0,
    )
}

fn router(policies: Policies) -> Router {
    let config = RouterConfig {
        known_ppgs: vec!["ppg".into()],
        imsi: Some("262019876543210".into()),
        policies,
        ..RouterConfig::default()
    };
    Router::new(config, Box::new(NoAccounts))
}

#[test]
fn the_wsp_header_of_a_userpin_document_matches_the_digest_vector() {
    let pdu = cp_push(1, "3C5077C457BBD9FF86C33237B876419A981627B4");
    let mut expected = hex("01062F1F2DB6918192");
    expected.extend_from_slice(b"3C5077C457BBD9FF86C33237B876419A981627B4\0");
    assert_eq!(&pdu[..expected.len()], expected.as_slice());
    let back = WspPush::decode(&pdu).unwrap();
    assert_eq!(back.content_type.sec, Some(1));
    assert_eq!(back.body, doc());
}

#[test]
fn a_userpin_document_waits_for_the_pin_then_bootstraps_the_account() {
    let mut r = router(Policies::default());
    let pdu = cp_push(1, "3C5077C457BBD9FF86C33237B876419A981627B4");
    let Output::PinRequired { id, sec } = from_ppg(&mut r, &pdu) else {
        panic!()
    };
    assert_eq!(sec, Sec::UserPin);
    assert_eq!(r.waiting_for_pin(), 1);
    let Output::Bootstrap(b) = r.provide_pin(id, "1234") else {
        panic!("not bootstrapped")
    };
    assert_eq!(b.roles & roles::USER_AUTH, roles::USER_AUTH);
    assert_eq!(b.accounts.len(), 1);
    let store = AccountStore::open(Box::new(MemoryStorage::new())).unwrap();
    let x = store
        .create(&b.accounts[0], b.roles & roles::AUTHENTICATION_ROLES)
        .unwrap();
    let account = store.find_by_server_id("dmserver").unwrap();
    assert_eq!(account.node_name, x);
    assert_eq!(account.ceiling, roles::USER_AUTH);
    assert_eq!(account.client.unwrap().secret, "clientpw");
}

#[test]
fn a_wrong_pin_drops_the_document() {
    let mut r = router(Policies::default());
    let pdu = cp_push(1, "3C5077C457BBD9FF86C33237B876419A981627B4");
    let Output::PinRequired { id, .. } = from_ppg(&mut r, &pdu) else {
        panic!()
    };
    assert_eq!(r.provide_pin(id, "9999"), Output::None);
    assert_eq!(r.stats().bad_mac, 1);
    assert_eq!(r.waiting_for_pin(), 0);
    assert_eq!(r.provide_pin(id, "1234"), Output::None, "gone");
}

#[test]
fn userpinmac_uses_the_typed_digits() {
    let mut r = router(Policies::default());
    let pdu = cp_push(3, "");
    let Output::PinRequired { id, sec } = from_ppg(&mut r, &pdu) else {
        panic!()
    };
    assert_eq!(sec, Sec::UserPinMac);
    assert!(matches!(
        r.provide_pin(id, "12340096"),
        Output::Bootstrap(_)
    ));
}

#[test]
fn netwpin_is_refused_by_default_and_accepted_when_the_policy_allows_operators() {
    let pdu = cp_push(0, "58203628C77952FF59413EAFDFF879C1AFB2C64A");
    let mut r = router(Policies::default());
    assert_eq!(
        r.receive(
            Input::Udp {
                sender: "ppg",
                datagram: &pdu
            },
            0
        ),
        Output::None
    );
    assert_eq!(r.stats().refused_by_policy, 1);
    let mut r = router(Policies {
        cp_netwpin: roles::OPERATOR,
        ..Policies::default()
    });
    let Output::Bootstrap(b) = from_ppg(&mut r, &pdu) else {
        panic!()
    };
    assert_eq!(b.roles & roles::OPERATOR, roles::OPERATOR);
    let bad = cp_push(0, "58203628C77952FF59413EAFDFF879C1AFB2C64B");
    assert_eq!(
        r.receive(
            Input::Udp {
                sender: "ppg",
                datagram: &bad
            },
            0
        ),
        Output::None
    );
    assert_eq!(r.stats().bad_mac, 1);
}

#[test]
fn provisioning_from_an_unknown_ppg_is_refused_by_the_ota_policy() {
    let mut r = router(Policies {
        cp_netwpin: roles::OPERATOR,
        ..Policies::default()
    });
    let pdu = cp_push(0, "58203628C77952FF59413EAFDFF879C1AFB2C64A");
    assert_eq!(
        r.receive(
            Input::Udp {
                sender: "stranger",
                datagram: &pdu
            },
            0
        ),
        Output::None
    );
    assert_eq!(r.stats().refused_by_policy, 1);
}

#[test]
fn the_pin_queue_is_bounded() {
    let mut r = router(Policies {
        max_unauthenticated: 2,
        ..Policies::default()
    });
    let pdu = cp_push(1, "3C5077C457BBD9FF86C33237B876419A981627B4");
    for _ in 0..2 {
        assert!(matches!(
            r.receive(
                Input::Udp {
                    sender: "ppg",
                    datagram: &pdu
                },
                0
            ),
            Output::PinRequired { .. }
        ));
    }
    assert_eq!(
        r.receive(
            Input::Udp {
                sender: "ppg",
                datagram: &pdu
            },
            0
        ),
        Output::None
    );
    assert_eq!(r.stats().unauthenticated_queue_full, 1);
    assert_eq!(r.waiting_for_pin(), 2);
}

/// Issue 12.1: a bootstrap document naming a ServerID an account already holds is refused
/// whole (418), and so is one whose applications share a ServerID; nothing is written.
#[test]
fn a_bootstrap_document_cannot_take_an_existing_server_id() {
    let mut r = router(Policies::default());
    let pdu = cp_push(1, "3C5077C457BBD9FF86C33237B876419A981627B4");
    let Output::PinRequired { id, .. } = from_ppg(&mut r, &pdu) else {
        panic!()
    };
    let Output::Bootstrap(b) = r.provide_pin(id, "1234") else {
        panic!("not bootstrapped")
    };
    let store = AccountStore::open(Box::new(MemoryStorage::new())).unwrap();
    omadm_push::cp::apply(&store, &b).unwrap();
    let before = store.accounts();
    let again = omadm_push::cp::apply(&store, &b).unwrap_err();
    assert_eq!(again.status, 418, "{again}");
    assert_eq!(store.accounts(), before);

    let fresh = AccountStore::open(Box::new(MemoryStorage::new())).unwrap();
    let mut twice = b.clone();
    let mut second = twice.accounts[0].clone();
    second.addr = "https://elsewhere.example/dm".into();
    twice.accounts.push(second);
    assert_eq!(
        omadm_push::cp::apply(&fresh, &twice).unwrap_err().status,
        418
    );
    assert!(fresh.accounts().is_empty(), "all or nothing");
}
