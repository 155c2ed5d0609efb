use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpResponse, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::{self, JwtKeys};
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::error;
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Opens the database, applies migrations, binds the listener (port 0 picks a free port) and
    /// prepares the server without running it.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let url = settings.database_url.clone();
        let pool_options = db::PoolOptions {
            size: settings.db_pool_size,
            cache_kib: settings.sqlite_cache_kib,
            writer_cache_kib: settings.sqlite_writer_cache_kib,
        };
        let data_dir = settings.data_dir.clone();
        let pool = tokio::task::spawn_blocking(move || -> anyhow::Result<DbPool> {
            let pool = db::connect_pool_with(&url, pool_options)?;
            let mut conn = pool.get()?;
            let applied = db::run_migrations(&mut conn)?;
            if !applied.is_empty() {
                tracing::info!(?applied, "applied database migrations");
            }
            crate::app::materials::import_attachment_files(&mut conn, &data_dir)?;
            Ok(pool)
        })
        .await??;

        let secret = jwt::load_or_create_secret(settings.jwt_secret.as_ref(), &settings.data_dir)?;
        let jwt = JwtKeys::from_secret(
            jwt::secret_bytes(&secret),
            i64::from(settings.access_token_ttl_secs),
        );
        let rotation_key: [u8; 32] = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(b"tungnha refresh-token rotation key\0");
            h.update(jwt::secret_bytes(&secret));
            h.finalize().into()
        };

        let listener = TcpListener::bind(settings.bind).map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (TUNGNHA_BIND): {e}", settings.bind)
        })?;
        let port = listener.local_addr()?.port();
        let workers = match settings.workers {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            n => n,
        };
        // One hashing thread per core (at most 4); a burst beyond 256 queued logins gets 429.
        let hasher = crate::auth::hasher::Hasher::new(workers.clamp(1, 4), 256)?;
        let shutdown_timeout = settings.shutdown_timeout_secs;
        let json_limit = settings.json_limit_bytes;
        let pwa_dir = settings.pwa_dir.clone();
        let cors_origins = settings.cors_origins.clone();
        let metrics_on = settings.metrics_token.is_some();
        tracing::info!(
            database = %settings.database_url.redacted(),
            address = %listener.local_addr()?,
            pwa = %if pwa_dir.as_os_str().is_empty() {
                "built in".into()
            } else {
                pwa_dir.display().to_string()
            },
            "starting Từng Nhà"
        );
        if !crate::static_files::is_built(&pwa_dir) {
            tracing::warn!(dir = %pwa_dir.display(), "the web app is not built (empty dir: none was built into this binary); `make run` builds it");
        }
        // Webhook deliveries go out from every instance (leases in the database keep them apart).
        tokio::spawn(crate::webhooks::run(
            pool.clone(),
            settings.webhook_worker(),
        ));
        if settings.retention_years > 0 {
            tokio::spawn(purge_daily(pool.clone(), settings.retention_years));
        }
        // The spec serialised once and shared: a copy per worker (SwaggerUi's `url`) kept the whole
        // OpenApi tree in each worker's memory and serialised it again for every request.
        let spec_value = serde_json::to_value(crate::openapi::spec())?;
        let key_scopes = crate::auth::api_key::KeyScopes::from_spec(&spec_value)?;
        let spec = web::Bytes::from(serde_json::to_vec(&spec_value)?);
        drop(spec_value);
        let state = web::Data::new(AppState {
            pool,
            jwt,
            hasher,
            rotation_key,
            settings,
            key_scopes,
            metrics: crate::metrics::Metrics::new(),
        });

        let server = HttpServer::new(move || {
            let app = App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(json_limit)
                        .error_handler(error::json_error_handler),
                )
                .app_data(web::PayloadConfig::new(json_limit))
                .app_data(web::QueryConfig::default().error_handler(error::query_error_handler))
                .app_data(web::PathConfig::default().error_handler(error::path_error_handler))
                .configure(crate::routes::health::configure)
                .service(utoipa_actix_web::scope("/api/v1").configure(crate::routes::configure_api))
                .into_app();
            let spec = spec.clone();
            // Outside the public contract, and absent (404 like any unknown path) until a token is set.
            let app = if metrics_on {
                app.route("/metrics", web::get().to(crate::routes::metrics::metrics))
            } else {
                app
            };
            app.route(
                "/openapi.json",
                web::get().to(move || {
                    let spec = spec.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type(actix_web::http::header::ContentType::json())
                            .body(spec)
                    }
                }),
            )
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::new(["/openapi.json"])),
            )
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                }),
            )
            .configure(|cfg| crate::static_files::configure(cfg, &pwa_dir))
            .wrap(from_fn(crate::static_files::cache_headers))
            .wrap(from_fn(crate::security::cache_by_data_class))
            // CORS inside the problem wrapper, so a refused preflight answers problem+json.
            .wrap(crate::security::cors(&cors_origins))
            .wrap(from_fn(error::problem_for_bare_errors))
            .wrap(from_fn(crate::security::headers))
            .wrap(from_fn(crate::telemetry::request_id_header))
            .wrap(Compress::default())
            .wrap(from_fn(crate::telemetry::observe))
            .wrap(TracingLogger::<crate::telemetry::RootSpan>::new())
        })
        // Compressed answers go out in several writes; with Nagle's algorithm on, the last one waits
        // for the client's delayed ACK (40 ms on Linux) on every reused connection.
        .on_connect(|conn, _| {
            if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "TCP_NODELAY not set");
                }
            }
        })
        .workers(workers)
        .shutdown_timeout(shutdown_timeout)
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that can stop the server gracefully (finishing in-flight requests).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (up to `shutdown_timeout_secs`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The retention purge, at start and then once a day (every instance runs it; it is idempotent).
async fn purge_daily(pool: crate::db::DbPool, years: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
    loop {
        tick.tick().await;
        let Some(before) = crate::app::retention::retention_cutoff(years, crate::db::now()) else {
            return;
        };
        let result = crate::db::run(&pool, move |conn| {
            crate::app::retention::purge_expired(conn, before).map_err(crate::error::ApiError::from)
        })
        .await;
        match result {
            Ok(p) => tracing::info!(
                records = p.records,
                adoptions = p.adoptions,
                communications = p.communications,
                "retention purge"
            ),
            Err(e) => tracing::warn!(error = %e, "retention purge failed; tried again tomorrow"),
        }
    }
}
