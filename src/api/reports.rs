//! Finance's reports: the reconciliation (对账) by day, center and technician, the ledger
//! export, and the aging of credit customers' invoices. Each as JSON, CSV or XLSX.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::export::{self, Cell, EXPORT_MAX_ROWS, ExportFormat, Table};
use super::money::input::{PaymentQuery, payment_filter};
use super::session::Caller;
use super::state::AppState;
use super::support::{Check, with_db};
use crate::domain::access::{Money, Op, Resource};
use crate::domain::china_day;
use crate::domain::ledger::{self, AgingBucket, PaymentMethod};
use crate::store::money::{self as store, ReconFilter, ReconRow};
use crate::store::{centers, now};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconQuery {
    /// first China day (inclusive); default the first of this month
    pub from: Option<NaiveDate>,
    /// last China day (inclusive); default today
    pub to: Option<NaiveDate>,
    pub center_id: Option<String>,
    pub technician_id: Option<String>,
    /// json (default), csv, xlsx
    pub format: Option<String>,
}

/// One technician's day, with names and the cash still in their hands that evening.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReconLine {
    #[serde(flatten)]
    pub row: ReconRow,
    pub center_name: String,
    pub technician_name: String,
    /// cash in hand at the end of the day: all collected − all remitted up to then
    pub outstanding_fen: i64,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ReconTotals {
    pub owed_fen: i64,
    pub collected_fen: i64,
    pub remitted_fen: i64,
    pub confirmed_fen: i64,
    pub discrepancy_fen: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<ReconLine>,
    pub totals: ReconTotals,
    /// discrepancies still open (all time, in scope)
    pub open_discrepancies: i64,
}

/// The reconciliation of `f`, computed in SQL, names and running cash in hand added.
pub fn reconciliation(
    c: &mut crate::store::DbConn,
    f: &ReconFilter,
) -> Result<Reconciliation, ApiError> {
    let rows = store::reconciliation(c, f)?;
    let mut held: HashMap<String, i64> = store::hand_before(c, f.from, f.center.as_deref())?
        .into_iter()
        .collect();
    let mut ids: Vec<&str> = rows.iter().map(|r| r.technician_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = crate::store::names::user_names(c, &ids)?;
    let mut center_names: HashMap<String, String> = HashMap::new();
    let mut totals = ReconTotals::default();
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        if !center_names.contains_key(&row.center_id) {
            let name = centers::get(c, &row.center_id)
                .map(|x| x.name)
                .unwrap_or_default();
            center_names.insert(row.center_id.clone(), name);
        }
        let h = held.entry(row.technician_id.clone()).or_insert(0);
        *h += row.collected_fen - row.remitted_fen;
        totals.owed_fen += row.owed_fen;
        totals.collected_fen += row.collected_fen;
        totals.remitted_fen += row.remitted_fen;
        totals.confirmed_fen += row.confirmed_fen;
        totals.discrepancy_fen += row.discrepancy_fen;
        lines.push(ReconLine {
            outstanding_fen: *h,
            center_name: center_names[&row.center_id].clone(),
            technician_name: names.get(&row.technician_id).cloned().unwrap_or_default(),
            row,
        });
    }
    let open = store::count_open_discrepancies(c, f.center.as_deref(), f.technician_id.as_deref())?;
    Ok(Reconciliation {
        from: f.from,
        to: f.to,
        rows: lines,
        totals,
        open_discrepancies: open,
    })
}

pub const RECON_HEADERS: [&str; 16] = [
    "日期",
    "服务站",
    "技术员",
    "应收",
    "实收",
    "现金",
    "微信支付",
    "支付宝",
    "银行转账",
    "POS刷卡",
    "已交款",
    "财务确认",
    "差异",
    "手中现金",
    "技术员ID",
    "服务站ID",
];

pub fn recon_table(r: &Reconciliation) -> Table {
    Table {
        headers: RECON_HEADERS.to_vec(),
        rows: r
            .rows
            .iter()
            .map(|l| {
                vec![
                    Cell::Date(l.row.day),
                    l.center_name.as_str().into(),
                    l.technician_name.as_str().into(),
                    Cell::Money(l.row.owed_fen),
                    Cell::Money(l.row.collected_fen),
                    Cell::Money(l.row.cash_fen),
                    Cell::Money(l.row.wechat_fen),
                    Cell::Money(l.row.alipay_fen),
                    Cell::Money(l.row.bank_transfer_fen),
                    Cell::Money(l.row.pos_fen),
                    Cell::Money(l.row.remitted_fen),
                    Cell::Money(l.row.confirmed_fen),
                    Cell::Money(l.row.discrepancy_fen),
                    Cell::Money(l.outstanding_fen),
                    l.row.technician_id.as_str().into(),
                    l.row.center_id.as_str().into(),
                ]
            })
            .collect(),
    }
}

