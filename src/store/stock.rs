//! Stock (issue 18, foundation): the current place of every serial, the quantities of
//! counted parts per place, and the insert-only ledger `stock_movements`.
//!
//! A terminal's place is computed by the database from the registry's own columns
//! (`terminals.place_kind`/`place_id` are generated from status, location, technician,
//! vehicle and center), so moving a terminal writes those columns and the place follows.
//! A SIM card's place is its own (`stock_kind`/`stock_ref`, NULL = its center's warehouse).
//!
//! Every function takes the connection of a write transaction the caller opened
//! (`store::write_tx`), so a movement composes with the rest of a use case (an install
//! line, a swap). Within it: the item's state is read, the rule asked
//! (`domain::stock::check`), the place changed by an `UPDATE … WHERE place = <from>` and
//! the ledger row inserted. Of two movements of one serial at the same time exactly one
//! wins: on SQLite the write transactions are serialized (`BEGIN IMMEDIATE`), so the
//! second reads the new place and is refused `wrong_place`; on PostgreSQL the second
//! `UPDATE` waits for the first's row lock, re-reads the row, no longer matches and
//! changes nothing: `StockError::Changed`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::part_stock::dsl as ps;
use super::schema::sim_cards::dsl as s;
use super::schema::stock_movements::dsl as sm;
use super::schema::terminals::dsl as t;
use super::{DbConn, StoreError, db::per_backend, new_id, now};
use crate::domain::stock::{self, ItemState, Movement, MovementKind, Place, StockRefusal};

/// A row of the ledger.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = super::schema::stock_movements)]
pub struct StockMovement {
    pub id: String,
    pub center_id: String,
    pub kind: String,
    pub terminal_id: Option<String>,
    pub sim_id: Option<String>,
    pub part_id: Option<String>,
    pub quantity: i64,
    pub from_kind: String,
    pub from_id: String,
    pub to_kind: String,
    pub to_id: String,
    pub order_id: Option<String>,
    pub rma_batch_id: Option<String>,
    pub fault_tag: Option<String>,
    pub actor_id: Option<String>,
    #[serde(with = "super::utc")]
    pub at: NaiveDateTime,
    pub note: Option<String>,
}

