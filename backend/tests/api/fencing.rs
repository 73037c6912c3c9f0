//! Fencing: a run whose lease cannot be renewed stops before another process may decide about
//! it, so a retry never makes the target see the script twice.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app_with;
use crate::jobs::{ended, pg_admin_db, pg_count, pg_target, submit, wait_job, PgDb};

/// Waits (at most `secs`) until `f` holds.
fn wait_for(secs: u64, what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {secs}s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sleeping_on(db: &str) -> i64 {
    pg_count(
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' \
             AND state = 'active' AND query LIKE 'SELECT pg_sleep(4)%'"
        ),
    )
}

#[actix_web::test]
async fn a_run_whose_store_is_blocked_past_its_lease_stops_and_a_retry_applies_the_script_once() {
    let quick = |s: &mut autodb::config::Settings| {
        s.engine.lease_s = 2;
        s.engine.poll_ms = 100;
    };
    let app = spawn_app_with("postgres", quick).await;
    let t = app.admin_token().await;
    let db = PgDb::new("fence");
    pg_admin_db(&db.0, "CREATE TABLE effect (n int)");
    let target = pg_target(&app, &t, &db).await;
    let job = submit(
        &app,
        &t,
        json!({"name": "fence", "scripts": [{"sql":
            "SELECT pg_sleep(4);\nINSERT INTO effect VALUES (1)", "target_ids": [target]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let target_db = db.0.clone();
    let store_db = app.pg_database().expect("a PostgreSQL store").to_string();
    // While the run sleeps on its target, another session takes the store's job tables for
    // longer than the lease, and holds them until the sleep is gone from the target.
    let blocked = std::thread::spawn(move || {
        wait_for(20, "the run's pg_sleep", || sleeping_on(&target_db) == 1);
        let mut c = postgres::Client::connect(
            &format!("host=127.0.0.1 user=postgres dbname={store_db}"),
            postgres::NoTls,
        )
        .expect("connect to the store");
        let mut tx = c.transaction().expect("begin");
        tx.batch_execute(
            "LOCK TABLE work_items, jobs, job_scripts, job_runs, run_statements \
             IN ACCESS EXCLUSIVE MODE",
        )
        .expect("lock");
        let locked = Instant::now();
        wait_for(20, "the sleep to end", || sleeping_on(&target_db) == 0);
        let held = locked.elapsed();
        tx.commit().expect("unlock");
        held
    });
    let held = tokio::task::spawn_blocking(move || blocked.join().expect("blocker"))
        .await
        .expect("join");
    let done = wait_job(&app, &t, id, 30, ended).await;
    let run = &done["scripts"][0]["runs"][0];
    assert_eq!(run["status"], "error", "the run stopped: {done}");
    assert!(
        held < Duration::from_millis(3500),
        "the sleep was cancelled when the lease could not be renewed (after {held:?}), \
         not left to finish its 4 s"
    );
    assert_eq!(
        pg_count(&db.0, "SELECT count(*) FROM effect"),
        0,
        "nothing after the sleep ran: {run}"
    );
    let r = app
        .post_json(&format!("/api/jobs/{id}/retry"), Some(&t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = wait_job(&app, &t, id, 30, |j| ended(j) && j["attempt"] == 2).await;
    assert_eq!(again["status"], "success", "{again}");
    assert_eq!(
        pg_count(&db.0, "SELECT count(*) FROM effect"),
        1,
        "the target saw the script's effect exactly once"
    );
}
