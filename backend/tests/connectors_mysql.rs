//! The MySQL/MariaDB connector against the real MariaDB on 127.0.0.1:3306 (root, empty
//! password). Tests that write make their own database `autodb_conn_<random>` (and, for the
//! login test, their own user) and drop them at the end.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use autodb::connectors::{
    self, Cell, ConnectSpec, DbErrorKind, Engine, ExecOutcome, TargetConnection, VecSink,
};

const HOST: &str = "127.0.0.1";
const PORT: u16 = 3306;

fn spec(database: &str) -> ConnectSpec {
    ConnectSpec {
        engine: Engine::Mysql,
        host: HOST.into(),
        port: PORT,
        database: database.into(),
        username: "root".into(),
        password: String::new().into(),
        options: serde_json::Map::new(),
        connect_timeout: Duration::from_secs(5),
        statement_timeout: None,
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    )
}

/// A fresh database, dropped when the test ends, pass or fail.
struct TempDb {
    name: String,
}

impl TempDb {
    fn new() -> Self {
        let name = unique("autodb_conn");
        let mut admin = connectors::connect(&spec("")).unwrap();
        exec(admin.as_mut(), &format!("CREATE DATABASE {name}"));
        TempDb { name }
    }

    fn connect(&self) -> Box<dyn TargetConnection> {
        connectors::connect(&spec(&self.name)).unwrap()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = connectors::connect(&spec("")) {
            let _ = admin.execute(
                &format!("DROP DATABASE IF EXISTS {}", self.name),
                &mut VecSink::new(0),
            );
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
fn probe_reports_the_mariadb_version_and_a_round_trip() {
    let (version, rtt) = connectors::probe(&spec("test")).unwrap();
    assert!(version.contains("MariaDB"), "{version}");
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
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
        exec(c, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))").rows_affected,
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
    let db = TempDb::new();
    let mut conn = db.connect();
    let c = conn.as_mut();
    exec(
        c,
        "CREATE TABLE t (n VARCHAR(5), e VARCHAR(5), i INT, big BIGINT UNSIGNED, d DECIMAL(30,6),
                         f DOUBLE, b BOOLEAN, dt DATE, ts DATETIME(1), bin BLOB, j JSON, txt TEXT)",
    );
    exec(
        c,
        r#"INSERT INTO t VALUES (NULL, '', 42, 18446744073709551615, 12345678901234567890.000100,
                                 1.5, TRUE, '2024-02-29', '2024-02-29 13:14:15.5', x'DEADBEEF',
                                 '{"a": [1, null]}', 'long text')"#,
    );
    let sink = query(c, "SELECT * FROM t");
    let types: Vec<&str> = sink.columns.iter().map(|c| c.type_name.as_str()).collect();
    // MariaDB: BOOLEAN is TINYINT(1) and JSON is LONGTEXT on the wire.
    assert_eq!(
        types,
        [
            "VARCHAR",
            "VARCHAR",
            "INT",
            "BIGINT UNSIGNED",
            "DECIMAL",
            "DOUBLE",
            "TINYINT",
            "DATE",
            "DATETIME",
            "BLOB",
            "TEXT",
            "TEXT"
        ]
    );
    assert_eq!(
        sink.rows[0],
        vec![
            Cell::Null,
            Cell::Text(String::new()),
            Cell::Int(42),
            Cell::Decimal("18446744073709551615".into()),
            Cell::Decimal("12345678901234567890.000100".into()),
            Cell::Float(1.5),
            Cell::Int(1),
            Cell::Date("2024-02-29".into()),
            Cell::Timestamp("2024-02-29T13:14:15.5".into()),
            Cell::Bytes("deadbeef".into()),
            Cell::Text(r#"{"a": [1, null]}"#.into()),
            Cell::Text("long text".into()),
        ]
    );
}

#[test]
fn a_sink_limit_truncates_and_the_connection_stays_usable() {
    let mut conn = connectors::connect(&spec("test")).unwrap();
    let many = "SELECT seq FROM seq_1_to_100000";
    let mut sink = VecSink::new(10);
    let out = conn.execute(many, &mut sink).unwrap();
    assert!(out.truncated);
    assert_eq!(out.rows_returned, 10);
    assert_eq!(sink.rows.last(), Some(&vec![Cell::Int(10)]));
    let exact = conn
        .execute("SELECT seq FROM seq_1_to_10", &mut VecSink::new(10))
        .unwrap();
    assert!(!exact.truncated, "exactly the limit is not truncated");
    assert_eq!(
        query(conn.as_mut(), "SELECT 7").rows,
        vec![vec![Cell::Int(7)]]
    );
}

#[test]
fn a_syntax_error_carries_error_1064_and_the_server_message() {
    let mut conn = connectors::connect(&spec("test")).unwrap();
    let err = conn.execute("SELEC 1", &mut VecSink::new(1)).unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Statement, Some("1064"))
    );
    assert!(
        err.message.contains("You have an error in your SQL syntax"),
        "{}",
        err.message
    );
    assert!(err.message.contains("near 'SELEC 1'"), "{}", err.message);
}

