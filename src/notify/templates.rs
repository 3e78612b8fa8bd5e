//! The e-mails, in Chinese, as plain text and HTML. Pure functions of the facts.

use crate::domain::format::{beijing, yuan};
use crate::domain::money::Fen;

/// What the order messages say about an order.
pub struct OrderFacts {
    pub number: String,
    /// 安装任务派工单 / 维修服务单
    pub title: &'static str,
    /// 安装 / 维修
    pub kind: &'static str,
    pub center: String,
    pub customer: String,
    pub address: String,
    pub contact: String,
    pub contact_phone: String,
    pub urgent: bool,
    pub requested_at: chrono::NaiveDateTime,
    pub scheduled_at: Option<chrono::NaiveDateTime>,
    pub deadline: Option<chrono::NaiveDateTime>,
    pub technicians: Vec<String>,
    pub vehicles: usize,
    pub completed_at: Option<chrono::NaiveDateTime>,
    pub fee: Option<Fen>,
    pub fault: Option<String>,
}

pub struct PaymentFacts {
    pub receipt_no: String,
    pub center: String,
    pub customer: String,
    pub payer: String,
    pub order_no: Option<String>,
    pub amount: Fen,
    pub method: String,
    pub collector: String,
    pub paid_at: chrono::NaiveDateTime,
}

/// A composed message.
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds the text and HTML bodies from a greeting, a lead paragraph, label–value rows
/// and a closing line.
fn compose(
    subject: String,
    greeting: &str,
    lead: &str,
    rows: &[(&str, String)],
    closing: &str,
) -> Mail {
    let mut text = format!("{greeting}\n\n{lead}\n\n");
    for (k, v) in rows {
        text.push_str(&format!("{k}：{v}\n"));
    }
    text.push_str(&format!(
        "\n{closing}\n\n—— 本邮件由派工系统自动发送，请勿直接回复。\n"
    ));
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:'PingFang SC','Microsoft YaHei',sans-serif;color:#222\">",
    );
    html.push_str(&format!(
        "<p>{}</p><p>{}</p><table style=\"border-collapse:collapse\">",
        escape(greeting),
        escape(lead)
    ));
    for (k, v) in rows {
        html.push_str(&format!(
            "<tr><th style=\"text-align:left;padding:2px 12px 2px 0;color:#666;font-weight:normal\">{}</th><td style=\"padding:2px 0\">{}</td></tr>",
            escape(k),
            escape(v)
        ));
    }
    html.push_str(&format!(
        "</table><p>{}</p><p style=\"color:#999;font-size:12px\">本邮件由派工系统自动发送，请勿直接回复。</p></body></html>",
        escape(closing)
    ));
    Mail {
        subject,
        text,
        html,
    }
}

fn when(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(beijing).unwrap_or_else(|| "待定".into())
}

fn techs(f: &OrderFacts) -> String {
    if f.technicians.is_empty() {
        "待定".into()
    } else {
        f.technicians.join("、")
    }
}

fn urgency(f: &OrderFacts) -> String {
    if f.urgent { "紧急" } else { "一般" }.into()
}

/// order submitted → the center's managers
pub fn order_submitted(f: &OrderFacts) -> Mail {
    let mut rows = vec![
        ("工单编号", f.number.clone()),
        ("客户", f.customer.clone()),
        ("服务地址", f.address.clone()),
        ("联系人", format!("{} {}", f.contact, f.contact_phone)),
        ("紧急程度", urgency(f)),
        ("受理时间", beijing(f.requested_at)),
    ];
    if f.vehicles > 1 || f.kind == "安装" {
        rows.push(("车辆数", f.vehicles.to_string()));
    }
    if let Some(fault) = &f.fault {
        rows.push(("故障现象", fault.clone()));
    }
    compose(
        format!(
            "【待审批】{}{} {} · {}",
            if f.urgent { "紧急" } else { "" },
            f.title,
            f.number,
            f.customer
        ),
        "您好：",
        &format!("{}有一张新的{}等待您审批。", f.center, f.title),
        &rows,
        "请登录派工系统审批并派工。",
    )
}

/// assigned → the lead technician
pub fn order_assigned(f: &OrderFacts, technician: &str) -> Mail {
    compose(
        format!(
            "【新派工】{} · {} · 预约 {}",
            f.number,
            f.customer,
            when(f.scheduled_at)
        ),
        &format!("{technician}，您好："),
        &format!("您有一张新的{}，请及时接单并做好出发前核对。", f.title),
        &[
            ("工单编号", f.number.clone()),
            ("客户", f.customer.clone()),
            ("服务地址", f.address.clone()),
            ("现场联系人", format!("{} {}", f.contact, f.contact_phone)),
            ("预约上门", when(f.scheduled_at)),
            ("紧急程度", urgency(f)),
            ("派工技师", techs(f)),
        ],
        "请登录手机派工系统查看详情。",
    )
}

