//! Interruptions: Ctrl-C, SIGTERM or SIGHUP during a run restore what it changed before the
//! process exits.

use super::*;

/// Resolves when the run is asked to stop: Ctrl-C (SIGINT), SIGTERM (a CI job cancelled, a
/// container stopped) or SIGHUP (the terminal went away). A deploy or rollback then restores
/// what it changed before exiting ([`interrupted`]).
pub async fn interruption() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs a deploy or a rollback (`work`) until it ends or the process is asked to stop; then
/// what it changed is restored ([`interrupted`]) before the error is returned.
pub async fn until_interrupted<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    progress: &Progress,
    journal: &Mutex<Journal>,
    work: impl std::future::Future<Output = Result<Record, DeployError>>,
) -> Result<Record, DeployError> {
    tokio::select! {
        r = work => r,
        _ = interruption() => Err(interrupted(cloud, env, app, progress, journal).await),
    }
}

/// After an interruption (Ctrl-C, SIGTERM): restore what the journal says this run may have
/// changed, a stack whose change set was executing included (the restore waits for its operation
/// to settle first), put a pipeline this run took off air back on air, and release the lock.
pub async fn interrupted<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    progress: &Progress,
    journal: &Mutex<Journal>,
) -> DeployError {
    progress.warn("interrupted: restoring what this run changed");
    let (kind, id, backup, touched, files, written, locked, stopped) = {
        let j = lock_journal(journal);
        (
            if j.kind.is_empty() { "deploy" } else { j.kind },
            j.id.clone(),
            j.backup.clone(),
            j.touched.clone(),
            j.files_written,
            j.written.clone(),
            j.locked,
            j.stopped_live.clone(),
        )
    };
    let run = Run::new(cloud, env, app, progress, journal);
    let state = &run.state;
    if let Some(p) = &stopped {
        let _ = crate::ops::media::stop_pipeline(cloud, &pipeline_now(&run, p).await, false).await;
    }
    let outcome = match backup {
        Some(b) if !touched.is_empty() || files => match restore(&run, &b, &id, &touched, files, &written).await {
            Ok(restored) => DeployError::Restored {
                id: id.clone(),
                env: env.name.clone(),
                failure: "interrupted (Ctrl-C, SIGTERM or SIGHUP)".into(),
                restored,
            },
            Err(e) => DeployError::Unrestored {
                id: id.clone(),
                env: env.name.clone(),
                failure: "interrupted (Ctrl-C, SIGTERM or SIGHUP)".into(),
                restore_error: e,
                backup: format!("s3://{}/{}", state.bucket, state.backup_prefix(&id)),
            },
        },
        _ => DeployError::Refused(
            "interrupted (Ctrl-C, SIGTERM or SIGHUP) before anything in the environment was changed".into(),
        ),
    };
    if let Some(p) = &stopped {
        back_on_air(&run, p).await;
    }
    if !matches!(outcome, DeployError::Refused(_)) {
        // the ledger says what happened to this run
        let (who, host) = crate::state::who();
        let mut record = Record::new(&id, kind, &app.app, &env.name, &env.region, &now(), (&who, &host), &env.account);
        record.finished = now();
        record.error = Some("interrupted (Ctrl-C, SIGTERM or SIGHUP)".into());
        if let DeployError::Restored { restored, .. } = &outcome {
            record.result = "rolled-back".into();
            record.restored = restored.clone();
        }
        record.leftovers = lock_journal(journal).leftovers.clone();
        let _ = ledger::write(cloud, state, &record).await;
    }
    if locked {
        let _ = lock::release(cloud, state, &id).await;
    }
    outcome
}
