//! The ledger: collections on site with their receipts, reversals, fapiao numbers and a
//! technician's cash in hand. The rules are `app::payments`' and `domain::ledger`'s.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::super::error::ApiError;
use super::super::idempotency::{Idempotency, answer};
use super::super::json::{ClientTime, Json};
use super::super::session::Caller;
use super::super::state::AppState;
use super::super::support::{Check, PageParams, in_tx, page_json, with_db};
use super::input::{PaymentQuery, amount, method, paid_at, payment_filter};
use crate::app::payments::{self as payments, CashInHand, Collection, PaymentView, Reversal};
use crate::domain::access::{Money, Op, Resource, Role};
use crate::store::money::Payment;

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
    caller.require(Resource::Money(Money::Collections), Op::Write)?;
    let b = body.parse()?;
    let idem = Idempotency::required(&req, &b)?;
    let mut check = Check::new();
    let fen = amount(&mut check, "amount_fen", b.amount_fen);
    let method = method(&mut check, &b.method);
    let payer_name = check.text("payer_name", &b.payer_name, 100);
    let at = paid_at(&mut check, b.paid_at);
    let point = check.opt_point(b.lat, b.lng);
    let notes = check.opt_text("notes", b.notes.as_deref(), 500);
    check.finish()?;
    let input = Collection {
        amount: fen,
        method,
        payer_name,
        paid_at: at,
        point,
        notes,
    };
    let order_id = id.into_inner();
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            Ok(payments::collect(c, caller.principal(), &order_id, input)?)
        })
    })
    .await?;
    Ok(answer(outcome, |v| HttpResponse::Created().json(v)))
}

/// The ledger: payments and reversals, oldest first. Technicians see their own.
#[utoipa::path(tag = "money", params(PaymentQuery), responses((status = 200)), security(("bearer" = [])))]
#[get("/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<PaymentQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Money(Money::Ledger), Op::Read)?;
    let q = q.into_inner();
    let page = PageParams {
        cursor: q.cursor.clone(),
        limit: q.limit,
    }
    .to_req()?;
    let Some(filter) = payment_filter(caller.principal(), q)? else {
        return super::super::support::empty_page::<Payment>(&state.pool, caller.session()).await;
    };
    let page = with_db(&state.pool, caller.session(), move |c| {
        Ok(payments::list(c, &filter, &page)?)
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
    caller.require(Resource::Money(Money::Ledger), Op::Read)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        Ok(payments::get(c, caller.principal(), &id)?)
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
    caller.require(Resource::Money(Money::Ledger), Op::Read)?;
    super::super::documents::ready(&state.documents)?;
    let docs = state.documents.clone();
    let doc = with_db(&state.pool, caller.session(), move |c| {
        let p = payments::with_receipt(c, caller.principal(), &id)?;
        Ok(docs.receipt(c, &p)?)
    })
    .await?;
    super::super::documents::respond(state.documents.clone(), doc).await
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
    caller.require(Resource::Money(Money::Books), Op::Write)?;
    let b = body.parse()?;
    let idem = Idempotency::of(&req, &b)?;
    let mut check = Check::new();
    let reason = check.text("reason", &b.reason, 500);
    if caller.is(Role::Finance) && b.approver_id.is_none() {
        check.add(
            "approver_id",
            "required",
            "finance names the approving manager",
        );
    }
    check.finish()?;
    let r = Reversal {
        reason,
        approver_id: b.approver_id,
    };
    let id = id.into_inner();
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            Ok(payments::reverse(c, caller.principal(), &id, r)?)
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
    caller.require(Resource::Money(Money::Billing), Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let no = check.text("fapiao_no", &b.fapiao_no, 40);
    if !no.is_empty() && !no.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        check.add("fapiao_no", "format", "letters, digits and dashes only");
    }
    check.finish()?;
    let view = in_tx(&state.pool, caller.session(), move |c| {
        Ok(payments::add_fapiao(c, caller.principal(), &id, &no)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
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
    caller.require(Resource::Money(Money::Ledger), Op::Read)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        Ok(payments::cash(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
