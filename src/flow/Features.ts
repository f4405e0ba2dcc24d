/**
 * Per-window flow features beyond the pressure ratio, accumulated from the engine's per-chunk `TradeBatch`:
 * sweeps (one aggressive event printing at several prices), large prints (an event's size over a threshold) and
 * premium by side. An event is the run of T records sharing instrument, ts_event and sequence (GLBX prints one T
 * per price level an aggressor crossed). Pure TS.
 */
import type { TradeBatch } from "./Engine.js"
import { Dir } from "./Direction.js"
import type { OptionType, PressureWindow } from "./PressureWindow.js"
import { windowIndexOf } from "./Windows.js"

/** What the features need to know of an instrument. */
export interface InstrumentInfo {
  readonly expiration: string
  readonly strike: number
  readonly optionType: OptionType | undefined
  readonly multiplier: number
  readonly windowed: boolean
}

export interface FeatureOptions {
  /** An aggressive event of at least this many contracts is a large print (default 25). */
  readonly largeSize?: number
}

/** Flow features of one closed window (one expiration, strike and option type). */
export interface FlowFeatures {
  /** Aggressive events that printed at two or more prices. */
  readonly sweeps: number
  /** Contracts traded by those events. */
  readonly sweepVolume: number
  /** Buyer- minus seller-initiated sweep volume. */
  readonly sweepNet: number
  /** Aggressive events of at least `largeSize` contracts. */
  readonly largePrints: number
  readonly largeVolume: number
  /** Buyer- minus seller-initiated large-print volume. */
  readonly largeNet: number
  /** Σ price (points) × size × multiplier of buyer- / seller-initiated trades, currency units. */
  readonly buyPremium: number
  readonly sellPremium: number
}

export const emptyFeatures: FlowFeatures = {
  sweeps: 0,
  sweepVolume: 0,
  sweepNet: 0,
  largePrints: 0,
  largeVolume: 0,
  largeNet: 0,
  buyPremium: 0,
  sellPremium: 0
}

class Acc {
  sweeps = 0
  sweepVolume = 0
  sweepNet = 0
  largePrints = 0
  largeVolume = 0
  largeNet = 0
  buyPremium = 0
  sellPremium = 0
}

const PRICE_SCALE = 1e9

export class Features {
  private readonly largeSize: number
  /** window index → instrument id → accumulator. */
  private readonly accs = new Map<number, Map<number, Acc>>()
  /** `expiration|strike|type` → instrument ids (built once per instrument). */
  private readonly idsByKey = new Map<string, Array<number>>()
  private readonly known = new Map<number, InstrumentInfo | null>()
  // the event in progress, kept across chunks (a chunk may end inside an event)
  private evId = -1
  private evHi = -1
  private evLo = -1
  private evSeq = -1
  private evPrice = NaN
  private evLevels = 0
  private evVolume = 0
  private evAcc: Acc | undefined = undefined
  // the last lookups (`take` and `prune` drop accumulators, so they forget the last one)
  private lastInfoId = -1
  private lastInfo: InstrumentInfo | null = null
  private lastIndex = -1
  private lastAccId = -1
  private lastAcc: Acc | undefined = undefined

  constructor(private readonly lookup: (instrumentId: number) => InstrumentInfo | undefined, options: FeatureOptions = {}) {
    this.largeSize = options.largeSize ?? 25
  }

