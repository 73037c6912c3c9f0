//! Targets' health (the last check, by a test or the periodic check on the engine), testing
//! settings before they are saved, and CSV import.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, spawn_app_with, store_backend, unique, TestApp};

/// Runs statements on the local MariaDB as root (over TCP).
fn maria_admin(sql: &[String]) {
    use mysql::prelude::Queryable;
    let opts: mysql::Opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some("127.0.0.1"))
        .prefer_socket(false)
        .user(Some("root"))
        .into();
    let mut c = mysql::Conn::new(opts).expect("mariadb as root");
    for s in sql {
        c.query_drop(s).expect("admin statement");
    }
}

async fn create(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post_json("/api/targets", Some(token), body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.expect("json");
    v["id"].as_i64().expect("id")
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, String) {
    let r = app.post_json(path, Some(token), body).await;
    (r.status(), r.text().await.expect("text"))
}

async fn targets(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let v: Value = app
        .get(&format!("/api/targets{query}"), Some(token))
        .await
        .json()
        .await
        .expect("json");
    v.as_array().cloned().expect("array")
}

async fn health_of(app: &TestApp, token: &str, id: i64) -> Value {
    let v: Value = app
        .get(&format!("/api/targets/{id}"), Some(token))
        .await
        .json()
        .await
        .expect("json");
    v["health"].clone()
}

fn maria(name: &str, user: &str, password: Option<&str>, port: u16) -> Value {
    let mut body = json!({"name": name, "engine": "mysql", "host": "127.0.0.1", "port": port,
        "database": "", "username": user});
    if let Some(p) = password {
        body["password"] = json!(p);
    }
    body
}

#[actix_web::test]
async fn a_test_records_the_health_of_a_good_a_refused_and_a_down_target() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let wrong = "not-roots-password-7f3a";
    let good = create(&app, &t, maria("good", "root", None, 3306)).await;
    let refused = create(&app, &t, maria("refused", "root", Some(wrong), 3306)).await;
    // Nothing listens on port 1 of this machine.
    let down = create(&app, &t, maria("down", "root", None, 1)).await;
    assert_eq!(
        health_of(&app, &t, good).await,
        Value::Null,
        "never checked"
    );

    let mut answers = String::new();
    for id in [good, refused, down] {
        let (status, body) = post(&app, &t, &format!("/api/targets/{id}/test"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        answers.push_str(&body);
    }
    let h = health_of(&app, &t, good).await;
    assert_eq!(h["ok"], true, "{h}");
    assert!(
        h["server_version"]
            .as_str()
            .is_some_and(|v| v.contains("MariaDB")),
        "{h}"
    );
    assert!(h["latency_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{h}");
    assert!(h["checked_at"]
        .as_str()
        .is_some_and(|at| chrono::DateTime::parse_from_rfc3339(at).is_ok()));

    let h = health_of(&app, &t, refused).await;
    assert_eq!(h["ok"], false, "{h}");
    assert_eq!(h["error"]["kind"], "auth", "{h}");
    assert!(
        h["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Access denied")),
        "the database's own words: {h}"
    );
    assert_eq!(h["latency_ms"], Value::Null);

    let h = health_of(&app, &t, down).await;
    assert_eq!(h["ok"], false, "{h}");
    assert_eq!(h["error"]["kind"], "connect", "{h}");

    let failing: Vec<String> = targets(&app, &t, "?health=failed")
        .await
        .iter()
        .filter_map(|x| x["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(failing, ["down", "refused"]);
    assert_eq!(targets(&app, &t, "?health=ok").await.len(), 1);
    let list = app
        .get("/api/targets", Some(&t))
        .await
        .text()
        .await
        .expect("text");
    assert!(!list.contains(wrong) && !answers.contains(wrong));
    let r = app.get("/api/targets?health=sick", Some(&t)).await;
    let e = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(e["field"], "health");
}

#[actix_web::test]
async fn the_periodic_check_runs_on_the_engine_and_records_a_down_target_as_failed() {
    let app = spawn_app_with(&store_backend(), |s| {
        s.targets.health_interval_s = 1;
        s.targets.health_parallel = 2;
        s.engine.connect_timeout_s = 2;
    })
    .await;
    let t = app.admin_token().await;
    let good = create(&app, &t, maria("good", "root", None, 3306)).await;
    let down = create(&app, &t, maria("down", "root", None, 1)).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let first_good = loop {
        let (g, d) = (
            health_of(&app, &t, good).await,
            health_of(&app, &t, down).await,
        );
        if !g.is_null() && !d.is_null() {
            assert_eq!(g["ok"], true, "{g}");
            assert_eq!(d["ok"], false, "{d}");
            assert_eq!(d["error"]["kind"], "connect", "{d}");
            break g["checked_at"].as_str().expect("checked_at").to_string();
        }
        assert!(Instant::now() < deadline, "no periodic check within 30 s");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    // Again a round later, by itself.
    loop {
        let g = health_of(&app, &t, good).await;
        if g["checked_at"]
            .as_str()
            .is_some_and(|at| at > first_good.as_str())
        {
            break;
        }
        assert!(Instant::now() < deadline, "no second round within 30 s");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    // A change of state is audited, by the checker; a repeat of the same state is not.
    let audit = app.audit("action=health").await;
    let for_down: Vec<&Value> = audit
        .iter()
        .filter(|e| e["object_id"].as_str() == Some(down.to_string().as_str()))
        .collect();
    assert_eq!(for_down.len(), 1, "{audit:?}");
    assert_eq!(for_down[0]["success"], false);
    assert_eq!(for_down[0]["actor"], "autodb:health-check");
}

#[actix_web::test]
async fn an_unsaved_target_is_tested_validated_like_a_create_and_nothing_is_stored() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app
        .post_json(
            "/api/targets/test",
            Some(&t),
            json!({"name": "new", "host": "127.0.0.1", "port": 3306, "username": "root"}),
        )
        .await;
    let e = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(e["field"], "engine", "{e}");
    let r = app
        .post_json(
            "/api/targets/test",
            Some(&t),
            maria(" spaced ", "root", None, 3306),
        )
        .await;
    let e = expect_error(r, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(e["field"], "name", "{e}");

    let (status, body) = post(
        &app,
        &t,
        "/api/targets/test",
        maria("new", "root", None, 3306),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["server_version"]
        .as_str()
        .is_some_and(|s| s.contains("MariaDB")));
    let wrong = "wrong-password-for-root-1b2c";
    let (_, body) = post(
        &app,
        &t,
        "/api/targets/test",
        maria("new", "root", Some(wrong), 3306),
    )
    .await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["error"]["kind"], "auth", "{v}");
    assert!(!body.contains(wrong));

    assert!(targets(&app, &t, "").await.is_empty(), "nothing stored");
    let audit = app.audit("action=test").await;
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|e| e["detail"]["unsaved"] == true));
    assert!(!serde_json::to_string(&audit).expect("json").contains(wrong));
    let operator = app.user_with_role("operator").await;
    let r = app
        .post_json(
            "/api/targets/test",
            Some(&operator),
            maria("x", "root", None, 3306),
        )
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[actix_web::test]
async fn pending_edits_are_tested_over_the_stored_target_and_keep_its_password() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let user = unique("autodb_health");
    let pw = "pw-of-the-test-user-9d";
    maria_admin(&[
        format!("DROP USER IF EXISTS '{user}'@'%'"),
        format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{pw}'"),
    ]);
    let id = create(&app, &t, maria("edited", &user, Some(pw), 3306)).await;
    let test = |body: Value| {
        let app = &app;
        let t = &t;
        async move { post(app, t, &format!("/api/targets/{id}/test"), body).await }
    };
    // No body at all: the stored target, as before.
    let r = app
        .request(
            reqwest::Method::POST,
            &format!("/api/targets/{id}/test"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["ok"], true, "{v}");

    // An empty password keeps the stored one: the same target, so its health is recorded.
    let before = health_of(&app, &t, id).await;
    let (status, body) = test(json!({"name": "edited", "password": ""})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""ok":true"#), "{body}");
    let after = health_of(&app, &t, id).await;
    assert!(after["checked_at"].as_str() >= before["checked_at"].as_str());

    // A new password is tried, and nothing is recorded.
    let (_, body) = test(json!({"password": "not-it"})).await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["error"]["kind"], "auth", "{v}");
    assert_eq!(
        health_of(&app, &t, id).await,
        after,
        "edits' results are not the target's"
    );

    // Moving the stored password elsewhere needs it again, as saving does.
    let (status, body) = test(json!({"port": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("password_required") && body.contains(r#""field":"port""#));
    let (_, body) = test(json!({"port": 1, "password": pw})).await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["error"]["kind"], "connect", "{v}");
    let (status, body) = test(json!({"colour": "red"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Operators test the stored target, not edits.
    let operator = app.user_with_role("operator").await;
    let (status, _) = post(
        &app,
        &operator,
        &format!("/api/targets/{id}/test"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(
        &app,
        &operator,
        &format!("/api/targets/{id}/test"),
        json!({"host": "elsewhere"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    maria_admin(&[format!("DROP USER IF EXISTS '{user}'@'%'")]);
}

const HEADER: &str = "name,engine,host,port,database,username,password,tags";

#[actix_web::test]
async fn an_import_reports_each_row_and_a_dry_run_stores_nothing() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let secret = "imported-secret-5e";
    let csv = format!(
        "{HEADER}\nmaria-a,mysql,127.0.0.1,3306,,root,{secret},prod;eu\n\
         bad,mongo,127.0.0.1,1,,root,,\n\
         \"pg, b\",postgres,127.0.0.1,,postgres,postgres,,\n\
         maria-a,mysql,127.0.0.1,3306,,root,,\n\
         short,postgres\n"
    );
    let report = |body: &str| -> Value { serde_json::from_str(body).expect("json") };
    let (status, body) = post(
        &app,
        &t,
        "/api/targets/import",
        json!({"csv": csv, "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dry = report(&body);
    let statuses: Vec<&str> = dry["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["would_create", "error", "would_create", "error", "error"],
        "{dry}"
    );
    let rows = &dry["rows"];
    assert_eq!(rows[1]["row"], 3);
    assert_eq!(rows[1]["error"]["field"], "engine");
    assert_eq!(rows[1]["error"]["code"], "invalid_input");
    assert_eq!(rows[2]["name"], "pg, b");
    assert_eq!(rows[3]["error"]["code"], "conflict", "twice in one file");
    assert_eq!(rows[4]["error"]["field"], "csv");
    assert_eq!(dry["would_create"], 2);
    assert!(
        targets(&app, &t, "").await.is_empty(),
        "a dry run stores nothing"
    );

    let (status, body) = post(&app, &t, "/api/targets/import", json!({"csv": csv})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = report(&body);
    assert_eq!(done["created"], 2, "{done}");
    assert_eq!(done["failed"], 3);
    assert_eq!(done["rows"][0]["status"], "created");
    assert_eq!(done["rows"][3]["error"]["code"], "conflict");
    let all = targets(&app, &t, "").await;
    let a = all
        .iter()
        .find(|x| x["name"] == "maria-a")
        .expect("maria-a");
    assert_eq!(a["has_password"], true);
    assert_eq!(a["tags"], json!(["eu", "prod"]));
    let b = all.iter().find(|x| x["name"] == "pg, b").expect("pg, b");
    assert_eq!(b["port"], 5432, "an empty port is the engine's usual one");
    assert!(!body.contains(secret));

    let creates = app.audit("action=create&object_type=target").await;
    assert_eq!(creates.len(), 2);
    assert!(creates.iter().all(|e| e["detail"]["import"] == true));
    let imports = app.audit("action=import").await;
    assert_eq!(imports.len(), 2);
    assert!(!serde_json::to_string(&creates)
        .expect("json")
        .contains(secret));

    let developer = app.user_with_role("developer").await;
    let r = app
        .post_json("/api/targets/import", Some(&developer), json!({"csv": csv}))
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[actix_web::test]
async fn an_import_over_its_limits_empty_or_with_an_unknown_column_is_a_422_on_csv() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let many: String = std::iter::once(HEADER.to_string())
        .chain((0..1001).map(|i| format!("t{i},postgres,h,5432,d,u,,")))
        .collect::<Vec<_>>()
        .join("\n");
    let big = format!(
        "{HEADER}\nx,postgres,h,5432,d,u,{},\n",
        "p".repeat(1024 * 1024)
    );
    let unknown = "name,kind\nx,postgres\n".to_string();
    for (csv, reason) in [
        (many, "import_too_large"),
        (big, "import_too_large"),
        (unknown, "csv_header"),
        ("name,engine\n\"open".to_string(), "csv_malformed"),
        (String::new(), "csv_empty"),
        ("name,engine\n".to_string(), "csv_empty"),
    ] {
        let r = app
            .post_json(
                "/api/targets/import",
                Some(&t),
                json!({"csv": csv, "dry_run": false}),
            )
            .await;
        // The document allows any string: its content is what is refused.
        let e = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
        assert_eq!(e["field"], "csv", "{e}");
        assert_eq!(e["reason"], reason, "{e}");
    }
    assert!(targets(&app, &t, "").await.is_empty());
}
