//! The Oracle connector (`oracle` crate over ODPI-C; needs Oracle Instant Client at run time,
//! whose absence is reported as kind ClientMissing with install instructions).
//!
//! - Connect: Easy Connect `//host:port/service`, bounded by the connect timeout on a helper
//!   thread (the client's own connect can wait much longer on a silent listener).
//! - Statement timeout: ODPI-C's call timeout (`set_call_timeout`), enforced per round trip.
//! - Autocommit: the other engines commit each statement outside an explicit transaction, so
//!   this one does too (a COMMIT after each successful statement unless `begin*` was called).
//! - Notices: DBMS_OUTPUT is enabled at connect and drained after every statement.
//! - Cancel: `break_execution` on the shared connection (ORA-01013 -> Cancelled).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use oracle::sql_type::{OracleType, Timestamp};
use oracle::{Connection, Connector, SqlValue};
use secrecy::ExposeSecret;

use super::oracle_values::{self as values, CellKind, Phase};
use super::support::{check_known_options, connect_within, offer_row};
use super::{
    Canceller, Cell, Column, ConnectSpec, DbError, Engine, ExecOutcome, RowSink, TargetConnection,
};

/// A runaway PL/SQL loop must not make us read output forever.
const MAX_OUTPUT_LINES: usize = 100_000;

pub(crate) struct OracleConnection {
    conn: Arc<Connection>,
    in_txn: bool,
    canceller: Arc<OracleCanceller>,
}

impl OracleConnection {
    pub(crate) fn connect(spec: &ConnectSpec) -> Result<Self, DbError> {
        check_known_options(Engine::Oracle, &spec.options, &[])?;
        let connect_string = values::easy_connect(&spec.host, spec.port, &spec.database);
        let user = spec.username.clone();
        let password = spec.password.expose_secret().to_string();
        let conn = connect_within(&spec.host, spec.port, spec.connect_timeout, move || {
            Connector::new(user, password, connect_string)
                .connect()
                .map_err(|e| classify(&e, Phase::Connect, false))
        })?;
        let st = |e: oracle::Error| classify(&e, Phase::Statement, false);
        conn.set_call_timeout(spec.statement_timeout).map_err(st)?;
        conn.execute("BEGIN DBMS_OUTPUT.ENABLE(NULL); END;", &[])
            .map_err(st)?;
        let conn = Arc::new(conn);
        Ok(OracleConnection {
            canceller: Arc::new(OracleCanceller {
                conn: Arc::downgrade(&conn),
                requested: AtomicBool::new(false),
            }),
            conn,
            in_txn: false,
        })
    }

    fn run(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<ExecOutcome, oracle::Error> {
        let mut outcome = ExecOutcome::default();
        let mut stmt = self.conn.statement(sql).build()?;
        // SQL (unlike PL/SQL and CREATE PROCEDURE…) must not end with ';' (ORA-00911).
        let trimmed = sql.trim_end();
        if (stmt.is_query() || stmt.is_dml()) && trimmed.ends_with(';') {
            stmt = self.conn.statement(trimmed.trim_end_matches(';')).build()?;
        }
        if stmt.is_query() {
            let rows = stmt.query(&[])?;
            let info = rows.column_info();
            let kinds: Vec<CellKind> = info
                .iter()
                .map(|c| values::cell_kind(c.oracle_type()))
                .collect();
            let columns: Vec<Column> = info
                .iter()
                .map(|c| Column {
                    name: c.name().to_string(),
                    type_name: c.oracle_type().to_string(),
                })
                .collect();
            sink.columns(&columns);
            for row in rows {
                let row = row?;
                let cells = row
                    .sql_values()
                    .iter()
                    .zip(&kinds)
                    .map(|(v, k)| read_cell(v, *k))
                    .collect::<Result<Vec<_>, _>>()?;
                // Stopping is just not fetching further; the cursor closes with the statement.
                if !offer_row(sink, &mut outcome, cells) {
                    break;
                }
            }
        } else {
            stmt.execute(&[])?;
            if stmt.is_dml() {
                outcome.rows_affected = Some(stmt.row_count()?);
            } else if stmt.is_ddl() {
                outcome.rows_affected = Some(0);
            }
        }
        if !self.in_txn {
            self.conn.commit()?;
        }
        Ok(outcome)
    }

    /// The DBMS_OUTPUT lines the statement produced (GET_LINE until status 1).
    fn drain_output(&self) -> Result<Vec<String>, oracle::Error> {
        let mut stmt = self
            .conn
            .statement("BEGIN DBMS_OUTPUT.GET_LINE(:1, :2); END;")
            .build()?;
        stmt.bind(1, &OracleType::Varchar2(32767))?;
        stmt.bind(2, &OracleType::Number(0, 0))?;
        let mut lines = Vec::new();
        while lines.len() < MAX_OUTPUT_LINES {
            stmt.execute(&[])?;
            let status: i32 = stmt.bind_value(2)?;
            if status != 0 {
                break;
            }
            let line: Option<String> = stmt.bind_value(1)?;
            lines.push(line.unwrap_or_default());
        }
        Ok(lines)
    }

    fn simple(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn
            .execute(sql, &[])
            .map(|_| ())
            .map_err(|e| classify(&e, Phase::Statement, false))
    }
}

/// One value as a cell, read through the accessor its type calls for.
fn read_cell(v: &SqlValue, kind: CellKind) -> Result<Cell, oracle::Error> {
    if v.is_null()? {
        return Ok(Cell::Null);
    }
    Ok(match kind {
        CellKind::Number(scale) => values::number_cell(&v.get::<String>()?, scale),
        CellKind::Float => {
            let f: f64 = v.get()?;
            if f.is_finite() {
                Cell::Float(f)
            } else {
                Cell::Text(f.to_string())
            }
        }
        CellKind::Timestamp(is_date) => Cell::Timestamp(values::timestamp_text(
            &v.get::<Timestamp>()?,
            is_date,
            false,
        )),
        CellKind::TimestampTz => {
            Cell::TimestampTz(values::timestamp_text(&v.get::<Timestamp>()?, false, true))
        }
        CellKind::Bytes => Cell::Bytes(hex::encode(v.get::<Vec<u8>>()?)),
        CellKind::Bool => Cell::Bool(v.get()?),
        // Types without a string conversion (objects, XML on older clients) fall back to the
        // driver's display form rather than failing the whole statement.
        CellKind::Json => {
            let text = v.get::<String>().unwrap_or_else(|_| v.to_string());
            serde_json::from_str(&text).map_or(Cell::Text(text), Cell::Json)
        }
        CellKind::Text => Cell::Text(v.get::<String>().unwrap_or_else(|_| v.to_string())),
    })
}

impl TargetConnection for OracleConnection {
    fn engine(&self) -> Engine {
        Engine::Oracle
    }

