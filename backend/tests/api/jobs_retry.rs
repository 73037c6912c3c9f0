//! Retry from where a run stopped: on MariaDB each statement commits, so running the whole
//! script again repeats what already happened (issue 13).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, TestApp, BREAKS_DOC};
use crate::jobs::{ended, pg_target, submit, wait_job, PgDb};
use crate::queries::{maria_exec, maria_target, maria_text, MariaDb};

const SCRIPT: &str = "ALTER TABLE t ADD COLUMN c INT;\nINSERT INTO missing_table VALUES (1);\nINSERT INTO t (id, c) VALUES (1, 1);";

/// A MariaDB job whose first attempt committed statement 1 and failed at statement 2.
async fn failed_at_the_second_statement(app: &TestApp, t: &str, db: &MariaDb) -> i64 {
    maria_exec(Some(&db.0), "CREATE TABLE t (id INT)");
    let target = maria_target(app, t, db).await;
    let job = submit(
        app,
        t,
        json!({"name": "add-column", "scripts": [{"sql": SCRIPT, "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(app, t, id, 30, ended).await;
    let run = &done["scripts"][0]["runs"][0];
    assert_eq!(run["status"], "error", "{done}");
    assert_eq!(run["error_line"], 2, "{run}");
    id
}

async fn retry(app: &TestApp, t: &str, id: i64, body: Value) -> Value {
    let r = app
        .post_json(&format!("/api/jobs/{id}/retry"), Some(t), body)
        .await;
    let status = r.status();
    let answer: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn second_attempt(app: &TestApp, t: &str, id: i64) -> Value {
    let done = wait_job(app, t, id, 30, |j| ended(j) && j["attempt"] == 2).await;
    let runs = done["scripts"][0]["runs"].as_array().expect("runs").clone();
    runs.into_iter()
        .find(|r| r["attempt"] == 2)
        .expect("attempt 2")
}

async fn log(app: &TestApp, t: &str, id: i64, run: &Value) -> Vec<Value> {
    let run_id = run["id"].as_i64().expect("run id");
    let r = app
        .get(&format!("/api/jobs/{id}/runs/{run_id}/log"), Some(t))
        .await;
    let body: Value = r.json().await.expect("json");
    body["statements"].as_array().expect("statements").clone()
}

#[actix_web::test]
async fn a_retry_from_the_failed_statement_does_not_repeat_the_committed_alter() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = MariaDb::new("retry_failed");
    let id = failed_at_the_second_statement(&app, &t, &db).await;
    let first = app.get(&format!("/api/jobs/{id}"), Some(&t)).await;
    let first: Value = first.json().await.expect("json");
    maria_exec(Some(&db.0), "CREATE TABLE missing_table (id INT)");

    retry(&app, &t, id, json!({"from": "failed_statement"})).await;
    let run = second_attempt(&app, &t, id).await;
    assert_eq!(run["status"], "success", "no 1060 this time: {run}");
    assert_eq!(run["first_statement"], 1, "{run}");
    assert_eq!(
        (
            run["statements_done"].clone(),
            run["statements_total"].clone()
        ),
        (json!(3), json!(3)),
        "done counts from the script's start: {run}"
    );
    let statements = log(&app, &t, id, &run).await;
    let ran: Vec<i64> = statements
        .iter()
        .map(|s| s["index"].as_i64().expect("i"))
        .collect();
    assert_eq!(
        ran,
        vec![1, 2],
        "the ALTER is not run again: {statements:?}"
    );
    assert_eq!(maria_text(&db.0, "SELECT COUNT(*) FROM missing_table"), "1");
    assert_eq!(maria_text(&db.0, "SELECT COUNT(*) FROM t WHERE c = 1"), "1");

    let job = app.get(&format!("/api/jobs/{id}"), Some(&t)).await;
    let job: Value = job.json().await.expect("json");
    assert_eq!(
        job["started_at"], first["started_at"],
        "the job's start stays the first attempt's"
    );
}

#[actix_web::test]
async fn a_retry_from_the_next_statement_skips_the_failed_one() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = MariaDb::new("retry_next");
    let id = failed_at_the_second_statement(&app, &t, &db).await;

    retry(&app, &t, id, json!({"from": "next_statement"})).await;
    let run = second_attempt(&app, &t, id).await;
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(run["first_statement"], 2, "{run}");
    let statements = log(&app, &t, id, &run).await;
    let ran: Vec<i64> = statements
        .iter()
        .map(|s| s["index"].as_i64().expect("i"))
        .collect();
    assert_eq!(ran, vec![2], "{statements:?}");
    assert_eq!(maria_text(&db.0, "SELECT COUNT(*) FROM t WHERE c = 1"), "1");
}

#[actix_web::test]
async fn a_retry_from_the_start_runs_the_whole_script_again_and_meets_the_committed_alter() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = MariaDb::new("retry_start");
    let id = failed_at_the_second_statement(&app, &t, &db).await;
    maria_exec(Some(&db.0), "CREATE TABLE missing_table (id INT)");

    retry(&app, &t, id, json!({"from": "start"})).await;
    let run = second_attempt(&app, &t, id).await;
    assert_eq!(run["status"], "error", "{run}");
    assert_eq!(run["error_code"], "1060", "duplicate column: {run}");
    assert_eq!(run["error_line"], 1, "{run}");
    assert_eq!(run["first_statement"], 0, "{run}");
}

#[actix_web::test]
async fn a_retry_with_no_body_at_all_still_runs_the_whole_script() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = MariaDb::new("retry_nobody");
    let id = failed_at_the_second_statement(&app, &t, &db).await;
    let r = app
        .request(
            reqwest::Method::POST,
            &format!("/api/jobs/{id}/retry"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let run = second_attempt(&app, &t, id).await;
    assert_eq!(run["error_code"], "1060", "{run}");
}

#[actix_web::test]
async fn an_unknown_from_is_refused_naming_the_field_and_null_is_no_body() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = MariaDb::new("retry_bad");
    let id = failed_at_the_second_statement(&app, &t, &db).await;
    let r = app
        .post_json(
            &format!("/api/jobs/{id}/retry"),
            Some(&t),
            json!({"from": "middle"}),
        )
        .await;
    let body = expect_error(r, BREAKS_DOC, "invalid_input").await;
    assert!(
        body["message"].as_str().expect("msg").contains("from"),
        "{body}"
    );
}

#[actix_web::test]
async fn a_transactional_postgresql_run_rolled_back_so_its_retry_starts_at_the_top() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("retry_tx");
    let target = pg_target(&app, &t, &db).await;
    let job = submit(
        &app,
        &t,
        json!({"name": "tx", "transactional": true, "scripts": [{"sql":
            "CREATE TABLE a (id int);\nINSERT INTO missing VALUES (1);", "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &t, id, 30, ended).await;
    assert_eq!(done["scripts"][0]["runs"][0]["status"], "error", "{done}");
    crate::jobs::pg_admin_db(&db.0, "CREATE TABLE missing (id int)");

    retry(&app, &t, id, json!({"from": "next_statement"})).await;
    let run = second_attempt(&app, &t, id).await;
    assert_eq!(
        run["first_statement"], 0,
        "everything was rolled back: {run}"
    );
    assert_eq!(run["status"], "success", "table a made again: {run}");
}
