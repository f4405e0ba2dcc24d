import { assert, describe, it } from "@effect/vitest"
import { synthetic } from "../../bench/engine.js"
import { allocMboBatch, chunkOfRows, type DecodedChunk } from "../../src/dbn/Batch.js"
import type { DbnRecord, SystemMsg } from "../../src/dbn/Records.js"
import {
  type EngineOptions,
  type EngineOutput,
  type FlaggedRecord,
  FlowEngine,
  RETIRE_AFTER_MS,
  type TradeBatch
} from "../../src/flow/Engine.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import { chunk, chunks, definition, type Row, T0 } from "../book/support.js"

const SNAP = 40
const SNAP_LAST = 168
const at = (seconds: number): bigint => T0 + BigInt(Math.round(seconds * 1e9))

/** Instrument 42: NQH4 C17000 quoted 10.00 x 5 / 10.50 x 5 by a snapshot. */
const quoted42: ReadonlyArray<Row | DbnRecord> = [
  definition({ instrument: 42, cls: "C", strike: 17_000 }),
  { action: "R", flags: SNAP, ts: at(0.001) },
  { action: "A", id: 1, side: "B", price: 10, size: 5, flags: SNAP, ts: at(0.001) },
  { action: "A", id: 2, side: "A", price: 10.5, size: 5, flags: SNAP_LAST, ts: at(0.001) }
]

const run = (items: ReadonlyArray<Row | DbnRecord>, options: EngineOptions = {}) => {
  const engine = new FlowEngine(options)
  const out = engine.apply(chunk(items))
  return { engine, out }
}

const heartbeat = (ts: bigint): SystemMsg => ({
  _tag: "system",
  hd: { length: 320, rtype: 0x17, publisher_id: 1, instrument_id: 0, ts_event: ts },
  msg: "Heartbeat",
  code: 0,
  isHeartbeat: true
})

/** Instrument 42 expiring an hour after T0 (a day later it is retired), with a bid resting and `rows` after it. */
const EXPIRES = at(3600)
const RETIRED = EXPIRES + BigInt(RETIRE_AFTER_MS) * 1_000_000n
const expiring = (rows: ReadonlyArray<Row | DbnRecord> = []) => {
  const engine = new FlowEngine()
  engine.apply(chunk([
    definition({ instrument: 42, cls: "C", strike: 17_000, expiration: EXPIRES }),
    { action: "A", id: 1, side: "B", price: 10, size: 5, ts: at(1) },
    ...rows
  ]))
  return engine
}

