//! Money end to end: charges from completed orders, collections with receipts and
//! Idempotency-Key, reversals, remittances and discrepancies, adjustments over the
//! threshold, invoices with aging, the reconciliation report and its CSV/XLSX exports read
//! back, and who may see and do what.

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use futures_util::FutureExt;
use rand::{Rng, SeedableRng};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{
    ORDERS, Zz, collect, collect_res, completed_order, expect, finance, id_of, items, key,
    technician, version_of, year, zz,
};
use crate::helpers::{TestApp, assert_problem};

impl Zz {
    /// Everything a completed order waits for before it closes, done the handbook's way:
    /// the cash its technicians collected on site handed over and confirmed by finance,
    /// and its completion follow-up call recorded (by the agent, score 5).
    pub(crate) async fn settle_and_follow_up(&self, order: &Value) {
        let app = &self.app;
        let oid = id_of(order);
        let (_, fin) = finance(self).await;
        for tech in [&self.lead, &self.helper] {
            let res = app
                .post("/api/v1/remittances", &tech.token, &json!({}))
                .await;
            if res.status() == StatusCode::CONFLICT {
                continue; // nothing to hand over
            }
            let r = expect(res, StatusCode::CREATED).await;
            expect(
                post_if_match(
                    app,
                    &fin,
                    &format!("/api/v1/remittances/{}/confirm", id_of(&r)),
                    version_of(&r),
                    &json!({"received_fen": r["expected_fen"]}),
                )
                .await,
                StatusCode::OK,
            )
            .await;
        }
        let f = follow_up_of(app, &oid).await;
        expect(
            post_if_match(
                app,
                &self.agent,
                &format!("/api/v1/follow-ups/{}/record", id_of(&f)),
                version_of(&f),
                &json!({"score": 5}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
}

/// The completion follow-up of an order.
pub(crate) async fn follow_up_of(app: &TestApp, order_id: &str) -> Value {
    let id = texts_sql(
        app,
        &format!(
            "SELECT id AS t FROM follow_ups WHERE order_id = '{order_id}' AND kind = 'completion'"
        ),
    )
    .pop()
    .expect("a completion follow-up");
    expect(
        app.get(&format!("/api/v1/follow-ups/{id}"), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn cash(app: &TestApp, token: &str, tech_id: &str) -> Value {
    expect(
        app.get(&format!("/api/v1/technicians/{tech_id}/cash"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn post_if_match(
    app: &TestApp,
    token: &str,
    path: &str,
    version: i64,
    body: &Value,
) -> Response {
    app.req(Method::POST, path, token)
        .header("If-Match", format!("\"{version}\""))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn close_res(app: &TestApp, token: &str, order: &Value) -> Response {
    post_if_match(
        app,
        token,
        &format!("{ORDERS}/{}/close", id_of(order)),
        version_of(order),
        &json!({}),
    )
    .await
}

async fn fresh_order(app: &TestApp, id: &str) -> Value {
    expect(
        app.get(&format!("{ORDERS}/{id}"), &app.admin).await,
        StatusCode::OK,
    )
    .await
}

fn sum_sql(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut c = app.pool.get().unwrap();
    diesel::sql_query(sql).get_result::<N>(&mut c).unwrap().n
}

fn texts_sql(app: &TestApp, sql: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = Text)]
        t: String,
    }
    let mut c = app.pool.get().unwrap();
    diesel::sql_query(sql)
        .load::<T>(&mut c)
        .unwrap()
        .into_iter()
        .map(|r| r.t)
        .collect()
}

fn receipt(n: i64) -> String {
    format!("SJ-ZZ-{}-{n:06}", year())
}

// ------------------------------------------------------------------ 1. the happy path

#[tokio::test]
async fn collect_remit_and_confirm_with_an_exact_match_then_close() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let o = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let oid = id_of(&o);
    assert_eq!(o["charge"]["status"], "open");
    assert_eq!(o["charge"]["terms"], "cash");
    assert_eq!(o["charge"]["technician_id"], s.lead.id.as_str());

    // an unpaid order does not close
    let p = assert_problem(
        close_res(app, &s.mgr, &o).await,
        StatusCode::CONFLICT,
        "charge_unsettled",
    )
    .await;
    assert_eq!(p["due_fen"], 12800);

    let pay = collect(app, &s.lead, &oid, 12800, "cash").await;
    assert_eq!(pay["receipt_no"], receipt(1).as_str());
    assert_eq!(pay["amount_fen"], 12800);
    assert_eq!(pay["amount_capital"], "壹佰贰拾捌元整");
    assert_eq!(pay["collector_id"], s.lead.id.as_str());
    assert_eq!(pay["kind"], "collection");
    assert_eq!(pay["charge"]["status"], "paid");
    assert_eq!(pay["charge"]["paid_fen"], 12800);

    let c = cash(app, &s.lead.token, &s.lead.id).await;
    assert_eq!(
        (
            c["collected_fen"].as_i64(),
            c["remitted_fen"].as_i64(),
            c["in_hand_fen"].as_i64()
        ),
        (Some(12800), Some(0), Some(12800))
    );
    assert_eq!(c["unremitted"].as_array().unwrap().len(), 1);

    // hand it over: all that is waiting, by default
    let r = expect(
        app.post(
            "/api/v1/remittances",
            &s.lead.token,
            &json!({"notes": "当日收款"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(r["expected_fen"], 12800);
    assert_eq!(r["status"], "submitted");
    assert_eq!(r["payments"].as_array().unwrap().len(), 1);
    let c = cash(app, &fin, &s.lead.id).await;
    assert_eq!(c["in_hand_fen"], 0);
    assert_eq!(c["remitted_fen"], 12800);
    // nothing left to hand over
    assert_problem(
        app.post("/api/v1/remittances", &s.lead.token, &json!({}))
            .await,
        StatusCode::CONFLICT,
        "nothing_to_remit",
    )
    .await;

    // finance's queue; only finance confirms
    let queue = expect(
        app.get("/api/v1/remittances?status=submitted", &fin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&queue).len(), 1);
    let rid = id_of(&r);
    let path = format!("/api/v1/remittances/{rid}/confirm");
    for token in [&s.mgr, &s.lead.token, &app.admin] {
        assert_problem(
            post_if_match(app, token, &path, 1, &json!({"received_fen": 12800})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.post(&path, &fin, &json!({"received_fen": 12800})).await,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    let r = expect(
        post_if_match(
            app,
            &fin,
            &path,
            version_of(&r),
            &json!({"received_fen": 12800}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["status"], "confirmed");
    assert_eq!(r["received_fen"], 12800);
    assert!(r["discrepancy"].is_null(), "{r}");
    assert_problem(
        post_if_match(
            app,
            &fin,
            &path,
            version_of(&r),
            &json!({"received_fen": 12800}),
        )
        .await,
        StatusCode::CONFLICT,
        "remittance_confirmed",
    )
    .await;

    // settled and followed up: the order closes
    s.settle_and_follow_up(&o).await;
    let o = fresh_order(app, &oid).await;
    assert_eq!(o["charge"]["status"], "paid");
    let closed = expect(close_res(app, &s.mgr, &o).await, StatusCode::OK).await;
    assert_eq!(closed["status"], "closed");

    // the day's reconciliation
    let rep = expect(
        app.get("/api/v1/reconciliation", &fin).await,
        StatusCode::OK,
    )
    .await;
    let rows = rep["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rep}");
    let row = &rows[0];
    assert_eq!(row["technician_id"], s.lead.id.as_str());
    for (k, v) in [
        ("owed_fen", 12800),
        ("collected_fen", 12800),
        ("cash_fen", 12800),
        ("wechat_fen", 0),
        ("remitted_fen", 12800),
        ("confirmed_fen", 12800),
        ("discrepancy_fen", 0),
        ("outstanding_fen", 0),
    ] {
        assert_eq!(row[k], v, "{k} in {row}");
    }
}

// ------------------------------------------------------------------ 2. short remittance

#[tokio::test]
async fn a_short_remittance_opens_a_discrepancy_until_a_manager_resolves_it() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let o = completed_order(&s, &s.customer, &s.lead, 8000).await;
    let oid = id_of(&o);
    // paid in two parts, two methods
    let p1 = collect(app, &s.lead, &oid, 5000, "cash").await;
    assert_eq!(p1["charge"]["status"], "open");
    let p2 = collect(app, &s.lead, &oid, 3000, "wechat").await;
    assert_eq!(p2["charge"]["status"], "paid");
    assert_eq!(p2["receipt_no"], receipt(2).as_str());
    let r = expect(
        app.post(
            "/api/v1/remittances",
            &s.lead.token,
            &json!({"payment_ids": [id_of(&p1), id_of(&p2)]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(r["expected_fen"], 8000);
    // finance counts ¥75.00
    let r = expect(
        post_if_match(
            app,
            &fin,
            &format!("/api/v1/remittances/{}/confirm", id_of(&r)),
            version_of(&r),
            &json!({"received_fen": 7500, "notes": "现金少5元"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let d = &r["discrepancy"];
    assert_eq!(d["amount_fen"], -500, "{r}");
    assert_eq!(d["status"], "open");
    assert_eq!(d["technician_id"], s.lead.id.as_str());
    let open = expect(
        app.get("/api/v1/discrepancies?status=open", &fin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&open).len(), 1);
    // the technician's cash in hand is what they handed over: the shortfall is the
    // discrepancy's, not a negative balance
    assert_eq!(cash(app, &fin, &s.lead.id).await["in_hand_fen"], 0);

    let path = format!("/api/v1/discrepancies/{}/resolve", id_of(d));
    for token in [&fin, &s.lead.token, &s.agent] {
        assert_problem(
            post_if_match(app, token, &path, 1, &json!({"resolution": "x"})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        post_if_match(app, &s.mgr, &path, 1, &json!({"resolution": "  "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        post_if_match(
            app,
            &s.mgr,
            &path,
            9,
            &json!({"resolution": "技术员已补交5元"}),
        )
        .await,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    let d = expect(
        post_if_match(
            app,
            &s.mgr,
            &path,
            1,
            &json!({"resolution": "技术员已补交5元"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["resolved_by"], s.mgr_id.as_str());
    assert_problem(
        post_if_match(
            app,
            &s.mgr,
            &path,
            version_of(&d),
            &json!({"resolution": "again"}),
        )
        .await,
        StatusCode::CONFLICT,
        "discrepancy_resolved",
    )
    .await;

    let rep = expect(
        app.get("/api/v1/reconciliation", &s.mgr).await,
        StatusCode::OK,
    )
    .await;
    let row = &rep["rows"][0];
    assert_eq!(row["collected_fen"], 8000);
    assert_eq!(row["cash_fen"], 5000);
    assert_eq!(row["wechat_fen"], 3000);
    assert_eq!(row["confirmed_fen"], 7500);
    assert_eq!(row["discrepancy_fen"], -500);
    assert_eq!(rep["open_discrepancies"], 0);
}

// ------------------------------------------------------------------ 3. reversal

#[tokio::test]
async fn a_reversal_voids_a_payment_and_the_ledger_stays_immutable() {
    let s = zz().await;
    let app = &s.app;
    let (fin_id, fin) = finance(&s).await;
    let o = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let oid = id_of(&o);
    // recorded as ¥100 by mistake
    let wrong = collect(app, &s.lead, &oid, 10000, "alipay").await;
    let wid = id_of(&wrong);
    let path = format!("/api/v1/payments/{wid}/reversal");

    // technicians and agents do not reverse; finance must name a manager
    for token in [&s.lead.token, &s.agent] {
        assert_problem(
            app.post(&path, token, &json!({"reason": "金额录错"})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.post(&path, &fin, &json!({"reason": "金额录错"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let p = assert_problem(
        app.post(
            &path,
            &fin,
            &json!({"reason": "金额录错", "approver_id": s.lead.id}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "not_an_approver", "{p}");
    let before = app.counts();
    assert_eq!(app.count("payments"), 1);

    let rev = expect(
        app.post(
            &path,
            &fin,
            &json!({"reason": "金额录错", "approver_id": s.mgr_id}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(app.counts(), before);
    assert_eq!(rev["kind"], "reversal");
    assert_eq!(rev["amount_fen"], -10000);
    assert_eq!(rev["reverses_id"], wid.as_str());
    assert_eq!(rev["approved_by"], s.mgr_id.as_str());
    assert_eq!(rev["recorded_by"], fin_id.as_str());
    assert_eq!(rev["collector_id"], s.lead.id.as_str());
    assert!(rev["receipt_no"].is_null());
    assert_eq!(rev["charge"]["paid_fen"], 0);
    assert_eq!(rev["charge"]["status"], "open");
    let orig = expect(
        app.get(&format!("/api/v1/payments/{wid}"), &s.lead.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(orig["reversed_by"], id_of(&rev).as_str());
    assert_eq!(orig["amount_fen"], 10000, "the original is unchanged");

    // once only, and never a reversal of a reversal
    assert_problem(
        app.post(&path, &s.mgr, &json!({"reason": "again"})).await,
        StatusCode::CONFLICT,
        "already_reversed",
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/payments/{}/reversal", id_of(&rev)),
            &s.mgr,
            &json!({"reason": "undo"}),
        )
        .await,
        StatusCode::CONFLICT,
        "reversal_of_reversal",
    )
    .await;
    assert_eq!(cash(app, &s.lead.token, &s.lead.id).await["in_hand_fen"], 0);

    // the right amount; a handed-over payment is not reversed on site
    let right = collect(app, &s.lead, &oid, 12800, "alipay").await;
    assert_eq!(
        right["receipt_no"],
        receipt(2).as_str(),
        "receipt 1 stays void, no reuse"
    );
    expect(
        app.post("/api/v1/remittances", &s.lead.token, &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/payments/{}/reversal", id_of(&right)),
            &s.mgr,
            &json!({"reason": "x"}),
        )
        .await,
        StatusCode::CONFLICT,
        "payment_remitted",
    )
    .await;

    // the database itself refuses to edit or delete the ledger
    let mut c = app.pool.get().unwrap();
    assert!(
        diesel::sql_query("UPDATE payments SET amount_fen = 1")
            .execute(&mut c)
            .is_err()
    );
    assert!(
        diesel::sql_query("DELETE FROM payments")
            .execute(&mut c)
            .is_err()
    );
    drop(c);
    assert_eq!(app.count("payments"), 3);

    // the fapiao number is added beside the ledger, once, by finance
    let fp = format!("/api/v1/payments/{}/fapiao", id_of(&right));
    assert_problem(
        app.post(&fp, &s.lead.token, &json!({"fapiao_no": "04400123"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let v = expect(
        app.post(&fp, &fin, &json!({"fapiao_no": "04400123"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["fapiao_no"], "04400123");
    assert_problem(
        app.post(&fp, &fin, &json!({"fapiao_no": "04400124"})).await,
        StatusCode::CONFLICT,
        "fapiao_recorded",
    )
    .await;
}

// ------------------------------------------------------------------ 4. adjustments

#[tokio::test]
async fn a_waiver_over_the_threshold_needs_a_manager_and_a_small_discount_does_not() {
    let s = zz().await;
    let app = &s.app;
    let settings = format!("/api/v1/centers/{}/money-settings", app.zz.id);
    assert_eq!(
        expect(app.get(&settings, &s.lead.token).await, StatusCode::OK).await["adjustment_threshold_fen"],
        5000
    );
    assert_problem(
        app.req(Method::PUT, &settings, &s.mgr)
            .json(&json!({"adjustment_threshold_fen": 100000}))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let res = app
        .req(Method::PUT, &settings, &app.admin)
        .json(&json!({"adjustment_threshold_fen": 3000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let o = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let charge = o["charge"]["id"].as_str().unwrap().to_string();
    let adj = format!("/api/v1/charges/{charge}/adjustments");

    // the technician waives it all: over ¥30, so it waits
    let v = expect(
        app.post(
            &adj,
            &s.lead.token,
            &json!({"kind": "waiver", "reason": "老客户"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v["status"], "open");
    assert_eq!(v["due_fen"], 12800);
    let pending = &v["adjustments"][0];
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["amount_fen"], 12800);
    let aid = id_of(pending);
    // refused without approval: the order does not close
    let p = assert_problem(
        close_res(app, &s.mgr, &fresh_order(app, &id_of(&o)).await).await,
        StatusCode::CONFLICT,
        "charge_unsettled",
    )
    .await;
    assert_eq!(p["charge_status"], "open");
    assert_problem(
        app.post(
            &adj,
            &s.lead.token,
            &json!({"kind": "discount", "amount_fen": 100, "reason": "x"}),
        )
        .await,
        StatusCode::CONFLICT,
        "adjustment_pending",
    )
    .await;
    for token in [&s.lead.token, &s.agent] {
        let res = app
            .post(&format!("{adj}/{aid}/approve"), token, &json!({}))
            .await;
        assert!(
            res.status() == StatusCode::FORBIDDEN,
            "{}",
            res.text().await.unwrap()
        );
    }
    let v = expect(
        app.post(
            &format!("{adj}/{aid}/approve"),
            &s.mgr,
            &json!({"note": "同意免收"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "waived");
    assert_eq!(v["due_fen"], 0);
    assert_eq!(v["adjustments"][0]["decided_by"], s.mgr_id.as_str());
    assert_problem(
        app.post(&format!("{adj}/{aid}/reject"), &s.mgr, &json!({}))
            .await,
        StatusCode::CONFLICT,
        "adjustment_decided",
    )
    .await;
    s.settle_and_follow_up(&o).await;
    let closed = expect(
        close_res(app, &s.mgr, &fresh_order(app, &id_of(&o)).await).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["status"], "closed");
    // nothing more to collect on a waived charge
    assert_problem(
        collect_res(
            app,
            &s.lead.token,
            &id_of(&o),
            Some(&key()),
            &json!({"amount_fen": 1, "method": "cash", "payer_name": "王喆"}),
        )
        .await,
        StatusCode::CONFLICT,
        "nothing_due",
    )
    .await;

    // a discount within the threshold asked by finance counts at once; then no overpaying
    let (_, fin) = finance(&s).await;
    let o2 = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let adj2 = format!(
        "/api/v1/charges/{}/adjustments",
        o2["charge"]["id"].as_str().unwrap()
    );
    let v = expect(
        app.post(
            &adj2,
            &fin,
            &json!({"kind": "discount", "amount_fen": 2800, "reason": "零头"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v["adjustments"][0]["status"], "approved");
    assert_eq!(v["due_fen"], 10000);
    assert_problem(
        app.post(
            &adj2,
            &s.lead.token,
            &json!({"kind": "write_off", "reason": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let before = app.snapshot();
    let p = assert_problem(
        collect_res(
            app,
            &s.lead.token,
            &id_of(&o2),
            Some(&key()),
            &json!({"amount_fen": 10001, "method": "cash", "payer_name": "王喆"}),
        )
        .await,
        StatusCode::CONFLICT,
        "overpayment",
    )
    .await;
    assert_eq!(p["due_fen"], 10000);
    app.assert_unchanged_because(&before, format_args!("a refused payment changes nothing"));
    let pay = collect(app, &s.lead, &id_of(&o2), 10000, "pos").await;
    assert_eq!(pay["charge"]["status"], "paid");
    // a rejected request leaves the charge as it was
    let o3 = completed_order(&s, &s.customer, &s.lead, 9000).await;
    let c3 = o3["charge"]["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/charges/{c3}/adjustments"),
            &s.lead.token,
            &json!({"kind": "discount", "amount_fen": 4000, "reason": "客户要求"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let aid = id_of(&v["adjustments"][0]);
    let v = expect(
        app.post(
            &format!("/api/v1/charges/{c3}/adjustments/{aid}/reject"),
            &s.mgr,
            &json!({"note": "不符合规定"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["adjustments"][0]["status"], "rejected");
    assert_eq!(v["due_fen"], 9000);
}

// ------------------------------------------------------------------ 5. receipt numbers

#[tokio::test]
async fn receipt_numbers_are_gapless_under_eight_concurrent_collections() {
    let s = zz().await;
    let app = &s.app;
    let mut orders = Vec::new();
    for i in 0..8 {
        orders.push(completed_order(&s, &s.customer, &s.lead, 1000 + i).await);
    }
    let mut calls = Vec::new();
    for (i, o) in orders.iter().enumerate() {
        // each with a refused overpayment beside it, which must take no number
        for fen in [1000 + i as i64, 99999] {
            let (oid, token) = (id_of(o), s.lead.token.clone());
            calls.push(
                async move {
                    let body = json!({"amount_fen": fen, "method": "cash", "payer_name": "王喆"});
                    collect_res(app, &token, &oid, Some(&key()), &body).await
                }
                .boxed_local(),
            );
        }
    }
    let results = futures_util::future::join_all(calls).await;
    let mut created = 0;
    for r in results {
        match r.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("{other}: {}", r.text().await.unwrap()),
        }
    }
    assert_eq!(created, 8);
    let mut numbers = texts_sql(app, "SELECT receipt_no AS t FROM payments");
    numbers.sort();
    let expected: Vec<String> = (1..=8).map(receipt).collect();
    assert_eq!(numbers, expected);
}

// ------------------------------------------------------------------ 6. idempotency

#[tokio::test]
async fn a_retried_payment_replays_and_a_changed_body_is_refused() {
    let s = zz().await;
    let app = &s.app;
    let o = completed_order(&s, &s.customer, &s.lead, 6000).await;
    let oid = id_of(&o);
    let body = json!({"amount_fen": 6000, "method": "wechat", "payer_name": "王喆"});
    let before = app.snapshot();
    assert_problem(
        collect_res(app, &s.lead.token, &oid, None, &body).await,
        StatusCode::PRECONDITION_REQUIRED,
        "idempotency_key_required",
    )
    .await;
    app.assert_unchanged(&before);
    let k = key();
    let first = collect_res(app, &s.lead.token, &oid, Some(&k), &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = collect_res(app, &s.lead.token, &oid, Some(&k), &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(app.count("payments"), 1);
    let after = app.snapshot();
    let changed = json!({"amount_fen": 5000, "method": "wechat", "payer_name": "王喆"});
    assert_problem(
        collect_res(app, &s.lead.token, &oid, Some(&k), &changed).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    app.assert_unchanged(&after);
    // bad input is a clear 4xx and changes nothing
    for (bad, code) in [
        (
            json!({"amount_fen": 0, "method": "cash", "payer_name": "a"}),
            "validation_failed",
        ),
        (
            json!({"amount_fen": -5, "method": "cash", "payer_name": "a"}),
            "validation_failed",
        ),
        (
            json!({"amount_fen": 5, "method": "bitcoin", "payer_name": "a"}),
            "validation_failed",
        ),
        (
            json!({"amount_fen": "5", "method": "cash", "payer_name": "a"}),
            "invalid_json",
        ),
        (
            json!({"amount_fen": 5, "method": "cash", "payer_name": "a", "paid_at": "2020-01-01T00:00:00Z"}),
            "validation_failed",
        ),
        (
            json!({"amount_fen": 5, "method": "cash", "payer_name": "a", "lat": 95.0, "lng": 1.0}),
            "validation_failed",
        ),
    ] {
        let res = collect_res(app, &s.lead.token, &oid, Some(&key()), &bad).await;
        let st = res.status();
        let p: Value = res.json().await.unwrap();
        assert!(
            st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
            "{bad}: {st} {p}"
        );
        assert!(p["code"] == code || code == "invalid_json", "{bad}: {p}");
    }
    app.assert_unchanged(&after);
}

// ------------------------------------------------------------------ 7. exports

#[tokio::test]
async fn reconciliation_and_ledger_exports_read_back_match_the_database() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let o1 = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let o2 = completed_order(&s, &s.customer, &s.helper, 4550).await;
    collect(app, &s.lead, &id_of(&o1), 10000, "cash").await;
    collect(app, &s.lead, &id_of(&o1), 2800, "wechat").await;
    collect(app, &s.helper, &id_of(&o2), 4550, "pos").await;
    let r = expect(
        app.post("/api/v1/remittances", &s.lead.token, &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    expect(
        post_if_match(
            app,
            &fin,
            &format!("/api/v1/remittances/{}/confirm", id_of(&r)),
            version_of(&r),
            &json!({"received_fen": 12700}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let json_rep = expect(
        app.get("/api/v1/reconciliation", &fin).await,
        StatusCode::OK,
    )
    .await;
    let rows = json_rep["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2, "{json_rep}");

    // CSV: BOM, Chinese headers, one line per row, amounts in yuan
    let res = app.get("/api/v1/reconciliation?format=csv", &fin).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let mut rd = csv::Reader::from_reader(&bytes[3..]);
    let headers: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(headers[0], "日期");
    assert_eq!(headers[4], "实收");
    assert_eq!(headers[13], "手中现金");
    let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen.abs() % 100);
    for (rec, row) in recs.iter().zip(&rows) {
        assert_eq!(&rec[0], row["day"].as_str().unwrap());
        assert_eq!(&rec[14], row["technician_id"].as_str().unwrap());
        for (col, k) in [
            (3, "owed_fen"),
            (4, "collected_fen"),
            (5, "cash_fen"),
            (6, "wechat_fen"),
            (9, "pos_fen"),
            (10, "remitted_fen"),
            (11, "confirmed_fen"),
            (12, "discrepancy_fen"),
            (13, "outstanding_fen"),
        ] {
            assert_eq!(rec[col], yuan(row[k].as_i64().unwrap()), "{k}");
        }
    }
    // …and they match the database
    let lead_row = rows
        .iter()
        .find(|r| r["technician_id"] == s.lead.id.as_str())
        .unwrap();
    let lead_collected = sum_sql(
        app,
        &format!(
            "SELECT CAST(SUM(amount_fen) AS BIGINT) AS n FROM payments WHERE collector_id = '{}'",
            s.lead.id
        ),
    );
    assert_eq!(lead_row["collected_fen"], lead_collected);
    assert_eq!(lead_row["discrepancy_fen"], -100);
    let helper_row = rows
        .iter()
        .find(|r| r["technician_id"] == s.helper.id.as_str())
        .unwrap();
    assert_eq!(helper_row["outstanding_fen"], 4550);

    // XLSX: numbers with a ¥ format, real dates, Chinese headers
    let res = app.get("/api/v1/reconciliation?format=xlsx", &fin).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap().to_vec();
    use calamine::{Data, DataType, Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("对账表").unwrap();
    let sheet: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(sheet.len(), 3);
    assert_eq!(sheet[0][0].get_string(), Some("日期"));
    assert_eq!(sheet[0][3].get_string(), Some("应收"));
    for (xrow, row) in sheet[1..].iter().zip(&rows) {
        let day: NaiveDate = row["day"].as_str().unwrap().parse().unwrap();
        assert_eq!(xrow[0].as_date(), Some(day));
        assert_eq!(xrow[14].get_string(), row["technician_id"].as_str());
        for (col, k) in [
            (3, "owed_fen"),
            (4, "collected_fen"),
            (10, "remitted_fen"),
            (11, "confirmed_fen"),
            (12, "discrepancy_fen"),
            (13, "outstanding_fen"),
        ] {
            let v = xrow[col]
                .as_f64()
                .unwrap_or_else(|| panic!("{k} is a number: {:?}", xrow[col]));
            assert_eq!((v * 100.0).round() as i64, row[k].as_i64().unwrap(), "{k}");
        }
    }

    // the ledger export: every payment, in receipt order
    let res = app.get("/api/v1/payments/export?format=csv", &fin).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    let mut rd = csv::Reader::from_reader(&bytes[3..]);
    let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let mut db = texts_sql(app, "SELECT receipt_no AS t FROM payments ORDER BY id");
    assert_eq!(
        recs.iter().map(|r| r[0].to_string()).collect::<Vec<_>>(),
        db
    );
    let total: i64 = recs
        .iter()
        .map(|r| (r[10].parse::<f64>().unwrap() * 100.0).round() as i64)
        .sum();
    assert_eq!(
        total,
        sum_sql(
            app,
            "SELECT CAST(SUM(amount_fen) AS BIGINT) AS n FROM payments"
        )
    );
    assert!(recs.iter().any(|r| &r[9] == "微信支付"));
    let res = app.get("/api/v1/payments/export?format=xlsx", &fin).await;
    let mut wb: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    let range = wb.worksheet_range("收款明细").unwrap();
    let mut xl: Vec<String> = range
        .rows()
        .skip(1)
        .map(|r| r[0].get_string().unwrap().to_string())
        .collect();
    xl.sort();
    db.sort();
    assert_eq!(xl, db);
    // a technician exports their own entries only
    let res = app
        .get("/api/v1/payments/export?format=csv", &s.helper.token)
        .await;
    let bytes = res.bytes().await.unwrap();
    let n = csv::Reader::from_reader(&bytes[3..]).records().count();
    assert_eq!(n, 1);
    assert_problem(
        app.get("/api/v1/payments/export?format=pdf", &fin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

// ------------------------------------------------------------------ 8. invoices

#[tokio::test]
async fn a_credit_customer_is_invoiced_paid_in_two_transfers_and_aged() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let fleet = id_of(
        &app.created(
            "/api/v1/customers",
            &app.admin,
            &json!({
                "center_id": app.zz.id, "name": "郑州珞喻物流有限公司", "tier": "key",
                "address": "郑州市珞喻路1号", "payment_terms": "credit", "credit_days": 30,
                "contacts": [{"name": "张喆", "phone": "13812345678"}]
            }),
        )
        .await,
    );
    let mut orders = Vec::new();
    for fee in [12800, 6000, 3550] {
        orders.push(completed_order(&s, &fleet, &s.lead, fee).await);
    }
    assert_eq!(orders[0]["charge"]["terms"], "credit");
    // credit customers do not pay on site, and their orders wait for the invoice
    assert_problem(
        collect_res(
            app,
            &s.lead.token,
            &id_of(&orders[0]),
            Some(&key()),
            &json!({"amount_fen": 12800, "method": "cash", "payer_name": "张喆"}),
        )
        .await,
        StatusCode::CONFLICT,
        "charge_on_account",
    )
    .await;
    assert_problem(
        close_res(app, &s.mgr, &orders[0]).await,
        StatusCode::CONFLICT,
        "charge_unsettled",
    )
    .await;

    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let issue = today;
    let body = json!({"customer_id": fleet, "period_start": today - Duration::days(30), "period_end": today, "issue_date": issue});
    for token in [&s.lead.token, &s.agent, &s.mgr] {
        assert_problem(
            app.post("/api/v1/invoices", token, &body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let inv = expect(
        app.post("/api/v1/invoices", &fin, &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(inv["number"], format!("ZD-ZZ-{}-000001", year()).as_str());
    assert_eq!(inv["total_fen"], 22350);
    assert_eq!(inv["balance_fen"], 22350);
    assert_eq!(inv["charges"].as_array().unwrap().len(), 3);
    assert_eq!(
        inv["due_date"],
        (issue + Duration::days(30)).to_string().as_str()
    );
    assert!(
        inv["charges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "invoiced")
    );
    // the same period again: nothing left
    assert_problem(
        app.post("/api/v1/invoices", &fin, &body).await,
        StatusCode::CONFLICT,
        "nothing_to_invoice",
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/invoices",
            &fin,
            &json!({"customer_id": s.customer, "period_start": today, "period_end": today}),
        )
        .await,
        StatusCode::CONFLICT,
        "not_on_account",
    )
    .await;
    // invoiced is settled: the orders close
    for o in &orders {
        s.settle_and_follow_up(o).await;
        let closed = expect(
            close_res(app, &s.mgr, &fresh_order(app, &id_of(o)).await).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(closed["status"], "closed");
    }

    let iid = id_of(&inv);
    let pay = |fen: i64| {
        app.req(Method::POST, &format!("/api/v1/invoices/{iid}/payments"), &fin)
            .header("Idempotency-Key", key())
            .json(&json!({"amount_fen": fen, "payer_name": "郑州珞喻物流有限公司", "notes": "网银 20261126"}))
            .send()
    };
    let aging = |as_of: NaiveDate| {
        let app = &s.app;
        let fin = fin.clone();
        async move {
            expect(
                app.get(&format!("/api/v1/invoices/aging?as_of={as_of}"), &fin)
                    .await,
                StatusCode::OK,
            )
            .await
        }
    };
    let due = issue + Duration::days(30);
    let a = aging(issue).await;
    assert_eq!(a["customers"][0]["current_fen"], 22350, "{a}");
    assert_eq!(a["customers"][0]["customer_name"], "郑州珞喻物流有限公司");

    let p1 = expect(pay(10000).await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(p1["method"], "bank_transfer");
    assert!(p1["receipt_no"].as_str().unwrap().starts_with("SJ-ZZ-"));
    let v = expect(
        app.get(&format!("/api/v1/invoices/{iid}"), &fin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["paid_fen"], 10000);
    assert_eq!(v["balance_fen"], 12350);
    assert_eq!(v["status"], "open");
    for (as_of, bucket) in [
        (due, "current_fen"),
        (due + Duration::days(1), "days_1_30_fen"),
        (due + Duration::days(30), "days_1_30_fen"),
        (due + Duration::days(45), "days_31_60_fen"),
        (due + Duration::days(75), "days_61_90_fen"),
        (due + Duration::days(100), "over_90_fen"),
    ] {
        let a = aging(as_of).await;
        let line = &a["customers"][0];
        assert_eq!(line[bucket], 12350, "{as_of}: {a}");
        assert_eq!(line["total_fen"], 12350);
        assert_eq!(a["totals"][bucket], 12350);
    }
    // no overpaying; then the final payment
    assert_problem(
        pay(12351).await.unwrap(),
        StatusCode::CONFLICT,
        "overpayment",
    )
    .await;
    expect(pay(12350).await.unwrap(), StatusCode::CREATED).await;
    let v = expect(
        app.get(&format!("/api/v1/invoices/{iid}"), &fin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["balance_fen"], 0);
    assert_eq!(v["status"], "paid");
    assert_eq!(v["payments"].as_array().unwrap().len(), 2);
    let a = aging(due + Duration::days(100)).await;
    assert!(a["customers"].as_array().unwrap().is_empty(), "{a}");
    // bank payments are not cash in a technician's hands
    assert_eq!(cash(app, &fin, &s.lead.id).await["in_hand_fen"], 0);

    // the customer's archive shows its payment history to finance
    let arch = expect(
        app.get(&format!("/api/v1/customers/{fleet}/archive"), &fin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(arch["payments"].as_array().unwrap().len(), 2);
    assert_eq!(arch["invoices"].as_array().unwrap().len(), 1);
    let arch = expect(
        app.get(&format!("/api/v1/customers/{fleet}/archive"), &s.agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(arch["payments"].as_array().unwrap().is_empty());
}

// ------------------------------------------------------------------ 9. property

/// Random sequences of collections, reversals, remittances and confirmations: after every
/// step each technician's cash in hand equals the sum of their ledger entries not handed
/// over (and `collected − remitted`), and is never negative.
#[tokio::test]
async fn cash_in_hand_equals_the_ledger_under_random_operations() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let techs = [&s.lead, &s.helper];
    let mut orders: Vec<(usize, String)> = Vec::new();
    for i in 0..4 {
        let t = techs[i % 2];
        orders.push((
            i % 2,
            id_of(&completed_order(&s, &s.customer, t, 50_000).await),
        ));
    }
    for seed in [7u64, 42, 2026] {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for _ in 0..20 {
            let who = rng.gen_range(0..2usize);
            let tech = techs[who];
            match rng.gen_range(0..4) {
                0 | 1 => {
                    let mine: Vec<&String> =
                        orders.iter().filter(|o| o.0 == who).map(|o| &o.1).collect();
                    let oid = mine[rng.gen_range(0..mine.len())];
                    let fen = rng.gen_range(1..3000);
                    let res = collect_res(
                        app,
                        &tech.token,
                        oid,
                        Some(&key()),
                        &json!({"amount_fen": fen, "method": "cash", "payer_name": "王喆"}),
                    )
                    .await;
                    assert!(
                        matches!(res.status(), StatusCode::CREATED | StatusCode::CONFLICT),
                        "{}",
                        res.text().await.unwrap()
                    );
                }
                2 => {
                    let c = cash(app, &tech.token, &tech.id).await;
                    let open = c["unremitted"].as_array().unwrap();
                    if let Some(p) = open.get(rng.gen_range(0..open.len().max(1))) {
                        let res = app
                            .post(
                                &format!("/api/v1/payments/{}/reversal", id_of(p)),
                                &s.mgr,
                                &json!({"reason": "随机冲销"}),
                            )
                            .await;
                        assert_eq!(res.status(), StatusCode::CREATED);
                    }
                }
                _ => {
                    let res = app
                        .post("/api/v1/remittances", &tech.token, &json!({}))
                        .await;
                    let st = res.status();
                    let body: Value = res.json().await.unwrap();
                    if st == StatusCode::CREATED && rng.gen_bool(0.7) {
                        let exp = body["expected_fen"].as_i64().unwrap();
                        let got = exp + rng.gen_range(-100..=100);
                        expect(
                            post_if_match(
                                app,
                                &fin,
                                &format!("/api/v1/remittances/{}/confirm", id_of(&body)),
                                version_of(&body),
                                &json!({"received_fen": got.max(0)}),
                            )
                            .await,
                            StatusCode::OK,
                        )
                        .await;
                    } else {
                        assert!(
                            st == StatusCode::CREATED || body["code"] == "nothing_to_remit",
                            "{body}"
                        );
                    }
                }
            }
            for t in techs {
                let c = cash(app, &fin, &t.id).await;
                let in_hand = c["in_hand_fen"].as_i64().unwrap();
                let ledger_sum = sum_sql(
                    app,
                    &format!(
                        "SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) AS n FROM payments p \
                     WHERE p.collector_id = '{}' AND p.on_site AND NOT EXISTS \
                     (SELECT 1 FROM remittance_items ri WHERE ri.payment_id = COALESCE(p.reverses_id, p.id))",
                        t.id
                    ),
                );
                let unremitted: i64 = c["unremitted"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["amount_fen"].as_i64().unwrap())
                    .sum();
                assert_eq!(in_hand, ledger_sum, "seed {seed}");
                assert_eq!(
                    in_hand,
                    c["collected_fen"].as_i64().unwrap() - c["remitted_fen"].as_i64().unwrap()
                );
                assert_eq!(
                    in_hand, unremitted,
                    "seed {seed}: in hand is what can still be handed over"
                );
                assert!(in_hand >= 0);
            }
        }
    }
}

// ------------------------------------------------------------------ 10. authorization

#[tokio::test]
async fn money_is_seen_and_handled_only_by_those_entitled() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let (_, bj_fin) = app.user("finance", &app.bj.id).await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let other = technician(app, &app.zz.id, true, true, (34.7, 113.6), false).await;
    let o = completed_order(&s, &s.customer, &s.lead, 5000).await;
    let oid = id_of(&o);
    let charge = o["charge"]["id"].as_str().unwrap().to_string();
    let before = app.snapshot();
    // only a technician on the order collects
    for token in [&fin, &s.mgr, &s.agent, &app.admin] {
        assert_problem(
            collect_res(
                app,
                token,
                &oid,
                Some(&key()),
                &json!({"amount_fen": 100, "method": "cash", "payer_name": "x"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        collect_res(
            app,
            &other.token,
            &oid,
            Some(&key()),
            &json!({"amount_fen": 100, "method": "cash", "payer_name": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    app.assert_unchanged(&before);
    let pay = collect(app, &s.lead, &oid, 5000, "cash").await;
    let pid = id_of(&pay);

    // a payment: its collector and its center's office; elsewhere it does not exist
    for token in [&s.lead.token, &fin, &s.mgr, &app.admin] {
        expect(
            app.get(&format!("/api/v1/payments/{pid}"), token).await,
            StatusCode::OK,
        )
        .await;
    }
    for token in [&other.token, &bj_fin, &bj_mgr] {
        assert_problem(
            app.get(&format!("/api/v1/payments/{pid}"), token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_problem(
            app.get(&format!("/api/v1/charges/{charge}"), token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_problem(
        app.get(&format!("/api/v1/payments/{pid}"), &s.agent).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    for path in [
        "/api/v1/payments",
        "/api/v1/reconciliation",
        "/api/v1/remittances",
        "/api/v1/invoices",
        "/api/v1/invoices/aging",
        "/api/v1/discrepancies",
        "/api/v1/payments/export?format=csv",
        "/api/v1/charges",
    ] {
        assert_problem(
            app.get(path, &s.agent).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    for path in [
        "/api/v1/reconciliation",
        "/api/v1/invoices",
        "/api/v1/invoices/aging",
        "/api/v1/discrepancies",
        "/api/v1/charges",
    ] {
        assert_problem(
            app.get(path, &s.lead.token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    // lists narrow to scope: the other technician and the other center see nothing
    for token in [&other.token, &bj_fin] {
        let page = expect(app.get("/api/v1/payments", token).await, StatusCode::OK).await;
        assert!(items(&page).is_empty());
    }
    let page = expect(
        app.get(
            &format!("/api/v1/payments?center_id={}", app.zz.id),
            &bj_fin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(items(&page).is_empty());
    let rep = expect(
        app.get(
            &format!("/api/v1/reconciliation?center_id={}", app.zz.id),
            &bj_fin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(rep["rows"].as_array().unwrap().is_empty());
    let page = expect(app.get("/api/v1/payments", &fin).await, StatusCode::OK).await;
    assert_eq!(items(&page).len(), 1);
    // cash in hand: oneself, or the center's office
    assert_problem(
        app.get(
            &format!("/api/v1/technicians/{}/cash", s.lead.id),
            &other.token,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/technicians/{}/cash", s.lead.id), &bj_fin)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // remittances: only technicians hand over, only their own payments
    for token in [&fin, &s.mgr] {
        assert_problem(
            app.post("/api/v1/remittances", token, &json!({})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.post(
            "/api/v1/remittances",
            &other.token,
            &json!({"payment_ids": [pid]}),
        )
        .await,
        StatusCode::CONFLICT,
        "payment_not_remittable",
    )
    .await;
    let r = expect(
        app.post(
            "/api/v1/remittances",
            &s.lead.token,
            &json!({"payment_ids": [pid]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_problem(
        post_if_match(
            app,
            &bj_fin,
            &format!("/api/v1/remittances/{}/confirm", id_of(&r)),
            1,
            &json!({"received_fen": 5000}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/remittances/{}", id_of(&r)), &other.token)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // adjustments: the other center's manager cannot approve; garbage is a clear 4xx
    assert_problem(
        app.post(
            &format!("/api/v1/charges/{charge}/adjustments"),
            &bj_mgr,
            &json!({"kind": "discount", "amount_fen": 1, "reason": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // agents handle no money
    assert_problem(
        app.post(
            &format!("/api/v1/charges/{charge}/adjustments"),
            &s.agent,
            &json!({"kind": "discount", "amount_fen": 1, "reason": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/charges/{charge}/adjustments"),
            &s.mgr,
            &json!({"kind": "gift", "reason": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let res = app
        .req(
            Method::POST,
            &format!("/api/v1/charges/{charge}/adjustments"),
            &s.mgr,
        )
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

/// Every money object of one center answers 404 to the other center's people, for reads
/// and for every action on it, and the database is left as it was.
#[tokio::test]
async fn another_centers_money_does_not_exist() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let (_, bj_fin) = app.user("finance", &app.bj.id).await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let bj_tech = technician(app, &app.bj.id, true, true, (39.9, 116.4), false).await;
    let o = completed_order(&s, &s.customer, &s.lead, 9000).await;
    let p = collect(app, &s.lead, &id_of(&o), 9000, "cash").await;
    let r = expect(
        app.post("/api/v1/remittances", &s.lead.token, &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let r = expect(
        post_if_match(
            app,
            &fin,
            &format!("/api/v1/remittances/{}/confirm", id_of(&r)),
            version_of(&r),
            &json!({"received_fen": 8000}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let d = id_of(&r["discrepancy"]);
    let o2 = completed_order(&s, &s.customer, &s.lead, 90000).await;
    let c2 = o2["charge"]["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/charges/{c2}/adjustments"),
            &s.lead.token,
            &json!({"kind": "waiver", "reason": "x"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let aid = id_of(&v["adjustments"][0]);
    let fleet = id_of(
        &app.created(
            "/api/v1/customers",
            &app.admin,
            &json!({"center_id": app.zz.id, "name": "挂账客户", "tier": "key", "address": "郑州",
                    "payment_terms": "credit", "credit_days": 30,
                    "contacts": [{"name": "王堃", "phone": "13812345678"}]}),
        )
        .await,
    );
    completed_order(&s, &fleet, &s.lead, 1000).await;
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let inv = expect(
        app.post(
            "/api/v1/invoices",
            &fin,
            &json!({"customer_id": fleet, "period_start": today, "period_end": today}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let iid = id_of(&inv);
    let pid = id_of(&p);
    let rid = id_of(&r);
    let before = app.snapshot();
    let gets = [
        format!("/api/v1/payments/{pid}"),
        format!("/api/v1/charges/{c2}"),
        format!("/api/v1/remittances/{rid}"),
        format!("/api/v1/invoices/{iid}"),
        format!("/api/v1/technicians/{}/cash", s.lead.id),
        format!("/api/v1/centers/{}/money-settings", app.zz.id),
    ];
    for path in &gets {
        for token in [&bj_fin, &bj_mgr] {
            assert_problem(
                app.get(path, token).await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        }
    }
    let posts: Vec<(String, Value, bool)> = vec![
        (
            format!("/api/v1/payments/{pid}/reversal"),
            json!({"reason": "x", "approver_id": s.mgr_id}),
            false,
        ),
        (
            format!("/api/v1/payments/{pid}/fapiao"),
            json!({"fapiao_no": "123"}),
            false,
        ),
        (
            format!("/api/v1/charges/{c2}/adjustments/{aid}/approve"),
            json!({}),
            false,
        ),
        (
            format!("/api/v1/charges/{c2}/adjustments/{aid}/reject"),
            json!({}),
            false,
        ),
        (
            format!("/api/v1/discrepancies/{d}/resolve"),
            json!({"resolution": "x"}),
            true,
        ),
        (
            format!("/api/v1/remittances/{rid}/confirm"),
            json!({"received_fen": 1}),
            true,
        ),
    ];
    for (path, body, if_match) in &posts {
        for token in [&bj_fin, &bj_mgr] {
            let res = if *if_match {
                post_if_match(app, token, path, 1, body).await
            } else {
                app.post(path, token, body).await
            };
            let st = res.status();
            // 403 where the role may never act, 404 where it may but not here
            assert!(
                st == StatusCode::NOT_FOUND || st == StatusCode::FORBIDDEN,
                "{path}: {st} {}",
                res.text().await.unwrap()
            );
        }
    }
    let res = app
        .req(
            Method::POST,
            &format!("/api/v1/invoices/{iid}/payments"),
            &bj_fin,
        )
        .header("Idempotency-Key", key())
        .json(&json!({"amount_fen": 100, "payer_name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_problem(
        collect_res(
            app,
            &bj_tech.token,
            &id_of(&o2),
            Some(&key()),
            &json!({"amount_fen": 1, "method": "cash", "payer_name": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/invoices",
            &bj_fin,
            &json!({"customer_id": fleet, "period_start": today, "period_end": today}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // the roles that may never: a manager does not record invoice payments, a technician
    // does not read invoices
    let res = app
        .req(
            Method::POST,
            &format!("/api/v1/invoices/{iid}/payments"),
            &s.mgr,
        )
        .header("Idempotency-Key", key())
        .json(&json!({"amount_fen": 100, "payer_name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_problem(
        app.get(&format!("/api/v1/invoices/{iid}"), &s.lead.token)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.assert_unchanged_because(&before, format_args!("nothing changed"));
    // the own center's people see them all
    for path in &gets {
        expect(app.get(path, &fin).await, StatusCode::OK).await;
    }
}

/// Small discounts add up against the threshold, and a credit charge whose adjustment waits
/// for a manager stays off the invoice until it is decided.
#[tokio::test]
async fn split_discounts_add_up_and_pending_adjustments_wait_for_the_next_invoice() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let o = completed_order(&s, &s.customer, &s.lead, 20000).await;
    let adj = format!(
        "/api/v1/charges/{}/adjustments",
        o["charge"]["id"].as_str().unwrap()
    );
    let body = json!({"kind": "discount", "amount_fen": 3000, "reason": "优惠"});
    let v = expect(app.post(&adj, &fin, &body).await, StatusCode::CREATED).await;
    assert_eq!(v["adjustments"][0]["status"], "approved");
    let v = expect(app.post(&adj, &fin, &body).await, StatusCode::CREATED).await;
    assert_eq!(
        v["adjustments"][1]["status"], "pending",
        "¥30 + ¥30 is over the ¥50 threshold: {v}"
    );
    assert_eq!(v["due_fen"], 17000);

    let fleet = id_of(
        &app.created(
            "/api/v1/customers",
            &app.admin,
            &json!({"center_id": app.zz.id, "name": "挂账客户乙", "tier": "major", "address": "郑州",
                    "payment_terms": "credit", "credit_days": 15,
                    "contacts": [{"name": "李犇", "phone": "13812345678"}]}),
        )
        .await,
    );
    let a = completed_order(&s, &fleet, &s.lead, 5000).await;
    let b = completed_order(&s, &fleet, &s.lead, 7000).await;
    let b_charge = b["charge"]["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/charges/{b_charge}/adjustments"),
            &s.lead.token,
            &json!({"kind": "discount", "amount_fen": 6000, "reason": "设备故障补偿"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let aid = id_of(&v["adjustments"][0]);
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let period = json!({"customer_id": fleet, "period_start": today, "period_end": today});
    let inv = expect(
        app.post("/api/v1/invoices", &fin, &period).await,
        StatusCode::CREATED,
    )
    .await;
    let on_it: Vec<&str> = inv["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(on_it, [id_of(&a).as_str()], "the pending one waits: {inv}");
    assert_eq!(inv["total_fen"], 5000);
    // decided, it goes on the next invoice at its adjusted amount
    expect(
        app.post(
            &format!("/api/v1/charges/{b_charge}/adjustments/{aid}/approve"),
            &s.mgr,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let inv2 = expect(
        app.post("/api/v1/invoices", &fin, &period).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(inv2["total_fen"], 1000);
    assert_eq!(inv2["number"], format!("ZD-ZZ-{}-000002", year()).as_str());
    // an issue date far away is refused, not a panic
    let bad = json!({"customer_id": fleet, "period_start": today, "period_end": today, "issue_date": "9999-12-31"});
    assert_problem(
        app.post("/api/v1/invoices", &fin, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

// ------------------------------------------------------------------ issue 14

/// 篇三: the technician collects what the customer owes; a discount or waiver, however
/// small, is a manager's decision. The approver is an active admin or a manager of the
/// center, one rule with one code (`not_an_approver`) wherever someone is named approver.
#[tokio::test]
async fn a_technician_cannot_waive_or_discount_a_fee_by_themselves() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    let o = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let charge = o["charge"]["id"].as_str().unwrap().to_string();
    let adj = format!("/api/v1/charges/{charge}/adjustments");

    // a ¥1 discount, well within the center's ¥50 threshold, still waits
    let v = expect(
        app.post(
            &adj,
            &s.lead.token,
            &json!({"kind": "discount", "amount_fen": 100, "reason": "零头"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v["status"], "open", "{v}");
    assert_eq!(v["due_fen"], 12800);
    assert_eq!(v["adjustments"][0]["status"], "pending");
    assert!(v["adjustments"][0]["decided_by"].is_null(), "{v}");
    let aid = id_of(&v["adjustments"][0]);
    let p = assert_problem(
        close_res(app, &s.mgr, &fresh_order(app, &id_of(&o)).await).await,
        StatusCode::CONFLICT,
        "charge_unsettled",
    )
    .await;
    assert_eq!(p["charge_status"], "open");
    // neither the technician, nor finance, nor another center's manager approves it
    for token in [&s.lead.token, &fin] {
        assert_problem(
            app.post(&format!("{adj}/{aid}/approve"), token, &json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.post(&format!("{adj}/{aid}/approve"), &bj_mgr, &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let v = expect(
        app.post(&format!("{adj}/{aid}/approve"), &s.mgr, &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["adjustments"][0]["status"], "approved");
    assert_eq!(v["adjustments"][0]["decided_by"], s.mgr_id.as_str());
    assert_eq!(v["due_fen"], 12700);

    // the whole fee waived by the technician waits too, and counts once approved
    let v = expect(
        app.post(
            &adj,
            &s.lead.token,
            &json!({"kind": "waiver", "reason": "老客户"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v["status"], "open", "{v}");
    assert_eq!(v["adjustments"][1]["status"], "pending");
    let wid = id_of(&v["adjustments"][1]);
    let v = expect(
        app.post(&format!("{adj}/{wid}/approve"), &app.admin, &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "waived");
    assert_eq!(v["due_fen"], 0);

    // one approver rule, one code: a named approver who is no manager of the center, an
    // inactive manager, or nobody at all
    let (inactive_id, _) = app.user("manager", &app.zz.id).await;
    app.deactivate(&inactive_id).await;
    let (bj_mgr_id, _) = app.user("manager", &app.bj.id).await;
    let o2 = completed_order(&s, &s.customer, &s.lead, 5000).await;
    let pay = collect(app, &s.lead, &id_of(&o2), 5000, "wechat").await;
    let path = format!("/api/v1/payments/{}/reversal", id_of(&pay));
    let before = app.snapshot();
    for named in [
        s.agent_id.as_str(),
        s.lead.id.as_str(),
        inactive_id.as_str(),
        bj_mgr_id.as_str(),
        "no-such-user",
    ] {
        let p = assert_problem(
            app.post(
                &path,
                &fin,
                &json!({"reason": "录错", "approver_id": named}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["code"], "not_an_approver", "{named}: {p}");
    }
    app.assert_unchanged(&before);
}

/// One mechanism for every idempotent write: N requests with one key sent at once (a
/// phone's retries racing the first) act once, and every one of them gets the same 201.
#[tokio::test]
async fn same_key_requests_sent_at_once_get_one_answer_and_act_once() {
    const N: usize = 6;
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let o = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let oid = id_of(&o);

    async fn all_same(responses: Vec<Response>, status: StatusCode) -> Value {
        let mut bodies = Vec::new();
        for r in responses {
            let st = r.status();
            let text = r.text().await.unwrap();
            assert_eq!(st, status, "{text}");
            bodies.push(text);
        }
        let first: Value = serde_json::from_str(&bodies[0]).unwrap();
        for b in &bodies[1..] {
            assert_eq!(&serde_json::from_str::<Value>(b).unwrap(), &first);
        }
        first
    }

    // a payment
    let k = key();
    let body = json!({"amount_fen": 12800, "method": "cash", "payer_name": "王喆"});
    let sends =
        (0..N).map(|_| collect_res(app, &s.lead.token, &oid, Some(&k), &body).boxed_local());
    let pay = all_same(
        futures_util::future::join_all(sends).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(app.count("payments"), 1);

    // a remittance
    let k = key();
    let sends = (0..N).map(|_| {
        app.req(Method::POST, "/api/v1/remittances", &s.lead.token)
            .header("Idempotency-Key", k.as_str())
            .json(&json!({"payment_ids": [id_of(&pay)]}))
            .send()
            .map(Result::unwrap)
            .boxed_local()
    });
    let r = all_same(
        futures_util::future::join_all(sends).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(r["expected_fen"], 12800);
    assert_eq!(app.count("remittances"), 1);

    // a reversal (of a payment not handed over)
    let o2 = completed_order(&s, &s.customer, &s.lead, 5000).await;
    let pay2 = collect(app, &s.lead, &id_of(&o2), 5000, "wechat").await;
    let k = key();
    let path = format!("/api/v1/payments/{}/reversal", id_of(&pay2));
    let sends = (0..N).map(|_| {
        app.req(Method::POST, &path, &fin)
            .header("Idempotency-Key", k.as_str())
            .json(&json!({"reason": "录错", "approver_id": s.mgr_id}))
            .send()
            .map(Result::unwrap)
            .boxed_local()
    });
    let rev = all_same(
        futures_util::future::join_all(sends).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(rev["amount_fen"], -5000);
    assert_eq!(app.count("payments"), 3);

    // an order action
    let o3 = completed_order(&s, &s.customer, &s.lead, 3000).await;
    collect(app, &s.lead, &id_of(&o3), 3000, "wechat").await;
    s.settle_and_follow_up(&o3).await;
    let o3 = fresh_order(app, &id_of(&o3)).await;
    let k = key();
    let path = format!("{ORDERS}/{}/close", id_of(&o3));
    let v = version_of(&o3);
    let sends = (0..N).map(|_| {
        app.req(Method::POST, &path, &s.mgr)
            .header("Idempotency-Key", k.as_str())
            .header("If-Match", format!("\"{v}\""))
            .json(&json!({}))
            .send()
            .map(Result::unwrap)
            .boxed_local()
    });
    let closed = all_same(futures_util::future::join_all(sends).await, StatusCode::OK).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["version"], v + 1);
}

/// 篇三: completed → money remitted → finance confirms → follow-up → closed. The close
/// names what is missing, first as `code`, all as `blockers`; a WeChat payment needs no
/// remittance.
#[tokio::test]
async fn an_order_closes_only_after_its_cash_is_remitted_and_confirmed_and_its_follow_up() {
    let s = zz().await;
    let app = &s.app;
    let (_, fin) = finance(&s).await;
    let o = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let oid = id_of(&o);
    let blockers = |p: &Value| -> Vec<String> {
        p["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap().to_string())
            .collect()
    };
    let p = assert_problem(
        close_res(app, &s.mgr, &o).await,
        StatusCode::CONFLICT,
        "charge_unsettled",
    )
    .await;
    assert_eq!(blockers(&p), ["charge_unsettled", "follow_up_pending"]);

    // paid in cash: the money is in the technician's hands
    collect(app, &s.lead, &oid, 12800, "cash").await;
    let before = app.snapshot();
    let p = assert_problem(
        close_res(app, &s.mgr, &fresh_order(app, &oid).await).await,
        StatusCode::CONFLICT,
        "cash_not_remitted",
    )
    .await;
    assert_eq!(blockers(&p), ["cash_not_remitted", "follow_up_pending"]);
    app.assert_unchanged_because(&before, format_args!("a refused close changes nothing"));

    // handed over, not yet counted
    let r = expect(
        app.post("/api/v1/remittances", &s.lead.token, &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let p = assert_problem(
        close_res(app, &s.mgr, &fresh_order(app, &oid).await).await,
        StatusCode::CONFLICT,
        "remittance_unconfirmed",
    )
    .await;
    assert_eq!(
        blockers(&p),
        ["remittance_unconfirmed", "follow_up_pending"]
    );
    expect(
        post_if_match(
            app,
            &fin,
            &format!("/api/v1/remittances/{}/confirm", id_of(&r)),
            version_of(&r),
            &json!({"received_fen": 12800}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let p = assert_problem(
        close_res(app, &s.mgr, &fresh_order(app, &oid).await).await,
        StatusCode::CONFLICT,
        "follow_up_pending",
    )
    .await;
    assert_eq!(blockers(&p), ["follow_up_pending"]);

    // the follow-up call is made: it closes
    let f = follow_up_of(app, &oid).await;
    expect(
        post_if_match(
            app,
            &s.agent,
            &format!("/api/v1/follow-ups/{}/record", id_of(&f)),
            version_of(&f),
            &json!({"score": 4}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let closed = expect(
        close_res(app, &s.mgr, &fresh_order(app, &oid).await).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["status"], "closed");

    // WeChat goes straight to the company: no remittance, only the follow-up
    let o2 = completed_order(&s, &s.customer, &s.lead, 5000).await;
    let oid2 = id_of(&o2);
    collect(app, &s.lead, &oid2, 5000, "wechat").await;
    let p = assert_problem(
        close_res(app, &s.mgr, &fresh_order(app, &oid2).await).await,
        StatusCode::CONFLICT,
        "follow_up_pending",
    )
    .await;
    assert_eq!(blockers(&p), ["follow_up_pending"]);
    // given up as unreachable after the center's attempts (default 3): it closes too
    for _ in 0..3 {
        let f = follow_up_of(app, &oid2).await;
        expect(
            post_if_match(
                app,
                &s.agent,
                &format!("/api/v1/follow-ups/{}/unreachable", id_of(&f)),
                version_of(&f),
                &json!({"note": "无人接听"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    let closed = expect(
        close_res(app, &s.mgr, &fresh_order(app, &oid2).await).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["status"], "closed");
}
