//! The demo data set (fixtures/demo.json, compiled into the binary), loaded on request
//! into an empty database only.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::ids::{Iccid, Imei, Msisdn, PlateNo, Vin};
use crate::store::centers::Center;
use crate::store::customers::{CustomerRow, NewContact};
use crate::store::equipment::{BindContext, SimCard, Terminal, TerminalModel};
use crate::store::technicians::{TechnicianRow, models_json};
use crate::store::users::User;
use crate::store::vehicles::{Driver, Vehicle};
use crate::store::{self, DbConn, StoreError, new_id, now};

pub const DEMO_JSON: &str = include_str!("../fixtures/demo.json");
pub const DEMO_PASSWORD: &str = "demo1234";

#[derive(Deserialize)]
struct Demo {
    centers: Vec<DCenter>,
    terminal_models: Vec<DModel>,
    users: Vec<DUser>,
    technicians: Vec<DTech>,
    customers: Vec<DCustomer>,
    vehicles: Vec<DVehicle>,
    terminals: Vec<DTerminal>,
    sims: Vec<DSim>,
}
#[derive(Deserialize)]
struct DCenter {
    code: String,
    name: String,
    region: String,
    lat: f64,
    lng: f64,
}
#[derive(Deserialize)]
struct DModel {
    code: String,
    name: String,
    warranty_months: i32,
}
#[derive(Deserialize)]
struct DUser {
    username: String,
    display_name: String,
    role: String,
    center: String,
    phone: Option<String>,
    email: Option<String>,
}
#[derive(Deserialize)]
struct DTech {
    username: String,
    can_install: bool,
    can_repair: bool,
    models: Vec<String>,
    home_lat: f64,
    home_lng: f64,
    external: bool,
    contractor_company: Option<String>,
}
#[derive(Deserialize)]
struct DContact {
    name: String,
    phone: String,
    email: Option<String>,
    title: Option<String>,
}
#[derive(Deserialize)]
struct DCustomer {
    key: String,
    center: String,
    name: String,
    tier: String,
    address: String,
    lat: Option<f64>,
    lng: Option<f64>,
    payment_terms: String,
    credit_days: Option<i32>,
    notes: Option<String>,
    contacts: Vec<DContact>,
}
#[derive(Deserialize)]
struct DDriver {
    name: String,
    phone: String,
}
#[derive(Deserialize)]
struct DVehicle {
    customer: String,
    plate_no: String,
    vin: Option<String>,
    model: Option<String>,
    drivers: Vec<DDriver>,
}
#[derive(Deserialize)]
struct DTerminal {
    imei: String,
    model: String,
    center: String,
    purchase_date: NaiveDate,
    warranty_months: i32,
    status: String,
    vehicle: Option<String>,
    technician: Option<String>,
}
#[derive(Deserialize)]
struct DSim {
    iccid: String,
    msisdn: String,
    carrier: String,
    center: String,
    status: String,
    terminal: Option<String>,
}

#[derive(Debug)]
pub struct Summary {
    pub users: Vec<(String, String)>,
    pub customers: usize,
    pub vehicles: usize,
    pub terminals: usize,
    pub sims: usize,
}

/// Logins of the demo users, as (username, role).
pub fn logins() -> Result<Vec<(String, String)>, String> {
    let demo: Demo = serde_json::from_str(DEMO_JSON).map_err(|e| e.to_string())?;
    Ok(demo
        .users
        .into_iter()
        .map(|u| (u.username, u.role))
        .collect())
}

/// Whether the database holds nothing yet (no center, no user).
pub fn is_empty(conn: &mut DbConn) -> Result<bool, StoreError> {
    Ok(store::centers::count(conn)? == 0 && store::users::count(conn)? == 0)
}

fn bad(what: &str, value: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Conflict {
        code: "bad_fixture",
        detail: format!("{what} {value}: {e}"),
    }
}

/// Loads the demo set in one transaction. The caller checks `is_empty` first.
pub fn load(conn: &mut DbConn) -> Result<Summary, StoreError> {
    let demo: Demo =
        serde_json::from_str(DEMO_JSON).map_err(|e| bad("fixtures", "demo.json", e))?;
    let hash = crate::password::hash(DEMO_PASSWORD).map_err(|e| bad("password", "", e))?;
    store::write_tx(conn, |c| load_in(c, demo, &hash))
}

