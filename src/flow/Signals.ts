/**
 * Institutional-flow signals: every closed window is measured (features, moneyness, baseline key); windows of
 * active strikes near the money with enough history get a direction, a score against their baseline, a confidence
 * from a logistic model fitted on labelled days (so it is calibrated) and a tier. `SignalEngine` runs next to the
 * `FlowEngine`, one call per chunk. Pure TS.
 */
import * as Baselines from "./Baselines.js"
import type { EngineOutput, FlowEngine } from "./Engine.js"
import { type FlowFeatures, Features } from "./Features.js"
import * as Moneyness from "./Moneyness.js"
import type { OptionType, PressureWindow } from "./PressureWindow.js"
import { compareRows } from "./Windows.js"

export type Direction = "BUY" | "SELL"
export type Bias = "BULLISH" | "BEARISH"
/** Confidence bands: low [0, 0.5), medium [0.5, 0.75), high [0.75, 0.9), critical [0.9, 1]. */
export type Tier = "low" | "medium" | "high" | "critical"
export const TIERS: ReadonlyArray<Tier> = ["low", "medium", "high", "critical"]

export const tierOf = (confidence: number): Tier =>
  confidence >= 0.9 ? "critical" : confidence >= 0.75 ? "high" : confidence >= 0.5 ? "medium" : "low"

/** One closed window, measured, and scored when it qualifies. */
export interface WindowSignal extends FlowFeatures {
  readonly windowStart: number
  readonly expiration: string
  readonly strike: number
  readonly optionType: OptionType
  /** New York trading day of the window. */
  readonly day: string
  /** Underlying estimate (points) and how it was obtained; null when the data gave none. */
  readonly underlying: number | null
  readonly underlyingMethod: "future" | "parity" | null
  /** Strikes out of the money (negative: in the money); null without an underlying. */
  readonly otm: number | null
  /** Baseline key (null without an underlying). */
  readonly key: string | null
  /** Near the money (within the band): the windows signals are made for. */
  readonly active: boolean
  readonly buyVolume: number
  readonly sellVolume: number
  readonly unknownVolume: number
  readonly trades: number
  readonly avgSize: number
  /** ln((ask + 1) / (bid + 1)). */
  readonly logRatio: number
  /** Call premium / put premium of the window's expiration over the same 5 minutes (null without put premium). */
  readonly callPutPremiumRatio: number | null
  /** min(buy, sell) / max(buy, sell): 1 is perfectly two-sided flow. */
  readonly mmBalance: number
  /** min / max of this leg's and the other leg's large-print volume at the same strike (0: no straddle). */
  readonly straddle: number
  /** Windows in the baseline used (0: none). */
  readonly baselineN: number
  /** The fine key lacked history and the time-of-day-free key was used. */
  readonly lowSample: boolean
  /** Robust z-scores against the baseline (null without one). */
  readonly zVolume: number | null
  readonly zRatio: number | null
  readonly zTrades: number | null
  readonly zSize: number | null
  readonly direction: Direction | null
  readonly bias: Bias | null
  /** Signed (by direction) sum of the volume and imbalance surprises, in robust z units. */
  readonly score: number | null
  /** Probability that the window carries institutional flow, in [0, 1]. */
  readonly confidence: number | null
  readonly tier: Tier | null
  /** Active, scored and at or above the report threshold. */
  readonly reported: boolean
}

/** Logistic model over `modelInputs`: one weight per input, the first the intercept. */
export interface Model {
  readonly inputs: ReadonlyArray<string>
  readonly weights: ReadonlyArray<number>
}

export const MODEL_INPUTS = [
  "intercept",
  "zVolume (≥ 0)",
  "abs zRatio",
  "zTrades (≥ 0)",
  "zSize (≥ 0)",
  "sweep share",
  "large share",
  "abs net sweep share",
  "abs net large share",
  "mmBalance",
  "straddle",
  "lowSample"
] as const

/** Fitted by `npm run eval` on its training days (seed 20261124, see EVALUATION.md); refit when features change. */
export const defaultModel: Model = {
  inputs: MODEL_INPUTS,
  weights: [-7.743, 0.803, 0.570, -0.014, 0.217, 0.715, -0.888, 2.686, 2.236, -1.830, -7.553, 0]
}