/// The reconciliation report (对账表): per day, center and technician — owed, collected
/// (by method), handed over, confirmed by finance, discrepancies, and the cash still in
/// hand. `?format=csv|xlsx` downloads it. Finance, managers (their center), admins.
#[utoipa::path(tag = "money", params(ReconQuery), responses((status = 200, content((Reconciliation = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))), security(("bearer" = [])))]
#[get("/reconciliation")]
pub async fn reconciliation_report(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ReconQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Money(Money::Books), Op::Read)?;
    let q = q.into_inner();
    let format = export::parse_format(q.format.as_deref(), true)?;
    let today = china_day(now());
    let from = q.from.unwrap_or_else(|| today.with_day(1).unwrap_or(today));
    let to = q.to.unwrap_or(today);
    let mut check = Check::new();
    if from > to {
        check.add("from", "after_to", "must not be after `to`");
    } else if to - from > Duration::days(731) {
        check.add("to", "too_long", "at most two years at once");
    }
    check.finish()?;
    let center = caller.list_center(q.center_id.as_deref());
    let report = with_db(&state.pool, caller.session(), move |c| match center {
        Some(center) => reconciliation(
            c,
            &ReconFilter {
                from,
                to,
                center,
                technician_id: q.technician_id,
            },
        ),
        // another center: nothing of it exists for this caller
        None => Ok(Reconciliation {
            from,
            to,
            rows: Vec::new(),
            totals: ReconTotals::default(),
            open_discrepancies: 0,
        }),
    })
    .await?;
    match format {
        ExportFormat::Json => Ok(HttpResponse::Ok().json(report)),
        f => export::download(
            &recon_table(&report),
            f,
            &format!("reconciliation-{from}-{to}"),
            "对账表",
        ),
    }
}

pub const LEDGER_HEADERS: [&str; 16] = [
    "收据号",
    "类型",
    "日期",
    "时间",
    "服务站",
    "工单号",
    "账单号",
    "客户",
    "付款人",
    "方式",
    "金额",
    "收款人",
    "冲销收据",
    "冲销原因",
    "发票号",
    "交款单",
];

pub fn ledger_table(rows: &[store::LedgerRow]) -> Table {
    Table {
        headers: LEDGER_HEADERS.to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.receipt_no.clone().into(),
                    if r.kind == crate::domain::ledger::PaymentKind::Reversal.as_str() {
                        "冲销"
                    } else {
                        "收款"
                    }
                    .into(),
                    Cell::Date(r.day),
                    Cell::DateTime(r.paid_at + Duration::hours(8)),
                    r.center_name.as_str().into(),
                    r.order_number.clone().into(),
                    r.invoice_number.clone().into(),
                    r.customer_name.as_str().into(),
                    r.payer_name.as_str().into(),
                    PaymentMethod::parse(&r.method)
                        .map(PaymentMethod::label_zh)
                        .unwrap_or(r.method.as_str())
                        .into(),
                    Cell::Money(r.amount_fen),
                    r.collector_name.as_str().into(),
                    r.reverses_receipt.clone().into(),
                    r.reason.clone().into(),
                    r.fapiao_no.clone().into(),
                    r.remittance_id.clone().into(),
                ]
            })
            .collect(),
    }
}

/// The ledger as a file (`?format=csv|xlsx`), with the filters of `GET /payments`.
/// Technicians get their own entries.
#[utoipa::path(tag = "money", params(PaymentQuery), responses((status = 200, content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))), security(("bearer" = [])))]
#[get("/payments/export")]
pub async fn export_payments(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<PaymentQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Money(Money::Ledger), Op::Read)?;
    let q = q.into_inner();
    let format = export::parse_format(q.format.as_deref(), false)?;
    let filter = payment_filter(caller.principal(), q)?;
    let rows = with_db(&state.pool, caller.session(), move |c| match filter {
        Some(f) => Ok(store::ledger_rows(c, &f, EXPORT_MAX_ROWS + 1)?),
        None => Ok(Vec::new()),
    })
    .await?;
    export::check_size(rows.len())?;
    export::download(&ledger_table(&rows), format, "payments", "收款明细")
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgingQuery {
    /// the day aging is judged on (default today, China)
    pub as_of: Option<NaiveDate>,
    pub center_id: Option<String>,
    /// json (default), csv, xlsx
    pub format: Option<String>,
}

