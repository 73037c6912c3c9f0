//! `GET /metrics`: Prometheus text, for admins and their API tokens (a scraper uses a token).
//! Outside `/api` and its OpenAPI document, so the permission table does not cover it: the
//! handler checks `Action::ReadMetrics` itself.

use actix_web::{web, HttpResponse};

use super::error::ApiError;
use super::extract::Auth;
use crate::services::{Action, Ctx};

pub async fn scrape(ctx: web::Data<Ctx>, Auth(actor): Auth) -> Result<HttpResponse, ApiError> {
    actor.require_to(Action::ReadMetrics)?;
    let body = crate::services::metrics::scrape(&ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}
