//! The MySQL/MariaDB connector (`mysql` crate, plain TCP, text protocol).
//!
//! Every statement runs with `query_iter` (the text protocol), which takes any statement the
//! server takes, `CREATE PROCEDURE` bodies included, and streams rows set by set. The statement
//! timeout is the server's: MariaDB `max_statement_time` (error 1969 -> Timeout), MySQL
//! `max_execution_time` (error 3024 -> Timeout; MySQL applies it to SELECT only). The socket read
//! timeout is a backstop set to the statement timeout plus a margin, so a vanished server cannot
//! hang a job forever. Cancel is `KILL QUERY <id>` from a second, short-lived connection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder};
use secrecy::ExposeSecret;

use super::sink::{NoticeLimits, Notices};
use super::support::{check_known_options, connect_within, offer_row, string_option};
use super::{mysql_values, Canceller, Column, ConnectSpec, DbError, DbErrorKind, Engine};
use super::{ExecOutcome, RowSink, TargetConnection};

const OPTIONS: &[&str] = &["ssl_mode"];
/// How much longer than the statement timeout the socket waits before giving up on the server.
const BACKSTOP_MARGIN: Duration = Duration::from_secs(10);

pub(crate) struct MysqlConnection {
    conn: Conn,
    version: String,
    canceller: Arc<MysqlCanceller>,
    /// Inside `begin_read_only`: each text is first prepared (which the server accepts for one
    /// statement only), so a `COMMIT` hidden among several statements never runs.
    read_only: bool,
    notice_limits: NoticeLimits,
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Connect,
    Statement,
}

