//! One diesel code base over SQLite (embedded default) and PostgreSQL (production).
//!
//! `DbConn` is a diesel `MultiConnection`. The backend is chosen from the URL's scheme by
//! our own r2d2 manager, never by trial: a mistyped PostgreSQL URL must fail with its real
//! cause, not fall through to "a SQLite file named postgres://…".

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;

/// Runs a query on the backend's own connection rather than through the `MultiConnection`
/// wrapper. Through the wrapper diesel cannot see a query's static type id, so it renders
/// the SQL text on every run just to find the prepared statement in its cache (a few µs a
/// query); on the concrete connection the lookup is by type. The body is compiled once per
/// backend. Used for the queries every request runs.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConn::Pg($c) => $body,
            $crate::store::DbConn::Sqlite($c) => $body,
        }
    };
}
pub(crate) use per_backend;
pub type PooledConn = r2d2::PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct DbTarget {
    pub backend: Backend,
    /// libpq URL (with a connect timeout) or SQLite file path.
    pub url: String,
    /// How long a request waits for a pooled connection before it answers 503
    /// (`DISPATCH_DB_ACQUIRE_TIMEOUT`).
    pub acquire_timeout: Duration,
}

/// The default of `DISPATCH_DB_ACQUIRE_TIMEOUT`: short, so that during a database outage
/// requests answer 503 promptly instead of piling up.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl DbTarget {
    /// `postgres://…` / `postgresql://…` → PostgreSQL; `sqlite://path`, `sqlite:path` or a
    /// bare path → SQLite file.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let url = if url.contains("connect_timeout=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&connect_timeout=5")
            } else {
                format!("{url}?connect_timeout=5")
            };
            return Ok(Self {
                backend: Backend::Postgres,
                url,
                acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("DATABASE_URL is empty".into());
        }
        if path.contains("://") {
            return Err(format!(
                "DATABASE_URL scheme not supported (use postgres:// or sqlite://): {path}"
            ));
        }
        Ok(Self {
            backend: Backend::Sqlite,
            url: path.to_string(),
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        })
    }

    pub fn sqlite_file(path: PathBuf) -> Self {
        Self {
            backend: Backend::Sqlite,
            url: path.to_string_lossy().into_owned(),
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }

    /// The same database with another wait for a pooled connection.
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error(transparent)]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// r2d2 manager that opens the right backend and sets SQLite's per-connection pragmas.
#[derive(Debug, Clone)]
pub struct Manager {
    target: DbTarget,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConn, ConnError> {
        match self.target.backend {
            Backend::Postgres => Ok(DbConn::Pg(diesel::PgConnection::establish(
                &self.target.url,
            )?)),
            Backend::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(&self.target.url)?;
                // Without these, a pooled SQLite answers "database is locked" under load
                // and ignores foreign keys.
                c.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(Into::into)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// Opens one connection first so a bad URL or a down server is reported with its real
/// cause, then builds the pool.
pub fn connect(target: &DbTarget, max_size: u32) -> Result<Pool, String> {
    if target.backend == Backend::Sqlite
        && let Some(dir) = std::path::Path::new(&target.url).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create database directory {}: {e}", dir.display()))?;
    }
    let manager = Manager {
        target: target.clone(),
    };
    manager.connect().map_err(|e| match target.backend {
        Backend::Postgres => format!("cannot connect to PostgreSQL: {e}"),
        Backend::Sqlite => format!("cannot open SQLite database {}: {e}", target.url),
    })?;
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(target.acquire_timeout)
        // PostgreSQL: a pooled connection may have died since it was last used (a server
        // restart, `pg_terminate_backend`, a cut network); diesel cannot tell until a query
        // fails on it. A `SELECT 1` at checkout discards such a connection and opens a new
        // one, so the request runs on a live connection. SQLite's file does not go away.
        .test_on_check_out(target.backend == Backend::Postgres)
        .build(manager)
        .map_err(|e| format!("cannot build connection pool: {e}"))
}

/// Key of the PostgreSQL advisory lock held while migrations run (any fixed number
/// works; this one is "dispatch" in ASCII).
const MIGRATION_LOCK: i64 = 0x6469_7370_6174_6368;

/// Runs the embedded migrations of the connection's backend. On PostgreSQL under a
/// session advisory lock: instances started together on a database with pending
/// migrations take turns (the first migrates, the others then find nothing to do)
/// instead of creating the same tables at once and failing on `pg_type`'s unique index.
/// SQLite's migrations run in a write transaction, which is already exclusive.
pub fn migrate(conn: &mut DbConn) -> Result<usize, String> {
    let done = match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| format!("cannot take the migration lock: {e}"))?;
            let done = c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len());
            // also released when the connection closes, e.g. if this process dies
            let unlocked =
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                    .execute(c);
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, "cannot release the migration lock");
            }
            done
        }
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    done.map_err(|e| format!("migration failed: {e}"))
}

