//! Live events across instances: two `dispatch` processes on one PostgreSQL database; a
//! change committed through one arrives on a stream opened on the other (LISTEN/NOTIFY),
//! also after the listening connection was cut.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::Value;

use super::{Instance, Site, pg_admin};

/// Reads server-sent events off a response.
struct Events {
    res: reqwest::Response,
    buf: String,
}

impl Events {
    async fn open(app: &Instance, token: &str) -> Events {
        let res = app
            .client
            .get(app.url("/api/v1/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        Events {
            res,
            buf: String::new(),
        }
    }

    /// The `data` of the next event, within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return Some(serde_json::from_str(data).unwrap());
                }
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(b))) => self.buf.push_str(&String::from_utf8_lossy(&b)),
                _ => return None,
            }
        }
    }

    /// Waits for the event of a new order awaiting approval (`order`, the one just filed:
    /// nothing else is filed meanwhile); answers how long it took since `since`.
    async fn new_order(&mut self, order: &str, since: Instant) -> Duration {
        let wait = Duration::from_secs(20);
        loop {
            let e = self
                .next(wait)
                .await
                .unwrap_or_else(|| panic!("no event for order {order} within {wait:?}"));
            if e["kind"] == "order" && e["action"] == "create" && e["status"] == "submitted" {
                return since.elapsed();
            }
        }
    }
}

#[tokio::test]
async fn a_change_through_one_instance_arrives_on_a_stream_of_another() {
    if pg_admin().is_none() {
        eprintln!("PostgreSQL only: DISPATCH_TEST_DATABASE_URL is not set");
        return;
    }
    let site = Site::new();
    let url = site.database_url.clone().unwrap();
    let mut a = Instance::start(&site, &["--demo", "--demo-registry-only"], &[]);
    a.ready().await;
    let other_dir = tempfile::tempdir().unwrap();
    let mut b = Instance::start_in(other_dir.path(), Some(&url), &[], &[]);
    b.ready().await;

    let manager = b.token("zz.manager").await;
    let agent = a.token("zz.agent1").await;
    let mut stream = Events::open(&b, &manager).await;
    let t = Instant::now();
    let number = a.submit_order(&agent, 1).await;
    let took = stream.new_order(&number, t).await;
    eprintln!("order filed on A, event on B after {took:?} (request + commit + notify)");

    // the listening connection is cut (a server restart, a proxy): B listens again and
    // catches up on what committed meanwhile
    let mut admin = diesel::PgConnection::establish(&url).unwrap();
    let cut = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .execute(&mut admin)
    .unwrap();
    assert!(cut >= 1, "B's listener was connected");
    let t = Instant::now();
    let number = a.submit_order(&agent, 2).await;
    let took = stream.new_order(&number, t).await;
    eprintln!("after the cut, event on B after {took:?}");
    assert!(
        b.output().contains("listener connection lost"),
        "{}",
        b.output()
    );
}
