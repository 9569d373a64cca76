//! Template functions: Go's builtins and containers/common's report functions, plus
//! Go-style `printf` and float formatting.

use std::cmp::Ordering;

use super::Value;

const FUNCS: &[&str] = &[
    // text/template builtins
    "and", "or", "not", "len", "index", "slice", "eq", "ne", "lt", "le", "gt", "ge", "print",
    "printf", "println", // containers/common pkg/report
    "json", "join", "lower", "upper", "pad", "split", "title", "truncate",
];

pub fn exists(name: &str) -> bool {
    FUNCS.contains(&name)
}

fn want(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ))
    }
}

fn string_arg(v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
    }
}

fn int_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(format!(
            "wrong type for value; expected int; got {}",
            other.type_name()
        )),
    }
}

pub fn call(name: &str, args: Vec<Value>) -> Result<Value, String> {
    match name {
        "not" => {
            want(name, &args, 1)?;
            Ok(Value::Bool(!args[0].truthy()))
        }
        "and" | "or" => {
            let is_and = name == "and";
            let mut last = Value::Missing;
            for a in args {
                if a.truthy() != is_and {
                    return Ok(a);
                }
                last = a;
            }
            Ok(last)
        }
        "len" => {
            want(name, &args, 1)?;
            let n = match &args[0] {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                other => return Err(format!("len of type {}", other.type_name())),
            };
            Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
        }
        "index" => index(args),
        "slice" => slice(args),
        "eq" => {
            if args.len() < 2 {
                return Err("missing argument for comparison".into());
            }
            for b in &args[1..] {
                if compare(&args[0], b)? == Some(Ordering::Equal) {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            want(name, &args, 2)?;
            let ord = compare(&args[0], &args[1])?;
            if name != "ne" && !ordered(&args[0]) {
                return Err("invalid type for comparison".into());
            }
            Ok(Value::Bool(match (name, ord) {
                ("ne", o) => o != Some(Ordering::Equal),
                ("lt", Some(o)) => o == Ordering::Less,
                ("le", Some(o)) => o != Ordering::Greater,
                ("gt", Some(o)) => o == Ordering::Greater,
                ("ge", Some(o)) => o != Ordering::Less,
                _ => false,
            }))
        }
        "print" => Ok(Value::Str(sprint(&args))),
        "println" => {
            let parts: Vec<String> = args.iter().map(ToString::to_string).collect();
            Ok(Value::Str(parts.join(" ") + "\n"))
        }
        "printf" => {
            let Some((fmt, rest)) = args.split_first() else {
                return Err("wrong number of args for printf: want at least 1 got 0".into());
            };
            Ok(Value::Str(sprintf(&string_arg(fmt)?, rest)))
        }
        "json" => {
            want(name, &args, 1)?;
            serde_json::to_string(&args[0].to_json())
                .map(Value::Str)
                .map_err(|e| e.to_string())
        }
        "join" => {
            want(name, &args, 2)?;
            let sep = string_arg(&args[1])?;
            let items = match &args[0] {
                Value::List(l) => l.iter().map(ToString::to_string).collect::<Vec<_>>(),
                Value::Missing | Value::Nil => Vec::new(),
                other => {
                    return Err(format!(
                        "wrong type for value; expected []string; got {}",
                        other.type_name()
                    ));
                }
            };
            Ok(Value::Str(items.join(&sep)))
        }
        "lower" | "upper" | "title" => {
            want(name, &args, 1)?;
            let s = string_arg(&args[0])?;
            Ok(Value::Str(match name {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                _ => title(&s),
            }))
        }
        "pad" => {
            want(name, &args, 3)?;
            let s = string_arg(&args[0])?;
            if s.is_empty() {
                return Ok(Value::Str(s));
            }
            let before = usize::try_from(int_arg(&args[1])?).unwrap_or(0);
            let after = usize::try_from(int_arg(&args[2])?).unwrap_or(0);
            Ok(Value::Str(format!(
                "{}{s}{}",
                " ".repeat(before),
                " ".repeat(after)
            )))
        }
        "split" => {
            want(name, &args, 2)?;
            let s = string_arg(&args[0])?;
            let sep = string_arg(&args[1])?;
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::Str(c.to_string())).collect()
            } else {
                s.split(sep.as_str())
                    .map(|p| Value::Str(p.to_string()))
                    .collect()
            };
            Ok(Value::List(parts))
        }
        "truncate" => {
            want(name, &args, 2)?;
            let s = string_arg(&args[0])?;
            let n = usize::try_from(int_arg(&args[1])?).unwrap_or(0);
            if s.len() < n {
                return Ok(Value::Str(s));
            }
            let mut end = n;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Ok(Value::Str(s[..end].to_string()))
        }
        _ => Err(format!("function {name:?} not defined")),
    }
}

