//! The terminals' first-report checks (上线检测), one per vehicle line, and the managers'
//! overrides of terminals not reporting.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::report_waivers::dsl as rw;
use super::schema::terminal_checks::dsl as tc;
use super::{DbConn, StoreResult, db::per_backend, now};
use crate::domain::tracking::Progress;

/// A check as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = super::schema::terminal_checks)]
pub struct TerminalCheck {
    pub line_id: String,
    pub order_id: String,
    pub center_id: String,
    pub terminal_id: String,
    pub unique_id: String,
    pub prev_unique_id: Option<String>,
    pub imei: String,
    pub iccid: String,
    pub msisdn: String,
    pub plate_no: String,
    pub model: String,
    pub started_at: NaiveDateTime,
    pub require_acc: bool,
    pub require_iccid: bool,
    pub generation: i32,
    pub device_id: Option<i64>,
    pub synced: bool,
    pub first_fix_at: Option<NaiveDateTime>,
    pub first_fix_server_at: Option<NaiveDateTime>,
    pub fix_lat: Option<f64>,
    pub fix_lng: Option<f64>,
    pub seen_iccid: Option<String>,
    pub iccid_at: Option<NaiveDateTime>,
    pub acc_on_at: Option<NaiveDateTime>,
    pub acc_off_at: Option<NaiveDateTime>,
    pub passed_at: Option<NaiveDateTime>,
    pub checked_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl TerminalCheck {
    /// What the domain's rules read and write.
    pub fn progress(&self) -> Progress {
        Progress {
            started_at: self.started_at,
            require_acc: self.require_acc,
            require_iccid: self.require_iccid,
            expected_iccid: self.iccid.clone(),
            first_fix_at: self.first_fix_at,
            first_fix_server_at: self.first_fix_server_at,
            fix_position: self.fix_lat.zip(self.fix_lng),
            seen_iccid: self.seen_iccid.clone(),
            iccid_at: self.iccid_at,
            acc_on_at: self.acc_on_at,
            acc_off_at: self.acc_off_at,
            passed_at: self.passed_at,
        }
    }
}

/// Starts (or starts again) the line's check: a new generation, progress cleared. The
/// platform's device is left as it is (`device_id` kept) but is to be synced again; after
/// a SIM swap `prev_unique_id` names the identifier it had.
pub fn start(conn: &mut DbConn, check: &TerminalCheck) -> StoreResult<()> {
    let existing: Option<(i32, Option<i64>, String)> = tc::terminal_checks
        .find(&check.line_id)
        .select((tc::generation, tc::device_id, tc::unique_id))
        .first(conn)
        .optional()?;
    let mut row = check.clone();
    if let Some((generation, device_id, unique_id)) = existing {
        row.generation = generation + 1;
        row.device_id = device_id;
        if unique_id != row.unique_id && row.prev_unique_id.is_none() {
            row.prev_unique_id = Some(unique_id);
        }
        diesel::delete(tc::terminal_checks.find(&check.line_id)).execute(conn)?;
    }
    per_backend!(conn, |c| diesel::insert_into(tc::terminal_checks)
        .values(&row)
        .execute(c))?;
    Ok(())
}

/// The order's checks.
pub fn of_order(conn: &mut DbConn, order_id: &str) -> StoreResult<Vec<TerminalCheck>> {
    Ok(tc::terminal_checks
        .filter(tc::order_id.eq(order_id))
        .select(TerminalCheck::as_select())
        .load(conn)?)
}

/// Checks still waiting that started after `since`, least recently looked at first.
pub fn waiting(
    conn: &mut DbConn,
    since: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<TerminalCheck>> {
    Ok(tc::terminal_checks
        .filter(tc::passed_at.is_null())
        .filter(tc::started_at.gt(since))
        // never looked at first, on both databases (PostgreSQL sorts NULLs last)
        .order((
            tc::checked_at.is_not_null().asc(),
            tc::checked_at.asc(),
            tc::line_id.asc(),
        ))
        .limit(limit)
        .select(TerminalCheck::as_select())
        .load(conn)?)
}

/// Waiting checks of the device known to the platform as `unique_id` or `device_id`.
pub fn waiting_for_device(
    conn: &mut DbConn,
    unique_id: &str,
    device_id: Option<i64>,
) -> StoreResult<Vec<TerminalCheck>> {
    let q = tc::terminal_checks
        .filter(tc::passed_at.is_null())
        .select(TerminalCheck::as_select());
    Ok(match device_id {
        Some(d) => q
            .filter(tc::unique_id.eq(unique_id).or(tc::device_id.eq(d)))
            .load(conn)?,
        None => q.filter(tc::unique_id.eq(unique_id)).load(conn)?,
    })
}

/// Records progress on the check, if it is still the generation `generation` (a check
/// started again meanwhile is left alone). Answers whether a row was changed.
pub fn save_progress(
    conn: &mut DbConn,
    line_id: &str,
    generation: i32,
    p: &Progress,
) -> StoreResult<bool> {
    let at = now();
    let n = diesel::update(
        tc::terminal_checks
            .filter(tc::line_id.eq(line_id))
            .filter(tc::generation.eq(generation)),
    )
    .set((
        tc::first_fix_at.eq(p.first_fix_at),
        tc::first_fix_server_at.eq(p.first_fix_server_at),
        tc::fix_lat.eq(p.fix_position.map(|x| x.0)),
        tc::fix_lng.eq(p.fix_position.map(|x| x.1)),
        tc::seen_iccid.eq(&p.seen_iccid),
        tc::iccid_at.eq(p.iccid_at),
        tc::acc_on_at.eq(p.acc_on_at),
        tc::acc_off_at.eq(p.acc_off_at),
        tc::passed_at.eq(p.passed_at),
        tc::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The line's check is gone (the work that fitted its terminal was undone by a later
/// swap that fitted a unit without a SIM card).
pub fn forget(conn: &mut DbConn, line_id: &str) -> StoreResult<()> {
    diesel::delete(tc::terminal_checks.find(line_id)).execute(conn)?;
    Ok(())
}

/// Records a look at the platform: when, the device (once synced), and the error if
/// it failed (`None`: it answered). `resync`: the platform refused what it was asked
/// (its device gone or changed): the device is looked up again next time.
pub fn record_look(
    conn: &mut DbConn,
    line_id: &str,
    generation: i32,
    device: Option<i64>,
    error: Option<&str>,
    resync: bool,
) -> StoreResult<()> {
    let at = now();
    let target = tc::terminal_checks
        .filter(tc::line_id.eq(line_id))
        .filter(tc::generation.eq(generation));
    match device {
        Some(d) => diesel::update(target)
            .set((
                tc::device_id.eq(d),
                tc::synced.eq(true),
                tc::checked_at.eq(at),
                tc::last_error.eq(error),
            ))
            .execute(conn)?,
        None if resync => diesel::update(target)
            .set((
                tc::synced.eq(false),
                tc::checked_at.eq(at),
                tc::last_error.eq(error),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((tc::checked_at.eq(at), tc::last_error.eq(error)))
            .execute(conn)?,
    };
    Ok(())
}

/// A manager's override of terminals not reporting.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = super::schema::report_waivers)]
pub struct ReportWaiver {
    pub order_id: String,
    pub reason: String,
    pub waived_by: String,
    pub waived_at: NaiveDateTime,
}

pub fn waiver(conn: &mut DbConn, order_id: &str) -> StoreResult<Option<ReportWaiver>> {
    Ok(rw::report_waivers
        .find(order_id)
        .select(ReportWaiver::as_select())
        .first(conn)
        .optional()?)
}

/// Records the override (a second one for the same order is a `Duplicate`).
pub fn insert_waiver(conn: &mut DbConn, w: &ReportWaiver) -> StoreResult<()> {
    per_backend!(conn, |c| diesel::insert_into(rw::report_waivers)
        .values(w)
        .execute(c))?;
    Ok(())
}

/// Takes reports of the line's terminal into its check (generation `generation`), in
/// one transaction that reads the check afresh: the worker's poll and a push of the same
/// position may meet here. Answers the check as it is now (`None`: gone or started again).
pub fn apply(
    conn: &mut DbConn,
    line_id: &str,
    generation: i32,
    reports: &[crate::domain::tracking::Report],
) -> StoreResult<Option<TerminalCheck>> {
    super::write_tx(conn, |c| {
        // the row locked on PostgreSQL (SQLite's write transaction holds the database):
        // a poll and a push of the same terminal fold one after the other, never over
        // each other's progress
        let current: Option<TerminalCheck> = match c {
            DbConn::Pg(pg) => tc::terminal_checks
                .find(line_id)
                .select(TerminalCheck::as_select())
                .for_update()
                .first(pg)
                .optional()?,
            DbConn::Sqlite(lite) => tc::terminal_checks
                .find(line_id)
                .select(TerminalCheck::as_select())
                .first(lite)
                .optional()?,
        };
        let Some(mut check) = current.filter(|ch| ch.generation == generation) else {
            return Ok(None);
        };
        let mut sorted: Vec<&crate::domain::tracking::Report> = reports.iter().collect();
        sorted.sort_by_key(|r| r.server_time);
        let mut p = check.progress();
        let mut changed = false;
        for r in sorted {
            changed |= p.fold(r);
        }
        if changed {
            save_progress(c, line_id, generation, &p)?;
            check.first_fix_at = p.first_fix_at;
            check.first_fix_server_at = p.first_fix_server_at;
            check.fix_lat = p.fix_position.map(|x| x.0);
            check.fix_lng = p.fix_position.map(|x| x.1);
            check.seen_iccid = p.seen_iccid;
            check.iccid_at = p.iccid_at;
            check.acc_on_at = p.acc_on_at;
            check.acc_off_at = p.acc_off_at;
            check.passed_at = p.passed_at;
            // the order's readers redraw its line (the order's version does not move: a
            // report is not an act on the order)
            super::live_events::changed(
                super::live_events::Kind::Order,
                &check.order_id,
                "first_report",
            );
        }
        Ok(Some(check))
    })
}
