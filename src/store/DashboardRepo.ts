/**
 * The dashboard's reads: which UTC days and expirations have windows, one expiration's windows of a day, the
 * underlying of each window (the heatmap's at-the-money line) and the reported signals of a day newest first (as
 * `WindowSignal`s, the shape the live feed publishes). Issue 7 (dashboard).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { PressureWindow } from "../flow/PressureWindow.js"
import type { WindowSignal } from "../flow/Signals.js"
import type { SignalRow } from "./SignalsRepo.js"
import { mapSql, StoreError } from "./StoreError.js"
import { dayRange, fromRow, type WindowRow } from "./WindowsRepo.js"

/** One expiration with windows on a day. */
export interface ExpirationSummary {
  /** YYYY-MM-DD. */
  readonly expiration: string
  /** Stored windows (strike × type × 5 minutes). */
  readonly windows: number
  /** Contracts traded (bid + ask + unknown volume). */
  readonly volume: number
}

/** The underlying of one expiration in one 5-minute window (the same for every strike of it). */
export interface UnderlyingPoint {
  /** Window start, ms since epoch. */
  readonly windowStart: number
  /** YYYY-MM-DD. */
  readonly expiration: string
  /** Price in index points; null when it could not be derived for the window. */
  readonly underlying: number | null
  /** How it was derived: the future's mid or put-call parity. */
  readonly method: "future" | "parity" | null
}

/** Reported signals of a day sent to the page at most. */
export const SIGNALS_LIMIT = 500

export const fromSignalRow = (r: SignalRow): WindowSignal => ({
  windowStart: r.window_start,
  expiration: r.expiration,
  strike: r.strike,
  optionType: r.option_type,
  day: r.day,
  underlying: r.underlying,
  underlyingMethod: r.underlying_method,
  otm: r.otm,
  key: r.baseline_key,
  active: r.active === 1,
  buyVolume: r.buy_volume,
  sellVolume: r.sell_volume,
  unknownVolume: r.unknown_volume,
  trades: r.trades,
  avgSize: r.avg_size,
  logRatio: r.log_ratio,
  callPutPremiumRatio: r.call_put_premium_ratio,
  mmBalance: r.mm_balance,
  straddle: r.straddle,
  sweeps: r.sweeps,
  sweepVolume: r.sweep_volume,
  sweepNet: r.sweep_net,
  largePrints: r.large_prints,
  largeVolume: r.large_volume,
  largeNet: r.large_net,
  buyPremium: r.buy_premium,
  sellPremium: r.sell_premium,
  baselineN: r.baseline_n,
  lowSample: r.low_sample === 1,
  zVolume: r.z_volume,
  zRatio: r.z_ratio,
  zTrades: r.z_trades,
  zSize: r.z_size,
  direction: r.direction,
  bias: r.bias,
  score: r.score,
  confidence: r.confidence,
  tier: r.tier,
  reported: r.reported === 1
})

const rangeOf = (operation: string, day: string) => {
  const range = dayRange(day)
  return range === undefined
    ? Effect.fail(new StoreError({ reason: "Input", operation, detail: "day must be an existing date, YYYY-MM-DD" }))
    : Effect.succeed(range)
}

type UnderlyingRow = {
  readonly window_start: number
  readonly expiration: string
  readonly underlying: number | null
  readonly underlying_method: "future" | "parity" | null
}

/** The underlying query over `[start, end)` ms; exported so a test can pin its query plan. */
export const underlyingStatement = (sql: SqlClient.SqlClient, start: number, end: number, expiration?: string) =>
  // A range on window_start walks the primary key in GROUP BY order (no temp b-tree).
  // With a single MAX, SQLite takes the bare underlying_method from the row holding that max.
  sql<UnderlyingRow>`SELECT window_start, expiration, MAX(underlying) AS underlying, underlying_method
    FROM signals WHERE window_start >= ${start} AND window_start < ${end}
    ${expiration === undefined ? sql`` : sql`AND expiration = ${expiration}`}
    GROUP BY window_start, expiration ORDER BY window_start, expiration`

