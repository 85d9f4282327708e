//! Civil-date arithmetic in the proleptic Gregorian calendar (UTC): days since 1970-01-01 to and
//! from (year, month, day), after Howard Hinnant's `days_from_civil` / `civil_from_days`. The one
//! calendar of the crate: the conform client's time parsing and the mock's bodies both use it.
//! Pure and total: no clock, no IO, and no input overflows (out-of-range dates are `None`).

/// The years [`days_from_civil`] accepts: Java's `Year.MIN_VALUE..=Year.MAX_VALUE`. Within
/// them, seconds since the epoch fit an `i64` many times over.
pub const YEARS: std::ops::RangeInclusive<i64> = -999_999_999..=999_999_999;

/// Days from 1970-01-01 to `year-month-day` (negative before it). `None` when the year is
/// outside [`YEARS`], the month outside 1–12 or the day outside 1–31; a day past the month's end
/// counts on into the next month (`02-30` is two days after `02-28` in a common year).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if !YEARS.contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `(year, month, day)` of the day `days` after 1970-01-01, for any `i64`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // i128 so that no day count can overflow; every resulting year fits an i64.
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // Both in range by construction (1–31 and 1–12).
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i128::from(m <= 2);
    (y as i64, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known dates: the epoch, leap days, century rules, the far past and future.
    const KNOWN: &[(i64, u32, u32, i64)] = &[
        (1970, 1, 1, 0),
        (1969, 12, 31, -1),
        (1970, 3, 1, 59),
        (2000, 2, 29, 11_016),
        (2000, 3, 1, 11_017),
        (2024, 2, 29, 19_782),
        (2024, 5, 1, 19_844),
        (1900, 3, 1, -25_508),
        (2100, 3, 1, 47_541),
        (1600, 1, 1, -135_140),
        (0, 1, 1, -719_528),
        (-1, 12, 31, -719_529),
        (9999, 12, 31, 2_932_896),
        (10_000, 1, 1, 2_932_897),
    ];

    #[test]
    fn known_dates_both_ways() {
        for &(y, m, d, days) in KNOWN {
            assert_eq!(days_from_civil(y, m, d), Some(days), "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), (y, m, d), "{days}");
        }
    }

    #[test]
    fn leap_years_follow_the_gregorian_rules() {
        let feb_len = |y: i64| {
            let march = days_from_civil(y, 3, 1).unwrap();
            civil_from_days(march - 1).2
        };
        assert_eq!(feb_len(2024), 29);
        assert_eq!(feb_len(2023), 28);
        assert_eq!(feb_len(1900), 28); // divisible by 100
        assert_eq!(feb_len(2000), 29); // divisible by 400
        assert_eq!(feb_len(2100), 28);
        assert_eq!(feb_len(-400), 29);
        // A day past the month's end counts on.
        assert_eq!(days_from_civil(2023, 2, 30), days_from_civil(2023, 3, 2));
    }

    #[test]
    fn round_trips_across_eras_and_far_years() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), Some(days), "{y}-{m}-{d}");
        }
        for y in [*YEARS.start(), -1_000_000, -401, 1, 400_000, *YEARS.end()] {
            for (m, d) in [(1, 1), (2, 28), (12, 31)] {
                let days = days_from_civil(y, m, d).unwrap();
                assert_eq!(civil_from_days(days), (y, m, d));
                // Seconds of any accepted date fit an i64.
                assert!(days.checked_mul(86_400).is_some());
            }
        }
    }

    #[test]
    fn out_of_range_is_none_and_nothing_overflows() {
        for (y, m, d) in [
            (i64::MAX, 1, 1),
            (i64::MIN, 1, 1),
            (1_000_000_000, 1, 1),
            (2024, 0, 1),
            (2024, 13, 1),
            (2024, 1, 0),
            (2024, 1, 32),
        ] {
            assert_eq!(days_from_civil(y, m, d), None, "{y}-{m}-{d}");
        }
        for days in [i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1] {
            let (_, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=31).contains(&d));
        }
    }
}
