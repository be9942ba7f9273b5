//! The mode of each organizational unit, root or account as JSON: the value of
//! `SGGUARD_MODE_BY_SCOPE` and the object `SGGUARD_MODE_BY_SCOPE_URI` names alike.

use std::collections::BTreeMap;

use crate::ids::ScopeId;
use crate::outcome::Mode;

/// What in a mode per scope is wrong; the caller names where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The text, entry or id at fault.
    pub value: String,
    pub expected: &'static str,
}

/// `{"ou-ab12-cdef3456": "enforce", "111122223333": "audit"}`. A scope named twice is refused
/// (a JSON object would keep only the last of the two modes).
pub fn parse_scopes(text: &str) -> Result<BTreeMap<ScopeId, Mode>, SyntaxError> {
    let invalid = |value: String, expected: &'static str| SyntaxError { value, expected };
    let Ok(Entries(entries)) = serde_json::from_str::<Entries>(text) else {
        return Err(invalid(
            text.to_owned(),
            "a JSON object of scope id to mode: {\"ou-ab12-cdef3456\": \"enforce\"}",
        ));
    };
    let mut scopes = BTreeMap::new();
    for (id, mode) in entries {
        let Ok(scope) = id.parse::<ScopeId>() else {
            return Err(invalid(
                id,
                "scope ids that are account ids (12 digits), organizational unit ids (ou-…) \
                 or root ids (r-…)",
            ));
        };
        let mode = match mode.as_str() {
            Some("enforce") => Mode::Enforce,
            Some("audit") => Mode::Audit,
            _ => {
                return Err(invalid(
                    format!("{id}: {mode}"),
                    "modes `enforce` or `audit`",
                ));
            }
        };
        if scopes.insert(scope, mode).is_some() {
            return Err(invalid(id, "each scope id named once"));
        }
    }
    Ok(scopes)
}

/// A JSON object's entries in their order, duplicates kept (so that they can be refused).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
