//! Grants against the real PostgreSQL and MariaDB: the temporary access works during the
//! grant, the original works again after it, the temporary one is refused and its sessions are
//! ended — through API ends, expiries, a dead process, an unreachable target and a conflict.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    expect_error, pg_admin, spawn_app_with, spawn_second, store_backend, TestApp,
};
use crate::jobs::{create_target, pg_target, PgDb};

const HBA: &str = "/etc/postgresql/15/main/pg_hba.conf";
/// Password checks for this file's roles only — members of `gt_scram`, directly (the lent
/// accounts) or through them (the personal logins) — at the top of pg_hba.conf while a test
/// needs them (the rest of the machine trusts; PostgreSQL 15 has no regex role names).
const HBA_LINES: &str = "host all +gt_scram 127.0.0.1/32 scram-sha-256\n";
static HBA_USERS: Mutex<usize> = Mutex::new(0);

struct Hba;

impl Hba {
    fn on() -> Self {
        let mut n = HBA_USERS.lock().unwrap_or_else(|p| p.into_inner());
        if *n == 0 {
            let _ = pg_admin(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gt_scram') \
                 THEN CREATE ROLE gt_scram NOLOGIN; END IF; END $$",
            );
            let text = std::fs::read_to_string(HBA).expect("read pg_hba.conf");
            if !text.starts_with(HBA_LINES) {
                std::fs::write(HBA, format!("{HBA_LINES}{text}")).expect("write pg_hba.conf");
            }
            pg_admin("SELECT pg_reload_conf()").expect("reload");
        }
        *n += 1;
        Hba
    }
}

impl Drop for Hba {
    fn drop(&mut self) {
        let mut n = HBA_USERS.lock().unwrap_or_else(|p| p.into_inner());
        *n -= 1;
        if *n == 0 {
            if let Ok(text) = std::fs::read_to_string(HBA) {
                let _ = std::fs::write(HBA, text.replacen(HBA_LINES, "", 1));
                let _ = pg_admin("SELECT pg_reload_conf()");
                let _ = pg_admin("DROP ROLE IF EXISTS gt_scram");
            }
        }
    }
}