fn load_in(c: &mut DbConn, demo: Demo, hash: &str) -> Result<Summary, StoreError> {
    let t = now();
    let mut centers = HashMap::new();
    for d in demo.centers {
        let center = Center {
            id: new_id(),
            code: d.code.clone(),
            name: d.name,
            region: d.region,
            lat: d.lat,
            lng: d.lng,
            active: true,
            version: 1,
            created_at: t,
            updated_at: t,
        };
        store::centers::insert(c, &center)?;
        centers.insert(d.code, center.id);
    }
    let center = |code: &str| {
        centers
            .get(code)
            .cloned()
            .ok_or_else(|| bad("center", code, "unknown"))
    };
    for m in demo.terminal_models {
        store::equipment::insert_model(
            c,
            &TerminalModel {
                code: m.code,
                name: m.name,
                warranty_months: m.warranty_months,
                created_at: t,
            },
        )?;
    }
    let mut users = HashMap::new();
    let mut logins = Vec::new();
    for u in demo.users {
        let user = User {
            id: new_id(),
            username: u.username.clone(),
            display_name: u.display_name,
            role: u.role.clone(),
            center_id: center(&u.center)?,
            phone: u.phone,
            email: u.email,
            password_hash: hash.to_string(),
            active: true,
            token_version: 0,
            failed_logins: 0,
            locked_until: None,
            version: 1,
            created_at: t,
            updated_at: t,
        };
        store::users::insert(c, &user)?;
        logins.push((u.username.clone(), u.role));
        users.insert(u.username, (user.id, user.center_id));
    }
    let user = |name: &str| {
        users
            .get(name)
            .cloned()
            .ok_or_else(|| bad("user", name, "unknown"))
    };
    for d in demo.technicians {
        let (id, center_id) = user(&d.username)?;
        store::technicians::insert(
            c,
            &TechnicianRow {
                user_id: id,
                center_id,
                can_install: d.can_install,
                can_repair: d.can_repair,
                models: models_json(&d.models),
                home_lat: d.home_lat,
                home_lng: d.home_lng,
                last_lat: None,
                last_lng: None,
                last_seen_at: None,
                active: true,
                external: d.external,
                contractor_company: d.contractor_company,
                version: 1,
                created_at: t,
                updated_at: t,
            },
        )?;
    }
    let mut customers = HashMap::new();
    let n_customers = demo.customers.len();
    for d in demo.customers {
        let row = CustomerRow {
            id: new_id(),
            center_id: center(&d.center)?,
            name: d.name,
            tier: d.tier,
            address: d.address,
            lat: d.lat,
            lng: d.lng,
            payment_terms: d.payment_terms,
            credit_days: d.credit_days,
            notes: d.notes,
            version: 1,
            created_at: t,
            updated_at: t,
        };
        let contacts: Vec<NewContact> = d
            .contacts
            .into_iter()
            .map(|x| NewContact {
                name: x.name,
                phone: x.phone,
                email: x.email,
                title: x.title,
            })
            .collect();
        store::customers::insert(c, &row, &contacts)?;
        customers.insert(d.key, (row.id, row.center_id));
    }
    let mut vehicles = HashMap::new();
    let n_vehicles = demo.vehicles.len();
    for d in demo.vehicles {
        let (customer_id, center_id) = customers
            .get(&d.customer)
            .cloned()
            .ok_or_else(|| bad("customer", &d.customer, "unknown"))?;
        let plate = PlateNo::parse(&d.plate_no).map_err(|e| bad("plate", &d.plate_no, e))?;
        let vin = d
            .vin
            .as_deref()
            .map(|v| Vin::parse(v).map_err(|e| bad("vin", v, e)))
            .transpose()?;
        let v = Vehicle {
            id: new_id(),
            center_id: center_id.clone(),
            customer_id,
            plate_no: plate.into(),
            vin: vin.map(Into::into),
            model: d.model,
            notes: None,
            version: 1,
            created_at: t,
            updated_at: t,
            plate_colour: None,
        };
        store::vehicles::insert(c, &v)?;
        for dr in d.drivers {
            store::vehicles::insert_driver(
                c,
                &Driver {
                    id: new_id(),
                    center_id: center_id.clone(),
                    vehicle_id: v.id.clone(),
                    name: dr.name,
                    phone: dr.phone,
                    version: 1,
                    created_at: t,
                    updated_at: t,
                },
            )?;
        }
        vehicles.insert(v.plate_no.clone(), v.id);
    }
    let (admin_id, _) = user("admin")?;
    let ctx = BindContext {
        actor_id: &admin_id,
        reason: "演示数据初始安装",
        order_id: None,
    };
    let mut terminals = HashMap::new();
    let n_terminals = demo.terminals.len();
    for d in demo.terminals {
        let imei = Imei::parse(&d.imei).map_err(|e| bad("imei", &d.imei, e))?;
        let technician_id = d
            .technician
            .as_deref()
            .map(|u| user(u).map(|x| x.0))
            .transpose()?;
        let row = Terminal {
            id: new_id(),
            center_id: center(&d.center)?,
            imei: imei.into(),
            model_code: d.model,
            purchase_date: d.purchase_date,
            warranty_months: d.warranty_months,
            // installed ones go in through bind_terminal, which writes the history
            status: if d.vehicle.is_some() {
                "in_stock".into()
            } else {
                d.status.clone()
            },
            location: if technician_id.is_some() {
                "technician"
            } else {
                "warehouse"
            }
            .into(),
            technician_id,
            vehicle_id: None,
            notes: None,
            version: 1,
            created_at: t,
            updated_at: t,
            fault_tag: None,
            fault_order_id: None,
        };
        store::equipment::insert_terminal(c, &row)?;
        if let Some(plate) = &d.vehicle {
            let vid = vehicles
                .get(plate)
                .ok_or_else(|| bad("vehicle", plate, "unknown"))?;
            store::equipment::bind_terminal(c, &row, vid, &ctx)?;
        }
        terminals.insert(d.imei, row.id);
    }
    let n_sims = demo.sims.len();
    for d in demo.sims {
        let iccid = Iccid::parse(&d.iccid).map_err(|e| bad("iccid", &d.iccid, e))?;
        let msisdn = Msisdn::parse(&d.msisdn).map_err(|e| bad("msisdn", &d.msisdn, e))?;
        let row = SimCard {
            id: new_id(),
            center_id: center(&d.center)?,
            iccid: iccid.into(),
            msisdn: msisdn.into(),
            carrier: d.carrier,
            status: if d.terminal.is_some() {
                "in_stock".into()
            } else {
                d.status.clone()
            },
            terminal_id: None,
            notes: None,
            version: 1,
            created_at: t,
            updated_at: t,
        };
        store::equipment::insert_sim(c, &row)?;
        if let Some(imei) = &d.terminal {
            let tid = terminals
                .get(imei)
                .ok_or_else(|| bad("terminal", imei, "unknown"))?;
            store::equipment::bind_sim(c, &row, tid, &ctx)?;
        }
    }
    Ok(Summary {
        users: logins,
        customers: n_customers,
        vehicles: n_vehicles,
        terminals: n_terminals,
        sims: n_sims,
    })
}
