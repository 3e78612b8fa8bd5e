//! Customer feedback: tickets (咨询/投诉/建议) with reply deadlines and 首问负责 ownership,
//! follow-up calls (回访) with satisfaction scores, the deadline and revisit jobs, and the
//! service KPIs.
//!
//! Roles: agents, managers and admins work tickets and calls (technicians and finance do
//! not see them); the owner of a ticket acts on it, and so may the center's managers.
//! KPIs: managers their center, admins every center.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json::opt_when;
use super::json::{ClientTime, Json, JsonOrEmpty};
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, if_match, in_tx, ok_etag, scoped_page, with_db,
};
use crate::domain::access::{Op, Resource, Role};
use crate::domain::feedback::{
    self as rules, Deadlines, TicketAction, TicketChannel, TicketKind, TicketRefusal, TicketStatus,
    TicketUrgency,
};
use crate::domain::{china_day, document_number};
use crate::store::feedback::{
    self as store, FeedbackSettings, FollowUp, FollowUpFilter, KpiGroup, Ticket, TicketEvent,
    TicketFilter, TicketPatch,
};
use crate::store::{DbConn, StoreResult, centers, customers, new_id, now, orders, users};

const TEXT_MAX: usize = 2000;

// ---------------------------------------------------------------- tickets

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// every step: who, when, from, to
    pub events: Vec<TicketEvent>,
}

fn ticket_view(c: &mut DbConn, ticket: Ticket) -> Result<TicketView, ApiError> {
    Ok(TicketView {
        events: store::ticket_events(c, &ticket.id)?,
        ticket,
    })
}

fn see_ticket(c: &mut DbConn, caller: &Caller, id: &str) -> Result<Ticket, ApiError> {
    let t = store::ticket(c, id)?;
    caller.see(&t.center_id)?;
    Ok(t)
}

fn deadlines(s: &FeedbackSettings) -> Deadlines {
    Deadlines {
        urgent_minutes: i64::from(s.urgent_reply_minutes),
        normal_minutes: i64::from(s.normal_reply_minutes),
    }
}

/// A new ticket (inside the caller's transaction): numbered, its deadline set from the
/// center's settings, on its timeline.
#[allow(clippy::too_many_arguments)]
fn open_ticket(
    c: &mut DbConn,
    center_id: &str,
    customer_id: &str,
    order_id: Option<String>,
    kind: TicketKind,
    channel: TicketChannel,
    urgency: TicketUrgency,
    subject: String,
    description: String,
    owner_id: &str,
    received_at: NaiveDateTime,
    follow_up_id: Option<String>,
) -> StoreResult<Ticket> {
    let center = centers::get(c, center_id)?;
    let settings = store::settings(c, center_id)?;
    let year = chrono::Datelike::year(&china_day(received_at));
    let seq = crate::store::numbers::next_number(c, center_id, kind.prefix(), year)?;
    let t = now();
    let ticket = Ticket {
        id: new_id(),
        number: document_number(kind.prefix(), &center.code, year, seq),
        center_id: center_id.to_string(),
        customer_id: customer_id.to_string(),
        order_id,
        kind: kind.as_str().into(),
        channel: channel.as_str().into(),
        urgency: urgency.as_str().into(),
        subject,
        description,
        status: TicketStatus::Open.as_str().into(),
        owner_id: owner_id.to_string(),
        created_by: owner_id.to_string(),
        received_at,
        reply_due_at: rules::reply_due(received_at, urgency, deadlines(&settings)),
        replied_at: None,
        reply: None,
        breached: false,
        escalated_at: None,
        resolved_at: None,
        resolution: None,
        customer_notified_at: None,
        customer_notice: None,
        closed_at: None,
        follow_up_id,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    store::insert_ticket(c, &ticket)?;
    store::add_ticket_event(
        c,
        &ticket.id,
        Some(owner_id),
        "create",
        None,
        Some(&ticket.number),
        t,
    )?;
    Ok(ticket)
}

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
    let (kind, channel, urgency) = (kind.unwrap(), channel.unwrap(), urgency.unwrap());
    let received_at = received.unwrap_or_else(now);
    if received_at > now() + Duration::minutes(5) {
        return Err(ApiError::field(
            "received_at",
            "in_future",
            "not in the future",
        ));
    }
    let v = in_tx(&state.pool, caller.session(), move |c| {
        let customer = customers::get_row(c, &b.customer_id)
            .ok()
            .filter(|cu| caller.scope.covers(&cu.center_id))
            .ok_or_else(|| ApiError::field("customer_id", "unknown", "no such customer"))?;
        if let Some(o) = &b.order_id {
            let order = orders::get(c, o)
                .ok()
                .filter(|o| o.customer_id == customer.id);
            if order.is_none() {
                return Err(ApiError::field(
                    "order_id",
                    "unknown",
                    "no such order of this customer",
                ));
            }
        }
        let t = open_ticket(
            c,
            &customer.center_id,
            &customer.id,
            b.order_id,
            kind,
            channel,
            urgency,
            subject,
            description,
            &caller.id,
            received_at,
            None,
        )?;
        ticket_view(c, t)
    })
    .await?;
    Ok(created_etag(v.ticket.version, &v))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    pub center_id: Option<String>,
    /// open, replied, resolved, closed
    pub status: Option<String>,
    pub kind: Option<String>,
    pub owner_id: Option<String>,
    pub customer_id: Option<String>,
    /// only breached (true) or in-time (false) tickets
    pub breached: Option<bool>,
}

