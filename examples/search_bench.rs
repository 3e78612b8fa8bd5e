//! Find anything on a big registry: 100,000 orders, 1,000,000 terminals with their SIMs,
//! 600,000 vehicles with a driver each, 20,000 customers with a contact, 50,000 receipts,
//! in two centers (ZZ nine tenths, BJ the rest). Times every kind of search through the
//! use case the API calls (`app::search::search`: all lookups of the text, merged), as an
//! agent of ZZ (scoped to the center) and as an admin (all centers), and prints each
//! lookup's query plan, failing if any reads a big table without an index.
//!
//!   cargo run --release --example search_bench                      # SQLite, temp file
//!   BENCH_DATABASE_URL=postgres://…/empty_db cargo run --release --example search_bench
//!
//! Sizes: SEARCH_BENCH_ORDERS (100000), SEARCH_BENCH_TERMINALS (1000000), runs per query
//! SEARCH_BENCH_RUNS (200). `./scripts/bench-search` runs both databases
//! (docs/benchmarks.md, "Issue 16 — search").
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use dispatch::app::Principal;
use dispatch::app::search::{Search, search};
use dispatch::domain::access::Role;
use dispatch::domain::search::Plan;
use dispatch::store::search::{Key, name_statement, statement};
use dispatch::store::{DbConn, DbTarget};

#[path = "support/seed_sql.rs"]
mod seed_sql;
use seed_sql::{Sql, base, exec};

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Sizes {
    orders: i64,
    terminals: i64,
    vehicles: i64,
    customers: i64,
    payments: i64,
}

/// Center of row `n`: one in ten is BJ.
fn center(n: &str) -> String {
    format!("CASE WHEN ({n}) % 10 = 9 THEN 'B' ELSE 'C' END")
}

