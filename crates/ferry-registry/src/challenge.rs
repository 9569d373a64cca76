//! `WWW-Authenticate` parsing (RFC 7235): several challenges per header, parameters with
//! tokens or quoted strings (backslash escapes), case-insensitive scheme and parameter
//! names.

/// One authentication challenge, e.g. `Bearer realm="…",service="…",scope="…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lower-cased (`basic`, `bearer`, …).
    pub scheme: String,
    /// Parameter names lower-cased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of a parameter (name compared case-insensitively).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses every challenge of every given header value, in order.
pub fn parse_headers<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    values.into_iter().flat_map(parse).collect()
}

/// Parses one `WWW-Authenticate` header value.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip(|c| c == b',' || is_ws(c));
        if p.i >= p.s.len() {
            break;
        }
        let scheme = p.token();
        if scheme.is_empty() {
            // Not a token: skip one byte of garbage and resynchronise.
            p.i += 1;
            continue;
        }
        let mut ch = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        p.skip(is_ws);
        while p.param_ahead() {
            let name = p.token().to_ascii_lowercase();
            p.skip(is_ws);
            p.i += 1; // '='
            p.skip(is_ws);
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token68()
            };
            ch.params.push((name, value));
            p.skip(is_ws);
            if p.peek() == Some(b',') {
                // Either the next parameter or the next challenge follows.
                p.skip(|c| c == b',' || is_ws(c));
            } else if p.i < p.s.len() && !p.param_ahead() {
                // Unexpected text (a token68, say): skip to the next comma.
                p.skip(|c| c != b',');
            }
        }
        if ch.params.is_empty() && p.i < p.s.len() && p.peek() != Some(b',') {
            // `Scheme token68` (not used by registries): keep it as a nameless parameter.
            let t = p.token68();
            if !t.is_empty() {
                ch.params.push((String::new(), t));
            }
        }
        out.push(ch);
    }
    out
}

fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> String {
        let start = self.i;
        self.skip(is_tchar);
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// An unquoted value: a token, possibly with `/`, `:` or trailing `=` (token68 and
    /// the sloppy values some servers send).
    fn token68(&mut self) -> String {
        let start = self.i;
        self.skip(|c| c != b',' && !is_ws(c) && c != b'"');
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn quoted(&mut self) -> String {
        self.i += 1; // opening quote
        let mut v = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        v.push(n);
                        self.i += 1;
                    }
                }
                _ => v.push(c),
            }
        }
        String::from_utf8_lossy(&v).into_owned()
    }

    /// Whether `token BWS "="` starts at the current position.
    fn param_ahead(&self) -> bool {
        let mut j = self.i;
        while self.s.get(j).is_some_and(|&c| is_tchar(c)) {
            j += 1;
        }
        if j == self.i {
            return false;
        }
        while self.s.get(j).is_some_and(|&c| is_ws(c)) {
            j += 1;
        }
        self.s.get(j) == Some(&b'=')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn bearer_with_quoted_scope() {
        let c = parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(
            params(&c[0]),
            [
                ("realm", "https://auth.example.com/token"),
                ("service", "registry.example.com"),
                ("scope", "repository:a/b:pull,push")
            ]
        );
        assert_eq!(c[0].param("SERVICE"), Some("registry.example.com"));
        assert_eq!(c[0].param("error"), None);
    }

    #[test]
    fn several_challenges_in_one_header() {
        let c = parse(
            r#"Basic realm="basic realm", BEARER realm="https://r/t", service=svc, error="insufficient_scope""#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(params(&c[0]), [("realm", "basic realm")]);
        assert_eq!(c[1].scheme, "bearer");
        assert_eq!(
            params(&c[1]),
            [
                ("realm", "https://r/t"),
                ("service", "svc"),
                ("error", "insufficient_scope")
            ]
        );
    }

    #[test]
    fn escapes_spaces_and_empty_values() {
        let c = parse(r#"Basic  realm = "a \"quoted\" \\ realm" , charset="UTF-8""#);
        assert_eq!(
            params(&c[0]),
            [("realm", r#"a "quoted" \ realm"#), ("charset", "UTF-8")]
        );
        let c = parse(r#"Bearer realm="",service=x"#);
        assert_eq!(params(&c[0]), [("realm", ""), ("service", "x")]);
    }

    #[test]
    fn scheme_without_params_and_token68() {
        let c = parse("Negotiate, Basic realm=x");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "negotiate");
        assert!(c[0].params.is_empty());
        assert_eq!(params(&c[1]), [("realm", "x")]);
        let c = parse("NTLM abcDEF+/==");
        assert_eq!(params(&c[0]), [("", "abcDEF+/==")]);
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in [
            "",
            ",,,",
            "=",
            "\"",
            "Bearer realm=\"unterminated",
            "Bearer =x",
            "@@ ;",
        ] {
            let _ = parse(s);
        }
        assert!(parse("").is_empty());
        let c = parse("Bearer realm=\"unterminated");
        assert_eq!(params(&c[0]), [("realm", "unterminated")]);
    }

    #[test]
    fn several_headers() {
        let c = parse_headers(["Basic realm=a", "Bearer realm=b"]);
        assert_eq!(
            c.iter().map(|c| c.scheme.as_str()).collect::<Vec<_>>(),
            ["basic", "bearer"]
        );
    }
}
