//! `sgguard policy show|validate|explain`: the baseline documents and tests itself.

use super::{EXIT_CLEAN, EXIT_ERROR, PolicyCommand, configure, policy_flag, print_error};
use crate::enforce::plan;
use crate::finding::{Report, Tags};
use crate::ids::{AccountId, OuId};
use crate::outcome::{Mode, Outcome, exit_code};
use crate::policy::{
    Baseline, DEFAULT_BASELINE_YAML, Evaluator, Example, FileLimits, check_examples,
};
use crate::report;

pub fn run(command: PolicyCommand) -> u8 {
    match command {
        PolicyCommand::Show => {
            print!("{DEFAULT_BASELINE_YAML}");
            EXIT_CLEAN
        }
        PolicyCommand::Validate {
            file,
            exemptions,
            max_days,
        } => validate(&file, exemptions.as_deref(), max_days),
        PolicyCommand::Explain {
            policy,
            group,
            tags,
            account,
            units,
            examples,
        } => explain(
            policy.as_deref(),
            &group,
            tags,
            account.as_ref().map(|a| (a, units.as_slice())),
            &examples,
        ),
    }
}

fn validate(file: &std::path::Path, exemptions: Option<&std::path::Path>, max_days: u16) -> u8 {
    let mut baseline = match Baseline::load(file) {
        Ok(baseline) => baseline,
        Err(error) => {
            print_error(error);
            return EXIT_ERROR;
        }
    };
    if let Some(path) = exemptions {
        let own = baseline.exemptions.len();
        let shown = path.display().to_string();
        let loaded = std::fs::read(path)
            .map_err(|e| format!("cannot read exemptions file `{shown}`: {e}"))
            .and_then(|bytes| {
                String::from_utf8(bytes)
                    .map_err(|_| format!("exemptions file `{shown}` is not UTF-8 text"))
            })
            .and_then(|text| {
                baseline
                    .with_exemptions_file(&text, &shown, &FileLimits::today(max_days))
                    .map_err(|e| e.to_string())
            });
        match loaded {
            Ok(with) => {
                println!(
                    "exemptions file `{shown}` is valid: {} exemptions",
                    with.exemptions.len() - own
                );
                baseline = with;
            }
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        }
    }
    let failures = check_examples(&baseline);
    let examples: usize = baseline
        .rules
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    if failures.is_empty() {
        let acknowledged = if baseline.acknowledged.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = baseline
                .acknowledged
                .iter()
                .map(|h| h.to_string())
                .collect();
            format!("; acknowledged: {}", names.join(", "))
        };
        println!(
            "policy `{}` is valid: {} rules, {} exemptions, {} protected, {examples} examples \
             checked{acknowledged}",
            file.display(),
            baseline.rules.len(),
            baseline.exemptions.len(),
            baseline.protected.len()
        );
        EXIT_CLEAN
    } else {
        for failure in &failures {
            print_error(format!("policy file `{}`: {failure}", file.display()));
        }
        EXIT_ERROR
    }
}

/// `policy explain` reads nothing from AWS, so not a mode per scope kept in S3.
const STORED_SCOPES: &str = "`SGGUARD_MODE_BY_SCOPE_URI` is set, and `policy explain` reads \
    nothing from AWS: unset it and give the object's map in `SGGUARD_MODE_BY_SCOPE` \
    (SGGUARD_MODE_BY_SCOPE=\"$(aws s3 cp s3://BUCKET/config/mode-by-scope.json -)\")";

fn explain(
    policy: Option<&std::path::Path>,
    group: &str,
    tags: Vec<(String, String)>,
    account: Option<(&AccountId, &[OuId])>,
    examples: &[String],
) -> u8 {
    let (settings, baseline) = match configure(None, &[policy_flag(policy)]) {
        Ok(configured) => configured,
        Err(code) => return code,
    };
    // The account's mode, as the hub resolves it (its units as given, not asked of AWS).
    let mode = match account {
        None => None,
        Some((id, units)) => {
            let units: Vec<String> = units.iter().map(OuId::to_string).collect();
            let Some(staging) = settings.inline_staging() else {
                print_error(STORED_SCOPES);
                return EXIT_ERROR;
            };
            let resolved = staging.resolve(id.as_str(), Ok(&units));
            println!(
                "account {id} is guarded in {} mode (set by {})",
                resolved.mode, resolved.by
            );
            Some(resolved.mode)
        }
    };
    let text = examples.join("; ");
    let mut example = match Example::parse(&text) {
        Ok(example) => example,
        Err(error) => {
            print_error(error);
            return EXIT_ERROR;
        }
    };
    for rule in &mut example.rules {
        rule.group_id = Some(group.to_owned());
    }
    let tags: Tags = tags.into_iter().collect();
    let evaluator = Evaluator::new(&baseline, Evaluator::today_utc());
    let findings = evaluator.evaluate_group(&example.rules, &tags);
    let open = findings
        .iter()
        .filter(|f| plan(f, Mode::Audit).is_open())
        .count();
    let report = Report {
        version: 1,
        rules_evaluated: example.rules.len(),
        findings,
        errors: Vec::new(),
    };
    print!("{}", report::table(&report));
    for finding in &report.findings {
        for violation in &finding.violations {
            if let Some(rule) = baseline.rule(&violation.policy_rule) {
                println!(
                    "  {} [{} {}]: {}; {}",
                    rule.id, rule.severity, rule.action, rule.title, violation.reason
                );
            }
        }
        if let Some(mode) = mode {
            println!("  in this account ({mode} mode): {}", plan(finding, mode));
        }
        if let Some(protection) = &finding.protected
            && plan(finding, Mode::Enforce) == Outcome::Protected
        {
            println!(
                "  protected ({}): {}; reported, not revoked",
                protection.matched, protection.reason
            );
        }
    }
    exit_code(false, open)
}
