use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, TestApp};

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post_json("/api/targets", Some(token), body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.expect("json")
}

async fn test_target(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app
        .post_json(&format!("/api/targets/{id}/test"), Some(token), json!({}))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a failing target is still a 200 answer"
    );
    r.json().await.expect("json")
}

#[actix_web::test]
async fn targets_are_created_listed_by_tag_updated_and_deleted() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let a = create(
        &app,
        &t,
        json!({"name": "hr-prod", "engine": "postgres", "host": "db1", "port": 5432,
        "database": "hr", "username": "ops", "password": "pw-one", "tags": ["prod", "hr"]}),
    )
    .await;
    assert_eq!(a["has_password"], true);
    assert!(a.get("password").is_none());
    assert_eq!(a["tags"], json!(["hr", "prod"]));
    create(
        &app,
        &t,
        json!({"name": "scratch", "engine": "sqlite", "database": "/tmp/x.db", "tags": ["dev"]}),
    )
    .await;

    let prod: Value = app
        .get("/api/targets?tag=prod", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(prod.as_array().map(Vec::len), Some(1));
    assert_eq!(prod[0]["name"], "hr-prod");
    let both: Value = app
        .get("/api/targets?tag=prod,dev", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(both, json!([]));

    let id = a["id"].as_i64().expect("id");
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            json!({"name": "hr-prod", "engine": "postgres", "host": "db2", "port": 5433,
            "database": "hr", "username": "ops", "password": "pw-two", "tags": ["prod", "hr"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated: Value = r.json().await.expect("json");
    assert_eq!(updated["host"], "db2");
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            json!({"name": "hr-prod", "engine": "postgres",
            "host": "db2", "port": 5433, "database": "hr", "username": "ops", "tags": ["prod"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated: Value = r.json().await.expect("json");
    assert_eq!(
        updated["has_password"], true,
        "an absent password keeps the stored one"
    );
    assert_eq!(updated["tags"], json!(["prod"]));

    let r = app.delete(&format!("/api/targets/{id}"), Some(&t)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get(&format!("/api/targets/{id}"), Some(&t)).await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let audit = app.audit("object_type=target").await;
    let actions: Vec<&str> = audit.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["delete", "update", "update", "create", "create"]);
}

#[actix_web::test]
async fn a_duplicate_name_is_a_409() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let body = json!({"name": "dup", "engine": "sqlite", "database": "/tmp/dup.db"});
    create(&app, &t, body.clone()).await;
    let r = app.post_json("/api/targets", Some(&t), body).await;
    expect_error(r, StatusCode::CONFLICT, "conflict").await;
}

#[actix_web::test]
async fn only_admins_change_targets_and_viewers_cannot_test_them() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let target = create(
        &app,
        &admin,
        json!({"name": "s", "engine": "sqlite", "database": "/tmp/s.db"}),
    )
    .await;
    let id = target["id"].as_i64().expect("id");
    for role in ["operator", "developer", "viewer"] {
        let t = app.user_with_role(role).await;
        let r = app
            .post_json(
                "/api/targets",
                Some(&t),
                json!({"name": "x", "engine": "sqlite", "database": "/tmp/x"}),
            )
            .await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app.delete(&format!("/api/targets/{id}"), Some(&t)).await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(
            app.get("/api/targets", Some(&t)).await.status(),
            StatusCode::OK
        );
    }
    let viewer = app.user_with_role("viewer").await;
    let r = app
        .post_json(&format!("/api/targets/{id}/test"), Some(&viewer), json!({}))
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[actix_web::test]
async fn testing_the_real_postgresql_reports_its_version_and_round_trip() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let target = create(
        &app,
        &t,
        json!({"name": "pg", "engine": "postgres", "host": "127.0.0.1", "port": 5432,
        "database": "test", "username": "postgres"}),
    )
    .await;
    let result = test_target(&app, &t, target["id"].as_i64().expect("id")).await;
    assert_eq!(result["ok"], true, "{result}");
    assert!(
        result["server_version"]
            .as_str()
            .expect("version")
            .starts_with("PostgreSQL "),
        "{result}"
    );
    assert!(result["rtt_ms"].as_f64().expect("rtt") > 0.0);
}

#[actix_web::test]
async fn testing_the_real_mariadb_reports_its_version() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let target = create(
        &app,
        &t,
        json!({"name": "maria", "engine": "mysql", "host": "127.0.0.1", "port": 3306,
        "database": "test", "username": "root"}),
    )
    .await;
    let result = test_target(&app, &t, target["id"].as_i64().expect("id")).await;
    assert_eq!(result["ok"], true, "{result}");
    assert!(
        result["server_version"]
            .as_str()
            .expect("version")
            .contains("MariaDB"),
        "{result}"
    );
}

#[actix_web::test]
async fn testing_a_sqlite_file_reports_its_version() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let path = app.sqlite_path("demo.db");
    let target = create(
        &app,
        &t,
        json!({"name": "demo", "engine": "sqlite", "database": path}),
    )
    .await;
    let result = test_target(&app, &t, target["id"].as_i64().expect("id")).await;
    assert_eq!(result["ok"], true, "{result}");
    assert!(
        result["server_version"]
            .as_str()
            .expect("version")
            .contains("3."),
        "{result}"
    );
}

#[actix_web::test]
async fn a_target_that_is_down_or_refuses_the_login_is_a_clear_answer_not_a_5xx() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    // Nothing listens on port 1 of this machine.
    let down = create(
        &app,
        &t,
        json!({"name": "down", "engine": "postgres", "host": "127.0.0.1", "port": 1,
        "database": "test", "username": "postgres"}),
    )
    .await;
    let result = test_target(&app, &t, down["id"].as_i64().expect("id")).await;
    assert_eq!(result["ok"], false);
    assert_eq!(result["error"]["kind"], "connect", "{result}");
    assert!(!result["error"]["message"]
        .as_str()
        .expect("message")
        .is_empty());

    let no_role = create(
        &app,
        &t,
        json!({"name": "no-role", "engine": "postgres", "host": "127.0.0.1",
        "port": 5432, "database": "test", "username": "no_such_role_autodb", "password": "x"}),
    )
    .await;
    let result = test_target(&app, &t, no_role["id"].as_i64().expect("id")).await;
    assert_eq!(result["ok"], false);
    let message = result["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("no_such_role_autodb"),
        "the database's own words: {result}"
    );

    let audit = app.audit("action=test").await;
    assert!(audit.iter().all(|e| e["success"] == false));
    assert_eq!(audit.len(), 2);
}
