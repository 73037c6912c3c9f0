//! The PostgreSQL connector against the real server on 127.0.0.1:5432 (trust auth). Each test
//! that writes makes its own database `autodb_conn_<random>` and drops it, so tests run in
//! parallel and repeat cleanly.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use autodb::connectors::{
    self, Cell, ConnectSpec, DbErrorKind, Engine, ExecOutcome, TargetConnection, VecSink,
};

const HOST: &str = "127.0.0.1";
const PORT: u16 = 5432;

fn spec(database: &str) -> ConnectSpec {
    ConnectSpec {
        engine: Engine::Postgres,
        host: HOST.into(),
        port: PORT,
        database: database.into(),
        username: "postgres".into(),
        password: String::new().into(),
        options: serde_json::Map::new(),
        connect_timeout: Duration::from_secs(5),
        statement_timeout: None,
    }
}

/// A fresh database, dropped (with its sessions) when the test ends, pass or fail.
struct TempDb {
    name: String,
}

impl TempDb {
    fn new() -> Self {
        let name = format!("autodb_conn_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connectors::connect(&spec("postgres")).unwrap();
        exec(admin.as_mut(), &format!("CREATE DATABASE {name}"));
        TempDb { name }
    }

    fn spec(&self) -> ConnectSpec {
        spec(&self.name)
    }

    fn connect(&self) -> Box<dyn TargetConnection> {
        connectors::connect(&self.spec()).unwrap()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = connectors::connect(&spec("postgres")) {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = admin.execute(&sql, &mut VecSink::new(0));
        }
    }
}

fn exec(conn: &mut dyn TargetConnection, sql: &str) -> ExecOutcome {
    conn.execute(sql, &mut VecSink::new(0)).unwrap()
}

fn query(conn: &mut dyn TargetConnection, sql: &str) -> VecSink {
    let mut sink = VecSink::new(1000);
    conn.execute(sql, &mut sink).unwrap();
    sink
}

#[test]
fn probe_reports_the_postgresql_version_and_a_round_trip() {
    let (version, rtt) = connectors::probe(&spec("postgres")).unwrap();
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    let shown = query(conn.as_mut(), "SHOW server_version");
    let Cell::Text(number) = &shown.rows[0][0] else {
        panic!("{:?}", shown.rows)
    };
    assert!(
        version.starts_with(&format!("PostgreSQL {number}")),
        "{version}"
    );
    assert!(rtt < Duration::from_secs(2), "{rtt:?}");
}

#[test]
fn ddl_and_dml_report_the_rows_they_affected() {
    let db = TempDb::new();
    let mut conn = db.connect();
    let c = conn.as_mut();
    assert_eq!(
        exec(c, "CREATE TABLE t (id int PRIMARY KEY, v text)").rows_affected,
        Some(0)
    );
    assert_eq!(
        exec(c, "INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c')").rows_affected,
        Some(3)
    );
    assert_eq!(
        exec(c, "UPDATE t SET v = 'z' WHERE id >= 2").rows_affected,
        Some(2)
    );
    assert_eq!(exec(c, "DELETE FROM t WHERE id = 1").rows_affected, Some(1));
    let sel = c
        .execute("SELECT * FROM t ORDER BY id", &mut VecSink::new(10))
        .unwrap();
    assert_eq!(
        (sel.rows_affected, sel.rows_returned, sel.truncated),
        (None, 2, false)
    );
}

#[test]
fn a_result_set_arrives_as_typed_cells() {
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    exec(conn.as_mut(), "SET TIME ZONE 'UTC'");
    let sink = query(
        conn.as_mut(),
        r#"SELECT NULL::text AS n, ''::text AS empty, 42 AS i, 9007199254740993::int8 AS big,
                  12345678901234567890.000100::numeric AS dec, 1.5::float8 AS f, true AS b,
                  date '2024-02-29' AS d, timestamp '2024-02-29 13:14:15.5' AS ts,
                  timestamptz '2024-02-29 13:14:15+02' AS tstz, '\xdeadbeef'::bytea AS bin,
                  '{"id": 12345678901234567890123, "a": [1, null]}'::jsonb AS j, ARRAY[1,2] AS arr, interval '1 day 2 hours' AS iv,
                  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u"#,
    );
    let types: Vec<&str> = sink.columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(
        types,
        [
            "text",
            "text",
            "int4",
            "int8",
            "numeric",
            "float8",
            "bool",
            "date",
            "timestamp",
            "timestamptz",
            "bytea",
            "jsonb",
            "_int4",
            "interval",
            "uuid"
        ]
    );
    assert_eq!(sink.column_names()[..3], ["n", "empty", "i"]);
    assert_eq!(
        sink.rows[0],
        vec![
            Cell::Null,
            Cell::Text(String::new()),
            Cell::Int(42),
            Cell::Int(9007199254740993),
            Cell::Decimal("12345678901234567890.000100".into()),
            Cell::Float(1.5),
            Cell::Bool(true),
            Cell::Date("2024-02-29".into()),
            Cell::Timestamp("2024-02-29T13:14:15.5".into()),
            Cell::TimestampTz("2024-02-29T11:14:15+00:00".into()),
            Cell::Bytes("deadbeef".into()),
            // The server's text: no digit of the id is lost (jsonb orders the keys).
            Cell::Json(r#"{"a": [1, null], "id": 12345678901234567890123}"#.into()),
            Cell::Text("{1,2}".into()),
            Cell::Text("1 day 02:00:00".into()),
            Cell::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()),
        ]
    );
}

#[test]
fn a_sink_limit_truncates_and_the_connection_stays_usable() {
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    let mut sink = VecSink::new(10);
    let out = conn
        .execute("SELECT g FROM generate_series(1, 100000) g", &mut sink)
        .unwrap();
    assert!(out.truncated);
    assert_eq!(out.rows_returned, 10);
    assert_eq!(sink.rows.last(), Some(&vec![Cell::Int(10)]));
    let exact = conn
        .execute(
            "SELECT g FROM generate_series(1, 10) g",
            &mut VecSink::new(10),
        )
        .unwrap();
    assert!(!exact.truncated, "exactly the limit is not truncated");
    assert_eq!(
        query(conn.as_mut(), "SELECT 7").rows,
        vec![vec![Cell::Int(7)]]
    );
}

#[test]
fn a_syntax_error_carries_sqlstate_42601_and_the_server_message() {
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    let err = conn.execute("SELEC 1", &mut VecSink::new(1)).unwrap_err();
    assert_eq!(err.kind, DbErrorKind::Statement);
    assert_eq!(err.code.as_deref(), Some("42601"));
    assert!(
        err.message.contains("syntax error at or near \"SELEC\""),
        "{}",
        err.message
    );
    assert!(err.to_string().starts_with("42601: syntax error"));
}

#[test]
fn a_pg_sleep_beyond_the_statement_timeout_fails_quickly_as_timeout() {
    let mut s = spec("postgres");
    s.statement_timeout = Some(Duration::from_secs(1));
    let mut conn = connectors::connect(&s).unwrap();
    let started = Instant::now();
    let err = conn
        .execute("SELECT pg_sleep(5)", &mut VecSink::new(1))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Timeout, Some("57014"))
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        query(conn.as_mut(), "SELECT 1").rows.len(),
        1,
        "the session survives"
    );
}

