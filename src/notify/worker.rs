//! The delivery worker: claims due messages, prints their attachment, sends, and records
//! the attempt. Every app instance runs one; on PostgreSQL they skip each other's claimed
//! rows, so a message goes out once in normal operation. A live worker renews its claims
//! every third of the lease (a heartbeat), so the lease can be short: a worker that dies
//! holding a claim leaves it to expire within the lease and be taken over. Each attempt is
//! recorded before the message goes out; one that was cut off mid-send may have been
//! delivered, so the next goes out with the same Message-ID (from the outbox row's id),
//! by which receivers recognise a duplicate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};

use super::transport::{SendError, Transport};
use crate::documents::{DocError, Documents};
use crate::store::outbox::{self, OutboxMessage};
use crate::store::{DbConn, Pool, StoreError, money, now, orders, write_tx};

pub struct MailSettings {
    pub transport: Transport,
    pub from: Mailbox,
    /// how often the worker looks for due messages when it found none
    pub poll: Duration,
    /// the wait after the first failure; doubled per failure up to `retry_cap`
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// after this many failed attempts a message is dead (an admin may retry it)
    pub max_attempts: i32,
    /// how long a claim lasts without a heartbeat; a claim older than this is taken over
    pub lease: Duration,
    /// how often overdue appointments are looked for
    pub deadline_every: Duration,
}

impl MailSettings {
    pub fn new(transport: Transport, from: Mailbox) -> Self {
        MailSettings {
            transport,
            from,
            poll: Duration::from_secs(2),
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            max_attempts: 10,
            lease: Duration::from_secs(30),
            deadline_every: Duration::from_secs(60),
        }
    }
}

const BATCH: i64 = 10;

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Starts the worker on the current runtime.
pub fn spawn(pool: Pool, documents: Arc<Documents>, settings: MailSettings) {
    let id = format!(
        "{}-{}-{:04x}",
        hostname(),
        std::process::id(),
        rand::random::<u16>()
    );
    tracing::info!(worker = %id, transport = %settings.transport.describe(), "mail worker started");
    let worker = Arc::new(Worker {
        id,
        pool,
        documents,
        settings,
    });
    let beat = worker.clone();
    tokio::spawn(async move { beat.heartbeat().await });
    tokio::spawn(async move { worker.run().await });
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "dispatch".into())
}

struct Worker {
    id: String,
    pool: Pool,
    documents: Arc<Documents>,
    settings: MailSettings,
}

impl Worker {
    async fn db<T, F>(self: &Arc<Self>, f: F) -> Result<T, String>
    where
        F: FnOnce(&Worker, &mut DbConn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = me.pool.get().map_err(|e| e.to_string())?;
            f(&me, &mut conn).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Every third of the lease, extends every claim this worker holds.
    async fn heartbeat(self: Arc<Self>) {
        let every = (self.settings.lease / 3).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(every).await;
            let lease = chrono_of(self.settings.lease);
            if let Err(e) = self
                .db(move |w, c| outbox::renew_all(c, &w.id, now() + lease))
                .await
            {
                tracing::warn!(error = %e, "cannot renew the outbox claims");
            }
        }
    }

