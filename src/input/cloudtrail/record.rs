//! Records and their EventBridge envelopes: telling them by shape, and reading one into a
//! [`CloudTrailEvent`] (who, where, when), its call's parameters handed to `calls.rs`. A watched
//! call whose body cannot be typed still names what it touched, so the hub re-reads that.

use serde_json::Value;

use super::calls::watched_events;
use super::event::{Change, CloudTrailEvent, DecodeError, non_empty, typed};
use super::syntax::{Call, CallName, Envelope, Record};

/// Whether a JSON object looks like a CloudTrail record.
pub fn is_record(value: &Value) -> bool {
    value.get("eventName").is_some()
        && (value.get("eventSource").is_some() || value.get("requestParameters").is_some())
}

/// Whether a JSON object looks like an EventBridge envelope of a CloudTrail event.
pub fn is_envelope(value: &Value) -> bool {
    value.get("detail").is_some_and(Value::is_object)
        && (value.get("detail-type").is_some() || value.get("source").is_some())
}

/// Decodes an EventBridge envelope (`detail` is the record).
pub fn decode_envelope(envelope: &Value) -> Result<CloudTrailEvent, DecodeError> {
    typed::<Envelope>(envelope, "")?.event()
}

/// Decodes one CloudTrail record.
pub fn decode_record(record: &Value) -> Result<CloudTrailEvent, DecodeError> {
    let mut event = typed::<Record>(record, "")?.event()?;
    event.stamp_rules();
    Ok(event)
}

impl Envelope {
    /// The event; the envelope's account and region are the member's and win over the record's.
    pub fn event(&self) -> Result<CloudTrailEvent, DecodeError> {
        let mut event = self.detail.event().map_err(|e| e.within("detail"))?;
        if let Some(account) = non_empty(self.account.as_ref()) {
            event.account_id = Some(account);
        }
        if let Some(region) = non_empty(self.region.as_ref()) {
            event.region = Some(region);
        }
        event.stamp_rules();
        if event.id.is_none() {
            event.id = non_empty(self.id.as_ref());
        }
        Ok(event)
    }
}

impl Record {
    /// The typed call, when the hub's pattern watches it; `None` for any other event.
    pub fn call(&self) -> Result<Option<Call>, DecodeError> {
        let name = match self.event_name.parse::<CallName>() {
            Ok(name) if watched_events().contains(&self.event_name) => name,
            _ => return Ok(None),
        };
        let request = self.request_parameters.as_ref().unwrap_or(&Value::Null);
        Call::decode(name, request, self.response_elements.as_ref()).map(Some)
    }

    /// The event, its rules not yet stamped with the account and region.
    fn event(&self) -> Result<CloudTrailEvent, DecodeError> {
        let actor = self.user_identity.clone().unwrap_or_default();
        let mut unreadable = None;
        let change = match non_empty(self.error_code.as_ref()) {
            Some(error_code) => Change::Failed { error_code },
            None => match self
                .call()
                .and_then(|call| call.map(|c| c.change()).transpose())
            {
                Ok(Some(change)) => change,
                Ok(None) => Change::Ignored,
                Err(error) => match self.named_target() {
                    Some(change) => {
                        unreadable = Some(error);
                        change
                    }
                    None => return Err(error),
                },
            },
        };
        Ok(CloudTrailEvent {
            name: self.event_name.clone(),
            id: non_empty(self.event_id.as_ref()),
            time: non_empty(self.event_time.as_ref()),
            account_id: non_empty(self.recipient_account_id.as_ref())
                .or_else(|| non_empty(self.processed_account_id.as_ref()))
                .or_else(|| non_empty(actor.account_id.as_ref())),
            region: non_empty(self.aws_region.as_ref()),
            source_ip: non_empty(self.source_ip_address.as_ref()),
            user_agent: non_empty(self.user_agent.as_ref()),
            actor,
            change,
            unreadable,
        })
    }

