//! Retry policy: which failures are retried, how long to wait (exponential backoff with full
//! jitter, or the server's `Retry-After`), and when to give up (attempts and elapsed time).
//! This module only computes; it never sleeps or sends.

use rand::Rng;
use std::time::{Duration, SystemTime};

/// Bounds and pacing of retries.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Most attempts per request, the first included (≥ 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt (upper bound of its jitter window).
    pub base_delay: Duration,
    /// Largest backoff window.
    pub max_delay: Duration,
    /// Give up when the next wait would end later than this after the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The backoff window after `failed_attempts` failures: `base · 2^(n-1)`, capped.
    pub fn window(&self, failed_attempts: u32) -> Duration {
        let exp = failed_attempts.saturating_sub(1).min(20);
        self.base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay)
    }

    /// Full jitter: a uniformly random wait in `[0, window]`.
    pub fn backoff(&self, failed_attempts: u32) -> Duration {
        let window = self.window(failed_attempts);
        let ms = window.as_millis() as u64;
        if ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::rng().random_range(0..=ms))
    }

    /// The wait before the next attempt, or `None` when the budget is spent. `retry_after` (from
    /// the server) replaces the jittered backoff; a `Retry-After` longer than the remaining
    /// elapsed budget means giving up now rather than retrying early.
    pub fn next_delay(
        &self,
        failed_attempts: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if failed_attempts >= self.max_attempts {
            return None;
        }
        let delay = retry_after.unwrap_or_else(|| self.backoff(failed_attempts));
        if elapsed.saturating_add(delay) > self.max_elapsed {
            return None;
        }
        Some(delay)
    }
}

/// Parse a `Retry-After` value: delta-seconds or an HTTP-date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`). A date in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(v)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let day: u32 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() {
        return None;
    }
    let secs = super::iso::epoch_seconds(year, month, day, h, m, sec)?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        // 784111777 = Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 UTC", now),
            None
        );
    }

    #[test]
    fn backoff_is_bounded_by_window() {
        let p = RetryPolicy::default();
        assert_eq!(p.window(1), Duration::from_millis(250));
        assert_eq!(p.window(3), Duration::from_secs(1));
        assert_eq!(p.window(30), Duration::from_secs(10));
        for n in 1..10 {
            assert!(p.backoff(n) <= p.window(n));
        }
    }

    #[test]
    fn budget_limits() {
        let p = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        assert!(p.next_delay(2, Duration::ZERO, None).is_some());
        assert_eq!(p.next_delay(3, Duration::ZERO, None), None);
        let too_long = Some(Duration::from_secs(200));
        assert_eq!(p.next_delay(1, Duration::ZERO, too_long), None);
        assert_eq!(
            p.next_delay(1, Duration::from_secs(119), Some(Duration::from_secs(2))),
            None
        );
    }
}
