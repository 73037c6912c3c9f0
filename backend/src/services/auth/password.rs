//! A signed-in user changing their own password: the current one is checked through the same
//! brake as a login (a stolen session guesses no faster than the login page), the new one is
//! held to the rules of `users::validate_password`, and the user's other sessions end.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::sessions::{record_reports_blocking, refused, MAX_LOGIN_PASSWORD_CHARS};
use crate::crypto;
use crate::services::audit::{self, Event};
use crate::services::error::{Error, Msg, Result};
use crate::services::users::validate_password;
use crate::services::{blocking, Actor, Ctx};
use crate::store::{self, tokens, users as user_rows};

/// Sets `actor`'s password to `new` once `current` is proven, and ends every other session of
/// theirs (the one making the change stays open).
///
/// Only a login session may do this, never an API token: a token is a credential handed to a
/// script, and a leaked one must not become a way to take over the account (with the current
/// password guessed or known, it would lock the owner out of their own login); besides, a token
/// has no session of its own to keep.
///
/// A wrong current password is 403 `wrong_password`, not 401: the caller's session is valid,
/// and a 401 tells clients to drop it and sign in again.
pub async fn change_password(
    ctx: &Ctx,
    actor: &Actor,
    current: SecretString,
    new: SecretString,
) -> Result<()> {
    if current
        .expose_secret()
        .chars()
        .nth(MAX_LOGIN_PASSWORD_CHARS)
        .is_some()
    {
        return Err(Error::validation(
            "current_password",
            Msg::at_most_chars(MAX_LOGIN_PASSWORD_CHARS),
        ));
    }
    validate_password(&new).map_err(|e| match e {
        Error::Validation { message, .. } => Error::validation("new_password", message),
        other => other,
    })?;
    let Some(session) = actor.session_digest.clone() else {
        return Err(Error::forbidden(Msg::new(
            "password_by_session",
            "a password is changed from a signed-in session, not with an API token",
        )));
    };
    let slot = match ctx
        .throttle
        .reserve(&actor.username, actor.client_addr.as_deref())
    {
        Ok(slot) => slot,
        Err(r) => return Err(refused(r)),
    };
    let id = actor.user_id;
    let row = ctx
        .store
        .run(move |c| user_rows::by_id(c, id))
        .await?
        .ok_or(Error::Unauthenticated)?;
    let ok = ctx
        .throttle
        .verify(current, row.password_hash.clone())
        .await
        .map_err(refused)?;
    let reports = ctx.throttle.take_reports();
    let actor = actor.clone();
    if !ok {
        let failure = slot.failed(true);
        ctx.store
            .write(move |c| {
                record_reports_blocking(c, &reports)?;
                let mut detail = json!({ "reason": "wrong_password" });
                if let Some(wait) = failure.locked_for {
                    detail["locked_for_s"] = json!(wait.as_secs());
                }
                let event = Event::ok("password", "user", actor.user_id).with(detail);
                audit::record(c, Some(&actor), None, None, event.failed())
            })
            .await?;
        return Err(Error::WrongPassword);
    }
    slot.succeeded();
    let hash = blocking(move || Ok(crypto::hash_password(&new))).await?;
    let verified = row.password_hash;
    let changed = ctx
        .store
        .write(move |c| {
            record_reports_blocking(c, &reports)?;
            let now_hash = user_rows::by_id(c, actor.user_id)?.map(|u| u.password_hash);
            if now_hash.as_deref() != Some(verified.as_str()) {
                return Err(Error::conflict(Msg::new(
                    "password_changed_meanwhile",
                    "the password was changed meanwhile; sign in again and retry",
                )));
            }
            user_rows::update(
                c,
                actor.user_id,
                &user_rows::UserChanges {
                    password_hash: Some(hash),
                    updated_at: Some(store::now()),
                    ..Default::default()
                },
            )?;
            let ended = tokens::delete_other_sessions_of(c, actor.user_id, &session)?;
            let event = Event::ok("password", "user", actor.user_id)
                .with(json!({ "other_sessions_ended": ended }));
            audit::record(c, Some(&actor), None, None, event)
        })
        .await;
    // The sessions just ended may sit in the cache of secrets verified moments ago.
    ctx.auth_cache.invalidate();
    changed
}
