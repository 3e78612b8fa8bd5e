//! Gathers what a document shows from the store, into the plain models of `render`.
//! Callers have already checked that the reader may see the object.

use std::collections::HashMap;

use base64::Engine;

use super::render::{
    BankDetails, InstallSheetDoc, InvoiceDoc, InvoiceLineDoc, LineDoc, PartDoc, PhotoDoc,
    ReceiptDoc, ReceiptItemDoc, SignoffDoc, WorkOrderDoc,
};
use crate::domain::ids::Carrier;
use crate::domain::jt808;
use crate::domain::ledger::PaymentMethod;
use crate::domain::ledger::{AdjustmentKind, AdjustmentStatus};
use crate::domain::money::Fen;
use crate::domain::order::{LineStatus, LineWork, OrderKind, OrderStatus, ReadinessItem};
use crate::domain::registry::PlateColour;
use crate::store::install_ledger::InstallRow;
use crate::store::orders::WorkOrder;
use crate::store::{
    DbConn, StoreResult, centers, customers, equipment, money, now, orders, vehicles,
};

fn name(names: &HashMap<String, String>, id: &Option<String>) -> Option<String> {
    id.as_ref()
        .map(|i| names.get(i).cloned().unwrap_or_else(|| i.clone()))
}

fn urgency_zh(u: &str) -> &'static str {
    match u {
        "urgent" => "紧急",
        _ => "一般",
    }
}

fn channel_zh(c: &str) -> &'static str {
    match c {
        "letter" => "来函",
        "walk_in" => "来访",
        "online" => "网上",
        _ => "电话",
    }
}

/// The PNG bytes of a `data:image/png;base64,…` sign-off, if it decodes.
fn signature_png(data_url: &str) -> Option<Vec<u8>> {
    let (_, b64) = data_url.split_once("base64,")?;
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()
}

