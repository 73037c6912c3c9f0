use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{pg_admin, spawn_app, spawn_app_with};

#[actix_web::test]
async fn health_is_public_and_names_the_store() {
    let app = spawn_app().await;
    let r = app.get("/api/health", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"], app.store.as_str());
    assert!(body["version"].as_str().is_some());
}

#[actix_web::test]
async fn health_answers_503_when_the_postgresql_store_is_cut() {
    let app = spawn_app_with("postgres", |_| {}).await;
    assert_eq!(app.get("/api/health", None).await.status(), StatusCode::OK);
    let db = app.pg_database().expect("pg store").to_string();
    pg_admin(&format!(
        "ALTER DATABASE {db} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
    ))
    .expect("cut");
    let r = app.get("/api/health", None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "unavailable");
    // Any other route that needs the store says 503 with the stable code, not 500.
    let r = app
        .post_json(
            "/api/auth/login",
            None,
            serde_json::json!({"username": "admin", "password": "whatever-it-is"}),
        )
        .await;
    crate::helpers::expect_error(r, StatusCode::SERVICE_UNAVAILABLE, "store_unavailable").await;
    pg_admin(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).expect("restore");
    assert_eq!(app.get("/api/health", None).await.status(), StatusCode::OK);
}
