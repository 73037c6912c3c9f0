//! The Sakila schemas load through a job, and the catalog they leave matches what the engine's
//! own client (`psql`, `mariadb`, `sqlite3`) creates from the same file.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use crate::helpers::{pg_admin, spawn_app};
use crate::jobs::{create_target, ended, submit, wait_job, PgDb};

fn corpus(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus/sakila")
        .join(file)
}

fn read(file: &str) -> String {
    std::fs::read_to_string(corpus(file)).expect("corpus file (shared/ sits beside the repository)")
}

fn run_client(cmd: &mut Command, stdin_file: &str) {
    let out = cmd
        .stdin(std::fs::File::open(corpus(stdin_file)).expect("open"))
        .output()
        .expect("client runs");
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn lines(cmd: &mut Command) -> BTreeSet<String> {
    let out = cmd.output().expect("client runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

const PG_CATALOG: &str = "SELECT 'table ' || table_type || ' ' || table_name FROM information_schema.tables WHERE table_schema = 'public' \
    UNION ALL SELECT 'routine ' || p.prokind::text || ' ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' \
    UNION ALL SELECT DISTINCT 'trigger ' || trigger_name || ' on ' || event_object_table FROM information_schema.triggers WHERE trigger_schema = 'public' \
    UNION ALL SELECT 'type ' || t.typtype::text || ' ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype IN ('d', 'e') \
    UNION ALL SELECT 'sequence ' || sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public' \
    UNION ALL SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = 'public'";

fn pg_catalog(db: &str) -> BTreeSet<String> {
    lines(Command::new("psql").args([
        "-X",
        "-At",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-d",
        db,
        "-c",
        PG_CATALOG,
    ]))
}

#[actix_web::test]
async fn the_postgresql_sakila_schema_loads_through_a_job_like_psql_loads_it() {
    let reference = PgDb::new("sk_ref");
    run_client(
        Command::new("psql").args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            &reference.0,
        ]),
        "postgres-sakila-schema.sql",
    );
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let db = PgDb::new("sk_job");
    let target = crate::jobs::pg_target(&app, &t, &db).await;
    let job = submit(
        &app,
        &t,
        json!({"name": "sakila-pg", "scripts": [
        {"sql": read("postgres-sakila-schema.sql"), "target_ids": [target]}]}),
    )
    .await;
    let done = wait_job(&app, &t, job["id"].as_i64().expect("id"), 120, ended).await;
    assert_eq!(done["status"], "success", "{done}");
    let want = pg_catalog(&reference.0);
    assert!(
        want.len() > 60,
        "reference catalog looks too small: {want:?}"
    );
    assert_eq!(pg_catalog(&db.0), want);
    // The drop script has a wrong signature in it (rewards_report): psql with ON_ERROR_STOP and
    // the job both stop at that statement, with the same error, leaving the same catalog.
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            &reference.0,
        ])
        .stdin(std::fs::File::open(corpus("postgres-sakila-drop-objects.sql")).expect("open"))
        .output()
        .expect("psql");
    let psql_error = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        psql_error.contains("rewards_report(integer, numeric) does not exist"),
        "{psql_error}"
    );
    let drop = submit(
        &app,
        &t,
        json!({"name": "sakila-pg-drop", "scripts": [
        {"sql": read("postgres-sakila-drop-objects.sql"), "target_ids": [target]}]}),
    )
    .await;
    let done = wait_job(&app, &t, drop["id"].as_i64().expect("id"), 120, ended).await;
    let run = &done["scripts"][0]["runs"][0];
    assert_eq!(run["error_code"], "42883", "{done}");
    assert!(run["error"]
        .as_str()
        .expect("error")
        .contains("rewards_report(integer, numeric)"));
    assert_eq!(pg_catalog(&db.0), pg_catalog(&reference.0));
    pg_admin("SELECT 1").expect("server still fine");
}

fn maria(args: &[&str]) -> Command {
    let mut c = Command::new("mariadb");
    c.args(["-h", "127.0.0.1", "-u", "root"]).args(args);
    c
}

const MARIA_CATALOG: &str = "SELECT CONCAT('table ', table_type, ' ', table_name) FROM information_schema.tables WHERE table_schema = 'sakila' \
    UNION ALL SELECT CONCAT('routine ', routine_type, ' ', routine_name) FROM information_schema.routines WHERE routine_schema = 'sakila' \
    UNION ALL SELECT CONCAT('trigger ', trigger_name, ' on ', event_object_table) FROM information_schema.triggers WHERE trigger_schema = 'sakila' \
    UNION ALL SELECT DISTINCT CONCAT('index ', table_name, '.', index_name) FROM information_schema.statistics WHERE table_schema = 'sakila'";

/// The MySQL script creates and uses the fixed schema `sakila`; this test is its only user.
#[actix_web::test]
async fn the_mysql_sakila_schema_loads_through_a_job_like_the_mariadb_client_loads_it() {
    lines(&mut maria(&["-e", "DROP DATABASE IF EXISTS sakila"]));
    run_client(&mut maria(&[]), "mysql-sakila-schema.sql");
    let want = lines(&mut maria(&["-N", "-B", "-e", MARIA_CATALOG]));
    assert!(
        want.len() > 40,
        "reference catalog looks too small: {want:?}"
    );
    lines(&mut maria(&["-e", "DROP DATABASE sakila"]));

    let app = spawn_app().await;
    let t = app.admin_token().await;
    let target = create_target(
        &app,
        &t,
        json!({"name": "maria", "engine": "mysql", "host": "127.0.0.1",
        "port": 3306, "database": "test", "username": "root"}),
    )
    .await;
    let job = submit(
        &app,
        &t,
        json!({"name": "sakila-mysql", "scripts": [
        {"sql": read("mysql-sakila-schema.sql"), "target_ids": [target]}]}),
    )
    .await;
    let done = wait_job(&app, &t, job["id"].as_i64().expect("id"), 120, ended).await;
    let got = lines(&mut maria(&["-N", "-B", "-e", MARIA_CATALOG]));
    lines(&mut maria(&["-e", "DROP DATABASE IF EXISTS sakila"]));
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(got, want);
}

fn sqlite_catalog(path: &std::path::Path) -> BTreeSet<String> {
    lines(
        Command::new("sqlite3")
            .arg(path)
            .arg("SELECT type || ' ' || name || ' on ' || tbl_name FROM sqlite_master"),
    )
}

#[actix_web::test]
async fn the_sqlite_sakila_schema_loads_through_a_job_like_sqlite3_loads_it() {
    let app = spawn_app().await;
    let reference = app.dir.path().join("ref.db");
    run_client(
        Command::new("sqlite3").args(["-bail"]).arg(&reference),
        "sqlite-sakila-schema.sql",
    );
    let t = app.admin_token().await;
    let path = app.sqlite_path("job.db");
    let target = create_target(
        &app,
        &t,
        json!({"name": "lite", "engine": "sqlite", "database": path}),
    )
    .await;
    let job = submit(
        &app,
        &t,
        json!({"name": "sakila-sqlite", "scripts": [
        {"sql": read("sqlite-sakila-schema.sql"), "target_ids": [target]}]}),
    )
    .await;
    let done = wait_job(&app, &t, job["id"].as_i64().expect("id"), 120, ended).await;
    assert_eq!(done["status"], "success", "{done}");
    let want = sqlite_catalog(&reference);
    assert!(
        want.iter().filter(|l| l.starts_with("trigger ")).count() >= 10,
        "{want:?}"
    );
    assert_eq!(sqlite_catalog(&path), want);
}
