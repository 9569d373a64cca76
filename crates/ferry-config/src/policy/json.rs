//! A JSON tree that keeps duplicate keys and key order, plus the pieces of Go's
//! `encoding/json` / `encoding/base64` behaviour that policy.json error texts expose.
//!
//! serde_json's own `Value` silently keeps the last of duplicated keys; containers/image
//! rejects them, so policy.json is first read into [`JVal`] and then walked by hand.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value; objects keep every entry in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JVal {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<JVal>),
    Obj(Vec<(String, JVal)>),
}

impl JVal {
    /// Parses a whole document; syntax errors use Go's wording where it is known.
    pub(crate) fn parse(data: &[u8]) -> Result<JVal, String> {
        serde_json::from_slice(data).map_err(|e| {
            if e.is_eof() {
                "unexpected end of JSON input".to_string()
            } else {
                e.to_string()
            }
        })
    }

    /// The kind name Go's `UnmarshalTypeError` uses.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            JVal::Null => "null",
            JVal::Bool(_) => "bool",
            JVal::Num(_) => "number",
            JVal::Str(_) => "string",
            JVal::Arr(_) => "array",
            JVal::Obj(_) => "object",
        }
    }

    /// How Go's `fmt.Sprintf("%s", token)` prints the first token of this value, as used
    /// in `JSON object expected, got "…"`.
    pub(crate) fn go_token(&self) -> String {
        match self {
            JVal::Null => "%!s(<nil>)".to_string(),
            JVal::Bool(b) => format!("%!s(bool={b})"),
            JVal::Num(n) => format!("%!s(float64={n})"),
            JVal::Str(s) => s.clone(),
            JVal::Arr(_) => "[".to_string(),
            JVal::Obj(_) => "{".to_string(),
        }
    }
}

/// `json: cannot unmarshal <kind> into Go value of type <go_type>`.
pub(crate) fn type_error(v: &JVal, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go value of type {go_type}",
        v.kind()
    )
}

/// A Go `string` field: `null` leaves it empty, other non-strings are errors.
pub(crate) fn go_string(v: &JVal) -> Result<String, String> {
    match v {
        JVal::Null => Ok(String::new()),
        JVal::Str(s) => Ok(s.clone()),
        other => Err(type_error(other, "string")),
    }
}

/// A Go `[]string` field; `null` is `None` (a nil slice).
pub(crate) fn go_string_list(v: &JVal) -> Result<Option<Vec<String>>, String> {
    match v {
        JVal::Null => Ok(None),
        JVal::Arr(items) => items
            .iter()
            .map(go_string)
            .collect::<Result<_, _>>()
            .map(Some),
        other => Err(type_error(other, "[]string")),
    }
}

/// A Go `[]byte` field (base64 in JSON); `null` is `None`.
pub(crate) fn go_bytes(v: &JVal) -> Result<Option<Vec<u8>>, String> {
    match v {
        JVal::Null => Ok(None),
        JVal::Str(s) => base64_std_decode(s.as_bytes())
            .map(Some)
            .map_err(|at| format!("illegal base64 data at input byte {at}")),
        other => Err(type_error(other, "[]uint8")),
    }
}

/// A Go `[][]byte` field; `null` is `None`.
pub(crate) fn go_bytes_list(v: &JVal) -> Result<Option<Vec<Vec<u8>>>, String> {
    match v {
        JVal::Null => Ok(None),
        JVal::Arr(items) => items
            .iter()
            .map(|i| go_bytes(i).map(Option::unwrap_or_default))
            .collect::<Result<_, _>>()
            .map(Some),
        other => Err(type_error(other, "[][]uint8")),
    }
}

