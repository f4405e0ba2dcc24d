/**
 * DBN codec throughput: MBO decode into batches (records/s, MB/s) on a generated in-memory v3 file and on the
 * largest fixture (decompressed first, and with streaming zstd), plus zstd alone and the encoder. Medians over
 * tinybench iterations; a benchmark, never a test.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Bench } from "tinybench"
import { allocMboBatch } from "../src/dbn/Batch.js"
import { Action, Side, UNDEF_TIMESTAMP } from "../src/dbn/Constants.js"
import { DbnDecoder } from "../src/dbn/Decoder.js"
import { DbnWriter } from "../src/dbn/Encoder.js"
import * as Zstd from "../src/dbn/Zstd.js"
import type { Section } from "./run.js"

const here = path.dirname(fileURLToPath(import.meta.url))

/** The shared fixtures, found from bench/ or dist-bench/bench/ (or IFD_FIXTURES). */
const fixturesDir = (): string | undefined =>
  [
    process.env.IFD_FIXTURES,
    path.resolve(here, "../../shared/fixtures/databento"),
    path.resolve(here, "../../../shared/fixtures/databento")
  ].find((d): d is string => d !== undefined && fs.existsSync(path.join(d, "README.md")))

const LARGEST = "nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
const CHUNK = 1 << 20

/**
 * A v3 MBO stream of `records` rows shaped like an options session: 400 instruments, prices on a 0.25 grid,
 * A/C/M dominant with some T/F, u64 order ids above 2^32, nanosecond timestamps.
 */
export const generateMboFile = (records: number): Uint8Array => {
  const w = new DbnWriter({ initialCapacity: records * 56 + 4096 })
  w.metadata({
    version: 3,
    dataset: "GLBX.MDP3",
    schema: 0,
    start: 1733097600000000000n,
    end: UNDEF_TIMESTAMP,
    limit: 0n,
    stype_in: 4,
    stype_out: 0,
    ts_out: false,
    symbol_cstr_len: 71,
    symbols: ["NQ.OPT"],
    partial: [],
    not_found: [],
    mappings: []
  })
  const rows = 4096
  const b = allocMboBatch(rows)
  const actions = [Action.ADD, Action.ADD, Action.CANCEL, Action.CANCEL, Action.MODIFY, Action.TRADE, Action.FILL]
  let seed = 12345
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0)
  // ts_event starts at 2024-12-02T00:00Z = 0x180D4... ns; step ~50 µs.
  let tsHi = 403_494
  let tsLo = 0
  for (let done = 0; done < records; done += rows) {
    const n = Math.min(rows, records - done)
    for (let i = 0; i < n; i++) {
      const r = next()
      tsLo += 20_000 + (r & 0xffff)
      if (tsLo >= 4294967296) {
        tsLo -= 4294967296
        tsHi++
      }
      b.publisherId[i] = 1
      b.instrumentId[i] = 42_000_000 + (r % 400)
      b.tsEventHi[i] = tsHi
      b.tsEventLo[i] = tsLo
      b.orderIdHi[i] = 150
      b.orderIdLo[i] = done + i
      const ticks = 80_000 + (r >>> 20)
      const price = ticks * 250_000_000
      b.priceHi[i] = Math.floor(price / 4294967296)
      b.priceLo[i] = price >>> 0
      b.size[i] = 1 + (r % 20)
      b.flags[i] = 128
      b.channelId[i] = r & 7
      b.action[i] = actions[r % actions.length]!
      b.side[i] = (r & 1) === 0 ? Side.BID : Side.ASK
      b.tsRecvHi[i] = tsHi
      b.tsRecvLo[i] = tsLo
      b.tsInDelta[i] = 15_000 + (r & 0x3fff)
      b.sequence[i] = done + i
    }
    b.length = n
    w.mboRows(b, 0, n)
  }
  return w.takeChunk()
}

/** Decodes `bytes` in `chunk`-byte pieces; returns MBO rows. With `recycle`, each batch is handed back. */
const decodeMbo = (bytes: Uint8Array, chunk = CHUNK, recycle = false): number => {
  const d = new DbnDecoder()
  let rows = 0
  for (let o = 0; o < bytes.length; o += chunk) {
    d.push(bytes.subarray(o, o + chunk))
    const out = d.drain()
    rows += out.mbo.length
    if (recycle) d.recycle(out.mbo)
  }
  if (d.finish() !== undefined) throw new Error("bench input did not decode cleanly")
  return rows
}

/** Decompresses and decodes, streaming. */
const inflateAndDecode = (compressed: Uint8Array, chunk = CHUNK): number => {
  const z = new Zstd.ZstdDecompressor()
  const d = new DbnDecoder()
  let rows = 0
  for (let o = 0; o < compressed.length; o += chunk) {
    for (const c of z.push(compressed.subarray(o, o + chunk)).chunks) d.push(c)
    rows += d.drain().mbo.length
  }
  for (const c of z.finish().chunks) d.push(c)
  rows += d.drain().mbo.length
  return rows
}

