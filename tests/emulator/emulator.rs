//! The AWS API emulator for the integration tests: `python -m sgguard_world.emulator` from the
//! project venv (the `tests/world` package: moto behind a counting, fault-injecting proxy), and
//! the emulated Organization it builds on request through its control API (`POST
//! /_sgguard/world`: the hub and its members, OUs, the topic and the inbox queue; members'
//! credentials through AssumeRole, the inbox read back, all by the same Python code the pytest
//! suites, the demo and the benches use).
//!
//! It needs the project venv that `make test` builds (`VENV`, default `/var/tmp/sgguard-venv`):
//! every test using it is in this binary (`tests/emulator/`), built only with the `emulator`
//! feature, which `make test` turns on.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType, SecurityGroupRule, Tag, TagSpecification,
};
use aws_sdk_sts::config::{Credentials, Region, SharedCredentialsProvider};
use serde_json::{Value, json};
use sgguard::aws::Aws;

pub(crate) const HUB_REGION: &str = "us-east-1";
pub(crate) const OTHER_REGION: &str = "eu-west-1";

/// moto server plus the counting proxy, stopped when dropped.
pub(crate) struct Emulator {
    pub(crate) child: Child,
    pub(crate) stdin: Option<ChildStdin>,
    pub(crate) proxy: String,
    agent: ureq::Agent,
}

impl Emulator {
    pub(crate) fn start() -> Emulator {
        let venv = std::env::var("VENV").unwrap_or_else(|_| "/var/tmp/sgguard-venv".to_owned());
        let python = format!("{venv}/bin/python");
        assert!(
            std::path::Path::new(&python).exists(),
            "the emulator needs the project venv at `{venv}`: run `make test` (or `make venv`)"
        );
        let mut child = Command::new(&python)
            .args(["-m", "sgguard_world.emulator"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python -m sgguard_world.emulator");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(
            !line.is_empty(),
            "the emulator did not start (see its stderr): is tests/world installed in `{venv}`? run `make venv`"
        );
        let ports: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("emulator said `{line}`: {e}"));
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Emulator {
            stdin: child.stdin.take(),
            child,
            proxy: ports["proxy"].as_str().unwrap().to_owned(),
            agent,
        }
    }

    /// One request to the control API (`GET /_sgguard/counts`, `POST` for the others): its
    /// JSON answer; any status but 200 fails the test.
    pub(crate) fn control(&self, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_sgguard/{path}", self.proxy);
        let response = if path == "counts" {
            self.agent.get(&url).call()
        } else {
            self.agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string())
        };
        let mut response = response.unwrap_or_else(|e| panic!("control {path}: {e}"));
        let status = response.status();
        let text = response.body_mut().read_to_string().unwrap();
        assert_eq!(status, 200, "control {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub(crate) fn count(&self, action: &str) -> u64 {
        self.control("counts", None)["counts"][action]
            .as_u64()
            .unwrap_or(0)
    }

