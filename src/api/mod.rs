//! HTTP: actix handlers per resource, the auth extractor, problem+json, OpenAPI.
//! Handlers are thin: parse, authorize, call the domain and the store, map the result.

pub mod auth;
pub mod centers;
pub mod customers;
pub mod documents;
pub mod equipment;
pub mod error;
pub mod events;
pub mod export;
pub mod feedback;
pub mod headers;
pub mod idempotency;
pub mod install_ledger;
pub mod json;
pub mod map;
pub mod money;
pub mod openapi;
pub mod orders;
pub mod outbox;
pub mod pages;
pub mod reports;
pub mod search;
pub mod session;
pub mod state;
pub mod support;
pub mod technicians;
pub mod tiles;
pub mod tracking;
pub mod users;
pub mod vehicles;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, get, web};
use utoipa_swagger_ui::SwaggerUi;

use error::ApiError;
pub use state::AppState;

/// JSON bodies larger than this answer 413.
pub const JSON_LIMIT: usize = 64 * 1024;
/// CSV imports larger than this answer 413 (5,000 rows fit easily).
pub const UPLOAD_LIMIT: usize = 2 * 1024 * 1024;

/// The app's state and every route, for `App::configure`.
pub fn with_state(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(state.jwt.clone()).app_data(state);
        configure(cfg);
    }
}

