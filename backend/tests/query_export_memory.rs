//! The real `autodb` binary exports a 1,000,000-row query result as CSV while its memory stays
//! flat: its resident set is sampled from /proc during the download, and the CSV is checked
//! against PostgreSQL's own checksum of the same rows. Rows: `AUTODB_EXPORT_ROWS` (default 1M).
//! `scripts/bench/query_export.sh` runs the same measurement on a release build.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_autodb");

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn pg(db: &str, sql: &str) -> String {
    let mut c = postgres::Client::connect(
        &format!("host=127.0.0.1 user=postgres dbname={db}"),
        postgres::NoTls,
    )
    .expect("connect");
    let rows = c.simple_query(sql).expect("sql");
    rows.iter()
        .find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("").to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn a_million_row_csv_export_streams_with_flat_server_memory() {
    let rows: u64 = std::env::var("AUTODB_EXPORT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let env = |c: &mut Command| {
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env(
                "AUTODB__DATABASE__URL",
                format!("sqlite://{}", dir.path().join("autodb.db").display()),
            )
            .env(
                "AUTODB__SECURITY__SECRET_KEY_FILE",
                dir.path().join("secret.key"),
            )
            .env("AUTODB__SERVER__BIND", "127.0.0.1:0")
            .current_dir(dir.path());
    };
    let mut create = Command::new(BIN);
    env(&mut create);
    let mut child = create
        .args([
            "user",
            "create",
            "admin",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    writeln!(child.stdin.take().expect("stdin"), "export-admin-pw").expect("write");
    assert!(child.wait().expect("wait").success());

    let mut serve = Command::new(BIN);
    env(&mut serve);
    serve.env("RUST_LOG", "info");
    let mut server = serve
        .arg("serve")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve");
    let pid = server.id();
    let stderr = server.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let port: u16 = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server log");
        if let Some(p) = line
            .split("(port ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|p| p.parse().ok())
        {
            break p;
        }
    };
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let db = format!("autodb_rss_{}", std::process::id());
    pg("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    pg("postgres", &format!("CREATE DATABASE {db}"));

    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let login: Value = http
        .post(url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": "export-admin-pw"}))
        .send()
        .and_then(|r| r.json())
        .expect("login");
    let token = login["token"].as_str().expect("token").to_string();
    let target: Value = http
        .post(url("/api/targets"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "pg", "engine": "postgres", "host": "127.0.0.1", "port": 5432,
                      "database": db, "username": "postgres", "trusted_for_queries": true}),
        )
        .send()
        .and_then(|r| r.json())
        .expect("target");
    let target = target["id"].as_i64().expect("target id");
    let sql = format!("SELECT g, md5(g::text) FROM generate_series(1, {rows}) g");
    let created: Value = http
        .post(url("/api/queries"))
        .bearer_auth(&token)
        .json(&json!({"sql": sql, "target_ids": [target], "row_limit": 10, "timeout_s": 300}))
        .send()
        .and_then(|r| r.json())
        .expect("query");
    let id = created["id"].as_i64().expect("query id");
    let q: Value = http
        .get(url(&format!("/api/queries/{id}?wait_ms=10000")))
        .bearer_auth(&token)
        .send()
        .and_then(|r| r.json())
        .expect("get");
    assert_eq!(q["status"], "success", "{q}");

    // The baseline is taken right after the query: whatever it still holds counts as idle,
    // and the export must not grow beyond it.
    let idle_kb = status_kb(pid, "VmRSS:");
    let peak_kb = Arc::new(AtomicU64::new(idle_kb));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak_kb, done) = (peak_kb.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak_kb.fetch_max(status_kb(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let started = Instant::now();
    let mut resp = http
        .get(url(&format!("/api/queries/{id}/results/{target}.csv")))
        .bearer_auth(&token)
        .send()
        .expect("export");
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    // Read as a stream: count lines and hash the data rows without keeping the body.
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let (mut lines, mut header, mut in_header, mut total) = (0u64, Vec::new(), true, 0u64);
    let mut first = Vec::new();
    let mut tail = Vec::new();
    loop {
        let n = resp.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n as u64;
        let mut chunk = &buf[..n];
        if in_header {
            if let Some(i) = chunk.iter().position(|b| *b == b'\n') {
                header.extend_from_slice(&chunk[..=i]);
                chunk = &chunk[i + 1..];
                in_header = false;
            } else {
                header.extend_from_slice(chunk);
                continue;
            }
        }
        if first.len() < 200 {
            first.extend_from_slice(&chunk[..chunk.len().min(200)]);
        }
        tail.extend_from_slice(chunk);
        if tail.len() > 400 {
            tail.drain(..tail.len() - 200);
        }
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        hasher.update(chunk);
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let hwm_kb = status_kb(pid, "VmHWM:");
    let peak_kb = peak_kb.load(Ordering::Relaxed);
    eprintln!(
        "export of {rows} rows ({total} bytes) in {elapsed:?}: VmRSS idle {} MiB, peak sampled {} MiB \
         (+{} MiB), VmHWM {} MiB",
        idle_kb / 1024,
        peak_kb / 1024,
        peak_kb.saturating_sub(idle_kb) / 1024,
        hwm_kb / 1024
    );
    let expected = pg(
        &db,
        &format!(
            "SELECT encode(sha256(convert_to(string_agg(g || ',' || md5(g::text) || E'\\r\\n', '' ORDER BY g), 'UTF8')), 'hex') \
             FROM generate_series(1, {rows}) g"
        ),
    );
    let _ = server.kill();
    let _ = server.wait();
    pg(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    );
    assert_eq!(header, b"g,md5\r\n");
    assert_eq!(lines, rows, "every row arrives");
    assert!(first.starts_with(
        b"1,c4ca4238a0b923820dcc509a6f75849b\r\n2,c81e728d9d4c2f636f067f89cc14862c\r\n"
    ));
    let last = format!(
        "{rows},{}\r\n",
        pg("postgres", &format!("SELECT md5('{rows}')"))
    );
    assert!(tail.ends_with(last.as_bytes()), "last row");
    assert_eq!(
        hex::encode(hasher.finalize()),
        expected,
        "checksum of the rows"
    );
    assert!(
        peak_kb.saturating_sub(idle_kb) < 200 * 1024,
        "server memory grew by {} MiB during the export",
        peak_kb.saturating_sub(idle_kb) / 1024
    );
}