    fn server_version(&mut self) -> Result<String, DbError> {
        let (_, banner) = self
            .conn
            .server_version()
            .map_err(|e| classify(&e, Phase::Statement, false))?;
        Ok(banner)
    }

    fn execute(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<ExecOutcome, DbError> {
        self.canceller.requested.store(false, Ordering::SeqCst);
        let result = self.run(sql, sink);
        // Drained even after a failure, so lines never leak into the next statement's outcome.
        let output = self.drain_output();
        let cancelled = self.canceller.requested.load(Ordering::SeqCst);
        let mut outcome = result.map_err(|e| classify(&e, Phase::Statement, cancelled))?;
        outcome.notices = output.map_err(|e| classify(&e, Phase::Statement, cancelled))?;
        Ok(outcome)
    }

    fn canceller(&self) -> Arc<dyn Canceller> {
        self.canceller.clone()
    }

    fn begin_read_only(&mut self) -> Result<(), DbError> {
        // Must be the transaction's first statement; autocommit leaves none open.
        self.simple("SET TRANSACTION READ ONLY")?;
        self.in_txn = true;
        Ok(())
    }

    fn begin(&mut self) -> Result<(), DbError> {
        // Oracle opens a transaction with the first DML; we only stop committing after each one.
        self.in_txn = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.in_txn = false;
        self.conn
            .commit()
            .map_err(|e| classify(&e, Phase::Statement, false))
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.in_txn = false;
        self.conn
            .rollback()
            .map_err(|e| classify(&e, Phase::Statement, false))
    }
}

/// Breaks the running call. Holds the connection weakly: a closed connection has nothing to cancel.
struct OracleCanceller {
    conn: Weak<Connection>,
    requested: AtomicBool,
}

impl Canceller for OracleCanceller {
    fn cancel(&self) -> Result<(), DbError> {
        self.requested.store(true, Ordering::SeqCst);
        match self.conn.upgrade() {
            Some(conn) => conn
                .break_execution()
                .map_err(|e| classify(&e, Phase::Statement, true)),
            None => Ok(()),
        }
    }
}

fn classify(e: &oracle::Error, phase: Phase, cancel_requested: bool) -> DbError {
    let message = match e.db_error() {
        // ODPI-C messages carry their "ORA-nnnnn: " prefix; add it where one does not.
        Some(db)
            if db.code() > 0
                && !db.message().starts_with("ORA-")
                && !db.message().starts_with("DPI-") =>
        {
            format!("ORA-{:05}: {}", db.code(), db.message())
        }
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    };
    values::classify_message(&message, phase, cancel_requested)
}
