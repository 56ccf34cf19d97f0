//! Arbitrary bytes into the Client Provisioning decoder and the w7 mapping; MAC checks run too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use omadm_push::cp;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = cp::decode(data) {
        for c in &root.children {
            let _ = cp::w7_account(c);
        }
    }
    let _ = cp::verify(cp::Sec::UserPinMac, "", data, None, Some("12340096"));
});
