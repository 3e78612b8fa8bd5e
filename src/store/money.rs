//! Money: charges and their adjustments, the payment ledger (insert-only: the database
//! refuses UPDATE and DELETE on `payments`), fapiao numbers, remittances and their
//! discrepancies, credit customers' invoices, and the reports over them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use serde::Serialize;

use super::names::names_of;
use super::schema::center_settings::dsl as cs;
use super::schema::charge_adjustments::dsl as ca;
use super::schema::charges::dsl as ch;
use super::schema::discrepancies::dsl as di;
use super::schema::invoices::dsl as inv;
use super::schema::payment_fapiao::dsl as pf;
use super::schema::payments::dsl as pay;
use super::schema::remittance_items::dsl as ri;
use super::schema::remittances::dsl as rm;
use super::{DbConn, Page, PageReq, StoreError, StoreResult, db::per_backend, now};

// ---------------------------------------------------------------- settings

/// A center's adjustment threshold; a center without settings uses `default`.
pub fn adjustment_threshold(conn: &mut DbConn, center_id: &str, default: i64) -> StoreResult<i64> {
    Ok(cs::center_settings
        .find(center_id)
        .select(cs::adjustment_threshold_fen)
        .first(conn)
        .optional()?
        .unwrap_or(default))
}

pub fn set_adjustment_threshold(conn: &mut DbConn, center_id: &str, fen: i64) -> StoreResult<()> {
    let at = now();
    per_backend!(conn, |c| diesel::insert_into(cs::center_settings)
        .values((
            cs::center_id.eq(center_id),
            cs::adjustment_threshold_fen.eq(fen),
            cs::updated_at.eq(at),
        ))
        .on_conflict(cs::center_id)
        .do_update()
        .set((
            cs::adjustment_threshold_fen.eq(fen),
            cs::version.eq(cs::version + 1),
            cs::updated_at.eq(at),
        ))
        .execute(c))?;
    Ok(())
}

// ---------------------------------------------------------------- charges

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::charges)]
pub struct Charge {
    pub id: String,
    pub order_id: String,
    pub center_id: String,
    pub customer_id: String,
    /// the lead technician, who collects on site
    pub technician_id: Option<String>,
    /// cash (paid on site) or credit (paid through an invoice)
    pub terms: String,
    pub amount_fen: i64,
    /// approved discounts, waivers and write-offs
    pub adjusted_fen: i64,
    /// collected, net of reversals
    pub paid_fen: i64,
    /// no_charge, open, paid, invoiced, waived, written_off
    pub status: String,
    pub invoice_id: Option<String>,
    /// the China day the charge was made
    pub day: NaiveDate,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub settled_at: Option<NaiveDateTime>,
    pub version: i32,
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
}

pub fn insert_charge(conn: &mut DbConn, row: &Charge) -> StoreResult<()> {
    diesel::insert_into(ch::charges).values(row).execute(conn)?;
    Ok(())
}

impl Charge {
    /// What the job costs the customer: the amount less approved adjustments (before any
    /// payment).
    pub fn net_fen(&self) -> i64 {
        self.amount_fen - self.adjusted_fen
    }
}

pub fn charge(conn: &mut DbConn, id: &str) -> StoreResult<Charge> {
    Ok(ch::charges
        .find(id)
        .select(Charge::as_select())
        .first(conn)?)
}

pub fn charge_of_order(conn: &mut DbConn, order_id: &str) -> StoreResult<Option<Charge>> {
    Ok(ch::charges
        .filter(ch::order_id.eq(order_id))
        .select(Charge::as_select())
        .first(conn)
        .optional()?)
}

/// The charges of the orders `ids` (an order has at most one), by order id.
pub fn charges_of_orders(
    conn: &mut DbConn,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, Charge>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows: Vec<Charge> = ch::charges
            .filter(ch::order_id.eq_any(chunk))
            .select(Charge::as_select())
            .load(conn)?;
        out.extend(rows.into_iter().map(|c| (c.order_id.clone(), c)));
    }
    Ok(out)
}

/// Locks a charge's row until the transaction ends (PostgreSQL; SQLite's writers are
/// serialized already): payments and adjustments of one charge queue here.
pub fn lock_charge(conn: &mut DbConn, id: &str) -> StoreResult<()> {
    if let DbConn::Pg(c) = conn {
        ch::charges
            .find(id)
            .select(ch::id)
            .for_update()
            .first::<String>(c)
            .optional()?;
    }
    Ok(())
}

