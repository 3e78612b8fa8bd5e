//! Remittances to finance (交款) and their discrepancies. The rules are
//! `app::remittances`' and `domain::ledger`'s.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::super::error::ApiError;
use super::super::idempotency::{Idempotency, answer};
use super::super::json::Json;
use super::super::session::Caller;
use super::super::state::AppState;
use super::super::support::{
    Check, PageParams, created_etag, if_match, in_tx, ok_etag, scoped_page, with_db,
};
use super::input::AMOUNT_MAX;
use crate::app::remittances::{
    self as remittances, Count, DiscrepancyFilter, Handover, RemittanceView,
};
use crate::domain::access::{Money, Op, Resource};
use crate::domain::ledger::{DiscrepancyStatus, RemittanceStatus};
use crate::domain::money::Fen;
use crate::store::money::{Discrepancy, RemittanceFilter};

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemittanceIn {
    /// the payments handed over (default: all not yet handed over)
    pub payment_ids: Option<Vec<String>>,
    pub notes: Option<String>,
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
    caller.require(Resource::Money(Money::Collections), Op::Write)?;
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
    let h = Handover {
        payment_ids: b.payment_ids,
        notes,
    };
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            Ok(remittances::hand_over(c, caller.principal(), h)?)
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
    caller.require(Resource::Money(Money::Ledger), Op::Read)?;
    let q = q.into_inner();
    let mut check = Check::new();
    if let Some(s) = &q.status {
        check.one_of(
            "status",
            s,
            RemittanceStatus::parse,
            &RemittanceStatus::names(),
        );
    }
    check.finish()?;
    let principal = caller.principal().clone();
    scoped_page(
        &state.pool,
        &caller,
        q.center_id,
        &page,
        move |c, center, page| {
            let filter = RemittanceFilter {
                center: center.as_deref(),
                technician_id: q.technician_id,
                status: q.status,
            };
            Ok(remittances::list(c, &principal, filter, &page)?)
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
    caller.require(Resource::Money(Money::Ledger), Op::Read)?;
    let view = with_db(&state.pool, caller.session(), move |c| {
        Ok(remittances::get(c, caller.principal(), &id)?)
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
    caller.require(Resource::Money(Money::Counting), Op::Write)?;
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
    let count = Count {
        received: Fen(b.received_fen),
        notes,
    };
    let view = in_tx(&state.pool, caller.session(), move |c| {
        Ok(remittances::confirm(
            c,
            caller.principal(),
            &id,
            version,
            count,
        )?)
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
    caller.require(Resource::Money(Money::Books), Op::Read)?;
    let q = q.into_inner();
    let mut check = Check::new();
    let status = q.status.as_deref().and_then(|s| {
        check.one_of(
            "status",
            s,
            DiscrepancyStatus::parse,
            &DiscrepancyStatus::names(),
        )
    });
    check.finish()?;
    scoped_page(
        &state.pool,
        &caller,
        q.center_id,
        &page,
        move |c, center, page| {
            let filter = DiscrepancyFilter {
                center,
                status,
                technician_id: q.technician_id,
            };
            Ok(remittances::discrepancies(c, &filter, &page)?)
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
    // an approver of some center (theirs); the discrepancy's center is checked once loaded
    caller.approves(&caller.center_id)?;
    let version = if_match(&req)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let resolution = check.text("resolution", &b.resolution, 500);
    check.finish()?;
    let d = in_tx(&state.pool, caller.session(), move |c| {
        Ok(remittances::resolve_discrepancy(
            c,
            caller.principal(),
            &id,
            version,
            &resolution,
        )?)
    })
    .await?;
    Ok(ok_etag(d.version, &d))
}
