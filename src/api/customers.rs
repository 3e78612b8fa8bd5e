use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json::Json;
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Cached, Check, PageParams, created_etag, double_option, empty_page, if_match, in_tx, ok_etag,
    ok_etag_bytes, page_json, with_db,
};
use crate::app::stored;
use crate::domain::access::{Op, Resource, Role, allowed};
use crate::domain::ids::{Email, Phone};
use crate::domain::registry::{PaymentTerms, Tier};
use crate::domain::warranty::{self, WarrantyVerdict};
use crate::store::customers::{
    self, Customer, CustomerFilter, CustomerPatch, CustomerRow, NewContact,
};
use crate::store::equipment::{self, SimCard, Terminal};
use crate::store::vehicles::{self, Driver, Vehicle};
use crate::store::{Page, centers, new_id, now};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: String,
    /// mobile or landline, e.g. 13812345678 or 0371-67891234
    pub phone: String,
    pub email: Option<String>,
    /// e.g. 车队长, 调度, 财务
    pub title: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// defaults to the caller's center
    pub center_id: Option<String>,
    pub name: String,
    pub tier: Tier,
    pub address: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub payment_terms: PaymentTerms,
    /// days to pay an invoice; required for credit terms
    pub credit_days: Option<i32>,
    pub notes: Option<String>,
    /// the first is the primary contact
    pub contacts: Vec<ContactInput>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerUpdate {
    pub name: Option<String>,
    pub tier: Option<Tier>,
    pub address: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>)]
    pub lat: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>)]
    pub lng: Option<Option<f64>>,
    pub payment_terms: Option<PaymentTerms>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub credit_days: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// replaces all contacts
    pub contacts: Option<Vec<ContactInput>>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    pub center_id: Option<String>,
    pub tier: Option<Tier>,
    pub payment_terms: Option<PaymentTerms>,
    /// name contains
    pub q: Option<String>,
}

fn check_contacts(check: &mut Check, contacts: &[ContactInput]) -> Vec<NewContact> {
    if contacts.is_empty() {
        check.add("contacts", "required", "at least one contact");
    }
    if contacts.len() > 20 {
        check.add("contacts", "too_many", "at most 20 contacts");
    }
    contacts
        .iter()
        .enumerate()
        .map(|(i, ct)| NewContact {
            name: check.text(format!("contacts[{i}].name"), &ct.name, 50),
            phone: check
                .id(format!("contacts[{i}].phone"), Phone::parse(&ct.phone))
                .map(String::from)
                .unwrap_or_default(),
            email: check
                .opt_id(
                    format!("contacts[{i}].email"),
                    ct.email.as_deref().filter(|e| !e.trim().is_empty()),
                    Email::parse,
                )
                .map(String::from),
            title: check.opt_text(format!("contacts[{i}].title"), ct.title.as_deref(), 30),
        })
        .collect()
}

fn check_terms(check: &mut Check, terms: PaymentTerms, days: Option<i32>) {
    match (terms, days) {
        (PaymentTerms::Credit, None) => {
            check.add("credit_days", "required", "credit terms need credit_days")
        }
        (PaymentTerms::Credit, Some(d)) if !(1..=365).contains(&d) => {
            check.add("credit_days", "out_of_range", "between 1 and 365 days")
        }
        (PaymentTerms::Cash, Some(_)) => check.add(
            "credit_days",
            "not_allowed",
            "only credit terms have credit_days",
        ),
        _ => {}
    }
}

