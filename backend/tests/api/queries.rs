//! Queries: read-only SQL on real PostgreSQL, MariaDB and SQLite targets; results, limits,
//! long-poll, events, history, cancel, timeouts, permissions, the query account.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    expect_error, pg_admin, spawn_app, spawn_app_with, store_backend, stream_body, TestApp,
    BREAKS_DOC, REFUSED,
};
use crate::jobs::{create_target, pg_target, PgDb};

/// A fresh MariaDB database for one test, dropped when the guard goes.
pub struct MariaDb(pub String);

impl MariaDb {
    pub fn new(tag: &str) -> Self {
        let name = format!("autodb_q_{tag}_{}", uuid::Uuid::new_v4().simple());
        maria_exec(None, &format!("CREATE DATABASE {name}"));
        Self(name)
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            maria_exec(None, &format!("DROP DATABASE IF EXISTS {}", self.0))
        });
    }
}

fn maria_conn(db: Option<&str>) -> mysql::Conn {
    mysql::Conn::new(
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .prefer_socket(false)
            .user(Some("root"))
            .db_name(db),
    )
    .expect("mariadb")
}

pub fn maria_exec(db: Option<&str>, sql: &str) {
    use mysql::prelude::Queryable;
    maria_conn(db).query_drop(sql).expect("mariadb sql");
}

pub fn maria_text(db: &str, sql: &str) -> String {
    use mysql::prelude::Queryable;
    let v: Option<Option<String>> = maria_conn(Some(db))
        .query_first(sql)
        .expect("mariadb query");
    v.flatten().unwrap_or_default()
}

/// Runs `sql` on a PostgreSQL database as the superuser, on a plain thread; the first column of
/// the first row as text ("" when none).
pub fn pg_text(db: &str, sql: &str) -> String {
    let (db, sql) = (db.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(
            &format!("host=127.0.0.1 user=postgres dbname={db}"),
            postgres::NoTls,
        )
        .expect("connect");
        let rows = c.simple_query(&sql).expect("sql");
        rows.iter()
            .find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("").to_string()),
                _ => None,
            })
            .unwrap_or_default()
    })
    .join()
    .expect("thread")
}

/// A target on MariaDB's root, marked trusted for queries (see `pg_target`).
pub async fn maria_target(app: &TestApp, token: &str, db: &MariaDb) -> i64 {
    create_target(
        app,
        token,
        json!({"name": db.0, "engine": "mysql", "host": "127.0.0.1",
        "port": 3306, "database": db.0, "username": "root", "trusted_for_queries": true}),
    )
    .await
}

pub async fn sqlite_target(app: &TestApp, token: &str, name: &str) -> (i64, std::path::PathBuf) {
    let path = app.sqlite_path(&format!("{name}.db"));
    let id = create_target(
        app,
        token,
        json!({"name": name, "engine": "sqlite", "database": path}),
    )
    .await;
    (id, path)
}

/// Submits a query and returns its id.
pub async fn start(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app
        .post_json("/api/queries", Some(token), body.clone())
        .await;
    let status = r.status();
    let created: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}: {created}");
    created["id"].as_i64().expect("id")
}

/// Long-polls the query until it has ended (at most `secs`).
pub async fn wait_done(app: &TestApp, token: &str, id: i64, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = app
            .get(&format!("/api/queries/{id}?wait_ms=10000"), Some(token))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let q: Value = r.json().await.expect("json");
        if q["finished_at"].is_string() {
            return q;
        }
        assert!(
            Instant::now() < deadline,
            "query did not end in {secs}s: {q}"
        );
    }
}

/// Runs `sql` on `targets` and waits for the answer.
pub async fn run(app: &TestApp, token: &str, sql: &str, targets: &[i64]) -> Value {
    let id = start(app, token, json!({"sql": sql, "target_ids": targets})).await;
    wait_done(app, token, id, 60).await
}

pub fn result_for(q: &Value, target: i64) -> Value {
    q["results"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["target_id"] == target).cloned())
        .unwrap_or_else(|| panic!("no result for target {target}: {q}"))
}

