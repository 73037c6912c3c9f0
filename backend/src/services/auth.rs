//! Logins, sessions, API tokens and the brake on password guessing (`throttle`).

mod throttle;
pub use throttle::{LoginThrottle, Refused, ThrottleReport};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use super::audit::{self, Event};
use super::error::{Error, Result};
use super::users::User;
use super::{blocking, Actor, Ctx, Role};
use crate::crypto;
use crate::store::{self, tokens, users as user_rows, Store, WriteTx};

/// A session or API token whose last-used time is due to be written.
enum Touch {
    Session(i64),
    Token(i64),
}

const SESSION_PREFIX: &str = "ads_";
const API_TOKEN_PREFIX: &str = "adt_";
/// `last_seen_at` / `last_used_at` are refreshed at most this often, not on every request.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// A valid argon2id hash of nothing anyone knows: unknown users cost the same time as known ones.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0mE3TmnQzY8WwNfaQmQm1lI6k3sXbOjCcT8vY3mR0pE";

pub struct LoginOutcome {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// The longest user name that can exist (`users::validate_username`): anything longer is
/// refused before it reaches the brake, the store or the audit log.
pub const MAX_LOGIN_NAME_BYTES: usize = 64;
/// The longest password that can be set (`users::validate_password`); argon2 never sees more.
pub const MAX_LOGIN_PASSWORD_CHARS: usize = 1024;

fn check_login_input(username: &str, password: &SecretString) -> Result<()> {
    if username.is_empty() || username.len() > MAX_LOGIN_NAME_BYTES {
        return Err(Error::validation(
            "username",
            format!("must be 1 to {MAX_LOGIN_NAME_BYTES} characters"),
        ));
    }
    // Counting stops at the limit: a huge password costs no more than a long one.
    if password
        .expose_secret()
        .chars()
        .nth(MAX_LOGIN_PASSWORD_CHARS)
        .is_some()
    {
        return Err(Error::validation(
            "password",
            format!("must be at most {MAX_LOGIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

fn refused(r: Refused) -> Error {
    match r {
        Refused::Locked { retry_after_s } => Error::TooManyAttempts { retry_after_s },
        Refused::Busy => Error::TooManyAttempts { retry_after_s: 1 },
    }
}

/// Checks a user name and password and opens a session. The order keeps an anonymous client
/// from costing more than a bounded amount: input length first, then a slot from the brake
/// (refused attempts are only counted), then the user row (the store connection is released),
/// then argon2 on a blocking thread among a bounded number, then one store write.
pub async fn login(
    ctx: &Ctx,
    username: String,
    password: SecretString,
    client_addr: Option<String>,
) -> Result<LoginOutcome> {
    check_login_input(&username, &password)?;
    let slot = match ctx.throttle.reserve(&username, client_addr.as_deref()) {
        Ok(slot) => slot,
        Err(r) => {
            // The refusal stands even if the store cannot take the summaries right now.
            if let Err(e) = record_reports(ctx, ctx.throttle.take_reports()).await {
                log::warn!("login brake: summaries of refused logins not recorded: {e}");
            }
            return Err(refused(r));
        }
    };
    let name = username.clone();
    let user = ctx.store.run(move |c| user_rows::by_name(c, &name)).await?;
    let hash = user
        .as_ref()
        .map_or(DUMMY_HASH, |u| u.password_hash.as_str())
        .to_string();
    let password_ok = ctx.throttle.verify(password, hash).await.map_err(refused)?;
    // Taken now, to be written with this attempt's own entry.
    let reports = ctx.throttle.take_reports();
    let addr = client_addr;
    let user = match user {
        Some(u) if password_ok && !u.disabled => {
            slot.succeeded();
            u
        }
        other => {
            let reason = match &other {
                Some(u) if u.disabled && password_ok => "disabled",
                _ => "bad_credentials",
            };
            let failure = slot.failed(other.is_some());
            if !failure.itemize && reports.is_empty() {
                // Nothing to write: a refused try past the itemized ones takes no write lock.
                return Err(Error::InvalidCredentials);
            }
            ctx.store
                .write(move |c| {
                    record_reports_blocking(c, &reports)?;
                    if failure.itemize {
                        let mut detail = json!({ "reason": reason });
                        if let Some(wait) = failure.locked_for {
                            detail["locked_for_s"] = json!(wait.as_secs());
                        }
                        let event = Event::ok("login", "session", "").with(detail);
                        audit::record(c, None, Some(&username), addr.as_deref(), event.failed())?;
                    }
                    Ok::<_, Error>(())
                })
                .await?;
            return Err(Error::InvalidCredentials);
        }
    };
    let ttl = chrono::Duration::hours(ctx.settings.security.session_ttl_hours as i64);
    ctx.store
        .write(move |c| open_session(c, user, addr.as_deref(), ttl, &reports))
        .await
}

async fn record_reports(ctx: &Ctx, reports: Vec<ThrottleReport>) -> Result<()> {
    if reports.is_empty() {
        return Ok(());
    }
    ctx.store
        .write(move |c| record_reports_blocking(c, &reports))
        .await
}

/// One failed `login` entry per summary: `{"reason": "throttled", "attempts": n}` for a lock
/// episode of a user, `{"reason": "unknown_users", ...}` for names that do not exist.
fn record_reports_blocking(conn: &mut WriteTx<'_>, reports: &[ThrottleReport]) -> Result<()> {
    for r in reports {
        let (who, addr, detail) = match r {
            ThrottleReport::Episode {
                username,
                client_addr,
                attempts,
            } => (
                Some(username.as_str()),
                client_addr.as_deref(),
                json!({"reason": "throttled", "attempts": attempts}),
            ),
            ThrottleReport::UnknownNames {
                failures,
                throttled,
            } => (
                None,
                None,
                json!({"reason": "unknown_users", "failures": failures, "throttled": throttled}),
            ),
        };
        let event = Event::ok("login", "session", "").with(detail);
        audit::record(conn, None, who, addr, event.failed())?;
    }
    Ok(())
}

fn open_session(
    c: &mut WriteTx<'_>,
    user: user_rows::UserRow,
    addr: Option<&str>,
    ttl: chrono::Duration,
    reports: &[ThrottleReport],
) -> Result<LoginOutcome> {
    let token = crypto::new_token(SESSION_PREFIX);
    let now = store::now();
    let expires = now + ttl;
    let digest = crypto::token_digest(token.expose_secret());
    {
        record_reports_blocking(c, reports)?;
        tokens::insert_session(
            c,
            &tokens::NewSession {
                user_id: user.id,
                token_hash: &digest,
                created_at: now,
                expires_at: expires,
                last_seen_at: now,
                client_addr: addr,
            },
        )?;
        tokens::delete_expired_sessions(c, now)?;
        let actor = Actor {
            user_id: user.id,
            username: user.username.clone(),
            role: user.role.parse().map_err(Error::internal)?,
            client_addr: addr.map(str::to_string),
            session_digest: None,
        };
        audit::record(
            c,
            Some(&actor),
            None,
            None,
            Event::ok("login", "session", user.id),
        )?;
    }
    Ok(LoginOutcome {
        token,
        expires_at: expires.and_utc(),
        user: User::try_from(user)?,
    })
}

pub async fn logout(ctx: &Ctx, actor: &Actor) -> Result<()> {
    let actor = actor.clone();
    let ended = ctx
        .store
        .write(move |c| {
            if let Some(digest) = &actor.session_digest {
                tokens::delete_session(c, digest)?;
            }
            audit::record(
                c,
                Some(&actor),
                None,
                None,
                Event::ok("logout", "session", actor.user_id),
            )
        })
        .await;
    ctx.auth_cache.invalidate();
    ended
}

/// Resolves a bearer secret (login token or API token) to the acting user: from the
/// [`AuthCache`] when this secret was verified moments ago, else from the store.
pub async fn authenticate(ctx: &Ctx, token: String, client_addr: Option<String>) -> Result<Actor> {
    let session = token.starts_with(SESSION_PREFIX);
    if !session && !token.starts_with(API_TOKEN_PREFIX) {
        return Err(Error::Unauthenticated);
    }
    let digest = crypto::token_digest(&token);
    if let Some(actor) = ctx.auth_cache.get(&digest, client_addr.clone()) {
        return Ok(actor);
    }
    let generation = ctx.auth_cache.generation();
    let key = digest.clone();
    let store = ctx.store.clone();
    let (actor, expires_at) =
        blocking(move || authenticate_blocking(&store, &key, session, client_addr)).await?;
    ctx.auth_cache.put(digest, &actor, expires_at, generation);
    Ok(actor)
}

/// The actor and when the secret expires (None: an API token without expiry).
fn authenticate_blocking(
    store: &Store,
    digest: &str,
    session: bool,
    addr: Option<String>,
) -> Result<(Actor, Option<chrono::NaiveDateTime>)> {
    let now = store::now();
    // Read, let the connection go, then touch in a write of its own (one connection at a time).
    let (user, session_digest, expires_at, touch) = store.run_blocking(|conn| {
        if session {
            let (session, user) =
                tokens::session_with_user(conn, digest)?.ok_or(Error::Unauthenticated)?;
            if session.expires_at <= now {
                return Err(Error::Unauthenticated);
            }
            let touch =
                (now - session.last_seen_at > TOUCH_EVERY).then_some(Touch::Session(session.id));
            Ok((
                user,
                Some(digest.to_string()),
                Some(session.expires_at),
                touch,
            ))
        } else {
            let (tok, user) =
                tokens::api_token_with_user(conn, digest)?.ok_or(Error::Unauthenticated)?;
            if tok.revoked_at.is_some() || tok.expires_at.is_some_and(|e| e <= now) {
                return Err(Error::Unauthenticated);
            }
            let touch = tok
                .last_used_at
                .is_none_or(|t| now - t > TOUCH_EVERY)
                .then_some(Touch::Token(tok.id));
            Ok((user, None, tok.expires_at, touch))
        }
    })?;
    match touch {
        Some(Touch::Session(id)) => store.write_blocking(|c| tokens::touch_session(c, id, now))?,
        Some(Touch::Token(id)) => store.write_blocking(|c| tokens::touch_api_token(c, id, now))?,
        None => {}
    }
    if user.disabled {
        return Err(Error::Unauthenticated);
    }
    let actor = Actor {
        user_id: user.id,
        role: user.role.parse().map_err(Error::internal)?,
        username: user.username,
        client_addr: addr,
        session_digest,
    };
    Ok((actor, expires_at))
}

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

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn get(&self, digest: &str, client_addr: Option<String>) -> Option<Actor> {
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
    fn put(
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<tokens::ApiTokenRow> for ApiToken {
    fn from(r: tokens::ApiTokenRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            created_at: r.created_at.and_utc(),
            expires_at: r.expires_at.map(|t| t.and_utc()),
            last_used_at: r.last_used_at.map(|t| t.and_utc()),
        }
    }
}

pub const MAX_TOKEN_DAYS: u32 = 3650;

pub async fn create_api_token(
    ctx: &Ctx,
    actor: &Actor,
    name: String,
    expires_in_days: Option<u32>,
) -> Result<(ApiToken, SecretString)> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::validation("name", "must be 1 to 100 characters"));
    }
    if expires_in_days.is_some_and(|d| d == 0 || d > MAX_TOKEN_DAYS) {
        return Err(Error::validation(
            "expires_in_days",
            format!("must be between 1 and {MAX_TOKEN_DAYS}"),
        ));
    }
    let secret = crypto::new_token(API_TOKEN_PREFIX);
    let digest = crypto::token_digest(secret.expose_secret());
    let actor = actor.clone();
    let row = ctx
        .store
        .write(move |c| {
            let now = store::now();
            let row = tokens::insert_api_token(
                c,
                &tokens::NewApiToken {
                    user_id: actor.user_id,
                    name: &name,
                    token_hash: &digest,
                    created_at: now,
                    expires_at: expires_in_days.map(|d| now + chrono::Duration::days(d as i64)),
                },
            )?;
            let event = Event::ok("create", "api_token", row.id).with(json!({"name": name}));
            audit::record(c, Some(&actor), None, None, event)?;
            Ok::<_, Error>(row)
        })
        .await?;
    Ok((row.into(), secret))
}

pub async fn list_api_tokens(ctx: &Ctx, actor: &Actor) -> Result<Vec<ApiToken>> {
    let user_id = actor.user_id;
    let rows = ctx
        .store
        .run(move |c| tokens::api_tokens_of(c, user_id))
        .await?;
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

pub async fn revoke_api_token(ctx: &Ctx, actor: &Actor, id: i64) -> Result<()> {
    let actor = actor.clone();
    let revoked = ctx
        .store
        .write(move |c| {
            if !tokens::revoke_api_token(c, actor.user_id, id, store::now())? {
                return Err(Error::NotFound("api token"));
            }
            audit::record(
                c,
                Some(&actor),
                None,
                None,
                Event::ok("revoke", "api_token", id),
            )
        })
        .await;
    ctx.auth_cache.invalidate();
    revoked
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

    #[test]
    fn the_dummy_hash_is_a_valid_argon2_hash() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn the_login_limits_are_those_of_the_names_and_passwords_that_can_exist() {
        use crate::services::users::{validate_password, validate_username};
        assert!(validate_username(&"a".repeat(MAX_LOGIN_NAME_BYTES)).is_ok());
        assert!(validate_username(&"a".repeat(MAX_LOGIN_NAME_BYTES + 1)).is_err());
        let longest = SecretString::from("p".repeat(MAX_LOGIN_PASSWORD_CHARS));
        assert!(validate_password(&longest).is_ok());
        assert!(check_login_input("a", &longest).is_ok());
        let longer = SecretString::from("p".repeat(MAX_LOGIN_PASSWORD_CHARS + 1));
        assert!(validate_password(&longer).is_err());
        assert!(check_login_input("a", &longer).is_err());
        assert!(check_login_input("", &longest).is_err());
    }
}
