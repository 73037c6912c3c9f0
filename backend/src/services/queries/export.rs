//! CSV export of one result (target × statement), streamed.
//!
//! When the stored page holds the whole result it is written from the store (what the user saw).
//! Otherwise the statement runs again, read-only exactly like the query (same classifier, same
//! read-only transaction, always rolled back), with the export's own statement timeout
//! (`query.max_timeout_s`) and at most `query.export_max_rows` rows: a std thread formats rows into
//! 64 KiB chunks and hands them to the HTTP body through a bounded channel, so a slow client slows
//! the database read instead of filling memory, and a client that goes away cancels the statement.
//!
//! CSV (RFC 4180): a header line of column names, CRLF line ends, fields quoted when they hold a
//! comma, a quote or a line break. NULL vs '': NULL is an empty unquoted field, an empty string
//! is `""` (PostgreSQL's `COPY … CSV` convention). With `?null=MARKER` NULL is written as MARKER,
//! and a value equal to MARKER is quoted. Binary is lower-case hex; JSON is its compact text;
//! timestamps are ISO-8601 as in the API.
//!
//! Spreadsheets run cells that start with `=`, `+`, `-`, `@`, a tab or a carriage return as
//! formulas (`=HYPERLINK(…)`, `+cmd|…`): such text cells — and column names — are neutralised as
//! OWASP recommends ("CSV Injection"): a single quote is put before them and the field is
//! quoted. Typed numbers (`int`, `float`, `decimal`) and booleans are data and stay as they are,
//! so `-5` is still `-5`; text `-5` becomes `"'-5"`. `?raw=1` writes every value untouched;
//! `?bom=1` starts the file with a UTF-8 byte order mark (Excel on Chinese Windows otherwise
//! reads UTF-8 as GBK). The export needs the role that runs queries (it may re-run one).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::classify;
use super::runner::{open_read_only, Stoppable};
use super::{visible, ResultColumn};
use crate::config::QuerySettings;
use crate::connectors::{Canceller, Cell, Column, DbError, RowSink};
use crate::services::audit::{self, Event};
use crate::services::error::{Error, Msg, Result};
use crate::services::targets::{query_spec, TargetAccess};
use crate::services::{Action, Actor, Ctx};
use crate::store::queries as rows;
use crate::store::{targets, Store};
use crate::work::Lane;

const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the database thread and the HTTP body: the memory bound.
const IN_FLIGHT: usize = 8;

/// A started export: the file name and the body's chunks (an `Err` mid-stream aborts the
/// response, so the client sees an incomplete download rather than a short file).
pub struct Export {
    pub filename: String,
    pub body: mpsc::Receiver<std::result::Result<Bytes, String>>,
}

/// How the CSV is written, beyond the values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Format {
    /// Write every value untouched (no formula neutralising).
    pub raw: bool,
    /// Start with a UTF-8 byte order mark.
    pub bom: bool,
}

const BOM: &str = "\u{feff}";

/// Whether a spreadsheet would read this text as a formula (OWASP's list).
fn starts_formula(v: &str) -> bool {
    v.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Validates `null=`: short, and nothing that would need quoting itself.
pub fn check_null_marker(null: &Option<String>) -> Result<()> {
    if let Some(m) = null {
        if m.chars().count() > 20 || m.contains([',', '"', '\r', '\n']) {
            return Err(Error::validation(
                "null",
                Msg::new(
                    "null_marker",
                    "must be at most 20 characters without commas, quotes or line breaks",
                ),
            ));
        }
    }
    Ok(())
}

/// Appends one field. `None` is NULL; `neutralise` puts `'` before text a spreadsheet would
/// run as a formula (and quotes it).
fn push_field(buf: &mut String, value: Option<&str>, neutralise: bool, null: Option<&str>) {
    let Some(v) = value else {
        buf.push_str(null.unwrap_or(""));
        return;
    };
    let formula = neutralise && starts_formula(v);
    let quote = formula || v.is_empty() || null == Some(v) || v.contains([',', '"', '\r', '\n']);
    if quote {
        buf.push('"');
        if formula {
            buf.push('\'');
        }
        for ch in v.chars() {
            if ch == '"' {
                buf.push('"');
            }
            buf.push(ch);
        }
        buf.push('"');
    } else {
        buf.push_str(v);
    }
}

/// Typed numbers and booleans are data; everything else is text a spreadsheet may interpret.
fn cell_is_text(c: &Cell) -> bool {
    !matches!(
        c,
        Cell::Null | Cell::Bool(_) | Cell::Int(_) | Cell::Float(_) | Cell::Decimal(_)
    )
}

fn stored_is_text(v: &Value) -> bool {
    !matches!(
        v.get("t").and_then(Value::as_str),
        Some("null" | "bool" | "int" | "float" | "decimal")
    )
}

fn cell_text(c: &Cell) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    Some(match c {
        Cell::Null => return None,
        Cell::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Cell::Int(i) => Cow::Owned(i.to_string()),
        Cell::Float(f) => Cow::Owned(f.to_string()),
        Cell::Decimal(s)
        | Cell::Text(s)
        | Cell::Bytes(s)
        | Cell::Date(s)
        | Cell::Time(s)
        | Cell::Timestamp(s)
        | Cell::TimestampTz(s)
        | Cell::Json(s) => Cow::Borrowed(s.as_str()),
    })
}

