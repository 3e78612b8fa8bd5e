//! Find anything: one index range scan per key (`domain::search` says which keys a text
//! asks for and their ranges). Each lookup answers at most `limit` hits of one kind in the
//! same row shape; the app merges, deduplicates and groups them.
//!
//! The keys: order and receipt numbers (prefix), plates (prefix with or without the
//! province character, or suffix), VINs, phones of contacts and drivers, IMEIs, ICCIDs
//! and MSISDNs (suffix, via the reversed generated columns of migration
//! `2026-12-05-001601_search`), and customers' pinyin initials (prefix, table
//! `customer_initials`). On PostgreSQL every key compares in the "C" collation, which is
//! what its index is built in (exact byte order for the prefix ranges).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::schema::customer_initials::dsl as ci;
use super::{DbConn, StoreResult};
use crate::domain::search::{Kind, Match, Range, initials};

/// One object found, in the columns every lookup shares. `a`, `b`, `c` depend on the kind:
/// order: kind, status, site address; payment: order number, method, payment kind;
/// customer: contact name, contact phone; vehicle: VIN, model, or (found by a driver's
/// phone) driver name, driver phone, model; terminal: model, status, plate; SIM: ICCID,
/// status, plate.
#[derive(Debug, Clone, QueryableByName)]
pub struct HitRow {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub customer_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub customer_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub vehicle_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub order_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub a: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub b: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub c: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub amount_fen: Option<i64>,
}

/// A key that is looked up by range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    OrderNo,
    ReceiptNo,
    Plate,
    PlateKey,
    PlateTail,
    VinTail,
    Initials,
    ContactPhone,
    DriverPhone,
    Imei,
    Iccid,
    Msisdn,
}

impl Key {
    pub fn kind(self) -> Kind {
        match self {
            Key::OrderNo => Kind::Order,
            Key::ReceiptNo => Kind::Payment,
            Key::Plate | Key::PlateKey | Key::PlateTail | Key::VinTail | Key::DriverPhone => {
                Kind::Vehicle
            }
            Key::Initials | Key::ContactPhone => Kind::Customer,
            Key::Imei => Kind::Terminal,
            Key::Iccid | Key::Msisdn => Kind::Sim,
        }
    }

    pub fn matched(self) -> Match {
        match self {
            Key::OrderNo => Match::OrderNo,
            Key::ReceiptNo => Match::ReceiptNo,
            Key::Plate | Key::PlateKey | Key::PlateTail => Match::Plate,
            Key::VinTail => Match::Vin,
            Key::Initials => Match::Initials,
            Key::ContactPhone => Match::ContactPhone,
            Key::DriverPhone => Match::DriverPhone,
            Key::Imei => Match::Imei,
            Key::Iccid => Match::Iccid,
            Key::Msisdn => Match::Msisdn,
        }
    }

