//! S3: the state bucket (private, encrypted, versioned, owned by the account its name says) and
//! the objects castform keeps in it or serves from a site's bucket.

use super::err;
use crate::aws::*;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types as s3t;

/// [`delete_versions`] deletes up to 1,000 versions a round: a bucket or key that still has
/// versions after this many rounds has a writer.
const DELETE_MAX_ROUNDS: usize = 1_000;

/// The account that must own a castform state bucket, read from its name
/// (`castform-<account>-<region>`): every call on it says so (`ExpectedBucketOwner`), so a
/// bucket of that predictable name in another account is refused rather than written to or
/// read from (code review). `None` for other buckets (a site's, named by its stack).
fn owner_of(bucket: &str) -> Option<String> {
    let account = bucket.strip_prefix("castform-")?.split('-').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_string())
}

pub(super) async fn bucket_exists(s3: &Client, bucket: &str) -> CloudResult<bool> {
    match s3.head_bucket().bucket(bucket).set_expected_bucket_owner(owner_of(bucket)).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            if status == Some(404) { Ok(false) } else { Err(err(&format!("S3 HeadBucket s3://{bucket}"), e)) }
        }
    }
}

pub(super) async fn create_state_bucket(s3: &Client, region: &str, bucket: &str) -> CloudResult<()> {
    if !bucket_exists(s3, bucket).await? {
        let mut req = s3.create_bucket().bucket(bucket);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                s3t::CreateBucketConfiguration::builder()
                    .location_constraint(s3t::BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        req.send().await.map_err(|e| err("S3 CreateBucket", e))?;
    }
    s3.put_public_access_block()
        .bucket(bucket)
        .set_expected_bucket_owner(owner_of(bucket))
        .public_access_block_configuration(
            s3t::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| err("S3 PutPublicAccessBlock", e))?;
    let by_default = s3t::ServerSideEncryptionByDefault::builder()
        .sse_algorithm(s3t::ServerSideEncryption::Aes256)
        .build()
        .map_err(|e| CloudError::Transport { operation: "S3 PutBucketEncryption".into(), message: e.to_string() })?;
    let sse = s3t::ServerSideEncryptionConfiguration::builder()
        .rules(s3t::ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).build())
        .build()
        .map_err(|e| CloudError::Transport { operation: "S3 PutBucketEncryption".into(), message: e.to_string() })?;
    s3.put_bucket_encryption()
        .bucket(bucket)
        .set_expected_bucket_owner(owner_of(bucket))
        .server_side_encryption_configuration(sse)
        .send()
        .await
        .map_err(|e| err("S3 PutBucketEncryption", e))?;
    s3.put_bucket_versioning()
        .bucket(bucket)
        .set_expected_bucket_owner(owner_of(bucket))
        .versioning_configuration(
            s3t::VersioningConfiguration::builder().status(s3t::BucketVersioningStatus::Enabled).build(),
        )
        .send()
        .await
        .map_err(|e| err("S3 PutBucketVersioning", e))?;
    Ok(())
}

pub(super) async fn put_object(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
    if_absent: bool,
) -> CloudResult<()> {
    let mut req = s3
        .put_object()
        .bucket(bucket)
        .set_expected_bucket_owner(owner_of(bucket))
        .key(key)
        .body(ByteStream::from(body))
        .content_type(content_type);
    if if_absent {
        req = req.if_none_match("*");
    }
    req.send().await.map_err(|e| err(&format!("S3 PutObject s3://{bucket}/{key}"), e))?;
    Ok(())
}

pub(super) async fn get_object(s3: &Client, bucket: &str, key: &str) -> CloudResult<Option<Vec<u8>>> {
    let limit = crate::aws::limits::object_read();
    tokio::time::timeout(limit, read_object(s3, bucket, key)).await.unwrap_or_else(|_| {
        Err(CloudError::Transport {
            operation: format!("S3 GetObject s3://{bucket}/{key}"),
            message: format!(
                "the object was not read within {} s; the read was given up\nhelp: check the network and AWS_ENDPOINT_URL, then run the command again",
                limit.as_secs()
            ),
        })
    })
}

