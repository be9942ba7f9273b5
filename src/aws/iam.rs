//! The spoke's remediation role read back from IAM for the sweep's tamper check: its trust
//! policy, and the policies that decide what it may do (inline, attached managed policies at
//! their default version, the permissions boundary), each as JSON text.

use super::AwsError;

/// IAM is global: errors name this "region".
const GLOBAL: &str = "global";

/// One policy document of the role, named as IAM names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPolicy {
    /// The inline policy's name, or the managed policy's ARN.
    pub name: String,
    /// The document (JSON text, URL-decoded).
    pub document: String,
}

/// What decides the remediation role's permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePolicies {
    /// The inline policies (`PutRolePolicy`).
    pub inline: Vec<NamedPolicy>,
    /// The attached managed policies, each at its default version.
    pub attached: Vec<NamedPolicy>,
    /// The permissions boundary, when the role has one.
    pub boundary: Option<NamedPolicy>,
}

/// The trust policy of role `name` (JSON text, URL-decoded as IAM returns it encoded); `None`
/// when there is no such role.
pub async fn role_trust(
    iam: &aws_sdk_iam::Client,
    account: &str,
    name: &str,
) -> Result<Option<String>, AwsError> {
    let Some(role) = get_role(iam, account, name).await? else {
        return Ok(None);
    };
    Ok(Some(decode_policy(
        role.assume_role_policy_document().unwrap_or_default(),
    )))
}

/// The policies of role `name`; `None` when there is no such role.
pub async fn role_policies(
    iam: &aws_sdk_iam::Client,
    account: &str,
    name: &str,
) -> Result<Option<RolePolicies>, AwsError> {
    let Some(role) = get_role(iam, account, name).await? else {
        return Ok(None);
    };
    let mut policies = RolePolicies::default();
    let inline = iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("ListRolePolicies", account, GLOBAL, &e))?;
    for policy in inline {
        let output = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(&policy)
            .send()
            .await
            .map_err(|e| AwsError::new("GetRolePolicy", account, GLOBAL, &e))?;
        policies.inline.push(NamedPolicy {
            document: decode_policy(output.policy_document()),
            name: policy,
        });
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("ListAttachedRolePolicies", account, GLOBAL, &e))?;
    for policy in attached {
        let arn = policy.policy_arn().unwrap_or_default();
        policies
            .attached
            .push(managed_policy(iam, account, arn).await?);
    }
    if let Some(arn) = role
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
    {
        policies.boundary = Some(managed_policy(iam, account, arn).await?);
    }
    Ok(Some(policies))
}

async fn get_role(
    iam: &aws_sdk_iam::Client,
    account: &str,
    name: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, AwsError> {
    match iam.get_role().role_name(name).send().await {
        Ok(output) => Ok(output.role),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            Ok(None)
        }
        Err(error) => Err(AwsError::new("GetRole", account, GLOBAL, &error)),
    }
}

/// The managed policy `arn` at its default version.
async fn managed_policy(
    iam: &aws_sdk_iam::Client,
    account: &str,
    arn: &str,
) -> Result<NamedPolicy, AwsError> {
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::new("GetPolicy", account, GLOBAL, &e))?;
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap_or("v1");
    let output = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| AwsError::new("GetPolicyVersion", account, GLOBAL, &e))?;
    Ok(NamedPolicy {
        name: arn.to_owned(),
        document: decode_policy(
            output
                .policy_version()
                .and_then(|v| v.document())
                .unwrap_or_default(),
        ),
    })
}

/// IAM returns policy documents URL-encoded (RFC 3986); a document that is already JSON is
/// taken as it is.
fn decode_policy(document: &str) -> String {
    if document.trim_start().starts_with('{') {
        return document.to_owned();
    }
    percent_encoding::percent_decode_str(document)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_decoded_once() {
        assert_eq!(
            decode_policy("%7B%22Version%22%3A%222012-10-17%22%7D"),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(decode_policy(r#"{"a":"%41"}"#), r#"{"a":"%41"}"#);
    }
}