/// Stores a charge's money after a payment, reversal, adjustment or invoicing.
pub fn save_charge_money(
    conn: &mut DbConn,
    id: &str,
    adjusted: i64,
    paid: i64,
    status: &str,
    invoice_id: Option<&str>,
    settled_at: Option<NaiveDateTime>,
) -> StoreResult<()> {
    let n = diesel::update(ch::charges.find(id))
        .set((
            ch::adjusted_fen.eq(adjusted),
            ch::paid_fen.eq(paid),
            ch::status.eq(status),
            ch::invoice_id.eq(invoice_id),
            ch::settled_at.eq(settled_at),
            ch::version.eq(ch::version + 1),
            ch::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

#[derive(Debug, Default)]
pub struct ChargeFilter<'a> {
    pub center: Option<&'a str>,
    pub customer_id: Option<String>,
    pub technician_id: Option<String>,
    pub status: Option<String>,
    pub terms: Option<String>,
    pub invoice_id: Option<String>,
}

pub fn list_charges(
    conn: &mut DbConn,
    f: &ChargeFilter,
    page: &PageReq,
) -> StoreResult<Page<Charge>> {
    let mut q = ch::charges.select(Charge::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(ch::center_id.eq(c.to_string()));
    }
    if let Some(c) = &f.customer_id {
        q = q.filter(ch::customer_id.eq(c.clone()));
    }
    if let Some(t) = &f.technician_id {
        q = q.filter(ch::technician_id.eq(t.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(ch::status.eq(s.clone()));
    }
    if let Some(t) = &f.terms {
        q = q.filter(ch::terms.eq(t.clone()));
    }
    if let Some(i) = &f.invoice_id {
        q = q.filter(ch::invoice_id.eq(i.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(ch::id.gt(after.clone()));
    }
    let rows = q.order(ch::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &Charge| &r.id))
}

/// A credit customer's open charges made between `from` and `to` (China days), for an
/// invoice: oldest first.
pub fn uninvoiced_credit_charges(
    conn: &mut DbConn,
    customer_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<Charge>> {
    Ok(ch::charges
        .filter(ch::customer_id.eq(customer_id))
        .filter(ch::terms.eq("credit"))
        .filter(ch::status.eq("open"))
        .filter(ch::day.between(from, to))
        .order(ch::id.asc())
        .select(Charge::as_select())
        .load(conn)?)
}

pub fn charges_of_invoice(conn: &mut DbConn, invoice_id: &str) -> StoreResult<Vec<Charge>> {
    Ok(ch::charges
        .filter(ch::invoice_id.eq(invoice_id))
        .order(ch::id.asc())
        .select(Charge::as_select())
        .load(conn)?)
}

// ---------------------------------------------------------------- adjustments

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::charge_adjustments)]
pub struct Adjustment {
    pub id: String,
    pub charge_id: String,
    /// discount, waiver, write_off
    pub kind: String,
    pub amount_fen: i64,
    pub reason: String,
    /// pending, approved, rejected
    pub status: String,
    pub requested_by: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<NaiveDateTime>,
    pub decision_note: Option<String>,
}

pub fn insert_adjustment(conn: &mut DbConn, row: &Adjustment) -> StoreResult<()> {
    diesel::insert_into(ca::charge_adjustments)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn adjustments(conn: &mut DbConn, charge_id: &str) -> StoreResult<Vec<Adjustment>> {
    Ok(ca::charge_adjustments
        .filter(ca::charge_id.eq(charge_id))
        .order(ca::id.asc())
        .select(Adjustment::as_select())
        .load(conn)?)
}

pub fn adjustment(conn: &mut DbConn, charge_id: &str, id: &str) -> StoreResult<Adjustment> {
    Ok(ca::charge_adjustments
        .filter(ca::charge_id.eq(charge_id))
        .filter(ca::id.eq(id))
        .select(Adjustment::as_select())
        .first(conn)?)
}

pub fn decide_adjustment(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    by: &str,
    note: Option<&str>,
) -> StoreResult<()> {
    let n = diesel::update(
        ca::charge_adjustments
            .filter(ca::id.eq(id))
            .filter(ca::status.eq("pending")),
    )
    .set((
        ca::status.eq(status),
        ca::decided_by.eq(by),
        ca::decided_at.eq(now()),
        ca::decision_note.eq(note),
    ))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            code: "adjustment_decided",
            detail: "the adjustment was already decided".into(),
        })
    }
}

// ---------------------------------------------------------------- payments

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::payments)]
pub struct Payment {
    pub id: String,
    pub center_id: String,
    /// collection or reversal
    pub kind: String,
    pub charge_id: Option<String>,
    pub order_id: Option<String>,
    pub invoice_id: Option<String>,
    pub customer_id: String,
    /// positive for a collection, negative for a reversal
    pub amount_fen: i64,
    /// cash, wechat, alipay, bank_transfer, pos
    pub method: String,
    pub payer_name: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub paid_at: NaiveDateTime,
    /// the China day of `paid_at`
    pub day: NaiveDate,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// whose money it is until handed over (a reversal: the original's collector)
    pub collector_id: String,
    /// collected on site by a technician, to be remitted to finance
    pub on_site: bool,
    pub receipt_no: Option<String>,
    pub reverses_id: Option<String>,
    pub reason: Option<String>,
    pub approved_by: Option<String>,
    pub notes: Option<String>,
    pub recorded_by: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

pub fn insert_payment(conn: &mut DbConn, row: &Payment) -> StoreResult<()> {
    diesel::insert_into(pay::payments)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn payment(conn: &mut DbConn, id: &str) -> StoreResult<Payment> {
    Ok(pay::payments
        .find(id)
        .select(Payment::as_select())
        .first(conn)?)
}

/// Every ledger entry of a charge (collections and reversals), oldest first.
pub fn payments_of_charge(conn: &mut DbConn, charge_id: &str) -> StoreResult<Vec<Payment>> {
    Ok(pay::payments
        .filter(pay::charge_id.eq(charge_id))
        .order(pay::id.asc())
        .select(Payment::as_select())
        .load(conn)?)
}

/// Every ledger entry of an invoice, oldest first.
pub fn payments_of_invoice(conn: &mut DbConn, invoice_id: &str) -> StoreResult<Vec<Payment>> {
    Ok(pay::payments
        .filter(pay::invoice_id.eq(invoice_id))
        .order(pay::id.asc())
        .select(Payment::as_select())
        .load(conn)?)
}

/// The reversal of a payment, if it has one.
/// The live (not reversed) collections on an order's charge, with the status of the
/// remittance each is in (`None`: in none), for the rule of when an order closes.
pub fn live_collections(
    conn: &mut DbConn,
    charge_id: &str,
) -> StoreResult<Vec<(Payment, Option<String>)>> {
    let mut out = Vec::new();
    for p in payments_of_charge(conn, charge_id)? {
        if p.kind != "collection" || reversal_of(conn, &p.id)?.is_some() {
            continue;
        }
        let status = match remittance_of(conn, &p.id)? {
            Some(r) => Some(remittance(conn, &r)?.status),
            None => None,
        };
        out.push((p, status));
    }
    Ok(out)
}

pub fn reversal_of(conn: &mut DbConn, id: &str) -> StoreResult<Option<Payment>> {
    Ok(pay::payments
        .filter(pay::reverses_id.eq(id))
        .select(Payment::as_select())
        .first(conn)
        .optional()?)
}

/// The remittance a payment was handed over in, if any.
pub fn remittance_of(conn: &mut DbConn, payment_id: &str) -> StoreResult<Option<String>> {
    Ok(ri::remittance_items
        .filter(ri::payment_id.eq(payment_id))
        .select(ri::remittance_id)
        .first(conn)
        .optional()?)
}

pub fn fapiao_of(conn: &mut DbConn, payment_id: &str) -> StoreResult<Option<String>> {
    Ok(pf::payment_fapiao
        .find(payment_id)
        .select(pf::fapiao_no)
        .first(conn)
        .optional()?)
}

pub fn add_fapiao(conn: &mut DbConn, payment_id: &str, no: &str, by: &str) -> StoreResult<()> {
    diesel::insert_into(pf::payment_fapiao)
        .values((
            pf::payment_id.eq(payment_id),
            pf::fapiao_no.eq(no),
            pf::recorded_by.eq(by),
            pf::recorded_at.eq(now()),
        ))
        .execute(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate { .. } => StoreError::Conflict {
                code: "fapiao_recorded",
                detail: "this payment already has a fapiao number".into(),
            },
            other => other,
        })?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct PaymentFilter {
    pub center: Option<String>,
    pub collector_id: Option<String>,
    pub order_id: Option<String>,
    pub invoice_id: Option<String>,
    pub customer_id: Option<String>,
    pub method: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

pub fn list_payments(
    conn: &mut DbConn,
    f: &PaymentFilter,
    page: &PageReq,
) -> StoreResult<Page<Payment>> {
    let mut q = pay::payments.select(Payment::as_select()).into_boxed();
    if let Some(c) = &f.center {
        q = q.filter(pay::center_id.eq(c.clone()));
    }
    if let Some(c) = &f.collector_id {
        q = q.filter(pay::collector_id.eq(c.clone()));
    }
    if let Some(o) = &f.order_id {
        q = q.filter(pay::order_id.eq(o.clone()));
    }
    if let Some(i) = &f.invoice_id {
        q = q.filter(pay::invoice_id.eq(i.clone()));
    }
    if let Some(c) = &f.customer_id {
        q = q.filter(pay::customer_id.eq(c.clone()));
    }
    if let Some(m) = &f.method {
        q = q.filter(pay::method.eq(m.clone()));
    }
    if let Some(d) = f.from {
        q = q.filter(pay::day.ge(d));
    }
    if let Some(d) = f.to {
        q = q.filter(pay::day.le(d));
    }
    if let Some(after) = &page.after {
        q = q.filter(pay::id.gt(after.clone()));
    }
    let rows = q.order(pay::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &Payment| &r.id))
}

/// A technician's on-site collections not yet handed over and not reversed: what they can
/// remit. Oldest first.
pub fn unremitted(conn: &mut DbConn, collector_id: &str) -> StoreResult<Vec<Payment>> {
    let rows: Vec<Payment> = pay::payments
        .filter(pay::collector_id.eq(collector_id))
        .filter(pay::on_site.eq(true))
        .filter(pay::kind.eq("collection"))
        .filter(diesel::dsl::not(
            pay::id.eq_any(ri::remittance_items.select(ri::payment_id)),
        ))
        .order(pay::id.asc())
        .select(Payment::as_select())
        .load(conn)?;
    let mut reversed = std::collections::HashSet::new();
    for chunk in rows.chunks(super::IN_CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|p| p.id.as_str()).collect();
        let r: Vec<Option<String>> = pay::payments
            .filter(pay::reverses_id.eq_any(ids))
            .select(pay::reverses_id)
            .load(conn)?;
        reversed.extend(r.into_iter().flatten());
    }
    Ok(rows
        .into_iter()
        .filter(|p| !reversed.contains(&p.id))
        .collect())
}

/// What a technician collected on site (net of reversals) and what they handed over, all
/// time: (collected, remitted).
pub fn hand_totals(conn: &mut DbConn, technician_id: &str) -> StoreResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Totals {
        #[diesel(sql_type = BigInt)]
        collected: i64,
        #[diesel(sql_type = BigInt)]
        remitted: i64,
    }
    let sql = "SELECT \
        CAST(COALESCE((SELECT SUM(amount_fen) FROM payments \
            WHERE collector_id = ? AND on_site), 0) AS BIGINT) AS collected, \
        CAST(COALESCE((SELECT SUM(expected_fen) FROM remittances \
            WHERE technician_id = ?), 0) AS BIGINT) AS remitted";
    let binds = [
        Bind::Text(technician_id.to_string()),
        Bind::Text(technician_id.to_string()),
    ];
    let t: Totals = load_by_name(conn, sql, &binds)?
        .pop()
        .ok_or(StoreError::NotFound)?;
    Ok((t.collected, t.remitted))
}

