//! Stock at scale (issue 18's budgets): one center with 100,000 terminals and 100,000 SIM
//! cards spread over its warehouse, 50 vans, 40,000 vehicles, the maker and the scrapped
//! books, 20 counted parts in every place, and 1,000,000 ledger rows (ten per terminal);
//! a second, smaller center beside it. Times the center's stock by place and model
//! (`store::stock::stock_by_place_and_model`, the query behind `GET /stock`; budget
//! < 200 ms) and one serial's history (`store::stock::history`; budget < 10 ms), and prints
//! both queries' plans.
//!
//!   cargo run --release --example stock_bench                      # SQLite, temp file
//!   BENCH_DATABASE_URL=postgres://…/empty_db cargo run --release --example stock_bench
//!
//! Sizes: STOCK_BENCH_TERMINALS (100000), STOCK_BENCH_MOVEMENTS (1000000), runs
//! STOCK_BENCH_RUNS (50). `./scripts/bench-stock` runs both databases (docs/benchmarks.md,
//! "Issue 18").
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use dispatch::store::stock::{Serial, history, stock_by_place_and_model};
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

/// Center of row `n`: one in ten is the second center (B), the rest the measured one (C).
fn center(n: &str) -> String {
    format!("CASE WHEN ({n}) % 10 = 9 THEN 'B' ELSE 'C' END")
}

fn seed(c: &mut DbConn, terminals: i64, movements: i64) {
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
    for m in ["BSJ-A6", "GT06N", "JT701", "VL02"] {
        exec(
            c,
            &format!(
                "INSERT INTO terminal_models (code, name, warranty_months, created_at) VALUES ('{m}', '{m}', 24, {t})"
            ),
        );
    }
    let vehicles = terminals * 2 / 5;
    let (w, from) = q.series(vehicles);
    exec(
        c,
        &format!(
            "{w}INSERT INTO vehicles (id, center_id, customer_id, plate_no, vin, model, version, created_at, updated_at)
         SELECT {}, {}, 'CU', {}, {}, '解放J6', 1, {t}, {t} FROM {from}",
            pad("v", "n", 7),
            center("n"),
            pad("豫A", "n", 6),
            pad("LSV", "n", 14)
        ),
    );
    // terminals: 40 % fitted (one per vehicle), 10 % in the 50 vans, 45 % in the warehouse,
    // 3 % there faulty, 1 % at the maker, 1 % scrapped
    let v = vehicles;
    let van = terminals / 2;
    let store = terminals * 95 / 100;
    let repair = terminals * 98 / 100;
    let maker = terminals * 99 / 100;
    let model =
        "CASE n % 4 WHEN 0 THEN 'BSJ-A6' WHEN 1 THEN 'GT06N' WHEN 2 THEN 'JT701' ELSE 'VL02' END";
    let (w, from) = q.series(terminals);
    exec(
        c,
        &format!(
            "{w}INSERT INTO terminals (id, center_id, imei, model_code, purchase_date, warranty_months, status, location, technician_id, vehicle_id, version, created_at, updated_at)
         SELECT {id}, CASE WHEN n < {v} THEN {vc} ELSE {cc} END, {imei}, {model}, '2025-06-01', 24,
            CASE WHEN n < {v} THEN 'installed' WHEN n < {store} THEN 'in_stock' WHEN n < {repair} THEN 'in_repair'
                 WHEN n < {maker} THEN 'returned' ELSE 'scrapped' END,
            CASE WHEN n < {v} THEN 'vehicle' WHEN n < {van} THEN 'technician' ELSE 'warehouse' END,
            CASE WHEN n >= {v} AND n < {van} THEN {tech} ELSE NULL END,
            CASE WHEN n < {v} THEN {veh} ELSE NULL END, 1, {t}, {t} FROM {from}",
            id = pad("t", "n", 7),
            vc = center("n"),
            cc = center("n"),
            imei = pad("86", "n", 13),
            tech = q.tech("n % 50"),
            veh = pad("v", "n", 7),
        ),
    );
    // SIM cards: one in every fitted terminal (in the vehicle), the rest in the warehouse
    let carrier =
        "CASE n % 3 WHEN 0 THEN 'china_mobile' WHEN 1 THEN 'china_unicom' ELSE 'china_telecom' END";
    exec(
        c,
        &format!(
            "{w}INSERT INTO sim_cards (id, center_id, iccid, msisdn, carrier, status, terminal_id, stock_kind, stock_ref, version, created_at, updated_at)
         SELECT {id}, {cen}, {iccid}, {msisdn}, {carrier},
            CASE WHEN n < {v} THEN 'active' ELSE 'in_stock' END,
            CASE WHEN n < {v} THEN {term} ELSE NULL END,
            CASE WHEN n < {v} THEN 'vehicle' ELSE NULL END,
            CASE WHEN n < {v} THEN {veh} ELSE NULL END, 1, {t}, {t} FROM {from}",
            id = pad("s", "n", 7),
            cen = center("n"),
            iccid = pad("898600", "n", 14),
            msisdn = pad("1440", "n", 9),
            term = pad("t", "n", 7),
            veh = pad("v", "n", 7),
        ),
    );
    // 20 counted parts in the warehouse and every van of C
    let (w, from) = q.series(20);
    exec(
        c,
        &format!(
            "{w}INSERT INTO parts (id, code, name, unit_price_fen, active, version, created_at, updated_at)
         SELECT {}, {}, '配件' || n, 500, TRUE, 1, {t}, {t} FROM {from}",
            pad("p", "n", 2),
            pad("P", "n", 2)
        ),
    );
    let (w, from) = q.series(20 * 51);
    exec(
        c,
        &format!(
            "{w}INSERT INTO part_stock (part_id, place_kind, place_id, center_id, quantity, updated_at)
         SELECT {part}, CASE WHEN n / 20 = 50 THEN 'warehouse' ELSE 'van' END,
            CASE WHEN n / 20 = 50 THEN 'C' ELSE {tech} END, 'C', 1 + n % 37, {t} FROM {from}",
            part = pad("p", "n % 20", 2),
            tech = q.tech("n / 20"),
        ),
    );
    // the ledger: ten rows per terminal, issue and return in turn (ids sort by time)
    let (w, from) = q.series(movements);
    exec(
        c,
        &format!(
            "{w}INSERT INTO stock_movements (id, center_id, kind, terminal_id, quantity, from_kind, from_id, to_kind, to_id, actor_id, at)
         SELECT {id}, {cen}, CASE WHEN (n / {terminals}) % 2 = 0 THEN 'issue' ELSE 'return' END,
            {term}, 1,
            CASE WHEN (n / {terminals}) % 2 = 0 THEN 'warehouse' ELSE 'van' END,
            CASE WHEN (n / {terminals}) % 2 = 0 THEN {cen} ELSE {tech} END,
            CASE WHEN (n / {terminals}) % 2 = 0 THEN 'van' ELSE 'warehouse' END,
            CASE WHEN (n / {terminals}) % 2 = 0 THEN {tech} ELSE {cen} END,
            'admin', {at} FROM {from}",
            id = pad("m", "n", 8),
            cen = center(&format!("n % {terminals}")),
            term = pad("t", &format!("n % {terminals}"), 7),
            tech = q.tech("n % 50"),
            at = q.ts("n / 10000", "n % 10000"),
        ),
    );
    exec(c, "ANALYZE");
}

