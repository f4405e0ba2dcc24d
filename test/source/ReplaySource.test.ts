import { assert, describe, it } from "@effect/vitest"
import { NodeContext } from "@effect/platform-node"
import { Chunk, Effect, Fiber, Stream, TestClock } from "effect"
import * as path from "node:path"
import { writeSimFile } from "../../src/app/Replay.js"
import { MarketDataSource } from "../../src/source/MarketDataSource.js"
import * as ReplaySource from "../../src/source/ReplaySource.js"
import { tempDir } from "../support/TempDir.js"
import { chunkOf, tsOf } from "./Support.js"

const T = 1_700_000_000_000_000_000n
const SEC = 1_000_000_000n

describe("ReplaySource", () => {
  it.effect("paces chunks by event time at the requested speed", () =>
    Effect.gen(function*() {
      // Three chunks whose last records are 0 s, 10 s and 20 s of event time after the first: at 10× speed
      // they are due at 0, 1 and 2 s of wall time.
      const chunks = [chunkOf([T]), chunkOf([T + 10n * SEC]), chunkOf([T + 20n * SEC])]
      const seen: Array<number> = []
      const fiber = yield* Stream.fromIterable(chunks).pipe(
        ReplaySource.pace(10),
        Stream.runForEach(() => Effect.sync(() => seen.push(seen.length))),
        Effect.fork
      )
      yield* TestClock.adjust("10 millis")
      assert.deepStrictEqual(seen, [0])
      yield* TestClock.adjust("995 millis")
      assert.deepStrictEqual(seen, [0, 1])
      yield* TestClock.adjust("990 millis")
      assert.deepStrictEqual(seen, [0, 1])
      yield* TestClock.adjust("20 millis")
      assert.deepStrictEqual(seen, [0, 1, 2])
      yield* Fiber.join(fiber)
    }))

  it.scoped("merges several files into one stream in ts_event order with nothing lost", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const a = path.join(dir, "a.dbn")
      const b = path.join(dir, "b.dbn")
      const ta = yield* writeSimFile(a, { seed: 1, expirations: 1, strikesPerExpiration: 4, targetRecords: 20_000, collectTrades: false })
      const tb = yield* writeSimFile(b, { seed: 2, expirations: 1, strikesPerExpiration: 4, targetRecords: 20_000, collectTrades: false })
      const source = yield* Effect.provide(MarketDataSource, ReplaySource.layerFiles([dir], { chunkSize: 4096 }))
      const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(source.stream(undefined)))
      const ts = chunks.flatMap(tsOf)
      assert.strictEqual(ts.length, ta.counts.mbo + tb.counts.mbo)
      for (let i = 1; i < ts.length; i++) assert.isTrue(ts[i - 1]! <= ts[i]!, `out of order at ${i}`)
    }).pipe(Effect.provide(NodeContext.layer)))
})
