//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    auth, centers, customers, equipment, money, orders, reports, technicians, users, vehicles,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dispatch",
        description = "GPS terminal install and repair dispatch: service centers, staff, customers, vehicles, terminals and SIM cards.\n\nErrors are `application/problem+json` with a stable `code`. Updates need `If-Match` with the object's `ETag`. Lists take `cursor` and `limit` and answer `{items, next_cursor}`.",
        version = env!("CARGO_PKG_VERSION"),
    ),
    paths(
        super::healthz, super::readyz,
        auth::login, auth::me, auth::change_password,
        centers::list, centers::get, centers::create, centers::update,
        users::list, users::get, users::create, users::update, users::reset_password,
        technicians::list, technicians::get, technicians::create, technicians::update, technicians::report_position,
        customers::list, customers::get, customers::create, customers::update, customers::archive,
        vehicles::list, vehicles::get, vehicles::create, vehicles::update,
        vehicles::add_driver, vehicles::list_drivers, vehicles::get_driver, vehicles::update_driver, vehicles::delete_driver,
        equipment::list_models, equipment::create_model,
        equipment::list_terminals, equipment::get_terminal, equipment::create_terminal, equipment::update_terminal,
        equipment::bind_terminal, equipment::unbind_terminal, equipment::import_terminals,
        equipment::list_sims, equipment::get_sim, equipment::create_sim, equipment::update_sim,
        equipment::bind_sim, equipment::unbind_sim, equipment::import_sims,
        equipment::history,
        orders::list_parts, orders::create_part, orders::update_part,
        orders::create_install, orders::create_repair, orders::list, orders::get, orders::pdf, orders::timeline,
        orders::candidates, orders::submit, orders::approve, orders::reject, orders::assign,
        orders::reassign, orders::accept, orders::decline, orders::readiness, orders::depart,
        orders::arrive, orders::hold, orders::resume, orders::complete, orders::close, orders::cancel,
        orders::line_install, orders::line_terminal_swap, orders::line_sim_swap, orders::line_repair,
        orders::line_not_done, orders::add_part, orders::correct_part, orders::remove_part, orders::add_verbal_approval,
        orders::confirm_verbal_approval, orders::sign_off,
        money::list_charges, money::get_charge, money::request_adjustment,
        money::approve_adjustment, money::reject_adjustment, money::collect,
        money::list_payments, money::get_payment, money::reverse, money::add_fapiao,
        money::cash, money::create_remittance, money::list_remittances, money::get_remittance,
        money::confirm_remittance, money::list_discrepancies, money::resolve_discrepancy,
        money::create_invoice, money::list_invoices, money::get_invoice, money::invoice_pdf, money::pay_invoice,
        money::get_settings, money::put_settings, money::receipt_pdf,
        super::outbox::list, super::outbox::get, super::outbox::retry,
        super::feedback::create_ticket, super::feedback::list_tickets, super::feedback::get_ticket,
        super::feedback::reply, super::feedback::resolve, super::feedback::customer_notified,
        super::feedback::close, super::feedback::handover, super::feedback::list_follow_ups,
        super::feedback::get_follow_up, super::feedback::record_call, super::feedback::record_unreachable, super::feedback::get_settings,
        super::feedback::put_settings, super::feedback::kpis,
        reports::reconciliation_report, reports::export_payments, reports::aging,
    ),
    components(schemas(super::error::Problem, super::error::FieldError)),
    modifiers(&BearerAuth, &ApiPrefix),
    servers((url = "/", description = "this server")),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The handlers are mounted under `/api/v1` (health checks at the root); the annotations
/// see only their own paths.
struct ApiPrefix;

impl Modify for ApiPrefix {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let paths = std::mem::take(&mut openapi.paths.paths);
        openapi.paths.paths = paths
            .into_iter()
            .map(|(path, item)| {
                if path.starts_with("/healthz") || path.starts_with("/readyz") {
                    (path, item)
                } else {
                    (format!("/api/v1{path}"), item)
                }
            })
            .collect();
    }
}
