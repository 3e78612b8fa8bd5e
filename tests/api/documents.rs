//! PDFs: the text of each kind extracted and checked, a 60-vehicle order over several
//! pages, rare characters, a character no font has, size and `qpdf --check`, the
//! authorization of each endpoint, and a 503 without fonts.

use chrono::{Duration, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{
    ORDERS, SIGNATURE, Tech, act, approve_and_assign, collect, completed_order, created_order,
    expect, finance, fit, go_on_site, id_of, install_body, key, line, repair_body, terminal_with,
    year, zz,
};
use crate::helpers::{AppOptions, TestApp, assert_problem, iccid, imei, msisdn, spawn_app_with};

/// A PDF answer, its text with all whitespace removed (table cells and wrapped lines
/// come out in pieces), and its page count.
pub(crate) struct Pdf {
    pub bytes: Vec<u8>,
    pub text: String,
    pub pages: usize,
    pub missing: Option<String>,
}

pub(crate) fn pdf_text(bytes: &[u8]) -> (String, usize) {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF lopdf can read");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text extracts");
    (
        text.chars().filter(|c| !c.is_whitespace()).collect(),
        pages.len(),
    )
}

/// `qpdf --check` finds no errors (scripts/test installs qpdf).
pub(crate) fn qpdf_check(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .expect("qpdf is installed (apt-get install qpdf; scripts/test does)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && report.contains("No syntax or stream encoding errors"),
        "qpdf --check: {report} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) async fn get_pdf(app: &TestApp, path: &str, token: &str) -> Pdf {
    let res = app.get(path, token).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    assert!(bytes.len() < 150 * 1024, "{path}: {} bytes", bytes.len());
    qpdf_check(&bytes);
    let (text, pages) = pdf_text(&bytes);
    assert_eq!(headers["x-page-count"].to_str().unwrap(), pages.to_string());
    Pdf {
        missing: headers
            .get("x-missing-glyphs")
            .map(|v| v.to_str().unwrap().to_string()),
        bytes,
        text,
        pages,
    }
}

fn has(pdf: &Pdf, needle: &str) {
    let n: String = needle.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        pdf.text.contains(&n),
        "the PDF shows {needle:?}; it says: {}",
        pdf.text
    );
}

// ------------------------------------------------------------------ install, 60 vehicles

#[tokio::test]
async fn sixty_vehicle_install_order_prints_on_several_pages_with_every_line() {
    let s = zz().await;
    let app = &s.app;
    let customer = id_of(
        &app.created(
            "/api/v1/customers",
            &app.admin,
            &json!({
                "center_id": app.zz.id, "name": "武汉珞珈山喆堃物流有限公司", "tier": "key",
                "address": "武汉市洪山区珞喻路1037号", "payment_terms": "cash",
                "contacts": [{"name": "张喆", "phone": "13812345678"}]
            }),
        )
        .await,
    );
    let drivers = ["王堃", "李犇", "张喆", "赵珞"];
    let plates: Vec<String> = (0..60).map(|i| format!("鄂A{:05}", 30000 + i)).collect();
    let vehicles: Vec<Value> = plates
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"plate_no": p, "driver": {"name": drivers[i % 4], "phone": "13912345678"}}))
        .collect();
    let mut body = install_body(&customer, json!(vehicles), true);
    body["site_address"] = json!("武汉市洪山区珞喻路1037号 地下车库B2");
    body["contact_name"] = json!("张喆");
    let o = created_order(
        app.post(&format!("{ORDERS}/install"), &s.agent, &body)
            .await,
    )
    .await;
    for i in 0..60u64 {
        app.create_terminal(&app.admin, &app.zz.id, 100 + i).await;
        app.create_sim(&app.admin, &app.zz.id, 100 + i).await;
    }
    let o = approve_and_assign(&s, &o, &s.lead, &[&s.helper], 4).await;
    let mut o = go_on_site(app, &s.lead, &o).await;
    for i in 0..60usize {
        let lid = id_of(line(&o, i));
        o = if i == 59 {
            act(
                app,
                &s.lead.token,
                &o,
                &format!("lines/{lid}/not-done"),
                json!({"reason": "车辆外出未到场"}),
            )
            .await
        } else {
            let n = 100 + i as u64;
            act(
                app,
                &s.lead.token,
                &o,
                &format!("lines/{lid}/install"),
                json!({"imei": imei(n), "iccid": iccid(n)}),
            )
            .await
        };
    }
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "张喆", "signature_image": SIGNATURE}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;

    let pdf = get_pdf(app, &format!("{ORDERS}/{}/pdf", id_of(&o)), &s.mgr).await;
    assert!(
        pdf.pages >= 2,
        "60 vehicles need more than one page: {}",
        pdf.pages
    );
    assert!(
        pdf.missing.is_none(),
        "every character has a font: {:?}",
        pdf.missing
    );
    has(&pdf, "安装任务派工单");
    has(&pdf, &format!("AZ-ZZ-{}-000001", year()));
    has(&pdf, "武汉珞珈山喆堃物流有限公司");
    has(&pdf, "武汉市洪山区珞喻路1037号");
    has(&pdf, "共60辆");
    has(&pdf, &format!("第1页/共{}页", pdf.pages));
    for name in drivers {
        has(&pdf, name);
    }
    for (i, plate) in plates.iter().enumerate() {
        has(&pdf, plate);
        if i < 59 {
            let n = 100 + i as u64;
            has(&pdf, &imei(n));
            has(&pdf, &iccid(n));
            has(&pdf, &msisdn(n));
        }
    }
    has(&pdf, "车辆外出未到场");
    // every plate exactly once: no line lost or printed twice at a page break
    for plate in &plates {
        assert_eq!(pdf.text.matches(plate.as_str()).count(), 1, "{plate}");
    }
    // the header row is repeated on the page the table continues on
    assert!(pdf.text.matches("SIM卡ICCID").count() >= 2);
}

