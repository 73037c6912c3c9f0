//! Targets: the databases AutoDB manages. Validation, credential sealing, tags, and the
//! connection test (run on the engine's pool, never on an HTTP worker) of a stored target, of
//! its pending edits, or of one not saved yet. Health (the last check, and the periodic check)
//! is in [`health`]; CSV import in [`import`].

mod csv;
pub mod health;
pub mod import;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::audit::{self, Event};
use super::confine::Confinement;
use super::error::{Error, Msg, Result};
use super::queries::account::{self, AccountFinding};
use super::{Action, Actor, Ctx};
use crate::connectors::{ConnectSpec, DbError, DbErrorKind, Engine};
use crate::crypto::SecretBox;
use crate::domain::TargetSelector;
use crate::store::{self, targets as rows, StoreError};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Target {
    pub id: i64,
    pub name: String,
    pub engine: Engine,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    /// Whether a password is stored; the password itself is never returned.
    pub has_password: bool,
    /// The separate account read-only queries connect with, when set (least privilege).
    pub query_username: Option<String>,
    /// Whether a password is stored for the query account (never returned).
    pub has_query_password: bool,
    /// An admin's decision: queries run on this target even though its query account can reach
    /// beyond a read-only query (see `query_account_findings`).
    pub trusted_for_queries: bool,
    /// What the account queries use may do beyond reading, as last checked (at save; queries
    /// check again before each use). Null: not checked yet (see `query_account_check_error`).
    pub query_account_findings: Option<Vec<AccountFinding>>,
    pub query_account_checked_at: Option<DateTime<Utc>>,
    /// Why the last check could not run (e.g. the target was down at save time).
    pub query_account_check_error: Option<String>,
    pub tags: Vec<String>,
    #[schema(value_type = HashMap<String, Value>)]
    pub options: Map<String, Value>,
    /// The last connection check (a test, or the periodic check); null when never checked.
    pub health: Option<health::TargetHealth>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A target tag in the API document: 1 to 40 characters of a-z, 0-9, '-', '_' or '.'
/// (targets keep tags as plain strings; [`validate`] holds them to this).
pub struct TagName;

impl utoipa::PartialSchema for TagName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[a-z0-9._-]{1,40}$"))
            .into()
    }
}

impl utoipa::ToSchema for TagName {}

/// Body of `POST /api/targets` and `PUT /api/targets/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    #[schema(
        pattern = r"^[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([\s\S]*[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?$",
        max_length = 100
    )]
    pub name: String,
    pub engine: Engine,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub host: String,
    #[serde(default)]
    #[schema(maximum = 65535)]
    pub port: u16,
    /// Database name; the service name for Oracle; the file path for SQLite.
    #[serde(default)]
    pub database: String,
    #[serde(default)]
    pub username: String,
    /// On update, absent or null keeps the stored password; "" removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// A least-privilege account for read-only queries (e.g. granted SELECT only). Absent, null
    /// or "" means queries use the main account.
    #[serde(default)]
    #[schema(
        pattern = r"^([^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([\s\S]*[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?)?$",
        max_length = 255
    )]
    pub query_username: Option<String>,
    /// Its password. On update, absent or null keeps the stored one; "" removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub query_password: Option<SecretString>,
    /// Run queries even if the query account can reach beyond a read-only query (admins only;
    /// audited). On create absent means false; on update absent keeps the stored value.
    #[serde(default)]
    pub trusted_for_queries: Option<bool>,
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<TagName>)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = HashMap<String, Value>)]
    pub options: Map<String, Value>,
}

/// What reaching a stored target takes: the key that opens its passwords, and where targets
/// may point (checked again each time one is opened).
#[derive(Debug, Clone)]
pub struct TargetAccess {
    pub secrets: SecretBox,
    pub confinement: Arc<Confinement>,
}

