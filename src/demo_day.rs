//! A living day on top of the demo registry (`serve --demo`): a price list, work orders in
//! every state — awaiting approval, scheduled today, on site, completed and paid with the
//! cash handed to finance and waiting there, closed after its follow-up call — and support
//! tickets. A newcomer's desk and phone show work at once.
//!
//! Everything goes through the public REST API, in process (the same handlers, checks and
//! rules as a real request; no socket), as the demo's own people: agents take the orders,
//! the manager approves and assigns, technicians work them, the phone's payment and
//! remittance, the agent's follow-up call, the manager's close.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::{App, test, web};
use chrono::{Duration, Months, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::api::{self, AppState};
use crate::demo::DEMO_PASSWORD;

/// What the day put in, for the log.
#[derive(Debug, Default)]
pub struct DaySummary {
    pub parts: usize,
    pub orders: usize,
    pub tickets: usize,
    pub remittances: usize,
}

/// The price list (价目表) of the demo: parts a technician records and a customer pays for.
const PARTS: &[(&str, &str, i64)] = &[
    ("P-ANT", "GPS天线", 3500),
    ("P-PWR", "电源线", 1250),
    ("P-RLY", "断油断电继电器", 4800),
    ("P-MIC", "拾音器", 2600),
    ("P-FUSE", "保险丝（10A）", 300),
    ("P-CAM", "车载摄像头", 18000),
];
const READINESS: [&str; 4] = ["info_verified", "tools", "spare_parts", "documents"];

struct Api<S> {
    app: S,
    n: u32,
}

impl<S, B> Api<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        if_match: Option<i64>,
        idempotent: bool,
    ) -> Result<Value, String> {
        let mut req = test::TestRequest::default()
            .method(method.clone())
            .uri(&format!("/api/v1{path}"));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        if let Some(v) = if_match {
            req = req.insert_header(("If-Match", format!("\"{v}\"")));
        }
        if idempotent {
            self.n += 1;
            req = req.insert_header(("Idempotency-Key", format!("demo-day-{}", self.n)));
        }
        if let Some(b) = body {
            req = req.set_json(b);
        }
        let res = test::call_service(&self.app, req.to_request()).await;
        let status = res.status();
        let bytes = test::read_body(res).await;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("demo day: {method} {path} → {status} {value}"));
        }
        Ok(value)
    }

    async fn get(&mut self, path: &str, token: &str) -> Result<Value, String> {
        self.call(Method::GET, path, Some(token), None, None, false)
            .await
    }

    async fn post(&mut self, path: &str, token: &str, body: Value) -> Result<Value, String> {
        self.call(Method::POST, path, Some(token), Some(body), None, false)
            .await
    }

    /// An order action with the order's version as If-Match; answers the order.
    async fn act(
        &mut self,
        order: &Value,
        action: &str,
        token: &str,
        body: Value,
    ) -> Result<Value, String> {
        let id = s(order, "id");
        let version = order["version"].as_i64();
        self.call(
            Method::POST,
            &format!("/work-orders/{id}/{action}"),
            Some(token),
            Some(body),
            version,
            false,
        )
        .await
    }

    async fn login(&mut self, username: &str) -> Result<String, String> {
        let t = self
            .call(
                Method::POST,
                "/auth/login",
                None,
                Some(json!({"username": username, "password": DEMO_PASSWORD})),
                None,
                false,
            )
            .await?;
        Ok(s(&t, "access_token"))
    }

    /// A repair taken by the agent, approved and assigned by the manager to `lead`.
    async fn approve_assign(
        &mut self,
        team: &Team<'_>,
        f: &Fleet,
        lead: &str,
        symptoms: &str,
        hours: i64,
    ) -> Result<Value, String> {
        let o = self
            .post(
                "/work-orders/repair",
                team.agent,
                repair_body(f, symptoms, "urgent", team.now + Duration::hours(hours - 3)),
            )
            .await?;
        let o = self
            .act(
                &o,
                "approve",
                team.mgr,
                json!({"comment": "同意，尽快安排"}),
            )
            .await?;
        self.act(
            &o,
            "assign",
            team.mgr,
            json!({"lead_id": lead, "scheduled_at": iso(team.now + Duration::hours(hours))}),
        )
        .await
    }

    /// The lead accepts, checks readiness, departs and arrives.
    async fn on_the_way(&mut self, o: Value, token: &str) -> Result<Value, String> {
        let o = self.act(&o, "accept", token, json!({})).await?;
        let o = self
            .act(&o, "readiness", token, json!({"items": READINESS}))
            .await?;
        let o = self
            .act(
                &o,
                "depart",
                token,
                json!({"lat": 34.7466, "lng": 113.6254}),
            )
            .await?;
        let at = json!({"lat": o["site_lat"], "lng": o["site_lng"]});
        self.act(&o, "arrive", token, at).await
    }

    /// The repair on the one vehicle, a part from the price list, the sign-off, complete.
    async fn finish(&mut self, o: Value, token: &str) -> Result<Value, String> {
        let line = s(&o["lines"][0], "id");
        let o = self
            .act(
                &o,
                &format!("lines/{line}/repair"),
                token,
                json!({"notes": "天线接头松动氧化，更换天线后终端上线"}),
            )
            .await?;
        let o = self
            .act(
                &o,
                "parts",
                token,
                json!({"part_code": "P-ANT", "quantity": 1, "line_id": line}),
            )
            .await?;
        let signer = s(&o, "contact_name");
        let o = self
            .act(&o, "sign-off", token, json!({"signer_name": signer}))
            .await?;
        self.act(&o, "complete", token, json!({})).await
    }
}

