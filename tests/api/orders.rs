//! Work orders: install work orders (安装任务派工单) and repair service orders (维修服务单)
//! end to end — creation, the lifecycle with If-Match and Idempotency-Key, line work
//! (install, terminal swap, SIM swap), parts and fees, sign-off, authorization, races and
//! order numbers.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{
    ORDERS, READINESS, SIGNATURE, act, actions, approve_and_assign, at, count_sql, created_order,
    expect, fit, get_order, get_sim, get_terminal, go_on_site, id_of, install_body, install_order,
    items, line, post_action, record, repair_body, technician, terminal_with, timeline, version_of,
    year, zz,
};
use crate::helpers::{TestApp, assert_problem, iccid, imei};

// ------------------------------------------------------------------ helpers

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A timestamp from the API: RFC 3339 (or, leniently, a naive UTC date-time).
fn ts(v: &Value) -> DateTime<Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("a timestamp, got {v}"));
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .unwrap_or_else(|e| panic!("not a timestamp {s}: {e}"))
                .and_utc()
        })
}

/// binding_events rows recorded for this order.
fn order_bindings(app: &TestApp, order_id: &str, extra: &str) -> i64 {
    count_sql(
        app,
        &format!("SELECT COUNT(*) AS n FROM binding_events WHERE order_id = '{order_id}' {extra}"),
    )
}

/// The order's current state as carried by an `invalid_transition` problem
/// (`current_status`: RFC 9457's `status` is the HTTP status).
fn problem_state(p: &Value) -> Option<String> {
    p["current_status"].as_str().map(str::to_string)
}

async fn invalid_transition(res: Response, state: &str) -> Value {
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, "application/problem+json");
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["code"], "invalid_transition", "{p}");
    assert_eq!(
        problem_state(&p).as_deref(),
        Some(state),
        "the problem names the current state: {p}"
    );
    p
}

/// The status-changing events of a timeline: (action, from, to).
fn transitions(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .filter(|e| e["from_status"].is_string() && e["to_status"].is_string())
        .filter(|e| e["from_status"] != e["to_status"])
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["from_status"].as_str().unwrap().to_string(),
                e["to_status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn t(action: &str, from: &str, to: &str) -> (String, String, String) {
    (action.into(), from.into(), to.into())
}

// ------------------------------------------------------------------ 1. install flow

#[tokio::test]
async fn install_order_runs_from_request_to_closed() {
    let s = zz().await;
    let app = &s.app;
    let existing = app
        .create_vehicle(&app.admin, &s.customer, "豫A10001")
        .await;
    let v1 = id_of(&existing);
    let t1 = id_of(&app.create_terminal(&app.admin, &app.zz.id, 1).await);
    let t2 = id_of(&app.create_terminal(&app.admin, &app.zz.id, 2).await);
    let s1 = id_of(&app.create_sim(&app.admin, &app.zz.id, 1).await);
    let s2 = id_of(&app.create_sim(&app.admin, &app.zz.id, 2).await);
    let vehicles_before = app.count("vehicles");
    let drivers_before = app.count("drivers");

    // the agent files the request with its vehicle list, submitted at once
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(
                &s.customer,
                json!([
                    {"vehicle_id": v1},
                    {"plate_no": "豫A10002", "model": "解放J6", "driver": {"name": "张三", "phone": "13700001111"}},
                    {"plate_no": "豫A10003", "driver": {"name": "李四", "phone": "13700002222"}},
                ]),
                true,
            ),
        )
        .await,
    )
    .await;
    let id = id_of(&o);
    assert_eq!(o["kind"], "install");
    assert_eq!(o["status"], "submitted");
    assert_eq!(o["number"], format!("AZ-ZZ-{}-000001", year()));
    assert_eq!(o["center_id"], app.zz.id.as_str());
    assert_eq!(o["customer_id"], s.customer.as_str());
    assert_eq!(o["created_by"], s.agent_id.as_str());
    assert_eq!(o["channel"], "phone");
    assert_eq!(o["urgency"], "normal");
    assert_eq!(o["contact_phone"], "13812345678");
    assert!(o["fee_fen"].is_null());
    assert_eq!(o["has_signature"], false);
    let lines = o["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["status"], "pending");
        assert_eq!(l["position"], (i + 1) as i64);
        assert_eq!(strs(&l["work"]), Vec::<String>::new());
        assert!(l["terminal_id"].is_null());
    }
    assert_eq!(lines[0]["vehicle_id"], v1.as_str());
    assert_eq!(lines[0]["plate_no"], "豫A10001");
    assert_eq!(lines[1]["plate_no"], "豫A10002");
    assert_eq!(lines[2]["plate_no"], "豫A10003");
    assert!(
        lines[1]["driver_id"].is_string(),
        "the new driver is on the line"
    );
    // the two new vehicles (and their drivers) are registered to the customer
    assert_eq!(app.count("vehicles"), vehicles_before + 2);
    assert_eq!(app.count("drivers"), drivers_before + 2);
    let page = expect(
        app.get(
            &format!("/api/v1/vehicles?customer_id={}", s.customer),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mut plates: Vec<String> = items(&page)
        .iter()
        .map(|v| v["plate_no"].as_str().unwrap().to_string())
        .collect();
    plates.sort();
    assert_eq!(plates, ["豫A10001", "豫A10002", "豫A10003"]);
    let new_vehicle = expect(
        app.get(
            &format!(
                "/api/v1/vehicles/{}",
                lines[1]["vehicle_id"].as_str().unwrap()
            ),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(new_vehicle["customer_id"], s.customer.as_str());
    assert_eq!(new_vehicle["model"], "解放J6");
    let line_ids: Vec<String> = lines.iter().map(id_of).collect();
    let vehicle_ids: Vec<String> = lines
        .iter()
        .map(|l| l["vehicle_id"].as_str().unwrap().to_string())
        .collect();

    // manager approves
    let mgr_view = get_order(app, &s.mgr, &id).await;
    let allowed = strs(&mgr_view["allowed_actions"]);
    assert!(allowed.contains(&"approve".to_string()), "{allowed:?}");
    assert!(allowed.contains(&"reject".to_string()), "{allowed:?}");
    let agent_view = get_order(app, &s.agent, &id).await;
    assert!(!strs(&agent_view["allowed_actions"]).contains(&"approve".to_string()));
    let o = act(app, &s.mgr, &o, "approve", json!({"comment": "同意安装"})).await;
    assert_eq!(o["status"], "approved");
    assert_eq!(o["approved_by"], s.mgr_id.as_str());
    assert!(o["approved_at"].is_string());

    // and assigns a lead with one helper
    let scheduled = at(Duration::hours(24));
    let o = act(
        app,
        &s.mgr,
        &o,
        "assign",
        json!({"lead_id": s.lead.id, "helper_ids": [s.helper.id], "scheduled_at": scheduled}),
    )
    .await;
    assert_eq!(o["status"], "assigned");
    assert_eq!(o["lead_technician_id"], s.lead.id.as_str());
    assert_eq!(ts(&o["scheduled_at"]), ts(&json!(scheduled)));
    let mut crew: Vec<(String, String)> = o["technicians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(t["assigned_at"].is_string());
            (
                t["technician_id"].as_str().unwrap().to_string(),
                t["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    crew.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        crew,
        [
            (s.helper.id.clone(), "helper".to_string()),
            (s.lead.id.clone(), "lead".to_string())
        ]
    );

    // the lead: accept, readiness, depart, arrive
    let lead = &s.lead.token;
    let view = get_order(app, lead, &id).await;
    assert!(strs(&view["allowed_actions"]).contains(&"accept".to_string()));
    // the technician may not read customers, so the order names its customer
    assert_eq!(view["customer_name"], "郑州宇通物流有限公司");
    // and so does the technician's job list
    let jobs: Value = app.get(ORDERS, lead).await.json().await.unwrap();
    assert_eq!(jobs["items"][0]["id"], id.as_str());
    assert_eq!(jobs["items"][0]["customer_name"], "郑州宇通物流有限公司");
    let o = act(app, lead, &o, "accept", json!({})).await;
    assert_eq!(o["status"], "accepted");
    let o = act(app, lead, &o, "readiness", json!({"items": READINESS})).await;
    assert_eq!(o["status"], "ready");
    let mut ticked = strs(&o["readiness"]);
    ticked.sort();
    assert_eq!(
        ticked,
        ["documents", "info_verified", "spare_parts", "tools"]
    );
    assert!(o["ready_at"].is_string());
    let o = act(
        app,
        lead,
        &o,
        "depart",
        json!({"lat": 34.75, "lng": 113.63}),
    )
    .await;
    assert_eq!(o["status"], "en_route");
    assert!(o["departed_at"].is_string());
    let o = act(
        app,
        lead,
        &o,
        "arrive",
        json!({"lat": 34.7201, "lng": 113.7003}),
    )
    .await;
    assert_eq!(o["status"], "on_site");
    assert_eq!(o["arrived_lat"], 34.7201);
    assert_eq!(o["arrived_lng"], 113.7003);
    let wait = o["wait_seconds"].as_i64().expect("wait_seconds on arrival");
    let expected_wait = (ts(&o["arrived_at"]) - ts(&o["requested_at"])).num_seconds();
    assert!(
        (wait - expected_wait).abs() <= 1,
        "{wait} vs {expected_wait}"
    );
    assert!(wait >= 2 * 3600 - 5, "requested two hours ago: {wait}");

    // per vehicle: two installs and one not done
    let o = act(
        app,
        lead,
        &o,
        &format!("lines/{}/install", line_ids[0]),
        json!({"imei": imei(1), "iccid": iccid(1)}),
    )
    .await;
    let l = line(&o, 0);
    assert_eq!(l["status"], "done");
    assert_eq!(strs(&l["work"]), ["install"]);
    assert_eq!(l["terminal_id"], t1.as_str());
    assert_eq!(l["sim_id"], s1.as_str());
    assert_eq!(l["done_by"], s.lead.id.as_str());
    assert!(l["done_at"].is_string());
    let o = act(
        app,
        lead,
        &o,
        &format!("lines/{}/install", line_ids[1]),
        json!({"imei": imei(2), "iccid": iccid(2)}),
    )
    .await;
    assert_eq!(line(&o, 1)["status"], "done");
    assert_eq!(line(&o, 1)["terminal_id"], t2.as_str());
    let o = act(
        app,
        lead,
        &o,
        &format!("lines/{}/not-done", line_ids[2]),
        json!({"reason": "车辆外出未到场"}),
    )
    .await;
    assert_eq!(line(&o, 2)["status"], "not_done");
    assert_eq!(line(&o, 2)["not_done_reason"], "车辆外出未到场");
    assert!(line(&o, 2)["terminal_id"].is_null());

    // the customer signs off; the lead completes
    let o = act(
        app,
        lead,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    assert_eq!(o["signoff_name"], "王喆");
    assert!(o["signoff_at"].is_string());
    assert_eq!(o["has_signature"], true);
    let o = act(app, lead, &o, "complete", json!({})).await;
    assert_eq!(o["status"], "completed");
    assert_eq!(o["fee_fen"], 0, "no parts used");
    assert_eq!(o["parts_total_fen"], 0);
    assert!(o["completed_at"].is_string());
    let repair = o["repair_seconds"].as_i64().expect("repair_seconds");
    let expected = (ts(&o["completed_at"]) - ts(&o["arrived_at"])).num_seconds();
    assert!(
        repair >= 0 && (repair - expected).abs() <= 1,
        "{repair} vs {expected}"
    );
    assert_eq!(o["wait_seconds"], wait);

    // the registry: terminals in the right vehicles, SIMs active in the right terminals
    for (t, sim, v) in [(&t1, &s1, &vehicle_ids[0]), (&t2, &s2, &vehicle_ids[1])] {
        let term = get_terminal(app, t).await;
        assert_eq!(term["status"], "installed");
        assert_eq!(term["vehicle_id"], v.as_str());
        let card = get_sim(app, sim).await;
        assert_eq!(card["status"], "active");
        assert_eq!(card["terminal_id"], t.as_str());
        let page = expect(
            app.get(
                &format!("/api/v1/binding-events?terminal_id={t}"),
                &app.admin,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let ours: Vec<&Value> = items(&page)
            .iter()
            .filter(|e| e["order_id"] == id.as_str())
            .collect();
        let mut kinds: Vec<(String, String)> = ours
            .iter()
            .map(|e| {
                assert_eq!(e["actor_id"], s.lead.id.as_str());
                (
                    e["kind"].as_str().unwrap().to_string(),
                    e["action"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                ("sim_terminal".to_string(), "bind".to_string()),
                ("terminal_vehicle".to_string(), "bind".to_string())
            ],
            "{page}"
        );
    }
    assert_eq!(order_bindings(app, &id, ""), 4);
    // the not-done vehicle got nothing
    assert_eq!(
        count_sql(
            app,
            &format!(
                "SELECT COUNT(*) AS n FROM terminals WHERE vehicle_id = '{}'",
                vehicle_ids[2]
            )
        ),
        0
    );

    // the manager closes it, once its money and its follow-up call are done
    s.settle_and_follow_up(&o).await;
    let o = get_order(app, &s.mgr, &id_of(&o)).await;
    let o = act(app, &s.mgr, &o, "close", json!({"comment": "已回访"})).await;
    assert_eq!(o["status"], "closed");
    assert!(o["closed_at"].is_string());
    assert_eq!(
        strs(&get_order(app, &s.mgr, &id).await["allowed_actions"]),
        Vec::<String>::new(),
        "nothing more to do on a closed order"
    );
    // the customer's archive (档案) lists the order
    let archive = expect(
        app.get(&format!("/api/v1/customers/{}/archive", s.customer), &s.mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(archive["orders"][0]["id"], id.as_str());
    assert_eq!(archive["orders"][0]["status"], "closed");

    let events = timeline(app, &id).await;
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[0]["actor_id"], s.agent_id.as_str());
    let steps = transitions(&events);
    let tail = [
        t("approve", "submitted", "approved"),
        t("assign", "approved", "assigned"),
        t("accept", "assigned", "accepted"),
        t("readiness", "accepted", "ready"),
        t("depart", "ready", "en_route"),
        t("arrive", "en_route", "on_site"),
        t("complete", "on_site", "completed"),
        t("close", "completed", "closed"),
    ];
    assert!(
        steps.ends_with(&tail),
        "transitions in order: {steps:?}\n{events:#?}"
    );
    let names = actions(&events);
    let arrive = names.iter().position(|a| a == "arrive").unwrap();
    let complete = names.iter().position(|a| a == "complete").unwrap();
    assert!(
        complete - arrive > 4,
        "the two installs, the not-done line and the sign-off are recorded: {names:?}"
    );
    for pair in events.windows(2) {
        assert!(ts(&pair[0]["at"]) <= ts(&pair[1]["at"]), "in time order");
    }
    for e in &events {
        assert!(e["id"].is_string() && e["actor_id"].is_string());
    }
    assert_eq!(
        events[names.iter().position(|a| a == "approve").unwrap()]["actor_id"],
        s.mgr_id.as_str()
    );
    assert_eq!(events[arrive]["actor_id"], s.lead.id.as_str());
    app.assert_kpi_rollup_matches();
}

// ------------------------------------------------------------------ 2. repair flows

#[tokio::test]
async fn repair_in_warranty_swaps_the_terminal_for_free() {
    let s = zz().await;
    let app = &s.app;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A12345")
            .await,
    );
    let purchased = (Utc::now() - Duration::days(60)).date_naive();
    let old = id_of(&terminal_with(app, 1, "JM-VL03", purchased).await);
    let sim = id_of(&app.create_sim(&app.admin, &app.zz.id, 1).await);
    fit(app, &old, &vehicle, &sim).await;
    let new = id_of(&app.create_terminal(&app.admin, &app.zz.id, 2).await);

    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"vehicle_id": vehicle}), "终端不定位"),
        )
        .await,
    )
    .await;
    let id = id_of(&o);
    assert_eq!(o["kind"], "repair");
    assert_eq!(o["status"], "submitted");
    assert_eq!(o["number"], format!("WX-ZZ-{}-000001", year()));
    assert_eq!(o["fault_symptoms"], "终端不定位");
    assert_eq!(o["urgency"], "urgent");
    assert_eq!(
        o["terminal_id"],
        old.as_str(),
        "the terminal in the vehicle"
    );
    assert_eq!(o["purchase_date"], purchased.to_string());
    assert_eq!(o["warranty_in"], true);
    let ends = purchased
        .checked_add_months(chrono::Months::new(24))
        .unwrap()
        .pred_opt()
        .unwrap();
    assert_eq!(o["warranty_ends_on"], ends.to_string());
    let lines = o["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["vehicle_id"], vehicle.as_str());
    assert_eq!(lines[0]["status"], "pending");
    let line_id = id_of(&lines[0]);

    let o = approve_and_assign(&s, &o, &s.lead, &[], 4).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{line_id}/terminal-swap"),
        json!({"new_imei": imei(2), "fault": "不定位"}),
    )
    .await;
    let l = line(&o, 0);
    assert_eq!(l["status"], "done");
    assert!(strs(&l["work"]).contains(&"terminal_swap".to_string()));
    assert_eq!(l["old_terminal_id"], old.as_str());
    assert_eq!(l["terminal_id"], new.as_str());
    assert_eq!(l["fault_tag"], "豫A12345 / 不定位");

    // the registry: old unit back for repair, new one in the vehicle, the SIM moved
    let t_old = get_terminal(app, &old).await;
    assert_eq!(t_old["status"], "in_repair");
    assert!(t_old["vehicle_id"].is_null());
    let t_new = get_terminal(app, &new).await;
    assert_eq!(t_new["status"], "installed");
    assert_eq!(t_new["vehicle_id"], vehicle.as_str());
    let card = get_sim(app, &sim).await;
    assert_eq!(card["terminal_id"], new.as_str());
    assert_eq!(card["status"], "active");
    // every move recorded on the order
    assert_eq!(
        order_bindings(
            app,
            &id,
            &format!(
                "AND terminal_id = '{old}' AND kind = 'terminal_vehicle' AND action = 'unbind'"
            )
        ),
        1
    );
    assert_eq!(
        order_bindings(
            app,
            &id,
            &format!("AND terminal_id = '{new}' AND kind = 'terminal_vehicle' AND action = 'bind'")
        ),
        1
    );
    assert_eq!(
        order_bindings(
            app,
            &id,
            &format!(
                "AND sim_id = '{sim}' AND terminal_id = '{new}' AND kind = 'sim_terminal' AND action = 'bind'"
            )
        ),
        1
    );

    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆"}),
    )
    .await;
    assert_eq!(o["has_signature"], false, "no image given");
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["status"], "completed");
    assert_eq!(o["fee_fen"], 0, "in warranty: free");
    assert_eq!(o["parts_total_fen"], 0);
    assert!(o["repair_seconds"].as_i64().unwrap() >= 0);
    assert!(o["wait_seconds"].as_i64().unwrap() >= 3 * 3600 - 5);
}

#[tokio::test]
async fn repair_out_of_warranty_swaps_the_sim_and_charges_parts_only() {
    let s = zz().await;
    let app = &s.app;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A54321")
            .await,
    );
    let purchased = NaiveDate::from_ymd_opt(2022, 1, 10).unwrap();
    let terminal = id_of(&terminal_with(app, 3, "GT06N", purchased).await);
    let old_sim = id_of(&app.create_sim(&app.admin, &app.zz.id, 3).await);
    fit(app, &terminal, &vehicle, &old_sim).await;
    let new_sim = id_of(&app.create_sim(&app.admin, &app.zz.id, 4).await);

    // the price list
    let antenna = app
        .created(
            "/api/v1/parts",
            &app.admin,
            &json!({"code": "P-ANT", "name": "GPS天线", "unit_price_fen": 3500}),
        )
        .await;
    assert_eq!(antenna["unit_price_fen"], 3500);
    app.created(
        "/api/v1/parts",
        &app.admin,
        &json!({"code": "P-PWR", "name": "电源线", "unit_price_fen": 1250}),
    )
    .await;
    let list = expect(
        app.get("/api/v1/parts", &s.lead.token).await,
        StatusCode::OK,
    )
    .await;
    let codes: Vec<&str> = items(&list)
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"P-ANT") && codes.contains(&"P-PWR"),
        "{list}"
    );

    // the call names the vehicle by its plate
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"plate_no": "豫A54321"}), "SIM卡无信号"),
        )
        .await,
    )
    .await;
    let id = id_of(&o);
    assert_eq!(o["terminal_id"], terminal.as_str());
    assert_eq!(o["warranty_in"], false);
    assert_eq!(o["warranty_ends_on"], "2023-01-09");
    assert_eq!(line(&o, 0)["vehicle_id"], vehicle.as_str());
    let line_id = id_of(line(&o, 0));

    let o = approve_and_assign(&s, &o, &s.lead, &[], 4).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{line_id}/sim-swap"),
        json!({"new_iccid": iccid(4)}),
    )
    .await;
    let l = line(&o, 0);
    assert_eq!(l["status"], "done");
    assert!(strs(&l["work"]).contains(&"sim_swap".to_string()));
    assert_eq!(l["old_sim_id"], old_sim.as_str());
    assert_eq!(l["sim_id"], new_sim.as_str());
    let old_card = get_sim(app, &old_sim).await;
    assert!(old_card["terminal_id"].is_null());
    assert_eq!(
        old_card["status"], "suspended",
        "the default for the removed SIM"
    );
    let new_card = get_sim(app, &new_sim).await;
    assert_eq!(new_card["terminal_id"], terminal.as_str());
    assert_eq!(new_card["status"], "active");
    assert_eq!(
        get_terminal(app, &terminal).await["vehicle_id"],
        vehicle.as_str()
    );
    assert_eq!(
        order_bindings(
            app,
            &id,
            &format!("AND sim_id = '{old_sim}' AND action = 'unbind'")
        ),
        1
    );
    assert_eq!(
        order_bindings(
            app,
            &id,
            &format!("AND sim_id = '{new_sim}' AND action = 'bind'")
        ),
        1
    );

    // two parts: 1 × 35.00 and 2 × 12.50
    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-ANT", "quantity": 1, "line_id": line_id}),
    )
    .await;
    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-PWR", "quantity": 2}),
    )
    .await;
    let parts = o["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{o}");
    let mut seen: Vec<(String, i64, i64, i64)> = parts
        .iter()
        .map(|p| {
            assert_eq!(p["recorded_by"], s.lead.id.as_str());
            (
                p["part_code"].as_str().unwrap().to_string(),
                p["quantity"].as_i64().unwrap(),
                p["unit_price_fen"].as_i64().unwrap(),
                p["amount_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("P-ANT".to_string(), 1, 3500, 3500),
            ("P-PWR".to_string(), 2, 1250, 2500)
        ]
    );
    let ant = parts.iter().find(|p| p["part_code"] == "P-ANT").unwrap();
    assert_eq!(ant["line_id"], line_id.as_str());
    assert_eq!(ant["part_name"], "GPS天线");

    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["status"], "completed");
    assert_eq!(o["parts_total_fen"], 6000);
    assert_eq!(o["fee_fen"], 6000, "out of warranty: parts only, no labour");
    app.assert_kpi_rollup_matches();
}

