//! AWS adapters: the shared configuration, per-account credentials (STS, cached), EC2, RAM, SNS,
//! SQS (the durable record; the depth of the spokes' forwarding dead-letter queues), S3 (the
//! sweep's report, the exemptions file), CloudFormation (the StackSet's instances, for
//! coverage), Organizations, and the spoke's EventBridge rule and IAM role (the sweep's tamper
//! check: trust, policies, boundary). Everything sgguard asks of AWS goes through this module;
//! the IAM actions it needs are listed in `spoke-infra/remediation-actions.json` (member
//! accounts: EC2, RAM, SQS, the tamper check's reads) and `hub/hub-actions.json` (the others),
//! checked against these calls by `tests/offline/iam.rs` and against the requests the
//! integration tests saw (`make test`'s IAM tally check).

mod cloudformation;
mod credentials;
mod dynamodb;
mod ec2;
mod error;
mod https;
mod iam;
mod identity;
mod organizations;
mod prefix_lists;
mod ram;
mod s3;
mod securityhub;
mod sns;
mod spoke;
mod sqs;

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

pub use cloudformation::StackInstance;
pub use credentials::CredentialCache;
use credentials::MemberCredentials;
pub use dynamodb::{Attributes, StateTable};
pub use ec2::{Authorize, Ec2, RevokeOutcome};
pub use error::AwsError;
pub use https::https_client;
pub use iam::{NamedPolicy, RolePolicies};
use identity::{partition_of, role_of_session};
pub use organizations::OrgAccount;
pub use prefix_lists::parse_entries;
pub use ram::{Ram, SharePrincipal, SharedWith};
pub use s3::{Fetched, S3Object, S3Uri, VersionId};
pub use sns::{message_body, publish};
pub use spoke::{ForwardingRule, RuleTarget};
pub use sqs::send_record;

/// Attempts the SDK makes of a call that is throttled or fails transiently.
pub const MAX_ATTEMPTS: u32 = 6;

/// The hub's AWS context: its own configuration and account, and caches for member
/// credentials and account names. Built once per process (Lambda init or CLI start).
pub struct Aws {
    base: SdkConfig,
    hub_account: String,
    /// Who these credentials are (`GetCallerIdentity`): told where sgguard writes for them.
    caller_arn: String,
    /// The hub's own identity (GetCallerIdentity's ARN).
    hub_arn: String,
    credentials: Arc<CredentialCache>,
    account_names: moka::future::Cache<String, Option<String>>,
    /// The organizational units above each account (staged enforcement), nearest first.
    account_units: moka::future::Cache<String, Arc<Vec<String>>>,
    organizations: aws_sdk_organizations::Client,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    cloudformation: aws_sdk_cloudformation::Client,
}

impl Aws {
    /// Loads the standard AWS configuration (environment, profile, container or instance
    /// role; `AWS_ENDPOINT_URL` for the local emulator).
    pub async fn from_env(role_name: &str) -> Result<Arc<Aws>, AwsError> {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .load()
            .await;
        Aws::from_config(base, role_name).await
    }

