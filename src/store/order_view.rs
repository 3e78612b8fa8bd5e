//! Everything an order's view shows, read in three statements: the order with its
//! customer's name and its charge; its lines with each vehicle's plate and what is fitted
//! in it; its technicians, parts used and verbal approvals together. Every order action
//! answers this view, so it is read once per request and kept to few round trips
//! (PostgreSQL) and few statements (SQLite).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::equipment::Fitted;
use super::money::Charge;
use super::orders::{Assignment, Line, PartUsed, VerbalApproval, WorkOrder};
use super::photos::{ProofRules, Waiver};
use super::schema::{
    charges as ch, customers as cu, photo_waivers as pw, proof_rules as pr, report_waivers as rw,
    sim_cards as s, terminal_checks as tc, terminals as t, vehicles as v, work_order_lines as l,
    work_orders as o,
};
use super::tracking::{ReportWaiver, TerminalCheck};
use super::{DbConn, StoreResult, db::per_backend};

/// An order and everything on it, as stored.
#[derive(Debug, Clone)]
pub struct OrderViewRows {
    pub order: WorkOrder,
    /// empty if the customer is gone (it cannot be: a foreign key)
    pub customer_name: String,
    pub charge: Option<Charge>,
    /// by position
    pub lines: Vec<LineRows>,
    /// the lead first, then helpers, each by id
    pub technicians: Vec<Assignment>,
    /// in the order they were recorded
    pub parts: Vec<PartUsed>,
    /// in the order they were recorded
    pub verbal_approvals: Vec<VerbalApproval>,
    /// in the order they were uploaded
    pub photos: Vec<PhotoBrief>,
    /// the center's proof rules (none stored: nothing required)
    pub rules: ProofRules,
    /// a manager's waiver of missing photos
    pub waiver: Option<Waiver>,
    /// a manager's override of terminals not reporting
    pub report_waiver: Option<ReportWaiver>,
}

/// A photo on the order, as its view lists it (`GET /work-orders/{id}/photos` has the
/// rest: size in pixels, position).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PhotoBrief {
    pub id: String,
    pub line_id: Option<String>,
    pub kind: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
    pub taken_at: Option<NaiveDateTime>,
    pub uploaded_by: String,
    pub uploaded_at: NaiveDateTime,
}

/// A line with its vehicle's plate and what is in that vehicle now.
#[derive(Debug, Clone)]
pub struct LineRows {
    pub line: Line,
    pub plate_no: String,
    /// the vehicle's installed terminal and that terminal's SIM card; `None` when no
    /// terminal is installed (as `equipment::fitted`)
    pub fitted: Option<Fitted>,
    /// the terminal's first-report check (上线检测), once work fitted one
    pub check: Option<TerminalCheck>,
}

/// The order `order_id` and everything on it; `NotFound` if there is no such order.
pub fn load(conn: &mut DbConn, order_id: &str) -> StoreResult<OrderViewRows> {
    let (order, customer_name, charge, rules, waiver, report_waiver) = head(conn, order_id)?;
    let lines = lines(conn, order_id)?;
    let (technicians, parts, verbal_approvals, photos) = children(conn, order_id)?;
    Ok(OrderViewRows {
        order,
        customer_name: customer_name.unwrap_or_default(),
        charge,
        lines,
        technicians,
        parts,
        verbal_approvals,
        photos,
        rules: rules.unwrap_or_default(),
        waiver,
        report_waiver,
    })
}

type Head = (
    WorkOrder,
    Option<String>,
    Option<Charge>,
    Option<ProofRules>,
    Option<Waiver>,
    Option<ReportWaiver>,
);

/// Statement 1: the order, its customer's name, its charge (one per order at most), its
/// center's proof rules and its photo waiver.
fn head(conn: &mut DbConn, order_id: &str) -> StoreResult<Head> {
    Ok(per_backend!(conn, |c| o::table
        .left_join(cu::table.on(cu::id.eq(o::customer_id)))
        .left_join(ch::table.on(ch::order_id.eq(o::id)))
        .left_join(pr::table.on(pr::center_id.eq(o::center_id)))
        .left_join(pw::table.on(pw::order_id.eq(o::id)))
        .left_join(rw::table.on(rw::order_id.eq(o::id)))
        .filter(o::id.eq(order_id))
        .select((
            WorkOrder::as_select(),
            cu::name.nullable(),
            Option::<Charge>::as_select(),
            Option::<ProofRules>::as_select(),
            Option::<Waiver>::as_select(),
            Option::<ReportWaiver>::as_select(),
        ))
        .first::<Head>(c))?)
}

