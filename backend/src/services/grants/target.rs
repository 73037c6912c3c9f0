//! What a grant does on its target, per engine, over one connection: read the account's
//! verifier and state, take a session watermark, set the temporary verifier, restore the
//! original by compare-and-set, end sessions, and create or drop a personal login. Blocking:
//! called on the engine's pool only.

use serde::{Deserialize, Serialize};

use super::{mysql, postgres};
use crate::connectors::{Cell, DbError, DbErrorKind, Engine, TargetConnection, VecSink};

/// How an account authenticates, as the engine stores it (never a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verifier {
    /// MySQL/MariaDB plugin (`mysql_native_password`, `ed25519`…); `None` on PostgreSQL.
    pub plugin: Option<String>,
    /// PostgreSQL `rolpassword` (SCRAM or md5 verifier; `None`: no password); MariaDB the
    /// authentication string.
    pub value: Option<String>,
}

/// The account's expiry and lock state before the grant, re-applied after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub valid_until: Option<String>,
    pub can_login: Option<bool>,
    pub locked: Option<bool>,
    pub expired: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub verifier: Verifier,
    pub state: State,
}

/// What a restore found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// The temporary verifier was there; the original is back (and read back equal).
    Restored,
    /// The original was already there (a restore that a dead process finished, or a grant that
    /// never reached the account).
    AlreadyOriginal,
    /// Neither: someone else changed the account. Nothing was written.
    Conflict,
}

fn refused(message: impl Into<String>) -> DbError {
    DbError::new(DbErrorKind::Statement, None, message)
}

pub(super) fn unsupported(engine: Engine) -> DbError {
    DbError::config(format!(
        "grants on {engine} targets are not available yet (PostgreSQL and MySQL/MariaDB are)"
    ))
}

fn exec(conn: &mut dyn TargetConnection, sql: &str) -> Result<(), DbError> {
    conn.execute(sql, &mut VecSink::new(0)).map(|_| ())
}

pub(super) fn rows(conn: &mut dyn TargetConnection, sql: &str) -> Result<Vec<Vec<Cell>>, DbError> {
    let mut sink = VecSink::new(10_000);
    conn.execute(sql, &mut sink)?;
    Ok(sink.rows)
}

pub(super) fn text(c: Option<&Cell>) -> Option<String> {
    match c? {
        Cell::Null => None,
        Cell::Text(s) | Cell::Decimal(s) | Cell::Timestamp(s) | Cell::TimestampTz(s) => {
            Some(s.clone())
        }
        Cell::Bytes(hex) => hex::decode(hex)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        Cell::Int(i) => Some(i.to_string()),
        Cell::Bool(b) => Some(b.to_string()),
        other => Some(format!("{other:?}")),
    }
}

fn int(c: Option<&Cell>) -> Option<i64> {
    match c? {
        Cell::Int(i) => Some(*i),
        other => text(Some(other))?.parse().ok(),
    }
}

pub(super) fn truthy(c: Option<&Cell>) -> Option<bool> {
    match c? {
        Cell::Bool(b) => Some(*b),
        Cell::Null => None,
        other => text(Some(other)).map(|s| matches!(s.as_str(), "t" | "true" | "1" | "Y")),
    }
}

/// The account's verifier and state; `None`: no such account.
pub fn read(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    account: &str,
) -> Result<Option<Snapshot>, DbError> {
    match engine {
        Engine::Postgres => {
            let sql = if pg_helper(conn)? {
                postgres::read_by_helper(account)
            } else {
                postgres::read(account)
            };
            let found = rows(conn, &sql)?;
            Ok(found.first().map(|r| Snapshot {
                verifier: Verifier {
                    plugin: None,
                    value: text(r.first()),
                },
                state: State {
                    valid_until: text(r.get(1)),
                    can_login: truthy(r.get(2)),
                    ..State::default()
                },
            }))
        }
        Engine::Mysql => {
            let found = rows(conn, &mysql::read(account))?;
            let Some(r) = found.first() else {
                return Ok(None);
            };
            if int(r.get(4)).is_some_and(|n| n > 0) {
                return Err(refused(format!(
                    "{account} authenticates with several plugins (auth_or): not supported by grants"
                )));
            }
            Ok(Some(Snapshot {
                verifier: Verifier {
                    plugin: text(r.first()),
                    value: text(r.get(1)).or(Some(String::new())),
                },
                state: State {
                    locked: truthy(r.get(2)),
                    expired: Some(int(r.get(3)) == Some(0)),
                    ..State::default()
                },
            }))
        }
        other => Err(unsupported(other)),
    }
}

