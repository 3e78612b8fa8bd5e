//! Follow-up calls (回访): the satisfaction score, a complaint when it is low, and the
//! failed attempts after which a call is given up as unreachable.

use serde::Serialize;

use super::tickets::{self, NewTicket, Opening};
use crate::app::{Error, Principal, Result, stored};
use crate::domain::feedback::{
    self as rules, FollowUpStatus, TicketChannel, TicketKind, TicketUrgency,
};
use crate::store::feedback::{self as store, FollowUp, FollowUpAttempt, FollowUpFilter, Ticket};
use crate::store::{DbConn, Page, PageReq, money, names, new_id, now, orders};

/// A follow-up call in a list, with its customer's name, the failed attempts so far and
/// what the caller needs of its order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FollowUpRow {
    #[serde(flatten)]
    pub follow_up: FollowUp,
    pub customer_name: Option<String>,
    /// failed attempts to reach the customer so far
    pub attempts: i64,
    /// the order the call is about (none for a revisit)
    pub order: Option<OrderBrief>,
}

/// What the caller says of an order on a follow-up call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderBrief {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub status: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// the vehicles' plates, in line order
    pub plates: Vec<String>,
    pub lead_technician_id: Option<String>,
    pub lead_technician_name: Option<String>,
    #[serde(with = "crate::store::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<chrono::NaiveDateTime>,
    /// what the job costs the customer: the charge less its adjustments, else the fee;
    /// null when not priced
    pub amount_fen: Option<i64>,
    /// the charge's status, when there is one
    pub charge_status: Option<String>,
}

/// A page of follow-ups (the filter's center already narrowed to the caller's scope).
pub fn list(c: &mut DbConn, f: &FollowUpFilter, page: &PageReq) -> Result<Page<FollowUpRow>> {
    let page = store::list_follow_ups(c, f, page)?;
    let ids: Vec<&str> = page.items.iter().map(|f| f.id.as_str()).collect();
    let custs: Vec<&str> = page.items.iter().map(|f| f.customer_id.as_str()).collect();
    let counts = store::attempt_counts(c, &ids)?;
    let names = names::customer_names(c, &custs)?;
    let mut briefs = order_briefs(c, &page.items)?;
    Ok(Page {
        next_cursor: page.next_cursor,
        items: page
            .items
            .into_iter()
            .map(|f| FollowUpRow {
                attempts: counts.get(&f.id).copied().unwrap_or(0),
                customer_name: names.get(&f.customer_id).cloned(),
                order: f.order_id.as_ref().and_then(|o| briefs.remove(o)),
                follow_up: f,
            })
            .collect(),
    })
}

/// The orders of `calls`, by id: four statements for the whole page.
fn order_briefs(
    c: &mut DbConn,
    calls: &[FollowUp],
) -> Result<std::collections::HashMap<String, OrderBrief>> {
    let ids: Vec<&str> = calls.iter().filter_map(|f| f.order_id.as_deref()).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let found = orders::many(c, &ids)?;
    let mut plates = orders::plates_of_orders(c, &ids)?;
    let mut charges = money::charges_of_orders(c, &ids)?;
    let leads: Vec<&str> = found
        .iter()
        .filter_map(|o| o.lead_technician_id.as_deref())
        .collect();
    let lead_names = names::user_names(c, &leads)?;
    Ok(found
        .into_iter()
        .map(|o| {
            let charge = charges.remove(&o.id);
            let brief = OrderBrief {
                plates: plates.remove(&o.id).unwrap_or_default(),
                lead_technician_name: o
                    .lead_technician_id
                    .as_ref()
                    .and_then(|t| lead_names.get(t).cloned()),
                amount_fen: match &charge {
                    Some(ch) => Some(ch.net_fen()),
                    None => o.fee_fen,
                },
                charge_status: charge.map(|ch| ch.status),
                id: o.id.clone(),
                number: o.number,
                kind: o.kind,
                status: o.status,
                contact_name: o.contact_name,
                contact_phone: o.contact_phone,
                lead_technician_id: o.lead_technician_id,
                completed_at: o.completed_at,
            };
            (o.id, brief)
        })
        .collect())
}

