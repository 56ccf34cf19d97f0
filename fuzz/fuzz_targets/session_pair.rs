//! The simulated device–server pair (crates/agent/tests/sim) driven with random fault
//! scripts and settings: whatever the transport does, nothing panics, every session ends,
//! no command runs twice in one session attempt, and no pending generic alert is lost (each
//! is still pending on the device, or the server received it).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/agent/tests/sim/mod.rs"]
mod sim;

use sim::{Fault, Pair};

const STATUSES: [u16; 12] = [200, 400, 401, 403, 404, 408, 415, 429, 500, 501, 503, 505];

fn fault(b: u8) -> Fault {
    match b % 10 {
        0 | 1 => Fault::None,
        2 => Fault::Status(STATUSES[usize::from(b / 10) % STATUSES.len()]),
        3 => Fault::Refused,
        4 => Fault::DropResponse,
        5 => Fault::Duplicate,
        6 => Fault::CutShort,
        7 => Fault::Truncated,
        8 => Fault::Slow,
        _ => Fault::Tls,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let value = "v".repeat(3000);
    let jobs = format!(
        "AddNode ./Vendor/memory/p\nAdd ./Vendor/memory/p/v {value}\nGet ./DevInfo/Man\nExec ./X run\nReplace ./Vendor/memory/p/v x\n"
    );
    let mut p = Pair::with(&jobs, |c| c.accept_v12 = head & 0x40 == 0 || head & 0x20 == 0);
    p.settings.max_msg_size = [1024, 2048, 4096, 16 * 1024, 64 * 1024][usize::from(head % 5)];
    p.settings.once = head & 0x08 != 0;
    p.settings.fallback.attempts = u32::from(head >> 6);
    p.account.ext.conn_retry_freq = u32::from((head >> 4) & 3);
    if head & 0x80 != 0 {
        p.account.ext.default_encoding = "application/vnd.syncml.dm+wbxml".into();
    }
    let added = ["result-1".to_owned(), "result-2".to_owned()];
    for a in &added {
        p.add_alert(a);
    }
    // The script: one fault per request; a 0xff byte starts the next session's script.
    for script in rest.split(|b| *b == 0xff).take(3) {
        let faults: Vec<Fault> = script.iter().take(64).map(|b| fault(*b)).collect();
        p.script(&faults);
        let run = p.session();
        assert!(run.last().is_final());
        p.assert_nothing_ran_twice();
        p.assert_no_alert_lost(&added);
    }
});
