//! Micro-benchmark of the hot read path without HTTP, on the demo data in SQLite:
//! `cargo run --release --example store_bench` (figures in docs/benchmarks.md).
use std::time::Instant;

use diesel::Connection;
use dispatch::store::{self, DbConn, DbTarget, customers, users};

const N: u32 = 20_000;

fn time(name: &str, conn: &mut DbConn, f: &dyn Fn(&mut DbConn)) {
    let t = Instant::now();
    for _ in 0..N {
        f(conn);
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(N);
    println!("{name:<44} {us:>7.2} µs");
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let target = DbTarget::sqlite_file(dir.path().join("bench.db"));
    let pool = dispatch::startup::open_database(&target, 2).unwrap();
    let mut c = pool.get().unwrap();
    dispatch::demo::load(&mut c).unwrap();
    let first = store::PageReq {
        after: None,
        limit: 1,
    };
    let customer = customers::list(&mut c, &customers::CustomerFilter::default(), &first)
        .unwrap()
        .items
        .remove(0)
        .row
        .id;
    let user = users::find_by_username(&mut c, "zz.agent1")
        .unwrap()
        .unwrap()
        .id;

    time("session check (principal by id)", &mut c, &|c| {
        users::principal(c, &user).unwrap();
    });
    time("10 session checks in one read transaction", &mut c, &|c| {
        c.transaction::<_, store::StoreError, _>(|c| {
            for _ in 0..10 {
                users::principal(c, &user)?;
            }
            Ok(())
        })
        .unwrap();
    });
    time("customer row by id", &mut c, &|c| {
        customers::get_row(c, &customer).unwrap();
    });
    time("customer with contacts (2 queries)", &mut c, &|c| {
        customers::get(c, &customer).unwrap();
    });
    time(
        "GET customer: session + customer + contacts, 1 tx",
        &mut c,
        &|c| {
            c.transaction::<_, store::StoreError, _>(|c| {
                users::principal(c, &user)?;
                customers::get(c, &customer)
            })
            .unwrap();
        },
    );
}
