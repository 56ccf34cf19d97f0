//! Credentials of OMA DM Security 1.2 §5: `syncml:auth-basic`, `syncml:auth-md5`, and the
//! `x-syncml-hmac` transport header (`syncml:auth-MAC`), built and verified.
//!
//! MD5 comes from the system OpenSSL. The "HMAC" of SyncML is nested MD5, not RFC 2104 HMAC:
//! `mac = B64(MD5(B64(MD5(name ":" password)) ":" nonce ":" B64(MD5(body))))`. Nonces are
//! used as raw octets; on the wire (NextNonce, AAuthData) they travel as Base64, which
//! [`decode_nonce`] undoes. Comparisons are constant-time. Nothing here logs.

use openssl::hash::{hash, MessageDigest};

use crate::b64;
use crate::model::{Cred, Meta};

/// The credential schemes of SyncML DM (Meta Type of Cred and Chal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthScheme {
    /// `syncml:auth-basic`: B64(name ":" password).
    Basic,
    /// `syncml:auth-md5`: B64(MD5(B64(MD5(name ":" password)) ":" nonce)).
    Md5,
    /// `syncml:auth-MAC`: the `x-syncml-hmac` HTTP header over each message.
    Hmac,
}

impl AuthScheme {
    /// The Meta Type naming the scheme.
    pub fn meta_type(self) -> &'static str {
        match self {
            AuthScheme::Basic => "syncml:auth-basic",
            AuthScheme::Md5 => "syncml:auth-md5",
            AuthScheme::Hmac => "syncml:auth-MAC",
        }
    }

    /// The scheme a Meta Type names (case-insensitive, as peers differ in case).
    pub fn from_meta_type(meta_type: &str) -> Option<AuthScheme> {
        let t = meta_type.trim();
        [AuthScheme::Basic, AuthScheme::Md5, AuthScheme::Hmac]
            .into_iter()
            .find(|s| s.meta_type().eq_ignore_ascii_case(t))
    }
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let joined: Vec<u8> = parts.concat();
    let digest = hash(MessageDigest::md5(), &joined).expect("MD5 is available in OpenSSL");
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest);
    out
}

/// `B64(MD5(name ":" password))`, the inner term of every MD5-based credential.
pub fn md5_user_term(name: &str, password: &str) -> String {
    b64::encode(&md5(&[name.as_bytes(), b":", password.as_bytes()]))
}

/// The value of a basic credential.
pub fn basic_value(name: &str, password: &str) -> String {
    b64::encode(format!("{name}:{password}").as_bytes())
}

/// The value of an MD5 digest credential for `nonce` (raw octets).
pub fn md5_value(name: &str, password: &str, nonce: &[u8]) -> String {
    let user = md5_user_term(name, password);
    b64::encode(&md5(&[user.as_bytes(), b":", nonce]))
}

/// The `mac` of an `x-syncml-hmac` header for a message body.
pub fn hmac_mac(name: &str, password: &str, nonce: &[u8], body: &[u8]) -> String {
    let user = md5_user_term(name, password);
    let body_term = b64::encode(&md5(&[body]));
    b64::encode(&md5(&[
        user.as_bytes(),
        b":",
        nonce,
        b":",
        body_term.as_bytes(),
    ]))
}

/// Decodes a nonce as it travels (Base64 text) into raw octets.
pub fn decode_nonce(text: &str) -> Option<Vec<u8>> {
    b64::decode(text).ok()
}

/// Constant-time equality of two credential values.
pub fn values_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

impl Cred<'static> {
    /// A `syncml:auth-basic` credential.
    pub fn basic(name: &str, password: &str) -> Cred<'static> {
        Cred {
            meta: Some(Meta::format_type("b64", AuthScheme::Basic.meta_type())),
            data: basic_value(name, password).into(),
        }
    }

    /// A `syncml:auth-md5` credential for `nonce` (raw octets).
    pub fn md5(name: &str, password: &str, nonce: &[u8]) -> Cred<'static> {
        Cred {
            meta: Some(Meta::format_type("b64", AuthScheme::Md5.meta_type())),
            data: md5_value(name, password, nonce).into(),
        }
    }
}

