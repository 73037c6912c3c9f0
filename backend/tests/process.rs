//! Process-level tests: the real `autodb` binary, its command line, and what it writes to disk
//! and to its log.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_autodb");

fn autodb(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "debug")
        .env(
            "AUTODB__DATABASE__URL",
            format!("sqlite://{}", dir.join("autodb.db").display()),
        )
        .env("AUTODB__SECURITY__SECRET_KEY_FILE", dir.join("secret.key"))
        .env("AUTODB__SERVER__BIND", "127.0.0.1:0")
        .current_dir(dir);
    c
}

fn create_user(dir: &Path, name: &str, password: &str) -> std::process::Output {
    create_user_with(dir, name, password, &[])
}

fn create_user_with(
    dir: &Path,
    name: &str,
    password: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut child = autodb(dir)
        .envs(env.iter().copied())
        .args([
            "user",
            "create",
            name,
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    writeln!(child.stdin.take().expect("stdin"), "{password}").expect("write");
    child.wait_with_output().expect("wait")
}

/// A running `autodb serve`; its whole log is collected until it is stopped.
struct Server {
    child: Child,
    port: u16,
    log: mpsc::Receiver<String>,
}

impl Server {
    fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[])
    }

    fn start_with(dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = autodb(dir)
            .envs(env.iter().copied())
            .arg("serve")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut port = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut early = vec![];
        while port.is_none() && std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                port = line
                    .split("(port ")
                    .nth(1)
                    .and_then(|r| r.split(')').next())
                    .and_then(|p| p.parse().ok());
                early.push(line);
            }
        }
        let port = port.unwrap_or_else(|| panic!("server did not start: {early:?}"));
        let (tx2, rx2) = mpsc::channel();
        for l in early {
            let _ = tx2.send(l);
        }
        std::thread::spawn(move || {
            for l in rx {
                let _ = tx2.send(l);
            }
        });
        Self {
            child,
            port,
            log: rx2,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut log = String::new();
        while let Ok(l) = self.log.recv_timeout(Duration::from_millis(500)) {
            log.push_str(&l);
            log.push('\n');
        }
        log
    }
}

/// A test that fails before `stop` leaves no server behind (kill of a reaped child is a no-op).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mariadb_user(name: &str, password: &str) {
    use mysql::prelude::Queryable;
    let mut c = mysql::Conn::new(
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(3306)
            .user(Some("root")),
    )
    .expect("mariadb");
    c.query_drop(format!("DROP USER IF EXISTS '{name}'@'%'"))
        .expect("drop");
    c.query_drop(format!(
        "CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'"
    ))
    .expect("create");
}