/// Go's `base64.StdEncoding.DecodeString` (padding required, `\r`/`\n` skipped); the
/// error is the offset Go reports in `CorruptInputError`.
pub(crate) fn base64_std_decode(s: &[u8]) -> Result<Vec<u8>, usize> {
    fn value(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let newline = |c: u8| c == b'\n' || c == b'\r';
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut si = 0;
    loop {
        let mut buf = [0u8; 4];
        let mut j = 0;
        let mut len = 4;
        while j < 4 {
            if si == s.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = s[si];
            si += 1;
            if newline(c) {
                continue;
            }
            if let Some(v) = value(c) {
                buf[j] = v;
                j += 1;
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                while si < s.len() && newline(s[si]) {
                    si += 1;
                }
                if si == s.len() {
                    return Err(s.len());
                }
                if s[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
            }
            while si < s.len() && newline(s[si]) {
                si += 1;
            }
            if si < s.len() {
                return Err(si);
            }
            len = j;
            break;
        }
        let v = u32::from(buf[0]) << 18
            | u32::from(buf[1]) << 12
            | u32::from(buf[2]) << 6
            | u32::from(buf[3]);
        let bytes = v.to_be_bytes();
        out.extend_from_slice(&bytes[1..len]);
        if len < 4 {
            return Ok(out);
        }
    }
}

impl<'de> Deserialize<'de> for JVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JVal, D::Error> {
        d.deserialize_any(JValVisitor)
    }
}

struct JValVisitor;

impl<'de> Visitor<'de> for JValVisitor {
    type Value = JVal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<JVal, E> {
        Ok(JVal::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<JVal, E> {
        Ok(JVal::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JVal, E> {
        Ok(JVal::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JVal, E> {
        Ok(JVal::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JVal, E> {
        Ok(JVal::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JVal, E> {
        Ok(JVal::Num(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<JVal, E> {
        Ok(JVal::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<JVal, E> {
        Ok(JVal::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JVal, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<JVal>()? {
            items.push(v);
        }
        Ok(JVal::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JVal, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value::<JVal>()?;
            entries.push((k, v));
        }
        Ok(JVal::Obj(entries))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicates_in_order() {
        let v = JVal::parse(br#"{"a":1,"b":[true,null],"a":"x"}"#).unwrap();
        let JVal::Obj(entries) = v else {
            unreachable!()
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "a"]);
        assert_eq!(entries[2].1, JVal::Str("x".into()));
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            JVal::parse(b"").unwrap_err(),
            "unexpected end of JSON input"
        );
        assert_eq!(
            JVal::parse(b"{\"a\":1").unwrap_err(),
            "unexpected end of JSON input"
        );
        assert!(JVal::parse(b"{} x").is_err());
    }

    #[test]
    fn base64_like_go() {
        assert_eq!(base64_std_decode(b"YQ==").unwrap(), b"a");
        assert_eq!(base64_std_decode(b"YWI=").unwrap(), b"ab");
        assert_eq!(base64_std_decode(b"YWJj").unwrap(), b"abc");
        assert_eq!(base64_std_decode(b"YW\nJj\n").unwrap(), b"abc");
        assert_eq!(base64_std_decode(b"").unwrap(), b"");
        // Offsets checked against skopeo 1.9.3 ("illegal base64 data at input byte N").
        assert_eq!(base64_std_decode(b"!!"), Err(0));
        assert_eq!(base64_std_decode(b"YQ"), Err(0));
        assert_eq!(base64_std_decode(b"YQ=x"), Err(2));
        assert_eq!(base64_std_decode(b"YQ=="), Ok(b"a".to_vec()));
        assert_eq!(base64_std_decode(b"YQ==YQ=="), Err(4));
        assert_eq!(base64_std_decode(b"Y==="), Err(1));
    }

    #[test]
    fn go_tokens_and_types() {
        assert_eq!(JVal::Arr(vec![]).go_token(), "[");
        assert_eq!(JVal::Null.go_token(), "%!s(<nil>)");
        assert_eq!(JVal::Num(1.0).go_token(), "%!s(float64=1)");
        assert_eq!(
            go_string(&JVal::Num(1.0)).unwrap_err(),
            "json: cannot unmarshal number into Go value of type string"
        );
        assert_eq!(go_string(&JVal::Null).unwrap(), "");
        assert_eq!(go_string_list(&JVal::Null).unwrap(), None);
        assert_eq!(go_bytes(&JVal::Str("".into())).unwrap(), Some(vec![]));
    }
}
