//! The `autodb` command line: serve, migrate, schema-status, check-config, backup, restore,
//! user administration, audit verification, openapi.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::config::Settings;
use crate::services::{users, Role};
use crate::startup::{self, Application, StartError};
use crate::store::StoreUrl;

#[derive(Debug, Parser)]
#[command(
    name = "autodb",
    version,
    about = "AutoDB: SQL operations on fleets of databases"
)]
pub struct Cli {
    /// TOML configuration file (default: /etc/autodb/autodb.toml when it exists).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (and the UI when server.static_dir is set).
    Serve {
        /// Do not apply pending metadata store migrations first.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending metadata store migrations and exit.
    Migrate,
    /// Compare the store's migrations with this binary's. Exits 0 when this binary can run on
    /// the store (pending ones are listed), 4 when the store holds migrations it does not know
    /// (a newer release migrated it: restore the backup taken before, or deploy that release).
    SchemaStatus,
    /// Copy the SQLite store, consistently, while it runs (VACUUM INTO), into the new file PATH,
    /// with PATH.meta.json holding the secret key's SHA-256 fingerprint. On a PostgreSQL store
    /// it prints how to use pg_dump and exits 3.
    Backup { path: PathBuf },
    /// Replace the SQLite store with the backup PATH. Refuses while `autodb serve` runs on the
    /// store, and when the backup's key fingerprint is not the configured key's (unless --force).
    Restore {
        path: PathBuf,
        /// Restore even when the key fingerprint differs or the sidecar is missing.
        #[arg(long)]
        force: bool,
    },
    /// Load and check the configuration, the store and the secret key, then exit.
    CheckConfig,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password comes from --password-stdin, AUTODB_PASSWORD, or
    /// --generate-password (printed once).
    Create {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Make up a strong password and print it once.
        #[arg(long, conflicts_with = "password_stdin")]
        generate_password: bool,
    },
    /// Set a user's password (ends their sessions). Same password sources as `create`.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users: name, role, and whether disabled.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit log's hash chain and name the first missing or changed entry. Exits 0
    /// when the chain is intact, 1 when it is broken (or the store cannot be read).
    Verify {
        /// Print the report as JSON (the answer of GET /api/audit/verify).
        #[arg(long)]
        json: bool,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{0}")]
    Service(#[from] crate::services::error::Error),
    #[error("{0}")]
    Usage(String),
    #[error("server stopped with an error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the audit chain is broken: {0}")]
    AuditBroken(String),
    #[error(transparent)]
    Backup(#[from] crate::backup::BackupError),
    #[error("{0}")]
    PgDump(String),
    #[error(
        "the store holds migrations this binary does not know: {0} (a newer release migrated it)"
    )]
    SchemaNewer(String),
}

impl CliError {
    /// 2 for configuration and usage problems, 3 for a backup of a PostgreSQL store (use
    /// pg_dump), 4 for a store newer than the binary (schema-status), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Start(StartError::Config(_)) | CliError::Usage(_) => 2,
            CliError::PgDump(_) => 3,
            CliError::SchemaNewer(_) => 4,
            _ => 1,
        }
    }
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Openapi = cli.command {
        let doc = crate::api::openapi()
            .to_pretty_json()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        println!("{doc}");
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref()).map_err(StartError::from)?;
    crate::logging::set_format(settings.log.format);
    match cli.command {
        Command::Serve { no_migrate } => {
            let bind = settings.server.bind.clone();
            // Held until the process ends: `autodb restore` refuses while it is.
            let _lock = match store_url(&settings)? {
                StoreUrl::Sqlite(path) => Some(crate::backup::hold_serve_lock(&path)?),
                StoreUrl::Postgres(_) => None,
            };
            let ctx = startup::context(settings, !no_migrate)?;
            let backend = ctx.store.backend();
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(ctx).await?;
                log::info!(
                    "AutoDB listening on {bind} (port {}), store: {backend}, release {}",
                    app.port(),
                    crate::release::release()
                );
                // Store open, migrations run, engine started, listener bound.
                crate::notify::ready();
                let stopped = app.run_until_stopped().await.map_err(CliError::from);
                crate::notify::stopping();
                stopped
            })
        }
        Command::SchemaStatus => {
            let ctx = startup::context(settings, false)?;
            let status = ctx.store.schema_status().map_err(StartError::from)?;
            println!(
                "{} migration(s) applied, {} pending{}",
                status.applied,
                status.pending.len(),
                if status.pending.is_empty() {
                    String::new()
                } else {
                    format!(": {}", status.pending.join(" "))
                }
            );
            if status.unknown.is_empty() {
                Ok(())
            } else {
                Err(CliError::SchemaNewer(status.unknown.join(" ")))
            }
        }
        Command::Backup { path } => match store_url(&settings)? {
            StoreUrl::Sqlite(store) => {
                let key = PathBuf::from(&settings.security.secret_key_file);
                let meta = crate::backup::backup_sqlite(&store, &path, &key)?;
                println!(
                    "backup of {} written to {} (key fingerprint sha256:{} in {})",
                    store.display(),
                    path.display(),
                    meta.key_sha256,
                    crate::backup::meta_path(&path).display()
                );
                Ok(())
            }
            StoreUrl::Postgres(_) => Err(CliError::PgDump(format!(
                "the store is PostgreSQL: back it up with pg_dump, e.g. \
                 pg_dump --format=custom --file {} \"$AUTODB__DATABASE__URL\" \
                 (and keep a copy of {}, the secret key, apart from the dump)",
                path.display(),
                settings.security.secret_key_file
            ))),
        },
        Command::Restore { path, force } => match store_url(&settings)? {
            StoreUrl::Sqlite(store) => {
                let key = PathBuf::from(&settings.security.secret_key_file);
                crate::backup::restore_sqlite(&path, &store, &key, force)?;
                println!("restored {} from {}", store.display(), path.display());
                Ok(())
            }
            StoreUrl::Postgres(_) => Err(CliError::PgDump(
                "the store is PostgreSQL: restore it with pg_restore".into(),
            )),
        },
        Command::Migrate => {
            startup::context(settings, true)?;
            println!("migrations applied");
            Ok(())
        }
        Command::CheckConfig => {
            let ctx = startup::context(settings, false)?;
            println!(
                "configuration OK: listen {}, store {}, secret key {}",
                ctx.settings.server.bind,
                ctx.store.backend(),
                ctx.settings.security.secret_key_file
            );
            Ok(())
        }
        Command::User(cmd) => {
            let ctx = startup::context(settings, true)?;
            user_command(&ctx, cmd)
        }
        Command::Audit(AuditCommand::Verify { json }) => {
            // Read-only: the store is checked as it is, not migrated first.
            let ctx = startup::context(settings, false)?;
            audit_verify(&ctx, json)
        }
        Command::Openapi => Ok(()),
    }
}