/// Registers every route; used by the server and nothing else.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // a query string always parses; what can be wrong is a value (`?tier=vip`): 422
    let query = web::QueryConfig::default().error_handler(|e, _| {
        ApiError::Unprocessable {
            code: "invalid_query",
            detail: e.to_string(),
        }
        .into()
    });
    let path = web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into());
    cfg.app_data(query)
        .app_data(path)
        .service(healthz)
        .service(readyz)
        .service(
            web::scope("/api/v1")
                .service(openapi_json)
                .service(auth::login)
                .service(auth::me)
                .service(auth::change_password)
                .service(centers::list)
                .service(centers::get)
                .service(centers::create)
                .service(centers::update)
                .service(users::list)
                .service(users::get)
                .service(users::create)
                .service(users::update)
                .service(users::reset_password)
                .service(technicians::report_position)
                .service(technicians::list)
                .service(technicians::get)
                .service(technicians::create)
                .service(technicians::update)
                .service(customers::list)
                .service(customers::get)
                .service(customers::create)
                .service(customers::update)
                .service(customers::archive)
                .service(vehicles::list)
                .service(vehicles::get)
                .service(vehicles::create)
                .service(vehicles::update)
                .service(vehicles::add_driver)
                .service(vehicles::list_drivers)
                .service(vehicles::get_driver)
                .service(vehicles::update_driver)
                .service(vehicles::delete_driver)
                .service(equipment::list_models)
                .service(equipment::create_model)
                .service(equipment::import_terminals)
                .service(equipment::list_terminals)
                .service(equipment::get_terminal)
                .service(equipment::create_terminal)
                .service(equipment::update_terminal)
                .service(equipment::bind_terminal)
                .service(equipment::unbind_terminal)
                .service(equipment::import_sims)
                .service(equipment::list_sims)
                .service(equipment::get_sim)
                .service(equipment::create_sim)
                .service(equipment::update_sim)
                .service(equipment::bind_sim)
                .service(equipment::unbind_sim)
                .service(equipment::history)
                .service(orders::list_parts)
                .service(orders::create_part)
                .service(orders::update_part)
                .service(orders::create_install)
                .service(orders::create_repair)
                .service(orders::list)
                .service(orders::get)
                .service(orders::pdf)
                .service(orders::timeline)
                .service(orders::candidates)
                .service(orders::update)
                .service(orders::submit)
                .service(orders::approve)
                .service(orders::reject)
                .service(orders::assign)
                .service(orders::reassign)
                .service(orders::accept)
                .service(orders::decline)
                .service(orders::readiness)
                .service(orders::depart)
                .service(orders::arrive)
                .service(orders::hold)
                .service(orders::resume)
                .service(orders::complete)
                .service(orders::close)
                .service(orders::cancel)
                .service(orders::line_install)
                .service(orders::line_terminal_swap)
                .service(orders::line_sim_swap)
                .service(orders::line_repair)
                .service(orders::line_not_done)
                .service(orders::add_part)
                .service(orders::add_photo)
                .service(orders::list_photos)
                .service(orders::photo_file)
                .service(orders::waive_photos)
                .service(orders::waive_first_report)
                .service(tracking::push_position)
                .service(orders::get_proof_rules)
                .service(orders::put_proof_rules)
                .service(orders::correct_part)
                .service(orders::remove_part)
                .service(orders::add_verbal_approval)
                .service(orders::confirm_verbal_approval)
                .service(orders::sign_off)
                .service(money::collect)
                .service(money::list_charges)
                .service(money::get_charge)
                .service(money::request_adjustment)
                .service(money::approve_adjustment)
                .service(money::reject_adjustment)
                .service(reports::export_payments)
                .service(money::list_payments)
                .service(money::get_payment)
                .service(money::receipt_pdf)
                .service(money::reverse)
                .service(money::add_fapiao)
                .service(money::cash)
                .service(money::create_remittance)
                .service(money::list_remittances)
                .service(money::get_remittance)
                .service(money::confirm_remittance)
                .service(money::list_discrepancies)
                .service(money::resolve_discrepancy)
                .service(reports::aging)
                .service(money::create_invoice)
                .service(money::list_invoices)
                .service(money::get_invoice)
                .service(money::invoice_pdf)
                .service(money::pay_invoice)
                .service(money::get_settings)
                .service(money::put_settings)
                .service(outbox::list)
                .service(feedback::create_ticket)
                .service(feedback::list_tickets)
                .service(feedback::get_ticket)
                .service(feedback::reply)
                .service(feedback::resolve)
                .service(feedback::customer_notified)
                .service(feedback::close)
                .service(feedback::handover)
                .service(feedback::handover_targets)
                .service(feedback::list_follow_ups)
                .service(feedback::get_follow_up)
                .service(feedback::record_call)
                .service(feedback::record_unreachable)
                .service(feedback::get_settings)
                .service(feedback::put_settings)
                .service(feedback::kpis)
                .service(outbox::get)
                .service(outbox::retry)
                .service(reports::reconciliation_report)
                .service(install_ledger::install_ledger)
                .service(install_ledger::install_sheet_pdf)
                .service(search::search)
                // h-plan: the map's tiles, an order's signature
                .service(map::map_config)
                .service(orders::signature)
                .service(events::stream),
        )
        .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi::api_doc()))
        .service(web::redirect("/docs", "/docs/"))
        .configure(pages::configure)
        .default_service(web::to(not_found));
}

/// No route: 405 with `Allow` when the path has other methods, 404 otherwise.
async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    let allow = openapi::allowed_methods(req.path());
    if allow.is_empty() || allow.contains(&req.method().as_str()) {
        return Err(ApiError::NotFound);
    }
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow,
    })
}

/// Alive: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "alive")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Ready: the database answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "database reachable"), (status = 503)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    support::with_db_anon(&state.pool, |c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute("SELECT 1")
            .map_err(|e| ApiError::Unavailable(e.to_string()))
    })
    .await?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}

#[get("/openapi.json")]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(&*openapi::DOCUMENT)
}

/// A NUL anywhere in the URL (`%00`) is refused up front: no id or filter contains one,
/// and PostgreSQL could not even compare with it.
pub async fn reject_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let uri = req.uri().to_string();
    if uri
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%00"))
    {
        let res = actix_web::ResponseError::error_response(&ApiError::BadRequest {
            code: "invalid_characters",
            detail: "the URL contains a NUL character".into(),
        });
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// One log line per request: method, path, status, latency.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    let res = next.call(req).await?;
    tracing::info!(
        target: "dispatch::access",
        %method,
        %path,
        status = res.status().as_u16(),
        latency_ms = start.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}
