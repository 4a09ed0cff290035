/* Joinup's service worker, for the attendee page only (scope /e/): the offline shell.
   A page load goes to the network first; when the network fails, the copy of the page and
   its scripts kept from the last visit is served, so a reload while offline shows the page,
   its outbox and "You're offline" rather than the browser's error page. It never touches
   the API, the event stream or the WebSocket: answers only ever go to the server. */
"use strict";

var CACHE = "joinup-shell-v1";

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("joinup-shell-") === 0 && n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

/** Keeps one copy per path: a new version of a script replaces the old one. */
function keep(cache, request, response) {
  var url = new URL(request.url);
  return cache.keys().then(function (old) {
    return Promise.all(old.filter(function (r) {
      var u = new URL(r.url);
      return u.pathname === url.pathname && u.search !== url.search;
    }).map(function (r) { return cache.delete(r); }));
  }).then(function () { return cache.put(request, response); });
}

function shellable(url) {
  return url.origin === self.location.origin
    && (/^\/e\/[A-Za-z0-9]{1,12}\/?$/.test(url.pathname) || url.pathname.indexOf("/assets/") === 0);
}

// The page, once it has loaded, names the files it used: keep them for next time.
self.addEventListener("message", function (event) {
  var m = event.data || {};
  if (m.type !== "keep" || !Array.isArray(m.urls)) return;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(m.urls.map(function (u) {
      var url = new URL(u, self.location.origin);
      if (!shellable(url)) return null;
      var request = new Request(url.href);
      return fetch(request, { cache: "no-cache" }).then(function (response) {
        return response.ok ? keep(cache, request, response) : null;
      }, function () { return null; });
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || !shellable(url)) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return keep(cache, request, copy); });
    }
    return response;
  }, function () {
    return caches.match(request).then(function (hit) {
      if (hit) return hit;
      // Another event's page, or a version never seen: any kept attendee page will do
      // (they are all the same page; the code comes from the address).
      if (request.mode === "navigate") {
        return caches.open(CACHE).then(function (cache) {
          return cache.keys().then(function (keys) {
            var page = keys.filter(function (r) { return /^\/e\//.test(new URL(r.url).pathname); })[0];
            return page ? cache.match(page) : Response.error();
          });
        });
      }
      return caches.match(request, { ignoreSearch: true }).then(function (any) { return any || Response.error(); });
    });
  }));
});