    async fn run(self: Arc<Self>) {
        let mut last_sweep: Option<Instant> = None;
        loop {
            if last_sweep.is_none_or(|t| t.elapsed() >= self.settings.deadline_every) {
                last_sweep = Some(Instant::now());
                if let Err(e) = self.db(|_, c| sweep_deadlines(c)).await {
                    tracing::warn!(error = %e, "deadline sweep failed");
                }
                if let Err(e) = self.db(|_, c| super::feedback::run_jobs(c, now())).await {
                    tracing::warn!(error = %e, "feedback job failed");
                }
            }
            let lease = chrono_of(self.settings.lease);
            let batch = self
                .db(move |w, c| {
                    let t = now();
                    write_tx(c, |c| outbox::claim(c, &w.id, t, t + lease, BATCH))
                })
                .await;
            match batch {
                Ok(b) if !b.is_empty() => {
                    for m in b {
                        self.deliver(m).await;
                    }
                }
                Ok(_) => tokio::time::sleep(self.settings.poll).await,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox claim failed");
                    tokio::time::sleep(self.settings.poll).await;
                }
            }
        }
    }

    async fn deliver(self: &Arc<Self>, m: OutboxMessage) {
        if self.skipped_as_stale(&m).await {
            return;
        }
        let started = now();
        let clock = Instant::now();
        let msg = self.build(&m).await;
        // printing took a while, and earlier messages of the batch too: the claim must
        // still be ours, and last through the send, or another worker may send it too
        // the attempt is on record before the message leaves
        let lease = chrono_of(self.settings.lease);
        let id = m.id.clone();
        let attempt = self
            .db(move |w, c| {
                write_tx(c, |c| {
                    if !outbox::renew(c, &id, &w.id, now() + lease)? {
                        return Ok(None);
                    }
                    outbox::begin_attempt(c, &id, &w.id, started).map(Some)
                })
            })
            .await;
        let attempt = match attempt {
            Ok(Some(a)) => a,
            Ok(None) => {
                tracing::warn!(message = %m.id, "claim lost before sending; left to its new owner");
                return;
            }
            Err(e) => {
                tracing::warn!(message = %m.id, error = %e, "cannot renew the claim; not sending now");
                return;
            }
        };
        let result = match msg {
            Ok(msg) => self.settings.transport.send(&m.id, msg).await,
            Err(e) => Err(e),
        };
        let ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
        let s = &self.settings;
        let (error, retry_at): (Option<String>, Option<NaiveDateTime>) = match &result {
            Ok(()) => (None, None),
            Err(e) => {
                let give_up = e.permanent || m.attempts >= s.max_attempts;
                let wait = chrono_of(super::backoff(s.retry_base, s.retry_cap, m.attempts));
                (Some(e.message.clone()), (!give_up).then(|| now() + wait))
            }
        };
        match &error {
            None => tracing::info!(message = %m.id, kind = %m.kind, "mail sent"),
            Some(e) if retry_at.is_some() => {
                tracing::warn!(message = %m.id, kind = %m.kind, attempt = m.attempts, error = %e, "mail not sent; will retry")
            }
            Some(e) => {
                tracing::error!(message = %m.id, kind = %m.kind, attempt = m.attempts, error = %e, "mail not sent; giving up")
            }
        }
        let id = m.id.clone();
        let saved = self
            .db(move |w, c| {
                write_tx(c, |c| {
                    outbox::finish_attempt(c, &attempt, ms, error.as_deref())?;
                    match &error {
                        None => outbox::mark_sent(c, &id, &w.id, now()),
                        Some(e) => outbox::mark_failed(c, &id, &w.id, e, retry_at, now()),
                    }
                })
            })
            .await;
        if let Err(e) = saved {
            // the claim expires and the message is tried again (perhaps a second time)
            tracing::error!(message = %m.id, error = %e, "cannot record the delivery attempt");
        }
    }

    /// A message no longer true (the visit it announces is over, the payment reversed) is
    /// not sent: it is marked `skipped` with what happened. True when it was handled so
    /// (or cannot be judged now: the claim expires and it is looked at again).
    async fn skipped_as_stale(self: &Arc<Self>, m: &OutboxMessage) -> bool {
        let msg = m.clone();
        let reason = match self.db(move |_, c| super::stale_reason(c, &msg)).await {
            Ok(None) => return false,
            Ok(Some(r)) => r,
            Err(e) => {
                tracing::warn!(message = %m.id, error = %e, "cannot tell whether the message is still true; not sending now");
                return true;
            }
        };
        tracing::info!(message = %m.id, kind = %m.kind, reason = %reason, "mail no longer true; skipped");
        let id = m.id.clone();
        let saved = self
            .db(move |w, c| write_tx(c, |c| outbox::mark_skipped(c, &id, &w.id, &reason, now())))
            .await;
        if let Err(e) = saved {
            tracing::error!(message = %m.id, error = %e, "cannot record the skip");
        }
        true
    }

    /// The message as sent: plain text and HTML, the PDF printed now when it has one
    /// (from the snapshot of its cause when the message keeps one).
    async fn build(self: &Arc<Self>, m: &OutboxMessage) -> Result<Message, SendError> {
        let permanent = |message: String| SendError {
            permanent: true,
            message,
        };
        let mut b = Message::builder()
            .from(self.settings.from.clone())
            .subject(m.subject.clone())
            .message_id(Some(format!("<{}@dispatch.local>", m.id)));
        let recipients = m.recipient_list();
        if recipients.is_empty() {
            return Err(permanent("no recipients".into()));
        }
        for r in &recipients {
            let mb: Mailbox = r
                .parse()
                .map_err(|e| permanent(format!("invalid address {r}: {e}")))?;
            b = b.to(mb);
        }
        let body = MultiPart::alternative_plain_html(m.body_text.clone(), m.body_html.clone());
        let attachment = match m.attachment.as_deref() {
            None => None,
            Some(kind) => Some(self.print(m, kind).await?),
        };
        let msg = match attachment {
            None => b.multipart(body),
            Some((name, bytes)) => b.multipart(
                MultiPart::mixed().multipart(body).singlepart(
                    Attachment::new(name)
                        .body(bytes, ContentType::parse("application/pdf").expect("valid")),
                ),
            ),
        };
        msg.map_err(|e| permanent(format!("cannot build the message: {e}")))
    }

    async fn print(
        self: &Arc<Self>,
        m: &OutboxMessage,
        kind: &str,
    ) -> Result<(String, Vec<u8>), SendError> {
        let kind = kind.to_string();
        let (order_id, payment_id) = (m.order_id.clone(), m.payment_id.clone());
        let snapshot = super::MessageSnapshot::of(m).and_then(|s| s.document);
        let as_of = m.created_at;
        let me = self.clone();
        let printed = tokio::task::spawn_blocking(move || -> Result<_, DocError> {
            let mut conn = me
                .pool
                .get()
                .map_err(|e| DocError::Unavailable(e.to_string()))?;
            let c = &mut conn;
            let doc = match (kind.as_str(), order_id, payment_id) {
                _ if snapshot.is_some() => me
                    .documents
                    .from_snapshot(snapshot.expect("checked"), as_of),
                ("receipt", _, Some(p)) => {
                    let payment = money::payment(c, &p)?;
                    me.documents.receipt(c, &payment)?
                }
                (_, Some(o), _) => {
                    let order = orders::get(c, &o)?;
                    me.documents.work_order(c, &order)?
                }
                _ => return Err(DocError::Store(StoreError::NotFound)),
            };
            let pdf = me.documents.print(&doc)?;
            Ok((doc.file_name(), pdf.bytes))
        })
        .await;
        match printed {
            Ok(Ok(x)) => Ok(x),
            Ok(Err(DocError::Store(StoreError::NotFound))) => Err(SendError {
                permanent: true,
                message: "the attachment's object no longer exists".into(),
            }),
            Ok(Err(e)) => Err(SendError {
                permanent: false,
                message: format!("cannot print the attachment: {e}"),
            }),
            Err(e) => Err(SendError {
                permanent: false,
                message: format!("printing the attachment failed: {e}"),
            }),
        }
    }
}

/// Queues the managers' notice for each order whose appointment passed without the
/// technician arriving. Each order in its own transaction: a second instance noticing
/// the same order at the same moment fails on the unique key, and nothing is doubled.
pub fn sweep_deadlines(c: &mut DbConn) -> Result<usize, StoreError> {
    let grace = chrono::Duration::hours(super::VISIT_GRACE_HOURS);
    let recent = chrono::Duration::hours(24);
    let overdue = outbox::overdue_orders(c, now(), grace, recent, 200)?;
    let mut n = 0;
    for order in overdue {
        match write_tx(c, |c| super::on_deadline(c, &order)) {
            Ok(()) => n += 1,
            Err(StoreError::Duplicate { .. }) => {}
            // one order's trouble must not keep the others' notices back
            Err(e) => tracing::warn!(order = %order.id, error = %e, "deadline notice not queued"),
        }
    }
    Ok(n)
}