describe("FlowEngine", () => {
  it("classifies trades against the book and closes their window when the stream reaches the next boundary", () => {
    const { engine, out } = run([
      ...quoted42,
      { action: "T", id: 9, side: "B", price: 10.5, size: 3, ts: at(1) },
      { action: "F", id: 2, side: "A", price: 10.5, size: 3, ts: at(1) },
      { action: "C", id: 2, side: "A", price: 10.5, size: 3, ts: at(1) },
      { action: "T", id: 8, side: "A", price: 10, size: 2, ts: at(2) },
      { action: "T", side: "N", price: 10.5, size: 1, ts: at(3) },
      { action: "A", id: 3, side: "B", price: 9.75, size: 1, ts: at(300) - 1n },
      { action: "A", id: 4, side: "B", price: 9.5, size: 1, ts: at(300) }
    ])
    assert.deepStrictEqual(out.closed, [
      {
        windowStart: Number(T0 / 1_000_000n),
        expiration: "2024-03-15",
        strike: 17_000,
        optionType: "C",
        bidVolume: 2,
        askVolume: 4,
        unknownVolume: 0,
        pressureRatio: 2,
        totalTrades: 3,
        avgTradeSize: 2,
        dominantSide: "BUY",
        tradesAggressor: 2,
        tradesQuote: 1,
        tradesTick: 0,
        tradesNone: 0,
        premium: 10.5 * 3 * 20 + 10 * 2 * 20 + 10.5 * 1 * 20,
        maxTradeSize: 3
      }
    ])
    const s = engine.stats
    assert.strictEqual(s.trades, 3)
    assert.strictEqual(s.fills, 1)
    assert.strictEqual(s.volume, 6)
    assert.deepStrictEqual(s.tradesByRule, { none: 0, aggressor: 2, quote: 1, tick: 0 })
    assert.deepStrictEqual(s.volumeBySide, { buy: 4, sell: 2, unknown: 0 })
    assert.strictEqual(s.windowsClosed, 1)
    assert.strictEqual(s.records, 11)
    assert.strictEqual(s.mboRecords, 10)
    assert.deepStrictEqual(engine.flush(), [])
  })

  it("does not close a window on a record 1 ns before the boundary", () => {
    const { engine, out } = run([
      ...quoted42,
      { action: "T", id: 9, side: "B", price: 10.5, size: 1, ts: at(1) },
      { action: "A", id: 3, side: "B", price: 9.75, size: 1, ts: at(300) - 1n }
    ])
    assert.deepStrictEqual(out.closed, [])
    assert.strictEqual(engine.windows.openCount, 1)
    assert.strictEqual(engine.flush().length, 1)
  })

  it("closes the windows of every key together when any instrument reaches the boundary", () => {
    const { out } = run([
      ...quoted42,
      definition({ instrument: 43, cls: "P", strike: 17_000 }),
      definition({ instrument: 44, cls: "C", strike: 16_950 }),
      definition({ instrument: 9, cls: "F", symbol: "NQH4" }),
      { action: "T", id: 9, side: "B", price: 10.5, size: 1, ts: at(1) },
      { action: "T", id: 9, side: "A", price: 20, size: 1, ts: at(2), instrument: 43 },
      { action: "T", id: 9, side: "A", price: 30, size: 1, ts: at(3), instrument: 44 },
      { action: "A", id: 5, side: "B", price: 17_000, size: 1, ts: at(301), instrument: 9 }
    ])
    assert.deepStrictEqual(out.closed.map((r) => `${r.strike} ${r.optionType}`), ["16950 C", "17000 C", "17000 P"])
  })

  it("applies definitions in stream order: trades before an instrument's definition are unknown and unwindowed", () => {
    const { engine } = run([
      { action: "A", id: 1, side: "A", price: 10.5, size: 5, instrument: 44, ts: at(1) },
      { action: "T", id: 9, side: "B", price: 10.5, size: 2, instrument: 44, ts: at(1) },
      definition({ instrument: 44, cls: "C", strike: 16_950 }),
      { action: "T", id: 9, side: "B", price: 10.5, size: 3, instrument: 44, ts: at(2) }
    ])
    const s = engine.stats
    assert.strictEqual(s.unknownInstrumentRecords, 2)
    assert.strictEqual(s.unknownInstruments, 1)
    assert.strictEqual(s.unwindowedTrades, 1)
    assert.deepStrictEqual(engine.unknownInstruments(), [{ instrumentId: 44, records: 2, symbol: "NQH4 C16950" }])
    const [w] = engine.flush()
    assert.strictEqual(w!.askVolume, 3)
    assert.strictEqual(w!.totalTrades, 1)
  })

  it("counts futures trades but gives them no windows", () => {
    const { engine } = run([
      definition({ instrument: 9, cls: "F", symbol: "NQH4", tick: 250_000_000n, maxTradeVol: 2000 }),
      { action: "T", id: 9, side: "B", price: 17_000, size: 2, instrument: 9, ts: at(1) }
    ])
    assert.strictEqual(engine.stats.trades, 1)
    assert.strictEqual(engine.stats.unwindowedTrades, 0)
    assert.deepStrictEqual(engine.flush(), [])
  })

  it("treats records of a deleted instrument as unknown and drops its book", () => {
    const { engine } = run([
      ...quoted42,
      definition({ instrument: 42, action: "D" }),
      { action: "T", id: 9, side: "B", price: 10.5, size: 1, ts: at(1) }
    ])
    assert.strictEqual(engine.stats.unknownInstrumentRecords, 1)
    assert.strictEqual(engine.book(42)!.orderCount, 0)
    assert.deepStrictEqual(engine.flush(), [])
  })

  it("drops the book of an instrument a day after it expired, resting orders and all, and keeps the others", () => {
    // 42 expires at T0 + 1 h; 43 at EXPIRY, months later. Both keep resting orders.
    const engine = expiring([
      definition({ instrument: 43, cls: "P", strike: 17_000 }),
      { action: "A", id: 2, side: "A", price: 10.5, size: 5, ts: at(1) },
      { action: "A", id: 3, side: "B", price: 20, size: 1, instrument: 43, ts: at(1) }
    ])
    // A millisecond short of a day past the expiration: kept.
    engine.apply(chunk([{ action: "A", id: 4, side: "B", price: 19, size: 1, instrument: 43, ts: RETIRED - 1_000_000n }]))
    assert.strictEqual(engine.book(42)?.orderCount, 2)
    assert.strictEqual(engine.stats.retiredBooks, 0)
    // The next record past that moves the clock over it: 42's book goes, with its two orders.
    engine.apply(chunk([{ action: "A", id: 5, side: "B", price: 18, size: 1, instrument: 43, ts: RETIRED + 300_000_000_000n }]))
    assert.strictEqual(engine.book(42), undefined)
    assert.strictEqual(engine.stats.retiredBooks, 1)
    assert.strictEqual(engine.book(43)?.orderCount, 3)
    assert.strictEqual(engine.books.orderCount, 3)
    // A late record of 42 still finds its definition and starts a new, empty book.
    engine.apply(chunk([{ action: "A", id: 6, side: "A", price: 11, size: 2, ts: RETIRED + 301_000_000_000n }]))
    assert.strictEqual(engine.book(42)?.orderCount, 1)
    assert.strictEqual(engine.stats.unknownInstrumentRecords, 0)
  })

  it("retires a book once the chunk that moved the clock past its expiry is applied, and a later record starts afresh", () => {
    const engine = expiring([{ action: "T", id: 9, side: "B", price: 10, size: 1, ts: at(2) }])
    const late = RETIRED + 1_000_000n
    // The chunk's records all go to the book they find, the first one closing the window; then the book goes.
    const out = engine.apply(chunk([
      { action: "A", id: 2, side: "A", price: 11, size: 3, ts: late },
      { action: "C", id: 1, side: "B", price: 10, size: 5, ts: late }
    ]))
    assert.strictEqual(out.closed.length, 1)
    assert.strictEqual(engine.stats.retiredBooks, 1)
    assert.strictEqual(engine.book(42), undefined)
    assert.strictEqual(engine.books.orderCount, 0)
    assert.deepStrictEqual([engine.stats.book.adds, engine.stats.book.cancels, engine.stats.book.unknownCancels], [2, 1, 0])
    // The next chunk's record of 42 finds its definition and a new, empty book.
    engine.apply(chunk([{ action: "A", id: 3, side: "A", price: 11.5, size: 1, ts: late + 1n }]))
    assert.strictEqual(engine.book(42)?.orderCount, 1)
    assert.strictEqual(engine.book(42)?.bestAskPrice, 11.5e9)
    assert.deepStrictEqual(engine.book(42)?.checkInvariants(), [])
    assert.strictEqual(engine.stats.retiredBooks, 1)
  })

  it("retires books when the clock is moved from outside (a quiet live market)", () => {
    const engine = expiring()
    engine.advanceTo(RETIRED + 1_000_000n)
    assert.strictEqual(engine.book(42), undefined)
    assert.strictEqual(engine.books.orderCount, 0)
  })

  it("falls back to ts_recv when ts_event is undefined and counts it", () => {
    const undef = 0xffffffffffffffffn
    const { engine, out } = run([
      ...quoted42,
      { action: "T", id: 9, side: "B", price: 10.5, size: 1, ts: undef, recv: at(299) },
      { action: "A", id: 3, side: "B", price: 9.75, size: 1, ts: undef, recv: at(300) }
    ])
    assert.strictEqual(engine.stats.tsEventFallbacks, 2)
    assert.strictEqual(out.closed.length, 1)
    assert.strictEqual(out.closed[0]!.windowStart, Number(T0 / 1_000_000n))
  })

  it("does not trust a ts_event far ahead of ts_recv: flags it and uses ts_recv", () => {
    const { engine, out } = run([
      ...quoted42,
      { action: "T", id: 9, side: "B", price: 10.5, size: 1, ts: at(1) },
      { action: "A", id: 3, side: "B", price: 9.75, size: 1, ts: at(3600), recv: at(2), sequence: 77 }
    ])
    assert.deepStrictEqual(out.closed, [])
    assert.strictEqual(engine.stats.tsEventAhead, 1)
    assert.deepStrictEqual(out.flagged.map((f) => [f.reason, f.sequence, f.tsEvent]), [["TsEventAhead", 77, at(3600)]])
  })

  it("leaves a trade whose window has closed out of the windows and flags it as late", () => {
    const { engine, out } = run([
      ...quoted42,
      definition({ instrument: 43, cls: "P", strike: 17_000 }),
      { action: "T", id: 9, side: "B", price: 10.5, size: 1, ts: at(1) },
      { action: "T", id: 9, side: "B", price: 10.5, size: 4, ts: at(301) },
      { action: "T", id: 9, side: "A", price: 20, size: 7, ts: at(299), instrument: 43 }
    ])
    assert.strictEqual(out.closed.length, 1)
    assert.strictEqual(out.closed[0]!.askVolume, 1)
    assert.strictEqual(engine.stats.lateTrades, 1)
    assert.strictEqual(engine.stats.lateVolume, 7)
    assert.deepStrictEqual(out.flagged.map((f) => [f.reason, f.instrumentId]), [["LateTrade", 43]])
    assert.deepStrictEqual(engine.flush().map((r) => [r.optionType, r.askVolume, r.bidVolume]), [["C", 4, 0]])
  })

  it("flags trades far outside the quotes and larger than the max order size, and keeps them in the windows", () => {
    const { engine, out } = run([
      ...quoted42,
      definition({ instrument: 43, cls: "P", strike: 17_000, maxTradeVol: 500 }),
      { action: "T", id: 9, side: "B", price: 16, size: 1, ts: at(1), sequence: 1 },
      { action: "T", id: 9, side: "B", price: 10.75, size: 1, ts: at(1), sequence: 2 },
      { action: "T", id: 9, side: "B", price: 10.5, size: 2500, ts: at(1), sequence: 3 },
      { action: "T", id: 9, side: "A", price: 1, size: 600, ts: at(1), instrument: 43, sequence: 4 }
    ])
    assert.deepStrictEqual(out.flagged.map((f) => [f.reason, f.sequence]), [
      ["PriceOutsideBand", 1],
      ["SizeOverMax", 3],
      ["SizeOverMax", 4]
    ])
    assert.match(out.flagged[0]!.detail, /price 16 outside bid 10 \/ ask 10\.5/)
    assert.strictEqual(out.flagged[1]!.detail, "NQH4 C17000 T side B size 2500 > max 2000")
    assert.strictEqual(engine.stats.flagged, 3)
    assert.deepStrictEqual(engine.stats.flaggedByReason, { PriceOutsideBand: 1, SizeOverMax: 2 })
    const rows = engine.flush()
    assert.deepStrictEqual(rows.map((r) => r.totalTrades), [3, 1])
  })

  it("flags a band violation only beyond the configured fraction of the mid", () => {
    const items = [...quoted42, { action: "T", id: 9, side: "B", price: 13, size: 1, ts: at(1) } as const]
    assert.strictEqual(run(items).out.flagged.length, 0)
    assert.strictEqual(run(items, { priceBand: 0.2 }).out.flagged.length, 1)
  })

  it("flags book anomalies by name with the record's ids", () => {
    const { engine, out } = run([
      ...quoted42,
      { action: "C", id: 0x1_0000_0005n, side: "A", price: 10.5, size: 1, ts: at(1), sequence: 5 },
      { action: "M", id: 6, side: "B", price: 9, size: 1, ts: at(1) },
      { action: "A", id: 6, side: "B", price: 9, size: 1, ts: at(1) },
      { action: "C", id: 6, side: "B", price: 9, size: 2, ts: at(1) }
    ])
    assert.deepStrictEqual(out.flagged.map((f) => f.reason), [
      "CancelUnknownOrder",
      "ModifyUnknownOrder",
      "DuplicateAdd",
      "OverCancel"
    ])
    assert.deepStrictEqual(
      { ...out.flagged[0]!, detail: "" } satisfies FlaggedRecord,
      {
        tsEvent: at(1),
        instrumentId: 42,
        orderId: 0x1_0000_0005n,
        sequence: 5,
        reason: "CancelUnknownOrder",
        detail: ""
      }
    )
    const b = engine.stats.book
    assert.deepStrictEqual([b.unknownCancels, b.unknownModifies, b.duplicateAdds, b.negativeSizes], [1, 1, 1, 1])
  })

  it("returns at most maxFlaggedPerChunk flagged records per chunk and counts the rest", () => {
    const rows: Array<Row> = []
    for (let i = 0; i < 10; i++) rows.push({ action: "C", id: 1000 + i, side: "A", price: 1, size: 1, ts: at(1) })
    const engine = new FlowEngine({ maxFlaggedPerChunk: 3 })
    assert.strictEqual(engine.apply(chunk(rows)).flagged.length, 3)
    assert.strictEqual(engine.apply(chunk(rows)).flagged.length, 3)
    assert.strictEqual(engine.stats.flagged, 6)
    assert.strictEqual(engine.stats.flaggedSuppressed, 14)
    assert.strictEqual(engine.stats.flaggedByReason.CancelUnknownOrder, 20)
  })

  it("flags trades no rule could decide", () => {
    const { engine, out } = run([
      definition({ instrument: 42, cls: "C", strike: 17_000 }),
      { action: "T", side: "N", price: 10, size: 1, ts: at(1) }
    ])
    assert.deepStrictEqual(out.flagged.map((f) => f.reason), ["UndecidedDirection"])
    assert.strictEqual(engine.flush()[0]!.unknownVolume, 1)
  })

  it("returns every trade with its direction, rule and the quotes it printed against", () => {
    const { out } = run([
      ...quoted42,
      { action: "T", id: 9, side: "B", price: 10.5, size: 3, ts: at(1), sequence: 11 },
      { action: "F", id: 2, side: "A", price: 10.5, size: 3, ts: at(1) },
      { action: "C", id: 2, side: "A", price: 10.5, size: 3, ts: at(1) },
      { action: "T", side: "N", price: 10.5, size: 2, ts: at(2), sequence: 12 },
      { action: "T", side: "N", price: 10.25, size: 1, ts: at(3), sequence: 13 }
    ], { collectTrades: true })
    const t = out.trades!
    assert.strictEqual(t.length, 3)
    const rowsOf = (b: TradeBatch) =>
      Array.from(
        { length: b.length },
        (_, i) => [b.side[i], b.rule[i], b.size[i], b.bidPx[i]! / 1e9, b.askPx[i]! / 1e9, b.sequence[i]]
      )
    assert.deepStrictEqual(rowsOf(t), [
      [1, 1, 3, 10, 10.5, 11],
      [1, 2, 2, 10, 10.5, 12],
      [2, 3, 1, 10, 10.5, 13]
    ])
    assert.strictEqual((BigInt(t.tsEventHi[0]!) << 32n) | BigInt(t.tsEventLo[0]!), at(1))
    assert.strictEqual(t.price[0], 10_500_000_000)
  })

  it("collects no trades unless asked", () => {
    const { out } = run([...quoted42, { action: "T", id: 9, side: "B", price: 10.5, size: 3, ts: at(1) }])
    assert.isUndefined(out.trades)
  })

  it("lets a heartbeat close windows in a quiet market, and advanceTo do the same from outside", () => {
    const engine = new FlowEngine()
    engine.apply(chunk([...quoted42, { action: "T", id: 9, side: "B", price: 10.5, size: 3, ts: at(1) }]))
    assert.deepStrictEqual(engine.apply(chunk([heartbeat(at(299))])).closed, [])
    assert.strictEqual(engine.apply(chunk([heartbeat(at(300))])).closed.length, 1)
    engine.apply(chunk([{ action: "T", id: 9, side: "A", price: 10, size: 1, ts: at(301) }]))
    assert.deepStrictEqual(engine.advanceTo(at(599)), [])
    assert.strictEqual(engine.advanceTo(at(600)).length, 1)
    assert.strictEqual(engine.clockNs, at(600))
  })

  it("keeps windows open for lagging trades with a grace period", () => {
    const { engine, out } = run([
      ...quoted42,
      { action: "T", id: 9, side: "B", price: 10.5, size: 3, ts: at(1) },
      { action: "A", id: 3, side: "B", price: 9.75, size: 1, ts: at(300.5) },
      { action: "T", id: 9, side: "A", price: 10, size: 2, ts: at(299.9) },
      { action: "A", id: 4, side: "B", price: 9.5, size: 1, ts: at(301) }
    ], { graceMs: 1000 })
    assert.deepStrictEqual(out.closed.map((r) => [r.askVolume, r.bidVolume]), [[3, 2]])
    assert.strictEqual(engine.stats.lateTrades, 0)
  })
})

