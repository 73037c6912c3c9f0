use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    client, expect_error, spawn_app, spawn_app_with, spawn_second, StoreFile, TestApp, ADMIN,
    ADMIN_PASSWORD,
};

#[actix_web::test]
async fn logins_and_changes_are_recorded_with_who_what_and_where() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    app.post_json(
        "/api/targets",
        Some(&t),
        json!({"name": "a", "engine": "sqlite", "database": "/tmp/a.db", "password": "pw-hidden"}),
    )
    .await;
    let entries = app.audit("actor=admin").await;
    let create = entries
        .iter()
        .find(|e| e["action"] == "create" && e["object_type"] == "target")
        .expect("target creation recorded");
    assert_eq!(create["actor"], ADMIN);
    assert_eq!(create["client_addr"], "127.0.0.1");
    assert_eq!(create["detail"]["name"], "a");
    assert!(!create.to_string().contains("pw-hidden"));
    assert!(entries
        .iter()
        .any(|e| e["action"] == "login" && e["success"] == true));
}

/// Entries name their object as it is called now (renamed: the new name), or as it was called
/// when it is gone; objects without a name have none.
#[actix_web::test]
async fn entries_name_their_objects_now_or_as_recorded_once_gone() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let body = |name: &str| json!({"name": name, "engine": "sqlite", "database": app.sqlite_path(&format!("{name}.db"))});
    let kept: Value = app
        .post_json("/api/targets", Some(&t), body("before"))
        .await
        .json()
        .await
        .expect("json");
    let kept = kept["id"].as_i64().expect("id");
    let r = app
        .put_json(&format!("/api/targets/{kept}"), Some(&t), body("after"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let gone: Value = app
        .post_json("/api/targets", Some(&t), body("gone"))
        .await
        .json()
        .await
        .expect("json");
    let gone = gone["id"].as_i64().expect("id");
    let r = app.delete(&format!("/api/targets/{gone}"), Some(&t)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let entries = app.audit("object_type=target").await;
    let name_of = |id: i64, action: &str| {
        entries
            .iter()
            .find(|e| e["object_id"] == id.to_string().as_str() && e["action"] == action)
            .map(|e| e["object_name"].clone())
            .unwrap_or_else(|| panic!("no {action} of {id}: {entries:?}"))
    };
    assert_eq!(name_of(kept, "create"), "after");
    assert_eq!(name_of(gone, "create"), "gone");
    assert_eq!(name_of(gone, "delete"), "gone");
    let sessions = app.audit("object_type=session").await;
    assert!(
        sessions.iter().all(|e| e["object_name"].is_null()),
        "{sessions:?}"
    );
}

#[actix_web::test]
async fn the_audit_log_pages_newest_first_and_filters_by_time() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.admin_token().await;
    }
    let t = app.admin_token().await;
    let page: Value = app
        .get("/api/audit?action=login&per_page=2&page=2", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["total"], 5);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let first: Value = app
        .get("/api/audit?action=login&per_page=2", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert!(first["items"][0]["id"].as_i64() > page["items"][0]["id"].as_i64());
    let future: Value = app
        .get("/api/audit?since=2999-01-01T00:00:00Z", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(future["total"], 0);
}

#[actix_web::test]
async fn only_admins_read_the_audit_log() {
    let app = spawn_app().await;
    let op = app.user_with_role("operator").await;
    let r = app.get("/api/audit", Some(&op)).await;
    expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[actix_web::test]
async fn the_store_itself_refuses_to_edit_or_delete_audit_entries() {
    let app = spawn_app().await;
    app.admin_token().await;
    let settings = {
        let mut s = autodb::config::Settings::default();
        s.database.url = match app.pg_database() {
            Some(db) => format!("postgres://postgres@127.0.0.1:5432/{db}"),
            None => format!("sqlite://{}", app.dir.path().join("autodb.db").display()),
        };
        s.security.secret_key_file = app.dir.path().join("secret.key").display().to_string();
        s
    };
    let ctx = autodb::startup::context(settings, false).expect("context");
    for sql in [
        "UPDATE audit_log SET action = 'nothing'",
        "DELETE FROM audit_log",
    ] {
        let err = ctx
            .store
            .run_blocking(|c| {
                use diesel::connection::SimpleConnection;
                c.batch_execute(sql)
                    .map_err(autodb::store::StoreError::from)
            })
            .expect_err("append-only");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert!(!app.audit("").await.is_empty());
}

// ---- The audit chain: the log is evidence, not a table (issue 8, finding 2) ----

/// Logs in `n` times (an audit entry each) and returns an admin token and every entry's id,
/// oldest first. Reading the log and verifying it write nothing.
async fn some_entries(app: &TestApp, n: usize) -> (String, Vec<i64>) {
    for _ in 0..n {
        app.admin_token().await;
    }
    let token = app.admin_token().await;
    let page: Value = app
        .get("/api/audit?per_page=500", Some(&token))
        .await
        .json()
        .await
        .expect("json");
    let mut ids: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    ids.sort_unstable();
    assert!(ids.len() > n, "{page}");
    (token, ids)
}

async fn verify(app: &TestApp, token: &str) -> Value {
    let r = app.get("/api/audit/verify", Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

#[actix_web::test]
async fn an_untouched_audit_log_verifies_as_one_intact_chain() {
    let app = spawn_app().await;
    let (token, ids) = some_entries(&app, 3).await;
    let report = verify(&app, &token).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["entries"], ids.len() as i64, "{report}");
    assert_eq!(report["unchained"], 0, "{report}");
    assert!(report["first_bad"].is_null(), "{report}");
    assert_eq!(
        report["last_id"],
        *ids.last().expect("an entry"),
        "{report}"
    );
    assert_eq!(
        report["last_hash"].as_str().map(str::len),
        Some(64),
        "{report}"
    );
}

#[actix_web::test]
async fn a_row_deleted_by_the_stores_superuser_is_named_missing_by_verify() {
    let app = spawn_app().await;
    let (token, ids) = some_entries(&app, 4).await;
    let victim = ids[2];
    StoreFile::of(&app).tamper(&format!("DELETE FROM audit_log WHERE id = {victim}"));
    let report = verify(&app, &token).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["first_bad"]["id"], victim, "{report}");
    assert_eq!(report["first_bad"]["problem"], "missing", "{report}");
    assert_eq!(
        report["entries"], 2,
        "the entries before the gap are intact: {report}"
    );
}

#[actix_web::test]
async fn a_detail_edited_by_the_stores_superuser_is_named_by_verify() {
    let app = spawn_app().await;
    let (token, ids) = some_entries(&app, 4).await;
    let victim = ids[1];
    StoreFile::of(&app).tamper(&format!(
        "UPDATE audit_log SET detail = '{{\"reason\":\"nothing happened\"}}' WHERE id = {victim}"
    ));
    let report = verify(&app, &token).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["first_bad"]["id"], victim, "{report}");
    assert_eq!(report["first_bad"]["problem"], "hash_mismatch", "{report}");
}

#[actix_web::test]
async fn deleting_the_newest_entry_is_caught_by_the_chain_head() {
    let app = spawn_app().await;
    let (token, ids) = some_entries(&app, 2).await;
    let newest = *ids.last().expect("an entry");
    StoreFile::of(&app).tamper(&format!("DELETE FROM audit_log WHERE id = {newest}"));
    let report = verify(&app, &token).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["first_bad"]["id"], newest, "{report}");
    assert_eq!(report["first_bad"]["problem"], "missing", "{report}");
}

#[actix_web::test]
async fn only_admins_verify_the_audit_chain() {
    let app = spawn_app().await;
    for role in ["operator", "developer", "viewer"] {
        let t = app.user_with_role(role).await;
        let r = app.get("/api/audit/verify", Some(&t)).await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    }
}

#[actix_web::test]
async fn two_autodb_processes_appending_at_once_keep_one_unforked_chain() {
    // Room for the burst: no lockout, and time to wait for a connection (each login holds one
    // while it hashes, finding 5); what is checked here is the chain, not the throughput.
    let roomy = |s: &mut autodb::config::Settings| {
        s.security.login_max_failures = 1000;
        s.database.connect_timeout_s = 30;
        // Two apps' pools on a PostgreSQL server that other tests share.
        s.database.pool_size = 4;
    };
    let app = spawn_app_with(&crate::helpers::store_backend(), roomy).await;
    let second = spawn_second(&app, roomy).await;
    let login = |base: String, password: &'static str| async move {
        let r = client()
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": ADMIN, "password": password}))
            .send()
            .await
            .expect("send");
        (r.status(), r.text().await.unwrap_or_default())
    };
    // Right passwords append inside a write transaction; wrong ones append on their own.
    let mut attempts = vec![];
    for i in 0..24 {
        let base = if i % 2 == 0 {
            app.base.clone()
        } else {
            second.clone()
        };
        let password = if i % 3 == 0 {
            "wrong-password"
        } else {
            ADMIN_PASSWORD
        };
        attempts.push(login(base, password));
    }
    let statuses = futures_util::future::join_all(attempts).await;
    for (i, (s, body)) in statuses.iter().enumerate() {
        let want = if i % 3 == 0 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(*s, want, "attempt {i}: {body}");
    }
    let (token, ids) = some_entries(&app, 0).await;
    assert!(ids.len() >= 26, "{ids:?}");
    let report = verify(&app, &token).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["entries"], ids.len() as i64, "{report}");
}