/// The center's tickets (agents, managers; admins all).
#[utoipa::path(tag = "feedback", params(TicketQuery, PageParams), responses((status = 200)), security(("bearer" = [])))]
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
    if let Some(s) = &q.status {
        check.one_of("status", s, TicketStatus::parse, &TicketStatus::names());
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
                status: q.status,
                kind: q.kind,
                owner_id: q.owner_id,
                customer_id: q.customer_id,
                breached: q.breached,
            };
            Ok(store::list_tickets(c, &f, &page)?)
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
        let t = see_ticket(c, &caller, &id)?;
        ticket_view(c, t)
    })
    .await?;
    Ok(ok_etag(v.ticket.version, &v))
}

fn refused(r: TicketRefusal) -> ApiError {
    let mut extra = serde_json::Map::new();
    if let TicketRefusal::WrongState { current } = &r {
        extra.insert("current_status".into(), current.as_str().into());
    }
    ApiError::Conflict {
        code: r.code().to_string(),
        detail: match r {
            TicketRefusal::WrongState { current } => {
                format!("not possible on a {} ticket", current.as_str())
            }
            TicketRefusal::CustomerNotTold => {
                "record how the customer was told the result first".into()
            }
        },
        extra: Some(extra),
    }
}

/// Runs an action on a ticket: the owner (or a manager of its center, or an admin), at
/// the version of `If-Match`, through the lifecycle of `domain::feedback`.
async fn act<F>(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: String,
    action: TicketAction,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut DbConn, &Caller, &Ticket, &mut TicketPatch) -> Result<Option<String>, ApiError>
        + Send
        + 'static,
{
    caller.require(Resource::Feedback, Op::Write)?;
    let version = if_match(req)?;
    let v = in_tx(&state.pool, caller.session(), move |c| {
        let t = see_ticket(c, &caller, &id)?;
        if t.owner_id != caller.id && !matches!(caller.role, Role::Manager | Role::Admin) {
            return Err(ApiError::Conflict {
                code: "not_owner".into(),
                detail: "only the ticket's owner (or a manager) acts on it; ask for a handover"
                    .into(),
                extra: None,
            });
        }
        if !crate::store::version_matches(version, t.version) {
            return Err(ApiError::PreconditionFailed { current: t.version });
        }
        let from = TicketStatus::parse(&t.status).unwrap_or(TicketStatus::Closed);
        let to = rules::next(from, action, t.customer_notified_at.is_some()).map_err(refused)?;
        let mut patch = TicketPatch {
            status: Some(to.as_str().into()),
            ..Default::default()
        };
        let comment = f(c, &caller, &t, &mut patch)?;
        store::update_ticket(c, &t.id, t.version, &patch)?;
        let states = (from != to).then_some((from.as_str(), to.as_str()));
        store::add_ticket_event(
            c,
            &t.id,
            Some(&caller.id),
            action.as_str(),
            states,
            comment.as_deref(),
            now(),
        )?;
        let fresh = store::ticket(c, &t.id)?;
        ticket_view(c, fresh)
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
    act(
        &state,
        caller,
        &req,
        id.into_inner(),
        TicketAction::Reply,
        move |_, _, t, p| {
            if t.replied_at.is_none() {
                p.replied_at = Some(Some(now()));
            }
            p.reply = Some(Some(text.clone()));
            Ok(Some(text))
        },
    )
    .await
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
        TicketAction::Resolve,
        move |_, _, t, p| {
            // resolving without a reply first answers the customer with the resolution
            if t.replied_at.is_none() {
                p.replied_at = Some(Some(now()));
            }
            p.resolved_at = Some(Some(now()));
            p.resolution = Some(Some(text.clone()));
            Ok(Some(text))
        },
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
        TicketAction::NotifyCustomer,
        move |_, _, _, p| {
            p.customer_notified_at = Some(Some(now()));
            p.customer_notice = Some(Some(text.clone()));
            Ok(Some(text))
        },
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
    act(
        &state,
        caller,
        &req,
        id.into_inner(),
        TicketAction::Close,
        |_, _, _, p| {
            p.closed_at = Some(Some(now()));
            Ok(None)
        },
    )
    .await
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
        TicketAction::Handover,
        move |c, _, t, p| {
            let target = users::get(c, &b.to_user_id).ok().filter(|u| {
                u.center_id == t.center_id && u.active && (u.role == "agent" || u.role == "manager")
            });
            let Some(target) = target else {
                return Err(ApiError::field(
                    "to_user_id",
                    "unknown",
                    "an active agent or manager of the ticket's center",
                ));
            };
            if target.id == t.owner_id {
                return Err(ApiError::field(
                    "to_user_id",
                    "same_owner",
                    "already the owner",
                ));
            }
            p.owner_id = Some(target.id.clone());
            Ok(Some(format!("{} → {}: {note}", t.owner_id, target.id)))
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

/// Follow-up calls (回访) of the center.
#[utoipa::path(tag = "feedback", params(FollowUpQuery, PageParams), responses((status = 200)), security(("bearer" = [])))]
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
        check.one_of(
            "status",
            s,
            |v| ["open", "done"].contains(&v).then_some(()),
            "open, done",
        );
    }
    if let Some(k) = &q.kind {
        check.one_of(
            "kind",
            k,
            |v| ["completion", "revisit"].contains(&v).then_some(()),
            "completion, revisit",
        );
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
            Ok(store::list_follow_ups(c, &f, &page)?)
        },
    )
    .await
}

fn see_follow_up(c: &mut DbConn, caller: &Caller, id: &str) -> Result<FollowUp, ApiError> {
    let f = store::follow_up(c, id)?;
    caller.see(&f.center_id)?;
    Ok(f)
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
        see_follow_up(c, &caller, &id)
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallView {
    pub follow_up: FollowUp,
    /// the complaint a low score opened
    pub complaint: Option<Ticket>,
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
        let f = see_follow_up(c, &caller, &id)?;
        if f.status != "open" {
            return Err(ApiError::conflict(
                "follow_up_done",
                "this call is already recorded",
            ));
        }
        if !crate::store::version_matches(version, f.version) {
            return Err(ApiError::PreconditionFailed { current: f.version });
        }
        let complaint = if rules::opens_complaint(b.score) {
            let number = match &f.order_id {
                Some(o) => orders::get(c, o)?.number,
                None => "定期回访".into(),
            };
            let mut description = format!("回访满意度 {} 分", b.score);
            if let Some(text) = &comment {
                description.push_str(&format!("：{text}"));
            }
            Some(open_ticket(
                c,
                &f.center_id,
                &f.customer_id,
                f.order_id.clone(),
                TicketKind::Complaint,
                TicketChannel::Hotline,
                TicketUrgency::Urgent,
                format!("回访不满意（{number}）"),
                description,
                &caller.id,
                now(),
                Some(f.id.clone()),
            )?)
        } else {
            None
        };
        store::record_follow_up(
            c,
            &f.id,
            f.version,
            &store::CallRecord {
                by: &caller.id,
                score: b.score,
                comment: comment.as_deref(),
                ticket_id: complaint.as_ref().map(|t| t.id.as_str()),
                at: now(),
            },
        )?;
        Ok(CallView {
            follow_up: store::follow_up(c, &f.id)?,
            complaint,
        })
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub follow_up: FollowUp,
    /// the failed attempts so far, oldest first
    pub attempts: Vec<store::FollowUpAttempt>,
    /// the center's number of attempts after which the call is done as unreachable
    pub attempts_allowed: i32,
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
        let f = see_follow_up(c, &caller, &id)?;
        if f.status != "open" {
            return Err(ApiError::conflict(
                "follow_up_done",
                "this call is already recorded",
            ));
        }
        if f.version != version {
            return Err(ApiError::PreconditionFailed { current: f.version });
        }
        let allowed = store::settings(c, &f.center_id)?.follow_up_attempts;
        let made = i32::try_from(store::attempts(c, &f.id)?.len()).unwrap_or(i32::MAX);
        let give_up = rules::unreachable_after(made.saturating_add(1), allowed);
        store::record_attempt(
            c,
            f.version,
            &store::FollowUpAttempt {
                id: new_id(),
                follow_up_id: f.id.clone(),
                attempted_by: caller.id.clone(),
                attempted_at: now(),
                note,
            },
            give_up,
        )?;
        Ok(AttemptView {
            follow_up: store::follow_up(c, &f.id)?,
            attempts: store::attempts(c, &f.id)?,
            attempts_allowed: allowed,
        })
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
        let center = centers::get(c, &id)?;
        caller.see(&center.id)?;
        Ok(store::settings(c, &center.id)?)
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
    let s = in_tx(&state.pool, caller.session(), move |c| {
        let center = centers::get(c, &id)?;
        let current = store::settings(c, &center.id)?;
        if !crate::store::version_matches(version, current.version) {
            return Err(ApiError::PreconditionFailed {
                current: current.version,
            });
        }
        store::save_settings(
            c,
            &FeedbackSettings {
                center_id: center.id.clone(),
                urgent_reply_minutes: b.urgent_reply_minutes,
                normal_reply_minutes: b.normal_reply_minutes,
                key_revisit_days: b.key_revisit_days,
                major_revisit_days: b.major_revisit_days,
                version,
                updated_at: now(),
                follow_up_attempts: b
                    .follow_up_attempts
                    .unwrap_or(store::DEFAULT_FOLLOW_UP_ATTEMPTS),
            },
        )?;
        Ok(store::settings(c, &center.id)?)
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

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct KpiRow {
    /// the center's id, or the lead technician's
    pub id: String,
    /// orders requested in the period, by kind and status
    #[schema(value_type = Object)]
    pub orders: BTreeMap<String, BTreeMap<String, i64>>,
    pub orders_total: i64,
    /// request → arrival (叫修等待时间)
    pub wait_avg_seconds: Option<f64>,
    pub wait_p90_seconds: Option<i64>,
    /// arrival → completion (修理耗时)
    pub repair_avg_seconds: Option<f64>,
    pub repair_p90_seconds: Option<i64>,
    /// finished repair orders fixed without going on hold
    pub first_visit_fix_rate: Option<f64>,
    pub tickets: i64,
    pub complaints: i64,
    /// tickets answered by their deadline, of those received that were answered or are
    /// past their deadline (a ticket still within its time counts for neither side)
    pub replied_in_time_rate: Option<f64>,
    /// tickets resolved or closed, of those received
    pub resolution_rate: Option<f64>,
    pub complaints_per_100_orders: Option<f64>,
    pub satisfaction_avg: Option<f64>,
    pub satisfaction_calls: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KpiReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: String,
    pub rows: Vec<KpiRow>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Builds the report rows from the SQL figures.
pub fn kpi_rows(d: store::KpiData) -> Vec<KpiRow> {
    let mut rows: BTreeMap<String, KpiRow> = BTreeMap::new();
    fn entry(rows: &mut BTreeMap<String, KpiRow>, g: Option<String>) -> &mut KpiRow {
        let id = g.unwrap_or_default();
        rows.entry(id.clone()).or_insert_with(|| KpiRow {
            id,
            ..Default::default()
        })
    }
    // per group: wait (n, sum), repair (n, sum), finished repairs
    let mut sums: BTreeMap<String, [i64; 5]> = BTreeMap::new();
    for o in d.orders {
        let key = o.grp.clone().unwrap_or_default();
        let s = sums.entry(key).or_default();
        s[0] += o.wait_n;
        s[1] += o.wait_sum;
        s[2] += o.repair_n;
        s[3] += o.repair_sum;
        if o.kind == "repair" && (o.status == "completed" || o.status == "closed") {
            s[4] += o.n;
        }
        let r = entry(&mut rows, o.grp);
        *r.orders
            .entry(o.kind)
            .or_default()
            .entry(o.status)
            .or_default() += o.n;
        r.orders_total += o.n;
    }
    let mut held: BTreeMap<String, i64> = d
        .held
        .into_iter()
        .map(|h| (h.grp.unwrap_or_default(), h.a))
        .collect();
    for (g, s) in sums {
        let on_hold = held.remove(&g).unwrap_or(0);
        let r = entry(&mut rows, Some(g));
        r.wait_avg_seconds = ratio(s[1], s[0]);
        r.repair_avg_seconds = ratio(s[3], s[2]);
        r.first_visit_fix_rate = ratio(s[4] - on_hold, s[4]);
    }
    for (g, v) in d.wait_p90 {
        entry(&mut rows, Some(g)).wait_p90_seconds = Some(v);
    }
    for (g, v) in d.repair_p90 {
        entry(&mut rows, Some(g)).repair_p90_seconds = Some(v);
    }
    for t in d.tickets {
        let r = entry(&mut rows, t.grp);
        r.tickets = t.a;
        r.complaints = t.b;
        r.replied_in_time_rate = ratio(t.c, t.e);
        r.resolution_rate = ratio(t.d, t.a);
    }
    for s in d.satisfaction {
        let r = entry(&mut rows, s.grp);
        r.satisfaction_calls = s.a;
        r.satisfaction_avg = ratio(s.b, s.a);
    }
    let mut out: Vec<KpiRow> = rows.into_values().filter(|r| !r.id.is_empty()).collect();
    for r in &mut out {
        r.complaints_per_100_orders = ratio(r.complaints * 100, r.orders_total);
    }
    out
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
    let start = q.from.and_hms_opt(0, 0, 0).expect("midnight") - Duration::hours(8);
    let end = (q.to + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        - Duration::hours(8);
    let rows = with_db(&state.pool, caller.session(), move |c| {
        Ok(kpi_rows(store::kpi_data(
            c,
            group,
            start,
            end,
            center.as_deref(),
            now(),
        )?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(KpiReport {
        from: q.from,
        to: q.to,
        by: if group == KpiGroup::Center {
            "center"
        } else {
            "technician"
        }
        .into(),
        rows,
    }))
}