#[test]
fn a_target_password_appears_nowhere_in_the_store_file_the_answers_or_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = format!("Zq7-secret-{}", std::process::id());
    let admin_pw = format!("admin-pw-{}", std::process::id());
    let maria_user = format!("autodb_sec_{}", std::process::id());
    mariadb_user(&maria_user, &secret);
    assert!(create_user(dir.path(), "admin", &admin_pw).status.success());

    let server = Server::start(dir.path());
    let http = reqwest::blocking::Client::new();
    let mut answers = String::new();
    let mut call = |req: reqwest::blocking::RequestBuilder| -> Value {
        let text = req.send().expect("send").text().expect("text");
        answers.push_str(&text);
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    let login = call(
        http.post(server.url("/api/auth/login"))
            .json(&json!({"username": "admin", "password": admin_pw})),
    );
    let token = login["token"].as_str().expect("token").to_string();
    let target = call(
        http.post(server.url("/api/targets"))
            .bearer_auth(&token)
            .json(&json!({
        "name": "maria", "engine": "mysql", "host": "127.0.0.1", "port": 3306,
        "database": "", "username": maria_user, "password": secret, "tags": ["sec"]})),
    );
    let id = target["id"].as_i64().expect("target id");
    let tested = call(
        http.post(server.url(&format!("/api/targets/{id}/test")))
            .bearer_auth(&token),
    );
    assert_eq!(
        tested["ok"], true,
        "the sealed password opens and logs in: {tested}"
    );
    call(
        http.put(server.url(&format!("/api/targets/{id}")))
            .bearer_auth(&token)
            .json(&json!({
        "name": "maria", "engine": "mysql", "host": "127.0.0.1", "port": 3306,
        "database": "", "username": maria_user, "password": secret})),
    );
    call(http.get(server.url("/api/targets")).bearer_auth(&token));
    call(
        http.get(server.url(&format!("/api/targets/{id}")))
            .bearer_auth(&token),
    );
    call(http.get(server.url("/api/audit")).bearer_auth(&token));
    let log = server.stop();

    assert!(log.contains("/api/targets"), "the log was captured: {log}");
    for (what, haystack) in [("answers", answers.as_bytes()), ("log", log.as_bytes())] {
        assert!(
            !contains(haystack, secret.as_bytes()),
            "target password in the {what}"
        );
        assert!(
            !contains(haystack, admin_pw.as_bytes()),
            "login password in the {what}"
        );
    }
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("autodb.db"))
        {
            let bytes = std::fs::read(&path).expect("read store file");
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "password in {}",
                path.display()
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn check_config_names_an_unknown_key_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("autodb.toml");
    std::fs::write(&conf, "[engine]\nmax_paralel_runs = 4\n").expect("write");
    let out = autodb(dir.path())
        .args(["check-config", "--config"])
        .arg(&conf)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_paralel_runs"), "{err}");
}

#[test]
fn check_config_passes_on_the_example_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/autodb.example.toml");
    let out = autodb(dir.path())
        .args(["check-config", "--config"])
        .arg(&example)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK"));
}

#[test]
fn user_create_needs_a_password_and_refuses_a_duplicate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = autodb(dir.path())
        .args(["user", "create", "ops", "--role", "operator"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AUTODB_PASSWORD"));
    let ok = autodb(dir.path())
        .args(["user", "create", "ops", "--role", "operator"])
        .env("AUTODB_PASSWORD", "ops-password-1")
        .output()
        .expect("run");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let again = create_user(dir.path(), "ops", "ops-password-2");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let list = autodb(dir.path())
        .args(["user", "list"])
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).trim(),
        "ops\toperator\tactive"
    );
}

#[test]
fn audit_verify_exits_0_on_an_intact_log_and_1_naming_a_deleted_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, password) in [
        ("root", "root-password-1"),
        ("ops", "ops-password-1"),
        ("dba", "dba-password-1"),
    ] {
        let out = create_user(dir.path(), name, password);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let intact = autodb(dir.path())
        .args(["audit", "verify"])
        .output()
        .expect("run");
    assert_eq!(
        intact.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).contains("intact"));

    // The store's owner deletes the second entry past the append-only triggers.
    let store = rusqlite::Connection::open(dir.path().join("autodb.db")).expect("open");
    store
        .execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = 2;")
        .expect("tamper");
    drop(store);
    let broken = autodb(dir.path())
        .args(["audit", "verify"])
        .output()
        .expect("run");
    assert_eq!(broken.status.code(), Some(1));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&broken.stdout),
        String::from_utf8_lossy(&broken.stderr)
    );
    assert!(
        said.contains("entry 2") && said.contains("missing"),
        "{said}"
    );
    let json = autodb(dir.path())
        .args(["audit", "verify", "--json"])
        .output()
        .expect("run");
    assert_eq!(json.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad"]["id"], 2);
    assert_eq!(report["first_bad"]["problem"], "missing");
}

#[test]
fn openapi_prints_the_document() {
    let out = Command::new(BIN).arg("openapi").output().expect("run");
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(doc["paths"]["/api/targets/{id}/test"]["post"].is_object());
}

