//! Grants: temporary access to a database account (`services::grants`), and their policies.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;

use super::error::{ApiResult, ErrorBody};
use super::extract::{Auth, Body, Query};
use crate::services::grants::{
    self, rights::Right, Created, ExtendInput, Grant, GrantInput, Policy, PolicyInput,
};
use crate::services::Ctx;
use crate::store::grants::GrantFilter;

#[utoipa::path(tag = "grants", request_body = PolicyInput,
    responses((status = 201, body = Policy), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/grant-policies")]
pub async fn create_policy(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<PolicyInput>,
) -> ApiResult<HttpResponse> {
    let p = grants::create_policy(&ctx, &auth.0, body.0).await?;
    Ok(HttpResponse::Created().json(p))
}

#[utoipa::path(tag = "grants", responses((status = 200, body = Vec<Policy>, description = "Admins: all; others: the policies their role may ask under")))]
#[get("/grant-policies")]
pub async fn list_policies(ctx: web::Data<Ctx>, auth: Auth) -> ApiResult<web::Json<Vec<Policy>>> {
    Ok(web::Json(grants::list_policies(&ctx, &auth.0).await?))
}

#[utoipa::path(tag = "grants", params(("id" = i64, Path)), responses((status = 200, body = Policy), (status = 404, body = ErrorBody)))]
#[get("/grant-policies/{id}")]
pub async fn get_policy(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Policy>> {
    Ok(web::Json(
        grants::get_policy(&ctx, &auth.0, id.into_inner()).await?,
    ))
}

#[utoipa::path(tag = "grants", params(("id" = i64, Path)), request_body = PolicyInput,
    responses((status = 200, body = Policy), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/grant-policies/{id}")]
pub async fn update_policy(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    body: Body<PolicyInput>,
) -> ApiResult<web::Json<Policy>> {
    Ok(web::Json(
        grants::update_policy(&ctx, &auth.0, id.into_inner(), body.0).await?,
    ))
}

#[utoipa::path(tag = "grants", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "A grant of the policy is still open")))]
#[delete("/grant-policies/{id}")]
pub async fn delete_policy(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    grants::delete_policy(&ctx, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "grants", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Right>, description = "Each right a grant needs, whether the target's AutoDB account holds it, and the SQL granting what is missing"),
        (status = 404, body = ErrorBody), (status = 502, body = ErrorBody, description = "The target could not be reached")))]
#[post("/grant-policies/{id}/check")]
pub async fn check_policy(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Vec<Right>>> {
    Ok(web::Json(
        grants::check(&ctx, &auth.0, id.into_inner()).await?,
    ))
}

#[utoipa::path(tag = "grants", request_body = GrantInput,
    responses((status = 201, body = Created, description = "Active; the password is shown this once"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody, description = "Your role is not in the policy"),
        (status = 409, body = ErrorBody, description = "Swap mode: the account is lent to someone (named, with the expiry)"),
        (status = 502, body = ErrorBody, description = "The target refused or could not be reached")))]
#[post("/grants")]
pub async fn request(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<GrantInput>,
) -> ApiResult<HttpResponse> {
    let created = grants::request(&ctx, &auth.0, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(created))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GrantQuery {
    pub status: Option<grants::Status>,
    pub target: Option<i64>,
    /// User name of the requester (admins).
    pub user: Option<String>,
}

#[utoipa::path(tag = "grants", params(GrantQuery),
    responses((status = 200, body = Vec<Grant>, description = "Own grants (admins: everyone's), newest first, at most 500"), (status = 400, body = ErrorBody)))]
#[get("/grants")]
pub async fn list(
    ctx: web::Data<Ctx>,
    auth: Auth,
    q: Query<GrantQuery>,
) -> ApiResult<web::Json<Vec<Grant>>> {
    let q = q.0;
    let filter = GrantFilter {
        status: q.status.map(|s| s.as_str().to_string()),
        target_id: q.target,
        user: q.user,
        owner_id: None,
    };
    Ok(web::Json(grants::list(&ctx, &auth.0, filter).await?))
}

#[utoipa::path(tag = "grants", params(("id" = i64, Path)), responses((status = 200, body = Grant), (status = 404, body = ErrorBody)))]
#[get("/grants/{id}")]
pub async fn get(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Grant>> {
    Ok(web::Json(
        grants::get(&ctx, &auth.0, id.into_inner()).await?,
    ))
}

#[utoipa::path(tag = "grants", params(("id" = i64, Path)), request_body = ExtendInput,
    responses((status = 200, body = Grant), (status = 400, body = ErrorBody, description = "Beyond the policy's maximum from the start"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Not active")))]
#[post("/grants/{id}/extend")]
pub async fn extend(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    body: Body<ExtendInput>,
) -> ApiResult<web::Json<Grant>> {
    Ok(web::Json(
        grants::extend(&ctx, &auth.0, id.into_inner(), body.0).await?,
    ))
}

#[utoipa::path(tag = "grants", params(("id" = i64, Path)),
    responses((status = 200, body = Grant, description = "The restore is due now; follow the status to `ended`"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Already over")))]
#[post("/grants/{id}/end")]
pub async fn end(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Grant>> {
    Ok(web::Json(
        grants::end(&ctx, &auth.0, id.into_inner()).await?,
    ))
}
