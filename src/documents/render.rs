//! The documents: 安装任务派工单, 维修服务单, 收据, 账单 and 车辆终端安装档案. Each takes a plain
//! model (strings and amounts, already resolved from the database) and lays it out.

use chrono::{NaiveDate, NaiveDateTime};

use super::fonts::FontSet;
use super::layout::{Align, CONTENT_W, Canvas, MARGIN, PAGE_W, Rendered, col};
use crate::domain::money::Fen;

pub use crate::domain::format::{beijing, day, opt_time, yuan};

fn or_dash(s: &Option<String>) -> String {
    s.clone()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "—".into())
}

// ---------------------------------------------------------------- models
//
// The models are serializable: a message's attachment is kept as of its cause (the
// outbox row's snapshot) and printed from it however late it is sent.

/// A signature image in a snapshot: base64 text rather than an array of numbers.
mod png_base64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| {
                base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct LineDoc {
    pub position: i32,
    pub plate_no: String,
    pub driver: Option<String>,
    pub imei: Option<String>,
    pub iccid: Option<String>,
    pub msisdn: Option<String>,
    pub old_imei: Option<String>,
    pub old_iccid: Option<String>,
    pub old_msisdn: Option<String>,
    pub fault_tag: Option<String>,
    pub work: String,
    pub status: String,
    pub not_done_reason: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct PartDoc {
    pub code: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price: Fen,
    pub amount: Fen,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct SignoffDoc {
    pub name: String,
    pub at: Option<NaiveDateTime>,
    #[serde(with = "png_base64")]
    pub image_png: Option<Vec<u8>>,
}

/// A photo from the site on the printed order: its caption (plate and kind), when it was
/// taken, and its thumbnail, read from the object store by whoever prints (none: the
/// caption says so).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PhotoDoc {
    pub caption: String,
    pub taken_at: Option<NaiveDateTime>,
    pub thumb_key: String,
    #[serde(skip)]
    pub thumb: Option<Vec<u8>>,
}

/// 安装任务派工单 or 维修服务单.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct WorkOrderDoc {
    pub install: bool,
    pub number: String,
    pub status: String,
    pub center: String,
    pub customer: String,
    pub site_address: String,
    pub contact: String,
    pub contact_phone: String,
    pub urgency: String,
    pub channel: String,
    pub requested_at: NaiveDateTime,
    pub window: Option<(Option<NaiveDateTime>, Option<NaiveDateTime>)>,
    pub approver: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub technicians: Vec<String>,
    pub scheduled_at: Option<NaiveDateTime>,
    pub arrived_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub notes: Option<String>,
    pub lines: Vec<LineDoc>,
    /// what the technicians wrote about their work: (plate, notes)
    pub tech_notes: Vec<(String, String)>,
    /// every readiness item with whether it was ticked
    pub readiness: Vec<(String, bool)>,
    pub ready_at: Option<NaiveDateTime>,
    // repair
    pub product_model: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub fault_symptoms: Option<String>,
    pub terminal_imei: Option<String>,
    pub warranty: Option<String>,
    pub parts: Vec<PartDoc>,
    pub parts_total: Option<Fen>,
    pub fee: Option<Fen>,
    pub signoff: Option<SignoffDoc>,
    /// photos from the site, as thumbnails (a snapshot keeps their keys, not their bytes)
    #[serde(default)]
    pub photos: Vec<PhotoDoc>,
    /// printed from a snapshot: the moment its content is of
    pub as_of: Option<NaiveDateTime>,
    pub printed_at: NaiveDateTime,
}

/// One thing a receipt's payment is for: a part, the service, a discount, an order of
/// an invoice.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReceiptItemDoc {
    pub name: String,
    pub quantity: Option<i32>,
    pub amount: Fen,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReceiptDoc {
    pub receipt_no: String,
    /// the company that issues it (收款单位)
    pub company: String,
    pub center: String,
    pub payer: String,
    pub customer: String,
    pub order_no: Option<String>,
    pub invoice_no: Option<String>,
    /// what the customer pays for, with its total (empty: nothing itemised)
    pub items: Vec<ReceiptItemDoc>,
    pub items_total: Option<Fen>,
    pub amount: Fen,
    pub method: String,
    pub collector: String,
    pub paid_at: NaiveDateTime,
    /// the reversal, when the payment was reversed: (when, reason)
    pub void: Option<(NaiveDateTime, String)>,
    pub notes: Option<String>,
    pub as_of: Option<NaiveDateTime>,
    pub printed_at: NaiveDateTime,
}

/// 车辆终端安装档案: one vehicle of the install ledger on one page.
pub struct InstallSheetDoc {
    pub center: String,
    pub order_number: String,
    pub customer: String,
    pub plate_no: String,
    /// the colour's Chinese name (蓝色…), none while unknown
    pub plate_colour: Option<String>,
    pub vin: Option<String>,
    /// maker/model: the model's name and code
    pub terminal_model: String,
    pub imei: String,
    pub terminal_808_id: Option<String>,
    pub iccid: Option<String>,
    pub msisdn: Option<String>,
    /// the carrier's Chinese name
    pub carrier: Option<String>,
    pub installer: Option<String>,
    pub installed_at: NaiveDateTime,
    pub first_fix_at: Option<NaiveDateTime>,
    pub photo_count: i64,
    pub signoff: Option<SignoffDoc>,
    /// the line's photos, as thumbnails (filled by whoever prints)
    pub photos: Vec<PhotoDoc>,
    pub printed_at: NaiveDateTime,
}

pub struct InvoiceLineDoc {
    pub order_no: String,
    /// the order's vehicles: "豫A12345、豫A12346 等 5 辆"
    pub plates: String,
    pub day: NaiveDate,
    pub description: String,
    pub amount: Fen,
    pub adjusted: Fen,
    pub due: Fen,
}

pub struct BankDetails {
    pub company: String,
    pub bank: String,
    pub account: String,
}

pub struct InvoiceDoc {
    pub number: String,
    pub center: String,
    pub customer: String,
    pub customer_address: String,
    pub period: (NaiveDate, NaiveDate),
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub lines: Vec<InvoiceLineDoc>,
    pub total: Fen,
    pub paid: Fen,
    pub bank: BankDetails,
    pub printed_at: NaiveDateTime,
}

// ---------------------------------------------------------------- layouts

const QR_SIZE: f32 = 24.0;

/// The top band: title, number, QR code of the number at the right.
fn masthead(cv: &mut Canvas, company: &str, title: &str, number: &str) {
    let top = cv.y;
    cv.qr(PAGE_W - MARGIN - QR_SIZE, top - 2.0, QR_SIZE, number);
    cv.text_in(
        MARGIN,
        CONTENT_W - QR_SIZE,
        top + 4.0,
        9.0,
        company,
        Align::Center,
    );
    cv.y = top + 6.0;
    cv.text_in(
        MARGIN,
        CONTENT_W - QR_SIZE,
        cv.y + 7.0,
        18.0,
        title,
        Align::Center,
    );
    cv.y += 10.0;
    cv.text_in(
        MARGIN,
        CONTENT_W - QR_SIZE,
        cv.y + 4.0,
        10.0,
        &format!("编号：{number}"),
        Align::Center,
    );
    cv.y = cv.y.max(top + QR_SIZE) + 4.0;
}

pub fn work_order(fonts: &FontSet, d: &WorkOrderDoc) -> Rendered {
    let title = if d.install {
        "安装任务派工单"
    } else {
        "维修服务单"
    };
    let mut cv = Canvas::new(fonts, &format!("{title} {}", d.number));
    masthead(&mut cv, &d.center, title, &d.number);

    cv.heading("基本信息");
    let window = match d.window {
        Some((a, b)) => format!("{} 至 {}", opt_time(a), opt_time(b)),
        None => "—".into(),
    };
    let mut f = vec![
        ("状态", d.status.clone()),
        ("服务中心", d.center.clone()),
        ("客户", d.customer.clone()),
        ("紧急程度", d.urgency.clone()),
        ("联系人", d.contact.clone()),
        ("联系电话", d.contact_phone.clone()),
        ("受理渠道", d.channel.clone()),
        ("受理时间", beijing(d.requested_at)),
    ];
    if d.install {
        f.push(("预约时段", window));
    }
    f.push(("审批人", or_dash(&d.approver)));
    f.push(("审批时间", opt_time(d.approved_at)));
    f.push(("预约上门", opt_time(d.scheduled_at)));
    let techs = if d.technicians.is_empty() {
        "—".into()
    } else {
        d.technicians.join("、")
    };
    f.push(("派工技师", techs));
    f.push(("到场时间", opt_time(d.arrived_at)));
    f.push(("完工时间", opt_time(d.completed_at)));
    cv.fields(&f, 2);
    cv.fields(&[("服务地址", d.site_address.clone())], 1);
    if let Some(n) = d.notes.as_ref().filter(|n| !n.trim().is_empty()) {
        cv.fields(&[("备注", n.clone())], 1);
    }

    if !d.install {
        cv.heading("报修与保修");
        cv.fields(
            &[
                ("产品型号", or_dash(&d.product_model)),
                (
                    "购买日期",
                    d.purchase_date.map(day).unwrap_or_else(|| "—".into()),
                ),
                ("终端IMEI", or_dash(&d.terminal_imei)),
                ("保修判定", or_dash(&d.warranty)),
            ],
            2,
        );
        cv.fields(&[("故障现象", or_dash(&d.fault_symptoms))], 1);
    }

    if d.install {
        cv.heading(&format!("安装车辆明细（共 {} 辆）", d.lines.len()));
        let cols = [
            col("序号", 10.0, Align::Center),
            col("车牌号", 21.0, Align::Left),
            col("司机", 17.0, Align::Left),
            col("终端IMEI", 30.0, Align::Left),
            col("SIM卡ICCID", 39.0, Align::Left),
            col("SIM号码", 25.0, Align::Left),
            col("状态", 38.0, Align::Left),
        ];
        let rows: Vec<Vec<String>> = d
            .lines
            .iter()
            .map(|l| {
                let mut status = l.status.clone();
                if let Some(r) = &l.not_done_reason {
                    status = format!("{status}：{r}");
                }
                vec![
                    l.position.to_string(),
                    l.plate_no.clone(),
                    or_dash(&l.driver),
                    or_dash(&l.imei),
                    or_dash(&l.iccid),
                    or_dash(&l.msisdn),
                    status,
                ]
            })
            .collect();
        cv.table(&cols, &rows);
        cv.heading("出发前核对");
        let items: Vec<String> = d
            .readiness
            .iter()
            .map(|(label, ok)| format!("{} {label}", if *ok { "☑" } else { "☐" }))
            .collect();
        let ready = match d.ready_at {
            Some(t) => format!("{}    核对时间：{}", items.join("   "), beijing(t)),
            None => format!("{}    （未核对）", items.join("   ")),
        };
        cv.paragraph(&ready, 9.0);
    } else {
        cv.heading("处理记录");
        let cols = [
            col("车牌号", 20.0, Align::Left),
            col("处理", 22.0, Align::Left),
            col("原终端 / 新终端 IMEI", 33.0, Align::Left),
            col("原SIM / 新SIM ICCID", 42.0, Align::Left),
            col("返修标签", 35.0, Align::Left),
            col("状态", 28.0, Align::Left),
        ];
        let rows: Vec<Vec<String>> = d
            .lines
            .iter()
            .map(|l| {
                let terminals = match (&l.old_imei, &l.imei) {
                    (Some(o), Some(n)) => format!("原 {o}\n新 {n}"),
                    (None, Some(n)) => n.clone(),
                    _ => "—".into(),
                };
                let sims = match (&l.old_iccid, &l.iccid) {
                    (Some(o), Some(n)) => {
                        let mut s = format!("原 {o}");
                        if let Some(m) = &l.old_msisdn {
                            s.push_str(&format!(" ({m})"));
                        }
                        s.push_str(&format!("\n新 {n}"));
                        if let Some(m) = &l.msisdn {
                            s.push_str(&format!(" ({m})"));
                        }
                        s
                    }
                    (None, Some(n)) => n.clone(),
                    _ => "—".into(),
                };
                let mut status = l.status.clone();
                if let Some(r) = &l.not_done_reason {
                    status = format!("{status}：{r}");
                }
                vec![
                    l.plate_no.clone(),
                    l.work.clone(),
                    terminals,
                    sims,
                    or_dash(&l.fault_tag),
                    status,
                ]
            })
            .collect();
        cv.table(&cols, &rows);
    }

    if !d.tech_notes.is_empty() {
        cv.heading("技师处理说明");
        let cols = [
            col("车牌号", 30.0, Align::Left),
            col("处理说明", 150.0, Align::Left),
        ];
        let rows: Vec<Vec<String>> = d
            .tech_notes
            .iter()
            .map(|(plate, n)| vec![plate.clone(), n.clone()])
            .collect();
        cv.table(&cols, &rows);
    }

    // what the customer pays for, on both kinds (an install's parts are charged too)
    if !d.install || !d.parts.is_empty() || d.fee.is_some() {
        if !d.parts.is_empty() {
            cv.heading("使用配件");
            let cols = [
                col("编码", 28.0, Align::Left),
                col("名称", 70.0, Align::Left),
                col("数量", 18.0, Align::Right),
                col("单价", 32.0, Align::Right),
                col("金额", 32.0, Align::Right),
            ];
            let rows: Vec<Vec<String>> = d
                .parts
                .iter()
                .map(|p| {
                    vec![
                        p.code.clone(),
                        p.name.clone(),
                        p.quantity.to_string(),
                        yuan(p.unit_price),
                        yuan(p.amount),
                    ]
                })
                .collect();
            cv.table(&cols, &rows);
        }
        cv.heading("费用");
        let fee = match d.fee {
            Some(f) => format!("{}（大写：人民币{}）", yuan(f), f.to_chinese_capital()),
            None => "完工时结算".into(),
        };
        cv.fields(
            &[
                (
                    "配件合计",
                    d.parts_total.map(yuan).unwrap_or_else(|| "—".into()),
                ),
                ("应收费用", fee),
            ],
            1,
        );
    }

    photos(&mut cv, &d.photos);
    signoff(&mut cv, d.signoff.as_ref());
    let footer = format!(
        "{} {}{} · 打印时间 {}",
        title,
        d.number,
        as_of(d.as_of),
        beijing(d.printed_at)
    );
    cv.finish(&footer)
}

/// ` · 内容截至 2026-12-05 10:00` for a document printed from a snapshot.
fn as_of(t: Option<NaiveDateTime>) -> String {
    t.map(|t| format!(" · 内容截至 {}", beijing(t)))
        .unwrap_or_default()
}

/// 现场照片: thumbnails three to a row, each with its caption and time; a row never
/// splits across pages.
fn photos(cv: &mut Canvas, list: &[PhotoDoc]) {
    if list.is_empty() {
        return;
    }
    const PER_ROW: usize = 3;
    let gap = 4.0;
    let w = (CONTENT_W - gap * (PER_ROW as f32 - 1.0)) / PER_ROW as f32;
    let img_h = w * 0.75;
    let row_h = img_h + 10.0;
    cv.ensure(8.0 + row_h);
    cv.heading(&format!("现场照片（{} 张）", list.len()));
    for row in list.chunks(PER_ROW) {
        cv.ensure(row_h);
        let top = cv.y + 1.0;
        for (i, p) in row.iter().enumerate() {
            let x = MARGIN + i as f32 * (w + gap);
            let printed = p
                .thumb
                .as_deref()
                .is_some_and(|b| cv.image(x, top, w, img_h, b));
            if !printed {
                cv.fill_rect(x, top, w, img_h, 0.93);
                cv.text_in(
                    x,
                    w,
                    top + img_h / 2.0,
                    8.0,
                    "（图片暂不可用，见系统记录）",
                    Align::Center,
                );
            }
            let caption = match p.taken_at {
                Some(t) => format!("{} · {}", p.caption, beijing(t)),
                None => p.caption.clone(),
            };
            cv.text_in(x, w, top + img_h + 5.0, 7.5, &caption, Align::Left);
        }
        cv.y = top + row_h;
    }
}

fn signoff(cv: &mut Canvas, s: Option<&SignoffDoc>) {
    // heading, name and time, and the signature image: kept together
    cv.ensure(45.0);
    cv.heading("客户签收");
    match s {
        None => {
            cv.fields(
                &[("签收人", "（未签收）".into()), ("签收时间", "—".into())],
                2,
            );
        }
        Some(s) => {
            cv.fields(
                &[("签收人", s.name.clone()), ("签收时间", opt_time(s.at))],
                2,
            );
            if let Some(img) = &s.image_png {
                let top = cv.y + 1.0;
                if cv.image(MARGIN + 21.0, top, 60.0, 22.0, img) {
                    cv.y = top + 23.0;
                } else {
                    // never silently left out
                    cv.fields(&[("签名", "（签名图片无法打印，见系统记录）".into())], 1);
                }
            }
        }
    }
}

/// 车辆终端安装档案: the ledger's fields as a table, the line's photos as thumbnails and the
/// customer's signature.
pub fn install_sheet(fonts: &FontSet, d: &InstallSheetDoc) -> Rendered {
    let title = "车辆终端安装档案";
    let mut cv = Canvas::new(fonts, &format!("{title} {}", d.plate_no));
    masthead(&mut cv, &d.center, title, &d.order_number);
    cv.heading("车辆与终端");
    let signed = match &d.signoff {
        Some(s) => format!("已签字（{}）", s.name),
        None => "未签字".into(),
    };
    let fields: [(&str, String); 16] = [
        ("车牌号", d.plate_no.clone()),
        ("车牌颜色", or_dash(&d.plate_colour)),
        ("VIN", or_dash(&d.vin)),
        ("客户", d.customer.clone()),
        ("终端厂家/型号", d.terminal_model.clone()),
        ("IMEI", d.imei.clone()),
        ("808终端号", or_dash(&d.terminal_808_id)),
        ("ICCID", or_dash(&d.iccid)),
        ("MSISDN", or_dash(&d.msisdn)),
        ("运营商", or_dash(&d.carrier)),
        ("安装人", or_dash(&d.installer)),
        ("安装时间", beijing(d.installed_at)),
        ("首次定位时间", opt_time(d.first_fix_at)),
        ("工单号", d.order_number.clone()),
        ("照片数", d.photo_count.to_string()),
        ("客户签字", signed),
    ];
    let cols = [
        col("项目", 26.0, Align::Left),
        col("内容", 64.0, Align::Left),
        col("项目", 26.0, Align::Left),
        col("内容", 64.0, Align::Left),
    ];
    let rows: Vec<Vec<String>> = fields
        .chunks(2)
        .map(|pair| {
            pair.iter()
                .flat_map(|(k, v)| [k.to_string(), v.clone()])
                .collect()
        })
        .collect();
    cv.table(&cols, &rows);
    photos(&mut cv, &d.photos);
    signoff(&mut cv, d.signoff.as_ref());
    let footer = format!(
        "{title} {} · {} · 打印时间 {}",
        d.plate_no,
        d.order_number,
        beijing(d.printed_at)
    );
    cv.finish(&footer)
}

pub fn receipt(fonts: &FontSet, d: &ReceiptDoc) -> Rendered {
    let mut cv = Canvas::new(fonts, &format!("收据 {}", d.receipt_no));
    masthead(&mut cv, &d.company, "收  据", &d.receipt_no);
    if let Some((at, reason)) = &d.void {
        let size = 13.0;
        let lh = 6.5;
        let lines = cv.wrap(
            &format!("作废（已冲正 {}）：{reason}", beijing(*at)),
            size,
            CONTENT_W - 6.0,
        );
        let h = lines.len() as f32 * lh + 4.0;
        cv.ensure(h);
        cv.fill_rect(MARGIN, cv.y, CONTENT_W, h, 0.88);
        for (i, l) in lines.iter().enumerate() {
            let base = cv.y + 2.0 + lh * (i as f32 + 0.8);
            cv.text_in(MARGIN + 3.0, CONTENT_W - 6.0, base, size, l, Align::Center);
        }
        cv.y += h + 3.0;
    }
    cv.heading("收款信息");
    let mut f = vec![
        ("收款单位", d.company.clone()),
        ("服务中心", d.center.clone()),
        ("交款人", d.payer.clone()),
        ("客户", d.customer.clone()),
    ];
    if let Some(o) = &d.order_no {
        f.push(("工单号", o.clone()));
    }
    if let Some(i) = &d.invoice_no {
        f.push(("账单号", i.clone()));
    }
    f.push(("收款方式", d.method.clone()));
    f.push(("收款人", d.collector.clone()));
    f.push(("收款时间", beijing(d.paid_at)));
    cv.fields(&f, 2);
    if !d.items.is_empty() {
        cv.heading("收费项目");
        let cols = [
            col("项目", 110.0, Align::Left),
            col("数量", 25.0, Align::Right),
            col("金额", 45.0, Align::Right),
        ];
        let mut rows: Vec<Vec<String>> = d
            .items
            .iter()
            .map(|i| {
                vec![
                    i.name.clone(),
                    i.quantity.map(|q| q.to_string()).unwrap_or_default(),
                    yuan(i.amount),
                ]
            })
            .collect();
        if let Some(t) = d.items_total {
            rows.push(vec!["应收合计".into(), String::new(), yuan(t)]);
        }
        cv.table(&cols, &rows);
    }
    cv.heading("金额");
    cv.fields(
        &[
            ("金额（小写）", yuan(d.amount)),
            (
                "金额（大写）",
                format!("人民币{}", d.amount.to_chinese_capital()),
            ),
        ],
        1,
    );
    if let Some(n) = d.notes.as_ref().filter(|n| !n.trim().is_empty()) {
        cv.fields(&[("备注", n.clone())], 1);
    }
    cv.y += 8.0;
    cv.fields(
        &[
            ("收款单位（盖章）", String::new()),
            ("经手人", d.collector.clone()),
        ],
        2,
    );
    let footer = format!(
        "收据 {}{} · 打印时间 {}",
        d.receipt_no,
        as_of(d.as_of),
        beijing(d.printed_at)
    );
    cv.finish(&footer)
}

pub fn invoice(fonts: &FontSet, d: &InvoiceDoc) -> Rendered {
    let mut cv = Canvas::new(fonts, &format!("账单 {}", d.number));
    masthead(&mut cv, &d.bank.company, "账  单", &d.number);
    cv.heading("客户与账期");
    cv.fields(
        &[
            ("客户", d.customer.clone()),
            ("服务中心", d.center.clone()),
            (
                "账期",
                format!("{} 至 {}", day(d.period.0), day(d.period.1)),
            ),
            ("开具日期", day(d.issue_date)),
            ("付款期限", day(d.due_date)),
            ("工单数", d.lines.len().to_string()),
        ],
        2,
    );
    if !d.customer_address.trim().is_empty() {
        cv.fields(&[("客户地址", d.customer_address.clone())], 1);
    }
    cv.heading("费用明细");
    let cols = [
        col("工单号", 40.0, Align::Left),
        col("完工日期", 22.0, Align::Center),
        col("说明（车牌）", 48.0, Align::Left),
        col("费用", 25.0, Align::Right),
        col("减免", 20.0, Align::Right),
        col("应付", 25.0, Align::Right),
    ];
    let rows: Vec<Vec<String>> = d
        .lines
        .iter()
        .map(|l| {
            vec![
                l.order_no.clone(),
                day(l.day),
                if l.plates.is_empty() {
                    l.description.clone()
                } else {
                    format!("{}\n{}", l.description, l.plates)
                },
                yuan(l.amount),
                yuan(l.adjusted),
                yuan(l.due),
            ]
        })
        .collect();
    cv.table(&cols, &rows);
    let balance = Fen(d.total.0 - d.paid.0);
    cv.heading("合计");
    cv.fields(
        &[
            (
                "本期应付",
                format!(
                    "{}（大写：人民币{}）",
                    yuan(d.total),
                    d.total.to_chinese_capital()
                ),
            ),
            ("已付", yuan(d.paid)),
            (
                "未付余额",
                format!(
                    "{}（大写：人民币{}）",
                    yuan(balance),
                    balance.to_chinese_capital()
                ),
            ),
            ("付款期限", day(d.due_date)),
        ],
        1,
    );
    cv.heading("汇款信息");
    cv.fields(
        &[
            ("户名", d.bank.company.clone()),
            ("开户行", d.bank.bank.clone()),
            ("账号", d.bank.account.clone()),
            ("汇款备注", d.number.clone()),
        ],
        2,
    );
    let footer = format!("账单 {} · 打印时间 {}", d.number, beijing(d.printed_at));
    cv.finish(&footer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_groups_thousands() {
        assert_eq!(yuan(Fen(0)), "¥0.00");
        assert_eq!(yuan(Fen(12_800)), "¥128.00");
        assert_eq!(yuan(Fen(123_456_789)), "¥1,234,567.89");
        assert_eq!(yuan(Fen(-100_000)), "-¥1,000.00");
    }

    #[test]
    fn times_show_in_beijing() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(17, 30, 0)
            .unwrap();
        assert_eq!(beijing(t), "2026-11-27 01:30");
    }
}
