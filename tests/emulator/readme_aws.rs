//! The `aws SERVICE OPERATION --option …` commands of README.md and docs/ exist: the operation
//! in the service's AWS API model and each option in its input, the models being botocore's (`…/site-packages/
//! botocore/data`) from the project venv (`VENV`, default `/var/tmp/sgguard-venv`), which moto
//! brings. Without them this fails; the offline README test checks only the commands' form.

use crate::readme_commands::{aws_call, sh_commands};

/// botocore's API models in the venv.
fn botocore_data() -> std::path::PathBuf {
    let venv = std::env::var("VENV").unwrap_or_else(|_| "/var/tmp/sgguard-venv".to_owned());
    std::fs::read_dir(format!("{venv}/lib"))
        .unwrap_or_else(|e| panic!("no venv at `{venv}` ({e}): run `make test` (or `make venv`)"))
        .filter_map(Result::ok)
        .map(|python| python.path().join("site-packages/botocore/data"))
        .find(|data| data.is_dir())
        .unwrap_or_else(|| panic!("no botocore in the venv at `{venv}`: run `make venv`"))
}

/// `ActivateOrganizationsAccess` and `activate-organizations-access` alike.
fn squashed(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The newest model of `service`.
fn model(models: &std::path::Path, place: &str, service: &str) -> serde_json::Value {
    let newest = std::fs::read_dir(models.join(service))
        .unwrap_or_else(|e| panic!("{place}: no AWS service `{service}` ({e})"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("service-2.json.gz").exists())
        .max()
        .unwrap_or_else(|| panic!("{place}: no model of `{service}`"));
    let compressed = std::fs::read(newest.join("service-2.json.gz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(compressed.as_slice()),
        &mut text,
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_readme_aws_command_is_an_operation_with_those_options() {
    let models = botocore_data();
    let mut checked = 0;
    for (page, command) in sh_commands() {
        let Some(call) = aws_call(&page, &command) else {
            continue;
        };
        let place = format!("{page}: `{command}`");
        let model = model(&models, &place, &call.service);
        let (name, spec) = model["operations"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(name, _)| squashed(name) == squashed(&call.operation))
            .unwrap_or_else(|| {
                panic!(
                    "{place}: `{}` has no operation `{}`",
                    call.service, call.operation
                )
            });
        let members: Vec<String> = spec["input"]["shape"]
            .as_str()
            .and_then(|shape| model["shapes"][shape]["members"].as_object())
            .map(|m| m.keys().map(|k| squashed(k)).collect())
            .unwrap_or_default();
        // The CLI's own options (where and as whom), not the operation's.
        let global = ["region", "profile", "output", "endpoint-url"];
        for option in call
            .options
            .iter()
            .filter(|o| !global.contains(&o.as_str()))
        {
            assert!(
                members.contains(&squashed(option)),
                "{place}: {name} takes no `--{option}`"
            );
        }
        checked += 1;
    }
    assert!(
        checked > 0,
        "no aws command of README.md or docs/ was checked"
    );
}
