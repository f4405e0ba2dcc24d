/**
 * `npm run eval`: simulates baseline trading days and labelled days (injected institutional-flow episodes and
 * decoys), runs decoder → FlowEngine → SignalEngine in-process, fits the confidence model and the report
 * thresholds on the training days only, scores the held-out test days and writes EVALUATION.md.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { DbnDecoder } from "../src/dbn/Decoder.js"
import { FlowEngine } from "../src/flow/Engine.js"
import * as Baselines from "../src/flow/Baselines.js"
import * as Signals from "../src/flow/Signals.js"
import { Rng } from "../src/sim/Random.js"
import * as Simulator from "../src/sim/Simulator.js"
import { DECOY_ID_BASE } from "../src/sim/Market.js"
import { RULE_AGGRESSOR } from "../src/sim/Truth.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

const env = (name: string, fallback: number): number => {
  const v = process.env[name]
  return v === undefined || v === "" ? fallback : Number(v)
}

export const config = {
  seed: env("EVAL_SEED", 20261124),
  firstDay: "2026-06-01",
  historyDays: env("EVAL_HISTORY_DAYS", 20),
  trainDays: env("EVAL_TRAIN_DAYS", 10),
  testDays: env("EVAL_TEST_DAYS", 10),
  sim: {
    sessionStart: "09:30",
    sessionMinutes: 390,
    expirations: 2,
    strikesPerExpiration: 24,
    strikeSpacing: 50,
    volatility: 0.22,
    levelsPerSide: 5,
    targetRecords: env("EVAL_RECORDS", 300_000),
    clears: 2,
    tradeShare: 0.09,
    unattributedShare: 0.05,
    chunkBytes: 1 << 18,
    collectTrades: true,
    episodeSize: [15, 150] as const,
    episodeOrders: [10, 60] as const
  },
  historyFlow: { episodes: 1, decoys: 1 },
  labelledFlow: { episodes: 5, decoys: 4 },
  /** Daily log-return sd of the underlying between sessions (the chain re-centres each day, moneyness must follow). */
  dailyMove: 0.012,
  /** An episode's volume in a window needed to call the window real, contracts. */
  minEpisodeVolume: 10,
  signal: { band: 6, minSamples: 30, minDays: 5, baselineDays: 20, largeSize: 25 } satisfies Signals.SignalOptions
}

type Split = "history" | "train" | "test"

interface Scored {
  readonly split: Split
  readonly day: string
  readonly signal: Signals.WindowSignal
  readonly volume: number
  /** Episode (flow) volume in the window and its side. */
  readonly real: boolean
  readonly realSide: "BUY" | "SELL" | null
  readonly episode: number
  readonly decoy: "balanced" | "straddle" | null
}

const weekdays = (from: string, n: number): Array<string> => {
  const out: Array<string> = []
  let t = Date.parse(`${from}T12:00:00Z`)
  while (out.length < n) {
    const d = new Date(t).getUTCDay()
    if (d !== 0 && d !== 6) out.push(new Date(t).toISOString().slice(0, 10))
    t += 86_400_000
  }
  return out
}

interface DayResult {
  readonly scored: Array<Scored>
  readonly aggressorTrades: number
  readonly aggressorCorrect: number
  readonly trades: number
  readonly tradesCorrect: number
  readonly episodes: ReadonlyArray<{ id: number; side: "BUY" | "SELL"; windows: number }>
  readonly records: number
  readonly methods: Record<string, number>
  readonly underlyingErrors: Array<number>
}

