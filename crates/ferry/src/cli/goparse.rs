//! Value parsers with Go's semantics and error texts (`strconv.ParseBool`, `ParseInt`,
//! `ParseUint`, `time.ParseDuration`), so flag errors read like pflag's.

/// `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// Splits Go's base prefix (base 0 parsing: `0x`, `0o`, `0b`, leading `0` = octal).
fn split_base(digits: &str) -> (u32, &str) {
    let lower = digits.to_ascii_lowercase();
    if lower.starts_with("0x") {
        (16, &digits[2..])
    } else if lower.starts_with("0o") {
        (8, &digits[2..])
    } else if lower.starts_with("0b") {
        (2, &digits[2..])
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    }
}

fn parse_magnitude(digits: &str, func: &str, orig: &str) -> Result<u128, String> {
    let syntax = || format!("strconv.{func}: parsing {orig:?}: invalid syntax");
    let range = || format!("strconv.{func}: parsing {orig:?}: value out of range");
    let (base, rest) = split_base(digits);
    let rest = rest.replace('_', "");
    if rest.is_empty() {
        return Err(syntax());
    }
    let mut v: u128 = 0;
    for c in rest.chars() {
        let d = c.to_digit(base).ok_or_else(syntax)?;
        v = v
            .checked_mul(u128::from(base))
            .and_then(|v| v.checked_add(u128::from(d)))
            .ok_or_else(range)?;
    }
    Ok(v)
}

/// `strconv.ParseInt(s, 0, 64)` (what pflag's int flags use).
pub fn parse_int(s: &str) -> Result<i64, String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let mag = parse_magnitude(digits, "ParseInt", s)?;
    let range = || format!("strconv.ParseInt: parsing {s:?}: value out of range");
    if neg {
        if mag > i64::MAX as u128 + 1 {
            return Err(range());
        }
        Ok((-(mag as i128)) as i64)
    } else {
        i64::try_from(mag).map_err(|_| range())
    }
}

/// `strconv.ParseUint(s, 0, 64)`.
pub fn parse_uint(s: &str) -> Result<u64, String> {
    if s.starts_with(['-', '+']) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    let mag = parse_magnitude(s, "ParseUint", s)?;
    u64::try_from(mag).map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

/// A Go `time.Duration` (signed nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GoDuration(pub i64);

impl GoDuration {
    /// The duration if it is positive (Go treats ≤ 0 as "not set" for timeouts and delays).
    pub fn positive(self) -> Option<std::time::Duration> {
        u64::try_from(self.0)
            .ok()
            .filter(|n| *n > 0)
            .map(std::time::Duration::from_nanos)
    }
}

/// `time.ParseDuration`.
pub fn parse_duration(orig: &str) -> Result<GoDuration, String> {
    let invalid = || format!("time: invalid duration {orig:?}");
    let mut s = orig;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(GoDuration(0));
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, rest) = s.split_at(int_len);
        let (frac_part, rest) = match rest.strip_prefix('.') {
            Some(r) => {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                r.split_at(n)
            }
            None => ("", rest),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let (unit, rest) = rest.split_at(unit_len);
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(format!("time: unknown unit {unit:?} in duration {orig:?}")),
        };
        let number: f64 = format!(
            "{}.{}0",
            if int_part.is_empty() { "0" } else { int_part },
            frac_part
        )
        .parse()
        .map_err(|_| invalid())?;
        total += number * scale;
        s = rest;
    }
    if total > i64::MAX as f64 {
        return Err(invalid());
    }
    let nanos = total.round() as i64;
    Ok(GoDuration(if neg { -nanos } else { nanos }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_like_strconv() {
        assert_eq!(parse_bool("T"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        assert_eq!(
            parse_bool("maybe"),
            Err("strconv.ParseBool: parsing \"maybe\": invalid syntax".to_string())
        );
        assert!(parse_bool("yes").is_err());
    }

    #[test]
    fn ints_with_go_bases() {
        assert_eq!(parse_int("42"), Ok(42));
        assert_eq!(parse_int("-0x10"), Ok(-16));
        assert_eq!(parse_int("010"), Ok(8));
        assert_eq!(parse_int("0"), Ok(0));
        assert_eq!(
            parse_int("x"),
            Err("strconv.ParseInt: parsing \"x\": invalid syntax".to_string())
        );
        assert!(
            parse_int("99999999999999999999")
                .unwrap_err()
                .contains("out of range")
        );
        assert_eq!(parse_uint("7"), Ok(7));
        assert!(parse_uint("-1").is_err());
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_duration("0"), Ok(GoDuration(0)));
        assert_eq!(parse_duration("1.5s"), Ok(GoDuration(1_500_000_000)));
        assert_eq!(parse_duration("1h2m"), Ok(GoDuration(3_720_000_000_000)));
        assert_eq!(parse_duration("300ms"), Ok(GoDuration(300_000_000)));
        assert_eq!(parse_duration("-2s"), Ok(GoDuration(-2_000_000_000)));
        assert_eq!(
            parse_duration("1"),
            Err("time: missing unit in duration \"1\"".to_string())
        );
        assert_eq!(
            parse_duration("1d"),
            Err("time: unknown unit \"d\" in duration \"1d\"".to_string())
        );
        assert_eq!(
            parse_duration("x"),
            Err("time: invalid duration \"x\"".to_string())
        );
        assert_eq!(
            parse_duration("2s").map(|d| d.positive()),
            Ok(Some(std::time::Duration::from_secs(2)))
        );
        assert_eq!(parse_duration("-2s").map(|d| d.positive()), Ok(None));
    }
}