/// A stored cell (`{"t": "int", "v": 1}`) as CSV text; `None` is NULL.
fn stored_text(v: &Value) -> Option<String> {
    match (v.get("t").and_then(Value::as_str), v.get("v")) {
        (Some("null") | None, _) | (_, None) => None,
        (_, Some(Value::String(s))) => Some(s.clone()),
        (_, Some(other)) => Some(other.to_string()),
    }
}

/// Appends one line; each field is its text (`None`: NULL) and whether it is text.
fn push_row<'a>(
    buf: &mut String,
    fields: impl Iterator<Item = (Option<&'a str>, bool)>,
    raw: bool,
    null: Option<&str>,
) {
    for (i, (f, text)) in fields.enumerate() {
        if i > 0 {
            buf.push(',');
        }
        push_field(buf, f, text && !raw, null);
    }
    buf.push_str("\r\n");
}

fn header(buf: &mut String, names: &[&str], format: Format, null: Option<&str>) {
    if format.bom {
        buf.push_str(BOM);
    }
    push_row(
        buf,
        names.iter().map(|n| (Some(*n), true)),
        format.raw,
        null,
    );
}

pub async fn csv(
    ctx: &Ctx,
    actor: &Actor,
    query_id: i64,
    target_id: i64,
    statement: Option<i32>,
    null: Option<String>,
    format: Format,
) -> Result<Export> {
    // Also on re-run exports, which run the statement again on the target.
    actor.require_to(Action::RunQueries)?;
    check_null_marker(&null)?;
    let a = actor.clone();
    let (query, result) = ctx
        .store
        .run(move |c| {
            let q = visible(c, a.user_id, a.may(Action::SeeAllQueries), query_id)?;
            let mine: Vec<rows::ResultRow> = rows::results(c, query_id)?
                .into_iter()
                .filter(|r| r.target_id == target_id)
                .collect();
            let r = match statement {
                Some(i) => mine.into_iter().find(|r| r.stmt_idx == i),
                None => mine.into_iter().max_by_key(|r| r.stmt_idx),
            }
            .ok_or(Error::NotFound("result"))?;
            Ok::<_, Error>((q, r))
        })
        .await?;
    match result.status.as_str() {
        "success" => {}
        "waiting" | "running" => {
            return Err(Error::conflict(Msg::new(
                "result_running",
                "this result is still running; export it once it has ended",
            )))
        }
        other => {
            let why = result.error.as_deref().unwrap_or("no message");
            return Err(Error::conflict(
                Msg::new(
                    "result_not_exportable",
                    format!("this result ended as {other} ({why}); there is nothing to export"),
                )
                .with("status", other)
                .with("detail", why),
            ));
        }
    }
    let rerun = result.truncated;
    let a = actor.clone();
    let detail = json!({
        "target_id": target_id, "target": result.target_name, "statement_index": result.stmt_idx,
        "format": "csv", "raw": format.raw, "bom": format.bom, "source": if rerun { "re-run" } else { "stored page" },
        "max_rows": ctx.settings.query.export_max_rows,
    });
    ctx.store
        .write(move |c| {
            let event = Event::ok("export", "query", query_id).with(detail);
            audit::record(c, Some(&a), None, None, event)
        })
        .await?;
    let filename = format!(
        "query-{query_id}-{}-{}.csv",
        safe_name(&result.target_name),
        result.stmt_idx
    );
    let (tx, body) = mpsc::channel(IN_FLIGHT);
    if !rerun {
        let csv = stored_csv(&result, format, null.as_deref());
        // The stored page is bounded by query.max_result_bytes; one send cannot block.
        let _ = tx.send(Ok(Bytes::from(csv))).await;
        return Ok(Export { filename, body });
    }
    let (ready_tx, ready) = oneshot::channel();
    let stmt_idx = result.stmt_idx;
    let (store, access) = (ctx.store.clone(), TargetAccess::of(ctx));
    let settings = ctx.settings.query.clone();
    let connect_timeout = Duration::from_secs(ctx.settings.engine.connect_timeout_s);
    // In the queries lane of the engine's pool: an export's re-run counts as a query.
    ctx.work
        .pool()
        .spawn(Lane::Queries, Some(target_id), move || {
            let job = ExportJob {
                store: &store,
                access: &access,
                settings: &settings,
                connect_timeout,
                query: &query,
                target_id,
                stmt_idx,
                null,
                format,
            };
            job.run(tx, ready_tx);
        })
        .map_err(|e| Error::internal(e.to_string()))?;
    match ready.await {
        Ok(Ok(())) => Ok(Export { filename, body }),
        Ok(Err(e)) if e.code.as_deref() == Some(super::account::UNSAFE_CODE) => {
            Err(Error::QueryAccountUnsafe(e.message))
        }
        Ok(Err(e)) => Err(Error::TargetFailed(e.to_string())),
        Err(_) => Err(Error::internal("the export thread ended without an answer")),
    }
}

fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn stored_csv(r: &rows::ResultRow, format: Format, null: Option<&str>) -> String {
    let columns: Vec<ResultColumn> = serde_json::from_str(&r.columns_json).unwrap_or_default();
    let rows: Vec<Vec<Value>> = serde_json::from_str(&r.rows_json).unwrap_or_default();
    let mut buf = String::with_capacity(r.rows_json.len());
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    header(&mut buf, &names, format, null);
    for row in &rows {
        let texts: Vec<(Option<String>, bool)> = row
            .iter()
            .map(|v| (stored_text(v), stored_is_text(v)))
            .collect();
        push_row(
            &mut buf,
            texts.iter().map(|(t, text)| (t.as_deref(), *text)),
            format.raw,
            null,
        );
    }
    buf
}

struct ExportJob<'a> {
    store: &'a Store,
    access: &'a TargetAccess,
    settings: &'a QuerySettings,
    connect_timeout: Duration,
    query: &'a rows::QueryRow,
    target_id: i64,
    stmt_idx: i32,
    null: Option<String>,
    format: Format,
}

type Ready = oneshot::Sender<std::result::Result<(), DbError>>;

impl ExportJob<'_> {
    fn run(self, tx: mpsc::Sender<std::result::Result<Bytes, String>>, ready: Ready) {
        let ready = Arc::new(Mutex::new(Some(ready)));
        let answer = |r: std::result::Result<(), DbError>| {
            if let Some(s) = ready.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = s.send(r);
            }
        };
        let prepared = self.prepare();
        let (spec, stmt, trusted) = match prepared {
            Ok(v) => v,
            Err(e) => return answer(Err(e)),
        };
        let run = ReRun::default();
        let mut conn = match open_read_only(&spec, &run, std::slice::from_ref(&stmt), trusted) {
            Ok(c) => c,
            Err(e) => return answer(Err(e)),
        };
        let mut sink = CsvSink {
            tx: tx.clone(),
            buf: String::with_capacity(CHUNK + 1024),
            rows: 0,
            max_rows: self.settings.export_max_rows,
            null: self.null.clone(),
            format: self.format,
            ready: ready.clone(),
            canceller: conn.canceller(),
            gone: false,
        };
        let result = conn.execute(&stmt.sql, &mut sink);
        let _ = conn.rollback();
        drop(conn);
        match result {
            Ok(_) => {
                answer(Ok(()));
                sink.flush();
            }
            Err(e) if sink.gone => {
                log::info!("export of query {}: client left ({e})", self.query.id)
            }
            Err(e) => {
                // Before the first row: a proper error answer; after it: an aborted body.
                let msg = e.to_string();
                answer(Err(e));
                sink.flush();
                let _ = tx.blocking_send(Err(msg));
            }
        }
    }

    /// The connection details, the statement, and whether the target is trusted for queries.
    fn prepare(
        &self,
    ) -> std::result::Result<(crate::connectors::ConnectSpec, classify::Checked, bool), DbError>
    {
        let target = self
            .store
            .run_blocking(|c| targets::by_id(c, self.target_id))
            .map_err(|e| DbError::internal(e.to_string()))?
            .map(|(t, _)| t)
            .ok_or_else(|| DbError::config("the target no longer exists"))?;
        let timeout = Duration::from_secs(u64::from(self.settings.max_timeout_s));
        let spec = query_spec(self.access, &target, self.connect_timeout, timeout)?;
        let statements = classify::classify(spec.engine, &self.query.sql_text)
            .map_err(|m| DbError::config(m.text))?;
        let stmt = usize::try_from(self.stmt_idx)
            .ok()
            .and_then(|i| statements.into_iter().nth(i))
            .ok_or_else(|| DbError::config("the statement is no longer in this query"))?;
        Ok((spec, stmt, target.trusted_for_queries))
    }
}