impl Cred<'_> {
    /// The scheme named by the credential's Meta Type; basic when absent (RepPro default).
    pub fn scheme(&self) -> Option<AuthScheme> {
        match self.meta.as_ref().and_then(|m| m.type_.as_deref()) {
            None => Some(AuthScheme::Basic),
            Some(t) => AuthScheme::from_meta_type(t),
        }
    }

    /// For a basic credential, the name it carries (`None` for other schemes or bad data).
    pub fn basic_name(&self) -> Option<String> {
        if self.scheme()? != AuthScheme::Basic {
            return None;
        }
        let decoded = String::from_utf8(b64::decode(self.data.trim()).ok()?).ok()?;
        decoded.split_once(':').map(|(name, _)| name.to_owned())
    }

    /// Whether the credential proves knowledge of `password` for `name` (and, for MD5, was
    /// made for `nonce`). HMAC is checked on the transport header, never in Cred: false.
    pub fn verify(&self, name: &str, password: &str, nonce: &[u8]) -> bool {
        let data = self.data.trim();
        match self.scheme() {
            Some(AuthScheme::Basic) => values_equal(data, &basic_value(name, password)),
            Some(AuthScheme::Md5) => values_equal(data, &md5_value(name, password, nonce)),
            Some(AuthScheme::Hmac) | None => false,
        }
    }
}

/// The `x-syncml-hmac` HTTP header (DM Security §5.4): `algorithm=MD5, username="name", mac=M`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacHeader {
    /// `algorithm`: only `MD5` is defined (the default when absent).
    pub algorithm: String,
    /// `username`: the sender's name.
    pub username: String,
    /// `mac`: Base64 MAC of the message body.
    pub mac: String,
}

impl HmacHeader {
    /// The header for `body` sent by `name` with `password` and `nonce` (raw octets).
    pub fn compute(name: &str, password: &str, nonce: &[u8], body: &[u8]) -> HmacHeader {
        HmacHeader {
            algorithm: "MD5".to_owned(),
            username: name.to_owned(),
            mac: hmac_mac(name, password, nonce, body),
        }
    }

    /// The header value as sent.
    pub fn to_header_value(&self) -> String {
        let username = self.username.replace('\\', "\\\\").replace('"', "\\\"");
        format!(
            "algorithm={}, username=\"{}\", mac={}",
            self.algorithm, username, self.mac
        )
    }

    /// Parses a header value leniently (any order, optional spaces and quotes, case of the
    /// parameter names ignored). `None` when `username` or `mac` is missing.
    pub fn parse(value: &str) -> Option<HmacHeader> {
        let mut algorithm = None;
        let mut username = None;
        let mut mac = None;
        for (name, val) in split_params(value) {
            match name.to_ascii_lowercase().as_str() {
                "algorithm" => algorithm = Some(val),
                "username" => username = Some(val),
                "mac" => mac = Some(val),
                _ => {}
            }
        }
        Some(HmacHeader {
            algorithm: algorithm.unwrap_or_else(|| "MD5".to_owned()),
            username: username?,
            mac: mac?,
        })
    }

    /// Whether this header authenticates `body` for `password` and `nonce`.
    pub fn verify(&self, password: &str, nonce: &[u8], body: &[u8]) -> bool {
        self.algorithm.eq_ignore_ascii_case("MD5")
            && values_equal(&self.mac, &hmac_mac(&self.username, password, nonce, body))
    }
}

