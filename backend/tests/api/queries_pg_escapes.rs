//! Escapes from a read-only PostgreSQL query: effects that a read-only transaction does not stop
//! (another server through dblink, another session, the server's files, the session's time limit)
//! and the spellings that hid them from a list of names. Each attack runs as a developer through
//! POST /api/queries; after each one the test checks the target's data, its locks, a victim
//! session and the server's files. The target logs in as the superuser on purpose: these tests
//! exercise the classifier, the function check and the time limit alone, not the query account.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::jobs::{create_target, PgDb};
use crate::queries::{pg_text, wait_done};

/// The one place these tests create a target (a superuser account, trusted for queries).
async fn trusted_pg_target(app: &TestApp, admin: &str, db: &PgDb) -> i64 {
    create_target(
        app,
        admin,
        json!({"name": db.0, "engine": "postgres", "host": "127.0.0.1",
        "port": 5432, "database": db.0, "username": "postgres", "trusted_for_queries": true}),
    )
    .await
}

/// An idle psql session on the target: an attack that reaches other sessions would end it.
struct Victim {
    child: Child,
    pid: String,
}

impl Victim {
    fn open(db: &str) -> Self {
        let name = format!("autodb_victim_{}", uuid::Uuid::new_v4().simple());
        let mut victim = Self {
            child: Command::new("psql")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-d", db, "-q"])
                .env("PGAPPNAME", &name)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("psql"),
            pid: String::new(),
        };
        let find = format!("SELECT pid FROM pg_stat_activity WHERE application_name = '{name}'");
        let deadline = Instant::now() + Duration::from_secs(10);
        while victim.pid.is_empty() {
            assert!(
                Instant::now() < deadline,
                "the victim session never appeared"
            );
            std::thread::sleep(Duration::from_millis(50));
            victim.pid = pg_text(db, &find);
        }
        victim
    }

