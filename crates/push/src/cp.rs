//! OMA Client Provisioning bootstrap (OMA-WAP-ProvCont / ProvBoot 1.1): the WBXML
//! `wap-provisioningdoc`, its SEC/MAC authentication, and the mapping of a `w7` APPLICATION
//! characteristic to a DM account.
//!
//! Decoding follows WBXML 1.3 with the PROV 1.0 code pages: tags `wap-provisioningdoc`,
//! `characteristic`, `parm`; attribute start and value tokens of pages 0 and 1 (page 1 holds
//! the APPLICATION parameters). Tag and attribute code pages are switched independently.
//!
//! Authentication (ProvBoot §5): MAC = HMAC-SHA1(key, document) as 40 hex digits (compared
//! case-insensitively). Keys: NETWPIN, the IMSI as semi-octets (`9` or `1`+`F` parity nibble,
//! nibble-swapped); USERPIN, the PIN's ASCII; USERNETWPIN, the IMSI key followed by the PIN;
//! USERPINMAC, the user enters PIN‖m and the first n digits of the MAC, each `byte % 10`, must
//! equal m. Roles earned (windows-mobile-dm.md §1.3): NETWPIN → OPERATOR; USERNETWPIN →
//! OPERATOR | USER_AUTH; USERPIN and USERPINMAC → USER_AUTH.
//!
//! Mapping (StdObj appendix; CPC): APPID `w7` → AppID; PROVIDER-ID → ServerID; NAME → Name;
//! TO-NAPID/TO-PROXY → PrefConRef; APPADDR/ADDR (or ADDR) → Addr; ADDRTYPE; PORT/PORTNBR;
//! APPAUTH AAUTHLEVEL `APPSRV` → CLCRED (the client's credentials towards the server),
//! `CLIENT` → SRVCRED; AAUTHTYPE (`DIGEST,MD5` normalised to DIGEST); AAUTHNAME; AAUTHSECRET;
//! AAUTHDATA (Base64); ROLE → Ext/Microsoft/Role; USENONCERESYNC, BACKCOMPATRETRYDISABLED
//! present → on; CONNRETRYFREQ, INITIALBACKOFFTIME, MAXBACKOFFTIME, PROTOVER,
//! DEFAULTENCODING. The server gets Get, Replace and Delete on the account node.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use crate::error::{Cursor, PushError};
use omadm_cm::roles;
use omadm_csp::{AuthCreds, DmAccount, MsExt};

/// A `characteristic` with its `parm`s and nested characteristics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Characteristic {
    /// The `type` attribute.
    pub type_: String,
    /// `parm` (name, value) pairs in order (a parm without value has an empty value).
    pub parms: Vec<(String, String)>,
    /// Nested characteristics.
    pub children: Vec<Characteristic>,
}

impl Characteristic {
    /// The first value of parameter `name`.
    pub fn parm(&self, name: &str) -> Option<&str> {
        self.parms
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether parameter `name` is present (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.parms.iter().any(|(n, _)| n == name)
    }

    /// Nested characteristics of a type.
    pub fn of_type<'a>(&'a self, type_: &'a str) -> impl Iterator<Item = &'a Characteristic> + 'a {
        self.children.iter().filter(move |c| c.type_ == type_)
    }
}

/// SEC: how a provisioning document is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sec {
    /// 0: network PIN (IMSI).
    NetwPin,
    /// 1: user PIN.
    UserPin,
    /// 2: user PIN and network PIN.
    UserNetwPin,
    /// 3: user PIN with a MAC the user types.
    UserPinMac,
}

impl std::fmt::Display for Sec {
    /// The SEC parameter's name (`NETWPIN`, `USERPIN`, `USERNETWPIN`, `USERPINMAC`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sec::NetwPin => "NETWPIN",
            Sec::UserPin => "USERPIN",
            Sec::UserNetwPin => "USERNETWPIN",
            Sec::UserPinMac => "USERPINMAC",
        })
    }
}

impl Sec {
    /// From the WSP SEC parameter value.
    pub fn from_code(code: u8) -> Option<Sec> {
        Some(match code {
            0 => Sec::NetwPin,
            1 => Sec::UserPin,
            2 => Sec::UserNetwPin,
            3 => Sec::UserPinMac,
            _ => return None,
        })
    }

    /// The roles a document signed this way earns once verified.
    pub fn roles(self) -> u32 {
        match self {
            Sec::NetwPin => roles::OPERATOR,
            Sec::UserNetwPin => roles::OPERATOR | roles::USER_AUTH,
            Sec::UserPin | Sec::UserPinMac => roles::USER_AUTH,
        }
    }

