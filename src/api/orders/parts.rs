//! Parts: those used on an order, and the price list.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};

use super::run;
use crate::api::error::ApiError;
use crate::api::json::Json;
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::api::support::{PageParams, created_etag, if_match, in_tx, ok_etag, page_json, with_db};
use crate::app::Check;
use crate::app::orders::parts::{self as uc, PartUse};
use crate::app::orders::{OrderView, technician_only};
use crate::domain::access::{Op, Resource};
use crate::store::orders::{Part, PartPatch};

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartIn {
    pub part_code: String,
    pub quantity: i32,
    pub line_id: Option<String>,
    /// the verbal approval it was taken under, when parts ran short
    pub verbal_approval_id: Option<String>,
}

/// 1–1000 of a part on an order.
fn check_quantity(check: &mut Check, quantity: i32) {
    if !(1..=1000).contains(&quantity) {
        check.add("quantity", "out_of_range", "between 1 and 1000");
    }
}

/// Record a part used, at today's price-list price.
#[utoipa::path(tag = "work orders", request_body = PartIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/parts")]
pub async fn add_part(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<PartIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let code = check.text("part_code", &b.part_code, 50);
    check_quantity(&mut check, b.quantity);
    check.finish()?;
    let id = id.into_inner();
    run(
        &state,
        caller,
        &req,
        (code, b),
        move |c, p, version, (code, b)| {
            let u = PartUse {
                part_code: code,
                quantity: b.quantity,
                line_id: b.line_id,
                verbal_approval_id: b.verbal_approval_id,
            };
            uc::add(c, p, &id, version, u)
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartCorrectionIn {
    /// the right quantity, 1–1000 (to take a part off, DELETE it)
    pub quantity: i32,
}

/// Correct the quantity of a part recorded on the order (until it is completed; the fee
/// follows). Recorded on the timeline as `part_corrected`.
#[utoipa::path(tag = "work orders", operation_id = "correct_work_order_part", request_body = PartCorrectionIn, responses((status = 200, body = OrderView), (status = 404), (status = 409), (status = 412), (status = 422), (status = 428)), security(("bearer" = [])))]
#[patch("/work-orders/{id}/parts/{part_id}")]
pub async fn correct_part(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<PartCorrectionIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    check_quantity(&mut check, b.quantity);
    check.finish()?;
    let (id, part_id) = path.into_inner();
    run(
        &state,
        caller,
        &req,
        (part_id, b.quantity),
        move |c, p, version, (part_id, quantity)| {
            uc::correct(c, p, &id, version, &part_id, quantity)
        },
    )
    .await
}

/// Remove a part recorded on the order by mistake (until it is completed; the fee
/// follows). Recorded on the timeline as `part_removed`.
#[utoipa::path(tag = "work orders", operation_id = "remove_work_order_part", responses((status = 200, body = OrderView), (status = 404), (status = 409), (status = 412), (status = 428)), security(("bearer" = [])))]
#[delete("/work-orders/{id}/parts/{part_id}")]
pub async fn remove_part(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let (id, part_id) = path.into_inner();
    run(
        &state,
        caller,
        &req,
        part_id,
        move |c, p, version, part_id| uc::remove(c, p, &id, version, &part_id),
    )
    .await
}

// ---------------------------------------------------------------- price list

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPart {
    pub code: String,
    pub name: String,
    pub unit_price_fen: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartUpdate {
    pub name: Option<String>,
    pub unit_price_fen: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartQuery {
    pub active: Option<bool>,
}

const PRICE_MAX: i64 = 100_000_000; // ¥1,000,000.00

fn check_price(check: &mut Check, price: i64) {
    if !(0..=PRICE_MAX).contains(&price) {
        check.add(
            "unit_price_fen",
            "out_of_range",
            "between 0 and 100000000 fen",
        );
    }
}

#[utoipa::path(tag = "parts", params(PartQuery, PageParams), responses((status = 200, body = inline(crate::store::Page<Part>))), security(("bearer" = [])))]
#[get("/parts")]
pub async fn list_parts(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<PartQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Parts, Op::Read)?;
    let page = page.to_req()?;
    let active = q.active;
    let result = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::list_parts(c, active, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

/// Add a part to the price list (admin).
#[utoipa::path(tag = "parts", request_body = NewPart, responses((status = 201, body = Part), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/parts")]
pub async fn create_part(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewPart>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Parts, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let code = check.text("code", &b.code, 50);
    let name = check.text("name", &b.name, 100);
    check_price(&mut check, b.unit_price_fen);
    check.finish()?;
    let part = in_tx(&state.pool, caller.session(), move |c| {
        Ok(uc::create_part(c, code, name, b.unit_price_fen)?)
    })
    .await?;
    Ok(created_etag(part.version, &part))
}

/// Change a part's name, price or whether it is offered (admin). Orders keep the price
/// they were recorded at.
#[utoipa::path(tag = "parts", request_body = PartUpdate, responses((status = 200, body = Part), (status = 412)), security(("bearer" = [])))]
#[patch("/parts/{id}")]
pub async fn update_part(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<PartUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Parts, Op::Write)?;
    let version = if_match(&req)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let name = b.name.as_deref().map(|n| check.text("name", n, 100));
    if let Some(p) = b.unit_price_fen {
        check_price(&mut check, p);
    }
    check.finish()?;
    let patch = PartPatch {
        name,
        unit_price_fen: b.unit_price_fen,
        active: b.active,
    };
    let part = in_tx(&state.pool, caller.session(), move |c| {
        Ok(uc::update_part(c, &id, version, &patch)?)
    })
    .await?;
    Ok(ok_etag(part.version, &part))
}
