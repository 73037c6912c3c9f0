//! `GET /metrics`: who may scrape it, and what it shows once work ran.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, store_backend};
use crate::jobs::{create_target, submit, wait_job};

/// The value of the sample `name{labels}` (labels exactly as written), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[actix_web::test]
async fn metrics_need_an_admin_and_an_admin_api_token_scrapes_them() {
    let app = spawn_app().await;
    let anonymous = app.get("/metrics", None).await;
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let developer = app.user_with_role("developer").await;
    let r = app.get("/metrics", Some(&developer)).await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let operator = app.user_with_role("operator").await;
    let r = app.get("/metrics", Some(&operator)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A client cannot grow the label set: odd methods and unknown paths share one label each.
    let odd = reqwest::Method::from_bytes(b"FROBNICATE").expect("method");
    app.request(odd, "/api/jobs", None, None).await;
    app.get("/no/such/path-4711", None).await;

    let admin = app.admin_token().await;
    let r = app
        .post_json("/api/auth/tokens", Some(&admin), json!({"name": "scraper"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = r.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string();
    let r = app.get("/metrics", Some(&token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = r.text().await.expect("text");
    assert!(
        text.contains("# TYPE autodb_http_requests_total counter"),
        "{text}"
    );
    // The refusals above were counted under the route pattern, by status.
    let refused = sample(
        &text,
        "autodb_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"403\"}",
    );
    assert!(refused.is_some_and(|n| n >= 2.0), "{text}");
    assert!(
        text.contains("method=\"other\",route=\"/api/jobs\""),
        "{text}"
    );
    assert!(
        text.contains("route=\"unmatched\",status=\"404\""),
        "{text}"
    );
    assert!(
        !text.contains("FROBNICATE") && !text.contains("4711"),
        "{text}"
    );
    // The engine's pool: 4 connections on SQLite (one writer at a time), database.pool_size
    // (10) on PostgreSQL.
    let engine_max = if store_backend() == "postgres" {
        10.0
    } else {
        4.0
    };
    assert_eq!(
        sample(&text, "autodb_store_pool_max_connections{pool=\"engine\"}"),
        Some(engine_max),
        "{text}"
    );
}

#[actix_web::test]
async fn after_a_job_ran_metrics_show_its_runs_its_duration_and_its_routes_by_pattern() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let path = app.sqlite_path("metrics.db");
    let target = create_target(
        &app,
        &t,
        json!({"name": "lite", "engine": "sqlite", "database": path}),
    )
    .await;
    let job = submit(
        &app,
        &t,
        json!({"name": "m", "scripts": [{"sql": "SELECT 1", "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 30, |j| j["finished_at"].is_string()).await;
    assert_eq!(done["status"], "success", "{done}");

    let r = app.get("/metrics", Some(&t)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.expect("text");
    // Counted from this app's own store: exact.
    assert_eq!(
        sample(&text, "autodb_job_runs{status=\"success\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "autodb_jobs{status=\"success\"}"), Some(1.0));
    // The run's item left the queue; the queue of every kind is shown all the same.
    assert_eq!(
        sample(
            &text,
            "autodb_work_items{kind=\"job_run\",status=\"waiting\"}"
        ),
        Some(0.0),
        "{text}"
    );
    // Recorded by the process (shared by every app of this test binary): at least ours.
    let runs = sample(
        &text,
        "autodb_work_duration_seconds_count{kind=\"job_run\"}",
    );
    assert!(runs.is_some_and(|n| n >= 1.0), "{text}");
    let reads = sample(
        &text,
        "autodb_http_requests_total{method=\"GET\",route=\"/api/jobs/{id}\",status=\"200\"}",
    );
    assert!(reads.is_some_and(|n| n >= 1.0), "{text}");
    assert!(
        !text.contains(&format!("/api/jobs/{id}\"")),
        "a raw path is never a label: {text}"
    );
    assert!(text.contains("autodb_store_operation_duration_seconds_bucket{le="));
}

#[actix_web::test]
async fn a_request_id_is_echoed_when_plain_and_replaced_when_not() {
    let app = spawn_app().await;
    let get = |id: &'static str| {
        app.client
            .get(app.url("/api/health"))
            .header("X-Request-Id", id)
            .send()
    };
    let r = get("abc").await.expect("send");
    assert_eq!(r.headers()["x-request-id"], "abc");
    let r = get("no spaces; please").await.expect("send");
    let made = r.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
    let r = app.get("/api/health", None).await;
    assert!(r.headers().contains_key("x-request-id"));
}
