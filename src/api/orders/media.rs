//! What was captured on site, as files: the customer's signature.

use actix_web::{HttpResponse, get, web};
use base64::Engine;

use crate::api::error::ApiError;
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::api::support::with_db;
use crate::app::orders as uc;
use crate::domain::access::{Op, Resource};

/// The customer's signature (客户签字) as the image it was drawn in (PNG, JPEG or SVG);
/// 404 when the order has none or is out of scope.
#[utoipa::path(tag = "work orders", responses((status = 200, content_type = "image/png"), (status = 404)), security(("bearer" = [])))]
#[get("/work-orders/{id}/signature")]
pub async fn signature(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    let image = with_db(&state.pool, caller.session(), move |c| {
        Ok(uc::load(c, caller.principal(), &id)?.row.signoff_image)
    })
    .await?;
    let (mime, bytes) = image
        .as_deref()
        .and_then(decode)
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Cache-Control", "private, no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        // an SVG opened on its own runs nothing
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(bytes))
}

/// `data:image/…;base64,…` → its media type and bytes (the sign-off checked the prefix).
fn decode(url: &str) -> Option<(&'static str, Vec<u8>)> {
    let (head, data) = url.split_once(',')?;
    let mime = match head {
        "data:image/png;base64" => "image/png",
        "data:image/jpeg;base64" => "image/jpeg",
        "data:image/svg+xml;base64" => "image/svg+xml",
        _ => return None,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .ok()?;
    Some((mime, bytes))
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn data_urls() {
        let (m, b) = decode("data:image/png;base64,iVBORw0KGgo=").unwrap();
        assert_eq!(m, "image/png");
        assert_eq!(&b[1..4], b"PNG");
        assert!(decode("data:text/html;base64,PGI+").is_none());
        assert!(decode("data:image/png;base64,@@@").is_none());
        assert!(decode("nonsense").is_none());
    }
}
