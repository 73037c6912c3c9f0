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
    for i in 0..clients {
        let (client, url, token, stop) = (client.clone(), url.clone(), token.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            // Paced readers start spread over one period, not all on the same tick.
            let mut tick = (rate > 0.0).then(|| {
                let period = Duration::from_secs_f64(1.0 / rate);
                let first = tokio::time::Instant::now() + period.mul_f64(i as f64 / clients as f64);
                tokio::time::interval_at(first, period)
            });
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
        all.extend(t.await.expect("a reader task failed"));
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
    // The target PostgreSQL: scripts/bench/jobs.sh gives it a cluster of its own.
    let target_port: u16 = std::env::var("BENCH_TARGET_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5432);
    let mut targets = vec![];
    for i in 0..target_count {
        let t: Value = client
            .post(format!("{base}/api/targets"))
            .bearer_auth(&token)
            .json(
                &json!({"name": format!("bench-pg-{i}"), "engine": "postgres", "host": "127.0.0.1",
                "port": target_port, "database": "postgres", "username": "postgres"}),
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
    ended(&client, &base, &token, warm_id).await?;
    let url = format!("{base}/api/jobs/{warm_id}");
    let fleet = Fleet {
        client: client.clone(),
        base: base.clone(),
        token: token.clone(),
        targets: targets.clone(),
        sql: sql.clone(),
        jobs,
    };

    // 1. Submissions alone: how fast `POST /api/jobs` answers while the engine starts and runs
    //    the earlier jobs, and how long the whole fleet takes.
    let alone = fleet.submit_and_wait("alone").await?;

    // 2. The readers, idle.
    let stop = Arc::new(AtomicBool::new(false));
    let readers = |stop: Arc<AtomicBool>| {
        tokio::spawn(hammer(
            client.clone(),
            url.clone(),
            token.clone(),
            clients,
            rate,
            stop,
        ))
    };
    let idle = readers(stop.clone());
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let idle = idle.await?;

    // 3. The same jobs again while the readers keep reading.
    let stop = Arc::new(AtomicBool::new(false));
    let busy = readers(stop.clone());
    let loaded = fleet.submit_and_wait("readers").await?;
    stop.store(true, Ordering::Relaxed);
    let busy = busy.await?;

    println!("jobs: {jobs} x {} targets, `{sql}`", targets.len());
    let pace = if rate > 0.0 {
        format!("{rate} req/s each")
    } else {
        "back to back".into()
    };
    println!("readers: {clients} clients, {pace}");
    for (label, r) in [("alone", &alone), ("with readers", &loaded)] {
        println!(
            "{label:>13}: jobs ended {}/{jobs} success; POST /api/jobs p50 {:6.2} ms  p99 {:6.2} ms; \
             all jobs done after {:5.2} s",
            r.ok,
            pct(r.post_ms.clone(), 50.0),
            pct(r.post_ms.clone(), 99.0),
            r.all_done.as_secs_f64()
        );
    }
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
    let ratio = pct(busy, 99.0) / pct(idle, 99.0);
    println!("p99 during / idle    {ratio:.2}x");
    let post_p99 = pct(alone.post_ms.clone(), 99.0);
    let goal = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "goals: POST p99 < 20 ms: {} ({post_p99:.1} ms); all done < 3 s: {} ({:.2} s); \
         GET p99 during < 2x idle: {} ({ratio:.2}x)",
        goal(post_p99 < 20.0),
        goal(alone.all_done < Duration::from_secs(3) && alone.ok == jobs),
        alone.all_done.as_secs_f64(),
        goal(ratio < 2.0)
    );
    Ok(())
}

/// What one round of submissions needs.
struct Fleet {
    client: reqwest::Client,
    base: String,
    token: String,
    targets: Vec<i64>,
    sql: String,
    jobs: usize,
}

struct Round {
    post_ms: Vec<f64>,
    all_done: Duration,
    ok: usize,
}

impl Fleet {
    /// Submits the jobs one after another, timing each `POST /api/jobs`, then waits until
    /// every job has ended.
    async fn submit_and_wait(&self, tag: &str) -> Result<Round, Box<dyn std::error::Error>> {
        let (base, token) = (&self.base, &self.token);
        let started = Instant::now();
        let mut post_ms = vec![];
        let mut ids = vec![];
        for i in 0..self.jobs {
            let t = Instant::now();
            let r = self
                .client
                .post(format!("{base}/api/jobs"))
                .bearer_auth(token)
                .json(&json!({"name": format!("bench-{tag}-{i}"),
                    "scripts": [{"sql": self.sql, "target_ids": self.targets}]}))
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
        let mut ok = 0;
        for id in &ids {
            let j = ended(&self.client, base, token, *id).await?;
            ok += usize::from(j["status"] == "success");
        }
        Ok(Round {
            post_ms,
            all_done: started.elapsed(),
            ok,
        })
    }
}

/// The job once it has ended, asked for every 20 ms; an error after 120 s (a bench that never
/// ends measures nothing).
async fn ended(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: i64,
) -> Result<Value, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let j: Value = client
            .get(format!("{base}/api/jobs/{id}"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        if j["finished_at"].is_string() {
            return Ok(j);
        }
        if Instant::now() >= deadline {
            return Err(format!("job {id} has not ended after 120 s: {j}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
