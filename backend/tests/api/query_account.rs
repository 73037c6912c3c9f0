//! The query account's escape check (issue 8, finding 3): an account that can reach beyond a
//! read-only query (superuser, server files, signalling other sessions, FILE…) is refused for
//! queries — at submission from what was found at save, and before each use inside the read-only
//! transaction — unless an admin marked the target trusted for queries.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, pg_admin, spawn_app, TestApp};
use crate::jobs::{create_target, PgDb};
use crate::queries::{maria_exec, result_for, run, start, wait_done, MariaDb};

/// PostgreSQL roles made for one test (cluster-wide), dropped when the guard goes.
struct PgRoles(Vec<String>);

impl PgRoles {
    fn new(tags: &[&str]) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self(
            tags.iter()
                .map(|t| format!("autodb_acct_{t}_{id}"))
                .collect(),
        )
    }
}

impl Drop for PgRoles {
    fn drop(&mut self) {
        for r in &self.0 {
            let _ = pg_admin(&format!("DROP ROLE IF EXISTS {r}"));
        }
    }
}

/// A MariaDB user made for one test, dropped when the guard goes.
struct MariaUser(String);

impl Drop for MariaUser {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            maria_exec(None, &format!("DROP USER IF EXISTS '{}'@'%'", self.0));
            maria_exec(None, &format!("DROP ROLE IF EXISTS {}_r", self.0));
        });
    }
}

fn pg_body(name: &str, db: &PgDb, query_user: Option<&str>) -> Value {
    let mut body = json!({"name": name, "engine": "postgres", "host": "127.0.0.1",
        "port": 5432, "database": db.0, "username": "postgres"});
    if let Some(u) = query_user {
        body["query_username"] = json!(u);
    }
    body
}

async fn target(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app.get(&format!("/api/targets/{id}"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

fn finding_names(t: &Value) -> Vec<String> {
    t["query_account_findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings list: {t}"))
        .iter()
        .filter_map(|f| f["name"].as_str().map(String::from))
        .collect()
}

async fn refused(app: &TestApp, token: &str, target: i64, finding: &str) {
    let r = app
        .post_json(
            "/api/queries",
            Some(token),
            json!({"sql": "SELECT 1", "target_ids": [target]}),
        )
        .await;
    let body = expect_error(r, StatusCode::FORBIDDEN, "query_account_unsafe").await;
    let msg = body["message"].as_str().unwrap_or_default();
    assert!(msg.contains(finding), "{body}");
    assert!(msg.contains("trusted for queries"), "{body}");
}

#[actix_web::test]
async fn queries_through_a_superuser_account_are_refused_naming_the_findings() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("acct_su");
    let id = create_target(&app, &t, pg_body("su", &db, None)).await;
    let saved = target(&app, &t, id).await;
    assert!(
        finding_names(&saved).contains(&"superuser".to_string()),
        "{saved}"
    );
    assert!(saved["query_account_checked_at"].is_string(), "{saved}");
    assert_eq!(saved["trusted_for_queries"], false);
    refused(&app, &t, id, "superuser").await;
    let dev = app.user_with_role("developer").await;
    refused(&app, &dev, id, "superuser").await;
}

#[actix_web::test]
async fn a_role_holding_pg_read_server_files_through_nested_roles_is_refused() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let roles = PgRoles::new(&["inner", "outer", "login"]);
    let db = PgDb::new("acct_nest");
    let (inner, outer, login) = (&roles.0[0], &roles.0[1], &roles.0[2]);
    pg_admin(&format!(
        "CREATE ROLE {inner} NOLOGIN; GRANT pg_read_server_files TO {inner};
         CREATE ROLE {outer} NOLOGIN NOINHERIT; GRANT {inner} TO {outer};
         CREATE ROLE {login} LOGIN NOINHERIT; GRANT {outer} TO {login};
         GRANT CONNECT ON DATABASE {} TO {login}",
        db.0
    ))
    .expect("roles");
    let id = create_target(&app, &t, pg_body("nested", &db, Some(login))).await;
    let saved = target(&app, &t, id).await;
    assert_eq!(finding_names(&saved), ["pg_read_server_files"], "{saved}");
    refused(&app, &t, id, "pg_read_server_files").await;
    drop(db);
}

