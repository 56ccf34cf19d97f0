//! GSM SMS-DELIVER TPDUs (3GPP TS 23.040 §9.2.2.1) and their user data header (§9.2.3.24):
//! decoding every field a WAP push needs, and encoding (for the reference server and tests).

use crate::error::{Cursor, PushError};

/// The originating (or SMSC) address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Type of number (3 bits): 1 international, 5 alphanumeric, ...
    pub ton: u8,
    /// Numbering plan (4 bits): 1 ISDN/telephone, ...
    pub npi: u8,
    /// The digits (or, for alphanumeric addresses, the text).
    pub value: String,
}

impl Address {
    /// An international number (`+` is dropped).
    pub fn international(number: &str) -> Self {
        Address {
            ton: 1,
            npi: 1,
            value: number.trim_start_matches('+').to_owned(),
        }
    }

    fn toa(&self) -> u8 {
        0x80 | (self.ton & 7) << 4 | (self.npi & 0xF)
    }

    /// The number as a user sees it (`+` for international numbers).
    pub fn display(&self) -> String {
        if self.ton == 1 {
            format!("+{}", self.value)
        } else {
            self.value.clone()
        }
    }
}

/// TP-SCTS: the service centre time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timestamp {
    /// Year within the century (00–99).
    pub year: u8,
    /// Month.
    pub month: u8,
    /// Day.
    pub day: u8,
    /// Hour.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Offset from UTC in quarters of an hour.
    pub tz_quarters: i8,
}

/// One information element of the user data header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformationElement {
    /// IEI.
    pub id: u8,
    /// Its data.
    pub data: Vec<u8>,
}

/// Application port addressing (IEI 0x05 16-bit, 0x04 8-bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Destination port (2948 for WAP push).
    pub destination: u16,
    /// Originator port.
    pub origin: u16,
}

/// Concatenation (IEI 0x00 8-bit reference, 0x08 16-bit reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concat {
    /// Reference number.
    pub reference: u16,
    /// Number of segments.
    pub total: u8,
    /// This segment's number, from 1.
    pub seq: u8,
}

/// A decoded SMS-DELIVER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsDeliver {
    /// TP-MMS inverted: more messages are waiting at the service centre.
    pub more_messages: bool,
    /// TP-SRI.
    pub status_report: bool,
    /// TP-RP.
    pub reply_path: bool,
    /// TP-OA.
    pub originator: Address,
    /// TP-PID.
    pub pid: u8,
    /// TP-DCS.
    pub dcs: u8,
    /// TP-SCTS.
    pub timestamp: Timestamp,
    /// The user data header's elements (empty without UDHI).
    pub udh: Vec<InformationElement>,
    /// The user data after the header: octets for 8-bit and UCS-2 data, unpacked septets for
    /// 7-bit data.
    pub user_data: Vec<u8>,
}

/// Whether a DCS says 8-bit data (group 00xx with bits 3..2 = 01, or group 1111 with bit 2).
pub fn is_8bit(dcs: u8) -> bool {
    match dcs >> 4 {
        0x0..=0x3 => (dcs >> 2) & 3 == 1,
        0xF => dcs & 0x04 != 0,
        _ => false,
    }
}

fn is_ucs2(dcs: u8) -> bool {
    matches!(dcs >> 4, 0x0..=0x3) && (dcs >> 2) & 3 == 2
}

fn swap_bcd(b: u8) -> u8 {
    (b & 0x0F) * 10 + (b >> 4)
}

fn to_swapped_bcd(v: u8) -> u8 {
    ((v % 10) << 4) | (v / 10)
}

fn decode_digits(bytes: &[u8], count: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789*#abc?";
    let mut s = String::with_capacity(count);
    for b in bytes {
        for nibble in [b & 0x0F, b >> 4] {
            if s.len() < count && nibble != 0x0F {
                s.push(DIGITS[nibble as usize] as char);
            }
        }
    }
    s
}

fn encode_digits(digits: &str) -> Vec<u8> {
    let nib = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'*' => 0xA,
        b'#' => 0xB,
        b'a' | b'A' => 0xC,
        b'b' | b'B' => 0xD,
        b'c' | b'C' => 0xE,
        _ => 0xF,
    };
    digits
        .as_bytes()
        .chunks(2)
        .map(|p| nib(p[0]) | (p.get(1).map(|&c| nib(c)).unwrap_or(0xF) << 4))
        .collect()
}

