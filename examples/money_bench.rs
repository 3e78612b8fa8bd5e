//! The reconciliation report over 1,000,000 payments, and the ledger export of 100,000 rows
//! (CSV and XLSX), on the store and the exporters the API uses.
//!
//!   cargo run --release --example money_bench                    # SQLite, temp file
//!   BENCH_DATABASE_URL=postgres://…/empty_db cargo run --release --example money_bench
//!
//! `./scripts/bench-money` runs both (figures in docs/benchmarks.md). The data: one center,
//! 50 technicians, 1,000 charged orders, 1,000,000 on-site payments spread over 2026 (five
//! methods), and one remittance per technician per day (18,250), half of them confirmed.
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use dispatch::api::export;
use dispatch::api::reports;
use dispatch::store::money::{self, PaymentFilter, ReconFilter};
use dispatch::store::{DbConn, DbTarget};

const PAYMENTS: i64 = 1_000_000;

#[path = "support/seed_sql.rs"]
mod seed_sql;
use seed_sql::{Sql, base, exec};

fn seed(c: &mut DbConn) {
    let pg = matches!(c, DbConn::Pg(_));
    base(c);
    let q = Sql::of(c);
    let series = |count| q.series(count);
    let ts = |d: &str, s: &str| q.ts(d, s);
    let day = |t: &str| q.day(t);
    let tech = |x: &str| q.tech(x);
    let id = |p: &str| q.id(p);
    let (w, from) = series(1000);
    let created = ts("n % 365", "0");
    exec(c, &format!(
        "{w}INSERT INTO work_orders (id, number, kind, center_id, customer_id, status, urgency, channel, site_address, site_lat, site_lng, contact_name, contact_phone, requested_at, created_by, version, created_at, updated_at)
         SELECT {}, {}, 'repair', 'C', 'CU', 'completed', 'normal', 'phone', '郑州', 34.7, 113.6, '王喆', '13800138000', {created}, 'admin', 1, {created}, {created} FROM {from}",
        id("o"), id("WX-ZZ-2026-")
    ));
    exec(c, &format!(
        "{w}INSERT INTO charges (id, order_id, center_id, customer_id, technician_id, terms, amount_fen, adjusted_fen, paid_fen, status, day, created_at, version, updated_at)
         SELECT {}, {}, 'C', 'CU', {}, 'cash', 500000, 0, 0, 'open', {}, {created}, 1, {created} FROM {from}",
        id("ch"), id("o"), tech("n % 50"), day(&created)
    ));
    let (w, from) = series(PAYMENTS);
    let paid = ts("n % 365", "(n * 7) % 86400");
    exec(c, &format!(
        "{w}INSERT INTO payments (id, center_id, kind, charge_id, order_id, customer_id, amount_fen, method, payer_name, paid_at, day, collector_id, on_site, receipt_no, recorded_by, created_at)
         SELECT {}, 'C', 'collection', {}, {}, 'CU', 100 + n % 5000,
            CASE n % 5 WHEN 0 THEN 'cash' WHEN 1 THEN 'wechat' WHEN 2 THEN 'alipay' WHEN 3 THEN 'bank_transfer' ELSE 'pos' END,
            '王喆', {paid}, {}, {}, TRUE, {}, {}, {paid} FROM {from}",
        id("p"),
        id_mod("ch", pg),
        id_mod("o", pg),
        day(&paid),
        tech("n % 50"),
        id("SJ-ZZ-2026-"),
        tech("n % 50"),
    ));
    let (w, from) = series(50 * 365);
    let at = ts("n / 50", "72000");
    let confirmed = |v: &str| format!("CASE WHEN n % 2 = 0 THEN {v} ELSE NULL END");
    exec(c, &format!(
        "{w}INSERT INTO remittances (id, center_id, technician_id, expected_fen, submitted_at, submitted_day, status, received_fen, confirmed_by, confirmed_at, confirmed_day, version, updated_at)
         SELECT {}, 'C', {}, 140000, {at}, {}, CASE WHEN n % 2 = 0 THEN 'confirmed' ELSE 'submitted' END,
            {}, NULL, {}, {}, 1, {at} FROM {from}",
        id("r"),
        tech("n % 50"),
        day(&at),
        confirmed("139900 + n % 200"),
        confirmed(&at),
        confirmed(&day(&at)),
    ));
    exec(c, "ANALYZE");
}

