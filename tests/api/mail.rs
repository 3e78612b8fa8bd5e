//! E-mail through the outbox, received by a real SMTP server in the test process
//! (mailin-embedded): each message kind with its recipients and attachments, a server
//! that is down and comes back, a dead message an admin retries, a rolled-back change that
//! sends nothing, and two app instances on one database sending each message once.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::Duration;
use diesel::prelude::*;
use mail_parser::{MessageParser, MimeHeaders};
use mailin_embedded::{Handler, Server, response};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::documents::pdf_text;
use crate::fixtures::{
    ORDERS, Zz, collect, completed_order, created_order, expect, id_of, install_body, items,
    zz_mail, zz_with,
};
use crate::helpers::{AppOptions, TestApp, assert_problem, spawn_app_with};
use dispatch::notify::transport::Transport;
use dispatch::notify::worker::MailSettings;
use dispatch::store::{self, now};

// ------------------------------------------------------------------ the SMTP server

#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

#[derive(Clone, Default)]
struct Collector {
    inbox: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    buf: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _: &str, _: &str, _: bool, to: &[String]) -> response::Response {
        self.to = to.to_vec();
        self.buf.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> response::Response {
        self.inbox.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            raw: std::mem::take(&mut self.buf),
        });
        response::OK
    }
}

