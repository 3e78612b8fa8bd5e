//! The terminal's first report (上线检测, issue 17): fitting a terminal registers it on the
//! tracking platform (a Traccar stand-in speaking its REST API, `traccar_fake`), and the
//! line waits until a valid fix taken and received after the work started arrives with the
//! line's SIM; stale fixes, heartbeats, batch uploads and another SIM do not count; a
//! platform that is down leaves the line waiting and nothing fails; the center decides
//! whether `complete` needs it (409 `terminal_not_reporting`, a manager's override).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{
    ORDERS, SIGNATURE, Zz, act, approve_and_assign, created_order, expect, fit, get_order,
    go_on_site, id_of, install_body, line, post_action, repair_body, version_of, zz, zz_with,
};
use crate::helpers::{AppOptions, iccid, imei, msisdn};
use crate::traccar_fake::{FakeTraccar, Fix};
use dispatch::tracking::{Traccar, TrackingSettings};

const SECRET: &str = "push-secret-0123456789";

fn settings(fake: Option<&FakeTraccar>) -> TrackingSettings {
    let platform = fake.map(|f| Traccar::new(&f.url(), None).unwrap());
    let mut t = TrackingSettings::new(platform, Some(SECRET.into()));
    t.poll = StdDuration::from_millis(100);
    t
}

async fn zz_tracking(fake: Option<&FakeTraccar>) -> Zz {
    zz_with(AppOptions {
        tracking: Some(settings(fake)),
        ..Default::default()
    })
    .await
}

/// The ZZ center's proof rules as its manager sets them: no photos, and `report`'s
/// first-report rules. Answers the rules as stored.
async fn set_rules(s: &Zz, report: Value) -> Value {
    let mut body = json!({"install_photos": [], "repair_photos": []});
    for (k, v) in report.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = s
        .app
        .req(
            Method::PUT,
            &format!("/api/v1/centers/{}/proof-rules", s.app.zz.id),
            &s.mgr,
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await
}

/// The 808 number the platform knows test SIM `n` by.
fn unique(n: u64) -> String {
    dispatch::domain::jt808::terminal_phone(&msisdn(n)).unwrap()
}

/// An install order of one vehicle, on site, its terminal (`n`) and SIM (`n`) in stock.
async fn on_site(s: &Zz, n: u64, plate: &str) -> Value {
    let app = &s.app;
    app.create_terminal(&app.admin, &app.zz.id, n).await;
    app.create_sim(&app.admin, &app.zz.id, n).await;
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!([{"plate_no": plate}]), true),
        )
        .await,
    )
    .await;
    let o = approve_and_assign(s, &o, &s.lead, &[], 3 + n as i64).await;
    go_on_site(app, &s.lead, &o).await
}

async fn install(s: &Zz, o: &Value, n: u64) -> Value {
    let lid = id_of(line(o, 0));
    act(
        &s.app,
        &s.lead.token,
        o,
        &format!("lines/{lid}/install"),
        json!({"imei": imei(n), "iccid": iccid(n)}),
    )
    .await
}

fn report(o: &Value) -> &Value {
    &line(o, 0)["first_report"]
}

