//! Payments: the insert-only ledger. Collections on site with their receipts, reversals
//! (negative entries voiding one), fapiao numbers, and a technician's cash in hand.

use chrono::{Datelike, NaiveDateTime};
use serde::Serialize;

use crate::domain::access::Role;
use crate::domain::china_day;
use crate::domain::ledger::{self, PaymentKind, PaymentMethod, ReversalCheck};
use crate::domain::money::Fen;
use crate::domain::registry::PaymentTerms;
use crate::store::money::{self as store, Charge, Payment, PaymentFilter};
use crate::store::orders;
use crate::store::{DbConn, Page, PageReq, centers, new_id, now, users};

use super::charges::{current_state, save_state};
use super::{Error, Principal, Result, stored};

/// A ledger entry with what became of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    #[serde(flatten)]
    pub payment: Payment,
    /// the amount in Chinese capital numerals, as on the receipt (壹佰贰拾捌元整); a
    /// reversal's is negative (负壹佰贰拾捌元整)
    pub amount_capital: String,
    /// the reversal that voided this payment, if any
    pub reversed_by: Option<String>,
    /// the remittance it was handed over in, if any
    pub remittance_id: Option<String>,
    pub fapiao_no: Option<String>,
    /// the charge after this payment (collections on site)
    pub charge: Option<Charge>,
}

pub(crate) fn view(c: &mut DbConn, p: Payment) -> Result<PaymentView> {
    let reversed_by = store::reversal_of(c, &p.id)?.map(|r| r.id);
    let remittance_id = match &p.reverses_id {
        Some(orig) => store::remittance_of(c, orig)?,
        None => store::remittance_of(c, &p.id)?,
    };
    let charge = match &p.charge_id {
        Some(id) => Some(store::charge(c, id)?),
        None => None,
    };
    Ok(PaymentView {
        amount_capital: Fen(p.amount_fen).to_chinese_capital(),
        reversed_by,
        remittance_id,
        fapiao_no: store::fapiao_of(c, &p.id)?,
        charge,
        payment: p,
    })
}

/// A payment the caller may see: their center's; a technician only their own.
fn see(c: &mut DbConn, p: &Principal, id: &str) -> Result<Payment> {
    let pay = store::payment(c, id)?;
    p.see(&pay.center_id)?;
    if p.is(Role::Technician) && pay.collector_id != p.id {
        return Err(Error::NotFound);
    }
    Ok(pay)
}

fn kind_of(p: &Payment) -> Result<PaymentKind> {
    stored("payment kind", &p.kind, PaymentKind::parse)
}

/// The next receipt number of the center, for a payment made at `at`, inside the
/// payment's transaction: gapless per center and (China) year.
pub(crate) fn next_receipt(c: &mut DbConn, center_id: &str, at: NaiveDateTime) -> Result<String> {
    let center = centers::get(c, center_id)?;
    let year = china_day(at).year();
    let seq = crate::store::numbers::next_number(c, center_id, "SJ", year)?;
    Ok(ledger::receipt_number(&center.code, year, seq))
}

/// A page of the ledger (the filter already narrowed to what the caller sees).
pub fn list(c: &mut DbConn, filter: &PaymentFilter, page: &PageReq) -> Result<Page<Payment>> {
    Ok(store::list_payments(c, filter, page)?)
}

/// One payment with its reversal, remittance and fapiao number.
pub fn get(c: &mut DbConn, p: &Principal, id: &str) -> Result<PaymentView> {
    let pay = see(c, p, id)?;
    view(c, pay)
}

/// The payment whose receipt is to be printed: a reversal has none (409 `no_receipt`).
pub fn with_receipt(c: &mut DbConn, p: &Principal, id: &str) -> Result<Payment> {
    let pay = see(c, p, id)?;
    if pay.receipt_no.is_none() {
        return Err(Error::conflict(
            "no_receipt",
            "a reversal has no receipt; print the original payment's (it shows as void)",
        ));
    }
    Ok(pay)
}