/// A serial: a terminal or a SIM card, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serial<'a> {
    Terminal(&'a str),
    Sim(&'a str),
}

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    /// The rule refused the movement (nothing was written).
    #[error(transparent)]
    Refused(#[from] StockRefusal),
    /// Another movement of the same serial won meanwhile (nothing was written); the API
    /// will answer it 409 `stock_changed`.
    #[error("the item moved meanwhile")]
    Changed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for StockError {
    fn from(e: diesel::result::Error) -> Self {
        StockError::Store(e.into())
    }
}

pub type StockResult<T> = Result<T, StockError>;

/// The center a place belongs to, where the place itself says (warehouse, maker,
/// scrapped); a van or a vehicle keeps the item's center.
fn center_of(place: &Place) -> Option<&str> {
    match place {
        Place::Warehouse(c) | Place::Maker(c) | Place::Scrapped(c) => Some(c),
        Place::Van(_) | Place::Vehicle(_) => None,
    }
}

fn ledger_row(
    m: &Movement,
    center_id: &str,
    serial: Option<Serial>,
    part: Option<(&str, i64)>,
) -> StockMovement {
    let (from_kind, from_id) = m.from.stored();
    let (to_kind, to_id) = m.to.stored();
    StockMovement {
        id: new_id(),
        center_id: center_id.to_string(),
        kind: m.kind.as_str().to_string(),
        terminal_id: match serial {
            Some(Serial::Terminal(id)) => Some(id.to_string()),
            _ => None,
        },
        sim_id: match serial {
            Some(Serial::Sim(id)) => Some(id.to_string()),
            _ => None,
        },
        part_id: part.map(|(p, _)| p.to_string()),
        quantity: part.map_or(1, |(_, n)| n),
        from_kind: from_kind.to_string(),
        from_id: from_id.to_string(),
        to_kind: to_kind.to_string(),
        to_id: to_id.to_string(),
        order_id: m.order_id.clone(),
        rma_batch_id: m.rma_batch_id.clone(),
        fault_tag: m.fault_tag.clone(),
        actor_id: Some(m.actor.user_id.clone()),
        at: now(),
        note: m.note.clone(),
    }
}

fn insert_row(conn: &mut DbConn, row: &StockMovement) -> StockResult<()> {
    per_backend!(conn, |c| diesel::insert_into(sm::stock_movements)
        .values(row)
        .execute(c))?;
    Ok(())
}

fn place_of(kind: &str, id: &str) -> StockResult<Place> {
    Place::from_stored(kind, id).ok_or_else(|| {
        StockError::Store(StoreError::Corrupt {
            what: "stock place",
            value: format!("{kind}:{id}"),
        })
    })
}

/// The terminal columns a place and fault state stand for: (status, location,
/// technician_id, vehicle_id).
fn terminal_columns(
    to: &Place,
    faulty: bool,
) -> (&'static str, &'static str, Option<&str>, Option<&str>) {
    match to {
        Place::Warehouse(_) => (
            if faulty { "in_repair" } else { "in_stock" },
            "warehouse",
            None,
            None,
        ),
        Place::Van(tech) => (
            if faulty { "in_repair" } else { "in_stock" },
            "technician",
            Some(tech),
            None,
        ),
        Place::Vehicle(v) => ("installed", "vehicle", None, Some(v)),
        Place::Maker(_) => ("returned", "warehouse", None, None),
        Place::Scrapped(_) => ("scrapped", "warehouse", None, None),
    }
}

/// Moves one serial: reads its state in the caller's write transaction, asks the rule,
/// changes its place only where it still is at `m.from`, and writes the ledger row.
/// A refusal or a lost race writes nothing (the caller's transaction rolls back on the
/// error). `receive` is not for serials already registered: use [`record_receipt`].
pub fn move_serial(conn: &mut DbConn, serial: Serial, m: &Movement) -> StockResult<StockMovement> {
    match serial {
        Serial::Terminal(id) => move_terminal(conn, id, m),
        Serial::Sim(id) => move_sim(conn, id, m),
    }
}

fn move_terminal(conn: &mut DbConn, id: &str, m: &Movement) -> StockResult<StockMovement> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let (center, kind, place_id, status, tag, tag_order): Row = t::terminals
        .find(id)
        .select((
            t::center_id,
            t::place_kind,
            t::place_id,
            t::status,
            t::fault_tag,
            t::fault_order_id,
        ))
        .first(conn)?;
    let faulty = status == "in_repair" || status == "returned";
    let state = ItemState {
        place: Some(place_of(&kind, &place_id)?),
        faulty,
    };
    stock::check(m, &state)?;
    let holds_sim = s::sim_cards
        .filter(s::terminal_id.eq(id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    stock::check_terminal_empty(m, holds_sim)?;

    let faulty_after = stock::faulty_after(m, faulty);
    let (tag, tag_order) = match (faulty_after, &m.fault_tag) {
        (false, _) => (None, None),
        (true, Some(new)) if m.kind == MovementKind::Remove => {
            (Some(new.clone()), m.order_id.clone())
        }
        (true, _) => (tag, tag_order),
    };
    let (status, location, technician, vehicle) = terminal_columns(&m.to, faulty_after);
    let new_center = center_of(&m.to).unwrap_or(center.as_str());
    let (from_kind, from_id) = m.from.stored();
    let n = diesel::update(
        t::terminals
            .filter(t::id.eq(id))
            .filter(t::place_kind.eq(from_kind))
            .filter(t::place_id.eq(from_id)),
    )
    .set((
        t::center_id.eq(new_center),
        t::status.eq(status),
        t::location.eq(location),
        t::technician_id.eq(technician),
        t::vehicle_id.eq(vehicle),
        t::fault_tag.eq(tag),
        t::fault_order_id.eq(tag_order),
        t::version.eq(t::version + 1),
        t::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(StockError::Changed);
    }
    let row = ledger_row(m, &center, Some(Serial::Terminal(id)), None);
    insert_row(conn, &row)?;
    Ok(row)
}

fn move_sim(conn: &mut DbConn, id: &str, m: &Movement) -> StockResult<StockMovement> {
    let (center, kind, place_id, faulty): (String, String, String, bool) = s::sim_cards
        .find(id)
        .select((s::center_id, s::place_kind, s::place_id, s::faulty))
        .first(conn)?;
    let state = ItemState {
        place: Some(place_of(&kind, &place_id)?),
        faulty,
    };
    stock::check(m, &state)?;
    let faulty_after = stock::faulty_after(m, faulty);
    let new_center = center_of(&m.to).unwrap_or(center.as_str());
    let (from_kind, from_id) = m.from.stored();
    let (to_kind, to_id) = m.to.stored();
    let n = diesel::update(
        s::sim_cards
            .filter(s::id.eq(id))
            .filter(s::place_kind.eq(from_kind))
            .filter(s::place_id.eq(from_id)),
    )
    .set((
        s::center_id.eq(new_center),
        s::stock_kind.eq(to_kind),
        s::stock_ref.eq(to_id),
        s::faulty.eq(faulty_after),
        s::version.eq(s::version + 1),
        s::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(StockError::Changed);
    }
    let row = ledger_row(m, &center, Some(Serial::Sim(id)), None);
    insert_row(conn, &row)?;
    Ok(row)
}

/// The `receive` of a serial the same transaction has just registered in `m.to` (a
/// warehouse): the ledger row only. Refused if the serial is not where the receipt puts it.
pub fn record_receipt(
    conn: &mut DbConn,
    serial: Serial,
    m: &Movement,
) -> StockResult<StockMovement> {
    let state = ItemState {
        place: None,
        faulty: false,
    };
    stock::check(m, &state)?;
    let (center, kind, place_id): (String, String, String) = match serial {
        Serial::Terminal(id) => t::terminals
            .find(id)
            .select((t::center_id, t::place_kind, t::place_id))
            .first(conn)?,
        Serial::Sim(id) => s::sim_cards
            .find(id)
            .select((s::center_id, s::place_kind, s::place_id))
            .first(conn)?,
    };
    let here = place_of(&kind, &place_id)?;
    if here != m.to {
        return Err(StockRefusal::WrongPlace {
            current: here.to_string(),
            from: m.to.to_string(),
        }
        .into());
    }
    let row = ledger_row(m, &center, Some(serial), None);
    insert_row(conn, &row)?;
    Ok(row)
}

/// The quantity of a part at a place (0 when none was ever there).
pub fn part_quantity(conn: &mut DbConn, part_id: &str, place: &Place) -> StockResult<i64> {
    let (kind, id) = place.stored();
    Ok(ps::part_stock
        .find((part_id, kind, id))
        .select(ps::quantity)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// Moves `quantity` of a counted part for `center_id`: takes it from `m.from` only where
/// enough is there (`quantity = quantity - n WHERE quantity >= n`), adds it at `m.to`,
/// writes the ledger row. A receipt takes from no counted place.
pub fn move_parts(
    conn: &mut DbConn,
    center_id: &str,
    part_id: &str,
    quantity: i64,
    m: &Movement,
) -> StockResult<StockMovement> {
    let available = part_quantity(conn, part_id, &m.from)?;
    let takes = stock::check_parts(m, quantity, available)?.is_some();
    let at = now();
    if takes {
        let (kind, id) = m.from.stored();
        let n = diesel::update(
            ps::part_stock
                .filter(ps::part_id.eq(part_id))
                .filter(ps::place_kind.eq(kind))
                .filter(ps::place_id.eq(id))
                .filter(ps::quantity.ge(quantity)),
        )
        .set((
            ps::quantity.eq(ps::quantity - quantity),
            ps::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n != 1 {
            // taken meanwhile by a concurrent movement (PostgreSQL)
            let available = part_quantity(conn, part_id, &m.from)?;
            return Err(StockRefusal::InsufficientQuantity { available }.into());
        }
    }
    let (kind, id) = m.to.stored();
    let to_center = center_of(&m.to).unwrap_or(center_id);
    per_backend!(conn, |c| diesel::insert_into(ps::part_stock)
        .values((
            ps::part_id.eq(part_id),
            ps::place_kind.eq(kind),
            ps::place_id.eq(id),
            ps::center_id.eq(to_center),
            ps::quantity.eq(quantity),
            ps::updated_at.eq(at),
        ))
        .on_conflict((ps::part_id, ps::place_kind, ps::place_id))
        .do_update()
        .set((
            ps::quantity.eq(ps::quantity + quantity),
            ps::updated_at.eq(at),
        ))
        .execute(c))?;
    let row = ledger_row(m, center_id, None, Some((part_id, quantity)));
    insert_row(conn, &row)?;
    Ok(row)
}

/// A serial's movements, oldest first (one index range).
pub fn history(conn: &mut DbConn, serial: Serial) -> StockResult<Vec<StockMovement>> {
    Ok(match serial {
        Serial::Terminal(id) => per_backend!(conn, |c| sm::stock_movements
            .filter(sm::terminal_id.eq(id))
            .order(sm::id.asc())
            .select(StockMovement::as_select())
            .load(c))?,
        Serial::Sim(id) => per_backend!(conn, |c| sm::stock_movements
            .filter(sm::sim_id.eq(id))
            .order(sm::id.asc())
            .select(StockMovement::as_select())
            .load(c))?,
    })
}

/// The current place of a serial.
pub fn place(conn: &mut DbConn, serial: Serial) -> StockResult<Place> {
    let (kind, id): (String, String) = match serial {
        Serial::Terminal(id) => t::terminals
            .find(id)
            .select((t::place_kind, t::place_id))
            .first(conn)?,
        Serial::Sim(id) => s::sim_cards
            .find(id)
            .select((s::place_kind, s::place_id))
            .first(conn)?,
    };
    place_of(&kind, &id)
}

/// One line of a center's stock: how many of a model (terminals), carrier (SIM cards) or
/// part are at a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockLine {
    /// terminal, sim or part
    pub item: &'static str,
    pub place_kind: String,
    /// empty for the line of everything fitted in the customers' vehicles
    pub place_id: String,
    /// the terminal's model code, the SIM's carrier or the part's id
    pub model: String,
    pub quantity: i64,
}

/// The stock of a center by place and model: terminals and SIM cards per place other than
/// a vehicle and per model (carrier), counted parts per place; what is fitted in the
/// customers' vehicles is one line per model with `place_id` empty (a line per vehicle
/// would be tens of thousands of lines of one each). Each is one range of an index that
/// covers it (`terminals_place_idx`, `sim_cards_place_idx`, `part_stock_center_idx`);
/// places with nothing left (parts at 0) are left out.
pub fn stock_by_place_and_model(conn: &mut DbConn, center_id: &str) -> StockResult<Vec<StockLine>> {
    use diesel::dsl::count_star;
    let vehicle = stock::PlaceKind::Vehicle.as_str();
    let terminals: Vec<(String, String, String, i64)> = per_backend!(conn, |c| t::terminals
        .filter(t::center_id.eq(center_id))
        .filter(t::place_kind.ne(vehicle))
        .group_by((t::place_kind, t::place_id, t::model_code))
        .select((t::place_kind, t::place_id, t::model_code, count_star()))
        .order((t::place_kind, t::place_id, t::model_code))
        .load(c))?;
    let fitted: Vec<(String, i64)> = per_backend!(conn, |c| t::terminals
        .filter(t::center_id.eq(center_id))
        .filter(t::place_kind.eq(vehicle))
        .group_by(t::model_code)
        .select((t::model_code, count_star()))
        .order(t::model_code)
        .load(c))?;
    let sims: Vec<(String, String, String, i64)> = per_backend!(conn, |c| s::sim_cards
        .filter(s::center_id.eq(center_id))
        .filter(s::place_kind.ne(vehicle))
        .group_by((s::place_kind, s::place_id, s::carrier))
        .select((s::place_kind, s::place_id, s::carrier, count_star()))
        .order((s::place_kind, s::place_id, s::carrier))
        .load(c))?;
    let sims_fitted: Vec<(String, i64)> = per_backend!(conn, |c| s::sim_cards
        .filter(s::center_id.eq(center_id))
        .filter(s::place_kind.eq(vehicle))
        .group_by(s::carrier)
        .select((s::carrier, count_star()))
        .order(s::carrier)
        .load(c))?;
    let parts: Vec<(String, String, String, i64)> = per_backend!(conn, |c| ps::part_stock
        .filter(ps::center_id.eq(center_id))
        .filter(ps::quantity.gt(0))
        .select((ps::place_kind, ps::place_id, ps::part_id, ps::quantity))
        .order((ps::place_kind, ps::place_id, ps::part_id))
        .load(c))?;
    let line = |item: &'static str| {
        move |(place_kind, place_id, model, quantity): (String, String, String, i64)| StockLine {
            item,
            place_kind,
            place_id,
            model,
            quantity,
        }
    };
    let in_vehicles = |(model, n): (String, i64)| (vehicle.to_string(), String::new(), model, n);
    Ok(terminals
        .into_iter()
        .chain(fitted.into_iter().map(in_vehicles))
        .map(line("terminal"))
        .chain(
            sims.into_iter()
                .chain(sims_fitted.into_iter().map(in_vehicles))
                .map(line("sim")),
        )
        .chain(parts.into_iter().map(line("part")))
        .collect())
}
