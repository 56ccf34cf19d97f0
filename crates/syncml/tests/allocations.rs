//! What decoding and encoding a common message allocate (issue 16), counted by a counting
//! allocator: the command list is made once, sized from the input, instead of copied as it
//! grows; the buffer `encode` writes into is made once, sized from the commands.

use omadm_syncml::{
    decode, encode, Command, DmVersion, Encoding, Item, ItemCommand, Limits, Location, Meta,
    SyncBody, SyncHdr, SyncMl,
};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// A server's package of `n` commands, in the proportions of a common one: Adds and
/// Replaces of short values with Format and Type, Gets and Deletes of short URIs.
fn package(n: usize) -> SyncMl<'static> {
    let header = SyncHdr::new(
        DmVersion::V1_2,
        "7",
        "2",
        Location::new("IMEI:356938035643809"),
        Location::new("https://dm.example.com/dm"),
    );
    let commands = (0..n)
        .map(|i| {
            let id = (i + 2).to_string();
            let uri = format!("./Vendor/example/node{}", i % 20);
            let valued = || {
                let mut item = Item::target(uri.clone()).with_data(format!("value-{i}"));
                item.meta = Some(Meta::format_type("chr", "text/plain"));
                vec![item]
            };
            match i % 4 {
                0 => Command::Add(ItemCommand::new(id, valued())),
                1 => Command::Replace(ItemCommand::new(id, valued())),
                2 => Command::Get(ItemCommand::new(id, vec![Item::target(uri)])),
                _ => Command::Delete(ItemCommand::new(id, vec![Item::target(uri)])),
            }
        })
        .collect();
    SyncMl {
        header,
        body: SyncBody {
            commands,
            is_final: true,
        },
    }
}

/// Blocks allocated while `f` runs.
fn blocks<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = dhat::HeapStats::get().total_blocks;
    let value = f();
    (value, dhat::HeapStats::get().total_blocks - before)
}

#[test]
fn a_common_message_is_decoded_into_one_list_and_encoded_into_one_buffer_and_a_large_one_reserves_few_slots(
) {
    let _profiler = dhat::Profiler::builder().testing().build();
    for encoding in [Encoding::Xml, Encoding::Wbxml] {
        // What a message of one command takes: the reader's own (the XML reader's stacks of
        // open elements and namespaces), the list.
        let one = encode(&package(1), encoding);
        let (_, for_one) = blocks(|| decode(&one, &Limits::default()).unwrap().0);
        for n in [1, 9, 80, 250] {
            let input = encode(&package(n), encoding);
            let (msg, decoded) = blocks(|| decode(&input, &Limits::default()).unwrap().0);
            assert_eq!(msg.body.commands.len(), n);
            // Nothing more for more commands: the list is made once, and an Item's Meta (the
            // Adds' and Replaces', a Format and a Type) is kept in the Item.
            assert_eq!(decoded, for_one, "{encoding:?}, {n} commands");
            let (output, encoded) = blocks(|| encode(&msg, encoding));
            assert_eq!(encoded, 1, "{encoding:?}, {n} commands");
            assert_eq!(output, input);
        }
    }
    // In the same test: the allocator counts every thread's blocks.
    a_message_of_few_large_commands_reserves_a_bounded_list();
}

/// One Replace of a 1 MB value (a large object's chunk) after a Get: the input's size
/// suggests thousands of commands, but at most 256 slots are reserved.
fn a_message_of_few_large_commands_reserves_a_bounded_list() {
    let mut msg = package(2);
    if let Command::Replace(c) = &mut msg.body.commands[1] {
        c.items[0] = Item::target("./FwUpdate/pkg1/Data").with_data("x".repeat(1 << 20));
    }
    for encoding in [Encoding::Xml, Encoding::Wbxml] {
        let input = encode(&msg, encoding);
        let (decoded, _) = decode(&input, &Limits::default()).unwrap();
        assert_eq!(decoded.body.commands.len(), 2);
        let reserved = decoded.body.commands.capacity();
        assert!(reserved <= 256, "{encoding:?}: {reserved}");
    }
}
