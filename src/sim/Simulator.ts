/**
 * Deterministic NQ options session simulator: from a seed and a chain shape, a DBN v3 stream (metadata, symbol
 * mappings, definitions, a start-of-session MBO snapshot, then live MBO in the GLBX pattern) streamed out in
 * chunks, plus the ground truth of every trade, episode and 5-minute window. Plain TS; no Effect.
 */
import { SType } from "../dbn/Constants.js"
import type { Metadata } from "../dbn/Metadata.js"
import * as Calendar from "./Calendar.js"
import * as Chain from "./Chain.js"
import * as Definitions from "./Definitions.js"
import { Market } from "./Market.js"
import { Rng } from "./Random.js"
import { TradeTape, type Truth, WindowTruth } from "./Truth.js"
import { SessionWriter } from "./Writer.js"

export interface SimParams {
  /** Any integer; the whole output is a function of the parameters. */
  readonly seed: number
  /** Trading day, `YYYY-MM-DD` (New York). */
  readonly date: string
  /** Session open, `HH:MM` America/New_York. */
  readonly sessionStart: string
  /** Session length, minutes. */
  readonly sessionMinutes: number
  /** Listed expirations, 1–8 (Friday weeklies, end-of-month, and always the quarterly last). */
  readonly expirations: number
  /** Strikes per expiration around the money, each a call and a put. */
  readonly strikesPerExpiration: number
  /** Index points between strikes. */
  readonly strikeSpacing: number
  /** Underlying (NQ future) price at the open, index points. */
  readonly underlyingPrice: number
  /** Annualised volatility of the underlying walk and of the option model. */
  readonly volatility: number
  /** Price levels each market maker keeps per side. */
  readonly levelsPerSide: number
  /** Approximate number of live MBO records (the background rate adapts to land near it at the close). */
  readonly targetRecords: number
  /** Injected institutional-flow episodes. */
  readonly episodes: number
  /** Injected decoys (alternately balanced large flow and straddles); 0 leaves the session as without them. */
  readonly decoys: number
  /** Range of an episode's median order size, contracts. */
  readonly episodeSize: readonly [number, number]
  /** Range of an episode's aggressive order count. */
  readonly episodeOrders: readonly [number, number]
  /** Mid-session book clears (each an `R` followed by the book re-added). */
  readonly clears: number
  /** Share of background events that are trades. */
  readonly tradeShare: number
  /** Share of background trades printed with side `N` at the touch. */
  readonly unattributedShare: number
  /** Size of the chunks handed out, bytes (a chunk ends at a record boundary, at or just past this size). */
  readonly chunkBytes: number
  /** Keep the trade tape (every T with its true direction) in the truth; off for very large benchmark sessions. */
  readonly collectTrades: boolean
}

/** The embedded default: one 09:30–16:00 session, four expirations × 40 strikes, about three million records. */
export const defaultParams: SimParams = {
  seed: 1,
  date: "2026-11-18",
  sessionStart: "09:30",
  sessionMinutes: 390,
  expirations: 4,
  strikesPerExpiration: 40,
  strikeSpacing: 50,
  underlyingPrice: 21500,
  volatility: 0.22,
  levelsPerSide: 5,
  targetRecords: 3_000_000,
  episodes: 6,
  decoys: 0,
  episodeSize: [40, 150],
  episodeOrders: [15, 60],
  clears: 4,
  tradeShare: 0.09,
  unattributedShare: 0.05,
  chunkBytes: 1 << 20,
  collectTrades: true
}

/** Input symbol of the options' parent subscription. */
export const PARENT_SYMBOL = "NQ.OPT"
export const DATASET = "GLBX.MDP3"

export interface Session {
  readonly params: SimParams
  readonly chain: Chain.Chain
  /** Session open and close, ns since epoch (close exclusive). */
  readonly startNs: bigint
  readonly endNs: bigint
  readonly metadata: Metadata
  /**
   * The DBN bytes, chunk by chunk (one pass; each array is fresh and may be kept). Generation happens as the
   * chunks are pulled, so memory stays bounded whatever the record count.
   */
  chunks(): IterableIterator<Uint8Array>
  /** The ground truth; complete once `chunks()` has been consumed to the end (throws before that). */
  readonly truth: Truth
}

const NS_PER_MINUTE = 60_000_000_000n

/**
 * Schema is null (mixed): the stream interleaves symbol-mapping and definition records with MBO, as a live
 * session does, so a decoder must not assume every record is MBO. stype_in is parent (`NQ.OPT`) and the
 * metadata also carries the historical-style mappings (raw symbol → instrument id for the trading day).
 */
const buildMetadata = (chain: Chain.Chain, day: number, startNs: bigint, endNs: bigint): Metadata => {
  const interval = (id: number) => [
    { start_date: Calendar.yyyymmdd(day), end_date: Calendar.yyyymmdd(day + 1), symbol: String(id) }
  ]
  return {
    version: 3,
    dataset: DATASET,
    schema: null,
    start: startNs,
    end: endNs,
    limit: 0n,
    stype_in: SType.PARENT,
    stype_out: SType.INSTRUMENT_ID,
    ts_out: false,
    symbol_cstr_len: 71,
    symbols: [PARENT_SYMBOL],
    partial: [],
    not_found: [],
    mappings: [
      { raw_symbol: chain.future.rawSymbol, intervals: interval(chain.future.instrumentId) },
      ...chain.options.map((o) => ({ raw_symbol: o.rawSymbol, intervals: interval(o.instrumentId) }))
    ]
  }
}

