//! README.md and the pages of docs/ stay true: every `$ sgguard …` line in their console blocks
//! is run, its shown output compared, and its exit code checked against the `# exit N` line
//! after it; every other command, every link between them and every path they name is checked
//! too.

use assert_cmd::Command;
use clap::Parser as _;

use crate::readme_commands::{aws_call, pages, sh_commands, words};

struct Example {
    args: Vec<String>,
    shown: Vec<String>,
    exit: i32,
}

fn examples(page: &str, text: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut in_console = false;
    let mut current: Option<Example> = None;
    for line in text.lines() {
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
                "{page}: `{line}` follows a command without `# exit`"
            );
            current = Some(Example {
                args: words(command),
                shown: Vec::new(),
                exit: -1,
            });
        } else if let Some(code) = line.strip_prefix("# exit ") {
            let mut example = current
                .take()
                .unwrap_or_else(|| panic!("{page}: `# exit` without a command"));
            example.exit = code.trim().parse().unwrap();
            out.push(example);
        } else if let Some(example) = current.as_mut() {
            example.shown.push(line.to_owned());
        }
    }
    assert!(current.is_none(), "{page}: a command has no `# exit` line");
    out
}

#[test]
fn every_readme_command_runs_as_shown() {
    let examples: Vec<(String, Example)> = pages()
        .into_iter()
        .flat_map(|(page, text)| {
            examples(&page, &text)
                .into_iter()
                .map(move |example| (page.clone(), example))
        })
        .collect();
    assert!(
        examples.len() >= 11,
        "only {} commands found in README.md and docs/",
        examples.len()
    );
    for (page, example) in examples {
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
            "{page}: `sgguard {}`: {}",
            example.args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        if !example.shown.is_empty() {
            let actual: Vec<&str> = stdout.lines().collect();
            assert_eq!(
                actual,
                example.shown,
                "{page}: `sgguard {}` output",
                example.args.join(" ")
            );
        }
    }
}

/// The commands in the `sh` blocks of README.md and docs/ that `make test` cannot run (they
/// need AWS or take long): each `sgguard …` line must parse with the CLI's own parser (every flag and value
/// exists), each `make …` line must name a target of the Makefile, each `terraform -chdir=DIR`
/// line a directory of Terraform files here, and each `aws SERVICE OPERATION --option …` line an
/// operation of the service and options of its input in the AWS API model (botocore's, from the
/// venv `make test` builds, checked by tests/emulator/readme_aws.rs; here only the form).
#[test]
fn every_other_readme_command_is_real() {
    let root = env!("CARGO_MANIFEST_DIR");
    let makefile = std::fs::read_to_string(format!("{root}/Makefile")).unwrap();
    let targets: Vec<&str> = makefile
        .lines()
        .filter_map(|l| l.split_once(':').map(|(t, _)| t))
        .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .collect();
    let (mut sgguard, mut make, mut terraform, mut aws) = (0, 0, 0, 0);
    for (page, command) in sh_commands() {
        let command = command.as_str();
        if command.starts_with("sgguard ") {
            let args = words(command);
            if let Err(error) = sgguard::cli::Cli::try_parse_from(&args) {
                panic!("{page}: `{command}` does not parse: {error}");
            }
            sgguard += 1;
        } else if let Some(rest) = command.strip_prefix("make ") {
            let target = rest.split_whitespace().next().unwrap_or_default();
            assert!(
                targets.contains(&target),
                "{page}: `{command}`: no target `{target}` in the Makefile"
            );
            make += 1;
        } else if let Some(rest) = command.strip_prefix("terraform ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let dir = words
                .first()
                .and_then(|w| w.strip_prefix("-chdir="))
                .unwrap_or_else(|| panic!("{page}: `{command}`: say where with -chdir=DIR"));
            let tf = std::fs::read_dir(format!("{root}/{dir}"))
                .unwrap_or_else(|e| panic!("{page}: `{command}`: `{dir}`: {e}"))
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "tf"));
            assert!(tf, "{page}: `{command}`: no .tf file in `{dir}`");
            let sub = words.get(1).copied().unwrap_or_default();
            assert!(
                [
                    "init", "plan", "apply", "output", "destroy", "fmt", "validate"
                ]
                .contains(&sub),
                "{page}: `{command}`: `{sub}` is not a terraform command used here"
            );
            terraform += 1;
        } else if command.starts_with("aws ") {
            // The form here; the operation and its options against the AWS API model in the
            // emulator binary, with the venv (tests/emulator/readme_aws.rs).
            if let Some(call) = aws_call(&page, command) {
                let spelled = [&call.service, &call.operation]
                    .into_iter()
                    .chain(&call.options)
                    .all(|word| {
                        word.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    });
                assert!(spelled, "{page}: `{command}`: not as the AWS CLI spells it");
            }
            aws += 1;
        }
    }
    // As many as the pages hold: a command that moves between them is still checked.
    assert!(
        sgguard >= 13 && make >= 5 && terraform >= 4 && aws >= 4,
        "{sgguard} sgguard, {make} make, {terraform} terraform and {aws} aws lines found"
    );
}

