//! Managed prefix lists grown to the internet: the rules that let them in are revoked, in the
//! owner's account and, for lists shared through AWS RAM, in the consumers' accounts (those it
//! cannot check are named).

use aws_sdk_ec2::types::{AddPrefixListEntry, IpPermission, PrefixListId};
use serde_json::{Value, json};
use sgguard::outcome::{Mode, Outcome, Status};
use sgguard::policy::Baseline;

use super::{actor, event, remediator};
use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, tcp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_list_grown_to_the_internet_gets_its_rules_revoked() {
    let org = Org::new().await;
    let member = org.members[1].clone();
    let (list_id, _) = office_list(&org, &member).await;
    let (ec2, group) = ssh_from_the_list(&org, &member, &list_id).await;
    let grown = grow_to_the_internet(&org, &member, &list_id).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.groups.len(), 1);
    assert_eq!(outcome.groups[0].group_id, group);
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert_eq!(
        live_rules(&ec2, &group).await,
        [("tcp".to_owned(), Some(443), "0.0.0.0/0".to_owned())]
    );
}

/// A prefix list of `owner` holding an office range: its id and ARN.
async fn office_list(org: &Org, owner: &str) -> (String, String) {
    let ec2 = org.member_ec2(owner, HUB_REGION).await;
    let list = ec2
        .create_managed_prefix_list()
        .prefix_list_name("office")
        .address_family("IPv4")
        .max_entries(5)
        .entries(AddPrefixListEntry::builder().cidr("203.0.113.0/24").build())
        .send()
        .await
        .unwrap();
    let list = list.prefix_list().unwrap();
    (
        list.prefix_list_id().unwrap().to_owned(),
        list.prefix_list_arn().unwrap().to_owned(),
    )
}

/// [`office_list`], shared through AWS RAM with `principal` (an account id or the
/// organization's ARN) by the owner's administrator: the list's id.
async fn shared_office_list(org: &Org, owner: &str, principal: &str) -> String {
    let (id, arn) = office_list(org, owner).await;
    let ram = aws_sdk_ram::Client::new(&org.member_config(owner, HUB_REGION));
    ram.create_resource_share()
        .name("office-ranges")
        .resource_arns(arn)
        .principals(principal)
        .send()
        .await
        .unwrap();
    id
}

/// The owner adds 0.0.0.0/0 to the list: the change and its event.
async fn grow_to_the_internet(org: &Org, owner: &str, list_id: &str) -> Value {
    let ec2 = org.member_ec2(owner, HUB_REGION).await;
    let version = ec2
        .describe_managed_prefix_lists()
        .prefix_list_ids(list_id)
        .send()
        .await
        .unwrap()
        .prefix_lists()[0]
        .version()
        .unwrap();
    ec2.modify_managed_prefix_list()
        .prefix_list_id(list_id)
        .current_version(version)
        .add_entries(AddPrefixListEntry::builder().cidr("0.0.0.0/0").build())
        .send()
        .await
        .unwrap();
    event(
        owner,
        HUB_REGION,
        "ModifyManagedPrefixList",
        &actor(owner, "hank"),
        json!({"ModifyManagedPrefixListRequest": {"PrefixListId": list_id,
            "CurrentVersion": version, "AddEntry": {"Cidr": "0.0.0.0/0", "tag": 1}}}),
        Value::Null,
    )
}

/// A group of `account` that opens SSH to the prefix list and HTTPS to the world.
async fn ssh_from_the_list(
    org: &Org,
    account: &str,
    list_id: &str,
) -> (aws_sdk_ec2::Client, String) {
    let ec2 = org.member_ec2(account, HUB_REGION).await;
    let via_list = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .prefix_list_ids(PrefixListId::builder().prefix_list_id(list_id).build())
        .build();
    let (group, _) = open_rules(&ec2, "office-ssh", vec![via_list, tcp(443, "0.0.0.0/0")]).await;
    (ec2, group)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_list_shared_through_ram_gets_the_consumer_accounts_rules_revoked() {
    let org = Org::new().await;
    let (owner, consumer) = (org.members[1].clone(), org.members[0].clone());
    let list_id = shared_office_list(&org, &owner, &consumer).await;
    let (consumer_ec2, group) = ssh_from_the_list(&org, &consumer, &list_id).await;
    let grown = grow_to_the_internet(&org, &owner, &list_id).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    org.emulator.reset();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.status, Status::Handled);
    // The consumer's SSH rule is revoked in the consumer's account; HTTPS stays.
    assert_eq!(
        live_rules(&consumer_ec2, &group).await,
        [("tcp".to_owned(), Some(443), "0.0.0.0/0".to_owned())]
    );
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    let revoked = &outcome.findings[0].finding;
    assert_eq!(revoked.rule.account_id.as_deref(), Some(consumer.as_str()));
    assert_eq!(revoked.rule.group_id.as_deref(), Some(group.as_str()));
    let consumers: Vec<(&str, usize)> = outcome
        .consumers
        .iter()
        .map(|c| (c.account_id.as_str(), c.groups))
        .collect();
    assert_eq!(consumers, [(consumer.as_str(), 1)]);
    assert_eq!(
        outcome.groups[0].account_id.as_deref(),
        Some(consumer.as_str())
    );
    // The shares are read in the owner's account, through its remediation role.
    assert_eq!(org.emulator.count("ram:GetResourceShareAssociations"), 2);
    let assumed = org.emulator.assumed();
    for account in [&owner, &consumer] {
        let role = format!("arn:aws:iam::{account}:role/sgguard-remediation");
        assert!(assumed.contains(&role), "{assumed:?}");
    }
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].1["consumers"][0]["account_id"], consumer.as_str());
    assert_eq!(inbox[0].2["group_id"]["Value"], group.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_shared_with_the_organization_reaches_every_account_and_names_those_it_cannot_check()
{
    let org = Org::new().await;
    let (owner, consumer, unreachable) = (
        org.members[1].clone(),
        org.members[0].clone(),
        org.members[2].clone(),
    );
    let org_arn = org.organization_arn();
    let list_id = shared_office_list(&org, &owner, &org_arn).await;
    let (consumer_ec2, group) = ssh_from_the_list(&org, &consumer, &list_id).await;
    let grown = grow_to_the_internet(&org, &owner, &list_id).await;
    org.emulator.deny(
        "sts:AssumeRole",
        &format!("arn:aws:iam::{unreachable}:role/sgguard-remediation"),
    );
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    // Every other account of the organization is a consumer: the hub, the consumer and the
    // account whose role cannot be assumed, which is named, never dropped.
    let mut expected = vec![org.hub.clone(), consumer.clone(), unreachable.clone()];
    expected.sort();
    let consumers: Vec<&str> = outcome
        .consumers
        .iter()
        .map(|c| c.account_id.as_str())
        .collect();
    assert_eq!(consumers, expected);
    let failed: Vec<&str> = outcome
        .consumers
        .iter()
        .filter(|c| c.error.is_some())
        .map(|c| c.account_id.as_str())
        .collect();
    assert_eq!(failed, [unreachable.as_str()]);
    let error = error.expect("an account that cannot be checked fails the invocation");
    assert_eq!(error.error_type(), "Sgguard.AccessDenied", "{error}");
    assert!(error.to_string().contains(&unreachable), "{error}");
    assert_eq!(outcome.status, Status::Failed);
    // The reachable consumer is fixed all the same.
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert_eq!(live_rules(&consumer_ec2, &group).await.len(), 1);
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert!(
        inbox[0].1["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains(&unreachable)),
        "{}",
        inbox[0].1
    );
}