// ------------------------------------------------------------------ repair with swaps

#[tokio::test]
async fn repair_order_prints_old_and_new_numbers_fault_tag_parts_and_fee() {
    let s = zz().await;
    let app = &s.app;
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A12345")
            .await,
    );
    // bought three years ago: out of warranty, parts are charged
    let purchased = (Utc::now() - Duration::days(3 * 365)).date_naive();
    let old = id_of(&terminal_with(app, 1, "GT06N", purchased).await);
    let old_sim = id_of(&app.create_sim(&app.admin, &app.zz.id, 1).await);
    fit(app, &old, &vehicle, &old_sim).await;
    app.create_terminal(&app.admin, &app.zz.id, 2).await;
    app.create_sim(&app.admin, &app.zz.id, 3).await;
    app.created(
        "/api/v1/parts",
        &app.admin,
        &json!({"code": "ANT-GPS", "name": "GPS 天线", "unit_price_fen": 12800}),
    )
    .await;
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(
                &s.customer,
                json!({"vehicle_id": vehicle}),
                "终端不定位，平台离线",
            ),
        )
        .await,
    )
    .await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 4).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let lid = id_of(line(&o, 0));
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{lid}/terminal-swap"),
        json!({"new_imei": imei(2), "fault": "不定位"}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{lid}/sim-swap"),
        json!({"new_iccid": iccid(3)}),
    )
    .await;
    let o = crate::fixtures::record(
        app,
        &s.lead.token,
        &o,
        "parts",
        json!({"part_code": "ANT-GPS", "quantity": 1}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆"}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    assert_eq!(o["fee_fen"], 12800);

    let pdf = get_pdf(app, &format!("{ORDERS}/{}/pdf", id_of(&o)), &s.lead.token).await;
    has(&pdf, "维修服务单");
    has(&pdf, &format!("WX-ZZ-{}-000001", year()));
    has(&pdf, "豫A12345");
    has(&pdf, &format!("原{}", imei(1)));
    has(&pdf, &format!("新{}", imei(2)));
    has(&pdf, &format!("原{}", iccid(1)));
    has(&pdf, &format!("新{}", iccid(3)));
    has(&pdf, "豫A12345/不定位");
    has(&pdf, "终端不定位，平台离线");
    has(&pdf, "已过保修期");
    has(&pdf, "GPS天线");
    has(&pdf, "¥128.00");
    has(&pdf, "壹佰贰拾捌元整");
    has(&pdf, "王喆");
}

/// Issue 14 item 12: an install order's parts and fee are printed (the customer pays
/// them), and so is what the technician wrote about the work (技师处理说明).
#[tokio::test]
async fn install_order_prints_its_parts_and_fee_and_repair_notes_are_printed() {
    let s = zz().await;
    let app = &s.app;
    let o = completed_order(&s, &s.customer, &s.lead, 12800).await;
    let pdf = get_pdf(app, &format!("{ORDERS}/{}/pdf", id_of(&o)), &s.mgr).await;
    has(&pdf, "安装任务派工单");
    has(&pdf, "使用配件");
    has(&pdf, "安装支架");
    has(&pdf, "应收费用");
    has(&pdf, "¥128.00");
    has(&pdf, "人民币壹佰贰拾捌元整");

    // a repair fixed on the spot: the technician's notes
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A54321")
            .await,
    );
    let purchased = (Utc::now() - Duration::days(100)).date_naive();
    let t = id_of(&terminal_with(app, 11, "GT06N", purchased).await);
    let sim = id_of(&app.create_sim(&app.admin, &app.zz.id, 11).await);
    fit(app, &t, &vehicle, &sim).await;
    let o = created_order(
        app.post(
            &format!("{ORDERS}/repair"),
            &s.agent,
            &repair_body(&s.customer, json!({"vehicle_id": vehicle}), "平台离线"),
        )
        .await,
    )
    .await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 40).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let lid = id_of(line(&o, 0));
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{lid}/repair"),
        json!({"notes": "天线接头松动，已重新紧固并测试定位正常"}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆"}),
    )
    .await;
    let o = act(app, &s.lead.token, &o, "complete", json!({})).await;
    let pdf = get_pdf(app, &format!("{ORDERS}/{}/pdf", id_of(&o)), &s.mgr).await;
    has(&pdf, "技师处理说明");
    has(&pdf, "天线接头松动，已重新紧固并测试定位正常");
}

