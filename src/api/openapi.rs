//! The OpenAPI 3.1 document, generated from the handlers' annotations and completed
//! here from the tables that also drive the server: the request headers each operation
//! requires (`HEADERS`, enforced by the `Caller` extractor), the problem responses every
//! operation can give, the enumerations and limits of query parameters (`QUERY_ENUMS`) and
//! every problem `code` the server emits (`PROBLEM_CODES`, as `x-problem-codes`).

use std::sync::LazyLock;

use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    auth, centers, customers, equipment, money, orders, reports, technicians, tracking, users,
    vehicles,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dispatch",
        description = "GPS terminal install and repair dispatch: service centers, staff, customers, vehicles, terminals and SIM cards.\n\nErrors are `application/problem+json` with a stable `code` (all of them in `x-problem-codes`). Updates need `If-Match` with the object's `ETag` (or `*`: any current version); without it they answer 428. Payments need an `Idempotency-Key`. Lists take `cursor` and `limit` and answer `{items, next_cursor}`. A method a path does not have answers 405 with `Allow`.",
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
        orders::candidates, orders::update, orders::submit, orders::approve, orders::reject, orders::assign,
        orders::reassign, orders::accept, orders::decline, orders::readiness, orders::depart,
        orders::arrive, orders::hold, orders::resume, orders::complete, orders::close, orders::cancel,
        orders::line_install, orders::line_terminal_swap, orders::line_sim_swap, orders::line_repair,
        orders::line_not_done, orders::add_part, orders::add_photo, orders::list_photos, orders::photo_file, orders::waive_photos, orders::waive_first_report, tracking::push_position, orders::get_proof_rules, orders::put_proof_rules, orders::correct_part, orders::remove_part, orders::add_verbal_approval,
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
        super::feedback::close, super::feedback::handover, super::feedback::handover_targets, super::feedback::list_follow_ups,
        super::feedback::get_follow_up, super::feedback::record_call, super::feedback::record_unreachable, super::feedback::get_settings,
        super::feedback::put_settings, super::feedback::kpis,
        reports::reconciliation_report, reports::export_payments, reports::aging,
        super::install_ledger::install_ledger, super::install_ledger::install_sheet_pdf,
        super::search::search,
        super::map::map_config, orders::signature,
        super::events::stream,
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

pub use super::headers::{HEADERS, IF_MATCH, KEY, Key, Needs, OPTIONAL_KEY, ORDER_ACTION, needs};

/// The values a query parameter takes: (path under `/api/v1`, parameter, values).
pub const QUERY_ENUMS: &[(&str, &str, &[&str])] = &[
    ("/tickets", "kind", &["inquiry", "complaint", "suggestion"]),
    ("/follow-ups", "status", &["open", "done"]),
    ("/follow-ups", "kind", &["completion", "revisit"]),
    ("/kpis", "by", &["center", "technician"]),
    (
        "/charges",
        "status",
        &[
            "no_charge",
            "open",
            "paid",
            "invoiced",
            "waived",
            "written_off",
        ],
    ),
    ("/charges", "terms", &["cash", "credit"]),
    ("/payments/export", "format", &["csv", "xlsx"]),
    ("/remittances", "status", &["submitted", "confirmed"]),
    ("/discrepancies", "status", &["open", "resolved"]),
    ("/work-orders", "kind", &["install", "repair"]),
    (
        "/outbox",
        "status",
        &["pending", "sending", "sent", "dead", "skipped"],
    ),
    (
        "/outbox",
        "kind",
        &[
            "order_submitted",
            "order_assigned",
            "order_scheduled",
            "order_completed",
            "payment_received",
            "deadline_passed",
        ],
    ),
    ("/reconciliation", "format", &["json", "csv", "xlsx"]),
    ("/invoices/aging", "format", &["json", "csv", "xlsx"]),
    ("/install-ledger", "format", &["json", "csv", "xlsx"]),
];

