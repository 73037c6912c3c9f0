//! User administration (admin only).

use actix_web::{get, post, put, web, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;

use super::error::{ApiResult, ErrorBody};
use super::extract::{Auth, Body};
use crate::services::users::{self, Changes, User};
use crate::services::{Ctx, Role};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(pattern = r"^[A-Za-z0-9._@-]{1,64}$")]
    pub username: String,
    #[schema(value_type = String, format = Password, min_length = 10, max_length = 1024)]
    pub password: SecretString,
    pub role: Role,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// A new password; ends the user's sessions.
    #[schema(value_type = Option<String>, format = Password, min_length = 10, max_length = 1024)]
    pub password: Option<SecretString>,
}

#[utoipa::path(tag = "users", responses((status = 200, body = [User]), (status = 403, body = ErrorBody)))]
#[get("/users")]
pub async fn list(ctx: web::Data<Ctx>, auth: Auth) -> ApiResult<web::Json<Vec<User>>> {
    Ok(web::Json(users::list(&ctx, &auth.0).await?))
}

#[utoipa::path(
    tag = "users",
    request_body = NewUser,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/users")]
pub async fn create(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<NewUser>,
) -> ApiResult<HttpResponse> {
    let NewUser {
        username,
        password,
        role,
    } = body.0;
    let user = users::create(&ctx, &auth.0, username, password, role).await?;
    Ok(HttpResponse::Created().json(user))
}

#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody))
)]
#[get("/users/{id}")]
pub async fn get(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<User>> {
    Ok(web::Json(users::get(&ctx, &auth.0, id.into_inner()).await?))
}

#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path)),
    request_body = UserUpdate,
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[put("/users/{id}")]
pub async fn update(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    body: Body<UserUpdate>,
) -> ApiResult<web::Json<User>> {
    let UserUpdate {
        role,
        disabled,
        password,
    } = body.0;
    let changes = Changes {
        role,
        disabled,
        password,
    };
    Ok(web::Json(
        users::update(&ctx, &auth.0, id.into_inner(), changes).await?,
    ))
}
