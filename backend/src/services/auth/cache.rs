//! The auth cache: secrets verified in the last few seconds, by digest, so most requests
//! authenticate without a store round trip; and its invalidation after changes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::services::{Actor, Role};
use crate::store;

/// How long a verified secret is trusted without asking the store again. Changes made in this
/// process (logout, password change, disabling, role change, token revocation) clear the cache
/// at once; changes made elsewhere (the CLI, another AutoDB process on a shared store) reach
/// this process within this time.
pub const AUTH_CACHE_TTL: Duration = Duration::from_secs(5);
/// Entries kept at most; past it the cache starts over.
const AUTH_CACHE_MAX: usize = 10_000;

/// Secrets verified in the last few seconds, by digest (never the secret itself). Most API
/// requests then authenticate without a store round trip.
#[derive(Debug)]
pub struct AuthCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Verified>>,
    /// Bumped by every invalidation: a lookup that began before it must not be cached after it.
    generation: AtomicU64,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self::new(AUTH_CACHE_TTL)
    }
}

#[derive(Debug)]
struct Verified {
    user_id: i64,
    username: String,
    role: Role,
    session: bool,
    expires_at: Option<chrono::NaiveDateTime>,
    at: Instant,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Verified>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub(super) fn get(&self, digest: &str, client_addr: Option<String>) -> Option<Actor> {
        let entries = self.lock();
        let v = entries.get(digest)?;
        if v.at.elapsed() >= self.ttl || v.expires_at.is_some_and(|e| e <= store::now()) {
            return None;
        }
        Some(Actor {
            user_id: v.user_id,
            username: v.username.clone(),
            role: v.role,
            client_addr,
            session_digest: v.session.then(|| digest.to_string()),
        })
    }

    /// Remembers a verification that began at `generation`, unless an invalidation came since.
    pub(super) fn put(
        &self,
        digest: String,
        actor: &Actor,
        expires_at: Option<chrono::NaiveDateTime>,
        generation: u64,
    ) {
        let mut entries = self.lock();
        if self.generation() != generation {
            return;
        }
        if entries.len() >= AUTH_CACHE_MAX {
            entries.retain(|_, v| v.at.elapsed() < self.ttl);
            if entries.len() >= AUTH_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(
            digest,
            Verified {
                user_id: actor.user_id,
                username: actor.username.clone(),
                role: actor.role,
                session: actor.session_digest.is_some(),
                expires_at,
                at: Instant::now(),
            },
        );
    }

    /// Forgets every verified secret. Call it after a change to sessions, tokens or users has
    /// been committed.
    pub fn invalidate(&self) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(session: bool) -> Actor {
        Actor {
            user_id: 7,
            username: "op".into(),
            role: Role::Operator,
            client_addr: None,
            session_digest: session.then(|| "d1".to_string()),
        }
    }

    #[test]
    fn the_auth_cache_answers_until_invalidated() {
        let cache = AuthCache::default();
        let g = cache.generation();
        cache.put("d1".into(), &actor(true), None, g);
        let hit = cache.get("d1", Some("10.0.0.9".into())).expect("cached");
        assert_eq!((hit.user_id, hit.role), (7, Role::Operator));
        // The request's own address, not the one of the request that filled the cache.
        assert_eq!(hit.client_addr.as_deref(), Some("10.0.0.9"));
        assert_eq!(hit.session_digest.as_deref(), Some("d1"));
        assert!(cache.get("d2", None).is_none());
        cache.invalidate();
        assert!(cache.get("d1", None).is_none());
    }

    #[test]
    fn a_lookup_that_began_before_an_invalidation_is_not_cached() {
        let cache = AuthCache::default();
        let before = cache.generation();
        cache.invalidate(); // e.g. a logout committed while the lookup ran
        cache.put("d1".into(), &actor(true), None, before);
        assert!(cache.get("d1", None).is_none());
    }

    #[test]
    fn cached_secrets_lapse_with_the_ttl_and_their_own_expiry() {
        let cache = AuthCache::new(Duration::ZERO);
        cache.put("d1".into(), &actor(false), None, cache.generation());
        assert!(cache.get("d1", None).is_none());
        let cache = AuthCache::default();
        let past = store::now() - chrono::Duration::seconds(1);
        cache.put("d1".into(), &actor(false), Some(past), cache.generation());
        assert!(cache.get("d1", None).is_none());
        cache.put("d2".into(), &actor(false), None, cache.generation());
        assert!(cache
            .get("d2", None)
            .expect("cached")
            .session_digest
            .is_none());
    }
}
