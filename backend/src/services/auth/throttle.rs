//! The brake on password guessing: failed logins counted per user name and per (user name,
//! client address), a slot reserved before each password check, a bounded number of argon2
//! checks at once, and summaries of refused attempts for the audit log.
//!
//! In memory: a restart forgives, which is acceptable for a brake. Everything here is bounded,
//! whatever an anonymous client sends: at most `max_entries` keys (each key is a name of at most
//! [`super::MAX_LOGIN_NAME_BYTES`] and an address of at most [`MAX_ADDR_BYTES`]), and the
//! audit gets one entry per lock episode, not one per refused attempt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokio::sync::Semaphore;

use crate::config::SecuritySettings;
use crate::crypto;

/// Failures are forgotten this long after the last one; no lock lasts longer.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Keys kept at most by default (two per attempt: the name, and the name at the address).
pub const DEFAULT_MAX_ENTRIES: usize = 50_000;
/// Failed logins for names that do not exist, itemized in the audit per [`MAX_LOCKOUT`]
/// window across the process; the rest are counted in one summary entry per window.
pub const UNKNOWN_NAMES_ITEMIZED: u32 = 100;
/// Client addresses are kept to this length (an IPv6 address is at most 45 characters).
pub const MAX_ADDR_BYTES: usize = 64;
/// Names are kept to this length whatever a caller passes (logins allow far less).
const MAX_NAME_BYTES: usize = 256;
/// How long a login waits for a free password check before it is answered 429.
pub const PASSWORD_CHECK_WAIT: Duration = Duration::from_secs(10);
/// Summaries waiting to be written; past it their counts join the process-wide summary.
const MAX_READY: usize = 1_000;
const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A user name, from every address together.
    Account(String),
    /// A user name from one client address ("" when the address is unknown).
    AccountAt(String, String),
}

impl Key {
    fn name(&self) -> &str {
        match self {
            Key::Account(n) | Key::AccountAt(n, _) => n,
        }
    }

    fn addr(&self) -> Option<&str> {
        match self {
            Key::AccountAt(_, a) if !a.is_empty() => Some(a),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    /// Failed checks in the current window.
    failures: u32,
    /// Checks reserved whose result is not in yet: they count against the limit.
    pending: u32,
    last: Instant,
    locked_until: Option<Instant>,
    /// Attempts refused since the last summary.
    throttled: u64,
    /// A counted failure was for a user that exists.
    known: bool,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            pending: 0,
            last: now,
            locked_until: None,
            throttled: 0,
            known: false,
        }
    }

    fn locked(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Nothing to remember: no lock, nothing pending, nothing to report, window over.
    fn idle(&self, now: Instant) -> bool {
        self.pending == 0
            && self.throttled == 0
            && self.locked(now).is_none()
            && now.duration_since(self.last) > MAX_LOCKOUT
    }
}

/// A summary for the audit log: attempts refused without a password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleReport {
    /// One lock episode of an existing user's name (from one address, or from all).
    Episode {
        username: String,
        client_addr: Option<String>,
        attempts: u64,
    },
    /// Names that do not exist, across the process, over one window: failures not itemized
    /// and attempts refused.
    UnknownNames { failures: u64, throttled: u64 },
}

#[derive(Debug)]
struct UnknownNames {
    window_start: Instant,
    itemized: u32,
    failures: u64,
    throttled: u64,
}

#[derive(Debug)]
struct State {
    entries: HashMap<Key, Entry>,
    unknown: UnknownNames,
    ready: Vec<ThrottleReport>,
    last_sweep: Instant,
}

/// Counts failed logins and hands out password-check slots. See the module docs.
#[derive(Debug)]
pub struct LoginThrottle {
    /// Failures of one name from one address before that pair is refused.
    per_address: u32,
    /// Failures of one name from all addresses before the name is refused.
    per_account: u32,
    first_lockout: Duration,
    max_entries: usize,
    state: Mutex<State>,
    permits: Arc<Semaphore>,
    permit_wait: Duration,
    checks: Arc<CheckCounters>,
}

/// How many argon2 verifications ran, and the most that ran at once (tests and metrics).
#[derive(Debug, Default)]
struct CheckCounters {
    total: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// Why a login got no password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many failures: try again in this many seconds.
    Locked { retry_after_s: u64 },
    /// Every password check is busy; try again in a second.
    Busy,
}

