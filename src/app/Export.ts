/**
 * `export windows` (JSON lines or CSV on standard output, streamed page by page) and `prune` (retention).
 */
import { NodeSink } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import type { PressureWindow } from "../flow/PressureWindow.js"
import { SourceError } from "../source/MarketDataSource.js"
import { Retention } from "../store/Retention.js"
import * as Store from "../store/Store.js"
import { type StrikeWindow, WindowsRepo } from "../store/WindowsRepo.js"

export type Format = "jsonl" | "csv"

const BASE_KEYS = [
  "window_start", "expiration", "strike", "option_type", "bid_volume", "ask_volume", "pressure_ratio",
  "total_trades", "avg_trade_size", "dominant_side", "unknown_volume", "trades_aggressor", "trades_quote",
  "trades_tick", "trades_none", "premium", "max_trade_size"
] as const

type Row = Record<string, string | number | null>

const common = (w: PressureWindow | StrikeWindow): Row => ({
  window_start: new Date(w.windowStart).toISOString(),
  strike: w.strike,
  option_type: w.optionType,
  bid_volume: w.bidVolume,
  ask_volume: w.askVolume,
  pressure_ratio: w.pressureRatio,
  total_trades: w.totalTrades,
  avg_trade_size: w.avgTradeSize,
  dominant_side: w.dominantSide,
  unknown_volume: w.unknownVolume,
  trades_aggressor: w.tradesAggressor,
  trades_quote: w.tradesQuote,
  trades_tick: w.tradesTick,
  trades_none: w.tradesNone,
  premium: w.premium,
  max_trade_size: w.maxTradeSize
})

export const windowRow = (w: PressureWindow): Row => {
  const { window_start, ...rest } = common(w)
  return { window_start: window_start!, expiration: w.expiration, ...rest }
}

export const strikeRow = (w: StrikeWindow): Row => ({ ...common(w), expirations: w.expirations })

const csvCell = (v: string | number | null): string => {
  if (v === null) return ""
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, "\"\"")}"` : s
}

export const formatRows = (rows: ReadonlyArray<Row>, keys: ReadonlyArray<string>, format: Format): string => {
  let s = ""
  for (const r of rows) {
    s += format === "jsonl" ? JSON.stringify(r) : keys.map((k) => csvCell(r[k] ?? null)).join(",")
    s += "\n"
  }
  return s
}

const stdout = NodeSink.fromWritable(
  () => process.stdout,
  () => new SourceError({ reason: "Read", detail: "could not write standard output" }),
  { endOnDone: false }
)

const storeLayer = (db: string | undefined) => db === undefined ? Store.layerConfig : Store.layer({ filename: db })

export const windows = (options: { readonly db: string | undefined; readonly byStrike: boolean; readonly format: Format }) =>
  Effect.gen(function*() {
    const repo = yield* WindowsRepo
    const keys: ReadonlyArray<string> = options.byStrike
      ? [...BASE_KEYS.filter((k) => k !== "expiration"), "expirations"]
      : BASE_KEYS
    const rows: Stream.Stream<Row, unknown> = options.byStrike
      ? Stream.map(repo.streamRollupByStrike(), strikeRow)
      : Stream.map(repo.stream(), windowRow)
    const header = options.format === "csv" ? Stream.make(keys.join(",") + "\n") : Stream.empty
    yield* Stream.concat(
      header,
      rows.pipe(Stream.chunks, Stream.map((chunk) => formatRows(Array.from(chunk), keys, options.format)))
    ).pipe(Stream.run(stdout))
  }).pipe(Effect.provide(storeLayer(options.db)))

export const prune = (options: { readonly db: string | undefined; readonly olderThanDays: number }) =>
  Effect.gen(function*() {
    const retention = yield* Retention
    const result = yield* retention.prune({ olderThanDays: options.olderThanDays })
    yield* Console.log(
      `pruned windows before ${new Date(result.cutoff).toISOString()}: ${result.windowsDeleted} windows deleted, ` +
        `${result.summaries} daily summary rows written`
    )
  }).pipe(Effect.provide(storeLayer(options.db)))
