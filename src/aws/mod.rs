//! AWS adapters: the shared configuration, per-account credentials (STS, cached), EC2, SNS and
//! Organizations. Everything sgguard asks of AWS goes through this module; the IAM actions it
//! needs are listed in `spoke-infra/remediation-actions.json` (EC2) and `hub/hub-actions.json`
//! (the others), checked against these calls by `tests/iam.rs` and against the requests the
//! integration tests saw (`make test`'s IAM tally check).

mod credentials;
mod ec2;
mod organizations;
mod sns;

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};
use aws_sdk_sts::error::ProvideErrorMetadata;

pub use credentials::CredentialCache;
pub use ec2::{Ec2, RevokeOutcome};
pub use organizations::OrgAccount;
pub use sns::{message_body, publish};

/// Attempts the SDK makes of a call that is throttled or fails transiently.
pub const MAX_ATTEMPTS: u32 = 6;

/// An AWS call that failed, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} in account `{account}`, region `{region}` failed: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    pub account: String,
    pub region: String,
    /// The AWS error code (`AccessDenied`, `InvalidGroup.NotFound`, …) when AWS gave one.
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn new<E>(operation: &'static str, account: &str, region: &str, error: &E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = error.code().map(str::to_owned);
        let message = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => aws_sdk_sts::error::DisplayErrorContext(error).to_string(),
        };
        AwsError {
            operation,
            account: account.to_owned(),
            region: region.to_owned(),
            code,
            message,
        }
    }

    /// Denied by IAM or an SCP: retrying will not help until someone fixes permissions.
    pub fn is_access_denied(&self) -> bool {
        self.code.as_deref().is_some_and(|code| {
            code.contains("AccessDenied")
                || code.contains("UnauthorizedOperation")
                || code.contains("AuthFailure")
                || code == "InvalidClientTokenId"
        })
    }

    /// AWS took the credentials for expired or unknown (an assumed session's token): assuming
    /// the role again may help, once.
    pub fn is_expired_credentials(&self) -> bool {
        self.code.as_deref().is_some_and(|code| {
            code.starts_with("ExpiredToken")
                || code == "RequestExpired"
                || code == "InvalidClientTokenId"
        })
    }

    pub fn code_is(&self, prefix: &str) -> bool {
        self.code.as_deref().is_some_and(|c| c.starts_with(prefix))
    }
}

/// The hub's AWS context: its own configuration and account, and caches for member
/// credentials and account names. Built once per process (Lambda init or CLI start).
pub struct Aws {
    base: SdkConfig,
    hub_account: String,
    credentials: Arc<CredentialCache>,
    account_names: moka::future::Cache<String, Option<String>>,
    organizations: aws_sdk_organizations::Client,
    sns: aws_sdk_sns::Client,
}

impl Aws {
    /// Loads the standard AWS configuration (environment, profile, container or instance
    /// role; `AWS_ENDPOINT_URL` for the local emulator).
    pub async fn from_env(role_name: &str) -> Result<Arc<Aws>, AwsError> {
        let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Aws::from_config(base, role_name).await
    }

    /// Builds the context from a given configuration (tests point it at the emulator), with
    /// sgguard's retries and timeouts whatever the configuration said: throttling and
    /// transient errors retried by the SDK (standard mode, 6 attempts), and a hung endpoint
    /// failing the call (then retried) instead of using up the invocation.
    pub async fn from_config(base: SdkConfig, role_name: &str) -> Result<Arc<Aws>, AwsError> {
        let base = base
            .into_builder()
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
            organizations: aws_sdk_organizations::Client::new(&base),
            sns: aws_sdk_sns::Client::new(&base),
            hub_account,
            base,
        }))
    }

    pub fn hub_account(&self) -> &str {
        &self.hub_account
    }

    pub fn role_name(&self) -> &str {
        self.credentials.role_name()
    }

    /// The credential cache (for its AssumeRole count, among others).
    pub fn credentials(&self) -> &CredentialCache {
        &self.credentials
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

    /// Every account of the organization.
    pub async fn organization_accounts(&self) -> Result<Vec<OrgAccount>, AwsError> {
        organizations::all_accounts(&self.organizations).await
    }

    /// The accounts below organizational units (or roots), nested units included.
    pub async fn accounts_under(&self, parents: &[String]) -> Result<Vec<OrgAccount>, AwsError> {
        organizations::accounts_under(&self.organizations, parents).await
    }

    /// The hub's home region (where account-wide calls such as DescribeRegions go).
    pub fn home_region(&self) -> &str {
        self.base.region().map_or("us-east-1", |r| r.as_ref())
    }

    pub fn sns(&self) -> &aws_sdk_sns::Client {
        &self.sns
    }
}

/// A member account's credentials for the SDK, read from the cache for each request: a client
/// held through a long sweep of a region gets fresh ones.
struct MemberCredentials {
    cache: Arc<CredentialCache>,
    account: String,
    region: String,
}

impl std::fmt::Debug for MemberCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemberCredentials({})", self.account)
    }
}

impl ProvideCredentials for MemberCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.cache
                .get(&self.account, &self.region)
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

/// The partition of an ARN (`arn:PARTITION:…`); `aws` when it cannot be read.
fn partition_of(arn: &str) -> String {
    match arn.split(':').nth(1) {
        Some(partition) if arn.starts_with("arn:") && !partition.is_empty() => partition.to_owned(),
        _ => "aws".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_comes_from_the_hub_s_own_arn() {
        assert_eq!(
            partition_of("arn:aws:sts::111122223333:assumed-role/hub/s"),
            "aws"
        );
        assert_eq!(
            partition_of("arn:aws-us-gov:iam::111122223333:user/x"),
            "aws-us-gov"
        );
        assert_eq!(
            partition_of("arn:aws-cn:sts::111122223333:assumed-role/hub/s"),
            "aws-cn"
        );
        assert_eq!(partition_of(""), "aws");
    }
}