const runDay = (
  se: Signals.SignalEngine,
  split: Split,
  date: string,
  seed: number,
  underlying: number
): DayResult => {
  const flow = split === "history" ? config.historyFlow : config.labelledFlow
  const session = Simulator.simulate({ ...config.sim, ...flow, seed, date, underlyingPrice: underlying })
  const engine = new FlowEngine({ collectTrades: true })
  const decoder = new DbnDecoder()
  const signals: Array<Signals.WindowSignal> = []
  const engineSides: Array<number> = []
  const engineIds: Array<number> = []
  for (const bytes of session.chunks()) {
    decoder.push(bytes)
    const out = engine.apply(decoder.drain())
    const t = out.trades!
    for (let i = 0; i < t.length; i++) {
      engineSides.push(t.side[i]!)
      engineIds.push(t.instrumentId[i]!)
    }
    for (const s of se.apply(out, engine)) signals.push(s)
  }
  for (const s of se.flush(engine.flush(), engine)) signals.push(s)
  const truth = session.truth

  // trade-by-trade direction against the simulator's truth (same stream order)
  const tape = truth.trades
  let aggressorTrades = 0
  let aggressorCorrect = 0
  let tradesCorrect = 0
  if (engineSides.length !== tape.length) throw new Error(`trade count ${engineSides.length} ≠ truth ${tape.length}`)
  for (let i = 0; i < tape.length; i++) {
    if (engineIds[i] !== tape.instrumentId[i]) throw new Error(`trade ${i}: instrument mismatch`)
    const ok = engineSides[i] === tape.direction[i]
    if (ok) tradesCorrect++
    if (tape.rule[i] === RULE_AGGRESSOR) {
      aggressorTrades++
      if (ok) aggressorCorrect++
    }
  }

  // per window: flow-episode and decoy volume from the tape
  const byId = new Map(session.chain.options.map((o) => [o.instrumentId, o]))
  const flowVol = new Map<string, { vol: number; id: number }>()
  const decoyVol = new Map<string, number>()
  const startMs = Number(session.startNs / 1_000_000n)
  for (let i = 0; i < tape.length; i++) {
    const ep = tape.episode[i]!
    if (ep < 0) continue
    const o = byId.get(tape.instrumentId[i]!)!
    const ms = startMs + tape.tsOffset[i]! / 1e6
    const k = `${Math.floor(ms / 300_000) * 300_000}|${o.expiry.expiration}|${o.strike}|${o.optionType}`
    if (ep >= DECOY_ID_BASE) decoyVol.set(k, (decoyVol.get(k) ?? 0) + tape.size[i]!)
    else {
      const f = flowVol.get(k) ?? { vol: 0, id: ep }
      f.vol += tape.size[i]!
      flowVol.set(k, f)
    }
  }
  const episodeSide = new Map(truth.episodes.map((e) => [e.id, e.side]))
  const decoyKind = new Map(truth.decoys.map((d) => [d.id, d.kind]))
  void decoyKind
  const decoyKindOf = (k: string): "balanced" | "straddle" | null => {
    if (!decoyVol.has(k)) return null
    // which decoy: a straddle trades both legs of the strike
    const [ws, exp, strike, type] = k.split("|")
    return decoyVol.has(`${ws}|${exp}|${strike}|${type === "C" ? "P" : "C"}`) ? "straddle" : "balanced"
  }
  const episodeWindows = new Map<number, number>()
  const scored: Array<Scored> = []
  const methods: Record<string, number> = {}
  const underlyingErrors: Array<number> = []
  for (const s of signals) {
    const k = `${s.windowStart}|${s.expiration}|${s.strike}|${s.optionType}`
    const f = flowVol.get(k)
    const real = f !== undefined && f.vol >= config.minEpisodeVolume
    if (real) episodeWindows.set(f.id, (episodeWindows.get(f.id) ?? 0) + 1)
    methods[s.underlyingMethod ?? "none"] = (methods[s.underlyingMethod ?? "none"] ?? 0) + 1
    scored.push({
      split,
      day: date,
      signal: s,
      volume: s.buyVolume + s.sellVolume + s.unknownVolume,
      real,
      realSide: real ? episodeSide.get(f.id)! : null,
      episode: real ? f.id : -1,
      decoy: decoyKindOf(k)
    })
  }
  return {
    scored,
    aggressorTrades,
    aggressorCorrect,
    trades: tape.length,
    tradesCorrect,
    episodes: truth.episodes.map((e) => ({ id: e.id, side: e.side, windows: episodeWindows.get(e.id) ?? 0 })),
    records: truth.counts.records,
    methods,
    underlyingErrors
  }
}

// ---- metrics ------------------------------------------------------------------------------------------------

interface Rates {
  readonly tp: number
  readonly fp: number
  readonly fn: number
  readonly tn: number
  readonly precision: number
  readonly recall: number
  readonly fpr: number
  readonly directionAccuracy: number
}