const inflate = (compressed: Uint8Array, chunk = CHUNK): number => {
  const z = new Zstd.ZstdDecompressor()
  let bytes = 0
  for (let o = 0; o < compressed.length; o += chunk) {
    for (const c of z.push(compressed.subarray(o, o + chunk)).chunks) bytes += c.length
  }
  for (const c of z.finish().chunks) bytes += c.length
  return bytes
}

interface Case {
  readonly name: string
  readonly records: number
  /** Bytes the rate in MB/s refers to. */
  readonly bytes: number
  readonly run: () => unknown
}

const row = (c: Case, medianMs: number, samples: number): string => {
  const s = medianMs / 1000
  const rate = c.records > 0 ? `${(c.records / s / 1e6).toFixed(1)} M records/s` : "–"
  return `| ${c.name} | ${c.records.toLocaleString("en-US")} | ${(c.bytes / 1e6).toFixed(1)} MB | ` +
    `${medianMs.toFixed(1)} ms | ${rate} | ${(c.bytes / s / 1e6).toFixed(0)} MB/s | ${samples} |`
}

export const benchDecode = async (): Promise<Section> => {
  const lines: Array<string> = []
  const gc = (globalThis as { gc?: () => void }).gc
  const cases: Array<Case> = []

  const N = 5_000_000
  const t0 = performance.now()
  const generated = generateMboFile(N)
  const encodeMs = performance.now() - t0
  cases.push({
    name: "generated v3, 5M MBO, 1 MiB chunks",
    records: N,
    bytes: generated.length,
    run: () => decodeMbo(generated)
  })
  cases.push({
    name: "generated v3, 5M MBO, 64 KiB chunks",
    records: N,
    bytes: generated.length,
    run: () => decodeMbo(generated, 1 << 16)
  })
  cases.push({
    name: "generated v3, 5M MBO, 1 MiB chunks, batches recycled",
    records: N,
    bytes: generated.length,
    run: () => decodeMbo(generated, CHUNK, true)
  })
  cases.push({
    name: "generated v3, 5M MBO, 1500-byte chunks (socket-sized reads)",
    records: N,
    bytes: generated.length,
    run: () => decodeMbo(generated, 1500)
  })
  cases.push({
    name: "generate + encode 5M MBO (fill batch, DbnWriter.mboRows)",
    records: N,
    bytes: generated.length,
    run: () => generateMboFile(N)
  })

  const dir = fixturesDir()
  if (dir !== undefined) {
    const compressed = new Uint8Array(fs.readFileSync(path.join(dir, LARGEST)))
    const plain = Zstd.decompressAll(compressed).bytes
    const rows = decodeMbo(plain)
    const REPEAT = 10
    cases.push({
      name: `ESH4 fixture (${LARGEST.split("/")[1]}) decompressed, ×${REPEAT}`,
      records: rows * REPEAT,
      bytes: plain.length * REPEAT,
      run: () => {
        for (let i = 0; i < REPEAT; i++) decodeMbo(plain)
      }
    })
    cases.push({
      name: `ESH4 fixture zstd → decode, streaming, ×${REPEAT}`,
      records: rows * REPEAT,
      bytes: plain.length * REPEAT,
      run: () => {
        for (let i = 0; i < REPEAT; i++) inflateAndDecode(compressed)
      }
    })
    cases.push({
      name: `ESH4 fixture zstd only (output MB/s), ×${REPEAT}`,
      records: 0,
      bytes: plain.length * REPEAT,
      run: () => {
        for (let i = 0; i < REPEAT; i++) inflate(compressed)
      }
    })
  }

  const bench = new Bench({ iterations: 7, time: 0, warmup: true, warmupIterations: 2, warmupTime: 0 })
  for (const c of cases) {
    bench.add(c.name, c.run, { beforeAll: () => gc?.() })
  }
  bench.runSync()

  lines.push(
    "| case | records | bytes | median time | records/s | MB/s | runs |",
    "|---|---|---|---|---|---|---|"
  )
  for (const c of cases) {
    const task = bench.getTask(c.name)
    const result = task?.result
    if (result === undefined || !("latency" in result)) {
      lines.push(`| ${c.name} | failed | | | | | |`)
      continue
    }
    lines.push(row(c, result.latency.p50, result.latency.samplesCount))
  }
  lines.push(
    "",
    `Generating the 5M-record file (${(generated.length / 2 ** 20).toFixed(0)} MiB) took ${encodeMs.toFixed(0)} ms ` +
      "on first run.",
    "Decode = `DbnDecoder.push/drain` into one fresh `MboBatch` per chunk (no per-record allocation); the zstd rows",
    "feed 1 MiB compressed chunks through `Zstd.ZstdDecompressor` (libzstd via zstd-napi) into the decoder.",
    dir === undefined ? "Fixture rows skipped: shared fixtures not found (set IFD_FIXTURES)." : ""
  )
  return { title: "DBN decode", lines }
}
