//! Building and running the HTTP server; shared by `main` and the integration tests.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use std::sync::Arc;

use crate::api::support::Db;
use crate::api::{self, AppState, session::JwtKeys};
use crate::documents::Documents;
use crate::notify::worker::{self, MailSettings};
use crate::store::{self, Backend, DbTarget, Pool};

pub struct Settings {
    pub target: DbTarget,
    pub bind: String,
    pub jwt_secret: Vec<u8>,
    pub token_ttl: i64,
    pub pool_size: u32,
    pub workers: Option<usize>,
    pub documents: Arc<Documents>,
    /// the e-mail worker's settings; `None` runs no worker (messages wait in the outbox)
    pub mail: Option<MailSettings>,
    /// the map's tile settings (none: the desk draws its plain plot)
    pub map: api::tiles::MapTiles,
    /// where photos are kept
    pub objects: crate::media::objects::Objects,
    /// the tracking platform watched for terminals' first reports (`None`: off)
    pub tracking: Option<crate::tracking::TrackingSettings>,
}

/// Opens the pool and runs the migrations.
pub fn open_database(target: &DbTarget, pool_size: u32) -> Result<Pool, String> {
    let pool = store::db::connect(target, pool_size)?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("database unavailable: {e}"))?;
    let applied = store::db::migrate(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    // pinyin initials for search: not computable in SQL, so filled here for customers
    // written before they existed (a no-op query once every customer has them)
    let filled = store::search::backfill_initials(&mut conn)
        .map_err(|e| format!("cannot index customer names for search: {e}"))?;
    if filled > 0 {
        tracing::info!(filled, "customer name initials indexed for search");
    }
    Ok(pool)
}

/// The state every handler reads, over `pool`, for `workers` HTTP workers. Also what the
/// demo day drives the API with, in process, before the server starts.
pub fn app_state(
    settings: &Settings,
    pool: &Pool,
    workers: usize,
) -> Result<web::Data<AppState>, String> {
    let inline_reads = match settings.target.backend {
        Backend::Sqlite => Some(store::db::connect(
            &settings.target,
            u32::try_from(workers).unwrap_or(64).saturating_add(2),
        )?),
        Backend::Postgres => None,
    };
    Ok(web::Data::new(AppState {
        pool: Db::new(pool.clone(), inline_reads),
        jwt: web::Data::new(JwtKeys::new(&settings.jwt_secret)),
        token_ttl: settings.token_ttl,
        documents: settings.documents.clone(),
        map: Arc::new(settings.map.clone()),
        live: crate::live::Hub::new(pool.clone(), &settings.target),
        objects: settings.objects.clone(),
        first_report: settings.tracking.is_some(),
        push_secret: settings
            .tracking
            .as_ref()
            .and_then(|t| t.push_secret.clone()),
    }))
}

pub struct Application {
    port: u16,
    server: Server,
    pool: Pool,
}

impl Application {
    pub fn build(settings: Settings) -> Result<Self, String> {
        let pool = open_database(&settings.target, settings.pool_size)?;
        Self::with_pool(settings, pool)
    }

    pub fn with_pool(settings: Settings, pool: Pool) -> Result<Self, String> {
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let state = app_state(&settings, &pool, workers)?;
        if let Some(mail) = settings.mail {
            worker::spawn(pool.clone(), settings.documents.clone(), mail);
        }
        if let Some(tracking) = settings.tracking {
            crate::tracking::worker::spawn(pool.clone(), tracking);
        }
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(api::reject_nul))
                .wrap(from_fn(api::access_log))
                .configure(api::with_state(state.clone()))
        })
        .listen(listener)
        .map_err(|e| e.to_string())?;
        if let Some(w) = settings.workers {
            server = server.workers(w.max(1));
        }
        Ok(Self {
            port,
            server: server.run(),
            pool,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> Pool {
        self.pool.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
