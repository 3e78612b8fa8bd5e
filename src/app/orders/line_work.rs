//! The lead technician's work on a vehicle line, on site: install, terminal swap, SIM
//! swap, repair, or not done. The equipment moves through [`fit_terminal`] and
//! [`fit_sim`] (the registry's check, then the bind), recorded in the binding history
//! with the order, in the order's transaction.

use chrono::NaiveDateTime;

use super::first_report::{self, Fitted};
use super::{Order, OrderView, act, on_site, record_act, reported_at};
use crate::app::{Error, Principal, Result, stored};
use crate::domain::order::{self, LineStatus, OrderKind};
use crate::domain::registry::{self, BindRefusal, SimStatus, TerminalStatus};
use crate::store::DbConn;
use crate::store::equipment::{self, BindContext, SimCard, Terminal};
use crate::store::orders::{self as store, Line};
use crate::store::tracking;
use crate::store::vehicles::{self, Vehicle};

/// Which line of which order, by whom, reported when.
#[derive(Debug)]
pub struct LineAct<'a> {
    pub order_id: &'a str,
    pub version: i32,
    pub line_id: &'a str,
    /// when it was done, if the phone sends it late (see `reported_at`)
    pub at: Option<NaiveDateTime>,
    /// the deployment watches terminals' first reports: fitting one starts the line's
    /// check (上线检测)
    pub first_report: bool,
}

/// Runs `work` on the line: the lead technician on site, the time within bounds (not
/// before the arrival); `work` records the line and answers the act's name and comment.
fn on_line(
    c: &mut DbConn,
    p: &Principal,
    a: LineAct,
    work: impl FnOnce(&mut DbConn, &Order, NaiveDateTime) -> Result<(&'static str, String)>,
) -> Result<OrderView> {
    act(c, p, a.order_id, a.version, |c, order| {
        on_site(p, order, false)?;
        let at = reported_at(a.at, order.arrived_at)?;
        let (name, comment) = work(c, order, at)?;
        record_act(c, p, order, name, Some(&comment), at)
    })
}

/// The line, if work of `kind` can be done on it (not marked not done).
fn workable_line(c: &mut DbConn, order: &Order, line_id: &str, kind: OrderKind) -> Result<Line> {
    if order.kind != kind {
        return Err(Error::conflict(
            "wrong_order_kind",
            format!("only on {} orders", kind.as_str()),
        ));
    }
    let line = store::line(c, &order.id, line_id)?;
    if line_status(&line)? == LineStatus::NotDone {
        return Err(Error::conflict(
            "line_not_done",
            "the line was marked not done",
        ));
    }
    Ok(line)
}

fn line_status(line: &Line) -> Result<LineStatus> {
    stored("line status", &line.status, LineStatus::parse)
}

/// The line resolved as done by the principal at `at`, with `work` added.
fn finish(
    c: &mut DbConn,
    p: &Principal,
    mut line: Line,
    work: &str,
    at: NaiveDateTime,
) -> Result<()> {
    line.status = LineStatus::Done.as_str().to_string();
    line.add_work(work);
    line.done_by = Some(p.id.clone());
    line.done_at = Some(at);
    store::save_line(c, &line)?;
    Ok(())
}

fn terminal_for(c: &mut DbConn, order: &Order, imei: &str, field: &str) -> Result<Terminal> {
    equipment::terminal_by_imei(c, imei)?
        .filter(|t| t.center_id == order.center_id)
        .ok_or_else(|| Error::field(field, "unknown", "no such terminal in this center"))
}

fn sim_for(c: &mut DbConn, order: &Order, iccid: &str, field: &str) -> Result<SimCard> {
    equipment::sim_by_iccid(c, iccid)?
        .filter(|s| s.center_id == order.center_id)
        .ok_or_else(|| Error::field(field, "unknown", "no such SIM card in this center"))
}

/// The registry's check that `terminal` may go into `vehicle`.
fn terminal_fits(terminal: &Terminal, vehicle: &Vehicle) -> Result<()> {
    registry::check_terminal_bind(
        stored("terminal status", &terminal.status, TerminalStatus::parse)?,
        terminal.vehicle_id.is_some(),
        &terminal.center_id,
        &vehicle.center_id,
    )?;
    Ok(())
}

/// Fits `terminal` into `vehicle`: checked, then bound.
fn fit_terminal(
    c: &mut DbConn,
    terminal: &Terminal,
    vehicle: &Vehicle,
    ctx: &BindContext,
) -> Result<()> {
    terminal_fits(terminal, vehicle)?;
    equipment::bind_terminal(c, terminal, &vehicle.id, ctx)?;
    Ok(())
}

/// Fits `sim` into `terminal`: checked (the terminal holds no other card), then bound.
fn fit_sim(c: &mut DbConn, sim: &SimCard, terminal: &Terminal, ctx: &BindContext) -> Result<()> {
    let has_sim = equipment::sim_in_terminal(c, &terminal.id)?.is_some();
    registry::check_sim_bind(
        stored("SIM status", &sim.status, SimStatus::parse)?,
        sim.terminal_id.is_some(),
        stored("terminal status", &terminal.status, TerminalStatus::parse)?,
        has_sim,
        sim.center_id == terminal.center_id,
    )?;
    equipment::bind_sim(c, sim, &terminal.id, ctx)?;
    Ok(())
}

/// The terminal in the line's vehicle that the work is on: the order's terminal when it
/// is still in that vehicle, else the vehicle's (first) terminal.
fn current_terminal(c: &mut DbConn, order: &Order, line: &Line) -> Result<Option<Terminal>> {
    let mut in_vehicle = equipment::terminals_in_vehicles(c, &[line.vehicle_id.as_str()])?;
    if let Some(tid) = &order.terminal_id
        && let Some(i) = in_vehicle.iter().position(|t| &t.id == tid)
    {
        return Ok(Some(in_vehicle.swap_remove(i)));
    }
    Ok(in_vehicle.into_iter().next())
}

fn context<'a>(p: &'a Principal, order: &'a Order, reason: &'a str) -> BindContext<'a> {
    BindContext {
        actor_id: &p.id,
        reason,
        order_id: Some(&order.id),
    }
}

