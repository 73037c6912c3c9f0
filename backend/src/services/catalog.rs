//! A target's schema for the SQL editor's completion (`GET /api/targets/{id}/schema`): read
//! from the target's own catalog (`connectors::catalog`) through the query console's path — the
//! query account, a transaction the database keeps read-only, the query time limit, the
//! queries lane of the engine's pool — bounded by caps, and kept in memory per target for
//! [`TTL`]. An entry is keyed by the target's stored settings too, so an edited target (new
//! host, account or password) is read anew. Requests that arrive while a target is being read
//! share that read (`coalesce`): a page of editors, or many users opening the console at once,
//! send one catalog query, not one each. Each read of a target is audited (`read_schema`); an
//! answer from the cache or from a shared read touches no target and is not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::audit::{self, Event};
use super::coalesce::Coalesce;
use super::error::{Error, Msg, Result};
use super::queries::account::UNSAFE_CODE;
use super::queries::runner::{open_read_only, Stoppable};
use super::targets::{query_spec, TargetAccess};
use super::{Action, Actor, Ctx};
use crate::connectors::catalog::{self, CatalogColumn, CatalogTable, Limits};
use crate::connectors::{Canceller, DbError};
use crate::store::targets::{self as rows, TargetRow};

/// How long a read catalog is answered from memory.
pub const TTL: Duration = Duration::from_secs(5 * 60);
/// Most targets whose catalogs are kept at once (each is bounded by [`Limits`]).
const MAX_ENTRIES: usize = 64;

/// The names of a target, as `GET /api/targets/{id}/schema` answers them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetSchema {
    /// The schema unqualified names resolve in, when the database says.
    pub default_schema: Option<String>,
    pub schemas: Vec<String>,
    pub tables: Vec<CatalogTable>,
    pub columns: Vec<CatalogColumn>,
    /// A cap cut the answer (at most 1,000 schemas, 5,000 tables and views, 20,000 columns).
    pub truncated: bool,
    /// When AutoDB read it from the target (an older time: answered from the cache).
    pub fetched_at: DateTime<Utc>,
}

struct Entry {
    version: [u8; 32],
    read_at: Instant,
    schema: Arc<TargetSchema>,
}

/// Catalogs read lately, per target, and the reads under way.
#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<i64, Entry>>,
    reads: Coalesce<(i64, [u8; 32]), TargetSchema>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("catalog::Cache")
    }
}

impl Cache {
    /// How many requests wait on a read of target `id` under way (0 when none is).
    pub fn readers(&self, id: i64) -> usize {
        self.reads.sharing(|(target, _)| *target == id)
    }

    fn get(&self, id: i64, version: &[u8; 32]) -> Option<Arc<TargetSchema>> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id)
            .filter(|e| &e.version == version && e.read_at.elapsed() < TTL)
            .map(|e| e.schema.clone())
    }

    fn put(&self, id: i64, version: [u8; 32], schema: Arc<TargetSchema>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, e| e.read_at.elapsed() < TTL);
        if map.len() >= MAX_ENTRIES && !map.contains_key(&id) {
            if let Some(oldest) = map.iter().min_by_key(|(_, e)| e.read_at).map(|(k, _)| *k) {
                map.remove(&oldest);
            }
        }
        let read_at = Instant::now();
        map.insert(
            id,
            Entry {
                version,
                read_at,
                schema,
            },
        );
    }
}

/// What the catalog depends on: where the target is, who reads it, and how (a changed
/// password is a new sealed text, so it changes this too).
fn version(row: &TargetRow) -> [u8; 32] {
    let mut h = Sha256::new();
    let parts: [&str; 9] = [
        &row.engine,
        &row.host,
        &row.port.to_string(),
        &row.database_name,
        &row.username,
        row.password_enc.as_deref().unwrap_or(""),
        row.query_username.as_deref().unwrap_or(""),
        row.query_password_enc.as_deref().unwrap_or(""),
        &row.options,
    ];
    for p in parts {
        h.update(p.len().to_le_bytes());
        h.update(p.as_bytes());
    }
    h.update([u8::from(row.trusted_for_queries)]);
    h.update(row.updated_at.and_utc().timestamp_micros().to_le_bytes());
    h.finalize().into()
}

/// Nothing stops a catalog read but its time limit.
#[derive(Default)]
struct NoStop;

