//! Recording and reading the audit log.

use serde::Serialize;
use serde_json::Value;

use super::error::Result;
use super::{Actor, Ctx};
use crate::store::audit::{self as rows, AuditFilter, NewAuditRow};
use crate::store::{self, DbConn};

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
    conn: &mut DbConn,
    actor: Option<&Actor>,
    who: Option<&str>,
    client_addr: Option<&str>,
    event: Event,
) -> Result<()> {
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
    )
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
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
    let (rows, total) = ctx
        .store
        .run(move |c| rows::page(c, &filter, offset, per_page))
        .await?;
    let items = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at.and_utc(),
            actor: r.actor_name,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::String(r.detail)),
            client_addr: r.client_addr,
            success: r.success,
        })
        .collect();
    Ok(AuditPage {
        items,
        total,
        page,
        per_page,
    })
}
