//! Write attempts dressed as queries, on real PostgreSQL, MariaDB and SQLite. Each must be
//! refused by the classifier (400 naming what it is) or fail inside the read-only transaction
//! (a result `error` carrying the database's code); the canary data must be unchanged after all
//! of them, and sequences not advanced. The test runs as the targets' superusers on purpose:
//! the read-only transaction must hold even for them.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::jobs::{pg_target, PgDb};
use crate::queries::{
    maria_exec, maria_target, maria_text, pg_text, sqlite_target, start, wait_done, MariaDb,
};

/// What stopped an attempt.
#[derive(Debug, PartialEq)]
enum Stopped {
    /// The classifier: 400 on `sql`, with this message.
    Parser(String),
    /// The database: a result error with this code and message.
    Database(String, String),
}

async fn attempt(app: &TestApp, token: &str, target: i64, sql: &str) -> Stopped {
    let r = app
        .post_json(
            "/api/queries",
            Some(token),
            json!({"sql": sql, "target_ids": [target]}),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        assert_eq!(body["field"], "sql", "{sql}: {body}");
        return Stopped::Parser(body["message"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(status, StatusCode::CREATED, "{sql}: {body}");
    let id = body["id"].as_i64().expect("id");
    let q = wait_done(app, token, id, 30).await;
    let r = &q["results"][0];
    assert_eq!(r["status"], "error", "{sql} was not stopped: {q}");
    Stopped::Database(
        r["error_code"].as_str().unwrap_or("").to_string(),
        r["error"].as_str().unwrap_or("").to_string(),
    )
}

/// Runs every attempt; each is (sql, expected: Ok(kind named in the 400) | Err(database code)).
async fn assault(app: &TestApp, token: &str, target: i64, attempts: &[(&str, Result<&str, &str>)]) {
    let mut wrong = vec![];
    for (sql, expected) in attempts {
        let got = attempt(app, token, target, sql).await;
        let ok = match (&got, expected) {
            (Stopped::Parser(msg), Ok(kind)) => msg.contains(kind),
            (Stopped::Database(code, _), Err(want)) => code == want,
            _ => false,
        };
        if !ok {
            wrong.push(format!("{sql:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

const PG_SETUP: &str = "CREATE TABLE canary (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO canary SELECT g, md5(g::text) FROM generate_series(1, 100) g;
CREATE SEQUENCE canary_seq;
CREATE FUNCTION evil_delete() RETURNS int LANGUAGE sql AS $$ DELETE FROM canary; SELECT 1 $$;
CREATE FUNCTION evil_nextval() RETURNS bigint LANGUAGE sql AS $$ SELECT nextval('canary_seq') $$;
CREATE FUNCTION evil_read_write() RETURNS int LANGUAGE plpgsql AS $$ BEGIN
  PERFORM set_config('transaction_read_only', 'off', true); DELETE FROM canary; RETURN 1; END $$;
CREATE PROCEDURE evil_proc() LANGUAGE sql AS $$ DELETE FROM canary $$;";

const PG_FINGERPRINT: &str =
    "SELECT (SELECT count(*) || ':' || md5(string_agg(id || v, ',' ORDER BY id)) FROM canary) \
     || '|' || (SELECT last_value || ':' || is_called FROM canary_seq) \
     || '|' || (SELECT count(*) FROM pg_class WHERE relname LIKE 'canary_copy%') \
     || '|' || (SELECT count(*) FROM pg_largeobject_metadata)";

#[actix_web::test]
async fn write_attempts_dressed_as_queries_never_change_a_postgresql_target() {
    let app = spawn_app().await;
    let t = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let db = PgDb::new("attack");
    pg_text(&db.0, PG_SETUP);
    let target = pg_target(&app, &admin, &db).await;
    let before = pg_text(&db.0, PG_FINGERPRINT);
    assault(
        &app,
        &t,
        target,
        &[
            ("DELETE FROM canary", Ok("is a DELETE")),
            (
                "WITH d AS (DELETE FROM canary RETURNING *) SELECT count(*) FROM d",
                Ok("DELETE"),
            ),
            ("SELECT * INTO canary_copy FROM canary", Ok("SELECT … INTO")),
            (
                "CREATE TABLE canary_copy AS SELECT * FROM canary",
                Ok("CREATE TABLE"),
            ),
            ("SELECT * FROM canary FOR UPDATE", Ok("locking read")),
            ("SELECT * FROM canary FOR SHARE", Ok("locking read")),
            ("COPY canary TO '/tmp/autodb_canary.csv'", Ok("COPY")),
            (
                "SELECT 1; DROP TABLE canary",
                Ok("statement 2 (line 1) is a DROP TABLE"),
            ),
            ("SELECT 1 /* ; */ ; TRUNCATE canary", Ok("TRUNCATE")),
            (
                "SELECT 1 -- hidden\n; UPDATE canary SET v = 'x'",
                Ok("UPDATE"),
            ),
            ("SELECT 1 \\; DELETE FROM canary", Ok("statement")),
            ("SELECT 1; COMMIT; DELETE FROM canary", Ok("COMMIT")),
            (
                "EXPLAIN ANALYZE DELETE FROM canary",
                Ok("EXPLAIN of a DELETE"),
            ),
            ("SET default_transaction_read_only = off", Ok("SET")),
            ("SET TRANSACTION READ WRITE", Ok("SET")),
            ("CALL evil_proc()", Ok("CALL")),
            (
                "LOCK TABLE canary IN ACCESS EXCLUSIVE MODE",
                Ok("LOCK TABLE"),
            ),
            (
                "DO $$ BEGIN DELETE FROM canary; END $$",
                Ok("could not be parsed"),
            ),
            ("SELECT nextval('canary_seq')", Ok("nextval")),
            ("SELECT setval('canary_seq', 1000)", Ok("setval")),
            (
                "SELECT pg_terminate_backend(pg_backend_pid())",
                Ok("pg_terminate_backend"),
            ),
            ("SELECT lo_import('/etc/hostname')", Ok("lo_import")),
            (
                "SELECT dblink_exec('dbname=postgres', 'DROP TABLE canary')",
                Ok("dblink_exec"),
            ),
            (
                "SELECT set_config('statement_timeout', '0', false)",
                Ok("set_config"),
            ),
            (
                "SELECT query_to_xml('DELETE FROM canary RETURNING 1', true, true, '')",
                Ok("query_to_xml"),
            ),
            // Past the parser (it cannot see into functions): the target reports them VOLATILE.
            ("SELECT evil_delete()", Err("function_check")),
            ("SELECT * FROM evil_delete()", Err("function_check")),
            ("SELECT evil_nextval()", Err("function_check")),
            ("SELECT evil_read_write()", Err("function_check")),
        ],
    )
    .await;
    assert_eq!(
        pg_text(&db.0, PG_FINGERPRINT),
        before,
        "the target's data changed"
    );
    assert_eq!(pg_text(&db.0, "SELECT count(*) FROM canary"), "100");
}

const MARIA_FINGERPRINT: &str = "SELECT CONCAT((SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(id, v ORDER BY id))) FROM canary), '|', \
     (SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(id ORDER BY id))) FROM canary_myisam), '|', \
     (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()))";

#[actix_web::test]
async fn write_attempts_dressed_as_queries_never_change_a_mariadb_target() {
    let app = spawn_app().await;
    let t = app.user_with_role("operator").await;
    let admin = app.admin_token().await;
    let db = MariaDb::new("attack");
    for sql in [
        "CREATE TABLE canary (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL) ENGINE=InnoDB",
        "INSERT INTO canary SELECT seq, MD5(seq) FROM seq_1_to_100",
        "CREATE TABLE canary_myisam (id INT PRIMARY KEY) ENGINE=MyISAM",
        "INSERT INTO canary_myisam SELECT seq FROM seq_1_to_10",
        "CREATE FUNCTION evil_delete() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM canary; RETURN 1; END",
        "CREATE FUNCTION evil_myisam() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM canary_myisam; RETURN 1; END",
        "CREATE FUNCTION evil_liar() RETURNS INT READS SQL DATA BEGIN DELETE FROM canary; RETURN 1; END",
        "CREATE FUNCTION evil_liar_myisam() RETURNS INT READS SQL DATA BEGIN DELETE FROM canary_myisam; RETURN 1; END",
        "CREATE PROCEDURE evil_proc() DELETE FROM canary",
    ] {
        maria_exec(Some(&db.0), sql);
    }
    let target = maria_target(&app, &admin, &db).await;
    let before = maria_text(&db.0, MARIA_FINGERPRINT);
    assault(
        &app,
        &t,
        target,
        &[
            ("DELETE FROM canary", Ok("is a DELETE")),
            ("UPDATE canary SET v = 'x'", Ok("UPDATE")),
            ("REPLACE INTO canary VALUES (1, 'x')", Ok("REPLACE")),
            (
                "SELECT * FROM canary INTO OUTFILE '/tmp/autodb_canary.txt'",
                Ok("could not be parsed"),
            ),
            ("SELECT id INTO @v FROM canary LIMIT 1", Ok("SELECT … INTO")),
            ("SELECT * FROM canary FOR UPDATE", Ok("locking read")),
            ("SELECT * FROM canary LOCK IN SHARE MODE", Ok("statement 1")),
            ("HANDLER canary OPEN", Ok("could not be parsed")),
            (
                "LOAD DATA INFILE '/etc/hostname' INTO TABLE canary",
                Ok("statement 1"),
            ),
            (
                "SELECT 1; DELETE FROM canary",
                Ok("statement 2 (line 1) is a DELETE"),
            ),
            (
                "SELECT 1 /*M! ; DELETE FROM canary */",
                Ok("executable comment"),
            ),
            ("SELECT 1 /*! ; DELETE FROM canary */", Ok("statement 1")),
            ("SELECT 1 -- hidden\n; DELETE FROM canary", Ok("DELETE")),
            ("SELECT 1 --1; DELETE FROM canary", Ok("DELETE")),
            ("START TRANSACTION", Ok("statement 1")),
            ("SET SESSION TRANSACTION READ WRITE", Ok("SET")),
            ("CALL evil_proc()", Ok("CALL")),
            (
                "CREATE TABLE canary_copy AS SELECT * FROM canary",
                Ok("CREATE TABLE"),
            ),
            ("SELECT GET_LOCK('autodb', 1)", Ok("get_lock")),
            // Past the parser: declared as writing, the function check refuses them; declared
            // READS SQL DATA (a lie), MariaDB's read-only transaction stops the write.
            ("SELECT evil_delete()", Err("function_check")),
            ("SELECT evil_myisam()", Err("function_check")),
            ("SELECT evil_liar()", Err("1792")),
            ("SELECT evil_liar_myisam()", Err("1792")),
        ],
    )
    .await;
    assert_eq!(
        maria_text(&db.0, MARIA_FINGERPRINT),
        before,
        "the target's data changed"
    );
}

#[actix_web::test]
async fn write_attempts_dressed_as_queries_never_change_a_sqlite_target() {
    let app = spawn_app().await;
    let t = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let (target, path) = sqlite_target(&app, &admin, "attack").await;
    {
        let c = rusqlite::Connection::open(&path).expect("open");
        c.execute_batch(
            "CREATE TABLE canary (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
             WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100)
             INSERT INTO canary SELECT n, hex(randomblob(8)) FROM g;
             CREATE VIEW canary_view AS SELECT * FROM canary;",
        )
        .expect("setup");
    }
    let fingerprint = || {
        let c = rusqlite::Connection::open(&path).expect("open");
        c.query_row(
            "SELECT (SELECT count(*) || ':' || group_concat(id || v, ',') FROM (SELECT * FROM canary ORDER BY id)) \
             || '|' || (SELECT count(*) FROM sqlite_master)",
            [],
            |r| r.get::<_, String>(0),
        )
        .expect("fingerprint")
    };
    let before = fingerprint();
    let attach = app.dir.path().join("attached.db");
    let attach_sql = format!("ATTACH DATABASE '{}' AS evil", attach.display());
    let vacuum_sql = format!("VACUUM INTO '{}'", app.dir.path().join("copy.db").display());
    assault(
        &app,
        &t,
        target,
        &[
            ("DELETE FROM canary", Ok("is a DELETE")),
            (
                "INSERT INTO canary VALUES (1000, 'x') RETURNING *",
                Ok("INSERT"),
            ),
            ("UPDATE canary SET v = 'x'", Ok("UPDATE")),
            ("REPLACE INTO canary VALUES (1, 'x')", Ok("INSERT")),
            ("SELECT 1; DROP TABLE canary", Ok("DROP TABLE")),
            (
                "WITH d AS (DELETE FROM canary RETURNING *) SELECT * FROM d",
                Ok("statement 1"),
            ),
            ("PRAGMA query_only = 0", Ok("PRAGMA query_only")),
            ("PRAGMA writable_schema = 1", Ok("PRAGMA writable_schema")),
            (&attach_sql, Ok("ATTACH")),
            (&vacuum_sql, Ok("statement 1")),
            ("SELECT load_extension('/tmp/evil')", Ok("load_extension")),
            (
                "CREATE TRIGGER t AFTER INSERT ON canary BEGIN DELETE FROM canary; END",
                Ok("statement 1"),
            ),
            ("BEGIN", Ok("statement 1")),
            ("COMMIT", Ok("statement 1")),
            (".shell rm -rf /\nSELECT 1", Ok("client command")),
            (
                "CREATE TABLE canary_copy AS SELECT * FROM canary",
                Ok("CREATE TABLE"),
            ),
        ],
    )
    .await;
    assert_eq!(fingerprint(), before, "the target's data changed");
    assert!(!attach.exists(), "ATTACH created a file");
    // A real query still runs afterwards, and the connection was left writable for jobs.
    let id = start(
        &app,
        &t,
        json!({"sql": "SELECT count(*) FROM canary_view", "target_ids": [target]}),
    )
    .await;
    let q = wait_done(&app, &t, id, 30).await;
    assert_eq!(q["results"][0]["rows"][0][0]["v"], 100, "{q}");
}

#[actix_web::test]
async fn reads_that_cannot_write_still_run_on_every_engine() {
    let app = spawn_app().await;
    let t = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let pgdb = PgDb::new("reads");
    pg_text(&pgdb.0, "CREATE TABLE r (id int)");
    let pg = pg_target(&app, &admin, &pgdb).await;
    let maria = MariaDb::new("reads");
    maria_exec(Some(&maria.0), "CREATE TABLE r (id INT)");
    let my = maria_target(&app, &admin, &maria).await;
    let (lite, path) = sqlite_target(&app, &admin, "reads").await;
    rusqlite::Connection::open(&path)
        .expect("open")
        .execute_batch("CREATE TABLE r (id INTEGER)")
        .expect("setup");
    for (target, sql) in [
        (pg, "EXPLAIN SELECT * FROM r"),
        (pg, "EXPLAIN ANALYZE SELECT * FROM r"),
        (pg, "SHOW search_path"),
        (pg, "VALUES (1), (2)"),
        (pg, "WITH x AS (SELECT 1 AS a) SELECT * FROM x"),
        (my, "SHOW TABLES"),
        (my, "SHOW CREATE TABLE r"),
        (my, "DESCRIBE r"),
        (my, "EXPLAIN SELECT * FROM r"),
        (my, "SELECT 1 /*!, 2 */"),
        (lite, "PRAGMA table_info('r')"),
        (lite, "EXPLAIN QUERY PLAN SELECT * FROM r"),
    ] {
        let id = start(&app, &t, json!({"sql": sql, "target_ids": [target]})).await;
        let q = wait_done(&app, &t, id, 30).await;
        assert_eq!(q["status"], "success", "{sql}: {q}");
        assert!(
            !q["results"][0]["columns"]
                .as_array()
                .expect("columns")
                .is_empty(),
            "{sql}: {q}"
        );
    }
}