fn tag() -> String {
    format!("gt_{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Db {
    Pg,
    Maria,
}

/// A real session as `user`: opened on a thread of its own, kept open, and asked later
/// whether it still works.
struct Session {
    ask: std::sync::mpsc::Sender<()>,
    answer: std::sync::mpsc::Receiver<bool>,
}

impl Session {
    fn still_works(&self) -> bool {
        self.ask.send(()).is_ok()
            && self
                .answer
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or(false)
    }
}

fn maria_opts(user: &str, password: &str) -> mysql::Opts {
    mysql::OptsBuilder::new()
        .ip_or_hostname(Some("127.0.0.1"))
        .prefer_socket(false)
        .user(Some(user))
        .pass(Some(password))
        .into()
}

/// Logs in over TCP with a password and runs `SELECT 1`; the error text when refused.
fn login(db: Db, dbname: &str, user: &str, password: &str) -> Result<(), String> {
    let (dbname, user, password) = (dbname.to_string(), user.to_string(), password.to_string());
    std::thread::spawn(move || match db {
        Db::Pg => {
            let url =
                format!("host=127.0.0.1 port=5432 user={user} password={password} dbname={dbname}");
            let mut c =
                postgres::Client::connect(&url, postgres::NoTls).map_err(|e| e.to_string())?;
            c.simple_query("SELECT 1")
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Db::Maria => {
            use mysql::prelude::Queryable;
            let mut c =
                mysql::Conn::new(maria_opts(&user, &password)).map_err(|e| e.to_string())?;
            c.query_drop("SELECT 1").map_err(|e| e.to_string())
        }
    })
    .join()
    .expect("login thread")
}

fn open_session(db: Db, dbname: &str, user: &str, password: &str) -> Session {
    let who = user.to_string();
    let (dbname, user, password) = (dbname.to_string(), user.to_string(), password.to_string());
    let (ask, asked) = std::sync::mpsc::channel::<()>();
    let (tell, answer) = std::sync::mpsc::channel::<bool>();
    let (ready_tx, ready) = std::sync::mpsc::channel::<Result<(), String>>();
    std::thread::spawn(move || match db {
        Db::Pg => {
            let url =
                format!("host=127.0.0.1 port=5432 user={user} password={password} dbname={dbname}");
            match postgres::Client::connect(&url, postgres::NoTls) {
                Ok(mut c) => {
                    let _ = ready_tx.send(Ok(()));
                    while asked.recv().is_ok() {
                        let _ = tell.send(c.simple_query("SELECT 1").is_ok());
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                }
            }
        }
        Db::Maria => {
            use mysql::prelude::Queryable;
            match mysql::Conn::new(maria_opts(&user, &password)) {
                Ok(mut c) => {
                    let _ = ready_tx.send(Ok(()));
                    while asked.recv().is_ok() {
                        let _ = tell.send(c.query_drop("SELECT 1").is_ok());
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                }
            }
        }
    });
    ready
        .recv()
        .expect("session thread")
        .unwrap_or_else(|e| panic!("{who} could not open a session: {e}"));
    Session { ask, answer }
}

fn maria_root(sql: &str) {
    use mysql::prelude::Queryable;
    let mut c = mysql::Conn::new(maria_opts("root", "")).expect("mariadb");
    c.query_drop(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A target database with an account to lend (its password `orig`), and the target's AutoDB
/// account (PostgreSQL superuser; on MariaDB a user of its own that a test can lock).
struct World {
    db: Db,
    dbname: String,
    account: String,
    original: String,
    target: i64,
    admin_user: Option<String>,
    _pg: Option<PgDb>,
}

impl Drop for World {
    fn drop(&mut self) {
        match self.db {
            Db::Pg => {
                let _ = pg_admin(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.dbname
                ));
                let _ = pg_admin(&format!("DROP ROLE IF EXISTS {}", self.account));
            }
            Db::Maria => {
                use mysql::prelude::Queryable;
                if let Ok(mut c) = mysql::Conn::new(maria_opts("root", "")) {
                    let _ = c.query_drop(format!("DROP USER IF EXISTS '{}'@'%'", self.account));
                    if let Some(a) = &self.admin_user {
                        let _ = c.query_drop(format!("DROP USER IF EXISTS '{a}'@'%'"));
                    }
                    let _ = c.query_drop(format!("DROP DATABASE IF EXISTS {}", self.dbname));
                }
            }
        }
    }
}

async fn world(app: &TestApp, token: &str, db: Db) -> World {
    let account = tag();
    let original = format!("orig-{}", uuid::Uuid::new_v4().simple());
    match db {
        Db::Pg => {
            let pg = PgDb::new("grant");
            pg_admin(&format!(
                "CREATE ROLE {account} LOGIN PASSWORD '{original}'"
            ))
            .expect("role");
            pg_admin(&format!("GRANT ALL ON DATABASE {} TO {account}", pg.0)).expect("grant");
            pg_admin(&format!("GRANT gt_scram TO {account}")).expect("scram group");
            let target = pg_target(app, token, &pg).await;
            World {
                db,
                dbname: pg.0.clone(),
                account,
                original,
                target,
                admin_user: None,
                _pg: Some(pg),
            }
        }
        Db::Maria => {
            let dbname = tag();
            let admin = tag();
            maria_root(&format!("CREATE DATABASE {dbname}"));
            maria_root(&format!(
                "CREATE USER '{account}'@'%' IDENTIFIED BY '{original}'"
            ));
            maria_root(&format!("GRANT SELECT ON {dbname}.* TO '{account}'@'%'"));
            maria_root(&format!(
                "CREATE USER '{admin}'@'%' IDENTIFIED BY 'adm-pass-1'"
            ));
            maria_root(&format!(
                "GRANT ALL PRIVILEGES ON *.* TO '{admin}'@'%' WITH GRANT OPTION"
            ));
            let target = create_target(
                app,
                token,
                json!({"name": dbname, "engine": "mysql", "host": "127.0.0.1", "port": 3306,
                    "database": dbname, "username": admin, "password": "adm-pass-1",
                    "trusted_for_queries": true}),
            )
            .await;
            World {
                db,
                dbname,
                account,
                original,
                target,
                admin_user: Some(admin),
                _pg: None,
            }
        }
    }
}

async fn policy(app: &TestApp, token: &str, w: &World, mode: &str, roles: Value) -> i64 {
    let r = app
        .post_json(
            "/api/grant-policies",
            Some(token),
            json!({"name": tag(), "target_id": w.target, "account": w.account, "mode": mode,
                "max_duration_s": 600, "roles": roles, "kill_sessions": true}),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().expect("id")
}

async fn ask(app: &TestApp, token: &str, policy: i64, duration_s: i64) -> Value {
    let r = app
        .post_json(
            "/api/grants",
            Some(token),
            json!({"policy_id": policy, "duration_s": duration_s, "reason": "ticket 42"}),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "active");
    body
}

async fn wait_status(app: &TestApp, token: &str, id: i64, want: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let g: Value = app
            .get(&format!("/api/grants/{id}"), Some(token))
            .await
            .json()
            .await
            .expect("json");
        if g["status"] == want {
            return g;
        }
        assert!(
            Instant::now() < deadline,
            "grant {id} never became {want}: {g}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn quick(s: &mut autodb::config::Settings) {
    s.grants.min_duration_s = 1;
    s.grants.retry_max_s = 1;
    s.engine.poll_ms = 100;
    s.engine.lease_s = 3;
}

/// Everything the store holds, as text: the temporary password must be in none of it.
async fn store_text(app: &TestApp) -> String {
    match app.pg_database() {
        Some(db) => crate::queries::pg_text(
            db,
            "SELECT (SELECT string_agg(g::text, ' ') FROM grants g) || \
             (SELECT string_agg(a::text, ' ') FROM audit_log a) || \
             (SELECT coalesce(string_agg(w::text, ' '), '') FROM work_items w)",
        ),
        None => {
            let bytes: Vec<u8> = ["autodb.db", "autodb.db-wal"]
                .iter()
                .filter_map(|f| std::fs::read(app.dir.path().join(f)).ok())
                .flatten()
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

/// Points the world's target at a PostgreSQL account without superuser: CREATEROLE,
/// pg_read_all_stats, pg_signal_backend, and the SECURITY DEFINER helper exactly as
/// docs/GRANTS.md gives it (its lendable accounts and grantee replaced).
async fn least_privilege(app: &TestApp, token: &str, w: &mut World) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/GRANTS.md"))
        .expect("docs/GRANTS.md");
    let sql = doc
        .split("```sql\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the helper's SQL block");
    let adm = tag();
    pg_admin(&format!(
        "CREATE ROLE {adm} LOGIN CREATEROLE; GRANT pg_read_all_stats, pg_signal_backend TO {adm}"
    ))
    .expect("adm role");
    let sql = sql
        .replace("'spt'", &format!("'{}'", w.account))
        .replace(" TO autodb;", &format!(" TO {adm};"));
    crate::jobs::pg_admin_db(&w.dbname, &sql);
    w.target = create_target(
        app,
        token,
        json!({"name": tag(), "engine": "postgres", "host": "127.0.0.1", "port": 5432,
            "database": w.dbname, "username": adm, "password": "trusted-anyway"}),
    )
    .await;
    adm
}

async fn swap_round_trip(db: Db) {
    swap_round_trip_as(db, false).await;
}

async fn swap_round_trip_as(db: Db, helper: bool) {
    let _hba = Hba::on();
    let app = spawn_app_with(&store_backend(), quick).await;
    let t = app.admin_token().await;
    let mut w = world(&app, &t, db).await;
    let adm = if helper {
        Some(least_privilege(&app, &t, &mut w).await)
    } else {
        None
    };
    login(db, &w.dbname, &w.account, &w.original).expect("the original works before");
    let p = policy(&app, &t, &w, "swap", json!(["operator"])).await;
    let op = app.user_with_role("operator").await;
    let g = ask(&app, &op, p, 600).await;
    let (id, password) = (
        g["id"].as_i64().expect("id"),
        g["password"].as_str().expect("pw").to_string(),
    );
    assert_eq!(g["login"], w.account);
    // During: the temporary password works, the original does not.
    login(db, &w.dbname, &w.account, &password).expect("the temporary password works");
    assert!(
        login(db, &w.dbname, &w.account, &w.original).is_err(),
        "the original is swapped out"
    );
    let session = open_session(db, &w.dbname, &w.account, &password);
    assert!(session.still_works());
    // Handed back: the original works again, the temporary is refused, its session is gone.
    let r = app
        .post_json(&format!("/api/grants/{id}/end"), Some(&op), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done = wait_status(&app, &op, id, "ended", 20).await;
    assert!(done["ended_at"].is_string());
    login(db, &w.dbname, &w.account, &w.original).expect("the original works after");
    assert!(
        login(db, &w.dbname, &w.account, &password).is_err(),
        "the temporary is refused"
    );
    assert!(!session.still_works(), "the temporary session was ended");
    // Never stored, audited or answered again.
    let audit =
        serde_json::to_string(&app.audit("object_type=grant&per_page=100").await).expect("json");
    assert!(audit.contains("restore"), "{audit}");
    assert!(!audit.contains(&password));
    assert!(
        !store_text(&app).await.contains(&password),
        "the store holds the password"
    );
    let listed = app
        .get("/api/grants", Some(&t))
        .await
        .text()
        .await
        .expect("text");
    assert!(listed.contains(&format!("\"id\":{id}")) && !listed.contains(&password));
    if let Some(adm) = adm {
        let rights = check_rights(&app, &t, p).await;
        assert!(rights.iter().all(|x| x["ok"] == true), "{rights:?}");
        drop(w);
        let _ = pg_admin(&format!("DROP ROLE IF EXISTS {adm}"));
    }
}

#[actix_web::test]
async fn a_postgres_swap_grant_works_without_superuser_through_the_documented_helper() {
    swap_round_trip_as(Db::Pg, true).await;
}

#[actix_web::test]
async fn a_postgres_swap_grant_lends_the_account_and_takes_it_back_with_its_sessions() {
    swap_round_trip(Db::Pg).await;
}

#[actix_web::test]
async fn a_mariadb_swap_grant_lends_the_account_and_takes_it_back_with_its_sessions() {
    swap_round_trip(Db::Maria).await;
}

async fn personal_round_trip(db: Db) {
    let _hba = Hba::on();
    let app = spawn_app_with(&store_backend(), quick).await;
    let t = app.admin_token().await;
    let w = world(&app, &t, db).await;
    let p = policy(&app, &t, &w, "personal", json!(["developer"])).await;
    let dev = app.user_with_role("developer").await;
    let g = ask(&app, &dev, p, 2).await;
    let (id, login_name) = (
        g["id"].as_i64().expect("id"),
        g["login"].as_str().expect("login").to_string(),
    );
    let password = g["password"].as_str().expect("pw").to_string();
    assert_ne!(login_name, w.account, "a login of its own");
    let session = open_session(db, &w.dbname, &login_name, &password);
    assert!(session.still_works());
    // The shared account is untouched throughout.
    login(db, &w.dbname, &w.account, &w.original).expect("the account's own password still works");
    // Expiry (2 s) takes it back by itself.
    wait_status(&app, &dev, id, "ended", 20).await;
    assert!(
        login(db, &w.dbname, &login_name, &password).is_err(),
        "the personal login is gone"
    );
    assert!(!session.still_works(), "its session was ended");
    login(db, &w.dbname, &w.account, &w.original).expect("the account still works");
}

#[actix_web::test]
async fn a_postgres_personal_grant_is_a_login_of_its_own_dropped_at_expiry() {
    personal_round_trip(Db::Pg).await;
}

#[actix_web::test]
async fn a_mariadb_personal_grant_is_a_login_of_its_own_dropped_at_expiry() {
    personal_round_trip(Db::Maria).await;
}

#[actix_web::test]
async fn a_second_swap_is_refused_naming_the_holder_and_bounds_and_roles_are_enforced() {
    let app = spawn_app_with(&store_backend(), quick).await;
    let t = app.admin_token().await;
    let w = world(&app, &t, Db::Maria).await;
    let p = policy(&app, &t, &w, "swap", json!(["operator"])).await;
    let op = app.user_with_role("operator").await;
    let dev = app.user_with_role("developer").await;
    let body = |d: i64| json!({"policy_id": p, "duration_s": d, "reason": "x"});
    // A role not in the policy.
    expect_error(
        app.post_json("/api/grants", Some(&dev), body(60)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Duration bounds: over the policy's maximum is the policy's refusal (422); below
    // grants.min_duration_s breaks the API document (400).
    let e = expect_error(
        app.post_json("/api/grants", Some(&op), body(601)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    assert_eq!(e["field"], "duration_s");
    let e = expect_error(
        app.post_json("/api/grants", Some(&op), body(0)).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(e["field"], "duration_s");
    let g = ask(&app, &op, p, 300).await;
    let id = g["id"].as_i64().expect("id");
    // A second swap on the same account names the holder and the expiry.
    let e = expect_error(
        app.post_json("/api/grants", Some(&t), body(60)).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let msg = e["message"].as_str().expect("message");
    assert!(
        msg.contains("operator_") && msg.contains(&g["expires_at"].as_str().expect("exp")[..16]),
        "{msg}"
    );
    // Extend within and beyond the maximum from the start.
    let r = app
        .post_json(
            &format!("/api/grants/{id}/extend"),
            Some(&op),
            json!({"duration_s": 200}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let e = expect_error(
        app.post_json(
            &format!("/api/grants/{id}/extend"),
            Some(&op),
            json!({"duration_s": 200}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    )
    .await;
    assert_eq!(e["field"], "duration_s");
    // Someone else's grant is not theirs to see.
    expect_error(
        app.get(&format!("/api/grants/{id}"), Some(&dev)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The admin revokes it.
    let r = app
        .post_json(&format!("/api/grants/{id}/end"), Some(&t), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    wait_status(&app, &t, id, "ended", 20).await;
    let audit = app.audit("object_type=grant&action=revoke").await;
    assert_eq!(audit.len(), 1);
    login(Db::Maria, &w.dbname, &w.account, &w.original).expect("the original works again");
}

#[actix_web::test]
async fn a_password_changed_during_the_grant_is_a_conflict_and_theirs_is_kept() {
    let app = spawn_app_with(&store_backend(), quick).await;
    let t = app.admin_token().await;
    let w = world(&app, &t, Db::Maria).await;
    let p = policy(&app, &t, &w, "swap", json!(["operator"])).await;
    let g = ask(&app, &t, p, 300).await;
    let id = g["id"].as_i64().expect("id");
    maria_root(&format!(
        "ALTER USER '{}'@'%' IDENTIFIED BY 'theirs-now-1'",
        w.account
    ));
    app.post_json(&format!("/api/grants/{id}/end"), Some(&t), json!({}))
        .await;
    wait_status(&app, &t, id, "conflict", 20).await;
    login(Db::Maria, &w.dbname, &w.account, "theirs-now-1").expect("their password is kept");
    assert!(login(Db::Maria, &w.dbname, &w.account, &w.original).is_err());
    let audit = app.audit("object_type=grant&action=conflict").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["success"], false);
}

#[actix_web::test]
async fn an_unreachable_target_at_expiry_is_restore_failed_then_restored_once_reachable() {
    let app = spawn_app_with(&store_backend(), quick).await;
    let t = app.admin_token().await;
    let w = world(&app, &t, Db::Maria).await;
    let p = policy(&app, &t, &w, "swap", json!(["operator"])).await;
    let g = ask(&app, &t, p, 300).await;
    let id = g["id"].as_i64().expect("id");
    let admin = w.admin_user.clone().expect("admin user");
    maria_root(&format!("ALTER USER '{admin}'@'%' ACCOUNT LOCK"));
    app.post_json(&format!("/api/grants/{id}/end"), Some(&t), json!({}))
        .await;
    let failed = wait_status(&app, &t, id, "restore_failed", 20).await;
    assert!(failed["restore_attempts"].as_i64().unwrap_or(0) >= 1);
    assert!(
        failed["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{failed}"
    );
    assert!(
        login(Db::Maria, &w.dbname, &w.account, &w.original).is_err(),
        "not restored yet"
    );
    maria_root(&format!("ALTER USER '{admin}'@'%' ACCOUNT UNLOCK"));
    wait_status(&app, &t, id, "ended", 30).await;
    login(Db::Maria, &w.dbname, &w.account, &w.original).expect("restored once reachable");
    assert!(!app
        .audit("object_type=grant&action=restore_failed")
        .await
        .is_empty());
}

/// An AutoDB whose runtime can be dropped without any shutdown: the equivalent of `kill -9`
/// for an in-process app (its engine loops, server and timers are gone at once).
fn doomed_app(
    backend: String,
) -> (
    TestApp,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = spawn_app_with(&backend, quick).await;
            let _ = tx.send(app);
            let _ = stopped.await;
        });
    });
    (rx.recv().expect("app"), stop, thread)
}

async fn restored_after_a_crash(backend: &str, processes: usize) {
    let (app, stop, thread) = doomed_app(backend.to_string());
    let t = app.admin_token().await;
    let w = world(&app, &t, Db::Maria).await;
    let p = policy(&app, &t, &w, "swap", json!(["operator"])).await;
    let g = ask(&app, &t, p, 2).await;
    let id = g["id"].as_i64().expect("id");
    let password = g["password"].as_str().expect("pw").to_string();
    // Killed during the grant: nothing of it runs any more.
    let _ = stop.send(());
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .expect("join")
        .expect("thread");
    let expires: chrono::DateTime<chrono::Utc> = g["expires_at"]
        .as_str()
        .expect("exp")
        .parse()
        .expect("time");
    while chrono::Utc::now() < expires + chrono::Duration::milliseconds(500) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    login(Db::Maria, &w.dbname, &w.account, &password).expect("still lent: nobody took it back");
    let started = Instant::now();
    let mut others = vec![];
    for _ in 0..processes {
        others.push(spawn_second(&app, quick).await);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while login(Db::Maria, &w.dbname, &w.account, &w.original).is_err() {
        assert!(Instant::now() < deadline, "not restored after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "restored {took:?} after the start"
    );
    // Read through a live process; one restore in the audit log however many processes.
    let b = crate::helpers::client();
    let tok: Value = b
        .post(format!("{}/api/auth/login", others[0]))
        .json(
            &json!({"username": crate::helpers::ADMIN, "password": crate::helpers::ADMIN_PASSWORD}),
        )
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let tok = tok["token"].as_str().expect("token").to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let g: Value = b
            .get(format!("{}/api/grants/{id}", others[0]))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if g["status"] == "ended" {
            break;
        }
        assert!(Instant::now() < deadline, "{g}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let audit: Value = b
        .get(format!(
            "{}/api/audit?object_type=grant&action=restore&per_page=100",
            others[0]
        ))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let restores = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["object_id"].as_str() == Some(id.to_string().as_str()))
        .count();
    assert_eq!(restores, 1, "{audit}");
    println!("restored {took:?} after the restart with {processes} process(es)");
}

#[actix_web::test]
async fn a_grant_whose_process_died_is_restored_by_the_next_process_after_expiry() {
    restored_after_a_crash(&store_backend(), 1).await;
}

#[actix_web::test]
async fn a_grant_whose_process_died_is_restored_exactly_once_by_two_processes_on_postgres() {
    restored_after_a_crash("postgres", 2).await;
}

#[actix_web::test]
async fn the_rights_check_reports_each_right_and_the_sql_for_what_is_missing() {
    let _hba = Hba::on();
    let app = spawn_app_with(&store_backend(), quick).await;
    let t = app.admin_token().await;
    // PostgreSQL as its superuser: every right holds.
    let pg = world(&app, &t, Db::Pg).await;
    let p = policy(&app, &t, &pg, "swap", json!(["operator"])).await;
    let rights = check_rights(&app, &t, p).await;
    assert_eq!(rights.len(), 5, "{rights:?}");
    assert!(
        rights
            .iter()
            .all(|x| x["ok"] == true && x["grant_sql"].is_null()),
        "{rights:?}"
    );
    // MariaDB with an account that may only read one database: each right is missing, with
    // the statement that grants it.
    let maria = world(&app, &t, Db::Maria).await;
    let weak = tag();
    maria_root(&format!(
        "CREATE USER '{weak}'@'%' IDENTIFIED BY 'weak-pass-1'"
    ));
    maria_root(&format!(
        "GRANT SELECT ON {}.* TO '{weak}'@'%'",
        maria.dbname
    ));
    let target = create_target(
        &app,
        &t,
        json!({"name": tag(), "engine": "mysql", "host": "127.0.0.1", "port": 3306,
            "database": maria.dbname, "username": weak, "password": "weak-pass-1"}),
    )
    .await;
    let r = app
        .post_json(
            "/api/grant-policies",
            Some(&t),
            json!({"name": tag(), "target_id": target, "account": maria.account, "mode": "swap",
                "max_duration_s": 600, "roles": ["operator"]}),
        )
        .await;
    let weak_policy = r.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    let rights = check_rights(&app, &t, weak_policy).await;
    assert!(rights.iter().all(|x| x["ok"] == false), "{rights:?}");
    let end = rights
        .iter()
        .find(|x| x["right"] == "end sessions")
        .expect("end sessions");
    assert!(end["grant_sql"]
        .as_str()
        .is_some_and(|s| s.contains("CONNECTION ADMIN") && s.contains(&weak)));
    maria_root(&format!("DROP USER '{weak}'@'%'"));
    // Only admins check; a policy with an open grant cannot be deleted.
    let op = app.user_with_role("operator").await;
    expect_error(
        app.post_json(
            &format!("/api/grant-policies/{p}/check"),
            Some(&op),
            json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let g = ask(&app, &op, p, 60).await;
    expect_error(
        app.delete(&format!("/api/grant-policies/{p}"), Some(&t))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let id = g["id"].as_i64().expect("id");
    app.post_json(&format!("/api/grants/{id}/end"), Some(&op), json!({}))
        .await;
    wait_status(&app, &op, id, "ended", 20).await;
    let r = app
        .delete(&format!("/api/grant-policies/{p}"), Some(&t))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn a_target_with_grant_policies_cannot_be_deleted() {
    let app = spawn_app_with(&store_backend(), quick).await;
    let t = app.admin_token().await;
    let w = world(&app, &t, Db::Maria).await;
    let p = policy(&app, &t, &w, "swap", json!(["operator"])).await;
    expect_error(
        app.delete(&format!("/api/targets/{}", w.target), Some(&t))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/grant-policies/{p}"), Some(&t))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/api/targets/{}", w.target), Some(&t))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

/// Puts a grant in `status` and its restore item due now, as a process that died at that
/// step would leave them.
async fn left_by_a_dead_process(app: &TestApp, id: i64, status: &'static str) {
    use autodb::store::grants::{reschedule, transition, Change};
    app.ctx
        .store
        .write(move |tx| {
            let change = Change {
                status: Some(status.into()),
                ..Change::default()
            };
            assert!(transition(tx, id, &["active"], &change)?);
            assert!(reschedule(tx, id, autodb::store::now())?);
            Ok::<_, autodb::store::StoreError>(())
        })
        .await
        .expect("store");
    app.ctx.work.wake();
}

#[actix_web::test]
async fn pending_and_restoring_grants_left_by_a_dead_process_are_resolved_by_the_sweeper() {
    let app = spawn_app_with(&store_backend(), quick).await;
    let t = app.admin_token().await;
    let (a, b) = (
        world(&app, &t, Db::Maria).await,
        world(&app, &t, Db::Maria).await,
    );
    let pa = policy(&app, &t, &a, "swap", json!(["operator"])).await;
    let pb = policy(&app, &t, &b, "swap", json!(["operator"])).await;
    let (ga, gb) = (ask(&app, &t, pa, 300).await, ask(&app, &t, pb, 300).await);
    let (ia, ib) = (
        ga["id"].as_i64().expect("id"),
        gb["id"].as_i64().expect("id"),
    );
    // Died after changing the account but before `active`: taken back, and `failed` (it was
    // never handed over as far as the store knows).
    left_by_a_dead_process(&app, ia, "pending").await;
    // Died in the middle of a restore: taken up again and finished, once.
    left_by_a_dead_process(&app, ib, "restoring").await;
    wait_status(&app, &t, ia, "failed", 20).await;
    wait_status(&app, &t, ib, "ended", 20).await;
    for (w, g) in [(&a, &ga), (&b, &gb)] {
        login(Db::Maria, &w.dbname, &w.account, &w.original).expect("the original is back");
        let temp = g["password"].as_str().expect("pw");
        assert!(login(Db::Maria, &w.dbname, &w.account, temp).is_err());
    }
    let restores = app.audit("object_type=grant&action=restore").await;
    assert_eq!(
        restores
            .iter()
            .filter(|e| e["object_id"] == ib.to_string().as_str())
            .count(),
        1
    );
}

/// The rights check of a policy, as an admin asks for it.
async fn check_rights(app: &TestApp, token: &str, policy: i64) -> Vec<Value> {
    let r = app
        .post_json(
            &format!("/api/grant-policies/{policy}/check"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}