#[actix_web::test]
async fn a_fast_query_on_one_target_answers_in_a_single_long_poll() {
    let app = spawn_app().await;
    let t = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let (target, _) = sqlite_target(&app, &admin, "fast").await;
    let r = app
        .post_json(
            "/api/queries",
            Some(&t),
            json!({"sql": "SELECT 1 AS one, 'x' AS letter", "target_ids": [target]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.expect("json");
    let id = created["id"].as_i64().expect("id");
    let asked = Instant::now();
    let q: Value = app
        .get(&format!("/api/queries/{id}?wait_ms=10000"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert!(asked.elapsed() < Duration::from_secs(5));
    assert_eq!(q["status"], "success", "{q}");
    assert_eq!(q["sql"], "SELECT 1 AS one, 'x' AS letter");
    assert!(q["created_by"]
        .as_str()
        .is_some_and(|s| s.starts_with("developer")));
    let res = &q["results"][0];
    assert_eq!(res["target_name"], "fast");
    assert_eq!(res["columns"][0]["name"], "one");
    assert!(res["columns"][0]["type"].is_string(), "{res}");
    assert_eq!(
        res["rows"],
        json!([[{"t": "int", "v": 1}, {"t": "text", "v": "x"}]])
    );
    assert_eq!(res["row_count"], 1);
    assert_eq!(res["truncated"], false);
    assert!(res["duration_ms"].as_f64().is_some());
    assert!(res["error"].is_null());
}

#[actix_web::test]
async fn viewers_get_403_and_bad_input_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (target, _) = sqlite_target(&app, &admin, "v").await;
    let viewer = app.user_with_role("viewer").await;
    let r = app
        .post_json(
            "/api/queries",
            Some(&viewer),
            json!({"sql": "SELECT 1", "target_ids": [target]}),
        )
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    for role in ["developer", "operator"] {
        let t = app.user_with_role(role).await;
        start(&app, &t, json!({"sql": "SELECT 1", "target_ids": [target]})).await;
    }
    let dev = app.user_with_role("developer").await;
    let cases = [
        (
            json!({"sql": "SELECT 1", "target_ids": [target], "row_limit": 10001}),
            "row_limit",
            BREAKS_DOC,
        ),
        (
            json!({"sql": "SELECT 1", "target_ids": [target], "row_limit": 0}),
            "row_limit",
            BREAKS_DOC,
        ),
        (
            json!({"sql": "SELECT 1", "target_ids": [target], "timeout_s": 301}),
            "timeout_s",
            BREAKS_DOC,
        ),
        (
            json!({"sql": "SELECT 1", "target_ids": [target], "timeout_s": -1}),
            "timeout_s",
            BREAKS_DOC,
        ),
        (
            json!({"sql": "", "target_ids": [target]}),
            "sql",
            BREAKS_DOC,
        ),
        (json!({"sql": "SELECT 1"}), "target_ids", REFUSED),
        (
            json!({"sql": "SELECT 1", "target_ids": [987654]}),
            "target_ids",
            REFUSED,
        ),
        (
            json!({"sql": "SELECT 1", "target_tags": ["nope"]}),
            "target_tags",
            REFUSED,
        ),
        (
            json!({"sql": "SELECT 1", "target_ids": [target], "limit": 3}),
            "limit",
            BREAKS_DOC,
        ),
        (
            json!({"sql": "DELETE FROM t", "target_ids": [target]}),
            "sql",
            REFUSED,
        ),
    ];
    for (body, field, status) in cases {
        let r = app
            .post_json("/api/queries", Some(&dev), body.clone())
            .await;
        let err = expect_error(r, status, "invalid_input").await;
        assert_eq!(err["field"], field, "{body}: {err}");
    }
    let r = app.get("/api/queries/1?wait_ms=60000", Some(&dev)).await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "wait_ms");
}

#[actix_web::test]
async fn a_statement_that_is_not_a_query_is_named_and_the_attempt_is_audited() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("q400");
    let target = pg_target(&app, &admin, &db).await;
    let dev = app.user_with_role("developer").await;
    let r = app
        .post_json(
            "/api/queries",
            Some(&dev),
            json!({"sql": "SELECT 1;\nDELETE FROM t;", "target_ids": [target]}),
        )
        .await;
    let err = expect_error(r, REFUSED, "invalid_input").await;
    assert_eq!(err["field"], "sql");
    let msg = err["message"].as_str().expect("message");
    assert!(
        msg.contains("statement 2 (line 2) is a DELETE, not a query"),
        "{msg}"
    );
    let id = start(
        &app,
        &dev,
        json!({"sql": "SELECT 42", "target_ids": [target]}),
    )
    .await;
    wait_done(&app, &dev, id, 30).await;
    let audit = app.audit("object_type=query").await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["action"], "run");
    assert_eq!(audit[0]["success"], true);
    assert_eq!(audit[0]["object_id"], id.to_string());
    assert_eq!(audit[0]["detail"]["sql"], "SELECT 42");
    assert_eq!(audit[0]["detail"]["targets"], json!([db.0]));
    assert!(audit[0]["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("developer")));
    assert_eq!(audit[1]["success"], false);
    assert_eq!(audit[1]["detail"]["sql"], "SELECT 1;\nDELETE FROM t;");
    assert!(audit[1]["detail"]["refused"]
        .as_str()
        .is_some_and(|m| m.contains("DELETE")));
}

#[actix_web::test]
async fn a_down_target_is_a_result_error_with_the_database_message_while_others_answer() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let pg = PgDb::new("mix");
    let good_pg = pg_target(&app, &t, &pg).await;
    let maria = MariaDb::new("mix");
    let good_maria = maria_target(&app, &t, &maria).await;
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
        json!({"name": "refused", "engine": "mysql", "host": "127.0.0.1", "port": 3306,
        "database": "test", "username": "root", "password": "certainly-wrong"}),
    )
    .await;
    let q = run(
        &app,
        &t,
        "SELECT 40 + 2 AS answer",
        &[good_pg, good_maria, down, refused],
    )
    .await;
    assert_eq!(q["status"], "error", "{q}");
    assert_eq!(q["results"].as_array().map(Vec::len), Some(4));
    for good in [good_pg, good_maria] {
        let r = result_for(&q, good);
        assert_eq!(r["status"], "success", "{r}");
        assert_eq!(r["rows"][0][0]["v"], 42, "{r}");
    }
    let d = result_for(&q, down);
    assert_eq!(d["status"], "error");
    assert!(
        d["error"]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("refused") || m.contains("connect")),
        "{d}"
    );
    let r = result_for(&q, refused);
    assert_eq!(r["status"], "error");
    assert!(
        r["error"]
            .as_str()
            .is_some_and(|m| m.contains("Access denied")),
        "{r}"
    );
    assert_eq!(r["error_code"], "1045");
}

