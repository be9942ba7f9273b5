//! The exemption that keeps restored rules: one entry per group, produced by the YAML
//! serializer (never by pasting message text into YAML), naming the restored rules and the
//! baseline rules they broke, with an end date; added to the exemptions file only after the
//! rules are back, by a conditional write that starts again from the file as it is when someone
//! else changed it in between.

use serde::Serialize;
use serde_json::Value;

use super::Revoked;
use crate::aws::Fetched;

/// One exemption entry, in the exemptions file's words.
#[derive(Debug, Serialize)]
struct Entry {
    reason: String,
    group_ids: Vec<String>,
    rules: Vec<String>,
    expires: String,
}

/// The entries for `restored`: one per group, its baseline rules sorted, the restored rule ids
/// and the operator's reason in `reason`.
fn entries(restored: &[Revoked], until: jiff::civil::Date, reason: Option<&str>) -> Vec<Entry> {
    let mut out: std::collections::BTreeMap<String, (Vec<String>, Vec<String>)> =
        std::collections::BTreeMap::new();
    for rule in restored {
        let (rules, ids) = out.entry(rule.group().to_owned()).or_default();
        rules.extend(rule.policy_rules.iter().cloned());
        ids.push(rule.rule_id().to_owned());
    }
    out.into_iter()
        .map(|(group, (mut rules, ids))| {
            rules.sort_unstable();
            rules.dedup();
            Entry {
                reason: format!(
                    "{} (restored {} with sgguard restore)",
                    reason.unwrap_or("restored"),
                    ids.join(", ")
                ),
                group_ids: vec![group],
                rules,
                expires: until.to_string(),
            }
        })
        .collect()
}

/// The exemptions file with `restored`'s entries added, and the check that it says exactly
/// the file before plus those entries. The operator's text is kept (comments, order) when the
/// entries can be appended to its `exemptions` list; otherwise the whole document is written
/// again by the serializer.
pub fn with_exemption(
    current: Option<&str>,
    restored: &[Revoked],
    until: jiff::civil::Date,
    reason: Option<&str>,
) -> Result<String, String> {
    let added = entries(restored, until, reason);
    let added_value = serde_json::to_value(&added).map_err(|e| e.to_string())?;
    let before: Value = match current {
        Some(text) if !text.trim().is_empty() => serde_saphyr::from_str(text)
            .map_err(|e| format!("the exemptions file is not YAML: {e}"))?,
        _ => serde_json::json!({"version": 1, "exemptions": []}),
    };
    let mut expected = before.clone();
    match expected.get_mut("exemptions") {
        Some(Value::Array(list)) => {
            list.extend(added_value.as_array().cloned().unwrap_or_default())
        }
        Some(Value::Null) | None => {
            if let Some(map) = expected.as_object_mut() {
                map.insert("exemptions".to_owned(), added_value.clone());
            }
        }
        Some(_) => return Err("the exemptions file's `exemptions` is not a list".to_owned()),
    }
    let says = |text: &str| serde_saphyr::from_str::<Value>(text).ok().as_ref() == Some(&expected);
    if let Some(text) = current.and_then(|c| appended(c, &added)) {
        if says(&text) {
            return Ok(text);
        }
    }
    let text = serde_saphyr::to_string(&expected).map_err(|e| e.to_string())?;
    if says(&text) {
        Ok(text)
    } else {
        Err("the exemptions file could not be written so that it reads back the same".to_owned())
    }
}

/// `current` with the serialized entries appended, when its `exemptions` list is the
/// document's last key in block style (or an empty flow list `[]`).
fn appended(current: &str, added: &[Entry]) -> Option<String> {
    let items = serde_saphyr::to_string(&added).ok()?;
    let mut text = current.trim_end().to_owned();
    if let Some(head) = text.strip_suffix("exemptions: []") {
        text = format!("{head}exemptions:");
    }
    text.push('\n');
    for line in items.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    Some(text)
}

/// Where the exemptions file lives, as restore needs it: read with its entity tag, and written
/// only if it is still that version (or still absent).
#[allow(async_fn_in_trait)]
pub trait ExemptionsObject {
    async fn read(&self) -> Result<Option<Fetched>, String>;
    /// Writes `text` if the object's entity tag is still `etag` (`None`: it must not exist);
    /// `Ok(false)` when it changed in between.
    async fn write_if(&self, text: &str, etag: Option<&str>) -> Result<bool, String>;
}

/// How many times restore starts again from a file someone else changed.
const ATTEMPTS: usize = 5;

/// Adds `restored`'s exemption to the file: read, add, validate (`validate` is the hub's own
/// loading), write if unchanged; a concurrent change starts it again from the new file.
pub async fn write_exemption<O: ExemptionsObject>(
    object: &O,
    restored: &[Revoked],
    until: jiff::civil::Date,
    reason: Option<&str>,
    validate: impl Fn(&str) -> Result<(), String>,
) -> Result<(), String> {
    for _ in 0..ATTEMPTS {
        let current = object.read().await?;
        let text = with_exemption(
            current.as_ref().map(|f| f.text.as_str()),
            restored,
            until,
            reason,
        )?;
        validate(&text).map_err(|e| format!("the exemption would not validate: {e}"))?;
        let etag = current.as_ref().and_then(|f| f.etag.as_deref());
        if current.is_some() && etag.is_none() {
            return Err(
                "the exemptions file has no entity tag: it cannot be written safely".to_owned(),
            );
        }
        if object.write_if(&text, etag).await? {
            return Ok(());
        }
        tracing::warn!("the exemptions file changed while restore wrote it: reading it again");
    }
    Err(format!(
        "the exemptions file kept changing while restore wrote it ({ATTEMPTS} attempts)"
    ))
}
