//! GET /api/v1/search: each key finds its object, grouped in the fixed order; another
//! center's objects never appear (admins: all, or `center_id`); technicians 403; a bad
//! query 400 `search_query_invalid`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::{Zz, collect, completed_order, expect, fit, id_of, zz};
use crate::helpers::{TestApp, assert_problem, iccid, imei, msisdn};

const KINDS: [&str; 6] = ["order", "customer", "vehicle", "terminal", "sim", "payment"];
const VIN: &str = "LSVAU218XN2183294";

/// One customer with a vehicle, its driver, a fitted terminal and SIM, in a center.
struct Fleet {
    customer: String,
    vehicle: String,
    terminal: String,
    sim: String,
}

async fn fleet(
    app: &TestApp,
    center: &str,
    name: &str,
    (contact_phone, driver_phone): (&str, &str),
    plate: &str,
    vin: Option<&str>,
    n: u64,
) -> Fleet {
    let customer = id_of(
        &app.created(
            "/api/v1/customers",
            &app.admin,
            &json!({
                "center_id": center, "name": name, "tier": "key", "address": "花园路1号",
                "lat": 34.77, "lng": 113.66, "payment_terms": "cash",
                "contacts": [{"name": "王先生", "phone": contact_phone}]
            }),
        )
        .await,
    );
    let vehicle = id_of(
        &app.created(
            "/api/v1/vehicles",
            &app.admin,
            &json!({"customer_id": customer, "plate_no": plate, "vin": vin,
                    "drivers": [{"name": "李师傅", "phone": driver_phone}]}),
        )
        .await,
    );
    let terminal = id_of(&app.create_terminal(&app.admin, center, n).await);
    let sim = id_of(&app.create_sim(&app.admin, center, n).await);
    fit(app, &terminal, &vehicle, &sim).await;
    Fleet {
        customer,
        vehicle,
        terminal,
        sim,
    }
}

async fn search(app: &TestApp, token: &str, query: &str) -> Value {
    let body = expect(
        app.get(&format!("/api/v1/search?{query}"), token).await,
        StatusCode::OK,
    )
    .await;
    // groups in the fixed order, none empty, every item of its group's kind
    let kinds: Vec<&str> = body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["kind"].as_str().unwrap())
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| KINDS.iter().position(|x| x == k).unwrap());
    sorted.dedup();
    assert_eq!(kinds, sorted, "{body}");
    for g in body["groups"].as_array().unwrap() {
        let items = g["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{body}");
        assert!(items.iter().all(|i| i["kind"] == g["kind"]), "{body}");
        assert!(g["label"].as_str().is_some_and(|l| !l.is_empty()));
    }
    body
}

fn q(text: &str) -> String {
    format!("q={}", urlencode(text))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The items of `kind` in a search answer.
fn of_kind<'a>(body: &'a Value, kind: &str) -> Vec<&'a Value> {
    body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["kind"] == kind)
        .flat_map(|g| g["items"].as_array().unwrap())
        .collect()
}

/// The item of `kind` with this id, asserting it is there.
fn found<'a>(body: &'a Value, kind: &str, id: &str) -> &'a Value {
    of_kind(body, kind)
        .into_iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{kind} {id} not in {body}"))
}