    pub(crate) fn assumed(&self) -> Vec<String> {
        self.control("counts", None)["assumed"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn reset(&self) {
        self.control("reset", None);
    }

    pub(crate) fn deny(&self, action: &str, matching: &str) {
        self.control("deny", Some(json!({"action": action, "match": matching})));
    }

    /// Every request of `account` (none: of every account, the hub's own key too) in `region`
    /// is denied as a service control policy with `aws:RequestedRegion` denies it (AWS's
    /// `explicit deny in a service control policy`).
    pub(crate) fn deny_region(&self, account: Option<&str>, region: &str) {
        let mut rule = json!({
            "action": "*", "region": region, "code": "UnauthorizedOperation", "status": 403,
            "message": format!(
                "You are not authorized to perform this operation. User: \
                 arn:aws:sts::{}:assumed-role/sgguard-remediation/sgguard is not authorized to \
                 perform: ec2:DescribeSecurityGroups with an explicit deny in a service control \
                 policy",
                account.unwrap_or("111122223333")
            ),
        });
        if let Some(account) = account {
            rule["account"] = account.into();
        }
        self.control("deny", Some(rule));
    }

    /// The SDK crates have no default HTTP client: the tests' own clients use sgguard's.
    pub(crate) fn config(&self, region: &str, credentials: Credentials) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .http_client(sgguard::aws::https_client())
            .region(Region::new(region.to_owned()))
            .endpoint_url(&self.proxy)
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build()
    }

    pub(crate) fn hub_config(&self, region: &str) -> aws_config::SdkConfig {
        self.config(
            region,
            Credentials::new("AKIAHUBTESTING000001", "hub-secret", None, None, "test"),
        )
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The emulated organization: the hub and its members, its OUs, the topic and the inbox queue.
pub(crate) struct Org {
    pub(crate) emulator: Emulator,
    pub(crate) hub: String,
    pub(crate) organization_id: String,
    /// The organization's root id (`r-…`).
    pub(crate) root: String,
    pub(crate) members: Vec<String>,
    /// OU name -> id.
    pub(crate) ous: BTreeMap<String, String>,
    pub(crate) topic_arn: String,
}

impl Org {
    /// The hub and three members (`workload-a`, `workload-b`, `sandbox-c`).
    pub(crate) async fn new() -> Org {
        Org::with_members(&["workload-a", "workload-b", "sandbox-c"]).await
    }

    /// The hub and one member account per name, all below the organization's root.
    pub(crate) async fn with_members(names: &[&str]) -> Org {
        Org::world(json!({ "members": names })).await
    }

    /// The world `POST /_sgguard/world` builds from `spec` (`members`, `ous`: see
    /// `sgguard_world.org.build`) in a new emulator.
    pub(crate) async fn world(spec: Value) -> Org {
        Org::world_on(Emulator::start(), spec).await
    }

    /// The world `spec` asks for, in this (started, worldless) emulator.
    pub(crate) async fn world_on(emulator: Emulator, spec: Value) -> Org {
        let world = emulator.control("world", Some(spec));
        let strings = |value: &Value| -> Vec<String> {
            value
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        Org {
            hub: world["hub"].as_str().unwrap().to_owned(),
            organization_id: world["organization_id"].as_str().unwrap().to_owned(),
            root: world["root"].as_str().unwrap().to_owned(),
            members: strings(&world["members"]),
            ous: world["ous"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(name, id)| (name.clone(), id.as_str().unwrap().to_owned()))
                .collect(),
            topic_arn: world["topic_arn"].as_str().unwrap().to_owned(),
            emulator,
        }
    }

    /// The configuration of a member account's administrator, reached the way AWS allows:
    /// AssumeRole (done by the emulator's world, from the hub).
    pub(crate) fn member_config(&self, account: &str, region: &str) -> aws_config::SdkConfig {
        let c = self
            .emulator
            .control("credentials", Some(json!({ "account": account })));
        let credentials = Credentials::new(
            c["AccessKeyId"].as_str().unwrap(),
            c["SecretAccessKey"].as_str().unwrap(),
            c["SessionToken"].as_str().map(str::to_owned),
            None,
            "member",
        );
        self.emulator.config(region, credentials)
    }

    /// The organization's ARN (its management account is the hub), as RAM names it.
    pub(crate) fn organization_arn(&self) -> String {
        format!(
            "arn:aws:organizations::{}:organization/{}",
            self.hub, self.organization_id
        )
    }

    /// An EC2 client acting in a member account, as its administrator.
    pub(crate) async fn member_ec2(&self, account: &str, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.member_config(account, region))
    }

    pub(crate) async fn aws(&self) -> Arc<Aws> {
        Aws::from_config(self.emulator.hub_config(HUB_REGION), "sgguard-remediation")
            .await
            .unwrap()
    }

    /// The `sgguard` command as the hub runs it against this emulator (hub credentials, home
    /// region), with no sgguard setting from the test's own environment.
    pub(crate) fn cli(&self) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::cargo_bin("sgguard").unwrap();
        command
            .env("AWS_ENDPOINT_URL", &self.emulator.proxy)
            .env("AWS_ACCESS_KEY_ID", "AKIAHUBTESTING000001")
            .env("AWS_SECRET_ACCESS_KEY", "hub-secret")
            .env("AWS_REGION", HUB_REGION);
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SGGUARD_")) {
            command.env_remove(name);
        }
        command
    }

    /// The sweep summary among the inbox's messages (drained): subject and message JSON.
    pub(crate) async fn sweep_summary(&self) -> (String, Value) {
        let (subject, message, _) = self
            .inbox()
            .await
            .into_iter()
            .find(|(_, m, _)| m["kind"] == "sweep")
            .expect("a sweep summary in the inbox");
        (subject, message)
    }

    /// Messages delivered to the inbox so far, drained: (subject, message JSON, attributes).
    pub(crate) async fn inbox(&self) -> Vec<(String, Value, Value)> {
        let drained = self.emulator.control("inbox", None);
        drained["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|envelope| {
                let document: Value =
                    serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
                (
                    envelope["Subject"].as_str().unwrap_or_default().to_owned(),
                    document,
                    envelope["MessageAttributes"].clone(),
                )
            })
            .collect()
    }
}

