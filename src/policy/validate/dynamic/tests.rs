//! The exemptions file's own rules: expiry within the maximum, acknowledged breadth.

use jiff::civil::date;

use crate::policy::{Baseline, FileLimits, PolicyError};

const LIMITS: FileLimits = FileLimits {
    max_days: 365,
    today: date(2026, 12, 5),
};

fn load(text: &str) -> Result<Baseline, PolicyError> {
    Baseline::default_baseline().unwrap().with_exemptions_file(
        text,
        "s3://bucket/config/exemptions.yaml",
        &LIMITS,
    )
}

fn refused(text: &str) -> String {
    load(text).expect_err("refused").to_string()
}

#[test]
fn an_entry_within_the_limits_is_taken() {
    let text = "version: 1
exemptions:
  - reason: bastion
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
    expires: 2027-12-05
";
    let own = Baseline::default_baseline().unwrap().exemptions.len();
    assert_eq!(load(text).unwrap().exemptions.len(), own + 1);
}

#[test]
fn an_entry_must_expire() {
    let error = refused(
        "version: 1
exemptions:
  - reason: bastion
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
",
    );
    assert!(
        error.contains("s3://bucket/config/exemptions.yaml")
            && error.contains("line 3")
            && error.contains("`bastion`")
            && error.contains("must expire")
            && error.contains("2027-12-05"),
        "{error}"
    );
}

#[test]
fn an_expiry_beyond_the_maximum_is_refused() {
    let error = refused(
        "version: 1
exemptions:
  - reason: bastion
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
    expires: 2027-12-06
",
    );
    assert!(
        error.contains("line 6")
            && error.contains("more than 365 days ahead")
            && error.contains("2027-12-05")
            && error.contains("SGGUARD_EXEMPTIONS_MAX_DAYS"),
        "{error}"
    );
}

#[test]
fn account_wide_and_all_rules_entries_need_the_acknowledgement() {
    let account_wide = "version: 1
exemptions:
  - reason: sandbox
    account_ids: ['111122223333']
    rules: [admin-ports-from-internet]
    expires: 2027-01-31
";
    let error = refused(account_wide);
    assert!(
        error.contains("`sandbox`") && error.contains("acknowledge: [account-wide]"),
        "{error}"
    );
    load(&account_wide.replace("exemptions:", "acknowledge: [account-wide]\nexemptions:")).unwrap();

    let all_rules = "version: 1
exemptions:
  - reason: appliance
    group_ids: [sg-0123456789abcdef0]
    expires: 2027-01-31
";
    let error = refused(all_rules);
    assert!(error.contains("acknowledge: [all-rules]"), "{error}");
    load(&all_rules.replace("exemptions:", "acknowledge: [all-rules]\nexemptions:")).unwrap();
}

#[test]
fn an_acknowledgement_no_entry_needs_is_refused() {
    let error = refused(
        "version: 1
acknowledge: [account-wide]
exemptions:
  - reason: bastion
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
    expires: 2027-01-31
",
    );
    assert!(
        error.contains("line 2") && error.contains("no entry of this file exempts"),
        "{error}"
    );
    let error = refused("version: 1\nacknowledge: [all-groups]\nexemptions: []\n");
    assert!(error.contains("all-groups"), "{error}");
}

#[test]
fn a_file_once_in_use_is_read_without_the_limits() {
    let entries = Baseline::default_baseline()
        .unwrap()
        .exemptions_file_entries(
            "version: 1\nexemptions:\n  - reason: old\n    account_ids: ['111122223333']\n",
            "previous",
            None,
        )
        .unwrap();
    assert_eq!(entries.len(), 1);
}
