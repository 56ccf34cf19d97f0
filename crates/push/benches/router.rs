//! Messages routed per second: a DM notification as a 3-segment GSM push (reassembled,
//! decoded, digest verified) and as one UDP datagram. Each iteration uses a new session id so
//! that the duplicate check does not short-cut it. Run: `cargo bench -p omadm-push --bench router`.

use criterion::{criterion_main, Criterion, Throughput};
use omadm_push::router::RouterConfig;
use omadm_push::wdp::Bearer;
use omadm_push::{notification_pdus, AccountLookup, Input, Output, Router, ServerCredentials};
use omadm_syncml::notification::{Notification, UiMode};

struct One;
impl AccountLookup for One {
    fn server_credentials(&self, id: &str) -> Option<ServerCredentials> {
        (id == "srv").then(|| ServerCredentials {
            name: "srv".into(),
            secret: "pw".into(),
            nonce: b"n".to_vec(),
            nonce_resync: false,
        })
    }
}

fn pdus(bearer: Bearer, session: u16, vendor: usize) -> Vec<Vec<u8>> {
    let mut n = Notification::new("srv", session, UiMode::Background);
    n.vendor_specific = vec![7; vendor];
    notification_pdus(&n, "pw", b"n", bearer, "+4412345", session)
}

fn bench_router(c: &mut Criterion) {
    let gsm: Vec<Vec<Vec<u8>>> = (0..1024u16).map(|s| pdus(Bearer::Gsm, s, 300)).collect();
    assert_eq!(gsm[0].len(), 3);
    let udp: Vec<Vec<u8>> = (0..1024u16)
        .map(|s| pdus(Bearer::Udp, s, 0).remove(0))
        .collect();
    let mut group = c.benchmark_group("push-router");
    group.throughput(Throughput::Elements(1));
    let mut r = Router::new(RouterConfig::default(), Box::new(One));
    let mut i = 0usize;
    let mut now = 0;
    group.bench_function("gsm-3-segments", |b| {
        b.iter(|| {
            let segs = &gsm[i % gsm.len()];
            let s = (i % gsm.len()) as u16;
            i += 1;
            now += 1;
            r.receive(Input::GsmSms(&segs[0]), now);
            r.receive(Input::GsmSms(&segs[1]), now);
            let out = r.receive(Input::GsmSms(&segs[2]), now);
            assert!(matches!(out, Output::StartSession(_)));
            r.notifications().session_finished("srv", s);
        })
    });
    let mut r = Router::new(RouterConfig::default(), Box::new(One));
    let mut i = 0usize;
    group.bench_function("udp", |b| {
        b.iter(|| {
            let s = (i % udp.len()) as u16;
            let out = r.receive(
                Input::Udp {
                    sender: "10.0.0.1",
                    datagram: &udp[i % udp.len()],
                },
                0,
            );
            i += 1;
            assert!(matches!(out, Output::StartSession(_)));
            r.notifications().session_finished("srv", s);
        })
    });
    group.finish();
}

// criterion_group! generates an undocumented `pub fn`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench_router);
}
criterion_main!(group::benches);
