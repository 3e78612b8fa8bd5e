//! Terminals, SIM cards, binding (terminal ↔ vehicle, SIM ↔ terminal) with its history,
//! and the all-or-nothing CSV imports.

use futures_util::future::join_all;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use dispatch::domain::ids::luhn_check_digit;

use crate::fixtures::{expect, get_sim, get_terminal, id_of, items};
use crate::helpers::{TestApp, assert_problem, error_fields, iccid, imei, msisdn, spawn_app};

// ------------------------------------------------------------------ helpers

async fn body(res: Response) -> Value {
    res.json().await.unwrap()
}

/// `(field, code)` of every per-field error of a 422.
fn field_codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").to_string(),
                        e["code"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn with_luhn(payload: &str) -> String {
    format!("{payload}{}", luhn_check_digit(payload))
}

/// The same number with its last (check) digit changed, so the Luhn check fails.
fn bad_luhn(valid: &str) -> String {
    let (head, last) = valid.split_at(valid.len() - 1);
    let d = last.parse::<u8>().unwrap();
    format!("{head}{}", (d + 1) % 10)
}

fn pair(field: &str, code: &str) -> (String, String) {
    (field.to_string(), code.to_string())
}

/// A customer of `center_id` with `plates.len()` vehicles; returns the vehicle ids.
async fn vehicles(app: &TestApp, center_id: &str, plates: &[&str]) -> Vec<String> {
    let customer = app
        .create_customer(&app.admin, center_id, "郑州宇通物流有限公司")
        .await;
    let cid = id_of(&customer);
    let mut out = Vec::new();
    for p in plates {
        out.push(id_of(&app.create_vehicle(&app.admin, &cid, p).await));
    }
    out
}

async fn bind(app: &TestApp, token: &str, terminal_id: &str, vehicle_id: &str) -> Response {
    app.post(
        &format!("/api/v1/terminals/{terminal_id}/bind"),
        token,
        &json!({"vehicle_id": vehicle_id, "reason": "新车安装"}),
    )
    .await
}

async fn unbind(app: &TestApp, token: &str, terminal_id: &str, status: Option<&str>) -> Response {
    let mut b = json!({"reason": "终端故障拆回"});
    if let Some(s) = status {
        b["status"] = json!(s);
    }
    app.post(
        &format!("/api/v1/terminals/{terminal_id}/unbind"),
        token,
        &b,
    )
    .await
}

async fn bind_sim(app: &TestApp, token: &str, sim_id: &str, terminal_id: &str) -> Response {
    app.post(
        &format!("/api/v1/sims/{sim_id}/bind"),
        token,
        &json!({"terminal_id": terminal_id, "reason": "装卡"}),
    )
    .await
}

async fn post_csv(
    app: &TestApp,
    path: &str,
    token: &str,
    csv: impl Into<reqwest::Body>,
) -> Response {
    app.req(Method::POST, path, token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
}

const TERMINAL_HEADER: &str = "imei,model_code,purchase_date";

/// A terminal CSV of `n` valid GT06N rows, IMEIs from test number `first` on.
fn terminal_csv(first: u64, n: u64) -> String {
    let mut s = format!("{TERMINAL_HEADER}\n");
    for i in 0..n {
        s.push_str(&format!("{},GT06N,2025-03-15\n", imei(first + i)));
    }
    s
}

// ------------------------------------------------------------------ terminals

#[tokio::test]
async fn manager_registers_a_terminal_into_warehouse_stock() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let res = app
        .post(
            "/api/v1/terminals",
            &mgr,
            &json!({"imei": imei(1), "model_code": "GT06N", "purchase_date": "2025-06-01"}),
        )
        .await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let t = expect(res, StatusCode::CREATED).await;
    assert_eq!(t["imei"], imei(1));
    assert_eq!(t["status"], "in_stock");
    assert_eq!(t["location"], "warehouse");
    assert_eq!(t["warranty_months"], 12, "the GT06N model's warranty");
    assert_eq!(t["center_id"], app.zz.id.as_str(), "the manager's center");
    assert_eq!(t["purchase_date"], "2025-06-01");
    assert!(t["vehicle_id"].is_null());
    assert!(t["technician_id"].is_null());
    assert_eq!(t["version"], 1);
    assert_eq!(get_terminal(&app, &id_of(&t)).await, t);

    // an explicit warranty wins over the model's
    let t = expect(
        app.post(
            "/api/v1/terminals",
            &mgr,
            &json!({"imei": imei(2), "model_code": "JM-VL03", "purchase_date": "2025-06-01", "warranty_months": 36}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(t["warranty_months"], 36);
    assert_eq!(app.count("terminals"), 2);
}

#[tokio::test]
async fn imei_is_validated() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let before = app.snapshot();
    let cases = [
        (imei(1)[..14].to_string(), "length"),
        ("86145205ABCDEF3".to_string(), "not_digits"),
        (bad_luhn(&imei(1)), "checksum"),
        (String::new(), "empty"),
    ];
    for (bad, code) in cases {
        let p = assert_problem(
            app.post(
                "/api/v1/terminals",
                &mgr,
                &json!({"imei": bad, "model_code": "GT06N", "purchase_date": "2025-06-01"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_codes(&p), vec![pair("imei", code)], "{bad}");
    }
    app.assert_unchanged(&before);
    // surrounding blanks are trimmed, the valid one goes in
    let t = expect(
        app.post(
            "/api/v1/terminals",
            &mgr,
            &json!({"imei": format!(" {} ", imei(1)), "model_code": "GT06N", "purchase_date": "2025-06-01"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(t["imei"], imei(1));
}

#[tokio::test]
async fn unknown_model_and_bad_dates_are_refused() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let before = app.snapshot();
    let p = assert_problem(
        app.post(
            "/api/v1/terminals",
            &mgr,
            &json!({"imei": imei(1), "model_code": "NOPE-1", "purchase_date": "2025-06-01"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), vec![pair("model_code", "unknown")]);

    let p = assert_problem(
        app.post(
            "/api/v1/terminals",
            &mgr,
            &json!({"imei": imei(1), "model_code": "GT06N", "purchase_date": "2099-01-01"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), vec![pair("purchase_date", "out_of_range")]);

    assert_problem(
        app.post(
            "/api/v1/terminals",
            &mgr,
            &json!({"imei": imei(1), "model_code": "GT06N", "purchase_date": "2025-13-01"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;

    // several bad fields are reported together
    let p = assert_problem(
        app.post(
            "/api/v1/terminals",
            &mgr,
            &json!({"imei": "123", "model_code": "GT06N", "purchase_date": "1999-12-31", "warranty_months": 121}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut fields = error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["imei", "purchase_date", "warranty_months"]);
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn duplicate_imei_is_a_conflict() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    app.create_terminal(&mgr, &app.zz.id, 7).await;
    let before = app.snapshot();
    // also across centers: an IMEI is globally unique
    let p = assert_problem(
        app.post(
            "/api/v1/terminals",
            &app.admin,
            &json!({"imei": imei(7), "model_code": "JM-VL03", "purchase_date": "2025-01-01", "center_id": app.bj.id}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    assert_eq!(p["field"], "imei");
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn equipment_permissions_by_role() {
    let app = spawn_app().await;
    let t = app.create_terminal(&app.admin, &app.zz.id, 1).await;
    let id = id_of(&t);
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let (_, tech) = app.user("technician", &app.zz.id).await;
    let (_, fin) = app.user("finance", &app.zz.id).await;
    let before = app.snapshot();

    assert_problem(
        app.post(
            "/api/v1/terminals",
            &agent,
            &json!({"imei": imei(2), "model_code": "GT06N", "purchase_date": "2025-06-01"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.patch(
            &format!("/api/v1/terminals/{id}"),
            &agent,
            Some(1),
            &json!({"notes": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.assert_unchanged(&before);

    // agents read
    let page = expect(app.get("/api/v1/terminals", &agent).await, StatusCode::OK).await;
    assert_eq!(items(&page).len(), 1);
    let got = expect(
        app.get(&format!("/api/v1/terminals/{id}"), &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["imei"], imei(1));

    // technicians and finance do not
    for token in [&tech, &fin] {
        for path in [
            "/api/v1/terminals".to_string(),
            format!("/api/v1/terminals/{id}"),
            "/api/v1/sims".to_string(),
            format!("/api/v1/binding-events?terminal_id={id}"),
        ] {
            assert_problem(
                app.get(&path, token).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn another_centers_terminals_are_invisible() {
    let app = spawn_app().await;
    let t = app.create_terminal(&app.admin, &app.zz.id, 1).await;
    let id = id_of(&t);
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    assert_problem(
        app.get(&format!("/api/v1/terminals/{id}"), &bj_mgr).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let page = expect(
        app.get(
            &format!("/api/v1/terminals?center_id={}", app.zz.id),
            &bj_mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(items(&page).is_empty(), "{page}");
    let page = expect(app.get("/api/v1/terminals", &bj_mgr).await, StatusCode::OK).await;
    assert!(items(&page).is_empty(), "{page}");
    // nor can they be changed
    assert_problem(
        app.patch(
            &format!("/api/v1/terminals/{id}"),
            &bj_mgr,
            Some(1),
            &json!({"notes": "mine now"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // and a BJ manager cannot register stock into ZZ
    let p = assert_problem(
        app.post(
            "/api/v1/terminals",
            &bj_mgr,
            &json!({"imei": imei(2), "model_code": "GT06N", "purchase_date": "2025-06-01", "center_id": app.zz.id}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["center_id"]);
    assert_eq!(get_terminal(&app, &id).await["notes"], Value::Null);
}

#[tokio::test]
async fn terminal_list_filters() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let a = app.create_terminal(&mgr, &app.zz.id, 1).await;
    app.create_terminal(&mgr, &app.zz.id, 2).await;
    app.create_terminal(&app.admin, &app.bj.id, 3).await;
    let c = expect(
        app.post(
            "/api/v1/terminals",
            &mgr,
            &json!({"imei": imei(4), "model_code": "JM-VL03", "purchase_date": "2025-06-01"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c["warranty_months"], 24);
    let repaired = expect(
        app.patch(
            &format!("/api/v1/terminals/{}", id_of(&a)),
            &mgr,
            Some(1),
            &json!({"status": "in_repair"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(repaired["status"], "in_repair");

    let imeis = |page: &Value| -> Vec<String> {
        items(page)
            .iter()
            .map(|t| t["imei"].as_str().unwrap().to_string())
            .collect()
    };
    let page = expect(app.get("/api/v1/terminals", &mgr).await, StatusCode::OK).await;
    assert_eq!(imeis(&page), [imei(1), imei(2), imei(4)], "only ZZ's");
    let page = expect(
        app.get("/api/v1/terminals", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 4, "the admin sees every center");

    let page = expect(
        app.get("/api/v1/terminals?status=in_repair", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(imeis(&page), [imei(1)]);
    let page = expect(
        app.get("/api/v1/terminals?status=in_stock", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(imeis(&page), [imei(2), imei(4)]);
    let page = expect(
        app.get("/api/v1/terminals?model_code=JM-VL03", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(imeis(&page), [imei(4)]);
    let prefix = &imei(2)[..14];
    let page = expect(
        app.get(&format!("/api/v1/terminals?imei={prefix}"), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(imeis(&page), [imei(2)]);
    let page = expect(
        app.get("/api/v1/terminals?imei=861452", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 3);
    let page = expect(
        app.get("/api/v1/terminals?imei=99", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert!(items(&page).is_empty());
    let page = expect(
        app.get("/api/v1/terminals?status=in_stock&model_code=GT06N", &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(imeis(&page), [imei(2)]);

    let p = assert_problem(
        app.get("/api/v1/terminals?imei=8614%25", &mgr).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), vec![pair("imei", "not_digits")]);
    assert_problem(
        app.get("/api/v1/terminals?imei=86a", &mgr).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn terminal_moves_into_a_technicians_van_and_back() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let (tech_id, _) = app.user("technician", &app.zz.id).await;
    let t = app.create_terminal(&mgr, &app.zz.id, 1).await;
    let path = format!("/api/v1/terminals/{}", id_of(&t));

    let res = app
        .patch(&path, &mgr, Some(1), &json!({"technician_id": tech_id}))
        .await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    let t = expect(res, StatusCode::OK).await;
    assert_eq!(t["location"], "technician");
    assert_eq!(t["technician_id"], tech_id.as_str());
    assert_eq!(t["status"], "in_stock");
    assert_eq!(t["version"], 2);
    let page = expect(
        app.get(&format!("/api/v1/terminals?technician_id={tech_id}"), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 1);
    let page = expect(
        app.get("/api/v1/terminals?location=technician", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 1);

    let t = expect(
        app.patch(&path, &mgr, Some(2), &json!({"technician_id": null}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["location"], "warehouse");
    assert!(t["technician_id"].is_null());
    assert_eq!(t["version"], 3);
}

#[tokio::test]
async fn terminal_update_refusals() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let (bj_tech, _) = app.user("technician", &app.bj.id).await;
    let (zz_agent, _) = app.user("agent", &app.zz.id).await;
    let t = app.create_terminal(&mgr, &app.zz.id, 1).await;
    let path = format!("/api/v1/terminals/{}", id_of(&t));

    // a technician of another center, or a user who is no technician
    for who in [bj_tech.as_str(), zz_agent.as_str(), "no-such-user"] {
        let p = assert_problem(
            app.patch(&path, &mgr, Some(1), &json!({"technician_id": who}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_codes(&p), vec![pair("technician_id", "unknown")]);
    }
    // installed only through binding
    let p = assert_problem(
        app.patch(&path, &mgr, Some(1), &json!({"status": "installed"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["status"]);
    // an unknown model
    let p = assert_problem(
        app.patch(&path, &mgr, Some(1), &json!({"model_code": "NOPE"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["model_code"]);
    assert_eq!(get_terminal(&app, &id_of(&t)).await, t, "nothing changed");

    // If-Match: missing, then stale
    assert_problem(
        app.patch(&path, &mgr, None, &json!({"notes": "货架A-3"}))
            .await,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    let t2 = expect(
        app.patch(&path, &mgr, Some(1), &json!({"notes": "货架A-3"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t2["notes"], "货架A-3");
    assert_eq!(t2["version"], 2);
    let p = assert_problem(
        app.patch(&path, &mgr, Some(1), &json!({"notes": "货架B-1"}))
            .await,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    assert_eq!(p["current_version"], 2);
    assert_eq!(get_terminal(&app, &id_of(&t)).await, t2);
}

// ------------------------------------------------------------------ SIM cards

#[tokio::test]
async fn sim_registration_derives_the_carrier() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let res = app
        .post(
            "/api/v1/sims",
            &mgr,
            &json!({"iccid": iccid(1), "msisdn": msisdn(1)}),
        )
        .await;
    let s = expect(res, StatusCode::CREATED).await;
    assert!(iccid(1).starts_with("8986000"));
    assert_eq!(s["iccid"], iccid(1));
    assert_eq!(s["msisdn"], msisdn(1));
    assert_eq!(s["carrier"], "china_mobile");
    assert_eq!(s["status"], "in_stock");
    assert!(s["terminal_id"].is_null());
    assert_eq!(s["center_id"], app.zz.id.as_str());
    assert_eq!(get_sim(&app, &id_of(&s)).await, s);

    // China Unicom and Telecom prefixes; an explicit carrier wins
    let unicom = with_luhn("8986011234567890123");
    let s = expect(
        app.post(
            "/api/v1/sims",
            &mgr,
            &json!({"iccid": unicom, "msisdn": msisdn(2)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(s["carrier"], "china_unicom");
    let telecom = with_luhn("898603123456789012");
    let s = expect(
        app.post(
            "/api/v1/sims",
            &mgr,
            &json!({"iccid": telecom, "msisdn": msisdn(3), "carrier": "other"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(s["carrier"], "other");

    // an 11-digit mobile number is fine too, and is stored without separators or +86
    let s = expect(
        app.post(
            "/api/v1/sims",
            &mgr,
            &json!({"iccid": iccid(4), "msisdn": "+86 138-1234-5678"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(s["msisdn"], "13812345678");
    let page = expect(
        app.get("/api/v1/sims?carrier=china_mobile", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 2);
    let page = expect(
        app.get("/api/v1/sims?msisdn=138", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 1);
}

#[tokio::test]
async fn plain_11_digit_mobile_msisdn_is_accepted() {
    let app = spawn_app().await;
    let s = expect(
        app.post(
            "/api/v1/sims",
            &app.admin,
            &json!({"iccid": iccid(1), "msisdn": "13812345678"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(s["msisdn"], "13812345678");
}

#[tokio::test]
async fn iccid_and_msisdn_are_validated() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let before = app.snapshot();
    let cases = [
        // ICCID
        (
            with_luhn("888600123456789012"),
            msisdn(1),
            "iccid",
            "prefix",
        ),
        (with_luhn("89860012345678901"), msisdn(1), "iccid", "length"),
        (bad_luhn(&iccid(1)), msisdn(1), "iccid", "checksum"),
        (
            "8986001234567890123F".to_string(),
            msisdn(1),
            "iccid",
            "not_digits",
        ),
        // MSISDN
        (iccid(1), "12345678901".to_string(), "msisdn", "prefix"),
        (iccid(1), "138123456789".to_string(), "msisdn", "length"),
        (iccid(1), "1066123456789".to_string(), "msisdn", "prefix"),
    ];
    for (i, m, field, code) in cases {
        let p = assert_problem(
            app.post("/api/v1/sims", &mgr, &json!({"iccid": i, "msisdn": m}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_codes(&p), vec![pair(field, code)], "{i} {m}");
    }
    // both at once
    let p = assert_problem(
        app.post(
            "/api/v1/sims",
            &mgr,
            &json!({"iccid": bad_luhn(&iccid(1)), "msisdn": "12345678901"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p),
        vec![pair("iccid", "checksum"), pair("msisdn", "prefix")]
    );
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn duplicate_iccid_or_msisdn_is_a_conflict() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    app.create_sim(&mgr, &app.zz.id, 1).await;
    let before = app.snapshot();
    let p = assert_problem(
        app.post(
            "/api/v1/sims",
            &mgr,
            &json!({"iccid": iccid(1), "msisdn": msisdn(2)}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    assert_eq!(p["field"], "iccid");
    let p = assert_problem(
        app.post(
            "/api/v1/sims",
            &mgr,
            &json!({"iccid": iccid(2), "msisdn": msisdn(1)}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    assert_eq!(p["field"], "msisdn");
    app.assert_unchanged(&before);
}

// ------------------------------------------------------------------ binding

#[tokio::test]
async fn binding_installs_the_terminal_in_the_vehicle() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345"]).await;
    let t = app.create_terminal(&mgr, &app.zz.id, 1).await;
    let id = id_of(&t);

    let res = bind(&app, &mgr, &id, &v[0]).await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    let b = expect(res, StatusCode::OK).await;
    assert_eq!(b["status"], "installed");
    assert_eq!(b["location"], "vehicle");
    assert_eq!(b["vehicle_id"], v[0].as_str());
    assert!(b["technician_id"].is_null());
    assert_eq!(b["version"], 2);
    assert_eq!(get_terminal(&app, &id).await, b);
    assert_eq!(app.count("binding_events"), 1);

    let page = expect(
        app.get(&format!("/api/v1/terminals?vehicle_id={}", v[0]), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 1);
    assert_eq!(items(&page)[0]["id"], id.as_str());
}

#[tokio::test]
async fn a_terminal_from_a_technicians_van_can_be_installed() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let (tech_id, _) = app.user("technician", &app.zz.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345"]).await;
    let t = app.create_terminal(&mgr, &app.zz.id, 1).await;
    let id = id_of(&t);
    expect(
        app.patch(
            &format!("/api/v1/terminals/{id}"),
            &mgr,
            Some(1),
            &json!({"technician_id": tech_id}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let b = expect(bind(&app, &mgr, &id, &v[0]).await, StatusCode::OK).await;
    assert_eq!(b["location"], "vehicle");
    assert!(b["technician_id"].is_null(), "no longer in the van");
    // while installed, it moves only through unbinding
    assert_problem(
        app.patch(
            &format!("/api/v1/terminals/{id}"),
            &mgr,
            Some(3),
            &json!({"status": "scrapped"}),
        )
        .await,
        StatusCode::CONFLICT,
        "terminal_already_bound",
    )
    .await;
}

#[tokio::test]
async fn binding_a_bound_terminal_again_changes_nothing() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345", "豫A12346"]).await;
    let id = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    expect(bind(&app, &mgr, &id, &v[0]).await, StatusCode::OK).await;
    let before = app.snapshot();
    let row = get_terminal(&app, &id).await;

    assert_problem(
        bind(&app, &mgr, &id, &v[1]).await,
        StatusCode::CONFLICT,
        "terminal_already_bound",
    )
    .await;
    // nor into the same vehicle twice
    assert_problem(
        bind(&app, &mgr, &id, &v[0]).await,
        StatusCode::CONFLICT,
        "terminal_already_bound",
    )
    .await;
    app.assert_unchanged(&before);
    assert_eq!(get_terminal(&app, &id).await, row);
}

#[tokio::test]
async fn a_terminal_in_repair_is_not_installable() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345"]).await;
    let id = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    expect(
        app.patch(
            &format!("/api/v1/terminals/{id}"),
            &mgr,
            Some(1),
            &json!({"status": "in_repair"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let before = app.snapshot();
    let row = get_terminal(&app, &id).await;
    assert_problem(
        bind(&app, &mgr, &id, &v[0]).await,
        StatusCode::CONFLICT,
        "terminal_not_installable",
    )
    .await;
    app.assert_unchanged(&before);
    assert_eq!(get_terminal(&app, &id).await, row);
}

#[tokio::test]
async fn binding_across_centers_is_refused() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let bj_vehicle = vehicles(&app, &app.bj.id, &["京A12345"]).await;
    let id = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    let before = app.snapshot();
    // the admin sees both, the rule refuses
    assert_problem(
        bind(&app, &app.admin, &id, &bj_vehicle[0]).await,
        StatusCode::CONFLICT,
        "center_mismatch",
    )
    .await;
    // a ZZ manager does not even see the BJ vehicle
    let p = assert_problem(
        bind(&app, &mgr, &id, &bj_vehicle[0]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), vec![pair("vehicle_id", "unknown")]);
    app.assert_unchanged(&before);
    assert_eq!(get_terminal(&app, &id).await["status"], "in_stock");
}

#[tokio::test]
async fn binding_needs_a_reason() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345"]).await;
    let id = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    let before = app.snapshot();
    let path = format!("/api/v1/terminals/{id}/bind");
    assert_problem(
        app.post(&path, &mgr, &json!({"vehicle_id": v[0]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let p = assert_problem(
        app.post(&path, &mgr, &json!({"vehicle_id": v[0], "reason": "   "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), vec![pair("reason", "required")]);
    // an unknown vehicle
    let p = assert_problem(
        app.post(&path, &mgr, &json!({"vehicle_id": "nope", "reason": "x"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["vehicle_id"]);
    app.assert_unchanged(&before);
    // an agent may not bind
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let before = app.snapshot();
    assert_problem(
        bind(&app, &agent, &id, &v[0]).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.assert_unchanged(&before);
    assert_eq!(app.count("binding_events"), 0);
    assert_eq!(get_terminal(&app, &id).await["status"], "in_stock");
}

#[tokio::test]
async fn unbinding_sends_the_terminal_to_the_warehouse() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345"]).await;
    let id = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    expect(bind(&app, &mgr, &id, &v[0]).await, StatusCode::OK).await;

    // not into "installed"
    assert_problem(
        unbind(&app, &mgr, &id, Some("installed")).await,
        StatusCode::CONFLICT,
        "bad_unbind_status",
    )
    .await;
    let t = expect(
        unbind(&app, &mgr, &id, Some("in_repair")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["status"], "in_repair");
    assert_eq!(t["location"], "warehouse");
    assert!(t["vehicle_id"].is_null());
    assert_eq!(t["version"], 3);
    assert_eq!(app.count("binding_events"), 2);

    let before = app.snapshot();
    assert_problem(
        unbind(&app, &mgr, &id, None).await,
        StatusCode::CONFLICT,
        "terminal_not_bound",
    )
    .await;
    app.assert_unchanged(&before);
    assert_eq!(get_terminal(&app, &id).await, t);
}

#[tokio::test]
async fn unbinding_defaults_to_stock_and_the_terminal_can_be_reinstalled() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345", "豫A12346"]).await;
    let id = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    expect(bind(&app, &mgr, &id, &v[0]).await, StatusCode::OK).await;
    let t = expect(unbind(&app, &mgr, &id, None).await, StatusCode::OK).await;
    assert_eq!(t["status"], "in_stock");
    assert_eq!(t["location"], "warehouse");
    let t = expect(bind(&app, &mgr, &id, &v[1]).await, StatusCode::OK).await;
    assert_eq!(t["vehicle_id"], v[1].as_str());
    assert_eq!(app.count("binding_events"), 3);
}

#[tokio::test]
async fn sim_binding_rules() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let t1 = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    let t2 = id_of(&app.create_terminal(&mgr, &app.zz.id, 2).await);
    let s1 = id_of(&app.create_sim(&mgr, &app.zz.id, 1).await);
    let s2 = id_of(&app.create_sim(&mgr, &app.zz.id, 2).await);

    let s = expect(bind_sim(&app, &mgr, &s1, &t1).await, StatusCode::OK).await;
    assert_eq!(s["status"], "active");
    assert_eq!(s["terminal_id"], t1.as_str());
    assert_eq!(s["version"], 2);
    let page = expect(
        app.get(&format!("/api/v1/sims?terminal_id={t1}"), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 1);
    let page = expect(
        app.get("/api/v1/sims?bound=false", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 1);
    assert_eq!(items(&page)[0]["id"], s2.as_str());

    let before = app.snapshot();
    let row1 = get_sim(&app, &s1).await;
    let row2 = get_sim(&app, &s2).await;
    // a second SIM into the same terminal
    assert_problem(
        bind_sim(&app, &mgr, &s2, &t1).await,
        StatusCode::CONFLICT,
        "terminal_has_sim",
    )
    .await;
    // the same SIM into another terminal
    assert_problem(
        bind_sim(&app, &mgr, &s1, &t2).await,
        StatusCode::CONFLICT,
        "sim_already_bound",
    )
    .await;
    // a bound SIM cannot be cancelled
    assert_problem(
        app.patch(
            &format!("/api/v1/sims/{s1}"),
            &mgr,
            Some(2),
            &json!({"status": "cancelled"}),
        )
        .await,
        StatusCode::CONFLICT,
        "sim_already_bound",
    )
    .await;
    app.assert_unchanged(&before);
    assert_eq!(get_sim(&app, &s1).await, row1);
    assert_eq!(get_sim(&app, &s2).await, row2);

    let s = expect(
        app.post(
            &format!("/api/v1/sims/{s1}/unbind"),
            &mgr,
            &json!({"reason": "换卡"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(s["status"], "in_stock");
    assert!(s["terminal_id"].is_null());
    assert_problem(
        app.post(
            &format!("/api/v1/sims/{s1}/unbind"),
            &mgr,
            &json!({"reason": "换卡"}),
        )
        .await,
        StatusCode::CONFLICT,
        "sim_not_bound",
    )
    .await;
    // now the terminal is free for the other SIM
    let s = expect(bind_sim(&app, &mgr, &s2, &t1).await, StatusCode::OK).await;
    assert_eq!(s["terminal_id"], t1.as_str());
    assert_eq!(app.count("binding_events"), 3);
}

#[tokio::test]
async fn a_cancelled_sim_is_not_usable() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let t = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    let s = id_of(&app.create_sim(&mgr, &app.zz.id, 1).await);
    let c = expect(
        app.patch(
            &format!("/api/v1/sims/{s}"),
            &mgr,
            Some(1),
            &json!({"status": "cancelled"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["status"], "cancelled");
    let before = app.snapshot();
    assert_problem(
        bind_sim(&app, &mgr, &s, &t).await,
        StatusCode::CONFLICT,
        "sim_not_usable",
    )
    .await;
    app.assert_unchanged(&before);
    assert_eq!(get_sim(&app, &s).await, c);
}

#[tokio::test]
async fn sim_binding_across_centers_is_refused() {
    let app = spawn_app().await;
    let t = id_of(&app.create_terminal(&app.admin, &app.zz.id, 1).await);
    let s = id_of(&app.create_sim(&app.admin, &app.bj.id, 1).await);
    let before = app.snapshot();
    assert_problem(
        bind_sim(&app, &app.admin, &s, &t).await,
        StatusCode::CONFLICT,
        "center_mismatch",
    )
    .await;
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn binding_history_of_a_terminal_and_a_sim() {
    let app = spawn_app().await;
    let (mgr_id, mgr) = app.user("manager", &app.zz.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345"]).await;
    let t = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    let s = id_of(&app.create_sim(&mgr, &app.zz.id, 1).await);

    expect(bind(&app, &mgr, &t, &v[0]).await, StatusCode::OK).await;
    expect(bind_sim(&app, &mgr, &s, &t).await, StatusCode::OK).await;
    expect(
        app.post(
            &format!("/api/v1/sims/{s}/unbind"),
            &mgr,
            &json!({"reason": "SIM卡欠费停机"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect(
        unbind(&app, &mgr, &t, Some("in_repair")).await,
        StatusCode::OK,
    )
    .await;

    let page = expect(
        app.get(&format!("/api/v1/binding-events?terminal_id={t}"), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    let evs = items(&page);
    let seen: Vec<(&str, &str)> = evs
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("terminal_vehicle", "bind"),
            ("sim_terminal", "bind"),
            ("sim_terminal", "unbind"),
            ("terminal_vehicle", "unbind"),
        ]
    );
    for e in evs {
        assert_eq!(e["terminal_id"], t.as_str());
        assert_eq!(e["actor_id"], mgr_id.as_str());
        assert!(e["order_id"].is_null());
        assert!(e.get("center_id").is_none(), "not part of the API");
        assert!(e["at"].is_string());
    }
    assert_eq!(evs[0]["vehicle_id"], v[0].as_str());
    assert!(evs[0]["sim_id"].is_null());
    assert_eq!(evs[0]["reason"], "新车安装");
    assert_eq!(evs[1]["sim_id"], s.as_str());
    assert!(evs[1]["vehicle_id"].is_null());
    assert_eq!(evs[1]["reason"], "装卡");
    assert_eq!(evs[2]["reason"], "SIM卡欠费停机");
    assert_eq!(evs[3]["vehicle_id"], v[0].as_str());
    assert_eq!(evs[3]["reason"], "终端故障拆回");

    let page = expect(
        app.get(&format!("/api/v1/binding-events?sim_id={s}"), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    let evs = items(&page);
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0]["action"], "bind");
    assert_eq!(evs[1]["action"], "unbind");
    for e in evs {
        assert_eq!(e["kind"], "sim_terminal");
        assert_eq!(e["sim_id"], s.as_str());
        assert_eq!(e["actor_id"], mgr_id.as_str());
    }

    let page = expect(
        app.get(&format!("/api/v1/binding-events?vehicle_id={}", v[0]), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 2);

    // paging keeps the order
    let page = expect(
        app.get(
            &format!("/api/v1/binding-events?terminal_id={t}&limit=3"),
            &mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = expect(
        app.get(
            &format!("/api/v1/binding-events?terminal_id={t}&limit=3&cursor={cursor}"),
            &mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&rest).len(), 1);
    assert_eq!(items(&rest)[0]["action"], "unbind");
    assert_eq!(items(&rest)[0]["kind"], "terminal_vehicle");

    // agents read the history too
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let page = expect(
        app.get(&format!("/api/v1/binding-events?terminal_id={t}"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 4);
}

#[tokio::test]
async fn binding_history_needs_a_filter_and_respects_centers() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let v = vehicles(&app, &app.zz.id, &["豫A12345"]).await;
    let t = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    expect(bind(&app, &mgr, &t, &v[0]).await, StatusCode::OK).await;

    let p = assert_problem(
        app.get("/api/v1/binding-events", &mgr).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), vec![pair("terminal_id", "required")]);

    let page = expect(
        app.get(&format!("/api/v1/binding-events?terminal_id={t}"), &bj_mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(items(&page).is_empty(), "{page}");
    let page = expect(
        app.get(
            &format!("/api/v1/binding-events?vehicle_id={}", v[0]),
            &bj_mgr,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(items(&page).is_empty(), "{page}");
    // while the admin and ZZ see it
    for token in [&mgr, &app.admin] {
        let page = expect(
            app.get(&format!("/api/v1/binding-events?terminal_id={t}"), token)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(items(&page).len(), 1);
    }
}

#[tokio::test]
async fn concurrent_binds_of_one_terminal_let_exactly_one_win() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let plates = [
        "豫A10001",
        "豫A10002",
        "豫A10003",
        "豫A10004",
        "豫A10005",
        "豫A10006",
    ];
    let v = vehicles(&app, &app.zz.id, &plates).await;
    let id = id_of(&app.create_terminal(&mgr, &app.zz.id, 1).await);
    let path = format!("/api/v1/terminals/{id}/bind");

    let sends = v.iter().map(|vid| {
        app.req(Method::POST, &path, &mgr)
            .json(&json!({"vehicle_id": vid, "reason": "并发安装"}))
            .send()
    });
    let results = join_all(sends).await;
    let mut winners = Vec::new();
    let mut losers = 0;
    for (res, vid) in results.into_iter().zip(&v) {
        let res = res.unwrap();
        match res.status() {
            StatusCode::OK => winners.push(vid.clone()),
            StatusCode::CONFLICT => {
                let p: Value = res.json().await.unwrap();
                assert_eq!(p["code"], "terminal_already_bound", "{p}");
                losers += 1;
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one bind wins");
    assert_eq!(losers, 5);
    assert_eq!(app.count("binding_events"), 1);
    let t = get_terminal(&app, &id).await;
    assert_eq!(t["vehicle_id"], winners[0].as_str());
    assert_eq!(t["version"], 2);
    let page = expect(
        app.get(&format!("/api/v1/binding-events?terminal_id={id}"), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page).len(), 1);
    assert_eq!(items(&page)[0]["vehicle_id"], winners[0].as_str());
}

// ------------------------------------------------------------------ CSV import

#[tokio::test]
async fn importing_500_valid_terminals() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let res = post_csv(
        &app,
        "/api/v1/terminals/import",
        &mgr,
        terminal_csv(1000, 500),
    )
    .await;
    let b = expect(res, StatusCode::CREATED).await;
    assert_eq!(b, json!({"imported": 500}));
    assert_eq!(app.count("terminals"), 500);
    let page = expect(
        app.get(&format!("/api/v1/terminals?imei={}", imei(1499)), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    let t = &items(&page)[0];
    assert_eq!(t["center_id"], app.zz.id.as_str());
    assert_eq!(t["status"], "in_stock");
    assert_eq!(t["location"], "warehouse");
    assert_eq!(t["warranty_months"], 12);
    assert_eq!(t["purchase_date"], "2025-03-15");
}

#[tokio::test]
async fn import_with_optional_columns_any_order_and_blank_lines() {
    let app = spawn_app().await;
    let csv = format!(
        "Model_Code, IMEI ,purchase_date,warranty_months,notes\n\
         JM-VL03,{},2025-01-02,,首批\n\
         \n\
         BSJ-A6,{},2024-12-31,6,\"含,逗号\"\n",
        imei(1),
        imei(2)
    );
    let b = expect(
        post_csv(&app, "/api/v1/terminals/import", &app.admin, csv).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["imported"], 2);
    let page = expect(
        app.get("/api/v1/terminals", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    let ts = items(&page);
    assert_eq!(ts[0]["imei"], imei(1));
    assert_eq!(ts[0]["warranty_months"], 24, "JM-VL03's default");
    assert_eq!(ts[0]["notes"], "首批");
    assert_eq!(ts[1]["model_code"], "BSJ-A6");
    assert_eq!(ts[1]["warranty_months"], 6);
    assert_eq!(ts[1]["notes"], "含,逗号");
}

#[tokio::test]
async fn import_with_bad_rows_imports_nothing_and_names_every_line() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    app.create_terminal(&mgr, &app.zz.id, 9999).await;
    let before = app.snapshot();
    let mut csv = format!("{TERMINAL_HEADER}\n");
    for row in 1..=500u64 {
        let line = match row {
            3 => format!("{},GT06N,2025-03-15", bad_luhn(&imei(2000 + row))),
            250 => format!("{},NO-SUCH,2025-03-15", imei(2000 + row)),
            100 => format!("{},GT06N,2025-03-15", imei(9999)),
            _ => format!("{},GT06N,2025-03-15", imei(2000 + row)),
        };
        csv.push_str(&line);
        csv.push('\n');
    }
    let p = assert_problem(
        post_csv(&app, "/api/v1/terminals/import", &mgr, csv).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut got = field_codes(&p);
    got.sort();
    assert_eq!(
        got,
        vec![
            pair("line 101: imei", "duplicate"),
            pair("line 251: model_code", "unknown"),
            pair("line 4: imei", "checksum"),
        ],
        "{p}"
    );
    app.assert_unchanged_because(&before, format_args!("nothing imported"));
}

#[tokio::test]
async fn import_line_numbers_are_file_lines_even_after_blank_lines() {
    let app = spawn_app().await;
    let before = app.snapshot();
    // line 1 header, 2 valid, 3 blank, 4 bad Luhn, 5 valid
    let csv = format!(
        "{TERMINAL_HEADER}\n{},GT06N,2025-01-02\n\n{},GT06N,2025-01-02\n{},GT06N,2025-01-02\n",
        imei(1),
        bad_luhn(&imei(2)),
        imei(3)
    );
    let p = assert_problem(
        post_csv(&app, "/api/v1/terminals/import", &app.admin, csv).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p),
        vec![pair("line 4: imei", "checksum")],
        "{p}"
    );
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn import_reports_bad_dates_and_warranties_per_line() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let csv = format!(
        "imei,model_code,purchase_date,warranty_months\n\
         {},GT06N,2025/01/02,\n\
         {},GT06N,2099-01-01,\n\
         {},GT06N,2025-01-02,abc\n\
         {},GT06N,2025-01-02,121\n",
        imei(1),
        imei(2),
        imei(3),
        imei(4)
    );
    let p = assert_problem(
        post_csv(&app, "/api/v1/terminals/import", &app.admin, csv).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p),
        vec![
            pair("line 2: purchase_date", "format"),
            pair("line 3: purchase_date", "out_of_range"),
            pair("line 4: warranty_months", "format"),
            pair("line 5: warranty_months", "out_of_range"),
        ]
    );
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn duplicate_imei_inside_the_file_is_refused() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let csv = format!(
        "{TERMINAL_HEADER}\n{},GT06N,2025-01-02\n{},GT06N,2025-01-02\n{},GT06N,2025-01-02\n",
        imei(1),
        imei(2),
        imei(1)
    );
    let p = assert_problem(
        post_csv(&app, "/api/v1/terminals/import", &app.admin, csv).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), vec![pair("line 4: imei", "duplicate")]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{p}"
    );
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn import_accepts_a_utf8_bom() {
    let app = spawn_app().await;
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(terminal_csv(1, 3).as_bytes());
    let b = expect(
        post_csv(&app, "/api/v1/terminals/import", &app.admin, bytes).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["imported"], 3);
    assert_eq!(app.count("terminals"), 3);
}

#[tokio::test]
async fn import_refuses_non_utf8_files() {
    let app = spawn_app().await;
    let before = app.snapshot();
    // "你好" in GBK, as Excel saves a Chinese CSV by default
    let mut bytes = format!("{TERMINAL_HEADER},notes\n{},GT06N,2025-01-02,", imei(1)).into_bytes();
    bytes.extend_from_slice(b"\xc4\xe3\xba\xc3\n");
    assert_problem(
        post_csv(&app, "/api/v1/terminals/import", &app.admin, bytes).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "csv_encoding",
    )
    .await;
    assert_problem(
        post_csv(
            &app,
            "/api/v1/terminals/import",
            &app.admin,
            b"\xc4\xe3\xba\xc3".to_vec(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "csv_encoding",
    )
    .await;
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn import_refuses_missing_columns_and_empty_files() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let p = assert_problem(
        post_csv(
            &app,
            "/api/v1/terminals/import",
            &app.admin,
            format!("imei,purchase_date\n{},2025-01-02\n", imei(1)),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "csv_header",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("model_code"), "{p}");
    // a header only
    assert_problem(
        post_csv(
            &app,
            "/api/v1/terminals/import",
            &app.admin,
            format!("{TERMINAL_HEADER}\n"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "csv_empty",
    )
    .await;
    // nothing at all
    let res = post_csv(&app, "/api/v1/terminals/import", &app.admin, "").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = body(res).await;
    assert!(p["code"] == "csv_header" || p["code"] == "csv_empty", "{p}");
    // a ragged row
    assert_problem(
        post_csv(
            &app,
            "/api/v1/terminals/import",
            &app.admin,
            format!("{TERMINAL_HEADER}\n{},GT06N\n", imei(1)),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "csv_malformed",
    )
    .await;
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn import_limits_rows_and_size() {
    let app = spawn_app().await;
    let before = app.snapshot();
    assert_problem(
        post_csv(
            &app,
            "/api/v1/terminals/import",
            &app.admin,
            terminal_csv(1, 5001),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "csv_too_many_rows",
    )
    .await;

    // just over 2 MiB
    let mut big = terminal_csv(1, 1);
    big.push_str(&format!("{},GT06N,2025-01-02,", imei(2)));
    while big.len() <= 2 * 1024 * 1024 {
        big.push_str("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    }
    big.push('\n');
    let res = post_csv(&app, "/api/v1/terminals/import", &app.admin, big).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    app.assert_unchanged(&before);
    // like every other error, a problem+json
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
}

#[tokio::test]
async fn only_admins_and_managers_import() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let before = app.snapshot();
    assert_problem(
        post_csv(&app, "/api/v1/terminals/import", &agent, terminal_csv(1, 2)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        post_csv(
            &app,
            "/api/v1/sims/import",
            &agent,
            format!("iccid,msisdn\n{},{}\n", iccid(1), msisdn(1)),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn import_into_a_center() {
    let app = spawn_app().await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    // the admin chooses the center
    let b = expect(
        post_csv(
            &app,
            &format!("/api/v1/terminals/import?center_id={}", app.bj.id),
            &app.admin,
            terminal_csv(1, 2),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["imported"], 2);
    let page = expect(app.get("/api/v1/terminals", &bj_mgr).await, StatusCode::OK).await;
    assert_eq!(items(&page).len(), 2);
    // a manager cannot import into another center
    let before = app.snapshot();
    let p = assert_problem(
        post_csv(
            &app,
            &format!("/api/v1/terminals/import?center_id={}", app.zz.id),
            &bj_mgr,
            terminal_csv(10, 2),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["center_id"]);
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn importing_sims() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    let mut csv = String::from("iccid,msisdn,carrier,notes\n");
    for n in 1..=50u64 {
        let carrier = if n == 7 { "china_unicom" } else { "" };
        csv.push_str(&format!("{},{},{carrier},\n", iccid(n), msisdn(n)));
    }
    csv.push_str(&format!("{},13812345678,,手机卡\n", iccid(51)));
    let b = expect(
        post_csv(&app, "/api/v1/sims/import", &mgr, csv).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b, json!({"imported": 51}));
    assert_eq!(app.count("sim_cards"), 51);
    let page = expect(
        app.get(&format!("/api/v1/sims?iccid={}", iccid(7)), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page)[0]["carrier"], "china_unicom");
    let page = expect(
        app.get(&format!("/api/v1/sims?iccid={}", iccid(8)), &mgr)
            .await,
        StatusCode::OK,
    )
    .await;
    let s = &items(&page)[0];
    assert_eq!(s["carrier"], "china_mobile", "derived from the ICCID");
    assert_eq!(s["status"], "in_stock");
    assert_eq!(s["center_id"], app.zz.id.as_str());
    let page = expect(
        app.get("/api/v1/sims?msisdn=13812345678", &mgr).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&page)[0]["notes"], "手机卡");
}

#[tokio::test]
async fn sim_import_with_a_bad_row_imports_nothing() {
    let app = spawn_app().await;
    let (_, mgr) = app.user("manager", &app.zz.id).await;
    app.create_sim(&mgr, &app.zz.id, 900).await;
    let before = app.snapshot();
    let mut csv = String::from("iccid,msisdn,carrier\n");
    for n in 1..=20u64 {
        let carrier = if n == 5 { "cmcc" } else { "china_mobile" };
        csv.push_str(&format!("{},{},{carrier}\n", iccid(n), msisdn(n)));
    }
    let p = assert_problem(
        post_csv(&app, "/api/v1/sims/import", &mgr, csv).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p),
        vec![pair("line 6: carrier", "invalid_choice")]
    );
    app.assert_unchanged(&before);

    // bad numbers, a duplicate inside the file and one already registered
    let csv = format!(
        "iccid,msisdn\n{},{}\n{},12345678901\n{},{}\n{},{}\n",
        bad_luhn(&iccid(1)),
        msisdn(1),
        iccid(2),
        iccid(3),
        msisdn(1),
        iccid(900),
        msisdn(4),
    );
    let p = assert_problem(
        post_csv(&app, "/api/v1/sims/import", &mgr, csv).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut got = field_codes(&p);
    got.sort();
    assert_eq!(
        got,
        vec![
            pair("line 2: iccid", "checksum"),
            pair("line 3: msisdn", "prefix"),
            pair("line 4: msisdn", "duplicate"),
            pair("line 5: iccid", "duplicate"),
        ],
        "{p}"
    );
    app.assert_unchanged(&before);

    assert_problem(
        post_csv(
            &app,
            "/api/v1/sims/import",
            &mgr,
            format!("iccid,carrier\n{},other\n", iccid(1)),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "csv_header",
    )
    .await;
    app.assert_unchanged(&before);
}
