//! Recording and reading the audit log, and verifying its hash chain.

use serde::Serialize;
use serde_json::Value;

use super::error::Result;
use super::{Actor, Ctx};
use crate::store::audit::{self as rows, AuditFilter, ChainHead, NewAuditRow};
use crate::store::{self, DbConn, WriteTx};

/// One thing that happened, before it is stamped and stored.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: Option<String>,
    pub detail: Value,
    pub success: bool,
}

impl Event {
    pub fn ok(action: &'static str, object_type: &'static str, object_id: impl ToString) -> Self {
        Self {
            action,
            object_type,
            object_id: Some(object_id.to_string()),
            detail: Value::Object(Default::default()),
            success: true,
        }
    }

    pub fn with(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }

    pub fn failed(mut self) -> Self {
        self.success = false;
        self
    }
}

/// Appends an entry for `actor` (or for an anonymous caller naming `who`). Call it inside the
/// same transaction as the change it records, so neither exists without the other.
pub fn record(
    conn: &mut WriteTx<'_>,
    actor: Option<&Actor>,
    who: Option<&str>,
    client_addr: Option<&str>,
    event: Event,
) -> Result<()> {
    Ok(record_in_store(conn, actor, who, client_addr, event)?)
}

/// [`record`] with the store's own error, for a work kind's end (written by the engine).
pub fn record_in_store(
    conn: &mut WriteTx<'_>,
    actor: Option<&Actor>,
    who: Option<&str>,
    client_addr: Option<&str>,
    event: Event,
) -> std::result::Result<(), crate::store::StoreError> {
    rows::append(
        conn,
        &NewAuditRow {
            at: store::now(),
            actor_id: actor.map(|a| a.user_id),
            actor_name: actor
                .map(|a| a.username.clone())
                .or(who.map(str::to_string)),
            action: event.action.to_string(),
            object_type: event.object_type.to_string(),
            object_id: event.object_id,
            detail: event.detail.to_string(),
            client_addr: actor
                .and_then(|a| a.client_addr.clone())
                .or(client_addr.map(str::to_string)),
            success: event.success,
        },
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    /// The object's name (a grant's: its account): the current one, or the one the entry
    /// recorded when the object is gone; none for objects without a name (queries, sessions).
    pub object_name: Option<String>,
    #[schema(value_type = HashMap<String, Value>)]
    pub detail: Value,
    pub client_addr: Option<String>,
    pub success: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: AuditFilter,
    page: i64,
    per_page: i64,
) -> Result<AuditPage> {
    actor.require_admin()?;
    let offset = super::page_offset(page, per_page)?;
    let (rows, total, names) = ctx
        .store
        .run(move |c| {
            let (rows, total) = rows::page(c, &filter, offset, per_page)?;
            let named: Vec<(String, String)> = rows
                .iter()
                .filter_map(|r| Some((r.object_type.clone(), r.object_id.clone()?)))
                .collect();
            let names = rows::object_names(c, &named)?;
            Ok::<_, crate::store::StoreError>((rows, total, names))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let detail = serde_json::from_str(&r.detail).unwrap_or(Value::String(r.detail));
            let current = r
                .object_id
                .as_deref()
                .and_then(|id| id.parse::<i64>().ok())
                .and_then(|id| names.get(&(r.object_type.clone(), id)).cloned());
            let recorded = || {
                ["name", "username", "account"]
                    .iter()
                    .find_map(|k| detail.get(*k).and_then(Value::as_str))
                    .map(str::to_string)
            };
            AuditEntry {
                id: r.id,
                at: r.at.and_utc(),
                actor: r.actor_name,
                action: r.action,
                object_name: current.or_else(recorded),
                object_type: r.object_type,
                object_id: r.object_id,
                detail,
                client_addr: r.client_addr,
                success: r.success,
            }
        })
        .collect();
    Ok(AuditPage {
        items,
        total,
        page,
        per_page,
    })
}

/// What a chain verification found wrong first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The entry's fields and the previous hash do not give its stored hash: it (or, when
    /// its hash was recomputed, the entry before it) was edited.
    HashMismatch,
    /// The entry with this id is gone: a gap in the chained ids, or the newest entry, which
    /// the chain head still names.
    Missing,
    /// The chain does not end where its head says: an entry beyond the head, or a head
    /// whose hash is not the newest entry's.
    HeadMismatch,
    /// The number of entries from before the chain began differs from the one counted when
    /// the chain was introduced.
    PreChainChanged,
    /// The chain head row itself is gone.
    NoHead,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HashMismatch => "hash_mismatch",
            Self::Missing => "missing",
            Self::HeadMismatch => "head_mismatch",
            Self::PreChainChanged => "pre_chain_changed",
            Self::NoHead => "no_head",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BadEntry {
    /// The entry at fault (for `missing`, the id that is gone); none for `pre_chain_changed`
    /// and `no_head`.
    pub id: Option<i64>,
    pub problem: Problem,
    pub message: String,
}

/// The answer of `autodb audit verify` and `GET /api/audit/verify`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// True when every chained entry is present and unchanged and the head matches.
    pub ok: bool,
    /// Chained entries checked and found intact (up to the first bad one).
    pub entries: i64,
    /// Entries from before the chain began: counted, not protected by the chain.
    pub unchained: i64,
    /// The head: the newest entry's id and hash. Kept elsewhere, they let a later check see
    /// a rewrite of the whole tail.
    pub last_id: i64,
    pub last_hash: String,
    pub first_bad: Option<BadEntry>,
}

