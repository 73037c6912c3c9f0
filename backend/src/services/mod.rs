//! Domain services: the rules of AutoDB. Handlers call these; these call `store` and
//! `connectors`. Nothing here knows about HTTP.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod coalesce;
pub mod confine;
pub mod error;
pub mod grants;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod queries;
pub mod schedules;
pub mod targets;
pub mod users;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::crypto::SecretBox;
use crate::store::Store;

/// Everything a service needs, shared by all HTTP workers.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub store: Store,
    pub secrets: SecretBox,
    /// Where targets may point (SQLite folders, never the store).
    pub confinement: Arc<confine::Confinement>,
    pub settings: Arc<Settings>,
    pub throttle: Arc<auth::LoginThrottle>,
    pub auth_cache: Arc<auth::AuthCache>,
    /// Concurrent reads of one job share one load and its JSON (`jobs::get_json`).
    pub job_reads: Arc<coalesce::Coalesce<i64, bytes::Bytes>>,
    /// Targets' catalogs read lately, for the SQL editor's completion (`catalog::schema`).
    pub catalogs: Arc<catalog::Cache>,
    /// The one engine for background work; `jobs` and `queries` are its views for each kind.
    pub work: Arc<crate::work::Engine>,
    pub jobs: crate::work::Handle,
    pub queries: crate::work::Handle,
    /// Schedule fires' view of the engine; the clock schedules go by (hand-set in tests); the
    /// slot that gives the fire kind this context once it is built (`schedules::runner`).
    pub schedules: crate::work::Handle,
    pub clock: Arc<dyn schedules::clock::Clock>,
    pub schedule_slot: schedules::runner::Slot,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Developer,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Developer, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Developer => "developer",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}`; expected admin, operator, developer or viewer")
            })
    }
}

/// Who is acting, and from where: the subject of every permission check and audit entry.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub client_addr: Option<String>,
    /// The session's token digest when authenticated by a login token (so logout can end it).
    pub session_digest: Option<String>,
}

impl Actor {
    /// Passes when the actor holds one of `roles` (admin always passes).
    pub fn require(&self, roles: &[Role]) -> Result<(), error::Error> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            Ok(())
        } else {
            Err(error::Error::forbidden(error::Msg::new(
                "role_denied",
                "your role does not allow this action",
            )))
        }
    }

    pub fn require_admin(&self) -> Result<(), error::Error> {
        self.require(&[Role::Admin])
    }

    /// Whether the actor's role (as read when they were authenticated) allows `action`.
    pub fn may(&self, action: Action) -> bool {
        self.role >= action.min_role()
    }

    /// Passes when the actor's role allows `action`.
    pub fn require_to(&self, action: Action) -> Result<(), error::Error> {
        if self.may(action) {
            Ok(())
        } else {
            let text = format!(
                "your role ({}) does not allow this: {} needs {} or above",
                self.role,
                action.describe(),
                action.min_role()
            );
            // `action` is the variant's name (`RunQueries`), a stable key for translations.
            Err(error::Error::forbidden(
                error::Msg::new("role_needs", text)
                    .with("role", self.role.to_string())
                    .with("action", format!("{action:?}"))
                    .with("needed", action.min_role().to_string()),
            ))
        }
    }
}

/// What a caller may ask AutoDB to do. Which role each action needs is decided here and only
/// here: the route table (`api::permissions`) names an action per route and checks it before
/// the handler runs; services check the same action again (with ownership) where they act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read targets, jobs (scripts, runs, run logs, live events); split SQL.
    Read,
    /// Submit jobs; cancel and retry one's own.
    RunJobs,
    /// Cancel and retry anyone's job.
    SteerAnyJob,
    /// Test a target's connection.
    TestTargets,
    /// Run queries; follow, export (which may re-run the statement) and cancel one's own.
    RunQueries,
    /// See, follow, export and cancel everyone's queries.
    SeeAllQueries,
    /// Create, change and delete targets.
    ManageTargets,
    /// List, create and change users.
    ManageUsers,
    /// Read the audit log.
    ReadAudit,
    /// Manage grant policies, check their rights, see and revoke everyone's grants.
    ManageGrants,
    /// Change, delete and run anyone's schedule.
    ManageAnySchedule,
    /// Scrape `/metrics` (not an `/api` route: checked by its handler).
    ReadMetrics,
}

impl Action {
    /// The lowest role that may do this (roles are ordered viewer < developer < operator < admin).
    pub const fn min_role(self) -> Role {
        match self {
            Action::Read => Role::Viewer,
            Action::RunJobs | Action::RunQueries => Role::Developer,
            Action::SteerAnyJob | Action::TestTargets => Role::Operator,
            Action::SeeAllQueries
            | Action::ManageTargets
            | Action::ManageUsers
            | Action::ReadAudit
            | Action::ManageGrants => Role::Admin,
            Action::ManageAnySchedule | Action::ReadMetrics => Role::Admin,
        }
    }

    pub const fn describe(self) -> &'static str {
        match self {
            Action::Read => "reading",
            Action::RunJobs => "running jobs",
            Action::SteerAnyJob => "steering other users' jobs",
            Action::TestTargets => "testing targets",
            Action::RunQueries => "running queries",
            Action::SeeAllQueries => "reaching other users' queries",
            Action::ManageTargets => "managing targets",
            Action::ManageUsers => "managing users",
            Action::ReadAudit => "reading the audit log",
            Action::ManageGrants => "managing grants",
            Action::ManageAnySchedule => "changing other users' schedules",
            Action::ReadMetrics => "reading metrics",
        }
    }
}

/// `s` cut to `max_chars` characters, with `…` when it was longer.
pub fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Runs blocking work (argon2, several store transactions in a row) on tokio's blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, error::Error> + Send + 'static,
) -> Result<T, error::Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| error::Error::internal(format!("blocking task failed: {e}")))?
}

/// Largest page any list answers.
pub const MAX_PER_PAGE: i64 = 500;

/// Checks `page` (1-based) and `per_page`, and returns the rows to skip.
pub fn page_offset(page: i64, per_page: i64) -> Result<i64, error::Error> {
    if page < 1 {
        return Err(error::Error::validation("page", error::Msg::at_least(1)));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(error::Error::validation(
            "per_page",
            error::Msg::between(1, MAX_PER_PAGE),
        ));
    }
    Ok((page - 1).saturating_mul(per_page))
}

/// A JSON column read back. A value that does not parse is a corrupt row, answered as the
/// store's integrity error naming the column — never an empty default.
pub fn stored_json<T: serde::de::DeserializeOwned>(
    text: &str,
    column: &'static str,
) -> Result<T, error::Error> {
    serde_json::from_str(text).map_err(|e| {
        crate::store::StoreError::Integrity(format!("{column} does not parse: {e}")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: 1,
            username: "u".into(),
            role,
            client_addr: None,
            session_digest: None,
        }
    }

    #[test]
    fn each_action_is_allowed_from_its_lowest_role_upwards_only() {
        assert!(Role::Viewer < Role::Developer && Role::Developer < Role::Operator);
        assert!(Role::Operator < Role::Admin);
        let cases = [
            (Action::Read, Role::Viewer),
            (Action::RunJobs, Role::Developer),
            (Action::RunQueries, Role::Developer),
            (Action::SteerAnyJob, Role::Operator),
            (Action::TestTargets, Role::Operator),
            (Action::SeeAllQueries, Role::Admin),
            (Action::ManageTargets, Role::Admin),
            (Action::ManageUsers, Role::Admin),
            (Action::ReadAudit, Role::Admin),
            (Action::ManageGrants, Role::Admin),
            (Action::ManageAnySchedule, Role::Admin),
            (Action::ReadMetrics, Role::Admin),
        ];
        for (action, lowest) in cases {
            for role in Role::ALL {
                let a = actor(role);
                assert_eq!(a.may(action), role >= lowest, "{role} {action:?}");
                assert_eq!(a.require_to(action).is_ok(), role >= lowest);
            }
        }
        let e = actor(Role::Viewer).require_to(Action::RunQueries);
        assert!(
            matches!(e, Err(error::Error::Forbidden(m)) if m.as_str().contains("developer")),
            "the refusal names the role needed"
        );
    }
}