#[actix_web::test]
async fn a_plain_role_with_select_only_runs_queries() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let roles = PgRoles::new(&["reader"]);
    let db = PgDb::new("acct_plain");
    let reader = &roles.0[0];
    pg_admin(&format!(
        "CREATE ROLE {reader} LOGIN; GRANT CONNECT ON DATABASE {} TO {reader}",
        db.0
    ))
    .expect("role");
    let id = create_target(&app, &t, pg_body("plain", &db, Some(reader))).await;
    let saved = target(&app, &t, id).await;
    assert_eq!(saved["query_account_findings"], json!([]), "{saved}");
    let q = run(&app, &t, "SELECT current_user AS who", &[id]).await;
    let r = result_for(&q, id);
    assert_eq!(r["status"], "success", "{q}");
    assert_eq!(r["rows"][0][0]["v"], reader.as_str());
    drop(db);
}

#[actix_web::test]
async fn pg_signal_backend_granted_after_the_save_is_refused_before_use() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let roles = PgRoles::new(&["late"]);
    let db = PgDb::new("acct_late");
    let late = &roles.0[0];
    pg_admin(&format!(
        "CREATE ROLE {late} LOGIN; GRANT CONNECT ON DATABASE {} TO {late}",
        db.0
    ))
    .expect("role");
    let id = create_target(&app, &t, pg_body("late", &db, Some(late))).await;
    assert_eq!(
        target(&app, &t, id).await["query_account_findings"],
        json!([])
    );
    // A page cut by the row limit: its CSV export re-runs the statement later.
    let cut = start(
        &app,
        &t,
        json!({"sql": "SELECT 'exported' || g AS x FROM generate_series(1, 3) g",
        "target_ids": [id], "row_limit": 1}),
    )
    .await;
    let done = wait_done(&app, &t, cut, 60).await;
    assert_eq!(result_for(&done, id)["truncated"], true, "{done}");
    pg_admin(&format!("GRANT pg_signal_backend TO {late}")).expect("grant");
    // Accepted (nothing was found at save), refused before it runs: the target's result error.
    let qid = start(
        &app,
        &t,
        json!({"sql": "SELECT 'must not run' AS x", "target_ids": [id]}),
    )
    .await;
    let q = wait_done(&app, &t, qid, 60).await;
    let r = result_for(&q, id);
    assert_eq!(r["status"], "error", "{q}");
    assert_eq!(r["error_code"], "query_account_unsafe", "{q}");
    assert!(
        r["error"]
            .as_str()
            .is_some_and(|m| m.contains("pg_signal_backend")),
        "{q}"
    );
    assert_eq!(r["rows"], json!([]), "{q}");
    // The CSV export's re-run goes through the same check.
    let r = app
        .get(&format!("/api/queries/{cut}/results/{id}.csv"), Some(&t))
        .await;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(!text.contains("exported"), "{status}: {text}");
    assert!(
        text.contains("query_account_unsafe") || text.contains("pg_signal_backend"),
        "{status}: {text}"
    );
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{text}");
    pg_admin(&format!("REVOKE pg_signal_backend FROM {late}")).expect("revoke");
    drop(db);
}

#[actix_web::test]
async fn an_admin_may_mark_a_target_trusted_for_queries_and_it_is_audited() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("acct_trust");
    let id = create_target(&app, &t, pg_body("trusted", &db, None)).await;
    refused(&app, &t, id, "superuser").await;
    let mut body = pg_body("trusted", &db, None);
    body["trusted_for_queries"] = json!(true);
    let r = app
        .put_json(&format!("/api/targets/{id}"), Some(&t), body)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated: Value = r.json().await.expect("json");
    assert_eq!(updated["trusted_for_queries"], true, "{updated}");
    // Still shown, so the UI can warn.
    assert!(finding_names(&updated).contains(&"superuser".to_string()));
    let q = run(&app, &t, "SELECT 42 AS answer", &[id]).await;
    assert_eq!(result_for(&q, id)["status"], "success", "{q}");
    // An update that does not name the flag keeps it.
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            pg_body("trusted", &db, None),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(target(&app, &t, id).await["trusted_for_queries"], true);
    let audit = app.audit("object_type=target").await;
    assert!(
        audit.iter().any(|e| e["action"] == "update"
            && e["detail"]["trusted_for_queries"] == true
            && e["detail"]["trusted_for_queries_changed"] == true
            && e["object_id"] == id.to_string().as_str()),
        "{audit:?}"
    );
    drop(db);
}

