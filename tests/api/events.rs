//! The live event stream, `GET /api/v1/events`: a new order arrives; each viewer sees only
//! what the lists would show them; no token, no stream; a reconnect with `Last-Event-ID`
//! gets exactly what it missed; a refused write announces nothing.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::{
    ORDERS, Zz, act, approve_and_assign, count_sql, created_order, id_of, install_body,
    install_order, key, post_action, technician, zz,
};
use crate::helpers::{TestApp, assert_problem};

const EVENTS: &str = "/api/v1/events";
/// How long an expected event may take (a bound against hanging, not a measurement).
const PATIENCE: Duration = Duration::from_secs(10);

/// One event read off the stream.
#[derive(Debug)]
struct Event {
    kind: String,
    id: i64,
    data: Value,
}

/// A stream being read.
struct Stream {
    res: reqwest::Response,
    buf: String,
}

impl Stream {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<i64>) -> Stream {
        let mut req = app.client.get(app.url(EVENTS)).bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        Stream::of(req.send().await.unwrap())
    }

    fn of(res: reqwest::Response) -> Stream {
        assert_eq!(res.status(), StatusCode::OK);
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Stream {
            res,
            buf: String::new(),
        }
    }

    /// The next event (comments skipped), or `None` after `wait` without one.
    async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut kind, mut id, mut data) = (None, None, None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        kind = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.parse::<i64>().unwrap());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str::<Value>(v).unwrap());
                    }
                }
                if let (Some(kind), Some(id), Some(data)) = (kind, id, data) {
                    return Some(Event { kind, id, data });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk()).await;
            match chunk {
                Err(_) => return None,
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) => return None,
                Ok(Err(e)) => panic!("stream failed: {e}"),
            }
        }
    }

    async fn next(&mut self) -> Event {
        self.next_within(PATIENCE)
            .await
            .expect("an event within the patience")
    }

    /// The next event about `entity`, skipping others.
    async fn about(&mut self, entity: &str) -> Event {
        loop {
            let e = self.next().await;
            if e.data["id"] == entity {
                return e;
            }
        }
    }
}

async fn bj_order(app: &TestApp, plate: &str) -> Value {
    let (_, agent) = app.user("agent", &app.bj.id).await;
    let customer = id_of(
        &app.create_customer(&app.admin, &app.bj.id, "北京顺达物流")
            .await,
    );
    let vehicles = json!([{"plate_no": plate, "driver": {"name": "张伟", "phone": "13912345679"}}]);
    created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &agent,
            &install_body(&customer, vehicles, true),
        )
        .await,
    )
    .await
}

fn events_in_db(s: &Zz) -> i64 {
    count_sql(&s.app, "SELECT COUNT(*) AS n FROM live_events")
}

