//! Queries: run read-only SQL, read results (optionally long-polling), live events, history,
//! cancel, and CSV export.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiResult, ErrorBody};
use super::extract::{Auth, Body, LiveAuth, Query};
use super::sse;
use crate::domain::Status;
use crate::services::live::{Watch, RECHECK_EVERY};
use crate::services::queries::{self, export, CreatedQuery, QueryInput, QueryPage};
use crate::services::{Action, Ctx};
use crate::store::queries::QueryFilter;

#[utoipa::path(
    tag = "queries",
    request_body = QueryInput,
    responses(
        (status = 201, body = CreatedQuery, description = "Classified, recorded and started; poll `GET /api/queries/{id}?wait_ms=` or follow `/events`"),
        (status = 400, body = ErrorBody, description = "Bad input; a statement that is not a query is named on field `sql`"),
        (status = 403, body = ErrorBody, description = "Viewers cannot run queries"),
    )
)]
#[post("/queries")]
pub async fn submit(
    ctx: web::Data<Ctx>,
    auth: Auth,
    body: Body<QueryInput>,
) -> ApiResult<HttpResponse> {
    let id = queries::submit(&ctx, &auth.0, body.0).await?;
    Ok(HttpResponse::Created().json(json!({ "id": id })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueryListParams {
    pub status: Option<Status>,
    /// User name of the submitter (admins; others only ever see their own).
    pub owner: Option<String>,
    /// Submitted at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Submitted before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// From 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// 50 unless given.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<i64>,
}

#[utoipa::path(
    tag = "queries",
    params(QueryListParams),
    responses((status = 200, body = QueryPage, description = "Newest first: your own queries; admins see everyone's"), (status = 400, body = ErrorBody))
)]
#[get("/queries")]
pub async fn list(
    ctx: web::Data<Ctx>,
    auth: Auth,
    q: Query<QueryListParams>,
) -> ApiResult<web::Json<QueryPage>> {
    let q = q.0;
    let filter = QueryFilter {
        owner_id: None,
        owner_name: q.owner,
        status: q.status,
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    let page = queries::list(
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
pub struct GetParams {
    /// Wait up to this many milliseconds (at most 10000) for the query to end before answering.
    #[param(maximum = 10000)]
    pub wait_ms: Option<u64>,
}

#[utoipa::path(
    tag = "queries",
    params(("id" = i64, Path), GetParams),
    responses((status = 200, body = queries::Query), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/queries/{id}")]
pub async fn get(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
    q: Query<GetParams>,
) -> ApiResult<web::Json<queries::Query>> {
    let wait = q.0.wait_ms.unwrap_or(0);
    Ok(web::Json(
        queries::get(&ctx, &auth.0, id.into_inner(), wait).await?,
    ))
}

#[utoipa::path(
    tag = "queries",
    params(("id" = i64, Path)),
    responses((status = 200, body = queries::Query), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Already ended"))
)]
#[post("/queries/{id}/cancel")]
pub async fn cancel(
    ctx: web::Data<Ctx>,
    auth: Auth,
    id: web::Path<i64>,
) -> ApiResult<web::Json<queries::Query>> {
    Ok(web::Json(
        queries::cancel(&ctx, &auth.0, id.into_inner()).await?,
    ))
}

#[utoipa::path(
    tag = "queries",
    params(("id" = i64, Path)),
    responses(
        (status = 200, content_type = "text/event-stream", description = "`snapshot`, then `result` per target and statement as it ends, `status`, and `end` (with a `reason` when the session or token ended, the user was disabled or their role no longer runs queries); a failure on the server ends the stream with `stream_error` `{\"message\": ...}`"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/queries/{id}/events")]
pub async fn events(
    ctx: web::Data<Ctx>,
    auth: LiveAuth,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let LiveAuth(actor, credential) = auth;
    actor.require_to(Action::RunQueries)?;
    queries::get(&ctx, &actor, id, 0).await?;
    let watch = Watch::new(credential, actor, Action::RunQueries);
    let source = queries::events::source(&ctx, id);
    Ok(sse::response(ctx.get_ref().clone(), watch, source))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// 0-based statement index (default: the last statement).
    #[param(minimum = 0)]
    pub statement: Option<i32>,
    /// Write NULL as this marker (default: an empty unquoted field; an empty string is `""`).
    #[param(pattern = r#"^[^,"\r\n]{0,20}$"#)]
    pub null: Option<String>,
    /// `1`: every value untouched. Default (`0`): text cells starting with `=`, `+`, `-`, `@`,
    /// a tab or a carriage return (and such column names) get a leading `'` and are quoted, so
    /// a spreadsheet does not run them as formulas; typed numbers stay as they are.
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<bool>)]
    pub raw: Option<bool>,
    /// `1`: start the file with a UTF-8 byte order mark (for Excel, which otherwise reads it in
    /// the system's code page, e.g. GBK on Chinese Windows).
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<bool>)]
    pub bom: Option<bool>,
}

/// A query-string switch: `1`/`true` or `0`/`false`.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = String::deserialize(d)?;
    match v.as_str() {
        "1" | "true" => Ok(Some(true)),
        "0" | "false" => Ok(Some(false)),
        _ => Err(serde::de::Error::custom("must be 1, 0, true or false")),
    }
}

#[utoipa::path(
    tag = "queries",
    params(("id" = i64, Path), ("target_id" = i64, Path), ExportParams),
    responses(
        (status = 200, content_type = "text/csv", description = "RFC 4180 CSV with a header line, streamed; re-runs the statement read-only when the stored page is incomplete (at most `query.export_max_rows` rows). Formula-like text cells are neutralised unless `raw=1`. The download is cut short if the session or token ends, the user is disabled or their role no longer runs queries"),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "The caller's role does not run queries"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The result is still running or did not succeed"),
        (status = 502, body = ErrorBody, description = "The target failed before the first row of a re-run"),
    )
)]
#[get("/queries/{id}/results/{target_id}.csv")]
pub async fn export_csv(
    ctx: web::Data<Ctx>,
    auth: LiveAuth,
    path: web::Path<(i64, i64)>,
    q: Query<ExportParams>,
) -> ApiResult<HttpResponse> {
    let (id, target_id) = path.into_inner();
    let q = q.0;
    let LiveAuth(actor, credential) = auth;
    let format = export::Format {
        raw: q.raw.unwrap_or(false),
        bom: q.bom.unwrap_or(false),
    };
    let export = export::csv(&ctx, &actor, id, target_id, q.statement, q.null, format).await?;
    let watch = Watch::new(credential, actor, Action::RunQueries);
    let body = guarded(ctx.get_ref().clone(), watch, export.body);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(export.filename)],
        })
        .insert_header((
            "X-AutoDB-Export-Max-Rows",
            ctx.settings.query.export_max_rows.to_string(),
        ))
        .streaming(body))
}

/// The export's chunks, while the caller's credential and role still hold (checked at least
/// every [`RECHECK_EVERY`], also while the database is slow to send). When they lapse the body
/// is aborted (the client sees an incomplete download) and dropping the channel cancels a
/// re-run in the database.
fn guarded(
    ctx: Ctx,
    watch: Watch,
    rx: tokio::sync::mpsc::Receiver<Result<web::Bytes, String>>,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> {
    futures_util::stream::unfold(Some((ctx, watch, rx)), |state| async move {
        let (ctx, mut watch, mut rx) = state?;
        loop {
            let next = tokio::time::timeout(RECHECK_EVERY, rx.recv()).await;
            if let Err(lapse) = watch.check(&ctx).await {
                let why = format!("export ended: {}", lapse.reason());
                return Some((Err(actix_web::error::ErrorForbidden(why)), None));
            }
            match next {
                Err(_) => continue,
                Ok(None) => return None,
                Ok(Some(chunk)) => {
                    let item = chunk.map_err(|m| {
                        actix_web::error::ErrorBadGateway(format!("export aborted: {m}"))
                    });
                    return Some((item, Some((ctx, watch, rx))));
                }
            }
        }
    })
}
