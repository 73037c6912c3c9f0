//! The items this process holds: for each, its token, why it must stop (once it must), the
//! canceller of the statement it runs, and until when its last renewed lease is safe.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::connectors::Canceller;
use crate::store::work::Item;

/// Why an item must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A person cancelled it (here or through another process).
    Cancelled,
    /// Its lease could not be renewed before it lapsed, or it was reaped: another process may
    /// decide about it now, so nothing more of it may run here.
    LeaseLost,
}

const RUNNING: u8 = 0;
const CANCELLED: u8 = 1;
const LEASE_LOST: u8 = 2;

pub struct Held {
    pub item: Item,
    stop: AtomicU8,
    canceller: Mutex<Option<Arc<dyn Canceller>>>,
    ok_until: Mutex<Instant>,
}

impl Held {
    pub fn stopped(&self) -> Option<Stop> {
        match self.stop.load(Ordering::SeqCst) {
            CANCELLED => Some(Stop::Cancelled),
            LEASE_LOST => Some(Stop::LeaseLost),
            _ => None,
        }
    }

    pub fn set_canceller(&self, c: Option<Arc<dyn Canceller>>) {
        *lock(&self.canceller) = c;
    }

    /// Marks it stopped (the first reason wins) and returns the canceller of its running
    /// statement, to be called off this thread. Once stopped, further stops return nothing.
    pub fn stop(&self, why: Stop) -> Option<Arc<dyn Canceller>> {
        let code = match why {
            Stop::Cancelled => CANCELLED,
            Stop::LeaseLost => LEASE_LOST,
        };
        self.stop
            .compare_exchange(RUNNING, code, Ordering::SeqCst, Ordering::SeqCst)
            .ok()?;
        lock(&self.canceller).clone()
    }

    /// Whether its running statement is still the one `c` cancels: false once its runner has
    /// cleared the canceller (the statement ended) or set another's.
    pub fn cancels_with(&self, c: &Arc<dyn Canceller>) -> bool {
        lock(&self.canceller)
            .as_ref()
            .is_some_and(|mine| Arc::ptr_eq(mine, c))
    }

    pub fn renewed(&self, ok_until: Instant) {
        let mut at = lock(&self.ok_until);
        if ok_until > *at {
            *at = ok_until;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
pub struct Registry {
    held: Mutex<HashMap<i64, Arc<Held>>>,
}

impl Registry {
    fn all(&self) -> MutexGuard<'_, HashMap<i64, Arc<Held>>> {
        lock(&self.held)
    }

    pub fn insert(&self, item: Item, ok_until: Instant) -> Arc<Held> {
        let held = Arc::new(Held {
            item,
            stop: AtomicU8::new(RUNNING),
            canceller: Mutex::new(None),
            ok_until: Mutex::new(ok_until),
        });
        self.all().insert(held.item.id, held.clone());
        held
    }

    pub fn remove(&self, id: i64) {
        self.all().remove(&id);
    }

    pub fn get(&self, id: i64) -> Option<Arc<Held>> {
        self.all().get(&id).cloned()
    }

    /// Each held item with the token it was claimed with.
    pub fn tokens(&self) -> Vec<(i64, i64)> {
        self.all()
            .values()
            .map(|h| (h.item.id, h.item.token))
            .collect()
    }

    pub fn of_subject(&self, kind: &str, subject_id: i64) -> Vec<Arc<Held>> {
        self.all()
            .values()
            .filter(|h| h.item.kind == kind && h.item.subject_id == subject_id)
            .cloned()
            .collect()
    }

    /// How many items of `kind` it holds.
    pub fn count_of(&self, kind: &str) -> usize {
        self.all().values().filter(|h| h.item.kind == kind).count()
    }

    /// Running items whose safe time is over.
    pub fn overdue(&self, now: Instant) -> Vec<Arc<Held>> {
        self.all()
            .values()
            .filter(|h| h.stopped().is_none() && *lock(&h.ok_until) <= now)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn item(id: i64) -> Item {
        Item {
            id,
            kind: "k".into(),
            group_id: 1,
            subject_id: id * 10,
            target_id: None,
            token: 1,
        }
    }

    struct Counting(Arc<AtomicU8>);
    impl Canceller for Counting {
        fn cancel(&self) -> Result<(), crate::connectors::DbError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn the_first_stop_wins_and_hands_out_the_canceller_once() {
        let r = Registry::default();
        let h = r.insert(item(1), Instant::now() + Duration::from_secs(10));
        let calls = Arc::new(AtomicU8::new(0));
        h.set_canceller(Some(Arc::new(Counting(calls.clone()))));
        let c = h.stop(Stop::LeaseLost).expect("canceller");
        c.cancel().expect("cancel");
        assert!(h.stop(Stop::Cancelled).is_none());
        assert_eq!(h.stopped(), Some(Stop::LeaseLost));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_item_is_overdue_once_its_safe_time_passes_unless_renewed() {
        let r = Registry::default();
        let start = Instant::now();
        let a = r.insert(item(1), start + Duration::from_secs(1));
        r.insert(item(2), start + Duration::from_secs(1));
        a.renewed(start + Duration::from_secs(5));
        let late = r.overdue(start + Duration::from_secs(2));
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].item.id, 2);
        // A renewal never moves the safe time back.
        a.renewed(start);
        assert!(r
            .overdue(start + Duration::from_secs(3))
            .iter()
            .all(|h| h.item.id != 1));
        assert_eq!(r.of_subject("k", 20).len(), 1);
        assert_eq!(r.count_of("k"), 2);
        assert_eq!(r.count_of("other"), 0);
    }
}
