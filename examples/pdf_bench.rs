//! PDF generation benchmark: a one-page install work order, a 60-vehicle install order,
//! a repair order with swaps, a receipt and an invoice, each printed N times; prints p50
//! and min per document, pages per second for the 60-vehicle order, and the sizes.
//!
//!   cargo run --release --example pdf_bench -- [runs] [out-dir]
//!
//! With an out-dir the PDFs are written there (to look at, or to `qpdf --check`).

use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use dispatch::documents::fonts::FontSet;
use dispatch::documents::render::{
    self, BankDetails, InvoiceDoc, InvoiceLineDoc, LineDoc, PartDoc, PhotoDoc, ReceiptDoc,
    ReceiptItemDoc, SignoffDoc, WorkOrderDoc,
};
use dispatch::domain::ids::luhn_check_digit;
use dispatch::domain::money::Fen;

fn t(h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 26)
        .unwrap()
        .and_hms_opt(h, m, 0)
        .unwrap()
}

fn imei(n: u64) -> String {
    let body = format!("86{:012}", 100_000_000 + n);
    format!("{body}{}", luhn_check_digit(&body))
}

fn iccid(n: u64) -> String {
    let body = format!("898600{:013}", 1_000_000 + n);
    format!("{body}{}", luhn_check_digit(&body))
}

const PROVINCES: [&str; 6] = ["豫", "京", "鄂", "粤", "沪", "川"];

pub fn install_order(vehicles: usize) -> WorkOrderDoc {
    let lines = (0..vehicles)
        .map(|i| LineDoc {
            position: i as i32 + 1,
            plate_no: format!("{}A{:05}", PROVINCES[i % 6], 10_000 + i),
            driver: Some(["张喆", "王堃", "李犇", "赵珞"][i % 4].to_string()),
            imei: Some(imei(i as u64)),
            iccid: Some(iccid(i as u64)),
            msisdn: Some(format!("1440{:07}", 1_000_000 + i)),
            old_imei: None,
            old_iccid: None,
            old_msisdn: None,
            fault_tag: None,
            work: "安装".into(),
            status: if i % 7 == 6 { "未完成" } else { "已完成" }.into(),
            not_done_reason: (i % 7 == 6).then(|| "车辆未到场".to_string()),
        })
        .collect();
    WorkOrderDoc {
        install: true,
        number: "AZ-ZZ-2026-000123".into(),
        status: "已完工".into(),
        center: "郑州服务中心".into(),
        customer: "河南顺丰物流有限公司".into(),
        site_address: "武汉市洪山区珞喻路1037号 停车场B2层".into(),
        contact: "张喆".into(),
        contact_phone: "13800138000".into(),
        urgency: "一般".into(),
        channel: "电话".into(),
        requested_at: t(1, 0),
        window: Some((Some(t(2, 0)), Some(t(6, 0)))),
        approver: Some("王经理".into()),
        approved_at: Some(t(1, 30)),
        technicians: vec!["李犇（主）".into(), "王堃".into()],
        scheduled_at: Some(t(2, 0)),
        arrived_at: Some(t(2, 10)),
        completed_at: Some(t(5, 40)),
        notes: Some("客户要求安装在副驾驶储物箱内侧，线路走原车线束。".into()),
        lines,
        readiness: vec![
            ("信息核实".into(), true),
            ("工具".into(), true),
            ("备件".into(), true),
            ("资料".into(), true),
        ],
        ready_at: Some(t(1, 45)),
        product_model: None,
        purchase_date: None,
        fault_symptoms: None,
        terminal_imei: None,
        warranty: None,
        parts: vec![],
        parts_total: None,
        fee: None,
        photos: Vec::new(),
        signoff: Some(SignoffDoc {
            name: "张喆".into(),
            at: Some(t(5, 38)),
            image_png: None,
        }),
        tech_notes: vec![("豫A30000".into(), "原车线路老化，已更换电源线".into())],
        as_of: None,
        printed_at: t(6, 0),
    }
}

pub fn repair_order() -> WorkOrderDoc {
    let mut d = install_order(1);
    d.install = false;
    d.number = "WX-ZZ-2026-000045".into();
    d.window = None;
    d.product_model = Some("GT06N".into());
    d.purchase_date = NaiveDate::from_ymd_opt(2024, 3, 1);
    d.fault_symptoms = Some("终端不定位，平台显示离线超过48小时".into());
    d.terminal_imei = Some(imei(900));
    d.warranty = Some("已过保修期，收取配件费用（保修至 2025-03-01）".into());
    d.lines = vec![LineDoc {
        position: 1,
        plate_no: "豫A12345".into(),
        driver: Some("王堃".into()),
        imei: Some(imei(901)),
        iccid: Some(iccid(901)),
        msisdn: Some("14401234567".into()),
        old_imei: Some(imei(900)),
        old_iccid: Some(iccid(900)),
        old_msisdn: Some("14407654321".into()),
        fault_tag: Some("豫A12345 / 不定位 / 2026-11-26".into()),
        work: "更换终端、更换SIM卡".into(),
        status: "已完成".into(),
        not_done_reason: None,
    }];
    d.parts = vec![
        PartDoc {
            code: "GT06N".into(),
            name: "GT06N 终端".into(),
            quantity: 1,
            unit_price: Fen(9_800),
            amount: Fen(9_800),
        },
        PartDoc {
            code: "ANT-GPS".into(),
            name: "GPS 天线".into(),
            quantity: 1,
            unit_price: Fen(3_000),
            amount: Fen(3_000),
        },
    ];
    d.parts_total = Some(Fen(12_800));
    d.fee = Some(Fen(12_800));
    d
}

