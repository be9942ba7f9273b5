//! EC2 in one member account and region: re-reading a group's live rules, finding the groups
//! that use a prefix list, and revoking rules by rule id (the lists themselves:
//! [`super::prefix_lists`]). In a member account, a call AWS rejects because the credentials
//! expired is made once more with the role assumed again.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use aws_sdk_ec2::types::Filter;

use super::{AwsError, CredentialCache};
use crate::finding::{GroupInfo, Tags};
use crate::rule::{ApiRule, Direction, SecurityGroupRule};

/// One rule to add to a group, in the API's words (`sgguard restore`).
#[derive(Debug, Clone, Copy)]
pub struct Authorize<'a> {
    pub group_id: &'a str,
    pub direction: Direction,
    /// The API's protocol: `-1`, `tcp`, `6`, …
    pub protocol: &'a str,
    /// For TCP and UDP.
    pub ports: Option<(u16, u16)>,
    /// As a rule's `peer` names it: a CIDR, `pl-…` or `sg-…`.
    pub peer: &'a str,
    pub description: Option<&'a str>,
}

pub struct Ec2 {
    pub(super) client: aws_sdk_ec2::Client,
    pub(super) account: String,
    pub(super) region: String,
    /// Where a member account's credentials come from (the client asks it for each request);
    /// `None` for the hub's own account.
    credentials: Option<Arc<CredentialCache>>,
}

/// What happened to one rule sgguard tried to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    /// Someone (or an earlier try) removed it first: the goal is met.
    AlreadyGone,
    Failed(AwsError),
}

impl Ec2 {
    pub fn new(client: aws_sdk_ec2::Client, account: &str, region: &str) -> Self {
        Ec2 {
            client,
            account: account.to_owned(),
            region: region.to_owned(),
            credentials: None,
        }
    }

    /// A client whose credentials come from `cache`: calls rejected as made with expired
    /// credentials are made once more after the role is assumed again.
    pub fn refreshing(mut self, cache: Arc<CredentialCache>) -> Self {
        self.credentials = Some(cache);
        self
    }