const rates = (rows: ReadonlyArray<Scored>, flagged: (r: Scored) => boolean, dir: (r: Scored) => string | null): Rates => {
  let tp = 0, fp = 0, fn = 0, tn = 0, dirOk = 0
  for (const r of rows) {
    const f = flagged(r)
    if (r.real && f) {
      tp++
      if (dir(r) === r.realSide) dirOk++
    } else if (r.real) fn++
    else if (f) fp++
    else tn++
  }
  return {
    tp,
    fp,
    fn,
    tn,
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    fpr: fp + tn === 0 ? 0 : fp / (fp + tn),
    directionAccuracy: tp === 0 ? 0 : dirOk / tp
  }
}

/** Threshold choice on training rows: lowest FPR with recall ≥ 80 % (ties: higher threshold); else best F1. */
const chooseThreshold = (rows: ReadonlyArray<Scored>, value: (r: Scored) => number, candidates: ReadonlyArray<number>) => {
  let best: { t: number; r: Rates } | undefined
  for (const t of candidates) {
    const r = rates(rows, (x) => value(x) >= t, () => null)
    if (r.recall >= 0.8 && (best === undefined || r.fpr <= best.r.fpr)) best = { t, r }
  }
  if (best !== undefined) return best
  for (const t of candidates) {
    const r = rates(rows, (x) => value(x) >= t, () => null)
    const f1 = (x: Rates) => (x.precision + x.recall === 0 ? 0 : (2 * x.precision * x.recall) / (x.precision + x.recall))
    if (best === undefined || f1(r) > f1(best.r)) best = { t, r }
  }
  return best!
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`
const inputsOf = (s: Signals.WindowSignal, volume: number) =>
  Signals.modelInputs({
    zVolume: s.zVolume!,
    zRatio: s.zRatio!,
    zTrades: s.zTrades!,
    zSize: s.zSize!,
    sweepVolume: s.sweepVolume,
    largeVolume: s.largeVolume,
    sweepNet: s.sweepNet,
    largeNet: s.largeNet,
    volume,
    mmBalance: s.mmBalance,
    straddle: s.straddle,
    lowSample: s.lowSample
  })

const main = () => {
  const t0 = Date.now()
  const c = config
  const total = c.historyDays + c.trainDays + c.testDays
  const days = weekdays(c.firstDay, total)
  const rng = new Rng(c.seed)
  const se = new Signals.SignalEngine(c.signal)
  const results: Array<DayResult & { split: Split; day: string }> = []
  const tables: Array<Baselines.Table> = []
  let underlying = 21500
  for (let d = 0; d < total; d++) {
    const split: Split = d < c.historyDays ? "history" : d < c.historyDays + c.trainDays ? "train" : "test"
    if (d >= c.historyDays) tables.push(se.tableFor(days[d]!))
    const r = runDay(se, split, days[d]!, c.seed + 1000 * d, underlying)
    results.push({ ...r, split, day: days[d]! })
    process.stderr.write(`${days[d]} ${split}: ${r.records} records, ${r.scored.length} windows (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`)
    underlying = Math.round(underlying * Math.exp(c.dailyMove * rng.normal()))
  }

  const all = results.flatMap((r) => r.scored)
  const judged = (split: Split) => all.filter((r) => r.split === split && r.signal.active && r.signal.confidence !== null)
  const train = judged("train")
  const test = judged("test")

  // 1. the confidence model, fitted on training days only
  const weights = Signals.fitLogistic(train.map((r) => inputsOf(r.signal, r.volume)), train.map((r) => (r.real ? 1 : 0)))
  const model: Signals.Model = { inputs: Signals.MODEL_INPUTS, weights }
  const conf = (r: Scored) => (r.signal.direction === null ? 0 : Signals.predict(model, inputsOf(r.signal, r.volume)))

  // 2. report thresholds chosen on training days: ours on confidence, the naive one on volume
  const confCandidates = Array.from({ length: 99 }, (_, i) => (i + 1) / 100)
  const volCandidates = [...new Set(train.map((r) => r.volume))].sort((a, b) => a - b)
  const ours = chooseThreshold(train, conf, confCandidates)
  const naive = chooseThreshold(train, (r) => r.volume, volCandidates)

  // 3. scored on the test days
  const oursTest = rates(test, (r) => conf(r) >= ours.t, (r) => r.signal.direction)
  const naiveDir = (r: Scored) => (r.signal.buyVolume > r.signal.sellVolume ? "BUY" : r.signal.sellVolume > r.signal.buyVolume ? "SELL" : null)
  const naiveTest = rates(test, (r) => r.volume >= naive.t, naiveDir)
  const cal = Signals.calibration(test.map(conf), test.map((r) => r.real))
  const reported = test.filter((r) => conf(r) >= ours.t)
  const calReported = Signals.calibration(reported.map(conf), reported.map((r) => r.real))

  // episode-level recall on test days: an episode is found when one of its windows is reported with its side
  const testEpisodes = results.filter((r) => r.split === "test").flatMap((r) => r.episodes.map((e) => ({ ...e, day: r.day })))
  const found = (flag: (r: Scored) => boolean, dir: (r: Scored) => string | null) =>
    testEpisodes.filter((e) =>
      test.some((r) => r.day === e.day && r.episode === e.id && flag(r) && dir(r) === e.side)
    ).length
  const epOurs = found((r) => conf(r) >= ours.t, (r) => r.signal.direction)
  const epNaive = found((r) => r.volume >= naive.t, naiveDir)
  // real windows the detector never judged (outside the band, or without a baseline)
  const testAllReal = all.filter((r) => r.split === "test" && r.real)
  const unjudgedReal = testAllReal.filter((r) => !(r.signal.active && r.signal.confidence !== null)).length

  // decoys
  const decoyRows = test.filter((r) => r.decoy !== null && !r.real)
  const decoyFlag = (flag: (r: Scored) => boolean, kind: string) => {
    const rows = decoyRows.filter((r) => r.decoy === kind)
    return `${rows.filter(flag).length} / ${rows.length}`
  }

  // tiers reached on test days
  const tiers = new Map<string, number>(Signals.TIERS.map((t) => [t, 0]))
  for (const r of test) tiers.set(Signals.tierOf(conf(r)), tiers.get(Signals.tierOf(conf(r)))! + 1)
  const tierReal = (t: string) => {
    const rows = test.filter((r) => Signals.tierOf(conf(r)) === t)
    return rows.length === 0 ? "–" : pct(rows.filter((r) => r.real).length / rows.length)
  }

  // direction accuracy of the trade classification
  const scoredDays = results.filter((r) => r.split !== "history")
  const aggr = results.reduce((a, r) => [a[0]! + r.aggressorCorrect, a[1]! + r.aggressorTrades], [0, 0])
  const allTr = results.reduce((a, r) => [a[0]! + r.tradesCorrect, a[1]! + r.trades], [0, 0])

  // 4. baseline stability: day-over-day change of each key's medians between consecutive days' tables
  const changes = { volume: [] as Array<number>, trades: [] as Array<number>, size: [] as Array<number>, ratio: [] as Array<number> }
  for (let i = 1; i < tables.length; i++) {
    const a = tables[i - 1]!
    const b = tables[i]!
    for (const [k, sa] of a.stats) {
      const sb = b.stats.get(k)
      if (sb === undefined || sa.n < c.signal.minSamples || sb.n < c.signal.minSamples || k.includes("|*|")) continue
      changes.volume.push(Math.abs(Math.exp(sb.logVolume.median - sa.logVolume.median) - 1))
      changes.trades.push(Math.abs(sb.trades.median / sa.trades.median - 1))
      changes.size.push(Math.abs(sb.avgSize.median / sa.avgSize.median - 1))
      changes.ratio.push(Math.abs(sb.logRatio.median - sa.logRatio.median) / Math.max(0.25, 1.4826 * sa.logRatio.mad))
    }
  }
  const mean = (xs: ReadonlyArray<number>) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length)
  const q = (xs: ReadonlyArray<number>, p: number) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]!
  }
  const methods: Record<string, number> = {}
  for (const r of scoredDays) for (const [m, n] of Object.entries(r.methods)) methods[m] = (methods[m] ?? 0) + n
  const elapsed = (Date.now() - t0) / 1000

  const lines: Array<string> = []
  const L = (s = "") => lines.push(s)
  L("# Evaluation: institutional-flow signals")
  L()
  L(`Generated by \`npm run eval\` (eval/run.ts) in ${elapsed.toFixed(0)} s. Everything below is a function of the seed and parameters.`)
  L()
  L("## Set-up")
  L()
  L(`- Seed ${c.seed}; ${total} simulated trading days from ${days[0]} to ${days[total - 1]}: ${c.historyDays} history days ` +
    `(${c.historyFlow.episodes} episode + ${c.historyFlow.decoys} decoy each, never scored), ${c.trainDays} training days and ` +
    `${c.testDays} test days (${c.labelledFlow.episodes} episodes + ${c.labelledFlow.decoys} decoys each).`)
  L(`- Session: ${c.sim.sessionStart} New York, ${c.sim.sessionMinutes} min, ${c.sim.expirations} expirations × ` +
    `${c.sim.strikesPerExpiration} strikes × C/P, ≈${c.sim.targetRecords.toLocaleString("en-US")} records/day; underlying ` +
    `re-drawn each day with a ${pct(c.dailyMove)} daily move (strikes drift, moneyness must follow).`)
  L(`- Episodes: median order ${c.sim.episodeSize[0]}–${c.sim.episodeSize[1]} contracts, ${c.sim.episodeOrders[0]}–` +
    `${c.sim.episodeOrders[1]} orders over 3–15 min, 1–3 adjacent strikes 0–4 strikes out of the money, buy or sell, call or put. ` +
    "Decoys: large balanced flow on one strike (each order's side a coin flip) and straddles (call and put of the ATM strike traded together).")
  L(`- A window is *real* when an episode traded ≥ ${c.minEpisodeVolume} contracts in it (from the simulator's trade tape). ` +
    `Signals are judged on active windows (within ±${c.signal.band} strikes of the estimated underlying) that have a baseline ` +
    `(≥ ${c.signal.minSamples} windows from ≥ ${c.signal.minDays} days; else the time-of-day-free key, marked low-sample).`)
  L("- The confidence model (logistic regression on the baseline z-scores and flow features) and both detectors' report " +
    "thresholds are fitted on the training days only; every figure below is on the test days unless marked.")
  L(`- Underlying estimates used: ${Object.entries(methods).map(([m, n]) => `${m} ${n}`).join(", ")} windows.`)
  L()
  L("## Method")
  L()
  L("- **Underlying**: the underlying future's book mid when it has a two-sided book, else put–call parity on the " +
    "three pairs of the expiration nearest the money (F ≈ K + C − P from book mids, discount factor taken as 1), " +
    "re-estimated each time windows close; with neither, the window gets no moneyness and no signal. The simulator " +
    "publishes no future book, so every estimate here is parity.")
  L("- **Baselines**: per option type × moneyness bucket (strikes out of the money, rounded, ±8) × New York half hour × " +
    "tenor (0–2, 3–9, 10+ days), median and MAD of ln((ask+1)/(bid+1)), ln(volume), trade count and average size over " +
    "the 20 trading days before the day scored (the scored day is never in them). Keys with too little history fall back " +
    "to the key without the half hour (marked low-sample); with neither, no signal.")
  L("- **Signal**: direction = side of the larger initiated volume (premium on a tie); bias = direction × call/put; " +
    "score = ±(max(0, z_volume) + |z_ratio|); confidence = logistic model of the z-scores, sweep and large-print shares " +
    "(total and net of side), the two-sided balance (min/max of buy and sell volume) and the straddle overlap (the other " +
    "leg's large-print volume at the same strike); tier = low [0, 0.5), medium [0.5, 0.75), high [0.75, 0.9), critical [0.9, 1].")
  L()
  L("## Results (test days)")
  L()
  L("| | ours | naive volume threshold | target |")
  L("|---|---|---|---|")
  L(`| threshold (chosen on training days) | confidence ≥ ${ours.t.toFixed(2)} | volume ≥ ${naive.t} | |`)
  L(`| training recall / FPR | ${pct(ours.r.recall)} / ${pct(ours.r.fpr)} | ${pct(naive.r.recall)} / ${pct(naive.r.fpr)} | |`)
  L(`| window recall | ${pct(oursTest.recall)} | ${pct(naiveTest.recall)} | ≥ 80 % |`)
  L(`| false-positive rate | ${pct(oursTest.fpr)} | ${pct(naiveTest.fpr)} | < 10 % |`)
  L(`| precision | ${pct(oursTest.precision)} | ${pct(naiveTest.precision)} | |`)
  L(`| TP / FP / FN / TN | ${oursTest.tp} / ${oursTest.fp} / ${oursTest.fn} / ${oursTest.tn} | ${naiveTest.tp} / ${naiveTest.fp} / ${naiveTest.fn} / ${naiveTest.tn} | |`)
  L(`| signal direction accuracy (true positives) | ${pct(oursTest.directionAccuracy)} | ${pct(naiveTest.directionAccuracy)} | |`)
  L(`| episodes found (a window reported with the right side) | ${epOurs} / ${testEpisodes.length} | ${epNaive} / ${testEpisodes.length} | |`)
  L(`| balanced decoy windows reported | ${decoyFlag((r) => conf(r) >= ours.t, "balanced")} | ${decoyFlag((r) => r.volume >= naive.t, "balanced")} | |`)
  L(`| straddle decoy windows reported | ${decoyFlag((r) => conf(r) >= ours.t, "straddle")} | ${decoyFlag((r) => r.volume >= naive.t, "straddle")} | |`)
  L()
  L(`Real windows on test days: ${testAllReal.length}; ${unjudgedReal} of them were not judged (outside the band or no baseline) ` +
    "and are not in the window figures above.")
  L()
  L("### Trade direction (all days)")
  L()
  L(`- Trades whose aggressor is known (side A/B): ${aggr[0]} / ${aggr[1]} correct = ${pct(aggr[0]! / aggr[1]!)} (target ≥ 99 %).`)
  L(`- All trades (incl. side N, decided by the quote rule): ${allTr[0]} / ${allTr[1]} = ${pct(allTr[0]! / allTr[1]!)}.`)
  L()
  L("### Calibration (test days, all judged windows)")
  L()
  L(`Expected calibration error ${cal.ece.toFixed(4)} (target < 0.1); over reported signals only: ${calReported.ece.toFixed(4)}.`)
  L()
  L("| confidence | windows | mean confidence | observed real |")
  L("|---|---|---|---|")
  for (const b of cal.bins) {
    L(`| ${b.lo.toFixed(1)}–${b.hi.toFixed(1)} | ${b.count} | ${b.count === 0 ? "–" : b.meanConfidence.toFixed(3)} | ${b.count === 0 ? "–" : b.observed.toFixed(3)} |`)
  }
  L()
  L("### Tiers (test days)")
  L()
  L("| tier | confidence | windows | real |")
  L("|---|---|---|---|")
  const bands: Record<string, string> = { low: "[0, 0.5)", medium: "[0.5, 0.75)", high: "[0.75, 0.9)", critical: "[0.9, 1]" }
  for (const t of Signals.TIERS) L(`| ${t} | ${bands[t]} | ${tiers.get(t)} | ${tierReal(t)} |`)
  L()
  L("### Baseline stability")
  L()
  L(`Day-over-day change of each (type × moneyness × half-hour × tenor) key's baseline between consecutive scored days ` +
    `(${tables.length} tables, ${changes.volume.length} key-day pairs with ≥ ${c.signal.minSamples} windows; no regime change in the simulation):`)
  L()
  L("| statistic | mean | median | 90th pct | target |")
  L("|---|---|---|---|---|")
  const row = (name: string, xs: Array<number>, unit: (x: number) => string, target: string) =>
    L(`| ${name} | ${unit(mean(xs))} | ${unit(q(xs, 0.5))} | ${unit(q(xs, 0.9))} | ${target} |`)
  row("median volume (relative)", changes.volume, pct, "< 5 %")
  row("median trade count (relative)", changes.trades, pct, "< 5 %")
  row("median trade size (relative)", changes.size, pct, "< 5 %")
  row("median log pressure ratio (in robust sd)", changes.ratio, (x) => x.toFixed(3), "")
  L()
  L("### Fitted confidence model")
  L()
  L("| input | weight |")
  L("|---|---|")
  weights.forEach((w, i) => L(`| ${Signals.MODEL_INPUTS[i]} | ${w.toFixed(3)} |`))
  L()
  L(`Copy into \`defaultModel\` (src/flow/Signals.ts): \`[${weights.map((w) => w.toFixed(3)).join(", ")}]\`, report threshold ${ours.t.toFixed(2)}.`)
  L()
  L("## Parameters")
  L()
  L("```json")
  L(JSON.stringify(c, null, 2))
  L("```")
  const out = process.env.EVAL_OUT ?? path.join(root, "EVALUATION.md")
  fs.writeFileSync(out, lines.join("\n") + "\n")
  process.stdout.write(lines.join("\n") + "\n")
}

main()
