//! The reports bucket (S3): each day's COD reconciliation as CSV and HTML under
//! `cod/<day>/`. Writing a report again replaces it with the same bytes: a re-run adds no
//! object.

use crate::classify;
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use domain::ports::{ReportObject, ReportShelf};
use domain::StorageError;

pub struct S3ReportShelf {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// An S3 client for `sdk`. With an emulator endpoint (`AWS_ENDPOINT_URL`) buckets are
/// addressed by path: moto and LocalStack serve `http://host/bucket/key`, not `bucket.host`.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::from(sdk);
    if sdk.endpoint_url().is_some() {
        config = config.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

impl S3ReportShelf {
    pub fn new(sdk: &aws_config::SdkConfig, bucket: &str) -> Self {
        S3ReportShelf {
            client: s3_client(sdk),
            bucket: bucket.to_owned(),
        }
    }
}

#[async_trait]
impl ReportShelf for S3ReportShelf {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| classify("PutObject", e))?;
        Ok(())
    }

    /// The report files under `prefix`, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<ReportObject>, StorageError> {
        let pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| classify("ListObjectsV2", e))?;
        let mut objects: Vec<ReportObject> = pages
            .into_iter()
            .flat_map(|page| page.contents.unwrap_or_default())
            .filter_map(|object| {
                Some(ReportObject {
                    size: object.size.unwrap_or(0),
                    key: object.key?,
                })
            })
            .collect();
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// One report file, or `None` if there is none under `key`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(classify("GetObject", e)),
        };
        let bytes = out.body.collect().await.map_err(|e| StorageError::Call {
            operation: "GetObject",
            message: e.to_string(),
            transient: true,
        })?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }
}
