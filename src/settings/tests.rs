//! The settings: documented defaults, bad values that name their variable, and the
//! configuration page that names what the parser reads.

use std::collections::BTreeMap;

use super::*;

fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::from_lookup(|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

#[test]
fn defaults_are_the_documented_ones() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.mode, Mode::Enforce);
    assert_eq!(s.role_name, "sgguard-remediation");
    assert_eq!(s.topic_arn, None);
    assert_eq!(s.regions, None);
    assert_eq!(s.record_queue_url, None);
    assert_eq!(
        (
            s.limits.per_event,
            s.limits.per_account_hour,
            s.limits.per_sweep
        ),
        (20, 50, 200)
    );
}

#[test]
fn bad_values_name_the_variable() {
    let error = settings(&[("SGGUARD_MODE", "yolo")]).unwrap_err();
    assert!(error.to_string().contains("SGGUARD_MODE"));
    assert!(settings(&[("SGGUARD_TOPIC_ARN", "my-topic")]).is_err());
    let error = settings(&[("SGGUARD_HUB_BUS_ARN", "sgguard-hub")]).unwrap_err();
    assert!(error.to_string().contains("SGGUARD_HUB_BUS_ARN"));
    let error = settings(&[("SGGUARD_TRUSTED_PRINCIPALS", "a,arn:aws:iam::1:role/x")]);
    assert!(error.unwrap_err().to_string().contains("`a`"));
    let trusted = settings(&[(
        "SGGUARD_TRUSTED_PRINCIPALS",
        "arn:aws:iam::1:role/x, arn:aws:iam::1:role/y",
    )]);
    assert_eq!(trusted.unwrap().trusted_principals.len(), 2);
    let error = settings(&[("SGGUARD_RECORD_QUEUE_URL", "sgguard-dlq")]).unwrap_err();
    assert!(error.to_string().contains("SGGUARD_RECORD_QUEUE_URL"));
    assert!(settings(&[("SGGUARD_ROLE_NAME", "arn:aws:iam::1:role/x")]).is_err());
    for bad in ["0", "-1", "many"] {
        let error = settings(&[("SGGUARD_MAX_REVOKES_PER_SWEEP", bad)]).unwrap_err();
        assert!(error.to_string().contains("SGGUARD_MAX_REVOKES_PER_SWEEP"));
    }
    let staged = settings(&[
        ("SGGUARD_MODE", "audit"),
        (
            "SGGUARD_MODE_BY_SCOPE",
            r#"{"ou-ab12-cdef3456": "enforce", "111122223333": "audit"}"#,
        ),
    ])
    .unwrap()
    .inline_staging()
    .unwrap();
    assert_eq!(staged.default, Mode::Audit);
    assert_eq!(staged.scopes["ou-ab12-cdef3456"], Mode::Enforce);
    for (bad, named) in [
        (r#"{"prod": "enforce"}"#, "`prod`"),
        (r#"{"ou-ab12-cd": "enforce"}"#, "`ou-ab12-cd`"),
        (r#"{"OU-AB12-CDEF3456": "enforce"}"#, "`OU-AB12-CDEF3456`"),
        (r#"{"ou-ab12-cdef3456": "on"}"#, "ou-ab12-cdef3456"),
        ("ou-ab12-cdef3456=enforce", "ou-ab12-cdef3456=enforce"),
        // Named twice: refused, not the last mode kept.
        (
            r#"{"ou-ab12-cdef3456": "enforce", "ou-ab12-cdef3456": "audit"}"#,
            "`ou-ab12-cdef3456`: expected each scope id named once",
        ),
    ] {
        let error = settings(&[("SGGUARD_MODE_BY_SCOPE", bad)]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("SGGUARD_MODE_BY_SCOPE") && text.contains(named),
            "{text}"
        );
    }
    for (variable, bad) in [
        ("SGGUARD_EXEMPTIONS_URI", "config/exemptions.yaml"),
        ("SGGUARD_EXEMPTIONS_TTL_SECONDS", "0"),
        ("SGGUARD_REPORT_BUCKET", "Reports_Bucket"),
        ("SGGUARD_STACKSET_CALL_AS", "ADMIN"),
        ("SGGUARD_MIN_SEVERITY", "urgent"),
        ("SGGUARD_CHAT_TOPIC_ARN", "chat"),
        ("SGGUARD_EVENT_BUS_ARN", "sgguard-hub"),
        (
            "SGGUARD_CHAT_TOPIC_ARN",
            "arn:aws:events:eu-west-1:111122223333:event-bus/hub",
        ),
        (
            "SGGUARD_HUB_BUS_ARN",
            "arn:aws:sns:eu-west-1:111122223333:hub",
        ),
    ] {
        let error = settings(&[(variable, bad)]).unwrap_err().to_string();
        assert!(error.contains(variable) && error.contains(bad), "{error}");
    }
    let limits = settings(&[("SGGUARD_MAX_REVOKES_PER_EVENT", "5")]).unwrap();
    assert_eq!(limits.limits.per_event, 5);
    let error = settings(&[("SGGUARD_REGIONS", "eu-west-1,Ireland")]).unwrap_err();
    assert!(
        error.to_string().contains("SGGUARD_REGIONS") && error.to_string().contains("`Ireland`"),
        "{error}"
    );
    let regions = settings(&[("SGGUARD_REGIONS", "eu-west-1, us-east-1,")]).unwrap();
    assert_eq!(
        regions.regions,
        Some(vec!["eu-west-1".to_owned(), "us-east-1".to_owned()])
    );
    assert_eq!(regions.forwarding_regions, None, "not known unless told");
    let forwarding = settings(&[("SGGUARD_FORWARDING_REGIONS", "us-east-1,eu-west-1")]).unwrap();
    assert_eq!(
        forwarding.forwarding_regions,
        Some(vec!["us-east-1".to_owned(), "eu-west-1".to_owned()])
    );
    // `all` is a sweep's word, not a place the spokes are deployed to.
    for bad in ["all", "eu-west-1,Ireland"] {
        let error = settings(&[("SGGUARD_FORWARDING_REGIONS", bad)])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("SGGUARD_FORWARDING_REGIONS")
                && error.contains(bad.rsplit(',').next().unwrap())
                && error.contains("expected region names"),
            "{error}"
        );
    }
}

/// Issue #22: sgguard's own events on the bus every member may write could be forged and then
/// restored; the hub bus as `SGGUARD_EVENT_BUS_ARN` is refused at start, naming both variables.
#[test]
fn the_event_bus_is_never_the_bus_the_members_write() {
    let hub = "arn:aws:events:eu-west-1:111122223333:event-bus/sgguard-hub";
    let findings = "arn:aws:events:eu-west-1:111122223333:event-bus/sgguard-findings";
    let error = settings(&[("SGGUARD_HUB_BUS_ARN", hub), ("SGGUARD_EVENT_BUS_ARN", hub)])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`SGGUARD_EVENT_BUS_ARN`")
            && error.contains("`SGGUARD_HUB_BUS_ARN`")
            && error.contains(&format!("`{hub}`")),
        "{error}"
    );
    let apart = settings(&[
        ("SGGUARD_HUB_BUS_ARN", hub),
        ("SGGUARD_EVENT_BUS_ARN", findings),
    ])
    .unwrap();
    assert_eq!(apart.outputs.event_bus_arn.as_deref(), Some(findings));
    assert_eq!(apart.hub_bus_arn.as_deref(), Some(hub));
    // Either alone is the hub's choice: the check needs both to compare.
    assert!(settings(&[("SGGUARD_EVENT_BUS_ARN", hub)]).is_ok());
}

/// docs/configuration.md's table names exactly the variables the parser reads, and each
/// default it shows in backticks is the parser's: setting a variable to its documented
/// default changes nothing.
#[test]
fn the_documented_configuration_is_the_parser_s() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let documented: BTreeMap<String, Option<String>> = doc
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let variable = cells.get(1)?.strip_prefix("`SGGUARD_")?.strip_suffix('`')?;
            let default = cells.get(2)?;
            let default = default
                .strip_prefix('`')
                .and_then(|d| d.strip_suffix('`'))
                .map(str::to_owned);
            Some((format!("SGGUARD_{variable}"), default))
        })
        .collect();
    let read = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let recording = |name: &str| {
        read.borrow_mut().insert(name.to_owned());
        None
    };
    let defaults = Settings::from_lookup(recording).unwrap();
    let _ = log_filter_from(recording, "info");
    let read = read.into_inner();
    let named: std::collections::BTreeSet<String> = documented.keys().cloned().collect();
    assert_eq!(
        named, read,
        "docs/configuration.md and the parser name different variables"
    );
    for (variable, default) in &documented {
        let Some(default) = default else { continue };
        let set = settings(&[(variable.as_str(), default.as_str())])
            .unwrap_or_else(|e| panic!("{variable}'s documented default: {e}"));
        assert_eq!(
            set, defaults,
            "{variable}=`{default}` is not the parser's default"
        );
    }
}

