//! Arbitrary bytes into the CDMA WAP decoder, both options; what decodes re-encodes to the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use omadm_push::cdma::{CdmaOptions, CdmaWap};

fuzz_target!(|data: &[u8]| {
    let _ = CdmaWap::decode(data, CdmaOptions { repeated_ports_quirk: true });
    if let Ok(m) = CdmaWap::decode(data, CdmaOptions::default()) {
        if m.payload.len() < 200 && m.originator.bytes().all(|b| b.is_ascii_digit() && b != b'0') {
            assert_eq!(CdmaWap::decode(&m.encode(), CdmaOptions::default()).unwrap(), m);
        }
    }
});
