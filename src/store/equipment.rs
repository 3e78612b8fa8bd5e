//! Terminals, SIM cards, their models, and the binding between terminal ↔ vehicle and
//! SIM ↔ terminal with its append-only history.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::binding_events::dsl as be;
use super::schema::sim_cards::dsl as s;
use super::schema::terminal_models::dsl as tm;
use super::schema::terminals::dsl as t;
use super::{DbConn, Page, PageReq, StoreError, StoreResult, new_id, now};
use crate::domain::registry::TerminalStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::terminal_models)]
pub struct TerminalModel {
    pub code: String,
    pub name: String,
    pub warranty_months: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::terminals)]
pub struct Terminal {
    pub id: String,
    pub center_id: String,
    pub imei: String,
    pub model_code: String,
    pub purchase_date: NaiveDate,
    pub warranty_months: i32,
    /// in_stock, installed, in_repair, returned, scrapped
    pub status: String,
    /// warehouse, technician (in their van) or vehicle
    pub location: String,
    pub technician_id: Option<String>,
    pub vehicle_id: Option<String>,
    pub notes: Option<String>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// While in repair after a repair order took it out of a vehicle: that order's fault
    /// tag (故障标签: plate + fault), e.g. "豫A12345 / 不定位"
    pub fault_tag: Option<String>,
    /// the repair order that took it out, with `fault_tag`
    pub fault_order_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::sim_cards)]
pub struct SimCard {
    pub id: String,
    pub center_id: String,
    pub iccid: String,
    pub msisdn: String,
    pub carrier: String,
    /// in_stock, active, suspended, cancelled
    pub status: String,
    pub terminal_id: Option<String>,
    pub notes: Option<String>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::binding_events)]
pub struct BindingEvent {
    pub id: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    #[serde(skip)]
    pub center_id: String,
    /// terminal_vehicle or sim_terminal
    pub kind: String,
    /// bind or unbind
    pub action: String,
    pub terminal_id: String,
    pub vehicle_id: Option<String>,
    pub sim_id: Option<String>,
    pub order_id: Option<String>,
    pub actor_id: String,
    pub reason: String,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::terminals)]
pub struct TerminalPatch {
    pub model_code: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub warranty_months: Option<i32>,
    pub status: Option<String>,
    pub location: Option<String>,
    pub technician_id: Option<Option<String>>,
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::sim_cards)]
pub struct SimPatch {
    pub msisdn: Option<String>,
    pub carrier: Option<String>,
    pub status: Option<String>,
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Default)]
pub struct TerminalFilter<'a> {
    pub center: Option<&'a str>,
    pub status: Option<String>,
    pub model_code: Option<String>,
    pub location: Option<String>,
    pub vehicle_id: Option<String>,
    pub technician_id: Option<String>,
    pub imei_prefix: Option<String>,
    /// only terminals with (true) or without (false) a repair's fault tag
    pub fault_tagged: Option<bool>,
}

#[derive(Debug, Default)]
pub struct SimFilter<'a> {
    pub center: Option<&'a str>,
    pub status: Option<String>,
    pub carrier: Option<String>,
    pub terminal_id: Option<String>,
    pub bound: Option<bool>,
    pub iccid_prefix: Option<String>,
    pub msisdn_prefix: Option<String>,
}

fn prefix_pattern(p: &str) -> String {
    // identifiers are digits only (validated at the edge), nothing to escape
    format!("{p}%")
}

// ---- terminal models ----

pub fn insert_model(conn: &mut DbConn, m: &TerminalModel) -> StoreResult<()> {
    diesel::insert_into(tm::terminal_models)
        .values(m)
        .execute(conn)?;
    Ok(())
}

pub fn models(conn: &mut DbConn) -> StoreResult<Vec<TerminalModel>> {
    Ok(tm::terminal_models
        .order(tm::code.asc())
        .select(TerminalModel::as_select())
        .load(conn)?)
}

pub fn model(conn: &mut DbConn, code: &str) -> StoreResult<Option<TerminalModel>> {
    Ok(tm::terminal_models
        .find(code)
        .select(TerminalModel::as_select())
        .first(conn)
        .optional()?)
}

// ---- terminals ----