/** Every MBO row and other record of some chunks, re-cut into chunks ending at the given record counts. */
const rechunk = (source: ReadonlyArray<DecodedChunk>, cuts: ReadonlyArray<number>): Array<DecodedChunk> => {
  type Item = { readonly c: DecodedChunk; readonly i: number } | { readonly other: DbnRecord }
  const items: Array<Item> = []
  for (const c of source) {
    let k = 0
    for (let i = 0; i <= c.mbo.length; i++) {
      while (k < c.others.length && c.othersAt[k] === i) items.push({ other: c.others[k++]! })
      if (i < c.mbo.length) items.push({ c, i })
    }
  }
  const out: Array<DecodedChunk> = []
  let from = 0
  for (const end of [...cuts.filter((x) => x > 0 && x < items.length), items.length]) {
    const part = items.slice(from, end)
    from = end
    const rows = part.filter((x): x is { c: DecodedChunk; i: number } => "c" in x)
    const b = allocMboBatch(rows.length)
    const others: Array<DbnRecord> = []
    const othersAt: Array<number> = []
    for (const x of part) {
      if ("other" in x) {
        others.push(x.other)
        othersAt.push(b.length)
        continue
      }
      const s = x.c.mbo
      const j = b.length++
      for (const col of Object.keys(s) as Array<keyof typeof s>) {
        const a = s[col]
        if (typeof a === "object" && a !== undefined) (b[col] as Uint32Array)[j] = (a as Uint32Array)[x.i]!
      }
    }
    out.push(chunkOfRows(b, others, othersAt))
  }
  return out
}

