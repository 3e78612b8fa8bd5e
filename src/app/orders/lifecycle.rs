//! The order's lifecycle: approval, assignment, the technician's answer, readiness, the
//! trip, holds, completion, closing and cancelling. Each is one move of `domain::order`.

use chrono::{Duration, NaiveDateTime};

use super::{Order, OrderView, VISIT_HOURS, act, next, reported_at, step, transition};
use crate::app::stored;
use crate::app::{Check, Error, Principal, Result};
use crate::domain::fees::{self, PartUse};
use crate::domain::money::Fen;
use crate::domain::order::{self, Action, CompletionCheck, LineStatus, OrderKind, ReadinessItem};
use crate::store::orders::{self as store, OrderPatch};
use crate::store::{DbConn, now, technicians};

/// An action whose only input is an optional comment (submit, accept, resume, approve).
pub fn simple(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    action: Action,
    comment: Option<String>,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let patch = if action == Action::Approve {
            OrderPatch {
                approved_by: Some(Some(p.id.clone())),
                approved_at: Some(Some(now())),
                reject_reason: Some(None),
                ..Default::default()
            }
        } else {
            OrderPatch::default()
        };
        step(c, p, order, action, patch, comment.as_deref())
    })
}

/// An action that needs a reason (reject, decline, hold, cancel).
pub fn with_reason(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    action: Action,
    reason: String,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let patch = match action {
            Action::Reject => OrderPatch {
                reject_reason: Some(Some(reason.clone())),
                ..Default::default()
            },
            Action::Cancel => OrderPatch {
                cancel_reason: Some(Some(reason.clone())),
                ..Default::default()
            },
            // the job goes back to the manager to assign again
            Action::Decline => {
                store::clear_assignments(c, &order.id)?;
                OrderPatch {
                    lead_technician_id: Some(None),
                    scheduled_at: Some(None),
                    ..Default::default()
                }
            }
            _ => OrderPatch::default(),
        };
        step(c, p, order, action, patch, Some(&reason))
    })
}

/// Close a completed order once its money and follow-up are done (篇三: completed → money
/// remitted → finance confirms → follow-up → closed).
pub fn close(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    comment: Option<String>,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let m = next(p, order, Action::Close)?;
        crate::app::charges::require_closable(c, &order.id)?;
        let patch = OrderPatch {
            closed_at: Some(Some(now())),
            ..Default::default()
        };
        transition(c, p, order, m, patch, comment.as_deref(), now())
    })
}

/// Who does the job and when (assign, reassign).
#[derive(Debug)]
pub struct Assignment {
    pub lead_id: String,
    pub helper_ids: Vec<String>,
    pub scheduled_at: NaiveDateTime,
    pub outsourcing_reason: Option<String>,
    pub allow_double_booking: bool,
}

/// Assign (or reassign) a lead technician and helpers and schedule the visit: the state
/// first (assigning an unapproved order is a 409 whoever is named), then the people named,
/// then the lead's bookings around that time (the technician locked while checking).
pub fn assign(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    action: Action,
    a: Assignment,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let m = next(p, order, action)?;
        let outsourcing = check_team(c, order, &a)?;
        // two managers booking the same technician at once queue here (PostgreSQL)
        crate::store::technicians::lock_technician(c, &a.lead_id)?;
        let clashes = clashes(c, order, &a.lead_id, a.scheduled_at)?;
        if !clashes.is_empty() && !a.allow_double_booking {
            let mut extra = serde_json::Map::new();
            extra.insert("orders".into(), clashes.into());
            return Err(Error::Conflict {
                code: "technician_busy".into(),
                detail: "the lead technician is booked around that time; pass allow_double_booking to assign anyway".into(),
                extra: Some(extra),
            });
        }
        let patch = OrderPatch {
            lead_technician_id: Some(Some(a.lead_id.clone())),
            scheduled_at: Some(Some(a.scheduled_at)),
            outsourcing_reason: Some(outsourcing.clone()),
            outsourcing_approved_by: Some(outsourcing.as_ref().map(|_| p.id.clone())),
            readiness: Some(None),
            ready_at: Some(None),
            ..Default::default()
        };
        store::set_assignments(c, &order.id, &a.lead_id, &a.helper_ids)?;
        let mut comment = format!("主修 {}", a.lead_id);
        if !a.helper_ids.is_empty() {
            comment.push_str(&format!("，协助 {}", a.helper_ids.join("、")));
        }
        if let Some(r) = &outsourcing {
            comment.push_str(&format!("；外协：{r}"));
        }
        if a.allow_double_booking && !clashes.is_empty() {
            comment.push_str("；时段冲突，确认仍派此技师");
        }
        transition(c, p, order, m, patch, Some(&comment), now())
    })
}

