//! README.md stays true: every `$ sgguard …` line in its console blocks is run, its shown
//! output compared, and its exit code checked against the `# exit N` line after it.

use assert_cmd::Command;
use clap::Parser as _;

use crate::readme_commands::{aws_call, readme, sh_commands, words};

struct Example {
    args: Vec<String>,
    shown: Vec<String>,
    exit: i32,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut in_console = false;
    let mut current: Option<Example> = None;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_console = line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ sgguard ") {
            assert!(
                current.is_none(),
                "`{line}` follows a command without `# exit`"
            );
            current = Some(Example {
                args: words(command),
                shown: Vec::new(),
                exit: -1,
            });
        } else if let Some(code) = line.strip_prefix("# exit ") {
            let mut example = current.take().expect("`# exit` without a command");
            example.exit = code.trim().parse().unwrap();
            out.push(example);
        } else if let Some(example) = current.as_mut() {
            example.shown.push(line.to_owned());
        }
    }
    assert!(current.is_none(), "a README command has no `# exit` line");
    out
}

#[test]
fn every_readme_command_runs_as_shown() {
    let examples = examples(&readme());
    assert!(
        examples.len() >= 6,
        "only {} README commands found",
        examples.len()
    );
    for example in examples {
        let output = Command::cargo_bin("sgguard")
            .unwrap()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("SGGUARD_POLICY")
            .args(&example.args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(example.exit),
            "`sgguard {}`: {}",
            example.args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        if !example.shown.is_empty() {
            let actual: Vec<&str> = stdout.lines().collect();
            assert_eq!(
                actual,
                example.shown,
                "`sgguard {}` output",
                example.args.join(" ")
            );
        }
    }
}

/// The commands in README.md's `sh` blocks that `make test` cannot run (they need AWS or take
/// long): each `sgguard …` line must parse with the CLI's own parser (every flag and value
/// exists), each `make …` line must name a target of the Makefile, each `terraform -chdir=DIR`
/// line a directory of Terraform files here, and each `aws …` line must read `aws SERVICE
/// OPERATION --option …` as the AWS CLI spells them (`aws s3` only with its file commands). That
/// the operation and its options exist in the AWS API model is checked against botocore's
/// models, which come with the venv, by the emulator binary (`tests/emulator/readme_aws.rs`).
#[test]
fn every_other_readme_command_is_real() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = readme();
    let makefile = std::fs::read_to_string(format!("{root}/Makefile")).unwrap();
    let targets: Vec<&str> = makefile
        .lines()
        .filter_map(|l| l.split_once(':').map(|(t, _)| t))
        .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .collect();
    let (mut sgguard, mut make, mut terraform, mut aws) = (0, 0, 0, 0);
    for command in sh_commands(&readme) {
        let command = command.as_str();
        if command.starts_with("sgguard ") {
            let args = words(command);
            if let Err(error) = sgguard::cli::Cli::try_parse_from(&args) {
                panic!("README: `{command}` does not parse: {error}");
            }
            sgguard += 1;
        } else if let Some(rest) = command.strip_prefix("make ") {
            let target = rest.split_whitespace().next().unwrap_or_default();
            assert!(
                targets.contains(&target),
                "README: `{command}`: no target `{target}` in the Makefile"
            );
            make += 1;
        } else if let Some(rest) = command.strip_prefix("terraform ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let dir = words
                .first()
                .and_then(|w| w.strip_prefix("-chdir="))
                .unwrap_or_else(|| panic!("README: `{command}`: say where with -chdir=DIR"));
            let tf = std::fs::read_dir(format!("{root}/{dir}"))
                .unwrap_or_else(|e| panic!("README: `{command}`: `{dir}`: {e}"))
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "tf"));
            assert!(tf, "README: `{command}`: no .tf file in `{dir}`");
            let sub = words.get(1).copied().unwrap_or_default();
            assert!(
                [
                    "init", "plan", "apply", "output", "destroy", "fmt", "validate"
                ]
                .contains(&sub),
                "README: `{command}`: `{sub}` is not a terraform command used here"
            );
            terraform += 1;
        } else if command.starts_with("aws ") {
            if let Some(call) = aws_call(command) {
                let spelled = [&call.service, &call.operation]
                    .into_iter()
                    .chain(&call.options)
                    .all(|word| cli_spelling(word));
                assert!(spelled, "README: `{command}`: not as the AWS CLI spells it");
            }
            aws += 1;
        }
    }
    assert!(
        sgguard >= 4 && make >= 3 && terraform >= 3 && aws >= 4,
        "{sgguard} sgguard, {make} make, {terraform} terraform and {aws} aws lines found"
    );
}

/// A service, operation or option as the AWS CLI spells it: lowercase words (and digits) joined
/// by `-`.
fn cli_spelling(word: &str) -> bool {
    !word.is_empty()
        && word.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// The release the binary says it is (`sgguard --version`, the Lambda's ready log) is the
/// newest one CHANGELOG.md describes.
#[test]
fn the_changelog_describes_the_version_cargo_builds() {
    let changelog =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/CHANGELOG.md")).unwrap();
    let newest = changelog
        .lines()
        .find_map(|line| line.strip_prefix("## "))
        .and_then(|heading| heading.split_whitespace().next())
        .unwrap();
    assert_eq!(newest, env!("CARGO_PKG_VERSION"));
    let license = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/LICENSE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0"));
}
