//! The lifecycle actions: submit, approve, reject, assign, reassign, accept, decline,
//! readiness, depart, arrive, hold, resume, complete, close, cancel.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};

use super::run;
use crate::api::error::ApiError;
use crate::api::json::{ClientTime, Json, JsonOrEmpty, opt_when, when};
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::app::Check;
use crate::app::orders::lifecycle::{self as uc, Assignment};
use crate::app::orders::{OrderView, may};
use crate::domain::order::{Action, ReadinessItem};

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionIn {
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// when it was done, if the phone sends it late (offline): at most 72 hours back,
    /// not in the future, not before the previous step; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

/// An action whose only field is when it was done (see `PositionIn::at`).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AtIn {
    /// when it was done, if the phone sends it late (offline): at most 72 hours back,
    /// not in the future, not before the previous step; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

/// An action with an optional comment: role, comment checked, the use case.
async fn commented(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: String,
    body: JsonOrEmpty<CommentIn>,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    may(&caller, action)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let comment = check.opt_text("comment", b.comment.as_deref(), 500);
    check.finish()?;
    run(
        state,
        caller,
        req,
        comment,
        move |c, p, version, comment| {
            if action == Action::Close {
                uc::close(c, p, &id, version, comment)
            } else {
                uc::simple(c, p, &id, version, action, comment)
            }
        },
    )
    .await
}

/// An action with a required reason: role, reason checked, the use case.
async fn reasoned(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: String,
    body: Json<ReasonIn>,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    may(&caller, action)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let reason = check.text("reason", &b.reason, 500);
    check.finish()?;
    run(state, caller, req, reason, move |c, p, version, reason| {
        uc::with_reason(c, p, &id, version, action, reason)
    })
    .await
}

macro_rules! comment_action {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "work orders", request_body = CommentIn, responses((status = 200, body = OrderView), (status = 409), (status = 412)), security(("bearer" = [])))]
        #[post($path)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            caller: Caller,
            req: HttpRequest,
            id: web::Path<String>,
            body: JsonOrEmpty<CommentIn>,
        ) -> Result<HttpResponse, ApiError> {
            commented(&state, caller, &req, id.into_inner(), body, $action).await
        }
    };
}

macro_rules! reason_action {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "work orders", request_body = ReasonIn, responses((status = 200, body = OrderView), (status = 409), (status = 412), (status = 422)), security(("bearer" = [])))]
        #[post($path)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            caller: Caller,
            req: HttpRequest,
            id: web::Path<String>,
            body: Json<ReasonIn>,
        ) -> Result<HttpResponse, ApiError> {
            reasoned(&state, caller, &req, id.into_inner(), body, $action).await
        }
    };
}

comment_action!(
    submit,
    "/work-orders/{id}/submit",
    Action::Submit,
    "Submit a draft (or a rejected order, revised) for approval."
);
comment_action!(
    accept,
    "/work-orders/{id}/accept",
    Action::Accept,
    "The lead technician accepts the job."
);
comment_action!(
    resume,
    "/work-orders/{id}/resume",
    Action::Resume,
    "Resume an order on hold, to the state it was held in."
);
/// A manager approves an order of their center.
#[utoipa::path(tag = "work orders", request_body = CommentIn, responses((status = 200, body = OrderView), (status = 403), (status = 409), (status = 412)), security(("bearer" = [])))]
#[post("/work-orders/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<CommentIn>,
) -> Result<HttpResponse, ApiError> {
    commented(&state, caller, &req, id.into_inner(), body, Action::Approve).await
}

/// Close a completed order: 409 until its charge is settled (`charge_unsettled`), the cash
/// collected on site is handed over (`cash_not_remitted`) in a remittance finance confirmed
/// (`remittance_unconfirmed`), and its follow-up call is recorded or given up as
/// unreachable (`follow_up_pending`). The problem's `blockers` lists all that is missing.
#[utoipa::path(operation_id = "close_work_order", tag = "work orders", request_body = CommentIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/close")]
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<CommentIn>,
) -> Result<HttpResponse, ApiError> {
    commented(&state, caller, &req, id.into_inner(), body, Action::Close).await
}