fn index(args: Vec<Value>) -> Result<Value, String> {
    let mut it = args.into_iter();
    let Some(mut item) = it.next() else {
        return Err("wrong number of args for index: want at least 1 got 0".into());
    };
    for key in it {
        item = match (&item, &key) {
            (Value::List(l), Value::Int(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| l.get(i).cloned())
                .ok_or_else(|| format!("error calling index: index out of range: {i}"))?,
            (Value::Map(m), Value::Str(k)) => match m.get(k) {
                Some(v) => v.clone(),
                None if !m.is_empty() && m.values().all(|v| matches!(v, Value::Str(_))) => {
                    Value::Str(String::new())
                }
                None => Value::Nil,
            },
            (Value::Str(s), Value::Int(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| s.as_bytes().get(i).copied())
                .map(|b| Value::Int(i64::from(b)))
                .ok_or_else(|| format!("error calling index: index out of range: {i}"))?,
            (Value::Missing | Value::Nil, _) => return Err("index of untyped nil".into()),
            (Value::List(_) | Value::Str(_), k) => {
                return Err(format!(
                    "cannot index slice/array with type {}",
                    k.type_name()
                ));
            }
            (Value::Map(_), k) => {
                return Err(format!(
                    "value has type {}; should be string",
                    k.type_name()
                ));
            }
            (other, _) => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(args: Vec<Value>) -> Result<Value, String> {
    let Some((item, idx)) = args.split_first() else {
        return Err("wrong number of args for slice: want at least 1 got 0".into());
    };
    let len = match item {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut bounds = Vec::new();
    for i in idx {
        let v = usize::try_from(int_arg(i)?).map_err(|_| "index out of range".to_string())?;
        bounds.push(v);
    }
    let (lo, hi) = match bounds.as_slice() {
        [] => (0, len),
        [lo] => (*lo, len),
        [lo, hi] | [lo, hi, _] => (*lo, *hi),
        _ => return Err("too many slice indexes".into()),
    };
    if lo > hi || hi > len {
        return Err(format!("index out of range: {hi}"));
    }
    Ok(match item {
        Value::Str(s) => Value::Str(s.get(lo..hi).unwrap_or("").to_string()),
        Value::List(l) => Value::List(l[lo..hi].to_vec()),
        _ => Value::Nil,
    })
}

fn ordered(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_) | Value::Str(_))
}

/// Go's template comparison: same basic kind (numbers compare across int/float).
fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, String> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Missing | Value::Nil, Value::Missing | Value::Nil) => Some(Ordering::Equal),
        (Value::Time(x), Value::Time(y)) => (x == y).then_some(Ordering::Equal),
        (Value::List(_) | Value::Map(_) | Value::Struct(_), _)
        | (_, Value::List(_) | Value::Map(_) | Value::Struct(_)) => {
            return Err("non-comparable type".into());
        }
        _ => return Err("incompatible types for comparison".into()),
    })
}

/// Go's `strings.Title`.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    out
}

/// `fmt.Sprint`: spaces between operands when neither side is a string.
fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        out.push_str(&a.to_string());
    }
    out
}

/// `strconv.FormatFloat(x, 'g', -1, 64)` as `%v` prints it.
pub fn format_float_g(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{x:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        return format!("{mant}e{}", go_exp(exp));
    }
    format!("{x}")
}