/// Unpacks GSM 7-bit septets (no alphabet translation beyond ASCII-compatible positions).
pub fn unpack_septets(bytes: &[u8], count: usize, skip_bits: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let bit = skip_bits + i * 7;
        let byte = bit / 8;
        let shift = bit % 8;
        let lo = u16::from(*bytes.get(byte).unwrap_or(&0));
        let hi = u16::from(*bytes.get(byte + 1).unwrap_or(&0));
        out.push((((hi << 8 | lo) >> shift) & 0x7F) as u8);
    }
    out
}

fn read_address(c: &mut Cursor<'_>) -> Result<Address, PushError> {
    let digits = c.u8("address length")? as usize;
    let toa = c.u8("type of address")?;
    let octets = digits.div_ceil(2);
    let raw = c.take(octets, "address")?;
    let ton = (toa >> 4) & 7;
    let value = if ton == 5 {
        let septets = digits * 4 / 7;
        String::from_utf8_lossy(&unpack_septets(raw, septets, 0)).into_owned()
    } else {
        decode_digits(raw, digits)
    };
    Ok(Address {
        ton,
        npi: toa & 0x0F,
        value,
    })
}

fn write_address(out: &mut Vec<u8>, a: &Address) {
    out.push(a.value.len() as u8);
    out.push(a.toa());
    out.extend(encode_digits(&a.value));
}

impl SmsDeliver {
    /// A DELIVER of 8-bit `payload` to WAP push port 2948 from port 9200 (one segment).
    pub fn wap_push(originator: Address, payload: &[u8]) -> Self {
        SmsDeliver {
            more_messages: false,
            status_report: false,
            reply_path: false,
            originator,
            pid: 0,
            dcs: 0x04,
            // A valid date (2000-01-01 00:00 UTC): the stack reads no clock, and a zero month
            // or day is refused by strict decoders.
            timestamp: Timestamp {
                year: 0,
                month: 1,
                day: 1,
                ..Timestamp::default()
            },
            udh: vec![InformationElement {
                id: 0x05,
                data: vec![0x0B, 0x84, 0x23, 0xF0],
            }],
            user_data: payload.to_vec(),
        }
    }

    /// Decodes a TPDU (without SMSC address).
    pub fn decode(input: &[u8]) -> Result<SmsDeliver, PushError> {
        let mut c = Cursor::new(input);
        let first = c.u8("first octet")?;
        if first & 0x03 != 0 {
            return Err(PushError::new(
                format!("TP-MTI {} is not SMS-DELIVER", first & 3),
                0,
            ));
        }
        let originator = read_address(&mut c)?;
        let pid = c.u8("TP-PID")?;
        let dcs = c.u8("TP-DCS")?;
        let ts = c.take(7, "TP-SCTS")?;
        let tz_raw = ts[6];
        let tz = swap_bcd(tz_raw & 0xF7) as i8;
        let timestamp = Timestamp {
            year: swap_bcd(ts[0]),
            month: swap_bcd(ts[1]),
            day: swap_bcd(ts[2]),
            hour: swap_bcd(ts[3]),
            minute: swap_bcd(ts[4]),
            second: swap_bcd(ts[5]),
            tz_quarters: if tz_raw & 0x08 != 0 { -tz } else { tz },
        };
        let udl = c.u8("TP-UDL")? as usize;
        let seven_bit = !is_8bit(dcs) && !is_ucs2(dcs);
        let ud_octets = if seven_bit {
            (udl * 7).div_ceil(8)
        } else {
            udl
        };
        let ud_start = c.pos;
        let ud = c.take(ud_octets, "TP-UD")?;
        let mut udh = Vec::new();
        let mut header_len = 0;
        if first & 0x40 != 0 {
            let udhl = *ud
                .first()
                .ok_or_else(|| PushError::new("missing UDHL", ud_start))?
                as usize;
            let header = ud
                .get(1..1 + udhl)
                .ok_or_else(|| PushError::new("UDH longer than the user data", ud_start))?;
            let mut h = Cursor::new(header);
            while h.remaining() > 0 {
                let id = h
                    .u8("IEI")
                    .map_err(|e| PushError::new(e.what, ud_start + 1 + e.offset))?;
                let len = h
                    .u8("IE length")
                    .map_err(|e| PushError::new(e.what, ud_start + 1 + e.offset))?
                    as usize;
                let data = h
                    .take(len, "IE data")
                    .map_err(|e| PushError::new(e.what, ud_start + 1 + e.offset))?;
                udh.push(InformationElement {
                    id,
                    data: data.to_vec(),
                });
            }
            header_len = 1 + udhl;
        }
        let user_data = if seven_bit {
            let header_septets = (header_len * 8).div_ceil(7);
            unpack_septets(ud, udl.saturating_sub(header_septets), header_septets * 7)
        } else {
            ud[header_len..].to_vec()
        };
        Ok(SmsDeliver {
            more_messages: first & 0x04 == 0,
            status_report: first & 0x20 != 0,
            reply_path: first & 0x80 != 0,
            originator,
            pid,
            dcs,
            timestamp,
            udh,
            user_data,
        })
    }