/// A re-run's own stop: it is not a work item (its requester is streaming it), so only the
/// client leaving stops it, through the sink.
#[derive(Default)]
struct ReRun {
    canceller: Mutex<Option<Arc<dyn Canceller>>>,
}

impl Stoppable for ReRun {
    fn set_canceller(&self, c: Option<Arc<dyn Canceller>>) {
        *self.canceller.lock().unwrap_or_else(|p| p.into_inner()) = c;
    }
    fn cancelled(&self) -> bool {
        false
    }
}

struct CsvSink {
    tx: mpsc::Sender<std::result::Result<Bytes, String>>,
    buf: String,
    rows: u64,
    max_rows: u64,
    null: Option<String>,
    format: Format,
    ready: Arc<Mutex<Option<Ready>>>,
    canceller: Arc<dyn Canceller>,
    /// The client went away: stop, and cancel the statement in the database.
    gone: bool,
}

impl CsvSink {
    fn flush(&mut self) {
        if self.buf.is_empty() || self.gone {
            return;
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            String::with_capacity(CHUNK + 1024),
        ));
        if self.tx.blocking_send(Ok(chunk)).is_err() {
            self.gone = true;
            if let Err(e) = self.canceller.cancel() {
                log::warn!("cancelling an abandoned export: {e}");
            }
        }
    }
}

