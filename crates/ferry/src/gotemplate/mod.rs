//! A subset of Go's `text/template`, enough for `inspect --format` as skopeo users write
//! it: `{{.Field.Sub}}`, variables (`$x := …`, `$`), pipelines (`a | b`), `if`/`else
//! if`/`else`, `range` (with `$i, $v :=`, `else`, `break`, `continue`), `with`, comments,
//! trim markers (`{{-`, `-}}`), Go's builtins (`and or not len index slice eq ne lt le gt ge
//! print printf println`) and containers/common's report functions (`json join lower upper
//! pad split title truncate`).
//!
//! Data is a small dynamic [`Value`] built from JSON; Go structs are [`Value::Struct`]
//! (unknown fields are errors, as in Go), Go maps are [`Value::Map`] (missing keys print
//! `<no value>`). Values print with Go's `%v` rules (`map[k:v]`, `[a b]`, `{a b}`, time as
//! `2024-01-01 00:00:00 +0000 UTC`).
//!
//! [`render_report`] adds what skopeo's report layer does around the template: `\t`/`\n`
//! escapes, a trailing newline, a leading `table ` is dropped, and tab-separated columns
//! are aligned like Go's `tabwriter` (minwidth 12, padding 2).

mod exec;
mod funcs;
mod lex;
mod parse;
mod tabwriter;

use std::collections::BTreeMap;
use std::fmt;

use ferry_manifest::gojson::GoTime;

/// A template error, worded like Go's (`template: NAME:LINE: …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

/// Template data.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A missing map key: prints `<no value>`.
    Missing,
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Time(GoTime),
    List(Vec<Value>),
    /// A Go map: keys print sorted; a missing key is [`Value::Missing`].
    Map(BTreeMap<String, Value>),
    /// A Go struct: fields in declaration order; an unknown field is an error.
    Struct(Struct),
}

/// A Go struct value.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// Go type name used in error messages (`inspect.Output`).
    pub type_name: String,
    pub fields: Vec<(String, Value)>,
}

impl Struct {
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl Value {
    /// Converts JSON: objects become maps, numbers ints when integral.
    #[cfg(test)]
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts a JSON object into a struct with exactly `fields` (in that order); a
    /// field absent from the object gets `default` (Go's zero value as the caller sees
    /// it), keys not listed are dropped.
    #[cfg(test)]
    pub fn struct_from_json(
        type_name: &str,
        obj: &serde_json::Value,
        fields: &[(&str, Value)],
    ) -> Value {
        let fields = fields
            .iter()
            .map(|(name, default)| {
                let v = obj
                    .get(name)
                    .map_or_else(|| default.clone(), Value::from_json);
                (name.to_string(), v)
            })
            .collect();
        Value::Struct(Struct {
            type_name: type_name.to_string(),
            fields,
        })
    }

    /// Go's truth: false, 0, nil, empty string/list/map are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Struct(_) | Value::Time(_) => true,
        }
    }

    /// The Go type name, for error messages.
    pub fn type_name(&self) -> String {
        match self {
            Value::Missing | Value::Nil => "interface {}".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) => "string".into(),
            Value::Time(_) => "time.Time".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Struct(s) => s.type_name.clone(),
        }
    }

    /// JSON for the `json` function (Go's encoder without HTML escaping).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Missing | Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Time(t) => J::String(t.to_rfc3339_nano()),
            Value::List(l) => J::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Struct(s) => J::Object(
                s.fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Go's `%v` formatting.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Missing => f.write_str("<no value>"),
            Value::Nil => f.write_str("<nil>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&funcs::format_float_g(*x)),
            Value::Str(s) => f.write_str(s),
            Value::Time(t) => f.write_str(&t.go_string()),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{}", v.nested())?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("map[")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}:{}", v.nested())?;
                }
                f.write_str("]")
            }
            Value::Struct(s) => {
                f.write_str("{")?;
                for (i, (_, v)) in s.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{}", v.nested())?;
                }
                f.write_str("}")
            }
        }
    }
}

impl Value {
    /// Inside a container, Go prints a nil interface as `<nil>`.
    fn nested(&self) -> &Value {
        match self {
            Value::Missing => &Value::Nil,
            v => v,
        }
    }
}

/// Parses and executes `template` over `data`. `name` appears in error messages.
pub fn render(name: &str, template: &str, data: &Value) -> Result<String, TemplateError> {
    let tree = parse::parse(name, template)?;
    exec::execute(name, &tree, data)
}

/// skopeo/containers-common report output: escapes, `table ` prefix, trailing newline,
/// then column alignment of tab-separated cells.
pub fn render_report(name: &str, format: &str, data: &Value) -> Result<String, TemplateError> {
    let mut f = format.replace("\\t", "\t").replace("\\n", "\n");
    if let Some(rest) = f.strip_prefix("table ") {
        f = rest.to_string();
    }
    if !f.ends_with('\n') {
        f.push('\n');
    }
    let out = render(name, &f, data)?;
    Ok(tabwriter::align(&out, 12, 2))
}

/// Whether `format` asks for skopeo's plain JSON output (`report.IsJSON`).
pub fn is_json_format(format: &str) -> bool {
    let f = format.trim();
    f == "json" || f.replace(' ', "") == "{{json.}}"
}

#[cfg(test)]
mod tests;
