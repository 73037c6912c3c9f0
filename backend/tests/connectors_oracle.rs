//! The Oracle connector. No Oracle server (nor client library) exists on the development
//! machines, so:
//! - one test checks what happens here: without Oracle Instant Client, `connect` returns kind
//!   ClientMissing with install instructions (not a panic);
//! - the live tests run only when `AUTODB_TEST_ORACLE_URL` is set
//!   (`oracle://user:password@host:port/service`) and print that they were skipped otherwise.
//!   The user needs CREATE TABLE, and SELECT on V$SESSION and V$SQL for the cancel test.
//!
//! The pure logic (type mapping, error classification, connect strings) is unit-tested in
//! `src/connectors/oracle_values.rs`.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use autodb::connectors::{
    self, Cell, ConnectSpec, DbErrorKind, Engine, ExecOutcome, TargetConnection, VecSink,
};

const URL_VAR: &str = "AUTODB_TEST_ORACLE_URL";

/// The live target from the environment, or None (and a note on stderr) to skip.
fn live_spec(test: &str) -> Option<ConnectSpec> {
    let Ok(raw) = std::env::var(URL_VAR) else {
        eprintln!(
            "skipped {test}: set {URL_VAR}=oracle://user:password@host:port/service to run it"
        );
        return None;
    };
    let url = url::Url::parse(&raw).unwrap();
    Some(ConnectSpec {
        engine: Engine::Oracle,
        host: url.host_str().unwrap().to_string(),
        port: url.port().unwrap_or(1521),
        database: url.path().trim_start_matches('/').to_string(),
        username: url.username().to_string(),
        password: url.password().unwrap_or("").to_string().into(),
        options: serde_json::Map::new(),
        connect_timeout: Duration::from_secs(10),
        statement_timeout: None,
    })
}

/// Whether an Oracle client library can be found the way ODPI-C looks for it.
fn client_library_present() -> bool {
    let in_path = std::env::var("LD_LIBRARY_PATH")
        .unwrap_or_default()
        .split(':')
        .any(|dir| {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .any(|e| e.file_name().to_string_lossy().starts_with("libclntsh.so"))
                })
                .unwrap_or(false)
        });
    let in_cache = std::process::Command::new("ldconfig")
        .arg("-p")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("libclntsh.so"))
        .unwrap_or(false);
    in_path || in_cache
}

fn exec(conn: &mut dyn TargetConnection, sql: &str) -> ExecOutcome {
    conn.execute(sql, &mut VecSink::new(0)).unwrap()
}

fn query(conn: &mut dyn TargetConnection, sql: &str) -> VecSink {
    let mut sink = VecSink::new(1000);
    conn.execute(sql, &mut sink).unwrap();
    sink
}

fn unique_table() -> String {
    format!(
        "AUTODB_T_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
    .to_uppercase()
}

#[test]
fn without_an_oracle_client_connect_reports_client_missing_with_install_steps() {
    // A closed local port: with a client installed this must be a Connect error instead.
    let port = TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = ConnectSpec {
        engine: Engine::Oracle,
        host: "127.0.0.1".into(),
        port,
        database: "FREEPDB1".into(),
        username: "scott".into(),
        password: "tiger".to_string().into(),
        options: serde_json::Map::new(),
        connect_timeout: Duration::from_secs(5),
        statement_timeout: None,
    };
    let err = connectors::connect(&spec).err().unwrap();
    if client_library_present() {
        assert_eq!(err.kind, DbErrorKind::Connect, "{err}");
        return;
    }
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::ClientMissing, Some("DPI-1047"))
    );
    assert!(
        err.message
            .contains("Oracle Instant Client (basic or basic-light)"),
        "{}",
        err.message
    );
    assert!(err.message.contains("LD_LIBRARY_PATH") && err.message.contains("/etc/ld.so.conf.d"));
    assert!(
        err.message
            .contains("DPI-1047: Cannot locate a 64-bit Oracle Client library"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("tiger"));
}

#[test]
fn live_probe_reports_the_oracle_banner() {
    let Some(spec) = live_spec("live_probe_reports_the_oracle_banner") else {
        return;
    };
    let (version, rtt) = connectors::probe(&spec).unwrap();
    assert!(version.contains("Oracle"), "{version}");
    assert!(rtt < Duration::from_secs(5));
}