/// An SMTP server on `listener`, on its own threads, for the rest of the test process.
pub(crate) fn smtp_on(listener: TcpListener) -> Arc<Mutex<Vec<Received>>> {
    let handler = Collector::default();
    let inbox = handler.inbox.clone();
    let mut server = Server::new(handler);
    server.with_name("smtp.test").with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    inbox
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn mail_settings(port: u16, dir: &std::path::Path, max_attempts: i32) -> MailSettings {
    let transport =
        Transport::configure(Some(&format!("smtp://127.0.0.1:{port}")), dir.join("mail")).unwrap();
    let mut m = MailSettings::new(transport, "派工系统 <dispatch@zz.test>".parse().unwrap());
    m.poll = StdDuration::from_millis(50);
    m.retry_base = StdDuration::from_millis(100);
    m.retry_cap = StdDuration::from_millis(400);
    m.max_attempts = max_attempts;
    m.deadline_every = StdDuration::from_millis(200);
    m
}

async fn wait_until<F: Fn() -> bool>(what: &str, f: F) {
    for _ in 0..400 {
        if f() {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn wait_for_mail(inbox: &Arc<Mutex<Vec<Received>>>, n: usize) -> Vec<Received> {
    wait_until(&format!("{n} messages"), || {
        inbox.lock().unwrap().len() >= n
    })
    .await;
    // and nothing more arrives
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    inbox.lock().unwrap().clone()
}

/// What a test reads off a received message.
#[derive(Debug)]
pub(crate) struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub text: String,
    pub html: String,
    /// (file name, bytes)
    pub attachments: Vec<(String, Vec<u8>)>,
}

pub(crate) fn parse(r: &Received) -> Mail {
    let m = MessageParser::default()
        .parse(&r.raw)
        .expect("a MIME message");
    Mail {
        to: r.to.clone(),
        subject: m.subject().unwrap_or_default().to_string(),
        message_id: m.message_id().unwrap_or_default().to_string(),
        text: m.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
        html: m.body_html(0).map(|t| t.to_string()).unwrap_or_default(),
        attachments: m
            .attachments()
            .map(|a| {
                (
                    a.attachment_name().unwrap_or_default().to_string(),
                    a.contents().to_vec(),
                )
            })
            .collect(),
    }
}

fn outbox_page(v: &Value) -> Vec<Value> {
    items(v).clone()
}

async fn outbox(app: &TestApp, query: &str) -> Vec<Value> {
    outbox_page(
        &expect(
            app.get(&format!("/api/v1/outbox{query}"), &app.admin).await,
            StatusCode::OK,
        )
        .await,
    )
}

fn dir_of(app: &TestApp) -> std::path::PathBuf {
    app.dir.path().to_path_buf()
}

// ------------------------------------------------------------------ every kind

#[tokio::test]
async fn each_message_kind_reaches_its_recipients_with_its_attachment() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_on(listener);
    let tmp = tempfile::tempdir().unwrap();
    let s = zz_mail(mail_settings(port, tmp.path(), 5)).await;
    let app = &s.app;

    // submitted, assigned + scheduled, completed, then paid
    let o = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let number = o["number"].as_str().unwrap().to_string();
    let pay = collect(app, &s.lead, &id_of(&o), 12800, "cash").await;
    let receipt_no = pay["receipt_no"].as_str().unwrap().to_string();

    // a second order whose appointment passes without the technician arriving
    let late = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!([{"plate_no": "豫A77777"}]), true),
        )
        .await,
    )
    .await;
    let late = crate::fixtures::approve_and_assign(&s, &late, &s.lead, &[], 60).await;
    {
        use dispatch::store::schema::work_orders::dsl as wo;
        diesel::update(wo::work_orders.find(id_of(&late)))
            .set(wo::window_end.eq(Some(now() - Duration::minutes(5))))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
    }
    let late_no = late["number"].as_str().unwrap().to_string();

    // 1+2+1+1 for the first order, 1+2 for the second (submitted, assigned, scheduled),
    // and the deadline notice. The first order's assignment and visit notices go out
    // unless it was completed before their turn came (then they are skipped as untrue).
    let settled = settle(app, 9).await;
    let skipped: Vec<&Value> = settled
        .iter()
        .filter(|m| m["status"] == "skipped")
        .collect();
    assert!(skipped.len() <= 2, "{settled:?}");
    for m in &skipped {
        assert_eq!(m["order_id"], o["id"], "only the completed order's: {m}");
        assert!(m["kind"] == "order_assigned" || m["kind"] == "order_scheduled");
    }
    let n = 9 - skipped.len();
    let got = wait_for_mail(&inbox, n).await;
    let mails: Vec<Mail> = got.iter().map(parse).collect();
    assert_eq!(
        mails.len(),
        n,
        "{:#?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let ids: std::collections::HashSet<&str> =
        mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), n, "no message twice");
    let find = |prefix: &str, number: &str| -> &Mail {
        mails
            .iter()
            .find(|m| m.subject.starts_with(prefix) && m.subject.contains(number))
            .unwrap_or_else(|| {
                panic!(
                    "no {prefix} for {number}: {:#?}",
                    mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
                )
            })
    };
    let fleet = vec!["fleet@customer.test".to_string()];

    let m = find("【待审批】", &number);
    assert_eq!(m.to, ["manager@zz.test"], "the managers with an address");
    assert!(m.text.contains("郑州宇通物流有限公司") && m.html.contains("郑州宇通物流有限公司"));
    assert!(m.attachments.is_empty());

    let m = find("【新派工】", &late_no);
    assert_eq!(m.to, ["lead@zz.test"]);
    assert!(m.text.contains("郑州市管城区航海东路物流园3号库"));
    assert!(m.attachments.is_empty());

    for (prefix, number) in [("【上门预约】", &late_no), ("【完工通知】", &number)] {
        let title = "安装任务派工单";
        let m = mails
            .iter()
            .find(|m| m.subject.starts_with(prefix) && m.text.contains(number.as_str()))
            .unwrap_or_else(|| panic!("no {prefix}"));
        assert_eq!(m.to, fleet);
        assert!(m.text.starts_with("尊敬的王喆"), "{}", m.text);
        assert_eq!(m.attachments.len(), 1, "{prefix}");
        let (name, pdf) = &m.attachments[0];
        assert_eq!(name, &format!("{title}-{number}.pdf"));
        assert!(pdf.starts_with(b"%PDF-"));
        let (text, _) = pdf_text(pdf);
        assert!(
            text.contains(number.as_str()),
            "the attached PDF is the order"
        );
    }
    let m = find("【完工通知】", &number);
    assert!(m.text.contains("¥128.00（壹佰贰拾捌元整）"), "{}", m.text);

    let m = find("【收款回执】", &receipt_no);
    assert_eq!(m.to, fleet);
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].0, format!("收据-{receipt_no}.pdf"));
    let (text, _) = pdf_text(&m.attachments[0].1);
    assert!(text.contains(&receipt_no) && text.contains("壹佰贰拾捌元整"));

    let m = find("【超时提醒】", &late_no);
    assert_eq!(m.to, ["manager@zz.test"]);
    assert!(m.text.contains("技师尚未到场"));

    // the outbox agrees: each sent once, at the first attempt
    let sent = outbox(app, "?status=sent&limit=50").await;
    assert_eq!(sent.len(), n);
    assert!(sent.iter().all(|m| m["attempts"] == 1), "{sent:?}");
    for m in &mails {
        let id = m.message_id.trim_end_matches("@dispatch.local");
        assert!(
            sent.iter().any(|s| s["id"] == id),
            "Message-ID {} is the outbox id",
            m.message_id
        );
    }
    let one = expect(
        app.get(
            &format!("/api/v1/outbox/{}", sent[0]["id"].as_str().unwrap()),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["attempt_log"].as_array().unwrap().len(), 1);
    assert_eq!(one["attempt_log"][0]["ok"], true);
    // the deadline is noticed once, however often the sweep runs
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    assert_eq!(outbox(app, "?kind=deadline_passed").await.len(), 1);
}

