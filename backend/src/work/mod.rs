//! The one engine for all background work. Work items (`store::work`) of several kinds — job
//! runs, query targets, later grant restores and schedule fires — are claimed from the store
//! with a compare-and-set, held under a lease fenced by a token, executed on the bounded target
//! pool ([`pool`]), and ended through one batched recorder. One heartbeat renews every lease
//! this process holds; one watchdog stops what it could not renew in time; one reaper ends or
//! re-queues what other processes let lapse; one change bus tells live views what changed.
//!
//! **Fencing.** A run that cannot renew its lease before it lapses is stopped by the watchdog
//! (its statement is cancelled in the database), so nothing of it runs once another process may
//! have decided about it. The reaper's decision and a run's end are each one compare-and-set on
//! the item's token: whichever comes first counts, and the other is told so — a late end is
//! recorded as late by its kind, never over the reaper's decision. Nothing runs twice.
//!
//! A kind ([`Kind`]) says what an item means: how its subject starts, what executing it does,
//! how its end is written, and what happens to it when its lease lapses.

pub mod pool;
mod registry;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, Notify};

pub use pool::{Lane, Pool};
use registry::Registry;
pub use registry::Stop;

use crate::connectors::Canceller;
use crate::store::work::{self as rows, Item};
use crate::store::{self, Store, StoreError, WriteTx};

/// A kind of work. Implemented by the services (jobs, queries, …); the engine calls it.
pub trait Kind: Send + Sync + 'static {
    /// The `work_items.kind` it owns.
    fn name(&self) -> &'static str;
    /// The pool lane its items run in.
    fn lane(&self) -> Lane;
    /// How many of its items may run at once on one target in this process.
    fn per_target(&self) -> usize;
    /// In the claim's transaction: the subjects of the claimed items start. Returns the items
    /// to execute; any other claimed item (its subject ended meanwhile) is ended unexecuted.
    fn start(&self, tx: &mut WriteTx<'_>, items: &[Item]) -> Result<Vec<Item>, StoreError>;
    /// On a pool thread: does the work, watching `ctl` to stop, and says how it ended.
    fn execute(&self, item: &Item, ctl: &Control) -> Box<dyn End>;
    /// In the reaper's transaction: the item's holder stopped renewing its lease. With
    /// `requeue` false (the default) the item is gone and this ends its subject.
    fn lapsed(&self, tx: &mut WriteTx<'_>, item: &Item) -> Result<(), StoreError>;
    /// Whether a lapsed item is claimed again (grant restores must happen) instead of ended.
    fn requeue_lapsed(&self) -> bool {
        false
    }
    /// How many of its items may run at once in this process, whatever room its lane has
    /// (background checks must leave the lane to the work people wait for).
    fn max_running(&self) -> usize {
        usize::MAX
    }
}

/// How an item's execution ended, written by the engine's end recorder.
pub trait End: Send {
    /// In the recorder's transaction, right after the item's own end. `fenced`: the item was
    /// still this holder's, so this end counts; `false`: the reaper decided first (a late end).
    fn record(&self, tx: &mut WriteTx<'_>, item: &Item, fenced: bool) -> Result<(), StoreError>;
}

/// What an executing item sees of the engine.
pub struct Control {
    item: Item,
    held: Arc<registry::Held>,
    engine: Arc<Engine>,
}

impl Control {
    /// Why the item must stop, once it must (cancelled, or its lease is lost).
    pub fn stopped(&self) -> Option<Stop> {
        self.held.stopped()
    }

    /// The statement running now can be cancelled with this (from another thread).
    pub fn set_canceller(&self, c: Option<Arc<dyn Canceller>>) {
        self.held.set_canceller(c);
    }

    /// The item's group changed (progress): live views look again.
    pub fn changed(&self) {
        self.engine.changed(&self.item.kind, self.item.group_id);
    }

    /// The engine's store, for progress writes.
    pub fn store(&self) -> &Store {
        &self.engine.store
    }
}

/// One kind's view of the engine, for the service that owns the kind.
#[derive(Clone, Debug)]
pub struct Handle {
    engine: Arc<Engine>,
    kind: &'static str,
}

impl Handle {
    /// New items are ready: look now.
    pub fn wake(&self) {
        self.engine.wake();
    }

    /// A group (job, query) changed: tell its live views.
    pub fn changed(&self, group_id: i64) {
        self.engine.changed(self.kind, group_id);
    }

    /// Changed group ids of this kind.
    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.engine.subscribe(self.kind)
    }

    /// Stops this process's items working on `subject_id` (cancelled).
    pub fn cancel_local(&self, subject_id: i64) {
        self.engine.cancel_local(self.kind, subject_id);
    }
}

/// The engine's timing and limits (section `engine` of the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub lease: Duration,
    /// How often the dispatcher looks for work made ready elsewhere.
    pub poll: Duration,
}