impl LoginThrottle {
    pub fn new(per_address: u32, per_account: u32, first_lockout: Duration) -> Self {
        let parallel = std::thread::available_parallelism().map_or(4, |n| n.get());
        Self::with_limits(
            per_address,
            per_account,
            first_lockout,
            DEFAULT_MAX_ENTRIES,
            parallel,
        )
    }

    pub fn from_settings(s: &SecuritySettings) -> Self {
        let mut t = Self::new(
            s.login_max_failures,
            s.max_failures_per_account(),
            Duration::from_secs(s.login_lockout_s),
        );
        if s.max_concurrent_password_checks > 0 {
            t.permits = Arc::new(Semaphore::new(s.max_concurrent_password_checks));
        }
        t
    }

    pub fn with_limits(
        per_address: u32,
        per_account: u32,
        first_lockout: Duration,
        max_entries: usize,
        concurrent_checks: usize,
    ) -> Self {
        let now = Instant::now();
        Self {
            per_address: per_address.max(1),
            per_account: per_account.max(per_address).max(1),
            first_lockout,
            max_entries: max_entries.max(2),
            state: Mutex::new(State {
                entries: HashMap::new(),
                unknown: UnknownNames {
                    window_start: now,
                    itemized: 0,
                    failures: 0,
                    throttled: 0,
                },
                ready: Vec::new(),
                last_sweep: now,
            }),
            permits: Arc::new(Semaphore::new(concurrent_checks.max(1))),
            permit_wait: PASSWORD_CHECK_WAIT,
            checks: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn keys(username: &str, addr: Option<&str>) -> [Key; 2] {
        let name = bounded(&username.to_lowercase(), MAX_NAME_BYTES);
        let addr = bounded(addr.unwrap_or(""), MAX_ADDR_BYTES);
        [Key::Account(name.clone()), Key::AccountAt(name, addr)]
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::Account(_) => self.per_account,
            Key::AccountAt(..) => self.per_address,
        }
    }

    /// Reserves a password check for `username` from `addr`, in one step with the count: the
    /// slot counts against the limits until its result is in. A failed result keeps it
    /// counted ([`Slot::failed`]); a right password, or no result at all, releases it.
    pub fn reserve(&self, username: &str, addr: Option<&str>) -> Result<Slot<'_>, Refused> {
        let now = Instant::now();
        let keys = Self::keys(username, addr);
        let mut state = self.lock();
        let state = &mut *state;
        let mut refusal: Option<(usize, Duration)> = None;
        for (i, key) in keys.iter().enumerate() {
            let Some(e) = state.entries.get_mut(key) else {
                continue;
            };
            if e.locked(now).is_none() && now.duration_since(e.last) > MAX_LOCKOUT {
                e.failures = 0;
            }
            let wait = match e.locked(now) {
                Some(w) => Some(w),
                // Every remaining try is being checked right now (after a lock, one at a time).
                None if e.pending > 0 && e.failures + e.pending >= self.limit(key) => {
                    Some(self.first_lockout)
                }
                None => None,
            };
            if let Some(w) = wait {
                if refusal.is_none_or(|(_, longest)| w > longest) {
                    refusal = Some((i, w));
                }
            }
        }
        if let Some((i, wait)) = refusal {
            if let Some(e) = state.entries.get_mut(&keys[i]) {
                e.throttled += 1;
            }
            return Err(Refused::Locked {
                retry_after_s: wait.as_secs().max(1),
            });
        }
        for key in &keys {
            if !state.entries.contains_key(key) {
                if state.entries.len() >= self.max_entries {
                    self.evict(state, now);
                }
                if state.entries.len() >= self.max_entries {
                    // Every key is in the middle of a check: a flood. Refuse, remember nothing.
                    return Err(Refused::Busy);
                }
                state.entries.insert(key.clone(), Entry::new(now));
            }
        }
        for key in &keys {
            if let Some(e) = state.entries.get_mut(key) {
                e.pending += 1;
                e.last = now;
            }
        }
        Ok(Slot {
            throttle: self,
            keys: Some(keys),
        })
    }