/// Who takes and approves the day's repairs, and when the day is.
struct Team<'a> {
    agent: &'a str,
    mgr: &'a str,
    now: chrono::DateTime<Utc>,
}

fn repair_body(
    f: &Fleet,
    symptoms: &str,
    urgency: &str,
    requested: chrono::DateTime<Utc>,
) -> Value {
    let c = &f.customer;
    let contact = &c["contacts"][0];
    json!({
        "customer_id": s(c, "id"),
        "site_address": s(c, "address"),
        "site_lat": c["lat"],
        "site_lng": c["lng"],
        "contact_name": s(contact, "name"),
        "contact_phone": s(contact, "phone"),
        "channel": "phone",
        "urgency": urgency,
        "fault_symptoms": symptoms,
        "requested_at": iso(requested),
        "submit": true,
        "vehicle_id": f.vehicle_id,
    })
}

fn s(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn iso(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A vehicle of the Zhengzhou center with its terminal, and the customer it belongs to.
struct Fleet {
    vehicle_id: String,
    customer: Value,
    out_of_warranty: bool,
}

/// Loads the day through the API of `state`. Called once, right after the registry.
pub async fn load(state: web::Data<AppState>) -> Result<DaySummary, String> {
    let app = test::init_service(App::new().configure(api::with_state(state))).await;
    let mut api = Api { app, n: 0 };
    let mut sum = DaySummary::default();
    let admin = api.login("admin").await?;
    let agent = api.login("zz.agent1").await?;
    let agent2 = api.login("zz.agent2").await?;
    let mgr = api.login("zz.manager").await?;
    let tech1 = api.login("zz.tech1").await?;
    let tech1_id = s(&api.get("/auth/me", &tech1).await?, "id");

    for (code, name, fen) in PARTS {
        api.post(
            "/parts",
            &admin,
            json!({"code": code, "name": name, "unit_price_fen": fen}),
        )
        .await?;
        sum.parts += 1;
    }

    // the Zhengzhou vehicles that carry a terminal, of customers paying on site
    let centers = api.get("/centers", &admin).await?;
    let zz = centers["items"]
        .as_array()
        .or(centers.as_array())
        .and_then(|l| l.iter().find(|c| c["code"] == "ZZ"))
        .map(|c| s(c, "id"))
        .ok_or("demo day: no ZZ center")?;
    let terminals = api
        .get(
            &format!("/terminals?status=installed&center_id={zz}&limit=200"),
            &admin,
        )
        .await?;
    let today = Utc::now().date_naive();
    let mut fleet: Vec<Fleet> = Vec::new();
    for t in terminals["items"].as_array().into_iter().flatten() {
        let Some(vehicle_id) = t["vehicle_id"].as_str() else {
            continue;
        };
        let bought = NaiveDate::parse_from_str(&s(t, "purchase_date"), "%Y-%m-%d")
            .map_err(|e| format!("demo day: purchase_date: {e}"))?;
        let months = u32::try_from(t["warranty_months"].as_i64().unwrap_or(0)).unwrap_or(0);
        let ends = bought
            .checked_add_months(Months::new(months))
            .unwrap_or(bought);
        let vehicle = api.get(&format!("/vehicles/{vehicle_id}"), &admin).await?;
        let customer = api
            .get(
                &format!("/customers/{}", s(&vehicle, "customer_id")),
                &admin,
            )
            .await?;
        if customer["payment_terms"] != "cash" || fleet.iter().any(|f| f.vehicle_id == vehicle_id) {
            continue;
        }
        fleet.push(Fleet {
            vehicle_id: vehicle_id.to_string(),
            customer,
            out_of_warranty: ends < today,
        });
    }
    let mut old = fleet.iter().filter(|f| f.out_of_warranty);
    let (Some(paid), Some(closed)) = (old.next(), old.next()) else {
        return Err("demo day: the demo registry has too few out-of-warranty vehicles".into());
    };
    let mut others = fleet
        .iter()
        .filter(|f| f.vehicle_id != paid.vehicle_id && f.vehicle_id != closed.vehicle_id);
    let (Some(waiting), Some(on_site)) = (others.next(), others.next()) else {
        return Err("demo day: the demo registry has too few vehicles with terminals".into());
    };

    let now = Utc::now();
    let repair = |f: &Fleet, symptoms: &str, urgency: &str, hours_ago: i64| {
        repair_body(f, symptoms, urgency, now - Duration::hours(hours_ago))
    };

    // 1. awaiting the manager's approval: a repair and an install
    api.post(
        "/work-orders/repair",
        &agent,
        repair(waiting, "终端不上线，平台上车辆无定位", "normal", 1),
    )
    .await?;
    sum.orders += 1;
    let install_customer = &waiting.customer;
    let contact = &install_customer["contacts"][0];
    let install = |plates: &[&str], start: i64, notes: &str| {
        json!({
            "customer_id": s(install_customer, "id"),
            "site_address": s(install_customer, "address"),
            "site_lat": install_customer["lat"],
            "site_lng": install_customer["lng"],
            "contact_name": s(contact, "name"),
            "contact_phone": s(contact, "phone"),
            "window_start": iso(now + Duration::hours(start)),
            "window_end": iso(now + Duration::hours(start + 3)),
            "requested_at": iso(now - Duration::hours(2)),
            "urgency": "normal",
            "channel": "phone",
            "notes": notes,
            "submit": true,
            "vehicles": plates.iter().map(|p| json!({"plate_no": p, "driver": {"name": "张师傅", "phone": "13903710001"}})).collect::<Vec<_>>(),
        })
    };
    api.post(
        "/work-orders/install",
        &agent2,
        install(&["豫A6D801", "豫A6D802"], 26, "新车两辆，安装定位终端"),
    )
    .await?;
    sum.orders += 1;

    // 2. scheduled today for zz.tech1: an install of three new vehicles
    let o = api
        .post(
            "/work-orders/install",
            &agent,
            install(
                &["豫A6D811", "豫A6D812", "豫A6D813"],
                1,
                "车队集中安装，车辆在库",
            ),
        )
        .await?;
    let o = api
        .act(&o, "approve", &mgr, json!({"comment": "同意"}))
        .await?;
    api.act(
        &o,
        "assign",
        &mgr,
        json!({"lead_id": tech1_id, "scheduled_at": iso(now + Duration::hours(3))}),
    )
    .await?;
    sum.orders += 1;

    let team = Team {
        agent: &agent,
        mgr: &mgr,
        now,
    };

    // 3. on site now: zz.tech1 at a customer's yard
    let o = api
        .approve_assign(&team, on_site, &tech1_id, "SIM卡无信号，终端频繁掉线", -1)
        .await?;
    api.on_the_way(o, &tech1).await?;
    sum.orders += 1;

    // 4. completed and paid in cash by zz.tech1; the cash handed to finance, who has not
    //    counted it yet
    let o = api
        .approve_assign(&team, paid, &tech1_id, "终端不上线，天线外皮破损", -5)
        .await?;
    let o = api.on_the_way(o, &tech1).await?;
    let o = api.finish(o, &tech1).await?;
    let due = o["charge"]["amount_fen"].as_i64().unwrap_or(0);
    if due > 0 {
        api.call(
            Method::POST,
            &format!("/work-orders/{}/payments", s(&o, "id")),
            Some(&tech1),
            Some(json!({"amount_fen": due, "method": "cash", "payer_name": s(&o, "contact_name")})),
            None,
            true,
        )
        .await?;
        api.call(
            Method::POST,
            "/remittances",
            Some(&tech1),
            Some(json!({"notes": "现金交财务室"})),
            None,
            true,
        )
        .await?;
        sum.remittances += 1;
    }
    sum.orders += 1;

    // 5. closed: an earlier repair of zz.tech1's, paid by WeChat (nothing to hand over), the completion
    //    follow-up call recorded, then closed by the manager
    let o = api
        .approve_assign(&team, closed, &tech1_id, "定位漂移，轨迹断续", -9)
        .await?;
    let o = api.on_the_way(o, &tech1).await?;
    let o = api.finish(o, &tech1).await?;
    let order_id = s(&o, "id");
    let due = o["charge"]["amount_fen"].as_i64().unwrap_or(0);
    if due > 0 {
        api.call(
            Method::POST,
            &format!("/work-orders/{order_id}/payments"),
            Some(&tech1),
            Some(
                json!({"amount_fen": due, "method": "wechat", "payer_name": s(&o, "contact_name")}),
            ),
            None,
            true,
        )
        .await?;
    }
    let calls = api
        .get("/follow-ups?status=open&kind=completion&limit=200", &mgr)
        .await?;
    if let Some(f) = calls["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["order_id"].as_str() == Some(order_id.as_str()))
    {
        api.call(
            Method::POST,
            &format!("/follow-ups/{}/record", s(f, "id")),
            Some(&agent),
            Some(json!({"score": 5, "comment": "客户满意，师傅准时"})),
            f["version"].as_i64(),
            false,
        )
        .await?;
    }
    let o = api.get(&format!("/work-orders/{order_id}"), &mgr).await?;
    api.act(&o, "close", &mgr, json!({"comment": "已回访，结单"}))
        .await?;
    sum.orders += 1;

    // 6. tickets: an inquiry and a complaint about the paid repair
    for (who, kind, urgency, subject, description) in [
        (
            &agent,
            "inquiry",
            "normal",
            "咨询终端续费",
            "客户询问明年SIM卡流量费如何续费。",
        ),
        (
            &agent2,
            "complaint",
            "urgent",
            "维修后仍有掉线",
            "客户反映维修后车辆仍偶尔掉线，要求再次检查。",
        ),
    ] {
        api.post(
            "/tickets",
            who,
            json!({
                "customer_id": s(&paid.customer, "id"),
                "kind": kind,
                "channel": "hotline",
                "urgency": urgency,
                "subject": subject,
                "description": description,
            }),
        )
        .await?;
        sum.tickets += 1;
    }
    Ok(sum)
}