fn seed(c: &mut DbConn, z: &Sizes) {
    base(c);
    let q = Sql::of(c);
    let pad = |p: &str, x: &str, w: usize| q.padded(p, x, w);
    let t = "'2026-01-01 00:00:00'";
    exec(
        c,
        &format!(
            "INSERT INTO service_centers (id, code, name, region, lat, lng, version, created_at, updated_at) VALUES ('B', 'BJ', '北京服务中心', '北京', 39.9, 116.4, 1, {t}, {t})"
        ),
    );
    exec(
        c,
        &format!(
            "INSERT INTO terminal_models (code, name, warranty_months, created_at) VALUES ('GT06N', 'GT06N', 24, {t})"
        ),
    );

    // customers: a city, a trade name and a kind of business, numbered
    let (w, from) = q.series(z.customers);
    let pick = |list: &str, len: i64, x: &str| {
        format!(
            "substr('{list}', (({x}) % {}) * {len} + 1, {len})",
            list.chars().count() as i64 / len
        )
    };
    let name = format!(
        "{} || {} || {} || ({}) ",
        pick("郑州开封洛阳新乡安阳南阳商丘信阳", 2, "n"),
        pick("顺达宇通中原黄河远航恒信金桥天路", 2, "n / 8"),
        pick("物流运输快运客运", 2, "n / 64"),
        "n"
    );
    exec(c, &format!(
        "{w}INSERT INTO customers (id, center_id, name, tier, address, payment_terms, version, created_at, updated_at)
         SELECT {}, {}, {name}, 'normal', '花园路', 'cash', 1, {t}, {t} FROM {from}",
        pad("cu", "n", 7), center("n")));
    exec(
        c,
        &format!(
            "{w}INSERT INTO customer_contacts (id, customer_id, position, name, phone)
         SELECT {}, {}, 0, '王先生', {} FROM {from}",
            pad("cc", "n", 7),
            pad("cu", "n", 7),
            pad("138", "n", 8)
        ),
    );

    // vehicles with a driver: 豫/京 + a letter + five digits, unique by n
    let (w, from) = q.series(z.vehicles);
    let plate = format!(
        "CASE WHEN n % 10 = 9 THEN '京' ELSE '豫' END || substr('ABCDEFGHJKLMNPQRSTUVWXYZ', n / 100000 + 1, 1) || {}",
        pad("", "n % 100000", 5)
    );
    exec(c, &format!(
        "{w}INSERT INTO vehicles (id, center_id, customer_id, plate_no, vin, model, version, created_at, updated_at)
         SELECT {}, {}, {}, {plate}, {}, '解放J6', 1, {t}, {t} FROM {from}",
        pad("v", "n", 7), center("n"), pad("cu", &format!("(n / 10) * 10 % {} + n % 10", z.customers), 7),
        pad("LSV", "n", 14)));
    exec(c, &format!(
        "{w}INSERT INTO drivers (id, center_id, vehicle_id, name, phone, version, created_at, updated_at)
         SELECT {}, {}, {}, '李师傅', {}, 1, {t}, {t} FROM {from}",
        pad("d", "n", 7), center("n"), pad("v", "n", 7), pad("139", "n", 8)));

    // terminals: the first ones fitted (one per vehicle), the rest in stock; a SIM in each
    let (w, from) = q.series(z.terminals);
    exec(c, &format!(
        "{w}INSERT INTO terminals (id, center_id, imei, model_code, purchase_date, warranty_months, status, location, vehicle_id, version, created_at, updated_at)
         SELECT {}, {}, {}, 'GT06N', '2025-06-01', 24,
            CASE WHEN n < {v} THEN 'installed' ELSE 'in_stock' END,
            CASE WHEN n < {v} THEN 'vehicle' ELSE 'warehouse' END,
            CASE WHEN n < {v} THEN {} ELSE NULL END, 1, {t}, {t} FROM {from}",
        pad("t", "n", 7), center("n"), pad("86", "n", 13), pad("v", "n", 7), v = z.vehicles));
    exec(c, &format!(
        "{w}INSERT INTO sim_cards (id, center_id, iccid, msisdn, carrier, status, terminal_id, version, created_at, updated_at)
         SELECT {}, {}, {}, {}, 'china_mobile', 'active', {}, 1, {t}, {t} FROM {from}",
        pad("s", "n", 7), center("n"), pad("898600", "n", 14), pad("1440", "n", 9), pad("t", "n", 7)));

    // orders, and a charge and a receipt for half of them
    let (w, from) = q.series(z.orders);
    let number = format!(
        "CASE WHEN n % 10 = 9 THEN 'AZ-BJ-2026-' ELSE 'AZ-ZZ-2026-' END || {}",
        pad("", "n", 6)
    );
    exec(c, &format!(
        "{w}INSERT INTO work_orders (id, number, kind, center_id, customer_id, status, urgency, channel, site_address, site_lat, site_lng, contact_name, contact_phone, requested_at, created_by, version, created_at, updated_at)
         SELECT {}, {number}, 'install', {}, {}, 'closed', 'normal', 'phone', '郑州', 34.7, 113.6, '王先生', '13800138000', {t}, 'admin', 1, {t}, {t} FROM {from}",
        pad("o", "n", 7), center("n"), pad("cu", &format!("(n / 10) * 10 % {} + n % 10", z.customers), 7)));
    let (w, from) = q.series(z.payments);
    let order = "n * 2";
    exec(c, &format!(
        "{w}INSERT INTO charges (id, order_id, center_id, customer_id, terms, amount_fen, adjusted_fen, paid_fen, status, day, created_at, version, updated_at)
         SELECT {}, {}, {}, {}, 'cash', 5000, 0, 5000, 'paid', '2026-01-01', {t}, 1, {t} FROM {from}",
        pad("ch", "n", 7), pad("o", order, 7), center(order),
        pad("cu", &format!("({order} / 10) * 10 % {} + ({order}) % 10", z.customers), 7)));
    let receipt = format!(
        "CASE WHEN ({order}) % 10 = 9 THEN 'SJ-BJ-2026-' ELSE 'SJ-ZZ-2026-' END || {}",
        pad("", "n", 6)
    );
    exec(c, &format!(
        "{w}INSERT INTO payments (id, center_id, kind, charge_id, order_id, customer_id, amount_fen, method, payer_name, paid_at, day, collector_id, on_site, receipt_no, recorded_by, created_at)
         SELECT {}, {}, 'collection', {}, {}, {}, 5000, 'cash', '王先生', {t}, '2026-01-01', 't00', TRUE, {receipt}, 't00', {t} FROM {from}",
        pad("p", "n", 7), center(order), pad("ch", "n", 7), pad("o", order, 7),
        pad("cu", &format!("({order} / 10) * 10 % {} + ({order}) % 10", z.customers), 7)));
    let pg = matches!(c, DbConn::Pg(_));
    exec(c, if pg { "VACUUM ANALYZE" } else { "ANALYZE" });
}

