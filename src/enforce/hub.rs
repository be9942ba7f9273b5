//! The seams enforcement works through: [`SecurityGroups`] (one account and region) and
//! [`HubApi`] (the hub: member accounts, the organization, the spokes, where messages and
//! reports go). The AWS adapters implement them here; an in-memory fake implements them in unit
//! tests, so the event flow, the sweep, coverage and restore all run on either.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use ipnet::IpNet;

use crate::aws::{
    Authorize, Aws, AwsError, Ec2, ForwardingRule, OrgAccount, RevokeOutcome, RolePolicies,
    SharedWith, StackInstance,
};
use crate::finding::{AsffFinding, GroupInfo};
use crate::report::deliver::Outlets;
use crate::rule::{Direction, SecurityGroupRule};

/// The security groups of one account and region, as enforcement reads and changes them.
pub trait SecurityGroups: Sync {
    /// The group's tags, or `None` when the group no longer exists.
    fn group(
        &self,
        group_id: &str,
    ) -> impl Future<Output = Result<Option<GroupInfo>, AwsError>> + Send;
    /// Every group of the region: tags, name and VPC.
    fn all_groups(
        &self,
    ) -> impl Future<Output = Result<HashMap<String, GroupInfo>, AwsError>> + Send;
    /// The ids of every group with this name (names are unique only within a VPC).
    fn group_ids_by_name(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// The live rules of one group (both directions), read now.
    fn group_rules(
        &self,
        group_id: &str,
    ) -> impl Future<Output = Result<Vec<SecurityGroupRule>, AwsError>> + Send;
    /// Every rule in the region.
    fn all_rules(&self) -> impl Future<Output = Result<Vec<SecurityGroupRule>, AwsError>> + Send;
    /// The entries of a managed prefix list.
    fn prefix_list_entries(
        &self,
        prefix_list_id: &str,
    ) -> impl Future<Output = Result<Vec<IpNet>, AwsError>> + Send;
    /// The entries a managed prefix list had at `version`.
    fn prefix_list_entries_at(
        &self,
        prefix_list_id: &str,
        version: i64,
    ) -> impl Future<Output = Result<Vec<IpNet>, AwsError>> + Send;
    /// A managed prefix list's current version; `None` when it has none or is not found.
    fn prefix_list_version(
        &self,
        prefix_list_id: &str,
    ) -> impl Future<Output = Result<Option<i64>, AwsError>> + Send;
    /// Restores a prefix list of this account to its `previous` version, replacing `current`
    /// (refused when the list is no longer at `current`).
    fn restore_prefix_list(
        &self,
        prefix_list_id: &str,
        previous: i64,
        current: i64,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The regions the account has enabled (asked in any one of them), sorted.
    fn enabled_regions(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Revokes rules of one group by rule id; one outcome per rule id.
    fn revoke(
        &self,
        group_id: &str,
        direction: Direction,
        rule_ids: &[String],
    ) -> impl Future<Output = Vec<(String, RevokeOutcome)>> + Send;
    /// Adds one rule to a group (restore); the new rule's id when AWS returns one.
    fn authorize(
        &self,
        rule: &Authorize<'_>,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
}

/// What enforcement needs of the hub: the member accounts' security groups (through the
/// remediation role), the organization's accounts and units, the spokes (forwarding rule, role
/// trust, StackSet instances), who a prefix list is shared with, and where messages and reports
/// go ([`Outlets`], [`HubApi::put_report`]).
pub trait HubApi: Outlets {
    type Groups: SecurityGroups;
    /// The hub's own account.
    fn hub_account(&self) -> &str;
    /// The hub's home region (account-wide calls, the spoke role's reads).
    fn home_region(&self) -> &str;
    /// The AWS partition the hub runs in (`aws`, `aws-us-gov`, `aws-cn`).
    fn partition(&self) -> String;
    fn security_groups(
        &self,
        account: &str,
        region: &str,
    ) -> impl Future<Output = Result<Self::Groups, AwsError>> + Send;
    /// The accounts, other than `owner`, that `owner`'s prefix list is shared with through AWS
    /// RAM in `region` (and the principals that name no account).
    fn prefix_list_consumers(
        &self,
        owner: &str,
        region: &str,
        prefix_list_id: &str,
    ) -> impl Future<Output = Result<SharedWith, AwsError>> + Send;
    /// The account's name; `None` when it cannot be told (never a reason to fail).
    fn account_name(&self, account: &str) -> impl Future<Output = Option<String>> + Send;
    /// The organizational units above the account, nearest first, then the root (staged
    /// enforcement).
    fn account_units(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Arc<Vec<String>>, AwsError>> + Send;
    /// Every account of the organization, active or not.
    fn organization_accounts(
        &self,
    ) -> impl Future<Output = Result<Vec<OrgAccount>, AwsError>> + Send;
    /// The accounts below organizational units (or roots), nested units included.
    fn accounts_under(
        &self,
        parents: &[String],
    ) -> impl Future<Output = Result<Vec<OrgAccount>, AwsError>> + Send;
    /// The organization's management account.
    fn management_account(&self) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// The spoke's forwarding rule `name` in `account` and `region`; `None` when missing.
    fn forwarding_rule(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<ForwardingRule>, AwsError>> + Send;
    /// The trust policy (JSON text) of the role `role` in `account`; `None` when missing.
    fn remediation_role_trust(
        &self,
        account: &str,
        role: &str,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    /// The policies deciding what the role `role` in `account` may do; `None` when missing.
    fn remediation_role_policies(
        &self,
        account: &str,
        role: &str,
    ) -> impl Future<Output = Result<Option<RolePolicies>, AwsError>> + Send;
    /// The approximate number of messages in the queue `name` of `account` and `region` (the
    /// spoke's forwarding dead-letter queue), read as sgguard reads that account; `None` when
    /// there is no such queue.
    fn queue_depth(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<u64>, AwsError>> + Send;
    /// The spoke StackSet's instances (coverage).
    fn stack_instances(
        &self,
        name: &str,
        call_as: &str,
    ) -> impl Future<Output = Result<Vec<StackInstance>, AwsError>> + Send;
    /// Imports findings (ASFF) into Security Hub in `account` and `region`; how many.
    fn import_findings(
        &self,
        account: &str,
        region: &str,
        findings: &[AsffFinding],
    ) -> impl Future<Output = Result<usize, AwsError>> + Send;
    /// Stores a JSON report as `key` in the hub's `bucket`.
    fn put_report(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Reads the object `key` of the hub's `bucket` as text (a distributed sweep's items,
    /// parts and result files).
    fn read_report(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
}

impl SecurityGroups for Ec2 {
    async fn group(&self, group_id: &str) -> Result<Option<GroupInfo>, AwsError> {
        Ec2::group(self, group_id).await
    }

    async fn all_groups(&self) -> Result<HashMap<String, GroupInfo>, AwsError> {
        Ec2::all_groups(self).await
    }

    async fn group_ids_by_name(&self, name: &str) -> Result<Vec<String>, AwsError> {
        Ec2::group_ids_by_name(self, name).await
    }

    async fn group_rules(&self, group_id: &str) -> Result<Vec<SecurityGroupRule>, AwsError> {
        Ec2::group_rules(self, group_id).await
    }

    async fn all_rules(&self) -> Result<Vec<SecurityGroupRule>, AwsError> {
        Ec2::all_rules(self).await
    }

    async fn prefix_list_entries(&self, prefix_list_id: &str) -> Result<Vec<IpNet>, AwsError> {
        Ec2::prefix_list_entries(self, prefix_list_id, None).await
    }

    async fn prefix_list_entries_at(
        &self,
        prefix_list_id: &str,
        version: i64,
    ) -> Result<Vec<IpNet>, AwsError> {
        Ec2::prefix_list_entries(self, prefix_list_id, Some(version)).await
    }

    async fn prefix_list_version(&self, prefix_list_id: &str) -> Result<Option<i64>, AwsError> {
        Ec2::prefix_list_version(self, prefix_list_id).await
    }

    async fn restore_prefix_list(
        &self,
        prefix_list_id: &str,
        previous: i64,
        current: i64,
    ) -> Result<(), AwsError> {
        Ec2::restore_prefix_list(self, prefix_list_id, previous, current).await
    }

    async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        Ec2::enabled_regions(self).await
    }

    async fn revoke(
        &self,
        group_id: &str,
        direction: Direction,
        rule_ids: &[String],
    ) -> Vec<(String, RevokeOutcome)> {
        Ec2::revoke(self, group_id, direction, rule_ids).await
    }

    async fn authorize(&self, rule: &Authorize<'_>) -> Result<Option<String>, AwsError> {
        Ec2::authorize(self, rule).await
    }
}

impl HubApi for Aws {
    type Groups = Ec2;

    fn hub_account(&self) -> &str {
        Aws::hub_account(self)
    }

    fn home_region(&self) -> &str {
        Aws::home_region(self)
    }

    fn partition(&self) -> String {
        Aws::partition(self)
    }

    async fn security_groups(&self, account: &str, region: &str) -> Result<Ec2, AwsError> {
        self.ec2(account, region).await
    }

    async fn prefix_list_consumers(
        &self,
        owner: &str,
        region: &str,
        prefix_list_id: &str,
    ) -> Result<SharedWith, AwsError> {
        Aws::prefix_list_consumers(self, owner, region, prefix_list_id).await
    }

    async fn account_name(&self, account: &str) -> Option<String> {
        Aws::account_name(self, account).await
    }

    async fn account_units(&self, account: &str) -> Result<Arc<Vec<String>>, AwsError> {
        Aws::account_units(self, account).await
    }

    async fn organization_accounts(&self) -> Result<Vec<OrgAccount>, AwsError> {
        Aws::organization_accounts(self).await
    }

    async fn accounts_under(&self, parents: &[String]) -> Result<Vec<OrgAccount>, AwsError> {
        Aws::accounts_under(self, parents).await
    }

    async fn management_account(&self) -> Result<String, AwsError> {
        Aws::management_account(self).await
    }

    async fn forwarding_rule(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<ForwardingRule>, AwsError> {
        Aws::forwarding_rule(self, account, region, name).await
    }

    async fn remediation_role_trust(
        &self,
        account: &str,
        role: &str,
    ) -> Result<Option<String>, AwsError> {
        Aws::remediation_role_trust(self, account, role).await
    }

    async fn remediation_role_policies(
        &self,
        account: &str,
        role: &str,
    ) -> Result<Option<RolePolicies>, AwsError> {
        Aws::remediation_role_policies(self, account, role).await
    }

    async fn queue_depth(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<u64>, AwsError> {
        Aws::queue_depth(self, account, region, name).await
    }

    async fn stack_instances(
        &self,
        name: &str,
        call_as: &str,
    ) -> Result<Vec<StackInstance>, AwsError> {
        Aws::stack_instances(self, name, call_as).await
    }

    async fn import_findings(
        &self,
        account: &str,
        region: &str,
        findings: &[AsffFinding],
    ) -> Result<usize, AwsError> {
        Aws::import_findings(self, account, region, findings).await
    }

    async fn put_report(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), AwsError> {
        Aws::put_json(self, bucket, key, body).await
    }

    async fn read_report(&self, bucket: &str, key: &str) -> Result<String, AwsError> {
        let uri = crate::aws::S3Uri {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        };
        Ok(self.object_text(&uri).await?.text)
    }
}
