//! The process's Prometheus metrics: one registry, recorded where things happen (HTTP
//! middleware, the store's doors, the work engine) and, for what the store holds (runs, queue,
//! grants, fires), counted from it when `/metrics` is scraped ([`Snapshot`]). Imports nothing
//! else of AutoDB, so every layer may record into it. Names and labels: `docs/OBSERVABILITY.md`.

use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The exposition format served: Prometheus text 0.0.4 (what `promtool check metrics` reads).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Vec<(&'static str, String)>;
type Hist = Family<Labels, Histogram, fn() -> Histogram>;

/// Latency buckets from 1 ms to about 33 s.
fn latency() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 16,
    ))
}

/// Work item durations: 10 ms to about 5.8 hours.
fn work_duration() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.01, 3.0, 14,
    ))
}

struct Metrics {
    registry: Registry,
    http_requests: Family<Labels, Counter>,
    http_duration: Hist,
    store_duration: Hist,
    work_duration: Hist,
    work_late_ends: Family<Labels, Counter>,
    // Set at scrape time from a [`Snapshot`].
    build_info: Family<Labels, Gauge>,
    pool_connections: Family<Labels, Gauge>,
    pool_idle: Family<Labels, Gauge>,
    pool_max: Family<Labels, Gauge>,
    jobs: Family<Labels, Gauge>,
    job_runs: Family<Labels, Gauge>,
    queries: Family<Labels, Gauge>,
    query_results: Family<Labels, Gauge>,
    work_items: Family<Labels, Gauge>,
    grants: Family<Labels, Gauge>,
    grant_restore_failures: Counter,
    schedule_fires: Family<Labels, Counter>,
    /// One scrape at a time: a scrape clears and refills the store-counted families.
    scrape: Mutex<()>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let mut r = Registry::with_prefix("autodb");
        let m = Self {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency),
            store_duration: Family::new_with_constructor(latency),
            work_duration: Family::new_with_constructor(work_duration),
            work_late_ends: Family::default(),
            build_info: Family::default(),
            pool_connections: Family::default(),
            pool_idle: Family::default(),
            pool_max: Family::default(),
            jobs: Family::default(),
            job_runs: Family::default(),
            queries: Family::default(),
            query_results: Family::default(),
            work_items: Family::default(),
            grants: Family::default(),
            grant_restore_failures: Counter::default(),
            schedule_fires: Family::default(),
            scrape: Mutex::new(()),
        };
        r.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            m.http_requests.clone(),
        );
        r.register_with_unit(
            "http_request_duration",
            "Time to the response head, by method and route pattern (streamed bodies not included)",
            Unit::Seconds,
            m.http_duration.clone(),
        );
        r.register_with_unit(
            "store_operation_duration",
            "Metadata store calls (waiting for a connection and the write gate included), by pool and op",
            Unit::Seconds,
            m.store_duration.clone(),
        );
        r.register_with_unit(
            "work_duration",
            "Execution time of background work items (job runs, query targets, grant restores, schedule fires), by kind",
            Unit::Seconds,
            m.work_duration.clone(),
        );
        r.register(
            "work_late_ends",
            "Work item ends written after their lease was lost, by kind",
            m.work_late_ends.clone(),
        );
        r.register(
            "build_info",
            "Always 1; the version and release running",
            m.build_info.clone(),
        );
        r.register(
            "store_pool_connections",
            "Open metadata store connections, by pool",
            m.pool_connections.clone(),
        );
        r.register(
            "store_pool_idle_connections",
            "Idle metadata store connections, by pool",
            m.pool_idle.clone(),
        );
        r.register(
            "store_pool_max_connections",
            "Most metadata store connections a pool opens",
            m.pool_max.clone(),
        );
        r.register("jobs", "Jobs by status", m.jobs.clone());
        r.register(
            "job_runs",
            "Job runs (the latest attempt of each script on each target) by status",
            m.job_runs.clone(),
        );
        r.register("queries", "Queries by status", m.queries.clone());
        r.register(
            "query_results",
            "Query runs on one target (statement results) by status",
            m.query_results.clone(),
        );
        r.register(
            "work_items",
            "Background work items by kind and status (waiting ones are the queue)",
            m.work_items.clone(),
        );
        r.register("grants", "Grants by status", m.grants.clone());
        r.register(
            "grant_restore_failures",
            "Failed tries to take back a grant, over all grants",
            m.grant_restore_failures.clone(),
        );
        r.register(
            "schedule_fires",
            "Schedule fires recorded, by outcome",
            m.schedule_fires.clone(),
        );
        Self { registry: r, ..m }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// An answered HTTP request. `route` is the route pattern (`/api/jobs/{id}`), never the path.
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    let m = &*METRICS;
    m.http_requests
        .get_or_create(&vec![
            ("method", method.to_string()),
            ("route", route.to_string()),
            ("status", status.to_string()),
        ])
        .inc();
    m.http_duration
        .get_or_create(&vec![
            ("method", method.to_string()),
            ("route", route.to_string()),
        ])
        .observe(secs(took));
}

/// A call through one of the store's doors: `op` is `read` or `write`, `pool` `api` or `engine`.
pub fn store_call(pool: &'static str, op: &'static str, took: Duration) {
    METRICS
        .store_duration
        .get_or_create(&vec![("pool", pool.to_string()), ("op", op.to_string())])
        .observe(secs(took));
}

/// A work item of `kind` executed for `took`.
pub fn work_executed(kind: &str, took: Duration) {
    METRICS
        .work_duration
        .get_or_create(&vec![("kind", kind.to_string())])
        .observe(secs(took));
}

