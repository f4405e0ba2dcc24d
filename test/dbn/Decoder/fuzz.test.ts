import { assert, describe, it } from "@effect/vitest"
import type { DbnProblem } from "../../../src/dbn/Batch.js"
import { RType } from "../../../src/dbn/Constants.js"
import { DbnDecoder, type DecoderOptions } from "../../../src/dbn/Decoder.js"
import * as Encoder from "../../../src/dbn/Encoder.js"
import * as Zstd from "../../../src/dbn/Zstd.js"
import { fixturesPresent, readFixture } from "../../support/Fixtures.js"
import { bareMetadata, concat, mbo, metadata, v1Text, v2System } from "../builders.js"
import { allFixtures, dbnBytes, optionsFor, randomCuts, rng } from "../support.js"

const FATAL = ["BadMagic", "UnsupportedVersion", "MetadataTooLarge", "MetadataInvalid", "RecordLength"]
const REASONS = new Set([...FATAL, "Truncated", "Malformed", "Zstd"])

interface Seed {
  readonly bytes: Uint8Array
  readonly options: DecoderOptions
  /** Absolute offsets where records start (for length and rtype edits). */
  readonly recordStarts: ReadonlyArray<number>
}

const recordStarts = (bytes: Uint8Array, options: DecoderOptions): Array<number> => {
  let at = options.fragment === undefined ? 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) : 0
  const out: Array<number> = []
  while (at + 16 <= bytes.length && bytes[at]! >= 4) {
    out.push(at)
    at += bytes[at]! * 4
  }
  return out
}

/** Fixture bytes (big files cut to their first 12 KB) plus synthetic streams covering ts_out and v1/v2 text records. */
const seeds = (): Array<Seed> => {
  const out: Array<Seed> = []
  const add = (bytes: Uint8Array, options: DecoderOptions = {}) =>
    out.push({ bytes, options, recordStarts: recordStarts(bytes, options) })
  for (const file of allFixtures()) {
    const bytes = dbnBytes(file)
    add(bytes.length > 12_000 ? bytes.subarray(0, 12_000) : bytes, optionsFor(file))
  }
  const w = new Encoder.DbnWriter()
  w.metadata(metadata({
    symbols: Array.from({ length: 30 }, (_, i) => `NQ${i}.OPT`),
    partial: ["NQ1.OPT", "NQ2.OPT"],
    not_found: ["XX.OPT"],
    mappings: Array.from({ length: 40 }, (_, i) => ({
      raw_symbol: `NQZ4 C${20000 + i * 25}`,
      intervals: Array.from({ length: 1 + (i % 3) }, (_, j) => ({
        start_date: 20241201 + j,
        end_date: 20241202 + j,
        symbol: String(1000 + i)
      }))
    }))
  }))
  for (let i = 0; i < 5; i++) w.mbo(mbo(i))
  add(w.takeChunk())
  w.metadata(metadata({ ts_out: true, symbols: ["NQ.OPT"] }))
  for (let i = 0; i < 20; i++) w.mbo({ ...mbo(i), ts_out: BigInt(i) })
  add(w.toBytes())
  add(concat(
    bareMetadata(1),
    v1Text(RType.SYSTEM, "Heartbeat"),
    v1Text(RType.ERROR, "Internal error"),
    v2System("x", 3)
  ))
  add(concat(bareMetadata(2, { tsOut: true }), Encoder.encodeRecord(mbo(1), { tsOut: true })))
  return out
}

interface Summary {
  readonly records: number
  readonly mbo: number
  readonly unknown: number
  readonly malformed: number
  readonly fatal: string
  readonly finish: string
}

const key = (p: DbnProblem | undefined) => (p === undefined ? "-" : `${p.reason}@${p.offset}`)

const checkProblem = (p: DbnProblem, length: number) => {
  if (!REASONS.has(p.reason)) assert.fail(`unexpected reason ${p.reason}`)
  if (!Number.isInteger(p.offset) || p.offset < 0 || p.offset > length) {
    assert.fail(`offset ${p.offset} outside 0..${length}`)
  }
}

