//! An AWS call that failed: the operation, account and region, AWS's code and message, and
//! what kind of failure it is (denied, expired credentials, denied by an SCP).

use aws_sdk_sts::error::ProvideErrorMetadata;

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

    /// Denied by a service control policy (AWS names the policy type in the message): a region
    /// or service the organization does not use, not a failure of sgguard's.
    pub fn is_denied_by_scp(&self) -> bool {
        self.is_access_denied()
            && self
                .message
                .to_ascii_lowercase()
                .contains("service control polic")
    }

    pub fn code_is(&self, prefix: &str) -> bool {
        self.code.as_deref().is_some_and(|c| c.starts_with(prefix))
    }
}
