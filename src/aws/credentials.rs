//! Credentials for member accounts: STS AssumeRole into the remediation role, cached per
//! account until five minutes before they expire. Concurrent requests for one account share a
//! single AssumeRole call (moka's single-flight initialization). Credentials AWS rejects as
//! expired before their time (a revoked session, a clock off) are assumed again on request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};
use aws_sdk_ec2::config::Credentials;

use super::AwsError;

/// How long before expiry cached credentials are replaced.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Session length asked of STS (the role's maximum must allow it; one hour is the default).
const SESSION_SECONDS: i32 = 3600;

#[derive(Clone)]
struct Cached {
    credentials: Credentials,
    expires: Option<SystemTime>,
}

struct UntilExpiry;

impl moka::Expiry<String, Cached> for UntilExpiry {
    fn expire_after_create(&self, _: &String, value: &Cached, _: Instant) -> Option<Duration> {
        let expires = value.expires?;
        let left = expires
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        Some(left.saturating_sub(REFRESH_MARGIN))
    }
}

pub struct CredentialCache {
    sts: aws_sdk_sts::Client,
    role_name: String,
    hub_account: String,
    /// `aws`, `aws-us-gov` or `aws-cn`: the hub's own, from its identity.
    partition: String,
    cache: moka::future::Cache<String, Cached>,
    assume_calls: AtomicUsize,
}

impl CredentialCache {
    pub fn new(
        sts: aws_sdk_sts::Client,
        role_name: &str,
        hub_account: &str,
        partition: &str,
    ) -> Self {
        CredentialCache {
            sts,
            role_name: role_name.to_owned(),
            hub_account: hub_account.to_owned(),
            partition: partition.to_owned(),
            cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .expire_after(UntilExpiry)
                .build(),
            assume_calls: AtomicUsize::new(0),
        }
    }

    pub fn role_name(&self) -> &str {
        &self.role_name
    }

    /// `aws`, `aws-us-gov` or `aws-cn`: the hub's own.
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The role ARN assumed in `account`.
    pub fn role_arn(&self, account: &str) -> String {
        format!(
            "arn:{}:iam::{account}:role/{}",
            self.partition, self.role_name
        )
    }

    /// How many AssumeRole calls this process made.
    pub fn assume_calls(&self) -> usize {
        self.assume_calls.load(Ordering::Relaxed)
    }

    /// Credentials for `account` (`region` only names the failure).
    pub async fn get(&self, account: &str, region: &str) -> Result<Credentials, AwsError> {
        let cached = self
            .cache
            .try_get_with(account.to_owned(), self.assume(account, region))
            .await
            .map_err(|error: Arc<AwsError>| (*error).clone())?;
        Ok(cached.credentials)
    }

    /// Assumes the role in `account` again when the cached credentials are still `stale` (the
    /// ones AWS rejected as expired); credentials another task already refreshed are kept.
    pub async fn refresh(
        &self,
        account: &str,
        region: &str,
        stale: &Credentials,
    ) -> Result<Credentials, AwsError> {
        if let Some(cached) = self.cache.get(account).await
            && cached.credentials.access_key_id() == stale.access_key_id()
        {
            tracing::warn!(
                account,
                region,
                "credentials rejected as expired; assuming the role again"
            );
            self.cache.invalidate(account).await;
        }
        self.get(account, region).await
    }

    async fn assume(&self, account: &str, region: &str) -> Result<Cached, AwsError> {
        self.assume_calls.fetch_add(1, Ordering::Relaxed);
        let role_arn = self.role_arn(account);
        tracing::info!(account, role_arn, "assuming the remediation role");
        let output = self
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(format!("sgguard-{}", self.hub_account))
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| {
                let mut error = AwsError::new("AssumeRole", account, region, &e);
                error.message = format!("cannot assume `{role_arn}`: {}", error.message);
                error
            })?;
        let credentials = output.credentials().ok_or_else(|| AwsError {
            operation: "AssumeRole",
            account: account.to_owned(),
            region: region.to_owned(),
            code: None,
            message: format!("STS returned no credentials for `{role_arn}`"),
        })?;
        let expires = SystemTime::try_from(*credentials.expiration()).ok();
        Ok(Cached {
            credentials: Credentials::new(
                credentials.access_key_id(),
                credentials.secret_access_key(),
                Some(credentials.session_token().to_owned()),
                expires,
                "sgguard-assume-role",
            ),
            expires,
        })
    }
}

/// A member account's credentials for the SDK, read from the cache for each request: a client
/// held through a long sweep of a region gets fresh ones.
pub(super) struct MemberCredentials {
    pub(super) cache: Arc<CredentialCache>,
    pub(super) account: String,
    pub(super) region: String,
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
