//! The `autodb` command line: serve, migrate, check-config, user administration, audit
//! verification, openapi.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::config::Settings;
use crate::services::{users, Role};
use crate::startup::{self, Application, StartError};

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
}

impl CliError {
    /// 2 for configuration and usage problems, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Start(StartError::Config(_)) | CliError::Usage(_) => 2,
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
    match cli.command {
        Command::Serve { no_migrate } => {
            let bind = settings.server.bind.clone();
            let ctx = startup::context(settings, !no_migrate)?;
            let backend = ctx.store.backend();
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(ctx).await?;
                log::info!(
                    "AutoDB listening on {bind} (port {}), store: {backend}",
                    app.port()
                );
                app.run_until_stopped().await.map_err(CliError::from)
            })
        }
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