fn missing_kinds(o: &Value) -> Vec<String> {
    report(o)["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The order once `done` holds of it (the worker polls every 100 ms).
async fn until(s: &Zz, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let o = get_order(&s.app, &s.mgr, id).await;
        if done(&o) {
            return o;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The order after the worker has looked at the platform again since `t`.
async fn looked_after(s: &Zz, id: &str, t: DateTime<Utc>) -> Value {
    until(s, id, "a look at the platform", |o| {
        report(o)["checked_at"]
            .as_str()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .is_some_and(|c| c > t)
    })
    .await
}

#[tokio::test]
async fn an_install_registers_the_terminal_and_only_a_current_fix_with_its_sim_passes() {
    let fake = FakeTraccar::start().await;
    let s = zz_tracking(Some(&fake)).await;
    let o = on_site(&s, 1, "豫A70001").await;
    let id = id_of(&o);
    let arrived = DateTime::parse_from_rfc3339(o["arrived_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let o = install(&s, &o, 1).await;
    assert_eq!(report(&o)["status"], "waiting", "{o}");
    assert_eq!(report(&o)["unique_id"], unique(1));
    assert_eq!(missing_kinds(&o), ["fix", "iccid"]);
    assert!(
        report(&o)["missing"][0]["message"]
            .as_str()
            .unwrap()
            .contains("定位")
    );

    // the worker registers the device: 808 number, plate, IMEI, ICCID
    let o = until(&s, &id, "the device registered", |o| {
        report(o)["checked_at"].is_string()
    })
    .await;
    assert!(report(&o)["platform_error"].is_null(), "{o}");
    let d = fake.device(&unique(1)).expect("registered on the platform");
    assert_eq!(d["name"], "豫A70001");
    assert_eq!(d["phone"], msisdn(1));
    assert_eq!(d["model"], "GT06N");
    assert_eq!(d["attributes"]["imei"], imei(1));
    assert_eq!(d["attributes"]["iccid"], iccid(1));
    assert_eq!(d["attributes"]["plate"], "豫A70001");
    assert_eq!(fake.devices().len(), 1, "registered once");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("GET /api/positions?deviceId=")),
        "{:?}",
        fake.requests()
    );

    // heartbeats only: online, lastUpdate moving, no position
    fake.heartbeat(&unique(1));
    let t = Utc::now();
    let o = looked_after(&s, &id, t).await;
    assert_eq!(report(&o)["status"], "waiting");
    assert_eq!(missing_kinds(&o), ["fix", "iccid"]);

    // the last known position, fixed before the work started, received again now
    let mut stale = Fix::now(&iccid(1));
    stale.fix_time = arrived - Duration::minutes(30);
    fake.report(&unique(1), stale);
    // a batch of positions stored in the terminal, fixed before the work, uploaded now
    for m in [50, 40, 1] {
        let mut f = Fix::now(&iccid(1));
        f.fix_time = arrived - Duration::minutes(m);
        fake.report(&unique(1), f);
    }
    // and a current position without a fix
    let mut nofix = Fix::now(&iccid(1));
    nofix.valid = false;
    nofix.attributes = json!({});
    fake.report(&unique(1), nofix);
    let o = looked_after(&s, &id, Utc::now()).await;
    assert_eq!(report(&o)["status"], "waiting", "{o}");
    assert_eq!(missing_kinds(&o), ["fix", "iccid"]);

    // a current fix, but the terminal reports another SIM card
    fake.report(&unique(1), Fix::now(&iccid(99)));
    let o = until(&s, &id, "the fix taken in", |o| {
        report(o)["first_fix_at"].is_string()
    })
    .await;
    assert_eq!(report(&o)["status"], "waiting");
    assert_eq!(missing_kinds(&o), ["iccid_mismatch"]);
    assert_eq!(report(&o)["missing"][0]["reported"], iccid(99));
    assert_eq!(report(&o)["reported_iccid"], iccid(99));

    // the right card
    fake.report(&unique(1), Fix::now(&iccid(1)));
    let o = until(&s, &id, "passed", |o| report(o)["status"] == "passed").await;
    assert!(report(&o)["passed_at"].is_string());
    assert_eq!(missing_kinds(&o), Vec::<String>::new());
    assert_eq!(report(&o)["reported_iccid"], iccid(1));
    // the order's version did not move: the phone's next action is not refused
    assert_eq!(
        version_of(&o),
        version_of(&get_order(&s.app, &s.lead.token, &id).await)
    );
}

#[tokio::test]
async fn the_center_may_require_the_first_report_and_a_manager_may_override_it() {
    // pushes only: nothing changes the database behind the test's back
    let s = zz_tracking(None).await;
    let rules = set_rules(&s, json!({"report_required": true})).await;
    assert_eq!(rules["report_required"], true);
    assert_eq!(rules["report_acc"], false);
    assert_eq!(rules["report_iccid"], true);
    let o = on_site(&s, 2, "豫A70002").await;
    let o = install(&s, &o, 2).await;
    let o = act(
        &s.app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    let (_, other) = s.app.user("manager", &s.app.bj.id).await;
    let before = s.app.snapshot();
    let res = post_action(
        &s.app,
        &s.lead.token,
        &id_of(&o),
        "complete",
        Some(version_of(&o)),
        None,
        &json!({}),
    )
    .await;
    let p = expect(res, StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "terminal_not_reporting");
    assert!(p["detail"].as_str().unwrap().contains("豫A70002"), "{p}");
    assert_eq!(p["lines"][0]["plate_no"], "豫A70002");
    assert_eq!(p["lines"][0]["missing"][0]["kind"], "fix");
    s.app.assert_unchanged(&before);

    // the technician may not override; a manager of another center sees no order
    let waive = |token: String, body: Value| {
        let app = &s.app;
        let id = id_of(&o);
        let v = version_of(&o);
        async move { post_action(app, &token, &id, "waive-first-report", Some(v), None, &body).await }
    };
    let r = waive(s.lead.token.clone(), json!({"reason": "车在地库"})).await;
    expect(r, StatusCode::FORBIDDEN).await;
    expect(
        waive(other, json!({"reason": "车在地库"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let p = expect(
        waive(s.mgr.clone(), json!({"reason": ""})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    s.app.assert_unchanged(&before);

    let o = act(
        &s.app,
        &s.mgr,
        &o,
        "waive-first-report",
        json!({"reason": "车辆停在地下车库，客户确认明日出库后自检"}),
    )
    .await;
    assert_eq!(
        o["first_report_waiver"]["reason"],
        "车辆停在地下车库，客户确认明日出库后自检"
    );
    let again = post_action(
        &s.app,
        &s.mgr,
        &id_of(&o),
        "waive-first-report",
        Some(version_of(&o)),
        None,
        &json!({"reason": "再次"}),
    )
    .await;
    assert_eq!(
        expect(again, StatusCode::CONFLICT).await["code"],
        "already_waived"
    );
    let o = act(&s.app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["status"], "completed");
}

#[tokio::test]
async fn pushed_positions_need_the_secret_and_pass_the_check_with_acc_when_asked() {
    // a deployment without tracking takes no pushes, and starts no checks
    let plain = zz().await;
    let body = FakeTraccar::forwarded(&unique(3), Fix::now(&iccid(3)));
    let r = plain
        .app
        .client
        .post(plain.app.url("/api/v1/tracking/traccar/positions"))
        .bearer_auth(SECRET)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::NOT_FOUND).await;
    let o = on_site(&plain, 3, "豫A70003").await;
    let o = install(&plain, &o, 3).await;
    assert!(report(&o).is_null(), "no check without tracking: {o}");

    let s = zz_tracking(None).await;
    set_rules(&s, json!({"report_acc": true})).await;
    let o = on_site(&s, 4, "豫A70004").await;
    let id = id_of(&o);
    let o = install(&s, &o, 4).await;
    assert_eq!(missing_kinds(&o), ["fix", "iccid", "acc_on", "acc_off"]);
    let push = |secret: Option<&'static str>, body: Value| {
        let app = &s.app;
        async move {
            let mut r = app
                .client
                .post(app.url("/api/v1/tracking/traccar/positions"))
                .json(&body);
            if let Some(x) = secret {
                r = r.bearer_auth(x);
            }
            r.send().await.unwrap()
        }
    };
    let before = s.app.snapshot();
    let mut on = Fix::now(&iccid(4));
    on.attributes["ignition"] = json!(true);
    let body = FakeTraccar::forwarded(&unique(4), on);
    let p = expect(push(None, body.clone()).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(p["code"], "bad_push_secret");
    expect(
        push(Some("wrong-secret-0123456789"), body.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let p = expect(
        push(Some(SECRET), json!({"position": {"latitude": 1}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "invalid_body");
    let mut garbled = FakeTraccar::forwarded("0138\u{0}", Fix::now(&iccid(4)));
    garbled["position"]["attributes"]["iccid"] = json!("\u{0}\u{0}");
    let p = expect(
        push(Some(SECRET), garbled).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "invalid_position");
    let r = s
        .app
        .client
        .post(s.app.url("/api/v1/tracking/traccar/positions"))
        .bearer_auth(SECRET)
        .header("Content-Type", "application/json")
        .body("{\"position\":")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(r, StatusCode::BAD_REQUEST).await["code"],
        "malformed_json"
    );
    s.app.assert_unchanged(&before);

    let r = expect(push(Some(SECRET), body.clone()).await, StatusCode::OK).await;
    assert_eq!(r["matched"], 1);
    let o = get_order(&s.app, &s.mgr, &id).await;
    assert_eq!(missing_kinds(&o), ["acc_off"]);
    // the same position again changes nothing; another terminal's matches no check
    expect(push(Some(SECRET), body).await, StatusCode::OK).await;
    let other = FakeTraccar::forwarded(&unique(77), Fix::now(&iccid(77)));
    assert_eq!(
        expect(push(Some(SECRET), other).await, StatusCode::OK).await["matched"],
        0
    );
    let mut off = Fix::now(&iccid(4));
    off.attributes["ignition"] = json!(false);
    expect(
        push(Some(SECRET), FakeTraccar::forwarded(&unique(4), off)).await,
        StatusCode::OK,
    )
    .await;
    let o = get_order(&s.app, &s.mgr, &id).await;
    assert_eq!(report(&o)["status"], "passed", "{o}");
    assert!(report(&o)["acc_on_at"].is_string() && report(&o)["acc_off_at"].is_string());

    // the install ledger prints the first fix's time
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let ledger = expect(
        s.app
            .get(
                &format!("/api/v1/install-ledger?from={today}&to={today}"),
                &s.mgr,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let row = ledger["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["plate_no"] == "豫A70004")
        .expect("the vehicle in the ledger");
    assert!(row["first_fix_at"].is_string(), "{row}");
}

#[tokio::test]
async fn a_platform_that_is_down_leaves_the_line_waiting_and_nothing_fails() {
    let fake = FakeTraccar::start().await;
    fake.set_down(true);
    let s = zz_tracking(Some(&fake)).await;
    let o = on_site(&s, 5, "豫A70005").await;
    let id = id_of(&o);
    let o = install(&s, &o, 5).await;
    assert_eq!(report(&o)["status"], "waiting");
    let o = until(&s, &id, "a failed look", |o| {
        report(o)["platform_error"].is_string()
    })
    .await;
    assert!(
        report(&o)["platform_error"]
            .as_str()
            .unwrap()
            .contains("定位平台暂时连不上"),
        "the reader learns what it means, not the platform's address: {o}"
    );
    assert!(fake.devices().is_empty());
    // the order goes on: signed off and completed (the center does not require the report)
    let o = act(
        &s.app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    let o = act(&s.app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["status"], "completed");
    assert_eq!(report(&o)["status"], "waiting");

    // back up: registered, and the terminal's report passes the check after completion
    fake.set_down(false);
    until(&s, &id, "the device registered", |_| {
        fake.device(&unique(5)).is_some()
    })
    .await;
    fake.report(&unique(5), Fix::now(&iccid(5)));
    let o = until(&s, &id, "passed", |o| report(o)["status"] == "passed").await;
    assert!(report(&o)["platform_error"].is_null(), "{o}");
}

#[tokio::test]
async fn a_sim_swap_moves_the_platform_device_to_the_new_card() {
    let fake = FakeTraccar::start().await;
    let s = zz_tracking(Some(&fake)).await;
    let app = &s.app;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A70006")
            .await,
    );
    let terminal = id_of(&app.create_terminal(&app.admin, &app.zz.id, 6).await);
    let old_sim = id_of(&app.create_sim(&app.admin, &app.zz.id, 6).await);
    fit(app, &terminal, &vehicle, &old_sim).await;
    app.create_sim(&app.admin, &app.zz.id, 7).await;
    // the platform has known the terminal for a month, by its old card's number
    let device = fake.add_device(
        &unique(6),
        "豫A70006",
        json!({"iccid": iccid(6), "speedLimit": 80}),
    );
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"plate_no": "豫A70006"}), "SIM卡无信号"),
        )
        .await,
    )
    .await;
    let id = id_of(&o);
    let lid = id_of(line(&o, 0));
    let o = approve_and_assign(&s, &o, &s.lead, &[], 4).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{lid}/sim-swap"),
        json!({"new_iccid": iccid(7)}),
    )
    .await;
    assert_eq!(report(&o)["unique_id"], unique(7));
    until(&s, &id, "the device moved", |_| {
        fake.device(&unique(7)).is_some()
    })
    .await;
    assert!(fake.device(&unique(6)).is_none(), "{:?}", fake.devices());
    let d = fake.device(&unique(7)).unwrap();
    assert_eq!(
        d["id"], device,
        "the same device, updated (PUT), not a new one"
    );
    assert_eq!(d["phone"], msisdn(7));
    assert_eq!(d["attributes"]["iccid"], iccid(7));
    assert_eq!(d["attributes"]["speedLimit"], 80, "its other settings kept");
    assert_eq!(
        d["status"], "online",
        "the fields it has are sent back whole"
    );
    assert_eq!(fake.devices().len(), 1);
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with(&format!("PUT /api/devices/{device}"))),
        "{:?}",
        fake.requests()
    );
    // the old card's ICCID reported now is a mismatch; the new one passes
    fake.report(&unique(7), Fix::now(&iccid(6)));
    let o = until(&s, &id, "the fix", |o| {
        report(o)["first_fix_at"].is_string()
    })
    .await;
    assert_eq!(missing_kinds(&o), ["iccid_mismatch"]);
    fake.report(&unique(7), Fix::now(&iccid(7)));
    until(&s, &id, "passed", |o| report(o)["status"] == "passed").await;
}

#[tokio::test]
async fn after_a_terminal_swap_only_the_new_unit_s_reports_count() {
    let fake = FakeTraccar::start().await;
    let s = zz_tracking(Some(&fake)).await;
    let app = &s.app;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A70008")
            .await,
    );
    let old = id_of(&app.create_terminal(&app.admin, &app.zz.id, 8).await);
    let sim = id_of(&app.create_sim(&app.admin, &app.zz.id, 8).await);
    fit(app, &old, &vehicle, &sim).await;
    app.create_terminal(&app.admin, &app.zz.id, 9).await;
    fake.add_device(&unique(8), "豫A70008", json!({"iccid": iccid(8)}));
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"plate_no": "豫A70008"}), "终端不定位"),
        )
        .await,
    )
    .await;
    let id = id_of(&o);
    let lid = id_of(line(&o, 0));
    let o = approve_and_assign(&s, &o, &s.lead, &[], 5).await;
    let o = go_on_site(app, &s.lead, &o).await;
    // the old unit still reports while the technician works, under the same number
    fake.report(&unique(8), Fix::now(&iccid(8)));
    tokio::time::sleep(StdDuration::from_millis(20)).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{lid}/terminal-swap"),
        json!({"new_imei": imei(9), "fault": "不定位"}),
    )
    .await;
    assert_eq!(report(&o)["unique_id"], unique(8), "the card moved across");
    let o = looked_after(&s, &id, Utc::now()).await;
    assert_eq!(
        report(&o)["status"],
        "waiting",
        "the old unit's report proves nothing: {o}"
    );
    let d = fake.device(&unique(8)).unwrap();
    assert_eq!(
        d["attributes"]["imei"],
        imei(9),
        "the device now names the new unit"
    );
    assert_eq!(fake.devices().len(), 1);
    fake.report(&unique(8), Fix::now(&iccid(8)));
    until(&s, &id, "passed", |o| report(o)["status"] == "passed").await;
}
