//! Validation: a policy file's syntax turned into the typed baseline, with every error pointing
//! at the file, line and field it comes from. A baseline whose rules would revoke what every VPC
//! needs is refused unless it acknowledges that.

mod dynamic;
mod rule;

use serde_saphyr::Spanned;

use super::baseline::{
    Baseline, BaselineRule, Exemption, GroupScope, PolicyError, Protection, parse_date,
};
use super::default_group;
use super::exposure::Threshold;
use super::syntax::{ExemptionSyntax, PolicyFile, ProtectionSyntax, ScalarSyntax, TagSyntax};
use crate::ids::AccountId;

/// Validates the syntax of the policy or exemptions file at `path`.
pub(super) struct Validator<'a> {
    pub(super) path: &'a str,
}

impl Validator<'_> {
    fn at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            path: self.path.to_owned(),
            line: spanned.referenced.line(),
            message: message.into(),
        }
    }

    /// The file format's version: this sgguard reads version 1.
    pub(super) fn version(&self, version: &Spanned<u32>) -> Result<(), PolicyError> {
        if version.value == 1 {
            return Ok(());
        }
        Err(self.at(
            version,
            format!(
                "`version: {}` is not supported; this sgguard reads version 1",
                version.value
            ),
        ))
    }

    pub(super) fn baseline(&self, file: PolicyFile) -> Result<Baseline, PolicyError> {
        self.version(&file.version)?;
        let mut threshold = Threshold::default();
        let mut combine_rules = true;
        if let Some(internet) = &file.internet {
            if let Some(prefix) = &internet.ipv4_prefix {
                if prefix.value > 32 {
                    return Err(self.at(prefix, "`internet.ipv4_prefix` must be 0-32"));
                }
                threshold.ipv4_prefix = prefix.value;
            }
            if let Some(prefix) = &internet.ipv6_prefix {
                if prefix.value > 128 {
                    return Err(self.at(prefix, "`internet.ipv6_prefix` must be 0-128"));
                }
                threshold.ipv6_prefix = prefix.value;
            }
            combine_rules = internet.combine_rules.unwrap_or(true);
        }
        if file.rules.is_empty() {
            return Err(PolicyError::Semantic {
                path: self.path.to_owned(),
                message: "`rules` is empty: a baseline needs at least one rule".to_owned(),
            });
        }
        let mut rules: Vec<BaselineRule> = Vec::with_capacity(file.rules.len());
        for raw in &file.rules {
            let rule = self.rule(raw, threshold)?;
            if rules.iter().any(|r| r.id == rule.id) {
                return Err(self.at(&raw.id, format!("rule id `{}` is used twice", rule.id)));
            }
            rules.push(rule);
        }
        let exemptions = file
            .exemptions
            .iter()
            .map(|raw| self.exemption(raw, &rules))
            .collect::<Result<Vec<_>, _>>()?;
        let protected = file
            .protected
            .iter()
            .map(|raw| self.protection(raw))
            .collect::<Result<Vec<_>, _>>()?;
        let baseline = Baseline {
            threshold,
            combine_rules,
            rules,
            exemptions,
            protected,
            acknowledged: file.acknowledge.iter().map(|a| a.value).collect(),
        };
        self.refuse_hazards(&baseline, &file)?;
        Ok(baseline)
    }

    /// Refuses a baseline that would revoke what every VPC needs without acknowledging it, and
    /// an acknowledgement of a revocation no rule makes (it would hide a later one).
    fn refuse_hazards(&self, baseline: &Baseline, file: &PolicyFile) -> Result<(), PolicyError> {
        let found = default_group::hazards(baseline);
        for (hazard, rule_ids) in &found {
            if baseline.acknowledged.contains(hazard) {
                continue;
            }
            let first = rule_ids
                .first()
                .and_then(|id| file.rules.iter().find(|r| r.id.value.trim() == id));
            let named = rule_ids
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!(
                "{} {named} would revoke {}; if that is meant, add `acknowledge: [{hazard}]`",
                if rule_ids.len() == 1 { "rule" } else { "rules" },
                hazard.what()
            );
            return Err(match first {
                Some(raw) => self.at(&raw.id, message),
                None => PolicyError::Semantic {
                    path: self.path.to_owned(),
                    message,
                },
            });
        }
        for acknowledged in &file.acknowledge {
            if !found
                .iter()
                .any(|(hazard, _)| *hazard == acknowledged.value)
            {
                return Err(self.at(
                    acknowledged,
                    format!(
                        "`acknowledge: {}`: no rule of this baseline revokes {}; remove it",
                        acknowledged.value,
                        acknowledged.value.what()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn protection(&self, raw: &ProtectionSyntax) -> Result<Protection, PolicyError> {
        let reason = raw.reason.value.trim().to_owned();
        if reason.is_empty() {
            return Err(self.at(&raw.reason, "protected: `reason` is empty"));
        }
        let what = format!("protected `{reason}`");
        if let Some(tag) = raw.tag.as_ref().filter(|t| t.value_is_expiry) {
            return Err(self.at(
                &tag.key,
                format!("{what}: `tag.value_is_expiry` is for exemptions; a protection holds until it is removed"),
            ));
        }
        let scope = self.scope(
            &what,
            &raw.reason,
            &raw.group_ids,
            &raw.account_ids,
            raw.tag.as_ref(),
        )?;
        Ok(Protection { reason, scope })
    }

    /// The groups an exemption or a protection (`what`, for messages) covers: exactly one of
    /// group ids, account ids or a tag.
    fn scope(
        &self,
        what: &str,
        reason: &Spanned<String>,
        group_ids: &[Spanned<String>],
        account_ids: &[Spanned<ScalarSyntax>],
        tag: Option<&TagSyntax>,
    ) -> Result<GroupScope, PolicyError> {
        let scopes = usize::from(!group_ids.is_empty())
            + usize::from(!account_ids.is_empty())
            + usize::from(tag.is_some());
        if scopes != 1 {
            return Err(self.at(
                reason,
                format!("{what}: give exactly one of `group_ids`, `account_ids` or `tag`"),
            ));
        }
        if let Some(tag) = tag {
            if tag.key.value.trim().is_empty() {
                return Err(self.at(&tag.key, format!("{what}: `tag.key` is empty")));
            }
            return Ok(GroupScope::Tag {
                key: tag.key.value.clone(),
                value: tag.value.clone(),
                value_is_expiry: tag.value_is_expiry,
            });
        }
        if !group_ids.is_empty() {
            for id in group_ids {
                if !id.value.starts_with("sg-") {
                    return Err(self.at(
                        id,
                        format!("{what}: `{}` is not a security group id (sg-…)", id.value),
                    ));
                }
            }
            return Ok(GroupScope::Groups(
                group_ids.iter().map(|s| s.value.clone()).collect(),
            ));
        }
        let mut accounts = Vec::with_capacity(account_ids.len());
        for id in account_ids {
            let text = match &id.value {
                ScalarSyntax::Number(n) => format!("{n:012}"),
                ScalarSyntax::Text(t) => t.trim().to_owned(),
            };
            let Ok(account) = text.parse::<AccountId>() else {
                return Err(self.at(
                    id,
                    format!("{what}: `{text}` is not a 12-digit account id (quote it)"),
                ));
            };
            accounts.push(account);
        }
        Ok(GroupScope::Accounts(accounts))
    }

    pub(super) fn exemption(
        &self,
        raw: &ExemptionSyntax,
        rules: &[BaselineRule],
    ) -> Result<Exemption, PolicyError> {
        let reason = raw.reason.value.trim().to_owned();
        if reason.is_empty() {
            return Err(self.at(&raw.reason, "exemption: `reason` is empty"));
        }
        let scope = self.scope(
            &format!("exemption `{reason}`"),
            &raw.reason,
            &raw.group_ids,
            &raw.account_ids,
            raw.tag.as_ref(),
        )?;
        for rule in &raw.rules {
            if !rules.iter().any(|r| r.id == rule.value) {
                return Err(self.at(
                    rule,
                    format!(
                        "exemption `{reason}`: `rules` names `{}`, which is not a rule of this baseline",
                        rule.value
                    ),
                ));
            }
        }
        let expires = match &raw.expires {
            None => None,
            Some(spanned) => Some(parse_date(&spanned.value).ok_or_else(|| {
                self.at(
                    spanned,
                    format!(
                        "exemption `{reason}`: `expires: {}` is not a date like 2027-01-31",
                        spanned.value
                    ),
                )
            })?),
        };
        Ok(Exemption {
            reason,
            scope,
            rules: raw.rules.iter().map(|s| s.value.clone()).collect(),
            expires,
        })
    }
}
