//! Service centers, users and technician profiles: who may read and write them, validation,
//! optimistic concurrency, list scoping, filters and pagination.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{create_profile, create_user, profile_body, technician_with_profile};
use crate::helpers::{PASSWORD, assert_problem, error_fields, spawn_app};

const NON_ADMIN_ROLES: [&str; 4] = ["manager", "agent", "technician", "finance"];

// ---- small helpers -------------------------------------------------------------------

/// The ETag header of a response, if any.
fn etag(res: &Response) -> Option<String> {
    res.headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string())
}

/// Asserts the status (showing the body on failure) and returns the JSON body.
async fn expect(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(actual, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The ids (`key`) of a list page's items.
fn ids(page: &Value, key: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

fn center_body(code: &str, name: &str) -> Value {
    json!({"code": code, "name": name, "region": "华中", "lat": 34.26, "lng": 108.94})
}

// ---- service centers -----------------------------------------------------------------

#[tokio::test]
async fn admin_creates_a_center_with_version_one() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/centers",
            &app.admin,
            &center_body("XA", "西安服务中心"),
        )
        .await;
    assert_eq!(etag(&res).as_deref(), Some("\"1\""));
    let center = expect(res, StatusCode::CREATED).await;
    assert_eq!(center["code"], "XA");
    assert_eq!(center["name"], "西安服务中心");
    assert_eq!(center["region"], "华中");
    assert_eq!(center["lat"], 34.26);
    assert_eq!(center["lng"], 108.94);
    assert_eq!(center["active"], true);
    assert_eq!(center["version"], 1);
    assert_eq!(app.count("service_centers"), 3);

    let id = center["id"].as_str().unwrap();
    let res = app.get(&format!("/api/v1/centers/{id}"), &app.admin).await;
    assert_eq!(etag(&res).as_deref(), Some("\"1\""));
    assert_eq!(expect(res, StatusCode::OK).await, center);
}

#[tokio::test]
async fn center_validation_lists_every_bad_field_and_changes_nothing() {
    let app = spawn_app().await;
    let before = app.snapshot();
    for code in ["zz", "Z", "ABCDEFG", "Z1", ""] {
        let res = app
            .post(
                "/api/v1/centers",
                &app.admin,
                &json!({"code": code, "name": "  ", "region": "华中", "lat": 91.0, "lng": 113.0}),
            )
            .await;
        let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let mut fields = error_fields(&p);
        fields.sort();
        assert_eq!(fields, ["code", "lat", "name"], "code {code:?}: {p}");
    }
    // one bad field alone is reported alone
    let mut body = center_body("XA", "西安服务中心");
    body["lng"] = json!(-180.5);
    let p = assert_problem(
        app.post("/api/v1/centers", &app.admin, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["lng"]);
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn duplicate_center_code_is_a_conflict() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let p = assert_problem(
        app.post(
            "/api/v1/centers",
            &app.admin,
            &center_body("ZZ", "另一个服务中心"),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    assert_eq!(p["field"], "code", "{p}");
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn only_admins_create_and_update_centers() {
    let app = spawn_app().await;
    let before = app.counts();
    for role in NON_ADMIN_ROLES {
        let (_, token) = app.user(role, &app.zz.id).await;
        assert_problem(
            app.post(
                "/api/v1/centers",
                &token,
                &center_body("XA", "西安服务中心"),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            app.patch(
                &format!("/api/v1/centers/{}", app.zz.id),
                &token,
                Some(1),
                &json!({"name": "改名"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    // only the users inserted above were added
    let after = app.counts();
    for ((table, b), (_, a)) in before.iter().zip(&after) {
        let added = if *table == "users" { 4 } else { 0 };
        assert_eq!(*a, b + added, "{table}");
    }
    let zz = expect(
        app.get(&format!("/api/v1/centers/{}", app.zz.id), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(zz["name"], "郑州服务中心");
    assert_eq!(zz["version"], 1);
}

#[tokio::test]
async fn a_manager_sees_only_their_own_center() {
    let app = spawn_app().await;
    let (_, manager) = app.user("manager", &app.zz.id).await;

    let page = expect(app.get("/api/v1/centers", &manager).await, StatusCode::OK).await;
    assert_eq!(ids(&page, "id"), std::slice::from_ref(&app.zz.id));
    assert_eq!(page["next_cursor"], Value::Null);

    let own = expect(
        app.get(&format!("/api/v1/centers/{}", app.zz.id), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own["code"], "ZZ");
    assert_problem(
        app.get(&format!("/api/v1/centers/{}", app.bj.id), &manager)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // the admin sees both
    let bj = expect(
        app.get(&format!("/api/v1/centers/{}", app.bj.id), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bj["code"], "BJ");
    let page = expect(app.get("/api/v1/centers", &app.admin).await, StatusCode::OK).await;
    let mut all = ids(&page, "id");
    all.sort();
    let mut expected = vec![app.zz.id.clone(), app.bj.id.clone()];
    expected.sort();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn center_patch_with_the_current_version_succeeds() {
    let app = spawn_app().await;
    let res = app
        .patch(
            &format!("/api/v1/centers/{}", app.zz.id),
            &app.admin,
            Some(1),
            &json!({"name": "郑州中心", "lat": 34.8, "lng": 113.7}),
        )
        .await;
    assert_eq!(etag(&res).as_deref(), Some("\"2\""));
    let center = expect(res, StatusCode::OK).await;
    assert_eq!(center["name"], "郑州中心");
    assert_eq!(center["lat"], 34.8);
    assert_eq!(center["lng"], 113.7);
    assert_eq!(center["code"], "ZZ");
    assert_eq!(center["version"], 2);

    let res = app
        .get(&format!("/api/v1/centers/{}", app.zz.id), &app.admin)
        .await;
    assert_eq!(etag(&res).as_deref(), Some("\"2\""));
    assert_eq!(expect(res, StatusCode::OK).await, center);
}

#[tokio::test]
async fn center_patch_without_if_match_is_refused() {
    let app = spawn_app().await;
    assert_problem(
        app.patch(
            &format!("/api/v1/centers/{}", app.zz.id),
            &app.admin,
            None,
            &json!({"name": "郑州中心"}),
        )
        .await,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    let zz = expect(
        app.get(&format!("/api/v1/centers/{}", app.zz.id), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(zz["name"], "郑州服务中心");
    assert_eq!(zz["version"], 1);
}

#[tokio::test]
async fn center_patch_with_a_stale_version_changes_nothing() {
    let app = spawn_app().await;
    let path = format!("/api/v1/centers/{}", app.zz.id);
    expect(
        app.patch(&path, &app.admin, Some(1), &json!({"region": "河南"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let current = expect(app.get(&path, &app.admin).await, StatusCode::OK).await;

    let p = assert_problem(
        app.patch(&path, &app.admin, Some(1), &json!({"name": "旧版本的改名"}))
            .await,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    assert_eq!(p["current_version"], 2, "{p}");
    // the row is exactly as before the refused update
    assert_eq!(
        expect(app.get(&path, &app.admin).await, StatusCode::OK).await,
        current
    );
}

// ---- users ---------------------------------------------------------------------------

#[tokio::test]
async fn admin_creates_a_user_without_exposing_the_hash() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/users",
            &app.admin,
            &json!({
                "username": "zhang.wei",
                "display_name": "张伟",
                "password": "s3cret-password",
                "role": "agent",
                "center_id": app.zz.id,
                "phone": "138 1234 5678",
                "email": "Zhang.Wei@Example.COM",
            }),
        )
        .await;
    assert_eq!(etag(&res).as_deref(), Some("\"1\""));
    let user = expect(res, StatusCode::CREATED).await;
    assert_eq!(user["username"], "zhang.wei");
    assert_eq!(user["display_name"], "张伟");
    assert_eq!(user["role"], "agent");
    assert_eq!(user["center_id"], app.zz.id.as_str());
    assert_eq!(user["phone"], "13812345678");
    assert_eq!(user["email"], "Zhang.Wei@example.com");
    assert_eq!(user["active"], true);
    assert_eq!(user["version"], 1);
    for secret in [
        "password",
        "password_hash",
        "token_version",
        "failed_logins",
    ] {
        assert!(user.get(secret).is_none(), "{secret} leaked: {user}");
    }

    let id = user["id"].as_str().unwrap();
    let fetched = expect(
        app.get(&format!("/api/v1/users/{id}"), &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert!(fetched.get("password_hash").is_none());
    assert_eq!(fetched, user);
    // the new user can log in with the password given
    assert_eq!(
        app.login("zhang.wei", "s3cret-password").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn user_validation_lists_every_bad_field_and_changes_nothing() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let res = app
        .post(
            "/api/v1/users",
            &app.admin,
            &json!({
                "username": "a b",
                "display_name": "坏用户",
                "password": "short",
                "role": "agent",
                "center_id": app.zz.id,
                "phone": "12345",
                "email": "not-an-email",
            }),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let mut fields = error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["email", "password", "phone", "username"], "{p}");

    let too_long = "x".repeat(33);
    for username in ["ab", too_long.as_str(), "张伟", "zhang@wei"] {
        let res = app
            .post(
                "/api/v1/users",
                &app.admin,
                &json!({
                    "username": username,
                    "display_name": "坏用户",
                    "password": PASSWORD,
                    "role": "agent",
                    "center_id": app.zz.id,
                }),
            )
            .await;
        let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error_fields(&p), ["username"], "{username:?}: {p}");
    }
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn user_of_an_unknown_center_is_refused() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let res = app
        .post(
            "/api/v1/users",
            &app.admin,
            &json!({
                "username": "orphan",
                "display_name": "无中心",
                "password": PASSWORD,
                "role": "agent",
                "center_id": "no-such-center",
            }),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(error_fields(&p), ["center_id"], "{p}");
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn duplicate_username_is_a_conflict() {
    let app = spawn_app().await;
    create_user(&app, "li.na", "李娜", "agent", &app.zz.id).await;
    let before = app.snapshot();
    let res = app
        .post(
            "/api/v1/users",
            &app.admin,
            &json!({
                "username": "li.na",
                "display_name": "另一个李娜",
                "password": PASSWORD,
                "role": "finance",
                "center_id": app.bj.id,
            }),
        )
        .await;
    let p = assert_problem(res, StatusCode::CONFLICT, "duplicate").await;
    assert_eq!(p["field"], "username", "{p}");
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn a_manager_reads_users_of_their_own_center_only() {
    let app = spawn_app().await;
    let (manager_id, manager) = app.user("manager", &app.zz.id).await;
    let zz_user = create_user(&app, "zz.agent", "郑州客服", "agent", &app.zz.id).await;
    let bj_user = create_user(&app, "bj.agent", "北京客服", "agent", &app.bj.id).await;
    let zz_id = zz_user["id"].as_str().unwrap();
    let bj_id = bj_user["id"].as_str().unwrap();

    let page = expect(app.get("/api/v1/users", &manager).await, StatusCode::OK).await;
    for item in page["items"].as_array().unwrap() {
        assert_eq!(item["center_id"], app.zz.id.as_str(), "{item}");
        assert!(item.get("password_hash").is_none());
    }
    let seen = ids(&page, "id");
    assert!(seen.contains(&zz_id.to_string()));
    assert!(seen.contains(&manager_id));
    assert!(!seen.contains(&bj_id.to_string()));

    // asking for the other center gives nothing
    let page = expect(
        app.get(&format!("/api/v1/users?center_id={}", app.bj.id), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"], json!([]));
    assert_eq!(page["next_cursor"], Value::Null);

    let got = expect(
        app.get(&format!("/api/v1/users/{zz_id}"), &manager).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["username"], "zz.agent");
    assert_problem(
        app.get(&format!("/api/v1/users/{bj_id}"), &manager).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_manager_cannot_create_or_update_users() {
    let app = spawn_app().await;
    let (_, manager) = app.user("manager", &app.zz.id).await;
    let target = create_user(&app, "zz.agent", "郑州客服", "agent", &app.zz.id).await;
    let id = target["id"].as_str().unwrap();
    let before = app.snapshot();

    assert_problem(
        app.post(
            "/api/v1/users",
            &manager,
            &json!({
                "username": "new.agent",
                "display_name": "新客服",
                "password": PASSWORD,
                "role": "agent",
                "center_id": app.zz.id,
            }),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.patch(
            &format!("/api/v1/users/{id}"),
            &manager,
            Some(1),
            &json!({"display_name": "改名"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/users/{id}/password"),
            &manager,
            &json!({"new_password": "another-password-1"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.assert_unchanged(&before);
    let after = expect(
        app.get(&format!("/api/v1/users/{id}"), &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after, target);
}

#[tokio::test]
async fn agents_technicians_and_finance_cannot_read_users() {
    let app = spawn_app().await;
    let other = create_user(&app, "zz.agent", "郑州客服", "agent", &app.zz.id).await;
    let other_id = other["id"].as_str().unwrap();
    for role in ["agent", "technician", "finance"] {
        let (own_id, token) = app.user(role, &app.zz.id).await;
        assert_problem(
            app.get("/api/v1/users", &token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        for id in [other_id, own_id.as_str()] {
            assert_problem(
                app.get(&format!("/api/v1/users/{id}"), &token).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn users_list_filters_by_role_and_text() {
    let app = spawn_app().await;
    let t1 = create_user(&app, "wang.fang", "王芳", "technician", &app.zz.id).await;
    let t2 = create_user(&app, "zhao.lei", "赵磊", "technician", &app.bj.id).await;
    let a1 = create_user(&app, "chen.jing", "陈静", "agent", &app.zz.id).await;
    create_user(&app, "liu.yang", "刘洋", "finance", &app.zz.id).await;

    let page = expect(
        app.get("/api/v1/users?role=technician", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        ids(&page, "id"),
        [
            t1["id"].as_str().unwrap().to_string(),
            t2["id"].as_str().unwrap().to_string()
        ]
    );

    // role and center combine
    let page = expect(
        app.get(
            &format!("/api/v1/users?role=technician&center_id={}", app.bj.id),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page, "id"), [t2["id"].as_str().unwrap().to_string()]);

    // q matches the username …
    let page = expect(
        app.get("/api/v1/users?q=chen", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page, "id"), [a1["id"].as_str().unwrap().to_string()]);
    // … or the display name
    let page = expect(
        app.get("/api/v1/users?q=%E7%8E%8B%E8%8A%B3", &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page, "id"), [t1["id"].as_str().unwrap().to_string()]);
    // q and role combine
    let page = expect(
        app.get("/api/v1/users?q=.&role=finance", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    let usernames: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(usernames, ["liu.yang"]);
    // no match
    let page = expect(
        app.get("/api/v1/users?q=nobody-at-all", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"], json!([]));
    // an unknown role is a bad query
    assert_problem(
        app.get("/api/v1/users?role=root", &app.admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn users_list_pages_with_a_cursor() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..5 {
        let u = create_user(
            &app,
            &format!("page.user{i}"),
            "分页用户",
            "agent",
            &app.zz.id,
        )
        .await;
        created.push(u["id"].as_str().unwrap().to_string());
    }

    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=2&cursor={c}"),
            None => "/api/v1/users?limit=2".to_string(),
        };
        let page = expect(app.get(&path, &app.admin).await, StatusCode::OK).await;
        let items = ids(&page, "id");
        assert!(items.len() <= 2, "{page}");
        pages += 1;
        assert!(pages <= 10, "pagination does not end");
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), 2, "a full page before the last: {page}");
                assert_eq!(Some(next), items.last().map(String::as_str));
                cursor = Some(next.to_string());
                seen.extend(items);
            }
            None => {
                seen.extend(items);
                break;
            }
        }
    }
    // the admin plus the five new users: 6 users, 3 pages
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "every id once, in ascending order");
    // the created users, each exactly once, in creation order
    let created_seen: Vec<String> = seen
        .iter()
        .filter(|i| created.contains(i))
        .cloned()
        .collect();
    assert_eq!(created_seen, created);

    // a bad limit is refused
    for limit in ["0", "201"] {
        let p = assert_problem(
            app.get(&format!("/api/v1/users?limit={limit}"), &app.admin)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&p), ["limit"]);
    }
}

#[tokio::test]
async fn admin_resets_a_password() {
    let app = spawn_app().await;
    let user = create_user(&app, "forgetful", "健忘", "agent", &app.zz.id).await;
    let id = user["id"].as_str().unwrap();
    let old_token = app.token("forgetful").await;

    let p = assert_problem(
        app.post(
            &format!("/api/v1/users/{id}/password"),
            &app.admin,
            &json!({"new_password": "short"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["new_password"]);
    assert_eq!(
        app.login("forgetful", PASSWORD).await.status(),
        StatusCode::OK
    );

    let res = app
        .post(
            &format!("/api/v1/users/{id}/password"),
            &app.admin,
            &json!({"new_password": "brand-new-password-2"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    assert_problem(
        app.login("forgetful", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login("forgetful", "brand-new-password-2")
            .await
            .status(),
        StatusCode::OK
    );
    // sessions from before the reset are over
    assert_problem(
        app.get("/api/v1/auth/me", &old_token).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // an unknown user
    assert_problem(
        app.post(
            "/api/v1/users/no-such-user/password",
            &app.admin,
            &json!({"new_password": "brand-new-password-2"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn changing_a_users_role_ends_their_sessions() {
    let app = spawn_app().await;
    let (id, token) = app.user("agent", &app.zz.id).await;
    assert_eq!(
        app.get("/api/v1/customers", &token).await.status(),
        StatusCode::OK
    );
    let me = expect(app.get("/api/v1/auth/me", &token).await, StatusCode::OK).await;
    let username = me["username"].as_str().unwrap().to_string();

    let res = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &app.admin,
            Some(1),
            &json!({"role": "finance"}),
        )
        .await;
    assert_eq!(etag(&res).as_deref(), Some("\"2\""));
    let user = expect(res, StatusCode::OK).await;
    assert_eq!(user["role"], "finance");
    assert_eq!(user["version"], 2);

    assert_problem(
        app.get("/api/v1/customers", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // a fresh login carries the new role
    let fresh = app.token(&username).await;
    let me = expect(app.get("/api/v1/auth/me", &fresh).await, StatusCode::OK).await;
    assert_eq!(me["role"], "finance");
    // an edit that changes neither role, center nor active keeps sessions
    expect(
        app.patch(
            &format!("/api/v1/users/{id}"),
            &app.admin,
            Some(2),
            &json!({"display_name": "新名字"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.get("/api/v1/auth/me", &fresh).await.status(),
        StatusCode::OK
    );
}

// ---- technicians ---------------------------------------------------------------------

#[tokio::test]
async fn admin_creates_a_technician_profile() {
    let app = spawn_app().await;
    let user = create_user(&app, "sun.qiang", "孙强", "technician", &app.zz.id).await;
    let id = user["id"].as_str().unwrap();

    let res = app
        .post(
            "/api/v1/technicians",
            &app.admin,
            &profile_body(id, &["GT06N"]),
        )
        .await;
    assert_eq!(etag(&res).as_deref(), Some("\"1\""));
    let t = expect(res, StatusCode::CREATED).await;
    assert_eq!(t["user_id"], id);
    assert_eq!(t["username"], "sun.qiang");
    assert_eq!(t["display_name"], "孙强");
    assert_eq!(t["center_id"], app.zz.id.as_str());
    assert_eq!(t["models"], json!(["GT06N"]));
    assert_eq!(t["can_install"], true);
    assert_eq!(t["can_repair"], true);
    assert_eq!(t["home_lat"], 34.75);
    assert_eq!(t["home_lng"], 113.62);
    assert_eq!(t["last_lat"], Value::Null);
    assert_eq!(t["last_lng"], Value::Null);
    assert_eq!(t["external"], false);
    assert_eq!(t["active"], true);
    assert_eq!(t["version"], 1);
    assert_eq!(app.count("technician_profiles"), 1);

    let res = app
        .get(&format!("/api/v1/technicians/{id}"), &app.admin)
        .await;
    assert_eq!(etag(&res).as_deref(), Some("\"1\""));
    assert_eq!(expect(res, StatusCode::OK).await, t);
}

#[tokio::test]
async fn a_profile_needs_a_technician_user() {
    let app = spawn_app().await;
    let (agent_id, _) = app.user("agent", &app.zz.id).await;
    let before = app.snapshot();
    let p = assert_problem(
        app.post(
            "/api/v1/technicians",
            &app.admin,
            &profile_body(&agent_id, &["GT06N"]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["user_id"], "{p}");
    assert_eq!(p["errors"][0]["code"], "not_technician");

    let p = assert_problem(
        app.post(
            "/api/v1/technicians",
            &app.admin,
            &profile_body("no-such-user", &["GT06N"]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["user_id"], "{p}");
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn unknown_terminal_models_are_refused_by_position() {
    let app = spawn_app().await;
    let (id, _) = app.user("technician", &app.zz.id).await;
    let before = app.snapshot();
    let p = assert_problem(
        app.post(
            "/api/v1/technicians",
            &app.admin,
            &profile_body(&id, &["NO-SUCH-MODEL"]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["models[0]"], "{p}");

    let p = assert_problem(
        app.post(
            "/api/v1/technicians",
            &app.admin,
            &profile_body(&id, &["GT06N", "XX-1", "BSJ-A6", "gt06n"]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["models[1]", "models[3]"], "{p}");
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn an_external_technician_needs_the_contractors_company() {
    let app = spawn_app().await;
    let (id, _) = app.user("technician", &app.zz.id).await;
    let before = app.snapshot();
    for company in [json!(null), json!("   ")] {
        let mut body = profile_body(&id, &["GT06N"]);
        body["external"] = json!(true);
        body["contractor_company"] = company;
        let p = assert_problem(
            app.post("/api/v1/technicians", &app.admin, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&p), ["contractor_company"], "{p}");
    }
    app.assert_unchanged(&before);

    let mut body = profile_body(&id, &["GT06N"]);
    body["external"] = json!(true);
    body["contractor_company"] = json!("郑州安装服务有限公司");
    let t = create_profile(&app, &app.admin, &body).await;
    assert_eq!(t["external"], true);
    assert_eq!(t["contractor_company"], "郑州安装服务有限公司");

    // removing the company of an external technician is refused too
    let path = format!("/api/v1/technicians/{id}");
    let p = assert_problem(
        app.patch(
            &path,
            &app.admin,
            Some(1),
            &json!({"contractor_company": null}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["contractor_company"], "{p}");
    assert_eq!(
        expect(app.get(&path, &app.admin).await, StatusCode::OK).await,
        t
    );
}

#[tokio::test]
async fn a_second_profile_for_the_same_user_is_a_conflict() {
    let app = spawn_app().await;
    let (id, _) = technician_with_profile(&app, &app.zz.id, &["GT06N"]).await;
    let before = app.snapshot();
    let p = assert_problem(
        app.post(
            "/api/v1/technicians",
            &app.admin,
            &profile_body(&id, &["JM-VL03"]),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    // the same answer on both databases: the colliding field is the user
    assert_eq!(p["field"], "user_id", "{p}");
    app.assert_unchanged(&before);
}

#[tokio::test]
async fn a_manager_creates_and_updates_technicians_of_their_center() {
    let app = spawn_app().await;
    let (_, manager) = app.user("manager", &app.zz.id).await;
    let (id, _) = app.user("technician", &app.zz.id).await;

    let t = create_profile(&app, &manager, &profile_body(&id, &["GT06N"])).await;
    assert_eq!(t["center_id"], app.zz.id.as_str());

    let res = app
        .patch(
            &format!("/api/v1/technicians/{id}"),
            &manager,
            Some(1),
            &json!({"can_repair": false, "models": ["GT06N", "JM-VL03"]}),
        )
        .await;
    assert_eq!(etag(&res).as_deref(), Some("\"2\""));
    let t = expect(res, StatusCode::OK).await;
    assert_eq!(t["can_repair"], false);
    assert_eq!(t["can_install"], true);
    assert_eq!(t["models"], json!(["GT06N", "JM-VL03"]));
    assert_eq!(t["version"], 2);

    let got = expect(
        app.get(&format!("/api/v1/technicians/{id}"), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, t);
}

#[tokio::test]
async fn a_manager_of_another_center_cannot_reach_the_technician() {
    let app = spawn_app().await;
    let (_, bj_manager) = app.user("manager", &app.bj.id).await;
    let (id, _) = app.user("technician", &app.zz.id).await;
    let before = app.snapshot();

    // the user is not visible to them: same answer as an unknown user
    let p = assert_problem(
        app.post(
            "/api/v1/technicians",
            &bj_manager,
            &profile_body(&id, &["GT06N"]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["user_id"], "{p}");
    assert_eq!(p["errors"][0]["code"], "unknown");
    app.assert_unchanged(&before);

    let t = create_profile(&app, &app.admin, &profile_body(&id, &["GT06N"])).await;
    let path = format!("/api/v1/technicians/{id}");
    assert_problem(
        app.get(&path, &bj_manager).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch(&path, &bj_manager, Some(1), &json!({"can_install": false}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let page = expect(
        app.get("/api/v1/technicians", &bj_manager).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"], json!([]));
    // unchanged
    assert_eq!(
        expect(app.get(&path, &app.admin).await, StatusCode::OK).await,
        t
    );
}

#[tokio::test]
async fn agents_read_technicians_and_finance_does_not() {
    let app = spawn_app().await;
    let (id, _) = technician_with_profile(&app, &app.zz.id, &["GT06N"]).await;
    let other_id = app.insert_user("spare.tech", "technician", &app.zz.id);
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let (_, finance) = app.user("finance", &app.zz.id).await;
    let path = format!("/api/v1/technicians/{id}");

    let page = expect(app.get("/api/v1/technicians", &agent).await, StatusCode::OK).await;
    assert_eq!(ids(&page, "user_id"), std::slice::from_ref(&id));
    let got = expect(app.get(&path, &agent).await, StatusCode::OK).await;
    assert_eq!(got["user_id"], id.as_str());

    let before = app.snapshot();
    assert_problem(
        app.post(
            "/api/v1/technicians",
            &agent,
            &profile_body(&other_id, &["GT06N"]),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.patch(&path, &agent, Some(1), &json!({"can_install": false}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.assert_unchanged(&before);

    assert_problem(
        app.get("/api/v1/technicians", &finance).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&path, &finance).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_technician_sees_only_their_own_profile() {
    let app = spawn_app().await;
    let (me, token) = technician_with_profile(&app, &app.zz.id, &["GT06N"]).await;
    let (other, _) = technician_with_profile(&app, &app.zz.id, &["GT06N"]).await;

    let page = expect(app.get("/api/v1/technicians", &token).await, StatusCode::OK).await;
    assert_eq!(ids(&page, "user_id"), std::slice::from_ref(&me));
    assert_eq!(page["next_cursor"], Value::Null);
    // filters cannot widen it
    let page = expect(
        app.get(
            &format!("/api/v1/technicians?center_id={}&model=GT06N", app.zz.id),
            &token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page, "user_id"), std::slice::from_ref(&me));

    let own = expect(
        app.get(&format!("/api/v1/technicians/{me}"), &token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own["user_id"], me.as_str());
    assert_problem(
        app.get(&format!("/api/v1/technicians/{other}"), &token)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // not even their own profile may they edit
    for id in [&me, &other] {
        assert_problem(
            app.patch(
                &format!("/api/v1/technicians/{id}"),
                &token,
                Some(1),
                &json!({"can_install": false}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let own_after = expect(
        app.get(&format!("/api/v1/technicians/{me}"), &token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own_after, own);
}

#[tokio::test]
async fn a_technician_reports_their_position() {
    let app = spawn_app().await;
    let (me, token) = technician_with_profile(&app, &app.zz.id, &["GT06N"]).await;
    let res = app
        .post(
            "/api/v1/technicians/me/position",
            &token,
            &json!({"lat": 34.8012, "lng": 113.6543}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let t = expect(
        app.get(&format!("/api/v1/technicians/{me}"), &token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["last_lat"], 34.8012);
    assert_eq!(t["last_lng"], 113.6543);
    assert!(t["last_seen_at"].is_string(), "{t}");
    // telemetry is not an edit: the version stays
    assert_eq!(t["version"], 1);
    // home is untouched
    assert_eq!(t["home_lat"], 34.75);
}

#[tokio::test]
async fn only_technicians_report_positions() {
    let app = spawn_app().await;
    let (_, manager) = app.user("manager", &app.zz.id).await;
    for token in [&manager, &app.admin] {
        assert_problem(
            app.post(
                "/api/v1/technicians/me/position",
                token,
                &json!({"lat": 34.8, "lng": 113.6}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
}

#[tokio::test]
async fn a_position_out_of_range_is_refused() {
    let app = spawn_app().await;
    let (me, token) = technician_with_profile(&app, &app.zz.id, &["GT06N"]).await;
    for (body, field) in [
        (json!({"lat": 91.0, "lng": 113.6}), "lat"),
        (json!({"lat": -90.5, "lng": 113.6}), "lat"),
        (json!({"lat": 34.8, "lng": 180.5}), "lng"),
    ] {
        let p = assert_problem(
            app.post("/api/v1/technicians/me/position", &token, &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&p), [field], "{body}: {p}");
    }
    let t = expect(
        app.get(&format!("/api/v1/technicians/{me}"), &token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["last_lat"], Value::Null);
    assert_eq!(t["last_lng"], Value::Null);
    assert_eq!(t["last_seen_at"], Value::Null);
}

#[tokio::test]
async fn technicians_filter_by_model_and_external() {
    let app = spawn_app().await;
    let (a, _) = technician_with_profile(&app, &app.zz.id, &["GT06N"]).await;
    let (b, _) = technician_with_profile(&app, &app.zz.id, &["JM-VL03"]).await;
    let (c, _) = app.user("technician", &app.zz.id).await;
    let mut body = profile_body(&c, &["BSJ-A6", "GT06N"]);
    body["external"] = json!(true);
    body["contractor_company"] = json!("外协安装队");
    create_profile(&app, &app.admin, &body).await;

    let list = |query: &'static str| {
        let app = &app;
        async move {
            let page = expect(
                app.get(&format!("/api/v1/technicians{query}"), &app.admin)
                    .await,
                StatusCode::OK,
            )
            .await;
            ids(&page, "user_id")
        }
    };
    assert_eq!(list("").await, [a.clone(), b.clone(), c.clone()]);
    assert_eq!(list("?model=GT06N").await, [a.clone(), c.clone()]);
    assert_eq!(list("?model=JM-VL03").await, std::slice::from_ref(&b));
    assert_eq!(list("?model=GT06").await, Vec::<String>::new());
    assert_eq!(list("?external=true").await, std::slice::from_ref(&c));
    assert_eq!(list("?external=false").await, [a.clone(), b.clone()]);
    assert_eq!(
        list("?external=true&model=BSJ-A6").await,
        std::slice::from_ref(&c)
    );
    assert_eq!(
        list("?external=false&model=BSJ-A6").await,
        Vec::<String>::new()
    );
}
