//! Live events: the changes `store::live_events` wrote, handed to this instance's open
//! streams (`GET /api/v1/events`).
//!
//! One [`Hub`] per instance. While at least one stream is open, a follower thread reads
//! the events table after the last id it handed out and broadcasts each new row to the
//! streams; it wakes when a transaction of this process committed events
//! (`store::live_events::commits`), and on PostgreSQL also when another instance did: a
//! listener task holds its own connection (tokio-postgres: diesel can read notifications
//! but not wait for them) and `LISTEN`s on `store::live_events::CHANNEL`. Reading the table
//! rather than the notification's payload means nothing is lost while the listener
//! reconnects: it wakes the follower once it listens again, and the follower reads all it
//! missed. As a safety net the follower also reads every 30 s (every 2 s while the
//! listener is down). When the last stream closes the follower stops, and with it the
//! listener's connection.
//!
//! The broadcast channel is bounded: a stream that falls [`BACKLOG`] events behind (a
//! client that does not read) is ended; the client reconnects with `Last-Event-ID` and is
//! replayed from the table.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::{Notify, broadcast};

use crate::domain::access::{self, Money, Op, Resource, Role};
use crate::store::live_events::{self, LiveEvent};
use crate::store::{Backend, DbTarget, Pool};

/// Events a stream may fall behind before it is ended.
pub const BACKLOG: usize = 1024;
/// How long events are kept for replay.
pub const KEEP: chrono::Duration = chrono::Duration::hours(24);
const READ_BATCH: i64 = 500;
const SAFETY_READ: Duration = Duration::from_secs(30);
const SAFETY_READ_UNLISTENED: Duration = Duration::from_secs(2);
const PRUNE_EVERY: Duration = Duration::from_secs(600);

pub struct Hub {
    pool: Pool,
    /// PostgreSQL: where the listener connects
    listen_url: Option<String>,
    tx: broadcast::Sender<Arc<LiveEvent>>,
    /// whether the follower thread runs
    following: Mutex<bool>,
}

impl Hub {
    pub fn new(pool: Pool, target: &DbTarget) -> Arc<Hub> {
        Arc::new(Hub {
            pool,
            listen_url: (target.backend == Backend::Postgres).then(|| target.url.clone()),
            tx: broadcast::channel(BACKLOG).0,
            following: Mutex::new(false),
        })
    }

    /// A new stream's receiver. Subscribe first, then read the newest id (`start`), then
    /// call [`Hub::follow_from`]: every event after `start` then reaches the receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    /// Makes sure the follower runs; one started now hands out the events after `start`
    /// (one already running has handed out nothing after any `start` read since the
    /// caller subscribed: ids grow in commit order).
    pub fn follow_from(self: &Arc<Self>, start: i64) {
        let mut following = self.following.lock().unwrap_or_else(|p| p.into_inner());
        if *following {
            return;
        }
        *following = true;
        let hub = self.clone();
        let spawned = std::thread::Builder::new()
            .name("live-events".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match rt {
                    Ok(rt) => rt.block_on(follow(hub, start)),
                    Err(e) => {
                        tracing::error!(error = %e, "live events: cannot start the follower");
                        hub.stop_if_idle(true);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "live events: cannot start the follower thread");
            *following = false;
        }
    }

    /// Streams open on this instance.
    pub fn streams(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Whether the follower is to stop (no stream left, or `force`); if so it is marked
    /// stopped under the lock `follow_from` takes, so a stream that subscribes meanwhile
    /// starts a new one.
    fn stop_if_idle(&self, force: bool) -> bool {
        let mut following = self.following.lock().unwrap_or_else(|p| p.into_inner());
        if force || self.tx.receiver_count() == 0 {
            *following = false;
            return true;
        }
        false
    }

    /// Reads and broadcasts the events after `last`; answers the last id handed out.
    fn hand_out(&self, mut last: i64) -> i64 {
        let mut conn = match self.pool.get() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "live events: database unavailable");
                return last;
            }
        };
        loop {
            match live_events::since(&mut conn, last, None, READ_BATCH) {
                Ok(rows) => {
                    let full = rows.len() as i64 == READ_BATCH;
                    for row in rows {
                        last = row.id;
                        // no receiver is not an error: the follower stops at its next turn
                        let _ = self.tx.send(Arc::new(row));
                    }
                    if !full {
                        return last;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live events: cannot read new events");
                    return last;
                }
            }
        }
    }

    fn prune(&self) {
        let before = crate::store::now() - KEEP;
        match self.pool.get() {
            Ok(mut c) => match live_events::prune(&mut c, before) {
                Ok(n) if n > 0 => tracing::debug!(pruned = n, "live events pruned"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "live events: cannot prune"),
            },
            Err(e) => tracing::warn!(error = %e, "live events: database unavailable"),
        }
    }
}

