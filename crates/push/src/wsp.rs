//! WSP connectionless push PDUs (WAP-230-WSP §8): decoding and encoding.
//!
//! `TID | PDU type 0x06 | HeadersLen (uintvar) | Content-Type value | headers | body`. The
//! content type is a well-known code, a text media type, or the general form with parameters
//! (SEC and MAC for OMA Client Provisioning). Headers understood: X-Wap-Application-Id (0x2F,
//! code or URN), X-Wap-Initiator-URI (0x31), Content-Location (0x0E), Push-Flag (0x34); any
//! other is kept raw. Every length is checked against the input; nothing allocates beyond it.

use crate::error::{Cursor, PushError};

/// WSP PDU type of a Push.
pub const PDU_PUSH: u8 = 0x06;
/// WSP PDU type of a ConfirmedPush (connection mode only: refused here).
pub const PDU_CONFIRMED_PUSH: u8 = 0x07;

/// Well-known content types (WAP-230 Appendix A; the subset push traffic uses).
pub const CONTENT_TYPES: &[(u8, &str)] = &[
    (0x00, "*/*"),
    (0x01, "text/*"),
    (0x02, "text/html"),
    (0x03, "text/plain"),
    (0x08, "text/vnd.wap.wml"),
    (0x29, "application/vnd.wap.wbxml"),
    (0x2D, "text/vnd.wap.si"),
    (0x2E, "application/vnd.wap.sic"),
    (0x2F, "text/vnd.wap.sl"),
    (0x30, "application/vnd.wap.slc"),
    (0x35, "text/vnd.wap.connectivity-xml"),
    (0x36, "application/vnd.wap.connectivity-wbxml"),
    (0x3E, "application/vnd.wap.mms-message"),
    (0x42, "application/vnd.syncml.dm+wbxml"),
    (0x43, "application/vnd.syncml.dm+xml"),
    (0x44, "application/vnd.syncml.notification"),
    (0x47, "application/vnd.oma.dd+xml"),
];

/// Well-known push application ids (X-Wap-Application-Id codes).
pub const APP_IDS: &[(u32, &str)] = &[
    (0x00, "x-wap-application:*"),
    (0x01, "x-wap-application:push.sia"),
    (0x02, "x-wap-application:wml.ua"),
    (0x03, "x-wap-application:wta.ua"),
    (0x04, "x-wap-application:mms.ua"),
    (0x05, "x-wap-application:push.syncml"),
    (0x06, "x-wap-application:loc.ua"),
    (0x07, "x-wap-application:syncml.dm"),
    (0x08, "x-wap-application:drm.ua"),
    (0x09, "x-wap-application:emn.ua"),
    (0x0A, "x-wap-application:wv.ua"),
];

const HDR_CONTENT_LOCATION: u8 = 0x0E;
const HDR_APP_ID: u8 = 0x2F;
const HDR_INITIATOR_URI: u8 = 0x31;
const HDR_PUSH_FLAG: u8 = 0x34;
const PARAM_SEC: u8 = 0x11;
const PARAM_MAC: u8 = 0x12;

/// The name of a well-known content type code.
pub fn content_type_name(code: u8) -> Option<&'static str> {
    CONTENT_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// The code of a well-known content type name (case-insensitive).
pub fn content_type_code(name: &str) -> Option<u8> {
    CONTENT_TYPES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(c, _)| *c)
}

/// The URN of a well-known application id code.
pub fn app_id_name(code: u32) -> Option<&'static str> {
    APP_IDS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The code of a well-known application id URN (case-insensitive).
pub fn app_id_code(name: &str) -> Option<u32> {
    APP_IDS
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(c, _)| *c)
}

/// X-Wap-Application-Id: an assigned code or a URN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppId {
    /// App-assigned code.
    Code(u32),
    /// URI value.
    Uri(String),
}

impl AppId {
    /// The URN form (`x-wap-application:syncml.dm`), using the code table when it can.
    pub fn urn(&self) -> String {
        match self {
            AppId::Code(c) => app_id_name(*c)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("0x{c:X}")),
            AppId::Uri(u) => u.clone(),
        }
    }

    /// Whether two ids name the same application (code 7 equals `x-wap-application:syncml.dm`).
    pub fn same_as(&self, other: &AppId) -> bool {
        self.urn().eq_ignore_ascii_case(&other.urn())
    }
}

