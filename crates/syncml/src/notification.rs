//! Package #0: the General Notification Initiated Session Alert (OMA-TS-DM_Notification-V1_2
//! §6.2), which a server sends by WAP push to make the device open a session.
//!
//! Layout: a 16-octet MD5 digest, then a 64-bit big-endian word `version(10) ui-mode(2)
//! initiator(1) future-use(27) session-id(16) server-id-length(8)`, the server identifier,
//! and an optional vendor-specific body. The digest is
//! `MD5(B64(MD5(server-id ":" password)) ":" nonce ":" B64(MD5(trigger)))` with `trigger`
//! every octet after the digest, the password and nonce being the account's server
//! credentials (AAuthLevel SRVCRED).
//!
//! Version: 11 is what the DM 1.2 specification's example and every client looked at use, so
//! [`Notification::new`] sends 11. Decoding accepts 10 (the "1.0" value of the DM 1.1.2-era
//! form, same layout), 11, and 12 (sent by some servers, e.g. the project's
//! `pkg0_v12.bin` sample); any other version is [`ErrorKind::UnsupportedNotificationVersion`].
//! The 27 future-use bits are ignored on receipt, but the digest covers the octets exactly as
//! received.

use openssl::hash::{hash, MessageDigest};

use crate::b64;
use crate::error::{DecodeError, ErrorKind};

/// Length of the digest plus the fixed header.
const FIXED_LEN: usize = 24;

/// The notification versions decoding accepts.
pub const ACCEPTED_VERSIONS: [u16; 3] = [10, 11, 12];

/// The four-octet zero nonce of nonce resynchronisation (DM Notification 1.2).
pub const RESYNC_NONCE: [u8; 4] = [0, 0, 0, 0];

/// The server's recommendation about user involvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UiMode {
    /// 0: not specified, the client decides.
    NotSpecified = 0,
    /// 1: run the session in the background.
    Background = 1,
    /// 2: inform the user that a session starts.
    Informative = 2,
    /// 3: ask the user before starting.
    UserInteraction = 3,
}

impl UiMode {
    /// The mode for the 2-bit field value.
    pub fn from_bits(bits: u8) -> UiMode {
        match bits & 3 {
            0 => UiMode::NotSpecified,
            1 => UiMode::Background,
            2 => UiMode::Informative,
            _ => UiMode::UserInteraction,
        }
    }

    /// A stable lower-case name (`not-specified`, `background`, `informative`,
    /// `user-interaction`).
    pub fn name(self) -> &'static str {
        match self {
            UiMode::NotSpecified => "not-specified",
            UiMode::Background => "background",
            UiMode::Informative => "informative",
            UiMode::UserInteraction => "user-interaction",
        }
    }
}

/// Who caused the notification (informational: the client answers with Alert 1200 either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// 0: the user (or client) caused it.
    User = 0,
    /// 1: the server (operator) caused it.
    Server = 1,
}

impl Initiator {
    /// A stable lower-case name (`user`, `server`).
    pub fn name(self) -> &'static str {
        match self {
            Initiator::User => "user",
            Initiator::Server => "server",
        }
    }
}

/// The content of a package #0, without its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The version field (11 for DM 1.2).
    pub version: u16,
    /// The UI mode.
    pub ui_mode: UiMode,
    /// The initiator.
    pub initiator: Initiator,
    /// The session id, echoed as the SessionID of the session it starts.
    pub session_id: u16,
    /// The server identifier, matched against `DMAcc/<x>/ServerID`.
    pub server_id: String,
    /// The vendor-specific body (may be empty).
    pub vendor_specific: Vec<u8>,
}

/// A decoded package #0: the notification, its digest, and the octets the digest covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package0 {
    /// The 16-octet MD5 digest as received.
    pub digest: [u8; 16],
    /// The decoded fields.
    pub notification: Notification,
    /// Every octet after the digest, exactly as received.
    pub trigger: Vec<u8>,
}

impl Notification {
    /// A DM 1.2 notification (version 11), server-initiated, with no vendor body.
    pub fn new(server_id: impl Into<String>, session_id: u16, ui_mode: UiMode) -> Self {
        Notification {
            version: 11,
            ui_mode,
            initiator: Initiator::Server,
            session_id,
            server_id: server_id.into(),
            vendor_specific: Vec::new(),
        }
    }

