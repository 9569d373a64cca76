//! Splits a template into text and actions (`{{…}}`, with trim markers and comments)
//! and tokenizes each action.

/// A token inside an action.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// `.Name` (the name without the dot).
    Field(String),
    /// `.` alone.
    Dot,
    /// `$name`, or `$` (empty name).
    Var(String),
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    LParen,
    RParen,
    Pipe,
    Comma,
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// Whitespace between tokens (matters for `.a.b` vs `.a .b`).
    Space,
}

/// A token and its byte range in the template.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub end: usize,
}

/// A piece of the template.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Text(String),
    Action {
        tokens: Vec<Token>,
        /// Byte offset of the action's first token.
        pos: usize,
    },
}

/// Line (1-based) and column (0-based, bytes) of `pos` in `src`.
pub fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let before = &src[..pos.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1);
    (line, col)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Splits `src` into segments, applying trim markers and dropping comments.
pub fn segments(src: &str) -> Result<Vec<Segment>, (usize, String)> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    while pos <= src.len() {
        let rest = &src[pos..];
        let Some(open) = rest.find("{{") else {
            let mut text = rest.to_string();
            if trim_next {
                text = text.trim_start_matches(is_space).to_string();
            }
            if !text.is_empty() {
                out.push(Segment::Text(text));
            }
            break;
        };
        let mut text = rest[..open].to_string();
        if trim_next {
            text = text.trim_start_matches(is_space).to_string();
        }
        let mut inner = pos + open + 2;
        let after = &src[inner..];
        if after.starts_with('-') && after[1..].starts_with(is_space) {
            text = text.trim_end_matches(is_space).to_string();
            inner += 1;
        }
        if !text.is_empty() {
            out.push(Segment::Text(text));
        }
        // Comments: `{{/* … */}}`, optionally with trim markers.
        let lead = src[inner..].len() - src[inner..].trim_start_matches(is_space).len();
        if src[inner + lead..].starts_with("/*") {
            let body = inner + lead + 2;
            let Some(end) = src[body..].find("*/") else {
                return Err((inner, "unclosed comment".into()));
            };
            let mut p = body + end + 2;
            let tail = &src[p..];
            let ws = tail.len() - tail.trim_start_matches(is_space).len();
            if tail[ws..].starts_with("-}}") && ws > 0 {
                trim_next = true;
                p += ws + 3;
            } else if tail.starts_with("}}") {
                trim_next = false;
                p += 2;
            } else {
                return Err((p, "comment ends before closing delimiter".into()));
            }
            pos = p;
            continue;
        }
        let (tokens, end, trim) = lex_action(src, inner)?;
        out.push(Segment::Action { tokens, pos: inner });
        trim_next = trim;
        pos = end;
    }
    Ok(out)
}

