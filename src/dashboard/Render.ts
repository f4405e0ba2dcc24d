/**
 * What the live page and the static report share: the HTML skeleton, the CSS and the browser script that draws the
 * pressure heatmap (strike × 5-minute window, calls and puts side by side, with the underlying as an at-the-money
 * line), the signal feed and the state panel.
 * Plain strings: the script is vanilla JS + SVG with no external URL. Issue 7 (dashboard).
 */

/** Log pressure ratio at which a cell's colour saturates (ratio e² ≈ 7.4 either way). */
export const LOG_RATIO_CLAMP = 2

/** Columns of a compacted window (`compactWindows`); the script expands them back. */
export const WINDOW_COLUMNS = [
  "windowStart",
  "expiration",
  "strike",
  "optionType",
  "bidVolume",
  "askVolume",
  "unknownVolume",
  "totalTrades",
  "premium",
  "maxTradeSize"
] as const

/** Columns of a compacted underlying point (`compactUnderlying`); the script expands them back. */
export const UNDERLYING_COLUMNS = ["windowStart", "expiration", "underlying", "method"] as const

export const STYLE = String.raw`
:root { color-scheme: dark; --bg: #0e1116; --panel: #161b22; --line: #2a313c; --fg: #d8dee9; --dim: #8b95a5;
  --buy: #22c55e; --sell: #ef4444; --neutral: #8a94a6; --warn: #f59e0b; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 12px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 8px 14px; border-bottom: 1px solid var(--line); background: var(--panel); flex-wrap: wrap; }
header h1 { font-size: 14px; margin: 0; font-weight: 600; letter-spacing: .02em; }
header h1 small { color: var(--dim); font-weight: 400; margin-left: 6px; }
header label { color: var(--dim); }
select { background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; padding: 2px 6px; font: inherit; }
.legend { display: flex; align-items: center; gap: 6px; color: var(--dim); margin-left: auto; }
.legend .bar { width: 160px; height: 10px; border-radius: 2px;
  background: linear-gradient(90deg, var(--sell), var(--neutral) 50%, var(--buy)); }
.legend .atm { width: 18px; border-top: 2px solid var(--fg); margin-left: 10px; }
.legend .op { width: 60px; height: 10px; border-radius: 2px; background: linear-gradient(90deg, rgba(138,148,166,.1), rgba(138,148,166,1)); }
main { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 10px; padding: 10px; height: calc(100vh - 46px); }
section.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; min-height: 0; }
section.card h2 { margin: 0 0 6px; font-size: 11px; text-transform: uppercase; letter-spacing: .08em; color: var(--dim); font-weight: 600; }
#heatmap-card { overflow: auto; }
#heatmap svg { display: block; }
#heatmap text { fill: var(--dim); font-size: 10px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
#heatmap text.title { fill: var(--fg); font-size: 11px; font-weight: 600; letter-spacing: .08em; }
#heatmap rect.cell:hover { stroke: #fff; stroke-width: 1; }
#heatmap rect.mark { fill: none; stroke: #f59e0b; stroke-width: 1.5; pointer-events: none; }
#heatmap rect.mark.focus { stroke: #fff; stroke-width: 2.5; }
#heatmap polyline.underlying { fill: none; stroke: var(--fg); stroke-width: 1.5; stroke-opacity: .9; stroke-linejoin: round;
  stroke-linecap: round; pointer-events: none; }
#heatmap text.underlying { fill: var(--fg); font-weight: 600; paint-order: stroke; stroke: var(--bg); stroke-width: 3px;
  pointer-events: none; }
#feed li.signal { cursor: pointer; }
#feed li.signal.focus { outline: 1px solid var(--warn); }
#heatmap .empty { color: var(--dim); padding: 30px; }
aside { display: flex; flex-direction: column; gap: 10px; min-height: 0; }
#status-card dl { display: grid; grid-template-columns: 110px 1fr; gap: 2px 8px; margin: 0; }
#status-card dt { color: var(--dim); }
#status-card dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.ok { color: var(--buy); } .bad { color: var(--sell); } .warn { color: var(--warn); }
#feed-card { flex: 1; display: flex; flex-direction: column; }
#feed { list-style: none; margin: 0; padding: 0; overflow-y: auto; flex: 1; }
#feed li { border-top: 1px solid var(--line); padding: 6px 2px; }
#feed li.fresh { animation: flash 2s ease-out; }
@keyframes flash { from { background: rgba(245,158,11,.25); } to { background: transparent; } }
#feed .head { display: flex; gap: 6px; align-items: baseline; flex-wrap: wrap; }
#feed .time { color: var(--dim); font-family: ui-monospace, monospace; }
#feed .inst { font-weight: 600; }
#feed .dir { font-weight: 700; padding: 0 5px; border-radius: 3px; color: #0e1116; }
#feed .dir.BUY { background: var(--buy); } #feed .dir.SELL { background: var(--sell); }
#feed .tier { padding: 0 5px; border-radius: 3px; border: 1px solid var(--line); text-transform: uppercase; font-size: 10px; }
#feed .tier.critical { border-color: var(--sell); color: var(--sell); } #feed .tier.high { border-color: var(--warn); color: var(--warn); }
#feed .conf { font-family: ui-monospace, monospace; }
#feed .feat { color: var(--dim); font-family: ui-monospace, monospace; font-size: 11px; margin-top: 2px; }
#feed .none { color: var(--dim); padding: 8px 2px; }
#tip { position: fixed; pointer-events: none; background: #05070a; border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px;
  font: 11px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre; display: none; z-index: 10; }
`

