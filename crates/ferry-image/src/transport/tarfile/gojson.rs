//! Just enough of Go's `encoding/json` output rules to write archive metadata byte-for-byte
//! like skopeo: string escaping (HTML-safe), `json.Compact` of embedded raw values, and
//! reading the raw (unparsed) top-level members of an object.

use std::fmt::Write as _;

/// A JSON string literal escaped as Go's `json.Marshal` does (`<`, `>`, `&`, U+2028 and
/// U+2029 escaped; control characters as `\n`, `\r`, `\t` or `\u00XX`).
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `json.Compact` with HTML escaping, as applied by `json.Marshal` to a
/// `json.RawMessage`: whitespace outside strings removed, `<>&` and U+2028/9 escaped.
pub(crate) fn compact(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if in_string {
            if escaped {
                escaped = false;
                out.push(c);
            } else if c == b'\\' {
                escaped = true;
                out.push(c);
            } else if c == b'"' {
                in_string = false;
                out.push(c);
            } else if c == b'<' || c == b'>' || c == b'&' {
                out.extend_from_slice(format!("\\u{:04x}", c).as_bytes());
            } else if c == 0xE2
                && raw.get(i + 1) == Some(&0x80)
                && matches!(raw.get(i + 2), Some(0xA8 | 0xA9))
            {
                let last = raw[i + 2];
                out.extend_from_slice(if last == 0xA8 { b"\\u2028" } else { b"\\u2029" });
                i += 2;
            } else {
                out.push(c);
            }
        } else if c == b'"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// The members of a top-level JSON object as (decoded key, raw value bytes), in document
/// order. The input must already be known to be valid JSON (e.g. parsed by serde_json).
pub(crate) fn object_members(raw: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    let mut p = skip_ws(raw, 0);
    if raw.get(p) != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    p = skip_ws(raw, p + 1);
    let mut out = Vec::new();
    if raw.get(p) == Some(&b'}') {
        return Ok(out);
    }
    loop {
        let key_end = value_end(raw, p)?;
        let key: String =
            serde_json::from_slice(&raw[p..key_end]).map_err(|e| format!("invalid key: {e}"))?;
        p = skip_ws(raw, key_end);
        if raw.get(p) != Some(&b':') {
            return Err("expected ':'".into());
        }
        p = skip_ws(raw, p + 1);
        let end = value_end(raw, p)?;
        out.push((key, &raw[p..end]));
        p = skip_ws(raw, end);
        match raw.get(p) {
            Some(b',') => p = skip_ws(raw, p + 1),
            Some(b'}') => return Ok(out),
            _ => return Err("expected ',' or '}'".into()),
        }
    }
}

fn skip_ws(raw: &[u8], mut p: usize) -> usize {
    while raw
        .get(p)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        p += 1;
    }
    p
}

/// End (exclusive) of the JSON value starting at `p`.
fn value_end(raw: &[u8], p: usize) -> Result<usize, String> {
    let truncated = || "truncated JSON".to_string();
    match raw.get(p) {
        Some(b'"') => {
            let mut i = p + 1;
            loop {
                match raw.get(i) {
                    Some(b'\\') => i += 2,
                    Some(b'"') => return Ok(i + 1),
                    Some(_) => i += 1,
                    None => return Err(truncated()),
                }
            }
        }
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = p;
            loop {
                match raw.get(i) {
                    Some(b'"') => {
                        i = value_end(raw, i)?;
                        continue;
                    }
                    Some(b'{' | b'[') => depth += 1,
                    Some(b'}' | b']') => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    Some(_) => {}
                    None => return Err(truncated()),
                }
                i += 1;
            }
        }
        Some(_) => {
            let mut i = p;
            while raw
                .get(i)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            {
                i += 1;
            }
            Ok(i)
        }
        None => Err(truncated()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_go() {
        assert_eq!(
            string("a<b>&\"\\\n\u{1}\u{2028}é"),
            r#""a\u003cb\u003e\u0026\"\\\n\u0001\u2028é""#
        );
    }

    #[test]
    fn compact_keeps_escapes_and_strips_space() {
        let raw =
            "{ \"Env\": [ \"X=<a&b>\", \"q=\\\" }\" ],\n \"n\" : 1.50e3, \"s\": \"\u{2029}\" }";
        assert_eq!(
            String::from_utf8(compact(raw.as_bytes())).unwrap(),
            r#"{"Env":["X=\u003ca\u0026b\u003e","q=\" }"],"n":1.50e3,"s":"\u2029"}"#
        );
    }

    #[test]
    fn members_in_order_with_raw_values() {
        let raw = br#" {"b": {"x": [1, "}"]}, "a\u0041": null, "c":"v" , "d": -1.5 } "#;
        let m = object_members(raw).unwrap();
        let keys: Vec<_> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "aA", "c", "d"]);
        assert_eq!(m[0].1, br#"{"x": [1, "}"]}"#);
        assert_eq!(m[1].1, b"null");
        assert_eq!(m[3].1, b"-1.5");
        assert_eq!(object_members(b"{}").unwrap().len(), 0);
        assert!(object_members(b"[1]").is_err());
    }
}
