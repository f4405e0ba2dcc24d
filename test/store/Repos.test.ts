import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Option, TestClock } from "effect"
import { CheckpointsRepo } from "../../src/store/CheckpointsRepo.js"
import { FlaggedRepo, type FlaggedRecord } from "../../src/store/FlaggedRepo.js"
import { RunsRepo } from "../../src/store/RunsRepo.js"
import * as Store from "../../src/store/Store.js"

// Above 2^53: a double would round these.
const TS = 1_749_000_000_123_456_789n
const ORDER = 18_446_744_073_709_551_615n

const flagged = (n: number): Array<FlaggedRecord> =>
  Array.from({ length: n }, (_, i) => ({
    tsEvent: TS + BigInt(i),
    instrumentId: 42 + (i % 3),
    orderId: i % 2 === 0 ? ORDER : String(i),
    sequence: i,
    reason: i % 5 === 0 ? "CancelUnknownOrder" : "TradeOutsideBook",
    detail: i % 4 === 0 ? null : `record ${i}`
  }))

describe("FlaggedRepo", () => {
  it.effect("inserting the same flagged records twice stores them once", () =>
    Effect.gen(function*() {
      const repo = yield* FlaggedRepo
      const runId = yield* (yield* RunsRepo).start("test")
      assert.strictEqual(yield* repo.insert(flagged(2_500), runId), 2_500)
      assert.strictEqual(yield* repo.insert(flagged(2_600), runId), 100)
      assert.strictEqual(yield* repo.count(), 2_600)
      assert.strictEqual(yield* repo.count(runId), 2_600)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("ts_event and order_id beyond 2^53 are stored exactly", () =>
    Effect.gen(function*() {
      const repo = yield* FlaggedRepo
      const record = { tsEvent: TS, instrumentId: 1, orderId: ORDER, sequence: 9, reason: "X" }
      assert.strictEqual(yield* repo.insert([record]), 1)
      // The neighbouring ts_event is a different record; the same values as strings are the same record.
      assert.strictEqual(yield* repo.insert([{ ...record, tsEvent: TS + 1n }]), 1)
      assert.strictEqual(yield* repo.insert([{ ...record, tsEvent: String(TS), orderId: String(ORDER) }]), 0)
      const stored = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ ts_event: string; order_id: string }>`SELECT ts_event, order_id FROM flagged_records ORDER BY ts_event`)
      assert.deepStrictEqual(stored, [
        { ts_event: "1749000000123456789", order_id: "18446744073709551615" },
        { ts_event: "1749000000123456790", order_id: "18446744073709551615" }
      ])
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("a flagged record tagged with a run that does not exist is refused by the foreign key", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* FlaggedRepo).insert(flagged(1), 999))
      assert.strictEqual(error.detail, "SQLITE_CONSTRAINT_FOREIGNKEY")
    }).pipe(Effect.provide(Store.layerMemory)))
})

describe("RunsRepo", () => {
  it.effect("a run starts as running and finishes with its status, counts and JSON summary", () =>
    Effect.gen(function*() {
      const runs = yield* RunsRepo
      yield* TestClock.setTime(1_000)
      const id = yield* runs.start("replay:a.dbn.zst")
      const started = yield* runs.get(id)
      assert.deepStrictEqual(
        Option.map(started, (r) => [r.status, r.startedAt, r.finishedAt]),
        Option.some(["running", 1_000, null])
      )
      yield* TestClock.setTime(5_000)
      yield* runs.finish(id, "done", {
        source: "replay:a.dbn.zst",
        stats: { records: 10, trades: 4, flagged: 1 },
        windows: 3,
        cursor: { tsEvent: TS, seen: 2 }
      })
      const run = Option.getOrThrow(yield* runs.get(id))
      assert.include(run, { status: "done", finishedAt: 5_000, records: 10, trades: 4, windows: 3, flagged: 1 })
      assert.deepStrictEqual((run.summary as { cursor: unknown }).cursor, { tsEvent: String(TS), seen: 2 })
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("finishing a run that does not exist fails with NotFound", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RunsRepo).finish(7, "failed", {}))
      assert.strictEqual(error.reason, "NotFound")
    }).pipe(Effect.provide(Store.layerMemory)))
})

describe("CheckpointsRepo", () => {
  it.effect("a source has no checkpoint until one is put, then the latest one", () =>
    Effect.gen(function*() {
      const repo = yield* CheckpointsRepo
      assert.isTrue(Option.isNone(yield* repo.get("live")))
      yield* repo.put("live", JSON.stringify({ tsEvent: String(TS), seen: 1 }))
      yield* repo.put("live", JSON.stringify({ tsEvent: String(TS + 5n), seen: 3 }))
      yield* repo.put("replay", JSON.stringify({ tsEvent: "1", seen: 1 }))
      assert.deepStrictEqual(yield* repo.get("live"), Option.some(`{"tsEvent":"${TS + 5n}","seen":3}`))
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("a cursor that is not JSON is refused and the previous one kept", () =>
    Effect.gen(function*() {
      const repo = yield* CheckpointsRepo
      yield* repo.put("live", "{\"seen\":1}")
      const error = yield* Effect.flip(repo.put("live", "not json"))
      assert.strictEqual(error.detail, "SQLITE_CONSTRAINT_CHECK")
      assert.deepStrictEqual(yield* repo.get("live"), Option.some("{\"seen\":1}"))
    }).pipe(Effect.provide(Store.layerMemory)))
})
