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

#[cfg(test)]
mod tests {
    use super::AwsError;

    fn denied(code: &str, message: &str) -> AwsError {
        AwsError {
            operation: "DescribeSecurityGroups",
            account: "111122223333".to_owned(),
            region: "ap-east-1".to_owned(),
            code: Some(code.to_owned()),
            message: format!("{code}: {message}"),
        }
    }

    /// EC2 names the policy type in its `UnauthorizedOperation` message, before the encoded
    /// authorization message (the form AWS returns since its access-denied messages gained
    /// the policy type; seen in public reports of EC2 denials by an SCP).
    #[test]
    fn an_scp_denial_is_told_from_a_missing_permission_by_ec2s_message() {
        let explicit = denied(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation. User: \
             arn:aws:sts::111122223333:assumed-role/sgguard-remediation/sgguard is not \
             authorized to perform: ec2:DescribeSecurityGroups with an explicit deny in a \
             service control policy. Encoded authorization failure message: g4oZPBq",
        );
        let implicit = denied(
            "AccessDenied",
            "User: arn:aws:sts::111122223333:assumed-role/sgguard-audit/s is not authorized \
             to perform: ec2:DescribeRegions because no service control policy allows the \
             ec2:DescribeRegions action",
        );
        assert!(explicit.is_denied_by_scp() && implicit.is_denied_by_scp());
        // Without the policy type (a role missing the permission, or EC2's short form): a
        // failure to report, never a region to skip.
        let iam = denied(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation. User: \
             arn:aws:sts::111122223333:assumed-role/sgguard-remediation/sgguard is not \
             authorized to perform: ec2:DescribeSecurityGroups because no identity-based \
             policy allows the ec2:DescribeSecurityGroups action",
        );
        let short = denied(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        );
        assert!(!iam.is_denied_by_scp() && !short.is_denied_by_scp());
        assert!(iam.is_access_denied() && short.is_access_denied());
    }
}
