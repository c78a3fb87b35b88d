//! CloudFront: invalidations, waited for until the edges serve the new objects.

use super::err;
use crate::aws::*;

pub(super) async fn invalidate(
    cloudfront: &aws_sdk_cloudfront::Client,
    distribution_id: &str,
    paths: &[&str],
) -> CloudResult<()> {
    use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
    let build_err = |e: aws_sdk_cloudfront::error::BuildError| CloudError::Transport {
        operation: "CloudFront CreateInvalidation".into(),
        message: e.to_string(),
    };
    let p = Paths::builder()
        .quantity(paths.len() as i32)
        .set_items(Some(paths.iter().map(|s| s.to_string()).collect()))
        .build()
        .map_err(build_err)?;
    let reference = format!(
        "castform-{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
    );
    let batch = InvalidationBatch::builder().paths(p).caller_reference(reference).build().map_err(build_err)?;
    let created = cloudfront
        .create_invalidation()
        .distribution_id(distribution_id)
        .invalidation_batch(batch)
        .send()
        .await
        .map_err(|e| err("CloudFront CreateInvalidation", e))?;
    // Edges serve the old objects until the invalidation is Completed ("When the invalidation
    // batch is finished, the status is Completed", GetInvalidation in the CloudFront API
    // reference), so verification through the CDN must wait for it. The AWS CLI's
    // invalidation-completed waiter gives up after 10 minutes; so does this.
    let Some(id) = created.invalidation().map(|i| i.id().to_string()) else { return Ok(()) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let mut wait = std::time::Duration::from_millis(250);
    loop {
        let got = cloudfront
            .get_invalidation()
            .distribution_id(distribution_id)
            .id(&id)
            .send()
            .await
            .map_err(|e| err("CloudFront GetInvalidation", e))?;
        if got.invalidation().map(|i| i.status()) == Some("Completed") {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(CloudError::Transport {
                operation: "CloudFront GetInvalidation".into(),
                message: format!("invalidation {id} of {distribution_id} not Completed after 10 minutes"),
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(10));
    }
}
