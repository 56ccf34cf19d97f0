//! Node value formats (OMA-TS-DM_TND-V1_2 §8.5.4.2, the `Format` of a leaf): which names
//! exist, and whether a value is what its format says.
//!
//! Decisions (README "Values and formats"):
//! - A format name other than `b64`, `bin`, `bool`, `chr`, `int`, `node`, `null`, `xml`,
//!   `date`, `time` and `float` (compared without regard to case) is refused with 415
//!   (Unsupported media type or format).
//! - A value that does not parse as its format is refused with 415 as well (what other DM
//!   engines answer, and what Windows documents for "format errors"), and nothing is
//!   stored. An interior node (`node`) sent with data is a contradictory command: 400, decided
//!   by the session engine, which sees the Data.
//! - `int`: a 32-bit signed decimal (optional sign); `bool`: `true` or `false` (any case);
//!   `float`: the XML Schema `float` lexical form (`1`, `-1.5`, `.5`, `1e10`, `INF`, `-INF`,
//!   `NaN`); `date`: ISO 8601 calendar date with century, `YYYY-MM-DD` or `YYYYMMDD`, a day
//!   that exists (leap years counted); `time`: ISO 8601 `hh:mm[:ss[.f]]` or `hhmm[ss[.f]]`,
//!   hours 00–23, optional `Z` or `±hh[:mm]` zone; `b64`: Base64 text (padding required,
//!   white space between groups allowed); `null`: no data; `xml`: well-formed XML content.
//!   `chr` and `bin` take any octets. For `int`, `bool`, `float`, `date` and `time`, leading
//!   and trailing white space is ignored, as XML Schema's `whiteSpace=collapse` does.
//! - CSPs may narrow further (a range, an enumeration).

use crate::CmError;

/// The format names of TND §8.5.4.2.
pub const FORMATS: [&str; 11] = [
    "b64", "bin", "bool", "chr", "int", "node", "null", "xml", "date", "time", "float",
];

/// Whether `format` is a format name this tree knows.
pub fn is_known(format: &str) -> bool {
    FORMATS.iter().any(|f| f.eq_ignore_ascii_case(format))
}

