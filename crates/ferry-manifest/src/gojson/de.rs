//! A `serde::Deserializer` over `serde_json::Value` with Go's `json.Unmarshal` rules:
//! struct fields match object keys case-insensitively (exact match first, then Go's
//! case folding; the last matching key wins), `null` leaves a field at its zero value
//! (and decodes as `""`, `0`, `false`, empty for non-optional scalars and containers),
//! unknown keys are ignored. Everything else (type mismatches, number ranges) behaves like
//! `serde_json`'s own `Value` deserializer, which is also Go's behaviour.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde::forward_to_deserialize_any;
use serde_json::{Error, Value};

/// `json.Unmarshal(bytes, &T)`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let value: Value = serde_json::from_slice(bytes)?;
    from_value(&value)
}

/// Decodes an already parsed JSON value with Go's rules.
pub fn from_value<'de, T: de::Deserialize<'de>>(value: &'de Value) -> Result<T, Error> {
    T::deserialize(GoDe(value))
}

/// Go's field-name matching: `key` equals `field` exactly or under simple case folding.
/// Field names are ASCII; the only non-ASCII characters folding to ASCII letters are
/// KELVIN SIGN (k) and LATIN SMALL LETTER LONG S (s).
pub fn fold_eq(key: &str, field: &str) -> bool {
    let mut k = key.chars();
    let mut f = field.chars();
    loop {
        match (k.next(), f.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) => {
                let b = b.to_ascii_lowercase();
                let a = match a {
                    '\u{212A}' => 'k',
                    '\u{17F}' => 's',
                    a => a.to_ascii_lowercase(),
                };
                if a != b {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[derive(Clone, Copy)]
struct GoDe<'de>(&'de Value);

struct SeqDe<'de>(std::slice::Iter<'de, Value>);

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(v) => seed.deserialize(GoDe(v)).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapDe<'de> {
    entries: std::vec::IntoIter<(&'de str, &'de Value)>,
    value: Option<&'de Value>,
}

impl<'de> MapDe<'de> {
    fn new(entries: Vec<(&'de str, &'de Value)>) -> Self {
        MapDe {
            entries: entries.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for MapDe<'de> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(BorrowedStrDeserializer::<Error>::new(k))
                    .map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(GoDe(v)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

fn unexpected(v: &Value) -> de::Unexpected<'_> {
    match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

fn plain_entries(map: &serde_json::Map<String, Value>) -> Vec<(&str, &Value)> {
    map.iter().map(|(k, v)| (k.as_str(), v)).collect()
}

/// Maps object keys to struct field names as Go does; keys with `null` values are
/// dropped (the field keeps its zero value).
fn struct_entries<'de>(
    map: &'de serde_json::Map<String, Value>,
    fields: &'static [&'static str],
) -> Vec<(&'de str, &'de Value)> {
    let mut out: Vec<(&'de str, &'de Value)> = Vec::with_capacity(map.len());
    for (key, value) in map {
        let field = fields
            .iter()
            .find(|f| **f == key.as_str())
            .or_else(|| fields.iter().find(|f| fold_eq(key, f)));
        match field {
            Some(f) => {
                out.retain(|(name, _)| name != f);
                if !value.is_null() {
                    out.push((f, value));
                }
            }
            None => {
                if !value.is_null() {
                    out.push((key.as_str(), value));
                }
            }
        }
    }
    out
}

macro_rules! null_or_delegate {
    ($($method:ident => |$v:ident| $null:expr;)*) => {
        $(
            fn $method<V: de::Visitor<'de>>(self, $v: V) -> Result<V::Value, Error> {
                if self.0.is_null() {
                    $null
                } else {
                    self.0.$method($v)
                }
            }
        )*
    };
}

impl<'de> Deserializer<'de> for GoDe<'de> {
    type Error = Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(a) => visitor.visit_seq(SeqDe(a.iter())),
            Value::Object(m) => visitor.visit_map(MapDe::new(plain_entries(m))),
            other => other.deserialize_any(visitor),
        }
    }

    null_or_delegate! {
        deserialize_bool => |v| v.visit_bool(false);
        deserialize_i8 => |v| v.visit_i64(0);
        deserialize_i16 => |v| v.visit_i64(0);
        deserialize_i32 => |v| v.visit_i64(0);
        deserialize_i64 => |v| v.visit_i64(0);
        deserialize_u8 => |v| v.visit_u64(0);
        deserialize_u16 => |v| v.visit_u64(0);
        deserialize_u32 => |v| v.visit_u64(0);
        deserialize_u64 => |v| v.visit_u64(0);
        deserialize_f32 => |v| v.visit_f64(0.0);
        deserialize_f64 => |v| v.visit_f64(0.0);
        deserialize_char => |v| v.visit_str("");
        deserialize_str => |v| v.visit_str("");
        deserialize_string => |v| v.visit_str("");
        deserialize_bytes => |v| v.visit_bytes(&[]);
        deserialize_byte_buf => |v| v.visit_bytes(&[]);
        deserialize_unit => |v| v.visit_unit();
        deserialize_identifier => |v| v.visit_str("");
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_seq(SeqDe([].iter())),
            Value::Array(a) => visitor.visit_seq(SeqDe(a.iter())),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: de::Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_map(MapDe::new(Vec::new())),
            Value::Object(m) => visitor.visit_map(MapDe::new(plain_entries(m))),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_map(MapDe::new(Vec::new())),
            Value::Object(m) => visitor.visit_map(MapDe::new(struct_entries(m, fields))),
            // Go never decodes an array into a struct (serde would, positionally).
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! { i128 u128 }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Inner {
        #[serde(rename = "mediaType")]
        media_type: String,
        size: i64,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Outer {
        #[serde(rename = "mediaType")]
        media_type: String,
        #[serde(rename = "schemaVersion")]
        schema_version: i32,
        config: Inner,
        layers: Option<Vec<Inner>>,
        labels: BTreeMap<String, String>,
        flag: bool,
    }

    #[test]
    fn keys_fold_and_last_wins() -> Result<(), Error> {
        let o: Outer = from_slice(
            br#"{"MEDIATYPE":"a","mediaType":"b","SchemaVersion":2,"CONFIG":{"MediaType":"c","size":null},"unknown":[1]}"#,
        )?;
        // Exact key "mediaType" came last: it wins. A later folded key would win too.
        assert_eq!(o.media_type, "b");
        assert_eq!(o.schema_version, 2);
        assert_eq!(o.config.media_type, "c");
        assert_eq!(o.config.size, 0);
        let o: Outer = from_slice(br#"{"mediaType":"b","MediaType":"x"}"#)?;
        assert_eq!(o.media_type, "x");
        // Kelvin sign folds to k, long s to s.
        assert!(fold_eq("\u{212A}\u{17F}", "ks"));
        assert!(!fold_eq("ka", "k"));
        Ok(())
    }

    #[test]
    fn nulls_are_zero_values() -> Result<(), Error> {
        let o: Outer =
            from_slice(br#"{"mediaType":null,"layers":null,"labels":{"a":null},"flag":null}"#)?;
        assert_eq!(o.media_type, "");
        assert_eq!(o.layers, None);
        assert_eq!(o.labels.get("a").map(String::as_str), Some(""));
        let o: Outer = from_slice(br#"{"layers":[]}"#)?;
        assert_eq!(o.layers, Some(vec![]));
        Ok(())
    }

    #[test]
    fn type_mismatches_fail_like_go() {
        assert!(from_slice::<Outer>(br#"{"schemaVersion":"2"}"#).is_err());
        assert!(from_slice::<Outer>(br#"{"schemaVersion":2.0}"#).is_err());
        assert!(from_slice::<Outer>(br#"{"config":"x"}"#).is_err());
        assert!(from_slice::<Outer>(br#"[]"#).is_err());
        assert!(from_slice::<Outer>(b"").is_err());
        assert!(from_slice::<Outer>(br#"{"flag":true"#).is_err());
    }
}
