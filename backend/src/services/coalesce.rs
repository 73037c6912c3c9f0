//! Concurrent reads of the same thing share one load. A fleet's job lists 10,000 runs: four
//! people (or scripts) watching it would otherwise each load, convert and serialize all of them
//! back to back. A reader that arrives while a load of its key is under way waits for that load
//! and takes its answer — a read that began before its request, never an older one: once a load
//! has finished, the next reader starts a new one. Nothing is kept after that.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

type Flight<V> = Arc<OnceCell<Option<Arc<V>>>>;

pub struct Coalesce<K, V> {
    inflight: Mutex<HashMap<K, Flight<V>>>,
}

impl<K, V> Default for Coalesce<K, V> {
    fn default() -> Self {
        Self {
            inflight: Mutex::new(HashMap::new()),
        }
    }
}

impl<K, V> std::fmt::Debug for Coalesce<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Coalesce")
    }
}

impl<K: Eq + Hash + Clone, V> Coalesce<K, V> {
    /// The value of `key`: loaded by `load`, or taken from the load of it under way. When that
    /// shared load fails, this reader loads on its own, so each caller gets its own error.
    pub async fn get<E, F, Fut>(&self, key: K, load: F) -> Result<Arc<V>, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let flight = {
            let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let mut failed = None;
        let shared = flight
            .get_or_init(|| async {
                match load().await {
                    Ok(v) => Some(Arc::new(v)),
                    Err(e) => {
                        failed = Some(e);
                        None
                    }
                }
            })
            .await
            .clone();
        {
            // The flight is over for whoever comes next (unless a newer one took its place).
            let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            if map.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                map.remove(&key);
            }
        }
        match (shared, failed) {
            (Some(v), _) => Ok(v),
            (None, Some(e)) => Err(e),
            (None, None) => load().await.map(Arc::new),
        }
    }

    /// How many callers share the loads under way of the keys `of` picks (the loader counts).
    pub fn sharing(&self, of: impl Fn(&K) -> bool) -> usize {
        let map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .filter(|(k, _)| of(k))
            // The map holds one reference; every caller in `get` holds another.
            .map(|(_, f)| Arc::strong_count(f) - 1)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn readers_during_a_load_share_it_and_a_later_reader_loads_again() {
        let c: Coalesce<i64, usize> = Coalesce::default();
        let loads = AtomicUsize::new(0);
        let gate = tokio::sync::Notify::new();
        let load = || async {
            let n = loads.fetch_add(1, Ordering::SeqCst) + 1;
            gate.notified().await;
            Ok::<_, String>(n)
        };
        let (a, b, _) = tokio::join!(c.get(1, load), c.get(1, load), async {
            // Both readers are waiting on the one load before it is let go.
            while c.sharing(|k| *k == 1) < 2 {
                tokio::task::yield_now().await;
            }
            assert_eq!(c.sharing(|k| *k == 2), 0);
            gate.notify_waiters();
        });
        assert_eq!((*a.expect("a"), *b.expect("b")), (1, 1));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(c.inflight.lock().expect("lock").is_empty());
        assert_eq!(c.sharing(|_| true), 0);
        gate.notify_one();
        assert_eq!(*c.get(1, load).await.expect("again"), 2);
    }

    #[tokio::test]
    async fn each_reader_of_a_failed_load_gets_an_error() {
        let c: Coalesce<i64, usize> = Coalesce::default();
        let r = c.get(7, || async { Err::<usize, _>("no such job") }).await;
        assert_eq!(r.err(), Some("no such job"));
        assert!(c.inflight.lock().expect("lock").is_empty());
    }
}