/// A page's text outside its fenced blocks (a heading or a path inside a block is an example).
fn prose(text: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as `-`.
fn anchors(text: &str) -> Vec<String> {
    prose(text)
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(|heading| {
            heading
                .trim_start_matches('#')
                .trim()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .flat_map(char::to_lowercase)
                .collect()
        })
        .collect()
}

/// The folders of this repository whose files the pages name.
const TOPS: [&str; 7] = [
    "src/",
    "tests/",
    "hub/",
    "spoke-infra/",
    "scripts/",
    "demo/",
    "docs/",
];

/// Text moves between README.md and the pages of docs/: every link between them still reaches
/// a file and, with `#…`, one of its headings, and every file of this repository the pages name
/// in backticks (`src/…`, `tests/…`, `hub/…`, …) exists.
#[test]
fn every_link_and_path_in_the_docs_is_real() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut links, mut paths) = (0, 0);
    for (page, text) in pages() {
        let text = prose(&text);
        let dir = std::path::Path::new(&page).parent().unwrap();
        for (at, _) in text.match_indices("](") {
            let rest = &text[at + 2..];
            let target = &rest[..rest.find(')').unwrap()];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let file = if file.is_empty() {
                root.join(&page)
            } else {
                root.join(dir).join(file)
            };
            assert!(file.exists(), "{page}: the link `{target}` leads nowhere");
            if !anchor.is_empty() {
                let headings = anchors(&std::fs::read_to_string(&file).unwrap());
                assert!(
                    headings.iter().any(|h| h == anchor),
                    "{page}: the link `{target}`: no such heading (there are {headings:?})"
                );
            }
            links += 1;
        }
        for (i, span) in text.split('`').enumerate() {
            let named = TOPS.iter().any(|top| span.starts_with(top));
            let plain = span
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'));
            if i % 2 == 1 && named && plain {
                assert!(root.join(span).exists(), "{page}: `{span}` does not exist");
                paths += 1;
            }
        }
    }
    assert!(
        links >= 40 && paths >= 80,
        "{links} links and {paths} paths found"
    );
}

/// The release the binary says it is (`sgguard --version`, the Lambda's ready log) is the
/// newest one CHANGELOG.md describes (after the changes not yet released, `## Unreleased`).
#[test]
fn the_changelog_describes_the_version_cargo_builds() {
    let changelog =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/CHANGELOG.md")).unwrap();
    let newest = changelog
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .filter_map(|heading| heading.split_whitespace().next())
        .find(|version| *version != "Unreleased")
        .unwrap();
    assert_eq!(newest, env!("CARGO_PKG_VERSION"));
    let license = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/LICENSE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0"));
}