#[tokio::test]
async fn a_new_order_arrives_and_each_viewer_sees_only_their_scope() {
    let s = zz().await;
    let app = &s.app;
    let other = technician(app, &app.zz.id, true, true, (34.70, 113.60), false).await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let mut mgr = Stream::open(app, &s.mgr, None).await;
    let mut bj = Stream::open(app, &bj_mgr, None).await;
    let mut lead = Stream::open(app, &s.lead.token, None).await;
    let mut others = Stream::open(app, &other.token, None).await;
    let mut admin = Stream::open(app, &app.admin, None).await;

    // an agent files an order awaiting approval: the center's manager hears of it
    let order = install_order(&s, &["豫A71001"], true).await;
    let e = mgr.next().await;
    assert_eq!(e.kind, "order");
    assert_eq!(e.data["id"], order["id"]);
    assert_eq!(e.data["kind"], "order");
    assert_eq!(e.data["center_id"], json!(app.zz.id));
    assert_eq!(e.data["status"], "submitted");
    assert_eq!(e.data["action"], "create");
    assert_eq!(e.data["version"], order["version"]);
    assert!(e.data["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(admin.next().await.data["id"], order["id"]);

    // another center's order: BJ's manager hears of theirs and never of ZZ's
    let theirs = bj_order(app, "京A71002").await;
    assert_eq!(
        bj.next().await.data["id"],
        theirs["id"],
        "BJ's first event is BJ's order"
    );
    assert_eq!(admin.next().await.data["id"], theirs["id"]);

    // assigned to the lead: the lead hears of it (approve happened before they were on it)
    let assigned = approve_and_assign(&s, &order, &s.lead, &[], 30).await;
    let e = lead.next().await;
    assert_eq!(e.data["id"], order["id"]);
    assert_eq!(e.data["status"], "assigned");
    assert_eq!(e.data["action"], "assign");
    assert_eq!(e.data["version"], assigned["version"]);
    let approve = mgr.about(order["id"].as_str().unwrap()).await;
    assert_eq!(approve.data["status"], "approved");
    let assign = mgr.next().await;
    assert_eq!(assign.data["status"], "assigned");
    assert!(assign.id > approve.id, "ids grow");

    // another technician hears only of the order they are put on, never of the lead's
    let second = install_order(&s, &["豫A71003"], true).await;
    approve_and_assign(&s, &second, &other, &[], 50).await;
    let e = others.next().await;
    assert_eq!(
        e.data["id"], second["id"],
        "their first event is their own order"
    );
    // reassigned away from the lead: the lead hears of it once more, the new one too
    let current = crate::fixtures::get_order(app, &s.mgr, order["id"].as_str().unwrap()).await;
    act(
        app,
        &s.mgr,
        &current,
        "reassign",
        json!({"lead_id": other.id, "scheduled_at": crate::fixtures::at(chrono::Duration::hours(32))}),
    )
    .await;
    let e = lead.next().await;
    assert_eq!(e.data["id"], order["id"]);
    assert_eq!(e.data["action"], "reassign");
    assert_eq!(others.next().await.data["id"], order["id"]);
    assert!(
        bj.next_within(Duration::from_millis(300)).await.is_none(),
        "BJ heard nothing of ZZ"
    );
}

#[tokio::test]
async fn no_token_no_stream_and_the_token_may_come_in_the_query() {
    let s = zz().await;
    let app = &s.app;
    assert_problem(
        app.client.get(app.url(EVENTS)).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.client
            .get(app.url(&format!("{EVENTS}?access_token=nonsense")))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // EventSource cannot send headers: the token in the query works the same
    let res = app
        .client
        .get(app.url(&format!("{EVENTS}?access_token={}", s.mgr)))
        .send()
        .await
        .unwrap();
    let mut stream = Stream::of(res);
    let order = install_order(&s, &["豫A72001"], true).await;
    assert_eq!(stream.next().await.data["id"], order["id"]);
    // a deactivated user's token opens nothing
    let (agent_id, agent) = app.user("agent", &app.zz.id).await;
    app.deactivate(&agent_id).await;
    assert_problem(
        app.get(EVENTS, &agent).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn a_reconnect_with_last_event_id_gets_exactly_what_it_missed() {
    let s = zz().await;
    let app = &s.app;
    let mut stream = Stream::open(app, &s.mgr, None).await;
    let first = install_order(&s, &["豫A73001"], true).await;
    let seen = stream.next().await;
    assert_eq!(seen.data["id"], first["id"]);
    drop(stream);

    // missed while away: two orders, and one of another center (not for this manager)
    let a = install_order(&s, &["豫A73002"], true).await;
    bj_order(app, "京A73003").await;
    let b = install_order(&s, &["豫A73004"], false).await;

    let mut again = Stream::open(app, &s.mgr, Some(seen.id)).await;
    let e1 = again.next().await;
    let e2 = again.next().await;
    assert_eq!(e1.data["id"], a["id"]);
    assert_eq!(e2.data["id"], b["id"]);
    assert_eq!(e2.data["status"], "draft");
    assert!(seen.id < e1.id && e1.id < e2.id);
    // then live again
    let c = install_order(&s, &["豫A73005"], true).await;
    assert_eq!(again.next().await.data["id"], c["id"]);

    // the same through the query (a new EventSource cannot send the header)
    let res = app
        .client
        .get(app.url(&format!("{EVENTS}?last_event_id={}", e1.id)))
        .bearer_auth(&s.mgr)
        .send()
        .await
        .unwrap();
    let mut by_query = Stream::of(res);
    assert_eq!(by_query.next().await.data["id"], b["id"]);

    // nothing missed: nothing replayed
    let mut fresh = Stream::open(app, &s.mgr, Some(i64::MAX / 2)).await;
    assert!(
        fresh
            .next_within(Duration::from_millis(300))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_refused_write_announces_nothing() {
    let s = zz().await;
    let app = &s.app;
    let order = install_order(&s, &["豫A74001"], true).await;
    let before = events_in_db(&s);
    let id = id_of(&order);
    let v = order["version"].as_i64();
    // the agent may not approve: 403, nothing written, nothing announced
    let res = post_action(app, &s.agent, &id, "approve", v, Some(&key()), &json!({})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // a stale version: 412 inside the transaction
    let res = post_action(
        app,
        &s.mgr,
        &id,
        "approve",
        Some(99),
        Some(&key()),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(events_in_db(&s), before);
}
