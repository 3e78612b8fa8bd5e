//! The KPI queries over one year of a large center: 500,000 orders (25,000 of them put on
//! hold once), 50,000 tickets and 50,000 scored follow-up calls, on the store functions the
//! API uses.
//!
//!   cargo run --release --example kpi_bench                      # SQLite, temp file
//!   BENCH_DATABASE_URL=postgres://…/empty_db cargo run --release --example kpi_bench
//!
//! `./scripts/bench-kpi` runs both (figures in docs/benchmarks.md).
use std::time::{Duration, Instant};

use dispatch::app::feedback::kpis::rows as kpi_rows;
use dispatch::store::feedback::{KpiGroup, kpi_data};
use dispatch::store::{DbConn, DbTarget};

const ORDERS: i64 = 500_000;
const TICKETS: i64 = 50_000;

#[path = "support/seed_sql.rs"]
mod seed_sql;
use seed_sql::{Sql, base, exec};

fn seed(c: &mut DbConn) {
    base(c);
    let q = Sql::of(c);
    let series = |count| q.series(count);
    let ts = |d: &str, s: &str| q.ts(d, s);
    let tech = |x: &str| q.tech(x);
    let id = |p: &str| q.id(p);
    let order_of = |x: &str| q.padded("o", x, 7);
    let (w, from) = series(ORDERS);
    let at = ts("n % 365", "(n * 7) % 86400");
    exec(c, &format!(
        "{w}INSERT INTO work_orders (id, number, kind, center_id, customer_id, status, urgency, channel, site_address, site_lat, site_lng, contact_name, contact_phone, requested_at, created_by, lead_technician_id, wait_seconds, repair_seconds, version, created_at, updated_at)
         SELECT {}, {}, CASE WHEN n % 3 = 0 THEN 'install' ELSE 'repair' END, 'C', 'CU',
            CASE WHEN n % 10 < 7 THEN 'closed' WHEN n % 10 = 7 THEN 'completed' WHEN n % 10 = 8 THEN 'on_site' ELSE 'cancelled' END,
            'normal', 'phone', '郑州', 34.7, 113.6, '王喆', '13800138000', {at}, 'admin', {},
            CASE WHEN n % 10 < 9 THEN 600 + (n * 37) % 7200 ELSE NULL END,
            CASE WHEN n % 10 < 8 THEN 900 + (n * 53) % 10800 ELSE NULL END,
            1, {at}, {at} FROM {from}",
        id("o"), id("WX-ZZ-2026-"), tech("n % 50")
    ));
    let (w, from) = series(ORDERS / 20);
    exec(
        c,
        &format!(
            "{w}INSERT INTO order_events (id, order_id, at, actor_id, action) SELECT {}, {}, {}, 'admin', 'hold' FROM {from}",
            id("e"),
            order_of("n * 20"),
            ts("n % 365", "0")
        ),
    );
    let (w, from) = series(TICKETS);
    let received = ts("n % 365", "(n * 13) % 86400");
    let due = ts(
        "n % 365",
        "(n * 13) % 86400 + CASE WHEN n % 4 = 0 THEN 3600 ELSE 86400 END",
    );
    let replied = ts("n % 365", "(n * 13) % 86400 + (n % 50) * 60 * 30");
    exec(c, &format!(
        "{w}INSERT INTO tickets (id, number, center_id, customer_id, order_id, kind, channel, urgency, subject, description, status, owner_id, created_by, received_at, reply_due_at, replied_at, breached, version, created_at, updated_at)
         SELECT {}, {}, 'C', 'CU', CASE WHEN n % 2 = 0 THEN {} ELSE NULL END,
            CASE n % 3 WHEN 0 THEN 'complaint' WHEN 1 THEN 'inquiry' ELSE 'suggestion' END, 'hotline',
            CASE WHEN n % 4 = 0 THEN 'urgent' ELSE 'normal' END, '终端离线', '客户来电',
            CASE n % 4 WHEN 0 THEN 'open' WHEN 1 THEN 'replied' WHEN 2 THEN 'resolved' ELSE 'closed' END,
            'admin', 'admin', {received}, {due}, CASE WHEN n % 5 = 0 THEN NULL ELSE {replied} END, FALSE,
            1, {received}, {received} FROM {from}",
        id("tk"), id("TS-ZZ-2026-"), order_of("n * 10")
    ));
    exec(c, &format!(
        "{w}INSERT INTO follow_ups (id, center_id, customer_id, order_id, kind, status, due_at, done_at, score, version, created_at, updated_at)
         SELECT {}, 'C', 'CU', {}, 'completion', 'done', {received}, {received}, 1 + n % 5, 1, {received}, {received} FROM {from}",
        id("f"), order_of("n * 10")
    ));
    // PostgreSQL: as autovacuum would leave it (visibility map set, so index-only scans)
    let pg = matches!(c, DbConn::Pg(_));
    exec(c, if pg { "VACUUM ANALYZE" } else { "ANALYZE" });
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
    if std::env::var("KPI_DEBUG").is_ok() {
        tracing_subscriber::fmt()
            .with_env_filter("dispatch=debug")
            .init();
    }
    let dir = tempfile::tempdir().unwrap();
    let target = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => DbTarget::parse(&url).unwrap(),
        _ => DbTarget::sqlite_file(dir.path().join("kpi.db")),
    };
    let backend = format!("{:?}", target.backend);
    let pool = dispatch::startup::open_database(&target, 2).unwrap();
    let mut c = pool.get().unwrap();
    let t = Instant::now();
    seed(&mut c);
    println!(
        "{backend}: seeded {ORDERS} orders, {TICKETS} tickets, {TICKETS} calls in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        - chrono::Duration::hours(8);
    let to = chrono::NaiveDate::from_ymd_opt(2027, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        - chrono::Duration::hours(8);
    for (name, group) in [
        ("by center", KpiGroup::Center),
        ("by technician", KpiGroup::Technician),
    ] {
        let (t, n) = p50(
            || {
                kpi_rows(kpi_data(&mut c, group, from, to, Some("C"), to).unwrap())
                    .unwrap()
                    .len()
            },
            5,
        );
        println!(
            "{backend}: KPIs for the whole year, {name} -> {n} rows: p50 {:.0} ms",
            t.as_secs_f64() * 1e3
        );
    }
    let month_to = chrono::NaiveDate::from_ymd_opt(2026, 2, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        - chrono::Duration::hours(8);
    let (t, _) = p50(
        || {
            kpi_rows(kpi_data(&mut c, KpiGroup::Center, from, month_to, Some("C"), to).unwrap())
                .unwrap()
                .len()
        },
        5,
    );
    println!(
        "{backend}: KPIs for January, by center: p50 {:.0} ms",
        t.as_secs_f64() * 1e3
    );
    let r = kpi_rows(kpi_data(&mut c, KpiGroup::Center, from, to, Some("C"), to).unwrap()).unwrap();
    println!(
        "{backend}: check {:?}",
        (
            r[0].orders_total,
            r[0].wait_p90_seconds,
            r[0].repair_p90_seconds,
            r[0].first_visit_fix_rate,
            r[0].tickets,
            r[0].replied_in_time_rate,
            r[0].satisfaction_avg
        )
    );
}
