//! Arbitrary bytes into the package #0 decoder; whatever decodes re-encodes to its trigger.
#![no_main]
use libfuzzer_sys::fuzz_target;
use omadm_syncml::notification::Package0;

fuzz_target!(|data: &[u8]| {
    if let Ok(pkg) = Package0::decode(data) {
        let _ = pkg.verify("password", b"nonce");
        let n = &pkg.notification;
        // The 27 future-use bits are not modelled; everything else must survive.
        let trigger = n.trigger();
        assert_eq!(trigger[8..], pkg.trigger[8..]);
        assert_eq!(Package0::decode(&n.encode("pw", b"")).unwrap().notification, *n);
    }
});