/** The model inputs of a scored window. */
export const modelInputs = (s: {
  readonly zVolume: number
  readonly zRatio: number
  readonly zTrades: number
  readonly zSize: number
  readonly sweepVolume: number
  readonly largeVolume: number
  readonly sweepNet: number
  readonly largeNet: number
  readonly volume: number
  readonly mmBalance: number
  readonly straddle: number
  readonly lowSample: boolean
}): Array<number> => {
  const v = Math.max(1, s.volume)
  return [
    1,
    Math.min(10, Math.max(0, s.zVolume)),
    Math.min(10, Math.abs(s.zRatio)),
    Math.min(10, Math.max(0, s.zTrades)),
    Math.min(10, Math.max(0, s.zSize)),
    Math.min(1, s.sweepVolume / v),
    Math.min(1, s.largeVolume / v),
    Math.min(1, Math.abs(s.sweepNet) / v),
    Math.min(1, Math.abs(s.largeNet) / v),
    s.mmBalance,
    s.straddle,
    s.lowSample ? 1 : 0
  ]
}

export const predict = (model: Model, x: ReadonlyArray<number>): number => {
  let z = 0
  for (let i = 0; i < x.length; i++) z += (model.weights[i] ?? 0) * x[i]!
  return 1 / (1 + Math.exp(-z))
}

export const DEFAULT_REPORT_THRESHOLD = 0.33

export interface SignalOptions {
  /** Strikes either side of the underlying that count as near the money (default 6). */
  readonly band?: number
  /** Windows a baseline key needs before it is used (default 30). */
  readonly minSamples?: number
  /** Distinct trading days a baseline key needs (default 5). */
  readonly minDays?: number
  /** Trading days of history (default 20). */
  readonly baselineDays?: number
  /** Confidence at which an active window is reported (default 0.33: chosen by `npm run eval` on its training days). */
  readonly reportThreshold?: number
  /** Large-print size, contracts (default 25). */
  readonly largeSize?: number
  readonly model?: Model
}

// Floors for the robust scale (1.4826 × MAD): a key whose values barely vary must not turn noise into huge z.
const FLOOR = { logRatio: 0.25, logVolume: 0.25, trades: 1, avgSize: 1 }
const MAD_SCALE = 1.4826

const z = (x: number, r: Baselines.Robust, floor: number): number =>
  (x - r.median) / Math.max(floor, MAD_SCALE * r.mad)

interface ChainIndex {
  /** strike → [call id, put id]. */
  readonly pairs: Map<number, [number, number]>
  readonly spacing: number | undefined
  readonly underlyingId: number
}

export class SignalEngine {
  features: Features
  readonly history = new Baselines.History()
  private readonly band: number
  private readonly minSamples: number
  /** Distinct trading days of history a baseline key needs before it is used. */
  readonly minDays: number
  private readonly baselineDays: number
  private readonly threshold: number
  private readonly model: Model
  private tables = new Map<string, Baselines.Table>()
  private chains = new Map<string, ChainIndex>()
  private indexedInstruments = -1
  private lastUnderlying = new Map<string, { value: number; method: "future" | "parity" }>()
  private engine: FlowEngine | undefined = undefined
  private readonly largeSize: number

  constructor(options: SignalOptions = {}) {
    this.band = options.band ?? 6
    this.minSamples = options.minSamples ?? 30
    this.minDays = options.minDays ?? 5
    this.baselineDays = options.baselineDays ?? 20
    this.threshold = options.reportThreshold ?? DEFAULT_REPORT_THRESHOLD
    this.model = options.model ?? defaultModel
    this.largeSize = options.largeSize ?? 25
    this.features = new Features(() => undefined)
  }

  /** Trading days held in the history before the New York trading day of event time `clockNs` (ns; −1: none yet). */
  historyDaysBefore(clockNs: bigint): number {
    const days = this.history.days
    if (clockNs < 0n) return days.length
    const today = Baselines.newYork(Number(clockNs / 1_000_000n)).day
    return days.filter((d) => d < today).length
  }

  /** Seeds the history (e.g. from stored windows of earlier days). */
  seed(observations: Iterable<Baselines.Observation>): void {
    for (const o of observations) this.history.add(o)
    this.tables.clear()
  }

  /** Uses a stored baseline table for its day instead of the one computed from the in-memory history. */
  useTable(table: Baselines.Table): void {
    this.tables.set(table.day, table)
  }

  /**
   * Call with each `engine.apply(chunk)` output (the engine must run with `collectTrades: true`). A different
   * engine (a new session) starts fresh features and underlying estimates; the history carries over.
   */
  apply(out: EngineOutput, engine: FlowEngine): Array<WindowSignal> {
    this.bind(engine)
    if (out.trades !== undefined) this.features.addTrades(out.trades)
    return out.closed.length === 0 ? [] : this.close(out.closed)
  }

