//! DynamoDB: the hub state table (`SGGUARD_STATE_TABLE`, created by the hub module; partition
//! key `pk` and sort key `sk`, both strings; TTL attribute `expires_at`, epoch seconds). This
//! adapter knows items and conditions only; what the items mean is `enforce::state`'s.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::AwsError;

/// The counter attribute of a counting item.
const COUNT: &str = "n";

/// Until when a held item is held (epoch seconds).
const HELD_UNTIL: &str = "held_until";

/// One item's string attributes besides its keys (the state keeps every value as a string).
pub type Attributes = BTreeMap<String, String>;

/// The hub state table, read and written with the hub's own credentials.
#[derive(Clone)]
pub struct StateTable {
    client: aws_sdk_dynamodb::Client,
    name: String,
    account: String,
    region: String,
}

impl std::fmt::Debug for StateTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateTable({})", self.name)
    }
}

/// Whether a conditional write was refused because its condition did not hold.
fn refused(error: &AwsError) -> bool {
    error.code.as_deref() == Some("ConditionalCheckFailedException")
}

/// The item's key, as the SDK takes it.
fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// The whole item: its key, its string attributes and its expiry.
fn item(
    pk: &str,
    sk: &str,
    attributes: &Attributes,
    expires_at: i64,
) -> HashMap<String, AttributeValue> {
    key(pk, sk)
        .into_iter()
        .chain(
            attributes
                .iter()
                .map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))),
        )
        .chain([(
            "expires_at".to_owned(),
            AttributeValue::N(expires_at.to_string()),
        )])
        .collect()
}

impl StateTable {
    pub fn new(client: aws_sdk_dynamodb::Client, name: &str, account: &str, region: &str) -> Self {
        StateTable {
            client,
            name: name.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }

    fn error<E>(&self, operation: &'static str, error: &E) -> AwsError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut error = AwsError::new(operation, &self.account, &self.region, error);
        error.message = format!("{} (table `{}`)", error.message, self.name);
        error
    }

    /// Adds one to the counter `pk`/`sk` unless it already holds `limit`, in one conditional
    /// atomic update (every writer at once sees the same count); `false` when the limit held
    /// it back. The item expires at `expires_at` (epoch seconds).
    pub async fn count_up(
        &self,
        pk: &str,
        sk: &str,
        limit: u64,
        expires_at: i64,
    ) -> Result<bool, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key(pk, sk)))
            .update_expression("ADD #n :one SET expires_at = :expires")
            .condition_expression("attribute_not_exists(#n) OR #n < :limit")
            .expression_attribute_names("#n", COUNT)
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N(expires_at.to_string()))
            .send()
            .await
            .map_err(|e| self.error("UpdateItem", &e));
        match result {
            Ok(_) => Ok(true),
            Err(error) if refused(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Writes the item `pk`/`sk` with `attributes`, expiring at `expires_at`. With `if_absent`
    /// only when no such item exists: `false` when one did (nothing written).
    pub async fn put(
        &self,
        pk: &str,
        sk: &str,
        attributes: &Attributes,
        expires_at: i64,
        if_absent: bool,
    ) -> Result<bool, AwsError> {
        let mut request = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item(pk, sk, attributes, expires_at)));
        if if_absent {
            request = request.condition_expression("attribute_not_exists(pk)");
        }
        match request.send().await.map_err(|e| self.error("PutItem", &e)) {
            Ok(_) => Ok(true),
            Err(error) if if_absent && refused(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Writes the item `pk`/`sk` with `attributes`, held until `held_until` (epoch seconds),
    /// unless it exists and is still held, or is held no more (written without a hold); `false`
    /// when one of those held it back (nothing written). A writer that died holding it gives it
    /// up when its hold ends.
    pub async fn hold(
        &self,
        pk: &str,
        sk: &str,
        attributes: &Attributes,
        held_until: i64,
        expires_at: i64,
    ) -> Result<bool, AwsError> {
        let now = jiff::Timestamp::now().as_second();
        let result = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item(pk, sk, attributes, expires_at)))
            .item(HELD_UNTIL, AttributeValue::N(held_until.to_string()))
            .condition_expression("attribute_not_exists(pk) OR #held < :now")
            .expression_attribute_names("#held", HELD_UNTIL)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await
            .map_err(|e| self.error("PutItem", &e));
        match result {
            Ok(_) => Ok(true),
            Err(error) if refused(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The string attributes of the item `pk`/`sk` (a strongly consistent read); `None` when
    /// there is none.
    pub async fn get(&self, pk: &str, sk: &str) -> Result<Option<Attributes>, AwsError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("GetItem", &e))?;
        Ok(output.item().map(strings))
    }

    /// Every item of the partition `pk` that has not expired (a strongly consistent query,
    /// every page), each as its sort key and string attributes.
    pub async fn partition(&self, pk: &str) -> Result<Vec<(String, Attributes)>, AwsError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk")
            .filter_expression("attribute_not_exists(expires_at) OR expires_at > :now")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .expression_attribute_values(
                ":now",
                AttributeValue::N(jiff::Timestamp::now().as_second().to_string()),
            )
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut items = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| self.error("Query", &e))?;
            let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()) else {
                continue;
            };
            items.push((sk.clone(), strings(&item)));
        }
        Ok(items)
    }

    /// Deletes the item `pk`/`sk` (gone already is fine).
    pub async fn delete(&self, pk: &str, sk: &str) -> Result<(), AwsError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key(pk, sk)))
            .send()
            .await
            .map_err(|e| self.error("DeleteItem", &e))?;
        Ok(())
    }
}

/// An item's string attributes besides its keys.
fn strings(item: &HashMap<String, AttributeValue>) -> Attributes {
    item.iter()
        .filter(|(name, _)| !matches!(name.as_str(), "pk" | "sk"))
        .filter_map(|(name, value)| Some((name.clone(), value.as_s().ok()?.clone())))
        .collect()
}
