//! Customer feedback: tickets (咨询/投诉/建议) with reply deadlines and 首问负责 ownership,
//! follow-up calls (回访) with satisfaction scores, the deadline and revisit jobs, and the
//! service KPIs.
//!
//! Roles: agents, managers and admins work tickets and calls (technicians and finance do
//! not see them); the owner of a ticket acts on it, and so may the center's managers.
//! KPIs: managers their center, admins every center.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json::opt_when;
use super::json::{ClientTime, Json, JsonOrEmpty};
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, if_match, in_tx, ok_etag, scoped_page, with_db,
};
use crate::app::feedback::follow_ups;
pub use crate::app::feedback::follow_ups::{AttemptView, CallView, FollowUpRow};
use crate::app::feedback::kpis::{KpiPeriod, report};
pub use crate::app::feedback::kpis::{KpiReport, KpiRow};
use crate::app::feedback::tickets::{self, Step};
pub use crate::app::feedback::tickets::{TicketRow, TicketView};
use crate::domain::access::{Op, Resource, Role};
use crate::domain::feedback::{
    self as rules, FollowUpKind, FollowUpStatus, TicketChannel, TicketKind, TicketStatus,
    TicketUrgency,
};
use crate::store::feedback::{
    DEFAULT_FOLLOW_UP_ATTEMPTS, FeedbackSettings, FollowUp, FollowUpFilter, KpiGroup, TicketFilter,
    TicketStaff,
};
use crate::store::now;

const TEXT_MAX: usize = 2000;

// ---------------------------------------------------------------- tickets

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub customer_id: String,
    /// the order it is about, if any
    pub order_id: Option<String>,
    /// inquiry, complaint, suggestion
    pub kind: String,
    /// hotline, letter, visit, online, email
    pub channel: String,
    /// urgent or normal (default)
    pub urgency: Option<String>,
    pub subject: String,
    pub description: String,
    /// when the customer reached us; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<ClientTime>,
}

/// Take a ticket: the caller owns it (首问负责). The reply deadline follows from the
/// urgency and the center's settings.
#[utoipa::path(tag = "feedback", request_body = NewTicket, responses((status = 201, body = TicketView), (status = 422)), security(("bearer" = [])))]
#[post("/tickets")]
pub async fn create_ticket(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewTicket>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let kind = check.one_of("kind", &b.kind, TicketKind::parse, &TicketKind::names());
    let channel = check.one_of(
        "channel",
        &b.channel,
        TicketChannel::parse,
        &TicketChannel::names(),
    );
    let urgency = match &b.urgency {
        Some(u) => check.one_of("urgency", u, TicketUrgency::parse, &TicketUrgency::names()),
        None => Some(TicketUrgency::Normal),
    };
    let subject = check.text("subject", &b.subject, 200);
    let description = check.text("description", &b.description, TEXT_MAX);
    let received = opt_when("received_at", b.received_at)?;
    check.finish()?;
    let (Some(kind), Some(channel), Some(urgency)) = (kind, channel, urgency) else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let received_at = received.unwrap_or_else(now);
    if received_at > now() + Duration::minutes(5) {
        return Err(ApiError::field(
            "received_at",
            "in_future",
            "not in the future",
        ));
    }
    let new = tickets::NewTicket {
        customer_id: b.customer_id,
        order_id: b.order_id,
        kind,
        channel,
        urgency,
        subject,
        description,
        received_at,
    };
    let v = in_tx(&state.pool, caller.session(), move |c| {
        Ok(tickets::create(c, caller.principal(), new)?)
    })
    .await?;
    Ok(created_etag(v.ticket.version, &v))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    pub center_id: Option<String>,
    /// open, replied, resolved, closed; several separated by commas (any of them)
    pub status: Option<String>,
    pub kind: Option<String>,
    pub owner_id: Option<String>,
    pub customer_id: Option<String>,
    /// only breached (true) or in-time (false) tickets
    pub breached: Option<bool>,
}

