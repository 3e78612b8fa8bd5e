//! The HTTP contract that holds for every endpoint: problem+json errors with exact status
//! codes, body limits, health, OpenAPI, and no 500 for anything a client sends.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

/// Every POST endpoint, with an existing-looking id where the path needs one.
const POSTS: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/password",
    "/api/v1/centers",
    "/api/v1/users",
    "/api/v1/users/x/password",
    "/api/v1/technicians",
    "/api/v1/technicians/me/position",
    "/api/v1/customers",
    "/api/v1/vehicles",
    "/api/v1/vehicles/x/drivers",
    "/api/v1/terminal-models",
    "/api/v1/terminals",
    "/api/v1/terminals/x/bind",
    "/api/v1/terminals/x/unbind",
    "/api/v1/sims",
    "/api/v1/sims/x/bind",
    "/api/v1/sims/x/unbind",
];

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn openapi_document_and_docs_ui() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/auth/login",
        "/api/v1/customers/{id}",
        "/api/v1/terminals/import",
        "/api/v1/sims/{id}/bind",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn unknown_routes_answer_problem_404() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/nothing-here", &app.admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/customers/does-not-exist", &app.admin)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn malformed_json_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let valid = r#"{"name": "x", "tier": "key", "address": "a", "payment_terms": "cash", "contacts": [{"name": "n", "phone": "13812345678"}]}"#;
    let trailing = format!("{valid} trailing");
    for body in ["{", "{\"name\": }", "[1,2", "nul", trailing.as_str()] {
        let res = app
            .req(Method::POST, "/api/v1/customers", &app.admin)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    }
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_are_422() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let cases = [
        json!({"name": 5, "tier": "key", "address": "a", "payment_terms": "cash", "contacts": []}),
        json!({"name": "x", "tier": "vip", "address": "a", "payment_terms": "cash", "contacts": []}),
        json!({"name": "x", "tier": "key", "address": "a", "payment_terms": "cash", "contacts": [], "colour": "red"}),
        json!({"name": "x", "tier": "key", "address": "a", "payment_terms": "cash", "lat": "north", "contacts": []}),
        json!([1, 2, 3]),
    ];
    for body in cases {
        let res = app.post("/api/v1/customers", &app.admin, &body).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    }
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn oversize_bodies_are_413_and_change_nothing() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let big = "长".repeat(40_000);
    let body = json!({"name": big, "tier": "key", "address": "a", "payment_terms": "cash", "contacts": []});
    let res = app.post("/api/v1/customers", &app.admin, &body).await;
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn json_endpoints_want_json() {
    let app = spawn_app().await;
    let res = app
        .req(Method::POST, "/api/v1/customers", &app.admin)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn list_parameters_are_checked() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/customers?limit=abc", &app.admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_query",
    )
    .await;
    assert_problem(
        app.get("/api/v1/customers?tier=vip", &app.admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_query",
    )
    .await;
    let p = assert_problem(
        app.get("/api/v1/customers?limit=0", &app.admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "limit");
    assert_problem(
        app.get("/api/v1/customers?limit=201", &app.admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn etag_and_if_match_protect_updates() {
    let app = spawn_app().await;
    let customer = app
        .create_customer(&app.admin, &app.zz.id, "郑州测试物流有限公司")
        .await;
    let id = customer["id"].as_str().unwrap();
    let path = format!("/api/v1/customers/{id}");
    let res = app.get(&path, &app.admin).await;
    assert_eq!(res.headers()["etag"], "\"1\"");

    let res = app
        .patch(&path, &app.admin, None, &json!({"name": "新名字"}))
        .await;
    assert_problem(res, StatusCode::PRECONDITION_REQUIRED, "if_match_required").await;
    let res = app
        .patch(&path, &app.admin, Some(7), &json!({"name": "新名字"}))
        .await;
    let p = assert_problem(res, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
    assert_eq!(p["current_version"], 1);
    let res = app
        .req(Method::PATCH, &path, &app.admin)
        .header("If-Match", "garbage")
        .json(&json!({"name": "新名字"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
    let unchanged: Value = app.get(&path, &app.admin).await.json().await.unwrap();
    assert_eq!(unchanged["name"], "郑州测试物流有限公司");

    let res = app
        .patch(&path, &app.admin, Some(1), &json!({"name": "新名字"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    // the same If-Match again is now stale: a lost update is impossible
    let res = app
        .patch(&path, &app.admin, Some(1), &json!({"name": "又一个名字"}))
        .await;
    assert_problem(res, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
}

/// Garbage of every shape at every POST endpoint: never a 500, never a change.
#[tokio::test]
async fn no_client_input_produces_a_500() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
        (Some("application/json"), b"{".to_vec()),
        (Some("application/json"), b"null".to_vec()),
        (Some("application/json"), b"{}".to_vec()),
        (Some("application/json"), b"\"\xff\xfe\"".to_vec()),
        (
            Some("application/json"),
            br#"{"lat": 1e999, "lng": -1e999}"#.to_vec(),
        ),
        (
            Some("application/json"),
            br#"{"username": "\u0000", "password": "\ud800"}"#.to_vec(),
        ),
        (
            Some("application/json"),
            format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
        ),
        (Some("text/csv"), b"imei\n1".to_vec()),
        (None, Vec::new()),
    ];
    for path in POSTS {
        for (ct, body) in &bodies {
            let mut req = app.req(Method::POST, path, &app.admin).body(body.clone());
            if let Some(ct) = ct {
                req = req.header("content-type", *ct);
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            assert!(
                status.is_client_error(),
                "{path} answered {status} to {:?}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(
                res.headers()["content-type"],
                "application/problem+json",
                "{path}"
            );
        }
    }
    app.assert_unchanged(&before);
}

/// The pages: `/`, `/app/`, `/desk/` and their files, each with a content ETag (304 on a
/// match), no-cache, compressed on request; HTML with a CSP; nothing outside `web/`.
#[tokio::test]
async fn pages_are_served_with_etags_and_nothing_outside_web() {
    let app = spawn_app().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/app/", "text/html"),
        ("/desk/", "text/html"),
        ("/app/sw.js", "text/javascript"),
        ("/lib/api.js", "text/javascript"),
        ("/lib/ui.css", "text/css"),
        ("/app/manifest.webmanifest", "application/manifest+json"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers().clone();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(h["cache-control"], "no-cache", "{path}");
        if kind == "text/html" {
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        }
        let etag = h["etag"].to_str().unwrap().to_string();
        let again = app
            .client
            .get(app.url(path))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(res.bytes().await.unwrap().len() > 100, "{path}");
    }
    // compressed when the browser asks (reqwest here has no decoders: the raw bytes come back)
    let res = app
        .client
        .get(app.url("/app/app.js"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    // folders redirect to their page; nothing outside web/ is reachable
    let res = app.client.get(app.url("/app")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "followed the redirect to /app/"
    );
    for path in [
        "/app/../Cargo.toml",
        "/app/..%2f..%2fCargo.toml",
        "/lib/%2e%2e/%2e%2e/Cargo.toml",
        "/app/nope.js",
        "/web/index.html",
    ] {
        assert_problem(
            app.client.get(app.url(path)).send().await.unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

/// `HEAD` on the pages answers as `GET` does, without a body (issue 14, item 20): link
/// checkers, uptime monitors and proxies ask with HEAD.
#[tokio::test]
async fn head_on_the_pages_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/index.html",
        "/app/",
        "/desk/",
        "/app/app.js",
        "/lib/ui.css",
    ] {
        let get = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(get.status(), StatusCode::OK, "GET {path}");
        let res = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "HEAD {path}");
        for h in ["content-type", "etag", "cache-control"] {
            assert_eq!(
                res.headers().get(h),
                get.headers().get(h),
                "HEAD {path}: {h}"
            );
        }
        assert!(
            res.bytes().await.unwrap().is_empty(),
            "HEAD {path}: no body"
        );
    }
    let res = app
        .client
        .head(app.url("/app/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_undeclared_method_answers_405_with_allow() {
    let app = spawn_app().await;
    let res = app.delete("/api/v1/customers", &app.admin).await;
    assert_eq!(res.headers()["allow"], "GET, POST");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let res = app
        .req(Method::PUT, "/api/v1/work-orders/x/submit", &app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "POST");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    // a path the API does not have stays 404
    assert_problem(
        app.delete("/api/v1/nothing-here", &app.admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn if_match_star_matches_any_current_version() {
    let app = spawn_app().await;
    let zz = app.zz.id.clone();
    let c = app.create_customer(&app.admin, &zz, "星号客户").await;
    let id = c["id"].as_str().unwrap();
    let res = app
        .req(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &app.admin,
        )
        .header("If-Match", "*")
        .json(&json!({"address": "新地址"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    // a stale version is still refused
    let res = app
        .patch(
            &format!("/api/v1/customers/{id}"),
            &app.admin,
            Some(1),
            &json!({"address": "x"}),
        )
        .await;
    assert_problem(res, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
}

/// A control character in a header is refused by actix's HTTP parser before any of our
/// code runs: a bare 400 (documented in the README). What reaches us with bytes that are
/// not text (obs-text) is answered as problem+json.
#[tokio::test]
async fn odd_bytes_in_headers_answer_problems() {
    use std::io::{Read, Write};
    let app = spawn_app().await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let out = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.write_all(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\x01b\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    })
    .await
    .unwrap();
    assert!(
        out.starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    // non-UTF-8 bytes in If-Match and Idempotency-Key: problem+json
    let zz = app.zz.id.clone();
    let c = app.create_customer(&app.admin, &zz, "字节客户").await;
    let id = c["id"].as_str().unwrap();
    let res = app
        .req(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &app.admin,
        )
        .header(
            "If-Match",
            reqwest::header::HeaderValue::from_bytes(b"\"\xff\"").unwrap(),
        )
        .json(&json!({"address": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
    let res = app
        .req(Method::POST, "/api/v1/work-orders/x/cancel", &app.admin)
        .header("If-Match", "\"1\"")
        .header(
            "Idempotency-Key",
            reqwest::header::HeaderValue::from_bytes(b"k\xff").unwrap(),
        )
        .json(&json!({"reason": "客户取消"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
}