/** The page body both views share; `mode` picks the header note. */
export const BODY = String.raw`
<header>
  <h1>ifd-stream <small>NQ options institutional flow</small></h1>
  <label>expiration <select id="expiration"></select></label>
  <span id="day" class="dim"></span>
  <span class="legend"><span>sell (bid)</span><span class="bar"></span><span>buy (ask)</span>
    <span style="margin-left:10px">log(ask/bid) ±${LOG_RATIO_CLAMP}; opacity</span><span class="op"></span><span>volume</span>
    <span class="atm"></span><span>ATM (underlying)</span></span>
</header>
<main>
  <section class="card" id="heatmap-card"><h2>Pressure heatmap · strike × 5-minute window</h2><div id="heatmap"></div></section>
  <aside>
    <section class="card" id="status-card"><h2 id="status-title">Stream</h2><dl id="status"></dl></section>
    <section class="card" id="feed-card"><h2>Signals · newest first</h2><ol id="feed"></ol></section>
  </aside>
</main>
<div id="tip"></div>
`

/**
 * The drawing code, run in the browser: `IFD.create()` returns a dashboard whose methods take windows
 * (PressureWindow JSON), the underlying per window (UnderlyingPoint JSON), signals (WindowSignal JSON) and status
 * snapshots, and redraw at most once per frame.
 */
