//! A grant's life as the person sees it: request (intent, change, active), extend, end, read.
//! Taking it back is the sweeper's (`sweeper.rs`).

use chrono::Duration as Span;
use secrecy::ExposeSecret;
use serde_json::json;

use super::policies::{may_ask, policy_and_spec};
use super::target::{self, Verifier};
use super::{open, seal, secret, Created, ExtendInput, Grant, GrantInput, Mode, Status};
use super::{ORIGINAL_AAD, TEMP_AAD};
use crate::connectors::{self, Engine};
use crate::services::audit::{self, Event};
use crate::services::error::{Error, Msg, Result};
use crate::services::{Action, Actor, Ctx};
use crate::store::grants::{self as rows, Change, GrantFilter, GrantRow, NewGrant, WORK_KIND};
use crate::store::{self, work};
use crate::work::Lane;

fn holder(g: &GrantRow) -> Error {
    let until = g.expires_at.and_utc().to_rfc3339();
    Error::conflict(
        Msg::new(
            "account_lent",
            format!(
                "this account is lent to {} until {until} (grant {})",
                g.requested_by_name, g.id
            ),
        )
        .with("user", g.requested_by_name.as_str())
        .with("until", until.as_str())
        .with("grant", g.id),
    )
}

fn temp_verifier(engine: Engine, password: &secrecy::SecretString) -> Verifier {
    match engine {
        Engine::Mysql => Verifier {
            plugin: Some("mysql_native_password".into()),
            value: Some(secret::mysql_native(password)),
        },
        _ => Verifier {
            plugin: None,
            value: Some(secret::scram_sha256(password)),
        },
    }
}

/// A throwaway login's name (on MySQL/MariaDB the user of `'…'@'%'`).
fn personal_login() -> String {
    let tag: u32 = rand::random();
    format!("autodb_g{tag:08x}")
}

