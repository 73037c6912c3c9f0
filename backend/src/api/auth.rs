//! Login, logout, the current user, and the caller's API tokens.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::error::{ApiResult, ErrorBody};
use super::extract::{
    check_login_origin, client_addr, is_tls, Auth, Body, SmallBody, SESSION_COOKIE,
};
use crate::services::auth::{self, ApiToken};
use crate::services::users::{self, User};
use crate::services::Ctx;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Also usable as `Authorization: Bearer` until logout or expiry.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse, description = "Logged in; the session cookie is set"),
        (status = 400, body = ErrorBody, description = "User name longer than 64 bytes or password longer than 1024 characters (`field` names it)"),
        (status = 401, body = ErrorBody, description = "Wrong user name or password (never says which)"),
        (status = 403, body = ErrorBody, description = "`cross_origin`: sent from another site's page"),
        (status = 413, body = ErrorBody, description = "Body larger than 16 KiB"),
        (status = 429, body = ErrorBody, description = "Too many failed attempts, or every password check busy; see Retry-After"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: SmallBody<LoginRequest>,
) -> ApiResult<HttpResponse> {
    check_login_origin(&req)?;
    let LoginRequest { username, password } = body.0;
    let out = auth::login(&ctx, username, password, client_addr(&req)).await?;
    let ttl = (out.expires_at - Utc::now()).num_seconds().max(0);
    let cookie = Cookie::build(SESSION_COOKIE, out.token.expose_secret().to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_tls(&req))
        .max_age(time::Duration::seconds(ttl))
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).json(LoginResponse {
        token: out.token.expose_secret().to_string(),
        expires_at: out.expires_at,
        user: out.user,
    }))
}

#[utoipa::path(tag = "auth", responses((status = 204, description = "Session ended")))]
#[post("/auth/logout")]
pub async fn logout(ctx: web::Data<Ctx>, req: HttpRequest, auth: Auth) -> ApiResult<HttpResponse> {
    auth::logout(&ctx, &auth.0).await?;
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_tls(&req))
        .finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

#[utoipa::path(tag = "auth", responses((status = 200, body = User)))]
#[get("/auth/me")]
pub async fn me(ctx: web::Data<Ctx>, auth: Auth) -> ApiResult<web::Json<User>> {
    Ok(web::Json(users::get(&ctx, &auth.0, auth.0.user_id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password, max_length = 1024)]
    pub current_password: SecretString,
    #[schema(value_type = String, format = Password, min_length = 10, max_length = 1024)]
    pub new_password: SecretString,
}

/// Changes the caller's own password. Only from a login session (an API token is refused, see
/// `auth::change_password`); the caller's other sessions end, this one stays.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; every other session of this user has ended"),
        (status = 400, body = ErrorBody, description = "`new_password` shorter than 10 or longer than 1024 characters, or `current_password` longer than 1024 (`field` names it)"),
        (status = 403, body = ErrorBody, description = "`wrong_password`: the current password is wrong (`field` is `current_password`); `forbidden`: called with an API token"),
        (status = 409, body = ErrorBody, description = "The password was changed by someone else meanwhile"),
        (status = 429, body = ErrorBody, description = "Too many wrong passwords for this account (shared with login), or every password check busy; see Retry-After"),
    )
)]
#[post("/auth/password")]
pub async fn change_password(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<PasswordChange>,
) -> ApiResult<HttpResponse> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.0;
    auth::change_password(&ctx, &auth.0, current_password, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "auth", responses((status = 200, body = [ApiToken])))]
#[get("/auth/tokens")]
pub async fn list_tokens(ctx: web::Data<Ctx>, auth: Auth) -> ApiResult<web::Json<Vec<ApiToken>>> {
    Ok(web::Json(auth::list_api_tokens(&ctx, &auth.0).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    #[schema(
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 100
    )]
    pub name: String,
    /// Days until it stops working; absent means it never expires.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiToken {
    pub api_token: ApiToken,
    /// The secret, shown this once: send it as `Authorization: Bearer`.
    pub token: String,
}

#[utoipa::path(
    tag = "auth",
    request_body = NewApiToken,
    responses((status = 201, body = CreatedApiToken), (status = 400, body = ErrorBody))
)]
#[post("/auth/tokens")]
pub async fn create_token(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<NewApiToken>,
) -> ApiResult<HttpResponse> {
    let NewApiToken {
        name,
        expires_in_days,
    } = body.0;
    let (api_token, secret) = auth::create_api_token(&ctx, &auth.0, name, expires_in_days).await?;
    Ok(HttpResponse::Created().json(CreatedApiToken {
        api_token,
        token: secret.expose_secret().to_string(),
    }))
}

#[utoipa::path(
    tag = "auth",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody))
)]
#[delete("/auth/tokens/{id}")]
pub async fn revoke_token(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth::revoke_api_token(&ctx, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