  /** Call with `engine.flush()` at the end of the stream. */
  flush(closed: ReadonlyArray<PressureWindow>, engine: FlowEngine): Array<WindowSignal> {
    this.bind(engine)
    return closed.length === 0 ? [] : this.close(closed)
  }

  /** The baseline table scoring `day` (computed once per day from the history). */
  tableFor(day: string): Baselines.Table {
    let t = this.tables.get(day)
    if (t === undefined) {
      t = this.history.tableFor(day, this.baselineDays)
      this.tables.set(day, t)
      // keep only today's table and enough history for tomorrow's
      for (const d of this.tables.keys()) if (d < day) this.tables.delete(d)
      this.history.trim(this.baselineDays + 1)
    }
    return t
  }

  private bind(engine: FlowEngine): void {
    if (engine === this.engine) return
    this.engine = engine
    this.features = new Features((id) => engine.instruments.get(id), { largeSize: this.largeSize })
    this.indexedInstruments = -1
    this.chains = new Map()
    this.lastUnderlying = new Map()
  }

  private close(closed: ReadonlyArray<PressureWindow>): Array<WindowSignal> {
    // The engine closes windows sorted (window start, expiration, strike, C before P): a window's expiration group
    // is then one run and its other leg its neighbour, so nothing here is looked up by a built string.
    const rows = isSorted(closed) ? closed : [...closed].sort(compareRows)
    const n = rows.length
    const feats: Array<FlowFeatures> = new Array(n)
    for (let i = 0; i < n; i++) feats[i] = this.features.take(rows[i]!)
    const underlying = new Map<string, { value: number; method: "future" | "parity" } | undefined>()
    const out: Array<WindowSignal> = new Array(n)
    for (let i = 0; i < n;) {
      const first = rows[i]!
      let call = 0
      let put = 0
      let j = i
      for (; j < n; j++) {
        const w = rows[j]!
        if (w.windowStart !== first.windowStart || w.expiration !== first.expiration) break
        if (w.optionType === "C") call += w.premium
        else put += w.premium
      }
      let u = underlying.get(first.expiration)
      if (u === undefined && !underlying.has(first.expiration)) {
        underlying.set(first.expiration, u = this.underlyingOf(first.expiration))
      }
      const ratio = put > 0 ? call / put : null
      const spacing = this.chains.get(first.expiration)?.spacing
      for (let k = i; k < j; k++) {
        const w = rows[k]!
        const f = feats[k]!
        const o = w.optionType === "C" ? k + 1 : k - 1
        const other = o >= i && o < j && rows[o]!.strike === w.strike ? feats[o]!.largeVolume : 0
        const straddle = other > 0 && f.largeVolume > 0
          ? Math.min(other, f.largeVolume) / Math.max(other, f.largeVolume)
          : 0
        out[k] = this.score(w, f, u, spacing, ratio, straddle)
      }
      i = j
    }
    if (n > 0) this.features.prune(rows[n - 1]!.windowStart)
    return out
  }