/// A line row joined with its vehicle, the vehicle's installed terminal and that
/// terminal's SIM cards (more than one joined row per line only if the data holds two
/// installed terminals in one vehicle or two SIM cards in one terminal).
type LineJoin = (
    Line,
    Option<String>,
    Option<(String, String, String)>,
    Option<(String, String, String, String)>,
    Option<TerminalCheck>,
);

/// Statement 2: the lines with plate and fitted equipment.
fn lines(conn: &mut DbConn, order_id: &str) -> StoreResult<Vec<LineRows>> {
    let rows: Vec<LineJoin> = per_backend!(conn, |c| l::table
        .left_join(v::table.on(v::id.eq(l::vehicle_id)))
        .left_join(
            t::table.on(t::vehicle_id
                .eq(l::vehicle_id.nullable())
                .and(t::status.eq("installed"))),
        )
        .left_join(s::table.on(s::terminal_id.eq(t::id.nullable())))
        .left_join(tc::table.on(tc::line_id.eq(l::id)))
        .filter(l::order_id.eq(order_id))
        .order((l::position.asc(), t::id.desc(), s::id.asc()))
        .select((
            Line::as_select(),
            v::plate_no.nullable(),
            (t::id, t::imei, t::model_code).nullable(),
            (s::id, s::iccid, s::msisdn, s::carrier).nullable(),
            Option::<TerminalCheck>::as_select(),
        ))
        .load(c))?;
    let mut out: Vec<LineRows> = Vec::with_capacity(rows.len());
    for (line, plate, terminal, sim, check) in rows {
        // the first joined row of a line is the one `equipment::fitted` picks: the
        // installed terminal with the greatest id, its SIM card with the least
        if out.last().is_some_and(|prev| prev.line.id == line.id) {
            continue;
        }
        let fitted = terminal.map(|(id, imei, model)| {
            let (sim_id, iccid, msisdn, carrier) = match sim {
                Some((a, b, c, d)) => (Some(a), Some(b), Some(c), Some(d)),
                None => (None, None, None, None),
            };
            Fitted {
                terminal_id: Some(id),
                terminal_imei: Some(imei),
                terminal_model: Some(model),
                sim_id,
                sim_iccid: iccid,
                sim_msisdn: msisdn,
                sim_carrier: carrier,
            }
        });
        out.push(LineRows {
            line,
            plate_no: plate.unwrap_or_default(),
            fitted,
            check,
        });
    }
    Ok(out)
}

/// One row of statement 3: a technician (kind 0), a part used (1), a verbal approval
/// (2) or a photo (3) in the columns their union has in common.
#[derive(QueryableByName)]
struct ChildRow {
    #[diesel(sql_type = Integer)]
    kind: i32,
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Nullable<Text>)]
    b: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    c: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    d: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    e: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    f: Option<String>,
    #[diesel(sql_type = Timestamp)]
    t1: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    t2: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    t3: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Integer>)]
    qty: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    price: Option<i64>,
}

/// Statement 3 (`?1`/`$1` is the order id). The first branch types the columns that
/// are NULL in it through CASTs, so both databases agree on every column's type.
const CHILDREN_SQL: &str = "\
SELECT 0 AS kind, technician_id AS a, role AS b, CAST(NULL AS TEXT) AS c,
       CAST(NULL AS TEXT) AS d, CAST(NULL AS TEXT) AS e, CAST(NULL AS TEXT) AS f,
       assigned_at AS t1, CAST(NULL AS TIMESTAMP) AS t2, CAST(NULL AS TIMESTAMP) AS t3,
       CAST(NULL AS INTEGER) AS qty, CAST(NULL AS BIGINT) AS price
  FROM work_order_technicians WHERE order_id = $1
