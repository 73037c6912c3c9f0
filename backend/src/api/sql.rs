//! `POST /api/sql/split`: how a script will be cut into statements, for the UI's preview.

use actix_web::{post, web};
use serde::{Deserialize, Serialize};

use super::error::ApiResult;
use super::extract::{Auth, Body};
use crate::connectors::Engine;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    pub engine: Engine,
    pub sql: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SplitStatement {
    pub sql: String,
    /// 1-based line of the script where the statement starts.
    pub line: usize,
    /// `sql`, `plsql_block` or `client_command`.
    pub kind: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SplitNote {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SplitResponse {
    pub statements: Vec<SplitStatement>,
    /// Client commands (SQL*Plus `SET`, psql `\connect`, `DELIMITER`...) that are not sent.
    pub skipped: Vec<SplitNote>,
    pub warnings: Vec<SplitNote>,
}

#[utoipa::path(tag = "sql", request_body = SplitRequest, responses((status = 200, body = SplitResponse)))]
#[post("/sql/split")]
pub async fn split(_auth: Auth, body: Body<SplitRequest>) -> ApiResult<web::Json<SplitResponse>> {
    let SplitRequest { engine, sql } = body.0;
    // Pure CPU work, linear in the script: fine on the worker for bodies within the size limit.
    let out = sqlsplit::split(engine.dialect(), &sql);
    let kind = |k: sqlsplit::StatementKind| {
        serde_json::to_value(k)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    Ok(web::Json(SplitResponse {
        statements: out
            .statements
            .into_iter()
            .map(|s| SplitStatement {
                sql: s.sql,
                line: s.line,
                kind: kind(s.kind),
            })
            .collect(),
        skipped: out
            .skipped
            .into_iter()
            .map(|s| SplitNote {
                line: s.line,
                message: format!("{}: {}", s.reason, s.text),
            })
            .collect(),
        warnings: out
            .warnings
            .into_iter()
            .map(|w| SplitNote {
                line: w.line,
                message: w.message,
            })
            .collect(),
    }))
}
