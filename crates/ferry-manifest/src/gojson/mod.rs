//! JSON the way Go's `encoding/json` writes and reads it, so that manifests and configs
//! ferry produces are byte-identical to skopeo's.
//!
//! Writing ([`to_vec`], [`to_vec_indent`]): serde structs whose field order and
//! `skip_serializing_if` rules mirror the Go structs, printed compactly (`json.Marshal`) or
//! indented (`json.MarshalIndent`), with Go's string escaping: `<`, `>`, `&` become
//! `\u003c`, `\u003e`, `\u0026`, U+2028/U+2029 are escaped, and `\b`/`\f` are written as
//! `\u0008`/`\u000c` (Go 1.19, which built skopeo 1.9.3). Go sorts map keys: use `BTreeMap`.
//!
//! Reading ([`from_slice`]): Go's `json.Unmarshal` into a struct matches object keys to
//! field names case-insensitively (an exact match wins; the last matching key wins), treats
//! `null` as "leave the zero value" and ignores unknown keys. [`de`] reproduces that on
//! top of `serde_json::Value`, so every serde struct read through it behaves like its Go
//! counterpart. Type mismatches are errors, as in Go.
//!
//! [`compact`] is Go's compaction of an embedded `json.RawMessage` during `Marshal`.

pub mod de;
mod time;

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, PrettyFormatter};

pub use de::{from_slice, from_value};
pub use time::GoTime;

/// `json.Marshal`: compact output with Go's escaping.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter(CompactFormatter));
    value.serialize(&mut ser)?;
    Ok(out)
}

/// `json.MarshalIndent(v, "", indent)` (skopeo uses 4 spaces for `inspect`, schema1
/// manifests use 3).
pub fn to_vec_indent<T: Serialize + ?Sized>(
    value: &T,
    indent: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        GoFormatter(PrettyFormatter::with_indent(indent.as_bytes())),
    );
    value.serialize(&mut ser)?;
    Ok(out)
}

/// Go's `compact(dst, src, escapeHTML=true)`, applied by `Marshal` to `json.RawMessage`
/// values: drops insignificant whitespace and escapes `<`, `>`, `&`, U+2028 and U+2029.
/// `raw` must be valid JSON (as produced by a successful parse).
pub fn compact(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in raw.chars() {
        if in_string {
            match c {
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                _ => out.push(c),
            }
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

/// Wraps a serde_json formatter and replaces its string escaping with Go's.
struct GoFormatter<F>(F);

impl<F: Formatter> Formatter for GoFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        match char_escape {
            CharEscape::Backspace => writer.write_all(b"\\u0008"),
            CharEscape::FormFeed => writer.write_all(b"\\u000c"),
            other => self.0.write_char_escape(writer, other),
        }
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Serialize)]
    struct S {
        b: &'static str,
        a: BTreeMap<&'static str, Vec<u8>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        empty: Vec<u8>,
        e: Vec<u8>,
    }

    fn sample() -> S {
        S {
            b: "<a href=\"x\">&\u{2028}\u{2029}\u{8}\u{c}\n\t\u{1}é</a>",
            a: BTreeMap::from([("z", vec![1]), ("m", vec![2, 3])]),
            empty: vec![],
            e: vec![],
        }
    }

    #[test]
    fn marshal_escapes_like_go() -> Result<(), serde_json::Error> {
        let out = String::from_utf8_lossy(&to_vec(&sample())?).into_owned();
        assert_eq!(
            out,
            r#"{"b":"\u003ca href=\"x\"\u003e\u0026\u2028\u2029\u0008\u000c\n\t\u0001é\u003c/a\u003e","a":{"m":[2,3],"z":[1]},"e":[]}"#
        );
        Ok(())
    }

    #[test]
    fn marshal_indent_like_go() -> Result<(), serde_json::Error> {
        let out = String::from_utf8_lossy(&to_vec_indent(&sample(), "    ")?).into_owned();
        let expected = "{\n    \"b\": \"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u2028\\u2029\\u0008\\u000c\\n\\t\\u0001é\\u003c/a\\u003e\",\n    \"a\": {\n        \"m\": [\n            2,\n            3\n        ],\n        \"z\": [\n            1\n        ]\n    },\n    \"e\": []\n}";
        assert_eq!(out, expected);
        let three = String::from_utf8_lossy(&to_vec_indent(&[1], "   ")?).into_owned();
        assert_eq!(three, "[\n   1\n]");
        Ok(())
    }

    #[test]
    fn compact_like_go() {
        assert_eq!(
            compact("{ \"a\" : [1, 2.50, 1e3],\n\t\"s\": \"x y<>&\\\" \u{2028}\" }"),
            r#"{"a":[1,2.50,1e3],"s":"x y\u003c\u003e\u0026\" \u2028"}"#
        );
        assert_eq!(compact(r#""a\\" "#), r#""a\\""#);
    }
}
