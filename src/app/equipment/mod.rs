//! Equipment use cases: terminal models, terminals and SIM cards in a center's stock,
//! their CSV import, and binding (`binding`), which the work-order lines share.

pub mod binding;
pub mod import;

use chrono::NaiveDate;

use crate::app::{Check, Error, Principal, Result, stored};
use crate::domain::access::Role;
use crate::domain::ids::{Carrier, Iccid, Imei, Msisdn};
use crate::domain::registry::{BindRefusal, SimStatus, TerminalLocation, TerminalStatus};
use crate::store::equipment::{
    self as store, BindingEvent, HistoryFilter, SimCard, SimFilter, SimPatch, Terminal,
    TerminalFilter, TerminalModel, TerminalPatch,
};
use crate::store::{DbConn, Page, PageReq, centers, new_id, now, users};

/// 422 on `center_id` unless the center exists.
fn ensure_center(c: &mut DbConn, id: &str) -> Result<()> {
    centers::get(c, id)
        .map_err(|_| Error::field("center_id", "unknown", "no such service center"))?;
    Ok(())
}

fn unknown_model() -> Error {
    Error::field("model_code", "unknown", "no such terminal model")
}

// ---- terminal models

pub fn models(c: &mut DbConn) -> Result<Vec<TerminalModel>> {
    Ok(store::models(c)?)
}

pub fn create_model(c: &mut DbConn, m: TerminalModel) -> Result<TerminalModel> {
    store::insert_model(c, &m)?;
    Ok(m)
}

// ---- terminals

/// A terminal in the caller's scope.
pub fn terminal(c: &mut DbConn, p: &Principal, id: &str) -> Result<Terminal> {
    let t = store::terminal(c, id)?;
    p.see(&t.center_id)?;
    Ok(t)
}

pub fn terminals(c: &mut DbConn, f: &TerminalFilter, page: &PageReq) -> Result<Page<Terminal>> {
    Ok(store::list_terminals(c, f, page)?)
}

/// A terminal to register (its center already checked against the caller's scope).
pub struct NewTerminal {
    pub center_id: String,
    pub imei: Imei,
    pub model_code: String,
    pub purchase_date: NaiveDate,
    /// default: the model's warranty
    pub warranty_months: Option<i32>,
    pub notes: Option<String>,
}

/// A terminal as it enters a center's warehouse stock.
fn stock_terminal(
    center_id: String,
    imei: &Imei,
    model: &TerminalModel,
    purchase_date: NaiveDate,
    warranty_months: Option<i32>,
    notes: Option<String>,
) -> Terminal {
    let t = now();
    Terminal {
        id: new_id(),
        center_id,
        imei: imei.as_str().to_string(),
        model_code: model.code.clone(),
        purchase_date,
        warranty_months: warranty_months.unwrap_or(model.warranty_months),
        status: TerminalStatus::InStock.as_str().into(),
        location: TerminalLocation::Warehouse.as_str().into(),
        technician_id: None,
        vehicle_id: None,
        notes,
        version: 1,
        created_at: t,
        updated_at: t,
        fault_tag: None,
        fault_order_id: None,
    }
}

/// Registers one terminal into a center's warehouse stock.
pub fn create_terminal(c: &mut DbConn, n: NewTerminal) -> Result<Terminal> {
    ensure_center(c, &n.center_id)?;
    let model = store::model(c, &n.model_code)?.ok_or_else(unknown_model)?;
    let row = stock_terminal(
        n.center_id,
        &n.imei,
        &model,
        n.purchase_date,
        n.warranty_months,
        n.notes,
    );
    store::insert_terminal(c, &row)?;
    Ok(row)
}

/// What an update of a terminal changes (`None`: unchanged).
pub struct TerminalChange {
    pub model_code: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub warranty_months: Option<i32>,
    /// never installed: that is binding
    pub status: Option<TerminalStatus>,
    /// the technician whose van holds it; `Some(None)`: back to the warehouse
    pub technician_id: Option<Option<String>>,
    pub notes: Option<Option<String>>,
}