/// The plan of `sql` with sample binds (SQL literals), one line per step; panics on a full
/// scan of a big table (SQLite: `SCAN x` without an index; PostgreSQL: `Seq Scan on x`).
fn explain(c: &mut DbConn, label: &str, sql: &str, binds: &[&str]) {
    const BIG: [&str; 8] = [
        "work_orders",
        "payments",
        "vehicles",
        "drivers",
        "terminals",
        "sim_cards",
        "customer_contacts",
        "customer_initials",
    ];
    let pg = matches!(c, DbConn::Pg(_));
    let mut text = sql.to_string();
    let mark = if pg { '$' } else { '?' };
    for (i, b) in binds.iter().enumerate().rev() {
        text = text.replace(&format!("{mark}{}", i + 1), b);
    }
    let lines: Vec<String> = if pg {
        // EXPLAIN's one column is named "QUERY PLAN": read it through a function
        exec(c, "CREATE OR REPLACE FUNCTION pg_temp.plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
            DECLARE r text; BEGIN FOR r IN EXECUTE 'EXPLAIN ' || q LOOP RETURN NEXT r; END LOOP; END $f$");
        diesel::sql_query("SELECT pg_temp.plan_of($1) AS plan")
            .bind::<Text, _>(&text)
            .load::<PgPlan>(c)
            .unwrap_or_else(|e| panic!("{e}: {text}"))
            .into_iter()
            .map(|p| p.plan)
            .collect()
    } else {
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {text}"))
            .load::<SqlitePlan>(c)
            .unwrap_or_else(|e| panic!("{e}: {text}"))
            .into_iter()
            .map(|p| p.detail)
            .collect()
    };
    println!("  plan {label}:");
    for l in &lines {
        println!("    {l}");
        let full = BIG.iter().any(|t| {
            if pg {
                l.contains(&format!("Seq Scan on {t} "))
            } else {
                l.trim_start().starts_with(&format!("SCAN {t}")) && !l.contains("USING")
            }
        });
        assert!(!full, "{label}: full scan of a big table: {l}");
    }
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = Text)]
    plan: String,
}

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = Text)]
    detail: String,
}

fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |p: f64| {
        let i = ((p * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1e3
    };
    (at(0.50), at(0.99))
}

fn main() {
    let z = {
        let orders = env("SEARCH_BENCH_ORDERS", 100_000);
        let terminals = env("SEARCH_BENCH_TERMINALS", 1_000_000);
        Sizes {
            orders,
            terminals,
            vehicles: terminals * 3 / 5,
            customers: (terminals / 50).max(100),
            payments: orders / 2,
        }
    };
    let runs = env("SEARCH_BENCH_RUNS", 200) as usize;
    let dir = tempfile::tempdir().unwrap();
    let target = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => DbTarget::parse(&url).unwrap(),
        _ => DbTarget::sqlite_file(dir.path().join("search.db")),
    };
    let backend = format!("{:?}", target.backend);
    let pool = dispatch::startup::open_database(&target, 2).unwrap();
    let mut c = pool.get().unwrap();
    let t = Instant::now();
    seed(&mut c, &z);
    println!(
        "{backend}: seeded {} orders, {} terminals + SIMs, {} vehicles + drivers, {} customers, {} receipts in {:.1} s",
        z.orders,
        z.terminals,
        z.vehicles,
        z.customers,
        z.payments,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let filled = dispatch::store::search::backfill_initials(&mut c).unwrap();
    println!(
        "{backend}: start-up back-fill of pinyin initials: {filled} customers in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    if matches!(&*c, DbConn::Pg(_)) {
        exec(&mut c, "ANALYZE customer_initials");
    } else {
        exec(&mut c, "ANALYZE");
    }

    // the plans: every lookup, scoped and not
    let pg = matches!(&*c, DbConn::Pg(_));
    for key in [
        Key::OrderNo,
        Key::ReceiptNo,
        Key::Plate,
        Key::PlateKey,
        Key::PlateTail,
        Key::VinTail,
        Key::Initials,
        Key::ContactPhone,
        Key::DriverPhone,
        Key::Imei,
        Key::Iccid,
        Key::Msisdn,
    ] {
        explain(
            &mut c,
            &format!("{key:?} (center)"),
            &statement(key, pg, true),
            &["'1234'", "'1235'", "'C'", "5"],
        );
        explain(
            &mut c,
            &format!("{key:?} (all)"),
            &statement(key, pg, false),
            &["'1234'", "'1235'", "5"],
        );
    }
    explain(
        &mut c,
        "name (center)",
        &name_statement(pg, true),
        &["'%顺达%'", "'C'", "5"],
    );

    // the searches: (what, text), each in full as the API runs it
    let n = z.terminals / 3 + 12_345; // a fitted terminal's number, in ZZ
    let n = if n % 10 == 9 { n + 1 } else { n } % z.vehicles;
    let pad = |p: &str, x: i64, w: usize| format!("{p}{x:0w$}");
    let plate = format!(
        "豫{}{:05}",
        &"ABCDEFGHJKLMNPQRSTUVWXYZ"[(n / 100_000) as usize..][..1],
        n % 100_000
    );
    let order_no = format!("AZ-ZZ-2026-{:06}", (z.orders / 2) / 10 * 10 + 3);
    let receipt = format!("SJ-ZZ-2026-{:06}", (z.payments / 2) / 10 * 10 + 1);
    let contact = pad("138", (z.customers / 2) / 10 * 10 + 4, 8);
    let driver = pad("139", n, 8);
    let imei = pad("86", n, 13);
    let iccid = pad("898600", n, 14);
    let msisdn = pad("1440", n, 9);
    let cases: Vec<(&str, String)> = vec![
        ("order number, full", order_no.clone()),
        ("order number, prefix", order_no[..14].to_string()),
        ("plate, full", plate.clone()),
        (
            "plate, with province, partial",
            plate.chars().take(5).collect(),
        ),
        ("plate, without province", plate.chars().skip(1).collect()),
        ("plate, last 5 digits", plate.chars().skip(2).collect()),
        ("contact phone, full", contact.clone()),
        ("contact phone, last 4", contact[7..].to_string()),
        ("driver phone, full", driver.clone()),
        ("driver phone, last 4", driver[7..].to_string()),
        ("customer name, part", "顺达".to_string()),
        ("pinyin initials", "zzsd".to_string()),
        ("IMEI, full", imei.clone()),
        ("IMEI, last 6", imei[9..].to_string()),
        ("ICCID, full", iccid.clone()),
        ("ICCID, last 8", iccid[12..].to_string()),
        ("MSISDN, full", msisdn.clone()),
        ("MSISDN, last 4", msisdn[9..].to_string()),
        ("receipt number, full", receipt.clone()),
        ("receipt number, prefix", receipt[..12].to_string()),
    ];
    let agent = Principal::new("agent".into(), Role::Agent, "C".into());
    let admin = Principal::new("admin".into(), Role::Admin, "C".into());
    println!("{backend}: {runs} runs each, ms (p50 / p99), hits; agent of ZZ | admin, all centers");
    let mut worst: f64 = 0.0;
    for (what, text) in &cases {
        let mut line = format!("{backend}: {what:<32} {text:<22}");
        for who in [&agent, &admin] {
            let mut times = Vec::with_capacity(runs);
            let mut hits = 0;
            for _ in 0..runs {
                let t = Instant::now();
                let r = search(
                    &mut c,
                    who,
                    Search {
                        plan: Plan::parse(text).unwrap(),
                        kinds: Vec::new(),
                        limit: 5,
                        center_id: None,
                    },
                )
                .unwrap();
                times.push(t.elapsed());
                hits = r.groups.iter().map(|g| g.items.len()).sum::<usize>();
            }
            assert!(hits > 0, "{what}: {text} found nothing");
            let (p50, p99) = percentiles(times);
            worst = worst.max(p99);
            line.push_str(&format!(" | {p50:6.2} / {p99:6.2}  {hits:>2}"));
        }
        println!("{line}");
    }
    println!("{backend}: worst p99 {worst:.2} ms (budget 100 ms)");
}
