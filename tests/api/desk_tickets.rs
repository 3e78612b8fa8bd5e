//! What the desk's ticket and follow-up pages need from the API: who a ticket may be
//! handed over to (agents cannot read the user list), the list filtered by several
//! statuses with the customers' and owners' names, the people on a ticket's timeline by
//! name (both sides of a handover), and the follow-up list with its failed attempts.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{completed_order, expect, finance, id_of, items, version_of, zz};
use crate::helpers::assert_problem;

async fn new_ticket(s: &crate::fixtures::Zz, token: &str, kind: &str) -> Value {
    expect(
        s.app
            .post(
                "/api/v1/tickets",
                token,
                &json!({
                    "customer_id": s.customer, "kind": kind, "channel": "hotline",
                    "urgency": "urgent", "subject": "终端离线", "description": "客户来电：定位不更新"
                }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await
}

async fn step(s: &crate::fixtures::Zz, token: &str, t: &Value, action: &str, body: Value) -> Value {
    expect(
        s.app
            .req(
                Method::POST,
                &format!("/api/v1/tickets/{}/{action}", id_of(t)),
                token,
            )
            .header("If-Match", format!("\"{}\"", version_of(t)))
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn handover_targets_are_the_centers_active_agents_and_managers_but_the_owner() {
    let s = zz().await;
    let (agent2_id, agent2) = s.app.user("agent", &s.app.zz.id).await;
    let (gone_id, _) = s.app.user("agent", &s.app.zz.id).await;
    s.app.deactivate(&gone_id).await;
    let (bj_agent_id, bj_agent) = s.app.user("agent", &s.app.bj.id).await;
    let t = new_ticket(&s, &s.agent, "complaint").await;
    let path = format!("/api/v1/tickets/{}/handover-targets", id_of(&t));

    let list = expect(s.app.get(&path, &s.agent).await, StatusCode::OK).await;
    let got = ids(&list);
    assert!(got.contains(&agent2_id), "a colleague: {list}");
    assert!(got.contains(&s.mgr_id), "a manager of the center: {list}");
    assert!(!got.contains(&s.agent_id), "not the owner");
    assert!(!got.contains(&gone_id), "not an inactive user");
    assert!(!got.contains(&bj_agent_id), "not another center's agent");
    assert!(!got.contains(&s.lead.id), "not a technician");
    for p in list.as_array().unwrap() {
        assert!(p["display_name"].is_string());
        assert!(matches!(p["role"].as_str(), Some("agent" | "manager")));
    }
    // the new owner sees the first one among the targets, not themself
    let t = step(
        &s,
        &s.agent,
        &t,
        "handover",
        json!({"to_user_id": agent2_id, "note": "客户要求下午回电"}),
    )
    .await;
    let after = ids(&expect(s.app.get(&path, &agent2).await, StatusCode::OK).await);
    assert!(after.contains(&s.agent_id) && !after.contains(&agent2_id));

    // wrong roles: 403; another center: 404, like a missing ticket
    assert_problem(
        s.app.get(&path, &s.lead.token).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let (_, fin) = finance(&s).await;
    assert_problem(
        s.app.get(&path, &fin).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        s.app.get(&path, &bj_agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        s.app
            .get(
                "/api/v1/tickets/00000000-0000-0000-0000-000000000000/handover-targets",
                &s.agent,
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // the admin sees every center's tickets
    expect(s.app.get(&path, &s.app.admin).await, StatusCode::OK).await;

    // the ticket names both sides of the handover, its customer and owner
    let v = expect(
        s.app
            .get(&format!("/api/v1/tickets/{}", id_of(&t)), &agent2)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["owner_id"], agent2_id.as_str());
    assert!(v["owner_name"].is_string());
    assert_eq!(v["owner_name"], v["names"][agent2_id.as_str()]);
    assert!(v["names"][s.agent_id.as_str()].is_string(), "{v}");
    assert_eq!(v["customer_name"], "郑州宇通物流有限公司");
    assert!(v["order_number"].is_null());
}

#[tokio::test]
async fn the_list_takes_several_statuses_and_names_customers_and_owners() {
    let s = zz().await;
    let (agent2_id, agent2) = s.app.user("agent", &s.app.zz.id).await;
    let open = new_ticket(&s, &s.agent, "inquiry").await;
    let replied = new_ticket(&s, &s.agent, "complaint").await;
    let replied = step(&s, &s.agent, &replied, "reply", json!({"text": "已安排"})).await;
    let closed = new_ticket(&s, &s.agent, "suggestion").await;
    let closed = step(&s, &s.agent, &closed, "resolve", json!({"text": "已采纳"})).await;
    let closed = step(
        &s,
        &s.agent,
        &closed,
        "customer-notified",
        json!({"text": "电话告知"}),
    )
    .await;
    let closed = step(&s, &s.agent, &closed, "close", json!({})).await;
    assert_eq!(closed["status"], "closed");
    let theirs = new_ticket(&s, &agent2, "inquiry").await;

    let list = expect(
        s.app
            .get(
                &format!(
                    "/api/v1/tickets?status=open,replied,resolved&owner_id={}",
                    s.agent_id
                ),
                &s.agent,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let got: Vec<&str> = items(&list)
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(got.len(), 2, "{list}");
    assert!(got.contains(&id_of(&open).as_str()) && got.contains(&id_of(&replied).as_str()));
    for t in items(&list) {
        assert_eq!(t["customer_name"], "郑州宇通物流有限公司");
        assert!(t["owner_name"].is_string());
    }
    // one status still works, and every agent's tickets without an owner filter
    let all_open = expect(
        s.app.get("/api/v1/tickets?status=open", &s.agent).await,
        StatusCode::OK,
    )
    .await;
    let owners: Vec<&str> = items(&all_open)
        .iter()
        .map(|t| t["owner_id"].as_str().unwrap())
        .collect();
    assert!(owners.contains(&agent2_id.as_str()) && owners.contains(&s.agent_id.as_str()));
    assert!(items(&all_open).iter().any(|t| t["id"] == theirs["id"]));
    // a bad status anywhere in the list is refused
    for q in ["status=open,bogus", "status=bogus"] {
        assert_problem(
            s.app.get(&format!("/api/v1/tickets?{q}"), &s.agent).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    // another center sees none of them
    let (_, bj_agent) = s.app.user("agent", &s.app.bj.id).await;
    let bj = expect(
        s.app
            .get(
                "/api/v1/tickets?status=open,replied,resolved,closed",
                &bj_agent,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(items(&bj).is_empty());
}

#[tokio::test]
async fn the_follow_up_list_counts_failed_attempts_and_names_the_customer() {
    let s = zz().await;
    let o = completed_order(&s, &s.customer, &s.lead, 3500).await;
    let list = expect(
        s.app
            .get(
                &format!("/api/v1/follow-ups?status=open&assignee_id={}", s.agent_id),
                &s.agent,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let call = items(&list)
        .iter()
        .find(|c| c["order_id"] == o["id"])
        .expect("the order's call")
        .clone();
    assert_eq!(call["attempts"], 0);
    assert_eq!(call["customer_name"], "郑州宇通物流有限公司");
    // the order's summary comes with the call (the desk needs no read per call)
    let brief = &call["order"];
    assert_eq!(brief["id"], o["id"], "{call}");
    assert_eq!(brief["number"], o["number"]);
    assert_eq!(brief["kind"], "install");
    assert_eq!(brief["status"], o["status"]);
    assert_eq!(brief["plates"], json!([o["lines"][0]["plate_no"]]));
    assert_eq!(brief["lead_technician_id"], o["lead_technician_id"]);
    assert!(brief["lead_technician_name"].is_string(), "{brief}");
    assert_eq!(brief["completed_at"], o["completed_at"]);
    assert_eq!(brief["amount_fen"], 3500, "{brief}");
    assert_eq!(brief["charge_status"], "open", "{brief}");
    assert_eq!(brief["contact_phone"], o["contact_phone"]);
    let r = expect(
        s.app
            .req(
                Method::POST,
                &format!("/api/v1/follow-ups/{}/unreachable", id_of(&call)),
                &s.agent,
            )
            .header("If-Match", format!("\"{}\"", version_of(&call)))
            .json(&json!({"note": "无人接听"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["follow_up"]["status"], "open");
    let list = expect(
        s.app.get("/api/v1/follow-ups?status=open", &s.agent).await,
        StatusCode::OK,
    )
    .await;
    let call = items(&list)
        .iter()
        .find(|c| c["order_id"] == o["id"])
        .unwrap();
    assert_eq!(call["attempts"], 1);
}
