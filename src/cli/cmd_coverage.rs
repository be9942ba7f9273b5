//! `sgguard coverage`: which account × regions a change reaches sgguard from, and which not.

use std::fmt::Write as _;
use std::io::Write;

use super::{CoverageArgs, EXIT_ERROR, LiveSetup, print_error};
use crate::aws::Aws;
use crate::enforce::coverage::{Coverage, CoverageCheck, RoleCheck, StackSet, accounts_in};
use crate::outcome::exit_code;
use crate::report::Format;

pub fn run(args: &CoverageArgs) -> u8 {
    let LiveSetup {
        settings, runtime, ..
    } = match LiveSetup::new(
        None,
        &[
            ("SGGUARD_STACKSET_NAME", args.stack_set.clone()),
            ("SGGUARD_STACKSET_CALL_AS", args.call_as.clone()),
        ],
    ) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    if args.format == Format::Sarif {
        print_error("coverage is written as `table` or `json`, not `sarif`");
        return EXIT_ERROR;
    }
    let scope = match args.scope.scope(&settings) {
        Ok(scope) => scope,
        Err(code) => return code,
    };
    let stack_set = settings.stackset_name.clone().map(|name| StackSet {
        name,
        call_as: settings.stackset_call_as.clone(),
    });
    let reach = match super::reach_role(args.role_name.as_deref(), &settings) {
        Ok(role) => role,
        Err(code) => return code,
    };
    // Through the remediation role, assuming it is the check; through another (the read-only
    // audit role, which the hub's operators may assume), the remediation role is read instead.
    let role_check = if reach == settings.role_name {
        RoleCheck::Assume
    } else {
        RoleCheck::ReadThrough
    };
    let result = runtime.block_on(async {
        let aws = Aws::from_env(&reach).await.map_err(|e| e.to_string())?;
        let mut tamper = settings.tamper_check(&aws);
        if role_check == RoleCheck::ReadThrough {
            // The caller is not the hub's Lambda role: the hub's principals are only those named.
            tamper.trusted = settings.trusted_principals.clone();
            if tamper.trusted.is_empty() {
                eprintln!(
                    "sgguard: note: the accounts are reached through `{reach}`: the remediation \
                     role `{}` is checked to be there, but not whom it trusts; set \
                     SGGUARD_TRUSTED_PRINCIPALS to the hub's Lambda role ARN (the hub's output \
                     `lambda_role_arn`) to check that too",
                    settings.role_name
                );
            }
        }
        let accounts = accounts_in(&*aws, &scope)
            .await
            .map_err(|e| e.to_string())?;
        CoverageCheck {
            hub: &*aws,
            stack_set: stack_set.as_ref(),
            tamper: &tamper,
            accounts,
            swept: None,
            role_check,
        }
        .run(&scope)
        .await
        .map_err(|e| e.to_string())
    });
    let coverage = match result {
        Ok(coverage) => coverage,
        Err(error) => {
            print_error(error);
            return EXIT_ERROR;
        }
    };
    for error in &coverage.errors {
        print_error(error);
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&coverage).unwrap_or_default() + "\n",
        _ => table(&coverage),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(text.as_bytes()).is_err() {
        return EXIT_ERROR;
    }
    exit_code(!coverage.errors.is_empty(), coverage.not_covered)
}

/// One line per account × region, then what is not covered and why.
pub fn table(coverage: &Coverage) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<16} {:<22} {:<18} {:<14} COVERED",
        "ACCOUNT", "REGION", "STACK INSTANCE", "FORWARDING RULE", "ROLE"
    );
    for p in &coverage.places {
        let covered = match (&p.skipped, p.covered) {
            (Some(why), _) => format!("skipped: {why}"),
            (None, true) => "yes".to_owned(),
            (None, false) => "NO".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<14} {:<16} {:<22} {:<18} {:<14} {covered}",
            p.account_id, p.region, p.stack, p.rule, p.role
        );
    }
    let uncovered: Vec<_> = coverage.uncovered().collect();
    if !uncovered.is_empty() {
        out.push_str("\nNot covered:\n");
        for p in uncovered {
            for problem in &p.problems {
                let _ = writeln!(out, "- {} {}: {problem}", p.account_id, p.region);
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{}{}",
        coverage.headline(),
        match &coverage.stack_set {
            Some(name) => format!(" (StackSet `{name}`)"),
            None => " (stack instances not checked: no --stack-set)".to_owned(),
        }
    );
    out
}
