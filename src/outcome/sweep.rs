//! What a sweep found and did: per account and region, the totals, what the spoke check found
//! (tampering, coverage gaps), and what was left out and why.

use serde::Serialize;

use super::{Counts, Coverage, FindingOutcome, ForwardingQueue, Gap, Mode, Undelivered};

/// One region of one account.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RegionSummary {
    pub region: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// Why the region could not be swept (or not completely).
    pub error: Option<String>,
    /// Why the region was not swept although nothing failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Skipped>,
    /// The forwarding rule as the spoke check read it (none without the check, or when the
    /// region was not reached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding_rule: Option<RuleSeen>,
    /// The spoke's forwarding dead-letter queue here, when the sweep checked the spokes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding_queue: Option<ForwardingQueue>,
}

/// The forwarding rule of one account × region as the sweep's spoke check read it: once, for
/// the tamper check, the coverage gap and the scheduled sweep's coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum RuleSeen {
    /// No rule: a coverage gap.
    #[serde(rename = "missing")]
    Missing,
    /// The read failed (the tampering says why).
    #[serde(rename = "not readable")]
    Unreadable,
    /// The hub account's home region, covered by the hub's own rule (not read).
    #[serde(rename = "hub rule")]
    HubRule,
    /// There, in this state (`ENABLED`, `DISABLED`, …); what is wrong with it is tampering.
    #[serde(untagged)]
    State(String),
}

impl RuleSeen {
    /// As `coverage` and the report write it.
    pub fn as_str(&self) -> &str {
        match self {
            RuleSeen::Missing => "missing",
            RuleSeen::Unreadable => "not readable",
            RuleSeen::HubRule => "hub rule",
            RuleSeen::State(state) => state,
        }
    }
}

/// Why a region was not swept although nothing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, strum::Display)]
pub enum Skipped {
    /// A service control policy denies the region (AWS says `explicit deny in a service
    /// control policy`): sgguard can neither read nor fix it there. Counted
    /// ([`SweepTotals::regions_denied`]) and named, never silent.
    #[serde(rename = "denied by policy")]
    #[strum(serialize = "denied by policy")]
    DeniedByPolicy,
}

/// One account.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AccountSummary {
    pub account_id: String,
    pub account_name: Option<String>,
    /// The mode the account was swept in (staged enforcement; audit without `remediate`).
    pub mode: Mode,
    /// What set it: `default`, `account ID` or a unit id; absent when one mode guards all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_by: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    pub regions: Vec<RegionSummary>,
    /// Why the account could not be reached (no role, denied, no regions).
    pub error: Option<String>,
}

/// A piece of the spoke stack found changed in a member account (the sweep's tamper check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tampering {
    pub account_id: String,
    /// The region of the forwarding rule; none for the (global) remediation role.
    pub region: Option<String>,
    pub problem: String,
}

/// An enabled region of an account with no sgguard forwarding rule: a change there reaches
/// sgguard only at the next sweep (the region is still swept: the roles are global).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CoverageGap {
    pub account_id: String,
    pub region: String,
    /// Whether the spokes are deployed to forward from the region.
    pub forwarding: Forwarding,
}

/// Whether the spokes forward from a region, as the hub is told (`SGGUARD_FORWARDING_REGIONS`,
/// the hub module's `stackset_regions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Forwarding {
    /// The region is one the spokes are deployed to: the rule was removed (in a member, also
    /// reported as tampering), or the StackSet does not deploy to the account.
    Expected,
    /// The region is not one the spokes are deployed to: add it to `stackset_regions`, or
    /// deny it with a service control policy.
    NotDeployed,
    /// Where the spokes are deployed is not known (`SGGUARD_FORWARDING_REGIONS` is unset).
    Unknown,
}

impl Forwarding {
    /// What to do about a coverage gap of this kind.
    pub fn advice(self) -> &'static str {
        match self {
            Forwarding::Expected => {
                "the spokes are deployed to these regions: the rule was removed, or the StackSet \
                 does not deploy to the account (its OUs)"
            }
            Forwarding::NotDeployed => {
                "the spokes are not deployed to these regions: add them to `stackset_regions`, \
                 or deny them with a service control policy"
            }
            Forwarding::Unknown => {
                "where the spokes are deployed is not known: set `SGGUARD_FORWARDING_REGIONS` \
                 (the hub module sets it from `stackset_regions`)"
            }
        }
    }
}

