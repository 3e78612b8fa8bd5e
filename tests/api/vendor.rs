//! Vendored browser libraries (`web/vendor/`) are served like the pages: the install and
//! registry pages load SheetJS from `/vendor/` to read XLSX files in the browser.

use reqwest::StatusCode;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn vendored_sheetjs_is_served_with_an_etag_and_nothing_else_under_vendor() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/vendor/sheetjs/xlsx.mini.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(h["cache-control"], "no-cache");
    assert!(h.contains_key("etag"));
    let body = res.text().await.unwrap();
    assert!(body.contains("SheetJS"), "the library itself");
    for path in ["/vendor/nope.js", "/vendor/../Cargo.toml", "/vendor/"] {
        assert_problem(
            app.client.get(app.url(path)).send().await.unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}