impl TargetAccess {
    pub fn of(ctx: &Ctx) -> Self {
        Self {
            secrets: ctx.secrets.clone(),
            confinement: ctx.confinement.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestResult {
    pub ok: bool,
    pub server_version: Option<String>,
    pub rtt_ms: f64,
    pub error: Option<DbError>,
}

fn row_to_target(row: rows::TargetRow, tags: Vec<String>) -> Result<Target> {
    let query_account_findings = account::stored(&row);
    let health = health::of_row(&row);
    Ok(Target {
        health,
        id: row.id,
        engine: row
            .engine
            .parse()
            .map_err(|e| Error::internal(format!("{e:?}")))?,
        name: row.name,
        host: row.host,
        port: u16::try_from(row.port).unwrap_or(0),
        database: row.database_name,
        username: row.username,
        has_password: row.password_enc.is_some(),
        query_username: row.query_username,
        has_query_password: row.query_password_enc.is_some(),
        trusted_for_queries: row.trusted_for_queries,
        query_account_findings,
        query_account_checked_at: row.query_account_checked_at.map(|t| t.and_utc()),
        query_account_check_error: row.query_account_check_error,
        tags,
        options: serde_json::from_str(&row.options).unwrap_or_default(),
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn required_here() -> Msg {
    Msg::new("required_for_engine", "is required for this engine")
}

fn validate(input: &TargetInput) -> Result<Vec<String>> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name != input.name {
        return Err(Error::validation("name", Msg::chars_trimmed(1, 100)));
    }
    if input.host.chars().count() > 255 {
        return Err(Error::validation("host", Msg::at_most_chars(255)));
    }
    let networked = input.engine != Engine::Sqlite;
    if networked {
        if input.host.trim().is_empty() {
            return Err(Error::unprocessable("host", required_here()));
        }
        if input.port == 0 {
            return Err(Error::unprocessable("port", Msg::between(1, 65535)));
        }
        if input.username.trim().is_empty() {
            return Err(Error::unprocessable("username", required_here()));
        }
    }
    if matches!(input.engine, Engine::Sqlite | Engine::Oracle) && input.database.trim().is_empty() {
        let (reason, what) = if networked {
            ("service_name_required", "the service name")
        } else {
            ("file_path_required", "the file path")
        };
        return Err(Error::unprocessable(
            "database",
            Msg::new(reason, format!("must give {what}")),
        ));
    }
    if let Some(q) = &input.query_username {
        if q.chars().count() > 255 || q.trim() != q {
            return Err(Error::validation(
                "query_username",
                Msg::new(
                    "at_most_chars_trimmed",
                    "must be at most 255 characters without leading or trailing spaces",
                )
                .with("max", 255),
            ));
        }
    }
    if input.tags.len() > 50 {
        return Err(Error::validation(
            "tags",
            Msg::new("tags_count", "at most 50 tags").with("max", 50),
        ));
    }
    let mut tags: Vec<String> = Vec::with_capacity(input.tags.len());
    for (i, tag) in input.tags.iter().enumerate() {
        let ok = (1..=40).contains(&tag.len())
            && tag.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if !ok {
            return Err(Error::validation(
                format!("tags[{i}]"),
                Msg::new(
                    "tag_pattern",
                    "tags are 1 to 40 characters of a-z, 0-9, '-', '_' or '.'",
                ),
            ));
        }
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    Ok(tags)
}

/// Where the target points: a SQLite file must be allowed (and is kept as its real path); no
/// target may be the metadata store.
async fn check_place(ctx: &Ctx, input: &mut TargetInput) -> Result<()> {
    if input.engine == Engine::Sqlite {
        let real = ctx
            .confinement
            .sqlite_file(&input.database)
            .map_err(|why| Error::unprocessable("database", why))?;
        input.database = real
            .to_str()
            .ok_or_else(|| {
                Error::unprocessable("database", Msg::new("utf8_path", "must be a UTF-8 path"))
            })?
            .to_string();
        return Ok(());
    }
    let (c, host, port) = (
        ctx.confinement.clone(),
        input.host.trim().to_string(),
        input.port,
    );
    let database = input.database.clone();
    if on_thread(ctx, move || c.is_store(&host, port, &database)).await? {
        return Err(Error::unprocessable(
            "database",
            Msg::new(
                "own_store",
                "is AutoDB's own metadata store: no target may be it",
            ),
        ));
    }
    Ok(())
}

/// A change that would send a stored password somewhere new needs it given again (issue 8,
/// finding 11: else an admin could point a target at a host of theirs and test it).
fn check_password_moves(
    before: &rows::TargetRow,
    input: &TargetInput,
    f: &rows::TargetFields,
) -> Result<()> {
    let place = [
        ("engine", before.engine != f.engine),
        ("host", before.host != f.host),
        ("port", before.port != f.port),
        ("database", before.database_name != f.database_name),
    ];
    let first = |last: (&'static str, bool)| {
        place
            .into_iter()
            .chain([last])
            .find_map(|(field, changed)| changed.then_some(field))
    };
    let required = |field: &str, password: &str| Error::PasswordRequired {
        field: field.to_string(),
        message: Msg::new(
            "password_required",
            format!(
                "changing `{field}` would send the stored password somewhere new: give \
                 `{password}` again"
            ),
        )
        .with("field", field)
        .with("password", password),
    };
    if before.password_enc.is_some() && input.password.is_none() {
        if let Some(field) = first(("username", before.username != f.username)) {
            return Err(required(field, "password"));
        }
    }
    let query_kept = input.query_password.is_none() && f.query_username.is_some();
    if before.query_password_enc.is_some() && query_kept {
        let account = ("query_username", before.query_username != f.query_username);
        if let Some(field) = first(account) {
            return Err(required(field, "query_password"));
        }
    }
    Ok(())
}

fn fields(ctx: &Ctx, input: &TargetInput, password_enc: Option<String>) -> rows::TargetFields {
    rows::TargetFields {
        name: input.name.clone(),
        engine: input.engine.to_string(),
        host: input.host.trim().to_string(),
        port: i32::from(input.port),
        database_name: input.database.clone(),
        username: input.username.clone(),
        password_enc: password_enc.or_else(|| {
            input
                .password
                .as_ref()
                .filter(|p| !p.expose_secret().is_empty())
                .map(|p| ctx.secrets.seal(p))
        }),
        options: Value::Object(input.options.clone()).to_string(),
        updated_at: store::now(),
        query_username: query_username(input),
        query_password_enc: query_username(input).and(
            input
                .query_password
                .as_ref()
                .filter(|p| !p.expose_secret().is_empty())
                .map(|p| ctx.secrets.seal(p)),
        ),
        trusted_for_queries: input.trusted_for_queries.unwrap_or(false),
    }
}

fn query_username(input: &TargetInput) -> Option<String> {
    input.query_username.clone().filter(|u| !u.is_empty())
}

/// What the audit log keeps of a target change: everything but the password, and the trust for
/// queries as it now stands (`before`: as it stood).
fn audit_detail(input: &TargetInput, tags: &[String], trusted: bool, before: bool) -> Value {
    json!({
        "name": input.name, "engine": input.engine, "host": input.host, "port": input.port,
        "database": input.database, "username": input.username, "tags": tags,
        "password_changed": input.password.is_some(),
        "query_username": input.query_username,
        "query_password_changed": input.query_password.is_some(),
        "trusted_for_queries": trusted,
        "trusted_for_queries_changed": trusted != before,
    })
}

pub async fn create(ctx: &Ctx, actor: &Actor, mut input: TargetInput) -> Result<Target> {
    actor.require_admin()?;
    let tags = validate(&input)?;
    check_place(ctx, &mut input).await?;
    let f = fields(ctx, &input, None);
    let actor = actor.clone();
    let id = ctx
        .store
        .write(move |c| {
            let id = rows::insert(c, &f, &tags, actor.user_id)
                .map_err(|e| named_conflict(e, &input.name))?;
            let detail = audit_detail(&input, &tags, f.trusted_for_queries, false);
            let event = Event::ok("create", "target", id).with(detail);
            audit::record(c, Some(&actor), None, None, event)?;
            Ok::<_, Error>(id)
        })
        .await?;
    check_query_account(ctx, id).await
}

pub async fn update(ctx: &Ctx, actor: &Actor, id: i64, mut input: TargetInput) -> Result<Target> {
    actor.require_admin()?;
    let tags = validate(&input)?;
    check_place(ctx, &mut input).await?;
    let actor = actor.clone();
    let sealed_new = input
        .password
        .as_ref()
        .filter(|p| !p.expose_secret().is_empty())
        .map(|p| ctx.secrets.seal(p));
    let mut f = fields(ctx, &input, sealed_new);
    ctx.store
        .write(move |c| {
            let (before, _) = rows::by_id(c, id)?.ok_or(Error::NotFound("target"))?;
            check_password_moves(&before, &input, &f)?;
            if input.password.is_none() {
                f.password_enc = before.password_enc;
            }
            // The query account's password is kept like the main one, while the account is.
            if input.query_password.is_none() && f.query_username.is_some() {
                f.query_password_enc = before.query_password_enc;
            }
            if input.trusted_for_queries.is_none() {
                f.trusted_for_queries = before.trusted_for_queries;
            }
            rows::update(c, id, &f, &tags).map_err(|e| named_conflict(e, &input.name))?;
            let detail = audit_detail(
                &input,
                &tags,
                f.trusted_for_queries,
                before.trusted_for_queries,
            );
            let event = Event::ok("update", "target", id).with(detail);
            audit::record(c, Some(&actor), None, None, event)
        })
        .await?;
    check_query_account(ctx, id).await
}

/// A duplicate name, said as such.
fn named_conflict(e: StoreError, name: &str) -> Error {
    match e {
        StoreError::Duplicate(_) => Error::conflict(
            Msg::new(
                "target_exists",
                format!("a target named `{name}` already exists"),
            )
            .with("name", name),
        ),
        other => other.into(),
    }
}

/// Checks what the account queries will use may do (see `queries::account`) and stores the
/// answer on the target; a target that cannot be reached is stored unchecked. Returns the target.
async fn check_query_account(ctx: &Ctx, id: i64) -> Result<Target> {
    let row = ctx
        .store
        .run(move |c| rows::row(c, id))
        .await?
        .ok_or(Error::NotFound("target"))?;
    let connect = Duration::from_secs(ctx.settings.engine.connect_timeout_s);
    let check = match query_spec(
        &TargetAccess::of(ctx),
        &row,
        connect,
        connect.max(Duration::from_secs(5)),
    ) {
        Ok(spec) if spec.engine == Engine::Sqlite => rows::AccountCheckFields {
            query_account_findings: Some("[]".into()),
            query_account_checked_at: Some(store::now()),
            query_account_check_error: None,
        },
        Ok(spec) => on_thread(ctx, move || account::check_at_save(&spec)).await?,
        Err(e) => rows::AccountCheckFields {
            query_account_findings: None,
            query_account_checked_at: None,
            query_account_check_error: Some(e.to_string()),
        },
    };
    let (row, tags) = ctx
        .store
        .write(move |c| {
            rows::set_account_check(c, id, &check)?;
            rows::by_id(c, id)?.ok_or(Error::NotFound("target"))
        })
        .await?;
    row_to_target(row, tags)
}

pub async fn delete(ctx: &Ctx, actor: &Actor, id: i64) -> Result<()> {
    actor.require_admin()?;
    let actor = actor.clone();
    ctx.store
        .write(move |c| {
            let (row, _) = rows::by_id(c, id)?.ok_or(Error::NotFound("target"))?;
            // A lent account must stay reachable until it is taken back.
            let (policies, open) = crate::store::grants::uses_of_target(c, id)?;
            if policies > 0 || open > 0 {
                return Err(Error::conflict(
                    Msg::new(
                        "target_in_use",
                        format!(
                            "{policies} grant polic(ies) and {open} open grant(s) use this \
                             target; end the grants and delete the policies first"
                        ),
                    )
                    .with("policies", policies)
                    .with("grants", open),
                ));
            }
            rows::delete(c, id)?;
            let event = Event::ok("delete", "target", id).with(json!({"name": row.name}));
            audit::record(c, Some(&actor), None, None, event)
        })
        .await
}

pub async fn get(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Target> {
    actor.require_to(Action::Read)?;
    let (row, tags) = ctx
        .store
        .run(move |c| rows::by_id(c, id))
        .await?
        .ok_or(Error::NotFound("target"))?;
    row_to_target(row, tags)
}

/// A target's health as a list filter (`?health=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// The last check succeeded.
    Ok,
    /// The last check failed.
    Failed,
    /// Never checked.
    Unchecked,
}

impl HealthState {
    fn of(health: Option<&health::TargetHealth>) -> Self {
        match health {
            None => Self::Unchecked,
            Some(h) if h.ok => Self::Ok,
            Some(_) => Self::Failed,
        }
    }
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    tags: Vec<String>,
    health: Option<HealthState>,
) -> Result<Vec<Target>> {
    actor.require_to(Action::Read)?;
    let rows = ctx.store.run(move |c| rows::list(c, &tags)).await?;
    let all = rows.into_iter().map(|(r, t)| row_to_target(r, t));
    all.filter(|t| {
        t.as_ref().map_or(true, |t| {
            health.is_none_or(|h| HealthState::of(t.health.as_ref()) == h)
        })
    })
    .collect()
}

/// How to reach a stored target, its password unsealed (for connectors only). A password the
/// configured key cannot open is a target error (`config`), like any other bad setting; so is
/// a SQLite file that is not (or no longer) allowed: the connector gets its real path.
pub fn spec_from_row(
    row: &rows::TargetRow,
    access: &TargetAccess,
    connect_timeout: Duration,
    statement_timeout: Option<Duration>,
) -> std::result::Result<ConnectSpec, DbError> {
    let engine: Engine = row.engine.parse()?;
    let database = match engine {
        Engine::Sqlite => access
            .confinement
            .sqlite_file(&row.database_name)
            .map_err(|why| {
                DbError::config(format!("SQLite target file {}: {why}", row.database_name))
            })?
            .to_str()
            .ok_or_else(|| DbError::config("the SQLite target file's path is not UTF-8"))?
            .to_string(),
        _ => row.database_name.clone(),
    };
    let password = match &row.password_enc {
        Some(sealed) => access.secrets.open(sealed).map_err(|message| DbError {
            kind: DbErrorKind::Config,
            code: None,
            message,
        })?,
        None => SecretString::from(""),
    };
    Ok(ConnectSpec {
        engine,
        host: row.host.clone(),
        port: u16::try_from(row.port).unwrap_or(0),
        database,
        username: row.username.clone(),
        password,
        options: serde_json::from_str(&row.options).unwrap_or_default(),
        connect_timeout,
        statement_timeout,
    })
}

/// The connection details read-only queries use: the target's query account when it has one
/// (least privilege), else its main account; the statement timeout is the query's own.
pub fn query_spec(
    access: &TargetAccess,
    row: &rows::TargetRow,
    connect_timeout: Duration,
    statement_timeout: Duration,
) -> std::result::Result<ConnectSpec, DbError> {
    let mut as_query = row.clone();
    if let Some(user) = &row.query_username {
        as_query.username = user.clone();
        as_query.password_enc = row.query_password_enc.clone();
    }
    spec_from_row(&as_query, access, connect_timeout, Some(statement_timeout))
}

/// Body of `POST /api/targets/{id}/test`: edits of the form not saved yet, tested over the
/// stored target. Every field may be left out (it keeps the stored value); an absent or empty
/// `password` keeps the stored one, under the rule saving has: moving the target elsewhere
/// (engine, host, port, database, user name) needs the password given again.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetEdits {
    #[schema(
        pattern = r"^[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([\s\S]*[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?$",
        max_length = 100
    )]
    pub name: Option<String>,
    pub engine: Option<Engine>,
    #[schema(max_length = 255)]
    pub host: Option<String>,
    #[schema(maximum = 65535)]
    pub port: Option<u16>,
    pub database: Option<String>,
    pub username: Option<String>,
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// Accepted (the form sends what it saves) and not used: a test connects as the main account.
    #[schema(
        pattern = r"^([^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([\s\S]*[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?)?$",
        max_length = 255
    )]
    pub query_username: Option<String>,
    #[schema(value_type = Option<String>, format = Password)]
    pub query_password: Option<SecretString>,
    pub trusted_for_queries: Option<bool>,
    #[schema(max_items = 50, value_type = Option<Vec<TagName>>)]
    pub tags: Option<Vec<String>>,
    #[schema(value_type = Option<HashMap<String, Value>>)]
    pub options: Option<Map<String, Value>>,
}

impl TargetEdits {
    /// `{}`: no edits (what callers sent before edits could be sent).
    fn is_empty(&self) -> bool {
        let TargetEdits {
            name,
            engine,
            host,
            port,
            database,
            username,
            password,
            query_username,
            query_password,
            trusted_for_queries,
            tags,
            options,
        } = self;
        name.is_none()
            && engine.is_none()
            && host.is_none()
            && port.is_none()
            && database.is_none()
            && username.is_none()
            && password.is_none()
            && query_username.is_none()
            && query_password.is_none()
            && trusted_for_queries.is_none()
            && tags.is_none()
            && options.is_none()
    }
}

fn given(p: Option<SecretString>) -> Option<SecretString> {
    p.filter(|p| !p.expose_secret().is_empty())
}

/// The stored target with `edits` over it, as a create or update body.
fn merged(before: &rows::TargetRow, tags: Vec<String>, e: TargetEdits) -> Result<TargetInput> {
    Ok(TargetInput {
        name: e.name.unwrap_or_else(|| before.name.clone()),
        engine: match e.engine {
            Some(engine) => engine,
            None => before
                .engine
                .parse()
                .map_err(|e| Error::internal(format!("{e:?}")))?,
        },
        host: e.host.unwrap_or_else(|| before.host.clone()),
        port: e
            .port
            .unwrap_or_else(|| u16::try_from(before.port).unwrap_or(0)),
        database: e.database.unwrap_or_else(|| before.database_name.clone()),
        username: e.username.unwrap_or_else(|| before.username.clone()),
        password: given(e.password),
        query_username: e.query_username.or_else(|| before.query_username.clone()),
        query_password: given(e.query_password),
        trusted_for_queries: e.trusted_for_queries,
        tags: e.tags.unwrap_or(tags),
        options: match e.options {
            Some(o) => o,
            None => serde_json::from_str(&before.options).unwrap_or_default(),
        },
    })
}

/// The connection test's limits: a test runs one trivial query, it never needs long.
fn test_timeouts(ctx: &Ctx) -> (Duration, Option<Duration>) {
    let connect = Duration::from_secs(ctx.settings.engine.connect_timeout_s);
    (connect, Some(connect.max(Duration::from_secs(5))))
}

/// How to reach what `input` describes (checked by [`validate`] and [`check_place`]), with
/// `stored` (a sealed password) when it gives none.
fn input_spec(
    ctx: &Ctx,
    input: &TargetInput,
    stored: Option<&str>,
) -> std::result::Result<ConnectSpec, DbError> {
    let password = match (&input.password, stored) {
        (Some(p), _) => p.clone(),
        (None, Some(sealed)) => ctx.secrets.open(sealed).map_err(DbError::config)?,
        (None, None) => SecretString::from(""),
    };
    let (connect_timeout, statement_timeout) = test_timeouts(ctx);
    Ok(ConnectSpec {
        engine: input.engine,
        host: input.host.trim().to_string(),
        port: input.port,
        database: input.database.clone(),
        username: input.username.clone(),
        password,
        options: input.options.clone(),
        connect_timeout,
        statement_timeout,
    })
}

/// What the audit log keeps of a test of settings not saved: where it went, never a password.
fn tested_detail(input: &TargetInput, result: &TestResult, how: &str) -> Value {
    json!({
        "name": input.name, "engine": input.engine, "host": input.host, "port": input.port,
        "database": input.database, "username": input.username, how: true,
        "server_version": result.server_version,
        "error": result.error.as_ref().map(|e| e.to_string()),
    })
}

fn test_event(id: Option<i64>, detail: Value, ok: bool) -> Event {
    let event = Event {
        action: "test",
        object_type: "target",
        object_id: id.map(|i| i.to_string()),
        detail,
        success: true,
    };
    if ok {
        event
    } else {
        event.failed()
    }
}

/// Connects, runs a trivial query, and reports the server's version and the round trip — or
/// the database's own error. A failing target is an answer, not an error of AutoDB's.
///
/// Without `edits` (or with edits that change nothing about where and as whom it connects) the
/// stored target is tested and the result is its health. With edits (admins only, as saving
/// them is), the target as it would be saved is tested and nothing is stored but the audit entry.
pub async fn test(
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
    edits: Option<TargetEdits>,
) -> Result<TestResult> {
    actor.require_to(Action::TestTargets)?;
    let (before, tags) = ctx
        .store
        .run(move |c| rows::by_id(c, id))
        .await?
        .ok_or(Error::NotFound("target"))?;
    let pending = match edits.filter(|e| !e.is_empty()) {
        None => None,
        Some(edits) => {
            actor.require_to(Action::ManageTargets)?;
            let mut input = merged(&before, tags, edits)?;
            validate(&input)?;
            check_place(ctx, &mut input).await?;
            check_password_moves(&before, &input, &fields(ctx, &input, None))?;
            let same_place = input.engine.as_str() == before.engine
                && input.host.trim() == before.host
                && i32::from(input.port) == before.port
                && input.database == before.database_name
                && input.username == before.username
                && serde_json::from_str::<Map<String, Value>>(&before.options)
                    .ok()
                    .as_ref()
                    == Some(&input.options);
            (input.password.is_some() || !same_place).then_some(input)
        }
    };
    let spec = match &pending {
        Some(input) => input_spec(ctx, input, before.password_enc.as_deref()),
        None => {
            let (connect, statement) = test_timeouts(ctx);
            spec_from_row(&before, &TargetAccess::of(ctx), connect, statement)
        }
    };
    let result = on_thread(ctx, move || health::probe(spec)).await?;
    let actor = actor.clone();
    let (recorded, ok) = (result.clone(), result.ok);
    let detail = match &pending {
        Some(input) => tested_detail(input, &result, "pending_edits"),
        None => json!({
            "server_version": result.server_version,
            "error": result.error.as_ref().map(|e| e.to_string()),
        }),
    };
    let stored = pending.is_none();
    ctx.store
        .write(move |c| {
            if stored {
                health::record(c, id, &recorded)?;
            }
            audit::record(
                c,
                Some(&actor),
                None,
                None,
                test_event(Some(id), detail, ok),
            )
        })
        .await?;
    Ok(result)
}

/// Tests a target that is not saved (the body of a create): validated as a create is, nothing
/// stored but the audit entry.
pub async fn test_unsaved(ctx: &Ctx, actor: &Actor, mut input: TargetInput) -> Result<TestResult> {
    actor.require_to(Action::ManageTargets)?;
    validate(&input)?;
    check_place(ctx, &mut input).await?;
    let spec = input_spec(ctx, &input, None);
    let result = on_thread(ctx, move || health::probe(spec)).await?;
    let detail = tested_detail(&input, &result, "unsaved");
    let (actor, ok) = (actor.clone(), result.ok);
    ctx.store
        .write(move |c| audit::record(c, Some(&actor), None, None, test_event(None, detail, ok)))
        .await?;
    Ok(result)
}

/// Runs blocking driver work on the engine's pool (queries lane). Drivers such as the sync
/// `postgres` client start a runtime of their own and must never run on an async worker.
async fn on_thread<T: Send + 'static>(
    ctx: &Ctx,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    ctx.work
        .pool()
        .run(crate::work::Lane::Queries, None, f)
        .await
        .map_err(|e| Error::internal(e.to_string()))
}

