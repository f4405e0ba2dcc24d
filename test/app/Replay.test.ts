import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as path from "node:path"
import * as Pipeline from "../../src/app/Pipeline.js"
import { writeSimFile } from "../../src/app/Replay.js"
import * as ReplaySource from "../../src/source/ReplaySource.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { NodeContext } from "@effect/platform-node"
import { tempDir } from "../support/TempDir.js"
import { assertSameWindows } from "../support/Windows.js"

const runReplay = (files: ReadonlyArray<string>, db: string) =>
  Pipeline.run({}).pipe(Effect.provide(Layer.merge(ReplaySource.layerFiles(files), Store.layer({ filename: db }))))

const storedWindows = (db: string) =>
  Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(Store.layer({ filename: db })))

describe("replay pipeline", () => {
  for (const shape of [
    { seed: 7, expirations: 1, strikesPerExpiration: 6, targetRecords: 60_000 },
    { seed: 11, expirations: 3, strikesPerExpiration: 12, targetRecords: 150_000 },
    { seed: 23, expirations: 4, strikesPerExpiration: 20, targetRecords: 250_000 }
  ]) {
    it.scoped(`reproduces the simulator's ground truth window by window (seed ${shape.seed})`, () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const file = path.join(dir, "session.dbn")
        const db = path.join(dir, "ifd.sqlite")
        const truth = yield* writeSimFile(file, { ...shape, collectTrades: false })
        const summary = yield* runReplay([file], db)
        assert.strictEqual(summary.stats.trades, truth.totals.trades)
        assert.strictEqual(summary.stats.unknownInstrumentRecords, 0)
        assertSameWindows(yield* storedWindows(db), truth.windows)
      }).pipe(Effect.provide(NodeContext.layer)))
  }

  it.scoped("leaves the database unchanged when the same file is replayed again", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "session.dbn")
      const db = path.join(dir, "ifd.sqlite")
      yield* writeSimFile(file, { seed: 3, expirations: 2, strikesPerExpiration: 8, targetRecords: 80_000, collectTrades: false })
      yield* runReplay([file], db)
      const first = yield* storedWindows(db)
      yield* runReplay([file], db)
      const second = yield* storedWindows(db)
      assert.isAbove(first.length, 0)
      assert.deepStrictEqual(second, first)
    }).pipe(Effect.provide(NodeContext.layer)))
})
