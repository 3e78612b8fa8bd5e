//! GET /api/v1/search: find an order, customer, vehicle, terminal, SIM or payment from one
//! text (`app::search`).

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::error::ApiError;
use super::session::Caller;
use super::state::AppState;
use super::support::with_db;
use crate::app::search::{DEFAULT_LIMIT, MAX_LIMIT, Search, SearchResult};
use crate::domain::access::{Op, Resource};
use crate::domain::search::{Kind, Plan, QueryRefusal};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// order or receipt number (or its start), plate (part), phone of a contact or driver,
    /// customer name (part) or its pinyin initials, IMEI, ICCID, MSISDN (or their last
    /// 4+ digits), VIN (last 6+); 1–64 characters
    pub q: Option<String>,
    /// comma-separated kinds to look for: order, customer, vehicle, terminal, sim, payment
    /// (default all)
    pub kinds: Option<String>,
    /// hits per group, 1–20 (default 5)
    pub limit: Option<String>,
    /// admins: one center only
    pub center_id: Option<String>,
}

fn invalid(detail: impl Into<String>) -> ApiError {
    QueryRefusal::Parameter(detail.into()).into()
}

/// Everything the text finds, grouped by kind (order, customer, vehicle, terminal, sim,
/// payment; empty groups left out), in the caller's scope.
#[utoipa::path(operation_id = "search", tag = "search", params(SearchQuery), responses((status = 200, body = SearchResult), (status = 400)), security(("bearer" = [])))]
#[get("/search")]
pub async fn search(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Read)?;
    let q = q.into_inner();
    let plan = Plan::parse(q.q.as_deref().unwrap_or_default())?;
    let mut kinds = Vec::new();
    for k in q.kinds.as_deref().unwrap_or_default().split(',') {
        let k = k.trim();
        if k.is_empty() {
            continue;
        }
        let kind = Kind::parse(k)
            .ok_or_else(|| invalid(format!("kinds: {k:?} is not one of {}", Kind::names())))?;
        kinds.push(kind);
    }
    let limit = match q.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| invalid(format!("limit must be between 1 and {MAX_LIMIT}")))?,
    };
    let input = Search {
        plan,
        kinds,
        limit,
        center_id: q.center_id.filter(|c| !c.is_empty()),
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        Ok(crate::app::search::search(c, caller.principal(), input)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}
