//! `sgguard scan`: the organization sweep from the command line, with a progress bar on a
//! terminal and a per-account summary.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{EXIT_ERROR, LiveSetup, ScanArgs, policy_flag, print_error};
use crate::aws::Aws;
use crate::enforce::sweep::Sweep;
use crate::finding::{Report, ReportError};
use crate::outcome::{SweepReport, exit_code};
use crate::report::{self, Format};

pub fn run(args: &ScanArgs) -> u8 {
    // `--role-name` is only how the accounts are reached (the read-only audit role, say): the
    // settings keep the deployed remediation role (`SGGUARD_ROLE_NAME`), whose trust the tamper
    // check judges.
    let LiveSetup {
        settings,
        baseline,
        runtime,
    } = match LiveSetup::new(args.mode, &[policy_flag(args.policy.as_deref())]) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    // A role other than the remediation role (the read-only audit role) is for reading: a
    // scan through it never revokes, and asking it to is an error before any AWS call.
    if args.remediate
        && let Some(role) = args.role_name.as_deref()
        && role != settings.role_name
    {
        print_error(format!(
            "`--remediate` revokes through the remediation role `{}`; `--role-name {role}` is \
             for reading (a scan through it reports, and never revokes)",
            settings.role_name
        ));
        return EXIT_ERROR;
    }
    let scope = match args.scope.scope(&settings) {
        Ok(scope) => scope,
        Err(code) => return code,
    };
    let reach = match super::reach_role(args.role_name.as_deref(), &settings) {
        Ok(role) => role,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let aws = Aws::from_env(&reach).await.map_err(|e| e.to_string())?;
        let baseline = super::with_exemptions(&aws, &settings, baseline.clone()).await?;
        let staging = settings
            .checked_staging(&aws)
            .await
            .map_err(|e| e.to_string())?;
        let state = settings.hub_state(&aws);
        let check = args.check_spokes.then(|| settings.tamper_check(&aws));
        let sweep = Sweep::new(&*aws, &baseline, &state)
            .staging(staging)
            .remediate(args.remediate)
            .concurrency(usize::from(args.concurrency))
            .progress(progress_bar())
            .tamper(check.as_ref())
            .context_tags(settings.outputs.context_tags.clone());
        sweep.run(&scope).await.map_err(|e| e.to_string())
    });
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            print_error(error);
            return EXIT_ERROR;
        }
    };
    for error in &report.errors {
        print_error(error);
    }
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    if let Err(error) = write(&mut stdout, &report, args.format, &baseline) {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            print_error(format!("cannot write the report: {error}"));
        }
        return EXIT_ERROR;
    }
    // A coverage gap is found as a finding is (`sgguard coverage` exits 1 for one too).
    exit_code(
        report.incomplete(),
        report.totals.counts.findings + report.totals.coverage_gaps,
    )
}

/// Account × regions done, on stderr when it is a terminal; hidden otherwise.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} sweeping [{bar:30}] {pos}/{len} account-regions, {msg} ({elapsed})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn write(
    out: &mut dyn Write,
    report: &SweepReport,
    format: Format,
    baseline: &crate::policy::Baseline,
) -> std::io::Result<()> {
    match format {
        Format::Table => out.write_all(report::sweep_table(report).as_bytes())?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")?;
        }
        Format::Sarif => {
            let findings = Report {
                version: 1,
                rules_evaluated: report.rules_evaluated,
                findings: report.findings.iter().map(|f| f.finding.clone()).collect(),
                errors: report
                    .errors
                    .iter()
                    .map(|error| ReportError {
                        source: "sweep".to_owned(),
                        error: error.clone(),
                    })
                    .collect(),
            };
            return report::write(out, &findings, Format::Sarif, baseline);
        }
    }
    out.flush()
}