    /// Builds the context from a given configuration (tests point it at the emulator), with
    /// sgguard's retries and timeouts whatever the configuration said: throttling and
    /// transient errors retried by the SDK (standard mode, 6 attempts), and a hung endpoint
    /// failing the call (then retried) instead of using up the invocation. A configuration
    /// without an HTTP client (the tests' may have none) is given sgguard's, [`https_client`].
    pub async fn from_config(base: SdkConfig, role_name: &str) -> Result<Arc<Aws>, AwsError> {
        let http_client = base.http_client().unwrap_or_else(https_client);
        let base = base
            .into_builder()
            .http_client(http_client)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(200)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .operation_timeout(Duration::from_secs(120))
                    .build(),
            )
            .build();
        let Some(region) = base.region().map(ToString::to_string) else {
            return Err(AwsError {
                operation: "configuration",
                account: "hub".to_owned(),
                region: "none".to_owned(),
                code: None,
                message: "no AWS region is configured: set `AWS_REGION` (the hub's home region)"
                    .to_owned(),
            });
        };
        // Every request carries `app/sgguard` in its User-Agent (the emulator tallies sgguard's
        // own requests by it; CloudTrail records it).
        let base = match AppName::new("sgguard") {
            Ok(name) => base.into_builder().app_name(name).build(),
            Err(_) => base,
        };
        let sts = aws_sdk_sts::Client::new(&base);
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::new("GetCallerIdentity", "hub", &region, &e))?;
        let hub_account = identity.account().unwrap_or_default().to_owned();
        // Member role ARNs are in the hub's own partition (`aws`, `aws-us-gov`, `aws-cn`).
        let partition = partition_of(identity.arn().unwrap_or_default());
        Ok(Arc::new(Aws {
            credentials: Arc::new(CredentialCache::new(
                sts,
                role_name,
                &hub_account,
                &partition,
            )),
            account_names: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            // Accounts move between units rarely; a move takes effect within the TTL.
            account_units: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(900))
                .build(),
            organizations: aws_sdk_organizations::Client::new(&base),
            sns: aws_sdk_sns::Client::new(&base),
            sqs: aws_sdk_sqs::Client::new(&base),
            cloudformation: aws_sdk_cloudformation::Client::new(&base),
            // A custom endpoint (the emulator) takes bucket names in the path, not the host.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&base)
                    .force_path_style(base.endpoint_url().is_some())
                    .build(),
            ),
            hub_arn: identity.arn().unwrap_or_default().to_owned(),
            hub_account,
            caller_arn: identity.arn().unwrap_or_default().to_owned(),
            base,
        }))
    }

    pub fn hub_account(&self) -> &str {
        &self.hub_account
    }

    /// The principal these credentials are (the hub's role, an operator's).
    pub fn caller_arn(&self) -> &str {
        &self.caller_arn
    }

    /// The IAM role the hub runs as, when it runs as one (the Lambda's execution role):
    /// `arn:P:iam::ACCOUNT:role/NAME` from `arn:P:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    /// A role with a path is named without it (STS does not tell the path).
    pub fn hub_role_arn(&self) -> Option<String> {
        role_of_session(&self.hub_arn)
    }

    pub fn role_name(&self) -> &str {
        self.credentials.role_name()
    }

    /// The credential cache (for its AssumeRole count, among others).
    pub fn credentials(&self) -> &CredentialCache {
        &self.credentials
    }

    /// The configuration of clients acting in `account` and `region`: the hub's own credentials
    /// for the hub account, the cached assumed role for any other.
    async fn account_config(&self, account: &str, region: &str) -> Result<SdkConfig, AwsError> {
        let mut config = self
            .base
            .clone()
            .into_builder()
            .region(aws_config::Region::new(region.to_owned()));
        if account != self.hub_account {
            // Assumed now, so that an account that cannot be reached fails here with its
            // reason; the client then asks the cache again whenever its credentials expire.
            self.credentials.get(account, region).await?;
            config =
                config.credentials_provider(SharedCredentialsProvider::new(MemberCredentials {
                    cache: Arc::clone(&self.credentials),
                    account: account.to_owned(),
                    region: region.to_owned(),
                }));
        }
        Ok(config.build())
    }

    /// An EC2 client for `account` in `region`: the hub's own credentials for the hub account,
    /// the cached assumed role for any other.
    pub async fn ec2(&self, account: &str, region: &str) -> Result<Ec2, AwsError> {
        let config = aws_sdk_ec2::config::Builder::from(&self.base)
            .region(aws_sdk_ec2::config::Region::new(region.to_owned()));
        if account == self.hub_account {
            let client = aws_sdk_ec2::Client::from_conf(config.build());
            return Ok(Ec2::new(client, account, region));
        }
        // Assumed now, so that an account that cannot be reached fails here with its reason.
        // The client keeps no credentials of its own: each request takes the cache's, so that
        // credentials refreshed after AWS rejected them as expired are used at once.
        self.credentials.get(account, region).await?;
        let config = config
            .identity_cache(aws_sdk_ec2::config::IdentityCache::no_cache())
            .credentials_provider(MemberCredentials {
                cache: Arc::clone(&self.credentials),
                account: account.to_owned(),
                region: region.to_owned(),
            });
        let client = aws_sdk_ec2::Client::from_conf(config.build());
        Ok(Ec2::new(client, account, region).refreshing(Arc::clone(&self.credentials)))
    }

    /// Imports findings into Security Hub in `account` and `region`, through the role sgguard
    /// assumes there (its own credentials in the hub account); how many were imported.
    pub async fn import_findings(
        &self,
        account: &str,
        region: &str,
        findings: &[crate::finding::AsffFinding],
    ) -> Result<usize, AwsError> {
        let config = self.account_config(account, region).await?;
        securityhub::import(
            &aws_sdk_securityhub::Client::new(&config),
            account,
            region,
            findings,
        )
        .await
    }

    /// The partition of the hub's own identity (`aws`, `aws-us-gov`, `aws-cn`).
    pub fn partition(&self) -> String {
        partition_of(&self.hub_arn)
    }

    /// The spoke's forwarding rule `name` in `account` and `region` (the default bus), read
    /// through the remediation role; `None` when it is missing.
    pub async fn forwarding_rule(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<ForwardingRule>, AwsError> {
        let config = self.account_config(account, region).await?;
        let events = aws_sdk_eventbridge::Client::new(&config);
        spoke::forwarding_rule(&events, account, region, name).await
    }

    /// The trust policy of the remediation role `role` in `account` (JSON text), read through
    /// the role sgguard assumes there; `None` when the role is missing.
    pub async fn remediation_role_trust(
        &self,
        account: &str,
        role: &str,
    ) -> Result<Option<String>, AwsError> {
        let home = self.home_region().to_owned();
        let config = self.account_config(account, &home).await?;
        let iam = aws_sdk_iam::Client::new(&config);
        iam::role_trust(&iam, account, role).await
    }

    /// The policies that decide what the remediation role `role` in `account` may do (inline,
    /// attached, boundary), read through the role sgguard assumes there; `None` when the role
    /// is missing.
    pub async fn remediation_role_policies(
        &self,
        account: &str,
        role: &str,
    ) -> Result<Option<RolePolicies>, AwsError> {
        let home = self.home_region().to_owned();
        let config = self.account_config(account, &home).await?;
        let iam = aws_sdk_iam::Client::new(&config);
        iam::role_policies(&iam, account, role).await
    }

    /// The account's name from Organizations, cached; `None` when Organizations cannot tell
    /// (not a member, no permission): a name is nice to have, never a reason to fail.
    pub async fn account_name(&self, account: &str) -> Option<String> {
        let organizations = self.organizations.clone();
        let id = account.to_owned();
        self.account_names
            .get_with(id.clone(), async move {
                match organizations.describe_account().account_id(&id).send().await {
                    Ok(output) => output.account().and_then(|a| a.name()).map(str::to_owned),
                    Err(error) => {
                        tracing::debug!(account = %id, error = %aws_sdk_organizations::error::DisplayErrorContext(&error), "no account name");
                        None
                    }
                }
            })
            .await
    }

    /// The organizational units above the account, nearest first, then the root; cached for
    /// 15 minutes (a failure is not cached).
    pub async fn account_units(&self, account: &str) -> Result<Arc<Vec<String>>, AwsError> {
        let organizations = self.organizations.clone();
        let id = account.to_owned();
        self.account_units
            .try_get_with(id.clone(), async move {
                organizations::units_above(&organizations, &id)
                    .await
                    .map(Arc::new)
            })
            .await
            .map_err(|e| (*e).clone())
    }

    /// Whether the organization has the account, unit or root `scope`.
    pub async fn has_scope(&self, scope: &crate::ids::ScopeId) -> Result<bool, AwsError> {
        organizations::has_scope(&self.organizations, scope).await
    }

    /// The organization's management account.
    pub async fn management_account(&self) -> Result<String, AwsError> {
        organizations::management_account(&self.organizations).await
    }

    /// Every account of the organization.
    pub async fn organization_accounts(&self) -> Result<Vec<OrgAccount>, AwsError> {
        organizations::all_accounts(&self.organizations).await
    }

    /// The accounts below organizational units (or roots), nested units included.
    pub async fn accounts_under(&self, parents: &[String]) -> Result<Vec<OrgAccount>, AwsError> {
        organizations::accounts_under(&self.organizations, parents).await
    }

    /// The hub state table `name` in the hub's home region, with the hub's own credentials.
    pub fn state_table(&self, name: &str) -> StateTable {
        StateTable::new(
            aws_sdk_dynamodb::Client::new(&self.base),
            name,
            &self.hub_account,
            self.home_region(),
        )
    }

    /// The hub's home region (where account-wide calls such as DescribeRegions go).
    pub fn home_region(&self) -> &str {
        self.base.region().map_or("us-east-1", |r| r.as_ref())
    }

    pub fn sns(&self) -> &aws_sdk_sns::Client {
        &self.sns
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        &self.sqs
    }

    /// Puts one event on the bus `bus_arn` with the hub's own credentials (`source: sgguard`);
    /// the event id.
    pub async fn put_event(
        &self,
        bus_arn: &str,
        detail_type: &str,
        detail: &str,
    ) -> Result<String, AwsError> {
        let region = bus_arn
            .parse::<crate::ids::Arn>()
            .map_or_else(|_| "?".to_owned(), |arn| arn.region().to_owned());
        let config = self
            .base
            .clone()
            .into_builder()
            .region(aws_config::Region::new(region.clone()))
            .build();
        spoke::put_event(
            &aws_sdk_eventbridge::Client::new(&config),
            bus_arn,
            detail_type,
            detail,
        )
        .await
    }

    /// The approximate number of messages in the queue `name` of `account` and `region` (the
    /// spoke's forwarding dead-letter queue), read through the role sgguard assumes there (its
    /// own credentials in the hub account); `None` when there is no such queue.
    pub async fn queue_depth(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<u64>, AwsError> {
        let config = self.account_config(account, region).await?;
        let url = sqs::queue_url(&self.partition(), region, account, name);
        sqs::queue_depth(&aws_sdk_sqs::Client::new(&config), &url, account, region).await
    }

    /// The spoke StackSet's instances (coverage).
    pub async fn stack_instances(
        &self,
        name: &str,
        call_as: &str,
    ) -> Result<Vec<StackInstance>, AwsError> {
        cloudformation::stack_instances(&self.cloudformation, name, call_as).await
    }

    /// An object's text from S3 in the hub account (the exemptions file).
    pub async fn object_text(&self, uri: &S3Uri) -> Result<Fetched, AwsError> {
        s3::get_text(&self.s3, uri).await
    }

    /// An object's text from S3 in the hub account at the version it names, or its current
    /// text (the mode per scope).
    pub async fn object_text_at(&self, object: &S3Object) -> Result<Fetched, AwsError> {
        s3::get_text_at(&self.s3, &object.uri, object.version.as_ref()).await
    }

    /// Writes a text object to S3 in the hub account (the exemptions file) if it is still the
    /// version read (entity tag `etag`; `None`: still absent); `Ok(false)` when it changed. The
    /// object says who wrote it: `by` (a command) and these credentials' principal.
    pub async fn put_text_if(
        &self,
        uri: &S3Uri,
        text: &str,
        etag: Option<&str>,
        by: &str,
    ) -> Result<bool, AwsError> {
        let written_by = format!("{by} as {}", self.caller_arn);
        s3::put_text_if(&self.s3, uri, text, etag, &written_by).await
    }

    /// Writes a JSON document to S3 in the hub account (the sweep's report).
    pub async fn put_json(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), AwsError> {
        s3::put_json(&self.s3, bucket, key, body).await
    }
}
