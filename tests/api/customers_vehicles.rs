//! Customers (with contacts and the archive), vehicles and drivers: validation, roles,
//! center scope, optimistic concurrency, filters and pagination.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

const CUSTOMERS: &str = "/api/v1/customers";
const VEHICLES: &str = "/api/v1/vehicles";
const DRIVERS: &str = "/api/v1/drivers";
/// A syntactically valid id that no object has.
const NO_SUCH_ID: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

// ------------------------------------------------------------------ helpers

/// A valid customer body, with `overrides` merged in (a `null` override removes the key).
fn customer_body(overrides: Value) -> Value {
    let mut body = json!({
        "name": "郑州顺达物流有限公司",
        "tier": "key",
        "address": "郑州市管城区航海东路88号",
        "payment_terms": "cash",
        "contacts": [{"name": "张伟", "phone": "13812345678", "title": "车队长"}]
    });
    let map = body.as_object_mut().unwrap();
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    body
}

async fn json_of(res: Response) -> Value {
    res.json().await.unwrap()
}

fn etag(res: &Response) -> String {
    res.headers()
        .get("etag")
        .expect("an ETag header")
        .to_str()
        .unwrap()
        .to_string()
}

/// POSTs `body`, which must be created (201); returns the created object.
async fn created(app: &TestApp, token: &str, path: &str, body: &Value) -> Value {
    let res = app.post(path, token, body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "POST {path} {body}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// POSTs `body`, which must be refused with a 422 naming `field`, writing nothing.
async fn refused(app: &TestApp, token: &str, path: &str, body: &Value, field: &str) -> Value {
    let before = app.snapshot();
    let res = app.post(path, token, body).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(
        error_fields(&problem).iter().any(|f| f == field),
        "expected an error on {field}: {problem}"
    );
    app.assert_unchanged_because(
        &before,
        format_args!("a refused POST {path} wrote something"),
    );
    problem
}

/// The error entry of `field` in a 422 problem.
fn field_error<'a>(problem: &'a Value, field: &str) -> &'a Value {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == field)
        .unwrap_or_else(|| panic!("no error on {field}: {problem}"))
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let res = app.get(path, token).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The ids of a page's items.
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------- customers

#[tokio::test]
async fn agent_creates_a_customer_in_their_own_center() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let res = app
        .post(
            CUSTOMERS,
            &agent,
            &customer_body(json!({
                "lat": 34.7466, "lng": 113.6254,
                "notes": "每月初对账",
                "contacts": [
                    {"name": "张伟", "phone": "13812345678", "title": "车队长"},
                    {"name": "李娜", "phone": "0371-67891234", "email": "lina@example.com", "title": "调度"},
                    {"name": "王芳", "phone": "+86 139-1234-5678"}
                ]
            })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(etag(&res), "\"1\"");
    let c = json_of(res).await;
    assert_eq!(c["center_id"], app.zz.id.as_str());
    assert_eq!(c["name"], "郑州顺达物流有限公司");
    assert_eq!(c["tier"], "key");
    assert_eq!(c["payment_terms"], "cash");
    assert_eq!(c["credit_days"], Value::Null);
    assert_eq!(c["lat"], 34.7466);
    assert_eq!(c["notes"], "每月初对账");
    assert_eq!(c["version"], 1);
    let names: Vec<&str> = c["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ct| ct["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["张伟", "李娜", "王芳"]);
    assert_eq!(c["contacts"][1]["phone"], "0371-67891234");
    assert_eq!(c["contacts"][1]["email"], "lina@example.com");
    assert_eq!(c["contacts"][2]["phone"], "13912345678");
    assert_eq!(c["contacts"][2]["email"], Value::Null);
    assert_eq!(app.count("customers"), 1);
    assert_eq!(app.count("customer_contacts"), 3);

    // the stored customer reads back the same, with its ETag
    let res = app.get(&format!("{CUSTOMERS}/{}", id(&c)), &agent).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"1\"");
    assert_eq!(json_of(res).await, c);
}

#[tokio::test]
async fn customer_name_must_not_be_empty() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    for name in ["", "   "] {
        let p = refused(
            &app,
            &agent,
            CUSTOMERS,
            &customer_body(json!({"name": name})),
            "name",
        )
        .await;
        assert_eq!(field_error(&p, "name")["code"], "required");
    }
    let c = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"name": "  顺达物流  "})),
    )
    .await;
    assert_eq!(c["name"], "顺达物流");
}

#[tokio::test]
async fn unknown_tier_is_an_invalid_body() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let before = app.snapshot();
    assert_problem(
        app.post(CUSTOMERS, &agent, &customer_body(json!({"tier": "vip"})))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    app.assert_unchanged(&before);
    for tier in ["key", "major", "normal"] {
        let c = created(
            &app,
            &agent,
            CUSTOMERS,
            &customer_body(json!({"tier": tier})),
        )
        .await;
        assert_eq!(c["tier"], tier);
    }
}

#[tokio::test]
async fn credit_terms_need_credit_days() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let p = refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"payment_terms": "credit"})),
        "credit_days",
    )
    .await;
    assert_eq!(field_error(&p, "credit_days")["code"], "required");
    let c = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"payment_terms": "credit", "credit_days": 30})),
    )
    .await;
    assert_eq!(c["payment_terms"], "credit");
    assert_eq!(c["credit_days"], 30);
}

#[tokio::test]
async fn cash_terms_refuse_credit_days() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let p = refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"payment_terms": "cash", "credit_days": 30})),
        "credit_days",
    )
    .await;
    assert_eq!(field_error(&p, "credit_days")["code"], "not_allowed");
    let c = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"payment_terms": "cash"})),
    )
    .await;
    assert_eq!(c["credit_days"], Value::Null);
}

