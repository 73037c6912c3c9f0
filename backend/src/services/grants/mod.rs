//! Grants: temporary access to a database account, always taken back. A policy names the
//! account, the mode and who may ask; a grant records its intent (sealed original verifier,
//! temporary verifier, state, session watermark) before the account is changed, then changes
//! it, then is `active`. Taking it back is work on the engine ([`sweeper::GrantRestores`]):
//! one item per grant, due at its expiry, re-queued if its process dies.
//!
//! - `policies.rs`: policy validation and CRUD, the rights check.
//! - `lifecycle.rs`: request, extend, end, read.
//! - `sweeper.rs`: the restore as a kind of work.
//! - `target.rs` with `postgres.rs`, `mysql.rs`, `oracle.rs`: what happens on the target;
//!   `rights.rs`: the rights check.
//! - `secret.rs`: the temporary password and its verifiers; `status.rs`: the lifecycle.

mod lifecycle;
pub mod mysql;
pub mod oracle;
mod policies;
pub mod postgres;
pub mod rights;
pub mod secret;
pub mod status;
pub mod sweeper;
pub mod target;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

pub use lifecycle::{end, extend, get, list, request};
pub use policies::{check, create_policy, delete_policy, get_policy, list_policies, update_policy};
pub use status::Status;

use crate::crypto::SecretBox;
use crate::services::error::{Error, Result};
use crate::store::grants::GrantRow;

/// How a policy lends its account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The shared account's password is swapped for a temporary one, then put back.
    Swap,
    /// A throwaway login per grant acting as the account, which the database itself expires
    /// (the default: the shared account is never touched).
    #[default]
    Personal,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Swap => "swap",
            Mode::Personal => "personal",
        }
    }

    fn parse(s: &str) -> Mode {
        if s == "personal" {
            Mode::Personal
        } else {
            Mode::Swap
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub target_id: i64,
    pub account: String,
    pub mode: Mode,
    pub max_duration_s: i64,
    pub roles: Vec<crate::services::Role>,
    pub kill_sessions: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/grant-policies` and `PUT /api/grant-policies/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    #[schema(
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 200
    )]
    pub name: String,
    pub target_id: i64,
    /// PostgreSQL role; MySQL/MariaDB `user` or `user@host` (host `%` when not given).
    #[schema(
        pattern = r"^(?=[\s\S]*[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])[^\\\u0000\n\r]*$",
        max_length = 128
    )]
    pub account: String,
    /// `personal` when absent.
    #[serde(default)]
    pub mode: Mode,
    /// Seconds, from `grants.min_duration_s` to 2592000 (30 days).
    #[schema(maximum = 2592000)]
    pub max_duration_s: i64,
    /// The AutoDB roles that may ask (admins always may).
    #[schema(min_items = 1)]
    pub roles: Vec<crate::services::Role>,
    /// End the sessions opened with the temporary access when it is taken back.
    #[serde(default = "yes")]
    pub kill_sessions: bool,
}

fn yes() -> bool {
    true
}

/// Body of `POST /api/grants`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub policy_id: i64,
    pub duration_s: i64,
    #[schema(
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 1000
    )]
    pub reason: String,
}

/// Body of `POST /api/grants/{id}/extend`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendInput {
    /// Seconds added to the current expiry; the whole grant stays within the policy's maximum.
    #[schema(minimum = 1)]
    pub duration_s: i64,
}

/// The answer to `POST /api/grants`: the only time the password is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
    pub status: Status,
    /// The account to log in as: the shared account (swap) or the personal login.
    pub login: String,
    /// Shown once; never stored in plaintext, never sent to the database where a verifier is accepted.
    pub password: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: i64,
    pub status: Status,
    pub policy_id: i64,
    pub target_id: i64,
    pub account: String,
    pub login: String,
    pub mode: Mode,
    /// User name of the person who asked.
    pub requested_by: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub restore_attempts: i32,
    pub last_error: Option<String>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

impl From<&GrantRow> for Grant {
    fn from(r: &GrantRow) -> Self {
        Grant {
            id: r.id,
            status: r.status.parse().unwrap_or(Status::Failed),
            policy_id: r.policy_id,
            target_id: r.target_id,
            account: r.account.clone(),
            login: r.login.clone(),
            mode: Mode::parse(&r.mode),
            requested_by: r.requested_by_name.clone(),
            reason: r.reason.clone(),
            created_at: utc(r.created_at),
            expires_at: utc(r.expires_at),
            ended_at: r.ended_at.map(utc),
            restore_attempts: r.restore_attempts,
            last_error: r.last_error.clone(),
        }
    }
}

/// Sealing purposes: a verifier sealed for one cannot be opened as the other.
const ORIGINAL_AAD: &str = "autodb:grant-original";
const TEMP_AAD: &str = "autodb:grant-temp";

fn seal(secrets: &SecretBox, aad: &str, v: &target::Verifier) -> Result<String> {
    let json = serde_json::to_string(v).map_err(|e| Error::internal(e.to_string()))?;
    secrets
        .seal_for(aad, &json)
        .map_err(|e| Error::internal(format!("sealing a verifier: {e}")))
}

fn open(
    secrets: &SecretBox,
    aad: &str,
    sealed: &str,
) -> std::result::Result<target::Verifier, String> {
    let json = secrets.open_for(aad, sealed)?;
    serde_json::from_str(&json).map_err(|e| format!("a sealed verifier is not readable: {e}"))
}