fn ids(body: &Value) -> Vec<String> {
    KINDS
        .iter()
        .flat_map(|k| of_kind(body, k))
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

struct Scene {
    s: Zz,
    zz: Fleet,
    bj: Fleet,
}

async fn scene() -> Scene {
    let s = zz().await;
    let app = &s.app;
    let zz = fleet(
        app,
        &app.zz.id,
        "郑州顺达物流",
        ("13800138000", "13700137000"),
        "豫A12345",
        Some(VIN),
        910_001,
    )
    .await;
    let bj = fleet(
        app,
        &app.bj.id,
        "北京顺达物流",
        ("13800138001", "13700137001"),
        "京A12345",
        None,
        910_002,
    )
    .await;
    Scene { s, zz, bj }
}

#[tokio::test]
async fn each_key_finds_its_object() {
    let Scene { s, zz, .. } = scene().await;
    let app = &s.app;
    let agent = &s.agent;

    for text in ["豫A12345", "豫A123", "A12345", "a123", "12345", "2345"] {
        let body = search(app, agent, &q(text)).await;
        let v = found(&body, "vehicle", &zz.vehicle);
        assert_eq!(v["match"], "plate", "{text}: {body}");
        assert_eq!(v["title"], "豫A12345");
        assert_eq!(v["customer_id"], zz.customer.as_str());
        assert_eq!(v["vehicle_id"], zz.vehicle.as_str());
        assert!(v["order_id"].is_null());
    }
    let body = search(app, agent, &q("2183294")).await;
    assert_eq!(found(&body, "vehicle", &zz.vehicle)["match"], "vin");

    for text in ["13800138000", "138 0013 8000", "8000"] {
        let body = search(app, agent, &q(text)).await;
        let c = found(&body, "customer", &zz.customer);
        assert_eq!(c["match"], "contact_phone", "{text}: {body}");
        assert_eq!(c["title"], "郑州顺达物流");
        assert_eq!(c["customer_id"], zz.customer.as_str());
        assert!(
            c["subtitle"].as_str().unwrap().contains("138****8000"),
            "{c}"
        );
    }
    for text in ["13700137000", "7000"] {
        let body = search(app, agent, &q(text)).await;
        let v = found(&body, "vehicle", &zz.vehicle);
        assert_eq!(v["match"], "driver_phone", "{text}: {body}");
        assert!(v["subtitle"].as_str().unwrap().contains("李师傅"), "{v}");
    }
    for (text, how) in [
        ("zzsd", "initials"),
        ("ZZSDWL", "initials"),
        ("顺达", "name"),
    ] {
        let body = search(app, agent, &q(text)).await;
        let c = found(&body, "customer", &zz.customer);
        assert_eq!(c["match"], how, "{text}: {body}");
    }

    let imei = imei(910_001);
    for text in [imei.as_str(), &imei[9..]] {
        let body = search(app, agent, &q(text)).await;
        let t = found(&body, "terminal", &zz.terminal);
        assert_eq!(t["match"], "imei", "{text}: {body}");
        assert_eq!(t["title"], imei.as_str());
        assert_eq!(t["customer_id"], zz.customer.as_str());
        assert_eq!(t["vehicle_id"], zz.vehicle.as_str());
    }
    let (iccid, msisdn) = (iccid(910_001), msisdn(910_001));
    for (text, how) in [
        (iccid.as_str(), "iccid"),
        (&iccid[12..], "iccid"),
        (msisdn.as_str(), "msisdn"),
        (&msisdn[7..], "msisdn"),
    ] {
        let body = search(app, agent, &q(text)).await;
        let m = found(&body, "sim", &zz.sim);
        assert_eq!(m["match"], how, "{text}: {body}");
        assert_eq!(m["customer_id"], zz.customer.as_str());
        assert_eq!(m["vehicle_id"], zz.vehicle.as_str());
    }

    // an order and its receipt
    let order = completed_order(&s, &zz.customer, &s.lead, 5_000).await;
    let pay = collect(app, &s.lead, &id_of(&order), 5_000, "cash").await;
    let number = order["number"].as_str().unwrap();
    for text in [number, &number[..9], &number.to_lowercase()] {
        let body = search(app, agent, &q(text)).await;
        let o = found(&body, "order", &id_of(&order));
        assert_eq!(o["match"], "order_no", "{text}: {body}");
        assert_eq!(o["title"], number);
        assert_eq!(o["order_id"], id_of(&order).as_str());
        assert_eq!(o["customer_id"], zz.customer.as_str());
    }
    let receipt = pay["receipt_no"].as_str().unwrap();
    for text in [receipt, &receipt[..6]] {
        let body = search(app, &s.mgr, &q(text)).await;
        let p = found(&body, "payment", &id_of(&pay));
        assert_eq!(p["match"], "receipt_no", "{text}: {body}");
        assert_eq!(p["order_id"], id_of(&order).as_str());
        assert!(p["subtitle"].as_str().unwrap().contains("¥50.00"), "{p}");
    }

    // kinds and limit narrow the answer
    let body = search(app, agent, &format!("{}&kinds=vehicle", q("12345"))).await;
    assert!(
        body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["kind"] == "vehicle")
    );
    let body = search(app, agent, &format!("{}&limit=1", q("顺达"))).await;
    assert_eq!(of_kind(&body, "customer").len(), 1);

    // a renamed customer is found by its new name's initials, no longer by the old
    let c = expect(
        app.get(&format!("/api/v1/customers/{}", zz.customer), agent)
            .await,
        StatusCode::OK,
    )
    .await;
    let res = app
        .req(
            reqwest::Method::PATCH,
            &format!("/api/v1/customers/{}", zz.customer),
            agent,
        )
        .header("If-Match", format!("\"{}\"", c["version"]))
        .json(&json!({"name": "长沙快运"}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await;
    let body = search(app, agent, &q("csky")).await;
    assert_eq!(found(&body, "customer", &zz.customer)["match"], "initials");
    let body = search(app, agent, &q("zzsd")).await;
    assert!(of_kind(&body, "customer").is_empty(), "{body}");
}

#[tokio::test]
async fn another_centers_objects_never_appear() {
    let Scene { s, zz, bj } = scene().await;
    let app = &s.app;
    let bj_ids = [&bj.customer, &bj.vehicle, &bj.terminal, &bj.sim];
    let zz_ids = [&zz.customer, &zz.vehicle, &zz.terminal, &zz.sim];
    let (_, finance) = app.user("finance", &app.zz.id).await;
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let texts = [
        "顺达".to_string(),
        "bjsd".to_string(),
        "A12345".to_string(),
        "12345".to_string(),
        "京A1".to_string(),
        "13800138001".to_string(),
        "13700137001".to_string(),
        imei(910_002),
        iccid(910_002)[10..].to_string(),
        msisdn(910_002),
    ];
    for token in [&s.agent, &s.mgr, &finance] {
        for text in &texts {
            let found = ids(&search(app, token, &q(text)).await);
            assert!(
                bj_ids.iter().all(|id| !found.contains(id)),
                "{text}: {found:?}"
            );
            // asking for another center is asking for nothing
            let body = search(app, token, &format!("{}&center_id={}", q(text), app.bj.id)).await;
            assert!(ids(&body).is_empty(), "{text}: {body}");
        }
    }
    let found = ids(&search(app, &bj_agent, &q("顺达")).await);
    assert!(found.contains(&bj.customer) && !found.contains(&zz.customer));

    // admins: every center, or the one asked for
    for text in ["顺达", "A12345", "12345", "物流"] {
        let all = ids(&search(app, &app.admin, &q(text)).await);
        assert!(all.iter().any(|i| bj_ids.contains(&i)), "{text}: {all:?}");
        assert!(all.iter().any(|i| zz_ids.contains(&i)), "{text}: {all:?}");
        let only = ids(&search(
            app,
            &app.admin,
            &format!("{}&center_id={}", q(text), app.bj.id),
        )
        .await);
        assert!(only.iter().any(|i| bj_ids.contains(&i)), "{text}: {only:?}");
        assert!(
            only.iter().all(|i| !zz_ids.contains(&i)),
            "{text}: {only:?}"
        );
    }
}

#[tokio::test]
async fn technicians_may_not_search_and_bad_queries_are_400() {
    let s = zz().await;
    let app = &s.app;
    let res = app
        .get(&format!("/api/v1/search?{}", q("顺达")), &s.lead.token)
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    for query in [
        String::new(),
        "q=".to_string(),
        q("   "),
        q(&"顺".repeat(65)),
        format!("{}&limit=0", q("顺达")),
        format!("{}&limit=21", q("顺达")),
        format!("{}&limit=x", q("顺达")),
        format!("{}&kinds=order,nope", q("顺达")),
    ] {
        let res = app.get(&format!("/api/v1/search?{query}"), &s.agent).await;
        assert_problem(res, StatusCode::BAD_REQUEST, "search_query_invalid").await;
    }
    // 64 characters is fine; a name with LIKE's wildcards matches them literally
    search(app, &s.agent, &q(&"顺".repeat(64))).await;
    let body = search(app, &s.agent, &q("%_")).await;
    assert!(ids(&body).is_empty(), "{body}");
    let res = app.get("/api/v1/search?q=x", "not-a-token").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
