import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser } from "playwright-core"
import * as Control from "../../src/app/Control.js"
import { StreamStatus } from "../../src/app/Status.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import type { UnderlyingPoint } from "../../src/store/DashboardRepo.js"
import { SignalsRepo } from "../../src/store/SignalsRepo.js"
import * as Store from "../../src/store/Store.js"
import {
  assertLine,
  busiest,
  buyOnlyWindow,
  cellsOf,
  closeSeeded,
  expectedLine,
  heatmapGeometry,
  isPng,
  openSeeded,
  signal,
  watchErrors
} from "./Support.js"

let dir: string
let db: string
let windows: ReadonlyArray<PressureWindow>
let browser: Browser

beforeAll(async () => {
  ;({ dir, db, windows, browser } = await openSeeded())
})

afterAll(() => closeSeeded({ dir, browser }))

/** The control server over the seeded database, with a fresh StreamStatus. */
const serve = Effect.gen(function*() {
  const context = yield* Layer.build(Layer.merge(StreamStatus.Default, Store.layer({ filename: db })))
  const status = Context.get(context, StreamStatus)
  const address = yield* Control.make({ ...Control.defaults, port: 0, token: Option.none() }).pipe(Effect.provide(context))
  return { status, context, base: `http://127.0.0.1:${address.port}` }
})

const openPage = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
      const errors = watchErrors(page)
      await page.goto(url)
      await page.waitForSelector("body[data-ready='1'][data-sse='open']")
      return { page, errors }
    }),
    ({ page }) => Effect.promise(() => page.close())
  )

