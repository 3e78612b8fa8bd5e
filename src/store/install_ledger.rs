//! The install ledger (安装台账): one row per vehicle fitted — a done line of an install
//! order that carries a terminal — with its vehicle, customer, terminal, SIM, installer,
//! order, photo count and the customer's sign-off, read as one statement of joins.

use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use serde::Serialize;

use super::money::{Bind, load_by_name};
use super::{DbConn, StoreResult};

/// One vehicle fitted, as stored (names and numbers joined in; nothing computed).
#[derive(Debug, Clone, diesel::QueryableByName, Serialize, utoipa::ToSchema)]
pub struct InstallRow {
    /// the work-order line (one vehicle of the order)
    #[diesel(sql_type = Text)]
    pub line_id: String,
    #[diesel(sql_type = Text)]
    pub order_id: String,
    /// 工单号
    #[diesel(sql_type = Text)]
    pub order_number: String,
    #[diesel(sql_type = Text)]
    pub center_id: String,
    #[diesel(sql_type = Text)]
    pub customer_id: String,
    #[diesel(sql_type = Text)]
    pub customer_name: String,
    #[diesel(sql_type = Text)]
    pub vehicle_id: String,
    #[diesel(sql_type = Text)]
    pub plate_no: String,
    /// blue, yellow, black, white, green, yellow_green; null while unknown
    #[diesel(sql_type = Nullable<Text>)]
    pub plate_colour: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub vin: Option<String>,
    #[diesel(sql_type = Text)]
    pub terminal_id: String,
    #[diesel(sql_type = Text)]
    pub imei: String,
    #[diesel(sql_type = Text)]
    pub terminal_model_code: String,
    /// the model's name (maker and model, e.g. `GT06N 终端`)
    #[diesel(sql_type = Nullable<Text>)]
    pub terminal_model_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub sim_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub iccid: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub msisdn: Option<String>,
    /// china_mobile, china_unicom, china_telecom, other
    #[diesel(sql_type = Nullable<Text>)]
    pub carrier: Option<String>,
    /// who recorded the line done (安装人)
    #[diesel(sql_type = Nullable<Text>)]
    pub installer_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub installer_name: Option<String>,
    /// when the line was recorded done (UTC)
    #[diesel(sql_type = Timestamp)]
    #[serde(with = "super::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub installed_at: NaiveDateTime,
    /// the first valid position the platform received (UTC); null until known
    #[diesel(sql_type = Nullable<Timestamp>)]
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_fix_at: Option<NaiveDateTime>,
    /// photos taken on this vehicle's line
    #[diesel(sql_type = BigInt)]
    pub photo_count: i64,
    /// who signed the order off for the customer (签字人); null: not signed
    #[diesel(sql_type = Nullable<Text>)]
    pub signoff_name: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    #[serde(with = "super::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub signoff_at: Option<NaiveDateTime>,
}

/// Which rows: installs done in `[from, until)` (UTC), of a center and a customer.
#[derive(Debug, Clone)]
pub struct LedgerFilter {
    pub from: NaiveDateTime,
    pub until: NaiveDateTime,
    /// `None`: every center
    pub center: Option<String>,
    pub customer_id: Option<String>,
}

/// The statement up to its filters: every done line of an install order with a terminal.
fn select() -> String {
    [
        "SELECT l.id AS line_id, l.order_id, o.number AS order_number, o.center_id,
            o.customer_id, cu.name AS customer_name, l.vehicle_id, v.plate_no,
            v.plate_colour, v.vin, l.terminal_id, t.imei, t.model_code AS terminal_model_code,
            tm.name AS terminal_model_name, l.sim_id, s.iccid, s.msisdn, s.carrier,
            l.done_by AS installer_id, u.display_name AS installer_name,
            l.done_at AS installed_at,",
        // the terminal's first valid fix (上线检测), when its check saw one
        "tc.first_fix_at AS first_fix_at,",
        "(SELECT COUNT(*) FROM order_photos ph
                WHERE ph.order_id = l.order_id AND ph.line_id = l.id) AS photo_count,
            o.signoff_name, o.signoff_at
        FROM work_order_lines l
        JOIN work_orders o ON o.id = l.order_id
        JOIN vehicles v ON v.id = l.vehicle_id
        JOIN customers cu ON cu.id = o.customer_id
        JOIN terminals t ON t.id = l.terminal_id
        LEFT JOIN terminal_models tm ON tm.code = t.model_code
        LEFT JOIN sim_cards s ON s.id = l.sim_id
        LEFT JOIN users u ON u.id = l.done_by
        LEFT JOIN terminal_checks tc ON tc.line_id = l.id",
        "WHERE o.kind = 'install' AND l.status = 'done' AND l.terminal_id IS NOT NULL
            AND l.done_at IS NOT NULL",
    ]
    .join("\n")
}

/// The ledger's rows of `f`, by install time (then line), at most `cap`.
pub fn rows(conn: &mut DbConn, f: &LedgerFilter, cap: i64) -> StoreResult<Vec<InstallRow>> {
    let mut sql = select();
    let mut binds = vec![Bind::Time(f.from), Bind::Time(f.until)];
    sql.push_str(" AND l.done_at >= ? AND l.done_at < ?");
    if let Some(c) = &f.center {
        sql.push_str(" AND o.center_id = ?");
        binds.push(Bind::Text(c.clone()));
    }
    if let Some(c) = &f.customer_id {
        sql.push_str(" AND o.customer_id = ?");
        binds.push(Bind::Text(c.clone()));
    }
    sql.push_str(&format!(" ORDER BY l.done_at, l.id LIMIT {}", cap.max(0)));
    load_by_name(conn, &sql, &binds)
}

/// One vehicle's row (its line id); `None` when the line is not in the ledger (missing,
/// not done, not an install, no terminal).
pub fn row(conn: &mut DbConn, line_id: &str) -> StoreResult<Option<InstallRow>> {
    let mut sql = select();
    sql.push_str(" AND l.id = ?");
    Ok(
        load_by_name::<InstallRow>(conn, &sql, &[Bind::Text(line_id.to_string())])?
            .into_iter()
            .next(),
    )
}
