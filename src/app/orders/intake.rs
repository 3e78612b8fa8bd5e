//! Intake: install orders from an install request with its vehicles, repair orders from
//! a call, and the corrections of a draft or rejected order. All three share
//! [`check_draft`] (what an order's site, contact, window and vehicles must be) and install
//! orders [`resolve_vehicles`] (each vehicle found or registered by its plate).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::{Order, OrderView, act, view};
use crate::app::{Check, Error, Principal, Result};
use crate::domain::ids::{Imei, Phone, PlateNo, Vin};
use crate::domain::order::{self, Action, LineStatus, OrderKind, OrderStatus};
use crate::domain::warranty;
use crate::notify::{self, OrderNotice};
use crate::store::customers::{self, CustomerRow};
use crate::store::equipment;
use crate::store::orders::{self as store, Line, OrderPatch, WorkOrder};
use crate::store::vehicles::{self, Driver, Vehicle};
use crate::store::{DbConn, centers, new_id, now};

const URGENCIES: &[&str] = &["normal", "urgent"];
const CHANNELS: &[&str] = &["phone", "letter", "walk_in", "online"];

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverIn {
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleIn {
    /// a registered vehicle of the customer…
    pub vehicle_id: Option<String>,
    /// …or its plate; an unknown plate is registered to the customer
    pub plate_no: Option<String>,
    pub vin: Option<String>,
    pub model: Option<String>,
    pub driver: Option<DriverIn>,
}

/// What an order says of its site, contact and visit, as given (create) or as it will be
/// after a correction (the order's values where the correction leaves them).
#[derive(Debug)]
pub struct Draft<'a> {
    pub kind: OrderKind,
    pub site_address: &'a str,
    pub site_lat: f64,
    pub site_lng: f64,
    pub contact_name: &'a str,
    pub contact_phone: &'a str,
    pub urgency: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub window_start: Option<NaiveDateTime>,
    pub window_end: Option<NaiveDateTime>,
    /// whether a window was given at all (a repair order has none)
    pub window_given: bool,
    /// install orders: the vehicle lines (a repair order names its one vehicle apart)
    pub vehicles: Option<&'a [VehicleIn]>,
}

/// A [`Draft`] checked: the values to store.
#[derive(Debug)]
pub struct Checked {
    pub site_address: String,
    pub site_lat: f64,
    pub site_lng: f64,
    pub contact_name: String,
    pub contact_phone: String,
    pub urgency: String,
    pub channel: String,
    pub notes: Option<String>,
    pub window_start: Option<NaiveDateTime>,
    pub window_end: Option<NaiveDateTime>,
    /// the plates of the vehicle lines as given (None: named by `vehicle_id`); None when
    /// the draft has no vehicle lines
    pub plates: Option<Vec<Option<String>>>,
}

/// The one check of an order's draft, for create (install, repair) and correction.
pub fn check_draft(check: &mut Check, d: &Draft) -> Checked {
    let site_address = check.text("site_address", d.site_address, 200);
    check.point("site", d.site_lat, d.site_lng);
    let contact_name = check.text("contact_name", d.contact_name, 50);
    let contact_phone = check
        .id("contact_phone", Phone::parse(d.contact_phone))
        .map(String::from)
        .unwrap_or_default();
    let urgency = d.urgency.unwrap_or("normal");
    if !URGENCIES.contains(&urgency) {
        check.add(
            "urgency",
            "invalid_choice",
            "must be one of: normal, urgent",
        );
    }
    let channel = d.channel.unwrap_or("phone");
    if !CHANNELS.contains(&channel) {
        check.add(
            "channel",
            "invalid_choice",
            "must be one of: phone, letter, walk_in, online",
        );
    }
    let notes = check.opt_text("notes", d.notes, 2000);
    let plates = match d.vehicles {
        Some(v) if d.kind == OrderKind::Install => Some(check_vehicles(check, v)),
        Some(_) => {
            check.add(
                "vehicles",
                "not_applicable",
                "a repair order has one vehicle; create a new order for another",
            );
            None
        }
        None => None,
    };
    if d.window_given && d.kind == OrderKind::Repair {
        check.add(
            "window_start",
            "not_applicable",
            "repair orders have no window",
        );
    }
    if let (Some(s), Some(e)) = (d.window_start, d.window_end)
        && e <= s
    {
        check.add("window_end", "out_of_range", "must be after window_start");
    }
    Checked {
        site_address,
        site_lat: d.site_lat,
        site_lng: d.site_lng,
        contact_name,
        contact_phone,
        urgency: urgency.to_string(),
        channel: channel.to_string(),
        notes,
        window_start: d.window_start,
        window_end: d.window_end,
        plates,
    }
}

