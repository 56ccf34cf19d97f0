//! Arbitrary bytes into the GSM SMS-DELIVER decoder (with and without SMSC); what decodes
//! re-encodes to a TPDU that decodes to the same ports and concatenation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use omadm_push::gsm::SmsDeliver;

fuzz_target!(|data: &[u8]| {
    let _ = SmsDeliver::decode_with_smsc(data);
    if let Ok(sms) = SmsDeliver::decode(data) {
        if omadm_push::gsm::is_8bit(sms.dcs) && sms.udh.iter().all(|ie| ie.data.len() < 200) {
            let again = SmsDeliver::decode(&sms.encode());
            if let Ok(again) = again {
                assert_eq!(again.ports(), sms.ports());
                assert_eq!(again.concat(), sms.concat());
            }
        }
    }
});
