//! Intake: create install and repair orders, correct a draft or rejected one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::run;
use crate::api::error::ApiError;
use crate::api::idempotency::{Idempotency, answer};
use crate::api::json::{ClientTime, Json, opt_when};
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::api::support::{created_etag, in_tx};
use crate::app::Check;
use crate::app::orders::intake::{self as uc, Draft, Edit, NewInstall, NewRepair, VehicleIn};
use crate::app::orders::{OrderView, may};
use crate::domain::access::{Op, Resource};
use crate::domain::ids::{Imei, PlateNo};
use crate::domain::order::{Action, OrderKind};
use crate::store::now;

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstallOrder {
    pub customer_id: String,
    pub site_address: String,
    pub site_lat: f64,
    pub site_lng: f64,
    pub contact_name: String,
    pub contact_phone: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_start: Option<ClientTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_end: Option<ClientTime>,
    /// when the request came in; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub requested_at: Option<ClientTime>,
    /// normal (default) or urgent
    pub urgency: Option<String>,
    /// phone (default), letter, walk_in, online
    pub channel: Option<String>,
    pub notes: Option<String>,
    /// submit for approval at once (default: a draft)
    #[serde(default)]
    pub submit: bool,
    /// 安装车辆明细: one line per vehicle
    pub vehicles: Vec<VehicleIn>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRepairOrder {
    pub customer_id: String,
    pub site_address: String,
    pub site_lat: f64,
    pub site_lng: f64,
    pub contact_name: String,
    pub contact_phone: String,
    pub channel: Option<String>,
    pub urgency: Option<String>,
    /// 故障现象
    pub fault_symptoms: String,
    pub vehicle_id: Option<String>,
    pub plate_no: Option<String>,
    /// default: the terminal installed in the vehicle
    pub terminal_imei: Option<String>,
    pub product_model: Option<String>,
    /// as the customer reports it, when the terminal is not known
    pub purchase_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub requested_at: Option<ClientTime>,
    pub notes: Option<String>,
    #[serde(default)]
    pub submit: bool,
}

/// Create an install work order (安装任务派工单) from an install request with its vehicles.
#[utoipa::path(tag = "work orders", request_body = NewInstallOrder, responses((status = 201, body = OrderView), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/install")]
pub async fn create_install(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Json<NewInstallOrder>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Write)?;
    let b = body.parse()?;
    let idem = Idempotency::of(&req, &b)?;
    let window_start = opt_when("window_start", b.window_start)?;
    let window_end = opt_when("window_end", b.window_end)?;
    let mut check = Check::new();
    let draft = uc::check_draft(
        &mut check,
        &Draft {
            kind: OrderKind::Install,
            site_address: &b.site_address,
            site_lat: b.site_lat,
            site_lng: b.site_lng,
            contact_name: &b.contact_name,
            contact_phone: &b.contact_phone,
            urgency: b.urgency.as_deref(),
            channel: b.channel.as_deref(),
            notes: b.notes.as_deref(),
            window_start,
            window_end,
            window_given: false,
            vehicles: Some(&b.vehicles),
        },
    );
    check.finish()?;
    let requested_at = opt_when("requested_at", b.requested_at)?.unwrap_or_else(now);
    let n = NewInstall {
        customer_id: b.customer_id,
        draft,
        vehicles: b.vehicles,
        requested_at,
        submit: b.submit,
    };
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            Ok(uc::create_install(c, caller.principal(), n)?)
        })
    })
    .await?;
    Ok(answer(outcome, |v| created_etag(v.order.version, &v)))
}

/// Create a repair service order (维修服务单) from a call; the warranty verdict is computed
/// from the terminal's purchase date and warranty months.
#[utoipa::path(tag = "work orders", request_body = NewRepairOrder, responses((status = 201, body = OrderView), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/repair")]
pub async fn create_repair(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Json<NewRepairOrder>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Write)?;
    let b = body.parse()?;
    let idem = Idempotency::of(&req, &b)?;
    let mut check = Check::new();
    let draft = uc::check_draft(
        &mut check,
        &Draft {
            kind: OrderKind::Repair,
            site_address: &b.site_address,
            site_lat: b.site_lat,
            site_lng: b.site_lng,
            contact_name: &b.contact_name,
            contact_phone: &b.contact_phone,
            urgency: b.urgency.as_deref(),
            channel: b.channel.as_deref(),
            notes: b.notes.as_deref(),
            window_start: None,
            window_end: None,
            window_given: false,
            vehicles: None,
        },
    );
    let fault_symptoms = check.text("fault_symptoms", &b.fault_symptoms, 1000);
    let plate_no = match (&b.vehicle_id, &b.plate_no) {
        (Some(_), None) => None,
        (None, Some(p)) => check.id("plate_no", PlateNo::parse(p)).map(String::from),
        _ => {
            check.add(
                "vehicle_id",
                "required",
                "give either vehicle_id or plate_no",
            );
            None
        }
    };
    let terminal_imei = check.opt_id("terminal_imei", b.terminal_imei.as_deref(), Imei::parse);
    let product_model = check.opt_text("product_model", b.product_model.as_deref(), 50);
    if let Some(d) = b.purchase_date
        && !(1990..2100).contains(&chrono::Datelike::year(&d))
    {
        check.add(
            "purchase_date",
            "out_of_range",
            "a date between 1990 and 2099",
        );
    }
    check.finish()?;
    let requested_at = opt_when("requested_at", b.requested_at)?.unwrap_or_else(now);
    let n = NewRepair {
        customer_id: b.customer_id,
        draft,
        fault_symptoms,
        vehicle_id: b.vehicle_id,
        plate_no,
        terminal_imei,
        product_model,
        purchase_date: b.purchase_date,
        requested_at,
        submit: b.submit,
    };
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::CREATED, |c| {
            Ok(uc::create_repair(c, caller.principal(), n)?)
        })
    })
    .await?;
    Ok(answer(outcome, |v| created_etag(v.order.version, &v)))
}

/// The corrections to a draft or rejected order; absent fields stay as they are.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderEdit {
    pub site_address: Option<String>,
    pub site_lat: Option<f64>,
    pub site_lng: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// normal or urgent
    pub urgency: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_start: Option<ClientTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_end: Option<ClientTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub requested_at: Option<ClientTime>,
    /// install orders: the vehicle lines, replacing the order's lines
    pub vehicles: Option<Vec<VehicleIn>>,
}

/// Correct a draft or a rejected order (site, contact, window, urgency, vehicle lines),
/// then submit it again. Other states: 409 `order_not_editable`.
#[utoipa::path(operation_id = "update_work_order", tag = "work orders", request_body = OrderEdit, responses((status = 200, body = OrderView), (status = 404), (status = 409), (status = 412), (status = 422), (status = 428)), security(("bearer" = [])))]
#[patch("/work-orders/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<OrderEdit>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Write)?;
    may(&caller, Action::Submit)?;
    let b = body.parse()?;
    let window_start = opt_when("window_start", b.window_start)?;
    let window_end = opt_when("window_end", b.window_end)?;
    let requested_at = opt_when("requested_at", b.requested_at)?;
    let id = id.into_inner();
    run(&state, caller, &req, b, move |c, p, version, b| {
        let e = Edit {
            site_address: b.site_address,
            site_lat: b.site_lat,
            site_lng: b.site_lng,
            contact_name: b.contact_name,
            contact_phone: b.contact_phone,
            urgency: b.urgency,
            window_start,
            window_end,
            requested_at,
            vehicles: b.vehicles,
        };
        uc::update(c, p, &id, version, e)
    })
    .await
}
