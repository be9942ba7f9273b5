//! Managed prefix lists grown to the internet: the rules that let them in are revoked, in the
//! owner's account and, for lists shared through AWS RAM, in the consumers' accounts (those it
//! cannot check are named); a shared list whose change opened the consumers' rules is restored
//! at the source instead.

use aws_sdk_ec2::types::{AddPrefixListEntry, IpPermission, PrefixListId};
use serde_json::{Value, json};
use sgguard::outcome::{Mode, Outcome, SourceFixAction, Status};
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

/// [`office_list`], shared through AWS RAM with `principals` (account ids or the
/// organization's ARN) by the owner's administrator: the list's id.
async fn shared_office_list(org: &Org, owner: &str, principals: &[&str]) -> String {
    let (id, arn) = office_list(org, owner).await;
    let ram = aws_sdk_ram::Client::new(&org.member_config(owner, HUB_REGION));
    ram.create_resource_share()
        .name("office-ranges")
        .resource_arns(arn)
        .set_principals(Some(principals.iter().map(|p| (*p).to_owned()).collect()))
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
async fn a_shared_list_that_cannot_be_restored_gets_the_consumer_accounts_rules_revoked() {
    let org = Org::new().await;
    let (owner, consumer) = (org.members[1].clone(), org.members[0].clone());
    let list_id = shared_office_list(&org, &owner, &[&consumer]).await;
    let (consumer_ec2, group) = ssh_from_the_list(&org, &consumer, &list_id).await;
    let grown = grow_to_the_internet(&org, &owner, &list_id).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    org.emulator.reset();
    // The owner's role may not restore the list (an SCP, say): the rules are revoked instead.
    org.emulator
        .deny("ec2:RestoreManagedPrefixListVersion", &list_id);
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.status, Status::Handled);
    let fix = outcome
        .source_fix
        .as_ref()
        .expect("the fix at the source told");
    assert_eq!(fix.action, SourceFixAction::NotRestored);
    assert!(
        fix.reason
            .as_deref()
            .unwrap()
            .contains("the restore failed"),
        "{fix:?}"
    );
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
async fn a_shared_list_grown_to_the_internet_is_restored_at_the_source() {
    let org = Org::new().await;
    let owner = org.members[1].clone();
    let consumers = [org.members[0].clone(), org.members[2].clone()];
    let list_id = shared_office_list(&org, &owner, &[&consumers[0], &consumers[1]]).await;
    let mut groups = Vec::new();
    for consumer in &consumers {
        groups.push(ssh_from_the_list(&org, consumer, &list_id).await);
    }
    let grown = grow_to_the_internet(&org, &owner, &list_id).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    org.emulator.reset();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);

    // One restore in the owner's account: the list is back to its office range, as version 3.
    assert_eq!(org.emulator.count("ec2:RestoreManagedPrefixListVersion"), 1);
    let owner_ec2 = org.member_ec2(&owner, HUB_REGION).await;
    let list = owner_ec2
        .describe_managed_prefix_lists()
        .prefix_list_ids(&list_id)
        .send()
        .await
        .unwrap();
    assert_eq!(list.prefix_lists()[0].version(), Some(3));
    let entries = owner_ec2
        .get_managed_prefix_list_entries()
        .prefix_list_id(&list_id)
        .send()
        .await
        .unwrap();
    let cidrs: Vec<&str> = entries.entries().iter().filter_map(|e| e.cidr()).collect();
    assert_eq!(cidrs, ["203.0.113.0/24"]);
    let fix = outcome.source_fix.as_ref().expect("fixed at the source");
    assert_eq!(
        (fix.action, fix.restored_version, fix.replaced_version),
        (SourceFixAction::Restored, Some(1), Some(2))
    );

    // The consumers' rules stay (the list no longer holds the internet); none revoked.
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 0);
    for (ec2, group) in &groups {
        assert_eq!(
            live_rules(ec2, group).await,
            [
                ("tcp".to_owned(), Some(22), list_id.clone()),
                ("tcp".to_owned(), Some(443), "0.0.0.0/0".to_owned()),
            ]
        );
    }
    assert_eq!(outcome.count(Outcome::FixedAtSource), 2);
    let told: Vec<&str> = outcome
        .consumers
        .iter()
        .map(|c| c.account_id.as_str())
        .collect();
    let mut expected: Vec<&str> = consumers.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(told, expected);

    // The message names the restore.
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    let (subject, message, _) = &inbox[0];
    assert!(
        subject.contains(&format!("restored prefix list {list_id} to version 1")),
        "{subject}"
    );
    assert_eq!(message["source_fix"]["action"], "restored");
    assert_eq!(message["source_fix"]["owner_account_id"], owner.as_str());
    assert!(
        message["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["outcome"] == "fixed_at_source"),
        "{message}"
    );
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
    let list_id = shared_office_list(&org, &owner, &[&org_arn]).await;
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
    // The reachable consumer is fixed all the same, at the source (the list restored).
    assert_eq!(outcome.count(Outcome::FixedAtSource), 1);
    assert_eq!(
        outcome.source_fix.as_ref().map(|f| f.action),
        Some(SourceFixAction::Restored)
    );
    assert_eq!(live_rules(&consumer_ec2, &group).await.len(), 2);
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