/// One customer's open balances by how long they are overdue.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct AgingLine {
    pub customer_id: String,
    pub customer_name: String,
    pub current_fen: i64,
    pub days_1_30_fen: i64,
    pub days_31_60_fen: i64,
    pub days_61_90_fen: i64,
    pub over_90_fen: i64,
    pub total_fen: i64,
    pub invoices: usize,
}

impl AgingLine {
    fn add(&mut self, bucket: AgingBucket, fen: i64) {
        match bucket {
            AgingBucket::Current => self.current_fen += fen,
            AgingBucket::Days1To30 => self.days_1_30_fen += fen,
            AgingBucket::Days31To60 => self.days_31_60_fen += fen,
            AgingBucket::Days61To90 => self.days_61_90_fen += fen,
            AgingBucket::Over90 => self.over_90_fen += fen,
        }
        self.total_fen += fen;
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Aging {
    pub as_of: NaiveDate,
    pub customers: Vec<AgingLine>,
    pub totals: AgingLine,
}

/// Aging of credit customers' invoices (账龄): each customer's open balance by days
/// overdue — current, 1–30, 31–60, 61–90, over 90. Finance, managers, admins.
#[utoipa::path(tag = "money", params(AgingQuery), responses((status = 200, content((Aging = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))), security(("bearer" = [])))]
#[get("/invoices/aging")]
pub async fn aging(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<AgingQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Money(Money::Books), Op::Read)?;
    let q = q.into_inner();
    let format = export::parse_format(q.format.as_deref(), true)?;
    let as_of = q.as_of.unwrap_or_else(|| china_day(now()));
    let center = caller.list_center(q.center_id.as_deref());
    let report = with_db(&state.pool, caller.session(), move |c| {
        let invoices = match &center {
            Some(center) => store::open_invoices(c, center.as_deref())?,
            None => Vec::new(),
        };
        let mut ids: Vec<&str> = invoices.iter().map(|i| i.customer_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let names = crate::store::names::customer_names(c, &ids)?;
        let mut by_customer: Vec<AgingLine> = Vec::new();
        let mut totals = AgingLine::default();
        // as of a day: only invoices issued by then
        for inv in invoices.iter().filter(|i| i.issue_date <= as_of) {
            let bucket = ledger::aging_bucket(inv.due_date, as_of);
            let balance = inv.total_fen - inv.paid_fen;
            let line = match by_customer
                .iter_mut()
                .position(|l| l.customer_id == inv.customer_id)
            {
                Some(i) => &mut by_customer[i],
                None => {
                    by_customer.push(AgingLine {
                        customer_id: inv.customer_id.clone(),
                        customer_name: names.get(&inv.customer_id).cloned().unwrap_or_default(),
                        ..Default::default()
                    });
                    by_customer.last_mut().expect("just pushed")
                }
            };
            line.add(bucket, balance);
            line.invoices += 1;
            totals.add(bucket, balance);
            totals.invoices += 1;
        }
        by_customer.sort_by_key(|l| std::cmp::Reverse(l.total_fen));
        Ok(Aging {
            as_of,
            customers: by_customer,
            totals,
        })
    })
    .await?;
    match format {
        ExportFormat::Json => Ok(HttpResponse::Ok().json(report)),
        f => {
            let table = Table {
                headers: vec![
                    "客户",
                    "未到期",
                    "逾期1-30天",
                    "逾期31-60天",
                    "逾期61-90天",
                    "逾期90天以上",
                    "合计",
                    "账单数",
                ],
                rows: report
                    .customers
                    .iter()
                    .map(|l| {
                        vec![
                            l.customer_name.as_str().into(),
                            Cell::Money(l.current_fen),
                            Cell::Money(l.days_1_30_fen),
                            Cell::Money(l.days_31_60_fen),
                            Cell::Money(l.days_61_90_fen),
                            Cell::Money(l.over_90_fen),
                            Cell::Money(l.total_fen),
                            Cell::Text(l.invoices.to_string()),
                        ]
                    })
                    .collect(),
            };
            export::download(&table, f, &format!("aging-{as_of}"), "账龄")
        }
    }
}
