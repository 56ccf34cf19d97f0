//! Base64 as SyncML uses it (RFC 4648 standard alphabet, with padding). Decoding tolerates
//! the white space and line breaks peers put into long values.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Encodes `bytes` as padded standard Base64.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes padded standard Base64, ignoring ASCII white space.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if text.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        STANDARD.decode(compact)
    } else {
        STANDARD.decode(text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decode_ignores_line_breaks() {
        assert_eq!(
            super::decode("ZG9iZWhh\r\ndmUNCg==").unwrap(),
            b"dobehave\r\n"
        );
    }

    #[test]
    fn decode_rejects_garbage() {
        assert!(super::decode("not base64!").is_err());
    }
}
