//! The WBXML document header (WAP-192-WBXML §5.4–5.7): version, public identifier, charset
//! and string table, and the multi-byte integers they are written in.

use crate::error::{DecodeError, ErrorKind};

/// Global tokens (WAP-192-WBXML §7.1), valid on every code page.
pub(crate) mod token {
    pub const SWITCH_PAGE: u8 = 0x00;
    pub const END: u8 = 0x01;
    pub const ENTITY: u8 = 0x02;
    pub const STR_I: u8 = 0x03;
    pub const STR_T: u8 = 0x83;
    pub const OPAQUE: u8 = 0xC3;
    /// Bit set on a tag token whose element has content.
    pub const WITH_CONTENT: u8 = 0x40;
    /// Bit set on a tag token whose element has attributes.
    pub const WITH_ATTRIBUTES: u8 = 0x80;
}

/// Character sets the decoder accepts (IANA MIBenum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// 106.
    Utf8,
    /// 4: each octet is the code point.
    Latin1,
}

/// FPI of SyncML 1.2 and 1.1 documents, as they appear as string-table literals.
const SYNCML_FPI_PREFIX: &[u8] = b"-//SYNCML//DTD SyncML 1.";

/// Registered public identifiers of SyncML 1.0, 1.1 and 1.2, and 0x01 ("unknown", which
/// some encoders write and which the root element then disambiguates).
const SYNCML_PUBLIC_IDS: [u32; 4] = [0x01, 0x0FD1, 0x0FD3, 0x1201];

/// A parsed header; the body starts at `body_offset`.
pub(crate) struct Header<'a> {
    pub charset: Charset,
    pub string_table: &'a [u8],
    pub body_offset: usize,
}

/// Reads a `mb_u_int32` at `*pos`, advancing it.
pub(crate) fn read_mb_u32(input: &[u8], pos: &mut usize) -> Result<u32, DecodeError> {
    let start = *pos;
    let mut value: u32 = 0;
    for i in 0..5 {
        let byte = *input
            .get(*pos)
            .ok_or_else(|| DecodeError::new(ErrorKind::UnexpectedEof, *pos))?;
        *pos += 1;
        if i == 4 && value > (u32::MAX >> 7) {
            return Err(DecodeError::new(ErrorKind::IntegerOverflow, start));
        }
        value = (value << 7) | u32::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::new(ErrorKind::IntegerOverflow, start))
}

/// Appends `value` as a `mb_u_int32`.
pub(crate) fn write_mb_u32(out: &mut Vec<u8>, value: u32) {
    let mut buf = [0u8; 5];
    let mut i = buf.len() - 1;
    let mut v = value;
    buf[i] = (v & 0x7F) as u8;
    v >>= 7;
    while v != 0 {
        i -= 1;
        buf[i] = 0x80 | (v & 0x7F) as u8;
        v >>= 7;
    }
    out.extend_from_slice(&buf[i..]);
}

/// Parses the header of a SyncML WBXML document.
pub(crate) fn parse_header(input: &[u8]) -> Result<Header<'_>, DecodeError> {
    let version = *input
        .first()
        .ok_or_else(|| DecodeError::new(ErrorKind::UnexpectedEof, 0))?;
    if !(0x01..=0x03).contains(&version) {
        return Err(DecodeError::new(
            ErrorKind::UnsupportedWbxmlVersion(version),
            0,
        ));
    }
    let mut pos = 1;
    let public_id_offset = pos;
    let public_id = read_mb_u32(input, &mut pos)?;
    let literal_index = if public_id == 0 {
        Some(read_mb_u32(input, &mut pos)?)
    } else {
        None
    };
    let charset_offset = pos;
    let charset = match read_mb_u32(input, &mut pos)? {
        106 | 3 | 0 => Charset::Utf8,
        4 => Charset::Latin1,
        other => {
            return Err(DecodeError::new(
                ErrorKind::UnsupportedCharset(other),
                charset_offset,
            ))
        }
    };
    let table_len = read_mb_u32(input, &mut pos)? as usize;
    let table_end = pos
        .checked_add(table_len)
        .filter(|&end| end <= input.len())
        .ok_or_else(|| DecodeError::new(ErrorKind::UnexpectedEof, input.len()))?;
    let string_table = &input[pos..table_end];
    match literal_index {
        Some(index) => {
            let fpi = table_string(string_table, index).ok_or_else(|| {
                DecodeError::new(ErrorKind::BadStringTableRef(index), public_id_offset)
            })?;
            if !fpi.starts_with(SYNCML_FPI_PREFIX) {
                return Err(DecodeError::new(
                    ErrorKind::UnsupportedPublicId(String::from_utf8_lossy(fpi).into_owned()),
                    public_id_offset,
                ));
            }
        }
        None if SYNCML_PUBLIC_IDS.contains(&public_id) => {}
        None => {
            return Err(DecodeError::new(
                ErrorKind::UnsupportedPublicId(format!("0x{public_id:04X}")),
                public_id_offset,
            ))
        }
    }
    Ok(Header {
        charset,
        string_table,
        body_offset: table_end,
    })
}

/// The string at `index` in the string table: up to its NUL, or to the table's end (some
/// encoders leave the last string unterminated).
pub(crate) fn table_string(table: &[u8], index: u32) -> Option<&[u8]> {
    let rest = table.get(index as usize..)?;
    if rest.is_empty() {
        return None;
    }
    let end = super::nul::find_nul(rest).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mb_u_int32_encodes_syncml_1_2_public_id_as_a4_01() {
        let mut out = Vec::new();
        write_mb_u32(&mut out, 0x1201);
        assert_eq!(out, [0xA4, 0x01]);
        out.clear();
        write_mb_u32(&mut out, 0x0FD3);
        assert_eq!(out, [0x9F, 0x53]);
    }

    #[test]
    fn mb_u_int32_round_trips_across_the_range() {
        for value in [
            0,
            1,
            0x7F,
            0x80,
            0x3FFF,
            0x4000,
            0x1F_FFFF,
            0x0FFF_FFFF,
            u32::MAX,
        ] {
            let mut out = Vec::new();
            write_mb_u32(&mut out, value);
            let mut pos = 0;
            assert_eq!(read_mb_u32(&out, &mut pos).unwrap(), value);
            assert_eq!(pos, out.len());
        }
    }

    #[test]
    fn mb_u_int32_longer_than_32_bits_is_an_overflow() {
        let mut pos = 0;
        let err = read_mb_u32(&[0x90, 0x80, 0x80, 0x80, 0x00], &mut pos).unwrap_err();
        assert_eq!(err.kind, ErrorKind::IntegerOverflow);
        let mut pos = 0;
        let err = read_mb_u32(&[0x81, 0x80, 0x80, 0x80, 0x80, 0x00], &mut pos).unwrap_err();
        assert_eq!(err.kind, ErrorKind::IntegerOverflow);
    }

    #[test]
    fn unterminated_last_string_in_the_table_is_tolerated() {
        assert_eq!(table_string(b"ab\0cd", 3), Some(&b"cd"[..]));
        assert_eq!(table_string(b"ab\0cd", 5), None);
    }
}
