//! Roles hold at every step (issue 8, findings 6 and 8): a demoted user keeps no power through
//! retry, export or an open stream, and a live stream ends with its session or its user.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, TestApp};
use crate::jobs::{ended, pg_target, submit, wait_job, PgDb};
use crate::queries::{pg_text, start, wait_done};

/// The id of the user a token belongs to.
pub async fn me(app: &TestApp, token: &str) -> i64 {
    let r = app.get("/api/auth/me", Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id")
}

/// Applies a user change as the admin.
pub async fn change_user(app: &TestApp, admin: &str, id: i64, change: Value) {
    let r = app
        .put_json(&format!("/api/users/{id}"), Some(admin), change.clone())
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{change}");
}

#[actix_web::test]
async fn a_developer_demoted_to_viewer_cannot_retry_or_cancel_their_job_and_nothing_runs_again() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("demoted_retry");
    let target = pg_target(&app, &admin, &db).await;
    let dev = app.user_with_role("developer").await;
    let dev_id = me(&app, &dev).await;
    let sql = "CREATE TABLE IF NOT EXISTS hits (n int);\nINSERT INTO hits VALUES (1);\nSELECT 1/0;";
    let job = submit(
        &app,
        &dev,
        json!({"name": "writes then fails", "scripts": [{"sql": sql, "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let failed = wait_job(&app, &dev, id, 30, ended).await;
    assert_eq!(failed["status"], "error", "{failed}");
    assert_eq!(pg_text(&db.0, "SELECT count(*) FROM hits"), "1");

    change_user(&app, &admin, dev_id, json!({"role": "viewer"})).await;
    let r = app
        .post_json(&format!("/api/jobs/{id}/retry"), Some(&dev), json!({}))
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .post_json(&format!("/api/jobs/{id}/cancel"), Some(&dev), json!({}))
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;

    // A retry that had been accepted would have written its runs before answering.
    let after: Value = app
        .get(&format!("/api/jobs/{id}"), Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after["attempt"], failed["attempt"], "{after}");
    assert_eq!(after["status"], "error", "{after}");
    assert_eq!(
        after["scripts"][0]["runs"].as_array().map(Vec::len),
        Some(1),
        "{after}"
    );
    assert_eq!(pg_text(&db.0, "SELECT count(*) FROM hits"), "1");
    assert!(app.audit("object_type=job&action=retry").await.is_empty());
    assert!(app.audit("object_type=job&action=cancel").await.is_empty());
}

#[actix_web::test]
async fn a_developer_demoted_to_viewer_cannot_re_run_their_query_through_csv_export() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("demoted_export");
    let target = pg_target(&app, &admin, &db).await;
    let dev = app.user_with_role("developer").await;
    let dev_id = me(&app, &dev).await;
    // Cut to 2 of 5 rows: an export re-runs the statement on the target.
    let id = start(
        &app,
        &dev,
        json!({"sql": "SELECT g FROM generate_series(1, 5) g", "target_ids": [target], "row_limit": 2}),
    )
    .await;
    let q = wait_done(&app, &dev, id, 30).await;
    assert_eq!(q["results"][0]["truncated"], true, "{q}");
    let csv = format!("/api/queries/{id}/results/{target}.csv");
    // While a developer: the export works (and is audited as a re-run).
    let r = app.get(&csv, Some(&dev)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.text().await.expect("body"),
        "g\r\n1\r\n2\r\n3\r\n4\r\n5\r\n"
    );
    assert_eq!(app.audit("object_type=query&action=export").await.len(), 1);

    change_user(&app, &admin, dev_id, json!({"role": "viewer"})).await;
    let r = app.get(&csv, Some(&dev)).await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    // No second export was recorded: the re-run (which is audited first) never started.
    assert_eq!(app.audit("object_type=query&action=export").await.len(), 1);
}

/// Reads an event stream until it closes; panics if it is still open at `deadline`.
pub async fn read_until_closed(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<actix_web::web::Bytes>> + Unpin),
    deadline: Instant,
) -> String {
    let mut out = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.next()).await {
            Ok(Some(Ok(chunk))) => out.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Some(Err(_))) | Ok(None) => return out,
            Err(_) => {
                let tail: String = out
                    .chars()
                    .rev()
                    .take(300)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                panic!(
                    "the stream is still open at its deadline; received {} bytes, ending: {tail}",
                    out.len()
                )
            }
        }
    }
}

/// Reads until `needle` has arrived (at most 15 s); returns what was read.
pub async fn read_until(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<actix_web::web::Bytes>> + Unpin),
    needle: &str,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut out = String::new();
    while !out.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.next()).await {
            Ok(Some(Ok(chunk))) => out.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("no {needle:?} in the stream ({:?}): {out}", other.is_ok()),
        }
    }
    out
}

