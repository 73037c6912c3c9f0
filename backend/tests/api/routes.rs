//! Walks the whole route table (the OpenAPI document is built from it) and proves that every
//! route but the public ones needs a session or token.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{client, spawn_app};

const PUBLIC: [(&str, &str); 2] = [("get", "/api/health"), ("post", "/api/auth/login")];

/// Every (method, path) of the OpenAPI document, which is built from the route table.
pub async fn documented_routes(app: &crate::helpers::TestApp) -> Vec<(String, String)> {
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .expect("openapi json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let mut routes = vec![];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                routes.push((method.to_string(), path.clone()));
            }
        }
    }
    routes
}

#[actix_web::test]
async fn every_route_but_health_and_login_requires_authentication() {
    let app = spawn_app().await;
    let routes = documented_routes(&app).await;
    assert!(routes.len() >= 18, "{routes:?}");
    let anon = client();
    for (method, path) in &routes {
        let concrete = path.replace("{id}", "1");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let r = anon
            .request(m, app.url(&concrete))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        let public = PUBLIC.contains(&(method.as_str(), path.as_str()));
        if public {
            assert_ne!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        } else {
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} must need auth"
            );
            let body: Value = r.json().await.expect("json");
            assert_eq!(body["error"], "unauthenticated", "{method} {path}");
        }
    }
}

#[actix_web::test]
async fn every_documented_route_exists_and_every_known_route_is_documented() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let routes = documented_routes(&app).await;
    for (method, path) in &routes {
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let r = app
            .client
            .request(m, app.url(&path.replace("{id}", "999999")))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        // A 404 from a real route says which record is missing; the fallback says "no route".
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(
            !(status == StatusCode::NOT_FOUND
                && body["message"] == "no route for this method and path"),
            "{method} {path} is documented but not routed"
        );
    }
    // The routes the API contract names must all be in the document.
    for (method, path) in [
        ("get", "/api/health"),
        ("post", "/api/auth/login"),
        ("post", "/api/auth/logout"),
        ("get", "/api/auth/me"),
        ("get", "/api/auth/tokens"),
        ("post", "/api/auth/tokens"),
        ("delete", "/api/auth/tokens/{id}"),
        ("get", "/api/users"),
        ("post", "/api/users"),
        ("get", "/api/users/{id}"),
        ("put", "/api/users/{id}"),
        ("get", "/api/targets"),
        ("post", "/api/targets"),
        ("get", "/api/targets/{id}"),
        ("put", "/api/targets/{id}"),
        ("delete", "/api/targets/{id}"),
        ("post", "/api/targets/{id}/test"),
        ("get", "/api/audit"),
        ("post", "/api/queries"),
        ("get", "/api/queries"),
        ("get", "/api/queries/{id}"),
        ("post", "/api/queries/{id}/cancel"),
        ("get", "/api/queries/{id}/events"),
        ("get", "/api/queries/{id}/results/{target_id}.csv"),
    ] {
        assert!(
            routes.contains(&(method.to_string(), path.to_string())),
            "{method} {path} missing from the OpenAPI document"
        );
    }
}

#[actix_web::test]
async fn the_openapi_document_describes_request_and_response_schemas() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .expect("json");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "Target",
        "TargetInput",
        "TestResult",
        "User",
        "NewUser",
        "UserUpdate",
        "LoginRequest",
        "LoginResponse",
        "ApiToken",
        "NewApiToken",
        "CreatedApiToken",
        "AuditEntry",
        "AuditPage",
        "Health",
        "ErrorBody",
        "Engine",
        "Role",
        "QueryInput",
        "CreatedQuery",
        "Query",
        "QueryResult",
        "ResultColumn",
        "QueryPage",
        "QuerySummary",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    let post = &doc["paths"]["/api/targets"]["post"];
    assert!(post["requestBody"].is_object());
    assert!(post["responses"]["201"].is_object());
}