/// Tokenizes an action starting at `start`; returns the tokens, the offset after `}}`
/// and whether the action ended with a right trim marker.
fn lex_action(src: &str, start: usize) -> Result<(Vec<Token>, usize, bool), (usize, String)> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = start;
    let push = |toks: &mut Vec<Token>, tok: Tok, pos: usize| {
        toks.push(Token { tok, pos, end: pos });
    };
    loop {
        if i >= b.len() {
            return Err((start, "unclosed action".into()));
        }
        let c = b[i];
        if c.is_ascii_whitespace() {
            let ws_start = i;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if src[i..].starts_with("-}}") {
                return Ok((toks, i + 3, true));
            }
            push(&mut toks, Tok::Space, ws_start);
            if let Some(t) = toks.last_mut() {
                t.end = i;
            }
            continue;
        }
        if src[i..].starts_with("}}") {
            return Ok((toks, i + 2, false));
        }
        let at = i;
        match c {
            b'(' => {
                push(&mut toks, Tok::LParen, at);
                i += 1;
            }
            b')' => {
                push(&mut toks, Tok::RParen, at);
                i += 1;
            }
            b'|' => {
                push(&mut toks, Tok::Pipe, at);
                i += 1;
            }
            b',' => {
                push(&mut toks, Tok::Comma, at);
                i += 1;
            }
            b':' if b.get(i + 1) == Some(&b'=') => {
                push(&mut toks, Tok::Declare, at);
                i += 2;
            }
            b'=' => {
                push(&mut toks, Tok::Assign, at);
                i += 1;
            }
            b'"' => {
                let (s, end) = lex_quoted(src, i)?;
                push(&mut toks, Tok::Str(s), at);
                i = end;
            }
            b'`' => {
                let Some(end) = src[i + 1..].find('`') else {
                    return Err((at, "unterminated raw quoted string".into()));
                };
                push(&mut toks, Tok::Str(src[i + 1..i + 1 + end].to_string()), at);
                i += end + 2;
            }
            b'.' if b
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let end = ident_end(b, i + 1);
                push(&mut toks, Tok::Field(src[i + 1..end].to_string()), at);
                i = end;
            }
            b'.' if !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                push(&mut toks, Tok::Dot, at);
                i += 1;
            }
            b'$' => {
                let end = ident_end(b, i + 1);
                push(&mut toks, Tok::Var(src[i + 1..end].to_string()), at);
                i = end;
            }
            c if c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.' => {
                let end = number_end(b, i);
                let text = &src[i..end];
                let tok = parse_number(text).ok_or((at, format!("bad number syntax: {text:?}")))?;
                push(&mut toks, tok, at);
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = ident_end(b, i);
                let word = &src[i..end];
                let tok = match word {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "nil" => Tok::Nil,
                    _ => Tok::Ident(word.to_string()),
                };
                push(&mut toks, tok, at);
                i = end;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err((at, format!("unexpected {ch:?} in command")));
            }
        }
        if let Some(t) = toks.last_mut() {
            t.end = i;
        }
    }
}

fn ident_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    i
}

fn number_end(b: &[u8], mut i: usize) -> usize {
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    while i < b.len() {
        let c = b[i];
        let exp_sign = matches!(c, b'-' | b'+') && matches!(b[i - 1], b'e' | b'E');
        if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exp_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn parse_number(text: &str) -> Option<Tok> {
    let clean = text.replace('_', "");
    let (neg, digits) = match clean.strip_prefix('-') {
        Some(d) => (true, d.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let lower = digits.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(bin) = lower.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    };
    if let Some(v) = int {
        return Some(Tok::Int(if neg { -v } else { v }));
    }
    let f: f64 = lower.parse().ok()?;
    Some(Tok::Float(if neg { -f } else { f }))
}

/// A Go interpreted string literal starting at `start` (the opening quote).
fn lex_quoted(src: &str, start: usize) -> Result<(String, usize), (usize, String)> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + off + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| (start, "invalid escape in quoted string".to_string()))?;
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    _ => return Err((start, format!("unknown escape sequence: \\{e}"))),
                }
            }
            c => out.push(c),
        }
    }
    Err((start, "unterminated quoted string".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        match segments(src).unwrap().remove(0) {
            Segment::Action { tokens, .. } => tokens.into_iter().map(|t| t.tok).collect(),
            Segment::Text(t) => panic!("text {t}"),
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            toks("{{.A.b | printf \"%d\" -1}}"),
            vec![
                Tok::Field("A".into()),
                Tok::Field("b".into()),
                Tok::Space,
                Tok::Pipe,
                Tok::Space,
                Tok::Ident("printf".into()),
                Tok::Space,
                Tok::Str("%d".into()),
                Tok::Space,
                Tok::Int(-1)
            ]
        );
        assert_eq!(
            toks("{{$x := .}}"),
            vec![
                Tok::Var("x".into()),
                Tok::Space,
                Tok::Declare,
                Tok::Space,
                Tok::Dot
            ]
        );
    }

    #[test]
    fn trims_and_comments() {
        let segs = segments("a  {{- .X -}}  b{{/* c */}}c {{- /* d */ -}} e").unwrap();
        let texts: Vec<String> = segs
            .iter()
            .filter_map(|s| match s {
                Segment::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, vec!["a", "b", "c", "e"]);
    }

    #[test]
    fn positions() {
        assert_eq!(line_col("ab\ncd", 4), (2, 1));
        assert!(segments("{{.A").is_err());
        assert!(segments("{{\"abc}}").is_err());
    }
}
