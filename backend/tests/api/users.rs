use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, ADMIN, ADMIN_PASSWORD};

#[actix_web::test]
async fn admins_create_users_who_can_then_log_in_with_their_role() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app
        .post_json(
            "/api/users",
            Some(&t),
            json!({"username": "dana", "password": "dana-password-1", "role": "developer"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let user: Value = r.json().await.expect("json");
    assert_eq!(user["role"], "developer");
    assert!(user.get("password_hash").is_none());
    let dana = app.login("dana", "dana-password-1").await;
    let r = app.get("/api/users", Some(&dana)).await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .post_json(
            "/api/users",
            Some(&t),
            json!({"username": "dana", "password": "other-password-1", "role": "viewer"}),
        )
        .await;
    expect_error(r, StatusCode::CONFLICT, "conflict").await;
}

#[actix_web::test]
async fn weak_passwords_and_bad_names_are_refused_with_the_field() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app
        .post_json(
            "/api/users",
            Some(&t),
            json!({"username": "eve", "password": "short", "role": "viewer"}),
        )
        .await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "password");
    let r = app
        .post_json(
            "/api/users",
            Some(&t),
            json!({"username": "e ve", "password": "long-enough-pw", "role": "viewer"}),
        )
        .await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "username");
    let r = app
        .post_json(
            "/api/users",
            Some(&t),
            json!({"username": "eve", "password": "long-enough-pw", "role": "root"}),
        )
        .await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "role");
}

#[actix_web::test]
async fn disabling_a_user_or_changing_their_password_ends_their_sessions() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let created: Value = app
        .post_json(
            "/api/users",
            Some(&admin),
            json!({"username": "op", "password": "op-password-1", "role": "operator"}),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_i64().expect("id");
    let op = app.login("op", "op-password-1").await;
    // Used first, so the server has verified (and may remember) this session.
    assert_eq!(
        app.get("/api/auth/me", Some(&op)).await.status(),
        StatusCode::OK
    );
    let r = app
        .put_json(
            &format!("/api/users/{id}"),
            Some(&admin),
            json!({"password": "op-password-2"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/auth/me", Some(&op)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let op = app.login("op", "op-password-2").await;
    // An operator may submit jobs (this one names no real target: 422, not 403)...
    let job = json!({"name": "j", "scripts": [{"sql": "SELECT 1", "target_ids": [999999]}]});
    let r = app.post_json("/api/jobs", Some(&op), job.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // ...and a role change applies to the very next request of an open session.
    let r = app
        .put_json(
            &format!("/api/users/{id}"),
            Some(&admin),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.post_json("/api/jobs", Some(&op), job).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .put_json(
            &format!("/api/users/{id}"),
            Some(&admin),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/auth/me", Some(&op)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post_json(
            "/api/auth/login",
            None,
            json!({"username": "op", "password": "op-password-2"}),
        )
        .await;
    expect_error(r, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[actix_web::test]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let me: Value = app
        .get("/api/auth/me", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    let id = me["id"].as_i64().expect("id");
    for change in [json!({"role": "viewer"}), json!({"disabled": true})] {
        let r = app
            .put_json(&format!("/api/users/{id}"), Some(&t), change)
            .await;
        expect_error(r, StatusCode::CONFLICT, "conflict").await;
    }
    assert!(!app.login(ADMIN, ADMIN_PASSWORD).await.is_empty());
}