// ------------------------------------------------------------------ server down

async fn submit_orders(s: &Zz, n: usize) -> Vec<String> {
    let mut numbers = Vec::new();
    for i in 0..n {
        let o = created_order(
            s.app
                .post(
                    &format!("{ORDERS}/install"),
                    &s.agent,
                    &install_body(
                        &s.customer,
                        json!([{"plate_no": format!("豫B{:05}", 10000 + i)}]),
                        true,
                    ),
                )
                .await,
        )
        .await;
        numbers.push(o["number"].as_str().unwrap().to_string());
    }
    numbers
}

#[tokio::test]
async fn messages_wait_while_the_server_is_down_and_go_out_once_when_it_is_back() {
    let port = free_port();
    let tmp = tempfile::tempdir().unwrap();
    let s = zz_mail(mail_settings(port, tmp.path(), 1000)).await;
    let app = &s.app;
    let numbers = submit_orders(&s, 3).await;

    // nobody listens: every message fails, is kept and retried
    for _ in 0..200 {
        let pending = outbox(app, "?kind=order_submitted").await;
        if pending.len() == 3 && pending.iter().all(|m| m["attempts"].as_i64().unwrap() >= 2) {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let waiting = outbox(app, "?kind=order_submitted").await;
    assert!(
        waiting.iter().all(|m| m["attempts"].as_i64().unwrap() >= 2
            && m["status"] != "sent"
            && m["status"] != "dead"),
        "{waiting:?}"
    );
    assert!(waiting.iter().all(|m| m["last_error"].is_string()));

    // the server comes back on the same port
    let inbox = smtp_on(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let got = wait_for_mail(&inbox, 3).await;
    assert_eq!(got.len(), 3, "none lost, none doubled");
    let mails: Vec<Mail> = got.iter().map(parse).collect();
    for n in &numbers {
        assert_eq!(
            mails
                .iter()
                .filter(|m| m.subject.contains(n.as_str()))
                .count(),
            1,
            "{n}"
        );
    }
    let sent = outbox(app, "?status=sent").await;
    assert_eq!(sent.len(), 3);
    let log = expect(
        app.get(
            &format!("/api/v1/outbox/{}", sent[0]["id"].as_str().unwrap()),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let attempts = log["attempt_log"].as_array().unwrap();
    assert!(attempts.len() >= 3);
    assert!(
        attempts[..attempts.len() - 1]
            .iter()
            .all(|a| a["ok"] == false && a["error"].is_string())
    );
    assert_eq!(attempts.last().unwrap()["ok"], true);
}

// ------------------------------------------------------------------ dead, retried

#[tokio::test]
async fn a_dead_message_is_listed_for_admins_and_retried() {
    let port = free_port();
    let tmp = tempfile::tempdir().unwrap();
    let s = zz_mail(mail_settings(port, tmp.path(), 1)).await;
    let app = &s.app;
    let numbers = submit_orders(&s, 1).await;
    wait_until_status(app, "dead", 1).await;
    let dead = outbox(app, "?status=dead").await;
    let id = dead[0]["id"].as_str().unwrap().to_string();
    assert_eq!(dead[0]["attempts"], 1);
    assert!(dead[0]["last_error"].is_string());

    // only admins see and retry
    for token in [&s.mgr, &s.agent, &s.lead.token] {
        assert_problem(
            app.get("/api/v1/outbox", token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            app.post(&format!("/api/v1/outbox/{id}/retry"), token, &json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.get("/api/v1/outbox?status=lost", &app.admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post("/api/v1/outbox/nope/retry", &app.admin, &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let inbox = smtp_on(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let v = expect(
        app.post(
            &format!("/api/v1/outbox/{id}/retry"),
            &app.admin,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "pending");
    let got = wait_for_mail(&inbox, 1).await;
    assert_eq!(got.len(), 1);
    assert!(parse(&got[0]).subject.contains(&numbers[0]));
    let v = expect(
        app.get(&format!("/api/v1/outbox/{id}"), &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "sent");
    let log = v["attempt_log"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0]["attempt"].as_i64(), log[0]["ok"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(
        (log[1]["attempt"].as_i64(), log[1]["ok"].as_bool()),
        (Some(2), Some(true))
    );
    // a sent message is not retried
    assert_problem(
        app.post(
            &format!("/api/v1/outbox/{id}/retry"),
            &app.admin,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "message_not_dead",
    )
    .await;
}

/// Waits until the outbox holds `n` messages and none waits or is being sent; answers
/// them.
async fn settle(app: &TestApp, n: usize) -> Vec<Value> {
    for _ in 0..400 {
        let all = outbox(app, "?limit=100").await;
        if all.len() >= n
            && all
                .iter()
                .all(|m| m["status"] != "pending" && m["status"] != "sending")
        {
            return all;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!(
        "the outbox did not settle: {:?}",
        outbox(app, "?limit=100").await
    );
}

async fn wait_until_status(app: &TestApp, status: &str, n: usize) {
    for _ in 0..400 {
        if outbox(app, &format!("?status={status}")).await.len() >= n {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("no {n} {status} messages");
}

// ------------------------------------------------------------------ rollback

#[tokio::test]
async fn a_change_that_rolls_back_leaves_no_message() {
    let tmp = tempfile::tempdir().unwrap();
    let s = zz_mail(mail_settings(free_port(), tmp.path(), 1)).await;
    let app = &s.app;
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!([{"plate_no": "豫C11111"}]), false),
        )
        .await,
    )
    .await;
    let before = app.count("outbox_messages");
    let mut c = app.pool.get().unwrap();
    let r: Result<(), store::StoreError> = store::write_tx(&mut c, |c| {
        dispatch::notify::on_order(c, &id_of(&o), dispatch::notify::OrderNotice::Submitted)?;
        assert_eq!(
            store::outbox::list(
                c,
                &Default::default(),
                &store::PageReq {
                    after: None,
                    limit: 10
                }
            )?
            .items
            .len() as i64,
            before + 1,
            "written inside the transaction"
        );
        Err(store::StoreError::NotFound)
    });
    assert!(r.is_err());
    assert_eq!(
        app.count("outbox_messages"),
        before,
        "rolled back with the change"
    );
    // and a refused action writes nothing either: an agent cannot approve
    let res = app
        .client
        .post(app.url(&format!("{ORDERS}/{}/submit", id_of(&o))))
        .bearer_auth(&s.lead.token)
        .header("If-Match", format!("\"{}\"", o["version"]))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    assert_eq!(app.count("outbox_messages"), before);
}

// ------------------------------------------------------------------ two instances

#[tokio::test]
async fn two_app_instances_on_one_database_send_each_message_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_on(listener);
    let tmp = tempfile::tempdir().unwrap();
    // instance A: no worker while the messages are written, so both start together
    let s = zz_mail(mail_settings(port, tmp.path(), 5)).await;
    let numbers = submit_orders(&s, 1).await;
    wait_for_mail(&inbox, 1).await;
    inbox.lock().unwrap().clear();
    let b = spawn_app_with(AppOptions {
        mail: Some(mail_settings(port, &dir_of(&s.app), 5)),
        beside: Some((
            s.app.target.clone(),
            s.app.dir.clone(),
            s.app.zz.clone(),
            s.app.bj.clone(),
        )),
        ..Default::default()
    })
    .await;
    drop(numbers);
    // 30 messages written through both instances while both workers run
    let mut expected = Vec::new();
    for i in 0..30 {
        let app = if i % 2 == 0 { &s.app } else { &b };
        let o = created_order(
            app.post(
                &format!("{ORDERS}/install"),
                &s.agent,
                &install_body(
                    &s.customer,
                    json!([{"plate_no": format!("豫D{:05}", 10000 + i)}]),
                    true,
                ),
            )
            .await,
        )
        .await;
        expected.push(o["number"].as_str().unwrap().to_string());
    }
    let got = wait_for_mail(&inbox, 30).await;
    let mails: Vec<Mail> = got.iter().map(parse).collect();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for m in &mails {
        *by_id.entry(m.message_id.as_str()).or_default() += 1;
    }
    assert_eq!(mails.len(), 30, "each message once: {by_id:?}");
    assert!(by_id.values().all(|&n| n == 1));
    for n in &expected {
        assert_eq!(
            mails
                .iter()
                .filter(|m| m.subject.contains(n.as_str()))
                .count(),
            1,
            "{n}"
        );
    }
    assert_eq!(
        crate::fixtures::count_sql(&s.app, "SELECT COUNT(*) AS n FROM outbox_attempts"),
        31,
        "one attempt per message"
    );
}

#[tokio::test]
async fn a_missed_appointment_nobody_can_be_told_of_is_recorded_once_for_admins() {
    let tmp = tempfile::tempdir().unwrap();
    // no manager of the center has an e-mail address
    let s = zz_with(AppOptions {
        mail: Some(mail_settings(free_port(), tmp.path(), 3)),
        ..Default::default()
    })
    .await;
    let app = &s.app;
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!([{"plate_no": "豫E12345"}]), true),
        )
        .await,
    )
    .await;
    let o = crate::fixtures::approve_and_assign(&s, &o, &s.lead, &[], 30).await;
    {
        use dispatch::store::schema::work_orders::dsl as wo;
        diesel::update(wo::work_orders.find(id_of(&o)))
            .set(wo::window_end.eq(Some(now() - Duration::minutes(1))))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
    }
    wait_until_status(app, "dead", 1).await;
    // several sweeps later still one
    tokio::time::sleep(StdDuration::from_millis(800)).await;
    let rows = outbox(app, "?kind=deadline_passed").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "dead");
    assert_eq!(rows[0]["order_id"], id_of(&o).as_str());
    assert_eq!(rows[0]["last_error"], "no recipient has an e-mail address");
    assert_eq!(rows[0]["attempts"], 0);
}

// ------------------------------------------------------------------ late, after an outage

/// Issue 14 item 13: a visit announcement that waited out an SMTP outage is not sent once
/// the order is completed (skipped, saying what happened); one still true goes out with
/// the work order as it was when the visit was arranged, not as it is when sent.
#[tokio::test]
async fn a_late_visit_notice_is_skipped_once_untrue_and_otherwise_attaches_the_order_as_of_its_cause()
 {
    // the SMTP server is down from the start: its port is held (no other test can take
    // it) by a listener that drops every connection, so every message waits
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    {
        let (l, down) = (listener.try_clone().unwrap(), down.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                drop(conn);
                if !down.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
            }
        });
    }
    let tmp = tempfile::tempdir().unwrap();
    let s = zz_mail(mail_settings(port, tmp.path(), 1000)).await;
    let app = &s.app;

    // order A: assigned (the 上门预约 is written), then visited and completed
    let a = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let a_no = a["number"].as_str().unwrap().to_string();
    // order B: assigned, then accepted by the lead (the announced visit still holds)
    let b = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!([{"plate_no": "豫A66666"}]), true),
        )
        .await,
    )
    .await;
    let b = crate::fixtures::approve_and_assign(&s, &b, &s.lead, &[], 150).await;
    let b = crate::fixtures::act(app, &s.lead.token, &b, "accept", json!({})).await;
    assert_eq!(b["status"], "accepted");
    let b_no = b["number"].as_str().unwrap().to_string();
    let a_scheduled = outbox(
        app,
        &format!("?kind=order_scheduled&order_id={}", id_of(&a)),
    )
    .await;
    assert_eq!(a_scheduled.len(), 1);
    let a_scheduled_id = a_scheduled[0]["id"].as_str().unwrap().to_string();

    // A's visit notice is judged when its turn comes again: skipped, saying why
    for _ in 0..400 {
        let v = expect(
            app.get(&format!("/api/v1/outbox/{a_scheduled_id}"), &app.admin)
                .await,
            StatusCode::OK,
        )
        .await;
        if v["status"] == "skipped" {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let v = expect(
        app.get(&format!("/api/v1/outbox/{a_scheduled_id}"), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "skipped", "{v}");
    let reason = v["skip_reason"].as_str().unwrap();
    // judged when the technician had arrived, or once the order was completed: either
    // way it says what happened, and when
    assert!(
        reason.contains("已于") && (reason.contains("完工") || reason.contains("到场")),
        "{reason}"
    );
    assert!(v["cause_event_id"].is_string(), "{v}");
    assert!(v["sent_at"].is_null());

    // the server comes back: A's completion, B's assignment and visit go out
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    let inbox = smtp_on(listener);
    // 4 for A (submitted, assigned, scheduled, completed), 3 for B: A's assignment and
    // visit skipped, the other 5 sent
    let settled = settle(app, 7).await;
    let skipped: Vec<&Value> = settled
        .iter()
        .filter(|m| m["status"] == "skipped")
        .collect();
    assert_eq!(skipped.len(), 2, "A's assignment and visit: {settled:?}");
    assert!(skipped.iter().all(|m| m["order_id"] == a["id"]));
    let got = wait_for_mail(&inbox, 5).await;
    let mails: Vec<Mail> = got.iter().map(parse).collect();
    assert_eq!(
        mails.len(),
        5,
        "{:#?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert!(
        !mails
            .iter()
            .any(|m| m.text.contains("技师将于") && m.text.contains(&a_no)),
        "no visit announced for the completed order"
    );
    let completed = mails
        .iter()
        .find(|m| m.subject.starts_with("【完工通知】") && m.subject.contains(&a_no))
        .expect("A's completion notice is still true and sent");
    let (text, _) = pdf_text(&completed.attachments[0].1);
    assert!(text.contains("已完工") && text.contains("王喆"), "{text}");

    // B's late notice: the work order as it was when the visit was arranged
    let m = mails
        .iter()
        .find(|m| m.subject.starts_with("【上门预约】") && m.text.contains(&b_no))
        .expect("B's visit notice is still true and sent");
    assert!(m.text.contains("技师将于"));
    assert_eq!(m.attachments.len(), 1);
    let (text, _) = pdf_text(&m.attachments[0].1);
    assert!(text.contains(&b_no), "{text}");
    assert!(text.contains("状态：已派工"), "as of its cause: {text}");
    assert!(!text.contains("已接单"), "not as it is when sent: {text}");
    assert!(text.contains("内容截至"), "{text}");
}