fn pg_active(db: &str, needle: &str) -> i64 {
    pg_text(
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' \
             AND query LIKE '%{needle}%' AND state = 'active' AND pid <> pg_backend_pid()"
        ),
    )
    .parse()
    .expect("count")
}

#[actix_web::test]
async fn a_timeout_is_enforced_by_the_database_and_the_statement_is_gone_there() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("tmo");
    let target = pg_target(&app, &t, &db).await;
    let started = Instant::now();
    let id = start(
        &app,
        &t,
        json!({"sql": "SELECT pg_sleep(30) AS slept_tmo", "target_ids": [target], "timeout_s": 1}),
    )
    .await;
    let q = wait_done(&app, &t, id, 20).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let r = &q["results"][0];
    assert_eq!(r["status"], "error", "{q}");
    assert_eq!(r["error_code"], "57014", "{r}");
    assert!(
        r["error"]
            .as_str()
            .is_some_and(|m| m.contains("statement timeout")),
        "{r}"
    );
    assert_eq!(
        pg_active(&db.0, "slept_tmo"),
        0,
        "the statement still runs in PostgreSQL"
    );
}

#[actix_web::test]
async fn a_cancel_stops_a_running_query_in_the_database() {
    let app = spawn_app().await;
    let t = app.user_with_role("developer").await;
    let admin = app.admin_token().await;
    let db = PgDb::new("qcancel");
    let target = pg_target(&app, &admin, &db).await;
    let id = start(
        &app,
        &t,
        json!({"sql": "SELECT pg_sleep(60) AS slept_cancel", "target_ids": [target]}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while pg_active(&db.0, "slept_cancel") == 0 {
        assert!(
            Instant::now() < deadline,
            "the query never showed up as running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = Instant::now();
    let r = app
        .post_json(&format!("/api/queries/{id}/cancel"), Some(&t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let q = wait_done(&app, &t, id, 10).await;
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(q["status"], "cancelled", "{q}");
    assert_eq!(q["results"][0]["status"], "cancelled");
    assert_eq!(
        pg_active(&db.0, "slept_cancel"),
        0,
        "still running in PostgreSQL"
    );
    let r = app
        .post_json(&format!("/api/queries/{id}/cancel"), Some(&t), json!({}))
        .await;
    expect_error(r, StatusCode::CONFLICT, "conflict").await;
    let audit = app.audit("object_type=query&action=cancel").await;
    assert_eq!(audit.len(), 1);
}

#[actix_web::test]
async fn history_shows_each_user_their_own_queries_and_admins_all_of_them() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (target, _) = sqlite_target(&app, &admin, "hist").await;
    let alice = app.user_with_role("developer").await;
    let bob = app.user_with_role("operator").await;
    let a1 = start(
        &app,
        &alice,
        json!({"sql": "SELECT 'a1'", "target_ids": [target]}),
    )
    .await;
    let a2 = start(
        &app,
        &alice,
        json!({"sql": "SELECT 'a2'", "target_ids": [target]}),
    )
    .await;
    let b1 = start(
        &app,
        &bob,
        json!({"sql": "SELECT 'b1'", "target_ids": [target]}),
    )
    .await;
    for (tok, id) in [(&alice, a1), (&alice, a2), (&bob, b1)] {
        wait_done(&app, tok, id, 30).await;
    }
    let page = |tok: String, q: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/api/queries{q}"), Some(&tok)).await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.expect("json")
        }
    };
    let mine = page(alice.clone(), "").await;
    assert_eq!(mine["total"], 2);
    assert_eq!(mine["items"][0]["id"], a2, "newest first");
    assert_eq!(mine["items"][0]["sql"], "SELECT 'a2'");
    let all = page(admin.clone(), "").await;
    assert_eq!(all["total"], 3);
    let paged = page(admin.clone(), "?per_page=1&page=2").await;
    assert_eq!(paged["items"][0]["id"], a2);
    let ok = page(admin.clone(), "?status=success").await;
    assert_eq!(ok["total"], 3);
    // Others' queries do not exist for a non-admin; admins see them.
    let r = app.get(&format!("/api/queries/{b1}"), Some(&alice)).await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = app
        .post_json(
            &format!("/api/queries/{b1}/cancel"),
            Some(&alice),
            json!({}),
        )
        .await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.get(&format!("/api/queries/{b1}"), Some(&admin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.get("/api/queries?colour=red", Some(&admin)).await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "colour");
}

#[actix_web::test]
async fn live_events_send_a_snapshot_each_result_as_it_ends_and_the_end() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("qev");
    let slow = pg_target(&app, &t, &db).await;
    let id = start(
        &app,
        &t,
        json!({"sql": "SELECT 7 AS seven FROM (SELECT pg_sleep(1)) s", "target_ids": [slow]}),
    )
    .await;
    let body = stream_body(&app, &t, &format!("/api/queries/{id}/events"), 30).await;
    assert!(body.starts_with("event: snapshot\n"), "{body}");
    assert!(body.contains("event: result\n"), "{body}");
    assert!(
        body.trim_end().ends_with("\"status\":\"success\"}"),
        "{body}"
    );
    let result = body
        .lines()
        .find(|l| l.starts_with("data: ") && l.contains("\"result\""))
        .map(|l| serde_json::from_str::<Value>(&l[6..]).expect("json"))
        .expect("a result event");
    assert_eq!(result["result"]["rows"], json!([[{"t": "int", "v": 7}]]));
}

#[actix_web::test]
async fn both_event_streams_are_uncached_unbuffered_and_never_compressed() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let (target, _) = sqlite_target(&app, &t, "sse_headers").await;
    let job = crate::jobs::submit(
        &app,
        &t,
        json!({"name": "h", "scripts": [{"sql": "SELECT 1;", "target_ids": [target]}]}),
    )
    .await;
    let query = start(
        &app,
        &t,
        json!({"sql": "SELECT 1 AS one", "target_ids": [target]}),
    )
    .await;
    let paths = [
        format!("/api/jobs/{}/events", job["id"]),
        format!("/api/queries/{query}/events"),
    ];
    for path in paths {
        let r = app
            .client
            .get(app.url(&path))
            .bearer_auth(&t)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "text/event-stream", "{path}");
        assert_eq!(h["cache-control"], "no-cache", "{path}");
        assert_eq!(h["x-accel-buffering"], "no", "{path}");
        let encoding = h.get("content-encoding").map(|v| v.to_str().unwrap_or("?"));
        assert!(
            matches!(encoding, None | Some("identity")),
            "{path}: {encoding:?}"
        );
        let body = tokio::time::timeout(Duration::from_secs(30), r.text())
            .await
            .expect("the stream ends with its resource")
            .expect("body");
        assert!(
            body.starts_with("event: snapshot\ndata: {"),
            "{path}: {body}"
        );
        assert!(body.contains("event: end\n"), "{path}: {body}");
        assert!(body.ends_with("\n\n"), "{path}: {body}");
    }
}

/// Runs `sql` on the app's own store (PostgreSQL or the SQLite file), waiting out its writers.
fn store_exec(app: &TestApp, sql: &str) {
    match app.pg_database() {
        Some(db) => {
            let (db, sql) = (db.to_string(), sql.to_string());
            std::thread::spawn(move || {
                let url = format!("host=127.0.0.1 user=postgres dbname={db}");
                let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                c.batch_execute(&sql).expect("store sql");
            })
            .join()
            .expect("thread");
        }
        None => {
            let c = rusqlite::Connection::open(app.dir.path().join("autodb.db")).expect("open");
            c.busy_timeout(Duration::from_secs(10))
                .expect("busy timeout");
            c.execute_batch(sql).expect("store sql");
        }
    }
}

#[actix_web::test]
async fn a_query_stream_whose_read_fails_on_the_server_ends_with_stream_error() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("qev_fail");
    let slow = pg_target(&app, &t, &db).await;
    let id = start(
        &app,
        &t,
        json!({"sql": "SELECT 1 AS one FROM (SELECT pg_sleep(6)) s", "target_ids": [slow]}),
    )
    .await;
    let r = app
        .client
        .get(app.url(&format!("/api/queries/{id}/events")))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let mut stream = r.bytes_stream();
    // Running (the result row too, written with it): what is left to write is the end.
    let seen = crate::roles::read_until(&mut stream, "\"status\":\"running\"").await;
    assert!(seen.starts_with("event: snapshot\n"), "{seen}");

    // The stream's next read of the results fails in the store.
    store_exec(
        &app,
        "ALTER TABLE query_results RENAME TO query_results_away",
    );
    let cut = Instant::now();
    let rest = crate::roles::read_until_closed(&mut stream, cut + Duration::from_secs(10)).await;
    store_exec(
        &app,
        "ALTER TABLE query_results_away RENAME TO query_results",
    );
    assert!(
        rest.contains("event: stream_error\ndata: {\"message\":"),
        "{rest}"
    );
    assert!(!rest.contains("event: error\n"), "{rest}");
    assert!(
        !rest.contains("event: end\n"),
        "a failure is not an end: {rest}"
    );
    // The query itself is unharmed and ends on its own.
    let q = wait_done(&app, &t, id, 30).await;
    assert_eq!(q["status"], "success", "{q}");
}

