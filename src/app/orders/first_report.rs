//! The terminal's first report (上线检测) on an order: started by the work on a line
//! (install, terminal swap, SIM swap) in its transaction, required by `complete` where
//! the center asks, overridden by a manager with a reason. The platform is asked by the
//! tracking worker (`crate::tracking`), never in the order's transaction.

use chrono::NaiveDateTime;

use super::{Order, OrderView};
use crate::app::{Error, Principal, Result};
use crate::domain::jt808;
use crate::domain::tracking::Missing;
use crate::store::equipment::{SimCard, Terminal};
use crate::store::photos::ProofRules;
use crate::store::tracking::{self as store, ReportWaiver, TerminalCheck};
use crate::store::{DbConn, now};

/// What the line's check is started with: the fitted terminal and SIM, the vehicle's plate.
pub struct Fitted<'a> {
    pub terminal: &'a Terminal,
    pub sim: &'a SimCard,
    pub plate_no: &'a str,
    /// after a SIM swap, the card taken out: the platform knew the terminal by its number
    pub old_sim: Option<&'a SimCard>,
}

/// The identifier the platform knows the terminal by: its 808 terminal phone number (a
/// stored MSISDN is validated digits, so it always has one; else the number as stored).
fn platform_id(msisdn: &str) -> String {
    jt808::terminal_phone(msisdn).unwrap_or_else(|| msisdn.to_string())
}

/// When reports start to count for work recorded at `at`: an install's from the arrival on
/// site (the new unit is powered up during the work, and nothing else reports under its
/// number); a swap's from the swap itself — the vehicle's unit and card reported under the
/// same number until then, so their reports prove nothing about the new part.
pub fn counts_from(order: &Order, at: NaiveDateTime, swap: bool) -> NaiveDateTime {
    if swap {
        at
    } else {
        order.arrived_at.unwrap_or(at).min(at)
    }
}

/// Starts (again) the line's check, reports counting from `started_at` (see
/// [`counts_from`]), with the center's rules as they are now.
pub fn start(
    c: &mut DbConn,
    order: &Order,
    line_id: &str,
    f: Fitted,
    started_at: NaiveDateTime,
) -> Result<()> {
    let rules = crate::store::photos::rules(c, &order.center_id)?;
    store::start(
        c,
        &TerminalCheck {
            line_id: line_id.to_string(),
            order_id: order.id.clone(),
            center_id: order.center_id.clone(),
            terminal_id: f.terminal.id.clone(),
            unique_id: platform_id(&f.sim.msisdn),
            prev_unique_id: f.old_sim.map(|s| platform_id(&s.msisdn)),
            imei: f.terminal.imei.clone(),
            iccid: f.sim.iccid.clone(),
            msisdn: f.sim.msisdn.clone(),
            plate_no: f.plate_no.to_string(),
            model: f.terminal.model_code.clone(),
            started_at,
            require_acc: rules.report_acc,
            require_iccid: rules.report_iccid,
            generation: 1,
            device_id: None,
            synced: false,
            first_fix_at: None,
            first_fix_server_at: None,
            fix_lat: None,
            fix_lng: None,
            seen_iccid: None,
            iccid_at: None,
            acc_on_at: None,
            acc_off_at: None,
            passed_at: None,
            checked_at: None,
            last_error: None,
            updated_at: now(),
        },
    )?;
    Ok(())
}

/// `complete`'s check: where the center requires it and no manager overrode it, every
/// line's check must have passed; else 409 `terminal_not_reporting` with each line's
/// plate and what its check lacks.
pub fn require_complete(c: &mut DbConn, order: &Order, rules: &ProofRules) -> Result<()> {
    if !rules.report_required || store::waiver(c, &order.id)?.is_some() {
        return Ok(());
    }
    let waiting: Vec<TerminalCheck> = store::of_order(c, &order.id)?
        .into_iter()
        .filter(|ch| ch.passed_at.is_none())
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    let list: Vec<serde_json::Value> = waiting
        .iter()
        .map(|ch| {
            let missing: Vec<serde_json::Value> = ch
                .progress()
                .missing()
                .iter()
                .map(|m| {
                    let mut v = serde_json::to_value(m).unwrap_or_default();
                    v["message"] = m.message_zh().into();
                    v
                })
                .collect();
            serde_json::json!({
                "line_id": ch.line_id,
                "plate_no": ch.plate_no,
                "imei": ch.imei,
                "missing": missing,
            })
        })
        .collect();
    let plates: Vec<&str> = waiting.iter().map(|ch| ch.plate_no.as_str()).collect();
    let mut extra = serde_json::Map::new();
    extra.insert("lines".into(), list.into());
    Err(Error::Conflict {
        code: "terminal_not_reporting".into(),
        detail: format!(
            "终端尚未上线（{}）：等待首次有效定位后再完工，或请主管说明原因后放行",
            plates.join("、")
        ),
        extra: Some(extra),
    })
}

/// What a waiting check lacks, each with what to do (for the order view).
pub fn missing_of(check: &TerminalCheck) -> Vec<(Missing, String)> {
    check
        .progress()
        .missing()
        .into_iter()
        .map(|m| {
            let text = m.message_zh();
            (m, text)
        })
        .collect()
}

/// A manager (of the order's center) or an admin lets the order complete without its
/// terminals' first report, with the reason (see `photos::release`).
pub fn waive(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    reason: String,
) -> Result<OrderView> {
    super::photos::release(
        c,
        p,
        id,
        version,
        reason,
        "first_report_waived",
        |c, order| Ok(store::waiver(c, order)?.is_some()),
        |c, r| {
            store::insert_waiver(
                c,
                &ReportWaiver {
                    order_id: r.order_id,
                    reason: r.reason,
                    waived_by: r.by,
                    waived_at: r.at,
                },
            )?;
            Ok(())
        },
    )
}
