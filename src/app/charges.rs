//! Charges: what a completed order costs the customer, and whether the money is in well
//! enough for the order to close.

use crate::domain::china_day;
use crate::domain::ledger::{AdjustmentStatus, ChargeState, ChargeStatus, PaymentMethod};
use crate::domain::money::Fen;
use crate::store::money::{self as store, Charge};
use crate::store::orders::WorkOrder;
use crate::store::{DbConn, customers, new_id, now};

use super::{Error, Result};

/// Makes the charge of an order that just completed with `fee`: the customer's terms say
/// whether it is collected on site (cash) or goes on an invoice (credit).
pub fn open(c: &mut DbConn, order: &WorkOrder, fee: Fen) -> Result<()> {
    let customer = customers::get_row(c, &order.customer_id)?;
    let at = now();
    let st = ChargeState::new(fee);
    store::insert_charge(
        c,
        &Charge {
            id: new_id(),
            order_id: order.id.clone(),
            center_id: order.center_id.clone(),
            customer_id: order.customer_id.clone(),
            technician_id: order.lead_technician_id.clone(),
            terms: customer.payment_terms.clone(),
            amount_fen: fee.as_i64(),
            adjusted_fen: 0,
            paid_fen: 0,
            status: st.status().as_str().to_string(),
            invoice_id: None,
            day: china_day(at),
            created_at: at,
            settled_at: st.status().is_settled().then_some(at),
            version: 1,
            updated_at: at,
        },
    )?;
    Ok(())
}

/// 409 unless the order may close (`domain::closing`): its charge settled with no
/// adjustment waiting, the cash collected on site in a remittance finance confirmed, and
/// its completion follow-up recorded or given up as unreachable. The problem's `code` is
/// the first blocker, `blockers` all of them.
pub fn require_closable(c: &mut DbConn, order_id: &str) -> Result<()> {
    use crate::domain::closing::{self, Closing, Collection, FollowUp, Handover};
    let Some(ch) = store::charge_of_order(c, order_id)? else {
        return Err(Error::conflict(
            "charge_missing",
            "the order has no charge (it was not completed)",
        ));
    };
    let pending = store::adjustments(c, &ch.id)?
        .iter()
        .any(|a| a.status == AdjustmentStatus::Pending.as_str());
    let status = ChargeStatus::parse(&ch.status).unwrap_or(ChargeStatus::Open);
    let collections: Vec<Collection> = store::live_collections(c, &ch.id)?
        .into_iter()
        .map(|(p, remittance)| Collection {
            method: PaymentMethod::parse(&p.method).unwrap_or(PaymentMethod::Cash),
            on_site: p.on_site,
            handover: match remittance.as_deref() {
                None => Handover::NotRemitted,
                Some("confirmed") => Handover::Confirmed,
                Some(_) => Handover::Unconfirmed,
            },
        })
        .collect();
    let follow_up = match crate::store::feedback::follow_up_of_order(c, order_id)? {
        Some(f) if f.status == "done" && f.unreachable => FollowUp::Unreachable,
        Some(f) if f.status == "done" => FollowUp::Recorded,
        _ => FollowUp::Pending,
    };
    let blockers = closing::close_blockers(&Closing {
        charge_settled: status.is_settled() && !pending,
        collections: &collections,
        follow_up,
    });
    let Some(first) = blockers.first() else {
        return Ok(());
    };
    let mut extra = serde_json::Map::new();
    extra.insert(
        "blockers".into(),
        blockers.iter().map(|b| b.code()).collect::<Vec<_>>().into(),
    );
    extra.insert("charge_status".into(), ch.status.clone().into());
    extra.insert(
        "due_fen".into(),
        (ch.amount_fen - ch.adjusted_fen - ch.paid_fen).into(),
    );
    Err(Error::Conflict {
        code: first.code().into(),
        detail: if *first == closing::Blocker::ChargeUnsettled && pending {
            "an adjustment of the charge waits for a manager's approval".into()
        } else {
            first.detail().into()
        },
        extra: Some(extra),
    })
}