fn plan(c: &mut DbConn, sql: &str) -> Vec<String> {
    if matches!(c, DbConn::Pg(_)) {
        #[derive(QueryableByName)]
        struct PgPlan {
            #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
            line: String,
        }
        diesel::sql_query(format!("EXPLAIN {sql}"))
            .load::<PgPlan>(c)
            .map(|v| v.into_iter().map(|l| l.line).collect())
            .unwrap_or_else(|e| vec![format!("(no plan: {e})")])
    } else {
        #[derive(QueryableByName)]
        struct SqlitePlan {
            #[diesel(sql_type = Text)]
            detail: String,
        }
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<SqlitePlan>(c)
            .map(|v| v.into_iter().map(|l| l.detail).collect())
            .unwrap_or_else(|e| vec![format!("(no plan: {e})")])
    }
}

fn percentiles(mut d: Vec<Duration>) -> (f64, f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1e3;
    let at = |p: f64| ms(d[((d.len() as f64 - 1.0) * p).round() as usize]);
    (at(0.5), at(0.95), ms(d[d.len() - 1]))
}

fn main() {
    let terminals = env("STOCK_BENCH_TERMINALS", 100_000);
    let movements = env("STOCK_BENCH_MOVEMENTS", 1_000_000);
    let runs = env("STOCK_BENCH_RUNS", 50) as usize;
    let dir = tempfile::tempdir().unwrap();
    let target = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => DbTarget::parse(&url).unwrap(),
        _ => DbTarget::sqlite_file(dir.path().join("stock.db")),
    };
    let backend = format!("{:?}", target.backend);
    let pool = dispatch::startup::open_database(&target, 2).unwrap();
    let mut c = pool.get().unwrap();
    let t = Instant::now();
    seed(&mut c, terminals, movements);
    println!(
        "{backend}: seeded {terminals} terminals + {terminals} SIM cards (9/10 in center C), 1,020 part places, {movements} movements in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    for sql in [
        "SELECT place_kind, place_id, model_code, count(*) FROM terminals WHERE center_id = 'C' AND place_kind <> 'vehicle' GROUP BY place_kind, place_id, model_code ORDER BY place_kind, place_id, model_code",
        "SELECT model_code, count(*) FROM terminals WHERE center_id = 'C' AND place_kind = 'vehicle' GROUP BY model_code ORDER BY model_code",
        "SELECT place_kind, place_id, carrier, count(*) FROM sim_cards WHERE center_id = 'C' AND place_kind <> 'vehicle' GROUP BY place_kind, place_id, carrier ORDER BY place_kind, place_id, carrier",
        "SELECT * FROM stock_movements WHERE terminal_id = 't0012345' ORDER BY id",
    ] {
        println!("{backend}: plan of {sql}");
        for l in plan(&mut c, sql) {
            println!("    {l}");
        }
    }

    let mut lines = 0;
    let mut took = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        lines = stock_by_place_and_model(&mut c, "C").unwrap().len();
        took.push(t.elapsed());
    }
    let (p50, p95, max) = percentiles(took);
    println!(
        "{backend}: stock of center C by place and model ({lines} lines): p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms (budget 200 ms)"
    );

    let mut rows = 0;
    let mut took = Vec::with_capacity(runs * 20);
    for i in 0..runs * 20 {
        let id = format!("t{:07}", (i as i64 * 7919) % terminals);
        let t = Instant::now();
        rows = history(&mut c, Serial::Terminal(&id)).unwrap().len();
        took.push(t.elapsed());
    }
    let (p50, p95, max) = percentiles(took);
    println!(
        "{backend}: a terminal's history ({rows} movements): p50 {p50:.3} ms, p95 {p95:.3} ms, max {max:.3} ms (budget 10 ms)"
    );
}
