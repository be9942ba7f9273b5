//! Offline inputs: reading a file (plain or gzip, or stdin), detecting what it is from its
//! content, and decoding it into rules.
//!
//! The kind is told by the document's top-level keys, read in a first pass that keeps nothing
//! but the key names, so that a large describe output is then decoded straight into typed
//! structures without an intermediate JSON tree.

pub mod cloudtrail;
mod describe;
mod document;
pub mod lenient;
pub mod terraform;

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use cloudtrail::{Change, CloudTrailEvent};
pub use document::{Document, InputKind};

/// Largest input sgguard reads (after decompression).
pub const MAX_INPUT_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read `{source_name}`: {error}")]
    Read {
        source_name: String,
        error: std::io::Error,
    },
    #[error("`{source_name}` is larger than {} MiB", MAX_INPUT_BYTES / 1024 / 1024)]
    TooLarge { source_name: String },
    #[error("`{source_name}` is empty")]
    Empty { source_name: String },
    #[error("`{source_name}` is not valid JSON: {error}")]
    Json {
        source_name: String,
        error: serde_json::Error,
    },
    #[error(
        "`{source_name}` is JSON of an unknown shape{found}: expected a CloudTrail event \
         (EventBridge envelope, record, {{\"Records\": [...]}} log or array of records), \
         describe-security-group-rules or describe-security-groups output, or a Terraform \
         plan (`terraform show -json`)"
    )]
    UnknownShape { source_name: String, found: String },
    #[error("`{source_name}` ({kind}): {message}")]
    Decode {
        source_name: String,
        kind: InputKind,
        message: String,
    },
}

/// Reads a path (`-` is standard input), decompressing gzip by its magic bytes.
pub fn read_input(path: &str) -> Result<Vec<u8>, InputError> {
    let read_error = |error| InputError::Read {
        source_name: path.to_owned(),
        error,
    };
    let raw: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(Path::new(path)).map_err(read_error)?;
        Box::new(file)
    };
    let mut raw = raw.take(MAX_INPUT_BYTES + 1);
    let mut bytes = Vec::new();
    raw.read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut plain)
            .map_err(read_error)?;
        bytes = plain;
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            source_name: path.to_owned(),
        });
    }
    Ok(bytes)
}

/// Reads and decodes one input.
pub fn load(path: &str) -> Result<Document, InputError> {
    let bytes = read_input(path)?;
    decode(path, &bytes)
}