#[tokio::test]
async fn credit_days_must_be_between_1_and_365() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    for days in [0, -5, 366] {
        let p = refused(
            &app,
            &agent,
            CUSTOMERS,
            &customer_body(json!({"payment_terms": "credit", "credit_days": days})),
            "credit_days",
        )
        .await;
        assert_eq!(field_error(&p, "credit_days")["code"], "out_of_range");
    }
    for days in [1, 365] {
        let c = created(
            &app,
            &agent,
            CUSTOMERS,
            &customer_body(json!({"payment_terms": "credit", "credit_days": days})),
        )
        .await;
        assert_eq!(c["credit_days"], days);
    }
}

#[tokio::test]
async fn coordinates_come_in_pairs() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    for partial in [json!({"lat": 34.75}), json!({"lng": 113.62})] {
        let p = refused(&app, &agent, CUSTOMERS, &customer_body(partial), "lat").await;
        assert_eq!(field_error(&p, "lat")["code"], "incomplete");
    }
    let both = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"lat": 34.75, "lng": 113.62})),
    )
    .await;
    assert_eq!(
        (both["lat"].as_f64(), both["lng"].as_f64()),
        (Some(34.75), Some(113.62))
    );
    let neither = created(&app, &agent, CUSTOMERS, &customer_body(json!({}))).await;
    assert_eq!(
        (&neither["lat"], &neither["lng"]),
        (&Value::Null, &Value::Null)
    );
}

#[tokio::test]
async fn coordinates_must_be_in_range() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let p = refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"lat": 95.0, "lng": 113.62})),
        "lat",
    )
    .await;
    assert_eq!(field_error(&p, "lat")["code"], "out_of_range");
    refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"lat": 34.75, "lng": 181.0})),
        "lng",
    )
    .await;
    let edge = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"lat": 90.0, "lng": -180.0})),
    )
    .await;
    assert_eq!(edge["lat"].as_f64(), Some(90.0));
}

#[tokio::test]
async fn customer_needs_at_least_one_contact() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let p = refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"contacts": []})),
        "contacts",
    )
    .await;
    assert_eq!(field_error(&p, "contacts")["code"], "required");
    let c = created(&app, &agent, CUSTOMERS, &customer_body(json!({}))).await;
    assert_eq!(c["contacts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn contact_phone_must_be_a_mobile_or_landline_number() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"contacts": [{"name": "张伟", "phone": "12345"}]})),
        "contacts[0].phone",
    )
    .await;
    // the error names the contact that is wrong
    let p = refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"contacts": [
            {"name": "张伟", "phone": "13812345678"},
            {"name": "李娜", "phone": "12345"}
        ]})),
        "contacts[1].phone",
    )
    .await;
    assert_eq!(error_fields(&p), ["contacts[1].phone"]);
    let c = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"contacts": [
            {"name": "张伟", "phone": "0371-67891234"},
            {"name": "李娜", "phone": "037167891234"}
        ]})),
    )
    .await;
    assert_eq!(c["contacts"][0]["phone"], "0371-67891234");
    assert_eq!(c["contacts"][1]["phone"], "0371-67891234");
}

#[tokio::test]
async fn contact_email_must_be_valid() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let p = refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"contacts": [
            {"name": "张伟", "phone": "13812345678", "email": "not-an-email"}
        ]})),
        "contacts[0].email",
    )
    .await;
    assert_eq!(field_error(&p, "contacts[0].email")["code"], "format");
    let c = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"contacts": [
            {"name": "张伟", "phone": "13812345678", "email": "Zhang.Wei@Example.COM"},
            {"name": "李娜", "phone": "13912345678", "email": ""}
        ]})),
    )
    .await;
    assert_eq!(c["contacts"][0]["email"], "Zhang.Wei@example.com");
    assert_eq!(c["contacts"][1]["email"], Value::Null);
}

#[tokio::test]
async fn managers_agents_and_admins_create_customers() {
    let app = spawn_app().await;
    let (_, manager) = app.user("manager", &app.zz.id).await;
    let (_, agent) = app.user("agent", &app.bj.id).await;
    let m = created(&app, &manager, CUSTOMERS, &customer_body(json!({}))).await;
    assert_eq!(m["center_id"], app.zz.id.as_str());
    let a = created(&app, &agent, CUSTOMERS, &customer_body(json!({}))).await;
    assert_eq!(a["center_id"], app.bj.id.as_str());
    let admin = created(
        &app,
        &app.admin,
        CUSTOMERS,
        &customer_body(json!({"center_id": app.bj.id})),
    )
    .await;
    assert_eq!(admin["center_id"], app.bj.id.as_str());
    assert_eq!(app.count("customers"), 3);
}

#[tokio::test]
async fn customers_are_created_only_in_a_center_of_the_callers_scope() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    refused(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"center_id": app.bj.id})),
        "center_id",
    )
    .await;
    refused(
        &app,
        &app.admin,
        CUSTOMERS,
        &customer_body(json!({"center_id": NO_SUCH_ID})),
        "center_id",
    )
    .await;
}

