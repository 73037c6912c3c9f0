use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, ADMIN};

#[actix_web::test]
async fn logins_and_changes_are_recorded_with_who_what_and_where() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    app.post_json(
        "/api/targets",
        Some(&t),
        json!({"name": "a", "engine": "sqlite", "database": "/tmp/a.db", "password": "pw-hidden"}),
    )
    .await;
    let entries = app.audit("actor=admin").await;
    let create = entries
        .iter()
        .find(|e| e["action"] == "create" && e["object_type"] == "target")
        .expect("target creation recorded");
    assert_eq!(create["actor"], ADMIN);
    assert_eq!(create["client_addr"], "127.0.0.1");
    assert_eq!(create["detail"]["name"], "a");
    assert!(!create.to_string().contains("pw-hidden"));
    assert!(entries
        .iter()
        .any(|e| e["action"] == "login" && e["success"] == true));
}

#[actix_web::test]
async fn the_audit_log_pages_newest_first_and_filters_by_time() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.admin_token().await;
    }
    let t = app.admin_token().await;
    let page: Value = app
        .get("/api/audit?action=login&per_page=2&page=2", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["total"], 5);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let first: Value = app
        .get("/api/audit?action=login&per_page=2", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert!(first["items"][0]["id"].as_i64() > page["items"][0]["id"].as_i64());
    let future: Value = app
        .get("/api/audit?since=2999-01-01T00:00:00Z", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(future["total"], 0);
}

#[actix_web::test]
async fn only_admins_read_the_audit_log() {
    let app = spawn_app().await;
    let op = app.user_with_role("operator").await;
    let r = app.get("/api/audit", Some(&op)).await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[actix_web::test]
async fn the_store_itself_refuses_to_edit_or_delete_audit_entries() {
    let app = spawn_app().await;
    app.admin_token().await;
    let settings = {
        let mut s = autodb::config::Settings::default();
        s.database.url = match app.pg_database() {
            Some(db) => format!("postgres://postgres@127.0.0.1:5432/{db}"),
            None => format!("sqlite://{}", app.dir.path().join("autodb.db").display()),
        };
        s.security.secret_key_file = app.dir.path().join("secret.key").display().to_string();
        s
    };
    let ctx = autodb::startup::context(settings, false).expect("context");
    for sql in [
        "UPDATE audit_log SET action = 'nothing'",
        "DELETE FROM audit_log",
    ] {
        let err = ctx
            .store
            .run_blocking(|c| {
                use diesel::connection::SimpleConnection;
                c.batch_execute(sql).map_err(Into::into)
            })
            .expect_err("append-only");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert!(!app.audit("").await.is_empty());
}