#[actix_web::test]
async fn an_operator_cannot_mark_a_target_trusted_for_queries() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let op = app.user_with_role("operator").await;
    let db = PgDb::new("acct_op");
    let id = create_target(&app, &t, pg_body("op", &db, None)).await;
    let mut body = pg_body("op", &db, None);
    body["trusted_for_queries"] = json!(true);
    let r = app
        .put_json(&format!("/api/targets/{id}"), Some(&op), body.clone())
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.post_json("/api/targets", Some(&op), body).await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(target(&app, &t, id).await["trusted_for_queries"], false);
    refused(&app, &op, id, "superuser").await;
    drop(db);
}

#[actix_web::test]
async fn a_target_down_at_save_is_saved_unchecked_and_checked_before_use() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let id = create_target(
        &app,
        &t,
        json!({"name": "down", "engine": "postgres", "host": "127.0.0.1", "port": 1,
        "database": "x", "username": "postgres"}),
    )
    .await;
    let saved = target(&app, &t, id).await;
    assert!(saved["query_account_findings"].is_null(), "{saved}");
    assert!(saved["query_account_checked_at"].is_null(), "{saved}");
    assert!(saved["query_account_check_error"].is_string(), "{saved}");
    let q = run(&app, &t, "SELECT 1", &[id]).await;
    assert_eq!(result_for(&q, id)["status"], "error", "{q}");
}

async fn maria_account_target(
    app: &TestApp,
    t: &str,
    db: &MariaDb,
    grants: &str,
) -> (i64, MariaUser) {
    let user = MariaUser(format!(
        "acct_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    let pw = "maria-acct-pw-5521";
    maria_exec(
        None,
        &format!(
            "CREATE USER '{u}'@'%' IDENTIFIED BY '{pw}'; GRANT SELECT ON {d}.* TO '{u}'@'%'; {g}",
            u = user.0,
            d = db.0,
            g = grants.replace("{u}", &user.0)
        ),
    );
    let id = create_target(
        app,
        t,
        json!({"name": db.0, "engine": "mysql", "host": "127.0.0.1", "port": 3306,
        "database": db.0, "username": "root", "query_username": user.0, "query_password": pw}),
    )
    .await;
    (id, user)
}

#[actix_web::test]
async fn a_mariadb_account_with_file_is_refused_and_one_with_select_only_runs() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = MariaDb::new("acct");
    let (filed, _u1) = maria_account_target(&app, &t, &db, "GRANT FILE ON *.* TO '{u}'@'%';").await;
    let saved = target(&app, &t, filed).await;
    assert_eq!(finding_names(&saved), ["FILE"], "{saved}");
    refused(&app, &t, filed, "FILE").await;
    let db2 = MariaDb::new("acct2");
    let (plain, _u2) = maria_account_target(&app, &t, &db2, "").await;
    assert_eq!(
        target(&app, &t, plain).await["query_account_findings"],
        json!([])
    );
    let q = run(&app, &t, "SELECT 7 AS seven", &[plain]).await;
    assert_eq!(result_for(&q, plain)["status"], "success", "{q}");
}

#[actix_web::test]
async fn a_mariadb_account_given_file_through_a_role_after_the_save_is_refused_before_use() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = MariaDb::new("acct_role");
    let (id, user) = maria_account_target(&app, &t, &db, "").await;
    let role = format!("{}_r", user.0);
    maria_exec(
        None,
        &format!(
            "CREATE ROLE {role}; GRANT FILE ON *.* TO {role}; GRANT {role} TO '{u}'@'%';
             SET DEFAULT ROLE {role} FOR '{u}'@'%'",
            u = user.0
        ),
    );
    let q = run(&app, &t, "SELECT 1", &[id]).await;
    let r = result_for(&q, id);
    assert_eq!(r["error_code"], "query_account_unsafe", "{q}");
    assert!(
        r["error"].as_str().is_some_and(|m| m.contains("FILE")),
        "{q}"
    );
}