    /// What a watched call names whose body could not be typed: its group (request or response
    /// elements) or its prefix list, with no rules. `None` when it names neither.
    fn named_target(&self) -> Option<Change> {
        let request = self.request_parameters.as_ref();
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let field = |parent: Option<&Value>, names: &[&str]| {
            names
                .iter()
                .find_map(|name| text(parent.and_then(|p| p.get(*name))))
        };
        let modify = request.and_then(|r| r.get("ModifySecurityGroupRulesRequest"));
        let prefix_list = request.and_then(|r| r.get("ModifyManagedPrefixListRequest"));
        let from_response = || {
            let items = self
                .response_elements
                .as_ref()?
                .get("securityGroupRuleSet")?
                .get("items")?;
            items
                .as_array()?
                .iter()
                .find_map(|item| text(item.get("groupId")))
        };
        let group_id = field(request, &["groupId", "GroupId"])
            .or_else(|| field(modify, &["GroupId", "groupId"]))
            .or_else(from_response)
            .filter(|id| id.starts_with("sg-"));
        let restore = request.and_then(|r| r.get("RestoreManagedPrefixListVersionRequest"));
        match self.event_name.parse::<CallName>().ok()? {
            CallName::CreateTags | CallName::DeleteTags => {
                // Whatever else is malformed, the security groups the call names are re-read.
                let mut group_ids = Vec::new();
                security_group_ids(request.and_then(|r| r.get("resourcesSet")), &mut group_ids);
                group_ids.sort();
                group_ids.dedup();
                (!group_ids.is_empty()).then_some(Change::TagsChanged {
                    group_ids,
                    keys: Vec::new(),
                })
            }
            CallName::ModifyManagedPrefixList | CallName::RestoreManagedPrefixListVersion => {
                Some(Change::PrefixListModified {
                    prefix_list_id: field(prefix_list, &["PrefixListId", "prefixListId"])
                        .or_else(|| field(restore, &["PrefixListId", "prefixListId"]))
                        .or_else(|| field(request, &["prefixListId", "PrefixListId"]))
                        .filter(|id| id.starts_with("pl-"))?,
                    added: Vec::new(),
                    removed: Vec::new(),
                    // An unreadable body: the version is not trusted (no restore on a guess).
                    current_version: None,
                })
            }
            CallName::ModifySecurityGroupRules => Some(Change::Modified {
                group_id: Some(group_id?),
                rules: Vec::new(),
            }),
            _ => Some(Change::Authorized {
                group_id: Some(group_id?),
                group_name: None,
                rules: Vec::new(),
            }),
        }
    }
}

/// Every `resourceId` below `value` that names a security group, whatever the nesting.
fn security_group_ids(value: Option<&Value>, out: &mut Vec<String>) {
    match value {
        Some(Value::Object(map)) => {
            for (key, inner) in map {
                match inner {
                    Value::String(id) if key == "resourceId" && id.starts_with("sg-") => {
                        out.push(id.clone());
                    }
                    _ => security_group_ids(Some(inner), out),
                }
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                security_group_ids(Some(item), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_events_are_failed_not_errors() {
        let record = json!({"eventName": "AuthorizeSecurityGroupIngress",
            "eventSource": "ec2.amazonaws.com", "errorCode": "Client.InvalidPermission.Duplicate",
            "requestParameters": {}});
        let event = decode_record(&record).unwrap();
        assert!(matches!(event.change, Change::Failed { .. }));
    }

    #[test]
    fn a_record_without_event_name_is_an_error_saying_so() {
        let error = decode_record(&json!({"eventSource": "ec2.amazonaws.com"})).unwrap_err();
        assert!(error.to_string().contains("eventName"), "{error}");
        let error =
            decode_envelope(&json!({"source": "aws.ec2", "detail": {"eventName": 1}})).unwrap_err();
        assert_eq!(error.field, "detail.eventName");
    }

    #[test]
    fn restoring_a_prefix_list_version_re_checks_the_list() {
        for (request, current_version) in [
            (
                serde_json::json!({"RestoreManagedPrefixListVersionRequest": {
                "PrefixListId": "pl-0123456789abcdef0", "PreviousVersion": 1, "CurrentVersion": 3}}),
                Some(3),
            ),
            (
                serde_json::json!({"prefixListId": "pl-0123456789abcdef0"}),
                None,
            ),
        ] {
            let record = serde_json::json!({
                "eventName": "RestoreManagedPrefixListVersion",
                "eventSource": "ec2.amazonaws.com",
                "awsRegion": "eu-west-1",
                "recipientAccountId": "111122223333",
                "requestParameters": request,
            });
            let event = decode_record(&record).unwrap();
            assert_eq!(
                event.change,
                Change::PrefixListModified {
                    prefix_list_id: "pl-0123456789abcdef0".to_owned(),
                    added: Vec::new(),
                    removed: Vec::new(),
                    current_version,
                }
            );
        }
        let record = serde_json::json!({
            "eventName": "RestoreManagedPrefixListVersion", "eventSource": "ec2.amazonaws.com",
            "requestParameters": {"RestoreManagedPrefixListVersionRequest": {"PreviousVersion": 1}},
        });
        let error = decode_record(&record).unwrap_err();
        assert!(error.to_string().contains("PrefixListId"), "{error}");
    }
}