    /// Runs the argon2 check on a blocking thread, at most the configured number at once, and
    /// without any store connection held. Waits [`PASSWORD_CHECK_WAIT`] at most for a turn.
    pub async fn verify(&self, password: SecretString, hash: String) -> Result<bool, Refused> {
        let permit = tokio::time::timeout(self.permit_wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Refused::Busy)?
            .map_err(|_| Refused::Busy)?;
        let counters = self.checks.clone();
        // The permit travels with the check: a request that goes away does not free its turn
        // before its argon2 run has ended.
        tokio::task::spawn_blocking(move || {
            counters.total.fetch_add(1, Ordering::SeqCst);
            let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let ok = crypto::verify_password(&password, &hash);
            counters.in_flight.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            ok
        })
        .await
        .map_err(|_| Refused::Busy)
    }

    /// Summaries due for the audit log: lock episodes that ended, and the unknown-name window
    /// once it is over. Looks through the keys at most once a second.
    pub fn take_reports(&self) -> Vec<ThrottleReport> {
        let now = Instant::now();
        let mut state = self.lock();
        let state = &mut *state;
        if now.duration_since(state.last_sweep) >= SWEEP_EVERY {
            state.last_sweep = now;
            let mut ended = vec![];
            state.entries.retain(|key, e| {
                if e.throttled > 0 && e.locked(now).is_none() && e.pending == 0 {
                    ended.push((key.clone(), std::mem::replace(&mut e.throttled, 0), e.known));
                }
                !e.idle(now)
            });
            for (key, attempts, known) in ended {
                Self::report(state, &key, attempts, known);
            }
        }
        let u = &mut state.unknown;
        if now.duration_since(u.window_start) >= MAX_LOCKOUT {
            if u.failures + u.throttled > 0 {
                state.ready.push(ThrottleReport::UnknownNames {
                    failures: u.failures,
                    throttled: u.throttled,
                });
            }
            *u = UnknownNames {
                window_start: now,
                itemized: 0,
                failures: 0,
                throttled: 0,
            };
        }
        std::mem::take(&mut state.ready)
    }

    fn report(state: &mut State, key: &Key, attempts: u64, known: bool) {
        if attempts == 0 {
            return;
        }
        if known && state.ready.len() < MAX_READY {
            state.ready.push(ThrottleReport::Episode {
                username: key.name().to_string(),
                client_addr: key.addr().map(str::to_string),
                attempts,
            });
        } else {
            state.unknown.throttled += attempts;
        }
    }

    /// Makes room: first keys with nothing left to remember, then the oldest eighth of the
    /// keys not in the middle of a check, unlocked ones first.
    fn evict(&self, state: &mut State, now: Instant) {
        state.entries.retain(|_, e| !e.idle(now));
        if state.entries.len() < self.max_entries {
            return;
        }
        let mut candidates: Vec<(bool, Instant, Key)> = state
            .entries
            .iter()
            .filter(|(_, e)| e.pending == 0)
            .map(|(k, e)| (e.locked(now).is_some(), e.last, k.clone()))
            .collect();
        candidates.sort_unstable_by_key(|(locked, last, _)| (*locked, *last));
        for (_, _, key) in candidates.into_iter().take((self.max_entries / 8).max(1)) {
            if let Some(e) = state.entries.remove(&key) {
                Self::report(state, &key, e.throttled, e.known);
            }
        }
    }

    /// Keys remembered.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Password verifications run since start.
    pub fn password_checks(&self) -> u64 {
        self.checks.total.load(Ordering::SeqCst)
    }

    /// The most password verifications that ran at the same time.
    pub fn max_checks_in_flight(&self) -> u64 {
        self.checks.max_in_flight.load(Ordering::SeqCst)
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn bounded(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// What the audit log should record of a failed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Record this failure as its own entry (else it is counted in a summary).
    pub itemize: bool,
    /// The failure started a lock of this length.
    pub locked_for: Option<Duration>,
}

/// A reserved password check. Dropped without a result (the store failed, the request went
/// away), it is released uncounted.
#[derive(Debug)]
pub struct Slot<'a> {
    throttle: &'a LoginThrottle,
    keys: Option<[Key; 2]>,
}

impl Slot<'_> {
    /// The password was wrong (or the user unknown or disabled): the slot stays counted.
    pub fn failed(mut self, known: bool) -> Failure {
        let now = Instant::now();
        let t = self.throttle;
        let mut state = t.lock();
        let state = &mut *state;
        let mut locked_for = None;
        for key in self.keys.take().into_iter().flatten() {
            let limit = t.limit(&key);
            let Some(e) = state.entries.get_mut(&key) else {
                continue;
            };
            e.pending = e.pending.saturating_sub(1);
            e.failures += 1;
            e.last = now;
            e.known |= known;
            if e.failures >= limit && e.locked(now).is_none() {
                // Attempts refused since an earlier lock ended close that episode; those
                // refused while this lock's checks ran belong to this one.
                let previous = match e.locked_until {
                    Some(_) => std::mem::replace(&mut e.throttled, 0),
                    None => 0,
                };
                let was_known = e.known;
                let doublings = (e.failures - limit).min(16);
                let wait = (t.first_lockout * 2u32.pow(doublings)).min(MAX_LOCKOUT);
                e.locked_until = Some(now + wait);
                locked_for = locked_for.max(Some(wait));
                LoginThrottle::report(state, &key, previous, was_known);
            }
        }
        let itemize = known || {
            let u = &mut state.unknown;
            if u.itemized < UNKNOWN_NAMES_ITEMIZED {
                u.itemized += 1;
                true
            } else {
                u.failures += 1;
                false
            }
        };
        Failure {
            itemize,
            locked_for,
        }
    }

