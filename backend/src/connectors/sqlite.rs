//! The SQLite connector (`rusqlite`, bundled SQLite). `database` is a file path; host, port,
//! username and password mean nothing to SQLite and are ignored.
//!
//! Confinement (`sqlite_guard`): the connection opens the absolute, symlink-free path it is
//! given and no other file — no ATTACH, VACUUM INTO, extensions or file-reaching pragmas —
//! and keeps SQLite's defensive checks on. Which folders a target may use is decided above.
//!
//! Opening: option `mode` = `read_write_create` (default: a missing file is created, handy for
//! demos), `read_write` (the file must exist) or `read_only`. The connect timeout becomes the
//! busy timeout (how long a statement waits for another writer's lock).
//!
//! The statement timeout is a progress-handler deadline checked every 1000 VM steps; cancel is
//! `sqlite3_interrupt`. Both end the statement with SQLITE_INTERRUPT, told apart by a flag the
//! deadline check raises. Statements run through `prepare` + stepping, which takes statements
//! that return rows and statements that do not alike.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, InterruptHandle, OpenFlags};

use super::sqlite_guard::{self, Guard};
use super::sqlite_values::{cell, classify, columns};
use super::support::{check_known_options, offer_row, string_option};
use super::{Canceller, ConnectSpec, DbError, DbErrorKind, Engine};
use super::{ExecOutcome, RowSink, TargetConnection};

const OPTIONS: &[&str] = &["mode"];
/// VM instructions between deadline checks: frequent enough for sub-second precision, rare
/// enough to cost nothing measurable.
const PROGRESS_STEPS: i32 = 1000;

pub(crate) struct SqliteConnection {
    conn: Connection,
    statement_timeout: Option<Duration>,
    deadline: Arc<Mutex<Option<Instant>>>,
    timed_out: Arc<AtomicBool>,
    canceller: Arc<SqliteCanceller>,
    guard: Arc<Guard>,
}

impl SqliteConnection {
    pub(crate) fn connect(spec: &ConnectSpec) -> Result<Self, DbError> {
        check_known_options(Engine::Sqlite, &spec.options, OPTIONS)?;
        if spec.database.trim().is_empty() {
            return Err(DbError::config(
                "a SQLite target needs the database file path in `database`",
            ));
        }
        let flags = match string_option(&spec.options, "mode")? {
            None | Some("read_write_create") => {
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
            }
            Some("read_write") => OpenFlags::SQLITE_OPEN_READ_WRITE,
            Some("read_only") => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Some(other) => {
                return Err(DbError::config(format!(
                    "SQLite mode {other:?} is not one of read_write_create, read_write, read_only"
                )))
            }
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let path = sqlite_guard::plain_path(&spec.database)?;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| {
            let mut err = classify(&e, false);
            err.kind = DbErrorKind::Connect;
            err.message = format!("cannot open {}: {}", spec.database, err.message);
            err
        })?;
        sqlite_guard::same_file(&conn, &path)?;
        let guard = sqlite_guard::confine(&conn).map_err(|e| classify(&e, false))?;
        conn.busy_timeout(spec.connect_timeout)
            .map_err(|e| classify(&e, false))?;
        let deadline: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let timed_out = Arc::new(AtomicBool::new(false));
        let (d, t) = (deadline.clone(), timed_out.clone());
        conn.progress_handler(
            PROGRESS_STEPS,
            Some(move || {
                let due = d
                    .lock()
                    .ok()
                    .and_then(|g| *g)
                    .is_some_and(|at| Instant::now() >= at);
                if due {
                    t.store(true, Ordering::SeqCst);
                }
                due // true interrupts the statement
            }),
        );
        Ok(SqliteConnection {
            canceller: Arc::new(SqliteCanceller {
                handle: conn.get_interrupt_handle(),
            }),
            conn,
            statement_timeout: spec.statement_timeout,
            deadline,
            timed_out,
            guard,
        })
    }

