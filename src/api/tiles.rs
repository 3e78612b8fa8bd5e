//! The map's tiles: a URL template from configuration (`DISPATCH_MAP_TILES`), the datum
//! its tiles are drawn in, and the one host the pages' Content-Security-Policy lets images
//! come from for it. Pure data; `api::map` answers it to the desk, `api::pages` puts its
//! host into the CSP.
//!
//! 高德 (AutoNavi) tiles are drawn in GCJ-02, 天地图 and OpenStreetMap in WGS-84; the
//! coordinates are stored WGS-84 and the desk converts them for GCJ-02 tiles
//! (`web/desk/geo.js`, the one place of that conversion).

use serde::Serialize;

/// The datum a tile set is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    /// WGS-84: 天地图, OpenStreetMap
    Wgs84,
    /// GCJ-02 (火星坐标): 高德
    Gcj02,
}

impl Datum {
    pub fn parse(s: &str) -> Option<Self> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "wgs84" => Some(Datum::Wgs84),
            "gcj02" => Some(Datum::Gcj02),
            _ => None,
        }
    }
}

/// The configured tile set; `template` is `None` when no map is configured (the desk then
/// draws its plain plot).
#[derive(Debug, Clone, PartialEq)]
pub struct MapTiles {
    pub template: Option<String>,
    pub datum: Datum,
    pub subdomains: String,
    pub attribution: String,
    pub max_zoom: u8,
    /// the CSP source of the tile host (`https://*.is.autonavi.com`, `http://127.0.0.1:9000`)
    pub csp_source: Option<String>,
}

impl Default for MapTiles {
    fn default() -> Self {
        MapTiles {
            template: None,
            datum: Datum::Wgs84,
            subdomains: String::new(),
            attribution: String::new(),
            max_zoom: 18,
            csp_source: None,
        }
    }
}

impl MapTiles {
    /// Reads the configuration: `template` an `http(s)://host[:port]/…{z}…{x}…{y}…` URL
    /// template (`{s}` in the host for subdomains), `datum` `wgs84` or `gcj02`. An empty
    /// template is no map. Errors say which setting is wrong.
    pub fn parse(
        template: Option<&str>,
        datum: &str,
        subdomains: Option<&str>,
        attribution: Option<&str>,
    ) -> Result<Self, String> {
        let datum = Datum::parse(datum)
            .ok_or_else(|| format!("DISPATCH_MAP_DATUM {datum:?}: wgs84 or gcj02"))?;
        let Some(template) = template.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(MapTiles {
                datum,
                ..Default::default()
            });
        };
        let bad = |why: &str| format!("DISPATCH_MAP_TILES {template:?}: {why}");
        let (scheme, rest) = template
            .split_once("://")
            .ok_or_else(|| bad("not an http(s) URL"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("not an http(s) URL"));
        }
        for part in ["{z}", "{x}", "{y}"] {
            if !rest.contains(part) {
                return Err(bad(&format!("the template needs {part}")));
            }
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_ok = !host.is_empty()
            && host.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '{' | '}' | '[' | ']')
            })
            && !host.contains('@');
        if !host_ok {
            return Err(bad("the host is not a plain host name"));
        }
        // a host label with {s} (webrd0{s}.is.autonavi.com) becomes a wildcard label
        let source_host = host
            .split('.')
            .map(|label| if label.contains("{s}") { "*" } else { label })
            .collect::<Vec<_>>()
            .join(".");
        if source_host.contains(['{', '}']) || source_host.starts_with("*:") {
            return Err(bad(
                "only {s} may stand in the host, as part of a sub-domain",
            ));
        }
        let subdomains = subdomains
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(if host.contains("{s}") { "abc" } else { "" })
            .to_string();
        Ok(MapTiles {
            template: Some(template.to_string()),
            datum,
            subdomains,
            attribution: attribution.unwrap_or("").trim().to_string(),
            max_zoom: 18,
            csp_source: Some(format!("{scheme}://{source_host}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_template_is_no_map() {
        let m = MapTiles::parse(None, "wgs84", None, None).unwrap();
        assert_eq!(m.template, None);
        assert_eq!(m.csp_source, None);
        assert_eq!(
            MapTiles::parse(Some("  "), "gcj02", None, None)
                .unwrap()
                .datum,
            Datum::Gcj02
        );
    }

    #[test]
    fn amap_template_with_subdomains() {
        let m = MapTiles::parse(
            Some("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"),
            "GCJ-02",
            Some("1234"),
            Some("© 高德地图"),
        )
        .unwrap();
        assert_eq!(m.datum, Datum::Gcj02);
        assert_eq!(m.csp_source.as_deref(), Some("https://*.is.autonavi.com"));
        assert_eq!(m.subdomains, "1234");
    }

    #[test]
    fn local_host_with_port() {
        let m = MapTiles::parse(
            Some("http://127.0.0.1:9000/t/{z}/{x}/{y}.png"),
            "wgs84",
            None,
            None,
        )
        .unwrap();
        assert_eq!(m.csp_source.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(m.subdomains, "");
    }

    #[test]
    fn refusals() {
        for t in [
            "ftp://x/{z}/{x}/{y}",
            "https://x/{z}/{x}.png",
            "https://user@x/{z}/{x}/{y}",
            "https://x y/{z}/{x}/{y}",
            "https://{z}.x/{z}/{x}/{y}",
            "https:///{z}/{x}/{y}",
        ] {
            assert!(
                MapTiles::parse(Some(t), "wgs84", None, None).is_err(),
                "{t}"
            );
        }
        assert!(MapTiles::parse(None, "bd09", None, None).is_err());
    }
}
