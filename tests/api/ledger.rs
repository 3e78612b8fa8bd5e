//! The install ledger (安装台账): one row per vehicle fitted, with its plate colour, 808 id,
//! installer, photos and sign-off; as JSON, CSV and XLSX; by China day and customer; its
//! refusals; and one vehicle's page as a PDF.

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::documents::get_pdf;
use crate::fixtures::{
    ORDERS, SIGNATURE, Zz, act, approve_and_assign, created_order, expect, go_on_site, id_of,
    install_body, line, version_of, zz,
};
use crate::helpers::{TestApp, assert_problem, error_fields, iccid, imei, msisdn};
use crate::photos::jpeg;

const LEDGER: &str = "/api/v1/install-ledger";
/// The 11-digit mobile number of the second vehicle's SIM.
const MOBILE: &str = "13912340502";

/// Installs of the ZZ center: customer A's order of three vehicles (the first with two
/// photos and a yellow plate, a 13-digit IoT SIM; the second with an 11-digit SIM; the
/// third not done), signed off and completed; customer B's order of one vehicle,
/// installed and not signed.
struct Scene {
    s: Zz,
    /// customer A's order
    order: Value,
    /// the lines of A's order: installed, installed, not done
    lines: Vec<String>,
    plates: Vec<&'static str>,
    customer_b: String,
    /// the line of B's vehicle
    line_b: String,
    installer: String,
}

async fn upload_photo(s: &Zz, order: &Value, kind: &str, line_id: &str) -> Value {
    let url = format!(
        "{ORDERS}/{}/photos?kind={kind}&line_id={line_id}&taken_at=2026-12-05T02:30:00Z",
        id_of(order)
    );
    let res = s
        .app
        .req(Method::POST, &url, &s.lead.token)
        .header("Content-Type", "image/jpeg")
        .header("If-Match", format!("\"{}\"", version_of(order)))
        .body(jpeg(800, 600))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await
}

