//! Arbitrary bytes into the WBXML decoder (strict and lenient); whatever decodes must
//! re-encode and decode to the same model. The decoder's one-step readings (a location, a
//! leaf, an item command's start, an Item's Target, Meta and Data, an end) must give what
//! reading element by element gives: the same message or the same error at the same offset.
#![no_main]
use libfuzzer_sys::fuzz_target;
use omadm_syncml::{wbxml, Limits};

const LIMITS: Limits = Limits { max_input_bytes: 1 << 20, max_depth: 32, max_elements: 100_000, max_bytes_per_input_byte: 64 };

/// The limits for decoding again a message of `again` octets decoded from `input` octets:
/// the same total memory budget. The message written again can hold more model per octet
/// than its input (the malformed commands dropped, a denser form), and the budget is a
/// resource limit, not part of what the message means.
fn same_budget(input: usize, again: usize) -> Limits {
    let scale = input.div_ceil(again.max(1)).max(1);
    Limits {
        max_bytes_per_input_byte: LIMITS.max_bytes_per_input_byte * scale,
        ..LIMITS
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = wbxml::decode(data, &LIMITS);
    let lenient = wbxml::decode_lenient(data, &LIMITS);
    // (The step-by-step reader exists only under cargo fuzz's `--cfg fuzzing`, not in the
    // plain build check of the fuzz targets.)
    #[cfg(fuzzing)]
    assert_eq!(lenient, wbxml::decode_lenient_step_by_step(data, &LIMITS));
    if let Ok(mut msg) = lenient {
        msg.body.commands.retain(|c| c.first_malformed().is_none());
        let bytes = wbxml::encode(&msg);
        let again = wbxml::decode(&bytes, &same_budget(data.len(), bytes.len()))
            .expect("our own WBXML decodes");
        assert_eq!(again, msg);
    }
});