    fn set_deadline(&self, at: Option<Instant>) {
        if let Ok(mut g) = self.deadline.lock() {
            *g = at;
        }
    }

    /// The connector's own statements (transactions, `query_only`).
    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        let conn = &self.conn;
        self.guard
            .internal(|| conn.execute_batch(sql))
            .map_err(|e| classify(&e, false))
    }

    /// A statement's error; a refusal of the guard's says why.
    fn error(&self, e: &rusqlite::Error) -> DbError {
        let mut err = classify(e, self.timed_out.load(Ordering::SeqCst));
        let refusal = self.guard.take_refusal();
        if let (DbErrorKind::Auth, Some(why)) = (err.kind, refusal) {
            err.kind = DbErrorKind::Statement;
            err.message = why;
        }
        err
    }

    fn run(&mut self, sql: &str, sink: &mut dyn RowSink) -> rusqlite::Result<ExecOutcome> {
        let mut outcome = ExecOutcome::default();
        let changes_before = self.conn.total_changes();
        let mut stmt = self.conn.prepare(sql)?;
        if stmt.column_count() == 0 {
            stmt.raw_execute()?;
            drop(stmt);
            // changes() keeps the last DML's count through DDL; the total tells if this one wrote.
            let wrote = self.conn.total_changes() != changes_before;
            outcome.rows_affected = Some(if wrote { self.conn.changes() } else { 0 });
            return Ok(outcome);
        }
        let meta: Vec<(String, Option<String>)> = stmt
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.decl_type().map(str::to_string)))
            .collect();
        let mut rows = stmt.raw_query();
        let mut header_sent = false;
        while let Some(row) = rows.next()? {
            let values: Vec<ValueRef<'_>> = (0..meta.len())
                .map(|i| row.get_ref(i))
                .collect::<Result<_, _>>()?;
            if !header_sent {
                // An expression has no declared type: name the first row's storage class.
                sink.columns(&columns(&meta, Some(&values)));
                header_sent = true;
            }
            let cells = values
                .into_iter()
                .zip(&meta)
                .map(|(v, (_, decl))| cell(v, decl.as_deref()))
                .collect();
            if !offer_row(sink, &mut outcome, cells) {
                break; // SQLite simply stops stepping; the statement is reset on drop.
            }
        }
        if !header_sent {
            sink.columns(&columns(&meta, None));
        }
        Ok(outcome)
    }
}

impl TargetConnection for SqliteConnection {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn server_version(&mut self) -> Result<String, DbError> {
        Ok(format!("SQLite {}", rusqlite::version()))
    }

    fn execute(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<ExecOutcome, DbError> {
        self.timed_out.store(false, Ordering::SeqCst);
        self.set_deadline(self.statement_timeout.map(|t| Instant::now() + t));
        self.guard.take_refusal();
        let result = self.run(sql, sink);
        self.set_deadline(None);
        result.map_err(|e| self.error(&e))
    }

    /// SQLite sends no notices.
    fn set_notice_limits(&mut self, _: super::NoticeLimits) {}

    fn canceller(&self) -> Arc<dyn Canceller> {
        self.canceller.clone()
    }

    fn begin_read_only(&mut self) -> Result<(), DbError> {
        self.batch("PRAGMA query_only = ON")?;
        if let Err(e) = self.batch("BEGIN") {
            let _ = self.batch("PRAGMA query_only = OFF");
            return Err(e);
        }
        Ok(())
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        let ended = self.batch("COMMIT");
        // A read-only transaction must not leave the connection read-only.
        ended.and(self.batch("PRAGMA query_only = OFF"))
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        let ended = self.batch("ROLLBACK");
        let reset = self.batch("PRAGMA query_only = OFF");
        ended.and(reset)
    }
}

struct SqliteCanceller {
    handle: InterruptHandle,
}

impl Canceller for SqliteCanceller {
    fn cancel(&self) -> Result<(), DbError> {
        self.handle.interrupt();
        Ok(())
    }
}