fn pg(db: &str, sql: &str) -> Vec<postgres::Row> {
    let (db, sql) = (db.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(
            &format!("host=127.0.0.1 user=postgres dbname={db}"),
            postgres::NoTls,
        )
        .expect("connect");
        c.query(&sql, &[]).expect("query")
    })
    .join()
    .expect("thread")
}

fn wait_until<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills the server with SIGKILL while a statement runs, restarts it, and checks that no run is
/// left `running` and the waiting runs complete. `store_env` picks the metadata store.
fn a_kill_9_mid_job_leaves_nothing_running(store_env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let target_db = format!("autodb_kill_{}_{}", std::process::id(), store_env.len());
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    );
    pg("postgres", &format!("CREATE DATABASE {target_db}"));
    assert!(
        create_user_with(dir.path(), "admin", "admin-password-9", store_env)
            .status
            .success()
    );
    let server = Server::start_with(dir.path(), store_env);
    let http = reqwest::blocking::Client::new();
    let login: Value = http
        .post(server.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": "admin-password-9"}))
        .send()
        .and_then(|r| r.json())
        .expect("login");
    let token = login["token"].as_str().expect("token").to_string();
    let target: Value = http
        .post(server.url("/api/targets"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "pg", "engine": "postgres", "host": "127.0.0.1", "port": 5432,
            "database": target_db, "username": "postgres"}),
        )
        .send()
        .and_then(|r| r.json())
        .expect("target");
    let job: Value = http
        .post(server.url("/api/jobs"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "crash", "on_error": "continue", "scripts": [
            {"sql": "SELECT pg_sleep(8)", "target_ids": [target["id"]]},
            {"sql": "CREATE TABLE after_restart (id int)", "target_ids": [target["id"]]}]}),
        )
        .send()
        .and_then(|r| r.json())
        .expect("job");
    let id = job["id"].as_i64().expect("job id");
    let sleeping = format!(
        "SELECT 1 FROM pg_stat_activity WHERE datname = '{target_db}' AND query LIKE '%pg_sleep(8)%' AND state = 'active'"
    );
    wait_until(20, "the statement to run", || {
        (!pg("postgres", &sleeping).is_empty()).then_some(())
    });
    server.stop(); // SIGKILL

    let server = Server::start_with(dir.path(), store_env);
    let job_url = server.url(&format!("/api/jobs/{id}"));
    let done: Value = wait_until(60, "the job to end after the restart", || {
        let j: Value = http
            .get(&job_url)
            .bearer_auth(&token)
            .send()
            .ok()?
            .json()
            .ok()?;
        j["finished_at"].is_string().then_some(j)
    });
    let all = done.to_string();
    assert!(!all.contains("\"status\":\"running\""), "{all}");
    let first = &done["scripts"][0]["runs"][0];
    assert_eq!(first["status"], "error", "{done}");
    assert!(
        first["error"]
            .as_str()
            .expect("error")
            .contains("interrupted"),
        "{done}"
    );
    assert_eq!(done["scripts"][1]["runs"][0]["status"], "success", "{done}");
    let made = pg(
        &target_db,
        "SELECT 1 FROM pg_tables WHERE tablename = 'after_restart'",
    );
    assert_eq!(made.len(), 1);
    server.stop();
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    );
}

#[test]
fn a_kill_9_mid_job_then_restart_on_sqlite_leaves_no_run_running() {
    a_kill_9_mid_job_leaves_nothing_running(&[]);
}

#[test]
fn a_kill_9_mid_job_then_restart_on_postgresql_reclaims_the_run_by_its_lease() {
    let store = format!("autodb_kill_store_{}", std::process::id());
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {store} WITH (FORCE)"),
    );
    pg("postgres", &format!("CREATE DATABASE {store}"));
    let url = format!("postgres://postgres@127.0.0.1:5432/{store}");
    a_kill_9_mid_job_leaves_nothing_running(&[
        ("AUTODB__DATABASE__URL", &url),
        ("AUTODB__ENGINE__LEASE_S", "2"),
        ("AUTODB__ENGINE__POLL_MS", "200"),
    ]);
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {store} WITH (FORCE)"),
    );
}

