//! Display names by id, for views and reports that show who and for whom.

use diesel::prelude::*;

use super::{DbConn, StoreResult};

/// `(id, name)` pairs of `ids` from one table, in chunks.
macro_rules! names_of {
    ($conn:expr, $table:ident, $name:ident, $ids:expr) => {{
        use super::schema::$table::dsl as t;
        let mut out = std::collections::HashMap::new();
        for chunk in $ids.chunks(super::IN_CHUNK) {
            let rows: Vec<(String, String)> = t::$table
                .filter(t::id.eq_any(chunk))
                .select((t::id, t::$name))
                .load($conn)?;
            out.extend(rows);
        }
        out
    }};
}
pub(super) use names_of;

/// Display names of users, by id (for reports).
pub fn user_names(
    conn: &mut DbConn,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, String>> {
    Ok(names_of!(conn, users, display_name, ids))
}

/// Names of customers, by id (for reports).
pub fn customer_names(
    conn: &mut DbConn,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, String>> {
    Ok(names_of!(conn, customers, name, ids))
}
