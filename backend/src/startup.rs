//! Building and running the HTTP application: shared state, routes, static UI.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_files::{Files, NamedFile};
use actix_web::body::MessageBody;
use actix_web::dev::{fn_service, Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Compress, DefaultHeaders, Next};
use actix_web::{web, App, HttpResponse, HttpServer};
use utoipa_actix_web::AppExt;

use crate::config::Settings;
use crate::crypto::SecretBox;
use crate::services::auth::LoginThrottle;
use crate::services::confine::Confinement;
use crate::services::grants::sweeper::GrantRestores;
use crate::services::jobs::runner::JobRuns;
use crate::services::queries::runner::QueryTargets;
use crate::services::schedules::clock::SystemClock;
use crate::services::schedules::runner::ScheduleFires;
use crate::services::targets::health::HealthChecks;
use crate::services::targets::TargetAccess;
use crate::services::Ctx;
use crate::store::{Store, StoreUrl};
use crate::work;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] crate::store::OpenError),
    #[error(transparent)]
    Key(#[from] crate::crypto::KeyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start the job engine: {0}")]
    Engine(crate::services::error::Error),
    #[error("cannot start the work engine: {0}")]
    Work(#[from] crate::store::StoreError),
    #[error("server.static_dir {0} has no index.html (build the UI with `npm run build`)")]
    StaticDir(PathBuf),
}

/// Opens the store (running migrations unless told not to) and loads the secret key.
pub fn context(settings: Settings, migrate: bool) -> Result<Ctx, StartError> {
    let url = settings.store_url()?;
    let store = Store::open(
        &url,
        settings.database.pool_size,
        settings.database.connect_timeout_s,
    )?;
    if migrate {
        let ran = store.migrate()?;
        if ran > 0 {
            log::info!("applied {ran} metadata store migration(s)");
        }
    }
    let secrets =
        SecretBox::load_or_create(std::path::Path::new(&settings.security.secret_key_file))?;
    let confinement = Arc::new(Confinement::new(&settings)?);
    let access = TargetAccess {
        secrets: secrets.clone(),
        confinement: confinement.clone(),
    };
    let throttle = Arc::new(LoginThrottle::from_settings(&settings.security));
    // SQLite writes one at a time: a few connections serve the engine; PostgreSQL gets as many
    // as the API.
    let engine_pool = match url {
        StoreUrl::Sqlite(_) => 4,
        StoreUrl::Postgres(_) => settings.database.pool_size,
    };
    let e = &settings.engine;
    let pool = work::Pool::new(work::pool::Limits {
        runs: e.max_parallel_runs,
        queries: e.max_parallel_queries,
        control: e.max_control_threads,
        run_nice: e.run_nice,
    });
    let timing = work::Settings {
        lease: Duration::from_secs(e.lease_s),
        poll: Duration::from_millis(e.poll_ms),
    };
    let fires = ScheduleFires::default();
    let schedule_slot = fires.slot.clone();
    let kinds: Vec<Arc<dyn work::Kind>> = vec![
        Arc::new(JobRuns {
            access: access.clone(),
            settings: e.clone(),
        }),
        Arc::new(QueryTargets {
            access: access.clone(),
            settings: settings.query.clone(),
            connect_timeout: Duration::from_secs(e.connect_timeout_s),
        }),
        Arc::new(GrantRestores {
            access: access.clone(),
            settings: settings.grants.clone(),
            connect_timeout: Duration::from_secs(e.connect_timeout_s),
        }),
        Arc::new(fires),
        Arc::new(HealthChecks {
            access: access.clone(),
            connect_timeout: Duration::from_secs(e.connect_timeout_s),
            interval: Duration::from_secs(settings.targets.health_interval_s),
            parallel: settings.targets.health_parallel,
        }),
    ];
    let work = work::Engine::new(store.with_own_pool(engine_pool)?, timing, pool, kinds)?;
    let jobs = work.handle(crate::store::jobs::WORK_KIND);
    let queries = work.handle(crate::store::queries::WORK_KIND);
    let schedules = work.handle(crate::store::schedules::WORK_KIND);
    Ok(Ctx {
        store,
        secrets,
        confinement,
        settings: Arc::new(settings),
        throttle,
        auth_cache: Arc::default(),
        job_reads: Arc::default(),
        catalogs: Arc::default(),
        work,
        jobs,
        queries,
        schedules,
        clock: Arc::new(SystemClock),
        schedule_slot,
    })
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Starts the job engine, binds `server.bind` (port 0 picks a free port, as tests do) and
    /// builds the server. Call it on the async runtime that will run the server.
    pub async fn build(ctx: Ctx) -> Result<Self, StartError> {
        // Scripts from before scripts were sealed are sealed before anything runs.
        let (store, secrets) = (ctx.store.clone(), ctx.secrets.clone());
        let sealed = crate::services::blocking(move || {
            crate::services::jobs::seal_legacy_scripts(&store, &secrets)
        })
        .await
        .map_err(StartError::Engine)?;
        if sealed > 0 {
            log::info!("{sealed} job script(s) from before scripts were sealed are now sealed");
        }
        // Schedule fires need the finished context (see services::schedules::runner).
        crate::services::schedules::runner::attach(&ctx);
        // The periodic target check's first sweep (when `targets.health_interval_s` is set).
        crate::services::targets::health::seed(&ctx)
            .await
            .map_err(StartError::Engine)?;
        ctx.work.start().await?;
        let addr = ctx.settings.bind_addr()?;
        let listener = TcpListener::bind(addr).map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let static_dir = Some(ctx.settings.server.static_dir.trim())
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        if let Some(dir) = &static_dir {
            if !dir.join("index.html").is_file() {
                return Err(StartError::StaticDir(dir.clone()));
            }
        }
        let workers = ctx.settings.server.workers;
        let openapi_json = web::Bytes::from(
            crate::api::openapi::document(&ctx.settings)
                .to_json()
                .unwrap_or_else(|_| "{}".into()),
        );
        let data = web::Data::new(ctx);
        let mut server = HttpServer::new(move || {
            let app = App::new()
                .app_data(data.clone())
                .wrap(Compress::default())
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Referrer-Policy", "same-origin")),
                )
                // Request id, metrics and the access line (the path only: no query strings or
                // bodies reach the log).
                .wrap(from_fn(crate::api::observe::observe));
            let doc = openapi_json.clone();
            let app = app
                .route("/metrics", web::get().to(crate::api::metrics::scrape))
                .route(
                    "/api/openapi.json",
                    web::get().to(move || {
                        let doc = doc.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(doc)
                        }
                    }),
                )
                .into_utoipa_app()
                .service(crate::api::scope())
                .into_app();
            match &static_dir {
                Some(dir) => app.service(
                    web::scope("")
                        .wrap(from_fn(ui_cache_control))
                        .service(spa_files(dir.clone())),
                ),
                None => app,
            }
        })
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        if workers > 0 {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The built UI, with history-mode routing: unknown paths get `index.html`, except under
/// `/assets/`, where a missing bundle is a 404 (a stale tab would otherwise run HTML as a
/// script), as nginx answers (`nginx/autodb-locations.conf`).
fn spa_files(dir: PathBuf) -> Files {
    let index = dir.join("index.html");
    Files::new("/", dir)
        .index_file("index.html")
        .default_handler(fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                if req.path().starts_with(ASSETS) {
                    return Ok(ServiceResponse::new(req, HttpResponse::NotFound().finish()));
                }
                let file = NamedFile::open_async(&index).await?;
                let res = file.into_response(&req);
                Ok(ServiceResponse::new(req, res))
            }
        }))
}

/// Where Vite puts its content-hashed bundles.
const ASSETS: &str = "/assets/";
/// A hashed bundle never changes under one name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The UI's cache rules, the same as nginx's: bundles under `/assets/` are kept for a year;
/// `index.html` (also the history-mode fallback) names the current bundles, so browsers
/// revalidate it every time. Other files (the favicon) keep the default heuristics.
async fn ui_cache_control<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let asset = req.path().starts_with(ASSETS);
    let mut res = next.call(req).await?;
    let status = res.status();
    let kept = status.is_success() || status == StatusCode::NOT_MODIFIED;
    let html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let rule = match (asset, kept, html) {
        (true, true, _) => Some(IMMUTABLE),
        (false, true, true) => Some("no-cache"),
        _ => None,
    };
    if let Some(rule) = rule {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(rule));
    }
    Ok(res)
}