/// The follower: hands out new events whenever woken, until no stream is left.
async fn follow(hub: Arc<Hub>, mut last: i64) {
    let wake = Arc::new(Notify::new());
    let listening = Arc::new(AtomicBool::new(false));
    let listener = hub
        .listen_url
        .clone()
        .map(|url| tokio::spawn(listen(url, wake.clone(), listening.clone())));
    let mut commits = live_events::commits();
    let mut pruned = None::<Instant>;
    loop {
        last = hub.hand_out(last);
        if pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            hub.prune();
            pruned = Some(Instant::now());
        }
        if hub.stop_if_idle(false) {
            break;
        }
        let safety = if hub.listen_url.is_none() || listening.load(Ordering::Acquire) {
            SAFETY_READ
        } else {
            SAFETY_READ_UNLISTENED
        };
        tokio::select! {
            _ = commits.changed() => {}
            _ = wake.notified() => {}
            _ = tokio::time::sleep(safety) => {}
        }
    }
    if let Some(l) = listener {
        l.abort();
    }
}

/// PostgreSQL: `LISTEN` on its own connection, waking the follower on every notification
/// and once after each (re)connection; reconnects with a growing pause (1 s … 30 s).
async fn listen(url: String, wake: Arc<Notify>, listening: Arc<AtomicBool>) {
    let mut pause = Duration::from_secs(1);
    loop {
        match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            Ok((client, mut connection)) => {
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let wake_on = wake.clone();
                let drive = async move {
                    while let Some(m) = messages.next().await {
                        match m {
                            Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                                wake_on.notify_one()
                            }
                            Ok(_) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(())
                };
                let subscribe = async {
                    client
                        .batch_execute(&format!("LISTEN {}", live_events::CHANNEL))
                        .await?;
                    listening.store(true, Ordering::Release);
                    // whatever committed while we were not listening
                    wake.notify_one();
                    std::future::pending::<Result<(), tokio_postgres::Error>>().await
                };
                let ended = tokio::select! {
                    r = drive => r,
                    r = subscribe => r,
                };
                listening.store(false, Ordering::Release);
                match ended {
                    Ok(()) => tracing::warn!("live events: listener connection closed"),
                    Err(e) => tracing::warn!(error = %e, "live events: listener connection lost"),
                }
                pause = Duration::from_secs(1);
            }
            Err(e) => tracing::warn!(error = %e, "live events: cannot connect the listener"),
        }
        wake.notify_one();
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

/// Who is watching, and so which events they may see: those of the kinds their role may
/// read (orders; tickets: feedback; remittances: the ledger), of the centers they may see
/// (`center`: `None` all, as an admin's), and a technician only the orders they are on and
/// their own remittances.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: String,
    pub role: Role,
    /// `None`: every center
    pub center: Option<String>,
}

impl Viewer {
    pub fn sees(&self, e: &LiveEvent) -> bool {
        let resource = match e.kind.as_str() {
            "order" => Resource::Orders,
            "ticket" => Resource::Feedback,
            "remittance" => Resource::Money(Money::Ledger),
            _ => return false,
        };
        access::allowed(self.role, resource, Op::Read)
            && self.center.as_ref().is_none_or(|c| *c == e.center_id)
            && (self.role != Role::Technician || e.tells(&self.user_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, center: &str, audience: &str) -> LiveEvent {
        LiveEvent {
            id: 1,
            kind: kind.into(),
            entity_id: "x".into(),
            center_id: center.into(),
            status: "submitted".into(),
            version: 1,
            action: "create".into(),
            at: chrono::Utc::now().naive_utc(),
            audience: audience.into(),
        }
    }

    fn viewer(role: Role, center: Option<&str>) -> Viewer {
        Viewer {
            user_id: "t1".into(),
            role,
            center: center.map(str::to_string),
        }
    }

    #[test]
    fn a_viewer_sees_what_the_lists_would_show() {
        let agent = viewer(Role::Agent, Some("zz"));
        assert!(agent.sees(&event("order", "zz", "")));
        assert!(!agent.sees(&event("order", "bj", "")));
        assert!(agent.sees(&event("ticket", "zz", "")));
        assert!(!agent.sees(&event("remittance", "zz", "t9")));
        let admin = viewer(Role::Admin, None);
        assert!(admin.sees(&event("order", "bj", "")));
        let tech = viewer(Role::Technician, Some("zz"));
        assert!(tech.sees(&event("order", "zz", "t0 t1")));
        assert!(!tech.sees(&event("order", "zz", "t11")));
        assert!(!tech.sees(&event("ticket", "zz", "t1")));
        assert!(tech.sees(&event("remittance", "zz", "t1")));
        let finance = viewer(Role::Finance, Some("zz"));
        assert!(finance.sees(&event("remittance", "zz", "t9")));
        assert!(!finance.sees(&event("ticket", "zz", "")));
    }
}
