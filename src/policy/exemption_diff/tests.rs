//! The exemptions file's change, told by scope.

use super::*;
use crate::policy::Baseline;

fn entries(text: &str) -> Vec<Exemption> {
    Baseline::default_baseline()
        .unwrap()
        .exemptions_file_entries(text, "exemptions.yaml", None)
        .unwrap()
}

const BEFORE: &str = "version: 1
exemptions:
  - reason: bastion
    group_ids: [sg-0123456789abcdef0, sg-0aaaaaaaaaaaaaaaa]
    rules: [admin-ports-from-internet]
    expires: 2027-01-31
  - reason: load test
    group_ids: [sg-0bbbbbbbbbbbbbbbb]
    rules: [risky-ports-from-internet, admin-ports-from-internet]
    expires: 2027-02-28
  - reason: gone soon
    group_ids: [sg-0cccccccccccccccc]
    rules: [admin-ports-from-internet]
    expires: 2027-01-01
";

#[test]
fn the_same_file_with_its_ids_reordered_is_no_change() {
    let reordered = BEFORE.replace(
        "[sg-0123456789abcdef0, sg-0aaaaaaaaaaaaaaaa]",
        "[sg-0aaaaaaaaaaaaaaaa, sg-0123456789abcdef0]",
    );
    let diff = ExemptionDiff::between(&entries(BEFORE), &entries(&reordered));
    assert!(diff.is_empty(), "{diff:?}");
    assert!(diff.lines().is_empty());
}

#[test]
fn added_removed_widened_and_narrowed_are_told_apart() {
    let after = "version: 1
acknowledge: [account-wide, all-rules]
exemptions:
  - reason: bastion
    group_ids: [sg-0123456789abcdef0, sg-0aaaaaaaaaaaaaaaa]
    rules: [admin-ports-from-internet]
    expires: 2027-06-30
  - reason: load test
    group_ids: [sg-0bbbbbbbbbbbbbbbb]
    rules: [risky-ports-from-internet]
    expires: 2027-02-28
  - reason: sandbox
    account_ids: ['111122223333']
    expires: 2027-03-31
";
    let diff = ExemptionDiff::between(&entries(BEFORE), &entries(after));
    assert_eq!(diff.added.len(), 1);
    assert_eq!(
        diff.added[0].scope,
        "every group of account(s) 111122223333"
    );
    assert_eq!(
        diff.added[0].after.as_deref(),
        Some("every rule until 2027-03-31")
    );
    assert_eq!(diff.widened.len(), 1, "a later expiry widens");
    assert_eq!(
        diff.widened[0].before.as_deref(),
        Some("admin-ports-from-internet until 2027-01-31")
    );
    assert_eq!(diff.narrowed.len(), 1, "a rule dropped narrows");
    assert_eq!(diff.narrowed[0].scope, "group(s) sg-0bbbbbbbbbbbbbbbb");
    assert_eq!(diff.removed.len(), 1);
    assert_eq!(diff.removed[0].scope, "group(s) sg-0cccccccccccccccc");
    assert!(diff.widens());
    let lines = diff.lines();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("+ added: every group of account(s) 111122223333"));
    assert!(lines[0].ends_with("— sandbox"), "{}", lines[0]);
    assert!(lines[1].starts_with("^ widened: group(s) sg-0123456789abcdef0, sg-0aaaaaaaaaaaaaaaa"));
    assert!(lines[1].contains("(was admin-ports-from-internet until 2027-01-31)"));
    assert!(lines[2].starts_with("v narrowed: group(s) sg-0bbbbbbbbbbbbbbbb"));
    assert!(lines[3].starts_with("- removed: group(s) sg-0cccccccccccccccc"));
}

#[test]
fn all_rules_covers_each_rule_and_a_new_rule_widens() {
    let all = "version: 1
exemptions:
  - reason: r
    group_ids: [sg-0123456789abcdef0]
    expires: 2027-01-31
";
    let one = "version: 1
exemptions:
  - reason: r
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
    expires: 2027-01-31
";
    let two = "version: 1
exemptions:
  - reason: r
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet, risky-ports-from-internet]
    expires: 2027-01-31
";
    let narrowed = ExemptionDiff::between(&entries(all), &entries(one));
    assert_eq!(narrowed.narrowed.len(), 1, "{narrowed:?}");
    assert!(!narrowed.widens());
    let widened = ExemptionDiff::between(&entries(one), &entries(all));
    assert_eq!(widened.widened.len(), 1, "{widened:?}");
    let more = ExemptionDiff::between(&entries(one), &entries(two));
    assert_eq!(more.widened.len(), 1, "{more:?}");
    assert_eq!(
        more.widened[0].after.as_deref(),
        Some("admin-ports-from-internet, risky-ports-from-internet until 2027-01-31")
    );
}

#[test]
fn no_expiry_in_an_older_file_is_told_and_any_date_narrows_it() {
    let forever = "version: 1
exemptions:
  - reason: r
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
";
    let dated = "version: 1
exemptions:
  - reason: r
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
    expires: 2027-01-31
";
    let diff = ExemptionDiff::between(&entries(forever), &entries(dated));
    assert_eq!(diff.narrowed.len(), 1);
    assert_eq!(
        diff.narrowed[0].before.as_deref(),
        Some("admin-ports-from-internet with no expiry")
    );
}
