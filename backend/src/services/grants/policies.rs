//! Grant policies (admin): which account of which target may be lent, how, for how long and
//! to whom; and the check of the rights the target's AutoDB account needs for it.

use std::time::Duration;

use serde_json::json;

use super::rights::{self, Right};
use super::{utc, Mode, Policy, PolicyInput};
use crate::connectors::{self, Engine};
use crate::services::audit::{self, Event};
use crate::services::error::{Error, Msg, Result};
use crate::services::targets::{spec_from_row, TargetAccess};
use crate::services::{Action, Actor, Ctx, Role};
use crate::store::grants::{self as rows, PolicyFields, PolicyRow};
use crate::store::{self, targets};

fn to_policy(r: &PolicyRow) -> Policy {
    Policy {
        id: r.id,
        name: r.name.clone(),
        target_id: r.target_id,
        account: r.account.clone(),
        mode: if r.mode == "personal" {
            Mode::Personal
        } else {
            Mode::Swap
        },
        max_duration_s: r.max_duration_s,
        roles: serde_json::from_str(&r.roles).unwrap_or_default(),
        kill_sessions: r.kill_sessions,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
    }
}

/// Checks the input and the target it names (it must exist and be PostgreSQL or MySQL/MariaDB).
async fn fields(ctx: &Ctx, input: &PolicyInput) -> Result<PolicyFields> {
    let name = input.name.trim();
    if name.is_empty() || input.name.chars().count() > 200 {
        return Err(Error::validation("name", Msg::chars(1, 200)));
    }
    let account = input.account.trim();
    if account.is_empty() || input.account.chars().count() > 128 {
        return Err(Error::validation("account", Msg::chars(1, 128)));
    }
    if account.contains(['\\', '\0', '\n', '\r']) {
        return Err(Error::validation(
            "account",
            Msg::new(
                "no_control_chars",
                "must not contain a backslash or control characters",
            ),
        ));
    }
    let min = i64::try_from(ctx.settings.grants.min_duration_s).unwrap_or(i64::MAX);
    if input.max_duration_s < min || input.max_duration_s > 30 * 86_400 {
        return Err(Error::validation(
            "max_duration_s",
            Msg::new(
                "between",
                format!("must be between grants.min_duration_s ({min}) and 2592000 (30 days)"),
            )
            .with("min", min)
            .with("max", 30 * 86_400),
        ));
    }
    if input.roles.is_empty() {
        return Err(Error::validation(
            "roles",
            Msg::new("roles_none", "name at least one role"),
        ));
    }
    let target_id = input.target_id;
    let row = ctx
        .store
        .run(move |c| targets::row(c, target_id))
        .await?
        .ok_or_else(|| Error::unprocessable("target_id", Msg::no_such("target")))?;
    match row.engine.parse::<Engine>() {
        Ok(Engine::Postgres | Engine::Mysql) => {}
        _ => {
            return Err(Error::unprocessable(
                "target_id",
                Msg::new(
                    "grant_engine",
                    format!(
                        "grants work on PostgreSQL and MySQL/MariaDB targets; this one is {}",
                        row.engine
                    ),
                )
                .with("engine", row.engine.as_str()),
            ))
        }
    }
    Ok(PolicyFields {
        name: name.to_string(),
        target_id,
        account: account.to_string(),
        mode: input.mode.as_str().to_string(),
        max_duration_s: input.max_duration_s,
        roles: serde_json::to_string(&input.roles).unwrap_or_else(|_| "[]".into()),
        kill_sessions: input.kill_sessions,
        updated_at: store::now(),
    })
}

fn named_conflict(e: Error) -> Error {
    match e {
        Error::Conflict(_) => Error::conflict(Msg::new(
            "policy_exists",
            "a grant policy with this name exists",
        )),
        other => other,
    }
}

pub async fn create_policy(ctx: &Ctx, actor: &Actor, input: PolicyInput) -> Result<Policy> {
    actor.require_to(Action::ManageGrants)?;
    let f = fields(ctx, &input).await?;
    let who = actor.clone();
    let id = ctx
        .store
        .write(move |tx| {
            let id = rows::insert_policy(tx, &f, who.user_id)?;
            let detail = json!({"name": f.name, "target_id": f.target_id, "account": f.account,
                "mode": f.mode, "max_duration_s": f.max_duration_s, "roles": input.roles,
                "kill_sessions": f.kill_sessions});
            audit::record(
                tx,
                Some(&who),
                None,
                None,
                Event::ok("create", "grant_policy", id).with(detail),
            )?;
            Ok::<_, Error>(id)
        })
        .await
        .map_err(named_conflict)?;
    get_policy(ctx, actor, id).await
}