pub fn work_order(c: &mut DbConn, order: &WorkOrder) -> StoreResult<WorkOrderDoc> {
    let center = centers::get(c, &order.center_id)?;
    let customer = customers::get_row(c, &order.customer_id)?;
    let lines = orders::lines(c, &order.id)?;
    let assignments = orders::assignments(c, &order.id)?;
    let parts = orders::parts_used(c, &order.id)?;

    let vehicle_ids: Vec<&str> = lines.iter().map(|l| l.vehicle_id.as_str()).collect();
    let plates = vehicles::plates(c, &vehicle_ids)?;
    let drivers: HashMap<String, String> = vehicles::drivers_of(c, &vehicle_ids)?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let mut terminal_ids: Vec<&str> = lines
        .iter()
        .flat_map(|l| [l.terminal_id.as_deref(), l.old_terminal_id.as_deref()])
        .flatten()
        .collect();
    terminal_ids.extend(order.terminal_id.as_deref());
    let imeis = equipment::imeis(c, &terminal_ids)?;
    let sim_ids: Vec<&str> = lines
        .iter()
        .flat_map(|l| [l.sim_id.as_deref(), l.old_sim_id.as_deref()])
        .flatten()
        .collect();
    let sims = equipment::sim_numbers(c, &sim_ids)?;
    let mut user_ids: Vec<&str> = assignments
        .iter()
        .map(|a| a.technician_id.as_str())
        .collect();
    user_ids.extend(order.approved_by.as_deref());
    let users = crate::store::names::user_names(c, &user_ids)?;

    let kind = crate::store::stored("order kind", &order.kind, OrderKind::parse)?;
    let status = OrderStatus::parse(&order.status)
        .map(|s| s.label_zh().to_string())
        .unwrap_or_else(|| order.status.clone());
    let imei = |id: &Option<String>| id.as_ref().and_then(|i| imeis.get(i).cloned());
    let sim = |id: &Option<String>| id.as_ref().and_then(|i| sims.get(i).cloned());
    let line_docs = lines
        .iter()
        .map(|l| {
            let (iccid, msisdn) = sim(&l.sim_id).unzip();
            let (old_iccid, old_msisdn) = sim(&l.old_sim_id).unzip();
            let work = l
                .work_list()
                .iter()
                .map(|w| LineWork::parse(w).map_or(w.as_str(), |w| w.label_zh()))
                .collect::<Vec<_>>()
                .join("、");
            LineDoc {
                position: l.position,
                plate_no: plates.get(&l.vehicle_id).cloned().unwrap_or_default(),
                driver: l.driver_id.as_ref().and_then(|d| drivers.get(d).cloned()),
                imei: imei(&l.terminal_id),
                iccid,
                msisdn,
                old_imei: imei(&l.old_terminal_id),
                old_iccid,
                old_msisdn,
                fault_tag: l.fault_tag.clone(),
                work: if work.is_empty() { "—".into() } else { work },
                status: LineStatus::parse(&l.status)
                    .map_or(l.status.as_str(), |s| s.label_zh())
                    .to_string(),
                not_done_reason: l.not_done_reason.clone(),
            }
        })
        .collect();
    let tech_notes = lines
        .iter()
        .filter_map(|l| {
            let n = l
                .notes
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())?;
            Some((
                plates.get(&l.vehicle_id).cloned().unwrap_or_default(),
                n.to_string(),
            ))
        })
        .collect();
    let ticked: Vec<String> = order
        .readiness
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    let readiness = ReadinessItem::ALL
        .iter()
        .map(|i| {
            (
                i.label_zh().to_string(),
                ticked.iter().any(|t| t == i.as_str()),
            )
        })
        .collect();
    let technicians = assignments
        .iter()
        .map(|a| {
            let n = users
                .get(&a.technician_id)
                .cloned()
                .unwrap_or_else(|| a.technician_id.clone());
            if a.is_lead() {
                format!("{n}（主）")
            } else {
                n
            }
        })
        .collect();
    let warranty = order.warranty_in.map(|w| {
        let until = order
            .warranty_ends_on
            .map(|d| format!("（保修至 {}）", d.format("%Y-%m-%d")))
            .unwrap_or_default();
        if w {
            format!("保修期内，免费{until}")
        } else {
            format!("已过保修期，收取配件费用{until}")
        }
    });
    let signoff = order.signoff_name.as_ref().map(|n| SignoffDoc {
        name: n.clone(),
        at: order.signoff_at,
        image_png: order.signoff_image.as_deref().and_then(signature_png),
    });
    Ok(WorkOrderDoc {
        install: kind == OrderKind::Install,
        number: order.number.clone(),
        status,
        center: center.name,
        customer: customer.name,
        site_address: order.site_address.clone(),
        contact: order.contact_name.clone(),
        contact_phone: order.contact_phone.clone(),
        urgency: urgency_zh(&order.urgency).into(),
        channel: channel_zh(&order.channel).into(),
        requested_at: order.requested_at,
        window: (order.window_start.is_some() || order.window_end.is_some())
            .then_some((order.window_start, order.window_end)),
        approver: name(&users, &order.approved_by),
        approved_at: order.approved_at,
        technicians,
        scheduled_at: order.scheduled_at,
        arrived_at: order.arrived_at,
        completed_at: order.completed_at,
        notes: order.notes.clone(),
        lines: line_docs,
        tech_notes,
        readiness,
        ready_at: order.ready_at,
        product_model: order.product_model.clone(),
        purchase_date: order.purchase_date,
        fault_symptoms: order.fault_symptoms.clone(),
        terminal_imei: imei(&order.terminal_id),
        warranty,
        parts: parts
            .iter()
            .map(|p| PartDoc {
                code: p.part_code.clone(),
                name: p.part_name.clone(),
                quantity: p.quantity,
                unit_price: Fen(p.unit_price_fen),
                amount: Fen(p.amount_fen),
            })
            .collect(),
        parts_total: order.parts_total_fen.map(Fen),
        fee: order.fee_fen.map(Fen),
        signoff,
        photos: crate::store::photos::of_order(c, &order.id)?
            .into_iter()
            .map(|p| {
                let plate = p
                    .line_id
                    .as_ref()
                    .and_then(|l| lines.iter().find(|x| &x.id == l))
                    .and_then(|l| plates.get(&l.vehicle_id).cloned())
                    .unwrap_or_else(|| "本单".into());
                let kind = crate::domain::photos::PhotoKind::parse(&p.kind)
                    .map(|k| k.label_zh())
                    .unwrap_or("照片");
                PhotoDoc {
                    caption: format!("{plate} {kind}"),
                    taken_at: p.taken_at,
                    thumb_key: p.thumb_key,
                    thumb: None,
                }
            })
            .collect(),
        as_of: None,
        printed_at: now(),
    })
}

