//! `spawn_app()`: a running AutoDB with a fresh store, and a client that speaks to it.

use std::sync::atomic::{AtomicU32, Ordering};

use autodb::config::Settings;
use autodb::startup::{self, Application};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-42";
/// The machine's PostgreSQL, used as a store and as a target.
pub const PG_ADMIN_URL: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub store: String,
    pub dir: tempfile::TempDir,
    /// The folder SQLite targets go in (`targets.sqlite_dirs`), apart from the store's folder.
    pub sqlite_dir: tempfile::TempDir,
    /// The app's own context: its login brake's counters are read by the attack tests.
    pub ctx: autodb::services::Ctx,
    pg_database: Option<String>,
}

/// Which store backend this run tests: `sqlite` (default) or `postgres`.
pub fn store_backend() -> String {
    std::env::var("AUTODB_TEST_STORE").unwrap_or_else(|_| "sqlite".into())
}

/// A name no other test (nor another run of the suite) uses: prefix, process id, counter.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `sql` on the machine's PostgreSQL as the superuser, on a plain thread (the sync
/// client must not run on the test's async runtime).
pub fn pg_admin(sql: &str) -> Result<(), String> {
    let sql = sql.to_string();
    std::thread::spawn(move || {
        let mut c =
            postgres::Client::connect(PG_ADMIN_URL, postgres::NoTls).map_err(|e| e.to_string())?;
        c.batch_execute(&sql).map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| "pg thread panicked".to_string())?
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&store_backend(), |_| {}).await
}

pub async fn spawn_app_with(backend: &str, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_ctx(backend, tweak, |_| {}).await
}

/// [`spawn_app_with`], with the context adjusted before the app starts (a hand-set clock).
pub async fn spawn_app_ctx(
    backend: &str,
    tweak: impl FnOnce(&mut Settings),
    adjust: impl FnOnce(&mut autodb::services::Ctx),
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite_dir = tempfile::tempdir().expect("tempdir");
    let (url, pg_database) = match backend {
        "postgres" => {
            let db = unique("autodb_store");
            pg_admin(&format!("CREATE DATABASE {db}")).expect("create store database");
            (format!("postgres://postgres@127.0.0.1:5432/{db}"), Some(db))
        }
        _ => (
            format!("sqlite://{}", dir.path().join("autodb.db").display()),
            None,
        ),
    };
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.database.url = url;
    settings.database.connect_timeout_s = 2;
    settings.security.secret_key_file = dir.path().join("secret.key").display().to_string();
    // SQLite targets: their own folder, and the temporary folder (never the store's).
    settings.targets.sqlite_dirs = vec![sqlite_dir.path().to_path_buf(), std::env::temp_dir()];
    tweak(&mut settings);
    let mut ctx = startup::context(settings, true).expect("context");
    adjust(&mut ctx);
    autodb::services::users::create_blocking(
        &ctx.store,
        None,
        ADMIN,
        &ADMIN_PASSWORD.to_string().into(),
        autodb::services::Role::Admin,
    )
    .expect("admin user");
    let app = Application::build(ctx.clone()).await.expect("build");
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: client(),
        store: backend.to_string(),
        dir,
        sqlite_dir,
        ctx,
        pg_database,
    }
}

/// A second AutoDB process (in this test process) sharing `first`'s store and key.
pub async fn spawn_second(first: &TestApp, tweak: impl FnOnce(&mut Settings)) -> String {
    spawn_second_ctx(first, tweak, |_| {}).await.0
}