/// The mark that sessions opened from now on are newer than.
pub fn watermark(conn: &mut dyn TargetConnection, engine: Engine) -> Result<String, DbError> {
    let sql = match engine {
        Engine::Postgres => postgres::WATERMARK,
        Engine::Mysql => mysql::WATERMARK,
        other => return Err(unsupported(other)),
    };
    text(rows(conn, sql)?.first().and_then(|r| r.first()))
        .ok_or_else(|| refused("the target returned no watermark"))
}

pub fn set(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    account: &str,
    v: &Verifier,
) -> Result<(), DbError> {
    match engine {
        Engine::Postgres => exec(conn, &postgres::set_verifier(account, v.value.as_deref())),
        Engine::Mysql => {
            let plugin = v.plugin.as_deref().unwrap_or("mysql_native_password");
            let value = v.value.as_deref().unwrap_or("");
            if plugin == "mysql_native_password" && !value.is_empty() {
                exec(conn, &mysql::set_native(account, value))
            } else {
                exec(conn, &mysql::set_auth(account, plugin, value))
            }
        }
        other => Err(unsupported(other)),
    }
}

/// Compare-and-set: the original goes back only if the temporary verifier is still there;
/// then it is read back and compared, and the saved state re-applied.
pub fn restore(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    account: &str,
    original: &Verifier,
    temp: &Verifier,
    state: &State,
) -> Result<Restored, DbError> {
    let found = match engine {
        Engine::Postgres if pg_helper(conn)? => {
            // The helper does the same compare-and-set as the superuser path below.
            let sql = postgres::restore_by_helper(
                account,
                temp.value.as_deref(),
                original.value.as_deref(),
            );
            let said = text(rows(conn, &sql)?.first().and_then(|r| r.first()));
            if said.as_deref() == Some("restored") {
                Restored::Restored
            } else if read(conn, engine, account)?.map(|s| s.verifier.value)
                == Some(original.value.clone())
            {
                Restored::AlreadyOriginal
            } else {
                Restored::Conflict
            }
        }
        Engine::Postgres => {
            // The row stays locked until the change commits: nobody changes it in between.
            conn.begin()?;
            let current = rows(conn, &postgres::read_for_update(account));
            let current = match current {
                Ok(r) => r,
                Err(e) => {
                    let _ = conn.rollback();
                    return Err(e);
                }
            };
            let Some(row) = current.first() else {
                let _ = conn.rollback();
                return Ok(Restored::Conflict);
            };
            let value = text(row.first());
            if value == temp.value {
                if let Err(e) = set(conn, engine, account, original) {
                    let _ = conn.rollback();
                    return Err(e);
                }
                conn.commit()?;
                Restored::Restored
            } else {
                conn.rollback()?;
                if value == original.value {
                    Restored::AlreadyOriginal
                } else {
                    Restored::Conflict
                }
            }
        }
        Engine::Mysql => {
            let Some(now) = read(conn, engine, account)? else {
                return Ok(Restored::Conflict);
            };
            if same_mysql(&now.verifier, temp) {
                set(conn, engine, account, original)?;
                Restored::Restored
            } else if same_mysql(&now.verifier, original) {
                Restored::AlreadyOriginal
            } else {
                Restored::Conflict
            }
        }
        other => return Err(unsupported(other)),
    };
    if found == Restored::Conflict {
        return Ok(found);
    }
    let back = read(conn, engine, account)?.map(|s| s.verifier);
    let equal = match (&back, engine) {
        (Some(b), Engine::Mysql) => same_mysql(b, original),
        (Some(b), _) => b.value == original.value,
        (None, _) => false,
    };
    if !equal {
        return Err(refused(
            "the original verifier was written but does not read back equal",
        ));
    }
    if engine == Engine::Mysql {
        if state.locked == Some(true) {
            exec(conn, &mysql::lock(account, true))?;
        }
        if state.expired == Some(true) {
            exec(conn, &mysql::expire(account))?;
        }
    }
    Ok(found)
}

/// Whether the PostgreSQL least-privilege helper is there to use (docs/GRANTS.md).
fn pg_helper(conn: &mut dyn TargetConnection) -> Result<bool, DbError> {
    Ok(truthy(
        rows(conn, postgres::HAS_HELPER)?
            .first()
            .and_then(|r| r.first()),
    ) == Some(true))
}

