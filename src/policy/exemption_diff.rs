//! What changed between two versions of the exemptions file: the groups newly exempt, no longer
//! exempt, exempt from more (more rules, or longer) or from less. Entries are matched by the
//! groups they cover (their scope, ids in any order); the entries of one scope are taken
//! together, as evaluation takes them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;

use super::baseline::{Exemption, GroupScope};

/// The rules an exemption covers: one baseline rule, or all of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Covered {
    All,
    Rule(String),
}

/// Until when each covered rule is exempt (`Date::MAX`: no expiry).
type Coverage = BTreeMap<Covered, Date>;

/// One scope's exemption before and after a change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScopeChange {
    /// The groups, said as a message says them.
    pub scope: String,
    /// What the scope was exempt from before (`None`: it was not exempt).
    pub before: Option<String>,
    /// What it is exempt from now (`None`: no longer exempt).
    pub after: Option<String>,
    /// The reasons the new file gives.
    pub reasons: Vec<String>,
}

/// The change of an exemptions file, each list in scope order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExemptionDiff {
    pub added: Vec<ScopeChange>,
    pub removed: Vec<ScopeChange>,
    /// Exempt from a rule it was not, or for longer.
    pub widened: Vec<ScopeChange>,
    /// Exempt from fewer rules, or for a shorter time, and from nothing more.
    pub narrowed: Vec<ScopeChange>,
}

impl ExemptionDiff {
    /// What changed from `before` to `after`.
    pub fn between(before: &[Exemption], after: &[Exemption]) -> ExemptionDiff {
        let old = by_scope(before);
        let new = by_scope(after);
        let mut diff = ExemptionDiff::default();
        for (scope, (coverage, reasons)) in &new {
            let change = |before: Option<&Coverage>| ScopeChange {
                scope: scope.clone(),
                before: before.map(told),
                after: Some(told(coverage)),
                reasons: reasons.clone(),
            };
            match old.get(scope) {
                None => diff.added.push(change(None)),
                Some((previous, _)) if exceeds(coverage, previous) => {
                    diff.widened.push(change(Some(previous)))
                }
                Some((previous, _)) if exceeds(previous, coverage) => {
                    diff.narrowed.push(change(Some(previous)))
                }
                Some(_) => {}
            }
        }
        for (scope, (coverage, reasons)) in &old {
            if !new.contains_key(scope) {
                diff.removed.push(ScopeChange {
                    scope: scope.clone(),
                    before: Some(told(coverage)),
                    after: None,
                    reasons: reasons.clone(),
                });
            }
        }
        diff
    }

    /// Nothing is exempt that was not, nor for longer, nor less.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.widened.is_empty()
            && self.narrowed.is_empty()
    }

    /// Whether anything is exempt now that was not before (added or widened).
    pub fn widens(&self) -> bool {
        !self.added.is_empty() || !self.widened.is_empty()
    }

    /// One line per change, widest first (`+` added, `^` widened, `v` narrowed, `-` removed).
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut say = |mark: &str, word: &str, changes: &[ScopeChange]| {
            for change in changes {
                let mut line = format!("{mark} {word}: {}", change.scope);
                match (&change.before, &change.after) {
                    (None, Some(after)) => {
                        let _ = write!(line, ": {after}");
                    }
                    (Some(before), None) => {
                        let _ = write!(line, ": was {before}");
                    }
                    (Some(before), Some(after)) => {
                        let _ = write!(line, ": {after} (was {before})");
                    }
                    (None, None) => {}
                }
                if !change.reasons.is_empty() {
                    let _ = write!(line, " — {}", change.reasons.join("; "));
                }
                lines.push(line);
            }
        };
        say("+", "added", &self.added);
        say("^", "widened", &self.widened);
        say("v", "narrowed", &self.narrowed);
        say("-", "removed", &self.removed);
        lines
    }
}

/// The entries of a file taken together by scope: what each scope is exempt from, and the
/// reasons given.
fn by_scope(exemptions: &[Exemption]) -> BTreeMap<String, (Coverage, Vec<String>)> {
    let mut scopes: BTreeMap<String, (Coverage, Vec<String>)> = BTreeMap::new();
    for exemption in exemptions {
        let (coverage, reasons) = scopes.entry(scope_text(&exemption.scope)).or_default();
        let until = exemption.expires.unwrap_or(Date::MAX);
        let covered: Vec<Covered> = if exemption.rules.is_empty() {
            vec![Covered::All]
        } else {
            exemption.rules.iter().cloned().map(Covered::Rule).collect()
        };
        for rule in covered {
            let entry = coverage.entry(rule).or_insert(until);
            *entry = (*entry).max(until);
        }
        if !reasons.contains(&exemption.reason) {
            reasons.push(exemption.reason.clone());
        }
    }
    scopes
}

/// Until when `coverage` exempts `rule` (through the rule itself or all rules).
fn until(coverage: &Coverage, rule: &Covered) -> Option<Date> {
    let own = coverage.get(rule).copied();
    let all = coverage.get(&Covered::All).copied();
    own.max(all)
}

/// Whether `a` exempts some rule that `b` does not, or for longer.
fn exceeds(a: &Coverage, b: &Coverage) -> bool {
    a.iter().any(|(rule, a_until)| match rule {
        // All rules for longer than every rule `b` names (only `b`'s own `All` can match it).
        Covered::All => b.get(&Covered::All).is_none_or(|b_until| a_until > b_until),
        rule => until(b, rule).is_none_or(|b_until| *a_until > b_until),
    })
}

/// The groups a scope covers, ids sorted so that the same groups match in any order.
fn scope_text(scope: &GroupScope) -> String {
    match scope {
        GroupScope::Groups(ids) => {
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            format!("group(s) {}", ids.join(", "))
        }
        GroupScope::Accounts(accounts) => {
            let mut ids: Vec<String> = accounts.iter().map(ToString::to_string).collect();
            ids.sort();
            ids.dedup();
            format!("every group of account(s) {}", ids.join(", "))
        }
        GroupScope::Tag {
            key,
            value,
            value_is_expiry,
        } => match (value, value_is_expiry) {
            (_, true) => format!("groups tagged `{key}` (until the date it holds)"),
            (Some(value), false) => format!("groups tagged `{key}={value}`"),
            (None, false) => format!("groups tagged `{key}`"),
        },
    }
}

/// What a scope is exempt from: `every rule until 2027-01-31`, `ssh-open, rdp-open until …`.
fn told(coverage: &Coverage) -> String {
    let mut by_date: BTreeMap<Date, Vec<String>> = BTreeMap::new();
    for (rule, until) in coverage {
        by_date.entry(*until).or_default().push(match rule {
            Covered::All => "every rule".to_owned(),
            Covered::Rule(id) => id.clone(),
        });
    }
    by_date
        .into_iter()
        .map(|(until, rules)| {
            let until = if until == Date::MAX {
                "with no expiry".to_owned()
            } else {
                format!("until {until}")
            };
            format!("{} {until}", rules.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