// ------------------------------------------------------------------ 3. authorization

#[tokio::test]
async fn orders_are_seen_and_acted_on_only_by_those_entitled() {
    let s = zz().await;
    let app = &s.app;
    let other = technician(app, &app.zz.id, true, true, (34.70, 113.60), false).await;

    // finance and technicians do not create orders
    let (_, finance) = app.user("finance", &app.zz.id).await;
    let before = app.snapshot();
    let body = install_body(&s.customer, json!([{"plate_no": "豫A20001"}]), true);
    for token in [&finance, &s.lead.token] {
        assert_problem(
            app.post(&format!("{ORDERS}/install"), token, &body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    app.assert_unchanged(&before);
    assert_eq!(
        app.count("vehicles"),
        0,
        "nothing registered by a refused request"
    );

    let o = install_order(&s, &["豫A20001"], true).await;
    let id = id_of(&o);
    let v = version_of(&o);

    // an agent may not approve; a manager of another center does not see the order
    assert_problem(
        post_action(app, &s.agent, &id, "approve", Some(v), None, &json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    assert_problem(
        app.get(&format!("{ORDERS}/{id}"), &bj_mgr).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        post_action(app, &bj_mgr, &id, "approve", Some(v), None, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let page = expect(app.get(ORDERS, &bj_mgr).await, StatusCode::OK).await;
    assert!(items(&page).iter().all(|x| x["id"] != id.as_str()));
    assert_eq!(
        version_of(&get_order(app, &s.mgr, &id).await),
        v,
        "nothing changed"
    );

    let o = approve_and_assign(&s, &o, &s.lead, &[&s.helper], 24).await;
    let v = version_of(&o);

    // another technician neither sees nor acts on it
    assert_problem(
        app.get(&format!("{ORDERS}/{id}"), &other.token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        post_action(app, &other.token, &id, "accept", Some(v), None, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let page = expect(app.get(ORDERS, &other.token).await, StatusCode::OK).await;
    assert!(items(&page).is_empty(), "{page}");
    // the lead and the helper see it in their lists
    for tech in [&s.lead, &s.helper] {
        let page = expect(app.get(ORDERS, &tech.token).await, StatusCode::OK).await;
        let ids: Vec<&str> = items(&page)
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str()]);
    }
    let page = expect(
        app.get(&format!("{ORDERS}?technician_id={}", s.helper.id), &s.mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 1);
    // the helper sees it but does not act for the lead
    let helper_view = get_order(app, &s.helper.token, &id).await;
    assert!(!strs(&helper_view["allowed_actions"]).contains(&"accept".to_string()));
    assert_problem(
        post_action(
            app,
            &s.helper.token,
            &id,
            "accept",
            Some(v),
            None,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        post_action(
            app,
            &finance,
            &id,
            "cancel",
            Some(v),
            None,
            &json!({"reason": "测试"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let o = get_order(app, &s.mgr, &id).await;
    assert_eq!(version_of(&o), v, "refused actions change nothing");
    assert_eq!(o["status"], "assigned");
    act(app, &s.lead.token, &o, "accept", json!({})).await;

    // an external contractor needs the manager's outsourcing reason
    let contractor = technician(app, &app.zz.id, true, false, (34.80, 113.70), true).await;
    let o2 = install_order(&s, &["豫A20002"], true).await;
    let o2 = act(app, &s.mgr, &o2, "approve", json!({})).await;
    let p = assert_problem(
        post_action(
            app,
            &s.mgr,
            &id_of(&o2),
            "assign",
            Some(version_of(&o2)),
            None,
            &json!({"lead_id": contractor.id, "scheduled_at": at(Duration::hours(3))}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let errors: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [(
            "outsourcing_reason".to_string(),
            "outsourcing_approval_required".to_string()
        )]
    );
    assert_eq!(
        get_order(app, &s.mgr, &id_of(&o2)).await["status"],
        "approved"
    );
    let o2 = act(
        app,
        &s.mgr,
        &o2,
        "assign",
        json!({"lead_id": contractor.id, "scheduled_at": at(Duration::hours(3)), "outsourcing_reason": "本中心技术员均已派满，客户急需"}),
    )
    .await;
    assert_eq!(o2["status"], "assigned");
    assert_eq!(o2["lead_technician_id"], contractor.id.as_str());
    assert_eq!(o2["outsourcing_reason"], "本中心技术员均已派满，客户急需");
    assert_eq!(o2["outsourcing_approved_by"], s.mgr_id.as_str());
}

// ------------------------------------------------------------------ 4. races

#[tokio::test]
async fn concurrent_approvals_let_exactly_one_through() {
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A30001"], true).await;
    let id = id_of(&o);
    let v = version_of(&o);
    let body = json!({"comment": "同意"});
    let (a, b) = tokio::join!(
        post_action(app, &s.mgr, &id, "approve", Some(v), None, &body),
        post_action(app, &s.mgr2, &id, "approve", Some(v), None, &body),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses[0], StatusCode::OK, "{statuses:?}");
    assert!(
        statuses[1] == StatusCode::CONFLICT || statuses[1] == StatusCode::PRECONDITION_FAILED,
        "{statuses:?}"
    );
    let o = get_order(app, &s.mgr, &id).await;
    assert_eq!(o["status"], "approved");
    assert_eq!(version_of(&o), v + 1);
    let events = timeline(app, &id).await;
    assert_eq!(
        actions(&events).iter().filter(|a| *a == "approve").count(),
        1,
        "{events:#?}"
    );
}

#[tokio::test]
async fn two_technicians_installing_the_same_terminal_bind_it_once() {
    let s = zz().await;
    let app = &s.app;
    let terminal = id_of(&app.create_terminal(&app.admin, &app.zz.id, 1).await);
    let sim_a = id_of(&app.create_sim(&app.admin, &app.zz.id, 1).await);
    let sim_b = id_of(&app.create_sim(&app.admin, &app.zz.id, 2).await);
    let a = install_order(&s, &["豫A40001"], true).await;
    let b = install_order(&s, &["豫A40002"], true).await;
    let a = approve_and_assign(&s, &a, &s.lead, &[], 3).await;
    let b = approve_and_assign(&s, &b, &s.helper, &[], 30).await;
    let a = go_on_site(app, &s.lead, &a).await;
    let b = go_on_site(app, &s.helper, &b).await;
    let (la, lb) = (id_of(line(&a, 0)), id_of(line(&b, 0)));
    let (ida, idb) = (id_of(&a), id_of(&b));
    let (pa_path, pb_path) = (format!("lines/{la}/install"), format!("lines/{lb}/install"));
    let (ba, bb) = (
        json!({"imei": imei(1), "iccid": iccid(1)}),
        json!({"imei": imei(1), "iccid": iccid(2)}),
    );
    let (ra, rb) = tokio::join!(
        post_action(
            app,
            &s.lead.token,
            &ida,
            &pa_path,
            Some(version_of(&a)),
            None,
            &ba
        ),
        post_action(
            app,
            &s.helper.token,
            &idb,
            &pb_path,
            Some(version_of(&b)),
            None,
            &bb
        ),
    );
    let (sa, sb) = (ra.status(), rb.status());
    let pa: Value = ra.json().await.unwrap();
    let pb: Value = rb.json().await.unwrap();
    let (winner, loser, loser_problem, loser_sim) = match (sa, sb) {
        (StatusCode::OK, StatusCode::CONFLICT) => (&a, &b, &pb, &sim_b),
        (StatusCode::CONFLICT, StatusCode::OK) => (&b, &a, &pa, &sim_a),
        other => panic!("exactly one install succeeds, the other 409: {other:?}\n{pa}\n{pb}"),
    };
    let code = loser_problem["code"].as_str().unwrap();
    assert!(
        ["terminal_already_bound", "terminal_not_installable"].contains(&code),
        "{loser_problem}"
    );
    let winner_vehicle = line(winner, 0)["vehicle_id"].as_str().unwrap().to_string();
    let t = get_terminal(app, &terminal).await;
    assert_eq!(t["status"], "installed");
    assert_eq!(t["vehicle_id"], winner_vehicle.as_str());
    assert_eq!(
        count_sql(
            app,
            &format!(
                "SELECT COUNT(*) AS n FROM binding_events WHERE terminal_id = '{terminal}' AND kind = 'terminal_vehicle' AND action = 'bind'"
            )
        ),
        1
    );
    // the loser's order, line and SIM are untouched
    let l = get_order(app, &app.admin, &id_of(loser)).await;
    assert_eq!(version_of(&l), version_of(loser));
    assert_eq!(line(&l, 0)["status"], "pending");
    let card = get_sim(app, loser_sim).await;
    assert_eq!(card["status"], "in_stock");
    assert!(card["terminal_id"].is_null());
    assert_eq!(order_bindings(app, &id_of(loser), ""), 0);
}

// ------------------------------------------------------------------ 5. idempotency

#[tokio::test]
async fn a_retried_action_with_the_same_idempotency_key_replays_the_first_answer() {
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A50001"], true).await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 3).await;
    let o = act(app, &s.lead.token, &o, "accept", json!({})).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "readiness",
        json!({"items": READINESS}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "depart", json!({})).await;
    let id = id_of(&o);
    let v = version_of(&o);
    let key = "arrive-7f3c2a9e-0001";
    let body = json!({"lat": 34.72, "lng": 113.70});

    let first = post_action(app, &s.lead.token, &id, "arrive", Some(v), Some(key), &body).await;
    let first_status = first.status();
    let first_body: Value = first.json().await.unwrap();
    assert_eq!(first_status, StatusCode::OK, "{first_body}");
    assert_eq!(first_body["status"], "on_site");
    assert_eq!(version_of(&first_body), v + 1);

    // the phone lost the answer and retries: same key, same body, now stale If-Match
    let retry = post_action(app, &s.lead.token, &id, "arrive", Some(v), Some(key), &body).await;
    let retry_status = retry.status();
    let retry_body: Value = retry.json().await.unwrap();
    assert_eq!(retry_status, first_status, "{retry_body}");
    assert_eq!(retry_body, first_body, "the first answer, replayed");

    let now = get_order(app, &s.lead.token, &id).await;
    assert_eq!(version_of(&now), v + 1, "bumped once");
    assert_eq!(now["status"], "on_site");
    assert_eq!(now["arrived_at"], first_body["arrived_at"]);
    let events = timeline(app, &id).await;
    assert_eq!(
        actions(&events).iter().filter(|a| *a == "arrive").count(),
        1
    );

    // the same key for another request body is refused
    assert_problem(
        post_action(
            app,
            &s.lead.token,
            &id,
            "arrive",
            Some(v),
            Some(key),
            &json!({"lat": 34.80, "lng": 113.70}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(version_of(&get_order(app, &s.lead.token, &id).await), v + 1);
    assert_eq!(timeline(app, &id).await.len(), events.len());
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_files_the_order_once() {
    let s = zz().await;
    let app = &s.app;
    let vehicles = json!([
        {"plate_no": "豫A50011", "driver": {"name": "李堃", "phone": "13912345678"}},
        {"plate_no": "豫A50012"}
    ]);
    let body = install_body(&s.customer, vehicles, true);
    let create = |kind: &'static str, key: &'static str, body: Value| {
        app.client
            .post(format!("{}{ORDERS}/{kind}", app.address))
            .bearer_auth(&s.agent)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let send = |key, body| create("install", key, body);
    let first = send("install-5d1e-0001", body.clone()).await.unwrap();
    let first = created_order(first).await;
    // the desk lost the answer and files again with the same key
    let again = send("install-5d1e-0001", body.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.headers()["etag"],
        format!("\"{}\"", version_of(&first)).as_str()
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer, replayed");
    let before = app.snapshot();
    // the same key for another request is refused and changes nothing
    let mut other = body.clone();
    other["notes"] = json!("另一张单");
    assert_problem(
        send("install-5d1e-0001", other).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    app.assert_unchanged(&before);
    let mine = expect(
        app.get(
            &format!("{ORDERS}?kind=install&customer_id={}", s.customer),
            &s.agent,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&mine).len(), 1, "{mine}");

    // a repair call too
    let vehicle = first["lines"][0]["vehicle_id"]
        .as_str()
        .unwrap()
        .to_string();
    let repair = repair_body(&s.customer, json!({"vehicle_id": vehicle}), "终端不定位");
    let post = |key| create("repair", key, repair.clone());
    let one = created_order(post("repair-5d1e-0001").await.unwrap()).await;
    let two = post("repair-5d1e-0001").await.unwrap();
    assert_eq!(two.headers()["idempotent-replayed"], "true");
    assert_eq!(two.json::<Value>().await.unwrap(), one);
    let repairs = expect(
        app.get(
            &format!("{ORDERS}?kind=repair&customer_id={}", s.customer),
            &s.agent,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&repairs).len(), 1, "{repairs}");
}

/// A technician's day moving at once on several orders while the dispatcher assigns them
/// more: every action answers 200. (On PostgreSQL the KPI rollup trigger and the
/// technician's row were locked in opposite orders by different actions: a deadlock, and
/// an action answered 500. Found by scripts/bench-lifecycle.)
#[tokio::test]
async fn one_technicians_concurrent_actions_never_deadlock() {
    let s = zz().await;
    let app = &s.app;
    let mut ready = Vec::new();
    let mut waiting = Vec::new();
    for i in 0..6 {
        let o = install_order(&s, &[&format!("豫A6{i:04}")], true).await;
        let o = approve_and_assign(&s, &o, &s.lead, &[], 4 + 3 * i).await;
        let o = act(app, &s.lead.token, &o, "accept", json!({})).await;
        ready.push(
            act(
                app,
                &s.lead.token,
                &o,
                "readiness",
                json!({"items": READINESS}),
            )
            .await,
        );
        waiting.push(install_order(&s, &[&format!("豫A7{i:04}")], true).await);
    }
    for round in 0..2 {
        let trips = ready.iter().map(|o| async {
            let o = act(app, &s.lead.token, o, "depart", json!({})).await;
            act(
                app,
                &s.lead.token,
                &o,
                "arrive",
                json!({"lat": 34.72, "lng": 113.70}),
            )
            .await
        });
        let assigns = waiting
            .iter()
            .enumerate()
            .map(|(i, o)| approve_and_assign(&s, o, &s.lead, &[], 30 + 3 * i as i64 + 40 * round));
        let (trips, assigned) = tokio::join!(
            futures_util::future::join_all(trips),
            futures_util::future::join_all(assigns)
        );
        for o in &trips {
            assert_eq!(o["status"], "on_site", "{o}");
        }
        for o in &assigned {
            assert_eq!(o["status"], "assigned", "{o}");
        }
        if round == 0 {
            // the next round: the ones just assigned get ready, new ones wait
            ready.clear();
            for o in assigned {
                let o = act(app, &s.lead.token, &o, "accept", json!({})).await;
                ready.push(
                    act(
                        app,
                        &s.lead.token,
                        &o,
                        "readiness",
                        json!({"items": READINESS}),
                    )
                    .await,
                );
            }
            waiting.clear();
            for i in 0..6 {
                waiting.push(install_order(&s, &[&format!("豫A8{i:04}")], true).await);
            }
        }
    }
}

// ------------------------------------------------------------------ 6. wrong transitions

#[tokio::test]
async fn wrong_transitions_and_preconditions_are_refused() {
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A60001", "豫A60002"], false).await;
    let id = id_of(&o);
    assert_eq!(o["status"], "draft");
    let v = version_of(&o);

    // approving a draft
    invalid_transition(
        post_action(app, &s.mgr, &id, "approve", Some(v), None, &json!({})).await,
        "draft",
    )
    .await;
    // no If-Match, a stale one
    assert_problem(
        post_action(app, &s.agent, &id, "submit", None, None, &json!({})).await,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    assert_problem(
        post_action(app, &s.agent, &id, "submit", Some(v + 5), None, &json!({})).await,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    let now = get_order(app, &s.agent, &id).await;
    assert_eq!(version_of(&now), v);
    assert_eq!(now["status"], "draft");
    assert_eq!(timeline(app, &id).await.len(), 1, "only the creation");

    let o = act(app, &s.agent, &o, "submit", json!({})).await;
    assert_eq!(o["status"], "submitted");
    let o = approve_and_assign(&s, &o, &s.lead, &[], 3).await;
    let o = act(app, &s.lead.token, &o, "accept", json!({})).await;

    // readiness needs all four items
    let p = assert_problem(
        post_action(
            app,
            &s.lead.token,
            &id,
            "readiness",
            Some(version_of(&o)),
            None,
            &json!({"items": ["info_verified", "tools", "spare_parts"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "readiness_incomplete",
    )
    .await;
    let _ = p;
    let now = get_order(app, &s.lead.token, &id).await;
    assert_eq!(now["status"], "accepted");
    assert_eq!(version_of(&now), version_of(&o));

    // departing before readiness is a wrong transition
    invalid_transition(
        post_action(
            app,
            &s.lead.token,
            &id,
            "depart",
            Some(version_of(&o)),
            None,
            &json!({}),
        )
        .await,
        "accepted",
    )
    .await;

    let o = act(
        app,
        &s.lead.token,
        &o,
        "readiness",
        json!({"items": READINESS}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "depart", json!({})).await;
    let o = act(app, &s.lead.token, &o, "arrive", json!({})).await;

    // completing with both lines pending and no sign-off
    let p = assert_problem(
        post_action(
            app,
            &s.lead.token,
            &id,
            "complete",
            Some(version_of(&o)),
            None,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "completion_blocked",
    )
    .await;
    let blockers = strs(&p["blockers"]);
    assert!(blockers.contains(&"lines_unresolved".to_string()), "{p}");
    assert!(blockers.contains(&"not_signed_off".to_string()), "{p}");
    assert_eq!(
        get_order(app, &s.lead.token, &id).await["status"],
        "on_site"
    );

    // one line resolved, signed: the other line still blocks
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{}/not-done", id_of(line(&o, 0))),
        json!({"reason": "客户拒绝安装"}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆"}),
    )
    .await;
    let p = assert_problem(
        post_action(
            app,
            &s.lead.token,
            &id,
            "complete",
            Some(version_of(&o)),
            None,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "completion_blocked",
    )
    .await;
    assert_eq!(strs(&p["blockers"]), ["lines_unresolved"]);
    assert_eq!(
        version_of(&get_order(app, &s.lead.token, &id).await),
        version_of(&o)
    );

    // the agent may no longer cancel an order on site
    invalid_transition(
        post_action(
            app,
            &s.agent,
            &id,
            "cancel",
            Some(version_of(&o)),
            None,
            &json!({"reason": "客户取消"}),
        )
        .await,
        "on_site",
    )
    .await;
}

// ------------------------------------------------------------------ 7. numbers

#[tokio::test]
async fn order_numbers_are_gapless_per_center_kind_and_year() {
    let s = zz().await;
    let app = &s.app;
    let y = year();
    let a = install_order(&s, &["豫A70001"], false).await;
    let b = install_order(&s, &["豫A70002"], true).await;
    assert_eq!(a["number"], format!("AZ-ZZ-{y}-000001"));
    assert_eq!(b["number"], format!("AZ-ZZ-{y}-000002"));

    // a refused request takes no number
    let refused = app
        .post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!([]), true),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // repairs count apart
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A70009")
            .await,
    );
    let r = created_order(
        app.post(&format!("{ORDERS}/repair"), &s.agent, &{
            let mut b = repair_body(&s.customer, json!({"vehicle_id": vehicle}), "终端不上线");
            b["product_model"] = json!("GT06N");
            b["purchase_date"] = json!("2026-01-05");
            b
        })
        .await,
    )
    .await;
    assert_eq!(r["number"], format!("WX-ZZ-{y}-000001"));
    // no terminal in the vehicle: the warranty comes from the reported purchase date
    assert!(r["terminal_id"].is_null());
    assert_eq!(r["product_model"], "GT06N");
    assert_eq!(r["purchase_date"], "2026-01-05");

    let c = install_order(&s, &["豫A70003"], true).await;
    assert_eq!(c["number"], format!("AZ-ZZ-{y}-000003"));

    // another center counts apart
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let bj_customer = id_of(
        &app.create_customer(&app.admin, &app.bj.id, "北京顺达运输")
            .await,
    );
    let d = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &bj_agent,
            &install_body(&bj_customer, json!([{"plate_no": "京A70001"}]), true),
        )
        .await,
    )
    .await;
    assert_eq!(d["number"], format!("AZ-BJ-{y}-000001"));
    assert_eq!(d["center_id"], app.bj.id.as_str());
}

// ------------------------------------------------------------------ more of the spec

#[tokio::test]
async fn a_lead_booked_within_two_hours_is_busy_unless_double_booking_is_allowed() {
    let s = zz().await;
    let app = &s.app;
    let a = install_order(&s, &["豫A80001"], true).await;
    let a = act(app, &s.mgr, &a, "approve", json!({})).await;
    let base = Utc::now() + Duration::hours(48);
    let when = |h: i64| (base + Duration::hours(h)).to_rfc3339_opts(SecondsFormat::Secs, true);
    act(
        app,
        &s.mgr,
        &a,
        "assign",
        json!({"lead_id": s.lead.id, "scheduled_at": when(0)}),
    )
    .await;

    let b = install_order(&s, &["豫A80002"], true).await;
    let b = act(app, &s.mgr, &b, "approve", json!({})).await;
    assert_problem(
        post_action(
            app,
            &s.mgr,
            &id_of(&b),
            "assign",
            Some(version_of(&b)),
            None,
            &json!({"lead_id": s.lead.id, "scheduled_at": when(1)}),
        )
        .await,
        StatusCode::CONFLICT,
        "technician_busy",
    )
    .await;
    assert_eq!(
        get_order(app, &s.mgr, &id_of(&b)).await["status"],
        "approved"
    );
    let b = act(
        app,
        &s.mgr,
        &b,
        "assign",
        json!({"lead_id": s.lead.id, "scheduled_at": when(1), "allow_double_booking": true}),
    )
    .await;
    assert_eq!(b["status"], "assigned");

    // three hours apart is not a clash
    let c = install_order(&s, &["豫A80003"], true).await;
    let c = act(app, &s.mgr, &c, "approve", json!({})).await;
    act(
        app,
        &s.mgr,
        &c,
        "assign",
        json!({"lead_id": s.lead.id, "scheduled_at": when(4)}),
    )
    .await;

    // a technician without the install skill cannot lead an install
    let repairer = technician(app, &app.zz.id, false, true, (34.72, 113.70), false).await;
    let d = install_order(&s, &["豫A80004"], true).await;
    let d = act(app, &s.mgr, &d, "approve", json!({})).await;
    let res = post_action(
        app,
        &s.mgr,
        &id_of(&d),
        "assign",
        Some(version_of(&d)),
        None,
        &json!({"lead_id": repairer.id, "scheduled_at": when(20)}),
    )
    .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(
        get_order(app, &s.mgr, &id_of(&d)).await["status"],
        "approved"
    );
}

#[tokio::test]
async fn candidates_are_skilled_technicians_nearest_first() {
    let s = zz().await;
    let app = &s.app;
    // the site is at (34.72, 113.70)
    let near = technician(app, &app.zz.id, true, true, (34.7205, 113.7005), false).await;
    let far = technician(app, &app.zz.id, true, true, (35.30, 114.40), false).await;
    let unskilled = technician(app, &app.zz.id, false, true, (34.7201, 113.7001), false).await;
    let o = install_order(&s, &["豫A81001"], true).await;
    let o = act(app, &s.mgr, &o, "approve", json!({})).await;
    for token in [&s.mgr, &s.agent] {
        let page = expect(
            app.get(
                &format!(
                    "{ORDERS}/{}/candidates?limit=10&scheduled_at={}",
                    id_of(&o),
                    at(Duration::hours(24)).replace('+', "%2B")
                ),
                token,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let list = items(&page);
        let ids: Vec<&str> = list
            .iter()
            .map(|c| c["technician_id"].as_str().unwrap())
            .collect();
        assert!(
            !ids.contains(&unskilled.id.as_str()),
            "lacks the skill: {page}"
        );
        let pos = |id: &str| {
            ids.iter()
                .position(|x| *x == id)
                .unwrap_or_else(|| panic!("{id} missing: {page}"))
        };
        assert!(pos(&near.id) < pos(&far.id), "nearest first: {page}");
        let n = &list[pos(&near.id)];
        assert!(n["distance_km"].as_f64().unwrap() < 1.0, "{n}");
        assert_eq!(n["skill_match"], true);
        assert_eq!(n["external"], false);
        assert!(n["score"].is_number());
        assert!(n["jobs_today"].is_number());
        assert!(n["available"].is_boolean());
        assert!(n["name"].is_string());
        assert!(
            n["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r.is_string())
        );
        assert!(list[pos(&far.id)]["distance_km"].as_f64().unwrap() > 50.0);
    }
    assert_problem(
        app.get(&format!("{ORDERS}/{}/candidates", id_of(&o)), &s.lead.token)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

/// Issue 14 item 7: a contractor 0.35 km from the site came before an idle own technician
/// 22 km away. Every own technician free at the time comes before any contractor.
#[tokio::test]
async fn a_near_contractor_comes_after_every_free_own_technician() {
    let s = zz().await;
    let app = &s.app;
    // the site is at (34.72, 113.70); 0.35 km east and 22 km north of it
    let contractor = technician(app, &app.zz.id, true, true, (34.72, 113.70383), true).await;
    let own_far = technician(app, &app.zz.id, true, true, (34.91785, 113.70), false).await;
    let o = install_order(&s, &["豫A81002"], true).await;
    let o = act(app, &s.mgr, &o, "approve", json!({})).await;
    let page = expect(
        app.get(
            &format!(
                "{ORDERS}/{}/candidates?limit=10&scheduled_at={}",
                id_of(&o),
                at(Duration::hours(24)).replace('+', "%2B")
            ),
            &s.mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let list = items(&page);
    let ids: Vec<&str> = list
        .iter()
        .map(|c| c["technician_id"].as_str().unwrap())
        .collect();
    let pos = |id: &str| {
        ids.iter()
            .position(|x| *x == id)
            .unwrap_or_else(|| panic!("{id} missing: {page}"))
    };
    let c = &list[pos(&contractor.id)];
    let f = &list[pos(&own_far.id)];
    assert!(c["distance_km"].as_f64().unwrap() < 0.5, "{c}");
    assert!(
        (f["distance_km"].as_f64().unwrap() - 22.0).abs() < 0.2,
        "{f}"
    );
    assert_eq!(c["external"], true);
    // the contractor is last: after the 22 km own technician and both ZZ staff
    assert_eq!(pos(&contractor.id), ids.len() - 1, "{page}");
    assert!(pos(&own_far.id) < pos(&contractor.id), "{page}");
    assert!(pos(&s.lead.id) < pos(&contractor.id), "{page}");
}

#[tokio::test]
async fn side_ways_reject_resubmit_decline_hold_resume_reassign_cancel() {
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A82001"], true).await;
    let id = id_of(&o);
    let o = act(app, &s.mgr, &o, "reject", json!({"reason": "车辆信息不全"})).await;
    assert_eq!(o["status"], "rejected");
    assert_eq!(o["reject_reason"], "车辆信息不全");
    let o = act(app, &s.agent, &o, "submit", json!({})).await;
    assert_eq!(o["status"], "submitted");
    let o = approve_and_assign(&s, &o, &s.lead, &[], 5).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "decline",
        json!({"reason": "当天休假"}),
    )
    .await;
    assert_eq!(o["status"], "approved");
    // the declining technician is off the order
    assert_problem(
        app.get(&format!("{ORDERS}/{id}"), &s.lead.token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 6).await;
    let o = act(app, &s.lead.token, &o, "accept", json!({})).await;
    let o = act(app, &s.mgr, &o, "hold", json!({"reason": "等待配件"})).await;
    assert_eq!(o["status"], "on_hold");
    assert_eq!(o["held_from"], "accepted");
    let o = act(app, &s.lead.token, &o, "resume", json!({})).await;
    assert_eq!(o["status"], "accepted");
    assert!(o["held_from"].is_null());
    let o = act(
        app,
        &s.mgr,
        &o,
        "reassign",
        json!({"lead_id": s.helper.id, "scheduled_at": at(Duration::hours(30))}),
    )
    .await;
    assert_eq!(o["status"], "assigned");
    assert_eq!(o["lead_technician_id"], s.helper.id.as_str());
    // the agent cannot cancel an assigned order; the manager can
    invalid_transition(
        post_action(
            app,
            &s.agent,
            &id,
            "cancel",
            Some(version_of(&o)),
            None,
            &json!({"reason": "客户取消"}),
        )
        .await,
        "assigned",
    )
    .await;
    let o = act(app, &s.mgr, &o, "cancel", json!({"reason": "客户取消安装"})).await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["cancel_reason"], "客户取消安装");
    let steps = transitions(&timeline(app, &id).await);
    assert!(
        steps.ends_with(&[
            t("reject", "submitted", "rejected"),
            t("submit", "rejected", "submitted"),
            t("approve", "submitted", "approved"),
            t("assign", "approved", "assigned"),
            t("decline", "assigned", "approved"),
            t("assign", "approved", "assigned"),
            t("accept", "assigned", "accepted"),
            t("hold", "accepted", "on_hold"),
            t("resume", "on_hold", "accepted"),
            t("reassign", "accepted", "assigned"),
            t("cancel", "assigned", "cancelled"),
        ]),
        "{steps:?}"
    );
    app.assert_kpi_rollup_matches();
}

#[tokio::test]
async fn verbal_approval_is_recorded_on_site_and_confirmed_by_the_manager() {
    let s = zz().await;
    let app = &s.app;
    app.created(
        "/api/v1/parts",
        &app.admin,
        &json!({"code": "P-RLY", "name": "继电器", "unit_price_fen": 4800}),
    )
    .await;
    let o = install_order(&s, &["豫A83001"], true).await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 3).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let id = id_of(&o);

    // the approver must be a manager of the center
    let res = post_action(
        app,
        &s.lead.token,
        &id,
        "verbal-approvals",
        Some(version_of(&o)),
        None,
        &json!({"approver_id": s.agent_id, "content": "同意使用备用继电器"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["errors"][0]["code"], "not_an_approver", "{p}");
    let o = record(
        app,
        &s.lead.token,
        &o,
        "verbal-approvals",
        json!({"approver_id": s.mgr_id, "content": "同意使用备用继电器"}),
    )
    .await;
    let va = &o["verbal_approvals"].as_array().unwrap()[0];
    assert_eq!(va["approver_id"], s.mgr_id.as_str());
    assert_eq!(va["content"], "同意使用备用继电器");
    assert_eq!(va["recorded_by"], s.lead.id.as_str());
    assert!(va["confirmed_by"].is_null());
    let vid = id_of(va);

    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-RLY", "quantity": 1, "verbal_approval_id": vid}),
    )
    .await;
    assert_eq!(o["parts"][0]["verbal_approval_id"], vid.as_str());
    assert_eq!(o["parts"][0]["amount_fen"], 4800);

    // the technician cannot confirm; the manager does
    assert_problem(
        post_action(
            app,
            &s.lead.token,
            &id,
            &format!("verbal-approvals/{vid}/confirm"),
            Some(version_of(&o)),
            None,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let o = record(
        app,
        &s.mgr,
        &o,
        &format!("verbal-approvals/{vid}/confirm"),
        json!({}),
    )
    .await;
    let va = &o["verbal_approvals"][0];
    assert_eq!(va["confirmed_by"], s.mgr_id.as_str());
    assert!(va["confirmed_at"].is_string());

    // an install's fee is its parts total
    app.create_terminal(&app.admin, &app.zz.id, 1).await;
    app.create_sim(&app.admin, &app.zz.id, 1).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{}/install", id_of(line(&o, 0))),
        json!({"imei": imei(1), "iccid": iccid(1)}),
    )
    .await;
    assert_eq!(line(&o, 0)["status"], "done");
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆"}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["parts_total_fen"], 4800);
    assert_eq!(o["fee_fen"], 4800);
}

#[tokio::test]
async fn a_retry_with_a_refreshed_if_match_still_replays_the_first_answer() {
    // spec: "a retry with the same key and same body returns the first response"; only a
    // different *body* is `idempotency_key_reused`. A client that lost the answer, re-read
    // the order and retried with its new ETag sends the same key and the same body.
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A51001"], true).await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 3).await;
    let o = act(app, &s.lead.token, &o, "accept", json!({})).await;
    let id = id_of(&o);
    let v = version_of(&o);
    let body = json!({"items": READINESS});
    let key = "readiness-0b1d-0002";
    let first = expect(
        post_action(
            app,
            &s.lead.token,
            &id,
            "readiness",
            Some(v),
            Some(key),
            &body,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let retry = post_action(
        app,
        &s.lead.token,
        &id,
        "readiness",
        Some(v + 1),
        Some(key),
        &body,
    )
    .await;
    let retry = expect(retry, StatusCode::OK).await;
    assert_eq!(retry, first);
    assert_eq!(version_of(&get_order(app, &s.lead.token, &id).await), v + 1);
}

#[tokio::test]
async fn a_double_tap_with_one_idempotency_key_acts_once_and_never_answers_412() {
    // the phone sends the same request twice before the first answer arrives: the second
    // gets the first answer, or a retryable "in progress" conflict — not a stale-version
    // error that tells the technician their arrival was refused.
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A52001"], true).await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 3).await;
    let o = act(app, &s.lead.token, &o, "accept", json!({})).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "readiness",
        json!({"items": READINESS}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "depart", json!({})).await;
    let id = id_of(&o);
    let v = version_of(&o);
    let body = json!({"lat": 34.72, "lng": 113.70});
    let key = "arrive-double-tap";
    let (a, b) = tokio::join!(
        post_action(app, &s.lead.token, &id, "arrive", Some(v), Some(key), &body),
        post_action(app, &s.lead.token, &id, "arrive", Some(v), Some(key), &body),
    );
    let (sa, sb) = (a.status(), b.status());
    let ta = a.text().await.unwrap();
    let tb = b.text().await.unwrap();
    for (st, text) in [(sa, &ta), (sb, &tb)] {
        assert!(
            st == StatusCode::OK
                || (st == StatusCode::CONFLICT && text.contains("idempotency_key_in_use")),
            "{st} {text}"
        );
    }
    if sa == StatusCode::OK && sb == StatusCode::OK {
        assert_eq!(ta, tb, "the same answer");
    }
    assert_eq!(version_of(&get_order(app, &s.lead.token, &id).await), v + 1);
    let events = timeline(app, &id).await;
    assert_eq!(
        actions(&events).iter().filter(|a| *a == "arrive").count(),
        1
    );
}

#[tokio::test]
async fn installing_a_terminal_or_sim_bound_elsewhere_changes_nothing() {
    let s = zz().await;
    let app = &s.app;
    let elsewhere = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A90009")
            .await,
    );
    let busy_t = id_of(&app.create_terminal(&app.admin, &app.zz.id, 1).await);
    let busy_s = id_of(&app.create_sim(&app.admin, &app.zz.id, 1).await);
    fit(app, &busy_t, &elsewhere, &busy_s).await;
    let free_t = id_of(&app.create_terminal(&app.admin, &app.zz.id, 2).await);
    let free_s = id_of(&app.create_sim(&app.admin, &app.zz.id, 2).await);
    // a cancelled SIM
    let dead = app.create_sim(&app.admin, &app.zz.id, 3).await;
    expect(
        app.patch(
            &format!("/api/v1/sims/{}", id_of(&dead)),
            &app.admin,
            Some(version_of(&dead)),
            &json!({"status": "cancelled"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let o = install_order(&s, &["豫A90001"], true).await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 3).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let id = id_of(&o);
    let path = format!("lines/{}/install", id_of(line(&o, 0)));
    let before = app.snapshot();
    let refused = [
        (
            json!({"imei": imei(1), "iccid": iccid(2)}),
            vec!["terminal_already_bound", "terminal_not_installable"],
        ),
        (
            json!({"imei": imei(2), "iccid": iccid(1)}),
            vec!["sim_already_bound"],
        ),
        (
            json!({"imei": imei(2), "iccid": iccid(3)}),
            vec!["sim_not_usable"],
        ),
    ];
    for (body, codes) in refused {
        let res = post_action(
            app,
            &s.lead.token,
            &id,
            &path,
            Some(version_of(&o)),
            None,
            &body,
        )
        .await;
        let p = expect(res, StatusCode::CONFLICT).await;
        assert!(codes.contains(&p["code"].as_str().unwrap()), "{body}: {p}");
        app.assert_unchanged_because(&before, format_args!("{body} changed something"));
    }
    let now = get_order(app, &s.lead.token, &id).await;
    assert_eq!(version_of(&now), version_of(&o));
    assert_eq!(line(&now, 0)["status"], "pending");
    let t = get_terminal(app, &free_t).await;
    assert_eq!(t["status"], "in_stock");
    assert!(t["vehicle_id"].is_null());
    assert!(get_sim(app, &free_s).await["terminal_id"].is_null());
    assert_eq!(
        get_terminal(app, &busy_t).await["vehicle_id"],
        elsewhere.as_str()
    );
    assert_eq!(get_sim(app, &busy_s).await["terminal_id"], busy_t.as_str());

    // the free pair goes in
    let o = act(
        app,
        &s.lead.token,
        &o,
        &path,
        json!({"imei": imei(2), "iccid": iccid(2)}),
    )
    .await;
    assert_eq!(line(&o, 0)["terminal_id"], free_t.as_str());
    // a helper or another technician may not record line work
    let res = post_action(
        app,
        &s.helper.token,
        &id,
        &path,
        Some(version_of(&o)),
        None,
        &json!({"imei": imei(2), "iccid": iccid(2)}),
    )
    .await;
    assert!(res.status() == StatusCode::NOT_FOUND || res.status() == StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_warranty_verdict_is_as_of_the_call() {
    let s = zz().await;
    let app = &s.app;
    // GT06N: 12 months from 2025-06-01, covered through 2026-05-31
    let v1 = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A91001")
            .await,
    );
    let v2 = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A91002")
            .await,
    );
    let t1 = id_of(&app.create_terminal(&app.admin, &app.zz.id, 1).await);
    let t2 = id_of(&app.create_terminal(&app.admin, &app.zz.id, 2).await);
    let s1 = id_of(&app.create_sim(&app.admin, &app.zz.id, 1).await);
    let s2 = id_of(&app.create_sim(&app.admin, &app.zz.id, 2).await);
    fit(app, &t1, &v1, &s1).await;
    fit(app, &t2, &v2, &s2).await;
    for (vehicle, called, inside) in [
        (&v1, "2026-05-31T10:00:00+08:00", true),
        (&v2, "2026-06-01T10:00:00+08:00", false),
    ] {
        let mut body = repair_body(&s.customer, json!({"vehicle_id": vehicle}), "终端不上线");
        body["requested_at"] = json!(called);
        let o = created_order(app.post(&format!("{ORDERS}/repair"), &s.agent, &body).await).await;
        assert_eq!(o["warranty_ends_on"], "2026-05-31", "{called}");
        assert_eq!(o["warranty_in"], inside, "{called}");
        assert_eq!(ts(&o["requested_at"]), ts(&json!(called)));
    }
    // a plate that is not the customer's vehicle is refused
    let other = id_of(
        &app.create_customer(&app.admin, &app.zz.id, "别家客户")
            .await,
    );
    app.create_vehicle(&app.admin, &other, "豫A91003").await;
    let before = app.count("work_orders");
    for plate in ["豫A91003", "豫A91004"] {
        let res = app
            .post(
                &format!("{ORDERS}/repair"),
                &s.agent,
                &repair_body(&s.customer, json!({"plate_no": plate}), "不定位"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{plate}");
    }
    // fault symptoms are required
    let mut body = repair_body(&s.customer, json!({"vehicle_id": v1}), "x");
    body.as_object_mut().unwrap().remove("fault_symptoms");
    assert_eq!(
        app.post(&format!("{ORDERS}/repair"), &s.agent, &body)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.count("work_orders"), before);
}

#[tokio::test]
async fn orders_are_listed_by_status_kind_and_customer_page_by_page() {
    let s = zz().await;
    let app = &s.app;
    let a = install_order(&s, &["豫A92001"], false).await;
    let b = install_order(&s, &["豫A92002"], true).await;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A92003")
            .await,
    );
    let r = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"vehicle_id": vehicle}), "不定位"),
        )
        .await,
    )
    .await;
    let ids = |page: &Value| -> Vec<String> { items(page).iter().map(id_of).collect() };
    let page = expect(
        app.get(
            &format!("{ORDERS}?status=draft,submitted&kind=install"),
            &s.mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mut got = ids(&page);
    got.sort();
    let mut want = vec![id_of(&a), id_of(&b)];
    want.sort();
    assert_eq!(got, want);
    assert!(items(&page)[0]["number"].is_string());
    let page = expect(
        app.get(&format!("{ORDERS}?kind=repair"), &s.mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page), [id_of(&r)]);
    let page = expect(
        app.get(&format!("{ORDERS}?status=draft"), &s.mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page), [id_of(&a)]);
    let page = expect(
        app.get(&format!("{ORDERS}?customer_id={}", s.customer), &s.agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page).len(), 3);
    let other = id_of(
        &app.create_customer(&app.admin, &app.zz.id, "别家客户")
            .await,
    );
    let page = expect(
        app.get(&format!("{ORDERS}?customer_id={other}"), &s.agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(items(&page).is_empty());

    // one by one with the cursor
    let mut seen = Vec::new();
    let mut url = format!("{ORDERS}?limit=1");
    loop {
        let page = expect(app.get(&url, &s.mgr).await, StatusCode::OK).await;
        assert!(items(&page).len() <= 1);
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{ORDERS}?limit=1&cursor={c}"),
            None => break,
        }
        assert!(seen.len() <= 3, "the cursor loops: {seen:?}");
    }
    seen.sort();
    let mut all = vec![id_of(&a), id_of(&b), id_of(&r)];
    all.sort();
    assert_eq!(seen, all);
}

#[tokio::test]
async fn concurrent_creations_take_consecutive_numbers() {
    let s = zz().await;
    let app = &s.app;
    let y = year();
    let bodies: Vec<Value> = (0..4)
        .map(|i| {
            install_body(
                &s.customer,
                json!([{"plate_no": format!("豫A9300{i}")}]),
                true,
            )
        })
        .collect();
    let path = format!("{ORDERS}/install");
    let (a, b, c, d) = tokio::join!(
        app.post(&path, &s.agent, &bodies[0]),
        app.post(&path, &s.agent, &bodies[1]),
        app.post(&path, &s.mgr, &bodies[2]),
        app.post(&path, &s.mgr2, &bodies[3]),
    );
    let mut numbers = Vec::new();
    for res in [a, b, c, d] {
        numbers.push(
            created_order(res).await["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    numbers.sort();
    let want: Vec<String> = (1..=4).map(|n| format!("AZ-ZZ-{y}-{n:06}")).collect();
    assert_eq!(numbers, want);
}

#[tokio::test]
async fn the_install_vehicle_list_is_checked_and_registered_plates_are_reused() {
    let s = zz().await;
    let app = &s.app;
    let known = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A94001")
            .await,
    );
    let other = id_of(
        &app.create_customer(&app.admin, &app.zz.id, "别家客户")
            .await,
    );
    let foreign = id_of(&app.create_vehicle(&app.admin, &other, "豫A94002").await);
    let path = format!("{ORDERS}/install");

    // a plate already registered to the customer is that vehicle, not a new one
    let vehicles = app.count("vehicles");
    let o = created_order(
        app.post(
            &path,
            &s.agent,
            &install_body(&s.customer, json!([{"plate_no": "豫A94001"}]), true),
        )
        .await,
    )
    .await;
    assert_eq!(line(&o, 0)["vehicle_id"], known.as_str());
    assert_eq!(app.count("vehicles"), vehicles);

    let before = app.snapshot();
    let refused = [
        ("empty list", json!([])),
        (
            "another customer's vehicle",
            json!([{"vehicle_id": foreign}]),
        ),
        (
            "another customer's plate",
            json!([{"plate_no": "豫A94002"}]),
        ),
        (
            "the same vehicle twice",
            json!([{"vehicle_id": known}, {"plate_no": "豫A94001"}]),
        ),
        (
            "the same new plate twice",
            json!([{"plate_no": "豫A94003"}, {"plate_no": "豫A94003"}]),
        ),
        ("a bad plate", json!([{"plate_no": "ABC123"}])),
        (
            "neither id nor plate",
            json!([{"driver": {"name": "张三", "phone": "13700001111"}}]),
        ),
        (
            "201 vehicles",
            json!(
                (0..201)
                    .map(|i| json!({"plate_no": format!("豫B{:05}", i)}))
                    .collect::<Vec<_>>()
            ),
        ),
    ];
    for (what, vehicles) in refused {
        let res = app
            .post(&path, &s.agent, &install_body(&s.customer, vehicles, true))
            .await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT,
            "{what}: {status} {text}"
        );
        app.assert_unchanged_because(&before, format_args!("{what} changed something"));
    }

    // 200 vehicles is the most an order takes
    let many: Vec<Value> = (0..200)
        .map(|i| json!({"plate_no": format!("豫C{:05}", i)}))
        .collect();
    let o = created_order(
        app.post(
            &path,
            &s.agent,
            &install_body(&s.customer, json!(many), false),
        )
        .await,
    )
    .await;
    assert_eq!(o["lines"].as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn assignment_needs_active_skilled_technicians_of_the_center() {
    let s = zz().await;
    let app = &s.app;
    let bj_tech = technician(app, &app.bj.id, true, true, (39.9, 116.4), false).await;
    let idle = technician(app, &app.zz.id, true, true, (34.7, 113.6), false).await;
    let p = app
        .get(&format!("/api/v1/technicians/{}", idle.id), &app.admin)
        .await;
    let profile = expect(p, StatusCode::OK).await;
    expect(
        app.patch(
            &format!("/api/v1/technicians/{}", idle.id),
            &app.admin,
            Some(version_of(&profile)),
            &json!({"active": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (agent_id, _) = app.user("agent", &app.zz.id).await;
    let o = install_order(&s, &["豫A95001"], true).await;
    let o = act(app, &s.mgr, &o, "approve", json!({})).await;
    let id = id_of(&o);
    let when = at(Duration::hours(10));
    for (what, body) in [
        (
            "lead of another center",
            json!({"lead_id": bj_tech.id, "scheduled_at": when}),
        ),
        (
            "inactive lead",
            json!({"lead_id": idle.id, "scheduled_at": when}),
        ),
        (
            "lead not a technician",
            json!({"lead_id": agent_id, "scheduled_at": when}),
        ),
        (
            "helper of another center",
            json!({"lead_id": s.lead.id, "helper_ids": [bj_tech.id], "scheduled_at": when}),
        ),
        (
            "lead also helper",
            json!({"lead_id": s.lead.id, "helper_ids": [s.lead.id], "scheduled_at": when}),
        ),
    ] {
        let res = post_action(
            app,
            &s.mgr,
            &id,
            "assign",
            Some(version_of(&o)),
            None,
            &body,
        )
        .await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT,
            "{what}: {status} {text}"
        );
        let now = get_order(app, &s.mgr, &id).await;
        assert_eq!(now["status"], "approved", "{what}");
        assert_eq!(version_of(&now), version_of(&o), "{what}");
        assert!(now["technicians"].as_array().unwrap().is_empty(), "{what}");
    }
}

#[tokio::test]
async fn recorded_parts_keep_the_price_of_the_day() {
    let s = zz().await;
    let app = &s.app;
    let mgr = &s.mgr;
    assert_problem(
        app.post(
            "/api/v1/parts",
            mgr,
            &json!({"code": "P-X", "name": "熔断器", "unit_price_fen": 500}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let fuse = app
        .created(
            "/api/v1/parts",
            &app.admin,
            &json!({"code": "P-FUSE", "name": "熔断器", "unit_price_fen": 500}),
        )
        .await;
    let o = install_order(&s, &["豫A96001"], true).await;
    let o = approve_and_assign(&s, &o, &s.lead, &[&s.helper], 3).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let id = id_of(&o);
    // only the lead records parts, and only known parts
    let res = post_action(
        app,
        &s.helper.token,
        &id,
        "parts",
        Some(version_of(&o)),
        None,
        &json!({"part_code": "P-FUSE", "quantity": 1}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for bad in [
        json!({"part_code": "P-NONE", "quantity": 1}),
        json!({"part_code": "P-FUSE", "quantity": 0}),
    ] {
        let res = post_action(
            app,
            &s.lead.token,
            &id,
            "parts",
            Some(version_of(&o)),
            None,
            &bad,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-FUSE", "quantity": 3}),
    )
    .await;
    expect(
        app.patch(
            &format!("/api/v1/parts/{}", id_of(&fuse)),
            &app.admin,
            Some(version_of(&fuse)),
            &json!({"unit_price_fen": 900}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // parts are recorded while on hold too
    let o = act(
        app,
        &s.lead.token,
        &o,
        "hold",
        json!({"reason": "等待配件"}),
    )
    .await;
    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-FUSE", "quantity": 1}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "resume", json!({})).await;
    assert_eq!(o["status"], "on_site");
    let amounts: Vec<(i64, i64)> = o["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["unit_price_fen"].as_i64().unwrap(),
                p["amount_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut amounts = amounts;
    amounts.sort();
    assert_eq!(amounts, [(500, 1500), (900, 900)]);
    app.create_terminal(&app.admin, &app.zz.id, 1).await;
    app.create_sim(&app.admin, &app.zz.id, 1).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{}/install", id_of(line(&o, 0))),
        json!({"imei": imei(1), "iccid": iccid(1)}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆"}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["parts_total_fen"], 2400);
    assert_eq!(o["fee_fen"], 2400);
}

/// `allowed_actions` names the actions as the spec and the endpoints do
/// (`POST /work-orders/{id}/<action>`), so a client can post what it is offered.
#[tokio::test]
async fn allowed_actions_are_the_callers_action_endpoints() {
    let s = zz().await;
    let app = &s.app;
    let offered = |o: Value| {
        let mut a = strs(&o["allowed_actions"]);
        a.sort();
        a
    };
    let set = |names: &[&str]| {
        let mut v: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        v.sort();
        v
    };
    let o = install_order(&s, &["豫A97001"], false).await;
    let id = id_of(&o);
    assert_eq!(
        offered(get_order(app, &s.agent, &id).await),
        set(&["submit", "cancel"])
    );
    let o = act(app, &s.agent, &o, "submit", json!({})).await;
    assert_eq!(
        offered(get_order(app, &s.mgr, &id).await),
        set(&["approve", "reject", "cancel"])
    );
    assert_eq!(
        offered(get_order(app, &s.agent, &id).await),
        set(&["cancel"])
    );
    let o = act(app, &s.mgr, &o, "approve", json!({})).await;
    assert_eq!(
        offered(get_order(app, &s.mgr, &id).await),
        set(&["assign", "cancel"])
    );
    let o = approve_and_assign(&s, &o, &s.lead, &[&s.helper], 3).await;
    assert_eq!(
        offered(get_order(app, &s.lead.token, &id).await),
        set(&["accept", "decline"])
    );
    assert_eq!(
        offered(get_order(app, &s.helper.token, &id).await),
        set(&[])
    );
    assert_eq!(
        offered(get_order(app, &s.mgr, &id).await),
        set(&["reassign", "cancel"])
    );
    let o = act(app, &s.lead.token, &o, "accept", json!({})).await;
    assert_eq!(
        offered(get_order(app, &s.lead.token, &id).await),
        set(&["readiness", "hold"])
    );
    let o = act(
        app,
        &s.lead.token,
        &o,
        "readiness",
        json!({"items": READINESS}),
    )
    .await;
    assert_eq!(
        offered(get_order(app, &s.lead.token, &id).await),
        set(&["depart", "hold"])
    );
    let o = act(app, &s.lead.token, &o, "depart", json!({})).await;
    assert_eq!(
        offered(get_order(app, &s.lead.token, &id).await),
        set(&["arrive", "hold"])
    );
    act(app, &s.lead.token, &o, "arrive", json!({})).await;
    assert_eq!(
        offered(get_order(app, &s.lead.token, &id).await),
        set(&["hold", "complete"])
    );
    let (_, finance) = app.user("finance", &app.zz.id).await;
    assert_eq!(offered(get_order(app, &finance, &id).await), set(&[]));
}

/// Garbage at every work-order endpoint, from the roles that may use it, with the right
/// If-Match: always a 4xx problem, never a 5xx, and nothing changes (row counts and the
/// order's version).
#[tokio::test]
async fn garbage_at_every_order_endpoint_is_a_client_error_and_changes_nothing() {
    let s = zz().await;
    let o = install_order(&s, &["豫A9G001"], true).await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 24).await;
    let o = go_on_site(&s.app, &s.lead, &o).await;
    let id = id_of(&o);
    let line = line(&o, 0)["id"].as_str().unwrap().to_string();
    let version = version_of(&o);
    let before = s.app.snapshot();
    let actions = [
        "submit",
        "approve",
        "reject",
        "assign",
        "reassign",
        "accept",
        "decline",
        "readiness",
        "depart",
        "arrive",
        "hold",
        "resume",
        "complete",
        "close",
        "cancel",
        "parts",
        "verbal-approvals",
        "sign-off",
    ];
    let mut paths: Vec<String> = actions
        .iter()
        .map(|a| format!("{ORDERS}/{id}/{a}"))
        .collect();
    for a in ["install", "terminal-swap", "sim-swap", "repair", "not-done"] {
        paths.push(format!("{ORDERS}/{id}/lines/{line}/{a}"));
    }
    paths.push(format!("{ORDERS}/{id}/verbal-approvals/nope/confirm"));
    paths.push(format!("{ORDERS}/install"));
    paths.push(format!("{ORDERS}/repair"));
    let long = "长".repeat(5000);
    let bodies: Vec<(&str, String)> = vec![
        ("application/json", "not json".into()),
        ("application/json", "[1, 2]".into()),
        ("application/json", r#"{"unknown_field": 1}"#.into()),
        (
            "application/json",
            r#"{"reason": 5, "items": "x", "imei": 1, "part_code": null}"#.into(),
        ),
        (
            "application/json",
            format!(r#"{{"reason": "{long}", "notes": "{long}", "signer_name": "{long}"}}"#),
        ),
        (
            "application/json",
            r#"{"reason": "a\u0000b", "comment": "\u0000"}"#.into(),
        ),
        ("application/json", r#"{"lat": 95, "lng": 500}"#.into()),
        ("text/plain", "reason=x".into()),
    ];
    for token in [&s.lead.token, &s.mgr, &s.agent] {
        for path in &paths {
            for (ct, body) in &bodies {
                let res = s
                    .app
                    .req(Method::POST, path, token)
                    .header("content-type", *ct)
                    .header("If-Match", format!("\"{version}\""))
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let text = res.text().await.unwrap();
                assert!(
                    status.is_client_error(),
                    "{path} with {body:.60}: {status} {text}"
                );
                let p: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                assert!(p["code"].is_string(), "{path}: no problem code: {text}");
            }
        }
    }
    s.app.assert_unchanged(&before);
    let after = get_order(&s.app, &s.mgr, &id).await;
    assert_eq!(version_of(&after), version);
    assert_eq!(after["status"], "on_site");
}

/// The permission matrix of the order actions: for every action, every role that may
/// never take it gets 403 (on an order it can see, with a valid If-Match and body), and
/// nothing changes. Scope refusals (404) are in `orders_are_seen_and_acted_on_only_by_…`.
#[tokio::test]
async fn every_order_action_refuses_the_roles_that_may_never_take_it() {
    let s = zz().await;
    let (_, finance) = s.app.user("finance", &s.app.zz.id).await;
    let o = install_order(&s, &["豫A9M001"], true).await;
    let o = approve_and_assign(&s, &o, &s.lead, &[&s.helper], 24).await;
    let o = go_on_site(&s.app, &s.lead, &o).await;
    let id = id_of(&o);
    let line = line(&o, 0)["id"].as_str().unwrap().to_string();
    let version = version_of(&o);
    let assign = json!({"lead_id": s.lead.id, "scheduled_at": at(Duration::hours(30))});
    let reason = json!({"reason": "测试"});
    let va = json!({"approver_id": s.mgr_id, "content": "补发支架"});
    // (path after the order, body, the roles refused: lead, helper, agent, manager, finance)
    let matrix: Vec<(String, Value, [bool; 5])> = vec![
        ("submit".into(), json!({}), [true, true, false, false, true]),
        ("approve".into(), json!({}), [true, true, true, false, true]),
        (
            "reject".into(),
            reason.clone(),
            [true, true, true, false, true],
        ),
        (
            "assign".into(),
            assign.clone(),
            [true, true, true, false, true],
        ),
        (
            "reassign".into(),
            assign.clone(),
            [true, true, true, false, true],
        ),
        ("accept".into(), json!({}), [false, true, true, true, true]),
        (
            "decline".into(),
            reason.clone(),
            [false, true, true, true, true],
        ),
        (
            "readiness".into(),
            json!({"items": READINESS}),
            [false, true, true, true, true],
        ),
        ("depart".into(), json!({}), [false, true, true, true, true]),
        ("arrive".into(), json!({}), [false, true, true, true, true]),
        (
            "hold".into(),
            reason.clone(),
            [false, true, true, false, true],
        ),
        ("resume".into(), json!({}), [false, true, true, false, true]),
        (
            "complete".into(),
            json!({}),
            [false, true, true, true, true],
        ),
        ("close".into(), json!({}), [true, true, false, false, true]),
        (
            "cancel".into(),
            reason.clone(),
            [true, true, false, false, true],
        ),
        (
            "sign-off".into(),
            json!({"signer_name": "王喆"}),
            [false, true, true, true, true],
        ),
        (
            "parts".into(),
            json!({"part_code": "X", "quantity": 1}),
            [false, true, true, true, true],
        ),
        (
            "verbal-approvals".into(),
            va,
            [false, true, true, true, true],
        ),
        (
            format!("lines/{line}/install"),
            json!({"imei": imei(901), "iccid": iccid(901)}),
            [false, true, true, true, true],
        ),
        (
            format!("lines/{line}/terminal-swap"),
            json!({"new_imei": imei(902), "fault": "不定位"}),
            [false, true, true, true, true],
        ),
        (
            format!("lines/{line}/sim-swap"),
            json!({"new_iccid": iccid(903)}),
            [false, true, true, true, true],
        ),
        (
            format!("lines/{line}/repair"),
            json!({"notes": "修好"}),
            [false, true, true, true, true],
        ),
        (
            format!("lines/{line}/not-done"),
            reason.clone(),
            [false, true, true, true, true],
        ),
        (
            "verbal-approvals/x/confirm".into(),
            json!({}),
            [true, true, true, false, true],
        ),
    ];
    let tokens = [&s.lead.token, &s.helper.token, &s.agent, &s.mgr, &finance];
    let names = ["lead", "helper", "agent", "manager", "finance"];
    let before = s.app.snapshot();
    let mut checked = 0;
    for (path, body, refused) in &matrix {
        for (i, token) in tokens.iter().enumerate() {
            if !refused[i] {
                continue;
            }
            let res = post_action(&s.app, token, &id, path, Some(version), None, body).await;
            let status = res.status();
            let text = res.text().await.unwrap();
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{} on {path}: {text}",
                names[i]
            );
            checked += 1;
        }
    }
    assert!(checked > 70, "{checked} refusals checked");
    s.app.assert_unchanged(&before);
    assert_eq!(version_of(&get_order(&s.app, &s.mgr, &id).await), version);

    // reads: candidates for the office, the price list is the admin's
    for token in [&s.lead.token, &finance] {
        let res = s.app.get(&format!("{ORDERS}/{id}/candidates"), token).await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    for token in [&s.mgr, &s.agent, &s.lead.token, &finance] {
        let res = s
            .app
            .post(
                "/api/v1/parts",
                token,
                &json!({"code": "P1", "name": "支架", "unit_price_fen": 1500}),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    for token in [&s.lead.token, &finance] {
        let res = s
            .app
            .post(&format!("{ORDERS}/repair"), token, &json!({}))
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    s.app.assert_unchanged(&before);
}

/// Times outside 2000–2099 are refused (chrono's arithmetic would overflow, PostgreSQL
/// cannot store them, SQLite would sort them wrongly), reads keep working afterwards, and
/// a repair order cannot borrow the warranty of a terminal that is not in its vehicle.
#[tokio::test]
async fn out_of_range_times_and_foreign_terminals_are_refused() {
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A9T001"], true).await;
    let id = id_of(&o);
    let before = app.counts();
    for t in [
        "%2B262143-12-31T20:00:00Z",
        "-5000-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "2100-01-01T00:00:00Z",
    ] {
        let res = app
            .get(
                &format!("{ORDERS}/{id}/candidates?scheduled_at={t}"),
                &s.mgr,
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{t}");
        let res = app
            .get(&format!("{ORDERS}?scheduled_from={t}"), &s.mgr)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{t}");
    }
    // every connection of the pool still reads
    for _ in 0..12 {
        get_order(app, &s.mgr, &id).await;
    }
    for (field, value) in [
        ("window_start", "-5000-01-01T00:00:00Z"),
        ("requested_at", "+262143-12-31T20:00:00Z"),
        ("window_end", "1999-12-31T23:59:59Z"),
    ] {
        let mut body = install_body(&s.customer, json!([{"plate_no": "豫A9T002"}]), false);
        body[field] = json!(value);
        let res = app
            .post(&format!("{ORDERS}/install"), &s.agent, &body)
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field} {value}"
        );
    }
    let res = post_action(
        app,
        &s.mgr,
        &id,
        "approve",
        Some(version_of(&o)),
        None,
        &json!({}),
    )
    .await;
    let o: Value = expect(res, StatusCode::OK).await;
    let approved = app.snapshot();
    let res = post_action(
        app,
        &s.mgr,
        &id,
        "assign",
        Some(version_of(&o)),
        None,
        &json!({"lead_id": s.lead.id, "scheduled_at": "+262143-12-31T20:00:00Z"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.assert_unchanged(&approved);
    assert_ne!(before, app.counts());

    // a stock terminal of the center is not the vehicle's terminal
    let stock = app.create_terminal(&app.admin, &app.zz.id, 77).await;
    let approved = app.snapshot();
    let vehicle = line(&o, 0)["vehicle_id"].as_str().unwrap().to_string();
    let mut body = repair_body(&s.customer, json!({"vehicle_id": vehicle}), "不定位");
    body["terminal_imei"] = stock["imei"].clone();
    let res = app.post(&format!("{ORDERS}/repair"), &s.agent, &body).await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "not_in_vehicle", "{p}");
    app.assert_unchanged(&approved);
}

/// Actions whose fields are all optional take no body at all, and otherwise read their
/// body like every JSON endpoint: 415 for another media type, 413 above the limit.
#[tokio::test]
async fn optional_bodies_may_be_empty_and_are_otherwise_json() {
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A9E001"], true).await;
    let id = id_of(&o);
    let v = version_of(&o);
    let send = |ct: Option<&'static str>, body: String| {
        let mut r = app
            .req(Method::POST, &format!("{ORDERS}/{id}/approve"), &s.mgr)
            .header("If-Match", format!("\"{v}\""));
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        r.body(body).send()
    };
    assert_problem(
        send(Some("text/plain"), "同意".into()).await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let big = format!(r#"{{"comment": "{}"}}"#, "x".repeat(100_000));
    assert_problem(
        send(Some("application/json"), big).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await;
    assert_eq!(version_of(&get_order(app, &s.mgr, &id).await), v);
    let res = send(None, String::new()).await.unwrap();
    let o = expect(res, StatusCode::OK).await;
    assert_eq!(o["status"], "approved");
    assert_eq!(version_of(&o), v + 1);
}

/// A repair line names what is in the vehicle now, its terminal and SIM card (issue 14,
/// item 18), for the technician too; a new vehicle's install line has nothing fitted.
#[tokio::test]
async fn a_repair_line_shows_the_terminal_and_sim_in_the_vehicle() {
    let s = zz().await;
    let app = &s.app;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A54329")
            .await,
    );
    let purchased = NaiveDate::from_ymd_opt(2025, 1, 10).unwrap();
    let terminal = terminal_with(app, 7, "GT06N", purchased).await;
    let sim = app.create_sim(&app.admin, &app.zz.id, 7).await;
    fit(app, &id_of(&terminal), &vehicle, &id_of(&sim)).await;
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"vehicle_id": vehicle}), "终端不上线"),
        )
        .await,
    )
    .await;
    let fitted = &line(&o, 0)["fitted"];
    assert_eq!(fitted["terminal_id"], terminal["id"], "{o}");
    assert_eq!(fitted["terminal_imei"], terminal["imei"]);
    assert_eq!(fitted["terminal_model"], "GT06N");
    assert_eq!(fitted["sim_id"], sim["id"]);
    assert_eq!(fitted["sim_iccid"], sim["iccid"]);
    assert_eq!(fitted["sim_msisdn"], sim["msisdn"]);
    let o = approve_and_assign(&s, &o, &s.lead, &[], 1).await;
    let seen = get_order(app, &s.lead.token, &id_of(&o)).await;
    assert_eq!(line(&seen, 0)["fitted"]["sim_iccid"], sim["iccid"]);
    let install = install_order(&s, &["豫A7X001"], true).await;
    assert!(line(&install, 0)["fitted"].is_null(), "{install}");
}

// ------------------------------------------------------------------ issue 14

/// Issue 14 item 9: the terminal a repair takes out carries the order's fault tag on its
/// own record (and in the list filter) until it leaves repair.
#[tokio::test]
async fn a_terminal_taken_out_by_a_repair_carries_the_fault_tag() {
    let s = zz().await;
    let app = &s.app;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A12399")
            .await,
    );
    let purchased = (Utc::now() - Duration::days(60)).date_naive();
    let old = id_of(&terminal_with(app, 1, "JM-VL03", purchased).await);
    let sim = id_of(&app.create_sim(&app.admin, &app.zz.id, 1).await);
    fit(app, &old, &vehicle, &sim).await;
    let new = id_of(&app.create_terminal(&app.admin, &app.zz.id, 2).await);
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"vehicle_id": vehicle}), "终端不定位"),
        )
        .await,
    )
    .await;
    let id = id_of(&o);
    let line_id = id_of(line(&o, 0));
    let o = approve_and_assign(&s, &o, &s.lead, &[], 4).await;
    let o = go_on_site(app, &s.lead, &o).await;
    act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{line_id}/terminal-swap"),
        json!({"new_imei": imei(2), "fault": "不定位"}),
    )
    .await;
    let t_old = get_terminal(app, &old).await;
    assert_eq!(t_old["status"], "in_repair");
    assert_eq!(t_old["fault_tag"], "豫A12399 / 不定位", "{t_old}");
    assert_eq!(t_old["fault_order_id"], id.as_str());
    let t_new = get_terminal(app, &new).await;
    assert!(t_new["fault_tag"].is_null(), "{t_new}");
    assert!(t_new["fault_order_id"].is_null());
    let list_ids = |page: Value| -> Vec<String> { items(&page).iter().map(id_of).collect() };
    let tagged = list_ids(
        expect(
            app.get("/api/v1/terminals?fault_tagged=true", &s.mgr).await,
            StatusCode::OK,
        )
        .await,
    );
    assert_eq!(tagged, std::slice::from_ref(&old));
    let untagged = list_ids(
        expect(
            app.get("/api/v1/terminals?fault_tagged=false", &s.mgr)
                .await,
            StatusCode::OK,
        )
        .await,
    );
    assert!(untagged.contains(&new) && !untagged.contains(&old));
    // repaired and back in stock: no tag any more
    expect(
        app.patch(
            &format!("/api/v1/terminals/{old}"),
            &app.admin,
            Some(version_of(&t_old)),
            &json!({"status": "in_stock"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let t_old = get_terminal(app, &old).await;
    assert_eq!(t_old["status"], "in_stock");
    assert!(t_old["fault_tag"].is_null(), "{t_old}");
    assert!(t_old["fault_order_id"].is_null());
}

/// Issue 14 item 22: a leap second in a client's time is read as the last millisecond of
/// its minute (it was a 500 on SQLite and stored as `…:60.000Z`).
#[tokio::test]
async fn a_leap_second_is_read_as_the_last_millisecond_of_its_minute() {
    let s = zz().await;
    let app = &s.app;
    let mut body = install_body(&s.customer, json!([{"plate_no": "豫A81077"}]), true);
    body["requested_at"] = json!("2016-12-31T23:59:60Z");
    let o = created_order(
        app.post(&format!("{ORDERS}/install"), &s.agent, &body)
            .await,
    )
    .await;
    assert_eq!(
        ts(&o["requested_at"]).to_rfc3339_opts(SecondsFormat::Millis, true),
        "2016-12-31T23:59:59.999Z"
    );
    let got = get_order(app, &s.mgr, &id_of(&o)).await;
    assert_eq!(got["requested_at"], o["requested_at"]);
    assert!(
        !got["requested_at"].as_str().unwrap().contains(":60"),
        "{got}"
    );
    // in a window and in a query, too
    let mut body = install_body(&s.customer, json!([{"plate_no": "豫A81078"}]), false);
    body["window_start"] = json!("2026-12-31T23:59:60Z");
    body["window_end"] = json!("2027-01-01T08:00:00+08:00");
    let o = created_order(
        app.post(&format!("{ORDERS}/install"), &s.agent, &body)
            .await,
    )
    .await;
    assert_eq!(
        ts(&o["window_start"]).to_rfc3339_opts(SecondsFormat::Millis, true),
        "2026-12-31T23:59:59.999Z"
    );
    expect(
        app.get(
            &format!("{ORDERS}?scheduled_from=2016-12-31T23:59:60Z"),
            &s.mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// Issue 14 item 11: a phone's offline actions carry when they were done (`at`): kept
/// within 72 hours back, refused in the future or before the previous step; the timeline
/// shows the time done and the time received.
#[tokio::test]
async fn offline_actions_are_stamped_when_they_were_done() {
    let s = zz().await;
    let app = &s.app;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A12388")
            .await,
    );
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"vehicle_id": vehicle}), "终端不上线"),
        )
        .await,
    )
    .await;
    let id = id_of(&o);
    let line_id = id_of(line(&o, 0));
    let o = approve_and_assign(&s, &o, &s.lead, &[], 4).await;
    let o = act(app, &s.lead.token, &o, "accept", json!({})).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "readiness",
        json!({"items": READINESS}),
    )
    .await;
    // the readiness check was done five hours ago (the phone was offline since)
    {
        let mut c = app.pool.get().unwrap();
        let five_ago = (Utc::now() - Duration::hours(5)).format("%Y-%m-%d %H:%M:%S");
        diesel::sql_query(format!(
            "UPDATE work_orders SET ready_at = '{five_ago}' WHERE id = '{id}'"
        ))
        .execute(&mut c)
        .unwrap();
    }
    let v = version_of(&o);
    let token = s.lead.token.as_str();
    let refused = |at: String, action: &'static str, version: i64, code: &'static str| {
        let id = id.clone();
        async move {
            assert_problem(
                post_action(
                    app,
                    token,
                    &id,
                    action,
                    Some(version),
                    None,
                    &json!({"at": at}),
                )
                .await,
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
            )
            .await;
        }
    };
    refused(at(Duration::minutes(10)), "depart", v, "in_future").await;
    refused(at(-Duration::hours(73)), "depart", v, "too_old").await;
    refused(at(-Duration::hours(6)), "depart", v, "before_previous_step").await;
    let departed = at(-Duration::hours(4));
    let o = act(app, &s.lead.token, &o, "depart", json!({"at": departed})).await;
    assert_eq!(ts(&o["departed_at"]), ts(&json!(departed)));
    let v = version_of(&o);
    refused(at(-Duration::hours(5)), "arrive", v, "before_previous_step").await;
    let arrived = at(-Duration::hours(3));
    let o = act(app, &s.lead.token, &o, "arrive", json!({"at": arrived})).await;
    assert_eq!(ts(&o["arrived_at"]), ts(&json!(arrived)));
    let repaired = at(-Duration::hours(2));
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{line_id}/repair"),
        json!({"notes": "重新插拔天线", "at": repaired}),
    )
    .await;
    assert_eq!(ts(&line(&o, 0)["done_at"]), ts(&json!(repaired)));
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆"}),
    )
    .await;
    refused(
        at(-Duration::hours(73)),
        "complete",
        version_of(&o),
        "too_old",
    )
    .await;
    // a phone clock a little fast counts as now
    let o = act(
        app,
        &s.lead.token,
        &o,
        "complete",
        json!({"at": at(Duration::seconds(30))}),
    )
    .await;
    assert_eq!(o["status"], "completed");
    assert!(ts(&o["completed_at"]) <= Utc::now());
    // the timeline: done at the phone's time, received now
    let events = timeline(app, &id).await;
    let ev = |action: &str| {
        events
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} on the timeline"))
            .clone()
    };
    for (action, when) in [
        ("depart", &departed),
        ("arrive", &arrived),
        ("repair", &repaired),
    ] {
        let e = ev(action);
        assert_eq!(ts(&e["at"]), ts(&json!(when)), "{e}");
        assert!(
            ts(&e["received_at"]) > ts(&e["at"]) + Duration::minutes(59),
            "{e}"
        );
    }
    let e = ev("accept");
    assert!(e["received_at"].is_string(), "{e}");
}

/// Issue 14 item 10: a recorded part can be corrected or removed until completion (on
/// the timeline, the fee follows); from completion on, 409 `parts_locked`.
#[tokio::test]
async fn recorded_parts_are_corrected_or_removed_until_completion() {
    let s = zz().await;
    let app = &s.app;
    app.created(
        "/api/v1/parts",
        &app.admin,
        &json!({"code": "P-ANT", "name": "GPS天线", "unit_price_fen": 3500}),
    )
    .await;
    app.created(
        "/api/v1/parts",
        &app.admin,
        &json!({"code": "P-FUSE", "name": "熔断器", "unit_price_fen": 500}),
    )
    .await;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A12377")
            .await,
    );
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"vehicle_id": vehicle}), "终端不定位"),
        )
        .await,
    )
    .await;
    let id = id_of(&o);
    let line_id = id_of(line(&o, 0));
    let o = approve_and_assign(&s, &o, &s.lead, &[&s.helper], 4).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-ANT", "quantity": 3}),
    )
    .await;
    let o = record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "P-FUSE", "quantity": 1}),
    )
    .await;
    let ant = id_of(&o["parts"][0]);
    let fuse = id_of(&o["parts"][1]);
    let part_path = |p: &str| format!("{ORDERS}/{id}/parts/{p}");
    let send =
        |method: Method, p: String, token: &str, version: Option<i64>, body: Option<Value>| {
            let mut r = app.req(method, &p, token);
            if let Some(b) = body {
                r = r.json(&b);
            }
            if let Some(v) = version {
                r = r.header("If-Match", format!("\"{v}\""));
            }
            r.send()
        };
    // If-Match needed; a helper may not; bad quantity; unknown part
    let v = version_of(&o);
    let res = send(
        Method::PATCH,
        part_path(&ant),
        &s.lead.token,
        None,
        Some(json!({"quantity": 1})),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_REQUIRED);
    let res = send(
        Method::PATCH,
        part_path(&ant),
        &s.helper.token,
        Some(v),
        Some(json!({"quantity": 1})),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = send(
        Method::PATCH,
        part_path(&ant),
        &s.lead.token,
        Some(v),
        Some(json!({"quantity": 0})),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = send(
        Method::DELETE,
        part_path("nope"),
        &s.lead.token,
        Some(v),
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // the antenna was 1, not 3
    let res = send(
        Method::PATCH,
        part_path(&ant),
        &s.lead.token,
        Some(v),
        Some(json!({"quantity": 1})),
    )
    .await
    .unwrap();
    let o = expect(res, StatusCode::OK).await;
    assert_eq!(version_of(&o), v + 1);
    assert_eq!(o["parts"][0]["quantity"], 1);
    assert_eq!(o["parts"][0]["amount_fen"], 3500);
    // the fuse was not used at all
    let res = send(
        Method::DELETE,
        part_path(&fuse),
        &s.lead.token,
        Some(v + 1),
        None,
    )
    .await
    .unwrap();
    let o = expect(res, StatusCode::OK).await;
    assert_eq!(o["parts"].as_array().unwrap().len(), 1);
    let events = timeline(app, &id).await;
    let acts = actions(&events);
    assert!(acts.contains(&"part_corrected".to_string()), "{acts:?}");
    assert!(acts.contains(&"part_removed".to_string()), "{acts:?}");
    let corrected = events
        .iter()
        .find(|e| e["action"] == "part_corrected")
        .unwrap();
    assert!(
        corrected["comment"].as_str().unwrap().contains("3 → 1"),
        "{corrected}"
    );
    // the fee follows the corrected parts
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{line_id}/repair"),
        json!({"notes": "更换天线"}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆"}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["parts_total_fen"], 3500);
    assert_eq!(o["fee_fen"], 3500);
    // locked from completion on
    let v = version_of(&o);
    let res = send(
        Method::PATCH,
        part_path(&ant),
        &s.lead.token,
        Some(v),
        Some(json!({"quantity": 2})),
    )
    .await
    .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "parts_locked").await;
    let res = send(
        Method::DELETE,
        part_path(&ant),
        &s.lead.token,
        Some(v),
        None,
    )
    .await
    .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "parts_locked").await;
    let o = get_order(app, &s.mgr, &id).await;
    assert_eq!(version_of(&o), v);
    assert_eq!(o["parts"][0]["quantity"], 1);
}

#[actix_web::test]
async fn a_rejected_order_is_corrected_and_resubmitted() {
    let s = zz().await;
    let app = &s.app;
    let o = install_order(&s, &["豫A83001"], true).await;
    let id = id_of(&o);
    let path = format!("{ORDERS}/{id}");
    let o = act(app, &s.mgr, &o, "reject", json!({"reason": "车辆信息不全"})).await;
    assert_eq!(o["status"], "rejected");
    let send = |token: &str, version: Option<i64>, body: Value| {
        let mut r = app.req(Method::PATCH, &path, token).json(&body);
        if let Some(v) = version {
            r = r.header("If-Match", format!("\"{v}\""));
        }
        r.send()
    };
    let edit = json!({
        "site_address": "郑州市金水区花园路88号",
        "site_lat": 34.80, "site_lng": 113.66,
        "contact_name": "赵敏", "contact_phone": "13700001111",
        "urgency": "urgent",
        "vehicles": [
            {"plate_no": "豫A83002", "driver": {"name": "李堃", "phone": "13912345678"}},
            {"plate_no": "豫A83003"},
        ],
    });
    let v = version_of(&o);
    // If-Match required, and current
    let res = send(&s.agent, None, edit.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_REQUIRED);
    let res = send(&s.agent, Some(v - 1), edit.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    // another center's agent does not see it
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    assert_problem(
        send(&bj_agent, Some(v), edit.clone()).await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // a bad phone: 422, nothing changed
    let before = app.snapshot();
    let mut bad = edit.clone();
    bad["contact_phone"] = json!("12345");
    let p = assert_problem(
        send(&s.agent, Some(v), bad).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(p.to_string().contains("contact_phone"), "{p}");
    let same = get_order(app, &s.mgr, &id).await;
    assert_eq!(version_of(&same), v);
    assert_eq!(same["contact_phone"], "13812345678");
    app.assert_unchanged(&before);

    // the correction
    let res = send(&s.agent, Some(v), edit.clone()).await.unwrap();
    let o = expect(res, StatusCode::OK).await;
    assert_eq!(version_of(&o), v + 1);
    assert_eq!(o["status"], "rejected");
    assert_eq!(o["site_address"], "郑州市金水区花园路88号");
    assert_eq!(o["site_lat"], 34.80);
    assert_eq!(o["contact_name"], "赵敏");
    assert_eq!(o["contact_phone"], "13700001111");
    assert_eq!(o["urgency"], "urgent");
    let plates: Vec<&str> = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["plate_no"].as_str().unwrap())
        .collect();
    assert_eq!(plates, vec!["豫A83002", "豫A83003"]);
    let events = timeline(app, &id).await;
    let edited = events
        .iter()
        .find(|e| e["action"] == "edited")
        .expect("an edited event");
    let comment = edited["comment"].as_str().unwrap_or_default();
    assert!(
        comment.contains("联系电话") && comment.contains("车辆明细"),
        "{comment}"
    );

    // resubmitted and approved
    let o = act(app, &s.agent, &o, "submit", json!({})).await;
    assert_eq!(o["status"], "submitted");
    let o = act(app, &s.mgr, &o, "approve", json!({})).await;
    assert_eq!(o["status"], "approved");
    // an approved order is not editable
    assert_problem(
        send(&s.agent, Some(version_of(&o)), edit).await.unwrap(),
        StatusCode::CONFLICT,
        "order_not_editable",
    )
    .await;
}
