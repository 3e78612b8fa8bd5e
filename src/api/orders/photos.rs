//! Photos from the site: upload (the bytes checked by their content, stripped, a
//! thumbnail made, both put in the object store, then recorded on the order), the list,
//! the files, a manager's waiver of missing ones, and each center's proof rules.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::DateTime;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::run;
use crate::api::error::ApiError;
use crate::api::json::Json;
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::api::support::{if_match, in_tx, with_db};
use crate::app::Check;
use crate::app::orders::OrderView;
use crate::app::orders::photos::{self as uc, NewPhoto, Rules, Target};
use crate::domain::photos::PhotoKind;
use crate::media::photo::{self, Limits, Stamp};
use crate::store::photos::Photo;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    /// before, unit, wiring, sim_label, plate (of a line); site, paperwork (of the order)
    pub kind: String,
    /// the vehicle line, for a per-line kind
    pub line_id: Option<String>,
    /// when it was taken, RFC 3339 (the file's own EXIF time wins)
    pub taken_at: Option<String>,
    /// where it was taken, WGS-84 (the file's own EXIF position wins)
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

/// What the Idempotency-Key is checked against: the target and the file's hash.
#[derive(Debug, Serialize)]
struct PhotoKey {
    kind: &'static str,
    line_id: Option<String>,
    sha256: String,
}

/// Add a photo to the order: the body is the file (JPEG, PNG or WebP, up to 10 MB,
/// checked by its content, never its declared type). Stored without its metadata but
/// the time and position; a thumbnail is made. The technicians on the order while on
/// site or on hold; a manager of its center or an admin until it is closed.
#[utoipa::path(tag = "work orders", params(PhotoQuery), request_body(content = Vec<u8>, content_type = "image/jpeg"), responses((status = 200, body = OrderView), (status = 404), (status = 409), (status = 413), (status = 422), (status = 503)), security(("bearer" = [])))]
#[post("/work-orders/{id}/photos")]
pub async fn add_photo(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PhotoQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    uc::may_add_any(&caller)?;
    let q = q.into_inner();
    let mut check = Check::new();
    let kind = PhotoKind::parse(&q.kind);
    if kind.is_none() {
        check.add("kind", "unknown", format!("one of {}", PhotoKind::names()));
    }
    let taken_at = match q.taken_at.as_deref().map(DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(t)) => Some(t.naive_utc()),
        Some(Err(_)) => {
            check.add("taken_at", "invalid", "an RFC 3339 time");
            None
        }
    };
    let position = match (q.lat, q.lng) {
        (None, None) => None,
        (Some(lat), Some(lng))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) =>
        {
            Some((lat, lng))
        }
        _ => {
            check.add("lat", "invalid", "lat and lng together, in range");
            None
        }
    };
    check.finish()?;
    let kind = kind.expect("a missing kind fails the check above");
    let version = if_match(&req)?;
    let version = (!req.headers().contains_key("idempotency-key")).then_some(version);
    let id = id.into_inner();
    let target = Target {
        kind,
        line_id: q.line_id,
    };
    // in scope and open to photos before a byte is read or stored
    let center = {
        let (caller, id, target) = (caller.clone(), id.clone(), target.clone());
        with_db(&state.pool, caller.session(), move |c| {
            Ok(uc::may_add(c, caller.principal(), &id, version, &target)?)
        })
        .await?
    };
    let limits = Limits::default();
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: "body_unreadable",
            detail: e.to_string(),
        })?;
        if body.len() + chunk.len() > limits.max_bytes {
            return Err(photo::Refusal::TooLarge {
                max: limits.max_bytes,
            }
            .into());
        }
        body.extend_from_slice(&chunk);
    }
    let given = Stamp { taken_at, position };
    // CPU work, a bounded number at a time (`media::processing_slots`)
    let _slot = crate::media::processing_slots()
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let processed = web::block(move || photo::process(&body, given, &limits))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let base = format!("photos/{center}/{id}/{}", processed.sha256);
    let object_key = format!("{base}.{}", processed.format.ext());
    let thumb_key = format!("{base}.thumb.jpg");
    state
        .objects
        .put(&object_key, processed.bytes.clone())
        .await?;
    state
        .objects
        .put(&thumb_key, processed.thumb.clone())
        .await?;
    let new = NewPhoto {
        target: target.clone(),
        content_type: processed.format.mime(),
        object_key,
        thumb_key,
        bytes: processed.bytes.len() as i64,
        width: processed.width,
        height: processed.height,
        sha256: processed.sha256.clone(),
        taken_at: processed.stamp.taken_at,
        position: processed.stamp.position,
    };
    let key = PhotoKey {
        kind: kind.as_str(),
        line_id: target.line_id,
        sha256: processed.sha256,
    };
    run(&state, caller, &req, key, move |c, p, version, _| {
        uc::add(c, p, &id, version, new)
    })
    .await
}