/// The top-level shape of a JSON document: an object's keys, or an array.
enum Shape {
    Object(Vec<String>),
    Array,
    Scalar,
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ShapeVisitor;
        impl<'de> Visitor<'de> for ShapeVisitor {
            type Value = Shape;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON document")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Shape::Object(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Shape::Array)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
                Ok(Shape::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
                Ok(Shape::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
                Ok(Shape::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
                Ok(Shape::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
                Ok(Shape::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Shape, E> {
                Ok(Shape::Scalar)
            }
        }
        deserializer.deserialize_any(ShapeVisitor)
    }
}

/// Decodes an input's bytes; `source` names it in errors and findings.
pub fn decode(source: &str, bytes: &[u8]) -> Result<Document, InputError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::Empty {
            source_name: source.to_owned(),
        });
    }
    let json_error = |error| InputError::Json {
        source_name: source.to_owned(),
        error,
    };
    let shape: Shape = serde_json::from_slice(bytes).map_err(json_error)?;
    let unknown = |found: String| InputError::UnknownShape {
        source_name: source.to_owned(),
        found,
    };
    let kind = match &shape {
        Shape::Scalar => return Err(unknown(" (a single value)".to_owned())),
        Shape::Array => InputKind::CloudTrailRecords,
        Shape::Object(keys) => {
            let has = |k: &str| keys.iter().any(|key| key == k);
            if has("Records") {
                InputKind::CloudTrailLog
            } else if has("detail") {
                InputKind::EventBridgeEvent
            } else if has("eventName") {
                InputKind::CloudTrailRecord
            } else if has("SecurityGroupRules") {
                InputKind::DescribeSecurityGroupRules
            } else if has("SecurityGroups") {
                InputKind::DescribeSecurityGroups
            } else if has("planned_values") || has("resource_changes") {
                InputKind::TerraformPlan
            } else if has("ModifySecurityGroupRulesRequest")
                || has("ModifyManagedPrefixListRequest")
                || has("ipPermissions")
                || has("cidrIp")
            {
                InputKind::RequestParameters
            } else {
                let shown: Vec<String> = keys.iter().take(5).map(|k| format!("`{k}`")).collect();
                let found = if shown.is_empty() {
                    " (an empty object)".to_owned()
                } else {
                    format!(" (keys {})", shown.join(", "))
                };
                return Err(unknown(found));
            }
        }
    };
    let decode_error = |message: String| InputError::Decode {
        source_name: source.to_owned(),
        kind,
        message,
    };
    let mut document = Document::new(source, kind);
    match kind {
        InputKind::DescribeSecurityGroupRules => {
            describe::rules(bytes, &mut document).map_err(|e| decode_error(e.to_string()))?;
        }
        InputKind::DescribeSecurityGroups => {
            describe::groups(bytes, &mut document).map_err(|e| decode_error(e.to_string()))?;
        }
        InputKind::TerraformPlan => {
            let plan = terraform::decode(bytes).map_err(decode_error)?;
            terraform::plan(&plan, &mut document).map_err(decode_error)?;
        }
        _ => {
            let value: Value = serde_json::from_slice(bytes).map_err(json_error)?;
            let events = decode_events(kind, &value).map_err(decode_error)?;
            for event in &events {
                document.rules.extend(event.rules().iter().cloned());
            }
            document.events = events;
        }
    }
    Ok(document)
}

fn decode_events(kind: InputKind, value: &Value) -> Result<Vec<CloudTrailEvent>, String> {
    let one = |result: Result<CloudTrailEvent, cloudtrail::DecodeError>| {
        result
            .and_then(CloudTrailEvent::readable)
            .map(|e| vec![e])
            .map_err(|e| e.to_string())
    };
    match kind {
        InputKind::EventBridgeEvent => one(cloudtrail::decode_envelope(value)),
        InputKind::CloudTrailRecord => one(cloudtrail::decode_record(value)),
        InputKind::RequestParameters => one(cloudtrail::decode_bare_request(value)),
        InputKind::CloudTrailLog | InputKind::CloudTrailRecords => {
            let list = match value {
                Value::Array(list) => list,
                _ => value
                    .get("Records")
                    .and_then(Value::as_array)
                    .ok_or("`Records` is not an array")?,
            };
            if list.is_empty() {
                return Err("the list of records is empty".to_owned());
            }
            list.iter()
                .enumerate()
                .map(|(i, item)| {
                    let decoded = if cloudtrail::is_envelope(item) {
                        cloudtrail::decode_envelope(item)
                    } else if cloudtrail::is_record(item) {
                        cloudtrail::decode_record(item)
                    } else {
                        return Err(format!(
                            "record {i} is not a CloudTrail record (no `eventName`)"
                        ));
                    };
                    decoded
                        .and_then(CloudTrailEvent::readable)
                        .map_err(|e| format!("record {i}: {e}"))
                })
                .collect()
        }
        _ => Err(format!("{kind} is not an event input")),
    }
}

/// A one-line summary of events that carry no rules of their own, for the user.
pub fn event_notes(document: &Document) -> Vec<String> {
    document
        .events
        .iter()
        .filter_map(|event| match &event.change {
            Change::Failed { error_code } => Some(format!(
                "{}: {} failed ({error_code}); nothing changed",
                document.source, event.name
            )),
            Change::Ignored => Some(format!(
                "{}: {} is not a security-group rule change; ignored",
                document.source, event.name
            )),
            Change::TagsChanged { group_ids, .. } if group_ids.is_empty() => Some(format!(
                "{}: {} changes the tags of no security group; ignored",
                document.source, event.name
            )),
            Change::TagsChanged { group_ids, keys } => Some(format!(
                "{}: {} changed the tags ({}) of {}; exemptions by tag are re-checked by \
                 `handle-event` and `scan`",
                document.source,
                event.name,
                if keys.is_empty() {
                    "all".to_owned()
                } else {
                    keys.join(", ")
                },
                group_ids.join(", ")
            )),
            Change::PrefixListModified {
                prefix_list_id,
                added,
                removed,
                ..
            } => Some(format!(
                "{}: prefix list {prefix_list_id} changed (added {}, removed {}); the groups that \
                 use it are checked by `handle-event` and `scan`",
                document.source,
                list_or_none(added),
                list_or_none(removed)
            )),
            _ => None,
        })
        .collect()
}

fn list_or_none(nets: &[ipnet::IpNet]) -> String {
    if nets.is_empty() {
        "none".to_owned()
    } else {
        nets.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