/// `?` placeholders as PostgreSQL's `$1, $2, …` (the SQL here has no other `?`).
fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

// ---------------------------------------------------------------- remittances

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::remittances)]
pub struct Remittance {
    pub id: String,
    pub center_id: String,
    pub technician_id: String,
    /// the sum of the payments handed over
    pub expected_fen: i64,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: NaiveDateTime,
    pub submitted_day: NaiveDate,
    /// submitted, confirmed
    pub status: String,
    /// what finance counted
    pub received_fen: Option<i64>,
    pub confirmed_by: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<NaiveDateTime>,
    pub confirmed_day: Option<NaiveDate>,
    pub notes: Option<String>,
    pub version: i32,
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
}

pub fn insert_remittance(
    conn: &mut DbConn,
    row: &Remittance,
    payment_ids: &[String],
) -> StoreResult<()> {
    diesel::insert_into(rm::remittances)
        .values(row)
        .execute(conn)?;
    super::live_events::changed(super::live_events::Kind::Remittance, &row.id, "create");
    for id in payment_ids {
        diesel::insert_into(ri::remittance_items)
            .values((ri::remittance_id.eq(&row.id), ri::payment_id.eq(id)))
            .execute(conn)
            .map_err(|e| match StoreError::from(e) {
                StoreError::Duplicate { .. } => StoreError::Conflict {
                    code: "payment_remitted",
                    detail: format!("payment {id} was already handed over"),
                },
                other => other,
            })?;
    }
    Ok(())
}

