//! Settings: built-in defaults, then a TOML file, then `AUTODB__SECTION__KEY` environment
//! variables. Unknown keys and bad values stop start-up with a message naming the key.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where the TOML file is looked for when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/autodb/autodb.toml";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub engine: EngineSettings,
    pub query: QuerySettings,
    pub targets: TargetSettings,
    pub grants: GrantSettings,
    pub schedules: ScheduleSettings,
    pub log: LogSettings,
}

/// How log lines are written (`RUST_LOG` still chooses which are).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` (default) or `json`, one object a line.
    pub format: crate::logging::LogFormat,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address the API listens on; nginx proxies `/api` here.
    pub bind: String,
    /// Serve the built UI from this folder (embedded mode); empty when nginx serves it.
    pub static_dir: String,
    /// Take the client address from `X-Forwarded-For` / `X-Forwarded-Proto` (behind nginx),
    /// when the peer is one of `security.trusted_proxies`.
    pub trust_proxy: bool,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// IANA zone of schedules that name none (`Europe/Berlin`); empty: the machine's zone
    /// (`TZ`, else `/etc/localtime`), else UTC.
    pub timezone: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:5000".into(),
            static_dir: String::new(),
            trust_proxy: false,
            workers: 0,
            max_body_bytes: 4 * 1024 * 1024,
            timezone: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (relative or absolute) or `postgres://user:password@host:port/db`.
    pub url: String,
    pub pool_size: u32,
    /// How long to wait for a store connection before answering 503.
    pub connect_timeout_s: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://data/autodb.db".into(),
            pool_size: 10,
            connect_timeout_s: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// AES-256 key that encrypts target credentials; created (0600) on first start.
    pub secret_key_file: String,
    pub session_ttl_hours: u64,
    /// Failed logins for one user name from one client address before further tries of that
    /// name from that address are refused.
    pub login_max_failures: u32,
    /// Failed logins for one user name from all addresses together before the name is refused
    /// everywhere (guessing spread over many addresses); 0 = 4 × `login_max_failures`.
    pub login_max_failures_per_account: u32,
    /// First lock-out after too many failures; doubles with each further failure.
    pub login_lockout_s: u64,
    /// argon2 password checks running at once; 0 = one per CPU core. Further logins wait a
    /// few seconds for a turn, then get 429.
    pub max_concurrent_password_checks: usize,
    /// Peers (addresses or CIDR blocks) whose `X-Forwarded-For`, `-Proto` and `-Host` are
    /// believed, when `server.trust_proxy` is on.
    pub trusted_proxies: Vec<String>,
    /// Origins, besides the one a request was addressed to, whose pages may send
    /// cookie-authenticated changes (e.g. `https://autodb.example:8443` when a proxy drops
    /// the port from `Host`).
    pub allowed_origins: Vec<String>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            secret_key_file: "data/secret.key".into(),
            session_ttl_hours: 12,
            login_max_failures: 5,
            login_max_failures_per_account: 0,
            login_lockout_s: 30,
            max_concurrent_password_checks: 0,
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
            allowed_origins: Vec::new(),
        }
    }
}

impl SecuritySettings {
    /// `login_max_failures_per_account`, with 0 resolved.
    pub fn max_failures_per_account(&self) -> u32 {
        match self.login_max_failures_per_account {
            0 => self.login_max_failures.saturating_mul(4),
            n => n,
        }
    }

    /// Whether `ip` is one of `trusted_proxies` (entries were checked at load).
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .filter_map(|b| IpBlock::parse(b).ok())
            .any(|b| b.contains(ip))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let per_account = self.login_max_failures_per_account;
        if per_account != 0 && per_account < self.login_max_failures {
            return Err(ConfigError::Value {
                key: "security.login_max_failures_per_account",
                message: format!(
                    "must be at least security.login_max_failures ({})",
                    self.login_max_failures
                ),
            });
        }
        if let Some(Err(m)) = self
            .trusted_proxies
            .iter()
            .map(|b| IpBlock::parse(b))
            .find(Result::is_err)
        {
            return Err(ConfigError::Value {
                key: "security.trusted_proxies",
                message: m,
            });
        }
        if let Some(bad) = self.allowed_origins.iter().find(|o| !is_origin(o)) {
            return Err(ConfigError::Value {
                key: "security.allowed_origins",
                message: format!(
                    "`{bad}` is not an origin like https://autodb.example or http://host:8080"
                ),
            });
        }
        Ok(())
    }
}

