//! Stock (issue 18, foundation): the store's movements through the test app's pool, on
//! the test database (SQLite, or PostgreSQL with DISPATCH_TEST_DATABASE_URL). No HTTP
//! endpoints exist yet; these drive `store::stock` as a use case will, inside `write_tx`.

use std::sync::{Arc, Barrier};

use dispatch::domain::stock::{Actor, Movement, MovementKind, Place, StockRefusal};
use dispatch::store::orders::Part;
use dispatch::store::stock::{self, Serial, StockError, StockMovement, StockResult};
use dispatch::store::{self, new_id, now, write_tx};

use crate::fixtures::{Zz, count_sql, id_of, install_order, zz};
use crate::helpers::TestApp;

fn wh(c: &str) -> Place {
    Place::Warehouse(c.into())
}
fn van(t: &str) -> Place {
    Place::Van(t.into())
}

fn mv(kind: MovementKind, from: Place, to: Place, actor: &str, manager: bool) -> Movement {
    Movement {
        kind,
        from,
        to,
        actor: Actor {
            user_id: actor.into(),
            manager,
        },
        order_id: None,
        rma_batch_id: None,
        fault_tag: None,
        note: None,
        allow_other_van: false,
    }
}

fn on_order(mut m: Movement, order: &str) -> Movement {
    m.order_id = Some(order.into());
    m
}

fn serial(app: &TestApp, s: Serial, m: &Movement) -> StockResult<StockMovement> {
    let mut c = app.pool.get().unwrap();
    write_tx(&mut c, |c| stock::move_serial(c, s, m))
}

fn parts(app: &TestApp, part: &str, n: i64, m: &Movement) -> StockResult<StockMovement> {
    let mut c = app.pool.get().unwrap();
    let center = app.zz.id.clone();
    write_tx(&mut c, |c| stock::move_parts(c, &center, part, n, m))
}

fn place(app: &TestApp, s: Serial) -> Place {
    stock::place(&mut app.pool.get().unwrap(), s).unwrap()
}

fn history(app: &TestApp, s: Serial) -> Vec<StockMovement> {
    stock::history(&mut app.pool.get().unwrap(), s).unwrap()
}

fn quantity(app: &TestApp, part: &str, p: &Place) -> i64 {
    stock::part_quantity(&mut app.pool.get().unwrap(), part, p).unwrap()
}

/// (status, location, technician_id, vehicle_id, center_id, fault_tag) of a terminal.
fn terminal_row(
    app: &TestApp,
    id: &str,
) -> (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
) {
    let t = store::equipment::terminal(&mut app.pool.get().unwrap(), id).unwrap();
    (
        t.status,
        t.location,
        t.technician_id,
        t.vehicle_id,
        t.center_id,
        t.fault_tag,
    )
}

