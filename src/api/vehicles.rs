use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json::Json;
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, double_option, empty_page, if_match, in_tx, ok_etag,
    page_json, with_db,
};
use crate::domain::access::{Op, Resource};
use crate::domain::ids::{Phone, PlateNo, Vin};
use crate::domain::registry::PlateColour;
use crate::store::vehicles::{
    self, Driver, DriverFilter, DriverPatch, Vehicle, VehicleFilter, VehiclePatch,
};
use crate::store::{DbConn, Page, customers, new_id, now};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverInput {
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVehicle {
    pub customer_id: String,
    /// 车牌号, e.g. 豫A12345, 粤BD12345 (new energy), 豫A1234挂
    pub plate_no: String,
    /// 车架号 (17 characters, check digit at position 9)
    pub vin: Option<String>,
    pub model: Option<String>,
    pub notes: Option<String>,
    /// 车牌颜色: blue, yellow, black, white, green (new energy), yellow_green (new energy,
    /// large); optional
    #[schema(value_type = Option<PlateColour>)]
    pub plate_colour: Option<String>,
    #[serde(default)]
    pub drivers: Vec<DriverInput>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleUpdate {
    pub plate_no: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub vin: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// 车牌颜色; null clears it
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<PlateColour>)]
    pub plate_colour: Option<Option<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverUpdate {
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VehicleWithDrivers {
    #[serde(flatten)]
    pub vehicle: Vehicle,
    pub drivers: Vec<Driver>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VehicleQuery {
    pub center_id: Option<String>,
    pub customer_id: Option<String>,
    /// plate number or VIN contains
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DriverQuery {
    pub center_id: Option<String>,
    pub vehicle_id: Option<String>,
    /// name or phone contains
    pub q: Option<String>,
}

fn check_driver(check: &mut Check, prefix: &str, d: &DriverInput) -> (String, String) {
    let name = check.text(format!("{prefix}name"), &d.name, 50);
    let phone = check
        .id(format!("{prefix}phone"), Phone::parse(&d.phone))
        .map(String::from)
        .unwrap_or_default();
    (name, phone)
}

/// An optional plate colour (empty: none), one of `PlateColour`'s names.
fn check_colour(check: &mut Check, value: Option<&str>) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    check
        .one_of("plate_colour", v, PlateColour::parse, &PlateColour::names())
        .map(|c| c.as_str().to_string())
}

fn new_driver(center_id: &str, vehicle_id: &str, name: String, phone: String) -> Driver {
    let t = now();
    Driver {
        id: new_id(),
        center_id: center_id.to_string(),
        vehicle_id: vehicle_id.to_string(),
        name,
        phone,
        version: 1,
        created_at: t,
        updated_at: t,
    }
}

fn load_visible(c: &mut DbConn, caller: &Caller, id: &str) -> Result<Vehicle, ApiError> {
    let v = vehicles::get(c, id)?;
    caller.see(&v.center_id)?;
    Ok(v)
}

#[utoipa::path(operation_id = "list_vehicles", tag = "vehicles", params(VehicleQuery, PageParams), responses((status = 200, body = inline(Page<Vehicle>))), security(("bearer" = [])))]
#[get("/vehicles")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<VehicleQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return empty_page::<Vehicle>(&state.pool, caller.session()).await;
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        let filter = VehicleFilter {
            center: center.as_deref(),
            customer_id: q.customer_id,
            q: q.q.map(|s| s.trim().to_uppercase()),
        };
        Ok(vehicles::list(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

#[utoipa::path(operation_id = "get_vehicle", tag = "vehicles", responses((status = 200, body = VehicleWithDrivers), (status = 404)), security(("bearer" = [])))]
#[get("/vehicles/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Read)?;
    let v = with_db(&state.pool, caller.session(), move |c| {
        let vehicle = load_visible(c, &caller, &id)?;
        let drivers = vehicles::drivers_of(c, &[id.as_str()])?;
        Ok(VehicleWithDrivers { vehicle, drivers })
    })
    .await?;
    Ok(ok_etag(v.vehicle.version, &v))
}

/// Register a vehicle of a customer, with its drivers.
#[utoipa::path(operation_id = "create_vehicle", tag = "vehicles", request_body = NewVehicle, responses((status = 201, body = VehicleWithDrivers), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/vehicles")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewVehicle>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let plate = check.id("plate_no", PlateNo::parse(&b.plate_no));
    let vin = check.opt_id(
        "vin",
        b.vin.as_deref().filter(|v| !v.trim().is_empty()),
        Vin::parse,
    );
    let model = check.opt_text("model", b.model.as_deref(), 50);
    let notes = check.opt_text("notes", b.notes.as_deref(), 2000);
    let plate_colour = check_colour(&mut check, b.plate_colour.as_deref());
    if b.drivers.len() > 10 {
        check.add("drivers", "too_many", "at most 10 drivers");
    }
    let drivers: Vec<(String, String)> = b
        .drivers
        .iter()
        .enumerate()
        .map(|(i, d)| check_driver(&mut check, &format!("drivers[{i}]."), d))
        .collect();
    check.finish()?;
    let plate = plate.map(String::from).unwrap_or_default();
    let v = in_tx(&state.pool, caller.session(), move |c| {
        let customer = customers::get_row(c, &b.customer_id)
            .ok()
            .filter(|cu| caller.scope.covers(&cu.center_id))
            .ok_or_else(|| ApiError::field("customer_id", "unknown", "no such customer"))?;
        let t = now();
        let vehicle = Vehicle {
            id: new_id(),
            center_id: customer.center_id.clone(),
            customer_id: customer.id,
            plate_no: plate,
            vin: vin.map(String::from),
            model,
            notes,
            version: 1,
            created_at: t,
            updated_at: t,
            plate_colour,
        };
        vehicles::insert(c, &vehicle)?;
        let mut out = Vec::with_capacity(drivers.len());
        for (name, phone) in drivers {
            let d = new_driver(&vehicle.center_id, &vehicle.id, name, phone);
            vehicles::insert_driver(c, &d)?;
            out.push(d);
        }
        Ok(VehicleWithDrivers {
            vehicle,
            drivers: out,
        })
    })
    .await?;
    Ok(created_etag(v.vehicle.version, &v))
}

/// Update a vehicle; needs If-Match.
#[utoipa::path(operation_id = "update_vehicle", tag = "vehicles", request_body = VehicleUpdate, responses((status = 200, body = VehicleWithDrivers), (status = 409), (status = 412), (status = 428)), security(("bearer" = [])))]
#[patch("/vehicles/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<VehicleUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let plate = b
        .plate_no
        .as_deref()
        .and_then(|p| check.id("plate_no", PlateNo::parse(p)));
    let vin = b.vin.map(|v| {
        check
            .opt_id(
                "vin",
                v.as_deref().filter(|v| !v.trim().is_empty()),
                Vin::parse,
            )
            .map(String::from)
    });
    let model = b.model.map(|m| check.opt_text("model", m.as_deref(), 50));
    let notes = b.notes.map(|n| check.opt_text("notes", n.as_deref(), 2000));
    let plate_colour = b
        .plate_colour
        .map(|c| check_colour(&mut check, c.as_deref()));
    check.finish()?;
    let version = if_match(&req);
    let id = id.into_inner();
    let v = in_tx(&state.pool, caller.session(), move |c| {
        load_visible(c, &caller, &id)?;
        let patch = VehiclePatch {
            plate_no: plate.map(String::from),
            vin,
            model,
            notes,
            plate_colour,
        };
        vehicles::update(c, &id, version?, &patch)?;
        let vehicle = vehicles::get(c, &id)?;
        let drivers = vehicles::drivers_of(c, &[id.as_str()])?;
        Ok(VehicleWithDrivers { vehicle, drivers })
    })
    .await?;
    Ok(ok_etag(v.vehicle.version, &v))
}

#[utoipa::path(tag = "vehicles", params(DriverQuery, PageParams), responses((status = 200, body = inline(Page<Driver>))), security(("bearer" = [])))]
#[get("/drivers")]
pub async fn list_drivers(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<DriverQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return empty_page::<Driver>(&state.pool, caller.session()).await;
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        let filter = DriverFilter {
            center: center.as_deref(),
            vehicle_id: q.vehicle_id,
            q: q.q,
        };
        Ok(vehicles::list_drivers(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

/// Add a driver to a vehicle.
#[utoipa::path(tag = "vehicles", request_body = DriverInput, responses((status = 201, body = Driver), (status = 404), (status = 422)), security(("bearer" = [])))]
#[post("/vehicles/{id}/drivers")]
pub async fn add_driver(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<DriverInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Write)?;
    let mut check = Check::new();
    let body = body.parse()?;
    let (name, phone) = check_driver(&mut check, "", &body);
    check.finish()?;
    let d = in_tx(&state.pool, caller.session(), move |c| {
        let v = load_visible(c, &caller, &id)?;
        let d = new_driver(&v.center_id, &v.id, name, phone);
        vehicles::insert_driver(c, &d)?;
        Ok(d)
    })
    .await?;
    Ok(created_etag(d.version, &d))
}

fn load_driver(c: &mut DbConn, caller: &Caller, id: &str) -> Result<Driver, ApiError> {
    let d = vehicles::get_driver(c, id)?;
    caller.see(&d.center_id)?;
    Ok(d)
}

#[utoipa::path(tag = "vehicles", responses((status = 200, body = Driver), (status = 404)), security(("bearer" = [])))]
#[get("/drivers/{id}")]
pub async fn get_driver(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Read)?;
    let d = with_db(&state.pool, caller.session(), move |c| {
        load_driver(c, &caller, &id)
    })
    .await?;
    Ok(ok_etag(d.version, &d))
}

/// Update a driver; needs If-Match.
#[utoipa::path(tag = "vehicles", request_body = DriverUpdate, responses((status = 200, body = Driver), (status = 412), (status = 428)), security(("bearer" = [])))]
#[patch("/drivers/{id}")]
pub async fn update_driver(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<DriverUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let name = b.name.as_deref().map(|n| check.text("name", n, 50));
    let phone = b
        .phone
        .as_deref()
        .and_then(|p| check.id("phone", Phone::parse(p)))
        .map(String::from);
    check.finish()?;
    let version = if_match(&req);
    let id = id.into_inner();
    let d = in_tx(&state.pool, caller.session(), move |c| {
        load_driver(c, &caller, &id)?;
        vehicles::update_driver(c, &id, version?, &DriverPatch { name, phone })?;
        Ok(vehicles::get_driver(c, &id)?)
    })
    .await?;
    Ok(ok_etag(d.version, &d))
}

/// Remove a driver from a vehicle.
#[utoipa::path(tag = "vehicles", responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/drivers/{id}")]
pub async fn delete_driver(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Write)?;
    in_tx(&state.pool, caller.session(), move |c| {
        load_driver(c, &caller, &id)?;
        Ok(vehicles::delete_driver(c, &id)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
