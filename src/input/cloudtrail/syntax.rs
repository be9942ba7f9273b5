//! The raw CloudTrail shapes as serde reads and writes them: the EventBridge envelope, the
//! record, and the typed request and response of each call sgguard watches. Unknown fields are
//! ignored: records carry many sgguard does not read, and AWS adds more.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::{DisplayFromStr, PickFirst, serde_as, skip_serializing_none};

use crate::input::lenient::{Items, Port, ProtocolText};

/// An EventBridge event whose `detail` is a CloudTrail record.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: Option<String>,
    /// The member account the call was made in.
    pub account: Option<String>,
    pub region: Option<String>,
    pub detail: Record,
}

/// One CloudTrail record. The parameters stay untyped here because their shape depends on
/// `eventName`; [`Record::call`](super::Record::call) types those of the watched calls.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub event_name: String,
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub event_time: Option<String>,
    pub event_source: Option<String>,
    pub aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub recipient_account_id: Option<String>,
    /// The account as processed logs (Panther) name it.
    #[serde(rename = "aws_account_id")]
    pub processed_account_id: Option<String>,
    pub user_identity: Option<Actor>,
    pub error_code: Option<String>,
    pub request_parameters: Option<Value>,
    pub response_elements: Option<Value>,
}

/// Who made the call (the record's `userIdentity`; processed logs lowercase its keys).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub arn: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(alias = "principalid")]
    pub principal_id: Option<String>,
    #[serde(alias = "accountid")]
    pub account_id: Option<String>,
    /// The AWS service that made the call on the actor's behalf (CloudFormation, …).
    #[serde(alias = "invokedby")]
    pub invoked_by: Option<String>,
}

/// The typed parameters of a watched call; the variant is the event name ([`CallName`] lists
/// them, and a unit test checks the list against the hub's event pattern).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[strum_discriminants(
    name(CallName),
    derive(strum::EnumString, strum::AsRefStr, strum::VariantArray)
)]
pub enum Call {
    AuthorizeSecurityGroupIngress(Authorize),
    AuthorizeSecurityGroupEgress(Authorize),
    ModifySecurityGroupRules(ModifyRulesParameters),
    ModifyManagedPrefixList(ModifyPrefixListParameters),
    RestoreManagedPrefixListVersion(RestorePrefixListParameters),
    CreateTags(TagsParameters),
    DeleteTags(TagsParameters),
}

/// AuthorizeSecurityGroupIngress/Egress: `requestParameters` and `responseElements`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorize {
    pub request: AuthorizeRequest,
    pub response: Option<AuthorizeResponse>,
}

#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeRequest {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    #[serde_as(as = "Items")]
    #[serde(default)]
    pub ip_permissions: Vec<IpPermission>,
    /// The legacy flat form: `cidrIp` / `ipProtocol` / `fromPort` / `toPort` beside the group.
    #[serde(flatten)]
    pub flat: IpPermission,
}

/// One `IpPermission`: a protocol and port range for several peers.
#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IpPermission {
    pub ip_protocol: Option<ProtocolText>,
    pub from_port: Option<Port>,
    pub to_port: Option<Port>,
    #[serde_as(as = "Items")]
    pub ip_ranges: Vec<PermissionPeer>,
    #[serde_as(as = "Items")]
    pub ipv6_ranges: Vec<PermissionPeer>,
    #[serde_as(as = "Items")]
    pub prefix_list_ids: Vec<PermissionPeer>,
    #[serde_as(as = "Items")]
    pub groups: Vec<PermissionPeer>,
    /// The legacy flat form only.
    pub cidr_ip: Option<String>,
    pub source_security_group_name: Option<String>,
    pub source_security_group_owner_id: Option<String>,
}

/// An item of `ipRanges`, `ipv6Ranges`, `prefixListIds` or `groups`, or a rule's
/// `referencedGroupInfo`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionPeer {
    pub cidr_ip: Option<String>,
    pub cidr_ipv6: Option<String>,
    pub prefix_list_id: Option<String>,
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub user_id: Option<String>,
    pub description: Option<String>,
}

/// The response's rule set (2021 on): what AWS actually created, with rule ids.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeResponse {
    #[serde_as(as = "Items")]
    #[serde(default)]
    pub security_group_rule_set: Vec<RuleShape>,
}

