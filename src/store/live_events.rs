//! What the live event stream announces (`live_events`), written in the transaction of the
//! change it announces.
//!
//! The store functions that record a change of an order, a ticket or a remittance (the
//! order and ticket timelines, the remittance writes) call [`changed`]; that only notes the
//! object on the thread running the transaction. At the end of the transaction
//! ([`super::db::write_tx`], the one way a write transaction is opened) [`flush`] reads each
//! noted object as the transaction leaves it (center, status, version, who may see it) and
//! inserts one row per object: a rolled-back change announces nothing. On PostgreSQL the
//! rows are inserted under a transaction advisory lock held until commit, so ids are given
//! out in commit order (a reader that has seen id n has seen everything below it), and a
//! `NOTIFY` tells every instance's listener after the commit. After the commit
//! `write_tx` calls [`committed`], which wakes this process's listeners at once.

use std::cell::RefCell;
use std::sync::LazyLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConn;
use super::schema::live_events::dsl as le;

/// The channel every instance LISTENs on (PostgreSQL).
pub const CHANNEL: &str = "dispatch_events";

/// Key of the transaction advisory lock that orders event ids by commit ("live" in ASCII).
const ORDER_LOCK: i64 = 0x6c69_7665;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Order,
    Ticket,
    Remittance,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Order => "order",
            Kind::Ticket => "ticket",
            Kind::Remittance => "remittance",
        }
    }
}

/// One announced change, as stored and as sent (`data:` of the event).
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::live_events)]
pub struct LiveEvent {
    /// the stream's event id (`id:`), growing in commit order
    #[serde(skip)]
    pub id: i64,
    /// order, ticket or remittance
    pub kind: String,
    /// the order's, ticket's or remittance's id
    #[serde(rename = "id")]
    pub entity_id: String,
    pub center_id: String,
    /// its status after the change
    pub status: String,
    /// its version after the change (the ETag a following write sends)
    pub version: i32,
    /// what was done: the first timeline action of the transaction (create, submit,
    /// assign, reply, confirm, …)
    pub action: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    /// technicians who may see it, space-separated (not sent)
    #[serde(skip)]
    pub audience: String,
}

impl LiveEvent {
    /// Whether `user_id` (a technician) is among those who may see it.
    pub fn tells(&self, user_id: &str) -> bool {
        self.audience.split(' ').any(|u| u == user_id)
    }
}

#[derive(Insertable)]
#[diesel(table_name = super::schema::live_events)]
struct NewEvent<'a> {
    kind: &'a str,
    entity_id: &'a str,
    center_id: &'a str,
    status: &'a str,
    version: i32,
    action: &'a str,
    at: NaiveDateTime,
    audience: &'a str,
}

struct Noted {
    kind: Kind,
    id: String,
    action: String,
    /// technicians to tell besides those the object names after the change (the ones an
    /// order was taken from)
    also: Vec<String>,
}

thread_local! {
    static NOTED: RefCell<Vec<Noted>> = const { RefCell::new(Vec::new()) };
}

/// Notes that the transaction running on this thread changed an object; the first action
/// noted for an object is the one announced.
pub fn changed(kind: Kind, id: &str, action: &str) {
    NOTED.with_borrow_mut(|noted| {
        if let Some(n) = noted.iter_mut().find(|n| n.kind == kind && n.id == id) {
            if n.action.is_empty() {
                n.action = action.to_string();
            }
        } else {
            noted.push(Noted {
                kind,
                id: id.to_string(),
                action: action.to_string(),
                also: Vec::new(),
            });
        }
    });
}

/// Notes technicians who are to hear of an order's change although it no longer names
/// them (they were taken off it).
pub fn also_tell(order_id: &str, technicians: Vec<String>) {
    if technicians.is_empty() {
        return;
    }
    NOTED.with_borrow_mut(|noted| {
        match noted
            .iter_mut()
            .find(|n| n.kind == Kind::Order && n.id == order_id)
        {
            Some(n) => n.also.extend(technicians),
            None => noted.push(Noted {
                kind: Kind::Order,
                id: order_id.to_string(),
                action: String::new(), // the timeline entry that follows names it
                also: technicians,
            }),
        }
    });
}

/// Forgets what was noted (a transaction begins; notes of an earlier one that never
/// reached `flush` are not this one's).
pub(crate) fn begin() {
    NOTED.with_borrow_mut(Vec::clear);
}