    /// Decodes an SMSC address followed by a TPDU (the `AT+CMGR` PDU form; `00` = no SMSC).
    pub fn decode_with_smsc(input: &[u8]) -> Result<(Option<Address>, SmsDeliver), PushError> {
        let len = *input
            .first()
            .ok_or_else(|| PushError::new("empty input", 0))? as usize;
        if len == 0 {
            return Ok((
                None,
                SmsDeliver::decode(&input[1..])
                    .map_err(|e| PushError::new(e.what, e.offset + 1))?,
            ));
        }
        let smsc = input
            .get(1..1 + len)
            .ok_or_else(|| PushError::new("truncated SMSC address", 1))?;
        let toa = smsc[0];
        let smsc = Address {
            ton: (toa >> 4) & 7,
            npi: toa & 0x0F,
            value: decode_digits(&smsc[1..], (len - 1) * 2),
        };
        let tpdu = SmsDeliver::decode(&input[1 + len..])
            .map_err(|e| PushError::new(e.what, e.offset + 1 + len))?;
        Ok((Some(smsc), tpdu))
    }

    /// Encodes the TPDU (8-bit user data; 7-bit DCS values are written as given).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.user_data.len());
        let mut first = 0x00;
        if !self.more_messages {
            first |= 0x04;
        }
        if self.status_report {
            first |= 0x20;
        }
        if !self.udh.is_empty() {
            first |= 0x40;
        }
        if self.reply_path {
            first |= 0x80;
        }
        out.push(first);
        write_address(&mut out, &self.originator);
        out.push(self.pid);
        out.push(self.dcs);
        let t = &self.timestamp;
        let tz =
            to_swapped_bcd(t.tz_quarters.unsigned_abs()) | if t.tz_quarters < 0 { 0x08 } else { 0 };
        out.extend([t.year, t.month, t.day, t.hour, t.minute, t.second].map(to_swapped_bcd));
        out.push(tz);
        let mut ud = Vec::new();
        if !self.udh.is_empty() {
            let header: Vec<u8> = self
                .udh
                .iter()
                .flat_map(|ie| [vec![ie.id, ie.data.len() as u8], ie.data.clone()].concat())
                .collect();
            ud.push(header.len() as u8);
            ud.extend_from_slice(&header);
        }
        ud.extend_from_slice(&self.user_data);
        out.push(ud.len() as u8);
        out.extend_from_slice(&ud);
        out
    }

    /// Application ports, if addressed.
    pub fn ports(&self) -> Option<Ports> {
        self.udh
            .iter()
            .find_map(|ie| match (ie.id, ie.data.as_slice()) {
                (0x05, [d1, d2, o1, o2]) => Some(Ports {
                    destination: u16::from_be_bytes([*d1, *d2]),
                    origin: u16::from_be_bytes([*o1, *o2]),
                }),
                (0x04, [d, o]) => Some(Ports {
                    destination: u16::from(*d),
                    origin: u16::from(*o),
                }),
                _ => None,
            })
    }

    /// Concatenation information, if this is a segment.
    pub fn concat(&self) -> Option<Concat> {
        self.udh
            .iter()
            .find_map(|ie| match (ie.id, ie.data.as_slice()) {
                (0x00, [r, t, s]) => Some(Concat {
                    reference: u16::from(*r),
                    total: *t,
                    seq: *s,
                }),
                (0x08, [r1, r2, t, s]) => Some(Concat {
                    reference: u16::from_be_bytes([*r1, *r2]),
                    total: *t,
                    seq: *s,
                }),
                _ => None,
            })
    }
}

