//! Traccar's REST API, the part this product uses (traccar.org/api-reference, its
//! `openapi.yaml`): devices (`GET /api/devices?uniqueId=`, `POST /api/devices`,
//! `PUT /api/devices/{id}`) and positions (`GET /api/positions?deviceId=&from=&to=`).
//! Authenticated by HTTP Basic (the URL's user and password: an account's e-mail and
//! password) or by a bearer token (an account's API token).
//!
//! Also the shape of what Traccar forwards (`forward.url` with `forward.json`): a JSON
//! object `{"position": {…}, "device": {…}}`.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use reqwest13 as reqwest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::tracking::Report;

/// How a refusal's text (as a check records it) begins.
const REFUSED: &str = "tracking platform refused";

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// not reached, or it answered 5xx: try again later
    #[error("tracking platform unavailable: {0}")]
    Unavailable(String),
    /// it refused the request (4xx): a configuration or data problem
    #[error("{}: {}", REFUSED, .0)]
    Refused(String),
}

impl PlatformError {
    /// Whether a recorded error text (`to_string()` of one) was a refusal, not an outage.
    pub fn was_refusal(text: &str) -> bool {
        text.starts_with(REFUSED)
    }
}

#[derive(Clone)]
enum Auth {
    Basic(String, String),
    Bearer(String),
    None,
}

/// A Traccar server.
#[derive(Clone)]
pub struct Traccar {
    base: url::Url,
    auth: Auth,
    http: reqwest::Client,
}

/// A device as Traccar has it; fields this product does not use are kept as they came,
/// so that a `PUT` sends the device back whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub name: String,
    pub unique_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// A position as Traccar reports it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub device_id: i64,
    pub fix_time: DateTime<FixedOffset>,
    pub server_time: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub valid: bool,
    #[serde(default)]
    pub outdated: bool,
    #[serde(default)]
    pub latitude: f64,
    #[serde(default)]
    pub longitude: f64,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

/// What Traccar forwards (`forward.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct Forwarded {
    pub position: Position,
    pub device: ForwardedDevice,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardedDevice {
    #[serde(default)]
    pub id: Option<i64>,
    pub unique_id: String,
}

fn utc(t: DateTime<FixedOffset>) -> NaiveDateTime {
    t.with_timezone(&Utc).naive_utc()
}

impl Position {
    /// The report the domain's rules read. A position without a server time (a forwarded
    /// one may lack it) is taken as received `received`.
    pub fn report(&self, received: NaiveDateTime) -> Report {
        let text = |k: &str| match self.attributes.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Report {
            fix_time: utc(self.fix_time),
            server_time: self.server_time.map(utc).unwrap_or(received),
            valid: self.valid,
            outdated: self.outdated,
            lat: self.latitude,
            lng: self.longitude,
            ignition: self.attributes.get("ignition").and_then(Value::as_bool),
            iccid: text("iccid"),
        }
    }
}