/// Customers of the caller's center (admins: all, or `center_id`).
#[utoipa::path(operation_id = "list_customers", tag = "customers", params(CustomerQuery, PageParams), responses((status = 200, body = inline(Page<Customer>))), security(("bearer" = [])))]
#[get("/customers")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<CustomerQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return empty_page::<Customer>(&state.pool, caller.session()).await;
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        let filter = CustomerFilter {
            center: center.as_deref(),
            tier: q.tier.map(|t| t.as_str().to_string()),
            payment_terms: q.payment_terms.map(|t| t.as_str().to_string()),
            q: q.q,
        };
        Ok(customers::list(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

#[utoipa::path(operation_id = "get_customer", tag = "customers", responses((status = 200, body = Customer), (status = 404)), security(("bearer" = [])))]
#[get("/customers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Read)?;
    let session = caller.session();
    if let Some(hit) = state.pool.cached_customer(&session, &id) {
        caller.see(&hit.center_id)?;
        return Ok(ok_etag_bytes(hit.version, hit.body));
    }
    let epoch = state.pool.customers_epoch();
    let key = id.clone();
    let customer = with_db(&state.pool, session, move |c| Ok(customers::get(c, &key)?)).await?;
    let body = web::Bytes::from(
        serde_json::to_vec(&customer).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    let version = customer.row.version;
    state.pool.remember_customer(
        epoch,
        &id,
        Cached {
            center_id: customer.row.center_id.clone(),
            version,
            body: body.clone(),
        },
    );
    caller.see(&customer.row.center_id)?;
    Ok(ok_etag_bytes(version, body))
}

#[utoipa::path(operation_id = "create_customer", tag = "customers", request_body = NewCustomer, responses((status = 201, body = Customer), (status = 422)), security(("bearer" = [])))]
#[post("/customers")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewCustomer>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let name = check.text("name", &b.name, 100);
    let address = check.text("address", &b.address, 200);
    check.opt_point(b.lat, b.lng);
    check_terms(&mut check, b.payment_terms, b.credit_days);
    let notes = check.opt_text("notes", b.notes.as_deref(), 2000);
    let contacts = check_contacts(&mut check, &b.contacts);
    let center_id = b.center_id.unwrap_or_else(|| caller.center_id.clone());
    if !caller.scope.covers(&center_id) {
        check.add("center_id", "unknown", "no such service center");
    }
    check.finish()?;
    let t = now();
    let row = CustomerRow {
        id: new_id(),
        center_id,
        name,
        tier: b.tier.as_str().into(),
        address,
        lat: b.lat,
        lng: b.lng,
        payment_terms: b.payment_terms.as_str().into(),
        credit_days: b.credit_days,
        notes,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    let customer = in_tx(&state.pool, caller.session(), move |c| {
        if centers::get(c, &row.center_id).is_err() {
            return Err(ApiError::field(
                "center_id",
                "unknown",
                "no such service center",
            ));
        }
        customers::insert(c, &row, &contacts)?;
        Ok(customers::get(c, &row.id)?)
    })
    .await?;
    Ok(created_etag(customer.row.version, &customer))
}

/// Update a customer; needs If-Match. `contacts`, when given, replaces all contacts.
#[utoipa::path(operation_id = "update_customer", tag = "customers", request_body = CustomerUpdate, responses((status = 200, body = Customer), (status = 412), (status = 428)), security(("bearer" = [])))]
#[patch("/customers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<CustomerUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let name = b.name.as_deref().map(|v| check.text("name", v, 100));
    let address = b.address.as_deref().map(|v| check.text("address", v, 200));
    let notes = b.notes.map(|n| check.opt_text("notes", n.as_deref(), 2000));
    let contacts = b
        .contacts
        .as_deref()
        .map(|cs| check_contacts(&mut check, cs));
    check.finish()?;
    let version = if_match(&req);
    let id = id.into_inner();
    let customer = in_tx(&state.pool, caller.session(), move |c| {
        let current = customers::get_row(c, &id)?;
        caller.see(&current.center_id)?;
        let version = version?;
        // rules over the merged result
        let mut check = Check::new();
        let lat = b.lat.unwrap_or(current.lat);
        let lng = b.lng.unwrap_or(current.lng);
        check.opt_point(lat, lng);
        let terms = match b.payment_terms {
            Some(t) => t,
            None => stored(
                "customer payment terms",
                &current.payment_terms,
                PaymentTerms::parse,
            )?,
        };
        let days = b.credit_days.unwrap_or(current.credit_days);
        check_terms(&mut check, terms, days);
        check.finish()?;
        let patch = CustomerPatch {
            name,
            tier: b.tier.map(|t| t.as_str().into()),
            address,
            lat: b.lat,
            lng: b.lng,
            payment_terms: b.payment_terms.map(|t| t.as_str().into()),
            credit_days: b.credit_days,
            notes,
        };
        customers::update(c, &id, version, &patch)?;
        if let Some(contacts) = &contacts {
            customers::replace_contacts(c, &id, contacts)?;
        }
        Ok(customers::get(c, &id)?)
    })
    .await?;
    Ok(ok_etag(customer.row.version, &customer))
}

/// A vehicle in the archive, with its drivers and what is installed in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ArchiveVehicle {
    #[serde(flatten)]
    pub vehicle: Vehicle,
    pub drivers: Vec<Driver>,
    pub terminals: Vec<ArchiveTerminal>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ArchiveTerminal {
    #[serde(flatten)]
    pub terminal: Terminal,
    pub sim: Option<SimCard>,
    /// the warranty verdict today (Beijing day), from the terminal's purchase date and
    /// warranty months: what a repair call filed now would be told (保修期判定)
    pub warranty: WarrantyVerdict,
}

/// How many of a customer's orders the archive shows, newest first.
pub const ARCHIVE_ORDERS: i64 = 100;

/// 客户档案: the customer with its vehicles, drivers, terminals and SIM cards, and its
/// latest work orders, payments and invoices.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Archive {
    pub customer: Customer,
    pub vehicles: Vec<ArchiveVehicle>,
    pub vehicle_count: usize,
    pub terminal_count: usize,
    /// the latest work orders, newest first (at most 100)
    pub orders: Vec<crate::store::orders::WorkOrder>,
    /// payment history, newest first (at most 100; finance, managers, admins): the
    /// handbooks judge a customer's credit by it
    pub payments: Vec<crate::store::money::Payment>,
    /// invoices of a credit customer, newest first (at most 100; same roles)
    pub invoices: Vec<crate::store::money::Invoice>,
}

