//! Fleets: jobs on thousands of targets, their scripts' counts, and the paged runs.

use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, TestApp};
use crate::jobs::{create_target, ended, submit, wait_job};

/// `n` SQLite targets tagged `tag`, written through the store in one transaction (the API
/// would take minutes for 10,000). Their files do not exist yet (a run creates an empty one).
fn sqlite_targets(app: &TestApp, tag: &str, n: usize) {
    use autodb::store::{now, targets, users};
    let dir = app.sqlite_dir.path().to_path_buf();
    let tags = [tag.to_string()];
    app.ctx
        .store
        .write_blocking(|tx| {
            let admin = users::by_name(tx, "admin")?.expect("admin").id;
            for i in 0..n {
                let fields = targets::TargetFields {
                    name: format!("{tag}-{i:05}"),
                    engine: "sqlite".into(),
                    host: String::new(),
                    port: 0,
                    database_name: dir.join(format!("absent-{i}.db")).display().to_string(),
                    username: String::new(),
                    password_enc: None,
                    options: "{}".into(),
                    updated_at: now(),
                    query_username: None,
                    query_password_enc: None,
                    trusted_for_queries: false,
                };
                targets::insert(tx, &fields, &tags, admin)?;
            }
            Ok::<_, autodb::store::error::StoreError>(())
        })
        .expect("targets");
}

fn counts_total(script: &Value) -> i64 {
    ["waiting", "running", "success", "error", "cancelled"]
        .iter()
        .map(|k| script["counts"][k].as_i64().expect("count"))
        .sum()
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.expect("json")
}

