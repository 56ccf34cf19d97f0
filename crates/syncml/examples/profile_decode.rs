//! Decodes the 80-command sample many times (for profilers).
//!
//! `profile_decode [xml|wbxml] [N] [codec]`: with `codec`, as the codec bench does, the
//! sample is first re-encoded by this crate's writer, and each iteration decodes it and
//! encodes the result again (decode + encode).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let enc = args.get(1).map_or("wbxml", String::as_str).to_owned();
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let codec = args.get(3).is_some_and(|a| a == "codec");
    let path = format!(
        "{}/../../../shared/samples/pkg2_80cmds.{enc}",
        env!("CARGO_MANIFEST_DIR")
    );
    let limits = omadm_syncml::Limits::default();
    let mut bytes = std::fs::read(path).unwrap();
    if codec {
        let (msg, _) = omadm_syncml::decode(&bytes, &limits).unwrap();
        bytes = match enc.as_str() {
            "xml" => omadm_syncml::xml::encode(&msg),
            _ => omadm_syncml::wbxml::encode(&msg),
        };
    }
    let start = std::time::Instant::now();
    for _ in 0..n {
        let (msg, _) = omadm_syncml::decode(&bytes, &limits).unwrap();
        if codec {
            std::hint::black_box(match enc.as_str() {
                "xml" => omadm_syncml::xml::encode(&msg),
                _ => omadm_syncml::wbxml::encode(&msg),
            });
        }
        std::hint::black_box(msg);
    }
    let what = if codec { "decode + encode" } else { "decode" };
    println!("{:?} per {what}", start.elapsed() / n as u32);
}
