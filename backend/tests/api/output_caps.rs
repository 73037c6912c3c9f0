//! Issue 8, finding 7: what a target sends back is bounded — notices per statement and per run,
//! result bytes per query, statements per query — and whatever is cut says how much.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, spawn_app_with, store_backend, TestApp};
use crate::jobs::{ended, pg_target, submit, wait_job, PgDb};
use crate::queries::{run, start};

/// The first column of the first row of `sql`, as text, read from the app's own store.
pub fn store_text(app: &TestApp, sql: &str) -> String {
    match app.pg_database() {
        Some(db) => crate::queries::pg_text(db, sql),
        None => {
            let c = rusqlite::Connection::open(app.dir.path().join("autodb.db")).expect("open");
            c.query_row(sql, [], |r| r.get::<_, Option<String>>(0))
                .expect("store query")
                .unwrap_or_default()
        }
    }
}

#[actix_web::test]
async fn a_job_raising_200000_notices_stores_a_bounded_log_that_counts_what_it_dropped() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("notices");
    let target = pg_target(&app, &t, &db).await;
    let sql = "DO $$ BEGIN FOR i IN 1..200000 LOOP RAISE NOTICE '%', repeat('x', 400); END LOOP; END $$;\nSELECT 1;";
    let job = submit(
        &app,
        &t,
        json!({"name": "flood", "scripts": [{"sql": sql, "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 180, ended).await;
    assert_eq!(done["status"], "success", "{done}");
    let run_id = done["scripts"][0]["runs"][0]["id"].as_i64().expect("run");
    // The row in the store is bounded: the defaults keep at most 256 KiB per statement.
    let stored: i64 = store_text(
        &app,
        &format!(
            "SELECT CAST(SUM(LENGTH(notices)) AS TEXT) FROM run_statements WHERE run_id = {run_id}"
        ),
    )
    .parse()
    .expect("a length");
    assert!(stored < 300 * 1024, "stored notices: {stored} bytes");
    let log: Value = app
        .get(&format!("/api/jobs/{id}/runs/{run_id}/log"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    let first = &log["statements"][0];
    let notices = first["notices"].as_array().expect("notices");
    let kept = notices.len() as i64 - 1;
    assert!(kept > 0 && kept <= 1000, "kept {kept}");
    assert_eq!(
        first["notices_dropped"].as_i64(),
        Some(200_000 - kept),
        "every dropped notice is counted: {}",
        first["notices_dropped"]
    );
    let marker = notices.last().and_then(Value::as_str).unwrap_or_default();
    assert!(
        marker.contains(&format_count(200_000 - kept)) && marker.contains("dropped"),
        "the last line says what was dropped: {marker}"
    );
    assert_eq!(log["statements"][1]["notices_dropped"], 0, "{log}");
}

/// 199358 -> "199,358", as the marker line writes counts.
fn format_count(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[actix_web::test]
async fn the_notices_of_a_run_are_capped_across_its_statements() {
    let app = spawn_app_with(&store_backend(), |s| {
        s.engine.max_notices_per_run = 25;
    })
    .await;
    let t = app.admin_token().await;
    let db = PgDb::new("runcap");
    let target = pg_target(&app, &t, &db).await;
    let one = "DO $$ BEGIN FOR i IN 1..10 LOOP RAISE NOTICE 'n%', i; END LOOP; END $$;\n";
    let job = submit(
        &app,
        &t,
        json!({"name": "runcap", "scripts": [{"sql": one.repeat(4), "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 60, ended).await;
    let run_id = done["scripts"][0]["runs"][0]["id"].as_i64().expect("run");
    let log: Value = app
        .get(&format!("/api/jobs/{id}/runs/{run_id}/log"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    let st = log["statements"].as_array().expect("statements");
    let dropped: Vec<i64> = st
        .iter()
        .map(|s| s["notices_dropped"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(dropped, [0, 0, 5, 10], "{log}");
    assert_eq!(st[0]["notices"].as_array().map(Vec::len), Some(10));
    // 5 kept and the marker line.
    assert_eq!(st[2]["notices"].as_array().map(Vec::len), Some(6), "{log}");
}

#[actix_web::test]
async fn a_query_of_5000_statements_is_refused_on_sql() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("many");
    let target = pg_target(&app, &t, &db).await;
    let r = app
        .post_json(
            "/api/queries",
            Some(&t),
            json!({"sql": "SELECT 1;".repeat(5000), "target_ids": [target]}),
        )
        .await;
    let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    assert_eq!(body["field"], "sql", "{body}");
    assert!(
        body["message"].to_string().contains("query.max_statements"),
        "{body}"
    );
    // At the limit it runs.
    let q = run(&app, &t, &"SELECT 1;".repeat(100), &[target]).await;
    assert_eq!(q["results"].as_array().map(Vec::len), Some(100));
}

#[actix_web::test]
async fn statements_near_the_per_statement_cap_stay_within_the_per_query_cap() {
    let app = spawn_app_with(&store_backend(), |s| {
        s.query.max_result_bytes = 64 * 1024;
        s.query.max_query_result_bytes = 160 * 1024;
    })
    .await;
    let t = app.admin_token().await;
    let db = PgDb::new("qcap");
    let target = pg_target(&app, &t, &db).await;
    // Each statement alone would keep ~64 KiB; four of them 256 KiB.
    let one = "SELECT repeat('x', 1000) FROM generate_series(1, 100);\n";
    let id = start(
        &app,
        &t,
        json!({"sql": one.repeat(4), "target_ids": [target]}),
    )
    .await;
    let q = crate::queries::wait_done(&app, &t, id, 60).await;
    let answer = app
        .get(&format!("/api/queries/{id}"), Some(&t))
        .await
        .text()
        .await
        .expect("text");
    assert!(
        answer.len() < 170 * 1024,
        "the GET answer is bounded: {} bytes",
        answer.len()
    );
    let stored: i64 = store_text(
        &app,
        &format!(
            "SELECT CAST(SUM(LENGTH(rows_json)) AS TEXT) FROM query_results WHERE query_id = {id}"
        ),
    )
    .parse()
    .expect("a length");
    assert!(stored <= 160 * 1024, "stored rows: {stored} bytes");
    let results = q["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    for r in results {
        assert_eq!(r["status"], "success", "{r}");
        assert_eq!(r["truncated"], true, "{r}");
    }
    assert_eq!(results[0]["truncated_by"], "max_result_bytes");
    assert_eq!(results[3]["truncated_by"], "max_query_result_bytes");
    assert_eq!(results[3]["row_count"], 0);
}