/// Splits `a=1, b="x,y"` into pairs, honouring quoted strings with backslash escapes.
fn split_params(value: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() && chars.peek().is_none() {
            return pairs;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                val.push(escaped)
                            }
                        }
                        c => val.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    val.push(c);
                    chars.next();
                }
            }
        }
        pairs.push((name.trim().to_owned(), val.trim().to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credential_matches_the_spec_vector() {
        assert_eq!(basic_value("Bruce2", "OhBehave"), "QnJ1Y2UyOk9oQmVoYXZl");
    }

    #[test]
    fn md5_credential_matches_the_spec_vector() {
        assert_eq!(
            md5_user_term("Bruce2", "OhBehave"),
            "PtEdr8lBQ45IbT1bZIkrOQ=="
        );
        assert_eq!(
            md5_value("Bruce2", "OhBehave", b"Nonce"),
            "Zz6EivR3yeaaENcRN6lpAQ=="
        );
    }

    #[test]
    fn hmac_mac_matches_the_digest_vector() {
        let body = br#"<SyncML xmlns="SYNCML:SYNCML1.2"></SyncML>"#;
        assert_eq!(
            hmac_mac("Bruce2", "OhBehave", b"Nonce", body),
            "aSBvnDHzBa7JhdjeEEUR2g=="
        );
    }

    #[test]
    fn next_nonce_is_decoded_to_raw_octets() {
        assert_eq!(decode_nonce("ZG9iZWhhdmUNCg==").unwrap(), b"dobehave\r\n");
        assert_eq!(
            decode_nonce("LG3iZQhhdmKNHg==").unwrap(),
            [0x2c, 0x6d, 0xe2, 0x65, 0x08, 0x61, 0x76, 0x62, 0x8d, 0x1e]
        );
    }

    #[test]
    fn cred_verifies_only_with_the_right_password_and_nonce() {
        let cred = Cred::md5("Bruce2", "OhBehave", b"Nonce");
        assert!(cred.verify("Bruce2", "OhBehave", b"Nonce"));
        assert!(!cred.verify("Bruce2", "OhBehave", b"Other"));
        assert!(!cred.verify("Bruce2", "wrong", b"Nonce"));
        let basic = Cred::basic("Bruce2", "OhBehave");
        assert!(basic.verify("Bruce2", "OhBehave", b""));
        assert!(!basic.verify("Bruce2", "x", b""));
        assert_eq!(basic.basic_name().as_deref(), Some("Bruce2"));
    }

    #[test]
    fn cred_without_meta_type_is_basic() {
        let cred = Cred {
            meta: None,
            data: basic_value("a", "b").into(),
        };
        assert_eq!(cred.scheme(), Some(AuthScheme::Basic));
        assert!(cred.verify("a", "b", b""));
    }

    #[test]
    fn auth_scheme_names_are_case_insensitive() {
        assert_eq!(
            AuthScheme::from_meta_type("syncml:auth-mac"),
            Some(AuthScheme::Hmac)
        );
        assert_eq!(
            AuthScheme::from_meta_type("SYNCML:AUTH-MD5"),
            Some(AuthScheme::Md5)
        );
        assert_eq!(AuthScheme::from_meta_type("syncml:auth-x509"), None);
    }

    #[test]
    fn hmac_header_round_trips_and_parses_leniently() {
        let header = HmacHeader::compute("Bruce2", "OhBehave", b"Nonce", b"body");
        let parsed = HmacHeader::parse(&header.to_header_value()).unwrap();
        assert_eq!(parsed, header);
        assert!(parsed.verify("OhBehave", b"Nonce", b"body"));
        assert!(!parsed.verify("OhBehave", b"Nonce", b"body2"));
        let compact = format!("mac={},username=\"Bruce2\"", header.mac);
        let parsed = HmacHeader::parse(&compact).unwrap();
        assert_eq!(parsed.algorithm, "MD5");
        assert!(parsed.verify("OhBehave", b"Nonce", b"body"));
        assert!(HmacHeader::parse("algorithm=MD5, mac=abc").is_none());
        assert!(HmacHeader::parse("").is_none());
    }
}
