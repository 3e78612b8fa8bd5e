//! Tickets with their timeline, follow-up calls, feedback settings, and the KPI queries.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::feedback_settings::dsl as fs;
use super::schema::follow_up_attempts::dsl as fa;
use super::schema::follow_ups::dsl as fu;
use super::schema::ticket_events::dsl as te;
use super::schema::tickets::dsl as tk;
use super::{DbConn, Page, PageReq, StoreResult, new_id};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::feedback_settings)]
pub struct FeedbackSettings {
    pub center_id: String,
    pub urgent_reply_minutes: i32,
    pub normal_reply_minutes: i32,
    pub key_revisit_days: i32,
    pub major_revisit_days: Option<i32>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// failed attempts to reach the customer after which a completion follow-up is done as
    /// unreachable (and its order may close)
    pub follow_up_attempts: i32,
}

/// A center without settings: a completion call is given up after three failed attempts.
pub const DEFAULT_FOLLOW_UP_ATTEMPTS: i32 = 3;

impl FeedbackSettings {
    pub fn defaults(center_id: &str) -> Self {
        FeedbackSettings {
            center_id: center_id.to_string(),
            urgent_reply_minutes: 60,
            normal_reply_minutes: 24 * 60,
            key_revisit_days: 90,
            major_revisit_days: Some(180),
            // the defaults count as the first version; the first change stores version 2
            version: 1,
            updated_at: super::now(),
            follow_up_attempts: DEFAULT_FOLLOW_UP_ATTEMPTS,
        }
    }
}

pub fn settings(conn: &mut DbConn, center_id: &str) -> StoreResult<FeedbackSettings> {
    Ok(fs::feedback_settings
        .find(center_id)
        .select(FeedbackSettings::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_else(|| FeedbackSettings::defaults(center_id)))
}

pub fn all_settings(conn: &mut DbConn) -> StoreResult<Vec<FeedbackSettings>> {
    Ok(fs::feedback_settings
        .select(FeedbackSettings::as_select())
        .load(conn)?)
}

/// Writes a center's settings, only at `s.version` (the defaults are version 1).
pub fn save_settings(conn: &mut DbConn, s: &FeedbackSettings) -> StoreResult<()> {
    let stored: i64 = fs::feedback_settings
        .filter(fs::center_id.eq(&s.center_id))
        .count()
        .get_result(conn)?;
    if stored == 0 {
        if s.version != 1 {
            return Err(super::StoreError::Stale { current: 1 });
        }
        let mut row = s.clone();
        row.version = 2;
        diesel::insert_into(fs::feedback_settings)
            .values(&row)
            .execute(conn)?;
        return Ok(());
    }
    let n = diesel::update(
        fs::feedback_settings
            .filter(fs::center_id.eq(&s.center_id))
            .filter(fs::version.eq(s.version)),
    )
    .set((
        fs::urgent_reply_minutes.eq(s.urgent_reply_minutes),
        fs::normal_reply_minutes.eq(s.normal_reply_minutes),
        fs::key_revisit_days.eq(s.key_revisit_days),
        fs::major_revisit_days.eq(s.major_revisit_days),
        fs::follow_up_attempts.eq(s.follow_up_attempts),
        fs::version.eq(s.version + 1),
        fs::updated_at.eq(super::now()),
    ))
    .execute(conn)?;
    super::check_versioned(n, || {
        fs::feedback_settings
            .find(&s.center_id)
            .select(fs::version)
            .first(conn)
            .optional()
    })
}

// ---------------------------------------------------------------- tickets

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::tickets)]
pub struct Ticket {
    pub id: String,
    /// TS-ZZ-2026-000001 (投诉), ZX- (咨询), JY- (建议)
    pub number: String,
    pub center_id: String,
    pub customer_id: String,
    pub order_id: Option<String>,
    pub kind: String,
    pub channel: String,
    pub urgency: String,
    pub subject: String,
    pub description: String,
    /// open, replied, resolved, closed
    pub status: String,
    /// 首问负责: the owner until closed or handed over
    pub owner_id: String,
    pub created_by: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub reply_due_at: NaiveDateTime,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub replied_at: Option<NaiveDateTime>,
    pub reply: Option<String>,
    /// the reply deadline passed without a reply (kept after a late reply)
    pub breached: bool,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub escalated_at: Option<NaiveDateTime>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<NaiveDateTime>,
    pub resolution: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub customer_notified_at: Option<NaiveDateTime>,
    /// how the customer was told the result
    pub customer_notice: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<NaiveDateTime>,
    pub follow_up_id: Option<String>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = super::schema::tickets)]
