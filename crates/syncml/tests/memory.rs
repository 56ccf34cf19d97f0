//! Decoding memory is bounded by the input, whatever the message's shape (issue 12.5): a
//! counting allocator measures the peak heap of a decode of hostile shapes (many tiny
//! elements, in XML and WBXML) against the input's size.

use omadm_syncml::{decode_lenient, encode, Encoding, Limits};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Run in a child process (one heap profile per process): decodes case `CASE` and prints
/// its peak heap.
#[test]
fn memory_child() {
    let Ok(case) = std::env::var("OMADM_MEMORY_CASE") else {
        return;
    };
    let case: usize = case.parse().unwrap();
    let input = inputs()[case].2.clone();
    let limits = Limits::default();
    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get();
    let result = decode_lenient(&input, &limits);
    let stats = dhat::HeapStats::get();
    let outcome = match &result {
        Ok(_) => "decoded".to_owned(),
        Err(e) => e.to_string(),
    };
    drop(result);
    println!(
        "\nOMADM-PEAK={};{outcome}",
        stats.max_bytes - before.curr_bytes
    );
}

/// Peak heap (octets) of decoding case `case`, measured in a child process.
fn peak_of_decode(case: usize) -> usize {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "memory_child", "--nocapture", "--test-threads=1"])
        .env("OMADM_MEMORY_CASE", case.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let peak = text
        .lines()
        .find_map(|l| l.split_once("OMADM-PEAK=").map(|(_, p)| p))
        .and_then(|p| p.split(';').next()?.parse().ok());
    match peak {
        Some(p) => p,
        None => panic!(
            "child failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

const HDR: &str = r#"<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>d</LocURI></Target><Source><LocURI>s</LocURI></Source></SyncHdr>"#;

fn xml(body: &str) -> Vec<u8> {
    format!(r#"<SyncML xmlns="SYNCML:SYNCML1.2">{HDR}<SyncBody>{body}</SyncBody></SyncML>"#)
        .into_bytes()
}

/// Hostile shapes: (name, XML bytes). Each is also tried in WBXML when it decodes.
fn shapes(n: usize) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "empty items",
            xml(&format!("<Get><CmdID>1</CmdID>{}</Get>", "<Item/>".repeat(n))),
        ),
        ("empty commands", xml(&"<Add/>".repeat(n))),
        (
            "statuses",
            xml(&"<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Add</Cmd><Data>200</Data></Status>".repeat(n / 8)),
        ),
        (
            "target refs",
            xml(&format!("<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Add</Cmd>{}<Data>200</Data></Status>", "<TargetRef/>".repeat(n))),
        ),
        (
            "tiny gets",
            xml(&"<Get><CmdID>1</CmdID><Item><Target><LocURI>a</LocURI></Target></Item></Get>".repeat(n / 8)),
        ),
        (
            "named targets",
            xml(&format!("<Get><CmdID>1</CmdID>{}</Get>", "<Item><Target><LocURI>a</LocURI><LocName>b</LocName></Target></Item>".repeat(n / 8))),
        ),
        (
            "alert items",
            xml(&format!("<Alert><CmdID>1</CmdID><Data>1226</Data>{}</Alert>", "<Item><Data/></Item>".repeat(n / 2))),
        ),
        (
            "empty atomics",
            xml(&"<Atomic><CmdID>1</CmdID></Atomic>".repeat(n / 4)),
        ),
    ]
}

/// The most heap one input octet may cost while decoding (the default budget: 16 per input
/// octet, plus 4 KiB).
const MAX_BYTES_PER_INPUT_BYTE: usize = 16;
const SLACK: usize = 4096;

/// WBXML of `xml` with the first occurrence of `from` (after the header) replaced by `to`.
fn wbxml_splice(xml: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let (msg, _) = decode_lenient(xml, &Limits::default()).unwrap();
    let wbxml = encode(&msg, Encoding::Wbxml);
    let at = wbxml
        .windows(from.len())
        .rposition(|w| w == from)
        .expect("pattern in the encoding");
    let mut out = wbxml[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&wbxml[at + from.len()..]);
    out
}

/// Hostile WBXML made token by token: one-octet elements, and a string-table entry
/// referenced again and again.
fn raw_wbxml_shapes(n: usize) -> Vec<(&'static str, Vec<u8>)> {
    // An empty Item is the single token 0x14 (our writer sends 0x54 0x01).
    let one_item = xml(r#"<Get><CmdID>1</CmdID><Item/></Get>"#);
    let items = wbxml_splice(&one_item, &[0x54, 0x01], &vec![0x14; n]);
    // An empty Add (0x05, no CmdID: each one a malformed command) in the body.
    let one_final = xml("<Final/>");
    let adds = wbxml_splice(&one_final, &[0x12], &vec![0x05; n]);
    // Data made of N references (STR_T 0) to a 1000-octet table string.
    let data =
        xml(r#"<Alert><CmdID>1</CmdID><Data>1226</Data><Item><Data>x</Data></Item></Alert>"#);
    let mut refs = Vec::new();
    for _ in 0..n / 2 {
        refs.extend_from_slice(&[0x83, 0x00]);
    }
    let mut table_bomb = wbxml_splice(&data, &[0x03, b'x', 0x00], &refs);
    // Header 02 A4 01 6A 00: replace the empty string table (00) by one of 1001 octets.
    assert_eq!(&table_bomb[..5], &[0x02, 0xA4, 0x01, 0x6A, 0x00]);
    let mut table = vec![0x87, 0x69]; // 1001 as a multi-byte integer
    table.extend(std::iter::repeat_n(b'a', 1000));
    table.push(0);
    table_bomb.splice(4..5, table);
    vec![
        ("one-octet items", items),
        ("one-octet malformed commands", adds),
        ("string-table references", table_bomb),
    ]
}

/// Every case: (shape, encoding, input).
fn inputs() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let limits = Limits::default();
    let mut out = Vec::new();
    for (name, bytes) in shapes(20_000) {
        if let Ok((msg, _)) = decode_lenient(&bytes, &limits) {
            out.push((name, "wbxml", encode(&msg, Encoding::Wbxml)));
        }
        out.push((name, "xml", bytes));
    }
    for (name, bytes) in raw_wbxml_shapes(20_000) {
        out.push((name, "raw wbxml", bytes));
    }
    out
}

#[test]
fn decoding_memory_is_bounded_by_the_input_for_hostile_shapes() {
    let mut report = Vec::new();
    let mut worst = 0.0f64;
    for (case, (name, encoding, input)) in inputs().iter().enumerate() {
        let peak = peak_of_decode(case);
        let ratio = peak.saturating_sub(SLACK) as f64 / input.len() as f64;
        worst = worst.max(ratio);
        report.push(format!(
            "{name} ({encoding}, {} octets): peak {peak} octets, {ratio:.1} per input octet",
            input.len()
        ));
    }
    println!("{}", report.join("\n"));
    assert!(
        worst <= MAX_BYTES_PER_INPUT_BYTE as f64,
        "{}",
        report.join("\n")
    );
}

/// Random hostile WBXML bodies (run in a child process): tokens that open, close or fill
/// elements at random, in their thousands. Whatever each decodes to, the heap never exceeds
/// the budget of the largest input.
#[test]
fn memory_child_random() {
    use proptest::test_runner::{Config, TestRunner};
    if std::env::var("OMADM_MEMORY_RANDOM").is_err() {
        return;
    }
    let prefix = wbxml_splice(&xml("<Final/>"), &[0x12], &[]);
    let body_at = prefix.len() - 3; // before the END of SyncBody and SyncML
    let pieces: Vec<Vec<u8>> = vec![
        vec![0x14],                         // <Item/>
        vec![0x54],                         // <Item>
        vec![0x01],                         // END
        vec![0x53],                         // <Get>
        vec![0x4B, 0x03, b'1', 0x00, 0x01], // <CmdID>1</CmdID>
        vec![0x05],                         // <Add/>
        vec![0x69],                         // <Status>
        vec![0x5F],                         // <TargetRef>
        vec![0x03, b'x', 0x00],             // "x"
        vec![0x4F],                         // <Data>
        vec![0xC3, 0x01, 0xFF],             // OPAQUE
        vec![0x48],                         // <Atomic>
    ];
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let _profiler = dhat::Profiler::builder().testing().build();
    let base = dhat::HeapStats::get().curr_bytes;
    let largest = std::cell::Cell::new(0usize);
    runner
        .run(
            &proptest::collection::vec(0..pieces.len(), 1000..20_000),
            |choice| {
                let mut input = prefix[..body_at].to_vec();
                for c in choice {
                    input.extend_from_slice(&pieces[c]);
                }
                input.extend_from_slice(&prefix[body_at..]);
                largest.set(largest.get().max(input.len()));
                let _ = decode_lenient(&input, &Limits::default());
                Ok(())
            },
        )
        .unwrap();
    let peak = dhat::HeapStats::get().max_bytes - base;
    let largest = largest.get();
    println!("\nOMADM-PEAK={peak};largest input {largest}");
    assert!(
        peak <= MAX_BYTES_PER_INPUT_BYTE * largest + 1024 * 1024,
        "peak {peak} for inputs of at most {largest} octets"
    );
}

#[test]
fn random_hostile_bodies_stay_within_the_budget() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "memory_child_random",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OMADM_MEMORY_RANDOM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("OMADM-PEAK="),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
