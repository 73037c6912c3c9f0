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
use super::sink::{NoticeLimits, Notices};
use super::support::{check_known_options, connect_within, offer_row};
use super::{
    Canceller, Cell, Column, ConnectSpec, DbError, Engine, ExecOutcome, RowSink, TargetConnection,
};

pub(crate) struct OracleConnection {
    conn: Arc<Connection>,
    in_txn: bool,
    canceller: Arc<OracleCanceller>,
    notice_limits: NoticeLimits,
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
            notice_limits: NoticeLimits::default(),
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

    /// The DBMS_OUTPUT lines the statement produced, up to the notice limits (GET_LINE until
    /// status 1); what is left past them is counted by the server in one round trip.
    fn drain_output(&self) -> Result<Notices, oracle::Error> {
        let mut stmt = self
            .conn
            .statement("BEGIN DBMS_OUTPUT.GET_LINE(:1, :2); END;")
            .build()?;
        stmt.bind(1, &OracleType::Varchar2(32767))?;
        stmt.bind(2, &OracleType::Number(0, 0))?;
        let mut notices = Notices::new(self.notice_limits);
        let next = || -> Result<Option<String>, oracle::Error> {
            stmt.execute(&[])?;
            let status: i32 = stmt.bind_value(2)?;
            if status != 0 {
                return Ok(None);
            }
            let line: Option<String> = stmt.bind_value(1)?;
            Ok(Some(line.unwrap_or_default()))
        };
        let rest = || -> Result<(u64, u64), oracle::Error> {
            let mut count = self.conn.statement(COUNT_REST_OF_OUTPUT).build()?;
            count.bind(1, &OracleType::Number(0, 0))?;
            count.bind(2, &OracleType::Number(0, 0))?;
            count.execute(&[])?;
            let lines: u64 = count.bind_value(1)?;
            let bytes: u64 = count.bind_value(2)?;
            Ok((lines, bytes))
        };
        collect_output(&mut notices, next, rest)?;
        Ok(notices)
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
            Cell::json(text)
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
        let mut notices = output.map_err(|e| classify(&e, Phase::Statement, cancelled))?;
        notices.take_into(&mut outcome);
        Ok(outcome)
    }

    fn set_notice_limits(&mut self, limits: NoticeLimits) {
        self.notice_limits = limits;
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

/// Empties the DBMS_OUTPUT buffer on the server, answering how many lines (and bytes) it held.
const COUNT_REST_OF_OUTPUT: &str = "DECLARE l VARCHAR2(32767); s INTEGER; n INTEGER := 0; \
    b INTEGER := 0; BEGIN LOOP DBMS_OUTPUT.GET_LINE(l, s); EXIT WHEN s <> 0; n := n + 1; \
    b := b + NVL(LENGTHB(l), 0); END LOOP; :1 := n; :2 := b; END;";

/// Reads output lines with `next` (one round trip each) while they are kept; at the first line
/// past the limits, `rest` empties the buffer server-side and its count is added to the
/// dropped. So a `DBMS_OUTPUT.ENABLE(NULL)` flood costs at most `max_count + 2` round trips
/// and the memory of the kept lines. The buffer is always emptied, so no line reaches the next
/// statement's outcome.
fn collect_output<E>(
    notices: &mut Notices,
    mut next: impl FnMut() -> Result<Option<String>, E>,
    rest: impl FnOnce() -> Result<(u64, u64), E>,
) -> Result<(), E> {
    while let Some(line) = next()? {
        if !notices.has_room(line.len()) {
            notices.count_dropped(1, line.len() as u64);
            let (lines, bytes) = rest()?;
            notices.count_dropped(lines, bytes);
            return Ok(());
        }
        notices.push(line);
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A server buffer of `n` lines of 400 bytes, read as GET_LINE and the counting block would.
    struct Buffer {
        left: u64,
        fetched: u64,
    }

    #[test]
    fn a_dbms_output_flood_is_kept_up_to_the_cap_and_the_rest_counted_on_the_server() {
        let buffer = std::cell::RefCell::new(Buffer {
            left: 200_000,
            fetched: 0,
        });
        let mut notices = Notices::new(NoticeLimits {
            max_count: 1000,
            max_bytes: 256 * 1024,
        });
        let next = || -> Result<Option<String>, ()> {
            let mut b = buffer.borrow_mut();
            if b.left == 0 {
                return Ok(None);
            }
            b.left -= 1;
            b.fetched += 1;
            Ok(Some("x".repeat(400)))
        };
        let rest = || -> Result<(u64, u64), ()> {
            let mut b = buffer.borrow_mut();
            let n = std::mem::take(&mut b.left);
            Ok((n, n * 400))
        };
        collect_output(&mut notices, next, rest).expect("drained");
        let mut out = ExecOutcome::default();
        notices.take_into(&mut out);
        // 655 lines of 400 bytes fit in 256 KiB; one more was fetched to learn it did not.
        let kept = (256 * 1024 / 400) as u64;
        assert_eq!(out.notices.len() as u64, kept);
        assert_eq!(
            buffer.borrow().fetched,
            kept + 1,
            "round trips stop at the cap"
        );
        assert_eq!(buffer.borrow().left, 0, "the buffer is emptied");
        assert_eq!(out.notices_dropped, 200_000 - kept);
        assert_eq!(out.notices_dropped_bytes, (200_000 - kept) * 400);
    }

    #[test]
    fn output_within_the_cap_is_all_kept_and_nothing_counted() {
        let mut lines = vec!["a".to_string(), "b".to_string()].into_iter();
        let mut notices = Notices::new(NoticeLimits::default());
        collect_output(
            &mut notices,
            || Ok::<_, ()>(lines.next()),
            || unreachable!("nothing to count"),
        )
        .expect("drained");
        let mut out = ExecOutcome::default();
        notices.take_into(&mut out);
        assert_eq!(out.notices, ["a", "b"]);
        assert_eq!(out.notices_dropped, 0);
    }
}