/// The order's photos, oldest first (whoever may see the order).
#[utoipa::path(tag = "work orders", responses((status = 200, body = Vec<Photo>), (status = 404)), security(("bearer" = [])))]
#[get("/work-orders/{id}/photos")]
pub async fn list_photos(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let photos = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::list(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(photos))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoFileQuery {
    /// `thumb` for the 320 px JPEG thumbnail; else the photo as stored
    pub size: Option<String>,
}

/// A photo's file (or its thumbnail). Never changes: cached for a year, privately.
#[utoipa::path(tag = "work orders", params(PhotoFileQuery), responses((status = 200, content_type = "image/jpeg"), (status = 304), (status = 404), (status = 503)), security(("bearer" = [])))]
#[get("/work-orders/{id}/photos/{photo_id}")]
pub async fn photo_file(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<PhotoFileQuery>,
) -> Result<HttpResponse, ApiError> {
    let thumb = match q.size.as_deref() {
        None | Some("full") => false,
        Some("thumb") => true,
        Some(_) => {
            let mut check = Check::new();
            check.add("size", "unknown", "thumb or full");
            check.finish()?;
            false
        }
    };
    let (id, photo_id) = path.into_inner();
    let photo = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::get(c, caller.principal(), &id, &photo_id)?)
    })
    .await?;
    let etag = format!("\"{}{}\"", photo.sha256, if thumb { "-t" } else { "" });
    let cache = (
        header::CACHE_CONTROL,
        "private, max-age=31536000, immutable",
    );
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(cache)
            .finish());
    }
    let (key, mime) = if thumb {
        (photo.thumb_key.as_str(), "image/jpeg")
    } else {
        (photo.object_key.as_str(), photo.content_type.as_str())
    };
    let bytes = state.objects.get(key).await?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::ETAG, etag))
        .insert_header(cache)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverIn {
    /// why the order may be completed without the photos it lacks
    pub reason: String,
}

/// A manager of the order's center (or an admin) waives the photos it lacks, with the
/// reason (once per order, before completion).
#[utoipa::path(tag = "work orders", request_body = WaiverIn, responses((status = 200, body = OrderView), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422), (status = 428)), security(("bearer" = [])))]
#[post("/work-orders/{id}/waive-photos")]
pub async fn waive_photos(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<WaiverIn>,
) -> Result<HttpResponse, ApiError> {
    uc::may_waive_any(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let reason = check.text("reason", &b.reason, 200);
    check.finish()?;
    let id = id.into_inner();
    run(
        &state,
        caller,
        &req,
        reason,
        move |c, p, version, reason| uc::waive(c, p, &id, version, reason),
    )
    .await
}

/// What a center requires before an order may be completed.
#[utoipa::path(tag = "centers", responses((status = 200, body = Rules), (status = 404)), security(("bearer" = [])))]
#[get("/centers/{id}/proof-rules")]
pub async fn get_proof_rules(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let r = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::rules(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Set what a center requires (its managers, admins).
#[utoipa::path(tag = "centers", request_body = Rules, responses((status = 200, body = Rules), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
#[put("/centers/{id}/proof-rules")]
pub async fn put_proof_rules(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<Rules>,
) -> Result<HttpResponse, ApiError> {
    caller.require(
        crate::domain::access::Resource::ProofRules,
        crate::domain::access::Op::Write,
    )?;
    let b = body.parse()?;
    let r = in_tx(&state.pool, caller.session(), move |c| {
        Ok(uc::set_rules(c, caller.principal(), &id, b)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}