#[actix_web::test]
async fn the_row_limit_and_the_byte_limit_truncate_the_stored_page_and_say_so() {
    let app = spawn_app_with(&store_backend(), |s| s.query.max_result_bytes = 4096).await;
    let t = app.admin_token().await;
    let db = PgDb::new("qlim");
    let target = pg_target(&app, &t, &db).await;
    let id = start(
        &app,
        &t,
        json!({"sql": "SELECT g FROM generate_series(1, 50) g", "target_ids": [target], "row_limit": 10}),
    )
    .await;
    let q = wait_done(&app, &t, id, 30).await;
    let r = &q["results"][0];
    assert_eq!(r["row_count"], 10, "{r}");
    assert_eq!(r["rows"].as_array().map(Vec::len), Some(10));
    assert_eq!(r["truncated"], true);
    assert_eq!(r["truncated_by"], "row_limit");
    let q = run(
        &app,
        &t,
        "SELECT repeat('x', 100) FROM generate_series(1, 1000)",
        &[target],
    )
    .await;
    let r = &q["results"][0];
    assert_eq!(r["truncated"], true, "{r}");
    assert_eq!(r["truncated_by"], "max_result_bytes");
    let n = r["row_count"].as_i64().expect("count");
    assert!(n > 10 && n < 40, "{n}");
    let q = run(&app, &t, "SELECT g FROM generate_series(1, 5) g", &[target]).await;
    assert_eq!(q["results"][0]["truncated"], false);
    assert!(q["results"][0]["truncated_by"].is_null());
}

