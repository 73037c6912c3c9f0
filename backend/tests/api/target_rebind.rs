//! Issue 8, finding 11: an admin could capture a target's stored password by pointing the
//! target somewhere of their own and testing it. Changing where a stored password goes needs
//! the password again.

use std::net::TcpListener;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, TestApp};
use crate::jobs::create_target;

/// A listener of the test's own: whoever connects to it could read the password sent.
struct Trap(TcpListener);

impl Trap {
    fn new() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("nonblocking");
        Self(l)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().expect("addr").port()
    }

    /// Whether anything connected so far: a finished connection attempt waits in the backlog.
    fn was_reached(&self) -> bool {
        self.0.accept().is_ok()
    }
}

/// The target's settings (without its health, which each test of it records).
async fn target(app: &TestApp, token: &str, id: i64) -> Value {
    let mut t: Value = app
        .get(&format!("/api/targets/{id}"), Some(token))
        .await
        .json()
        .await
        .expect("json");
    t.as_object_mut().map(|o| o.remove("health"));
    t
}

async fn test_target(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app
        .post_json(&format!("/api/targets/{id}/test"), Some(token), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

fn base() -> Value {
    json!({"name": "hr", "engine": "postgres", "host": "localhost", "port": 5432,
           "database": "postgres", "username": "postgres", "password": "the-stored-secret-77"})
}

fn with(changes: Value) -> Value {
    let mut body = base();
    body.as_object_mut().expect("object").remove("password");
    for (k, v) in changes.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

#[actix_web::test]
async fn pointing_a_target_with_a_stored_password_elsewhere_requires_the_password_again() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let id = create_target(&app, &t, base()).await;
    let before = target(&app, &t, id).await;
    let trap = Trap::new();
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            with(json!({"host": "127.0.0.1", "port": trap.port()})),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    test_target(&app, &t, id).await;
    assert!(
        !trap.was_reached(),
        "the stored password was sent to the new host (update answered {status}: {body})"
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "password_required", "{body}");
    assert_eq!(body["field"], "host", "{body}");
    assert_eq!(target(&app, &t, id).await, before, "nothing changed");
}

#[actix_web::test]
async fn each_field_that_decides_where_the_password_goes_requires_it_again() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let id = create_target(&app, &t, base()).await;
    let before = target(&app, &t, id).await;
    let cases = [
        (json!({"host": "db.example"}), "host"),
        (json!({"port": 5433}), "port"),
        (json!({"database": "other"}), "database"),
        (json!({"username": "someone"}), "username"),
        (json!({"engine": "mysql", "port": 5432}), "engine"),
    ];
    for (change, field) in cases {
        let r = app
            .put_json(
                &format!("/api/targets/{id}"),
                Some(&t),
                with(change.clone()),
            )
            .await;
        let err = expect_error(r, StatusCode::BAD_REQUEST, "password_required").await;
        assert_eq!(err["field"], field, "{change}: {err}");
    }
    assert_eq!(target(&app, &t, id).await, before, "nothing changed");
    // Name and tags are not where the password goes.
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            with(json!({"name": "hr-2", "tags": ["prod"]})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // With the password given again, the move is fine; without a stored password too.
    let mut moved = with(json!({"name": "hr-2", "host": "db.example"}));
    moved["password"] = json!("the-new-secret-78");
    let r = app
        .put_json(&format!("/api/targets/{id}"), Some(&t), moved)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut cleared = with(json!({"name": "hr-2", "host": "db.example"}));
    cleared["password"] = json!("");
    let r = app
        .put_json(&format!("/api/targets/{id}"), Some(&t), cleared)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            with(json!({"name": "hr-2", "host": "db3.example"})),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "no stored password, nothing to capture"
    );
}

#[actix_web::test]
async fn a_stored_query_password_is_not_sent_to_a_new_account_or_host_without_being_given() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let mut body = base();
    body.as_object_mut().expect("object").remove("password");
    body["query_username"] = json!("reader");
    body["query_password"] = json!("the-query-secret-79");
    let id = create_target(&app, &t, body).await;
    let before = target(&app, &t, id).await;
    let cases = [
        (json!({"query_username": "reader2"}), "query_username"),
        (
            json!({"query_username": "reader", "host": "db.example"}),
            "host",
        ),
    ];
    for (change, field) in cases {
        let r = app
            .put_json(
                &format!("/api/targets/{id}"),
                Some(&t),
                with(change.clone()),
            )
            .await;
        let err = expect_error(r, StatusCode::BAD_REQUEST, "password_required").await;
        assert_eq!(err["field"], field, "{change}: {err}");
        assert!(
            err["message"]
                .as_str()
                .is_some_and(|m| m.contains("query_password")),
            "{err}"
        );
    }
    assert_eq!(target(&app, &t, id).await, before, "nothing changed");
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            with(json!({"query_username": "reader2", "query_password": "the-new-one-80"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}