    /// (select list, from, key column, center column, newest first). `/*C*/` marks
    /// where PostgreSQL compares in the "C" collation (the generated columns already are).
    fn sql(self) -> (&'static str, &'static str, &'static str, &'static str, bool) {
        const VEHICLE: &str =
            "v.id, v.plate_no, v.customer_id, cu.name, v.id, NULL, v.vin, v.model, NULL, NULL";
        const VEHICLE_FROM: &str = "vehicles v JOIN customers cu ON cu.id = v.customer_id";
        const SIM: &str = "s.id, s.msisdn, v.customer_id, cu.name, v.id, NULL, s.iccid, s.status, v.plate_no, NULL";
        const SIM_FROM: &str = "sim_cards s LEFT JOIN terminals t ON t.id = s.terminal_id \
             LEFT JOIN vehicles v ON v.id = t.vehicle_id LEFT JOIN customers cu ON cu.id = v.customer_id";
        match self {
            Key::OrderNo => (
                "o.id, o.number, o.customer_id, cu.name, NULL, o.id, o.kind, o.status, o.site_address, NULL",
                "work_orders o JOIN customers cu ON cu.id = o.customer_id",
                "o.number/*C*/",
                "o.center_id",
                true,
            ),
            Key::ReceiptNo => (
                "p.id, p.receipt_no, p.customer_id, cu.name, NULL, p.order_id, o.number, p.method, p.kind, p.amount_fen",
                "payments p JOIN customers cu ON cu.id = p.customer_id \
                 LEFT JOIN work_orders o ON o.id = p.order_id",
                "p.receipt_no/*C*/",
                "p.center_id",
                true,
            ),
            Key::Plate => (
                VEHICLE,
                VEHICLE_FROM,
                "v.plate_no/*C*/",
                "v.center_id",
                false,
            ),
            Key::PlateKey => (VEHICLE, VEHICLE_FROM, "v.plate_key", "v.center_id", false),
            Key::PlateTail => (VEHICLE, VEHICLE_FROM, "v.plate_rev", "v.center_id", false),
            Key::VinTail => (VEHICLE, VEHICLE_FROM, "v.vin_rev", "v.center_id", false),
            Key::DriverPhone => (
                "v.id, v.plate_no, v.customer_id, cu.name, v.id, NULL, d.name, d.phone, v.model, NULL",
                "drivers d JOIN vehicles v ON v.id = d.vehicle_id \
                 JOIN customers cu ON cu.id = v.customer_id",
                "d.phone_rev",
                "d.center_id",
                false,
            ),
            Key::Initials => (
                "cu.id, cu.name, cu.id, cu.name, NULL, NULL, cc.name, cc.phone, NULL, NULL",
                "customer_initials ci JOIN customers cu ON cu.id = ci.customer_id \
                 LEFT JOIN customer_contacts cc ON cc.customer_id = cu.id AND cc.position = 0",
                "ci.initials",
                "ci.center_id",
                false,
            ),
            Key::ContactPhone => (
                "cu.id, cu.name, cu.id, cu.name, NULL, NULL, cc.name, cc.phone, NULL, NULL",
                "customer_contacts cc JOIN customers cu ON cu.id = cc.customer_id",
                "cc.phone_rev",
                "cu.center_id",
                false,
            ),
            Key::Imei => (
                "t.id, t.imei, v.customer_id, cu.name, t.vehicle_id, NULL, t.model_code, t.status, v.plate_no, NULL",
                "terminals t LEFT JOIN vehicles v ON v.id = t.vehicle_id \
                 LEFT JOIN customers cu ON cu.id = v.customer_id",
                "t.imei_rev",
                "t.center_id",
                false,
            ),
            Key::Iccid => (SIM, SIM_FROM, "s.iccid_rev", "s.center_id", false),
            Key::Msisdn => (SIM, SIM_FROM, "s.msisdn_rev", "s.center_id", false),
        }
    }
}

const COLUMNS: [&str; 10] = [
    "id",
    "title",
    "customer_id",
    "customer_name",
    "vehicle_id",
    "order_id",
    "a",
    "b",
    "c",
    "amount_fen",
];