/// `scheme://host[:port]` and nothing more, as browsers send it in `Origin`.
fn is_origin(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some()
            && u.path() == "/"
            && !s.ends_with('/')
            && u.query().is_none()
            && u.username().is_empty()
    })
}

/// An address or a CIDR block (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    addr: IpAddr,
    prefix: u8,
}

impl IpBlock {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not an IP address or CIDR block");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, bits) = match (self.addr.to_canonical(), ip.to_canonical()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        shift >= bits || (a >> shift) == (b >> shift)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Job runs executing at once in this process (the pool's run lane).
    pub max_parallel_runs: usize,
    pub max_parallel_runs_per_target: usize,
    pub connect_timeout_s: u64,
    /// 0 means no statement timeout.
    pub statement_timeout_s: u64,
    /// Query targets, export re-runs and connection tests at once (the pool's query lane).
    pub max_parallel_queries: usize,
    /// Cancels being sent to databases at once (the pool's control lane).
    pub max_control_threads: usize,
    /// A claimed work item's lease; a process that stops renewing it for this long is presumed
    /// dead and its items are reaped. A holder that cannot renew in time stops the item itself.
    pub lease_s: u64,
    /// How often the engine looks for work made runnable elsewhere, and renews leases.
    pub poll_ms: u64,
    /// The nice value (0–19) of run threads: the CPU a job needs yields to the HTTP workers.
    pub run_nice: u8,
    /// Notices (NOTICE, warnings, DBMS_OUTPUT lines) kept per statement; the rest are counted.
    pub max_notices_per_statement: u64,
    /// Bytes of notices kept per statement; the rest are counted.
    pub max_notice_bytes_per_statement: u64,
    /// Notices kept per run, across its statements.
    pub max_notices_per_run: u64,
    /// Bytes of notices kept per run, across its statements.
    pub max_notice_bytes_per_run: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_parallel_runs: 32,
            max_parallel_runs_per_target: 4,
            connect_timeout_s: 10,
            statement_timeout_s: 0,
            max_parallel_queries: 16,
            max_control_threads: 8,
            lease_s: 30,
            poll_ms: 1000,
            run_nice: 10,
            max_notices_per_statement: 1000,
            max_notice_bytes_per_statement: 256 * 1024,
            max_notices_per_run: 10_000,
            max_notice_bytes_per_run: 1024 * 1024,
        }
    }
}

/// Schedules (cron jobs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSettings {
    /// A fire this many seconds late (AutoDB was down) is a misfire, handled by the schedule's
    /// `misfire` policy (`skip` records it, `run_once` starts one job for all that were missed).
    pub misfire_grace_s: u64,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            misfire_grace_s: 300,
        }
    }
}

/// Read-only self-service queries: their limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuerySettings {
    /// Rows kept (and shown) per target when the request names no `row_limit`.
    pub default_row_limit: u32,
    /// Largest `row_limit` a request may ask for.
    pub max_row_limit: u32,
    pub default_timeout_s: u32,
    /// Largest `timeout_s` a request may ask for; enforced by each database.
    pub max_timeout_s: u32,
    /// Bytes of rows kept per target result (as JSON); beyond it the result is truncated.
    pub max_result_bytes: u64,
    /// Rows a CSV export streams at most.
    pub export_max_rows: u64,
    /// Statements one query may hold; a longer text is refused (400 on `sql`).
    pub max_statements: u32,
    /// Bytes of rows (as JSON) kept for a whole query, across its statements and targets.
    pub max_query_result_bytes: u64,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            default_row_limit: 1000,
            max_row_limit: 10_000,
            default_timeout_s: 30,
            max_timeout_s: 300,
            max_result_bytes: 8 * 1024 * 1024,
            export_max_rows: 1_000_000,
            max_statements: 100,
            max_query_result_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Where targets may be, and how often their connection is checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetSettings {
    /// Folders SQLite target files must lie in (after resolving symlinks and `..`). Empty: no
    /// SQLite targets. AutoDB's own data folders (the store's and the key file's) are never
    /// allowed, whatever this says.
    pub sqlite_dirs: Vec<PathBuf>,
    /// Seconds between two periodic checks of every target (a work kind, `target_health`);
    /// 0 = no periodic check (a person's test still records the health).
    pub health_interval_s: u64,
    /// Targets checked at once by the periodic check, in this process.
    pub health_parallel: usize,
}

