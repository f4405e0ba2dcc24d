/**
 * Helpers for the DBN tests: fixture bytes (decompressed with our own Zstd module), decoding with arbitrary
 * split points, and a flat stream-order view of what the decoder produced.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { type DbnProblem, type DecodedChunk, mboAt } from "../../src/dbn/Batch.js"
import { DbnDecoder, type DecoderOptions } from "../../src/dbn/Decoder.js"
import type { Metadata } from "../../src/dbn/Metadata.js"
import type { DbnRecord, MboMsg } from "../../src/dbn/Records.js"
import * as Zstd from "../../src/dbn/Zstd.js"
import { fixturesDir, readFixture } from "../support/Fixtures.js"

/** Every `.dbn*` fixture, relative to the fixtures dir, sorted. */
export const allFixtures = (): Array<string> => {
  const out: Array<string> = []
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (/\.dbn/.test(e.name)) out.push(path.relative(fixturesDir, p))
    }
  }
  if (fs.existsSync(fixturesDir)) walk(fixturesDir)
  return out.sort()
}

/** Decoder options for a fixture: fragments carry their version in the name (README). */
export const optionsFor = (file: string): DecoderOptions => {
  if (!file.includes(".frag")) return {}
  const m = /\.v([123])\./.exec(file)
  return { fragment: { version: Number(m![1]) as 1 | 2 | 3 } }
}

const cache = new Map<string, Uint8Array>()

/** A fixture's DBN bytes, decompressed if `.zst`. */
export const dbnBytes = (file: string): Uint8Array => {
  const hit = cache.get(file)
  if (hit !== undefined) return hit
  const raw = readFixture(file)
  let bytes = raw
  if (file.endsWith(".zst")) {
    const r = Zstd.decompressAll(raw)
    if (r.problem !== undefined) throw new Error(`${file}: ${r.problem.detail}`)
    bytes = r.bytes
  }
  cache.set(file, bytes)
  return bytes
}

export type AnyRecord = MboMsg | DbnRecord

/** Everything a decode produced, flattened in stream order. */
export interface Decoded {
  readonly metadata: Metadata | undefined
  readonly records: Array<AnyRecord>
  readonly skippedUnknown: number
  readonly skippedMalformed: number
  readonly problems: Array<DbnProblem>
  readonly fatal: DbnProblem | undefined
  readonly finish: DbnProblem | undefined
  readonly chunks: number
}

/** Appends one chunk's records to `out` in stream order (MBO rows interleaved with others by `othersAt`). */
export const flatten = (chunk: DecodedChunk, out: Array<AnyRecord>): void => {
  let k = 0
  for (let i = 0; i <= chunk.mbo.length; i++) {
    while (k < chunk.others.length && chunk.othersAt[k] === i) out.push(chunk.others[k++]!)
    if (i < chunk.mbo.length) out.push(mboAt(chunk.mbo, i))
  }
}

/**
 * Decodes `bytes` pushed in pieces ending at `cuts` (ascending offsets), draining after every piece; with
 * `recycle`, every batch is handed back to the decoder once its rows have been read.
 */
export const decodeSplit = (
  bytes: Uint8Array,
  cuts: ReadonlyArray<number>,
  options: DecoderOptions = {},
  recycle = false
): Decoded => {
  const d = new DbnDecoder(options)
  const records: Array<AnyRecord> = []
  const problems: Array<DbnProblem> = []
  let metadata: Metadata | undefined
  let unknown = 0
  let malformed = 0
  let fatal: DbnProblem | undefined
  let chunks = 0
  let from = 0
  const ends = [...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length]
  for (const to of ends) {
    d.push(bytes.subarray(from, to))
    from = to
    const out = d.drain()
    chunks++
    if (out.metadata !== undefined) metadata = out.metadata
    flatten(out, records)
    if (recycle) d.recycle(out.mbo)
    unknown += out.skippedUnknown
    malformed += out.skippedMalformed
    problems.push(...out.problems)
    if (out.fatal !== undefined) {
      fatal = out.fatal
      break
    }
  }
  return {
    metadata,
    records,
    skippedUnknown: unknown,
    skippedMalformed: malformed,
    problems,
    fatal,
    finish: d.finish(),
    chunks
  }
}

export const decodeWhole = (bytes: Uint8Array, options: DecoderOptions = {}): Decoded => decodeSplit(bytes, [], options)

/** Cut points for one byte at a time. */
export const everyByte = (length: number): Array<number> => Array.from({ length }, (_, i) => i + 1)

/** Deterministic PRNG (mulberry32) for split points and fuzzing. */
export const rng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Seeded random cut points: pieces from 1 byte up to `maxPiece`. */
export const randomCuts = (length: number, seed: number, maxPiece = 4096): Array<number> => {
  const r = rng(seed)
  const cuts: Array<number> = []
  let at = 0
  while (at < length) {
    // Mostly small pieces, sometimes large: splits land inside headers, fields and metadata.
    const piece = r() < 0.7 ? 1 + Math.floor(r() * 97) : 1 + Math.floor(r() * maxPiece)
    at += piece
    if (at < length) cuts.push(at)
  }
  return cuts
}