    /// Whether verifying needs something from the user.
    pub fn needs_user_pin(self) -> bool {
        !matches!(self, Sec::NetwPin)
    }
}

const PAGE0_ATTR_START: &[(u8, &str, Option<&str>)] = &[
    (0x05, "name", None),
    (0x06, "value", None),
    (0x07, "name", Some("NAME")),
    (0x08, "name", Some("NAP-ADDRESS")),
    (0x09, "name", Some("NAP-ADDRTYPE")),
    (0x0A, "name", Some("CALLTYPE")),
    (0x0B, "name", Some("VALIDUNTIL")),
    (0x0C, "name", Some("AUTHTYPE")),
    (0x0D, "name", Some("AUTHNAME")),
    (0x0E, "name", Some("AUTHSECRET")),
    (0x0F, "name", Some("LINGER")),
    (0x10, "name", Some("BEARER")),
    (0x11, "name", Some("NAPID")),
    (0x12, "name", Some("COUNTRY")),
    (0x13, "name", Some("NETWORK")),
    (0x14, "name", Some("INTERNET")),
    (0x15, "name", Some("PROXY-ID")),
    (0x16, "name", Some("PROXY-PROVIDER-ID")),
    (0x17, "name", Some("DOMAIN")),
    (0x18, "name", Some("PROVURL")),
    (0x19, "name", Some("PXAUTH-TYPE")),
    (0x1A, "name", Some("PXAUTH-ID")),
    (0x1B, "name", Some("PXAUTH-PW")),
    (0x1C, "name", Some("STARTPAGE")),
    (0x1D, "name", Some("BASAUTH-ID")),
    (0x1E, "name", Some("BASAUTH-PW")),
    (0x1F, "name", Some("PUSHENABLED")),
    (0x20, "name", Some("PXADDR")),
    (0x21, "name", Some("PXADDRTYPE")),
    (0x22, "name", Some("TO-NAPID")),
    (0x23, "name", Some("PORTNBR")),
    (0x24, "name", Some("SERVICE")),
    (0x25, "name", Some("LINKSPEED")),
    (0x26, "name", Some("DNLINKSPEED")),
    (0x27, "name", Some("LOCAL-ADDR")),
    (0x28, "name", Some("LOCAL-ADDRTYPE")),
    (0x29, "name", Some("CONTEXT-ALLOW")),
    (0x2A, "name", Some("TRUST")),
    (0x2B, "name", Some("MASTER")),
    (0x2C, "name", Some("SID")),
    (0x2D, "name", Some("SOC")),
    (0x2E, "name", Some("WSP-VERSION")),
    (0x2F, "name", Some("PHYSICAL-PROXY-ID")),
    (0x30, "name", Some("CLIENT-ID")),
    (0x45, "version", None),
    (0x46, "version", Some("1.0")),
    (0x50, "type", None),
    (0x51, "type", Some("PXLOGICAL")),
    (0x52, "type", Some("PXPHYSICAL")),
    (0x53, "type", Some("PORT")),
    (0x54, "type", Some("VALIDITY")),
    (0x55, "type", Some("NAPDEF")),
    (0x56, "type", Some("BOOTSTRAP")),
    (0x57, "type", Some("VENDORCONFIG")),
    (0x58, "type", Some("CLIENTIDENTITY")),
    (0x59, "type", Some("PXAUTHINFO")),
    (0x5A, "type", Some("NAPAUTHINFO")),
    (0x5B, "type", Some("ACCESS")),
];

const PAGE1_ATTR_START: &[(u8, &str, Option<&str>)] = &[
    (0x05, "name", None),
    (0x06, "value", None),
    (0x07, "name", Some("NAME")),
    (0x14, "name", Some("INTERNET")),
    (0x1C, "name", Some("STARTPAGE")),
    (0x22, "name", Some("TO-NAPID")),
    (0x23, "name", Some("PORTNBR")),
    (0x24, "name", Some("SERVICE")),
    (0x2E, "name", Some("AACCEPT")),
    (0x2F, "name", Some("AAUTHDATA")),
    (0x30, "name", Some("AAUTHLEVEL")),
    (0x31, "name", Some("AAUTHNAME")),
    (0x32, "name", Some("AAUTHSECRET")),
    (0x33, "name", Some("AAUTHTYPE")),
    (0x34, "name", Some("ADDR")),
    (0x35, "name", Some("ADDRTYPE")),
    (0x36, "name", Some("APPID")),
    (0x37, "name", Some("APROTOCOL")),
    (0x38, "name", Some("PROVIDER-ID")),
    (0x39, "name", Some("TO-PROXY")),
    (0x3A, "name", Some("URI")),
    (0x3B, "name", Some("RULE")),
    (0x50, "type", None),
    (0x53, "type", Some("PORT")),
    (0x55, "type", Some("APPLICATION")),
    (0x56, "type", Some("APPADDR")),
    (0x57, "type", Some("APPAUTH")),
    (0x58, "type", Some("CLIENTIDENTITY")),
    (0x59, "type", Some("RESOURCE")),
];