#[test]
fn live_ddl_dml_typed_cells_truncation_and_errors() {
    let Some(spec) = live_spec("live_ddl_dml_typed_cells_truncation_and_errors") else {
        return;
    };
    let mut conn = connectors::connect(&spec).unwrap();
    let c = conn.as_mut();
    let t = unique_table();
    assert_eq!(
        exec(
            c,
            &format!("CREATE TABLE {t} (id NUMBER(10), v VARCHAR2(10))")
        )
        .rows_affected,
        Some(0)
    );
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_eq!(
            exec(
                c,
                &format!("INSERT INTO {t} SELECT level, 'x' FROM dual CONNECT BY level <= 3")
            )
            .rows_affected,
            Some(3)
        );
        assert_eq!(
            exec(c, &format!("UPDATE {t} SET v = 'z' WHERE id >= 2;")).rows_affected,
            Some(2)
        );
        let sink = query(
            c,
            "SELECT NULL AS n, CAST(42 AS NUMBER(10)) AS i, 12345678901234567890.0001 AS d, 1.5d AS f,
                    DATE '2024-02-29' AS dt, TIMESTAMP '2024-02-29 13:14:15.5' AS ts,
                    TIMESTAMP '2024-02-29 13:14:15 +02:00' AS tstz, TO_CLOB('long') AS cl,
                    HEXTORAW('DEADBEEF') AS r FROM dual",
        );
        assert_eq!(
            sink.rows[0],
            vec![
                Cell::Null,
                Cell::Int(42),
                Cell::Decimal("12345678901234567890.0001".into()),
                Cell::Float(1.5),
                Cell::Timestamp("2024-02-29T00:00:00".into()),
                Cell::Timestamp("2024-02-29T13:14:15.5".into()),
                Cell::TimestampTz("2024-02-29T13:14:15+02:00".into()),
                Cell::Text("long".into()),
                Cell::Bytes("deadbeef".into()),
            ]
        );
        let mut limited = VecSink::new(10);
        let out = c
            .execute(
                "SELECT level FROM dual CONNECT BY level <= 100000",
                &mut limited,
            )
            .unwrap();
        assert!(out.truncated && out.rows_returned == 10);
        let err = c
            .execute("SELEC 1 FROM dual", &mut VecSink::new(1))
            .unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_deref()),
            (DbErrorKind::Statement, Some("ORA-00900"))
        );
        let out = exec(
            c,
            "BEGIN DBMS_OUTPUT.PUT_LINE('hello'); DBMS_OUTPUT.PUT_LINE('world'); END;",
        );
        assert_eq!(out.notices, ["hello", "world"]);
        c.begin_read_only().unwrap();
        let err = c
            .execute(
                &format!("INSERT INTO {t} VALUES (9, 'no')"),
                &mut VecSink::new(0),
            )
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("ORA-01456"));
        c.rollback().unwrap();
        assert_eq!(
            query(c, &format!("SELECT COUNT(*) FROM {t}")).rows[0][0],
            Cell::Int(3)
        );
    }));
    exec(c, &format!("DROP TABLE {t} PURGE"));
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn live_a_wrong_password_is_refused_as_auth() {
    let Some(mut spec) = live_spec("live_a_wrong_password_is_refused_as_auth") else {
        return;
    };
    spec.password = "autodb-surely-wrong".to_string().into();
    let err = connectors::connect(&spec).err().unwrap();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (DbErrorKind::Auth, Some("ORA-01017"))
    );
}

#[test]
fn live_a_sleep_beyond_the_call_timeout_fails_as_timeout() {
    let Some(mut spec) = live_spec("live_a_sleep_beyond_the_call_timeout_fails_as_timeout") else {
        return;
    };
    spec.statement_timeout = Some(Duration::from_secs(1));
    let mut conn = connectors::connect(&spec).unwrap();
    let started = Instant::now();
    let err = conn
        .execute("BEGIN DBMS_SESSION.SLEEP(5); END;", &mut VecSink::new(0))
        .unwrap_err();
    assert_eq!(err.kind, DbErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn live_a_running_sleep_is_broken_from_another_thread() {
    let Some(spec) = live_spec("live_a_running_sleep_is_broken_from_another_thread") else {
        return;
    };
    let marker = unique_table();
    let mut conn = connectors::connect(&spec).unwrap();
    let canceller = conn.canceller();
    let sql = format!("BEGIN /* {marker} */ DBMS_SESSION.SLEEP(30); END;");
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let r = conn.execute(&sql, &mut VecSink::new(0));
        tx.send(Instant::now()).unwrap();
        r
    });
    let mut watcher = connectors::connect(&spec).unwrap();
    let seen = format!(
        "SELECT COUNT(*) FROM v$session s JOIN v$sql q ON q.sql_id = s.sql_id
         WHERE s.status = 'ACTIVE' AND q.sql_text LIKE 'BEGIN /* {marker} */%'"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while query(watcher.as_mut(), &seen).rows[0][0] == Cell::Int(0) {
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
        (DbErrorKind::Cancelled, Some("ORA-01013"))
    );
    assert!(ended_at - cancelled_at < Duration::from_secs(2));
}
