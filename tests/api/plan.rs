//! The desk's map settings (`GET /map-config`) and an order's signature image
//! (`GET /work-orders/{id}/signature`), scoped like the order.

use reqwest::StatusCode;

use crate::fixtures::{ORDERS, completed_order, expect, id_of, technician, zz};

#[tokio::test]
async fn map_config_is_for_signed_in_users_and_says_when_no_tiles_are_set() {
    let s = zz().await;
    let app = &s.app;
    let v = expect(
        app.get("/api/v1/map-config", &s.agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["tiles"], serde_json::Value::Null);
    assert_eq!(v["datum"], "wgs84");
    let (_, tech) = app.user("technician", &app.zz.id).await;
    expect(app.get("/api/v1/map-config", &tech).await, StatusCode::OK).await;
    let res = app
        .client
        .get(app.url("/api/v1/map-config"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // a deactivated user's token no longer reads it
    let (finance_id, finance) = app.user("finance", &app.zz.id).await;
    app.deactivate(&finance_id).await;
    let res = app.get("/api/v1/map-config", &finance).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // the pages' CSP allows images from no other host when no tiles are set
    let res = app.client.get(app.url("/desk/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
}

#[tokio::test]
async fn the_signature_is_the_image_signed_and_is_scoped_like_the_order() {
    let s = zz().await;
    let app = &s.app;
    let o = completed_order(&s, &s.customer, &s.lead, 5000).await;
    let id = id_of(&o);
    let res = app.get(&format!("{ORDERS}/{id}/signature"), &s.mgr).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    // the lead reads it; another technician of the center, another center: as missing
    let res = app
        .get(&format!("{ORDERS}/{id}/signature"), &s.lead.token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let other = technician(app, &app.zz.id, true, true, (34.7, 113.6), false).await;
    let res = app
        .get(&format!("{ORDERS}/{id}/signature"), &other.token)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (_, bj) = app.user("manager", &app.bj.id).await;
    let res = app.get(&format!("{ORDERS}/{id}/signature"), &bj).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // an order without one, and no order at all
    let plain = crate::fixtures::created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &crate::fixtures::install_body(
                &s.customer,
                serde_json::json!([{"plate_no": "豫A54321"}]),
                true,
            ),
        )
        .await,
    )
    .await;
    let res = app
        .get(&format!("{ORDERS}/{}/signature", id_of(&plain)), &s.mgr)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.get(&format!("{ORDERS}/nope/signature"), &s.mgr).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
