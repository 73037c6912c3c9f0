//! The append-only audit log (triggers in the migrations refuse UPDATE and DELETE), kept as a
//! hash chain so that a row deleted or edited past the triggers is detected.
//!
//! **Canonical encoding (version 1).** An entry's `hash` is the lowercase hex SHA-256 of the
//! bytes `autodb.audit.v1` followed by these fields, in this order: the previous entry's hash,
//! `id`, `at`, `actor_id`, `actor_name`, `action`, `object_type`, `object_id`, `detail`,
//! `client_addr`, `success`. A field that is NULL is the single byte `0x00`; any other field is
//! the byte `0x01`, its UTF-8 length as an 8-byte big-endian integer, then its UTF-8 bytes.
//! Numbers are decimal ASCII; `at` is UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six
//! fraction digits); `success` is `true` or `false`; `detail` is the stored text as is. The
//! first chained entry's previous hash is [`GENESIS`] (64 zeros).
//!
//! **Appending** takes the one-row chain head (`audit_chain`) first, in the caller's
//! transaction: the id is the head's last id + 1 (chained ids have no gaps) and the head's
//! last id and hash move with the entry. The head's row lock (PostgreSQL, also across AutoDB
//! processes) or the store's write lock (SQLite) is held until commit, so two appenders can
//! never chain to the same entry.

use chrono::{NaiveDateTime, Timelike};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::error::{Result, StoreError};
use super::schema::{audit_chain, audit_log};
use super::{DbConn, WriteTx};

/// The previous hash of the first chained entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const DOMAIN: &[u8] = b"autodb.audit.v1";
/// The chain head's one row.
const HEAD: i32 = 1;

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditRow {
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub detail: String,
    pub client_addr: Option<String>,
    pub success: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub detail: String,
    pub client_addr: Option<String>,
    pub success: bool,
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

/// The fields an entry's hash covers, as they are stored.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
pub struct EntryFields<'a> {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_name: Option<&'a str>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<&'a str>,
    pub detail: &'a str,
    pub client_addr: Option<&'a str>,
    pub success: bool,
}