impl MysqlConnection {
    pub(crate) fn connect(spec: &ConnectSpec) -> Result<Self, DbError> {
        check_known_options(Engine::Mysql, &spec.options, OPTIONS)?;
        match string_option(&spec.options, "ssl_mode")?
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            // "preferred" falls back to plaintext when TLS is unavailable, as the mysql client does.
            None | Some("disabled" | "preferred") => {}
            Some(other) => {
                return Err(DbError::config(format!(
                    "ssl_mode {other:?} cannot be honoured: this build connects to MySQL targets \
                     without TLS (use disabled or preferred)"
                )))
            }
        }
        let backstop = spec.statement_timeout.map(|t| t + BACKSTOP_MARGIN);
        let password = spec.password.expose_secret();
        let opts: Opts = OptsBuilder::new()
            .ip_or_hostname(Some(spec.host.clone()))
            .tcp_port(spec.port)
            .user(Some(spec.username.clone()))
            .pass((!password.is_empty()).then(|| password.to_string()))
            .db_name((!spec.database.is_empty()).then(|| spec.database.clone()))
            // Otherwise the driver switches to the local Unix socket when it sees 127.0.0.1.
            .prefer_socket(false)
            .tcp_connect_timeout(Some(spec.connect_timeout))
            .read_timeout(backstop)
            .write_timeout(backstop)
            .into();
        let conn = open(&opts, spec)?;
        let mut me = MysqlConnection {
            notice_limits: NoticeLimits::default(),
            canceller: Arc::new(MysqlCanceller {
                opts,
                connection_id: conn.connection_id(),
                host: spec.host.clone(),
                port: spec.port,
                connect_timeout: spec.connect_timeout,
                requested: AtomicBool::new(false),
            }),
            conn,
            version: String::new(),
            read_only: false,
        };
        let version: Option<String> = me
            .conn
            .query_first("SELECT VERSION()")
            .map_err(|e| classify(&e, Phase::Statement, false))?;
        me.version = version.unwrap_or_default();
        if let Some(t) = spec.statement_timeout {
            let set = if me.version.contains("MariaDB") {
                format!("SET SESSION max_statement_time = {:.3}", t.as_secs_f64())
            } else {
                format!("SET SESSION max_execution_time = {}", t.as_millis().max(1))
            };
            me.simple(&set)?;
        }
        Ok(me)
    }

    /// Asks the server to prepare (not run) `sql`: it refuses several statements in one text.
    /// Statements the prepared protocol does not support (1295) are let through to run as text.
    ///
    /// The SQL-level `PREPARE` is used, not the driver's `prep`: `prep` rewrites every `:name`
    /// outside quotes to `?` (its named parameters), so `note::varchar(20)` reached the server
    /// as `note:?(20)` and the server's error quoted a text the user never typed. The text goes
    /// as a hex literal, so no quoting or `NO_BACKSLASH_ESCAPES` can change it on the way.
    fn one_statement(&mut self, sql: &str) -> Result<(), DbError> {
        let set = format!(
            "SET @autodb_check = CONVERT(X'{}' USING utf8mb4)",
            hex::encode(sql.as_bytes())
        );
        self.simple(&set)?;
        let prepared = self
            .conn
            .query_drop("PREPARE autodb_check FROM @autodb_check");
        let cleared = self.simple("SET @autodb_check = NULL");
        match prepared {
            Ok(()) => {
                cleared?;
                self.simple("DEALLOCATE PREPARE autodb_check")
            }
            Err(mysql::Error::MySqlError(e)) if e.code == 1295 => cleared,
            Err(e) => Err(classify(&e, Phase::Statement, false)),
        }
    }

    fn simple(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn
            .query_drop(sql)
            .map_err(|e| classify(&e, Phase::Statement, false))
    }

    fn run(
        &mut self,
        sql: &str,
        sink: &mut dyn RowSink,
        outcome: &mut ExecOutcome,
    ) -> mysql::Result<()> {
        let mut returned_a_set = false;
        let mut affected = 0u64;
        let mut result = self.conn.query_iter(sql)?;
        while let Some(mut set) = result.iter() {
            // An OK-only set (DML/DDL) knows its count before iterating, and forgets it after.
            let affected_before = set.affected_rows();
            let meta: Vec<mysql::Column> = set.columns().as_ref().to_vec();
            if !meta.is_empty() {
                returned_a_set = true;
                let columns: Vec<Column> = meta
                    .iter()
                    .map(|c| Column {
                        name: c.name_str().into_owned(),
                        type_name: mysql_values::type_name(
                            c.column_type(),
                            c.flags(),
                            c.character_set(),
                        ),
                    })
                    .collect();
                sink.columns(&columns);
            }
            for row in set.by_ref() {
                let row = row?;
                // Rows after a refused one are read and dropped: the protocol must be drained.
                if outcome.truncated {
                    continue;
                }
                let cells = row
                    .unwrap()
                    .into_iter()
                    .zip(&meta)
                    .map(|(v, c)| mysql_values::cell(c.column_type(), c.character_set(), v))
                    .collect();
                offer_row(sink, outcome, cells);
            }
            affected += affected_before.max(set.affected_rows());
        }
        drop(result);
        if !returned_a_set {
            outcome.rows_affected = Some(affected);
        }
        let total = u64::from(self.conn.warnings());
        if total > 0 {
            // Streamed into the bounded collector (a session may raise max_error_count).
            let mut notices = Notices::new(self.notice_limits);
            let mut seen = 0u64;
            for row in self.conn.query_iter("SHOW WARNINGS")? {
                let (level, code, message): (String, u32, String) =
                    mysql::from_row_opt(row?).map_err(|e| mysql::Error::FromRowError(e.0))?;
                seen += 1;
                let len = level.len() + message.len() + 8;
                notices.push_with(len, || format!("{level} {code}: {message}"));
            }
            // Warnings past max_error_count are counted by the server but not listed.
            notices.count_dropped(total.saturating_sub(seen), 0);
            notices.take_into(outcome);
        }
        Ok(())
    }
}

impl TargetConnection for MysqlConnection {
    fn engine(&self) -> Engine {
        Engine::Mysql
    }

    fn server_version(&mut self) -> Result<String, DbError> {
        Ok(self.version.clone())
    }

    fn set_notice_limits(&mut self, limits: NoticeLimits) {
        self.notice_limits = limits;
    }

