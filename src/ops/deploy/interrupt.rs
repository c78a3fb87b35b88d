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

/// Where the signals that stop a run come from, one at a time.
pub(crate) trait Stops {
    fn next(&mut self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>;
}

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP, listened to from the moment this is made: a signal that
/// comes while a restore is being prepared is not missed.
pub(crate) struct Signals {
    #[cfg(unix)]
    streams: Option<[tokio::signal::unix::Signal; 3]>,
}

impl Signals {
    pub(crate) fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = match (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) {
                (Ok(i), Ok(t), Ok(h)) => Some([i, t, h]),
                _ => None,
            };
            Signals { streams }
        }
        #[cfg(not(unix))]
        Signals {}
    }
}

impl Stops for Signals {
    fn next(&mut self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>> {
        Box::pin(async move {
            #[cfg(unix)]
            if let Some([i, t, h]) = &mut self.streams {
                tokio::select! {
                    _ = i.recv() => {}
                    _ = t.recv() => {}
                    _ = h.recv() => {}
                }
                return;
            }
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Runs `work`, a restore, to its end whatever signals come: stopped half-way it would leave the
/// environment half-restored. Each further Ctrl-C or SIGTERM is answered with what happens and
/// how the restore is resumed if the process is killed all the same (review S3-22).
pub(crate) async fn keep_on<T>(
    progress: &Progress,
    env: &str,
    stops: &mut dyn Stops,
    work: impl std::future::Future<Output = T>,
) -> T {
    keep_on_with(work, stops, || progress.warn(&still_restoring(env))).await
}

/// What a signal during a restore is answered with.
pub(crate) fn still_restoring(env: &str) -> String {
    format!(
        "the restore goes on: stopped half-way it would leave {env} half-restored; if this process is killed all the same, `castform unlock {env} --restore` resumes it from any host"
    )
}

async fn keep_on_with<T>(
    work: impl std::future::Future<Output = T>,
    stops: &mut dyn Stops,
    mut answer: impl FnMut(),
) -> T {
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            out = &mut work => return out,
            _ = stops.next() => answer(),
        }
    }
}

/// After an interruption (Ctrl-C, SIGTERM): restore what the journal says this run may have
/// changed, a stack whose change set was executing included (the restore waits for its operation
/// to settle first), put a pipeline this run took off air back on air, and release the lock. The
/// lock says which restore is under way first, so that if the process is killed all the same
/// (a CI runner's grace period ends), `castform unlock ENV --restore` resumes it from any host.
/// A run interrupted while it restored a killed run's environment finishes that restore.
pub async fn interrupted<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    progress: &Progress,
    journal: &Mutex<Journal>,
) -> DeployError {
    // from now on, a further signal is answered rather than lost
    let mut stops = Signals::listen();
    let run = Run::new(cloud, env, app, progress, journal);
    let recovering = lock_journal(journal).recovering.clone();
    if let Some(target) = recovering {
        progress.warn(&format!(
            "interrupted while restoring {} to the backup of {}: {}",
            env.name,
            target.run.deployment,
            still_restoring(&env.name)
        ));
        return match keep_on(progress, &env.name, &mut stops, recover(&run, &target)).await {
            Ok(_) => {
                unlock(&run).await;
                DeployError::Refused(format!(
                    "interrupted (Ctrl-C, SIGTERM or SIGHUP) after {} was put back to the backup of {}; this run changed nothing else",
                    env.name, target.run.deployment
                ))
            }
            Err(e) => {
                hand_back(&run).await;
                e
            }
        };
    }
    progress.warn("interrupted: restoring what this run changed");
    let (kind, id, backup, touched, files, written, stopped) = {
        let j = lock_journal(journal);
        (
            if j.kind.is_empty() { "deploy" } else { j.kind },
            j.id.clone(),
            j.backup.clone(),
            j.touched.clone(),
            j.files_written,
            j.written.clone(),
            j.stopped_live.clone(),
        )
    };
    let state = &run.state;
    if let Some(p) = &stopped {
        let _ = crate::ops::media::stop_pipeline(cloud, &pipeline_now(&run, p).await, false).await;
    }
    let outcome = match backup {
        Some(b) if !touched.is_empty() || files => {
            say_restoring(&run, &touched, files, &written).await;
            match keep_on(progress, &env.name, &mut stops, restore(&run, &b, &id, &touched, files, &written)).await {
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
            }
        }
        _ => DeployError::Refused(
            "interrupted (Ctrl-C, SIGTERM or SIGHUP) before anything in the environment was changed".into(),
        ),
    };
    if let Some(p) = &stopped {
        back_on_air(&run, p).await;
    }
    if let DeployError::Refused(m) = &outcome {
        settle_record(&run, "interrupted", m).await;
    } else {
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
    unlock(&run).await;
    outcome
}

/// The lock this run holds, rewritten (`If-Match`) to say the restore it is making: what a
/// resume from another host needs if this process is killed mid-way.
async fn say_restoring<C: Cloud>(run: &Run<'_, C>, touched: &[String], files: bool, written: &[(String, String)]) {
    let (me, etag) = {
        let j = lock_journal(run.journal);
        (j.lock.clone(), j.lock_etag.clone())
    };
    let (Some(me), Some(etag)) = (me, etag) else { return };
    let restoring = lock::Restoring {
        run: lock::LockInfo { restoring: None, ..me.clone() },
        stacks: touched.to_vec(),
        files,
        written: written.to_vec(),
    };
    let intent = lock::LockInfo { restoring: Some(Box::new(restoring)), ..me };
    match lock::replace(run.cloud, &run.state, &run.env.name, &etag, &intent).await {
        Ok(etag) => {
            let mut j = lock_journal(run.journal);
            j.lock = Some(intent);
            j.lock_etag = Some(etag);
        }
        Err(e) => run.progress.warn(&format!("the lock could not say which restore is under way: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Review S3-22: Ctrl-C or SIGTERM during a restore neither stops it nor goes unanswered:
    /// the restore runs to its end and each signal is answered.
    #[tokio::test(start_paused = true)]
    async fn signals_during_a_restore_are_answered_and_the_restore_goes_on() {
        let signals = AtomicUsize::new(0);
        let answered = AtomicUsize::new(0);
        let restore = async {
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            "restored"
        };
        // a CI runner's cancellation: SIGINT, then SIGTERM, then nothing more (SIGKILL is not caught)
        struct Runner<'a>(&'a AtomicUsize);
        impl Stops for Runner<'_> {
            fn next(&mut self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>> {
                let n = self.0.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    if n < 2 {
                        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    } else {
                        std::future::pending::<()>().await;
                    }
                })
            }
        }
        let out = keep_on_with(restore, &mut Runner(&signals), || {
            answered.fetch_add(1, Ordering::SeqCst);
        })
        .await;
        assert_eq!(out, "restored");
        assert_eq!(answered.load(Ordering::SeqCst), 2, "each signal answered");
        assert!(still_restoring("prod").contains("`castform unlock prod --restore` resumes it"));
    }
}
