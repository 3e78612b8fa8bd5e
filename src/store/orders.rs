//! Work orders: the order row, its vehicle lines, technicians, parts used, verbal
//! approvals, timeline, and the price list.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::order_events::dsl as oe;
use super::schema::parts::dsl as p;
use super::schema::verbal_approvals::dsl as va;
use super::schema::work_order_lines::dsl as l;
use super::schema::work_order_parts::dsl as wp;
use super::schema::work_order_technicians::dsl as wt;
use super::schema::work_orders::dsl as o;
use super::{DbConn, Page, PageReq, StoreResult, db::per_backend, new_id, now};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::work_orders)]
pub struct WorkOrder {
    pub id: String,
    /// AZ-ZZ-2026-000123 (install) / WX-ZZ-2026-000045 (repair)
    pub number: String,
    /// install | repair
    pub kind: String,
    pub center_id: String,
    pub customer_id: String,
    pub status: String,
    /// the state an on_hold order resumes to
    pub held_from: Option<String>,
    /// urgent | normal
    pub urgency: String,
    /// phone | letter | walk_in | online
    pub channel: String,
    pub site_address: String,
    pub site_lat: f64,
    pub site_lng: f64,
    pub contact_name: String,
    pub contact_phone: String,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_start: Option<NaiveDateTime>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_end: Option<NaiveDateTime>,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: NaiveDateTime,
    pub product_model: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    /// 故障现象
    pub fault_symptoms: Option<String>,
    pub terminal_id: Option<String>,
    /// repair: the warranty verdict
    pub warranty_in: Option<bool>,
    /// repair: the last day the warranty covers
    pub warranty_ends_on: Option<NaiveDate>,
    pub notes: Option<String>,
    pub created_by: String,
    pub approved_by: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<NaiveDateTime>,
    pub reject_reason: Option<String>,
    pub lead_technician_id: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_at: Option<NaiveDateTime>,
    /// 外协: why an external contractor, approved by `outsourcing_approved_by`
    pub outsourcing_reason: Option<String>,
    pub outsourcing_approved_by: Option<String>,
    /// JSON array of the ticked readiness items
    #[serde(skip)]
    pub readiness: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ready_at: Option<NaiveDateTime>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub departed_at: Option<NaiveDateTime>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub arrived_at: Option<NaiveDateTime>,
    pub arrived_lat: Option<f64>,
    pub arrived_lng: Option<f64>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<NaiveDateTime>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<NaiveDateTime>,
    pub cancel_reason: Option<String>,
    pub signoff_name: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub signoff_at: Option<NaiveDateTime>,
    #[serde(skip)]
    pub signoff_image: Option<String>,
    /// parts used, at their recorded prices
    pub parts_total_fen: Option<i64>,
    /// what the customer owes, set on completion (0 in warranty)
    pub fee_fen: Option<i64>,
    /// request → arrival
    pub wait_seconds: Option<i64>,
    /// arrival → completion
    pub repair_seconds: Option<i64>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// The changes an action makes to an order. `None` leaves a column alone; the inner
/// `None` of an `Option<Option<_>>` writes NULL.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::work_orders)]
pub struct OrderPatch {
    pub status: Option<String>,
    pub held_from: Option<Option<String>>,
    pub approved_by: Option<Option<String>>,
    pub approved_at: Option<Option<NaiveDateTime>>,
    pub reject_reason: Option<Option<String>>,
    pub lead_technician_id: Option<Option<String>>,
    pub scheduled_at: Option<Option<NaiveDateTime>>,
    pub outsourcing_reason: Option<Option<String>>,
    pub outsourcing_approved_by: Option<Option<String>>,
    pub readiness: Option<Option<String>>,
    pub ready_at: Option<Option<NaiveDateTime>>,
    pub departed_at: Option<Option<NaiveDateTime>>,
    pub arrived_at: Option<Option<NaiveDateTime>>,
    pub arrived_lat: Option<Option<f64>>,
    pub arrived_lng: Option<Option<f64>>,
    pub completed_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub cancel_reason: Option<Option<String>>,
    pub signoff_name: Option<Option<String>>,
    pub signoff_at: Option<Option<NaiveDateTime>>,
    pub signoff_image: Option<Option<String>>,
    pub parts_total_fen: Option<Option<i64>>,
    pub fee_fen: Option<Option<i64>>,
    pub wait_seconds: Option<Option<i64>>,
    pub repair_seconds: Option<Option<i64>>,
    pub site_address: Option<String>,
    pub site_lat: Option<f64>,
    pub site_lng: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub urgency: Option<String>,
    pub window_start: Option<Option<NaiveDateTime>>,
    pub window_end: Option<Option<NaiveDateTime>>,
    pub requested_at: Option<NaiveDateTime>,
}

#[derive(
    Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = super::schema::work_order_lines, treat_none_as_null = true)]
