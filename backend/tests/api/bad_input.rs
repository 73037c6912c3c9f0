//! Bad input is a 4xx that names the problem, never a 500, and changes nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, spawn_app_with, TestApp};

fn pg_target() -> Value {
    json!({"name": "pg", "engine": "postgres", "host": "127.0.0.1", "port": 5432,
           "database": "test", "username": "postgres", "password": "x"})
}

async fn raw_post(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/targets"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("send")
}

async fn assert_no_targets(app: &TestApp, token: &str) {
    let list: Value = app
        .get("/api/targets", Some(token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list, json!([]), "bad input must change nothing");
}

#[actix_web::test]
async fn malformed_json_is_a_400_saying_so() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = raw_post(&app, &t, "application/json", b"{\"name\": \"pg\",".to_vec()).await;
    expect_error(r, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert_no_targets(&app, &t).await;
}

#[actix_web::test]
async fn each_kind_of_wrong_field_is_named() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let mut unknown = pg_target();
    unknown["colour"] = json!("blue");
    let mut missing = pg_target();
    missing.as_object_mut().expect("obj").remove("name");
    let mut wrong_type = pg_target();
    wrong_type["port"] = json!("5432");
    let mut engine = pg_target();
    engine["engine"] = json!("db2");
    let mut port = pg_target();
    port["port"] = json!(70000);
    let mut negative = pg_target();
    negative["port"] = json!(-1);
    let mut zero = pg_target();
    zero["port"] = json!(0);
    let mut tags = pg_target();
    tags["tags"] = json!(["ok", "Not OK!"]);
    // 400: the body breaks the API document; 422: the document allows it (port 0 is a SQLite
    // target's), the engine does not.
    let bad = StatusCode::BAD_REQUEST;
    let cases = [
        (unknown, "colour", "unknown field", bad),
        (missing, "name", "missing field", bad),
        (wrong_type, "port", "invalid type", bad),
        (engine, "engine", "unknown variant", bad),
        (port, "port", "70000", bad),
        (negative, "port", "-1", bad),
        (
            zero,
            "port",
            "between 1 and 65535",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (tags, "tags[1]", "tags are", bad),
    ];
    for (body, field, words, status) in cases {
        let r = app.post_json("/api/targets", Some(&t), body.clone()).await;
        let err = expect_error(r, status, "invalid_input").await;
        assert_eq!(err["field"], field, "for {body}: {err}");
        let message = err["message"].as_str().expect("message");
        assert!(message.contains(words), "for {body}: {message}");
    }
    assert_no_targets(&app, &t).await;
}

#[actix_web::test]
async fn an_oversized_body_is_a_413() {
    let app = spawn_app_with(&crate::helpers::store_backend(), |s| {
        s.server.max_body_bytes = 4096
    })
    .await;
    let t = app.admin_token().await;
    let mut big = pg_target();
    big["options"] = json!({"comment": "x".repeat(10_000)});
    let r = raw_post(&app, &t, "application/json", big.to_string().into_bytes()).await;
    let err = expect_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert!(err["message"].as_str().expect("msg").contains("4096"));
    // Chunked, with no Content-Length to check up front: still cut at the limit.
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(
        (0..10).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1000])),
    ));
    let r = app
        .client
        .post(app.url("/api/targets"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_no_targets(&app, &t).await;
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = raw_post(&app, &t, "text/plain", pg_target().to_string().into_bytes()).await;
    expect_error(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[actix_web::test]
async fn bad_path_and_query_values_are_400_not_404_or_500() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app.get("/api/targets/not-a-number", Some(&t)).await;
    expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    let r = app.get("/api/audit?page=abc", Some(&t)).await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "page", "{err}");
    let r = app.get("/api/audit?per_page=100000", Some(&t)).await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "per_page");
    let r = app.get("/api/audit?since=yesterday", Some(&t)).await;
    let err = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(err["field"], "since", "{err}");
}

#[actix_web::test]
async fn an_unknown_api_route_is_a_json_404() {
    let app = spawn_app().await;
    let r = app.get("/api/does-not-exist", None).await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

/// A refusal carries its message's stable code and values, so the UI can say it in its user's
/// language; the English `message` stays as it was.
#[actix_web::test]
async fn refusals_carry_a_reason_and_its_params_for_translation() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let lite = app.sqlite_path("reasons.db");
    let r = app
        .post_json(
            "/api/targets",
            Some(&t),
            json!({"name": "lite", "engine": "sqlite", "database": lite}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let target = r.json::<Value>().await.expect("json")["id"].clone();

    let body = expect_error(
        app.post_json(
            "/api/jobs",
            Some(&t),
            json!({"name": "", "scripts": [{"sql": "SELECT 1", "target_ids": [target]}]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(
        (&body["field"], &body["reason"], &body["params"]),
        (
            &json!("name"),
            &json!("chars"),
            &json!({"min": 1, "max": 200})
        ),
        "{body}"
    );
    assert_eq!(body["message"], "must be 1 to 200 characters");

    let body = expect_error(
        app.get("/api/jobs/987654", Some(&t)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        (&body["reason"], &body["params"]),
        (&json!("not_found"), &json!({"what": "job"}))
    );

    let body = expect_error(
        app.post_json(
            "/api/queries",
            Some(&t),
            json!({"sql": "SELECT 1;\nUPDATE t SET a = 1", "target_ids": [target]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    assert_eq!(body["reason"], "statement_not_query", "{body}");
    assert_eq!(
        body["params"],
        json!({"n": 2, "line": 2, "kind": "UPDATE", "engine": "sqlite", "target": "lite"})
    );

    let r = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong"}))
        .send()
        .await
        .expect("send");
    let body = expect_error(r, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(body["reason"], "invalid_credentials");
    assert!(body.get("params").is_none(), "no values, no params: {body}");
}