fn new_part(app: &TestApp, code: &str) -> String {
    let t = now();
    let part = Part {
        id: new_id(),
        code: code.into(),
        name: format!("{code} 配件"),
        unit_price_fen: 500,
        active: true,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    store::orders::insert_part(&mut app.pool.get().unwrap(), &part).unwrap();
    part.id
}

/// The scene: the ZZ people, a terminal and a SIM card in the ZZ warehouse, a vehicle and
/// an order.
struct Scene {
    s: Zz,
    terminal: String,
    sim: String,
    vehicle: String,
    order: String,
}

async fn scene(n: u64) -> Scene {
    let s = zz().await;
    let app = &s.app;
    let terminal = id_of(&app.create_terminal(&app.admin, &app.zz.id, n).await);
    let sim = id_of(&app.create_sim(&app.admin, &app.zz.id, n).await);
    let vehicle = id_of(
        &app.create_vehicle(&app.admin, &s.customer, "豫A5K123")
            .await,
    );
    let order = id_of(&install_order(&s, &["豫A7N456"], true).await);
    Scene {
        s,
        terminal,
        sim,
        vehicle,
        order,
    }
}

/// Replays a serial's ledger: every movement starts where the previous one ended; the
/// last ends where the serial is.
fn assert_replays(app: &TestApp, s: Serial) {
    let rows = history(app, s);
    for w in rows.windows(2) {
        assert_eq!(
            (&w[0].to_kind, &w[0].to_id),
            (&w[1].from_kind, &w[1].from_id),
            "{} then {}",
            w[0].kind,
            w[1].kind
        );
    }
    let last = rows.last().expect("a movement");
    assert_eq!(
        Place::from_stored(&last.to_kind, &last.to_id).unwrap(),
        place(app, s)
    );
}

#[tokio::test]
async fn a_terminal_travels_the_whole_cycle_and_every_step_is_in_the_ledger() {
    let sc = scene(11).await;
    let app = &sc.s.app;
    let (zz_id, bj_id) = (app.zz.id.clone(), app.bj.id.clone());
    let (mgr, lead) = (sc.s.mgr_id.clone(), sc.s.lead.id.clone());
    let term = Serial::Terminal(&sc.terminal);
    let vehicle = Place::Vehicle(sc.vehicle.clone());
    assert_eq!(place(app, term), wh(&zz_id));
    assert!(history(app, term).is_empty());

    // registered then received (the registry will write this with the serial)
    {
        let mut c = app.pool.get().unwrap();
        let m = mv(
            MovementKind::Receive,
            Place::Maker(zz_id.clone()),
            wh(&zz_id),
            &mgr,
            true,
        );
        write_tx(&mut c, |c| stock::record_receipt(c, term, &m)).unwrap();
    }

    serial(
        app,
        term,
        &mv(MovementKind::Issue, wh(&zz_id), van(&lead), &mgr, true),
    )
    .unwrap();
    assert_eq!(place(app, term), van(&lead));
    let row = terminal_row(app, &sc.terminal);
    assert_eq!((row.0.as_str(), row.1.as_str()), ("in_stock", "technician"));
    assert_eq!(row.2.as_deref(), Some(lead.as_str()));

    serial(
        app,
        term,
        &mv(
            MovementKind::ConfirmReceipt,
            van(&lead),
            van(&lead),
            &lead,
            false,
        ),
    )
    .unwrap();
    serial(
        app,
        term,
        &on_order(
            mv(MovementKind::Fit, van(&lead), vehicle.clone(), &lead, false),
            &sc.order,
        ),
    )
    .unwrap();
    let row = terminal_row(app, &sc.terminal);
    assert_eq!((row.0.as_str(), row.1.as_str()), ("installed", "vehicle"));
    assert_eq!(row.3.as_deref(), Some(sc.vehicle.as_str()));

    let mut remove = on_order(
        mv(
            MovementKind::Remove,
            vehicle.clone(),
            van(&lead),
            &lead,
            false,
        ),
        &sc.order,
    );
    remove.fault_tag = Some("豫A5K123 / 不定位".into());
    serial(app, term, &remove).unwrap();
    let row = terminal_row(app, &sc.terminal);
    assert_eq!(
        (row.0.as_str(), row.1.as_str()),
        ("in_repair", "technician")
    );
    assert_eq!(row.5.as_deref(), Some("豫A5K123 / 不定位"));

    serial(
        app,
        term,
        &mv(MovementKind::Return, van(&lead), wh(&zz_id), &lead, false),
    )
    .unwrap();
    let mut send = mv(
        MovementKind::RmaSend,
        wh(&zz_id),
        Place::Maker(zz_id.clone()),
        &mgr,
        true,
    );
    send.rma_batch_id = Some("RMA-ZZ-2026-000001".into());
    serial(app, term, &send).unwrap();
    assert_eq!(terminal_row(app, &sc.terminal).0, "returned");
    serial(
        app,
        term,
        &mv(
            MovementKind::RmaBackRepaired,
            Place::Maker(zz_id.clone()),
            wh(&zz_id),
            &mgr,
            true,
        ),
    )
    .unwrap();
    let row = terminal_row(app, &sc.terminal);
    assert_eq!((row.0.as_str(), row.5.as_deref()), ("in_stock", None));

    serial(
        app,
        term,
        &mv(MovementKind::Transfer, wh(&zz_id), wh(&bj_id), &mgr, true),
    )
    .unwrap();
    assert_eq!(terminal_row(app, &sc.terminal).4, bj_id);
    serial(
        app,
        term,
        &mv(
            MovementKind::Scrap,
            wh(&bj_id),
            Place::Scrapped(bj_id.clone()),
            &mgr,
            true,
        ),
    )
    .unwrap();
    assert_eq!(terminal_row(app, &sc.terminal).0, "scrapped");

    let kinds: Vec<String> = history(app, term).into_iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            "receive",
            "issue",
            "confirm_receipt",
            "fit",
            "remove",
            "return",
            "rma_send",
            "rma_back_repaired",
            "transfer",
            "scrap"
        ]
    );
    let rows = history(app, term);
    assert!(rows.iter().all(|r| r.actor_id.is_some()));
    assert_eq!(rows[3].order_id.as_deref(), Some(sc.order.as_str()));
    assert_eq!(rows[6].rma_batch_id.as_deref(), Some("RMA-ZZ-2026-000001"));
    assert_replays(app, term);

    // the stock of the centers: the terminal is counted in BJ, scrapped
    let mut c = app.pool.get().unwrap();
    let bj = stock::stock_by_place_and_model(&mut c, &bj_id).unwrap();
    assert!(bj.iter().any(|l| l.item == "terminal"
        && l.place_kind == "scrapped"
        && l.model == "GT06N"
        && l.quantity == 1));
    let zz_lines = stock::stock_by_place_and_model(&mut c, &zz_id).unwrap();
    assert!(!zz_lines.iter().any(|l| l.item == "terminal"));
    assert!(
        zz_lines
            .iter()
            .any(|l| l.item == "sim" && l.place_kind == "warehouse")
    );
}