#[test]
fn a_sleep_beyond_the_statement_timeout_fails_quickly_as_timeout() {
    let mut s = spec("test");
    s.statement_timeout = Some(Duration::from_secs(1));
    let mut conn = connectors::connect(&s).unwrap();
    let started = Instant::now();
    let err = conn
        .execute("SELECT SLEEP(5)", &mut VecSink::new(1))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Timeout, Some("1969"))
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
fn a_running_sleep_is_killed_from_another_thread() {
    let marker = unique("autodb_cancel");
    let mut conn = connectors::connect(&spec("test")).unwrap();
    let canceller = conn.canceller();
    let sql = format!("SELECT SLEEP(30) AS {marker}");
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let r = conn.execute(&sql, &mut VecSink::new(1));
        tx.send(Instant::now()).unwrap();
        r
    });
    let mut watcher = connectors::connect(&spec("test")).unwrap();
    let seen = format!(
        "SELECT COUNT(*) FROM information_schema.processlist WHERE command = 'Query' AND info LIKE '%AS {marker}'"
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
        (DbErrorKind::Cancelled, Some("1317"))
    );
    assert!(ended_at - cancelled_at < Duration::from_secs(2));
}

#[test]
fn a_wrong_password_is_refused_as_auth_with_access_denied() {
    let user = unique("autodb_u");
    let mut admin = connectors::connect(&spec("")).unwrap();
    exec(
        admin.as_mut(),
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'right-password'"),
    );
    let mut s = spec("");
    s.username = user.clone();
    s.password = "wrong-password".to_string().into();
    let refused = connectors::connect(&s).err();
    s.password = "right-password".to_string().into();
    let accepted = connectors::connect(&s).is_ok();
    exec(admin.as_mut(), &format!("DROP USER '{user}'@'%'"));
    let err = refused.unwrap();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Auth, Some("1045"))
    );
    assert!(
        err.message
            .contains(&format!("Access denied for user '{user}'")),
        "{}",
        err.message
    );
    assert!(!err.message.contains("wrong-password"));
    assert!(
        accepted,
        "the right password works, so the refusal was about the password"
    );
}

#[test]
fn an_unknown_database_is_a_connect_error_with_error_1049() {
    let err = connectors::connect(&spec("autodb_no_such_database"))
        .err()
        .unwrap();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Connect, Some("1049"))
    );
    assert!(err.message.contains("Unknown database"), "{}", err.message);
}

#[test]
fn a_closed_port_is_a_connect_error() {
    let port = TcpListener::bind((HOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = spec("test");
    s.port = port; // the listener is dropped: nothing listens there now
    let err = connectors::connect(&s).err().unwrap();
    assert_eq!(err.kind, DbErrorKind::Connect);
    assert!(
        err.message.to_lowercase().contains("refused"),
        "{}",
        err.message
    );
}

#[test]
fn a_silent_listener_is_given_up_on_at_the_connect_timeout() {
    // The kernel accepts the TCP connection into the backlog; no greeting ever comes.
    let listener = TcpListener::bind((HOST, 0)).unwrap();
    let mut s = spec("test");
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
    exec(c, "CREATE TABLE t (id INT) ENGINE=InnoDB");
    exec(c, "INSERT INTO t VALUES (1)");
    c.begin_read_only().unwrap();
    let err = c
        .execute("INSERT INTO t VALUES (2)", &mut VecSink::new(0))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Statement, Some("1792"))
    );
    c.rollback().unwrap();
    assert_eq!(query(c, "SELECT COUNT(*) FROM t").rows[0][0], Cell::Int(1));
    c.begin().unwrap();
    exec(c, "INSERT INTO t VALUES (3)");
    c.rollback().unwrap();
    assert_eq!(query(c, "SELECT COUNT(*) FROM t").rows[0][0], Cell::Int(1));
}

