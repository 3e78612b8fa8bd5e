//! The e-mail outbox: messages written in the transaction of the change that causes them,
//! claimed and delivered by workers, every attempt recorded.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;

use super::schema::outbox_attempts::dsl as oa;
use super::schema::outbox_messages::dsl as om;
use super::schema::users::dsl as u;
use super::{DbConn, Page, PageReq, StoreError, StoreResult};

#[derive(
    Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = super::schema::outbox_messages)]
pub struct OutboxMessage {
    pub id: String,
    /// order_submitted, order_assigned, order_scheduled, order_completed,
    /// payment_received, deadline_passed
    pub kind: String,
    #[serde(skip)]
    pub dedupe_key: Option<String>,
    pub center_id: String,
    pub order_id: Option<String>,
    pub payment_id: Option<String>,
    /// JSON array of addresses
    #[serde(skip)]
    pub recipients: String,
    pub subject: String,
    #[serde(skip)]
    pub body_text: String,
    #[serde(skip)]
    pub body_html: String,
    /// the PDF printed at sending: work_order or receipt
    pub attachment: Option<String>,
    /// pending, sending, sent, dead, skipped (no longer true when its turn came: see
    /// `skip_reason`)
    pub status: String,
    pub attempts: i32,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: NaiveDateTime,
    #[serde(skip)]
    pub claimed_by: Option<String>,
    #[serde(skip)]
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<NaiveDateTime>,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// what caused the message: the order's timeline event, or the payment
    pub cause_event_id: Option<String>,
    /// the attached document as of the cause (JSON), printed from it when sent
    #[serde(skip)]
    pub snapshot: Option<String>,
    /// why a `skipped` message was not sent (what happened since it was written)
    pub skip_reason: Option<String>,
}

impl OutboxMessage {
    pub fn recipient_list(&self) -> Vec<String> {
        serde_json::from_str(&self.recipients).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::outbox_attempts)]
pub struct Attempt {
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub message_id: String,
    pub attempt: i32,
    pub worker: String,
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: NaiveDateTime,
    pub duration_ms: i64,
    pub ok: bool,
    pub error: Option<String>,
}

/// Writes a message (inside the caller's transaction). A message whose `dedupe_key` is
/// already in the outbox is not written again; answers whether it was written.
pub fn enqueue(conn: &mut DbConn, m: &OutboxMessage) -> StoreResult<bool> {
    if let Some(key) = &m.dedupe_key {
        let exists: i64 = om::outbox_messages
            .filter(om::dedupe_key.eq(key))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(false);
        }
    }
    diesel::insert_into(om::outbox_messages)
        .values(m)
        .execute(conn)?;
    Ok(true)
}

const CLAIM_WHERE: &str = "(status = 'pending' AND next_attempt_at <= ?)
       OR (status = 'sending' AND claimed_until < ?)
    ORDER BY next_attempt_at, id
    LIMIT ?";

