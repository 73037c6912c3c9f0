//! Walks every documented route as each role (admin, operator, developer, viewer, a disabled
//! user, anonymous) and checks each answer against the one permission table kept beside the
//! route table (`autodb::api::permissions::TABLE`): 403 where the table denies the role, never
//! 401/403 where it allows it (ids are of real objects the caller may reach, so allowed answers
//! are 2xx, 400, 404 or 409), 401 for a disabled user's old session and for no credential.

use autodb::api::permissions::{self, Access};
use autodb::services::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{client, TestApp};
use crate::jobs::{ended, pg_target, submit, wait_job, PgDb};
use crate::queries::run;
use crate::roles::{change_user, me};
use crate::routes::documented_routes;

/// What the caller is, and the ids of the objects it reaches.
struct Caller {
    name: &'static str,
    /// `None`: anonymous, or disabled (expects 401 everywhere but the public routes).
    role: Option<Role>,
    token: Option<String>,
    user_id: i64,
    api_token_id: i64,
    job_id: i64,
    run_id: i64,
    query_id: i64,
}

struct World {
    target: i64,
    spare_target: i64,
}

async fn api_token_of(app: &TestApp, token: &str) -> i64 {
    let r = app
        .post_json("/api/auth/tokens", Some(token), json!({"name": "walk"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.expect("json")["api_token"]["id"]
        .as_i64()
        .expect("id")
}

/// A job (ended) and a query (ended) of the caller's own, on `target`.
async fn own_job_and_query(app: &TestApp, token: &str, target: i64) -> (i64, i64, i64) {
    let job = submit(
        app,
        token,
        json!({"name": "walk", "scripts": [{"sql": "SELECT 1", "target_ids": [target]}]}),
    )
    .await;
    let job_id = job["id"].as_i64().expect("id");
    let job = wait_job(app, token, job_id, 30, ended).await;
    let run_id = job["scripts"][0]["runs"][0]["id"].as_i64().expect("run id");
    let q = run(app, token, "SELECT 1 AS one", &[target]).await;
    (job_id, run_id, q["id"].as_i64().expect("query id"))
}

fn concrete(method: &str, path: &str, c: &Caller, w: &World) -> String {
    let id = if path.starts_with("/api/users/") {
        c.user_id
    } else if path.starts_with("/api/auth/tokens/") {
        c.api_token_id
    } else if path.starts_with("/api/targets/") {
        if method == "delete" {
            w.spare_target
        } else {
            w.target
        }
    } else if path.starts_with("/api/jobs/") {
        c.job_id
    } else if path.starts_with("/api/queries/") {
        c.query_id
    } else {
        1
    };
    path.replace("{id}", &id.to_string())
        .replace("{run_id}", &c.run_id.to_string())
        .replace("{target_id}", &w.target.to_string())
}

async fn walk(app: &TestApp, routes: &[(String, String)], c: &Caller, w: &World) {
    // Logging out ends the caller's session: last.
    let mut ordered: Vec<&(String, String)> = routes.iter().collect();
    ordered.sort_by_key(|(m, p)| m == "post" && p == "/api/auth/logout");
    let http = client();
    for (method, path) in ordered {
        let entry = permissions::lookup(method, path)
            .unwrap_or_else(|| panic!("{method} {path} is missing from the permission table"));
        let url = app.url(&concrete(method, path, c, w));
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let mut req = http.request(m, url);
        if let Some(t) = &c.token {
            req = req.bearer_auth(t);
        }
        if method == "post" || method == "put" {
            req = req.header("content-type", "application/json").body("{}");
        }
        let r = req.send().await.expect("send");
        let status = r.status();
        let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let body = String::from_utf8_lossy(&body);
        let who = c.name;
        let allowed = match (entry.access, c.role) {
            (Access::Public, _) => true,
            (_, None) => {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{who}: {method} {path} must need a live session: {body}"
                );
                continue;
            }
            (Access::SignedIn, Some(_)) => true,
            (Access::To(action), Some(role)) => role >= action.min_role(),
        };
        if allowed {
            assert!(
                status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                "{who}: {method} {path} is allowed by the table but answered {status}: {body}"
            );
            assert!(
                status.as_u16() < 500,
                "{who}: {method} {path} answered {status}: {body}"
            );
        } else {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{who}: {method} {path} is denied by the table: {body}"
            );
            assert!(body.contains("\"error\":\"forbidden\""), "{body}");
        }
    }
}

async fn caller(
    app: &TestApp,
    name: &'static str,
    role: Role,
    token: String,
    fallback: (i64, i64, i64),
    target: i64,
) -> Caller {
    let user_id = me(app, &token).await;
    let api_token_id = api_token_of(app, &token).await;
    let (job_id, run_id, query_id) = if role >= Role::Developer {
        own_job_and_query(app, &token, target).await
    } else {
        fallback
    };
    Caller {
        name,
        role: Some(role),
        token: Some(token),
        user_id,
        api_token_id,
        job_id,
        run_id,
        query_id,
    }
}

#[actix_web::test]
async fn every_route_answers_each_role_as_the_permission_table_says() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let db = PgDb::new("perm_walk");
    let target = pg_target(&app, &admin, &db).await;
    let spare_db = PgDb::new("perm_spare");
    let spare_target = pg_target(&app, &admin, &spare_db).await;
    let w = World {
        target,
        spare_target,
    };
    let routes = documented_routes(&app).await;
    assert!(routes.len() >= 30, "{routes:?}");
    // Every documented route is in the table, and the table names no route that is not.
    for (method, path) in &routes {
        assert!(
            permissions::lookup(method, path).is_some(),
            "{method} {path} is missing from the permission table"
        );
    }
    for p in permissions::TABLE {
        assert!(
            routes.contains(&(p.method.to_string(), p.path.to_string())),
            "{} {} is in the permission table but not routed",
            p.method,
            p.path
        );
    }

    let admin_caller = caller(&app, "admin", Role::Admin, admin.clone(), (0, 0, 0), target).await;
    // Objects a viewer can only look at (or not see at all: another user's query is a 404).
    let theirs = (
        admin_caller.job_id,
        admin_caller.run_id,
        admin_caller.query_id,
    );
    let mut callers = vec![];
    for (name, role) in [
        ("viewer", Role::Viewer),
        ("developer", Role::Developer),
        ("operator", Role::Operator),
    ] {
        let token = app.user_with_role(role.as_str()).await;
        callers.push(caller(&app, name, role, token, theirs, target).await);
    }

    // A developer whose session was opened (and used) before an admin disabled them.
    let token = app.user_with_role("developer").await;
    let mut disabled = caller(&app, "disabled", Role::Developer, token, theirs, target).await;
    change_user(&app, &admin, disabled.user_id, json!({"disabled": true})).await;
    disabled.role = None;
    callers.push(disabled);
    callers.push(Caller {
        name: "anonymous",
        role: None,
        token: None,
        user_id: admin_caller.user_id,
        api_token_id: admin_caller.api_token_id,
        job_id: theirs.0,
        run_id: theirs.1,
        query_id: theirs.2,
    });
    // The admin goes last: they delete the spare target and log out.
    callers.push(admin_caller);
    for c in &callers {
        walk(&app, &routes, c, &w).await;
    }
}

#[actix_web::test]
async fn a_percent_encoded_path_does_not_slip_past_the_permission_table() {
    let app = crate::helpers::spawn_app().await;
    let viewer = app.user_with_role("viewer").await;
    // `%6A` is `j`: the router decodes it, so the table must read the path the same way. A
    // body the handler would refuse (400) shows whether the table answered first (403).
    for path in ["/api/%6Aobs", "/api/jo%62s", "/api/%71ueries"] {
        let r = client()
            .post(app.url(path))
            .bearer_auth(&viewer)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
}
