//! Issue 8, finding 9: a password written in a job's script is executed as written but never
//! shown — not in the job, its run log, its errors, the audit log or the store's files.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::jobs::{create_target, ended, pg_target, submit, wait_job, PgDb};
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
