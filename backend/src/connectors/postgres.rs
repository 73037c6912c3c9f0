//! The PostgreSQL connector.
//!
//! Design: `tokio-postgres` (the engine under the sync `postgres` crate) driven on a private
//! single-threaded runtime, the way the sync crate does internally, because two things the sync
//! crate cannot do are needed here:
//! - a connect timeout that covers the whole handshake (tokio-postgres bounds only the TCP
//!   connect; a listener that accepts and never speaks would hang the sync client forever);
//! - *streaming* the simple query protocol (`simple_query_raw`), whose rows are the server's own
//!   text for every type. Each statement is first `prepare`d (Parse/Describe only, nothing runs)
//!   to learn the column types, then run with the simple protocol, and each text value is typed
//!   by [`pg_values::cell`]. Two round trips per statement buy exact numerics, every type
//!   readable, and any statement accepted as psql would (DDL, `DO $$…$$`, `VACUUM`).
//!
//! Notices (`RAISE NOTICE`, warnings) are collected while driving the connection. A statement
//! timeout and a cancel both end with SQLSTATE 57014; the canceller raises a flag first, so the
//! two are told apart without reading the (localisable) message.
//!
//! Inside a read-only transaction (queries), the time limit cannot be lifted by what runs: it is
//! set again with `SET LOCAL statement_timeout` before every statement (a `set_config` in one
//! statement cannot free the next), with `standard_conforming_strings` on so the server reads
//! strings as the classifier did; and a client-side deadline backs it: at the limit plus
//! [`GRACE`] a cancel request is sent, and one more grace later the connection is given up on,
//! so a statement ends near its limit whatever the server does.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use secrecy::ExposeSecret;
use tokio_postgres::types::Type;
use tokio_postgres::{NoTls, SimpleQueryMessage};

use super::pg_errors::{breaks_protocol, classify, is_multi_command, refuse_client_copy, Phase};
use super::pg_runtime::{Driver, PgCanceller};
use super::sink::{NoticeLimits, Notices};
use super::support::{check_known_options, offer_row, string_option};
use super::{pg_values, Canceller, Column, ConnectSpec, DbError, DbErrorKind, Engine};
use super::{ExecOutcome, RowSink, TargetConnection};

const OPTIONS: &[&str] = &["sslmode", "application_name"];

/// How long past a read-only statement's limit the client waits before cancelling it, and again
/// before giving the connection up.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// Why a statement did not return: the server's error, or our deadline passed unanswered.
enum Failure {
    Pg(tokio_postgres::Error),
    Abandoned,
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Pg(e)
    }
}

/// The client-side deadline of one read-only statement.
struct Deadline {
    at: Option<Instant>,
    cancel_sent: bool,
}

/// Runs `fut` on the connection's runtime until it ends or `dl` passes: then sends one cancel
/// request and waits one more [`GRACE`]; past that, gives up.
fn wait<F: Future>(
    driver: &mut Driver,
    token: &tokio_postgres::CancelToken,
    dl: &mut Deadline,
    fut: F,
) -> Result<F::Output, Failure> {
    let mut fut = std::pin::pin!(fut);
    loop {
        let Some(at) = dl.at else {
            return Ok(driver.block_on(fut.as_mut()));
        };
        let at = tokio::time::Instant::from_std(at);
        let ended = driver.block_on(async { tokio::time::timeout_at(at, fut.as_mut()).await });
        match ended {
            Ok(out) => return Ok(out),
            Err(_) if dl.cancel_sent => return Err(Failure::Abandoned),
            Err(_) => {
                dl.cancel_sent = true;
                let sent = driver.block_on(async {
                    tokio::time::timeout(GRACE, token.cancel_query(NoTls)).await
                });
                if !matches!(sent, Ok(Ok(()))) {
                    log::warn!("postgres target: the deadline's cancel request was not taken");
                }
                dl.at = Some(Instant::now() + GRACE);
            }
        }
    }
}

pub(crate) struct PgConnection {
    driver: Driver,
    client: tokio_postgres::Client,
    canceller: Arc<PgCanceller>,
    in_txn: bool,
    txn_failed: bool,
    /// Inside `begin_read_only`: a text of several commands is refused, because a `COMMIT`
    /// among them would end the read-only transaction and let the rest write.
    read_only: bool,
    /// Set when a protocol error left the session in an unknown state: every later call fails
    /// fast with this message instead of waiting on a server that waits on us.
    broken: Option<String>,
    /// The statement time limit, set again before each read-only statement and backed there by
    /// the client-side deadline.
    timeout: Option<Duration>,
}