#[actix_web::test]
async fn an_edit_whose_hash_was_recomputed_is_still_caught_at_the_next_entry() {
    use autodb::store::audit::{entries_from, entry_hash};
    let app = spawn_app().await;
    let (token, ids) = some_entries(&app, 4).await;
    let victim = ids[2];
    let ctx = autodb::startup::context(store_settings(&app), false).expect("context");
    let rows = ctx
        .store
        .run_blocking(move |c| entries_from(c, victim - 1, 2))
        .expect("rows");
    let (before, row) = (&rows[0], &rows[1]);
    let forged_detail = r#"{"reason":"nothing happened"}"#;
    let mut fields = row.fields();
    fields.detail = forged_detail;
    let forged = entry_hash(before.hash.as_deref().expect("chained"), &fields);
    StoreFile::of(&app).tamper(&format!(
        "UPDATE audit_log SET detail = '{forged_detail}', hash = '{forged}' WHERE id = {victim}"
    ));
    let report = verify(&app, &token).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["first_bad"]["id"], victim + 1, "{report}");
    assert_eq!(report["first_bad"]["problem"], "hash_mismatch", "{report}");
}

#[actix_web::test]
async fn the_store_refuses_unchained_entries_and_a_chain_head_moved_back_or_deleted() {
    let app = spawn_app().await;
    let (token, _) = some_entries(&app, 1).await;
    let ctx = autodb::startup::context(store_settings(&app), false).expect("context");
    for (sql, says) in [
        (
            "INSERT INTO audit_log (at, action, object_type, detail, success) \
             VALUES ('2026-12-01 00:00:00', 'login', 'session', '{}', true)",
            "chain hash",
        ),
        ("UPDATE audit_chain SET last_id = 0", "only moves forward"),
        ("DELETE FROM audit_chain", "anchor of the audit log"),
    ] {
        let err = ctx
            .store
            .run_blocking(|c| {
                use diesel::connection::SimpleConnection;
                c.batch_execute(sql)
                    .map_err(autodb::store::StoreError::from)
            })
            .expect_err(sql);
        assert!(err.to_string().contains(says), "{sql}: {err}");
    }
    assert_eq!(verify(&app, &token).await["ok"], true);
}

