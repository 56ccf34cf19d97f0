//! CDMA SMS (3GPP2 C.S0015-B, IS-637): point-to-point transport messages with the WAP
//! teleservice (4100), whose bearer data carries WDP datagram segments.
//!
//! Transport layer: message type 0 (point-to-point), then parameters `id, length, value`:
//! 0x00 teleservice id, 0x02 originating address, 0x08 bearer data. Bearer data
//! subparameters: 0x00 message identifier (type 4 bits, id 16 bits, header indicator 1 bit),
//! 0x01 user data (encoding 5 bits = 0 octet, NUM_FIELDS 8 bits, the octets, padding). The
//! user data of a WAP message is a WDP segment: message type (0), total segments, segment
//! number (from 0), and in segment 0 the source and destination ports, then the payload. The
//! message identifier is the reassembly reference. Some carriers repeat the four port octets
//! in segment 0 of DM pushes; [`CdmaOptions::repeated_ports_quirk`] detects and skips them.

use crate::error::PushError;

/// The WAP teleservice.
pub const TELESERVICE_WAP: u16 = 4100;

/// A decoded CDMA WAP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdmaWap {
    /// Teleservice id (4100).
    pub teleservice: u16,
    /// Originating address digits (DTMF or ASCII).
    pub originator: String,
    /// Message identifier (the WDP reference).
    pub message_id: u16,
    /// Number of WDP segments.
    pub total: u8,
    /// This segment's number (from 0).
    pub seq: u8,
    /// Ports (source, destination), in segment 0.
    pub ports: Option<(u16, u16)>,
    /// The segment's payload.
    pub payload: Vec<u8>,
}

/// Decoding options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CdmaOptions {
    /// Skip four repeated port octets in segment 0 when what follows them is a WSP push of
    /// a DM notification (a known carrier quirk; Android switches it per carrier).
    pub repeated_ports_quirk: bool,
}

struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.bit / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Some(v)
    }
}

struct BitWriter {
    out: Vec<u8>,
    bit: usize,
}

impl BitWriter {
    fn new() -> Self {
        BitWriter {
            out: Vec::new(),
            bit: 0,
        }
    }
    fn write(&mut self, v: u32, n: usize) {
        for i in (0..n).rev() {
            if self.bit / 8 == self.out.len() {
                self.out.push(0);
            }
            let b = ((v >> i) & 1) as u8;
            let idx = self.bit / 8;
            self.out[idx] |= b << (7 - self.bit % 8);
            self.bit += 1;
        }
    }
}

fn decode_address(v: &[u8]) -> Option<String> {
    let mut b = Bits { data: v, bit: 0 };
    let digit_mode = b.read(1)?;
    let number_mode = b.read(1)?;
    if digit_mode == 1 {
        b.read(3)?; // number type
        if number_mode == 0 {
            b.read(4)?; // numbering plan
        }
    }
    let fields = b.read(8)? as usize;
    let mut s = String::new();
    for _ in 0..fields {
        if digit_mode == 0 {
            let d = b.read(4)?;
            s.push(match d {
                10 => '0',
                11 => '*',
                12 => '#',
                1..=9 => char::from(b'0' + d as u8),
                _ => '?',
            });
        } else {
            s.push(char::from(b.read(8)? as u8));
        }
    }
    Some(s)
}

fn encode_address(digits: &str) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.write(0, 1); // DTMF digits
    w.write(0, 1);
    let digits: Vec<u8> = digits
        .bytes()
        .filter(|c| c.is_ascii_digit() || *c == b'*' || *c == b'#')
        .collect();
    w.write(digits.len().min(255) as u32, 8);
    for c in digits.iter().take(255) {
        w.write(
            match c {
                b'0' => 10,
                b'*' => 11,
                b'#' => 12,
                d => u32::from(d - b'0'),
            },
            4,
        );
    }
    w.out
}

fn params(input: &[u8], start: usize) -> Result<Vec<(u8, &[u8])>, PushError> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos < input.len() {
        let id = input[pos];
        let len = *input
            .get(pos + 1)
            .ok_or_else(|| PushError::new("truncated parameter", pos))? as usize;
        let value = input.get(pos + 2..pos + 2 + len).ok_or_else(|| {
            PushError::new(format!("parameter 0x{id:02X} longer than the message"), pos)
        })?;
        out.push((id, value));
        pos += 2 + len;
    }
    Ok(out)
}

