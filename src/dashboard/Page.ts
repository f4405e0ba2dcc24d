/**
 * The live dashboard page served at `GET /` by the control server: loads the day's expirations, windows, underlying
 * and signals from the JSON routes, then follows `GET /events` (server-sent events: windows, signal, status) without
 * reloading. Issue 7 (dashboard).
 */
import * as Render from "./Render.js"

// Relative URLs, so the page also works behind a path prefix.
const BOOTSTRAP = String.raw`
(function () {
  "use strict";
  var day = null;
  // "?day=YYYY-MM-DD" shows a stored day (UTC); without it, the latest day, followed live.
  var requested = new URLSearchParams(location.search).get("day");
  var feedState = "connecting";
  var lastStatus = null;
  // Events that arrive before the stored data is drawn wait here, so nothing published meanwhile is lost.
  var loaded = false;
  var queue = [];
  var dash = IFD.create({ live: true, onSelect: load });
  function json(url) {
    return fetch(url, { headers: { accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(url + " answered " + r.status);
      return r.json();
    });
  }
  function q(params) {
    var parts = [];
    for (var k in params) if (params[k] !== null && params[k] !== undefined) parts.push(k + "=" + encodeURIComponent(params[k]));
    return parts.length ? "?" + parts.join("&") : "";
  }
  function load(expiration) {
    if (expiration === null) return Promise.resolve();
    var params = q({ day: day, expiration: expiration });
    return Promise.all([
      json("api/windows" + params).then(function (r) {
        if (day === null && r.day !== null) showDay(r.day);
        dash.setWindows(expiration, r.windows);
      }),
      json("api/underlying" + params).then(function (r) { dash.setUnderlying(r.underlying); })
    ]);
  }
  // The underlying is stored with the windows' signals in the same commit, so it can be read once their event is here.
  // One read per (day, expiration) at a time; events arriving meanwhile ask for one more read after it.
  var underlyingReads = {};
  function refreshUnderlying(d, expiration) {
    var k = d + "|" + expiration;
    if (underlyingReads[k]) { underlyingReads[k] = "again"; return; }
    underlyingReads[k] = "busy";
    json("api/underlying" + q({ day: d, expiration: expiration })).then(function (r) {
      dash.setUnderlying(r.underlying);
    }).catch(function (err) {
      console.warn("underlying: " + (err && err.message || err));
    }).then(function () {
      var again = underlyingReads[k] === "again";
      delete underlyingReads[k];
      if (again) refreshUnderlying(d, expiration);
    });
  }
  function showDay(d) {
    day = d;
    document.getElementById("day").textContent = day ? "day " + day + " (UTC) · times New York" : "no stored windows yet";
  }
  function showStatus() { if (lastStatus) dash.setStatus(lastStatus, feedState); }
  function on(es, name, apply) {
    es.addEventListener(name, function (e) {
      var data = JSON.parse(e.data);
      if (loaded) apply(data); else queue.push(function () { apply(data); });
    });
  }
  function connect() {
    var es = new EventSource("events");
    es.addEventListener("open", function () { feedState = "connected"; document.body.setAttribute("data-sse", "open"); showStatus(); });
    es.addEventListener("error", function () { feedState = "reconnecting"; document.body.setAttribute("data-sse", "error"); showStatus(); });
    on(es, "windows", function (w) {
      // A day asked for by name takes only its own windows from the live feed.
      var taken = requested ? w.filter(function (x) { return new Date(x.windowStart).toISOString().slice(0, 10) === requested; }) : w;
      dash.addWindows(taken);
      // Another expiration reads its underlying when it is chosen (load).
      var days = {};
      for (var i = 0; i < taken.length; i++) {
        if (taken[i].expiration === dash.current()) days[new Date(taken[i].windowStart).toISOString().slice(0, 10)] = true;
      }
      for (var d in days) refreshUnderlying(d, dash.current());
    });
    on(es, "signal", function (s) { dash.addSignals([s]); });
    on(es, "status", function (s) { lastStatus = s; showStatus(); });
  }
  connect();
  json("api/expirations" + q({ day: requested })).then(function (r) {
    showDay(r.day);
    var current = dash.setExpirations(r.expirations);
    return Promise.all([
      load(current),
      json("api/signals" + q({ day: day })).then(function (s) { dash.setSignals(s.signals); }),
      json("status").then(function (s) { lastStatus = s; showStatus(); })
    ]);
  }).catch(function (err) {
    document.getElementById("day").textContent = String(err && err.message || err);
  }).then(function () {
    loaded = true;
    for (var i = 0; i < queue.length; i++) queue[i]();
    queue = [];
    document.body.setAttribute("data-ready", "1");
  });
})();
`

/** The whole page (HTML, CSS and script inline; no external URL). */
export const html = (): string => Render.document("ifd-stream · live", BOOTSTRAP)
