//! Many targets at once from CSV (`POST /api/targets/import`): a header row naming the create
//! body's fields, then one target per row, each validated as a create is. A row that fails is
//! reported and the others go on; `dry_run` checks every row and stores nothing. Each created
//! target is audited as a create (with `"import": true`), and the import itself once.
//!
//! Imported targets are stored without the query-account check a single create runs (that
//! would connect to every target); queries check the account before each use anyway.

use std::collections::HashSet;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::csv::{self, Record};
use super::{audit_detail, check_place, fields, named_conflict, validate, TargetInput};
use crate::connectors::Engine;
use crate::services::audit::{self, Event};
use crate::services::error::{Error, Msg, Result};
use crate::services::{Action, Actor, Ctx};
use crate::store::targets as rows;

/// Rows (after the header) one import may hold.
pub const MAX_ROWS: usize = 1000;
/// Bytes of CSV one import may hold.
pub const MAX_BYTES: usize = 1024 * 1024;

/// The columns a header may name (the create body's fields); `name` and `engine` are needed.
const COLUMNS: [&str; 12] = [
    "name",
    "engine",
    "host",
    "port",
    "database",
    "username",
    "password",
    "query_username",
    "query_password",
    "trusted_for_queries",
    "tags",
    "options",
];

/// Body of `POST /api/targets/import`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportInput {
    /// The CSV text: a header row of create fields (`name`, `engine`, `host`, `port`,
    /// `database`, `username`, `password`, `query_username`, `query_password`,
    /// `trusted_for_queries`, `tags` separated by `;` or spaces, `options` as a JSON object),
    /// then at most 1000 rows; 1 MiB at most. An empty cell is an absent field; an empty `port`
    /// is the engine's usual one.
    pub csv: String,
    /// Check every row and store nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Created,
    WouldCreate,
    Error,
}

/// Why a row was refused, as the API would have answered its create.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The `error` code a create would have answered (`invalid_input`, `conflict`).
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
    /// The message's stable code, for a client to say it in its user's language.
    pub reason: Option<&'static str>,
    #[schema(value_type = HashMap<String, Value>)]
    pub params: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportRow {
    /// The line of the CSV the row starts on (the header is line 1).
    pub row: usize,
    /// The row's `name` cell, when it has one.
    pub name: Option<String>,
    pub status: RowStatus,
    /// The new target's id (`created`).
    pub id: Option<i64>,
    pub error: Option<RowError>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub created: usize,
    pub would_create: usize,
    pub failed: usize,
    pub rows: Vec<ImportRow>,
}

fn too_large() -> Error {
    Error::unprocessable(
        "csv",
        Msg::new(
            "import_too_large",
            format!("an import holds at most {MAX_BYTES} bytes and {MAX_ROWS} rows"),
        )
        .with("max_bytes", MAX_BYTES)
        .with("max_rows", MAX_ROWS),
    )
}

/// A row's refusal, or `None` for an error that is not the row's (the store failing).
fn row_error(e: &Error) -> Option<RowError> {
    let (code, field, message) = match e {
        Error::Validation { field, message } | Error::Unprocessable { field, message } => {
            ("invalid_input", Some(field.clone()), message)
        }
        Error::PasswordRequired { field, message } => {
            ("password_required", Some(field.clone()), message)
        }
        Error::Conflict(message) => ("conflict", Some("name".to_string()), message),
        _ => return None,
    };
    Some(RowError {
        code,
        field,
        message: message.text.clone(),
        reason: message.reason,
        params: message.params.clone(),
    })
}

/// The header's columns, by position.
fn header(record: &Record) -> Result<Vec<&'static str>> {
    let mut seen: Vec<&'static str> = Vec::new();
    for cell in &record.cells {
        let name = cell.trim().to_ascii_lowercase();
        let Some(col) = COLUMNS.iter().find(|c| **c == name) else {
            return Err(Error::unprocessable(
                "csv",
                Msg::new(
                    "csv_header",
                    format!(
                        "the header names `{name}`, which is not a target field (one of {})",
                        COLUMNS.join(", ")
                    ),
                )
                .with("column", name.clone())
                .with("columns", COLUMNS.join(", ")),
            ));
        };
        if seen.contains(col) {
            return Err(Error::unprocessable(
                "csv",
                Msg::new(
                    "csv_header_twice",
                    format!("the header names `{col}` twice"),
                )
                .with("column", *col),
            ));
        }
        seen.push(col);
    }
    for needed in ["name", "engine"] {
        if !seen.contains(&needed) {
            return Err(Error::unprocessable(
                "csv",
                Msg::new(
                    "csv_header_missing",
                    format!("the header must name the column `{needed}`"),
                )
                .with("column", needed),
            ));
        }
    }
    Ok(seen)
}