pub fn remittance(conn: &mut DbConn, id: &str) -> StoreResult<Remittance> {
    Ok(rm::remittances
        .find(id)
        .select(Remittance::as_select())
        .first(conn)?)
}

pub fn remittance_payments(conn: &mut DbConn, id: &str) -> StoreResult<Vec<Payment>> {
    Ok(pay::payments
        .inner_join(ri::remittance_items)
        .filter(ri::remittance_id.eq(id))
        .order(pay::id.asc())
        .select(Payment::as_select())
        .load(conn)?)
}

pub fn confirm_remittance(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    received: i64,
    by: &str,
    notes: Option<&str>,
) -> StoreResult<()> {
    let at = now();
    let patch = (
        rm::status.eq("confirmed"),
        rm::received_fen.eq(Some(received)),
        rm::confirmed_by.eq(Some(by)),
        rm::confirmed_at.eq(Some(at)),
        rm::confirmed_day.eq(Some(crate::domain::china_day(at))),
        rm::notes.eq(notes),
    );
    super::live_events::changed(super::live_events::Kind::Remittance, id, "confirm");
    versioned_update!(conn, remittances, id, id, version, patch)
}

#[derive(Debug, Default)]
pub struct RemittanceFilter<'a> {
    pub center: Option<&'a str>,
    pub technician_id: Option<String>,
    pub status: Option<String>,
}

