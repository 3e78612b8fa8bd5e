//! Storage: diesel over SQLite or PostgreSQL. One file per aggregate; functions take a
//! `&mut DbConn` so callers compose them inside one transaction (`db::write_tx`).

/// An optimistic-concurrency update of `table` (which has `version` and `updated_at`):
/// applies `patch` where the row still has `version` and bumps the version in SQL;
/// `NotFound` or `Stale` otherwise.
macro_rules! versioned_update {
    ($conn:expr, $table:ident, $key:ident, $id:expr, $version:expr, $patch:expr) => {{
        use $crate::store::schema::$table as tbl;
        let expected: i32 = $version;
        let n = diesel::update(tbl::table.filter(tbl::$key.eq($id)).filter({
            let (lo, hi) = $crate::store::version_range(expected);
            tbl::version.between(lo, hi)
        }))
        .set((
            $patch,
            tbl::version.eq(tbl::version + 1),
            tbl::updated_at.eq($crate::store::now()),
        ))
        .execute($conn)?;
        $crate::store::check_versioned(n, || {
            tbl::table
                .find($id)
                .select(tbl::version)
                .first($conn)
                .optional()
        })
    }};
}

pub mod centers;
pub mod customers;
pub mod db;
pub mod equipment;
pub mod feedback;
pub mod idempotency;
pub mod install_ledger;
pub mod live_events;
pub mod money;
pub mod names;
pub mod numbers;
pub mod order_view;
pub mod orders;
pub mod outbox;
pub mod photos;
pub mod schema;
pub mod search;
pub mod stock;
pub mod technicians;
pub mod tracking;
pub mod users;
pub mod vehicles;

use chrono::NaiveDateTime;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub use db::{Backend, DbConn, DbTarget, Pool, write_tx};

/// The version an update names with `If-Match: *`: whatever version is current.
pub const ANY_VERSION: i32 = 0;

/// The versions an update that expects `expected` may change: all for `ANY_VERSION`.
pub fn version_range(expected: i32) -> (i32, i32) {
    if expected == ANY_VERSION {
        (i32::MIN, i32::MAX)
    } else {
        (expected, expected)
    }
}

/// Whether an update that expects `expected` may change an object at `current`.
pub fn version_matches(expected: i32, current: i32) -> bool {
    expected == ANY_VERSION || expected == current
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Optimistic concurrency: the row's version is not the one the caller had.
    #[error("version mismatch (current {current})")]
    Stale { current: i32 },
    /// A UNIQUE constraint: `field` is the column that collided.
    #[error("duplicate {field}")]
    Duplicate { field: String },
    /// A rule the database enforces (binding, status) refused the change.
    #[error("{code}: {detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("referenced object does not exist")]
    MissingReference,
    /// Text the database cannot store (PostgreSQL refuses NUL characters).
    #[error("text contains characters that cannot be stored")]
    InvalidText,
    /// A stored enum's text is none of its values: data this code never wrote.
    #[error("stored {what} has an unknown value {value:?}")]
    Corrupt { what: &'static str, value: String },
    #[error("database error: {0}")]
    Db(DieselError),
}

/// A stored enum's text read back as the domain enum (`OrderStatus::parse`, …): the one
/// checked conversion. An unknown value is `Corrupt` (an internal error, logged, 500),
/// never a default.
pub fn stored<T>(
    what: &'static str,
    value: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> StoreResult<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt {
        what,
        value: value.to_string(),
    })
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Duplicate {
                    field: unique_field(
                        info.message(),
                        info.details(),
                        info.table_name(),
                        info.constraint_name(),
                    ),
                }
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                StoreError::MissingReference
            }
            DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, info) => {
                StoreError::Conflict {
                    code: "constraint_violation",
                    detail: info.message().to_string(),
                }
            }
            DieselError::DatabaseError(_, info)
                if info.message().contains("invalid byte sequence")
                    || info.message().contains("unsupported Unicode escape") =>
            {
                StoreError::InvalidText
            }
            other => StoreError::Db(other),
        }
    }
}

