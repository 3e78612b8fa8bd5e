//! Feedback: tickets replied in time, breached and escalated, handed over, resolved and
//! closed; follow-up calls on completion and the complaint a low score opens; key
//! customers' revisits (with the job run at chosen times, no sleeps); KPIs on a fixed
//! data set with hand-computed values, the same on SQLite and PostgreSQL; authorization.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{
    ORDERS, Zz, completed_order, created_order, expect, id_of, install_body, items, version_of, zz,
};
use crate::helpers::{TestApp, assert_problem};
use dispatch::notify::feedback::run_jobs;
use dispatch::store::now;

async fn post_v(app: &TestApp, token: &str, path: &str, version: i64, body: &Value) -> Response {
    app.req(Method::POST, path, token)
        .header("If-Match", format!("\"{version}\""))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn ticket(s: &Zz, token: &str, kind: &str, urgency: &str, order: Option<&str>) -> Value {
    let mut body = json!({
        "customer_id": s.customer, "kind": kind, "channel": "hotline", "urgency": urgency,
        "subject": "终端离线", "description": "客户来电：车辆定位不更新"
    });
    if let Some(o) = order {
        body["order_id"] = json!(o);
    }
    expect(
        s.app.post("/api/v1/tickets", token, &body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn t_act(s: &Zz, token: &str, t: &Value, action: &str, body: Value) -> Response {
    post_v(
        &s.app,
        token,
        &format!("/api/v1/tickets/{}/{action}", id_of(t)),
        version_of(t),
        &body,
    )
    .await
}

async fn get_ticket(s: &Zz, id: &str) -> Value {
    expect(
        s.app.get(&format!("/api/v1/tickets/{id}"), &s.mgr).await,
        StatusCode::OK,
    )
    .await
}

fn jobs(app: &TestApp, at: chrono::NaiveDateTime) -> dispatch::notify::feedback::JobRun {
    run_jobs(&mut app.pool.get().unwrap(), at).unwrap()
}

#[tokio::test]
async fn a_ticket_replied_in_time_then_resolved_told_and_closed() {
    let s = zz().await;
    let t = ticket(&s, &s.agent, "inquiry", "urgent", None).await;
    assert_eq!(t["status"], "open");
    assert_eq!(t["owner_id"], s.agent_id.as_str());
    assert!(t["number"].as_str().unwrap().starts_with("ZX-ZZ-"));
    let due = chrono::DateTime::parse_from_rfc3339(t["reply_due_at"].as_str().unwrap()).unwrap();
    let received =
        chrono::DateTime::parse_from_rfc3339(t["received_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - received, Duration::hours(1), "urgent: one hour");

    let t = expect(
        t_act(&s, &s.agent, &t, "reply", json!({"text": "已安排技师检查"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "replied");
    assert!(t["replied_at"].is_string());
    // the deadline passes: replied in time, no breach
    assert_eq!(jobs(&s.app, now() + Duration::hours(2)).breached, 0);
    let t = get_ticket(&s, &id_of(&t)).await;
    assert_eq!(t["breached"], false);

    let t = expect(
        t_act(
            &s,
            &s.agent,
            &t,
            "resolve",
            json!({"text": "更换SIM卡后恢复"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "resolved");
    // closing needs the customer told the result
    assert_problem(
        t_act(&s, &s.agent, &t, "close", json!({})).await,
        StatusCode::CONFLICT,
        "customer_not_notified",
    )
    .await;
    let t = expect(
        t_act(
            &s,
            &s.agent,
            &t,
            "customer-notified",
            json!({"text": "电话告知王喆"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(t["customer_notified_at"].is_string());
    let t = expect(
        t_act(&s, &s.agent, &t, "close", json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "closed");
    let p = assert_problem(
        t_act(&s, &s.agent, &t, "reply", json!({"text": "再次回复"})).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["current_status"], "closed");
    let actions: Vec<&str> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "reply", "resolve", "notify_customer", "close"]
    );
}

#[tokio::test]
async fn a_ticket_not_replied_in_time_is_breached_escalated_and_keeps_the_breach() {
    let s = zz().await;
    {
        use dispatch::store::schema::users::dsl as u;
        diesel::update(u::users.find(&s.mgr_id))
            .set(u::email.eq(Some("manager@zz.test")))
            .execute(&mut s.app.pool.get().unwrap())
            .unwrap();
    }
    let t = ticket(&s, &s.agent, "complaint", "normal", None).await;
    assert!(t["number"].as_str().unwrap().starts_with("TS-ZZ-"));
    // 23 hours later: still in time
    assert_eq!(jobs(&s.app, now() + Duration::hours(23)).breached, 0);
    // 25 hours later: breached, escalated once
    assert_eq!(jobs(&s.app, now() + Duration::hours(25)).breached, 1);
    assert_eq!(
        jobs(&s.app, now() + Duration::hours(26)).breached,
        0,
        "once"
    );
    let t = get_ticket(&s, &id_of(&t)).await;
    assert_eq!(t["breached"], true);
    assert!(t["escalated_at"].is_string());
    let last = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "breach");
    assert!(last["actor_id"].is_null());
    let out = expect(
        s.app
            .get("/api/v1/outbox?kind=ticket_breached", &s.app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    let msgs = items(&out);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["status"], "pending");
    assert!(
        msgs[0]["subject"]
            .as_str()
            .unwrap()
            .contains(t["number"].as_str().unwrap())
    );
    let m = expect(
        s.app
            .get(&format!("/api/v1/outbox/{}", id_of(&msgs[0])), &s.app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m["recipients"], json!(["manager@zz.test"]));

    // a late reply: replied, the breach stays on record
    let t = expect(
        t_act(&s, &s.agent, &t, "reply", json!({"text": "抱歉回复晚了"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "replied");
    assert_eq!(t["breached"], true);
    let listed = expect(
        s.app.get("/api/v1/tickets?breached=true", &s.mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&listed).len(), 1);
}

#[tokio::test]
async fn ownership_stays_with_the_first_responder_until_handed_over() {
    let s = zz().await;
    let (agent2_id, agent2) = s.app.user("agent", &s.app.zz.id).await;
    let t = ticket(&s, &s.agent, "complaint", "normal", None).await;
    // another agent may read, not act
    assert_problem(
        t_act(&s, &agent2, &t, "reply", json!({"text": "x"})).await,
        StatusCode::CONFLICT,
        "not_owner",
    )
    .await;
    // a handover needs a note and a colleague of the center
    assert_problem(
        t_act(
            &s,
            &s.agent,
            &t,
            "handover",
            json!({"to_user_id": agent2_id, "note": " "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        t_act(
            &s,
            &s.agent,
            &t,
            "handover",
            json!({"to_user_id": s.lead.id, "note": "交接"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let (bj_agent_id, _) = s.app.user("agent", &s.app.bj.id).await;
    assert_problem(
        t_act(
            &s,
            &s.agent,
            &t,
            "handover",
            json!({"to_user_id": bj_agent_id, "note": "交接"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let t = expect(
        t_act(
            &s,
            &s.agent,
            &t,
            "handover",
            json!({"to_user_id": agent2_id, "note": "我休假，客户要求今天回电"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["owner_id"], agent2_id.as_str());
    assert_eq!(t["status"], "open", "a handover keeps the state");
    let ev = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(ev["action"], "handover");
    assert!(ev["comment"].as_str().unwrap().contains("我休假"));
    // now the first agent is refused and the new owner acts; a manager may always act
    assert_problem(
        t_act(&s, &s.agent, &t, "reply", json!({"text": "x"})).await,
        StatusCode::CONFLICT,
        "not_owner",
    )
    .await;
    let t = expect(
        t_act(&s, &agent2, &t, "reply", json!({"text": "已回电"})).await,
        StatusCode::OK,
    )
    .await;
    let t = expect(
        t_act(&s, &s.mgr, &t, "resolve", json!({"text": "经理督办完成"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "resolved");
    // a stale version
    let res = post_v(
        &s.app,
        &agent2,
        &format!("/api/v1/tickets/{}/reply", id_of(&t)),
        1,
        &json!({"text": "x"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn completion_creates_a_follow_up_and_a_low_score_opens_a_complaint() {
    let s = zz().await;
    let app = &s.app;
    let o1 = completed_order(&s, &s.customer, &s.lead, 1000).await;
    let o2 = completed_order(&s, &s.customer, &s.lead, 2000).await;
    let list = expect(
        app.get("/api/v1/follow-ups?kind=completion&status=open", &s.agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let calls = items(&list).clone();
    assert_eq!(calls.len(), 2);
    let call = |o: &Value| {
        calls
            .iter()
            .find(|c| c["order_id"] == o["id"])
            .unwrap()
            .clone()
    };
    let c1 = call(&o1);
    assert_eq!(
        c1["assignee_id"],
        s.agent_id.as_str(),
        "the agent who took the order calls back"
    );
    assert_eq!(c1["customer_id"], s.customer.as_str());

    // satisfied: done, nothing else
    let path = |c: &Value| format!("/api/v1/follow-ups/{}/record", id_of(c));
    assert_problem(
        post_v(
            app,
            &s.agent,
            &path(&c1),
            version_of(&c1),
            &json!({"score": 6}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let r = expect(
        post_v(
            app,
            &s.agent,
            &path(&c1),
            version_of(&c1),
            &json!({"score": 4, "comment": "很满意"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["follow_up"]["status"], "done");
    assert_eq!(r["follow_up"]["score"], 4);
    assert!(r["complaint"].is_null());
    assert_problem(
        post_v(
            app,
            &s.agent,
            &path(&c1),
            version_of(&r["follow_up"]),
            &json!({"score": 4}),
        )
        .await,
        StatusCode::CONFLICT,
        "follow_up_done",
    )
    .await;

    // unhappy: a complaint is opened, urgent, owned by the caller, linked both ways
    let c2 = call(&o2);
    let r = expect(
        post_v(
            app,
            &s.agent,
            &path(&c2),
            version_of(&c2),
            &json!({"score": 2, "comment": "技师迟到两小时"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let complaint = &r["complaint"];
    assert_eq!(complaint["kind"], "complaint");
    assert_eq!(complaint["urgency"], "urgent");
    assert_eq!(complaint["status"], "open");
    assert_eq!(complaint["order_id"], o2["id"]);
    assert_eq!(complaint["owner_id"], s.agent_id.as_str());
    assert_eq!(complaint["follow_up_id"], c2["id"]);
    assert!(
        complaint["description"]
            .as_str()
            .unwrap()
            .contains("技师迟到两小时")
    );
    assert_eq!(r["follow_up"]["ticket_id"], complaint["id"]);
    let open = expect(
        app.get("/api/v1/tickets?kind=complaint&status=open", &s.mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&open).len(), 1);
}

#[tokio::test]
async fn key_customers_are_revisited_on_schedule() {
    let s = zz().await;
    let app = &s.app;
    let key = id_of(
        &app.created(
            "/api/v1/customers",
            &app.admin,
            &json!({"center_id": app.zz.id, "name": "大客户物流", "tier": "key", "address": "郑州",
                    "payment_terms": "cash", "contacts": [{"name": "王喆", "phone": "13812345678"}]}),
        )
        .await,
    );
    let revisits = |app: &TestApp| {
        let app_addr = app.url(&format!(
            "/api/v1/follow-ups?kind=revisit&customer_id={key}"
        ));
        let token = s.mgr.clone();
        let client = app.client.clone();
        async move {
            let v: Value = client
                .get(app_addr)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            items(&v).clone()
        }
    };
    let t0 = now();
    assert_eq!(
        jobs(app, t0 + Duration::days(89)).revisits,
        0,
        "not due before 90 days"
    );
    assert!(revisits(app).await.is_empty());
    assert_eq!(jobs(app, t0 + Duration::days(91)).revisits, 1);
    assert_eq!(
        jobs(app, t0 + Duration::days(92)).revisits,
        0,
        "one open revisit at a time"
    );
    let open = revisits(app).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["status"], "open");
    assert!(open[0]["order_id"].is_null());
    let r = expect(
        post_v(
            app,
            &s.agent,
            &format!("/api/v1/follow-ups/{}/record", id_of(&open[0])),
            version_of(&open[0]),
            &json!({"score": 5}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["follow_up"]["status"], "done");
    // the next one is due 90 days after this visit
    assert_eq!(jobs(app, now() + Duration::days(89)).revisits, 0);
    assert_eq!(jobs(app, now() + Duration::days(91)).revisits, 1);
    // the center's interval is a setting
    let st = expect(
        app.get(
            &format!("/api/v1/centers/{}/feedback-settings", app.zz.id),
            &s.mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(st["key_revisit_days"], 90);
    assert_eq!(st["urgent_reply_minutes"], 60);
    let body = json!({"urgent_reply_minutes": 30, "normal_reply_minutes": 480, "key_revisit_days": 30, "major_revisit_days": null});
    let put = |token: &str, version: i64| {
        app.req(
            Method::PUT,
            &format!("/api/v1/centers/{}/feedback-settings", app.zz.id),
            token,
        )
        .header("If-Match", format!("\"{version}\""))
        .json(&body)
        .send()
    };
    assert_problem(
        put(&s.mgr, 0).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let st = expect(put(&app.admin, 1).await.unwrap(), StatusCode::OK).await;
    assert_eq!(st["version"], 2);
    let t = ticket(&s, &s.agent, "inquiry", "urgent", None).await;
    let due = chrono::DateTime::parse_from_rfc3339(t["reply_due_at"].as_str().unwrap()).unwrap();
    let received =
        chrono::DateTime::parse_from_rfc3339(t["received_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - received, Duration::minutes(30));
}

#[tokio::test]
async fn tickets_and_kpis_are_refused_to_the_wrong_roles_and_centers() {
    let s = zz().await;
    let app = &s.app;
    let t = ticket(&s, &s.agent, "suggestion", "normal", None).await;
    let (_, fin) = app.user("finance", &app.zz.id).await;
    for token in [&s.lead.token, &fin] {
        assert_problem(
            app.get("/api/v1/tickets", token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            app.get(&format!("/api/v1/tickets/{}", id_of(&t)), token)
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            app.get("/api/v1/follow-ups", token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            app.post("/api/v1/tickets", token, &json!({})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let kpi = format!("/api/v1/kpis?from={today}&to={today}");
    for token in [&s.lead.token, &fin, &s.agent] {
        assert_problem(
            app.get(&kpi, token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    assert_problem(
        app.get(&format!("/api/v1/tickets/{}", id_of(&t)), &bj_agent)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        t_act(&s, &bj_mgr, &t, "reply", json!({"text": "x"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let bj_list = expect(app.get("/api/v1/tickets", &bj_agent).await, StatusCode::OK).await;
    assert!(items(&bj_list).is_empty());
    // a BJ customer's id is unknown to a ZZ agent
    let bj_customer = id_of(
        &app.create_customer(&app.admin, &app.bj.id, "北京客户")
            .await,
    );
    assert_problem(
        app.post("/api/v1/tickets", &s.agent, &json!({"customer_id": bj_customer, "kind": "inquiry", "channel": "hotline", "subject": "x", "description": "y"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // KPIs: a manager sees their center only; another center's is not there
    let mine = expect(app.get(&kpi, &s.mgr).await, StatusCode::OK).await;
    assert!(
        mine["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] == app.zz.id.as_str())
    );
    assert_problem(
        app.get(&format!("{kpi}&center_id={}", app.zz.id), &bj_mgr)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let all = expect(app.get(&kpi, &app.admin).await, StatusCode::OK).await;
    assert!(all["rows"].is_array());
    assert_problem(
        app.get(&format!("{kpi}&by=customer"), &s.mgr).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

// ------------------------------------------------------------------ KPIs

fn set_order(
    app: &TestApp,
    id: &str,
    status: &str,
    lead: Option<&str>,
    wait: Option<i64>,
    repair: Option<i64>,
) {
    use dispatch::store::schema::work_orders::dsl as wo;
    diesel::update(wo::work_orders.find(id))
        .set((
            wo::status.eq(status),
            wo::lead_technician_id.eq(lead),
            wo::wait_seconds.eq(wait),
            wo::repair_seconds.eq(repair),
            wo::requested_at.eq(now() - Duration::minutes(5)),
        ))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
}

#[tokio::test]
async fn kpis_on_a_fixed_data_set_match_hand_computed_values() {
    let s = zz().await;
    let app = &s.app;
    let (a, b) = (s.lead.id.clone(), s.helper.id.clone());
    let mut ids = Vec::new();
    for (i, kind) in ["repair", "repair", "repair", "install", "install"]
        .iter()
        .enumerate()
    {
        let o = created_order(
            app.post(
                &format!("{ORDERS}/install"),
                &s.agent,
                &install_body(
                    &s.customer,
                    json!([{"plate_no": format!("豫F{:05}", 10000 + i)}]),
                    true,
                ),
            )
            .await,
        )
        .await;
        use dispatch::store::schema::work_orders::dsl as wo;
        diesel::update(wo::work_orders.find(id_of(&o)))
            .set(wo::kind.eq(*kind))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        ids.push(id_of(&o));
    }
    set_order(app, &ids[0], "closed", Some(&a), Some(600), Some(1200));
    set_order(app, &ids[1], "completed", Some(&a), Some(1800), Some(3600));
    set_order(app, &ids[2], "on_site", Some(&b), Some(1200), None);
    set_order(app, &ids[3], "completed", Some(&b), Some(3000), Some(600));
    set_order(app, &ids[4], "submitted", None, None, None);
    // order 2 went on hold: not fixed at the first visit
    {
        use dispatch::store::schema::order_events::dsl as ev;
        diesel::insert_into(ev::order_events)
            .values((
                ev::id.eq(dispatch::store::new_id()),
                ev::order_id.eq(&ids[1]),
                ev::at.eq(now()),
                ev::actor_id.eq(&a),
                ev::action.eq("hold"),
            ))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
    }
    // tickets: t1 complaint on order 1 answered in time and resolved; t2 inquiry answered
    // late; t3 complaint on order 3 unanswered; t4 suggestion unanswered
    let t1 = ticket(&s, &s.agent, "complaint", "normal", Some(&ids[0])).await;
    let t2 = ticket(&s, &s.agent, "inquiry", "normal", None).await;
    let _t3 = ticket(&s, &s.agent, "complaint", "normal", Some(&ids[2])).await;
    let _t4 = ticket(&s, &s.agent, "suggestion", "normal", None).await;
    {
        use dispatch::store::schema::tickets::dsl as tk;
        let mut c = app.pool.get().unwrap();
        diesel::update(tk::tickets.find(id_of(&t1)))
            .set((tk::status.eq("resolved"), tk::replied_at.eq(Some(now()))))
            .execute(&mut c)
            .unwrap();
        diesel::update(tk::tickets.find(id_of(&t2)))
            .set((
                tk::status.eq("replied"),
                tk::reply_due_at.eq(now() - Duration::hours(1)),
                tk::replied_at.eq(Some(now())),
            ))
            .execute(&mut c)
            .unwrap();
    }
    // calls: order 1 scored 4, order 4 scored 2 (recorded straight in the store)
    for (order, score) in [(&ids[0], 4), (&ids[3], 2)] {
        use dispatch::store::schema::follow_ups::dsl as fu;
        diesel::update(fu::follow_ups.filter(fu::order_id.eq(order)))
            .set((
                fu::status.eq("done"),
                fu::score.eq(Some(score)),
                fu::done_at.eq(Some(now())),
            ))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        let n: i64 = fu::follow_ups
            .filter(fu::order_id.eq(order))
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        if n == 0 {
            diesel::insert_into(fu::follow_ups)
                .values((
                    fu::id.eq(dispatch::store::new_id()),
                    fu::center_id.eq(&app.zz.id),
                    fu::customer_id.eq(&s.customer),
                    fu::order_id.eq(Some(order)),
                    fu::kind.eq("completion"),
                    fu::status.eq("done"),
                    fu::due_at.eq(now()),
                    fu::done_at.eq(Some(now())),
                    fu::score.eq(Some(score)),
                    fu::created_at.eq(now()),
                    fu::updated_at.eq(now()),
                ))
                .execute(&mut app.pool.get().unwrap())
                .unwrap();
        }
    }

    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let (from, to) = (today - Duration::days(1), today + Duration::days(1));
    let by_center = expect(
        app.get(&format!("/api/v1/kpis?from={from}&to={to}"), &s.mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    let rows = by_center["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{by_center}");
    let zz = &rows[0];
    assert_eq!(zz["id"], app.zz.id.as_str());
    assert_eq!(zz["orders_total"], 5);
    assert_eq!(
        zz["orders"],
        json!({"install": {"completed": 1, "submitted": 1}, "repair": {"closed": 1, "completed": 1, "on_site": 1}})
    );
    assert_eq!(zz["wait_avg_seconds"], 1650.0);
    assert_eq!(zz["wait_p90_seconds"], 3000);
    assert_eq!(zz["repair_avg_seconds"], 1800.0);
    assert_eq!(zz["repair_p90_seconds"], 3600);
    assert_eq!(zz["first_visit_fix_rate"], 0.5);
    assert_eq!(zz["tickets"], 4);
    assert_eq!(zz["complaints"], 2);
    // of the tickets answered or past their deadline (t1 in time, t2 late; t3 and t4 are
    // still within their 24 hours and count for neither side)
    assert_eq!(zz["replied_in_time_rate"], 0.5);
    assert_eq!(zz["resolution_rate"], 0.25);
    assert_eq!(zz["complaints_per_100_orders"], 40.0);
    assert_eq!(zz["satisfaction_avg"], 3.0);
    assert_eq!(zz["satisfaction_calls"], 2);

    let by_tech = expect(
        app.get(
            &format!("/api/v1/kpis?from={from}&to={to}&by=technician"),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let rows = by_tech["rows"].as_array().unwrap();
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {by_tech}"))
            .clone()
    };
    assert_eq!(rows.len(), 2);
    let ra = row(&a);
    assert_eq!(ra["orders_total"], 2);
    assert_eq!(ra["wait_avg_seconds"], 1200.0);
    assert_eq!(ra["wait_p90_seconds"], 1800);
    assert_eq!(ra["repair_avg_seconds"], 2400.0);
    assert_eq!(ra["repair_p90_seconds"], 3600);
    assert_eq!(ra["first_visit_fix_rate"], 0.5);
    assert_eq!(
        (ra["tickets"].as_i64(), ra["complaints"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(ra["replied_in_time_rate"], 1.0);
    assert_eq!(ra["resolution_rate"], 1.0);
    assert_eq!(ra["complaints_per_100_orders"], 50.0);
    assert_eq!(ra["satisfaction_avg"], 4.0);
    let rb = row(&b);
    assert_eq!(rb["orders_total"], 2);
    assert_eq!(rb["wait_avg_seconds"], 2100.0);
    assert_eq!(rb["wait_p90_seconds"], 3000);
    assert_eq!(rb["repair_avg_seconds"], 600.0);
    assert_eq!(rb["repair_p90_seconds"], 600);
    assert!(rb["first_visit_fix_rate"].is_null(), "no repair finished");
    assert!(rb["replied_in_time_rate"].is_null(), "t3 is not due yet");
    assert_eq!(rb["complaints_per_100_orders"], 50.0);
    assert_eq!(rb["satisfaction_avg"], 2.0);

    // a period before any of it: nothing
    let empty = expect(
        app.get(
            &format!(
                "/api/v1/kpis?from={}&to={}",
                today - Duration::days(30),
                today - Duration::days(20)
            ),
            &s.mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(empty["rows"].as_array().unwrap().is_empty());
    app.assert_kpi_rollup_matches();
}

#[tokio::test]
async fn a_ticket_resolved_at_once_counts_as_answered_and_is_never_breached() {
    let s = zz().await;
    let t = ticket(&s, &s.agent, "inquiry", "urgent", None).await;
    let t = expect(
        t_act(
            &s,
            &s.agent,
            &t,
            "resolve",
            json!({"text": "电话中当场解答"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "resolved");
    assert!(
        t["replied_at"].is_string(),
        "the resolution answered the customer"
    );
    assert_eq!(jobs(&s.app, now() + Duration::hours(3)).breached, 0);
    assert_eq!(get_ticket(&s, &id_of(&t)).await["breached"], false);
    // KPI periods outside 2000–2099 are refused, not a crash
    for q in [
        "from=1999-12-31&to=2000-01-02",
        "from=2099-12-31&to=+262143-12-31",
        "from=2026-02-01&to=2026-01-01",
    ] {
        let res = s.app.get(&format!("/api/v1/kpis?{q}"), &s.mgr).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }
}

#[tokio::test]
async fn kpi_periods_are_china_days() {
    let s = zz().await;
    let app = &s.app;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    // 2026-03-10 00:00 in Beijing is 2026-03-09 16:00 UTC
    let midnight = day.and_hms_opt(0, 0, 0).unwrap() - Duration::hours(8);
    let mut ids = Vec::new();
    for (i, at) in [
        // the last microsecond of a day stays in it (SQLite's date() would round it up)
        midnight - Duration::microseconds(1), // 03-09 23:59:59.999999 Beijing
        midnight,                             // 03-10 00:00:00
        midnight + Duration::hours(24) - Duration::microseconds(1), // 03-10 23:59:59.999999
        midnight + Duration::hours(24),       // 03-11 00:00:00
    ]
    .into_iter()
    .enumerate()
    {
        let o = created_order(
            app.post(
                &format!("{ORDERS}/install"),
                &s.agent,
                &install_body(
                    &s.customer,
                    json!([{"plate_no": format!("豫G{:05}", 10000 + i)}]),
                    true,
                ),
            )
            .await,
        )
        .await;
        use dispatch::store::schema::work_orders::dsl as wo;
        diesel::update(wo::work_orders.find(id_of(&o)))
            .set(wo::requested_at.eq(at))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        ids.push(id_of(&o));
    }
    let k = expect(
        app.get(&format!("/api/v1/kpis?from={day}&to={day}"), &s.mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(k["rows"][0]["orders_total"], 2, "{k}");
    let k = expect(
        app.get(
            &format!("/api/v1/kpis?from={}&to={day}", day - Duration::days(1)),
            &s.mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(k["rows"][0]["orders_total"], 3, "{k}");
    app.assert_kpi_rollup_matches();
}

/// A customer who does not answer: each failed attempt is recorded, and after the center's
/// number of attempts (`follow_up_attempts`, default 3) the call is done as unreachable.
#[tokio::test]
async fn a_follow_up_is_unreachable_after_the_centers_number_of_attempts() {
    let s = zz().await;
    let app = &s.app;
    let settings = format!("/api/v1/centers/{}/feedback-settings", app.zz.id);
    let st = expect(app.get(&settings, &s.mgr).await, StatusCode::OK).await;
    assert_eq!(st["follow_up_attempts"], 3);
    let body = json!({"urgent_reply_minutes": 60, "normal_reply_minutes": 1440, "key_revisit_days": 90,
                      "major_revisit_days": 180, "follow_up_attempts": 2});
    let put = |body: Value, version: i64| {
        app.req(Method::PUT, &settings, &app.admin)
            .header("If-Match", format!("\"{version}\""))
            .json(&body)
            .send()
    };
    let mut bad = body.clone();
    bad["follow_up_attempts"] = json!(0);
    assert_problem(
        put(bad, 1).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let st = expect(put(body, 1).await.unwrap(), StatusCode::OK).await;
    assert_eq!(st["follow_up_attempts"], 2);

    let o = completed_order(&s, &s.customer, &s.lead, 3000).await;
    let f = crate::money::follow_up_of(app, &id_of(&o)).await;
    let path = format!("/api/v1/follow-ups/{}/unreachable", id_of(&f));
    // technicians do not make the calls; the version is required
    assert_problem(
        post_v(app, &s.lead.token, &path, version_of(&f), &json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post(&path, &s.agent, &json!({})).await,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    let a = expect(
        post_v(
            app,
            &s.agent,
            &path,
            version_of(&f),
            &json!({"note": "无人接听"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["follow_up"]["status"], "open", "{a}");
    assert_eq!(a["follow_up"]["unreachable"], false);
    assert_eq!(a["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(a["attempts"][0]["note"], "无人接听");
    assert_eq!(a["attempts_allowed"], 2);
    let a = expect(
        post_v(
            app,
            &s.agent,
            &path,
            version_of(&a["follow_up"]),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["follow_up"]["status"], "done", "{a}");
    assert_eq!(a["follow_up"]["unreachable"], true);
    assert!(a["follow_up"]["score"].is_null());
    assert_eq!(a["attempts"].as_array().unwrap().len(), 2);
    // done: no third attempt, no score afterwards
    let v = version_of(&a["follow_up"]);
    assert_problem(
        post_v(app, &s.agent, &path, v, &json!({})).await,
        StatusCode::CONFLICT,
        "follow_up_done",
    )
    .await;
    assert_problem(
        post_v(
            app,
            &s.agent,
            &format!("/api/v1/follow-ups/{}/record", id_of(&f)),
            v,
            &json!({"score": 5}),
        )
        .await,
        StatusCode::CONFLICT,
        "follow_up_done",
    )
    .await;
    assert_eq!(app.count("follow_up_attempts"), 2);
}
