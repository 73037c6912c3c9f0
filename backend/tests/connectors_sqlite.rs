//! The SQLite connector on real database files in a temporary directory per test.
#![allow(clippy::unwrap_used)]

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use autodb::connectors::{
    self, Cell, ConnectSpec, DbErrorKind, Engine, ExecOutcome, RowSink, TargetConnection, VecSink,
};

fn spec(path: &std::path::Path) -> ConnectSpec {
    ConnectSpec {
        engine: Engine::Sqlite,
        host: String::new(),
        port: 0,
        database: path.to_string_lossy().into_owned(),
        username: String::new(),
        password: String::new().into(),
        options: serde_json::Map::new(),
        connect_timeout: Duration::from_secs(5),
        statement_timeout: None,
    }
}

fn open() -> (tempfile::TempDir, Box<dyn TargetConnection>) {
    let dir = tempfile::tempdir().unwrap();
    let conn = connectors::connect(&spec(&dir.path().join("t.db"))).unwrap();
    (dir, conn)
}

fn exec(conn: &mut dyn TargetConnection, sql: &str) -> ExecOutcome {
    conn.execute(sql, &mut VecSink::new(0)).unwrap()
}

fn query(conn: &mut dyn TargetConnection, sql: &str) -> VecSink {
    let mut sink = VecSink::new(1000);
    conn.execute(sql, &mut sink).unwrap();
    sink
}

/// Endless rows, as fast as SQLite can produce them.
const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c";

#[test]
fn probe_reports_the_sqlite_library_version() {
    let dir = tempfile::tempdir().unwrap();
    let (version, _) = connectors::probe(&spec(&dir.path().join("p.db"))).unwrap();
    assert!(version.starts_with("SQLite 3."), "{version}");
}

#[test]
fn ddl_and_dml_report_the_rows_they_affected() {
    let (_dir, mut conn) = open();
    let c = conn.as_mut();
    assert_eq!(
        exec(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").rows_affected,
        Some(0)
    );
    assert_eq!(
        exec(c, "INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c')").rows_affected,
        Some(3)
    );
    // SQLite's changes() would still say 3 after DDL; the connector must not.
    assert_eq!(exec(c, "CREATE INDEX t_v ON t (v)").rows_affected, Some(0));
    assert_eq!(
        exec(c, "UPDATE t SET v = 'z' WHERE id >= 2").rows_affected,
        Some(2)
    );
    assert_eq!(exec(c, "DELETE FROM t WHERE id = 5").rows_affected, Some(0));
    let sel = c.execute("SELECT * FROM t", &mut VecSink::new(10)).unwrap();
    assert_eq!((sel.rows_affected, sel.rows_returned), (None, 3));
}

#[test]
fn a_result_set_arrives_as_typed_cells() {
    let (_dir, mut conn) = open();
    let c = conn.as_mut();
    exec(
        c,
        "CREATE TABLE t (n TEXT, e TEXT, i INTEGER, f REAL, b BOOLEAN, d DATE, ts DATETIME, bin BLOB, j JSON)",
    );
    exec(
        c,
        r#"INSERT INTO t VALUES (NULL, '', 42, 1.5, 1, '2024-02-29', '2024-02-29 13:14:15', x'DEADBEEF', '{"a": [1, null], "id": 12345678901234567890123}')"#,
    );
    let sink = query(c, "SELECT *, 7 AS expr FROM t");
    let types: Vec<&str> = sink.columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(
        types,
        [
            "TEXT", "TEXT", "INTEGER", "REAL", "BOOLEAN", "DATE", "DATETIME", "BLOB", "JSON",
            "INTEGER"
        ]
    );
    assert_eq!(
        sink.rows[0],
        vec![
            Cell::Null,
            Cell::Text(String::new()),
            Cell::Int(42),
            Cell::Float(1.5),
            Cell::Bool(true),
            Cell::Date("2024-02-29".into()),
            Cell::Timestamp("2024-02-29T13:14:15".into()),
            Cell::Bytes("deadbeef".into()),
            Cell::Json(r#"{"a": [1, null], "id": 12345678901234567890123}"#.into()),
            Cell::Int(7),
        ]
    );
}

#[test]
fn a_sink_limit_truncates_an_endless_result() {
    let (_dir, mut conn) = open();
    let mut sink = VecSink::new(10);
    let out = conn.execute(ENDLESS, &mut sink).unwrap();
    assert!(out.truncated);
    assert_eq!(out.rows_returned, 10);
    assert_eq!(sink.rows.last(), Some(&vec![Cell::Int(10)]));
    assert_eq!(
        query(conn.as_mut(), "SELECT 7").rows,
        vec![vec![Cell::Int(7)]]
    );
}

#[test]
fn a_syntax_error_carries_the_sqlite_code_name_and_message() {
    let (_dir, mut conn) = open();
    let err = conn.execute("SELEC 1", &mut VecSink::new(1)).unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Statement, Some("SQLITE_ERROR"))
    );
    assert!(
        err.message.contains("near \"SELEC\": syntax error"),
        "{}",
        err.message
    );
    exec(conn.as_mut(), "CREATE TABLE u (id INTEGER PRIMARY KEY)");
    exec(conn.as_mut(), "INSERT INTO u VALUES (1)");
    let err = conn
        .execute("INSERT INTO u VALUES (1)", &mut VecSink::new(0))
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("SQLITE_CONSTRAINT_PRIMARYKEY"));
}

