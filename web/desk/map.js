// The map (Map contract, docs in /work/targets/CONTRACTS.md):
//   mapView(el, { center: [lat, lng], markers: [{lat, lng, label, kind}], onPick(lat, lng) })
//     → { setMarkers(list), destroy(), ready, mode() }
// Leaflet (vendored under /vendor/leaflet/, loaded only when needed) over the tiles named by
// the server's configuration (GET /api/v1/map-config: DISPATCH_MAP_TILES and its datum);
// the plain plot (rings around the center, north up) when no tile URL is configured or
// the tiles do not load. Coordinates in and out are WGS-84; for GCJ-02 tiles (高德) they
// are converted for drawing and a pick is converted back (web/desk/geo.js).
//
// A marker: { lat, lng, label, kind, title?, classes?, data? } with kind one of
//   center ▲ (the service center), live ● (a technician's last reported position),
//   home ○ (a technician's home base), site ■ (a job site), pick ◆ (a chosen point);
// `data` becomes data-* attributes of the marker's element (data-technician, data-order).
import { api } from '/lib/api.js';
import { h } from '/lib/dom.js';
import { datum as datumOf } from './geo.js';
import { s } from './util.js';

const KINDS = ['center', 'live', 'home', 'site', 'pick'];
/** How long the first tile may take before the plot is shown instead (ms). */
export const TILE_PATIENCE = 6000;

let configPromise = null;
/** The server's map settings, read once per page load ({tiles: null} when unreadable). */
export function mapConfig() {
  if (!configPromise) {
    configPromise = api('/map-config').then((r) => r.data).catch(() => ({ tiles: null }));
  }
  return configPromise;
}

let leafletPromise = null;
/** Loads the vendored Leaflet (script and stylesheet) once; resolves to `L`. */
function leaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (!leafletPromise) {
    leafletPromise = new Promise((resolve, reject) => {
      if (!document.querySelector('link[data-leaflet]')) {
        document.head.append(h('link', { rel: 'stylesheet', href: '/vendor/leaflet/leaflet.css', 'data-leaflet': '' }));
      }
      const tag = h('script', { src: '/vendor/leaflet/leaflet.js' });
      tag.addEventListener('load', () => (window.L ? resolve(window.L) : reject(new Error('leaflet'))));
      tag.addEventListener('error', () => { leafletPromise = null; reject(new Error('leaflet')); });
      document.head.append(tag);
    });
  }
  return leafletPromise;
}

const SYMBOL = { center: '▲', live: '●', home: '○', site: '■', pick: '◆' };
const LEGEND = {
  center: '▲ 服务中心', live: '● 技术员最近上报位置', home: '○ 技术员常驻地', site: '■ 作业地点', pick: '◆ 选定位置',
};

function legend(markers, note) {
  const kinds = KINDS.filter((k) => markers.some((m) => m.kind === k));
  return h('figcaption', { class: 'legend muted small' },
    kinds.map((k) => h('span', { class: `key ${k}` }, LEGEND[k])), note ? h('span', {}, note) : null);
}

// ---------------------------------------------------------------- the plain plot

/** Kilometres east/north of `o` (a local flat projection; fine for a city's area). */
const project = (o, p) => ({
  x: (p.lng - o.lng) * 111.32 * Math.cos((o.lat * Math.PI) / 180),
  y: (p.lat - o.lat) * 110.57,
});
const unproject = (o, xy) => ({
  lat: o.lat + xy.y / 110.57,
  lng: o.lng + xy.x / (111.32 * Math.cos((o.lat * Math.PI) / 180)),
});
const niceStep = (r) => [1, 2, 5, 10, 20, 25, 50, 100, 200, 500].find((x) => r / x <= 4) || 1000;

function markerClass(m) {
  const base = m.kind === 'live' || m.kind === 'home' ? `tech ${m.kind}` : m.kind;
  return `${base}${m.classes ? ` ${m.classes}` : ''}`;
}
const dataAttrs = (m) => Object.fromEntries(Object.entries(m.data || {}).map(([k, v]) => [`data-${k}`, v]));