// ------------------------------------------------------------------ receipt and invoice

#[tokio::test]
async fn receipt_shows_amount_in_figures_and_capitals_and_is_void_once_reversed() {
    let s = zz().await;
    let app = &s.app;
    let o = completed_order(&s, &s.customer, &s.lead, 1_000_150).await;
    let pay = collect(app, &s.lead, &id_of(&o), 1_000_150, "wechat").await;
    let path = format!("/api/v1/payments/{}/receipt.pdf", id_of(&pay));
    let pdf = get_pdf(app, &path, &s.lead.token).await;
    let no = pay["receipt_no"].as_str().unwrap();
    has(&pdf, "收据");
    has(&pdf, no);
    has(&pdf, o["number"].as_str().unwrap());
    has(&pdf, "¥10,001.50");
    // issue 14 item 12: the company, what was paid for, 人民币 before the capitals
    has(&pdf, "中原卫星定位技术服务有限公司");
    has(&pdf, "收费项目");
    has(&pdf, "安装支架");
    has(&pdf, "应收合计");
    has(&pdf, "人民币壹万零壹元伍角");
    has(&pdf, "微信");
    has(&pdf, "王喆");
    assert!(!pdf.text.contains("作废"));
    assert_eq!(pdf.pages, 1);

    let rev = expect(
        app.post(
            &format!("/api/v1/payments/{}/reversal", id_of(&pay)),
            &s.mgr,
            &json!({"reason": "金额录错"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // a reversal's amount in capitals is negative, as its figures
    assert_eq!(rev["amount_fen"], -1_000_150, "{rev}");
    assert_eq!(rev["amount_capital"], "负壹万零壹元伍角", "{rev}");
    assert_eq!(pay["amount_capital"], "壹万零壹元伍角");
    let pdf = get_pdf(app, &path, &s.mgr).await;
    has(&pdf, "作废");
    has(&pdf, "金额录错");
    // a reversal entry has no receipt of its own
    assert_problem(
        app.get(
            &format!("/api/v1/payments/{}/receipt.pdf", id_of(&rev)),
            &s.mgr,
        )
        .await,
        StatusCode::CONFLICT,
        "no_receipt",
    )
    .await;
}

#[tokio::test]
async fn invoice_prints_each_order_total_in_capitals_balance_and_bank_details() {
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
    let mut numbers = Vec::new();
    let mut plates = Vec::new();
    for fee in [12800, 6000, 3550] {
        let o = completed_order(&s, &fleet, &s.lead, fee).await;
        numbers.push(o["number"].as_str().unwrap().to_string());
        plates.push(line(&o, 0)["plate_no"].as_str().unwrap().to_string());
    }
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let inv = expect(
        app.post(
            "/api/v1/invoices",
            &fin,
            &json!({"customer_id": fleet, "period_start": today - Duration::days(30), "period_end": today, "issue_date": today}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect(
        app.req(
            Method::POST,
            &format!("/api/v1/invoices/{}/payments", id_of(&inv)),
            &fin,
        )
        .header("Idempotency-Key", key())
        .json(&json!({"amount_fen": 10000, "payer_name": "郑州珞喻物流有限公司"}))
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let pdf = get_pdf(app, &format!("/api/v1/invoices/{}/pdf", id_of(&inv)), &fin).await;
    has(&pdf, "账单");
    has(&pdf, inv["number"].as_str().unwrap());
    has(&pdf, "郑州珞喻物流有限公司");
    for n in &numbers {
        has(&pdf, n);
    }
    // issue 14 item 12: each line names its vehicles
    for p in &plates {
        has(&pdf, p);
    }
    has(&pdf, "¥223.50");
    has(&pdf, "人民币贰佰贰拾叁元伍角");
    has(&pdf, "贰佰贰拾叁元伍角");
    has(&pdf, "¥100.00");
    has(&pdf, "¥123.50");
    has(&pdf, "壹佰贰拾叁元伍角");
    has(&pdf, &(today + Duration::days(30)).to_string());
    has(&pdf, "中国工商银行郑州金水支行");
    has(&pdf, "1702020109000012345");
    has(&pdf, "中原卫星定位技术服务有限公司");

    // technicians and agents do not see invoices; another center's manager finds none
    let (_, agent) = (s.agent_id.clone(), s.agent.clone());
    for token in [&s.lead.token, &agent] {
        assert_problem(
            app.get(&format!("/api/v1/invoices/{}/pdf", id_of(&inv)), token)
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    assert_problem(
        app.get(&format!("/api/v1/invoices/{}/pdf", id_of(&inv)), &bj_mgr)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

// ------------------------------------------------------------------ fonts

#[tokio::test]
async fn a_character_no_font_has_is_reported_not_dropped() {
    let s = zz().await;
    let app = &s.app;
    // U+13000 EGYPTIAN HIEROGLYPH A001: in none of the configured fonts
    let customer = id_of(
        &app.create_customer(&app.admin, &app.zz.id, "𓀀记运输公司")
            .await,
    );
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&customer, json!([{"plate_no": "豫A99999"}]), true),
        )
        .await,
    )
    .await;
    let pdf = get_pdf(app, &format!("{ORDERS}/{}/pdf", id_of(&o)), &s.agent).await;
    assert_eq!(pdf.missing.as_deref(), Some("U+13000"));
    has(&pdf, "□记运输公司");
    assert!(pdf.bytes.len() > 1000);
}

#[tokio::test]
async fn without_a_font_pdfs_answer_503_and_everything_else_works() {
    let app = spawn_app_with(AppOptions {
        fonts: Some("/nonexistent/font.ttc".into()),
        ..Default::default()
    })
    .await;
    let customer = id_of(
        &app.create_customer(&app.admin, &app.zz.id, "无字体客户")
            .await,
    );
    let (_, agent) = app.user("agent", &app.zz.id).await;
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &agent,
            &install_body(&customer, json!([{"plate_no": "豫A88888"}]), false),
        )
        .await,
    )
    .await;
    let p = assert_problem(
        app.get(&format!("{ORDERS}/{}/pdf", id_of(&o)), &agent)
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
        "documents_unavailable",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("font"), "{p}");
}

// ------------------------------------------------------------------ authorization

async fn status_of(res: Response) -> StatusCode {
    res.status()
}

#[tokio::test]
async fn pdfs_follow_the_objects_authorization() {
    let s = zz().await;
    let app = &s.app;
    let o = completed_order(&s, &s.customer, &s.lead, 5000).await;
    let pay = collect(app, &s.lead, &id_of(&o), 5000, "cash").await;
    let order_pdf = format!("{ORDERS}/{}/pdf", id_of(&o));
    let receipt_pdf = format!("/api/v1/payments/{}/receipt.pdf", id_of(&pay));

    // the lead, the center's office: yes
    for token in [&s.lead.token, &s.mgr, &s.agent] {
        assert_eq!(
            status_of(app.get(&order_pdf, token).await).await,
            StatusCode::OK
        );
    }
    // a technician not on the order, another center's manager: as if it did not exist
    let other: Tech =
        crate::fixtures::technician(app, &app.zz.id, true, true, (34.7, 113.6), false).await;
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    for token in [&other.token, &bj_mgr] {
        assert_problem(
            app.get(&order_pdf, token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_problem(
            app.get(&receipt_pdf, token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // agents do not see money
    assert_problem(
        app.get(&receipt_pdf, &s.agent).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // no token
    let res = app.client.get(app.url(&order_pdf)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // unknown ids
    assert_problem(
        app.get(&format!("{ORDERS}/nope/pdf"), &s.mgr).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/payments/nope/receipt.pdf", &s.mgr).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
