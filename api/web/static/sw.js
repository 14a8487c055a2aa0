/* Lindung service worker: keeps the app shell (the report and weighing forms, the style and
   the script) so that a form opens without signal. Pages are fetched from the network first
   and the copy refreshed; only when there is no network is the kept copy shown. Reports
   themselves are never cached here: app.js queues them and deletes each once acknowledged. */
"use strict";
var SHELL_CACHE = "lindung-shell-v1";
var PAGES = ["/app/lapor", "/app/timbang"];
var ASSETS = ["/app/static/app.css", "/app/static/app.js", "/app/static/icon.svg",
              "/app/static/manifest.webmanifest"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    // a page the role may not open (403) is simply not kept
    return Promise.all(PAGES.concat(ASSETS).map(function (url) {
      return fetch(url, {credentials: "same-origin"}).then(function (response) {
        if (response.ok) { return cache.put(url, response); }
      }).catch(function () {});
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== SHELL_CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(SHELL_CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (kept) { return kept || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (PAGES.indexOf(url.pathname) !== -1) {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});
