//! Jobs: submit, list, inspect, cancel, retry, run logs, and live events.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::{ApiResult, ErrorBody};
use super::extract::{Auth, Body, LiveAuth, OptionalBody, Query};
use super::sse;
use crate::domain::Status;
use crate::services::jobs::outcomes::Outcomes;
use crate::services::jobs::{self, Job, JobInput, JobPage, RetryInput, RunLog, RunPage};
use crate::services::live::Watch;
use crate::services::{Action, Ctx};
use crate::store::jobs::{JobFilter, RunFilter};

#[utoipa::path(
    tag = "jobs",
    request_body = JobInput,
    responses(
        (status = 201, body = Job, description = "Written and queued; no statement has run yet"),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[post("/jobs")]
pub async fn submit(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<JobInput>,
) -> ApiResult<HttpResponse> {
    let job = jobs::submit(&ctx, &auth.0, body.0).await?;
    Ok(HttpResponse::Created().json(job))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    pub status: Option<Status>,
    /// User name of the submitter.
    pub owner: Option<String>,
    /// Submitted at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Submitted before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Part of the name, in any case (`%` and `_` are plain characters); empty = any name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// From 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// 50 unless given.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<i64>,
}

#[utoipa::path(tag = "jobs", params(JobQuery), responses((status = 200, body = JobPage), (status = 400, body = ErrorBody)))]
#[get("/jobs")]
pub async fn list(
    ctx: web::Data<Ctx>,
    auth: Auth,
    q: Query<JobQuery>,
) -> ApiResult<web::Json<JobPage>> {
    let q = q.0;
    let filter = JobFilter {
        status: q.status,
        owner: q.owner,
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
        name: q.q.filter(|q| !q.is_empty()),
    };
    let page = jobs::list(
        &ctx,
        &auth.0,
        filter,
        q.page.unwrap_or(1),
        q.per_page.unwrap_or(50),
    )
    .await?;
    Ok(web::Json(page))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutcomesQuery {
    /// Days counted, today included; 14 unless given.
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<i64>,
    /// The IANA zone days are counted in (the viewer's); UTC unless given.
    #[param(max_length = 64)]
    pub timezone: Option<String>,
}

/// How many jobs ended in success, error or cancellation on each of the last days.
#[utoipa::path(tag = "jobs", params(OutcomesQuery), responses((status = 200, body = Outcomes), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[get("/jobs/outcomes")]
pub async fn outcomes(
    ctx: web::Data<Ctx>,
    auth: Auth,
    q: Query<OutcomesQuery>,
) -> ApiResult<web::Json<Outcomes>> {
    let q = q.0;
    let zone = q.timezone.unwrap_or_else(|| "UTC".into());
    let got = jobs::outcomes::outcomes(&ctx, &auth.0, q.days.unwrap_or(14), &zone).await?;
    Ok(web::Json(got))
}

#[utoipa::path(tag = "jobs", params(("id" = i64, Path)), responses((status = 200, body = Job), (status = 404, body = ErrorBody)))]
#[get("/jobs/{id}")]
pub async fn get(ctx: web::Data<Ctx>, auth: Auth, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let body = jobs::get_json(&ctx, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// Only the runs of this script (its index, from 0).
    #[param(minimum = 0)]
    pub script: Option<i32>,
    pub status: Option<Status>,
    /// From 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// 100 unless given; at most 1000.
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[utoipa::path(
    tag = "jobs",
    params(("id" = i64, Path), RunQuery),
    responses((status = 200, body = RunPage, description = "Ordered by script index, target name, attempt"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/jobs/{id}/runs")]
pub async fn runs(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    q: Query<RunQuery>,
) -> ApiResult<web::Json<RunPage>> {
    let q = q.0;
    let filter = RunFilter {
        script: q.script,
        status: q.status,
    };
    Ok(web::Json(
        jobs::runs(
            &ctx,
            &auth.0,
            id.into_inner(),
            filter,
            q.page.unwrap_or(1),
            q.per_page.unwrap_or(100),
        )
        .await?,
    ))
}

#[utoipa::path(
    tag = "jobs",
    params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Already ended"))
)]
#[post("/jobs/{id}/cancel")]
pub async fn cancel(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Job>> {
    Ok(web::Json(
        jobs::cancel(&ctx, &auth.0, id.into_inner()).await?,
    ))
}

/// Runs the job's failed and cancelled runs (their latest attempts) again, as a new attempt.
/// The body is optional (none, `{}` or no `from` = `start`, the whole script). With
/// `failed_statement` or `next_statement` each run starts at, or just after, the statement
/// where its attempt stopped: the statements before it already committed on engines without
/// transactional DDL. A run that was one transaction (a `transactional` job on PostgreSQL or
/// SQLite) was rolled back entirely and starts at its first statement whatever `from` says
/// (rather than a 422: a fleet mixing engines is retried in one request, each run correctly).
/// Each run's start is its `first_statement`.
#[utoipa::path(
    tag = "jobs",
    params(("id" = i64, Path)),
    request_body(content = Option<RetryInput>, description = "Optional"),
    responses((status = 200, body = Job), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Still running, or nothing to retry"))
)]
#[post("/jobs/{id}/retry")]
pub async fn retry(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    body: OptionalBody<RetryInput>,
) -> ApiResult<web::Json<Job>> {
    let input = body.0.unwrap_or_default();
    Ok(web::Json(
        jobs::retry(&ctx, &auth.0, id.into_inner(), input).await?,
    ))
}

#[utoipa::path(
    tag = "jobs",
    params(("id" = i64, Path), ("run_id" = i64, Path)),
    responses((status = 200, body = RunLog), (status = 404, body = ErrorBody))
)]
#[get("/jobs/{id}/runs/{run_id}/log")]
pub async fn run_log(
    ctx: web::Data<Ctx>,
    auth: Auth,
    path: web::Path<(i64, i64)>,
) -> ApiResult<web::Json<RunLog>> {
    let (id, run_id) = path.into_inner();
    Ok(web::Json(jobs::run_log(&ctx, &auth.0, id, run_id).await?))
}

#[utoipa::path(
    tag = "jobs",
    params(("id" = i64, Path)),
    responses(
        (status = 200, content_type = "text/event-stream", description = "`snapshot`, then `run` / `script` / `job` events, and `end` (with a `reason` when the session or token ended or the user was disabled); a failure on the server ends the stream with `stream_error` `{\"message\": ...}`"),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/jobs/{id}/events")]
pub async fn events(
    ctx: web::Data<Ctx>,
    auth: LiveAuth,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let LiveAuth(actor, credential) = auth;
    jobs::get(&ctx, &actor, id).await?;
    let watch = Watch::new(credential, actor, Action::Read);
    let source = jobs::events::source(&ctx, id);
    Ok(sse::response(ctx.get_ref().clone(), watch, source))
}