/// The technicians named: each once, active, of the order's center, skilled for its
/// kind; an external contractor (外协) needs the outsourcing reason, which is answered.
fn check_team(c: &mut DbConn, order: &Order, a: &Assignment) -> Result<Option<String>> {
    let mut check = Check::new();
    let mut external = false;
    let ids: Vec<&String> = std::iter::once(&a.lead_id).chain(&a.helper_ids).collect();
    for (i, tid) in ids.iter().enumerate() {
        let field = if i == 0 {
            "lead_id".to_string()
        } else {
            format!("helper_ids[{}]", i - 1)
        };
        if ids[..i].contains(tid) {
            check.add(field, "duplicate", "named twice");
            continue;
        }
        match technicians::get(c, tid)
            .ok()
            .filter(|t| t.center_id == order.center_id)
        {
            None => check.add(field, "unknown", "no such technician in this center"),
            Some(t) if !t.active => check.add(field, "inactive", "technician is not active"),
            Some(t) => {
                let skilled = match order.kind {
                    OrderKind::Install => t.can_install,
                    OrderKind::Repair => t.can_repair,
                };
                if !skilled {
                    check.add(
                        field,
                        "lacks_skill",
                        format!("cannot do {} work", order.kind.as_str()),
                    );
                }
                external |= t.external;
            }
        }
    }
    let outsourcing = a
        .outsourcing_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    if external && outsourcing.is_none() {
        check.add(
            "outsourcing_reason",
            "outsourcing_approval_required",
            "assigning an external contractor (外协) needs the outsourcing approval's reason",
        );
    }
    check.finish()?;
    Ok(outsourcing)
}

/// The lead's other orders booked within the visit's window around `at`.
fn clashes(c: &mut DbConn, order: &Order, lead_id: &str, at: NaiveDateTime) -> Result<Vec<String>> {
    let window = Duration::hours(VISIT_HOURS);
    Ok(
        store::bookings(c, &order.center_id, at - window, at + window)?
            .into_iter()
            .filter(|(t, oid, _)| t == lead_id && oid != &order.id)
            .map(|(_, oid, _)| oid)
            .collect(),
    )
}