/** Prepares a session; nothing is generated until `chunks()` is iterated. */
export const simulate = (overrides: Partial<SimParams> = {}): Session => {
  const params: SimParams = { ...defaultParams, ...overrides }
  const day = Calendar.parseIsoDate(params.date)
  const startNs = Calendar.newYorkToUtcNs(day, Calendar.parseClock(params.sessionStart))
  const endNs = startNs + BigInt(Math.round(params.sessionMinutes)) * NS_PER_MINUTE
  const rng = new Rng(params.seed)
  const chain = Chain.build(
    {
      tradingDay: day,
      expirations: params.expirations,
      strikesPerExpiration: params.strikesPerExpiration,
      strikeSpacing: params.strikeSpacing,
      underlyingPrice: params.underlyingPrice
    },
    rng.fork()
  )
  const metadata = buildMetadata(chain, day, startNs, endNs)
  let truth: Truth | undefined
  let started = false

  function* run(): Generator<Uint8Array> {
    const out = new SessionWriter(startNs, params.chunkBytes)
    const windows = new WindowTruth(startNs)
    const tape = new TradeTape(startNs)
    const market = new Market(
      {
        startNs,
        durationNs: Number(endNs - startNs),
        targetRecords: params.targetRecords,
        underlyingPrice: params.underlyingPrice,
        volatility: params.volatility,
        levelsPerSide: params.levelsPerSide,
        tradeShare: params.tradeShare,
        unattributedShare: params.unattributedShare,
        episodes: params.episodes,
        decoys: params.decoys,
        episodeSize: params.episodeSize,
        episodeOrders: params.episodeOrders,
        clears: params.clears,
        collectTrades: params.collectTrades
      },
      chain,
      rng,
      out,
      windows,
      tape
    )
    const chunk = params.chunkBytes
    const t = { tsEvent: startNs, tsRecv: startNs, startTs: startNs, endTs: endNs }
    out.metadata(metadata)
    const f = chain.future
    out.record(Definitions.symbolMapping(f.instrumentId, SType.RAW_SYMBOL, f.rawSymbol, f.rawSymbol, t))
    for (const o of chain.options) {
      out.record(Definitions.symbolMapping(o.instrumentId, SType.PARENT, PARENT_SYMBOL, o.rawSymbol, t))
      if (out.pending >= chunk) yield out.take()
    }
    out.record(Definitions.futureDefinition(chain.future, t))
    for (const o of chain.options) {
      out.record(Definitions.optionDefinition(o, chain, t))
      if (out.pending >= chunk) yield out.take()
    }
    market.snapshot()
    while (!market.done) {
      market.step()
      if (out.pending >= chunk) yield out.take()
    }
    const last = out.take()
    if (last.length > 0) yield last

    const rows = windows.rows()
    let trades = 0
    let buyVolume = 0
    let sellVolume = 0
    let premium = 0
    for (const w of rows) {
      trades += w.totalTrades
      buyVolume += w.askVolume
      sellVolume += w.bidVolume
      premium += w.premium
    }
    const byAction: Record<string, number> = {}
    for (const a of "ACMRTFN") byAction[a] = out.byAction[a.charCodeAt(0)]!
    truth = {
      windows: rows,
      episodes: market.episodeTruths(),
      decoys: market.decoyTruths(),
      trades: tape,
      totals: { trades, volume: buyVolume + sellVolume, buyVolume, sellVolume, premium },
      counts: {
        records: out.mboRecords + out.definitions + out.symbolMappings,
        definitions: out.definitions,
        symbolMappings: out.symbolMappings,
        mbo: out.mboRecords,
        snapshot: out.snapshotRecords,
        byAction,
        clears: market.clears,
        bytes: out.bytesOut
      }
    }
  }

  return {
    params,
    chain,
    startNs,
    endNs,
    metadata,
    chunks() {
      if (started) throw new Error("Session.chunks() can be iterated only once")
      started = true
      return run()
    },
    get truth(): Truth {
      if (truth === undefined) throw new Error("the truth is complete only after chunks() has been consumed")
      return truth
    }
  }
}

/** Generates a session into `sink` chunk by chunk and returns its truth. */
export const writeSession = (overrides: Partial<SimParams>, sink: (chunk: Uint8Array) => void): Truth => {
  const session = simulate(overrides)
  for (const chunk of session.chunks()) sink(chunk)
  return session.truth
}

/** Generates a whole session in memory (tests and small sessions; large ones should stream). */
export const generate = (
  overrides: Partial<SimParams> = {}
): { readonly bytes: Uint8Array; readonly truth: Truth; readonly session: Session } => {
  const session = simulate(overrides)
  const parts: Array<Uint8Array> = []
  let total = 0
  for (const chunk of session.chunks()) {
    parts.push(chunk)
    total += chunk.length
  }
  const bytes = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    bytes.set(p, at)
    at += p.length
  }
  return { bytes, truth: session.truth, session }
}