pub fn insert_terminal(conn: &mut DbConn, row: &Terminal) -> StoreResult<()> {
    diesel::insert_into(t::terminals)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn terminal(conn: &mut DbConn, id: &str) -> StoreResult<Terminal> {
    Ok(t::terminals
        .find(id)
        .select(Terminal::as_select())
        .first(conn)?)
}

pub fn terminals_in_vehicles(
    conn: &mut DbConn,
    vehicle_ids: &[&str],
) -> StoreResult<Vec<Terminal>> {
    // chunked: a big fleet must not exceed the bound-parameter limit
    let mut out = Vec::with_capacity(vehicle_ids.len());
    for chunk in vehicle_ids.chunks(super::IN_CHUNK) {
        out.extend(
            t::terminals
                .filter(t::vehicle_id.eq_any(chunk))
                .select(Terminal::as_select())
                .load::<Terminal>(conn)?,
        );
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

pub fn list_terminals(
    conn: &mut DbConn,
    f: &TerminalFilter,
    page: &PageReq,
) -> StoreResult<Page<Terminal>> {
    let mut q = t::terminals.select(Terminal::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(t::center_id.eq(c.to_string()));
    }
    if let Some(v) = &f.status {
        q = q.filter(t::status.eq(v.clone()));
    }
    if let Some(v) = &f.model_code {
        q = q.filter(t::model_code.eq(v.clone()));
    }
    if let Some(v) = &f.location {
        q = q.filter(t::location.eq(v.clone()));
    }
    if let Some(v) = &f.vehicle_id {
        q = q.filter(t::vehicle_id.eq(v.clone()));
    }
    if let Some(v) = &f.technician_id {
        q = q.filter(t::technician_id.eq(v.clone()));
    }
    if let Some(p) = &f.imei_prefix {
        q = q.filter(t::imei.like(prefix_pattern(p)));
    }
    match f.fault_tagged {
        Some(true) => q = q.filter(t::fault_tag.is_not_null()),
        Some(false) => q = q.filter(t::fault_tag.is_null()),
        None => {}
    }
    if let Some(after) = &page.after {
        q = q.filter(t::id.gt(after.clone()));
    }
    let rows = q.order(t::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id))
}

pub fn update_terminal(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    patch: &TerminalPatch,
) -> StoreResult<()> {
    versioned_update!(conn, terminals, id, id, version, patch)?;
    clear_fault_tag_out_of_repair(conn, id)
}

/// Tags a terminal a repair took out of a vehicle (in the same transaction as the
/// unbinding): the tag and the order show on the unit until it leaves repair.
pub fn tag_fault(
    conn: &mut DbConn,
    terminal_id: &str,
    fault_tag: &str,
    order_id: &str,
) -> StoreResult<()> {
    diesel::update(t::terminals.filter(t::id.eq(terminal_id)))
        .set((
            t::fault_tag.eq(Some(fault_tag)),
            t::fault_order_id.eq(Some(order_id)),
            t::version.eq(t::version + 1),
            t::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A terminal no longer in repair (back in stock, returned, scrapped, installed again)
/// carries no fault tag.
fn clear_fault_tag_out_of_repair(conn: &mut DbConn, terminal_id: &str) -> StoreResult<()> {
    diesel::update(
        t::terminals
            .filter(t::id.eq(terminal_id))
            .filter(t::status.ne("in_repair"))
            .filter(t::fault_tag.is_not_null()),
    )
    .set((
        t::fault_tag.eq(None::<String>),
        t::fault_order_id.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(())
}

/// How many terminals are in this technician's van.
pub fn held_by(conn: &mut DbConn, technician_id: &str) -> StoreResult<i64> {
    Ok(t::terminals
        .filter(t::technician_id.eq(technician_id))
        .count()
        .get_result(conn)?)
}

/// Which of these IMEIs are already registered.
pub fn existing_imeis(conn: &mut DbConn, imeis: &[String]) -> StoreResult<Vec<String>> {
    let mut found = Vec::new();
    for chunk in imeis.chunks(500) {
        found.extend(
            t::terminals
                .filter(t::imei.eq_any(chunk))
                .select(t::imei)
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

// ---- SIM cards ----

pub fn insert_sim(conn: &mut DbConn, row: &SimCard) -> StoreResult<()> {
    diesel::insert_into(s::sim_cards)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn sim(conn: &mut DbConn, id: &str) -> StoreResult<SimCard> {
    Ok(s::sim_cards
        .find(id)
        .select(SimCard::as_select())
        .first(conn)?)
}

pub fn sim_in_terminal(conn: &mut DbConn, terminal_id: &str) -> StoreResult<Option<SimCard>> {
    Ok(s::sim_cards
        .filter(s::terminal_id.eq(terminal_id))
        .select(SimCard::as_select())
        .first(conn)
        .optional()?)
}

pub fn sims_in_terminals(conn: &mut DbConn, terminal_ids: &[&str]) -> StoreResult<Vec<SimCard>> {
    // chunked: a big fleet must not exceed the bound-parameter limit
    let mut out = Vec::with_capacity(terminal_ids.len());
    for chunk in terminal_ids.chunks(super::IN_CHUNK) {
        out.extend(
            s::sim_cards
                .filter(s::terminal_id.eq_any(chunk))
                .select(SimCard::as_select())
                .load::<SimCard>(conn)?,
        );
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

pub fn list_sims(conn: &mut DbConn, f: &SimFilter, page: &PageReq) -> StoreResult<Page<SimCard>> {
    let mut q = s::sim_cards.select(SimCard::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(s::center_id.eq(c.to_string()));
    }
    if let Some(v) = &f.status {
        q = q.filter(s::status.eq(v.clone()));
    }
    if let Some(v) = &f.carrier {
        q = q.filter(s::carrier.eq(v.clone()));
    }
    if let Some(v) = &f.terminal_id {
        q = q.filter(s::terminal_id.eq(v.clone()));
    }
    match f.bound {
        Some(true) => q = q.filter(s::terminal_id.is_not_null()),
        Some(false) => q = q.filter(s::terminal_id.is_null()),
        None => {}
    }
    if let Some(p) = &f.iccid_prefix {
        q = q.filter(s::iccid.like(prefix_pattern(p)));
    }
    if let Some(p) = &f.msisdn_prefix {
        q = q.filter(s::msisdn.like(prefix_pattern(p)));
    }
    if let Some(after) = &page.after {
        q = q.filter(s::id.gt(after.clone()));
    }
    let rows = q.order(s::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id))
}

pub fn update_sim(conn: &mut DbConn, id: &str, version: i32, patch: &SimPatch) -> StoreResult<()> {
    versioned_update!(conn, sim_cards, id, id, version, patch)
}

/// Which of these ICCIDs / MSISDNs are already registered.
pub fn existing_sim_numbers(
    conn: &mut DbConn,
    iccids: &[String],
    msisdns: &[String],
) -> StoreResult<(Vec<String>, Vec<String>)> {
    let mut found_iccid = Vec::new();
    let mut found_msisdn = Vec::new();
    for chunk in iccids.chunks(500) {
        found_iccid.extend(
            s::sim_cards
                .filter(s::iccid.eq_any(chunk))
                .select(s::iccid)
                .load::<String>(conn)?,
        );
    }
    for chunk in msisdns.chunks(500) {
        found_msisdn.extend(
            s::sim_cards
                .filter(s::msisdn.eq_any(chunk))
                .select(s::msisdn)
                .load::<String>(conn)?,
        );
    }
    Ok((found_iccid, found_msisdn))
}

// ---- binding ----

/// Who binds, why, and on which order (the work-order workflow fills `order_id`).
#[derive(Debug, Clone)]
pub struct BindContext<'a> {
    pub actor_id: &'a str,
    pub reason: &'a str,
    pub order_id: Option<&'a str>,
}

/// The other end of a binding: the vehicle a terminal is in, or the SIM a terminal holds.
enum Other<'a> {
    Vehicle(&'a str),
    Sim(&'a str),
}

fn record(
    conn: &mut DbConn,
    ctx: &BindContext,
    center_id: &str,
    action: &str,
    terminal_id: &str,
    other: Other,
) -> StoreResult<()> {
    let (kind, vehicle_id, sim_id) = match other {
        Other::Vehicle(v) => ("terminal_vehicle", Some(v.to_string()), None),
        Other::Sim(s) => ("sim_terminal", None, Some(s.to_string())),
    };
    let ev = BindingEvent {
        id: new_id(),
        at: now(),
        center_id: center_id.to_string(),
        kind: kind.to_string(),
        action: action.to_string(),
        terminal_id: terminal_id.to_string(),
        vehicle_id,
        sim_id,
        order_id: ctx.order_id.map(str::to_string),
        actor_id: ctx.actor_id.to_string(),
        reason: ctx.reason.to_string(),
    };
    diesel::insert_into(be::binding_events)
        .values(&ev)
        .execute(conn)?;
    Ok(())
}

fn bound_race() -> StoreError {
    StoreError::Conflict {
        code: "terminal_already_bound",
        detail: "the terminal changed meanwhile".into(),
    }
}

/// Installs a terminal in a vehicle. The caller checked the domain rules on a fresh read
/// inside the same transaction; the conditional UPDATE makes a concurrent bind lose.
pub fn bind_terminal(
    conn: &mut DbConn,
    terminal: &Terminal,
    vehicle_id: &str,
    ctx: &BindContext,
) -> StoreResult<()> {
    let n = diesel::update(
        t::terminals
            .filter(t::id.eq(&terminal.id))
            .filter(t::vehicle_id.is_null())
            .filter(t::version.eq(terminal.version)),
    )
    .set((
        t::vehicle_id.eq(Some(vehicle_id)),
        t::location.eq("vehicle"),
        t::technician_id.eq(None::<String>),
        t::status.eq("installed"),
        t::fault_tag.eq(None::<String>),
        t::fault_order_id.eq(None::<String>),
        t::version.eq(t::version + 1),
        t::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(bound_race());
    }
    record(
        conn,
        ctx,
        &terminal.center_id,
        "bind",
        &terminal.id,
        Other::Vehicle(vehicle_id),
    )
}

/// Takes a terminal out of its vehicle, back to the warehouse with `status`.
pub fn unbind_terminal(
    conn: &mut DbConn,
    terminal: &Terminal,
    vehicle_id: &str,
    status: &str,
    ctx: &BindContext,
) -> StoreResult<()> {
    let n = diesel::update(
        t::terminals
            .filter(t::id.eq(&terminal.id))
            .filter(t::vehicle_id.eq(vehicle_id))
            .filter(t::version.eq(terminal.version)),
    )
    .set((
        t::vehicle_id.eq(None::<String>),
        t::location.eq("warehouse"),
        t::status.eq(status),
        t::version.eq(t::version + 1),
        t::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(bound_race());
    }
    record(
        conn,
        ctx,
        &terminal.center_id,
        "unbind",
        &terminal.id,
        Other::Vehicle(vehicle_id),
    )
}

/// Puts a SIM into a terminal. UNIQUE(terminal_id) refuses a second SIM in the same
/// terminal even under a race.
pub fn bind_sim(
    conn: &mut DbConn,
    sim: &SimCard,
    terminal_id: &str,
    ctx: &BindContext,
) -> StoreResult<()> {
    let n = diesel::update(
        s::sim_cards
            .filter(s::id.eq(&sim.id))
            .filter(s::terminal_id.is_null())
            .filter(s::version.eq(sim.version)),
    )
    .set((
        s::terminal_id.eq(Some(terminal_id)),
        s::status.eq("active"),
        s::version.eq(s::version + 1),
        s::updated_at.eq(now()),
    ))
    .execute(conn)
    .map_err(|e| match StoreError::from(e) {
        StoreError::Duplicate { .. } => StoreError::Conflict {
            code: "terminal_has_sim",
            detail: "terminal already holds a SIM card".into(),
        },
        other => other,
    })?;
    if n != 1 {
        return Err(StoreError::Conflict {
            code: "sim_already_bound",
            detail: "the SIM card changed meanwhile".into(),
        });
    }
    // the terminal's status was checked on a read; re-check it in the write, which also
    // bumps its version: a concurrent change of the terminal (say, to scrapped) either
    // happened first and fails this bind, or comes second and fails its version check
    let n = diesel::update(
        t::terminals
            .filter(t::id.eq(terminal_id))
            .filter(t::status.ne_all(["scrapped", "returned"])),
    )
    .set((t::version.eq(t::version + 1), t::updated_at.eq(now())))
    .execute(conn)?;
    if n != 1 {
        return Err(StoreError::Conflict {
            code: "terminal_takes_no_sim",
            detail: "the terminal was scrapped or returned meanwhile".into(),
        });
    }
    record(
        conn,
        ctx,
        &sim.center_id,
        "bind",
        terminal_id,
        Other::Sim(&sim.id),
    )
}

#[derive(Debug, Default)]
pub struct HistoryFilter<'a> {
    pub center: Option<&'a str>,
    pub terminal_id: Option<String>,
    pub vehicle_id: Option<String>,
    pub sim_id: Option<String>,
}

pub fn history(
    conn: &mut DbConn,
    f: &HistoryFilter,
    page: &PageReq,
) -> StoreResult<Page<BindingEvent>> {
    let mut q = be::binding_events
        .select(BindingEvent::as_select())
        .into_boxed();
    if let Some(c) = f.center {
        q = q.filter(be::center_id.eq(c.to_string()));
    }
    if let Some(v) = &f.terminal_id {
        q = q.filter(be::terminal_id.eq(v.clone()));
    }
    if let Some(v) = &f.vehicle_id {
        q = q.filter(be::vehicle_id.eq(v.clone()));
    }
    if let Some(v) = &f.sim_id {
        q = q.filter(be::sim_id.eq(v.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(be::id.gt(after.clone()));
    }
    let rows = q.order(be::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id))
}

pub fn terminal_by_imei(conn: &mut DbConn, imei: &str) -> StoreResult<Option<Terminal>> {
    Ok(t::terminals
        .filter(t::imei.eq(imei))
        .select(Terminal::as_select())
        .first(conn)
        .optional()?)
}

pub fn sim_by_iccid(conn: &mut DbConn, iccid: &str) -> StoreResult<Option<SimCard>> {
    Ok(s::sim_cards
        .filter(s::iccid.eq(iccid))
        .select(SimCard::as_select())
        .first(conn)
        .optional()?)
}

/// Takes a SIM out of its terminal with the status it should have afterwards.
pub fn unbind_sim_to(
    conn: &mut DbConn,
    sim: &SimCard,
    terminal_id: &str,
    status: &str,
    ctx: &BindContext,
) -> StoreResult<()> {
    let n = diesel::update(
        s::sim_cards
            .filter(s::id.eq(&sim.id))
            .filter(s::terminal_id.eq(terminal_id))
            .filter(s::version.eq(sim.version)),
    )
    .set((
        s::terminal_id.eq(None::<String>),
        s::status.eq(status),
        s::version.eq(s::version + 1),
        s::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(StoreError::Conflict {
            code: "sim_not_bound",
            detail: "the SIM card changed meanwhile".into(),
        });
    }
    record(
        conn,
        ctx,
        &sim.center_id,
        "unbind",
        terminal_id,
        Other::Sim(&sim.id),
    )
}

/// IMEIs of these terminals, by id (an order's documents: at most a few hundred).
pub fn imeis(
    conn: &mut DbConn,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows: Vec<(String, String)> = t::terminals
            .filter(t::id.eq_any(chunk))
            .select((t::id, t::imei))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// ICCID and MSISDN of these SIM cards, by id.
pub fn sim_numbers(
    conn: &mut DbConn,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, (String, String)>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows: Vec<(String, String, String)> = s::sim_cards
            .filter(s::id.eq_any(chunk))
            .select((s::id, s::iccid, s::msisdn))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, i, m)| (id, (i, m))));
    }
    Ok(out)
}

/// What is in a vehicle now: its installed terminal and that terminal's SIM card (a repair
/// line shows the technician what they will find).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Fitted {
    pub terminal_id: Option<String>,
    pub terminal_imei: Option<String>,
    pub terminal_model: Option<String>,
    pub sim_id: Option<String>,
    pub sim_iccid: Option<String>,
    pub sim_msisdn: Option<String>,
    pub sim_carrier: Option<String>,
}

/// vehicle id → what is fitted in it, for the vehicles that hold an installed terminal.
pub fn fitted(
    conn: &mut DbConn,
    vehicle_ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, Fitted>> {
    let terminals: Vec<Terminal> = terminals_in_vehicles(conn, vehicle_ids)?
        .into_iter()
        .filter(|t| t.status == TerminalStatus::Installed.as_str())
        .collect();
    let ids: Vec<&str> = terminals.iter().map(|t| t.id.as_str()).collect();
    let sims = sims_in_terminals(conn, &ids)?;
    let mut out = std::collections::HashMap::new();
    for term in &terminals {
        let Some(vehicle) = term.vehicle_id.clone() else {
            continue;
        };
        let sim = sims
            .iter()
            .find(|s| s.terminal_id.as_deref() == Some(term.id.as_str()));
        out.insert(
            vehicle,
            Fitted {
                terminal_id: Some(term.id.clone()),
                terminal_imei: Some(term.imei.clone()),
                terminal_model: Some(term.model_code.clone()),
                sim_id: sim.map(|s| s.id.clone()),
                sim_iccid: sim.map(|s| s.iccid.clone()),
                sim_msisdn: sim.map(|s| s.msisdn.clone()),
                sim_carrier: sim.map(|s| s.carrier.clone()),
            },
        );
    }
    Ok(out)
}
