/** Shared pieces of the dashboard tests: a seeded SQLite file, headless Chromium, a signal and a window. */
import { NodeContext } from "@effect/platform-node"
import { assert } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import * as Pipeline from "../../src/app/Pipeline.js"
import { writeSimFile } from "../../src/app/Replay.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import * as ReplaySource from "../../src/source/ReplaySource.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { makeTempDir } from "../support/TempDir.js"

export { buyOnlyWindow, signal } from "../support/Dashboard.js"

/** Debian's chromium; playwright-core never downloads a browser here. */
export const CHROMIUM = "/usr/bin/chromium"

export const launch = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })

/** A small simulated session (two expirations × ten strikes) replayed into a SQLite file; returns its windows. */
export const seed = (dir: string) =>
  Effect.gen(function*() {
    const file = path.join(dir, "session.dbn")
    const db = path.join(dir, "ifd.sqlite")
    yield* writeSimFile(file, { seed: 17, expirations: 2, strikesPerExpiration: 10, targetRecords: 80_000, collectTrades: false })
    yield* Pipeline.run({}).pipe(
      Effect.provide(Layer.merge(ReplaySource.layerFiles([file]), Store.layer({ filename: db })))
    )
    fs.rmSync(file)
    const windows = yield* Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(Store.layer({ filename: db })))
    return { db, windows }
  }).pipe(Effect.provide(NodeContext.layer))

/** Distinct (option type, strike, window start) cells of an expiration: what the heatmap must draw. */
export const cellsOf = (windows: ReadonlyArray<PressureWindow>, expiration: string): number =>
  new Set(windows.filter((w) => w.expiration === expiration).map((w) => `${w.optionType}|${w.strike}|${w.windowStart}`)).size

/** The expiration with the most volume (the page's default). */
export const busiest = (windows: ReadonlyArray<PressureWindow>): string => {
  const volume = new Map<string, number>()
  for (const w of windows) {
    volume.set(w.expiration, (volume.get(w.expiration) ?? 0) + w.bidVolume + w.askVolume + w.unknownVolume)
  }
  return [...volume].sort((a, b) => b[1] - a[1])[0]![0]
}

/** Fails on any script error the page reports. */
export const watchErrors = (page: Page): Array<string> => {
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(String(e)))
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text())
  })
  return errors
}

export const isPng = (file: string): boolean => {
  const bytes = fs.readFileSync(file)
  return bytes.length > 1000 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
}

/** A seeded database in a fresh directory and a browser: what each dashboard test file opens before its tests. */
export const openSeeded = async () => {
  const dir = makeTempDir()
  const seeded = await Effect.runPromise(seed(dir))
  return { dir, db: seeded.db, windows: seeded.windows, browser: await launch() }
}

export const closeSeeded = async (opened: { readonly dir?: string; readonly browser?: Browser }) => {
  await opened.browser?.close()
  if (opened.dir !== undefined) fs.rmSync(opened.dir, { recursive: true, force: true })
}

/** What the heatmap draws, read back from its SVG: cell rectangles and the underlying polylines of each panel. */
export interface HeatmapGeometry {
  readonly cells: ReadonlyArray<{ type: string; strike: number; window: number; x: number; y: number; w: number; h: number }>
  readonly lines: ReadonlyArray<{ type: string; points: ReadonlyArray<readonly [number, number]> }>
  readonly labels: ReadonlyArray<{ type: string; text: string }>
}

// A string, as the tests compile without the DOM library.
export const heatmapGeometry = (page: Page): Promise<HeatmapGeometry> =>
  page.evaluate(`(() => {
    const num = (e, name) => Number(e.getAttribute(name))
    const all = (selector) => [...document.querySelectorAll(selector)]
    return {
      cells: all("#heatmap rect.cell").map((e) => ({
        type: e.getAttribute("data-type"), strike: num(e, "data-strike"), window: num(e, "data-window"),
        x: num(e, "x"), y: num(e, "y"), w: num(e, "width"), h: num(e, "height")
      })),
      lines: all("#heatmap polyline.underlying").map((e) => ({
        type: e.getAttribute("data-type"),
        points: e.getAttribute("points").trim().split(/\\s+/).map((p) => p.split(",").map(Number))
      })),
      labels: all("#heatmap text.underlying").map((e) => ({ type: e.getAttribute("data-type"), text: e.textContent }))
    }
  })()`)

/**
 * Where the line must pass in a panel, from the drawn cells alone: for each window column with an underlying within
 * the strikes shown, the column's centre and the height between the centres of the two strike rows around it.
 */
export const expectedLine = (
  geometry: HeatmapGeometry,
  type: "C" | "P",
  underlying: ReadonlyArray<{ readonly windowStart: number; readonly underlying: number | null }>
): Array<readonly [number, number]> => {
  const rowMid = new Map<number, number>()
  for (const c of geometry.cells) rowMid.set(c.strike, c.y + c.h / 2)
  const strikes = [...rowMid.keys()].sort((a, b) => a - b)
  // Columns are consecutive 5-minute windows: the first and last cells of the panel give the origin and the stride,
  // so a window with no cell in this panel still has its column.
  const panel = geometry.cells.filter((c) => c.type === type).sort((a, b) => a.window - b.window)
  const first = panel[0]!, last = panel.at(-1)!
  const stride = last.window === first.window ? 0 : (last.x - first.x) / ((last.window - first.window) / 300_000)
  const columns = new Set(geometry.cells.map((c) => c.window))
  const lastColumn = Math.max(...columns)
  const out: Array<readonly [number, number]> = []
  for (const u of underlying) {
    if (u.underlying === null || u.windowStart < Math.min(...columns) || u.windowStart > lastColumn) continue
    const x = first.x + first.w / 2 + (u.windowStart - first.window) / 300_000 * stride
    const v = u.underlying
    const below = strikes.filter((s) => s <= v).at(-1)
    const above = strikes.find((s) => s >= v)
    if (below === undefined || above === undefined) continue
    const y = above === below
      ? rowMid.get(above)!
      : rowMid.get(above)! + (above - v) / (above - below) * (rowMid.get(below)! - rowMid.get(above)!)
    out.push([x, y])
  }
  return out.sort((a, b) => a[0] - b[0])
}

/** Asserts the panel's polylines pass through exactly the expected points (to the 0.01 px the page writes). */
export const assertLine = (geometry: HeatmapGeometry, type: "C" | "P", expected: ReadonlyArray<readonly [number, number]>) => {
  const drawn = geometry.lines.filter((l) => l.type === type).flatMap((l) => l.points).sort((a, b) => a[0] - b[0])
  assert.strictEqual(drawn.length, expected.length, `${type}: points drawn`)
  drawn.forEach((p, i) => {
    const [x, y] = expected[i]!
    assert.closeTo(p[0], x, 0.01, `${type}: x of point ${i}`)
    assert.closeTo(p[1], y, 0.01, `${type}: y of point ${i}`)
  })
}