fn usual_port(engine: Engine) -> u16 {
    match engine {
        Engine::Postgres => 5432,
        Engine::Mysql => 3306,
        Engine::Oracle => 1521,
        Engine::Sqlite => 0,
    }
}

/// A row as a create body.
fn row_input(columns: &[&'static str], record: &Record) -> Result<TargetInput> {
    if record.cells.len() != columns.len() {
        return Err(Error::validation(
            "csv",
            Msg::new(
                "csv_cells",
                format!(
                    "the row has {} cells, the header {}",
                    record.cells.len(),
                    columns.len()
                ),
            )
            .with("found", record.cells.len())
            .with("expected", columns.len()),
        ));
    }
    let cell = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .map(|i| record.cells[i].as_str())
            .filter(|v| !v.trim().is_empty())
    };
    let engine: Engine = cell("engine").unwrap_or("").trim().parse().map_err(|_| {
        Error::validation(
            "engine",
            Msg::new(
                "csv_engine",
                "must be one of postgres, mysql, oracle, sqlite",
            ),
        )
    })?;
    let port = match cell("port") {
        None => usual_port(engine),
        Some(p) => p
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| Error::validation("port", Msg::between(1, 65535)))?,
    };
    let trusted = match cell("trusted_for_queries").map(|v| v.trim().to_ascii_lowercase()) {
        None => None,
        Some(v) if v == "true" => Some(true),
        Some(v) if v == "false" => Some(false),
        Some(_) => {
            return Err(Error::validation(
                "trusted_for_queries",
                Msg::new("csv_bool", "must be true or false"),
            ))
        }
    };
    let options = match cell("options") {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => o,
            _ => {
                return Err(Error::validation(
                    "options",
                    Msg::new("csv_options", "must be a JSON object"),
                ))
            }
        },
    };
    let text = |name: &str| cell(name).unwrap_or("").to_string();
    Ok(TargetInput {
        name: cell("name").unwrap_or("").to_string(),
        engine,
        host: text("host"),
        port,
        database: text("database"),
        username: text("username"),
        password: cell("password").map(SecretString::from),
        query_username: cell("query_username").map(str::to_string),
        query_password: cell("query_password").map(SecretString::from),
        trusted_for_queries: trusted,
        tags: cell("tags")
            .unwrap_or("")
            .split(|c: char| c == ';' || c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        options,
    })
}

