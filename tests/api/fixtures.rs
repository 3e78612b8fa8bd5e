//! The scenes the API tests start from, built through the API as the handbook's people
//! would: the ZZ center with its manager, agent, technicians and a customer ([`zz`]), users
//! and technician profiles, terminals fitted to vehicles, orders approved, assigned, on site
//! and completed ([`completed_order`]); and the small request helpers every scene uses.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use dispatch::notify::worker::MailSettings;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{AppOptions, PASSWORD, TestApp, imei, spawn_app_with};

pub(crate) const ORDERS: &str = "/api/v1/work-orders";

pub(crate) const READINESS: [&str; 4] = ["info_verified", "tools", "spare_parts", "documents"];

pub(crate) const SIGNATURE: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// Asserts the status, then returns the JSON body (with the text in the failure message).
pub(crate) async fn expect(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub(crate) fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an object with an id: {v}"))
        .to_string()
}

pub(crate) fn version_of(v: &Value) -> i64 {
    v["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("an object with a version: {v}"))
}

pub(crate) fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("a page with items")
}

/// RFC 3339 (UTC, seconds) for now + `offset`.
pub(crate) fn at(offset: Duration) -> String {
    (Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The year of order numbers (Asia/Shanghai).
pub(crate) fn year() -> i32 {
    (Utc::now() + Duration::hours(8)).year()
}

/// `SELECT COUNT(*) AS n FROM …` straight from the store.
pub(crate) fn count_sql(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut c = app.pool.get().unwrap();
    diesel::sql_query(sql).get_result::<N>(&mut c).unwrap().n
}

pub(crate) struct Tech {
    pub(crate) id: String,
    pub(crate) token: String,
}

/// A technician of `center_id` with a profile: (skills, home position, external?).
pub(crate) async fn technician(
    app: &TestApp,
    center_id: &str,
    can_install: bool,
    can_repair: bool,
    home: (f64, f64),
    external: bool,
) -> Tech {
    let (id, token) = app.user("technician", center_id).await;
    let mut body = json!({
        "user_id": id, "can_install": can_install, "can_repair": can_repair,
        "models": ["GT06N", "JM-VL03"], "home_lat": home.0, "home_lng": home.1,
    });
    if external {
        body["external"] = json!(true);
        body["contractor_company"] = json!("郑州快修外协服务部");
    }
    app.created("/api/v1/technicians", &app.admin, &body).await;
    Tech { id, token }
}

/// The ZZ center's people and a customer.
pub(crate) struct Zz {
    pub(crate) app: TestApp,
    pub(crate) mgr_id: String,
    pub(crate) mgr: String,
    pub(crate) mgr2: String,
    pub(crate) agent_id: String,
    pub(crate) agent: String,
    pub(crate) lead: Tech,
    pub(crate) helper: Tech,
    pub(crate) customer: String,
}

pub(crate) async fn zz() -> Zz {
    zz_with(AppOptions::default()).await
}

pub(crate) async fn zz_with(opts: AppOptions) -> Zz {
    let app = spawn_app_with(opts).await;
    let center = app.zz.id.clone();
    let (mgr_id, mgr) = app.user("manager", &center).await;
    let (_, mgr2) = app.user("manager", &center).await;
    let (agent_id, agent) = app.user("agent", &center).await;
    let lead = technician(&app, &center, true, true, (34.75, 113.63), false).await;
    let helper = technician(&app, &center, true, true, (34.76, 113.64), false).await;
    let customer = id_of(
        &app.create_customer(&app.admin, &center, "郑州宇通物流有限公司")
            .await,
    );
    Zz {
        app,
        mgr_id,
        mgr,
        mgr2,
        agent_id,
        agent,
        lead,
        helper,
        customer,
    }
}

pub(crate) fn install_body(customer: &str, vehicles: Value, submit: bool) -> Value {
    json!({
        "customer_id": customer,
        "site_address": "郑州市管城区航海东路物流园3号库",
        "site_lat": 34.72, "site_lng": 113.70,
        "contact_name": "王喆", "contact_phone": "13812345678",
        "window_start": at(Duration::hours(20)),
        "window_end": at(Duration::hours(26)),
        "requested_at": at(-Duration::hours(2)),
        "urgency": "normal",
        "channel": "phone",
        "notes": "车队集中安装",
        "submit": submit,
        "vehicles": vehicles,
    })
}

/// An install order for new vehicles with these plates; returns the created order.
pub(crate) async fn install_order(s: &Zz, plates: &[&str], submit: bool) -> Value {
    let vehicles: Vec<Value> = plates
        .iter()
        .map(|p| json!({"plate_no": p, "driver": {"name": "李堃", "phone": "13912345678"}}))
        .collect();
    let res = s
        .app
        .post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!(vehicles), submit),
        )
        .await;
    created_order(res).await
}

