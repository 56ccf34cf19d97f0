//! Reading a command's input: a file, or standard input for `-` or no argument; optionally
//! hex text instead of raw bytes.

use std::io::Read;
use std::path::Path;

/// Inputs larger than this are refused before they are read whole.
const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// Reads `path` (`None` or `-` = stdin); with `hex`, decodes hex text (white space, `:` and
/// a leading `0x` ignored).
pub fn read_input(path: Option<&Path>, hex: bool) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    match path {
        Some(p) if p != Path::new("-") => {
            let file = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            file.take(MAX_INPUT + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .take(MAX_INPUT + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("stdin: {e}"))?;
        }
    }
    if bytes.len() as u64 > MAX_INPUT {
        return Err(format!("input larger than {MAX_INPUT} bytes"));
    }
    if hex {
        decode_hex(&bytes)
    } else {
        Ok(bytes)
    }
}

/// Decodes hex text, ignoring white space, `:` separators and a leading `0x`.
pub fn decode_hex(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "hex input is not text".to_owned())?;
    let text = text.trim();
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err("hex input has an odd number of digits".into());
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            let s = std::str::from_utf8(pair).unwrap_or("??");
            u8::from_str_radix(s, 16).map_err(|_| format!("bad hex digits {s:?} at pair {i}"))
        })
        .collect()
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ignores_separators_and_prefix() {
        assert_eq!(decode_hex(b"0x01 02:0a\nFF").unwrap(), [1, 2, 10, 255]);
        assert!(decode_hex(b"123").is_err());
        assert!(decode_hex(b"zz").is_err());
        assert_eq!(to_hex(&[0, 255]), "00ff");
    }
}
