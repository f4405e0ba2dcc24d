import { assert, describe, it } from "@effect/vitest"
import { SType } from "../../src/dbn/Constants.js"
import { generate, PARENT_SYMBOL, type SimParams } from "../../src/sim/Simulator.js"
import { DIR_BUY, RULE_AGGRESSOR } from "../../src/sim/Truth.js"
import { type Replay, replay, windowDiffs } from "./support.js"

const shapes: ReadonlyArray<{ readonly name: string; readonly params: Partial<SimParams> }> = [
  {
    name: "one expiration, five strikes, half an hour",
    params: {
      seed: 11,
      expirations: 1,
      strikesPerExpiration: 5,
      sessionMinutes: 30,
      targetRecords: 20_000,
      episodes: 2,
      clears: 2
    }
  },
  {
    name: "two expirations, twelve strikes",
    params: {
      seed: 22,
      expirations: 2,
      strikesPerExpiration: 12,
      sessionMinutes: 90,
      targetRecords: 80_000,
      episodes: 3,
      clears: 3
    }
  },
  {
    name: "four expirations, forty strikes, full session",
    params: { seed: 33, expirations: 4, strikesPerExpiration: 40, targetRecords: 250_000 }
  },
  {
    name: "three expirations in daylight time, 25-point strikes",
    params: {
      seed: 44,
      date: "2026-06-10",
      expirations: 3,
      strikesPerExpiration: 24,
      strikeSpacing: 25,
      sessionMinutes: 120,
      targetRecords: 100_000,
      episodes: 4
    }
  }
]

