//! The AWS API emulator for integration tests: moto server (over HTTP on loopback) behind
//! `tests/hub/emulator.py`'s counting, fault-injecting proxy, and an emulated Organization with
//! the hub and member accounts reached only through AssumeRole, its topic and inbox queue.
//!
//! It needs the project venv that `make test` builds (`VENV`, default `/var/tmp/sgguard-venv`).

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, ResourceType, Tag, TagSpecification};
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
}

impl Emulator {
    pub(crate) fn start() -> Emulator {
        let venv = std::env::var("VENV").unwrap_or_else(|_| "/var/tmp/sgguard-venv".to_owned());
        let python = format!("{venv}/bin/python");
        assert!(
            std::path::Path::new(&python).exists(),
            "the hub tests need the project venv with moto at `{venv}`: run `make test` (or `make venv`)"
        );
        let mut child = Command::new(&python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/hub/emulator.py"
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/hub/emulator.py");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let ports: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("emulator said `{line}`: {e}"));
        Emulator {
            stdin: child.stdin.take(),
            child,
            proxy: ports["proxy"].as_str().unwrap().to_owned(),
        }
    }

    pub(crate) fn control(&self, path: &str, body: Option<Value>) -> Value {
        // A tiny HTTP/1.1 client: the control API is plain JSON on loopback.
        use std::io::{Read, Write};
        let address = self.proxy.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let method = if path == "counts" { "GET" } else { "POST" };
        write!(
            stream,
            "{method} /_sgguard/{path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("{}");
        serde_json::from_str(body).unwrap_or(Value::Null)
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

    pub(crate) fn config(&self, region: &str, credentials: Credentials) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
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

/// The emulated organization: the hub and its members, the topic and the inbox queue.
pub(crate) struct Org {
    pub(crate) emulator: Emulator,
    pub(crate) hub: String,
    pub(crate) members: Vec<String>,
    pub(crate) topic_arn: String,
    pub(crate) queue_url: String,
    pub(crate) sqs: aws_sdk_sqs::Client,
}

impl Org {
    /// The hub and three members (`workload-a`, `workload-b`, `sandbox-c`).
    pub(crate) async fn new() -> Org {
        Org::with_members(&["workload-a", "workload-b", "sandbox-c"]).await
    }

    /// The hub and one member account per name, all below the organization's root.
    pub(crate) async fn with_members(names: &[&str]) -> Org {
        let emulator = Emulator::start();
        let base = emulator.hub_config(HUB_REGION);
        let hub = aws_sdk_sts::Client::new(&base)
            .get_caller_identity()
            .send()
            .await
            .unwrap()
            .account()
            .unwrap()
            .to_owned();
        let organizations = aws_sdk_organizations::Client::new(&base);
        organizations
            .create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .unwrap();
        let mut members = Vec::new();
        for &name in names {
            let created = organizations
                .create_account()
                .account_name(name)
                .email(format!("{name}@example.com"))
                .send()
                .await
                .unwrap();
            members.push(
                created
                    .create_account_status()
                    .unwrap()
                    .account_id()
                    .unwrap()
                    .to_owned(),
            );
        }
        let sns = aws_sdk_sns::Client::new(&base);
        let topic_arn = sns
            .create_topic()
            .name("sgguard-notifications")
            .send()
            .await
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_owned();
        let sqs = aws_sdk_sqs::Client::new(&base);
        let queue_url = sqs
            .create_queue()
            .queue_name("security-inbox")
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_owned();
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes()
            .unwrap()
            .get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .unwrap()
            .clone();
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .unwrap();
        Org {
            emulator,
            hub,
            members,
            topic_arn,
            queue_url,
            sqs,
        }
    }

    /// An EC2 client acting in a member account, reached the way AWS allows: AssumeRole.
    pub(crate) async fn member_ec2(&self, account: &str, region: &str) -> aws_sdk_ec2::Client {
        let sts = aws_sdk_sts::Client::new(&self.emulator.hub_config(region));
        let assumed = sts
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
            ))
            .role_session_name("test-setup")
            .send()
            .await
            .unwrap();
        let c = assumed.credentials().unwrap();
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "member",
        );
        aws_sdk_ec2::Client::new(&self.emulator.config(region, credentials))
    }

    pub(crate) async fn aws(&self) -> Arc<Aws> {
        Aws::from_config(self.emulator.hub_config(HUB_REGION), "sgguard-remediation")
            .await
            .unwrap()
    }

    /// Messages delivered to the inbox so far: (subject, message JSON, attributes).
    pub(crate) async fn inbox(&self) -> Vec<(String, Value, Value)> {
        let mut out = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = received.messages();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let envelope: Value = serde_json::from_str(message.body().unwrap()).unwrap();
                let document: Value =
                    serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
                out.push((
                    envelope["Subject"].as_str().unwrap_or_default().to_owned(),
                    document,
                    envelope["MessageAttributes"].clone(),
                ));
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        out
    }
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

/// [`open_rules`] for a group created with tags.
pub(crate) async fn open_tagged_rules(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    tags: &[(&str, &str)],
    permissions: Vec<IpPermission>,
) -> (String, Vec<Value>) {
    let spec = TagSpecification::builder()
        .resource_type(ResourceType::SecurityGroup)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .build();
    let group_id = ec2
        .create_security_group()
        .group_name(name)
        .description("sgguard test")
        .set_tag_specifications((!tags.is_empty()).then(|| vec![spec]))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    ec2.authorize_security_group_ingress()
        .group_id(&group_id)
        .set_ip_permissions(Some(permissions))
        .send()
        .await
        .unwrap();
    // What AWS reports in `securityGroupRuleSet`: every rule the call created. (moto's own
    // response lists only the last permission's rules, so the set is read back instead.)
    let created = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(&group_id).build())
        .send()
        .await
        .unwrap();
    let rules = created
        .security_group_rules()
        .iter()
        .filter(|r| !r.is_egress().unwrap_or(false))
        .map(|r| {
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
        })
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

pub(crate) async fn live_rules(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
) -> Vec<(String, Option<i32>, String)> {
    let output = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group_id).build())
        .send()
        .await
        .unwrap();
    let mut rules: Vec<(String, Option<i32>, String)> = output
        .security_group_rules()
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