interface Result {
  readonly closed: Array<Array<PressureWindow>>
  readonly flagged: Array<FlaggedRecord>
  readonly trades: Array<Array<number>>
  readonly stats: unknown
  readonly flushed: Array<PressureWindow>
}

/** Runs an engine over chunks; closed windows are grouped by the record count at which they closed. */
const runAll = (input: ReadonlyArray<DecodedChunk>): Result => {
  const engine = new FlowEngine({ collectTrades: true })
  const closed: Array<Array<PressureWindow>> = []
  const flagged: Array<FlaggedRecord> = []
  const trades: Array<Array<number>> = []
  for (const c of input) {
    const out: EngineOutput = engine.apply(c)
    if (out.closed.length > 0) closed.push([...out.closed])
    flagged.push(...out.flagged)
    const t = out.trades!
    for (let i = 0; i < t.length; i++) {
      trades.push([
        t.tsEventHi[i]!,
        t.tsEventLo[i]!,
        t.instrumentId[i]!,
        t.price[i]!,
        t.size[i]!,
        t.side[i]!,
        t.rule[i]!,
        t.bidPx[i]!,
        t.askPx[i]!
      ])
    }
  }
  const flushed = engine.flush()
  return { closed, flagged, trades, stats: JSON.parse(JSON.stringify(engine.stats)), flushed }
}

