//! The command line: arguments parsed once into a validated configuration, then one
//! `cmd_<subcommand>` module per subcommand. Exit codes are a contract: 0 nothing found,
//! 1 findings, 2 error.

mod cmd_check;
mod cmd_coverage;
mod cmd_handle_event;
mod cmd_policy;
mod cmd_restore;
mod cmd_scan;
mod cmd_sweep;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::outcome::Mode;
pub use crate::outcome::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::policy::Baseline;
use crate::report::Format;
use crate::settings::Settings;
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "sgguard",
    version,
    about = "Self-healing guard for AWS security groups across an AWS Organization",
    long_about = None,
    after_help = "Exit codes: 0 nothing found, 1 findings, 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check CloudTrail events, describe output or Terraform plans offline (no AWS call)
    Check(CheckArgs),
    /// Handle EventBridge/CloudTrail events exactly as the hub Lambda does (revokes in AWS)
    HandleEvent(HandleEventArgs),
    /// Sweep every account and region of the organization (or chosen ones): report, and with
    /// `--remediate` revoke, every rule that breaks the baseline
    Scan(ScanArgs),
    /// For every account × region: is the spoke stack instance current, the forwarding rule
    /// present and enabled, the remediation role assumable? Exit code 1 when something is not
    /// covered
    Coverage(CoverageArgs),
    /// Put back exactly the rules an sgguard message says were revoked (with their
    /// descriptions), through a role that may authorize; optionally exempt them first
    Restore(RestoreArgs),
    /// Run one step of the hub's distributed sweep (plan, one worker batch, summarize) with
    /// the payload its state machine sends, exactly as the hub's functions run it
    Sweep(SweepArgs),
    /// Show, validate and explain baseline policies
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Baseline policy YAML (default: the embedded baseline)
    #[arg(long, value_name = "FILE", env = "SGGUARD_POLICY")]
    pub policy: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Inputs: CloudTrail events or logs (.json, .json.gz), describe-security-group-rules or
    /// describe-security-groups output, Terraform plans (`terraform show -json`); `-` is stdin
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

/// What the commands that act as the hub (`handle-event`, `sweep`) take of its settings.
#[derive(Debug, clap::Args)]
pub struct HubFlags {
    /// `enforce` revokes, `audit` only reports what would be revoked [env: SGGUARD_MODE]
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Baseline policy YAML (default: the embedded baseline)
    #[arg(long, value_name = "FILE", env = "SGGUARD_POLICY")]
    pub policy: Option<PathBuf>,
    /// SNS topic for notifications (default: none)
    #[arg(long, value_name = "ARN", env = "SGGUARD_TOPIC_ARN")]
    pub topic_arn: Option<String>,
    /// Role assumed in member accounts (default: sgguard-remediation)
    #[arg(long, value_name = "NAME", env = "SGGUARD_ROLE_NAME")]
    pub role_name: Option<String>,
}

impl HubFlags {
    /// The settings and baseline these flags and the environment give, and a runtime.
    pub fn setup(&self, more: &[Flag]) -> Result<LiveSetup, u8> {
        let mut flags = vec![
            policy_flag(self.policy.as_deref()),
            ("SGGUARD_TOPIC_ARN", self.topic_arn.clone()),
            ("SGGUARD_ROLE_NAME", self.role_name.clone()),
        ];
        flags.extend_from_slice(more);
        LiveSetup::new(self.mode, &flags)
    }
}

#[derive(Debug, clap::Args)]
pub struct HandleEventArgs {
    #[command(flatten)]
    pub hub: HubFlags,
    /// Event files (EventBridge events or CloudTrail records); `-` is stdin
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

/// The accounts and regions a command covers (`scan`, `coverage`).
#[derive(Debug, clap::Args)]
pub struct ScopeArgs {
    /// `org` (every active account of the organization), `self` (the account of the
    /// credentials) or account ids, comma-separated
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "org",
        value_name = "org|self|ID,..."
    )]
    pub accounts: Vec<String>,
    /// Only the accounts below these organizational units or roots (nested units included)
    #[arg(long, value_delimiter = ',', value_name = "OU_ID,...")]
    pub ou: Vec<String>,
    /// `all` (every region enabled in each account) or region names [env: SGGUARD_REGIONS;
    /// default: all]
    #[arg(long, value_delimiter = ',', value_name = "all|REGION,...")]
    pub regions: Vec<String>,
}

