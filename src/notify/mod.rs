//! E-mail through a transactional outbox. The `on_*` functions run inside the transaction
//! of the change that causes the message and only write outbox rows; `worker` delivers
//! them (retries with exponential backoff, every attempt recorded), `transport` is SMTP
//! or files in the data directory, `templates` the Chinese texts.
//!
//! Who is told what: an order submitted → the center's managers; assigned → the lead
//! technician, and the customer's contact that the visit is scheduled (work order
//! attached); completed → the customer's contact (work order attached); a payment → the
//! customer (receipt attached); an appointment passed without arrival → the managers.

pub mod feedback;
pub mod templates;
pub mod transport;
pub mod worker;

use chrono::{Duration, NaiveDateTime};

use crate::documents::DocSnapshot;
use crate::domain::ledger::PaymentMethod;
use crate::domain::money::Fen;
use crate::domain::notice::{self, Announced, NoticeKind, OrderNow};
use crate::domain::order::OrderKind;
use crate::store::money::Payment;
use crate::store::orders::WorkOrder;
use crate::store::outbox::{self, OutboxMessage};
use crate::store::{DbConn, StoreResult, centers, customers, money, new_id, now, orders};
use templates::{Mail, OrderFacts, PaymentFacts};

/// An order's appointment counts as missed this long after the scheduled visit (when the
/// order has no time window of its own).
pub const VISIT_GRACE_HOURS: i64 = 2;

/// The moment after which an order's technician is late: its window's end, or the
/// scheduled visit plus the grace.
pub fn deadline_of(order: &WorkOrder) -> Option<NaiveDateTime> {
    order.window_end.or_else(|| {
        order
            .scheduled_at
            .map(|t| t + Duration::hours(VISIT_GRACE_HOURS))
    })
}

/// How long to wait before the next attempt after `attempts` failed ones: `base`
/// doubled per failure, at most `cap`.
pub fn backoff(
    base: std::time::Duration,
    cap: std::time::Duration,
    attempts: i32,
) -> std::time::Duration {
    let exp = attempts.clamp(1, 30) as u32 - 1;
    base.checked_mul(1u32 << exp.min(20))
        .unwrap_or(cap)
        .min(cap)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderNotice {
    Submitted,
    Assigned,
    Completed,
}

impl OrderNotice {
    /// The notice an order's step causes, if any.
    pub fn of(action: crate::domain::order::Action) -> Option<OrderNotice> {
        use crate::domain::order::Action::*;
        match action {
            Submit => Some(OrderNotice::Submitted),
            Assign | Reassign => Some(OrderNotice::Assigned),
            Complete => Some(OrderNotice::Completed),
            _ => None,
        }
    }
}

fn order_facts(c: &mut DbConn, order: &WorkOrder) -> StoreResult<OrderFacts> {
    let center = centers::get(c, &order.center_id)?;
    let customer = customers::get_row(c, &order.customer_id)?;
    let assignments = orders::assignments(c, &order.id)?;
    let ids: Vec<&str> = assignments
        .iter()
        .map(|a| a.technician_id.as_str())
        .collect();
    let names = crate::store::names::user_names(c, &ids)?;
    let vehicles = orders::lines(c, &order.id)?.len();
    let kind = crate::store::stored("order kind", &order.kind, OrderKind::parse)?;
    Ok(OrderFacts {
        number: order.number.clone(),
        title: kind.label_zh(),
        kind: match kind {
            OrderKind::Install => "安装",
            OrderKind::Repair => "维修",
        },
        center: center.name,
        customer: customer.name,
        address: order.site_address.clone(),
        contact: order.contact_name.clone(),
        contact_phone: order.contact_phone.clone(),
        urgent: order.urgency == "urgent",
        requested_at: order.requested_at,
        scheduled_at: order.scheduled_at,
        deadline: deadline_of(order),
        technicians: assignments
            .iter()
            .map(|a| names.get(&a.technician_id).cloned().unwrap_or_default())
            .collect(),
        vehicles,
        completed_at: order.completed_at,
        fee: order.fee_fen.map(Fen),
        fault: order.fault_symptoms.clone(),
    })
}

/// The customer's contact for e-mail: the order's contact when the customer's record
/// has that person's address, else the first contact with an address.
fn customer_contact(
    c: &mut DbConn,
    customer_id: &str,
    prefer: Option<&str>,
) -> StoreResult<Option<(String, String)>> {
    let customer = customers::get(c, customer_id)?;
    let with_mail: Vec<_> = customer
        .contacts
        .iter()
        .filter_map(|ct| {
            ct.email
                .as_ref()
                .filter(|e| !e.trim().is_empty())
                .map(|e| (ct.name.clone(), e.clone()))
        })
        .collect();
    let preferred = prefer.and_then(|p| with_mail.iter().find(|(n, _)| n == p).cloned());
    Ok(preferred.or_else(|| with_mail.first().cloned()))
}

/// What a message keeps of its cause (the outbox row's `snapshot`, JSON): the
/// appointment it announces and its attachment as of that moment.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct MessageSnapshot {
    #[serde(default)]
    pub announced: Option<Announced>,
    #[serde(default)]
    pub document: Option<DocSnapshot>,
}