impl Default for TargetSettings {
    fn default() -> Self {
        Self {
            sqlite_dirs: vec![],
            health_interval_s: 0,
            health_parallel: 4,
        }
    }
}

/// Longest `targets.health_interval_s`: a week.
pub const MAX_HEALTH_INTERVAL_S: u64 = 7 * 24 * 3600;

/// Temporary access to database accounts (grants).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrantSettings {
    /// Shortest grant a request may ask for (`duration_s`).
    pub min_duration_s: u64,
    /// Characters of a generated temporary password.
    pub password_length: usize,
    /// Character classes it contains at least one of each: `lower`, `upper`, `digit`, `symbol`.
    pub password_classes: Vec<String>,
    /// Longest wait between two tries to take back a grant whose target is unreachable.
    pub retry_max_s: u64,
}

impl Default for GrantSettings {
    fn default() -> Self {
        Self {
            min_duration_s: 60,
            password_length: 24,
            password_classes: ["lower", "upper", "digit", "symbol"]
                .map(String::from)
                .to_vec(),
            retry_max_s: 300,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration key `{key}`: {message}")]
    Value { key: &'static str, message: String },
}

impl Settings {
    /// Loads the layers. `explicit` is `--config`: it must exist. Without it the default path
    /// is read when present, so the service starts with no file at all.
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(explicit, std::env::vars())
    }

    pub fn load_from(
        explicit: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        let file = match explicit {
            Some(p) if !p.exists() => {
                return Err(ConfigError::File {
                    path: p.to_path_buf(),
                    message: "not found".into(),
                })
            }
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_PATH)).filter(|p| p.exists()),
        };
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                path: path.clone(),
                message: e.to_string(),
            })?;
            builder = builder.add_source(config::File::from_str(&text, config::FileFormat::Toml));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("AUTODB__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("AUTODB")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("targets.sqlite_dirs")
                .with_list_parse_key("grants.password_classes")
                .source(Some(env)),
        );
        let layered = builder.build().map_err(|e| describe(e, file.as_deref()))?;
        let settings: Settings = layered
            .try_deserialize()
            .map_err(|e| describe(e, file.as_deref()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.bind_addr()?;
        let zone = self.server.timezone.trim();
        if !zone.is_empty() && zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(ConfigError::Value {
                key: "server.timezone",
                message: format!("`{zone}` is not an IANA time zone name (e.g. Europe/Berlin)"),
            });
        }
        self.store_url()?;
        let positive = [
            ("database.pool_size", self.database.pool_size as u64),
            (
                "database.connect_timeout_s",
                self.database.connect_timeout_s,
            ),
            (
                "security.session_ttl_hours",
                self.security.session_ttl_hours,
            ),
            (
                "security.login_max_failures",
                self.security.login_max_failures as u64,
            ),
            (
                "engine.max_parallel_runs",
                self.engine.max_parallel_runs as u64,
            ),
            (
                "engine.max_parallel_runs_per_target",
                self.engine.max_parallel_runs_per_target as u64,
            ),
            ("engine.connect_timeout_s", self.engine.connect_timeout_s),
            ("engine.lease_s", self.engine.lease_s),
            ("engine.poll_ms", self.engine.poll_ms),
            ("server.max_body_bytes", self.server.max_body_bytes as u64),
            (
                "query.default_row_limit",
                self.query.default_row_limit as u64,
            ),
            ("query.max_row_limit", self.query.max_row_limit as u64),
            (
                "query.default_timeout_s",
                self.query.default_timeout_s as u64,
            ),
            ("query.max_timeout_s", self.query.max_timeout_s as u64),
            ("query.max_result_bytes", self.query.max_result_bytes),
            ("query.export_max_rows", self.query.export_max_rows),
            (
                "engine.max_parallel_queries",
                self.engine.max_parallel_queries as u64,
            ),
            (
                "engine.max_control_threads",
                self.engine.max_control_threads as u64,
            ),
            ("engine.lease_s", self.engine.lease_s),
            ("query.max_statements", self.query.max_statements as u64),
            (
                "query.max_query_result_bytes",
                self.query.max_query_result_bytes,
            ),
            ("grants.min_duration_s", self.grants.min_duration_s),
            ("grants.password_length", self.grants.password_length as u64),
            ("grants.retry_max_s", self.grants.retry_max_s),
        ];
        if !(8..=256).contains(&self.grants.password_length) {
            return Err(ConfigError::Value {
                key: "grants.password_length",
                message: "must be between 8 and 256".into(),
            });
        }
        if let Some(bad) = self
            .grants
            .password_classes
            .iter()
            .find(|c| !["lower", "upper", "digit", "symbol"].contains(&c.as_str()))
        {
            return Err(ConfigError::Value {
                key: "grants.password_classes",
                message: format!("unknown class `{bad}`; expected lower, upper, digit, symbol"),
            });
        }
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Value {
                key,
                message: "must be greater than 0".into(),
            });
        }
        let q = &self.query;
        if q.default_row_limit > q.max_row_limit {
            return Err(ConfigError::Value {
                key: "query.default_row_limit",
                message: format!("must not exceed query.max_row_limit ({})", q.max_row_limit),
            });
        }
        if q.default_timeout_s > q.max_timeout_s {
            return Err(ConfigError::Value {
                key: "query.default_timeout_s",
                message: format!("must not exceed query.max_timeout_s ({})", q.max_timeout_s),
            });
        }
        self.security.validate()?;
        if self.engine.run_nice > 19 {
            return Err(ConfigError::Value {
                key: "engine.run_nice",
                message: "must be between 0 and 19 (a nice value)".into(),
            });
        }
        if q.max_row_limit > 1_000_000 {
            return Err(ConfigError::Value {
                key: "query.max_row_limit",
                message: "at most 1000000: the first page is kept in the metadata store".into(),
            });
        }
        if let Some(d) = self
            .targets
            .sqlite_dirs
            .iter()
            .find(|d| d.as_os_str().is_empty())
        {
            return Err(ConfigError::Value {
                key: "targets.sqlite_dirs",
                message: format!("{d:?}: an entry must name a folder"),
            });
        }
        if self.targets.health_interval_s > MAX_HEALTH_INTERVAL_S {
            return Err(ConfigError::Value {
                key: "targets.health_interval_s",
                message: format!(
                    "must be 0 (off) or at most {MAX_HEALTH_INTERVAL_S} seconds (a week)"
                ),
            });
        }
        if !(1..=64).contains(&self.targets.health_parallel) {
            return Err(ConfigError::Value {
                key: "targets.health_parallel",
                message: "must be between 1 and 64".into(),
            });
        }
        if self.security.secret_key_file.trim().is_empty() {
            return Err(ConfigError::Value {
                key: "security.secret_key_file",
                message: "must name a file".into(),
            });
        }
        Ok(())
    }

    /// `database.url`, parsed.
    pub fn store_url(&self) -> Result<crate::store::StoreUrl, ConfigError> {
        crate::store::StoreUrl::parse(&self.database.url).map_err(|message| ConfigError::Value {
            key: "database.url",
            message,
        })
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.bind.parse().map_err(|e| ConfigError::Value {
            key: "server.bind",
            message: format!("`{}` is not an address:port ({e})", self.server.bind),
        })
    }
}

