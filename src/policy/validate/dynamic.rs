//! Validation of what only the exemptions file is held to ([`FileLimits`], [`Breadth`]): every
//! entry expires within the maximum, and an account-wide or all-rules entry needs the file's
//! acknowledgement, which must not outlive the last such entry (it would let a later one in
//! unannounced).

use serde_saphyr::Spanned;

use super::Validator;
use crate::policy::baseline::{Exemption, GroupScope, PolicyError};
use crate::policy::breadth::{Breadth, FileLimits};
use crate::policy::syntax::ExemptionSyntax;

impl Validator<'_> {
    /// Holds one entry of the exemptions file to `limits` and the file's acknowledgements.
    pub(in crate::policy) fn dynamic_exemption(
        &self,
        raw: &ExemptionSyntax,
        exemption: &Exemption,
        limits: &FileLimits,
        acknowledged: &[Spanned<Breadth>],
    ) -> Result<(), PolicyError> {
        let reason = &exemption.reason;
        let latest = limits.latest_expiry();
        match (exemption.expires, &raw.expires) {
            (Some(expires), Some(spanned)) if expires > latest => {
                return Err(self.at(
                    spanned,
                    format!(
                        "exemption `{reason}`: `expires: {expires}` is more than {} days ahead; \
                         the latest an exemptions file may name is {latest} \
                         (SGGUARD_EXEMPTIONS_MAX_DAYS)",
                        limits.max_days
                    ),
                ));
            }
            (Some(_), _) => {}
            (None, _) => {
                return Err(self.at(
                    &raw.reason,
                    format!(
                        "exemption `{reason}`: an exemptions file's entries must expire: add \
                         `expires:` (a date no later than {latest}, {} days ahead; \
                         SGGUARD_EXEMPTIONS_MAX_DAYS)",
                        limits.max_days
                    ),
                ));
            }
        }
        for breadth in breadths(exemption) {
            if !acknowledged.iter().any(|a| a.value == breadth) {
                return Err(self.at(
                    &raw.reason,
                    format!(
                        "exemption `{reason}` exempts {}; if that is meant, add \
                         `acknowledge: [{breadth}]` to the file",
                        breadth.what()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Refuses an acknowledgement that no entry of the file needs.
    pub(in crate::policy) fn unneeded_breadth(
        &self,
        exemptions: &[Exemption],
        acknowledged: &[Spanned<Breadth>],
    ) -> Result<(), PolicyError> {
        for spanned in acknowledged {
            if !exemptions
                .iter()
                .any(|e| breadths(e).contains(&spanned.value))
            {
                return Err(self.at(
                    spanned,
                    format!(
                        "`acknowledge: {}`: no entry of this file exempts {}; remove it",
                        spanned.value,
                        spanned.value.what()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// How much wider than some rules of some groups an exemption is.
fn breadths(exemption: &Exemption) -> Vec<Breadth> {
    let mut wide = Vec::new();
    if matches!(exemption.scope, GroupScope::Accounts(_)) {
        wide.push(Breadth::AccountWide);
    }
    if exemption.rules.is_empty() {
        wide.push(Breadth::AllRules);
    }
    wide
}

#[cfg(test)]
mod tests;