pub fn list_remittances(
    conn: &mut DbConn,
    f: &RemittanceFilter,
    page: &PageReq,
) -> StoreResult<Page<Remittance>> {
    let mut q = rm::remittances.select(Remittance::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(rm::center_id.eq(c.to_string()));
    }
    if let Some(t) = &f.technician_id {
        q = q.filter(rm::technician_id.eq(t.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(rm::status.eq(s.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(rm::id.gt(after.clone()));
    }
    let rows = q.order(rm::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &Remittance| &r.id))
}

// ---------------------------------------------------------------- discrepancies

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::discrepancies)]
pub struct Discrepancy {
    pub id: String,
    pub remittance_id: String,
    pub center_id: String,
    pub technician_id: String,
    /// received − expected: negative is short, positive over
    pub amount_fen: i64,
    /// open, resolved
    pub status: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    pub resolved_by: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<NaiveDateTime>,
    pub resolution: Option<String>,
    pub version: i32,
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
}

pub fn insert_discrepancy(conn: &mut DbConn, row: &Discrepancy) -> StoreResult<()> {
    diesel::insert_into(di::discrepancies)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn discrepancy(conn: &mut DbConn, id: &str) -> StoreResult<Discrepancy> {
    Ok(di::discrepancies
        .find(id)
        .select(Discrepancy::as_select())
        .first(conn)?)
}

pub fn discrepancy_of(conn: &mut DbConn, remittance_id: &str) -> StoreResult<Option<Discrepancy>> {
    Ok(di::discrepancies
        .filter(di::remittance_id.eq(remittance_id))
        .select(Discrepancy::as_select())
        .first(conn)
        .optional()?)
}

pub fn resolve_discrepancy(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    by: &str,
    resolution: &str,
) -> StoreResult<()> {
    let patch = (
        di::status.eq("resolved"),
        di::resolved_by.eq(Some(by)),
        di::resolved_at.eq(Some(now())),
        di::resolution.eq(Some(resolution)),
    );
    versioned_update!(conn, discrepancies, id, id, version, patch)
}

/// How many discrepancies are open, in a center (or all) and for a technician (or all).
pub fn count_open_discrepancies(
    conn: &mut DbConn,
    center: Option<&str>,
    technician_id: Option<&str>,
) -> StoreResult<i64> {
    let mut q = di::discrepancies
        .filter(di::status.eq("open"))
        .count()
        .into_boxed();
    if let Some(c) = center {
        q = q.filter(di::center_id.eq(c.to_string()));
    }
    if let Some(t) = technician_id {
        q = q.filter(di::technician_id.eq(t.to_string()));
    }
    Ok(q.get_result(conn)?)
}

pub fn list_discrepancies(
    conn: &mut DbConn,
    center: Option<&str>,
    status: Option<&str>,
    technician_id: Option<&str>,
    page: &PageReq,
) -> StoreResult<Page<Discrepancy>> {
    let mut q = di::discrepancies
        .select(Discrepancy::as_select())
        .into_boxed();
    if let Some(c) = center {
        q = q.filter(di::center_id.eq(c.to_string()));
    }
    if let Some(s) = status {
        q = q.filter(di::status.eq(s.to_string()));
    }
    if let Some(t) = technician_id {
        q = q.filter(di::technician_id.eq(t.to_string()));
    }
    if let Some(after) = &page.after {
        q = q.filter(di::id.gt(after.clone()));
    }
    let rows = q.order(di::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &Discrepancy| &r.id))
}

// ---------------------------------------------------------------- invoices

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::invoices)]
pub struct Invoice {
    pub id: String,
    /// ZD-ZZ-2026-000012
    pub number: String,
    pub center_id: String,
    pub customer_id: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub total_fen: i64,
    pub paid_fen: i64,
    pub created_by: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    pub version: i32,
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
}

