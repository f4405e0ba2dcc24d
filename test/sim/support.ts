/**
 * Test-side replay of a simulated session: decodes the bytes with the project decoder and checks them with its
 * own simple order tracking (independent of the simulator's internals), collecting what the tests assert on.
 */
import { type DecodedChunk, type MboBatch, u64ToNumber } from "../../src/dbn/Batch.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import type { Metadata } from "../../src/dbn/Metadata.js"
import type { DbnRecord, InstrumentDefMsg, SymbolMappingMsg } from "../../src/dbn/Records.js"
import { type PressureWindow, WINDOW_MS } from "../../src/flow/PressureWindow.js"
import { compareWindows, dominantSideOf } from "../../src/sim/Truth.js"

const A = 0x41
const B = 0x42
const C = 0x43
const F = 0x46
const M = 0x4d
const N = 0x4e
const R = 0x52
const T = 0x54
const LAST = 0x80
const SNAPSHOT = 0x20

/** One decoded T record, with the direction this replay derives on its own. */
export interface ReplayedTrade {
  readonly tsEvent: bigint
  readonly instrumentId: number
  /** 1e-9 units. */
  readonly price: number
  readonly size: number
  readonly side: number
  readonly sequence: number
  /** 1 BUY, 2 SELL: from the side for B/A, from the quote rule against the book before the event for N. */
  readonly direction: number
  /** 1 aggressor, 2 quote. */
  readonly rule: number
}

export interface Replay {
  readonly metadata: Metadata
  readonly definitions: ReadonlyArray<InstrumentDefMsg>
  readonly mappings: ReadonlyArray<SymbolMappingMsg>
  /** Record kinds in stream order, run-length encoded ("mapping", "definition", "snapshot", "live"). */
  readonly sections: ReadonlyArray<string>
  readonly mbo: number
  readonly byAction: Readonly<Record<string, number>>
  readonly snapshotRecords: number
  /** Instruments whose snapshot was a Clear with flags 40, Adds with flags 40 and a last record with 168. */
  readonly snapshotsWellFormed: number
  /** Consistency violations (the first few described, all counted). */
  readonly problems: ReadonlyArray<string>
  readonly problemCount: number
  readonly trades: ReadonlyArray<ReplayedTrade>
  /** Trade events whose T records span more than one price. */
  readonly sweeps: number
  /** Mid-session Clears. */
  readonly clears: number
  /** Windows rebuilt from the bytes alone. */
  readonly windows: ReadonlyArray<PressureWindow>
  /** Whether ts_event never decreased along the stream. */
  readonly monotonic: boolean
}

interface Resting {
  readonly instrument: number
  readonly side: number
  price: number
  size: number
}

interface Rec {
  instrument: number
  tsEvent: bigint
  orderId: number
  price: number
  size: number
  flags: number
  action: number
  side: number
  sequence: number
}

interface InstrumentInfo {
  readonly expiration: string
  readonly strike: number
  readonly optionType: "C" | "P"
  readonly multiplier: number
}

/** Visits every record of a decoded chunk in stream order. */
export const forEachRecord = (
  chunk: DecodedChunk,
  onMbo: (b: MboBatch, i: number) => void,
  onOther: (r: DbnRecord) => void
): void => {
  let k = 0
  const { others, othersAt, mbo } = chunk
  for (let i = 0; i <= mbo.length; i++) {
    while (k < others.length && othersAt[k] === i) onOther(others[k++]!)
    if (i < mbo.length) onMbo(mbo, i)
  }
}

const NS_PER_DAY = 86_400_000_000_000n

const isoDay = (ns: bigint): string => new Date(Number(ns / NS_PER_DAY) * 86_400_000).toISOString().slice(0, 10)

