//! The people's side: the technician phone app (`/app/`), the dispatcher board and the
//! finance pages (`/desk/`), and the shared sign-in page (`/`), served from `web/`; the
//! third-party code they load (Leaflet) under `/vendor/`.
//!
//! The files are compiled into the binary (rust-embed with `debug-embed`: debug builds too,
//! so the tests run exactly what ships, and no build depends on where it was built;
//! `build.rs` rebuilds when `web/` changes). The pages talk to the public REST API only. Every file answers with a strong `ETag` of its content and
//! `Cache-Control: no-cache`: the browser (and the phone app's service worker) revalidates
//! with a 304 instead of downloading again, and never runs a stale page after an update.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::Embed;

use super::error::ApiError;
use super::state::AppState;

#[derive(Embed)]
#[folder = "web/"]
struct Assets;

/// `/`, `/app/…`, `/desk/…`, `/lib/…`, `/vendor/…`: a file of `web/`, or a 404. `HEAD` answers as
/// `GET` does, headers only (actix drops the body of an answer to a HEAD request).
pub async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path().trim_start_matches('/');
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_string()
    };
    // `..`, hidden files and anything outside the folder simply are not among the assets
    let Some((data, hash)) = dev_file(&path)
        .or_else(|| Assets::get(&path).map(|f| (f.data.into_owned(), f.metadata.sha256_hash())))
    else {
        return Err(ApiError::NotFound);
    };
    let etag = format!("\"{}\"", hex::encode(&hash[..12]));
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, content_type(&path)))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"));
    if path.ends_with(".html") {
        // images may also come from the configured map tile host (and nothing else)
        let tiles = req
            .app_data::<web::Data<AppState>>()
            .and_then(|s| s.map.csp_source.clone());
        let csp = format!(
            "default-src 'self'; img-src 'self' data: blob:{}; media-src 'self' blob:; \
             style-src 'self' 'unsafe-inline'; frame-src 'self' blob:; frame-ancestors 'none'",
            tiles.map(|t| format!(" {t}")).unwrap_or_default()
        );
        let csp = HeaderValue::from_str(&csp).map_err(|e| ApiError::Internal(e.to_string()))?;
        res.insert_header((header::CONTENT_SECURITY_POLICY, csp));
    }
    if path.ends_with("sw.js") {
        // the phone app's service worker lives under /app/ and controls that scope only
        res.insert_header(("Service-Worker-Allowed", "/app/"));
    }
    Ok(res.body(data))
}

/// For page development only: with `DISPATCH_WEB_DIR=web` the files are read from that
/// folder on every request, so an edited page shows without rebuilding. Never set in tests
/// or deployments (they serve what was compiled in). A path with a `..`, a hidden or an
/// empty component is not looked up.
fn dev_file(path: &str) -> Option<(Vec<u8>, [u8; 32])> {
    static DIR: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let dir = DIR
        .get_or_init(|| std::env::var_os("DISPATCH_WEB_DIR").map(Into::into))
        .as_ref()?;
    if path
        .split('/')
        .any(|part| part.is_empty() || part.starts_with('.'))
    {
        return None;
    }
    let data = std::fs::read(dir.join(path)).ok()?;
    use sha2::Digest;
    Some((data.clone(), sha2::Sha256::digest(&data).into()))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Registers the pages: `/` and everything under the four folders, compressed.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use actix_web::middleware::Compress;
    for pattern in [
        "/",
        "/index.html",
        "/app/{tail:.*}",
        "/desk/{tail:.*}",
        "/lib/{tail:.*}",
        "/vendor/{tail:.*}",
    ] {
        cfg.service(
            web::resource(pattern)
                .wrap(Compress::default())
                .route(web::get().to(asset))
                .route(web::head().to(asset)),
        );
    }
    for folder in ["/app", "/desk"] {
        cfg.service(
            web::resource(folder)
                .route(web::get().to(redirect_slash))
                .route(web::head().to(redirect_slash)),
        );
    }
}

async fn redirect_slash(req: HttpRequest) -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, format!("{}/", req.path())))
        .finish()
}
