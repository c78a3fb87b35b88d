//! The assets step: each stack's Lambda packages, content-addressed (by sha256) in the state
//! bucket of the stack's region, uploaded once; never restored, since a key names one content.

use super::*;

/// Uploads the packages the state bucket does not have yet; returns every asset key of the app.
pub(super) async fn upload<C: Cloud>(run: &Run<'_, C>) -> Result<Vec<String>, DeployError> {
    let (cloud, env, app, state, journal, progress) = run.parts();
    let _s = step(journal, "assets");
    progress.step("assets", "content-addressed in the state bucket");
    let mut seen: Vec<(String, String)> = vec![];
    for s in &app.stacks {
        // Lambda takes code only from a bucket in the function's own region
        let bucket = state.assets_bucket(&s.region);
        let regional = cloud.for_region(&s.region);
        for a in &s.assets {
            if seen.contains(&(bucket.clone(), a.key.clone())) {
                continue;
            }
            seen.push((bucket.clone(), a.key.clone()));
            if regional
                .object_exists(&bucket, &a.key)
                .await
                .map_err(|e| DeployError::Refused(format!("assets: {e}")))?
            {
                progress.info(&format!("{} unchanged ({} bytes, {})", a.key, a.size, a.source.display()));
                continue;
            }
            let (bytes, built) = zip_asset(&env.root, a).map_err(|e| {
                DeployError::Refused(format!(
                    "assets: {e}\nhelp: restore the folder or point the environment file at the code"
                ))
            })?;
            if built.sha256 != a.sha256 {
                return Err(DeployError::Refused(format!(
                    "assets: {} changed while deploying (sha256 {} became {}); nothing was deployed",
                    a.source.display(),
                    a.sha256,
                    built.sha256
                )));
            }
            regional
                .put_object(&bucket, &a.key, bytes, "application/zip", false)
                .await
                .map_err(|e| DeployError::Refused(format!("assets: {e}")))?;
            progress.info(&format!("{} uploaded to {bucket} ({} bytes, {})", a.key, a.size, a.source.display()));
        }
    }
    let mut keys: Vec<String> = seen.into_iter().map(|(_, k)| k).collect();
    keys.dedup();
    Ok(keys)
}