#[test]
fn a_long_computation_beyond_the_statement_timeout_fails_quickly_as_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec(&dir.path().join("t.db"));
    s.statement_timeout = Some(Duration::from_secs(1));
    let mut conn = connectors::connect(&s).unwrap();
    let started = Instant::now();
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c";
    let err = conn.execute(sql, &mut VecSink::new(1)).unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Timeout, Some("SQLITE_INTERRUPT"))
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(
        query(conn.as_mut(), "SELECT 1").rows.len(),
        1,
        "the next statement gets a fresh deadline"
    );
}

/// Tells the test thread when the first row arrived, then keeps accepting rows.
struct Signalling(Option<mpsc::Sender<()>>);

impl RowSink for Signalling {
    fn columns(&mut self, _: &[connectors::Column]) {}
    fn row(&mut self, _: Vec<Cell>) -> bool {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
        true
    }
}

#[test]
fn an_interrupt_from_another_thread_cancels_a_running_recursive_cte() {
    let (_dir, mut conn) = open();
    let canceller = conn.canceller();
    let (started_tx, started_rx) = mpsc::channel();
    let (ended_tx, ended_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let r = conn.execute(ENDLESS, &mut Signalling(Some(started_tx)));
        ended_tx.send(Instant::now()).unwrap();
        r
    });
    started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let cancelled_at = Instant::now();
    canceller.cancel().unwrap();
    let ended_at = ended_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let err = worker.join().unwrap().unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Cancelled, Some("SQLITE_INTERRUPT"))
    );
    assert!(ended_at - cancelled_at < Duration::from_secs(2));
}

#[test]
fn a_read_only_transaction_refuses_an_insert_and_rollback_restores_writes() {
    let (_dir, mut conn) = open();
    let c = conn.as_mut();
    exec(c, "CREATE TABLE t (id INTEGER)");
    exec(c, "INSERT INTO t VALUES (1)");
    c.begin_read_only().unwrap();
    let err = c
        .execute("INSERT INTO t VALUES (2)", &mut VecSink::new(0))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Statement, Some("SQLITE_READONLY"))
    );
    c.rollback().unwrap();
    assert_eq!(query(c, "SELECT count(*) FROM t").rows[0][0], Cell::Int(1));
    assert_eq!(
        exec(c, "INSERT INTO t VALUES (3)").rows_affected,
        Some(1),
        "query_only is off again"
    );
}

#[test]
fn a_missing_file_in_read_write_mode_is_a_connect_error_and_a_bad_mode_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec(&dir.path().join("absent.db"));
    s.options.insert("mode".into(), "read_write".into());
    let err = connectors::connect(&s).err().unwrap();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Connect, Some("SQLITE_CANTOPEN"))
    );
    assert!(!dir.path().join("absent.db").exists());
    s.options.insert("mode".into(), "rw".into());
    assert_eq!(
        connectors::connect(&s).err().unwrap().kind,
        DbErrorKind::Config
    );
}

// Issue 8, finding 1: the connection itself refuses to reach any file but its own.

/// The error of a statement that must be refused, and proof it did not run.
fn refused(conn: &mut dyn TargetConnection, sql: &str) -> String {
    match conn.execute(sql, &mut VecSink::new(10)) {
        Ok(out) => panic!("{sql} ran: {out:?}"),
        Err(e) => e.message,
    }
}