    /// The password was right: this address starts over for the name; the slot is released.
    pub fn succeeded(mut self) {
        let mut state = self.throttle.lock();
        let state = &mut *state;
        for key in self.keys.take().into_iter().flatten() {
            match key {
                Key::AccountAt(..) => {
                    if let Some(e) = state.entries.remove(&key) {
                        LoginThrottle::report(state, &key, e.throttled, true);
                    }
                }
                Key::Account(_) => {
                    if let Some(e) = state.entries.get_mut(&key) {
                        e.pending = e.pending.saturating_sub(1);
                    }
                }
            }
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let Some(keys) = self.keys.take() else {
            return;
        };
        let mut state = self.throttle.lock();
        for key in keys {
            if let Some(e) = state.entries.get_mut(&key) {
                e.pending = e.pending.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t: &LoginThrottle, name: &str, addr: &str, known: bool) -> Failure {
        t.reserve(name, Some(addr)).expect("a slot").failed(known)
    }

    fn locked(t: &LoginThrottle, name: &str, addr: &str) -> bool {
        matches!(t.reserve(name, Some(addr)), Err(Refused::Locked { .. }))
    }

    #[test]
    fn repeated_failures_lock_the_name_from_that_address_only() {
        let t = LoginThrottle::new(3, 6, Duration::from_secs(30));
        for _ in 0..2 {
            fail(&t, "Alice", "10.0.0.1", true);
            assert!(!locked(&t, "alice", "10.0.0.1"));
        }
        let f = fail(&t, "alice", "10.0.0.1", true);
        assert_eq!(f.locked_for, Some(Duration::from_secs(30)));
        match t.reserve("ALICE", Some("10.0.0.1")) {
            Err(Refused::Locked { retry_after_s }) => assert!((1..=30).contains(&retry_after_s)),
            other => panic!("expected a lock, got {other:?}"),
        }
        assert!(
            !locked(&t, "bob", "10.0.0.1"),
            "other names from the address"
        );
        assert!(!locked(&t, "alice", "10.0.0.2"), "the name from elsewhere");
    }

    #[test]
    fn failures_from_many_addresses_lock_the_name_everywhere() {
        let t = LoginThrottle::new(3, 6, Duration::from_secs(30));
        for i in 0..6 {
            fail(&t, "alice", &format!("10.0.0.{i}"), true);
        }
        assert!(locked(&t, "alice", "10.9.9.9"));
        assert!(!locked(&t, "bob", "10.9.9.9"));
    }

    #[test]
    fn reserved_checks_count_before_their_result_is_in() {
        let t = LoginThrottle::new(5, 20, Duration::from_secs(30));
        let slots: Vec<Slot<'_>> = (0..5)
            .map(|_| t.reserve("alice", Some("10.0.0.1")).expect("slot"))
            .collect();
        assert!(locked(&t, "alice", "10.0.0.1"), "a sixth check must wait");
        assert!(t.reserve("bob", Some("10.0.0.1")).is_ok());
        drop(slots); // no result: released uncounted
        assert!(t.reserve("alice", Some("10.0.0.1")).is_ok());
    }

    #[test]
    fn a_right_password_releases_its_slot_and_clears_the_address() {
        let t = LoginThrottle::new(2, 20, Duration::from_secs(30));
        fail(&t, "alice", "10.0.0.1", true);
        t.reserve("alice", Some("10.0.0.1"))
            .expect("slot")
            .succeeded();
        fail(&t, "alice", "10.0.0.1", true);
        assert!(
            !locked(&t, "alice", "10.0.0.1"),
            "one failure since the success"
        );
    }

    #[test]
    fn each_further_failure_doubles_the_wait() {
        let t = LoginThrottle::new(1, 1, Duration::from_secs(10));
        let first = fail(&t, "a", "x", true).locked_for.expect("locked");
        // Let the lock pass without waiting: move it into the past.
        t.lock()
            .entries
            .values_mut()
            .for_each(|e| e.locked_until = Some(Instant::now()));
        let second = fail(&t, "a", "x", true).locked_for.expect("locked");
        assert!(second >= first * 2, "{first:?} then {second:?}");
    }

    #[test]
    fn many_distinct_long_names_keep_the_map_bounded() {
        let t = LoginThrottle::with_limits(5, 20, Duration::from_secs(30), 1_000, 2);
        for i in 0..20_000 {
            let name = format!("{i:0>64}");
            let addr = format!("2001:db8::{:x}", i % 65_536);
            let _ = t.reserve(&name, Some(&addr)).map(|s| s.failed(false));
        }
        assert!(t.len() <= 1_000, "{} keys", t.len());
        let longest = t
            .lock()
            .entries
            .keys()
            .map(|k| k.name().len() + k.addr().map_or(0, str::len))
            .max()
            .unwrap_or(0);
        assert!(longest <= 64 + MAX_ADDR_BYTES, "{longest}");
    }

    #[test]
    fn locked_names_are_evicted_last() {
        let t = LoginThrottle::with_limits(1, 1, Duration::from_secs(300), 64, 2);
        fail(&t, "victim", "10.0.0.1", true);
        for i in 0..500 {
            let _ = t.reserve(&format!("n{i}"), None).map(|s| s.succeeded());
        }
        assert!(locked(&t, "victim", "10.0.0.1"));
    }

    #[test]
    fn throttled_attempts_become_one_report_when_the_lock_ends() {
        let t = LoginThrottle::new(2, 20, Duration::from_secs(30));
        fail(&t, "alice", "10.0.0.1", true);
        fail(&t, "alice", "10.0.0.1", true);
        for _ in 0..50 {
            assert!(locked(&t, "alice", "10.0.0.1"));
        }
        assert!(t.take_reports().is_empty(), "still locked");
        {
            let mut s = t.lock();
            s.last_sweep -= SWEEP_EVERY;
            s.entries
                .values_mut()
                .for_each(|e| e.locked_until = Some(Instant::now()));
        }
        assert_eq!(
            t.take_reports(),
            vec![ThrottleReport::Episode {
                username: "alice".into(),
                client_addr: Some("10.0.0.1".into()),
                attempts: 50
            }]
        );
        assert!(t.take_reports().is_empty(), "reported once");
    }

    #[test]
    fn unknown_names_are_itemized_up_to_a_budget_then_summarized() {
        let t = LoginThrottle::new(5, 20, Duration::from_secs(30));
        let itemized = (0..UNKNOWN_NAMES_ITEMIZED + 40)
            .filter(|i| fail(&t, &format!("ghost{i}"), "10.0.0.1", false).itemize)
            .count();
        assert_eq!(itemized, UNKNOWN_NAMES_ITEMIZED as usize);
        assert!(
            fail(&t, "real", "10.0.0.1", true).itemize,
            "known names always"
        );
        t.lock().unknown.window_start -= MAX_LOCKOUT;
        assert_eq!(
            t.take_reports(),
            vec![ThrottleReport::UnknownNames {
                failures: 40,
                throttled: 0
            }]
        );
    }

    #[tokio::test]
    async fn password_checks_wait_for_a_free_permit() {
        let t = std::sync::Arc::new(LoginThrottle::with_limits(
            5,
            20,
            Duration::from_secs(30),
            100,
            1,
        ));
        let hash = crypto::hash_password(&SecretString::from("correct horse"));
        let runs = (0..3).map(|_| {
            let (t, hash) = (t.clone(), hash.clone());
            tokio::spawn(async move { t.verify(SecretString::from("correct horse"), hash).await })
        });
        for run in runs {
            assert_eq!(run.await.expect("join"), Ok(true));
        }
        assert_eq!(t.password_checks(), 3);
        assert_eq!(t.max_checks_in_flight(), 1);
    }
}
