//! Targets: the managed databases.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;

use super::error::{ApiResult, ErrorBody};
use super::extract::{Auth, Body, OptionalBody, Query};
use crate::services::targets::import::{ImportInput, ImportReport};
use crate::services::targets::{self, HealthState, Target, TargetEdits, TargetInput, TestResult};
use crate::services::Ctx;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TargetFilter {
    /// Only targets carrying this tag (comma-separated: all of them).
    pub tag: Option<String>,
    /// Only targets whose last check is this (`failed`: the home page's card).
    #[param(inline)]
    pub health: Option<HealthState>,
}

#[utoipa::path(tag = "targets", params(TargetFilter), responses((status = 200, body = [Target])))]
#[get("/targets")]
pub async fn list(
    ctx: web::Data<Ctx>,
    auth: Auth,
    filter: Query<TargetFilter>,
) -> ApiResult<web::Json<Vec<Target>>> {
    let tags = filter
        .0
        .tag
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(web::Json(
        targets::list(&ctx, &auth.0, tags, filter.0.health).await?,
    ))
}

#[utoipa::path(
    tag = "targets",
    request_body = TargetInput,
    responses((status = 201, body = Target), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/targets")]
pub async fn create(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<TargetInput>,
) -> ApiResult<HttpResponse> {
    let target = targets::create(&ctx, &auth.0, body.0).await?;
    Ok(HttpResponse::Created().json(target))
}

#[utoipa::path(
    tag = "targets",
    params(("id" = i64, Path)),
    responses((status = 200, body = Target), (status = 404, body = ErrorBody))
)]
#[get("/targets/{id}")]
pub async fn get(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Target>> {
    Ok(web::Json(
        targets::get(&ctx, &auth.0, id.into_inner()).await?,
    ))
}

#[utoipa::path(
    tag = "targets",
    params(("id" = i64, Path)),
    request_body = TargetInput,
    responses((status = 200, body = Target), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[put("/targets/{id}")]
pub async fn update(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    body: Body<TargetInput>,
) -> ApiResult<web::Json<Target>> {
    Ok(web::Json(
        targets::update(&ctx, &auth.0, id.into_inner(), body.0).await?,
    ))
}

#[utoipa::path(
    tag = "targets",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody))
)]
#[delete("/targets/{id}")]
pub async fn remove(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    targets::delete(&ctx, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tests the stored target (operators and admins), recording the result as its health; or,
/// with a body of edits not saved yet (admins: fields left out keep their stored values, an
/// empty password keeps the stored one), tests the target as it would be saved and stores
/// nothing but the audit entry.
#[utoipa::path(
    tag = "targets",
    params(("id" = i64, Path)),
    request_body(content = Option<TargetEdits>, description = "Optional: edits not saved yet"),
    responses(
        (status = 200, body = TestResult, description = "The outcome; a failing database is `ok: false` with its own error"),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[post("/targets/{id}/test")]
pub async fn test(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    edits: OptionalBody<TargetEdits>,
) -> ApiResult<web::Json<TestResult>> {
    Ok(web::Json(
        targets::test(&ctx, &auth.0, id.into_inner(), edits.0).await?,
    ))
}

/// Tests a target that is not saved (the body of a create, validated as one): the form's
/// "Test" before saving. Nothing is stored but the audit entry.
#[utoipa::path(
    tag = "targets",
    request_body = TargetInput,
    responses(
        (status = 200, body = TestResult, description = "The outcome; a failing database is `ok: false` with its own error"),
        (status = 400, body = ErrorBody),
    )
)]
#[post("/targets/test")]
pub async fn test_unsaved(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<TargetInput>,
) -> ApiResult<web::Json<TestResult>> {
    Ok(web::Json(
        targets::test_unsaved(&ctx, &auth.0, body.0).await?,
    ))
}

/// Creates many targets from CSV, each row as a create; answers a report per row. A row that
/// fails does not stop the others; `dry_run` stores nothing.
#[utoipa::path(
    tag = "targets",
    request_body = ImportInput,
    responses(
        (status = 200, body = ImportReport, description = "One entry per row, in order"),
        (status = 400, body = ErrorBody, description = "The body breaks this document (a field missing or of the wrong type)"),
        (status = 422, body = ErrorBody, description = "The CSV is refused as a whole: not CSV, no rows, an unknown, missing or repeated column, over 1000 rows or 1 MiB"),
    )
)]
#[post("/targets/import")]
pub async fn import(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<ImportInput>,
) -> ApiResult<web::Json<ImportReport>> {
    Ok(web::Json(
        targets::import::import(&ctx, &auth.0, body.0).await?,
    ))
}
