//! The OpenAPI document is a contract a client can be generated from: unique operationIds,
//! the problem responses of every operation, the headers each operation requires (checked
//! against the server), the values and limits of query parameters, and every problem code
//! with its Chinese text for the pages.

use std::collections::{BTreeSet, HashMap};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    app.client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// (method, path, operation) of every operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(*m) {
                ops.push((m.to_string(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

fn header_param<'a>(op: &'a Value, name: &str) -> Option<&'a Value> {
    op["parameters"]
        .as_array()?
        .iter()
        .find(|p| p["in"] == "header" && p["name"] == name)
}

#[tokio::test]
async fn operation_ids_are_unique() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut seen: HashMap<String, String> = HashMap::new();
    for (m, path, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{m} {path} has no operationId"))
            .to_string();
        if let Some(other) = seen.insert(id.clone(), format!("{m} {path}")) {
            panic!("operationId {id} of {m} {path} is also {other}");
        }
    }
    assert!(seen.len() > 100);
}

#[tokio::test]
async fn every_operation_declares_its_problem_responses() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let problem = doc["components"]["schemas"]["Problem"].to_string();
    assert!(problem.contains("\"code\""), "{problem}");
    for (m, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        if !path.starts_with("/api/v1") {
            continue;
        }
        let mut want = vec!["400", "503"];
        if path != "/api/v1/auth/login" {
            want.extend(["401", "403"]);
        }
        if path.contains('{') {
            want.push("404");
        }
        if op.get("requestBody").is_some() {
            want.extend(["413", "415", "422"]);
        }
        if m != "get" {
            want.extend(["409", "422"]);
        }
        if header_param(&op, "If-Match").is_some() {
            want.extend(["412", "428"]);
        }
        if header_param(&op, "Idempotency-Key").is_some_and(|p| p["required"] == true) {
            want.push("428");
        }
        for s in want {
            assert!(responses.contains_key(s), "{m} {path} does not declare {s}");
        }
        for (status, r) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    r["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{m} {path} {status}"
                );
            }
        }
    }
}

/// Every operation that declares a required header answers 428 without it (before it
/// looks at the path's ids), and no other operation does.
#[tokio::test]
async fn required_headers_are_declared_where_the_server_requires_them() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut declared = 0;
    for (m, path, op) in operations(&doc) {
        if !path.starts_with("/api/v1") || m == "get" {
            continue;
        }
        let url = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
        let res = app
            .req(method, &url, &app.admin)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let if_match = header_param(&op, "If-Match").is_some_and(|p| p["required"] == true);
        let key = header_param(&op, "Idempotency-Key").is_some_and(|p| p["required"] == true);
        if if_match || key {
            declared += 1;
            assert_eq!(
                status,
                StatusCode::PRECONDITION_REQUIRED,
                "{m} {path}: {body}"
            );
            let code = if if_match {
                "if_match_required"
            } else {
                "idempotency_key_required"
            };
            assert_eq!(body["code"], code, "{m} {path}");
        } else {
            assert_ne!(
                status,
                StatusCode::PRECONDITION_REQUIRED,
                "{m} {path} requires a header it does not declare: {body}"
            );
        }
    }
    assert!(declared > 40, "{declared}");
    // and the header table names only operations that exist
    for (m, path, _) in dispatch::api::openapi::HEADERS {
        let item = &doc["paths"][format!("/api/v1{path}")];
        assert!(
            item.get(m.to_lowercase()).is_some(),
            "HEADERS names {m} {path}, which the API does not have"
        );
    }
}

