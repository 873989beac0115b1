/* Service worker of the board player (scope /board/): keeps the shell, the last manifest and
   the media so a board keeps rotating with no network, and recovers by itself. */
"use strict";
const VERSION = "{{ version }}";
const SHELL_CACHE = "board-shell-" + VERSION;
const DATA_CACHE = "board-data-v1";
const MEDIA_CACHE = "board-media-v1";
const SHELL = [{% for url in shell %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(
      keys.filter((k) => k.startsWith("board-shell-") && k !== SHELL_CACHE).map((k) => caches.delete(k))
    )).then(() => self.clients.claim())
  );
});

function isManifest(url) { return /^\/api\/v1\/boards\/\d+\/manifest$/.test(url.pathname); }
function isMedia(url) { return /^\/api\/v1\/boards\/\d+\/media\/[0-9a-f]{64}\.[a-z0-9]+$/.test(url.pathname); }
function isShell(url) { return SHELL.includes(url.pathname) || url.pathname === "/board/"; }

async function networkFirst(request, cacheName, key) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.status === 200) await cache.put(key || request, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(key || request, { ignoreVary: true, ignoreSearch: true });
    if (cached) return fromCache(cached);
    throw err;
  }
}

/* A kept answer, marked so that the page does not take its old Date for the server's time. */
function fromCache(response) {
  const headers = new Headers(response.headers);
  headers.set("X-Board-Cache", "1");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function cacheFirst(request) {
  const cache = await caches.open(MEDIA_CACHE);
  const key = new Request(new URL(request.url).pathname);
  const cached = await cache.match(key);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.status === 200) await cache.put(key, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isMedia(url)) {
    event.respondWith(cacheFirst(request));
  } else if (isManifest(url)) {
    // A 304 passes through (the page keeps its copy); offline, the last 200 answers.
    event.respondWith(networkFirst(request, DATA_CACHE, new Request(url.pathname)));
  } else if (request.mode === "navigate" && url.pathname === "/board/") {
    event.respondWith(networkFirst(request, SHELL_CACHE, new Request("/board/")));
  } else if (isShell(url)) {
    event.respondWith(networkFirst(request, SHELL_CACHE, new Request(url.pathname)));
  }
});