describe.each(shapes)("simulated session: $name", ({ params }) => {
  let cached: { generated: ReturnType<typeof generate>; replayed: Replay } | undefined
  const session = () => {
    if (cached === undefined) {
      const generated = generate(params)
      // replay in uneven pieces, as a socket would deliver them
      const pieces: Array<Uint8Array> = []
      for (let at = 0, k = 0; at < generated.bytes.length; k++) {
        const n = 1 + ((k * 7919) % 200_000)
        pieces.push(generated.bytes.subarray(at, at + n))
        at += n
      }
      cached = { generated, replayed: replay(pieces) }
    }
    return cached
  }

  it("decodes cleanly and every add, cancel, modify and trade is consistent with the book", () => {
    const { replayed } = session()
    assert.deepStrictEqual(replayed.problems, [])
    assert.strictEqual(replayed.problemCount, 0)
    assert.isTrue(replayed.monotonic, "ts_event never decreases")
  })

  it("writes mappings, then definitions, then the snapshot, then live data, in the counts the truth reports", () => {
    const { generated, replayed } = session()
    const { chain } = generated.session
    const counts = generated.truth.counts
    assert.deepStrictEqual(replayed.sections, ["mapping", "definition", "snapshot", "live"])
    assert.strictEqual(replayed.definitions.length, chain.options.length + 1)
    assert.strictEqual(replayed.mappings.length, chain.options.length + 1)
    assert.strictEqual(counts.definitions, replayed.definitions.length)
    assert.strictEqual(counts.symbolMappings, replayed.mappings.length)
    assert.strictEqual(counts.mbo, replayed.mbo)
    assert.strictEqual(counts.snapshot, replayed.snapshotRecords)
    assert.strictEqual(counts.bytes, generated.bytes.length)
    for (const [action, n] of Object.entries(replayed.byAction)) assert.strictEqual(counts.byAction[action], n, action)
  })

  it("describes a mixed-schema NQ.OPT parent stream in its metadata", () => {
    const { generated, replayed } = session()
    const m = replayed.metadata
    assert.strictEqual(m.version, 3)
    assert.strictEqual(m.dataset, "GLBX.MDP3")
    assert.strictEqual(m.schema, null)
    assert.strictEqual(m.stype_in, SType.PARENT)
    assert.strictEqual(m.stype_out, SType.INSTRUMENT_ID)
    assert.deepStrictEqual(m.symbols, [PARENT_SYMBOL])
    assert.strictEqual(m.start, generated.session.startNs)
    assert.strictEqual(m.end, generated.session.endNs)
    const ids = new Map(m.mappings.map((x) => [x.raw_symbol, x.intervals[0]!.symbol]))
    for (const o of generated.session.chain.options) assert.strictEqual(ids.get(o.rawSymbol), String(o.instrumentId))
    for (const r of replayed.mappings) {
      if (r.hd.instrument_id === generated.session.chain.future.instrumentId) continue
      assert.strictEqual(r.stype_in_symbol, PARENT_SYMBOL)
      assert.strictEqual(ids.get(r.stype_out_symbol), String(r.hd.instrument_id))
    }
  })

  it("defines every option with its class, strike, expiration, underlying and multiplier", () => {
    const { generated, replayed } = session()
    const { chain } = generated.session
    const defs = new Map(replayed.definitions.map((d) => [d.hd.instrument_id, d]))
    const future = defs.get(chain.future.instrumentId)!
    assert.strictEqual(future.instrument_class, "F")
    assert.strictEqual(future.security_type, "FUT")
    for (const o of chain.options) {
      const d = defs.get(o.instrumentId)!
      assert.strictEqual(d.instrument_class, o.optionType)
      assert.strictEqual(d.security_type, "OOF")
      assert.strictEqual(d.raw_symbol, o.rawSymbol)
      assert.match(d.raw_symbol, /^(NQ|QNE|QN[1-5])[FGHJKMNQUVXZ]\d [CP]\d+(\.\d+)?$/)
      assert.strictEqual(d.strike_price, BigInt(o.strike) * 1_000_000_000n)
      assert.strictEqual(d.expiration, o.expiry.expirationNs)
      assert.strictEqual(d.underlying, chain.future.rawSymbol)
      assert.strictEqual(d.underlying_id, chain.future.instrumentId)
      assert.strictEqual(d.unit_of_measure_qty, 20_000_000_000n)
      assert.strictEqual(d.exchange, "XCME")
      assert.isAbove(d.max_trade_vol, 0)
    }
    const expirations = new Set(chain.options.map((o) => o.expiry.expiration))
    assert.strictEqual(expirations.size, params.expirations)
  })

  it("opens every book with a Clear and snapshot Adds flagged 40, the last one 168", () => {
    const { generated, replayed } = session()
    assert.strictEqual(replayed.snapshotsWellFormed, generated.session.chain.options.length)
  })

  it("prints every trade once per price level with a direction the aggressor or quote rule recovers", () => {
    const { generated, replayed } = session()
    const tape = generated.truth.trades
    assert.strictEqual(tape.length, replayed.trades.length)
    let n = 0
    let aggressor = 0
    for (const t of replayed.trades) {
      const truth = tape.at(n++)
      assert.strictEqual(truth.ts_event, t.tsEvent)
      assert.strictEqual(truth.instrument_id, t.instrumentId)
      assert.strictEqual(truth.price * 1e9, t.price)
      assert.strictEqual(truth.size, t.size)
      assert.strictEqual(truth.recordSide.charCodeAt(0), t.side)
      assert.strictEqual(truth.side === "BUY" ? DIR_BUY : 2, t.direction, `direction of trade ${n}`)
      assert.strictEqual(truth.rule === "aggressor" ? RULE_AGGRESSOR : 2, t.rule)
      if (t.rule === RULE_AGGRESSOR) aggressor++
    }
    assert.isAbove(aggressor, 0)
    assert.isAbove(replayed.trades.length - aggressor, 0, "some trades print with side N")
    assert.isAbove(replayed.sweeps, 0, "some orders sweep several levels")
  })

  it("reports volume totals equal to the sum of the T records", () => {
    const { generated, replayed } = session()
    const totals = generated.truth.totals
    let volume = 0
    let buy = 0
    for (const t of replayed.trades) {
      volume += t.size
      if (t.direction === DIR_BUY) buy += t.size
    }
    assert.strictEqual(totals.volume, volume)
    assert.strictEqual(totals.buyVolume, buy)
    assert.strictEqual(totals.sellVolume, volume - buy)
    assert.strictEqual(totals.trades, replayed.trades.length)
    assert.strictEqual(generated.truth.counts.byAction["T"], replayed.trades.length)
  })

  it("gives ground-truth windows equal to windows rebuilt from the bytes alone", () => {
    const { generated, replayed } = session()
    assert.isAbove(generated.truth.windows.length, 0)
    assert.deepStrictEqual(windowDiffs(replayed.windows, generated.truth.windows), [])
    for (const w of generated.truth.windows) {
      assert.strictEqual(w.windowStart % 300_000, 0)
      assert.strictEqual(w.unknownVolume, 0)
      assert.strictEqual(w.tradesTick + w.tradesNone, 0)
      assert.strictEqual(w.tradesAggressor + w.tradesQuote, w.totalTrades)
    }
  })

  it("injects the requested episodes: one side, one expiration and type, a few strikes, large sizes", () => {
    const { generated } = session()
    const { truth } = generated
    const { chain } = generated.session
    const byId = new Map(chain.options.map((o) => [o.instrumentId, o]))
    assert.strictEqual(truth.episodes.length, generated.session.params.episodes)
    const perEpisode = truth.episodes.map(() => ({ size: 0, trades: 0 }))
    const backgroundSizes: Array<number> = []
    for (const t of truth.trades) {
      if (t.episode < 0) {
        backgroundSizes.push(t.size)
        continue
      }
      const e = truth.episodes[t.episode]!
      assert.include(e.instrumentIds, t.instrument_id)
      assert.strictEqual(t.side, e.side)
      assert.strictEqual(t.rule, "aggressor")
      assert.isTrue(t.ts_event >= e.startNs && t.ts_event < e.endNs, "episode trades fall inside the episode")
      perEpisode[t.episode]!.size += t.size
      perEpisode[t.episode]!.trades++
    }
    let sweeps = 0
    for (const e of truth.episodes) {
      assert.isAbove(e.trades, 0, `episode ${e.id} traded`)
      assert.strictEqual(perEpisode[e.id]!.size, e.totalSize)
      assert.strictEqual(perEpisode[e.id]!.trades, e.trades)
      assert.isAtLeast(e.instrumentIds.length, 1)
      assert.isAtMost(e.instrumentIds.length, 3)
      for (const id of e.instrumentIds) {
        const o = byId.get(id)!
        assert.strictEqual(o.expiry.expiration, e.expiration)
        assert.strictEqual(o.optionType, e.optionType)
      }
      assert.deepStrictEqual(e.strikes, e.instrumentIds.map((id) => byId.get(id)!.strike))
      sweeps += e.sweeps
    }
    assert.isAbove(sweeps, 0)
    backgroundSizes.sort((a, b) => a - b)
    const medianBackground = backgroundSizes[Math.floor(backgroundSizes.length / 2)]!
    const episodeVolume = truth.episodes.reduce((s, e) => s + e.totalSize, 0)
    const episodeOrderSize = episodeVolume / truth.episodes.reduce((s, e) => s + e.orders, 0)
    assert.isAbove(episodeOrderSize, 4 * medianBackground)
  })

  it("makes each episode dominate the windows it trades in", () => {
    const { generated } = session()
    const { truth } = generated
    const optionOf = new Map(generated.session.chain.options.map((o) => [o.instrumentId, o]))
    const rows = new Map(truth.windows.map((w) => [`${w.windowStart}|${w.expiration}|${w.strike}|${w.optionType}`, w]))
    let windows = 0
    let dominated = 0
    for (const e of truth.episodes) {
      const keys = new Set<string>()
      for (const t of truth.trades) {
        if (t.episode !== e.id) continue
        const o = optionOf.get(t.instrument_id)!
        const windowStart = Number(t.ts_event / 300_000_000_000n) * 300_000
        keys.add(`${windowStart}|${o.expiry.expiration}|${o.strike}|${o.optionType}`)
      }
      for (const k of keys) {
        windows++
        if (rows.get(k)!.dominantSide === e.side) dominated++
      }
    }
    assert.isAbove(windows, 0)
    assert.isAtLeast(dominated / windows, 0.8)
  })

  it("clears books mid-session and re-adds them", () => {
    const { generated, replayed } = session()
    assert.strictEqual(replayed.clears, generated.session.params.clears)
    assert.strictEqual(generated.truth.counts.clears, replayed.clears)
  })
})