/// Money a technician took on site.
#[derive(Debug)]
pub struct Collection {
    pub amount: Fen,
    pub method: PaymentMethod,
    pub payer_name: String,
    /// when the money changed hands (already within `domain::reported_time`'s bounds)
    pub paid_at: NaiveDateTime,
    pub point: Option<(f64, f64)>,
    pub notes: Option<String>,
}

/// Collects an order's fee on site (a technician on the order) and numbers its receipt.
pub fn collect(
    c: &mut DbConn,
    p: &Principal,
    order_id: &str,
    input: Collection,
) -> Result<PaymentView> {
    let order = orders::get(c, order_id)?;
    p.see(&order.center_id)?;
    if !orders::is_on_order(c, &order.id, &p.id)? {
        return Err(Error::NotFound);
    }
    let Some(ch) = store::charge_of_order(c, &order.id)? else {
        return Err(Error::conflict(
            "charge_missing",
            "the order has no charge yet: complete it first",
        ));
    };
    store::lock_charge(c, &ch.id)?;
    let ch = store::charge(c, &ch.id)?;
    let mut st = current_state(c, &ch)?;
    let terms = stored("payment terms", &ch.terms, PaymentTerms::parse)?;
    ledger::check_collection(&st, terms == PaymentTerms::Credit, input.amount)?;
    let at = input.paid_at;
    let receipt = next_receipt(c, &ch.center_id, at)?;
    let pay = Payment {
        id: new_id(),
        center_id: ch.center_id.clone(),
        kind: PaymentKind::Collection.as_str().into(),
        charge_id: Some(ch.id.clone()),
        order_id: Some(order.id.clone()),
        invoice_id: None,
        customer_id: ch.customer_id.clone(),
        amount_fen: input.amount.as_i64(),
        method: input.method.as_str().into(),
        payer_name: input.payer_name,
        paid_at: at,
        day: china_day(at),
        lat: input.point.map(|p| p.0),
        lng: input.point.map(|p| p.1),
        collector_id: p.id.clone(),
        on_site: true,
        receipt_no: Some(receipt.clone()),
        reverses_id: None,
        reason: None,
        approved_by: None,
        notes: input.notes,
        recorded_by: p.id.clone(),
        created_at: now(),
    };
    store::insert_payment(c, &pay)?;
    crate::notify::on_payment(c, &pay)?;
    st.paid = Fen(st.paid.as_i64() + input.amount.as_i64());
    save_state(c, &ch, &st, None)?;
    orders::add_event(
        c,
        &order.id,
        &p.id,
        "payment",
        None,
        Some(&format!(
            "{receipt} {} {}",
            input.amount,
            input.method.as_str()
        )),
    )?;
    view(c, pay)
}

/// A reversal asked for.
#[derive(Debug)]
pub struct Reversal {
    pub reason: String,
    /// the approving manager; `None`: the caller approves themselves
    pub approver_id: Option<String>,
}

