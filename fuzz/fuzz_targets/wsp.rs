//! Arbitrary bytes into the WSP push decoder; what decodes re-encodes and decodes again to
//! the same content type, application id and body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use omadm_push::WspPush;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = WspPush::decode(data) {
        if !p.content_type.media.contains('\0') && p.content_type.params.iter().all(|(k, v)| !k.contains('\0') && !v.contains('\0') && !k.is_empty() && !k.starts_with("0x") && k.bytes().next().is_some_and(|b| (0x20..0x7F).contains(&b))) {
            if let Ok(again) = WspPush::decode(&p.encode()) {
                assert_eq!(again.body, p.body);
            }
        }
    }
});