/// Claims up to `limit` messages that are due (or whose worker's claim expired) for
/// `worker` until `until`, counting the attempt. On PostgreSQL concurrent claimers skip
/// each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite has a single writer at a time.
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    at: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<OutboxMessage>> {
    let sql = |lock: &str, n: &dyn Fn(usize) -> String| {
        format!(
            "UPDATE outbox_messages
             SET status = 'sending', claimed_by = {}, claimed_until = {}, attempts = attempts + 1,
                 updated_at = {}
             WHERE id IN (SELECT id FROM outbox_messages WHERE {} {lock})
             RETURNING *",
            n(1),
            n(2),
            n(3),
            CLAIM_WHERE
                .replacen('?', &n(4), 1)
                .replacen('?', &n(5), 1)
                .replacen('?', &n(6), 1)
        )
    };
    let rows = match conn {
        DbConn::Pg(c) => diesel::sql_query(sql("FOR UPDATE SKIP LOCKED", &|i| format!("${i}")))
            .bind::<Text, _>(worker)
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(at)
            .bind::<Timestamp, _>(at)
            .bind::<Timestamp, _>(at)
            .bind::<BigInt, _>(limit)
            .load::<OutboxMessage>(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(sql("", &|_| "?".to_string()))
            .bind::<Text, _>(worker)
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(at)
            .bind::<Timestamp, _>(at)
            .bind::<Timestamp, _>(at)
            .bind::<BigInt, _>(limit)
            .load::<OutboxMessage>(c)?,
    };
    Ok(rows)
}

/// Writes an attempt row; its number follows the message's earlier attempts.
fn record_attempt_row(
    conn: &mut DbConn,
    id: &str,
    message_id: &str,
    worker: &str,
    started_at: NaiveDateTime,
    duration_ms: i64,
    error: Option<&str>,
) -> StoreResult<()> {
    let before: i64 = oa::outbox_attempts
        .filter(oa::message_id.eq(message_id))
        .count()
        .get_result(conn)?;
    let row = Attempt {
        id: id.to_string(),
        message_id: message_id.to_string(),
        attempt: i32::try_from(before + 1).unwrap_or(i32::MAX),
        worker: worker.to_string(),
        started_at,
        duration_ms,
        ok: error.is_none(),
        error: error.map(str::to_string),
    };
    diesel::insert_into(oa::outbox_attempts)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Notes an attempt that is about to be made, before the message goes out: if the worker
/// dies while sending, the attempt shows as one without an outcome (and whoever takes the
/// message over knows it may have been delivered: the Message-ID stays the same). Answers
/// the attempt row's id for `finish_attempt`.
pub fn begin_attempt(
    conn: &mut DbConn,
    message_id: &str,
    worker: &str,
    started_at: NaiveDateTime,
) -> StoreResult<String> {
    let id = super::new_id();
    record_attempt_row(
        conn,
        &id,
        message_id,
        worker,
        started_at,
        0,
        Some(ATTEMPT_UNFINISHED),
    )?;
    Ok(id)
}

/// What an attempt whose worker died while sending keeps as its error.
pub const ATTEMPT_UNFINISHED: &str = "no outcome recorded (the worker stopped while sending)";

/// The outcome of an attempt noted by `begin_attempt`.
pub fn finish_attempt(
    conn: &mut DbConn,
    attempt_id: &str,
    duration_ms: i64,
    error: Option<&str>,
) -> StoreResult<()> {
    diesel::update(oa::outbox_attempts.filter(oa::id.eq(attempt_id)))
        .set((
            oa::duration_ms.eq(duration_ms),
            oa::ok.eq(error.is_none()),
            oa::error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// Extends all of `worker`'s claims (its heartbeat while it works through a batch): a
/// live worker keeps its messages however long a send takes, and a dead worker's claims
/// expire one lease after its last beat. Answers how many claims were extended.
pub fn renew_all(conn: &mut DbConn, worker: &str, until: NaiveDateTime) -> StoreResult<usize> {
    Ok(diesel::update(
        om::outbox_messages
            .filter(om::claimed_by.eq(worker))
            .filter(om::status.eq("sending")),
    )
    .set(om::claimed_until.eq(Some(until)))
    .execute(conn)?)
}

/// Extends `worker`'s claim on a message just before sending it; false when the claim
/// was lost (expired and taken over), in which case the worker must not send.
pub fn renew(conn: &mut DbConn, id: &str, worker: &str, until: NaiveDateTime) -> StoreResult<bool> {
    let n = diesel::update(
        om::outbox_messages
            .filter(om::id.eq(id))
            .filter(om::claimed_by.eq(worker))
            .filter(om::status.eq("sending")),
    )
    .set(om::claimed_until.eq(Some(until)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The message was delivered (only while `worker` still holds it).
pub fn mark_sent(conn: &mut DbConn, id: &str, worker: &str, at: NaiveDateTime) -> StoreResult<()> {
    diesel::update(
        om::outbox_messages
            .filter(om::id.eq(id))
            .filter(om::claimed_by.eq(worker)),
    )
    .set((
        om::status.eq("sent"),
        om::sent_at.eq(Some(at)),
        om::claimed_by.eq(None::<String>),
        om::claimed_until.eq(None::<NaiveDateTime>),
        om::last_error.eq(None::<String>),
        om::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}

/// The message is no longer true and is not sent (only while `worker` still holds it).
pub fn mark_skipped(
    conn: &mut DbConn,
    id: &str,
    worker: &str,
    reason: &str,
    at: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(
        om::outbox_messages
            .filter(om::id.eq(id))
            .filter(om::claimed_by.eq(worker)),
    )
    .set((
        om::status.eq("skipped"),
        om::skip_reason.eq(Some(reason)),
        om::claimed_by.eq(None::<String>),
        om::claimed_until.eq(None::<NaiveDateTime>),
        om::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}

/// The attempt failed: try again at `retry_at`, or give up (`None`: dead).
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    worker: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> StoreResult<()> {
    let status = if retry_at.is_some() {
        "pending"
    } else {
        "dead"
    };
    diesel::update(
        om::outbox_messages
            .filter(om::id.eq(id))
            .filter(om::claimed_by.eq(worker)),
    )
    .set((
        om::status.eq(status),
        om::next_attempt_at.eq(retry_at.unwrap_or(at)),
        om::claimed_by.eq(None::<String>),
        om::claimed_until.eq(None::<NaiveDateTime>),
        om::last_error.eq(Some(error)),
        om::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, id: &str) -> StoreResult<OutboxMessage> {
    Ok(om::outbox_messages
        .find(id)
        .select(OutboxMessage::as_select())
        .first(conn)?)
}

pub fn attempts(conn: &mut DbConn, id: &str) -> StoreResult<Vec<Attempt>> {
    Ok(oa::outbox_attempts
        .filter(oa::message_id.eq(id))
        .order(oa::attempt.asc())
        .select(Attempt::as_select())
        .load(conn)?)
}

#[derive(Debug, Default)]
pub struct OutboxFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub order_id: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    f: &OutboxFilter,
    page: &PageReq,
) -> StoreResult<Page<OutboxMessage>> {
    let mut q = om::outbox_messages
        .select(OutboxMessage::as_select())
        .into_boxed();
    if let Some(s) = &f.status {
        q = q.filter(om::status.eq(s.clone()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(om::kind.eq(k.clone()));
    }
    if let Some(o) = &f.order_id {
        q = q.filter(om::order_id.eq(o.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(om::id.gt(after.clone()));
    }
    let rows = q.order(om::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(Page::from_rows(rows, page.limit, |r: &OutboxMessage| &r.id))
}

/// A dead message goes back to the queue for a fresh round of attempts.
pub fn retry(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> StoreResult<()> {
    let n = diesel::update(
        om::outbox_messages
            .filter(om::id.eq(id))
            .filter(om::status.eq("dead")),
    )
    .set((
        om::status.eq("pending"),
        om::attempts.eq(0),
        om::next_attempt_at.eq(at),
        om::updated_at.eq(at),
    ))
    .execute(conn)?;
    if n == 0 {
        get(conn, id)?;
        return Err(StoreError::Conflict {
            code: "message_not_dead",
            detail: "only a dead message can be retried".into(),
        });
    }
    Ok(())
}

/// E-mail addresses of the active managers of a center.
pub fn manager_addresses(conn: &mut DbConn, center_id: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<Option<String>> = u::users
        .filter(u::center_id.eq(center_id))
        .filter(u::role.eq("manager"))
        .filter(u::active.eq(true))
        .filter(u::email.is_not_null())
        .order(u::username.asc())
        .select(u::email)
        .load(conn)?;
    Ok(rows.into_iter().flatten().collect())
}

/// A user's e-mail address and display name.
pub fn user_address(conn: &mut DbConn, id: &str) -> StoreResult<(Option<String>, String)> {
    Ok(u::users
        .find(id)
        .select((u::email, u::display_name))
        .first(conn)?)
}

/// Orders whose appointment passed within `recent` without the technician arriving and
/// that have no deadline notice yet: an install window's end, or `visit_grace` after the
/// scheduled visit. (Older misses are not announced: a first start on old data must not
/// flood the managers, and nothing stale can crowd out today's.)
pub fn overdue_orders(
    conn: &mut DbConn,
    at: NaiveDateTime,
    visit_grace: chrono::Duration,
    recent: chrono::Duration,
    limit: i64,
) -> StoreResult<Vec<super::orders::WorkOrder>> {
    use super::schema::work_orders::dsl as wo;
    let open = [
        "submitted",
        "approved",
        "assigned",
        "accepted",
        "ready",
        "en_route",
    ];
    Ok(wo::work_orders
        .filter(wo::status.eq_any(open))
        .filter(wo::arrived_at.is_null())
        .filter(
            wo::window_end
                .lt(at)
                .and(wo::window_end.ge(at - recent))
                .or(wo::window_end.is_null().and(
                    wo::scheduled_at
                        .lt(at - visit_grace)
                        .and(wo::scheduled_at.ge(at - visit_grace - recent)),
                )),
        )
        .filter(diesel::dsl::not(diesel::dsl::exists(
            om::outbox_messages
                .filter(om::order_id.eq(wo::id.nullable()))
                .filter(om::kind.eq("deadline_passed")),
        )))
        .order(wo::requested_at.asc())
        .limit(limit)
        .select(super::orders::WorkOrder::as_select())
        .load(conn)?)
}

/// The newest event on an order's timeline (the step a message is written for).
pub fn latest_event_id(conn: &mut DbConn, order_id: &str) -> StoreResult<Option<String>> {
    use super::schema::order_events::dsl as oe;
    Ok(oe::order_events
        .filter(oe::order_id.eq(order_id))
        .order(oe::id.desc())
        .select(oe::id)
        .first(conn)
        .optional()?)
}