    /// Runs `call`; when AWS rejects the member credentials as expired, assumes the role again
    /// and runs it once more (a rejected call changed nothing).
    pub(super) async fn once_refreshed<T, F, Fut>(&self, call: F) -> Result<T, AwsError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let Some(cache) = &self.credentials else {
            return call().await;
        };
        let used = cache.get(&self.account, &self.region).await?;
        match call().await {
            Err(error) if error.is_expired_credentials() => {
                tracing::warn!(account = %self.account, region = %self.region, error = %error, "retrying with the role assumed again");
                cache.refresh(&self.account, &self.region, &used).await?;
                call().await
            }
            other => other,
        }
    }

    pub(super) fn error<E>(&self, operation: &'static str, error: &E) -> AwsError
    where
        E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        AwsError::new(operation, &self.account, &self.region, error)
    }

    /// The group's tags, or `None` when the group no longer exists.
    pub async fn group(&self, group_id: &str) -> Result<Option<GroupInfo>, AwsError> {
        self.once_refreshed(|| self.group_once(group_id)).await
    }

    async fn group_once(&self, group_id: &str) -> Result<Option<GroupInfo>, AwsError> {
        match self
            .client
            .describe_security_groups()
            .group_ids(group_id)
            .send()
            .await
        {
            Ok(output) => Ok(output.security_groups().first().map(|group| GroupInfo {
                name: group.group_name().map(str::to_owned),
                vpc_id: group.vpc_id().map(str::to_owned),
                tags: tags_of(group.tags()),
            })),
            Err(error) => {
                let error = self.error("DescribeSecurityGroups", &error);
                if error.code_is("InvalidGroup.NotFound") || error.code_is("InvalidGroupId") {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Every group in the region (its tags for exemptions by tag in a sweep, its name and VPC
    /// for the messages), paginated.
    pub async fn all_groups(&self) -> Result<HashMap<String, GroupInfo>, AwsError> {
        self.once_refreshed(|| self.all_groups_once()).await
    }

    async fn all_groups_once(&self) -> Result<HashMap<String, GroupInfo>, AwsError> {
        let mut pages = self
            .client
            .describe_security_groups()
            .max_results(1000)
            .into_paginator()
            .send();
        let mut tags = HashMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("DescribeSecurityGroups", &e))?;
            for group in page.security_groups() {
                if let Some(id) = group.group_id() {
                    let info = GroupInfo {
                        name: group.group_name().map(str::to_owned),
                        vpc_id: group.vpc_id().map(str::to_owned),
                        tags: tags_of(group.tags()),
                    };
                    tags.insert(id.to_owned(), info);
                }
            }
        }
        Ok(tags)
    }

    /// The regions enabled in the account (opt-in regions only once opted in), sorted.
    pub async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        self.once_refreshed(|| self.enabled_regions_once()).await
    }

    async fn enabled_regions_once(&self) -> Result<Vec<String>, AwsError> {
        let output = self
            .client
            .describe_regions()
            .all_regions(false)
            .send()
            .await
            .map_err(|e| self.error("DescribeRegions", &e))?;
        let mut regions: Vec<String> = output
            .regions()
            .iter()
            .filter(|r| r.opt_in_status() != Some("not-opted-in"))
            .filter_map(|r| r.region_name().map(str::to_owned))
            .collect();
        regions.sort();
        Ok(regions)
    }

    /// Every group with this name (old CloudTrail events name groups that way; a name is unique
    /// only within a VPC).
    pub async fn group_ids_by_name(&self, name: &str) -> Result<Vec<String>, AwsError> {
        self.once_refreshed(|| self.group_ids_by_name_once(name))
            .await
    }

    async fn group_ids_by_name_once(&self, name: &str) -> Result<Vec<String>, AwsError> {
        let output = self
            .client
            .describe_security_groups()
            .filters(Filter::builder().name("group-name").values(name).build())
            .send()
            .await
            .map_err(|e| self.error("DescribeSecurityGroups", &e))?;
        let mut ids: Vec<String> = output
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The live rules of one group (both directions), read now.
    pub async fn group_rules(&self, group_id: &str) -> Result<Vec<SecurityGroupRule>, AwsError> {
        let filter = Filter::builder().name("group-id").values(group_id).build();
        self.rules(Some(filter)).await
    }

    /// Every rule in the region (for prefix-list changes and sweeps), paginated.
    pub async fn all_rules(&self) -> Result<Vec<SecurityGroupRule>, AwsError> {
        self.rules(None).await
    }

    async fn rules(&self, filter: Option<Filter>) -> Result<Vec<SecurityGroupRule>, AwsError> {
        self.once_refreshed(|| self.rules_once(filter.clone()))
            .await
    }

    async fn rules_once(&self, filter: Option<Filter>) -> Result<Vec<SecurityGroupRule>, AwsError> {
        let mut pages = self
            .client
            .describe_security_group_rules()
            .set_filters(filter.map(|f| vec![f]))
            .max_results(1000)
            .into_paginator()
            .send();
        let mut rules = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("DescribeSecurityGroupRules", &e))?;
            for api in page.security_group_rules() {
                match self.convert(api) {
                    Ok(rule) => rules.push(rule),
                    // A rule sgguard cannot read is reported, never guessed at.
                    Err(message) => {
                        return Err(AwsError {
                            operation: "DescribeSecurityGroupRules",
                            account: self.account.clone(),
                            region: self.region.clone(),
                            code: None,
                            message,
                        });
                    }
                }
            }
        }
        Ok(rules)
    }

    fn convert(
        &self,
        api: &aws_sdk_ec2::types::SecurityGroupRule,
    ) -> Result<SecurityGroupRule, String> {
        let fields = ApiRule {
            rule_id: api.security_group_rule_id(),
            group_id: api.group_id(),
            group_owner_id: Some(api.group_owner_id().unwrap_or(&self.account)),
            is_egress: api.is_egress().unwrap_or(false),
            ip_protocol: api.ip_protocol().unwrap_or("-1"),
            from_port: api.from_port().map(i64::from),
            to_port: api.to_port().map(i64::from),
            cidr_ipv4: api.cidr_ipv4(),
            cidr_ipv6: api.cidr_ipv6(),
            prefix_list_id: api.prefix_list_id(),
            referenced_group: api
                .referenced_group_info()
                .and_then(|g| Some((g.group_id()?, g.user_id()))),
            description: api.description(),
        };
        SecurityGroupRule::from_api(fields, Some(&self.region)).map_err(|e| {
            format!(
                "rule `{}`{}: {}",
                api.security_group_rule_id().unwrap_or("?"),
                e.field.map(|f| format!(" `{f}`")).unwrap_or_default(),
                e.message
            )
        })
    }

    /// Authorizes one rule again (`sgguard restore`), with its description; the new rule's id.
    pub async fn authorize(&self, rule: &Authorize<'_>) -> Result<Option<String>, AwsError> {
        let Authorize {
            group_id,
            direction,
            protocol: api_protocol,
            ports,
            peer,
            description,
        } = *rule;
        use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
        let mut permission = IpPermission::builder().ip_protocol(api_protocol);
        if let Some((from, to)) = ports {
            permission = permission.from_port(i32::from(from)).to_port(i32::from(to));
        }
        permission = if peer.starts_with("pl-") {
            permission.prefix_list_ids(
                PrefixListId::builder()
                    .prefix_list_id(peer)
                    .set_description(description.map(str::to_owned))
                    .build(),
            )
        } else if peer.starts_with("sg-") {
            permission.user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id(peer)
                    .set_description(description.map(str::to_owned))
                    .build(),
            )
        } else if peer.contains(':') {
            permission.ipv6_ranges(
                Ipv6Range::builder()
                    .cidr_ipv6(peer)
                    .set_description(description.map(str::to_owned))
                    .build(),
            )
        } else {
            permission.ip_ranges(
                IpRange::builder()
                    .cidr_ip(peer)
                    .set_description(description.map(str::to_owned))
                    .build(),
            )
        };
        let permission = permission.build();
        let ids = match direction {
            Direction::Ingress => self
                .client
                .authorize_security_group_ingress()
                .group_id(group_id)
                .ip_permissions(permission)
                .send()
                .await
                .map_err(|e| self.error("AuthorizeSecurityGroupIngress", &e))?
                .security_group_rules()
                .iter()
                .filter_map(|r| r.security_group_rule_id().map(str::to_owned))
                .collect::<Vec<_>>(),
            Direction::Egress => self
                .client
                .authorize_security_group_egress()
                .group_id(group_id)
                .ip_permissions(permission)
                .send()
                .await
                .map_err(|e| self.error("AuthorizeSecurityGroupEgress", &e))?
                .security_group_rules()
                .iter()
                .filter_map(|r| r.security_group_rule_id().map(str::to_owned))
                .collect::<Vec<_>>(),
        };
        Ok(ids.into_iter().next())
    }

    /// Revokes rules of one group by rule id, one direction per call. When a rule is already
    /// gone the call fails for all, so each rule is then revoked on its own to tell which.
    pub async fn revoke(
        &self,
        group_id: &str,
        direction: Direction,
        rule_ids: &[String],
    ) -> Vec<(String, RevokeOutcome)> {
        if rule_ids.is_empty() {
            return Vec::new();
        }
        match self.revoke_call(group_id, direction, rule_ids).await {
            Ok(()) => rule_ids
                .iter()
                .map(|id| (id.clone(), RevokeOutcome::Revoked))
                .collect(),
            Err(error) if rule_ids.len() > 1 && is_gone(&error) => {
                let mut outcomes = Vec::with_capacity(rule_ids.len());
                for id in rule_ids {
                    let one = std::slice::from_ref(id);
                    let outcome = match self.revoke_call(group_id, direction, one).await {
                        Ok(()) => RevokeOutcome::Revoked,
                        Err(error) if is_gone(&error) => RevokeOutcome::AlreadyGone,
                        Err(error) => RevokeOutcome::Failed(error),
                    };
                    outcomes.push((id.clone(), outcome));
                }
                outcomes
            }
            Err(error) if is_gone(&error) => rule_ids
                .iter()
                .map(|id| (id.clone(), RevokeOutcome::AlreadyGone))
                .collect(),
            Err(error) => rule_ids
                .iter()
                .map(|id| (id.clone(), RevokeOutcome::Failed(error.clone())))
                .collect(),
        }
    }

    async fn revoke_call(
        &self,
        group_id: &str,
        direction: Direction,
        rule_ids: &[String],
    ) -> Result<(), AwsError> {
        self.once_refreshed(|| self.revoke_call_once(group_id, direction, rule_ids))
            .await
    }

    async fn revoke_call_once(
        &self,
        group_id: &str,
        direction: Direction,
        rule_ids: &[String],
    ) -> Result<(), AwsError> {
        tracing::info!(account = %self.account, region = %self.region, group = group_id, rules = ?rule_ids, %direction, "revoking");
        match direction {
            Direction::Ingress => self
                .client
                .revoke_security_group_ingress()
                .group_id(group_id)
                .set_security_group_rule_ids(Some(rule_ids.to_vec()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.error("RevokeSecurityGroupIngress", &e)),
            Direction::Egress => self
                .client
                .revoke_security_group_egress()
                .group_id(group_id)
                .set_security_group_rule_ids(Some(rule_ids.to_vec()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.error("RevokeSecurityGroupEgress", &e)),
        }
    }
}

fn tags_of(tags: &[aws_sdk_ec2::types::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .collect::<BTreeMap<_, _>>()
}

/// The rule (or its group) no longer exists.
fn is_gone(error: &AwsError) -> bool {
    error.code_is("InvalidSecurityGroupRuleId.NotFound")
        || error.code_is("InvalidPermission.NotFound")
        || error.code_is("InvalidGroup.NotFound")
}
