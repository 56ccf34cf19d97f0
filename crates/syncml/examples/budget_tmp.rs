//! tmp
fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap();
        for per in [8usize, 12, 16, 24, 32, 64] {
            let limits = omadm_syncml::Limits {
                max_bytes_per_input_byte: per,
                ..Default::default()
            };
            let r = omadm_syncml::decode_lenient(&bytes, &limits);
            println!(
                "{path} {per}: {}",
                if r.is_ok() {
                    "ok".to_string()
                } else {
                    format!("{}", r.err().unwrap())
                }
            );
        }
    }
}