  private score(
    w: PressureWindow,
    f: FlowFeatures,
    u: { value: number; method: "future" | "parity" } | undefined,
    spacing: number | undefined,
    callPutPremiumRatio: number | null,
    straddle: number
  ): WindowSignal {
    const volume = w.bidVolume + w.askVolume + w.unknownVolume
    const day = Baselines.newYork(w.windowStart).day
    const logRatio = Math.log((w.askVolume + 1) / (w.bidVolume + 1))
    const hi = Math.max(w.askVolume, w.bidVolume)
    const mmBalance = hi === 0 ? 0 : Math.min(w.askVolume, w.bidVolume) / hi
    const otm = u === undefined || spacing === undefined
      ? null
      : Moneyness.otmStrikes(w.optionType, w.strike, u.value, spacing)
    const key = otm === null
      ? null
      : Baselines.keyOf(w.optionType, Moneyness.bucketOf(otm), w.windowStart, Baselines.tenorOf(w.windowStart, w.expiration))
    const active = otm !== null && Math.abs(otm) <= this.band
    // Unscored unless a baseline applies (plain locals: no intermediate object per window).
    let baselineN = 0
    let lowSample = false
    let zVolume: number | null = null
    let zRatio: number | null = null
    let zTrades: number | null = null
    let zSize: number | null = null
    let direction: Direction | null = null
    let bias: Bias | null = null
    let score: number | null = null
    let confidence: number | null = null
    let tier: Tier | null = null
    let reported = false
    if (key !== null && volume > 0) {
      // the table for today is built from earlier days only; today's windows join the history afterwards
      const table = this.tableFor(day)
      const fine = table.stats.get(key)
      let stats = this.usable(fine) ? fine : undefined
      if (stats === undefined) {
        const coarse = table.stats.get(Baselines.coarseKeyOf(key))
        if (this.usable(coarse)) stats = coarse
      }
      if (stats !== undefined) {
        const zv = z(Math.log(volume), stats.logVolume, FLOOR.logVolume)
        const zr = z(logRatio, stats.logRatio, FLOOR.logRatio)
        const zt = z(w.totalTrades, stats.trades, FLOOR.trades)
        const zs = z(w.avgTradeSize, stats.avgSize, FLOOR.avgSize)
        const net = w.askVolume - w.bidVolume || f.buyPremium - f.sellPremium
        direction = net > 0 ? "BUY" : net < 0 ? "SELL" : null
        lowSample = stats !== fine
        const x = modelInputs({
          zVolume: zv,
          zRatio: zr,
          zTrades: zt,
          zSize: zs,
          sweepVolume: f.sweepVolume,
          largeVolume: f.largeVolume,
          sweepNet: f.sweepNet,
          largeNet: f.largeNet,
          volume,
          mmBalance,
          straddle,
          lowSample
        })
        const c = direction === null ? 0 : predict(this.model, x)
        baselineN = stats.n
        zVolume = zv
        zRatio = zr
        zTrades = zt
        zSize = zs
        bias = direction === null ? null : (direction === "BUY") === (w.optionType === "C") ? "BULLISH" : "BEARISH"
        score = direction === null ? 0 : (direction === "BUY" ? 1 : -1) * (Math.max(0, zv) + Math.abs(zr))
        confidence = c
        tier = tierOf(c)
        reported = active && direction !== null && c >= this.threshold
      }
      this.history.addValues(day, key, logRatio, Math.log(volume), w.totalTrades, w.avgTradeSize)
    }
    return {
      windowStart: w.windowStart,
      expiration: w.expiration,
      strike: w.strike,
      optionType: w.optionType,
      day,
      underlying: u?.value ?? null,
      underlyingMethod: u?.method ?? null,
      otm,
      key,
      active,
      buyVolume: w.askVolume,
      sellVolume: w.bidVolume,
      unknownVolume: w.unknownVolume,
      trades: w.totalTrades,
      avgSize: w.avgTradeSize,
      logRatio,
      callPutPremiumRatio,
      mmBalance,
      straddle,
      // Written out rather than spread (the same keys in the same order): spreads build each row slowly.
      sweeps: f.sweeps,
      sweepVolume: f.sweepVolume,
      sweepNet: f.sweepNet,
      largePrints: f.largePrints,
      largeVolume: f.largeVolume,
      largeNet: f.largeNet,
      buyPremium: f.buyPremium,
      sellPremium: f.sellPremium,
      baselineN,
      lowSample,
      zVolume,
      zRatio,
      zTrades,
      zSize,
      direction,
      bias,
      score,
      confidence,
      tier,
      reported
    }
  }

  private usable(s: Baselines.KeyStats | undefined): s is Baselines.KeyStats {
    return s !== undefined && s.n >= this.minSamples && s.days >= this.minDays
  }

  /** The underlying of an expiration now: the future's mid if it has a two-sided book, else parity, else the last one. */
  private underlyingOf(expiration: string): { value: number; method: "future" | "parity" } | undefined {
    const engine = this.engine!
    if (engine.instruments.size !== this.indexedInstruments) this.index()
    const chain = this.chains.get(expiration)
    if (chain === undefined) return undefined
    const fut = midOf(engine, chain.underlyingId)
    let found: { value: number; method: "future" | "parity" } | undefined
    if (fut !== undefined) found = { value: fut, method: "future" }
    else {
      const pairs: Array<Moneyness.ParityPair> = []
      for (const [strike, [c, p]] of chain.pairs) {
        const callMid = midOf(engine, c)
        const putMid = midOf(engine, p)
        if (callMid !== undefined && putMid !== undefined) pairs.push({ strike, callMid, putMid })
      }
      const f = Moneyness.parityForward(pairs)
      if (f !== undefined) found = { value: f, method: "parity" }
    }
    if (found !== undefined) this.lastUnderlying.set(expiration, found)
    return found ?? this.lastUnderlying.get(expiration)
  }

