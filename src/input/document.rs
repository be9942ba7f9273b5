//! What an input is once decoded: its kind, and the [`Document`] of rules, group tags and
//! CloudTrail events every decoder fills.

use std::collections::HashMap;
use std::fmt;

use super::cloudtrail::CloudTrailEvent;
use crate::finding::Tags;
use crate::rule::SecurityGroupRule;

/// What an input turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    EventBridgeEvent,
    CloudTrailRecord,
    CloudTrailLog,
    CloudTrailRecords,
    RequestParameters,
    DescribeSecurityGroupRules,
    DescribeSecurityGroups,
    TerraformPlan,
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputKind::EventBridgeEvent => "EventBridge event",
            InputKind::CloudTrailRecord => "CloudTrail record",
            InputKind::CloudTrailLog => "CloudTrail log file",
            InputKind::CloudTrailRecords => "array of CloudTrail records",
            InputKind::RequestParameters => "CloudTrail request parameters",
            InputKind::DescribeSecurityGroupRules => "describe-security-group-rules output",
            InputKind::DescribeSecurityGroups => "describe-security-groups output",
            InputKind::TerraformPlan => "Terraform plan",
        })
    }
}

/// A decoded input.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub source: String,
    pub kind: InputKind,
    pub rules: Vec<SecurityGroupRule>,
    /// Group tags by group id, where the input carries them.
    pub group_tags: HashMap<String, Tags>,
    /// The CloudTrail events of an event input.
    pub events: Vec<CloudTrailEvent>,
}

impl Document {
    pub(super) fn new(source: &str, kind: InputKind) -> Self {
        Document {
            source: source.to_owned(),
            kind,
            rules: Vec::new(),
            group_tags: HashMap::new(),
            events: Vec::new(),
        }
    }

    pub fn tags_of(&self, rule: &SecurityGroupRule) -> Option<&Tags> {
        rule.group_id
            .as_ref()
            .and_then(|id| self.group_tags.get(id))
    }
}