/// A 201 with an order view whose ETag is its version.
pub(crate) async fn created_order(res: Response) -> Value {
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let o = expect(res, StatusCode::CREATED).await;
    assert_eq!(etag, Some(format!("\"{}\"", version_of(&o))), "ETag of {o}");
    o
}

/// POST /work-orders/{id}/{action} with If-Match (and an Idempotency-Key when given).
pub(crate) async fn post_action(
    app: &TestApp,
    token: &str,
    order_id: &str,
    action: &str,
    version: Option<i64>,
    key: Option<&str>,
    body: &Value,
) -> Response {
    let mut r = app
        .req(
            Method::POST,
            &format!("{ORDERS}/{order_id}/{action}"),
            token,
        )
        .json(body);
    if let Some(v) = version {
        r = r.header("If-Match", format!("\"{v}\""));
    }
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.unwrap()
}

/// An action on `order` (at its current version) that must succeed: 200, the version
/// bumped by exactly one, the ETag matching. Returns the new order view.
pub(crate) async fn act(
    app: &TestApp,
    token: &str,
    order: &Value,
    action: &str,
    body: Value,
) -> Value {
    let before = version_of(order);
    let res = post_action(app, token, &id_of(order), action, Some(before), None, &body).await;
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{action}: {text}");
    let o: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(id_of(&o), id_of(order), "{action} answers the order view");
    assert_eq!(
        version_of(&o),
        before + 1,
        "{action} bumps the version once"
    );
    assert_eq!(etag, Some(format!("\"{}\"", before + 1)), "{action} ETag");
    o
}

