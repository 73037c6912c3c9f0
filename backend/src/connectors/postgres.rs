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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
    ) -> Result<ExecOutcome, tokio_postgres::Error> {
        // Describe first: nothing runs, but we learn the result column types.
        let types: Option<Vec<Type>> = match self.driver.block_on(self.client.prepare(sql)) {
            Ok(stmt) => Some(stmt.columns().iter().map(|c| c.type_().clone()).collect()),
            // Several commands cannot be prepared; run them anyway, every value as text.
            Err(e) if is_multi_command(&e) && !self.read_only => None,
            Err(e) => return Err(e),
        };
        let stream = self.driver.block_on(self.client.simple_query_raw(sql))?;
        let mut stream = std::pin::pin!(stream);
        let mut outcome = ExecOutcome::default();
        let mut row_types: Vec<Option<Type>> = Vec::new();
        let mut returns_rows = false;
        while let Some(msg) = self.driver.block_on(stream.next()) {
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
        match self.run(sql, sink) {
            Ok(mut outcome) => {
                self.driver.notices.take_into(&mut outcome);
                Ok(outcome)
            }
            Err(e) => {
                self.txn_failed |= self.in_txn;
                let cancelled = self.canceller.requested.load(Ordering::SeqCst);
                Err(self.failed(&e, cancelled))
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
