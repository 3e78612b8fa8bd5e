//! Photos from the site (insert-only rows; the bytes live in the object store), the
//! centers' proof rules, and the managers' waivers of missing photos.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::order_photos::dsl as ph;
use super::schema::photo_waivers::dsl as pw;
use super::schema::proof_rules::dsl as pr;
use super::{DbConn, StoreResult, db::per_backend, now};

/// A photo as stored. The object keys stay on the server.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::order_photos)]
pub struct Photo {
    pub id: String,
    pub order_id: String,
    /// the vehicle line it belongs to; null for a photo of the order (site, paperwork)
    pub line_id: Option<String>,
    /// before, unit, wiring, sim_label, plate, site, paperwork
    pub kind: String,
    pub content_type: String,
    #[serde(skip)]
    pub object_key: String,
    #[serde(skip)]
    pub thumb_key: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub sha256: String,
    /// when it was taken (UTC): the file's own record, else the phone's
    pub taken_at: Option<NaiveDateTime>,
    /// where it was taken (WGS-84)
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub uploaded_by: String,
    pub uploaded_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, photo: &Photo) -> StoreResult<()> {
    per_backend!(conn, |c| diesel::insert_into(ph::order_photos)
        .values(photo)
        .execute(c))?;
    Ok(())
}

/// The order's photos, oldest first.
pub fn of_order(conn: &mut DbConn, order_id: &str) -> StoreResult<Vec<Photo>> {
    Ok(ph::order_photos
        .filter(ph::order_id.eq(order_id))
        .order(ph::id.asc())
        .select(Photo::as_select())
        .load(conn)?)
}

/// The photos of one vehicle line of the order, oldest first.
pub fn of_line(conn: &mut DbConn, order_id: &str, line_id: &str) -> StoreResult<Vec<Photo>> {
    Ok(ph::order_photos
        .filter(ph::order_id.eq(order_id))
        .filter(ph::line_id.eq(line_id))
        .order(ph::id.asc())
        .select(Photo::as_select())
        .load(conn)?)
}

/// One photo; `NotFound` when there is none.
pub fn get(conn: &mut DbConn, id: &str) -> StoreResult<Photo> {
    Ok(ph::order_photos
        .find(id)
        .select(Photo::as_select())
        .first(conn)?)
}

/// A center's proof rules: the photo kinds of installs and of repairs, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = super::schema::proof_rules)]
pub struct ProofRules {
    pub install_photos: String,
    pub repair_photos: String,
    /// complete requires every fitted terminal's first report (上线检测 passed)
    pub report_required: bool,
    /// the first report needs ACC seen on and off
    pub report_acc: bool,
    /// the first report needs the line's SIM card's ICCID reported
    pub report_iccid: bool,
}

/// No rules stored: no photos, no first report required (but when a check runs, it
/// compares the ICCID).
impl Default for ProofRules {
    fn default() -> Self {
        ProofRules {
            install_photos: String::new(),
            repair_photos: String::new(),
            report_required: false,
            report_acc: false,
            report_iccid: true,
        }
    }
}

/// The center's rules (none stored: nothing required).
pub fn rules(conn: &mut DbConn, center_id: &str) -> StoreResult<ProofRules> {
    Ok(pr::proof_rules
        .find(center_id)
        .select(ProofRules::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

pub fn set_rules(conn: &mut DbConn, center_id: &str, rules: &ProofRules) -> StoreResult<()> {
    let at = now();
    per_backend!(conn, |c| diesel::insert_into(pr::proof_rules)
        .values((
            pr::center_id.eq(center_id),
            pr::install_photos.eq(&rules.install_photos),
            pr::repair_photos.eq(&rules.repair_photos),
            pr::report_required.eq(rules.report_required),
            pr::report_acc.eq(rules.report_acc),
            pr::report_iccid.eq(rules.report_iccid),
            pr::updated_at.eq(at),
        ))
        .on_conflict(pr::center_id)
        .do_update()
        .set((
            pr::install_photos.eq(&rules.install_photos),
            pr::repair_photos.eq(&rules.repair_photos),
            pr::report_required.eq(rules.report_required),
            pr::report_acc.eq(rules.report_acc),
            pr::report_iccid.eq(rules.report_iccid),
            pr::version.eq(pr::version + 1),
            pr::updated_at.eq(at),
        ))
        .execute(c))?;
    Ok(())
}

/// A manager's waiver of the photos an order lacks.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::photo_waivers)]
pub struct Waiver {
    pub order_id: String,
    pub reason: String,
    pub waived_by: String,
    pub waived_at: NaiveDateTime,
}

pub fn waiver(conn: &mut DbConn, order_id: &str) -> StoreResult<Option<Waiver>> {
    Ok(pw::photo_waivers
        .find(order_id)
        .select(Waiver::as_select())
        .first(conn)
        .optional()?)
}

/// Records the waiver (a second one for the same order is a `Duplicate`).
pub fn insert_waiver(conn: &mut DbConn, w: &Waiver) -> StoreResult<()> {
    per_backend!(conn, |c| diesel::insert_into(pw::photo_waivers)
        .values(w)
        .execute(c))?;
    Ok(())
}