    fn execute(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<ExecOutcome, DbError> {
        self.canceller.requested.store(false, Ordering::SeqCst);
        if self.read_only {
            self.one_statement(sql)?;
        }
        let mut outcome = ExecOutcome::default();
        match self.run(sql, sink, &mut outcome) {
            Ok(()) => Ok(outcome),
            Err(e) => Err(classify(
                &e,
                Phase::Statement,
                self.canceller.requested.load(Ordering::SeqCst),
            )),
        }
    }

    fn canceller(&self) -> Arc<dyn Canceller> {
        self.canceller.clone()
    }

    fn begin_read_only(&mut self) -> Result<(), DbError> {
        self.simple("START TRANSACTION READ ONLY")?;
        self.read_only = true;
        Ok(())
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.read_only = false;
        self.simple("START TRANSACTION")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.read_only = false;
        self.simple("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.read_only = false;
        self.simple("ROLLBACK")
    }
}

fn open(opts: &Opts, spec: &ConnectSpec) -> Result<Conn, DbError> {
    let opts = opts.clone();
    connect_within(&spec.host, spec.port, spec.connect_timeout, move || {
        Conn::new(opts).map_err(|e| classify(&e, Phase::Connect, false))
    })
}

/// Kills the running statement with `KILL QUERY <id>` over a second connection.
struct MysqlCanceller {
    opts: Opts,
    connection_id: u32,
    host: String,
    port: u16,
    connect_timeout: Duration,
    requested: AtomicBool,
}

impl Canceller for MysqlCanceller {
    fn cancel(&self) -> Result<(), DbError> {
        self.requested.store(true, Ordering::SeqCst);
        let opts = self.opts.clone();
        let mut conn = connect_within(&self.host, self.port, self.connect_timeout, move || {
            Conn::new(opts).map_err(|e| classify(&e, Phase::Connect, false))
        })?;
        match conn.query_drop(format!("KILL QUERY {}", self.connection_id)) {
            Ok(()) => Ok(()),
            // 1094 "Unknown thread id": the session is gone, so nothing is running.
            Err(mysql::Error::MySqlError(e)) if e.code == 1094 => Ok(()),
            Err(e) => Err(classify(&e, Phase::Statement, false)),
        }
    }
}

/// A driver error as a DbError: the MySQL error number and the server's message, or the
/// driver's text for network failures.
fn classify(e: &mysql::Error, phase: Phase, cancel_requested: bool) -> DbError {
    let (kind, code, message) = match e {
        mysql::Error::MySqlError(me) => {
            let kind = match me.code {
                // Access denied (user, database), password expired, unsupported auth plugin.
                1044 | 1045 | 1698 | 1251 | 1820 | 1862 => DbErrorKind::Auth,
                // Interrupted by KILL QUERY / KILL CONNECTION.
                1317 | 1927 => DbErrorKind::Cancelled,
                // MariaDB max_statement_time, MySQL max_execution_time.
                1969 | 3024 => DbErrorKind::Timeout,
                // Too many connections, host blocked or not allowed.
                1040 | 1129 | 1130 => DbErrorKind::Connect,
                _ if phase == Phase::Connect => DbErrorKind::Connect,
                _ => DbErrorKind::Statement,
            };
            (kind, Some(me.code.to_string()), me.message.clone())
        }
        mysql::Error::IoError(io)
            if phase == Phase::Statement
                && matches!(
                    io.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
        {
            let what = if cancel_requested {
                "after a cancel"
            } else {
                "beyond the statement timeout"
            };
            (
                DbErrorKind::Timeout,
                None,
                format!("the server sent nothing {what} and the connection was dropped: {io}"),
            )
        }
        mysql::Error::UrlError(u) => (DbErrorKind::Config, None, u.to_string()),
        mysql::Error::FromRowError(_) | mysql::Error::FromValueError(_) => {
            (DbErrorKind::Internal, None, e.to_string())
        }
        // Io, codec and driver errors: the network or the session failed.
        _ => (DbErrorKind::Connect, None, e.to_string()),
    };
    DbError::new(kind, code, message)
}
