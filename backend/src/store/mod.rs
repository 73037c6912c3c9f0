//! AutoDB's own metadata store: one diesel code path over SQLite (embedded default) and
//! PostgreSQL (production), chosen from the URL scheme. Every call runs on a blocking thread
//! through [`Store::run`], never on an async worker.

pub mod audit;
pub mod error;
pub mod grants;
pub mod jobs;
pub mod queries;
pub mod schedules;
pub mod schema;
pub mod stats;
pub mod target_health;
pub mod targets;
pub mod tokens;
pub mod users;
pub mod work;

use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, CustomizeConnection, Pool};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use error::{Result, StoreError};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgresql");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The store's location, parsed once from `database.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StoreUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/autodb.db".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        Err("must start with sqlite:// or postgres://".into())
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// The URL diesel is given: SQLite gets a plain path; PostgreSQL gets a connect timeout so
    /// an unreachable server fails fast instead of after the pool's own timeout.
    fn connection_string(&self, connect_timeout_s: u64) -> String {
        match self {
            Self::Sqlite(p) => p.to_string_lossy().into_owned(),
            Self::Postgres(u) if u.contains("connect_timeout=") => u.clone(),
            Self::Postgres(u) => {
                let sep = if u.contains('?') { '&' } else { '?' };
                format!("{u}{sep}connect_timeout={connect_timeout_s}")
            }
        }
    }
}

/// Opens each pooled connection as the variant the URL names (never by trial: diesel's
/// MultiConnection would otherwise open a SQLite file named after a PostgreSQL URL).
#[derive(Debug)]
struct Manager {
    url: StoreUrl,
    conn_str: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        let conn = match self.url {
            StoreUrl::Sqlite(_) => {
                diesel::SqliteConnection::establish(&self.conn_str).map(DbConn::Sqlite)
            }
            StoreUrl::Postgres(_) => {
                diesel::PgConnection::establish(&self.conn_str).map(DbConn::Postgresql)
            }
        };
        conn.map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            // WAL lets readers run beside the one writer; busy_timeout makes writers queue
            // instead of failing with SQLITE_BUSY. It comes first: switching to WAL takes a
            // lock, and a pool filling its idle connections while migrations run would
            // otherwise fail at once with "database is locked".
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(r2d2::Error::QueryError)?;
            // `lower` as PostgreSQL has it, for a search in any case beyond ASCII.
            jobs::lower_utils::register_impl(c, |text: String| text.to_lowercase())
                .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    url: StoreUrl,
    connect_timeout_s: u64,
    /// SQLite has one writer at a time. Writers queue here, in-process, instead of in SQLite's
    /// busy handler, which sleeps in growing steps (up to 100 ms) and made write latency spiky
    /// under a fleet of runs. None for PostgreSQL.
    write_gate: Option<Arc<Mutex<()>>>,
    /// `api` or `engine` (the work engine's own pool): the `pool` label of the store metrics.
    pool_name: &'static str,
}

thread_local! {
    /// Set while this thread holds a write transaction (see [`Store::write_blocking`]).
    static IN_WRITE: Cell<bool> = const { Cell::new(false) };
}

/// A write transaction, handed out only by [`Store::write`] / [`Store::write_blocking`]: every
/// function of the store that changes rows takes one, so a change outside a transaction does
/// not compile. Reads take `&mut DbConn`, which a `WriteTx` derefs to.
pub struct WriteTx<'c> {
    conn: &'c mut DbConn,
}

impl Deref for WriteTx<'_> {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        self.conn
    }
}

impl DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        self.conn
    }
}

/// Clears [`IN_WRITE`] when the transaction is over, however it ends.
struct WriteFlag;

impl WriteFlag {
    fn set() -> Option<Self> {
        (!IN_WRITE.with(|w| w.replace(true))).then_some(Self)
    }
}

impl Drop for WriteFlag {
    fn drop(&mut self) {
        IN_WRITE.with(|w| w.set(false));
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.url.backend())
            .finish()
    }
}

/// The migration versions a store has applied, and those this binary embeds.
fn versions<DB: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<DB>,
    source: &impl diesel::migration::MigrationSource<DB>,
) -> diesel::migration::Result<(Vec<String>, Vec<String>)> {
    let applied = conn
        .applied_migrations()?
        .iter()
        .map(|v| v.to_string())
        .collect();
    let known = source
        .migrations()?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    Ok((applied, known))
}

/// What [`Store::schema_status`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    pub applied: usize,
    /// Known to this binary, not yet run.
    pub pending: Vec<String>,
    /// Run on the store, unknown to this binary: a newer release migrated it.
    pub unknown: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the folder for the SQLite store {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the metadata store ({backend}): {message}")]
    Connect {
        backend: &'static str,
        message: String,
    },
    #[error("cannot run the metadata store migrations: {0}")]
    Migrate(String),
}