/// Reverses a payment (冲销): a negative entry referencing it, with reason and approver;
/// the charge or invoice it paid owes the money again.
pub fn reverse(c: &mut DbConn, p: &Principal, id: &str, r: Reversal) -> Result<PaymentView> {
    let orig = see(c, p, id)?;
    // a reversal and a remittance of one technician's payments queue on their profile
    // row (PostgreSQL; SQLite's writers are serialized), so a payment is never both
    // reversed and handed over
    crate::store::technicians::lock_technician(c, &orig.collector_id)?;
    if let Some(ch) = &orig.charge_id {
        store::lock_charge(c, ch)?;
    }
    if let Some(inv) = &orig.invoice_id {
        store::lock_invoice(c, inv)?;
    }
    let approver_id = match &r.approver_id {
        Some(a) => super::named_approver(c, "approver_id", a, &orig.center_id)?.id,
        None => p.id.clone(),
    };
    ledger::check_reversal(ReversalCheck {
        is_reversal: kind_of(&orig)? == PaymentKind::Reversal,
        already_reversed: store::reversal_of(c, &orig.id)?.is_some(),
        remitted: store::remittance_of(c, &orig.id)?.is_some(),
    })?;
    let at = now();
    let rev = Payment {
        id: new_id(),
        center_id: orig.center_id.clone(),
        kind: PaymentKind::Reversal.as_str().into(),
        charge_id: orig.charge_id.clone(),
        order_id: orig.order_id.clone(),
        invoice_id: orig.invoice_id.clone(),
        customer_id: orig.customer_id.clone(),
        amount_fen: -orig.amount_fen,
        method: orig.method.clone(),
        payer_name: orig.payer_name.clone(),
        paid_at: at,
        day: china_day(at),
        lat: None,
        lng: None,
        collector_id: orig.collector_id.clone(),
        on_site: orig.on_site,
        receipt_no: None,
        reverses_id: Some(orig.id.clone()),
        reason: Some(r.reason.clone()),
        approved_by: Some(approver_id),
        notes: None,
        recorded_by: p.id.clone(),
        created_at: at,
    };
    store::insert_payment(c, &rev)?;
    if let Some(ch_id) = &orig.charge_id {
        let ch = store::charge(c, ch_id)?;
        let mut st = current_state(c, &ch)?;
        st.paid = Fen(st.paid.as_i64() - orig.amount_fen);
        save_state(c, &ch, &st, None)?;
        if let Some(o) = &orig.order_id {
            orders::add_event(
                c,
                o,
                &p.id,
                "payment_reversed",
                None,
                Some(&format!(
                    "{} {}",
                    orig.receipt_no.as_deref().unwrap_or(""),
                    r.reason
                )),
            )?;
        }
    }
    if let Some(inv_id) = &orig.invoice_id {
        let inv = store::invoice(c, inv_id)?;
        store::set_invoice_paid(c, &inv.id, inv.paid_fen - orig.amount_fen)?;
    }
    view(c, rev)
}

/// Records the fapiao (发票) number of a collection, once.
pub fn add_fapiao(c: &mut DbConn, p: &Principal, id: &str, fapiao_no: &str) -> Result<PaymentView> {
    let pay = see(c, p, id)?;
    if kind_of(&pay)? != PaymentKind::Collection {
        return Err(Error::conflict(
            "not_a_collection",
            "a fapiao belongs to a collection, not a reversal",
        ));
    }
    store::add_fapiao(c, &pay.id, fapiao_no, &p.id)?;
    view(c, pay)
}

/// A technician's money: collected on site, handed over, and still in hand.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CashInHand {
    pub technician_id: String,
    /// all collections on site, net of reversals
    pub collected_fen: i64,
    /// all handed over to finance
    pub remitted_fen: i64,
    /// collected − remitted
    pub in_hand_fen: i64,
    /// the payments not yet handed over: what a remittance can take
    pub unremitted: Vec<Payment>,
}

/// A technician's cash in hand: the technician themselves, or their center's office.
pub fn cash(c: &mut DbConn, p: &Principal, technician_id: &str) -> Result<CashInHand> {
    if p.is(Role::Technician) && technician_id != p.id {
        return Err(Error::NotFound);
    }
    let u = users::get(c, technician_id)?;
    p.see(&u.center_id)?;
    if stored("user role", &u.role, Role::parse)? != Role::Technician {
        return Err(Error::NotFound);
    }
    let (collected, remitted) = store::hand_totals(c, &u.id)?;
    Ok(CashInHand {
        technician_id: u.id.clone(),
        collected_fen: collected,
        remitted_fen: remitted,
        in_hand_fen: collected - remitted,
        unremitted: store::unremitted(c, &u.id)?,
    })
}
