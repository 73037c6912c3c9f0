//! Jobs benchmark (not a test): N jobs × M PostgreSQL targets running `SELECT pg_sleep(1)`,
//! against a running AutoDB. Measures `POST /api/jobs` latency, the time until every job has
//! ended, and `GET /api/jobs/{id}` latency at C concurrent clients, idle and during the jobs.
//! Run it through `scripts/bench/jobs.sh`, which starts the server and prepares the targets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[i.min(v.len() - 1)]
}

/// C clients GET `url` until `stop` — back to back, or each at `rate` requests a second (an
/// open-loop pace that leaves CPU to spare, so latency is measured rather than saturation).
/// Returns every latency in ms.
async fn hammer(
    client: reqwest::Client,
    url: String,
    token: String,
    clients: usize,
    rate: f64,
    stop: Arc<AtomicBool>,
) -> Vec<f64> {
    let mut tasks = vec![];
    for _ in 0..clients {
        let (client, url, token, stop) = (client.clone(), url.clone(), token.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let mut tick =
                (rate > 0.0).then(|| tokio::time::interval(Duration::from_secs_f64(1.0 / rate)));
            while !stop.load(Ordering::Relaxed) {
                if let Some(t) = tick.as_mut() {
                    t.tick().await;
                }
                let t = Instant::now();
                let r = client.get(&url).bearer_auth(&token).send().await;
                if let Ok(r) = r {
                    let ok = r.status().is_success();
                    let _ = r.bytes().await;
                    if ok {
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                }
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    all
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = env("BENCH_URL", "http://127.0.0.1:5000");
    let user = env("BENCH_USER", "admin");
    let password = std::env::var("BENCH_PASSWORD")?;
    let jobs: usize = env("BENCH_JOBS", "20").parse()?;
    let clients: usize = env("BENCH_CLIENTS", "32").parse()?;
    let rate: f64 = env("BENCH_CLIENT_RATE", "0").parse()?;
    let target_count: usize = env("BENCH_TARGET_COUNT", "10").parse()?;
    let sql = env("BENCH_SQL", "SELECT pg_sleep(1)");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let login: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().ok_or("login failed")?.to_string();
    let mut targets = vec![];
    for i in 0..target_count {
        let t: Value = client
            .post(format!("{base}/api/targets"))
            .bearer_auth(&token)
            .json(
                &json!({"name": format!("bench-pg-{i}"), "engine": "postgres", "host": "127.0.0.1",
                "port": 5432, "database": "postgres", "username": "postgres"}),
            )
            .send()
            .await?
            .json()
            .await?;
        targets.push(t["id"].as_i64().ok_or(format!("target not created: {t}"))?);
    }

    // A finished job to read while idle.
    let warm: Value = client
        .post(format!("{base}/api/jobs"))
        .bearer_auth(&token)
        .json(&json!({"name": "warm-up", "scripts": [{"sql": "SELECT 1", "target_ids": targets}]}))
        .send()
        .await?
        .json()
        .await?;
    let warm_id = warm["id"].as_i64().ok_or("warm-up job not created")?;
    loop {
        let j: Value = client
            .get(format!("{base}/api/jobs/{warm_id}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if j["finished_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("{base}/api/jobs/{warm_id}");
    let stop = Arc::new(AtomicBool::new(false));
    let idle = tokio::spawn(hammer(
        client.clone(),
        url.clone(),
        token.clone(),
        clients,
        rate,
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let idle = idle.await?;

    // The load: submit the jobs one after another while the readers run.
    let stop = Arc::new(AtomicBool::new(false));
    let busy = tokio::spawn(hammer(
        client.clone(),
        url,
        token.clone(),
        clients,
        rate,
        stop.clone(),
    ));
    let started = Instant::now();
    let mut post_ms = vec![];
    let mut ids = vec![];
    for i in 0..jobs {
        let t = Instant::now();
        let r = client
            .post(format!("{base}/api/jobs"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("bench-{i}"), "scripts": [{"sql": sql, "target_ids": targets}]}))
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await?;
        post_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if status.as_u16() != 201 {
            return Err(format!("submit failed: {status} {body}").into());
        }
        ids.push(body["id"].as_i64().ok_or("no id")?);
    }
    let mut statuses = vec![];
    for id in &ids {
        loop {
            let j: Value = client
                .get(format!("{base}/api/jobs/{id}"))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            if j["finished_at"].is_string() {
                statuses.push(j["status"].as_str().unwrap_or("?").to_string());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let all_done = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let busy = busy.await?;

    let ok = statuses.iter().filter(|s| *s == "success").count();
    println!("jobs: {jobs} x {} targets, `{sql}`", targets.len());
    let pace = if rate > 0.0 {
        format!("{rate} req/s each")
    } else {
        "back to back".into()
    };
    println!("readers: {clients} clients, {pace}");
    println!("jobs ended: {ok}/{jobs} success");
    println!(
        "POST /api/jobs       p50 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms",
        pct(post_ms.clone(), 50.0),
        pct(post_ms.clone(), 99.0),
        pct(post_ms, 100.0)
    );
    println!(
        "all jobs done after  {:7.2} s (from the first submit)",
        all_done.as_secs_f64()
    );
    println!(
        "GET /api/jobs/{{id}} idle   ({clients} clients, {} reqs) p50 {:6.2} ms  p99 {:6.2} ms",
        idle.len(),
        pct(idle.clone(), 50.0),
        pct(idle.clone(), 99.0)
    );
    println!(
        "GET /api/jobs/{{id}} during ({clients} clients, {} reqs) p50 {:6.2} ms  p99 {:6.2} ms",
        busy.len(),
        pct(busy.clone(), 50.0),
        pct(busy.clone(), 99.0)
    );
    println!(
        "p99 during / idle    {:.2}x",
        pct(busy, 99.0) / pct(idle, 99.0)
    );
    Ok(())
}