    fn alive(&self, db: &str) -> bool {
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = {}",
            self.pid
        );
        pg_text(db, &sql) == "1"
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SETUP: &str = "CREATE TABLE canary (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO canary SELECT g, md5(g::text) FROM generate_series(1, 100) g;
CREATE EXTENSION dblink;";

const FINGERPRINT: &str =
    "SELECT (SELECT count(*) || ':' || md5(string_agg(id || v, ',' ORDER BY id)) FROM canary) \
     || '|' || (SELECT count(*) FROM pg_largeobject_metadata)";

/// The locks held on the target by anyone but the checker and the victim, once the query's
/// session has gone (it goes right after its rollback; waited for, with a deadline).
fn locks_left(db: &str, victim: &Victim) -> String {
    let sessions = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' \
         AND pid <> pg_backend_pid() AND pid <> {}",
        victim.pid
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while pg_text(db, &sessions) != "0" {
        assert!(
            Instant::now() < deadline,
            "the query's session (or one it opened) is still connected"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    pg_text(
        db,
        &format!(
            "SELECT count(*) FROM pg_locks WHERE pid <> pg_backend_pid() AND pid <> {} \
             AND (locktype = 'advisory' OR database = \
             (SELECT oid FROM pg_database WHERE datname = current_database()))",
            victim.pid
        ),
    )
}

/// Whether the server sees a file at `path` (asked as the superuser: the server's own view).
fn server_file_exists(db: &str, path: &str) -> bool {
    pg_text(
        db,
        &format!("SELECT pg_stat_file('{path}', true) IS NOT NULL"),
    ) == "t"
}

/// Submits `sql`; `Ok(how it was stopped)`, or `Err(what happened)` when it ran through.
async fn stopped(app: &TestApp, token: &str, body: Value) -> Result<String, String> {
    let r = app
        .post_json("/api/queries", Some(token), body.clone())
        .await;
    let status = r.status();
    let answer: Value = r.json().await.expect("json");
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        assert_eq!(answer["field"], "sql", "{body}: {answer}");
        return Ok(format!("refused: {}", answer["message"]));
    }
    assert_eq!(status, StatusCode::CREATED, "{body}: {answer}");
    let id = answer["id"].as_i64().expect("id");
    let q = wait_done(app, token, id, 60).await;
    let results = q["results"].as_array().cloned().unwrap_or_default();
    match results.iter().find(|r| r["status"] != "success") {
        Some(r) => Ok(format!("{}: {}", r["status"], r["error"])),
        None => Err(format!("ran: {q}")),
    }
}

#[actix_web::test]
async fn the_named_escapes_from_a_read_only_postgresql_query_all_fail_and_leave_no_trace() {
    let app = spawn_app().await;
    let dev = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let db = PgDb::new("escape");
    pg_text(&db.0, SETUP);
    let lo = pg_text(&db.0, "SELECT lo_from_bytea(0, '\\x7365637265740a')");
    let target = trusted_pg_target(&app, &admin, &db).await;
    let victim = Victim::open(&db.0);
    let file = format!("/tmp/autodb_lo_{}", uuid::Uuid::new_v4().simple());
    let before = pg_text(&db.0, FINGERPRINT);
    let conninfo = format!("host=127.0.0.1 dbname={} user=postgres", db.0);
    let write = "UPDATE canary SET v = ''written''";
    let attacks = [
        format!("SELECT dblink_exec('{conninfo}', '{write}')"),
        format!("SELECT U&\"dblink\\005fexec\"('{conninfo}', '{write}')"),
        format!("SELECT u&\"dblink!005Fexec\" UESCAPE '!' ('{conninfo}', '{write}')"),
        format!("SELECT \"public\".dblink_exec('{conninfo}', '{write}')"),
        format!(
            "SELECT * FROM dblink('{conninfo}', 'SELECT 1 FROM (SELECT dblink_exec(''{conninfo}'', \
             ''UPDATE canary SET v = ''''x'''''')) s') AS t(a int)"
        ),
        format!(
            "SELECT query_to_xml('select pg_terminate_backend({})', true, true, '')",
            victim.pid
        ),
        format!(
            "SELECT pg_catalog.query_to_xml('select lo_export({lo}, ''{file}'')', true, true, '')"
        ),
        format!("SELECT lo_export({lo}, '{file}')"),
        format!(
            "SELECT \"PG_CATALOG\".\"query_to_xml\"('select pg_terminate_backend({})', true, true, '')",
            victim.pid
        ),
        format!(
            "SELECT cursor_to_xml('c', 1, true, true, ''), pg_terminate_backend({})",
            victim.pid
        ),
        "SELECT ts_stat('select pg_advisory_lock(1)::text::tsvector')".to_string(),
        "SELECT table_to_xml('canary', true, true, '')".to_string(),
        "SELECT pg_read_file('/etc/hostname')".to_string(),
        "SELECT pg_advisory_lock(42)".to_string(),
        "SELECT PG_CATALOG.PG_ADVISORY_XACT_LOCK(42)".to_string(),
    ];
    let mut wrong = vec![];
    for sql in &attacks {
        let outcome = stopped(&app, &dev, json!({"sql": sql, "target_ids": [target]})).await;
        if let Err(e) = outcome {
            wrong.push(format!("{sql}\n  {e}"));
        }
        if pg_text(&db.0, FINGERPRINT) != before {
            wrong.push(format!("{sql}\n  changed the target's data"));
            pg_text(&db.0, "UPDATE canary SET v = md5(id::text)");
        }
        let locks = locks_left(&db.0, &victim);
        if locks != "0" {
            wrong.push(format!("{sql}\n  left {locks} locks"));
        }
        if !victim.alive(&db.0) {
            wrong.push(format!("{sql}\n  ended another session"));
            break;
        }
        if server_file_exists(&db.0, &file) {
            wrong.push(format!("{sql}\n  wrote the server file {file}"));
            let _ = std::fs::remove_file(&file);
        }
    }
    assert!(wrong.is_empty(), "escaped:\n{}", wrong.join("\n"));
}

#[actix_web::test]
async fn a_time_limit_lifted_by_one_statement_still_ends_the_next_within_the_limit() {
    let app = spawn_app().await;
    let dev = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let db = PgDb::new("escape_tmo");
    let target = trusted_pg_target(&app, &admin, &db).await;
    for lift in [
        "SELECT query_to_xml('select set_config(''statement_timeout'', ''0'', false)', true, true, '')",
        "SELECT set_config('statement_timeout', '0', false)",
        "SELECT U&\"set\\005fconfig\"('statement_timeout', '0', false)",
    ] {
        let sql = format!("{lift};\nSELECT pg_sleep(6) AS slept");
        let started = Instant::now();
        let outcome = stopped(
            &app,
            &dev,
            json!({"sql": sql, "target_ids": [target], "timeout_s": 1}),
        )
        .await;
        assert!(outcome.is_ok(), "{sql}: {outcome:?}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{sql}: the query outlived its 1 s limit ({:?})",
            started.elapsed()
        );
    }
}

/// Functions the name check lets through (the test creates them) must be refused because the
/// target reports them VOLATILE: called directly, through a view, as an aggregate's step.
#[actix_web::test]
async fn functions_the_target_reports_volatile_are_refused_although_their_names_are_unknown() {
    let app = spawn_app().await;
    let dev = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let db = PgDb::new("escape_vol");
    pg_text(
        &db.0,
        "CREATE TABLE canary (id int PRIMARY KEY, v text NOT NULL);
         INSERT INTO canary VALUES (1, 'a');
         CREATE FUNCTION evil_kill(p int) RETURNS bool LANGUAGE sql VOLATILE
           AS $$ SELECT pg_terminate_backend(p) $$;
         CREATE FUNCTION evil_lock(p int) RETURNS int LANGUAGE plpgsql
           AS $$ BEGIN PERFORM pg_advisory_lock(p); RETURN p; END $$;
         CREATE VIEW evil_view AS SELECT evil_lock(7) AS locked;
         CREATE VIEW evil_view2 AS SELECT * FROM evil_view;
         CREATE VIEW builtin_view AS SELECT pg_try_advisory_lock(8) AS locked;
         CREATE FUNCTION evil_step(s int, v int) RETURNS int LANGUAGE plpgsql
           AS $$ BEGIN PERFORM pg_advisory_lock(v); RETURN s; END $$;
         CREATE AGGREGATE evil_agg(int) (sfunc = evil_step, stype = int, initcond = '0');
         CREATE FUNCTION safe_double(i int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT i * 2 $$;
         CREATE VIEW safe_view AS SELECT safe_double(id) AS d FROM canary;",
    );
    let target = trusted_pg_target(&app, &admin, &db).await;
    let victim = Victim::open(&db.0);
    for sql in [
        format!("SELECT evil_kill({})", victim.pid),
        format!("SELECT * FROM evil_kill({})", victim.pid),
        format!("SELECT public.\"evil_kill\"({})", victim.pid),
        "SELECT * FROM evil_view".to_string(),
        "SELECT locked FROM public.evil_view2".to_string(),
        "SELECT locked FROM builtin_view".to_string(),
        "SELECT evil_agg(id) FROM canary".to_string(),
        "SELECT no_such_function(1)".to_string(),
    ] {
        let classified = autodb::services::queries::classify::classify(
            autodb::connectors::Engine::Postgres,
            &sql,
        );
        assert!(
            classified.is_ok(),
            "{sql}: the classifier alone refused it, so this test would not test the function \
             check: {classified:?}"
        );
        let outcome = stopped(&app, &dev, json!({"sql": sql, "target_ids": [target]})).await;
        let why = if sql.contains("no_such") {
            "does not know"
        } else {
            "VOLATILE"
        };
        assert!(
            outcome.as_ref().is_ok_and(|m| m.contains(why)),
            "{sql}: {outcome:?}"
        );
        assert_eq!(locks_left(&db.0, &victim), "0", "{sql}");
        assert!(victim.alive(&db.0), "{sql} ended another session");
    }
    for sql in [
        "SELECT safe_double(21), now(), random() >= 0, md5('x'), coalesce(null, 1), \
         pg_size_pretty(pg_relation_size('canary')), current_user, \
         EXTRACT(year FROM now()), substring('abc' from 2), ceil(1.5)",
        "SELECT * FROM safe_view",
        "SELECT count(*) FROM pg_stat_activity",
        "SELECT g FROM generate_series(1, 3) g",
        "SELECT 'canary'::regclass::text, CAST(1 AS text), text(1)",
    ] {
        let id =
            crate::queries::start(&app, &dev, json!({"sql": sql, "target_ids": [target]})).await;
        let q = wait_done(&app, &dev, id, 30).await;
        assert_eq!(q["status"], "success", "{sql}: {q}");
    }
    // Operators, casts and domains call functions no query names: one bound to a VOLATILE
    // function makes the target refuse queries, until it is gone.
    for (setup, undo, sql, why) in [
        (
            "CREATE FUNCTION evil_eq(a int, b int) RETURNS bool LANGUAGE plpgsql \
             AS $$ BEGIN PERFORM pg_advisory_lock(a); RETURN a = b; END $$; \
             CREATE OPERATOR public.=== (leftarg = int, rightarg = int, function = evil_eq)",
            "DROP OPERATOR public.=== (int, int)",
            "SELECT id FROM canary",
            "operator public.===",
        ),
        (
            "CREATE FUNCTION evil_check(v int) RETURNS bool LANGUAGE plpgsql \
             AS $$ BEGIN PERFORM pg_advisory_lock(v); RETURN true; END $$; \
             CREATE DOMAIN evil_dom AS int CHECK (evil_check(VALUE))",
            "DROP DOMAIN evil_dom",
            "SELECT 1",
            "domain evil_dom",
        ),
    ] {
        pg_text(&db.0, setup);
        let outcome = stopped(&app, &dev, json!({"sql": sql, "target_ids": [target]})).await;
        assert!(
            outcome.as_ref().is_ok_and(|m| m.contains(why)),
            "{setup}: {outcome:?}"
        );
        assert_eq!(locks_left(&db.0, &victim), "0", "{setup}");
        pg_text(&db.0, undo);
        let id =
            crate::queries::start(&app, &dev, json!({"sql": sql, "target_ids": [target]})).await;
        assert_eq!(wait_done(&app, &dev, id, 30).await["status"], "success");
    }
}
