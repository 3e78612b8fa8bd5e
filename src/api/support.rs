//! Small pieces every handler uses: running storage work off the async threads, list
//! parameters, ETag / If-Match, and a collector of per-field validation errors.

use std::sync::{Arc, Mutex};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Deserializer, Serialize};

use super::error::ApiError;
use super::session::{Caller, Session, SessionCache};
pub use crate::app::Check;
use crate::store::{DbConn, Page, PageReq, Pool};
use diesel::r2d2;

/// The database as handlers see it: the pool, and on SQLite a second small pool for reads
/// that run right on the HTTP worker thread.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// SQLite only. A WAL reader never waits for a writer, and a query takes microseconds:
    /// less than the hop to the blocking pool would. Sized above the number of HTTP workers,
    /// each of which holds at most one at a time, so taking one never waits either.
    inline_reads: Option<Pool>,
    /// SQLite only: writers queue here, in arrival order, instead of in SQLite's busy
    /// handler, which sleeps up to 100 ms between tries and makes the tail latency of
    /// concurrent writes ragged. (Another process writing the same file still meets
    /// `busy_timeout`.)
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite only: customers as last served, until a write to customers ends.
    customers: Option<Arc<ReadCache>>,
    /// SQLite only: sessions known valid since the last change to users (see
    /// `SessionCache`).
    sessions: Option<Arc<SessionCache>>,
}

impl Db {
    pub fn new(pool: Pool, inline_reads: Option<Pool>) -> Self {
        let sqlite = inline_reads.is_some();
        Self {
            pool,
            inline_reads,
            write_lock: sqlite.then(|| Arc::new(Mutex::new(()))),
            sessions: sqlite.then(|| Arc::new(SessionCache::default())),
            customers: sqlite.then(|| Arc::new(ReadCache::default())),
        }
    }

    /// SQLite: a customer as last served, when the caller's session is known valid and
    /// nothing has written customers since. `None`: read the database.
    pub fn cached_customer(&self, session: &Session, id: &str) -> Option<Cached> {
        let (cache, sessions) = (self.customers.as_deref()?, self.sessions.as_deref()?);
        if !sessions.knows(session) {
            return None;
        }
        cache.get(id)
    }

    /// The customer cache's epoch, noted before the read whose result may be kept.
    pub fn customers_epoch(&self) -> Option<u64> {
        self.customers.as_deref().map(ReadCache::epoch)
    }

    /// Keeps a customer as served, if no write to customers ended since `epoch`.
    pub fn remember_customer(&self, epoch: Option<u64>, id: &str, entry: Cached) {
        if let (Some(cache), Some(epoch)) = (self.customers.as_deref(), epoch) {
            cache.put(epoch, id, entry);
        }
    }
}

/// A served object's bytes, its version (the ETag) and the center it belongs to (checked
/// against each caller's scope on every hit).
#[derive(Clone)]
pub struct Cached {
    pub center_id: String,
    pub version: i32,
    pub body: web::Bytes,
}

const READ_CACHE_MAX: usize = 10_000;

/// Objects as last served, valid while the epoch stands. Exact on SQLite, where this
/// process makes every change: a write transaction that changed the data bumps the epoch
/// after it ends, and a reader keeps what it read only under the epoch it noted before its
/// snapshot began, so nothing read before a change is served after it. (Until the writer
/// returns, nobody has been told of its change.) PostgreSQL, with other instances
/// writing, has no such cache.
#[derive(Default)]
pub struct ReadCache {
    epoch: std::sync::atomic::AtomicU64,
    /// every entry is of the current epoch: `put` checks it and `invalidate` clears all,
    /// both under this lock
    entries: Mutex<std::collections::HashMap<String, Cached>>,
}

impl ReadCache {
    pub fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn get(&self, id: &str) -> Option<Cached> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).cloned()
    }

    pub fn put(&self, epoch: u64, id: &str, entry: Cached) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if epoch != self.epoch() {
            return;
        }
        if map.len() >= READ_CACHE_MAX {
            map.clear();
        }
        map.insert(id.to_string(), entry);
    }

    /// After a transaction that changed the data has ended.
    pub fn invalidate(&self) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        map.clear();
    }
}

