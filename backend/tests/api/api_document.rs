//! The API document tells the truth: every status the shared machinery can answer is declared
//! with the error schema, bounds come from the running configuration, undeclared methods are a
//! 405 with `Allow`, and the answers the outside fuzzer (scripts/tests/schemathesis_test.sh)
//! first found wrong stay right.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, spawn_app_with, store_backend};
use crate::routes::documented_routes;

async fn document(app: &crate::helpers::TestApp) -> Value {
    app.get("/api/openapi.json", None)
        .await
        .json()
        .await
        .expect("openapi json")
}

#[actix_web::test]
async fn every_operation_declares_the_errors_it_can_answer_with_the_error_schema() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let public = [("get", "/api/health"), ("post", "/api/auth/login")];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Some(responses) = op["responses"].as_object() else {
                continue;
            };
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has = |place: &str| params.iter().any(|p| p["in"] == place);
            let mut want = vec!["503"];
            if op.get("requestBody").is_some() {
                want.extend(["400", "413", "415", "422"]);
            }
            if has("query") || has("path") {
                want.push("400");
            }
            if has("path") {
                want.push("404");
            }
            if !public.contains(&(method.as_str(), path.as_str())) {
                want.extend(["401", "403"]);
            }
            for status in want {
                let declared = &responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{method} {path} does not declare {status}"));
                let schema = &declared["content"]["application/json"]["schema"]["$ref"];
                // Health's 503 is its own `Health` body (`status: "unavailable"`).
                let expected = if path == "/api/health" {
                    "#/components/schemas/Health"
                } else {
                    "#/components/schemas/ErrorBody"
                };
                assert_eq!(schema, expected, "{method} {path} {status}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} operations");
}

#[actix_web::test]
async fn bounds_in_the_document_follow_the_configuration() {
    let app = spawn_app_with(&store_backend(), |s| {
        s.query.max_row_limit = 777;
        s.query.max_timeout_s = 42;
        s.grants.min_duration_s = 120;
    })
    .await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["QueryInput"]["properties"]["row_limit"]["maximum"],
        777
    );
    assert_eq!(
        schemas["QueryInput"]["properties"]["timeout_s"]["maximum"],
        42
    );
    assert_eq!(
        schemas["GrantInput"]["properties"]["duration_s"]["minimum"],
        120
    );
    assert_eq!(
        schemas["PolicyInput"]["properties"]["max_duration_s"]["minimum"],
        120
    );
    let jobs = doc["paths"]["/api/jobs"]["get"]["parameters"]
        .as_array()
        .expect("params")
        .clone();
    let page = jobs.iter().find(|p| p["name"] == "page").expect("page");
    assert_eq!(page["schema"]["minimum"], 1);

    // …and the server holds to what the document says.
    let token = app.admin_token().await;
    let r = app.get("/api/jobs?page=0", Some(&token)).await;
    expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
}

#[actix_web::test]
async fn an_undeclared_method_is_a_405_that_lists_the_declared_ones() {
    let app = spawn_app().await;
    let routes = documented_routes(&app).await;
    let token = app.admin_token().await;
    for (path, methods) in [
        ("/api/health", "GET"),
        ("/api/targets/1", "GET, PUT, DELETE"),
        ("/api/jobs", "POST, GET"),
    ] {
        for m in ["TRACE", "PATCH", "OPTIONS"] {
            let r = app
                .client
                .request(
                    Method::from_bytes(m.as_bytes()).expect("method"),
                    app.url(path),
                )
                .bearer_auth(&token)
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{m} {path}");
            let allow = r.headers()["allow"].to_str().expect("allow").to_string();
            assert_eq!(allow, methods, "{m} {path}");
            // Each listed method is one the document declares for that path.
            for listed in allow.split(", ") {
                let pattern = path.replace("/1", "/{id}");
                assert!(
                    routes.contains(&(listed.to_lowercase(), pattern.clone())),
                    "{listed} {pattern}"
                );
            }
            expect_error(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
        }
    }
    // A path no route has is still a 404.
    let r = app.get("/api/no-such-thing", Some(&token)).await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn a_whole_float_is_an_integer_and_a_huge_page_is_an_empty_one() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    // JSON Schema reads 30.0 as the integer 30; so does the API.
    let r = app
        .post_json(
            "/api/auth/tokens",
            Some(&token),
            json!({"name": "ci", "expires_in_days": 30.0}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // A fraction is still refused, naming the field.
    let r = app
        .post_json(
            "/api/auth/tokens",
            Some(&token),
            json!({"name": "ci", "expires_in_days": 30.5}),
        )
        .await;
    let body = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(body["field"], "expires_in_days");
    // (page - 1) * per_page overflowed and dropped the connection.
    for path in ["/api/jobs", "/api/audit", "/api/queries"] {
        let r = app
            .get(
                &format!("{path}?page=92233720368547760&per_page=500"),
                Some(&token),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let page: Value = r.json().await.expect("json");
        assert_eq!(page["items"], json!([]), "{path}");
    }
}

#[actix_web::test]
async fn content_the_document_allows_but_the_service_refuses_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let r = app
        .post_json(
            "/api/jobs",
            Some(&token),
            json!({"name": "j", "scripts": [{"sql": "select 1", "target_ids": [424242]}]}),
        )
        .await;
    let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    assert_eq!(body["field"], "scripts[0].target_ids");
    let r = app
        .post_json(
            "/api/schedules/preview",
            Some(&token),
            json!({"cron": "61 * * * *"}),
        )
        .await;
    let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    assert_eq!(body["field"], "cron");
    // A rule the document states is a 400: a blank job name.
    let r = app
        .post_json(
            "/api/jobs",
            Some(&token),
            json!({"name": "  ", "scripts": [{"sql": "select 1", "target_ids": [1]}]}),
        )
        .await;
    let body = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(body["field"], "name");
}
