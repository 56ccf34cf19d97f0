//! Allocations and peak heap per command executed: a counting global allocator around one
//! server message in → reply out (decode, execute every command, encode), with a fresh device
//! each time (its setup not counted). Messages: the samples, and a generated message of N
//! Gets of one leaf (the large-message case: every Get answered with a Status and a Results).
//! Run: `cargo bench -p omadm-dpu --bench allocations`; prints a table.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

mod device;

use omadm_syncml::{
    Command, DmVersion, Encoding, Item, ItemCommand, Limits, Location, SyncBody, SyncHdr, SyncMl,
};

/// Counts calls and live bytes; keeps the peak of live bytes.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if new_size >= layout.size() {
            let grow = new_size - layout.size();
            let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count_commands(commands: &[Command]) -> usize {
    commands
        .iter()
        .map(|c| match c {
            Command::Atomic(k) | Command::Sequence(k) => 1 + count_commands(&k.commands),
            Command::Status(_) | Command::Results(_) => 0,
            _ => 1,
        })
        .sum()
}

/// `n` Gets of `./Vendor/memory/leaf` (created by an Add first), as the server would send.
fn gets(n: usize, encoding: Encoding) -> Vec<u8> {
    let mut commands = vec![Command::Add(ItemCommand::new(
        "1",
        vec![Item::target("./Vendor/memory/leaf").with_data("value")],
    ))];
    for i in 0..n {
        commands.push(Command::Get(ItemCommand::new(
            (i + 2).to_string(),
            vec![Item::target("./Vendor/memory/leaf")],
        )));
    }
    let msg = SyncMl {
        header: SyncHdr::new(
            DmVersion::V1_2,
            "1",
            "1",
            Location::new("IMEI:1"),
            Location::new("http://127.0.0.1:8080/funambol/dm"),
        ),
        body: SyncBody {
            commands,
            is_final: true,
        },
    };
    omadm_syncml::encode(&msg, encoding)
}

fn measure(name: &str, message: &[u8], encoding: Encoding) {
    let (decoded, _) = omadm_syncml::decode_lenient(message, &Limits::default()).unwrap();
    let commands = count_commands(&decoded.body.commands).max(1);
    drop(decoded);
    let (mut cm, mut session) = device::device(encoding, message.len() as u64 * 4 + 65_536);
    let before_live = LIVE.load(Ordering::SeqCst);
    PEAK.store(before_live, Ordering::SeqCst);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let reply = session.handle(&mut cm, message).unwrap();
    let allocations = ALLOCATIONS.load(Ordering::SeqCst) - before;
    let peak = PEAK.load(Ordering::SeqCst) - before_live;
    drop(reply);
    println!(
        "| {name} | {} B | {commands} | {allocations} | {:.1} | {:.1} KB | {:.0} B | {:.1} |",
        message.len(),
        allocations as f64 / commands as f64,
        peak as f64 / 1024.0,
        peak as f64 / commands as f64,
        peak as f64 / message.len() as f64,
    );
}

fn main() {
    println!("| message | size | commands | allocations | per command | peak heap | per command | per input byte |");
    println!("|---|---|---|---|---|---|---|---|");
    for file in [
        "pkg2_mixed.xml",
        "pkg2_mixed.wbxml",
        "pkg2_80cmds.xml",
        "pkg2_80cmds.wbxml",
    ] {
        let message = device::sample(file);
        let encoding = if file.ends_with("wbxml") {
            Encoding::Wbxml
        } else {
            Encoding::Xml
        };
        measure(file, &message, encoding);
    }
    // One Get shows what a message costs whatever its commands (header, reply buffers,
    // the session's bookkeeping); many show what each command adds.
    for n in [1, 100, 10_000] {
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            let message = gets(n, encoding);
            let name = format!("{n} Gets ({encoding:?})");
            measure(&name, &message, encoding);
        }
    }
}