/// `select` with each expression named by [`COLUMNS`]; NULLs typed so both databases
/// agree on the row's types.
fn named(select: &str) -> String {
    select
        .split(", ")
        .zip(COLUMNS)
        .map(|(expr, name)| match (expr, name) {
            ("NULL", "amount_fen") => format!("CAST(NULL AS BIGINT) AS {name}"),
            ("NULL", _) => format!("CAST(NULL AS TEXT) AS {name}"),
            _ => format!("{expr} AS {name}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement of `key`, for PostgreSQL (`pg`) or SQLite, with or without the center.
pub fn statement(key: Key, pg: bool, scoped: bool) -> String {
    let (select, from, col, center, desc) = key.sql();
    let col = col.replace("/*C*/", if pg { " COLLATE \"C\"" } else { "" });
    let mut sql = format!(
        "SELECT {} FROM {from} WHERE {col} >= $1 AND {col} < $2",
        named(select)
    );
    let limit = if scoped {
        sql.push_str(&format!(" AND {center} = $3"));
        "$4"
    } else {
        "$3"
    };
    let dir = if desc { "DESC" } else { "ASC" };
    sql.push_str(&format!(" ORDER BY {col} {dir} LIMIT {limit}"));
    if pg { sql } else { sql.replace('$', "?") }
}

/// Up to `limit` objects whose `key` is in `range`, of `center` (`None`: all centers).
pub fn lookup(
    conn: &mut DbConn,
    key: Key,
    range: &Range,
    center: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<HitRow>> {
    let pg = matches!(conn, DbConn::Pg(_));
    let sql = statement(key, pg, center.is_some());
    let q = diesel::sql_query(sql)
        .bind::<Text, _>(range.from.as_str())
        .bind::<Text, _>(range.to.as_str());
    Ok(match center {
        Some(center) => {
            let q = q.bind::<Text, _>(center).bind::<BigInt, _>(limit);
            super::db::per_backend!(conn, |c| q.load::<HitRow>(c))?
        }
        None => {
            let q = q.bind::<BigInt, _>(limit);
            super::db::per_backend!(conn, |c| q.load::<HitRow>(c))?
        }
    })
}

/// The statement of a name search: the one substring match, over the customers of a
/// center (or all), with the primary contact.
pub fn name_statement(pg: bool, scoped: bool) -> String {
    let select = named("cu.id, cu.name, cu.id, cu.name, NULL, NULL, cc.name, cc.phone, NULL, NULL");
    let mut sql = format!(
        "SELECT {select} FROM customers cu \
         LEFT JOIN customer_contacts cc ON cc.customer_id = cu.id AND cc.position = 0 \
         WHERE lower(cu.name) LIKE $1 ESCAPE '\\'"
    );
    let limit = if scoped {
        sql.push_str(" AND cu.center_id = $2");
        "$3"
    } else {
        "$2"
    };
    sql.push_str(&format!(" ORDER BY cu.name LIMIT {limit}"));
    if pg { sql } else { sql.replace('$', "?") }
}

/// Up to `limit` customers whose lowercased name is LIKE `pattern`.
pub fn customers_named(
    conn: &mut DbConn,
    pattern: &str,
    center: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<HitRow>> {
    let pg = matches!(conn, DbConn::Pg(_));
    let q = diesel::sql_query(name_statement(pg, center.is_some())).bind::<Text, _>(pattern);
    Ok(match center {
        Some(center) => {
            let q = q.bind::<Text, _>(center).bind::<BigInt, _>(limit);
            super::db::per_backend!(conn, |c| q.load::<HitRow>(c))?
        }
        None => {
            let q = q.bind::<BigInt, _>(limit);
            super::db::per_backend!(conn, |c| q.load::<HitRow>(c))?
        }
    })
}

/// Writes the pinyin initials of a customer's name (every spelling), replacing any.
/// Called with every write of a customer's name, in its transaction.
pub fn set_initials(
    conn: &mut DbConn,
    customer_id: &str,
    center_id: &str,
    name: &str,
) -> StoreResult<()> {
    diesel::delete(ci::customer_initials.filter(ci::customer_id.eq(customer_id))).execute(conn)?;
    let rows: Vec<_> = initials(name)
        .into_iter()
        .map(|s| {
            (
                ci::customer_id.eq(customer_id.to_string()),
                ci::center_id.eq(center_id.to_string()),
                ci::initials.eq(s),
            )
        })
        .collect();
    super::db::per_backend!(conn, |c| diesel::insert_into(ci::customer_initials)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Fills `customer_initials` for every customer that has none (written before the table
/// existed, or by a path that bypassed `store::customers`), in batches; answers how many.
/// Run at start-up: pinyin cannot be computed in a SQL migration.
pub fn backfill_initials(conn: &mut DbConn) -> StoreResult<usize> {
    #[derive(QueryableByName)]
    struct Missing {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Text)]
        center_id: String,
        #[diesel(sql_type = Text)]
        name: String,
    }
    const MISSING: &str = "SELECT cu.id, cu.center_id, cu.name FROM customers cu \
        WHERE NOT EXISTS (SELECT 1 FROM customer_initials ci WHERE ci.customer_id = cu.id) \
        ORDER BY cu.id LIMIT 500";
    let mut done = 0;
    loop {
        let missing: Vec<Missing> =
            super::db::per_backend!(conn, |c| diesel::sql_query(MISSING).load::<Missing>(c))?;
        if missing.is_empty() {
            return Ok(done);
        }
        super::db::write_tx(conn, |c| {
            for m in &missing {
                set_initials(c, &m.id, &m.center_id, &m.name)?;
            }
            Ok::<_, super::StoreError>(())
        })?;
        done += missing.len();
    }
}