/// Like [`act`] for recording acts (parts, verbal approvals) that may answer 200 or 201.
pub(crate) async fn record(
    app: &TestApp,
    token: &str,
    order: &Value,
    action: &str,
    body: Value,
) -> Value {
    let before = version_of(order);
    let res = post_action(app, token, &id_of(order), action, Some(before), None, &body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(
        status == StatusCode::OK || status == StatusCode::CREATED,
        "{action}: {status} {text}"
    );
    let o = get_order(app, &app.admin, &id_of(order)).await;
    assert_eq!(
        version_of(&o),
        before + 1,
        "{action} bumps the version once"
    );
    o
}

pub(crate) async fn get_order(app: &TestApp, token: &str, id: &str) -> Value {
    let res = app.get(&format!("{ORDERS}/{id}"), token).await;
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let o = expect(res, StatusCode::OK).await;
    assert_eq!(etag, Some(format!("\"{}\"", version_of(&o))), "GET ETag");
    o
}

pub(crate) async fn timeline(app: &TestApp, id: &str) -> Vec<Value> {
    let page = expect(
        app.get(&format!("{ORDERS}/{id}/timeline"), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    items(&page).clone()
}

pub(crate) fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn line(order: &Value, i: usize) -> &Value {
    &order["lines"].as_array().expect("lines")[i]
}

/// Manager approves (when submitted) and assigns `lead` (+ `helpers`), scheduled in
/// `hours` hours.
pub(crate) async fn approve_and_assign(
    s: &Zz,
    order: &Value,
    lead: &Tech,
    helpers: &[&Tech],
    hours: i64,
) -> Value {
    let mut o = order.clone();
    if o["status"] == "submitted" {
        o = act(&s.app, &s.mgr, &o, "approve", json!({"comment": "同意"})).await;
    }
    let helper_ids: Vec<&str> = helpers.iter().map(|h| h.id.as_str()).collect();
    act(
        &s.app,
        &s.mgr,
        &o,
        "assign",
        json!({"lead_id": lead.id, "helper_ids": helper_ids, "scheduled_at": at(Duration::hours(hours))}),
    )
    .await
}

/// The lead accepts, ticks readiness, departs and arrives: on_site.
pub(crate) async fn go_on_site(app: &TestApp, lead: &Tech, order: &Value) -> Value {
    let o = act(app, &lead.token, order, "accept", json!({})).await;
    let o = act(
        app,
        &lead.token,
        &o,
        "readiness",
        json!({"items": READINESS}),
    )
    .await;
    let o = act(
        app,
        &lead.token,
        &o,
        "depart",
        json!({"lat": 34.75, "lng": 113.63}),
    )
    .await;
    act(
        app,
        &lead.token,
        &o,
        "arrive",
        json!({"lat": 34.7201, "lng": 113.7003}),
    )
    .await
}

pub(crate) async fn get_terminal(app: &TestApp, id: &str) -> Value {
    expect(
        app.get(&format!("/api/v1/terminals/{id}"), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await
}

pub(crate) async fn get_sim(app: &TestApp, id: &str) -> Value {
    expect(
        app.get(&format!("/api/v1/sims/{id}"), &app.admin).await,
        StatusCode::OK,
    )
    .await
}

pub(crate) async fn terminal_with(
    app: &TestApp,
    n: u64,
    model: &str,
    purchase: NaiveDate,
) -> Value {
    app.created(
        "/api/v1/terminals",
        &app.admin,
        &json!({"imei": imei(n), "model_code": model, "purchase_date": purchase.to_string(), "center_id": app.zz.id}),
    )
    .await
}

/// Binds terminal → vehicle and SIM → terminal through the registry (as the admin).
pub(crate) async fn fit(app: &TestApp, terminal_id: &str, vehicle_id: &str, sim_id: &str) {
    expect(
        app.post(
            &format!("/api/v1/terminals/{terminal_id}/bind"),
            &app.admin,
            &json!({"vehicle_id": vehicle_id, "reason": "新车安装"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.post(
            &format!("/api/v1/sims/{sim_id}/bind"),
            &app.admin,
            &json!({"terminal_id": terminal_id, "reason": "装卡"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

pub(crate) fn repair_body(customer: &str, vehicle: Value, fault: &str) -> Value {
    let mut b = json!({
        "customer_id": customer,
        "site_address": "郑州市金水区花园路1号停车场",
        "site_lat": 34.77, "site_lng": 113.66,
        "contact_name": "王喆", "contact_phone": "13812345678",
        "channel": "phone", "urgency": "urgent",
        "fault_symptoms": fault,
        "requested_at": at(-Duration::hours(3)),
        "submit": true,
    });
    for (k, v) in vehicle.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A completed install order of `customer` led by `lead` whose fee is `fee` fen (one part
/// at that price; its one vehicle not done).
pub(crate) async fn completed_order(s: &Zz, customer: &str, lead: &Tech, fee: i64) -> Value {
    let app = &s.app;
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let code = format!("P-M{n}");
    app.created(
        "/api/v1/parts",
        &app.admin,
        &json!({"code": code, "name": "安装支架", "unit_price_fen": fee}),
    )
    .await;
    let plate = format!("豫A{:05}", 20000 + n);
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(customer, json!([{"plate_no": plate}]), true),
        )
        .await,
    )
    .await;
    // visits three hours apart, so the lead is never double-booked
    let o = approve_and_assign(s, &o, lead, &[], 4 + 3 * i64::from(n % 40)).await;
    let o = go_on_site(app, lead, &o).await;
    let line_id = id_of(line(&o, 0));
    let o = act(
        app,
        &lead.token,
        &o,
        &format!("lines/{line_id}/not-done"),
        json!({"reason": "车辆未到场"}),
    )
    .await;
    let o = record(
        app,
        &lead.token,
        &o,
        "parts",
        json!({"part_code": code, "quantity": 1}),
    )
    .await;
    let o = act(
        app,
        &lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    let o = act(app, &lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["fee_fen"], fee);
    assert_eq!(o["charge"]["amount_fen"], fee, "{o}");
    o
}

pub(crate) async fn finance(s: &Zz) -> (String, String) {
    s.app.user("finance", &s.app.zz.id).await
}

pub(crate) fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) async fn collect_res(
    app: &TestApp,
    token: &str,
    order_id: &str,
    key: Option<&str>,
    body: &Value,
) -> Response {
    let mut r = app
        .req(
            Method::POST,
            &format!("{ORDERS}/{order_id}/payments"),
            token,
        )
        .json(body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.unwrap()
}

/// A collection on site that must succeed.
pub(crate) async fn collect(
    app: &TestApp,
    tech: &Tech,
    order_id: &str,
    fen: i64,
    method: &str,
) -> Value {
    expect(
        collect_res(
            app,
            &tech.token,
            order_id,
            Some(&key()),
            &json!({"amount_fen": fen, "method": method, "payer_name": "王喆", "lat": 34.72, "lng": 113.70}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

pub(crate) fn set_email(app: &TestApp, user_id: &str, email: &str) {
    use dispatch::store::schema::users::dsl as u;
    diesel::update(u::users.find(user_id))
        .set(u::email.eq(Some(email)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
}

/// The ZZ center with e-mail: the first manager and the lead have addresses, the second
/// manager has none; the customer's contact 王喆 has one.
pub(crate) async fn zz_mail(mail: MailSettings) -> Zz {
    let s = zz_with(AppOptions {
        mail: Some(mail),
        ..Default::default()
    })
    .await;
    set_email(&s.app, &s.mgr_id, "manager@zz.test");
    set_email(&s.app, &s.lead.id, "lead@zz.test");
    let c = expect(
        s.app
            .get(&format!("/api/v1/customers/{}", s.customer), &s.app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    let res = s
        .app
        .client
        .patch(s.app.url(&format!("/api/v1/customers/{}", s.customer)))
        .bearer_auth(&s.app.admin)
        .header("If-Match", format!("\"{}\"", c["version"]))
        .json(&json!({"contacts": [{"name": "王喆", "phone": "13812345678", "email": "fleet@customer.test"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    s
}

/// A user created through the API by the admin.
pub(crate) async fn create_user(
    app: &TestApp,
    username: &str,
    display_name: &str,
    role: &str,
    center_id: &str,
) -> Value {
    let res = app
        .post(
            "/api/v1/users",
            &app.admin,
            &json!({
                "username": username,
                "display_name": display_name,
                "password": PASSWORD,
                "role": role,
                "center_id": center_id,
            }),
        )
        .await;
    expect(res, StatusCode::CREATED).await
}

pub(crate) fn profile_body(user_id: &str, models: &[&str]) -> Value {
    json!({
        "user_id": user_id,
        "can_install": true,
        "can_repair": true,
        "models": models,
        "home_lat": 34.75,
        "home_lng": 113.62,
    })
}

/// A technician profile created through the API with `token`.
pub(crate) async fn create_profile(app: &TestApp, token: &str, body: &Value) -> Value {
    expect(
        app.post("/api/v1/technicians", token, body).await,
        StatusCode::CREATED,
    )
    .await
}

/// A technician user of `center_id` with a profile knowing `models`: (id, token).
pub(crate) async fn technician_with_profile(
    app: &TestApp,
    center_id: &str,
    models: &[&str],
) -> (String, String) {
    let (id, token) = app.user("technician", center_id).await;
    create_profile(app, &app.admin, &profile_body(&id, models)).await;
    (id, token)
}
