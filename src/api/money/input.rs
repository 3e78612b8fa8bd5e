//! What the money handlers share in reading a request: amounts, payment methods, the time
//! money changed hands, and the ledger's query (also the reports' ledger export's). No
//! routes here.

use chrono::NaiveDate;
use serde::Deserialize;

use super::super::error::ApiError;
use super::super::json::ClientTime;
use super::super::support::Check;
use crate::app::Principal;
use crate::domain::access::Role;
use crate::domain::ledger::PaymentMethod;
use crate::domain::money::Fen;
use crate::domain::reported_time::{MAX_BACKDATE_HOURS, TimeRefusal, reported_time};
use crate::store::money::PaymentFilter;
use crate::store::now;

/// The largest single amount accepted anywhere (¥10,000,000.00).
pub const AMOUNT_MAX: i64 = 1_000_000_000;

pub fn amount(check: &mut Check, field: &str, fen: i64) -> Fen {
    if fen <= 0 {
        check.add(
            field,
            "amount_not_positive",
            "must be more than zero (in fen)",
        );
    } else if fen > AMOUNT_MAX {
        check.add(field, "too_large", format!("at most {AMOUNT_MAX} fen"));
    }
    Fen(fen)
}

/// The payment method named; `Cash` stands in only while `check` holds the error.
pub fn method(check: &mut Check, value: &str) -> PaymentMethod {
    check
        .one_of(
            "method",
            value,
            PaymentMethod::parse,
            &PaymentMethod::names(),
        )
        .unwrap_or(PaymentMethod::Cash)
}

/// When the money changed hands on site: given (offline phones send it later) or now,
/// within the bounds of every reported time (`domain::reported_time`: not in the future,
/// not more than three days back), answered on the field `paid_at`.
pub fn paid_at(check: &mut Check, t: Option<ClientTime>) -> chrono::NaiveDateTime {
    let at = now();
    let reported = t.map(|t| crate::store::micros(t.utc().naive_utc()));
    match reported_time(reported, at, None) {
        Ok(t) => t,
        Err(r) => {
            let message = match r {
                TimeRefusal::InFuture => "must not be in the future".to_string(),
                _ => format!("at most {MAX_BACKDATE_HOURS} hours ago"),
            };
            check.add("paid_at", r.code(), message);
            at
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// exports only: csv or xlsx
    pub format: Option<String>,
    pub center_id: Option<String>,
    pub collector_id: Option<String>,
    pub order_id: Option<String>,
    pub invoice_id: Option<String>,
    pub customer_id: Option<String>,
    pub method: Option<String>,
    /// first China day (inclusive), YYYY-MM-DD
    pub from: Option<NaiveDate>,
    /// last China day (inclusive)
    pub to: Option<NaiveDate>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The payment filter for the caller: a technician's own, finance and managers their
/// center's; `None` when the asked center is out of scope.
pub fn payment_filter(p: &Principal, q: PaymentQuery) -> Result<Option<PaymentFilter>, ApiError> {
    let mut check = Check::new();
    if let Some(m) = &q.method {
        check.one_of("method", m, PaymentMethod::parse, &PaymentMethod::names());
    }
    if let (Some(f), Some(t)) = (q.from, q.to)
        && f > t
    {
        check.add("from", "after_to", "must not be after `to`");
    }
    check.finish()?;
    let Some(center) = p.list_center(q.center_id.as_deref()) else {
        return Ok(None);
    };
    let collector_id = if p.is(Role::Technician) {
        if q.collector_id.as_deref().is_some_and(|c| c != p.id) {
            return Ok(None);
        }
        Some(p.id.clone())
    } else {
        q.collector_id
    };
    Ok(Some(PaymentFilter {
        center,
        collector_id,
        order_id: q.order_id,
        invoice_id: q.invoice_id,
        customer_id: q.customer_id,
        method: q.method,
        from: q.from,
        to: q.to,
    }))
}