  private index(): void {
    const engine = this.engine!
    this.indexedInstruments = engine.instruments.size
    const byExp = new Map<string, { pairs: Map<number, [number, number]>; underlyingId: number }>()
    for (const i of engine.instruments.options()) {
      if (!i.windowed) continue
      let e = byExp.get(i.expiration)
      if (e === undefined) byExp.set(i.expiration, e = { pairs: new Map(), underlyingId: i.underlyingId })
      let pair = e.pairs.get(i.strike)
      if (pair === undefined) e.pairs.set(i.strike, pair = [-1, -1])
      pair[i.optionType === "C" ? 0 : 1] = i.instrumentId
    }
    this.chains = new Map()
    for (const [exp, e] of byExp) {
      this.chains.set(exp, {
        pairs: e.pairs,
        spacing: Moneyness.strikeSpacing([...e.pairs.keys()]),
        underlyingId: e.underlyingId
      })
    }
  }
}

const isSorted = (rows: ReadonlyArray<PressureWindow>): boolean => {
  for (let i = 1; i < rows.length; i++) if (compareRows(rows[i - 1]!, rows[i]!) > 0) return false
  return true
}

const midOf = (engine: FlowEngine, id: number): number | undefined => {
  if (id < 0) return undefined
  const b = engine.book(id)
  if (b === undefined) return undefined
  const bid = b.bestBidPrice
  const ask = b.bestAskPrice
  if (!(bid === bid && ask === ask) || ask < bid) return undefined
  return (bid + ask) / 2 / 1e9
}

// ---- model fitting and calibration (used by the evaluation and tests) ----------------------------------------

/** Maximum-likelihood logistic regression by Newton steps with a small ridge (`l2`) on the non-intercept weights. */
export const fitLogistic = (xs: ReadonlyArray<ReadonlyArray<number>>, ys: ReadonlyArray<number>, l2 = 1): Array<number> => {
  const k = xs[0]?.length ?? 0
  const w = new Array<number>(k).fill(0)
  for (let iter = 0; iter < 50; iter++) {
    const g = new Array<number>(k).fill(0)
    const h = Array.from({ length: k }, () => new Array<number>(k).fill(0))
    for (let n = 0; n < xs.length; n++) {
      const x = xs[n]!
      let s = 0
      for (let i = 0; i < k; i++) s += w[i]! * x[i]!
      const p = 1 / (1 + Math.exp(-s))
      const r = p - ys[n]!
      const v = Math.max(p * (1 - p), 1e-9)
      for (let i = 0; i < k; i++) {
        g[i] += r * x[i]!
        for (let j = 0; j < k; j++) h[i]![j] += v * x[i]! * x[j]!
      }
    }
    for (let i = 1; i < k; i++) {
      g[i] += l2 * w[i]!
      h[i]![i] += l2
    }
    const step = solve(h, g)
    let size = 0
    for (let i = 0; i < k; i++) {
      w[i] -= step[i]!
      size = Math.max(size, Math.abs(step[i]!))
    }
    if (size < 1e-8) break
  }
  return w
}

const solve = (a: Array<Array<number>>, b: Array<number>): Array<number> => {
  const n = b.length
  const m = a.map((row, i) => [...row, b[i]!])
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r
    ;[m[c], m[p]] = [m[p]!, m[c]!]
    const d = m[c]![c]! || 1e-12
    for (let r = 0; r < n; r++) {
      if (r === c) continue
      const f = m[r]![c]! / d
      for (let j = c; j <= n; j++) m[r]![j] -= f * m[c]![j]!
    }
  }
  return m.map((row, i) => row[n]! / (row[i]! || 1e-12))
}

export interface CalibrationBin {
  /** [lo, hi) of confidence (the last bin includes 1). */
  readonly lo: number
  readonly hi: number
  readonly count: number
  readonly meanConfidence: number
  /** Share of the bin's signals that were real. */
  readonly observed: number
}

/** Equal-width reliability table and its expected calibration error (count-weighted mean |confidence − observed|). */
export const calibration = (
  confidence: ReadonlyArray<number>,
  real: ReadonlyArray<boolean>,
  bins = 10
): { readonly bins: Array<CalibrationBin>; readonly ece: number } => {
  const acc = Array.from({ length: bins }, () => ({ n: 0, c: 0, r: 0 }))
  for (let i = 0; i < confidence.length; i++) {
    const c = confidence[i]!
    const b = acc[Math.min(bins - 1, Math.floor(c * bins))]!
    b.n++
    b.c += c
    if (real[i]) b.r++
  }
  let ece = 0
  const out = acc.map((b, i) => {
    const meanConfidence = b.n === 0 ? 0 : b.c / b.n
    const observed = b.n === 0 ? 0 : b.r / b.n
    ece += b.n * Math.abs(meanConfidence - observed)
    return { lo: i / bins, hi: (i + 1) / bins, count: b.n, meanConfidence, observed }
  })
  return { bins: out, ece: confidence.length === 0 ? 0 : ece / confidence.length }
}