/** Decodes with the given cuts, checking the invariants that must hold for any input. */
const run = (bytes: Uint8Array, cuts: ReadonlyArray<number>, options: DecoderOptions): Summary => {
  const d = new DbnDecoder(options)
  let records = 0
  let mboRows = 0
  let unknown = 0
  let malformed = 0
  let fatal: DbnProblem | undefined
  let from = 0
  for (const to of [...cuts, bytes.length]) {
    d.push(bytes.subarray(from, to))
    from = to
    const out = d.drain()
    records += out.mbo.length + out.others.length
    mboRows += out.mbo.length
    unknown += out.skippedUnknown
    malformed += out.skippedMalformed
    for (const p of out.problems) checkProblem(p, bytes.length)
    if (out.othersAt.length !== out.others.length) assert.fail("othersAt and others differ in length")
    if (out.fatal !== undefined) {
      fatal = out.fatal
      break
    }
  }
  const finish = d.finish()
  if (fatal !== undefined) {
    checkProblem(fatal, bytes.length)
    if (finish !== fatal) assert.fail("finish() must repeat the fatal problem")
  }
  if (finish !== undefined) checkProblem(finish, bytes.length)
  if (records > bytes.length / 16) assert.fail("more records than 16-byte headers")
  if (d.offset > bytes.length) assert.fail("offset beyond the input")
  return { records, mbo: mboRows, unknown, malformed, fatal: key(fatal), finish: key(finish) }
}

type Mutator = (s: Seed, r: () => number, other: Seed) => { bytes: Uint8Array; options: DecoderOptions }

const pick = <A>(r: () => number, xs: ReadonlyArray<A>): A => xs[Math.floor(r() * xs.length)]!
const int = (r: () => number, n: number) => Math.floor(r() * n)

const MUTATORS: ReadonlyArray<readonly [string, Mutator]> = [
  ["bit flips", (s, r) => {
    const b = s.bytes.slice()
    for (let k = 1 + int(r, 8); k > 0; k--) b[int(r, b.length)]! ^= 1 << int(r, 8)
    return { bytes: b, options: s.options }
  }],
  ["byte stomps", (s, r) => {
    const b = s.bytes.slice()
    for (let k = 1 + int(r, 4); k > 0; k--) b[int(r, b.length)] = pick(r, [0, 0xff, 0x7f, 0x80, int(r, 256)])
    return { bytes: b, options: s.options }
  }],
  ["truncation", (s, r) => ({ bytes: s.bytes.subarray(0, int(r, s.bytes.length + 1)), options: s.options })],
  ["splice", (s, r, o) => ({
    bytes: concat(s.bytes.subarray(0, int(r, s.bytes.length)), o.bytes.subarray(int(r, o.bytes.length))),
    options: s.options
  })],
  ["length byte edit", (s, r) => {
    const b = s.bytes.slice()
    if (s.recordStarts.length > 0) b[pick(r, s.recordStarts)] = pick(r, [0, 1, 3, 4, 5, 13, 14, 255, int(r, 256)])
    return { bytes: b, options: s.options }
  }],
  ["rtype edit", (s, r) => {
    const b = s.bytes.slice()
    const rtypes = Object.values(RType) as Array<number>
    if (s.recordStarts.length > 0) b[pick(r, s.recordStarts) + 1] = r() < 0.8 ? pick(r, rtypes) : int(r, 256)
    return { bytes: b, options: s.options }
  }],
  ["metadata length edit", (s, r) => {
    const b = s.bytes.slice()
    if (b.length >= 8 && s.options.fragment === undefined) {
      const dv = new DataView(b.buffer)
      const old = dv.getUint32(4, true)
      const lengths = [0, 99, 100, 104, 119, 120, old - 1, old + 1, old + int(r, 64), 0xffffffff, int(r, 2 ** 32)]
      dv.setUint32(4, pick(r, lengths) >>> 0, true)
    }
    return { bytes: b, options: s.options }
  }],
  ["metadata field edit", (s, r) => {
    const b = s.bytes.slice()
    if (b.length > 140 && s.options.fragment === undefined) {
      const dv = new DataView(b.buffer)
      const at = pick(r, [3, 53, 108, 112, 116, 120, 124, 112 + int(r, 64)])
      if (at + 4 <= b.length) dv.setUint32(at, pick(r, [0, 1, 0xff, 0xffff, 0xffffffff, int(r, 2 ** 32)]) >>> 0, true)
    }
    return { bytes: b, options: s.options }
  }],
  ["duplicate region", (s, r) => {
    const a = int(r, s.bytes.length)
    const e = Math.min(s.bytes.length, a + int(r, 600))
    return { bytes: concat(s.bytes.subarray(0, e), s.bytes.subarray(a)), options: s.options }
  }],
  ["random bytes", (_s, r) => {
    const b = new Uint8Array(int(r, 700))
    for (let i = 0; i < b.length; i++) b[i] = int(r, 256)
    return { bytes: b, options: {} }
  }],
  ["random records after a DBN prelude", (_s, r) => {
    const b = new Uint8Array(8 + 120 + int(r, 900))
    for (let i = 128; i < b.length; i++) b[i] = r() < 0.3 ? 0 : int(r, 256)
    b.set(bareMetadata(1 + int(r, 3), { tsOut: r() < 0.2 }))
    return { bytes: b, options: {} }
  }],
  ["random fragment", (_s, r) => {
    const b = new Uint8Array(int(r, 1200))
    for (let i = 0; i < b.length; i++) b[i] = r() < 0.5 ? pick(r, [4, 14, 16, 20, 0xa0, 0x13, 0x17, 0]) : int(r, 256)
    return { bytes: b, options: { fragment: { version: (1 + int(r, 3)) as 1 | 2 | 3, tsOut: r() < 0.3 } } }
  }]
]

