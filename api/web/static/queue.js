/* Lindung staff queue (/app/kasus): refreshes the list and its counts in place every 30
   seconds and whenever the tab is shown again, from the queue's own fragment URL (the same
   filters and page, the same access rules). Without this script the page is complete; it
   is simply not refreshed until reloaded. */
(function () {
  "use strict";
  var EVERY = 30000;
  var doc = document;
  var busy = false;

  function refresh() {
    var box = doc.getElementById("daftar-kasus");
    if (!box || busy || doc.hidden) { return; }
    busy = true;
    fetch(box.getAttribute("data-refresh"), {
      credentials: "same-origin", headers: {"Accept": "text/html"}
    }).then(function (response) {
      if (response.status === 401 || response.redirected) {
        window.location.reload();  // the session ended: the login page takes over
        return null;
      }
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      var parsed = new DOMParser().parseFromString(html, "text/html");
      var rows = parsed.querySelector(".queue-rows");
      if (!rows) { return; }
      box.replaceChildren(doc.importNode(rows, true));
      var line = doc.getElementById("pembaruan");
      if (line) {
        line.textContent = line.getAttribute("data-refreshed")
          .replace("{time}", rows.getAttribute("data-refreshed"));
      }
    }).catch(function () { /* no signal: the next round tries again */ })
      .then(function () { busy = false; });
  }

  function start() {
    setInterval(refresh, EVERY);
    doc.addEventListener("visibilitychange", function () {
      if (!doc.hidden) { refresh(); }
    });
    window.addEventListener("focus", refresh);
  }

  if (doc.readyState === "loading") { doc.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