#[test]
fn the_mode_per_scope_is_read_from_s3_at_the_version_named_never_from_both_places() {
    use crate::aws::{S3Object, S3Uri, VersionId};
    use crate::enforce::staging::ModeByScope;

    let uri = "s3://sgguard-reports-1/config/mode-by-scope.json";
    let stored = settings(&[
        ("SGGUARD_MODE_BY_SCOPE_URI", uri),
        (
            "SGGUARD_MODE_BY_SCOPE_VERSION",
            "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        ),
    ])
    .unwrap();
    let object = S3Object {
        uri: S3Uri::parse(uri).unwrap(),
        version: VersionId::parse("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
    };
    assert_eq!(stored.mode_by_scope, ModeByScope::Stored(object.clone()));
    // Only the hub reads it: nothing offline stands in for it.
    assert_eq!(stored.inline_staging(), None);
    // Without a version: the current object.
    let current = settings(&[("SGGUARD_MODE_BY_SCOPE_URI", uri)]).unwrap();
    assert_eq!(
        current.mode_by_scope,
        ModeByScope::Stored(S3Object {
            version: None,
            ..object
        })
    );
    assert_eq!(settings(&[]).unwrap().mode_by_scope, ModeByScope::default());

    let both = settings(&[
        ("SGGUARD_MODE_BY_SCOPE", r#"{"r-ab12": "enforce"}"#),
        ("SGGUARD_MODE_BY_SCOPE_URI", uri),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        both.contains("`SGGUARD_MODE_BY_SCOPE`") && both.contains("`SGGUARD_MODE_BY_SCOPE_URI`"),
        "{both}"
    );
    for alone in [
        vec![("SGGUARD_MODE_BY_SCOPE_VERSION", "v1")],
        vec![
            ("SGGUARD_MODE_BY_SCOPE", r#"{"r-ab12": "enforce"}"#),
            ("SGGUARD_MODE_BY_SCOPE_VERSION", "v1"),
        ],
    ] {
        let error = settings(&alone).unwrap_err().to_string();
        assert!(
            error.contains(
                "`SGGUARD_MODE_BY_SCOPE_VERSION` is set without `SGGUARD_MODE_BY_SCOPE_URI`"
            ),
            "{error}"
        );
    }
    for (variable, bad) in [
        ("SGGUARD_MODE_BY_SCOPE_URI", "config/mode-by-scope.json"),
        ("SGGUARD_MODE_BY_SCOPE_URI", "s3://Reports/mode.json"),
        ("SGGUARD_MODE_BY_SCOPE_VERSION", "null"),
        ("SGGUARD_MODE_BY_SCOPE_VERSION", "v 1"),
    ] {
        let error = if variable == "SGGUARD_MODE_BY_SCOPE_URI" {
            settings(&[(variable, bad)])
        } else {
            settings(&[("SGGUARD_MODE_BY_SCOPE_URI", uri), (variable, bad)])
        };
        let error = error.unwrap_err().to_string();
        assert!(error.contains(variable) && error.contains(bad), "{error}");
    }
}