impl RowSink for CsvSink {
    fn columns(&mut self, columns: &[Column]) {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        header(&mut self.buf, &names, self.format, self.null.as_deref());
        if let Some(s) = self.ready.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = s.send(Ok(()));
        }
    }

    fn row(&mut self, row: Vec<Cell>) -> bool {
        if self.gone || self.rows >= self.max_rows {
            return false;
        }
        let texts: Vec<(Option<std::borrow::Cow<'_, str>>, bool)> = row
            .iter()
            .map(|c| (cell_text(c), cell_is_text(c)))
            .collect();
        push_row(
            &mut self.buf,
            texts.iter().map(|(t, text)| (t.as_deref(), *text)),
            self.format.raw,
            self.null.as_deref(),
        );
        self.rows += 1;
        if self.buf.len() >= CHUNK {
            self.flush();
        }
        !self.gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_as(cells: &[Cell], raw: bool, null: Option<&str>) -> String {
        let mut buf = String::new();
        let texts: Vec<_> = cells
            .iter()
            .map(|c| (cell_text(c), cell_is_text(c)))
            .collect();
        push_row(
            &mut buf,
            texts.iter().map(|(t, text)| (t.as_deref(), *text)),
            raw,
            null,
        );
        buf
    }

    fn line(cells: &[Cell], null: Option<&str>) -> String {
        line_as(cells, false, null)
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_is_quoted_behind_a_single_quote_unless_raw() {
        let cells = [
            Cell::Text("=1+1".into()),
            Cell::Text("+cmd|' /C calc'!A0".into()),
            Cell::Text("-2".into()),
            Cell::Text("@SUM(A1)".into()),
            Cell::Text("\tx".into()),
            Cell::Text("\rx".into()),
            Cell::Text("=\"a\",b".into()),
            Cell::Text("a=1".into()),
            Cell::Json(r#""=x""#.into()),
            Cell::Int(-5),
            Cell::Decimal("-1.50".into()),
            Cell::Float(-0.5),
        ];
        assert_eq!(
            line(&cells, None),
            "\"'=1+1\",\"'+cmd|' /C calc'!A0\",\"'-2\",\"'@SUM(A1)\",\"'\tx\",\"'\rx\",\
             \"'=\"\"a\"\",b\",a=1,\"\"\"=x\"\"\",-5,-1.50,-0.5\r\n"
        );
        assert_eq!(
            line_as(&cells, true, None),
            "=1+1,+cmd|' /C calc'!A0,-2,@SUM(A1),\tx,\"\rx\",\"=\"\"a\"\",b\",a=1,\
             \"\"\"=x\"\"\",-5,-1.50,-0.5\r\n"
        );
    }

    #[test]
    fn stored_numbers_are_data_and_stored_text_is_neutralised() {
        assert!(!stored_is_text(&json!({"t": "int", "v": -5})));
        assert!(!stored_is_text(&json!({"t": "decimal", "v": "-1.5"})));
        assert!(stored_is_text(&json!({"t": "text", "v": "-5"})));
        assert!(stored_is_text(&json!({"t": "timestamp", "v": "x"})));
    }

    #[test]
    fn column_names_are_neutralised_and_a_bom_starts_the_header() {
        let mut buf = String::new();
        let bom = Format {
            raw: false,
            bom: true,
        };
        header(&mut buf, &["=a", "b"], bom, None);
        assert_eq!(buf, "\u{feff}\"'=a\",b\r\n");
        assert!(buf.as_bytes().starts_with(&[0xEF, 0xBB, 0xBF]));
    }

    #[test]
    fn null_and_empty_string_differ_and_quoting_follows_rfc_4180() {
        let cells = [
            Cell::Null,
            Cell::Text(String::new()),
            Cell::Text("a,b".into()),
            Cell::Text("say \"hi\"".into()),
            Cell::Text("two\nlines".into()),
            Cell::Int(-3),
            Cell::Decimal("12345678901234567890.1234567890".into()),
            Cell::Bool(true),
            Cell::Bytes("00ff".into()),
            Cell::Json(r#"{"a":[1,"x"]}"#.into()),
        ];
        assert_eq!(
            line(&cells, None),
            ",\"\",\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",-3,\
             12345678901234567890.1234567890,true,00ff,\"{\"\"a\"\":[1,\"\"x\"\"]}\"\r\n"
        );
    }

    #[test]
    fn a_null_marker_is_written_and_a_value_equal_to_it_is_quoted() {
        let cells = [
            Cell::Null,
            Cell::Text("NULL".into()),
            Cell::Text(String::new()),
        ];
        assert_eq!(line(&cells, Some("NULL")), "NULL,\"NULL\",\"\"\r\n");
    }

    #[test]
    fn stored_cells_read_back_as_the_same_text() {
        for cell in [
            Cell::Null,
            Cell::Int(7),
            Cell::Float(1.5),
            Cell::Text(String::new()),
            Cell::TimestampTz("2024-01-02T03:04:05+02:00".into()),
            Cell::Json("[1, 12345678901234567890123]".into()),
            Cell::Bool(false),
        ] {
            let stored = serde_json::to_value(&cell).unwrap_or_default();
            assert_eq!(
                stored_text(&stored),
                cell_text(&cell).map(|c| c.into_owned()),
                "{stored}"
            );
        }
        // A result stored before JSON cells kept their text held the parsed value.
        assert_eq!(
            stored_text(&json!({"t": "json", "v": {"a": [1, 2]}})),
            Some(r#"{"a":[1,2]}"#.into())
        );
    }
}
