//! Document numbers: gapless per-center, per-year counters (orders, receipts, remittances,
//! invoices).

use diesel::prelude::*;

use super::schema::number_sequences::dsl as ns;
use super::{DbConn, StoreResult, db::per_backend};

/// The next number of a gapless per-center, per-year counter, taken inside the caller's
/// transaction: a rolled-back order gives its number back.
pub fn next_number(conn: &mut DbConn, center_id: &str, kind: &str, year: i32) -> StoreResult<i64> {
    // the upsert takes the row lock (PostgreSQL) or is under the write lock (SQLite), so
    // the read after it sees this transaction's own value
    per_backend!(conn, |c| diesel::insert_into(ns::number_sequences)
        .values((
            ns::center_id.eq(center_id),
            ns::kind.eq(kind),
            ns::year.eq(year),
            ns::last_value.eq(1i64),
        ))
        .on_conflict((ns::center_id, ns::kind, ns::year))
        .do_update()
        .set(ns::last_value.eq(ns::last_value + 1))
        .execute(c))?;
    Ok(ns::number_sequences
        .filter(ns::center_id.eq(center_id))
        .filter(ns::kind.eq(kind))
        .filter(ns::year.eq(year))
        .select(ns::last_value)
        .first(conn)?)
}
