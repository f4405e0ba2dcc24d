/**
 * The static report: the dashboard's views over stored data in one self-contained HTML file, the data inlined as
 * JSON (windows and underlying compacted to rows) and drawn by the same script as the live page. Issue 7 (dashboard).
 */
import type { PressureWindow } from "../flow/PressureWindow.js"
import type { WindowSignal } from "../flow/Signals.js"
import type { UnderlyingPoint } from "../store/DashboardRepo.js"
import * as Render from "./Render.js"

export interface ReportData {
  /** UTC day, YYYY-MM-DD. */
  readonly day: string
  /** ISO 8601 wall time of the report. */
  readonly generatedAt: string
  /** Where the data came from (shown in the header). */
  readonly source: string
  readonly expirations: ReadonlyArray<{ readonly expiration: string; readonly windows: number; readonly volume: number }>
  /** Every window of the day for the listed expirations. */
  readonly windows: ReadonlyArray<PressureWindow>
  /** The underlying of each window of the day for the listed expirations (the at-the-money line). */
  readonly underlying: ReadonlyArray<UnderlyingPoint>
  /** Reported signals, newest first. */
  readonly signals: ReadonlyArray<WindowSignal>
  /** Expiration shown first (default: the most traded). */
  readonly expiration?: string | undefined
}

/** Rows as `{ expirations, rows }`, each expiration name replaced by its index in `expirations`. */
const compact = <A extends { readonly expiration: string }>(
  items: ReadonlyArray<A>,
  row: (a: A, expiration: number) => ReadonlyArray<unknown>
) => {
  const expirations: Array<string> = []
  const index = new Map<string, number>()
  const rows = items.map((a) => {
    let e = index.get(a.expiration)
    if (e === undefined) {
      e = expirations.length
      expirations.push(a.expiration)
      index.set(a.expiration, e)
    }
    return row(a, e)
  })
  return { expirations, rows }
}

/** Windows as `{ expirations, rows }`, each row `Render.WINDOW_COLUMNS` with the expiration as an index. */
export const compactWindows = (windows: ReadonlyArray<PressureWindow>) =>
  compact(windows, (w, e) => [
    w.windowStart, e, w.strike, w.optionType, w.bidVolume, w.askVolume, w.unknownVolume, w.totalTrades, w.premium,
    w.maxTradeSize
  ])

/** Underlying points as `{ expirations, rows }`, each row `Render.UNDERLYING_COLUMNS` with the expiration as an index. */
export const compactUnderlying = (points: ReadonlyArray<UnderlyingPoint>) =>
  compact(points, (u, e) => [u.windowStart, e, u.underlying, u.method])

const BOOTSTRAP = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ifd-data").textContent);
  var dash = IFD.create({ live: false });
  var windows = IFD.expand(data.windows);
  document.getElementById("day").textContent = "day " + data.day + " (UTC) · times New York";
  document.getElementById("status-title").textContent = "Report";
  dash.setExpirations(data.expirations);
  if (data.expiration) dash.select(data.expiration);
  var groups = {};
  for (var i = 0; i < windows.length; i++) (groups[windows[i].expiration] = groups[windows[i].expiration] || []).push(windows[i]);
  for (var e in groups) dash.setWindows(e, groups[e]);
  dash.setUnderlying(IFD.expandUnderlying(data.underlying));
  dash.setSignals(data.signals);
  var volume = 0;
  for (var j = 0; j < windows.length; j++) volume += windows[j].bidVolume + windows[j].askVolume + windows[j].unknownVolume;
  dash.setStatusRows([
    ["kind", "static report", ""],
    ["source", data.source, ""],
    ["day", data.day + " (UTC)", ""],
    ["generated", data.generatedAt, ""],
    ["expirations", String(data.expirations.length), ""],
    ["windows", windows.length.toLocaleString("en-US"), ""],
    ["volume", volume.toLocaleString("en-US") + " lots", ""],
    ["signals", data.signals.length + " reported", ""]
  ]);
  document.body.setAttribute("data-ready", "1");
})();
`

/** The report as one HTML document. */
export const html = (data: ReportData): string =>
  Render.document(
    `ifd-stream report ${data.day}`,
    BOOTSTRAP,
    `<script type="application/json" id="ifd-data">${
      Render.inlineJson({
        day: data.day,
        generatedAt: data.generatedAt,
        source: data.source,
        expirations: data.expirations,
        expiration: data.expiration ?? null,
        windows: compactWindows(data.windows),
        underlying: compactUnderlying(data.underlying),
        signals: data.signals
      })
    }</script>`
  )