describe("FlowEngine over differently split input", () => {
  const base = synthetic({ records: 40_000, instruments: 30, chunkRows: 1_000, spacingNs: 40_000_000, levels: 8 })
  // Some anomalies and quality flags, so the flagged lists are compared too.
  for (const c of base.chunks) {
    for (let i = 0; i < c.mbo.length; i += 997) {
      c.mbo.action[i] = 0x43
      c.mbo.orderIdLo[i] = 123_456_789
    }
    for (let i = 500; i < c.mbo.length; i += 1_499) if (c.mbo.action[i] === 0x54) c.mbo.size[i] = 2_500
  }
  const reference = runAll(base.chunks)

  it("produces windows, flags, trades and counters that do not depend on chunk boundaries", () => {
    assert.isAbove(reference.closed.length, 3)
    assert.isAbove(reference.flagged.length, 10)
    const total = base.records + 30
    let seed = 99
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 8) % n
    }
    const splits = [
      [],
      [1, 2, 3, 31, 32, 33],
      Array.from({ length: 40 }, () => rand(total)).sort((a, b) => a - b),
      Array.from({ length: 3000 }, () => rand(total)).sort((a, b) => a - b)
    ]
    for (const cuts of splits) {
      const r = runAll(rechunk(base.chunks, cuts))
      assert.deepStrictEqual(r.flagged, reference.flagged)
      assert.deepStrictEqual(r.trades, reference.trades)
      assert.deepStrictEqual(r.stats, reference.stats)
      assert.deepStrictEqual(r.closed.flat(), reference.closed.flat())
      assert.deepStrictEqual(r.flushed, reference.flushed)
    }
  })

  it("emits the same windows chunk by chunk as one record per chunk", () => {
    const first = rechunk(base.chunks, []).slice(0, 1)
    const items = first[0]!.mbo.length
    const one = runAll(rechunk(first, Array.from({ length: 6_000 }, (_, i) => i + 1)))
    const whole = runAll(first)
    assert.isAbove(items, 6_000)
    assert.deepStrictEqual(one.closed.flat(), whole.closed.flat())
    assert.deepStrictEqual(one.flushed, whole.flushed)
    assert.deepStrictEqual(one.stats, whole.stats)
  })
})

describe("FlowEngine test builders", () => {
  it("splits item lists at the given indices", () => {
    const cs = chunks([{ action: "A", id: 1, side: "B", price: 1, size: 1 }, definition({ instrument: 1 })], [1])
    assert.deepStrictEqual(cs.map((c) => [c.mbo.length, c.others.length]), [[1, 0], [0, 1]])
  })
})
