//! Leaf types for loosely written inputs: CloudTrail's lists (`{"items": [...]}`, one object
//! or an array), ports written as numbers or strings, protocols as names or numbers.

use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_with::{DeserializeAs, DisplayFromStr, PickFirst, SerializeAs, serde_as};

/// CloudTrail's lists: `{"items": [...]}`, `{"items": {...}}`, a plain array, a single object,
/// or nothing (`{}`, null, absent). Written back as `{"items": [...]}`.
pub struct Items;

impl<'de, T: DeserializeOwned> DeserializeAs<'de, Vec<T>> for Items {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        if let Some(inner) = value.as_object_mut().and_then(|map| map.remove("items")) {
            value = inner;
        }
        // Told apart by the JSON type, not by trying one form then the other (serde_with's
        // `OneOrMany`): a serde struct also deserializes from an array, field by field.
        match value {
            Value::Array(_) => Vec::<T>::deserialize(value),
            Value::Object(ref map) if !map.is_empty() => T::deserialize(value).map(|one| vec![one]),
            // `{}`, null and stray scalars hold no item.
            _ => Ok(Vec::new()),
        }
        .map_err(D::Error::custom)
    }
}

impl<T: Serialize> SerializeAs<Vec<T>> for Items {
    fn serialize_as<S: Serializer>(items: &Vec<T>, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wrapped<'a, T> {
            items: &'a [T],
        }
        Wrapped { items }.serialize(serializer)
    }
}

/// A port (or ICMP type and code): a number, or a number in a string (`"443"`).
#[serde_as]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port(#[serde_as(as = "PickFirst<(_, DisplayFromStr)>")] pub i64);

/// The number of an optional port, as [`crate::rule::ports_for`] takes it.
pub fn number(port: Option<Port>) -> Option<i64> {
    port.map(|p| p.0)
}

/// A protocol as written: a name (`tcp`, `-1`) or a number (`6`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProtocolText {
    Text(String),
    Number(i64),
}

impl fmt::Display for ProtocolText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolText::Text(text) => f.write_str(text),
            ProtocolText::Number(number) => write!(f, "{number}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_accepts_every_list_form() {
        #[serde_as]
        #[derive(Deserialize)]
        struct List(#[serde_as(as = "Items")] Vec<Value>);
        let len = |value: Value| serde_json::from_value::<List>(value).unwrap().0.len();
        assert_eq!(len(json!({"items": {"cidrIp": "1.2.3.4/32"}})), 1);
        assert_eq!(len(json!({"items": [{"a": 1}, {"a": 2}]})), 2);
        assert_eq!(len(json!([{"a": 1}])), 1);
        assert_eq!(len(json!({"cidrIp": "1.2.3.4/32"})), 1);
        assert_eq!(len(json!({})), 0);
        assert_eq!(len(json!(null)), 0);
    }

    #[test]
    fn ports_and_protocols_as_numbers_or_strings() {
        let port = |value: Value| serde_json::from_value::<Port>(value).map(|p| p.0).ok();
        assert_eq!(port(json!(443)), Some(443));
        assert_eq!(port(json!("443")), Some(443));
        assert_eq!(port(json!("ssh")), None);
        let protocol = |value| {
            serde_json::from_value::<ProtocolText>(value)
                .unwrap()
                .to_string()
        };
        assert_eq!(protocol(json!(6)), "6");
        assert_eq!(protocol(json!("tcp")), "tcp");
    }
}
