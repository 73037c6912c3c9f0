//! The query engine: runs each target of a query on a std thread of its own, at most
//! `query.max_parallel` at once across the process (exports count too); keeps what runs here so
//! a cancel reaches the database; renews heartbeats and reaps queries of stopped processes.
//!
//! Unlike jobs, queries are not claimed through the store: the process that accepted one runs
//! it (a query is short and its requester waits for it). A cancel asked of another process is
//! seen here through the heartbeat, which also returns the queries asked to cancel.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};

use super::runner;
use crate::config::QuerySettings;
use crate::connectors::Canceller;
use crate::services::error::{Error, Result};
use crate::services::targets::TargetAccess;
use crate::store::jobs::ERROR;
use crate::store::{self, queries as rows, Store};

const HEARTBEAT: Duration = Duration::from_secs(2);
/// A query whose heartbeat is older than this belongs to a process that stopped.
const STALE: Duration = Duration::from_secs(60);

/// One target of a query, running (or waiting for a permit) in this process.
pub(super) struct TargetRun {
    pub target_id: i64,
    pub cancelled: AtomicBool,
    pub canceller: Mutex<Option<Arc<dyn Canceller>>>,
}

impl TargetRun {
    pub(super) fn set_canceller(&self, c: Option<Arc<dyn Canceller>>) {
        *self.canceller.lock().unwrap_or_else(|p| p.into_inner()) = c;
    }

    /// Stops it: nothing further starts, and the running statement is cancelled in its
    /// database (on a thread of its own: cancelling blocks for a round trip).
    pub(super) fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        let c = self
            .canceller
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(c) = c {
            let target = self.target_id;
            std::thread::spawn(move || {
                if let Err(e) = c.cancel() {
                    log::warn!("cancelling a query on target {target}: {e}");
                }
            });
        }
    }
}

pub struct QueryEngine {
    pub(super) id: String,
    pub(super) store: Store,
    pub(super) access: TargetAccess,
    pub(super) settings: QuerySettings,
    pub(super) connect_timeout: Duration,
    permits: Arc<Semaphore>,
    open: Mutex<HashMap<i64, Vec<Arc<TargetRun>>>>,
    changes: broadcast::Sender<i64>,
}

impl std::fmt::Debug for QueryEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryEngine").field("id", &self.id).finish()
    }
}

impl QueryEngine {
    pub fn new(
        store: Store,
        access: TargetAccess,
        settings: QuerySettings,
        connect_timeout: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            id: uuid::Uuid::new_v4().to_string(),
            store,
            access,
            permits: Arc::new(Semaphore::new(settings.max_parallel)),
            settings,
            connect_timeout,
            open: Mutex::new(HashMap::new()),
            changes: broadcast::channel(1024).0,
        })
    }

    fn lock_open(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Vec<Arc<TargetRun>>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn changed(&self, query_id: i64) {
        let _ = self.changes.send(query_id);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    /// Waits for a turn to work on a target (query or export).
    pub(super) async fn permit(&self) -> Result<OwnedSemaphorePermit> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::internal("the query engine is closed"))
    }

    /// Ends queries a previous process left open, then renews heartbeats in the background.
    pub async fn start(self: &Arc<Self>) -> Result<()> {
        let (id, sqlite) = (self.id.clone(), self.store.backend() == "sqlite");
        let stale = stale_before();
        let store = self.store.clone();
        let reaped =
            crate::services::blocking(move || Ok(rows::reap(&store, &id, sqlite, stale)?)).await?;
        if reaped > 0 {
            log::warn!("{reaped} query(ies) left open by a previous process ended as interrupted");
        }
        let me = self.clone();
        actix_web::rt::spawn(async move { me.heartbeat_loop().await });
        Ok(())
    }

    async fn heartbeat_loop(self: Arc<Self>) {
        let mut ticks = 0u64;
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            ticks += 1;
            let open: Vec<i64> = self.lock_open().keys().copied().collect();
            let id = self.id.clone();
            match self
                .store
                .write(move |c| rows::heartbeat(c, &id, &open))
                .await
            {
                Ok(cancel) => cancel.into_iter().for_each(|q| self.cancel_local(q)),
                Err(e) => log::warn!("query heartbeat: {e}"),
            }
            if ticks % 15 == 0 {
                let (id, stale, store) = (self.id.clone(), stale_before(), self.store.clone());
                if let Err(e) =
                    crate::services::blocking(move || Ok(rows::reap(&store, &id, false, stale)?))
                        .await
                {
                    log::warn!("query reaper: {e}");
                }
            }
        }
    }

    /// Starts every target of a new query: each waits for a permit, then runs on a thread.
    pub(super) fn launch(self: &Arc<Self>, query_id: i64, targets: Vec<i64>) {
        let runs: Vec<Arc<TargetRun>> = targets
            .into_iter()
            .map(|target_id| {
                Arc::new(TargetRun {
                    target_id,
                    cancelled: AtomicBool::new(false),
                    canceller: Mutex::new(None),
                })
            })
            .collect();
        self.lock_open().insert(query_id, runs.clone());
        for run in runs {
            let me = self.clone();
            actix_web::rt::spawn(async move {
                let permit = match me.permit().await {
                    Ok(p) => p,
                    Err(e) => {
                        log::error!("query {query_id}: {e}");
                        return;
                    }
                };
                let (worker, target_id) = (me.clone(), run.target_id);
                let spawned = std::thread::Builder::new()
                    .name(format!("autodb-query-{query_id}"))
                    .spawn(move || {
                        runner::run_target(&worker, query_id, &run);
                        drop(permit);
                        worker.target_done(query_id, run.target_id);
                    });
                if let Err(e) = spawned {
                    // The results must still end: record why, off this async worker.
                    log::error!("query {query_id}: cannot start a thread: {e}");
                    let message = format!("AutoDB could not start a thread for this target: {e}");
                    me.target_done(query_id, target_id);
                    let _ = tokio::task::spawn_blocking(move || {
                        runner::fail_all(&me, query_id, target_id, ERROR, message, None)
                    })
                    .await;
                }
            });
        }
    }

    fn target_done(&self, query_id: i64, target_id: i64) {
        let mut open = self.lock_open();
        if let Some(runs) = open.get_mut(&query_id) {
            runs.retain(|r| r.target_id != target_id);
            if runs.is_empty() {
                open.remove(&query_id);
            }
        }
    }

    /// Cancels this process's running targets of a query.
    pub(super) fn cancel_local(&self, query_id: i64) {
        let runs = self.lock_open().get(&query_id).cloned().unwrap_or_default();
        for r in runs {
            r.cancel();
        }
    }
}

fn stale_before() -> chrono::NaiveDateTime {
    store::now() - chrono::Duration::from_std(STALE).unwrap_or_else(|_| chrono::Duration::zero())
}