#[tokio::test]
async fn a_sim_card_moves_with_its_own_place() {
    let sc = scene(12).await;
    let app = &sc.s.app;
    let zz_id = app.zz.id.clone();
    let (mgr, lead) = (sc.s.mgr_id.clone(), sc.s.lead.id.clone());
    let sim = Serial::Sim(&sc.sim);
    let vehicle = Place::Vehicle(sc.vehicle.clone());
    assert_eq!(place(app, sim), wh(&zz_id));
    serial(
        app,
        sim,
        &mv(MovementKind::Issue, wh(&zz_id), van(&lead), &mgr, true),
    )
    .unwrap();
    serial(
        app,
        sim,
        &on_order(
            mv(MovementKind::Fit, van(&lead), vehicle.clone(), &lead, false),
            &sc.order,
        ),
    )
    .unwrap();
    assert_eq!(place(app, sim), vehicle);
    let mut remove = on_order(
        mv(MovementKind::Remove, vehicle, van(&lead), &lead, false),
        &sc.order,
    );
    remove.fault_tag = Some("豫A5K123 / 无信号".into());
    serial(app, sim, &remove).unwrap();
    assert_eq!(place(app, sim), van(&lead));
    assert_eq!(
        count_sql(
            app,
            &format!(
                "SELECT COUNT(*) AS n FROM sim_cards WHERE id = '{}' AND faulty",
                sc.sim
            )
        ),
        1
    );
    assert_eq!(history(app, sim).len(), 3);
    assert_replays(app, sim);
}