/// Splits a WSP PDU into SMS-DELIVER TPDUs to port 2948: one when it fits in 133 octets,
/// else concatenated segments (8-bit reference `reference`, 128 payload octets each, the port
/// IE in every segment, as real PPGs send). At most 255 segments.
pub fn encode_wap_push(originator: &Address, payload: &[u8], reference: u8) -> Vec<Vec<u8>> {
    let port_ie = InformationElement {
        id: 0x05,
        data: vec![0x0B, 0x84, 0x23, 0xF0],
    };
    if payload.len() <= 133 {
        return vec![SmsDeliver::wap_push(originator.clone(), payload).encode()];
    }
    let chunks: Vec<&[u8]> = payload.chunks(128).take(255).collect();
    let total = chunks.len() as u8;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut sms = SmsDeliver::wap_push(originator.clone(), chunk);
            sms.more_messages = i + 1 < chunks.len();
            sms.udh = vec![
                port_ie.clone(),
                InformationElement {
                    id: 0x00,
                    data: vec![reference, total, i as u8 + 1],
                },
            ];
            sms.encode()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_util::hex;

    /// Digest §10.2: the SMS-DELIVER carrying the spec's package #0.
    #[test]
    fn spec_vector_10_2_decodes() {
        let pdu = hex("0791447758100650440B912143658709F100F542105101030000370605040B8423F0010603C4AF87 4E94C58C36A8C50AABCDBE0C296B2BA702D0000000123412636F6D2E6D676D747372762E6D616E616765");
        let (smsc, sms) = SmsDeliver::decode_with_smsc(&pdu).unwrap();
        assert_eq!(smsc.unwrap().display(), "+447785016005");
        assert_eq!(sms.originator.display(), "+12345678901");
        assert_eq!((sms.pid, sms.dcs), (0, 0xF5));
        assert_eq!(
            sms.timestamp,
            Timestamp {
                year: 24,
                month: 1,
                day: 15,
                hour: 10,
                minute: 30,
                second: 0,
                tz_quarters: 0
            }
        );
        assert_eq!(
            sms.ports(),
            Some(Ports {
                destination: 2948,
                origin: 9200
            })
        );
        assert_eq!(sms.concat(), None);
        assert_eq!(&sms.user_data[..6], [0x01, 0x06, 0x03, 0xC4, 0xAF, 0x87]);
        assert_eq!(sms.user_data.len(), 6 + 42);
        assert_eq!(SmsDeliver::decode(&sms.encode()).unwrap(), sms);
    }

    /// Digest §10.3 (a): a real MMS notification in two segments, 16-bit concatenation.
    #[test]
    fn real_capture_with_16_bit_concatenation() {
        let seg1 = hex("0791447758100650400E80885810000000810004016082415464408C0C08049F8E020105040B8423F00106226170706C69636174696F6E2F766E642E7761702E6D6D732D6D65737361676500AF848C82984E4F4B3543694B636F544D595347344D4253774141734B7631344655484141414141414141008D908919802B3434373738353334323734392F545950453D504C4D4E008A808E0274008805810301194083687474703A2F");
        let (_, sms) = SmsDeliver::decode_with_smsc(&seg1).unwrap();
        assert_eq!(sms.originator.value, "88850100000018");
        assert_eq!(sms.originator.ton, 0);
        assert_eq!(sms.dcs, 0x04);
        assert_eq!(
            sms.concat(),
            Some(Concat {
                reference: 40846,
                total: 2,
                seq: 1
            })
        );
        assert_eq!(
            sms.ports(),
            Some(Ports {
                destination: 2948,
                origin: 9200
            })
        );
        assert_eq!(&sms.user_data[..3], [0x01, 0x06, 0x22]);
    }

    #[test]
    fn a_long_push_is_split_into_concatenated_segments() {
        let payload: Vec<u8> = (0..300).map(|i| i as u8).collect();
        let pdus = encode_wap_push(&Address::international("+123"), &payload, 7);
        assert_eq!(pdus.len(), 3);
        let mut joined = Vec::new();
        for (i, pdu) in pdus.iter().enumerate() {
            let sms = SmsDeliver::decode(pdu).unwrap();
            assert_eq!(
                sms.concat(),
                Some(Concat {
                    reference: 7,
                    total: 3,
                    seq: i as u8 + 1
                })
            );
            assert!(pdu.len() <= 140 + 30);
            joined.extend(sms.user_data);
        }
        assert_eq!(joined, payload);
    }

    #[test]
    fn truncations_are_errors() {
        let sms = SmsDeliver::wap_push(Address::international("+12345"), &[1, 2, 3]).encode();
        for len in 0..sms.len() {
            assert!(SmsDeliver::decode(&sms[..len]).is_err(), "{len}");
        }
    }

    #[test]
    fn dcs_8bit_detection() {
        assert!(is_8bit(0x04) && is_8bit(0xF5) && is_8bit(0xF4) && is_8bit(0xF6));
        assert!(!is_8bit(0x00) && !is_8bit(0xF0) && !is_8bit(0x08));
    }
}