impl ScopeArgs {
    /// The scope the flags name: `--regions` wins over `SGGUARD_REGIONS`; neither means every
    /// enabled region. An error is printed and `Err(EXIT_ERROR)` returned.
    pub fn scope(&self, settings: &Settings) -> Result<crate::enforce::scope::Scope, u8> {
        let regions = if self.regions.is_empty() {
            settings.regions.clone().unwrap_or_default()
        } else {
            self.regions.clone()
        };
        crate::enforce::scope::Scope::parse(&self.accounts, &self.ou, &regions).map_err(|error| {
            print_error(error);
            EXIT_ERROR
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Revoke the violating rules (as the mode says); without it nothing is changed
    #[arg(long)]
    pub remediate: bool,
    /// With `--remediate`: `enforce` revokes, `audit` only reports [env: SGGUARD_MODE]
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Accounts, then account × regions, worked on at once
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Baseline policy YAML (default: the embedded baseline)
    #[arg(long, value_name = "FILE", env = "SGGUARD_POLICY")]
    pub policy: Option<PathBuf>,
    /// Role assumed in member accounts (default: sgguard-remediation)
    #[arg(long, value_name = "NAME", env = "SGGUARD_ROLE_NAME")]
    pub role_name: Option<String>,
    /// Also check each member's spoke stack: the forwarding rule in every region (present,
    /// enabled, sending to the hub bus) and who the remediation role trusts
    /// [env: SGGUARD_HUB_BUS_ARN, SGGUARD_TRUSTED_PRINCIPALS]
    #[arg(long)]
    pub check_spokes: bool,
}

#[derive(Debug, clap::Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The spoke StackSet whose instances are checked (default: instances are not checked)
    #[arg(long, value_name = "NAME", env = "SGGUARD_STACKSET_NAME")]
    pub stack_set: Option<String>,
    /// `SELF` (the management account, default) or `DELEGATED_ADMIN`
    #[arg(
        long,
        value_name = "SELF|DELEGATED_ADMIN",
        env = "SGGUARD_STACKSET_CALL_AS"
    )]
    pub call_as: Option<String>,
    /// Role assumed in member accounts (the read-only audit role will do; default:
    /// sgguard-remediation)
    #[arg(long, value_name = "NAME", env = "SGGUARD_ROLE_NAME")]
    pub role_name: Option<String>,
    /// Output format (`table` or `json`)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The JSON document of an sgguard message (the inbox's JSON, the EventBridge event or a
    /// sweep report); `-` for standard input
    #[arg(long, value_name = "FILE")]
    pub message: String,
    /// Only this rule of the message (repeatable); default: every revoked rule in it
    #[arg(long = "rule", value_name = "RULE_ID")]
    pub rules: Vec<String>,
    /// The role assumed in the rule's account: one that may authorize security-group rules
    /// (the remediation role only revokes)
    #[arg(long, value_name = "NAME")]
    pub role_name: String,
    /// Then add an exemption of each group for the restored rules' baseline rules, until this
    /// many days from today, to the exemptions file (SGGUARD_EXEMPTIONS_URI)
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u16).range(1..=365))]
    pub exempt_days: Option<u16>,
    /// The exemption's reason (a change or ticket number)
    #[arg(long, value_name = "TEXT", requires = "exempt_days")]
    pub reason: Option<String>,
    /// Baseline policy YAML the exemption is validated against
    #[arg(long, value_name = "FILE", env = "SGGUARD_POLICY")]
    pub policy: Option<PathBuf>,
    /// The hub has no state table: you checked in the member's CloudTrail that sgguard's
    /// remediation role revoked each rule (refused when SGGUARD_STATE_TABLE is set)
    #[arg(long)]
    pub without_journal: bool,
}

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The step the payload is for
    #[arg(value_enum)]
    pub step: SweepStep,
    /// The step's payload (JSON, as the hub's state machine sends it); `-` is stdin
    #[arg(value_name = "PAYLOAD")]
    pub payload: String,
    /// The bucket the steps keep the plan's items and the workers' parts in
    #[arg(long, value_name = "BUCKET", env = "SGGUARD_REPORT_BUCKET")]
    pub report_bucket: Option<String>,
    #[command(flatten)]
    pub hub: HubFlags,
}

