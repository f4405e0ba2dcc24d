/**
 * Throughput of the pure hot path alone (src/flow/Engine.ts: books → direction → windows), on batches built in
 * memory so no decoding is timed: a synthetic option chain and, when the simulator is available, a simulated NQ
 * options session decoded beforehand. Also exports the synthetic generator (used by the engine tests).
 */
import { allocMboBatch, chunkOfRows, type DecodedChunk, type MboBatch } from "../src/dbn/Batch.js"
import { UNDEF_PRICE } from "../src/dbn/Constants.js"
import { DbnDecoder } from "../src/dbn/Decoder.js"
import type { DbnRecord, InstrumentDefMsg } from "../src/dbn/Records.js"
import { Books } from "../src/book/Books.js"
import { FlowEngine } from "../src/flow/Engine.js"
import { definition } from "../src/testing/Definitions.js"
import type { Section } from "./run.js"

export interface SyntheticOptions {
  /** MBO records to generate (approximately: trade events add a few). */
  readonly records: number
  /** Option instruments (calls and puts alternate); activity is skewed towards the first ones. */
  readonly instruments: number
  /** Rows per chunk. */
  readonly chunkRows: number
  readonly seed: number
  /** Mean ns between records (sets how many 5-minute windows the stream spans). */
  readonly spacingNs: number
  /** Price levels quoted per side in the opening snapshot. */
  readonly levels: number
  /** Mean records per run of one instrument (1 = a random instrument every record, the worst case for caches). */
  readonly burst: number
}

export const defaultSynthetic: SyntheticOptions = {
  records: 2_000_000,
  instruments: 400,
  chunkRows: 8_192,
  seed: 7,
  spacingNs: 600_000,
  levels: 40,
  burst: 8
}

/** 2024-01-02 14:30:00 UTC, ns. */
const START = 1_704_205_800_000_000_000n
const TICK = 250_000_000

const optionDefinition = (id: number, strike: number, cls: "C" | "P"): InstrumentDefMsg =>
  definition({ instrument: id, strike, cls, ts: START, activation: START, underlyingId: 1, maxTradeVol: 2000 })

interface Resting {
  readonly inst: number
  readonly side: number
  ticks: number
  size: number
  at: number
}

/**
 * A synthetic GLBX-like MBO stream over an option chain: definitions, then a snapshot per instrument (Clear + Adds
 * with F_SNAPSHOT), then adds, cancels (full and partial), modifies (price and size) and trade events (T with side
 * B/A/N, then F and C on a resting order), with time advancing monotonically. Every cancel/modify names a live order.
 */
