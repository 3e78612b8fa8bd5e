//! The map settings the desk draws its map with (`GET /map-config`): the tile URL
//! template, its datum, sub-domains and attribution; no template means no map (the desk
//! draws its plain plot).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use super::error::ApiError;
use super::session::Caller;
use super::state::AppState;
use super::support::with_db;
use super::tiles::Datum;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MapConfig {
    /// the tile URL template ({z}/{x}/{y}, {s} for a sub-domain); null: no map configured
    pub tiles: Option<String>,
    /// the datum the tiles are drawn in: wgs84 (天地图, OpenStreetMap) or gcj02 (高德);
    /// stored coordinates are WGS-84 and are converted for gcj02 tiles
    pub datum: Datum,
    /// the letters or digits {s} stands for
    pub subdomains: String,
    pub attribution: String,
    pub max_zoom: u8,
}

/// The map's tile settings (every signed-in role).
#[utoipa::path(tag = "centers", responses((status = 200, body = MapConfig), (status = 401)), security(("bearer" = [])))]
#[get("/map-config")]
pub async fn map_config(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    // the session is checked like every read's (a deactivated user gets 401)
    with_db(&state.pool, caller.session(), |_| Ok(())).await?;
    let m = &state.map;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, max-age=300"))
        .json(MapConfig {
            tiles: m.template.clone(),
            datum: m.datum,
            subdomains: m.subdomains.clone(),
            attribution: m.attribution.clone(),
            max_zoom: m.max_zoom,
        }))
}
