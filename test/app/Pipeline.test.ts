import { assert, describe, it } from "@effect/vitest"
import { NodeContext } from "@effect/platform-node"
import { ConfigProvider, Effect, Exit, Layer, Option, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Pipeline from "../../src/app/Pipeline.js"
import { writeSimFile } from "../../src/app/Replay.js"
import { MarketDataSource } from "../../src/source/MarketDataSource.js"
import * as ReplaySource from "../../src/source/ReplaySource.js"
import { CheckpointsRepo } from "../../src/store/CheckpointsRepo.js"
import { SignalsRepo } from "../../src/store/SignalsRepo.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { tempDir } from "../support/TempDir.js"
import { chunk, definition, T0 } from "../book/support.js"

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

  it.scoped("keeps windows open for late trades as long as IFD_WINDOW_GRACE_MS says", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const at = (seconds: number) => T0 + BigInt(Math.round(seconds * 1e9))
      // A trade stamped 299.5 s arrives after one stamped 300.2 s: late for a window closed at once.
      const source = MarketDataSource.of({
        name: "test",
        stream: () =>
          Stream.make(chunk([
            definition({ instrument: 42, cls: "C", strike: 17_000 }),
            { action: "T", id: 9, side: "B", price: 10.5, size: 3, ts: at(1) },
            { action: "T", id: 9, side: "B", price: 10.5, size: 1, ts: at(300.2) },
            { action: "T", id: 9, side: "A", price: 10, size: 2, ts: at(299.5) }
          ]))
      })
      const runWith = (env: Record<string, string>, db: string) =>
        Pipeline.run({}).pipe(
          Effect.provideService(MarketDataSource, source),
          Effect.provide(Store.layer({ filename: path.join(dir, db) })),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
        )
      const atOnce = yield* runWith({}, "a.sqlite")
      assert.strictEqual(atOnce.stats.lateTrades, 1)
      const graced = yield* runWith({ IFD_WINDOW_GRACE_MS: "1000" }, "b.sqlite")
      assert.strictEqual(graced.stats.lateTrades, 0)
      const first = (yield* stored(path.join(dir, "b.sqlite"))).windows[0]!
      assert.deepStrictEqual([first.askVolume, first.bidVolume], [3, 2])
      const bad = yield* Effect.exit(runWith({ IFD_WINDOW_GRACE_MS: "-5" }, "c.sqlite"))
      assert.isTrue(Exit.isFailure(bad))
    }).pipe(Effect.provide(NodeContext.layer)))
})