pub fn insert_invoice(conn: &mut DbConn, row: &Invoice) -> StoreResult<()> {
    diesel::insert_into(inv::invoices)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn invoice(conn: &mut DbConn, id: &str) -> StoreResult<Invoice> {
    Ok(inv::invoices
        .find(id)
        .select(Invoice::as_select())
        .first(conn)?)
}

pub fn lock_invoice(conn: &mut DbConn, id: &str) -> StoreResult<()> {
    if let DbConn::Pg(c) = conn {
        inv::invoices
            .find(id)
            .select(inv::id)
            .for_update()
            .first::<String>(c)
            .optional()?;
    }
    Ok(())
}

pub fn set_invoice_paid(conn: &mut DbConn, id: &str, paid: i64) -> StoreResult<()> {
    diesel::update(inv::invoices.find(id))
        .set((
            inv::paid_fen.eq(paid),
            inv::version.eq(inv::version + 1),
            inv::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct InvoiceFilter<'a> {
    pub center: Option<&'a str>,
    pub customer_id: Option<String>,
    /// only invoices with a balance left
    pub open: bool,
}

pub fn list_invoices(
    conn: &mut DbConn,
    f: &InvoiceFilter,
    page: &PageReq,
) -> StoreResult<Page<Invoice>> {
    let mut q = inv::invoices.select(Invoice::as_select()).into_boxed();
    if let Some(c) = f.center {
        q = q.filter(inv::center_id.eq(c.to_string()));
    }
    if let Some(c) = &f.customer_id {
        q = q.filter(inv::customer_id.eq(c.clone()));
    }
    if f.open {
        q = q.filter(inv::paid_fen.lt(inv::total_fen));
    }
    if let Some(after) = &page.after {
        q = q.filter(inv::id.gt(after.clone()));
    }
    let rows = q.order(inv::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &Invoice| &r.id))
}

/// Every invoice with a balance, for aging: oldest first.
pub fn open_invoices(conn: &mut DbConn, center: Option<&str>) -> StoreResult<Vec<Invoice>> {
    let mut q = inv::invoices
        .filter(inv::paid_fen.lt(inv::total_fen))
        .select(Invoice::as_select())
        .into_boxed();
    if let Some(c) = center {
        q = q.filter(inv::center_id.eq(c.to_string()));
    }
    Ok(q.order(inv::id.asc()).load(conn)?)
}

// ---------------------------------------------------------------- reconciliation

/// One row of the reconciliation report: one technician's money on one China day.
#[derive(Debug, Clone, QueryableByName, Serialize, utoipa::ToSchema)]
pub struct ReconRow {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub center_id: String,
    #[diesel(sql_type = Text)]
    pub technician_id: String,
    /// charges made that day on the technician's cash-terms orders, less adjustments
    #[diesel(sql_type = BigInt)]
    pub owed_fen: i64,
    /// collected on site that day, net of reversals
    #[diesel(sql_type = BigInt)]
    pub collected_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub cash_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub wechat_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub alipay_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub bank_transfer_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub pos_fen: i64,
    /// handed to finance that day (what the receipts say)
    #[diesel(sql_type = BigInt)]
    pub remitted_fen: i64,
    /// counted by finance that day
    #[diesel(sql_type = BigInt)]
    pub confirmed_fen: i64,
    /// counted − handed over, of the remittances confirmed that day
    #[diesel(sql_type = BigInt)]
    pub discrepancy_fen: i64,
}

/// Filters of the reconciliation report (days inclusive).
#[derive(Debug, Clone)]
pub struct ReconFilter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub center: Option<String>,
    pub technician_id: Option<String>,
}

const RECON_SQL: &str = "
SELECT day, center_id, technician_id,
    CAST(SUM(owed) AS BIGINT) AS owed_fen,
    CAST(SUM(collected) AS BIGINT) AS collected_fen,
    CAST(SUM(cash) AS BIGINT) AS cash_fen,
    CAST(SUM(wechat) AS BIGINT) AS wechat_fen,
    CAST(SUM(alipay) AS BIGINT) AS alipay_fen,
    CAST(SUM(bank) AS BIGINT) AS bank_transfer_fen,
    CAST(SUM(pos) AS BIGINT) AS pos_fen,
    CAST(SUM(remitted) AS BIGINT) AS remitted_fen,
    CAST(SUM(confirmed) AS BIGINT) AS confirmed_fen,
    CAST(SUM(discrepancy) AS BIGINT) AS discrepancy_fen
FROM (
    SELECT day, center_id, technician_id,
        SUM(amount_fen - adjusted_fen) AS owed, 0 AS collected, 0 AS cash, 0 AS wechat,
        0 AS alipay, 0 AS bank, 0 AS pos, 0 AS remitted, 0 AS confirmed, 0 AS discrepancy
    FROM charges
    WHERE terms = 'cash' AND technician_id IS NOT NULL AND day >= ? AND day <= ? {charges}
    GROUP BY day, center_id, technician_id
  UNION ALL
    SELECT day, center_id, collector_id, 0, SUM(amount_fen),
        SUM(CASE WHEN method = 'cash' THEN amount_fen ELSE 0 END),
        SUM(CASE WHEN method = 'wechat' THEN amount_fen ELSE 0 END),
        SUM(CASE WHEN method = 'alipay' THEN amount_fen ELSE 0 END),
        SUM(CASE WHEN method = 'bank_transfer' THEN amount_fen ELSE 0 END),
        SUM(CASE WHEN method = 'pos' THEN amount_fen ELSE 0 END),
        0, 0, 0
    FROM payments
    WHERE on_site AND day >= ? AND day <= ? {payments}
    GROUP BY day, center_id, collector_id
  UNION ALL
    SELECT submitted_day, center_id, technician_id, 0, 0, 0, 0, 0, 0, 0,
        SUM(expected_fen), 0, 0
    FROM remittances
    WHERE submitted_day >= ? AND submitted_day <= ? {remittances}
    GROUP BY submitted_day, center_id, technician_id
  UNION ALL
    SELECT confirmed_day, center_id, technician_id, 0, 0, 0, 0, 0, 0, 0, 0,
        SUM(received_fen), SUM(received_fen - expected_fen)
    FROM remittances
    WHERE status = 'confirmed' AND confirmed_day >= ? AND confirmed_day <= ? {remittances}
    GROUP BY confirmed_day, center_id, technician_id
) t
GROUP BY day, center_id, technician_id
ORDER BY day, center_id, technician_id";

/// Binds of a report query, in placeholder order.
pub(crate) enum Bind {
    Date(NaiveDate),
    Text(String),
    Time(chrono::NaiveDateTime),
}

/// Runs `sql` (with `?` placeholders) with `binds` on either backend.
pub(crate) fn load_by_name<T>(conn: &mut DbConn, sql: &str, binds: &[Bind]) -> StoreResult<Vec<T>>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    match conn {
        DbConn::Sqlite(c) => {
            let mut q = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
            for b in binds {
                q = match b {
                    Bind::Date(d) => q.bind::<Date, _>(*d),
                    Bind::Text(s) => q.bind::<Text, _>(s.clone()),
                    Bind::Time(t) => q.bind::<diesel::sql_types::Timestamp, _>(*t),
                };
            }
            Ok(q.load(c)?)
        }
        DbConn::Pg(c) => {
            let mut q = diesel::sql_query(pg_placeholders(sql)).into_boxed::<diesel::pg::Pg>();
            for b in binds {
                q = match b {
                    Bind::Date(d) => q.bind::<Date, _>(*d),
                    Bind::Text(s) => q.bind::<Text, _>(s.clone()),
                    Bind::Time(t) => q.bind::<diesel::sql_types::Timestamp, _>(*t),
                };
            }
            Ok(q.load(c)?)
        }
    }
}