function plot(origin, markers, opts, onPick) {
  const W = 640;
  const pts = markers.map((m) => ({ m, xy: project(origin, m) }));
  const reach = Math.max(5, ...pts.map((q) => Math.max(Math.abs(q.xy.x), Math.abs(q.xy.y)))) * 1.12;
  const scale = (W / 2 - 24) / reach;
  const X = (x) => W / 2 + x * scale;
  const Y = (y) => W / 2 - y * scale;
  const step = niceStep(reach);
  const rings = [];
  for (let r = step; r <= reach; r += step) {
    rings.push(s('circle', { cx: W / 2, cy: W / 2, r: r * scale, class: 'ring' }));
    rings.push(s('text', { x: W / 2 + 4, y: W / 2 - r * scale - 3, class: 'ringlabel' }, `${r} 公里`));
  }
  const shape = (m) => {
    if (m.kind === 'center') return s('polygon', { points: '0,-10 9,7 -9,7' });
    if (m.kind === 'site') return s('rect', { x: -5, y: -5, width: 10, height: 10 });
    if (m.kind === 'pick') return s('polygon', { points: '0,-8 8,0 0,8 -8,0' });
    return s('circle', { r: 7 });
  };
  const id = `plot-${Math.random().toString(36).slice(2, 8)}`;
  const svg = s('svg', { viewBox: `0 0 ${W} ${W}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, class: 'plot', id: opts.id || null },
    s('title', { id: `${id}-t` }, opts.title || '地图'),
    s('desc', { id: `${id}-d` }, `以${opts.centerName || '服务中心'}为原点，向上为北，同心圆间隔 ${step} 公里。`),
    s('rect', { x: 0, y: 0, width: W, height: W, class: 'bg' }),
    s('line', { x1: W / 2, y1: 8, x2: W / 2, y2: W - 8, class: 'axis' }),
    s('line', { x1: 8, y1: W / 2, x2: W - 8, y2: W / 2, class: 'axis' }),
    rings,
    s('text', { x: W / 2 + 6, y: 20, class: 'north' }, '北'),
    // sites under people, the center on top of the sites
    ['site', 'center', 'home', 'live', 'pick'].flatMap((k) => pts.filter((q) => q.m.kind === k)).map(({ m, xy }) => s('g', {
      class: markerClass(m), transform: `translate(${X(xy.x).toFixed(1)},${Y(xy.y).toFixed(1)})`, ...dataAttrs(m),
    }, s('title', {}, m.title || m.label || ''), shape(m), m.label ? s('text', { x: 11, y: 4, class: 'label' }, m.label) : null)));
  if (onPick) {
    svg.classList.add('pickable');
    svg.addEventListener('click', (ev) => {
      const r = svg.getBoundingClientRect();
      const px = ((ev.clientX - r.left) / r.width) * W;
      const py = ((ev.clientY - r.top) / r.height) * W;
      const p = unproject(origin, { x: (px - W / 2) / scale, y: (W / 2 - py) / scale });
      onPick(p.lat, p.lng);
    });
  }
  return svg;
}

// ---------------------------------------------------------------- the view

/**
 * Draws `markers` around `center` into `el`. Options besides the contract's: `title` (the
 * accessible name), `centerName`, `id` (of the plot's SVG), `height` (CSS, default 480px).
 * The answer's `ready` resolves to 'map' or 'plot' once the first drawing is settled;
 * `mode()` tells which is shown now.
 */
export function mapView(el, { center, markers = [], onPick = null, ...opts } = {}) {
  const origin = { lat: center[0], lng: center[1] };
  let list = markers.slice();
  let mode = 'loading';
  let map = null;
  let layer = null;
  let toMap = null;
  let gone = false;
  let fitted = false;
  let plotNote = null;
  const box = h('figure', { class: 'card plotbox mapview', 'data-map': 'loading' }, h('p', { class: 'muted' }, '正在加载地图…'));
  el.replaceChildren(box);

  const drawPlot = (note) => {
    plotNote = note;
    if (map) { map.remove(); map = null; }
    mode = 'plot';
    box.dataset.map = 'plot';
    box.replaceChildren(plot(origin, list, opts, onPick), legend(list, note));
  };

  const icon = (L, m) => {
    const node = h('div', { class: `mk mk-${m.kind}${m.classes ? ` ${m.classes}` : ''}`, ...Object.fromEntries(Object.entries(m.data || {}).map(([k, v]) => [`data-${k}`, v])) },
      h('span', { class: 'sym', 'aria-hidden': 'true' }, SYMBOL[m.kind] || '●'),
      m.label ? h('span', { class: 'lbl' }, m.label) : null);
    return L.divIcon({ html: node, className: 'mk-wrap', iconSize: [16, 16], iconAnchor: [8, 8] });
  };

  const drawMarkers = (L) => {
    if (layer) layer.remove();
    layer = L.layerGroup(list.map((m) => {
      const p = toMap(m);
      return L.marker([p.lat, p.lng], { icon: icon(L, m), title: m.title || m.label || '', keyboard: true, alt: m.label || '' });
    })).addTo(map);
    if (fitted) return; // later markers keep the view the person chose
    fitted = true;
    const pts = list.map((m) => toMap(m)).map((p) => [p.lat, p.lng]);
    if (pts.length > 1) map.fitBounds(pts, { padding: [36, 36], maxZoom: 15 });
    else { const c = toMap(pts.length ? list[0] : origin); map.setView([c.lat, c.lng], 14); }
  };

  const ready = (async () => {
    const cfg = await mapConfig();
    if (gone) return 'gone';
    if (!cfg.tiles) { drawPlot('未配置地图底图，显示简图。'); return 'plot'; }
    let L;
    try { L = await leaflet(); } catch { if (!gone) drawPlot('地图组件加载失败，已改用简图。'); return 'plot'; }
    if (gone) return 'gone';
    const conv = datumOf(cfg.datum);
    toMap = conv.toMap;
    const holder = h('div', { class: 'leaflet-holder', style: `height:${opts.height || '480px'}`, role: 'region', 'aria-label': opts.title || '地图' });
    box.replaceChildren(holder, legend(list, cfg.datum === 'gcj02' ? '底图为 GCJ-02 坐标（高德），位置已换算。' : null));
    box.dataset.map = 'map';
    mode = 'map';
    map = L.map(holder, { zoomControl: true, attributionControl: true });
    const tiles = L.tileLayer(cfg.tiles, {
      subdomains: cfg.subdomains || 'abc', maxZoom: cfg.max_zoom || 18, attribution: cfg.attribution || '',
    });
    drawMarkers(L);
    if (onPick) {
      map.on('click', (ev) => { const w = conv.fromMap(ev.latlng); onPick(w.lat, w.lng); });
    }
    // the tiles must show up: the first error before any tile loaded, or nothing within
    // TILE_PATIENCE, falls back to the plot
    return new Promise((resolve) => {
      let loaded = false;
      const fail = () => { if (!loaded && !gone && mode === 'map') { drawPlot('地图底图加载失败，已改用简图。'); } resolve(gone ? 'gone' : mode); };
      const timer = setTimeout(fail, TILE_PATIENCE);
      tiles.on('tileload', () => { if (!loaded) { loaded = true; clearTimeout(timer); box.dataset.tiles = 'loaded'; resolve('map'); } });
      tiles.on('tileerror', () => { if (!loaded) { clearTimeout(timer); fail(); } });
      tiles.addTo(map);
    });
  })();

  return {
    ready,
    mode: () => mode,
    setMarkers(next) {
      list = next.slice();
      if (mode === 'plot') drawPlot(plotNote);
      else if (mode === 'map' && map && window.L) drawMarkers(window.L);
    },
    destroy() {
      gone = true;
      if (map) { map.remove(); map = null; }
      box.remove();
    },
  };
}