/// Logs in as the admin and sends `body` to `path`, answering the JSON.
fn admin_call(server: &Server, token: &str, path: &str, body: Value) -> Value {
    reqwest::blocking::Client::new()
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .and_then(|r| r.json())
        .unwrap_or(Value::Null)
}

fn login(server: &Server, user: &str, password: &str) -> String {
    let v = admin_call(
        server,
        "",
        "/api/auth/login",
        json!({"username": user, "password": password}),
    );
    v["token"].as_str().expect("token").to_string()
}

fn wait_job_end(server: &Server, token: &str, id: i64, secs: u64) -> Value {
    let http = reqwest::blocking::Client::new();
    let url = server.url(&format!("/api/jobs/{id}"));
    wait_until(secs, "the job to end", || {
        let j: Value = http.get(&url).bearer_auth(token).send().ok()?.json().ok()?;
        j["finished_at"].is_string().then_some(j)
    })
}

#[test]
fn a_password_in_a_job_script_appears_nowhere_in_the_debug_log_or_the_store_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid = std::process::id();
    let target_db = format!("autodb_seal_{pid}");
    let role = format!("autodb_seal_role_{pid}");
    let pg_pw = format!("S3cretLogPg{pid}");
    let my_user = format!("autodb_seal_{pid}");
    let my_pw = format!("S3cretLogMy{pid}");
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    );
    pg("postgres", &format!("CREATE DATABASE {target_db}"));
    assert!(create_user(dir.path(), "admin", "admin-password-7")
        .status
        .success());
    let server = Server::start(dir.path());
    let token = login(&server, "admin", "admin-password-7");
    let pg_target = admin_call(
        &server,
        &token,
        "/api/targets",
        json!({"name": "pg",
        "engine": "postgres", "host": "127.0.0.1", "port": 5432, "database": target_db,
        "username": "postgres"}),
    );
    let my_target = admin_call(
        &server,
        &token,
        "/api/targets",
        json!({"name": "maria",
        "engine": "mysql", "host": "127.0.0.1", "port": 3306, "database": "",
        "username": "root"}),
    );
    admin_call(
        &server,
        &token,
        "/api/users",
        json!({"username": "viewer",
        "password": "viewer-password-7", "role": "viewer"}),
    );
    let job = admin_call(
        &server,
        &token,
        "/api/jobs",
        json!({"name": "seal",
        "on_error": "continue", "scripts": [
        {"sql": format!("CREATE ROLE {role} PASSWORD '{pg_pw}'"), "target_ids": [pg_target["id"]]},
        {"sql": format!("CREATE USER '{my_user}'@'%' IDENTIFIED BY '{my_pw}'"),
         "target_ids": [my_target["id"]]}]}),
    );
    let id = job["id"].as_i64().expect("job id");
    let done = wait_job_end(&server, &token, id, 60);
    let viewer = login(&server, "viewer", "viewer-password-7");
    let http = reqwest::blocking::Client::new();
    let mut answers = done.to_string();
    for path in [format!("/api/jobs/{id}"), "/api/audit".to_string()] {
        answers.push_str(
            &http
                .get(server.url(&path))
                .bearer_auth(&viewer)
                .send()
                .and_then(|r| r.text())
                .unwrap_or_default(),
        );
    }
    let log = server.stop();
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    );
    pg("postgres", &format!("DROP ROLE IF EXISTS {role}"));
    {
        use mysql::prelude::Queryable;
        let mut c = mysql::Conn::new(
            mysql::OptsBuilder::new()
                .ip_or_hostname(Some("127.0.0.1"))
                .tcp_port(3306)
                .user(Some("root")),
        )
        .expect("mariadb");
        c.query_drop(format!("DROP USER IF EXISTS '{my_user}'@'%'"))
            .expect("drop");
    }
    assert_eq!(done["status"], "success", "{done}");
    assert!(log.contains("/api/jobs"), "the log was captured");
    for pw in [&pg_pw, &my_pw] {
        assert!(
            !answers.contains(pw.as_str()),
            "{pw} in an answer: {answers}"
        );
        assert!(
            !contains(log.as_bytes(), pw.as_bytes()),
            "{pw} in the debug log"
        );
        for entry in std::fs::read_dir(dir.path()).expect("dir") {
            let path = entry.expect("entry").path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("autodb.db"))
            {
                let bytes = std::fs::read(&path).expect("read store file");
                assert!(
                    !contains(&bytes, pw.as_bytes()),
                    "{pw} in {}",
                    path.display()
                );
            }
        }
    }
}