/// Every problem `code` the server emits (top-level `code` of a problem, and the `code`
/// of a field error). Each has a Chinese text in `web/lib/problems.js`; a test keeps the
/// three (the source, this list, that table) in step.
pub const PROBLEM_CODES: &[&str] = &[
    "adjustment_decided",
    "adjustment_exceeds_due",
    "adjustment_pending",
    "already_confirmed",
    "already_reversed",
    "amount_not_positive",
    "bad_fixture",
    "bad_unbind_status",
    "before_previous_step",
    "body_too_large",
    "cash_not_remitted",
    "center_mismatch",
    "charge_invoiced",
    "charge_missing",
    "charge_on_account",
    "charge_unsettled",
    "checksum",
    "completion_blocked",
    "constraint_violation",
    "csv_empty",
    "csv_encoding",
    "csv_header",
    "csv_malformed",
    "csv_too_many_rows",
    "customer_not_notified",
    "discrepancy_resolved",
    "documents_unavailable",
    "duplicate",
    "duplicate_plate_no",
    "empty",
    "export_too_large",
    "fapiao_recorded",
    "fee_overflow",
    "follow_up_done",
    "follow_up_pending",
    "forbidden",
    "format",
    "idempotency_key_in_use",
    "idempotency_key_required",
    "idempotency_key_reused",
    "if_match_required",
    "in_future",
    "internal",
    "invalid_body",
    "invalid_characters",
    "invalid_credentials",
    "invalid_idempotency_key",
    "invalid_query",
    "invalid_transition",
    "length",
    "line_done",
    "line_not_done",
    "line_resolved",
    "malformed_body",
    "malformed_json",
    "message_not_dead",
    "method_not_allowed",
    "negative_price",
    "negative_quantity",
    "no_receipt",
    "no_terminal_installed",
    "not_a_collection",
    "not_an_approver",
    "not_digits",
    "not_found",
    "not_on_account",
    "not_owner",
    "nothing_due",
    "nothing_to_invoice",
    "nothing_to_remit",
    "order_not_editable",
    "overflow",
    "overpayment",
    "parts_locked",
    "photos_missing",
    "already_waived",
    "photo_empty",
    "photo_too_large",
    "photo_type",
    "photo_pixels",
    "photo_corrupt",
    "objects_unavailable",
    "terminal_not_reporting",
    "bad_push_secret",
    "invalid_position",
    "body_unreadable",
    "payment_not_remittable",
    "payment_remitted",
    "prefix",
    "readiness_incomplete",
    "remittance_confirmed",
    "remittance_unconfirmed",
    "reversal_of_reversal",
    "search_query_invalid",
    "sim_already_bound",
    "sim_not_bound",
    "sim_not_usable",
    "technician_busy",
    "technician_holds_terminals",
    "terminal_already_bound",
    "terminal_has_sim",
    "terminal_not_bound",
    "terminal_not_installable",
    "terminal_takes_no_sim",
    "token_expired",
    "too_old",
    "too_precise",
    "unauthenticated",
    "unavailable",
    "unknown_reference",
    "unsupported_media_type",
    "validation_failed",
    "version_mismatch",
    "wrong_order_kind",
    "wrong_place",
    "invalid_route",
    "same_place",
    "not_in_your_stock",
    "not_your_van",
    "insufficient_quantity",
    "invalid_quantity",
    "not_faulty",
    "unit_faulty",
    "order_required",
    "rma_batch_required",
    "empty_fault_tag",
    "note_required",
    "manager_only",
    "not_on_books",
    "already_on_books",
    "not_for_parts",
];

/// The document as served: the annotations, completed from the tables above.
pub static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    complete(&mut doc);
    doc
});