/// Install: a terminal and a SIM into the line's vehicle (terminal ↔ vehicle, SIM ↔
/// terminal).
pub fn install(
    c: &mut DbConn,
    p: &Principal,
    a: LineAct,
    imei: &str,
    iccid: &str,
    notes: Option<String>,
) -> Result<OrderView> {
    let line_id = a.line_id;
    let watch = a.first_report;
    on_line(c, p, a, |c, order, at| {
        let mut line = workable_line(c, order, line_id, OrderKind::Install)?;
        if line_status(&line)? == LineStatus::Done {
            return Err(Error::conflict(
                "line_done",
                "this vehicle is already installed",
            ));
        }
        let terminal = terminal_for(c, order, imei, "imei")?;
        let sim = sim_for(c, order, iccid, "iccid")?;
        let vehicle = vehicles::get(c, &line.vehicle_id)?;
        let reason = format!("安装 {}", order.number);
        let ctx = context(p, order, &reason);
        fit_terminal(c, &terminal, &vehicle, &ctx)?;
        let terminal = equipment::terminal(c, &terminal.id)?;
        fit_sim(c, &sim, &terminal, &ctx)?;
        line.terminal_id = Some(terminal.id.clone());
        line.sim_id = Some(sim.id.clone());
        line.notes = notes;
        finish(c, p, line, "install", at)?;
        if watch {
            let f = Fitted {
                terminal: &terminal,
                sim: &sim,
                plate_no: &vehicle.plate_no,
                old_sim: None,
            };
            let from = first_report::counts_from(order, at, false);
            first_report::start(c, order, line_id, f, from)?;
        }
        let comment = format!(
            "{} IMEI {} ICCID {}",
            vehicle.plate_no, terminal.imei, sim.iccid
        );
        Ok(("install", comment))
    })
}

/// Terminal swap (更换终端): the old unit out of the vehicle to repair with its fault tag
/// (返修标签), the new one in; the SIM moves across when `move_sim`.
pub fn terminal_swap(
    c: &mut DbConn,
    p: &Principal,
    a: LineAct,
    new_imei: &str,
    fault: &str,
    move_sim: bool,
) -> Result<OrderView> {
    let line_id = a.line_id;
    let watch = a.first_report;
    on_line(c, p, a, |c, order, at| {
        let mut line = workable_line(c, order, line_id, OrderKind::Repair)?;
        let old = current_terminal(c, order, &line)?.ok_or_else(|| {
            Error::conflict(
                "no_terminal_installed",
                "the vehicle has no terminal to swap",
            )
        })?;
        let new = terminal_for(c, order, new_imei, "new_imei")?;
        let vehicle = vehicles::get(c, &line.vehicle_id)?;
        terminal_fits(&new, &vehicle)?;
        let tag = order::fault_tag(&vehicle.plate_no, fault);
        let reason = format!("更换终端 {} ({})", order.number, tag);
        let ctx = context(p, order, &reason);
        let sim = equipment::sim_in_terminal(c, &old.id)?.filter(|_| move_sim);
        if let Some(sim) = &sim {
            equipment::unbind_sim_to(c, sim, &old.id, &sim.status, &ctx)?;
        }
        let old_fresh = equipment::terminal(c, &old.id)?;
        equipment::unbind_terminal(
            c,
            &old_fresh,
            &vehicle.id,
            TerminalStatus::InRepair.as_str(),
            &ctx,
        )?;
        // the unit in repair carries the tag too (故障标签 on the removed terminal)
        equipment::tag_fault(c, &old.id, &tag, &order.id)?;
        fit_terminal(c, &new, &vehicle, &ctx)?;
        if let Some(sim) = sim {
            let sim = equipment::sim(c, &sim.id)?;
            let new = equipment::terminal(c, &new.id)?;
            fit_sim(c, &sim, &new, &ctx)?;
            line.sim_id = Some(sim.id);
        }
        line.old_terminal_id = Some(old.id.clone());
        line.terminal_id = Some(new.id.clone());
        line.fault_tag = Some(tag.clone());
        finish(c, p, line, "terminal_swap", at)?;
        // the new unit reports only with a SIM card in it; without one, the line's earlier
        // check (of the unit taken out) no longer means anything
        if watch {
            match equipment::sim_in_terminal(c, &new.id)? {
                Some(sim) => {
                    let f = Fitted {
                        terminal: &new,
                        sim: &sim,
                        plate_no: &vehicle.plate_no,
                        old_sim: None,
                    };
                    let from = first_report::counts_from(order, at, true);
                    first_report::start(c, order, line_id, f, from)?;
                }
                None => tracking::forget(c, line_id)?,
            }
        }
        Ok((
            "terminal_swap",
            format!("{} → {}; {}", old.imei, new.imei, tag),
        ))
    })
}