UNION ALL
SELECT 1, wp.id, wp.line_id, p.code, p.name, wp.verbal_approval_id, wp.recorded_by,
       wp.recorded_at, NULL, NULL, wp.quantity, wp.unit_price_fen
  FROM work_order_parts wp JOIN parts p ON p.id = wp.part_id WHERE wp.order_id = $1
UNION ALL
SELECT 2, id, approver_id, content, recorded_by, confirmed_by, NULL,
       approved_at, recorded_at, confirmed_at, NULL, NULL
  FROM verbal_approvals WHERE order_id = $1
UNION ALL
SELECT 3, id, line_id, kind, content_type, uploaded_by, sha256,
       uploaded_at, taken_at, NULL, NULL, bytes
  FROM order_photos WHERE order_id = $1";

type Children = (
    Vec<Assignment>,
    Vec<PartUsed>,
    Vec<VerbalApproval>,
    Vec<PhotoBrief>,
);

/// Statement 3: the order's technicians, parts used, verbal approvals and photos, in the
/// orders their own reads in `store::orders` and `store::photos` give.
fn children(conn: &mut DbConn, order_id: &str) -> StoreResult<Children> {
    let rows: Vec<ChildRow> = match conn {
        DbConn::Pg(c) => diesel::sql_query(CHILDREN_SQL)
            .bind::<Text, _>(order_id)
            .load(c)?,
        DbConn::Sqlite(c) => {
            // numbered parameters: one bind serves the three branches
            static SQLITE_SQL: std::sync::LazyLock<String> =
                std::sync::LazyLock::new(|| CHILDREN_SQL.replace("$1", "?1"));
            diesel::sql_query(SQLITE_SQL.as_str())
                .bind::<Text, _>(order_id)
                .load(c)?
        }
    };
    let (mut technicians, mut parts, mut approvals, mut photos) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        match r.kind {
            0 => technicians.push(Assignment {
                order_id: order_id.to_string(),
                technician_id: r.a,
                role: r.b.unwrap_or_default(),
                assigned_at: r.t1,
            }),
            1 => {
                let quantity = r.qty.unwrap_or_default();
                let unit_price_fen = r.price.unwrap_or_default();
                parts.push(PartUsed {
                    amount_fen: unit_price_fen.saturating_mul(i64::from(quantity)),
                    id: r.a,
                    line_id: r.b,
                    part_code: r.c.unwrap_or_default(),
                    part_name: r.d.unwrap_or_default(),
                    quantity,
                    unit_price_fen,
                    verbal_approval_id: r.e,
                    recorded_by: r.f.unwrap_or_default(),
                    recorded_at: r.t1,
                })
            }
            3 => photos.push(PhotoBrief {
                id: r.a,
                line_id: r.b,
                kind: r.c.unwrap_or_default(),
                content_type: r.d.unwrap_or_default(),
                bytes: r.price.unwrap_or_default(),
                sha256: r.f.unwrap_or_default(),
                taken_at: r.t2,
                uploaded_by: r.e.unwrap_or_default(),
                uploaded_at: r.t1,
            }),
            _ => approvals.push(VerbalApproval {
                id: r.a,
                order_id: order_id.to_string(),
                approver_id: r.b.unwrap_or_default(),
                approved_at: r.t1,
                content: r.c.unwrap_or_default(),
                recorded_by: r.d.unwrap_or_default(),
                recorded_at: r.t2.unwrap_or(r.t1),
                confirmed_by: r.e,
                confirmed_at: r.t3,
            }),
        }
    }
    // the orders of `orders::assignments`, `parts_used` and `verbal_approvals`
    technicians.sort_by(|x, y| {
        y.role
            .cmp(&x.role)
            .then_with(|| x.technician_id.cmp(&y.technician_id))
    });
    parts.sort_by(|x, y| x.id.cmp(&y.id));
    approvals.sort_by(|x, y| x.id.cmp(&y.id));
    photos.sort_by(|x, y| x.id.cmp(&y.id));
    Ok((technicians, parts, approvals, photos))
}