/// Peak resident memory of a process, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(target_os = "linux")]
#[test]
fn a_job_raising_200000_notices_does_not_hold_them_in_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target_db = format!("autodb_flood_{}", std::process::id());
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    );
    pg("postgres", &format!("CREATE DATABASE {target_db}"));
    assert!(create_user(dir.path(), "admin", "admin-password-8")
        .status
        .success());
    let server = Server::start_with(dir.path(), &[("RUST_LOG", "info")]);
    let token = login(&server, "admin", "admin-password-8");
    let target = admin_call(
        &server,
        &token,
        "/api/targets",
        json!({"name": "pg",
        "engine": "postgres", "host": "127.0.0.1", "port": 5432, "database": target_db,
        "username": "postgres"}),
    );
    let before = peak_rss_kib(server.child.id());
    let sql =
        "DO $$ BEGIN FOR i IN 1..200000 LOOP RAISE NOTICE '%', repeat('x',400); END LOOP; END $$;";
    let job = admin_call(
        &server,
        &token,
        "/api/jobs",
        json!({"name": "flood",
        "scripts": [{"sql": sql, "target_ids": [target["id"]]}]}),
    );
    let done = wait_job_end(&server, &token, job["id"].as_i64().expect("id"), 180);
    let after = peak_rss_kib(server.child.id());
    server.stop();
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    );
    assert_eq!(done["status"], "success", "{done}");
    assert!(before > 0, "VmHWM readable");
    // 200,000 notices of 400 bytes are 80 MB; what is kept is at most a few MiB.
    assert!(
        after.saturating_sub(before) < 40 * 1024,
        "peak memory grew by {} KiB",
        after - before
    );
}

fn maria_login(user: &str, password: &str) -> bool {
    use mysql::prelude::Queryable;
    mysql::Conn::new(
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(3306)
            .prefer_socket(false)
            .user(Some(user))
            .pass(Some(password)),
    )
    .and_then(|mut c| c.query_drop("SELECT 1"))
    .is_ok()
}