pub fn receipt() -> ReceiptDoc {
    ReceiptDoc {
        receipt_no: "SJ-ZZ-2026-000001".into(),
        company: "中原卫星定位技术服务有限公司".into(),
        center: "郑州服务中心".into(),
        payer: "王堃".into(),
        customer: "河南顺丰物流有限公司".into(),
        order_no: Some("WX-ZZ-2026-000045".into()),
        invoice_no: None,
        items: vec![ReceiptItemDoc {
            name: "GPS 天线（ANT-GPS）".into(),
            quantity: Some(1),
            amount: Fen(12_800),
        }],
        items_total: Some(Fen(12_800)),
        amount: Fen(12_800),
        method: "现金".into(),
        collector: "李犇".into(),
        paid_at: t(5, 45),
        void: None,
        notes: None,
        as_of: None,
        printed_at: t(6, 0),
    }
}

pub fn invoice() -> InvoiceDoc {
    let lines: Vec<InvoiceLineDoc> = (0..12)
        .map(|i| InvoiceLineDoc {
            order_no: format!("WX-ZZ-2026-{:06}", 100 + i),
            plates: format!("豫A{:05}", 10000 + i),
            day: NaiveDate::from_ymd_opt(2026, 10, 1 + i).unwrap(),
            description: "维修服务".into(),
            amount: Fen(12_800 + i as i64 * 100),
            adjusted: Fen(if i == 3 { 1_000 } else { 0 }),
            due: Fen(12_800 + i as i64 * 100 - if i == 3 { 1_000 } else { 0 }),
        })
        .collect();
    let total = Fen(lines.iter().map(|l| l.due.0).sum());
    InvoiceDoc {
        number: "ZD-ZZ-2026-000012".into(),
        center: "郑州服务中心".into(),
        customer: "河南顺丰物流有限公司".into(),
        customer_address: "郑州市金水区花园路10号".into(),
        period: (
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        ),
        issue_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        lines,
        total,
        paid: Fen(50_000),
        bank: BankDetails {
            company: "中原卫星定位技术服务有限公司".into(),
            bank: "中国工商银行郑州金水支行".into(),
            account: "1702 0201 0900 0012 345".into(),
        },
        printed_at: t(6, 0),
    }
}

/// Six thumbnails as the upload makes them (a 1600×1200 photo-like JPEG through
/// `media::photo::process`).
fn six_photos() -> Vec<PhotoDoc> {
    let (w, h) = (1600u32, 1200u32);
    let mut seed: u32 = 0x2468_ace1;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed & 0x1f) as u8;
        image::Rgb([
            ((x * 255 / w) as u8).saturating_add(n),
            ((y * 255 / h) as u8).saturating_add(n),
            128u8.saturating_add(n),
        ])
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    let p =
        dispatch::media::photo::process(jpeg.get_ref(), Default::default(), &Default::default())
            .unwrap();
    ["终端安装位置", "接线及ACC", "SIM卡及标签"]
        .iter()
        .flat_map(|k| ["豫A10000", "豫A10001"].map(|plate| format!("{plate} {k}")))
        .map(|caption| PhotoDoc {
            caption,
            taken_at: Some(t(5, 30)),
            thumb_key: String::new(),
            thumb: Some(p.thumb.clone()),
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let out = args.next();
    let fonts = FontSet::load(std::env::var("DISPATCH_PDF_FONTS").ok().as_deref())
        .expect("a CJK font (apt-get install fonts-wqy-microhei)");
    let one = install_order(3);
    let mut with_photos = install_order(3);
    with_photos.photos = six_photos();
    let sixty = install_order(60);
    let repair = repair_order();
    let rec = receipt();
    let inv = invoice();
    type Job<'a> = (&'a str, Box<dyn Fn() -> dispatch::documents::Rendered + 'a>);
    let jobs: Vec<Job> = vec![
        (
            "install, 3 vehicles (1 page)",
            Box::new(|| render::work_order(&fonts, &one)),
        ),
        (
            "install, 3 vehicles + 6 photos",
            Box::new(|| render::work_order(&fonts, &with_photos)),
        ),
        (
            "install, 60 vehicles",
            Box::new(|| render::work_order(&fonts, &sixty)),
        ),
        (
            "repair with swaps and parts",
            Box::new(|| render::work_order(&fonts, &repair)),
        ),
        ("receipt", Box::new(|| render::receipt(&fonts, &rec))),
        (
            "invoice, 12 orders",
            Box::new(|| render::invoice(&fonts, &inv)),
        ),
    ];
    println!(
        "fonts: {}",
        fonts
            .faces
            .iter()
            .map(|f| f.source.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("{runs} runs per document (after 3 warm-up runs)\n");
    for (i, (name, job)) in jobs.iter().enumerate() {
        for _ in 0..3 {
            job();
        }
        let mut times = Vec::with_capacity(runs);
        let mut last = None;
        for _ in 0..runs {
            let start = Instant::now();
            let r = job();
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            last = Some(r);
        }
        times.sort_by(f64::total_cmp);
        let r = last.expect("ran");
        let p50 = times[times.len() / 2];
        println!(
            "{name:<32} p50 {p50:7.2} ms  min {:7.2} ms  {:>7} bytes  {} page(s)  {:6.1} pages/s{}",
            times[0],
            r.bytes.len(),
            r.pages,
            r.pages as f64 / (p50 / 1000.0),
            if r.missing.is_empty() {
                String::new()
            } else {
                format!("  missing {:?}", r.missing)
            }
        );
        if let Some(dir) = &out {
            std::fs::create_dir_all(dir).expect("out dir");
            std::fs::write(format!("{dir}/{i}.pdf"), &r.bytes).expect("write");
        }
    }
}
