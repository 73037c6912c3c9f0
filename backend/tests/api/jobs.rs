//! Jobs against the real PostgreSQL, MariaDB and SQLite.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    expect_error, pg_admin, spawn_app, spawn_app_with, spawn_second, store_backend, stream_body,
    StoreFile, TestApp, BREAKS_DOC, REFUSED,
};

/// A fresh PostgreSQL database for one test, dropped when the guard goes.
pub struct PgDb(pub String);

impl PgDb {
    pub fn new(tag: &str) -> Self {
        let name = format!("autodb_t_{tag}_{}", uuid::Uuid::new_v4().simple());
        pg_admin(&format!("CREATE DATABASE {name}")).expect("create db");
        Self(name)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = pg_admin(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0));
    }
}

pub async fn create_target(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post_json("/api/targets", Some(token), body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id")
}

/// A target on the PostgreSQL superuser, marked trusted for queries (the query tests that use
/// it test other layers; `query_account.rs` tests the account check).
pub async fn pg_target(app: &TestApp, token: &str, db: &PgDb) -> i64 {
    create_target(
        app,
        token,
        json!({"name": db.0, "engine": "postgres", "host": "127.0.0.1",
        "port": 5432, "database": db.0, "username": "postgres", "trusted_for_queries": true}),
    )
    .await
}

pub async fn submit(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post_json("/api/jobs", Some(token), body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.expect("json")
}

/// Polls the job until `done` holds, failing after `secs`.
pub async fn wait_job(
    app: &TestApp,
    token: &str,
    id: i64,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let job: Value = app
            .get(&format!("/api/jobs/{id}"), Some(token))
            .await
            .json()
            .await
            .expect("json");
        if done(&job) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job did not get there in {secs}s: {job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn ended(job: &Value) -> bool {
    job["finished_at"].is_string()
}

fn runs(job: &Value) -> Vec<Value> {
    job["scripts"]
        .as_array()
        .expect("scripts")
        .iter()
        .flat_map(|s| s["runs"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub fn pg_count(db: &str, sql: &str) -> i64 {
    let (db, sql) = (db.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(
            &format!("host=127.0.0.1 user=postgres dbname={db}"),
            postgres::NoTls,
        )
        .expect("connect");
        c.query_one(&sql, &[]).expect("query").get::<_, i64>(0)
    })
    .join()
    .expect("thread")
}

#[actix_web::test]
async fn creating_a_job_returns_before_any_script_runs() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("early");
    let target = pg_target(&app, &t, &db).await;
    let job = submit(&app, &t, json!({"name": "slow", "scripts": [{"sql": "SELECT pg_sleep(2);", "target_ids": [target]}]})).await;
    assert!(job["finished_at"].is_null());
    for run in runs(&job) {
        assert_eq!(run["statements_done"], 0, "{job}");
        assert!(run["finished_at"].is_null());
    }
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 30, ended).await;
    assert_eq!(done["status"], "success", "{done}");
}

#[actix_web::test]
async fn a_corrupt_stored_selector_or_log_is_a_server_error_not_an_empty_answer() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("corrupt");
    let target = pg_target(&app, &t, &db).await;
    let job = submit(
        &app,
        &t,
        json!({"name": "c", "scripts": [{"sql": "SELECT 1", "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 30, ended).await;
    assert_eq!(done["scripts"][0]["targets"]["target_ids"], json!([target]));
    let run = runs(&done)[0]["id"].as_i64().expect("run id");
    // Past AutoDB, someone breaks the rows (statuses have CHECK constraints; these have none).
    // Before, the selector read back as `{}` and the notices as `[]`: a 200 that said nothing
    // was selected, and nothing was said.
    for (sql, path) in [
        (
            format!("UPDATE job_scripts SET target_selector = '{{}}' WHERE job_id = {id}"),
            format!("/api/jobs/{id}"),
        ),
        (
            format!("UPDATE run_statements SET notices = 'oops' WHERE run_id = {run}"),
            format!("/api/jobs/{id}/runs/{run}/log"),
        ),
    ] {
        let before = app.get(&path, Some(&t)).await;
        assert_eq!(before.status(), StatusCode::OK, "{path}");
        StoreFile::of(&app).tamper(&sql);
        let r = app.get(&path, Some(&t)).await;
        expect_error(r, StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
    }
}

/// The nice value in a `/proc/.../stat` file.
#[cfg(target_os = "linux")]
fn nice_in(stat_file: &std::path::Path) -> Option<i64> {
    let stat = std::fs::read_to_string(stat_file).ok()?;
    // Fields after "(comm)": state is field 3, nice field 19.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(16)?.parse().ok()
}

/// The nice values of this process's threads named `name` (other tests' apps, in this same
/// process, may have a run of the same id).
#[cfg(target_os = "linux")]
fn thread_nices(name: &str) -> Vec<i64> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return vec![];
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .filter_map(|task| nice_in(&task.path().join("stat")))
        .collect()
}

#[cfg(target_os = "linux")]
#[actix_web::test]
async fn run_threads_take_the_configured_lower_priority() {
    let app = spawn_app_with(&store_backend(), |s| s.engine.run_nice = 7).await;
    let t = app.admin_token().await;
    let db = PgDb::new("nice");
    let target = pg_target(&app, &t, &db).await;
    let job = submit(&app, &t, json!({"name": "nice", "scripts": [{"sql": "SELECT pg_sleep(60)", "target_ids": [target]}]})).await;
    let id = job["id"].as_i64().expect("id");
    let run_id = job["scripts"][0]["runs"][0]["id"].as_i64().expect("run id");
    let thread = format!("autodb-run-{run_id}");
    let running = wait_job(&app, &t, id, 20, |j| {
        j["scripts"][0]["runs"][0]["status"] == "running"
    })
    .await;
    assert!(running["finished_at"].is_null());
    // The thread sets its priority first thing. 7 is this app's setting (the default is 10).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !thread_nices(&thread).contains(&7) {
        assert!(
            Instant::now() < deadline,
            "no thread {thread} at nice 7: {:?}",
            thread_nices(&thread)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Only the run thread: this thread (the test's runtime, serving the app) keeps the
    // process's priority.
    let own = nice_in("/proc/thread-self/stat".as_ref());
    assert!(own.is_some());
    assert_eq!(own, nice_in("/proc/self/stat".as_ref()));
    let r = app
        .post_json(&format!("/api/jobs/{id}/cancel"), Some(&t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done = wait_job(&app, &t, id, 10, ended).await;
    assert_eq!(done["status"], "cancelled", "{done}");
}

#[actix_web::test]
async fn scripts_run_in_order_and_targets_in_parallel() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let dbs: Vec<PgDb> = (0..3).map(|i| PgDb::new(&format!("par{i}"))).collect();
    let mut ids = vec![];
    for db in &dbs {
        ids.push(pg_target(&app, &t, db).await);
    }
    let job = submit(&app, &t, json!({"name": "fleet", "on_error": "stop", "scripts": [
        {"sql": "CREATE TABLE t (id int);\nSELECT pg_sleep(0.5);", "target_ids": ids},
        {"sql": "INSERT INTO t VALUES (1), (2);\nINSERT INTO t SELECT id + 10 FROM t;", "target_ids": ids},
    ]})).await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 60, ended).await;
    assert_eq!(done["status"], "success", "{done}");
    for db in &dbs {
        assert_eq!(pg_count(&db.0, "SELECT count(*) FROM t"), 4);
    }
    let first: Vec<Value> = done["scripts"][0]["runs"].as_array().expect("runs").clone();
    let second: Vec<Value> = done["scripts"][1]["runs"].as_array().expect("runs").clone();
    let ts = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("time")).expect("rfc3339")
    };
    // Parallel: every run of script 1 started before any of them finished.
    let last_start = first
        .iter()
        .map(|r| ts(&r["started_at"]))
        .max()
        .expect("starts");
    let first_end = first
        .iter()
        .map(|r| ts(&r["finished_at"]))
        .min()
        .expect("ends");
    assert!(
        last_start < first_end,
        "script 1 runs did not overlap: {done}"
    );
    // In order: script 2 started after script 1 had ended everywhere.
    let end1 = first
        .iter()
        .map(|r| ts(&r["finished_at"]))
        .max()
        .expect("ends");
    assert!(second.iter().all(|r| ts(&r["started_at"]) >= end1));
    assert!(second
        .iter()
        .all(|r| r["statements_done"] == 2 && r["statements_total"] == 2));
}

#[actix_web::test]
async fn a_down_target_a_refused_login_and_a_statement_timeout_are_run_errors_while_others_succeed()
{
    let app = spawn_app_with(&store_backend(), |s| s.engine.statement_timeout_s = 1).await;
    let t = app.admin_token().await;
    let db = PgDb::new("mixed");
    let good = pg_target(&app, &t, &db).await;
    let down = create_target(
        &app,
        &t,
        json!({"name": "down", "engine": "postgres", "host": "127.0.0.1",
        "port": 1, "database": "x", "username": "postgres"}),
    )
    .await;
    let refused = create_target(
        &app,
        &t,
        json!({"name": "refused", "engine": "mysql", "host": "127.0.0.1",
        "port": 3306, "database": "test", "username": "root", "password": "certainly-wrong"}),
    )
    .await;
    let job = submit(
        &app,
        &t,
        json!({"name": "mixed", "on_error": "continue", "scripts": [
            {"sql": "SELECT 1", "target_ids": [good, down, refused]},
            {"sql": "SELECT pg_sleep(5)", "target_ids": [good]},
        ]}),
    )
    .await;
    let done = wait_job(&app, &t, job["id"].as_i64().expect("id"), 60, ended).await;
    assert_eq!(done["status"], "error");
    let run = |script: usize, target: i64| -> Value {
        done["scripts"][script]["runs"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["target_id"] == target).cloned())
            .expect("run")
    };
    assert_eq!(run(0, good)["status"], "success");
    let d = run(0, down);
    assert_eq!(d["status"], "error");
    assert!(d["error"].as_str().is_some_and(|m| !m.is_empty()), "{d}");
    let r = run(0, refused);
    assert_eq!(r["status"], "error");
    assert!(
        r["error"].as_str().expect("msg").contains("Access denied"),
        "{r}"
    );
    let slow = run(1, good);
    assert_eq!(slow["status"], "error");
    assert!(
        slow["error"]
            .as_str()
            .expect("msg")
            .contains("statement timeout"),
        "{slow}"
    );
    assert_eq!(slow["error_line"], 1);
}

#[actix_web::test]
async fn on_error_stop_cancels_what_has_not_started_and_retry_makes_a_new_attempt() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("retry");
    let target = pg_target(&app, &t, &db).await;
    let job = submit(
        &app,
        &t,
        json!({"name": "needs-table", "on_error": "stop", "scripts": [
            {"sql": "-- fill it\nINSERT INTO later VALUES (1);", "target_ids": [target]},
            {"sql": "INSERT INTO later VALUES (2);", "target_ids": [target]},
        ]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 30, ended).await;
    assert_eq!(done["status"], "error");
    let failed = &done["scripts"][0]["runs"][0];
    assert_eq!(failed["error_code"], "42P01", "{failed}");
    assert_eq!(
        failed["error_line"], 2,
        "the statement starts on line 2: {failed}"
    );
    assert_eq!(done["scripts"][1]["runs"][0]["status"], "cancelled");
    assert_eq!(done["scripts"][1]["status"], "cancelled");

    pg_admin_db(&db.0, "CREATE TABLE later (id int)");
    let r = app
        .post_json(&format!("/api/jobs/{id}/retry"), Some(&t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done = wait_job(&app, &t, id, 30, |j| ended(j) && j["attempt"] == 2).await;
    assert_eq!(done["status"], "success", "{done}");
    let first_script = done["scripts"][0]["runs"].as_array().expect("runs");
    assert_eq!(first_script.len(), 2, "history kept: {done}");
    assert_eq!(first_script[0]["superseded"], true);
    assert_eq!(first_script[1]["attempt"], 2);
    assert_eq!(pg_count(&db.0, "SELECT count(*) FROM later"), 2);
    let r = app
        .post_json(&format!("/api/jobs/{id}/retry"), Some(&t), json!({}))
        .await;
    expect_error(r, StatusCode::CONFLICT, "conflict").await;
}

/// Runs `sql` on a PostgreSQL database as the superuser, on a plain thread.
pub fn pg_admin_db(db: &str, sql: &str) {
    let (db, sql) = (db.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(
            &format!("host=127.0.0.1 user=postgres dbname={db}"),
            postgres::NoTls,
        )
        .expect("connect");
        c.batch_execute(&sql).expect("sql");
    })
    .join()
    .expect("thread");
}

#[actix_web::test]
async fn the_run_log_has_each_statement_with_its_line_count_and_notices() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("log");
    let target = pg_target(&app, &t, &db).await;
    let sql = "CREATE TABLE n (id int);\n\nINSERT INTO n SELECT generate_series(1, 5);\nDO $$ BEGIN RAISE NOTICE 'hello from %', 'plpgsql'; END $$;\n";
    let job = submit(
        &app,
        &t,
        json!({"name": "log", "scripts": [{"sql": sql, "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 30, ended).await;
    let run_id = done["scripts"][0]["runs"][0]["id"]
        .as_i64()
        .expect("run id");
    let log: Value = app
        .get(&format!("/api/jobs/{id}/runs/{run_id}/log"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    let st = log["statements"].as_array().expect("statements");
    assert_eq!(st.len(), 3, "{log}");
    assert_eq!(st[1]["line"], 3);
    assert_eq!(st[1]["rows_affected"], 5);
    assert!(
        st[2]["notices"].to_string().contains("hello from plpgsql"),
        "{log}"
    );
    let r = app
        .get(
            &format!("/api/jobs/{id}/runs/{}/log", run_id + 1000),
            Some(&t),
        )
        .await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

/// Waits until the database shows `needle` running, then cancels the job; the run must end
/// cancelled within 2 s of the request.
async fn cancel_while_running(
    app: &TestApp,
    t: &str,
    target: i64,
    sql: &str,
    seen: impl Fn() -> bool,
) {
    let job = submit(
        app,
        t,
        json!({"name": "sleepy", "scripts": [{"sql": sql, "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen() {
        assert!(
            Instant::now() < deadline,
            "the statement never showed up as running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = Instant::now();
    let r = app
        .post_json(&format!("/api/jobs/{id}/cancel"), Some(t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done = wait_job(app, t, id, 10, ended).await;
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "cancel took {:?}",
        asked.elapsed()
    );
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(done["scripts"][0]["runs"][0]["status"], "cancelled");
}

#[actix_web::test]
async fn cancelling_a_running_pg_sleep_stops_it_in_the_database_within_2_seconds() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("cancel");
    let target = pg_target(&app, &t, &db).await;
    let name = db.0.clone();
    let seen = move || {
        pg_count("postgres", &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND query LIKE '%pg_sleep(60)%' AND state = 'active'"
        )) > 0
    };
    cancel_while_running(&app, &t, target, "SELECT pg_sleep(60)", seen).await;
    let name = db.0.clone();
    assert_eq!(
        pg_count("postgres", &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND query LIKE '%pg_sleep(60)%' AND state = 'active'")),
        0,
        "the statement still runs in the database"
    );
}

#[actix_web::test]
async fn cancelling_a_running_mariadb_sleep_stops_it_within_2_seconds() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let target = create_target(
        &app,
        &t,
        json!({"name": "maria", "engine": "mysql", "host": "127.0.0.1",
        "port": 3306, "database": "test", "username": "root"}),
    )
    .await;
    let marker = format!("autodb_cancel_{}", uuid::Uuid::new_v4().simple());
    let sql = format!("SELECT SLEEP(60) AS {marker}");
    let needle = marker.clone();
    let seen = move || maria_running(&needle);
    cancel_while_running(&app, &t, target, &sql, seen).await;
    assert!(
        !maria_running(&marker),
        "the statement still runs in MariaDB"
    );
}

fn maria_running(needle: &str) -> bool {
    use mysql::prelude::Queryable;
    let mut c = mysql::Conn::new(
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .user(Some("root")),
    )
    .expect("mariadb");
    let n: Option<i64> = c
        .query_first(format!(
            "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%{needle}%' AND info NOT LIKE '%processlist%'"
        ))
        .expect("query");
    n.unwrap_or(0) > 0
}

#[actix_web::test]
async fn live_events_stream_progress_until_the_job_ends() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let path = app.sqlite_path("events.db");
    let target = create_target(
        &app,
        &t,
        json!({"name": "lite", "engine": "sqlite", "database": path}),
    )
    .await;
    let job = submit(&app, &t, json!({"name": "ev", "scripts": [
        {"sql": "CREATE TABLE e (x);\nINSERT INTO e VALUES (1);\nINSERT INTO e VALUES (2);", "target_ids": [target]}]})).await;
    let id = job["id"].as_i64().expect("id");
    let body = stream_body(&app, &t, &format!("/api/jobs/{id}/events"), 30).await;
    assert!(body.starts_with("event: snapshot\n"), "{body}");
    assert!(body.contains("event: end\n"), "{body}");
    let last_run = body
        .lines()
        .rfind(|l| l.starts_with("data: ") && l.contains("\"run\""))
        .map(|l| serde_json::from_str::<Value>(&l[6..]).expect("json"));
    if let Some(ev) = last_run {
        assert_eq!(ev["run"]["status"], "success", "{body}");
        assert_eq!(ev["run"]["statements_done"], 3);
    } else {
        // The job may have ended before the stream opened: the snapshot then shows it all.
        assert!(body.contains("\"statements_done\":3"), "{body}");
    }
}

/// A job's state as a reader of its event stream knows it at the end: the snapshot, with each
/// `run`, `script` and `job` event applied. Runs as (id, status, statements done).
fn replay(body: &str) -> (Value, Vec<(i64, String, i64)>) {
    let mut job = Value::Null;
    let mut name = "";
    for line in body.lines() {
        if let Some(n) = line.strip_prefix("event: ") {
            name = n;
            continue;
        }
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let ev: Value = serde_json::from_str(data).expect("json");
        match name {
            "snapshot" => job = ev,
            "run" => {
                let i = ev["script_index"].as_u64().expect("index") as usize;
                let runs = job["scripts"][i]["runs"].as_array_mut().expect("runs");
                match runs.iter_mut().find(|r| r["id"] == ev["run"]["id"]) {
                    Some(r) => *r = ev["run"].clone(),
                    None => runs.push(ev["run"].clone()),
                }
            }
            "script" => {
                let i = ev["index"].as_u64().expect("index") as usize;
                job["scripts"][i]["status"] = ev["status"].clone();
            }
            "job" => job["status"] = ev["status"].clone(),
            _ => {}
        }
    }
    (job.clone(), run_states(&job))
}

fn run_states(job: &Value) -> Vec<(i64, String, i64)> {
    let mut out: Vec<_> = runs(job)
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().expect("id"),
                r["status"].as_str().expect("status").to_string(),
                r["statements_done"].as_i64().expect("done"),
            )
        })
        .collect();
    out.sort();
    out
}

#[actix_web::test]
async fn a_stream_read_while_many_runs_move_ends_where_the_job_ends() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("stream");
    let mut targets = vec![];
    for i in 0..6 {
        targets.push(
            create_target(
                &app,
                &t,
                json!({"name": format!("pg{i}"), "engine": "postgres", "host": "127.0.0.1",
                "port": 5432, "database": db.0, "username": "postgres"}),
            )
            .await,
        );
    }
    // Two scripts, one failure on one target, statements that take a moment: the stream
    // reads while runs start, progress and end, each later read taking only what changed.
    let job = submit(
        &app,
        &t,
        json!({"name": "many", "on_error": "continue", "scripts": [
        {"sql": "SELECT pg_sleep(0.2);\nSELECT pg_sleep(0.2);", "target_ids": targets},
        {"sql": "SELECT pg_sleep(0.1);\nSELECT 1/0;", "target_ids": [targets[0]]},
        {"sql": "SELECT pg_sleep(0.1);", "target_ids": targets}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let body = stream_body(&app, &t, &format!("/api/jobs/{id}/events"), 60).await;
    let (streamed, streamed_runs) = replay(&body);
    let r = app.get(&format!("/api/jobs/{id}"), Some(&t)).await;
    let whole: Value = r.json().await.expect("json");
    assert_eq!(whole["status"], "error", "{whole}");
    assert_eq!(streamed["status"], whole["status"], "{body}");
    assert_eq!(streamed_runs, run_states(&whole), "{body}");
    assert_eq!(streamed_runs.len(), 13);
    for (i, s) in whole["scripts"]
        .as_array()
        .expect("scripts")
        .iter()
        .enumerate()
    {
        assert_eq!(streamed["scripts"][i]["status"], s["status"], "{body}");
    }
}

#[actix_web::test]
async fn job_input_is_checked_and_viewers_cannot_submit() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let path = app.sqlite_path("v.db");
    let target = create_target(
        &app,
        &t,
        json!({"name": "lite", "engine": "sqlite", "database": path, "tags": ["demo"]}),
    )
    .await;
    let cases = [
        (json!({"name": "x", "scripts": []}), "scripts", BREAKS_DOC),
        (
            json!({"name": "x", "scripts": [{"sql": "SELECT 1", "target_ids": [target], "target_tags": ["demo"]}]}),
            "scripts[0].target_ids",
            REFUSED,
        ),
        (
            json!({"name": "x", "scripts": [{"sql": "SELECT 1", "target_ids": [987654]}]}),
            "scripts[0].target_ids",
            REFUSED,
        ),
        (
            json!({"name": "x", "scripts": [{"sql": "SELECT 1", "target_tags": ["nope"]}]}),
            "scripts[0].target_tags",
            REFUSED,
        ),
        (
            json!({"name": "x", "scripts": [{"sql": "-- only a comment", "target_tags": ["demo"]}]}),
            "scripts[0].sql",
            REFUSED,
        ),
        (
            json!({"name": "x", "on_error": "panic", "scripts": [{"sql": "SELECT 1", "target_ids": [target]}]}),
            "on_error",
            BREAKS_DOC,
        ),
        (
            json!({"name": "", "scripts": [{"sql": "SELECT 1", "target_ids": [target]}]}),
            "name",
            BREAKS_DOC,
        ),
    ];
    for (body, field, status) in cases {
        let r = app.post_json("/api/jobs", Some(&t), body.clone()).await;
        let err = expect_error(r, status, "invalid_input").await;
        assert_eq!(err["field"], field, "{body}: {err}");
    }
    let page: Value = app
        .get("/api/jobs", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["total"], 0, "bad input creates nothing");
    let viewer = app.user_with_role("viewer").await;
    let r = app
        .post_json(
            "/api/jobs",
            Some(&viewer),
            json!({"name": "x", "scripts": [{"sql": "SELECT 1", "target_ids": [target]}]}),
        )
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let ok = submit(
        &app,
        &t,
        json!({"name": "by-tag", "scripts": [{"sql": "SELECT 1", "target_tags": ["demo"]}]}),
    )
    .await;
    wait_job(&app, &t, ok["id"].as_i64().expect("id"), 30, ended).await;
    let audit = app.audit("object_type=job").await;
    assert_eq!(audit[0]["action"], "submit");
    assert_eq!(audit[0]["detail"]["scripts"][0]["targets"][0], "lite");
}

#[actix_web::test]
async fn two_autodb_processes_on_one_postgresql_store_run_each_run_exactly_once() {
    let small = |s: &mut autodb::config::Settings| {
        s.engine.max_parallel_runs = 2;
        s.engine.poll_ms = 100;
    };
    let app = spawn_app_with("postgres", small).await;
    let _second = spawn_second(&app, small).await;
    let t = app.admin_token().await;
    let db = PgDb::new("once");
    pg_admin_db(&db.0, "CREATE TABLE hits (target text)");
    let mut ids = vec![];
    for i in 0..12 {
        ids.push(
            create_target(
                &app,
                &t,
                json!({"name": format!("same-db-{i}"), "engine": "postgres",
            "host": "127.0.0.1", "port": 5432, "database": db.0, "username": "postgres"}),
            )
            .await,
        );
    }
    let job = submit(&app, &t, json!({"name": "once", "scripts": [{"sql":
        "SELECT pg_sleep(0.2);\nINSERT INTO hits SELECT current_setting('application_name')", "target_ids": ids}]})).await;
    let done = wait_job(&app, &t, job["id"].as_i64().expect("id"), 60, ended).await;
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(
        pg_count(&db.0, "SELECT count(*) FROM hits"),
        12,
        "each run exactly once"
    );
}

#[actix_web::test]
async fn outcomes_count_each_day_s_ended_jobs_by_status_in_the_viewer_s_zone() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let path = app.sqlite_path("outcomes.db");
    let target = create_target(
        &app,
        &t,
        json!({"name": "lite", "engine": "sqlite", "database": path}),
    )
    .await;
    for sql in ["SELECT 1", "SELECT * FROM no_such_table", "SELECT 2"] {
        let job = submit(
            &app,
            &t,
            json!({"name": sql, "scripts": [{"sql": sql, "target_ids": [target]}]}),
        )
        .await;
        wait_job(&app, &t, job["id"].as_i64().expect("id"), 20, ended).await;
    }
    let today = || {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive()
    };
    let before = today();
    let r = app
        .get("/api/jobs/outcomes?days=3&timezone=Asia/Shanghai", Some(&t))
        .await;
    let after = today();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = r.json().await.expect("json");
    assert_eq!(got["timezone"], "Asia/Shanghai");
    let days = got["days"].as_array().expect("days");
    assert_eq!(days.len(), 3);
    let last = days[2]["date"].as_str().expect("date");
    assert!(
        [before.to_string(), after.to_string()].contains(&last.to_string()),
        "today last: {got}"
    );
    let first = (before - chrono::Duration::days(2)).to_string();
    assert!(days[0]["date"].as_str() >= Some(first.as_str()), "{got}");
    // Summed over the days: a local midnight may fall between two of the jobs.
    let total = |k: &str| days.iter().map(|d| d[k].as_i64().expect(k)).sum::<i64>();
    assert_eq!(
        (total("success"), total("error"), total("cancelled")),
        (2, 1, 0)
    );

    let body = expect_error(
        app.get("/api/jobs/outcomes?days=0", Some(&t)).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(body["field"], "days");
    let body = expect_error(
        app.get("/api/jobs/outcomes?timezone=Mars/Olympus", Some(&t))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    assert_eq!(body["field"], "timezone");
}
