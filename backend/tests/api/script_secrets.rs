//! Issue 8, finding 9: a password written in a job's script is executed as written but never
//! shown — not in the job, its run log, its errors, the audit log or the store's files.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::jobs::{create_target, ended, pg_admin_db, pg_target, submit, wait_job, PgDb};
use crate::queries::{maria_exec, pg_text};

fn mariadb_login(user: &str, password: &str) -> Result<(), String> {
    mysql::Conn::new(
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .prefer_socket(false)
            .user(Some(user))
            .pass(Some(password)),
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Every byte of the store that could hold a script: the SQLite files (WAL included), or the
/// PostgreSQL store's text columns.
fn store_dump(app: &TestApp) -> Vec<u8> {
    match app.pg_database() {
        Some(db) => {
            let mut all = String::new();
            for sql in [
                "SELECT string_agg(sql_text || COALESCE(sql_sealed, ''), '|') FROM job_scripts",
                "SELECT string_agg(sql_text || notices || COALESCE(error_message, ''), '|') FROM run_statements",
                "SELECT string_agg(COALESCE(error, ''), '|') FROM job_runs",
                "SELECT string_agg(detail, '|') FROM audit_log",
            ] {
                all.push_str(&pg_text(db, sql));
            }
            all.into_bytes()
        }
        None => {
            let mut all = vec![];
            for entry in std::fs::read_dir(app.dir.path()).expect("dir") {
                let path = entry.expect("entry").path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("autodb.db"))
                {
                    all.extend(std::fs::read(&path).expect("read store file"));
                }
            }
            all
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[actix_web::test]
async fn a_password_in_a_script_runs_as_written_and_is_shown_to_no_one() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let viewer = app.user_with_role("viewer").await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (pg_pw, maria_pw, bad_pw) = (
        format!("S3cretPg{tag}"),
        format!("S3cretMy{tag}"),
        format!("S3cretBad{tag}"),
    );
    let role = format!("autodb_r_{}", &tag[..12]);
    let maria_user = format!("autodb_u_{}", &tag[..12]);
    let db = PgDb::new("secret");
    let pg = pg_target(&app, &admin, &db).await;
    let maria = create_target(
        &app,
        &admin,
        json!({"name": "maria-secret", "engine": "mysql", "host": "127.0.0.1", "port": 3306,
               "database": "", "username": "root"}),
    )
    .await;
    let pg_sql = format!(
        "SET password_encryption = 'md5';\n-- the PASSWORD 'not this' in a comment\nCREATE ROLE {role} LOGIN PASSWORD '{pg_pw}';"
    );
    // The second statement is a syntax error whose message echoes the statement.
    let maria_sql = format!(
        "CREATE USER '{maria_user}'@'%' IDENTIFIED BY '{maria_pw}';\nCREATE USER IF '{maria_user}x'@'%' IDENTIFIED BY '{bad_pw}';"
    );
    let job = submit(
        &app,
        &admin,
        json!({"name": "secrets", "on_error": "continue", "scripts": [
            {"sql": pg_sql, "target_ids": [pg]},
            {"sql": maria_sql, "target_ids": [maria]},
        ]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    let done = wait_job(&app, &admin, id, 60, ended).await;
    // What ran was the original text: the role has exactly that password, the user logs in.
    let hash_matches = pg_text(
        &db.0,
        &format!(
            "SELECT (rolpassword = 'md5' || md5('{pg_pw}' || rolname))::text FROM pg_authid WHERE rolname = '{role}'"
        ),
    );
    let _ = crate::helpers::pg_admin(&format!("DROP ROLE IF EXISTS {role}"));
    let login = mariadb_login(&maria_user, &maria_pw);
    maria_exec(None, &format!("DROP USER IF EXISTS '{maria_user}'@'%'"));
    assert_eq!(hash_matches, "true", "the PostgreSQL role got the password");
    assert!(login.is_ok(), "the MariaDB user logs in: {login:?}");

    let mut answers = done.to_string();
    for token in [&viewer, &admin] {
        let job: Value = app
            .get(&format!("/api/jobs/{id}"), Some(token))
            .await
            .json()
            .await
            .expect("json");
        answers.push_str(&job.to_string());
        for script in job["scripts"].as_array().expect("scripts") {
            for run in script["runs"].as_array().expect("runs") {
                let run_id = run["id"].as_i64().expect("run id");
                let log = app
                    .get(&format!("/api/jobs/{id}/runs/{run_id}/log"), Some(token))
                    .await
                    .text()
                    .await
                    .expect("log");
                answers.push_str(&log);
            }
        }
    }
    answers.push_str(&Value::Array(app.audit("").await).to_string());
    assert!(
        answers.contains(&role) && answers.contains(&maria_user),
        "the statements are shown: {answers}"
    );
    assert!(
        answers.contains("PASSWORD '***'") && answers.contains("IDENTIFIED BY '***'"),
        "shown redacted: {answers}"
    );
    assert!(
        answers.contains("PASSWORD 'not this'"),
        "a comment is not a password: {answers}"
    );
    assert!(
        answers.contains("1064"),
        "the failing statement is logged with its error: {answers}"
    );
    let store = store_dump(&app);
    for pw in [&pg_pw, &maria_pw, &bad_pw] {
        assert!(
            !answers.contains(pw.as_str()),
            "{pw} in an answer: {answers}"
        );
        assert!(!contains(&store, pw), "{pw} in the store");
    }
}

/// Runs `sql` on the app's own store (a test's stand-in for an older AutoDB's writes).
fn store_exec(app: &TestApp, sql: &str) {
    match app.pg_database() {
        Some(db) => pg_admin_db(db, sql),
        None => {
            let c = rusqlite::Connection::open(app.dir.path().join("autodb.db")).expect("open");
            c.busy_timeout(std::time::Duration::from_secs(5))
                .expect("busy timeout");
            c.execute_batch(sql).expect("store sql");
        }
    }
}

#[actix_web::test]
async fn a_script_stored_in_clear_before_sealing_is_shown_redacted_then_sealed_at_start() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let role = format!("autodb_l_{}", &tag[..12]);
    let pw = format!("S3cretOld{tag}");
    let db = PgDb::new("legacy");
    let pg = pg_target(&app, &admin, &db).await;
    let original =
        format!("SET password_encryption = 'md5';\nCREATE ROLE {role} LOGIN PASSWORD '{pw}';");
    let job = submit(
        &app,
        &admin,
        json!({"name": "legacy", "scripts": [{"sql": "SELECT 1/0", "target_ids": [pg]}]}),
    )
    .await;
    let id = job["id"].as_i64().expect("id");
    wait_job(&app, &admin, id, 30, ended).await;
    // As an AutoDB before sealing wrote it: the executable text in clear, nothing sealed.
    store_exec(
        &app,
        &format!(
            "UPDATE job_scripts SET sql_text = '{}', sql_sealed = NULL WHERE job_id = {id}",
            original.replace('\'', "''")
        ),
    );
    let shown = app
        .get(&format!("/api/jobs/{id}"), Some(&admin))
        .await
        .text()
        .await
        .expect("job");
    assert!(shown.contains("PASSWORD '***'"), "{shown}");
    assert!(!shown.contains(&pw), "{shown}");
    // A process starting on this store seals it.
    crate::helpers::spawn_second(&app, |_| {}).await;
    let sealed_text = crate::output_caps::store_text(
        &app,
        &format!("SELECT sql_text || '|' || COALESCE(sql_sealed, 'none') FROM job_scripts WHERE job_id = {id}"),
    );
    assert!(!sealed_text.contains(&pw), "{sealed_text}");
    assert!(!sealed_text.ends_with("|none"), "{sealed_text}");
    // And it still runs as written: a retry makes the role with that very password.
    let r = app
        .post_json(&format!("/api/jobs/{id}/retry"), Some(&admin), json!({}))
        .await;
    assert!(r.status().is_success(), "retry: {}", r.status());
    let done = wait_job(&app, &admin, id, 30, |j| {
        j["finished_at"].is_string() && j["attempt"].as_i64() != Some(1)
    })
    .await;
    let hash_matches = pg_text(
        &db.0,
        &format!(
            "SELECT (rolpassword = 'md5' || md5('{pw}' || rolname))::text FROM pg_authid WHERE rolname = '{role}'"
        ),
    );
    let _ = crate::helpers::pg_admin(&format!("DROP ROLE IF EXISTS {role}"));
    assert_eq!(hash_matches, "true", "{done}");
}