#[test]
fn a_running_pg_sleep_is_cancelled_from_another_thread() {
    let marker = format!("autodb_cancel_{}", uuid::Uuid::new_v4().simple());
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    let canceller = conn.canceller();
    let sql = format!("SELECT pg_sleep(30) AS {marker}");
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let r = conn.execute(&sql, &mut VecSink::new(1));
        tx.send(Instant::now()).unwrap();
        r
    });
    let mut watcher = connectors::connect(&spec("postgres")).unwrap();
    let seen = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%AS {marker}'"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while query(watcher.as_mut(), &seen).rows[0][0] != Cell::Int(1) {
        assert!(
            Instant::now() < deadline,
            "the statement never showed up as running"
        );
    }
    let cancelled_at = Instant::now();
    canceller.cancel().unwrap();
    let ended_at = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let err = worker.join().unwrap().unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Cancelled, Some("57014"))
    );
    assert!(ended_at - cancelled_at < Duration::from_secs(2));
}

#[test]
fn a_role_that_does_not_exist_is_refused_as_auth_with_the_server_message() {
    let mut s = spec("postgres");
    s.username = "autodb_no_such_role".into();
    let err = connectors::connect(&s).err().unwrap();
    assert_eq!(err.kind, DbErrorKind::Auth);
    assert_eq!(err.code.as_deref(), Some("28000"));
    assert!(
        err.message
            .contains("\"autodb_no_such_role\" does not exist"),
        "{}",
        err.message
    );
}

