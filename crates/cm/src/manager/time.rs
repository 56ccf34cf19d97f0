//! TStamp text: UTC ISO 8601 basic format (`20010711T163817Z`) from a Unix time the caller
//! passes in (the Manager reads no clock).

/// Formats seconds since the Unix epoch (UTC).
pub(super) fn iso8601_basic(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn tstamp_is_iso8601_basic_utc() {
        assert_eq!(super::iso8601_basic(0), "19700101T000000Z");
        assert_eq!(super::iso8601_basic(994_869_497), "20010711T163817Z");
        assert_eq!(super::iso8601_basic(951_782_400), "20000229T000000Z");
    }
}
