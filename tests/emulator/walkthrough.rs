//! The deploy walkthrough of docs/deploy.md, run: every `sgguard` command of its steps, in order
//! and as written (the page's example ids and region swapped for the emulated organization's),
//! against an organization built the way the hub module builds it — the spoke StackSet in the
//! members' OUs (roles, trusts, forwarding rules in the StackSet's regions), the hub account's
//! own spoke in its other region (`hub/hub_account.tf`), every other region denied by a service
//! control policy (as step 6 advises), and AssumeRole checking each role's trust policy (the
//! emulator's `trust`, which moto alone does not do). The operator runs the commands with the
//! hub account's own credentials, named in `audit_trusted_principal_arns` as step 3 says. A step
//! that would fail there as written (exit code not 0) fails the test; `aws` lines are checked
//! against the API models by `readme_aws.rs`, the rest by the offline README test.

use serde_json::{Value, json};

use crate::emulator::{Emulator, HUB_REGION, OTHER_REGION, Org, ran};
use crate::readme_commands::words;

/// The page, and the example values its commands use for the hub account, a member, an OU, the
/// root and the hub's home region.
const PAGE: &str = "docs/deploy.md";
const EXAMPLE_HUB: &str = "111122223333";
const EXAMPLE_MEMBER: &str = "222233334444";
const EXAMPLE_OU: &str = "ou-ab12-11111111";
const EXAMPLE_ROOT: &str = "r-ab12";

/// One line of the steps' `sh` blocks: `export NAME=VALUE`, or `sgguard …` (its words, and the
/// file its output is redirected to).
enum Line {
    Export(String, String),
    Sgguard(Vec<String>, Option<String>),
}