/// A vehicle of the install ledger, with its line's photos (thumbnails left to the
/// printer) and the order's sign-off.
pub fn install_sheet(c: &mut DbConn, row: &InstallRow) -> StoreResult<InstallSheetDoc> {
    let center = centers::get(c, &row.center_id)?;
    let order = orders::get(c, &row.order_id)?;
    let plate_colour = row
        .plate_colour
        .as_deref()
        .map(|v| crate::store::stored("plate colour", v, PlateColour::parse))
        .transpose()?
        .map(|p| p.label_zh().to_string());
    let photos = crate::store::photos::of_line(c, &row.order_id, &row.line_id)?
        .into_iter()
        .map(|p| {
            let kind = crate::domain::photos::PhotoKind::parse(&p.kind)
                .map(|k| k.label_zh())
                .unwrap_or("照片");
            PhotoDoc {
                caption: format!("{} {kind}", row.plate_no),
                taken_at: p.taken_at,
                thumb_key: p.thumb_key,
                thumb: None,
            }
        })
        .collect();
    let signoff = order.signoff_name.as_ref().map(|n| SignoffDoc {
        name: n.clone(),
        at: order.signoff_at,
        image_png: order.signoff_image.as_deref().and_then(signature_png),
    });
    Ok(InstallSheetDoc {
        center: center.name,
        order_number: row.order_number.clone(),
        customer: row.customer_name.clone(),
        plate_no: row.plate_no.clone(),
        plate_colour,
        vin: row.vin.clone(),
        terminal_model: crate::domain::format::terminal_model(
            row.terminal_model_name.as_deref(),
            &row.terminal_model_code,
        ),
        imei: row.imei.clone(),
        terminal_808_id: row.msisdn.as_deref().and_then(jt808::terminal_phone),
        iccid: row.iccid.clone(),
        msisdn: row.msisdn.clone(),
        carrier: row
            .carrier
            .as_deref()
            .map(|v| Carrier::parse(v).map_or(v, |c| c.label_zh()).to_string()),
        installer: row.installer_name.clone(),
        installed_at: row.installed_at,
        first_fix_at: row.first_fix_at,
        photo_count: row.photo_count,
        signoff,
        photos,
        printed_at: now(),
    })
}

/// The vehicles of an order as printed on an invoice line: up to three plates, then how
/// many in all.
fn plates_of_order(c: &mut DbConn, order_id: &str) -> StoreResult<String> {
    let lines = orders::lines(c, order_id)?;
    let ids: Vec<&str> = lines.iter().map(|l| l.vehicle_id.as_str()).collect();
    let plates = vehicles::plates(c, &ids)?;
    let shown: Vec<String> = ids
        .iter()
        .take(3)
        .filter_map(|id| plates.get(*id).cloned())
        .collect();
    let mut s = shown.join("、");
    if ids.len() > 3 {
        s.push_str(&format!(" 等 {} 辆", ids.len()));
    }
    Ok(s)
}

/// What a payment is for: an order's parts (or its service) and approved reductions, or
/// the orders of an invoice; with what was due in all.
fn receipt_items(
    c: &mut DbConn,
    p: &money::Payment,
) -> StoreResult<(Vec<ReceiptItemDoc>, Option<Fen>)> {
    let mut items = Vec::new();
    if let Some(inv) = &p.invoice_id {
        for ch in money::charges_of_invoice(c, inv)? {
            let order = orders::get(c, &ch.order_id)?;
            let plates = plates_of_order(c, &order.id)?;
            items.push(ReceiptItemDoc {
                name: format!("工单 {} {}", order.number, plates)
                    .trim()
                    .to_string(),
                quantity: None,
                amount: Fen(ch.net_fen()),
            });
        }
        let total = money::invoice(c, inv)?.total_fen;
        return Ok((items, Some(Fen(total))));
    }
    let Some(order_id) = &p.order_id else {
        return Ok((items, None));
    };
    let order = orders::get(c, order_id)?;
    let charge = match &p.charge_id {
        Some(id) => Some(money::charge(c, id)?),
        None => money::charge_of_order(c, order_id)?,
    };
    for part in orders::parts_used(c, order_id)? {
        items.push(ReceiptItemDoc {
            name: format!("{}（{}）", part.part_name, part.part_code),
            quantity: Some(part.quantity),
            amount: Fen(part.amount_fen),
        });
    }
    let Some(charge) = charge else {
        return Ok((items, order.fee_fen.map(Fen)));
    };
    let listed: i64 = items.iter().map(|i| i.amount.0).sum();
    if charge.amount_fen != listed {
        // a fee the parts do not account for: the service itself
        let kind = crate::store::stored("order kind", &order.kind, OrderKind::parse)?;
        items.push(ReceiptItemDoc {
            name: match kind {
                OrderKind::Install => "安装服务费".into(),
                OrderKind::Repair => "维修服务费".into(),
            },
            quantity: None,
            amount: Fen(charge.amount_fen - listed),
        });
    }
    for a in money::adjustments(c, &charge.id)? {
        let status = crate::store::stored("adjustment status", &a.status, AdjustmentStatus::parse)?;
        if status == AdjustmentStatus::Approved && a.amount_fen != 0 {
            let kind =
                match crate::store::stored("adjustment kind", &a.kind, AdjustmentKind::parse)? {
                    AdjustmentKind::Waiver => "免收",
                    AdjustmentKind::WriteOff => "核销",
                    _ => "优惠",
                };
            items.push(ReceiptItemDoc {
                name: format!("{kind}：{}", a.reason),
                quantity: None,
                amount: Fen(-a.amount_fen),
            });
        }
    }
    Ok((items, Some(Fen(charge.net_fen()))))
}