impl Store {
    /// Builds the pool and checks one connection at once, so a wrong URL or password is a clear
    /// start-up error rather than a 503 later.
    pub fn open(url: &StoreUrl, pool_size: u32, connect_timeout_s: u64) -> Result<Self, OpenError> {
        if let StoreUrl::Sqlite(path) = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| OpenError::Folder {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let conn_str = url.connection_string(connect_timeout_s);
        let manager = Manager {
            url: url.clone(),
            conn_str,
        };
        // Check the first connection by hand: r2d2 would only say "timed out" after retrying.
        let mut first =
            r2d2::ManageConnection::connect(&manager).map_err(|e| OpenError::Connect {
                backend: url.backend(),
                message: e.to_string(),
            })?;
        SqlitePragmas
            .on_acquire(&mut first)
            .map_err(|e| OpenError::Connect {
                backend: url.backend(),
                message: e.to_string(),
            })?;
        drop(first);
        let write_gate = matches!(url, StoreUrl::Sqlite(_)).then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            pool: Self::pool(manager, pool_size, connect_timeout_s)?,
            url: url.clone(),
            connect_timeout_s,
            write_gate,
            pool_name: "api",
        })
    }

    fn pool(
        manager: Manager,
        size: u32,
        connect_timeout_s: u64,
    ) -> Result<Pool<Manager>, OpenError> {
        let backend = manager.url.backend();
        // A SQLite file cannot drop a connection: no `SELECT 1` before every use. A PostgreSQL
        // connection is checked, so a store restart costs no failed request.
        let check = !matches!(manager.url, StoreUrl::Sqlite(_));
        // Connections open on demand and idle ones close after r2d2's 10 minutes: a process
        // keeps two, not `size`, while nothing happens (r2d2 would otherwise hold `size` open
        // for ever, and every AutoDB process on one PostgreSQL store takes its full share).
        Pool::builder()
            .max_size(size)
            .min_idle(Some(size.min(2)))
            .test_on_check_out(check)
            .connection_timeout(Duration::from_secs(connect_timeout_s))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| OpenError::Connect {
                backend,
                message: e.to_string(),
            })
    }

    /// The same store through a pool of its own (sharing the SQLite write gate), so that one
    /// busy user of the store — the job engine's run threads — cannot take every connection
    /// the HTTP API needs.
    pub fn with_own_pool(&self, size: u32) -> Result<Self, OpenError> {
        let manager = Manager {
            url: self.url.clone(),
            conn_str: self.url.connection_string(self.connect_timeout_s),
        };
        Ok(Self {
            pool: Self::pool(manager, size, self.connect_timeout_s)?,
            url: self.url.clone(),
            connect_timeout_s: self.connect_timeout_s,
            write_gate: self.write_gate.clone(),
            pool_name: "engine",
        })
    }

    pub fn backend(&self) -> &'static str {
        self.url.backend()
    }

    /// Applies the embedded migrations for this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, OpenError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| OpenError::Migrate(e.to_string()))?;
        let ran = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Postgresql(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
        };
        ran.map_err(|e| OpenError::Migrate(e.to_string()))
    }

    /// The store's migrations against this binary's: which ran, which are pending, and which
    /// ran but this binary does not know (the store was migrated by a newer release).
    pub fn schema_status(&self) -> Result<SchemaStatus, OpenError> {
        let err = |e: &dyn std::fmt::Display| OpenError::Migrate(e.to_string());
        let mut conn = self.pool.get().map_err(|e| err(&e))?;
        let (applied, known) = match &mut *conn {
            DbConn::Sqlite(c) => versions(c, &SQLITE_MIGRATIONS),
            DbConn::Postgresql(c) => versions(c, &POSTGRES_MIGRATIONS),
        }
        .map_err(|e| err(&e))?;
        Ok(SchemaStatus {
            pending: known
                .iter()
                .filter(|k| !applied.contains(k))
                .cloned()
                .collect(),
            unknown: applied
                .iter()
                .filter(|a| !known.contains(a))
                .cloned()
                .collect(),
            applied: applied.len(),
        })
    }

    /// Reads on a blocking thread: the one door to diesel for async code. `E` is the caller's
    /// error type (the domain's), into which a store failure converts.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        let request = crate::logging::request_id();
        tokio::task::spawn_blocking(move || {
            crate::logging::with_request_id(request, || store.run_blocking(f))
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
    }

    /// The same, for code that is already on a blocking thread (CLI, engine threads).
    pub fn run_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let out = self
            .connection()
            .map_err(E::from)
            .and_then(|mut c| f(&mut c));
        // A pool that timed out counts too: that wait is what a 503 cost.
        crate::metrics::store_call(self.pool_name, "read", started.elapsed());
        out
    }

    /// Runs `f` in a write transaction on a blocking thread; commits if it returns `Ok`.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        let request = crate::logging::request_id();
        tokio::task::spawn_blocking(move || {
            crate::logging::with_request_id(request, || store.write_blocking(f))
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
    }

    /// A write transaction that serializes with other writers from its first statement: SQLite
    /// `BEGIN IMMEDIATE` behind this process's write gate (a deferred one that reads first can
    /// fail with SQLITE_BUSY when it later writes), PostgreSQL an ordinary transaction (the
    /// functions lock the rows they change). A write opened inside another on the same thread
    /// is refused ([`StoreError::NestedWrite`]): on SQLite it would wait on itself.
    pub fn write_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let Some(_flag) = WriteFlag::set() else {
            return Err(StoreError::NestedWrite.into());
        };
        let started = Instant::now();
        let out = self.connection().map_err(E::from).and_then(|mut conn| {
            let _writer = self
                .write_gate
                .as_ref()
                .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()));
            let begin = match &*conn {
                DbConn::Postgresql(_) => "BEGIN",
                DbConn::Sqlite(_) => "BEGIN IMMEDIATE",
            };
            in_transaction(&mut conn, begin, |c| f(&mut WriteTx { conn: c }))
        });
        crate::metrics::store_call(self.pool_name, "write", started.elapsed());
        out
    }

    /// The pool's open and idle connections, for `/metrics`.
    pub fn pool_state(&self) -> crate::metrics::PoolState {
        let s = self.pool.state();
        crate::metrics::PoolState {
            connections: s.connections,
            idle: s.idle_connections,
            max: self.pool.max_size(),
        }
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Store liveness for `/api/health`.
    pub async fn ping(&self) -> Result<()> {
        self.run(|c| Ok(c.batch_execute("SELECT 1")?)).await
    }
}

