//! The job list: searching names (`?q=`) and each job's target and run counts, on a SQLite
//! and on a PostgreSQL metadata store (their `LIKE` and `lower` differ).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app_with, TestApp};
use crate::jobs::{create_target, ended, submit, wait_job};

const STORES: [&str; 2] = ["sqlite", "postgres"];

async fn sqlite_target(app: &TestApp, token: &str, name: &str) -> i64 {
    let path = app.sqlite_path(&format!("{name}.db"));
    create_target(
        app,
        token,
        json!({"name": name, "engine": "sqlite", "database": path}),
    )
    .await
}

/// `GET /api/jobs` with these query parameters (values percent-encoded here).
async fn list(app: &TestApp, token: &str, params: &[(&str, &str)]) -> reqwest::Response {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.get(&format!("/api/jobs?{query}"), Some(token)).await
}

async fn names(app: &TestApp, token: &str, params: &[(&str, &str)]) -> (Vec<String>, i64) {
    let r = list(app, token, params).await;
    assert_eq!(r.status(), StatusCode::OK, "{params:?}");
    let page: Value = r.json().await.expect("json");
    let mut names: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|j| j["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    (names, page["total"].as_i64().expect("total"))
}

#[actix_web::test]
async fn the_search_finds_jobs_by_any_part_of_the_name_in_any_case_and_wildcards_are_literal() {
    for store in STORES {
        let app = spawn_app_with(store, |_| {}).await;
        let t = app.admin_token().await;
        let target = sqlite_target(&app, &t, "lite").await;
        for name in [
            "Nightly Vacuum",
            "weekly NIGHTLY report",
            "50% off",
            "50X off",
            "a_b",
            "axb",
            "back\\slash",
            "Überprüfung der Indizes",
            "Проверка базы",
            "数据库 备份",
        ] {
            submit(
                &app,
                &t,
                json!({"name": name, "scripts": [{"sql": "SELECT 1;", "target_ids": [target]}]}),
            )
            .await;
        }
        let found = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();

        let (got, total) = names(&app, &t, &[("q", "nIgHtLy")]).await;
        assert_eq!(
            got,
            found(&["Nightly Vacuum", "weekly NIGHTLY report"]),
            "{store}"
        );
        assert_eq!(total, 2, "{store}");
        assert_eq!(
            names(&app, &t, &[("q", "50%")]).await.0,
            found(&["50% off"]),
            "{store}: % is a plain character"
        );
        assert_eq!(
            names(&app, &t, &[("q", "a_b")]).await.0,
            found(&["a_b"]),
            "{store}: _ is a plain character"
        );
        assert_eq!(
            names(&app, &t, &[("q", "k\\s")]).await.0,
            found(&["back\\slash"]),
            "{store}: so is the escape character"
        );
        // Any case beyond ASCII, on both stores.
        assert_eq!(
            names(&app, &t, &[("q", "ÜBERPRÜF")]).await.0,
            found(&["Überprüfung der Indizes"]),
            "{store}"
        );
        assert_eq!(
            names(&app, &t, &[("q", "пРОВЕРКА")]).await.0,
            found(&["Проверка базы"]),
            "{store}"
        );
        assert_eq!(
            names(&app, &t, &[("q", "数据库")]).await.0,
            found(&["数据库 备份"]),
            "{store}"
        );
        assert_eq!(
            names(&app, &t, &[("q", "no such job")]).await,
            (vec![], 0),
            "{store}"
        );
        // An empty q is no filter.
        assert_eq!(names(&app, &t, &[("q", "")]).await.1, 10, "{store}");
        // With the other parameters: the total counts matches, the page holds per_page.
        let r = list(&app, &t, &[("q", "NIGHTLY"), ("per_page", "1")]).await;
        let page: Value = r.json().await.expect("json");
        assert_eq!(page["total"], 2, "{store}: {page}");
        assert_eq!(page["items"].as_array().expect("items").len(), 1);
        assert_eq!(
            names(&app, &t, &[("q", "nightly"), ("owner", "nobody")]).await,
            (vec![], 0),
            "{store}"
        );
    }
}

#[actix_web::test]
async fn a_search_text_over_200_characters_is_refused_naming_q() {
    let app = spawn_app_with("sqlite", |_| {}).await;
    let t = app.admin_token().await;
    // Characters, not bytes: 200 two-byte letters are allowed.
    let at_most = "é".repeat(200);
    let r = list(&app, &t, &[("q", &at_most)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let over = "x".repeat(201);
    let err = expect_error(
        list(&app, &t, &[("q", &over)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(err["field"], "q", "{err}");
    assert_eq!(err["reason"], "at_most_chars", "{err}");
    assert_eq!(err["params"]["max"], 200, "{err}");
}

fn counts(j: &Value) -> [i64; 7] {
    [
        "target_count",
        "runs_total",
        "runs_waiting",
        "runs_running",
        "runs_succeeded",
        "runs_failed",
        "runs_cancelled",
    ]
    .map(|k| j[k].as_i64().unwrap_or_else(|| panic!("{k} in {j}")))
}

#[actix_web::test]
async fn each_listed_job_counts_its_targets_and_its_runs_by_outcome() {
    for store in STORES {
        let app = spawn_app_with(store, |_| {}).await;
        let t = app.admin_token().await;
        let mut ids = vec![];
        for name in ["a", "b", "c"] {
            ids.push(sqlite_target(&app, &t, name).await);
        }
        // On "c" the tables exist already: creating one fails there only.
        let c = rusqlite::Connection::open(app.sqlite_path("c.db")).expect("open c");
        c.execute_batch("CREATE TABLE marker (id INTEGER); CREATE TABLE marker2 (id INTEGER);")
            .expect("markers");
        drop(c);

        let one = submit(
            &app,
            &t,
            json!({"name": "one script", "scripts": [
                {"sql": "CREATE TABLE marker (id INTEGER);", "target_ids": ids},
            ]}),
        )
        .await["id"]
            .as_i64()
            .expect("id");
        wait_job(&app, &t, one, 60, ended).await;
        // Two scripts on the same three targets, going on past the failure: three targets,
        // six runs.
        let two = submit(
            &app,
            &t,
            json!({"name": "two scripts", "on_error": "continue", "scripts": [
                {"sql": "CREATE TABLE marker2 (id INTEGER);", "target_ids": ids},
                {"sql": "SELECT 1;", "target_ids": [ids[2], ids[1], ids[0]]},
            ]}),
        )
        .await["id"]
            .as_i64()
            .expect("id");
        wait_job(&app, &t, two, 60, ended).await;

        let page: Value = list(&app, &t, &[]).await.json().await.expect("json");
        let by_id = |id: i64| {
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|j| j["id"] == id)
                .cloned()
                .unwrap_or_else(|| panic!("job {id} in {page}"))
        };
        // target_count, total, waiting, running, succeeded, failed, cancelled
        assert_eq!(counts(&by_id(one)), [3, 3, 0, 0, 2, 1, 0], "{store}");
        assert_eq!(counts(&by_id(two)), [3, 6, 0, 0, 5, 1, 0], "{store}");
    }
}