impl PgConnection {
    pub(crate) fn connect(spec: &ConnectSpec) -> Result<Self, DbError> {
        check_known_options(Engine::Postgres, &spec.options, OPTIONS)?;
        match string_option(&spec.options, "sslmode")? {
            // "prefer"/"allow" fall back to plaintext when TLS is unavailable, as libpq does.
            None | Some("disable" | "allow" | "prefer") => {}
            Some(other) => {
                return Err(DbError::config(format!(
                    "sslmode {other:?} cannot be honoured: this build connects to PostgreSQL \
                     targets without TLS (use disable, allow or prefer)"
                )))
            }
        }
        let mut cfg = tokio_postgres::Config::new();
        cfg.host(&spec.host)
            .port(spec.port)
            .user(&spec.username)
            .connect_timeout(spec.connect_timeout)
            .application_name(
                string_option(&spec.options, "application_name")?.unwrap_or("autodb"),
            );
        if !spec.database.is_empty() {
            cfg.dbname(&spec.database);
        }
        let password = spec.password.expose_secret();
        if !password.is_empty() {
            cfg.password(password);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DbError::internal(format!("cannot start the PostgreSQL runtime: {e}")))?;
        // The timeout wraps the whole handshake, not just the TCP connect.
        let connected = rt.block_on(async {
            // Inside the runtime: the timer needs its context.
            tokio::time::timeout(spec.connect_timeout, cfg.connect(NoTls)).await
        });
        let (client, conn) = match connected {
            Err(_) => {
                return Err(DbError::connect_timeout(
                    &spec.host,
                    spec.port,
                    spec.connect_timeout,
                ))
            }
            Ok(Err(e)) => return Err(classify(&e, Phase::Connect, false)),
            Ok(Ok(pair)) => pair,
        };
        let canceller = Arc::new(PgCanceller {
            token: client.cancel_token(),
            requested: AtomicBool::new(false),
        });
        let mut pg = PgConnection {
            driver: Driver {
                rt,
                conn,
                notices: Notices::default(),
                closed: false,
            },
            client,
            canceller,
            in_txn: false,
            txn_failed: false,
            read_only: false,
            broken: None,
            timeout: spec.statement_timeout,
        };
        // ISO dates and hex bytea are what pg_values parses; the timeout is the server's own.
        let timeout_ms = spec.statement_timeout.map_or(0, |d| d.as_millis().max(1));
        pg.batch(&format!(
            "SET DateStyle = ISO; SET bytea_output = hex; SET statement_timeout = {timeout_ms}"
        ))?;
        Ok(pg)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.usable()?;
        let result = self.driver.block_on(self.client.batch_execute(sql));
        result.map_err(|e| self.failed(&e, false))
    }

    fn usable(&self) -> Result<(), DbError> {
        match &self.broken {
            Some(why) => Err(DbError::connect(format!(
                "this connection is unusable after a protocol error ({why}); open a new one"
            ))),
            None => Ok(()),
        }
    }

    /// Classify a statement-phase error, remembering whether it broke the session.
    fn failed(&mut self, e: &tokio_postgres::Error, cancel_requested: bool) -> DbError {
        let err = classify(e, Phase::Statement, cancel_requested);
        if breaks_protocol(e) {
            self.broken = Some(err.message.clone());
        }
        err
    }

