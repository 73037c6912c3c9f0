use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{client, expect_error, spawn_app, spawn_app_with, ADMIN, ADMIN_PASSWORD};

#[actix_web::test]
async fn login_sets_a_strict_http_only_session_cookie_that_authenticates() {
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/api/auth/login",
            None,
            json!({"username": ADMIN, "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie")
        .to_string();
    assert!(cookie.starts_with("autodb_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not mark it Secure: {cookie}"
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["user"]["role"], "admin");
    // The app's client keeps the cookie: no bearer needed.
    let me: Value = app
        .get("/api/auth/me", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["username"], ADMIN);
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong_pw = app
        .post_json(
            "/api/auth/login",
            None,
            json!({"username": ADMIN, "password": "nope-nope-nope"}),
        )
        .await;
    let a = expect_error(wrong_pw, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let no_user = app
        .post_json(
            "/api/auth/login",
            None,
            json!({"username": "ghost", "password": "nope-nope-nope"}),
        )
        .await;
    let b = expect_error(no_user, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(a, b);
    let failures = app.audit("action=login").await;
    assert!(failures
        .iter()
        .any(|e| e["actor"] == "ghost" && e["success"] == false));
}

#[actix_web::test]
async fn repeated_failed_logins_are_refused_for_a_while_even_with_the_right_password() {
    let app = spawn_app_with(&crate::helpers::store_backend(), |s| {
        s.security.login_max_failures = 3;
    })
    .await;
    for _ in 0..3 {
        let r = app
            .post_json(
                "/api/auth/login",
                None,
                json!({"username": ADMIN, "password": "guess-guess"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app
        .post_json(
            "/api/auth/login",
            None,
            json!({"username": ADMIN, "password": ADMIN_PASSWORD}),
        )
        .await;
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("Retry-After");
    assert!(retry >= 1);
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}

#[actix_web::test]
async fn logout_ends_the_session_for_cookie_and_bearer_alike() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    assert_eq!(
        app.get("/api/auth/me", Some(&token)).await.status(),
        StatusCode::OK
    );
    let r = app
        .request(
            reqwest::Method::POST,
            "/api/auth/logout",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get("/api/auth/me", Some(&token)).await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let fresh = client();
    let r = fresh
        .get(app.url("/api/auth/me"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn api_tokens_work_until_revoked_and_are_shown_only_once() {
    let app = spawn_app().await;
    let session = app.admin_token().await;
    let r = app
        .post_json(
            "/api/auth/tokens",
            Some(&session),
            json!({"name": "ci-deploy", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.expect("json");
    let secret = created["token"].as_str().expect("token").to_string();
    let id = created["api_token"]["id"].as_i64().expect("id");
    assert!(created["api_token"]["expires_at"].is_string());

    let anon = client();
    let me: Value = anon
        .get(app.url("/api/auth/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(me["username"], ADMIN);

    let list: Value = app
        .get("/api/auth/tokens", Some(&session))
        .await
        .json()
        .await
        .expect("json");
    let listed = list.to_string();
    assert!(
        listed.contains("ci-deploy") && !listed.contains(&secret),
        "{listed}"
    );

    let r = app
        .delete(&format!("/api/auth/tokens/{id}"), Some(&session))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = anon
        .get(app.url("/api/auth/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .delete(&format!("/api/auth/tokens/{id}"), Some(&session))
        .await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn a_token_cannot_be_revoked_by_someone_else() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let created: Value = app
        .post_json("/api/auth/tokens", Some(&admin), json!({"name": "mine"}))
        .await
        .json()
        .await
        .expect("json");
    let id = created["api_token"]["id"].as_i64().expect("id");
    let other = app.user_with_role("operator").await;
    let r = app
        .delete(&format!("/api/auth/tokens/{id}"), Some(&other))
        .await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let secret = created["token"].as_str().expect("token");
    assert_eq!(
        app.get("/api/auth/me", Some(secret)).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_garbage_bearer_token_is_unauthenticated_not_an_error() {
    let app = spawn_app().await;
    for token in [
        "nonsense",
        "ads_",
        "adt_bm90LWEtdG9rZW4",
        "ads_\u{e9}t\u{e9}",
    ] {
        let r = app.get("/api/targets", Some(token)).await;
        expect_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
}

/// A fresh user (role developer) with `password`, and its name.
async fn fresh_user(app: &crate::helpers::TestApp, password: &str) -> String {
    let admin = app.admin_token().await;
    let name = format!("pw{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let r = app
        .post_json(
            "/api/users",
            Some(&admin),
            json!({"username": name, "password": password, "role": "developer"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    name
}

async fn login_status(app: &crate::helpers::TestApp, user: &str, password: &str) -> StatusCode {
    app.post_json(
        "/api/auth/login",
        None,
        json!({"username": user, "password": password}),
    )
    .await
    .status()
}

#[actix_web::test]
async fn changing_ones_password_ends_the_other_sessions_and_keeps_this_one() {
    let app = spawn_app().await;
    let old = "the-old-password";
    let new = "the-new-password";
    let name = fresh_user(&app, old).await;
    let this = app.login(&name, old).await;
    let other = app.login(&name, old).await;
    let r = app
        .post_json(
            "/api/auth/password",
            Some(&this),
            json!({"current_password": old, "new_password": new}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/auth/me", Some(&this)).await.status(),
        StatusCode::OK
    );
    let r = app.get("/api/auth/me", Some(&other)).await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(login_status(&app, &name, new).await, StatusCode::OK);
    assert_eq!(
        login_status(&app, &name, old).await,
        StatusCode::UNAUTHORIZED
    );
    let entries = app.audit("action=password").await;
    let entry = entries
        .iter()
        .find(|e| e["actor"] == name.as_str())
        .expect("a password entry");
    assert_eq!(entry["success"], true, "{entry}");
    let text = entry.to_string();
    assert!(!text.contains(old) && !text.contains(new), "{text}");
}

#[actix_web::test]
async fn a_wrong_current_password_changes_nothing_and_repeated_ones_are_braked() {
    let app = spawn_app_with(&crate::helpers::store_backend(), |s| {
        s.security.login_max_failures = 3;
    })
    .await;
    let old = "the-old-password";
    let name = fresh_user(&app, old).await;
    let this = app.login(&name, old).await;
    let other = app.login(&name, old).await;
    let attempt =
        json!({"current_password": "not-the-password", "new_password": "the-new-password"});
    let r = app
        .post_json("/api/auth/password", Some(&this), attempt.clone())
        .await;
    let body = expect_error(r, StatusCode::FORBIDDEN, "wrong_password").await;
    assert_eq!(body["field"], "current_password");
    // Nothing changed: both sessions live, the old password still works, the new one does not.
    for t in [&this, &other] {
        assert_eq!(
            app.get("/api/auth/me", Some(t)).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        login_status(&app, &name, "the-new-password").await,
        StatusCode::UNAUTHORIZED
    );
    let failed = app.audit("action=password").await;
    assert!(
        failed
            .iter()
            .any(|e| e["actor"] == name.as_str() && e["success"] == false),
        "{failed:?}"
    );
    // The brake is login's: the wrong login above and the two wrong tries here make three.
    let r = app
        .post_json("/api/auth/password", Some(&this), attempt.clone())
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "wrong_password").await;
    let r = app
        .post_json(
            "/api/auth/password",
            Some(&this),
            json!({"current_password": old, "new_password": "the-new-password"}),
        )
        .await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    assert_eq!(
        login_status(&app, &name, old).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn a_short_new_password_is_refused_naming_new_password() {
    let app = spawn_app().await;
    let old = "the-old-password";
    let name = fresh_user(&app, old).await;
    let this = app.login(&name, old).await;
    let r = app
        .post_json(
            "/api/auth/password",
            Some(&this),
            json!({"current_password": old, "new_password": "short"}),
        )
        .await;
    let body = expect_error(r, crate::helpers::BREAKS_DOC, "invalid_input").await;
    assert_eq!(body["field"], "new_password", "{body}");
    assert_eq!(login_status(&app, &name, old).await, StatusCode::OK);
}

#[actix_web::test]
async fn an_api_token_cannot_change_the_password() {
    let app = spawn_app().await;
    let old = "the-old-password";
    let name = fresh_user(&app, old).await;
    let this = app.login(&name, old).await;
    let r = app
        .post_json("/api/auth/tokens", Some(&this), json!({"name": "script"}))
        .await;
    let created: Value = r.json().await.expect("json");
    let api_token = created["token"].as_str().expect("token");
    let r = app
        .post_json(
            "/api/auth/password",
            Some(api_token),
            json!({"current_password": old, "new_password": "the-new-password"}),
        )
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(login_status(&app, &name, old).await, StatusCode::OK);
}