/// A developer follows a slow query's events; `change` is applied to them; the stream must end
/// within 6 s (the auth cache period and one poll) with an `end` event that gives the reason,
/// and no result row may arrive after the change.
async fn a_query_stream_ends_after(change: Value, reason: &str) {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("stream_end");
    let target = pg_target(&app, &admin, &db).await;
    let dev = app.user_with_role("developer").await;
    let dev_id = me(&app, &dev).await;
    let id = start(
        &app,
        &dev,
        json!({"sql": "SELECT 'row-after-change' AS marker FROM (SELECT pg_sleep(9)) s",
               "target_ids": [target], "timeout_s": 30}),
    )
    .await;
    let r = app
        .client
        .get(app.url(&format!("/api/queries/{id}/events")))
        .bearer_auth(&dev)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let mut stream = r.bytes_stream();
    read_until(&mut stream, "event: snapshot").await;

    change_user(&app, &admin, dev_id, change).await;
    let changed = Instant::now();
    let rest = read_until_closed(&mut stream, changed + Duration::from_secs(7)).await;
    let took = changed.elapsed();
    assert!(took <= Duration::from_millis(6500), "ended after {took:?}");
    assert!(!rest.contains("row-after-change"), "{rest}");
    assert!(rest.contains("event: end\n"), "{rest}");
    assert!(rest.contains(reason), "{rest}");
    // The query itself still ends on its own (and is kept for the record).
    wait_done(&app, &admin, id, 30).await;
}

#[actix_web::test]
async fn disabling_a_user_ends_their_open_query_stream_within_six_seconds_and_no_rows_follow() {
    a_query_stream_ends_after(json!({"disabled": true}), "\"reason\":\"unauthenticated\"").await;
}

#[actix_web::test]
async fn demoting_a_developer_to_viewer_ends_their_open_query_stream() {
    a_query_stream_ends_after(json!({"role": "viewer"}), "\"reason\":\"forbidden\"").await;
}

#[actix_web::test]
async fn logging_out_ends_the_sessions_open_job_event_stream() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("stream_logout");
    let target = pg_target(&app, &admin, &db).await;
    let dev = app.user_with_role("developer").await;
    let job = submit(
        &app,
        &dev,
        json!({"name": "slow", "scripts": [{"sql": "SELECT pg_sleep(20)", "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let r = app
        .client
        .get(app.url(&format!("/api/jobs/{id}/events")))
        .bearer_auth(&dev)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let mut stream = r.bytes_stream();
    read_until(&mut stream, "event: snapshot").await;

    let r = app
        .post_json("/api/auth/logout", Some(&dev), json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let out = Instant::now();
    let rest = read_until_closed(&mut stream, out + Duration::from_secs(7)).await;
    assert!(out.elapsed() <= Duration::from_millis(6500));
    assert!(rest.contains("event: end\n"), "{rest}");
    assert!(rest.contains("\"reason\":\"unauthenticated\""), "{rest}");
    let r = app
        .post_json(&format!("/api/jobs/{id}/cancel"), Some(&admin), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn disabling_a_user_cuts_their_running_csv_export_and_cancels_the_re_run() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("export_cut");
    let target = pg_target(&app, &admin, &db).await;
    let dev = app.user_with_role("developer").await;
    let dev_id = me(&app, &dev).await;
    // Fast as the query itself (10 s limit); slow (20 ms a row, 30 s in all) when the export
    // re-runs it under its own limit (query.max_timeout_s, 5 min).
    let sql = "SELECT repeat('x', 3000) || g AS pad, 'exported-' || g AS marker, \
               pg_sleep(CASE WHEN current_setting('statement_timeout') = '10s' THEN 0 ELSE 0.02 END)::text AS s \
               FROM generate_series(1, 1500) g";
    let id = start(
        &app,
        &dev,
        json!({"sql": sql, "target_ids": [target], "row_limit": 1, "timeout_s": 10}),
    )
    .await;
    let q = wait_done(&app, &dev, id, 60).await;
    assert_eq!(q["results"][0]["truncated"], true, "{q}");
    let r = app
        .client
        .get(app.url(&format!("/api/queries/{id}/results/{target}.csv")))
        .bearer_auth(&dev)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let mut stream = r.bytes_stream();
    let first = read_until(&mut stream, "exported-1,").await;
    assert!(!first.contains("exported-1500"));

    change_user(&app, &admin, dev_id, json!({"disabled": true})).await;
    let changed = Instant::now();
    let rest = read_until_closed(&mut stream, changed + Duration::from_secs(7)).await;
    assert!(
        changed.elapsed() <= Duration::from_millis(6500),
        "cut after {:?}",
        changed.elapsed()
    );
    assert!(!rest.contains("exported-1500"), "the whole file went out");
    // The re-run is cancelled in the database, not left to finish.
    let deadline = Instant::now() + Duration::from_secs(10);
    let running = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' \
         AND query LIKE '%exported-%' AND pid <> pg_backend_pid()",
        db.0
    );
    while pg_text(&db.0, &running) != "0" {
        assert!(
            Instant::now() < deadline,
            "the export's statement still runs"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
