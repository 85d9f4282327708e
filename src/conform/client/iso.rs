//! The time formats of the Airbyte API, as the client reads them: ISO-8601 instants and
//! durations of the public API (as Java's `OffsetDateTime` and `Duration` print them), civil
//! dates to epoch seconds (through [`crate::calendar`]), and epoch seconds back to RFC 3339 for
//! reports. Pure; nothing here can overflow or panic on any input.

use std::time::Duration;

/// Seconds since the epoch for a UTC civil date and time (proleptic Gregorian), years 0–9999
/// (anything else is `None`, so no arithmetic here can overflow).
pub fn epoch_seconds(year: i64, month: u32, day: u32, h: u32, m: u32, s: u32) -> Option<i64> {
    if !(0..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || h > 23
        || m > 59
        || s > 60
    {
        return None;
    }
    let days = crate::calendar::days_from_civil(year, month, day)?;
    Some(days * 86_400 + (h * 3600 + m * 60 + s) as i64)
}

/// Parse an ISO-8601 time as the public API writes it: `2024-05-01T12:34:56Z`, also without
/// seconds (`2024-05-01T12:34Z`, Java's `OffsetDateTime.toString()` at :00), with fractional
/// seconds, or with a numeric offset.
pub fn parse_iso_time(s: &str) -> Option<i64> {
    let (date, time) = s.split_once(['T', 't'])?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() {
        return None;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else {
        let pos = time.rfind(['+', '-'])?;
        let (c, off) = time.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off.get(1..)?.split_once(':')?;
        let (oh, om) = (oh.parse::<i64>().ok()?, om.parse::<i64>().ok()?);
        if !(0..=23).contains(&oh) || !(0..=59).contains(&om) {
            return None;
        }
        (c, sign * (oh * 3600 + om * 60))
    };
    let mut parts = clock.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let sec: u32 = match parts.next() {
        None => 0,
        Some(sx) => sx.split('.').next()?.parse().ok()?,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(epoch_seconds(year, month, day, h, m, sec)? - offset)
}

/// Parse an ISO-8601 duration as Java's `Duration.toString()` writes it (`PT8M12S`, `PT0S`,
/// `PT1H0.5S`, optionally with days `P1DT2H`), to whole seconds.
pub fn parse_iso_duration(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total = 0f64;
    let mut num = String::new();
    let mut any = false;
    for (part, units) in [
        (days, &[('D', 86_400f64)][..]),
        (time, &[('H', 3600f64), ('M', 60f64), ('S', 1f64)][..]),
    ] {
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == '-' {
                num.push(c);
            } else {
                let mult = units.iter().find(|(u, _)| *u == c)?.1;
                total += num.parse::<f64>().ok()? * mult;
                num.clear();
                any = true;
            }
        }
        if !num.is_empty() {
            return None;
        }
    }
    (any && total >= 0.0).then_some(total as u64)
}

/// Format epoch seconds as `YYYY-MM-DDTHH:MM:SSZ` (years 1970–9999; other values as the number).
pub fn format_epoch(secs: i64) -> String {
    /// 10000-01-01T00:00:00Z, the first second RFC 3339 cannot write.
    const YEAR_10000: u64 = 253_402_300_800;
    match u64::try_from(secs) {
        Ok(s) if s < YEAR_10000 => {
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(s))
                .to_string()
        }
        _ => secs.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_with_and_without_seconds() {
        assert_eq!(parse_iso_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso_time("2024-05-01T12:34:56Z"), Some(1_714_566_896));
        assert_eq!(parse_iso_time("2024-05-01T12:34Z"), Some(1_714_566_840));
        assert_eq!(
            parse_iso_time("2024-05-01T14:34:56+02:00"),
            Some(1_714_566_896)
        );
        assert_eq!(
            parse_iso_time("2024-05-01T12:34:56.789Z"),
            Some(1_714_566_896)
        );
        assert_eq!(parse_iso_time("2024-05-01 12:34Z"), None);
        assert_eq!(parse_iso_time("yesterday"), None);
        assert_eq!(format_epoch(1_714_566_896), "2024-05-01T12:34:56Z");
    }

    #[test]
    fn iso_durations() {
        assert_eq!(parse_iso_duration("PT8M12S"), Some(492));
        assert_eq!(parse_iso_duration("PT0S"), Some(0));
        assert_eq!(parse_iso_duration("PT8H6M12S"), Some(29_172));
        assert_eq!(parse_iso_duration("P1DT1S"), Some(86_401));
        assert_eq!(parse_iso_duration("PT1.5S"), Some(1));
        assert_eq!(parse_iso_duration("8 minutes"), None);
        assert_eq!(parse_iso_duration("PT8X"), None);
    }
}
