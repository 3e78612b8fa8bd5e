//! Micro-benchmark of the hot read path without HTTP: the session check and a customer by
//! id, on the demo data in SQLite. `cargo run --release --example store_bench`
use std::time::Instant;

use diesel::connection::SimpleConnection;

use dispatch::store::{self, DbTarget, customers, users};

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let target = DbTarget::sqlite_file(dir.path().join("bench.db"));
    let pool = dispatch::startup::open_database(&target, 2).unwrap();
    let mut c = pool.get().unwrap();
    dispatch::demo::load(&mut c).unwrap();
    let customer = customers::list(
        &mut c,
        &customers::CustomerFilter::default(),
        &store::PageReq {
            after: None,
            limit: 1,
        },
    )
    .unwrap()
    .items
    .remove(0);
    let user = users::find_by_username(&mut c, "zz.agent1")
        .unwrap()
        .unwrap();
    let n = 20_000;
    {
        use diesel::prelude::*;
        use dispatch::store::schema::users::dsl as u;
        if let store::DbConn::Sqlite(inner) = &mut *c {
            inner.set_prepared_statement_cache_size(diesel::connection::CacheSize::Unbounded);
            let t = Instant::now();
            for _ in 0..n {
                let _: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("1"))
                    .get_result(inner)
                    .unwrap();
            }
            println!(
                "{:<24} {:>8.2} µs",
                "select 1 (direct)",
                t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
            );
            #[derive(QueryableByName)]
            #[allow(dead_code)]
            struct P {
                #[diesel(sql_type = diesel::sql_types::Text)]
                id: String,
                #[diesel(sql_type = diesel::sql_types::Bool)]
                active: bool,
                #[diesel(sql_type = diesel::sql_types::Integer)]
                token_version: i32,
            }
            let t = Instant::now();
            for _ in 0..n {
                let _: P =
                    diesel::sql_query("SELECT id, active, token_version FROM users WHERE id = ?")
                        .bind::<diesel::sql_types::Text, _>(&user.id)
                        .get_result(inner)
                        .unwrap();
            }
            println!(
                "{:<24} {:>8.2} µs",
                "sql_query uncached",
                t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
            );
            inner.batch_execute("BEGIN").unwrap();
            let t = Instant::now();
            for _ in 0..n {
                let _: (String, bool, i32) = u::users
                    .find(&user.id)
                    .select((u::id, u::active, u::token_version))
                    .first(inner)
                    .unwrap();
            }
            println!(
                "{:<24} {:>8.2} µs",
                "tuple select in tx",
                t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
            );
            inner.batch_execute("COMMIT").unwrap();
            let t = Instant::now();
            for _ in 0..n {
                let _: users::Principal = u::users
                    .find(&user.id)
                    .select(users::Principal::as_select())
                    .first(inner)
                    .unwrap();
            }
            println!(
                "{:<24} {:>8.2} µs",
                "principal (sqlite direct)",
                t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
            );
            let t = Instant::now();
            for _ in 0..n {
                let _: (String, bool, i32) = u::users
                    .find(&user.id)
                    .select((u::id, u::active, u::token_version))
                    .first(inner)
                    .unwrap();
            }
            println!(
                "{:<24} {:>8.2} µs",
                "tuple select (direct)",
                t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
            );
        }
        let t = Instant::now();
        for _ in 0..n {
            let _: (String, bool, i32) = u::users
                .find(&user.id)
                .select((u::id, u::active, u::token_version))
                .first(&mut *c)
                .unwrap();
        }
        println!(
            "{:<24} {:>8.2} µs",
            "tuple select (multi)",
            t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        );
    }
    for (name, f) in [
        (
            "principal",
            Box::new(|c: &mut store::DbConn| {
                users::principal(c, &user.id).unwrap();
            }) as Box<dyn Fn(&mut store::DbConn)>,
        ),
        (
            "customer row",
            Box::new(|c: &mut store::DbConn| {
                customers::get_row(c, &customer.row.id).unwrap();
            }),
        ),
        (
            "customer with contacts",
            Box::new(|c: &mut store::DbConn| {
                customers::get(c, &customer.row.id).unwrap();
            }),
        ),
    ] {
        let t = Instant::now();
        for _ in 0..n {
            f(&mut c);
        }
        println!(
            "{name:<24} {:>8.2} µs",
            t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        );
    }
}