/// Entries read per page of the walk: memory stays bounded whatever the log's size.
const PAGE: i64 = 1000;

/// Walks the chain in id order, in pages, on one consistent snapshot of the store.
pub fn verify_blocking(conn: &mut DbConn) -> Result<ChainReport> {
    rows::in_snapshot(conn, walk)
}

fn walk(conn: &mut DbConn) -> Result<ChainReport> {
    let Some(head) = rows::head(conn)? else {
        return Ok(ChainReport {
            ok: false,
            entries: 0,
            unchained: 0,
            last_id: 0,
            last_hash: String::new(),
            first_bad: Some(BadEntry {
                id: None,
                problem: Problem::NoHead,
                message: "the audit chain head (table audit_chain) is gone".into(),
            }),
        });
    };
    let unchained = rows::count_before(conn, head.chain_start_id)?;
    let mut report = ChainReport {
        ok: true,
        entries: 0,
        unchained,
        last_id: head.last_id,
        last_hash: head.last_hash.clone(),
        first_bad: None,
    };
    if unchained != head.pre_chain_rows {
        return Ok(report.broken(
            None,
            Problem::PreChainChanged,
            format!(
                "{unchained} entries from before the chain began, {} when it began",
                head.pre_chain_rows
            ),
        ));
    }
    let mut expected = head.chain_start_id;
    let mut prev = rows::GENESIS.to_string();
    loop {
        let page = rows::entries_from(conn, expected, PAGE)?;
        if page.is_empty() {
            break;
        }
        for entry in &page {
            if let Some(bad) = check(&head, expected, &prev, entry) {
                report.first_bad = Some(bad);
                report.ok = false;
                return Ok(report);
            }
            prev = entry.hash.clone().unwrap_or_default();
            expected += 1;
            report.entries += 1;
        }
    }
    if expected <= head.last_id {
        return Ok(report.broken(
            Some(expected),
            Problem::Missing,
            format!(
                "entry {expected} is missing: the chain head names entry {} as the newest",
                head.last_id
            ),
        ));
    }
    if prev != head.last_hash {
        return Ok(report.broken(
            Some(head.last_id),
            Problem::HeadMismatch,
            format!(
                "the chain head's hash is not entry {}'s: the head was rewritten",
                head.last_id
            ),
        ));
    }
    Ok(report)
}

/// The one entry's check: in place, within the head, and hashing to its stored hash.
fn check(head: &ChainHead, expected: i64, prev: &str, e: &rows::StoredEntry) -> Option<BadEntry> {
    let bad = |id, problem, message| {
        Some(BadEntry {
            id: Some(id),
            problem,
            message,
        })
    };
    if e.row.id != expected && expected <= head.last_id {
        return bad(
            expected,
            Problem::Missing,
            format!(
                "entry {expected} is missing (the next entry is {})",
                e.row.id
            ),
        );
    }
    if e.row.id > head.last_id {
        return bad(
            e.row.id,
            Problem::HeadMismatch,
            format!(
                "entry {} lies beyond the chain head (entry {}): added past AutoDB or the head was moved back",
                e.row.id, head.last_id
            ),
        );
    }
    if e.hash.as_deref() != Some(rows::entry_hash(prev, &e.fields()).as_str()) {
        return bad(
            e.row.id,
            Problem::HashMismatch,
            format!(
                "entry {} does not match its hash: it, or the entry before it, was changed",
                e.row.id
            ),
        );
    }
    None
}

impl ChainReport {
    fn broken(mut self, id: Option<i64>, problem: Problem, message: String) -> Self {
        self.ok = false;
        self.first_bad = Some(BadEntry {
            id,
            problem,
            message,
        });
        self
    }
}

/// `GET /api/audit/verify`: admins only.
pub async fn verify(ctx: &Ctx, actor: &Actor) -> Result<ChainReport> {
    actor.require_admin()?;
    ctx.store.run(verify_blocking).await
}