pub fn receipt(c: &mut DbConn, p: &money::Payment, company: &str) -> StoreResult<ReceiptDoc> {
    let center = centers::get(c, &p.center_id)?;
    let customer = customers::get_row(c, &p.customer_id)?;
    let users = crate::store::names::user_names(c, &[p.collector_id.as_str()])?;
    let order_no = match &p.order_id {
        Some(id) => Some(orders::get(c, id)?.number),
        None => None,
    };
    let (items, items_total) = receipt_items(c, p)?;
    let invoice_no = match &p.invoice_id {
        Some(id) => Some(money::invoice(c, id)?.number),
        None => None,
    };
    let void = money::reversal_of(c, &p.id)?.map(|r| {
        (
            r.created_at,
            r.reason.unwrap_or_else(|| "已冲正".to_string()),
        )
    });
    Ok(ReceiptDoc {
        receipt_no: p
            .receipt_no
            .clone()
            .unwrap_or_else(|| p.id.chars().take(8).collect()),
        company: company.to_string(),
        center: center.name,
        payer: p.payer_name.clone(),
        customer: customer.name,
        order_no,
        invoice_no,
        items,
        items_total,
        amount: Fen(p.amount_fen),
        method: PaymentMethod::parse(&p.method)
            .map_or(p.method.as_str(), |m| m.label_zh())
            .to_string(),
        collector: users
            .get(&p.collector_id)
            .cloned()
            .unwrap_or_else(|| p.collector_id.clone()),
        paid_at: p.paid_at,
        void,
        notes: p.notes.clone(),
        as_of: None,
        printed_at: now(),
    })
}

pub fn invoice(
    c: &mut DbConn,
    inv: &money::Invoice,
    bank: &BankDetails,
) -> StoreResult<InvoiceDoc> {
    let center = centers::get(c, &inv.center_id)?;
    let customer = customers::get_row(c, &inv.customer_id)?;
    let charges = money::charges_of_invoice(c, &inv.id)?;
    let mut lines = Vec::with_capacity(charges.len());
    for ch in &charges {
        let order = orders::get(c, &ch.order_id)?;
        let kind = crate::store::stored("order kind", &order.kind, OrderKind::parse)?;
        let description = match kind {
            OrderKind::Install => "安装服务".to_string(),
            OrderKind::Repair => "维修服务".to_string(),
        };
        let plates = plates_of_order(c, &order.id)?;
        lines.push(InvoiceLineDoc {
            order_no: order.number,
            plates,
            day: ch.day,
            description,
            amount: Fen(ch.amount_fen),
            adjusted: Fen(ch.adjusted_fen),
            due: Fen(ch.net_fen()),
        });
    }
    Ok(InvoiceDoc {
        number: inv.number.clone(),
        center: center.name,
        customer: customer.name,
        customer_address: customer.address,
        period: (inv.period_start, inv.period_end),
        issue_date: inv.issue_date,
        due_date: inv.due_date,
        lines,
        total: Fen(inv.total_fen),
        paid: Fen(inv.paid_fen),
        bank: BankDetails {
            company: bank.company.clone(),
            bank: bank.bank.clone(),
            account: bank.account.clone(),
        },
        printed_at: now(),
    })
}
