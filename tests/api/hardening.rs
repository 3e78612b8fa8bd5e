//! Regressions from review: races, odd bytes, and invariants across resources.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_lockout() {
    let app = spawn_app().await;
    app.insert_user("target", "agent", &app.zz.id);
    let guesses = (0..12).map(|_| app.login("target", "wrong-guess-1"));
    for res in join_all(guesses).await {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // twelve guesses at once still lock the account: the right password is refused now
    assert_problem(
        app.login("target", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn nul_characters_are_client_errors_never_500() {
    let app = spawn_app().await;
    let before = app.snapshot();
    for path in [
        "/api/v1/customers/%00",
        "/api/v1/customers?q=%00",
        "/api/v1/terminals?model_code=a%00b",
    ] {
        assert_problem(
            app.get(path, &app.admin).await,
            StatusCode::BAD_REQUEST,
            "invalid_characters",
        )
        .await;
    }
    assert_problem(
        app.login("adm\u{0}in", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    for body in [
        json!({"imei": crate::helpers::imei(9), "model_code": "GT\u{0}6N", "purchase_date": "2025-01-01"}),
        json!({"customer_id": "x\u{0}", "plate_no": "豫A12345"}),
    ] {
        let path = if body.get("imei").is_some() {
            "/api/v1/terminals"
        } else {
            "/api/v1/vehicles"
        };
        let status = app.post(path, &app.admin, &body).await.status();
        assert!(status.is_client_error(), "{path} answered {status}");
    }
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn if_match_takes_only_our_strong_etags() {
    let app = spawn_app().await;
    let c = app
        .create_customer(&app.admin, &app.zz.id, "版本测试")
        .await;
    let path = format!("/api/v1/customers/{}", c["id"].as_str().unwrap());
    // (`*` matches any current version: protocol::if_match_star_matches_any_current_version)
    for tag in ["\"2147483647\"", "W/\"1\"", "1", "\"-1\""] {
        let res = app
            .req(Method::PATCH, &path, &app.admin)
            .header("If-Match", tag)
            .json(&json!({"name": "新"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED, "{tag}");
        assert_problem(res, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
    }
    let now: Value = app.get(&path, &app.admin).await.json().await.unwrap();
    assert_eq!(now["name"], "版本测试");
}

#[tokio::test]
async fn a_terminal_holding_a_sim_is_not_scrapped_or_returned() {
    let app = spawn_app().await;
    let t = app.create_terminal(&app.admin, &app.zz.id, 1).await;
    let s = app.create_sim(&app.admin, &app.zz.id, 1).await;
    let (tid, sid) = (t["id"].as_str().unwrap(), s["id"].as_str().unwrap());
    let res = app
        .post(
            &format!("/api/v1/sims/{sid}/bind"),
            &app.admin,
            &json!({"terminal_id": tid, "reason": "插卡"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // taking a SIM is a change of the terminal: its version moved on
    let res = app
        .patch(
            &format!("/api/v1/terminals/{tid}"),
            &app.admin,
            Some(1),
            &json!({"status": "in_repair"}),
        )
        .await;
    assert_problem(res, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
    for status in ["scrapped", "returned"] {
        let res = app
            .patch(
                &format!("/api/v1/terminals/{tid}"),
                &app.admin,
                Some(2),
                &json!({"status": status}),
            )
            .await;
        assert_problem(res, StatusCode::CONFLICT, "terminal_has_sim").await;
    }
    // in repair with its SIM is fine
    let res = app
        .patch(
            &format!("/api/v1/terminals/{tid}"),
            &app.admin,
            Some(2),
            &json!({"status": "in_repair"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn unbinding_a_suspended_sim_keeps_it_suspended() {
    let app = spawn_app().await;
    let t = app.create_terminal(&app.admin, &app.zz.id, 1).await;
    let s = app.create_sim(&app.admin, &app.zz.id, 1).await;
    let (tid, sid) = (t["id"].as_str().unwrap(), s["id"].as_str().unwrap());
    app.post(
        &format!("/api/v1/sims/{sid}/bind"),
        &app.admin,
        &json!({"terminal_id": tid, "reason": "插卡"}),
    )
    .await;
    let res = app
        .patch(
            &format!("/api/v1/sims/{sid}"),
            &app.admin,
            Some(2),
            &json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            &format!("/api/v1/sims/{sid}/unbind"),
            &app.admin,
            &json!({"reason": "欠费停机"}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["terminal_id"], Value::Null);
}

#[tokio::test]
async fn imports_want_csv() {
    let app = spawn_app().await;
    let res = app
        .req(Method::POST, "/api/v1/terminals/import", &app.admin)
        .header("content-type", "application/json")
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
async fn a_technician_with_stock_in_the_van_keeps_their_center_until_it_is_returned() {
    let app = spawn_app().await;
    let tech = app.insert_user("van.tech", "technician", &app.zz.id);
    app.post(
        "/api/v1/technicians",
        &app.admin,
        &json!({"user_id": tech, "can_install": true, "can_repair": true, "home_lat": 34.7, "home_lng": 113.6}),
    )
    .await;
    let t = app.create_terminal(&app.admin, &app.zz.id, 1).await;
    let tpath = format!("/api/v1/terminals/{}", t["id"].as_str().unwrap());
    let res = app
        .patch(&tpath, &app.admin, Some(1), &json!({"technician_id": tech}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let upath = format!("/api/v1/users/{tech}");
    let before = app.snapshot();
    let res = app
        .patch(
            &upath,
            &app.admin,
            Some(1),
            &json!({"center_id": app.bj.id}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "technician_holds_terminals").await;
    let res = app
        .patch(&upath, &app.admin, Some(1), &json!({"active": false}))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "technician_holds_terminals").await;
    app.assert_unchanged(&before);

    // back to the warehouse: now the move goes through and the profile follows
    app.patch(&tpath, &app.admin, Some(2), &json!({"technician_id": null}))
        .await;
    let res = app
        .patch(
            &upath,
            &app.admin,
            Some(1),
            &json!({"center_id": app.bj.id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let profile: Value = app
        .get(&format!("/api/v1/technicians/{tech}"), &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["center_id"], app.bj.id.as_str());
    // deactivating the user takes the profile off duty
    let res = app
        .patch(&upath, &app.admin, Some(2), &json!({"active": false}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let profile: Value = app
        .get(&format!("/api/v1/technicians/{tech}"), &app.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["active"], false);
}

/// The service desk's reads (issue 16) with odd parameters and odd ids: a problem for the
/// client's mistake or a plain 404, never a 5xx.
#[tokio::test]
async fn the_desk_reads_answer_odd_input_without_a_500() {
    let app = spawn_app().await;
    let odd_ids = ["x", "%00", "%E9%A1%BA", "..%2F..%2Fetc", &"9".repeat(300)];
    let mut paths: Vec<String> = Vec::new();
    for id in odd_ids {
        paths.push(format!("/api/v1/customers/{id}/archive"));
        paths.push(format!("/api/v1/tickets/{id}/handover-targets"));
        paths.push(format!("/api/v1/work-orders/{id}/signature"));
    }
    for q in [
        "q=%00",
        "q=%FF%FE",
        "q=%25%25%25",
        "q=%E8%B1%AB",
        "q=0",
        "q=a&kinds=",
        "q=a&kinds=,,,",
        "q=a&limit=-1",
        "q=a&limit=99999999999999999999",
        "q=a&center_id=%00",
        "q=a&q=b",
    ] {
        paths.push(format!("/api/v1/search?{q}"));
    }
    for q in [
        "status=open,nope",
        "status=,",
        "status=%00",
        "kind=x",
        "limit=0",
        "cursor=%FF",
    ] {
        paths.push(format!("/api/v1/tickets?{q}"));
        paths.push(format!("/api/v1/follow-ups?{q}"));
    }
    paths.push("/api/v1/map-config?x=%00".into());
    for path in &paths {
        let res = app.req(Method::GET, path, &app.admin).send().await.unwrap();
        let status = res.status();
        assert!(
            status.is_success() || status.is_client_error(),
            "GET {path} answered {status}"
        );
        if status.is_client_error() {
            assert_eq!(
                res.headers()["content-type"],
                "application/problem+json",
                "GET {path}"
            );
        }
    }
    // the event stream with a Last-Event-ID it never issued
    for last in ["-1", "x", "99999999999999999999", "1e3"] {
        let res = app
            .req(Method::GET, "/api/v1/events", &app.admin)
            .header("Last-Event-ID", last)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert!(
            status.is_success() || status.is_client_error(),
            "events after {last:?} answered {status}"
        );
    }
}