impl Stoppable for NoStop {
    fn set_canceller(&self, _: Option<Arc<dyn Canceller>>) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// The schema of target `id`, from the cache unless `refresh` or it is older than [`TTL`], or
/// from the read of it under way.
/// Whoever may run queries may read it; to anyone else every id is refused alike.
pub async fn schema(ctx: &Ctx, actor: &Actor, id: i64, refresh: bool) -> Result<Arc<TargetSchema>> {
    actor.require_to(Action::RunQueries)?;
    let (row, _) = ctx
        .store
        .run(move |c| rows::by_id(c, id))
        .await?
        .ok_or(Error::NotFound("target"))?;
    let version = version(&row);
    if !refresh {
        if let Some(hit) = ctx.catalogs.get(id, &version) {
            return Ok(hit);
        }
    }
    let schema = ctx
        .catalogs
        .reads
        .get((id, version), || read(ctx, actor, &row))
        .await?;
    ctx.catalogs.put(id, version, schema.clone());
    Ok(schema)
}

/// Reads the catalog of target `row` and audits the read.
async fn read(ctx: &Ctx, actor: &Actor, row: &TargetRow) -> Result<TargetSchema> {
    let id = row.id;
    let access = TargetAccess::of(ctx);
    let connect_timeout = Duration::from_secs(ctx.settings.engine.connect_timeout_s);
    let timeout = Duration::from_secs(u64::from(ctx.settings.query.default_timeout_s));
    let target = row.clone();
    let read = ctx
        .work
        .pool()
        .run(crate::work::Lane::Queries, Some(id), move || {
            let spec = query_spec(&access, &target, connect_timeout, timeout)?;
            let mut conn = open_read_only(&spec, &NoStop, &[], target.trusted_for_queries)?;
            let read = catalog::read(conn.as_mut(), Limits::default());
            // Read-only and always rolled back, as a query is.
            let _ = conn.rollback();
            read
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    let detail = match &read {
        Ok(c) => json!({
            "name": row.name, "schemas": c.schemas.len(), "tables": c.tables.len(),
            "columns": c.columns.len(), "truncated": c.truncated,
        }),
        Err(e) => json!({"name": row.name, "error": e.to_string()}),
    };
    let a = actor.clone();
    let ok = read.is_ok();
    ctx.store
        .write(move |c| {
            let event = Event::ok("read_schema", "target", id).with(detail);
            audit::record(
                c,
                Some(&a),
                None,
                None,
                if ok { event } else { event.failed() },
            )
        })
        .await?;
    let found = read.map_err(|e| refusal(&row.name, e))?;
    Ok(TargetSchema {
        default_schema: found.default_schema,
        schemas: found.schemas,
        tables: found.tables,
        columns: found.columns,
        truncated: found.truncated,
        fetched_at: Utc::now(),
    })
}

fn refusal(target: &str, e: DbError) -> Error {
    if e.code.as_deref() == Some(UNSAFE_CODE) {
        return Error::QueryAccountUnsafe(e.message);
    }
    Error::TargetError(
        Msg::new(
            "schema_unreadable",
            format!("cannot read the schema of target {target}: {e}"),
        )
        .with("target", target)
        .with("detail", e.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> TargetRow {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .map(|t| t.naive_utc())
            .unwrap_or_default();
        TargetRow {
            id: 1,
            name: "t".into(),
            engine: "postgres".into(),
            host: "h".into(),
            port: 5432,
            database_name: "d".into(),
            username: "u".into(),
            password_enc: Some("sealed-1".into()),
            options: "{}".into(),
            created_by: None,
            created_at: at,
            updated_at: at,
            query_username: None,
            query_password_enc: None,
            trusted_for_queries: false,
            query_account_findings: None,
            query_account_checked_at: None,
            query_account_check_error: None,
            health_ok: None,
            health_checked_at: None,
            health_latency_ms: None,
            health_server_version: None,
            health_error: None,
        }
    }

    #[test]
    fn a_changed_host_account_or_password_is_a_new_version_and_a_name_is_not() {
        let base = version(&row());
        let renamed = TargetRow {
            name: "other".into(),
            ..row()
        };
        assert_eq!(version(&renamed), base);
        let changes = [
            TargetRow {
                host: "h2".into(),
                ..row()
            },
            TargetRow {
                password_enc: Some("sealed-2".into()),
                ..row()
            },
            TargetRow {
                query_username: Some("reader".into()),
                ..row()
            },
            TargetRow {
                trusted_for_queries: true,
                ..row()
            },
        ];
        for changed in changes {
            assert_ne!(version(&changed), base, "{changed:?}");
        }
    }

    #[test]
    fn the_cache_answers_only_the_same_version() {
        let cache = Cache::default();
        let schema = Arc::new(TargetSchema {
            default_schema: None,
            schemas: vec!["public".into()],
            tables: vec![],
            columns: vec![],
            truncated: false,
            fetched_at: Utc::now(),
        });
        cache.put(7, [1; 32], schema);
        assert!(cache.get(7, &[1; 32]).is_some());
        assert!(cache.get(7, &[2; 32]).is_none());
        assert!(cache.get(8, &[1; 32]).is_none());
    }
}