/** Reported signals over `[start, end)` ms, newest first; exported so a test can pin its query plan (partial index). */
export const signalsStatement = (sql: SqlClient.SqlClient, start: number, end: number, limit: number) =>
  sql<SignalRow>`SELECT * FROM signals
    WHERE reported = 1 AND window_start >= ${start} AND window_start < ${end}
    ORDER BY window_start DESC, expiration, strike, option_type LIMIT ${Math.max(0, limit)}`

/** The queries over a client; the control server builds them only when the process has a database. */
export const make = (sql: SqlClient.SqlClient) => {
  /** UTC day (YYYY-MM-DD) of the latest stored window, or undefined when there is none. */
  const latestDay = Effect.fn("DashboardRepo.latestDay")(
    function*() {
      const rows = yield* sql<{ hi: number | null }>`SELECT MAX(window_start) AS hi FROM windows`
      const hi = rows[0]?.hi
      return hi == null ? undefined : new Date(hi).toISOString().slice(0, 10)
    },
    mapSql("DashboardRepo.latestDay")
  )

  const expirations = Effect.fn("DashboardRepo.expirations")(
    function*(day: string) {
      const [start, end] = yield* rangeOf("DashboardRepo.expirations", day)
      const rows = yield* sql<ExpirationSummary>`SELECT expiration, COUNT(*) AS windows,
          SUM(bid_volume + ask_volume + unknown_volume) AS volume
        FROM windows WHERE window_start >= ${start} AND window_start < ${end}
        GROUP BY expiration ORDER BY expiration`
      return rows.map((r): ExpirationSummary => ({ expiration: r.expiration, windows: r.windows, volume: r.volume }))
    },
    mapSql("DashboardRepo.expirations")
  )

  /** Windows of a day, of one expiration or of all, in time order. */
  const windows = Effect.fn("DashboardRepo.windows")(
    function*(day: string, expiration?: string) {
      const [start, end] = yield* rangeOf("DashboardRepo.windows", day)
      const rows = yield* sql<WindowRow>`SELECT window_start, expiration, strike, option_type, bid_volume, ask_volume,
          unknown_volume, pressure_ratio, total_trades, avg_trade_size, dominant_side, trades_aggressor, trades_quote,
          trades_tick, trades_none, premium, max_trade_size
        FROM windows WHERE window_start >= ${start} AND window_start < ${end}
        ${expiration === undefined ? sql`` : sql`AND expiration = ${expiration}`}
        ORDER BY window_start, expiration, strike, option_type`
      return rows.map(fromRow) as ReadonlyArray<PressureWindow>
    },
    mapSql("DashboardRepo.windows")
  )

  /** One row per window and expiration of the UTC day, in time order. */
  const underlying = Effect.fn("DashboardRepo.underlying")(
    function*(day: string, expiration?: string) {
      const [start, end] = yield* rangeOf("DashboardRepo.underlying", day)
      const rows = yield* underlyingStatement(sql, start, end, expiration)
      return rows.map((r): UnderlyingPoint => ({
        windowStart: r.window_start,
        expiration: r.expiration,
        underlying: r.underlying,
        method: r.underlying === null ? null : r.underlying_method
      }))
    },
    mapSql("DashboardRepo.underlying")
  )

  /** Reported signals whose window starts on the UTC day, newest first. */
  const signals = Effect.fn("DashboardRepo.signals")(
    function*(day: string, limit: number = SIGNALS_LIMIT) {
      const [start, end] = yield* rangeOf("DashboardRepo.signals", day)
      const rows = yield* signalsStatement(sql, start, end, limit)
      return rows.map(fromSignalRow)
    },
    mapSql("DashboardRepo.signals")
  )

  return { latestDay, expirations, windows, underlying, signals } as const
}

export type DashboardRepo = ReturnType<typeof make>

/** The queries over the context's client. */
export const fromContext = Effect.map(SqlClient.SqlClient, make)
