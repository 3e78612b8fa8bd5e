//! Invoices (账单) to credit customers: every open credit charge of a period goes on one
//! invoice, paid by bank transfer, partly or at once.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::domain::china_day;
use crate::domain::ledger::{self, PaymentKind, PaymentMethod};
use crate::domain::money::Fen;
use crate::domain::registry::PaymentTerms;
use crate::store::money::{self as store, Charge, Invoice, InvoiceFilter, Payment};
use crate::store::{DbConn, Page, PageReq, centers, customers, new_id, now};

use super::charges::{has_pending, save_state, state_of};
use super::payments::{PaymentView, next_receipt, view as payment_view};
use super::{Error, Principal, Result, stored};

/// An invoice with its charges and balance.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvoiceView {
    #[serde(flatten)]
    pub invoice: Invoice,
    pub balance_fen: i64,
    /// open, paid
    pub status: &'static str,
    pub charges: Vec<Charge>,
    pub payments: Vec<Payment>,
}

fn view(c: &mut DbConn, inv: Invoice) -> Result<InvoiceView> {
    let payments = store::payments_of_invoice(c, &inv.id)?;
    Ok(InvoiceView {
        balance_fen: inv.total_fen - inv.paid_fen,
        status: if inv.paid_fen >= inv.total_fen {
            "paid"
        } else {
            "open"
        },
        charges: store::charges_of_invoice(c, &inv.id)?,
        payments,
        invoice: inv,
    })
}

/// An invoice in the caller's scope.
pub fn see(c: &mut DbConn, p: &Principal, id: &str) -> Result<Invoice> {
    let inv = store::invoice(c, id)?;
    p.see(&inv.center_id)?;
    Ok(inv)
}

pub fn list(c: &mut DbConn, filter: &InvoiceFilter, page: &PageReq) -> Result<Page<Invoice>> {
    Ok(store::list_invoices(c, filter, page)?)
}

pub fn get(c: &mut DbConn, p: &Principal, id: &str) -> Result<InvoiceView> {
    let inv = see(c, p, id)?;
    view(c, inv)
}

/// An invoice to issue.
#[derive(Debug)]
pub struct Issue {
    pub customer_id: String,
    /// first and last China day of the period (inclusive)
    pub period: (NaiveDate, NaiveDate),
    /// default: today (China)
    pub issue_date: Option<NaiveDate>,
}

/// Issues an invoice to a credit customer for a period: every open credit charge of the
/// period without a pending adjustment goes on it and counts as settled.
pub fn issue(c: &mut DbConn, p: &Principal, i: Issue) -> Result<InvoiceView> {
    let customer = customers::get_row(c, &i.customer_id)?;
    p.see(&customer.center_id)?;
    let terms = stored(
        "payment terms",
        &customer.payment_terms,
        PaymentTerms::parse,
    )?;
    let Some(credit_days) = customer
        .credit_days
        .filter(|_| terms == PaymentTerms::Credit)
    else {
        return Err(Error::conflict(
            "not_on_account",
            "the customer pays on site (cash terms); only credit customers get invoices",
        ));
    };
    let (start, end) = i.period;
    // lock the charges, then read them again: an adjustment decided meanwhile counts
    for ch in store::uninvoiced_credit_charges(c, &customer.id, start, end)? {
        store::lock_charge(c, &ch.id)?;
    }
    // a charge whose adjustment waits for a manager goes on a later invoice
    let mut charges = Vec::new();
    for ch in store::uninvoiced_credit_charges(c, &customer.id, start, end)? {
        let adjustments = store::adjustments(c, &ch.id)?;
        if !has_pending(&adjustments)? {
            let st = state_of(&ch, &adjustments)?;
            charges.push((ch, st));
        }
    }
    if charges.is_empty() {
        return Err(Error::conflict(
            "nothing_to_invoice",
            "the customer has no open charges in that period",
        ));
    }
    let at = now();
    let issued = i.issue_date.unwrap_or_else(|| china_day(at));
    let center = centers::get(c, &customer.center_id)?;
    let seq = crate::store::numbers::next_number(c, &center.id, "ZD", issued.year())?;
    let total: i64 = charges.iter().map(|(_, st)| st.due().as_i64()).sum();
    let inv = Invoice {
        id: new_id(),
        number: ledger::invoice_number(&center.code, issued.year(), seq),
        center_id: center.id.clone(),
        customer_id: customer.id.clone(),
        period_start: start,
        period_end: end,
        issue_date: issued,
        due_date: ledger::due_date(issued, credit_days),
        total_fen: total,
        paid_fen: 0,
        created_by: p.id.clone(),
        created_at: at,
        version: 1,
        updated_at: at,
    };
    store::insert_invoice(c, &inv)?;
    for (ch, mut st) in charges {
        st.invoiced = true;
        save_state(c, &ch, &st, Some(&inv.id))?;
    }
    view(c, inv)
}

/// A bank transfer (or other payment) against an invoice.
#[derive(Debug)]
pub struct InvoicePayment {
    pub amount: Fen,
    pub method: PaymentMethod,
    pub payer_name: String,
    pub paid_at: NaiveDateTime,
    /// the bank's reference of the transfer
    pub notes: Option<String>,
}

/// Records a payment of an invoice: partial payments allowed, overpaying refused.
pub fn pay(c: &mut DbConn, p: &Principal, id: &str, input: InvoicePayment) -> Result<PaymentView> {
    store::lock_invoice(c, id)?;
    let inv = see(c, p, id)?;
    let at = input.paid_at;
    if china_day(at) < inv.period_start {
        return Err(Error::field(
            "paid_at",
            "before_invoice",
            "a payment of an invoice is not dated before its period",
        ));
    }
    ledger::check_invoice_payment(Fen(inv.total_fen - inv.paid_fen), input.amount)?;
    let receipt = next_receipt(c, &inv.center_id, at)?;
    let pay = Payment {
        id: new_id(),
        center_id: inv.center_id.clone(),
        kind: PaymentKind::Collection.as_str().into(),
        charge_id: None,
        order_id: None,
        invoice_id: Some(inv.id.clone()),
        customer_id: inv.customer_id.clone(),
        amount_fen: input.amount.as_i64(),
        method: input.method.as_str().into(),
        payer_name: input.payer_name,
        paid_at: at,
        day: china_day(at),
        lat: None,
        lng: None,
        collector_id: p.id.clone(),
        on_site: false,
        receipt_no: Some(receipt),
        reverses_id: None,
        reason: None,
        approved_by: None,
        notes: input.notes,
        recorded_by: p.id.clone(),
        created_at: now(),
    };
    store::insert_payment(c, &pay)?;
    crate::notify::on_payment(c, &pay)?;
    store::set_invoice_paid(c, &inv.id, inv.paid_fen + input.amount.as_i64())?;
    payment_view(c, pay)
}
