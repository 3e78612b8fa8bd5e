//! A Traccar server as far as this product uses it, speaking its documented REST API
//! (traccar.org/api-reference, `openapi.yaml` of traccar/traccar): `GET/POST /api/devices`,
//! `PUT /api/devices/{id}`, `GET /api/positions?deviceId=&from=&to=` (positions selected
//! by fix time, as Traccar does), HTTP Basic authentication (401 otherwise), a unique
//! `uniqueId` (400 on a duplicate), the Device and Position objects with their fields.
//! The platform itself does not install here; this stands in for it.
//!
//! The test drives the terminal's side: heartbeats (the device goes online and its
//! `lastUpdate` moves, no position), positions with any fix and server times, and the
//! platform going down (503 on everything).

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

pub const USER: &str = "admin@example.com";
pub const PASSWORD: &str = "tr@ccar secret";

#[derive(Default)]
struct State {
    devices: Vec<Value>,
    positions: Vec<Value>,
    down: bool,
    /// every request: method, path and query
    requests: Vec<String>,
    next_id: i64,
}

#[derive(Clone)]
pub struct FakeTraccar {
    state: Arc<Mutex<State>>,
    pub port: u16,
}

fn iso(t: DateTime<Utc>) -> String {
    // Traccar's own form: milliseconds and an explicit offset
    t.to_rfc3339_opts(SecondsFormat::Millis, false)
}

fn authorized(req: &HttpRequest) -> bool {
    use base64::Engine;
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(want.as_str())
}

