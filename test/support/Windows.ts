/** Window-by-window comparison against the simulator's ground truth (exact counts, tight tolerance on floats). */
import { assert } from "@effect/vitest"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import { compareWindows } from "../../src/sim/Truth.js"

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b))

export const assertSameWindows = (actual: ReadonlyArray<PressureWindow>, expected: ReadonlyArray<PressureWindow>) => {
  const a = [...actual].sort(compareWindows)
  const e = [...expected].sort(compareWindows)
  assert.strictEqual(a.length, e.length, "window count")
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!
    const y = e[i]!
    const where = `${new Date(y.windowStart).toISOString()} ${y.expiration} ${y.strike}${y.optionType}`
    assert.deepStrictEqual(
      { ...x, premium: 0, pressureRatio: x.pressureRatio === null ? null : 0, avgTradeSize: 0 },
      { ...y, premium: 0, pressureRatio: y.pressureRatio === null ? null : 0, avgTradeSize: 0 },
      where
    )
    assert.isTrue(close(x.premium, y.premium), `${where} premium ${x.premium} vs ${y.premium}`)
    assert.isTrue(close(x.avgTradeSize, y.avgTradeSize), `${where} avg size`)
    if (y.pressureRatio !== null) assert.isTrue(close(x.pressureRatio!, y.pressureRatio), `${where} ratio`)
  }
}