#[actix_web::test]
async fn a_job_on_ten_thousand_targets_is_accepted_and_lists_every_run() {
    let app = spawn_app().await;
    sqlite_targets(&app, "fleet", 10_000);
    // Logged in after: a connection left idle while the targets were written would be closed
    // by the server's keep-alive under the next request.
    let t = app.admin_token().await;
    let started = Instant::now();
    let job = submit(
        &app,
        &t,
        json!({"name": "fleet", "scripts": [{"sql": "SELECT 1;", "target_tags": ["fleet"]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    // Cancelled at once: the runs need not execute.
    let r = app
        .post_json(&format!("/api/jobs/{id}/cancel"), Some(&t), json!({}))
        .await;
    assert!(
        r.status() == StatusCode::OK || r.status() == StatusCode::CONFLICT,
        "{}",
        r.status()
    );
    let done = wait_job(&app, &t, id, 120, ended).await;
    let script = &done["scripts"][0];
    let runs = script["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 10_000);
    assert_eq!(counts_total(script), 10_000, "{}", script["counts"]);
    assert_eq!(script["counts"]["waiting"], 0);
    assert_eq!(script["counts"]["running"], 0);
    // Every run ended, and the counts say how.
    for status in ["success", "error", "cancelled"] {
        let n = runs.iter().filter(|r| r["status"] == status).count() as i64;
        assert_eq!(script["counts"][status], n, "{status}");
    }
    assert!(runs.iter().all(|r| r["script_index"] == 0));
    let page = get_json(
        &app,
        &t,
        &format!("/api/jobs/{id}/runs?page=10&per_page=1000"),
    )
    .await;
    assert_eq!(page["total"], 10_000);
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1000);
    assert_eq!(items[999]["target_name"], "fleet-09999");
    eprintln!(
        "10,000 targets: submitted and ended in {:?}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn a_fleet_job_runs_to_its_end_with_its_counts_and_a_retry_counts_the_new_attempt() {
    let app = spawn_app().await;
    sqlite_targets(&app, "small", 300);
    let t = app.admin_token().await;
    let job = submit(
        &app,
        &t,
        json!({"name": "small", "on_error": "continue", "scripts": [
            {"sql": "SELECT * FROM absent_table;", "target_tags": ["small"]},
            {"sql": "SELECT * FROM absent_table;", "target_tags": ["small"]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 120, ended).await;
    // No such table: every run fails, and both scripts run (on_error: continue).
    assert_eq!(done["status"], "error", "{}", done["scripts"][0]["counts"]);
    for s in done["scripts"].as_array().expect("scripts") {
        assert_eq!(s["status"], "error");
        assert_eq!(s["counts"]["error"], 300, "{}", s["counts"]);
        assert_eq!(counts_total(s), 300);
    }
    let r = app
        .post_json(&format!("/api/jobs/{id}/retry"), Some(&t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let again = wait_job(&app, &t, id, 120, |j| ended(j) && j["attempt"] == 2).await;
    let s = &again["scripts"][0];
    // The counts are of latest attempts: 300, not 600; the first attempts are superseded.
    assert_eq!(s["counts"]["error"], 300, "{}", s["counts"]);
    assert_eq!(counts_total(s), 300);
    let runs = s["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 600);
    for r in runs {
        assert_eq!(r["superseded"], r["attempt"] == 1, "{r}");
        assert!(r["late_status"].is_null());
    }
}

#[actix_web::test]
async fn runs_are_paged_filtered_by_script_and_status_and_ordered() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    // Two SQLite databases and a file that is not one: two successes and one error per script.
    let mut ids = vec![];
    for name in ["c", "a", "b"] {
        let path = app.sqlite_path(&format!("{name}.db"));
        let content: &[u8] = if name == "b" {
            b"this is not a SQLite database, only a text file long enough to be read as one"
        } else {
            b""
        };
        std::fs::write(&path, content).expect("write file");
        ids.push(
            create_target(
                &app,
                &t,
                json!({"name": format!("t-{name}"), "engine": "sqlite",
                       "database": path.display().to_string()}),
            )
            .await,
        );
    }
    let job = submit(
        &app,
        &t,
        json!({"name": "paged", "on_error": "continue", "scripts": [
            {"sql": "SELECT 1;", "target_ids": ids},
            {"sql": "SELECT 2;", "target_ids": ids}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    wait_job(&app, &t, id, 60, ended).await;

    let all = get_json(&app, &t, &format!("/api/jobs/{id}/runs")).await;
    assert_eq!(all["total"], 6);
    assert_eq!(all["page"], 1);
    assert_eq!(all["per_page"], 100);
    let order: Vec<(i64, String)> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| {
            (
                r["script_index"].as_i64().expect("script"),
                r["target_name"].as_str().expect("name").to_string(),
            )
        })
        .collect();
    let want: Vec<(i64, String)> = [0, 1]
        .iter()
        .flat_map(|s| ["t-a", "t-b", "t-c"].map(|n| (*s, n.to_string())))
        .collect();
    assert_eq!(order, want);

    let page2 = get_json(&app, &t, &format!("/api/jobs/{id}/runs?per_page=4&page=2")).await;
    assert_eq!(page2["total"], 6);
    assert_eq!(page2["items"].as_array().expect("items").len(), 2);
    assert_eq!(page2["items"][0]["target_name"], "t-b");

    let errors = get_json(
        &app,
        &t,
        &format!("/api/jobs/{id}/runs?script=1&status=error"),
    )
    .await;
    assert_eq!(errors["total"], 1, "{errors}");
    assert_eq!(errors["items"][0]["target_name"], "t-b");
    assert_eq!(errors["items"][0]["script_index"], 1);

    for (query, field) in [
        ("status=done", "status"),
        ("per_page=1001", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("script=-1", "script"),
    ] {
        let r = app
            .get(&format!("/api/jobs/{id}/runs?{query}"), Some(&t))
            .await;
        let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
        assert_eq!(err["field"], field, "{query}: {err}");
    }
    let r = app.get("/api/jobs/999999/runs", Some(&t)).await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    // Without credentials (a client without the login's session cookie): refused.
    let r = crate::helpers::client()
        .get(app.url(&format!("/api/jobs/{id}/runs")))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A viewer reads jobs, so it reads their runs.
    let viewer = app.user_with_role("viewer").await;
    let r = app
        .get(&format!("/api/jobs/{id}/runs"), Some(&viewer))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}
