//! `GET /api/audit`: the audit log, newest first, filtered and paged (admin only), and
//! `GET /api/audit/verify`: its hash chain walked and checked (admin only).

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::{ApiResult, ErrorBody};
use super::extract::{Auth, Query};
use crate::services::audit::{self, AuditPage, ChainReport};
use crate::services::Ctx;
use crate::store::audit::AuditFilter;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// User name of the actor.
    pub actor: Option<String>,
    /// e.g. `login`, `create`, `update`, `delete`, `test`.
    pub action: Option<String>,
    /// e.g. `session`, `user`, `target`, `api_token`.
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// RFC 3339; inclusive.
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339; exclusive.
    pub until: Option<DateTime<Utc>>,
    /// From 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// 50 unless given.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<i64>,
}

#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/audit")]
pub async fn list(
    ctx: web::Data<Ctx>,
    auth: Auth,
    q: Query<AuditQuery>,
) -> ApiResult<web::Json<AuditPage>> {
    let q = q.0;
    let filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        object_type: q.object_type,
        object_id: q.object_id,
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    let page = audit::list(
        &ctx,
        &auth.0,
        filter,
        q.page.unwrap_or(1),
        q.per_page.unwrap_or(50),
    )
    .await?;
    Ok(web::Json(page))
}

/// Walks the audit log's hash chain and names the first missing or changed entry. A broken
/// chain is an answer (200, `ok: false`), not an error.
#[utoipa::path(
    tag = "audit",
    responses((status = 200, body = ChainReport), (status = 403, body = ErrorBody))
)]
#[get("/audit/verify")]
pub async fn verify(ctx: web::Data<Ctx>, auth: Auth) -> ApiResult<web::Json<ChainReport>> {
    Ok(web::Json(audit::verify(&ctx, &auth.0).await?))
}
