use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::technician_profiles::dsl as t;
use super::schema::users::dsl as u;
use super::{DbConn, Page, PageReq, StoreResult, contains_pattern};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::technician_profiles)]
pub struct TechnicianRow {
    pub user_id: String,
    pub center_id: String,
    pub can_install: bool,
    pub can_repair: bool,
    /// JSON array of model codes
    pub models: String,
    pub home_lat: f64,
    pub home_lng: f64,
    pub last_lat: Option<f64>,
    pub last_lng: Option<f64>,
    pub last_seen_at: Option<NaiveDateTime>,
    pub active: bool,
    pub external: bool,
    pub contractor_company: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A technician as the API shows it: the profile with the user's name and phone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Technician {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub center_id: String,
    pub can_install: bool,
    pub can_repair: bool,
    /// terminal model codes they know
    pub models: Vec<String>,
    pub home_lat: f64,
    pub home_lng: f64,
    pub last_lat: Option<f64>,
    pub last_lng: Option<f64>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen_at: Option<NaiveDateTime>,
    pub active: bool,
    /// 外协: an external contractor
    pub external: bool,
    pub contractor_company: Option<String>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

type Joined = (TechnicianRow, (String, String, Option<String>));

fn view((p, (username, display_name, phone)): Joined) -> Technician {
    Technician {
        models: serde_json::from_str(&p.models).unwrap_or_default(),
        user_id: p.user_id,
        username,
        display_name,
        phone,
        center_id: p.center_id,
        can_install: p.can_install,
        can_repair: p.can_repair,
        home_lat: p.home_lat,
        home_lng: p.home_lng,
        last_lat: p.last_lat,
        last_lng: p.last_lng,
        last_seen_at: p.last_seen_at,
        active: p.active,
        external: p.external,
        contractor_company: p.contractor_company,
        version: p.version,
        updated_at: p.updated_at,
    }
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::technician_profiles)]
pub struct TechnicianPatch {
    pub can_install: Option<bool>,
    pub can_repair: Option<bool>,
    pub models: Option<String>,
    pub home_lat: Option<f64>,
    pub home_lng: Option<f64>,
    pub active: Option<bool>,
    pub external: Option<bool>,
    pub contractor_company: Option<Option<String>>,
}

#[derive(Debug, Default)]
pub struct TechnicianFilter<'a> {
    pub center: Option<&'a str>,
    pub only_user: Option<&'a str>,
    pub active: Option<bool>,
    pub external: Option<bool>,
    pub can_install: Option<bool>,
    pub can_repair: Option<bool>,
    pub model: Option<String>,
    pub q: Option<String>,
}

pub fn models_json(models: &[String]) -> String {
    serde_json::to_string(models).unwrap_or_else(|_| "[]".into())
}

pub fn insert(conn: &mut DbConn, row: &TechnicianRow) -> StoreResult<()> {
    diesel::insert_into(t::technician_profiles)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, user_id: &str) -> StoreResult<Technician> {
    let row: Joined = t::technician_profiles
        .inner_join(u::users)
        .filter(t::user_id.eq(user_id))
        .select((
            TechnicianRow::as_select(),
            (u::username, u::display_name, u::phone),
        ))
        .first(conn)?;
    Ok(view(row))
}

pub fn list(
    conn: &mut DbConn,
    f: &TechnicianFilter,
    page: &PageReq,
) -> StoreResult<Page<Technician>> {
    let mut q = t::technician_profiles
        .inner_join(u::users)
        .select((
            TechnicianRow::as_select(),
            (u::username, u::display_name, u::phone),
        ))
        .into_boxed();
    if let Some(c) = f.center {
        q = q.filter(t::center_id.eq(c.to_string()));
    }
    if let Some(only) = f.only_user {
        q = q.filter(t::user_id.eq(only.to_string()));
    }
    if let Some(v) = f.active {
        q = q.filter(t::active.eq(v));
    }
    if let Some(v) = f.external {
        q = q.filter(t::external.eq(v));
    }
    if let Some(v) = f.can_install {
        q = q.filter(t::can_install.eq(v));
    }
    if let Some(v) = f.can_repair {
        q = q.filter(t::can_repair.eq(v));
    }
    if let Some(m) = &f.model {
        // models is a JSON array of codes: match the quoted code
        q = q.filter(
            t::models
                .like(contains_pattern(&format!("\"{m}\"")))
                .escape('\\'),
        );
    }
    if let Some(text) = &f.q {
        q = q.filter(
            super::lower(u::display_name)
                .like(super::lower_pattern(text))
                .escape('\\'),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(t::user_id.gt(after.clone()));
    }
    let rows: Vec<Joined> = q.order(t::user_id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.0.user_id).map(view))
}

pub fn update(
    conn: &mut DbConn,
    user_id: &str,
    version: i32,
    patch: &TechnicianPatch,
) -> StoreResult<()> {
    versioned_update!(conn, technician_profiles, user_id, user_id, version, patch)
}

/// The phone's last reported position (no version bump: it is telemetry, not an edit).
pub fn report_position(conn: &mut DbConn, user_id: &str, lat: f64, lng: f64) -> StoreResult<()> {
    let n = diesel::update(t::technician_profiles.find(user_id))
        .set((
            t::last_lat.eq(Some(lat)),
            t::last_lng.eq(Some(lng)),
            t::last_seen_at.eq(Some(super::now())),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(super::StoreError::NotFound);
    }
    Ok(())
}

/// Follows the user to another service center.
pub fn move_center(conn: &mut DbConn, user_id: &str, center_id: &str) -> StoreResult<()> {
    diesel::update(t::technician_profiles.find(user_id))
        .set((t::center_id.eq(center_id), t::updated_at.eq(super::now())))
        .execute(conn)?;
    Ok(())
}

/// Takes a technician off (or back on) duty in the ranking, without a version check: it
/// follows a change of the user.
pub fn set_active(conn: &mut DbConn, user_id: &str, active: bool) -> StoreResult<()> {
    diesel::update(t::technician_profiles.find(user_id))
        .set((t::active.eq(active), t::updated_at.eq(super::now())))
        .execute(conn)?;
    Ok(())
}

/// Locks a technician's profile row until the transaction ends (PostgreSQL), so two
/// assignments of the same technician see each other's bookings.
pub fn lock_technician(conn: &mut DbConn, user_id: &str) -> StoreResult<()> {
    use super::schema::technician_profiles::dsl as tp;
    if let DbConn::Pg(c) = conn {
        tp::technician_profiles
            .find(user_id)
            .select(tp::user_id)
            .for_update()
            .first::<String>(c)
            .optional()?;
    }
    Ok(())
}