/// An account the sweep left out on purpose.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SkippedAccount {
    pub account_id: String,
    pub account_name: Option<String>,
    pub reason: String,
}

/// A sweep's counts: the regions' counts added up, and the account × regions it could not
/// guard whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SweepTotals {
    #[serde(flatten)]
    pub counts: Counts,
    /// Enabled account × regions without the forwarding rule ([`SweepReport::coverage_gaps`]).
    #[serde(default)]
    pub coverage_gaps: usize,
    /// Account × regions a service control policy denies ([`Skipped::DeniedByPolicy`]).
    #[serde(default)]
    pub regions_denied: usize,
}

impl SweepTotals {
    pub fn add(&mut self, other: &SweepTotals) {
        self.counts.add(&other.counts);
        self.coverage_gaps += other.coverage_gaps;
        self.regions_denied += other.regions_denied;
    }
}

/// Everything a sweep found and did: what `scan --format json` prints.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SweepReport {
    pub version: u32,
    pub mode: Mode,
    pub remediate: bool,
    pub rules_evaluated: usize,
    /// The sweep's counts, as an object: its `findings` count and its `findings` list would
    /// otherwise share one key.
    pub totals: SweepTotals,
    pub accounts: Vec<AccountSummary>,
    pub skipped_accounts: Vec<SkippedAccount>,
    pub findings: Vec<FindingOutcome>,
    /// One line per account or region that failed, naming it (tampering included).
    pub errors: Vec<String>,
    /// What the tamper check found changed (when the sweep ran it).
    pub tampering: Vec<Tampering>,
    /// The enabled account × regions without the forwarding rule (when the sweep checked the
    /// spokes), by account and region.
    #[serde(default)]
    pub coverage_gaps: Vec<CoverageGap>,
    /// The account × regions whose forwarding dead-letter queue holds events the hub never
    /// received (when the sweep checked the spokes).
    #[serde(default)]
    pub undelivered: Vec<Undelivered>,
    /// The accounts not guarded at all: the management account without its stack. Told, not
    /// failures (a region without the forwarding rule is a coverage gap).
    #[serde(default)]
    pub gaps: Vec<Gap>,
    /// The revocation limit the sweep reached: the rest were held back (`would_revoke`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker: Option<String>,
    pub seconds: f64,
    /// Which account × regions a change reaches sgguard from (the scheduled sweep, with the
    /// StackSet named).
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub coverage: Option<Coverage>,
    /// Where the whole report was stored (the scheduled sweep's report bucket).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredReport>,
}

/// The sweep's report as stored in S3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoredReport {
    pub uri: String,
    pub console_url: String,
}

impl StoredReport {
    /// `s3://BUCKET/KEY` and its page in the S3 console.
    pub fn new(bucket: &str, key: &str, region: &str) -> StoredReport {
        StoredReport {
            uri: format!("s3://{bucket}/{key}"),
            console_url: format!(
                "https://s3.console.aws.amazon.com/s3/object/{bucket}?region={region}&prefix={key}"
            ),
        }
    }
}

impl SweepReport {
    /// True when some account, region or revocation failed. A coverage gap or a region denied
    /// by policy is no failure: each has its own count, metric and alarm.
    pub fn incomplete(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The events waiting in the forwarding dead-letter queues, all told.
    pub fn undelivered_events(&self) -> u64 {
        self.undelivered.iter().map(|u| u.messages).sum()
    }

    /// The coverage gaps by account and by whether the spokes forward from there: (account,
    /// forwarding, regions), in the report's order.
    pub fn gaps_by_account(&self) -> Vec<(&str, Forwarding, Vec<&str>)> {
        let mut lines: Vec<(&str, Forwarding, Vec<&str>)> = Vec::new();
        for gap in &self.coverage_gaps {
            let same = lines
                .iter_mut()
                .rev()
                .take_while(|(account, _, _)| *account == gap.account_id)
                .find(|(_, forwarding, _)| *forwarding == gap.forwarding);
            match same {
                Some((_, _, regions)) => regions.push(&gap.region),
                None => lines.push((&gap.account_id, gap.forwarding, vec![&gap.region])),
            }
        }
        lines
    }

    /// The account × regions a service control policy denies: (account, region), in report
    /// order.
    pub fn denied_regions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.accounts.iter().flat_map(|a| {
            a.regions
                .iter()
                .filter(|r| r.skipped == Some(Skipped::DeniedByPolicy))
                .map(move |r| (a.account_id.as_str(), r.region.as_str()))
        })
    }
}
