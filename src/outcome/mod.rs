//! Outcomes: what became of findings, of one event and of a sweep. Enforcement produces these;
//! reports, notifications, metrics and exit codes read them. This module holds the one
//! definition of "an open finding" and of the exit code, so every face counts alike.

mod event;
mod guard;
mod sweep;

use serde::Serialize;

use crate::aws::AwsError;
use crate::finding::Finding;

pub use event::{
    ConsumerOutcome, EventInfo, EventOutcome, GroupOutcome, SourceFix, SourceFixAction, Status,
};
pub use guard::{ForwardingQueue, Gap, GapKind, Undelivered};
pub use sweep::{
    AccountSummary, CoverageGap, Forwarding, RegionSummary, RuleSeen, Skipped, SkippedAccount,
    StoredReport, SweepReport, SweepTotals, Tampering,
};

/// Revoke (`enforce`) or only report what would be revoked (`audit`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    serde::Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Mode {
    Enforce,
    Audit,
}

/// What was done about one finding.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    Revoked,
    WouldRevoke,
    AlreadyGone,
    Reported,
    /// Reported, not revoked: the baseline protects the group. Still open.
    Protected,
    Exempt,
    Failed,
    /// Closed at its source: the prefix list the rule uses was restored to its version before
    /// the change that opened the rule (the event's `source_fix`); the rule itself stays.
    FixedAtSource,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// An open finding still needs someone's attention: it is neither exempt, already gone nor
    /// fixed at its source. `check`, `scan`, `handle-event`, the Lambda and the metrics all
    /// count with this.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Outcome::Exempt | Outcome::AlreadyGone | Outcome::FixedAtSource
        )
    }
}

/// Who and where a finding's group is: its name, VPC, the tags that say whose it is, and its
/// page in the EC2 console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GroupContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// The group's tags among those `SGGUARD_CONTEXT_TAGS` names (`Owner`, `Team`, …).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: crate::finding::Tags,
    /// The group in the EC2 console of its region (sign in to the group's account first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
}

impl GroupContext {
    /// The context of group `group_id` as read (`info`), showing the tags named in `shown`.
    pub fn new(
        group_id: &str,
        info: &crate::finding::GroupInfo,
        shown: &[String],
        region: Option<&str>,
    ) -> GroupContext {
        GroupContext {
            group_name: info.name.clone(),
            vpc_id: info.vpc_id.clone(),
            tags: info
                .tags
                .iter()
                .filter(|(k, _)| shown.iter().any(|s| s.eq_ignore_ascii_case(k)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            console_url: region.map(|r| {
                format!(
                    "https://{r}.console.aws.amazon.com/ec2/home?region={r}#SecurityGroup:groupId={group_id}"
                )
            }),
        }
    }
}

/// Whether the event being handled made the finding's rule, or found it in the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Attribution {
    /// The event added or changed the rule (its rule id is in the event, or the event changed
    /// the prefix list the rule uses).
    ThisChange,
    /// The rule was already in the group (someone else's change, or older).
    FoundInGroup,
    /// The circuit breaker held the rule back earlier (an event's handling or a sweep); this
    /// sweep re-checked it, and acted in the account's own mode even when the sweep only
    /// reports.
    HeldBack,
}

/// A finding and what became of it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FindingOutcome {
    #[serde(flatten)]
    pub finding: Finding,
    pub outcome: Outcome,
    /// The finding's group, for the people who act on the message (event findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupContext>,
    /// For an event's findings: the event's own change, or found in the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution>,
    /// For a rule of the event found `already_gone`: when and by what it was removed, when
    /// this hub knows (it revoked the rule itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The AWS error behind `failed`, kept whole (its code says whether access was denied).
    #[serde(skip)]
    pub aws_error: Option<AwsError>,
}

/// Counts of one region, one account, a whole sweep, or one event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    /// Security groups read.
    pub groups: usize,
    /// Rules evaluated.
    pub rules: usize,
    /// Open findings ([`Outcome::is_open`]).
    pub findings: usize,
    pub exempt: usize,
    pub revoked: usize,
    pub would_revoke: usize,
    /// Findings that would be revoked but for a protected group (counted in `findings` too).
    pub protected: usize,
    /// Revocations that failed.
    pub failed: usize,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.groups += other.groups;
        self.rules += other.rules;
        self.findings += other.findings;
        self.exempt += other.exempt;
        self.revoked += other.revoked;
        self.would_revoke += other.would_revoke;
        self.protected += other.protected;
        self.failed += other.failed;
    }

    /// The finding counts of these outcomes (groups and rules are left at zero).
    pub fn of_findings(findings: &[FindingOutcome]) -> Counts {
        let count = |outcome: Outcome| findings.iter().filter(|f| f.outcome == outcome).count();
        Counts {
            findings: findings.iter().filter(|f| f.outcome.is_open()).count(),
            exempt: count(Outcome::Exempt),
            revoked: count(Outcome::Revoked),
            would_revoke: count(Outcome::WouldRevoke),
            protected: count(Outcome::Protected),
            failed: count(Outcome::Failed),
            ..Counts::default()
        }
    }
}

/// Exit code: nothing open was found.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: open findings.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: bad input, bad policy, or an AWS failure (non-fatal errors keep the run going and
/// still end with this code).
pub const EXIT_ERROR: u8 = 2;

/// The exit code contract of every command: an error wins over findings, findings over clean.
pub fn exit_code(failed: bool, open_findings: usize) -> u8 {
    if failed {
        EXIT_ERROR
    } else if open_findings > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

// Coverage (`sgguard coverage`, the sweep summary): what the check found, per account × region.

/// One account × region.
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub account_id: String,
    pub account_name: Option<String>,
    pub region: String,
    /// The stack instance: `CURRENT`, `OUTDATED (FAILED)`, `missing`, `not checked`, or why
    /// none is expected (`hub account`, `management account`).
    pub stack: String,
    /// The forwarding rule: `ENABLED`, `missing`, `DISABLED`, …; `hub rule` for the hub's home
    /// region; `denied by policy` in a region a service control policy denies.
    pub rule: String,
    /// The remediation role: `assumed`, `hub`, `not assumable` (the role the account is reached
    /// through), or, read through another role: `present`, `not usable`.
    pub role: String,
    pub covered: bool,
    /// What is not covered, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Why the place was not judged (`denied by policy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Skipped>,
}

/// Every place in scope, judged.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub stack_set: Option<String>,
    pub management_account: Option<String>,
    pub hub_account: String,
    pub places: Vec<Place>,
    pub covered: usize,
    pub not_covered: usize,
    pub skipped: usize,
    /// What could not be checked at all (the StackSet's instances, an account's regions).
    pub errors: Vec<String>,
}

impl Coverage {
    pub fn uncovered(&self) -> impl Iterator<Item = &Place> {
        self.places
            .iter()
            .filter(|p| !p.covered && p.skipped.is_none())
    }

    /// One line: `58 of 60 account-regions covered, 2 not covered`.
    pub fn headline(&self) -> String {
        let mut line = format!(
            "{} of {} account-regions covered",
            self.covered,
            self.places.len() - self.skipped
        );
        if self.not_covered > 0 {
            line.push_str(&format!(", {} NOT covered", self.not_covered));
        }
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped (denied by policy)", self.skipped));
        }
        line
    }
}
