//! Tickets (咨询/投诉/建议): taken by whoever answers (首问负责), replied to within the
//! center's deadline, resolved, the customer told, closed; handed over with a note.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::app::{Error, Principal, Result, stored};
use crate::domain::access::Role;
use crate::domain::feedback::{
    self as rules, Deadlines, TicketAction, TicketChannel, TicketKind, TicketStatus, TicketUrgency,
};
use crate::domain::{china_day, document_number};
use crate::store::feedback::{
    self as store, FeedbackSettings, Ticket, TicketEvent, TicketFilter, TicketPatch, TicketStaff,
};
use crate::store::{
    DbConn, Page, PageReq, StoreResult, centers, customers, names, new_id, now, orders, users,
};

/// A ticket with its timeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// every step: who, when, from, to
    pub events: Vec<TicketEvent>,
    pub customer_name: Option<String>,
    pub owner_name: Option<String>,
    /// the number of the order it is about, if any
    pub order_number: Option<String>,
    /// display names of the people on the ticket and its timeline (owner, creator,
    /// actors, both sides of every handover), by user id
    pub names: BTreeMap<String, String>,
}

/// The user ids a handover event's comment (`from → to: note`) names.
fn handover_ids(comment: &str) -> impl Iterator<Item = &str> {
    comment
        .split_once(": ")
        .map(|(head, _)| head)
        .into_iter()
        .flat_map(|head| head.split(" → "))
}

fn view(c: &mut DbConn, ticket: Ticket) -> Result<TicketView> {
    let events = store::ticket_events(c, &ticket.id)?;
    let mut ids: Vec<&str> = vec![ticket.owner_id.as_str(), ticket.created_by.as_str()];
    for e in &events {
        ids.extend(e.actor_id.as_deref());
        if e.action == "handover" {
            ids.extend(e.comment.as_deref().into_iter().flat_map(handover_ids));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let names: BTreeMap<String, String> = names::user_names(c, &ids)?.into_iter().collect();
    let customer_name =
        names::customer_names(c, &[ticket.customer_id.as_str()])?.remove(&ticket.customer_id);
    let order_number = match &ticket.order_id {
        Some(o) => Some(orders::get(c, o)?.number),
        None => None,
    };
    Ok(TicketView {
        owner_name: names.get(&ticket.owner_id).cloned(),
        customer_name,
        order_number,
        names,
        events,
        ticket,
    })
}

/// A ticket in a list, with its customer's and owner's names.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketRow {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub customer_name: Option<String>,
    pub owner_name: Option<String>,
}

fn load(c: &mut DbConn, p: &Principal, id: &str) -> Result<Ticket> {
    let t = store::ticket(c, id)?;
    p.see(&t.center_id)?;
    Ok(t)
}

fn deadlines(s: &FeedbackSettings) -> Deadlines {
    Deadlines {
        urgent_minutes: i64::from(s.urgent_reply_minutes),
        normal_minutes: i64::from(s.normal_reply_minutes),
    }
}

/// What a new ticket says; `received_at` is when the customer reached us.
pub struct NewTicket {
    pub customer_id: String,
    pub order_id: Option<String>,
    pub kind: TicketKind,
    pub channel: TicketChannel,
    pub urgency: TicketUrgency,
    pub subject: String,
    pub description: String,
    pub received_at: NaiveDateTime,
}

/// A ticket as stored: of a center and customer, owned by `owner_id`, opened by a
/// follow-up call when `follow_up_id` is set.
pub(super) struct Opening<'a> {
    pub center_id: &'a str,
    pub customer_id: &'a str,
    pub owner_id: &'a str,
    pub follow_up_id: Option<String>,
    pub ticket: NewTicket,
}