/// A content type with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentType {
    /// The media type, e.g. `application/vnd.syncml.notification`.
    pub media: String,
    /// SEC parameter (0 NETWPIN, 1 USERPIN, 2 USERNETWPIN, 3 USERPINMAC).
    pub sec: Option<u8>,
    /// MAC parameter (hex text).
    pub mac: Option<String>,
    /// Other parameters as (name, value) text.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// A content type with no parameters.
    pub fn new(media: impl Into<String>) -> Self {
        ContentType {
            media: media.into(),
            ..ContentType::default()
        }
    }
}

/// A connectionless WSP push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspPush {
    /// Transaction id.
    pub tid: u8,
    /// Content type.
    pub content_type: ContentType,
    /// X-Wap-Application-Id.
    pub app_id: Option<AppId>,
    /// X-Wap-Initiator-URI.
    pub initiator_uri: Option<String>,
    /// Content-Location.
    pub content_location: Option<String>,
    /// Push-Flag (bit 0 initiator authenticated, bit 1 content trusted, bit 2 last push).
    pub push_flag: Option<u8>,
    /// Other headers: (name or `0xNN`, raw value octets).
    pub other_headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Reads a uintvar (at most 5 octets, 32 bits).
pub(crate) fn read_uintvar(c: &mut Cursor<'_>) -> Result<u32, PushError> {
    let start = c.pos;
    let mut v: u32 = 0;
    for i in 0..5 {
        let b = c.u8("uintvar")?;
        if i == 4 && (v >> 25) != 0 {
            return Err(PushError::new("uintvar overflows 32 bits", start));
        }
        v = (v << 7) | u32::from(b & 0x7F);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(PushError::new("uintvar longer than 5 octets", start))
}

/// Appends a uintvar.
pub fn write_uintvar(out: &mut Vec<u8>, v: u32) {
    let mut groups = vec![(v & 0x7F) as u8];
    let mut rest = v >> 7;
    while rest != 0 {
        groups.push(0x80 | (rest & 0x7F) as u8);
        rest >>= 7;
    }
    out.extend(groups.iter().rev());
}

/// A generic WSP value (WSP §8.4.1.2).
enum Value<'a> {
    Short(u8),
    Text(String),
    Bytes(&'a [u8]),
}

fn read_text(c: &mut Cursor<'_>) -> Result<String, PushError> {
    let start = c.pos;
    let rest = &c.input[c.pos..];
    let len = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| PushError::new("unterminated text", start))?;
    let mut bytes = &rest[..len];
    c.pos += len + 1;
    if bytes.first() == Some(&0x7F) || bytes.first() == Some(&0x22) {
        bytes = &bytes[1..]; // Quote / Quoted-string marker.
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn read_value<'a>(c: &mut Cursor<'a>) -> Result<Value<'a>, PushError> {
    let first = *c
        .input
        .get(c.pos)
        .ok_or_else(|| PushError::new("truncated header value", c.pos))?;
    match first {
        0..=30 => {
            c.pos += 1;
            Ok(Value::Bytes(c.take(first as usize, "header value")?))
        }
        31 => {
            c.pos += 1;
            let len = read_uintvar(c)? as usize;
            Ok(Value::Bytes(c.take(len, "header value")?))
        }
        32..=127 => Ok(Value::Text(read_text(c)?)),
        _ => {
            c.pos += 1;
            Ok(Value::Short(first & 0x7F))
        }
    }
}

fn integer(bytes: &[u8]) -> Option<u32> {
    // Long-integer: Short-length then that many octets (here `bytes` are those octets).
    (!bytes.is_empty() && bytes.len() <= 4)
        .then(|| bytes.iter().fold(0u32, |v, b| (v << 8) | u32::from(*b)))
}

fn value_text(v: Value<'_>) -> String {
    match v {
        Value::Short(n) => n.to_string(),
        Value::Text(t) => t,
        Value::Bytes(b) => integer(b)
            .map(|n| n.to_string())
            .unwrap_or_else(|| String::from_utf8_lossy(b).into_owned()),
    }
}