#[tokio::test]
async fn query_limits_and_enumerations_are_declared() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let param = |path: &str, name: &str| -> Value {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has no parameters"))
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no {name}"))["schema"]
            .clone()
    };
    for list in [
        "/api/v1/customers",
        "/api/v1/work-orders",
        "/api/v1/charges",
    ] {
        let limit = param(list, "limit");
        assert_eq!(limit["minimum"], 1, "{list}");
        assert_eq!(limit["maximum"], 200, "{list}");
    }
    let values = |path: &str, name: &str| -> Vec<String> {
        param(path, name)["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} {name} has no enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(values("/api/v1/work-orders", "kind"), ["install", "repair"]);
    assert_eq!(values("/api/v1/kpis", "by"), ["center", "technician"]);
    assert_eq!(values("/api/v1/payments/export", "format"), ["csv", "xlsx"]);
    assert!(values("/api/v1/outbox", "status").contains(&"dead".to_string()));
    assert!(values("/api/v1/tickets", "kind").contains(&"complaint".to_string()));
    let terminal_status = param("/api/v1/terminals", "status");
    assert!(
        terminal_status.get("$ref").is_some() || terminal_status.get("enum").is_some(),
        "{terminal_status}"
    );
    // and each declared value is one the server takes, one outside is refused
    for (path, name, vals) in dispatch::api::openapi::QUERY_ENUMS {
        // the KPIs and the install ledger need their period
        let period = if *path == "/kpis" || *path == "/install-ledger" {
            "&from=2026-01-01&to=2026-01-31"
        } else {
            ""
        };
        for v in vals.iter() {
            let res = app
                .get(&format!("/api/v1{path}?{name}={v}{period}"), &app.admin)
                .await;
            assert!(
                res.status().is_success(),
                "{path}?{name}={v}: {}",
                res.status()
            );
        }
        let res = app
            .get(&format!("/api/v1{path}?{name}=bogus{period}"), &app.admin)
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}?{name}=bogus"
        );
    }
}

/// Every `code` the server can emit: the string literals in the source where a problem or a
/// field error gets its code (`code: "…"`, `conflict("…"`, and the `fn code` of the domain's
/// refusals).
fn codes_in_source() -> BTreeSet<String> {
    fn literal_after(text: &str, at: usize) -> Option<String> {
        let rest = text[at..].trim_start();
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        let s = &rest[..end];
        (!s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        .then(|| s.to_string())
    }
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut paths,
    );
    let mut codes = BTreeSet::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        for marker in ["code:", "conflict("] {
            for (at, _) in text.match_indices(marker) {
                let before = text[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                if let Some(c) = literal_after(&text, at + marker.len()) {
                    codes.insert(c);
                }
            }
        }
        for (at, _) in text.match_indices("fn code(") {
            let sig = &text[at..];
            if !(sig.starts_with("fn code(self)") || sig.starts_with("fn code(&self)")) {
                continue;
            }
            let body = &sig[..sig.find("\n    }").unwrap_or(sig.len())];
            for piece in body.split('"').skip(1).step_by(2) {
                if !piece.is_empty()
                    && piece
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    codes.insert(piece.to_string());
                }
            }
        }
    }
    codes
}

/// The codes with a Chinese text in `web/lib/problems.js` (`  code: '…',` lines of its
/// table).
fn codes_in_problems_js() -> HashMap<String, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/lib/problems.js");
    let text = std::fs::read_to_string(path).unwrap();
    let mut table = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some((k, v)) = line.split_once(": '")
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            table.insert(
                k.to_string(),
                v.trim_end_matches(',').trim_end_matches('\'').to_string(),
            );
        }
    }
    table
}

#[tokio::test]
async fn every_problem_code_is_listed_and_has_chinese_text() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let listed: BTreeSet<String> = doc["x-problem-codes"]
        .as_array()
        .expect("x-problem-codes")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let source = codes_in_source();
    assert!(source.contains("terminal_has_sim") && source.contains("center_mismatch"));
    let unlisted: Vec<_> = source.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "codes the server emits but x-problem-codes lacks: {unlisted:?}"
    );
    let zh = codes_in_problems_js();
    let missing: Vec<_> = listed.iter().filter(|c| !zh.contains_key(*c)).collect();
    assert!(
        missing.is_empty(),
        "codes without a Chinese text in web/lib/problems.js: {missing:?}"
    );
    for (code, text) in &zh {
        assert!(
            text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{code}: {text} is not Chinese"
        );
    }
}
