//! Connections to *target* databases: the one place that speaks PostgreSQL, MySQL/MariaDB, Oracle
//! and SQLite to the fleet. It owns opening a connection (with connect and statement timeouts),
//! running one already-split statement and streaming its rows as typed [`Cell`]s, cancelling a
//! running statement from another thread, and turning every driver failure into a [`DbError`]
//! that carries the database's own code and message.
//!
//! Everything here blocks. Callers run it on dedicated threads (`spawn_blocking` or a bounded
//! pool), never on an async worker: the PostgreSQL connector drives its own single-threaded tokio
//! runtime and panics with "Cannot start a runtime from within a runtime" on a tokio thread.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod catalog;
mod error;
mod mysql;
mod mysql_values;
mod oracle;
mod oracle_values;
mod pg_errors;
mod pg_runtime;
mod pg_values;
mod postgres;
mod sink;
mod sqlite;
mod sqlite_guard;
mod sqlite_values;
mod support;

pub use error::{DbError, DbErrorKind};
pub use sink::{NoticeLimits, VecSink};

/// The database engines AutoDB can run SQL on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Postgres,
    Mysql,
    Oracle,
    Sqlite,
}

impl Engine {
    /// How this engine's own client splits a script into statements.
    pub fn dialect(self) -> sqlsplit::Dialect {
        match self {
            Engine::Postgres => sqlsplit::Dialect::Postgres,
            Engine::Mysql => sqlsplit::Dialect::Mysql,
            Engine::Oracle => sqlsplit::Dialect::Oracle,
            Engine::Sqlite => sqlsplit::Dialect::Sqlite,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Oracle => "oracle",
            Engine::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Engine {
    type Err = DbError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "postgres" => Ok(Engine::Postgres),
            "mysql" => Ok(Engine::Mysql),
            "oracle" => Ok(Engine::Oracle),
            "sqlite" => Ok(Engine::Sqlite),
            other => Err(DbError::config(format!(
                "unknown engine {other:?}: expected postgres, mysql, oracle or sqlite"
            ))),
        }
    }
}

/// Everything needed to open a connection. `options` are engine-specific knobs from the target's
/// JSON (e.g. `{"sslmode": "disable"}` for PostgreSQL); unknown keys -> [`DbErrorKind::Config`]
/// naming the key. Debug output shows the password as redacted (it is a `SecretString`).
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    pub engine: Engine,
    pub host: String,
    pub port: u16,
    /// PG/MySQL database name; Oracle service name (Easy Connect `host:port/service`); SQLite file path.
    pub database: String,
    pub username: String,
    pub password: secrecy::SecretString,
    pub options: serde_json::Map<String, serde_json::Value>,
    pub connect_timeout: Duration,
    /// Enforced by the database where it can be (see each engine's module).
    pub statement_timeout: Option<Duration>,
}

/// A result column, `type_name` as the database names it ("int4", "DECIMAL", "NUMBER", "TEXT").
#[derive(Debug, Clone, serde::Serialize)]
pub struct Column {
    pub name: String,
    pub type_name: String,
}

/// A typed cell value, shown faithfully: NULL is not "", numbers stay numbers, decimals keep
/// their digits (as text), dates/timestamps are ISO-8601 text (with offset when the type has a
/// time zone), binary as hex, JSON as the database's own JSON text (a string, so no digit of a
/// number is lost on the way; see [`Cell::json`]). Non-finite floats (NaN, ±Infinity) are `Text`,
/// because JSON has no number for them. An integer a browser cannot hold exactly (beyond
/// ±(2^53 − 1)) is sent as its digits in a string, still typed `int`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Cell {
    Null,
    Bool(bool),
    Int(#[serde(serialize_with = "exact_int")] i64),
    Float(f64),
    Decimal(String),
    Text(String),
    /// Lower-case hex, no prefix.
    Bytes(String),
    Date(String),
    Time(String),
    Timestamp(String),
    TimestampTz(String),
    /// Valid JSON, as the database wrote it.
    Json(String),
}

impl Cell {
    /// A JSON value from the database's text of it: kept as that text, so a number no double
    /// holds (an id beyond 2^53, a long decimal) keeps its digits; text that is not JSON is text.
    pub fn json(text: String) -> Cell {
        if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() {
            Cell::Json(text)
        } else {
            Cell::Text(text)
        }
    }
}

/// The largest integer a JSON reader with IEEE doubles (a browser) holds exactly: 2^53 − 1.
pub const MAX_EXACT_JSON_INT: i64 = (1 << 53) - 1;

fn exact_int<S: serde::Serializer>(i: &i64, s: S) -> Result<S::Ok, S::Error> {
    if i.unsigned_abs() <= MAX_EXACT_JSON_INT as u64 {
        s.serialize_i64(*i)
    } else {
        s.collect_str(i)
    }
}

/// Receives a result set row by row (so large results are never held whole in memory).
///
/// `columns` is called once per result set, before its rows (also when it has no rows); a
/// statement that returns no result set never calls it. MySQL procedures can return several sets.
pub trait RowSink {
    fn columns(&mut self, columns: &[Column]);
    /// Return false to stop fetching (row limit reached); the connector then stops reading and
    /// reports `truncated = true`. A refused row is not counted in `rows_returned`, so a sink
    /// with a limit of N accepts N rows and refuses the N+1st: `truncated` means "there was more".
    fn row(&mut self, row: Vec<Cell>) -> bool;
}

