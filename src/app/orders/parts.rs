//! Parts: those used on an order (at the price-list price of the day, correctable until
//! completion makes them the fee), and the price list itself.

use super::{Order, OrderView, act, on_site, record_act};
use crate::app::{Error, Principal, Result};
use crate::store::orders::{self as store, Part, PartPatch, PartUseRow, PartUsed};
use crate::store::{DbConn, new_id, now};

/// A part used on the order, as the technician records it.
#[derive(Debug)]
pub struct PartUse {
    pub part_code: String,
    pub quantity: i32,
    pub line_id: Option<String>,
    /// the verbal approval it was taken under, when parts ran short
    pub verbal_approval_id: Option<String>,
}

/// Record a part used, at today's price-list price (the lead technician, on site or on
/// hold).
pub fn add(c: &mut DbConn, p: &Principal, id: &str, version: i32, u: PartUse) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        on_site(p, order, true)?;
        let part = store::part_by_code(c, &u.part_code)?
            .filter(|p| p.active)
            .ok_or_else(|| {
                Error::field("part_code", "unknown", "no such part in the price list")
            })?;
        if let Some(l) = &u.line_id {
            store::line(c, &order.id, l)
                .map_err(|_| Error::field("line_id", "unknown", "no such line on this order"))?;
        }
        if let Some(v) = &u.verbal_approval_id
            && !store::verbal_approvals(c, &order.id)?
                .iter()
                .any(|a| &a.id == v)
        {
            return Err(Error::field(
                "verbal_approval_id",
                "unknown",
                "no such verbal approval on this order",
            ));
        }
        let t = now();
        store::insert_part_use(
            c,
            &PartUseRow {
                id: new_id(),
                order_id: order.id.clone(),
                line_id: u.line_id.clone(),
                part_id: part.id.clone(),
                quantity: u.quantity,
                unit_price_fen: part.unit_price_fen,
                verbal_approval_id: u.verbal_approval_id.clone(),
                recorded_by: p.id.clone(),
                recorded_at: t,
            },
        )?;
        let comment = format!("{} {} × {}", part.code, part.name, u.quantity);
        record_act(c, p, order, "part_used", Some(&comment), t)
    })
}

/// The recorded part, if the parts may still change: 409 `parts_locked` from completion
/// on, else the lead technician on site or on hold, as for adding one.
fn correctable(
    c: &mut DbConn,
    p: &Principal,
    order: &Order,
    part_use_id: &str,
) -> Result<PartUsed> {
    let row = store::part_use(c, &order.id, part_use_id)?;
    if order.status.parts_locked() {
        return Err(Error::conflict(
            "parts_locked",
            format!(
                "the order is {}: its parts make the fee and can no longer change",
                order.status.as_str()
            ),
        ));
    }
    on_site(p, order, true)?;
    store::parts_used(c, &order.id)?
        .into_iter()
        .find(|u| u.id == row.id)
        .ok_or(Error::NotFound)
}

/// Correct the quantity of a part recorded on the order (the fee follows).
pub fn correct(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    part_use_id: &str,
    quantity: i32,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let used = correctable(c, p, order, part_use_id)?;
        store::set_part_use_quantity(c, &used.id, quantity)?;
        let comment = format!(
            "{} {} × {} → {}",
            used.part_code, used.part_name, used.quantity, quantity
        );
        record_act(c, p, order, "part_corrected", Some(&comment), now())
    })
}

/// Remove a part recorded on the order by mistake (the fee follows).
pub fn remove(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    part_use_id: &str,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let used = correctable(c, p, order, part_use_id)?;
        store::delete_part_use(c, &used.id)?;
        let comment = format!("{} {} × {}", used.part_code, used.part_name, used.quantity);
        record_act(c, p, order, "part_removed", Some(&comment), now())
    })
}

// ---------------------------------------------------------------- the price list

/// A page of the price list.
pub fn list_parts(
    c: &mut DbConn,
    active: Option<bool>,
    page: &crate::store::PageReq,
) -> Result<crate::store::Page<Part>> {
    Ok(store::list_parts(c, active, page)?)
}

/// Add a part to the price list (checked by the handler).
pub fn create_part(
    c: &mut DbConn,
    code: String,
    name: String,
    unit_price_fen: i64,
) -> Result<Part> {
    let t = now();
    let part = Part {
        id: new_id(),
        code,
        name,
        unit_price_fen,
        active: true,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    store::insert_part(c, &part)?;
    Ok(part)
}

/// Change a part's name, price or whether it is offered. Orders keep the price they were
/// recorded at.
pub fn update_part(c: &mut DbConn, id: &str, version: i32, patch: &PartPatch) -> Result<Part> {
    store::update_part(c, id, version, patch)?;
    Ok(store::part(c, id)?)
}
