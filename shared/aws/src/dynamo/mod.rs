//! The domain's state ports on DynamoDB. Items map to and from Rust types with
//! `serde_dynamo` (one row type per table, named after the attributes the table has always
//! had); reads that decide a write are consistent; every state change is a conditional
//! write, and a lost condition is an answer ([`crate::conditional`]), not an error.

pub mod audit;
pub mod cash;
pub mod dispatch;
pub mod history;
pub mod idempotency;
pub mod outbox;
pub mod reviews;
pub mod rules;
pub mod shipments;

pub use audit::DynamoAuditTrail;
pub use cash::DynamoCashBook;
pub use dispatch::DynamoDispatch;
pub use history::DynamoStatusHistory;
pub use idempotency::DynamoIdempotencyStore;
pub use outbox::DynamoOutbox;
pub use reviews::DynamoReviewInbox;
pub use rules::DynamoStoreRules;
pub use shipments::DynamoShipmentStore;

use crate::classify;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::StorageError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// A string attribute value (keys and expression values).
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value.
pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// `value` as an item. Options are left out when empty (never stored as NULL), so that
/// `attribute_not_exists` conditions mean what they say.
pub fn to_item<T: Serialize>(key: &str, value: &T) -> Result<Item, StorageError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(value)
        .map_err(|e| StorageError::corrupt(key, format!("does not serialize: {e}")))
}

/// An item as `T`; a missing or mistyped attribute is [`StorageError::Corrupt`].
pub fn from_item<T: DeserializeOwned>(key: &str, item: Item) -> Result<T, StorageError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| StorageError::corrupt(key, e))
}

/// One DynamoDB table.
#[derive(Clone, Debug)]
pub struct Table {
    pub client: aws_sdk_dynamodb::Client,
    pub name: String,
}

impl Table {
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Table {
        Table {
            client,
            name: name.into(),
        }
    }

    /// The item with partition key `pk`, read consistently (every read that decides a
    /// write is).
    pub async fn get(&self, pk: &str) -> Result<Option<Item>, StorageError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        Ok(out.item)
    }

    pub async fn get_as<T: DeserializeOwned>(&self, pk: &str) -> Result<Option<T>, StorageError> {
        self.get(pk)
            .await?
            .map(|item| from_item(pk, item))
            .transpose()
    }

    /// Every item of the table, every page, read consistently: for the small tables an
    /// operator lists whole (the review inbox, the outbox) and the nightly reconciliation.
    pub async fn scan(&self) -> Result<Vec<Item>, StorageError> {
        self.client
            .scan()
            .table_name(&self.name)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| classify("Scan", e))
    }

    /// Every item under one partition key, in sort-key order, every page, consistently.
    pub async fn query_pk(&self, pk: &str) -> Result<Vec<Item>, StorageError> {
        self.client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| classify("Query", e))
    }

    /// Every item of a global secondary index whose partition key `attribute` is `value`
    /// (eventually consistent: GSIs offer nothing else).
    pub async fn query_index(
        &self,
        index: &str,
        attribute: &str,
        value: &str,
    ) -> Result<Vec<Item>, StorageError> {
        self.client
            .query()
            .table_name(&self.name)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", attribute)
            .expression_attribute_values(":v", s(value))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| classify("Query", e))
    }
}

/// The partition key of an item, for messages about it.
pub fn pk_of(item: &Item) -> String {
    match item.get("pk") {
        Some(AttributeValue::S(pk)) => pk.clone(),
        _ => "<no pk>".to_owned(),
    }
}

/// A value kept as JSON text in a string attribute (the shipment, proof of delivery,
/// review reasons): the attribute shape the tables have always had.
pub mod json_text {
    use serde::de::{DeserializeOwned, Error};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(D::Error::custom)
    }

    /// The same for an optional value (absent when `None`: pair it with
    /// `skip_serializing_if = "Option::is_none"` and `default`).
    pub mod option {
        use serde::de::{DeserializeOwned, Error};
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<T: Serialize, S: Serializer>(
            value: &Option<T>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(value) => super::serialize(value, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<T>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => serde_json::from_str(&text)
                    .map(Some)
                    .map_err(D::Error::custom),
                None => Ok(None),
            }
        }
    }
}

/// Milliseconds since the epoch and RFC 3339 text, as items store them.
pub use domain::clock::{now_ms, rfc3339_now};

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        pk: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_id: Option<String>,
        #[serde(with = "json_text")]
        reasons: Vec<String>,
        #[serde(with = "serde_bytes")]
        body: Vec<u8>,
        count: u64,
        flag: bool,
    }

    #[test]
    fn rows_keep_the_tables_attribute_types_and_leave_empty_options_out() {
        let row = Row {
            pk: "k".into(),
            task_id: None,
            reasons: vec!["a".into()],
            body: vec![0, 255],
            count: 3,
            flag: true,
        };
        let item = to_item("k", &row).unwrap();
        assert!(!item.contains_key("task_id"), "{item:?}");
        assert_eq!(item["reasons"], s(r#"["a"]"#));
        assert!(matches!(&item["body"], AttributeValue::B(b) if b.as_ref() == [0, 255]));
        assert_eq!(item["count"], n(3));
        assert_eq!(item["flag"], AttributeValue::Bool(true));
        assert_eq!(from_item::<Row>("k", item).unwrap(), row);
    }

    #[test]
    fn an_item_of_another_shape_is_corrupt_not_a_panic() {
        let item = Item::from([("pk".to_owned(), s("k")), ("count".to_owned(), s("x"))]);
        assert!(matches!(
            from_item::<Row>("k", item),
            Err(StorageError::Corrupt { key, .. }) if key == "k"
        ));
    }
}