/// The deploy steps' lines (the page up to its first `## ` section), in order; commands other
/// than `sgguard` (cargo, make, terraform, aws) are left out.
fn steps() -> Vec<Line> {
    let text = std::fs::read_to_string(format!("{}/{PAGE}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let steps = text.split("\n## ").next().unwrap();
    let mut lines = Vec::new();
    let mut in_sh = false;
    for line in steps.lines().map(str::trim_start) {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(assignment) = line.strip_prefix("export ") {
            let (name, value) = assignment.split_once('=').unwrap();
            lines.push(Line::Export(name.to_owned(), value.to_owned()));
        } else if line.starts_with("sgguard ") {
            let mut all = words(line);
            let output = all
                .iter()
                .position(|w| w == ">")
                .map(|at| all.drain(at..).nth(1).unwrap());
            lines.push(Line::Sgguard(all.split_off(1), output));
        }
    }
    lines
}

/// The organization of the walkthrough: two members in an OU the StackSet deploys to, in its two
/// regions; the hub account's own spoke in the other one; every other region denied; trust
/// policies evaluated. Also the operator's ARN (the hub account's own key, as IAM names it).
async fn organization() -> (Org, String) {
    let emulator = Emulator::start();
    let hub = emulator.hub_config(HUB_REGION);
    let operator = aws_sdk_sts::Client::new(&hub)
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .arn
        .unwrap()
        .replacen(":sts::", ":iam::", 1);
    let regions: Vec<String> = aws_sdk_ec2::Client::new(&hub)
        .describe_regions()
        .send()
        .await
        .unwrap()
        .regions
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.region_name)
        .collect();
    let org = Org::world_on(
        emulator,
        json!({
            "ous": ["workloads"],
            "members": [
                {"name": "app-a", "ou": "workloads"},
                {"name": "app-b", "ou": "workloads"},
            ],
            "spokes": {
                "ous": ["workloads"],
                "regions": [HUB_REGION, OTHER_REGION],
                "audit_trusted_principal_arns": [operator],
            },
            "hub_bus": "sgguard-hub-lambda",
            "hub_spoke_regions": [OTHER_REGION],
            "trust": true,
        }),
    )
    .await;
    // "Add the regions your accounts use to `stackset_regions`, and deny the others with an SCP".
    for region in regions
        .iter()
        .filter(|r| ![HUB_REGION, OTHER_REGION].contains(&r.as_str()))
    {
        org.emulator.deny_region(None, region);
    }
    (org, operator)
}

/// The doc's example value `word` stands for, in this organization.
fn in_world(word: &str, org: &Org) -> String {
    word.replace(EXAMPLE_HUB, &org.hub)
        .replace(EXAMPLE_MEMBER, &org.members[0])
        .replace(EXAMPLE_OU, &org.ous["workloads"])
        .replace(EXAMPLE_ROOT, &org.root)
}

/// An exemptions file as docs/baseline.md shows it ("The exemptions file"), its dates a month
/// ahead (the page's dates age; the shape is what is checked) and its account one of the world.
fn exemptions_file(org: &Org) -> String {
    let page = std::fs::read_to_string(format!("{}/docs/baseline.md", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let section = page.split("### The exemptions file").nth(1).unwrap();
    let example = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .unwrap();
    let soon = jiff::Zoned::now()
        .date()
        .checked_add(jiff::ToSpan::days(30))
        .unwrap()
        .to_string();
    example
        .lines()
        .map(|line| match line.split_once("expires: ") {
            Some((indent, _)) => format!("{indent}expires: {soon}"),
            None => in_world(line, org),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_steps_run_as_written_against_the_organization() {
    let (org, operator) = organization().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("exemptions.yaml"), exemptions_file(&org)).unwrap();
    // What step 9's `aws s3 cp` fetches: the map the hub module wrote (the OU enforced).
    std::fs::write(
        dir.path().join("mode-by-scope.json"),
        json!({ &org.ous["workloads"]: "enforce" }).to_string(),
    )
    .unwrap();
    // The variables the steps export, as the shell would set them.
    let mut exported: Vec<(String, String)> = Vec::new();
    let mut ran_commands = Vec::new();
    for line in steps() {
        let (args, output) = match line {
            Line::Export(name, value) => {
                let value = match value
                    .strip_prefix("\"$(cat ")
                    .and_then(|v| v.strip_suffix(")\""))
                {
                    Some(file) => std::fs::read_to_string(dir.path().join(file))
                        .unwrap_or_else(|e| panic!("{PAGE}: `export {name}={value}`: {e}")),
                    None if name == "AWS_REGION" => {
                        assert_eq!(
                            value.split('-').count(),
                            3,
                            "{PAGE}: `export {name}={value}`"
                        );
                        // The hub's home region, here the emulated hub's.
                        HUB_REGION.to_owned()
                    }
                    None => value,
                };
                exported.push((name, value));
                continue;
            }
            Line::Sgguard(args, output) => (args, output),
        };
        let args: Vec<String> = args.iter().map(|w| in_world(w, &org)).collect();
        let shown = format!("sgguard {}", args.join(" "));
        let mut command = org.cli();
        command.current_dir(dir.path()).env_remove("AWS_REGION");
        command.envs(exported.iter().map(|(n, v)| (n, v)));
        let explain = args.starts_with(&["policy".to_owned(), "explain".to_owned()]);
        if explain {
            // Step 9: the hub's SGGUARD_MODE (audit, step 3) in the environment too.
            command.env("SGGUARD_MODE", "audit");
        }
        let (code, stdout, stderr) = ran(&command.args(&args).output().unwrap());
        // `policy explain` answers 1 for a rule that is a finding (the step's example is one).
        let expected = if explain { Some(1) } else { Some(0) };
        assert_eq!(
            code, expected,
            "{PAGE}: `{shown}` fails as written (as {operator}):\n{stdout}\n{stderr}"
        );
        if let Some(file) = output {
            std::fs::write(dir.path().join(file), &stdout).unwrap();
        }
        ran_commands.push((shown, stdout));
    }

    // Every step ran: the baseline, coverage, the audit scan, the exemptions, the explanation.
    let find = |verb: &str| {
        ran_commands
            .iter()
            .find(|(shown, _)| shown.starts_with(&format!("sgguard {verb}")))
            .unwrap_or_else(|| panic!("{PAGE}: no `sgguard {verb}` step"))
            .1
            .clone()
    };
    find("policy show");
    // Coverage reached the members through a role the operator may assume and found their
    // remediation roles.
    let coverage = find("coverage");
    for member in &org.members {
        assert!(coverage.contains(member), "{coverage}");
    }
    assert!(coverage.contains("present"), "{coverage}");
    let audit: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("audit.json")).unwrap()).unwrap();
    assert!(audit.is_object() || audit.is_array(), "{audit}");
    // The account is enforced through its OU's entry, over the hub's audit mode.
    let explained = find("policy explain");
    assert!(
        explained.contains(&format!("enforce mode (set by {})", org.ous["workloads"])),
        "{explained}"
    );
    // Audit first: nothing was revoked anywhere.
    for revoke in [
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
    ] {
        assert_eq!(org.emulator.count(revoke), 0, "{revoke}");
    }
}
