// Coordinates for maps: the one place where WGS-84 (what the service stores: phones' GPS,
// 天地图, OpenStreetMap) is converted to GCJ-02 (火星坐标, what 高德 tiles are drawn in) and
// back, and the distance and travel-time estimate the day plan shows.
// Pure functions, no DOM: also imported by the Node tests (tests/browser/plan.test.mjs).

// The published GCJ-02 obfuscation ("eviltransform"): Krasovsky 1940 ellipsoid.
const A = 6378245.0;
const EE = 0.00669342162296594323;

/** Outside mainland China GCJ-02 is WGS-84 (the rectangle every implementation uses). */
export function outOfChina(lat, lng) {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function tLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function tLng(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

function delta(lat, lng) {
  let dLat = tLat(lng - 105, lat - 35);
  let dLng = tLng(lng - 105, lat - 35);
  const rad = (lat / 180) * Math.PI;
  let magic = Math.sin(rad);
  magic = 1 - EE * magic * magic;
  const sq = Math.sqrt(magic);
  dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sq)) * Math.PI);
  dLng = (dLng * 180) / ((A / sq) * Math.cos(rad) * Math.PI);
  return [dLat, dLng];
}

/** WGS-84 → GCJ-02, `{lat, lng}` in and out. */
export function wgsToGcj({ lat, lng }) {
  if (outOfChina(lat, lng)) return { lat, lng };
  const [dLat, dLng] = delta(lat, lng);
  return { lat: lat + dLat, lng: lng + dLng };
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