/// The entry's hash: SHA-256 over the canonical encoding (module docs) chained to `prev_hash`.
pub fn entry_hash(prev_hash: &str, e: &EntryFields<'_>) -> String {
    let id = e.id.to_string();
    let at = e.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let actor_id = e.actor_id.map(|v| v.to_string());
    let success = if e.success { "true" } else { "false" };
    let mut h = Sha256::new();
    h.update(DOMAIN);
    for field in [
        Some(prev_hash),
        Some(id.as_str()),
        Some(at.as_str()),
        actor_id.as_deref(),
        e.actor_name,
        Some(e.action),
        Some(e.object_type),
        e.object_id,
        Some(e.detail),
        e.client_addr,
        Some(success),
    ] {
        match field {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    hex::encode(h.finalize())
}

/// Both backends keep microseconds; the hash covers what is kept.
fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// Appends `row` to the chain, in the transaction of the change it records (a savepoint: a
/// failed append leaves nothing of itself behind).
pub fn append(tx: &mut WriteTx<'_>, row: &NewAuditRow) -> Result<()> {
    let conn: &mut DbConn = tx;
    conn.batch_execute("SAVEPOINT audit_append")?;
    match append_chained(conn, row) {
        Ok(()) => Ok(conn.batch_execute("RELEASE SAVEPOINT audit_append")?),
        Err(e) => {
            let _ = conn.batch_execute(
                "ROLLBACK TO SAVEPOINT audit_append; RELEASE SAVEPOINT audit_append",
            );
            Err(e)
        }
    }
}

fn append_chained(c: &mut DbConn, row: &NewAuditRow) -> Result<()> {
    // The head first: this write is the lock every other appender waits on.
    let moved = diesel::update(audit_chain::table.find(HEAD))
        .set(audit_chain::last_id.eq(audit_chain::last_id + 1i64))
        .execute(c)?;
    if moved != 1 {
        return Err(StoreError::Integrity(
            "the audit chain head is missing; run `autodb migrate`".into(),
        ));
    }
    let (id, prev): (i64, String) = audit_chain::table
        .find(HEAD)
        .select((audit_chain::last_id, audit_chain::last_hash))
        .first(c)?;
    let fields = EntryFields {
        id,
        at: to_micros(row.at),
        actor_id: row.actor_id,
        actor_name: row.actor_name.as_deref(),
        action: &row.action,
        object_type: &row.object_type,
        object_id: row.object_id.as_deref(),
        detail: &row.detail,
        client_addr: row.client_addr.as_deref(),
        success: row.success,
    };
    let hash = entry_hash(&prev, &fields);
    diesel::insert_into(audit_log::table)
        .values((&fields, audit_log::hash.eq(&hash)))
        .execute(c)?;
    diesel::update(audit_chain::table.find(HEAD))
        .set(audit_chain::last_hash.eq(&hash))
        .execute(c)?;
    Ok(())
}

/// The chain head: where the chain began and its newest entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_chain)]
pub struct ChainHead {
    /// The first id that carries a hash.
    pub chain_start_id: i64,
    /// Entries written before the chain began (hash NULL), counted at migration.
    pub pre_chain_rows: i64,
    /// The newest entry's id (`chain_start_id - 1` when none is chained yet).
    pub last_id: i64,
    /// Its hash ([`GENESIS`] when none).
    pub last_hash: String,
}

pub fn head(conn: &mut DbConn) -> Result<Option<ChainHead>> {
    Ok(audit_chain::table
        .find(HEAD)
        .select(ChainHead::as_select())
        .first(conn)
        .optional()?)
}

/// Entries with an id below `id`.
pub fn count_before(conn: &mut DbConn, id: i64) -> Result<i64> {
    Ok(audit_log::table
        .filter(audit_log::id.lt(id))
        .count()
        .get_result(conn)?)
}

/// An entry as stored, with its hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct StoredEntry {
    #[diesel(embed)]
    pub row: AuditRow,
    pub hash: Option<String>,
}

impl StoredEntry {
    pub fn fields(&self) -> EntryFields<'_> {
        let r = &self.row;
        EntryFields {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            actor_name: r.actor_name.as_deref(),
            action: &r.action,
            object_type: &r.object_type,
            object_id: r.object_id.as_deref(),
            detail: &r.detail,
            client_addr: r.client_addr.as_deref(),
            success: r.success,
        }
    }
}

/// Up to `limit` entries from id `from` on, oldest first: one page of a walk.
pub fn entries_from(conn: &mut DbConn, from: i64, limit: i64) -> Result<Vec<StoredEntry>> {
    Ok(audit_log::table
        .filter(audit_log::id.ge(from))
        .order(audit_log::id.asc())
        .limit(limit)
        .select(StoredEntry::as_select())
        .load(conn)?)
}

/// Runs `f` on one consistent view of the store (a read-only snapshot), so that appends going
/// on meanwhile neither appear half-way nor move the head under a walk.
pub fn in_snapshot<T, E: From<StoreError>>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    let begin = match conn {
        DbConn::Postgresql(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        DbConn::Sqlite(_) => "BEGIN DEFERRED",
    };
    super::in_transaction(conn, begin, f)
}

type Backend = <DbConn as diesel::Connection>::Backend;

fn filtered(f: &AuditFilter) -> audit_log::BoxedQuery<'static, Backend> {
    let mut q = audit_log::table.into_boxed();
    if let Some(v) = &f.actor {
        q = q.filter(audit_log::actor_name.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_log::action.eq(v.clone()));
    }
    if let Some(v) = &f.object_type {
        q = q.filter(audit_log::object_type.eq(v.clone()));
    }
    if let Some(v) = &f.object_id {
        q = q.filter(audit_log::object_id.eq(v.clone()));
    }
    if let Some(v) = f.since {
        q = q.filter(audit_log::at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(audit_log::at.lt(v));
    }
    q
}

