import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref, Stream, TestClock } from "effect"
import { Budget } from "../../src/gate/Budget.js"
import { MarketHours } from "../../src/gate/MarketHours.js"
import * as MarketHoursModule from "../../src/gate/MarketHours.js"
import { budgetLayer, tiny } from "./support.js"

const ms = (iso: string) => Date.parse(iso)

describe("market hours and budget together", () => {
  it.effect("streams from the open until the cutoff, then waits for the next session and a fresh budget", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2025-11-26T14:00:00Z")) // Wednesday 09:00 EST, before Thanksgiving
      const result = yield* Effect.gen(function*() {
        const hours = yield* MarketHours
        const budget = yield* Budget
        const received = yield* Ref.make<Array<string>>([])
        // A feed delivering one 1,000-byte batch a minute; the budget allows 8,000 bytes a day.
        const feed = Stream.repeatEffect(Effect.as(Effect.sleep("1 minute"), new Uint8Array(1_000)))
        const run = budget.guard(feed).pipe(
          Stream.runForEach(() =>
            Effect.flatMap(
              TestClock.currentTimeMillis,
              (t) => Ref.update(received, (a) => [...a, new Date(t).toISOString().slice(0, 16)])
            )
          )
        )
        const fiber = yield* Effect.fork(hours.gate(budget.gate(run)))
        yield* TestClock.setTime(ms("2025-12-01T14:34:30Z"))
        yield* Fiber.interrupt(fiber)
        return yield* Ref.get(received)
      }).pipe(Effect.provide(Layer.merge(MarketHoursModule.layer(), budgetLayer(tiny))))
      const day = (d: string, from: number, n: number) =>
        Array.from({ length: n }, (_, i) => `${d}T14:${String(from + i).padStart(2, "0")}`)
      assert.deepStrictEqual(result, [
        ...day("2025-11-26", 31, 8), // Wednesday from 09:30 EST until the cutoff
        ...day("2025-11-28", 31, 8), // nothing on Thanksgiving; Friday (early close) with a fresh budget
        ...day("2025-12-01", 31, 4) // Monday, up to the end of the test
      ])
    }))

  it.effect("interrupts the stream at the 13:00 early close before the budget runs out", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2025-11-28T17:50:30Z")) // Friday 12:50:30 EST
      const count = yield* Effect.gen(function*() {
        const hours = yield* MarketHours
        const budget = yield* Budget
        const n = yield* Ref.make(0)
        const feed = Stream.repeatEffect(Effect.as(Effect.sleep("1 minute"), new Uint8Array(100)))
        const fiber = yield* Effect.fork(hours.gate(budget.gate(budget.guard(feed).pipe(
          Stream.runForEach(() => Ref.update(n, (k) => k + 1))
        ))))
        yield* TestClock.setTime(ms("2025-11-28T20:00:00Z"))
        const atClose = yield* Ref.get(n)
        yield* Fiber.interrupt(fiber)
        return atClose
      }).pipe(Effect.provide(Layer.merge(MarketHoursModule.layer(), budgetLayer(tiny))))
      assert.strictEqual(count, 9) // 12:51:30 … 12:59:30; the one due at 13:00:30 never comes
    }))
})
