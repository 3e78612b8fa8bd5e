//! Money: an order's charge and its adjustments, collections on site with receipts, the
//! ledger and its reversals, remittances to finance and their discrepancies, and credit
//! customers' invoices. The rules are `domain::ledger`'s; this module parses, authorizes,
//! and stores.
//!
//! Who: technicians collect on the orders they are on and hand over their own payments;
//! finance sees its center's money, confirms remittances, records fapiao numbers and
//! invoice payments; managers approve adjustments and reversals and resolve discrepancies.
//! Agents handle no money. Anything outside the caller's scope answers 404.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::idempotency::{Idempotency, answer};
use super::json::{ClientTime, Json, JsonOrEmpty};
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, if_match, in_tx, ok_etag, page_json, scoped_page, with_db,
};
use crate::domain::access::Role;
use crate::domain::china_day;
use crate::domain::ledger::{
    self, AdjustmentDecision, AdjustmentKind, AdjustmentRefusal, AdjustmentStatus, ChargeState,
    ChargeStatus, LedgerRefusal, PaymentMethod, Requester, ReversalCheck,
};
use crate::domain::money::Fen;
use crate::domain::registry::PaymentTerms;
use crate::store::money::{
    self as store, Adjustment, Charge, ChargeFilter, Discrepancy, Invoice, InvoiceFilter, Payment,
    PaymentFilter, Remittance, RemittanceFilter,
};
use crate::store::orders::{self as orders};
use crate::store::{DbConn, centers, customers, new_id, now, users};

/// A center without settings: discounts and waivers up to ¥50.00 need no approval.
pub const DEFAULT_ADJUSTMENT_THRESHOLD: Fen = Fen(5000);
/// The largest single amount accepted anywhere (¥10,000,000.00).
const AMOUNT_MAX: i64 = 1_000_000_000;
/// How long after the fact a payment may be recorded (a phone offline for a weekend).
const BACKDATE_HOURS: i64 = 72;

// ---------------------------------------------------------------- who may

fn deny_unless(ok: bool) -> Result<(), ApiError> {
    if ok { Ok(()) } else { Err(ApiError::Forbidden) }
}

/// Roles that see money at all (technicians only their own).
pub(crate) fn money_reader(caller: &Caller) -> Result<(), ApiError> {
    deny_unless(matches!(
        caller.role,
        Role::Admin | Role::Manager | Role::Finance | Role::Technician
    ))
}

/// Roles that see a center's money as a whole.
pub(crate) fn office(caller: &Caller) -> Result<(), ApiError> {
    deny_unless(matches!(
        caller.role,
        Role::Admin | Role::Manager | Role::Finance
    ))
}

/// Callers who may approve anything at all (of their own center); the object's center is
/// checked once it is loaded.
fn approver(caller: &Caller) -> Result<(), ApiError> {
    Ok(caller.approves(&caller.center_id)?)
}

fn finance(caller: &Caller) -> Result<(), ApiError> {
    deny_unless(matches!(caller.role, Role::Admin | Role::Finance))
}

/// A payment the caller may see: their center's; a technician only their own.
fn see_payment(c: &mut DbConn, caller: &Caller, id: &str) -> Result<Payment, ApiError> {
    let p = store::payment(c, id)?;
    caller.see(&p.center_id)?;
    if caller.role == Role::Technician && p.collector_id != caller.id {
        return Err(ApiError::NotFound);
    }
    Ok(p)
}

/// A charge the caller may see: their center's; a technician only on orders they are on.
fn see_charge(c: &mut DbConn, caller: &Caller, id: &str) -> Result<Charge, ApiError> {
    let ch = store::charge(c, id)?;
    caller.see(&ch.center_id)?;
    if caller.role == Role::Technician && !orders::is_on_order(c, &ch.order_id, &caller.id)? {
        return Err(ApiError::NotFound);
    }
    Ok(ch)
}

fn refused(r: LedgerRefusal) -> ApiError {
    if r.is_invalid_input() {
        return ApiError::field("amount_fen", r.code(), r.to_string());
    }
    let mut extra = serde_json::Map::new();
    if let LedgerRefusal::Overpayment { due } = r {
        extra.insert("due_fen".into(), due.as_i64().into());
    }
    ApiError::Conflict {
        code: r.code().to_string(),
        detail: r.to_string(),
        extra: (!extra.is_empty()).then_some(extra),
    }
}

fn adjustment_refused(r: AdjustmentRefusal) -> ApiError {
    match r {
        AdjustmentRefusal::NotPositive | AdjustmentRefusal::MoreThanDue { .. } => {
            ApiError::field("amount_fen", r.code(), r.to_string())
        }
        _ => ApiError::conflict(r.code(), r.to_string()),
    }
}

fn amount(check: &mut Check, field: &str, fen: i64) -> Fen {
    if fen <= 0 {
        check.add(
            field,
            "amount_not_positive",
            "must be more than zero (in fen)",
        );
    } else if fen > AMOUNT_MAX {
        check.add(field, "too_large", format!("at most {AMOUNT_MAX} fen"));
    }
    Fen(fen)
}

fn method(check: &mut Check, value: &str) -> PaymentMethod {
    check
        .one_of(
            "method",
            value,
            PaymentMethod::parse,
            &PaymentMethod::names(),
        )
        .unwrap_or(PaymentMethod::Cash)
}

/// When the money changed hands: given (offline phones send it later) or now; not in the
/// future, not more than three days back.
fn paid_at(check: &mut Check, t: Option<ClientTime>) -> chrono::NaiveDateTime {
    let at = now();
    let Some(t) = t else { return at };
    let t = crate::store::micros(t.utc().naive_utc());
    if t > at + Duration::minutes(5) {
        check.add("paid_at", "in_future", "must not be in the future");
    } else if t < at - Duration::hours(BACKDATE_HOURS) {
        check.add(
            "paid_at",
            "too_old",
            format!("at most {BACKDATE_HOURS} hours ago"),
        );
    }
    t
}

// ---------------------------------------------------------------- charges