/// SIM swap (更换SIM卡): the old card out of the vehicle's terminal (to `old_status`), the
/// new one in.
pub fn sim_swap(
    c: &mut DbConn,
    p: &Principal,
    a: LineAct,
    new_iccid: &str,
    old_status: SimStatus,
) -> Result<OrderView> {
    let line_id = a.line_id;
    let watch = a.first_report;
    on_line(c, p, a, |c, order, at| {
        let mut line = workable_line(c, order, line_id, OrderKind::Repair)?;
        let terminal = current_terminal(c, order, &line)?.ok_or_else(|| {
            Error::conflict("no_terminal_installed", "the vehicle has no terminal")
        })?;
        let new = sim_for(c, order, new_iccid, "new_iccid")?;
        if new.terminal_id.is_some() {
            return Err(BindRefusal::SimAlreadyBound.into());
        }
        let reason = format!("更换SIM卡 {}", order.number);
        let ctx = context(p, order, &reason);
        let old = equipment::sim_in_terminal(c, &terminal.id)?;
        if let Some(old) = &old {
            equipment::unbind_sim_to(c, old, &terminal.id, old_status.as_str(), &ctx)?;
        }
        fit_sim(c, &new, &terminal, &ctx)?;
        line.old_sim_id = old.as_ref().map(|s| s.id.clone());
        line.sim_id = Some(new.id.clone());
        line.terminal_id.get_or_insert(terminal.id.clone());
        let vehicle_id = line.vehicle_id.clone();
        finish(c, p, line, "sim_swap", at)?;
        // the platform's device follows the new card (its 808 number and ICCID)
        if watch {
            let vehicle = vehicles::get(c, &vehicle_id)?;
            let f = Fitted {
                terminal: &terminal,
                sim: &new,
                plate_no: &vehicle.plate_no,
                old_sim: old.as_ref(),
            };
            let from = first_report::counts_from(order, at, true);
            first_report::start(c, order, line_id, f, from)?;
        }
        let comment = format!(
            "{} → {}",
            old.map(|s| s.iccid).unwrap_or_else(|| "—".into()),
            new.iccid
        );
        Ok(("sim_swap", comment))
    })
}

/// Fixed on the spot without swapping anything.
pub fn repair(c: &mut DbConn, p: &Principal, a: LineAct, notes: String) -> Result<OrderView> {
    let line_id = a.line_id;
    on_line(c, p, a, |c, order, at| {
        let mut line = workable_line(c, order, line_id, OrderKind::Repair)?;
        line.notes = Some(notes.clone());
        finish(c, p, line, "repair", at)?;
        Ok(("repair", notes))
    })
}

/// The work on this vehicle is not done, with the reason (the line is resolved).
pub fn not_done(c: &mut DbConn, p: &Principal, a: LineAct, reason: String) -> Result<OrderView> {
    let line_id = a.line_id;
    on_line(c, p, a, |c, order, at| {
        let mut line = store::line(c, &order.id, line_id)?;
        if line_status(&line)? != LineStatus::Pending {
            return Err(Error::conflict(
                "line_resolved",
                "the line is already resolved",
            ));
        }
        line.status = LineStatus::NotDone.as_str().to_string();
        line.not_done_reason = Some(reason.clone());
        line.done_by = Some(p.id.clone());
        line.done_at = Some(at);
        store::save_line(c, &line)?;
        let vehicle = vehicles::get(c, &line.vehicle_id)?;
        Ok(("not_done", format!("{}: {reason}", vehicle.plate_no)))
    })
}
