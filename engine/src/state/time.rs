//! Timestamps in the forms the Docker API uses, without a date library:
//! RFC 3339 in UTC for `CreatedAt`/`SystemTime`, and Unix seconds plus
//! nanoseconds for events.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch (0 for clocks set before it).
pub(crate) fn unix_nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `2024-05-01T12:34:56Z`.
pub(crate) fn rfc3339_seconds(t: SystemTime) -> String {
    let (date, secs, _) = split(t);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `2024-05-01T12:34:56.123456789Z`.
pub(crate) fn rfc3339_nanos(t: SystemTime) -> String {
    let (date, secs, nanos) = split(t);
    format!(
        "{date}T{:02}:{:02}:{:02}.{nanos:09}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The calendar date, seconds into the day and nanoseconds of `t` in UTC.
fn split(t: SystemTime) -> (String, u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let days = d.as_secs() / 86_400;
    let (y, m, day) = civil_from_days(days as i64);
    (
        format!("{y:04}-{m:02}-{day:02}"),
        d.as_secs() % 86_400,
        d.subsec_nanos(),
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_seconds(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap_day = UNIX_EPOCH + Duration::new(1_709_210_096, 5);
        assert_eq!(rfc3339_seconds(leap_day), "2024-02-29T12:34:56Z");
        assert_eq!(rfc3339_nanos(leap_day), "2024-02-29T12:34:56.000000005Z");
        assert_eq!(unix_nanos(leap_day), 1_709_210_096_000_000_005);
    }
}
