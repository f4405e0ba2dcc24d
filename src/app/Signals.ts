/**
 * `baseline` (the daily job: recompute the next trading day's baselines from the stored windows of the last N
 * trading days) and `export signals` (reported signals as JSON lines or CSV on standard output), plus `prime`,
 * which gives a pipeline's `SignalEngine` its history from the store before a run.
 */
import { NodeSink } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import * as Baselines from "../flow/Baselines.js"
import type { SignalEngine } from "../flow/Signals.js"
import { SourceError } from "../source/MarketDataSource.js"
import { BaselinesRepo } from "../store/BaselinesRepo.js"
import { type SignalRow, SignalsRepo } from "../store/SignalsRepo.js"
import * as Store from "../store/Store.js"
import { type Format, formatRows } from "./Export.js"

const storeLayer = (db: string | undefined) => db === undefined ? Store.layerConfig : Store.layer({ filename: db })

/** The weekday after `day` (YYYY-MM-DD): the next trading day, holidays aside. */
export const nextWeekday = (day: string): string => {
  let t = Date.parse(`${day}T12:00:00Z`) + 86_400_000
  while ([0, 6].includes(new Date(t).getUTCDay())) t += 86_400_000
  return new Date(t).toISOString().slice(0, 10)
}

/**
 * Computes and stores the baseline of `day` (default: the weekday after the last stored trading day) from the
 * `days` trading days before it that have stored windows. Returns the table.
 */
export const computeBaseline = Effect.fn("Signals.computeBaseline")(function*(options: {
  readonly days: number
  readonly day?: string | undefined
}) {
  const signals = yield* SignalsRepo
  const baselines = yield* BaselinesRepo
  const stored = yield* signals.days()
  const day = options.day ?? (stored.length === 0 ? undefined : nextWeekday(stored[stored.length - 1]!))
  if (day === undefined) return undefined
  const from = stored.filter((d) => d < day).slice(-options.days)
  const table = Baselines.compute(day, from, yield* signals.observations(from))
  yield* baselines.replace(table)
  return table
})

export const baseline = (options: {
  readonly db: string | undefined
  readonly days: number
  readonly day?: string | undefined
  readonly minSamples?: number | undefined
}) =>
  Effect.gen(function*() {
    const table = yield* computeBaseline(options)
    if (table === undefined) return yield* Console.log("no stored windows: run replay (or live) first")
    const minSamples = options.minSamples ?? 30
    let usable = 0
    for (const s of table.stats.values()) if (s.n >= minSamples) usable++
    yield* Console.log(
      `baseline for ${table.day}: ${table.stats.size} keys (${usable} with ≥ ${minSamples} windows) from ` +
        `${table.from.length} trading day(s)${table.from.length === 0 ? "" : ` ${table.from[0]} … ${table.from[table.from.length - 1]}`}` +
        (table.from.length < options.days ? ` (fewer than the ${options.days} asked: signals stay low-sample or absent)` : "")
    )
  }).pipe(Effect.provide(storeLayer(options.db)))

/** Seeds a `SignalEngine` with the stored windows of the last `days` trading days, and any stored baselines. */
export const prime = Effect.fn("Signals.prime")(function*(engine: SignalEngine, days = 20) {
  const signals = yield* SignalsRepo
  const baselines = yield* BaselinesRepo
  const stored = yield* signals.days()
  const recent = stored.slice(-days)
  engine.seed(yield* signals.observations(recent))
  for (const day of (yield* baselines.days()).slice(-2)) {
    const table = yield* baselines.get(day)
    if (table !== undefined) engine.useTable(table)
  }
  return recent.length
})

export const SIGNAL_KEYS = [
  "window_start", "expiration", "strike", "option_type", "direction", "bias", "confidence", "tier", "score",
  "buy_volume", "sell_volume", "unknown_volume", "trades", "avg_size", "log_ratio", "sweeps", "sweep_volume",
  "sweep_net", "large_prints", "large_volume", "large_net", "buy_premium", "sell_premium", "call_put_premium_ratio",
  "mm_balance", "straddle", "underlying", "underlying_method", "otm", "z_volume", "z_ratio", "z_trades", "z_size",
  "baseline_n", "low_sample", "latency_ms"
] as const

export const signalRow = (r: SignalRow): Record<string, string | number | null> => {
  const out: Record<string, string | number | null> = {}
  for (const k of SIGNAL_KEYS) out[k] = k === "window_start" ? new Date(r.window_start).toISOString() : r[k]
  return out
}

const stdout = NodeSink.fromWritable(
  () => process.stdout,
  () => new SourceError({ reason: "Read", detail: "could not write standard output" }),
  { endOnDone: false }
)

export const exportSignals = (options: {
  readonly db: string | undefined
  readonly format: Format
  /** Every measured window, not only reported signals. */
  readonly all?: boolean | undefined
}) =>
  Effect.gen(function*() {
    const repo = yield* SignalsRepo
    const header = options.format === "csv" ? Stream.make(SIGNAL_KEYS.join(",") + "\n") : Stream.empty
    yield* Stream.concat(
      header,
      repo.stream({ all: options.all === true }).pipe(
        Stream.chunks,
        Stream.map((chunk) => formatRows(Array.from(chunk, signalRow), SIGNAL_KEYS, options.format))
      )
    ).pipe(Stream.run(stdout))
  }).pipe(Effect.provide(storeLayer(options.db)))
