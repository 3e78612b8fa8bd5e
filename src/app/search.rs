//! Find anything: one text, every key it can be (`domain::search::Plan`), each looked up
//! by an index range scan in the caller's scope (`store::search`), merged into groups in
//! the fixed order order, customer, vehicle, terminal, sim, payment.

use serde::Serialize;

use super::{Principal, Result, stored};
use crate::domain::money::Fen;
use crate::domain::order::{OrderKind, OrderStatus};
use crate::domain::registry::{SimStatus, TerminalStatus};
use crate::domain::search::{Kind, Match, Plan, Range, masked_phone};
use crate::store::DbConn;
use crate::store::search::{self as store, HitRow, Key};

/// Hits per group unless asked otherwise, and at most.
pub const DEFAULT_LIMIT: i64 = 5;
pub const MAX_LIMIT: i64 = 20;

pub struct Search {
    pub plan: Plan,
    /// the kinds asked for (all when empty)
    pub kinds: Vec<Kind>,
    pub limit: i64,
    /// the `center_id` asked for (admins; others see their own center whatever they ask)
    pub center_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    pub q: String,
    /// non-empty groups, in the order order, customer, vehicle, terminal, sim, payment
    pub groups: Vec<Group>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub kind: Kind,
    /// the group's heading (客户, 车辆, …)
    pub label: &'static str,
    pub items: Vec<Item>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub kind: Kind,
    pub id: String,
    pub title: String,
    pub subtitle: String,
    /// which key matched
    #[serde(rename = "match")]
    pub matched: Match,
    /// the customer to open; null only for a terminal or SIM that is in no vehicle
    pub customer_id: Option<String>,
    /// vehicle, terminal (when fitted) and SIM (when its terminal is fitted)
    pub vehicle_id: Option<String>,
    /// order and payment
    pub order_id: Option<String>,
}

/// Everything the text finds in the caller's scope (their center; admins all centers or
/// the one asked for). The role is checked by the handler before anything is read.
pub fn search(c: &mut DbConn, who: &Principal, input: Search) -> Result<SearchResult> {
    let Search {
        plan,
        kinds,
        limit,
        center_id,
    } = input;
    let Some(center) = who.list_center(center_id.as_deref()) else {
        // another center than one's own: nothing, like a list
        return Ok(SearchResult {
            q: plan.text,
            groups: Vec::new(),
        });
    };
    let wanted = |k: Kind| kinds.is_empty() || kinds.contains(&k);
    let center = center.as_deref();
    let mut hits: Vec<(Kind, Match, HitRow)> = Vec::new();
    let lookups: [(Key, &Option<Range>); 12] = [
        (Key::OrderNo, &plan.order_no),
        (Key::Initials, &plan.initials),
        (Key::ContactPhone, &plan.digits_tail),
        (Key::Plate, &plan.plate),
        (Key::PlateKey, &plan.plate_key),
        (Key::PlateTail, &plan.plate_tail),
        (Key::DriverPhone, &plan.digits_tail),
        (Key::VinTail, &plan.vin_tail),
        (Key::Imei, &plan.digits_tail),
        (Key::Iccid, &plan.digits_tail),
        (Key::Msisdn, &plan.digits_tail),
        (Key::ReceiptNo, &plan.receipt_no),
    ];
    if wanted(Kind::Customer)
        && let Some(pattern) = &plan.name_like
    {
        for row in store::customers_named(c, pattern, center, limit)? {
            hits.push((Kind::Customer, Match::Name, row));
        }
    }
    for (key, range) in lookups {
        let Some(range) = range else { continue };
        if !wanted(key.kind()) {
            continue;
        }
        for row in store::lookup(c, key, range, center, limit)? {
            hits.push((key.kind(), key.matched(), row));
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for &kind in Kind::ALL {
        let mut items: Vec<Item> = Vec::new();
        for (_, matched, row) in hits.iter().filter(|(k, _, _)| *k == kind) {
            if items.len() as i64 >= limit || items.iter().any(|i| i.id == row.id) {
                continue;
            }
            items.push(item(kind, *matched, row)?);
        }
        if !items.is_empty() {
            groups.push(Group {
                kind,
                label: kind.label(),
                items,
            });
        }
    }
    Ok(SearchResult {
        q: plan.text,
        groups,
    })
}

fn join(parts: &[Option<String>]) -> String {
    parts
        .iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" · ")
}

fn contact(name: &Option<String>, phone: &Option<String>) -> Option<String> {
    match (name, phone) {
        (None, None) => None,
        (n, p) => Some(format!(
            "{} {}",
            n.as_deref().unwrap_or_default(),
            p.as_deref().map(masked_phone).unwrap_or_default()
        )),
    }
}

fn item(kind: Kind, matched: Match, r: &HitRow) -> Result<Item> {
    let subtitle = match kind {
        Kind::Order => {
            let kind_zh = match &r.a {
                Some(k) => Some(
                    stored("order kind", k, OrderKind::parse)?
                        .label_zh()
                        .to_string(),
                ),
                None => None,
            };
            let status = match &r.b {
                Some(s) => Some(
                    stored("order status", s, OrderStatus::parse)?
                        .label_zh()
                        .to_string(),
                ),
                None => None,
            };
            join(&[kind_zh, status, r.customer_name.clone()])
        }
        Kind::Customer => {
            let who = contact(&r.a, &r.b).map(|c| format!("联系人 {c}"));
            join(&[who])
        }
        Kind::Vehicle if matched == Match::DriverPhone => join(&[
            r.customer_name.clone(),
            contact(&r.a, &r.b).map(|d| format!("司机 {d}")),
        ]),
        Kind::Vehicle => join(&[
            r.customer_name.clone(),
            r.b.clone(),
            r.a.as_ref().map(|v| format!("VIN {v}")),
        ]),
        Kind::Terminal => {
            let status = match &r.b {
                Some(s) => Some(
                    terminal_status_zh(stored("terminal status", s, TerminalStatus::parse)?)
                        .to_string(),
                ),
                None => None,
            };
            join(&[r.a.clone(), status, r.c.clone(), r.customer_name.clone()])
        }
        Kind::Sim => {
            let status = match &r.b {
                Some(s) => {
                    Some(sim_status_zh(stored("SIM status", s, SimStatus::parse)?).to_string())
                }
                None => None,
            };
            join(&[
                r.a.as_ref().map(|i| format!("ICCID {i}")),
                status,
                r.c.clone(),
                r.customer_name.clone(),
            ])
        }
        Kind::Payment => join(&[
            r.amount_fen.map(|f| Fen::new(f).to_string()),
            r.a.clone(),
            r.customer_name.clone(),
        ]),
    };
    Ok(Item {
        kind,
        id: r.id.clone(),
        title: r.title.clone(),
        subtitle,
        matched,
        customer_id: r.customer_id.clone(),
        vehicle_id: r.vehicle_id.clone(),
        order_id: r.order_id.clone(),
    })
}

fn terminal_status_zh(s: TerminalStatus) -> &'static str {
    match s {
        TerminalStatus::InStock => "在库",
        TerminalStatus::Installed => "已安装",
        TerminalStatus::InRepair => "维修中",
        TerminalStatus::Returned => "已退回",
        TerminalStatus::Scrapped => "已报废",
    }
}

fn sim_status_zh(s: SimStatus) -> &'static str {
    match s {
        SimStatus::InStock => "在库",
        SimStatus::Active => "使用中",
        SimStatus::Suspended => "停机",
        SimStatus::Cancelled => "已销号",
    }
}
