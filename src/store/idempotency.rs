//! Idempotency keys: the first answer to a request, kept for its retries.

use diesel::prelude::*;

use super::schema::idempotency_keys::dsl as ik;
use super::{DbConn, StoreResult, db::per_backend, now};

/// A stored first response: (request hash, status, body).
pub fn idempotent_response(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
) -> StoreResult<Option<(String, i32, String)>> {
    Ok(ik::idempotency_keys
        .filter(ik::user_id.eq(user_id))
        .filter(ik::key.eq(key))
        .select((ik::request_hash, ik::status, ik::body))
        .first(conn)
        .optional()?)
}

/// Claims `key` for the request `request_hash` in the caller's write transaction: true when
/// this is its first use. A concurrent first use of the same key waits here on PostgreSQL
/// (the primary key's insert waits for the other transaction) and then finds its answer;
/// SQLite's writers are serialized anyway. A claim whose write rolls back is gone with it.
pub fn claim_key(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    request_hash: &str,
) -> StoreResult<bool> {
    let at = now();
    let n = per_backend!(conn, |c| diesel::insert_into(ik::idempotency_keys)
        .values((
            ik::user_id.eq(user_id),
            ik::key.eq(key),
            ik::request_hash.eq(request_hash),
            ik::status.eq(0),
            ik::body.eq(""),
            ik::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Keeps the first response to a key claimed by `claim_key` in this transaction.
pub fn remember_response(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    status: i32,
    body: &str,
) -> StoreResult<()> {
    diesel::update(
        ik::idempotency_keys
            .filter(ik::user_id.eq(user_id))
            .filter(ik::key.eq(key)),
    )
    .set((ik::status.eq(status), ik::body.eq(body)))
    .execute(conn)?;
    Ok(())
}