/// The reconciliation report's rows, by day, center and technician.
pub fn reconciliation(conn: &mut DbConn, f: &ReconFilter) -> StoreResult<Vec<ReconRow>> {
    let mut extra_binds = Vec::new();
    let cond = |col: &str| {
        let mut s = String::new();
        if f.center.is_some() {
            s.push_str(" AND center_id = ?");
        }
        if f.technician_id.is_some() {
            s.push_str(&format!(" AND {col} = ?"));
        }
        s
    };
    let sql = RECON_SQL
        .replace("{charges}", &cond("technician_id"))
        .replace("{payments}", &cond("collector_id"))
        .replace("{remittances}", &cond("technician_id"));
    for _ in 0..4 {
        extra_binds.push(Bind::Date(f.from));
        extra_binds.push(Bind::Date(f.to));
        if let Some(c) = &f.center {
            extra_binds.push(Bind::Text(c.clone()));
        }
        if let Some(t) = &f.technician_id {
            extra_binds.push(Bind::Text(t.clone()));
        }
    }
    load_by_name(conn, &sql, &extra_binds)
}

/// Each technician's cash in hand at the start of `day`: collected − remitted before it.
pub fn hand_before(
    conn: &mut DbConn,
    day: NaiveDate,
    center: Option<&str>,
) -> StoreResult<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        technician_id: String,
        #[diesel(sql_type = BigInt)]
        held: i64,
    }
    let c = if center.is_some() {
        " AND center_id = ?"
    } else {
        ""
    };
    let sql = format!(
        "SELECT technician_id, CAST(SUM(amount) AS BIGINT) AS held FROM (
            SELECT collector_id AS technician_id, amount_fen AS amount FROM payments
            WHERE on_site AND day < ?{c}
          UNION ALL
            SELECT technician_id, -expected_fen FROM remittances
            WHERE submitted_day < ?{c}
        ) t GROUP BY technician_id"
    );
    let mut binds = Vec::new();
    for _ in 0..2 {
        binds.push(Bind::Date(day));
        if let Some(c) = center {
            binds.push(Bind::Text(c.to_string()));
        }
    }
    let rows: Vec<Row> = load_by_name(conn, &sql, &binds)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.technician_id, r.held))
        .collect())
}

// ---------------------------------------------------------------- ledger export

/// One ledger entry with the names an export shows.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub receipt_no: Option<String>,
    pub kind: String,
    pub day: NaiveDate,
    pub paid_at: NaiveDateTime,
    pub center_name: String,
    pub order_number: Option<String>,
    pub invoice_number: Option<String>,
    pub customer_name: String,
    pub payer_name: String,
    pub method: String,
    pub amount_fen: i64,
    pub collector_name: String,
    pub reverses_receipt: Option<String>,
    pub reason: Option<String>,
    pub fapiao_no: Option<String>,
    pub remittance_id: Option<String>,
}

/// A ledger entry with the ids of what it names.
#[derive(QueryableByName)]
struct LedgerRaw {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    receipt_no: Option<String>,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    paid_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    center_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    order_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    invoice_id: Option<String>,
    #[diesel(sql_type = Text)]
    customer_id: String,
    #[diesel(sql_type = Text)]
    payer_name: String,
    #[diesel(sql_type = Text)]
    method: String,
    #[diesel(sql_type = BigInt)]
    amount_fen: i64,
    #[diesel(sql_type = Text)]
    collector_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    reverses_receipt: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    reason: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    fapiao_no: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    remittance_id: Option<String>,
}

