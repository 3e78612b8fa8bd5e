//! The permission matrix, endpoint by endpoint: every role of the object's own center is
//! either allowed (never 403) or refused with 403 and no change; every role of the other
//! center gets 404 for the object-specific endpoints, exactly like a missing object.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const ROLES: [&str; 5] = ["admin", "manager", "agent", "technician", "finance"];

struct Objects {
    center: String,
    user: String,
    technician: String,
    customer: String,
    vehicle: String,
    driver: String,
    terminal: String,
    sim: String,
}

async fn objects(app: &TestApp) -> Objects {
    let technician = app.insert_user("tech.matrix", "technician", &app.zz.id);
    let res = app
        .post(
            "/api/v1/technicians",
            &app.admin,
            &json!({"user_id": technician, "can_install": true, "can_repair": true, "home_lat": 34.7, "home_lng": 113.6}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let customer = app
        .create_customer(&app.admin, &app.zz.id, "矩阵测试客户")
        .await;
    let customer = customer["id"].as_str().unwrap().to_string();
    let vehicle = app.create_vehicle(&app.admin, &customer, "豫A88888").await;
    let driver = vehicle["drivers"][0]["id"].as_str().unwrap().to_string();
    let vehicle = vehicle["id"].as_str().unwrap().to_string();
    let terminal = app.create_terminal(&app.admin, &app.zz.id, 1).await;
    let sim = app.create_sim(&app.admin, &app.zz.id, 1).await;
    Objects {
        center: app.zz.id.clone(),
        // a bystander: resetting their password must not end the sessions under test
        user: app.insert_user("agent.matrix", "agent", &app.zz.id),
        technician,
        customer,
        vehicle,
        driver,
        terminal: terminal["id"].as_str().unwrap().to_string(),
        sim: sim["id"].as_str().unwrap().to_string(),
    }
}

/// (method, path, body, roles allowed). Object-specific paths are marked `scoped`.
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [&'static str],
    scoped: bool,
}

fn case(
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [&'static str],
    scoped: bool,
) -> Case {
    Case {
        method,
        path,
        body,
        allowed,
        scoped,
    }
}

const ALL: &[&str] = &["admin", "manager", "agent", "technician", "finance"];
const ADMIN: &[&str] = &["admin"];
const ADMIN_MANAGER: &[&str] = &["admin", "manager"];
const OFFICE_WRITE: &[&str] = &["admin", "manager", "agent"];
const OFFICE_READ: &[&str] = &["admin", "manager", "agent", "finance"];
const EQUIPMENT_READ: &[&str] = &["admin", "manager", "agent"];
const TECH_READ: &[&str] = &["admin", "manager", "agent", "technician"];

fn cases(o: &Objects) -> Vec<Case> {
    use Method as M;
    let bad = Some(json!({}));
    vec![
        case(M::GET, "/api/v1/centers".into(), None, ALL, false),
        case(
            M::GET,
            format!("/api/v1/centers/{}", o.center),
            None,
            ALL,
            true,
        ),
        case(M::POST, "/api/v1/centers".into(), bad.clone(), ADMIN, false),
        case(
            M::PATCH,
            format!("/api/v1/centers/{}", o.center),
            Some(json!({"name": "改名"})),
            ADMIN,
            true,
        ),
        case(M::GET, "/api/v1/users".into(), None, ADMIN_MANAGER, false),
        case(
            M::GET,
            format!("/api/v1/users/{}", o.user),
            None,
            ADMIN_MANAGER,
            true,
        ),
        case(M::POST, "/api/v1/users".into(), bad.clone(), ADMIN, false),
        case(
            M::PATCH,
            format!("/api/v1/users/{}", o.user),
            Some(json!({"display_name": "改名"})),
            ADMIN,
            true,
        ),
        case(
            M::POST,
            format!("/api/v1/users/{}/password", o.user),
            Some(json!({"new_password": "another-pass-1"})),
            ADMIN,
            true,
        ),
        case(M::GET, "/api/v1/technicians".into(), None, TECH_READ, false),
        case(
            M::GET,
            format!("/api/v1/technicians/{}", o.technician),
            None,
            TECH_READ,
            true,
        ),
        case(
            M::POST,
            "/api/v1/technicians".into(),
            bad.clone(),
            ADMIN_MANAGER,
            false,
        ),
        case(
            M::PATCH,
            format!("/api/v1/technicians/{}", o.technician),
            Some(json!({"can_repair": false})),
            ADMIN_MANAGER,
            true,
        ),
        case(M::GET, "/api/v1/customers".into(), None, OFFICE_READ, false),
        case(
            M::GET,
            format!("/api/v1/customers/{}", o.customer),
            None,
            OFFICE_READ,
            true,
        ),
        case(
            M::GET,
            format!("/api/v1/customers/{}/archive", o.customer),
            None,
            OFFICE_READ,
            true,
        ),
        case(
            M::POST,
            "/api/v1/customers".into(),
            bad.clone(),
            OFFICE_WRITE,
            false,
        ),
        case(
            M::PATCH,
            format!("/api/v1/customers/{}", o.customer),
            Some(json!({"notes": "备注"})),
            OFFICE_WRITE,
            true,
        ),
        case(M::GET, "/api/v1/vehicles".into(), None, OFFICE_READ, false),
        case(
            M::GET,
            format!("/api/v1/vehicles/{}", o.vehicle),
            None,
            OFFICE_READ,
            true,
        ),
        case(
            M::POST,
            "/api/v1/vehicles".into(),
            bad.clone(),
            OFFICE_WRITE,
            false,
        ),
        case(
            M::PATCH,
            format!("/api/v1/vehicles/{}", o.vehicle),
            Some(json!({"model": "宇通"})),
            OFFICE_WRITE,
            true,
        ),
        case(
            M::POST,
            format!("/api/v1/vehicles/{}/drivers", o.vehicle),
            Some(json!({"name": "张三", "phone": "13700001111"})),
            OFFICE_WRITE,
            true,
        ),
        case(M::GET, "/api/v1/drivers".into(), None, OFFICE_READ, false),
        case(
            M::GET,
            format!("/api/v1/drivers/{}", o.driver),
            None,
            OFFICE_READ,
            true,
        ),
        case(
            M::PATCH,
            format!("/api/v1/drivers/{}", o.driver),
            Some(json!({"name": "李四"})),
            OFFICE_WRITE,
            true,
        ),
        case(
            M::GET,
            "/api/v1/terminal-models".into(),
            None,
            EQUIPMENT_READ,
            false,
        ),
        case(
            M::POST,
            "/api/v1/terminal-models".into(),
            bad.clone(),
            ADMIN,
            false,
        ),
        case(
            M::GET,
            "/api/v1/terminals".into(),
            None,
            EQUIPMENT_READ,
            false,
        ),
        case(
            M::GET,
            format!("/api/v1/terminals/{}", o.terminal),
            None,
            EQUIPMENT_READ,
            true,
        ),
        case(
            M::POST,
            "/api/v1/terminals".into(),
            bad.clone(),
            ADMIN_MANAGER,
            false,
        ),
        case(
            M::PATCH,
            format!("/api/v1/terminals/{}", o.terminal),
            Some(json!({"notes": "备注"})),
            ADMIN_MANAGER,
            true,
        ),
        case(
            M::POST,
            format!("/api/v1/terminals/{}/bind", o.terminal),
            Some(json!({"vehicle_id": o.vehicle, "reason": "安装"})),
            ADMIN_MANAGER,
            true,
        ),
        case(
            M::POST,
            format!("/api/v1/terminals/{}/unbind", o.terminal),
            Some(json!({"reason": "拆除"})),
            ADMIN_MANAGER,
            true,
        ),
        case(
            M::POST,
            "/api/v1/terminals/import".into(),
            bad.clone(),
            ADMIN_MANAGER,
            false,
        ),
        case(
            M::POST,
            "/api/v1/sims/import".into(),
            bad.clone(),
            ADMIN_MANAGER,
            false,
        ),
        case(M::GET, "/api/v1/sims".into(), None, EQUIPMENT_READ, false),
        case(
            M::GET,
            format!("/api/v1/sims/{}", o.sim),
            None,
            EQUIPMENT_READ,
            true,
        ),
        case(
            M::POST,
            "/api/v1/sims".into(),
            bad.clone(),
            ADMIN_MANAGER,
            false,
        ),
        case(
            M::PATCH,
            format!("/api/v1/sims/{}", o.sim),
            Some(json!({"notes": "备注"})),
            ADMIN_MANAGER,
            true,
        ),
        case(
            M::POST,
            format!("/api/v1/sims/{}/bind", o.sim),
            Some(json!({"terminal_id": o.terminal, "reason": "插卡"})),
            ADMIN_MANAGER,
            true,
        ),
        case(
            M::POST,
            format!("/api/v1/sims/{}/unbind", o.sim),
            Some(json!({"reason": "拔卡"})),
            ADMIN_MANAGER,
            true,
        ),
        case(
            M::GET,
            format!("/api/v1/binding-events?terminal_id={}", o.terminal),
            None,
            EQUIPMENT_READ,
            false,
        ),
        case(
            M::POST,
            "/api/v1/technicians/me/position".into(),
            Some(json!({"lat": 34.7, "lng": 113.6})),
            &["technician"],
            false,
        ),
    ]
}

async fn send(app: &TestApp, c: &Case, token: &str, version: Option<i64>) -> reqwest::Response {
    let mut r = app.req(c.method.clone(), &c.path, token);
    if let Some(v) = version {
        r = r.header("If-Match", format!("\"{v}\""));
    }
    if let Some(b) = &c.body {
        r = r.json(b);
    }
    r.send().await.unwrap()
}

/// The object's current version, for If-Match on PATCH (so an allowed PATCH can succeed).
async fn version(app: &TestApp, path: &str) -> Option<i64> {
    let res = app.get(path, &app.admin).await;
    let v: Value = res.json().await.ok()?;
    v["version"].as_i64()
}

#[tokio::test]
async fn every_role_is_allowed_or_refused_on_every_registry_endpoint() {
    let app = spawn_app().await;
    let o = objects(&app).await;
    let mut tokens = Vec::new();
    for role in ROLES {
        let token = if role == "technician" {
            app.token("tech.matrix").await
        } else if role == "admin" {
            app.admin.clone()
        } else {
            app.user(role, &app.zz.id).await.1
        };
        tokens.push((role, token));
    }
    for c in cases(&o) {
        for (role, token) in &tokens {
            let v = if c.method == Method::PATCH {
                version(&app, &c.path).await
            } else {
                None
            };
            let before = app.snapshot();
            let res = send(&app, &c, token, v).await;
            let status = res.status();
            if c.allowed.contains(role) {
                assert_ne!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} must be allowed {} {}",
                    c.method,
                    c.path
                );
                assert!(
                    !status.is_server_error(),
                    "{role} {} {} → {status}",
                    c.method,
                    c.path
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} must be refused {} {}",
                    c.method,
                    c.path
                );
                app.assert_unchanged_because(
                    &before,
                    format_args!("refused {} {} changed the database", c.method, c.path),
                );
            }
        }
    }
}

#[tokio::test]
async fn every_object_of_another_center_answers_404() {
    let app = spawn_app().await;
    let o = objects(&app).await;
    for role in ["manager", "agent", "technician", "finance"] {
        let (_, token) = app.user(role, &app.bj.id).await;
        for c in cases(&o)
            .into_iter()
            .filter(|c| c.scoped && c.allowed.contains(&role))
        {
            let before = app.snapshot();
            let v = if c.method == Method::PATCH {
                version(&app, &c.path).await
            } else {
                None
            };
            let res = send(&app, &c, &token, v).await;
            assert_eq!(
                res.status(),
                StatusCode::NOT_FOUND,
                "BJ {role} {} {}",
                c.method,
                c.path
            );
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["code"], "not_found");
            app.assert_unchanged(&before);
        }
    }
}