#[actix_web::test]
async fn several_queries_give_one_result_per_target_and_statement() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("qmulti");
    let target = pg_target(&app, &t, &db).await;
    let q = run(&app, &t, "SELECT 1 AS a;\n\nSELECT 'two' AS b;", &[target]).await;
    assert_eq!(q["status"], "success", "{q}");
    let rs = q["results"].as_array().expect("results");
    assert_eq!(rs.len(), 2);
    assert_eq!(rs[1]["statement_index"], 1);
    assert_eq!(rs[1]["line"], 3);
    assert_eq!(rs[1]["rows"][0][0]["v"], "two");
    // The first failing statement ends the target; the rest are not run.
    let q = run(
        &app,
        &t,
        "SELECT * FROM missing_table;\nSELECT 2;",
        &[target],
    )
    .await;
    let rs = q["results"].as_array().expect("results");
    assert_eq!(rs[0]["status"], "error");
    assert_eq!(rs[0]["error_code"], "42P01");
    assert_eq!(rs[1]["status"], "cancelled");
    assert_eq!(q["status"], "error");
}

#[actix_web::test]
async fn a_target_query_account_is_used_for_queries_and_its_password_never_returned() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("qacct");
    let role = format!("autodb_reader_{}", uuid::Uuid::new_v4().simple());
    let secret = "reader-secret-pw-9137";
    pg_admin(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD '{secret}'; GRANT CONNECT ON DATABASE {} TO {role}",
        db.0
    ))
    .expect("role");
    let r = app
        .post_json(
            "/api/targets",
            Some(&t),
            json!({"name": "acct", "engine": "postgres", "host": "127.0.0.1", "port": 5432,
            "database": db.0, "username": "postgres", "query_username": role,
            "query_password": secret}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let text = r.text().await.expect("body");
    assert!(!text.contains(secret), "{text}");
    let created: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(created["query_username"], role);
    assert_eq!(created["has_query_password"], true);
    assert!(created.get("query_password").is_none());
    let id = created["id"].as_i64().expect("id");
    let q = run(&app, &t, "SELECT current_user AS who", &[id]).await;
    assert_eq!(q["results"][0]["rows"][0][0]["v"], role, "{q}");
    // An update without query_password keeps it; clearing the account uses the main one.
    let body = json!({"name": "acct", "engine": "postgres", "host": "127.0.0.1", "port": 5432,
        "database": db.0, "username": "postgres", "query_username": role});
    let r = app
        .put_json(&format!("/api/targets/{id}"), Some(&t), body)
        .await;
    let updated: Value = r.json().await.expect("json");
    assert_eq!(updated["has_query_password"], true);
    let q = run(&app, &t, "SELECT current_user AS who", &[id]).await;
    assert_eq!(q["results"][0]["rows"][0][0]["v"], role);
    // The main account is the superuser: queries through it need the admin's trust.
    let body = json!({"name": "acct", "engine": "postgres", "host": "127.0.0.1", "port": 5432,
        "database": db.0, "username": "postgres", "trusted_for_queries": true});
    let r = app
        .put_json(&format!("/api/targets/{id}"), Some(&t), body)
        .await;
    let updated: Value = r.json().await.expect("json");
    assert!(updated["query_username"].is_null());
    assert_eq!(updated["has_query_password"], false);
    let q = run(&app, &t, "SELECT current_user AS who", &[id]).await;
    assert_eq!(q["results"][0]["rows"][0][0]["v"], "postgres");
    let audit = app.audit("object_type=target").await;
    assert!(!serde_json::to_string(&audit)
        .expect("json")
        .contains(secret));
    drop(db);
    let _ = pg_admin(&format!("DROP ROLE IF EXISTS {role}"));
}
