//! Issue 8, finding 1: a SQLite target opens its own file and nothing else. The attack: a
//! developer's job on a SQLite target attached the metadata store, made its author admin and
//! erased the audit trail. Also: where a SQLite target's file may be, and that no target may be
//! the metadata store itself.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, spawn_app_with, TestApp, ADMIN};
use crate::jobs::{create_target, ended, submit, wait_job};

/// The store's SQLite file (SQLite store) or database name (PostgreSQL store).
fn store_file(app: &TestApp) -> PathBuf {
    app.dir.path().join("autodb.db")
}

/// Whether the audit log's no-delete trigger still exists in the store.
fn store_has_trigger(app: &TestApp, name: &str) -> bool {
    match app.pg_database() {
        None => {
            let c = rusqlite::Connection::open_with_flags(
                store_file(app),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .expect("open store");
            c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .expect("count")
                == 1
        }
        Some(db) => {
            let (db, name) = (db.to_string(), name.to_string());
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(
                    &format!("host=127.0.0.1 user=postgres dbname={db}"),
                    postgres::NoTls,
                )
                .expect("connect");
                c.query_one(
                    "SELECT count(*) FROM pg_trigger WHERE tgname = $1 AND NOT tgisinternal",
                    &[&name],
                )
                .expect("query")
                .get::<_, i64>(0)
                    >= 1
            })
            .join()
            .expect("thread")
        }
    }
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.get("/api/auth/me", Some(token))
        .await
        .json()
        .await
        .expect("json")
}

#[actix_web::test]
async fn a_developer_cannot_reach_the_metadata_store_through_a_sqlite_target_job() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let dev = app.user_with_role("developer").await;
    let path = app.sqlite_path("lite.db");
    let target = create_target(
        &app,
        &admin,
        json!({"name": "lite", "engine": "sqlite", "database": path}),
    )
    .await;
    let audit_before = app.audit("per_page=500").await.len();
    assert!(audit_before > 0);
    let who = me(&app, &dev).await;
    assert_eq!(who["role"], "developer");
    let store = store_file(&app);
    let attack = format!(
        "ATTACH DATABASE '{}' AS meta;\n\
         UPDATE meta.users SET role = 'admin' WHERE username = '{}';\n\
         DROP TRIGGER meta.audit_log_no_delete;\n\
         DELETE FROM meta.audit_log;",
        store.display(),
        who["username"].as_str().expect("name"),
    );
    let job = submit(
        &app,
        &dev,
        json!({"name": "innocent", "scripts": [{"sql": attack, "target_ids": [target]}]}),
    )
    .await;
    let done = wait_job(&app, &admin, job["id"].as_i64().expect("id"), 30, ended).await;

    assert_eq!(me(&app, &dev).await["role"], "developer", "{done}");
    let trigger = match app.pg_database() {
        None => "audit_log_no_delete",
        Some(_) => "audit_log_no_change",
    };
    assert!(store_has_trigger(&app, trigger), "{done}");
    let audit_after = app.audit("per_page=500").await;
    assert!(audit_after.len() >= audit_before, "{done}");
    assert!(
        audit_after
            .iter()
            .any(|e| e["action"] == "create" && e["object_type"] == "target"),
        "the target's creation is still on record"
    );
    assert_eq!(done["status"], "error", "{done}");
    let run = &done["scripts"][0]["runs"][0];
    assert_eq!(run["status"], "error", "{run}");
    assert_eq!(run["error_line"], 1, "the ATTACH itself fails: {run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("ATTACH") && error.contains("own file"),
        "a clear refusal: {run}"
    );
    // The admin is still the only admin.
    let users: Value = app
        .get("/api/users", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    let admins: Vec<&Value> = users
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["role"] == "admin")
        .collect();
    assert_eq!(admins.len(), 1, "{users}");
    assert_eq!(admins[0]["username"], ADMIN);
}

async fn create_status(app: &TestApp, token: &str, name: &str, database: &Path) -> Value {
    let r = app
        .post_json(
            "/api/targets",
            Some(token),
            json!({"name": name, "engine": "sqlite", "database": database}),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    json!({"status": status.as_u16(), "body": body})
}

/// Paths no SQLite target may have, with why.
fn forbidden_paths(app: &TestApp) -> Vec<(PathBuf, &'static str)> {
    let allowed = app.sqlite_dir.path();
    let store = store_file(app);
    let link = allowed.join("innocent.db");
    std::os::unix::fs::symlink(&store, &link).expect("symlink");
    let dir_link = allowed.join("data");
    std::os::unix::fs::symlink(app.dir.path(), &dir_link).expect("symlink");
    let outside = std::env::temp_dir()
        .parent()
        .map(|p| p.join("var/tmp"))
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from("/etc"))
        .join(format!("autodb-outside-{}.db", std::process::id()));
    vec![
        (store.clone(), "the store"),
        (PathBuf::from(format!("{}-wal", store.display())), "its WAL"),
        (PathBuf::from(format!("{}-shm", store.display())), "its SHM"),
        (app.dir.path().join("secret.key"), "the key file"),
        (app.dir.path().join("other.db"), "the data folder"),
        (link, "a symlink to the store"),
        (dir_link.join("autodb.db"), "a symlinked folder"),
        (
            dir_link.join("new.db"),
            "a new file through a symlinked folder",
        ),
        (
            allowed.join("..").join(store.file_name().expect("name")),
            "`..`",
        ),
        (
            allowed
                .join("sub/../../")
                .join(app.dir.path().file_name().expect("n"))
                .join("x.db"),
            "`..` into the data folder",
        ),
        (outside, "outside targets.sqlite_dirs"),
        (PathBuf::from("relative.db"), "a relative path"),
        (PathBuf::from("file:lite.db?vfs=unix-none"), "a URI"),
    ]
}