/// A step of the distributed sweep, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SweepStep {
    /// `{"sgguard": "sweep-plan", ...}`: list the accounts into the bucket
    Plan,
    /// `{"BatchInput": {"sgguard": "sweep-worker", ...}, "Items": [...]}`: sweep one batch
    Worker,
    /// `{"sgguard": "sweep-summarize", ...}`: merge the parts, store and tell one report
    Summarize,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the embedded default baseline
    Show,
    /// Validate a policy file and check every rule's examples
    Validate {
        /// Policy YAML
        file: PathBuf,
        /// Also validate an exemptions file (`version: 1`, `exemptions:`) against this policy,
        /// as the hub does before it uses one (`SGGUARD_EXEMPTIONS_URI`)
        #[arg(long, value_name = "FILE")]
        exemptions: Option<PathBuf>,
        /// How many days ahead the exemptions file's entries may expire, as the hub holds them
        #[arg(
            long,
            value_name = "DAYS",
            env = "SGGUARD_EXEMPTIONS_MAX_DAYS",
            default_value_t = crate::policy::DEFAULT_MAX_DAYS,
            value_parser = clap::value_parser!(u16).range(1..=i64::from(crate::policy::MOST_MAX_DAYS))
        )]
        max_days: u16,
    },
    /// Evaluate example rules (`tcp 22 from 0.0.0.0/0`) and explain the verdict
    Explain {
        /// Baseline policy YAML (default: the embedded baseline)
        #[arg(long, value_name = "FILE", env = "SGGUARD_POLICY")]
        policy: Option<PathBuf>,
        /// The example group's id, for exemptions and protected groups by id
        #[arg(long, value_name = "ID", default_value = crate::policy::EXAMPLE_GROUP)]
        group: String,
        /// A tag of the example group (repeatable), for exemptions and protected groups by tag
        #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
        tags: Vec<(String, String)>,
        /// The account of the example group: tells the mode it is guarded in (staged
        /// enforcement, `SGGUARD_MODE` and `SGGUARD_MODE_BY_SCOPE`; not read from S3) and plans
        /// with it
        #[arg(long, value_name = "ID")]
        account: Option<crate::ids::AccountId>,
        /// The organizational units above the account, nearest first, then the root (what
        /// Organizations would say; repeatable)
        #[arg(long = "unit", value_name = "OU_ID", requires = "account")]
        units: Vec<crate::ids::OuId>,
        /// Rules of one group, e.g. `tcp 22 from 0.0.0.0/1 + 128.0.0.0/1` or
        /// `all from 0.0.0.0/1; egress tcp 443 to ::/0`
        #[arg(required = true)]
        examples: Vec<String>,
    },
}