const PAGE0_ATTR_VALUE: &[(u8, &str)] = &[
    (0x85, "IPV4"),
    (0x86, "IPV6"),
    (0x87, "E164"),
    (0x88, "ALPHA"),
    (0x89, "APN"),
    (0x8A, "SCODE"),
    (0x8B, "TETRA-ITSI"),
    (0x8C, "MAN"),
    (0x90, "ANALOG-MODEM"),
    (0x91, "V.120"),
    (0x92, "V.110"),
    (0x93, "X.31"),
    (0x94, "BIT-TRANSPARENT"),
    (0x95, "DIRECT-ASYNCHRONOUS-DATA-SERVICE"),
    (0x9A, "PAP"),
    (0x9B, "CHAP"),
    (0x9C, "HTTP-BASIC"),
    (0x9D, "HTTP-DIGEST"),
    (0x9E, "WTLS-SS"),
    (0x9F, "MD5"),
    (0xA2, "GSM-USSD"),
    (0xA3, "GSM-SMS"),
    (0xA4, "ANSI-136-GUTS"),
    (0xA5, "IS-95-CDMA-SMS"),
    (0xA6, "IS-95-CDMA-CSD"),
    (0xA7, "IS-95-CDMA-PACKET"),
    (0xA8, "ANSI-136-CSD"),
    (0xA9, "ANSI-136-GPRS"),
    (0xAA, "GSM-CSD"),
    (0xAB, "GSM-GPRS"),
    (0xAC, "AMPS-CDPD"),
    (0xAD, "PDC-CSD"),
    (0xAE, "PDC-PACKET"),
    (0xAF, "IDEN-SMS"),
    (0xB0, "IDEN-CSD"),
    (0xB1, "IDEN-PACKET"),
    (0xB2, "FLEX/REFLEX"),
    (0xB3, "PHS-SMS"),
    (0xB4, "PHS-CSD"),
    (0xB5, "TETRA-SDS"),
    (0xB6, "TETRA-PACKET"),
    (0xB7, "ANSI-136-GHOST"),
    (0xB8, "MOBITEX-MPAK"),
    (0xB9, "CDMA2000-1X-SIMPLE-IP"),
    (0xBA, "CDMA2000-1X-MOBILE-IP"),
    (0xC5, "AUTOBAUDING"),
    (0xCA, "CL-WSP"),
    (0xCB, "CO-WSP"),
    (0xCC, "CL-SEC-WSP"),
    (0xCD, "CO-SEC-WSP"),
    (0xCE, "CL-SEC-WTA"),
    (0xCF, "CO-SEC-WTA"),
    (0xD0, "OTA-HTTP-TO"),
    (0xD1, "OTA-HTTP-TLS-TO"),
    (0xD2, "OTA-HTTP-PO"),
    (0xD3, "OTA-HTTP-TLS-PO"),
    (0xE0, "AAA"),
    (0xE1, "HA"),
];

const PAGE1_ATTR_VALUE: &[(u8, &str)] = &[
    // ProvCont 1.1 values, and the older draft's 0x80-0x83 for the same words.
    (0x80, ","),
    (0x81, "HTTP-"),
    (0x82, "BASIC"),
    (0x83, "DIGEST"),
    (0x86, "IPV6"),
    (0x87, "E164"),
    (0x88, "ALPHA"),
    (0x8D, "APPSRV"),
    (0x8E, "OBEX"),
    (0x90, ","),
    (0x91, "HTTP-"),
    (0x92, "BASIC"),
    (0x93, "DIGEST"),
];

fn mb_u32(c: &mut Cursor<'_>) -> Result<u32, PushError> {
    let start = c.pos;
    let mut v: u32 = 0;
    for i in 0..5 {
        let b = c.u8("mb_u_int32")?;
        if i == 4 && v >> 25 != 0 {
            return Err(PushError::new("mb_u_int32 overflows", start));
        }
        v = (v << 7) | u32::from(b & 0x7F);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(PushError::new("mb_u_int32 too long", start))
}

struct Decoder<'a> {
    c: Cursor<'a>,
    strtbl: &'a [u8],
    tag_page: u8,
    attr_page: u8,
    depth: usize,
}