async fn scene() -> Scene {
    let s = zz().await;
    let app = &s.app;
    let center = app.zz.id.clone();
    for n in [501, 502, 504] {
        app.create_terminal(&app.admin, &center, n).await;
    }
    app.create_sim(&app.admin, &center, 501).await;
    app.created(
        "/api/v1/sims",
        &app.admin,
        &json!({"iccid": iccid(502), "msisdn": MOBILE, "center_id": center}),
    )
    .await;
    app.create_sim(&app.admin, &center, 504).await;

    let plates = vec!["豫A51001", "豫A51002", "豫A51003"];
    let vehicles: Vec<Value> = plates.iter().map(|p| json!({"plate_no": p})).collect();
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&s.customer, json!(vehicles), true),
        )
        .await,
    )
    .await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 3).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let lines: Vec<String> = (0..3).map(|i| id_of(line(&o, i))).collect();
    let o = upload_photo(&s, &o, "unit", &lines[0]).await;
    let o = upload_photo(&s, &o, "wiring", &lines[0]).await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{}/install", lines[0]),
        json!({"imei": imei(501), "iccid": iccid(501)}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{}/install", lines[1]),
        json!({"imei": imei(502), "iccid": iccid(502)}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{}/not-done", lines[2]),
        json!({"reason": "车辆外出未到场"}),
    )
    .await;
    let o = act(
        app,
        &s.lead.token,
        &o,
        "sign-off",
        json!({"signer_name": "王喆", "signature_image": SIGNATURE}),
    )
    .await;
    let order = act(app, &s.lead.token, &o, "complete", json!({})).await;

    // the first vehicle's plate is yellow (a coach)
    let vid = line(&order, 0)["vehicle_id"].as_str().unwrap().to_string();
    let v = expect(
        app.get(&format!("/api/v1/vehicles/{vid}"), &s.agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["plate_colour"], Value::Null, "unknown until recorded");
    let v = expect(
        app.patch(
            &format!("/api/v1/vehicles/{vid}"),
            &s.agent,
            Some(version_of(&v)),
            &json!({"plate_colour": "yellow"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["plate_colour"], "yellow");

    // customer B: one vehicle installed, the order still on site, not signed
    let customer_b = id_of(
        &app.create_customer(&app.admin, &center, "郑州安达危险品运输有限公司")
            .await,
    );
    let o = created_order(
        app.post(
            &format!("{ORDERS}/install"),
            &s.agent,
            &install_body(&customer_b, json!([{"plate_no": "豫A51004"}]), true),
        )
        .await,
    )
    .await;
    let o = approve_and_assign(&s, &o, &s.lead, &[], 9).await;
    let o = go_on_site(app, &s.lead, &o).await;
    let line_b = id_of(line(&o, 0));
    act(
        app,
        &s.lead.token,
        &o,
        &format!("lines/{line_b}/install"),
        json!({"imei": imei(504), "iccid": iccid(504)}),
    )
    .await;
    let installer = expect(
        app.get(&format!("/api/v1/users/{}", s.lead.id), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await["display_name"]
        .as_str()
        .unwrap()
        .to_string();
    Scene {
        s,
        order,
        lines,
        plates,
        customer_b,
        line_b,
        installer,
    }
}

/// Today in China, and the period around it.
fn china_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

fn around_today(extra: &str) -> String {
    let today = china_today();
    format!(
        "{LEDGER}?from={}&to={}{extra}",
        today - Duration::days(1),
        today + Duration::days(1)
    )
}

async fn ledger(app: &TestApp, url: &str, token: &str) -> Vec<Value> {
    let body = expect(app.get(url, token).await, StatusCode::OK).await;
    body["rows"].as_array().expect("rows").clone()
}

fn row<'a>(rows: &'a [Value], line_id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["line_id"] == line_id)
        .unwrap_or_else(|| panic!("a row of line {line_id}: {rows:?}"))
}

fn set_done_at(app: &TestApp, line_id: &str, at: NaiveDateTime) {
    use dispatch::store::schema::work_order_lines::dsl as l;
    diesel::update(l::work_order_lines.find(line_id))
        .set(l::done_at.eq(Some(at)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
}

fn utc(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

#[tokio::test]
async fn each_installed_vehicle_is_a_row_with_its_terminal_sim_installer_and_proof() {
    let sc = scene().await;
    let app = &sc.s.app;
    let rows = ledger(app, &around_today(""), &sc.s.mgr).await;
    // three vehicles fitted; the one not done is not in the ledger
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r["line_id"] != sc.lines[2].as_str()));

    let a = row(&rows, &sc.lines[0]);
    assert_eq!(a["plate_no"], sc.plates[0]);
    assert_eq!(a["plate_colour"], "yellow");
    assert_eq!(a["plate_colour_zh"], "黄色");
    assert_eq!(a["customer_id"], sc.s.customer.as_str());
    assert_eq!(a["customer_name"], "郑州宇通物流有限公司");
    assert_eq!(a["order_id"], id_of(&sc.order).as_str());
    assert_eq!(a["order_number"], sc.order["number"]);
    assert_eq!(a["imei"], imei(501).as_str());
    assert_eq!(a["terminal_model_code"], "GT06N");
    assert_eq!(a["terminal_model"], "GT06N 终端（GT06N）");
    assert_eq!(a["iccid"], iccid(501).as_str());
    assert_eq!(a["msisdn"], msisdn(501).as_str());
    assert_eq!(a["carrier"], "china_mobile");
    assert_eq!(a["carrier_zh"], "中国移动");
    // a 13-digit IoT number: the 2019 protocol's 20 digits
    assert_eq!(
        a["terminal_808_id"],
        format!("0000000{}", msisdn(501)).as_str()
    );
    assert_eq!(a["installer_id"], sc.s.lead.id.as_str());
    assert_eq!(a["installer_name"], sc.installer.as_str());
    assert!(a["installed_at"].as_str().unwrap().ends_with('Z'), "{a}");
    assert_eq!(
        a["first_fix_at"],
        Value::Null,
        "no first-report check (tracking off)"
    );
    assert_eq!(a["photo_count"], 2);
    assert_eq!(a["signed"], true);
    assert_eq!(a["signoff_name"], "王喆");
    assert!(a["signoff_at"].is_string());

    // an 11-digit mobile: padded to 12; no colour recorded; no photos
    let b = row(&rows, &sc.lines[1]);
    assert_eq!(b["plate_no"], sc.plates[1]);
    assert_eq!(b["plate_colour"], Value::Null);
    assert_eq!(b["plate_colour_zh"], Value::Null);
    assert_eq!(b["msisdn"], MOBILE);
    assert_eq!(b["terminal_808_id"], format!("0{MOBILE}").as_str());
    assert_eq!(b["photo_count"], 0);

    // customer B's vehicle: installed, not signed
    let c = row(&rows, &sc.line_b);
    assert_eq!(c["plate_no"], "豫A51004");
    assert_eq!(c["customer_id"], sc.customer_b.as_str());
    assert_eq!(c["signed"], false);
    assert_eq!(c["signoff_name"], Value::Null);

    // by install time
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["installed_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);

    // agents and admins read it too; the admin's center filter
    assert_eq!(ledger(app, &around_today(""), &sc.s.agent).await.len(), 3);
    assert_eq!(ledger(app, &around_today(""), &app.admin).await.len(), 3);
    let zz = format!("&center_id={}", app.zz.id);
    assert_eq!(ledger(app, &around_today(&zz), &app.admin).await.len(), 3);
    let bj = format!("&center_id={}", app.bj.id);
    assert!(ledger(app, &around_today(&bj), &app.admin).await.is_empty());
    // a manager naming another center: nothing of it exists for them
    assert!(ledger(app, &around_today(&bj), &sc.s.mgr).await.is_empty());
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    assert!(ledger(app, &around_today(""), &bj_mgr).await.is_empty());
}

#[tokio::test]
async fn csv_and_xlsx_carry_the_chinese_headers_and_china_times() {
    let sc = scene().await;
    let app = &sc.s.app;
    let rows = ledger(app, &around_today(""), &sc.s.mgr).await;
    let china = |r: &Value| {
        let t = chrono::DateTime::parse_from_rfc3339(r["installed_at"].as_str().unwrap())
            .unwrap()
            .naive_utc();
        t + Duration::hours(8)
    };
    let headers = [
        "车牌号",
        "车牌颜色",
        "VIN",
        "客户",
        "终端厂家/型号",
        "IMEI",
        "808终端号",
        "ICCID",
        "MSISDN",
        "运营商",
        "安装人",
        "安装时间",
        "首次定位时间",
        "工单号",
        "照片数",
        "客户签字",
    ];

    // CSV: a BOM for Excel, the Chinese header, one line per vehicle in the JSON's order
    let res = app.get(&around_today("&format=csv"), &sc.s.mgr).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("install-ledger-") && disposition.contains(".csv"),
        "{disposition}"
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let mut rd = csv::Reader::from_reader(&bytes[3..]);
    let got: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(got, headers);
    let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), rows.len());
    for (rec, r) in recs.iter().zip(&rows) {
        assert_eq!(&rec[0], r["plate_no"].as_str().unwrap());
        assert_eq!(&rec[3], r["customer_name"].as_str().unwrap());
        assert_eq!(&rec[5], r["imei"].as_str().unwrap());
        assert_eq!(&rec[6], r["terminal_808_id"].as_str().unwrap());
        assert_eq!(&rec[7], r["iccid"].as_str().unwrap());
        assert_eq!(&rec[10], sc.installer.as_str());
        assert_eq!(
            &rec[11],
            china(r).format("%Y-%m-%d %H:%M:%S").to_string().as_str(),
            "install time in China time"
        );
        assert_eq!(&rec[12], "", "first fix: empty for now");
        assert_eq!(&rec[13], r["order_number"].as_str().unwrap());
        assert_eq!(rec[14], r["photo_count"].to_string());
    }
    let a = recs.iter().find(|r| &r[0] == sc.plates[0]).unwrap();
    assert_eq!(&a[1], "黄色");
    assert_eq!(&a[4], "GT06N 终端（GT06N）");
    assert_eq!(&a[9], "中国移动");
    assert_eq!(&a[14], "2");
    assert_eq!(&a[15], "已签字（王喆）");
    let b = recs.iter().find(|r| &r[0] == "豫A51004").unwrap();
    assert_eq!(&b[1], "");
    assert_eq!(&b[15], "未签字");

    // XLSX, read back: the same cells, install times as real date-times
    let res = app.get(&around_today("&format=xlsx"), &sc.s.agent).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(&bytes[..2], b"PK", "a zip");
    use calamine::{Data, DataType, Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("安装台账").unwrap();
    let sheet: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(sheet.len(), rows.len() + 1);
    for (i, h) in headers.iter().enumerate() {
        assert_eq!(sheet[0][i].get_string(), Some(*h));
    }
    for (x, r) in sheet[1..].iter().zip(&rows) {
        assert_eq!(x[0].get_string(), r["plate_no"].as_str());
        assert_eq!(x[5].get_string(), r["imei"].as_str(), "IMEI as text");
        assert_eq!(x[7].get_string(), r["iccid"].as_str(), "ICCID as text");
        assert_eq!(x[6].get_string(), r["terminal_808_id"].as_str());
        let t = x[11]
            .as_datetime()
            .unwrap_or_else(|| panic!("a date-time: {:?}", x[11]));
        assert!(
            (t - china(r)).num_milliseconds().abs() < 1000,
            "{t} is the China time of {}",
            r["installed_at"]
        );
    }
}

#[tokio::test]
async fn the_period_is_china_days_of_the_install_time_and_a_customer_narrows_it() {
    let sc = scene().await;
    let app = &sc.s.app;
    // 2026-03-01 23:59:59 and 2026-03-02 00:00:00 in Beijing
    set_done_at(app, &sc.lines[0], utc("2026-03-01 15:59:59"));
    set_done_at(app, &sc.lines[1], utc("2026-03-01 16:00:00"));
    set_done_at(app, &sc.line_b, utc("2026-03-31 15:59:59"));
    let lines_of = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .map(|r| r["line_id"].as_str().unwrap().to_string())
            .collect()
    };
    let get = |from: &str, to: &str, extra: &str| format!("{LEDGER}?from={from}&to={to}{extra}");
    let m = &sc.s.mgr;
    let day1 = ledger(app, &get("2026-03-01", "2026-03-01", ""), m).await;
    assert_eq!(lines_of(&day1), [sc.lines[0].as_str()]);
    let day2 = ledger(app, &get("2026-03-02", "2026-03-02", ""), m).await;
    assert_eq!(lines_of(&day2), [sc.lines[1].as_str()]);
    assert_eq!(day2[0]["installed_at"], "2026-03-01T16:00:00.000Z");
    let march = ledger(app, &get("2026-03-01", "2026-03-31", ""), m).await;
    assert_eq!(
        lines_of(&march),
        [
            sc.lines[0].as_str(),
            sc.lines[1].as_str(),
            sc.line_b.as_str()
        ]
    );
    assert!(
        ledger(app, &get("2026-02-01", "2026-02-28", ""), m)
            .await
            .is_empty()
    );
    assert!(
        ledger(app, &get("2026-04-01", "2026-04-01", ""), m)
            .await
            .is_empty()
    );
    // a whole year is one period, a leap year too (366 days)
    for (from, to) in [("2026-01-01", "2026-12-31"), ("2028-01-01", "2028-12-31")] {
        let n = ledger(app, &get(from, to, ""), m).await.len();
        assert_eq!(n, if from.starts_with("2026") { 3 } else { 0 });
    }

    // a customer's vehicles only
    let a = format!("&customer_id={}", sc.s.customer);
    let rows = ledger(app, &get("2026-03-01", "2026-03-31", &a), m).await;
    assert_eq!(
        lines_of(&rows),
        [sc.lines[0].as_str(), sc.lines[1].as_str()]
    );
    let b = format!("&customer_id={}", sc.customer_b);
    let rows = ledger(app, &get("2026-03-01", "2026-03-31", &b), m).await;
    assert_eq!(lines_of(&rows), [sc.line_b.as_str()]);
    // the CSV follows the same filters
    let res = app
        .get(
            &get("2026-03-01", "2026-03-31", &format!("{b}&format=csv")),
            m,
        )
        .await;
    let bytes = res.bytes().await.unwrap();
    let recs: Vec<csv::StringRecord> = csv::Reader::from_reader(&bytes[3..])
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(&recs[0][0], "豫A51004");
    assert_eq!(&recs[0][11], "2026-03-31 23:59:59");
}

#[tokio::test]
async fn refusals_say_why_and_change_nothing() {
    let sc = scene().await;
    let app = &sc.s.app;
    let m = &sc.s.mgr;
    let (_, fin) = app.user("finance", &app.zz.id).await;
    let before = app.snapshot();
    let refused = |query: &str| format!("{LEDGER}?{query}");
    for (query, field, code) in [
        ("to=2026-03-01", "from", "required"),
        ("from=2026-03-01", "to", "required"),
        ("from=2026-3-1x&to=2026-03-01", "from", "invalid_format"),
        ("from=2026-02-30&to=2026-03-01", "from", "invalid_format"),
        ("from=1999-12-31&to=2000-01-01", "from", "out_of_range"),
        ("from=2026-03-02&to=2026-03-01", "from", "after_to"),
        // 367 days, both ends counted
        ("from=2026-01-01&to=2027-01-02", "to", "too_long"),
        ("from=2027-12-31&to=2028-12-31", "to", "too_long"),
    ] {
        let p = assert_problem(
            app.get(&refused(query), m).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&p), [field], "{query}: {p}");
        assert_eq!(p["errors"][0]["code"], code, "{query}: {p}");
    }
    // both days missing: both reported at once
    let p = assert_problem(
        app.get(LEDGER, m).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["from", "to"]);
    let p = assert_problem(
        app.get(&around_today("&format=pdf"), m).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "invalid_choice");

    // technicians and finance do not read the ledger; nor its pages
    for token in [&sc.s.lead.token, &fin] {
        assert_problem(
            app.get(&around_today(""), token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        // before anything is read: even without a period
        assert_problem(
            app.get(LEDGER, token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            app.get(&format!("{LEDGER}/{}/pdf", sc.lines[0]), token)
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let res = app
        .client
        .get(app.url(&around_today("")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.assert_unchanged_because(&before, "a refused ledger read");

    // another center's customer is as missing as a missing one
    let bj_customer = id_of(
        &app.create_customer(&app.admin, &app.bj.id, "北京顺达客运有限公司")
            .await,
    );
    let before_bj = app.snapshot();
    for id in [bj_customer.as_str(), "no-such-customer"] {
        assert_problem(
            app.get(&around_today(&format!("&customer_id={id}")), m)
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // the admin sees it (and nothing is installed for it)
    let rows = ledger(
        app,
        &around_today(&format!("&customer_id={bj_customer}")),
        &app.admin,
    )
    .await;
    assert!(rows.is_empty());
    app.assert_unchanged_because(&before_bj, "a ledger read of another center's customer");
}

#[tokio::test]
async fn a_vehicles_page_prints_its_plate_terminal_photos_and_signature() {
    let sc = scene().await;
    let app = &sc.s.app;
    let path = format!("{LEDGER}/{}/pdf", sc.lines[0]);
    let pdf = get_pdf(app, &path, &sc.s.mgr).await;
    assert!(
        pdf.missing.is_none(),
        "every character has a font: {:?}",
        pdf.missing
    );
    assert_eq!(pdf.pages, 1, "one page per vehicle");
    for needle in [
        "车辆终端安装档案",
        sc.plates[0],
        &imei(501),
        &iccid(501),
        &format!("0000000{}", msisdn(501)),
        "黄色",
        "GT06N终端（GT06N）",
        "中国移动",
        sc.order["number"].as_str().unwrap(),
        "郑州宇通物流有限公司",
        &sc.installer.replace(' ', ""),
        "首次定位时间",
        "现场照片（2张）",
        "已签字（王喆）",
        "客户签收",
    ] {
        assert!(
            pdf.text.contains(needle),
            "the PDF shows {needle:?}: {}",
            pdf.text
        );
    }
    assert!(
        !pdf.text.contains("图片暂不可用"),
        "the thumbnails come from the object store"
    );
    if let Ok(dir) = std::env::var("LEDGER_PDF_DIR") {
        std::fs::write(format!("{dir}/install-sheet.pdf"), &pdf.bytes).unwrap();
    }
    // the agent and the admin print it too
    for token in [&sc.s.agent, &app.admin] {
        assert_eq!(app.get(&path, token).await.status(), StatusCode::OK);
    }
    // an unsigned vehicle without photos
    let pdf = get_pdf(app, &format!("{LEDGER}/{}/pdf", sc.line_b), &sc.s.agent).await;
    assert!(pdf.text.contains("豫A51004") && pdf.text.contains(&imei(504)));
    assert!(pdf.text.contains("未签字"), "{}", pdf.text);

    // another center's manager, a line not in the ledger (not done), no such line: 404
    let (_, bj_mgr) = app.user("manager", &app.bj.id).await;
    for (token, line) in [
        (&bj_mgr, sc.lines[0].as_str()),
        (&sc.s.mgr, sc.lines[2].as_str()),
        (&sc.s.mgr, "no-such-line"),
    ] {
        assert_problem(
            app.get(&format!("{LEDGER}/{line}/pdf"), token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn a_plate_colour_is_one_of_the_standard_six() {
    let s = zz().await;
    let app = &s.app;
    let v = app
        .created(
            "/api/v1/vehicles",
            &s.agent,
            &json!({"customer_id": s.customer, "plate_no": "粤BD12345", "plate_colour": "green"}),
        )
        .await;
    assert_eq!(v["plate_colour"], "green");
    let path = format!("/api/v1/vehicles/{}", id_of(&v));
    let before = app.snapshot();
    for bad in [json!("pink"), json!("Blue"), json!("蓝")] {
        let p = assert_problem(
            app.patch(
                &path,
                &s.agent,
                Some(version_of(&v)),
                &json!({"plate_colour": bad}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&p), ["plate_colour"]);
        assert_eq!(p["errors"][0]["code"], "invalid_choice");
    }
    let p = assert_problem(
        app.post(
            "/api/v1/vehicles",
            &s.agent,
            &json!({"customer_id": s.customer, "plate_no": "豫A77777", "plate_colour": "purple"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), ["plate_colour"]);
    app.assert_unchanged_because(&before, "a bad plate colour");

    // yellow_green, then cleared with null; the archive shows it
    let v = expect(
        app.patch(
            &path,
            &s.agent,
            Some(version_of(&v)),
            &json!({"plate_colour": "yellow_green"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["plate_colour"], "yellow_green");
    let archive = expect(
        app.get(
            &format!("/api/v1/customers/{}/archive", s.customer),
            &s.agent,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(archive["vehicles"][0]["plate_colour"], "yellow_green");
    let v = expect(
        app.patch(
            &path,
            &s.agent,
            Some(version_of(&v)),
            &json!({"plate_colour": null}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["plate_colour"], Value::Null);
}
