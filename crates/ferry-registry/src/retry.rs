//! Retry timing: exponential backoff with jitter, `Retry-After` parsing (delta seconds or
//! IMF-fixdate), and which HTTP statuses are worth another attempt.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::RetryPolicy;

/// Statuses retried by idempotent requests: request timeout, rate limiting, and the
/// gateway/availability family. A plain 500 is not retried: Distribution uses it for
/// deterministic failures (c/common's retry treats it the same way).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 502 | 503 | 504)
}

/// The delay before retry number `retry` (1 = first retry): `initial · 2^(retry-1)`,
/// capped at `max_delay`, with ±25 % jitter.
pub fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let exp = retry.saturating_sub(1).min(20);
    let base = policy
        .initial_delay
        .saturating_mul(1u32 << exp)
        .min(policy.max_delay);
    jitter(base)
}

fn jitter(d: Duration) -> Duration {
    // RandomState is seeded randomly per instance: good enough for spreading retries.
    let r = RandomState::new().hash_one(SystemTime::now());
    let frac = (r % 1000) as f64 / 1000.0; // [0, 1)
    d.mul_f64(0.75 + frac * 0.5)
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP date (a date in the past gives
/// zero). `None` if it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(v)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only HTTP date format
/// servers may still send (RFC 9110 §5.6.7).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let m: u64 = hms.next()?.parse().ok()?;
    let sec: u64 = hms.next()?.parse().ok()?;
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86400 + h * 3600 + m * 60 + sec;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Parses an RFC 3339 UTC timestamp as token servers send in `issued_at`
/// (`2024-01-02T03:04:05Z`, fractional seconds and `+00:00` accepted).
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let (date, time) = s.split_once(['T', 't'])?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else {
        let pos = time.rfind(['+', '-'])?;
        let (c, off) = time.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        let mins = oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?;
        (c, sign * mins * 60)
    };
    let clock = clock.split('.').next()?;
    let mut t = clock.split(':');
    let h: i64 = t.next()?.parse().ok()?;
    let m: i64 = t.next()?.parse().ok()?;
    let sec: i64 = t.next()?.parse().ok()?;
    let total = days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + sec - offset;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(total).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784111777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 PST", now),
            None
        );
    }

    #[test]
    fn http_date_matches_known_epochs() {
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(UNIX_EPOCH)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 12:00:01 GMT"),
            Some(UNIX_EPOCH + Duration::from_secs(1835438401))
        );
        assert_eq!(parse_http_date("Tue, 29 Foo 2028 12:00:01 GMT"), None);
    }

    #[test]
    fn rfc3339() {
        assert_eq!(
            parse_rfc3339("1994-11-06T08:49:37Z"),
            Some(UNIX_EPOCH + Duration::from_secs(784111777))
        );
        assert_eq!(
            parse_rfc3339("1994-11-06T09:49:37.123456+01:00"),
            Some(UNIX_EPOCH + Duration::from_secs(784111777))
        );
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), None); // Go's zero time
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(1),
        };
        for (retry, base) in [
            (1, 100u64),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (30, 1000),
        ] {
            let d = backoff(&p, retry).as_millis() as u64;
            assert!(
                d >= base * 3 / 4 && d <= base * 5 / 4,
                "retry {retry}: {d} ms vs {base}"
            );
        }
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 400, 401, 403, 404, 500, 501] {
            assert!(!is_retryable_status(s));
        }
    }
}