/// The selector of a job script or a query from its two input fields; a refusal names the field
/// under `prefix` (e.g. `scripts[0].`).
pub fn selector(ids: &[i64], tags: &[String], prefix: &str) -> Result<TargetSelector> {
    TargetSelector::new(ids, tags).map_err(|e| {
        let reason = if e.field == "target_ids" {
            "ids_or_tags"
        } else {
            "empty_tag"
        };
        Error::unprocessable(format!("{prefix}{}", e.field), Msg::new(reason, e.message))
    })
}

/// Every target with its tags, for [`select`].
pub type Catalog = Vec<(rows::TargetRow, Vec<String>)>;

pub fn catalog(conn: &mut store::DbConn) -> Result<Catalog> {
    Ok(rows::list(conn, &[])?)
}

/// The targets of `all` a selector chooses (the one resolution of selectors, for jobs and
/// queries): every given id must exist, and tags must match at least one target. A refusal
/// names the field under `prefix`.
pub fn select<'a>(
    all: &'a Catalog,
    sel: &TargetSelector,
    prefix: &str,
) -> Result<Vec<&'a (rows::TargetRow, Vec<String>)>> {
    let chosen: Vec<_> = all
        .iter()
        .filter(|(t, tags)| sel.selects(t.id, tags))
        .collect();
    let field = format!("{prefix}{}", sel.field());
    match sel {
        TargetSelector::Ids(ids) => {
            if let Some(missing) = ids
                .iter()
                .find(|id| !chosen.iter().any(|(t, _)| t.id == **id))
            {
                return Err(Error::unprocessable(
                    field,
                    Msg::new("no_target_id", format!("no target with id {missing}"))
                        .with("id", *missing),
                ));
            }
        }
        TargetSelector::Tags(tags) => {
            if chosen.is_empty() {
                return Err(Error::unprocessable(
                    field,
                    Msg::new(
                        "no_target_tags",
                        format!("no target carries all of {tags:?}"),
                    )
                    .with("tags", tags.join(", ")),
                ));
            }
        }
    }
    Ok(chosen)
}
