use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::drivers::dsl as d;
use super::schema::vehicles::dsl as v;
use super::{DbConn, Page, PageReq, StoreResult, contains_pattern};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::vehicles)]
pub struct Vehicle {
    pub id: String,
    pub center_id: String,
    pub customer_id: String,
    /// 车牌号, normalized (no spaces or middle dot)
    pub plate_no: String,
    /// 车架号
    pub vin: Option<String>,
    pub model: Option<String>,
    pub notes: Option<String>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// 车牌颜色 (`PlateColour`): blue, yellow, black, white, green, yellow_green; null
    /// while unknown
    #[schema(value_type = Option<crate::domain::registry::PlateColour>)]
    pub plate_colour: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::drivers)]
pub struct Driver {
    pub id: String,
    pub center_id: String,
    pub vehicle_id: String,
    pub name: String,
    pub phone: String,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::vehicles)]
pub struct VehiclePatch {
    pub plate_no: Option<String>,
    pub vin: Option<Option<String>>,
    pub model: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub plate_colour: Option<Option<String>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::drivers)]
pub struct DriverPatch {
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Default)]
pub struct VehicleFilter<'a> {
    pub center: Option<&'a str>,
    pub customer_id: Option<String>,
    pub q: Option<String>,
}

#[derive(Debug, Default)]
pub struct DriverFilter<'a> {
    pub center: Option<&'a str>,
    pub vehicle_id: Option<String>,
    pub q: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &Vehicle) -> StoreResult<()> {
    diesel::insert_into(v::vehicles).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, id: &str) -> StoreResult<Vehicle> {
    Ok(v::vehicles
        .find(id)
        .select(Vehicle::as_select())
        .first(conn)?)
}

pub fn list(conn: &mut DbConn, f: &VehicleFilter, page: &PageReq) -> StoreResult<Page<Vehicle>> {
    let mut q = v::vehicles.select(Vehicle::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(v::center_id.eq(c.to_string()));
    }
    if let Some(cid) = &f.customer_id {
        q = q.filter(v::customer_id.eq(cid.clone()));
    }
    if let Some(text) = &f.q {
        let p = contains_pattern(text);
        q = q.filter(
            v::plate_no
                .like(p.clone())
                .escape('\\')
                .or(v::vin.like(p).escape('\\')),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(v::id.gt(after.clone()));
    }
    let rows = q.order(v::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id))
}

pub fn by_customer(conn: &mut DbConn, customer_id: &str) -> StoreResult<Vec<Vehicle>> {
    Ok(v::vehicles
        .filter(v::customer_id.eq(customer_id))
        .order(v::id.asc())
        .select(Vehicle::as_select())
        .load(conn)?)
}

pub fn update(conn: &mut DbConn, id: &str, version: i32, patch: &VehiclePatch) -> StoreResult<()> {
    versioned_update!(conn, vehicles, id, id, version, patch)
}

pub fn insert_driver(conn: &mut DbConn, row: &Driver) -> StoreResult<()> {
    diesel::insert_into(d::drivers).values(row).execute(conn)?;
    Ok(())
}

pub fn get_driver(conn: &mut DbConn, id: &str) -> StoreResult<Driver> {
    Ok(d::drivers
        .find(id)
        .select(Driver::as_select())
        .first(conn)?)
}

pub fn drivers_of(conn: &mut DbConn, vehicle_ids: &[&str]) -> StoreResult<Vec<Driver>> {
    // chunked: a big fleet must not exceed the bound-parameter limit
    let mut out = Vec::with_capacity(vehicle_ids.len());
    for chunk in vehicle_ids.chunks(super::IN_CHUNK) {
        out.extend(
            d::drivers
                .filter(d::vehicle_id.eq_any(chunk))
                .select(Driver::as_select())
                .load::<Driver>(conn)?,
        );
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

pub fn list_drivers(
    conn: &mut DbConn,
    f: &DriverFilter,
    page: &PageReq,
) -> StoreResult<Page<Driver>> {
    let mut q = d::drivers.select(Driver::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(d::center_id.eq(c.to_string()));
    }
    if let Some(vid) = &f.vehicle_id {
        q = q.filter(d::vehicle_id.eq(vid.clone()));
    }
    if let Some(text) = &f.q {
        let p = super::lower_pattern(text);
        q = q.filter(
            super::lower(d::name)
                .like(p.clone())
                .escape('\\')
                .or(d::phone.like(p).escape('\\')),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(d::id.gt(after.clone()));
    }
    let rows = q.order(d::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id))
}

pub fn update_driver(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    patch: &DriverPatch,
) -> StoreResult<()> {
    versioned_update!(conn, drivers, id, id, version, patch)
}

pub fn delete_driver(conn: &mut DbConn, id: &str) -> StoreResult<()> {
    let n = diesel::delete(d::drivers.find(id)).execute(conn)?;
    if n == 0 {
        return Err(super::StoreError::NotFound);
    }
    Ok(())
}

pub fn by_plate(conn: &mut DbConn, plate: &str) -> StoreResult<Option<Vehicle>> {
    Ok(v::vehicles
        .filter(v::plate_no.eq(plate))
        .select(Vehicle::as_select())
        .first(conn)
        .optional()?)
}

/// Plate numbers of these vehicles, by id (an order's lines: at most a few hundred).
pub fn plates(
    conn: &mut DbConn,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows: Vec<(String, String)> = v::vehicles
            .filter(v::id.eq_any(chunk))
            .select((v::id, v::plate_no))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}