fn read_content_type(c: &mut Cursor<'_>) -> Result<ContentType, PushError> {
    let start = c.pos;
    let first = *c
        .input
        .get(c.pos)
        .ok_or_else(|| PushError::new("missing content type", c.pos))?;
    if first >= 0x80 {
        c.pos += 1;
        let code = first & 0x7F;
        return Ok(ContentType::new(
            content_type_name(code)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("0x{code:02X}")),
        ));
    }
    if first >= 0x20 {
        return Ok(ContentType::new(read_text(c)?));
    }
    // General form: Value-length, Media-type, parameters.
    let len = if first == 31 {
        c.pos += 1;
        read_uintvar(c)? as usize
    } else {
        c.pos += 1;
        first as usize
    };
    let block = c.take(len, "content type")?;
    let mut inner = Cursor::new(block);
    let media_first = *block
        .first()
        .ok_or_else(|| PushError::new("empty content type", start))?;
    let mut ct = if media_first >= 0x80 {
        inner.pos = 1;
        let code = media_first & 0x7F;
        ContentType::new(
            content_type_name(code)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("0x{code:02X}")),
        )
    } else if media_first >= 0x20 {
        ContentType::new(read_text(&mut inner)?)
    } else {
        // Integer media (Long-integer): rare; keep the code.
        let n = inner.u8("media")? as usize;
        let v = integer(inner.take(n, "media")?).unwrap_or(0);
        ContentType::new(format!("0x{v:X}"))
    };
    while inner.remaining() > 0 {
        let b = inner.input[inner.pos];
        if b >= 0x80 {
            inner.pos += 1;
            let value = read_value(&mut inner)?;
            match b & 0x7F {
                PARAM_SEC => {
                    ct.sec = Some(match value {
                        Value::Short(n) => n,
                        other => value_text(other).parse().unwrap_or(u8::MAX),
                    })
                }
                PARAM_MAC => ct.mac = Some(value_text(value)),
                code => ct.params.push((format!("0x{code:02X}"), value_text(value))),
            }
        } else {
            let name = read_text(&mut inner)?;
            let value = read_value(&mut inner)?;
            ct.params.push((name, value_text(value)));
        }
    }
    Ok(ct)
}

impl WspPush {
    /// A push of `body` with `content_type` and `app_id`.
    pub fn new(content_type: ContentType, app_id: Option<AppId>, body: Vec<u8>) -> Self {
        WspPush {
            tid: 0,
            content_type,
            app_id,
            initiator_uri: None,
            content_location: None,
            push_flag: None,
            other_headers: Vec::new(),
            body,
        }
    }

    /// Decodes a connectionless push PDU.
    pub fn decode(input: &[u8]) -> Result<WspPush, PushError> {
        let mut c = Cursor::new(input);
        let tid = c.u8("TID")?;
        let pdu = c.u8("PDU type")?;
        if pdu != PDU_PUSH {
            return Err(PushError::new(
                format!("PDU type 0x{pdu:02X} is not a connectionless Push"),
                1,
            ));
        }
        let headers_len = read_uintvar(&mut c)? as usize;
        let block_start = c.pos;
        let block = c.take(headers_len, "headers")?;
        let body = c.rest().to_vec();
        let mut h = Cursor::new(block);
        let content_type = read_content_type(&mut h)
            .map_err(|e| PushError::new(e.what, block_start + e.offset))?;
        let mut push = WspPush::new(content_type, None, body);
        push.tid = tid;
        let mut page = 1u8;
        while h.remaining() > 0 {
            let at = h.pos;
            let b = h.u8("header")?;
            let result: Result<(), PushError> = (|| {
                match b {
                    0x7F => {
                        page = h.u8("code page")?;
                    }
                    0x01..=0x1F => page = b,
                    0x00 => return Err(PushError::new("header name 0x00", at)),
                    0x80..=0xFF if page == 1 => {
                        let value = read_value(&mut h)?;
                        match b & 0x7F {
                            HDR_APP_ID => {
                                push.app_id = Some(match value {
                                    Value::Short(n) => AppId::Code(u32::from(n)),
                                    Value::Text(t) => AppId::Uri(t),
                                    Value::Bytes(bytes) => {
                                        AppId::Code(integer(bytes).ok_or_else(|| {
                                            PushError::new("bad application id", at)
                                        })?)
                                    }
                                })
                            }
                            HDR_INITIATOR_URI => push.initiator_uri = Some(value_text(value)),
                            HDR_CONTENT_LOCATION => push.content_location = Some(value_text(value)),
                            HDR_PUSH_FLAG => {
                                push.push_flag = Some(match value {
                                    Value::Short(n) => n,
                                    other => value_text(other).parse().unwrap_or(0),
                                })
                            }
                            code => {
                                let raw = h.input[at + 1..h.pos].to_vec();
                                push.other_headers.push((format!("0x{code:02X}"), raw));
                            }
                        }
                    }
                    0x80..=0xFF => {
                        let _ = read_value(&mut h)?;
                        let raw = h.input[at + 1..h.pos].to_vec();
                        push.other_headers
                            .push((format!("page{page}:0x{:02X}", b & 0x7F), raw));
                    }
                    _ => {
                        h.pos = at;
                        let name = read_text(&mut h)?;
                        let value = read_text(&mut h)?;
                        if name.eq_ignore_ascii_case("X-Wap-Application-Id") {
                            push.app_id = Some(match app_id_code(&value) {
                                Some(code) => AppId::Code(code),
                                None => AppId::Uri(value),
                            });
                        } else {
                            push.other_headers.push((name, value.into_bytes()));
                        }
                    }
                }
                Ok(())
            })();
            result.map_err(|e| PushError::new(e.what, block_start + e.offset))?;
        }
        Ok(push)
    }