#[actix_web::test]
async fn sqlite_target_files_outside_the_allowed_folders_are_refused_on_create_and_update() {
    // Only the folder of its own: the temporary folder is not allowed here.
    let app = spawn_app_with(&crate::helpers::store_backend(), |s| {
        s.targets.sqlite_dirs.truncate(1);
    })
    .await;
    let t = app.admin_token().await;
    std::fs::create_dir(app.sqlite_dir.path().join("sub")).expect("mkdir");
    let good = app.sqlite_path("good.db");
    let id = create_target(
        &app,
        &t,
        json!({"name": "good", "engine": "sqlite", "database": good}),
    )
    .await;
    for (i, (path, why)) in forbidden_paths(&app).into_iter().enumerate() {
        let got = create_status(&app, &t, &format!("bad{i}"), &path).await;
        assert_eq!(got["status"], 422, "{why}: {}: {got}", path.display());
        assert_eq!(got["body"]["field"], "database", "{why}: {got}");
        assert_eq!(got["body"]["error"], "invalid_input", "{why}: {got}");
        let r = app
            .put_json(
                &format!("/api/targets/{id}"),
                Some(&t),
                json!({"name": "good", "engine": "sqlite", "database": path}),
            )
            .await;
        let err = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
        assert_eq!(err["field"], "database", "{why}: {err}");
    }
    let list: Value = app
        .get("/api/targets", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["database"], good.display().to_string(), "{list}");
    // The file inside the allowed folder, also through a harmless `..`, is fine.
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            json!({"name": "good", "engine": "sqlite",
                   "database": app.sqlite_dir.path().join("sub/../other.db")}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn without_sqlite_dirs_sqlite_targets_are_refused_naming_the_key() {
    let app = spawn_app_with(&crate::helpers::store_backend(), |s| {
        s.targets.sqlite_dirs.clear();
    })
    .await;
    let t = app.admin_token().await;
    let got = create_status(&app, &t, "lite", &app.sqlite_path("x.db")).await;
    assert_eq!(got["status"], 422, "{got}");
    assert_eq!(got["body"]["field"], "database");
    let message = got["body"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("targets.sqlite_dirs"), "{got}");
}

#[actix_web::test]
async fn a_sqlite_target_file_swapped_for_a_symlink_to_the_store_is_refused_when_opened() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let path = app.sqlite_path("swap.db");
    let id = create_target(
        &app,
        &t,
        json!({"name": "swap", "engine": "sqlite", "database": path}),
    )
    .await;
    let test = |app: &TestApp| {
        let url = app.url(&format!("/api/targets/{id}/test"));
        let req = app.client.post(url).bearer_auth(&t);
        async move {
            let r = req.send().await.expect("send");
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.expect("json")
        }
    };
    assert_eq!(test(&app).await["ok"], true);
    // Someone with a shell swaps the file (or its folder) after the check.
    std::fs::remove_file(&path).expect("rm");
    // The store's file, or on a PostgreSQL store the key file.
    let own = match app.pg_database() {
        None => store_file(&app),
        Some(_) => app.dir.path().join("secret.key"),
    };
    std::os::unix::fs::symlink(own, &path).expect("symlink");
    let got = test(&app).await;
    assert_eq!(got["ok"], false, "{got}");
    assert_eq!(got["error"]["kind"], "config", "{got}");
    assert!(
        got["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("swap.db") && m.contains("is AutoDB's")),
        "{got}"
    );
    std::fs::remove_file(&path).expect("rm");
    let dir = app.sqlite_path("folder");
    std::os::unix::fs::symlink(app.dir.path(), &dir).expect("symlink");
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            json!({"name": "swap", "engine": "sqlite", "database": dir.join("autodb.db")}),
        )
        .await;
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    // The stored target still names its own file, which the check let through.
    let job = submit(
        &app,
        &t,
        json!({"name": "still-own", "scripts": [{"sql": "CREATE TABLE mine (x)", "target_ids": [id]}]}),
    )
    .await;
    let done = wait_job(&app, &t, job["id"].as_i64().expect("id"), 30, ended).await;
    assert_eq!(done["status"], "success", "{done}");
    assert!(path.is_file() && !path.is_symlink());
}

#[actix_web::test]
async fn no_target_may_be_the_postgresql_metadata_store() {
    let app = spawn_app().await;
    let Some(store_db) = app.pg_database().map(str::to_string) else {
        return; // A SQLite store is a file: the path checks above cover it.
    };
    let t = app.admin_token().await;
    for host in ["127.0.0.1", "localhost", "::1"] {
        let r = app
            .post_json(
                "/api/targets",
                Some(&t),
                json!({"name": format!("store-{host}"), "engine": "postgres", "host": host,
                       "port": 5432, "database": store_db, "username": "postgres"}),
            )
            .await;
        let err = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
        assert_eq!(err["field"], "database", "{host}: {err}");
    }
    let id = create_target(
        &app,
        &t,
        json!({"name": "other", "engine": "postgres", "host": "127.0.0.1",
               "port": 5432, "database": "postgres", "username": "postgres"}),
    )
    .await;
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&t),
            json!({"name": "other", "engine": "postgres", "host": "localhost",
                   "port": 5432, "database": store_db, "username": "postgres"}),
        )
        .await;
    let err = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    assert_eq!(err["field"], "database", "{err}");
    let got: Value = app
        .get(&format!("/api/targets/{id}"), Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(got["database"], "postgres", "nothing changed: {got}");
}