fn describe(e: config::ConfigError, file: Option<&Path>) -> ConfigError {
    let source = file
        .map(|p| format!(" (file {}, or an AUTODB__* variable)", p.display()))
        .unwrap_or_else(|| " (from an AUTODB__* variable)".into());
    ConfigError::Invalid(format!("{e}{source}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn starts_on_defaults_without_any_file() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert_eq!(s.server.bind, "127.0.0.1:5000");
        assert_eq!(s.database.url, "sqlite://data/autodb.db");
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("autodb.toml");
        std::fs::write(&path, "[server]\nbind = \"127.0.0.1:6000\"\nworkers = 3\n").expect("write");
        let s = Settings::load_from(
            Some(&path),
            env(&[
                ("AUTODB__SERVER__BIND", "127.0.0.1:7000"),
                ("AUTODB_PASSWORD", "x"),
            ]),
        )
        .expect("load");
        assert_eq!(s.server.bind, "127.0.0.1:7000");
        assert_eq!(s.server.workers, 3);
    }

    #[test]
    fn an_unknown_key_is_named_in_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("autodb.toml");
        std::fs::write(&path, "[server]\nbindd = \"x\"\n").expect("write");
        let err = Settings::load_from(Some(&path), env(&[])).expect_err("must fail");
        assert!(err.to_string().contains("bindd"), "{err}");
    }

    #[test]
    fn a_bad_value_is_named_in_the_error() {
        let err = Settings::load_from(None, env(&[("AUTODB__SERVER__BIND", "nowhere")]))
            .expect_err("must fail");
        assert!(err.to_string().contains("server.bind"), "{err}");
        let err = Settings::load_from(None, env(&[("AUTODB__DATABASE__URL", "mysql://x/y")]))
            .expect_err("must fail");
        assert!(err.to_string().contains("database.url"), "{err}");
        let err = Settings::load_from(None, env(&[("AUTODB__ENGINE__MAX_PARALLEL_RUNS", "many")]))
            .expect_err("must fail");
        assert!(err.to_string().contains("max_parallel_runs"), "{err}");
    }

    #[test]
    fn query_limits_are_checked_against_each_other() {
        let err = Settings::load_from(
            None,
            env(&[
                ("AUTODB__QUERY__DEFAULT_ROW_LIMIT", "500"),
                ("AUTODB__QUERY__MAX_ROW_LIMIT", "100"),
            ]),
        )
        .expect_err("must fail");
        assert!(err.to_string().contains("query.default_row_limit"), "{err}");
        let err = Settings::load_from(None, env(&[("AUTODB__ENGINE__MAX_PARALLEL_QUERIES", "0")]))
            .expect_err("must fail");
        assert!(
            err.to_string().contains("engine.max_parallel_queries"),
            "{err}"
        );
        let s = Settings::load_from(None, env(&[("AUTODB__QUERY__MAX_TIMEOUT_S", "600")]))
            .expect("load");
        assert_eq!(s.query.max_timeout_s, 600);
        assert_eq!(s.query.export_max_rows, 1_000_000);
    }

    #[test]
    fn sqlite_dirs_default_to_none_and_come_from_the_file_or_a_comma_list() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert!(s.targets.sqlite_dirs.is_empty());
        let s = Settings::load_from(
            None,
            env(&[("AUTODB__TARGETS__SQLITE_DIRS", "/srv/a,/srv/b")]),
        )
        .expect("load");
        assert_eq!(
            s.targets.sqlite_dirs,
            [PathBuf::from("/srv/a"), PathBuf::from("/srv/b")]
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("autodb.toml");
        std::fs::write(&path, "[targets]\nsqlite_dirs = [\"/srv/lite\"]\n").expect("write");
        let s = Settings::load_from(Some(&path), env(&[])).expect("load");
        assert_eq!(s.targets.sqlite_dirs, [PathBuf::from("/srv/lite")]);
        std::fs::write(&path, "[targets]\nsqlite_dirs = [\"\"]\n").expect("write");
        let err = Settings::load_from(Some(&path), env(&[])).expect_err("must fail");
        assert!(err.to_string().contains("targets.sqlite_dirs"), "{err}");
    }

    #[test]
    fn the_periodic_target_check_is_off_by_default_and_its_bounds_name_the_key() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert_eq!(s.targets.health_interval_s, 0);
        let s = Settings::load_from(None, env(&[("AUTODB__TARGETS__HEALTH_INTERVAL_S", "300")]))
            .expect("load");
        assert_eq!(s.targets.health_interval_s, 300);
        let err = Settings::load_from(
            None,
            env(&[("AUTODB__TARGETS__HEALTH_INTERVAL_S", "99999999")]),
        )
        .expect_err("must fail");
        assert!(
            err.to_string().contains("targets.health_interval_s"),
            "{err}"
        );
        let err = Settings::load_from(None, env(&[("AUTODB__TARGETS__HEALTH_PARALLEL", "0")]))
            .expect_err("must fail");
        assert!(err.to_string().contains("targets.health_parallel"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_blocks() {
        let s = Settings::default();
        assert!(s
            .security
            .is_trusted_proxy("127.0.0.1".parse().expect("ip")));
        assert!(s.security.is_trusted_proxy("::1".parse().expect("ip")));
        assert!(s
            .security
            .is_trusted_proxy("::ffff:127.0.0.1".parse().expect("ip")));
        assert!(!s
            .security
            .is_trusted_proxy("127.0.0.2".parse().expect("ip")));
        let b = IpBlock::parse("10.0.0.0/8").expect("block");
        assert!(b.contains("10.200.3.4".parse().expect("ip")));
        assert!(!b.contains("11.0.0.1".parse().expect("ip")));
        assert!(IpBlock::parse("0.0.0.0/0")
            .expect("all")
            .contains("8.8.8.8".parse().expect("ip")));
        assert!(IpBlock::parse("fd00::/8")
            .expect("v6")
            .contains("fd12::1".parse().expect("ip")));
        for bad in ["10.0.0.0/33", "nginx", "10.0.0.1/x"] {
            assert!(IpBlock::parse(bad).is_err(), "{bad}");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("autodb.toml");
        std::fs::write(&path, "[security]\ntrusted_proxies = [\"10.0.0.0/40\"]\n").expect("write");
        let err = Settings::load_from(Some(&path), env(&[])).expect_err("must fail");
        assert!(
            err.to_string().contains("security.trusted_proxies"),
            "{err}"
        );
        std::fs::write(
            &path,
            "[security]\nallowed_origins = [\"https://a.example/x\"]\n",
        )
        .expect("write");
        let err = Settings::load_from(Some(&path), env(&[])).expect_err("must fail");
        assert!(
            err.to_string().contains("security.allowed_origins"),
            "{err}"
        );
        std::fs::write(
            &path,
            "[security]\nallowed_origins = [\"https://a.example:8443\"]\n",
        )
        .expect("write");
        assert!(Settings::load_from(Some(&path), env(&[])).is_ok());
        let err = Settings::load_from(
            None,
            env(&[("AUTODB__SECURITY__LOGIN_MAX_FAILURES_PER_ACCOUNT", "2")]),
        )
        .expect_err("must fail");
        assert!(
            err.to_string().contains("login_max_failures_per_account"),
            "{err}"
        );
    }

    #[test]
    fn the_output_caps_have_defaults_and_are_checked() {
        let s = Settings::load_from(None, env(&[("AUTODB__ENGINE__MAX_NOTICES_PER_RUN", "7")]))
            .expect("load");
        assert_eq!(s.engine.max_notices_per_run, 7);
        assert_eq!(s.engine.max_notice_bytes_per_statement, 256 * 1024);
        assert_eq!(s.query.max_statements, 100);
        assert_eq!(s.query.max_query_result_bytes, 32 * 1024 * 1024);
        let err = Settings::load_from(None, env(&[("AUTODB__QUERY__MAX_STATEMENTS", "0")]))
            .expect_err("must fail");
        assert!(err.to_string().contains("query.max_statements"), "{err}");
    }

    #[test]
    fn grant_settings_default_and_bad_ones_name_their_key() {
        let s = Settings::load_from(None, env(&[])).expect("defaults");
        assert_eq!(s.grants.min_duration_s, 60);
        assert_eq!(s.grants.password_classes.len(), 4);
        let s = Settings::load_from(
            None,
            env(&[("AUTODB__GRANTS__PASSWORD_CLASSES", "lower,digit")]),
        )
        .expect("a list from the environment");
        assert_eq!(s.grants.password_classes, ["lower", "digit"]);
        for (key, value, named) in [
            (
                "AUTODB__GRANTS__PASSWORD_CLASSES",
                "lower,emoji",
                "grants.password_classes",
            ),
            (
                "AUTODB__GRANTS__PASSWORD_LENGTH",
                "4",
                "grants.password_length",
            ),
            (
                "AUTODB__GRANTS__MIN_DURATION_S",
                "0",
                "grants.min_duration_s",
            ),
        ] {
            let err = Settings::load_from(None, env(&[(key, value)])).expect_err("must fail");
            assert!(err.to_string().contains(named), "{err}");
        }
    }

    #[test]
    fn log_format_is_text_by_default_json_when_asked_and_anything_else_names_the_key() {
        use crate::logging::LogFormat;
        let s = Settings::load_from(None, env(&[])).expect("defaults");
        assert_eq!(s.log.format, LogFormat::Text);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("autodb.toml");
        std::fs::write(&path, "[log]\nformat = \"json\"\n").expect("write");
        let s = Settings::load_from(Some(&path), env(&[])).expect("file");
        assert_eq!(s.log.format, LogFormat::Json);
        let s = Settings::load_from(None, env(&[("AUTODB__LOG__FORMAT", "json")])).expect("env");
        assert_eq!(s.log.format, LogFormat::Json);
        let err = Settings::load_from(None, env(&[("AUTODB__LOG__FORMAT", "xml")]))
            .expect_err("must fail");
        let msg = err.to_string();
        assert!(msg.contains("format") && msg.contains("xml"), "{msg}");
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let err = Settings::load_from(Some(Path::new("/nonexistent/autodb.toml")), env(&[]))
            .expect_err("must fail");
        assert!(
            err.to_string().contains("/nonexistent/autodb.toml"),
            "{err}"
        );
    }
}