#[tokio::test]
async fn finance_reads_customers_but_cannot_write_them() {
    let app = spawn_app().await;
    let (_, finance) = app.user("finance", &app.zz.id).await;
    let c = app
        .create_customer(&app.admin, &app.zz.id, "顺达物流")
        .await;
    let path = format!("{CUSTOMERS}/{}", id(&c));
    let page = get_json(&app, CUSTOMERS, &finance).await;
    assert_eq!(ids(&page), [id(&c)]);
    assert_eq!(get_json(&app, &path, &finance).await["name"], "顺达物流");

    let before = app.snapshot();
    assert_problem(
        app.post(CUSTOMERS, &finance, &customer_body(json!({})))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.patch(&path, &finance, Some(1), &json!({"name": "改名"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.assert_unchanged(&before);
    assert_eq!(get_json(&app, &path, &app.admin).await["name"], "顺达物流");
}

#[tokio::test]
async fn technicians_cannot_read_customers() {
    let app = spawn_app().await;
    let (_, tech) = app.user("technician", &app.zz.id).await;
    let c = app
        .create_customer(&app.admin, &app.zz.id, "顺达物流")
        .await;
    for path in [
        CUSTOMERS.to_string(),
        format!("{CUSTOMERS}/{}", id(&c)),
        format!("{CUSTOMERS}/{}/archive", id(&c)),
    ] {
        assert_problem(
            app.get(&path, &tech).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
}

#[tokio::test]
async fn another_centers_customer_does_not_exist_for_the_caller() {
    let app = spawn_app().await;
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let zz = app
        .create_customer(&app.admin, &app.zz.id, "郑州顺达")
        .await;
    let path = format!("{CUSTOMERS}/{}", id(&zz));

    let hidden = assert_problem(
        app.get(&path, &bj_agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let missing = assert_problem(
        app.get(&format!("{CUSTOMERS}/{NO_SUCH_ID}"), &bj_agent)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(hidden, missing);

    let before = app.snapshot();
    assert_problem(
        app.patch(&path, &bj_agent, Some(1), &json!({"name": "北京改名"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    app.assert_unchanged(&before);
    let stored = get_json(&app, &path, &app.admin).await;
    assert_eq!(stored["name"], "郑州顺达");
    assert_eq!(stored["version"], 1);
}

#[tokio::test]
async fn customer_lists_are_limited_to_the_callers_center() {
    let app = spawn_app().await;
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let zz = app
        .create_customer(&app.admin, &app.zz.id, "郑州顺达")
        .await;
    let bj = app
        .create_customer(&app.admin, &app.bj.id, "北京通达")
        .await;

    assert_eq!(ids(&get_json(&app, CUSTOMERS, &bj_agent).await), [id(&bj)]);
    let other = get_json(
        &app,
        &format!("{CUSTOMERS}?center_id={}", app.zz.id),
        &bj_agent,
    )
    .await;
    assert_eq!(other["items"], json!([]));
    assert_eq!(other["next_cursor"], Value::Null);
    let own = get_json(
        &app,
        &format!("{CUSTOMERS}?center_id={}", app.bj.id),
        &bj_agent,
    )
    .await;
    assert_eq!(ids(&own), [id(&bj)]);

    assert_eq!(
        ids(&get_json(&app, CUSTOMERS, &app.admin).await),
        [id(&zz), id(&bj)]
    );
    assert_eq!(
        ids(&get_json(
            &app,
            &format!("{CUSTOMERS}?center_id={}", app.zz.id),
            &app.admin
        )
        .await),
        [id(&zz)]
    );
}

#[tokio::test]
async fn patch_customer_changes_name_and_replaces_contacts() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = app.create_customer(&agent, &app.zz.id, "顺达物流").await;
    let path = format!("{CUSTOMERS}/{}", id(&c));
    let res = app
        .patch(
            &path,
            &agent,
            Some(1),
            &json!({
                "name": "顺达物流集团",
                "contacts": [
                    {"name": "赵敏", "phone": "13700001111", "title": "调度"},
                    {"name": "钱坤", "phone": "010-12345678", "email": "qk@example.com"}
                ]
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"2\"");
    let updated = json_of(res).await;
    assert_eq!(updated["name"], "顺达物流集团");
    assert_eq!(updated["version"], 2);
    // untouched fields stay
    assert_eq!(updated["tier"], c["tier"]);
    assert_eq!(updated["address"], c["address"]);
    assert_eq!(updated["lat"], c["lat"]);
    assert_eq!(
        updated["contacts"],
        json!([
            {"name": "赵敏", "phone": "13700001111", "email": null, "title": "调度"},
            {"name": "钱坤", "phone": "010-12345678", "email": "qk@example.com", "title": null}
        ])
    );
    assert_eq!(app.count("customer_contacts"), 2);
    assert_eq!(get_json(&app, &path, &agent).await, updated);

    // an update without contacts keeps them
    let res = app
        .patch(&path, &agent, Some(2), &json!({"tier": "normal"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again = json_of(res).await;
    assert_eq!(again["tier"], "normal");
    assert_eq!(again["contacts"], updated["contacts"]);

    // an empty contact list is refused like on create
    let before = app.snapshot();
    let p = assert_problem(
        app.patch(&path, &agent, Some(3), &json!({"contacts": []}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["contacts"]);
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn patch_customer_without_if_match_is_428() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = app.create_customer(&agent, &app.zz.id, "顺达物流").await;
    let path = format!("{CUSTOMERS}/{}", id(&c));
    assert_problem(
        app.patch(&path, &agent, None, &json!({"name": "改名"}))
            .await,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    assert_eq!(get_json(&app, &path, &agent).await, c);
}

#[tokio::test]
async fn patch_customer_with_a_stale_version_is_412_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = app.create_customer(&agent, &app.zz.id, "顺达物流").await;
    let path = format!("{CUSTOMERS}/{}", id(&c));
    let res = app
        .patch(&path, &agent, Some(1), &json!({"name": "第一次"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let current = json_of(res).await;

    let before = app.snapshot();
    let p = assert_problem(
        app.patch(
            &path,
            &agent,
            Some(1),
            &json!({"name": "第二次", "contacts": [{"name": "孙丽", "phone": "13600002222"}]}),
        )
        .await,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    assert_eq!(p["current_version"], 2);
    app.assert_unchanged(&before);
    let stored = get_json(&app, &path, &agent).await;
    assert_eq!(stored, current);
    assert_eq!(stored["name"], "第一次");
    assert_eq!(stored["contacts"][0]["name"], "王喆");
}

#[tokio::test]
async fn patch_customer_keeps_the_payment_terms_rules() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = app.create_customer(&agent, &app.zz.id, "顺达物流").await;
    let path = format!("{CUSTOMERS}/{}", id(&c));

    let p = assert_problem(
        app.patch(&path, &agent, Some(1), &json!({"payment_terms": "credit"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["credit_days"]);
    assert_eq!(get_json(&app, &path, &agent).await, c);

    let res = app
        .patch(
            &path,
            &agent,
            Some(1),
            &json!({"payment_terms": "credit", "credit_days": 30}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let credit = json_of(res).await;
    assert_eq!(credit["payment_terms"], "credit");
    assert_eq!(credit["credit_days"], 30);

    // back to cash: the credit days must go too
    assert_problem(
        app.patch(&path, &agent, Some(2), &json!({"payment_terms": "cash"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let res = app
        .patch(
            &path,
            &agent,
            Some(2),
            &json!({"payment_terms": "cash", "credit_days": null}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cash = json_of(res).await;
    assert_eq!(cash["payment_terms"], "cash");
    assert_eq!(cash["credit_days"], Value::Null);
}

#[tokio::test]
async fn customers_filter_by_tier_and_name() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let a = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"name": "郑州顺达物流", "tier": "key"})),
    )
    .await;
    let b = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"name": "洛阳安通运输", "tier": "major"})),
    )
    .await;
    let c = created(
        &app,
        &agent,
        CUSTOMERS,
        &customer_body(json!({"name": "郑州恒通货运", "tier": "normal"})),
    )
    .await;
    let list = |query: &'static str| {
        let app = &app;
        let agent = &agent;
        async move { ids(&get_json(app, &format!("{CUSTOMERS}?{query}"), agent).await) }
    };
    assert_eq!(list("tier=key").await, [id(&a)]);
    assert_eq!(list("tier=major").await, [id(&b)]);
    assert_eq!(list("q=郑州").await, [id(&a), id(&c)]);
    assert_eq!(list("q=通").await, [id(&b), id(&c)]);
    assert_eq!(list("q=郑州&tier=normal").await, [id(&c)]);
    assert_eq!(list("q=上海").await, Vec::<String>::new());
    // LIKE wildcards in q are literal
    assert_eq!(list("q=%25").await, Vec::<String>::new());
    assert_eq!(list("q=_").await, Vec::<String>::new());
}

#[tokio::test]
async fn customers_paginate_with_a_cursor() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let mut expected = Vec::new();
    for name in ["甲物流", "乙物流", "丙物流"] {
        expected.push(id(&app.create_customer(&agent, &app.zz.id, name).await));
    }
    let mut seen = Vec::new();
    let mut path = format!("{CUSTOMERS}?limit=1");
    loop {
        let page = get_json(&app, &path, &agent).await;
        let items = ids(&page);
        assert_eq!(items.len(), 1, "{page}");
        assert_eq!(page["items"][0]["contacts"][0]["name"], "王喆");
        seen.extend(items);
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{CUSTOMERS}?limit=1&cursor={cursor}"),
            None => break,
        }
        assert!(seen.len() < 3, "the last page still has a cursor: {page}");
    }
    assert_eq!(seen, expected);

    let p = assert_problem(
        app.get(&format!("{CUSTOMERS}?limit=0"), &agent).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["limit"]);
}

#[tokio::test]
async fn archive_shows_vehicles_drivers_terminals_and_sims() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let customer = app.create_customer(&agent, &app.zz.id, "顺达物流").await;
    let cid = id(&customer);
    let v1 = app.create_vehicle(&agent, &cid, "豫A10001").await;
    let v2 = app.create_vehicle(&agent, &cid, "豫A10002").await;
    let extra = created(
        &app,
        &agent,
        &format!("{VEHICLES}/{}/drivers", id(&v1)),
        &json!({"name": "周杰", "phone": "13500003333"}),
    )
    .await;
    // another customer's vehicle stays out of this archive
    let other = app.create_customer(&agent, &app.zz.id, "恒通货运").await;
    app.create_vehicle(&agent, &id(&other), "豫A10003").await;

    let terminal = app.create_terminal(&app.admin, &app.zz.id, 1).await;
    let sim = app.create_sim(&app.admin, &app.zz.id, 1).await;
    // a terminal in stock, in no vehicle, is not in the archive either
    app.create_terminal(&app.admin, &app.zz.id, 2).await;
    let res = app
        .post(
            &format!("/api/v1/terminals/{}/bind", id(&terminal)),
            &app.admin,
            &json!({"vehicle_id": id(&v2), "reason": "新装"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let res = app
        .post(
            &format!("/api/v1/sims/{}/bind", id(&sim)),
            &app.admin,
            &json!({"terminal_id": id(&terminal), "reason": "插卡"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );

    let path = format!("{CUSTOMERS}/{cid}/archive");
    let archive = get_json(&app, &path, &agent).await;
    assert_eq!(archive["customer"]["id"], cid.as_str());
    assert_eq!(archive["customer"]["contacts"][0]["name"], "王喆");
    assert_eq!(archive["vehicle_count"], 2);
    assert_eq!(archive["terminal_count"], 1);
    let vehicles = archive["vehicles"].as_array().unwrap();
    assert_eq!(vehicles.len(), 2);

    let a = &vehicles[0];
    assert_eq!(a["id"], id(&v1).as_str());
    assert_eq!(a["plate_no"], "豫A10001");
    let drivers: Vec<&str> = a["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        drivers,
        [
            v1["drivers"][0]["id"].as_str().unwrap(),
            extra["id"].as_str().unwrap()
        ]
    );
    assert_eq!(a["terminals"], json!([]));

    let b = &vehicles[1];
    assert_eq!(b["id"], id(&v2).as_str());
    assert_eq!(b["plate_no"], "豫A10002");
    assert_eq!(b["drivers"].as_array().unwrap().len(), 1);
    assert_eq!(b["drivers"][0]["name"], "李堃");
    assert_eq!(b["drivers"][0]["phone"], "13912345678");
    let terminals = b["terminals"].as_array().unwrap();
    assert_eq!(terminals.len(), 1);
    assert_eq!(terminals[0]["id"], id(&terminal).as_str());
    assert_eq!(terminals[0]["imei"], terminal["imei"]);
    assert_eq!(terminals[0]["status"], "installed");
    assert_eq!(terminals[0]["vehicle_id"], id(&v2).as_str());
    assert_eq!(terminals[0]["sim"]["id"], id(&sim).as_str());
    assert_eq!(terminals[0]["sim"]["iccid"], sim["iccid"]);
    assert_eq!(terminals[0]["sim"]["terminal_id"], id(&terminal).as_str());

    // finance reads archives too, without the equipment it may not see; other centers
    // do not see it at all
    let (_, finance) = app.user("finance", &app.zz.id).await;
    let for_finance = get_json(&app, &path, &finance).await;
    assert_eq!(for_finance["customer"], archive["customer"]);
    assert_eq!(for_finance["vehicle_count"], 2);
    assert_eq!(for_finance["terminal_count"], 0);
    for v in for_finance["vehicles"].as_array().unwrap() {
        assert_eq!(v["terminals"], serde_json::json!([]));
        assert!(!v["drivers"].as_array().unwrap().is_empty());
    }
    let hidden = assert_problem(
        app.get(&path, &bj_agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let missing = assert_problem(
        app.get(&format!("{CUSTOMERS}/{NO_SUCH_ID}/archive"), &bj_agent)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(hidden, missing);
}

#[tokio::test]
async fn archive_of_a_customer_without_vehicles_is_empty() {
    let app = spawn_app().await;
    let c = app
        .create_customer(&app.admin, &app.zz.id, "顺达物流")
        .await;
    let archive = get_json(&app, &format!("{CUSTOMERS}/{}/archive", id(&c)), &app.admin).await;
    assert_eq!(archive["customer"], c);
    assert_eq!(archive["vehicles"], json!([]));
    assert_eq!(archive["vehicle_count"], 0);
    assert_eq!(archive["terminal_count"], 0);
}

// ----------------------------------------------------------------- vehicles

#[tokio::test]
async fn create_vehicle_with_drivers() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = app.create_customer(&agent, &app.zz.id, "顺达物流").await;
    let res = app
        .post(
            VEHICLES,
            &agent,
            &json!({
                "customer_id": id(&c),
                "plate_no": "豫A12345",
                "vin": "LSVAU218XN2183294",
                "model": "解放J6P",
                "drivers": [
                    {"name": "李堃", "phone": "13912345678"},
                    {"name": "周杰", "phone": "+86 135 0000 3333"}
                ]
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(etag(&res), "\"1\"");
    let v = json_of(res).await;
    assert_eq!(v["plate_no"], "豫A12345");
    assert_eq!(v["vin"], "LSVAU218XN2183294");
    assert_eq!(v["model"], "解放J6P");
    assert_eq!(v["customer_id"], id(&c).as_str());
    assert_eq!(v["center_id"], app.zz.id.as_str());
    assert_eq!(v["version"], 1);
    let drivers = v["drivers"].as_array().unwrap();
    assert_eq!(drivers.len(), 2);
    assert_eq!(drivers[0]["name"], "李堃");
    assert_eq!(drivers[1]["name"], "周杰");
    assert_eq!(drivers[1]["phone"], "13500003333");
    for d in drivers {
        assert_eq!(d["vehicle_id"], v["id"]);
        assert_eq!(d["center_id"], app.zz.id.as_str());
    }
    assert_eq!(app.count("vehicles"), 1);
    assert_eq!(app.count("drivers"), 2);

    let res = app.get(&format!("{VEHICLES}/{}", id(&v)), &agent).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"1\"");
    assert_eq!(json_of(res).await, v);
}

#[tokio::test]
async fn valid_plates_are_accepted_and_normalized() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    for (input, stored) in [
        ("粤BD12345", "粤BD12345"), // new energy, small
        ("豫A12345D", "豫A12345D"), // new energy, large
        ("豫A1234挂", "豫A1234挂"), // trailer
        ("豫A·12345", "豫A12345"),
        (" 豫a 54321 ", "豫A54321"),
    ] {
        let v = created(
            &app,
            &agent,
            VEHICLES,
            &json!({"customer_id": c, "plate_no": input}),
        )
        .await;
        assert_eq!(v["plate_no"], stored, "{input}");
        assert_eq!(v["drivers"], json!([]));
    }
}

#[tokio::test]
async fn invalid_plates_are_refused() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    for (plate, code) in [
        ("豫A1234", "length"),
        ("XA12345", "prefix"),
        ("豫AI2345", "format"),
        ("", "empty"),
    ] {
        let p = refused(
            &app,
            &agent,
            VEHICLES,
            &json!({"customer_id": c, "plate_no": plate}),
            "plate_no",
        )
        .await;
        assert_eq!(field_error(&p, "plate_no")["code"], code, "{plate}");
    }
}

#[tokio::test]
async fn vin_check_digit_and_length_are_enforced() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    for (vin, code) in [
        ("LSVAU2180N2183294", "checksum"),
        ("LSVAU218XN218329", "length"),
    ] {
        let p = refused(
            &app,
            &agent,
            VEHICLES,
            &json!({"customer_id": c, "plate_no": "豫A12345", "vin": vin}),
            "vin",
        )
        .await;
        assert_eq!(field_error(&p, "vin")["code"], code, "{vin}");
    }
    let v = created(
        &app,
        &agent,
        VEHICLES,
        &json!({"customer_id": c, "plate_no": "豫A12345", "vin": "lsvau218xn2183294"}),
    )
    .await;
    assert_eq!(v["vin"], "LSVAU218XN2183294");
    // an empty VIN is no VIN
    let w = created(
        &app,
        &agent,
        VEHICLES,
        &json!({"customer_id": c, "plate_no": "豫A12346", "vin": ""}),
    )
    .await;
    assert_eq!(w["vin"], Value::Null);
}

#[tokio::test]
async fn duplicate_plate_is_a_conflict() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    let other = id(&app.create_customer(&agent, &app.zz.id, "恒通货运").await);
    app.create_vehicle(&agent, &c, "豫A12345").await;
    // the same plate, however written and for whichever customer
    for (customer, plate) in [(&c, "豫A12345"), (&other, "豫a·12345")] {
        let before = app.snapshot();
        let p = assert_problem(
            app.post(
                VEHICLES,
                &agent,
                &json!({"customer_id": customer, "plate_no": plate,
                        "drivers": [{"name": "李堃", "phone": "13912345678"}]}),
            )
            .await,
            StatusCode::CONFLICT,
            "duplicate",
        )
        .await;
        assert_eq!(p["field"], "plate_no", "{p}");
        app.assert_unchanged(&before);
    }
}

#[tokio::test]
async fn duplicate_vin_is_a_conflict() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    created(
        &app,
        &agent,
        VEHICLES,
        &json!({"customer_id": c, "plate_no": "豫A12345", "vin": "LSVAU218XN2183294"}),
    )
    .await;
    let before = app.snapshot();
    let p = assert_problem(
        app.post(
            VEHICLES,
            &agent,
            &json!({"customer_id": c, "plate_no": "豫A54321", "vin": "lsvau218xn2183294"}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    assert_eq!(p["field"], "vin", "{p}");
    app.assert_unchanged(&before);
    // vehicles without a VIN do not collide with each other
    app.create_vehicle(&agent, &c, "豫A20001").await;
    app.create_vehicle(&agent, &c, "豫A20002").await;
}

#[tokio::test]
async fn vehicle_customer_must_exist_in_the_callers_scope() {
    let app = spawn_app().await;
    let (_, zz_agent) = app.user("agent", &app.zz.id).await;
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let zz = id(&app.create_customer(&zz_agent, &app.zz.id, "顺达物流").await);
    let p = refused(
        &app,
        &zz_agent,
        VEHICLES,
        &json!({"customer_id": NO_SUCH_ID, "plate_no": "豫A12345"}),
        "customer_id",
    )
    .await;
    let q = refused(
        &app,
        &bj_agent,
        VEHICLES,
        &json!({"customer_id": zz, "plate_no": "豫A12345"}),
        "customer_id",
    )
    .await;
    // another center's customer looks exactly like a missing one
    assert_eq!(p, q);
    // the admin reaches every center; the vehicle joins its customer's center
    let v = app.create_vehicle(&app.admin, &zz, "豫A12345").await;
    assert_eq!(v["center_id"], app.zz.id.as_str());
}

#[tokio::test]
async fn driver_phone_is_checked_when_creating_a_vehicle() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    refused(
        &app,
        &agent,
        VEHICLES,
        &json!({"customer_id": c, "plate_no": "豫A12345",
                "drivers": [{"name": "李堃", "phone": "12345"}]}),
        "drivers[0].phone",
    )
    .await;
    let p = refused(
        &app,
        &agent,
        VEHICLES,
        &json!({"customer_id": c, "plate_no": "豫A12345",
                "drivers": [{"name": "李堃", "phone": "13912345678"}, {"name": "", "phone": "139"}]}),
        "drivers[1].phone",
    )
    .await;
    assert_eq!(error_fields(&p), ["drivers[1].name", "drivers[1].phone"]);
}

#[tokio::test]
async fn patch_vehicle_plate_with_if_match() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    let v = app.create_vehicle(&agent, &c, "豫A12345").await;
    let path = format!("{VEHICLES}/{}", id(&v));

    assert_problem(
        app.patch(&path, &agent, None, &json!({"plate_no": "豫A54321"}))
            .await,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    let p = assert_problem(
        app.patch(&path, &agent, Some(1), &json!({"plate_no": "豫A1234"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["plate_no"]);

    let res = app
        .patch(
            &path,
            &agent,
            Some(1),
            &json!({"plate_no": "豫A·54321", "model": "欧曼EST"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"2\"");
    let updated = json_of(res).await;
    assert_eq!(updated["plate_no"], "豫A54321");
    assert_eq!(updated["model"], "欧曼EST");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["drivers"], v["drivers"]);
    assert_eq!(get_json(&app, &path, &agent).await, updated);

    assert_problem(
        app.patch(&path, &agent, Some(1), &json!({"plate_no": "豫A11111"}))
            .await,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    assert_eq!(get_json(&app, &path, &agent).await, updated);
}

#[tokio::test]
async fn patch_vehicle_to_a_taken_plate_is_a_conflict() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    app.create_vehicle(&agent, &c, "豫A12345").await;
    let v = app.create_vehicle(&agent, &c, "豫A54321").await;
    let path = format!("{VEHICLES}/{}", id(&v));
    let before = app.snapshot();
    let p = assert_problem(
        app.patch(&path, &agent, Some(1), &json!({"plate_no": "豫A12345"}))
            .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    assert_eq!(p["field"], "plate_no", "{p}");
    app.assert_unchanged(&before);
    let stored = get_json(&app, &path, &agent).await;
    assert_eq!(stored["plate_no"], "豫A54321");
    assert_eq!(stored["version"], 1);
}

#[tokio::test]
async fn vehicles_filter_by_customer_and_plate() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c1 = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    let c2 = id(&app.create_customer(&agent, &app.zz.id, "恒通货运").await);
    let a = id(&app.create_vehicle(&agent, &c1, "豫A12345").await);
    let b = id(&app.create_vehicle(&agent, &c1, "豫B67890").await);
    let c = id(&app.create_vehicle(&agent, &c2, "豫A12399").await);
    let list = |query: String| {
        let app = &app;
        let agent = &agent;
        async move { ids(&get_json(app, &format!("{VEHICLES}?{query}"), agent).await) }
    };
    assert_eq!(
        list(format!("customer_id={c1}")).await,
        [a.clone(), b.clone()]
    );
    assert_eq!(
        list(format!("customer_id={c2}")).await,
        std::slice::from_ref(&c)
    );
    assert_eq!(list("q=A123".into()).await, [a.clone(), c.clone()]);
    // the plate query is not case sensitive
    assert_eq!(list("q=b678".into()).await, std::slice::from_ref(&b));
    assert_eq!(
        list(format!("customer_id={c1}&q=A123")).await,
        std::slice::from_ref(&a)
    );
    assert_eq!(list("q=京".into()).await, Vec::<String>::new());
    assert_eq!(list(String::new()).await, [a, b, c]);

    // another center sees none of them, whatever it asks for
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let page = get_json(&app, &format!("{VEHICLES}?customer_id={c1}"), &bj_agent).await;
    assert_eq!(page["items"], json!([]));
    let page = get_json(
        &app,
        &format!("{VEHICLES}?center_id={}", app.zz.id),
        &bj_agent,
    )
    .await;
    assert_eq!(page["items"], json!([]));
}

// ------------------------------------------------------------------ drivers

#[tokio::test]
async fn drivers_are_added_listed_updated_and_removed() {
    let app = spawn_app().await;
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let c = id(&app.create_customer(&agent, &app.zz.id, "顺达物流").await);
    let v = app.create_vehicle(&agent, &c, "豫A12345").await;
    let other = app.create_vehicle(&agent, &c, "豫A54321").await;
    let first = v["drivers"][0].clone();

    let res = app
        .post(
            &format!("{VEHICLES}/{}/drivers", id(&v)),
            &agent,
            &json!({"name": "周杰", "phone": "135 0000 3333"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(etag(&res), "\"1\"");
    let d = json_of(res).await;
    assert_eq!(d["name"], "周杰");
    assert_eq!(d["phone"], "13500003333");
    assert_eq!(d["vehicle_id"], id(&v).as_str());
    assert_eq!(d["center_id"], app.zz.id.as_str());

    let p = refused(
        &app,
        &agent,
        &format!("{VEHICLES}/{}/drivers", id(&v)),
        &json!({"name": "周杰", "phone": "12345"}),
        "phone",
    )
    .await;
    assert_eq!(error_fields(&p), ["phone"]);
    assert_problem(
        app.post(
            &format!("{VEHICLES}/{NO_SUCH_ID}/drivers"),
            &agent,
            &json!({"name": "周杰", "phone": "13500003333"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let listed = get_json(&app, &format!("{DRIVERS}?vehicle_id={}", id(&v)), &agent).await;
    assert_eq!(ids(&listed), [id(&first), id(&d)]);
    let listed = get_json(
        &app,
        &format!("{DRIVERS}?vehicle_id={}", id(&other)),
        &agent,
    )
    .await;
    assert_eq!(ids(&listed), [id(&other["drivers"][0])]);

    let path = format!("{DRIVERS}/{}", id(&d));
    let res = app.get(&path, &agent).await;
    assert_eq!(etag(&res), "\"1\"");
    assert_eq!(json_of(res).await, d);

    assert_problem(
        app.patch(&path, &agent, None, &json!({"name": "周杰伦"}))
            .await,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    let p = assert_problem(
        app.patch(&path, &agent, Some(1), &json!({"phone": "139"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["phone"]);
    let res = app
        .patch(
            &path,
            &agent,
            Some(1),
            &json!({"name": "周杰伦", "phone": "0371-67891234"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"2\"");
    let updated = json_of(res).await;
    assert_eq!(updated["name"], "周杰伦");
    assert_eq!(updated["phone"], "0371-67891234");
    assert_eq!(updated["version"], 2);
    assert_problem(
        app.patch(&path, &agent, Some(1), &json!({"name": "又改"}))
            .await,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    assert_eq!(get_json(&app, &path, &agent).await, updated);

    let res = app.delete(&path, &agent).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(&path, &agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&path, &agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let listed = get_json(&app, &format!("{DRIVERS}?vehicle_id={}", id(&v)), &agent).await;
    assert_eq!(ids(&listed), [id(&first)]);
    assert_eq!(
        get_json(&app, &format!("{VEHICLES}/{}", id(&v)), &agent).await["drivers"],
        json!([first])
    );
}

#[tokio::test]
async fn another_centers_vehicles_and_drivers_do_not_exist_for_the_caller() {
    let app = spawn_app().await;
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let c = id(&app
        .create_customer(&app.admin, &app.zz.id, "顺达物流")
        .await);
    let v = app.create_vehicle(&app.admin, &c, "豫A12345").await;
    let d = id(&v["drivers"][0]);
    let vpath = format!("{VEHICLES}/{}", id(&v));
    let dpath = format!("{DRIVERS}/{d}");
    let before = app.snapshot();

    let hidden = assert_problem(
        app.get(&vpath, &bj_agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let missing = assert_problem(
        app.get(&format!("{VEHICLES}/{NO_SUCH_ID}"), &bj_agent)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(hidden, missing);
    assert_problem(
        app.patch(&vpath, &bj_agent, Some(1), &json!({"plate_no": "京A12345"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.post(
            &format!("{vpath}/drivers"),
            &bj_agent,
            &json!({"name": "周杰", "phone": "13500003333"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&dpath, &bj_agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch(&dpath, &bj_agent, Some(1), &json!({"name": "周杰"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&dpath, &bj_agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let page = get_json(&app, &format!("{DRIVERS}?vehicle_id={}", id(&v)), &bj_agent).await;
    assert_eq!(page["items"], json!([]));
    assert_eq!(get_json(&app, DRIVERS, &bj_agent).await["items"], json!([]));

    app.assert_unchanged(&before);
    assert_eq!(get_json(&app, &vpath, &app.admin).await, v);
}

#[tokio::test]
async fn finance_reads_vehicles_but_cannot_write_them_or_their_drivers() {
    let app = spawn_app().await;
    let (_, finance) = app.user("finance", &app.zz.id).await;
    let c = id(&app
        .create_customer(&app.admin, &app.zz.id, "顺达物流")
        .await);
    let v = app.create_vehicle(&app.admin, &c, "豫A12345").await;
    let vpath = format!("{VEHICLES}/{}", id(&v));
    let dpath = format!("{DRIVERS}/{}", id(&v["drivers"][0]));

    assert_eq!(ids(&get_json(&app, VEHICLES, &finance).await), [id(&v)]);
    assert_eq!(get_json(&app, &vpath, &finance).await, v);
    assert_eq!(get_json(&app, &dpath, &finance).await, v["drivers"][0]);

    let before = app.snapshot();
    let forbidden = [
        app.post(
            VEHICLES,
            &finance,
            &json!({"customer_id": c, "plate_no": "豫A54321"}),
        )
        .await,
        app.patch(&vpath, &finance, Some(1), &json!({"plate_no": "豫A54321"}))
            .await,
        app.post(
            &format!("{vpath}/drivers"),
            &finance,
            &json!({"name": "周杰", "phone": "13500003333"}),
        )
        .await,
        app.patch(&dpath, &finance, Some(1), &json!({"name": "周杰"}))
            .await,
        app.delete(&dpath, &finance).await,
    ];
    for res in forbidden {
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn technicians_cannot_read_vehicles_or_drivers() {
    let app = spawn_app().await;
    let (_, tech) = app.user("technician", &app.zz.id).await;
    let c = id(&app
        .create_customer(&app.admin, &app.zz.id, "顺达物流")
        .await);
    let v = app.create_vehicle(&app.admin, &c, "豫A12345").await;
    for path in [
        VEHICLES.to_string(),
        format!("{VEHICLES}/{}", id(&v)),
        DRIVERS.to_string(),
        format!("{DRIVERS}/{}", id(&v["drivers"][0])),
    ] {
        assert_problem(
            app.get(&path, &tech).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
}

/// On SQLite a customer is served from memory until a write to customers ends: every
/// change must show at once, the caller's scope and session are checked on every hit.
#[tokio::test]
async fn a_customer_read_again_shows_every_change_and_is_checked_for_each_caller() {
    let app = spawn_app().await;
    let (agent_id, agent) = app.user("agent", &app.zz.id).await;
    let (_, bj_agent) = app.user("agent", &app.bj.id).await;
    let c = app.create_customer(&agent, &app.zz.id, "恒通运输").await;
    let path = format!("{CUSTOMERS}/{}", id(&c));
    // read twice (the second may come from memory): the same bytes and ETag
    let first = app.get(&path, &agent).await;
    assert_eq!(etag(&first), "\"1\"");
    let first = json_of(first).await;
    let second = app.get(&path, &agent).await;
    assert_eq!(etag(&second), "\"1\"");
    assert_eq!(json_of(second).await, first);
    // another center's caller: 404 on the remembered customer too
    assert_problem(
        app.get(&path, &bj_agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // a change to the contacts alone, then to the name: each shows on the next read
    for (version, body) in [
        (
            1,
            json!({"contacts": [{"name": "孙丽", "phone": "13800002222"}]}),
        ),
        (2, json!({"name": "恒通运输集团"})),
    ] {
        let res = app.patch(&path, &agent, Some(version), &body).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.get(&path, &agent).await;
        assert_eq!(etag(&res), format!("\"{}\"", version + 1));
        let now = json_of(res).await;
        assert_eq!(now["contacts"][0]["name"], "孙丽");
        if version == 2 {
            assert_eq!(now["name"], "恒通运输集团");
        }
    }
    // a deactivated caller's token stops working on the remembered customer as well
    app.deactivate(&agent_id).await;
    assert_problem(
        app.get(&path, &agent).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
