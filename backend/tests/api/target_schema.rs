//! `GET /api/targets/{id}/schema`: the catalog of real PostgreSQL, MariaDB and SQLite targets
//! for the SQL editor's completion; who may read it, the cache and its refresh, the audit
//! entry, and a target that is down or refuses the login.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, spawn_app, TestApp};
use crate::jobs::{create_target, pg_admin_db, pg_target, PgDb};
use crate::queries::{maria_exec, maria_target, sqlite_target, MariaDb};

async fn schema(app: &TestApp, token: &str, id: i64, query: &str) -> Value {
    let r = app
        .get(&format!("/api/targets/{id}/schema{query}"), Some(token))
        .await;
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn columns_of(s: &Value, table: &str) -> Vec<(String, String)> {
    s["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter(|c| c["table"] == table)
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_string(),
                c["type"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn has_table(s: &Value, schema: &str, name: &str, kind: &str) -> bool {
    s["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .any(|t| t["schema"] == schema && t["name"] == name && t["kind"] == kind)
}

#[actix_web::test]
async fn a_postgresql_targets_tables_views_and_columns_come_back_without_the_system_schemas() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let dev = app.user_with_role("developer").await;
    let db = PgDb::new("catalog");
    pg_admin_db(
        &db.0,
        "CREATE SCHEMA sales;
         CREATE TABLE sales.cat_orders (order_id bigint PRIMARY KEY, placed_at timestamptz, note varchar(20));
         CREATE VIEW public.cat_recent AS SELECT order_id FROM sales.cat_orders;",
    );
    let id = pg_target(&app, &admin, &db).await;
    let s = schema(&app, &dev, id, "").await;
    assert_eq!(s["default_schema"], "public", "{s}");
    let schemas: Vec<&str> = s["schemas"]
        .as_array()
        .expect("schemas")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        schemas.contains(&"sales") && schemas.contains(&"public"),
        "{schemas:?}"
    );
    assert!(
        !schemas
            .iter()
            .any(|n| ["pg_catalog", "information_schema"].contains(n) || n.starts_with("pg_toast")),
        "{schemas:?}"
    );
    assert!(has_table(&s, "sales", "cat_orders", "table"), "{s}");
    assert!(has_table(&s, "public", "cat_recent", "view"), "{s}");
    assert_eq!(
        columns_of(&s, "cat_orders"),
        [
            ("order_id".into(), "bigint".into()),
            ("placed_at".into(), "timestamp with time zone".into()),
            ("note".into(), "character varying(20)".into()),
        ]
    );
    assert_eq!(columns_of(&s, "cat_recent")[0].0, "order_id");
    assert!(!s["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .any(|c| c["schema"] == "pg_catalog"));
    assert_eq!(s["truncated"], false);
    assert!(s["fetched_at"].is_string(), "{s}");
}

#[actix_web::test]
async fn a_mariadb_targets_tables_and_columns_come_back_without_the_system_schemas() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let db = MariaDb::new("catalog");
    maria_exec(
        Some(&db.0),
        "CREATE TABLE cat_items (item_id INT PRIMARY KEY, label VARCHAR(40))",
    );
    maria_exec(
        Some(&db.0),
        "CREATE VIEW cat_labels AS SELECT label FROM cat_items",
    );
    let id = maria_target(&app, &admin, &db).await;
    let s = schema(&app, &admin, id, "").await;
    assert_eq!(s["default_schema"], db.0.as_str(), "{s}");
    assert!(has_table(&s, &db.0, "cat_items", "table"), "{s}");
    assert!(has_table(&s, &db.0, "cat_labels", "view"), "{s}");
    assert_eq!(
        columns_of(&s, "cat_items"),
        [
            ("item_id".into(), "int(11)".into()),
            ("label".into(), "varchar(40)".into()),
        ]
    );
    for own in ["mysql", "sys", "performance_schema", "information_schema"] {
        assert!(!s["schemas"]
            .as_array()
            .expect("schemas")
            .iter()
            .any(|n| n == own));
        assert!(!s["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .any(|t| t["schema"] == own));
    }
}

#[actix_web::test]
async fn a_sqlite_targets_tables_come_back_in_main_and_are_cached_until_refresh() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let dev = app.user_with_role("developer").await;
    let (id, path) = sqlite_target(&app, &admin, "catalog").await;
    let file = rusqlite::Connection::open(&path).expect("open");
    file.execute_batch("CREATE TABLE cat_first (a INTEGER, b TEXT)")
        .expect("create");
    let first = schema(&app, &dev, id, "").await;
    assert_eq!(first["default_schema"], "main");
    assert_eq!(first["schemas"], json!(["main"]));
    assert!(has_table(&first, "main", "cat_first", "table"), "{first}");
    assert_eq!(
        columns_of(&first, "cat_first"),
        [("a".into(), "INTEGER".into()), ("b".into(), "TEXT".into())]
    );

    // Made after the first read: the cache does not know it; a refresh does.
    file.execute_batch("CREATE TABLE cat_second (c REAL)")
        .expect("create");
    let cached = schema(&app, &dev, id, "").await;
    assert_eq!(cached, first, "answered from the cache");
    assert!(!has_table(&cached, "main", "cat_second", "table"));
    let audited = app
        .audit(&format!(
            "action=read_schema&object_type=target&object_id={id}"
        ))
        .await;
    assert_eq!(audited.len(), 1, "only the read of the target: {audited:?}");
    assert_eq!(audited[0]["success"], true);
    assert_eq!(audited[0]["detail"]["tables"], 1, "{audited:?}");

    let fresh = schema(&app, &dev, id, "?refresh=true").await;
    assert!(has_table(&fresh, "main", "cat_second", "table"), "{fresh}");
    assert_ne!(fresh["fetched_at"], first["fetched_at"]);
    let audited = app
        .audit(&format!(
            "action=read_schema&object_type=target&object_id={id}"
        ))
        .await;
    assert_eq!(audited.len(), 2, "{audited:?}");
}

#[actix_web::test]
async fn an_edited_target_is_not_answered_from_the_cache_of_its_old_settings() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, path) = sqlite_target(&app, &admin, "before").await;
    let file = rusqlite::Connection::open(&path).expect("open");
    file.execute_batch("CREATE TABLE cat_old (a INTEGER)")
        .expect("create");
    let before = schema(&app, &admin, id, "").await;
    assert!(has_table(&before, "main", "cat_old", "table"));
    let other = app.sqlite_path("after.db");
    rusqlite::Connection::open(&other)
        .expect("open")
        .execute_batch("CREATE TABLE cat_new (b TEXT)")
        .expect("create");
    let r = app
        .put_json(
            &format!("/api/targets/{id}"),
            Some(&admin),
            json!({"name": "before", "engine": "sqlite", "database": other}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after = schema(&app, &admin, id, "").await;
    assert!(has_table(&after, "main", "cat_new", "table"), "{after}");
    assert!(!has_table(&after, "main", "cat_old", "table"), "{after}");
}

#[actix_web::test]
async fn who_does_not_run_queries_is_refused_alike_for_every_id_and_a_missing_target_is_404() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, _) = sqlite_target(&app, &admin, "guarded").await;
    let viewer = app.user_with_role("viewer").await;
    let on_real = expect_error(
        app.get(&format!("/api/targets/{id}/schema"), Some(&viewer))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let on_missing = expect_error(
        app.get("/api/targets/999999/schema", Some(&viewer)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        on_real, on_missing,
        "the answer does not tell which ids exist"
    );
    // A client of its own: the app's client keeps the last login's cookie.
    let anonymous = crate::helpers::client()
        .get(app.url(&format!("/api/targets/{id}/schema")))
        .send()
        .await
        .expect("send");
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let dev = app.user_with_role("developer").await;
    let missing = expect_error(
        app.get("/api/targets/999999/schema", Some(&dev)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(missing["reason"], "not_found");
    expect_error(
        app.get(
            &format!("/api/targets/{id}/schema?refresh=maybe"),
            Some(&dev),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    let audited = app.audit("action=read_schema").await;
    assert!(audited.is_empty(), "no target was read: {audited:?}");
}

#[actix_web::test]
async fn a_target_that_is_down_or_refuses_the_login_is_a_502_with_its_message_and_audited() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let down = create_target(
        &app,
        &admin,
        json!({"name": "down", "engine": "postgres", "host": "127.0.0.1", "port": 1,
               "database": "x", "username": "postgres", "trusted_for_queries": true}),
    )
    .await;
    let body = expect_error(
        app.get(&format!("/api/targets/{down}/schema"), Some(&admin))
            .await,
        StatusCode::BAD_GATEWAY,
        "target_failed",
    )
    .await;
    assert_eq!(body["reason"], "schema_unreadable", "{body}");
    assert_eq!(body["params"]["target"], "down");
    let detail = body["params"]["detail"].as_str().unwrap_or("");
    assert!(!detail.is_empty(), "{body}");

    let db = MariaDb::new("refused");
    let refused = create_target(
        &app,
        &admin,
        json!({"name": "refused", "engine": "mysql", "host": "127.0.0.1", "port": 3306,
               "database": db.0, "username": "root", "password": "not-the-password",
               "trusted_for_queries": true}),
    )
    .await;
    let body = expect_error(
        app.get(&format!("/api/targets/{refused}/schema"), Some(&admin))
            .await,
        StatusCode::BAD_GATEWAY,
        "target_failed",
    )
    .await;
    let message = body["message"].as_str().unwrap_or("");
    assert!(
        message.contains("Access denied"),
        "the database's words: {body}"
    );
    assert!(!message.contains("not-the-password"), "{body}");

    let audited = app.audit("action=read_schema").await;
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(audited.iter().all(|e| e["success"] == false), "{audited:?}");
}

#[actix_web::test]
async fn a_catalog_past_the_column_cap_is_cut_and_says_so() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, path) = sqlite_target(&app, &admin, "wide").await;
    let file = rusqlite::Connection::open(&path).expect("open");
    // 21 tables of 1,000 columns: 21,000 columns, past the cap of 20,000.
    let cols: Vec<String> = (0..1000).map(|i| format!("c{i} INTEGER")).collect();
    for t in 0..21 {
        file.execute_batch(&format!("CREATE TABLE w{t:02} ({})", cols.join(", ")))
            .expect("create");
    }
    let s = schema(&app, &admin, id, "").await;
    assert_eq!(s["truncated"], true);
    assert_eq!(s["columns"].as_array().expect("columns").len(), 20_000);
    assert_eq!(
        s["tables"].as_array().expect("tables").len(),
        21,
        "tables are under their cap"
    );
    assert!(
        columns_of(&s, "w20").is_empty(),
        "the last table's columns were cut"
    );
}

/// A relay to the local PostgreSQL that, while closed, holds every new connection until it is
/// opened; it counts the connections made to it.
struct Gate {
    port: u16,
    open: Arc<(Mutex<bool>, Condvar)>,
    connections: Arc<AtomicUsize>,
}

impl Gate {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let open = Arc::new((Mutex::new(true), Condvar::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (o, n) = (open.clone(), connections.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                n.fetch_add(1, Ordering::SeqCst);
                let o = o.clone();
                std::thread::spawn(move || {
                    let (lock, opened) = &*o;
                    let mut is_open = lock.lock().expect("gate");
                    while !*is_open {
                        is_open = opened.wait(is_open).expect("gate");
                    }
                    drop(is_open);
                    let Ok(server) = TcpStream::connect("127.0.0.1:5432") else {
                        return;
                    };
                    let (Ok(mut c_in), Ok(mut s_out)) = (client.try_clone(), server.try_clone())
                    else {
                        return;
                    };
                    let up = std::thread::spawn(move || {
                        let _ = io::copy(&mut c_in, &mut s_out);
                        let _ = s_out.shutdown(Shutdown::Both);
                    });
                    let (mut s_in, mut c_out) = (server, client);
                    let _ = io::copy(&mut s_in, &mut c_out);
                    let _ = c_out.shutdown(Shutdown::Both);
                    let _ = up.join();
                });
            }
        });
        Self {
            port,
            open,
            connections,
        }
    }

    fn set_open(&self, open: bool) {
        let (lock, opened) = &*self.open;
        *lock.lock().expect("gate") = open;
        opened.notify_all();
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

#[actix_web::test]
async fn requests_while_a_target_is_read_share_that_read_and_its_audit_entry() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let dev = app.user_with_role("developer").await;
    let db = PgDb::new("catalog_shared");
    pg_admin_db(&db.0, "CREATE TABLE shared_orders (order_id bigint)");
    let gate = Gate::new();
    let id = create_target(
        &app,
        &admin,
        json!({"name": db.0, "engine": "postgres", "host": "127.0.0.1", "port": gate.port,
               "database": db.0, "username": "postgres", "trusted_for_queries": true}),
    )
    .await;
    // The save's account check went through; from here on a read is held at the relay.
    gate.set_open(false);
    let before = gate.connections();

    // Five editors open at once, one asking for a fresh read: the first read is held at the
    // relay until all five wait on it.
    let asks = (0..5).map(|i| {
        let query = if i == 4 { "?refresh=true" } else { "" };
        schema(&app, &dev, id, query)
    });
    let (answers, ()) = tokio::join!(join_all(asks), async {
        let deadline = Instant::now() + Duration::from_secs(20);
        while app.ctx.catalogs.readers(id) < 5 {
            assert!(
                Instant::now() < deadline,
                "5 requests share one read: {} do",
                app.ctx.catalogs.readers(id)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        gate.set_open(true);
    });
    for s in &answers {
        assert!(has_table(s, "public", "shared_orders", "table"), "{s}");
        assert_eq!(s["fetched_at"], answers[0]["fetched_at"], "one read");
    }
    let shared = gate.connections() - before;
    let audited = app
        .audit(&format!(
            "action=read_schema&object_type=target&object_id={id}"
        ))
        .await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(app.ctx.catalogs.readers(id), 0, "the read is over");

    // The next one is answered from the cache; a refresh reads again, on its own.
    assert_eq!(schema(&app, &dev, id, "").await, answers[0]);
    let fresh = schema(&app, &dev, id, "?refresh=true").await;
    assert_ne!(fresh["fetched_at"], answers[0]["fetched_at"]);
    let one_read = gate.connections() - before - shared;
    assert!(one_read > 0);
    assert_eq!(
        shared, one_read,
        "five requests cost the connections of one read"
    );
}