/// The charge state of a stored charge, with what its approved adjustments were.
fn state_of(ch: &Charge, adjustments: &[Adjustment]) -> ChargeState {
    ChargeState {
        amount: Fen(ch.amount_fen),
        adjusted: Fen(ch.adjusted_fen),
        paid: Fen(ch.paid_fen),
        invoiced: ch.invoice_id.is_some(),
        written_off: adjustments.iter().any(|a| {
            a.kind == AdjustmentKind::WriteOff.as_str()
                && a.status == AdjustmentStatus::Approved.as_str()
        }),
    }
}

/// Stores a charge's new money and the status that follows from it.
fn save_state(
    c: &mut DbConn,
    ch: &Charge,
    st: &ChargeState,
    invoice_id: Option<&str>,
) -> Result<ChargeStatus, ApiError> {
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

fn charge_view(c: &mut DbConn, charge: Charge) -> Result<ChargeView, ApiError> {
    let adjustments = store::adjustments(c, &charge.id)?;
    let payments = store::payments_of_charge(c, &charge.id)?;
    Ok(ChargeView {
        due_fen: state_of(&charge, &adjustments).due().as_i64(),
        charge,
        adjustments,
        payments,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChargeQuery {
    pub center_id: Option<String>,
    pub customer_id: Option<String>,
    pub technician_id: Option<String>,
    /// no_charge, open, paid, invoiced, waived, written_off
    pub status: Option<String>,
    /// cash, credit
    pub terms: Option<String>,
}

/// Charges: what customers owe on completed orders (finance, managers, admins).
#[utoipa::path(tag = "money", params(ChargeQuery, PageParams), responses((status = 200)), security(("bearer" = [])))]
#[get("/charges")]
pub async fn list_charges(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ChargeQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    office(&caller)?;
    let q = q.into_inner();
    let mut check = Check::new();
    if let Some(s) = &q.status {
        check.one_of("status", s, ChargeStatus::parse, &ChargeStatus::names());
    }
    if let Some(t) = &q.terms {
        check.one_of("terms", t, PaymentTerms::parse, &PaymentTerms::names());
    }
    check.finish()?;
    let center_id = q.center_id.clone();
    scoped_page(
        &state.pool,
        &caller,
        center_id,
        &page,
        move |c, center, page| {
            let filter = ChargeFilter {
                center: center.as_deref(),
                customer_id: q.customer_id,
                technician_id: q.technician_id,
                status: q.status,
                terms: q.terms,
                invoice_id: None,
            };
            Ok(store::list_charges(c, &filter, &page)?)
        },
    )
    .await
}

/// One charge with its adjustments and ledger entries.
#[utoipa::path(tag = "money", responses((status = 200, body = ChargeView), (status = 404)), security(("bearer" = [])))]
#[get("/charges/{id}")]
pub async fn get_charge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    money_reader(&caller)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        let ch = see_charge(c, &caller, &id)?;
        charge_view(c, ch)
    })
    .await?;
    Ok(ok_etag(view.charge.version, &view))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentIn {
    /// discount, waiver, write_off
    pub kind: String,
    /// a discount's amount; a waiver or write-off takes all that is due
    pub amount_fen: Option<i64>,
    pub reason: String,
}

/// Ask for a discount (减免), waiver or write-off. Asked by finance, up to the center's
/// threshold a discount or waiver counts at once (201, `approved`); above it, and every
/// write-off, it waits for a manager (201, `pending`) and the order cannot close until it
/// is decided. Every discount or waiver a technician asks waits for a manager, however
/// small. A manager's own request is approved at once.
#[utoipa::path(tag = "money", request_body = AdjustmentIn, responses((status = 201, body = ChargeView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/charges/{id}/adjustments")]
pub async fn request_adjustment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<AdjustmentIn>,
) -> Result<HttpResponse, ApiError> {
    money_reader(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let kind = check.one_of(
        "kind",
        &b.kind,
        AdjustmentKind::parse,
        &AdjustmentKind::names(),
    );
    let reason = check.text("reason", &b.reason, 500);
    if let Some(a) = b.amount_fen {
        amount(&mut check, "amount_fen", a);
    }
    check.finish()?;
    let kind = kind.unwrap_or(AdjustmentKind::Discount);
    if kind == AdjustmentKind::WriteOff && caller.role == Role::Technician {
        return Err(ApiError::Forbidden);
    }
    let view = in_tx(&state.pool, caller.session(), move |c| {
        store::lock_charge(c, &id)?;
        let ch = see_charge(c, &caller, &id)?;
        let adjustments = store::adjustments(c, &ch.id)?;
        if adjustments
            .iter()
            .any(|a| a.status == AdjustmentStatus::Pending.as_str())
        {
            return Err(adjustment_refused(AdjustmentRefusal::PendingExists));
        }
        let mut st = state_of(&ch, &adjustments);
        let fen = ledger::adjustment_amount(kind, b.amount_fen.map(Fen), &st)
            .map_err(adjustment_refused)?;
        let threshold = Fen(store::adjustment_threshold(
            c,
            &ch.center_id,
            DEFAULT_ADJUSTMENT_THRESHOLD.as_i64(),
        )?);
        let who = match caller.role {
            Role::Admin | Role::Manager => Requester::Approver,
            Role::Technician => Requester::Technician,
            _ => Requester::Other,
        };
        let decision = ledger::adjustment_decision(kind, fen, st.adjusted, threshold, who);
        let at = now();
        let approved = decision == AdjustmentDecision::Approved;
        store::insert_adjustment(
            c,
            &Adjustment {
                id: new_id(),
                charge_id: ch.id.clone(),
                kind: kind.as_str().into(),
                amount_fen: fen.as_i64(),
                reason,
                status: if approved {
                    AdjustmentStatus::Approved
                } else {
                    AdjustmentStatus::Pending
                }
                .as_str()
                .into(),
                requested_by: caller.id.clone(),
                requested_at: at,
                decided_by: approved.then(|| caller.id.clone()),
                decided_at: approved.then_some(at),
                decision_note: (approved && who == Requester::Other)
                    .then(|| "within the center's threshold".to_string()),
            },
        )?;
        if approved {
            st.adjusted = Fen(st.adjusted.as_i64() + fen.as_i64());
            st.written_off |= kind == AdjustmentKind::WriteOff;
            save_state(c, &ch, &st, None)?;
        }
        let ch = store::charge(c, &ch.id)?;
        charge_view(c, ch)
    })
    .await?;
    Ok(created_etag(view.charge.version, &view))
}

#[derive(Debug, Deserialize, Serialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    pub note: Option<String>,
}

async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    path: (String, String),
    body: JsonOrEmpty<DecisionIn>,
    approve: bool,
) -> Result<HttpResponse, ApiError> {
    approver(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let note = check.opt_text("note", b.note.as_deref(), 500);
    check.finish()?;
    let (charge_id, adjustment_id) = path;
    let view = in_tx(&state.pool, caller.session(), move |c| {
        store::lock_charge(c, &charge_id)?;
        let ch = see_charge(c, &caller, &charge_id)?;
        caller.approves(&ch.center_id)?;
        let adj = store::adjustment(c, &ch.id, &adjustment_id)?;
        if adj.status != AdjustmentStatus::Pending.as_str() {
            return Err(ApiError::conflict(
                "adjustment_decided",
                format!("the adjustment is already {}", adj.status),
            ));
        }
        if approve && ch.invoice_id.is_some() {
            return Err(adjustment_refused(AdjustmentRefusal::Invoiced));
        }
        let status = if approve {
            AdjustmentStatus::Approved
        } else {
            AdjustmentStatus::Rejected
        };
        store::decide_adjustment(c, &adj.id, status.as_str(), &caller.id, note.as_deref())?;
        if approve {
            let adjustments = store::adjustments(c, &ch.id)?;
            let mut st = state_of(&ch, &adjustments);
            // money may have come in since the request: never forgive more than is due
            if adj.amount_fen > st.due().as_i64() {
                return Err(adjustment_refused(AdjustmentRefusal::MoreThanDue {
                    due: st.due(),
                }));
            }
            st.adjusted = Fen(st.adjusted.as_i64() + adj.amount_fen);
            save_state(c, &ch, &st, None)?;
        }
        let ch = store::charge(c, &ch.id)?;
        charge_view(c, ch)
    })
    .await?;
    Ok(ok_etag(view.charge.version, &view))
}

/// Approve a pending adjustment (managers).
#[utoipa::path(tag = "money", request_body = DecisionIn, responses((status = 200, body = ChargeView), (status = 409)), security(("bearer" = [])))]
#[post("/charges/{id}/adjustments/{adjustment_id}/approve")]
pub async fn approve_adjustment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonOrEmpty<DecisionIn>,
) -> Result<HttpResponse, ApiError> {
    decide(state, caller, path.into_inner(), body, true).await
}

