//! What every handler shares: the database, the token keys, the documents renderer.

use actix_web::web;

use super::session::JwtKeys;
use super::support::Db;

pub struct AppState {
    pub pool: Db,
    /// also registered on its own, for the `Caller` extractor
    pub jwt: web::Data<JwtKeys>,
    /// token lifetime in seconds
    pub token_ttl: i64,
    pub documents: std::sync::Arc<crate::documents::Documents>,
    /// the map's tile settings (`DISPATCH_MAP_TILES`)
    pub map: std::sync::Arc<super::tiles::MapTiles>,
    /// the live event streams of this instance
    pub live: std::sync::Arc<crate::live::Hub>,
    /// where photos are kept (`DISPATCH_OBJECT_STORE`, else files in the data directory)
    pub objects: crate::media::objects::Objects,
    /// the deployment watches a tracking platform: fitting a terminal starts its line's
    /// first-report check (上线检测)
    pub first_report: bool,
    /// the shared secret of `POST /tracking/traccar/positions` (none: it answers 404)
    pub push_secret: Option<String>,
}
