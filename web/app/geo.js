// The database keeps WGS-84 (GPS). Chinese map apps expect their own datums: 高德地图
// GCJ-02 (国测局坐标, the state's obfuscated datum) and 百度地图 BD-09 (Baidu's offset of
// GCJ-02). These are the standard public conversions (the same formulas as eviltransform
// and coordtransform); outside mainland China GCJ-02 equals WGS-84.

const A = 6378245.0; // Krasovsky 1940 semi-major axis
const EE = 0.00669342162296594323; // its eccentricity squared
const X_PI = (Math.PI * 3000.0) / 180.0;

export function outOfChina(lat, lng) {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function dLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function dLng(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

/** WGS-84 → GCJ-02: `{lat, lng}` */
export function wgs84ToGcj02(lat, lng) {
  if (outOfChina(lat, lng)) return { lat, lng };
  let la = dLat(lng - 105.0, lat - 35.0);
  let ln = dLng(lng - 105.0, lat - 35.0);
  const rad = (lat / 180.0) * Math.PI;
  let magic = Math.sin(rad);
  magic = 1 - EE * magic * magic;
  const sq = Math.sqrt(magic);
  la = (la * 180.0) / (((A * (1 - EE)) / (magic * sq)) * Math.PI);
  ln = (ln * 180.0) / ((A / sq) * Math.cos(rad) * Math.PI);
  return { lat: lat + la, lng: lng + ln };
}

/** GCJ-02 → BD-09: `{lat, lng}` */
export function gcj02ToBd09(lat, lng) {
  const z = Math.sqrt(lng * lng + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lng) + 0.000003 * Math.cos(lng * X_PI);
  return { lat: z * Math.sin(theta) + 0.006, lng: z * Math.cos(theta) + 0.0065 };
}

/** WGS-84 → BD-09 (through GCJ-02) */
export function wgs84ToBd09(lat, lng) {
  const g = wgs84ToGcj02(lat, lng);
  return gcj02ToBd09(g.lat, g.lng);
}

const fix = (x) => x.toFixed(6);

/** 高德地图: drive to the site (opens the app when installed, else the web page). */
export function amapUrl({ lat, lng, name }) {
  const g = wgs84ToGcj02(lat, lng);
  const to = `${fix(g.lng)},${fix(g.lat)},${encodeURIComponent(name || '目的地')}`;
  return `https://uri.amap.com/navigation?to=${to}&mode=car&policy=1&coordinate=gaode&callnative=1&src=dispatch`;
}

/** 百度地图: the site marked, with its route button (BD-09 coordinates). */
export function baiduUrl({ lat, lng, name, address }) {
  const b = wgs84ToBd09(lat, lng);
  const q = new URLSearchParams({
    location: `${fix(b.lat)},${fix(b.lng)}`,
    title: name || '目的地',
    content: address || '',
    output: 'html',
    coord_type: 'bd09ll',
    src: 'webapp.dispatch.technician',
  });
  return `https://api.map.baidu.com/marker?${q}`;
}
