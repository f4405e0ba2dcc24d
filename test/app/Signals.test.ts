import { assert, describe, it } from "@effect/vitest"
import * as AppSignals from "../../src/app/Signals.js"
import { formatRows } from "../../src/app/Export.js"

describe("export signals", () => {
  it("has the columns the issue asks for, window_start as ISO time", () => {
    for (const k of ["window_start", "expiration", "strike", "option_type", "direction", "confidence", "tier", "score"]) {
      assert.include(AppSignals.SIGNAL_KEYS, k)
    }
    const row = Object.fromEntries(AppSignals.SIGNAL_KEYS.map((k) => [k, null])) as never
    const out = AppSignals.signalRow({ ...(row as object), window_start: Date.parse("2026-06-01T14:00:00Z") } as never)
    assert.strictEqual(out.window_start, "2026-06-01T14:00:00.000Z")
    const csv = formatRows([out], AppSignals.SIGNAL_KEYS, "csv")
    assert.strictEqual(csv.split(",").length, AppSignals.SIGNAL_KEYS.length)
  })

  it("names the next trading day after a Friday as the Monday", () => {
    assert.strictEqual(AppSignals.nextWeekday("2026-06-05"), "2026-06-08")
    assert.strictEqual(AppSignals.nextWeekday("2026-06-08"), "2026-06-09")
  })
})