#[test]
fn attach_and_detach_are_refused_by_the_connection_and_create_no_file() {
    let (dir, mut conn) = open();
    let other = dir.path().join("other.db");
    let c = conn.as_mut();
    for sql in [
        format!("ATTACH DATABASE '{}' AS other", other.display()),
        format!("ATTACH 'file:{}?mode=rwc' AS other", other.display()),
        "ATTACH ':memory:' AS mem".to_string(),
        "ATTACH '' AS tmp".to_string(),
        "DETACH DATABASE temp".to_string(),
    ] {
        let message = refused(c, &sql);
        assert!(message.contains("own file"), "{sql}: {message}");
    }
    assert!(!other.exists(), "no file was created");
    // ATTACH as an expression, inside a transaction, is refused the same way.
    c.begin().unwrap();
    refused(c, &format!("ATTACH '{}' || '' AS x", other.display()));
    c.rollback().unwrap();
    assert!(!other.exists());
    let names = query(c, "SELECT name FROM pragma_database_list").rows;
    assert!(
        names.iter().all(|r| r[0] != Cell::Text("x".into())),
        "{names:?}"
    );
}

#[test]
fn vacuum_into_another_file_is_refused_and_writes_nothing() {
    let (dir, mut conn) = open();
    let c = conn.as_mut();
    exec(c, "CREATE TABLE t (x)");
    exec(c, "INSERT INTO t VALUES (1)");
    let copy = dir.path().join("copy.db");
    let message = refused(c, &format!("VACUUM INTO '{}'", copy.display()));
    assert!(
        message.contains("ATTACH") || message.contains("VACUUM"),
        "{message}"
    );
    assert!(!copy.exists(), "no copy was written");
    assert_eq!(query(c, "SELECT x FROM t").rows, [[Cell::Int(1)]]);
    // SQLite vacuums through an ATTACH of its own: a plain VACUUM is refused too.
    assert!(refused(c, "VACUUM").contains("VACUUM"));
}

#[test]
fn extension_loading_and_file_reaching_functions_are_refused() {
    let (_dir, mut conn) = open();
    let c = conn.as_mut();
    for sql in [
        "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libc.so.6')",
        "SELECT load_extension('/tmp/evil', 'init')",
        "SELECT fts3_tokenizer('simple')",
        "SELECT readfile('/etc/passwd')",
        "SELECT writefile('/tmp/autodb-pwned', 'x')",
    ] {
        let message = refused(c, sql);
        assert!(!message.is_empty(), "{sql}");
    }
    assert!(!std::path::Path::new("/tmp/autodb-pwned").exists());
}

#[test]
fn pragmas_that_reach_files_or_loosen_safety_are_refused() {
    let (_dir, mut conn) = open();
    let c = conn.as_mut();
    exec(c, "CREATE TABLE t (x)");
    for sql in [
        "PRAGMA temp_store_directory = '/tmp'",
        "PRAGMA data_store_directory = '/tmp'",
        "PRAGMA writable_schema = ON",
        "PRAGMA trusted_schema = ON",
        "PRAGMA hard_heap_limit = 1",
        "PRAGMA soft_heap_limit = 1",
    ] {
        refused(c, sql);
    }
    // The defensive flag holds even where a pragma would get through.
    assert_eq!(query(c, "PRAGMA trusted_schema").rows, [[Cell::Int(0)]]);
    refused(c, "UPDATE sqlite_master SET sql = 'CREATE TABLE t (y)'");
    // Ordinary pragmas of the target's own file still work.
    exec(c, "PRAGMA journal_mode = WAL");
    exec(c, "PRAGMA user_version = 7");
    assert_eq!(query(c, "PRAGMA user_version").rows, [[Cell::Int(7)]]);
    assert_eq!(
        query(c, "SELECT count(*) FROM pragma_table_info('t')").rows,
        [[Cell::Int(1)]]
    );
}

#[test]
fn a_read_only_transaction_cannot_be_made_writable_from_inside() {
    let (_dir, mut conn) = open();
    let c = conn.as_mut();
    exec(c, "CREATE TABLE t (x)");
    c.begin_read_only().unwrap();
    refused(c, "PRAGMA query_only = OFF");
    refused(c, "INSERT INTO t VALUES (1)");
    c.rollback().unwrap();
    exec(c, "INSERT INTO t VALUES (1)");
}

#[test]
fn only_an_absolute_path_without_symbolic_links_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.db");
    connectors::connect(&spec(&real)).unwrap();
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let folder = dir.path().join("folder");
    std::os::unix::fs::symlink(dir.path(), &folder).unwrap();
    for path in [
        link.clone(),
        folder.join("real.db"),
        folder.join("new.db"),
        dir.path().join("sub/../real.db"),
        std::path::PathBuf::from("relative.db"),
        std::path::PathBuf::from(format!("file:{}", real.display())),
    ] {
        let err = connectors::connect(&spec(&path)).err().unwrap_or_else(|| {
            panic!("{} opened", path.display());
        });
        assert_eq!(err.kind, DbErrorKind::Config, "{}: {err:?}", path.display());
    }
    assert!(!dir.path().join("new.db").exists());
}
