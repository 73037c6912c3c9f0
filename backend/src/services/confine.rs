//! Where a target may point (issue 8, finding 1). A SQLite target is a file on AutoDB's own
//! machine: it must resolve, symlinks and `..` followed, to a file inside `targets.sqlite_dirs`,
//! and never to the metadata store (nor its -wal/-shm/-journal), the secret key file, or
//! anything in their folders (AutoDB's data folders). No target of any engine may be the
//! PostgreSQL metadata store itself (same host, port and database).
//!
//! Checked when a target is created or changed (400 on `database`) and again each time one
//! is opened (`targets::spec_from_row`), so a setting narrowed later or a file swapped for a
//! symlink is caught; the connector then opens exactly the resolved path, refusing symlinks.

use std::collections::HashSet;
use std::net::{IpAddr, ToSocketAddrs};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::config::{ConfigError, Settings};
use crate::store::StoreUrl;

const KEY: &str = "targets.sqlite_dirs";

#[derive(Debug, Default)]
pub struct Confinement {
    /// `targets.sqlite_dirs`, resolved.
    allowed: Vec<PathBuf>,
    /// The store file and its companions, the key file: (path, what it is).
    own_files: Vec<(PathBuf, &'static str)>,
    /// Their (device, inode), so a hard link is known too.
    own_inodes: Vec<(u64, u64)>,
    /// The folders of the store and of the key file.
    data_dirs: Vec<PathBuf>,
    /// A PostgreSQL store: its hosts, ports and database.
    pg_store: Option<PgPlace>,
}

#[derive(Debug)]
struct PgPlace {
    hosts: Vec<String>,
    ports: Vec<u16>,
    database: String,
}

fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    path.canonicalize()
}

impl Confinement {
    /// Reads the settings once the store and the key file exist (start-up).
    pub fn new(settings: &Settings) -> Result<Self, ConfigError> {
        let bad = |message: String| ConfigError::Value { key: KEY, message };
        let mut me = Confinement::default();
        let own = |path: &Path, what: &'static str, me: &mut Confinement| {
            let real = resolve(path).unwrap_or_else(|_| path.to_path_buf());
            if let Ok(m) = std::fs::metadata(&real) {
                me.own_inodes.push((m.dev(), m.ino()));
            }
            if let Some(dir) = real.parent() {
                if !me.data_dirs.iter().any(|d| d == dir) {
                    me.data_dirs.push(dir.to_path_buf());
                }
            }
            me.own_files.push((real, what));
        };
        match StoreUrl::parse(&settings.database.url) {
            Ok(StoreUrl::Sqlite(file)) => {
                own(&file, "AutoDB's metadata store", &mut me);
                let real = me.own_files[0].0.clone();
                for suffix in ["-wal", "-shm", "-journal"] {
                    let mut companion = real.clone().into_os_string();
                    companion.push(suffix);
                    me.own_files
                        .push((companion.into(), "a file of AutoDB's metadata store"));
                }
            }
            Ok(StoreUrl::Postgres(url)) => me.pg_store = PgPlace::parse(&url),
            Err(_) => {}
        }
        own(
            Path::new(&settings.security.secret_key_file),
            "AutoDB's secret key file",
            &mut me,
        );
        for dir in &settings.targets.sqlite_dirs {
            let real = resolve(dir)
                .map_err(|e| bad(format!("{}: cannot be resolved ({e})", dir.display())))?;
            if !real.is_dir() {
                return Err(bad(format!("{} is not a folder", dir.display())));
            }
            if let Some(data) = me.data_dirs.iter().find(|d| real.starts_with(d)) {
                return Err(bad(format!(
                    "{} lies in AutoDB's data folder {}, which targets may never use",
                    dir.display(),
                    data.display()
                )));
            }
            me.allowed.push(real);
        }
        Ok(me)
    }

    /// The real path of a SQLite target's file, or why it may not be used.
    pub fn sqlite_file(&self, database: &str) -> Result<PathBuf, String> {
        if self.allowed.is_empty() {
            return Err(format!(
                "SQLite targets are off: list the folders their files may be in in {KEY}"
            ));
        }
        let path = Path::new(database);
        if !path.is_absolute() {
            return Err("must be the file's absolute path".into());
        }
        let real = match std::fs::symlink_metadata(path) {
            Ok(_) => resolve(path).map_err(|e| format!("cannot be resolved ({e})"))?,
            Err(_) => {
                let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                    return Err("must name a file".into());
                };
                resolve(parent)
                    .map_err(|e| format!("its folder cannot be resolved ({e})"))?
                    .join(name)
            }
        };
        if let Some((_, what)) = self.own_files.iter().find(|(f, _)| *f == real) {
            return Err(format!("is {what}"));
        }
        if let Some(dir) = self.data_dirs.iter().find(|d| real.starts_with(d)) {
            return Err(format!("lies in AutoDB's data folder {}", dir.display()));
        }
        if let Ok(m) = std::fs::metadata(&real) {
            if self.own_inodes.contains(&(m.dev(), m.ino())) {
                return Err("is one of AutoDB's own files (a hard link to it)".into());
            }
            if !m.is_file() {
                return Err("is not a file".into());
            }
        }
        if !self.allowed.iter().any(|d| real.starts_with(d)) {
            let dirs: Vec<String> = self
                .allowed
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            return Err(format!(
                "resolves to {}, outside the folders of {KEY} ({})",
                real.display(),
                dirs.join(", ")
            ));
        }
        Ok(real)
    }

    /// Whether a networked target at `host:port/database` is the PostgreSQL metadata store.
    /// Resolves host names: call it off the async workers.
    pub fn is_store(&self, host: &str, port: u16, database: &str) -> bool {
        let Some(store) = &self.pg_store else {
            return false;
        };
        store.database == database
            && store.ports.contains(&port)
            && store.hosts.iter().any(|h| same_host(h, host, port))
    }
}

