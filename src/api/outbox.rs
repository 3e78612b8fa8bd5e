//! The e-mail outbox for admins: every message with its state and attempts; a dead
//! message can be sent again.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::session::Caller;
use super::state::AppState;
use super::support::{Check, PageParams, in_tx, page_json, with_db};
use crate::domain::access::{Op, Resource};
use crate::store::now;
use crate::store::outbox::{self, Attempt, OutboxFilter, OutboxMessage};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// pending, sending, sent, dead, skipped
    pub status: Option<String>,
    /// order_submitted, order_assigned, order_scheduled, order_completed,
    /// payment_received, deadline_passed
    pub kind: Option<String>,
    pub order_id: Option<String>,
}

const STATUSES: [&str; 5] = ["pending", "sending", "sent", "dead", "skipped"];
const KINDS: [&str; 7] = [
    "order_submitted",
    "order_assigned",
    "order_scheduled",
    "order_completed",
    "payment_received",
    "deadline_passed",
    "ticket_breached",
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxView {
    #[serde(flatten)]
    pub message: OutboxMessage,
    pub recipients: Vec<String>,
    /// every delivery attempt, oldest first
    pub attempt_log: Vec<Attempt>,
}

/// The outbox (admins): `?status=dead` lists the failures.
#[utoipa::path(operation_id = "list_outbox_messages", tag = "outbox", params(OutboxQuery, PageParams), responses((status = 200)), security(("bearer" = [])))]
#[get("/outbox")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<OutboxQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Outbox, Op::Read)?;
    let q = q.into_inner();
    let mut check = Check::new();
    if let Some(s) = &q.status {
        check.one_of(
            "status",
            s,
            |v| STATUSES.contains(&v).then_some(()),
            &STATUSES.join(", "),
        );
    }
    if let Some(k) = &q.kind {
        check.one_of(
            "kind",
            k,
            |v| KINDS.contains(&v).then_some(()),
            &KINDS.join(", "),
        );
    }
    check.finish()?;
    let page = page.to_req()?;
    let filter = OutboxFilter {
        status: q.status,
        kind: q.kind,
        order_id: q.order_id,
    };
    let items = with_db(&state.pool, caller.session(), move |c| {
        Ok(outbox::list(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(items))
}

fn view(c: &mut crate::store::DbConn, id: &str) -> Result<OutboxView, ApiError> {
    let message = outbox::get(c, id)?;
    Ok(OutboxView {
        recipients: message.recipient_list(),
        attempt_log: outbox::attempts(c, id)?,
        message,
    })
}

/// One message with its recipients and every attempt.
#[utoipa::path(operation_id = "get_outbox_message", tag = "outbox", responses((status = 200, body = OutboxView), (status = 404)), security(("bearer" = [])))]
#[get("/outbox/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Outbox, Op::Read)?;
    let v = with_db(&state.pool, caller.session(), move |c| view(c, &id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Send a dead message again: it goes back to the queue for a fresh round of attempts.
/// 409 `message_not_dead` for a message that is not dead.
#[utoipa::path(tag = "outbox", responses((status = 200, body = OutboxView), (status = 404), (status = 409)), security(("bearer" = [])))]
#[post("/outbox/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Outbox, Op::Write)?;
    let v = in_tx(&state.pool, caller.session(), move |c| {
        outbox::retry(c, &id, now())?;
        view(c, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
