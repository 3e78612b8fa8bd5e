//! The install ledger (安装台账): every vehicle fitted in a period, as JSON, CSV or XLSX,
//! and one vehicle's page of it (车辆终端安装档案) as a PDF.

use actix_web::{HttpResponse, get, web};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use super::documents;
use super::error::ApiError;
use super::export::{self, Cell, EXPORT_MAX_ROWS, ExportFormat, Table};
use super::session::Caller;
use super::state::AppState;
use super::support::{Check, with_db};
use crate::app::install_ledger::{self as uc, InstallLedger, LedgerQuery};
use crate::documents::Doc;
use crate::domain::access::{Op, Resource};

/// The longest period one ledger covers, in days (both ends counted): a leap year.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// first China day (UTC+8) of the install time, YYYY-MM-DD, inclusive
    #[param(required = true, value_type = String, format = Date)]
    pub from: Option<String>,
    /// last China day of the install time, inclusive; at most 366 days after `from`
    /// counting both
    #[param(required = true, value_type = String, format = Date)]
    pub to: Option<String>,
    /// one customer's vehicles (404 when the customer is not in the caller's scope)
    pub customer_id: Option<String>,
    /// admins: one center (others always get their own center)
    pub center_id: Option<String>,
    /// json (default), csv, xlsx
    pub format: Option<String>,
}

/// A required day of the query, checked into `check`.
fn day(check: &mut Check, field: &str, value: Option<&str>) -> Option<NaiveDate> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        check.add(field, "required", "a day, YYYY-MM-DD");
        return None;
    };
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) if (2000..2100).contains(&d.year()) => Some(d),
        Ok(_) => {
            check.add(field, "out_of_range", "a day between 2000 and 2099");
            None
        }
        Err(_) => {
            check.add(field, "invalid_format", "a day, YYYY-MM-DD");
            None
        }
    }
}

pub const LEDGER_HEADERS: [&str; 16] = [
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

/// The ledger as a table; times in China time like the other exports.
pub fn ledger_table(l: &InstallLedger) -> Table {
    let china = |t: chrono::NaiveDateTime| Cell::DateTime(t + Duration::hours(8));
    Table {
        headers: LEDGER_HEADERS.to_vec(),
        rows: l
            .rows
            .iter()
            .map(|r| {
                let x = &r.row;
                vec![
                    x.plate_no.as_str().into(),
                    r.plate_colour_zh.map(Cell::from).unwrap_or(Cell::Empty),
                    x.vin.clone().into(),
                    x.customer_name.as_str().into(),
                    r.terminal_model.as_str().into(),
                    x.imei.as_str().into(),
                    r.terminal_808_id.clone().into(),
                    x.iccid.clone().into(),
                    x.msisdn.clone().into(),
                    r.carrier_zh
                        .map(Cell::from)
                        .unwrap_or_else(|| x.carrier.clone().into()),
                    x.installer_name.clone().into(),
                    china(x.installed_at),
                    x.first_fix_at.map(china).unwrap_or(Cell::Empty),
                    x.order_number.as_str().into(),
                    Cell::Text(x.photo_count.to_string()),
                    match &x.signoff_name {
                        Some(n) => format!("已签字（{n}）").into(),
                        None => "未签字".into(),
                    },
                ]
            })
            .collect(),
    }
}

/// The install ledger (安装台账): one row per vehicle fitted (a done line of an install
/// order with a terminal) whose install time falls on the China days `from`–`to`: plate
/// and plate colour, VIN, customer, terminal model, IMEI, 808 terminal id, SIM (ICCID,
/// MSISDN, carrier), installer, install time, first fix (empty until known), order number,
/// photos on the line, the customer's sign-off. `?format=csv|xlsx` downloads it. Agents
/// and managers (their center), admins (any, or `center_id`).
#[utoipa::path(tag = "install ledger", params(LedgerParams), responses((status = 200, content((InstallLedger = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 404)), security(("bearer" = [])))]
#[get("/install-ledger")]
pub async fn install_ledger(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<LedgerParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::InstallLedger, Op::Read)?;
    let q = q.into_inner();
    let format = export::parse_format(q.format.as_deref(), true)?;
    let mut check = Check::new();
    let from = day(&mut check, "from", q.from.as_deref());
    let to = day(&mut check, "to", q.to.as_deref());
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            check.add("from", "after_to", "must not be after `to`");
        } else if (to - from).num_days() + 1 > MAX_DAYS {
            check.add("to", "too_long", "at most 366 days at once");
        }
    }
    check.finish()?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::Internal(
            "a checked period without its days".into(),
        ));
    };
    let query = LedgerQuery {
        from,
        to,
        customer_id: q.customer_id,
        center_id: q.center_id,
        limit: EXPORT_MAX_ROWS + 1,
    };
    let ledger = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::ledger(c, caller.principal(), query)?)
    })
    .await?;
    export::check_size(ledger.rows.len())?;
    match format {
        ExportFormat::Json => Ok(HttpResponse::Ok().json(ledger)),
        f => export::download(
            &ledger_table(&ledger),
            f,
            &format!("install-ledger-{from}-{to}"),
            "安装台账",
        ),
    }
}

/// One vehicle of the ledger printed (车辆终端安装档案), by its work-order line: the fields
/// of the ledger as a table, the line's photos as thumbnails and the customer's signature.
/// 404 for a line not in the ledger or outside the caller's center; 503 without a CJK
/// font.
#[utoipa::path(tag = "install ledger", responses((status = 200, content_type = "application/pdf"), (status = 404), (status = 503)), security(("bearer" = [])))]
#[get("/install-ledger/{line_id}/pdf")]
pub async fn install_sheet_pdf(
    state: web::Data<AppState>,
    caller: Caller,
    line_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::InstallLedger, Op::Read)?;
    documents::ready(&state.documents)?;
    let mut doc = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::sheet(c, caller.principal(), &line_id)?)
    })
    .await?;
    // the photos' thumbnails from the object store (one missing or the store down: the
    // page prints with the caption saying so), as the work-order PDF does
    if let Doc::InstallSheet(d) = &mut doc {
        for p in &mut d.photos {
            p.thumb = state.objects.get(&p.thumb_key).await.ok();
        }
    }
    documents::respond(state.documents.clone(), doc).await
}