/// `kill -9` during an active swap grant, a restart after its expiry: the original password is
/// back within 5 s of the start. The temporary password is in no log line (debug level), no
/// answer but the one that handed it over, and nowhere in the store file.
#[test]
fn a_grant_survives_kill_9_and_its_password_appears_nowhere_in_the_log_or_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid = std::process::id();
    let (account, original) = (format!("autodb_gacct_{pid}"), format!("orig-{pid}-pw"));
    let admin_db_user = format!("autodb_gadm_{pid}");
    mariadb_user(&account, &original);
    mariadb_user(&admin_db_user, "gadm-pass-1");
    {
        use mysql::prelude::Queryable;
        let mut c = mysql::Conn::new(
            mysql::OptsBuilder::new()
                .ip_or_hostname(Some("127.0.0.1"))
                .tcp_port(3306)
                .user(Some("root")),
        )
        .expect("mariadb");
        c.query_drop(format!(
            "GRANT ALL PRIVILEGES ON *.* TO '{admin_db_user}'@'%' WITH GRANT OPTION"
        ))
        .expect("grant");
    }
    assert!(create_user(dir.path(), "admin", "admin-pw-grants")
        .status
        .success());
    let quick = [
        ("AUTODB__GRANTS__MIN_DURATION_S", "1"),
        ("AUTODB__ENGINE__POLL_MS", "100"),
    ];
    let server = Server::start_with(dir.path(), &quick);
    let token = login(&server, "admin", "admin-pw-grants");
    let target = admin_call(
        &server,
        &token,
        "/api/targets",
        json!({"name": "maria", "engine": "mysql", "host": "127.0.0.1", "port": 3306,
            "database": "", "username": admin_db_user, "password": "gadm-pass-1"}),
    );
    let policy = admin_call(
        &server,
        &token,
        "/api/grant-policies",
        json!({"name": "spt", "target_id": target["id"], "account": account, "mode": "swap",
            "max_duration_s": 600, "roles": ["operator"]}),
    );
    let g = admin_call(
        &server,
        &token,
        "/api/grants",
        json!({"policy_id": policy["id"], "duration_s": 2, "reason": "kill -9 test"}),
    );
    let password = g["password"]
        .as_str()
        .unwrap_or_else(|| panic!("{g}"))
        .to_string();
    assert!(
        maria_login(&account, &password),
        "the temporary password works"
    );
    let first_log = server.stop();
    let expires: chrono::DateTime<chrono::Utc> = g["expires_at"]
        .as_str()
        .expect("exp")
        .parse()
        .expect("time");
    wait_until(10, "the expiry", || {
        (chrono::Utc::now() > expires + chrono::Duration::milliseconds(300)).then_some(())
    });
    assert!(
        maria_login(&account, &password),
        "dead: nothing took it back"
    );
    let started = std::time::Instant::now();
    let server = Server::start_with(dir.path(), &quick);
    wait_until(10, "the original password to work again", || {
        maria_login(&account, &original).then_some(())
    });
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "restored {took:?} after the start"
    );
    assert!(
        !maria_login(&account, &password),
        "the temporary password is refused"
    );
    println!("restored {took:?} after the restart");
    let token = login(&server, "admin", "admin-pw-grants");
    let http = reqwest::blocking::Client::new();
    let mut answers = String::new();
    for path in ["/api/grants", "/api/audit?per_page=500"] {
        answers.push_str(
            &http
                .get(server.url(path))
                .bearer_auth(&token)
                .send()
                .and_then(|r| r.text())
                .unwrap_or_default(),
        );
    }
    let log = format!("{first_log}{}", server.stop());
    assert!(
        log.contains("grant") || log.contains("/api/grants"),
        "the log was captured"
    );
    assert!(
        !log.contains(&password),
        "the temporary password is in the log"
    );
    assert!(answers.contains("\"restore\"") && !answers.contains(&password));
    for f in ["autodb.db", "autodb.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
            assert!(
                !contains(&bytes, password.as_bytes()),
                "{f} holds the password"
            );
        }
    }
    use mysql::prelude::Queryable;
    if let Ok(mut c) = mysql::Conn::new(
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(3306)
            .user(Some("root")),
    ) {
        for u in [&account, &admin_db_user] {
            let _ = c.query_drop(format!("DROP USER IF EXISTS '{u}'@'%'"));
        }
    }
}

/// `autodb` with the same store and key as [`autodb`], run to its end.
fn autodb_run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    autodb(dir)
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("run autodb")
}