fn go_exp(exp: i32) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{:02}", exp.abs())
}

/// `%e` with a precision, Go style (`1.500000e+00`).
fn format_e(x: f64, prec: usize, upper: bool) -> String {
    let sci = format!("{x:.prec$e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let s = format!("{mant}e{}", go_exp(exp));
    if upper { s.to_uppercase() } else { s }
}

/// Go's `strconv.Quote` (close enough: Rust's escapes for control characters).
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Spec {
    minus: bool,
    plus: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn bad_verb(verb: char, v: &Value) -> String {
    match v {
        Value::Missing | Value::Nil => format!("%!{verb}(<nil>)"),
        other => format!("%!{verb}({}={other})", other.type_name()),
    }
}

fn format_one(verb: char, spec: &Spec, v: &Value) -> String {
    let num_sign = |neg: bool, s: String| -> String {
        if neg {
            format!("-{s}")
        } else if spec.plus {
            format!("+{s}")
        } else if spec.space {
            format!(" {s}")
        } else {
            s
        }
    };
    match (verb, v) {
        ('v', Value::Struct(s)) if spec.plus => {
            let parts: Vec<String> = s.fields.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", parts.join(" "))
        }
        ('v', v) => v.to_string(),
        ('s', Value::Str(s)) => match spec.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.clone(),
        },
        ('s', v @ (Value::List(_) | Value::Map(_) | Value::Struct(_) | Value::Time(_))) => {
            v.to_string()
        }
        ('q', Value::Str(s)) => go_quote(s),
        ('d', Value::Int(i)) => num_sign(*i < 0, i.unsigned_abs().to_string()),
        ('x', Value::Int(i)) => num_sign(*i < 0, format!("{:x}", i.unsigned_abs())),
        ('X', Value::Int(i)) => num_sign(*i < 0, format!("{:X}", i.unsigned_abs())),
        ('o', Value::Int(i)) => num_sign(*i < 0, format!("{:o}", i.unsigned_abs())),
        ('b', Value::Int(i)) => num_sign(*i < 0, format!("{:b}", i.unsigned_abs())),
        ('c', Value::Int(i)) => u32::try_from(*i)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or('\u{fffd}')
            .to_string(),
        ('x', Value::Str(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
        ('X', Value::Str(s)) => s.bytes().map(|b| format!("{b:02X}")).collect(),
        ('f' | 'F', Value::Float(x)) => {
            num_sign(*x < 0.0, format!("{:.*}", spec.prec.unwrap_or(6), x.abs()))
        }
        ('e' | 'E', Value::Float(x)) => num_sign(
            *x < 0.0,
            format_e(x.abs(), spec.prec.unwrap_or(6), verb == 'E'),
        ),
        ('g' | 'G', Value::Float(x)) => {
            let s = format_float_g(x.abs());
            num_sign(*x < 0.0, if verb == 'G' { s.to_uppercase() } else { s })
        }
        ('t', Value::Bool(b)) => b.to_string(),
        ('d' | 'q' | 'x' | 'X' | 'o' | 'b', Value::List(l)) => {
            let parts: Vec<String> = l.iter().map(|e| format_one(verb, spec, e)).collect();
            format!("[{}]", parts.join(" "))
        }
        (verb, v) => bad_verb(verb, v),
    }
}

fn pad(s: String, spec: &Spec, numeric: bool) -> String {
    let Some(w) = spec.width else { return s };
    let n = s.chars().count();
    if n >= w {
        return s;
    }
    let fill = w - n;
    if spec.minus {
        format!("{s}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match s.strip_prefix(['-', '+']) {
            Some(d) => (&s[..1], d),
            None => ("", s.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

/// `fmt.Sprintf` for the verbs templates use.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec {
            minus: false,
            plus: false,
            zero: false,
            space: false,
            width: None,
            prec: None,
        };
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        spec.width = width.parse().ok();
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            spec.prec = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let numeric = matches!(arg, Value::Int(_) | Value::Float(_));
        out.push_str(&pad(format_one(verb, &spec, arg), &spec, numeric));
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={a}", a.type_name()))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}
