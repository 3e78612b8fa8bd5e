//! Feedback use cases: tickets (inquiries, complaints, suggestions), follow-up calls and
//! their reactions (a low score opens a complaint), the centers' feedback settings, and
//! the service KPIs.

pub mod follow_ups;
pub mod kpis;
pub mod tickets;

use chrono::Duration;

use crate::domain::access::Role;
use crate::domain::feedback::{FollowUpKind, FollowUpStatus};
use crate::store::feedback::{self as store, FeedbackSettings, FollowUp};
use crate::store::orders::WorkOrder;
use crate::store::{DbConn, StoreResult, centers, new_id, now, users};

use super::{Error, Principal, Result};

/// The follow-up call a completed order needs (inside the completion's transaction):
/// assigned to the agent who took the order, due the next day.
pub fn on_completed(c: &mut DbConn, order: &WorkOrder) -> StoreResult<()> {
    if store::follow_up_of_order(c, &order.id)?.is_some() {
        return Ok(());
    }
    let creator = users::get(c, &order.created_by)?;
    let t = now();
    store::insert_follow_up(
        c,
        &FollowUp {
            id: new_id(),
            center_id: order.center_id.clone(),
            customer_id: order.customer_id.clone(),
            order_id: Some(order.id.clone()),
            kind: FollowUpKind::Completion.as_str().into(),
            status: FollowUpStatus::Open.as_str().into(),
            unreachable: false,
            assignee_id: (Role::parse(&creator.role) == Some(Role::Agent) && creator.active)
                .then_some(creator.id),
            due_at: t + Duration::days(1),
            done_at: None,
            done_by: None,
            score: None,
            comment: None,
            ticket_id: None,
            version: 1,
            created_at: t,
            updated_at: t,
        },
    )
}

/// A center's reply deadlines and revisit intervals (its defaults until first saved).
pub fn settings(c: &mut DbConn, p: &Principal, center_id: &str) -> Result<FeedbackSettings> {
    let center = centers::get(c, center_id)?;
    p.see(&center.id)?;
    Ok(store::settings(c, &center.id)?)
}

/// Saves a center's settings; `new.version` is the version the caller read (the
/// defaults are version 1).
pub fn save_settings(c: &mut DbConn, new: FeedbackSettings) -> Result<FeedbackSettings> {
    let center = centers::get(c, &new.center_id)?;
    let current = store::settings(c, &center.id)?;
    if !crate::store::version_matches(new.version, current.version) {
        return Err(Error::PreconditionFailed {
            current: current.version,
        });
    }
    store::save_settings(c, &new)?;
    Ok(store::settings(c, &center.id)?)
}
