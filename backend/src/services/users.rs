//! User accounts: creation, role changes, disabling, password changes.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use super::audit::{self, Event};
use super::blocking;
use super::error::{Error, Msg, Result};
use super::{Actor, Ctx, Role};
use crate::crypto;
use crate::store::{self, tokens, users as rows, DbConn, Store};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<rows::UserRow> for User {
    type Error = Error;
    fn try_from(r: rows::UserRow) -> Result<Self> {
        Ok(Self {
            id: r.id,
            role: r.role.parse().map_err(Error::internal)?,
            username: r.username,
            disabled: r.disabled,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn validate_username(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "username",
            Msg::new(
                "username_pattern",
                "must be 1 to 64 characters of letters, digits, '.', '_', '-' or '@'",
            ),
        ))
    }
}

pub fn validate_password(password: &SecretString) -> Result<()> {
    let n = password.expose_secret().chars().count();
    if !(MIN_PASSWORD_CHARS..=1024).contains(&n) {
        return Err(Error::validation(
            "password",
            Msg::chars(MIN_PASSWORD_CHARS, 1024),
        ));
    }
    Ok(())
}

/// Creates a user. `actor` is None for the command line (the operator at the console).
/// On a blocking thread: the password is hashed (argon2) before the write transaction opens.
pub fn create_blocking(
    store: &Store,
    actor: Option<&Actor>,
    username: &str,
    password: &SecretString,
    role: Role,
) -> Result<User> {
    validate_username(username)?;
    validate_password(password)?;
    let hash = crypto::hash_password(password);
    store.write_blocking(|c| {
        if rows::by_name(c, username)?.is_some() {
            return Err(Error::conflict(
                Msg::new("user_exists", format!("user `{username}` already exists"))
                    .with("username", username),
            ));
        }
        let now = store::now();
        let row = rows::insert(
            c,
            &rows::NewUserRow {
                username,
                password_hash: &hash,
                role: role.as_str(),
                disabled: false,
                created_at: now,
                updated_at: now,
            },
        )?;
        let event =
            Event::ok("create", "user", row.id).with(json!({"username": username, "role": role}));
        audit::record(c, actor, actor.is_none().then_some("console"), None, event)?;
        User::try_from(row)
    })
}

pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    username: String,
    password: SecretString,
    role: Role,
) -> Result<User> {
    actor.require_admin()?;
    let (actor, store) = (actor.clone(), ctx.store.clone());
    blocking(move || create_blocking(&store, Some(&actor), &username, &password, role)).await
}

pub async fn list(ctx: &Ctx, actor: &Actor) -> Result<Vec<User>> {
    actor.require_admin()?;
    let rows = ctx.store.run(rows::list).await?;
    rows.into_iter().map(User::try_from).collect()
}

pub async fn get(ctx: &Ctx, actor: &Actor, id: i64) -> Result<User> {
    if actor.user_id != id {
        actor.require_admin()?;
    }
    let row = ctx.store.run(move |c| rows::by_id(c, id)).await?;
    User::try_from(row.ok_or(Error::NotFound("user"))?)
}

#[derive(Debug, Default)]
pub struct Changes {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<SecretString>,
}

pub async fn update(ctx: &Ctx, actor: &Actor, id: i64, changes: Changes) -> Result<User> {
    actor.require_admin()?;
    if let Some(p) = &changes.password {
        validate_password(p)?;
    }
    let (actor, store) = (actor.clone(), ctx.store.clone());
    let updated = blocking(move || update_blocking(&store, Some(&actor), id, changes)).await;
    // A role, a password or the disabled flag may have changed: verified secrets are re-read.
    ctx.auth_cache.invalidate();
    updated
}

/// On a blocking thread, like [`create_blocking`].
pub fn update_blocking(
    store: &Store,
    actor: Option<&Actor>,
    id: i64,
    changes: Changes,
) -> Result<User> {
    let hash = changes.password.as_ref().map(crypto::hash_password);
    store.write_blocking(|c| {
        let before = rows::by_id(c, id)?.ok_or(Error::NotFound("user"))?;
        let loses_admin = before.role == "admin"
            && !before.disabled
            && (changes.role.is_some_and(|r| r != Role::Admin) || changes.disabled == Some(true));
        if loses_admin && rows::count_active_admins(c)? <= 1 {
            return Err(Error::conflict(Msg::new(
                "last_admin",
                "this is the last active admin; make another admin first",
            )));
        }
        rows::update(
            c,
            id,
            &rows::UserChanges {
                password_hash: hash.clone(),
                role: changes.role.map(|r| r.as_str().to_string()),
                disabled: changes.disabled,
                updated_at: Some(store::now()),
            },
        )?;
        // A new password or a disabled account ends every open session of that user.
        if hash.is_some() || changes.disabled == Some(true) {
            tokens::delete_sessions_of(c, id)?;
        }
        let detail = json!({
            "role": changes.role,
            "disabled": changes.disabled,
            "password_changed": hash.is_some(),
        });
        let event = Event::ok("update", "user", id).with(detail);
        audit::record(c, actor, actor.is_none().then_some("console"), None, event)?;
        User::try_from(rows::by_id(c, id)?.ok_or(Error::NotFound("user"))?)
    })
}

pub fn by_name_blocking(conn: &mut DbConn, name: &str) -> Result<User> {
    User::try_from(rows::by_name(conn, name)?.ok_or(Error::NotFound("user"))?)
}

pub fn list_blocking(conn: &mut DbConn) -> Result<Vec<User>> {
    rows::list(conn)?.into_iter().map(User::try_from).collect()
}
