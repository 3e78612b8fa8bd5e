use crate::helpers::spawn_app;
#[tokio::test]
async fn customers_vehicles_smoke() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/centers", &app.admin).await.status(), 200);
}
