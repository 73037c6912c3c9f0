//! What confines a SQLite target connection to its own file, set on the connection itself, not
//! read from statement text (issue 8, finding 1: a job once attached the metadata store).
//!
//! - The file: an absolute path with no `.`/`..` and no symbolic link anywhere in it, opened
//!   with `SQLITE_OPEN_NOFOLLOW`, and SQLite's own idea of the file checked after opening. The
//!   caller (`services::targets`) decides which folders are allowed; this only refuses anything
//!   that could make the file opened differ from the file checked.
//! - No other file: `SQLITE_LIMIT_ATTACHED` 0 and an authorizer that denies ATTACH and DETACH
//!   (SQLite runs `VACUUM` and `VACUUM INTO` through an ATTACH, so they are refused too),
//!   extension loading and file functions, and the pragmas that point SQLite at other folders,
//!   reach the whole process, or loosen the checks below.
//! - `SQLITE_DBCONFIG_DEFENSIVE` (no writing the schema or shadow tables by hand),
//!   `trusted_schema` off (functions with side effects stay out of the file's views and
//!   triggers), the two-argument `fts3_tokenizer` off (it takes a raw pointer).
//!
//! `query_only`, which makes a read-only transaction read-only, may be set by the connector
//! alone: a statement cannot turn it off from inside.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::Connection;

use super::DbError;

const OWN_FILE: &str = "a SQLite target reaches its own file only";

/// Functions that load code or reach files (the last three exist in the sqlite3 shell only;
/// refused by name should a build ever register them).
const FUNCTIONS: &[&str] = &[
    "load_extension",
    "fts3_tokenizer",
    "readfile",
    "writefile",
    "edit",
];

/// Pragmas refused whatever their value: they point SQLite at other folders, for every
/// connection of the process (the metadata store's too).
const PRAGMAS_ALWAYS: &[&str] = &["temp_store_directory", "data_store_directory"];

/// Pragmas that may be read but not set: they loosen the checks above or reach the whole process.
const PRAGMAS_NOT_SET: &[&str] = &[
    "writable_schema",
    "trusted_schema",
    "hard_heap_limit",
    "soft_heap_limit",
    "query_only",
];

/// The authorizer's state, shared with the connection.
#[derive(Default)]
pub(crate) struct Guard {
    /// The connector's own statements (`PRAGMA query_only`) are running.
    internal: AtomicBool,
    /// Why the last statement was refused, for its error message.
    refused: Mutex<Option<String>>,
}

impl Guard {
    /// Runs `f` as the connector's own statement.
    pub(crate) fn internal<T>(&self, f: impl FnOnce() -> T) -> T {
        self.internal.store(true, Ordering::SeqCst);
        let out = f();
        self.internal.store(false, Ordering::SeqCst);
        out
    }

    /// The refusal behind an SQLITE_AUTH error, taken (each is reported once).
    pub(crate) fn take_refusal(&self) -> Option<String> {
        self.refused.lock().ok().and_then(|mut g| g.take())
    }

    fn judge(&self, ctx: &AuthContext<'_>) -> Result<(), String> {
        match ctx.action {
            AuthAction::Attach { .. } => Err(format!(
                "ATTACH is refused (VACUUM and VACUUM INTO attach a file too): {OWN_FILE}"
            )),
            AuthAction::Detach { .. } => Err(format!("DETACH is refused: {OWN_FILE}")),
            AuthAction::Function { function_name } => {
                let name = function_name.to_ascii_lowercase();
                if FUNCTIONS.contains(&name.as_str()) {
                    Err(format!("function {name}() is refused: {OWN_FILE}"))
                } else {
                    Ok(())
                }
            }
            AuthAction::Pragma {
                pragma_name,
                pragma_value,
            } => {
                let name = pragma_name.to_ascii_lowercase();
                if PRAGMAS_ALWAYS.contains(&name.as_str()) {
                    return Err(format!("PRAGMA {name} is refused: {OWN_FILE}"));
                }
                let sets = pragma_value.is_some();
                let own = name == "query_only" && self.internal.load(Ordering::SeqCst);
                if sets && !own && PRAGMAS_NOT_SET.contains(&name.as_str()) {
                    return Err(format!(
                        "PRAGMA {name} may be read but not set on a SQLite target"
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn authorize(&self, ctx: AuthContext<'_>) -> Authorization {
        match self.judge(&ctx) {
            Ok(()) => Authorization::Allow,
            Err(why) => {
                if let Ok(mut g) = self.refused.lock() {
                    *g = Some(why);
                }
                Authorization::Deny
            }
        }
    }
}

/// Confines a freshly opened connection; returns the authorizer's state.
pub(crate) fn confine(conn: &Connection) -> rusqlite::Result<Arc<Guard>> {
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_WRITABLE_SCHEMA, false)?;
    let guard = Arc::new(Guard::default());
    let g = guard.clone();
    conn.authorizer(Some(move |ctx: AuthContext<'_>| g.authorize(ctx)));
    Ok(guard)
}

/// The path as given, when it is one SQLite will open as is: absolute, without `.`/`..`, no
/// symbolic link in its folders or as the file itself, and not a URI.
pub(crate) fn plain_path(database: &str) -> Result<PathBuf, DbError> {
    let path = Path::new(database);
    let refuse = |why: &str| {
        DbError::config(format!(
            "SQLite target file {database}: {why}; give the file's real absolute path"
        ))
    };
    if !path.is_absolute() {
        return Err(refuse("not an absolute path"));
    }
    if path
        .components()
        .any(|c| matches!(c, Component::CurDir | Component::ParentDir))
        || database.contains("/./")
        || database.ends_with("/.")
        || database.contains("//")
    {
        return Err(refuse("the path has `.` or `..` in it"));
    }
    let (Some(parent), Some(_)) = (path.parent(), path.file_name()) else {
        return Err(refuse("not a file path"));
    };
    match parent.canonicalize() {
        Ok(real) if real == parent => {}
        Ok(_) => return Err(refuse("its folder is reached through a symbolic link")),
        Err(e) => return Err(refuse(&format!("its folder cannot be read ({e})"))),
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refuse("it is a symbolic link"));
    }
    Ok(path.to_path_buf())
}

/// After opening: the file SQLite opened is the one checked.
pub(crate) fn same_file(conn: &Connection, checked: &Path) -> Result<(), DbError> {
    match conn.path() {
        Some(opened) if Path::new(opened) == checked => Ok(()),
        opened => Err(DbError::config(format!(
            "SQLite opened {} instead of {} (a symbolic link was swapped in?)",
            opened.unwrap_or("?"),
            checked.display()
        ))),
    }
}
