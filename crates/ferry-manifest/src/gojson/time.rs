//! `time.Time` as Go's `encoding/json` reads and writes it (RFC 3339; written with
//! nanoseconds and trailing zeros trimmed, a zero offset as `Z`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A wall-clock time with its UTC offset, kept exactly as parsed so that it prints back
/// the way Go prints it. The default value is Go's zero time (`0001-01-01T00:00:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GoTime {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanos: u32,
    /// Offset east of UTC, in seconds.
    offset: i32,
}

impl Default for GoTime {
    fn default() -> Self {
        GoTime {
            year: 1,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
            offset: 0,
        }
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses exactly `n` ASCII digits at `s[at..]`.
fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at + n)?;
    part.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

impl GoTime {
    /// Parses `2006-01-02T15:04:05[.999999999](Z|±07:00)` like Go's `time.Parse(RFC3339)`
    /// (a `,` is accepted as the fraction separator, extra fraction digits are truncated).
    pub fn parse(s: &str) -> Result<GoTime, String> {
        let err = |why: &str| format!("parsing time {s:?} as RFC 3339: {why}");
        let b = s.as_bytes();
        let num = |at, n| digits(b, at, n).ok_or_else(|| err("bad number"));
        let sep = |at: usize, c: u8| {
            if b.get(at) == Some(&c) {
                Ok(())
            } else {
                Err(err(&format!("expected {:?}", c as char)))
            }
        };
        let year = num(0, 4)? as i32;
        sep(4, b'-')?;
        let month = num(5, 2)? as u8;
        sep(7, b'-')?;
        let day = num(8, 2)? as u8;
        sep(10, b'T')?;
        let hour = num(11, 2)? as u8;
        sep(13, b':')?;
        let minute = num(14, 2)? as u8;
        sep(16, b':')?;
        let second = num(17, 2)? as u8;
        let mut at = 19;
        let mut nanos = 0u32;
        if matches!(b.get(at), Some(b'.' | b',')) && b.get(at + 1).is_some_and(u8::is_ascii_digit) {
            at += 1;
            let mut n = 0;
            while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
                if n < 9 {
                    nanos = nanos * 10 + u32::from(d - b'0');
                    n += 1;
                }
                at += 1;
            }
            nanos *= 10u32.pow(9 - n);
        }
        let offset = match b.get(at) {
            Some(b'Z') if at + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if at + 6 == b.len() => {
                let oh = num(at + 1, 2)? as i32;
                sep(at + 3, b':')?;
                let om = num(at + 4, 2)? as i32;
                if oh >= 24 || om >= 60 {
                    return Err(err("time zone offset out of range"));
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'-' { -o } else { o }
            }
            _ => return Err(err("bad time zone or trailing text")),
        };
        if !(1..=12).contains(&month) {
            return Err(err("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(err("day out of range"));
        }
        if hour >= 24 || minute >= 60 || second >= 60 {
            return Err(err("time out of range"));
        }
        Ok(GoTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset,
        })
    }

    /// Go's zero `time.Time`.
    pub fn is_zero(&self) -> bool {
        *self == GoTime::default()
    }

    fn fraction(&self) -> String {
        if self.nanos == 0 {
            return String::new();
        }
        let f = format!(".{:09}", self.nanos);
        f.trim_end_matches('0').to_string()
    }

    fn offset_parts(&self) -> (char, i32, i32) {
        let sign = if self.offset < 0 { '-' } else { '+' };
        let o = self.offset.abs();
        (sign, o / 3600, (o % 3600) / 60)
    }

    /// `t.Format(time.RFC3339Nano)`, which is what `MarshalJSON` writes.
    pub fn to_rfc3339_nano(&self) -> String {
        let zone = if self.offset == 0 {
            "Z".to_string()
        } else {
            let (sign, h, m) = self.offset_parts();
            format!("{sign}{h:02}:{m:02}")
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.fraction(),
            zone
        )
    }

    /// `t.String()`, which is what Go templates print (`2006-01-02 15:04:05.999999999
    /// -0700 MST`), assuming the host's local zone is UTC: a zero offset is named `UTC`,
    /// other offsets are unnamed fixed zones and print the offset twice.
    pub fn go_string(&self) -> String {
        let (sign, h, m) = self.offset_parts();
        let name = if self.offset == 0 {
            "UTC".to_string()
        } else {
            format!("{sign}{h:02}{m:02}")
        };
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{} {sign}{h:02}{m:02} {name}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.fraction(),
        )
    }
}

impl fmt::Display for GoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_nano())
    }
}

impl Serialize for GoTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339_nano())
    }
}

impl<'de> Deserialize<'de> for GoTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GoTime::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> String {
        GoTime::parse(s)
            .map(|t| t.to_rfc3339_nano())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn round_trips_like_go() {
        assert_eq!(
            rt("2023-04-05T06:07:08.123456789Z"),
            "2023-04-05T06:07:08.123456789Z"
        );
        assert_eq!(rt("2021-01-02T03:04:05.000Z"), "2021-01-02T03:04:05Z");
        assert_eq!(rt("2021-01-02T03:04:05.1Z"), "2021-01-02T03:04:05.1Z");
        assert_eq!(
            rt("2021-01-02T03:04:05.1200+00:00"),
            "2021-01-02T03:04:05.12Z"
        );
        assert_eq!(rt("2021-01-02T03:04:05-00:00"), "2021-01-02T03:04:05Z");
        assert_eq!(rt("2023-04-05T06:07:08+02:00"), "2023-04-05T06:07:08+02:00");
        assert_eq!(
            rt("2023-04-05T06:07:08,5-05:30"),
            "2023-04-05T06:07:08.5-05:30"
        );
        assert_eq!(
            rt("2023-04-05T06:07:08.1234567891Z"),
            "2023-04-05T06:07:08.123456789Z"
        );
        assert_eq!(GoTime::default().to_rfc3339_nano(), "0001-01-01T00:00:00Z");
        assert!(GoTime::default().is_zero());
    }

    #[test]
    fn rejects_invalid_times() {
        for bad in [
            "",
            "2023-04-05",
            "2023-04-05 06:07:08Z",
            "2023-13-05T06:07:08Z",
            "2023-02-29T06:07:08Z",
            "2023-04-05T24:07:08Z",
            "2023-04-05T06:07:08",
            "2023-04-05T06:07:08Zx",
            "2023-04-05T06:07:08+0200",
        ] {
            assert!(GoTime::parse(bad).is_err(), "{bad}");
        }
        assert!(GoTime::parse("2024-02-29T06:07:08Z").is_ok());
    }

    #[test]
    fn go_string_matches_templates() -> Result<(), String> {
        assert_eq!(
            GoTime::parse("2023-04-05T06:07:08.123456789Z")?.go_string(),
            "2023-04-05 06:07:08.123456789 +0000 UTC"
        );
        assert_eq!(
            GoTime::parse("2023-04-05T06:07:08+02:00")?.go_string(),
            "2023-04-05 06:07:08 +0200 +0200"
        );
        Ok(())
    }
}
