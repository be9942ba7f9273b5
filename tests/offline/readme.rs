//! README.md stays true: every `$ sgguard …` line in its console blocks is run, its shown
//! output compared, and its exit code checked against the `# exit N` line after it.

use assert_cmd::Command;
use clap::Parser as _;

struct Example {
    args: Vec<String>,
    shown: Vec<String>,
    exit: i32,
}

/// Splits a command line on spaces, keeping double-quoted words whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
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
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let examples = examples(&readme);
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
/// line a directory of Terraform files here, and each `aws SERVICE OPERATION --option …` line an
/// operation of the service and options of its input in the AWS API model (botocore's, from the
/// venv `make test` builds; without it only the form is checked).
#[test]
fn every_other_readme_command_is_real() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let makefile = std::fs::read_to_string(format!("{root}/Makefile")).unwrap();
    let targets: Vec<&str> = makefile
        .lines()
        .filter_map(|l| l.split_once(':').map(|(t, _)| t))
        .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .collect();
    let models = botocore_data();
    let mut in_sh = false;
    let (mut sgguard, mut make, mut terraform, mut aws) = (0, 0, 0, 0);
    for line in readme.lines() {
        // Fences inside list items are indented.
        let line = line.trim_start();
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        // Drop a trailing comment and a redirection.
        let command = line.split("  #").next().unwrap_or(line);
        let command = command.split(" >").next().unwrap_or(command).trim();
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
        } else if let Some(rest) = command.strip_prefix("aws ") {
            check_aws(command, &words(rest), models.as_deref());
            aws += 1;
        }
    }
    assert!(
        sgguard >= 4 && make >= 3 && terraform >= 3 && aws >= 4,
        "{sgguard} sgguard, {make} make, {terraform} terraform and {aws} aws lines found"
    );
}

/// botocore's API models (`…/site-packages/botocore/data`) in the venv, when it is there.
fn botocore_data() -> Option<std::path::PathBuf> {
    let venv = std::env::var("VENV").unwrap_or_else(|_| "/var/tmp/sgguard-venv".to_owned());
    let lib = std::fs::read_dir(format!("{venv}/lib")).ok()?;
    lib.filter_map(Result::ok)
        .map(|python| python.path().join("site-packages/botocore/data"))
        .find(|data| data.is_dir())
}

/// `ActivateOrganizationsAccess` and `activate-organizations-access` alike.
fn squashed(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// `aws SERVICE OPERATION --option value …`: the operation and its options exist.
fn check_aws(command: &str, words: &[String], models: Option<&std::path::Path>) {
    let [service, operation, options @ ..] = words else {
        panic!("README: `{command}`: expected `aws SERVICE OPERATION`");
    };
    // The CLI's own file commands (not API operations).
    if service == "s3" {
        assert!(
            ["cp", "ls", "mv", "rm", "sync"].contains(&operation.as_str()),
            "README: `{command}`: `aws s3 {operation}` is not an `aws s3` command"
        );
        return;
    }
    let Some(models) = models else {
        return;
    };
    let dir = models.join(service);
    let newest = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("README: `{command}`: no AWS service `{service}` ({e})"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("service-2.json.gz").exists())
        .max()
        .unwrap_or_else(|| panic!("README: `{command}`: no model of `{service}`"));
    let compressed = std::fs::read(newest.join("service-2.json.gz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(compressed.as_slice()),
        &mut text,
    )
    .unwrap();
    let model: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (name, spec) = model["operations"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(name, _)| squashed(name) == squashed(operation))
        .unwrap_or_else(|| {
            panic!("README: `{command}`: `{service}` has no operation `{operation}`")
        });
    let members: Vec<String> = spec["input"]["shape"]
        .as_str()
        .and_then(|shape| model["shapes"][shape]["members"].as_object())
        .map(|m| m.keys().map(|k| squashed(k)).collect())
        .unwrap_or_default();
    for option in options.iter().filter_map(|o| o.strip_prefix("--")) {
        assert!(
            members.contains(&squashed(option)),
            "README: `{command}`: {name} takes no `--{option}`"
        );
    }
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
