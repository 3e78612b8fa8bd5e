//! SQL for seeding the benchmarks' large data sets in the database itself (a row series of
//! any length, times, ids), spelled for SQLite or PostgreSQL. Shared by the benches.
#![allow(dead_code)]

use diesel::prelude::*;
use dispatch::store::DbConn;

pub fn exec(c: &mut DbConn, sql: &str) {
    diesel::sql_query(sql)
        .execute(c)
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// The one center, customer, 50 technicians (`t00`…`t49`) and an admin every bench uses.
pub fn base(c: &mut DbConn) {
    let t = "'2026-01-01 00:00:00'";
    exec(
        c,
        &format!(
            "INSERT INTO service_centers (id, code, name, region, lat, lng, version, created_at, updated_at) VALUES ('C', 'ZZ', '郑州服务中心', '河南', 34.7, 113.6, 1, {t}, {t})"
        ),
    );
    exec(
        c,
        &format!(
            "INSERT INTO customers (id, center_id, name, tier, address, payment_terms, version, created_at, updated_at) VALUES ('CU', 'C', '郑州宇通物流有限公司', 'key', '郑州', 'cash', 1, {t}, {t})"
        ),
    );
    for i in 0..=50 {
        let (id, role) = if i == 50 {
            ("admin".to_string(), "admin")
        } else {
            (format!("t{i:02}"), "technician")
        };
        exec(
            c,
            &format!(
                "INSERT INTO users (id, username, display_name, role, center_id, password_hash, version, created_at, updated_at) VALUES ('{id}', '{id}', '技术员{i}', '{role}', 'C', 'x', 1, {t}, {t})"
            ),
        );
    }
}

/// SQL fragments over a row series `n` = 0, 1, 2, …
pub struct Sql {
    pub pg: bool,
}

impl Sql {
    pub fn of(c: &DbConn) -> Sql {
        Sql {
            pg: matches!(c, DbConn::Pg(_)),
        }
    }

    /// (prefix, FROM clause) of a series of `count` rows: put the prefix before INSERT.
    pub fn series(&self, count: i64) -> (String, String) {
        let last = count - 1;
        if self.pg {
            (String::new(), format!("generate_series(0, {last}) AS s(n)"))
        } else {
            (
                format!(
                    "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {last}) "
                ),
                "s".into(),
            )
        }
    }

    /// 2026-01-01 UTC plus `days` days and `secs` seconds (SQL expressions).
    pub fn ts(&self, days: &str, secs: &str) -> String {
        if self.pg {
            format!(
                "(TIMESTAMP '2026-01-01' + ({days}) * INTERVAL '1 day' + ({secs}) * INTERVAL '1 second')"
            )
        } else {
            format!(
                "datetime('2026-01-01', '+' || ({days}) || ' days', '+' || ({secs}) || ' seconds')"
            )
        }
    }

    /// The China day of a time expression.
    pub fn day(&self, t: &str) -> String {
        if self.pg {
            format!("CAST({t} + INTERVAL '8 hours' AS DATE)")
        } else {
            format!("date({t}, '+8 hours')")
        }
    }

    /// The technician `t00`…`t49` of an expression.
    pub fn tech(&self, x: &str) -> String {
        self.padded("t", x, 2)
    }

    /// `prefix` followed by expression `x` zero-padded to `width` digits.
    pub fn padded(&self, prefix: &str, x: &str, width: usize) -> String {
        if self.pg {
            format!("'{prefix}' || lpad(({x})::text, {width}, '0')")
        } else {
            format!("'{prefix}' || printf('%0{width}d', {x})")
        }
    }

    /// `prefix` followed by the row number, seven digits.
    pub fn id(&self, prefix: &str) -> String {
        self.padded(prefix, "n", 7)
    }
}
