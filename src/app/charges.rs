//! Charges: what a completed order costs the customer, its adjustments (discounts,
//! waivers, write-offs) and whether the money is in well enough for the order to close.

use serde::Serialize;

use crate::domain::china_day;
use crate::domain::ledger::{
    self, AdjustmentDecision, AdjustmentKind, AdjustmentRefusal, AdjustmentStatus, ChargeState,
    ChargeStatus, PaymentMethod, RemittanceStatus, Requester,
};
use crate::domain::money::Fen;
use crate::store::money::{self as store, Adjustment, Charge, ChargeFilter, Payment};
use crate::store::orders::{self as orders, WorkOrder};
use crate::store::{DbConn, Page, PageReq, centers, customers, new_id, now};

use super::{Error, Principal, Result, stored};
use crate::domain::access::Role;

/// A center without settings: discounts and waivers up to ¥50.00 need no approval.
pub const DEFAULT_ADJUSTMENT_THRESHOLD: Fen = Fen(5000);

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
    use crate::domain::feedback::FollowUpStatus;
    let Some(ch) = store::charge_of_order(c, order_id)? else {
        return Err(Error::conflict(
            "charge_missing",
            "the order has no charge (it was not completed)",
        ));
    };
    let pending = has_pending(&store::adjustments(c, &ch.id)?)?;
    let status = stored("charge status", &ch.status, ChargeStatus::parse)?;
    let mut collections = Vec::new();
    for (p, remittance) in store::live_collections(c, &ch.id)? {
        let handover = match remittance.as_deref() {
            None => Handover::NotRemitted,
            Some(s) => match stored("remittance status", s, RemittanceStatus::parse)? {
                RemittanceStatus::Confirmed => Handover::Confirmed,
                RemittanceStatus::Submitted => Handover::Unconfirmed,
            },
        };
        collections.push(Collection {
            method: stored("payment method", &p.method, PaymentMethod::parse)?,
            on_site: p.on_site,
            handover,
        });
    }
    let follow_up = match crate::store::feedback::follow_up_of_order(c, order_id)? {
        Some(f) => match stored("follow-up status", &f.status, FollowUpStatus::parse)? {
            FollowUpStatus::Done if f.unreachable => FollowUp::Unreachable,
            FollowUpStatus::Done => FollowUp::Recorded,
            FollowUpStatus::Open => FollowUp::Pending,
        },
        None => FollowUp::Pending,
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

/// Whether one of the adjustments waits for a manager.
pub(crate) fn has_pending(adjustments: &[Adjustment]) -> Result<bool> {
    for a in adjustments {
        if stored("adjustment status", &a.status, AdjustmentStatus::parse)?
            == AdjustmentStatus::Pending
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The charge state of a stored charge, with what its approved adjustments were.
pub(crate) fn state_of(ch: &Charge, adjustments: &[Adjustment]) -> Result<ChargeState> {
    let mut written_off = false;
    for a in adjustments {
        let kind = stored("adjustment kind", &a.kind, AdjustmentKind::parse)?;
        let status = stored("adjustment status", &a.status, AdjustmentStatus::parse)?;
        written_off |= kind == AdjustmentKind::WriteOff && status == AdjustmentStatus::Approved;
    }
    Ok(ChargeState {
        amount: Fen(ch.amount_fen),
        adjusted: Fen(ch.adjusted_fen),
        paid: Fen(ch.paid_fen),
        invoiced: ch.invoice_id.is_some(),
        written_off,
    })
}

/// The state of the charge as stored now (its adjustments read again).
pub(crate) fn current_state(c: &mut DbConn, ch: &Charge) -> Result<ChargeState> {
    let adjustments = store::adjustments(c, &ch.id)?;
    state_of(ch, &adjustments)
}

/// Stores a charge's new money and the status that follows from it.
pub(crate) fn save_state(
    c: &mut DbConn,
    ch: &Charge,
    st: &ChargeState,
    invoice_id: Option<&str>,
) -> Result<ChargeStatus> {
    let status = st.status();
    let settled_at = if status.is_settled() {
        ch.settled_at.or(Some(now()))
    } else {
        None
    };
    store::save_charge_money(
        c,
        &ch.id,
        st.adjusted.as_i64(),
        st.paid.as_i64(),
        status.as_str(),
        invoice_id,
        settled_at,
    )?;
    Ok(status)
}

/// A charge with what is still due, its adjustments and its ledger entries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChargeView {
    #[serde(flatten)]
    pub charge: Charge,
    pub due_fen: i64,
    pub adjustments: Vec<Adjustment>,
    pub payments: Vec<Payment>,
}

fn view(c: &mut DbConn, charge: Charge) -> Result<ChargeView> {
    let adjustments = store::adjustments(c, &charge.id)?;
    let payments = store::payments_of_charge(c, &charge.id)?;
    Ok(ChargeView {
        due_fen: state_of(&charge, &adjustments)?.due().as_i64(),
        charge,
        adjustments,
        payments,
    })
}

/// A charge the caller may see: their center's; a technician only on orders they are on.
fn see(c: &mut DbConn, p: &Principal, id: &str) -> Result<Charge> {
    let ch = store::charge(c, id)?;
    p.see(&ch.center_id)?;
    if p.is(Role::Technician) && !orders::is_on_order(c, &ch.order_id, &p.id)? {
        return Err(Error::NotFound);
    }
    Ok(ch)
}

/// A page of charges (the filter already narrowed to the caller's centers).
pub fn list(c: &mut DbConn, filter: &ChargeFilter, page: &PageReq) -> Result<Page<Charge>> {
    Ok(store::list_charges(c, filter, page)?)
}

/// One charge with its adjustments and ledger entries.
pub fn get(c: &mut DbConn, p: &Principal, id: &str) -> Result<ChargeView> {
    let ch = see(c, p, id)?;
    view(c, ch)
}

/// A discount, waiver or write-off asked for.
#[derive(Debug)]
pub struct AdjustmentRequest {
    pub kind: AdjustmentKind,
    /// a discount's amount; a waiver or write-off takes all that is due
    pub amount: Option<Fen>,
    pub reason: String,
}

/// Asks for an adjustment: approved at once or pending, as `ledger::adjustment_decision`
/// says for the caller, the amount and the center's threshold.
pub fn request_adjustment(
    c: &mut DbConn,
    p: &Principal,
    charge_id: &str,
    req: AdjustmentRequest,
) -> Result<ChargeView> {
    // writing off is a manager's or finance's word, never a technician's
    if req.kind == AdjustmentKind::WriteOff && p.is(Role::Technician) {
        return Err(Error::Forbidden);
    }
    store::lock_charge(c, charge_id)?;
    let ch = see(c, p, charge_id)?;
    let adjustments = store::adjustments(c, &ch.id)?;
    if has_pending(&adjustments)? {
        return Err(AdjustmentRefusal::PendingExists.into());
    }
    let mut st = state_of(&ch, &adjustments)?;
    let fen = ledger::adjustment_amount(req.kind, req.amount, &st)?;
    let threshold = Fen(store::adjustment_threshold(
        c,
        &ch.center_id,
        DEFAULT_ADJUSTMENT_THRESHOLD.as_i64(),
    )?);
    let who = match p.role {
        Role::Admin | Role::Manager => Requester::Approver,
        Role::Technician => Requester::Technician,
        _ => Requester::Other,
    };
    let decision = ledger::adjustment_decision(req.kind, fen, st.adjusted, threshold, who);
    let at = now();
    let approved = decision == AdjustmentDecision::Approved;
    store::insert_adjustment(
        c,
        &Adjustment {
            id: new_id(),
            charge_id: ch.id.clone(),
            kind: req.kind.as_str().into(),
            amount_fen: fen.as_i64(),
            reason: req.reason,
            status: if approved {
                AdjustmentStatus::Approved
            } else {
                AdjustmentStatus::Pending
            }
            .as_str()
            .into(),
            requested_by: p.id.clone(),
            requested_at: at,
            decided_by: approved.then(|| p.id.clone()),
            decided_at: approved.then_some(at),
            decision_note: (approved && who == Requester::Other)
                .then(|| "within the center's threshold".to_string()),
        },
    )?;
    if approved {
        st.adjusted = Fen(st.adjusted.as_i64() + fen.as_i64());
        st.written_off |= req.kind == AdjustmentKind::WriteOff;
        save_state(c, &ch, &st, None)?;
    }
    let ch = store::charge(c, &ch.id)?;
    view(c, ch)
}

/// A manager's answer to a pending adjustment.
#[derive(Debug)]
pub struct Decision {
    pub approve: bool,
    pub note: Option<String>,
}

/// Approves or rejects a pending adjustment (an approver of the charge's center).
pub fn decide_adjustment(
    c: &mut DbConn,
    p: &Principal,
    charge_id: &str,
    adjustment_id: &str,
    d: Decision,
) -> Result<ChargeView> {
    store::lock_charge(c, charge_id)?;
    let ch = see(c, p, charge_id)?;
    p.approves(&ch.center_id)?;
    let adj = store::adjustment(c, &ch.id, adjustment_id)?;
    if stored("adjustment status", &adj.status, AdjustmentStatus::parse)?
        != AdjustmentStatus::Pending
    {
        return Err(Error::conflict(
            "adjustment_decided",
            format!("the adjustment is already {}", adj.status),
        ));
    }
    if d.approve && ch.invoice_id.is_some() {
        return Err(AdjustmentRefusal::Invoiced.into());
    }
    let status = if d.approve {
        AdjustmentStatus::Approved
    } else {
        AdjustmentStatus::Rejected
    };
    store::decide_adjustment(c, &adj.id, status.as_str(), &p.id, d.note.as_deref())?;
    if d.approve {
        let mut st = current_state(c, &ch)?;
        // money may have come in since the request: never forgive more than is due
        if adj.amount_fen > st.due().as_i64() {
            return Err(AdjustmentRefusal::MoreThanDue { due: st.due() }.into());
        }
        st.adjusted = Fen(st.adjusted.as_i64() + adj.amount_fen);
        save_state(c, &ch, &st, None)?;
    }
    let ch = store::charge(c, &ch.id)?;
    view(c, ch)
}

/// The adjustment threshold of a center in its scope.
pub fn threshold(c: &mut DbConn, p: &Principal, center_id: &str) -> Result<Fen> {
    p.see(center_id)?;
    let center = centers::get(c, center_id)?;
    Ok(Fen(store::adjustment_threshold(
        c,
        &center.id,
        DEFAULT_ADJUSTMENT_THRESHOLD.as_i64(),
    )?))
}

/// Sets a center's adjustment threshold.
pub fn set_threshold(c: &mut DbConn, center_id: &str, fen: Fen) -> Result<()> {
    let center = centers::get(c, center_id)?;
    store::set_adjustment_threshold(c, &center.id, fen.as_i64())?;
    Ok(())
}