pub fn get(c: &mut DbConn, p: &Principal, id: &str) -> Result<FollowUp> {
    let f = store::follow_up(c, id)?;
    p.see(&f.center_id)?;
    Ok(f)
}

/// 409 unless the call still waits to be made.
fn require_open(f: &FollowUp) -> Result<()> {
    match stored("follow-up status", &f.status, FollowUpStatus::parse)? {
        FollowUpStatus::Open => Ok(()),
        FollowUpStatus::Done => Err(Error::conflict(
            "follow_up_done",
            "this call is already recorded",
        )),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallView {
    pub follow_up: FollowUp,
    /// the complaint a low score opened
    pub complaint: Option<Ticket>,
}

/// Records the call at `version`: the score (valid, see `rules::valid_score`) and comment.
/// A low score opens an urgent complaint owned by the caller, linked to the call.
pub fn record_call(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    score: i32,
    comment: Option<String>,
) -> Result<CallView> {
    let f = get(c, p, id)?;
    require_open(&f)?;
    if !crate::store::version_matches(version, f.version) {
        return Err(Error::PreconditionFailed { current: f.version });
    }
    let complaint = if rules::opens_complaint(score) {
        Some(complain(c, p, &f, score, comment.as_deref())?)
    } else {
        None
    };
    store::record_follow_up(
        c,
        &f.id,
        f.version,
        &store::CallRecord {
            by: &p.id,
            score,
            comment: comment.as_deref(),
            ticket_id: complaint.as_ref().map(|t| t.id.as_str()),
            at: now(),
        },
    )?;
    Ok(CallView {
        follow_up: store::follow_up(c, &f.id)?,
        complaint,
    })
}

/// The complaint an unhappy customer's call opens: urgent, by the caller, about the
/// order the call follows.
fn complain(
    c: &mut DbConn,
    p: &Principal,
    f: &FollowUp,
    score: i32,
    comment: Option<&str>,
) -> Result<Ticket> {
    let number = match &f.order_id {
        Some(o) => orders::get(c, o)?.number,
        None => "定期回访".into(),
    };
    let mut description = format!("回访满意度 {score} 分");
    if let Some(text) = comment {
        description.push_str(&format!("：{text}"));
    }
    Ok(tickets::open(
        c,
        Opening {
            center_id: &f.center_id,
            customer_id: &f.customer_id,
            owner_id: &p.id,
            follow_up_id: Some(f.id.clone()),
            ticket: NewTicket {
                customer_id: f.customer_id.clone(),
                order_id: f.order_id.clone(),
                kind: TicketKind::Complaint,
                channel: TicketChannel::Hotline,
                urgency: TicketUrgency::Urgent,
                subject: format!("回访不满意（{number}）"),
                description,
                received_at: now(),
            },
        },
    )?)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub follow_up: FollowUp,
    /// the failed attempts so far, oldest first
    pub attempts: Vec<FollowUpAttempt>,
    /// the center's number of attempts after which the call is done as unreachable
    pub attempts_allowed: i32,
}

/// Records a failed attempt to reach the customer, at exactly `version`. After the
/// center's `follow_up_attempts` the call is done, unreachable.
pub fn record_unreachable(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    note: Option<String>,
) -> Result<AttemptView> {
    let f = get(c, p, id)?;
    require_open(&f)?;
    if f.version != version {
        return Err(Error::PreconditionFailed { current: f.version });
    }
    let allowed = store::settings(c, &f.center_id)?.follow_up_attempts;
    let made = i32::try_from(store::attempts(c, &f.id)?.len()).unwrap_or(i32::MAX);
    let give_up = rules::unreachable_after(made.saturating_add(1), allowed);
    store::record_attempt(
        c,
        f.version,
        &FollowUpAttempt {
            id: new_id(),
            follow_up_id: f.id.clone(),
            attempted_by: p.id.clone(),
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
}