pub struct TicketPatch {
    pub status: Option<String>,
    pub owner_id: Option<String>,
    pub replied_at: Option<Option<NaiveDateTime>>,
    pub reply: Option<Option<String>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
    pub resolution: Option<Option<String>>,
    pub customer_notified_at: Option<Option<NaiveDateTime>>,
    pub customer_notice: Option<Option<String>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
}

pub fn insert_ticket(conn: &mut DbConn, t: &Ticket) -> StoreResult<()> {
    diesel::insert_into(tk::tickets).values(t).execute(conn)?;
    Ok(())
}

pub fn ticket(conn: &mut DbConn, id: &str) -> StoreResult<Ticket> {
    Ok(tk::tickets
        .find(id)
        .select(Ticket::as_select())
        .first(conn)?)
}

pub fn update_ticket(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    patch: &TicketPatch,
) -> StoreResult<()> {
    versioned_update!(conn, tickets, id, id, version, patch)
}

#[derive(Debug, Default)]
pub struct TicketFilter {
    pub center: Option<String>,
    /// any of these statuses
    pub status: Option<Vec<String>>,
    pub kind: Option<String>,
    pub owner_id: Option<String>,
    pub customer_id: Option<String>,
    pub breached: Option<bool>,
}

pub fn list_tickets(
    conn: &mut DbConn,
    f: &TicketFilter,
    page: &PageReq,
) -> StoreResult<Page<Ticket>> {
    let mut q = tk::tickets.select(Ticket::as_select()).into_boxed();
    if let Some(c) = &f.center {
        q = q.filter(tk::center_id.eq(c.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(tk::status.eq_any(s.clone()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(tk::kind.eq(k.clone()));
    }
    if let Some(o) = &f.owner_id {
        q = q.filter(tk::owner_id.eq(o.clone()));
    }
    if let Some(c) = &f.customer_id {
        q = q.filter(tk::customer_id.eq(c.clone()));
    }
    if let Some(b) = f.breached {
        q = q.filter(tk::breached.eq(b));
    }
    if let Some(after) = &page.after {
        q = q.filter(tk::id.gt(after.clone()));
    }
    let rows = q.order(tk::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &Ticket| &r.id))
}

/// A person who may own a ticket of a center: an active agent or manager of it.
#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct TicketStaff {
    pub id: String,
    pub display_name: String,
    /// agent or manager
    pub role: String,
}

/// The active agents and managers of a center, by display name.
pub fn ticket_staff(conn: &mut DbConn, center_id: &str) -> StoreResult<Vec<TicketStaff>> {
    use super::schema::users::dsl as u;
    Ok(u::users
        .filter(u::center_id.eq(center_id))
        .filter(u::active.eq(true))
        .filter(u::role.eq_any(vec!["agent", "manager"]))
        .order((u::display_name.asc(), u::id.asc()))
        .select((u::id, u::display_name, u::role))
        .load(conn)?)
}

/// Open tickets whose reply deadline passed at `at` (within `recent`: a first start on
/// old data must not flood the managers) without a reply, not yet marked.
pub fn unreplied_past_due(
    conn: &mut DbConn,
    at: NaiveDateTime,
    recent: chrono::Duration,
    limit: i64,
) -> StoreResult<Vec<Ticket>> {
    Ok(tk::tickets
        .filter(tk::breached.eq(false))
        .filter(tk::replied_at.is_null())
        .filter(tk::status.eq("open"))
        .filter(tk::reply_due_at.lt(at))
        .filter(tk::reply_due_at.ge(at - recent))
        .order(tk::reply_due_at.asc())
        .limit(limit)
        .select(Ticket::as_select())
        .load(conn)?)
}

/// Marks the breach (once) and its escalation; answers whether this call marked it.
pub fn mark_breached(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> StoreResult<bool> {
    let n = diesel::update(
        tk::tickets
            .filter(tk::id.eq(id))
            .filter(tk::breached.eq(false))
            .filter(tk::replied_at.is_null())
            .filter(tk::status.eq("open")),
    )
    .set((
        tk::breached.eq(true),
        tk::escalated_at.eq(Some(at)),
        tk::version.eq(tk::version + 1),
        tk::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::ticket_events)]
pub struct TicketEvent {
    pub id: String,
    #[serde(skip)]
    pub ticket_id: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    /// none: the system (a deadline breach)
    pub actor_id: Option<String>,
    /// create, reply, resolve, notify_customer, close, handover, breach
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub comment: Option<String>,
}

pub fn add_ticket_event(
    conn: &mut DbConn,
    ticket_id: &str,
    actor_id: Option<&str>,
    action: &str,
    states: Option<(&str, &str)>,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> StoreResult<()> {
    let row = TicketEvent {
        id: new_id(),
        ticket_id: ticket_id.to_string(),
        at,
        actor_id: actor_id.map(str::to_string),
        action: action.to_string(),
        from_status: states.map(|s| s.0.to_string()),
        to_status: states.map(|s| s.1.to_string()),
        comment: comment.map(str::to_string),
    };
    diesel::insert_into(te::ticket_events)
        .values(&row)
        .execute(conn)?;
    super::live_events::changed(super::live_events::Kind::Ticket, ticket_id, action);
    Ok(())
}

pub fn ticket_events(conn: &mut DbConn, ticket_id: &str) -> StoreResult<Vec<TicketEvent>> {
    Ok(te::ticket_events
        .filter(te::ticket_id.eq(ticket_id))
        .order((te::at.asc(), te::id.asc()))
        .select(TicketEvent::as_select())
        .load(conn)?)
}

// ---------------------------------------------------------------- follow-ups

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::follow_ups)]
pub struct FollowUp {
    pub id: String,
    pub center_id: String,
    pub customer_id: String,
    pub order_id: Option<String>,
    /// completion (after a finished job) or revisit (a key customer's periodic visit)
    pub kind: String,
    /// open or done
    pub status: String,
    /// done without reaching the customer, after the center's number of attempts
    pub unreachable: bool,
    pub assignee_id: Option<String>,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: NaiveDateTime,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<NaiveDateTime>,
    pub done_by: Option<String>,
    /// satisfaction 1–5
    pub score: Option<i32>,
    pub comment: Option<String>,
    /// the complaint a low score opened
    pub ticket_id: Option<String>,
    pub version: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

pub fn insert_follow_up(conn: &mut DbConn, f: &FollowUp) -> StoreResult<()> {
    diesel::insert_into(fu::follow_ups)
        .values(f)
        .execute(conn)?;
    Ok(())
}

pub fn follow_up(conn: &mut DbConn, id: &str) -> StoreResult<FollowUp> {
    Ok(fu::follow_ups
        .find(id)
        .select(FollowUp::as_select())
        .first(conn)?)
}

pub fn follow_up_of_order(conn: &mut DbConn, order_id: &str) -> StoreResult<Option<FollowUp>> {
    Ok(fu::follow_ups
        .filter(fu::order_id.eq(order_id))
        .filter(fu::kind.eq("completion"))
        .select(FollowUp::as_select())
        .first(conn)
        .optional()?)
}

/// What a follow-up call found.
#[derive(Clone, Copy)]
pub struct CallRecord<'a> {
    pub by: &'a str,
    pub score: i32,
    pub comment: Option<&'a str>,
    /// the complaint it opened
    pub ticket_id: Option<&'a str>,
    pub at: NaiveDateTime,
}

/// Records the call: done, with its score; only an open one at `version`.
pub fn record_follow_up(
    conn: &mut DbConn,
    id: &str,
    version: i32,
    r: &CallRecord,
) -> StoreResult<()> {
    let CallRecord {
        by,
        score,
        comment,
        ticket_id,
        at,
    } = *r;
    let n = diesel::update(
        fu::follow_ups
            .filter(fu::id.eq(id))
            .filter({
                let (lo, hi) = super::version_range(version);
                fu::version.between(lo, hi)
            })
            .filter(fu::status.eq("open")),
    )
    .set((
        fu::status.eq("done"),
        fu::done_at.eq(Some(at)),
        fu::done_by.eq(Some(by)),
        fu::score.eq(Some(score)),
        fu::comment.eq(comment),
        fu::ticket_id.eq(ticket_id),
        fu::version.eq(version + 1),
        fu::updated_at.eq(at),
    ))
    .execute(conn)?;
    super::check_versioned(n, || {
        fu::follow_ups
            .find(id)
            .select(fu::version)
            .first(conn)
            .optional()
    })
}

/// One failed attempt to reach the customer of a follow-up call.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::follow_up_attempts)]
pub struct FollowUpAttempt {
    pub id: String,
    pub follow_up_id: String,
    pub attempted_by: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub attempted_at: NaiveDateTime,
    pub note: Option<String>,
}

pub fn attempts(conn: &mut DbConn, follow_up_id: &str) -> StoreResult<Vec<FollowUpAttempt>> {
    Ok(fa::follow_up_attempts
        .filter(fa::follow_up_id.eq(follow_up_id))
        .order((fa::attempted_at.asc(), fa::id.asc()))
        .select(FollowUpAttempt::as_select())
        .load(conn)?)
}

/// How many failed attempts each of `ids` has (absent: none).
pub fn attempt_counts(
    conn: &mut DbConn,
    ids: &[&str],
) -> StoreResult<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows: Vec<(String, i64)> = fa::follow_up_attempts
            .filter(fa::follow_up_id.eq_any(chunk))
            .group_by(fa::follow_up_id)
            .select((fa::follow_up_id, diesel::dsl::count_star()))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Records a failed attempt on an open follow-up at `version`; with `give_up` the call is
/// done, unreachable.
pub fn record_attempt(
    conn: &mut DbConn,
    version: i32,
    a: &FollowUpAttempt,
    give_up: bool,
) -> StoreResult<()> {
    let at = a.attempted_at;
    let n = diesel::update(
        fu::follow_ups
            .filter(fu::id.eq(&a.follow_up_id))
            .filter(fu::version.eq(version))
            .filter(fu::status.eq("open")),
    )
    .set((
        fu::status.eq(if give_up { "done" } else { "open" }),
        fu::unreachable.eq(give_up),
        fu::done_at.eq(give_up.then_some(at)),
        fu::done_by.eq(give_up.then_some(a.attempted_by.as_str())),
        fu::version.eq(version + 1),
        fu::updated_at.eq(at),
    ))
    .execute(conn)?;
    super::check_versioned(n, || {
        fu::follow_ups
            .find(&a.follow_up_id)
            .select(fu::version)
            .first(conn)
            .optional()
    })?;
    diesel::insert_into(fa::follow_up_attempts)
        .values(a)
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct FollowUpFilter {
    pub center: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub assignee_id: Option<String>,
    pub customer_id: Option<String>,
}

pub fn list_follow_ups(
    conn: &mut DbConn,
    f: &FollowUpFilter,
    page: &PageReq,
) -> StoreResult<Page<FollowUp>> {
    let mut q = fu::follow_ups.select(FollowUp::as_select()).into_boxed();
    if let Some(c) = &f.center {
        q = q.filter(fu::center_id.eq(c.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(fu::status.eq(s.clone()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(fu::kind.eq(k.clone()));
    }
    if let Some(a) = &f.assignee_id {
        q = q.filter(fu::assignee_id.eq(a.clone()));
    }
    if let Some(c) = &f.customer_id {
        q = q.filter(fu::customer_id.eq(c.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(fu::id.gt(after.clone()));
    }
    let rows = q.order(fu::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &FollowUp| &r.id))
}

/// Customers of a center with this tier that have no open revisit, with the time of
/// their last revisit (or their creation, when never revisited).
pub fn revisit_candidates(
    conn: &mut DbConn,
    center_id: &str,
    tier: &str,
) -> StoreResult<Vec<(String, NaiveDateTime)>> {
    use super::schema::customers::dsl as cu;
    let customers: Vec<(String, NaiveDateTime)> = cu::customers
        .filter(cu::center_id.eq(center_id))
        .filter(cu::tier.eq(tier))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            fu::follow_ups
                .filter(fu::customer_id.eq(cu::id))
                .filter(fu::kind.eq("revisit"))
                .filter(fu::status.eq("open")),
        )))
        .select((cu::id, cu::created_at))
        .load(conn)?;
    // the last revisit of each, in one grouped query per chunk (not one per customer)
    let ids: Vec<&str> = customers.iter().map(|(id, _)| id.as_str()).collect();
    let mut last: std::collections::HashMap<String, NaiveDateTime> = Default::default();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows: Vec<(String, Option<NaiveDateTime>)> = fu::follow_ups
            .filter(fu::customer_id.eq_any(chunk))
            .filter(fu::kind.eq("revisit"))
            .group_by(fu::customer_id)
            .select((fu::customer_id, diesel::dsl::max(fu::done_at)))
            .load(conn)?;
        last.extend(rows.into_iter().filter_map(|(id, t)| Some((id, t?))));
    }
    Ok(customers
        .into_iter()
        .map(|(id, created)| {
            let at = last.get(&id).copied().unwrap_or(created);
            (id, at)
        })
        .collect())
}

// ---------------------------------------------------------------- KPIs

use super::money::{Bind, load_by_name};
use diesel::sql_types::{BigInt, Nullable, Text};

/// What the KPIs are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpiGroup {
    Center,
    Technician,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct OrderRow {
    #[diesel(sql_type = Nullable<Text>)]
    pub grp: Option<String>,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    /// orders with a wait time (arrived), and their wait summed
    #[diesel(sql_type = BigInt)]
    pub wait_n: i64,
    #[diesel(sql_type = BigInt)]
    pub wait_sum: i64,
    /// orders with a repair time (completed), and their repair time summed
    #[diesel(sql_type = BigInt)]
    pub repair_n: i64,
    #[diesel(sql_type = BigInt)]
    pub repair_sum: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct SumRow {
    #[diesel(sql_type = Nullable<Text>)]
    pub grp: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub a: i64,
    #[diesel(sql_type = BigInt)]
    pub b: i64,
    #[diesel(sql_type = BigInt)]
    pub c: i64,
    #[diesel(sql_type = BigInt)]
    pub d: i64,
    #[diesel(sql_type = BigInt)]
    pub e: i64,
}

#[derive(Debug, Clone, QueryableByName)]
struct Value {
    #[diesel(sql_type = BigInt)]
    v: i64,
}

/// The raw figures of the KPIs for orders requested, tickets received and follow-ups done
/// in `[from, to)`, by center or by lead technician: integer counts and sums only, the same
/// on both databases; averages, rates and percentiles are worked out from them.
#[derive(Debug, Default)]
pub struct KpiData {
    /// by group, kind and status: orders, wait and repair counts and sums
    pub orders: Vec<OrderRow>,
    /// a: finished repair orders that went on hold (not fixed at the first visit)
    pub held: Vec<SumRow>,
    /// the nearest-rank p90 of the wait seconds, per group
    pub wait_p90: BTreeMap<String, i64>,
    /// the nearest-rank p90 of the repair seconds, per group
    pub repair_p90: BTreeMap<String, i64>,
    /// a: tickets, b: complaints, c: replied within the deadline, d: resolved or closed,
    /// e: due by `now` or replied (the in-time rate's denominator)
    pub tickets: Vec<SumRow>,
    /// a: calls with a score, b: their scores summed
    pub satisfaction: Vec<SumRow>,
}

pub fn kpi_data(
    conn: &mut DbConn,
    group: KpiGroup,
    from: NaiveDateTime,
    to: NaiveDateTime,
    center: Option<&str>,
    at: NaiveDateTime,
) -> StoreResult<KpiData> {
    let g = match group {
        KpiGroup::Center => "o.center_id",
        KpiGroup::Technician => "o.lead_technician_id",
    };
    let only_assigned = match group {
        KpiGroup::Center => "",
        KpiGroup::Technician => " AND o.lead_technician_id IS NOT NULL",
    };
    let center_cond = if center.is_some() {
        " AND o.center_id = ?"
    } else {
        ""
    };
    let period = format!("o.requested_at >= ? AND o.requested_at < ?{center_cond}{only_assigned}");
    let binds = || {
        let mut b = vec![Bind::Time(from), Bind::Time(to)];
        if let Some(c) = center {
            b.push(Bind::Text(c.to_string()));
        }
        b
    };
    let timed = |name: &str, clock: std::time::Instant| {
        tracing::debug!(
            query = name,
            ms = clock.elapsed().as_millis() as u64,
            "kpi query"
        );
    };
    // the period's counts and sums from the daily rollup (kept by triggers; China days)
    let clock = std::time::Instant::now();
    let day = |t: NaiveDateTime| (t + chrono::Duration::hours(8)).date();
    let (rg, r_assigned) = match group {
        KpiGroup::Center => ("r.center_id", ""),
        KpiGroup::Technician => ("r.lead_id", " AND r.lead_id <> ''"),
    };
    let r_center = if center.is_some() {
        " AND r.center_id = ?"
    } else {
        ""
    };
    let mut day_binds = vec![Bind::Date(day(from)), Bind::Date(day(to))];
    if let Some(c) = center {
        day_binds.push(Bind::Text(c.to_string()));
    }
    let orders: Vec<OrderRow> = load_by_name(
        conn,
        &format!(
            "SELECT {rg} AS grp, r.kind AS kind, r.status AS status,
                CAST(SUM(r.n) AS BIGINT) AS n,
                CAST(SUM(r.wait_n) AS BIGINT) AS wait_n, CAST(SUM(r.wait_sum) AS BIGINT) AS wait_sum,
                CAST(SUM(r.repair_n) AS BIGINT) AS repair_n, CAST(SUM(r.repair_sum) AS BIGINT) AS repair_sum
             FROM kpi_order_days r
             WHERE r.day >= ? AND r.day < ?{r_center}{r_assigned}
             GROUP BY {rg}, r.kind, r.status
             HAVING SUM(r.n) > 0"
        ),
        &day_binds,
    )?;
    timed("orders", clock);
    // finished repairs that went on hold: from the (few) hold events (CROSS JOIN keeps
    // SQLite's planner from starting at the orders)
    let clock = std::time::Instant::now();
    let held = load_by_name(
        conn,
        &format!(
            "SELECT {g} AS grp, COUNT(DISTINCT o.id) AS a, CAST(0 AS BIGINT) AS b,
                CAST(0 AS BIGINT) AS c, CAST(0 AS BIGINT) AS d, CAST(0 AS BIGINT) AS e
             FROM order_events h CROSS JOIN work_orders o
             WHERE o.id = h.order_id AND h.action = 'hold' AND o.kind = 'repair' AND o.status IN ('completed', 'closed')
               AND {period}
             GROUP BY {g}"
        ),
        &binds(),
    )?;
    timed("held", clock);
    // p90s: each group's value at the nearest rank, counted down from the largest (the
    // top tenth of an index on (group, value, requested_at), not the whole period)
    let clock = std::time::Instant::now();
    let mut counts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for o in &orders {
        if let Some(g) = &o.grp {
            let e = counts.entry(g.clone()).or_default();
            e.0 += o.wait_n;
            e.1 += o.repair_n;
        }
    }
    let mut wait_p90 = BTreeMap::new();
    let mut repair_p90 = BTreeMap::new();
    let key_col = match group {
        KpiGroup::Center => "o.center_id",
        KpiGroup::Technician => "o.lead_technician_id",
    };
    let also_center = match (group, center) {
        (KpiGroup::Technician, Some(_)) => " AND o.center_id = ?",
        _ => "",
    };
    // SQLite's planner would rather take (center, requested_at) and sort the whole period:
    // unary `+` keeps the period test out of its index choice (PostgreSQL plans it well)
    let plus = if matches!(conn, DbConn::Sqlite(_)) {
        "+"
    } else {
        ""
    };
    for (g, (wait_n, repair_n)) in &counts {
        for (col, n, out) in [
            ("wait_seconds", *wait_n, &mut wait_p90),
            ("repair_seconds", *repair_n, &mut repair_p90),
        ] {
            let Some(rank) = crate::domain::feedback::nearest_rank_index(n, 90) else {
                continue;
            };
            let mut b = vec![Bind::Text(g.clone()), Bind::Time(from), Bind::Time(to)];
            if let (KpiGroup::Technician, Some(c)) = (group, center) {
                b.push(Bind::Text(c.to_string()));
            }
            let from_top = n - 1 - rank;
            let found: Vec<Value> = load_by_name(
                conn,
                &format!(
                    "SELECT o.{col} AS v FROM work_orders o
                     WHERE {key_col} = ? AND o.{col} IS NOT NULL
                       AND {plus}o.requested_at >= ? AND {plus}o.requested_at < ?{also_center}
                     ORDER BY o.{col} DESC LIMIT 1 OFFSET {from_top}"
                ),
                &b,
            )?;
            if let Some(v) = found.first() {
                out.insert(g.clone(), v.v);
            }
        }
    }
    timed("p90", clock);
    // tickets and follow-ups: by their center, or by the lead of the order they concern
    let (join, tg) = match group {
        KpiGroup::Center => (
            "LEFT JOIN work_orders o ON o.id = t.order_id",
            "t.center_id",
        ),
        KpiGroup::Technician => (
            "JOIN work_orders o ON o.id = t.order_id",
            "o.lead_technician_id",
        ),
    };
    let t_center = if center.is_some() {
        " AND t.center_id = ?"
    } else {
        ""
    };
    let t_binds = |first: Option<NaiveDateTime>| {
        let mut b: Vec<Bind> = first.into_iter().map(Bind::Time).collect();
        b.push(Bind::Time(from));
        b.push(Bind::Time(to));
        if let Some(c) = center {
            b.push(Bind::Text(c.to_string()));
        }
        b
    };
    let clock = std::time::Instant::now();
    let tickets = load_by_name(
        conn,
        &format!(
            "SELECT {tg} AS grp, COUNT(*) AS a,
                CAST(COALESCE(SUM(CASE WHEN t.kind = 'complaint' THEN 1 ELSE 0 END), 0) AS BIGINT) AS b,
                CAST(COALESCE(SUM(CASE WHEN t.replied_at IS NOT NULL AND t.replied_at <= t.reply_due_at THEN 1 ELSE 0 END), 0) AS BIGINT) AS c,
                CAST(COALESCE(SUM(CASE WHEN t.status IN ('resolved', 'closed') THEN 1 ELSE 0 END), 0) AS BIGINT) AS d,
                CAST(COALESCE(SUM(CASE WHEN t.replied_at IS NOT NULL OR t.reply_due_at < ? THEN 1 ELSE 0 END), 0) AS BIGINT) AS e
             FROM tickets t {join}
             WHERE t.received_at >= ? AND t.received_at < ?{t_center}
             GROUP BY {tg}"
        ),
        &t_binds(Some(at)),
    )?;
    timed("tickets", clock);
    let clock = std::time::Instant::now();
    let satisfaction = load_by_name(
        conn,
        &format!(
            "SELECT {tg} AS grp, COUNT(t.score) AS a,
                CAST(COALESCE(SUM(t.score), 0) AS BIGINT) AS b,
                CAST(0 AS BIGINT) AS c, CAST(0 AS BIGINT) AS d, CAST(0 AS BIGINT) AS e
             FROM follow_ups t {join}
             WHERE t.score IS NOT NULL AND t.done_at >= ? AND t.done_at < ?{t_center}
             GROUP BY {tg}"
        ),
        &t_binds(None),
    )?;
    timed("satisfaction", clock);
    Ok(KpiData {
        orders,
        held,
        wait_p90,
        repair_p90,
        tickets,
        satisfaction,
    })
}