/// Newest first, one page, and the total that matches.
pub fn page(
    conn: &mut DbConn,
    f: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<AuditRow>, i64)> {
    let total = filtered(f).count().get_result(conn)?;
    let rows = filtered(f)
        .order(audit_log::id.desc())
        .offset(offset)
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The current names of the objects `entries` (type, id) name, where the type has one:
/// targets, jobs, users, schedules, grant policies and API tokens by name, grants by account.
/// An object since deleted has none here (its entry's detail may still say it).
pub fn object_names(
    conn: &mut DbConn,
    entries: &[(String, String)],
) -> Result<std::collections::HashMap<(String, i64), String>> {
    use super::schema::{api_tokens, grant_policies, grants, jobs, schedules, targets, users};
    let ids_of = |kind: &str| -> Vec<i64> {
        let mut ids: Vec<i64> = entries
            .iter()
            .filter(|(t, _)| t == kind)
            .filter_map(|(_, id)| id.parse().ok())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut out = std::collections::HashMap::new();
    macro_rules! names {
        ($kind:literal, $table:ident, $name:ident) => {
            let ids = ids_of($kind);
            if !ids.is_empty() {
                let found: Vec<(i64, String)> = $table::table
                    .filter($table::id.eq_any(&ids))
                    .select(($table::id, $table::$name))
                    .load(conn)?;
                out.extend(
                    found
                        .into_iter()
                        .map(|(id, n)| (($kind.to_string(), id), n)),
                );
            }
        };
    }
    names!("target", targets, name);
    names!("job", jobs, name);
    names!("user", users, username);
    names!("schedule", schedules, name);
    names!("grant_policy", grant_policies, name);
    names!("api_token", api_tokens, name);
    names!("grant", grants, account);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("time")
    }

    /// Vectors computed outside AutoDB (Python's hashlib) from the encoding in the module docs:
    /// a change to the encoding breaks every existing chain and must fail here first.
    #[test]
    fn the_entry_hash_follows_the_documented_canonical_encoding() {
        let first = EntryFields {
            id: 1,
            at: at("2026-12-01 10:00:00.123456"),
            actor_id: Some(7),
            actor_name: Some("admin"),
            action: "login",
            object_type: "session",
            object_id: Some("7"),
            detail: "{}",
            client_addr: Some("127.0.0.1"),
            success: true,
        };
        let h1 = entry_hash(GENESIS, &first);
        assert_eq!(
            h1,
            "a8259448ef7c7a0b5af90062aa62c54d3be1a8b91312e99bbf24f9d7a64d9177"
        );
        let second = EntryFields {
            id: 2,
            at: at("2026-12-01 10:00:01"),
            actor_id: None,
            actor_name: Some("某人"),
            action: "login",
            object_type: "session",
            object_id: None,
            detail: r#"{"reason":"bad_credentials"}"#,
            client_addr: None,
            success: false,
        };
        assert_eq!(
            entry_hash(&h1, &second),
            "e3cf1962f61d64023c46b6b32dfa4ab8401d9ebdf99465d2f4be6b920aff473a"
        );
    }

    #[test]
    fn absent_and_empty_fields_and_shifted_boundaries_hash_differently() {
        let base = EntryFields {
            id: 3,
            at: at("2026-12-01 10:00:00"),
            actor_id: None,
            actor_name: None,
            action: "ab",
            object_type: "c",
            object_id: None,
            detail: "{}",
            client_addr: None,
            success: true,
        };
        let h = entry_hash(GENESIS, &base);
        let empty_name = EntryFields {
            actor_name: Some(""),
            ..base.clone()
        };
        let shifted = EntryFields {
            action: "a",
            object_type: "bc",
            ..base.clone()
        };
        let failed = EntryFields {
            success: false,
            ..base.clone()
        };
        for other in [empty_name, shifted, failed] {
            assert_ne!(entry_hash(GENESIS, &other), h);
        }
        assert_ne!(entry_hash(&"1".repeat(64), &base), h);
    }

    #[test]
    fn the_hash_covers_the_time_as_stored_to_the_microsecond() {
        let t = at("2026-12-01 10:00:00.123456789");
        assert_eq!(to_micros(t), at("2026-12-01 10:00:00.123456"));
    }
}
