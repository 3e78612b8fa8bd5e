//! What a tracking platform pushes: Traccar's position forwarding (`forward.url` with
//! `forward.json`: `{"position": {…}, "device": {…}}`), authenticated by the shared
//! secret in `Authorization: Bearer` (Traccar's `forward.header`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::json::Json;
use super::state::AppState;
use super::support::with_db_anon;
use crate::app::tracking as uc;
use crate::domain::tracking::valid_unique_id;
use crate::store::now;
use crate::tracking::traccar::Forwarded;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Received {
    /// how many waiting checks the position went to (0: none waits for this terminal)
    pub matched: usize,
}

/// The secret compared in constant time (their digests, so lengths do not show).
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A position forwarded by the tracking platform (Traccar `forward.json`), taken into
/// the first-report checks waiting for its device. 404 when the deployment takes no
/// pushes; 401 without the right secret; 400 for JSON that does not parse, 422 for a body
/// that is not a forwarded position (`invalid_body`) or a device identifier that cannot be
/// one (`invalid_position`).
#[utoipa::path(tag = "tracking", request_body(content = Object, description = "Traccar's forwarded position: {\"position\": {...}, \"device\": {...}}"), responses((status = 200, body = Received), (status = 401), (status = 404), (status = 422)), security(("bearer" = [])))]
#[post("/tracking/traccar/positions")]
pub async fn push_position(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<Forwarded>,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = state.push_secret.clone() else {
        return Err(ApiError::NotFound);
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !same_secret(given.trim(), &secret) {
        return Err(ApiError::Unauthenticated {
            code: "bad_push_secret",
            detail: "the push secret is missing or wrong (Authorization: Bearer <secret>)".into(),
        });
    }
    let f = body.parse()?;
    if !valid_unique_id(&f.device.unique_id) {
        return Err(ApiError::Unprocessable {
            code: "invalid_position",
            detail: "device.uniqueId must be 1–64 printable characters without spaces".into(),
        });
    }
    let report = f.position.report(now());
    let device_id = f
        .device
        .id
        .or(Some(f.position.device_id))
        .filter(|d| *d != 0);
    let unique_id = f.device.unique_id;
    let matched = with_db_anon(&state.pool, move |c| {
        Ok(uc::receive(c, &unique_id, device_id, report)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Received { matched }))
}
