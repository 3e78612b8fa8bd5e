//! The warranty verdict in the customer archive: each terminal in a vehicle carries what a
//! repair call filed today would be told (the desk's repair call page shows it live), and
//! it agrees with the verdict the repair order then records.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, imei, spawn_app};
use dispatch::domain::warranty::verdict;
use dispatch::store::now;

async fn ok_json(res: reqwest::Response, what: &str) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// A terminal bought `days_ago` with `months` of warranty, installed in `vehicle`.
async fn installed(app: &TestApp, n: u64, days_ago: i64, months: i32, vehicle: &str) -> Value {
    let bought = dispatch::domain::china_day(now()) - chrono::Duration::days(days_ago);
    let t = app
        .created(
            "/api/v1/terminals",
            &app.admin,
            &json!({"imei": imei(n), "model_code": "GT06N", "purchase_date": bought,
                    "warranty_months": months, "center_id": app.zz.id}),
        )
        .await;
    let res = app
        .post(
            &format!("/api/v1/terminals/{}/bind", t["id"].as_str().unwrap()),
            &app.admin,
            &json!({"vehicle_id": vehicle, "reason": "新装"}),
        )
        .await;
    ok_json(res, "bind").await;
    t
}

#[tokio::test]
async fn archive_terminals_carry_todays_warranty_verdict() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let customer = app.create_customer(&agent, &app.zz.id, "顺达物流").await;
    let cid = customer["id"].as_str().unwrap().to_string();
    let v_new = app.create_vehicle(&agent, &cid, "豫A20001").await;
    let v_old = app.create_vehicle(&agent, &cid, "豫A20002").await;
    let new_t = installed(&app, 11, 30, 12, v_new["id"].as_str().unwrap()).await;
    let old_t = installed(&app, 12, 3 * 365, 12, v_old["id"].as_str().unwrap()).await;

    let path = format!("/api/v1/customers/{cid}/archive");
    let archive = ok_json(app.get(&path, &agent).await, "archive").await;
    let today = dispatch::domain::china_day(now());
    let terminal_of = |plate: &str| -> Value {
        archive["vehicles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["plate_no"] == plate)
            .unwrap()["terminals"][0]
            .clone()
    };
    let a = terminal_of("豫A20001");
    assert_eq!(a["id"], new_t["id"]);
    let expected = verdict(
        new_t["purchase_date"].as_str().unwrap().parse().unwrap(),
        12,
        today,
    );
    assert_eq!(a["warranty"], json!(expected));
    assert_eq!(a["warranty"]["in_warranty"], true);
    let b = terminal_of("豫A20002");
    assert_eq!(b["id"], old_t["id"]);
    assert_eq!(b["warranty"]["in_warranty"], false);
    let expected = verdict(
        old_t["purchase_date"].as_str().unwrap().parse().unwrap(),
        12,
        today,
    );
    assert_eq!(b["warranty"], json!(expected));

    // the repair order filed for each vehicle records the same verdict
    for (vehicle, terminal) in [(&v_new, &a), (&v_old, &b)] {
        let order = app
            .created(
                "/api/v1/work-orders/repair",
                &agent,
                &json!({"customer_id": cid, "vehicle_id": vehicle["id"],
                        "site_address": "郑州市金水区花园路1号", "site_lat": 34.77, "site_lng": 113.66,
                        "contact_name": "王喆", "contact_phone": "13812345678",
                        "fault_symptoms": "不定位", "submit": false}),
            )
            .await;
        assert_eq!(order["warranty_in"], terminal["warranty"]["in_warranty"]);
        assert_eq!(order["warranty_ends_on"], terminal["warranty"]["ends_on"]);
    }

    // finance reads the archive without equipment (so without verdicts); another center
    // is told the customer does not exist; a technician may not read archives
    let (_, finance) = app.user("finance", &app.zz.id).await;
    let f = ok_json(app.get(&path, &finance).await, "finance archive").await;
    assert_eq!(f["terminal_count"], 0);
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    assert_problem(
        app.get(&path, &bj_agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let (_, tech) = app.user("technician", &app.zz.id).await;
    assert_problem(
        app.get(&path, &tech).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