pub struct Line {
    pub id: String,
    #[serde(skip)]
    pub order_id: String,
    pub position: i32,
    pub vehicle_id: String,
    pub driver_id: Option<String>,
    /// pending | done | not_done
    pub status: String,
    /// JSON array of what was done: install, terminal_swap, sim_swap, repair, inspect
    #[serde(skip)]
    pub work: String,
    /// the fitted (install) or new (swap) terminal
    pub terminal_id: Option<String>,
    /// the fitted (install) or new (swap) SIM card
    pub sim_id: Option<String>,
    /// removed by a terminal swap
    pub old_terminal_id: Option<String>,
    /// removed by a SIM swap
    pub old_sim_id: Option<String>,
    /// 返修标签 on the removed terminal
    pub fault_tag: Option<String>,
    pub not_done_reason: Option<String>,
    pub notes: Option<String>,
    pub done_by: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<NaiveDateTime>,
}

impl Line {
    pub fn work_list(&self) -> Vec<String> {
        serde_json::from_str(&self.work).unwrap_or_default()
    }

    pub fn add_work(&mut self, work: &str) {
        let mut list = self.work_list();
        if !list.iter().any(|w| w == work) {
            list.push(work.to_string());
        }
        self.work = serde_json::to_string(&list).unwrap_or_else(|_| "[]".into());
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::work_order_technicians)]
pub struct Assignment {
    #[serde(skip)]
    pub order_id: String,
    pub technician_id: String,
    /// lead | helper
    pub role: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub assigned_at: NaiveDateTime,
}

/// `role` of the order's lead technician (the others are `helper`s).
const LEAD: &str = "lead";
const HELPER: &str = "helper";

impl Assignment {
    pub fn is_lead(&self) -> bool {
        self.role == LEAD
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::parts)]
pub struct Part {
    pub id: String,
    pub code: String,
    pub name: String,
    pub unit_price_fen: i64,
    pub active: bool,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::parts)]
pub struct PartPatch {
    pub name: Option<String>,
    pub unit_price_fen: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::work_order_parts)]
pub struct PartUseRow {
    pub id: String,
    pub order_id: String,
    pub line_id: Option<String>,
    pub part_id: String,
    pub quantity: i32,
    pub unit_price_fen: i64,
    pub verbal_approval_id: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// A part used, as the order shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartUsed {
    pub id: String,
    pub line_id: Option<String>,
    pub part_code: String,
    pub part_name: String,
    pub quantity: i32,
    pub unit_price_fen: i64,
    pub amount_fen: i64,
    pub verbal_approval_id: Option<String>,
    pub recorded_by: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::verbal_approvals)]
pub struct VerbalApproval {
    pub id: String,
    #[serde(skip)]
    pub order_id: String,
    /// the manager who said yes
    pub approver_id: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub approved_at: NaiveDateTime,
    /// what was approved
    pub content: String,
    pub recorded_by: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: NaiveDateTime,
    pub confirmed_by: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::order_events)]
pub struct OrderEvent {
    pub id: String,
    #[serde(skip)]
    pub order_id: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    pub actor_id: String,
    /// the action: create, submit, approve, …, install, terminal_swap, part_used, …
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub comment: Option<String>,
    /// when the server received it; `at` is when it was done, earlier for an action a
    /// phone sent late with its `at` (offline)
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<NaiveDateTime>,
}

// ---- orders ----

pub fn insert(conn: &mut DbConn, row: &WorkOrder) -> StoreResult<()> {
    diesel::insert_into(o::work_orders)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, id: &str) -> StoreResult<WorkOrder> {
    Ok(per_backend!(conn, |c| o::work_orders
        .find(id)
        .select(WorkOrder::as_select())
        .first(c))?)
}

/// Locks the order's row until the transaction ends (PostgreSQL); SQLite's writers are
/// serialized already. A missing order is not an error here.
pub fn lock(conn: &mut DbConn, id: &str) -> StoreResult<()> {
    if let DbConn::Pg(c) = conn {
        o::work_orders
            .find(id)
            .select(o::id)
            .for_update()
            .first::<String>(c)
            .optional()?;
    }
    Ok(())
}

/// Applies `patch` if the order still has `version`; bumps the version.
pub fn update(conn: &mut DbConn, id: &str, version: i32, patch: &OrderPatch) -> StoreResult<()> {
    versioned_update!(conn, work_orders, id, id, version, patch)
}

