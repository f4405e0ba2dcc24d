import { assert, describe, it } from "@effect/vitest"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import { type EngineOutput, FlowEngine } from "../../src/flow/Engine.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import * as Signals from "../../src/flow/Signals.js"
import * as Simulator from "../../src/sim/Simulator.js"

const small = {
  expirations: 1,
  strikesPerExpiration: 12,
  targetRecords: 60_000,
  sessionMinutes: 120,
  clears: 0,
  chunkBytes: 1 << 16
} satisfies Partial<Simulator.SimParams>

const runDay = (se: Signals.SignalEngine, params: Partial<Simulator.SimParams>) => {
  const session = Simulator.simulate({ ...small, ...params })
  const engine = new FlowEngine({ collectTrades: true })
  const decoder = new DbnDecoder()
  const out: Array<Signals.WindowSignal> = []
  for (const bytes of session.chunks()) {
    decoder.push(bytes)
    out.push(...se.apply(engine.apply(decoder.drain()), engine))
  }
  out.push(...se.flush(engine.flush(), engine))
  return { signals: out, truth: session.truth }
}

describe("Signals", () => {
  it("reaches every tier, each from its own confidence band", () => {
    assert.deepStrictEqual([0, 0.49, 0.5, 0.74, 0.75, 0.89, 0.9, 1].map(Signals.tierOf), [
      "low", "low", "medium", "medium", "high", "high", "critical", "critical"
    ])
    // and the shipped model reaches them all from plausible windows (quiet → one-sided sweeping flow)
    const conf = (zVolume: number, zRatio: number, sweep: number) =>
      Signals.predict(Signals.defaultModel, Signals.modelInputs({
        zVolume, zRatio, zTrades: 0, zSize: 0, sweepVolume: sweep, largeVolume: sweep, sweepNet: sweep, largeNet: sweep,
        volume: 100, mmBalance: 0, straddle: 0, lowSample: false
      }))
    const tiers = new Set<string>()
    for (let z = 0; z <= 8; z += 0.05) tiers.add(Signals.tierOf(conf(z, z, 60)))
    assert.deepStrictEqual([...tiers].sort(), ["critical", "high", "low", "medium"])
  })

  it("lowers confidence for balanced two-sided flow and for a straddle", () => {
    const base = {
      zVolume: 4, zRatio: 3, zTrades: 0, zSize: 0, sweepVolume: 80, largeVolume: 80, sweepNet: 80, largeNet: 80,
      volume: 100, mmBalance: 0, straddle: 0, lowSample: false
    }
    const p = (o: Partial<typeof base>) => Signals.predict(Signals.defaultModel, Signals.modelInputs({ ...base, ...o }))
    assert.isBelow(p({ mmBalance: 0.9, sweepNet: 5, largeNet: 5 }), p({}))
    assert.isBelow(p({ straddle: 0.9 }), p({}))
  })

  it("computes the calibration table and its expected error on a constructed example", () => {
    const conf = [0.05, 0.05, 0.15, 0.95, 0.95, 0.95, 0.95]
    const real = [false, false, true, true, true, true, false]
    const { bins, ece } = Signals.calibration(conf, real, 10)
    assert.strictEqual(bins[0]!.count, 2)
    assert.strictEqual(bins[0]!.observed, 0)
    assert.strictEqual(bins[1]!.observed, 1)
    assert.strictEqual(bins[9]!.count, 4)
    assert.strictEqual(bins[9]!.observed, 0.75)
    // (2 × 0.05 + 1 × 0.85 + 4 × 0.2) / 7
    assert.closeTo(ece, (2 * 0.05 + 0.85 + 4 * 0.2) / 7, 1e-12)
  })

  it("fits a logistic model that recovers the weights generating the labels", () => {
    let s = 12345
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648)
    const xs: Array<Array<number>> = []
    const ys: Array<number> = []
    for (let i = 0; i < 20_000; i++) {
      const x = [1, rand() * 4 - 2]
      xs.push(x)
      ys.push(rand() < 1 / (1 + Math.exp(-(-1 + 2 * x[1]!))) ? 1 : 0)
    }
    const w = Signals.fitLogistic(xs, ys, 0)
    assert.closeTo(w[0]!, -1, 0.1)
    assert.closeTo(w[1]!, 2, 0.15)
  })

  it("gives no signal without history, and never scores a day against itself", () => {
    const se = new Signals.SignalEngine({ minSamples: 5, minDays: 1 })
    const day1 = runDay(se, { seed: 3, date: "2026-06-01", episodes: 0 })
    assert.isAbove(day1.signals.length, 100)
    assert.isTrue(day1.signals.every((s) => s.confidence === null && s.direction === null && !s.reported))
    // windows measured even with no signal: the underlying comes from parity
    assert.isTrue(day1.signals.filter((s) => s.active).every((s) => s.underlyingMethod === "parity"))
    const day2 = runDay(se, { seed: 4, date: "2026-06-02", episodes: 0 })
    const table = se.tableFor("2026-06-02")
    assert.deepStrictEqual(table.from, ["2026-06-01"])
    const day1Keys = day1.signals.filter((s) => s.key !== null && s.buyVolume + s.sellVolume + s.unknownVolume > 0)
    let n = 0
    for (const s of table.stats.values()) if (!s.key.includes("|*|")) n += s.n
    assert.strictEqual(n, day1Keys.length)
    assert.isTrue(day2.signals.some((s) => s.confidence !== null))
  })

  it("counts the trading days of history behind the day in progress", () => {
    const se = new Signals.SignalEngine()
    const obs = (day: string) => ({ day, key: "C|+0|10:00|0-2d", logRatio: 0, logVolume: 1, trades: 1, avgSize: 1 })
    se.seed([obs("2026-06-01"), obs("2026-06-02"), obs("2026-06-02"), obs("2026-06-04")])
    // 2026-06-04 15:00 UTC is 11:00 in New York, the same trading day
    const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n
    assert.strictEqual(se.historyDaysBefore(ns("2026-06-04T15:00:00Z")), 2)
    assert.strictEqual(se.historyDaysBefore(ns("2026-06-05T15:00:00Z")), 3)
    // 02:00 UTC on the 2nd is still the evening of the 1st in New York
    assert.strictEqual(se.historyDaysBefore(ns("2026-06-02T02:00:00Z")), 0)
    assert.strictEqual(se.minDays, 5)
  })

  it("reports an injected episode with its direction once there is history", () => {
    const se = new Signals.SignalEngine({ minSamples: 5, minDays: 2 })
    for (const [i, date] of ["2026-06-01", "2026-06-02", "2026-06-03"].entries()) runDay(se, { seed: 10 + i, date, episodes: 0 })
    const { signals, truth } = runDay(se, { seed: 20, date: "2026-06-04", episodes: 2, episodeSize: [80, 120] })
    const hits = truth.episodes.filter((e) =>
      signals.some((s) =>
        s.reported && s.expiration === e.expiration && e.strikes.includes(s.strike) && s.optionType === e.optionType &&
        s.direction === e.side
      )
    )
    assert.isAbove(hits.length, 0)
    const wrong = signals.filter((s) =>
      s.reported && truth.episodes.some((e) => e.strikes.includes(s.strike) && s.optionType === e.optionType && s.direction !== e.side)
    )
    assert.strictEqual(wrong.length, 0)
  })

  it("pairs each window with its other leg and its expiration's premium, in whatever order the windows close", () => {
    const session = Simulator.simulate({ ...small, expirations: 2, seed: 31, date: "2026-06-03", episodes: 3 })
    const engine = new FlowEngine({ collectTrades: true })
    const decoder = new DbnDecoder()
    // small large prints, so both legs of a strike often have some (a straddle)
    const sorted = new Signals.SignalEngine({ largeSize: 3 })
    const shuffled = new Signals.SignalEngine({ largeSize: 3 })
    const windows: Array<PressureWindow> = []
    const a: Array<Signals.WindowSignal> = []
    const b: Array<Signals.WindowSignal> = []
    const both = (out: EngineOutput) => {
      windows.push(...out.closed)
      a.push(...sorted.apply(out, engine))
      // the same windows, last first: the scorer may not rely on the engine's order for its answers
      b.push(...shuffled.apply({ ...out, closed: [...out.closed].reverse() }, engine))
    }
    for (const bytes of session.chunks()) {
      decoder.push(bytes)
      both(engine.apply(decoder.drain()))
    }
    both({ closed: engine.flush(), trades: undefined, flagged: [] })
    assert.isAbove(a.length, 200)
    const id = (s: { windowStart: number; expiration: string; strike: number; optionType: string }) =>
      `${s.windowStart} ${s.expiration} ${s.strike} ${s.optionType}`
    const byId = new Map(b.map((s) => [id(s), s]))
    assert.strictEqual(byId.size, a.length)
    for (const s of a) assert.deepStrictEqual(byId.get(id(s)), s)
    // premium ratio: calls over puts of the same window start and expiration, from the windows themselves
    const premium = new Map<string, { call: number; put: number }>()
    for (const w of windows) {
      const k = `${w.windowStart} ${w.expiration}`
      const p = premium.get(k) ?? { call: 0, put: 0 }
      if (w.optionType === "C") p.call += w.premium
      else p.put += w.premium
      premium.set(k, p)
    }
    const large = new Map(a.map((s) => [id(s), s.largeVolume]))
    let straddles = 0
    for (const s of a) {
      const p = premium.get(`${s.windowStart} ${s.expiration}`)!
      assert.strictEqual(s.callPutPremiumRatio, p.put > 0 ? p.call / p.put : null)
      const other = large.get(id({ ...s, optionType: s.optionType === "C" ? "P" : "C" })) ?? 0
      const expected = other > 0 && s.largeVolume > 0 ? Math.min(other, s.largeVolume) / Math.max(other, s.largeVolume) : 0
      assert.strictEqual(s.straddle, expected)
      if (expected > 0) straddles++
    }
    assert.isAbove(straddles, 0)
  })
})