reason_action!(
    reject,
    "/work-orders/{id}/reject",
    Action::Reject,
    "A manager rejects an order; the reason is required."
);
reason_action!(
    decline,
    "/work-orders/{id}/decline",
    Action::Decline,
    "The lead technician declines the job; it goes back to the manager to assign again."
);
reason_action!(
    hold,
    "/work-orders/{id}/hold",
    Action::Hold,
    "Put the order on hold (e.g. waiting for parts)."
);
reason_action!(
    cancel,
    "/work-orders/{id}/cancel",
    Action::Cancel,
    "Cancel the order with a reason."
);

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    pub lead_id: String,
    #[serde(default)]
    pub helper_ids: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_at: ClientTime,
    /// 外协: required when any assigned technician is an external contractor; the
    /// assigning manager's approval of it
    pub outsourcing_reason: Option<String>,
    /// assign even though the lead is booked around that time
    #[serde(default)]
    pub allow_double_booking: bool,
}

async fn assigning(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: String,
    body: Json<AssignIn>,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    may(&caller, action)?;
    let b = body.parse()?;
    let scheduled_at = when("scheduled_at", b.scheduled_at)?;
    run(state, caller, req, b, move |c, p, version, b| {
        let a = Assignment {
            lead_id: b.lead_id,
            helper_ids: b.helper_ids,
            scheduled_at,
            outsourcing_reason: b.outsourcing_reason,
            allow_double_booking: b.allow_double_booking,
        };
        uc::assign(c, p, &id, version, action, a)
    })
    .await
}

/// Assign a lead technician (and helpers) and schedule the visit.
#[utoipa::path(tag = "work orders", request_body = AssignIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/assign")]
pub async fn assign(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<AssignIn>,
) -> Result<HttpResponse, ApiError> {
    assigning(&state, caller, &req, id.into_inner(), body, Action::Assign).await
}

/// Assign another lead (before the visit starts).
#[utoipa::path(tag = "work orders", request_body = AssignIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/reassign")]
pub async fn reassign(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<AssignIn>,
) -> Result<HttpResponse, ApiError> {
    assigning(
        &state,
        caller,
        &req,
        id.into_inner(),
        body,
        Action::Reassign,
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessIn {
    /// info_verified, tools, spare_parts, documents: all four before departure
    pub items: Vec<String>,
}

/// The readiness check before departure (出发前核对): every item ticked.
#[utoipa::path(tag = "work orders", request_body = ReadinessIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/readiness")]
pub async fn readiness(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<ReadinessIn>,
) -> Result<HttpResponse, ApiError> {
    may(&caller, Action::CheckReady)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let mut ticked = Vec::new();
    for (i, item) in b.items.iter().enumerate() {
        match ReadinessItem::parse(item) {
            Some(x) if !ticked.contains(&x) => ticked.push(x),
            Some(_) => {}
            None => check.add(
                format!("items[{i}]"),
                "invalid_choice",
                format!("must be one of: {}", ReadinessItem::names()),
            ),
        }
    }
    check.finish()?;
    uc::require_ready(&ticked)?;
    let names: Vec<&str> = ticked.iter().map(|t| t.as_str()).collect();
    let key = serde_json::to_string(&names).unwrap_or_default();
    let id = id.into_inner();
    run(&state, caller, &req, key, move |c, p, version, _| {
        uc::readiness(c, p, &id, version, &ticked)
    })
    .await
}

/// A move of the technician's (depart, arrive), with the phone's position when given.
async fn travel(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: String,
    body: JsonOrEmpty<PositionIn>,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    may(&caller, action)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let pos = check.opt_point(b.lat, b.lng);
    check.finish()?;
    let at = opt_when("at", b.at)?;
    run(
        state,
        caller,
        req,
        (pos, at),
        move |c, p, version, (pos, at)| uc::travel(c, p, &id, version, action, pos, at),
    )
    .await
}

/// The technician leaves for the site.
#[utoipa::path(tag = "work orders", request_body = PositionIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/depart")]
pub async fn depart(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<PositionIn>,
) -> Result<HttpResponse, ApiError> {
    travel(&state, caller, &req, id.into_inner(), body, Action::Depart).await
}

/// The technician is on site: the wait (request → arrival) is recorded.
#[utoipa::path(tag = "work orders", request_body = PositionIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/arrive")]
pub async fn arrive(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<PositionIn>,
) -> Result<HttpResponse, ApiError> {
    travel(&state, caller, &req, id.into_inner(), body, Action::Arrive).await
}

/// Complete the order: every line resolved, the customer signed off; the fee is computed
/// (in warranty free; out of warranty parts only, no labour — 保修期外维修只收零部件费用).
#[utoipa::path(tag = "work orders", request_body = AtIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<AtIn>,
) -> Result<HttpResponse, ApiError> {
    may(&caller, Action::Complete)?;
    let at = opt_when("at", body.parse()?.at)?;
    let id = id.into_inner();
    run(&state, caller, &req, at, move |c, p, version, at| {
        uc::complete(c, p, &id, version, at)
    })
    .await
}