export const SCRIPT = String.raw`
(function () {
  "use strict";
  var CLAMP = ${LOG_RATIO_CLAMP};
  var COLUMNS = ${JSON.stringify(WINDOW_COLUMNS)};
  var UNDERLYING_COLUMNS = ${JSON.stringify(UNDERLYING_COLUMNS)};
  var tz = "America/New_York";
  var hm = new Intl.DateTimeFormat("en-US", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false });
  var hms = new Intl.DateTimeFormat("en-US", { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  var nf = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
  var n0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function num(x) { return typeof x === "number" && isFinite(x) ? nf.format(x) : "–"; }
  function money(x) {
    if (typeof x !== "number" || !isFinite(x)) return "–";
    var a = Math.abs(x);
    return a >= 1e6 ? "$" + (x / 1e6).toFixed(2) + "M" : a >= 1e3 ? "$" + (x / 1e3).toFixed(1) + "k" : "$" + x.toFixed(0);
  }
  function clock(ms) { return hm.format(new Date(ms)); }

  /** Expands the report's compact windows ({ expirations, rows }) into PressureWindow objects. */
  function expand(compact) {
    var out = [];
    for (var i = 0; i < compact.rows.length; i++) {
      var r = compact.rows[i], w = {};
      for (var j = 0; j < COLUMNS.length; j++) w[COLUMNS[j]] = r[j];
      w.expiration = compact.expirations[w.expiration];
      w.pressureRatio = w.bidVolume === 0 ? null : w.askVolume / w.bidVolume;
      w.avgTradeSize = w.totalTrades === 0 ? 0 : (w.bidVolume + w.askVolume + w.unknownVolume) / w.totalTrades;
      out.push(w);
    }
    return out;
  }

  /** Expands the report's compact underlying ({ expirations, rows }) into UnderlyingPoint objects. */
  function expandUnderlying(compact) {
    var out = [];
    for (var i = 0; i < compact.rows.length; i++) {
      var r = compact.rows[i], u = {};
      for (var j = 0; j < UNDERLYING_COLUMNS.length; j++) u[UNDERLYING_COLUMNS[j]] = r[j];
      u.expiration = compact.expirations[u.expiration];
      out.push(u);
    }
    return out;
  }

  /** Signed log pressure in [-CLAMP, CLAMP]; no bid volume (ratio null) is the buy extreme, no volume at all neutral. */
  function logPressure(w) {
    if (w.pressureRatio === null || w.pressureRatio === undefined) return w.askVolume > 0 ? CLAMP : 0;
    if (w.pressureRatio <= 0) return -CLAMP;
    return Math.max(-CLAMP, Math.min(CLAMP, Math.log(w.pressureRatio)));
  }
  var NEUTRAL = [138, 148, 166], BUY = [34, 197, 94], SELL = [239, 68, 68];
  function colour(lp) {
    var t = Math.abs(lp) / CLAMP, to = lp >= 0 ? BUY : SELL, c = [];
    for (var i = 0; i < 3; i++) c.push(Math.round(NEUTRAL[i] + (to[i] - NEUTRAL[i]) * t));
    return "rgb(" + c.join(",") + ")";
  }
  function volumeOf(w) { return w.bidVolume + w.askVolume + w.unknownVolume; }
  function keyOf(w) { return w.windowStart + "|" + w.strike + "|" + w.optionType; }
  function signalKey(s) { return s.windowStart + "|" + s.expiration + "|" + s.strike + "|" + s.optionType; }

  function create(options) {
    var select = document.getElementById("expiration");
    var heat = document.getElementById("heatmap");
    var feed = document.getElementById("feed");
    var statusEl = document.getElementById("status");
    var tip = document.getElementById("tip");
    var byExpiration = {};   // expiration -> Map(key -> window), only for expirations loaded
    var underlyingOf = {};   // expiration -> Map(windowStart -> UnderlyingPoint)
    var summaries = {};      // expiration -> { windows, volume }
    var current = null;
    var signals = [];        // newest first
    var seen = {};
    var cells = [];
    var pending = false;
    var onSelect = options.onSelect || function () {};
    var focus = null;        // signal key picked in the feed

    function schedule() {
      if (pending) return;
      pending = true;
      (window.requestAnimationFrame || setTimeout)(function () { pending = false; draw(); });
    }

    function fillSelect() {
      var names = Object.keys(summaries).sort();
      var html = "";
      for (var i = 0; i < names.length; i++) {
        var s = summaries[names[i]];
        html += "<option value=\"" + esc(names[i]) + "\"" + (names[i] === current ? " selected" : "") + ">" + esc(names[i]) +
          " · " + n0.format(s.volume) + " lots</option>";
      }
      select.innerHTML = html;
    }

    /** Starts collecting live windows of an expiration before its stored ones arrive (none is lost in between). */
    function track(expiration) {
      if (expiration !== null && !byExpiration[expiration]) byExpiration[expiration] = new Map();
    }

    function setExpirations(list) {
      summaries = {};
      for (var i = 0; i < list.length; i++) summaries[list[i].expiration] = { windows: list[i].windows, volume: list[i].volume };
      if (current === null || !summaries[current]) current = defaultExpiration();
      track(current);
      fillSelect();
      schedule();
      return current;
    }
    /** The most traded expiration. */
    function defaultExpiration() {
      var best = null, vol = -1;
      for (var e in summaries) if (summaries[e].volume > vol) { best = e; vol = summaries[e].volume; }
      return best;
    }

    /** Stored windows of an expiration; a live window already received for the same cell is newer and kept. */
    function setWindows(expiration, windows) {
      var m = byExpiration[expiration] || new Map();
      for (var i = 0; i < windows.length; i++) {
        var k = keyOf(windows[i]);
        if (windows[i].expiration === expiration && !m.has(k)) m.set(k, windows[i]);
      }
      byExpiration[expiration] = m;
      if (expiration === current) schedule();
    }

    /** Upserts the underlying of windows (UnderlyingPoint JSON, any expirations). */
    function setUnderlying(list) {
      var redraw = false;
      for (var i = 0; i < list.length; i++) {
        var u = list[i], m = underlyingOf[u.expiration] || (underlyingOf[u.expiration] = new Map());
        m.set(u.windowStart, u);
        if (u.expiration === current) redraw = true;
      }
      if (redraw) schedule();
    }

    /** Upserts live windows: the loaded expirations get the cells, every expiration its summary. */
    function addWindows(windows) {
      var touched = false, newExpiration = false;
      for (var i = 0; i < windows.length; i++) {
        var w = windows[i], m = byExpiration[w.expiration];
        var s = summaries[w.expiration];
        if (!s) { s = summaries[w.expiration] = { windows: 0, volume: 0 }; newExpiration = true; }
        var old = m ? m.get(keyOf(w)) : undefined;
        if (!old) s.windows++;
        s.volume += volumeOf(w) - (old ? volumeOf(old) : 0);
        if (m) m.set(keyOf(w), w);
        if (w.expiration === current) touched = true;
      }
      if (current === null) {
        current = defaultExpiration(); newExpiration = true;
        if (current !== null) { track(current); onSelect(current); }
      }
      if (newExpiration) fillSelect();
      if (touched) schedule();
    }

    select.addEventListener("change", function () {
      current = select.value;
      track(current);
      schedule();
      onSelect(current);
    });

    function draw() {
      var m = current === null ? undefined : byExpiration[current];
      if (!m || m.size === 0) {
        cells = [];
        heat.innerHTML = "<div class=\"empty\">" + (current === null ? "No windows stored yet." : m ? "No windows for " + esc(current) + " yet." : "Loading " + esc(current) + "…") + "</div>";
        return;
      }
      var strikeSet = {}, timeSet = {}, maxVol = 0;
      cells = [];
      m.forEach(function (w) {
        strikeSet[w.strike] = true; timeSet[w.windowStart] = true;
        var v = volumeOf(w); if (v > maxVol) maxVol = v;
        cells.push(w);
      });
      var strikes = Object.keys(strikeSet).map(Number).sort(function (a, b) { return b - a; });
      var seenTimes = Object.keys(timeSet).map(Number).sort(function (a, b) { return a - b; });
      // Every 5-minute column from the first window to the last, so a quiet stretch shows as a gap, not as nothing.
      var times = [];
      for (var t = seenTimes[0]; t <= seenTimes[seenTimes.length - 1] && times.length < 2000; t += 300000) times.push(t);
      if (times.length >= 2000) times = seenTimes;
      var row = {}, col = {};
      strikes.forEach(function (s, i) { row[s] = i; });
      times.forEach(function (t, i) { col[t] = i; });
      var avail = Math.max(300, (heat.parentElement.clientWidth || 1000) - 150);
      var cw = Math.max(4, Math.min(22, Math.floor(avail / 2 / Math.max(1, times.length))));
      var ch = Math.max(8, Math.min(22, Math.floor(((heat.parentElement.clientHeight || 700) - 80) / Math.max(1, strikes.length))));
      var labelW = 54, gap = 16, top = 20;
      var panelW = cw * times.length;
      var x0 = { C: labelW, P: labelW + panelW + gap };
      var width = labelW * 2 + panelW * 2 + gap, height = top + ch * strikes.length + 24;
      var logMax = Math.log1p(maxVol);
      var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + width + "\" height=\"" + height + "\">"];
      out.push("<text class=\"title\" x=\"" + x0.C + "\" y=\"13\">CALLS</text>");
      out.push("<text class=\"title\" x=\"" + x0.P + "\" y=\"13\">PUTS</text>");
      var every = Math.max(1, Math.ceil(14 / ch));
      for (var i = 0; i < strikes.length; i += every) {
        var y = top + i * ch + ch / 2 + 3.5;
        out.push("<text x=\"" + (labelW - 5) + "\" y=\"" + y + "\" text-anchor=\"end\">" + strikes[i] + "</text>");
        out.push("<text x=\"" + (x0.P + panelW + 5) + "\" y=\"" + y + "\">" + strikes[i] + "</text>");
      }
      // Time labels on round New York times (every 15, 30, 60 or 120 minutes, whichever fits), a faint line each hour.
      var step = [15, 30, 60, 120, 240].filter(function (m) { return (m / 5) * cw >= 40; })[0] || 240;
      var bottom = top + ch * strikes.length;
      for (var j = 0; j < times.length; j++) {
        var label = clock(times[j]);
        var minute = Number(label.slice(0, 2)) * 60 + Number(label.slice(3, 5));
        for (var side in x0) {
          var x = x0[side] + j * cw;
          if (minute % 60 === 0) out.push("<line x1=\"" + (x - 0.5) + "\" x2=\"" + (x - 0.5) + "\" y1=\"" + top + "\" y2=\"" + bottom + "\" stroke=\"#2a313c\"/>");
          if (minute % step === 0 && j * cw >= 14 && j * cw <= panelW - 14) out.push("<text text-anchor=\"middle\" x=\"" + x + "\" y=\"" + (bottom + 14) + "\">" + label + "</text>");
        }
      }
      for (var k = 0; k < cells.length; k++) {
        var w = cells[k];
        var op = logMax > 0 ? 0.12 + 0.88 * Math.log1p(volumeOf(w)) / logMax : 0.12;
        out.push("<rect class=\"cell\" data-i=\"" + k + "\" data-type=\"" + w.optionType + "\" data-strike=\"" + w.strike +
          "\" data-window=\"" + w.windowStart + "\" x=\"" + (x0[w.optionType] + col[w.windowStart] * cw) + "\" y=\"" +
          (top + row[w.strike] * ch) + "\" width=\"" + Math.max(1, cw - 1) + "\" height=\"" + Math.max(1, ch - 1) +
          "\" fill=\"" + colour(logPressure(w)) + "\" fill-opacity=\"" + op.toFixed(3) + "\"/>");
      }
      drawUnderlying(out, underlyingOf[current], strikes, times, x0, cw, ch, top);
      // Reported signals of this expiration outlined on their cells; the one picked in the feed stands out.
      for (var q = 0; q < signals.length; q++) {
        var sg = signals[q];
        if (sg.expiration !== current || row[sg.strike] === undefined || col[sg.windowStart] === undefined) continue;
        var focused = signalKey(sg) === focus;
        out.push("<rect class=\"mark" + (focused ? " focus" : "") + "\" data-key=\"" + esc(signalKey(sg)) + "\" x=\"" +
          (x0[sg.optionType] + col[sg.windowStart] * cw - 1) + "\" y=\"" + (top + row[sg.strike] * ch - 1) + "\" width=\"" +
          (cw + 1) + "\" height=\"" + (ch + 1) + "\"/>");
      }
      out.push("</svg>");
      heat.innerHTML = out.join("");
    }

    /**
     * The underlying as a line across each panel: at a window's column centre, at its height on the strike axis
     * (linear between the two strike rows around it). A window without an underlying, or outside the strikes shown,
     * breaks the line; one polyline per unbroken run.
     */
    function drawUnderlying(out, points, strikes, times, x0, cw, ch, top) {
      if (!points || points.size === 0) return;
      var cellW = Math.max(1, cw - 1), cellH = Math.max(1, ch - 1);
      function rowMid(i) { return top + i * ch + cellH / 2; }
      function yOf(u) {
        var last = strikes.length - 1;
        if (!(u <= strikes[0] && u >= strikes[last])) return null;
        var i = 0;
        while (i < last && strikes[i + 1] >= u) i++;
        return i === last ? rowMid(i) : rowMid(i) + (strikes[i] - u) / (strikes[i] - strikes[i + 1]) * ch;
      }
      var ys = [], latest = -1;
      for (var j = 0; j < times.length; j++) {
        var p = points.get(times[j]);
        var u = p && typeof p.underlying === "number" ? p.underlying : null;
        ys.push(u === null ? null : yOf(u));
        if (u !== null) latest = j;
      }
      if (latest < 0) return;
      var value = points.get(times[latest]).underlying;
      for (var side in x0) {
        var run = [];
        for (var k = 0; k <= ys.length; k++) {
          if (k < ys.length && ys[k] !== null) { run.push((x0[side] + k * cw + cellW / 2).toFixed(2) + "," + ys[k].toFixed(2)); continue; }
          if (run.length > 0) out.push("<polyline class=\"underlying\" data-type=\"" + side + "\" points=\"" + run.join(" ") + "\"/>");
          run = [];
        }
        // The label sits at the latest window's underlying, or on the edge it lies beyond when off the strikes shown.
        var y = ys[latest], mark = "";
        if (y === null) {
          mark = value > strikes[0] ? " ▲" : " ▼";
          y = value > strikes[0] ? rowMid(0) : rowMid(strikes.length - 1);
        }
        var x = x0[side] + latest * cw + cellW / 2, left = latest * cw < 90;
        out.push("<text class=\"underlying\" data-type=\"" + side + "\" x=\"" + (left ? x + 4 : x - 4) + "\" y=\"" + (y - 4).toFixed(2) +
          "\"" + (left ? "" : " text-anchor=\"end\"") + ">ATM " + n0.format(value) + mark + "</text>");
      }
    }

    heat.addEventListener("mousemove", function (ev) {
      var i = ev.target && ev.target.getAttribute ? ev.target.getAttribute("data-i") : null;
      var w = i === null ? undefined : cells[Number(i)];
      if (!w) { tip.style.display = "none"; return; }
      var ratio = w.pressureRatio === null ? (w.askVolume > 0 ? "∞ (no bid volume)" : "– (no sided volume)") : num(w.pressureRatio);
      tip.textContent = current + " " + w.strike + " " + (w.optionType === "C" ? "call" : "put") + "\n" +
        clock(w.windowStart) + "–" + clock(w.windowStart + 300000) + " New York\n" +
        "ask (buy) vol  " + n0.format(w.askVolume) + "\n" +
        "bid (sell) vol " + n0.format(w.bidVolume) + "\n" +
        "unknown vol    " + n0.format(w.unknownVolume) + "\n" +
        "ask/bid ratio  " + ratio + "\n" +
        "trades         " + n0.format(w.totalTrades) + "  avg " + num(w.avgTradeSize) + "  max " + n0.format(w.maxTradeSize) + "\n" +
        "premium        " + money(w.premium) + underlyingLine(w.windowStart);
      tip.style.display = "block";
      var x = ev.clientX + 14, y = ev.clientY + 14;
      if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 10;
      if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 10;
      tip.style.left = x + "px"; tip.style.top = y + "px";
    });
    function underlyingLine(windowStart) {
      var p = underlyingOf[current] ? underlyingOf[current].get(windowStart) : undefined;
      return p && typeof p.underlying === "number" ? "\nunderlying     " + nf.format(p.underlying) + " (" + p.method + ")" : "";
    }
    heat.addEventListener("mouseleave", function () { tip.style.display = "none"; });

    function signalHtml(s, fresh) {
      var conf = typeof s.confidence === "number" ? Math.round(s.confidence * 100) + "%" : "–";
      var net = function (x) { return (x > 0 ? "+" : "") + n0.format(x); };
      return "<li class=\"signal" + (fresh ? " fresh" : "") + (signalKey(s) === focus ? " focus" : "") + "\" data-key=\"" + esc(signalKey(s)) + "\">" +
        "<div class=\"head\"><span class=\"time\">" + clock(s.windowStart) + "</span>" +
        "<span class=\"inst\">" + esc(s.expiration) + " " + s.strike + " " + (s.optionType === "C" ? "C" : "P") + "</span>" +
        "<span class=\"dir " + esc(s.direction || "") + "\">" + esc(s.direction || "?") + "</span>" +
        "<span>" + esc(s.bias || "") + "</span>" +
        "<span class=\"conf\">" + conf + "</span>" +
        "<span class=\"tier " + esc(s.tier || "") + "\">" + esc(s.tier || "–") + "</span>" +
        "<span class=\"conf\">score " + num(s.score) + "</span></div>" +
        "<div class=\"feat\">vol " + n0.format(s.buyVolume) + " buy / " + n0.format(s.sellVolume) + " sell · " +
        n0.format(s.trades) + " trades avg " + num(s.avgSize) + "</div>" +
        "<div class=\"feat\">sweeps " + s.sweeps + " (" + net(s.sweepNet) + ") · large " + s.largePrints + " (" + net(s.largeNet) + ")" +
        " · prem " + money(s.buyPremium) + "/" + money(s.sellPremium) + " · C/P " + num(s.callPutPremiumRatio) + "</div>" +
        "<div class=\"feat\">z vol " + num(s.zVolume) + " ratio " + num(s.zRatio) + " · otm " + num(s.otm) +
        " · mm " + num(s.mmBalance) + " · n " + s.baselineN + (s.lowSample ? " (low sample)" : "") + "</div></li>";
    }

    function drawFeed(freshKeys) {
      if (signals.length === 0) { feed.innerHTML = "<li class=\"none\">No signals reported" + (options.live ? " yet." : ".") + "</li>"; return; }
      var out = [];
      for (var i = 0; i < signals.length; i++) out.push(signalHtml(signals[i], freshKeys && freshKeys[signalKey(signals[i])]));
      feed.innerHTML = out.join("");
      schedule();
    }
    // Picking a signal shows its expiration and outlines its cell.
    feed.addEventListener("click", function (ev) {
      var li = ev.target && ev.target.closest ? ev.target.closest("li.signal") : null;
      if (!li) return;
      var k = li.getAttribute("data-key");
      var sg = signals.filter(function (x) { return signalKey(x) === k; })[0];
      if (!sg) return;
      focus = focus === k ? null : k;
      var items = feed.querySelectorAll("li.signal");
      for (var i = 0; i < items.length; i++) items[i].classList.toggle("focus", items[i].getAttribute("data-key") === focus);
      if (sg.expiration !== current && summaries[sg.expiration]) {
        current = sg.expiration;
        track(current);
        fillSelect();
        onSelect(current);
      }
      schedule();
    });
    function order(a, b) { return b.windowStart - a.windowStart; }
    function setSignals(list) {
      signals = []; seen = {};
      for (var i = 0; i < list.length; i++) {
        var k = signalKey(list[i]);
        if (!seen[k]) { seen[k] = true; signals.push(list[i]); }
      }
      signals.sort(order);
      drawFeed(null);
    }
    function addSignals(list) {
      var fresh = {};
      for (var i = 0; i < list.length; i++) {
        var k = signalKey(list[i]);
        fresh[k] = true;
        if (seen[k]) signals = signals.filter(function (s) { return signalKey(s) !== k; });
        seen[k] = true;
        signals.push(list[i]);
      }
      signals.sort(order);
      if (signals.length > 1000) signals.length = 1000;
      drawFeed(fresh);
    }

    function setStatusRows(rows) {
      var out = [];
      for (var i = 0; i < rows.length; i++) {
        out.push("<dt>" + esc(rows[i][0]) + "</dt><dd" + (rows[i][2] ? " class=\"" + rows[i][2] + "\"" : "") + ">" + esc(rows[i][1]) + "</dd>");
      }
      statusEl.innerHTML = out.join("");
    }

    /** The state panel from a /status snapshot; feedState is the page's own server-sent-events connection. */
    function setStatus(s, feedState) {
      var rows = [];
      var state = s.stopping ? "stopping" : s.finished ? "finished" : s.paused ? "paused" : "running";
      rows.push(["dashboard feed", feedState || "–", feedState === "connected" ? "ok" : "bad"]);
      rows.push(["source", s.source + " · " + state, s.paused || s.stopping ? "warn" : ""]);
      if (s.manager && s.manager.phase) rows.push(["phase", s.manager.phase, s.manager.phase === "Streaming" ? "ok" : "warn"]);
      if (s.live) {
        var lag = typeof s.live.lagMs === "number" ? num(s.live.lagMs / 1000) + " s" : "–";
        rows.push(["gateway", (s.live.connected ? "connected" : "disconnected") + " · " + (s.live.state || "?"), s.live.connected ? "ok" : "bad"]);
        rows.push(["lag", lag, typeof s.live.lagMs === "number" && s.live.lagMs > 5000 ? "warn" : ""]);
        rows.push(["reconnects", num(s.live.reconnects), ""]);
      } else {
        rows.push(["gateway", "not live (" + s.source + ")", ""]);
      }
      var p = s.pipeline;
      rows.push(["records/s", num(p.recordsPerSecond), ""]);
      rows.push(["records", n0.format(p.records), ""]);
      rows.push(["last event", p.lastEventTime ? hms.format(new Date(p.lastEventTime)) + " NY" : "–", ""]);
      rows.push(["windows", n0.format(p.windowsStored) + " stored" + (p.openWindows === null ? "" : " · " + n0.format(p.openWindows) + " open"), ""]);
      rows.push(["signals", n0.format(p.signalsReported) + " reported", ""]);
      if (s.budget) {
        var b = s.budget;
        rows.push(["budget spent", money(b.spentUsd) + (typeof b.limitUsd === "number" ? " of " + money(b.limitUsd) : ""), b.exhausted ? "bad" : ""]);
        rows.push(["budget left", money(b.remainingUsd), b.exhausted ? "bad" : ""]);
      } else {
        rows.push(["budget", "not metered", ""]);
      }
      if (s.market) {
        rows.push(["market", s.market.open ? "open" : "closed" + (s.market.nextOpen ? " · opens " + s.market.nextOpen : ""), s.market.open ? "ok" : "warn"]);
      } else {
        rows.push(["market", "no gate (" + s.source + ")", ""]);
      }
      setStatusRows(rows);
    }

    return {
      setExpirations: setExpirations, setWindows: setWindows, addWindows: addWindows, setUnderlying: setUnderlying,
      setSignals: setSignals, addSignals: addSignals, setStatus: setStatus, setStatusRows: setStatusRows,
      current: function () { return current; },
      select: function (e) { current = e; fillSelect(); schedule(); },
      cellCount: function () { return heat.querySelectorAll("rect.cell").length; }
    };
  }

  window.IFD = { create: create, expand: expand, expandUnderlying: expandUnderlying, logPressure: logPressure, clock: clock };
})();
`

/** Escapes JSON for an inline `<script type="application/json">`: no `</script>` or `<!--` can appear. */
export const inlineJson = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")

/** A whole HTML document around the shared body. */
export const document = (title: string, bootstrap: string, extraHead = ""): string =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
${extraHead}
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
<script>${bootstrap}</script>
</body>
</html>
`
