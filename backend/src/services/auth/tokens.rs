//! API tokens for automation: create (the secret shown once), list, revoke, and verifying a
//! presented token against its row (revoked, expired, last used).

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use crate::crypto;
use crate::services::audit::{self, Event};
use crate::services::error::{Error, Msg, Result};
use crate::services::{Actor, Ctx};
use crate::store::{self, tokens};

pub(super) const API_TOKEN_PREFIX: &str = "adt_";

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
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(Error::validation("name", Msg::chars(1, 100)));
    }
    let name = name.trim().to_string();
    if expires_in_days.is_some_and(|d| d == 0 || d > MAX_TOKEN_DAYS) {
        return Err(Error::validation(
            "expires_in_days",
            Msg::between(1, i64::from(MAX_TOKEN_DAYS)),
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
