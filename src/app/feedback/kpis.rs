//! The service KPIs of a period of China days, by center or by lead technician.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::app::{Result, stored};
use crate::domain::order::{OrderKind, OrderStatus};
use crate::store::feedback::{self as store, KpiGroup};
use crate::store::{DbConn, now};

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct KpiRow {
    /// the center's id, or the lead technician's
    pub id: String,
    /// orders requested in the period, by kind and status
    #[schema(value_type = Object)]
    pub orders: BTreeMap<String, BTreeMap<String, i64>>,
    pub orders_total: i64,
    /// request → arrival (叫修等待时间)
    pub wait_avg_seconds: Option<f64>,
    pub wait_p90_seconds: Option<i64>,
    /// arrival → completion (修理耗时)
    pub repair_avg_seconds: Option<f64>,
    pub repair_p90_seconds: Option<i64>,
    /// finished repair orders fixed without going on hold
    pub first_visit_fix_rate: Option<f64>,
    pub tickets: i64,
    pub complaints: i64,
    /// tickets answered by their deadline, of those received that were answered or are
    /// past their deadline (a ticket still within its time counts for neither side)
    pub replied_in_time_rate: Option<f64>,
    /// tickets resolved or closed, of those received
    pub resolution_rate: Option<f64>,
    pub complaints_per_100_orders: Option<f64>,
    pub satisfaction_avg: Option<f64>,
    pub satisfaction_calls: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KpiReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: String,
    pub rows: Vec<KpiRow>,
}

/// The period (China days `from`..=`to`), the grouping, and the center filter (`None`:
/// every center; already narrowed to the caller's scope).
pub struct KpiPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group: KpiGroup,
    pub center: Option<String>,
}

/// Orders by kind and status, wait and repair time (average and p90), first-visit fix
/// rate, tickets answered in time, resolution rate, complaints per 100 orders,
/// satisfaction.
pub fn report(c: &mut DbConn, q: KpiPeriod) -> Result<KpiReport> {
    // China days are UTC+8; the database keeps UTC
    let start = q.from.and_hms_opt(0, 0, 0).expect("midnight") - Duration::hours(8);
    let end = (q.to + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        - Duration::hours(8);
    let data = store::kpi_data(c, q.group, start, end, q.center.as_deref(), now())?;
    Ok(KpiReport {
        from: q.from,
        to: q.to,
        by: match q.group {
            KpiGroup::Center => "center",
            KpiGroup::Technician => "technician",
        }
        .into(),
        rows: rows(data)?,
    })
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// A finished repair: one that counts for the first-visit fix rate.
fn finished_repair(kind: &str, status: &str) -> Result<bool> {
    let kind = stored("order kind", kind, OrderKind::parse)?;
    let status = stored("order status", status, OrderStatus::parse)?;
    Ok(kind == OrderKind::Repair && matches!(status, OrderStatus::Completed | OrderStatus::Closed))
}

/// Builds the report rows from the SQL figures.
pub fn rows(d: store::KpiData) -> Result<Vec<KpiRow>> {
    let mut rows: BTreeMap<String, KpiRow> = BTreeMap::new();
    fn entry(rows: &mut BTreeMap<String, KpiRow>, g: Option<String>) -> &mut KpiRow {
        let id = g.unwrap_or_default();
        rows.entry(id.clone()).or_insert_with(|| KpiRow {
            id,
            ..Default::default()
        })
    }
    // per group: wait (n, sum), repair (n, sum), finished repairs
    let mut sums: BTreeMap<String, [i64; 5]> = BTreeMap::new();
    for o in d.orders {
        let key = o.grp.clone().unwrap_or_default();
        let s = sums.entry(key).or_default();
        s[0] += o.wait_n;
        s[1] += o.wait_sum;
        s[2] += o.repair_n;
        s[3] += o.repair_sum;
        if finished_repair(&o.kind, &o.status)? {
            s[4] += o.n;
        }
        let r = entry(&mut rows, o.grp);
        *r.orders
            .entry(o.kind)
            .or_default()
            .entry(o.status)
            .or_default() += o.n;
        r.orders_total += o.n;
    }
    let mut held: BTreeMap<String, i64> = d
        .held
        .into_iter()
        .map(|h| (h.grp.unwrap_or_default(), h.a))
        .collect();
    for (g, s) in sums {
        let on_hold = held.remove(&g).unwrap_or(0);
        let r = entry(&mut rows, Some(g));
        r.wait_avg_seconds = ratio(s[1], s[0]);
        r.repair_avg_seconds = ratio(s[3], s[2]);
        r.first_visit_fix_rate = ratio(s[4] - on_hold, s[4]);
    }
    for (g, v) in d.wait_p90 {
        entry(&mut rows, Some(g)).wait_p90_seconds = Some(v);
    }
    for (g, v) in d.repair_p90 {
        entry(&mut rows, Some(g)).repair_p90_seconds = Some(v);
    }
    for t in d.tickets {
        let r = entry(&mut rows, t.grp);
        r.tickets = t.a;
        r.complaints = t.b;
        r.replied_in_time_rate = ratio(t.c, t.e);
        r.resolution_rate = ratio(t.d, t.a);
    }
    for s in d.satisfaction {
        let r = entry(&mut rows, s.grp);
        r.satisfaction_calls = s.a;
        r.satisfaction_avg = ratio(s.b, s.a);
    }
    let mut out: Vec<KpiRow> = rows.into_values().filter(|r| !r.id.is_empty()).collect();
    for r in &mut out {
        r.complaints_per_100_orders = ratio(r.complaints * 100, r.orders_total);
    }
    Ok(out)
}
