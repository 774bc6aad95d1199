//! Reading DynamoDB attribute maps without panics: a missing or mistyped attribute is a
//! typed [`AwsError::Corrupt`].

use super::AwsError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub struct Reader<'a> {
    key: &'a str,
    item: &'a Item,
}

impl<'a> Reader<'a> {
    pub fn new(key: &'a str, item: &'a Item) -> Self {
        Reader { key, item }
    }

    fn corrupt(&self, problem: String) -> AwsError {
        AwsError::Corrupt {
            key: self.key.to_owned(),
            problem,
        }
    }

    pub fn opt_s(&self, name: &str) -> Result<Option<String>, AwsError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
            Some(_) => Err(self.corrupt(format!("{name} is not a string"))),
        }
    }

    pub fn s(&self, name: &str) -> Result<String, AwsError> {
        self.opt_s(name)?
            .ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub fn opt_n<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, AwsError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => v
                .parse()
                .map(Some)
                .map_err(|_| self.corrupt(format!("{name} is not a number of the expected kind"))),
            Some(_) => Err(self.corrupt(format!("{name} is not a number"))),
        }
    }

    pub fn n<T: std::str::FromStr>(&self, name: &str) -> Result<T, AwsError> {
        self.opt_n(name)?
            .ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub fn opt_b(&self, name: &str) -> Result<Option<Vec<u8>>, AwsError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::B(v)) => Ok(Some(v.clone().into_inner())),
            Some(_) => Err(self.corrupt(format!("{name} is not binary"))),
        }
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, AwsError> {
        let text = self.s(name)?;
        serde_json::from_str(&text).map_err(|e| self.corrupt(format!("{name}: {e}")))
    }

    pub fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, AwsError> {
        match self.opt_s(name)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| self.corrupt(format!("{name}: {e}"))),
        }
    }
}

/// Milliseconds since the epoch, the form every timestamp takes in conditions (numbers
/// compare correctly; RFC 3339 strings with varying fractions do not).
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn rfc3339_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