impl Settings {
    /// Leases are renewed three times per lease.
    fn heartbeat(&self) -> Duration {
        (self.lease / 3).max(Duration::from_millis(100))
    }

    /// A holder stops its item this long before the lease it last renewed would lapse.
    fn margin(&self) -> Duration {
        self.lease / 6
    }
}

pub struct Engine {
    id: String,
    store: Store,
    settings: Settings,
    pool: Pool,
    kinds: HashMap<&'static str, Arc<dyn Kind>>,
    registry: Registry,
    /// The pool's [`Pool::freed`]: a free place, a submit or a written end wakes the dispatcher.
    wake: Arc<Notify>,
    bus: HashMap<&'static str, broadcast::Sender<i64>>,
    ends: std::sync::mpsc::Sender<Ended>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("id", &self.id).finish()
    }
}

/// The waits between the cancels of one stop: the first follow-up soon (the statement was
/// only just on its way), then backing off; ~15 s in all.
const CANCEL_BACKOFF: [Duration; 8] = [
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(3),
    Duration::from_secs(4),
    Duration::from_secs(4),
];

/// Sends a cancel, then again after each wait of `backoff` while `still_runs`; returns how many
/// were sent.
async fn cancel_until_ended<F, Fut>(
    send: F,
    still_runs: impl Fn() -> bool,
    backoff: impl IntoIterator<Item = Duration>,
) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    send().await;
    let mut sent = 1;
    for wait in backoff {
        tokio::time::sleep(wait).await;
        if !still_runs() {
            break;
        }
        send().await;
        sent += 1;
    }
    sent
}

/// An executed item on its way to the store.
struct Ended {
    item: Item,
    end: Box<dyn End>,
}

