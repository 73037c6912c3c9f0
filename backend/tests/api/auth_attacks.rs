//! Attacks on the login and on cookie sessions (issue 8, findings 4, 5 and 10): an anonymous
//! client must not grow the store or memory, a burst must not buy more password checks than the
//! limit nor lock out other people, and a cookie must not carry another site's request.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    client, expect_error, spawn_app_with, store_backend, TestApp, ADMIN, ADMIN_PASSWORD,
};

const USER_PASSWORD: &str = "a-long-enough-password";

async fn login_as(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("send")
}

async fn create_user(app: &TestApp, name: &str) {
    let admin = app.admin_token().await;
    let r = app
        .post_json(
            "/api/users",
            Some(&admin),
            json!({"username": name, "password": USER_PASSWORD, "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// Every login audit entry (success or not), newest first.
async fn login_entries(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app
        .get("/api/audit?action=login&per_page=500", Some(token))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.expect("json");
    page["items"].as_array().expect("items").clone()
}

fn store_bytes(app: &TestApp) -> u64 {
    ["autodb.db", "autodb.db-wal", "autodb.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(app.dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum()
}

#[actix_web::test]
async fn oversized_login_names_and_passwords_are_refused_before_anything_is_stored() {
    let app = spawn_app_with(&store_backend(), |_| {}).await;
    let admin = app.admin_token().await;
    let entries_before = login_entries(&app, &admin).await.len();
    let keys_before = app.ctx.throttle.len();
    let bytes_before = store_bytes(&app);

    let huge = "u".repeat(3 * 1024 * 1024);
    for _ in 0..5 {
        let r = login_as(&app, &huge, "whatever-it-is").await;
        expect_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    }
    let long_name = "u".repeat(65);
    let body = expect_error(
        login_as(&app, &long_name, "whatever-it-is").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(body["field"], "username", "{body}");
    let body = expect_error(
        login_as(&app, ADMIN, &"p".repeat(1025)).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(body["field"], "password", "{body}");

    assert_eq!(login_entries(&app, &admin).await.len(), entries_before);
    assert_eq!(app.ctx.throttle.len(), keys_before, "nothing remembered");
    if app.store == "sqlite" {
        let grown = store_bytes(&app).saturating_sub(bytes_before);
        assert!(grown < 1024 * 1024, "the store grew by {grown} bytes");
    }
}

#[actix_web::test]
async fn throttled_attempts_are_counted_in_one_audit_entry_not_recorded_one_by_one() {
    let app = spawn_app_with(&store_backend(), |s| {
        s.security.login_max_failures = 3;
        s.security.login_lockout_s = 1;
    })
    .await;
    create_user(&app, "mallory-target").await;
    for _ in 0..3 {
        let r = login_as(&app, "mallory-target", "guess-guess-guess").await;
        expect_error(r, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    for _ in 0..50 {
        let r = login_as(&app, "mallory-target", "guess-guess-guess").await;
        expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    }
    // The episode's summary is written once the lock has ended, by the next login anyone makes.
    let admin = app.admin_token().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let throttled = loop {
        let entries: Vec<Value> = login_entries(&app, &admin)
            .await
            .into_iter()
            .filter(|e| e["actor"] == "mallory-target")
            .collect();
        let summaries: Vec<Value> = entries
            .iter()
            .filter(|e| e["detail"]["reason"] == "throttled")
            .cloned()
            .collect();
        if !summaries.is_empty() || Instant::now() > deadline {
            assert_eq!(
                entries.len(),
                3 + summaries.len(),
                "three checked failures and the summary: {entries:?}"
            );
            break summaries;
        }
        let r = login_as(&app, ADMIN, ADMIN_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK);
    };
    assert_eq!(
        throttled.len(),
        1,
        "one entry for the episode: {throttled:?}"
    );
    assert_eq!(throttled[0]["detail"]["attempts"], 50, "{throttled:?}");
    assert_eq!(throttled[0]["success"], false);
}

#[actix_web::test]
async fn a_burst_of_wrong_passwords_buys_only_the_limit_of_checks_and_locks_no_one_else() {
    let app = spawn_app_with(&store_backend(), |_| {}).await;
    create_user(&app, "burst-target").await;
    let checks_before = app.ctx.throttle.password_checks();
    let answers =
        join_all((0..40).map(|_| login_as(&app, "burst-target", "wrong-wrong-wrong"))).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
    let checks = app.ctx.throttle.password_checks() - checks_before;
    assert!(checks <= 5, "{checks} password checks for a limit of 5");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count() as u64,
        checks,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s)));
    // The attacked name is locked, even with its right password...
    let r = login_as(&app, "burst-target", USER_PASSWORD).await;
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    // ...but the admin, from the same address, logs in.
    let r = login_as(&app, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn password_checks_run_at_most_the_configured_number_at_once() {
    let app = spawn_app_with(&store_backend(), |s| {
        s.security.max_concurrent_password_checks = 2;
    })
    .await;
    let answers = join_all((0..8).map(|i| {
        let app = &app;
        async move { login_as(app, &format!("nobody-{i}"), "wrong-wrong-wrong").await }
    }))
    .await;
    for r in answers {
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&r.status()),
            "{}",
            r.status()
        );
    }
    let throttle = &app.ctx.throttle;
    assert!(throttle.password_checks() >= 2, "the checks ran");
    assert!(
        throttle.max_checks_in_flight() <= 2,
        "{} checks ran at once",
        throttle.max_checks_in_flight()
    );
}

async fn recorded_address(app: &TestApp, forwarded_for: &str) -> Value {
    let r = client()
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string();
    let newest = login_entries(app, &token).await;
    newest[0]["client_addr"].clone()
}

#[actix_web::test]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy_and_read_from_the_right() {
    let behind = spawn_app_with(&store_backend(), |s| s.server.trust_proxy = true).await;
    // The test connects from 127.0.0.1, a trusted proxy by default: the client is the
    // right-most address that is not a proxy; what the client wrote on the left is not believed.
    assert_eq!(
        recorded_address(&behind, "203.0.113.9, 198.51.100.7").await,
        "198.51.100.7"
    );
    assert_eq!(
        recorded_address(&behind, "203.0.113.9, 198.51.100.7, 127.0.0.1").await,
        "198.51.100.7"
    );
    let untrusted = spawn_app_with(&store_backend(), |s| {
        s.server.trust_proxy = true;
        s.security.trusted_proxies = vec!["10.9.8.7".into(), "192.168.0.0/16".into()];
    })
    .await;
    assert_eq!(
        recorded_address(&untrusted, "198.51.100.7").await,
        "127.0.0.1"
    );
}

#[actix_web::test]
async fn a_burst_through_the_proxy_is_counted_against_the_forwarded_address() {
    let app = spawn_app_with(&store_backend(), |s| {
        s.server.trust_proxy = true;
        s.security.login_max_failures = 2;
    })
    .await;
    let attempt = |from: &'static str, password: &'static str| {
        client()
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"username": ADMIN, "password": password}))
            .send()
    };
    for _ in 0..2 {
        let r = attempt("198.51.100.7", "wrong-wrong-wrong")
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = attempt("198.51.100.7", ADMIN_PASSWORD).await.expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = attempt("203.0.113.20", ADMIN_PASSWORD).await.expect("send");
    assert_eq!(r.status(), StatusCode::OK, "another client, same account");
}

/// A client holding the admin's session cookie (and no bearer token).
async fn cookie_client(app: &TestApp) -> reqwest::Client {
    let c = client();
    let r = c
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    c
}

async fn send(
    c: &reqwest::Client,
    method: Method,
    url: String,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = c.request(method, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("send")
}

#[actix_web::test]
async fn a_cookie_authenticated_change_from_another_origin_is_refused() {
    let app = spawn_app_with(&store_backend(), |_| {}).await;
    let bearer = app.admin_token().await;
    let created: Value = app
        .post_json("/api/auth/tokens", Some(&bearer), json!({"name": "ci"}))
        .await
        .json()
        .await
        .expect("json");
    let id = created["api_token"]["id"].as_i64().expect("id");
    let secret = created["token"].as_str().expect("token").to_string();
    let victim = cookie_client(&app).await;
    let revoke = app.url(&format!("/api/auth/tokens/{id}"));
    let logout = app.url("/api/auth/logout");
    for headers in [
        &[("origin", "http://evil.example")][..],
        &[("origin", "null")][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
        &[][..],
    ] {
        let r = send(&victim, Method::DELETE, revoke.clone(), headers).await;
        expect_error(r, StatusCode::FORBIDDEN, "cross_origin").await;
        let r = send(&victim, Method::POST, logout.clone(), headers).await;
        expect_error(r, StatusCode::FORBIDDEN, "cross_origin").await;
    }
    // Nothing happened: the token works, the session lives.
    assert_eq!(
        app.get("/api/auth/me", Some(&secret)).await.status(),
        StatusCode::OK
    );
    let r = send(&victim, Method::GET, app.url("/api/auth/me"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK, "reads need no origin");

    // AutoDB's own pages: the same origin, or the browser saying so.
    let r = send(&victim, Method::DELETE, revoke, &[("origin", &app.base)]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(
        &victim,
        Method::POST,
        logout,
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn bearer_tokens_need_no_origin_and_a_cross_site_login_is_refused() {
    let app = spawn_app_with(&store_backend(), |_| {}).await;
    let bearer = app.admin_token().await;
    let r = client()
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&bearer)
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "a bearer is never sent by a browser on its own"
    );
    // Login CSRF: another site must not log the browser in to an account of its choosing.
    let r = client()
        .post(app.url("/api/auth/login"))
        .header("origin", "http://evil.example")
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("send");
    expect_error(r, StatusCode::FORBIDDEN, "cross_origin").await;
    let r = client()
        .post(app.url("/api/auth/login"))
        .header("origin", &app.base)
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_forwarded_origin_counts_and_allowed_origins_are_added() {
    let proxied = [
        ("origin", "https://autodb.example"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "autodb.example"),
    ];
    let untrusted = spawn_app_with(&store_backend(), |s| {
        s.server.trust_proxy = true;
        s.security.trusted_proxies = vec!["10.9.8.7".into()];
    })
    .await;
    let c = cookie_client(&untrusted).await;
    let r = send(
        &c,
        Method::POST,
        untrusted.url("/api/auth/logout"),
        &proxied,
    )
    .await;
    expect_error(r, StatusCode::FORBIDDEN, "cross_origin").await;

    let app = spawn_app_with(&store_backend(), |s| {
        s.server.trust_proxy = true;
        s.security.allowed_origins = vec!["https://autodb.example:8443".into()];
    })
    .await;
    let c = cookie_client(&app).await;
    // nginx's $host has no port: the page's origin on a non-default port is listed instead.
    let r = send(
        &c,
        Method::POST,
        app.url("/api/auth/logout"),
        &[("origin", "https://autodb.example:8443")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let c = cookie_client(&app).await;
    let mut wrong_scheme = proxied;
    wrong_scheme[0] = ("origin", "http://autodb.example");
    let r = send(&c, Method::POST, app.url("/api/auth/logout"), &wrong_scheme).await;
    expect_error(r, StatusCode::FORBIDDEN, "cross_origin").await;
    let r = send(&c, Method::POST, app.url("/api/auth/logout"), &proxied).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