/// Updates `current` (read in this transaction, in the caller's scope) at `version`. A
/// terminal in a vehicle moves only through unbinding; one with a SIM is not scrapped or
/// returned.
pub fn update_terminal(
    c: &mut DbConn,
    current: &Terminal,
    version: i32,
    ch: TerminalChange,
) -> Result<Terminal> {
    let moves = ch.status.is_some() || ch.technician_id.is_some();
    if moves && current.vehicle_id.is_some() {
        return Err(Error::conflict(
            "terminal_already_bound",
            "the terminal is installed in a vehicle: unbind it first",
        ));
    }
    if matches!(
        ch.status,
        Some(TerminalStatus::Scrapped | TerminalStatus::Returned)
    ) && store::sim_in_terminal(c, &current.id)?.is_some()
    {
        return Err(BindRefusal::TerminalHasSim.into());
    }
    if let Some(code) = &ch.model_code
        && store::model(c, code)?.is_none()
    {
        return Err(unknown_model());
    }
    if let Some(Some(tech)) = &ch.technician_id
        && !is_technician_of(c, tech, &current.center_id)?
    {
        return Err(Error::field(
            "technician_id",
            "unknown",
            "no such technician in this center",
        ));
    }
    let location = ch.technician_id.as_ref().map(|t| {
        if t.is_some() {
            TerminalLocation::Technician
        } else {
            TerminalLocation::Warehouse
        }
        .as_str()
        .to_string()
    });
    let patch = TerminalPatch {
        model_code: ch.model_code,
        purchase_date: ch.purchase_date,
        warranty_months: ch.warranty_months,
        status: ch.status.map(|s| s.as_str().into()),
        location,
        technician_id: ch.technician_id,
        notes: ch.notes,
    };
    store::update_terminal(c, &current.id, version, &patch)?;
    Ok(store::terminal(c, &current.id)?)
}

/// Whether `user_id` is an active technician of `center_id`.
fn is_technician_of(c: &mut DbConn, user_id: &str, center_id: &str) -> Result<bool> {
    let Ok(u) = users::get(c, user_id) else {
        return Ok(false);
    };
    let role = stored("user role", &u.role, Role::parse)?;
    Ok(u.active && role == Role::Technician && u.center_id == center_id)
}

// ---- SIM cards

/// A SIM card in the caller's scope.
pub fn sim(c: &mut DbConn, p: &Principal, id: &str) -> Result<SimCard> {
    let s = store::sim(c, id)?;
    p.see(&s.center_id)?;
    Ok(s)
}

pub fn sims(c: &mut DbConn, f: &SimFilter, page: &PageReq) -> Result<Page<SimCard>> {
    Ok(store::list_sims(c, f, page)?)
}

/// A SIM card as it enters a center's stock; the carrier follows from the ICCID unless
/// given.
pub fn stock_sim(
    center_id: String,
    iccid: Iccid,
    msisdn: Msisdn,
    carrier: Option<Carrier>,
    notes: Option<String>,
) -> SimCard {
    let t = now();
    SimCard {
        id: new_id(),
        center_id,
        carrier: carrier.unwrap_or_else(|| iccid.carrier()).as_str().into(),
        iccid: iccid.into(),
        msisdn: msisdn.into(),
        status: SimStatus::InStock.as_str().into(),
        terminal_id: None,
        notes,
        version: 1,
        created_at: t,
        updated_at: t,
    }
}

/// Registers one SIM card (made by `stock_sim`).
pub fn create_sim(c: &mut DbConn, row: SimCard) -> Result<SimCard> {
    ensure_center(c, &row.center_id)?;
    store::insert_sim(c, &row)?;
    Ok(row)
}

/// What an update of a SIM card changes (`None`: unchanged).
pub struct SimChange {
    pub msisdn: Option<Msisdn>,
    pub carrier: Option<Carrier>,
    pub status: Option<SimStatus>,
    pub notes: Option<Option<String>>,
}

/// Updates `current` (read in this transaction, in the caller's scope) at `version`. A
/// card in a terminal goes back to stock or is cancelled only through unbinding.
pub fn update_sim(
    c: &mut DbConn,
    current: &SimCard,
    version: i32,
    ch: SimChange,
) -> Result<SimCard> {
    if current.terminal_id.is_some()
        && matches!(ch.status, Some(SimStatus::InStock | SimStatus::Cancelled))
    {
        return Err(Error::conflict(
            "sim_already_bound",
            "the SIM card is in a terminal: unbind it first",
        ));
    }
    let patch = SimPatch {
        msisdn: ch.msisdn.map(String::from),
        carrier: ch.carrier.map(|x| x.as_str().into()),
        status: ch.status.map(|x| x.as_str().into()),
        notes: ch.notes,
    };
    store::update_sim(c, &current.id, version, &patch)?;
    Ok(store::sim(c, &current.id)?)
}

/// Bind and unbind history (the filter's center already narrowed to the caller's scope).
pub fn history(c: &mut DbConn, f: &HistoryFilter, page: &PageReq) -> Result<Page<BindingEvent>> {
    Ok(store::history(c, f, page)?)
}

// ---- shape checks shared by the forms and the CSV import

/// A warranty of 0 to 120 months.
pub fn check_warranty(check: &mut Check, field: &str, months: i32) {
    if !(0..=120).contains(&months) {
        check.add(field, "out_of_range", "between 0 and 120 months");
    }
}

/// A purchase date between 2000-01-01 and today (a day of slack for time zones).
pub fn check_purchase_date(check: &mut Check, field: &str, d: NaiveDate) {
    let today = chrono::Utc::now().date_naive();
    if d > today + chrono::Duration::days(1) || d < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(d)
    {
        check.add(field, "out_of_range", "a date between 2000-01-01 and today");
    }
}