/// The attributes of one `characteristic` or `parm`.
#[derive(Default)]
struct Attributes {
    type_: Option<String>,
    name: Option<String>,
    value: Option<String>,
}

enum Attr {
    Name(String),
    Value(String),
    Type(String),
    Other,
}

impl<'a> Decoder<'a> {
    fn table_string(&self, index: u32) -> Result<String, PushError> {
        let rest = self
            .strtbl
            .get(index as usize..)
            .ok_or_else(|| PushError::new("string table reference out of range", self.c.pos))?;
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    fn inline_string(&mut self) -> Result<String, PushError> {
        let start = self.c.pos;
        let rest = &self.c.input[self.c.pos..];
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| PushError::new("unterminated string", start))?;
        self.c.pos += len + 1;
        Ok(String::from_utf8_lossy(&rest[..len]).into_owned())
    }

    /// Reads attributes up to END; returns (type, name, value).
    fn attributes(&mut self) -> Result<Attributes, PushError> {
        let (mut type_, mut name, mut value) = (None, None, None);
        let mut current: Option<(Attr, String)> = None;
        let flush = |cur: Option<(Attr, String)>,
                     t: &mut Option<String>,
                     n: &mut Option<String>,
                     v: &mut Option<String>| {
            if let Some((kind, text)) = cur {
                match kind {
                    Attr::Name(p) => *n = Some(p + &text),
                    Attr::Value(p) => *v = Some(p + &text),
                    Attr::Type(p) => *t = Some(p + &text),
                    Attr::Other => {}
                }
            }
        };
        loop {
            let at = self.c.pos;
            let b = self.c.u8("attribute")?;
            match b {
                0x00 => self.attr_page = self.c.u8("code page")?,
                0x01 => {
                    flush(current.take(), &mut type_, &mut name, &mut value);
                    return Ok(Attributes { type_, name, value });
                }
                0x02 => {
                    let code = mb_u32(&mut self.c)?;
                    if let Some((_, text)) = &mut current {
                        text.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                }
                0x03 => {
                    let s = self.inline_string()?;
                    if let Some((_, text)) = &mut current {
                        text.push_str(&s);
                    }
                }
                0x83 => {
                    let i = mb_u32(&mut self.c)?;
                    let s = self.table_string(i)?;
                    if let Some((_, text)) = &mut current {
                        text.push_str(&s);
                    }
                }
                0xC3 => {
                    let n = mb_u32(&mut self.c)? as usize;
                    let bytes = self.c.take(n, "opaque")?;
                    if let Some((_, text)) = &mut current {
                        text.push_str(&String::from_utf8_lossy(bytes));
                    }
                }
                0x04 | 0x40..=0x44 | 0x80..=0x82 | 0x84 | 0xC0..=0xC2 | 0xC4 => {
                    return Err(PushError::new(
                        format!("unsupported WBXML token 0x{b:02X} in attributes"),
                        at,
                    ));
                }
                0x85..=0xFF => {
                    let table = if self.attr_page == 1 {
                        PAGE1_ATTR_VALUE
                    } else {
                        PAGE0_ATTR_VALUE
                    };
                    let word = table
                        .iter()
                        .find(|(t, _)| *t == b)
                        .map(|(_, w)| *w)
                        .unwrap_or("?");
                    if let Some((_, text)) = &mut current {
                        text.push_str(word);
                    }
                }
                _ => {
                    flush(current.take(), &mut type_, &mut name, &mut value);
                    let table = if self.attr_page == 1 {
                        PAGE1_ATTR_START
                    } else {
                        PAGE0_ATTR_START
                    };
                    let Some((_, attr, prefix)) = table.iter().find(|(t, _, _)| *t == b) else {
                        current = Some((Attr::Other, String::new()));
                        continue;
                    };
                    let prefix = prefix.unwrap_or("").to_owned();
                    current = Some((
                        match *attr {
                            "name" => Attr::Name(prefix),
                            "value" => Attr::Value(prefix),
                            "type" => Attr::Type(prefix),
                            _ => Attr::Other,
                        },
                        String::new(),
                    ));
                }
            }
        }
    }

    /// Reads content up to END into `into` (characteristics and parms).
    fn content(&mut self, into: &mut Characteristic) -> Result<(), PushError> {
        loop {
            let at = self.c.pos;
            let b = self.c.u8("element")?;
            match b {
                0x00 => self.tag_page = self.c.u8("code page")?,
                0x01 => return Ok(()),
                0x03 | 0x83 | 0xC3 | 0x02 => {
                    return Err(PushError::new("text in provisioning content", at))
                }
                _ => {
                    let token = b & 0x3F;
                    if token != 0x06 && token != 0x07 {
                        return Err(PushError::new(
                            format!(
                                "unknown element token 0x{token:02X} on page {}",
                                self.tag_page
                            ),
                            at,
                        ));
                    }
                    let Attributes { type_, name, value } = if b & 0x80 != 0 {
                        self.attributes()?
                    } else {
                        Attributes::default()
                    };
                    if token == 0x07 {
                        into.parms
                            .push((name.unwrap_or_default(), value.unwrap_or_default()));
                        if b & 0x40 != 0 {
                            let mut sink = Characteristic::default();
                            self.depth += 1;
                            self.check_depth(at)?;
                            self.content(&mut sink)?;
                            self.depth -= 1;
                        }
                    } else {
                        let mut child = Characteristic {
                            type_: type_.unwrap_or_default(),
                            ..Characteristic::default()
                        };
                        if b & 0x40 != 0 {
                            self.depth += 1;
                            self.check_depth(at)?;
                            self.content(&mut child)?;
                            self.depth -= 1;
                        }
                        into.children.push(child);
                    }
                }
            }
        }
    }

    fn check_depth(&self, at: usize) -> Result<(), PushError> {
        if self.depth > 16 {
            return Err(PushError::new("provisioning document nested too deep", at));
        }
        Ok(())
    }
}

/// Decodes a WBXML `wap-provisioningdoc`; the top-level characteristics come back as the
/// children of the returned (type-less) root.
pub fn decode(doc: &[u8]) -> Result<Characteristic, PushError> {
    let mut c = Cursor::new(doc);
    let version = c.u8("version")?;
    if !(1..=3).contains(&version) {
        return Err(PushError::new(format!("WBXML version 0x{version:02X}"), 0));
    }
    let public_id = mb_u32(&mut c)?;
    if public_id == 0 {
        mb_u32(&mut c)?;
    }
    let charset = mb_u32(&mut c)?;
    if charset != 106 && charset != 3 && charset != 4 {
        return Err(PushError::new(format!("charset {charset}"), c.pos));
    }
    let len = mb_u32(&mut c)? as usize;
    let strtbl = c.take(len, "string table")?;
    let mut d = Decoder {
        c,
        strtbl,
        tag_page: 0,
        attr_page: 0,
        depth: 0,
    };
    let at = d.c.pos;
    let root = d.c.u8("root")?;
    if root & 0x3F != 0x05 {
        return Err(PushError::new("root is not wap-provisioningdoc", at));
    }
    if root & 0x80 != 0 {
        d.attributes()?;
    }
    let mut doc_root = Characteristic::default();
    if root & 0x40 != 0 {
        d.content(&mut doc_root)?;
    }
    Ok(doc_root)
}

/// The NETWPIN key: the IMSI as semi-octets (OMA ProvBoot §5.3).
pub fn imsi_key(imsi: &str) -> Vec<u8> {
    let digits: Vec<u8> = imsi
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|d| d - b'0')
        .collect();
    let mut nibbles = vec![if digits.len() % 2 == 1 { 9 } else { 1 }];
    nibbles.extend(&digits);
    if nibbles.len() % 2 == 1 {
        nibbles.push(0xF);
    }
    nibbles.chunks(2).map(|p| p[0] | (p[1] << 4)).collect()
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let pkey = PKey::hmac(key).expect("HMAC key");
    let mut signer = Signer::new(MessageDigest::sha1(), &pkey).expect("SHA-1 is available");
    signer.update(data).expect("HMAC update");
    signer.sign_to_vec().expect("HMAC")
}