/// Reject a pending adjustment (managers): the charge stays as it was.
#[utoipa::path(tag = "money", request_body = DecisionIn, responses((status = 200, body = ChargeView), (status = 409)), security(("bearer" = [])))]
#[post("/charges/{id}/adjustments/{adjustment_id}/reject")]
pub async fn reject_adjustment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonOrEmpty<DecisionIn>,
) -> Result<HttpResponse, ApiError> {
    decide(state, caller, path.into_inner(), body, false).await
}

// ---------------------------------------------------------------- payments

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

fn payment_view(c: &mut DbConn, p: Payment) -> Result<PaymentView, ApiError> {
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

/// The next receipt number of the center, for a payment made at `at`, inside the
/// payment's transaction: gapless per center and (China) year.
fn next_receipt(
    c: &mut DbConn,
    center_id: &str,
    at: chrono::NaiveDateTime,
) -> Result<String, ApiError> {
    let center = centers::get(c, center_id)?;
    let year = china_day(at).year();
    let seq = crate::store::numbers::next_number(c, center_id, "SJ", year)?;
    Ok(ledger::receipt_number(&center.code, year, seq))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionIn {
    pub amount_fen: i64,
    /// cash, wechat, alipay, bank_transfer, pos
    pub method: String,
    pub payer_name: String,
    /// when the money changed hands (default: now); at most 72 hours back
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<ClientTime>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub notes: Option<String>,
}

/// Collect the order's fee on site (技术员收费) and issue a receipt. Needs an
/// `Idempotency-Key`: a retry with the same key and body answers the first payment again;
/// with a different body, 422. Overpaying is refused (409 `overpayment`).
#[utoipa::path(tag = "money", request_body = CollectionIn, responses((status = 201, body = PaymentView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/payments")]
pub async fn collect(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<CollectionIn>,
) -> Result<HttpResponse, ApiError> {
    deny_unless(caller.role == Role::Technician)?;
    let b = body.parse()?;
    let idem = Idempotency::required(&req, &b)?;
    let mut check = Check::new();
    let fen = amount(&mut check, "amount_fen", b.amount_fen);
    let method = method(&mut check, &b.method);
    let payer = check.text("payer_name", &b.payer_name, 100);
    let at = paid_at(&mut check, b.paid_at);
    let point = check.opt_point(b.lat, b.lng);
    let notes = check.opt_text("notes", b.notes.as_deref(), 500);
    check.finish()?;
    let order_id = id.into_inner();
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            let order = orders::get(c, &order_id)?;
            caller.see(&order.center_id)?;
            if !orders::is_on_order(c, &order.id, &caller.id)? {
                return Err(ApiError::NotFound);
            }
            let Some(ch) = store::charge_of_order(c, &order.id)? else {
                return Err(ApiError::conflict(
                    "charge_missing",
                    "the order has no charge yet: complete it first",
                ));
            };
            store::lock_charge(c, &ch.id)?;
            let ch = store::charge(c, &ch.id)?;
            let adjustments = store::adjustments(c, &ch.id)?;
            let mut st = state_of(&ch, &adjustments);
            ledger::check_collection(&st, ch.terms == PaymentTerms::Credit.as_str(), fen)
                .map_err(refused)?;
            let receipt = next_receipt(c, &ch.center_id, at)?;
            let p = Payment {
                id: new_id(),
                center_id: ch.center_id.clone(),
                kind: "collection".into(),
                charge_id: Some(ch.id.clone()),
                order_id: Some(order.id.clone()),
                invoice_id: None,
                customer_id: ch.customer_id.clone(),
                amount_fen: fen.as_i64(),
                method: method.as_str().into(),
                payer_name: payer,
                paid_at: at,
                day: china_day(at),
                lat: point.map(|p| p.0),
                lng: point.map(|p| p.1),
                collector_id: caller.id.clone(),
                on_site: true,
                receipt_no: Some(receipt.clone()),
                reverses_id: None,
                reason: None,
                approved_by: None,
                notes,
                recorded_by: caller.id.clone(),
                created_at: now(),
            };
            store::insert_payment(c, &p)?;
            crate::notify::on_payment(c, &p)?;
            st.paid = Fen(st.paid.as_i64() + fen.as_i64());
            save_state(c, &ch, &st, None)?;
            orders::add_event(
                c,
                &order.id,
                &caller.id,
                "payment",
                None,
                Some(&format!("{receipt} {fen} {}", method.as_str())),
            )?;
            let view = payment_view(c, p)?;
            Ok(view)
        })
    })
    .await?;
    Ok(answer(outcome, |v| HttpResponse::Created().json(v)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// exports only: csv or xlsx
    pub format: Option<String>,
    pub center_id: Option<String>,
    pub collector_id: Option<String>,
    pub order_id: Option<String>,
    pub invoice_id: Option<String>,
    pub customer_id: Option<String>,
    pub method: Option<String>,
    /// first China day (inclusive), YYYY-MM-DD
    pub from: Option<NaiveDate>,
    /// last China day (inclusive)
    pub to: Option<NaiveDate>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The payment filter for the caller: a technician's own, finance and managers their
/// center's; `None` when the asked center is out of scope.
pub fn payment_filter(caller: &Caller, q: PaymentQuery) -> Result<Option<PaymentFilter>, ApiError> {
    let mut check = Check::new();
    if let Some(m) = &q.method {
        check.one_of("method", m, PaymentMethod::parse, &PaymentMethod::names());
    }
    if let (Some(f), Some(t)) = (q.from, q.to)
        && f > t
    {
        check.add("from", "after_to", "must not be after `to`");
    }
    check.finish()?;
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return Ok(None);
    };
    let collector_id = if caller.role == Role::Technician {
        if q.collector_id.as_deref().is_some_and(|c| c != caller.id) {
            return Ok(None);
        }
        Some(caller.id.clone())
    } else {
        q.collector_id
    };
    Ok(Some(PaymentFilter {
        center,
        collector_id,
        order_id: q.order_id,
        invoice_id: q.invoice_id,
        customer_id: q.customer_id,
        method: q.method,
        from: q.from,
        to: q.to,
    }))
}

/// The ledger: payments and reversals, oldest first. Technicians see their own.
#[utoipa::path(tag = "money", params(PaymentQuery), responses((status = 200)), security(("bearer" = [])))]
#[get("/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<PaymentQuery>,
) -> Result<HttpResponse, ApiError> {
    money_reader(&caller)?;
    let q = q.into_inner();
    let page = PageParams {
        cursor: q.cursor.clone(),
        limit: q.limit,
    }
    .to_req()?;
    let Some(filter) = payment_filter(&caller, q)? else {
        return super::support::empty_page::<Payment>(&state.pool, caller.session()).await;
    };
    let page = with_db(&state.pool, caller.session(), move |c| {
        Ok(store::list_payments(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(page))
}

/// One payment with its reversal, remittance and fapiao number.
#[utoipa::path(tag = "money", responses((status = 200, body = PaymentView), (status = 404)), security(("bearer" = [])))]
#[get("/payments/{id}")]
pub async fn get_payment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    money_reader(&caller)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        let p = see_payment(c, &caller, &id)?;
        payment_view(c, p)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The payment's receipt (收据) as PDF: number, payer, order, amount in figures and in
/// capitals, method, collector, time; a reversed payment's receipt is marked void (作废).
/// A reversal entry has no receipt of its own (409 `no_receipt`).
#[utoipa::path(tag = "money", responses((status = 200, content_type = "application/pdf"), (status = 404), (status = 409), (status = 503)), security(("bearer" = [])))]
#[get("/payments/{id}/receipt.pdf")]
pub async fn receipt_pdf(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    money_reader(&caller)?;
    super::documents::ready(&state.documents)?;
    let docs = state.documents.clone();
    let doc = with_db(&state.pool, caller.session(), move |c| {
        let p = see_payment(c, &caller, &id)?;
        if p.receipt_no.is_none() {
            return Err(ApiError::conflict(
                "no_receipt",
                "a reversal has no receipt; print the original payment's (it shows as void)",
            ));
        }
        Ok(docs.receipt(c, &p)?)
    })
    .await?;
    super::documents::respond(state.documents.clone(), doc).await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalIn {
    pub reason: String,
    /// the approving manager; a manager reversing is the approver themselves
    pub approver_id: Option<String>,
}

/// Reverse a payment (冲销): a negative ledger entry referencing it, with reason and
/// approver. Managers reverse on their own authority; finance names the approving manager.
/// A payment already handed to finance is not reversed here (409 `payment_remitted`).
#[utoipa::path(tag = "money", request_body = ReversalIn, responses((status = 201, body = PaymentView), (status = 409)), security(("bearer" = [])))]
#[post("/payments/{id}/reversal")]
pub async fn reverse(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<ReversalIn>,
) -> Result<HttpResponse, ApiError> {
    office(&caller)?;
    let b = body.parse()?;
    let idem = Idempotency::of(&req, &b)?;
    let mut check = Check::new();
    let reason = check.text("reason", &b.reason, 500);
    if caller.role == Role::Finance && b.approver_id.is_none() {
        check.add(
            "approver_id",
            "required",
            "finance names the approving manager",
        );
    }
    check.finish()?;
    let id = id.into_inner();
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            let orig = see_payment(c, &caller, &id)?;
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
            let approver_id = match &b.approver_id {
                Some(a) => crate::app::named_approver(c, "approver_id", a, &orig.center_id)?.id,
                None => caller.id.clone(),
            };
            ledger::check_reversal(ReversalCheck {
                is_reversal: orig.kind == "reversal",
                already_reversed: store::reversal_of(c, &orig.id)?.is_some(),
                remitted: store::remittance_of(c, &orig.id)?.is_some(),
            })
            .map_err(refused)?;
            let at = now();
            let rev = Payment {
                id: new_id(),
                center_id: orig.center_id.clone(),
                kind: "reversal".into(),
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
                reason: Some(reason.clone()),
                approved_by: Some(approver_id),
                notes: None,
                recorded_by: caller.id.clone(),
                created_at: at,
            };
            store::insert_payment(c, &rev)?;
            if let Some(ch_id) = &orig.charge_id {
                let ch = store::charge(c, ch_id)?;
                let adjustments = store::adjustments(c, &ch.id)?;
                let mut st = state_of(&ch, &adjustments);
                st.paid = Fen(st.paid.as_i64() - orig.amount_fen);
                save_state(c, &ch, &st, None)?;
                if let Some(o) = &orig.order_id {
                    orders::add_event(
                        c,
                        o,
                        &caller.id,
                        "payment_reversed",
                        None,
                        Some(&format!(
                            "{} {reason}",
                            orig.receipt_no.as_deref().unwrap_or("")
                        )),
                    )?;
                }
            }
            if let Some(inv_id) = &orig.invoice_id {
                let inv = store::invoice(c, inv_id)?;
                store::set_invoice_paid(c, &inv.id, inv.paid_fen - orig.amount_fen)?;
            }
            let view = payment_view(c, rev)?;
            Ok(view)
        })
    })
    .await?;
    Ok(answer(outcome, |v| HttpResponse::Created().json(v)))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FapiaoIn {
    pub fapiao_no: String,
}

/// Add the fapiao (发票) number to a payment (finance), once.
#[utoipa::path(tag = "money", request_body = FapiaoIn, responses((status = 200, body = PaymentView), (status = 409)), security(("bearer" = [])))]
#[post("/payments/{id}/fapiao")]
pub async fn add_fapiao(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<FapiaoIn>,
) -> Result<HttpResponse, ApiError> {
    finance(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let no = check.text("fapiao_no", &b.fapiao_no, 40);
    if !no.is_empty() && !no.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        check.add("fapiao_no", "format", "letters, digits and dashes only");
    }
    check.finish()?;
    let view = in_tx(&state.pool, caller.session(), move |c| {
        let p = see_payment(c, &caller, &id)?;
        if p.kind != "collection" {
            return Err(ApiError::conflict(
                "not_a_collection",
                "a fapiao belongs to a collection, not a reversal",
            ));
        }
        store::add_fapiao(c, &p.id, &no, &caller.id)?;
        payment_view(c, p)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

// ---------------------------------------------------------------- cash in hand

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

/// A technician's cash in hand (the technician themselves, or their center's finance,
/// managers, admins).
#[utoipa::path(tag = "money", responses((status = 200, body = CashInHand), (status = 404)), security(("bearer" = [])))]
#[get("/technicians/{id}/cash")]
pub async fn cash(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    money_reader(&caller)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        if caller.role == Role::Technician && *id != caller.id {
            return Err(ApiError::NotFound);
        }
        let u = users::get(c, &id)?;
        caller.see(&u.center_id)?;
        if u.role != "technician" {
            return Err(ApiError::NotFound);
        }
        let (collected, remitted) = store::hand_totals(c, &u.id)?;
        Ok(CashInHand {
            technician_id: u.id.clone(),
            collected_fen: collected,
            remitted_fen: remitted,
            in_hand_fen: collected - remitted,
            unremitted: store::unremitted(c, &u.id)?,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

// ---------------------------------------------------------------- remittances

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemittanceIn {
    /// the payments handed over (default: all not yet handed over)
    pub payment_ids: Option<Vec<String>>,
    pub notes: Option<String>,
}

/// A remittance with its payments and discrepancy.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemittanceView {
    #[serde(flatten)]
    pub remittance: Remittance,
    pub payments: Vec<Payment>,
    pub discrepancy: Option<Discrepancy>,
}

fn remittance_view(c: &mut DbConn, r: Remittance) -> Result<RemittanceView, ApiError> {
    Ok(RemittanceView {
        payments: store::remittance_payments(c, &r.id)?,
        discrepancy: store::discrepancy_of(c, &r.id)?,
        remittance: r,
    })
}

fn see_remittance(c: &mut DbConn, caller: &Caller, id: &str) -> Result<Remittance, ApiError> {
    let r = store::remittance(c, id)?;
    caller.see(&r.center_id)?;
    if caller.role == Role::Technician && r.technician_id != caller.id {
        return Err(ApiError::NotFound);
    }
    Ok(r)
}

/// Hand collected payments to finance (交款): the technician's own, not yet handed over,
/// not reversed. Finance then counts the money and confirms.
#[utoipa::path(tag = "money", request_body = RemittanceIn, responses((status = 201, body = RemittanceView), (status = 409)), security(("bearer" = [])))]
#[post("/remittances")]
pub async fn create_remittance(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Json<RemittanceIn>,
) -> Result<HttpResponse, ApiError> {
    deny_unless(caller.role == Role::Technician)?;
    let b = body.parse()?;
    let idem = Idempotency::of(&req, &b)?;
    let mut check = Check::new();
    let notes = check.opt_text("notes", b.notes.as_deref(), 500);
    if let Some(ids) = &b.payment_ids {
        if ids.is_empty() {
            check.add("payment_ids", "required", "name at least one payment");
        } else if ids.len() > 1000 {
            check.add("payment_ids", "too_many", "at most 1000 payments at once");
        }
    }
    check.finish()?;
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            crate::store::technicians::lock_technician(c, &caller.id)?;
            let open = store::unremitted(c, &caller.id)?;
            let batch: Vec<Payment> = match &b.payment_ids {
                None => open,
                Some(ids) => {
                    let mut picked = Vec::new();
                    for id in ids {
                        if picked.iter().any(|p: &Payment| &p.id == id) {
                            continue;
                        }
                        match open.iter().find(|p| &p.id == id) {
                            Some(p) => picked.push(p.clone()),
                            None => {
                                return Err(ApiError::Conflict {
                                    code: "payment_not_remittable".into(),
                                    detail: format!(
                                        "payment {id} is not one of your collections waiting to be \
                                     handed over (unknown, reversed, or handed over already)"
                                    ),
                                    extra: None,
                                });
                            }
                        }
                    }
                    picked
                }
            };
            if batch.is_empty() {
                return Err(ApiError::conflict(
                    "nothing_to_remit",
                    "there are no collected payments to hand over",
                ));
            }
            let expected: i64 = batch.iter().map(|p| p.amount_fen).sum();
            let at = now();
            let r = Remittance {
                id: new_id(),
                center_id: caller.center_id.clone(),
                technician_id: caller.id.clone(),
                expected_fen: expected,
                submitted_at: at,
                submitted_day: china_day(at),
                status: "submitted".into(),
                received_fen: None,
                confirmed_by: None,
                confirmed_at: None,
                confirmed_day: None,
                notes,
                version: 1,
                updated_at: at,
            };
            let ids: Vec<String> = batch.iter().map(|p| p.id.clone()).collect();
            store::insert_remittance(c, &r, &ids)?;
            let view = remittance_view(c, r)?;
            Ok(view)
        })
    })
    .await?;
    Ok(answer(outcome, |v| created_etag(v.remittance.version, &v)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemittanceQuery {
    pub center_id: Option<String>,
    pub technician_id: Option<String>,
    /// submitted, confirmed
    pub status: Option<String>,
}

/// Remittances: finance's queue (`?status=submitted`); a technician sees their own.
#[utoipa::path(tag = "money", params(RemittanceQuery, PageParams), responses((status = 200)), security(("bearer" = [])))]
#[get("/remittances")]
pub async fn list_remittances(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<RemittanceQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    money_reader(&caller)?;
    let q = q.into_inner();
    let mut check = Check::new();
    if let Some(s) = &q.status {
        check.one_of(
            "status",
            s,
            |v| ["submitted", "confirmed"].contains(&v).then_some(()),
            "submitted, confirmed",
        );
    }
    check.finish()?;
    // a technician: their own
    let technician_id = if caller.role == Role::Technician {
        Some(caller.id.clone())
    } else {
        q.technician_id
    };
    scoped_page(
        &state.pool,
        &caller,
        q.center_id,
        &page,
        move |c, center, page| {
            let filter = RemittanceFilter {
                center: center.as_deref(),
                technician_id,
                status: q.status,
            };
            Ok(store::list_remittances(c, &filter, &page)?)
        },
    )
    .await
}

#[utoipa::path(tag = "money", responses((status = 200, body = RemittanceView), (status = 404)), security(("bearer" = [])))]
#[get("/remittances/{id}")]
pub async fn get_remittance(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    money_reader(&caller)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        let r = see_remittance(c, &caller, &id)?;
        remittance_view(c, r)
    })
    .await?;
    Ok(ok_etag(view.remittance.version, &view))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmIn {
    /// what finance counted, in fen
    pub received_fen: i64,
    pub notes: Option<String>,
}

/// Confirm a remittance with the amount counted (finance only; `If-Match`). A difference
/// opens a discrepancy (short or over) for a manager to resolve.
#[utoipa::path(tag = "money", request_body = ConfirmIn, responses((status = 200, body = RemittanceView), (status = 409), (status = 412), (status = 428)), security(("bearer" = [])))]
#[post("/remittances/{id}/confirm")]
pub async fn confirm_remittance(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<ConfirmIn>,
) -> Result<HttpResponse, ApiError> {
    deny_unless(caller.role == Role::Finance)?;
    let version = if_match(&req)?;
    let b = body.parse()?;
    let mut check = Check::new();
    if b.received_fen < 0 {
        check.add("received_fen", "negative", "must not be negative");
    } else if b.received_fen > AMOUNT_MAX {
        check.add(
            "received_fen",
            "too_large",
            format!("at most {AMOUNT_MAX} fen"),
        );
    }
    let notes = check.opt_text("notes", b.notes.as_deref(), 500);
    check.finish()?;
    let view = in_tx(&state.pool, caller.session(), move |c| {
        let r = see_remittance(c, &caller, &id)?;
        if r.status != "submitted" {
            return Err(ApiError::conflict(
                "remittance_confirmed",
                "the remittance was already confirmed",
            ));
        }
        store::confirm_remittance(
            c,
            &r.id,
            version,
            b.received_fen,
            &caller.id,
            notes.as_deref(),
        )?;
        if let Some(d) = ledger::discrepancy(Fen(r.expected_fen), Fen(b.received_fen)) {
            let at = now();
            store::insert_discrepancy(
                c,
                &Discrepancy {
                    id: new_id(),
                    remittance_id: r.id.clone(),
                    center_id: r.center_id.clone(),
                    technician_id: r.technician_id.clone(),
                    amount_fen: d.as_i64(),
                    status: "open".into(),
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
        remittance_view(c, r)
    })
    .await?;
    Ok(ok_etag(view.remittance.version, &view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiscrepancyQuery {
    pub center_id: Option<String>,
    /// open, resolved
    pub status: Option<String>,
    pub technician_id: Option<String>,
}

/// Discrepancies of counted remittances (finance, managers, admins).
#[utoipa::path(tag = "money", params(DiscrepancyQuery, PageParams), responses((status = 200)), security(("bearer" = [])))]
#[get("/discrepancies")]
pub async fn list_discrepancies(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<DiscrepancyQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    office(&caller)?;
    let q = q.into_inner();
    if let Some(s) = &q.status {
        let mut check = Check::new();
        check.one_of(
            "status",
            s,
            |v| ["open", "resolved"].contains(&v).then_some(()),
            "open, resolved",
        );
        check.finish()?;
    }
    scoped_page(
        &state.pool,
        &caller,
        q.center_id,
        &page,
        move |c, center, page| {
            Ok(store::list_discrepancies(
                c,
                center.as_deref(),
                q.status.as_deref(),
                q.technician_id.as_deref(),
                &page,
            )?)
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveIn {
    /// what was done: e.g. "技术员已补交 5 元", "盘点差错，已更正"
    pub resolution: String,
}

/// Resolve a discrepancy (managers; `If-Match`).
#[utoipa::path(tag = "money", request_body = ResolveIn, responses((status = 200, body = Discrepancy), (status = 409)), security(("bearer" = [])))]
#[post("/discrepancies/{id}/resolve")]
pub async fn resolve_discrepancy(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<ResolveIn>,
) -> Result<HttpResponse, ApiError> {
    approver(&caller)?;
    let version = if_match(&req)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let resolution = check.text("resolution", &b.resolution, 500);
    check.finish()?;
    let d = in_tx(&state.pool, caller.session(), move |c| {
        let d = store::discrepancy(c, &id)?;
        caller.see(&d.center_id)?;
        caller.approves(&d.center_id)?;
        if d.status != "open" {
            return Err(ApiError::conflict(
                "discrepancy_resolved",
                "the discrepancy was already resolved",
            ));
        }
        store::resolve_discrepancy(c, &d.id, version, &caller.id, &resolution)?;
        Ok(store::discrepancy(c, &d.id)?)
    })
    .await?;
    Ok(ok_etag(d.version, &d))
}

// ---------------------------------------------------------------- invoices

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceIn {
    pub customer_id: String,
    /// first China day of the period (inclusive)
    pub period_start: NaiveDate,
    /// last day of the period (inclusive)
    pub period_end: NaiveDate,
    /// default: today (China)
    pub issue_date: Option<NaiveDate>,
}

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

fn invoice_view(c: &mut DbConn, inv: Invoice) -> Result<InvoiceView, ApiError> {
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

/// Issue an invoice (账单) to a credit customer for a period: every open credit charge of
/// the period goes on it and counts as settled. Finance only.
#[utoipa::path(tag = "money", request_body = InvoiceIn, responses((status = 201, body = InvoiceView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/invoices")]
pub async fn create_invoice(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<InvoiceIn>,
) -> Result<HttpResponse, ApiError> {
    finance(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    if b.period_start > b.period_end {
        check.add("period_start", "after_end", "must not be after period_end");
    }
    if (b.period_end - b.period_start).num_days() > 366 {
        check.add("period_end", "too_long", "a period is at most a year");
    }
    let today = china_day(now());
    if b.period_end > today + Duration::days(31) || b.period_start.year() < 2000 {
        check.add(
            "period_end",
            "out_of_range",
            "a period from 2000 up to next month",
        );
    }
    if let Some(d) = b.issue_date
        && (d < b.period_start || d > today + Duration::days(31))
    {
        check.add(
            "issue_date",
            "out_of_range",
            "from the period's start up to a month ahead",
        );
    }
    check.finish()?;
    let view = in_tx(&state.pool, caller.session(), move |c| {
        let customer = customers::get_row(c, &b.customer_id)?;
        caller.see(&customer.center_id)?;
        let Some(credit_days) = customer
            .credit_days
            .filter(|_| customer.payment_terms == "credit")
        else {
            return Err(ApiError::conflict(
                "not_on_account",
                "the customer pays on site (cash terms); only credit customers get invoices",
            ));
        };
        // lock the charges, then read them again: an adjustment decided meanwhile counts
        let period = (b.period_start, b.period_end);
        for ch in store::uninvoiced_credit_charges(c, &customer.id, period.0, period.1)? {
            store::lock_charge(c, &ch.id)?;
        }
        // a charge whose adjustment waits for a manager goes on a later invoice
        let mut charges = Vec::new();
        for ch in store::uninvoiced_credit_charges(c, &customer.id, period.0, period.1)? {
            let pending = store::adjustments(c, &ch.id)?
                .iter()
                .any(|a| a.status == AdjustmentStatus::Pending.as_str());
            if !pending {
                charges.push(ch);
            }
        }
        if charges.is_empty() {
            return Err(ApiError::conflict(
                "nothing_to_invoice",
                "the customer has no open charges in that period",
            ));
        }
        let at = now();
        let issue = b.issue_date.unwrap_or_else(|| china_day(at));
        let center = centers::get(c, &customer.center_id)?;
        let seq = crate::store::numbers::next_number(c, &center.id, "ZD", issue.year())?;
        let mut total = 0i64;
        let inv_id = new_id();
        let mut dues = Vec::new();
        for ch in &charges {
            let adjustments = store::adjustments(c, &ch.id)?;
            let st = state_of(ch, &adjustments);
            total += st.due().as_i64();
            dues.push(st);
        }
        let inv = Invoice {
            id: inv_id.clone(),
            number: ledger::invoice_number(&center.code, issue.year(), seq),
            center_id: center.id.clone(),
            customer_id: customer.id.clone(),
            period_start: b.period_start,
            period_end: b.period_end,
            issue_date: issue,
            due_date: ledger::due_date(issue, credit_days),
            total_fen: total,
            paid_fen: 0,
            created_by: caller.id.clone(),
            created_at: at,
            version: 1,
            updated_at: at,
        };
        store::insert_invoice(c, &inv)?;
        for (ch, mut st) in charges.iter().zip(dues) {
            st.invoiced = true;
            save_state(c, ch, &st, Some(&inv_id))?;
        }
        invoice_view(c, inv)
    })
    .await?;
    Ok(created_etag(view.invoice.version, &view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    pub center_id: Option<String>,
    pub customer_id: Option<String>,
    /// only invoices with a balance left
    pub open: Option<bool>,
}

#[utoipa::path(tag = "money", params(InvoiceQuery, PageParams), responses((status = 200)), security(("bearer" = [])))]
#[get("/invoices")]
pub async fn list_invoices(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<InvoiceQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    office(&caller)?;
    let q = q.into_inner();
    scoped_page(
        &state.pool,
        &caller,
        q.center_id,
        &page,
        move |c, center, page| {
            let filter = InvoiceFilter {
                center: center.as_deref(),
                customer_id: q.customer_id,
                open: q.open.unwrap_or(false),
            };
            Ok(store::list_invoices(c, &filter, &page)?)
        },
    )
    .await
}

#[utoipa::path(tag = "money", responses((status = 200, body = InvoiceView), (status = 404)), security(("bearer" = [])))]
#[get("/invoices/{id}")]
pub async fn get_invoice(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    office(&caller)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        let inv = store::invoice(c, &id)?;
        caller.see(&inv.center_id)?;
        invoice_view(c, inv)
    })
    .await?;
    Ok(ok_etag(view.invoice.version, &view))
}

/// The invoice (账单) as PDF: period, each order with its charge, total in figures and
/// in capitals, paid so far, balance, due date and the company's bank details.
#[utoipa::path(tag = "money", responses((status = 200, content_type = "application/pdf"), (status = 404), (status = 503)), security(("bearer" = [])))]
#[get("/invoices/{id}/pdf")]
pub async fn invoice_pdf(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    office(&caller)?;
    super::documents::ready(&state.documents)?;
    let docs = state.documents.clone();
    let doc = with_db(&state.pool, caller.session(), move |c| {
        let inv = store::invoice(c, &id)?;
        caller.see(&inv.center_id)?;
        Ok(docs.invoice(c, &inv)?)
    })
    .await?;
    super::documents::respond(state.documents.clone(), doc).await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicePaymentIn {
    pub amount_fen: i64,
    /// default bank_transfer
    pub method: Option<String>,
    pub payer_name: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<ClientTime>,
    /// the bank's reference of the transfer
    pub notes: Option<String>,
}

/// Record a payment against an invoice (finance; partial payments allowed; overpaying
/// refused). Needs an `Idempotency-Key`.
#[utoipa::path(tag = "money", request_body = InvoicePaymentIn, responses((status = 201, body = PaymentView), (status = 409)), security(("bearer" = [])))]
#[post("/invoices/{id}/payments")]
pub async fn pay_invoice(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<InvoicePaymentIn>,
) -> Result<HttpResponse, ApiError> {
    finance(&caller)?;
    let b = body.parse()?;
    let idem = Idempotency::required(&req, &b)?;
    let mut check = Check::new();
    let fen = amount(&mut check, "amount_fen", b.amount_fen);
    let method = method(&mut check, b.method.as_deref().unwrap_or("bank_transfer"));
    let payer = check.text("payer_name", &b.payer_name, 100);
    let at = match b.paid_at.map(ClientTime::utc) {
        // a bank transfer is recorded from the statement, possibly weeks later
        Some(t) if t.naive_utc() <= now() + Duration::minutes(5) && t.year() >= 2000 => {
            crate::store::micros(t.naive_utc())
        }
        Some(_) => {
            check.add("paid_at", "in_future", "must not be in the future");
            now()
        }
        None => now(),
    };
    let notes = check.opt_text("notes", b.notes.as_deref(), 500);
    check.finish()?;
    let id = id.into_inner();
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            store::lock_invoice(c, &id)?;
            let inv = store::invoice(c, &id)?;
            caller.see(&inv.center_id)?;
            if china_day(at) < inv.period_start {
                return Err(ApiError::field(
                    "paid_at",
                    "before_invoice",
                    "a payment of an invoice is not dated before its period",
                ));
            }
            ledger::check_invoice_payment(Fen(inv.total_fen - inv.paid_fen), fen)
                .map_err(refused)?;
            let receipt = next_receipt(c, &inv.center_id, at)?;
            let p = Payment {
                id: new_id(),
                center_id: inv.center_id.clone(),
                kind: "collection".into(),
                charge_id: None,
                order_id: None,
                invoice_id: Some(inv.id.clone()),
                customer_id: inv.customer_id.clone(),
                amount_fen: fen.as_i64(),
                method: method.as_str().into(),
                payer_name: payer,
                paid_at: at,
                day: china_day(at),
                lat: None,
                lng: None,
                collector_id: caller.id.clone(),
                on_site: false,
                receipt_no: Some(receipt),
                reverses_id: None,
                reason: None,
                approved_by: None,
                notes,
                recorded_by: caller.id.clone(),
                created_at: now(),
            };
            store::insert_payment(c, &p)?;
            crate::notify::on_payment(c, &p)?;
            store::set_invoice_paid(c, &inv.id, inv.paid_fen + fen.as_i64())?;
            let view = payment_view(c, p)?;
            Ok(view)
        })
    })
    .await?;
    Ok(answer(outcome, |v| HttpResponse::Created().json(v)))
}

// ---------------------------------------------------------------- settings

/// A center's money settings.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneySettings {
    /// discounts and waivers above this need a manager's approval
    pub adjustment_threshold_fen: i64,
}

#[utoipa::path(operation_id = "get_money_settings", tag = "money", responses((status = 200, body = MoneySettings), (status = 404)), security(("bearer" = [])))]
#[get("/centers/{id}/money-settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = with_db(&state.pool, caller.session(), move |c| {
        caller.see(&id)?;
        let center = centers::get(c, &id)?;
        Ok(MoneySettings {
            adjustment_threshold_fen: store::adjustment_threshold(
                c,
                &center.id,
                DEFAULT_ADJUSTMENT_THRESHOLD.as_i64(),
            )?,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(s))
}

/// Set a center's money settings (admins).
#[utoipa::path(operation_id = "put_money_settings", tag = "money", request_body = MoneySettings, responses((status = 200, body = MoneySettings)), security(("bearer" = [])))]
#[put("/centers/{id}/money-settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<MoneySettings>,
) -> Result<HttpResponse, ApiError> {
    deny_unless(caller.role == Role::Admin)?;
    let b = body.parse()?;
    let mut check = Check::new();
    if b.adjustment_threshold_fen < 0 || b.adjustment_threshold_fen > AMOUNT_MAX {
        check.add(
            "adjustment_threshold_fen",
            "out_of_range",
            format!("0 to {AMOUNT_MAX} fen"),
        );
    }
    check.finish()?;
    let s = in_tx(&state.pool, caller.session(), move |c| {
        let center = centers::get(c, &id)?;
        store::set_adjustment_threshold(c, &center.id, b.adjustment_threshold_fen)?;
        Ok(b)
    })
    .await?;
    Ok(HttpResponse::Ok().json(s))
}