  /** Adds one chunk's classified trades. */
  addTrades(t: TradeBatch): void {
    for (let i = 0; i < t.length; i++) {
      const id = t.instrumentId[i]!
      const info = this.info(id)
      const hi = t.tsEventHi[i]!
      const lo = t.tsEventLo[i]!
      const seq = t.sequence[i]!
      const size = t.size[i]!
      const px = t.price[i]!
      if (info === null) {
        this.evId = -1
        continue
      }
      const acc = this.accFor(windowIndexOf(hi, lo), id)
      const side = t.side[i]!
      const sign = side === Dir.BUY ? 1 : side === Dir.SELL ? -1 : 0
      if (id === this.evId && hi === this.evHi && lo === this.evLo && seq === this.evSeq && acc === this.evAcc) {
        if (px !== this.evPrice) {
          this.evPrice = px
          // the second price makes the event a sweep: count it once, with what it traded so far
          if (++this.evLevels === 2) {
            acc.sweeps++
            acc.sweepVolume += this.evVolume
            acc.sweepNet += sign * this.evVolume
          }
        }
        if (this.evLevels >= 2) {
          acc.sweepVolume += size
          acc.sweepNet += sign * size
        }
        const before = this.evVolume
        this.evVolume += size
        if (before < this.largeSize && this.evVolume >= this.largeSize) {
          acc.largePrints++
          acc.largeVolume += this.evVolume
          acc.largeNet += sign * this.evVolume
        } else if (before >= this.largeSize) {
          acc.largeVolume += size
          acc.largeNet += sign * size
        }
      } else {
        this.evId = id
        this.evHi = hi
        this.evLo = lo
        this.evSeq = seq
        this.evPrice = px
        this.evLevels = 1
        this.evVolume = size
        this.evAcc = acc
        if (size >= this.largeSize) {
          acc.largePrints++
          acc.largeVolume += size
          acc.largeNet += sign * size
        }
      }
      if (px === px) {
        const premium = (px / PRICE_SCALE) * size * info.multiplier
        if (side === Dir.BUY) acc.buyPremium += premium
        else if (side === Dir.SELL) acc.sellPremium += premium
      }
    }
  }

  /** The features of a closed window; each window is taken once (its accumulator is dropped). */
  take(w: PressureWindow): FlowFeatures {
    this.lastAcc = undefined
    const index = Math.floor(w.windowStart / 300_000)
    const byId = this.accs.get(index)
    const ids = this.idsByKey.get(keyOf(w.expiration, w.strike, w.optionType))
    if (byId === undefined || ids === undefined) return emptyFeatures
    let out: Acc | undefined
    for (const id of ids) {
      const a = byId.get(id)
      if (a === undefined) continue
      byId.delete(id)
      if (out === undefined) out = a
      else {
        out.sweeps += a.sweeps
        out.sweepVolume += a.sweepVolume
        out.sweepNet += a.sweepNet
        out.largePrints += a.largePrints
        out.largeVolume += a.largeVolume
        out.largeNet += a.largeNet
        out.buyPremium += a.buyPremium
        out.sellPremium += a.sellPremium
      }
    }
    if (byId.size === 0) this.accs.delete(index)
    return out ?? emptyFeatures
  }

  /** Drops what is left of windows before `windowStart` (instruments without windows; nothing will take it). */
  prune(windowStart: number): void {
    this.lastAcc = undefined
    const index = Math.floor(windowStart / 300_000)
    for (const w of this.accs.keys()) if (w < index) this.accs.delete(w)
  }

  /** Open accumulators (for tests and leak checks). */
  get pending(): number {
    let n = 0
    for (const m of this.accs.values()) n += m.size
    return n
  }

  private info(id: number): InstrumentInfo | null {
    // A chunk's trades come in runs of one instrument: the last answer is the likely one.
    if (id === this.lastInfoId) return this.lastInfo
    let info = this.known.get(id)
    if (info === undefined) {
      const found = this.lookup(id)
      if (found === undefined) return null // not cached: the definition may still come
      info = found.windowed && found.optionType !== undefined ? found : null
      this.known.set(id, info)
      if (info !== null) {
        const key = keyOf(info.expiration, info.strike, info.optionType!)
        const ids = this.idsByKey.get(key)
        if (ids === undefined) this.idsByKey.set(key, [id])
        else ids.push(id)
      }
    }
    this.lastInfoId = id
    this.lastInfo = info
    return info
  }

  private accFor(index: number, id: number): Acc {
    if (index === this.lastIndex && id === this.lastAccId && this.lastAcc !== undefined) return this.lastAcc
    let byId = this.accs.get(index)
    if (byId === undefined) {
      byId = new Map()
      this.accs.set(index, byId)
    }
    let acc = byId.get(id)
    if (acc === undefined) {
      acc = new Acc()
      byId.set(id, acc)
    }
    this.lastIndex = index
    this.lastAccId = id
    this.lastAcc = acc
    return acc
  }
}

const keyOf = (expiration: string, strike: number, optionType: OptionType): string => `${expiration}|${strike}|${optionType}`