fn param(req: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn handle(req: HttpRequest, body: web::Bytes, fake: web::Data<FakeTraccar>) -> HttpResponse {
    let mut st = fake.state.lock().unwrap();
    st.requests.push(format!(
        "{} {}?{}",
        req.method(),
        req.path(),
        req.query_string()
    ));
    if st.down {
        return HttpResponse::ServiceUnavailable().body("maintenance");
    }
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let path = req.path().to_string();
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/api/devices") => {
            let unique = param(&req, "uniqueId");
            let list: Vec<Value> = st
                .devices
                .iter()
                .filter(|d| unique.as_deref().is_none_or(|u| d["uniqueId"] == u))
                .cloned()
                .collect();
            HttpResponse::Ok().json(list)
        }
        ("POST", "/api/devices") => {
            let Ok(mut d) = serde_json::from_slice::<Value>(&body) else {
                return HttpResponse::BadRequest().body("bad json");
            };
            let Some(unique) = d["uniqueId"].as_str().map(String::from) else {
                return HttpResponse::BadRequest().body("uniqueId required");
            };
            if st.devices.iter().any(|x| x["uniqueId"] == unique.as_str()) {
                return HttpResponse::BadRequest().body("Duplicate entry for key 'uniqueId'");
            }
            st.next_id += 1;
            d["id"] = json!(st.next_id);
            d["status"] = json!("offline");
            d["lastUpdate"] = Value::Null;
            d["positionId"] = json!(0);
            d["disabled"] = json!(false);
            d["groupId"] = json!(0);
            if d.get("attributes").is_none() {
                d["attributes"] = json!({});
            }
            st.devices.push(d.clone());
            HttpResponse::Ok().json(d)
        }
        ("PUT", p) if p.starts_with("/api/devices/") => {
            let id: i64 = p["/api/devices/".len()..].parse().unwrap_or(-1);
            let Ok(d) = serde_json::from_slice::<Value>(&body) else {
                return HttpResponse::BadRequest().body("bad json");
            };
            if d["id"] != id {
                return HttpResponse::BadRequest().body("id mismatch");
            }
            let taken = st
                .devices
                .iter()
                .any(|x| x["id"] != id && x["uniqueId"] == d["uniqueId"]);
            if taken {
                return HttpResponse::BadRequest().body("Duplicate entry for key 'uniqueId'");
            }
            match st.devices.iter_mut().find(|x| x["id"] == id) {
                Some(x) => {
                    *x = d.clone();
                    HttpResponse::Ok().json(d)
                }
                None => HttpResponse::NotFound().finish(),
            }
        }
        ("GET", "/api/positions") => {
            let device: i64 = param(&req, "deviceId")
                .and_then(|d| d.parse().ok())
                .unwrap_or(-1);
            let parse =
                |n: &str| param(&req, n).and_then(|s| DateTime::parse_from_rfc3339(&s).ok());
            let (Some(from), Some(to)) = (parse("from"), parse("to")) else {
                return HttpResponse::BadRequest().body("from and to required");
            };
            let mut list: Vec<Value> = st
                .positions
                .iter()
                .filter(|p| p["deviceId"] == device)
                .filter(|p| {
                    let t = DateTime::parse_from_rfc3339(p["fixTime"].as_str().unwrap()).unwrap();
                    t >= from && t <= to
                })
                .cloned()
                .collect();
            list.sort_by_key(|p| p["fixTime"].as_str().unwrap().to_string());
            HttpResponse::Ok().json(list)
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

/// A terminal's report, as a test writes it.
pub struct Fix {
    pub fix_time: DateTime<Utc>,
    pub server_time: DateTime<Utc>,
    pub valid: bool,
    pub attributes: Value,
}

impl Fix {
    /// A valid fix taken and received now, reporting `iccid`.
    pub fn now(iccid: &str) -> Fix {
        let t = Utc::now();
        Fix {
            fix_time: t,
            server_time: t,
            valid: true,
            attributes: json!({"iccid": iccid, "sat": 9}),
        }
    }
}

impl FakeTraccar {
    pub async fn start() -> FakeTraccar {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let fake = FakeTraccar {
            state: Arc::new(Mutex::new(State::default())),
            port,
        };
        let data = web::Data::new(fake.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(handle))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        fake
    }

    /// The address the app is configured with (credentials in it).
    pub fn url(&self) -> String {
        format!(
            "http://{}:{}@127.0.0.1:{}",
            USER.replace('@', "%40"),
            PASSWORD.replace('@', "%40").replace(' ', "%20"),
            self.port
        )
    }

    pub fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }

    pub fn device(&self, unique_id: &str) -> Option<Value> {
        let st = self.state.lock().unwrap();
        st.devices
            .iter()
            .find(|d| d["uniqueId"] == unique_id)
            .cloned()
    }

    pub fn devices(&self) -> Vec<Value> {
        self.state.lock().unwrap().devices.clone()
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// A device registered by someone else (e.g. before a SIM swap).
    pub fn add_device(&self, unique_id: &str, name: &str, attributes: Value) -> i64 {
        let mut st = self.state.lock().unwrap();
        st.next_id += 1;
        let id = st.next_id;
        st.devices.push(json!({
            "id": id, "name": name, "uniqueId": unique_id, "status": "online",
            "disabled": false, "lastUpdate": iso(Utc::now() - Duration::days(30)),
            "positionId": 0, "groupId": 0, "phone": null, "model": null,
            "contact": null, "category": null, "attributes": attributes,
        }));
        id
    }

    /// A heartbeat: the device is online, its `lastUpdate` moves; no position.
    pub fn heartbeat(&self, unique_id: &str) {
        let mut st = self.state.lock().unwrap();
        if let Some(d) = st.devices.iter_mut().find(|d| d["uniqueId"] == unique_id) {
            d["status"] = json!("online");
            d["lastUpdate"] = json!(iso(Utc::now()));
        }
    }

    /// A position of the device `unique_id` (which must be registered).
    pub fn report(&self, unique_id: &str, fix: Fix) {
        let mut st = self.state.lock().unwrap();
        let device = st
            .devices
            .iter()
            .find(|d| d["uniqueId"] == unique_id)
            .unwrap_or_else(|| panic!("no device {unique_id}"))["id"]
            .as_i64()
            .unwrap();
        let id = st.positions.len() as i64 + 1;
        st.positions.push(json!({
            "id": id, "deviceId": device, "protocol": "huabao",
            "serverTime": iso(fix.server_time), "deviceTime": iso(fix.fix_time),
            "fixTime": iso(fix.fix_time), "outdated": false, "valid": fix.valid,
            "latitude": 34.7466, "longitude": 113.6253, "altitude": 102.0, "speed": 0.0,
            "course": 0.0, "address": null, "accuracy": 0.0, "network": null,
            "geofenceIds": null, "attributes": fix.attributes,
        }));
        if let Some(d) = st.devices.iter_mut().find(|d| d["id"] == device) {
            d["positionId"] = json!(id);
            d["lastUpdate"] = json!(iso(Utc::now()));
            d["status"] = json!("online");
        }
    }

    /// A forwarded position (Traccar's `forward.json` body) of the device `unique_id`.
    pub fn forwarded(unique_id: &str, fix: Fix) -> Value {
        json!({
            "position": {
                "id": 0, "deviceId": 0, "protocol": "huabao",
                "serverTime": iso(fix.server_time), "deviceTime": iso(fix.fix_time),
                "fixTime": iso(fix.fix_time), "outdated": false, "valid": fix.valid,
                "latitude": 34.7466, "longitude": 113.6253, "altitude": 0.0, "speed": 0.0,
                "course": 0.0, "accuracy": 0.0, "attributes": fix.attributes,
            },
            "device": {"id": 0, "name": "", "uniqueId": unique_id, "status": "online",
                "attributes": {}},
        })
    }
}