/// EC2's `SecurityGroupRule`: lower camel case in a response's rule set; Pascal case, without
/// id, group or owner, as the `SecurityGroupRuleRequest` of ModifySecurityGroupRules.
#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleShape {
    pub security_group_rule_id: Option<String>,
    pub group_id: Option<String>,
    pub group_owner_id: Option<String>,
    /// `true`, or `"true"` in processed logs.
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    pub is_egress: Option<bool>,
    #[serde(alias = "IpProtocol")]
    pub ip_protocol: Option<ProtocolText>,
    #[serde(alias = "FromPort")]
    pub from_port: Option<Port>,
    #[serde(alias = "ToPort")]
    pub to_port: Option<Port>,
    #[serde(alias = "CidrIpv4")]
    pub cidr_ipv4: Option<String>,
    #[serde(alias = "CidrIpv6")]
    pub cidr_ipv6: Option<String>,
    #[serde(alias = "PrefixListId")]
    pub prefix_list_id: Option<String>,
    pub referenced_group_info: Option<PermissionPeer>,
    #[serde(alias = "ReferencedGroupId")]
    pub referenced_group_id: Option<String>,
    #[serde(alias = "Description")]
    pub description: Option<String>,
}

/// ModifySecurityGroupRules (Pascal case, as the console and SDKs send it; camel case too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyRulesParameters {
    #[serde(
        rename = "ModifySecurityGroupRulesRequest",
        alias = "modifySecurityGroupRulesRequest"
    )]
    pub request: ModifyRulesRequest,
}

#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyRulesRequest {
    #[serde(alias = "groupId")]
    pub group_id: Option<String>,
    #[serde_as(as = "Items")]
    #[serde(default, alias = "securityGroupRule")]
    pub security_group_rule: Vec<RuleUpdate>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleUpdate {
    #[serde(alias = "securityGroupRuleId")]
    pub security_group_rule_id: Option<String>,
    #[serde(alias = "securityGroupRule")]
    pub security_group_rule: Option<RuleShape>,
}

/// ModifyManagedPrefixList.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyPrefixListParameters {
    #[serde(
        rename = "ModifyManagedPrefixListRequest",
        alias = "modifyManagedPrefixListRequest"
    )]
    pub request: ModifyPrefixListRequest,
}

/// RestoreManagedPrefixListVersion: the list goes back to an earlier version, whose entries the
/// event does not carry (the live list is read instead). CloudTrail wraps the request like
/// ModifyManagedPrefixList's; a flat `prefixListId` is read too.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorePrefixListParameters {
    #[serde(
        rename = "RestoreManagedPrefixListVersionRequest",
        alias = "restoreManagedPrefixListVersionRequest"
    )]
    pub request: Option<RestorePrefixListRequest>,
    #[serde(rename = "prefixListId", alias = "PrefixListId")]
    pub prefix_list_id: Option<String>,
}

#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestorePrefixListRequest {
    #[serde(alias = "prefixListId")]
    pub prefix_list_id: Option<String>,
    /// The version the restore replaced (it made the next one).
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default, alias = "currentVersion")]
    pub current_version: Option<i64>,
}

#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyPrefixListRequest {
    #[serde(alias = "prefixListId")]
    pub prefix_list_id: Option<String>,
    /// The version the change was made to (it made the next one).
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default, alias = "currentVersion")]
    pub current_version: Option<i64>,
    #[serde_as(as = "Items")]
    #[serde(default, alias = "addEntry")]
    pub add_entry: Vec<PrefixListEntry>,
    #[serde_as(as = "Items")]
    #[serde(default, alias = "removeEntry")]
    pub remove_entry: Vec<PrefixListEntry>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListEntry {
    #[serde(alias = "cidr")]
    pub cidr: Option<String>,
    #[serde(alias = "description")]
    pub description: Option<String>,
}

/// CreateTags and DeleteTags: the resources, of any kind (the pattern forwards the calls that
/// name a security group; only those are re-checked), and the tags added or removed (DeleteTags
/// may name a key without its value, or omit `tagSet` to remove every tag).
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsParameters {
    #[serde_as(as = "Items")]
    #[serde(default)]
    pub resources_set: Vec<TaggedResource>,
    #[serde_as(as = "Items")]
    #[serde(default)]
    pub tag_set: Vec<TagChange>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaggedResource {
    pub resource_id: Option<String>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagChange {
    pub key: Option<String>,
    pub value: Option<String>,
}