impl MessageSnapshot {
    pub fn of(m: &OutboxMessage) -> Option<MessageSnapshot> {
        let text = m.snapshot.as_deref()?;
        serde_json::from_str(text)
            .map_err(|e| tracing::warn!(message = %m.id, error = %e, "unreadable snapshot; the current state is used"))
            .ok()
    }
}

/// Why a message, due now, is no longer true (`Some`: skip it, saying this), for the
/// kinds whose truth depends on what happened since (see `domain::notice`).
pub fn stale_reason(c: &mut DbConn, m: &OutboxMessage) -> StoreResult<Option<String>> {
    let Some(kind) = NoticeKind::of(&m.kind) else {
        return Ok(None);
    };
    let verdict = if kind == NoticeKind::PaymentReceived {
        let Some(payment) = &m.payment_id else {
            return Ok(None);
        };
        let reversal = money::reversal_of(c, payment)?;
        notice::receipt_notice(reversal.map(|r| r.created_at))
    } else {
        let Some(order_id) = &m.order_id else {
            return Ok(None);
        };
        let order = match orders::get(c, order_id) {
            Ok(o) => o,
            Err(crate::store::StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(status) = crate::domain::order::OrderStatus::parse(&order.status) else {
            return Ok(None);
        };
        // a message written before snapshots were kept: judged by the order's state only
        let announced = MessageSnapshot::of(m)
            .and_then(|s| s.announced)
            .unwrap_or_else(|| Announced {
                scheduled_at: order.scheduled_at,
                lead_technician_id: order.lead_technician_id.clone(),
            });
        let now = OrderNow {
            status,
            scheduled_at: order.scheduled_at,
            lead_technician_id: order.lead_technician_id.clone(),
            arrived_at: order.arrived_at,
            completed_at: order.completed_at,
        };
        notice::order_notice(kind, &announced, &now)
    };
    Ok(verdict.err().map(|s| s.reason_zh()))
}

struct Envelope<'a> {
    kind: &'static str,
    center_id: &'a str,
    order_id: Option<&'a str>,
    payment_id: Option<&'a str>,
    to: Vec<String>,
    attachment: Option<&'static str>,
    dedupe_key: Option<String>,
    /// keep a row even with no recipient (as `dead`, saying why), so that what caused it
    /// is known to be handled and an admin sees that nobody could be told
    keep_unaddressed: bool,
    /// the order's timeline event, or the payment, that causes the message
    cause: Option<String>,
    snapshot: Option<&'a MessageSnapshot>,
}

/// Writes the message to the outbox; a message with no recipient is not written (logged).
fn put(c: &mut DbConn, env: Envelope, mail: Mail) -> StoreResult<()> {
    let unaddressed = env.to.is_empty();
    if unaddressed && !env.keep_unaddressed {
        tracing::debug!(kind = env.kind, order = ?env.order_id, "no recipient has an e-mail address; not queued");
        return Ok(());
    }
    let t = now();
    let row = OutboxMessage {
        id: new_id(),
        kind: env.kind.to_string(),
        dedupe_key: env.dedupe_key,
        center_id: env.center_id.to_string(),
        order_id: env.order_id.map(str::to_string),
        payment_id: env.payment_id.map(str::to_string),
        recipients: serde_json::to_string(&env.to).unwrap_or_else(|_| "[]".into()),
        subject: mail.subject,
        body_text: mail.text,
        body_html: mail.html,
        attachment: env.attachment.map(str::to_string),
        status: if unaddressed { "dead" } else { "pending" }.into(),
        attempts: 0,
        next_attempt_at: t,
        claimed_by: None,
        claimed_until: None,
        last_error: unaddressed.then(|| "no recipient has an e-mail address".to_string()),
        sent_at: None,
        created_at: t,
        updated_at: t,
        cause_event_id: env.cause,
        snapshot: env
            .snapshot
            .map(|s| serde_json::to_string(s).expect("a snapshot serializes")),
        skip_reason: None,
    };
    outbox::enqueue(c, &row)?;
    Ok(())
}

/// Queues the messages an order's step causes (inside the step's transaction).
pub fn on_order(c: &mut DbConn, order_id: &str, notice: OrderNotice) -> StoreResult<()> {
    let order = orders::get(c, order_id)?;
    let facts = order_facts(c, &order)?;
    let cause = outbox::latest_event_id(c, &order.id)?;
    let announced = Some(Announced {
        scheduled_at: order.scheduled_at,
        lead_technician_id: order.lead_technician_id.clone(),
    });
    let plain = MessageSnapshot {
        announced: announced.clone(),
        document: None,
    };
    // the attached work order as of this step, printed from it when sent
    let with_order = MessageSnapshot {
        announced,
        document: match notice {
            OrderNotice::Assigned | OrderNotice::Completed => {
                Some(DocSnapshot::work_order(c, &order)?)
            }
            OrderNotice::Submitted => None,
        },
    };
    let env = |kind, to, attachment: Option<&'static str>| Envelope {
        kind,
        center_id: &order.center_id,
        order_id: Some(&order.id),
        payment_id: None,
        to,
        attachment,
        dedupe_key: None,
        keep_unaddressed: false,
        cause: cause.clone(),
        snapshot: Some(if attachment.is_some() {
            &with_order
        } else {
            &plain
        }),
    };
    match notice {
        OrderNotice::Submitted => {
            let to = outbox::manager_addresses(c, &order.center_id)?;
            put(
                c,
                env("order_submitted", to, None),
                templates::order_submitted(&facts),
            )?;
        }
        OrderNotice::Assigned => {
            if let Some(lead) = &order.lead_technician_id {
                let (email, name) = outbox::user_address(c, lead)?;
                let mail = templates::order_assigned(&facts, &name);
                put(
                    c,
                    env("order_assigned", email.into_iter().collect(), None),
                    mail,
                )?;
            }
            if let Some((name, email)) =
                customer_contact(c, &order.customer_id, Some(&order.contact_name))?
            {
                let mail = templates::order_scheduled(&facts, &name);
                put(
                    c,
                    env("order_scheduled", vec![email], Some("work_order")),
                    mail,
                )?;
            }
        }
        OrderNotice::Completed => {
            if let Some((name, email)) =
                customer_contact(c, &order.customer_id, Some(&order.contact_name))?
            {
                let mail = templates::order_completed(&facts, &name);
                put(
                    c,
                    env("order_completed", vec![email], Some("work_order")),
                    mail,
                )?;
            }
        }
    }
    Ok(())
}