async fn read_object(s3: &Client, bucket: &str, key: &str) -> CloudResult<Option<Vec<u8>>> {
    match s3.get_object().bucket(bucket).set_expected_bucket_owner(owner_of(bucket)).key(key).send().await {
        Ok(out) => {
            let bytes = out.body.collect().await.map_err(|e| CloudError::Transport {
                operation: format!("S3 GetObject s3://{bucket}/{key}"),
                message: e.to_string(),
            })?;
            Ok(Some(bytes.into_bytes().to_vec()))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(err(&format!("S3 GetObject s3://{bucket}/{key}"), e)),
    }
}

/// A conditional PutObject (`If-None-Match: *` or `If-Match: <ETag>`); returns the new ETag. S3
/// answers 412 when the condition does not hold and 409 ConditionalRequestConflict to the loser of
/// two concurrent ones, both `PreconditionFailed` here
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>).
pub(super) async fn put_object_if(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
    condition: IfObject<'_>,
) -> CloudResult<String> {
    let req = s3
        .put_object()
        .bucket(bucket)
        .set_expected_bucket_owner(owner_of(bucket))
        .key(key)
        .body(ByteStream::from(body))
        .content_type(content_type);
    let req = match condition {
        IfObject::Absent => req.if_none_match("*"),
        IfObject::Matches(etag) => req.if_match(etag),
    };
    let out = req.send().await.map_err(|e| err(&format!("S3 PutObject s3://{bucket}/{key}"), e))?;
    Ok(out.e_tag().unwrap_or_default().to_string())
}

/// GetObject with the object's ETag.
pub(super) async fn get_object_tagged(s3: &Client, bucket: &str, key: &str) -> CloudResult<Option<(Vec<u8>, String)>> {
    match s3.get_object().bucket(bucket).set_expected_bucket_owner(owner_of(bucket)).key(key).send().await {
        Ok(out) => {
            let etag = out.e_tag().unwrap_or_default().to_string();
            let bytes = out.body.collect().await.map_err(|e| CloudError::Transport {
                operation: format!("S3 GetObject s3://{bucket}/{key}"),
                message: e.to_string(),
            })?;
            Ok(Some((bytes.into_bytes().to_vec(), etag)))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(err(&format!("S3 GetObject s3://{bucket}/{key}"), e)),
    }
}

/// DeleteObject with `If-Match: <ETag>`
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html>).
pub(super) async fn delete_object_if(s3: &Client, bucket: &str, key: &str, etag: &str) -> CloudResult<()> {
    s3.delete_object()
        .bucket(bucket)
        .set_expected_bucket_owner(owner_of(bucket))
        .key(key)
        .if_match(etag)
        .send()
        .await
        .map_err(|e| err(&format!("S3 DeleteObject s3://{bucket}/{key}"), e))?;
    Ok(())
}

pub(super) async fn object_exists(s3: &Client, bucket: &str, key: &str) -> CloudResult<bool> {
    match s3.head_object().bucket(bucket).set_expected_bucket_owner(owner_of(bucket)).key(key).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
        Err(e) => Err(err(&format!("S3 HeadObject s3://{bucket}/{key}"), e)),
    }
}

pub(super) async fn delete_object(s3: &Client, bucket: &str, key: &str) -> CloudResult<()> {
    s3.delete_object()
        .bucket(bucket)
        .set_expected_bucket_owner(owner_of(bucket))
        .key(key)
        .send()
        .await
        .map_err(|e| err(&format!("S3 DeleteObject s3://{bucket}/{key}"), e))?;
    Ok(())
}

