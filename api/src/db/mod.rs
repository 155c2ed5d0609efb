//! Storage: one diesel `MultiConnection` over SQLite and PostgreSQL, chosen at run time by the URL scheme.
//!
//! Conventions:
//! - Ids are UUID strings (`TEXT`), times are naive UTC `TIMESTAMP`s, JSON is `TEXT`: the subset both
//!   backends share, so almost every query is written once.
//! - Where the dialects differ (upserts, batch inserts, binds in raw SQL), use [`per_backend!`], which
//!   writes the body once and compiles it for each backend.
//! - SQL lives only in this module's files, as plain functions taking `&mut DbConnection`.
//! - Handlers reach the database only through [`run`], which checks out a connection and runs the
//!   closure on the blocking pool, never on an async worker.

pub mod api_keys;
pub mod audit;
pub mod emulation;
pub mod exports;
pub mod geo;
pub mod materials;
pub mod plans;
pub mod registry;
pub mod schema;
pub mod sessions;
pub mod stats;
pub mod sync;
pub mod tallies;
pub mod teamwork;
pub mod throttle;
pub mod users;
pub mod webhooks;

use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use secrecy::ExposeSecret;

use crate::config::DatabaseUrl;
use crate::error::ApiError;

/// A connection to whichever backend the URL named. PostgreSQL comes first: the derive would otherwise
/// let SQLite accept any string as a file name.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The connection pool with an admission gate in front of it: at most two database calls per
/// connection are running or waiting for a connection on blocking threads; more wait here, as
/// cheap tasks, for at most [`QUEUE_WAIT`], and a request past [`QUEUE_LIMIT`] waiting ones is
/// refused at once with 503. An overloaded server answers "busy" instead of starting a thread
/// and buffering a result for every request it cannot serve (BENCHMARKS.md, mixed load).
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<DbManager>,
    /// SQLite only: the one connection the sync pushes write through (see [`run_write`]).
    writer: Option<Pool<DbManager>>,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
    /// The gate's permits: what `gate` holds when nothing runs.
    permits: usize,
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Calls refused since start: `[queue full, waited too long]` (`/metrics`).
    refused: std::sync::Arc<[std::sync::atomic::AtomicU64; 2]>,
}

/// Requests that may wait for the database at once before more are refused.
pub const QUEUE_LIMIT: usize = 512;
/// The longest a request waits for its turn at the database.
pub const QUEUE_WAIT: Duration = Duration::from_secs(10);

impl DbPool {
    pub fn new(pool: Pool<DbManager>) -> DbPool {
        let permits = (pool.max_size() as usize * 2).max(2);
        DbPool {
            pool,
            writer: None,
            gate: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)),
            permits,
            waiting: Default::default(),
            refused: Default::default(),
        }
    }
}

impl std::ops::Deref for DbPool {
    type Target = Pool<DbManager>;
    fn deref(&self) -> &Self::Target {
        &self.pool
    }
}

impl DbPool {
    /// Database calls waiting for their turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// What the admission gate holds now and has refused so far.
    pub fn gate_use(&self) -> GateUse {
        use std::sync::atomic::Ordering;
        GateUse {
            capacity: self.permits,
            in_flight: self.permits.saturating_sub(self.gate.available_permits()),
            waiting: self.waiting(),
            refused_queue_full: self.refused[0].load(Ordering::Relaxed),
            refused_timeout: self.refused[1].load(Ordering::Relaxed),
        }
    }

    /// The connections of each pool: `main`, and on SQLite the push connection, `writer`.
    pub fn connection_use(&self) -> Vec<ConnectionUse> {
        std::iter::once(("main", &self.pool))
            .chain(self.writer.as_ref().map(|w| ("writer", w)))
            .map(|(name, pool)| {
                let state = pool.state();
                ConnectionUse {
                    pool: name,
                    max: pool.max_size(),
                    open: state.connections,
                    idle: state.idle_connections,
                }
            })
            .collect()
    }
}

/// A snapshot of the admission gate (see [`DbPool`]).
#[derive(Clone, Copy, Debug)]
pub struct GateUse {
    /// Calls that may hold the gate at once.
    pub capacity: usize,
    /// Calls holding it now: running, or waiting for a connection on a blocking thread.
    pub in_flight: usize,
    /// Calls waiting in front of it.
    pub waiting: usize,
    /// Calls answered 503 `server_busy` because [`QUEUE_LIMIT`] were already waiting.
    pub refused_queue_full: u64,
    /// Calls answered 503 `server_slow` after waiting [`QUEUE_WAIT`].
    pub refused_timeout: u64,
}

/// A snapshot of one r2d2 pool.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionUse {
    pub pool: &'static str,
    pub max: u32,
    /// Connections open, in use or idle.
    pub open: u32,
    pub idle: u32,
}