fn store_url(settings: &Settings) -> Result<StoreUrl, CliError> {
    Ok(settings.store_url().map_err(StartError::Config)?)
}

fn user_command(ctx: &crate::services::Ctx, cmd: UserCommand) -> Result<(), CliError> {
    match cmd {
        UserCommand::Create {
            name,
            role,
            password_stdin,
            generate_password,
        } => {
            let password = if generate_password {
                crate::crypto::random_password()
            } else {
                read_password(password_stdin)?
            };
            let user = users::create_blocking(&ctx.store, None, &name, &password, role)?;
            println!("created user {} ({})", user.username, user.role);
            if generate_password {
                // Shown once, on the operator's terminal; it is stored only as a hash.
                println!(
                    "password: {}",
                    secrecy::ExposeSecret::expose_secret(&password)
                );
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            users::validate_password(&password)?;
            let user = ctx
                .store
                .run_blocking(|c| users::by_name_blocking(c, &name))?;
            let changes = users::Changes {
                password: Some(password),
                ..Default::default()
            };
            users::update_blocking(&ctx.store, None, user.id, changes)?;
            println!("password changed for {name}; their sessions were ended");
        }
        UserCommand::List => {
            for u in ctx.store.run_blocking(users::list_blocking)? {
                let state = if u.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}", u.username, u.role, state);
            }
        }
    }
    Ok(())
}

fn audit_verify(ctx: &crate::services::Ctx, json: bool) -> Result<(), CliError> {
    let report = ctx
        .store
        .run_blocking(crate::services::audit::verify_blocking)?;
    if json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Usage(e.to_string()))?;
        println!("{text}");
    } else {
        println!(
            "{} chained entries checked, {} from before the chain began (unchained)",
            report.entries, report.unchained
        );
        println!("head: entry {} {}", report.last_id, report.last_hash);
    }
    match report.first_bad {
        None => {
            if !json {
                println!("audit chain intact");
            }
            Ok(())
        }
        Some(bad) => Err(CliError::AuditBroken(match bad.id {
            Some(id) => format!("entry {id}: {}: {}", bad.problem.as_str(), bad.message),
            None => format!("{}: {}", bad.problem.as_str(), bad.message),
        })),
    }
}

fn read_password(from_stdin: bool) -> Result<SecretString, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        if p.is_empty() {
            return Err(CliError::Usage("no password on standard input".into()));
        }
        return Ok(SecretString::from(p));
    }
    match std::env::var("AUTODB_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok(SecretString::from(p)),
        _ => Err(CliError::Usage(
            "give the password with --password-stdin or the AUTODB_PASSWORD environment variable"
                .into(),
        )),
    }
}
