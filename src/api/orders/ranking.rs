//! The technicians ranked for an order.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};

use crate::api::error::ApiError;
use crate::api::json::{ClientTime, opt_when};
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::api::support::with_db;
use crate::app::orders::candidates as uc;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidateQuery {
    /// 1–50, default 10
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<usize>,
    /// the visit time to check bookings against; default the order's, or now
    #[param(value_type = Option<String>, format = DateTime)]
    pub scheduled_at: Option<ClientTime>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Candidates {
    pub items: Vec<crate::domain::ranking::Candidate>,
}

/// Technicians ranked for the order, with the reasons: skill, model, distance from their
/// last known position (or home base), today's jobs, bookings at the visit time.
#[utoipa::path(tag = "work orders", params(CandidateQuery), responses((status = 200, body = Candidates), (status = 404)), security(("bearer" = [])))]
#[get("/work-orders/{id}/candidates")]
pub async fn candidates(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<CandidateQuery>,
) -> Result<HttpResponse, ApiError> {
    uc::may_rank(&caller)?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "between 1 and 50"));
    }
    let at = opt_when("scheduled_at", q.scheduled_at)?;
    let items = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::rank(c, caller.principal(), &id, at, limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Candidates { items }))
}