/// Whether a database error means the database is not there for us right now rather than
/// anything about the request: on PostgreSQL the connection is gone (the server restarted
/// or ended our session, the network was cut); on SQLite another process has held the
/// file's write lock past `busy_timeout`. The request may succeed when tried again, so it
/// answers 503 with Retry-After, not 500.
pub fn is_unavailable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message();
            [
                "server closed the connection",
                "terminating connection",
                "no connection to the server",
                "connection to server",
                "could not receive data from server",
                "could not send data to server",
                "SSL connection has been closed",
                "the database system is shutting down",
                "the database system is starting up",
                "the database system is in recovery mode",
                // SQLite: SQLITE_BUSY after busy_timeout
                "database is locked",
            ]
            .iter()
            .any(|needle| m.contains(needle))
        }
        _ => false,
    }
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// SQL of a fixed statement as a type, so diesel keeps it prepared (keyed by its type id)
/// instead of parsing it again on every run as `batch_execute` does.
macro_rules! fixed_statement {
    ($name:ident, $sql:literal) => {
        #[derive(diesel::query_builder::QueryId)]
        struct $name;
        impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
            ) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }
        impl RunQueryDsl<diesel::SqliteConnection> for $name {}
    };
}
fixed_statement!(BeginRead, "BEGIN");
fixed_statement!(EndRead, "COMMIT");
fixed_statement!(AbortRead, "ROLLBACK");

/// Runs `f`, which only reads, in one read transaction: one snapshot for all its queries,
/// and on SQLite the WAL read lock taken once rather than per statement. On SQLite the
/// transaction statements are kept prepared (a read transaction costs two statement
/// runs, not two parses); `f` must not open transactions of its own there.
pub fn read_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if !matches!(conn, DbConn::Sqlite(_)) {
        return conn.transaction(f);
    }
    if let DbConn::Sqlite(c) = conn {
        BeginRead.execute(c)?;
    }
    // a panic inside must not hand the connection back with the transaction open (diesel
    // does not know about it, so the pool would keep the connection)
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut *conn))) {
        Ok(r) => r,
        Err(panic) => {
            if let DbConn::Sqlite(c) = conn {
                let _ = AbortRead.execute(c);
            }
            std::panic::resume_unwind(panic);
        }
    };
    if let DbConn::Sqlite(c) = conn
        && let Err(e) = EndRead.execute(c)
    {
        // a read transaction cannot fail to commit; if it somehow did, do not hand the
        // connection back to the pool with the transaction still open
        AbortRead.execute(c)?;
        return Err(e.into());
    }
    result
}

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock
/// up front: a deferred transaction that reads and then writes can fail with
/// SQLITE_BUSY_SNAPSHOT under concurrent writers, which `busy_timeout` does not retry.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConn as Connection>::TransactionManager;
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Pg(_) => Tm::begin_transaction(conn)?,
    }
    super::live_events::begin();
    // the changes the transaction made are announced in it, last (`live_events`)
    match f(conn).and_then(|value| Ok((value, super::live_events::flush(conn)?))) {
        Ok((value, announced)) => match Tm::commit_transaction(conn) {
            Ok(()) => {
                if announced > 0 {
                    super::live_events::committed();
                }
                Ok(value)
            }
            Err(e) => {
                let _ = Tm::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            super::live_events::begin();
            let _ = Tm::rollback_transaction(conn);
            Err(e)
        }
    }
}
