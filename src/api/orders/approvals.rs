//! Verbal emergency approvals and the customer's sign-off.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};

use super::run;
use crate::api::error::ApiError;
use crate::api::json::{ClientTime, Json, opt_when};
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::app::Check;
use crate::app::orders::approvals as uc;
use crate::app::orders::{OrderView, technician_only};
use crate::domain::access::{Op, Resource};

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerbalApprovalIn {
    /// the manager who approved on the phone
    pub approver_id: String,
    /// what was approved
    pub content: String,
    /// when they said yes; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<ClientTime>,
}

/// Record a verbal emergency approval (口头请示) given by a manager, to be confirmed later.
#[utoipa::path(tag = "work orders", request_body = VerbalApprovalIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/verbal-approvals")]
pub async fn add_verbal_approval(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<VerbalApprovalIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let content = check.text("content", &b.content, 500);
    check.finish()?;
    let approved_at = opt_when("approved_at", b.approved_at)?;
    let id = id.into_inner();
    run(
        &state,
        caller,
        &req,
        (content, b),
        move |c, p, version, (content, b)| {
            uc::add_verbal(c, p, &id, version, &b.approver_id, content, approved_at)
        },
    )
    .await
}

/// A manager confirms a verbal approval recorded on the order.
#[utoipa::path(tag = "work orders", responses((status = 200, body = OrderView), (status = 404), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/verbal-approvals/{approval_id}/confirm")]
pub async fn confirm_verbal_approval(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    caller.approves(&caller.center_id)?;
    let (id, approval_id) = path.into_inner();
    run(
        &state,
        caller,
        &req,
        approval_id,
        move |c, p, version, approval_id| uc::confirm_verbal(c, p, &id, version, &approval_id),
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffIn {
    pub signer_name: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub signed_at: Option<ClientTime>,
    /// the signature as a data URL (data:image/png;base64,…), at most 48 KB
    pub signature_image: Option<String>,
}

const SIGNATURE_MAX: usize = 48 * 1024;

/// The customer's sign-off (验收签字).
#[utoipa::path(tag = "work orders", request_body = SignOffIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/sign-off")]
pub async fn sign_off(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<SignOffIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let name = check.text("signer_name", &b.signer_name, 50);
    if let Some(img) = &b.signature_image {
        let ok_prefix = img.starts_with("data:image/png;base64,")
            || img.starts_with("data:image/jpeg;base64,")
            || img.starts_with("data:image/svg+xml;base64,");
        if !ok_prefix {
            check.add(
                "signature_image",
                "invalid_format",
                "a data:image/png;base64,… URL",
            );
        } else if img.len() > SIGNATURE_MAX {
            check.add("signature_image", "too_long", "at most 48 KB");
        }
    }
    check.finish()?;
    let input = (name, opt_when("signed_at", b.signed_at)?, b.signature_image);
    let id = id.into_inner();
    run(
        &state,
        caller,
        &req,
        input,
        move |c, p, version, (name, at, img)| uc::sign_off(c, p, &id, version, name, at, img),
    )
    .await
}