    fn run(
        &mut self,
        sql: &str,
        sink: &mut dyn RowSink,
        dl: &mut Deadline,
    ) -> Result<ExecOutcome, Failure> {
        let token = self.canceller.token.clone();
        if let (true, Some(limit)) = (self.read_only, self.timeout) {
            let set = format!(
                "SET LOCAL statement_timeout = {}; SET LOCAL standard_conforming_strings = on",
                limit.as_millis().max(1)
            );
            wait(
                &mut self.driver,
                &token,
                dl,
                self.client.batch_execute(&set),
            )??;
        }
        // Describe first: nothing runs, but we learn the result column types.
        let prepared = wait(&mut self.driver, &token, dl, self.client.prepare(sql))?;
        let types: Option<Vec<Type>> = match prepared {
            Ok(stmt) => Some(stmt.columns().iter().map(|c| c.type_().clone()).collect()),
            // Several commands cannot be prepared; run them anyway, every value as text.
            Err(e) if is_multi_command(&e) && !self.read_only => None,
            Err(e) => return Err(e.into()),
        };
        let stream = wait(
            &mut self.driver,
            &token,
            dl,
            self.client.simple_query_raw(sql),
        )??;
        let mut stream = std::pin::pin!(stream);
        let mut outcome = ExecOutcome::default();
        let mut row_types: Vec<Option<Type>> = Vec::new();
        let mut returns_rows = false;
        while let Some(msg) = wait(&mut self.driver, &token, dl, stream.next())? {
            match msg? {
                SimpleQueryMessage::RowDescription(cols) => {
                    returns_rows = true;
                    let known = types.as_ref().filter(|t| t.len() == cols.len());
                    row_types = (0..cols.len())
                        .map(|i| known.and_then(|t| t.get(i)).cloned())
                        .collect();
                    let columns: Vec<Column> = cols
                        .iter()
                        .zip(&row_types)
                        .map(|(c, t)| Column {
                            name: c.name().to_string(),
                            type_name: t
                                .as_ref()
                                .map_or_else(|| "text".into(), pg_values::type_name),
                        })
                        .collect();
                    sink.columns(&columns);
                }
                // Past a refused row the rest is drained unread: the protocol has no "stop",
                // and a cancel would abort an enclosing transaction.
                SimpleQueryMessage::Row(row) if !outcome.truncated => {
                    let cells = (0..row.len())
                        .map(|i| {
                            pg_values::cell(row_types.get(i).and_then(Option::as_ref), row.get(i))
                        })
                        .collect();
                    offer_row(sink, &mut outcome, cells);
                }
                SimpleQueryMessage::CommandComplete(n) if !returns_rows => {
                    outcome.rows_affected = Some(n);
                }
                _ => {}
            }
        }
        Ok(outcome)
    }
}

impl TargetConnection for PgConnection {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn server_version(&mut self) -> Result<String, DbError> {
        self.usable()?;
        let msgs = self
            .driver
            .block_on(self.client.simple_query("SELECT version()"));
        let msgs = msgs.map_err(|e| self.failed(&e, false))?;
        msgs.iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .ok_or_else(|| DbError::internal("SELECT version() returned no row"))
    }

    fn execute(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<ExecOutcome, DbError> {
        self.usable()?;
        refuse_client_copy(sql)?;
        self.driver.notices.clear();
        self.canceller.requested.store(false, Ordering::SeqCst);
        let limit = self.timeout.filter(|_| self.read_only);
        let mut dl = Deadline {
            at: limit.map(|l| Instant::now() + l + GRACE),
            cancel_sent: false,
        };
        match self.run(sql, sink, &mut dl) {
            Ok(mut outcome) => {
                self.driver.notices.take_into(&mut outcome);
                Ok(outcome)
            }
            Err(Failure::Pg(e)) => {
                self.txn_failed |= self.in_txn;
                // A cancel sent by the deadline is a timeout, not the user's cancel.
                let cancelled = self.canceller.requested.load(Ordering::SeqCst) && !dl.cancel_sent;
                Err(self.failed(&e, cancelled))
            }
            Err(Failure::Abandoned) => {
                let secs = limit.map_or(0, |l| l.as_secs());
                let why = format!(
                    "the statement did not end within its time limit ({secs} s) and the server \
                     did not answer the cancel request; the connection was given up"
                );
                self.broken = Some(why.clone());
                Err(DbError::new(DbErrorKind::Timeout, None, why))
            }
        }
    }

    fn set_notice_limits(&mut self, limits: NoticeLimits) {
        self.driver.notices.set_limits(limits);
    }

    fn canceller(&self) -> Arc<dyn Canceller> {
        self.canceller.clone()
    }

    fn begin_read_only(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN READ ONLY")?;
        (self.in_txn, self.txn_failed, self.read_only) = (true, false, true);
        Ok(())
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN")?;
        (self.in_txn, self.txn_failed, self.read_only) = (true, false, false);
        Ok(())
    }

    fn commit(&mut self) -> Result<(), DbError> {
        let failed = self.txn_failed;
        (self.in_txn, self.txn_failed, self.read_only) = (false, false, false);
        // PostgreSQL answers COMMIT of an aborted transaction with a silent ROLLBACK; say so.
        self.batch("COMMIT")?;
        if failed {
            return Err(DbError::new(
                DbErrorKind::Statement,
                Some("25P02".into()),
                "the transaction was aborted by an earlier error, so COMMIT rolled it back",
            ));
        }
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        (self.in_txn, self.txn_failed, self.read_only) = (false, false, false);
        self.batch("ROLLBACK")
    }
}