/// The readiness check before departure (出发前核对): `Unprocessable` unless every item
/// is ticked (checked before the order is read).
pub fn require_ready(ticked: &[ReadinessItem]) -> Result<()> {
    let missing = order::readiness_missing(ticked);
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Unprocessable {
        code: "readiness_incomplete",
        detail: format!(
            "not ticked: {}",
            missing
                .iter()
                .map(|m| format!("{} ({})", m.as_str(), m.label_zh()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// Records the readiness check (every item ticked, see [`require_ready`]).
pub fn readiness(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    ticked: &[ReadinessItem],
) -> Result<OrderView> {
    let names: Vec<&str> = ticked.iter().map(|t| t.as_str()).collect();
    let json = serde_json::to_string(&names).map_err(|e| Error::Internal(e.to_string()))?;
    act(c, p, id, version, |c, order| {
        let patch = OrderPatch {
            readiness: Some(Some(json)),
            ready_at: Some(Some(now())),
            ..Default::default()
        };
        step(c, p, order, Action::CheckReady, patch, None)
    })
}

/// A move of the technician's (depart, arrive), maybe reported late (`at`), with the
/// phone's position, when given, kept as their last known one.
pub fn travel(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    action: Action,
    position: Option<(f64, f64)>,
    at: Option<NaiveDateTime>,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let arriving = action == Action::Arrive;
        let previous = if arriving {
            order.departed_at
        } else {
            order.ready_at
        };
        let at = reported_at(at, previous)?;
        let patch = if arriving {
            OrderPatch {
                arrived_at: Some(Some(at)),
                arrived_lat: Some(position.map(|p| p.0)),
                arrived_lng: Some(position.map(|p| p.1)),
                wait_seconds: Some(Some((at - order.requested_at).num_seconds().max(0))),
                ..Default::default()
            }
        } else {
            OrderPatch {
                departed_at: Some(Some(at)),
                ..Default::default()
            }
        };
        let m = next(p, order, action)?;
        // the technician's row before the order's KPI rows, as an assignment locks them
        // (technician, then the order's update): one order everywhere, no deadlock
        if let Some((lat, lng)) = position {
            technicians::report_position(c, &p.id, lat, lng)?;
        }
        transition(c, p, order, m, patch, None, at)
    })
}

/// Complete the order: every line resolved, the customer signed off; the fee computed
/// (in warranty free; out of warranty parts only, no labour — 保修期外维修只收零部件费用)
/// becomes the order's charge, and the follow-up call is opened, in one transaction.
pub fn complete(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    at: Option<NaiveDateTime>,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let m = next(p, order, Action::Complete)?;
        let lines = store::lines(c, &order.id)?;
        let mut unresolved = 0;
        for l in &lines {
            if stored("line status", &l.status, LineStatus::parse)? == LineStatus::Pending {
                unresolved += 1;
            }
        }
        let blockers = order::completion_blockers(&CompletionCheck {
            lines_total: lines.len(),
            lines_unresolved: unresolved,
            signed_off: order.signoff_at.is_some(),
        });
        if !blockers.is_empty() {
            let mut extra = serde_json::Map::new();
            extra.insert("blockers".into(), blockers.clone().into());
            return Err(Error::Conflict {
                code: "completion_blocked".into(),
                detail: format!("cannot complete yet: {}", blockers.join(", ")),
                extra: Some(extra),
            });
        }
        // the center's proof rules, read once for both
        let rules = crate::store::photos::rules(c, &order.center_id)?;
        super::photos::require_complete(c, order, &lines, &rules)?;
        super::first_report::require_complete(c, order, &rules)?;
        let parts: Vec<PartUse> = store::parts_used(c, &order.id)?
            .iter()
            .map(|p| PartUse {
                unit_price: Fen(p.unit_price_fen),
                quantity: p.quantity,
            })
            .collect();
        // an install is charged its parts; a repair by its warranty verdict (unknown:
        // out of warranty)
        let in_warranty = order.kind == OrderKind::Repair && order.warranty_in == Some(true);
        let fee = fees::compute(in_warranty, &parts).map_err(|e| Error::Unprocessable {
            code: e.code(),
            detail: "the fee cannot be computed".into(),
        })?;
        let last_line_done = lines.iter().filter_map(|l| l.done_at).max();
        let previous = [order.arrived_at, order.signoff_at, last_line_done]
            .into_iter()
            .flatten()
            .max();
        let at = reported_at(at, previous)?;
        let patch = OrderPatch {
            completed_at: Some(Some(at)),
            parts_total_fen: Some(Some(fee.parts_total.as_i64())),
            fee_fen: Some(Some(fee.total.as_i64())),
            repair_seconds: Some(order.arrived_at.map(|a| (at - a).num_seconds().max(0))),
            ..Default::default()
        };
        let comment = format!("应收费用 {}", fee.total);
        transition(c, p, order, m, patch, Some(&comment), at)?;
        // the fee becomes what the customer owes, in the same transaction
        crate::app::charges::open(c, order, fee.total)
    })
}
