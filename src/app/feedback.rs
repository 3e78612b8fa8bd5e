//! Feedback use cases: tickets (inquiries, complaints, suggestions) and follow-up calls.

use chrono::Duration;

use crate::domain::access::Role;
use crate::store::feedback::{self as store, FollowUp};
use crate::store::orders::WorkOrder;
use crate::store::{DbConn, StoreResult, new_id, now, users};

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
            kind: "completion".into(),
            status: "open".into(),
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