impl PgPlace {
    fn parse(url: &str) -> Option<Self> {
        let config = tokio_postgres::Config::from_str(url).ok()?;
        let mut hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                tokio_postgres::config::Host::Unix(dir) => dir.display().to_string(),
            })
            .collect();
        hosts.extend(config.get_hostaddrs().iter().map(IpAddr::to_string));
        if hosts.is_empty() {
            hosts.push("/run/postgresql".into()); // libpq's default: the local socket
        }
        let ports = match config.get_ports() {
            [] => vec![5432],
            p => p.to_vec(),
        };
        let database = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres")
            .to_string();
        Some(Self {
            hosts,
            ports,
            database,
        })
    }
}

/// The addresses a host name stands for; a socket folder or `localhost` is this machine.
fn addresses(host: &str, port: u16) -> HashSet<IpAddr> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if host.starts_with('/') || host.eq_ignore_ascii_case("localhost") || host.is_empty() {
        return HashSet::from([IpAddr::from([127, 0, 0, 1])]);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return HashSet::from([ip]);
    }
    (host, port)
        .to_socket_addrs()
        .map(|a| a.map(|s| s.ip()).collect())
        .unwrap_or_default()
}

/// This machine's own addresses, as far as its host name tells.
fn own_addresses() -> HashSet<IpAddr> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| addresses(name.trim(), 0))
        .unwrap_or_default()
}

fn same_host(a: &str, b: &str, port: u16) -> bool {
    if a.trim().eq_ignore_ascii_case(b.trim()) {
        return true;
    }
    let (a, b) = (addresses(a, port), addresses(b, port));
    if a.intersection(&b).next().is_some() {
        return true;
    }
    let own = own_addresses();
    let local = |set: &HashSet<IpAddr>| {
        !set.is_empty() && set.iter().all(|ip| ip.is_loopback() || own.contains(ip))
    };
    local(&a) && local(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(url: &str) -> Confinement {
        Confinement {
            pg_store: PgPlace::parse(url),
            ..Confinement::default()
        }
    }

    #[test]
    fn a_target_at_the_postgresql_store_is_known_whatever_the_host_is_called() {
        let c = pg("postgres://autodb:pw@127.0.0.1:5432/autodb");
        for host in [
            "127.0.0.1",
            "localhost",
            "LOCALHOST",
            "::1",
            "[::1]",
            "127.0.1.1",
        ] {
            assert!(c.is_store(host, 5432, "autodb"), "{host}");
        }
        assert!(!c.is_store("127.0.0.1", 5433, "autodb"));
        assert!(!c.is_store("127.0.0.1", 5432, "other"));
        assert!(!c.is_store("192.0.2.10", 5432, "autodb"));
        let socket = pg("postgresql:///autodb?host=/var/run/postgresql");
        assert!(socket.is_store("localhost", 5432, "autodb"));
        assert!(socket.is_store("/var/run/postgresql", 5432, "autodb"));
        let named = pg("postgres://autodb@db.example:6432/meta");
        assert!(named.is_store("DB.example", 6432, "meta"));
        assert!(!named.is_store("db.example", 5432, "meta"));
        assert!(!Confinement::default().is_store("127.0.0.1", 5432, "autodb"));
    }

    #[test]
    fn without_sqlite_dirs_no_sqlite_file_is_allowed() {
        let why = Confinement::default()
            .sqlite_file("/srv/x.db")
            .expect_err("refused");
        assert!(why.contains(KEY), "{why}");
    }

    #[test]
    fn a_sqlite_dir_inside_the_data_folder_is_a_configuration_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("targets")).expect("mkdir");
        let mut s = Settings::default();
        s.database.url = format!("sqlite://{}", dir.path().join("autodb.db").display());
        s.security.secret_key_file = dir.path().join("secret.key").display().to_string();
        s.targets.sqlite_dirs = vec![dir.path().join("targets")];
        let err = Confinement::new(&s).expect_err("refused");
        assert!(err.to_string().contains(KEY), "{err}");
        s.targets.sqlite_dirs = vec![dir.path().join("missing")];
        let err = Confinement::new(&s).expect_err("refused");
        assert!(err.to_string().contains(KEY), "{err}");
    }
}