/// Records the intent, changes the account, and answers with the password (once).
pub async fn request(ctx: &Ctx, actor: &Actor, input: GrantInput) -> Result<Created> {
    let reason = input.reason.trim().to_string();
    if reason.is_empty() || input.reason.chars().count() > 1000 {
        return Err(Error::validation("reason", Msg::chars(1, 1000)));
    }
    let (policy, engine, spec) =
        policy_and_spec(ctx, input.policy_id)
            .await
            .map_err(|e| match e {
                Error::NotFound("grant policy") => {
                    Error::unprocessable("policy_id", Msg::no_such("grant policy"))
                }
                other => other,
            })?;
    if !may_ask(actor, &policy.roles) {
        return Err(Error::forbidden(
            Msg::new(
                "policy_role",
                format!("your role ({}) may not ask under this policy", actor.role),
            )
            .with("role", actor.role.to_string()),
        ));
    }
    let min = i64::try_from(ctx.settings.grants.min_duration_s).unwrap_or(i64::MAX);
    if input.duration_s < min || input.duration_s > policy.max_duration_s {
        let message = Msg::new(
            "between",
            format!(
                "must be between {min} (grants.min_duration_s) and {} (the policy's maximum)",
                policy.max_duration_s
            ),
        )
        .with("min", min)
        .with("max", policy.max_duration_s);
        // Below the configured minimum breaks the API document; over the policy's maximum is
        // the policy's refusal.
        return Err(if input.duration_s < min {
            Error::validation("duration_s", message)
        } else {
            Error::unprocessable("duration_s", message)
        });
    }
    let mode = if policy.mode == "personal" {
        Mode::Personal
    } else {
        Mode::Swap
    };
    let (target_id, account) = (policy.target_id, policy.account.clone());
    if mode == Mode::Swap {
        let acc = account.clone();
        if let Some(g) = ctx
            .store
            .run(move |c| rows::open_swap(c, target_id, &acc))
            .await?
        {
            return Err(holder(&g));
        }
    }
    let spec = spec.map_err(|e| Error::TargetFailed(e.to_string()))?;
    let password = secret::generate(&ctx.settings.grants);
    let temp = temp_verifier(engine, &password);
    let login = match mode {
        Mode::Swap => account.clone(),
        Mode::Personal => personal_login(),
    };

    // 1. Read what will be put back, and the session watermark, before anything changes.
    let acc = account.clone();
    let spec2 = spec.clone();
    let read = ctx
        .work
        .pool()
        .run(Lane::Queries, Some(target_id), move || {
            let mut conn = connectors::connect(&spec2)?;
            let snap = target::read(conn.as_mut(), engine, &acc)?;
            let mark = target::watermark(conn.as_mut(), engine)?;
            Ok::<_, connectors::DbError>((snap, mark))
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    let (snapshot, mark) = read.map_err(|e| Error::TargetFailed(e.to_string()))?;
    let Some(snapshot) = snapshot else {
        return Err(Error::TargetFailed(format!(
            "the account {account} does not exist on the target"
        )));
    };

    // 2. Intent: sealed original and temporary verifiers, state, watermark; the restore item
    //    is due at the expiry from now on, whatever happens to this process.
    let now = store::now();
    let expires_at = now + Span::seconds(input.duration_s);
    let new = NewGrant {
        status: Status::Pending.as_str().into(),
        policy_id: policy.id,
        target_id,
        account: account.clone(),
        login: login.clone(),
        mode: mode.as_str().into(),
        kill_sessions: policy.kill_sessions,
        requested_by: actor.user_id,
        requested_by_name: actor.username.clone(),
        reason: reason.clone(),
        created_at: now,
        expires_at,
        original_sealed: match mode {
            Mode::Swap => Some(seal(&ctx.secrets, ORIGINAL_AAD, &snapshot.verifier)?),
            Mode::Personal => None,
        },
        temp_sealed: seal(&ctx.secrets, TEMP_AAD, &temp)?,
        saved_state: serde_json::to_string(&snapshot.state).ok(),
        session_watermark: Some(mark),
    };
    let who = actor.clone();
    let id = ctx
        .store
        .write(move |tx| {
            if mode == Mode::Swap {
                if let Some(g) = rows::open_swap(tx, new.target_id, &new.account)? {
                    return Err(holder(&g));
                }
            }
            let id = rows::insert(tx, &new).map_err(|e| match e {
                store::StoreError::Duplicate(_) => Error::conflict(Msg::new(
                    "account_lent_now",
                    "this account is lent to someone else now",
                )),
                other => other.into(),
            })?;
            work::enqueue(
                tx,
                &[work::NewItem {
                    kind: WORK_KIND,
                    group_id: id,
                    subject_id: id,
                    target_id: Some(new.target_id),
                    run_after: new.expires_at,
                    created_at: now,
                }],
            )?;
            let detail = json!({"policy_id": new.policy_id, "target_id": new.target_id,
                "account": new.account, "login": new.login, "mode": new.mode,
                "duration_s": input.duration_s, "reason": new.reason});
            audit::record(
                tx,
                Some(&who),
                None,
                None,
                Event::ok("request", "grant", id).with(detail),
            )?;
            Ok(id)
        })
        .await?;

    // 3. The change.
    let (acc, lg, t) = (account.clone(), login.clone(), temp.clone());
    let applied = ctx
        .work
        .pool()
        .run(Lane::Queries, Some(target_id), move || {
            let mut conn = connectors::connect(&spec)?;
            match mode {
                Mode::Swap => target::set(conn.as_mut(), engine, &acc, &t),
                Mode::Personal => target::create_personal(
                    conn.as_mut(),
                    engine,
                    &lg,
                    &t,
                    &acc,
                    expires_at,
                    input.duration_s,
                ),
            }
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;

    // 4. Active — or, when the change failed, left to the sweeper now: it finds the account as
    //    it was (failed) or takes the change back.
    let who = actor.clone();
    let failure = applied.as_ref().err().map(|e| e.to_string());
    let done = ctx
        .store
        .write(move |tx| match &failure {
            None => {
                let change = Change {
                    status: Some(Status::Active.as_str().into()),
                    ..Change::default()
                };
                let moved = rows::transition(tx, id, &Status::sources(Status::Active), &change)?;
                if moved {
                    audit::record(tx, Some(&who), None, None, Event::ok("grant", "grant", id))?;
                }
                Ok::<_, Error>(moved)
            }
            Some(why) => {
                let change = Change {
                    last_error: Some(Some(why.clone())),
                    ..Change::default()
                };
                rows::transition(tx, id, &[Status::Pending.as_str()], &change)?;
                rows::reschedule(tx, id, store::now())?;
                let event = Event::ok("grant", "grant", id)
                    .with(json!({"error": why}))
                    .failed();
                audit::record(tx, Some(&who), None, None, event)?;
                Ok(false)
            }
        })
        .await?;
    if let Err(e) = applied {
        ctx.work.wake();
        return Err(Error::TargetFailed(e.to_string()));
    }
    if !done {
        return Err(Error::conflict(Msg::new(
            "grant_taken_back_early",
            "the grant was taken back before it became active",
        )));
    }
    Ok(Created {
        id,
        status: Status::Active,
        login: match (engine, mode) {
            (Engine::Mysql, Mode::Swap) => super::mysql::split_account(&login).0,
            _ => login,
        },
        password: password.expose_secret().to_string(),
        expires_at: expires_at.and_utc(),
    })
}

async fn row(ctx: &Ctx, actor: &Actor, id: i64) -> Result<GrantRow> {
    let g = ctx
        .store
        .run(move |c| rows::get(c, id))
        .await?
        .ok_or(Error::NotFound("grant"))?;
    if g.requested_by != actor.user_id && !actor.may(Action::ManageGrants) {
        return Err(Error::NotFound("grant"));
    }
    Ok(g)
}

pub async fn get(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Grant> {
    Ok(Grant::from(&row(ctx, actor, id).await?))
}

/// One's own grants; admins everyone's. Newest first, at most 500.
pub async fn list(ctx: &Ctx, actor: &Actor, mut filter: GrantFilter) -> Result<Vec<Grant>> {
    if let Some(s) = &filter.status {
        s.parse::<Status>()
            .map_err(|m| Error::validation("status", m))?;
    }
    if !actor.may(Action::ManageGrants) {
        filter.owner_id = Some(actor.user_id);
    }
    let found = ctx
        .store
        .run(move |c| rows::list(c, &filter, crate::services::MAX_PER_PAGE))
        .await?;
    Ok(found.iter().map(Grant::from).collect())
}

/// Adds `duration_s` to the expiry, within the policy's maximum counted from the start.
pub async fn extend(ctx: &Ctx, actor: &Actor, id: i64, input: ExtendInput) -> Result<Grant> {
    let g = row(ctx, actor, id).await?;
    if input.duration_s < 1 {
        return Err(Error::validation("duration_s", Msg::at_least(1)));
    }
    if g.status != Status::Active.as_str() {
        return Err(Error::conflict(
            Msg::new(
                "grant_not_active",
                format!("the grant is {}, not active", g.status),
            )
            .with("status", g.status.as_str()),
        ));
    }
    let (policy, engine, spec) = policy_and_spec(ctx, g.policy_id).await?;
    let until = g.expires_at + Span::seconds(input.duration_s);
    let total = (until - g.created_at).num_seconds();
    if total > policy.max_duration_s {
        return Err(Error::unprocessable(
            "duration_s",
            Msg::new(
                "grant_too_long",
                format!(
                    "the grant would last {total} s; the policy allows {} s from its start",
                    policy.max_duration_s
                ),
            )
            .with("total", total)
            .with("max", policy.max_duration_s),
        ));
    }
    if g.mode == Mode::Personal.as_str() {
        let spec = spec.map_err(|e| Error::TargetFailed(e.to_string()))?;
        let login = g.login.clone();
        let left = (until - store::now()).num_seconds().max(1);
        ctx.work
            .pool()
            .run(Lane::Queries, Some(g.target_id), move || {
                let mut conn = connectors::connect(&spec)?;
                target::extend_personal(conn.as_mut(), engine, &login, until, left)
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))?
            .map_err(|e| Error::TargetFailed(e.to_string()))?;
    }
    let who = actor.clone();
    ctx.store
        .write(move |tx| {
            let change = Change {
                expires_at: Some(until),
                ..Change::default()
            };
            if !rows::transition(tx, id, &[Status::Active.as_str()], &change)?
                || !rows::reschedule(tx, id, until)?
            {
                return Err(Error::conflict(Msg::new(
                    "grant_ending",
                    "the grant is being taken back now",
                )));
            }
            let detail = json!({"duration_s": input.duration_s, "expires_at": until.and_utc()});
            audit::record(
                tx,
                Some(&who),
                None,
                None,
                Event::ok("extend", "grant", id).with(detail),
            )?;
            Ok(())
        })
        .await?;
    get(ctx, actor, id).await
}

/// The holder hands it back early, or an admin revokes it: the restore is due now.
pub async fn end(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Grant> {
    let g = row(ctx, actor, id).await?;
    let status: Status = g.status.parse().map_err(Error::internal)?;
    if status.is_terminal() {
        return Err(Error::conflict(
            Msg::new("grant_ended", format!("the grant has already {}", g.status))
                .with("status", g.status.as_str()),
        ));
    }
    let who = actor.clone();
    ctx.store
        .write(move |tx| {
            let now = store::now();
            let change = Change {
                expires_at: (status == Status::Active).then_some(now),
                next_attempt_at: Some(Some(now)),
                ..Change::default()
            };
            rows::transition(tx, id, &[status.as_str()], &change)?;
            rows::reschedule(tx, id, now)?;
            let action = if who.user_id == g.requested_by {
                "end"
            } else {
                "revoke"
            };
            audit::record(tx, Some(&who), None, None, Event::ok(action, "grant", id))?;
            Ok::<_, Error>(())
        })
        .await?;
    ctx.work.wake();
    get(ctx, actor, id).await
}

/// Opens a grant's sealed verifiers (the sweeper's).
pub(super) fn verifiers(
    secrets: &crate::crypto::SecretBox,
    g: &GrantRow,
) -> std::result::Result<(Option<Verifier>, Verifier), String> {
    let original = match &g.original_sealed {
        Some(s) => Some(open(secrets, ORIGINAL_AAD, s)?),
        None => None,
    };
    Ok((original, open(secrets, TEMP_AAD, &g.temp_sealed)?))
}