/// Checks that `data` is a value of `format` (an empty format claims nothing and passes);
/// 415 when the format is unknown or the value does not parse as it.
pub fn check_value(format: &str, data: &[u8]) -> Result<(), CmError> {
    if matches!(format, "" | "chr" | "bin" | "node") {
        // No claim, or one any value meets, as nearly every server writes it.
        return Ok(());
    }
    // Formats are short ASCII words: lower-cased on the stack (this runs for every value).
    let mut lower = [0u8; 8];
    let format_lc = match format.as_bytes() {
        b if b.len() <= lower.len() => {
            lower[..b.len()].copy_from_slice(b);
            lower[..b.len()].make_ascii_lowercase();
            std::str::from_utf8(&lower[..b.len()]).unwrap_or("")
        }
        _ => "",
    };
    let ok = match format_lc {
        "chr" | "bin" | "node" => true,
        "null" => data.is_empty(),
        "b64" => is_base64(data),
        "xml" => is_xml(data),
        "int" | "bool" | "float" | "date" | "time" => match std::str::from_utf8(data) {
            Ok(text) => {
                let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
                match format_lc {
                    "int" => is_int(t),
                    "bool" => t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false"),
                    "float" => is_float(t),
                    "date" => is_date(t),
                    _ => is_time(t),
                }
            }
            Err(_) => false,
        },
        _ => {
            return Err(CmError::new(
                415,
                format!(
                    "unknown format {}",
                    omadm_syncml::printable(format).limit(40)
                ),
            ))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(CmError::new(
            415,
            format!(
                "value {} is not of format {format_lc}",
                omadm_syncml::printable_bytes(data).limit(40)
            ),
        ))
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_int(t: &str) -> bool {
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    digits(body) && t.parse::<i64>().is_ok_and(|n| i32::try_from(n).is_ok())
}

fn is_float(t: &str) -> bool {
    if matches!(t, "INF" | "-INF" | "+INF" | "NaN") {
        return true;
    }
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((i, f)) => {
            (digits(i) || i.is_empty())
                && (digits(f) || f.is_empty())
                && !(i.is_empty() && f.is_empty())
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

fn is_date(t: &str) -> bool {
    let (y, m, d) = match t.len() {
        10 if t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-' => (&t[..4], &t[5..7], &t[8..]),
        8 => (&t[..4], &t[4..6], &t[6..]),
        _ => return false,
    };
    if !(digits(y) && digits(m) && digits(d)) {
        return false;
    }
    let (y, m, d): (u32, u32, u32) = (
        y.parse().unwrap_or(0),
        m.parse().unwrap_or(0),
        d.parse().unwrap_or(0),
    );
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

fn is_time(t: &str) -> bool {
    // The zone first: Z, or ±hh, ±hhmm, ±hh:mm.
    let (clock, zone) = match t.find(['Z', '+', '-']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let zone_ok = match zone {
        "" | "Z" => true,
        z => {
            let z = &z[1..];
            let (h, m) = match z.len() {
                2 => (z, "00"),
                4 => (&z[..2], &z[2..]),
                5 if z.as_bytes()[2] == b':' => (&z[..2], &z[3..]),
                _ => return false,
            };
            digits(h)
                && digits(m)
                && h.parse::<u32>().is_ok_and(|h| h <= 14)
                && m.parse::<u32>().is_ok_and(|m| m < 60)
        }
    };
    let (whole, fraction) = match clock.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (clock, None),
    };
    if fraction.is_some_and(|f| !digits(f)) {
        return false;
    }
    let parts: Vec<&str> = if whole.contains(':') {
        whole.split(':').collect()
    } else {
        whole
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap_or("x"))
            .collect()
    };
    let limits = [23u32, 59, 60];
    let clock_ok = (2..=3).contains(&parts.len())
        && (fraction.is_none() || parts.len() == 3)
        && parts
            .iter()
            .zip(limits)
            .all(|(p, max)| p.len() == 2 && digits(p) && p.parse::<u32>().is_ok_and(|v| v <= max));
    zone_ok && clock_ok
}

fn is_base64(data: &[u8]) -> bool {
    let compact: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    std::str::from_utf8(&compact).is_ok_and(|s| omadm_syncml::b64::decode(s).is_ok())
}

fn is_xml(data: &[u8]) -> bool {
    omadm_syncml::xml::is_well_formed_content(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(format: &str, value: &str) -> Option<u16> {
        check_value(format, value.as_bytes())
            .err()
            .map(|e| e.status)
    }

    #[test]
    fn the_issue_examples_are_refused_with_415() {
        for (format, value) in [
            ("float", "123.45+"),
            ("date", "2005-10-32"),
            ("time", "24:03"),
            ("int", "abc"),
            ("bool", "maybe"),
            ("b64", "not base64!"),
            ("int", "2147483648"),
            ("date", "2023-02-29"),
            ("null", "x"),
            ("xml", "<a><b></a>"),
            ("chrr", "x"),
        ] {
            assert_eq!(code(format, value), Some(415), "{format} {value:?}");
        }
    }

    #[test]
    fn well_formed_values_pass() {
        for (format, value) in [
            ("float", "123.45"),
            ("float", "-1.5E-3"),
            ("float", ".5"),
            ("float", "INF"),
            ("date", "2024-02-29"),
            ("date", "20051031"),
            ("time", "23:59:60"),
            ("time", "12:00"),
            ("time", "120000.25Z"),
            ("time", "08:15:00+02:00"),
            ("int", "-2147483648"),
            ("int", " +42 "),
            ("bool", "TRUE"),
            ("b64", "aGVs bG8="),
            ("null", ""),
            ("xml", "<a x='1'>t</a><b/>"),
            ("chr", "anything \u{1}"),
            ("BIN", "\u{0}"),
            ("", "no claim"),
        ] {
            assert_eq!(code(format, value), None, "{format} {value:?}");
        }
    }

    #[test]
    fn formats_any_value_meets_pass_any_octets_in_any_case() {
        let octets = [0xFF, 0x00, 0xC3, 0x28];
        for format in ["chr", "CHR", "Chr", "bin", "Bin", "node", "NODE", ""] {
            assert!(check_value(format, &octets).is_ok(), "{format}");
        }
        // Near misses are formats of their own, or none.
        assert_eq!(check_value("null", &octets).unwrap_err().status, 415);
        assert_eq!(check_value("chr ", &octets).unwrap_err().status, 415);
        assert_eq!(check_value("ch", b"").unwrap_err().status, 415);
    }
}