/// A command's exit code, stdout and stderr.
pub(crate) fn ran(output: &std::process::Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A security group in a member account with rules opened through the real API; returns the
/// group id and the rules AWS created, in CloudTrail's `securityGroupRuleSet` form.
pub(crate) async fn open_rules(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    permissions: Vec<IpPermission>,
) -> (String, Vec<Value>) {
    open_tagged_rules(ec2, name, &[], permissions).await
}

/// A new security group in the account of the client, with tags: its id.
pub(crate) async fn new_group(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    tags: &[(&str, &str)],
) -> String {
    let spec = TagSpecification::builder()
        .resource_type(ResourceType::SecurityGroup)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .build();
    ec2.create_security_group()
        .group_name(name)
        .description("sgguard test")
        .set_tag_specifications((!tags.is_empty()).then(|| vec![spec]))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned()
}

/// [`open_rules`] for a group created with tags.
pub(crate) async fn open_tagged_rules(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    tags: &[(&str, &str)],
    permissions: Vec<IpPermission>,
) -> (String, Vec<Value>) {
    let group_id = new_group(ec2, name, tags).await;
    ec2.authorize_security_group_ingress()
        .group_id(&group_id)
        .set_ip_permissions(Some(permissions))
        .send()
        .await
        .unwrap();
    // What AWS reports in `securityGroupRuleSet`: every rule the call created. (moto's own
    // response lists only the last permission's rules, so the set is read back instead.)
    let rules = group_rules(ec2, &group_id)
        .await
        .iter()
        .filter(|r| !r.is_egress().unwrap_or(false))
        .map(rule_set_item)
        .collect();
    (group_id, rules)
}

pub(crate) fn tcp(port: i32, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

/// Every rule of the group, ingress and egress, as DescribeSecurityGroupRules returns it.
pub(crate) async fn group_rules(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
) -> Vec<SecurityGroupRule> {
    ec2.describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group_id).build())
        .send()
        .await
        .unwrap()
        .security_group_rules()
        .to_vec()
}

/// A rule in CloudTrail's `securityGroupRuleSet` form.
pub(crate) fn rule_set_item(r: &SecurityGroupRule) -> Value {
    json!({
        "groupOwnerId": r.group_owner_id(),
        "groupId": r.group_id(),
        "securityGroupRuleId": r.security_group_rule_id(),
        "isEgress": r.is_egress(),
        "ipProtocol": r.ip_protocol(),
        "fromPort": r.from_port(),
        "toPort": r.to_port(),
        "cidrIpv4": r.cidr_ipv4(),
        "cidrIpv6": r.cidr_ipv6(),
        "prefixListId": r.prefix_list_id(),
    })
}

pub(crate) async fn live_rules(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
) -> Vec<(String, Option<i32>, String)> {
    let mut rules: Vec<(String, Option<i32>, String)> = group_rules(ec2, group_id)
        .await
        .iter()
        .filter(|r| !r.is_egress().unwrap_or(false))
        .map(|r| {
            (
                r.ip_protocol().unwrap_or_default().to_owned(),
                r.from_port(),
                r.cidr_ipv4()
                    .or(r.cidr_ipv6())
                    .or(r.prefix_list_id())
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    rules.sort();
    rules
}
