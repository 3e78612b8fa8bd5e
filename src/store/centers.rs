use diesel::prelude::*;
use serde::Serialize;

use super::schema::service_centers::dsl as sc;
use super::{DbConn, Page, PageReq, StoreResult, lower_pattern};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::service_centers)]
pub struct Center {
    pub id: String,
    /// Short code used in document numbers, e.g. `ZZ` in `AZ-ZZ-2026-000123`.
    pub code: String,
    pub name: String,
    pub region: String,
    pub lat: f64,
    pub lng: f64,
    pub active: bool,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::service_centers)]
pub struct CenterPatch {
    pub name: Option<String>,
    pub region: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub active: Option<bool>,
}

#[derive(Debug, Default)]
pub struct CenterFilter {
    pub only: Option<String>,
    pub q: Option<String>,
    pub region: Option<String>,
    pub active: Option<bool>,
}

pub fn insert(conn: &mut DbConn, c: &Center) -> StoreResult<()> {
    diesel::insert_into(sc::service_centers)
        .values(c)
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, id: &str) -> StoreResult<Center> {
    Ok(sc::service_centers
        .find(id)
        .select(Center::as_select())
        .first(conn)?)
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> StoreResult<Option<Center>> {
    Ok(sc::service_centers
        .filter(sc::code.eq(code))
        .select(Center::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn, f: &CenterFilter, page: &PageReq) -> StoreResult<Page<Center>> {
    let mut q = sc::service_centers.select(Center::as_select()).into_boxed();
    if let Some(only) = &f.only {
        q = q.filter(sc::id.eq(only.clone()));
    }
    if let Some(text) = &f.q {
        q = q.filter(
            super::lower(sc::name)
                .like(lower_pattern(text))
                .escape('\\'),
        );
    }
    if let Some(r) = &f.region {
        q = q.filter(sc::region.eq(r.clone()));
    }
    if let Some(a) = f.active {
        q = q.filter(sc::active.eq(a));
    }
    if let Some(after) = &page.after {
        q = q.filter(sc::id.gt(after.clone()));
    }
    let rows = q.order(sc::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |c| &c.id))
}

pub fn update(conn: &mut DbConn, id: &str, version: i32, patch: &CenterPatch) -> StoreResult<()> {
    versioned_update!(conn, service_centers, id, id, version, patch)
}

pub fn count(conn: &mut DbConn) -> StoreResult<i64> {
    Ok(sc::service_centers.count().get_result(conn)?)
}
