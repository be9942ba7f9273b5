//! Customer-managed prefix lists in one account and region: their entries (now or at a
//! version), their current version, and restoring an earlier version (a fix at the source). An
//! entry whose CIDR does not parse is an error naming the list and the entry, never dropped.

use ipnet::IpNet;

use super::{AwsError, Ec2};

/// The entries of prefix list `list_id` as EC2 gives them (`None`: an entry without a CIDR),
/// parsed; the first that does not parse is the error, naming the list and the entry.
pub fn parse_entries<'a>(
    list_id: &str,
    cidrs: impl IntoIterator<Item = Option<&'a str>>,
) -> Result<Vec<IpNet>, String> {
    cidrs
        .into_iter()
        .map(|cidr| {
            let text = cidr.unwrap_or_default();
            text.trim().parse::<IpNet>().map_err(|_| {
                format!(
                    "prefix list `{list_id}` has an entry `{text}` that is not a CIDR: the rules \
                     that use the list cannot be judged"
                )
            })
        })
        .collect()
}

impl Ec2 {
    /// The entries of a managed prefix list: the current ones, or those of `version`.
    pub async fn prefix_list_entries(
        &self,
        prefix_list_id: &str,
        version: Option<i64>,
    ) -> Result<Vec<IpNet>, AwsError> {
        self.once_refreshed(|| self.prefix_list_entries_once(prefix_list_id, version))
            .await
    }

    async fn prefix_list_entries_once(
        &self,
        prefix_list_id: &str,
        version: Option<i64>,
    ) -> Result<Vec<IpNet>, AwsError> {
        const OPERATION: &str = "GetManagedPrefixListEntries";
        let mut pages = self
            .client
            .get_managed_prefix_list_entries()
            .prefix_list_id(prefix_list_id)
            .set_target_version(version)
            .into_paginator()
            .send();
        let mut cidrs = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error(OPERATION, &e))?;
            cidrs.extend(page.entries().iter().map(|e| e.cidr().map(str::to_owned)));
        }
        parse_entries(prefix_list_id, cidrs.iter().map(Option::as_deref)).map_err(|message| {
            AwsError {
                operation: OPERATION,
                account: self.account.clone(),
                region: self.region.clone(),
                code: None,
                message,
            }
        })
    }

    /// The list's current version; `None` when the list is not found or has no version (an
    /// AWS-managed list).
    pub async fn prefix_list_version(&self, prefix_list_id: &str) -> Result<Option<i64>, AwsError> {
        self.once_refreshed(|| async {
            match self
                .client
                .describe_managed_prefix_lists()
                .prefix_list_ids(prefix_list_id)
                .send()
                .await
            {
                Ok(output) => Ok(output
                    .prefix_lists()
                    .iter()
                    .find(|l| l.prefix_list_id() == Some(prefix_list_id))
                    .and_then(|l| l.version())),
                Err(error) => {
                    let error = self.error("DescribeManagedPrefixLists", &error);
                    if error.code_is("InvalidPrefixListID.NotFound") {
                        Ok(None)
                    } else {
                        Err(error)
                    }
                }
            }
        })
        .await
    }

    /// Restores the list to `previous` version, replacing `current` (EC2 refuses when the list
    /// is no longer at `current`: a later change is never overwritten).
    pub async fn restore_prefix_list(
        &self,
        prefix_list_id: &str,
        previous: i64,
        current: i64,
    ) -> Result<(), AwsError> {
        self.once_refreshed(|| async {
            self.client
                .restore_managed_prefix_list_version()
                .prefix_list_id(prefix_list_id)
                .previous_version(previous)
                .current_version(current)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.error("RestoreManagedPrefixListVersion", &e))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_that_is_not_a_cidr_names_the_list_and_the_entry() {
        assert_eq!(
            parse_entries("pl-1", [Some("10.0.0.0/8"), Some(" ::/0 ")]),
            Ok(vec!["10.0.0.0/8".parse().unwrap(), "::/0".parse().unwrap()])
        );
        let error = parse_entries("pl-1", [Some("10.0.0.0/8"), Some("10.0.0.0/33")]).unwrap_err();
        assert!(
            error.contains("`pl-1`") && error.contains("`10.0.0.0/33`"),
            "{error}"
        );
        assert!(parse_entries("pl-1", [None]).is_err());
    }
}