/// Queues the receipt to the customer (inside the payment's transaction).
pub fn on_payment(c: &mut DbConn, p: &Payment) -> StoreResult<()> {
    let Some(receipt_no) = p.receipt_no.clone() else {
        return Ok(());
    };
    let order = match &p.order_id {
        Some(id) => Some(orders::get(c, id)?),
        None => None,
    };
    let prefer = order.as_ref().map(|o| o.contact_name.as_str());
    let Some((name, email)) = customer_contact(c, &p.customer_id, prefer)? else {
        return Ok(());
    };
    let center = centers::get(c, &p.center_id)?;
    let customer = customers::get_row(c, &p.customer_id)?;
    let collector = crate::store::names::user_names(c, &[p.collector_id.as_str()])?
        .remove(&p.collector_id)
        .unwrap_or_default();
    let facts = PaymentFacts {
        receipt_no,
        center: center.name,
        customer: customer.name,
        payer: p.payer_name.clone(),
        order_no: order.as_ref().map(|o| o.number.clone()),
        amount: Fen(p.amount_fen),
        method: PaymentMethod::parse(&p.method)
            .map_or(p.method.as_str(), |m| m.label_zh())
            .to_string(),
        collector,
        paid_at: p.paid_at,
    };
    let snapshot = MessageSnapshot {
        announced: None,
        document: Some(DocSnapshot::receipt(c, p)?),
    };
    let env = Envelope {
        kind: "payment_received",
        center_id: &p.center_id,
        order_id: p.order_id.as_deref(),
        payment_id: Some(&p.id),
        to: vec![email],
        attachment: Some("receipt"),
        dedupe_key: None,
        keep_unaddressed: false,
        cause: Some(p.id.clone()),
        snapshot: Some(&snapshot),
    };
    put(c, env, templates::payment_received(&facts, &name))
}

