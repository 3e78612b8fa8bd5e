use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn login_returns_a_bearer_token_that_works() {
    let app = spawn_app().await;
    let res = app.login("admin", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let me: Value = app
        .get("/api/v1/auth/me", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert!(me.get("password_hash").is_none());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_answer_alike() {
    let app = spawn_app().await;
    let a = assert_problem(
        app.login("admin", "wrong-password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let b = assert_problem(
        app.login("nobody", "wrong-password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    let app = spawn_app().await;
    app.insert_user("victim", "agent", &app.zz.id);
    for _ in 0..5 {
        assert_problem(
            app.login("victim", "guess-guess").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    // even the right password is refused while locked
    assert_problem(
        app.login("victim", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    // other accounts are not affected
    assert_eq!(app.login("admin", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn fewer_failures_do_not_lock_and_success_resets_the_count() {
    let app = spawn_app().await;
    app.insert_user("typo", "agent", &app.zz.id);
    for _ in 0..4 {
        app.login("typo", "guess-guess").await;
    }
    assert_eq!(app.login("typo", PASSWORD).await.status(), StatusCode::OK);
    for _ in 0..4 {
        app.login("typo", "guess-guess").await;
    }
    assert_eq!(app.login("typo", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_malformed_and_forged_tokens_are_refused() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/customers"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_problem(
        app.get("/api/v1/customers", "not-a-jwt").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // a token signed with another secret
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "x", "role": "admin", "center": "x", "tv": 0, "iat": 0, "exp": 4_000_000_000i64}),
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-00"),
    )
    .unwrap();
    assert_problem(
        app.get("/api/v1/customers", &forged).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn deactivated_users_tokens_stop_working() {
    let app = spawn_app().await;
    let (id, token) = app.user("agent", &app.zz.id).await;
    assert_eq!(
        app.get("/api/v1/customers", &token).await.status(),
        StatusCode::OK
    );
    let user: Value = app
        .get(&format!("/api/v1/users/{id}"), &app.admin)
        .await
        .json()
        .await
        .unwrap();
    app.deactivate(&id).await;
    assert_problem(
        app.get("/api/v1/customers", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let name = user["username"].as_str().unwrap();
    assert_problem(
        app.login(name, PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn changing_ones_password_ends_old_sessions() {
    let app = spawn_app().await;
    let (_, token) = app.user("finance", &app.zz.id).await;
    let me: Value = app
        .get("/api/v1/auth/me", &token)
        .await
        .json()
        .await
        .unwrap();
    let name = me["username"].as_str().unwrap().to_string();

    let wrong = app
        .post(
            "/api/v1/auth/password",
            &token,
            &json!({"current_password": "nope-nope", "new_password": "new-password-9"}),
        )
        .await;
    let p = assert_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "current_password");

    let short = app
        .post(
            "/api/v1/auth/password",
            &token,
            &json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_problem(short, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let ok = app
        .post(
            "/api/v1/auth/password",
            &token,
            &json!({"current_password": PASSWORD, "new_password": "new-password-9"}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get("/api/v1/auth/me", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_eq!(
        app.login(&name, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&name, "new-password-9").await.status(),
        StatusCode::OK
    );
}

/// A stolen token is no oracle for the password: wrong current passwords count like failed
/// logins, and the fifth locks the account (the right password too is refused then).
#[tokio::test]
async fn guessing_the_current_password_locks_the_account() {
    let app = spawn_app().await;
    let (_, token) = app.user("agent", &app.zz.id).await;
    let me: Value = app
        .get("/api/v1/auth/me", &token)
        .await
        .json()
        .await
        .unwrap();
    let name = me["username"].as_str().unwrap().to_string();
    for i in 0..5 {
        let p = assert_problem(
            app.post(
                "/api/v1/auth/password",
                &token,
                &json!({"current_password": format!("guess-{i}-xx"), "new_password": "new-password-9"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["code"], "wrong_password");
    }
    let p = assert_problem(
        app.post(
            "/api/v1/auth/password",
            &token,
            &json!({"current_password": PASSWORD, "new_password": "new-password-9"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "too_many_attempts");
    assert_eq!(
        app.login(&name, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the account is locked for logins too"
    );
}

#[tokio::test]
async fn login_body_must_be_well_formed() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": \"admin\", ")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
}