fn busy(queue_full: bool) -> ApiError {
    ApiError::Unavailable {
        code: if queue_full {
            "server_busy"
        } else {
            "server_slow"
        },
        detail: "The server is busy; try again in a few seconds.".into(),
    }
}
pub type PooledDb = PooledConnection<DbManager>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Runs one body against the concrete connection of either backend, for the few queries whose SQL or
/// diesel support differs (upsert, batch insert, raw SQL with binds).
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Opens connections by URL scheme (diesel's derived `establish` hides the real error) and sets the
/// SQLite pragmas every connection needs.
#[derive(Clone, Debug)]
pub struct DbManager {
    url: DatabaseUrl,
    /// SQLite's page cache per connection, in KiB (its default is 2,000).
    cache_kib: u32,
}

impl DbManager {
    pub fn new(url: DatabaseUrl) -> Self {
        DbManager {
            url,
            cache_kib: DEFAULT_CACHE_KIB,
        }
    }

    /// Opens one connection outside any pool.
    pub fn establish(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        r2d2::Error::ConnectionError(ConnectionError::BadConnection(format!(
                            "cannot create the folder {} for the SQLite database: {e}",
                            parent.display()
                        )))
                    })?;
                }
                let path = path.to_str().ok_or_else(|| {
                    r2d2::Error::ConnectionError(ConnectionError::BadConnection(
                        "the SQLite path is not valid UTF-8".into(),
                    ))
                })?;
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: the other pragmas may need a lock another connection holds.
                // synchronous=FULL makes every commit durable before we answer, WAL included.
                // temp_store=MEMORY keeps the statement journals of the per-record savepoints in
                // memory: on disk a 100-record push wrote some 4,000 pages to a temp file.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                     PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; \
                     PRAGMA cache_size = -{};",
                    self.cache_kib
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => diesel::PgConnection::establish(url.expose_secret())
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
        }
    }
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // A connection left inside a failed transaction must not go back to the pool.
        use diesel::connection::{TransactionManager, TransactionManagerStatus};
        matches!(
            <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn),
            TransactionManagerStatus::InError
        )
    }
}

/// How big a pool is and, on SQLite, how much page cache its connections may keep.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub size: u32,
    pub cache_kib: u32,
    pub writer_cache_kib: u32,
}

impl PoolOptions {
    pub fn new(size: u32) -> Self {
        PoolOptions {
            size,
            cache_kib: DEFAULT_CACHE_KIB,
            writer_cache_kib: WRITER_CACHE_KIB,
        }
    }
}

/// Opens the pool with the default page caches, creating the SQLite file if needed.
pub fn connect_pool(url: &DatabaseUrl, size: u32) -> anyhow::Result<DbPool> {
    connect_pool_with(url, PoolOptions::new(size))
}

/// Opens the pool, creating the SQLite file if needed. Migrations are not run here.
pub fn connect_pool_with(url: &DatabaseUrl, options: PoolOptions) -> anyhow::Result<DbPool> {
    let size = options.size;
    let manager = DbManager {
        url: url.clone(),
        cache_kib: options.cache_kib,
    };
    // Check the database once so a bad URL fails with its real cause rather than a pool time-out.
    manager
        .establish()
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", url.redacted()))?;
    let pool = Pool::builder()
        .max_size(size)
        // Opening many SQLite connections at once at start-up contends for the file lock.
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(manager.clone())?;
    let mut pool = DbPool::new(pool);
    if let DatabaseUrl::Sqlite(_) = url {
        // SQLite drops a connection's whole page cache whenever another connection has written
        // since its last read. Pushes that land on any of the pool's connections in turn therefore
        // read every page they touch back from the OS (9–14 % of an ingest's time in `pread`).
        // One connection for the pushes keeps its pages, and SQLite has one writer anyway.
        let writer = Pool::builder()
            .max_size(1)
            .min_idle(Some(0))
            .connection_timeout(QUEUE_WAIT)
            .build(DbManager {
                cache_kib: options.writer_cache_kib,
                ..manager
            })?;
        pool.writer = Some(writer);
    }
    Ok(pool)
}

/// The default page cache of SQLite's push connection, in KiB (`sqlite_writer_cache_kib`): a
/// commune's hot pages (its villages' households, ledger rows and tallies, the indexes' upper
/// levels), filled only as they are read.
pub const WRITER_CACHE_KIB: u32 = 16 * 1024;

/// The default page cache of each other SQLite connection, in KiB (`sqlite_cache_kib`).
pub const DEFAULT_CACHE_KIB: u32 = 2000;

fn migrations_for(conn: &DbConnection) -> EmbeddedMigrations {
    match conn {
        DbConnection::Postgresql(_) => POSTGRES_MIGRATIONS,
        DbConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    }
}