describe("live dashboard", () => {
  it.scoped("draws one heatmap cell per (type, strike, window) of the chosen expiration from SQLite", () =>
    Effect.gen(function*() {
      const { base } = yield* serve
      const { page, errors } = yield* openPage(`${base}/`)
      const expiration = yield* Effect.promise(() => page.$eval("#expiration", (e) => (e as unknown as { value: string }).value))
      assert.strictEqual(expiration, busiest(windows))
      const expected = cellsOf(windows, expiration)
      assert.isAbove(expected, 50)
      assert.strictEqual(yield* Effect.promise(() => page.locator("#heatmap rect.cell").count()), expected)
      const calls = yield* Effect.promise(() => page.locator("#heatmap rect.cell[data-type='C']").count())
      assert.strictEqual(calls, cellsOf(windows.filter((w) => w.optionType === "C"), expiration))

      // Choosing the other expiration loads and draws its windows.
      const other = [...new Set(windows.map((w) => w.expiration))].find((e) => e !== expiration)!
      yield* Effect.promise(() => page.selectOption("#expiration", other))
      yield* Effect.promise(() =>
        page.waitForFunction(`document.querySelectorAll("#heatmap rect.cell").length === ${cellsOf(windows, other)}`)
      )
      assert.deepStrictEqual(errors, [])

      // "?day=" names a stored day (the same cells) or one without data (none, and says which day it shows).
      const day = new Date(windows[0]!.windowStart).toISOString().slice(0, 10)
      const named = yield* openPage(`${base}/?day=${day}`)
      assert.strictEqual(yield* Effect.promise(() => named.page.locator("#heatmap rect.cell").count()), expected)
      const empty = yield* openPage(`${base}/?day=2020-01-02`)
      assert.strictEqual(yield* Effect.promise(() => empty.page.locator("#heatmap rect.cell").count()), 0)
      assert.include(yield* Effect.promise(() => empty.page.locator("#day").innerText()), "2020-01-02")
      assert.deepStrictEqual([...named.errors, ...empty.errors], [])
    }))

  it.scoped("shows a new signal and a new window cell without a reload, with the stream state", () =>
    Effect.gen(function*() {
      const { base, status } = yield* serve
      const { page, errors } = yield* openPage(`${base}/`)
      const expiration = busiest(windows)
      const before = cellsOf(windows, expiration)
      const last = Math.max(...windows.map((w) => w.windowStart))
      yield* Effect.promise(() => page.evaluate("window.marker = 42"))

      const anchor = windows.filter((w) => w.expiration === expiration && w.optionType === "C").at(-1)!
      const s = signal({
        windowStart: anchor.windowStart,
        expiration,
        strike: anchor.strike,
        direction: "SELL",
        bias: "BEARISH",
        tier: "high",
        confidence: 0.8
      })
      yield* status.onSignals([s])
      const key = `${s.windowStart}|${s.expiration}|${s.strike}|${s.optionType}`
      const item = page.locator(`#feed li.signal[data-key='${key}']`)
      yield* Effect.promise(() => item.waitFor())
      const text = (yield* Effect.promise(() => item.textContent())) ?? ""
      for (const part of ["SELL", "BEARISH", "80%", "high", "sweeps 3"]) assert.include(text, part)
      assert.strictEqual(yield* Effect.promise(() => page.locator("#feed li.signal").first().getAttribute("data-key")), key)
      // Its cell is outlined on the heatmap, and picking it in the feed brings the outline forward.
      yield* Effect.promise(() => page.locator(`#heatmap rect.mark[data-key='${key}']`).waitFor({ state: "attached" }))
      yield* Effect.promise(() => item.click())
      yield* Effect.promise(() => page.locator(`#heatmap rect.mark.focus[data-key='${key}']`).waitFor({ state: "attached" }))

      // A closed window with no bid volume (pressure ratio null) is drawn as full buy pressure.
      const w = buyOnlyWindow(last + 300_000, expiration, 21_500)
      yield* status.onWindows([w])
      const cell = page.locator(`#heatmap rect.cell[data-type='P'][data-strike='21500'][data-window='${w.windowStart}']`)
      yield* Effect.promise(() => cell.waitFor({ state: "attached" }))
      assert.strictEqual(yield* Effect.promise(() => page.locator("#heatmap rect.cell").count()), before + 1)
      assert.strictEqual(yield* Effect.promise(() => cell.getAttribute("fill")), "rgb(34,197,94)")

      // Status snapshots arrive over the same event stream.
      yield* Effect.promise(() => page.waitForFunction(`document.querySelector("#status").textContent.includes("records/s")`))
      const panel = yield* Effect.promise(() => page.locator("#status").innerText())
      for (const part of ["connected", "records/s", "budget", "market"]) assert.include(panel, part)

      // Same document throughout: no reload happened.
      assert.strictEqual(yield* Effect.promise(() => page.evaluate("window.marker")), 42)

      const png = path.join(dir, "dashboard.png")
      yield* Effect.promise(() => page.screenshot({ path: png, fullPage: true }))
      assert.isTrue(isPng(png))
      // IFD_SCREENSHOT_DIR keeps the screenshot for a human look.
      const keep = process.env["IFD_SCREENSHOT_DIR"]
      if (keep !== undefined) fs.copyFileSync(png, path.join(keep, "dashboard.png"))
      assert.deepStrictEqual(errors, [])
    }))

  it.scoped("draws the underlying in both panels at its height between the strike rows around it", () =>
    Effect.gen(function*() {
      const { base } = yield* serve
      const { page, errors } = yield* openPage(`${base}/`)
      const expiration = busiest(windows)
      const r = yield* Effect.promise(() =>
        fetch(`${base}/api/underlying?expiration=${expiration}`).then((r) => r.json() as Promise<{ underlying: Array<UnderlyingPoint> }>)
      )
      // One row per window of the expiration, whatever its number of strikes.
      assert.strictEqual(r.underlying.length, new Set(windows.filter((w) => w.expiration === expiration).map((w) => w.windowStart)).size)
      yield* Effect.promise(() => page.locator("#heatmap polyline.underlying").first().waitFor({ state: "attached" }))
      const geometry = yield* Effect.promise(() => heatmapGeometry(page))
      for (const type of ["C", "P"] as const) {
        const expected = expectedLine(geometry, type, r.underlying)
        assert.isAbove(expected.length, 50)
        assertLine(geometry, type, expected)
      }
      // Labelled with the latest underlying.
      const latest = r.underlying.filter((u) => u.underlying !== null).at(-1)!.underlying!
      const label = `ATM ${Math.round(latest).toLocaleString("en-US")}`
      assert.deepStrictEqual(geometry.labels.map((l) => [l.type, l.text]), [["C", label], ["P", label]])

      // A cell under the line keeps its tooltip, which also gives the window's underlying.
      const [px, py] = geometry.lines[0]!.points.find(([x, y]) =>
        geometry.cells.some((c) => x > c.x + 1 && x < c.x + c.w - 1 && y > c.y + 1 && y < c.y + c.h - 1)
      )!
      const origin = yield* Effect.promise(() =>
        page.evaluate<[number, number]>(
          `(() => { const r = document.querySelector("#heatmap svg").getBoundingClientRect(); return [r.left, r.top] })()`
        )
      )
      yield* Effect.promise(() => page.mouse.move(origin[0] + px, origin[1] + py))
      const tip = page.locator("#tip")
      yield* Effect.promise(() => tip.waitFor({ state: "visible" }))
      assert.match((yield* Effect.promise(() => tip.textContent())) ?? "", /underlying +[\d,.]+ \(parity\)/)
      assert.deepStrictEqual(errors, [])
    }))

  it.scoped("extends the underlying line to a window that arrives over the event stream", () =>
    Effect.gen(function*() {
      const { base, status, context } = yield* serve
      const { page, errors } = yield* openPage(`${base}/`)
      const expiration = busiest(windows)
      const last = Math.max(...windows.map((w) => w.windowStart))
      const w = { ...buyOnlyWindow(last + 300_000, expiration, 21_500), optionType: "C" as const }
      // The pipeline commits a window's signals before it publishes the window; halfway between two strike rows.
      const s = signal({ windowStart: w.windowStart, expiration, strike: 21_500, underlying: 21_525, reported: false })
      const sql = Context.get(context, SqlClient.SqlClient)
      yield* Effect.addFinalizer(() => Effect.orDie(sql`DELETE FROM signals WHERE window_start = ${w.windowStart}`))
      yield* Context.get(context, SignalsRepo).insert([s])
      const before = (yield* Effect.promise(() => heatmapGeometry(page))).lines
        .filter((l) => l.type === "C").reduce((n, l) => n + l.points.length, 0)

      yield* status.onWindows([w])
      yield* Effect.promise(() => page.waitForFunction(`[...document.querySelectorAll("#heatmap polyline.underlying[data-type='C']")]
        .reduce((n, l) => n + l.points.numberOfItems, 0) === ${before + 1}`))
      const geometry = yield* Effect.promise(() => heatmapGeometry(page))
      const [expected] = expectedLine(geometry, "C", [{ windowStart: w.windowStart, underlying: 21_525 }])
      const mid = (strike: number) => {
        const c = geometry.cells.find((c) => c.strike === strike)!
        return c.y + c.h / 2
      }
      assert.closeTo(expected![1], (mid(21_500) + mid(21_550)) / 2, 1e-9)
      const drawn = geometry.lines.filter((l) => l.type === "C").flatMap((l) => l.points)
      const point = drawn.find((p) => Math.abs(p[0] - expected![0]) < 0.01)!
      assert.closeTo(point[1], expected![1], 0.01)
      assert.include(geometry.labels.find((l) => l.type === "C")!.text, "ATM 21,525")
      assert.deepStrictEqual(errors, [])
    }))

  it.scoped("keeps the page self-contained and serves the JSON it reads", () =>
    Effect.gen(function*() {
      const { base } = yield* serve
      const html = yield* Effect.promise(() => fetch(`${base}/`).then((r) => r.text()))
      assert.notMatch(html, /(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i)
      const expiration = busiest(windows)
      const r = yield* Effect.promise(() =>
        fetch(`${base}/api/windows?expiration=${expiration}`).then((r) => r.json() as Promise<{ windows: Array<unknown> }>)
      )
      assert.strictEqual(r.windows.length, windows.filter((w) => w.expiration === expiration).length)
      const bad = yield* Effect.promise(() => fetch(`${base}/api/windows?day=2026-02-30`))
      assert.strictEqual(bad.status, 400)
    }))
})