/// The center's tickets (agents, managers; admins all), each with its customer's and
/// owner's names.
#[utoipa::path(tag = "feedback", params(TicketQuery, PageParams), responses((status = 200, body = inline(crate::store::Page<TicketRow>))), security(("bearer" = [])))]
#[get("/tickets")]
pub async fn list_tickets(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<TicketQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Read)?;
    let q = q.into_inner();
    let mut check = Check::new();
    let statuses = q.status.as_deref().map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    if let Some(list) = &statuses {
        for s in list {
            check.one_of("status", s, TicketStatus::parse, &TicketStatus::names());
        }
    }
    if let Some(k) = &q.kind {
        check.one_of("kind", k, TicketKind::parse, &TicketKind::names());
    }
    check.finish()?;
    scoped_page(
        &state.pool,
        &caller,
        q.center_id.clone(),
        &page,
        move |c, center, page| {
            let f = TicketFilter {
                center,
                status: statuses,
                kind: q.kind,
                owner_id: q.owner_id,
                customer_id: q.customer_id,
                breached: q.breached,
            };
            Ok(tickets::list(c, &f, &page)?)
        },
    )
    .await
}

#[utoipa::path(tag = "feedback", responses((status = 200, body = TicketView), (status = 404)), security(("bearer" = [])))]
#[get("/tickets/{id}")]
pub async fn get_ticket(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Read)?;
    let v = with_db(&state.pool, caller.session(), move |c| {
        Ok(tickets::get(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(ok_etag(v.ticket.version, &v))
}

/// Who the ticket may be handed over to: the active agents and managers of its center
/// other than its owner (agents cannot read the user list).
#[utoipa::path(tag = "feedback", responses((status = 200, body = Vec<TicketStaff>), (status = 404)), security(("bearer" = [])))]
#[get("/tickets/{id}/handover-targets")]
pub async fn handover_targets(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Read)?;
    let v = with_db(&state.pool, caller.session(), move |c| {
        Ok(tickets::handover_targets(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Runs a step of a ticket's lifecycle at the version of `If-Match` (the owner, a
/// manager of its center, or an admin).
async fn act(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: String,
    step: Step,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Write)?;
    let version = if_match(req)?;
    let v = in_tx(&state.pool, caller.session(), move |c| {
        Ok(tickets::act(c, caller.principal(), &id, version, step)?)
    })
    .await?;
    Ok(ok_etag(v.ticket.version, &v))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextIn {
    pub text: String,
}

/// Reply to the customer (the first reply stops the deadline clock).
#[utoipa::path(tag = "feedback", request_body = TextIn, responses((status = 200, body = TicketView), (status = 409)), security(("bearer" = [])))]
#[post("/tickets/{id}/reply")]
pub async fn reply(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<TextIn>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let text = check.text("text", &b.text, TEXT_MAX);
    check.finish()?;
    act(&state, caller, &req, id.into_inner(), Step::Reply { text }).await
}

/// Resolve: what was done about it.
#[utoipa::path(tag = "feedback", request_body = TextIn, responses((status = 200, body = TicketView), (status = 409)), security(("bearer" = [])))]
#[post("/tickets/{id}/resolve")]
pub async fn resolve(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<TextIn>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let text = check.text("text", &b.text, TEXT_MAX);
    check.finish()?;
    act(
        &state,
        caller,
        &req,
        id.into_inner(),
        Step::Resolve { text },
    )
    .await
}

/// Record that the customer was told the result (how: 电话告知, 短信, 上门 …); needed to
/// close. Allowed on a resolved ticket.
#[utoipa::path(tag = "feedback", request_body = TextIn, responses((status = 200, body = TicketView), (status = 409)), security(("bearer" = [])))]
#[post("/tickets/{id}/customer-notified")]
pub async fn customer_notified(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<TextIn>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let text = check.text("text", &b.text, 500);
    check.finish()?;
    act(
        &state,
        caller,
        &req,
        id.into_inner(),
        Step::NotifyCustomer { text },
    )
    .await
}

/// Close a resolved ticket whose result the customer was told.
#[utoipa::path(operation_id = "close_ticket", tag = "feedback", responses((status = 200, body = TicketView), (status = 409)), security(("bearer" = [])))]
#[post("/tickets/{id}/close")]
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    _body: JsonOrEmpty<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    act(&state, caller, &req, id.into_inner(), Step::Close).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverIn {
    /// an active agent or manager of the ticket's center
    pub to_user_id: String,
    /// what the new owner needs to know
    pub note: String,
}

/// Hand the ticket to another agent or manager of the center, with a note.
#[utoipa::path(tag = "feedback", request_body = HandoverIn, responses((status = 200, body = TicketView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/tickets/{id}/handover")]
pub async fn handover(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<HandoverIn>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let note = check.text("note", &b.note, 1000);
    check.finish()?;
    act(
        &state,
        caller,
        &req,
        id.into_inner(),
        Step::Handover {
            to_user_id: b.to_user_id,
            note,
        },
    )
    .await
}

// ---------------------------------------------------------------- follow-ups

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    pub center_id: Option<String>,
    /// open or done
    pub status: Option<String>,
    /// completion or revisit
    pub kind: Option<String>,
    pub assignee_id: Option<String>,
    pub customer_id: Option<String>,
}

/// Follow-up calls (回访) of the center, each with its customer's name and the failed
/// attempts so far.
#[utoipa::path(tag = "feedback", params(FollowUpQuery, PageParams), responses((status = 200, body = inline(crate::store::Page<FollowUpRow>))), security(("bearer" = [])))]
#[get("/follow-ups")]
pub async fn list_follow_ups(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<FollowUpQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Read)?;
    let q = q.into_inner();
    let mut check = Check::new();
    if let Some(s) = &q.status {
        check.one_of("status", s, FollowUpStatus::parse, &FollowUpStatus::names());
    }
    if let Some(k) = &q.kind {
        check.one_of("kind", k, FollowUpKind::parse, &FollowUpKind::names());
    }
    check.finish()?;
    scoped_page(
        &state.pool,
        &caller,
        q.center_id.clone(),
        &page,
        move |c, center, page| {
            let f = FollowUpFilter {
                center,
                status: q.status,
                kind: q.kind,
                assignee_id: q.assignee_id,
                customer_id: q.customer_id,
            };
            Ok(follow_ups::list(c, &f, &page)?)
        },
    )
    .await
}

#[utoipa::path(tag = "feedback", responses((status = 200, body = FollowUp), (status = 404)), security(("bearer" = [])))]
#[get("/follow-ups/{id}")]
pub async fn get_follow_up(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Read)?;
    let f = with_db(&state.pool, caller.session(), move |c| {
        Ok(follow_ups::get(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(ok_etag(f.version, &f))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallIn {
    /// satisfaction 1 (very unhappy) – 5 (very happy); 2 or less opens a complaint
    pub score: i32,
    pub comment: Option<String>,
}

/// Record the call: the satisfaction score and comment. A score of 2 or less opens an
/// urgent complaint owned by the caller.
#[utoipa::path(tag = "feedback", request_body = CallIn, responses((status = 200, body = CallView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/follow-ups/{id}/record")]
pub async fn record_call(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<CallIn>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Write)?;
    let version = if_match(&req)?;
    let b = body.parse()?;
    let mut check = Check::new();
    if !rules::valid_score(b.score) {
        check.add("score", "out_of_range", "1 to 5");
    }
    let comment = check.opt_text("comment", b.comment.as_deref(), TEXT_MAX);
    check.finish()?;
    let v = in_tx(&state.pool, caller.session(), move |c| {
        let p = caller.principal();
        Ok(follow_ups::record_call(
            c, p, &id, version, b.score, comment,
        )?)
    })
    .await?;
    Ok(ok_etag(v.follow_up.version, &v))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptIn {
    /// what happened (no answer, switched off, wrong number…)
    pub note: Option<String>,
}

/// Record a failed attempt to reach the customer (`If-Match` with the follow-up's ETag).
/// After the center's `follow_up_attempts` (default 3) the call is done, `unreachable`,
/// and the order it follows may close.
#[utoipa::path(tag = "feedback", operation_id = "record_follow_up_unreachable", request_body = AttemptIn, responses((status = 200, body = AttemptView), (status = 404), (status = 409), (status = 412), (status = 428)), security(("bearer" = [])))]
#[post("/follow-ups/{id}/unreachable")]
pub async fn record_unreachable(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<AttemptIn>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Write)?;
    let version = if_match(&req)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let note = check.opt_text("note", b.note.as_deref(), TEXT_MAX);
    check.finish()?;
    let v = in_tx(&state.pool, caller.session(), move |c| {
        Ok(follow_ups::record_unreachable(
            c,
            caller.principal(),
            &id,
            version,
            note,
        )?)
    })
    .await?;
    Ok(ok_etag(v.follow_up.version, &v))
}

// ---------------------------------------------------------------- settings

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackSettingsIn {
    pub urgent_reply_minutes: i32,
    pub normal_reply_minutes: i32,
    pub key_revisit_days: i32,
    /// none: major customers are not revisited on a schedule
    pub major_revisit_days: Option<i32>,
    /// failed attempts to reach the customer after which a completion follow-up is done
    /// as unreachable, 1–20; default 3
    #[serde(default)]
    pub follow_up_attempts: Option<i32>,
}

#[utoipa::path(operation_id = "get_feedback_settings", tag = "feedback", responses((status = 200, body = FeedbackSettings)), security(("bearer" = [])))]
#[get("/centers/{id}/feedback-settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Feedback, Op::Read)?;
    let s = with_db(&state.pool, caller.session(), move |c| {
        Ok(crate::app::feedback::settings(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(ok_etag(s.version, &s))
}

/// Set a center's reply deadlines and revisit intervals (admins; `If-Match` with the
/// settings' ETag; the defaults are version 1).
#[utoipa::path(operation_id = "put_feedback_settings", tag = "feedback", request_body = FeedbackSettingsIn, responses((status = 200, body = FeedbackSettings)), security(("bearer" = [])))]
#[put("/centers/{id}/feedback-settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<FeedbackSettingsIn>,
) -> Result<HttpResponse, ApiError> {
    if caller.role != Role::Admin {
        return Err(ApiError::Forbidden);
    }
    let version = if_match(&req)?;
    let b = body.parse()?;
    let mut check = Check::new();
    for (field, v, max) in [
        ("urgent_reply_minutes", b.urgent_reply_minutes, 7 * 24 * 60),
        ("normal_reply_minutes", b.normal_reply_minutes, 30 * 24 * 60),
        ("key_revisit_days", b.key_revisit_days, 3650),
    ] {
        if !(1..=max).contains(&v) {
            check.add(field, "out_of_range", format!("1 to {max}"));
        }
    }
    if b.major_revisit_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        check.add("major_revisit_days", "out_of_range", "1 to 3650");
    }
    if b.follow_up_attempts.is_some_and(|n| !(1..=20).contains(&n)) {
        check.add("follow_up_attempts", "out_of_range", "1 to 20");
    }
    check.finish()?;
    let new = FeedbackSettings {
        center_id: id.into_inner(),
        urgent_reply_minutes: b.urgent_reply_minutes,
        normal_reply_minutes: b.normal_reply_minutes,
        key_revisit_days: b.key_revisit_days,
        major_revisit_days: b.major_revisit_days,
        version,
        updated_at: now(),
        follow_up_attempts: b.follow_up_attempts.unwrap_or(DEFAULT_FOLLOW_UP_ATTEMPTS),
    };
    let s = in_tx(&state.pool, caller.session(), move |c| {
        Ok(crate::app::feedback::save_settings(c, new)?)
    })
    .await?;
    Ok(ok_etag(s.version, &s))
}

// ---------------------------------------------------------------- KPIs

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// first China day of the period (YYYY-MM-DD)
    pub from: NaiveDate,
    /// last China day of the period, inclusive
    pub to: NaiveDate,
    pub center_id: Option<String>,
    /// center (default) or technician (the orders' lead)
    pub by: Option<String>,
}

/// Service KPIs for a period of China days, by center or by lead technician: orders by
/// kind and status, wait and repair time (average and p90), first-visit fix rate, tickets
/// answered in time, resolution rate, complaints per 100 orders, satisfaction.
#[utoipa::path(tag = "feedback", params(KpiQuery), responses((status = 200, body = KpiReport)), security(("bearer" = [])))]
#[get("/kpis")]
pub async fn kpis(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<KpiQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Kpis, Op::Read)?;
    let q = q.into_inner();
    let group = match q.by.as_deref() {
        None | Some("center") => KpiGroup::Center,
        Some("technician") => KpiGroup::Technician,
        Some(_) => return Err(ApiError::field("by", "invalid", "center or technician")),
    };
    use chrono::Datelike;
    if !(2000..2100).contains(&q.from.year()) || !(2000..2100).contains(&q.to.year()) {
        return Err(ApiError::field(
            "from",
            "out_of_range",
            "days between 2000 and 2099",
        ));
    }
    if q.to < q.from || (q.to - q.from).num_days() > 366 {
        return Err(ApiError::field(
            "to",
            "out_of_range",
            "from ≤ to, at most a year apart",
        ));
    }
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return Err(ApiError::NotFound);
    };
    let period = KpiPeriod {
        from: q.from,
        to: q.to,
        group,
        center,
    };
    let report = with_db(&state.pool, caller.session(), move |c| {
        Ok(report(c, period)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}
