//! The job engine: claims waiting runs from the store and executes them on threads of their
//! own, within a global and a per-target limit. HTTP workers never wait on it.
//!
//! Exactly-once across processes: a run is claimed by a compare-and-set on its status (with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL) and holds a lease that a heartbeat renews; runs whose
//! lease lapses (their process died) are ended as `interrupted` errors, to be retried by a person.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, Notify};

use super::runner;
use crate::config::EngineSettings;
use crate::connectors::Canceller;
use crate::services::error::{Error, Result};
use crate::services::targets::TargetAccess;
use crate::store::{self, jobs as rows, Store};

/// A run executing in this process.
pub(super) struct Running {
    pub target_id: i64,
    pub cancelled: Arc<AtomicBool>,
    pub canceller: Option<Arc<dyn Canceller>>,
}

pub struct JobEngine {
    pub(super) id: String,
    pub(super) store: Store,
    pub(super) access: TargetAccess,
    pub(super) settings: EngineSettings,
    wake: Notify,
    pub(super) running: Mutex<HashMap<i64, Running>>,
    /// Job ids whose state changed, for live event streams.
    pub(super) changes: broadcast::Sender<i64>,
    /// Ended runs, to the thread that records them in batches (`runner::record_ends`).
    pub(super) ends: std::sync::mpsc::Sender<runner::RunEnded>,
}

impl std::fmt::Debug for JobEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobEngine").field("id", &self.id).finish()
    }
}

impl JobEngine {
    /// The engine, with the thread that records run ends (it holds only a weak reference and
    /// ends with the engine, when its channel closes). Call `start` to begin dispatching.
    pub fn new(store: Store, access: TargetAccess, settings: EngineSettings) -> Result<Arc<Self>> {
        let (ends, received) = std::sync::mpsc::channel();
        let engine = Arc::new(Self {
            id: uuid::Uuid::new_v4().to_string(),
            store,
            access,
            settings,
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
            changes: broadcast::channel(1024).0,
            ends,
        });
        let me = Arc::downgrade(&engine);
        std::thread::Builder::new()
            .name("autodb-run-ends".into())
            .spawn(move || runner::record_ends(&me, &received))
            .map_err(|e| Error::internal(format!("cannot start the run-end thread: {e}")))?;
        Ok(engine)
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.settings.lease_s as i64)
    }

    pub(super) fn lock_running(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Something changed (a job was submitted, a run ended): look for work now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(super) fn changed(&self, job_id: i64) {
        let _ = self.changes.send(job_id);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    /// Ends runs a previous process left `running`, then starts the dispatcher and heartbeat on
    /// the current async runtime.
    pub async fn start(self: &Arc<Self>) -> Result<()> {
        let (id, sqlite) = (self.id.clone(), self.store.backend() == "sqlite");
        let reaped = self
            .store
            .write(move |c| rows::reap(c, &id, sqlite))
            .await?;
        if reaped > 0 {
            log::warn!("{reaped} run(s) left running by a previous process ended as interrupted");
        }
        // Scripts from before scripts were sealed are sealed before anything runs.
        let secrets = self.access.secrets.clone();
        let store = self.store.clone();
        let sealed =
            crate::services::blocking(move || super::seal_legacy_scripts(&store, &secrets)).await?;
        if sealed > 0 {
            log::info!("{sealed} job script(s) from before scripts were sealed are now sealed");
        }
        let me = self.clone();
        actix_web::rt::spawn(async move { me.dispatch_loop().await });
        let me = self.clone();
        actix_web::rt::spawn(async move { me.heartbeat_loop().await });
        Ok(())
    }

    async fn dispatch_loop(self: Arc<Self>) {
        loop {
            let claimed = match self.claim_some().await {
                Ok(n) => n,
                Err(e) => {
                    log::warn!("job dispatcher: {e}");
                    0
                }
            };
            if claimed == 0 {
                // Woken by a submit or a finished run; the timeout picks up work other
                // processes made runnable.
                let _ = tokio::time::timeout(
                    Duration::from_millis(self.settings.poll_ms),
                    self.wake.notified(),
                )
                .await;
            }
        }
    }

    async fn claim_some(self: &Arc<Self>) -> Result<usize> {
        let (free, mut per_target) = {
            let running = self.lock_running();
            let mut per_target: HashMap<i64, usize> = HashMap::new();
            for r in running.values() {
                *per_target.entry(r.target_id).or_default() += 1;
            }
            (
                self.settings
                    .max_parallel_runs
                    .saturating_sub(running.len()),
                per_target,
            )
        };
        if free == 0 {
            return Ok(0);
        }
        let limit = self.settings.max_parallel_runs_per_target;
        let (id, lease_until) = (self.id.clone(), store::now() + self.lease());
        if !self.store.run(rows::any_claimable).await? {
            return Ok(0);
        }
        let claimed = self
            .store
            .write(move |c| {
                rows::claim(c, &id, lease_until, free, |target| {
                    let n = per_target.entry(target).or_default();
                    if *n >= limit {
                        return true;
                    }
                    *n += 1;
                    false
                })
            })
            .await?;
        let count = claimed.len();
        for run in claimed {
            self.changed(run.job_id);
            runner::spawn(self.clone(), run);
        }
        Ok(count)
    }

    async fn heartbeat_loop(self: Arc<Self>) {
        let every = Duration::from_millis(self.settings.poll_ms.max(200));
        let mut reap_at = std::time::Instant::now();
        loop {
            tokio::time::sleep(every).await;
            let (id, lease_until) = (self.id.clone(), store::now() + self.lease());
            let local: Vec<i64> = self.lock_running().keys().copied().collect();
            match self
                .store
                .write(move |c| rows::heartbeat(c, &id, &local, lease_until))
                .await
            {
                // Cancels asked for through another process reach our runs here.
                Ok(to_cancel) => to_cancel.into_iter().for_each(|r| self.cancel_local(r)),
                Err(e) => log::warn!("job heartbeat: {e}"),
            }
            if reap_at.elapsed() >= Duration::from_secs(self.settings.lease_s) {
                reap_at = std::time::Instant::now();
                let id = self.id.clone();
                match self.store.write(move |c| rows::reap(c, &id, false)).await {
                    Ok(0) => {}
                    Ok(n) => {
                        log::warn!("{n} run(s) of a stopped AutoDB process ended as interrupted");
                        self.wake();
                    }
                    Err(e) => log::warn!("job reaper: {e}"),
                }
            }
        }
    }

    /// Stops a run of this process: no further statement starts, and the running one is
    /// cancelled in its database (on a thread: drivers block).
    pub(super) fn cancel_local(&self, run_id: i64) {
        let canceller = {
            let running = self.lock_running();
            let Some(r) = running.get(&run_id) else {
                return;
            };
            r.cancelled.store(true, Ordering::SeqCst);
            r.canceller.clone()
        };
        if let Some(c) = canceller {
            std::thread::spawn(move || {
                if let Err(e) = c.cancel() {
                    log::warn!("cancelling run {run_id}: {e}");
                }
            });
        }
    }
}