pub(super) async fn delete_object_versions(s3: &Client, bucket: &str, key: &str) -> CloudResult<usize> {
    delete_versions(s3, bucket, Some(key)).await
}

pub(super) async fn list_objects(s3: &Client, bucket: &str, prefix: &str) -> CloudResult<Vec<String>> {
    // ListObjectsV2's paginator has pages only (S3's model names no items)
    let pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .set_expected_bucket_owner(owner_of(bucket))
        .prefix(prefix)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| err(&format!("S3 ListObjectsV2 s3://{bucket}/{prefix}"), e))?;
    let mut keys: Vec<String> =
        pages.iter().flat_map(|page| page.contents()).filter_map(|o| o.key().map(str::to_string)).collect();
    keys.sort();
    Ok(keys)
}

pub(super) async fn empty_bucket(s3: &Client, bucket: &str) -> CloudResult<usize> {
    delete_versions(s3, bucket, None).await
}

/// Deletes every version and delete marker of exactly `key`, or of the whole bucket without one;
/// returns how many. ListObjectVersions has no paginator in the SDK (S3's model gives it none:
/// awslabs/aws-sdk-rust#1450), and none is needed: each round deletes what the first page lists
/// and lists again, until a page lists nothing to delete. Listed with the key as prefix, the key's
/// own versions come first (S3 lists keys in binary order, and a key sorts before every longer key
/// it begins), so a page without them means none are left.
async fn delete_versions(s3: &Client, bucket: &str, key: Option<&str>) -> CloudResult<usize> {
    let place = key.map_or_else(|| bucket.to_string(), |k| format!("s3://{bucket}/{k}"));
    let fail = |message: String| CloudError::Transport { operation: format!("S3 DeleteObjects {place}"), message };
    let mut deleted = 0;
    for _ in 0..DELETE_MAX_ROUNDS {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_of(bucket))
            .set_prefix(key.map(str::to_string))
            .send()
            .await
            .map_err(|e| err(&format!("S3 ListObjectVersions {place}"), e))?;
        let listed = (page.versions().iter().map(|v| (v.key(), v.version_id())))
            .chain(page.delete_markers().iter().map(|m| (m.key(), m.version_id())));
        let ids = listed
            .filter(|(k, _)| k.is_some_and(|k| key.is_none_or(|key| k == key)))
            .map(|(k, version)| {
                s3t::ObjectIdentifier::builder()
                    .set_key(k.map(str::to_string))
                    .set_version_id(version.map(str::to_string))
                    .build()
                    .map_err(|e| fail(e.to_string()))
            })
            .collect::<CloudResult<Vec<_>>>()?;
        if ids.is_empty() {
            return Ok(deleted);
        }
        deleted += ids.len();
        let delete =
            s3t::Delete::builder().set_objects(Some(ids)).quiet(true).build().map_err(|e| fail(e.to_string()))?;
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_of(bucket))
            .delete(delete)
            .send()
            .await
            .map_err(|e| err(&format!("S3 DeleteObjects {place}"), e))?;
        // a version S3 will not delete (object lock, access denied) would make this loop
        // forever (code review): stop and say which
        if let Some(e) = out.errors().first() {
            return Err(fail(format!(
                "{} of {} versions could not be deleted; first: {} ({}): {}",
                out.errors().len(),
                deleted,
                e.key().unwrap_or("?"),
                e.code().unwrap_or("?"),
                e.message().unwrap_or("")
            )));
        }
    }
    Err(fail(format!(
        "still not empty after {DELETE_MAX_ROUNDS} rounds ({deleted} versions deleted): something keeps writing to it"
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_state_buckets_owner_comes_from_its_name() {
        assert_eq!(super::owner_of("castform-372241484305-us-west-2").as_deref(), Some("372241484305"));
        assert_eq!(super::owner_of("orders-prod-web-sitebucket"), None);
        assert_eq!(super::owner_of("castform-assets-us-west-2"), None);
    }
}
