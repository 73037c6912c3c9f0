//! The bounded pool of threads that talk to target databases. Drivers block, so every piece of
//! target work (a job run, a query's target, an export, a connection test, a cancel) runs on a
//! thread of this pool, never on an async worker and never on a thread of its own.
//!
//! The pool has lanes, each with its own limit, so that one kind of work cannot take the
//! threads another needs: job runs, queries (with exports and connection tests), and control
//! (cancels — which must never wait behind the statements they cancel). Within a lane, work
//! beyond the limit waits in order. Threads are kept for a while when idle and reused.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long an idle thread waits for more work before it ends.
const IDLE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Job runs (`engine.max_parallel_runs`).
    Runs,
    /// Queries' targets, exports' re-runs, connection tests (`engine.max_parallel_queries`).
    Queries,
    /// Cancels sent to databases (`engine.max_control_threads`).
    Control,
}

impl Lane {
    fn name(self) -> &'static str {
        match self {
            Lane::Runs => "run",
            Lane::Queries => "query",
            Lane::Control => "control",
        }
    }
}

type Task = Box<dyn FnOnce() + Send + 'static>;

struct Queued {
    target: Option<i64>,
    task: Task,
}

#[derive(Default)]
struct LaneState {
    max: usize,
    busy: usize,
    per_target: HashMap<i64, usize>,
    waiting: VecDeque<Queued>,
    /// Tasks handed to idle threads, not yet picked up.
    handoff: VecDeque<Queued>,
    idle: usize,
}

struct LaneShared {
    lane: Lane,
    nice: u8,
    state: Mutex<LaneState>,
    ready: Condvar,
    /// Told whenever a place in any lane becomes free (the pool's [`Pool::freed`]).
    freed: Arc<tokio::sync::Notify>,
}

impl LaneShared {
    fn lock(&self) -> MutexGuard<'_, LaneState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Limits per lane, and the nice value of the threads of the job-run lane.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub runs: usize,
    pub queries: usize,
    pub control: usize,
    /// Job-run threads yield the CPU to the API (Linux: per-thread nice value).
    pub run_nice: u8,
}

#[derive(Clone)]
pub struct Pool {
    lanes: Arc<HashMap<Lane, Arc<LaneShared>>>,
    freed: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

/// The pool is gone or cannot start a thread.
#[derive(Debug, thiserror::Error)]
#[error("cannot start a target thread: {0}")]
pub struct PoolError(String);

impl Pool {
    pub fn new(limits: Limits) -> Self {
        let freed = Arc::new(tokio::sync::Notify::new());
        let lane = |lane, max: usize, nice| {
            (
                lane,
                Arc::new(LaneShared {
                    lane,
                    nice,
                    state: Mutex::new(LaneState {
                        max: max.max(1),
                        ..LaneState::default()
                    }),
                    ready: Condvar::new(),
                    freed: freed.clone(),
                }),
            )
        };
        Self {
            lanes: Arc::new(HashMap::from([
                lane(Lane::Runs, limits.runs, limits.run_nice),
                lane(Lane::Queries, limits.queries, 0),
                lane(Lane::Control, limits.control, 0),
            ])),
            freed,
        }
    }

    /// Notified each time a task returns and leaves its place free (none waited for it): the
    /// dispatcher fills the place at once instead of when the task's end has been written.
    pub fn freed(&self) -> Arc<tokio::sync::Notify> {
        self.freed.clone()
    }

    fn lane(&self, lane: Lane) -> &Arc<LaneShared> {
        // Every lane is made in `new`.
        &self.lanes[&lane]
    }

    /// Free places in the lane, and how many of its tasks work on each target now.
    pub fn room(&self, lane: Lane) -> (usize, HashMap<i64, usize>) {
        let st = self.lane(lane).lock();
        let queued = st.waiting.len();
        (
            st.max.saturating_sub(st.busy + queued),
            st.per_target.clone(),
        )
    }

    /// Runs `f` on a thread of the lane, now or when a place is free (in order of arrival).
    pub fn spawn(
        &self,
        lane: Lane,
        target: Option<i64>,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), PoolError> {
        let shared = self.lane(lane).clone();
        let mut st = shared.lock();
        let queued = Queued {
            target,
            task: Box::new(f),
        };
        if st.busy >= st.max {
            st.waiting.push_back(queued);
            return Ok(());
        }
        start(&shared, &mut st, queued)
    }

    /// Runs `f` on the lane and waits for its answer without blocking an async worker.
    pub async fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        target: Option<i64>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.spawn(lane, target, move || {
            let _ = tx.send(f());
        })?;
        rx.await
            .map_err(|_| PoolError("the target thread ended without an answer".into()))
    }
}

/// Counts the task as busy and gives it to an idle thread, or to a new one.
fn start(shared: &Arc<LaneShared>, st: &mut LaneState, queued: Queued) -> Result<(), PoolError> {
    st.busy += 1;
    if let Some(t) = queued.target {
        *st.per_target.entry(t).or_default() += 1;
    }
    if st.idle > st.handoff.len() {
        st.handoff.push_back(queued);
        shared.ready.notify_one();
        return Ok(());
    }
    let me = shared.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("autodb-{}", shared.lane.name()))
        .spawn(move || worker(&me, queued));
    match spawned {
        Ok(_) => Ok(()),
        Err(e) => {
            st.busy -= 1;
            Err(PoolError(e.to_string()))
        }
    }
}