#[test]
fn an_unknown_database_is_a_connect_error_with_sqlstate_3d000() {
    let err = connectors::connect(&spec("autodb_no_such_database"))
        .err()
        .unwrap();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Connect, Some("3D000"))
    );
    assert!(err.message.contains("does not exist"));
}

#[test]
fn a_closed_port_is_a_connect_error() {
    let port = TcpListener::bind((HOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = spec("postgres");
    s.port = port; // the listener is dropped: nothing listens there now
    let err = connectors::connect(&s).err().unwrap();
    assert_eq!(err.kind, DbErrorKind::Connect);
    assert!(err.message.contains("refused"), "{}", err.message);
}

#[test]
fn a_silent_listener_is_given_up_on_at_the_connect_timeout() {
    // The kernel accepts the TCP connection into the backlog; nobody ever answers the startup.
    let listener = TcpListener::bind((HOST, 0)).unwrap();
    let mut s = spec("postgres");
    s.port = listener.local_addr().unwrap().port();
    s.connect_timeout = Duration::from_secs(1);
    let started = Instant::now();
    let err = connectors::connect(&s).err().unwrap();
    let took = started.elapsed();
    assert_eq!(err.kind, DbErrorKind::Connect);
    assert!(err.message.contains("connect timeout"), "{}", err.message);
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[test]
fn a_read_only_transaction_refuses_an_insert_and_rollback_leaves_data_unchanged() {
    let db = TempDb::new();
    let mut conn = db.connect();
    let c = conn.as_mut();
    exec(c, "CREATE TABLE t (id int)");
    exec(c, "INSERT INTO t VALUES (1)");
    c.begin_read_only().unwrap();
    let err = c
        .execute("INSERT INTO t VALUES (2)", &mut VecSink::new(0))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Statement, Some("25006"))
    );
    c.rollback().unwrap();
    assert_eq!(query(c, "SELECT count(*) FROM t").rows[0][0], Cell::Int(1));
    // Committing a transaction an error aborted is reported, not silently rolled back.
    c.begin().unwrap();
    exec(c, "INSERT INTO t VALUES (3)");
    assert!(c.execute("SELECT 1/0", &mut VecSink::new(1)).is_err());
    let err = c.commit().unwrap_err();
    assert_eq!(err.code.as_deref(), Some("25P02"));
    assert_eq!(query(c, "SELECT count(*) FROM t").rows[0][0], Cell::Int(1));
}

#[test]
fn raise_notice_in_a_do_block_is_captured() {
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    let out = exec(
        conn.as_mut(),
        "DO $$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful'; END $$",
    );
    assert_eq!(
        out.notices,
        vec![
            "NOTICE: hello 42".to_string(),
            "WARNING: careful".to_string()
        ]
    );
    assert!(
        exec(conn.as_mut(), "SELECT 1").notices.is_empty(),
        "notices belong to one statement"
    );
}

#[test]
fn function_bodies_and_vacuum_run_as_single_statements() {
    let db = TempDb::new();
    let mut conn = db.connect();
    let c = conn.as_mut();
    exec(c, "CREATE TABLE t (id int)");
    exec(
        c,
        "CREATE FUNCTION add_one(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x + 1; END; $$",
    );
    exec(c, "VACUUM ANALYZE t");
    assert_eq!(query(c, "SELECT add_one(41)").rows[0][0], Cell::Int(42));
}

#[test]
fn unknown_options_and_sslmodes_that_cannot_be_honoured_are_config_errors() {
    let mut s = spec("postgres");
    s.options.insert("sslmod".into(), "disable".into());
    let err = connectors::connect(&s).err().unwrap();
    assert_eq!(err.kind, DbErrorKind::Config);
    assert!(err.message.contains("\"sslmod\""), "{}", err.message);
    let mut s = spec("postgres");
    s.options.insert("sslmode".into(), "verify-full".into());
    assert_eq!(
        connectors::connect(&s).err().unwrap().kind,
        DbErrorKind::Config
    );
    s.options.insert("sslmode".into(), "disable".into());
    assert!(connectors::connect(&s).is_ok());
}

#[test]
fn two_statements_in_one_call_still_run_with_their_values_as_text() {
    // The contract is one statement per call; a splitter slip must not fail a whole script.
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    let mut sink = VecSink::new(10);
    let out = conn
        .execute("SELECT 1 AS a; SELECT 2 AS b", &mut sink)
        .unwrap();
    assert_eq!(out.rows_returned, 2);
    assert_eq!(
        sink.rows,
        vec![vec![Cell::Text("1".into())], vec![Cell::Text("2".into())]]
    );
}

#[test]
fn copy_from_stdin_is_refused_and_the_session_stays_usable() {
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    exec(conn.as_mut(), "CREATE TEMP TABLE x (a int)");
    let err = conn
        .execute("/* load */ COPY x FROM STDIN", &mut VecSink::new(0))
        .unwrap_err();
    assert_eq!(err.kind, DbErrorKind::Statement);
    assert!(err.message.contains("COPY FROM STDIN"), "{}", err.message);
    assert_eq!(
        query(conn.as_mut(), "SELECT count(*) FROM x").rows[0][0],
        Cell::Int(0)
    );
}

#[test]
fn in_a_read_only_transaction_a_lifted_time_limit_is_set_again_before_the_next_statement() {
    let mut s = spec("postgres");
    s.statement_timeout = Some(Duration::from_secs(1));
    let mut conn = connectors::connect(&s).unwrap();
    conn.begin_read_only().unwrap();
    // The connector runs what it is given: this is the runner's layer, not the classifier's.
    exec(
        conn.as_mut(),
        "SELECT set_config('statement_timeout', '0', false)",
    );
    let started = Instant::now();
    let err = conn
        .execute("SELECT pg_sleep(6)", &mut VecSink::new(1))
        .unwrap_err();
    assert_eq!(err.kind, DbErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    conn.rollback().unwrap();
}

/// Forwards one client to PostgreSQL; once `mute` is set, the server's answers are swallowed,
/// as from a server (or network) that has stopped answering.
fn muting_proxy() -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let listener = TcpListener::bind((HOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mute = Arc::new(AtomicBool::new(false));
    let muted = mute.clone();
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect((HOST, PORT)) else {
                return;
            };
            let pipe = |mut from: TcpStream, mut to: TcpStream, gate: Option<Arc<AtomicBool>>| {
                thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if gate.as_ref().is_some_and(|g| g.load(Ordering::SeqCst)) {
                            continue;
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            };
            pipe(
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                None,
            );
            pipe(server, client, Some(muted.clone()));
        }
    });
    (port, mute)
}

#[test]
fn a_read_only_statement_ends_near_its_limit_even_when_the_server_never_answers() {
    let (port, mute) = muting_proxy();
    let mut s = spec("postgres");
    s.port = port;
    s.statement_timeout = Some(Duration::from_secs(1));
    let mut conn = connectors::connect(&s).unwrap();
    conn.begin_read_only().unwrap();
    mute.store(true, std::sync::atomic::Ordering::SeqCst);
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    thread::spawn(move || {
        let r = conn.execute("SELECT pg_sleep(1)", &mut VecSink::new(1));
        let _ = tx.send((r.map(|_| ()), started.elapsed()));
        drop(conn);
    });
    let (result, took) = rx
        .recv_timeout(Duration::from_secs(15))
        .expect("the statement did not end: there is no client-side deadline");
    let err = result.unwrap_err();
    assert_eq!(err.kind, DbErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn notices_past_the_limits_are_counted_not_kept() {
    let mut conn = connectors::connect(&spec("postgres")).unwrap();
    conn.set_notice_limits(autodb::connectors::NoticeLimits {
        max_count: 10,
        max_bytes: 1 << 20,
    });
    let out = exec(
        conn.as_mut(),
        "DO $$ BEGIN FOR i IN 1..50 LOOP RAISE NOTICE 'n%', i; END LOOP; END $$",
    );
    assert_eq!(out.notices.len(), 10);
    assert_eq!(out.notices[9], "NOTICE: n10");
    assert_eq!(out.notices_dropped, 40);
    assert!(out.notices_dropped_bytes >= 40 * "NOTICE: n11".len() as u64);
    // The limits stay for the connection's next statements.
    let again = exec(
        conn.as_mut(),
        "DO $$ BEGIN FOR i IN 1..12 LOOP RAISE NOTICE 'n%', i; END LOOP; END $$",
    );
    assert_eq!((again.notices.len(), again.notices_dropped), (10, 2));
}