/// Writes the noted changes as events, at the end of the transaction, before its commit.
/// Answers how many were written.
pub(crate) fn flush(conn: &mut DbConn) -> QueryResult<usize> {
    let noted = NOTED.with_borrow_mut(std::mem::take);
    if noted.is_empty() {
        return Ok(0);
    }
    if let DbConn::Pg(c) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({ORDER_LOCK})")).execute(c)?;
    }
    let at = super::now();
    let mut written = 0;
    for n in noted {
        let action = if n.action.is_empty() {
            "update"
        } else {
            &n.action
        };
        let Some((center_id, status, version, mut audience)) = current(conn, n.kind, &n.id)? else {
            continue; // deleted in the same transaction: nothing to announce
        };
        for t in n.also {
            if !audience.contains(&t) {
                audience.push(t);
            }
        }
        diesel::insert_into(le::live_events)
            .values(&NewEvent {
                kind: n.kind.as_str(),
                entity_id: &n.id,
                center_id: &center_id,
                status: &status,
                version,
                action,
                at,
                audience: &audience.join(" "),
            })
            .execute(conn)?;
        written += 1;
    }
    if written > 0
        && let DbConn::Pg(c) = conn
    {
        diesel::sql_query(format!("NOTIFY {CHANNEL}")).execute(c)?;
    }
    Ok(written)
}

type Current = (String, String, i32, Vec<String>);

/// An object as the transaction leaves it: center, status, version, technicians to tell.
fn current(conn: &mut DbConn, kind: Kind, id: &str) -> QueryResult<Option<Current>> {
    use super::schema::{
        remittances as rm, tickets as tk, work_order_technicians as wt, work_orders as o,
    };
    Ok(match kind {
        Kind::Order => {
            let Some((center, status, version)) = o::table
                .find(id)
                .select((o::center_id, o::status, o::version))
                .first::<(String, String, i32)>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            let techs = wt::table
                .filter(wt::order_id.eq(id))
                .order(wt::technician_id.asc())
                .select(wt::technician_id)
                .load::<String>(conn)?;
            Some((center, status, version, techs))
        }
        Kind::Ticket => tk::table
            .find(id)
            .select((tk::center_id, tk::status, tk::version))
            .first::<(String, String, i32)>(conn)
            .optional()?
            .map(|(c, s, v)| (c, s, v, Vec::new())),
        Kind::Remittance => rm::table
            .find(id)
            .select((rm::center_id, rm::status, rm::version, rm::technician_id))
            .first::<(String, String, i32, String)>(conn)
            .optional()?
            .map(|(c, s, v, t)| (c, s, v, vec![t])),
    })
}

static COMMITS: LazyLock<tokio::sync::watch::Sender<u64>> =
    LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// After a transaction that wrote events committed: wakes this process's listeners.
pub(crate) fn committed() {
    COMMITS.send_modify(|n| *n = n.wrapping_add(1));
}

/// Changes whenever a transaction of this process committed events.
pub fn commits() -> tokio::sync::watch::Receiver<u64> {
    COMMITS.subscribe()
}

/// Events after `after`, oldest first, at most `limit`; only `center`'s when given.
pub fn since(
    conn: &mut DbConn,
    after: i64,
    center: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<LiveEvent>> {
    let mut q = le::live_events
        .filter(le::id.gt(after))
        .select(LiveEvent::as_select())
        .into_boxed();
    if let Some(c) = center {
        q = q.filter(le::center_id.eq(c.to_string()));
    }
    q.order(le::id.asc()).limit(limit).load(conn)
}

/// The newest event's id (0 when there is none).
pub fn last_id(conn: &mut DbConn) -> QueryResult<i64> {
    Ok(le::live_events
        .select(diesel::dsl::max(le::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// The oldest event's id still kept, if any.
pub fn first_id(conn: &mut DbConn) -> QueryResult<Option<i64>> {
    le::live_events
        .select(diesel::dsl::min(le::id))
        .first::<Option<i64>>(conn)
}

/// Deletes events from before `before`, except the newest (whose id a fresh stream
/// starts after); answers how many went.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    let newest = last_id(conn)?;
    diesel::delete(
        le::live_events
            .filter(le::at.lt(before))
            .filter(le::id.lt(newest)),
    )
    .execute(conn)
}
