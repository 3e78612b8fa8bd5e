//! The install ledger (安装台账): every vehicle fitted in a period of China days, as the
//! regulators and the fleets of 两客一危 vehicles audit it, and one vehicle's page of it
//! (车辆终端安装档案) as a document.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::{Error, Principal, Result};
use crate::documents::Doc;
use crate::domain::access::{Op, Resource};
use crate::domain::format::terminal_model;
use crate::domain::ids::Carrier;
use crate::domain::jt808;
use crate::domain::registry::PlateColour;
use crate::store::install_ledger::{self as store, InstallRow, LedgerFilter};
use crate::store::{DbConn, customers};

/// What the ledger is asked for: installs of the China days `from..=to`, of a customer,
/// of a center (admins; anyone else gets their own whatever they ask).
pub struct LedgerQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub customer_id: Option<String>,
    pub center_id: Option<String>,
    /// rows read at most (a caller that gets more than it allows knows it is too many)
    pub limit: i64,
}

/// One vehicle of the ledger: the stored row with what is computed from it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LedgerRow {
    #[serde(flatten)]
    pub row: InstallRow,
    /// the plate colour's Chinese name (蓝色, 黄色, …)
    pub plate_colour_zh: Option<&'static str>,
    /// 终端厂家/型号: the model's name and code
    pub terminal_model: String,
    /// JT/T 808 terminal phone number: the SIM's MSISDN left-padded with zeros to 12
    /// digits (20 for a 13-digit IoT number, the 2019 protocol's width)
    pub terminal_808_id: Option<String>,
    /// the carrier's Chinese name (中国移动, …)
    pub carrier_zh: Option<&'static str>,
    /// whether the customer signed the order off
    pub signed: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstallLedger {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// by install time
    pub rows: Vec<LedgerRow>,
}

/// The UTC start of a China day (Asia/Shanghai, UTC+8 all year).
fn china_midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).expect("midnight exists") - Duration::hours(8)
}

fn view(row: InstallRow) -> Result<LedgerRow> {
    let plate_colour_zh = row
        .plate_colour
        .as_deref()
        .map(|v| super::stored("plate colour", v, PlateColour::parse))
        .transpose()?
        .map(PlateColour::label_zh);
    Ok(LedgerRow {
        plate_colour_zh,
        terminal_model: terminal_model(
            row.terminal_model_name.as_deref(),
            &row.terminal_model_code,
        ),
        terminal_808_id: row.msisdn.as_deref().and_then(jt808::terminal_phone),
        carrier_zh: row
            .carrier
            .as_deref()
            .and_then(Carrier::parse)
            .map(|c| c.label_zh()),
        signed: row.signoff_name.is_some(),
        row,
    })
}

/// The ledger of a period: one statement of joins, at most `q.limit` rows. A customer
/// outside the caller's scope is `NotFound`, like a missing one; a center other than
/// one's own is an empty ledger, like a list.
pub fn ledger(c: &mut DbConn, who: &Principal, q: LedgerQuery) -> Result<InstallLedger> {
    who.require(Resource::InstallLedger, Op::Read)?;
    let empty = |q: &LedgerQuery| InstallLedger {
        from: q.from,
        to: q.to,
        rows: Vec::new(),
    };
    if let Some(id) = &q.customer_id {
        let customer = customers::get_row(c, id)?;
        who.see(&customer.center_id)?;
    }
    let Some(center) = who.list_center(q.center_id.as_deref()) else {
        return Ok(empty(&q));
    };
    let filter = LedgerFilter {
        from: china_midnight(q.from),
        until: china_midnight(q.to.succ_opt().unwrap_or(q.to)),
        center,
        customer_id: q.customer_id.clone(),
    };
    let rows = store::rows(c, &filter, q.limit)?
        .into_iter()
        .map(view)
        .collect::<Result<Vec<_>>>()?;
    Ok(InstallLedger {
        from: q.from,
        to: q.to,
        rows,
    })
}

/// One vehicle's page (车辆终端安装档案), by its line: `NotFound` when the line is not in
/// the ledger or outside the caller's scope.
pub fn sheet(c: &mut DbConn, who: &Principal, line_id: &str) -> Result<Doc> {
    who.require(Resource::InstallLedger, Op::Read)?;
    let row = store::row(c, line_id)?.ok_or(Error::NotFound)?;
    who.see(&row.center_id)?;
    Ok(Doc::install_sheet(c, &row)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_china_day_starts_at_16_00_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 13).unwrap();
        assert_eq!(
            china_midnight(d).to_string(),
            "2026-12-12 16:00:00",
            "00:00 in Beijing"
        );
    }
}
