//! Live media around a change (P08): a pipeline taken off air for a change MediaLive makes only
//! while idle (`--restart-live`) is started again after it, and after any failure.

use super::*;

/// `--restart-live` (media review L1): the pipeline goes off air for a change MediaLive makes
/// only while idle; the journal remembers it so a failure or an interruption starts it again.
pub(crate) async fn off_air<C: Cloud>(run: &Run<'_, C>, live: &crate::ops::media::LivePlan) -> Result<(), String> {
    let (cloud, _, _, state, journal, progress) = run.parts();
    if !live.restart {
        return Ok(());
    }
    let _s = step(journal, "off air");
    progress.step("off air", "stopping the pipeline for a change MediaLive makes only while idle");
    // written before the stop, so that the recovery of this run, if it is killed, starts the
    // pipeline again (the journal dies with the process)
    let id = lock_journal(journal).id.clone();
    let body = serde_json::to_vec(&live.pipeline).map_err(|e| e.to_string())?;
    cloud
        .put_object(&state.bucket, &state.off_air_key(&id), body, "application/json", false)
        .await
        .map_err(|e| format!("recording that the pipeline goes off air: {e}"))?;
    lock_journal(journal).stopped_live = Some(live.pipeline.clone());
    for d in crate::ops::media::stop_pipeline(cloud, &live.pipeline, live.stop_flow)
        .await
        .map_err(|e| format!("taking the pipeline off air: {e:#}"))?
    {
        progress.info(&d);
    }
    Ok(())
}

/// After the change: the pipeline [`off_air`] stopped is started again, and the stream checked
/// (flow ACTIVE, channel RUNNING, HLS answering); the checks go into the record.
pub(crate) async fn on_air<C: Cloud>(
    run: &Run<'_, C>,
    live: &crate::ops::media::LivePlan,
    record: &mut Record,
) -> Result<(), String> {
    let (cloud, _, app, _, journal, progress) = run.parts();
    if !live.restart {
        return Ok(());
    }
    let _s = step(journal, "on air");
    progress.step("on air", "starting the pipeline again and checking the stream");
    let pipeline = crate::ops::media::locate(cloud, app).await.map_err(|e| format!("{e:#}"))?;
    for d in crate::ops::media::start_pipeline(cloud, &pipeline).await.map_err(|e| format!("back on air: {e:#}"))? {
        progress.info(&d);
    }
    let checks = verify::stream(cloud, &pipeline).await;
    for c in &checks {
        progress.info(&format!("{} {}: {}", if c.ok { "ok" } else { "FAILED" }, c.name, c.detail));
    }
    record.checks.extend(checks.clone());
    if let Some(bad) = checks.iter().find(|c| !c.ok) {
        return Err(format!("the stream is not back: {}: {}", bad.name, bad.detail));
    }
    Ok(())
}

/// The pipeline as it is now, for a restore to stop and then start: located again, since a
/// failed run may have replaced the channel or the flow it stopped (review S3-10); the ids the run
/// began with where it cannot be located.
pub(super) async fn pipeline_now<C: Cloud>(
    run: &Run<'_, C>,
    stopped: &crate::ops::media::Pipeline,
) -> crate::ops::media::Pipeline {
    crate::ops::media::locate(run.cloud, run.app).await.unwrap_or_else(|_| stopped.clone())
}

/// A failed or interrupted run never leaves the stream off without saying so: the pipeline as it
/// now is (located again) is started, and checked; what is not on air is named, with the command
/// that puts it back.
pub(super) async fn back_on_air<C: Cloud>(run: &Run<'_, C>, stopped: &crate::ops::media::Pipeline) {
    let (cloud, env, _, _, _, progress) = run.parts();
    let p = pipeline_now(run, stopped).await;
    let help = format!("run `castform media start {}`", env.name);
    match crate::ops::media::start_pipeline(cloud, &p).await {
        Ok(done) => done.iter().for_each(|d| progress.info(&format!("back on air: {d}"))),
        Err(e) => progress.warn(&format!("the pipeline could not be started again: {e:#}; {help}")),
    }
    if let Err(e) = crate::ops::media::ended_as_asked(cloud, &p, true).await {
        progress.warn(&format!(
            "the pipeline is not back on air: {}; {help}",
            format!("{e:#}").lines().next().unwrap_or_default()
        ));
    }
}