/// The completed document for the Swagger UI.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    serde_json::from_value(DOCUMENT.clone()).expect("the completed OpenAPI document parses")
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The methods the API has at `path` (a request path, not a pattern), from the document;
/// empty when no operation's path matches it.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    static ROUTES: LazyLock<Vec<(Vec<String>, Vec<&'static str>)>> = LazyLock::new(|| {
        let mut routes = Vec::new();
        if let Some(paths) = DOCUMENT["paths"].as_object() {
            for (pattern, item) in paths {
                let segments = pattern.split('/').map(str::to_string).collect();
                let methods = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| match *m {
                        "get" => "GET",
                        "put" => "PUT",
                        "post" => "POST",
                        "delete" => "DELETE",
                        "options" => "OPTIONS",
                        "head" => "HEAD",
                        "patch" => "PATCH",
                        _ => "TRACE",
                    })
                    .collect();
                routes.push((segments, methods));
            }
        }
        routes
    });
    let wanted: Vec<&str> = path.split('/').collect();
    let mut allowed: Vec<&'static str> = Vec::new();
    for (segments, methods) in ROUTES.iter() {
        let fits = segments.len() == wanted.len()
            && segments.iter().zip(&wanted).all(|(s, w)| {
                if s.starts_with('{') {
                    !w.is_empty()
                } else {
                    s == w
                }
            });
        if fits {
            for m in methods {
                if !allowed.contains(m) {
                    allowed.push(m);
                }
            }
        }
    }
    allowed
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn status_description(status: &str) -> &'static str {
    match status {
        "400" => {
            "malformed request (`malformed_json`, `invalid_characters`, `invalid_idempotency_key`)"
        }
        "401" => "no valid bearer token (`unauthenticated`, `token_expired`)",
        "403" => "the caller's role may not do this (`forbidden`)",
        "404" => "no such object in the caller's scope (`not_found`)",
        "409" => "the object's state refuses the change (see `x-problem-codes`)",
        "412" => "If-Match names another version (`version_mismatch`, with `current_version`)",
        "413" => "body too large (`body_too_large`)",
        "415" => "the body is not `application/json` (`unsupported_media_type`)",
        "422" => {
            "invalid body, field or query (`invalid_body`, `validation_failed`, `invalid_query`, …)"
        }
        "428" => "a required header is missing (`if_match_required`, `idempotency_key_required`)",
        "503" => {
            "the database (or printing) is unavailable (`unavailable`, `documents_unavailable`)"
        }
        _ => "problem",
    }
}

fn header_param(name: &str, required: bool, description: &str) -> Value {
    json!({
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200}
    })
}

/// Completes every operation: header parameters from `HEADERS`, enumerations from
/// `QUERY_ENUMS`, the problem responses it can give, and `x-problem-codes`.
fn complete(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let api = path.strip_prefix("/api/v1");
        for method in METHODS {
            let Some(op) = item.get_mut(*method) else {
                continue;
            };
            let Some(api_path) = api else {
                // health checks: only what they declare, with problem bodies
                add_problems(op, &[]);
                continue;
            };
            let needs = needs(method, api_path);
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut params: Vec<Value> = params
                .into_iter()
                .map(|mut p| {
                    if p["in"] == "query"
                        && let Some((_, _, values)) = QUERY_ENUMS
                            .iter()
                            .find(|(q, n, _)| *q == api_path && p["name"] == *n)
                    {
                        p["schema"] = json!({"type": "string", "enum": values});
                    }
                    p
                })
                .collect();
            let mut statuses = vec!["400", "503"];
            let anonymous = api_path == "/auth/login";
            if !anonymous {
                statuses.extend(["401", "403"]);
            }
            // a path parameter, or an id in the body (a customer, a vehicle), may name
            // something outside the caller's scope
            if api_path.contains('{') || op.get("requestBody").is_some() {
                statuses.push("404");
            }
            if op.get("requestBody").is_some() {
                statuses.extend(["413", "415", "422"]);
            }
            if params.iter().any(|p| p["in"] == "query") {
                statuses.push("422");
            }
            if *method != "get" {
                statuses.extend(["409", "422"]);
            }
            if let Some(n) = needs {
                if n.if_match {
                    params.push(header_param(
                        "If-Match",
                        true,
                        "the object's ETag as read (`\"3\"`), or `*` for any current version",
                    ));
                    statuses.extend(["412", "428"]);
                }
                match n.key {
                    Key::No => {}
                    Key::Optional | Key::Required => {
                        let required = n.key == Key::Required;
                        params.push(header_param(
                            "Idempotency-Key",
                            required,
                            "a fresh key (UUID) per intended write; a retry with the same key \
                             answers the first answer again",
                        ));
                        if required {
                            statuses.push("428");
                        }
                    }
                }
            }
            op["parameters"] = Value::Array(params);
            add_problems(op, &statuses);
        }
    }
    doc["x-problem-codes"] = json!(PROBLEM_CODES);
}

/// Adds the problem responses `statuses` that the operation does not declare yet, and a
/// problem+json body to every error response declared without one.
fn add_problems(op: &mut Value, statuses: &[&str]) {
    let responses = op["responses"]
        .as_object_mut()
        .expect("every operation has responses");
    for s in statuses {
        responses
            .entry(s.to_string())
            .or_insert_with(|| problem_response(status_description(s)));
    }
    for (status, r) in responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            if r.get("content").is_none() {
                r["content"] = problem_response("")["content"].clone();
            }
            if r["description"].as_str().is_none_or(str::is_empty) {
                r["description"] = json!(status_description(status));
            }
        }
    }
}
