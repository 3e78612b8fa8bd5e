// Coordinates for the desk's maps: WGS-84 (what the service stores: phones' GPS, 天地图,
// OpenStreetMap) to GCJ-02 (火星坐标, what 高德 tiles are drawn in) and back, and the
// distance and travel-time estimate the day plan shows.
// Pure functions, no DOM: also imported by the Node tests (tests/browser/plan.test.mjs).
// The WGS-84 → GCJ-02 formula itself is web/app/geo.js's (imported relatively, so Node
// resolves it too); the way back is its inverse, found by iteration.
import { wgs84ToGcj02, outOfChina } from '../app/geo.js';

/** WGS-84 → GCJ-02, `{lat, lng}` in and out (the formula is the phone app's, one copy). */
export function wgsToGcj({ lat, lng }) {
  return wgs84ToGcj02(lat, lng);
}

/** GCJ-02 → WGS-84, by fixed-point iteration to within 1e-9° (≈ 0.1 mm). */
export function gcjToWgs({ lat, lng }) {
  if (outOfChina(lat, lng)) return { lat, lng };
  let w = { lat, lng };
  for (let i = 0; i < 30; i++) {
    const g = wgsToGcj(w);
    const dLat = g.lat - lat;
    const dLng = g.lng - lng;
    w = { lat: w.lat - dLat, lng: w.lng - dLng };
    if (Math.abs(dLat) < 1e-9 && Math.abs(dLng) < 1e-9) break;
  }
  return w;
}

/** The datum's conversion pair for a tile set: `toMap` for drawing, `fromMap` for a pick. */
export function datum(name) {
  return name === 'gcj02'
    ? { toMap: wgsToGcj, fromMap: gcjToWgs }
    : { toMap: (p) => ({ lat: p.lat, lng: p.lng }), fromMap: (p) => ({ lat: p.lat, lng: p.lng }) };
}

/** Great-circle (haversine) distance in km, as the server's ranking computes it. */
export function haversineKm(a, b) {
  const R = 6371.0088;
  const rad = (x) => (x * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(x));
}

/** The average speed the day plan assumes between sites, on the straight line (km/h). */
export const TRAVEL_KMH = 25;

/** Travel minutes for `km` of straight-line distance at TRAVEL_KMH, rounded up to 5 min. */
export function travelMinutes(km) {
  if (!(km > 0)) return 0;
  return Math.max(5, Math.ceil(((km / TRAVEL_KMH) * 60) / 5) * 5);
}
