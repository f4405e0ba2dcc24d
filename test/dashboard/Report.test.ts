import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type { Browser } from "playwright-core"
import * as AppReport from "../../src/app/Report.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import * as Render from "../../src/dashboard/Render.js"
import * as Report from "../../src/dashboard/Report.js"
import * as Store from "../../src/store/Store.js"
import { cli } from "../support/Cli.js"
import {
  assertLine,
  busiest,
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

/** Opens a report file from file:// and counts every request that is not the file itself. */
const render = (file: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
      const errors = watchErrors(page)
      const requests: Array<string> = []
      page.on("request", (r) => {
        if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url())
      })
      await page.goto(pathToFileURL(file).href)
      await page.waitForSelector("body[data-ready='1']")
      return { page, errors, requests }
    }),
    ({ page }) => Effect.promise(() => page.close())
  )

const assertSelfContained = (html: string) => {
  assert.notMatch(html, /(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i, "no external src/href")
  assert.notMatch(html, /url\(\s*["']?(?:https?:)?\/\//i, "no external CSS url()")
  assert.notMatch(html, /@import/i)
}

describe("static report", () => {
  it("inlines data that cannot close its script element", () => {
    const text = Render.inlineJson({ note: "</script><script>alert(1)</script><!-- \u2028" })
    assert.notInclude(text, "<")
    assert.deepStrictEqual(JSON.parse(text), { note: "</script><script>alert(1)</script><!-- \u2028" })
  })

  it.scoped("is one self-contained file that renders the same cells from file:// with no request", () =>
    Effect.gen(function*() {
      const day = new Date(windows[0]!.windowStart).toISOString().slice(0, 10)
      const expiration = busiest(windows)
      const data = yield* AppReport.load({ day, expiration: undefined, source: "ifd.sqlite" }).pipe(
        Effect.provide(Store.layer({ filename: db }))
      )
      // A signal in the feed, with the day's data from SQLite (a single simulated day reports none itself).
      const s = signal({ windowStart: windows[10]!.windowStart, expiration, strike: 21_500 })
      const html = Report.html({ ...data, signals: [s, ...data.signals] })
      assertSelfContained(html)
      const file = path.join(dir, "report.html")
      fs.writeFileSync(file, html)

      const { page, errors, requests } = yield* render(file)
      assert.strictEqual(yield* Effect.promise(() => page.$eval("#expiration", (e) => (e as unknown as { value: string }).value)), expiration)
      assert.strictEqual(yield* Effect.promise(() => page.locator("#heatmap rect.cell").count()), cellsOf(windows, expiration))
      const other = [...new Set(windows.map((w) => w.expiration))].find((e) => e !== expiration)!
      yield* Effect.promise(() => page.selectOption("#expiration", other))
      yield* Effect.promise(() =>
        page.waitForFunction(`document.querySelectorAll("#heatmap rect.cell").length === ${cellsOf(windows, other)}`)
      )
      assert.strictEqual(yield* Effect.promise(() => page.locator("#feed li.signal").count()), 1)
      const png = path.join(dir, "report.png")
      yield* Effect.promise(() => page.screenshot({ path: png }))
      assert.isTrue(isPng(png))
      assert.deepStrictEqual(requests, [])
      assert.deepStrictEqual(errors, [])
    }))

  it.scoped("draws the underlying line from the inlined data with no request", () =>
    Effect.gen(function*() {
      const day = new Date(windows[0]!.windowStart).toISOString().slice(0, 10)
      const data = yield* AppReport.load({ day, expiration: undefined, source: "ifd.sqlite" }).pipe(
        Effect.provide(Store.layer({ filename: db }))
      )
      const file = path.join(dir, "report-underlying.html")
      fs.writeFileSync(file, Report.html(data))

      const { page, errors, requests } = yield* render(file)
      for (const expiration of [...new Set(windows.map((w) => w.expiration))]) {
        yield* Effect.promise(() => page.selectOption("#expiration", expiration))
        yield* Effect.promise(() =>
          page.waitForFunction(`document.querySelectorAll("#heatmap rect.cell").length === ${cellsOf(windows, expiration)}`)
        )
        const geometry = yield* Effect.promise(() => heatmapGeometry(page))
        const points = data.underlying.filter((u) => u.expiration === expiration)
        for (const type of ["C", "P"] as const) {
          const expected = expectedLine(geometry, type, points)
          assert.isAbove(expected.length, 50)
          assertLine(geometry, type, expected)
        }
      }
      assert.deepStrictEqual(requests, [])
      assert.deepStrictEqual(errors, [])
    }))

  it("report --out writes the file from the command line; a day without windows is a one-line error", async () => {
    const out = path.join(dir, "cli-report.html")
    const ok = await cli(["report", "--db", db, "--out", out])
    assert.strictEqual(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^wrote .*cli-report\.html: \d{4}-\d{2}-\d{2}, 2 expiration\(s\), \d+ windows/)
    const html = fs.readFileSync(out, "utf8")
    assertSelfContained(html)
    assert.include(html, "id=\"ifd-data\"")

    const expiration = busiest(windows)
    const one = await cli(["report", "--db", db, "--expiration", expiration, "--out", path.join(dir, "one.html")])
    assert.strictEqual(one.code, 0, one.stderr)
    assert.include(one.stdout, "1 expiration(s)")

    const none = await cli(["report", "--db", db, "--day", "2020-01-02", "--out", path.join(dir, "none.html")])
    assert.strictEqual(none.code, 1)
    assert.strictEqual(none.stderr.trim(), `error: no windows stored in ifd.sqlite on 2020-01-02`)
    assert.isFalse(fs.existsSync(path.join(dir, "none.html")))
  })
})