/// The id of charge/order `n % 1000`, as inserted above.
fn id_mod(prefix: &str, pg: bool) -> String {
    if pg {
        format!("'{prefix}' || lpad((n % 1000)::text, 7, '0')")
    } else {
        format!("'{prefix}' || printf('%07d', n % 1000)")
    }
}

fn p50(mut f: impl FnMut() -> usize, runs: usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], n)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let target = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => DbTarget::parse(&url).unwrap(),
        // BENCH_SQLITE_PATH keeps the file (seeded once) for EXPLAIN QUERY PLAN
        _ => DbTarget::sqlite_file(
            std::env::var("BENCH_SQLITE_PATH")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|_| dir.path().join("money.db")),
        ),
    };
    let backend = format!("{:?}", target.backend);
    let pool = dispatch::startup::open_database(&target, 2).unwrap();
    let mut c = pool.get().unwrap();
    let t = Instant::now();
    let seeded: i64 = dispatch::store::centers::count(&mut c).unwrap();
    if seeded == 0 {
        seed(&mut c);
    }
    println!(
        "{backend}: seeded {PAYMENTS} payments in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let year = ReconFilter {
        from: d("2026-01-01"),
        to: d("2026-12-31"),
        center: Some("C".into()),
        technician_id: None,
    };
    let (t, n) = p50(|| money::reconciliation(&mut c, &year).unwrap().len(), 5);
    println!(
        "{backend}: reconciliation SQL, whole year (1,000,000 payments) -> {n} rows: p50 {:.0} ms",
        t.as_secs_f64() * 1e3
    );
    let (t, n) = p50(
        || reports::reconciliation(&mut c, &year).unwrap().rows.len(),
        5,
    );
    println!(
        "{backend}: reconciliation report as served (names, cash in hand), whole year -> {n} rows: p50 {:.0} ms",
        t.as_secs_f64() * 1e3
    );
    let month = ReconFilter {
        from: d("2026-06-01"),
        to: d("2026-06-30"),
        ..year.clone()
    };
    let (t, n) = p50(
        || reports::reconciliation(&mut c, &month).unwrap().rows.len(),
        5,
    );
    println!(
        "{backend}: reconciliation report as served, one month (~82,000 payments) -> {n} rows: p50 {:.0} ms",
        t.as_secs_f64() * 1e3
    );
    let one = ReconFilter {
        technician_id: Some("t07".into()),
        ..year.clone()
    };
    let (t, n) = p50(
        || reports::reconciliation(&mut c, &one).unwrap().rows.len(),
        5,
    );
    println!(
        "{backend}: reconciliation report as served, one technician, whole year -> {n} rows: p50 {:.0} ms",
        t.as_secs_f64() * 1e3
    );

    // ~100,000 ledger rows: 37 days of 2,740 payments
    let filter = PaymentFilter {
        center: Some("C".into()),
        from: Some(d("2026-03-01")),
        to: Some(d("2026-04-06")),
        ..Default::default()
    };
    let mut rows = Vec::new();
    let (t, n) = p50(
        || {
            rows = money::ledger_rows(&mut c, &filter, 1_000_001).unwrap();
            rows.len()
        },
        3,
    );
    println!(
        "{backend}: ledger export query -> {n} rows: p50 {:.0} ms",
        t.as_secs_f64() * 1e3
    );
    let table = reports::ledger_table(&rows);
    let (t, bytes) = p50(|| export::to_csv(&table).unwrap().len(), 3);
    println!(
        "{backend}: CSV of {n} rows ({:.1} MB): p50 {:.0} ms",
        bytes as f64 / 1e6,
        t.as_secs_f64() * 1e3
    );
    let (t, bytes) = p50(|| export::to_xlsx(&table, "收款明细").unwrap().len(), 3);
    println!(
        "{backend}: XLSX of {n} rows ({:.1} MB): p50 {:.0} ms",
        bytes as f64 / 1e6,
        t.as_secs_f64() * 1e3
    );
}
