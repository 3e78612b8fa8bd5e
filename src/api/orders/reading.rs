//! Reading orders: the list, one order, its print, its timeline.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};

use crate::api::documents;
use crate::api::error::ApiError;
use crate::api::json::{ClientTime, opt_when};
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::api::support::{PageParams, ok_etag, page_json, with_db};
use crate::app::Check;
use crate::app::orders::{self as uc, OrderListItem, OrderView};
use crate::domain::access::{Op, Resource};
use crate::domain::order::{OrderKind, OrderStatus};
use crate::store::orders::{OrderEvent, OrderFilter, WorkOrder};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    pub center_id: Option<String>,
    /// install | repair
    pub kind: Option<String>,
    /// one or more states, comma-separated
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub technician_id: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub scheduled_from: Option<ClientTime>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub scheduled_to: Option<ClientTime>,
}

/// Orders of the caller's center; a technician's own orders only.
#[utoipa::path(operation_id = "list_work_orders", tag = "work orders", params(OrderQuery, PageParams), responses((status = 200, body = inline(crate::store::Page<OrderListItem>))), security(("bearer" = [])))]
#[get("/work-orders")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<OrderQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let mut check = Check::new();
    if let Some(k) = &q.kind
        && OrderKind::parse(k).is_none()
    {
        check.add("kind", "invalid_choice", "must be one of: install, repair");
    }
    let statuses = q.status.as_deref().map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    if let Some(list) = &statuses
        && list.iter().any(|s| OrderStatus::parse(s).is_none())
    {
        check.add(
            "status",
            "invalid_choice",
            format!("must be among: {}", OrderStatus::names()),
        );
    }
    check.finish()?;
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return crate::api::support::empty_page::<WorkOrder>(&state.pool, caller.session()).await;
    };
    let scheduled_from = opt_when("scheduled_from", q.scheduled_from)?;
    let scheduled_to = opt_when("scheduled_to", q.scheduled_to)?;
    let result = with_db(&state.pool, caller.session(), move |c| {
        let f = OrderFilter {
            center: center.as_deref(),
            technician: q.technician_id.as_deref(),
            kind: q.kind,
            status: statuses,
            customer_id: q.customer_id,
            scheduled_from,
            scheduled_to,
        };
        Ok(uc::list(c, caller.principal(), f, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

#[utoipa::path(operation_id = "get_work_order", tag = "work orders", responses((status = 200, body = OrderView), (status = 404)), security(("bearer" = [])))]
#[get("/work-orders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    let v = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::get(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(ok_etag(v.order.version, &v))
}

/// The order printed: 安装任务派工单 or 维修服务单 (A4, Simplified Chinese, with a QR code of
/// the number). `X-Missing-Glyphs` names characters no configured font has (printed as □);
/// 503 when no CJK font is installed.
#[utoipa::path(tag = "work orders", responses((status = 200, content_type = "application/pdf"), (status = 404), (status = 503)), security(("bearer" = [])))]
#[get("/work-orders/{id}/pdf")]
pub async fn pdf(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    documents::ready(&state.documents)?;
    let docs = state.documents.clone();
    let mut doc = with_db(&state.pool, caller.session(), move |c| {
        let order = uc::load(c, caller.principal(), &id)?;
        Ok(docs.work_order(c, &order.row)?)
    })
    .await?;
    // the photos' thumbnails from the object store (one missing or the store down: the
    // order prints with the caption saying so)
    if let crate::documents::Doc::WorkOrder(d) = &mut doc {
        for p in &mut d.photos {
            p.thumb = state.objects.get(&p.thumb_key).await.ok();
        }
    }
    documents::respond(state.documents.clone(), doc).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub items: Vec<OrderEvent>,
}

/// The order's timeline: every transition and recorded act, oldest first.
#[utoipa::path(tag = "work orders", responses((status = 200, body = Timeline), (status = 404)), security(("bearer" = [])))]
#[get("/work-orders/{id}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    let items = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::timeline(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Timeline { items }))
}
