import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { GapsRepo } from "../../src/store/GapsRepo.js"
import * as Store from "../../src/store/Store.js"

// Above 2^53: a double would round it.
const TS = 1_763_400_000_123_456_789n

const gap = (from: bigint, seen: number) => ({
  id: 1,
  from: { tsEvent: from, seen },
  to: from + 5_000_000_000n,
  reason: "ReplayRefused" as const,
  detail: "refused",
  recordedAt: 1
})

describe("GapsRepo", () => {
  it.effect("marks exactly the gap with that key recovered, keeping the larger record count", () =>
    Effect.gen(function*() {
      const repo = yield* GapsRepo
      yield* repo.put("live", gap(TS, 3), "pending", 7)
      yield* repo.put("live", gap(TS, 4), "pending")
      yield* repo.put("other", gap(TS, 3), "pending")
      assert.isTrue(yield* repo.markRecovered("live", TS, 3))
      assert.isTrue(yield* repo.markRecovered("live", TS, 4, 12))
      assert.isFalse(yield* repo.markRecovered("live", TS + 1n, 3))
      // list orders by start cursor only, so sort the sources apart.
      const gaps = (yield* repo.list()).map((g) => [g.source, g.fromSeen, g.status, g.records] as const)
      gaps.sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1])
      assert.deepStrictEqual(gaps, [
        ["live", 3, "recovered", 7],
        ["live", 4, "recovered", 12],
        ["other", 3, "pending", 0]
      ])
      assert.deepStrictEqual(yield* repo.counts(), { open: 0, pending: 1, recovered: 2 })
      assert.deepStrictEqual((yield* repo.list("pending")).map((g) => g.source), ["other"])
    }).pipe(Effect.provide(Store.layerMemory)))
})
