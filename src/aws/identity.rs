//! Who the hub's credentials are: the role and the partition read from its caller ARN.

/// The role ARN of an assumed-role session ARN.
pub(super) fn role_of_session(arn: &str) -> Option<String> {
    let arn = arn
        .parse::<crate::ids::Arn>()
        .ok()
        .filter(|arn| arn.service() == "sts")?;
    let role = arn
        .resource()
        .strip_prefix("assumed-role/")?
        .split('/')
        .next()?;
    Some(format!(
        "arn:{}:iam::{}:role/{role}",
        arn.partition(),
        arn.account()
    ))
}

/// The partition of an ARN (`arn:PARTITION:…`); `aws` when it cannot be read.
pub(super) fn partition_of(arn: &str) -> String {
    arn.parse::<crate::ids::Arn>()
        .map_or_else(|_| "aws".to_owned(), |arn| arn.partition().to_owned())
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

    #[test]
    fn the_hub_role_comes_from_its_session() {
        assert_eq!(
            role_of_session("arn:aws-us-gov:sts::111122223333:assumed-role/sgguard-lambda/fn")
                .as_deref(),
            Some("arn:aws-us-gov:iam::111122223333:role/sgguard-lambda")
        );
        assert_eq!(
            role_of_session("arn:aws:iam::111122223333:user/alice"),
            None
        );
        assert_eq!(role_of_session(""), None);
    }
}