describe.skipIf(!fixturesPresent)("DbnDecoder fuzzing", () => {
  it("survives 100,000 random and mutated inputs: typed problems only, split-independent, bounded memory", () => {
    const corpus = seeds()
    const r = rng(20240501)
    globalThis.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    let peakBuffers = 0
    const seen = new Map<string, number>()
    const CASES = 100_000
    for (let i = 0; i < CASES; i++) {
      const seed = pick(r, corpus)
      const [name, mutate] = MUTATORS[i % MUTATORS.length]!
      const { bytes, options } = mutate(seed, r, pick(r, corpus))
      let whole: Summary
      let split: Summary
      try {
        whole = run(bytes, [], options)
        // A second decode at random split points must agree exactly (cheap ones only, to stay fast).
        split = run(bytes, i % 4 === 0 ? randomCuts(bytes.length, i, 256) : [], options)
      } catch (e) {
        assert.fail(`case ${i} (${name}) threw: ${e instanceof Error ? e.stack : String(e)}`)
      }
      if (JSON.stringify(whole) !== JSON.stringify(split)) {
        assert.fail(`case ${i} (${name}): split decode ${JSON.stringify(split)} != whole ${JSON.stringify(whole)}`)
      }
      seen.set(whole.fatal.split("@")[0]!, (seen.get(whole.fatal.split("@")[0]!) ?? 0) + 1)
      if (i % 5000 === 0) peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers)
    }
    // Every fatal reason the decoder can produce was reached.
    for (const reason of [...FATAL, "-"]) {
      assert.isAbove(seen.get(reason) ?? 0, 0, reason)
    }
    globalThis.gc?.()
    assert.isBelow(process.memoryUsage().heapUsed - heapBefore, 200 << 20)
    assert.isBelow(peakBuffers, 512 << 20)
  })

  it("survives 2,000 mutated zstd inputs with Zstd problems only", () => {
    const compressed = allFixtures()
      .filter((f) => f.endsWith(".zst"))
      .map((f) => readFixture(f))
      .filter((b) => b.length < 20_000)
    const r = rng(7)
    for (let i = 0; i < 2000; i++) {
      const b = pick(r, compressed).slice()
      const kind = i % 3
      if (kind === 0) for (let k = 1 + int(r, 6); k > 0; k--) b[int(r, b.length)]! ^= 1 << int(r, 8)
      const input = kind === 1 ? b.subarray(0, int(r, b.length)) : b
      const z = new Zstd.ZstdDecompressor({ maxWindow: 4 << 20 })
      let problem: DbnProblem | undefined
      try {
        for (const to of [...randomCuts(input.length, i, 2048), input.length]) {
          const out = z.push(input.subarray(0, to).subarray(z.compressedOffset))
          problem = out.problem
          if (problem !== undefined) break
        }
        problem ??= z.finish().problem
      } catch (e) {
        assert.fail(`zstd case ${i} threw: ${String(e)}`)
      }
      if (problem !== undefined) assert.strictEqual(problem.reason, "Zstd")
      if (kind === 2) assert.strictEqual(problem, undefined)
    }
  })
})
