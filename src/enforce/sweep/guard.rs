//! The guard itself, as the sweep sees it: the organization's own accounts (the hub's and the
//! management account) in every organization sweep, whatever its units; each account and
//! region's forwarding dead-letter queue read (events the hub never received); and what the
//! report tells of them — undelivered events, gaps (the management account without its stack)
//! and failures (a queue that cannot be read). A place without a spoke is the region's coverage
//! gap, told by the forwarding rule (`spokes.rs`).

use super::{HubApi, Reached, Sweep};
use crate::aws::{AwsError, OrgAccount};
use crate::outcome::{ForwardingQueue, Gap, GapKind, SweepReport, Undelivered};

/// The spoke's forwarding dead-letter queue, one per region (`ForwardingDeadLetterQueue` of
/// `spoke-infra/sgguard-spoke.yaml`).
pub const FORWARDING_QUEUE: &str = "sgguard-forward-sg-changes-dlq";

/// The accounts of an organization sweep with the organization's own accounts added when its
/// units left them out: the hub's (swept with its own credentials, even outside the StackSet's
/// units) and the management account (swept when its stack is deployed, a gap when not). A
/// management account that cannot be told is logged, and the coverage check names it.
pub(super) async fn with_own_accounts<H: HubApi>(
    hub: &H,
    mut accounts: Vec<OrgAccount>,
) -> Vec<OrgAccount> {
    let mut own = vec![hub.hub_account().to_owned()];
    match hub.management_account().await {
        Ok(management) => own.push(management),
        Err(error) => tracing::warn!(
            error = %error,
            "the management account cannot be told: it is swept only when the scope lists it"
        ),
    }
    for id in own {
        if accounts.iter().any(|a| a.id == id) {
            continue;
        }
        let name = hub.account_name(&id).await;
        accounts.push(OrgAccount {
            id,
            name,
            status: "ACTIVE".to_owned(),
        });
    }
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    accounts
}

impl<H: HubApi> Sweep<'_, H> {
    /// The forwarding dead-letter queue of `account` in `region`, when the sweep checks the
    /// spokes. None is expected in the hub's home region (the hub's own rule invokes the Lambda,
    /// whose failures go to the hub's queue): there a missing one is nothing to tell.
    pub(super) async fn forwarding_queue(
        &self,
        account: &str,
        region: &str,
    ) -> Option<ForwardingQueue> {
        self.tamper?;
        let expected = account != self.hub.hub_account() || region != self.hub.home_region();
        match self
            .hub
            .queue_depth(account, region, FORWARDING_QUEUE)
            .await
        {
            Ok(Some(messages)) => {
                if messages > 0 {
                    tracing::warn!(
                        account,
                        region,
                        messages,
                        "undelivered events wait in the forwarding dead-letter queue"
                    );
                }
                Some(ForwardingQueue::Read { messages })
            }
            Ok(None) => expected.then_some(ForwardingQueue::Missing),
            Err(error) => {
                tracing::warn!(account, region, error = %error, "forwarding dead-letter queue not read");
                Some(ForwardingQueue::Unreadable {
                    error: error.to_string(),
                })
            }
        }
    }

    /// The organization's management account, asked only when the report needs it (an account
    /// whose role cannot be assumed); none when it cannot be told.
    pub(super) async fn management_if_needed(&self, reached: &[Reached]) -> Option<String> {
        let unassumable = reached
            .iter()
            .any(|r| r.regions.as_ref().is_err_and(role_not_assumable));
        if !unassumable {
            return None;
        }
        self.hub.management_account().await.ok()
    }
}

/// The role sgguard reaches accounts through could not be assumed there (missing, or its trust
/// refuses the hub).
fn role_not_assumable(error: &AwsError) -> bool {
    error.operation == "AssumeRole" && error.is_access_denied()
}

/// What the report tells of the guard of one account; the management account's is its own.
pub(super) struct Guard<'a> {
    pub management: Option<&'a str>,
}

impl Guard<'_> {
    /// The gap an account that could not be reached is, when it is one: the management
    /// account whose role cannot be assumed has no stack of the spoke template.
    pub(super) fn unreached(&self, account: &OrgAccount, error: &AwsError) -> Option<Gap> {
        (self.management == Some(account.id.as_str()) && role_not_assumable(error)).then(|| Gap {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            region: None,
            kind: GapKind::ManagementGuardNotDeployed,
            detail: format!(
                "the remediation role cannot be assumed there ({}): deploy \
                 spoke-infra/sgguard-spoke.yaml as a stack in each of its regions \
                 (docs/deploy.md, \"The management account\"); until then it is neither swept \
                 nor guarded",
                error.message
            ),
        })
    }

    /// What one region's forwarding queue adds to the report: its undelivered events, or the
    /// failure to read it.
    pub(super) fn tell_queue(
        &self,
        report: &mut SweepReport,
        account: &OrgAccount,
        region: &str,
        queue: Option<&ForwardingQueue>,
    ) {
        match queue {
            None | Some(ForwardingQueue::Read { messages: 0 }) => {}
            Some(ForwardingQueue::Read { messages }) => report.undelivered.push(Undelivered {
                account_id: account.id.clone(),
                account_name: account.name.clone(),
                region: region.to_owned(),
                messages: *messages,
            }),
            // No queue: no spoke there. The forwarding rule's absence tells it, once, as the
            // region's coverage gap (`spokes.rs`).
            Some(ForwardingQueue::Missing) => {}
            Some(ForwardingQueue::Unreadable { error }) => report.errors.push(format!(
                "account {} region {region}: the forwarding dead-letter queue cannot be read: \
                 {error}",
                account.id
            )),
        }
    }
}