fn same_mysql(a: &Verifier, b: &Verifier) -> bool {
    let plugin = |v: &Verifier| {
        v.plugin
            .clone()
            .unwrap_or_else(|| "mysql_native_password".into())
    };
    plugin(a) == plugin(b) && a.value.as_deref().unwrap_or("") == b.value.as_deref().unwrap_or("")
}

/// Ends the sessions of `login` opened since `watermark` (all with `None`); how many.
pub fn kill(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    login: &str,
    watermark: Option<&str>,
) -> Result<u64, DbError> {
    match engine {
        Engine::Postgres => {
            let n = int(rows(conn, &postgres::kill(login, watermark))?
                .first()
                .and_then(|r| r.first()));
            Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
        }
        Engine::Mysql => {
            let after = watermark.and_then(|w| w.parse::<i64>().ok());
            let ids: Vec<i64> = rows(conn, &mysql::sessions(login, after))?
                .iter()
                .filter_map(|r| int(r.first()))
                .collect();
            let mut n = 0;
            for id in ids {
                match exec(conn, &mysql::kill(id)) {
                    Ok(()) => n += 1,
                    // 1094: unknown thread id — it ended by itself meanwhile.
                    Err(e) if e.code.as_deref() == Some("1094") => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(n)
        }
        other => Err(unsupported(other)),
    }
}

/// Creates the personal login, acting as `account`, refused by the database after `until`.
pub fn create_personal(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    login: &str,
    temp: &Verifier,
    account: &str,
    until: chrono::NaiveDateTime,
    seconds: i64,
) -> Result<(), DbError> {
    let value = temp.value.as_deref().unwrap_or("");
    match engine {
        Engine::Postgres => {
            let at = until.format("%Y-%m-%d %H:%M:%S").to_string();
            for sql in postgres::create_personal(login, value, &at, account) {
                exec(conn, &sql)?;
            }
            Ok(())
        }
        Engine::Mysql => {
            let grants: Vec<String> = rows(conn, &mysql::show_grants(account))?
                .iter()
                .filter_map(|r| text(r.first()))
                .collect();
            exec(conn, &mysql::create_user(login, value))?;
            for sql in mysql::copy_grants(&grants, account, login) {
                if let Err(e) = exec(conn, &sql) {
                    let _ = exec(conn, &mysql::drop_user(login));
                    return Err(e);
                }
            }
            schedule_event(conn, login, seconds)
        }
        other => Err(unsupported(other)),
    }
}

/// MariaDB: the one-shot event that ends the login even if AutoDB is down, when the event
/// scheduler runs (best effort: the sweeper does the same).
fn schedule_event(
    conn: &mut dyn TargetConnection,
    login: &str,
    seconds: i64,
) -> Result<(), DbError> {
    let on = text(
        rows(conn, mysql::EVENT_SCHEDULER)?
            .first()
            .and_then(|r| r.first()),
    );
    if on.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("ON")) {
        if let Err(e) = exec(conn, &mysql::create_event(login, seconds)) {
            log::warn!("grant login {login}: its expiry event could not be created: {e}");
        }
    }
    Ok(())
}

pub fn extend_personal(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    login: &str,
    until: chrono::NaiveDateTime,
    seconds: i64,
) -> Result<(), DbError> {
    match engine {
        Engine::Postgres => exec(
            conn,
            &postgres::extend_personal(login, &until.format("%Y-%m-%d %H:%M:%S").to_string()),
        ),
        Engine::Mysql => schedule_event(conn, login, seconds),
        other => Err(unsupported(other)),
    }
}

/// Locks the personal login, ends its sessions and drops it. `false`: it did not exist.
pub fn drop_personal(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    login: &str,
) -> Result<bool, DbError> {
    let exists = |conn: &mut dyn TargetConnection, sql: &str| -> Result<bool, DbError> {
        Ok(int(rows(conn, sql)?.first().and_then(|r| r.first())).unwrap_or(0) > 0)
    };
    match engine {
        Engine::Postgres => {
            if !exists(conn, &postgres::role_exists(login))? {
                return Ok(false);
            }
            exec(conn, &postgres::nologin(login))?;
            kill(conn, engine, login, None)?;
            exec(conn, &postgres::drop_role(login))?;
            Ok(true)
        }
        Engine::Mysql => {
            let _ = exec(conn, &mysql::drop_event(login));
            if !exists(conn, &mysql::user_exists(login))? {
                return Ok(false);
            }
            exec(conn, &mysql::lock(login, true))?;
            kill(conn, engine, login, None)?;
            exec(conn, &mysql::drop_user(login))?;
            Ok(true)
        }
        other => Err(unsupported(other)),
    }
}
