//! Charges and their adjustments (discounts, waivers, write-offs), and a center's money
//! settings. The rules are `app::charges`' and `domain::ledger`'s.

use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};

use super::super::error::ApiError;
use super::super::json::{Json, JsonOrEmpty};
use super::super::session::Caller;
use super::super::state::AppState;
use super::super::support::{
    Check, PageParams, created_etag, in_tx, ok_etag, scoped_page, with_db,
};
use super::input::{AMOUNT_MAX, amount};
use crate::app::charges::{self as charges, AdjustmentRequest, ChargeView, Decision};
use crate::domain::access::{Money, Op, Resource};
use crate::domain::ledger::{AdjustmentKind, ChargeStatus};
use crate::domain::money::Fen;
use crate::domain::registry::PaymentTerms;
use crate::store::money::ChargeFilter;

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
    caller.require(Resource::Money(Money::Books), Op::Read)?;
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
            Ok(charges::list(c, &filter, &page)?)
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
    caller.require(Resource::Money(Money::Ledger), Op::Read)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        Ok(charges::get(c, caller.principal(), &id)?)
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
    caller.require(Resource::Money(Money::Ledger), Op::Write)?;
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
    let req = AdjustmentRequest {
        kind: kind.unwrap_or(AdjustmentKind::Discount),
        amount: b.amount_fen.map(Fen),
        reason,
    };
    let view = in_tx(&state.pool, caller.session(), move |c| {
        Ok(charges::request_adjustment(
            c,
            caller.principal(),
            &id,
            req,
        )?)
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
    // an approver of some center (theirs); the charge's center is checked once loaded
    caller.approves(&caller.center_id)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let note = check.opt_text("note", b.note.as_deref(), 500);
    check.finish()?;
    let (charge_id, adjustment_id) = path;
    let d = Decision { approve, note };
    let view = in_tx(&state.pool, caller.session(), move |c| {
        Ok(charges::decide_adjustment(
            c,
            caller.principal(),
            &charge_id,
            &adjustment_id,
            d,
        )?)
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
    caller.require(Resource::Money(Money::Settings), Op::Read)?;
    let s = with_db(&state.pool, caller.session(), move |c| {
        let fen = charges::threshold(c, caller.principal(), &id)?;
        Ok(MoneySettings {
            adjustment_threshold_fen: fen.as_i64(),
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
    caller.require(Resource::Money(Money::Settings), Op::Write)?;
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
        charges::set_threshold(c, &id, Fen(b.adjustment_threshold_fen))?;
        Ok(b)
    })
    .await?;
    Ok(HttpResponse::Ok().json(s))
}