/** Decodes and checks a whole session. */
export const replay = (chunks: Iterable<Uint8Array>): Replay => {
  const decoder = new DbnDecoder()
  let metadata: Metadata | undefined
  const definitions: Array<InstrumentDefMsg> = []
  const mappings: Array<SymbolMappingMsg> = []
  const sections: Array<string> = []
  const byAction: Record<string, number> = {}
  const problems: Array<string> = []
  let problemCount = 0
  const problem = (s: string) => {
    problemCount++
    if (problems.length < 10) problems.push(s)
  }
  const section = (s: string) => {
    if (sections[sections.length - 1] !== s) sections.push(s)
  }

  const orders = new Map<number, Resting>()
  const byInstrument = new Map<number, Set<number>>()
  const info = new Map<number, InstrumentInfo>()
  const trades: Array<ReplayedTrade> = []
  let mbo = 0
  let snapshotRecords = 0
  let snapshotsWellFormed = 0
  let sweeps = 0
  let clears = 0
  let monotonic = true
  let lastTs = -1n
  const inSnapshot = new Map<number, { ok: boolean; count: number }>()
  let event: Array<Rec> = []

  const set = (instrument: number): Set<number> => {
    let s = byInstrument.get(instrument)
    if (s === undefined) {
      s = new Set()
      byInstrument.set(instrument, s)
    }
    return s
  }

  const touch = (instrument: number): { bid: number; ask: number } => {
    let bid = -Infinity
    let ask = Infinity
    for (const id of set(instrument)) {
      const o = orders.get(id)!
      if (o.side === B && o.price > bid) bid = o.price
      if (o.side === A && o.price < ask) ask = o.price
    }
    return { bid, ask }
  }

  const apply = (r: Rec): void => {
    const o = orders.get(r.orderId)
    switch (r.action) {
      case A:
        if (o !== undefined) return problem(`Add of an existing order ${r.orderId}`)
        if (r.side !== A && r.side !== B) return problem(`Add with side ${r.side}`)
        if (r.size <= 0) return problem(`Add of size ${r.size}`)
        orders.set(r.orderId, { instrument: r.instrument, side: r.side, price: r.price, size: r.size })
        set(r.instrument).add(r.orderId)
        return
      case C:
        if (o === undefined) return problem(`Cancel of unknown order ${r.orderId}`)
        if (o.instrument !== r.instrument || o.side !== r.side || o.price !== r.price) {
          return problem(`Cancel of ${r.orderId} with another instrument, side or price`)
        }
        if (r.size <= 0 || r.size > o.size) return problem(`Cancel of ${r.size} from ${o.size} resting (${r.orderId})`)
        o.size -= r.size
        if (o.size === 0) {
          orders.delete(r.orderId)
          set(r.instrument).delete(r.orderId)
        }
        return
      case M:
        if (o === undefined) return problem(`Modify of unknown order ${r.orderId}`)
        if (o.instrument !== r.instrument || o.side !== r.side) return problem(`Modify of ${r.orderId} changes side`)
        if (r.size <= 0) return problem(`Modify to size ${r.size}`)
        o.price = r.price
        o.size = r.size
        return
      case R:
        for (const id of set(r.instrument)) orders.delete(id)
        set(r.instrument).clear()
        return
    }
  }

  /** Checks a complete live event (ending in F_LAST) against the GLBX patterns, then applies it. */
  const closeEvent = (ev: Array<Rec>): void => {
    const first = ev[0]!
    for (let i = 0; i < ev.length; i++) {
      const r = ev[i]!
      if (r.instrument !== first.instrument || r.tsEvent !== first.tsEvent || r.sequence !== first.sequence) {
        problem(`event mixes instruments, ts_event or sequence at ${first.tsEvent}`)
        break
      }
      const last = i === ev.length - 1
      if (((r.flags & LAST) !== 0) !== last) problem(`F_LAST misplaced in event at ${first.tsEvent}`)
      if (!last && r.flags !== 0) problem(`non-last record with flags ${r.flags} at ${first.tsEvent}`)
    }
    if (first.action === T) {
      const before = touch(first.instrument)
      const buyer = first.side === B || (first.side === N && first.price >= before.ask)
      let i = 0
      const fills: Array<Rec> = []
      const prices = new Set<number>()
      while (i < ev.length && ev[i]!.action === T) {
        const t = ev[i++]!
        if (t.side !== first.side || t.orderId !== first.orderId) {
          problem(`T records of one event disagree at ${t.tsEvent}`)
        }
        if (t.side === N && t.orderId !== 0) problem(`side-N trade with order id ${t.orderId}`)
        if (t.flags !== 0) problem(`T with flags ${t.flags}`)
        prices.add(t.price)
        let filled = 0
        const fSide = t.side === N ? N : t.side === B ? A : B
        while (i < ev.length && ev[i]!.action === F) {
          const f = ev[i++]!
          if (f.side !== fSide || f.price !== t.price) problem(`F side/price mismatch at ${f.tsEvent}`)
          filled += f.size
          fills.push(f)
        }
        if (filled !== t.size) problem(`T size ${t.size} but fills ${filled} at ${t.tsEvent}`)
        const direction = buyer ? 1 : 2
        if (t.side === N) {
          const atAsk = t.price >= before.ask
          const atBid = t.price <= before.bid
          if (!atAsk && !atBid) problem(`side-N trade inside the spread at ${t.tsEvent}`)
          if (atAsk && atBid) problem(`side-N trade against a crossed book at ${t.tsEvent}`)
        }
        trades.push({
          tsEvent: t.tsEvent,
          instrumentId: t.instrument,
          price: t.price,
          size: t.size,
          side: t.side,
          sequence: t.sequence,
          direction,
          rule: t.side === N ? 2 : 1
        })
      }
      if (prices.size > 1) sweeps++
      for (const f of fills) {
        const u = ev[i++]
        const resting = orders.get(f.orderId)
        if (u === undefined || u.orderId !== f.orderId || resting === undefined) {
          problem(`fill of ${f.orderId} not followed by its book update at ${f.tsEvent}`)
          break
        }
        if (u.action === C ? u.size !== f.size : u.action === M ? u.size !== resting.size - f.size : true) {
          problem(`book update after a fill does not remove the filled quantity (${f.orderId})`)
        }
        apply(u)
      }
      while (i < ev.length) {
        const u = ev[i++]!
        if (u.action !== A || u.orderId !== first.orderId || first.side === N) {
          problem(`unexpected ${u.action} after fills`)
        }
        apply(u)
      }
    } else {
      if (first.action === R) clears++
      for (const r of ev) {
        if (r.action === T || r.action === F) problem(`T/F outside a trade event at ${r.tsEvent}`)
        apply(r)
      }
    }
    const { bid, ask } = touch(first.instrument)
    if (bid >= ask) problem(`crossed or locked book ${bid} >= ${ask} after event at ${first.tsEvent}`)
  }

  const onMbo = (b: MboBatch, i: number) => {
    mbo++
    const r: Rec = {
      instrument: b.instrumentId[i]!,
      tsEvent: (BigInt(b.tsEventHi[i]!) << 32n) | BigInt(b.tsEventLo[i]!),
      orderId: u64ToNumber(b.orderIdHi[i]!, b.orderIdLo[i]!),
      price: b.price[i]!,
      size: b.size[i]!,
      flags: b.flags[i]!,
      action: b.action[i]!,
      side: b.side[i]!,
      sequence: b.sequence[i]!
    }
    const a = String.fromCharCode(r.action)
    byAction[a] = (byAction[a] ?? 0) + 1
    if (r.tsEvent < lastTs) monotonic = false
    lastTs = r.tsEvent
    if ((r.flags & SNAPSHOT) !== 0) {
      section("snapshot")
      snapshotRecords++
      let s = inSnapshot.get(r.instrument)
      if (s === undefined) {
        s = { ok: r.action === R && r.flags === 40, count: 0 }
        inSnapshot.set(r.instrument, s)
      } else if (r.action !== A || (r.flags !== 40 && r.flags !== 168)) s.ok = false
      s.count++
      apply(r)
      if ((r.flags & LAST) !== 0) {
        if (s.ok) snapshotsWellFormed++
        inSnapshot.delete(r.instrument)
      }
      return
    }
    section("live")
    event.push(r)
    if ((r.flags & LAST) !== 0) {
      closeEvent(event)
      event = []
    }
  }

  const onOther = (r: DbnRecord) => {
    if (r.hd.ts_event < lastTs) monotonic = false
    lastTs = r.hd.ts_event
    if (r._tag === "definition") {
      section("definition")
      definitions.push(r)
      if (r.instrument_class === "C" || r.instrument_class === "P") {
        info.set(r.hd.instrument_id, {
          expiration: isoDay(r.expiration),
          strike: Number(r.strike_price) / 1e9,
          optionType: r.instrument_class,
          multiplier: Number(r.unit_of_measure_qty) / 1e9
        })
      }
    } else if (r._tag === "symbolMapping") {
      section("mapping")
      mappings.push(r)
    } else problem(`unexpected record ${r._tag}`)
  }

  for (const bytes of chunks) {
    decoder.push(bytes)
    const chunk = decoder.drain()
    if (chunk.metadata !== undefined) metadata = chunk.metadata
    if (chunk.fatal !== undefined) problem(`decoder: ${chunk.fatal.reason} ${chunk.fatal.detail}`)
    if (chunk.skippedMalformed + chunk.skippedUnknown > 0) problem("decoder skipped records")
    forEachRecord(chunk, onMbo, onOther)
  }
  const end = decoder.finish()
  if (end !== undefined) problem(`decoder finish: ${end.reason}`)
  if (event.length > 0) problem("stream ends inside an event")
  if (inSnapshot.size > 0) problem("stream ends inside a snapshot")

  return {
    metadata: metadata!,
    definitions,
    mappings,
    sections,
    mbo,
    byAction,
    snapshotRecords,
    snapshotsWellFormed,
    problems,
    problemCount,
    trades,
    sweeps,
    clears,
    windows: windowsOf(trades, info),
    monotonic
  }
}