/// The ISO 8601 form Traccar's query parameters take.
fn iso(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Traccar {
    /// `url`: the server's address, e.g. `https://user%40example.com:secret@gps.example.com`
    /// (user and password: HTTP Basic); `token`: a bearer token instead.
    pub fn new(url: &str, token: Option<String>) -> Result<Traccar, String> {
        let mut base = url::Url::parse(url).map_err(|e| format!("tracking URL {url:?}: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(format!("tracking URL {url:?}: http or https only"));
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|e| format!("tracking URL: credentials are not UTF-8: {e}"))
        };
        let user = decode(base.username())?;
        let pass = decode(base.password().unwrap_or(""))?;
        let auth = match token.filter(|t| !t.is_empty()) {
            Some(t) => Auth::Bearer(t),
            None if !user.is_empty() => Auth::Basic(user, pass),
            None => Auth::None,
        };
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        // the process's rustls provider (ring), as the object store's client
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| format!("tracking HTTP client: {e}"))?;
        Ok(Traccar { base, auth, http })
    }

    /// The server's address without credentials (for logs).
    pub fn describe(&self) -> String {
        self.base.to_string()
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> url::Url {
        let mut u = self.base.join(path).unwrap_or_else(|_| self.base.clone());
        if !query.is_empty() {
            let mut q = u.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        u
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, PlatformError> {
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .header("Accept", "application/json");
        req = match &self.auth {
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::None => req,
        };
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        let what = format!("{method} {}", url.path());
        let resp = req
            .send()
            .await
            .map_err(|e| PlatformError::Unavailable(format!("{what}: {e}")))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| PlatformError::Unavailable(format!("{what}: {e}")))?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(PlatformError::Unavailable(format!("{what}: {status}")));
        }
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
            return Err(PlatformError::Refused(format!("{what}: {status} {text}")));
        }
        Ok(bytes.to_vec())
    }

    fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, PlatformError> {
        serde_json::from_slice(bytes)
            .map_err(|e| PlatformError::Refused(format!("{what}: unreadable answer: {e}")))
    }

    /// `GET /api/devices?uniqueId=`
    pub async fn device(&self, unique_id: &str) -> Result<Option<Device>, PlatformError> {
        let url = self.url("api/devices", &[("uniqueId", unique_id.to_string())]);
        let body = self.call(reqwest::Method::GET, url, None).await?;
        let list: Vec<Device> = Self::parse(&body, "GET /api/devices")?;
        Ok(list.into_iter().find(|d| d.unique_id == unique_id))
    }

    /// `POST /api/devices`
    pub async fn create(&self, device: &Device) -> Result<Device, PlatformError> {
        let mut d = device.clone();
        d.rest.remove("id");
        let mut v = serde_json::to_value(&d).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("id");
        }
        let body = serde_json::to_vec(&v).unwrap_or_default();
        let url = self.url("api/devices", &[]);
        let answer = self.call(reqwest::Method::POST, url, Some(body)).await?;
        Self::parse(&answer, "POST /api/devices")
    }

    /// `PUT /api/devices/{id}`: the device whole.
    pub async fn update(&self, device: &Device) -> Result<Device, PlatformError> {
        let body = serde_json::to_vec(device).unwrap_or_default();
        let url = self.url(&format!("api/devices/{}", device.id), &[]);
        let answer = self.call(reqwest::Method::PUT, url, Some(body)).await?;
        Self::parse(&answer, "PUT /api/devices")
    }

    /// `GET /api/positions?deviceId=&from=&to=` (Traccar selects them by fix time).
    pub async fn positions(
        &self,
        device_id: i64,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<Position>, PlatformError> {
        let url = self.url(
            "api/positions",
            &[
                ("deviceId", device_id.to_string()),
                ("from", iso(from)),
                ("to", iso(to)),
            ],
        );
        let body = self.call(reqwest::Method::GET, url, None).await?;
        Self::parse(&body, "GET /api/positions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_for_basic_auth() {
        let t = Traccar::new("http://admin%40x.cn:p%40s+s%26@127.0.0.1:8082", None).unwrap();
        assert_eq!(t.describe(), "http://127.0.0.1:8082/");
        assert!(matches!(&t.auth, Auth::Basic(u, p) if u == "admin@x.cn" && p == "p@s+s&"));
        let t = Traccar::new("https://gps.example.com/traccar", Some("tok".into())).unwrap();
        assert!(matches!(&t.auth, Auth::Bearer(x) if x == "tok"));
        assert_eq!(
            t.url("api/devices", &[("uniqueId", "0138 0".into())])
                .as_str(),
            "https://gps.example.com/traccar/api/devices?uniqueId=0138+0"
        );
        assert!(Traccar::new("ftp://x", None).is_err());
    }

    #[test]
    fn a_traccar_position_reads_as_a_report() {
        let p: Position = serde_json::from_str(
            r#"{"id":7,"deviceId":3,"protocol":"huabao","serverTime":"2026-12-06T02:05:01.000+00:00",
            "deviceTime":"2026-12-06T10:05:00.000+08:00","fixTime":"2026-12-06T10:05:00.000+08:00",
            "outdated":false,"valid":true,"latitude":31.2,"longitude":121.4,"altitude":0,"speed":0,
            "course":0,"address":null,"accuracy":0,"network":null,
            "attributes":{"ignition":true,"iccid":"89860012345678901234","sat":9}}"#,
        )
        .unwrap();
        let r = p.report(NaiveDateTime::default());
        assert_eq!(r.fix_time.to_string(), "2026-12-06 02:05:00");
        assert_eq!(r.server_time.to_string(), "2026-12-06 02:05:01");
        assert_eq!(r.ignition, Some(true));
        assert_eq!(r.iccid.as_deref(), Some("89860012345678901234"));
        assert!(r.valid && !r.outdated);
    }

    #[test]
    fn a_device_keeps_the_fields_it_does_not_know() {
        let d: Device = serde_json::from_str(
            r#"{"id":3,"name":"沪A12345","uniqueId":"013800138000","status":"online",
            "disabled":false,"lastUpdate":"2026-12-06T02:00:00.000+00:00","positionId":9,
            "groupId":0,"phone":"13800138000","model":"BSJ-A6","contact":null,"category":null,
            "attributes":{"plate":"沪A12345"}}"#,
        )
        .unwrap();
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["status"], "online");
        assert_eq!(v["positionId"], 9);
        assert_eq!(v["uniqueId"], "013800138000");
    }
}
