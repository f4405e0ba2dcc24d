import { assert, describe, it } from "@effect/vitest"
import { NodeContext } from "@effect/platform-node"
import { Chunk, Effect, Fiber, Stream, TestClock } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { writeSimFile } from "../../src/app/Replay.js"
import type { DecodedChunk } from "../../src/dbn/Batch.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import * as Zstd from "../../src/dbn/Zstd.js"
import { MarketDataSource } from "../../src/source/MarketDataSource.js"
import * as ReplaySource from "../../src/source/ReplaySource.js"
import { fixture, fixturesPresent } from "../support/Fixtures.js"
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

  /** Every MBO row of a chunk as a string of its columns, read before the chunk is released. */
  const rowsOf = (c: DecodedChunk): Array<string> =>
    Array.from({ length: c.mbo.length }, (_, i) =>
      [c.mbo.instrumentId[i], c.mbo.tsEventHi[i], c.mbo.tsEventLo[i], c.mbo.orderIdLo[i], c.mbo.price[i], c.mbo.size[i],
        c.mbo.action[i], c.mbo.side[i], c.mbo.sequence[i]].join(","))

  /** Reads `files` through ReplaySource in `chunkSize` pieces, releasing every chunk as the pipeline does. */
  const replayRows = (files: string | ReadonlyArray<string>, chunkSize: number) =>
    Effect.gen(function*() {
      const paths = typeof files === "string" ? [files] : files
      const source = yield* Effect.provide(MarketDataSource, ReplaySource.layerFiles(paths, { chunkSize }))
      const rows: Array<string> = []
      let others = 0
      let released = 0
      yield* Stream.runForEach(source.stream(undefined), (c) =>
        Effect.sync(() => {
          rows.push(...rowsOf(c))
          others += c.others.length
          if (c.release !== undefined) released++
          c.release?.()
          c.release?.()
        }))
      return { rows, others, released }
    })

  const decodeWhole = (bytes: Uint8Array) => {
    const d = new DbnDecoder()
    d.push(bytes)
    const c = d.drain()
    return { rows: rowsOf(c), others: c.others.length }
  }

  it.scoped("merges files of different days chunk by chunk without a copy, each row once, batches recycled", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const days = ["2026-06-01", "2026-06-02", "2026-06-03"]
      const files = days.map((d) => path.join(dir, `${d}.dbn`))
      for (const [i, date] of days.entries()) {
        yield* writeSimFile(files[i]!, { seed: i + 1, date, expirations: 1, strikesPerExpiration: 4, targetRecords: 20_000, collectTrades: false })
      }
      const wholes = files.map((f) => decodeWhole(new Uint8Array(fs.readFileSync(f))))
      // Listed out of order: the merge puts them in time order. Released batches are refilled by later chunks, so a
      // merger that kept looking at a chunk it passed on would deliver rows twice.
      const got = yield* replayRows([files[2]!, files[0]!, files[1]!], 4099)
      assert.deepStrictEqual(got.rows, wholes.flatMap((w) => w.rows))
      assert.strictEqual(got.others, wholes.reduce((n, w) => n + w.others, 0))
      // Chunks that pass through whole keep their `release` (merged copies have none).
      assert.isAbove(got.released, 20)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("replays a folder of daily files with one file open at a time, each closed when its day ends", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const days = ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04"]
      for (const [i, date] of days.entries()) {
        yield* writeSimFile(path.join(dir, `${date}.dbn`), { seed: i + 1, date, expirations: 1, strikesPerExpiration: 4, targetRecords: 10_000, collectTrades: false })
      }
      /** This process's open descriptors on the day files (Linux: /proc/self/fd). */
      const openFiles = () =>
        fs.readdirSync("/proc/self/fd").flatMap((fd) => {
          try {
            const target = fs.readlinkSync(`/proc/self/fd/${fd}`)
            return target.startsWith(dir) ? [target] : []
          } catch {
            return []
          }
        })
      const source = yield* Effect.provide(MarketDataSource, ReplaySource.layerFiles([dir], { chunkSize: 4096 }))
      let most = 0
      const seen = new Set<string>()
      let rows = 0
      yield* Stream.runForEach(source.stream(undefined), (c) =>
        Effect.sync(() => {
          const open = openFiles()
          most = Math.max(most, open.length)
          for (const f of open) seen.add(f)
          rows += c.mbo.length
          c.release?.()
        }))
      assert.strictEqual(most, 1)
      assert.strictEqual(seen.size, days.length)
      assert.deepStrictEqual(openFiles(), [])
      assert.isAbove(rows, 4 * 5_000)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("reads a plain file into one reused buffer and recycled batches without changing a row", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "s.dbn")
      yield* writeSimFile(file, { seed: 3, expirations: 1, strikesPerExpiration: 4, targetRecords: 30_000, collectTrades: false })
      const whole = decodeWhole(new Uint8Array(fs.readFileSync(file)))
      // 1000 and 4099 bytes split records (56 bytes each) and the metadata everywhere.
      for (const chunkSize of [1000, 4099, 1 << 20]) {
        const got = yield* replayRows(file, chunkSize)
        assert.strictEqual(got.rows.length, whole.rows.length)
        assert.deepStrictEqual(got.rows, whole.rows)
        assert.strictEqual(got.others, whole.others)
        assert.isAbove(got.released, 0)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped.skipIf(!fixturesPresent)("a probe of a zstd file's first record hands its decoder back to the pool", () =>
    Effect.gen(function*() {
      const file = fixture("nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
      // Empty the pool (other tests may have filled it), then probe: the probe reads the file's start only.
      const holders = Array.from({ length: Zstd.pooledDecoders() }, () => new Zstd.ZstdDecompressor())
      assert.strictEqual(Zstd.pooledDecoders(), 0)
      const first = yield* ReplaySource.firstRecordTs(file)
      assert.isDefined(first)
      assert.strictEqual(Zstd.pooledDecoders(), 1)
      // The decoder it left mid-frame serves the next stream from a clean state.
      const whole = decodeWhole(Zstd.decompressAll(new Uint8Array(fs.readFileSync(file))).bytes)
      const got = yield* replayRows(file, 64 << 10)
      assert.deepStrictEqual(got.rows, whole.rows)
      for (const h of holders) h.release()
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped.skipIf(!fixturesPresent)("reads a zstd file in small pieces with recycled batches", () =>
    Effect.gen(function*() {
      // The read buffer and the decompressor's output arrays are both written over from one piece to the next.
      for (
        const [name, sizes] of [
          ["dbn/test_data.mbo.v3.dbn.zst", [7, 100, 1 << 20]],
          ["nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst", [4093, 64 << 10, 1 << 20]]
        ] as const
      ) {
        const file = fixture(name)
        const whole = decodeWhole(Zstd.decompressAll(new Uint8Array(fs.readFileSync(file))).bytes)
        for (const chunkSize of sizes) {
          const got = yield* replayRows(file, chunkSize)
          assert.deepStrictEqual(got.rows, whole.rows)
          assert.strictEqual(got.others, whole.others)
        }
      }
    }).pipe(Effect.provide(NodeContext.layer)))
})
