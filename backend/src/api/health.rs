//! `GET /api/health`: 200 while the metadata store answers, 503 when it does not.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;

use crate::services::Ctx;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` with a 503.
    pub status: &'static str,
    pub version: &'static str,
    /// The release running: its `VERSION` file (scripts/release.sh), else `version`.
    pub release: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
}

#[utoipa::path(
    tag = "health",
    security(()),
    responses(
        (status = 200, description = "The service and its store answer", body = Health),
        (status = 503, description = "The metadata store does not answer", body = Health),
    )
)]
#[get("/health")]
pub async fn health(ctx: web::Data<Ctx>) -> HttpResponse {
    let ok = ctx.store.ping().await.is_ok();
    let body = Health {
        status: if ok { "ok" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        release: crate::release::release(),
        store: ctx.store.backend(),
    };
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
