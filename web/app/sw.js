// The phone app's service worker (scope /app/). It keeps the app shell — the page, its
// scripts and styles and the shared /lib files — so the app opens without a network
// (underground garages). The day's jobs and the queued actions live in IndexedDB, written
// by the page; API requests are never cached here and go straight to the network.
//
// Strategy: answer from the cache at once and refresh the cache in the background
// (stale-while-revalidate); when a refreshed file differs, the open pages are told so they
// can offer to reload. A new version of this file replaces the whole cache.
const VERSION = 'tech-shell-v7';
// every file of the app, including the modules the first screen does not load (geo, ids,
// scan, signature: app.js imports them when a job, vehicle or sign-off screen needs them)
const SHELL = [
  '/app/', '/app/boot.js', '/app/app.js', '/app/app.css', '/app/db.js', '/app/sync.js', '/app/geo.js', '/app/ids.js',
  '/app/scan.js', '/app/signature.js', '/app/live.js', '/app/photo.js', '/app/manifest.webmanifest', '/app/icon.svg',
  '/lib/api.js', '/lib/problems.js', '/lib/dom.js', '/lib/fmt.js', '/lib/session.js', '/lib/ids.js', '/lib/ui.css',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) if (k !== VERSION) await caches.delete(k);
    await self.clients.claim();
  })());
});

function shellKey(url) {
  if (url.pathname === '/app/index.html' || url.pathname === '/app') return '/app/';
  return url.pathname;
}

async function notify() {
  for (const c of await self.clients.matchAll()) c.postMessage({ type: 'shell-updated' });
}

async function fromShell(request, url) {
  const cache = await caches.open(VERSION);
  const key = shellKey(url);
  const cached = await cache.match(key);
  const refresh = fetch(request.mode === 'navigate' ? key : request, { cache: 'no-cache' })
    .then(async (res) => {
      if (res.ok && res.status === 200) {
        const before = cached?.headers.get('ETag');
        await cache.put(key, res.clone());
        if (cached && before && before !== res.headers.get('ETag')) notify();
      }
      return res;
    });
  if (cached) {
    refresh.catch(() => { /* offline: the cached copy is what there is */ });
    return cached;
  }
  return refresh;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const inShell = (url.pathname.startsWith('/app') && !url.pathname.endsWith('/sw.js')) || url.pathname.startsWith('/lib/');
  if (!inShell) return; // the API and everything else: the network, as usual
  event.respondWith(fromShell(request, url));
});