#[derive(diesel::QueryableByName)]
struct Integrity {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// The integrity check's verdict and the job ids of a SQLite store file.
fn inspect_store(file: &Path) -> (String, Vec<i64>) {
    use diesel::{Connection, RunQueryDsl};
    let mut c = diesel::SqliteConnection::establish(&file.display().to_string()).expect("open");
    let check: Vec<Integrity> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut c)
        .expect("integrity_check");
    let ids: Vec<Id> = diesel::sql_query("SELECT id FROM jobs ORDER BY id")
        .load(&mut c)
        .expect("job ids");
    (
        check
            .into_iter()
            .map(|r| r.integrity_check)
            .collect::<Vec<_>>()
            .join("; "),
        ids.into_iter().map(|r| r.id).collect(),
    )
}

#[test]
fn a_backup_taken_while_50_runs_write_is_intact_and_restore_refuses_a_running_store_or_a_foreign_key(
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let target_db = format!("autodb_backup_{}", std::process::id());
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    );
    pg("postgres", &format!("CREATE DATABASE {target_db}"));
    pg(
        &target_db,
        "CREATE TABLE writes (run int, at timestamptz DEFAULT now())",
    );
    let env = [
        ("AUTODB__ENGINE__MAX_PARALLEL_RUNS", "50"),
        ("AUTODB__ENGINE__MAX_PARALLEL_RUNS_PER_TARGET", "5"),
    ];
    assert!(create_user(dir.path(), "admin", "admin-password-9")
        .status
        .success());
    let server = Server::start_with(dir.path(), &env);
    let token = login(&server, "admin", "admin-password-9");
    let targets: Vec<Value> = (0..10)
        .map(|i| {
            admin_call(
                &server,
                &token,
                "/api/targets",
                json!({"name": format!("pg-{i}"), "engine": "postgres", "host": "127.0.0.1",
                    "port": 5432, "database": target_db, "username": "postgres"}),
            )["id"]
                .clone()
        })
        .collect();
    // Five jobs on ten targets: 50 runs, each writing to its target and to the store (its
    // start, its statements' progress, its end) while the backup is taken.
    let jobs: Vec<i64> = (0..5)
        .map(|j| {
            let job = admin_call(
                &server,
                &token,
                "/api/jobs",
                json!({"name": format!("writes {j}"), "on_error": "continue", "scripts": [{
                    "sql": format!("INSERT INTO writes (run) VALUES ({j});\nSELECT pg_sleep(2);\nINSERT INTO writes (run) VALUES ({j});"),
                    "target_ids": targets}]}),
            );
            job["id"].as_i64().unwrap_or_else(|| panic!("job {j}: {job}"))
        })
        .collect();
    let sleeping = format!(
        "SELECT 1 FROM pg_stat_activity WHERE datname = '{target_db}' AND query LIKE '%pg_sleep(2)%' AND state = 'active'"
    );
    wait_until(30, "50 runs in their statements", || {
        (pg("postgres", &sleeping).len() >= 50).then_some(())
    });

    let copy = dir.path().join("backup.db");
    let out = autodb_run(dir.path(), &["backup", copy.to_str().expect("path")], &[]);
    assert!(out.status.success(), "backup: {out:?}");
    let running = pg("postgres", &sleeping).len();
    assert!(running > 0, "the runs ended before the backup did");

    let (check, ids) = inspect_store(&copy);
    assert_eq!(check, "ok");
    for id in &jobs {
        assert!(
            ids.contains(id),
            "job {id} answered 201 before the backup began: {ids:?}"
        );
    }
    let meta = std::fs::read_to_string(dir.path().join("backup.db.meta.json")).expect("sidecar");
    let key = std::fs::read(dir.path().join("secret.key")).expect("key");
    assert!(
        !contains(meta.as_bytes(), &key),
        "the sidecar holds the key itself"
    );

    // Never over a store that a running server holds.
    let out = autodb_run(dir.path(), &["restore", copy.to_str().expect("path")], &[]);
    assert!(
        !out.status.success(),
        "restore over a running store: {out:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("running"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in &jobs {
        wait_job_end(&server, &token, *id, 60);
    }
    server.stop();

    // Never with another key than the one the backup was taken with.
    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, b"not the key the backup was taken with").expect("write key");
    let out = autodb_run(
        dir.path(),
        &["restore", copy.to_str().expect("path")],
        &[(
            "AUTODB__SECURITY__SECRET_KEY_FILE",
            other_key.to_str().expect("path"),
        )],
    );
    assert!(!out.status.success(), "restore with a foreign key: {out:?}");

    let out = autodb_run(dir.path(), &["restore", copy.to_str().expect("path")], &[]);
    assert!(out.status.success(), "restore: {out:?}");
    let (check, ids) = inspect_store(&dir.path().join("autodb.db"));
    assert_eq!(check, "ok");
    assert_eq!(ids, jobs);
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    );
}