    /// The trigger octets: header word, server identifier, vendor body. Server identifiers
    /// longer than 255 octets cannot be expressed and are truncated at a character boundary.
    pub fn trigger(&self) -> Vec<u8> {
        let id = truncate_to(&self.server_id, 255);
        let word: u64 = (u64::from(self.version & 0x3FF) << 54)
            | ((self.ui_mode as u64) << 52)
            | ((self.initiator as u64) << 51)
            | (u64::from(self.session_id) << 8)
            | id.len() as u64;
        let mut out = Vec::with_capacity(8 + id.len() + self.vendor_specific.len());
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&self.vendor_specific);
        out
    }

    /// Encodes the package: digest (from `server_password` and `nonce`) then trigger.
    pub fn encode(&self, server_password: &str, nonce: &[u8]) -> Vec<u8> {
        let trigger = self.trigger();
        let id = truncate_to(&self.server_id, 255);
        let digest = compute_digest(id, server_password, nonce, &trigger);
        let mut out = Vec::with_capacity(16 + trigger.len());
        out.extend_from_slice(&digest);
        out.extend_from_slice(&trigger);
        out
    }

    /// The session id as a SessionID: upper-case hex without leading zeros (0x00AB → `AB`).
    pub fn session_id_text(&self) -> String {
        session_id_text(self.session_id)
    }
}

/// Formats a notification session id as the SyncHdr SessionID of its session.
pub fn session_id_text(session_id: u16) -> String {
    format!("{session_id:X}")
}

fn truncate_to(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn md5(data: &[u8]) -> [u8; 16] {
    let digest = hash(MessageDigest::md5(), data).expect("MD5 is available in OpenSSL");
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest);
    out
}

/// `MD5(B64(MD5(server_id ":" password)) ":" nonce ":" B64(MD5(trigger)))`.
pub fn compute_digest(server_id: &str, password: &str, nonce: &[u8], trigger: &[u8]) -> [u8; 16] {
    let user = b64::encode(&md5(format!("{server_id}:{password}").as_bytes()));
    let body = b64::encode(&md5(trigger));
    let mut input = Vec::with_capacity(user.len() + nonce.len() + body.len() + 2);
    input.extend_from_slice(user.as_bytes());
    input.push(b':');
    input.extend_from_slice(nonce);
    input.push(b':');
    input.extend_from_slice(body.as_bytes());
    md5(&input)
}

