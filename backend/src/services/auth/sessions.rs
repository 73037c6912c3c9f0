//! Sessions: login (with its glue to the brake in `throttle`: refusals, and their summaries
//! written to the audit), logout, and resolving a bearer secret to the acting user
//! (`authenticate`: the cache first, then the session or API token row, touched at most every
//! [`TOUCH_EVERY`]).

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::throttle::{Refused, ThrottleReport};
use super::{tokens as api_tokens, TOUCH_EVERY};
use crate::crypto;
use crate::services::audit::{self, Event};
use crate::services::error::{Error, Msg, Result};
use crate::services::users::User;
use crate::services::{blocking, Actor, Ctx};
use crate::store::{self, tokens, users as user_rows, Store, WriteTx};

/// A session or API token whose last-used time is due to be written.
enum Touch {
    Session(i64),
    Token(i64),
}

const SESSION_PREFIX: &str = "ads_";
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
            Msg::chars(1, MAX_LOGIN_NAME_BYTES),
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
            Msg::at_most_chars(MAX_LOGIN_PASSWORD_CHARS),
        ));
    }
    Ok(())
}

pub(super) fn refused(r: Refused) -> Error {
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
pub(super) fn record_reports_blocking(
    conn: &mut WriteTx<'_>,
    reports: &[ThrottleReport],
) -> Result<()> {
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
/// [`AuthCache`](super::AuthCache) when this secret was verified moments ago, else from the store.
pub async fn authenticate(ctx: &Ctx, token: String, client_addr: Option<String>) -> Result<Actor> {
    let session = token.starts_with(SESSION_PREFIX);
    if !session && !token.starts_with(api_tokens::API_TOKEN_PREFIX) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