/// The MAC of `doc` with `key`, as 40 upper-case hex digits.
pub fn mac(key: &[u8], doc: &[u8]) -> String {
    hmac_sha1(key, doc)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Verifies a document's MAC. `imsi` is needed for NETWPIN and USERNETWPIN, `pin` for the
/// user PIN methods (for USERPINMAC: what the user typed, PIN followed by the MAC digits).
pub fn verify(sec: Sec, mac_hex: &str, doc: &[u8], imsi: Option<&str>, pin: Option<&str>) -> bool {
    let key = match sec {
        Sec::NetwPin => match imsi {
            Some(i) => imsi_key(i),
            None => return false,
        },
        Sec::UserPin => match pin {
            Some(p) => p.as_bytes().to_vec(),
            None => return false,
        },
        Sec::UserNetwPin => match (imsi, pin) {
            (Some(i), Some(p)) => [imsi_key(i), p.as_bytes().to_vec()].concat(),
            _ => return false,
        },
        Sec::UserPinMac => {
            let Some(entered) = pin else { return false };
            if entered.is_empty()
                || entered.len() % 2 != 0
                || !entered.bytes().all(|b| b.is_ascii_digit())
            {
                return false;
            }
            let (k, m) = entered.split_at(entered.len() / 2);
            let digest = hmac_sha1(k.as_bytes(), doc);
            let expected: String = digest
                .iter()
                .take(m.len())
                .map(|b| char::from(b'0' + b % 10))
                .collect();
            return openssl::memcmp::eq(expected.as_bytes(), m.as_bytes());
        }
    };
    let ours = mac(&key, doc);
    ours.len() == mac_hex.len()
        && openssl::memcmp::eq(ours.as_bytes(), mac_hex.to_ascii_uppercase().as_bytes())
}

/// Encodes a `wap-provisioningdoc` (the inverse of [`decode`]): WBXML 1.3, public id
/// `-//WAPFORUM//DTD PROV 1.0//EN` (0x0B), UTF-8, no string table. Every `type`, `name` and
/// `value` is written as an inline string after the literal-free attribute starts
/// (`type=` 0x50, `name=` 0x05, `value=` 0x06), which every decoder must accept; a parm with
/// an empty value is written without `value`.
pub fn encode(doc: &Characteristic) -> Vec<u8> {
    fn inline(out: &mut Vec<u8>, s: &str) {
        out.push(0x03);
        out.extend(s.bytes().filter(|b| *b != 0));
        out.push(0x00);
    }
    fn characteristic(out: &mut Vec<u8>, c: &Characteristic) {
        // characteristic (0x06) with attributes and content.
        out.push(0xC6);
        out.push(0x50);
        inline(out, &c.type_);
        out.push(0x01);
        for (name, value) in &c.parms {
            // parm (0x07) with attributes, no content.
            out.push(0x87);
            out.push(0x05);
            inline(out, name);
            if !value.is_empty() {
                out.push(0x06);
                inline(out, value);
            }
            out.push(0x01);
        }
        for child in &c.children {
            characteristic(out, child);
        }
        out.push(0x01);
    }
    // WBXML 1.3, public id 0x0B, charset 106 (UTF-8), empty string table.
    let mut out = vec![0x03, 0x0B, 0x6A, 0x00];
    // wap-provisioningdoc with attributes (version="1.0", 0x46) and content.
    out.extend([0xC5, 0x46, 0x01]);
    for c in &doc.children {
        characteristic(&mut out, c);
    }
    out.push(0x01);
    out
}

/// The `w7` APPLICATION characteristic that bootstraps `account` (the inverse of
/// [`w7_account`] for the parameters it maps): a server's way to build a bootstrap document.
pub fn w7_application(account: &DmAccount) -> Characteristic {
    let p = |n: &str, v: &str| (n.to_owned(), v.to_owned());
    let mut app = Characteristic {
        type_: "APPLICATION".into(),
        parms: vec![
            p("APPID", "w7"),
            p("PROVIDER-ID", &account.server_id),
            p("NAME", &account.name),
        ],
        children: vec![Characteristic {
            type_: "APPADDR".into(),
            parms: vec![p("ADDR", &account.addr), p("ADDRTYPE", "URI")],
            children: vec![],
        }],
    };
    let ext = &account.ext;
    app.parms
        .push(p("CONNRETRYFREQ", &ext.conn_retry_freq.to_string()));
    app.parms
        .push(p("INITIALBACKOFFTIME", &ext.initial_backoff_ms.to_string()));
    app.parms
        .push(p("MAXBACKOFFTIME", &ext.max_backoff_ms.to_string()));
    let d = MsExt::default();
    if ext.proto_ver != d.proto_ver {
        app.parms.push(p("PROTOVER", &ext.proto_ver));
    }
    if ext.default_encoding != d.default_encoding {
        app.parms.push(p("DEFAULTENCODING", &ext.default_encoding));
    }
    for (flag, name) in [
        (ext.back_compat_retry_disabled, "BACKCOMPATRETRYDISABLED"),
        (ext.use_hw_dev_id, "USEHWDEVID"),
        (ext.use_nonce_resync, "USENONCERESYNC"),
    ] {
        if flag {
            app.parms.push(p(name, ""));
        }
    }
    if let Some(role) = ext.role {
        app.parms.push(p("ROLE", &role.to_string()));
    }
    for (level, creds) in [("APPSRV", &account.client), ("CLIENT", &account.server)] {
        let Some(c) = creds else { continue };
        let mut auth = Characteristic {
            type_: "APPAUTH".into(),
            parms: vec![
                p("AAUTHLEVEL", level),
                p("AAUTHTYPE", &c.auth_type),
                p("AAUTHNAME", &c.name),
                p("AAUTHSECRET", &c.secret),
            ],
            children: vec![],
        };
        if !c.data.is_empty() {
            auth.parms
                .push(p("AAUTHDATA", &omadm_syncml::b64::encode(&c.data)));
        }
        app.children.push(auth);
    }
    app
}

/// Maps a `w7` APPLICATION characteristic to a DM account (see the module documentation).
pub fn w7_account(app: &Characteristic) -> Option<DmAccount> {
    if app.type_ != "APPLICATION" || app.parm("APPID") != Some("w7") {
        return None;
    }
    let server_id = app.parm("PROVIDER-ID")?.to_owned();
    let mut a = DmAccount {
        app_id: "w7".into(),
        server_id: server_id.clone(),
        name: app.parm("NAME").unwrap_or("").to_owned(),
        pref_con_ref: app
            .parm("TO-NAPID")
            .or_else(|| app.parm("TO-PROXY"))
            .unwrap_or("")
            .to_owned(),
        ..DmAccount::default()
    };
    let addr = app.of_type("APPADDR").next();
    a.addr = addr
        .and_then(|x| x.parm("ADDR"))
        .or_else(|| app.parm("ADDR"))
        .unwrap_or("")
        .to_owned();
    a.addr_type = addr
        .and_then(|x| x.parm("ADDRTYPE"))
        .unwrap_or("URI")
        .to_owned();
    a.port = addr
        .and_then(|x| x.of_type("PORT").next())
        .and_then(|p| p.parm("PORTNBR"))
        .and_then(|p| p.trim().parse().ok());
    for auth in app.of_type("APPAUTH") {
        let auth_type = auth
            .parm("AAUTHTYPE")
            .unwrap_or("")
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let creds = AuthCreds {
            auth_type,
            name: auth.parm("AAUTHNAME").unwrap_or("").to_owned(),
            secret: auth.parm("AAUTHSECRET").unwrap_or("").to_owned(),
            data: auth
                .parm("AAUTHDATA")
                .and_then(|d| omadm_syncml::b64::decode(d).ok())
                .unwrap_or_default(),
        };
        match auth.parm("AAUTHLEVEL") {
            Some("APPSRV") => a.client = Some(creds),
            Some("CLIENT") => a.server = Some(creds),
            Some("OBEX") | None | Some(_) => {}
        }
    }
    let d = MsExt::default();
    let num = |name: &str| app.parm(name).and_then(|v| v.trim().parse::<u64>().ok());
    a.ext = MsExt {
        conn_retry_freq: num("CONNRETRYFREQ")
            .map(|v| v as u32)
            .unwrap_or(d.conn_retry_freq),
        initial_backoff_ms: num("INITIALBACKOFFTIME").unwrap_or(d.initial_backoff_ms),
        max_backoff_ms: num("MAXBACKOFFTIME").unwrap_or(d.max_backoff_ms),
        back_compat_retry_disabled: app.has("BACKCOMPATRETRYDISABLED"),
        proto_ver: app
            .parm("PROTOVER")
            .map(str::to_owned)
            .unwrap_or(d.proto_ver),
        default_encoding: app
            .parm("DEFAULTENCODING")
            .map(str::to_owned)
            .unwrap_or(d.default_encoding),
        use_hw_dev_id: app.has("USEHWDEVID"),
        use_nonce_resync: app.has("USENONCERESYNC"),
        role: num("ROLE").map(|v| v as u32),
    };
    Some(a)
}

/// Creates the accounts of an accepted provisioning document in the account store, each with
/// the authentication roles the message earned as its role ceiling. Returns the new accounts'
/// node names. All or nothing: a ServerID an existing account holds (or two applications of
/// the document with one ServerID) refuses the whole document with 418, and nothing changes.
pub fn apply(
    store: &omadm_csp::AccountStore,
    bootstrap: &crate::router::Bootstrap,
) -> Result<Vec<String>, omadm_cm::CmError> {
    let ceiling = bootstrap.roles & roles::AUTHENTICATION_ROLES;
    store.create_all(&bootstrap.accounts, ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_util::hex;

    /// Digest §10.8: a w7 bootstrap document encoded by libwbxml.
    const DOC: &str = "030b6a00c54601c600015501873600000603773700018700013800000603646d
        736572766572000187070603444d205365727665720001c60001560187340000
        060368747470733a2f2f646d2e6578616d706c652e636f6d2f646d0001c65301
        8723060334343300010101c600015701873000000600018d0187330000060001
        9301873100000603636c69656e746e616d6500018700013200000603636c6965
        6e747077000101c600015701873000000603434c49454e540001870001330000
        0600019301873100000603646d73657276657200018700013200000603736572
        76657270770001010101";

    #[test]
    fn the_w7_vector_decodes_and_maps_to_an_account() {
        let doc = hex(DOC);
        assert_eq!(doc.len(), 234);
        let root = decode(&doc).unwrap();
        let app = &root.children[0];
        assert_eq!(app.type_, "APPLICATION");
        assert_eq!(app.parm("APPID"), Some("w7"));
        let a = w7_account(app).unwrap();
        assert_eq!(
            (a.server_id.as_str(), a.name.as_str()),
            ("dmserver", "DM Server")
        );
        assert_eq!(
            (a.addr.as_str(), a.port),
            ("https://dm.example.com/dm", Some(443))
        );
        let client = a.client.unwrap();
        assert_eq!(
            (
                client.auth_type.as_str(),
                client.name.as_str(),
                client.secret.as_str()
            ),
            ("DIGEST", "clientname", "clientpw")
        );
        let server = a.server.unwrap();
        assert_eq!(
            (server.name.as_str(), server.secret.as_str()),
            ("dmserver", "serverpw")
        );
    }

    #[test]
    fn macs_of_the_vector_for_every_sec_method() {
        let doc = hex(DOC);
        assert_eq!(imsi_key("262019876543210"), hex("2926108967452301"));
        assert_eq!(
            imsi_key("26201987654321"),
            hex("2126108967452 3F1".replace(' ', "").as_str())
        );
        assert!(verify(
            Sec::NetwPin,
            "58203628C77952FF59413EAFDFF879C1AFB2C64A",
            &doc,
            Some("262019876543210"),
            None
        ));
        assert!(verify(
            Sec::UserPin,
            "3c5077c457bbd9ff86c33237b876419a981627b4",
            &doc,
            None,
            Some("1234")
        ));
        assert!(verify(
            Sec::UserNetwPin,
            "F7655B6FF8BED9368FF896B9B41266BAEEB32F21",
            &doc,
            Some("262019876543210"),
            Some("1234")
        ));
        assert!(verify(Sec::UserPinMac, "", &doc, None, Some("12340096")));
        assert!(!verify(Sec::UserPinMac, "", &doc, None, Some("12340097")));
        assert!(!verify(
            Sec::UserPin,
            "3C5077C457BBD9FF86C33237B876419A981627B4",
            &doc,
            None,
            Some("1235")
        ));
        assert!(!verify(
            Sec::NetwPin,
            "58203628C77952FF59413EAFDFF879C1AFB2C64A",
            &doc,
            None,
            None
        ));
    }

    #[test]
    fn truncated_documents_are_errors() {
        let doc = hex(DOC);
        for len in 0..doc.len() {
            assert!(decode(&doc[..len]).is_err(), "{len}");
        }
    }

    #[test]
    fn an_encoded_w7_document_decodes_to_the_same_account() {
        let account = DmAccount {
            app_id: "w7".into(),
            server_id: "srv".into(),
            name: "Server".into(),
            addr: "https://dm.example.com/dm".into(),
            addr_type: "URI".into(),
            client: Some(AuthCreds {
                auth_type: "DIGEST".into(),
                name: "dev".into(),
                secret: "devpw".into(),
                data: vec![],
            }),
            server: Some(AuthCreds {
                auth_type: "DIGEST".into(),
                name: "srv".into(),
                secret: "srvpw".into(),
                data: vec![1, 2, 0xFF],
            }),
            ext: MsExt {
                use_nonce_resync: true,
                role: Some(8),
                default_encoding: "application/vnd.syncml.dm+wbxml".into(),
                ..MsExt::default()
            },
            ..DmAccount::default()
        };
        let doc = Characteristic {
            children: vec![w7_application(&account)],
            ..Characteristic::default()
        };
        let bytes = encode(&doc);
        let back = decode(&bytes).unwrap();
        assert_eq!(back, doc);
        assert_eq!(w7_account(&back.children[0]).unwrap(), account);
    }
}
