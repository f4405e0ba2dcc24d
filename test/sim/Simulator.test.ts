import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Zstd from "../../src/dbn/Zstd.js"
import { readTruthFile, writeSessionFile } from "../../src/sim/SimFile.js"
import { defaultParams, generate, simulate, type SimParams, writeSession } from "../../src/sim/Simulator.js"

const small: Partial<SimParams> = {
  expirations: 2,
  strikesPerExpiration: 10,
  sessionMinutes: 45,
  targetRecords: 40_000,
  episodes: 2
}

const digest = (params: Partial<SimParams>): string => {
  const h = createHash("sha256")
  writeSession(params, (chunk) => h.update(chunk))
  return h.digest("hex")
}

describe("Simulator", () => {
  it("gives byte-identical output for the same seed", () => {
    const a = generate({ ...small, seed: 7 })
    const b = generate({ ...small, seed: 7 })
    assert.strictEqual(Buffer.compare(a.bytes, b.bytes), 0)
    assert.deepStrictEqual(a.truth.windows, b.truth.windows)
    assert.deepStrictEqual(a.truth.episodes, b.truth.episodes)
  })

  it("gives different output for different seeds", () => {
    assert.notStrictEqual(digest({ ...small, seed: 7 }), digest({ ...small, seed: 8 }))
  })

  it("does not depend on the chunk size", () => {
    const tiny = digest({ ...small, seed: 3, chunkBytes: 1 << 12 })
    assert.strictEqual(tiny, digest({ ...small, seed: 3, chunkBytes: 1 << 20 }))
  })

  it("hands out chunks of about chunkBytes each, generated as they are pulled", () => {
    const chunkBytes = 64 << 10
    const session = simulate({ ...small, chunkBytes })
    const sizes: Array<number> = []
    for (const c of session.chunks()) sizes.push(c.length)
    assert.isAbove(sizes.length, 10)
    for (const s of sizes.slice(0, -1)) {
      assert.isAtLeast(s, chunkBytes)
      assert.isBelow(s, chunkBytes + (16 << 10))
    }
  })

  it("lands near the target record count over the whole session", () => {
    for (const targetRecords of [30_000, 120_000]) {
      const { truth, session } = generate({ ...small, targetRecords })
      const live = truth.counts.mbo - truth.counts.snapshot
      assert.isAbove(live, targetRecords * 0.9)
      assert.isBelow(live, targetRecords * 1.1)
      const lastTrade = truth.trades.at(truth.trades.length - 1).ts_event
      assert.isAbove(Number(lastTrade - session.startNs), 0.9 * Number(session.endNs - session.startNs))
    }
  })

  it("offers the truth only after the chunks were consumed, and the chunks only once", () => {
    const session = simulate(small)
    assert.throws(() => session.truth)
    const it = session.chunks()
    assert.throws(() => session.chunks())
    for (const _ of it) {
      // drain
    }
    assert.isAbove(session.truth.windows.length, 0)
  })

  it("can leave the trade tape out while keeping windows and totals", () => {
    const { truth } = generate({ ...small, collectTrades: false })
    assert.strictEqual(truth.trades.length, 0)
    assert.isAbove(truth.totals.trades, 0)
    assert.isAbove(truth.windows.length, 0)
  })

  it("embeds a default of a few million records on a full 09:30–16:00 chain", () => {
    assert.isAtLeast(defaultParams.targetRecords, 2_000_000)
    assert.strictEqual(defaultParams.sessionMinutes, 390)
    assert.isAtLeast(defaultParams.expirations, 3)
  })

  it("writes a session file and its truth next to it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ifd-sim-"))
    try {
      const file = path.join(dir, "session.dbn")
      const truth = writeSessionFile(file, { ...small, seed: 5 }, {
        truthPath: `${file}.truth.json`,
        tradesPath: `${file}.trades.jsonl`
      })
      assert.strictEqual(fs.statSync(file).size, truth.counts.bytes)
      assert.strictEqual(Buffer.compare(fs.readFileSync(file), generate({ ...small, seed: 5 }).bytes), 0)
      const json = readTruthFile(`${file}.truth.json`)
      assert.deepStrictEqual(json.windows, truth.windows)
      assert.strictEqual(json.episodes.length, truth.episodes.length)
      assert.strictEqual(json.episodes[0]!.startNs, truth.episodes[0]!.startNs)
      const lines = fs.readFileSync(`${file}.trades.jsonl`, "utf8").trim().split("\n")
      assert.strictEqual(lines.length, truth.trades.length)
      const first = JSON.parse(lines[0]!) as { ts_event: string; side: string }
      assert.strictEqual(first.ts_event, truth.trades.at(0).ts_event.toString())
      assert.strictEqual(first.side, truth.trades.at(0).side)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("writes a .dbn.zst session as one checksummed zstd frame holding exactly the plain file's bytes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ifd-sim-"))
    try {
      const file = path.join(dir, "session.dbn.zst")
      const truth = writeSessionFile(file, { ...small, seed: 5 })
      const compressed = new Uint8Array(fs.readFileSync(file))
      assert.isTrue(Zstd.isZstd(compressed))
      // Frame header descriptor: content checksum flag (bit 2) set, as in Databento's files.
      assert.notStrictEqual(compressed[4]! & 4, 0)
      assert.isBelow(compressed.length, truth.counts.bytes / 2)
      const z = new Zstd.ZstdDecompressor()
      const chunks = [...z.push(compressed).chunks]
      const end = z.finish()
      assert.strictEqual(end.problem, undefined)
      assert.strictEqual(z.frameCount, 1)
      const plain = Buffer.concat([...chunks, ...end.chunks])
      assert.strictEqual(Buffer.compare(plain, generate({ ...small, seed: 5 }).bytes), 0)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
