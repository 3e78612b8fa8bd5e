//! Remittances (交款): a technician hands the money collected on site to finance, finance
//! counts it and confirms; a difference opens a discrepancy a manager resolves.

use serde::Serialize;

use crate::domain::access::Role;
use crate::domain::china_day;
use crate::domain::ledger::{self, DiscrepancyStatus, RemittanceStatus};
use crate::domain::money::Fen;
use crate::store::money::{self as store, Discrepancy, Payment, Remittance, RemittanceFilter};
use crate::store::{DbConn, Page, PageReq, new_id, now};

use super::{Error, Principal, Result, stored};

/// A remittance with its payments and discrepancy.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemittanceView {
    #[serde(flatten)]
    pub remittance: Remittance,
    pub payments: Vec<Payment>,
    pub discrepancy: Option<Discrepancy>,
}

fn view(c: &mut DbConn, r: Remittance) -> Result<RemittanceView> {
    Ok(RemittanceView {
        payments: store::remittance_payments(c, &r.id)?,
        discrepancy: store::discrepancy_of(c, &r.id)?,
        remittance: r,
    })
}

/// A remittance the caller may see: their center's; a technician only their own.
fn see(c: &mut DbConn, p: &Principal, id: &str) -> Result<Remittance> {
    let r = store::remittance(c, id)?;
    p.see(&r.center_id)?;
    if p.is(Role::Technician) && r.technician_id != p.id {
        return Err(Error::NotFound);
    }
    Ok(r)
}

/// A page of remittances; a technician's are always their own.
pub fn list(
    c: &mut DbConn,
    p: &Principal,
    mut filter: RemittanceFilter,
    page: &PageReq,
) -> Result<Page<Remittance>> {
    if p.is(Role::Technician) {
        filter.technician_id = Some(p.id.clone());
    }
    Ok(store::list_remittances(c, &filter, page)?)
}

pub fn get(c: &mut DbConn, p: &Principal, id: &str) -> Result<RemittanceView> {
    let r = see(c, p, id)?;
    view(c, r)
}

/// What a technician hands over.
#[derive(Debug)]
pub struct Handover {
    /// the payments handed over; `None`: all not yet handed over
    pub payment_ids: Option<Vec<String>>,
    pub notes: Option<String>,
}

/// Hands the caller's collected payments to finance: their own, not yet handed over, not
/// reversed.
pub fn hand_over(c: &mut DbConn, p: &Principal, h: Handover) -> Result<RemittanceView> {
    crate::store::technicians::lock_technician(c, &p.id)?;
    let open = store::unremitted(c, &p.id)?;
    let batch = match &h.payment_ids {
        None => open,
        Some(ids) => pick(&open, ids)?,
    };
    if batch.is_empty() {
        return Err(Error::conflict(
            "nothing_to_remit",
            "there are no collected payments to hand over",
        ));
    }
    let expected: i64 = batch.iter().map(|p| p.amount_fen).sum();
    let at = now();
    let r = Remittance {
        id: new_id(),
        center_id: p.center_id.clone(),
        technician_id: p.id.clone(),
        expected_fen: expected,
        submitted_at: at,
        submitted_day: china_day(at),
        status: RemittanceStatus::Submitted.as_str().into(),
        received_fen: None,
        confirmed_by: None,
        confirmed_at: None,
        confirmed_day: None,
        notes: h.notes,
        version: 1,
        updated_at: at,
    };
    let ids: Vec<String> = batch.iter().map(|p| p.id.clone()).collect();
    store::insert_remittance(c, &r, &ids)?;
    view(c, r)
}

/// The named payments out of those waiting to be handed over (a name twice counts once).
fn pick(open: &[Payment], ids: &[String]) -> Result<Vec<Payment>> {
    let mut picked: Vec<Payment> = Vec::new();
    for id in ids {
        if picked.iter().any(|p| &p.id == id) {
            continue;
        }
        match open.iter().find(|p| &p.id == id) {
            Some(p) => picked.push(p.clone()),
            None => {
                return Err(Error::conflict(
                    "payment_not_remittable",
                    format!(
                        "payment {id} is not one of your collections waiting to be \
                                     handed over (unknown, reversed, or handed over already)"
                    ),
                ));
            }
        }
    }
    Ok(picked)
}

/// What finance counted.
#[derive(Debug)]
pub struct Count {
    pub received: Fen,
    pub notes: Option<String>,
}

/// Confirms a remittance at `version` with the amount counted; a difference opens a
/// discrepancy (short or over).
pub fn confirm(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    count: Count,
) -> Result<RemittanceView> {
    let r = see(c, p, id)?;
    if stored("remittance status", &r.status, RemittanceStatus::parse)?
        != RemittanceStatus::Submitted
    {
        return Err(Error::conflict(
            "remittance_confirmed",
            "the remittance was already confirmed",
        ));
    }
    store::confirm_remittance(
        c,
        &r.id,
        version,
        count.received.as_i64(),
        &p.id,
        count.notes.as_deref(),
    )?;
    if let Some(d) = ledger::discrepancy(Fen(r.expected_fen), count.received) {
        let at = now();
        store::insert_discrepancy(
            c,
            &Discrepancy {
                id: new_id(),
                remittance_id: r.id.clone(),
                center_id: r.center_id.clone(),
                technician_id: r.technician_id.clone(),
                amount_fen: d.as_i64(),
                status: DiscrepancyStatus::Open.as_str().into(),
                created_at: at,
                resolved_by: None,
                resolved_at: None,
                resolution: None,
                version: 1,
                updated_at: at,
            },
        )?;
    }
    let r = store::remittance(c, &r.id)?;
    view(c, r)
}

/// Which discrepancies a list shows.
#[derive(Debug)]
pub struct DiscrepancyFilter {
    pub center: Option<String>,
    pub status: Option<DiscrepancyStatus>,
    pub technician_id: Option<String>,
}

pub fn discrepancies(
    c: &mut DbConn,
    f: &DiscrepancyFilter,
    page: &PageReq,
) -> Result<Page<Discrepancy>> {
    Ok(store::list_discrepancies(
        c,
        f.center.as_deref(),
        f.status.map(DiscrepancyStatus::as_str),
        f.technician_id.as_deref(),
        page,
    )?)
}

/// Resolves a discrepancy at `version` (an approver of its center).
pub fn resolve_discrepancy(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    resolution: &str,
) -> Result<Discrepancy> {
    let d = store::discrepancy(c, id)?;
    p.see(&d.center_id)?;
    p.approves(&d.center_id)?;
    if stored("discrepancy status", &d.status, DiscrepancyStatus::parse)? != DiscrepancyStatus::Open
    {
        return Err(Error::conflict(
            "discrepancy_resolved",
            "the discrepancy was already resolved",
        ));
    }
    store::resolve_discrepancy(c, &d.id, version, &p.id, resolution)?;
    Ok(store::discrepancy(c, &d.id)?)
}
