//! A manager's override of terminals not reporting (上线检测 not passed).

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};

use super::run;
use crate::api::error::ApiError;
use crate::api::json::Json;
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::app::Check;
use crate::app::orders::OrderView;
use crate::app::orders::first_report as uc;

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseIn {
    /// why the order may complete without the terminals' first report
    pub reason: String,
}

/// A manager of the order's center (or an admin) lets it complete although its terminals
/// have not reported yet (where the center requires it), with the reason; once per
/// order, before completion.
#[utoipa::path(tag = "work orders", request_body = ReleaseIn, responses((status = 200, body = OrderView), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422), (status = 428)), security(("bearer" = [])))]
#[post("/work-orders/{id}/waive-first-report")]
pub async fn waive_first_report(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<ReleaseIn>,
) -> Result<HttpResponse, ApiError> {
    crate::app::orders::photos::may_waive_any(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let reason = check.text("reason", &b.reason, 200);
    check.finish()?;
    let id = id.into_inner();
    run(
        &state,
        caller,
        &req,
        reason,
        move |c, p, version, reason| uc::waive(c, p, &id, version, reason),
    )
    .await
}
