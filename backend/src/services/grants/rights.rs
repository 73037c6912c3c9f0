//! The rights check of a policy: each right a grant needs, whether the target's AutoDB account
//! holds it, and the SQL that grants what is missing. Blocking: on the engine's pool only.

use serde::Serialize;

use super::target::{rows, text, truthy, unsupported};
use super::{mysql, oracle, postgres};
use crate::connectors::{DbError, Engine, TargetConnection};

/// One right a grant needs, whether the target's AutoDB account holds it, and how to grant it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Right {
    pub right: String,
    pub ok: bool,
    /// The SQL that would grant it, when missing.
    pub grant_sql: Option<String>,
    /// Why it could not be checked.
    pub error: Option<String>,
}

pub fn check(
    conn: &mut dyn TargetConnection,
    engine: Engine,
    user: &str,
) -> Result<Vec<Right>, DbError> {
    match engine {
        Engine::Postgres => {
            let is_super = truthy(
                rows(
                    conn,
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                )?
                .first()
                .and_then(|r| r.first()),
            ) == Some(true);
            Ok(postgres::rights(user)
                .into_iter()
                .map(|(right, probe, grant)| {
                    let (ok, error) = if is_super {
                        (true, None)
                    } else {
                        match rows(conn, &probe) {
                            Ok(r) => (
                                truthy(r.first().and_then(|r| r.first())) == Some(true),
                                None,
                            ),
                            Err(e) => (false, Some(e.to_string())),
                        }
                    };
                    Right {
                        right: right.into(),
                        ok,
                        grant_sql: (!ok).then_some(grant),
                        error,
                    }
                })
                .collect())
        }
        Engine::Mysql => {
            let grants: Vec<String> = rows(conn, "SHOW GRANTS")?
                .iter()
                .filter_map(|r| text(r.first()))
                .collect();
            let all = grants
                .iter()
                .any(|g| g.starts_with("GRANT ALL PRIVILEGES ON *.*"));
            Ok(mysql::rights(user)
                .into_iter()
                .map(|(right, needles, grant)| {
                    let ok = all
                        || grants.iter().any(|g| {
                            needles.iter().any(|n| {
                                let (privs, on) = n.split_once(" ON ").unwrap_or((n, "*.*"));
                                g.contains(&format!(" ON {on} "))
                                    && g[..g.find(" ON ").unwrap_or(0)].contains(privs)
                            })
                        });
                    Right {
                        right: right.into(),
                        ok,
                        grant_sql: (!ok).then_some(grant),
                        error: None,
                    }
                })
                .collect())
        }
        Engine::Oracle => Ok(vec![Right {
            right: "grants on Oracle".into(),
            ok: false,
            grant_sql: Some(oracle::read("<account>")),
            error: Some(unsupported(engine).message),
        }]),
        other => Err(unsupported(other)),
    }
}
