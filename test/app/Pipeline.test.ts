import { assert, describe, it } from "@effect/vitest"
import { NodeContext } from "@effect/platform-node"
import { Effect, Exit, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Pipeline from "../../src/app/Pipeline.js"
import { writeSimFile } from "../../src/app/Replay.js"
import * as ReplaySource from "../../src/source/ReplaySource.js"
import { CheckpointsRepo } from "../../src/store/CheckpointsRepo.js"
import { SignalsRepo } from "../../src/store/SignalsRepo.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { tempDir } from "../support/TempDir.js"

const session = { seed: 5, expirations: 2, strikesPerExpiration: 8, targetRecords: 120_000, collectTrades: false }

const replay = (file: string, db: string, options: Pipeline.RunOptions) =>
  Pipeline.run(options).pipe(Effect.provide(Layer.merge(ReplaySource.layerFiles([file], { chunkSize: 64 * 1024 }), Store.layer({ filename: db }))))

const stored = (db: string) =>
  Effect.gen(function*() {
    const windows = yield* Effect.flatMap(WindowsRepo, (r) => r.all())
    const signals = yield* Effect.flatMap(SignalsRepo, (r) => r.count(false))
    const checkpoint = yield* Effect.flatMap(CheckpointsRepo, (r) => r.get("replay"))
    return { windows, signals, checkpoint }
  }).pipe(Effect.provide(Store.layer({ filename: db })))

describe("Pipeline.run", () => {
  // Under the TestClock no wall time passes, so a positive interval holds everything until the run ends.
  it.scoped("with commitEveryMs, holds the closed windows and writes them once, the same rows as chunk by chunk", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "session.dbn")
      yield* writeSimFile(file, session)
      const writes = { each: 0, held: 0 }
      const each = yield* replay(file, path.join(dir, "each.sqlite"), {
        onWindows: () => Effect.sync(() => void writes.each++)
      })
      const held = yield* replay(file, path.join(dir, "held.sqlite"), {
        commitEveryMs: 1_000,
        onWindows: () => Effect.sync(() => void writes.held++)
      })
      assert.isAbove(writes.each, 5)
      assert.strictEqual(writes.held, 1)
      assert.strictEqual(held.windows, each.windows)
      const a = yield* stored(path.join(dir, "each.sqlite"))
      const b = yield* stored(path.join(dir, "held.sqlite"))
      assert.isAbove(a.windows.length, 0)
      assert.deepStrictEqual(b.windows, a.windows)
      assert.strictEqual(b.signals, a.signals)
      assert.isTrue(Option.isSome(b.checkpoint))
      assert.deepStrictEqual(b.checkpoint, a.checkpoint)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("writes what it holds when the source fails: nothing accepted before the corrupt bytes is lost", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "session.dbn")
      yield* writeSimFile(file, session)
      // The first 70 % of the file, then a record header that declares an impossible length.
      const bytes = fs.readFileSync(file)
      const cut = path.join(dir, "corrupt.dbn")
      fs.writeFileSync(cut, Buffer.concat([bytes.subarray(0, Math.floor(bytes.length * 0.7)), Buffer.from([0, 0xa0, 0, 0])]))
      const runs = yield* Effect.forEach([0, 60_000], (commitEveryMs) =>
        Effect.exit(replay(cut, path.join(dir, `cut-${commitEveryMs}.sqlite`), { commitEveryMs })))
      for (const exit of runs) assert.isTrue(Exit.isFailure(exit))
      const each = yield* stored(path.join(dir, "cut-0.sqlite"))
      const held = yield* stored(path.join(dir, "cut-60000.sqlite"))
      assert.isAbove(held.windows.length, 0)
      assert.deepStrictEqual(held.windows, each.windows)
      assert.strictEqual(held.signals, each.signals)
      assert.isTrue(Option.isSome(held.checkpoint))
      assert.deepStrictEqual(held.checkpoint, each.checkpoint)
    }).pipe(Effect.provide(NodeContext.layer)))
})