/// [`spawn_second`], with its context adjusted before it starts; returns the context too.
pub async fn spawn_second_ctx(
    first: &TestApp,
    tweak: impl FnOnce(&mut Settings),
    adjust: impl FnOnce(&mut autodb::services::Ctx),
) -> (String, autodb::services::Ctx) {
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.workers = 1;
    settings.database.url = match &first.pg_database {
        Some(db) => format!("postgres://postgres@127.0.0.1:5432/{db}"),
        None => format!("sqlite://{}", first.dir.path().join("autodb.db").display()),
    };
    settings.security.secret_key_file = first.dir.path().join("secret.key").display().to_string();
    settings.targets.sqlite_dirs =
        vec![first.sqlite_dir.path().to_path_buf(), std::env::temp_dir()];
    tweak(&mut settings);
    let mut ctx = startup::context(settings, false).expect("context");
    adjust(&mut ctx);
    let app = Application::build(ctx.clone()).await.expect("build");
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    (base, ctx)
}

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(db) = &self.pg_database {
            let _ = pg_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A path for a SQLite target file, inside the allowed folder.
    pub fn sqlite_path(&self, name: &str) -> std::path::PathBuf {
        self.sqlite_dir.path().join(name)
    }

    pub fn pg_database(&self) -> Option<&str> {
        self.pg_database.as_deref()
    }

    /// Logs in and returns the bearer token.
    pub async fn login(&self, user: &str, password: &str) -> String {
        let r = self
            .post_json(
                "/api/auth/login",
                None,
                json!({"username": user, "password": password}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "login as {user}");
        let body: Value = r.json().await.expect("json");
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN, ADMIN_PASSWORD).await
    }

    /// Creates a user with `role` and returns a bearer token for it.
    pub async fn user_with_role(&self, role: &str) -> String {
        let admin = self.admin_token().await;
        let name = unique(role);
        let password = "a-long-enough-password";
        let r = self
            .post_json(
                "/api/users",
                Some(&admin),
                json!({"username": name, "password": password, "role": role}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        self.login(&name, password).await
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }

    /// The newest audit entries (admin view).
    pub async fn audit(&self, query: &str) -> Vec<Value> {
        let token = self.admin_token().await;
        let r = self.get(&format!("/api/audit?{query}"), Some(&token)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let page: Value = r.json().await.expect("json");
        page["items"].as_array().expect("items").clone()
    }
}

/// Asserts status and the error code, and returns the body.
/// The whole body of an event stream at `path`, which must end within `secs`.
pub async fn stream_body(app: &TestApp, token: &str, path: &str, secs: u64) -> String {
    tokio::time::timeout(std::time::Duration::from_secs(secs), async {
        app.client
            .get(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("send")
            .text()
            .await
            .expect("body")
    })
    .await
    .unwrap_or_else(|_| panic!("the stream at {path} did not end within {secs} s"))
}

/// A body that breaks the API document (a bound, pattern, type or unknown field it states).
pub const BREAKS_DOC: reqwest::StatusCode = reqwest::StatusCode::BAD_REQUEST;
/// A body the document allows whose content the service refuses (an id of nothing, SQL that is
/// not a query, a cron field out of range).
pub const REFUSED: reqwest::StatusCode = reqwest::StatusCode::UNPROCESSABLE_ENTITY;

pub async fn expect_error(r: Response, status: StatusCode, code: &str) -> Value {
    let got = r.status();
    let body: Value = r.json().await.expect("error body is JSON");
    assert_eq!(got, status, "body: {body}");
    assert_eq!(body["error"], code, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
    body
}

/// Where a test's store lives, for the attacker who reaches it past AutoDB.
pub enum StoreFile {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl StoreFile {
    pub fn of(app: &TestApp) -> Self {
        match app.pg_database() {
            Some(db) => Self::Postgres(db.to_string()),
            None => Self::Sqlite(app.dir.path().join("autodb.db")),
        }
    }

    /// Runs `sql` on the store as its superuser would: the append-only triggers dropped
    /// (SQLite) or disabled for the session (PostgreSQL).
    pub fn tamper(&self, sql: &str) {
        let sql = sql.to_string();
        match self {
            Self::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).expect("open the store file");
                c.execute_batch(&format!(
                    "DROP TRIGGER IF EXISTS audit_log_no_update; \
                     DROP TRIGGER IF EXISTS audit_log_no_delete; {sql}"
                ))
                .expect("tamper");
            }
            Self::Postgres(db) => {
                let url = format!("host=127.0.0.1 port=5432 user=postgres dbname={db}");
                std::thread::spawn(move || {
                    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                    c.batch_execute(&format!("SET session_replication_role = replica; {sql}"))
                        .expect("tamper");
                })
                .join()
                .expect("pg thread");
            }
        }
    }
}