/// Bumps the version of an order whose lines, parts or approvals changed.
pub fn touch(conn: &mut DbConn, id: &str, version: i32) -> StoreResult<()> {
    versioned_update!(conn, work_orders, id, id, version, o::status.eq(o::status))
}

#[derive(Debug, Default)]
pub struct OrderFilter<'a> {
    pub center: Option<&'a str>,
    /// only orders this technician is on (lead or helper)
    pub technician: Option<&'a str>,
    pub kind: Option<String>,
    pub status: Option<Vec<String>>,
    pub customer_id: Option<String>,
    pub scheduled_from: Option<NaiveDateTime>,
    pub scheduled_to: Option<NaiveDateTime>,
}

pub fn list(conn: &mut DbConn, f: &OrderFilter, page: &PageReq) -> StoreResult<Page<WorkOrder>> {
    let mut q = o::work_orders.select(WorkOrder::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(o::center_id.eq(c.to_string()));
    }
    if let Some(tech) = f.technician {
        q = q.filter(
            o::id.eq_any(
                wt::work_order_technicians
                    .filter(wt::technician_id.eq(tech.to_string()))
                    .select(wt::order_id),
            ),
        );
    }
    if let Some(k) = &f.kind {
        q = q.filter(o::kind.eq(k.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(o::status.eq_any(s.clone()));
    }
    if let Some(c) = &f.customer_id {
        q = q.filter(o::customer_id.eq(c.clone()));
    }
    if let Some(t) = f.scheduled_from {
        q = q.filter(o::scheduled_at.ge(t));
    }
    if let Some(t) = f.scheduled_to {
        q = q.filter(o::scheduled_at.lt(t));
    }
    if let Some(after) = &page.after {
        q = q.filter(o::id.gt(after.clone()));
    }
    let rows = q.order(o::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &WorkOrder| &r.id))
}

/// Orders of a customer, newest first (its archive).
pub fn by_customer(
    conn: &mut DbConn,
    customer_id: &str,
    limit: i64,
) -> StoreResult<Vec<WorkOrder>> {
    Ok(o::work_orders
        .filter(o::customer_id.eq(customer_id))
        .order(o::id.desc())
        .limit(limit)
        .select(WorkOrder::as_select())
        .load(conn)?)
}

/// Open orders with a scheduled visit between `from` and `to`, for the technicians given:
/// (technician id, order id, scheduled at). Helpers count as booked too.
pub fn bookings(
    conn: &mut DbConn,
    center_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<(String, String, NaiveDateTime)>> {
    let rows: Vec<(String, String, Option<NaiveDateTime>)> = wt::work_order_technicians
        .inner_join(o::work_orders.on(o::id.eq(wt::order_id)))
        .filter(o::center_id.eq(center_id))
        .filter(o::scheduled_at.ge(from))
        .filter(o::scheduled_at.lt(to))
        .filter(o::status.ne_all(vec!["completed", "closed", "cancelled", "rejected"]))
        .select((wt::technician_id, o::id, o::scheduled_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, id, at)| at.map(|at| (t, id, at)))
        .collect())
}

// ---- technicians on an order ----

pub fn assignments(conn: &mut DbConn, order_id: &str) -> StoreResult<Vec<Assignment>> {
    Ok(wt::work_order_technicians
        .filter(wt::order_id.eq(order_id))
        .order((wt::role.desc(), wt::technician_id.asc()))
        .select(Assignment::as_select())
        .load(conn)?)
}

/// Whether `technician_id` is on the order (lead or helper).
pub fn is_on_order(conn: &mut DbConn, order_id: &str, technician_id: &str) -> StoreResult<bool> {
    let n: i64 = wt::work_order_technicians
        .filter(wt::order_id.eq(order_id))
        .filter(wt::technician_id.eq(technician_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Replaces the order's technicians.
pub fn set_assignments(
    conn: &mut DbConn,
    order_id: &str,
    lead: &str,
    helpers: &[String],
) -> StoreResult<()> {
    clear_assignments(conn, order_id)?;
    let at = now();
    let mut rows = vec![(lead.to_string(), LEAD)];
    rows.extend(helpers.iter().map(|h| (h.clone(), HELPER)));
    for (tech, role) in rows {
        diesel::insert_into(wt::work_order_technicians)
            .values(&Assignment {
                order_id: order_id.to_string(),
                technician_id: tech,
                role: role.to_string(),
                assigned_at: at,
            })
            .execute(conn)?;
    }
    Ok(())
}

pub fn clear_assignments(conn: &mut DbConn, order_id: &str) -> StoreResult<()> {
    // those taken off the order hear of it on the live stream too
    let taken_off = wt::work_order_technicians
        .filter(wt::order_id.eq(order_id))
        .select(wt::technician_id)
        .load::<String>(conn)?;
    super::live_events::also_tell(order_id, taken_off);
    diesel::delete(wt::work_order_technicians.filter(wt::order_id.eq(order_id))).execute(conn)?;
    Ok(())
}

// ---- lines ----

pub fn insert_line(conn: &mut DbConn, line: &Line) -> StoreResult<()> {
    diesel::insert_into(l::work_order_lines)
        .values(line)
        .execute(conn)?;
    Ok(())
}

/// Removes the order's lines (an editable order's lines, replaced; none has work on it).
pub fn delete_lines(conn: &mut DbConn, order_id: &str) -> StoreResult<()> {
    diesel::delete(l::work_order_lines.filter(l::order_id.eq(order_id))).execute(conn)?;
    Ok(())
}

pub fn lines(conn: &mut DbConn, order_id: &str) -> StoreResult<Vec<Line>> {
    Ok(l::work_order_lines
        .filter(l::order_id.eq(order_id))
        .order(l::position.asc())
        .select(Line::as_select())
        .load(conn)?)
}

/// The orders `ids` (those that exist), in no particular order.
pub fn many(conn: &mut DbConn, ids: &[&str]) -> StoreResult<Vec<WorkOrder>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::IN_CHUNK) {
        out.extend(
            o::work_orders
                .filter(o::id.eq_any(chunk))
                .select(WorkOrder::as_select())
                .load::<WorkOrder>(conn)?,
        );
    }
    Ok(out)
}

/// The plates of the vehicles on each order of `ids`, in line order, by order id.
pub fn plates_of_orders(
    conn: &mut DbConn,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, Vec<String>>> {
    use super::schema::vehicles::dsl as v;
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows: Vec<(String, String)> = l::work_order_lines
            .inner_join(v::vehicles.on(v::id.eq(l::vehicle_id)))
            .filter(l::order_id.eq_any(chunk))
            .order((l::order_id.asc(), l::position.asc()))
            .select((l::order_id, v::plate_no))
            .load(conn)?;
        for (order, plate) in rows {
            out.entry(order).or_default().push(plate);
        }
    }
    Ok(out)
}

/// The plate of each line of the order, by line id.
pub fn plates_of_lines(
    conn: &mut DbConn,
    order_id: &str,
) -> StoreResult<std::collections::HashMap<String, String>> {
    use super::schema::vehicles::dsl as v;
    let rows: Vec<(String, String)> = l::work_order_lines
        .inner_join(v::vehicles.on(v::id.eq(l::vehicle_id)))
        .filter(l::order_id.eq(order_id))
        .select((l::id, v::plate_no))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

pub fn line(conn: &mut DbConn, order_id: &str, line_id: &str) -> StoreResult<Line> {
    Ok(l::work_order_lines
        .filter(l::order_id.eq(order_id))
        .filter(l::id.eq(line_id))
        .select(Line::as_select())
        .first(conn)?)
}

/// Saves a line (every column). The order's version guards concurrent changes.
pub fn save_line(conn: &mut DbConn, line: &Line) -> StoreResult<()> {
    diesel::update(l::work_order_lines.find(&line.id))
        .set(line)
        .execute(conn)?;
    Ok(())
}

// ---- parts ----

pub fn insert_part(conn: &mut DbConn, part: &Part) -> StoreResult<()> {
    diesel::insert_into(p::parts).values(part).execute(conn)?;
    Ok(())
}

pub fn part(conn: &mut DbConn, id: &str) -> StoreResult<Part> {
    Ok(p::parts.find(id).select(Part::as_select()).first(conn)?)
}

pub fn part_by_code(conn: &mut DbConn, code: &str) -> StoreResult<Option<Part>> {
    Ok(p::parts
        .filter(p::code.eq(code))
        .select(Part::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_parts(
    conn: &mut DbConn,
    active: Option<bool>,
    page: &PageReq,
) -> StoreResult<Page<Part>> {
    let mut q = p::parts.select(Part::as_select()).into_boxed();
    if let Some(a) = active {
        q = q.filter(p::active.eq(a));
    }
    if let Some(after) = &page.after {
        q = q.filter(p::id.gt(after.clone()));
    }
    let rows = q.order(p::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &Part| &r.id))
}

pub fn update_part(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    patch: &PartPatch,
) -> StoreResult<()> {
    versioned_update!(conn, parts, id, id, version, patch)
}

pub fn insert_part_use(conn: &mut DbConn, row: &PartUseRow) -> StoreResult<()> {
    diesel::insert_into(wp::work_order_parts)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A part recorded on this order (404 if not on it).
pub fn part_use(conn: &mut DbConn, order_id: &str, id: &str) -> StoreResult<PartUseRow> {
    Ok(wp::work_order_parts
        .filter(wp::order_id.eq(order_id))
        .filter(wp::id.eq(id))
        .select(PartUseRow::as_select())
        .first(conn)?)
}

/// Corrects the quantity of a recorded part (before completion; the caller checks).
pub fn set_part_use_quantity(conn: &mut DbConn, id: &str, quantity: i32) -> StoreResult<()> {
    diesel::update(wp::work_order_parts.filter(wp::id.eq(id)))
        .set(wp::quantity.eq(quantity))
        .execute(conn)?;
    Ok(())
}

/// Removes a part recorded by mistake (before completion; the caller checks). The
/// timeline keeps what it was.
pub fn delete_part_use(conn: &mut DbConn, id: &str) -> StoreResult<()> {
    diesel::delete(wp::work_order_parts.filter(wp::id.eq(id))).execute(conn)?;
    Ok(())
}

pub fn parts_used(conn: &mut DbConn, order_id: &str) -> StoreResult<Vec<PartUsed>> {
    let rows: Vec<(PartUseRow, (String, String))> = wp::work_order_parts
        .inner_join(p::parts)
        .filter(wp::order_id.eq(order_id))
        .order(wp::id.asc())
        .select((PartUseRow::as_select(), (p::code, p::name)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, (code, name))| PartUsed {
            amount_fen: r.unit_price_fen.saturating_mul(i64::from(r.quantity)),
            id: r.id,
            line_id: r.line_id,
            part_code: code,
            part_name: name,
            quantity: r.quantity,
            unit_price_fen: r.unit_price_fen,
            verbal_approval_id: r.verbal_approval_id,
            recorded_by: r.recorded_by,
            recorded_at: r.recorded_at,
        })
        .collect())
}

// ---- verbal approvals ----

pub fn insert_verbal_approval(conn: &mut DbConn, row: &VerbalApproval) -> StoreResult<()> {
    diesel::insert_into(va::verbal_approvals)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn verbal_approvals(conn: &mut DbConn, order_id: &str) -> StoreResult<Vec<VerbalApproval>> {
    Ok(va::verbal_approvals
        .filter(va::order_id.eq(order_id))
        .order(va::id.asc())
        .select(VerbalApproval::as_select())
        .load(conn)?)
}

/// Confirms a verbal approval once; `false` if it was already confirmed or is not there.
pub fn confirm_verbal_approval(
    conn: &mut DbConn,
    order_id: &str,
    id: &str,
    by: &str,
) -> StoreResult<bool> {
    let n = diesel::update(
        va::verbal_approvals
            .filter(va::id.eq(id))
            .filter(va::order_id.eq(order_id))
            .filter(va::confirmed_at.is_null()),
    )
    .set((
        va::confirmed_by.eq(Some(by)),
        va::confirmed_at.eq(Some(now())),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

// ---- timeline ----

pub fn add_event(
    conn: &mut DbConn,
    order_id: &str,
    actor_id: &str,
    action: &str,
    from_to: Option<(&str, &str)>,
    comment: Option<&str>,
) -> StoreResult<()> {
    add_event_at(conn, order_id, actor_id, action, from_to, comment, now())
}

/// Records an event done at `at` (received now).
pub fn add_event_at(
    conn: &mut DbConn,
    order_id: &str,
    actor_id: &str,
    action: &str,
    from_to: Option<(&str, &str)>,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> StoreResult<()> {
    let ev = OrderEvent {
        id: new_id(),
        order_id: order_id.to_string(),
        received_at: Some(now()),
        at,
        actor_id: actor_id.to_string(),
        action: action.to_string(),
        from_status: from_to.map(|(f, _)| f.to_string()),
        to_status: from_to.map(|(_, t)| t.to_string()),
        comment: comment.map(str::to_string),
    };
    diesel::insert_into(oe::order_events)
        .values(&ev)
        .execute(conn)?;
    super::live_events::changed(super::live_events::Kind::Order, order_id, action);
    Ok(())
}

pub fn events(conn: &mut DbConn, order_id: &str) -> StoreResult<Vec<OrderEvent>> {
    Ok(oe::order_events
        .filter(oe::order_id.eq(order_id))
        .order(oe::id.asc())
        .select(OrderEvent::as_select())
        .load(conn)?)
}
