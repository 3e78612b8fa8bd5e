//! Binding: a terminal installed in a vehicle, a SIM card put into a terminal, and back.
//! Each is written once here, as "check the domain rule on a fresh read, then the
//! conditional write", for the equipment desk and the work-order lines alike; the store's
//! conditional UPDATE makes a concurrent change lose.

use crate::app::{Error, Principal, Result, stored};
use crate::domain::registry::{self, BindRefusal, SimStatus, TerminalStatus};
use crate::store::DbConn;
use crate::store::equipment::{self as store, BindContext, SimCard, Terminal};
use crate::store::vehicles::{self, Vehicle};

/// Installs `terminal` (read in this transaction) in `vehicle`.
pub fn bind_terminal(
    c: &mut DbConn,
    terminal: &Terminal,
    vehicle: &Vehicle,
    ctx: &BindContext,
) -> Result<()> {
    let status = stored("terminal status", &terminal.status, TerminalStatus::parse)?;
    registry::check_terminal_bind(
        status,
        terminal.vehicle_id.is_some(),
        &terminal.center_id,
        &vehicle.center_id,
    )?;
    store::bind_terminal(c, terminal, &vehicle.id, ctx)?;
    Ok(())
}

/// Takes `terminal` out of its vehicle to the warehouse, as `to` (default in stock).
/// Returned to the manufacturer only without its SIM card. Answers the status it got.
pub fn unbind_terminal(
    c: &mut DbConn,
    terminal: &Terminal,
    to: Option<TerminalStatus>,
    ctx: &BindContext,
) -> Result<TerminalStatus> {
    let to = registry::check_terminal_unbind(terminal.vehicle_id.is_some(), to)?;
    if to == TerminalStatus::Returned && store::sim_in_terminal(c, &terminal.id)?.is_some() {
        return Err(BindRefusal::TerminalHasSim.into());
    }
    let vehicle_id = terminal.vehicle_id.clone().unwrap_or_default();
    store::unbind_terminal(c, terminal, &vehicle_id, to.as_str(), ctx)?;
    Ok(to)
}

/// Puts `sim` into `terminal` (both read in this transaction).
pub fn bind_sim(
    c: &mut DbConn,
    sim: &SimCard,
    terminal: &Terminal,
    ctx: &BindContext,
) -> Result<()> {
    let occupied = store::sim_in_terminal(c, &terminal.id)?.is_some();
    registry::check_sim_bind(
        stored("SIM status", &sim.status, SimStatus::parse)?,
        sim.terminal_id.is_some(),
        stored("terminal status", &terminal.status, TerminalStatus::parse)?,
        occupied,
        sim.center_id == terminal.center_id,
    )?;
    store::bind_sim(c, sim, &terminal.id, ctx)?;
    Ok(())
}

/// Takes `sim` out of its terminal. `after`: the status it gets; by default an active
/// card goes back to stock and a suspended one stays suspended.
pub fn unbind_sim(
    c: &mut DbConn,
    sim: &SimCard,
    after: Option<SimStatus>,
    ctx: &BindContext,
) -> Result<()> {
    let Some(terminal_id) = &sim.terminal_id else {
        return Err(BindRefusal::SimNotBound.into());
    };
    let status = match after {
        Some(s) => s,
        None => match stored("SIM status", &sim.status, SimStatus::parse)? {
            SimStatus::Active => SimStatus::InStock,
            other => other,
        },
    };
    store::unbind_sim_to(c, sim, terminal_id, status.as_str(), ctx)?;
    Ok(())
}

// ---- the equipment desk's binding, by id in the caller's scope

fn desk<'a>(p: &'a Principal, reason: &'a str) -> BindContext<'a> {
    BindContext {
        actor_id: &p.id,
        reason,
        order_id: None,
    }
}

/// Installs a terminal in a vehicle of the caller's scope.
pub fn install(
    c: &mut DbConn,
    p: &Principal,
    terminal_id: &str,
    vehicle_id: &str,
    reason: &str,
) -> Result<Terminal> {
    let terminal = super::terminal(c, p, terminal_id)?;
    let vehicle = vehicles::get(c, vehicle_id)
        .ok()
        .filter(|v| p.scope.covers(&v.center_id))
        .ok_or_else(|| Error::field("vehicle_id", "unknown", "no such vehicle"))?;
    bind_terminal(c, &terminal, &vehicle, &desk(p, reason))?;
    Ok(store::terminal(c, terminal_id)?)
}

/// Takes a terminal out of its vehicle, as `to`.
pub fn uninstall(
    c: &mut DbConn,
    p: &Principal,
    terminal_id: &str,
    to: Option<TerminalStatus>,
    reason: &str,
) -> Result<Terminal> {
    let terminal = super::terminal(c, p, terminal_id)?;
    unbind_terminal(c, &terminal, to, &desk(p, reason))?;
    Ok(store::terminal(c, terminal_id)?)
}

/// Puts a SIM card into a terminal of the caller's scope.
pub fn insert_sim(
    c: &mut DbConn,
    p: &Principal,
    sim_id: &str,
    terminal_id: &str,
    reason: &str,
) -> Result<SimCard> {
    let sim = super::sim(c, p, sim_id)?;
    let terminal = store::terminal(c, terminal_id)
        .ok()
        .filter(|t| p.scope.covers(&t.center_id))
        .ok_or_else(|| Error::field("terminal_id", "unknown", "no such terminal"))?;
    bind_sim(c, &sim, &terminal, &desk(p, reason))?;
    Ok(store::sim(c, sim_id)?)
}

/// Takes a SIM card out of its terminal.
pub fn remove_sim(c: &mut DbConn, p: &Principal, sim_id: &str, reason: &str) -> Result<SimCard> {
    let sim = super::sim(c, p, sim_id)?;
    unbind_sim(c, &sim, None, &desk(p, reason))?;
    Ok(store::sim(c, sim_id)?)
}
