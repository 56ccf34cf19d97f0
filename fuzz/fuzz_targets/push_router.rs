//! The router as a whole: the input is cut into frames (first octet: bearer and length) and
//! fed in order; no panic, and the reassembler stays within its caps.
#![no_main]
use libfuzzer_sys::fuzz_target;
use omadm_push::router::RouterConfig;
use omadm_push::{AccountLookup, Input, Router, ServerCredentials};

struct One;
impl AccountLookup for One {
    fn server_credentials(&self, id: &str) -> Option<ServerCredentials> {
        (id == "srv").then(|| ServerCredentials { name: "srv".into(), secret: "pw".into(), nonce: vec![], nonce_resync: true })
    }
}

fuzz_target!(|data: &[u8]| {
    let config = RouterConfig { known_ppgs: vec!["+1".into()], ..RouterConfig::default() };
    let limits = config.reassembly;
    let mut r = Router::new(config, Box::new(One));
    r.register(Some("text/plain"), None).unwrap();
    let mut pos = 0;
    let mut now = 0u64;
    while pos < data.len() {
        let head = data[pos];
        let len = usize::from(head & 0x3F) * 4;
        let frame = &data[pos + 1..(pos + 1 + len).min(data.len())];
        pos += 1 + len;
        now += 1000;
        let input = match head >> 6 {
            0 => Input::GsmSms(frame),
            1 => Input::CdmaSms(frame),
            _ => Input::Udp { sender: "+1", datagram: frame },
        };
        let _ = r.receive(input, now);
        assert!(r.reassembler().pending() <= limits.max_pending);
        assert!(r.reassembler().buffered_bytes() <= limits.max_bytes);
    }
});