#[test]
fn warnings_are_captured_as_notices() {
    let mut conn = connectors::connect(&spec("test")).unwrap();
    let out = conn
        .execute("SELECT 1/0 AS x", &mut VecSink::new(1))
        .unwrap();
    assert_eq!(out.notices, vec!["Warning 1365: Division by 0".to_string()]);
    assert!(exec(conn.as_mut(), "SELECT 1").notices.is_empty());
}

#[test]
fn a_procedure_body_is_one_statement_and_its_result_sets_all_reach_the_sink() {
    let db = TempDb::new();
    let mut conn = db.connect();
    let c = conn.as_mut();
    exec(
        c,
        "CREATE PROCEDURE two_sets() BEGIN SELECT 1 AS a; SELECT 'x' AS b UNION ALL SELECT 'y'; END",
    );
    let mut sink = VecSink::new(10);
    let out = c.execute("CALL two_sets()", &mut sink).unwrap();
    assert_eq!(out.rows_returned, 3);
    assert_eq!(
        sink.rows,
        vec![
            vec![Cell::Int(1)],
            vec![Cell::Text("x".into())],
            vec![Cell::Text("y".into())]
        ]
    );
    assert_eq!(
        sink.column_names(),
        ["b"],
        "the sink saw the second set's header last"
    );
}

#[test]
fn an_ssl_mode_that_cannot_be_honoured_is_a_config_error() {
    let mut s = spec("test");
    s.options
        .insert("ssl_mode".into(), "VERIFY_IDENTITY".into());
    assert_eq!(
        connectors::connect(&s).err().unwrap().kind,
        DbErrorKind::Config
    );
    let mut s = spec("test");
    s.options.insert("sslmode".into(), "disabled".into());
    let err = connectors::connect(&s).err().unwrap();
    assert!(
        err.kind == DbErrorKind::Config && err.message.contains("\"sslmode\""),
        "{err}"
    );
}

#[test]
fn warnings_past_the_limits_are_counted_not_kept() {
    let mut conn = connectors::connect(&spec("test")).unwrap();
    conn.set_notice_limits(autodb::connectors::NoticeLimits {
        max_count: 2,
        max_bytes: 1 << 20,
    });
    let out = conn
        .execute("SELECT 1/0 AS x FROM seq_1_to_5", &mut VecSink::new(10))
        .unwrap();
    assert_eq!(out.notices.len(), 2, "{:?}", out.notices);
    assert_eq!(out.notices_dropped, 3);
}

#[test]
fn a_read_only_query_reaches_the_server_exactly_as_typed() {
    let db = TempDb::new();
    let mut conn = db.connect();
    let c = conn.as_mut();
    exec(c, "CREATE TABLE t (note VARCHAR(40))");
    exec(c, "INSERT INTO t VALUES ('a:b')");
    c.begin_read_only().unwrap();
    let sink = query(
        c,
        "SELECT ':note' AS v, CAST(note AS CHAR(20)) AS w /* ::x :y */ FROM t WHERE @a:=1",
    );
    assert_eq!(
        sink.rows,
        vec![vec![Cell::Text(":note".into()), Cell::Text("a:b".into())]]
    );
    // MariaDB has no `::` cast: its error quotes the text as typed, not a rewritten `:?(20)`.
    let err = c
        .execute("SELECT note::varchar(20) FROM t", &mut VecSink::new(1))
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Statement, Some("1064")),
        "{err}"
    );
    assert!(
        err.message.contains("near '::varchar(20) FROM t'"),
        "{}",
        err.message
    );
    // `?` beside `:a` is a server syntax error, not a driver complaint about mixed parameters.
    let err = c
        .execute("SELECT ? AS q, :a", &mut VecSink::new(1))
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("1064"), "{err}");
    assert!(err.message.contains("near ':a'"), "{}", err.message);
    // Several statements in one text are still refused before any runs.
    let err = c
        .execute("SELECT 1; SELECT ':x'", &mut VecSink::new(1))
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("1064"), "{err}");
    c.rollback().unwrap();
}