/// Applies pending migrations; returns the versions applied. On SQLite it also switches the file to WAL,
/// which is persistent, once, before any pool connection contends for it.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    if let DbConnection::Sqlite(c) = conn {
        c.batch_execute("PRAGMA journal_mode = WAL;")?;
    }
    let migrations = migrations_for(conn);
    let applied: Vec<String> = conn
        .run_pending_migrations(migrations)
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
        .iter()
        .map(|v| v.to_string())
        .collect();
    // The tallies' triggers count what is written from now on; rows written before they existed
    // are counted once here.
    if applied.iter().any(|v| v.ends_with("000011")) {
        tallies::rebuild(conn).map_err(|e| anyhow::anyhow!("building the tallies failed: {e}"))?;
    }
    Ok(applied)
}

/// Reverts every migration (used by the up → down → up test and by operators rolling back).
pub fn revert_all_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let migrations = migrations_for(conn);
    let reverted = conn
        .revert_all_migrations(migrations)
        .map_err(|e| anyhow::anyhow!("migration revert failed: {e}"))?;
    Ok(reverted.iter().map(|v| v.to_string()).collect())
}

/// True when every embedded migration has been applied.
pub fn migrations_are_current(conn: &mut DbConnection) -> anyhow::Result<bool> {
    let migrations = migrations_for(conn);
    let pending = conn
        .has_pending_migration(migrations)
        .map_err(|e| anyhow::anyhow!("cannot read migration state: {e}"))?;
    Ok(!pending)
}

/// Inside a write transaction, waits for every other transaction of the same commune that took this
/// lock, until it ends. SQLite already runs one writer at a time, so it does nothing there. On
/// PostgreSQL, pushes from several phones of one village touch the same households and ledger rows in
/// whatever order their records come; taking this lock first serialises them per commune (communes
/// still write in parallel) instead of letting them deadlock. Two communes may share a lock key; that
/// costs some waiting, never correctness.
pub fn lock_commune(conn: &mut DbConnection, commune_id: Option<&str>) -> QueryResult<()> {
    let DbConnection::Postgresql(c) = conn else {
        return Ok(());
    };
    let key = commune_id.map_or(0, |id| {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(id.as_bytes());
        i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    });
    // 0x544e ("TN"): this application's namespace for advisory locks.
    diesel::sql_query("SELECT pg_advisory_xact_lock(21582, $1)")
        .bind::<diesel::sql_types::Integer, _>(key)
        .execute(c)
        .map(|_| ())
}

/// Runs `f` in a transaction that holds the write lock from its first statement. On SQLite a deferred
/// transaction that reads and then writes can fail to upgrade its lock under concurrency ("database is
/// locked", which the busy timeout does not cover); `BEGIN IMMEDIATE` waits for the lock instead.
/// Nested `transaction` calls inside `f` become savepoints as usual.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            let committed = per_backend!(conn, |c| AnsiTransactionManager::commit_transaction(c));
            match committed {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = per_backend!(conn, |c| AnsiTransactionManager::rollback_transaction(c));
                    Err(e.into())
                }
            }
        }
        Err(e) => {
            // The rollback fails when the connection is gone (PostgreSQL restarted, the session
            // ended); diesel then marks the connection broken, the pool drops it, and the error that
            // ended the transaction is the one to answer, not "the transaction manager is broken".
            let _ = per_backend!(conn, |c| AnsiTransactionManager::rollback_transaction(c));
            Err(e)
        }
    }
}

/// Runs `f` with a pooled connection on the blocking thread pool.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run_in(pool, &pool.pool, f).await
}

/// [`run`] for the sync pushes: on SQLite through the one push connection, whose page cache
/// stays warm from one push to the next; on PostgreSQL like [`run`].
pub async fn run_write<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run_in(pool, pool.writer.as_ref().unwrap_or(&pool.pool), f).await
}

async fn run_in<T, F>(pool: &DbPool, connections: &Pool<DbManager>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    use std::sync::atomic::Ordering;
    let waiting = pool.waiting.fetch_add(1, Ordering::SeqCst);
    let full = waiting >= QUEUE_LIMIT;
    let permit = if full {
        None
    } else {
        tokio::time::timeout(QUEUE_WAIT, pool.gate.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    };
    pool.waiting.fetch_sub(1, Ordering::SeqCst);
    let Some(permit) = permit else {
        pool.refused[usize::from(!full)].fetch_add(1, Ordering::Relaxed);
        tracing::warn!(waiting, "database queue full or too slow: answering 503");
        return Err(busy(full));
    };
    let inner = connections.clone();
    let result = web::block(move || {
        let mut conn = inner.get()?;
        f(&mut conn)
    })
    .await;
    drop(permit);
    result?
}

/// The current time as stored: naive UTC, truncated to microseconds (PostgreSQL's precision) so a value
/// read back equals the value written on both backends.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
        .naive_utc()
}

/// A new time-ordered UUID (v7) as the string we store.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
