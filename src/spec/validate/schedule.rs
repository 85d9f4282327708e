//! How often a pipeline's `schedule` runs: the longest gap between two consecutive runs of an
//! Airflow preset or a 5-field cron expression (already checked by `dags::check_schedule`).
//!
//! Cron fields are expanded to sets and the calendar is walked day by day over four years
//! (2025–2028, one leap year), which is exact for every expression whose pattern repeats within
//! that span (all of them except ones naming a February 29th alone). Day of month and day of week
//! follow cron's rule: when both are restricted (neither starts with `*`), a day matching either
//! runs. Pure arithmetic; no clock.

use std::time::Duration;

/// The longest gap between two runs of `schedule`, or `None` when it runs at most once (`@once`,
/// `none`, a date that never comes) or does not parse.
pub fn longest_gap(schedule: &str) -> Option<Duration> {
    const H: u64 = 3600;
    const D: u64 = 24 * H;
    let secs = match schedule {
        "@hourly" => H,
        "@daily" => D,
        "@weekly" => 7 * D,
        "@monthly" => 31 * D,
        "@quarterly" => 92 * D,
        "@yearly" | "@annually" => 366 * D,
        s if s.starts_with('@') || s == "none" => return None,
        s => return cron_gap(s),
    };
    Some(Duration::from_secs(secs))
}

/// Days in `month` (1–12) of `year` in the proleptic Gregorian calendar; `None` for no month.
pub fn days_in_month(year: u32, month: u32) -> Option<u32> {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    })
}

/// The values a cron field allows, as a bit set over `lo..=hi`.
fn expand(field: &str, lo: u32, hi: u32, names: &[&str], first: u32) -> Option<u64> {
    let value = |t: &str| -> Option<u32> {
        t.parse::<u32>().ok().or_else(|| {
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(t))
                .map(|i| i as u32 + first)
        })
    };
    let mut set = 0u64;
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|n| *n >= 1)?),
            None => (item, 1),
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                // `a/n` runs from `a` to the end of the field, as cron reads it.
                None if item.contains('/') => (value(r)?, hi),
                None => (value(r)?, value(r)?),
            },
        };
        if a < lo || b > hi || a > b {
            return None;
        }
        let mut v = a;
        while v <= b {
            set |= 1 << v;
            v += step;
        }
    }
    Some(set)
}

fn cron_gap(expr: &str) -> Option<Duration> {
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let f: Vec<&str> = expr.split_whitespace().collect();
    let [min, hour, dom, month, dow] = f.as_slice() else {
        return None;
    };
    let minutes = expand(min, 0, 59, &[], 0)?;
    let hours = expand(hour, 0, 23, &[], 0)?;
    let doms = expand(dom, 1, 31, &[], 0)?;
    let months = expand(month, 1, 12, MONTHS, 1)?;
    let mut dows = expand(dow, 0, 7, DAYS, 0)?;
    if dows & (1 << 7) != 0 {
        dows |= 1; // 7 is Sunday too
    }
    let dom_any = dom.starts_with('*');
    let dow_any = dow.starts_with('*');
    // Minutes of the day at which it runs, in order.
    let times: Vec<u64> = (0..24u64)
        .filter(|h| hours & (1 << h) != 0)
        .flat_map(|h| {
            (0..60u64)
                .filter(move |m| minutes & (1 << m) != 0)
                .map(move |m| h * 60 + m)
        })
        .collect();
    let (first, last) = (*times.first()?, *times.last()?);
    let in_day = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let mut longest = in_day;
    let mut previous: Option<u64> = None; // day number of the previous day that runs
    let mut day = 0u64;
    let mut weekday = 3u32; // 2025-01-01 was a Wednesday
    for year in 2025..=2028u32 {
        for m in 1..=12u32 {
            for d in 1..=days_in_month(year, m).unwrap_or(0) {
                let by_dom = doms & (1 << d) != 0;
                let by_dow = dows & (1 << weekday) != 0;
                let runs = months & (1 << m) != 0
                    && match (dom_any, dow_any) {
                        (false, false) => by_dom || by_dow,
                        _ => by_dom && by_dow,
                    };
                if runs {
                    if let Some(p) = previous {
                        longest = longest.max((day - p) * 1440 + first - last);
                    }
                    previous = Some(day);
                }
                day += 1;
                weekday = (weekday + 1) % 7;
            }
        }
    }
    previous?;
    // A single run in the whole window has no gap to measure.
    (longest > 0 || times.len() > 1).then(|| Duration::from_secs(longest * 60))
}

#[cfg(test)]
mod tests {
    use super::longest_gap;
    use std::time::Duration;

    fn h(s: &str) -> Option<u64> {
        longest_gap(s).map(|d| d.as_secs() / 60)
    }

    #[test]
    fn presets_and_cron_give_the_longest_gap_in_minutes() {
        assert_eq!(h("@hourly"), Some(60));
        assert_eq!(h("@daily"), Some(1440));
        assert_eq!(h("@once"), None);
        assert_eq!(h("none"), None);
        assert_eq!(h("*/15 * * * *"), Some(15));
        assert_eq!(h("0 * * * *"), Some(60));
        assert_eq!(h("30 2 * * *"), Some(1440));
        // Twice a day, unevenly: the night gap is the longest.
        assert_eq!(h("0 6,18 * * *"), Some(720));
        assert_eq!(h("0 8,12 * * *"), Some(20 * 60));
        // Weekdays only: Friday 06:00 to Monday 06:00.
        assert_eq!(h("0 6 * * mon-fri"), Some(3 * 1440));
        assert_eq!(h("0 6 * * 1-5"), Some(3 * 1440));
        assert_eq!(h("0 0 * * 0"), Some(7 * 1440));
        assert_eq!(h("0 0 * * 7"), Some(7 * 1440));
        // Monthly on the 1st: the longest month has 31 days.
        assert_eq!(h("0 0 1 * *"), Some(31 * 1440));
        // The 31st exists in 7 months: 31 Aug → 31 Oct is 61 days.
        assert_eq!(h("0 0 31 * *"), Some(61 * 1440));
        // Day of month OR day of week when both are restricted.
        assert_eq!(h("0 0 1 * mon"), Some(7 * 1440));
        // Quarterly on named months.
        assert_eq!(h("0 0 1 jan,apr,jul,oct *"), Some(92 * 1440));
        // Never: 30 February.
        assert_eq!(h("0 0 30 2 *"), None);
        assert_eq!(longest_gap("not cron"), None);
        assert_eq!(longest_gap("@weekly"), Some(Duration::from_secs(7 * 86400)));
    }
}
