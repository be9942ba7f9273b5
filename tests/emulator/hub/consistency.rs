//! Re-reads that lag behind the event (EC2's eventually consistent reads, injected by the
//! emulator: the next answers do not show the new rule): waited for, then revoked; never shown
//! within the backoff, the event fails to be retried with nothing judged, and the retry revokes.

use serde_json::{Value, json};
use sgguard::outcome::{Mode, Outcome, Status};
use sgguard::policy::Baseline;

use super::{authorize_event, remediator};
use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, tcp};

/// The event of `rules` opened in `group` by `who`, made just now.
fn fresh(account: &str, who: &str, group: &str, rules: &[Value]) -> Value {
    let mut event = authorize_event(account, HUB_REGION, who, group, rules);
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    event["time"] = json!(now);
    event["detail"]["eventTime"] = json!(now);
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_the_first_re_reads_lack_is_waited_for_and_one_never_shown_fails_for_a_retry() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let remediator = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);

    // The first two re-reads lack the new rule: the third shows it, and it is revoked.
    let (group, rules) = open_rules(&ec2, "lagging", vec![tcp(22, "0.0.0.0/0")]).await;
    let rule_id = rules[0]["securityGroupRuleId"].as_str().unwrap();
    org.emulator
        .control("lag", Some(json!({"rule_id": rule_id, "times": 2})));
    let (outcome, error) = remediator
        .handle(&fresh(&member, "kim", &group, &rules))
        .await;
    assert_eq!(error, None, "{outcome:?}");
    assert_eq!(outcome.findings[0].outcome, Outcome::Revoked);
    assert!(live_rules(&ec2, &group).await.is_empty());

    // Never shown within the backoff: the event fails (retryable), nothing is judged or revoked,
    // nothing is said of who removed it; the retry, once the reads show it, revokes it.
    let (group, rules) = open_rules(&ec2, "stale", vec![tcp(3389, "0.0.0.0/0")]).await;
    let rule_id = rules[0]["securityGroupRuleId"].as_str().unwrap();
    org.emulator
        .control("lag", Some(json!({"rule_id": rule_id, "times": 1000})));
    let event = fresh(&member, "lee", &group, &rules);
    let (outcome, error) = remediator.handle(&event).await;
    let error = error.expect("the event fails");
    assert!(!error.answered_as_handled(), "retried: {error:?}");
    assert!(
        error
            .to_string()
            .contains(&format!("rule `{rule_id}` is not in it yet")),
        "{error}"
    );
    assert_eq!(outcome.status, Status::Failed);
    assert!(outcome.findings.is_empty(), "{outcome:?}");
    // The reads show it again (the test's own read too).
    org.emulator.reset();
    assert_eq!(live_rules(&ec2, &group).await.len(), 1, "nothing revoked");
    let (outcome, error) = remediator.handle(&event).await;
    assert_eq!(error, None, "{outcome:?}");
    assert_eq!(outcome.findings[0].outcome, Outcome::Revoked);
    assert!(live_rules(&ec2, &group).await.is_empty());
}