impl CdmaWap {
    /// Decodes a transport-layer message.
    pub fn decode(input: &[u8], options: CdmaOptions) -> Result<CdmaWap, PushError> {
        match input.first() {
            Some(0) => {}
            Some(t) => {
                return Err(PushError::new(
                    format!("transport message type {t} is not point-to-point"),
                    0,
                ))
            }
            None => return Err(PushError::new("empty message", 0)),
        }
        let mut teleservice = None;
        let mut originator = String::new();
        let mut bearer = None;
        for (id, value) in params(input, 1)? {
            match id {
                0x00 if value.len() == 2 => {
                    teleservice = Some(u16::from_be_bytes([value[0], value[1]]))
                }
                0x02 => {
                    originator = decode_address(value)
                        .ok_or_else(|| PushError::new("bad originating address", 1))?
                }
                0x08 => bearer = Some(value),
                _ => {}
            }
        }
        let teleservice =
            teleservice.ok_or_else(|| PushError::new("no teleservice identifier", 1))?;
        if teleservice != TELESERVICE_WAP {
            return Err(PushError::new(
                format!("teleservice {teleservice} is not WAP (4100)"),
                1,
            ));
        }
        let bearer = bearer.ok_or_else(|| PushError::new("no bearer data", 1))?;
        let mut message_id = None;
        let mut user_data = None;
        for (id, value) in params(bearer, 0)? {
            match id {
                0x00 => {
                    let mut b = Bits {
                        data: value,
                        bit: 0,
                    };
                    b.read(4)
                        .ok_or_else(|| PushError::new("bad message identifier", 0))?;
                    message_id = Some(
                        b.read(16)
                            .ok_or_else(|| PushError::new("bad message identifier", 0))?
                            as u16,
                    );
                }
                0x01 => {
                    let mut b = Bits {
                        data: value,
                        bit: 0,
                    };
                    let encoding = b
                        .read(5)
                        .ok_or_else(|| PushError::new("bad user data", 0))?;
                    if encoding != 0 {
                        return Err(PushError::new(
                            format!("user data encoding {encoding} is not octet"),
                            0,
                        ));
                    }
                    let n = b
                        .read(8)
                        .ok_or_else(|| PushError::new("bad user data", 0))?
                        as usize;
                    let mut octets = Vec::with_capacity(n);
                    for _ in 0..n {
                        octets.push(
                            b.read(8).ok_or_else(|| {
                                PushError::new("user data shorter than NUM_FIELDS", 0)
                            })? as u8,
                        );
                    }
                    user_data = Some(octets);
                }
                _ => {}
            }
        }
        let message_id = message_id.ok_or_else(|| PushError::new("no message identifier", 0))?;
        let ud = user_data.ok_or_else(|| PushError::new("no user data", 0))?;
        if ud.len() < 3 || ud[0] != 0 {
            return Err(PushError::new("user data is not a WDP datagram", 0));
        }
        let (total, seq) = (ud[1], ud[2]);
        if total == 0 || seq >= total {
            return Err(PushError::new(
                format!("bad WDP segment {seq} of {total}"),
                0,
            ));
        }
        let (ports, mut payload) = if seq == 0 {
            if ud.len() < 7 {
                return Err(PushError::new("WDP segment 0 without ports", 0));
            }
            (
                Some((
                    u16::from_be_bytes([ud[3], ud[4]]),
                    u16::from_be_bytes([ud[5], ud[6]]),
                )),
                ud[7..].to_vec(),
            )
        } else {
            (None, ud[3..].to_vec())
        };
        if options.repeated_ports_quirk && seq == 0 && payload.len() > 4 && payload[..4] == ud[3..7]
        {
            let rest = &payload[4..];
            if crate::wsp::WspPush::decode(rest)
                .is_ok_and(|p| p.content_type.media == "application/vnd.syncml.notification")
            {
                payload = rest.to_vec();
            }
        }
        Ok(CdmaWap {
            teleservice,
            originator,
            message_id,
            total,
            seq,
            ports,
            payload,
        })
    }