/// The customer's archive (档案). A fixed number of queries, whatever the fleet size.
#[utoipa::path(tag = "customers", responses((status = 200, body = Archive), (status = 404)), security(("bearer" = [])))]
#[get("/customers/{id}/archive")]
pub async fn archive(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Customers, Op::Read)?;
    let archive = with_db(&state.pool, caller.session(), move |c| {
        let customer = customers::get(c, &id)?;
        caller.see(&customer.row.center_id)?;
        let vehicles = vehicles::by_customer(c, &id)?;
        let vids: Vec<&str> = vehicles.iter().map(|v| v.id.as_str()).collect();
        let mut drivers = vehicles::drivers_of(c, &vids)?;
        // terminals and SIM cards only for roles that may see equipment
        let mut terminals = if allowed(caller.role, Resource::Equipment, Op::Read) {
            equipment::terminals_in_vehicles(c, &vids)?
        } else {
            Vec::new()
        };
        let tids: Vec<&str> = terminals.iter().map(|t| t.id.as_str()).collect();
        let mut sims = equipment::sims_in_terminals(c, &tids)?;
        let terminal_count = terminals.len();
        let today = crate::domain::china_day(now());
        let vehicles: Vec<ArchiveVehicle> = vehicles
            .into_iter()
            .map(|v| {
                let my_drivers = drivers.extract_if(.., |d| d.vehicle_id == v.id).collect();
                let my_terminals = terminals
                    .extract_if(.., |t| t.vehicle_id.as_deref() == Some(v.id.as_str()))
                    .map(|t| ArchiveTerminal {
                        warranty: warranty::verdict(t.purchase_date, t.warranty_months, today),
                        sim: sims
                            .iter()
                            .position(|s| s.terminal_id.as_deref() == Some(t.id.as_str()))
                            .map(|i| sims.swap_remove(i)),
                        terminal: t,
                    })
                    .collect();
                ArchiveVehicle {
                    vehicle: v,
                    drivers: my_drivers,
                    terminals: my_terminals,
                }
            })
            .collect();
        let orders = crate::store::orders::by_customer(c, &id, ARCHIVE_ORDERS)?;
        let money = matches!(caller.role, Role::Admin | Role::Manager | Role::Finance);
        let (payments, invoices) = if money {
            (
                crate::store::money::customer_payments(c, &id, ARCHIVE_ORDERS)?,
                crate::store::money::customer_invoices(c, &id, ARCHIVE_ORDERS)?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Archive {
            payments,
            invoices,
            customer,
            vehicle_count: vehicles.len(),
            terminal_count,
            vehicles,
            orders,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(archive))
}