impl Engine {
    /// The engine with its kinds, and the thread that records ends (it holds a weak reference
    /// and ends with the engine). Call [`Engine::start`] to begin.
    pub fn new(
        store: Store,
        settings: Settings,
        pool: Pool,
        kinds: Vec<Arc<dyn Kind>>,
    ) -> Result<Arc<Self>, StoreError> {
        let (ends, received) = std::sync::mpsc::channel();
        let wake = pool.freed();
        let engine = Arc::new(Self {
            id: uuid::Uuid::new_v4().to_string(),
            store,
            settings,
            pool,
            bus: kinds
                .iter()
                .map(|k| (k.name(), broadcast::channel(1024).0))
                .collect(),
            kinds: kinds.into_iter().map(|k| (k.name(), k)).collect(),
            registry: Registry::default(),
            wake,
            ends,
        });
        let me = Arc::downgrade(&engine);
        std::thread::Builder::new()
            .name("autodb-ends".into())
            .spawn(move || record_ends(&me, &received))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the end recorder: {e}")))?;
        Ok(engine)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The view of one kind (`kind` is one of the engine's).
    pub fn handle(self: &Arc<Self>, kind: &'static str) -> Handle {
        Handle {
            engine: self.clone(),
            kind,
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The kinds of work it runs.
    pub fn kind_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.kinds.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// The engine's store (its own pool), for `/metrics`.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Something became ready (a submit, a retry): look for work now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A group of `kind` changed: tell its live views.
    pub fn changed(&self, kind: &str, group_id: i64) {
        if let Some(tx) = self.bus.get(kind) {
            let _ = tx.send(group_id);
        }
    }

    /// Changed group ids of `kind`.
    pub fn subscribe(&self, kind: &str) -> broadcast::Receiver<i64> {
        match self.bus.get(kind) {
            Some(tx) => tx.subscribe(),
            None => broadcast::channel(1).1,
        }
    }

    /// Stops this process's items of `kind` whose subject is `subject_id`: no further
    /// statement starts and the running one is cancelled in its database.
    pub fn cancel_local(self: &Arc<Self>, kind: &str, subject_id: i64) {
        for held in self.registry.of_subject(kind, subject_id) {
            self.stop(&held, Stop::Cancelled);
        }
    }

    /// Marks the item stopped and cancels its running statement. A cancel can reach the
    /// database before the statement it is meant for (sent just after the runner's last look
    /// at the stop, still on its way): that cancel finds the session idle and does nothing, and
    /// the statement then runs to its end. So the cancel is sent again, backing off, for as long
    /// as the item still runs with the same canceller.
    fn stop(self: &Arc<Self>, held: &Arc<registry::Held>, why: Stop) {
        let Some(canceller) = held.stop(why) else {
            return;
        };
        let item = held.item.id;
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            // Off the runtime (no caller does this today): one cancel, no follow-up.
            if let Err(e) = self.pool.spawn(Lane::Control, None, move || {
                if let Err(e) = canceller.cancel() {
                    log::warn!("cancelling work item {item}: {e}");
                }
            }) {
                log::warn!("cancelling work item {item}: {e}");
            }
            return;
        };
        let (me, held) = (self.clone(), held.clone());
        let sent_to = canceller.clone();
        rt.spawn(async move {
            let pool = me.pool.clone();
            let send = move || {
                let c = canceller.clone();
                let pool = pool.clone();
                async move {
                    match pool.run(Lane::Control, None, move || c.cancel()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => log::warn!("cancelling work item {item}: {e}"),
                        Err(e) => log::warn!("cancelling work item {item}: {e}"),
                    }
                }
            };
            let still_runs = || {
                me.registry
                    .get(item)
                    .is_some_and(|h| Arc::ptr_eq(&h, &held) && h.cancels_with(&sent_to))
            };
            let sent = cancel_until_ended(send, still_runs, CANCEL_BACKOFF).await;
            if still_runs() {
                log::warn!(
                    "work item {item}: its statement still runs after {sent} cancels; \
                     its lease and the watchdog decide about it now"
                );
            }
        });
    }

    /// Ends what a previous process left (SQLite: everything running not ours, as one process
    /// owns the store; PostgreSQL: what lapsed), then starts the dispatcher, heartbeat,
    /// watchdog and reaper on the current async runtime.
    pub async fn start(self: &Arc<Self>) -> Result<(), StoreError> {
        let only_us = self.store.backend() == "sqlite";
        let n = self.reap(only_us).await?;
        if n > 0 {
            log::warn!("{n} work item(s) left running by a previous process were reaped");
        }
        let me = self.clone();
        tokio::spawn(async move { me.dispatch_loop().await });
        let me = self.clone();
        tokio::spawn(async move { me.heartbeat_loop().await });
        let me = self.clone();
        tokio::spawn(async move { me.watchdog_loop().await });
        let me = self.clone();
        tokio::spawn(async move { me.reap_loop().await });
        Ok(())
    }

    async fn dispatch_loop(self: Arc<Self>) {
        loop {
            let mut claimed = 0;
            for kind in self.kinds.values() {
                match self.claim(kind.clone()).await {
                    Ok(n) => claimed += n,
                    Err(e) => log::warn!("work dispatcher ({}): {e}", kind.name()),
                }
            }
            if claimed == 0 {
                // Woken by a submit or an end; the timeout finds work other processes made.
                let _ = tokio::time::timeout(self.settings.poll, self.wake.notified()).await;
            }
        }
    }

    async fn claim(self: &Arc<Self>, kind: Arc<dyn Kind>) -> Result<usize, StoreError> {
        let (free, mut busy) = self.pool.room(kind.lane());
        let free = free.min(
            kind.max_running()
                .saturating_sub(self.registry.count_of(kind.name())),
        );
        if free == 0 {
            return Ok(0);
        }
        let name = kind.name();
        if !self
            .store
            .run(move |c| rows::any_ready(c, name, store::now()))
            .await?
        {
            return Ok(0);
        }
        let limit = kind.per_target();
        let full: Vec<i64> = busy
            .iter()
            .filter(|(_, n)| **n >= limit)
            .map(|(t, _)| *t)
            .collect();
        let (id, lease) = (self.id.clone(), self.settings.lease);
        let asked = Instant::now();
        let k = kind.clone();
        let (run, unrun) = self
            .store
            .write(move |tx| {
                let now = store::now();
                let claim = rows::Claim {
                    kind: k.name(),
                    engine_id: &id,
                    now,
                    lease_until: now + chrono::Duration::from_std(lease).unwrap_or_default(),
                    want: free,
                    full_targets: &full,
                };
                let claimed = rows::claim(tx, &claim, |target| match target {
                    None => true,
                    Some(t) => {
                        let n = busy.entry(t).or_default();
                        *n += 1;
                        *n <= limit
                    }
                })?;
                let run = k.start(tx, &claimed)?;
                let mut unrun = vec![];
                for item in claimed.iter().filter(|i| !run.contains(i)) {
                    rows::finish(tx, item.id, item.token)?;
                    unrun.push(item.group_id);
                }
                Ok::<_, StoreError>((run, unrun))
            })
            .await?;
        for group in unrun {
            self.changed(name, group);
        }
        let count = run.len();
        // The lease runs from when the claim was asked for: the holder's clock stays on the
        // safe side of the store's.
        let ok_until = asked + lease.saturating_sub(self.settings.margin());
        for item in run {
            self.changed(name, item.group_id);
            self.execute(kind.clone(), item, ok_until);
        }
        Ok(count)
    }

    fn execute(self: &Arc<Self>, kind: Arc<dyn Kind>, item: Item, ok_until: Instant) {
        let held = self.registry.insert(item.clone(), ok_until);
        let ctl = Control {
            item: item.clone(),
            held,
            engine: self.clone(),
        };
        let me = self.clone();
        let spawned = self.pool.spawn(kind.lane(), item.target_id, move || {
            let started = Instant::now();
            let end = kind.execute(&ctl.item, &ctl);
            crate::metrics::work_executed(kind.name(), started.elapsed());
            me.ended(ctl.item.clone(), end);
        });
        if let Err(e) = spawned {
            // Left registered and unrenewed, its lease lapses and the reaper ends it.
            log::error!("work item {}: {e}", item.id);
            self.registry.remove(item.id);
        }
    }

    /// Hands an end to the recorder; the item stays held (its lease renewed) until it is written.
    fn ended(&self, item: Item, end: Box<dyn End>) {
        if let Err(std::sync::mpsc::SendError(e)) = self.ends.send(Ended { item, end }) {
            log::error!("work item {}: the end recorder is gone", e.item.id);
            self.registry.remove(e.item.id);
        }
    }

    async fn heartbeat_loop(self: Arc<Self>) {
        loop {
            tokio::time::sleep(self.settings.heartbeat()).await;
            // systemd's watchdog: pinged only when a beat completes, so a heartbeat stuck on
            // the store (or a wedged runtime) stops the pings and systemd restarts the service.
            crate::notify::watchdog();
            let held = self.registry.tokens();
            if held.is_empty() {
                continue;
            }
            let asked = Instant::now();
            let lease = self.settings.lease;
            let (id, ids) = (self.id.clone(), held.clone());
            let renewal = self
                .store
                .write(move |tx| {
                    let until =
                        store::now() + chrono::Duration::from_std(lease).unwrap_or_default();
                    rows::renew(tx, &id, &ids, until)
                })
                .await;
            match renewal {
                Ok(r) => {
                    let ok_until = asked + lease.saturating_sub(self.settings.margin());
                    for (item, _) in &held {
                        let Some(h) = self.registry.get(*item) else {
                            continue;
                        };
                        if r.renewed.contains(item) {
                            h.renewed(ok_until);
                        } else {
                            // Reaped or claimed again elsewhere: not ours to run any more.
                            self.stop(&h, Stop::LeaseLost);
                        }
                    }
                    for item in r.cancel {
                        if let Some(h) = self.registry.get(item) {
                            self.stop(&h, Stop::Cancelled);
                        }
                    }
                }
                Err(e) => log::warn!("work heartbeat: {e}"),
            }
        }
    }

    /// Stops held items whose lease could not be renewed in time. Needs no store: it runs while
    /// the store is unreachable, which is when it matters.
    async fn watchdog_loop(self: Arc<Self>) {
        let every =
            (self.settings.margin() / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        loop {
            tokio::time::sleep(every).await;
            for held in self.registry.overdue(Instant::now()) {
                log::warn!(
                    "work item {} ({}): its lease could not be renewed in time; stopping it",
                    held.item.id,
                    held.item.kind
                );
                self.stop(&held, Stop::LeaseLost);
            }
        }
    }

    async fn reap_loop(self: Arc<Self>) {
        loop {
            tokio::time::sleep(self.settings.lease).await;
            match self.reap(false).await {
                Ok(0) => {}
                Ok(n) => {
                    log::warn!("{n} work item(s) of a stopped process were reaped");
                    self.wake();
                }
                Err(e) => log::warn!("work reaper: {e}"),
            }
        }
    }

    /// Ends or re-queues lapsed items (with `all_of_others`, every running item not ours).
    async fn reap(self: &Arc<Self>, all_of_others: bool) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let me = self.clone();
            let (n, groups) = self
                .store
                .write(move |tx| {
                    let mine = all_of_others.then_some(me.id.as_str());
                    let lapsed = rows::lapsed(tx, store::now(), mine, 500)?;
                    let mut groups = vec![];
                    for item in &lapsed {
                        let Some(kind) = me.kinds.get(item.kind.as_str()) else {
                            continue;
                        };
                        let requeue = kind.requeue_lapsed();
                        if rows::reap(tx, item, requeue)? && !requeue {
                            kind.lapsed(tx, item)?;
                        }
                        groups.push((kind.name(), item.group_id));
                    }
                    Ok::<_, StoreError>((lapsed.len(), groups))
                })
                .await?;
            for (kind, group) in groups {
                self.changed(kind, group);
            }
            total += n;
            if n < 500 {
                return Ok(total);
            }
        }
    }
}

/// Most ends written in one transaction: a SQLite writer holds the store this long at most.
const MAX_BATCH: usize = 32;
/// About 30 s of retries for an end that cannot be written alone.
const END_ATTEMPTS: u32 = 20;

/// The end recorder: takes every end waiting (up to [`MAX_BATCH`]) and writes them in one
/// transaction, each item's own end (the fenced compare-and-set) first, then its kind's record.
/// A fleet of runs ending together costs a few store writes instead of one each. If the batch
/// fails, each end is written alone with retries; one that never can be is let go (its lease
/// lapses and the reaper decides).
fn record_ends(engine: &std::sync::Weak<Engine>, received: &std::sync::mpsc::Receiver<Ended>) {
    while let Ok(first) = received.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match received.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let Some(engine) = engine.upgrade() else {
            return;
        };
        // Groups are locked in one order by every writer that takes more than one.
        batch.sort_by_key(|e| (e.item.group_id, e.item.id));
        let together = engine.store.write_blocking(|tx| {
            batch
                .iter()
                .map(|e| write_end(tx, e))
                .collect::<Result<Vec<bool>, StoreError>>()
        });
        match together {
            Ok(fenced) => settle(&engine, &batch, &fenced),
            Err(e) => {
                log::warn!(
                    "recording {} ends together failed, one by one: {e}",
                    batch.len()
                );
                for ended in &batch {
                    match record_alone(&engine, ended) {
                        Ok(fenced) => settle(&engine, std::slice::from_ref(ended), &[fenced]),
                        Err(e) => {
                            log::error!("work item {}: cannot record its end: {e}", ended.item.id);
                            engine.registry.remove(ended.item.id);
                        }
                    }
                }
            }
        }
    }
}

fn write_end(tx: &mut WriteTx<'_>, e: &Ended) -> Result<bool, StoreError> {
    let fenced = rows::finish(tx, e.item.id, e.item.token)?;
    e.end.record(tx, &e.item, fenced)?;
    Ok(fenced)
}

fn record_alone(engine: &Engine, ended: &Ended) -> Result<bool, StoreError> {
    let mut delay = Duration::from_millis(50);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match engine.store.write_blocking(|tx| write_end(tx, ended)) {
            Err(e) if attempt < END_ATTEMPTS => {
                log::warn!(
                    "work item {}: recording its end failed (attempt {attempt}), retrying: {e}",
                    ended.item.id
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

/// The items are no longer held; their groups changed; there may be room for more.
fn settle(engine: &Engine, ended: &[Ended], fenced: &[bool]) {
    for (e, on_time) in ended.iter().zip(fenced) {
        if !on_time {
            crate::metrics::work_late_end(&e.item.kind);
            log::warn!(
                "work item {} ({}) ended after its lease was lost; recorded as a late end",
                e.item.id,
                e.item.kind
            );
        }
        engine.registry.remove(e.item.id);
        engine.changed(&e.item.kind, e.item.group_id);
    }
    engine.wake();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const QUICK: [Duration; 5] = [Duration::from_millis(1); 5];

    async fn cancels_sent(takes_on: usize) -> (usize, usize) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let send = move || {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
            }
        };
        // The statement ends once the `takes_on`-th cancel reached it.
        let runs = || calls.load(Ordering::SeqCst) < takes_on;
        let sent = cancel_until_ended(send, runs, QUICK).await;
        (sent, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_cancel_that_arrived_before_its_statement_is_sent_again_until_the_statement_ends() {
        assert_eq!(cancels_sent(3).await, (3, 3));
    }

    #[tokio::test]
    async fn a_statement_that_ends_at_the_first_cancel_gets_one() {
        assert_eq!(cancels_sent(1).await, (1, 1));
    }

    #[tokio::test]
    async fn a_statement_that_never_ends_gets_one_cancel_per_wait_and_no_more() {
        assert_eq!(cancels_sent(usize::MAX).await, (6, 6));
    }
}