/// Runs `f` between `begin` (a `BEGIN …` statement) and `COMMIT`, rolling back when it fails.
pub(crate) fn in_transaction<T, E: From<StoreError>>(
    conn: &mut DbConn,
    begin: &str,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    conn.batch_execute(begin).map_err(StoreError::from)?;
    match f(conn) {
        Ok(v) => {
            conn.batch_execute("COMMIT").map_err(StoreError::from)?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}

/// Current time as stored: UTC, microsecond precision (what both backends keep).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::Timelike::with_nanosecond(&now, now.and_utc().timestamp_subsec_micros() * 1000)
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_chooses_the_backend() {
        assert_eq!(
            StoreUrl::parse("sqlite://data/a.db"),
            Ok(StoreUrl::Sqlite(PathBuf::from("data/a.db")))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/autodb/a.db"),
            Ok(StoreUrl::Sqlite(PathBuf::from("/var/lib/autodb/a.db")))
        );
        assert!(matches!(
            StoreUrl::parse("postgres://u:p@h:5432/d"),
            Ok(StoreUrl::Postgres(_))
        ));
        assert!(StoreUrl::parse("host=x password=y").is_err());
        assert!(StoreUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn a_write_opened_inside_another_is_refused_instead_of_deadlocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&StoreUrl::Sqlite(dir.path().join("n.db")), 2, 5).expect("open");
        let inner = store.clone();
        let nested = store.write_blocking(|_| inner.write_blocking(|_| Ok::<_, StoreError>(())));
        assert!(matches!(nested, Err(StoreError::NestedWrite)), "{nested:?}");
        // The flag is cleared with the transaction: the next write on this thread works.
        store
            .write_blocking(|_| Ok::<_, StoreError>(()))
            .expect("a later write");
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&StoreUrl::Sqlite(dir.path().join("r.db")), 2, 5).expect("open");
        store
            .write_blocking(|tx| Ok::<_, StoreError>(tx.batch_execute("CREATE TABLE t (x int)")?))
            .expect("create");
        let failed = store.write_blocking(|tx| {
            tx.batch_execute("INSERT INTO t VALUES (1)")?;
            Err::<(), _>(StoreError::Integrity("stop".into()))
        });
        assert!(failed.is_err());
        let n: i64 = store
            .run_blocking(|c| {
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let rows: Vec<N> = diesel::sql_query("SELECT count(*) AS n FROM t").load(c)?;
                Ok::<_, StoreError>(rows[0].n)
            })
            .expect("count");
        assert_eq!(n, 0, "the insert was rolled back with its transaction");
    }

    #[test]
    fn postgres_urls_get_a_connect_timeout() {
        let u = StoreUrl::parse("postgres://h/d").expect("parse");
        assert_eq!(u.connection_string(5), "postgres://h/d?connect_timeout=5");
        let u = StoreUrl::parse("postgres://h/d?sslmode=disable").expect("parse");
        assert_eq!(
            u.connection_string(5),
            "postgres://h/d?sslmode=disable&connect_timeout=5"
        );
    }
}