fn worker(shared: &Arc<LaneShared>, first: Queued) {
    lower_priority(shared.nice);
    let mut next = Some(first);
    while let Some(Queued { target, task }) = next.take() {
        // A panicking task must not take its place in the lane with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(task));
        name_thread(&format!("autodb-{}", shared.lane.name()));
        let mut st = shared.lock();
        st.busy -= 1;
        if let Some(t) = target {
            if let Some(n) = st.per_target.get_mut(&t) {
                *n -= 1;
                if *n == 0 {
                    st.per_target.remove(&t);
                }
            }
        }
        // The next waiting task runs on this thread.
        if let Some(q) = st.waiting.pop_front() {
            st.busy += 1;
            if let Some(t) = q.target {
                *st.per_target.entry(t).or_default() += 1;
            }
            next = Some(q);
            continue;
        }
        shared.freed.notify_one();
        st.idle += 1;
        loop {
            if let Some(q) = st.handoff.pop_front() {
                st.idle -= 1;
                next = Some(q);
                break;
            }
            let (guard, timeout) = shared
                .ready
                .wait_timeout(st, IDLE)
                .unwrap_or_else(|p| p.into_inner());
            st = guard;
            if timeout.timed_out() && st.handoff.is_empty() {
                st.idle -= 1;
                return;
            }
        }
    }
}

/// Names the current thread while it works on one thing (`top -H`, `/proc/<pid>/task/*/comm`
/// show it; Linux keeps 15 bytes). The pool gives the thread its lane's name back afterwards.
pub fn name_thread(name: &str) {
    #[cfg(target_os = "linux")]
    {
        let short: String = name.chars().take(15).collect();
        if let Ok(c) = std::ffi::CString::new(short) {
            let _ = rustix::thread::set_name(&c);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = name;
}

/// Job runs mostly wait on their database; what CPU they do need yields to the HTTP workers, so
/// a fleet of runs starting or ending at once does not slow the API.
fn lower_priority(nice: u8) {
    #[cfg(target_os = "linux")]
    if nice > 0 {
        let me = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(me), i32::from(nice)) {
            log::debug!("cannot lower the priority of a run thread: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    fn pool(runs: usize) -> Pool {
        Pool::new(Limits {
            runs,
            queries: 2,
            control: 1,
            run_nice: 0,
        })
    }

    #[test]
    fn no_more_than_the_lane_limit_run_at_once_and_the_rest_wait_their_turn() {
        let pool = pool(3);
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (done_tx, done_rx) = mpsc::channel();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        for i in 0..10 {
            let (now, peak, done, gate) =
                (now.clone(), peak.clone(), done_tx.clone(), gate.clone());
            pool.spawn(Lane::Runs, Some(i % 2), move || {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                let (lock, cv) = &*gate;
                let mut open = lock.lock().expect("gate");
                while !*open {
                    open = cv.wait(open).expect("gate");
                }
                now.fetch_sub(1, Ordering::SeqCst);
                let _ = done.send(i);
            })
            .expect("spawn");
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while now.load(Ordering::SeqCst) < 3 {
            assert!(std::time::Instant::now() < deadline, "3 tasks start");
            std::thread::yield_now();
        }
        let (free, per_target) = pool.room(Lane::Runs);
        assert_eq!(free, 0, "the lane is full while 7 tasks wait");
        assert_eq!(per_target.values().sum::<usize>(), 3);
        // The other lanes are not taken by this one.
        assert_eq!(pool.room(Lane::Queries).0, 2);
        {
            let (lock, cv) = &*gate;
            *lock.lock().expect("gate") = true;
            cv.notify_all();
        }
        let mut seen: Vec<i64> = (0..10)
            .map(|_| done_rx.recv_timeout(Duration::from_secs(10)).expect("done"))
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while pool.room(Lane::Runs).0 != 3 {
            assert!(std::time::Instant::now() < deadline, "places come back");
            std::thread::yield_now();
        }
        assert!(pool.room(Lane::Runs).1.is_empty());
    }

    #[test]
    fn an_idle_thread_is_reused_for_the_next_task() {
        let pool = pool(2);
        let (tx, rx) = mpsc::channel();
        let first = tx.clone();
        pool.spawn(Lane::Runs, None, move || {
            let _ = first.send(std::thread::current().id());
        })
        .expect("spawn");
        let a = rx.recv_timeout(Duration::from_secs(10)).expect("first");
        // Wait until the thread is idle, then the next task lands on it.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while pool.lane(Lane::Runs).lock().idle == 0 {
            assert!(std::time::Instant::now() < deadline, "the thread goes idle");
            std::thread::yield_now();
        }
        pool.spawn(Lane::Runs, None, move || {
            let _ = tx.send(std::thread::current().id());
        })
        .expect("spawn");
        let b = rx.recv_timeout(Duration::from_secs(10)).expect("second");
        assert_eq!(a, b);
    }

    #[test]
    fn a_panicking_task_gives_its_place_back() {
        let pool = pool(1);
        pool.spawn(Lane::Runs, Some(7), || panic!("boom"))
            .expect("spawn");
        let (tx, rx) = mpsc::channel();
        pool.spawn(Lane::Runs, Some(7), move || {
            let _ = tx.send(());
        })
        .expect("spawn");
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the next task still runs");
    }
}