/// The column behind a unique violation: SQLite says "UNIQUE constraint failed: t.col",
/// PostgreSQL's detail says "Key (col)=(value) already exists." and names the constraint
/// "t_col_key".
fn unique_field(
    message: &str,
    details: Option<&str>,
    table: Option<&str>,
    constraint: Option<&str>,
) -> String {
    if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
        let first = rest.split(',').next().unwrap_or(rest).trim();
        return first.rsplit('.').next().unwrap_or(first).to_string();
    }
    if let Some(cols) = details
        .and_then(|d| d.strip_prefix("Key ("))
        .and_then(|d| d.split_once(")=").map(|(cols, _)| cols))
    {
        return cols.split(',').next().unwrap_or(cols).trim().to_string();
    }
    if let (Some(t), Some(c)) = (table, constraint)
        && let Some(col) = c
            .strip_prefix(t)
            .and_then(|c| c.strip_prefix('_'))
            .and_then(|c| c.strip_suffix("_key"))
    {
        return col.to_string();
    }
    constraint.unwrap_or("value").to_string()
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Ids per `IN (…)` list, well under SQLite's and PostgreSQL's bound-parameter limits.
pub const IN_CHUNK: usize = 500;

/// Time-ordered ids: `ORDER BY id` is creation order, which every list's cursor uses.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, in UTC, at microsecond precision (what both databases keep).
pub fn now() -> NaiveDateTime {
    micros(chrono::Utc::now().naive_utc())
}

/// A time cut to microseconds, the precision both databases keep (so what is written
/// reads back equal).
pub fn micros(t: NaiveDateTime) -> NaiveDateTime {
    t - chrono::Duration::nanoseconds(i64::from(t.and_utc().timestamp_subsec_nanos() % 1000))
}

/// One page of a list, ordered by id; `next_cursor` is the id to continue after.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` was fetched with `limit + 1` to learn whether more follow.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> &str) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| id(r).to_string())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            next_cursor: None,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Common list parameters after validation.
#[derive(Debug, Clone)]
pub struct PageReq {
    pub after: Option<String>,
    pub limit: i64,
}

/// Applies a versioned update's outcome: 1 row = done; 0 rows = missing or stale.
/// `current` reads the row's version, only when the update matched nothing.
pub fn check_versioned(
    updated: usize,
    current: impl FnOnce() -> diesel::QueryResult<Option<i32>>,
) -> StoreResult<()> {
    if updated == 1 {
        return Ok(());
    }
    match current()? {
        None => Err(StoreError::NotFound),
        Some(current) => Err(StoreError::Stale { current }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_field_from_both_backends() {
        assert_eq!(
            unique_field("UNIQUE constraint failed: terminals.imei", None, None, None),
            "imei"
        );
        assert_eq!(
            unique_field(
                "duplicate key value violates unique constraint \"technician_profiles_pkey\"",
                Some("Key (user_id)=(0199) already exists."),
                Some("technician_profiles"),
                Some("technician_profiles_pkey")
            ),
            "user_id"
        );
        assert_eq!(
            unique_field("x", None, Some("vehicles"), Some("vehicles_plate_no_key")),
            "plate_no"
        );
    }

    #[test]
    fn page_cuts_and_points_at_the_last_item() {
        let p = Page::from_rows(vec!["a", "b", "c"], 2, |s| s);
        assert_eq!(p.items, vec!["a", "b"]);
        assert_eq!(p.next_cursor.as_deref(), Some("b"));
        let p = Page::from_rows(vec!["a"], 2, |s| s);
        assert_eq!(p.next_cursor, None);
    }
}

/// Timestamps leave the API as RFC 3339 UTC (`2026-11-22T05:00:00.000Z`).
pub mod utc {
    use chrono::{NaiveDateTime, SecondsFormat};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub mod option {
        use super::*;
        pub fn serialize<S: Serializer>(
            t: &Option<NaiveDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }
    }
}

diesel::define_sql_function! {
    /// `lower()`, on both databases: text filters ignore ASCII case everywhere.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%q%` for a LIKE filter, with the pattern characters of `q` escaped.
pub fn contains_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `%q%` lowercased, to match against `lower(column)`.
pub fn lower_pattern(q: &str) -> String {
    contains_pattern(&q.to_lowercase())
}
