//! `autodb backup` / `autodb restore` of a SQLite store, and the lock `serve` holds on it.
//!
//! A backup is `VACUUM INTO` on a connection to the live store (a consistent snapshot while
//! jobs write: WAL readers see one transaction boundary) plus a sidecar `<PATH>.meta.json`
//! holding the SHA-256 of the secret key file (never the key), so a restore can tell that the
//! configured key decrypts what the copy holds.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{0} already exists: give a new path (a backup never overwrites)")]
    Exists(PathBuf),
    #[error("backup of {store} into {dest} failed: {message}")]
    Copy {
        store: PathBuf,
        dest: PathBuf,
        message: String,
    },
    #[error("{0}: integrity_check says: {1}")]
    Corrupt(PathBuf, String),
    #[error(
        "{backup} was taken with another secret key (fingerprint {theirs}, the configured key \
         {key} is {ours}): its secrets would not decrypt; use the matching key, or --force"
    )]
    KeyMismatch {
        backup: PathBuf,
        key: PathBuf,
        theirs: String,
        ours: String,
    },
    #[error("{0} has no sidecar {0}.meta.json (key fingerprint): cannot check the key; --force restores anyway")]
    NoMeta(PathBuf),
    #[error(
        "the store {0} is in use by a running `autodb serve` (it holds {0}.lock): stop the \
         service first (systemctl stop autodb)"
    )]
    InUse(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The sidecar written next to a backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct Meta {
    pub store: String,
    /// SHA-256 (hex) of the secret key file's bytes.
    pub key_sha256: String,
    pub taken_at: String,
    pub release: String,
}

/// `path` with `suffix` appended to its file name (`a.db` → `a.db.lock`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

pub fn meta_path(backup: &Path) -> PathBuf {
    with_suffix(backup, ".meta.json")
}

fn lock_path(store: &Path) -> PathBuf {
    with_suffix(store, ".lock")
}

/// A non-blocking `flock(2)`: Ok(false) when another process holds a conflicting lock. (The
/// std `File::try_lock*` needs Rust 1.89, above the crate's MSRV.) Released when `file` closes.
fn try_flock(file: &File, exclusive: bool) -> std::io::Result<bool> {
    use rustix::fs::FlockOperation as Op;
    let op = if exclusive {
        Op::NonBlockingLockExclusive
    } else {
        Op::NonBlockingLockShared
    };
    match rustix::fs::flock(file, op) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// SHA-256 (hex) of the key file.
pub fn key_fingerprint(key_file: &Path) -> Result<String, BackupError> {
    let bytes = std::fs::read(key_file).map_err(io(key_file))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// Held by `serve` for as long as it runs (a shared `flock` on `<store>.lock`): `restore`
/// takes it exclusively, so it cannot replace a store under a running service.
pub fn hold_serve_lock(store: &Path) -> Result<File, BackupError> {
    lock_store(store, false)?.ok_or_else(|| BackupError::Io {
        path: lock_path(store),
        message: "held by a restore in progress".into(),
    })
}

/// The store's lock file, locked shared or `exclusive` without waiting; `None` when another
/// process holds it the other way.
fn lock_store(store: &Path, exclusive: bool) -> Result<Option<File>, BackupError> {
    let path = lock_path(store);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match try_flock(&file, exclusive) {
        Ok(true) => Ok(Some(file)),
        Ok(false) => Ok(None),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Copies the live store at `store` into `dest` (a new file) and writes the sidecar.
pub fn backup_sqlite(store: &Path, dest: &Path, key_file: &Path) -> Result<Meta, BackupError> {
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    if !store.is_file() {
        return Err(BackupError::Io {
            path: store.to_path_buf(),
            message: "no such store file".into(),
        });
    }
    let key_sha256 = key_fingerprint(key_file)?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let copy_err = |e: rusqlite::Error| BackupError::Copy {
        store: store.to_path_buf(),
        dest: dest.to_path_buf(),
        message: e.to_string(),
    };
    let conn = rusqlite::Connection::open(store).map_err(copy_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(copy_err)?;
    conn.execute("VACUUM INTO ?1", [dest.to_string_lossy()])
        .map_err(copy_err)?;
    drop(conn);
    let meta = Meta {
        store: "sqlite".into(),
        key_sha256,
        taken_at: chrono::Utc::now().to_rfc3339(),
        release: crate::release::release().to_string(),
    };
    let side = meta_path(dest);
    let text = serde_json::to_string_pretty(&meta).unwrap_or_default();
    let mut f = File::create(&side).map_err(io(&side))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io(&side))?;
    Ok(meta)
}

/// `PRAGMA integrity_check` of a SQLite file: `ok`, or what it found.
pub fn integrity(path: &Path) -> Result<(), BackupError> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let check = rusqlite::Connection::open_with_flags(path, flags)
        .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)));
    match check {
        Ok(s) if s == "ok" => Ok(()),
        Ok(s) => Err(BackupError::Corrupt(path.to_path_buf(), s)),
        Err(e) => Err(BackupError::Corrupt(path.to_path_buf(), e.to_string())),
    }
}

/// Replaces the store at `store` with the backup `backup`: checks the key fingerprint (unless
/// `force`), the copy's integrity, and that no `serve` holds the store.
pub fn restore_sqlite(
    backup: &Path,
    store: &Path,
    key_file: &Path,
    force: bool,
) -> Result<(), BackupError> {
    if !backup.is_file() {
        return Err(BackupError::Io {
            path: backup.to_path_buf(),
            message: "no such backup file".into(),
        });
    }
    let side = meta_path(backup);
    match std::fs::read_to_string(&side) {
        Ok(text) => {
            let meta: Meta = serde_json::from_str(&text).map_err(|e| BackupError::Io {
                path: side.clone(),
                message: e.to_string(),
            })?;
            let ours = key_fingerprint(key_file)?;
            if meta.key_sha256 != ours && !force {
                return Err(BackupError::KeyMismatch {
                    backup: backup.to_path_buf(),
                    key: key_file.to_path_buf(),
                    theirs: meta.key_sha256,
                    ours,
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !force => {
            return Err(BackupError::NoMeta(backup.to_path_buf()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&side)(e)),
    }
    integrity(backup)?;
    // Held until the store is replaced: no `serve` can start on it meanwhile.
    let Some(held) = lock_store(store, true)? else {
        return Err(BackupError::InUse(store.to_path_buf()));
    };
    let staged = with_suffix(store, ".restore-tmp");
    std::fs::copy(backup, &staged).map_err(io(&staged))?;
    File::open(&staged)
        .and_then(|f| f.sync_all())
        .map_err(io(&staged))?;
    for suffix in ["-wal", "-shm"] {
        let p = with_suffix(store, suffix);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&p)(e)),
            _ => {}
        }
    }
    std::fs::rename(&staged, store).map_err(io(store))?;
    drop(held);
    Ok(())
}
