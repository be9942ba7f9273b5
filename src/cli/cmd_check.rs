//! `sgguard check`: offline evaluation of events, describe output and Terraform plans.

use super::{CheckArgs, EXIT_ERROR, configure, policy_flag, print_error};
use crate::enforce::plan;
use crate::finding::{Report, ReportError};
use crate::input;
use crate::outcome::{Mode, exit_code};
use crate::policy::Evaluator;
use crate::report;

pub fn run(args: &CheckArgs) -> u8 {
    let baseline = match configure(None, &[policy_flag(args.policy.as_deref())]) {
        Ok((_, baseline)) => baseline,
        Err(code) => return code,
    };
    let evaluator = Evaluator::new(&baseline, Evaluator::today_utc());
    let mut report = Report {
        version: 1,
        rules_evaluated: 0,
        findings: Vec::new(),
        errors: Vec::new(),
    };
    for path in &args.paths {
        match input::load(path) {
            Ok(document) => {
                for note in input::event_notes(&document) {
                    eprintln!("sgguard: note: {note}");
                }
                report.rules_evaluated += document.rules.len();
                let mut findings =
                    evaluator.evaluate_rules(&document.rules, |rule| document.tags_of(rule));
                for finding in &mut findings {
                    finding.source = Some(document.source.clone());
                }
                report.findings.extend(findings);
            }
            Err(error) => {
                print_error(&error);
                report.errors.push(ReportError {
                    source: path.clone(),
                    error: error.to_string(),
                });
            }
        }
    }
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    if let Err(error) = report::write(&mut stdout, &report, args.format, &baseline) {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            print_error(format!("cannot write the report: {error}"));
        }
        return EXIT_ERROR;
    }
    // Offline nothing is revoked: a finding is open as it would be in audit mode.
    let open = report
        .findings
        .iter()
        .filter(|f| plan(f, Mode::Audit).is_open())
        .count();
    exit_code(!report.errors.is_empty(), open)
}
