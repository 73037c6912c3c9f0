//! Schedules: fires happen once per time across processes, follow the DST rules, and apply the
//! misfire and overlap policies; the owner's right to run the job is checked at every fire.
//! Time is a hand-set clock (`ManualClock`) set years ahead, so the real engine never reaches
//! these fires on its own; one test lets the real engine fire at the real time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use autodb::services::schedules::clock::{Clock, ManualClock};
use autodb::services::schedules::fire::fire_due;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app_ctx, spawn_second_ctx, store_backend, TestApp};
use crate::jobs::{create_target, ended, pg_target, wait_job, PgDb};
use crate::roles::{change_user, me};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

async fn clocked(backend: &str, grace_s: u64, start: &str) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    clock.set(Some(at(start)));
    let c = clock.clone();
    let app = spawn_app_ctx(
        backend,
        |s| s.schedules.misfire_grace_s = grace_s,
        move |ctx| ctx.clock = c,
    )
    .await;
    (app, clock)
}

async fn lite_target(app: &TestApp, token: &str) -> i64 {
    let path = app.sqlite_path("sched.db");
    create_target(
        app,
        token,
        json!({"name": "lite", "engine": "sqlite", "database": path}),
    )
    .await
}

fn job_body(target: i64, sql: &str) -> Value {
    json!({"name": "nightly", "scripts": [{"sql": sql, "target_ids": [target]}]})
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post_json("/api/schedules", Some(token), body).await;
    let status = r.status();
    let v: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn fires(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let r = app
        .get(&format!("/api/schedules/{id}/fires"), Some(token))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Vec<Value>>().await.expect("json")
}

fn outcomes(fires: &[Value]) -> Vec<(String, String, bool)> {
    fires
        .iter()
        .map(|f| {
            (
                f["scheduled_for"].as_str().unwrap_or_default().to_string(),
                f["outcome"].as_str().unwrap_or_default().to_string(),
                f["job_id"].is_i64(),
            )
        })
        .collect()
}

async fn job_count(app: &TestApp, token: &str) -> i64 {
    let page: Value = app
        .get("/api/jobs?per_page=500", Some(token))
        .await
        .json()
        .await
        .expect("json");
    page["total"].as_i64().expect("total")
}

#[actix_web::test]
async fn two_processes_on_one_postgresql_store_start_exactly_one_job_per_minute() {
    let (app, clock1) = clocked("postgres", 300, "2031-01-06T10:00:30Z").await;
    let clock2 = Arc::new(ManualClock::default());
    clock2.set(Some(at("2031-01-06T10:00:30Z")));
    let c2 = clock2.clone();
    let (_, ctx2) = spawn_second_ctx(&app, |_| {}, move |ctx| ctx.clock = c2).await;
    let t = app.admin_token().await;
    let target = lite_target(&app, &t).await;
    let s = create(
        &app,
        &t,
        json!({"name": "every minute", "cron": "* * * * *", "timezone": "UTC",
               "overlap": "allow", "job": job_body(target, "SELECT 1")}),
    )
    .await;
    let id = s["id"].as_i64().expect("id");
    assert_eq!(s["next_runs"][0], "2031-01-06T10:01:00+00:00", "{s}");
    for minute in 1..=3 {
        let now = at(&format!("2031-01-06T10:0{minute}:05Z"));
        clock1.set(Some(now));
        clock2.set(Some(now));
        // Both processes try, at the same time and again.
        for _ in 0..3 {
            let (a, b) = tokio::join!(fire_due(&app.ctx, now), fire_due(&ctx2, now));
            a.expect("first process fires");
            b.expect("second process fires");
        }
        let got = fires(&app, &t, id).await;
        assert_eq!(got.len(), minute, "{got:?}");
        assert!(got
            .iter()
            .all(|f| f["outcome"] == "started" && f["job_id"].is_i64()));
        assert_eq!(job_count(&app, &t).await, minute as i64);
    }
    let got = fires(&app, &t, id).await;
    assert_eq!(
        got.iter()
            .map(|f| f["scheduled_for"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        [
            "2031-01-06T10:03:00+00:00",
            "2031-01-06T10:02:00+00:00",
            "2031-01-06T10:01:00+00:00"
        ],
        "newest first"
    );
    let job_id = got[0]["job_id"].as_i64().expect("job");
    let job: Value = app
        .get(&format!("/api/jobs/{job_id}"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(job["schedule_id"], id);
    assert_eq!(job["created_by"], "admin", "created as the owner");
    let s: Value = app
        .get(&format!("/api/schedules/{id}"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(s["last_job_id"], job_id);
    assert_eq!(s["last_outcome"], "started");
}

#[actix_web::test]
async fn a_schedule_fires_through_the_real_engine_at_its_time() {
    // Created as if just before the current minute began: its first time (that minute) is
    // already past by the real clock, so the engine claims its item at once; then the clock
    // follows the real one.
    let real = Utc::now();
    let minute = real - chrono::Duration::seconds(i64::from(chrono::Timelike::second(&real)));
    let created = minute - chrono::Duration::seconds(1);
    let (app, clock) = clocked(&store_backend(), 300, &created.to_rfc3339()).await;
    let t = app.admin_token().await;
    let target = lite_target(&app, &t).await;
    let s = create(
        &app,
        &t,
        json!({"name": "engine", "cron": "* * * * *", "timezone": "UTC",
               "job": job_body(target, "SELECT 1")}),
    )
    .await;
    clock.set(None);
    let id = s["id"].as_i64().expect("id");
    // The fire for the first minute, found by its time: on a loaded machine the real minute
    // may turn before this looks, and then the next minute's fire is listed first.
    let first = minute.timestamp();
    let deadline = Instant::now() + Duration::from_secs(30);
    let fired = loop {
        let got = fires(&app, &t, id).await;
        if let Some(f) = got.iter().find(|f| {
            f["job_id"].is_i64()
                && f["scheduled_for"]
                    .as_str()
                    .is_some_and(|s| at(s).timestamp() == first)
        }) {
            break f.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no fire for the first minute through the engine: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(fired["outcome"], "started");
    let job_id = fired["job_id"].as_i64().expect("job");
    let job = wait_job(&app, &t, job_id, 30, ended).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(job["schedule_id"], id);
    // The next fire is waiting as an item for its own time (not fired early).
    let s: Value = app
        .get(&format!("/api/schedules/{id}"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    let next = at(s["next_runs"][0].as_str().expect("next"));
    assert!(next > Utc::now() - chrono::Duration::seconds(1), "{s}");
    // Each time fired once (the real minute may have turned meanwhile).
    let got = fires(&app, &t, id).await;
    let mut times: Vec<&str> = got
        .iter()
        .filter_map(|f| f["scheduled_for"].as_str())
        .collect();
    times.dedup();
    assert_eq!(times.len(), got.len(), "{got:?}");
}

#[actix_web::test]
async fn dst_changes_fire_a_missing_time_once_after_the_gap_and_a_repeated_time_once() {
    let (app, clock) = clocked(&store_backend(), 300, "2031-03-29T12:00:00Z").await;
    let t = app.admin_token().await;
    let target = lite_target(&app, &t).await;
    // Berlin springs forward on 2031-03-30 at 02:00: 02:30 does not exist.
    let s = create(
        &app,
        &t,
        json!({"name": "berlin", "cron": "30 2 * * *", "timezone": "Europe/Berlin",
               "job": job_body(target, "SELECT 1")}),
    )
    .await;
    assert_eq!(s["next_runs"][0], "2031-03-30T03:00:00+02:00", "{s}");
    assert_eq!(s["next_runs"][1], "2031-03-31T02:30:00+02:00", "{s}");
    let berlin = s["id"].as_i64().expect("id");
    fire_at(
        &app,
        &clock,
        &[
            "2031-03-30T00:59:00Z",
            "2031-03-30T01:00:05Z",
            "2031-03-30T01:30:00Z",
            "2031-03-30T02:00:00Z",
        ],
    )
    .await;
    assert_eq!(
        outcomes(&fires(&app, &t, berlin).await),
        [(
            "2031-03-30T03:00:00+02:00".to_string(),
            "started".to_string(),
            true
        )]
    );
    // New York falls back on 2031-11-02 at 02:00: 01:30 happens twice, fires once.
    clock.set(Some(at("2031-11-01T12:00:00Z")));
    let s = create(
        &app,
        &t,
        json!({"name": "ny", "cron": "30 1 * * *", "timezone": "America/New_York",
               "job": job_body(target, "SELECT 1")}),
    )
    .await;
    let ny = s["id"].as_i64().expect("id");
    assert_eq!(s["next_runs"][0], "2031-11-02T01:30:00-04:00", "{s}");
    assert_eq!(s["next_runs"][1], "2031-11-03T01:30:00-05:00", "{s}");
    // 05:30 UTC is 01:30 EDT, 06:30 UTC is the second 01:30 (EST).
    fire_at(
        &app,
        &clock,
        &[
            "2031-11-02T05:30:10Z",
            "2031-11-02T06:30:10Z",
            "2031-11-02T07:00:00Z",
        ],
    )
    .await;
    assert_eq!(
        outcomes(&fires(&app, &t, ny).await),
        [(
            "2031-11-02T01:30:00-04:00".to_string(),
            "started".to_string(),
            true
        )]
    );
    // The preview shows the same rules (Shanghai: no DST, always +08:00).
    let r = app
        .post_json(
            "/api/schedules/preview",
            Some(&t),
            json!({"cron": "0 9 * * *", "timezone": "Asia/Shanghai", "count": 2,
                   "from": "2031-03-09T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.expect("json");
    assert_eq!(
        p["times"],
        json!(["2031-03-09T09:00:00+08:00", "2031-03-10T09:00:00+08:00"])
    );
    let p: Value = app
        .post_json(
            "/api/schedules/preview",
            Some(&t),
            json!({"cron": "30 2 * * *", "timezone": "America/New_York", "count": 2,
                   "from": "2031-03-08T12:00:00Z"}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        p["times"],
        json!(["2031-03-09T03:00:00-04:00", "2031-03-10T02:30:00-04:00"])
    );
}

#[actix_web::test]
async fn misfires_are_recorded_by_skip_and_covered_by_one_job_with_run_once() {
    // Down from 10:00:30 to 10:05:30: five times passed, the newest 30 s ago (grace 20 s).
    let (app, clock) = clocked(&store_backend(), 20, "2031-01-06T10:00:30Z").await;
    let t = app.admin_token().await;
    let target = lite_target(&app, &t).await;
    let mut ids = vec![];
    for misfire in ["skip", "run_once"] {
        let s = create(
            &app,
            &t,
            json!({"name": misfire, "cron": "* * * * *", "timezone": "UTC", "misfire": misfire,
                   "overlap": "allow", "job": job_body(target, "SELECT 1")}),
        )
        .await;
        assert_eq!(s["misfire"], misfire);
        ids.push(s["id"].as_i64().expect("id"));
    }
    let now = at("2031-01-06T10:05:30Z");
    clock.set(Some(now));
    fire_due(&app.ctx, now).await.expect("fire");
    let skip = outcomes(&fires(&app, &t, ids[0]).await);
    assert_eq!(skip.len(), 5, "{skip:?}");
    assert!(
        skip.iter()
            .all(|(_, o, job)| o == "skipped_misfire" && !job),
        "{skip:?}"
    );
    let once = outcomes(&fires(&app, &t, ids[1]).await);
    assert_eq!(once.len(), 5, "{once:?}");
    assert_eq!(
        once[0],
        (
            "2031-01-06T10:05:00+00:00".to_string(),
            "started".to_string(),
            true
        )
    );
    assert!(
        once[1..]
            .iter()
            .all(|(_, o, job)| o == "skipped_misfire" && !job),
        "{once:?}"
    );
    assert_eq!(
        job_count(&app, &t).await,
        1,
        "one job for all the missed times"
    );
    // On time again at 10:06:05: both fire normally.
    let now = at("2031-01-06T10:06:05Z");
    clock.set(Some(now));
    fire_due(&app.ctx, now).await.expect("fire");
    assert_eq!(fires(&app, &t, ids[0]).await[0]["outcome"], "started");
    assert_eq!(fires(&app, &t, ids[1]).await[0]["outcome"], "started");
}

#[actix_web::test]
async fn overlap_skip_queue_and_allow_each_do_what_they_say_while_the_previous_job_runs() {
    let (app, clock) = clocked(&store_backend(), 300, "2031-01-06T10:00:30Z").await;
    let t = app.admin_token().await;
    let db = PgDb::new("sched_overlap");
    let target = pg_target(&app, &t, &db).await;
    let mut ids = vec![];
    for overlap in ["skip", "queue", "allow"] {
        let s = create(
            &app,
            &t,
            json!({"name": overlap, "cron": "* * * * *", "timezone": "UTC", "overlap": overlap,
                   "job": job_body(target, "SELECT pg_sleep(60)")}),
        )
        .await;
        ids.push(s["id"].as_i64().expect("id"));
    }
    for minute in 1..=3 {
        let now = at(&format!("2031-01-06T10:0{minute}:05Z"));
        clock.set(Some(now));
        fire_due(&app.ctx, now).await.expect("fire");
    }
    let names = |v: Vec<(String, String, bool)>| -> Vec<(String, bool)> {
        v.into_iter().rev().map(|(_, o, j)| (o, j)).collect()
    };
    let skip = names(outcomes(&fires(&app, &t, ids[0]).await));
    assert_eq!(
        skip,
        [
            ("started".to_string(), true),
            ("skipped_overlap".to_string(), false),
            ("skipped_overlap".to_string(), false)
        ]
    );
    let queue = names(outcomes(&fires(&app, &t, ids[1]).await));
    assert_eq!(
        queue,
        [
            ("started".to_string(), true),
            ("queued".to_string(), false),
            ("skipped_overlap".to_string(), false)
        ],
        "at most one waits"
    );
    let allow = names(outcomes(&fires(&app, &t, ids[2]).await));
    assert_eq!(allow, vec![("started".to_string(), true); 3]);
    // The queued fire starts once the previous job has ended.
    let first = fires(&app, &t, ids[1]).await[2]["job_id"]
        .as_i64()
        .expect("job");
    let r = app
        .post_json(&format!("/api/jobs/{first}/cancel"), Some(&t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    wait_job(&app, &t, first, 30, ended).await;
    fire_due(&app.ctx, clock.now()).await.expect("fire");
    let got = fires(&app, &t, ids[1]).await;
    assert_eq!(got[1]["outcome"], "queued");
    let queued_job = got[1]["job_id"]
        .as_i64()
        .expect("the queued fire started its job");
    assert_ne!(queued_job, first);
    let s: Value = app
        .get(&format!("/api/schedules/{}", ids[1]), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(s["queued"], false);
    assert_eq!(s["last_job_id"], queued_job);
    // Stop the sleepers.
    let page: Value = app
        .get("/api/jobs?status=running&per_page=100", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    let waiting: Value = app
        .get("/api/jobs?status=waiting&per_page=100", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    for j in page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(waiting["items"].as_array().into_iter().flatten())
    {
        let id = j["id"].as_i64().expect("id");
        app.post_json(&format!("/api/jobs/{id}/cancel"), Some(&t), json!({}))
            .await;
    }
}

#[actix_web::test]
async fn a_demoted_owners_schedule_records_refused_and_starts_no_job() {
    let (app, clock) = clocked(&store_backend(), 300, "2031-01-06T10:00:30Z").await;
    let admin = app.admin_token().await;
    let target = lite_target(&app, &admin).await;
    let dev = app.user_with_role("developer").await;
    let dev_id = me(&app, &dev).await;
    let s = create(
        &app,
        &dev,
        json!({"name": "mine", "cron": "* * * * *", "timezone": "UTC",
               "job": job_body(target, "SELECT 1")}),
    )
    .await;
    let id = s["id"].as_i64().expect("id");
    assert_ne!(s["owner"], "admin");
    // Another developer may not change it; an admin may.
    let other = app.user_with_role("developer").await;
    let r = app
        .put_json(
            &format!("/api/schedules/{id}"),
            Some(&other),
            json!({"name": "theirs", "cron": "* * * * *", "timezone": "UTC", "job": job_body(target, "SELECT 1")}),
        )
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    change_user(&app, &admin, dev_id, json!({"role": "viewer"})).await;
    let now = at("2031-01-06T10:01:05Z");
    clock.set(Some(now));
    fire_due(&app.ctx, now).await.expect("fire");
    let got = fires(&app, &admin, id).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["outcome"], "refused", "{got:?}");
    assert!(got[0]["job_id"].is_null());
    assert!(
        got[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("viewer")),
        "{got:?}"
    );
    assert_eq!(job_count(&app, &admin).await, 0);
}

#[actix_web::test]
async fn bad_cron_zone_or_missing_job_answer_422_naming_the_field_and_run_now_answers_201() {
    let (app, _clock) = clocked(&store_backend(), 300, "2031-01-06T10:00:30Z").await;
    let t = app.admin_token().await;
    let target = lite_target(&app, &t).await;
    let body = |cron: &str, tz: &str| json!({"name": "x", "cron": cron, "timezone": tz, "job": job_body(target, "SELECT 1")});
    let r = app
        .post_json("/api/schedules", Some(&t), body("0 25 * * *", "UTC"))
        .await;
    let e = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    assert_eq!(e["field"], "cron");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("hour")),
        "{e}"
    );
    let r = app
        .post_json("/api/schedules", Some(&t), body("* * *", "UTC"))
        .await;
    assert_eq!(
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await["field"],
        "cron"
    );
    let r = app
        .post_json("/api/schedules", Some(&t), body("@daily", "Mars/Olympus"))
        .await;
    assert_eq!(
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await["field"],
        "timezone"
    );
    let r = app
        .post_json(
            "/api/schedules",
            Some(&t),
            json!({"name": "x", "cron": "@daily", "job": {"name": "j", "scripts": [{"sql": 1}]}}),
        )
        .await;
    let e = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert!(
        e["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("job.scripts")),
        "{e}"
    );
    let r = app
        .post_json(
            "/api/schedules/preview",
            Some(&t),
            json!({"cron": "0 0 * 13 *"}),
        )
        .await;
    assert_eq!(
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await["field"],
        "cron"
    );
    // A viewer may read and preview but not create.
    let viewer = app.user_with_role("viewer").await;
    let r = app
        .post_json("/api/schedules", Some(&viewer), body("@daily", "UTC"))
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    // Defaults: the server's zone, enabled, overlap and misfire skip.
    let s = create(
        &app,
        &t,
        json!({"name": "hourly", "cron": "@hourly", "job": job_body(target, "CREATE USER x PASSWORD 'sekrit-42'")}),
    )
    .await;
    assert_eq!(s["enabled"], true);
    assert_eq!(s["overlap"], "skip");
    assert!(s["timezone"].as_str().is_some_and(|z| !z.is_empty()));
    assert_eq!(s["next_runs"].as_array().map(Vec::len), Some(5));
    assert!(
        !s.to_string().contains("sekrit-42"),
        "the job body is shown redacted: {s}"
    );
    let id = s["id"].as_i64().expect("id");
    let r = app
        .post_json(&format!("/api/schedules/{id}/run"), Some(&t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let run: Value = r.json().await.expect("json");
    let job_id = run["job_id"].as_i64().expect("job_id");
    let job: Value = app
        .get(&format!("/api/jobs/{job_id}"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(job["schedule_id"], id);
    // Disabled: no next runs; deleted: gone, its job stays.
    let r = app
        .put_json(
            &format!("/api/schedules/{id}"),
            Some(&t),
            json!({"name": "hourly", "cron": "@hourly", "enabled": false, "job": job_body(target, "SELECT 1")}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = r.json().await.expect("json");
    assert_eq!(s["next_runs"], json!([]));
    // Left out of an update, the job body is kept (the stored one, not the redacted view).
    let r = app
        .put_json(
            &format!("/api/schedules/{id}"),
            Some(&t),
            json!({"name": "renamed", "cron": "@daily", "enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = r.json().await.expect("json");
    assert_eq!(s["job"]["scripts"][0]["sql"], "SELECT 1");
    assert_eq!(s["name"], "renamed");
    let r = app
        .post_json(
            "/api/schedules",
            Some(&t),
            json!({"name": "x", "cron": "@daily"}),
        )
        .await;
    assert_eq!(
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await["field"],
        "job"
    );
    let r = app.delete(&format!("/api/schedules/{id}"), Some(&t)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get(&format!("/api/schedules/{id}"), Some(&t)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let job: Value = app
        .get(&format!("/api/jobs/{job_id}"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert!(job["schedule_id"].is_null());
}

/// Sets the clock to each of `times` (RFC 3339) in turn and fires what is due then.
async fn fire_at(app: &TestApp, clock: &ManualClock, times: &[&str]) {
    for now in times {
        clock.set(Some(at(now)));
        fire_due(&app.ctx, at(now)).await.expect("fire");
    }
}