type MutableWindow = { -readonly [K in keyof PressureWindow]: PressureWindow[K] }

/** 5-minute windows rebuilt from replayed trades and the definitions (the test's own aggregation). */
const windowsOf = (trades: ReadonlyArray<ReplayedTrade>, info: Map<number, InstrumentInfo>): Array<PressureWindow> => {
  const acc = new Map<string, MutableWindow>()
  const ms = BigInt(WINDOW_MS) * 1_000_000n
  for (const t of trades) {
    const i = info.get(t.instrumentId)!
    const windowStart = Number(t.tsEvent / ms) * WINDOW_MS
    const key = `${windowStart}|${t.instrumentId}`
    let w = acc.get(key)
    if (w === undefined) {
      w = {
        windowStart,
        expiration: i.expiration,
        strike: i.strike,
        optionType: i.optionType,
        bidVolume: 0,
        askVolume: 0,
        unknownVolume: 0,
        pressureRatio: null,
        totalTrades: 0,
        avgTradeSize: 0,
        dominantSide: "NEUTRAL",
        tradesAggressor: 0,
        tradesQuote: 0,
        tradesTick: 0,
        tradesNone: 0,
        premium: 0,
        maxTradeSize: 0
      }
      acc.set(key, w)
    }
    if (t.direction === 1) w.askVolume += t.size
    else w.bidVolume += t.size
    w.totalTrades++
    if (t.rule === 1) w.tradesAggressor++
    else w.tradesQuote++
    w.premium += (t.price / 1e9) * t.size * i.multiplier
    w.maxTradeSize = Math.max(w.maxTradeSize, t.size)
  }
  const rows = [...acc.values()]
  for (const w of rows) {
    w.pressureRatio = w.bidVolume === 0 ? null : w.askVolume / w.bidVolume
    w.avgTradeSize = (w.bidVolume + w.askVolume + w.unknownVolume) / w.totalTrades
    w.dominantSide = dominantSideOf(w.bidVolume, w.askVolume)
  }
  return rows.sort(compareWindows)
}

/** Compares window rows exactly, floating fields (premium, ratio, average) within a relative tolerance. */
export const windowDiffs = (
  actual: ReadonlyArray<PressureWindow>,
  expected: ReadonlyArray<PressureWindow>,
  rel = 1e-9
): Array<string> => {
  const out: Array<string> = []
  if (actual.length !== expected.length) out.push(`row count ${actual.length} vs ${expected.length}`)
  const close = (x: number | null, y: number | null) =>
    x === null || y === null ? x === y : Math.abs(x - y) <= rel * Math.max(1, Math.abs(x), Math.abs(y))
  const n = Math.min(actual.length, expected.length)
  for (let i = 0; i < n && out.length < 10; i++) {
    const a = actual[i]!
    const e = expected[i]!
    for (const k of Object.keys(e) as Array<keyof PressureWindow>) {
      const x = a[k]
      const y = e[k]
      const same = k === "premium" || k === "pressureRatio" || k === "avgTradeSize"
        ? close(x as number | null, y as number | null)
        : x === y
      if (!same) out.push(`row ${i} (${e.windowStart} ${e.expiration} ${e.strike}${e.optionType}) ${k}: ${x} vs ${y}`)
    }
  }
  return out
}
