//! Loading a baseline: the embedded default, a policy file or its YAML text, and an exemptions
//! file added to a loaded baseline. Each is parsed as written, then validated.

use std::path::Path;

use super::baseline::{Baseline, Exemption, MAX_POLICY_BYTES, PolicyError};
use super::breadth::FileLimits;
use super::syntax::{ExemptionsFile, PolicyFile};
use super::validate::Validator;

/// The default baseline, embedded in the binary (`sgguard policy show`).
pub const DEFAULT_BASELINE_YAML: &str = include_str!("default.yaml");

impl Baseline {
    /// The embedded default baseline.
    pub fn default_baseline() -> Result<Baseline, PolicyError> {
        Baseline::from_yaml(DEFAULT_BASELINE_YAML, "<embedded default baseline>")
    }

    /// The baseline at `path`, or the embedded default when none is given: what every face
    /// runs with.
    pub fn load_or_default(path: Option<&Path>) -> Result<Baseline, PolicyError> {
        match path {
            Some(path) => Baseline::load(path),
            None => Baseline::default_baseline(),
        }
    }

    /// Reads and validates a policy file.
    pub fn load(path: &Path) -> Result<Baseline, PolicyError> {
        let shown = path.display().to_string();
        let metadata = std::fs::metadata(path).map_err(|source| PolicyError::Read {
            path: shown.clone(),
            source,
        })?;
        if metadata.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge { path: shown });
        }
        let bytes = std::fs::read(path).map_err(|source| PolicyError::Read {
            path: shown.clone(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| PolicyError::Syntax {
            path: shown.clone(),
            message: "the file is not UTF-8 text".to_owned(),
        })?;
        Baseline::from_yaml(&text, &shown)
    }

    /// Validates policy YAML; `path` names it in errors. A baseline whose rules would revoke
    /// what every VPC needs ([`Hazard`](super::Hazard)) is refused unless it acknowledges that.
    pub fn from_yaml(text: &str, path: &str) -> Result<Baseline, PolicyError> {
        let file: PolicyFile = parse(text, path, "a policy needs `version: 1` and `rules`")?;
        Validator { path }.baseline(file)
    }

    /// This baseline with the exemptions of an exemptions file (`version: 1`, `exemptions:`,
    /// `acknowledge:`) added, each validated as the baseline's own are (rule ids must be this
    /// baseline's) and held to `limits`: every entry expires within them, and an account-wide or
    /// all-rules entry needs the file's acknowledgement. `path` names the file in errors.
    pub fn with_exemptions_file(
        &self,
        text: &str,
        path: &str,
        limits: &FileLimits,
    ) -> Result<Baseline, PolicyError> {
        let mut baseline = self.clone();
        baseline
            .exemptions
            .extend(self.exemptions_file_entries(text, path, Some(limits))?);
        Ok(baseline)
    }

    /// The entries of an exemptions file, validated against this baseline's rules and, when
    /// `limits` are given, held to them ([`with_exemptions_file`](Self::with_exemptions_file)).
    /// Without limits only a file that was once in use is read this way: to tell what changed
    /// since it.
    pub fn exemptions_file_entries(
        &self,
        text: &str,
        path: &str,
        limits: Option<&FileLimits>,
    ) -> Result<Vec<Exemption>, PolicyError> {
        if text.len() as u64 > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge {
                path: path.to_owned(),
            });
        }
        let file: ExemptionsFile = parse(
            text,
            path,
            "an exemptions file needs `version: 1` and `exemptions`",
        )?;
        let validator = Validator { path };
        validator.version(&file.version)?;
        let mut entries = Vec::with_capacity(file.exemptions.len());
        for raw in &file.exemptions {
            let exemption = validator.exemption(raw, &self.rules)?;
            if let Some(limits) = limits {
                validator.dynamic_exemption(raw, &exemption, limits, &file.acknowledge)?;
            }
            entries.push(exemption);
        }
        if limits.is_some() {
            validator.unneeded_breadth(&entries, &file.acknowledge)?;
        }
        Ok(entries)
    }
}

/// The YAML of a policy or exemptions file, as written; `needs` says what an empty file lacks.
fn parse<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &str,
    needs: &str,
) -> Result<T, PolicyError> {
    if text.trim().is_empty() {
        return Err(PolicyError::Syntax {
            path: path.to_owned(),
            message: format!("the file is empty; {needs}"),
        });
    }
    serde_saphyr::from_str(text).map_err(|error| PolicyError::Syntax {
        path: path.to_owned(),
        message: error.to_string().replace("<input>", path),
    })
}