pub async fn update_policy(
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
    input: PolicyInput,
) -> Result<Policy> {
    actor.require_to(Action::ManageGrants)?;
    let f = fields(ctx, &input).await?;
    let who = actor.clone();
    ctx.store
        .write(move |tx| {
            rows::update_policy(tx, id, &f)?;
            let detail = json!({"name": f.name, "target_id": f.target_id, "account": f.account,
                "mode": f.mode, "max_duration_s": f.max_duration_s, "roles": input.roles,
                "kill_sessions": f.kill_sessions});
            audit::record(
                tx,
                Some(&who),
                None,
                None,
                Event::ok("update", "grant_policy", id).with(detail),
            )?;
            Ok::<_, Error>(())
        })
        .await
        .map_err(named_conflict)?;
    get_policy(ctx, actor, id).await
}

/// Refused (409) while a grant of the policy still holds its account.
pub async fn delete_policy(ctx: &Ctx, actor: &Actor, id: i64) -> Result<()> {
    actor.require_to(Action::ManageGrants)?;
    let who = actor.clone();
    ctx.store
        .write(move |tx| {
            if rows::open_of_policy(tx, id)? > 0 {
                return Err(Error::conflict(Msg::new(
                    "policy_in_use",
                    "a grant of this policy is still open; end it first",
                )));
            }
            if !rows::delete_policy(tx, id)? {
                return Err(Error::NotFound("grant policy"));
            }
            audit::record(
                tx,
                Some(&who),
                None,
                None,
                Event::ok("delete", "grant_policy", id),
            )?;
            Ok(())
        })
        .await
}

/// Admins see every policy; others the ones their role may ask under.
pub async fn list_policies(ctx: &Ctx, actor: &Actor) -> Result<Vec<Policy>> {
    let all = ctx.store.run(rows::policies).await?;
    Ok(all
        .iter()
        .map(to_policy)
        .filter(|p| actor.may(Action::ManageGrants) || p.roles.contains(&actor.role))
        .collect())
}

pub async fn get_policy(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Policy> {
    let row = ctx
        .store
        .run(move |c| rows::policy(c, id))
        .await?
        .ok_or(Error::NotFound("grant policy"))?;
    let p = to_policy(&row);
    if !actor.may(Action::ManageGrants) && !p.roles.contains(&actor.role) {
        return Err(Error::NotFound("grant policy"));
    }
    Ok(p)
}

/// The policy and its target's connection details (main account).
pub(super) async fn policy_and_spec(
    ctx: &Ctx,
    id: i64,
) -> Result<(
    PolicyRow,
    Engine,
    std::result::Result<connectors::ConnectSpec, connectors::DbError>,
)> {
    let (policy, row) = ctx
        .store
        .run(move |c| {
            let p = rows::policy(c, id)?.ok_or(Error::NotFound("grant policy"))?;
            let t = targets::row(c, p.target_id)?.ok_or(Error::NotFound("target"))?;
            Ok::<_, Error>((p, t))
        })
        .await?;
    let engine: Engine = row
        .engine
        .parse()
        .map_err(|e: connectors::DbError| Error::internal(e.message))?;
    let timeout = Duration::from_secs(ctx.settings.engine.connect_timeout_s);
    let spec = spec_from_row(
        &row,
        &TargetAccess::of(ctx),
        timeout,
        Some(timeout.max(Duration::from_secs(10))),
    );
    Ok((policy, engine, spec))
}

/// Connects with the target's AutoDB account and reports each right a grant needs.
pub async fn check(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Vec<Right>> {
    actor.require_to(Action::ManageGrants)?;
    let (policy, engine, spec) = policy_and_spec(ctx, id).await?;
    let spec = match spec {
        Ok(s) => s,
        Err(e) => return Err(Error::TargetFailed(e.to_string())),
    };
    let user = spec.username.clone();
    let found = ctx
        .work
        .pool()
        .run(
            crate::work::Lane::Queries,
            Some(policy.target_id),
            move || {
                let mut conn = connectors::connect(&spec)?;
                rights::check(conn.as_mut(), engine, &user)
            },
        )
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    found.map_err(|e| Error::TargetFailed(e.to_string()))
}

/// Whether `actor` may ask under the policy: their role is one of its roles (admins always).
pub(super) fn may_ask(actor: &Actor, roles_json: &str) -> bool {
    let roles: Vec<Role> = serde_json::from_str(roles_json).unwrap_or_default();
    actor.role == Role::Admin || roles.contains(&actor.role)
}