impl Package0 {
    /// Decodes a package #0.
    pub fn decode(input: &[u8]) -> Result<Package0, DecodeError> {
        if input.len() < FIXED_LEN {
            return Err(DecodeError::new(
                ErrorKind::Truncated {
                    needed: FIXED_LEN,
                    found: input.len(),
                },
                input.len(),
            ));
        }
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&input[..16]);
        let mut word_bytes = [0u8; 8];
        word_bytes.copy_from_slice(&input[16..24]);
        let word = u64::from_be_bytes(word_bytes);
        let version = (word >> 54) as u16;
        if !ACCEPTED_VERSIONS.contains(&version) {
            return Err(DecodeError::new(
                ErrorKind::UnsupportedNotificationVersion(version),
                16,
            ));
        }
        let ui_mode = UiMode::from_bits((word >> 52) as u8);
        let initiator = if (word >> 51) & 1 == 1 {
            Initiator::Server
        } else {
            Initiator::User
        };
        let session_id = (word >> 8) as u16;
        let id_len = (word & 0xFF) as usize;
        if id_len == 0 {
            return Err(DecodeError::new(ErrorKind::EmptyServerId, 23));
        }
        let id_end = FIXED_LEN + id_len;
        if input.len() < id_end {
            return Err(DecodeError::new(
                ErrorKind::Truncated {
                    needed: id_end,
                    found: input.len(),
                },
                input.len(),
            ));
        }
        let server_id = std::str::from_utf8(&input[FIXED_LEN..id_end])
            .map_err(|e| DecodeError::new(ErrorKind::InvalidUtf8, FIXED_LEN + e.valid_up_to()))?
            .to_owned();
        Ok(Package0 {
            digest,
            notification: Notification {
                version,
                ui_mode,
                initiator,
                session_id,
                server_id,
                vendor_specific: input[id_end..].to_vec(),
            },
            trigger: input[16..].to_vec(),
        })
    }

    /// Whether the digest is right for `server_password` and `nonce` (raw octets), using the
    /// package's server identifier as the name. Constant-time comparison.
    pub fn verify(&self, server_password: &str, nonce: &[u8]) -> bool {
        self.verify_as(&self.notification.server_id, server_password, nonce)
    }

    /// As [`Package0::verify`], with an explicit name (an account whose SRVCRED AAuthName
    /// differs from the ServerID, as libdmclient uses).
    pub fn verify_as(&self, name: &str, server_password: &str, nonce: &[u8]) -> bool {
        let expected = compute_digest(name, server_password, nonce, &self.trigger);
        openssl::memcmp::eq(&expected, &self.digest)
    }

    /// The digest the package should carry for these credentials.
    pub fn expected_digest(&self, server_password: &str, nonce: &[u8]) -> [u8; 16] {
        compute_digest(
            &self.notification.server_id,
            server_password,
            nonce,
            &self.trigger,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Digest §10.1: the specification's example with VEC digests.
    #[test]
    fn spec_example_decodes_and_verifies_with_the_zero_nonce() {
        let bytes = hex(
            "4e94c58c36a8c50aabcdbe0c296b2ba702d0000000123412636f6d2e6d676d747372762e6d616e616765",
        );
        let pkg = Package0::decode(&bytes).unwrap();
        let n = &pkg.notification;
        assert_eq!(n.version, 11);
        assert_eq!(n.ui_mode, UiMode::Background);
        assert_eq!(n.initiator, Initiator::User);
        assert_eq!(n.session_id, 0x1234);
        assert_eq!(n.server_id, "com.mgmtsrv.manage");
        assert!(n.vendor_specific.is_empty());
        assert!(pkg.verify("secret", &RESYNC_NONCE));
        assert!(!pkg.verify("secret", b"nonce123"));
        assert_eq!(
            pkg.expected_digest("secret", b"nonce123").to_vec(),
            hex("2b999036d6fe68bffb9e29acf3a6790d")
        );
    }

    #[test]
    fn encode_reproduces_the_spec_example_bytes() {
        let mut n = Notification::new("com.mgmtsrv.manage", 0x1234, UiMode::Background);
        n.initiator = Initiator::User;
        let bytes = n.encode("secret", &RESYNC_NONCE);
        assert_eq!(
            bytes,
            hex("4e94c58c36a8c50aabcdbe0c296b2ba702d0000000123412636f6d2e6d676d747372762e6d616e616765")
        );
    }

    #[test]
    fn flipping_any_trigger_byte_breaks_the_digest() {
        let n = Notification::new("srv", 7, UiMode::Informative);
        let bytes = n.encode("pw", b"n");
        for i in 16..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            if let Ok(pkg) = Package0::decode(&bad) {
                assert!(!pkg.verify("pw", b"n"), "byte {i}");
            }
        }
    }

    #[test]
    fn session_id_is_upper_hex_without_leading_zeros() {
        assert_eq!(session_id_text(0x1234), "1234");
        assert_eq!(session_id_text(0x00AB), "AB");
        assert_eq!(session_id_text(0x0001), "1");
        assert_eq!(session_id_text(0xFFFF), "FFFF");
    }

    #[test]
    fn versions_outside_10_to_12_are_refused() {
        let mut n = Notification::new("srv", 1, UiMode::Background);
        n.version = 13;
        let err = Package0::decode(&n.encode("pw", b"")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnsupportedNotificationVersion(13));
        n.version = 10;
        assert_eq!(
            Package0::decode(&n.encode("pw", b""))
                .unwrap()
                .notification
                .version,
            10
        );
    }

    #[test]
    fn truncated_and_empty_id_packages_are_typed_errors() {
        assert!(matches!(
            Package0::decode(&[0; 10]).unwrap_err().kind,
            ErrorKind::Truncated { .. }
        ));
        let mut n = Notification::new("srv", 1, UiMode::Background);
        let bytes = n.encode("pw", b"");
        assert!(matches!(
            Package0::decode(&bytes[..bytes.len() - 1])
                .unwrap_err()
                .kind,
            ErrorKind::Truncated { .. }
        ));
        n.server_id.clear();
        assert_eq!(
            Package0::decode(&n.encode("pw", b"")).unwrap_err().kind,
            ErrorKind::EmptyServerId
        );
    }

    #[test]
    fn vendor_body_round_trips_and_is_covered_by_the_digest() {
        let mut n = Notification::new("srv", 0xBEEF, UiMode::UserInteraction);
        n.vendor_specific = b"vendor".to_vec();
        let pkg = Package0::decode(&n.encode("pw", b"xyz")).unwrap();
        assert_eq!(pkg.notification, n);
        assert!(pkg.verify("pw", b"xyz"));
    }
}