/// Queues the managers' notice that an order's appointment passed without the
/// technician arriving (once per order).
pub fn on_deadline(c: &mut DbConn, order: &WorkOrder) -> StoreResult<()> {
    let facts = order_facts(c, order)?;
    let to = outbox::manager_addresses(c, &order.center_id)?;
    let env = Envelope {
        kind: "deadline_passed",
        center_id: &order.center_id,
        order_id: Some(&order.id),
        payment_id: None,
        to,
        attachment: None,
        dedupe_key: Some(format!("deadline:{}", order.id)),
        keep_unaddressed: true,
        cause: None,
        snapshot: None,
    };
    put(c, env, templates::deadline_passed(&facts))
}

/// Queues the managers' notice that a ticket's reply deadline passed (once per ticket;
/// with nobody to tell, kept as a dead row for admins).
pub fn on_ticket_breached(c: &mut DbConn, t: &crate::store::feedback::Ticket) -> StoreResult<()> {
    let to = outbox::manager_addresses(c, &t.center_id)?;
    let customer = customers::get_row(c, &t.customer_id)?;
    let (_, owner) = outbox::user_address(c, &t.owner_id)?;
    let kind =
        crate::domain::feedback::TicketKind::parse(&t.kind).map_or("工单", |k| k.label_zh());
    let mail = templates::ticket_breached(
        kind,
        &t.number,
        &customer.name,
        &t.subject,
        t.reply_due_at,
        &owner,
    );
    let env = Envelope {
        kind: "ticket_breached",
        center_id: &t.center_id,
        order_id: t.order_id.as_deref(),
        payment_id: None,
        to,
        attachment: None,
        dedupe_key: Some(format!("ticket-breach:{}", t.id)),
        keep_unaddressed: true,
        cause: None,
        snapshot: None,
    };
    put(c, env, mail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration as D;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (b, cap) = (D::from_secs(30), D::from_secs(3600));
        let waits: Vec<u64> = (1..=9).map(|n| backoff(b, cap, n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(b, cap, 0), b);
        assert_eq!(backoff(b, cap, i32::MAX), cap);
    }
}