/// Checks the vehicles of an install order: their plates as given.
fn check_vehicles(check: &mut Check, vehicles: &[VehicleIn]) -> Vec<Option<String>> {
    if vehicles.is_empty() || vehicles.len() > 200 {
        check.add("vehicles", "out_of_range", "between 1 and 200 vehicles");
    }
    let mut plates = Vec::new();
    for (i, v) in vehicles.iter().enumerate() {
        match (&v.vehicle_id, &v.plate_no) {
            (Some(_), None) => plates.push(None),
            (None, Some(p)) => {
                let plate = check.id(format!("vehicles[{i}].plate_no"), PlateNo::parse(p));
                if let Some(vin) = v.vin.as_deref().filter(|s| !s.trim().is_empty()) {
                    check.id(format!("vehicles[{i}].vin"), Vin::parse(vin));
                }
                plates.push(plate.map(String::from));
            }
            _ => {
                check.add(
                    format!("vehicles[{i}]"),
                    "required",
                    "give either vehicle_id or plate_no",
                );
                plates.push(None);
            }
        }
        if let Some(d) = &v.driver {
            check.text(format!("vehicles[{i}].driver.name"), &d.name, 50);
            check.id(
                format!("vehicles[{i}].driver.phone"),
                Phone::parse(&d.phone),
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, p) in plates.iter().enumerate() {
        if let Some(p) = p
            && !seen.insert(p.clone())
        {
            check.add(
                format!("vehicles[{i}].plate_no"),
                "duplicate",
                "plate listed twice",
            );
        }
    }
    plates
}

/// The lines of an install order: each vehicle found (or registered by its plate) among
/// the customer's, and its driver recorded.
fn resolve_vehicles(
    c: &mut DbConn,
    customer: &CustomerRow,
    vehicles: &[VehicleIn],
    plates: Vec<Option<String>>,
) -> Result<Vec<(String, Option<String>)>> {
    let mut lines = Vec::new();
    let mut vehicle_ids = std::collections::HashSet::new();
    for (i, (v, plate)) in vehicles.iter().zip(plates).enumerate() {
        let vehicle = match (&v.vehicle_id, plate) {
            (Some(id), _) => vehicles::get(c, id)
                .ok()
                .filter(|x| x.customer_id == customer.id)
                .ok_or_else(|| {
                    Error::field(
                        &format!("vehicles[{i}].vehicle_id"),
                        "unknown",
                        "no such vehicle of this customer",
                    )
                })?,
            (None, Some(plate)) => match vehicles::by_plate(c, &plate)? {
                Some(x) if x.customer_id == customer.id => x,
                Some(_) => {
                    return Err(Error::conflict(
                        "duplicate_plate_no",
                        format!("{plate} is registered to another customer"),
                    ));
                }
                None => register_vehicle(c, customer, v, plate)?,
            },
            _ => return Err(Error::Internal("unchecked vehicle".into())),
        };
        if !vehicle_ids.insert(vehicle.id.clone()) {
            return Err(Error::field(
                &format!("vehicles[{i}]"),
                "duplicate",
                "vehicle listed twice",
            ));
        }
        let driver_id = match &v.driver {
            Some(d) => {
                let t = now();
                let driver = Driver {
                    id: new_id(),
                    center_id: customer.center_id.clone(),
                    vehicle_id: vehicle.id.clone(),
                    name: d.name.trim().to_string(),
                    phone: d.phone.trim().to_string(),
                    version: 1,
                    created_at: t,
                    updated_at: t,
                };
                vehicles::insert_driver(c, &driver)?;
                Some(driver.id)
            }
            None => None,
        };
        lines.push((vehicle.id, driver_id));
    }
    Ok(lines)
}

/// An unknown plate becomes a vehicle of the customer.
fn register_vehicle(
    c: &mut DbConn,
    customer: &CustomerRow,
    v: &VehicleIn,
    plate: String,
) -> Result<Vehicle> {
    let t = now();
    let x = Vehicle {
        id: new_id(),
        center_id: customer.center_id.clone(),
        customer_id: customer.id.clone(),
        plate_no: plate,
        vin: v.vin.clone().filter(|s| !s.trim().is_empty()),
        model: v.model.clone().filter(|s| !s.trim().is_empty()),
        notes: None,
        version: 1,
        created_at: t,
        updated_at: t,
        plate_colour: None,
    };
    vehicles::insert(c, &x)?;
    Ok(x)
}

fn customer_in_scope(c: &mut DbConn, p: &Principal, id: &str) -> Result<CustomerRow> {
    customers::get_row(c, id)
        .ok()
        .filter(|cu| p.scope.covers(&cu.center_id))
        .ok_or_else(|| Error::field("customer_id", "unknown", "no such customer"))
}

/// A new draft order of the customer's center, numbered.
fn new_order(
    c: &mut DbConn,
    p: &Principal,
    kind: OrderKind,
    customer: &CustomerRow,
    d: Checked,
    requested_at: NaiveDateTime,
) -> Result<WorkOrder> {
    let center = centers::get(c, &customer.center_id)?;
    let year = chrono::Datelike::year(&crate::domain::china_day(now()));
    let seq = crate::store::numbers::next_number(c, &customer.center_id, kind.as_str(), year)?;
    let t = now();
    Ok(WorkOrder {
        id: new_id(),
        number: order::order_number(kind, &center.code, year, seq),
        kind: kind.as_str().to_string(),
        center_id: customer.center_id.clone(),
        customer_id: customer.id.clone(),
        status: OrderStatus::Draft.as_str().to_string(),
        held_from: None,
        urgency: d.urgency,
        channel: d.channel,
        site_address: d.site_address,
        site_lat: d.site_lat,
        site_lng: d.site_lng,
        contact_name: d.contact_name,
        contact_phone: d.contact_phone,
        window_start: d.window_start,
        window_end: d.window_end,
        requested_at,
        product_model: None,
        purchase_date: None,
        fault_symptoms: None,
        terminal_id: None,
        warranty_in: None,
        warranty_ends_on: None,
        notes: d.notes,
        created_by: p.id.clone(),
        approved_by: None,
        approved_at: None,
        reject_reason: None,
        lead_technician_id: None,
        scheduled_at: None,
        outsourcing_reason: None,
        outsourcing_approved_by: None,
        readiness: None,
        ready_at: None,
        departed_at: None,
        arrived_at: None,
        arrived_lat: None,
        arrived_lng: None,
        completed_at: None,
        closed_at: None,
        cancel_reason: None,
        signoff_name: None,
        signoff_at: None,
        signoff_image: None,
        parts_total_fen: None,
        fee_fen: None,
        wait_seconds: None,
        repair_seconds: None,
        version: 1,
        created_at: t,
        updated_at: t,
    })
}

/// Inserts an order's lines, one per vehicle, all pending.
fn insert_lines(
    c: &mut DbConn,
    order_id: &str,
    lines: Vec<(String, Option<String>)>,
) -> Result<()> {
    for (i, (vehicle_id, driver_id)) in lines.into_iter().enumerate() {
        store::insert_line(
            c,
            &Line {
                id: new_id(),
                order_id: order_id.to_string(),
                position: i32::try_from(i + 1).unwrap_or(i32::MAX),
                vehicle_id,
                driver_id,
                status: LineStatus::Pending.as_str().to_string(),
                work: "[]".into(),
                terminal_id: None,
                sim_id: None,
                old_terminal_id: None,
                old_sim_id: None,
                fault_tag: None,
                not_done_reason: None,
                notes: None,
                done_by: None,
                done_at: None,
            },
        )?;
    }
    Ok(())
}

/// Inserts the order, its lines, its creation (and submission) on the timeline.
fn save_new(
    c: &mut DbConn,
    p: &Principal,
    mut order: WorkOrder,
    lines: Vec<(String, Option<String>)>,
    submit_now: bool,
) -> Result<OrderView> {
    if submit_now {
        order.status = OrderStatus::Submitted.as_str().to_string();
    }
    store::insert(c, &order)?;
    insert_lines(c, &order.id, lines)?;
    store::add_event(c, &order.id, &p.id, "create", None, Some(&order.number))?;
    if submit_now {
        store::add_event(
            c,
            &order.id,
            &p.id,
            Action::Submit.as_str(),
            Some(("draft", "submitted")),
            None,
        )?;
        notify::on_order(c, &order.id, OrderNotice::Submitted)?;
    }
    view(c, p, &order.id)
}

/// An install order (安装任务派工单), checked by [`check_draft`].
#[derive(Debug)]
pub struct NewInstall {
    pub customer_id: String,
    pub draft: Checked,
    pub vehicles: Vec<VehicleIn>,
    pub requested_at: NaiveDateTime,
    pub submit: bool,
}

/// Create an install order with a line per vehicle.
pub fn create_install(c: &mut DbConn, p: &Principal, mut n: NewInstall) -> Result<OrderView> {
    let customer = customer_in_scope(c, p, &n.customer_id)?;
    let plates = n.draft.plates.take().unwrap_or_default();
    let order = new_order(c, p, OrderKind::Install, &customer, n.draft, n.requested_at)?;
    let lines = resolve_vehicles(c, &customer, &n.vehicles, plates)?;
    save_new(c, p, order, lines, n.submit)
}

/// A repair order (维修服务单): the draft checked by [`check_draft`], the vehicle named by
/// id or plate (checked), the terminal and what the customer says of it.
#[derive(Debug)]
pub struct NewRepair {
    pub customer_id: String,
    pub draft: Checked,
    pub fault_symptoms: String,
    pub vehicle_id: Option<String>,
    pub plate_no: Option<String>,
    pub terminal_imei: Option<Imei>,
    pub product_model: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub requested_at: NaiveDateTime,
    pub submit: bool,
}

/// Create a repair order; the warranty verdict is computed from the terminal's purchase
/// date and warranty months (the terminal in the vehicle, or what the customer says).
pub fn create_repair(c: &mut DbConn, p: &Principal, n: NewRepair) -> Result<OrderView> {
    let customer = customer_in_scope(c, p, &n.customer_id)?;
    let vehicle = match (&n.vehicle_id, &n.plate_no) {
        (Some(id), _) => vehicles::get(c, id).ok(),
        (None, Some(plate)) => vehicles::by_plate(c, plate)?,
        _ => None,
    }
    .filter(|v| v.customer_id == customer.id)
    .ok_or_else(|| Error::field("vehicle_id", "unknown", "no such vehicle of this customer"))?;
    let terminal = match &n.terminal_imei {
        Some(imei) => Some(
            equipment::terminal_by_imei(c, imei.as_str())?
                .filter(|t| t.vehicle_id.as_deref() == Some(vehicle.id.as_str()))
                .ok_or_else(|| {
                    Error::field(
                        "terminal_imei",
                        "not_in_vehicle",
                        "no such terminal installed in this vehicle",
                    )
                })?,
        ),
        None => equipment::terminals_in_vehicles(c, &[vehicle.id.as_str()])?
            .into_iter()
            .next(),
    };
    let mut order = new_order(c, p, OrderKind::Repair, &customer, n.draft, n.requested_at)?;
    order.fault_symptoms = Some(n.fault_symptoms);
    let on = crate::domain::china_day(n.requested_at);
    match &terminal {
        Some(t) => {
            let v = warranty::verdict(t.purchase_date, t.warranty_months, on);
            order.terminal_id = Some(t.id.clone());
            order.product_model = Some(t.model_code.clone());
            order.purchase_date = Some(t.purchase_date);
            order.warranty_in = Some(v.in_warranty);
            order.warranty_ends_on = Some(v.ends_on);
        }
        None => {
            let months = match &n.product_model {
                Some(m) => equipment::model(c, m)?.map(|m| m.warranty_months),
                None => None,
            };
            order.product_model = n.product_model;
            order.purchase_date = n.purchase_date;
            if let (Some(d), Some(m)) = (n.purchase_date, months) {
                let v = warranty::verdict(d, m, on);
                order.warranty_in = Some(v.in_warranty);
                order.warranty_ends_on = Some(v.ends_on);
            }
        }
    }
    save_new(c, p, order, vec![(vehicle.id, None)], n.submit)
}

/// The corrections to a draft or rejected order; absent fields stay as they are. Times
/// are the handler's, already read.
#[derive(Debug)]
pub struct Edit {
    pub site_address: Option<String>,
    pub site_lat: Option<f64>,
    pub site_lng: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub urgency: Option<String>,
    pub window_start: Option<NaiveDateTime>,
    pub window_end: Option<NaiveDateTime>,
    pub requested_at: Option<NaiveDateTime>,
    pub vehicles: Option<Vec<VehicleIn>>,
}

/// Correct a draft or a rejected order (409 `order_not_editable` otherwise); the
/// timeline says what changed.
pub fn update(c: &mut DbConn, p: &Principal, id: &str, version: i32, e: Edit) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        if !order.status.is_editable() {
            return Err(Error::conflict(
                "order_not_editable",
                format!("cannot edit an order that is {}", order.status.as_str()),
            ));
        }
        let mut check = Check::new();
        let d = check_draft(
            &mut check,
            &Draft {
                kind: order.kind,
                site_address: e.site_address.as_deref().unwrap_or(&order.site_address),
                site_lat: e.site_lat.unwrap_or(order.site_lat),
                site_lng: e.site_lng.unwrap_or(order.site_lng),
                contact_name: e.contact_name.as_deref().unwrap_or(&order.contact_name),
                contact_phone: e.contact_phone.as_deref().unwrap_or(&order.contact_phone),
                urgency: Some(e.urgency.as_deref().unwrap_or(&order.urgency)),
                channel: Some(&order.channel),
                notes: None,
                window_start: e.window_start.or(order.window_start),
                window_end: e.window_end.or(order.window_end),
                window_given: e.window_start.is_some() || e.window_end.is_some(),
                vehicles: e.vehicles.as_deref(),
            },
        );
        check.finish()?;
        let comment = changes(order, &d, e.requested_at);
        if let (Some(vehicles), Some(plates)) = (&e.vehicles, d.plates) {
            let customer = customers::get_row(c, &order.customer_id)?;
            let lines = resolve_vehicles(c, &customer, vehicles, plates)?;
            store::delete_lines(c, &order.id)?;
            insert_lines(c, &order.id, lines)?;
        }
        let patch = OrderPatch {
            site_address: Some(d.site_address),
            site_lat: Some(d.site_lat),
            site_lng: Some(d.site_lng),
            contact_name: Some(d.contact_name),
            contact_phone: Some(d.contact_phone),
            urgency: Some(d.urgency),
            window_start: Some(d.window_start),
            window_end: Some(d.window_end),
            requested_at: e.requested_at,
            ..OrderPatch::default()
        };
        store::update(c, &order.id, order.version, &patch)?;
        store::add_event(c, &order.id, &p.id, "edited", None, Some(&comment))?;
        Ok(())
    })
}

/// The timeline's word of a correction: what it changed (in the desk's words).
fn changes(order: &Order, d: &Checked, requested_at: Option<NaiveDateTime>) -> String {
    let changed: Vec<&str> = [
        (d.site_address != order.site_address, "地址"),
        (
            d.site_lat != order.site_lat || d.site_lng != order.site_lng,
            "位置",
        ),
        (d.contact_name != order.contact_name, "联系人"),
        (d.contact_phone != order.contact_phone, "联系电话"),
        (d.urgency != order.urgency, "紧急程度"),
        (
            d.window_start != order.window_start || d.window_end != order.window_end,
            "预约时段",
        ),
        (
            requested_at.is_some_and(|t| t != order.requested_at),
            "报修时间",
        ),
        (d.plates.is_some(), "车辆明细"),
    ]
    .into_iter()
    .filter_map(|(yes, what)| yes.then_some(what))
    .collect();
    if changed.is_empty() {
        "未改动".to_string()
    } else {
        format!("修改了：{}", changed.join("、"))
    }
}
