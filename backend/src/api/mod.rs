//! HTTP only: routes, extractors and the error mapping. Handlers parse, check the caller,
//! call one service function, and shape the answer.

pub mod audit;
pub mod auth;
pub mod error;
pub mod extract;
pub mod grants;
pub mod health;
pub mod jobs;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod permissions;
pub mod queries;
pub mod schedules;
pub mod sql;
pub mod sse;
pub mod target_schema;
pub mod targets;
pub mod users;

use actix_web::{web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use error::ApiError;

/// Registers every API route. Routes go through `service(...)` only, so each one is in the
/// OpenAPI document by construction.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::health)
        .service(auth::login)
        .service(auth::logout)
        .service(auth::me)
        .service(auth::change_password)
        .service(auth::list_tokens)
        .service(auth::create_token)
        .service(auth::revoke_token)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(targets::list)
        .service(targets::create)
        .service(targets::test_unsaved)
        .service(targets::import)
        .service(targets::get)
        .service(targets::update)
        .service(targets::remove)
        .service(targets::test)
        .service(target_schema::schema)
        .service(audit::list)
        .service(audit::verify)
        .service(jobs::submit)
        .service(jobs::list)
        .service(jobs::outcomes)
        .service(jobs::get)
        .service(jobs::cancel)
        .service(jobs::retry)
        .service(jobs::runs)
        .service(jobs::run_log)
        .service(jobs::events)
        .service(queries::submit)
        .service(queries::list)
        .service(queries::get)
        .service(queries::cancel)
        .service(queries::events)
        .service(queries::export_csv)
        .service(sql::split)
        .service(grants::create_policy)
        .service(grants::list_policies)
        .service(grants::get_policy)
        .service(grants::update_policy)
        .service(grants::delete_policy)
        .service(grants::check_policy)
        .service(grants::request)
        .service(grants::list)
        .service(grants::get)
        .service(grants::extend)
        .service(grants::end)
        .service(schedules::preview)
        .service(schedules::create)
        .service(schedules::list)
        .service(schedules::get)
        .service(schedules::update)
        .service(schedules::remove)
        .service(schedules::run_now)
        .service(schedules::fires);
}

/// Everything under `/api`: the routes, JSON answers for bad paths/queries and unknown routes.
pub fn scope() -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    utoipa_actix_web::scope("/api")
        .app_data(web::PathConfig::default().error_handler(|e, _| {
            ApiError::bad_field("path", format!("invalid path parameter: {e}")).into()
        }))
        .configure(configure)
        .default_service(web::to(no_route))
        // Every route's permission (api::permissions::TABLE), checked before its handler.
        .wrap(actix_web::middleware::from_fn(permissions::enforce))
}

async fn no_route(_req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoRoute)
}

/// The OpenAPI 3 document of every route, for the default settings.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::document(&crate::config::Settings::default())
}