/// Runs `f` with a pooled connection on the blocking thread pool, without a caller
/// (login, readiness).
pub async fn with_db_anon<T, F>(db: &Db, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = db.pool.clone();
    web::block(move || {
        let mut conn = pool
            .get()
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
}

/// Reads for an authenticated caller: the session is checked (user still active, token
/// not revoked) on the same connection, in the same trip to the database. `f` must not
/// write: writes go through `in_tx`.
pub async fn with_db<T, F>(db: &Db, session: Session, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    if let Some(reads) = &db.inline_reads {
        let mut conn = reads
            .get()
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let sessions = db.sessions.as_deref();
        return crate::store::db::read_tx(&mut conn, |c| {
            match sessions {
                // the epoch is read before the first query, i.e. before the snapshot
                Some(cache) if !cache.knows(&session) => {
                    let epoch = cache.epoch();
                    session.verify(c)?;
                    cache.remember(&session, epoch);
                }
                Some(_) => {}
                None => session.verify(c)?,
            }
            f(c)
        });
    }
    let pool = db.pool.clone();
    web::block(move || {
        let unavailable = |e: r2d2::PoolError| ApiError::Unavailable(e.to_string());
        let mut conn = pool.get().map_err(unavailable)?;
        // The session check is the read's first query. When it finds the connection dead
        // (it died after the checkout's test), nothing has run yet: read again, once, on a
        // fresh connection; the dead one is discarded at its next checkout.
        if let Err(e) = session.verify(&mut conn) {
            if !matches!(e, ApiError::Unavailable(_)) {
                return Err(e);
            }
            tracing::warn!(error = %e, "database connection lost; reading on a fresh one");
            drop(conn);
            conn = pool.get().map_err(unavailable)?;
            session.verify(&mut conn)?;
        }
        f(&mut conn)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
}

/// Like `with_db`, inside one write transaction.
pub async fn in_tx<T, F>(db: &Db, session: Session, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let lock = db.write_lock.clone();
    let sessions = db.sessions.clone();
    let customers = db.customers.clone();
    with_db_anon(db, move |conn| {
        // a poisoned lock only means another writer panicked; the database is fine
        let _turn = lock
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
        crate::store::users::take_principals_changed();
        crate::store::customers::take_customers_changed();
        let result = crate::store::write_tx(conn, |c| {
            session.verify(c)?;
            f(c)
        });
        // after the transaction ended (committed or not), on the thread that ran it
        if crate::store::users::take_principals_changed()
            && let Some(cache) = &sessions
        {
            cache.invalidate();
        }
        if crate::store::customers::take_customers_changed()
            && let Some(cache) = &customers
        {
            cache.invalidate();
        }
        result
    })
    .await
}

/// A page of a list in the caller's scope: `center_id` narrowed to what they may see
/// (another center's: an empty page, as if it had nothing).
pub async fn scoped_page<T, F>(
    db: &Db,
    caller: &Caller,
    center_id: Option<String>,
    page: &PageParams,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConn, Option<String>, PageReq) -> Result<Page<T>, ApiError> + Send + 'static,
{
    let page = page.to_req()?;
    let Some(center) = caller.list_center(center_id.as_deref()) else {
        return empty_page::<T>(db, caller.session()).await;
    };
    let items = with_db(db, caller.session(), move |c| f(c, center, page)).await?;
    Ok(page_json(items))
}

/// An empty page, after checking the session like any list would.
pub async fn empty_page<T: Serialize>(db: &Db, session: Session) -> Result<HttpResponse, ApiError> {
    with_db(db, session, |_| Ok(())).await?;
    Ok(page_json(Page::<T>::empty()))
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// `?cursor=…&limit=…` of every list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
    /// 1–200, default 50
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

impl PageParams {
    pub fn to_req(&self) -> Result<PageReq, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                "out_of_range",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(PageReq {
            after: self.cursor.clone().filter(|c| !c.is_empty()),
            limit,
        })
    }
}

/// A page as JSON.
pub fn page_json<T: Serialize>(page: Page<T>) -> HttpResponse {
    HttpResponse::Ok().json(page)
}

/// An object with its version as a strong ETag.
pub fn with_etag<T: Serialize>(
    status: actix_web::http::StatusCode,
    version: i32,
    body: &T,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(body)
}

pub fn ok_etag<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    with_etag(actix_web::http::StatusCode::OK, version, body)
}

/// 200 with JSON already serialized, and its version as the ETag (as `ok_etag`).
pub fn ok_etag_bytes(version: i32, body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .content_type("application/json")
        .body(body)
}

pub fn created_etag<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    with_etag(actix_web::http::StatusCode::CREATED, version, body)
}

/// The version an update expects, from `If-Match`: missing → 428, not one of our ETags → 412,
/// `*` → `ANY_VERSION` (whatever version is current, RFC 9110 13.1.1).
pub fn if_match(req: &HttpRequest) -> Result<i32, ApiError> {
    let raw = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?;
    // our ETags are strong; a weak or foreign one never matches
    let text = raw.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(crate::store::ANY_VERSION);
    }
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i32>().ok())
        .filter(|v| (1..i32::MAX).contains(v))
        .ok_or(ApiError::PreconditionFailed { current: -1 })
}

/// For PATCH bodies: absent → `None`, `null` → `Some(None)`, value → `Some(Some(v))`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