    /// Encodes the PDU (the form the DM notification specification's example uses: well-known
    /// codes where they exist).
    pub fn encode(&self) -> Vec<u8> {
        let mut headers = Vec::new();
        let ct = &self.content_type;
        let media: Vec<u8> = match content_type_code(&ct.media) {
            Some(code) => vec![0x80 | code],
            None => {
                let mut t = ct.media.as_bytes().to_vec();
                t.push(0);
                t
            }
        };
        if ct.sec.is_none() && ct.mac.is_none() && ct.params.is_empty() {
            headers.extend_from_slice(&media);
        } else {
            let mut general = media;
            if let Some(sec) = ct.sec {
                general.extend_from_slice(&[0x80 | PARAM_SEC, 0x80 | (sec & 0x7F)]);
            }
            if let Some(mac) = &ct.mac {
                general.push(0x80 | PARAM_MAC);
                general.extend_from_slice(mac.as_bytes());
                general.push(0);
            }
            for (name, value) in &ct.params {
                general.extend_from_slice(name.as_bytes());
                general.push(0);
                general.extend_from_slice(value.as_bytes());
                general.push(0);
            }
            if general.len() <= 30 {
                headers.push(general.len() as u8);
            } else {
                headers.push(31);
                write_uintvar(&mut headers, general.len() as u32);
            }
            headers.extend_from_slice(&general);
        }
        if let Some(app) = &self.app_id {
            headers.push(0x80 | HDR_APP_ID);
            let code = match app {
                AppId::Code(c) => Some(*c),
                AppId::Uri(u) => app_id_code(u),
            };
            match (code, app) {
                (Some(c), _) if c < 0x80 => headers.push(0x80 | c as u8),
                (Some(c), _) => {
                    let bytes: Vec<u8> = c
                        .to_be_bytes()
                        .into_iter()
                        .skip_while(|b| *b == 0)
                        .collect();
                    headers.push(bytes.len() as u8);
                    headers.extend_from_slice(&bytes);
                }
                (None, AppId::Uri(u)) => {
                    headers.extend_from_slice(u.as_bytes());
                    headers.push(0);
                }
                (None, AppId::Code(_)) => unreachable!("codes always have Some"),
            }
        }
        for (code, text) in [
            (HDR_INITIATOR_URI, &self.initiator_uri),
            (HDR_CONTENT_LOCATION, &self.content_location),
        ] {
            if let Some(t) = text {
                headers.push(0x80 | code);
                headers.extend_from_slice(t.as_bytes());
                headers.push(0);
            }
        }
        if let Some(flag) = self.push_flag {
            headers.extend_from_slice(&[0x80 | HDR_PUSH_FLAG, 0x80 | (flag & 0x7F)]);
        }
        let mut out = vec![self.tid, PDU_PUSH];
        write_uintvar(&mut out, headers.len() as u32);
        out.extend_from_slice(&headers);
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uintvar_examples_from_the_spec() {
        let mut out = Vec::new();
        write_uintvar(&mut out, 300);
        assert_eq!(out, [0x82, 0x2C]);
        let mut c = Cursor::new(&out);
        assert_eq!(read_uintvar(&mut c).unwrap(), 300);
        let mut c = Cursor::new(&[0x8F, 0xFF, 0xFF, 0xFF, 0x7F]);
        assert_eq!(read_uintvar(&mut c).unwrap(), u32::MAX);
        let mut c = Cursor::new(&[0x90, 0x80, 0x80, 0x80, 0x00]);
        assert!(read_uintvar(&mut c).is_err());
    }

    #[test]
    fn dm_notification_push_is_c4_af_87() {
        let push = WspPush {
            tid: 1,
            ..WspPush::new(
                ContentType::new("application/vnd.syncml.notification"),
                Some(AppId::Code(7)),
                vec![0xAA],
            )
        };
        assert_eq!(push.encode(), [0x01, 0x06, 0x03, 0xC4, 0xAF, 0x87, 0xAA]);
        let back = WspPush::decode(&push.encode()).unwrap();
        assert_eq!(back, push);
        assert_eq!(back.app_id.unwrap().urn(), "x-wap-application:syncml.dm");
    }
}
