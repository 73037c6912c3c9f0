//! A target's schema for the SQL editor's completion.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

use super::error::{ApiResult, ErrorBody};
use super::extract::{Auth, Query};
use crate::services::catalog::{self, TargetSchema};
use crate::services::Ctx;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SchemaParams {
    /// Read the target's catalog again instead of answering from the cache (kept 5 minutes).
    pub refresh: Option<bool>,
}

#[utoipa::path(
    tag = "targets",
    params(("id" = i64, Path), SchemaParams),
    responses(
        (status = 200, body = TargetSchema, description = "Schemas, tables and views, and their columns (capped: `truncated`)"),
        (status = 403, body = ErrorBody, description = "The role does not run queries, or the query account can reach beyond a read-only query (`query_account_unsafe`)"),
        (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "The target is down or refused AutoDB (`target_failed`, reason `schema_unreadable` with the database's message)"),
    )
)]
#[get("/targets/{id}/schema")]
pub async fn schema(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    q: Query<SchemaParams>,
) -> ApiResult<HttpResponse> {
    let refresh = q.0.refresh.unwrap_or(false);
    let schema = catalog::schema(&ctx, &auth.0, id.into_inner(), refresh).await?;
    Ok(HttpResponse::Ok().json(&*schema))
}