    /// Encodes the transport-layer message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0x00, 0x00, 0x02];
        out.extend_from_slice(&self.teleservice.to_be_bytes());
        let addr = encode_address(&self.originator);
        out.push(0x02);
        out.push(addr.len() as u8);
        out.extend_from_slice(&addr);
        let mut bearer = Vec::new();
        let mut id = BitWriter::new();
        id.write(1, 4); // deliver
        id.write(u32::from(self.message_id), 16);
        id.write(0, 1);
        id.write(0, 3);
        bearer.push(0x00);
        bearer.push(id.out.len() as u8);
        bearer.extend_from_slice(&id.out);
        let mut ud = vec![0x00, self.total, self.seq];
        if let Some((src, dst)) = self.ports {
            ud.extend_from_slice(&src.to_be_bytes());
            ud.extend_from_slice(&dst.to_be_bytes());
        }
        ud.extend_from_slice(&self.payload);
        let mut w = BitWriter::new();
        w.write(0, 5);
        w.write(ud.len() as u32, 8);
        for b in &ud {
            w.write(u32::from(*b), 8);
        }
        bearer.push(0x01);
        bearer.push(w.out.len() as u8);
        bearer.extend_from_slice(&w.out);
        out.push(0x08);
        out.push(bearer.len() as u8);
        out.extend_from_slice(&bearer);
        out
    }
}

/// Splits a WSP PDU into CDMA WAP messages (the bearer data carries at most 255 octets of
/// user data; segments of up to 200 payload octets).
pub fn encode_wap_push(originator: &str, payload: &[u8], message_id: u16) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = if payload.is_empty() {
        vec![&[]]
    } else {
        payload.chunks(200).take(255).collect()
    };
    let total = chunks.len() as u8;
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            CdmaWap {
                teleservice: TELESERVICE_WAP,
                originator: originator.to_owned(),
                message_id,
                total,
                seq: i as u8,
                ports: (i == 0).then_some((9200, 2948)),
                payload: c.to_vec(),
            }
            .encode()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_a_two_segment_push() {
        let payload: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let msgs = encode_wap_push("5551234", &payload, 0x1234);
        assert_eq!(msgs.len(), 2);
        let a = CdmaWap::decode(&msgs[0], CdmaOptions::default()).unwrap();
        let b = CdmaWap::decode(&msgs[1], CdmaOptions::default()).unwrap();
        assert_eq!(
            (a.teleservice, a.message_id, a.total, a.seq, a.ports),
            (4100, 0x1234, 2, 0, Some((9200, 2948)))
        );
        assert_eq!(a.originator, "5551234");
        assert_eq!([a.payload, b.payload].concat(), payload);
    }

    #[test]
    fn repeated_ports_quirk_is_detected_only_when_enabled() {
        let wsp = crate::wsp::WspPush::new(
            crate::wsp::ContentType::new("application/vnd.syncml.notification"),
            None,
            vec![1, 2],
        )
        .encode();
        let mut quirky = vec![0x23, 0xF0, 0x0B, 0x84];
        quirky.extend_from_slice(&wsp);
        let msg = CdmaWap {
            teleservice: 4100,
            originator: "1".into(),
            message_id: 1,
            total: 1,
            seq: 0,
            ports: Some((9200, 2948)),
            payload: quirky.clone(),
        }
        .encode();
        assert_eq!(
            CdmaWap::decode(&msg, CdmaOptions::default())
                .unwrap()
                .payload,
            quirky
        );
        assert_eq!(
            CdmaWap::decode(
                &msg,
                CdmaOptions {
                    repeated_ports_quirk: true
                }
            )
            .unwrap()
            .payload,
            wsp
        );
    }

    #[test]
    fn other_teleservices_and_truncations_are_errors() {
        let mut msg = encode_wap_push("1", b"abc", 1).remove(0);
        for len in 0..msg.len() {
            assert!(
                CdmaWap::decode(&msg[..len], CdmaOptions::default()).is_err(),
                "{len}"
            );
        }
        msg[4] = 0x02; // teleservice 4098
        assert!(CdmaWap::decode(&msg, CdmaOptions::default()).is_err());
    }
}