#[test]
fn serve_tells_systemd_ready_once_it_answers_and_pings_the_watchdog_from_the_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let server = Server::start_with(
        dir.path(),
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().expect("path")),
            // A heartbeat a second.
            ("AUTODB__ENGINE__LEASE_S", "3"),
        ],
    );
    let mut buf = [0u8; 256];
    let mut next = || {
        let n = socket.recv(&mut buf).expect("a notification within 20 s");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let first = next();
    assert_eq!(first, "READY=1", "the first message");
    let health = reqwest::blocking::get(server.url("/api/health")).expect("health");
    assert!(health.status().is_success(), "ready but not answering");
    let mut pings = 0;
    while pings < 2 {
        let m = next();
        assert_eq!(m, "WATCHDOG=1", "after READY=1");
        pings += 1;
    }
    server.stop();
}

#[test]
fn with_log_format_json_every_line_is_an_object_and_a_requests_lines_carry_its_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start_with(dir.path(), &[("AUTODB__LOG__FORMAT", "json")]);
    let http = reqwest::blocking::Client::new();
    let r = http
        .get(server.url("/api/health"))
        .header("X-Request-Id", "abc")
        .send()
        .expect("health");
    assert_eq!(r.headers()["x-request-id"], "abc");
    // A refused login: its access line carries its own id.
    let r = http
        .post(server.url("/api/auth/login"))
        .header("X-Request-Id", "login-1")
        .json(&json!({"username": "nobody", "password": "not-the-password"}))
        .send()
        .expect("login");
    assert_eq!(r.status(), 401);
    let log = server.stop();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for l in &lines {
        for key in ["ts", "level", "target", "msg"] {
            assert!(l[key].is_string(), "{key} missing: {l}");
        }
    }
    let of = |id: &str| -> Vec<&Value> { lines.iter().filter(|l| l["request_id"] == id).collect() };
    let health = of("abc");
    assert_eq!(health.len(), 1, "{log}");
    assert_eq!(health[0]["target"], "autodb::access");
    assert!(
        health[0]["msg"]
            .as_str()
            .is_some_and(|m| m.contains("\"GET /api/health\" 200")),
        "{log}"
    );
    assert!(
        of("login-1")
            .iter()
            .any(|l| l["msg"].as_str().is_some_and(|m| m.contains("401"))),
        "{log}"
    );
    assert!(
        !log.contains("not-the-password"),
        "a password reached the log"
    );
    // Lines logged outside any request have no id.
    assert!(lines.iter().any(|l| l.get("request_id").is_none()));
}

#[test]
fn text_log_lines_have_no_colour_and_carry_the_request_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path());
    let r = reqwest::blocking::Client::new()
        .get(server.url("/api/health"))
        .header("X-Request-Id", "plain-7")
        .send()
        .expect("health");
    assert_eq!(r.headers()["x-request-id"], "plain-7");
    let log = server.stop();
    assert!(!log.contains('\u{1b}'), "an ANSI escape in the log: {log}");
    assert!(
        log.lines()
            .any(|l| l.contains("autodb::access] [plain-7]") && l.contains("/api/health")),
        "{log}"
    );
}
