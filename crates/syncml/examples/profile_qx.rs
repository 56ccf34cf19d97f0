//! Raw quick-xml event iteration over the 80-command sample (a floor for the XML decoder).
fn main() {
    let path = format!(
        "{}/../../../shared/samples/pkg2_80cmds.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).unwrap();
    let n = 2000;
    for ns in [false, true] {
        let start = std::time::Instant::now();
        let mut count = 0usize;
        for _ in 0..n {
            if ns {
                let mut r = quick_xml::NsReader::from_reader(&bytes[..]);
                loop {
                    match r.read_resolved_event() {
                        Ok((_, quick_xml::events::Event::Eof)) | Err(_) => break,
                        Ok(_) => count += 1,
                    }
                }
            } else {
                let mut r = quick_xml::Reader::from_reader(&bytes[..]);
                loop {
                    match r.read_event() {
                        Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                        Ok(_) => count += 1,
                    }
                }
            }
        }
        println!(
            "ns={ns}: {:?} per pass ({} events)",
            start.elapsed() / n,
            count / n as usize
        );
    }
}
