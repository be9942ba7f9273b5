//! The sweep's spoke check: the remediation role of each member (trust, permissions) once per
//! account, and the forwarding rule in each account × region swept, read once for both the
//! tamper check and the coverage gap (an enabled region without the rule).

use super::{Sweep, Swept};
use crate::enforce::HubApi;
use crate::enforce::tamper::{FORWARDING_RULE, TamperCheck};
use crate::outcome::{CoverageGap, RuleSeen, Tampering};

impl<H: HubApi> Sweep<'_, H> {
    /// What is wrong with the remediation role of `account`: its trust, then its permissions
    /// (what cannot be read is a problem: nothing can be verified there).
    pub(super) async fn role_problems(&self, check: &TamperCheck, account: &str) -> Vec<String> {
        let role = &check.remediation_role;
        let mut problems = match self.hub.remediation_role_trust(account, role).await {
            Ok(document) => check.trust_problems(document.as_deref()),
            Err(error) => vec![format!("cannot read the remediation role: {error}")],
        };
        problems.extend(
            match self.hub.remediation_role_policies(account, role).await {
                Ok(policies) => check.permission_problems(account, policies.as_ref()),
                Err(error) => vec![format!(
                    "cannot read the remediation role's permissions: {error}"
                )],
            },
        );
        problems
    }

    /// The tamper check, for a member account (the hub has no spoke stack).
    pub(super) fn member_check(&self, account: &str) -> Option<&TamperCheck> {
        self.tamper.filter(|_| account != self.hub.hub_account())
    }

    /// The forwarding rule of the region `swept`, read once and judged (with the spoke
    /// check): what was seen, its tampering, and the coverage gap when it is missing. The hub
    /// account's home region is the hub's own rule's, and not read; its other regions are
    /// judged as a member's, but a missing rule there is a gap only (the StackSet may not
    /// deploy to it).
    pub(super) async fn forwarding(&self, swept: &mut Swept) {
        let Some(check) = self.tamper else {
            return;
        };
        let (account, region) = (swept.account.as_str(), swept.summary.region.as_str());
        let member = account != self.hub.hub_account();
        if !member && region == self.hub.home_region() {
            swept.summary.forwarding_rule = Some(RuleSeen::HubRule);
            return;
        }
        let read = self
            .hub
            .forwarding_rule(account, region, FORWARDING_RULE)
            .await;
        let judged = check.judge_forwarding(account, region, member, read);
        swept.gap = judged.gap.map(|forwarding| {
            tracing::warn!(account, region, %forwarding, "coverage gap: no forwarding rule");
            CoverageGap {
                account_id: account.to_owned(),
                region: region.to_owned(),
                forwarding,
            }
        });
        swept.tampering = tampered(account, Some(region), judged.problems);
        swept.summary.forwarding_rule = Some(judged.seen);
    }
}

/// The problems found in one place, as tampering of `account`.
pub(super) fn tampered(
    account: &str,
    region: Option<&str>,
    problems: Vec<String>,
) -> Vec<Tampering> {
    for problem in &problems {
        tracing::error!(account, region, problem, "spoke tampered with");
    }
    problems
        .into_iter()
        .map(|problem| Tampering {
            account_id: account.to_owned(),
            region: region.map(str::to_owned),
            problem,
        })
        .collect()
}