fn distinct<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The ledger entries of `f` with names, oldest first, at most `cap` of them. The names
/// (centers, customers, collectors, order and invoice numbers) are looked up once per
/// distinct id rather than joined per row.
pub fn ledger_rows(conn: &mut DbConn, f: &PaymentFilter, cap: i64) -> StoreResult<Vec<LedgerRow>> {
    let mut sql = String::from(
        "SELECT p.receipt_no, p.kind, p.day, p.paid_at, p.center_id, p.order_id, p.invoice_id,
            p.customer_id, p.payer_name, p.method, p.amount_fen, p.collector_id,
            orig.receipt_no AS reverses_receipt, p.reason, f.fapiao_no, ri.remittance_id
        FROM payments p
        LEFT JOIN payments orig ON orig.id = p.reverses_id
        LEFT JOIN payment_fapiao f ON f.payment_id = p.id
        LEFT JOIN remittance_items ri ON ri.payment_id = COALESCE(p.reverses_id, p.id)
        WHERE 1 = 1",
    );
    let mut binds = Vec::new();
    let mut text = |sql: &mut String, col: &str, v: &Option<String>| {
        if let Some(v) = v {
            sql.push_str(&format!(" AND p.{col} = ?"));
            binds.push(Bind::Text(v.clone()));
        }
    };
    text(&mut sql, "center_id", &f.center);
    text(&mut sql, "collector_id", &f.collector_id);
    text(&mut sql, "order_id", &f.order_id);
    text(&mut sql, "invoice_id", &f.invoice_id);
    text(&mut sql, "customer_id", &f.customer_id);
    text(&mut sql, "method", &f.method);
    if let Some(d) = f.from {
        sql.push_str(" AND p.day >= ?");
        binds.push(Bind::Date(d));
    }
    if let Some(d) = f.to {
        sql.push_str(" AND p.day <= ?");
        binds.push(Bind::Date(d));
    }
    sql.push_str(&format!(" ORDER BY p.id LIMIT {}", cap.max(0)));
    let raw: Vec<LedgerRaw> = load_by_name(conn, &sql, &binds)?;
    let centers = names_of!(
        conn,
        service_centers,
        name,
        distinct(raw.iter().map(|r| r.center_id.as_str()))
    );
    let customers = names_of!(
        conn,
        customers,
        name,
        distinct(raw.iter().map(|r| r.customer_id.as_str()))
    );
    let users = names_of!(
        conn,
        users,
        display_name,
        distinct(raw.iter().map(|r| r.collector_id.as_str()))
    );
    let orders = names_of!(
        conn,
        work_orders,
        number,
        distinct(raw.iter().filter_map(|r| r.order_id.as_deref()))
    );
    let invoices = names_of!(
        conn,
        invoices,
        number,
        distinct(raw.iter().filter_map(|r| r.invoice_id.as_deref()))
    );
    let name = |m: &std::collections::HashMap<String, String>, id: &str| {
        m.get(id).cloned().unwrap_or_default()
    };
    Ok(raw
        .into_iter()
        .map(|r| LedgerRow {
            center_name: name(&centers, &r.center_id),
            customer_name: name(&customers, &r.customer_id),
            collector_name: name(&users, &r.collector_id),
            order_number: r.order_id.as_deref().map(|id| name(&orders, id)),
            invoice_number: r.invoice_id.as_deref().map(|id| name(&invoices, id)),
            receipt_no: r.receipt_no,
            kind: r.kind,
            day: r.day,
            paid_at: r.paid_at,
            payer_name: r.payer_name,
            method: r.method,
            amount_fen: r.amount_fen,
            reverses_receipt: r.reverses_receipt,
            reason: r.reason,
            fapiao_no: r.fapiao_no,
            remittance_id: r.remittance_id,
        })
        .collect())
}

/// A customer's latest payments (its archive), newest first.
pub fn customer_payments(
    conn: &mut DbConn,
    customer_id: &str,
    limit: i64,
) -> StoreResult<Vec<Payment>> {
    Ok(pay::payments
        .filter(pay::customer_id.eq(customer_id))
        .order(pay::id.desc())
        .limit(limit)
        .select(Payment::as_select())
        .load(conn)?)
}

/// A customer's latest invoices (its archive), newest first.
pub fn customer_invoices(
    conn: &mut DbConn,
    customer_id: &str,
    limit: i64,
) -> StoreResult<Vec<Invoice>> {
    Ok(inv::invoices
        .filter(inv::customer_id.eq(customer_id))
        .order(inv::id.desc())
        .limit(limit)
        .select(Invoice::as_select())
        .load(conn)?)
}
