//! Decodes the 80-command sample many times (for profilers).
fn main() {
    let enc = std::env::args().nth(1).unwrap_or_else(|| "wbxml".into());
    let path = format!(
        "{}/../../../shared/samples/pkg2_80cmds.{enc}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).unwrap();
    let limits = omadm_syncml::Limits::default();
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let start = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(omadm_syncml::decode(&bytes, &limits).unwrap());
    }
    println!("{:?} per decode", start.elapsed() / n as u32);
}
