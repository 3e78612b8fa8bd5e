//! Credit customers' invoices (账单) and their payments. The rules are `app::invoices`'
//! and `domain::ledger`'s.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::super::error::ApiError;
use super::super::idempotency::{Idempotency, answer};
use super::super::json::{ClientTime, Json};
use super::super::session::Caller;
use super::super::state::AppState;
use super::super::support::{
    Check, PageParams, created_etag, in_tx, ok_etag, scoped_page, with_db,
};
use super::input::{amount, method};
use crate::app::invoices::{self as invoices, InvoicePayment, InvoiceView, Issue};
use crate::app::payments::PaymentView;
use crate::domain::access::{Money, Op, Resource};
use crate::domain::china_day;
use crate::store::money::InvoiceFilter;
use crate::store::now;

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

/// Issue an invoice (账单) to a credit customer for a period: every open credit charge of
/// the period goes on it and counts as settled. Finance only.
#[utoipa::path(tag = "money", request_body = InvoiceIn, responses((status = 201, body = InvoiceView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/invoices")]
pub async fn create_invoice(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<InvoiceIn>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Money(Money::Billing), Op::Write)?;
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
    let issue = Issue {
        customer_id: b.customer_id,
        period: (b.period_start, b.period_end),
        issue_date: b.issue_date,
    };
    let view = in_tx(&state.pool, caller.session(), move |c| {
        Ok(invoices::issue(c, caller.principal(), issue)?)
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
    caller.require(Resource::Money(Money::Billing), Op::Read)?;
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
            Ok(invoices::list(c, &filter, &page)?)
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
    caller.require(Resource::Money(Money::Billing), Op::Read)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        Ok(invoices::get(c, caller.principal(), &id)?)
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
    caller.require(Resource::Money(Money::Billing), Op::Read)?;
    super::super::documents::ready(&state.documents)?;
    let docs = state.documents.clone();
    let doc = with_db(&state.pool, caller.session(), move |c| {
        let inv = invoices::see(c, caller.principal(), &id)?;
        Ok(docs.invoice(c, &inv)?)
    })
    .await?;
    super::super::documents::respond(state.documents.clone(), doc).await
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
    caller.require(Resource::Money(Money::Billing), Op::Write)?;
    let b = body.parse()?;
    let idem = Idempotency::required(&req, &b)?;
    let mut check = Check::new();
    let fen = amount(&mut check, "amount_fen", b.amount_fen);
    let method = method(&mut check, b.method.as_deref().unwrap_or("bank_transfer"));
    let payer_name = check.text("payer_name", &b.payer_name, 100);
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
    let input = InvoicePayment {
        amount: fen,
        method,
        payer_name,
        paid_at: at,
        notes,
    };
    let id = id.into_inner();
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            Ok(invoices::pay(c, caller.principal(), &id, input)?)
        })
    })
    .await?;
    Ok(answer(outcome, |v| HttpResponse::Created().json(v)))
}