/// `KEY=VALUE` (or `KEY` alone, an empty value) as a tag.
fn parse_tag(text: &str) -> Result<(String, String), String> {
    let (key, value) = text.split_once('=').unwrap_or((text, ""));
    if key.trim().is_empty() {
        return Err(format!("`{text}` is not a tag like `KEY=VALUE`"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// A command-line value by the variable it overrides: validated as that variable is.
pub type Flag = (&'static str, Option<String>);

/// `--policy` as the flag of `SGGUARD_POLICY`.
pub fn policy_flag(policy: Option<&std::path::Path>) -> Flag {
    ("SGGUARD_POLICY", policy.map(|p| p.display().to_string()))
}

/// The settings from the environment with the flags in place of their variables (one
/// validation for both), and the baseline they name; an error is printed and
/// `Err(EXIT_ERROR)` returned, before any work starts.
pub fn configure(mode: Option<Mode>, flags: &[Flag]) -> Result<(Settings, Baseline), u8> {
    let mut settings = Settings::with_flags(flags).map_err(|error| {
        print_error(error);
        EXIT_ERROR
    })?;
    // `--mode` sets the default; `--mode audit` also sets the scopes aside (not read from S3
    // either), so that it always means nothing is revoked. Scopes that audit accounts still hold under `--mode enforce`.
    if let Some(mode) = mode {
        settings.mode = mode;
        if mode == Mode::Audit {
            settings.mode_by_scope = crate::enforce::staging::ModeByScope::default();
        }
    }
    let baseline = Baseline::load_or_default(settings.policy.as_deref()).map_err(|error| {
        print_error(error);
        EXIT_ERROR
    })?;
    Ok((settings, baseline))
}

/// The role the command reaches accounts through: `--role-name` (validated as
/// `SGGUARD_ROLE_NAME` is), else the remediation role; an error is printed and
/// `Err(EXIT_ERROR)` returned.
pub fn reach_role(flag: Option<&str>, settings: &Settings) -> Result<String, u8> {
    match flag {
        None => Ok(settings.role_name.clone()),
        Some(name) => crate::settings::role_name("--role-name", name.to_owned()).map_err(|error| {
            print_error(error);
            EXIT_ERROR
        }),
    }
}

/// What the commands that call AWS (`handle-event`, `scan`) start from: the settings (the
/// environment with the flags' overrides), the baseline, and an async runtime.
pub struct LiveSetup {
    pub settings: Settings,
    pub baseline: Baseline,
    pub runtime: tokio::runtime::Runtime,
}

impl LiveSetup {
    /// Reads the environment, applies the flags and loads the baseline; an error is printed
    /// and `Err(EXIT_ERROR)` returned, before any AWS call.
    pub fn new(mode: Option<Mode>, flags: &[Flag]) -> Result<LiveSetup, u8> {
        telemetry::init(LogFormat::Text, &crate::settings::log_filter("warn"));
        let (settings, baseline) = configure(mode, flags)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|error| {
                print_error(format!("cannot start the async runtime: {error}"));
                EXIT_ERROR
            })?;
        Ok(LiveSetup {
            settings,
            baseline,
            runtime,
        })
    }
}

/// The baseline with the exemptions file's entries (`SGGUARD_EXEMPTIONS_URI`), read once: a
/// file that cannot be read or does not validate is an error (nothing is done with a partial
/// picture of what is exempt).
pub async fn with_exemptions(
    aws: &crate::aws::Aws,
    settings: &Settings,
    baseline: Baseline,
) -> Result<Baseline, String> {
    let Some(uri) = &settings.exemptions_uri else {
        return Ok(baseline);
    };
    let fetched = aws
        .object_text(uri)
        .await
        .map_err(|e| format!("cannot read the exemptions file: {e}"))?;
    let limits = crate::policy::FileLimits::today(settings.exemptions_max_days);
    baseline
        .with_exemptions_file(&fetched.text, &uri.to_string(), &limits)
        .map_err(|e| e.to_string())
}

/// Prints an error the way every subcommand does.
pub fn print_error(message: impl std::fmt::Display) {
    eprintln!("sgguard: error: {message}");
}

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(run(cli))
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Check(args) => cmd_check::run(&args),
        Command::HandleEvent(args) => cmd_handle_event::run(&args),
        Command::Scan(args) => cmd_scan::run(&args),
        Command::Coverage(args) => cmd_coverage::run(&args),
        Command::Restore(args) => cmd_restore::run(&args),
        Command::Sweep(args) => cmd_sweep::run(&args),
        Command::Policy(command) => cmd_policy::run(command),
    }
}
