/* Lindung web app: sends the report and weighing forms with fetch, queues them on the device
   when there is no signal (with the Idempotency-Key made when the form was opened, so the
   server files each once however often it is sent), shows the queue, and installs the
   service worker. Without this script every form still works as a plain HTML post. */
(function () {
  "use strict";
  var QUEUE = "lindung.queue";
  var doc = document;
  var flushing = false;

  function meta(name) {
    var tag = doc.querySelector('meta[name="' + name + '"]');
    return tag ? tag.getAttribute("content") : "";
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function user() { return doc.body.getAttribute("data-user") || ""; }

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE)) || []; } catch (e) { return []; }
  }

  function save(queue) {
    if (queue.length) { localStorage.setItem(QUEUE, JSON.stringify(queue)); }
    else { localStorage.removeItem(QUEUE); }
  }

  function remove(key) {
    save(load().filter(function (entry) { return entry.key !== key; }));
  }

  function update(key, change) {
    save(load().map(function (entry) {
      if (entry.key === key) { Object.keys(change).forEach(function (k) { entry[k] = change[k]; }); }
      return entry;
    }));
  }

  function mine() {
    return load().filter(function (entry) { return entry.user === user(); });
  }

  function say(text) {
    var line = doc.getElementById("antrean");
    if (!line) { return; }
    line.textContent = text;
    line.hidden = !text;
  }

  function showQueue(extra) {
    var line = doc.getElementById("antrean");
    if (!line) { return; }
    var waiting = mine();
    var text = "";
    if (waiting.some(function (entry) { return entry.errors; })) {
      text = line.getAttribute("data-fix");
    } else if (waiting.length) {
      text = line.getAttribute("data-waiting").replace("{n}", waiting.length);
      if (extra) { text += " " + extra; }
    }
    say(text);
  }

  function send(entry) {
    return fetch(entry.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "Idempotency-Key": entry.key,
        "X-CSRFToken": meta("csrf-token")
      },
      body: entry.body
    });
  }

  function showResult(answer, form) {
    var box = doc.getElementById("hasil");
    if (!box) { return; }
    box.textContent = "";
    if (answer.reference) {
      var template = form ? form.getAttribute("data-sent") : null;
      var p = doc.createElement("p");
      p.className = "reference";
      p.textContent = template ? template.replace("{reference}", answer.reference)
                               : answer.message;
      box.appendChild(p);
    }
    if (answer.lines) {
      var list = doc.createElement("dl");
      answer.lines.forEach(function (line) {
        var dt = doc.createElement("dt");
        var dd = doc.createElement("dd");
        dt.textContent = line[0];
        dd.textContent = line[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
      box.appendChild(list);
      var message = doc.createElement("p");
      message.textContent = answer.message;
      box.appendChild(message);
    }
    box.hidden = false;
    box.focus && box.setAttribute("tabindex", "-1");
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-error-for]"), function (p) {
      p.textContent = "";
      p.hidden = true;
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
    });
  }

  function showErrors(form, errors) {
    clearErrors(form);
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var p = doc.getElementById("err-" + name) || doc.getElementById("err-_form");
      p.textContent = errors[name].join(" ");
      p.hidden = false;
      var input = form.querySelector('[name="' + name + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); }
      first = first || input || p;
    });
    if (first && first.focus) { first.focus(); }
  }

  /* Send what waits, oldest first, one at a time; stop at the first that cannot go yet. */
  function flush() {
    if (flushing || !navigator.onLine) { return Promise.resolve(); }
    var waiting = mine().filter(function (entry) { return !entry.errors; });
    if (!waiting.length) { showQueue(); return Promise.resolve(); }
    flushing = true;
    var step = function (i) {
      if (i >= waiting.length) { return Promise.resolve(true); }
      var entry = waiting[i];
      return send(entry).then(function (response) {
        if (response.ok) {
          return response.json().then(function (answer) {
            remove(entry.key);
            var form = doc.querySelector('form[data-queue="' + entry.kind + '"]');
            showResult(answer, form);
            return step(i + 1);
          });
        }
        if (response.status === 422) {
          return response.json().then(function (problem) {
            update(entry.key, {errors: problem.errors || {}});
            return step(i + 1);
          });
        }
        if (response.status === 401) {
          showQueue(doc.getElementById("antrean").getAttribute("data-signin"));
        }
        return false;  // 409 in flight, 5xx, CSRF: try again later
      });
    };
    return step(0).catch(function () { return false; }).then(function (done) {
      flushing = false;
      if (done === true && !mine().length) {
        say(doc.getElementById("antrean").getAttribute("data-sent"));
      } else if (done !== false) {
        showQueue();
      }
    });
  }

  /* A queued report the server refused (422) is put back in its form, with the errors. */
  function restore(form) {
    var failed = mine().filter(function (entry) {
      return entry.errors && entry.kind === form.getAttribute("data-queue");
    })[0];
    if (!failed) { return; }
    var values = new URLSearchParams(failed.body);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.getAll(el.name).indexOf(el.value) !== -1;
      } else if (values.has(el.name)) {
        el.value = values.get(el.name);
      }
    });
    form.setAttribute("data-key", failed.key);
    showErrors(form, failed.errors);
  }

  function wire(form) {
    form.setAttribute("data-key", newKey());
    restore(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new URLSearchParams(new FormData(form));
      body.delete("csrf_token");  // sent as a header: the page that sends holds the fresh one
      var entry = {key: form.getAttribute("data-key"), url: form.action, body: body.toString(),
                   user: user(), kind: form.getAttribute("data-queue"), at: Date.now()};
      // kept first: should the page close while sending, the report is still on the device
      save(load().filter(function (e) { return e.key !== entry.key; }).concat([entry]));
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var done = function () {
        button.disabled = false;
      };
      var queued = function () {
        done();
        form.reset();
        clearErrors(form);
        form.setAttribute("data-key", newKey());
        say(form.getAttribute("data-queued"));
        showQueue(form.getAttribute("data-queued"));
      };
      if (!navigator.onLine) { queued(); return; }
      send(entry).then(function (response) {
        if (response.ok) {
          return response.json().then(function (answer) {
            remove(entry.key);
            done();
            form.reset();
            clearErrors(form);
            form.setAttribute("data-key", newKey());
            showResult(answer, form);
            showQueue();
          });
        }
        if (response.status === 422) {
          remove(entry.key);  // still in the form, to be corrected
          return response.json().then(function (problem) {
            done();
            showErrors(form, problem.errors || {});
          });
        }
        if (response.status === 401) {
          done();
          showQueue(doc.getElementById("antrean").getAttribute("data-signin"));
          return;
        }
        queued();
      }).catch(queued);
    });
  }

  function start() {
    if (doc.body.getAttribute("data-page") === "login" && window.caches) {
      // the kept pages were the last person's: gone at the login (their queue stays theirs)
      caches.keys().then(function (names) { names.forEach(function (n) { caches.delete(n); }); });
    } else if ("serviceWorker" in navigator && user()) {
      navigator.serviceWorker.register("/app/sw.js", {scope: "/app/"}).catch(function () {});
    }
    Array.prototype.forEach.call(doc.querySelectorAll("form[data-queue]"), wire);
    showQueue();
    flush();
    window.addEventListener("online", flush);
    setInterval(flush, 30000);
  }

  if (doc.readyState === "loading") { doc.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