#[tokio::test]
async fn refused_movements_leave_the_database_unchanged() {
    let sc = scene(13).await;
    let app = &sc.s.app;
    let zz_id = app.zz.id.clone();
    let (mgr, lead, helper) = (
        sc.s.mgr_id.clone(),
        sc.s.lead.id.clone(),
        sc.s.helper.id.clone(),
    );
    let term = Serial::Terminal(&sc.terminal);
    let vehicle = Place::Vehicle(sc.vehicle.clone());
    let part = new_part(app, "CABLE-3M");
    // the terminal in the helper's van, 2 cables in the lead's
    serial(
        app,
        term,
        &mv(MovementKind::Issue, wh(&zz_id), van(&helper), &mgr, true),
    )
    .unwrap();
    parts(
        app,
        &part,
        5,
        &mv(
            MovementKind::Receive,
            Place::Maker(zz_id.clone()),
            wh(&zz_id),
            &mgr,
            true,
        ),
    )
    .unwrap();
    parts(
        app,
        &part,
        2,
        &mv(MovementKind::Issue, wh(&zz_id), van(&lead), &mgr, true),
    )
    .unwrap();

    let before = app.snapshot();
    let refused = |r: StockResult<StockMovement>| match r {
        Err(StockError::Refused(refusal)) => refusal.code(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    // fitting a unit from someone else's van
    let fit = on_order(
        mv(
            MovementKind::Fit,
            van(&helper),
            vehicle.clone(),
            &lead,
            false,
        ),
        &sc.order,
    );
    assert_eq!(refused(serial(app, term, &fit)), "not_in_your_stock");
    app.assert_unchanged_because(&before, "not_in_your_stock");
    // a movement from where the unit is not
    let issue = mv(MovementKind::Issue, wh(&zz_id), van(&lead), &mgr, true);
    assert_eq!(refused(serial(app, term, &issue)), "wrong_place");
    // a good unit to the maker
    serial(
        app,
        term,
        &mv(
            MovementKind::Return,
            van(&helper),
            wh(&zz_id),
            &helper,
            false,
        ),
    )
    .unwrap();
    let before = app.snapshot();
    let mut send = mv(
        MovementKind::RmaSend,
        wh(&zz_id),
        Place::Maker(zz_id.clone()),
        &mgr,
        true,
    );
    send.rma_batch_id = Some("RMA-1".into());
    assert_eq!(refused(serial(app, term, &send)), "not_faulty");
    // a technician's correction
    let mut adjust = mv(MovementKind::Adjust, wh(&zz_id), van(&lead), &lead, false);
    adjust.note = Some("找到了".into());
    assert_eq!(refused(serial(app, term, &adjust)), "manager_only");
    // more cables than the van holds
    let use_cable = on_order(
        mv(MovementKind::Fit, van(&lead), vehicle.clone(), &lead, false),
        &sc.order,
    );
    assert_eq!(
        refused(parts(app, &part, 3, &use_cable)),
        "insufficient_quantity"
    );
    assert_eq!(
        refused(parts(app, &part, 0, &use_cable)),
        "invalid_quantity"
    );
    app.assert_unchanged(&before);

    // the manager's one-off: fit from another technician's van
    serial(
        app,
        term,
        &mv(MovementKind::Issue, wh(&zz_id), van(&helper), &mgr, true),
    )
    .unwrap();
    let mut one_off = on_order(
        mv(MovementKind::Fit, van(&helper), vehicle.clone(), &mgr, true),
        &sc.order,
    );
    one_off.allow_other_van = true;
    serial(app, term, &one_off).unwrap();
    assert_replays(app, term);
}

#[tokio::test]
async fn counted_parts_never_go_negative_and_the_ledger_sums_to_the_stock() {
    let sc = scene(14).await;
    let app = &sc.s.app;
    let zz_id = app.zz.id.clone();
    let (mgr, lead) = (sc.s.mgr_id.clone(), sc.s.lead.id.clone());
    let vehicle = Place::Vehicle(sc.vehicle.clone());
    let relay = new_part(app, "RELAY-12V");
    let receive = mv(
        MovementKind::Receive,
        Place::Maker(zz_id.clone()),
        wh(&zz_id),
        &mgr,
        true,
    );
    parts(app, &relay, 10, &receive).unwrap();
    parts(
        app,
        &relay,
        4,
        &mv(MovementKind::Issue, wh(&zz_id), van(&lead), &mgr, true),
    )
    .unwrap();
    let use_relay = on_order(
        mv(MovementKind::Fit, van(&lead), vehicle.clone(), &lead, false),
        &sc.order,
    );
    parts(app, &relay, 3, &use_relay).unwrap();
    match parts(app, &relay, 2, &use_relay) {
        Err(StockError::Refused(r)) => {
            assert_eq!(r.code(), "insufficient_quantity");
            assert!(r.message_zh().contains('1'));
        }
        other => panic!("{other:?}"),
    }
    parts(
        app,
        &relay,
        1,
        &mv(MovementKind::Return, van(&lead), wh(&zz_id), &lead, false),
    )
    .unwrap();
    assert_eq!(quantity(app, &relay, &wh(&zz_id)), 7);
    assert_eq!(quantity(app, &relay, &van(&lead)), 0);
    assert_eq!(quantity(app, &relay, &vehicle), 3);

    // the ledger replayed gives part_stock
    let mut replayed = std::collections::BTreeMap::<(String, String), i64>::new();
    let rows: Vec<(String, String, String, String, String, i64)> = {
        use diesel::prelude::*;
        use dispatch::store::schema::stock_movements::dsl as sm;
        let mut c = app.pool.get().unwrap();
        sm::stock_movements
            .filter(sm::part_id.eq(&relay))
            .order(sm::id.asc())
            .select((
                sm::kind,
                sm::from_kind,
                sm::from_id,
                sm::to_kind,
                sm::to_id,
                sm::quantity,
            ))
            .load(&mut c)
            .unwrap()
    };
    for (kind, fk, fi, tk, ti, n) in rows {
        if kind != "receive" {
            *replayed.entry((fk, fi)).or_default() -= n;
        }
        *replayed.entry((tk, ti)).or_default() += n;
    }
    for ((k, i), q) in &replayed {
        let p = Place::from_stored(k, i).unwrap();
        assert!(*q >= 0);
        assert_eq!(quantity(app, &relay, &p), *q, "{p}");
    }
    let mut c = app.pool.get().unwrap();
    let lines = stock::stock_by_place_and_model(&mut c, &zz_id).unwrap();
    assert!(lines.iter().any(|l| l.item == "part"
        && l.model == relay
        && l.place_kind == "warehouse"
        && l.quantity == 7));
    assert!(
        !lines
            .iter()
            .any(|l| l.item == "part" && l.place_kind == "van")
    );
}

/// Two threads move the same serial (and the last parts) at once: exactly one wins, the
/// other is refused or told it changed, and the ledger holds one movement.
#[tokio::test]
async fn concurrent_movements_of_one_serial_exactly_one_wins() {
    let s = zz().await;
    let app = &s.app;
    let zz_id = app.zz.id.clone();
    let (mgr, lead, helper) = (s.mgr_id.clone(), s.lead.id.clone(), s.helper.id.clone());
    let fuse = new_part(app, "FUSE-5A");
    for round in 0..6u64 {
        let terminal = id_of(&app.create_terminal(&app.admin, &zz_id, 100 + round).await);
        let barrier = Arc::new(Barrier::new(2));
        let outcomes: Vec<StockResult<StockMovement>> = [lead.clone(), helper.clone()]
            .into_iter()
            .map(|tech| {
                let (pool, barrier, terminal) =
                    (app.pool.clone(), barrier.clone(), terminal.clone());
                let m = mv(MovementKind::Issue, wh(&zz_id), van(&tech), &mgr, true);
                std::thread::spawn(move || {
                    let mut c = pool.get().unwrap();
                    barrier.wait();
                    write_tx(&mut c, |c| {
                        stock::move_serial(c, Serial::Terminal(&terminal), &m)
                    })
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {outcomes:?}");
        for o in &outcomes {
            if let Err(e) = o {
                assert!(
                    matches!(
                        e,
                        StockError::Changed | StockError::Refused(StockRefusal::WrongPlace { .. })
                    ),
                    "round {round}: {e:?}"
                );
            }
        }
        let rows = history(app, Serial::Terminal(&terminal));
        assert_eq!(rows.len(), 1, "round {round}");
        assert_replays(app, Serial::Terminal(&terminal));

        // the last 3 fuses, asked for twice
        parts(
            app,
            &fuse,
            3,
            &mv(
                MovementKind::Receive,
                Place::Maker(zz_id.clone()),
                wh(&zz_id),
                &mgr,
                true,
            ),
        )
        .unwrap();
        let outcomes: Vec<StockResult<StockMovement>> = [lead.clone(), helper.clone()]
            .into_iter()
            .map(|tech| {
                let (pool, barrier, fuse, center) = (
                    app.pool.clone(),
                    barrier.clone(),
                    fuse.clone(),
                    zz_id.clone(),
                );
                let m = mv(MovementKind::Issue, wh(&zz_id), van(&tech), &mgr, true);
                std::thread::spawn(move || {
                    let mut c = pool.get().unwrap();
                    barrier.wait();
                    write_tx(&mut c, |c| stock::move_parts(c, &center, &fuse, 3, &m))
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "round {round}: {outcomes:?}"
        );
        assert_eq!(quantity(app, &fuse, &wh(&zz_id)), 0);
        assert_eq!(
            quantity(app, &fuse, &van(&lead)) + quantity(app, &fuse, &van(&helper)),
            3 * (round as i64 + 1)
        );
    }
}