/// What one statement did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExecOutcome {
    /// DML/DDL count where the driver tells it.
    pub rows_affected: Option<u64>,
    /// Rows handed to (and accepted by) the sink.
    pub rows_returned: u64,
    pub truncated: bool,
    /// PG NOTICE/RAISE, MySQL SHOW WARNINGS, Oracle DBMS_OUTPUT lines, up to the connection's
    /// [`NoticeLimits`].
    pub notices: Vec<String>,
    /// Lines past the limits: counted while collecting, never held.
    pub notices_dropped: u64,
    /// Their bytes.
    pub notices_dropped_bytes: u64,
}

/// Cancels the statement currently running on a connection, from any thread. It blocks for
/// about one round trip (MySQL opens a second connection for `KILL QUERY`); the PostgreSQL one
/// runs on a thread of its own, so it is safe to call from an async context. Calling it while
/// nothing runs is harmless.
pub trait Canceller: Send + Sync {
    fn cancel(&self) -> Result<(), DbError>;
}

/// One open connection to a target. All calls block: callers run them on dedicated threads,
/// never on async workers. Trap: the PostgreSQL connector drives a private tokio runtime, so
/// calling it *or dropping it* on a tokio/actix thread panics ("Cannot start a runtime from
/// within a runtime"); open, use and drop it inside `spawn_blocking` or a plain thread.
pub trait TargetConnection: Send {
    fn engine(&self) -> Engine;
    /// The server's version string, e.g. "PostgreSQL 15.19 (Debian ...) on x86_64..." or
    /// "10.11.19-MariaDB-0+deb12u1".
    fn server_version(&mut self) -> Result<String, DbError>;
    /// Run ONE statement (already split, no trailing ';' needed). Result rows (if any) go to `sink`.
    fn execute(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<ExecOutcome, DbError>;
    /// Caps the notices each later statement keeps (in memory too: the rest are only counted).
    /// A new connection starts with [`NoticeLimits::default`].
    fn set_notice_limits(&mut self, limits: NoticeLimits);
    /// A handle that cancels the running statement in the database: PostgreSQL cancel request,
    /// MySQL/MariaDB `KILL QUERY <connection id>` on a second connection, Oracle break, SQLite
    /// interrupt. A cancelled statement returns DbError kind Cancelled.
    fn canceller(&self) -> Arc<dyn Canceller>;
    /// Start a transaction that the database itself keeps read-only (PG `BEGIN READ ONLY`,
    /// MySQL/MariaDB `START TRANSACTION READ ONLY`, Oracle `SET TRANSACTION READ ONLY`, SQLite
    /// `PRAGMA query_only=ON` + BEGIN).
    fn begin_read_only(&mut self) -> Result<(), DbError>;
    fn begin(&mut self) -> Result<(), DbError>;
    fn commit(&mut self) -> Result<(), DbError>;
    /// Also turns SQLite query_only back off.
    fn rollback(&mut self) -> Result<(), DbError>;
}

/// Open a connection; connect timeout and statement timeout applied. Never panics.
pub fn connect(spec: &ConnectSpec) -> Result<Box<dyn TargetConnection>, DbError> {
    match spec.engine {
        Engine::Postgres => Ok(Box::new(postgres::PgConnection::connect(spec)?)),
        Engine::Mysql => Ok(Box::new(mysql::MysqlConnection::connect(spec)?)),
        Engine::Oracle => Ok(Box::new(oracle::OracleConnection::connect(spec)?)),
        Engine::Sqlite => Ok(Box::new(sqlite::SqliteConnection::connect(spec)?)),
    }
}

/// Convenience for "test connection": connect, run a trivial query, return (server version,
/// round-trip). The round-trip is the time of the trivial query alone, not of the connect.
pub fn probe(spec: &ConnectSpec) -> Result<(String, Duration), DbError> {
    let mut conn = connect(spec)?;
    let version = conn.server_version()?;
    let trivial = match spec.engine {
        Engine::Oracle => "SELECT 1 FROM DUAL",
        _ => "SELECT 1",
    };
    let mut sink = VecSink::new(1);
    let started = Instant::now();
    conn.execute(trivial, &mut sink)?;
    Ok((version, started.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::{Cell, MAX_EXACT_JSON_INT};
    use serde_json::json;

    #[test]
    fn an_integer_a_browser_cannot_hold_exactly_is_sent_as_its_digits() {
        let sent = |i: i64| serde_json::to_value(Cell::Int(i)).expect("a cell serializes");
        assert_eq!(sent(42), json!({"t": "int", "v": 42}));
        assert_eq!(
            sent(MAX_EXACT_JSON_INT),
            json!({"t": "int", "v": 9007199254740991_i64})
        );
        assert_eq!(
            sent(-MAX_EXACT_JSON_INT),
            json!({"t": "int", "v": -9007199254740991_i64})
        );
        assert_eq!(
            sent(MAX_EXACT_JSON_INT + 2),
            json!({"t": "int", "v": "9007199254740993"})
        );
        assert_eq!(
            sent(i64::MIN),
            json!({"t": "int", "v": "-9223372036854775808"})
        );
    }
}
