//! Schedules: CRUD, run now, fire history, and the preview of an expression's next times.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;

use super::error::{ApiResult, ErrorBody};
use super::extract::{Auth, Body, Query};
use crate::services::schedules::{
    self, Fire, Preview, PreviewInput, RunNow, Schedule, ScheduleInput,
};
use crate::services::Ctx;

#[utoipa::path(
    tag = "schedules",
    request_body = ScheduleInput,
    responses((status = 201, body = Schedule), (status = 400, body = ErrorBody, description = "`field` names `cron`, `timezone`, `job.…`"), (status = 403, body = ErrorBody))
)]
#[post("/schedules")]
pub async fn create(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<ScheduleInput>,
) -> ApiResult<HttpResponse> {
    let s = schedules::create(&ctx, &auth.0, body.0).await?;
    Ok(HttpResponse::Created().json(s))
}

#[utoipa::path(tag = "schedules", responses((status = 200, body = Vec<Schedule>)))]
#[get("/schedules")]
pub async fn list(ctx: web::Data<Ctx>, auth: Auth) -> ApiResult<web::Json<Vec<Schedule>>> {
    Ok(web::Json(schedules::list(&ctx, &auth.0).await?))
}

#[utoipa::path(tag = "schedules", params(("id" = i64, Path)), responses((status = 200, body = Schedule), (status = 404, body = ErrorBody)))]
#[get("/schedules/{id}")]
pub async fn get(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Schedule>> {
    Ok(web::Json(
        schedules::get(&ctx, &auth.0, id.into_inner()).await?,
    ))
}

#[utoipa::path(
    tag = "schedules",
    params(("id" = i64, Path)),
    request_body = ScheduleInput,
    responses((status = 200, body = Schedule), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody, description = "Not the owner or an admin"), (status = 404, body = ErrorBody))
)]
#[put("/schedules/{id}")]
pub async fn update(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    body: Body<ScheduleInput>,
) -> ApiResult<web::Json<Schedule>> {
    Ok(web::Json(
        schedules::update(&ctx, &auth.0, id.into_inner(), body.0).await?,
    ))
}

#[utoipa::path(
    tag = "schedules",
    params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted with its fire history; its jobs stay"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/schedules/{id}")]
pub async fn remove(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    schedules::delete(&ctx, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    tag = "schedules",
    params(("id" = i64, Path)),
    responses((status = 201, body = RunNow, description = "The job, submitted as the caller through the path of POST /api/jobs"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/schedules/{id}/run")]
pub async fn run_now(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let r = schedules::run_now(&ctx, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FireQuery {
    /// 100 unless given; at most 500.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[utoipa::path(
    tag = "schedules",
    params(("id" = i64, Path), FireQuery),
    responses((status = 200, body = Vec<Fire>, description = "Newest first"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/schedules/{id}/fires")]
pub async fn fires(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    q: Query<FireQuery>,
) -> ApiResult<web::Json<Vec<Fire>>> {
    Ok(web::Json(
        schedules::fires(&ctx, &auth.0, id.into_inner(), q.0.limit.unwrap_or(100)).await?,
    ))
}

#[utoipa::path(
    tag = "schedules",
    request_body = PreviewInput,
    responses((status = 200, body = Preview, description = "The next `count` fire times after `from`, with the zone's offset"), (status = 400, body = ErrorBody))
)]
#[post("/schedules/preview")]
pub async fn preview(
    ctx: web::Data<Ctx>,
    _auth: Auth,
    body: Body<PreviewInput>,
) -> ApiResult<web::Json<Preview>> {
    Ok(web::Json(schedules::preview(&ctx, &body.0)?))
}
