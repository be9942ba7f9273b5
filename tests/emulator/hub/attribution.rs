//! Which group and whose change a message names: a group named by name is only the one the
//! response names, not its namesake in another VPC; two actors' events on one group each name
//! their own actor.

use aws_sdk_ec2::types::{IpPermission, Ipv6Range};
use serde_json::{Value, json};
use sgguard::outcome::{Mode, Outcome};
use sgguard::policy::Baseline;

use super::{actor, authorize_event, event, remediator};
use crate::emulator::{HUB_REGION, Org, group_rules, live_rules, new_group, rule_set_item, tcp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_named_by_name_is_only_the_one_the_response_names_not_its_namesake() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    // `web` in two VPCs of one account and region, each with SSH open to the world.
    let mut groups = Vec::new();
    for cidr in ["10.1.0.0/16", "10.2.0.0/16"] {
        let vpc = ec2.create_vpc().cidr_block(cidr).send().await.unwrap();
        let group = ec2
            .create_security_group()
            .group_name("web")
            .description("sgguard test")
            .vpc_id(vpc.vpc().unwrap().vpc_id().unwrap())
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_owned();
        ec2.authorize_security_group_ingress()
            .group_id(&group)
            .ip_permissions(tcp(22, "0.0.0.0/0"))
            .send()
            .await
            .unwrap();
        let ssh: Vec<Value> = group_rules(&ec2, &group)
            .await
            .iter()
            .filter(|r| r.is_egress() == Some(false))
            .map(rule_set_item)
            .collect();
        groups.push((group, ssh));
    }
    let [(changed, changed_rules), (namesake, _)] = [groups[0].clone(), groups[1].clone()];
    // The call named the group by name; its response names the rule it created, in `changed`.
    let by_name = |response: Value| {
        event(
            &member,
            HUB_REGION,
            "AuthorizeSecurityGroupIngress",
            &actor(&member, "nina"),
            json!({"groupName": "web", "ipPermissions": {"items": [{"ipProtocol": "tcp",
                "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
            response,
        )
    };
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let remediator = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);
    org.emulator.reset();
    let (outcome, error) = remediator
        .handle(&by_name(json!({"_return": true,
            "securityGroupRuleSet": {"items": changed_rules}})))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    let read: Vec<&str> = outcome.groups.iter().map(|g| g.group_id.as_str()).collect();
    assert_eq!(read, [changed.as_str()], "only the group the call changed");
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert_eq!(org.emulator.count("ec2:DescribeSecurityGroupRules"), 1);
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 1);
    assert!(live_rules(&ec2, &changed).await.is_empty());
    assert_eq!(
        live_rules(&ec2, &namesake).await,
        [("tcp".to_owned(), Some(22), "0.0.0.0/0".to_owned())],
        "the other VPC's `web` is not what the event changed"
    );

    // Without the response's ids the name is all there is: every `web` of the region is
    // re-read (EC2's group-name filter, across VPCs), never just the first found.
    let (outcome, error) = remediator.handle(&by_name(json!({"_return": true}))).await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    let mut read: Vec<&str> = outcome.groups.iter().map(|g| g.group_id.as_str()).collect();
    read.sort_unstable();
    let mut both = [changed.as_str(), namesake.as_str()];
    both.sort_unstable();
    assert_eq!(read, both);
    assert!(live_rules(&ec2, &namesake).await.is_empty());
}

/// Two actors, two changes to one group, both events delivered after both changes: bob opens all
/// traffic from `::/0`, carol opens PostgreSQL from `0.0.0.0/1` + `128.0.0.0/1`. Handling
/// bob's event re-reads the whole group and revokes every violating rule, but tells bob's as
/// opened by his change and carol's as found in the group; carol's event then finds her rules
/// gone and still says so, naming her: two messages, each naming its own actor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_actors_two_events_one_group_each_message_names_its_own_actor() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let group = new_group(&ec2, "shared", &[]).await;
    // The rules each call created, as CloudTrail's response lists them.
    let authorize = |permissions: Vec<IpPermission>| {
        let ec2 = ec2.clone();
        let group = group.clone();
        async move {
            let before: Vec<String> = group_rules(&ec2, &group)
                .await
                .iter()
                .filter_map(|r| r.security_group_rule_id().map(str::to_owned))
                .collect();
            ec2.authorize_security_group_ingress()
                .group_id(&group)
                .set_ip_permissions(Some(permissions))
                .send()
                .await
                .unwrap();
            group_rules(&ec2, &group)
                .await
                .iter()
                .filter(|r| {
                    !r.is_egress().unwrap_or(false)
                        && !before
                            .iter()
                            .any(|id| Some(id.as_str()) == r.security_group_rule_id())
                })
                .map(rule_set_item)
                .collect::<Vec<Value>>()
        }
    };
    let bob_rules = authorize(vec![
        IpPermission::builder()
            .ip_protocol("-1")
            .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
            .build(),
    ])
    .await;
    let carol_rules = authorize(vec![tcp(5432, "0.0.0.0/1"), tcp(5432, "128.0.0.0/1")]).await;
    assert_eq!((bob_rules.len(), carol_rules.len()), (1, 2));
    let bob_event = authorize_event(&member, HUB_REGION, "bob", &group, &bob_rules);
    let carol_event = authorize_event(&member, HUB_REGION, "carol", &group, &carol_rules);

    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let handler = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);
    let (bob, error) = handler.handle(&bob_event).await;
    assert_eq!(error, None);
    let (carol, error) = handler.handle(&carol_event).await;
    assert_eq!(error, None);

    let id = |v: &Value| v["securityGroupRuleId"].as_str().unwrap().to_owned();
    let attributed = |outcome: &sgguard::outcome::EventOutcome| {
        let mut found: Vec<(String, String, String)> = outcome
            .findings
            .iter()
            .map(|f| {
                (
                    f.finding.rule.rule_id.clone().unwrap(),
                    f.outcome.to_string(),
                    f.attribution.unwrap().to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let mut expected_bob = vec![
        (
            id(&bob_rules[0]),
            "revoked".to_owned(),
            "this_change".to_owned(),
        ),
        (
            id(&carol_rules[0]),
            "revoked".to_owned(),
            "found_in_group".to_owned(),
        ),
        (
            id(&carol_rules[1]),
            "revoked".to_owned(),
            "found_in_group".to_owned(),
        ),
    ];
    expected_bob.sort();
    assert_eq!(attributed(&bob), expected_bob);
    let mut expected_carol = vec![
        (
            id(&carol_rules[0]),
            "already_gone".to_owned(),
            "this_change".to_owned(),
        ),
        (
            id(&carol_rules[1]),
            "already_gone".to_owned(),
            "this_change".to_owned(),
        ),
    ];
    expected_carol.sort();
    assert_eq!(attributed(&carol), expected_carol);
    // Carol's rules were removed by the handling of bob's event, and her message says so.
    let bob_event_id = bob.event.id.clone().unwrap();
    for f in &carol.findings {
        let removed = f.removed.as_deref().unwrap();
        assert!(removed.contains(&bob_event_id), "{removed}");
    }

    // Two messages, each naming its own actor.
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 2, "{inbox:?}");
    let actors: Vec<String> = inbox
        .iter()
        .map(|(_, _, attributes)| {
            attributes["actor_arn"]["Value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(actors.contains(&actor(&member, "bob")) && actors.contains(&actor(&member, "carol")));
    let carol_message = inbox
        .iter()
        .find(|(_, m, _)| m["event"]["actor_arn"] == actor(&member, "carol").as_str())
        .unwrap();
    assert!(
        carol_message.0.contains("already gone"),
        "{}",
        carol_message.0
    );
    assert_eq!(carol_message.1["findings"][0]["outcome"], "already_gone");
}