/// scheduled → the customer's contact, with the work order attached
pub fn order_scheduled(f: &OrderFacts, contact: &str) -> Mail {
    compose(
        format!(
            "【上门预约】您的{}服务已安排 · {}",
            f.kind,
            when(f.scheduled_at)
        ),
        &format!("尊敬的{contact}：您好！"),
        &format!(
            "您的{}服务已安排，技师将于 {} 上门，{}附后。",
            f.kind,
            when(f.scheduled_at),
            f.title
        ),
        &[
            ("工单编号", f.number.clone()),
            ("服务地址", f.address.clone()),
            ("预约上门", when(f.scheduled_at)),
            ("服务技师", techs(f)),
            ("服务中心", f.center.clone()),
        ],
        "如需改约，请致电服务中心。感谢您的支持！",
    )
}

/// completed → the customer's contact, with the work order attached
pub fn order_completed(f: &OrderFacts, contact: &str) -> Mail {
    let fee = match f.fee {
        Some(Fen(0)) => "免费".to_string(),
        Some(x) => format!("{}（{}）", yuan(x), x.to_chinese_capital()),
        None => "—".to_string(),
    };
    compose(
        format!("【完工通知】{} {} 已完工", f.title, f.number),
        &format!("尊敬的{contact}：您好！"),
        &format!("您的{}服务已完工，{}附后，请查收。", f.kind, f.title),
        &[
            ("工单编号", f.number.clone()),
            ("服务地址", f.address.clone()),
            ("完工时间", when(f.completed_at)),
            ("服务技师", techs(f)),
            ("费用", fee),
        ],
        "我们的客服将对本次服务进行回访，感谢您的支持！",
    )
}

/// payment → the customer, with the receipt attached
pub fn payment_received(p: &PaymentFacts, contact: &str) -> Mail {
    let mut rows = vec![
        ("收据编号", p.receipt_no.clone()),
        (
            "金额",
            format!("{}（{}）", yuan(p.amount), p.amount.to_chinese_capital()),
        ),
        ("交款人", p.payer.clone()),
        ("收款方式", p.method.clone()),
        ("收款人", p.collector.clone()),
        ("收款时间", beijing(p.paid_at)),
    ];
    if let Some(o) = &p.order_no {
        rows.insert(1, ("工单编号", o.clone()));
    }
    compose(
        format!("【收款回执】收据 {} · {}", p.receipt_no, yuan(p.amount)),
        &format!("尊敬的{contact}：您好！"),
        &format!("{}已收到{}的付款，收据附后。", p.center, p.customer),
        &rows,
        "如有疑问，请致电服务中心。",
    )
}

/// a deadline passed → the center's managers
pub fn deadline_passed(f: &OrderFacts) -> Mail {
    compose(
        format!(
            "【超时提醒】{} · {} 预约时间已过，技师未到场",
            f.number, f.customer
        ),
        "您好：",
        &format!(
            "{} {} 的预约时间已过（{}），技师尚未到场，请跟进。",
            f.title,
            f.number,
            when(f.deadline)
        ),
        &[
            ("工单编号", f.number.clone()),
            ("客户", f.customer.clone()),
            ("服务地址", f.address.clone()),
            ("联系人", format!("{} {}", f.contact, f.contact_phone)),
            ("预约上门", when(f.scheduled_at)),
            ("派工技师", techs(f)),
        ],
        "请登录派工系统处理。",
    )
}

/// a ticket's reply deadline passed without a reply → the center's managers
pub fn ticket_breached(
    kind: &str,
    number: &str,
    customer: &str,
    subject: &str,
    due: chrono::NaiveDateTime,
    owner: &str,
) -> Mail {
    compose(
        format!("【回复超时】{kind} {number} · {customer}"),
        "您好：",
        &format!(
            "{kind} {number} 已超过回复时限（{}）仍未回复，请督办。",
            beijing(due)
        ),
        &[
            ("客户", customer.to_string()),
            ("主题", subject.to_string()),
            ("首问负责人", owner.to_string()),
        ],
        "请登录派工系统处理。",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> OrderFacts {
        OrderFacts {
            number: "WX-ZZ-2026-000001".into(),
            title: "维修服务单",
            kind: "维修",
            center: "郑州服务中心".into(),
            customer: "<b>顺丰</b> & Co".into(),
            address: "郑州市金水路1号".into(),
            contact: "张喆".into(),
            contact_phone: "13800138000".into(),
            urgent: true,
            requested_at: chrono::DateTime::from_timestamp(1_780_000_000, 0)
                .unwrap()
                .naive_utc(),
            scheduled_at: None,
            deadline: None,
            technicians: vec![],
            vehicles: 1,
            completed_at: None,
            fee: Some(Fen(12_800)),
            fault: Some("不定位".into()),
        }
    }

    #[test]
    fn html_escapes_what_users_typed() {
        let m = order_submitted(&facts());
        assert!(m.html.contains("&lt;b&gt;顺丰&lt;/b&gt; &amp; Co"));
        assert!(!m.html.contains("<b>顺丰"));
        assert!(m.text.contains("<b>顺丰</b> & Co"));
        assert!(
            m.subject
                .starts_with("【待审批】紧急维修服务单 WX-ZZ-2026-000001")
        );
    }

    #[test]
    fn completion_states_the_fee_in_capitals() {
        let m = order_completed(&facts(), "张喆");
        assert!(m.text.contains("¥128.00（壹佰贰拾捌元整）"), "{}", m.text);
        assert!(m.text.starts_with("尊敬的张喆：您好！"));
    }
}