/// One row: checked, then (unless a dry run) created with its audit entry.
async fn one(
    ctx: &Ctx,
    actor: &Actor,
    columns: &[&'static str],
    record: &Record,
    dry_run: bool,
    names: &mut HashSet<String>,
) -> Result<(RowStatus, Option<i64>)> {
    let mut input = row_input(columns, record)?;
    let tags = validate(&input)?;
    check_place(ctx, &mut input).await?;
    if dry_run {
        if !names.insert(input.name.clone()) {
            return Err(named_conflict(
                crate::store::StoreError::Duplicate(input.name.clone()),
                &input.name,
            ));
        }
        return Ok((RowStatus::WouldCreate, None));
    }
    let f = fields(ctx, &input, None);
    let actor = actor.clone();
    let id = ctx
        .store
        .write(move |c| {
            let id = rows::insert(c, &f, &tags, actor.user_id)
                .map_err(|e| named_conflict(e, &input.name))?;
            let mut detail = audit_detail(&input, &tags, f.trusted_for_queries, false);
            detail["import"] = json!(true);
            let event = Event::ok("create", "target", id).with(detail);
            audit::record(c, Some(&actor), None, None, event)?;
            Ok::<_, Error>(id)
        })
        .await?;
    Ok((RowStatus::Created, Some(id)))
}

pub async fn import(ctx: &Ctx, actor: &Actor, body: ImportInput) -> Result<ImportReport> {
    actor.require_to(Action::ManageTargets)?;
    if body.csv.len() > MAX_BYTES {
        return Err(too_large());
    }
    let records = csv::parse(&body.csv, MAX_ROWS + 1).map_err(|e| match e {
        None => too_large(),
        Some(m) => Error::unprocessable(
            "csv",
            Msg::new("csv_malformed", format!("line {}: {}", m.line, m.why))
                .with("line", m.line)
                .with("why", m.why),
        ),
    })?;
    let Some((head, rows)) = records.split_first() else {
        return Err(Error::unprocessable(
            "csv",
            Msg::new("csv_empty", "needs a header row and at least one row"),
        ));
    };
    if rows.is_empty() {
        return Err(Error::unprocessable(
            "csv",
            Msg::new("csv_empty", "needs a header row and at least one row"),
        ));
    }
    let columns = header(head)?;
    // A dry run cannot lean on the unique index: names taken already, or twice in the file.
    let mut names: HashSet<String> = if body.dry_run {
        ctx.store
            .run(|c| rows::list(c, &[]))
            .await?
            .into_iter()
            .map(|(r, _)| r.name)
            .collect()
    } else {
        HashSet::new()
    };
    let mut report = ImportReport {
        dry_run: body.dry_run,
        created: 0,
        would_create: 0,
        failed: 0,
        rows: Vec::with_capacity(rows.len()),
    };
    for record in rows {
        let name = row_name(&columns, record);
        let outcome = one(ctx, actor, &columns, record, body.dry_run, &mut names).await;
        let (status, id, error) = match outcome {
            Ok((status, id)) => (status, id, None),
            Err(e) => match row_error(&e) {
                Some(re) => (RowStatus::Error, None, Some(re)),
                None => return Err(e),
            },
        };
        match status {
            RowStatus::Created => report.created += 1,
            RowStatus::WouldCreate => report.would_create += 1,
            RowStatus::Error => report.failed += 1,
        }
        report.rows.push(ImportRow {
            row: record.line,
            name,
            status,
            id,
            error,
        });
    }
    let detail = json!({
        "dry_run": report.dry_run, "rows": report.rows.len(), "created": report.created,
        "would_create": report.would_create, "failed": report.failed,
    });
    let actor = actor.clone();
    let event = Event {
        action: "import",
        object_type: "target",
        object_id: None,
        detail,
        success: report.failed == 0,
    };
    ctx.store
        .write(move |c| audit::record(c, Some(&actor), None, None, event))
        .await?;
    Ok(report)
}

fn row_name(columns: &[&'static str], record: &Record) -> Option<String> {
    let i = columns.iter().position(|c| *c == "name")?;
    record
        .cells
        .get(i)
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(line: usize, cells: &[&str]) -> Record {
        Record {
            line,
            cells: cells.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn a_header_names_create_fields_once_and_needs_name_and_engine() {
        let h = header(&record(1, &["Name", " engine ", "host"])).expect("header");
        assert_eq!(h, ["name", "engine", "host"]);
        let reason = |cells: &[&str]| {
            header(&record(1, cells))
                .err()
                .and_then(|e| e.reason())
                .map(|(r, _)| r)
        };
        assert_eq!(reason(&["name", "kind"]), Some("csv_header"));
        assert_eq!(
            reason(&["name", "engine", "name"]),
            Some("csv_header_twice")
        );
        assert_eq!(reason(&["name", "host"]), Some("csv_header_missing"));
    }

    #[test]
    fn a_row_becomes_a_create_body_and_a_bad_cell_names_its_field() {
        let cols = ["name", "engine", "host", "port", "tags", "options"];
        let input = row_input(
            &cols,
            &record(
                2,
                &["hr", "mysql", "db1", "", "prod; hr", r#"{"ssl": true}"#],
            ),
        )
        .expect("row");
        assert_eq!(input.port, 3306, "an empty port is the engine's usual one");
        assert_eq!(input.tags, ["prod", "hr"]);
        assert_eq!(input.options["ssl"], json!(true));
        assert!(input.password.is_none());
        let field = |cells: &[&str]| match row_input(&cols, &record(3, cells)) {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&["x", "mongo", "h", "1", "", ""]), "engine");
        assert_eq!(field(&["x", "postgres", "h", "70000", "", ""]), "port");
        assert_eq!(field(&["x", "postgres", "h", "1", "", "[1]"]), "options");
        assert_eq!(field(&["x", "postgres"]), "csv");
    }
}