/// A work item's end came after its lease was lost.
pub fn work_late_end(kind: &str) {
    METRICS
        .work_late_ends
        .get_or_create(&vec![("kind", kind.to_string())])
        .inc();
}

/// A connection pool's state.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// What the store holds, counted when `/metrics` is scraped.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub version: String,
    pub release: String,
    pub pools: Vec<(&'static str, PoolState)>,
    pub jobs: Vec<(String, i64)>,
    pub job_runs: Vec<(String, i64)>,
    pub queries: Vec<(String, i64)>,
    pub query_results: Vec<(String, i64)>,
    /// (kind, status, count)
    pub work_items: Vec<(String, String, i64)>,
    pub grants: Vec<(String, i64)>,
    pub grant_restore_failures: i64,
    pub schedule_fires: Vec<(String, i64)>,
}

fn fill(family: &Family<Labels, Gauge>, label: &'static str, rows: &[(String, i64)]) {
    family.clear();
    for (value, n) in rows {
        family.get_or_create(&vec![(label, value.clone())]).set(*n);
    }
}

/// Every metric in the text format, with the store-counted ones taken from `s`.
pub fn render(s: &Snapshot) -> String {
    let m = &*METRICS;
    let _one = m.scrape.lock().unwrap_or_else(|p| p.into_inner());
    m.build_info.clear();
    m.build_info
        .get_or_create(&vec![
            ("version", s.version.clone()),
            ("release", s.release.clone()),
        ])
        .set(1);
    for f in [&m.pool_connections, &m.pool_idle, &m.pool_max] {
        f.clear();
    }
    for (pool, p) in &s.pools {
        let l = vec![("pool", pool.to_string())];
        m.pool_connections
            .get_or_create(&l)
            .set(p.connections.into());
        m.pool_idle.get_or_create(&l).set(p.idle.into());
        m.pool_max.get_or_create(&l).set(p.max.into());
    }
    fill(&m.jobs, "status", &s.jobs);
    fill(&m.job_runs, "status", &s.job_runs);
    fill(&m.queries, "status", &s.queries);
    fill(&m.query_results, "status", &s.query_results);
    fill(&m.grants, "status", &s.grants);
    m.work_items.clear();
    for (kind, status, n) in &s.work_items {
        m.work_items
            .get_or_create(&vec![("kind", kind.clone()), ("status", status.clone())])
            .set(*n);
    }
    // Counted from rows that only grow: a counter to Prometheus, set to the count.
    set_counter(&m.grant_restore_failures, s.grant_restore_failures);
    m.schedule_fires.clear();
    for (outcome, n) in &s.schedule_fires {
        set_counter(
            &m.schedule_fires
                .get_or_create(&vec![("outcome", outcome.clone())]),
            *n,
        );
    }
    let mut out = String::new();
    if encode(&mut out, &m.registry).is_err() {
        out.clear();
    }
    to_prometheus_text(&out)
}

fn set_counter(c: &Counter, n: i64) {
    let n = u64::try_from(n).unwrap_or(0);
    let now = c.get();
    if n > now {
        c.inc_by(n - now);
    }
}

/// OpenMetrics text (what the crate writes) as Prometheus text 0.0.4: a counter family is
/// named with its `_total` suffix, and `# UNIT` and `# EOF` go.
fn to_prometheus_text(open: &str) -> String {
    let mut out = String::with_capacity(open.len());
    let mut help: Option<&str> = None;
    for line in open.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if line.starts_with("# HELP ") {
            help = Some(line);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let full = if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_string()
            };
            if let Some(h) = help.take() {
                let text = h
                    .strip_prefix("# HELP ")
                    .and_then(|h| h.split_once(' '))
                    .map_or("", |(_, t)| t);
                out.push_str(&format!("# HELP {full} {text}\n"));
            }
            out.push_str(&format!("# TYPE {full} {kind}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_with_their_total_suffix_and_openmetrics_lines_go() {
        let open = "# HELP autodb_x Things.\n# TYPE autodb_x counter\nautodb_x_total 3\n\
                    # HELP autodb_d Time.\n# TYPE autodb_d_seconds histogram\n\
                    # UNIT autodb_d_seconds seconds\nautodb_d_seconds_sum 1\n# EOF\n";
        assert_eq!(
            to_prometheus_text(open),
            "# HELP autodb_x_total Things.\n# TYPE autodb_x_total counter\nautodb_x_total 3\n\
             # HELP autodb_d_seconds Time.\n# TYPE autodb_d_seconds histogram\n\
             autodb_d_seconds_sum 1\n"
        );
    }

    #[test]
    fn a_scrape_shows_what_the_store_counted_and_forgets_what_it_no_longer_holds() {
        let mut s = Snapshot {
            job_runs: vec![("success".into(), 2), ("error".into(), 1)],
            work_items: vec![("job_run".into(), "waiting".into(), 4)],
            ..Snapshot::default()
        };
        let text = render(&s);
        assert!(
            text.contains("autodb_job_runs{status=\"success\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("autodb_work_items{kind=\"job_run\",status=\"waiting\"} 4\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE autodb_grant_restore_failures_total counter\n"));
        s.job_runs = vec![("success".into(), 3)];
        let text = render(&s);
        assert!(
            text.contains("autodb_job_runs{status=\"success\"} 3\n"),
            "{text}"
        );
        assert!(!text.contains("status=\"error\""), "{text}");
    }
}