/// The settings of a second handle on `app`'s store (the CLI's view of it).
fn store_settings(app: &TestApp) -> autodb::config::Settings {
    let mut s = autodb::config::Settings::default();
    s.database.url = match app.pg_database() {
        Some(db) => format!("postgres://postgres@127.0.0.1:5432/{db}"),
        None => format!("sqlite://{}", app.dir.path().join("autodb.db").display()),
    };
    s.security.secret_key_file = app.dir.path().join("secret.key").display().to_string();
    // A few connections: the PostgreSQL server is shared with other tests.
    s.database.pool_size = 2;
    s
}

/// Applies every migration before the audit chain's to a fresh store and writes `n` entries
/// the way AutoDB did before the chain existed.
fn store_from_before_the_chain(n: usize) -> (StoreFile, String, tempfile::TempDir) {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};

    fn upgrade_to_just_before_the_chain<C>(conn: &mut C, folder: &str)
    where
        C: MigrationHarness<C::Backend> + Connection + SimpleConnection,
    {
        let dir = format!("{}/migrations/{folder}", env!("CARGO_MANIFEST_DIR"));
        let source = FileBasedMigrations::from_path(dir).expect("migrations");
        let pending = conn.pending_migrations(source).expect("pending");
        for m in pending
            .iter()
            .take_while(|m| !m.name().to_string().ends_with("_audit_chain"))
        {
            conn.run_migration(m.as_ref()).expect("migration");
        }
    }
    let rows: String = (0..n)
        .map(|i| {
            format!(
                "INSERT INTO audit_log (at, actor_name, action, object_type, detail, success) \
                 VALUES ('2026-11-30 10:00:0{i}', 'old', 'login', 'session', '{{}}', true);"
            )
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    if crate::helpers::store_backend() == "postgres" {
        let db = format!("autodb_prechain_{}", std::process::id());
        // One statement per call: neither runs inside a transaction block.
        crate::helpers::pg_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .expect("drop database");
        crate::helpers::pg_admin(&format!("CREATE DATABASE {db}")).expect("create database");
        let url = format!("postgres://postgres@127.0.0.1:5432/{db}");
        let mut c = diesel::PgConnection::establish(&url).expect("connect");
        upgrade_to_just_before_the_chain(&mut c, "postgresql");
        c.batch_execute(&rows).expect("old entries");
        (StoreFile::Postgres(db), url, dir)
    } else {
        let path = dir.path().join("old.db");
        let mut c = diesel::SqliteConnection::establish(&path.display().to_string()).expect("open");
        upgrade_to_just_before_the_chain(&mut c, "sqlite");
        c.batch_execute(&rows).expect("old entries");
        let url = format!("sqlite://{}", path.display());
        (StoreFile::Sqlite(path), url, dir)
    }
}

#[actix_web::test]
async fn entries_from_before_the_chain_are_counted_unchained_and_their_deletion_is_seen() {
    let (store, url, _dir) = store_from_before_the_chain(3);
    let app = spawn_app_with(&crate::helpers::store_backend(), |s| s.database.url = url).await;
    let token = app.admin_token().await;
    let report = verify(&app, &token).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["unchained"], 3, "{report}");
    // The admin's creation and one login, chained after the three old entries.
    assert_eq!(report["entries"], 2, "{report}");
    assert_eq!(report["last_id"], 5, "{report}");

    store.tamper("DELETE FROM audit_log WHERE id = 2");
    let report = verify(&app, &token).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(
        report["first_bad"]["problem"], "pre_chain_changed",
        "{report}"
    );
    drop(app);
    if let StoreFile::Postgres(db) = store {
        let _ = crate::helpers::pg_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    }
}