/// A new ticket (inside the caller's transaction): numbered, its deadline set from the
/// center's settings, on its timeline.
pub(super) fn open(c: &mut DbConn, o: Opening) -> StoreResult<Ticket> {
    let n = o.ticket;
    let center = centers::get(c, o.center_id)?;
    let settings = store::settings(c, o.center_id)?;
    let year = chrono::Datelike::year(&china_day(n.received_at));
    let seq = crate::store::numbers::next_number(c, o.center_id, n.kind.prefix(), year)?;
    let t = now();
    let ticket = Ticket {
        id: new_id(),
        number: document_number(n.kind.prefix(), &center.code, year, seq),
        center_id: o.center_id.to_string(),
        customer_id: o.customer_id.to_string(),
        order_id: n.order_id,
        kind: n.kind.as_str().into(),
        channel: n.channel.as_str().into(),
        urgency: n.urgency.as_str().into(),
        subject: n.subject,
        description: n.description,
        status: TicketStatus::Open.as_str().into(),
        owner_id: o.owner_id.to_string(),
        created_by: o.owner_id.to_string(),
        received_at: n.received_at,
        reply_due_at: rules::reply_due(n.received_at, n.urgency, deadlines(&settings)),
        replied_at: None,
        reply: None,
        breached: false,
        escalated_at: None,
        resolved_at: None,
        resolution: None,
        customer_notified_at: None,
        customer_notice: None,
        closed_at: None,
        follow_up_id: o.follow_up_id,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    store::insert_ticket(c, &ticket)?;
    store::add_ticket_event(
        c,
        &ticket.id,
        Some(o.owner_id),
        "create",
        None,
        Some(&ticket.number),
        t,
    )?;
    Ok(ticket)
}

/// Takes a ticket: the caller owns it (首问负责). The customer must be in the caller's
/// scope, and the order (if any) that customer's.
pub fn create(c: &mut DbConn, p: &Principal, new: NewTicket) -> Result<TicketView> {
    let customer = customers::get_row(c, &new.customer_id)
        .ok()
        .filter(|cu| p.scope.covers(&cu.center_id))
        .ok_or_else(|| Error::field("customer_id", "unknown", "no such customer"))?;
    if let Some(o) = &new.order_id {
        let order = orders::get(c, o)
            .ok()
            .filter(|o| o.customer_id == customer.id);
        if order.is_none() {
            return Err(Error::field(
                "order_id",
                "unknown",
                "no such order of this customer",
            ));
        }
    }
    let t = open(
        c,
        Opening {
            center_id: &customer.center_id,
            customer_id: &customer.id,
            owner_id: &p.id,
            follow_up_id: None,
            ticket: new,
        },
    )?;
    view(c, t)
}

/// A page of tickets (the filter's center already narrowed to the caller's scope), with
/// the names of their customers and owners.
pub fn list(c: &mut DbConn, f: &TicketFilter, page: &PageReq) -> Result<Page<TicketRow>> {
    let page = store::list_tickets(c, f, page)?;
    let owners: Vec<&str> = page.items.iter().map(|t| t.owner_id.as_str()).collect();
    let custs: Vec<&str> = page.items.iter().map(|t| t.customer_id.as_str()).collect();
    let owner_names = names::user_names(c, &owners)?;
    let customer_names = names::customer_names(c, &custs)?;
    Ok(Page {
        next_cursor: page.next_cursor,
        items: page
            .items
            .into_iter()
            .map(|t| TicketRow {
                owner_name: owner_names.get(&t.owner_id).cloned(),
                customer_name: customer_names.get(&t.customer_id).cloned(),
                ticket: t,
            })
            .collect(),
    })
}

/// Who a ticket may be handed over to: the active agents and managers of its center
/// other than its owner.
pub fn handover_targets(c: &mut DbConn, p: &Principal, id: &str) -> Result<Vec<TicketStaff>> {
    let t = load(c, p, id)?;
    let mut staff = store::ticket_staff(c, &t.center_id)?;
    staff.retain(|s| s.id != t.owner_id);
    Ok(staff)
}

pub fn get(c: &mut DbConn, p: &Principal, id: &str) -> Result<TicketView> {
    let t = load(c, p, id)?;
    view(c, t)
}

/// One step of a ticket's lifecycle, with what it records.
pub enum Step {
    /// answer the customer (the first reply stops the deadline clock)
    Reply {
        text: String,
    },
    /// what was done about it
    Resolve {
        text: String,
    },
    /// how the customer was told the result (needed to close)
    NotifyCustomer {
        text: String,
    },
    Close,
    /// to another active agent or manager of the center, with a note
    Handover {
        to_user_id: String,
        note: String,
    },
}

impl Step {
    fn action(&self) -> TicketAction {
        match self {
            Step::Reply { .. } => TicketAction::Reply,
            Step::Resolve { .. } => TicketAction::Resolve,
            Step::NotifyCustomer { .. } => TicketAction::NotifyCustomer,
            Step::Close => TicketAction::Close,
            Step::Handover { .. } => TicketAction::Handover,
        }
    }
}

/// Runs a step on a ticket: by its owner (or a manager, or an admin), at `version`,
/// through the lifecycle of `domain::feedback`; on the ticket's timeline.
pub fn act(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    step: Step,
) -> Result<TicketView> {
    let t = load(c, p, id)?;
    if t.owner_id != p.id && !matches!(p.role, Role::Manager | Role::Admin) {
        return Err(Error::conflict(
            "not_owner",
            "only the ticket's owner (or a manager) acts on it; ask for a handover",
        ));
    }
    if !crate::store::version_matches(version, t.version) {
        return Err(Error::PreconditionFailed { current: t.version });
    }
    let action = step.action();
    let from = stored("ticket status", &t.status, TicketStatus::parse)?;
    let to = rules::next(from, action, t.customer_notified_at.is_some())?;
    let mut patch = TicketPatch {
        status: Some(to.as_str().into()),
        ..Default::default()
    };
    let comment = apply(c, &t, step, &mut patch)?;
    store::update_ticket(c, &t.id, t.version, &patch)?;
    let states = (from != to).then_some((from.as_str(), to.as_str()));
    store::add_ticket_event(
        c,
        &t.id,
        Some(&p.id),
        action.as_str(),
        states,
        comment.as_deref(),
        now(),
    )?;
    let fresh = store::ticket(c, &t.id)?;
    view(c, fresh)
}

/// What a step changes on the ticket; answers the comment on its timeline.
fn apply(c: &mut DbConn, t: &Ticket, step: Step, p: &mut TicketPatch) -> Result<Option<String>> {
    match step {
        Step::Reply { text } => {
            if t.replied_at.is_none() {
                p.replied_at = Some(Some(now()));
            }
            p.reply = Some(Some(text.clone()));
            Ok(Some(text))
        }
        Step::Resolve { text } => {
            // resolving without a reply first answers the customer with the resolution
            if t.replied_at.is_none() {
                p.replied_at = Some(Some(now()));
            }
            p.resolved_at = Some(Some(now()));
            p.resolution = Some(Some(text.clone()));
            Ok(Some(text))
        }
        Step::NotifyCustomer { text } => {
            p.customer_notified_at = Some(Some(now()));
            p.customer_notice = Some(Some(text.clone()));
            Ok(Some(text))
        }
        Step::Close => {
            p.closed_at = Some(Some(now()));
            Ok(None)
        }
        Step::Handover { to_user_id, note } => {
            let target = handover_target(c, t, &to_user_id)?;
            p.owner_id = Some(target.clone());
            Ok(Some(format!("{} → {}: {note}", t.owner_id, target)))
        }
    }
}

/// The new owner of a handover: an active agent or manager of the ticket's center, not
/// its owner already.
fn handover_target(c: &mut DbConn, t: &Ticket, user_id: &str) -> Result<String> {
    let unknown = || {
        Error::field(
            "to_user_id",
            "unknown",
            "an active agent or manager of the ticket's center",
        )
    };
    let Ok(user) = users::get(c, user_id) else {
        return Err(unknown());
    };
    let role = stored("user role", &user.role, Role::parse)?;
    if user.center_id != t.center_id || !user.active || !matches!(role, Role::Agent | Role::Manager)
    {
        return Err(unknown());
    }
    if user.id == t.owner_id {
        return Err(Error::field(
            "to_user_id",
            "same_owner",
            "already the owner",
        ));
    }
    Ok(user.id)
}
