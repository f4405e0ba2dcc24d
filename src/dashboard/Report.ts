/**
 * The static report: the dashboard's views over stored data in one self-contained HTML file, the data inlined as
 * JSON (windows compacted to rows) and drawn by the same script as the live page. Issue 7 (dashboard).
 */
import type { PressureWindow } from "../flow/PressureWindow.js"
import type { WindowSignal } from "../flow/Signals.js"
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
  /** Reported signals, newest first. */
  readonly signals: ReadonlyArray<WindowSignal>
  /** Expiration shown first (default: the most traded). */
  readonly expiration?: string | undefined
}

/** Windows as `{ expirations, rows }`, each row `Render.WINDOW_COLUMNS` with the expiration as an index. */
export const compactWindows = (windows: ReadonlyArray<PressureWindow>) => {
  const expirations: Array<string> = []
  const index = new Map<string, number>()
  const rows = windows.map((w) => {
    let e = index.get(w.expiration)
    if (e === undefined) {
      e = expirations.length
      expirations.push(w.expiration)
      index.set(w.expiration, e)
    }
    return [w.windowStart, e, w.strike, w.optionType, w.bidVolume, w.askVolume, w.unknownVolume, w.totalTrades, w.premium, w.maxTradeSize]
  })
  return { expirations, rows }
}

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
        signals: data.signals
      })
    }</script>`
  )