export const synthetic = (
  overrides: Partial<SyntheticOptions> = {}
): { chunks: Array<DecodedChunk>; records: number } => {
  const o = { ...defaultSynthetic, ...overrides }
  let seed = o.seed >>> 0
  const rand = (): number => {
    seed = (seed + 0x6d2b79f5) >>> 0
    let t = seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(rand() * n)

  const definitions: Array<DbnRecord> = []
  const mid: Array<number> = []
  const live: Array<Array<number>> = []
  for (let i = 0; i < o.instruments; i++) {
    definitions.push(optionDefinition(1000 + i, 20_000 + 50 * (i >> 1), i % 2 === 0 ? "C" : "P"))
    mid.push(80 + int(400))
    live.push([])
  }
  const orders = new Map<number, Resting>()
  let nextId = 6_400_000_000_000

  const chunks: Array<DecodedChunk> = []
  let b: MboBatch = allocMboBatch(o.chunkRows)
  let others: Array<DbnRecord> = definitions
  let othersAt: Array<number> = definitions.map(() => 0)
  let total = 0
  let ts = START + 1_000_000n
  let seq = 1
  const flush = () => {
    chunks.push(chunkOfRows(b, others, othersAt))
    b = allocMboBatch(o.chunkRows)
    others = []
    othersAt = []
  }
  const row = (inst: number, action: number, side: number, id: number, ticks: number, size: number, flags: number) => {
    if (b.length === o.chunkRows) flush()
    const i = b.length++
    b.publisherId[i] = 1
    b.instrumentId[i] = 1000 + inst
    b.tsEventHi[i] = Number(ts >> 32n)
    b.tsEventLo[i] = Number(ts & 0xffffffffn)
    b.orderIdHi[i] = Math.floor(id / 4294967296)
    b.orderIdLo[i] = id >>> 0
    const px = ticks < 0 ? NaN : ticks * TICK
    b.price[i] = px
    const raw = ticks < 0 ? UNDEF_PRICE : BigInt(px)
    b.priceHi[i] = Number(BigInt.asIntN(32, raw >> 32n))
    b.priceLo[i] = Number(raw & 0xffffffffn)
    b.size[i] = size
    b.flags[i] = flags
    b.action[i] = action
    b.side[i] = side
    const recv = ts + 20_000n
    b.tsRecvHi[i] = Number(recv >> 32n)
    b.tsRecvLo[i] = Number(recv & 0xffffffffn)
    b.sequence[i] = seq
    total++
  }
  const A = 0x41
  const Bd = 0x42
  const add = (inst: number, side: number, ticks: number, size: number, flags: number) => {
    const id = nextId++
    orders.set(id, { inst, side, ticks, size, at: live[inst]!.length })
    live[inst]!.push(id)
    row(inst, 0x41, side, id, ticks, size, flags)
  }
  const drop = (id: number) => {
    const r = orders.get(id)!
    const list = live[r.inst]!
    const last = list[list.length - 1]!
    list[r.at] = last
    orders.get(last)!.at = r.at
    list.pop()
    orders.delete(id)
  }
  const pick = (inst: number, side?: number): number | undefined => {
    const list = live[inst]!
    if (list.length === 0) return undefined
    for (let tries = 0; tries < 8; tries++) {
      const id = list[int(list.length)]!
      if (side === undefined || orders.get(id)!.side === side) return id
    }
    return undefined
  }

  for (let inst = 0; inst < o.instruments; inst++) {
    row(inst, 0x52, 0x4e, 0, -1, 0, 40)
    for (let l = 1; l <= o.levels; l++) {
      for (let k = 0; k < 2; k++) {
        add(inst, Bd, Math.max(1, mid[inst]! - l), 1 + int(30), 40)
        add(inst, A, mid[inst]! + l, 1 + int(30), l === o.levels && k === 1 ? 168 : 40)
      }
    }
  }

  let inst = 0
  let runLeft = 0
  while (total < o.records) {
    ts += BigInt(1 + int(2 * o.spacingNs))
    seq++
    if (runLeft-- <= 0) {
      const r = rand()
      inst = Math.floor(o.instruments * r * r * rand())
      runLeft = int(2 * o.burst)
    }
    const m = mid[inst]!
    const u = rand()
    // Books stay near their opening depth (about four orders per quoted level and side), as real ones do.
    const full = live[inst]!.length > 4 * o.levels
    if (u < 0.42 && !full) {
      const side = rand() < 0.5 ? Bd : A
      const ticks = side === Bd ? Math.max(1, m - 1 - int(o.levels)) : m + 1 + int(o.levels)
      add(inst, side, ticks, 1 + int(30), 130)
    } else if (u < 0.75 || full) {
      const id = pick(inst)
      if (id === undefined) continue
      const rest = orders.get(id)!
      const size = rand() < 0.7 ? rest.size : 1 + int(rest.size)
      row(inst, 0x43, rest.side, id, rest.ticks, size, 130)
      rest.size -= size
      if (rest.size === 0) drop(id)
    } else if (u < 0.9) {
      const id = pick(inst)
      if (id === undefined) continue
      const rest = orders.get(id)!
      if (rand() < 0.5) rest.ticks = Math.max(1, rest.ticks + (rest.side === Bd ? -1 : 1) * (1 + int(3)))
      else rest.size = 1 + int(40)
      row(inst, 0x4d, rest.side, id, rest.ticks, rest.size, 130)
    } else {
      const s = rand()
      const side = s < 0.45 ? Bd : s < 0.9 ? A : 0x4e
      const resting = pick(inst, side === Bd ? A : Bd)
      if (resting === undefined) continue
      const rest = orders.get(resting)!
      const size = 1 + int(Math.min(rest.size, 10))
      row(inst, 0x54, side, side === 0x4e ? 0 : nextId++, rest.ticks, size, 0)
      row(inst, 0x46, rest.side, resting, rest.ticks, size, 0)
      row(inst, 0x43, rest.side, resting, rest.ticks, size, 130)
      rest.size -= size
      if (rest.size === 0) drop(resting)
      if (rand() < 0.05) mid[inst] = Math.max(5, m + (rand() < 0.5 ? -1 : 1))
    }
  }
  if (b.length > 0 || others.length > 0) flush()
  return { chunks, records: total }
}

const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * Median records per second of CPU time over `runs` fresh runs of `run` (after one warm-up). CPU time rather than
 * wall time, so that other load on a shared machine does not count against the engine.
 */
const rate = (records: number, runs: number, run: () => void): number => {
  run()
  const rates: Array<number> = []
  for (let r = 0; r < runs; r++) {
    const t0 = process.cpuUsage()
    run()
    const t = process.cpuUsage(t0)
    rates.push(records / ((t.user + t.system) / 1e6))
  }
  return median(rates)
}

const engineRun = (chunks: ReadonlyArray<DecodedChunk>, collectTrades: boolean) => () => {
  const e = new FlowEngine({ collectTrades })
  for (const c of chunks) e.apply(c)
  e.flush()
}

const booksRun = (chunks: ReadonlyArray<DecodedChunk>) => () => {
  const books = new Books()
  for (const c of chunks) books.apply(c.mbo)
}

/** A simulated NQ options session, decoded to chunks up front (undefined if the simulator is not there). */
const simulated = async (records: number): Promise<{ chunks: Array<DecodedChunk>; records: number } | undefined> => {
  try {
    const Simulator = await import("../src/sim/Simulator.js")
    const decoder = new DbnDecoder()
    const chunks: Array<DecodedChunk> = []
    let mbo = 0
    Simulator.writeSession({ seed: 1, targetRecords: records, collectTrades: false }, (bytes) => {
      decoder.push(bytes)
      const c = decoder.drain()
      mbo += c.mbo.length
      chunks.push(c)
    })
    return { chunks, records: mbo }
  } catch {
    return undefined
  }
}

const fmt = (r: number): string => `${(r / 1e6).toFixed(1)} M records/s`

export const benchEngine = async (): Promise<Section> => {
  const lines: Array<string> = [
    "| input | MBO records | books only | engine | engine + trade batches |",
    "|---|---|---|---|---|"
  ]
  const cells = (records: number, chunks: ReadonlyArray<DecodedChunk>): string =>
    `${records.toLocaleString("en-US")} | ${fmt(rate(records, 5, booksRun(chunks)))} | ` +
    `${fmt(rate(records, 5, engineRun(chunks, false)))} | ${fmt(rate(records, 5, engineRun(chunks, true)))} |`
  for (const burst of [defaultSynthetic.burst, 1]) {
    const syn = synthetic({ burst })
    const what = burst === 1 ? "a random one every record" : `runs of ~${burst} records per instrument`
    lines.push(`| synthetic: ${defaultSynthetic.instruments} options, ${what} | ${cells(syn.records, syn.chunks)}`)
  }
  const sim = await simulated(1_000_000)
  if (sim !== undefined) {
    lines.push(`| simulated NQ session (seed 1), 1 MiB chunks | ${cells(sim.records, sim.chunks)}`)
  }
  lines.push(
    "",
    "Engine alone (`FlowEngine.apply` over batches already in memory; decoding not timed): records per second of",
    "process CPU time, median of 5 runs after a warm-up, each run a fresh engine (so book pools grow from empty).",
    "Synthetic mix: ~42 % adds, 33 % cancels, 15 % modifies, 10 % trade events (T+F+C), books held near 40",
    "levels a side, 8,192-row chunks. The simulated session is the realistic case (320 options, ~27 % of records",
    "open a price level)."
  )
  return { title: "Engine (books → direction → windows)", lines }
}
